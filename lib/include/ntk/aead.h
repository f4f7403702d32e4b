/* SPDX-License-Identifier: BSD-2-Clause */
/* AEAD for NTS (RFC 8915 §5.1, RFC 5297): AEAD_AES_SIV_CMAC_256/384/512 through OpenSSL 3's
 * EVP AES (see Implementation below).
 *
 * SIV output is the 16-byte synthetic IV (the tag) followed by the ciphertext, so a sealed
 * message is always plaintext length + NTK_AEAD_TAG_LEN bytes (RFC 5297 §2.6; this is the
 * "Ciphertext" field of an NTS Authenticator, RFC 8915 §5.6).
 *
 * Implementation: OpenSSL 3.0's "AES-xxx-SIV" ciphers cannot seal or open an empty
 * plaintext (every NTS request's Authenticator is one: openssl/openssl#17268), so lib/aead.c
 * composes S2V and CTR from EVP "AES-xxx-CBC" (CMAC, RFC 4493) and "AES-xxx-CTR", each keyed
 * once per key object; its unit test checks it against OpenSSL's SIV cipher, the RFC 5297
 * vectors and real chrony packets. An empty associated-data component counts as one (RFC
 * 5297 §2.4; chrony's cookies use AD = [empty, nonce]).
 *
 * Associated data is a vector of components (RFC 5297 S2V takes up to 126). NTS passes the
 * packet prefix as the only associated-data component and the nonce as the last component,
 * which is how RFC 5297 §3 defines nonce-based use (chrony and NTPsec do the same): both
 * ntk_aead_seal and ntk_aead_open take the nonce separately and feed it last. A nonce of
 * length 0 means "no nonce" (deterministic use: the server's cookie encryption may still
 * pass one; RFC 5297 A.1 tests the deterministic case).
 *
 * A key is expanded once (ntk_aead_key_init) and then used for many operations: the server
 * opens a cookie with its master key and seals/opens with per-client keys at every request,
 * and re-expanding per call would cost more than the cipher itself. Keys hold two OpenSSL
 * contexts: they are not thread-safe (the daemon uses one thread) and must be freed.
 *
 * Constant time: the tag comparison is OpenSSL's (CRYPTO_memcmp).
 */
#ifndef NTK_AEAD_H
#define NTK_AEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* IANA "AEAD Algorithms" numbers used by NTS (RFC 8915 §5.1, RFC 5297 §6). */
enum ntk_aead_alg {
    NTK_AEAD_AES_SIV_CMAC_256 = 15, /* key 32 bytes: the one every NTS implementation has */
    NTK_AEAD_AES_SIV_CMAC_384 = 16, /* key 48 bytes */
    NTK_AEAD_AES_SIV_CMAC_512 = 17, /* key 64 bytes */
};

/* The SIV tag (synthetic IV) length of every algorithm here. */
#define NTK_AEAD_TAG_LEN 16

/* The longest key of any algorithm here (AES_SIV_CMAC_512). */
#define NTK_AEAD_KEY_MAX 64

/* The most associated-data components (the nonce counts as one) one operation takes: S2V
 * handles 127 components, the plaintext being the last (RFC 5297 §2.4, §7). */
#define NTK_AEAD_AD_MAX 126

/* The nonce length NTS uses with SIV (RFC 8915 §5.6 recommends >= 16 bytes). */
#define NTK_AEAD_NONCE_LEN 16

/* An expanded key. Opaque; create with ntk_aead_key_init, free with ntk_aead_key_free. */
struct ntk_aead_key;

/* Key length in bytes of alg (32, 48, 64), or 0 when alg is not one of the above or the
 * OpenSSL in use lacks its cipher. */
size_t ntk_aead_key_len(uint16_t alg);

/* True when alg is usable here (ntk_aead_key_len(alg) != 0). */
bool ntk_aead_supported(uint16_t alg);

/* The IANA name of alg ("AEAD_AES_SIV_CMAC_256"), or "unknown". Never NULL. */
const char *ntk_aead_name(uint16_t alg);

/* Parses an algorithm name as NTPsec's `aead` option and chrony's `ntsaeads` accept it:
 * the IANA name ("AEAD_AES_SIV_CMAC_256"), the same without the "AEAD_" prefix, or the
 * decimal number ("15"), case-insensitive. Returns the number, or 0 when unknown. */
uint16_t ntk_aead_from_name(const char *name);

/* Expands key[0..len) for alg into *out (a fresh object). Returns 0; NTK_EUNSUPP for an
 * unknown or unavailable alg; NTK_EINVAL when len is not ntk_aead_key_len(alg); NTK_ENOMEM
 * or NTK_ECRYPTO when OpenSSL fails. *out is written only on success. */
int ntk_aead_key_init(struct ntk_aead_key **out, uint16_t alg, const uint8_t *key, size_t len);

/* Re-keys an existing object with key[0..len) for alg, reusing its OpenSSL contexts (the
 * server re-keys two scratch objects for every NTS request instead of allocating). Same
 * results as ntk_aead_key_init; on error k is unusable until a successful re-key. */
int ntk_aead_key_set(struct ntk_aead_key *k, uint16_t alg, const uint8_t *key, size_t len);

/* Frees a key (NULL is fine) after wiping its copy of the key bytes. */
void ntk_aead_key_free(struct ntk_aead_key *k);

/* The algorithm of k. */
uint16_t ntk_aead_key_alg(const struct ntk_aead_key *k);

/* Seals pt[0..pt_len) with associated data ad[0..ad_len) (one component; ad may be NULL
 * when ad_len is 0, which still counts as one empty component) and the nonce
 * nonce[0..nonce_len) (nonce_len 0: none) into out[0..pt_len + NTK_AEAD_TAG_LEN): the tag,
 * then the ciphertext. out may not overlap the inputs. Returns the bytes written;
 * NTK_ENOSPC when cap is too small (nothing written); NTK_ECRYPTO when OpenSSL fails;
 * NTK_EINVAL for a key left unusable by a failed re-key, a NULL pointer with a non-zero
 * length, or more than NTK_AEAD_AD_MAX components (nonce included); NTK_ERANGE when pt_len
 * + NTK_AEAD_TAG_LEN does not fit an int. */
int ntk_aead_seal(struct ntk_aead_key *k, const uint8_t *ad, size_t ad_len,
                  const uint8_t *nonce, size_t nonce_len, const uint8_t *pt, size_t pt_len,
                  uint8_t *out, size_t cap);

/* Opens ct[0..ct_len) (tag then ciphertext, as ntk_aead_seal wrote it) with the same
 * associated data and nonce into out[0..ct_len - NTK_AEAD_TAG_LEN). Returns the plaintext
 * length; NTK_ETRUNC when ct_len < NTK_AEAD_TAG_LEN; NTK_ENOSPC when cap is too small;
 * NTK_EAUTH when the tag does not verify (out is then zeroed: no unauthenticated plaintext
 * leaves); NTK_ECRYPTO when OpenSSL fails; NTK_EINVAL / NTK_ERANGE as for ntk_aead_seal. */
int ntk_aead_open(struct ntk_aead_key *k, const uint8_t *ad, size_t ad_len,
                  const uint8_t *nonce, size_t nonce_len, const uint8_t *ct, size_t ct_len,
                  uint8_t *out, size_t cap);

/* The general form, for the RFC 5297 test vectors: the associated data as n_ad components
 * (ad[i], ad_len[i]), then the nonce as the last component when nonce_len > 0. n_ad may be
 * 0. Same results as ntk_aead_seal / ntk_aead_open. */
int ntk_aead_seal_v(struct ntk_aead_key *k, const uint8_t *const *ad, const size_t *ad_len,
                    size_t n_ad, const uint8_t *nonce, size_t nonce_len, const uint8_t *pt,
                    size_t pt_len, uint8_t *out, size_t cap);
int ntk_aead_open_v(struct ntk_aead_key *k, const uint8_t *const *ad, const size_t *ad_len,
                    size_t n_ad, const uint8_t *nonce, size_t nonce_len, const uint8_t *ct,
                    size_t ct_len, uint8_t *out, size_t cap);

#endif /* NTK_AEAD_H */
