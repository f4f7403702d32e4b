/* SPDX-License-Identifier: BSD-2-Clause */
/* NTS-protected NTP packets (RFC 8915 §5): the Unique Identifier, NTS Cookie, Cookie
 * Placeholder and NTS Authenticator and Encrypted Extension Fields, for both sides, with no
 * I/O. Field layout and walking come from ntk/ef.h; the cipher from ntk/aead.h.
 *
 * Client request (ntk_nts_build_request), after the caller's 48-byte header:
 *   Unique Identifier (NTK_NTS_UID_LEN random bytes), NTS Cookie (one cookie), then
 *   n_placeholders Cookie Placeholders (each with a zero body as long as the cookie, so the
 *   reply with that many more cookies is no longer than the request), then the
 *   Authenticator: Nonce Length, Ciphertext Length, nonce, ciphertext = SIV(c2s key,
 *   AD = every byte before the Authenticator, nonce, plaintext = empty), padding.
 * Server reply (ntk_nts_build_reply), after the header:
 *   Unique Identifier (the request's, echoed), then the Authenticator whose plaintext is one
 *   NTS Cookie field per new cookie, sealed with the s2c key over everything before it.
 * NTS NAK (ntk_nts_build_nak): a kiss-o'-death "NTSN" header (the caller's) followed by the
 *   request's Unique Identifier and no Authenticator (RFC 8915 §5.7).
 *
 * Rules both parsers apply (RFC 8915 §5.3-5.7):
 *   - fields are walked with ntk_ef (RFC 7822 lengths; the packet must carry no legacy MAC):
 *     as in ntk_pkt_decode, while more than 24 bytes are left; a packet with NTS fields must
 *     end exactly there (a trailing MAC or stray bytes are malformed) and be at most
 *     NTK_NTS_PKT_MAX bytes, while a packet without them may end with a MAC (the server
 *     then gets 0 from ntk_nts_parse_request and goes on with its MAC path);
 *   - exactly one Unique Identifier, body >= 32 bytes (NTK_NTS_UID_MIN) and at most
 *     NTK_NTS_UID_MAX;
 *   - exactly one Authenticator, and it is the last field: nothing after it is accepted
 *     (RFC 8915 §5.6 lets a receiver ignore unauthenticated trailing fields; refusing them is
 *     stricter and what chrony does);
 *   - Authenticator body: Nonce Length and Ciphertext Length each within the body, nonce
 *     >= NTK_NTS_NONCE_MIN bytes, ciphertext >= NTK_AEAD_TAG_LEN, both padded to 4, and any
 *     padding after them within the body;
 *   - unknown field types are skipped (they are covered by the authenticator when they come
 *     before it, so they cannot be altered).
 *   Request (server side): exactly one NTS Cookie; Cookie Placeholders all as long as the
 *   cookie (a different length is malformed), at most NTK_NTS_PLACEHOLDERS_MAX counted.
 *   Reply (client side): the UID must equal ours (else NTK_NTS_BAD_UID, before any crypto);
 *   the encrypted fields are walked with minimum length 4 and only NTS Cookie fields are
 *   kept (1..NTK_KE_COOKIE_MAX bytes, at most NTK_KE_COOKIES_MAX); NTS Cookie fields outside
 *   the Authenticator are ignored (not authenticated).
 */
#ifndef NTK_NTS_EF_H
#define NTK_NTS_EF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntk/aead.h"
#include "ntk/nts_ke.h"

#define NTK_NTS_UID_LEN          32 /* the Unique Identifier we send */
#define NTK_NTS_UID_MIN          32 /* shortest accepted (RFC 8915 §5.3) */
#define NTK_NTS_UID_MAX          64 /* longest accepted (ours) */
#define NTK_NTS_NONCE_MIN        16 /* shortest Authenticator nonce accepted */
#define NTK_NTS_PLACEHOLDERS_MAX 7  /* placeholders honoured: 1 + 7 = NTK_KE_COOKIES_MAX */

/* The longest NTS packet we build or accept: a request with a 256-byte cookie and 7
 * placeholders of that size fits. */
#define NTK_NTS_PKT_MAX 2400

/* What a client makes of a datagram that passed the origin test (ntk_sntp_check). */
enum ntk_nts_verdict {
    NTK_NTS_OK = 0,        /* authenticated; cookies extracted */
    NTK_NTS_NAK,           /* a kiss-o'-death NTSN carrying our UID: the cookie was refused,
                              re-run NTS-KE (unauthenticated, as RFC 8915 §5.7 allows) */
    NTK_NTS_MALFORMED,     /* the fields do not follow the rules above */
    NTK_NTS_NO_UID,        /* no Unique Identifier */
    NTK_NTS_BAD_UID,       /* a Unique Identifier that is not ours */
    NTK_NTS_NO_AUTH,       /* no Authenticator (and not a NAK) */
    NTK_NTS_BAD_AUTH,      /* the Authenticator does not verify */
    NTK_NTS_VERDICT_COUNT, /* number of values */
};

/* A stable snake_case name of v ("ok", "nak", "malformed", "no_uid", "bad_uid", "no_auth",
 * "bad_auth"; "unknown"). Never NULL. */
const char *ntk_nts_verdict_name(enum ntk_nts_verdict v);

/* ---- client side ---- */

/* Appends the NTS fields of a request to buf, whose first hdr_len bytes (48: the NTP header,
 * transmit timestamp included) the caller has written: uid[0..NTK_NTS_UID_LEN), cookie,
 * n_placeholders (clamped to NTK_NTS_PLACEHOLDERS_MAX) placeholders, the Authenticator
 * sealed with c2s and nonce[0..NTK_AEAD_NONCE_LEN). Returns the packet's total length;
 * NTK_ENOSPC when cap is too small (NTK_NTS_PKT_MAX always fits); NTK_EINVAL for an empty
 * or oversized cookie (or a NULL argument); NTK_ECRYPTO. */
int ntk_nts_build_request(uint8_t *buf, size_t cap, size_t hdr_len,
                          const uint8_t uid[NTK_NTS_UID_LEN],
                          const struct ntk_ke_cookie *cookie, size_t n_placeholders,
                          struct ntk_aead_key *c2s, const uint8_t nonce[NTK_AEAD_NONCE_LEN]);

/* The cookies a verified reply carried. */
struct ntk_nts_reply {
    struct ntk_ke_cookie cookies[NTK_KE_COOKIES_MAX]; /* new cookies, in order */
    size_t n_cookies;                                 /* how many */
};

/* Checks the NTS part of a reply buf[0..len) (the whole UDP payload; the caller has already
 * run ntk_sntp_check, which must have passed the origin test) against the request's uid and
 * the s2c key. is_ntsn: the header is a kiss-o'-death with code NTSN (then a matching UID
 * without an Authenticator is NTK_NTS_NAK). Writes *out only for NTK_NTS_OK. */
enum ntk_nts_verdict ntk_nts_check_reply(const uint8_t *buf, size_t len,
                                         const uint8_t uid[NTK_NTS_UID_LEN], bool is_ntsn,
                                         struct ntk_aead_key *s2c, struct ntk_nts_reply *out);

/* ---- server side ---- */

/* A request's NTS fields, located (pointers into the caller's buffer). */
struct ntk_nts_request {
    const uint8_t *uid;    /* Unique Identifier body (padding excluded: its full body) */
    size_t uid_len;        /* NTK_NTS_UID_MIN..NTK_NTS_UID_MAX */
    const uint8_t *cookie; /* the NTS Cookie body (as long as its field's body; padding
                              included: cookies are opaque and ours are multiples of 4) */
    size_t cookie_len;     /* its length */
    size_t n_placeholders; /* Cookie Placeholders seen (<= NTK_NTS_PLACEHOLDERS_MAX counted) */
    size_t auth_off;       /* offset of the Authenticator field: the associated data is
                              buf[0..auth_off) */
    const uint8_t *nonce;  /* its nonce */
    size_t nonce_len;
    const uint8_t *ct; /* its ciphertext (tag first) */
    size_t ct_len;
};

/* Locates the NTS fields of a request buf[0..len) whose header is hdr_len (48) bytes. Returns
 * 1 and writes *r when the packet carries NTS fields that follow the rules; 0 when it carries
 * none of UID, Cookie, Placeholder or Authenticator (not an NTS request); NTK_EFORMAT when it
 * carries some but breaks a rule (the server answers nothing then). */
int ntk_nts_parse_request(const uint8_t *buf, size_t len, size_t hdr_len,
                          struct ntk_nts_request *r);

/* Verifies the Authenticator of a located request with the c2s key taken from its cookie.
 * Returns 0; NTK_EAUTH when it does not verify; NTK_EFORMAT when its plaintext (encrypted
 * fields the client may send) does not walk as extension fields; NTK_ECRYPTO. */
int ntk_nts_verify_request(const uint8_t *buf, const struct ntk_nts_request *r,
                           struct ntk_aead_key *c2s);

/* Appends the NTS fields of a reply to buf, whose first hdr_len bytes (the reply header,
 * transmit timestamp included: it is authenticated) the caller has written: the UID
 * uid[0..uid_len) and the Authenticator holding cookies[0..n) sealed with s2c and
 * nonce[0..NTK_AEAD_NONCE_LEN). Returns the total length; NTK_ENOSPC; NTK_ECRYPTO;
 * NTK_EINVAL when uid_len is outside NTK_NTS_UID_MIN..NTK_NTS_UID_MAX, n exceeds
 * NTK_KE_COOKIES_MAX, a cookie is empty or oversized, or an argument is NULL. */
int ntk_nts_build_reply(uint8_t *buf, size_t cap, size_t hdr_len, const uint8_t *uid,
                        size_t uid_len, const struct ntk_ke_cookie *cookies, size_t n,
                        struct ntk_aead_key *s2c, const uint8_t nonce[NTK_AEAD_NONCE_LEN]);

/* The length ntk_nts_build_reply would produce for these sizes (to keep a reply no longer
 * than its request: the server sends fewer cookies if it would be). */
size_t ntk_nts_reply_len(size_t hdr_len, size_t uid_len, size_t cookie_len, size_t n);

/* Appends the NAK's fields (the UID) after the caller's kiss-o'-death NTSN header. Returns
 * the total length, NTK_ENOSPC, or NTK_EINVAL for a UID length outside
 * NTK_NTS_UID_MIN..NTK_NTS_UID_MAX. */
int ntk_nts_build_nak(uint8_t *buf, size_t cap, size_t hdr_len, const uint8_t *uid,
                      size_t uid_len);

#endif /* NTK_NTS_EF_H */
