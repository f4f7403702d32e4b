/* SPDX-License-Identifier: BSD-2-Clause */
/* The NTS-KE client session (RFC 8915 §4) over a non-blocking socket (see ke_cli.h). */
#include "ke_cli.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "ntk/err.h"
#include "ntk/sb.h"

#include "poison.h"

/* Where a session is. */
enum state { ST_CONNECT, ST_TLS, ST_SEND, ST_RECV, ST_DONE };

struct ke_cli {
    int fd;
    SSL *ssl;
    enum state st;
    short events;
    int64_t start_ns;
    int64_t deadline_ns;
    int timeout_ms;
    struct ke_cli_cfg cfg;
    uint8_t req[512]; /* the request, built at start */
    size_t req_len;
    size_t sent;
    uint8_t buf[NTK_KE_MSG_MAX]; /* the response so far */
    size_t have;
    struct ke_cli_result res;
};

static const char *const STAGE[] = {"connect", "tls", "send", "receive", "done"};

/* Ends the session with err, the stage and a formatted reason. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void
finish(struct ke_cli *k, int64_t now_ns, int err, const char *fmt, ...)
{
    k->res.err = err;
    k->res.elapsed_ns = now_ns - k->start_ns;
    if (err != 0) {
        struct ntk_sb sb;
        ntk_sb_init(&sb, k->res.why, sizeof k->res.why);
        va_list ap;
        va_start(ap, fmt);
        ntk_sb_vprintf(&sb, fmt, ap);
        va_end(ap);
    }
    if (k->ssl != NULL && k->st >= ST_SEND)
        (void)SSL_shutdown(k->ssl); /* best effort: one close_notify, no waiting */
    ERR_clear_error();
    if (k->fd >= 0)
        close(k->fd);
    k->fd = -1;
    k->st = ST_DONE;
    k->events = 0;
}

/* Sets the stage name for st (kept when the session fails later in a sub-step). */
static void enter(struct ke_cli *k, enum state st, const char *stage)
{
    k->st = st;
    k->res.stage = stage != NULL ? stage : STAGE[st];
}

struct ke_cli *ke_cli_start(SSL_CTX *ctx, const struct ke_cli_cfg *cfg, int64_t now_mono_ns,
                            int *err)
{
    struct ke_cli *k = calloc(1, sizeof *k);
    if (k == NULL) {
        *err = -ENOMEM;
        return NULL;
    }
    k->cfg = *cfg;
    k->cfg.host[sizeof k->cfg.host - 1] = '\0';
    if (k->cfg.n_aeads == 0 || k->cfg.n_aeads > NTK_KE_AEADS_MAX) {
        k->cfg.aeads[0] = NTK_AEAD_AES_SIV_CMAC_256;
        k->cfg.n_aeads = 1;
    }
    if (k->cfg.addr.port == 0)
        k->cfg.addr.port = NTK_KE_PORT_DEFAULT;
    if (k->cfg.host[0] == '\0') {
        char a[NTK_ADDRSTR_MAX];
        struct ntk_addr ip = k->cfg.addr;
        ip.port = 0;
        struct ntk_sb sb;
        ntk_sb_init(&sb, k->cfg.host, sizeof k->cfg.host);
        ntk_sb_puts(&sb, ntk_addr_format(&ip, a));
    }
    k->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : KE_CLI_TIMEOUT_MS;
    k->start_ns = now_mono_ns;
    k->deadline_ns = now_mono_ns + (int64_t)k->timeout_ms * 1000000;
    k->fd = -1;
    int n = ntk_ke_build_request(k->req, sizeof k->req, k->cfg.aeads, k->cfg.n_aeads, NULL, 0);
    struct sockaddr_storage ss;
    size_t sl = 0;
    int e = n < 0 ? n : ntk_addr_to_sockaddr(&k->cfg.addr, &ss, &sl);
    if (e != 0) {
        free(k);
        *err = e;
        return NULL;
    }
    k->req_len = (size_t)n;
    k->ssl = SSL_new(ctx);
    k->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (k->ssl == NULL || k->fd < 0) {
        *err = k->ssl == NULL ? NTK_ECRYPTO : -errno;
        ke_cli_free(k);
        return NULL;
    }
    /* Without this, the request (a small write right after the client's Finished) waits for
     * the server's delayed ACK: Nagle cost ~40 ms per exchange with chronyd. */
    int one = 1;
    (void)setsockopt(k->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    enter(k, ST_CONNECT, NULL);
    k->events = POLLOUT;
    if (connect(k->fd, (const struct sockaddr *)&ss, (socklen_t)sl) != 0 &&
        errno != EINPROGRESS) {
        e = errno;
        char a[NTK_ADDRSTR_MAX];
        finish(k, now_mono_ns, -e, "connect to %s: %s", ntk_addr_format(&k->cfg.addr, a),
               strerror(e));
        k->deadline_ns = now_mono_ns; /* already over: a loop steps it at once */
    }
    return k;
}

/* Checks whether the connect has completed; moves on to TLS when it has. */
static void step_connect(struct ke_cli *k, int64_t now)
{
    int e = 0;
    socklen_t el = sizeof e;
    if (getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0)
        e = errno;
    if (e == 0) {
        struct sockaddr_storage peer;
        socklen_t pl = sizeof peer;
        if (getpeername(k->fd, (struct sockaddr *)&peer, &pl) != 0)
            return; /* still connecting (woken by the deadline or spuriously) */
    }
    if (e != 0) {
        char a[NTK_ADDRSTR_MAX];
        finish(k, now, -e, "connect to %s: %s", ntk_addr_format(&k->cfg.addr, a), strerror(e));
        return;
    }
    if (SSL_set_fd(k->ssl, k->fd) != 1 || tls_client_expect(k->ssl, k->cfg.host) != 0) {
        finish(k, now, NTK_EINVAL, "TLS set-up for %s refused", k->cfg.host);
        return;
    }
    SSL_set_connect_state(k->ssl);
    enter(k, ST_TLS, NULL);
}

/* Sets the poll events after an OpenSSL call returned r; true when it only has to wait. */
static bool want(struct ke_cli *k, int r)
{
    int e = SSL_get_error(k->ssl, r);
    if (e == SSL_ERROR_WANT_READ)
        k->events = POLLIN;
    else if (e == SSL_ERROR_WANT_WRITE)
        k->events = POLLOUT;
    else
        return false;
    return true;
}

/* True when OpenSSL's queue says the server refused TLS 1.3 (it speaks an older version). */
static bool is_version_refusal(unsigned long e)
{
    int r = ERR_GET_REASON(e);
    return r == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION || r == SSL_R_UNSUPPORTED_PROTOCOL ||
           r == SSL_R_WRONG_SSL_VERSION || r == SSL_R_UNKNOWN_PROTOCOL ||
           r == SSL_R_WRONG_VERSION_NUMBER;
}

/* Why a handshake failed, in one line. */
static void fail_tls(struct ke_cli *k, int64_t now, int r)
{
    int e = SSL_get_error(k->ssl, r);
    int sys = errno;
    tls_peer_info(k->ssl, &k->res.peer);
    long v = SSL_get_verify_result(k->ssl);
    unsigned long first = ERR_peek_error();
    char ebuf[200];
    if (v != X509_V_OK && ERR_GET_REASON(first) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        ERR_clear_error();
        finish(k, now, NTK_EAUTH, "certificate verify failed: %s",
               X509_verify_cert_error_string(v));
    } else if (first != 0 && is_version_refusal(first)) {
        finish(k, now, NTK_EVERSION, "server does not speak TLS 1.3 (%s)",
               tls_error_text(ebuf, sizeof ebuf));
    } else if (e == SSL_ERROR_SSL) {
        finish(k, now, NTK_ECRYPTO, "TLS handshake failed: %s",
               tls_error_text(ebuf, sizeof ebuf));
    } else if (e == SSL_ERROR_SYSCALL && sys != 0) {
        finish(k, now, -sys, "TLS handshake: %s", strerror(sys));
    } else {
        finish(k, now, NTK_ETRUNC, "server closed the connection during the TLS handshake");
    }
}

/* Drives the handshake; checks ALPN once it is done. */
static void step_tls(struct ke_cli *k, int64_t now)
{
    ERR_clear_error();
    errno = 0;
    int r = SSL_connect(k->ssl);
    if (r != 1) {
        if (!want(k, r))
            fail_tls(k, now, r);
        return;
    }
    tls_peer_info(k->ssl, &k->res.peer);
    if (strcmp(k->res.peer.version, "TLSv1.3") != 0) {
        k->res.stage = "tls";
        finish(k, now, NTK_EVERSION, "server negotiated %s, NTS needs TLSv1.3",
               k->res.peer.version);
        return;
    }
    if (strcmp(k->res.peer.alpn, NTK_KE_ALPN) != 0) {
        k->res.stage = "alpn";
        finish(k, now, NTK_EUNSUPP, "server did not agree on ALPN %s%s%s", NTK_KE_ALPN,
               k->res.peer.alpn[0] ? ": it chose " : "", k->res.peer.alpn);
        return;
    }
    enter(k, ST_SEND, NULL);
    k->events = POLLOUT;
}

/* Reports an SSL_read / SSL_write failure. */
static void fail_io(struct ke_cli *k, int64_t now, int r, const char *what)
{
    int e = SSL_get_error(k->ssl, r);
    int sys = errno;
    char ebuf[200];
    if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && sys == 0))
        finish(k, now, NTK_ETRUNC,
               "server closed the connection before End of Message (%zu bytes received)",
               k->have);
    else if (e == SSL_ERROR_SYSCALL)
        finish(k, now, -sys, "%s: %s", what, strerror(sys));
    else
        finish(k, now, NTK_ECRYPTO, "%s: %s", what, tls_error_text(ebuf, sizeof ebuf));
}

/* Writes the rest of the request (OpenSSL retries need the same arguments, which these are).
 */
static void step_send(struct ke_cli *k, int64_t now)
{
    ERR_clear_error();
    errno = 0;
    int r = SSL_write(k->ssl, k->req + k->sent, (int)(k->req_len - k->sent));
    if (r <= 0) {
        if (!want(k, r))
            fail_io(k, now, r, "send");
        return;
    }
    k->sent += (size_t)r;
    if (k->sent == k->req_len) {
        enter(k, ST_RECV, NULL);
        k->events = POLLIN;
    }
}

/* Parses a complete response and exports the keys. */
static void complete(struct ke_cli *k, int64_t now, size_t len)
{
    const char *why = NULL;
    struct ntk_ke_response *resp = &k->res.resp;
    k->res.stage = "response";
    int e = ntk_ke_parse_response(k->buf, len, k->cfg.aeads, k->cfg.n_aeads, resp, &why);
    if (resp->error) {
        finish(k, now, NTK_EFORMAT, "server sent Error: %s (%u)",
               ntk_ke_error_name(resp->error_code), (unsigned)resp->error_code);
        return;
    }
    if (resp->warning) {
        finish(k, now, NTK_EFORMAT, "server sent Warning %u (unknown: refused)",
               (unsigned)resp->warning_code);
        return;
    }
    if (e != 0) {
        finish(k, now, e, "malformed response: %s", why != NULL ? why : ntk_strerror(e));
        return;
    }
    k->res.aead = resp->aead;
    k->res.key_len = ntk_aead_key_len(resp->aead);
    k->res.stage = "export";
    if (k->res.key_len == 0 ||
        tls_export_keys(k->ssl, resp->aead, k->res.c2s, k->res.s2c, k->res.key_len) != 0) {
        finish(k, now, NTK_ECRYPTO, "key export for AEAD %u failed", (unsigned)resp->aead);
        return;
    }
    k->res.stage = "done";
    k->res.why[0] = '\0';
    finish(k, now, 0, "%s", "");
}

/* Reads what is there; delimits the message with ntk_ke_scan. */
static void step_recv(struct ke_cli *k, int64_t now)
{
    for (;;) {
        size_t msg_len = 0;
        int s = ntk_ke_scan(k->buf, k->have, &msg_len);
        if (s == NTK_KE_SCAN_COMPLETE) {
            complete(k, now, msg_len);
            return;
        }
        if (s < 0 || k->have == sizeof k->buf) {
            k->res.stage = "response";
            finish(k, now, s < 0 ? s : NTK_ERANGE, "malformed response: %s",
                   s == NTK_EFORMAT ? "End of Message with a body"
                                    : "message longer than 16384 bytes or 64 records");
            return;
        }
        ERR_clear_error();
        errno = 0;
        int r = SSL_read(k->ssl, k->buf + k->have, (int)(sizeof k->buf - k->have));
        if (r <= 0) {
            if (!want(k, r))
                fail_io(k, now, r, "receive");
            return;
        }
        k->have += (size_t)r;
    }
}

bool ke_cli_step(struct ke_cli *k, int64_t now_mono_ns)
{
    enum state before;
    do {
        before = k->st;
        if (k->st == ST_DONE)
            return true;
        switch (k->st) {
        case ST_CONNECT:
            step_connect(k, now_mono_ns);
            break;
        case ST_TLS:
            step_tls(k, now_mono_ns);
            break;
        case ST_SEND:
            step_send(k, now_mono_ns);
            break;
        case ST_RECV:
            step_recv(k, now_mono_ns);
            break;
        case ST_DONE:
            break;
        }
    } while (k->st != before);
    if (k->st != ST_DONE && now_mono_ns >= k->deadline_ns)
        finish(k, now_mono_ns, -ETIMEDOUT, "timed out after %d ms in %s", k->timeout_ms,
               k->res.stage);
    return k->st == ST_DONE;
}

int ke_cli_fd(const struct ke_cli *k)
{
    return k->fd;
}

short ke_cli_events(const struct ke_cli *k)
{
    return k->events;
}

int64_t ke_cli_deadline(const struct ke_cli *k)
{
    return k->deadline_ns;
}

const struct ke_cli_result *ke_cli_result(const struct ke_cli *k)
{
    return &k->res;
}

void ke_cli_free(struct ke_cli *k)
{
    if (k == NULL)
        return;
    if (k->fd >= 0)
        close(k->fd);
    SSL_free(k->ssl);
    OPENSSL_cleanse(k, sizeof *k);
    free(k);
}

/* CLOCK_MONOTONIC in ns. */
static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int ke_cli_run(SSL_CTX *ctx, const struct ke_cli_cfg *cfg, struct ke_cli_result *out)
{
    int err = 0;
    struct ke_cli *k = ke_cli_start(ctx, cfg, mono_ns(), &err);
    if (k == NULL) {
        memset(out, 0, sizeof *out);
        out->err = err;
        out->stage = "connect";
        struct ntk_sb sb;
        ntk_sb_init(&sb, out->why, sizeof out->why);
        /* enum ntk_err is -1..-11; the errno values socket() returns are all larger. */
        ntk_sb_printf(&sb, "cannot start: %s",
                      err >= NTK_EINVAL ? ntk_strerror(err) : strerror(-err));
        return err;
    }
    int64_t now = mono_ns();
    while (!ke_cli_step(k, now)) {
        int64_t left_ms = (ke_cli_deadline(k) - now + 999999) / 1000000;
        struct pollfd p = {.fd = ke_cli_fd(k), .events = ke_cli_events(k)};
        int r = poll(&p, 1, left_ms > 0 ? (int)left_ms : 0);
        if (r < 0 && errno != EINTR) {
            int e = errno;
            ke_cli_free(k);
            memset(out, 0, sizeof *out);
            out->err = -e;
            out->stage = "connect";
            return out->err;
        }
        now = mono_ns();
    }
    *out = *ke_cli_result(k);
    ke_cli_free(k);
    return out->err;
}
