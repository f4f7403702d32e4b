/* SPDX-License-Identifier: BSD-2-Clause */
/* Decrypts NTS-KE's TLS 1.3 records with a key log and decodes the KE messages in them. */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "cap_tls.h"

#include "cap_decode.h"
#include "cap_table.h"
#include "ntk/err.h"
#include "ntk/nts_ke.h"

#include "poison.h"

/* ---- framing ---- */

int cap_tls_record(struct ntk_rd *r, struct cap_tls_rec *rec)
{
    struct ntk_rd t = *r;
    const uint8_t *hdr = ntk_rd_ptr(&t, 5);
    if (hdr == NULL) {
        return NTK_ETRUNC;
    }
    size_t len = (size_t)hdr[3] << 8 | hdr[4];
    if (hdr[0] < CAP_TLS_CCS || hdr[0] > CAP_TLS_APPDATA || len > CAP_TLS_RECORD_MAX) {
        return NTK_EFORMAT;
    }
    const uint8_t *body = ntk_rd_ptr(&t, len);
    if (body == NULL) {
        return NTK_ETRUNC;
    }
    rec->type = hdr[0];
    rec->hdr = hdr;
    rec->body = body;
    rec->len = len;
    *r = t;
    return 0;
}

int cap_tls_handshake(struct ntk_rd *r, uint8_t *type, uint32_t *len, struct ntk_rd *body)
{
    *len = 0;
    if (ntk_rd_left(r) < 4) {
        ntk_rd_skip(r, ntk_rd_left(r));
        return NTK_ETRUNC;
    }
    *type = ntk_rd_u8(r);
    uint32_t n = (uint32_t)ntk_rd_u8(r) << 16;
    n |= ntk_rd_be16(r);
    *len = n;
    if (ntk_rd_left(r) < n) {
        ntk_rd_skip(r, ntk_rd_left(r));
        return NTK_ETRUNC;
    }
    return ntk_rd_sub(r, n, body);
}

int cap_tls_client_random(struct ntk_rd *body, uint8_t random[32])
{
    uint8_t t[32];
    ntk_rd_skip(body, 2); /* legacy_version */
    ntk_rd_bytes(body, t, 32);
    if (ntk_rd_err(body) != 0) {
        return NTK_ETRUNC;
    }
    memcpy(random, t, 32);
    return 0;
}

/* SHA-256("HelloRetryRequest"), the ServerHello random of a HelloRetryRequest (§4.1.3). */
static const uint8_t HRR_RANDOM[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
    0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
    0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* True when the extensions at e hold supported_versions (43) selecting TLS 1.3. */
static bool selects_13(struct ntk_rd *e)
{
    bool yes = false;
    while (ntk_rd_left(e) >= 4) {
        uint16_t type = ntk_rd_be16(e);
        uint16_t n = ntk_rd_be16(e);
        struct ntk_rd v;
        if (ntk_rd_sub(e, n, &v) != 0) {
            return false;
        }
        if (type == 43 && n == 2 && ntk_rd_be16(&v) == 0x0304) {
            yes = true;
        }
    }
    return yes && ntk_rd_left(e) == 0;
}

int cap_tls_server_hello(struct ntk_rd *body, uint16_t *suite, bool *tls13, bool *hrr)
{
    uint8_t random[32];
    ntk_rd_skip(body, 2); /* legacy_version */
    ntk_rd_bytes(body, random, sizeof random);
    uint8_t sid = ntk_rd_u8(body);
    if (sid > 32) {
        return NTK_EFORMAT;
    }
    ntk_rd_skip(body, sid);
    uint16_t cs = ntk_rd_be16(body);
    ntk_rd_skip(body, 1); /* legacy_compression_method */
    bool v13 = false;
    if (ntk_rd_left(body) > 0) {
        struct ntk_rd ext;
        if (ntk_rd_sub(body, ntk_rd_be16(body), &ext) == 0) {
            v13 = selects_13(&ext);
        }
    }
    if (ntk_rd_err(body) != 0) {
        return NTK_ETRUNC;
    }
    *suite = cs;
    *tls13 = v13;
    *hrr = memcmp(random, HRR_RANDOM, sizeof random) == 0;
    return 0;
}

/* ---- record protection (RFC 8446 §5.2, §5.3, §7.1, §7.3) ---- */

static const char *digest_of(uint16_t suite)
{
    switch (suite) {
    case CAP_TLS_AES_128_GCM_SHA256:
    case CAP_TLS_CHACHA20_POLY1305_SHA256:
        return "SHA256";
    case CAP_TLS_AES_256_GCM_SHA384:
        return "SHA384";
    default:
        return NULL;
    }
}

static const EVP_CIPHER *cipher_of(uint16_t suite)
{
    switch (suite) {
    case CAP_TLS_AES_128_GCM_SHA256:
        return EVP_aes_128_gcm();
    case CAP_TLS_AES_256_GCM_SHA384:
        return EVP_aes_256_gcm();
    case CAP_TLS_CHACHA20_POLY1305_SHA256:
        return EVP_chacha20_poly1305();
    default:
        return NULL;
    }
}

/* HKDF-Expand-Label(secret, label, "", out_len) (§7.1): HKDF-Expand with the info
 * struct { uint16 length; opaque label<7..255> = "tls13 " + label; opaque context<0..255>; }.
 */
static int expand_label(const char *md, const uint8_t *secret, size_t slen, const char *label,
                        uint8_t *out, size_t out_len)
{
    uint8_t info[64];
    struct ntk_wr w;
    ntk_wr_init(&w, info, sizeof info);
    size_t ll = strlen(label);
    ntk_wr_be16(&w, (uint16_t)out_len);
    ntk_wr_u8(&w, (uint8_t)(6 + ll));
    ntk_wr_bytes(&w, "tls13 ", 6);
    ntk_wr_bytes(&w, label, ll);
    ntk_wr_u8(&w, 0);
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *kc = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    EVP_KDF_free(kdf);
    if (kc == NULL || ntk_wr_err(&w) != 0) {
        EVP_KDF_CTX_free(kc);
        return NTK_ECRYPTO;
    }
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    uint8_t key[CAP_KL_SECRET_MAX];
    memcpy(key, secret, slen);
    char mdname[8];
    memcpy(mdname, md, strlen(md) + 1);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, mdname, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, key, slen),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, ntk_wr_len(&w)),
        OSSL_PARAM_construct_end(),
    };
    int ok = EVP_KDF_derive(kc, out, out_len, params);
    EVP_KDF_CTX_free(kc);
    OPENSSL_cleanse(key, sizeof key);
    return ok == 1 ? 0 : NTK_ECRYPTO;
}

int cap_tls_derive(uint16_t suite, const uint8_t *secret, size_t secret_len,
                   struct cap_tls_key *k)
{
    const char *md = digest_of(suite);
    if (md == NULL) {
        return NTK_EUNSUPP;
    }
    if (secret_len != (suite == CAP_TLS_AES_256_GCM_SHA384 ? 48u : 32u)) {
        return NTK_EINVAL;
    }
    struct cap_tls_key t;
    memset(&t, 0, sizeof t);
    t.suite = suite;
    t.key_len = suite == CAP_TLS_AES_128_GCM_SHA256 ? 16 : 32;
    int rc = expand_label(md, secret, secret_len, "key", t.key, t.key_len);
    if (rc == 0) {
        rc = expand_label(md, secret, secret_len, "iv", t.iv, sizeof t.iv);
    }
    if (rc == 0) {
        *k = t;
    }
    OPENSSL_cleanse(&t, sizeof t);
    return rc;
}

/* The per-record nonce: the IV XOR the 64-bit sequence number, left-padded (§5.3). */
static void nonce_of(const struct cap_tls_key *k, uint64_t seq, uint8_t nonce[12])
{
    memcpy(nonce, k->iv, 12);
    for (int i = 0; i < 8; i++) {
        nonce[11 - i] ^= (uint8_t)(seq >> (8 * i));
    }
}

/* Runs the AEAD over in[0..len) into out; tag is read (decrypt) or written (encrypt). */
static int aead(const struct cap_tls_key *k, uint64_t seq, bool enc, const uint8_t hdr[5],
                const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[16])
{
    const EVP_CIPHER *c = cipher_of(k->suite);
    EVP_CIPHER_CTX *x = c ? EVP_CIPHER_CTX_new() : NULL;
    if (x == NULL || len > INT32_MAX) {
        EVP_CIPHER_CTX_free(x);
        return NTK_ECRYPTO;
    }
    uint8_t nonce[12];
    nonce_of(k, seq, nonce);
    int n = 0, m = 0;
    bool ok = EVP_CipherInit_ex(x, c, NULL, NULL, NULL, enc) == 1 &&
              EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) == 1 &&
              EVP_CipherInit_ex(x, NULL, NULL, k->key, nonce, enc) == 1 &&
              EVP_CipherUpdate(x, NULL, &n, hdr, 5) == 1 &&
              (len == 0 || EVP_CipherUpdate(x, out, &n, in, (int)len) == 1);
    int rc = ok ? 0 : NTK_ECRYPTO;
    if (ok && !enc) {
        ok = EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, 16, tag) == 1;
        rc = ok && EVP_CipherFinal_ex(x, out + n, &m) == 1 ? 0 : NTK_EAUTH;
    } else if (ok) {
        ok = EVP_CipherFinal_ex(x, out + n, &m) == 1 &&
             EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16, tag) == 1;
        rc = ok ? 0 : NTK_ECRYPTO;
    }
    EVP_CIPHER_CTX_free(x);
    return rc;
}

int cap_tls_open(const struct cap_tls_key *k, uint64_t seq, const uint8_t hdr[5],
                 const uint8_t *ct, size_t len, uint8_t *out, size_t *out_len, uint8_t *inner)
{
    if (len < 16) {
        return NTK_ETRUNC;
    }
    uint8_t tag[16];
    memcpy(tag, ct + len - 16, 16);
    int rc = aead(k, seq, false, hdr, ct, len - 16, out, tag);
    if (rc != 0) {
        return rc;
    }
    size_t n = len - 16;
    while (n > 0 && out[n - 1] == 0) {
        n--; /* padding (§5.4) */
    }
    if (n == 0) {
        return NTK_EFORMAT;
    }
    *inner = out[n - 1];
    *out_len = n - 1;
    return 0;
}

int cap_tls_seal(const struct cap_tls_key *k, uint64_t seq, uint8_t inner, const uint8_t *pt,
                 size_t len, uint8_t *out, size_t cap)
{
    size_t body = len + 1 + 16;
    if (body > CAP_TLS_RECORD_MAX || cap < 5 + body) {
        return NTK_ENOSPC;
    }
    uint8_t *hdr = out;
    hdr[0] = CAP_TLS_APPDATA;
    hdr[1] = 3;
    hdr[2] = 3;
    hdr[3] = (uint8_t)(body >> 8);
    hdr[4] = (uint8_t)body;
    if (len > 0) {
        memmove(out + 5, pt, len);
    }
    out[5 + len] = inner;
    uint8_t tag[16];
    int rc = aead(k, seq, true, hdr, out + 5, len + 1, out + 5, tag);
    if (rc != 0) {
        return rc;
    }
    memcpy(out + 5 + len + 1, tag, 16);
    return (int)(5 + body);
}

/* ---- connections ---- */

/* How far a direction's record protection is. */
enum phase {
    PH_PLAIN = 0, /* before the ServerHello: plaintext records */
    PH_HS,        /* handshake traffic keys */
    PH_AP,        /* application traffic keys */
    PH_DEAD,      /* stopped (the status says why) */
};

/* Filled ranges of a stream beyond its contiguous start. */
#define RANGES_MAX 8

/* One direction of a connection. */
struct dir {
    uint8_t *buf;  /* CAP_TLS_STREAM_MAX bytes of stream (owned), or NULL */
    bool have_isn; /* isn is set */
    uint32_t isn;  /* sequence number of stream byte 0 */
    uint32_t rs[RANGES_MAX], re[RANGES_MAX]; /* filled [rs, re) ranges, sorted, disjoint */
    size_t nr;                               /* ranges in use */
    size_t parsed;                           /* stream bytes cut into records so far */
    size_t bytes;                            /* highest stream offset filled */
    enum phase ph;                           /* how its records are protected */
    struct cap_tls_key key;                  /* current keys (PH_HS, PH_AP) */
    uint64_t seq;                            /* next record's sequence number */
    size_t hs_skip; /* bytes of a handshake message continuing in the next record */
    uint8_t ke[NTK_KE_MSG_MAX]; /* NTS-KE plaintext so far */
    size_t ke_len;              /* bytes in ke */
    bool ke_done;               /* the message is complete (or refused by the scan) */
    size_t ke_msg;              /* its length when complete */
    bool ke_parsed;             /* handed to the codec */
    bool fin;                   /* FIN or RST seen */
};

/* One TCP 4460 connection (wiped when freed: it holds KE plaintext and keys). */
struct conn {
    bool reported;              /* the callback saw it */
    struct ntk_addr cli, srv;   /* with ports */
    uint64_t age;               /* creation order */
    struct dir d[2];            /* 0: client to server, 1: server to client */
    bool have_random;           /* random is the ClientHello's */
    uint8_t random[32];         /* selects the secrets in the key log */
    struct cap_ntske res;       /* what is reported */
    struct cap_pkt first, last; /* the first client and last server segment */
    bool have_last;             /* last is set */
};

struct cap_tls {
    const struct cap_keylog *kl;       /* borrowed */
    cap_tls_cb cb;                     /* where outcomes go */
    void *ctx;                         /* its argument */
    struct conn *c[CAP_TLS_CONNS_MAX]; /* owned, NULL = free slot */
    uint64_t ages;                     /* connections created so far */
};

struct cap_tls *cap_tls_new(const struct cap_keylog *kl, cap_tls_cb cb, void *ctx)
{
    struct cap_tls *t = calloc(1, sizeof *t);
    if (t != NULL) {
        t->kl = kl;
        t->cb = cb;
        t->ctx = ctx;
    }
    return t;
}

static void conn_free(struct conn *c)
{
    if (c == NULL) {
        return;
    }
    for (int i = 0; i < 2; i++) {
        free(c->d[i].buf);
    }
    OPENSSL_cleanse(c, sizeof *c);
    free(c);
}

void cap_tls_free(struct cap_tls *t)
{
    if (t == NULL) {
        return;
    }
    for (size_t i = 0; i < CAP_TLS_CONNS_MAX; i++) {
        conn_free(t->c[i]);
    }
    free(t);
}

/* Stops direction d (when not NULL) and records status unless a failure is recorded. */
static void fail(struct conn *c, struct dir *d, const char *status)
{
    if (d != NULL) {
        d->ph = PH_DEAD;
    }
    if (c->res.status == NULL || strcmp(c->res.status, "incomplete") == 0) {
        c->res.status = status;
    }
}

static void parse_messages(struct conn *c, bool final);

/* Reports the connection in slot (once; its stream buffers are freed then, and what
 * follows until it closes is ignored). */
static void report(struct cap_tls *t, size_t slot)
{
    struct conn *c = t->c[slot];
    if (c->reported) {
        return;
    }
    c->reported = true;
    parse_messages(c, true);
    if (c->res.status == NULL && !c->have_random && c->d[1].bytes > 0) {
        c->res.status = "no_client_hello";
    }
    if (c->res.status == NULL) {
        c->res.status = "incomplete";
    }
    if (c->res.request && c->res.response && strcmp(c->res.status, "incomplete") == 0) {
        c->res.status = "ok";
    }
    if (t->cb != NULL) {
        size_t c2s = c->d[0].bytes, s2c = c->d[1].bytes;
        t->cb(t->ctx, &c->res, &c->first, c->have_last ? &c->last : &c->first, c2s, s2c);
    }
    for (int i = 0; i < 2; i++) {
        free(c->d[i].buf);
        c->d[i].buf = NULL;
        c->d[i].ph = PH_DEAD;
    }
}

/* Reports the connection in slot if not done yet, and forgets it. */
static void drop(struct cap_tls *t, size_t slot)
{
    report(t, slot);
    conn_free(t->c[slot]);
    t->c[slot] = NULL;
}

/* The slot of the connection of p (client side: the one that is not port 4460), created
 * when absent for a SYN or a segment with data; -1 when none (or out of memory). */
static int lookup(struct cap_tls *t, const struct cap_pkt *p, size_t len, bool *c2s)
{
    *c2s = p->dst.port == CAP_PORT_NTSKE;
    const struct ntk_addr *cl = *c2s ? &p->src : &p->dst, *sv = *c2s ? &p->dst : &p->src;
    int free_slot = -1, oldest = -1;
    for (int i = 0; i < CAP_TLS_CONNS_MAX; i++) {
        struct conn *c = t->c[i];
        if (c == NULL) {
            free_slot = free_slot < 0 ? i : free_slot;
            continue;
        }
        if (cap_addr_same(&c->cli, cl) && cap_addr_same(&c->srv, sv)) {
            return i;
        }
        oldest = oldest < 0 || c->age < t->c[oldest]->age ? i : oldest;
    }
    if (len == 0 && !(p->tcp_flags & 0x02)) {
        return -1; /* an ACK, FIN or RST of a connection already gone: nothing to start */
    }
    if (free_slot < 0) {
        drop(t, (size_t)oldest);
        free_slot = oldest;
    }
    struct conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        return -1;
    }
    c->cli = *cl;
    c->srv = *sv;
    c->age = ++t->ages;
    c->first = *p;
    c->res.next_protocol = c->res.aead = c->res.error_code = c->res.warning_code = -1;
    c->res.req_port = c->res.port = -1;
    t->c[free_slot] = c;
    return free_slot;
}

/* ---- KE messages ---- */

static void ke_request(struct conn *c, const uint8_t *m, size_t n)
{
    struct ntk_ke_request rq;
    struct ntk_ke_refusal ref;
    if (ntk_ke_parse_request(m, n, &rq, &ref) != 0) {
        c->res.request_error = ref.why;
        return;
    }
    c->res.request = true;
    memcpy(c->res.req_aeads, rq.aeads, sizeof rq.aeads);
    c->res.n_req_aeads = rq.n_aeads;
    memcpy(c->res.req_server, rq.server, sizeof rq.server);
    c->res.req_port = rq.has_port ? rq.port : -1;
}

static void ke_response(struct conn *c, const uint8_t *m, size_t n)
{
    /* Checked against what the client offered when its message was read; else against any
     * id (an analyzer still wants to see the answer). */
    uint16_t any[64];
    const uint16_t *ids = c->res.req_aeads;
    size_t nids = c->res.n_req_aeads;
    if (!c->res.request) {
        for (size_t i = 0; i < 64; i++) {
            any[i] = (uint16_t)i;
        }
        ids = any;
        nids = 64;
    }
    struct ntk_ke_response *r = calloc(1, sizeof *r);
    if (r == NULL) {
        c->res.response_error = "out of memory";
        return;
    }
    const char *why = NULL;
    int rc = ntk_ke_parse_response(m, n, ids, nids, r, &why);
    c->res.error_code = r->error ? r->error_code : -1;
    c->res.warning_code = r->warning ? r->warning_code : -1;
    if (rc != 0) {
        c->res.response_error = why;
    } else {
        c->res.response = true;
        if (!r->error) {
            c->res.next_protocol = NTK_KE_PROTO_NTPV4; /* the codec accepts no other */
            c->res.aead = r->aead;
        }
        c->res.n_cookies = r->n_cookies;
        for (size_t i = 0; i < r->n_cookies; i++) {
            c->res.cookie_lens[i] = r->cookies[i].len;
        }
        c->res.cookies_dropped = r->cookies_dropped;
        memcpy(c->res.server, r->server, sizeof r->server);
        c->res.port = r->has_port ? r->port : -1;
    }
    OPENSSL_cleanse(r, sizeof *r);
    free(r);
}

/* Application data of direction i: appended until lib/'s scan finds a whole message. */
static void appdata(struct conn *c, int i, const uint8_t *b, size_t n)
{
    struct dir *d = &c->d[i];
    if (d->ke_done) {
        return;
    }
    size_t room = sizeof d->ke - d->ke_len;
    size_t k = n < room ? n : room;
    memcpy(d->ke + d->ke_len, b, k);
    d->ke_len += k;
    size_t msg = 0;
    int rc = ntk_ke_scan(d->ke, d->ke_len, &msg);
    if (rc == NTK_KE_SCAN_MORE) {
        return;
    }
    d->ke_done = true;
    const char *why = rc == NTK_ERANGE ? "message too long" : "End of Message with a body";
    if (rc == NTK_KE_SCAN_COMPLETE) {
        d->ke_msg = msg; /* parsed by parse_messages, the request first */
    } else if (i == 0) {
        c->res.request_error = why;
    } else {
        c->res.response_error = why;
    }
}

/* Decodes the complete messages not decoded yet: the response only once the request was
 * (or can no longer be), since the AEAD it chose is checked against the client's offer. */
static void parse_messages(struct conn *c, bool final)
{
    struct dir *q = &c->d[0], *r = &c->d[1];
    if (q->ke_msg > 0 && !q->ke_parsed) {
        q->ke_parsed = true;
        c->res.request_len = q->ke_msg;
        ke_request(c, q->ke, q->ke_msg);
    }
    if (r->ke_msg > 0 && !r->ke_parsed && (q->ke_parsed || q->ke_done || final)) {
        r->ke_parsed = true;
        c->res.response_len = r->ke_msg;
        ke_response(c, r->ke, r->ke_msg);
    }
}

/* ---- records ---- */

/* Keys of direction i for label, from the key log; false (status set) when absent. */
static bool load_keys(struct cap_tls *t, struct conn *c, int i, enum cap_kl_label label)
{
    struct dir *d = &c->d[i];
    const struct cap_kl_ent *e =
        c->have_random ? cap_keylog_find(t->kl, c->random, label) : NULL;
    if (e == NULL) {
        fail(c, d, c->have_random ? "no_keys" : "no_client_hello");
        return false;
    }
    int rc = cap_tls_derive(c->res.cipher_suite, e->secret, e->len, &d->key);
    if (rc != 0) {
        fail(c, d, rc == NTK_EUNSUPP ? "cipher_unsupported" : "no_keys");
        return false;
    }
    d->seq = 0;
    return true;
}

static void server_hello(struct cap_tls *t, struct conn *c, struct ntk_rd *body)
{
    uint16_t suite;
    bool v13, hrr;
    if (cap_tls_server_hello(body, &suite, &v13, &hrr) != 0) {
        fail(c, &c->d[1], "malformed_tls");
        return;
    }
    c->res.cipher_suite = suite;
    if (hrr) {
        return; /* a second ServerHello follows the client's second ClientHello */
    }
    if (!v13) {
        fail(c, &c->d[1], "not_tls13");
        c->d[0].ph = PH_DEAD;
        return;
    }
    if (cipher_of(suite) == NULL) {
        fail(c, &c->d[1], "cipher_unsupported");
        c->d[0].ph = PH_DEAD;
        return;
    }
    for (int i = 0; i < 2; i++) {
        if (c->d[i].ph == PH_PLAIN &&
            load_keys(t, c, i, i == 0 ? CAP_KL_CLIENT_HS : CAP_KL_SERVER_HS)) {
            c->d[i].ph = PH_HS;
        }
    }
}

/* Handshake messages of a record of direction i (plaintext or decrypted). */
static void handshake(struct cap_tls *t, struct conn *c, int i, const uint8_t *b, size_t n)
{
    struct dir *d = &c->d[i];
    struct ntk_rd r;
    ntk_rd_init(&r, b, n);
    size_t skip = d->hs_skip < n ? d->hs_skip : n;
    d->hs_skip -= skip;
    ntk_rd_skip(&r, skip);
    while (ntk_rd_left(&r) > 0 && d->ph != PH_DEAD) {
        uint8_t type = 0;
        uint32_t len = 0;
        struct ntk_rd body;
        size_t before = ntk_rd_left(&r);
        if (cap_tls_handshake(&r, &type, &len, &body) != 0) {
            /* Continues in the next record (only its header is needed here). */
            d->hs_skip = len + 4 > before ? len + 4 - before : 0;
            return;
        }
        if (d->ph == PH_PLAIN && i == 0 && type == CAP_TLS_HS_CLIENT_HELLO &&
            !c->have_random) {
            c->have_random = cap_tls_client_random(&body, c->random) == 0;
        } else if (d->ph == PH_PLAIN && i == 1 && type == CAP_TLS_HS_SERVER_HELLO) {
            server_hello(t, c, &body);
        } else if (d->ph == PH_HS && type == CAP_TLS_HS_FINISHED) {
            if (load_keys(t, c, i, i == 0 ? CAP_KL_CLIENT_AP : CAP_KL_SERVER_AP)) {
                d->ph = PH_AP;
            }
        } else if (d->ph == PH_AP && type == CAP_TLS_HS_KEY_UPDATE) {
            fail(c, d, "key_update");
        }
    }
}

/* One record of direction i. Returns false to stop parsing (not yet decryptable). */
static bool record(struct cap_tls *t, struct conn *c, int i, const struct cap_tls_rec *rec)
{
    struct dir *d = &c->d[i];
    if (rec->type == CAP_TLS_CCS || (rec->type == CAP_TLS_ALERT && d->ph == PH_PLAIN)) {
        return true; /* compatibility CCS (§D.4); a plaintext alert ends nothing we need */
    }
    if (rec->type == CAP_TLS_HANDSHAKE) {
        if (i == 1 && d->ph == PH_PLAIN && !c->have_random && c->d[0].ph != PH_DEAD) {
            return false; /* the ClientHello (reordered?) first: its random names the keys */
        }
        if (d->ph == PH_PLAIN) {
            handshake(t, c, i, rec->body, rec->len);
        }
        return true;
    }
    if (d->ph == PH_PLAIN) {
        return false; /* encrypted before its keys are known: wait for the ServerHello */
    }
    uint8_t pt[CAP_TLS_RECORD_MAX];
    size_t n = 0;
    uint8_t inner = 0;
    if (rec->type != CAP_TLS_APPDATA ||
        cap_tls_open(&d->key, d->seq, rec->hdr, rec->body, rec->len, pt, &n, &inner) != 0) {
        fail(c, d, "decrypt_failed");
        return true;
    }
    d->seq++;
    /* Alerts are not counted: the closing ones follow the response in the same segment or
     * after it (when this connection may have been reported already), and the count must
     * not depend on how the sender cut its writes (tshark's figure, less its alerts). */
    if (inner != CAP_TLS_ALERT) {
        if (i == 0) {
            c->res.records_c2s++;
        } else {
            c->res.records_s2c++;
        }
    }
    if (inner == CAP_TLS_HANDSHAKE) {
        handshake(t, c, i, pt, n);
    } else if (inner == CAP_TLS_APPDATA && d->ph == PH_AP) {
        appdata(c, i, pt, n);
    }
    OPENSSL_cleanse(pt, n);
    return true;
}

/* Cuts and handles the complete records of direction i's contiguous stream. */
static void records(struct cap_tls *t, struct conn *c, int i)
{
    struct dir *d = &c->d[i];
    size_t contig = d->nr > 0 && d->rs[0] == 0 ? d->re[0] : 0;
    while (d->ph != PH_DEAD && d->parsed < contig) {
        struct ntk_rd r;
        ntk_rd_init(&r, d->buf + d->parsed, contig - d->parsed);
        struct cap_tls_rec rec;
        int rc = cap_tls_record(&r, &rec);
        if (rc == NTK_ETRUNC) {
            if (contig == CAP_TLS_STREAM_MAX) {
                fail(c, d, "stream_overflow");
            }
            return;
        }
        if (rc != 0) {
            fail(c, d, "malformed_tls");
            return;
        }
        if (!record(t, c, i, &rec)) {
            return;
        }
        d->parsed += ntk_rd_pos(&r);
    }
}

/* Adds [s, e) to the filled ranges; returns whether it brought new bytes. */
static bool add_range(struct dir *d, uint32_t s, uint32_t e)
{
    bool covered = false;
    for (size_t k = 0; k < d->nr; k++) {
        covered |= d->rs[k] <= s && e <= d->re[k];
    }
    if (covered) {
        return false;
    }
    uint32_t ns = s, ne = e;
    size_t w = 0;
    uint32_t rs[RANGES_MAX + 1], re[RANGES_MAX + 1];
    bool placed = false;
    for (size_t k = 0; k < d->nr; k++) {
        if (d->re[k] < ns || d->rs[k] > ne) {
            if (!placed && d->rs[k] > ne) {
                rs[w] = ns;
                re[w++] = ne;
                placed = true;
            }
            rs[w] = d->rs[k];
            re[w++] = d->re[k];
        } else {
            ns = d->rs[k] < ns ? d->rs[k] : ns;
            ne = d->re[k] > ne ? d->re[k] : ne;
        }
    }
    if (!placed) {
        rs[w] = ns;
        re[w++] = ne;
    }
    if (w > RANGES_MAX) {
        return false; /* too fragmented: dropped, the retransmission will come */
    }
    memcpy(d->rs, rs, w * sizeof rs[0]);
    memcpy(d->re, re, w * sizeof re[0]);
    d->nr = w;
    return true;
}

/* Puts a segment's data into direction i's stream. */
static void segment(struct conn *c, int i, const struct cap_pkt *p, const uint8_t *data,
                    size_t len)
{
    struct dir *d = &c->d[i];
    if (p->tcp_flags & 0x02) {
        d->have_isn = true;
        d->isn = p->tcp_seq + 1;
        return;
    }
    if (len == 0 || d->ph == PH_DEAD) {
        return;
    }
    if (!d->have_isn) {
        d->have_isn = true; /* the capture began after the SYN */
        d->isn = p->tcp_seq;
    }
    int32_t rel = (int32_t)(p->tcp_seq - d->isn);
    if (rel < 0 || (size_t)rel >= CAP_TLS_STREAM_MAX) {
        c->res.retransmits += rel < 0;
        if (rel >= 0) {
            fail(c, d, "stream_overflow");
        }
        return;
    }
    if (d->buf == NULL && (d->buf = malloc(CAP_TLS_STREAM_MAX)) == NULL) {
        fail(c, d, "incomplete");
        return;
    }
    size_t s = (size_t)rel, e = s + len > CAP_TLS_STREAM_MAX ? CAP_TLS_STREAM_MAX : s + len;
    size_t contig = d->nr > 0 && d->rs[0] == 0 ? d->re[0] : 0;
    if (!add_range(d, (uint32_t)s, (uint32_t)e)) {
        c->res.retransmits++;
        return;
    }
    c->res.out_of_order += s > contig;
    memcpy(d->buf + s, data, e - s);
    d->bytes = e > d->bytes ? e : d->bytes;
}

void cap_tls_feed(struct cap_tls *t, const struct cap_pkt *p, const uint8_t *data, size_t len)
{
    bool c2s;
    int slot = lookup(t, p, len, &c2s);
    if (slot < 0) {
        return;
    }
    if (t->c[slot]->reported && (p->tcp_flags & 0x12) == 0x02) {
        drop(t, (size_t)slot); /* a new connection on the same ports: the old one is over */
        slot = lookup(t, p, len, &c2s);
        if (slot < 0) {
            return;
        }
    }
    struct conn *c = t->c[slot];
    int i = c2s ? 0 : 1;
    c->d[i].fin |= (p->tcp_flags & 0x05) != 0;
    bool closed = (c->d[0].fin && c->d[1].fin) || (p->tcp_flags & 0x04);
    if (c->reported) {
        if (closed) {
            drop(t, (size_t)slot);
        }
        return;
    }
    if (!c2s) {
        c->last = *p;
        c->have_last = true;
    } else if (c->first.payload_len == 0 && len > 0 && !(c->first.tcp_flags & 0x02)) {
        c->first = *p;
    }
    if (c2s && p->tls_sni[0] != '\0' && c->res.sni[0] == '\0') {
        memcpy(c->res.sni, p->tls_sni, sizeof c->res.sni);
        memcpy(c->res.alpn, p->tls_alpn, sizeof c->res.alpn);
    }
    segment(c, i, p, data, len);
    records(t, c, i);
    records(t, c, 1 - i); /* the ServerHello may have unblocked the client's records */
    parse_messages(c, false);
    if (closed) {
        drop(t, (size_t)slot);
    } else if (c->d[1].ke_parsed || (c->d[0].ph == PH_DEAD && c->d[1].ph == PH_DEAD)) {
        report(t, (size_t)slot);
    }
}

void cap_tls_finish(struct cap_tls *t)
{
    for (size_t i = 0; i < CAP_TLS_CONNS_MAX; i++) {
        if (t->c[i] != NULL) {
            drop(t, i);
        }
    }
}
