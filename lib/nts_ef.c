/* SPDX-License-Identifier: BSD-2-Clause */
/* NTS extension fields of NTP packets (RFC 8915 §5): build and check requests and replies. */
#include "ntk/nts_ef.h"
#include "ntk/buf.h"
#include "ntk/ef.h"
#include "ntk/err.h"
#include "ntk/pkt.h"

#include <string.h>

#include <openssl/crypto.h>

#include "poison.h"

/* The most plaintext an Authenticator of ours carries: NTK_KE_COOKIES_MAX cookie fields. */
#define PT_MAX (NTK_KE_COOKIES_MAX * (NTK_EF_HDR_LEN + NTK_KE_COOKIE_MAX))

/* What the walk over a packet's fields found (pointers into the packet). */
struct scan {
    bool nts;                /* any UID, Cookie, Placeholder or Authenticator seen */
    unsigned n_uid;          /* Unique Identifiers seen */
    const uint8_t *uid;      /* the first one's body */
    size_t uid_len;          /* its length */
    unsigned n_cookie;       /* NTS Cookies seen */
    const uint8_t *cookie;   /* the first one's body */
    size_t cookie_len;       /* its length */
    size_t n_ph;             /* Cookie Placeholders seen */
    size_t ph_len;           /* the first one's body length */
    bool ph_mixed;           /* placeholders of different lengths were seen */
    bool auth;               /* an Authenticator was seen (it ends the walk) */
    size_t auth_off;         /* its offset */
    struct ntk_rd auth_body; /* its body */
};

/* An Authenticator's body, split (RFC 8915 §5.6). */
struct auth {
    const uint8_t *nonce;
    size_t nonce_len;
    const uint8_t *ct;
    size_t ct_len;
};

static const uint8_t zeros[NTK_KE_COOKIE_MAX];

const char *ntk_nts_verdict_name(enum ntk_nts_verdict v)
{
    static const char *const names[NTK_NTS_VERDICT_COUNT] = {
        [NTK_NTS_OK] = "ok",
        [NTK_NTS_NAK] = "nak",
        [NTK_NTS_MALFORMED] = "malformed",
        [NTK_NTS_NO_UID] = "no_uid",
        [NTK_NTS_BAD_UID] = "bad_uid",
        [NTK_NTS_NO_AUTH] = "no_auth",
        [NTK_NTS_BAD_AUTH] = "bad_auth",
    };
    unsigned i = (unsigned)v;
    return i < NTK_NTS_VERDICT_COUNT ? names[i] : "unknown";
}

static size_t pad4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

/* ---- walking ---- */

/* Notes one field in s; NTK_EFORMAT for a rule that one field alone breaks. */
static int note_field(struct scan *s, const struct ntk_ef *ef)
{
    size_t body_len = ntk_rd_left(&ef->body);
    const uint8_t *body = ntk_rd_peek(&ef->body);
    switch (ef->type) {
    case NTK_EF_NTS_UID:
        s->nts = true;
        if (s->n_uid++ > 0 || body_len < NTK_NTS_UID_MIN || body_len > NTK_NTS_UID_MAX) {
            return NTK_EFORMAT; /* RFC 8915 §5.3: one UID of at least 32 bytes */
        }
        s->uid = body;
        s->uid_len = body_len;
        return NTK_OK;
    case NTK_EF_NTS_COOKIE:
        s->nts = true;
        if (s->n_cookie++ == 0) {
            s->cookie = body;
            s->cookie_len = body_len;
        }
        return NTK_OK;
    case NTK_EF_NTS_COOKIE_PLACEHOLDER:
        s->nts = true;
        if (s->n_ph++ == 0) {
            s->ph_len = body_len;
        }
        s->ph_mixed |= body_len != s->ph_len;
        return NTK_OK;
    case NTK_EF_NTS_AUTH:
        s->nts = true;
        s->auth = true;
        s->auth_off = ef->off;
        s->auth_body = ef->body;
        return NTK_OK;
    default:
        return NTK_OK; /* unknown types are skipped (covered by the Authenticator if before) */
    }
}

/* Walks the fields of buf[hdr_len..len) as ntk_pkt_decode does (while more than a legacy
 * MAC's 24 bytes are left) and fills *s. Returns NTK_OK, or NTK_EFORMAT when the walk
 * fails, a field follows the Authenticator, a UID is duplicated or of a bad length, or NTS
 * fields are followed by anything (a legacy MAC) or make the packet too long. */
static int scan_fields(const uint8_t *buf, size_t len, size_t hdr_len, struct scan *s)
{
    memset(s, 0, sizeof *s);
    if (!buf || len < hdr_len) {
        return NTK_EFORMAT;
    }
    struct ntk_rd rd;
    ntk_rd_init(&rd, buf, len);
    ntk_rd_skip(&rd, hdr_len);
    struct ntk_ef_iter it;
    struct ntk_ef ef;
    ntk_ef_iter_init(&it, &rd, NTK_EF_MIN_LEN);
    int rc = NTK_OK;
    while (rc == NTK_OK && ntk_ef_iter_left(&it) > NTK_PKT_MAC_MAX_LEN) {
        if (s->auth) {
            return NTK_EFORMAT; /* the Authenticator must be the last field */
        }
        rc = ntk_ef_next(&it, &ef) == 1 ? note_field(s, &ef) : NTK_EFORMAT;
    }
    if (rc != NTK_OK) {
        return rc;
    }
    if (s->nts && (ntk_ef_iter_left(&it) != 0 || len > NTK_NTS_PKT_MAX)) {
        return NTK_EFORMAT; /* NTS packets carry no legacy MAC */
    }
    return NTK_OK;
}

/* Splits an Authenticator body: Nonce Length, Ciphertext Length, nonce and ciphertext each
 * padded to 4, then any additional padding, all inside the body. */
static int split_auth(struct ntk_rd body, struct auth *a)
{
    size_t nonce_len = ntk_rd_be16(&body);
    size_t ct_len = ntk_rd_be16(&body);
    const uint8_t *nonce = ntk_rd_ptr(&body, nonce_len);
    ntk_rd_skip(&body, pad4(nonce_len) - nonce_len);
    const uint8_t *ct = ntk_rd_ptr(&body, ct_len);
    ntk_rd_skip(&body, pad4(ct_len) - ct_len);
    if (ntk_rd_err(&body) != NTK_OK || nonce_len < NTK_NTS_NONCE_MIN ||
        ct_len < NTK_AEAD_TAG_LEN) {
        return NTK_EFORMAT;
    }
    a->nonce = nonce;
    a->nonce_len = nonce_len;
    a->ct = ct;
    a->ct_len = ct_len;
    return NTK_OK;
}

/* ---- building ---- */

/* Starts a write cursor over buf[0..cap) after the caller's hdr_len bytes. */
static int start(struct ntk_wr *w, uint8_t *buf, size_t cap, size_t hdr_len)
{
    if (!buf) {
        return NTK_EINVAL;
    }
    ntk_wr_init(w, buf, cap);
    return ntk_wr_reserve(w, hdr_len) ? NTK_OK : NTK_ENOSPC;
}

/* Appends an Authenticator sealing pt[0..pt_len) with key over everything before it. */
static int put_auth(struct ntk_wr *w, const uint8_t *buf, struct ntk_aead_key *key,
                    const uint8_t nonce[NTK_AEAD_NONCE_LEN], const uint8_t *pt, size_t pt_len)
{
    size_t ct_len = NTK_AEAD_TAG_LEN + pt_len;
    size_t at = ntk_ef_begin(w, NTK_EF_NTS_AUTH);
    ntk_wr_be16(w, NTK_AEAD_NONCE_LEN);
    ntk_wr_be16(w, (uint16_t)ct_len);
    ntk_wr_bytes(w, nonce, NTK_AEAD_NONCE_LEN);
    uint8_t *ct = ntk_wr_reserve(w, pad4(ct_len));
    if (!ct) {
        return NTK_ENOSPC;
    }
    memset(ct + ct_len, 0, pad4(ct_len) - ct_len);
    int rc = ntk_aead_seal(key, buf, at, nonce, NTK_AEAD_NONCE_LEN, pt, pt_len, ct, ct_len);
    if (rc < 0) {
        return rc;
    }
    /* RFC 7822: the last field of a packet without a MAC is at least 28 bytes. */
    rc = ntk_ef_end(w, at, NTK_EF_MIN_LAST_LEN);
    return rc < 0 ? rc : (int)ntk_wr_len(w);
}

static bool cookie_ok(const struct ntk_ke_cookie *c)
{
    return c && c->len >= 1 && c->len <= NTK_KE_COOKIE_MAX;
}

int ntk_nts_build_request(uint8_t *buf, size_t cap, size_t hdr_len,
                          const uint8_t uid[NTK_NTS_UID_LEN],
                          const struct ntk_ke_cookie *cookie, size_t n_placeholders,
                          struct ntk_aead_key *c2s, const uint8_t nonce[NTK_AEAD_NONCE_LEN])
{
    if (!cookie_ok(cookie) || !uid || !c2s || !nonce) {
        return NTK_EINVAL;
    }
    struct ntk_wr w;
    int rc = start(&w, buf, cap, hdr_len);
    if (rc != NTK_OK) {
        return rc;
    }
    (void)ntk_ef_put(&w, NTK_EF_NTS_UID, uid, NTK_NTS_UID_LEN);
    (void)ntk_ef_put(&w, NTK_EF_NTS_COOKIE, cookie->b, cookie->len);
    /* RFC 8915 §5.5: as long as the cookie, so the reply can be as long as the request. */
    size_t n =
        n_placeholders < NTK_NTS_PLACEHOLDERS_MAX ? n_placeholders : NTK_NTS_PLACEHOLDERS_MAX;
    for (size_t i = 0; i < n; i++) {
        (void)ntk_ef_put(&w, NTK_EF_NTS_COOKIE_PLACEHOLDER, zeros, cookie->len);
    }
    if (ntk_wr_err(&w) != NTK_OK) {
        return NTK_ENOSPC;
    }
    return put_auth(&w, buf, c2s, nonce, NULL, 0);
}

int ntk_nts_build_reply(uint8_t *buf, size_t cap, size_t hdr_len, const uint8_t *uid,
                        size_t uid_len, const struct ntk_ke_cookie *cookies, size_t n,
                        struct ntk_aead_key *s2c, const uint8_t nonce[NTK_AEAD_NONCE_LEN])
{
    if (!uid || uid_len < NTK_NTS_UID_MIN || uid_len > NTK_NTS_UID_MAX ||
        n > NTK_KE_COOKIES_MAX || (n > 0 && !cookies) || !s2c || !nonce) {
        return NTK_EINVAL;
    }
    /* The plaintext: one NTS Cookie field per cookie (RFC 8915 §5.7). */
    uint8_t pt[PT_MAX];
    struct ntk_wr p;
    ntk_wr_init(&p, pt, sizeof pt);
    for (size_t i = 0; i < n; i++) {
        if (!cookie_ok(&cookies[i])) {
            return NTK_EINVAL;
        }
        (void)ntk_ef_put(&p, NTK_EF_NTS_COOKIE, cookies[i].b, cookies[i].len);
    }
    struct ntk_wr w;
    int rc = start(&w, buf, cap, hdr_len);
    if (rc == NTK_OK) {
        rc = ntk_ef_put(&w, NTK_EF_NTS_UID, uid, uid_len);
    }
    if (rc == NTK_OK) {
        rc = put_auth(&w, buf, s2c, nonce, pt, ntk_wr_len(&p));
    }
    OPENSSL_cleanse(pt, ntk_wr_len(&p));
    return rc;
}

size_t ntk_nts_reply_len(size_t hdr_len, size_t uid_len, size_t cookie_len, size_t n)
{
    size_t pt_len = n * ntk_ef_wire_len(cookie_len, NTK_EF_MIN_LEN);
    size_t auth_body = 4 + NTK_AEAD_NONCE_LEN + pad4(NTK_AEAD_TAG_LEN + pt_len);
    return hdr_len + ntk_ef_wire_len(uid_len, NTK_EF_MIN_LEN) +
           ntk_ef_wire_len(auth_body, NTK_EF_MIN_LAST_LEN);
}

int ntk_nts_build_nak(uint8_t *buf, size_t cap, size_t hdr_len, const uint8_t *uid,
                      size_t uid_len)
{
    if (!uid || uid_len < NTK_NTS_UID_MIN || uid_len > NTK_NTS_UID_MAX) {
        return NTK_EINVAL;
    }
    struct ntk_wr w;
    int rc = start(&w, buf, cap, hdr_len);
    if (rc == NTK_OK) {
        rc = ntk_ef_put_min(&w, NTK_EF_NTS_UID, uid, uid_len, NTK_EF_MIN_LAST_LEN);
    }
    return rc == NTK_OK ? (int)ntk_wr_len(&w) : rc;
}

/* ---- server side ---- */

int ntk_nts_parse_request(const uint8_t *buf, size_t len, size_t hdr_len,
                          struct ntk_nts_request *r)
{
    struct scan s;
    int rc = scan_fields(buf, len, hdr_len, &s);
    if (rc != NTK_OK) {
        return rc;
    }
    if (!s.nts) {
        return 0;
    }
    /* RFC 8915 §5.7: one UID, one cookie, placeholders as long as the cookie, the
     * Authenticator last. */
    struct auth a;
    if (s.n_uid != 1 || s.n_cookie != 1 || s.cookie_len > NTK_KE_COOKIE_MAX || !s.auth ||
        (s.n_ph > 0 && (s.ph_mixed || s.ph_len != s.cookie_len)) ||
        split_auth(s.auth_body, &a) != NTK_OK) {
        return NTK_EFORMAT;
    }
    r->uid = s.uid;
    r->uid_len = s.uid_len;
    r->cookie = s.cookie;
    r->cookie_len = s.cookie_len;
    r->n_placeholders = s.n_ph < NTK_NTS_PLACEHOLDERS_MAX ? s.n_ph : NTK_NTS_PLACEHOLDERS_MAX;
    r->auth_off = s.auth_off;
    r->nonce = a.nonce;
    r->nonce_len = a.nonce_len;
    r->ct = a.ct;
    r->ct_len = a.ct_len;
    return 1;
}

/* Walks decrypted fields pt[0..len) (nested: minimum length 4). With out, keeps the NTS
 * Cookie fields of acceptable length. Returns NTK_OK or NTK_EFORMAT. */
static int walk_plaintext(const uint8_t *pt, size_t len, struct ntk_nts_reply *out)
{
    struct ntk_rd rd;
    struct ntk_ef_iter it;
    struct ntk_ef ef;
    int rc;
    ntk_rd_init(&rd, pt, len);
    ntk_ef_iter_init(&it, &rd, NTK_EF_HDR_LEN);
    while ((rc = ntk_ef_next(&it, &ef)) == 1) {
        size_t n = ntk_rd_left(&ef.body);
        if (out && ef.type == NTK_EF_NTS_COOKIE && n >= 1 && n <= NTK_KE_COOKIE_MAX &&
            out->n_cookies < NTK_KE_COOKIES_MAX) {
            struct ntk_ke_cookie *c = &out->cookies[out->n_cookies++];
            c->len = (uint16_t)n;
            ntk_rd_bytes(&ef.body, c->b, n);
        }
    }
    return rc == 0 ? NTK_OK : NTK_EFORMAT;
}

int ntk_nts_verify_request(const uint8_t *buf, const struct ntk_nts_request *r,
                           struct ntk_aead_key *c2s)
{
    uint8_t pt[NTK_NTS_PKT_MAX];
    if (r->ct_len < NTK_AEAD_TAG_LEN || r->ct_len - NTK_AEAD_TAG_LEN > sizeof pt) {
        return NTK_EFORMAT; /* cannot come from ntk_nts_parse_request */
    }
    int n = ntk_aead_open(c2s, buf, r->auth_off, r->nonce, r->nonce_len, r->ct, r->ct_len, pt,
                          sizeof pt);
    if (n < 0) {
        return n == NTK_EAUTH ? NTK_EAUTH : NTK_ECRYPTO;
    }
    int rc = walk_plaintext(pt, (size_t)n, NULL);
    OPENSSL_cleanse(pt, (size_t)n);
    return rc;
}

/* ---- client side ---- */

enum ntk_nts_verdict ntk_nts_check_reply(const uint8_t *buf, size_t len,
                                         const uint8_t uid[NTK_NTS_UID_LEN], bool is_ntsn,
                                         struct ntk_aead_key *s2c, struct ntk_nts_reply *out)
{
    struct scan s;
    struct auth a;
    if (len < NTK_PKT_HDR_LEN || scan_fields(buf, len, NTK_PKT_HDR_LEN, &s) != NTK_OK ||
        (s.auth && split_auth(s.auth_body, &a) != NTK_OK)) {
        return NTK_NTS_MALFORMED;
    }
    if (s.n_uid == 0) {
        return NTK_NTS_NO_UID;
    }
    if (s.uid_len != NTK_NTS_UID_LEN || memcmp(s.uid, uid, NTK_NTS_UID_LEN) != 0) {
        return NTK_NTS_BAD_UID; /* before any crypto: a reply to someone else */
    }
    if (!s.auth) {
        return is_ntsn ? NTK_NTS_NAK : NTK_NTS_NO_AUTH;
    }
    uint8_t pt[NTK_NTS_PKT_MAX];
    int n = ntk_aead_open(s2c, buf, s.auth_off, a.nonce, a.nonce_len, a.ct, a.ct_len, pt,
                          sizeof pt);
    if (n < 0) {
        return NTK_NTS_BAD_AUTH;
    }
    enum ntk_nts_verdict v = NTK_NTS_MALFORMED;
    if (walk_plaintext(pt, (size_t)n, NULL) == NTK_OK) {
        out->n_cookies = 0;
        (void)walk_plaintext(pt, (size_t)n, out);
        v = NTK_NTS_OK;
    }
    OPENSSL_cleanse(pt, (size_t)n);
    return v;
}
