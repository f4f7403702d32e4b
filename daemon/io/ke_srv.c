/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's NTS-KE server: listeners and non-blocking TLS 1.3 sessions on the loop (ke_srv.h). */
#include "ke_srv.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "log.h"
#include "ntk/aead.h"
#include "ntk/err.h"
#include "tls.h"

#include "poison.h"

/* Where a connection is. */
enum stage {
    ST_FREE = 0, /* the slot is unused */
    ST_TLS,      /* TLS handshake */
    ST_READ,     /* reading the request */
    ST_WRITE,    /* sealing the response (or Error) and close_notify (seal_last) */
    ST_FLUSH,    /* sending them (flush) */
};

/* What a step of the state machine says. */
enum step {
    STEP_NEXT = 0, /* moved to the next stage: go on */
    STEP_WAIT,     /* OpenSSL wants the socket (events set): return to the loop */
    STEP_DONE,     /* finished: c->outcome says how */
};

/* How a connection ended (which counter). */
enum outcome {
    OUT_GOOD = 0, /* cookies sent */
    OUT_BAD,      /* TLS up, no cookies */
    OUT_NOSSL,    /* no TLS session */
};

struct conn {
    struct ke_srv *srv;
    enum stage stage;
    enum outcome outcome; /* when the step says STEP_DONE; for ST_WRITE, what it will be */
    int fd;
    SSL *ssl;
    int64_t timer;          /* the deadline's timer id (0: none) */
    int64_t start_mono_ns;  /* accept */
    double cpu_s;           /* CPU seconds spent on it so far */
    bool tls_up;            /* the handshake completed with ALPN ntske/1 */
    uint16_t aead;          /* the AEAD chosen (for the success line) */
    const char *fail_stage; /* where it failed ("" while it has not) */
    char why[256];          /* why, for the log */
    char peer[NTK_ADDRSTR_MAX];
    size_t in_len;
    size_t out_len;
    const uint8_t *wire;        /* the last flight's TLS records, in the SSL's write BIO */
    size_t wire_len, wire_sent; /* their length, and how much is sent */
    uint8_t in[NTK_KE_MSG_MAX];
    uint8_t out[KE_SRV_RESPONSE_MAX];
};

struct ke_srv {
    struct ke_srv_cfg cfg;
    struct loop *loop;
    SSL_CTX *ctx;
    int lfd[KE_SRV_ADDRS_MAX + 1];
    size_t n_lfd;
    uint16_t port;
    int64_t resume_timer; /* listeners paused after EMFILE (0: not paused) */
    struct conn *conns;   /* cfg.max_conns slots */
    int active;
    struct ke_srv_stats st;
    int64_t log_window_ns; /* start of the current second of failure lines */
    int log_lines;         /* lines written in it */
    uint64_t log_suppressed;
    int64_t log_timer; /* flushes the "suppressed" line (0: none pending) */
};

void ke_srv_cfg_default(struct ke_srv_cfg *cfg)
{
    *cfg = (struct ke_srv_cfg){
        .port = NTK_KE_PORT_DEFAULT,
        .timeout_ms = KE_SRV_TIMEOUT_MS,
        .max_conns = KE_SRV_CONNS,
    };
}

/* ---- logging, rate-limited ---- */

static void flush_suppressed(void *ctx, int64_t now_mono_ns)
{
    (void)now_mono_ns;
    struct ke_srv *s = ctx;
    s->log_timer = 0;
    if (s->log_suppressed > 0)
        log_msg(LOG_NOTICE, "NTS-KE: %llu more failure lines suppressed",
                (unsigned long long)s->log_suppressed);
    s->log_suppressed = 0;
}

/* True when one more failure line may be written this second (KE_SRV_LOG_PER_S): a flood of
 * bad handshakes must not flood the log. The count of lines held back is written once the
 * second is over. */
static bool log_allowed(struct ke_srv *s)
{
    int64_t now = loop_now_mono_ns();
    if (now - s->log_window_ns >= 1000000000LL) {
        s->log_window_ns = now;
        s->log_lines = 0;
    }
    if (s->log_lines < KE_SRV_LOG_PER_S) {
        s->log_lines++;
        return true;
    }
    s->log_suppressed++;
    if (s->log_timer == 0) {
        int64_t id = loop_timer(s->loop, s->log_window_ns + 1000000000LL, flush_suppressed, s);
        s->log_timer = id > 0 ? id : 0;
    }
    return false;
}

static void log_end(struct conn *c, double wall_s)
{
    struct ke_srv *s = c->srv;
    if (c->outcome != OUT_GOOD) {
        if (log_allowed(s))
            log_msg(LOG_NOTICE, "NTS-KE: %s: %s failed: %s (%.1f ms)", c->peer, c->fail_stage,
                    c->why, wall_s * 1e3);
        return;
    }
    log_msg(s->cfg.log_success ? LOG_INFO : LOG_DEBUG,
            "NTS-KE: %s: served %d cookies, %s, %s %s, %.1f ms (%.2f ms CPU)", c->peer,
            KE_SRV_COOKIES, ntk_aead_name(c->aead), SSL_get_version(c->ssl),
            SSL_get_cipher_name(c->ssl), wall_s * 1e3, c->cpu_s * 1e3);
}

/* ---- a connection's end ---- */

static double cpu_now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void count_end(struct ke_srv *s, enum outcome o, double wall_s, double cpu_s)
{
    struct ke_srv_stats *st = &s->st;
    if (o == OUT_GOOD) {
        st->good++;
        st->good_wall_s += wall_s;
        st->good_cpu_s += cpu_s;
    } else if (o == OUT_BAD) {
        st->bad++;
        st->bad_wall_s += wall_s;
        st->bad_cpu_s += cpu_s;
    } else {
        st->nossl++;
        st->nossl_wall_s += wall_s;
        st->nossl_cpu_s += cpu_s;
    }
}

/* Frees the slot without counting (ke_srv_free, and the end of finish). */
static void drop(struct conn *c)
{
    struct ke_srv *s = c->srv;
    loop_del_fd(s->loop, c->fd);
    if (c->timer != 0)
        loop_cancel(s->loop, c->timer);
    SSL_free(c->ssl);
    close(c->fd);
    OPENSSL_cleanse(c->in, c->in_len);
    c->stage = ST_FREE;
    c->ssl = NULL;
    c->fd = -1;
    s->active--;
}

static void finish(struct conn *c)
{
    double wall_s = (double)(loop_now_mono_ns() - c->start_mono_ns) * 1e-9;
    count_end(c->srv, c->outcome, wall_s, c->cpu_s);
    log_end(c, wall_s);
    drop(c);
}

/* ---- the state machine ---- */

static enum step fail(struct conn *c, const char *stage, const char *why, enum outcome o)
{
    c->fail_stage = stage;
    snprintf(c->why, sizeof c->why, "%s", why);
    c->outcome = o;
    return STEP_DONE;
}

/* A client that writes its request right after its Finished without TCP_NODELAY (Python,
 * chrony) has Nagle hold the request until we ACK the Finished: a delayed ACK makes that 40
 * ms per exchange. Setting TCP_QUICKACK sends an ACK that is due at once (Linux tcp(7)). */
static void ack_now(int fd)
{
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
}

/* After an OpenSSL call that did not succeed (rc its return): wait for the socket when it
 * asks to, else fail at stage with OpenSSL's reason. */
static enum step ssl_wait_or_fail(struct conn *c, int rc, const char *stage, enum outcome o)
{
    int saved_errno = errno;
    int e = SSL_get_error(c->ssl, rc);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        loop_set_events(c->srv->loop, c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT);
        if (e == SSL_ERROR_WANT_READ)
            ack_now(c->fd);
        return STEP_WAIT;
    }
    char text[200];
    tls_error_text(text, sizeof text);
    char why[256];
    if (e == SSL_ERROR_ZERO_RETURN)
        snprintf(why, sizeof why, "the client closed the TLS session");
    else if (e == SSL_ERROR_SYSCALL && text[0] == '\0')
        snprintf(why, sizeof why, "%s",
                 saved_errno != 0 ? strerror(saved_errno)
                                  : "the client closed the connection");
    else
        snprintf(why, sizeof why, "%s", text[0] != '\0' ? text : "TLS error");
    return fail(c, stage, why, o);
}

static enum step do_handshake(struct conn *c)
{
    errno = 0;
    int rc = SSL_accept(c->ssl);
    if (rc <= 0)
        return ssl_wait_or_fail(c, rc, "TLS handshake", OUT_NOSSL);
    /* tls_server_ctx refuses a client whose ALPN list lacks ntske/1, but a client that sends
     * no ALPN extension at all completes the handshake: RFC 8915 §4 requires the protocol,
     * so it is refused here. */
    const unsigned char *alpn = NULL;
    unsigned alpn_len = 0;
    SSL_get0_alpn_selected(c->ssl, &alpn, &alpn_len);
    if (alpn_len != strlen(NTK_KE_ALPN) || memcmp(alpn, NTK_KE_ALPN, alpn_len) != 0)
        return fail(c, "ALPN", "the client did not negotiate ALPN ntske/1", OUT_NOSSL);
    if (SSL_version(c->ssl) != TLS1_3_VERSION)
        return fail(c, "TLS handshake", "not TLS 1.3", OUT_NOSSL);
    c->tls_up = true;
    c->stage = ST_READ;
    return STEP_NEXT;
}

/* Queues an Error record (RFC 8915 §4.1.3) in place of the response: the connection then
 * ends as "bad" once it is sent. */
static enum step send_error(struct conn *c, enum ntk_ke_error code, const char *stage,
                            const char *why)
{
    int n = ntk_ke_build_error(c->out, sizeof c->out, code);
    if (n < 0)
        return fail(c, stage, why, OUT_BAD);
    c->out_len = (size_t)n;
    c->srv->st.errors_sent++;
    c->fail_stage = stage;
    snprintf(c->why, sizeof c->why, "%s (sent Error: %s)", why, ntk_ke_error_name(code));
    c->outcome = OUT_BAD;
    c->stage = ST_WRITE;
    return STEP_NEXT;
}

static bool aead_allowed(const struct ke_srv_cfg *cfg, uint16_t aead)
{
    if (cfg->n_aeads == 0)
        return ntk_aead_supported(aead);
    for (size_t i = 0; i < cfg->n_aeads; i++)
        if (cfg->aeads[i] == aead)
            return true;
    return false;
}

/* The first of the client's algorithms we support and allow (RFC 8915 §4.1.5: the server
 * honours the client's order), or 0. */
static uint16_t pick_aead(const struct ke_srv_cfg *cfg, const struct ntk_ke_request *req)
{
    for (size_t i = 0; i < req->n_aeads && i < NTK_KE_AEADS_MAX; i++)
        if (ntk_aead_supported(req->aeads[i]) && aead_allowed(cfg, req->aeads[i]))
            return req->aeads[i];
    return 0;
}

/* Exports the keys and makes the cookies into c->out (RFC 8915 §4, §5.1). */
static enum step make_response(struct conn *c, uint16_t aead)
{
    const struct ke_srv_cfg *cfg = &c->srv->cfg;
    size_t key_len = ntk_aead_key_len(aead);
    uint8_t c2s[NTK_AEAD_KEY_MAX], s2c[NTK_AEAD_KEY_MAX];
    if (tls_export_keys(c->ssl, aead, c2s, s2c, key_len) != 0)
        return send_error(c, NTK_KE_ERR_INTERNAL, "key export", "TLS key export failed");
    struct ntk_ke_cookie cookies[KE_SRV_COOKIES];
    int rc = 0;
    for (size_t i = 0; i < KE_SRV_COOKIES && rc == 0; i++)
        rc = cfg->make_cookie(cfg->cookie_ctx, aead, c2s, s2c, key_len, &cookies[i]);
    OPENSSL_cleanse(c2s, sizeof c2s);
    OPENSSL_cleanse(s2c, sizeof s2c);
    if (rc != 0)
        return send_error(c, NTK_KE_ERR_INTERNAL, "cookie", ntk_strerror(rc));
    int n = ntk_ke_build_response(c->out, sizeof c->out, aead, cookies, KE_SRV_COOKIES,
                                  cfg->ntp_server[0] != '\0' ? cfg->ntp_server : NULL,
                                  cfg->ntp_port);
    if (n < 0)
        return send_error(c, NTK_KE_ERR_INTERNAL, "response", ntk_strerror(n));
    c->out_len = (size_t)n;
    c->aead = aead;
    c->outcome = OUT_GOOD;
    c->stage = ST_WRITE;
    return STEP_NEXT;
}

static enum step respond(struct conn *c, size_t msg_len)
{
    struct ntk_ke_request req;
    struct ntk_ke_refusal ref;
    if (ntk_ke_parse_request(c->in, msg_len, &req, &ref) != 0)
        return send_error(c, ref.code, "request", ref.why != NULL ? ref.why : "refused");
    uint16_t aead = pick_aead(&c->srv->cfg, &req);
    if (aead == 0)
        return send_error(c, NTK_KE_ERR_BAD_REQUEST, "AEAD",
                          req.had_aead_record ? "none of the client's AEADs is allowed here"
                                              : "no AEAD record");
    return make_response(c, aead);
}

static enum step do_read(struct conn *c)
{
    for (;;) {
        size_t room = sizeof c->in - c->in_len;
        if (room == 0) /* ntk_ke_scan should have said so already */
            return fail(c, "request", "request over the size limit", OUT_BAD);
        size_t got = 0;
        errno = 0;
        int rc = SSL_read_ex(c->ssl, c->in + c->in_len, room, &got);
        if (rc <= 0)
            return ssl_wait_or_fail(c, rc, "receive", OUT_BAD);
        c->in_len += got;
        size_t msg_len = 0;
        int sc = ntk_ke_scan(c->in, c->in_len, &msg_len);
        if (sc == NTK_KE_SCAN_COMPLETE)
            return respond(c, msg_len);
        if (sc == NTK_ERANGE)
            return fail(c, "request",
                        "request over 16384 bytes or 64 records (closed without an answer)",
                        OUT_BAD);
        if (sc < 0)
            return fail(c, "request", "End of Message with a body (closed without an answer)",
                        OUT_BAD);
    }
}

/* The response and close_notify (RFC 8915 §4: the server closes once it has answered) go
 * out in one write and one TCP segment instead of two: OpenSSL seals both records into a
 * memory BIO and flush() writes them. Measured with perf, a write to a TCP socket costs this
 * server about 7 us, 2 % of a handshake. */
static enum step seal_last(struct conn *c)
{
    BIO *mem = BIO_new(BIO_s_mem());
    if (mem == NULL)
        return fail(c, "send", "out of memory", OUT_BAD);
    SSL_set0_wbio(c->ssl, mem); /* the socket BIO stays the read side */
    size_t done = 0;
    errno = 0;
    int rc = SSL_write_ex(c->ssl, c->out, c->out_len, &done);
    if (rc <= 0)
        return ssl_wait_or_fail(c, rc, "send", OUT_BAD);
    (void)SSL_shutdown(c->ssl); /* close_notify; a failure does not undo the answer */
    ERR_clear_error();
    char *p = NULL;
    long n = BIO_get_mem_data(mem, &p); /* valid until SSL_free: nothing reads the BIO */
    if (n <= 0 || p == NULL)
        return fail(c, "send", "no TLS record made", OUT_BAD);
    c->wire = (const uint8_t *)p;
    c->wire_len = (size_t)n;
    c->wire_sent = 0;
    c->stage = ST_FLUSH;
    return STEP_NEXT;
}

static enum step flush(struct conn *c)
{
    while (c->wire_sent < c->wire_len) {
        ssize_t n = send(c->fd, c->wire + c->wire_sent, c->wire_len - c->wire_sent,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0) {
            c->wire_sent += (size_t)n;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            loop_set_events(c->srv->loop, c->fd, POLLOUT);
            return STEP_WAIT;
        } else if (errno != EINTR) {
            return fail(c, "send", strerror(errno), OUT_BAD);
        }
    }
    return STEP_DONE;
}

static enum step advance(struct conn *c)
{
    ERR_clear_error();
    for (;;) {
        enum step r = STEP_DONE;
        switch (c->stage) {
        case ST_TLS:
            r = do_handshake(c);
            break;
        case ST_READ:
            r = do_read(c);
            break;
        case ST_WRITE:
            r = seal_last(c);
            break;
        case ST_FLUSH:
            r = flush(c);
            break;
        case ST_FREE:
            return STEP_WAIT;
        }
        if (r != STEP_NEXT)
            return r;
    }
}

static void on_conn(void *ctx, int fd)
{
    (void)fd;
    struct conn *c = ctx;
    if (c->stage == ST_FREE)
        return;
    double t0 = cpu_now_s();
    enum step r = advance(c);
    c->cpu_s += cpu_now_s() - t0;
    if (r == STEP_DONE)
        finish(c);
}

static void on_deadline(void *ctx, int64_t now_mono_ns)
{
    (void)now_mono_ns;
    struct conn *c = ctx;
    c->timer = 0;
    if (c->stage == ST_FREE)
        return;
    static const char *const names[] = {"-", "TLS handshake", "receive", "send", "send"};
    char why[96];
    snprintf(why, sizeof why, "timed out after %d ms", c->srv->cfg.timeout_ms);
    c->srv->st.timeouts++;
    fail(c, names[c->stage], why, c->tls_up ? OUT_BAD : OUT_NOSSL);
    finish(c);
}

/* ---- accepting ---- */

static struct conn *free_slot(struct ke_srv *s)
{
    if (s->active >= s->cfg.max_conns)
        return NULL;
    for (int i = 0; i < s->cfg.max_conns; i++)
        if (s->conns[i].stage == ST_FREE)
            return &s->conns[i];
    return NULL;
}

static void refuse(struct ke_srv *s, int fd, const char *peer, const char *why)
{
    close(fd);
    s->st.refused_cap++;
    if (log_allowed(s))
        log_msg(LOG_NOTICE, "NTS-KE: %s: refused: %s", peer, why);
}

static void admit(struct ke_srv *s, int fd, const struct sockaddr_storage *ss, socklen_t sl)
{
    struct ntk_addr peer = {0};
    char text[NTK_ADDRSTR_MAX] = "?";
    if (ntk_addr_from_sockaddr(&peer, (const struct sockaddr *)ss, sl) == 0) {
        ntk_addr_unmap(&peer);
        ntk_addr_format(&peer, text);
    }
    struct conn *c = free_slot(s);
    if (c == NULL) {
        refuse(s, fd, text, "too many NTS-KE connections open");
        return;
    }
    SSL *ssl = SSL_new(s->ctx);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || loop_add_fd(s->loop, fd, on_conn, c) != 0) {
        SSL_free(ssl);
        refuse(s, fd, text, "no room (SSL_new or the loop)");
        return;
    }
    SSL_set_accept_state(ssl);
    int64_t now = loop_now_mono_ns();
    *c = (struct conn){.srv = s,
                       .stage = ST_TLS,
                       .fd = fd,
                       .ssl = ssl,
                       .start_mono_ns = now,
                       .fail_stage = ""};
    memcpy(c->peer, text, sizeof c->peer);
    s->active++;
    int64_t id =
        loop_timer(s->loop, now + (int64_t)s->cfg.timeout_ms * 1000000, on_deadline, c);
    c->timer = id > 0 ? id : 0;
    if (id <= 0) {
        fail(c, "accept", "no timer left", OUT_NOSSL);
        finish(c);
        return;
    }
    on_conn(c, fd); /* the ClientHello may be there already */
}

static void set_listeners(struct ke_srv *s, short events)
{
    for (size_t i = 0; i < s->n_lfd; i++)
        loop_set_events(s->loop, s->lfd[i], events);
}

static void resume_listeners(void *ctx, int64_t now_mono_ns)
{
    (void)now_mono_ns;
    struct ke_srv *s = ctx;
    s->resume_timer = 0;
    set_listeners(s, POLLIN);
}

static void on_listen(void *ctx, int lfd)
{
    struct ke_srv *s = ctx;
    for (int i = 0; i < 1024; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            admit(s, fd, &ss, sl);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        s->st.accept_errors++;
        if (log_allowed(s))
            log_msg(LOG_ERR, "NTS-KE: accept: %s", strerror(errno));
        /* Out of descriptors: the listener stays readable, so pause it for a while rather
         * than spin. */
        if ((errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) &&
            s->resume_timer == 0) {
            set_listeners(s, 0);
            int64_t id =
                loop_timer(s->loop, loop_now_mono_ns() + 100000000, resume_listeners, s);
            s->resume_timer = id > 0 ? id : 0;
        }
        return;
    }
}

/* ---- set-up ---- */

static int open_listener(const struct ntk_addr *addr, uint16_t port, char *err, size_t cap)
{
    struct ntk_addr a = *addr;
    a.port = port;
    char text[NTK_ADDRSTR_MAX];
    ntk_addr_format(&a, text);
    struct sockaddr_storage ss;
    size_t sl = 0;
    if (ntk_addr_to_sockaddr(&a, &ss, &sl) != 0) {
        snprintf(err, cap, "NTS-KE: %s: not a usable address", text);
        return -EINVAL;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        int e = errno;
        snprintf(err, cap, "NTS-KE: socket for %s: %s", text, strerror(e));
        return -e;
    }
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ss.ss_family == AF_INET6)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    /* The handshake is a few small writes in a row: without TCP_NODELAY, Nagle's algorithm
     * and the client's delayed ACK add 40 ms to every exchange. Set on the listener, which
     * every accepted socket inherits (Linux: measured), rather than a system call per
     * connection. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)&ss, (socklen_t)sl) != 0 || listen(fd, 128) != 0) {
        int e = errno;
        snprintf(err, cap, "NTS-KE: bind %s (TCP): %s", text, strerror(e));
        close(fd);
        return -e;
    }
    return fd;
}

static uint16_t bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    struct ntk_addr a;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 ||
        ntk_addr_from_sockaddr(&a, (const struct sockaddr *)&ss, sl) != 0)
        return 0;
    return a.port;
}

/* Opens every listener; the wildcards when none is configured (IPv6 may be missing). */
static int open_listeners(struct ke_srv *s, char *err, size_t cap)
{
    struct ntk_addr wild[2] = {{.family = NTK_ADDR_V4}, {.family = NTK_ADDR_V6}};
    const struct ntk_addr *list = s->cfg.n_addrs > 0 ? s->cfg.addrs : wild;
    size_t n = s->cfg.n_addrs > 0 ? s->cfg.n_addrs : 2;
    s->port = s->cfg.port;
    for (size_t i = 0; i < n; i++) {
        int fd = open_listener(&list[i], s->port, err, cap);
        if ((fd == -EAFNOSUPPORT || fd == -EADDRNOTAVAIL) && s->cfg.n_addrs == 0 && i == 1)
            continue; /* no IPv6 here: the IPv4 wildcard is enough */
        if (fd < 0)
            return -1;
        s->lfd[s->n_lfd++] = fd;
        if (s->port == 0)
            s->port = bound_port(fd);
        if (loop_add_fd(s->loop, fd, on_listen, s) != 0) {
            snprintf(err, cap, "NTS-KE: no room in the loop for the listener");
            return -1;
        }
    }
    return 0;
}

static bool cfg_ok(const struct ke_srv_cfg *cfg, SSL_CTX *ctx, char *err, size_t cap)
{
    const char *why = NULL;
    if (cfg->make_cookie == NULL)
        why = "no cookie function";
    else if (ctx == NULL)
        why = "no TLS context";
    else if (cfg->n_addrs > KE_SRV_ADDRS_MAX || cfg->n_aeads > NTK_KE_AEADS_MAX)
        why = "too many addresses or AEADs";
    else if (cfg->max_conns < 1 || cfg->max_conns > KE_SRV_CONNS_MAX)
        why = "connection cap out of range";
    else if (cfg->timeout_ms < 1)
        why = "timeout out of range";
    if (why != NULL)
        snprintf(err, cap, "NTS-KE: %s", why);
    return why == NULL;
}

struct ke_srv *ke_srv_new(const struct ke_srv_cfg *cfg, SSL_CTX *ctx, struct loop *l,
                          char *err, size_t cap)
{
    if (!cfg_ok(cfg, ctx, err, cap))
        return NULL;
    struct ke_srv *s = calloc(1, sizeof *s);
    if (s == NULL || (s->conns = calloc((size_t)cfg->max_conns, sizeof *s->conns)) == NULL) {
        free(s);
        snprintf(err, cap, "NTS-KE: out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    s->cfg.ntp_server[NTK_KE_SERVER_MAX] = '\0';
    s->loop = l;
    for (int i = 0; i < cfg->max_conns; i++)
        s->conns[i].fd = -1;
    SSL_CTX_up_ref(ctx);
    s->ctx = ctx;
    if (open_listeners(s, err, cap) != 0) {
        ke_srv_free(s);
        return NULL;
    }
    return s;
}

void ke_srv_free(struct ke_srv *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < s->cfg.max_conns; i++)
        if (s->conns[i].stage != ST_FREE)
            drop(&s->conns[i]);
    for (size_t i = 0; i < s->n_lfd; i++) {
        loop_del_fd(s->loop, s->lfd[i]);
        close(s->lfd[i]);
    }
    if (s->resume_timer != 0)
        loop_cancel(s->loop, s->resume_timer);
    if (s->log_timer != 0)
        loop_cancel(s->loop, s->log_timer);
    SSL_CTX_free(s->ctx);
    free(s->conns);
    free(s);
}

void ke_srv_set_ctx(struct ke_srv *s, SSL_CTX *ctx)
{
    if (ctx == NULL || ctx == s->ctx)
        return;
    /* Open connections hold their own reference (SSL_new takes one). */
    SSL_CTX_up_ref(ctx);
    SSL_CTX_free(s->ctx);
    s->ctx = ctx;
}

uint16_t ke_srv_port(const struct ke_srv *s)
{
    return s->port;
}

size_t ke_srv_listeners(const struct ke_srv *s)
{
    return s->n_lfd;
}

int ke_srv_active(const struct ke_srv *s)
{
    return s->active;
}

const struct ke_srv_stats *ke_srv_stats(const struct ke_srv *s)
{
    return &s->st;
}
