/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of ntpd's NTS-KE server: a loop in this process runs ke_srv on 127.0.0.1 on an
 * ephemeral port, and clients written here with plain OpenSSL (non-blocking, stepped between
 * loop rounds) check the answers: cookies and keys, Error records, refused TLS, timeouts,
 * the connection cap, the request size cap, the certificate swap of SIGHUP, the log rate
 * limit, IPv4 + IPv6 listeners, bad configurations, and a seeded property loop over AEAD
 * lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../../daemon/io/ke_srv.h"
#include "../../daemon/io/log.h"
#include "../../daemon/io/loop.h"
#include "../../daemon/io/tls.h"
#include "ntk/aead.h"
#include "ntk/nts_ke.h"
#include "testutil.h"

#include "poison.h"

/* ---- certificates, made here ---- */

static char tmpdir[64];
static char cert_a[128], key_a[128], cert_b[128], key_b[128];

static void write_pem(const char *path, EVP_PKEY *k, X509 *x)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    if (k != NULL)
        assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
    else
        assert_int_equal(PEM_write_X509(f, x), 1);
    fclose(f);
}

/* A self-signed EC P-256 certificate for ntske.test and 127.0.0.1, named cn. */
static void make_cert(const char *cn, const char *cert_path, const char *key_path)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    assert_non_null(k);
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, k);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    X509_EXTENSION *san =
        X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "DNS:ntske.test,IP:127.0.0.1");
    assert_non_null(san);
    X509_add_ext(x, san, -1);
    X509_EXTENSION_free(san);
    assert_true(X509_sign(x, k, EVP_sha256()) > 0);
    write_pem(cert_path, NULL, x);
    write_pem(key_path, k, NULL);
    X509_free(x);
    EVP_PKEY_free(k);
}

static SSL_CTX *server_ctx(const char *cert, const char *key)
{
    struct tls_server_cfg c = {
        .cert = cert, .key = key, .mintls = "", .maxtls = "", .ciphers = "", .curves = ""};
    char err[256] = "";
    SSL_CTX *ctx = tls_server_ctx(&c, err, sizeof err);
    if (ctx == NULL)
        fprintf(stderr, "tls_server_ctx: %s\n", err);
    assert_non_null(ctx);
    return ctx;
}

/* A client context: TLS 1.3 (or only 1.2), ALPN ntske/1 unless !alpn, trusting cert_a. */
static SSL_CTX *client_ctx(bool tls12_only, bool alpn)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    assert_non_null(ctx);
    if (tls12_only) {
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
    } else {
        SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    }
    if (alpn)
        assert_int_equal(SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)"\x07ntske/1", 8),
                         0);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    return ctx;
}

/* ---- requests, built here (not with lib/nts_ke.c, so the two are checked against each
 * other) ---- */

struct msg {
    uint8_t b[20000];
    size_t len;
};

static void rec(struct msg *m, uint16_t type, const uint8_t *body, size_t n)
{
    assert_true(m->len + 4 + n <= sizeof m->b);
    m->b[m->len++] = (uint8_t)(type >> 8);
    m->b[m->len++] = (uint8_t)type;
    m->b[m->len++] = (uint8_t)(n >> 8);
    m->b[m->len++] = (uint8_t)n;
    if (n > 0)
        memcpy(m->b + m->len, body, n);
    m->len += n;
}

static void rec_u16s(struct msg *m, uint16_t type, const uint16_t *v, size_t n)
{
    uint8_t body[64];
    for (size_t i = 0; i < n; i++) {
        body[2 * i] = (uint8_t)(v[i] >> 8);
        body[2 * i + 1] = (uint8_t)v[i];
    }
    rec(m, type, body, 2 * n);
}

static const uint16_t NPN0[] = {0};

/* NPN {0} and AEAD aeads[0..n) (both critical; no AEAD record when n is 0), End. */
static void good_request(struct msg *m, const uint16_t *aeads, size_t n)
{
    m->len = 0;
    rec_u16s(m, 0x8001, NPN0, 1);
    if (n > 0)
        rec_u16s(m, 0x8004, aeads, n);
    rec(m, 0x8000, NULL, 0);
}

/* What a response holds, read here record by record. */
struct parsed {
    int records;
    int error;   /* -1: none */
    int aead;    /* -1: none */
    int npn;     /* -1: none */
    int cookies; /* New Cookie records */
    uint8_t cookie0[256];
    size_t cookie0_len;
    bool all_cookies_alike; /* every cookie equals its index pattern (see cookie_fn) */
    char server[256];
    int port; /* -1: none */
    bool end;
};

static void parse(const uint8_t *b, size_t len, struct parsed *p)
{
    *p = (struct parsed){
        .error = -1, .aead = -1, .npn = -1, .port = -1, .all_cookies_alike = true};
    size_t off = 0;
    while (off + 4 <= len) {
        uint16_t type = (uint16_t)((b[off] << 8 | b[off + 1]) & 0x7fff);
        size_t n = (size_t)(b[off + 2] << 8 | b[off + 3]);
        const uint8_t *body = b + off + 4;
        assert_true(off + 4 + n <= len);
        p->records++;
        if (type == 0)
            p->end = true;
        else if (type == 2 && n == 2)
            p->error = body[0] << 8 | body[1];
        else if (type == 4 && n == 2)
            p->aead = body[0] << 8 | body[1];
        else if (type == 1 && n == 2)
            p->npn = body[0] << 8 | body[1];
        else if (type == 7 && n == 2)
            p->port = body[0] << 8 | body[1];
        else if (type == 6 && n < sizeof p->server)
            memcpy(p->server, body, n);
        else if (type == 5) {
            if (p->cookies == 0) {
                memcpy(p->cookie0, body, n);
                p->cookie0_len = n;
            }
            if (n != 100 || body[0] != (uint8_t)p->cookies || body[99] != 0xa5)
                p->all_cookies_alike = false;
            p->cookies++;
        }
        off += 4 + n;
    }
    assert_int_equal(off, len);
}

/* ---- the cookie function ---- */

struct cookie_log {
    int calls;
    int fail_with; /* non-zero: return it */
    uint16_t aead;
    size_t key_len;
    uint8_t c2s[NTK_AEAD_KEY_MAX], s2c[NTK_AEAD_KEY_MAX];
    bool keys_same; /* every call of one connection saw the same keys */
};

/* Cookie i of a response (counted per connection through calls % 8): 100 bytes, first i,
 * last 0xa5. Records the keys. */
static int cookie_fn(void *ctx, uint16_t aead, const uint8_t *c2s, const uint8_t *s2c,
                     size_t key_len, struct ntk_ke_cookie *out)
{
    struct cookie_log *g = ctx;
    if (g->fail_with != 0)
        return g->fail_with;
    if (g->calls % KE_SRV_COOKIES == 0) {
        g->aead = aead;
        g->key_len = key_len;
        memcpy(g->c2s, c2s, key_len);
        memcpy(g->s2c, s2c, key_len);
        g->keys_same = true;
    } else if (memcmp(g->c2s, c2s, key_len) != 0 || memcmp(g->s2c, s2c, key_len) != 0) {
        g->keys_same = false;
    }
    out->len = 100;
    memset(out->b, 0x5a, out->len);
    out->b[0] = (uint8_t)(g->calls % KE_SRV_COOKIES);
    out->b[99] = 0xa5;
    g->calls++;
    return 0;
}

/* ---- a non-blocking test client ---- */

enum cstate { C_CONNECT, C_HANDSHAKE, C_WRITE, C_READ, C_DONE };

struct tcli {
    int fd;
    SSL *ssl;
    enum cstate st;
    const struct msg *req; /* NULL: send nothing, just wait for the close */
    size_t req_off;
    bool hs_ok; /* the handshake completed on our side */
    bool write_failed;
    uint8_t resp[8192];
    size_t resp_len;
    int end_err; /* SSL_get_error of the read that ended it (ZERO_RETURN: close_notify) */
    uint8_t c2s[NTK_AEAD_KEY_MAX], s2c[NTK_AEAD_KEY_MAX]; /* exported for AEAD 15 */
    int64_t done_mono_ns;
};

static void tcli_start(struct tcli *c, SSL_CTX *ctx, uint16_t port, const struct msg *req)
{
    *c = (struct tcli){.req = req};
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(c->fd >= 0);
    int one = 1; /* no Nagle delay between Finished and the request */
    assert_int_equal(setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(c->fd, (struct sockaddr *)&sa, sizeof sa);
    assert_true(rc == 0 || errno == EINPROGRESS);
    c->ssl = SSL_new(ctx);
    assert_non_null(c->ssl);
    SSL_set_fd(c->ssl, c->fd);
    SSL_set_connect_state(c->ssl);
    SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE);
    c->st = req != NULL ? C_HANDSHAKE : C_CONNECT;
}

static void tcli_done(struct tcli *c)
{
    c->st = C_DONE;
    c->done_mono_ns = loop_now_mono_ns();
}

/* Exports the two keys for AEAD 15 (RFC 8915 §5.1), computed here independently. */
static void tcli_export(struct tcli *c)
{
    static const char label[] = "EXPORTER-network-time-security";
    uint8_t ctx_c2s[5] = {0, 0, 0, 15, 0}, ctx_s2c[5] = {0, 0, 0, 15, 1};
    assert_int_equal(
        SSL_export_keying_material(c->ssl, c->c2s, 32, label, strlen(label), ctx_c2s, 5, 1),
        1);
    assert_int_equal(
        SSL_export_keying_material(c->ssl, c->s2c, 32, label, strlen(label), ctx_s2c, 5, 1),
        1);
}

/* A silent client waits for the server to close the TCP connection. */
static void tcli_wait_close(struct tcli *c)
{
    char b[16];
    ssize_t n = recv(c->fd, b, sizeof b, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
        tcli_done(c);
}

static void tcli_step(struct tcli *c)
{
    ERR_clear_error();
    for (;;) {
        if (c->st == C_DONE)
            return;
        if (c->st == C_CONNECT) {
            tcli_wait_close(c);
            return;
        }
        if (c->st == C_HANDSHAKE) {
            int rc = SSL_connect(c->ssl);
            if (rc == 1) {
                c->hs_ok = true;
                tcli_export(c);
                c->st = C_WRITE;
                continue;
            }
            int e = SSL_get_error(c->ssl, rc);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                tcli_done(c);
            return;
        }
        if (c->st == C_WRITE) {
            size_t n = 0;
            int rc =
                SSL_write_ex(c->ssl, c->req->b + c->req_off, c->req->len - c->req_off, &n);
            if (rc == 1) {
                c->req_off += n;
                if (c->req_off == c->req->len)
                    c->st = C_READ;
                continue;
            }
            int e = SSL_get_error(c->ssl, rc);
            if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
                return;
            c->write_failed = true;
            c->st = C_READ; /* the server may have answered before closing */
            continue;
        }
        size_t n = 0;
        int rc = SSL_read_ex(c->ssl, c->resp + c->resp_len, sizeof c->resp - c->resp_len, &n);
        if (rc == 1) {
            c->resp_len += n;
            continue;
        }
        int e = SSL_get_error(c->ssl, rc);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            c->end_err = e;
            tcli_done(c);
        }
        return;
    }
}

static void tcli_free(struct tcli *c)
{
    SSL_free(c->ssl);
    close(c->fd);
}

/* ---- the server under test ---- */

struct env {
    struct loop *l;
    struct ke_srv *s;
    SSL_CTX *sctx;
    struct cookie_log cookies;
};

static void env_up(struct env *e, int timeout_ms, int max_conns, const char *ntp_server,
                   uint16_t ntp_port, const uint16_t *allowed, size_t n_allowed)
{
    *e = (struct env){0};
    e->l = loop_new();
    assert_non_null(e->l);
    e->sctx = server_ctx(cert_a, key_a);
    struct ke_srv_cfg cfg;
    ke_srv_cfg_default(&cfg);
    assert_int_equal(cfg.port, 4460);
    assert_int_equal(cfg.timeout_ms, 5000);
    assert_int_equal(cfg.max_conns, 64);
    cfg.port = 0;
    cfg.n_addrs = 1;
    uint8_t lo[4] = {127, 0, 0, 1};
    ntk_addr_set_v4(&cfg.addrs[0], lo, 0);
    cfg.timeout_ms = timeout_ms;
    cfg.max_conns = max_conns;
    if (ntp_server != NULL)
        snprintf(cfg.ntp_server, sizeof cfg.ntp_server, "%s", ntp_server);
    cfg.ntp_port = ntp_port;
    for (size_t i = 0; i < n_allowed; i++)
        cfg.aeads[i] = allowed[i];
    cfg.n_aeads = n_allowed;
    cfg.make_cookie = cookie_fn;
    cfg.cookie_ctx = &e->cookies;
    char err[256] = "";
    e->s = ke_srv_new(&cfg, e->sctx, e->l, err, sizeof err);
    if (e->s == NULL)
        fprintf(stderr, "ke_srv_new: %s\n", err);
    assert_non_null(e->s);
    assert_true(ke_srv_port(e->s) != 0);
    assert_int_equal(ke_srv_listeners(e->s), 1);
}

static void env_down(struct env *e)
{
    ke_srv_free(e->s);
    SSL_CTX_free(e->sctx);
    loop_free(e->l);
}

/* Steps the clients and the loop until every client is done and the server has closed
 * everything, or limit_ms passes. */
static void run(struct env *e, struct tcli *cs, int n, int limit_ms)
{
    int64_t end = loop_now_mono_ns() + (int64_t)limit_ms * 1000000;
    while (loop_now_mono_ns() < end) {
        bool all = true;
        for (int i = 0; i < n; i++) {
            tcli_step(&cs[i]);
            all = all && cs[i].st == C_DONE;
        }
        if (all && ke_srv_active(e->s) == 0)
            return;
        assert_true(loop_run_once(e->l, 2) >= 0);
    }
}

/* One client, one request; returns the parsed response. */
static void exchange(struct env *e, SSL_CTX *cctx, const struct msg *req, struct tcli *c,
                     struct parsed *p)
{
    tcli_start(c, cctx, ke_srv_port(e->s), req);
    run(e, c, 1, 5000);
    assert_int_equal(c->st, C_DONE);
    assert_int_equal(ke_srv_active(e->s), 0);
    parse(c->resp, c->resp_len, p);
}

/* ---- the tests ---- */

static SSL_CTX *cctx13;

static void good_request_gets_cookies(void **state)
{
    (void)state;
    struct env e;
    env_up(&e, 5000, 64, NULL, 0, NULL, 0);
    struct msg req;
    good_request(&req, (const uint16_t[]){15}, 1);
    struct tcli c;
    struct parsed p;
    exchange(&e, cctx13, &req, &c, &p);
    assert_true(c.hs_ok);
    assert_true(p.end);
    assert_int_equal(p.error, -1);
    assert_int_equal(p.npn, 0);
    assert_int_equal(p.aead, 15);
    assert_int_equal(p.cookies, 8);
    assert_true(p.all_cookies_alike); /* the callback's cookies, in order */
    assert_int_equal(p.port, -1);     /* nothing advertised */
    assert_string_equal(p.server, "");
    assert_int_equal(p.records, 1 + 1 + 8 + 1);
    assert_int_equal(c.end_err, SSL_ERROR_ZERO_RETURN); /* close_notify after the response */
    assert_int_equal(e.cookies.calls, 8);
    assert_int_equal(e.cookies.aead, 15);
    assert_int_equal(e.cookies.key_len, 32);
    assert_true(e.cookies.keys_same);
    assert_memory_equal(e.cookies.c2s, c.c2s, 32); /* the client's exported keys */
    assert_memory_equal(e.cookies.s2c, c.s2c, 32);
    assert_memory_not_equal(c.c2s, c.s2c, 32);
    const struct ke_srv_stats *st = ke_srv_stats(e.s);
    assert_int_equal(st->good, 1);
    assert_int_equal(st->bad, 0);
    assert_int_equal(st->nossl, 0);
    assert_true(st->good_wall_s > 0 && st->good_wall_s < 5);
    assert_true(st->good_cpu_s > 0 && st->good_cpu_s <= st->good_wall_s + 0.01);
    tcli_free(&c);
    env_down(&e);
}

/* Server and Port records only when configured; the client's own Server / Port wishes do
 * not change them. */
static void advertises_server_and_port(void **state)
{
    (void)state;
    struct env e;
    env_up(&e, 5000, 64, "ntp.example", 1234, NULL, 0);
    struct msg req = {0};
    rec_u16s(&req, 0x8001, NPN0, 1);
    rec_u16s(&req, 0x8004, (const uint16_t[]){15}, 1);
    rec(&req, 0x0006, (const uint8_t *)"other", 5);
    rec_u16s(&req, 0x0007, (const uint16_t[]){999}, 1);
    rec(&req, 0x8000, NULL, 0);
    struct tcli c;
    struct parsed p;
    exchange(&e, cctx13, &req, &c, &p);
    assert_int_equal(p.cookies, 8);
    assert_string_equal(p.server, "ntp.example");
    assert_int_equal(p.port, 1234);
    assert_int_equal(p.records, 1 + 1 + 8 + 2 + 1);
    tcli_free(&c);
    env_down(&e);
}

/* Refused requests get one Error record and End, and count as bad. */
static void error_answers(void **state)
{
    (void)state;
    struct env e;
    env_up(&e, 5000, 64, NULL, 0, (const uint16_t[]){15}, 1);
    struct {
        const char *name;
        int error;
    } want[] = {{"unknown critical", 0},
                {"no NPN", 1},
                {"no AEAD record", 1},
                {"AEAD not allowed", 1},
                {"cookie failure", 2}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        struct msg req = {0};
        if (i == 0) {
            rec_u16s(&req, 0x8001, NPN0, 1);
            rec_u16s(&req, 0x8004, (const uint16_t[]){15}, 1);
            rec(&req, 0x8000 | 0x1234, (const uint8_t *)"xy", 2);
            rec(&req, 0x8000, NULL, 0);
        } else if (i == 1) {
            rec_u16s(&req, 0x8004, (const uint16_t[]){15}, 1);
            rec(&req, 0x8000, NULL, 0);
        } else if (i == 2) {
            good_request(&req, NULL, 0);
        } else if (i == 3) {
            good_request(&req, (const uint16_t[]){16, 17}, 2); /* only 15 is allowed */
        } else {
            good_request(&req, (const uint16_t[]){15}, 1);
            e.cookies.fail_with = -10;
        }
        struct tcli c;
        struct parsed p;
        exchange(&e, cctx13, &req, &c, &p);
        if (p.error != want[i].error)
            fprintf(stderr, "case %s: error %d\n", want[i].name, p.error);
        assert_int_equal(p.error, want[i].error);
        assert_int_equal(p.records, 2);
        assert_true(p.end);
        assert_int_equal(p.cookies, 0);
        assert_int_equal(ke_srv_stats(e.s)->bad, i + 1);
        assert_int_equal(ke_srv_stats(e.s)->errors_sent, i + 1);
        tcli_free(&c);
    }
    assert_int_equal(ke_srv_stats(e.s)->good, 0);
    assert_int_equal(ke_srv_stats(e.s)->nossl, 0);
    assert_int_equal(e.cookies.calls, 0);
    env_down(&e);
}

/* A TLS 1.2-only client and a client without ALPN never get an answer: nossl. */
static void tls_refusals(void **state)
{
    (void)state;
    struct env e;
    env_up(&e, 5000, 64, NULL, 0, NULL, 0);
    struct msg req;
    good_request(&req, (const uint16_t[]){15}, 1);
    SSL_CTX *c12 = client_ctx(true, true);
    struct tcli c;
    struct parsed p;
    exchange(&e, c12, &req, &c, &p);
    assert_false(c.hs_ok);
    assert_int_equal(c.resp_len, 0);
    assert_int_equal(ke_srv_stats(e.s)->nossl, 1);
    tcli_free(&c);
    SSL_CTX_free(c12);
    SSL_CTX *noalpn = client_ctx(false, false);
    exchange(&e, noalpn, &req, &c, &p);
    assert_int_equal(c.resp_len, 0);
    assert_int_equal(ke_srv_stats(e.s)->nossl, 2);
    assert_int_equal(ke_srv_stats(e.s)->good, 0);
    assert_int_equal(ke_srv_stats(e.s)->bad, 0);
    assert_int_equal(e.cookies.calls, 0);
    assert_true(ke_srv_stats(e.s)->nossl_wall_s > 0);
    tcli_free(&c);
    SSL_CTX_free(noalpn);
    env_down(&e);
}

/* A client that sends nothing is closed at the deadline (200 ms here), not before. */
static void silent_client_times_out(void **state)
{
    (void)state;
    struct env e;
    env_up(&e, 200, 64, NULL, 0, NULL, 0);
    struct tcli c;
    int64_t start = loop_now_mono_ns();
    tcli_start(&c, cctx13, ke_srv_port(e.s), NULL);
    run(&e, &c, 1, 3000);
    assert_int_equal(c.st, C_DONE);
    int64_t took_ms = (c.done_mono_ns - start) / 1000000;
    assert_true(took_ms >= 195 && took_ms < 1000);
    const struct ke_srv_stats *st = ke_srv_stats(e.s);
    assert_int_equal(st->timeouts, 1);
    assert_int_equal(st->nossl, 1);
    assert_true(st->nossl_wall_s >= 0.195 && st->nossl_wall_s < 1.0);
    assert_int_equal(ke_srv_active(e.s), 0);
    tcli_free(&c);
    /* ke_srv_free with a connection still open closes it (ASan checks nothing leaks). */
    tcli_start(&c, cctx13, ke_srv_port(e.s), NULL);
    assert_true(loop_run_once(e.l, 100) >= 1);
    assert_int_equal(ke_srv_active(e.s), 1);
    env_down(&e);
    char b[4];
    assert_int_equal(recv(c.fd, b, sizeof b, 0), 0); /* closed by ke_srv_free */
    tcli_free(&c);
}

/* 70 clients at once against a cap of 64: 6 are closed at once, 64 served. */
static void connection_cap(void **state)
{
    (void)state;
    struct env e;
    env_up(&e, 5000, 64, NULL, 0, NULL, 0);
    struct msg req;
    good_request(&req, (const uint16_t[]){15}, 1);
    static struct tcli cs[70];
    /* All connect before the server's first round, so they wait in the accept queue. */
    for (int i = 0; i < 70; i++)
        tcli_start(&cs[i], cctx13, ke_srv_port(e.s), &req);
    run(&e, cs, 70, 20000);
    int served = 0, refused = 0;
    for (int i = 0; i < 70; i++) {
        assert_int_equal(cs[i].st, C_DONE);
        struct parsed p;
        parse(cs[i].resp, cs[i].resp_len, &p);
        if (p.cookies == 8)
            served++;
        else if (cs[i].resp_len == 0)
            refused++;
        tcli_free(&cs[i]);
    }
    const struct ke_srv_stats *st = ke_srv_stats(e.s);
    assert_int_equal(served, 64);
    assert_int_equal(refused, 6);
    assert_int_equal(st->refused_cap, 6);
    assert_int_equal(st->good, 64);
    assert_int_equal(st->bad + st->nossl, 0);
    assert_int_equal(e.cookies.calls, 64 * 8);
    fprintf(stderr,
            "# 64 concurrent exchanges: %.3f ms CPU, %.1f ms wall each (server side)\n",
            st->good_cpu_s * 1e3 / 64, st->good_wall_s * 1e3 / 64);
    env_down(&e);
}

/* A request that grows past NTK_KE_MSG_MAX without End of Message is closed unanswered. */
static void oversized_request(void **state)
{
    (void)state;
    struct env e;
    env_up(&e, 5000, 64, NULL, 0, NULL, 0);
    static struct msg req;
    req.len = 0;
    static const uint8_t filler[1000];
    rec_u16s(&req, 0x8001, NPN0, 1);
    for (int i = 0; i < 17; i++)
        rec(&req, 0x1234, filler, sizeof filler); /* unknown, not critical */
    assert_true(req.len > NTK_KE_MSG_MAX);
    struct tcli c;
    struct parsed p;
    exchange(&e, cctx13, &req, &c, &p);
    assert_true(c.hs_ok);
    assert_int_equal(c.resp_len, 0);
    const struct ke_srv_stats *st = ke_srv_stats(e.s);
    assert_int_equal(st->bad, 1);
    assert_int_equal(st->errors_sent, 0);
    assert_int_equal(st->good + st->nossl, 0);
    tcli_free(&c);
    env_down(&e);
}

static void subject_cn(SSL *ssl, char *out, size_t cap)
{
    X509 *x = SSL_get1_peer_certificate(ssl);
    assert_non_null(x);
    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out, (int)cap);
    X509_free(x);
}

/* SIGHUP's certificate swap: the next connection shows the new certificate; one already in
 * its handshake keeps the old context and still succeeds. */
static void context_swap(void **state)
{
    (void)state;
    struct env e;
    env_up(&e, 5000, 64, NULL, 0, NULL, 0);
    struct msg req;
    good_request(&req, (const uint16_t[]){15}, 1);
    struct tcli cs[2];
    tcli_start(&cs[0], cctx13, ke_srv_port(e.s), &req);
    tcli_step(&cs[0]);
    assert_true(loop_run_once(e.l, 50) >= 1); /* accepted with context A */
    SSL_CTX *b = server_ctx(cert_b, key_b);
    ke_srv_set_ctx(e.s, b);
    SSL_CTX_free(b); /* the server holds its own reference */
    tcli_start(&cs[1], cctx13, ke_srv_port(e.s), &req);
    run(&e, cs, 2, 5000);
    const char *want[2] = {"ke-a", "ke-b"};
    for (int i = 0; i < 2; i++) {
        struct parsed p;
        assert_int_equal(cs[i].st, C_DONE);
        parse(cs[i].resp, cs[i].resp_len, &p);
        assert_int_equal(p.cookies, 8);
        char cn[64];
        subject_cn(cs[i].ssl, cn, sizeof cn);
        assert_string_equal(cn, want[i]);
        tcli_free(&cs[i]);
    }
    assert_int_equal(ke_srv_stats(e.s)->good, 2);
    env_down(&e);
}

/* Seeded property: for a random AEAD list (supported, unsupported and unknown ids) and a
 * random allowed set, the server picks the first id of the client's that is allowed, or
 * answers Error bad request when there is none. */
static void aead_choice_property(void **state)
{
    (void)state;
    tu_seed();
    static const uint16_t pool[] = {15, 16, 17, 1, 30, 0xffff};
    for (int round = 0; round < 12; round++) {
        uint16_t allowed[3];
        size_t n_allowed = 0;
        for (uint16_t a = 15; a <= 17; a++)
            if (tu_rand() % 2 == 0)
                allowed[n_allowed++] = a;
        struct env e;
        env_up(&e, 5000, 64, NULL, 0, allowed, n_allowed);
        uint16_t offer[4];
        size_t n = 1 + tu_rand() % 4;
        for (size_t i = 0; i < n; i++)
            offer[i] = pool[tu_rand() % 6];
        int want = -1;
        for (size_t i = 0; i < n && want < 0; i++) {
            bool ok = ntk_aead_supported(offer[i]);
            bool in = n_allowed == 0;
            for (size_t k = 0; k < n_allowed; k++)
                in = in || allowed[k] == offer[i];
            if (ok && in)
                want = offer[i];
        }
        struct msg req;
        good_request(&req, offer, n);
        struct tcli c;
        struct parsed p;
        exchange(&e, cctx13, &req, &c, &p);
        if (want < 0) {
            assert_int_equal(p.error, 1);
        } else {
            assert_int_equal(p.error, -1);
            assert_int_equal(p.aead, want);
            assert_int_equal(p.cookies, 8);
            assert_int_equal(e.cookies.key_len, ntk_aead_key_len((uint16_t)want));
        }
        tcli_free(&c);
        env_down(&e);
    }
}

/* A flood of failures is logged as KE_SRV_LOG_PER_S lines, then one "N more suppressed" line
 * once the second is over. */
static void failure_lines_rate_limited(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/log", tmpdir);
    assert_int_equal(log_to(LOG_SINK_FILE, path), 0);
    struct env e;
    env_up(&e, 5000, 64, NULL, 0, NULL, 0);
    struct msg req;
    good_request(&req, (const uint16_t[]){15}, 1);
    SSL_CTX *c12 = client_ctx(true, true);
    struct tcli cs[15];
    for (int i = 0; i < 15; i++)
        tcli_start(&cs[i], c12, ke_srv_port(e.s), &req);
    run(&e, cs, 15, 900);
    for (int i = 0; i < 15; i++) {
        assert_int_equal(cs[i].st, C_DONE);
        tcli_free(&cs[i]);
    }
    assert_int_equal(ke_srv_stats(e.s)->nossl, 15);
    int64_t end = loop_now_mono_ns() + 1500000000LL;
    while (loop_next_timer(e.l) != INT64_MAX && loop_now_mono_ns() < end)
        assert_true(loop_run_once(e.l, 100) >= 0);
    assert_int_equal(log_to(LOG_SINK_STDERR, NULL), 0);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[512];
    int failed = 0, suppressed = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        failed += strstr(line, "TLS handshake failed: unsupported protocol") != NULL;
        suppressed += strstr(line, "NTS-KE: 5 more failure lines suppressed") != NULL;
    }
    fclose(f);
    unlink(path);
    assert_int_equal(failed, KE_SRV_LOG_PER_S);
    assert_int_equal(suppressed, 1);
    SSL_CTX_free(c12);
    env_down(&e);
}

/* Two addresses, IPv4 and IPv6, with port 0: both get the port the first one got, and a
 * connection to [::1] is accepted. */
static void listens_on_v4_and_v6(void **state)
{
    (void)state;
    int probe = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 lo6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    if (probe < 0 || bind(probe, (struct sockaddr *)&lo6, sizeof lo6) != 0) {
        if (probe >= 0)
            close(probe);
        skip(); /* no IPv6 loopback here */
    }
    close(probe);
    struct loop *l = loop_new();
    SSL_CTX *ctx = server_ctx(cert_a, key_a);
    struct ke_srv_cfg cfg;
    ke_srv_cfg_default(&cfg);
    cfg.make_cookie = cookie_fn;
    cfg.port = 0;
    cfg.n_addrs = 2;
    uint8_t lo[4] = {127, 0, 0, 1}, lo6b[16] = {[15] = 1};
    ntk_addr_set_v4(&cfg.addrs[0], lo, 0);
    ntk_addr_set_v6(&cfg.addrs[1], lo6b, 0, 0);
    char err[256];
    struct ke_srv *s = ke_srv_new(&cfg, ctx, l, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(ke_srv_listeners(s), 2);
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    lo6.sin6_port = htons(ke_srv_port(s));
    assert_int_equal(connect(fd, (struct sockaddr *)&lo6, sizeof lo6), 0);
    assert_true(loop_run_once(l, 1000) >= 1);
    assert_int_equal(ke_srv_active(s), 1);
    close(fd);
    ke_srv_free(s);
    SSL_CTX_free(ctx);
    loop_free(l);
}

/* Bad configurations are refused with a reason; a busy port is reported. */
static void bad_configs(void **state)
{
    (void)state;
    struct loop *l = loop_new();
    SSL_CTX *ctx = server_ctx(cert_a, key_a);
    struct ke_srv_cfg cfg;
    ke_srv_cfg_default(&cfg);
    char err[256];
    assert_null(ke_srv_new(&cfg, ctx, l, err, sizeof err));
    assert_string_equal(err, "NTS-KE: no cookie function");
    cfg.make_cookie = cookie_fn;
    cfg.max_conns = KE_SRV_CONNS_MAX + 1;
    assert_null(ke_srv_new(&cfg, ctx, l, err, sizeof err));
    assert_string_equal(err, "NTS-KE: connection cap out of range");
    cfg.max_conns = 4;
    cfg.port = 0;
    cfg.n_addrs = 1;
    uint8_t lo[4] = {127, 0, 0, 1};
    ntk_addr_set_v4(&cfg.addrs[0], lo, 0);
    struct ke_srv *a = ke_srv_new(&cfg, ctx, l, err, sizeof err);
    assert_non_null(a);
    cfg.port = ke_srv_port(a);
    assert_null(ke_srv_new(&cfg, ctx, l, err, sizeof err));
    char want[128];
    snprintf(want, sizeof want, "NTS-KE: bind 127.0.0.1:%u (TCP): Address already in use",
             cfg.port);
    assert_string_equal(err, want);
    ke_srv_free(a);
    SSL_CTX_free(ctx);
    loop_free(l);
}

static int setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_ke_srv.XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    snprintf(cert_a, sizeof cert_a, "%s/a.pem", tmpdir);
    snprintf(key_a, sizeof key_a, "%s/a.key", tmpdir);
    snprintf(cert_b, sizeof cert_b, "%s/b.pem", tmpdir);
    snprintf(key_b, sizeof key_b, "%s/b.key", tmpdir);
    make_cert("ke-a", cert_a, key_a);
    make_cert("ke-b", cert_b, key_b);
    cctx13 = client_ctx(false, true);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    SSL_CTX_free(cctx13);
    unlink(cert_a);
    unlink(key_a);
    unlink(cert_b);
    unlink(key_b);
    rmdir(tmpdir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_request_gets_cookies),
        cmocka_unit_test(advertises_server_and_port),
        cmocka_unit_test(error_answers),
        cmocka_unit_test(tls_refusals),
        cmocka_unit_test(silent_client_times_out),
        cmocka_unit_test(connection_cap),
        cmocka_unit_test(oversized_request),
        cmocka_unit_test(context_swap),
        cmocka_unit_test(aead_choice_property),
        cmocka_unit_test(failure_lines_rate_limited),
        cmocka_unit_test(listens_on_v4_and_v6),
        cmocka_unit_test(bad_configs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
