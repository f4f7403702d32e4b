/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for daemon/io/tls.c and ke_cli.c: real TLS 1.3 handshakes on loopback between
 * tls_server_ctx and a KE client session, certificates made at start with OpenSSL's API. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ke_cli.h"
#include "ntk/err.h"
#include "ntk/nts_ke.h"
#include "testutil.h"
#include "tls.h"

#include "poison.h"

/* ---- certificates ---- */

static char g_dir[64];
static char g_ca[128], g_ca2[128], g_cert[128], g_key[128], g_expired[128], g_other_key[128];

/* Adds one X509v3 extension given in openssl.cnf syntax. */
static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v;
    X509V3_set_ctx(&v, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v, nid, value);
    assert_non_null(e);
    assert_int_equal(X509_add_ext(x, e, -1), 1);
    X509_EXTENSION_free(e);
}

/* A certificate for key named cn, signed by ikey (issuer NULL: self-signed CA), valid from
 * now + nb_s to now + na_s. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey,
                       const char *san, long nb_s, long na_s)
{
    X509 *x = X509_new();
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(tu_rand() & 0x7fffffff));
    X509_gmtime_adj(X509_getm_notBefore(x), nb_s);
    X509_gmtime_adj(X509_getm_notAfter(x), na_s);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"ntpkit test", -1,
                               -1, 0);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
    X509_set_pubkey(x, key);
    X509 *iss = issuer ? issuer : x;
    add_ext(x, iss, NID_subject_key_identifier, "hash");
    if (issuer == NULL) {
        add_ext(x, iss, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x, iss, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(x, iss, NID_basic_constraints, "CA:FALSE");
        add_ext(x, iss, NID_authority_key_identifier, "keyid");
        add_ext(x, iss, NID_subject_alt_name, san);
    }
    assert_true(X509_sign(x, ikey, EVP_sha256()) > 0);
    return x;
}

static void write_pem(const char *path, X509 *x, X509 *chain, EVP_PKEY *key)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    if (x)
        assert_int_equal(PEM_write_X509(f, x), 1);
    if (chain)
        assert_int_equal(PEM_write_X509(f, chain), 1);
    if (key)
        assert_int_equal(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
    fclose(f);
}

static int make_pki(void **state)
{
    (void)state;
    tu_seed();
    signal(SIGPIPE, SIG_IGN);
    snprintf(g_dir, sizeof g_dir, "/tmp/ntk_tls_XXXXXX");
    if (mkdtemp(g_dir) == NULL)
        return -1;
    snprintf(g_ca, sizeof g_ca, "%s/ca.pem", g_dir);
    snprintf(g_ca2, sizeof g_ca2, "%s/ca2.pem", g_dir);
    snprintf(g_cert, sizeof g_cert, "%s/cert.pem", g_dir);
    snprintf(g_key, sizeof g_key, "%s/key.pem", g_dir);
    snprintf(g_expired, sizeof g_expired, "%s/expired.pem", g_dir);
    snprintf(g_other_key, sizeof g_other_key, "%s/other.pem", g_dir);
    EVP_PKEY *cak = EVP_EC_gen("P-256");
    EVP_PKEY *ca2k = EVP_EC_gen("P-256");
    EVP_PKEY *k = EVP_EC_gen("P-256");
    EVP_PKEY *ok = EVP_EC_gen("P-256");
    X509 *ca = make_cert(cak, "ntpkit test CA", NULL, cak, NULL, -3600, 86400 * 30);
    X509 *ca2 = make_cert(ca2k, "another CA", NULL, ca2k, NULL, -3600, 86400 * 30);
    X509 *leaf =
        make_cert(k, "ntske.test", ca, cak, "DNS:ntske.test,IP:127.0.0.1", -3600, 86400 * 10);
    X509 *old = make_cert(k, "ntske.test", ca, cak, "DNS:ntske.test,IP:127.0.0.1", -86400 * 10,
                          -86400);
    write_pem(g_ca, ca, NULL, NULL);
    write_pem(g_ca2, ca2, NULL, NULL);
    write_pem(g_cert, leaf, ca, NULL);
    write_pem(g_key, NULL, NULL, k);
    write_pem(g_expired, old, ca, NULL);
    write_pem(g_other_key, NULL, NULL, ok);
    X509_free(ca);
    X509_free(ca2);
    X509_free(leaf);
    X509_free(old);
    EVP_PKEY_free(cak);
    EVP_PKEY_free(ca2k);
    EVP_PKEY_free(k);
    EVP_PKEY_free(ok);
    return 0;
}

static int drop_pki(void **state)
{
    (void)state;
    const char *files[] = {g_ca, g_ca2, g_cert, g_key, g_expired, g_other_key};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        unlink(files[i]);
    rmdir(g_dir);
    return 0;
}

static SSL_CTX *server_ctx_with(const char *cert)
{
    struct tls_server_cfg c = {cert, g_key, "", "", "", ""};
    char err[256] = "";
    SSL_CTX *ctx = tls_server_ctx(&c, err, sizeof err);
    if (ctx == NULL)
        fprintf(stderr, "tls_server_ctx: %s\n", err);
    assert_non_null(ctx);
    return ctx;
}

/* ---- a small NTS-KE server on loopback, stepped by the test's own poll ---- */

enum srv_mode { SRV_OK, SRV_ERROR, SRV_NO_COOKIE, SRV_SILENT };

struct srv {
    SSL_CTX *ctx;
    enum srv_mode mode;
    size_t chunk;  /* response bytes per SSL_write (0: all at once) */
    int lfd;       /* listener */
    uint16_t port; /* its port */
    int fd;        /* accepted connection */
    SSL *ssl;
    int phase;         /* 0 handshake, 1 request, 2 response, 3 done, 9 failed */
    unsigned long err; /* first OpenSSL error on failure */
    uint8_t in[4096];
    size_t have;
    uint8_t out[4096];
    size_t out_len, out_sent;
    uint8_t c2s[64], s2c[64];
};

static void srv_open(struct srv *s, SSL_CTX *ctx, enum srv_mode mode)
{
    memset(s, 0, sizeof *s);
    s->ctx = ctx;
    s->mode = mode;
    s->fd = -1;
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(s->lfd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->lfd, 4), 0);
    socklen_t al = sizeof a;
    assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &al), 0);
    s->port = ntohs(a.sin_port);
}

static void srv_close(struct srv *s)
{
    SSL_free(s->ssl);
    if (s->fd >= 0)
        close(s->fd);
    close(s->lfd);
}

static void srv_respond(struct srv *s, size_t req_len)
{
    struct ntk_ke_request req;
    struct ntk_ke_refusal ref;
    int r = ntk_ke_parse_request(s->in, req_len, &req, &ref);
    assert_int_equal(r, 0);
    assert_int_equal(req.n_aeads, 1);
    assert_int_equal(req.aeads[0], NTK_AEAD_AES_SIV_CMAC_256);
    struct ntk_ke_cookie ck[3];
    for (size_t i = 0; i < 3; i++) {
        ck[i].len = 100;
        memset(ck[i].b, (int)(0xa0 + i), 100);
    }
    int n;
    if (s->mode == SRV_ERROR)
        n = ntk_ke_build_error(s->out, sizeof s->out, NTK_KE_ERR_BAD_REQUEST);
    else
        n = ntk_ke_build_response(s->out, sizeof s->out, NTK_AEAD_AES_SIV_CMAC_256, ck,
                                  s->mode == SRV_NO_COOKIE ? 0 : 3, "ntp.test", 1123);
    assert_true(n > 0);
    s->out_len = (size_t)n;
    assert_int_equal(tls_export_keys(s->ssl, NTK_AEAD_AES_SIV_CMAC_256, s->c2s, s->s2c, 32),
                     0);
}

static void srv_fail(struct srv *s)
{
    s->err = ERR_peek_error();
    ERR_clear_error();
    s->phase = 9;
}

static void srv_step(struct srv *s)
{
    if (s->fd < 0) {
        s->fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (s->fd < 0 || s->mode == SRV_SILENT)
            return;
        s->ssl = SSL_new(s->ctx);
        SSL_set_fd(s->ssl, s->fd);
        SSL_set_accept_state(s->ssl);
    }
    if (s->ssl == NULL)
        return;
    if (s->phase == 0) {
        int r = SSL_accept(s->ssl);
        if (r == 1)
            s->phase = 1;
        else if (SSL_get_error(s->ssl, r) != SSL_ERROR_WANT_READ &&
                 SSL_get_error(s->ssl, r) != SSL_ERROR_WANT_WRITE)
            srv_fail(s);
    }
    while (s->phase == 1) {
        size_t len;
        if (ntk_ke_scan(s->in, s->have, &len) == NTK_KE_SCAN_COMPLETE) {
            srv_respond(s, len);
            s->phase = 2;
            break;
        }
        int r = SSL_read(s->ssl, s->in + s->have, (int)(sizeof s->in - s->have));
        if (r <= 0) {
            if (SSL_get_error(s->ssl, r) != SSL_ERROR_WANT_READ)
                srv_fail(s);
            return;
        }
        s->have += (size_t)r;
    }
    while (s->phase == 2 && s->out_sent < s->out_len) {
        size_t n = s->out_len - s->out_sent;
        if (s->chunk != 0 && n > s->chunk)
            n = s->chunk;
        int r = SSL_write(s->ssl, s->out + s->out_sent, (int)n);
        if (r <= 0)
            return;
        s->out_sent += (size_t)r;
        if (s->chunk != 0)
            return; /* one piece per step: the client sees partial reads */
    }
    if (s->phase == 2) {
        SSL_shutdown(s->ssl);
        s->phase = 3;
    }
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Runs one client exchange to host against s; the session's result is copied to *out. */
static void exchange(struct srv *s, SSL_CTX *cctx, const char *host, uint16_t port,
                     int timeout_ms, struct ke_cli_result *out)
{
    struct ke_cli_cfg cfg = {.timeout_ms = timeout_ms};
    snprintf(cfg.host, sizeof cfg.host, "%s", host);
    const uint8_t lo[4] = {127, 0, 0, 1};
    ntk_addr_set_v4(&cfg.addr, lo, port);
    int err = 0;
    struct ke_cli *k = ke_cli_start(cctx, &cfg, now_ns(), &err);
    assert_non_null(k);
    int64_t now = now_ns();
    while (!ke_cli_step(k, now)) {
        struct pollfd p[2] = {{.fd = ke_cli_fd(k), .events = ke_cli_events(k)},
                              {.fd = s && s->fd >= 0 ? s->fd
                                     : s             ? s->lfd
                                                     : -1,
                               .events = POLLIN}};
        poll(p, 2, 5);
        if (s)
            srv_step(s);
        now = now_ns();
    }
    *out = *ke_cli_result(k);
    ke_cli_free(k);
    for (int i = 0; s && i < 20 && s->phase < 3; i++) {
        srv_step(s); /* let the server finish reading a close or an alert */
        usleep(1000);
    }
}

static SSL_CTX *client(const char *ca, bool noval)
{
    char err[256] = "";
    SSL_CTX *c = tls_client_ctx(ca, noval, err, sizeof err);
    assert_non_null(c);
    return c;
}

static void handshake_ok(void **state)
{
    (void)state;
    SSL_CTX *sctx = server_ctx_with(g_cert);
    SSL_CTX *cctx = client(g_ca, false);
    struct srv s;
    srv_open(&s, sctx, SRV_OK);
    struct ke_cli_result r;
    exchange(&s, cctx, "ntske.test", s.port, 0, &r);
    assert_string_equal(r.why, "");
    assert_int_equal(r.err, 0);
    assert_string_equal(r.stage, "done");
    assert_int_equal(r.aead, NTK_AEAD_AES_SIV_CMAC_256);
    assert_int_equal(r.key_len, 32);
    assert_memory_equal(r.c2s, s.c2s, 32);
    assert_memory_equal(r.s2c, s.s2c, 32);
    assert_memory_not_equal(r.c2s, r.s2c, 32);
    assert_int_equal(r.resp.n_cookies, 3);
    assert_int_equal(r.resp.cookies[2].len, 100);
    assert_int_equal(r.resp.cookies[2].b[99], 0xa2);
    assert_string_equal(r.resp.server, "ntp.test");
    assert_true(r.resp.has_port);
    assert_int_equal(r.resp.port, 1123);
    assert_string_equal(r.peer.version, "TLSv1.3");
    assert_string_equal(r.peer.alpn, "ntske/1");
    assert_string_equal(r.peer.subject, "CN=ntske.test,O=ntpkit test");
    assert_string_equal(r.peer.issuer, "CN=ntpkit test CA,O=ntpkit test");
    assert_string_equal(r.peer.san, "DNS:ntske.test,IP:127.0.0.1");
    assert_true(r.peer.verified);
    assert_true(r.peer.name_match);
    assert_int_equal(r.peer.verify_code, X509_V_OK);
    assert_int_equal(r.peer.chain_len, 2);
    int64_t days = (r.peer.not_after_s - (int64_t)time(NULL)) / 86400;
    assert_true(days == 9 || days == 10);
    assert_true(r.elapsed_ns > 0);
    assert_int_equal(s.phase, 3);
    srv_close(&s);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
}

/* The server writes its response in random small pieces: partial reads accumulate. */
static void partial_reads_property(void **state)
{
    (void)state;
    SSL_CTX *sctx = server_ctx_with(g_cert);
    SSL_CTX *cctx = client(g_ca, false);
    for (int i = 0; i < 6; i++) {
        struct srv s;
        srv_open(&s, sctx, SRV_OK);
        s.chunk = 1 + (size_t)(tu_rand() % 40);
        struct ke_cli_result r;
        exchange(&s, cctx, "127.0.0.1", s.port, 0, &r);
        assert_string_equal(r.why, "");
        assert_int_equal(r.err, 0);
        assert_int_equal(r.resp.n_cookies, 3);
        assert_memory_equal(r.c2s, s.c2s, 32);
        assert_true(r.peer.verified);
        srv_close(&s);
    }
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
}

/* Runs a failing exchange and checks its stage and reason. */
static void expect_fail(SSL_CTX *sctx, enum srv_mode mode, SSL_CTX *cctx, const char *host,
                        int err, const char *stage, const char *why)
{
    struct srv s;
    srv_open(&s, sctx, mode);
    struct ke_cli_result r;
    exchange(&s, cctx, host, s.port, mode == SRV_SILENT ? 200 : 0, &r);
    assert_string_equal(r.why, why);
    assert_int_equal(r.err, err);
    assert_string_equal(r.stage, stage);
    srv_close(&s);
}

static void verify_failures(void **state)
{
    (void)state;
    SSL_CTX *sctx = server_ctx_with(g_cert);
    SSL_CTX *old = server_ctx_with(g_expired);
    SSL_CTX *cctx = client(g_ca, false);
    SSL_CTX *c2 = client(g_ca2, false);
    expect_fail(sctx, SRV_OK, cctx, "other.test", NTK_EAUTH, "tls",
                "certificate verify failed: hostname mismatch");
    /* the certificate refused is still described (which names it carries) */
    struct srv s;
    srv_open(&s, sctx, SRV_OK);
    struct ke_cli_result r;
    exchange(&s, cctx, "other.test", s.port, 0, &r);
    assert_int_equal(r.err, NTK_EAUTH);
    assert_string_equal(r.peer.san, "DNS:ntske.test,IP:127.0.0.1");
    assert_string_equal(r.peer.subject, "CN=ntske.test,O=ntpkit test");
    assert_false(r.peer.name_match);
    assert_false(r.peer.verified);
    assert_int_equal(r.peer.verify_code, X509_V_ERR_HOSTNAME_MISMATCH);
    assert_string_equal(r.peer.verify_error, "hostname mismatch");
    srv_close(&s);
    expect_fail(sctx, SRV_OK, cctx, "127.0.0.2", NTK_EAUTH, "tls",
                "certificate verify failed: IP address mismatch");
    expect_fail(old, SRV_OK, cctx, "ntske.test", NTK_EAUTH, "tls",
                "certificate verify failed: certificate has expired");
    expect_fail(sctx, SRV_OK, c2, "ntske.test", NTK_EAUTH, "tls",
                "certificate verify failed: self-signed certificate in certificate chain");
    SSL_CTX_free(c2);
    SSL_CTX_free(cctx);
    SSL_CTX_free(old);
    SSL_CTX_free(sctx);
}

/* noval: the exchange succeeds, and the result still says what verification found. */
static void noval_reports(void **state)
{
    (void)state;
    SSL_CTX *sctx = server_ctx_with(g_cert);
    SSL_CTX *cctx = client(g_ca2, true);
    struct srv s;
    srv_open(&s, sctx, SRV_OK);
    struct ke_cli_result r;
    exchange(&s, cctx, "other.test", s.port, 0, &r);
    assert_int_equal(r.err, 0);
    assert_false(r.peer.verified);
    assert_false(r.peer.name_match);
    assert_int_equal(r.peer.verify_code, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN);
    assert_string_equal(r.peer.verify_error, "self-signed certificate in certificate chain");
    srv_close(&s);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
}

static void server_errors(void **state)
{
    (void)state;
    SSL_CTX *sctx = server_ctx_with(g_cert);
    SSL_CTX *cctx = client(g_ca, false);
    expect_fail(sctx, SRV_ERROR, cctx, "ntske.test", NTK_EFORMAT, "response",
                "server sent Error: bad request (1)");
    struct srv s;
    srv_open(&s, sctx, SRV_NO_COOKIE);
    struct ke_cli_result r;
    exchange(&s, cctx, "ntske.test", s.port, 0, &r);
    assert_int_equal(r.err, NTK_EFORMAT);
    assert_string_equal(r.stage, "response");
    assert_memory_equal(r.why, "malformed response: ", 20);
    srv_close(&s);
    expect_fail(sctx, SRV_SILENT, cctx, "ntske.test", -ETIMEDOUT, "tls",
                "timed out after 200 ms in tls");
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
}

static void connect_refused(void **state)
{
    (void)state;
    SSL_CTX *cctx = client(g_ca, false);
    struct srv s;
    srv_open(&s, NULL, SRV_OK);
    uint16_t port = s.port;
    srv_close(&s); /* nothing listens there now */
    struct ke_cli_result r;
    exchange(NULL, cctx, "ntske.test", port, 0, &r);
    assert_int_equal(r.err, -ECONNREFUSED);
    assert_string_equal(r.stage, "connect");
    char want[80];
    snprintf(want, sizeof want, "connect to 127.0.0.1:%u: Connection refused", port);
    assert_string_equal(r.why, want);
    SSL_CTX_free(cctx);
}

/* A TLS 1.2-only server, and one that does not select ALPN: the client refuses both. */
static void client_refuses_old_or_no_alpn(void **state)
{
    (void)state;
    SSL_CTX *v12 = SSL_CTX_new(TLS_server_method());
    assert_int_equal(SSL_CTX_set_max_proto_version(v12, TLS1_2_VERSION), 1);
    assert_int_equal(SSL_CTX_use_certificate_chain_file(v12, g_cert), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey_file(v12, g_key, SSL_FILETYPE_PEM), 1);
    SSL_CTX *cctx = client(g_ca, false);
    expect_fail(v12, SRV_OK, cctx, "ntske.test", NTK_EVERSION, "tls",
                "server does not speak TLS 1.3 (tlsv1 alert protocol version)");
    SSL_CTX *noalpn = SSL_CTX_new(TLS_server_method());
    assert_int_equal(SSL_CTX_use_certificate_chain_file(noalpn, g_cert), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey_file(noalpn, g_key, SSL_FILETYPE_PEM), 1);
    expect_fail(noalpn, SRV_OK, cctx, "ntske.test", NTK_EUNSUPP, "alpn",
                "server did not agree on ALPN ntske/1");
    SSL_CTX_free(noalpn);
    SSL_CTX_free(cctx);
    SSL_CTX_free(v12);
}

/* A handshake between two contexts over a socket pair: the client's first error, 0 when
 * it completed; *suite (if not NULL) receives the TLS suite it agreed on. */
static unsigned long raw_handshake_suite(SSL_CTX *cctx, SSL_CTX *sctx, uint16_t *suite)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    SSL *c = SSL_new(cctx);
    SSL *s = SSL_new(sctx);
    SSL_set_fd(c, sv[0]);
    SSL_set_fd(s, sv[1]);
    unsigned long cerr = 0;
    bool cdone = false, sdone = false, sfail = false;
    for (int i = 0; i < 100 && !(cdone && (sdone || sfail)) && cerr == 0; i++) {
        int r = SSL_connect(c);
        if (r == 1)
            cdone = true;
        else if (SSL_get_error(c, r) == SSL_ERROR_SSL)
            cerr = ERR_get_error();
        ERR_clear_error();
        r = SSL_accept(s);
        if (r == 1)
            sdone = true;
        else if (SSL_get_error(s, r) == SSL_ERROR_SSL)
            sfail = true;
        ERR_clear_error();
    }
    if (suite != NULL) {
        const SSL_CIPHER *ci = SSL_get_current_cipher(c);
        *suite = cdone && ci != NULL ? SSL_CIPHER_get_protocol_id(ci) : 0;
    }
    SSL_free(c);
    SSL_free(s);
    close(sv[0]);
    close(sv[1]);
    return cerr;
}

static unsigned long raw_handshake(SSL_CTX *cctx, SSL_CTX *sctx)
{
    return raw_handshake_suite(cctx, sctx, NULL);
}

/* The suite a client offering `offer` (in its order) gets from sctx. */
static uint16_t agreed_suite(SSL_CTX *sctx, const char *offer)
{
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);
    assert_int_equal(SSL_CTX_set_alpn_protos(c, (const unsigned char *)"\x07ntske/1", 8), 0);
    assert_int_equal(SSL_CTX_set_ciphersuites(c, offer), 1);
    uint16_t suite = 0;
    assert_int_equal(raw_handshake_suite(c, sctx, &suite), 0);
    SSL_CTX_free(c);
    return suite;
}

/* The server's order decides: AES-128-GCM by default even when the client would rather
 * have AES-256 (OpenSSL's own client does), ChaCha20 for a client that puts it first, and
 * `nts tlsciphersuites` in the order configured. */
static void server_prefers_its_suites(void **state)
{
    (void)state;
    SSL_CTX *sctx = server_ctx_with(g_cert);
    assert_int_equal(agreed_suite(sctx, "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:"
                                        "TLS_CHACHA20_POLY1305_SHA256"),
                     0x1301);
    assert_int_equal(agreed_suite(sctx, "TLS_AES_256_GCM_SHA384"), 0x1302);
    assert_int_equal(agreed_suite(sctx, "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"),
                     0x1303);
    SSL_CTX_free(sctx);
    struct tls_server_cfg cfg = {
        g_cert, g_key, "", "", "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256", ""};
    char err[256] = "";
    sctx = tls_server_ctx(&cfg, err, sizeof err);
    assert_non_null(sctx);
    assert_int_equal(agreed_suite(sctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384"),
                     0x1302);
    SSL_CTX_free(sctx);
}

/* The server alerts no_application_protocol without ALPN or with another protocol. */
static void server_requires_alpn(void **state)
{
    (void)state;
    SSL_CTX *sctx = server_ctx_with(g_cert);
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);
    unsigned long e = raw_handshake(c, sctx);
    assert_int_equal(ERR_GET_REASON(e), SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL);
    assert_int_equal(SSL_CTX_set_alpn_protos(c, (const unsigned char *)"\x08http/1.1", 9), 0);
    e = raw_handshake(c, sctx);
    assert_int_equal(ERR_GET_REASON(e), SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL);
    assert_int_equal(
        SSL_CTX_set_alpn_protos(c, (const unsigned char *)"\x08http/1.1\x07ntske/1", 17), 0);
    assert_int_equal(raw_handshake(c, sctx), 0);
    /* and a TLS 1.2-only client cannot talk to it at all */
    SSL_CTX_set_max_proto_version(c, TLS1_2_VERSION);
    e = raw_handshake(c, sctx);
    assert_int_equal(ERR_GET_REASON(e), SSL_R_TLSV1_ALERT_PROTOCOL_VERSION);
    SSL_CTX_free(c);
    SSL_CTX_free(sctx);
}

static void server_ctx_errors(void **state)
{
    (void)state;
    char err[256];
    struct tls_server_cfg c = {"/nonexistent/cert.pem", g_key, "", "", "", ""};
    assert_null(tls_server_ctx(&c, err, sizeof err));
    assert_string_equal(err, "nts cert /nonexistent/cert.pem: No such file or directory");
    c.cert = g_cert;
    c.key = g_other_key;
    assert_null(tls_server_ctx(&c, err, sizeof err));
    char want[320];
    snprintf(want, sizeof want, "nts key %s: does not match the certificate %s", g_other_key,
             g_cert);
    assert_string_equal(err, want);
    c.key = g_key;
    c.mintls = "TLS1.2";
    assert_null(tls_server_ctx(&c, err, sizeof err));
    assert_string_equal(err, "nts mintls TLS1.2: NTS needs TLS 1.3");
    c.mintls = "TLS1.3";
    c.maxtls = "TLS9";
    assert_null(tls_server_ctx(&c, err, sizeof err));
    assert_string_equal(err, "nts maxtls TLS9: unknown TLS version (NTS needs TLS1.3)");
    c.maxtls = "TLSv1.3";
    c.ciphers = "NOT_A_SUITE";
    assert_null(tls_server_ctx(&c, err, sizeof err));
    assert_memory_equal(err, "nts tlsciphersuites NOT_A_SUITE: ", 33);
    c.ciphers = "TLS_AES_128_GCM_SHA256";
    c.curves = "X25519:P-256";
    SSL_CTX *ok = tls_server_ctx(&c, err, sizeof err);
    assert_non_null(ok);
    SSL_CTX_free(ok);
    c.curves = "nocurve";
    assert_null(tls_server_ctx(&c, err, sizeof err));
    assert_memory_equal(err, "nts tlsecdhcurves nocurve: ", 27);
    assert_null(tls_client_ctx("/nonexistent/ca.pem", false, err, sizeof err));
    assert_string_equal(err, "CA file /nonexistent/ca.pem: No such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(handshake_ok),
        cmocka_unit_test(partial_reads_property),
        cmocka_unit_test(verify_failures),
        cmocka_unit_test(noval_reports),
        cmocka_unit_test(server_errors),
        cmocka_unit_test(connect_refused),
        cmocka_unit_test(client_refuses_old_or_no_alpn),
        cmocka_unit_test(server_requires_alpn),
        cmocka_unit_test(server_prefers_its_suites),
        cmocka_unit_test(server_ctx_errors),
    };
    return cmocka_run_group_tests(tests, make_pki, drop_pki);
}
