/* SPDX-License-Identifier: BSD-2-Clause */
/* NTS-KE record decryption for ntpcap: each TCP 4460 connection's two byte streams are
 * reassembled (bounded: CAP_TLS_STREAM_MAX bytes per direction, CAP_TLS_CONNS_MAX
 * connections at once), cut into TLS records (RFC 8446 §5.1), the ClientHello random and
 * the ServerHello's cipher suite read from the plaintext handshake, the traffic secrets
 * looked up in a key log (cap_keylog.h), key and IV derived with HKDF-Expand-Label (§7.1,
 * §7.3, OpenSSL 3's EVP_KDF "HKDF"), records opened (§5.2-5.3: nonce = iv XOR sequence,
 * additional data = the record header; AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305), the
 * inner content type stripped, and the NTS-KE messages in the application data decoded with
 * lib/'s codec (ntk/nts_ke.h). Only connections to or from port 4460 with a key log reach
 * this code: the UDP hot path never does. */
#ifndef NTK_CAP_TLS_H
#define NTK_CAP_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cap.h"
#include "cap_keylog.h"
#include "ntk/buf.h"

/* Bytes of one direction's TCP stream kept (the certificates and both KE messages fit). */
#define CAP_TLS_STREAM_MAX 65536

/* Connections decoded at once (the oldest is reported incomplete and dropped beyond). */
#define CAP_TLS_CONNS_MAX 64

/* Longest TLS record body (RFC 8446 §5.2: 2^14 + 256 for ciphertext). */
#define CAP_TLS_RECORD_MAX (16384 + 256)

/* TLS record content types (RFC 8446 §5.1). */
enum {
    CAP_TLS_CCS = 20,
    CAP_TLS_ALERT = 21,
    CAP_TLS_HANDSHAKE = 22,
    CAP_TLS_APPDATA = 23,
};

/* Handshake message types used (RFC 8446 §4). */
enum {
    CAP_TLS_HS_CLIENT_HELLO = 1,
    CAP_TLS_HS_SERVER_HELLO = 2,
    CAP_TLS_HS_FINISHED = 20,
    CAP_TLS_HS_KEY_UPDATE = 24,
};

/* TLS 1.3 cipher suites (RFC 8446 §B.4). */
enum {
    CAP_TLS_AES_128_GCM_SHA256 = 0x1301,
    CAP_TLS_AES_256_GCM_SHA384 = 0x1302,
    CAP_TLS_CHACHA20_POLY1305_SHA256 = 0x1303,
};

/* One TLS record, pointing into the buffer it was cut from. */
struct cap_tls_rec {
    uint8_t type;        /* content type */
    const uint8_t *hdr;  /* the 5-byte header (the AEAD's additional data) */
    const uint8_t *body; /* the fragment */
    size_t len;          /* its length */
};

/* Cuts the record at the start of r: returns 0 and advances r past it; NTK_ETRUNC (r not
 * advanced) when r does not hold it all yet; NTK_EFORMAT (r not advanced) when its length
 * exceeds CAP_TLS_RECORD_MAX or its type is not 20..23. */
int cap_tls_record(struct ntk_rd *r, struct cap_tls_rec *rec);

/* Reads a handshake message header (type, 24-bit length) at r and hands out its body:
 * returns 0, or NTK_ETRUNC when r holds less than the whole message (r is then at its end;
 * *type and *len are still written when the 4 header bytes were there, else *len is 0). */
int cap_tls_handshake(struct ntk_rd *r, uint8_t *type, uint32_t *len, struct ntk_rd *body);

/* From a ClientHello body: its random (RFC 8446 §4.1.2). Returns 0 or NTK_ETRUNC. */
int cap_tls_client_random(struct ntk_rd *body, uint8_t random[32]);

/* From a ServerHello body: the cipher suite, whether it negotiates TLS 1.3 (a
 * supported_versions extension holding 0x0304, §4.2.1) and whether it is a
 * HelloRetryRequest (§4.1.3's special random). Returns 0, NTK_ETRUNC or NTK_EFORMAT. */
int cap_tls_server_hello(struct ntk_rd *body, uint16_t *suite, bool *tls13, bool *hrr);

/* Record protection keys of one direction. */
struct cap_tls_key {
    uint16_t suite;  /* the cipher suite */
    uint8_t key[32]; /* key_length bytes used */
    size_t key_len;
    uint8_t iv[12]; /* the write IV */
};

/* Derives key and IV from a traffic secret (RFC 8446 §7.3) for suite. Returns 0,
 * NTK_EUNSUPP (unknown suite), NTK_EINVAL (a secret of the wrong length), NTK_ECRYPTO. */
int cap_tls_derive(uint16_t suite, const uint8_t *secret, size_t secret_len,
                   struct cap_tls_key *k);

/* Opens the record (header hdr, ciphertext ct[0..len) with its 16-byte tag) as number seq
 * of its direction into out (at least len bytes), strips the padding and the inner content
 * type: *out_len and *inner written on success. Returns 0, NTK_ETRUNC (shorter than a
 * tag), NTK_EAUTH (the tag does not verify), NTK_EFORMAT (no inner type: all zeros). */
int cap_tls_open(const struct cap_tls_key *k, uint64_t seq, const uint8_t hdr[5],
                 const uint8_t *ct, size_t len, uint8_t *out, size_t *out_len, uint8_t *inner);

/* The reverse, for tests and the fuzz corpus: protects pt[0..len) of inner type as record
 * seq into out (5-byte header, then len + 1 + 16 bytes). Returns the record's size or a
 * negative enum ntk_err. */
int cap_tls_seal(const struct cap_tls_key *k, uint64_t seq, uint8_t inner, const uint8_t *pt,
                 size_t len, uint8_t *out, size_t cap);

/* The connections being decoded. */
struct cap_tls;

/* Called once per connection when its outcome is final (the server's message decoded, the
 * connection closed or failed, or at cap_tls_finish): first is its first client segment
 * (the SYN or the ClientHello), last its last server segment (first when none), c2s / s2c
 * the stream bytes seen. */
typedef void (*cap_tls_cb)(void *ctx, const struct cap_ntske *k, const struct cap_pkt *first,
                           const struct cap_pkt *last, size_t c2s, size_t s2c);

/* A new table decrypting with kl (borrowed), reporting to cb. NULL when out of memory. */
struct cap_tls *cap_tls_new(const struct cap_keylog *kl, cap_tls_cb cb, void *ctx);

/* Frees (NULL is fine), without reporting. */
void cap_tls_free(struct cap_tls *t);

/* One TCP segment p (what == CAP_NTSKE) with its data[0..len). */
void cap_tls_feed(struct cap_tls *t, const struct cap_pkt *p, const uint8_t *data, size_t len);

/* Reports every connection still open and forgets them. */
void cap_tls_finish(struct cap_tls *t);

#endif /* NTK_CAP_TLS_H */
