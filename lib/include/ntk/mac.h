/* SPDX-License-Identifier: BSD-2-Clause */
/* Symmetric-key MACs of NTP packets (RFC 5905 §7.3 and §9.2, RFC 8573): a key store built once
 * from parsed keys, and MAC compute/verify through OpenSSL 3 EVP.
 *
 * The MAC of a digest key is digest(secret || data) truncated to 20 bytes (MD5: 16, SHA1: 20),
 * as in NTPsec's digest_encrypt; the MAC of a CMAC key is CMAC(secret, data) (16 bytes,
 * RFC 8573 §4) through EVP_MAC "CMAC". "data" is what precedes the 4-byte key id on the wire:
 * the 48-byte header (plus extension fields) for modes 1-5, the header + data + padding for
 * mode 6. The caller (the pkt and ctl modules) finds that layout; this module takes plain
 * (data, length, key id, MAC, MAC length) arguments.
 *
 * Memory: ntk_mac_keys_new() allocates the store, fetches every EVP_MD / EVP_MAC it needs and
 * creates one EVP_MAC_CTX per CMAC key (with the key schedule loaded) and one shared
 * EVP_MD_CTX. ntk_mac_compute() and ntk_mac_verify() then allocate nothing themselves (what
 * OpenSSL does inside EVP_DigestInit_ex2 is its own business). Because the contexts are
 * shared, one store must not be used by two threads at once. ntk_mac_keys_free() wipes every
 * secret with OPENSSL_cleanse.
 */
#ifndef NTK_MAC_H
#define NTK_MAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest key id a keys file may define (NTPsec NTP_MAXKEY; id 0 means "no key"). */
#define NTK_MAC_KEYID_MAX 65535u

/* Longest secret in bytes (NTPsec: "the max length of a (de-hexified) key is 32 bytes"). */
#define NTK_MAC_SECRET_MAX 32

/* Longest MAC on the wire in bytes, key id excluded (NTPsec MAX_BARE_MAC_LENGTH). */
#define NTK_MAC_LEN_MAX 20

/* MAC algorithms. MD5, SHA1 and AES-128-CMAC are the ones NTP peers use; the SHA-2 digests
 * and AES-192/256-CMAC are there because NTPsec accepts them too and they cost one table row.
 * Never renumber (fuzz corpora pick types by number). */
enum ntk_mac_type {
    NTK_MAC_NONE = 0,        /* no key / invalid */
    NTK_MAC_MD5 = 1,         /* MD5(secret || data), 16 bytes */
    NTK_MAC_SHA1 = 2,        /* SHA1(secret || data), 20 bytes */
    NTK_MAC_SHA224 = 3,      /* SHA-224(secret || data) truncated to 20 bytes */
    NTK_MAC_SHA256 = 4,      /* SHA-256(secret || data) truncated to 20 bytes */
    NTK_MAC_SHA384 = 5,      /* SHA-384(secret || data) truncated to 20 bytes */
    NTK_MAC_SHA512 = 6,      /* SHA-512(secret || data) truncated to 20 bytes */
    NTK_MAC_AES128_CMAC = 7, /* AES-128-CMAC (RFC 4493, RFC 8573), 16-byte secret, 16 bytes */
    NTK_MAC_AES192_CMAC = 8, /* AES-192-CMAC, 24-byte secret, 16 bytes */
    NTK_MAC_AES256_CMAC = 9, /* AES-256-CMAC, 32-byte secret, 16 bytes */
};

/* Number of enum ntk_mac_type values including NTK_MAC_NONE (for tables and fuzzers). */
#define NTK_MAC_TYPE_COUNT 10

/* One symmetric key, as the keys file parser produces it. Plain data: the caller owns it and
 * should wipe it with ntk_mac_key_wipe() once it has been handed to ntk_mac_keys_new(). */
struct ntk_mac_key {
    uint32_t keyid;                     /* 1..NTK_MAC_KEYID_MAX */
    enum ntk_mac_type type;             /* never NTK_MAC_NONE in a valid key */
    uint32_t line;                      /* keys-file line it came from, 0 if none */
    uint8_t secret_len;                 /* bytes used in secret, 1..NTK_MAC_SECRET_MAX */
    uint8_t secret[NTK_MAC_SECRET_MAX]; /* the secret; bytes past secret_len are zero */
};

/* Opaque key store: keys sorted by id, with their OpenSSL contexts. */
struct ntk_mac_keys;

/* Returns the MAC length in bytes on the wire for type (16 or 20), or 0 for NTK_MAC_NONE or
 * a value outside the enum. */
size_t ntk_mac_len(enum ntk_mac_type type);

/* Returns the secret length a CMAC type requires (16, 24, 32), or 0 when any length from 1 to
 * NTK_MAC_SECRET_MAX is fine (digest types) or type is invalid. */
size_t ntk_mac_secret_len(enum ntk_mac_type type);

/* True for the CMAC types. */
bool ntk_mac_is_cmac(enum ntk_mac_type type);

/* Returns the canonical keys-file name of type ("MD5", "SHA1", "AES", "AES-256", ...), or
 * "NONE" for NTK_MAC_NONE and values outside the enum. Static storage, never NULL. */
const char *ntk_mac_type_name(enum ntk_mac_type type);

/* True when k could be put in a store: id 1..NTK_MAC_KEYID_MAX, a valid type, secret_len
 * 1..NTK_MAC_SECRET_MAX and, for CMAC, exactly ntk_mac_secret_len(type). */
bool ntk_mac_key_valid(const struct ntk_mac_key *k);

/* Wipes n keys with OPENSSL_cleanse (keys may be NULL when n is 0). */
void ntk_mac_key_wipe(struct ntk_mac_key *keys, size_t n);

/* Builds a store from n keys (copied; the caller still wipes its array). Returns 0 and writes
 * *out; NTK_EINVAL when a key is invalid (ntk_mac_key_valid) or two keys share an id;
 * NTK_EUNSUPP when OpenSSL cannot provide an algorithm (MD5 under a FIPS-only configuration);
 * NTK_ENOMEM or NTK_ECRYPTO otherwise. *out is written only on success; on failure nothing is
 * left allocated. n == 0 gives an empty store. */
int ntk_mac_keys_new(const struct ntk_mac_key *keys, size_t n, struct ntk_mac_keys **out);

/* Frees a store (NULL is fine), wiping every secret and OpenSSL context. */
void ntk_mac_keys_free(struct ntk_mac_keys *ks);

/* Returns the number of keys in the store. */
size_t ntk_mac_keys_count(const struct ntk_mac_keys *ks);

/* Looks up keyid. Returns 0 and writes *type (if type is not NULL); NTK_ENOTFOUND otherwise.
 */
int ntk_mac_keys_lookup(const struct ntk_mac_keys *ks, uint32_t keyid,
                        enum ntk_mac_type *type);

/* Computes the MAC of data[0..data_len) with key keyid into mac[0..mac_cap). Returns the MAC
 * length (16 or 20, what ntk_mac_len gives for the key's type); NTK_ENOTFOUND for an unknown
 * key id; NTK_ENOSPC when mac_cap is too small (NTK_MAC_LEN_MAX always fits); NTK_ECRYPTO if
 * OpenSSL fails. mac is written only on success. data may be NULL when data_len is 0. */
int ntk_mac_compute(struct ntk_mac_keys *ks, uint32_t keyid, const uint8_t *data,
                    size_t data_len, uint8_t *mac, size_t mac_cap);

/* Verifies that mac[0..mac_len) is the MAC of data[0..data_len) with key keyid, comparing in
 * constant time (CRYPTO_memcmp). Returns 0 when it is; NTK_ENOTFOUND for an unknown key id;
 * NTK_EAUTH when the MAC differs or mac_len is not the key type's MAC length (as NTPsec, a
 * truncated or over-long MAC is a failed MAC); NTK_ECRYPTO if OpenSSL fails. */
int ntk_mac_verify(struct ntk_mac_keys *ks, uint32_t keyid, const uint8_t *data,
                   size_t data_len, const uint8_t *mac, size_t mac_len);

#endif /* NTK_MAC_H */
