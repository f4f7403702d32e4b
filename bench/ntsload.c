/* SPDX-License-Identifier: BSD-2-Clause */
/* ntsload: an NTS (RFC 8915) server load generator: NTS-KE handshakes with C sessions at
 * once (--ke), or, after one NTS-KE, a window of NTS-protected NTP requests in flight from
 * a pre-built ring, every reply checked for origin and Unique Identifier and a sample of
 * them authenticated; prints rates, p50/p99 latency and failures. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "ke_cli.h"
#include "tls.h"

#include "ntk/aead.h"
#include "ntk/ef.h"
#include "ntk/err.h"
#include "ntk/nts_ef.h"
#include "ntk/nts_ke.h"
#include "ntk/sntp.h"

#include "poison.h"

#define NTP_HDR   48
#define BATCH     64
#define MAX_SOCKS 64
#define MAX_CONC  1000
#define RING_MAX  65536 /* the ring index rides in the low 16 bits of the transmit time */
#define RX_LEN    NTK_NTS_PKT_MAX
#define HIST_NS   100 /* histogram resolution */
#define HIST_N                                                                                \
    (200 * 1000 * 1000 / HIST_NS) /* up to 200 ms; slower results land in the last */

struct opts {
    struct sockaddr_in srv; /* NTS-KE server address (and the NTP server's) */
    uint16_t ke_port;       /* -k: NTS-KE port (4460) */
    uint16_t ntp_port;      /* -p: NTP port; 0 = what NTS-KE negotiated (123 without) */
    char host[256];         /* -H: name the certificate must match (default: the address) */
    const char *ca;         /* -C: CA file; NULL = the system store */
    bool noval;             /* -N: do not verify the certificate */
    bool ke_mode;           /* --ke: measure NTS-KE handshakes */
    bool ke_full;           /* --ke-full: with ke_cli (certificate checked, peer info) */
    unsigned conc;          /* -c: NTS-KE sessions at once (--ke) */
    double duration_s;      /* -d: sending time */
    unsigned window;        /* -w: NTP requests in flight at most */
    unsigned socks;         /* -s: UDP sockets (source ports) */
    unsigned timeout_ms;    /* -t: an NTP request unanswered this long is lost */
    double rate;            /* -r: requests (or handshakes) per second at most, 0 = no limit */
    unsigned ring;          /* -R: pre-built requests */
    unsigned verify_every; /* -v: check the Authenticator of 1 reply in this many (0: never) */
    bool verify_set;       /* -v was given */
    unsigned fake_cookie;  /* -X: no NTS-KE; random keys and cookies this long (for an echo
                              server, the ceiling; implies -v 0 unless -v is given) */
    unsigned placeholders; /* -P: Cookie Placeholders per request */
    bool json;             /* -j: one JSON object */
};

struct lat {
    uint32_t *hist;
    uint64_t n, min_ns, max_ns, sum_ns;
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* This process's user + system CPU time in seconds. */
static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void lat_record(struct lat *l, int64_t ns)
{
    uint64_t v = ns < 0 ? 0 : (uint64_t)ns, i = v / HIST_NS;
    l->hist[i < HIST_N ? i : HIST_N - 1]++;
    l->sum_ns += v;
    if (l->n == 0 || v < l->min_ns)
        l->min_ns = v;
    if (v > l->max_ns)
        l->max_ns = v;
    l->n++;
}

static double lat_pct(const struct lat *l, double q)
{
    if (l->n == 0)
        return 0;
    uint64_t want = (uint64_t)((double)l->n * q), acc = 0;
    for (uint64_t i = 0; i < HIST_N; i++) {
        acc += l->hist[i];
        if (acc > want)
            return (double)(i * HIST_NS + HIST_NS / 2) / 1000.0;
    }
    return (double)HIST_N * HIST_NS / 1000.0;
}

static void usage(FILE *f)
{
    fputs("usage: ntsload [--ke] [-j] [-a ADDR] [-k KE_PORT] [-p NTP_PORT] [-H NAME] [-C CA]\n"
          "               [-N] [-c SESSIONS] [-d SECONDS] [-w WINDOW] [-s SOCKETS]\n"
          "               [-t TIMEOUT_MS] [-r RATE] [-R RING] [-v N] [-P PLACEHOLDERS] [-X "
          "LEN]\n"
          "  --ke  measure NTS-KE handshakes (-c at once) instead of NTS-protected NTP, with\n"
          "        a lean client (no certificate check: the server's work is the same)\n"
          "  --ke-full  the same with ntpd's KE client (ke_cli: certificate checked with -C)\n"
          "  -a server address (127.0.0.1)     -k NTS-KE port (4460)\n"
          "  -p NTP port (default: as NTS-KE negotiated, else 123)\n"
          "  -H name the certificate must match (default: the address)\n"
          "  -C CA file (default: the system store)   -N no certificate verification\n"
          "  -c NTS-KE sessions at once (8)    -d seconds of sending (5)\n"
          "  -w NTP requests in flight (64)    -s UDP sockets / source ports (4)\n"
          "  -t loss timeout in ms (200)       -r requests or handshakes/s at most (0: no "
          "limit)\n"
          "  -R pre-built requests (4096)      -v authenticate 1 reply in N (64)\n"
          "  -P cookie placeholders per request (0)   -j JSON output\n"
          "  -X LEN  no NTS-KE: random keys and cookies of LEN bytes, no Authenticator\n"
          "          check (against bench/ntsecho, the ceiling)\n",
          f);
}

static bool parse_num(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi))
        return false;
    *out = v;
    return true;
}

static bool parse_u(const char *s, double lo, double hi, unsigned *out)
{
    double v;
    if (!parse_num(s, lo, hi, &v))
        return false;
    *out = (unsigned)v;
    return true;
}

static int parse_opt(struct opts *o, int c, const char *arg)
{
    unsigned u = 0;
    switch (c) {
    case 'K':
        o->ke_mode = true;
        return 0;
    case 'F':
        o->ke_mode = o->ke_full = true;
        return 0;
    case 'j':
        o->json = true;
        return 0;
    case 'N':
        o->noval = true;
        return 0;
    case 'a':
        return inet_pton(AF_INET, arg, &o->srv.sin_addr) == 1 ? 0 : -1;
    case 'k':
    case 'p':
        if (!parse_u(arg, 1, 65535, &u))
            return -1;
        *(c == 'k' ? &o->ke_port : &o->ntp_port) = (uint16_t)u;
        return 0;
    case 'H':
        if (strlen(arg) >= sizeof o->host)
            return -1;
        memcpy(o->host, arg, strlen(arg) + 1);
        return 0;
    case 'C':
        o->ca = arg;
        return 0;
    case 'c':
        return parse_u(arg, 1, MAX_CONC, &o->conc) ? 0 : -1;
    case 'd':
        return parse_num(arg, 0.01, 86400, &o->duration_s) ? 0 : -1;
    case 'w':
        return parse_u(arg, 1, RING_MAX, &o->window) ? 0 : -1;
    case 's':
        return parse_u(arg, 1, MAX_SOCKS, &o->socks) ? 0 : -1;
    case 't':
        return parse_u(arg, 1, 60000, &o->timeout_ms) ? 0 : -1;
    case 'r':
        return parse_num(arg, 0, 1e9, &o->rate) ? 0 : -1;
    case 'R':
        return parse_u(arg, 1, RING_MAX, &o->ring) ? 0 : -1;
    case 'v':
        o->verify_set = true;
        return parse_u(arg, 0, 1e9, &o->verify_every) ? 0 : -1;
    case 'X':
        return parse_u(arg, 4, NTK_KE_COOKIE_MAX, &o->fake_cookie) ? 0 : -1;
    case 'P':
        return parse_u(arg, 0, NTK_NTS_PLACEHOLDERS_MAX, &o->placeholders) ? 0 : -1;
    default:
        return -1;
    }
}

static int parse_args(struct opts *o, int argc, char **argv)
{
    *o = (struct opts){.ke_port = NTK_KE_PORT_DEFAULT,
                       .conc = 8,
                       .duration_s = 5,
                       .window = 64,
                       .socks = 4,
                       .timeout_ms = 200,
                       .ring = 4096,
                       .verify_every = 64};
    o->srv.sin_family = AF_INET;
    o->srv.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    static const struct option longs[] = {{"ke", no_argument, NULL, 'K'},
                                          {"ke-full", no_argument, NULL, 'F'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "ja:k:p:H:C:Nc:d:w:s:t:r:R:v:P:X:h", longs, NULL)) !=
           -1) {
        if (c == 'h') {
            usage(stdout);
            exit(0);
        }
        if (parse_opt(o, c, optarg) < 0) {
            usage(stderr);
            return -1;
        }
    }
    if (o->host[0] == '\0')
        inet_ntop(AF_INET, &o->srv.sin_addr, o->host, sizeof o->host);
    if (o->ring < o->window)
        o->ring = o->window;
    if (o->fake_cookie > 0 && !o->verify_set)
        o->verify_every = 0;
    return optind == argc ? 0 : -1;
}

static void ke_cfg(const struct opts *o, struct ke_cli_cfg *cfg)
{
    *cfg = (struct ke_cli_cfg){.n_aeads = 1, .timeout_ms = 5000};
    cfg->aeads[0] = NTK_AEAD_AES_SIV_CMAC_256;
    memcpy(cfg->host, o->host, sizeof cfg->host);
    uint8_t ip[4];
    memcpy(ip, &o->srv.sin_addr, 4);
    ntk_addr_set_v4(&cfg->addr, ip, o->ke_port);
}

static SSL_CTX *client_ctx(const struct opts *o)
{
    char err[256] = "";
    SSL_CTX *ctx = tls_client_ctx(o->ca, o->noval, err, sizeof err);
    if (ctx == NULL)
        fprintf(stderr, "ntsload: TLS context: %s\n", err);
    return ctx;
}

/* ---- --ke: NTS-KE handshakes ---- */

/* The lean client: TLS 1.3 and ALPN as ke_cli, no certificate verification (no trust store:
 * OpenSSL's chain check fails at once and is ignored), no peer information, the same
 * request, the response parsed and the keys exported. */
static SSL_CTX *raw_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)"\x07ntske/1", 8) != 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    return ctx;
}

enum raw_state { R_CONNECT, R_TLS, R_SEND, R_RECV, R_DONE };

struct raw {
    int fd;
    SSL *ssl;
    enum raw_state st;
    short events;
    int64_t start_ns;
    int err;          /* 0 = keys and cookies obtained */
    const char *why;  /* static reason of a failure */
    size_t n_cookies; /* cookies received */
    size_t sent, have;
    uint8_t buf[NTK_KE_MSG_MAX];
};

static uint8_t g_ke_req[64];
static size_t g_ke_req_len;

static void raw_end(struct raw *r, int err, const char *why)
{
    r->err = err;
    r->why = why;
    r->st = R_DONE;
    ERR_clear_error();
}

static struct raw *raw_start(SSL_CTX *ctx, const struct ke_cli_cfg *cfg, int *err)
{
    struct raw *r = malloc(sizeof *r);
    struct sockaddr_storage ss;
    size_t sl = 0;
    if (r == NULL || ntk_addr_to_sockaddr(&cfg->addr, &ss, &sl) != 0) {
        free(r);
        *err = -ENOMEM;
        return NULL;
    }
    r->st = R_CONNECT;
    r->events = POLLOUT;
    r->err = 0;
    r->sent = r->have = r->n_cookies = 0;
    r->ssl = SSL_new(ctx);
    r->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (r->ssl == NULL || r->fd < 0 ||
        setsockopt(r->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
        SSL_set_fd(r->ssl, r->fd) != 1) {
        *err = NTK_ECRYPTO;
        SSL_free(r->ssl);
        if (r->fd >= 0)
            close(r->fd);
        free(r);
        return NULL;
    }
    SSL_set_connect_state(r->ssl);
    if (connect(r->fd, (const struct sockaddr *)&ss, (socklen_t)sl) != 0 &&
        errno != EINPROGRESS)
        raw_end(r, -errno, "connect");
    return r;
}

/* After an OpenSSL call returned n: true when it only waits (events set). */
static bool raw_want(struct raw *r, int n)
{
    int e = SSL_get_error(r->ssl, n);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
        return false;
    r->events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
    return true;
}

static void raw_connect(struct raw *r)
{
    int e = 0;
    socklen_t el = sizeof e;
    if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0 || e != 0) {
        raw_end(r, -(e ? e : errno), "connect");
        return;
    }
    struct sockaddr_storage peer;
    socklen_t pl = sizeof peer;
    if (getpeername(r->fd, (struct sockaddr *)&peer, &pl) == 0)
        r->st = R_TLS; /* else still connecting: wait for POLLOUT */
}

static void raw_tls(struct raw *r)
{
    int n = SSL_do_handshake(r->ssl);
    if (n != 1) {
        if (!raw_want(r, n))
            raw_end(r, NTK_ECRYPTO, "TLS handshake failed");
        return;
    }
    const unsigned char *alpn = NULL;
    unsigned alen = 0;
    SSL_get0_alpn_selected(r->ssl, &alpn, &alen);
    if (alen != 7 || memcmp(alpn, "ntske/1", 7) != 0) {
        raw_end(r, NTK_EUNSUPP, "no ALPN ntske/1");
        return;
    }
    r->st = R_SEND;
}

static void raw_send(struct raw *r)
{
    int n = SSL_write(r->ssl, g_ke_req + r->sent, (int)(g_ke_req_len - r->sent));
    if (n <= 0) {
        if (!raw_want(r, n))
            raw_end(r, NTK_ECRYPTO, "send failed");
        return;
    }
    r->sent += (size_t)n;
    if (r->sent == g_ke_req_len) {
        r->st = R_RECV;
        r->events = POLLIN;
    }
}

/* A whole response: parsed, cookies counted, keys exported (as a client must). */
static void raw_complete(struct raw *r, size_t len)
{
    static struct ntk_ke_response resp;
    const char *why = NULL;
    uint16_t aead = NTK_AEAD_AES_SIV_CMAC_256;
    uint8_t c2s[NTK_AEAD_KEY_MAX], s2c[NTK_AEAD_KEY_MAX];
    if (ntk_ke_parse_response(r->buf, len, &aead, 1, &resp, &why) != 0 || resp.error) {
        raw_end(r, NTK_EFORMAT, why != NULL ? why : "server sent Error");
        return;
    }
    if (tls_export_keys(r->ssl, resp.aead, c2s, s2c, ntk_aead_key_len(resp.aead)) != 0) {
        raw_end(r, NTK_ECRYPTO, "key export failed");
        return;
    }
    r->n_cookies = resp.n_cookies;
    (void)SSL_shutdown(r->ssl);
    raw_end(r, resp.n_cookies > 0 ? 0 : NTK_EFORMAT, "no cookies");
}

static void raw_recv(struct raw *r)
{
    for (;;) {
        size_t msg_len = 0;
        int s = ntk_ke_scan(r->buf, r->have, &msg_len);
        if (s == NTK_KE_SCAN_COMPLETE) {
            raw_complete(r, msg_len);
            return;
        }
        if (s < 0 || r->have == sizeof r->buf) {
            raw_end(r, NTK_EFORMAT, "malformed response");
            return;
        }
        int n = SSL_read(r->ssl, r->buf + r->have, (int)(sizeof r->buf - r->have));
        if (n <= 0) {
            if (!raw_want(r, n))
                raw_end(r, NTK_ETRUNC, "connection closed before End of Message");
            return;
        }
        r->have += (size_t)n;
    }
}

static bool raw_step(struct raw *r)
{
    enum raw_state before;
    do {
        before = r->st;
        switch (r->st) {
        case R_CONNECT:
            raw_connect(r);
            break;
        case R_TLS:
            raw_tls(r);
            break;
        case R_SEND:
            raw_send(r);
            break;
        case R_RECV:
            raw_recv(r);
            break;
        case R_DONE:
            break;
        }
    } while (r->st != before);
    return r->st == R_DONE;
}

static void raw_free(struct raw *r)
{
    if (r == NULL)
        return;
    close(r->fd);
    SSL_free(r->ssl);
    free(r);
}

/* One session of either client. */
struct ses {
    struct ke_cli *full;
    struct raw *raw;
    int64_t start_ns, deadline_ns;
};

struct ke_stats {
    uint64_t started, ok, failed, cookies;
    struct lat lat;
    char first_why[300];
};

static bool ses_busy(const struct ses *s)
{
    return s->full != NULL || s->raw != NULL;
}

static int ses_fd(const struct ses *s)
{
    return s->full ? ke_cli_fd(s->full) : s->raw ? s->raw->fd : -1;
}

static short ses_events(const struct ses *s)
{
    return s->full ? ke_cli_events(s->full) : s->raw ? s->raw->events : 0;
}

static void ses_fail(struct ke_stats *st, const char *stage, const char *why)
{
    if (st->failed++ == 0)
        snprintf(st->first_why, sizeof st->first_why, "%s: %s", stage, why);
}

/* Counts a finished session and frees it. */
static void ses_done(struct ke_stats *st, struct ses *s, int64_t now)
{
    if (s->full != NULL) {
        const struct ke_cli_result *r = ke_cli_result(s->full);
        if (r->err == 0 && r->resp.n_cookies > 0) {
            st->ok++;
            st->cookies += r->resp.n_cookies;
            lat_record(&st->lat, r->elapsed_ns);
        } else {
            ses_fail(st, r->stage, r->why);
        }
        ke_cli_free(s->full);
    } else {
        if (s->raw->err == 0) {
            st->ok++;
            st->cookies += s->raw->n_cookies;
            lat_record(&st->lat, now - s->start_ns);
        } else {
            ses_fail(st, "raw", s->raw->why);
        }
        raw_free(s->raw);
    }
    *s = (struct ses){0};
}

/* Advances a session; true when it has ended (counted and freed). */
static bool ses_step(struct ke_stats *st, struct ses *s, int64_t now)
{
    bool done;
    if (s->full != NULL) {
        done = ke_cli_step(s->full, now);
    } else {
        done = raw_step(s->raw);
        if (!done && now >= s->deadline_ns)
            raw_end(s->raw, -ETIMEDOUT, "timed out");
        done = s->raw->st == R_DONE;
    }
    if (done)
        ses_done(st, s, now);
    return done;
}

struct ke_run {
    const struct opts *o;
    SSL_CTX *ctx;
    struct ke_cli_cfg cfg;
    struct ses *ses;
    struct ke_stats st;
};

/* Starts sessions in the empty slots (as the rate allows). Each gets a fresh clock reading:
 * a session may also end in its first step (the whole handshake, when the server answers
 * before the client reads). */
static void ke_fill(struct ke_run *k, int64_t t0)
{
    for (unsigned i = 0; i < k->o->conc; i++) {
        struct ses *s = &k->ses[i];
        if (ses_busy(s))
            continue;
        int64_t now = mono_ns();
        if (k->o->rate > 0 && (double)k->st.started >= k->o->rate * (double)(now - t0) / 1e9)
            return;
        int err = 0;
        s->start_ns = now;
        s->deadline_ns = now + (int64_t)KE_CLI_TIMEOUT_MS * 1000000;
        if (k->o->ke_full)
            s->full = ke_cli_start(k->ctx, &k->cfg, now, &err);
        else
            s->raw = raw_start(k->ctx, &k->cfg, &err);
        k->st.started++;
        if (!ses_busy(s))
            ses_fail(&k->st, "start", ntk_strerror(err));
        else
            (void)ses_step(&k->st, s, mono_ns());
    }
}

/* One poll round over the sessions; steps the ready and the expired ones. */
static void ke_poll(struct ke_run *k, int ms)
{
    static struct pollfd p[MAX_CONC];
    unsigned n = k->o->conc;
    for (unsigned i = 0; i < n; i++)
        p[i] = (struct pollfd){.fd = ses_fd(&k->ses[i]), .events = ses_events(&k->ses[i])};
    poll(p, n, ms);
    int64_t now = mono_ns();
    for (unsigned i = 0; i < n; i++) {
        struct ses *s = &k->ses[i];
        if (ses_busy(s) && (p[i].revents != 0 || now >= s->deadline_ns))
            (void)ses_step(&k->st, s, now);
    }
}

#define KE_REPORT_ARGS                                                                        \
    secs, o->conc, st->ok, (double)st->ok / secs, st->failed, st->cookies,                    \
        lat_pct(&st->lat, 0.5) / 1e3, lat_pct(&st->lat, 0.99) / 1e3,                          \
        st->lat.n ? (double)st->lat.sum_ns / (double)st->lat.n / 1e6 : 0,                     \
        (double)st->lat.max_ns / 1e6, gen

static void ke_report(const struct opts *o, const struct ke_stats *st, double secs, double gen)
{
    if (o->json)
        printf("{\"duration_s\": %.3f, \"sessions\": %u, \"handshakes\": %" PRIu64
               ", \"handshakes_per_s\": %.1f, \"failed\": %" PRIu64 ", \"cookies\": %" PRIu64
               ", \"p50_ms\": %.3f, \"p99_ms\": %.3f, \"mean_ms\": %.3f, \"max_ms\": %.3f, "
               "\"gen_cpu_pct\": %.1f}\n",
               KE_REPORT_ARGS);
    else
        printf("duration_s %.3f sessions %u handshakes %" PRIu64
               " handshakes_per_s %.1f failed %" PRIu64 " cookies %" PRIu64
               " p50_ms %.3f p99_ms %.3f mean_ms %.3f max_ms %.3f gen_cpu_pct %.1f\n",
               KE_REPORT_ARGS);
    if (st->failed > 0)
        fprintf(stderr, "ntsload: %" PRIu64 " NTS-KE failures, the first: %s\n", st->failed,
                st->first_why);
}

static bool ke_any_busy(const struct ke_run *k)
{
    for (unsigned i = 0; i < k->o->conc; i++)
        if (ses_busy(&k->ses[i]))
            return true;
    return false;
}

static int run_ke(const struct opts *o)
{
    static struct ke_run k;
    k.o = o;
    k.ctx = o->ke_full ? client_ctx(o) : raw_ctx();
    k.st.lat.hist = calloc(HIST_N, sizeof *k.st.lat.hist);
    k.ses = calloc(o->conc, sizeof *k.ses);
    int n = ntk_ke_build_request(g_ke_req, sizeof g_ke_req,
                                 (const uint16_t[]){NTK_AEAD_AES_SIV_CMAC_256}, 1, NULL, 0);
    if (k.ctx == NULL || k.st.lat.hist == NULL || k.ses == NULL || n < 0)
        return 1;
    g_ke_req_len = (size_t)n;
    ke_cfg(o, &k.cfg);
    double c0 = cpu_s();
    int64_t t0 = mono_ns(), end = t0 + (int64_t)(o->duration_s * 1e9), now = t0;
    while (now < end) {
        ke_fill(&k, t0);
        ke_poll(&k, o->rate > 0 ? 1 : 10);
        now = mono_ns();
    }
    while (ke_any_busy(&k)) /* drain: each session is bounded by its deadline */
        ke_poll(&k, 10);
    now = mono_ns();
    double secs = (double)(now - t0) / 1e9;
    ke_report(o, &k.st, secs, (cpu_s() - c0) / secs * 100);
    free(k.ses);
    free(k.st.lat.hist);
    SSL_CTX_free(k.ctx);
    return k.st.ok > 0 ? 0 : 1;
}

/* ---- default: NTS-protected NTP ---- */

/* One pre-built request. */
struct req {
    uint8_t *pkt;    /* the datagram */
    uint16_t len;    /* its length */
    bool busy;       /* in flight */
    uint64_t xmt;    /* its transmit timestamp: the reply's origin (index in the low bits) */
    int64_t sent_ns; /* CLOCK_MONOTONIC at send */
    uint8_t uid[NTK_NTS_UID_LEN];
};

struct ntp_stats {
    uint64_t sent, replies, lost, kod, nak, late, bad, bad_uid, verified, auth_fail, unsync;
};

struct gen {
    const struct opts *o;
    struct sockaddr_in dst; /* the NTP server */
    int fd[MAX_SOCKS];
    struct req *ring;
    unsigned *fifo; /* free ring indices, oldest first, so a request is reused late */
    unsigned head, nfree;
    unsigned inflight;
    struct ntk_aead_key *s2c;
    struct ntk_ke_cookie cookie0; /* for the report */
    struct ntp_stats st;
    struct lat lat;
};

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* Builds ring entry i: a fresh transmit nonce carrying i, a fresh UID, cookie i mod n. */
static int build_req(struct gen *g, unsigned i, const struct ke_cli_result *r,
                     struct ntk_aead_key *c2s, uint8_t *mem)
{
    struct req *q = &g->ring[i];
    uint8_t rnd[8], nonce[NTK_AEAD_NONCE_LEN];
    if (getrandom(rnd, 6, 0) != 6 || getrandom(q->uid, sizeof q->uid, 0) != sizeof q->uid ||
        getrandom(nonce, sizeof nonce, 0) != sizeof nonce)
        return -1;
    rnd[0] |= 1; /* never all zero */
    rnd[6] = (uint8_t)(i >> 8);
    rnd[7] = (uint8_t)i;
    struct ntk_sntp_query sq;
    q->pkt = mem;
    if (ntk_sntp_request(&sq, rnd, NULL, 0, q->pkt, NTK_NTS_PKT_MAX) != NTP_HDR)
        return -1;
    int n = ntk_nts_build_request(q->pkt, NTK_NTS_PKT_MAX, NTP_HDR, q->uid,
                                  &r->resp.cookies[i % r->resp.n_cookies], g->o->placeholders,
                                  c2s, nonce);
    if (n < 0)
        return -1;
    q->len = (uint16_t)n;
    q->xmt = get_u64(rnd);
    g->fifo[i] = i;
    return 0;
}

static int open_socks(struct gen *g)
{
    for (unsigned i = 0; i < g->o->socks; i++) {
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            perror("ntsload: socket");
            return -1;
        }
        int buf = 4 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
        struct sockaddr_in me = {.sin_family = AF_INET};
        me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
            perror("ntsload: bind");
            close(fd);
            return -1;
        }
        g->fd[i] = fd;
    }
    return 0;
}

static int setup_ring(struct gen *g, const struct opts *o, struct ke_cli_result *rp);

/* NTS-KE once (or -X: made-up keys and cookies), then setup_ring. */
static int setup_ntp(struct gen *g, const struct opts *o)
{
    static struct ke_cli_result r;
    if (o->fake_cookie > 0) {
        r.aead = NTK_AEAD_AES_SIV_CMAC_256;
        r.key_len = 32;
        r.resp.n_cookies = NTK_KE_COOKIES_MAX;
        for (size_t i = 0; i < r.resp.n_cookies; i++) {
            r.resp.cookies[i].len = (uint16_t)o->fake_cookie;
            if (getrandom(r.resp.cookies[i].b, o->fake_cookie, 0) != (ssize_t)o->fake_cookie)
                return -1;
        }
        if (getrandom(r.c2s, 32, 0) != 32 || getrandom(r.s2c, 32, 0) != 32)
            return -1;
        return setup_ring(g, o, &r);
    }
    SSL_CTX *ctx = client_ctx(o);
    struct ke_cli_cfg cfg;
    ke_cfg(o, &cfg);
    if (ctx == NULL || ke_cli_run(ctx, &cfg, &r) != 0 || r.resp.n_cookies == 0) {
        fprintf(stderr, "ntsload: NTS-KE with %s port %u failed in %s: %s\n", o->host,
                (unsigned)o->ke_port, r.stage ? r.stage : "start", r.why);
        SSL_CTX_free(ctx);
        return -1;
    }
    SSL_CTX_free(ctx);
    return setup_ring(g, o, &r);
}

/* The NTS keys and the request ring from a KE result (wiped afterwards); the sockets. */
static int setup_ring(struct gen *g, const struct opts *o, struct ke_cli_result *rp)
{
    struct ke_cli_result r = *rp;
    g->dst = o->srv;
    g->dst.sin_port = htons(o->ntp_port ? o->ntp_port : r.resp.port ? r.resp.port : 123);
    g->cookie0 = r.resp.cookies[0];
    struct ntk_aead_key *c2s = NULL;
    if (ntk_aead_key_init(&c2s, r.aead, r.c2s, r.key_len) != 0 ||
        ntk_aead_key_init(&g->s2c, r.aead, r.s2c, r.key_len) != 0)
        return -1;
    g->ring = calloc(o->ring, sizeof *g->ring);
    g->fifo = calloc(o->ring, sizeof *g->fifo);
    uint8_t *mem = calloc(o->ring, NTK_NTS_PKT_MAX);
    g->lat.hist = calloc(HIST_N, sizeof *g->lat.hist);
    if (g->ring == NULL || g->fifo == NULL || mem == NULL || g->lat.hist == NULL)
        return -1;
    for (unsigned i = 0; i < o->ring; i++) {
        if (build_req(g, i, &r, c2s, mem + (size_t)i * NTK_NTS_PKT_MAX) < 0) {
            fputs("ntsload: cannot build an NTS request\n", stderr);
            return -1;
        }
    }
    g->nfree = o->ring;
    ntk_aead_key_free(c2s);
    OPENSSL_cleanse(&r, sizeof r);
    OPENSSL_cleanse(rp, sizeof *rp);
    return open_socks(g);
}

static unsigned take_free(struct gen *g)
{
    unsigned i = g->fifo[g->head];
    g->head = (g->head + 1) % g->o->ring;
    g->nfree--;
    return i;
}

static void put_free(struct gen *g, unsigned i)
{
    g->ring[i].busy = false;
    g->fifo[(g->head + g->nfree) % g->o->ring] = i;
    g->nfree++;
    g->inflight--;
}

/* Sends up to n requests in batches over the sockets in turn; returns how many went. */
static unsigned send_some(struct gen *g, unsigned n, int64_t now)
{
    static struct mmsghdr m[BATCH];
    static struct iovec iov[BATCH];
    static unsigned idx[BATCH];
    unsigned done = 0;
    while (done < n) {
        unsigned k = 0;
        while (k < BATCH && done + k < n) {
            unsigned i = take_free(g);
            struct req *q = &g->ring[i];
            q->busy = true;
            q->sent_ns = now;
            g->inflight++;
            idx[k] = i;
            iov[k] = (struct iovec){.iov_base = q->pkt, .iov_len = q->len};
            m[k].msg_hdr = (struct msghdr){.msg_name = &g->dst,
                                           .msg_namelen = sizeof g->dst,
                                           .msg_iov = &iov[k],
                                           .msg_iovlen = 1};
            k++;
        }
        int r = sendmmsg(g->fd[g->st.sent % g->o->socks], m, k, 0);
        unsigned sent = r < 0 ? 0 : (unsigned)r;
        for (unsigned j = sent; j < k; j++) /* not sent: free again */
            put_free(g, idx[j]);
        g->st.sent += sent;
        done += sent;
        if (sent < k) {
            if (r < 0 && errno != EAGAIN && errno != ENOBUFS && errno != EINTR)
                perror("ntsload: sendmmsg");
            break;
        }
    }
    return done;
}

/* True when the Unique Identifier field of the reply p[0..len) is uid. */
static bool uid_matches(const uint8_t *p, size_t len, const uint8_t *uid)
{
    size_t off = NTP_HDR;
    while (off + 4 <= len) {
        unsigned type = (unsigned)p[off] << 8 | p[off + 1];
        size_t flen = (size_t)p[off + 2] << 8 | p[off + 3];
        if (flen < 4 || off + flen > len)
            return false;
        if (type == NTK_EF_NTS_UID)
            return flen - 4 == NTK_NTS_UID_LEN && memcmp(p + off + 4, uid, flen - 4) == 0;
        off += flen;
    }
    return false;
}

/* Checks one reply: from the server, mode 4, origin a request in flight, its UID; every
 * verify_every-th one also has its Authenticator (and its new cookies) checked. */
static void take_reply(struct gen *g, const uint8_t *p, size_t len,
                       const struct sockaddr_in *from, int64_t now)
{
    if (len < NTP_HDR || (p[0] & 7) != 4 || from->sin_port != g->dst.sin_port ||
        from->sin_addr.s_addr != g->dst.sin_addr.s_addr) {
        g->st.bad++;
        return;
    }
    uint64_t origin = get_u64(p + 24);
    unsigned i = (unsigned)(origin & 0xffff);
    if (i >= g->o->ring || !g->ring[i].busy || g->ring[i].xmt != origin) {
        g->st.late++; /* after its timeout, a duplicate, or foreign */
        return;
    }
    struct req *q = &g->ring[i];
    if (!uid_matches(p, len, q->uid)) {
        g->st.bad_uid++;
    } else if (p[1] == 0) {
        if (memcmp(p + 12, "NTSN", 4) == 0)
            g->st.nak++; /* RFC 8915 §5.7: the cookie was refused */
        else
            g->st.kod++;
    } else {
        lat_record(&g->lat, now - q->sent_ns);
        g->st.replies++;
        g->st.unsync += (p[0] >> 6) == 3 || p[1] > 15;
        if (g->o->verify_every == 1 ||
            (g->o->verify_every > 1 && g->st.replies % g->o->verify_every == 1)) {
            struct ntk_nts_reply out;
            enum ntk_nts_verdict v = ntk_nts_check_reply(p, len, q->uid, false, g->s2c, &out);
            if (v == NTK_NTS_OK && out.n_cookies == 1 + g->o->placeholders)
                g->st.verified++;
            else
                g->st.auth_fail++;
        }
    }
    put_free(g, i);
}

/* Reads what is queued on every socket without blocking; returns the count of datagrams. */
static unsigned recv_some(struct gen *g)
{
    static uint8_t pkt[BATCH][RX_LEN];
    static struct sockaddr_in from[BATCH];
    static struct iovec iov[BATCH];
    static struct mmsghdr m[BATCH];
    unsigned total = 0;
    for (unsigned f = 0; f < g->o->socks; f++) {
        for (unsigned i = 0; i < BATCH; i++) {
            iov[i] = (struct iovec){.iov_base = pkt[i], .iov_len = sizeof pkt[i]};
            m[i].msg_hdr = (struct msghdr){.msg_name = &from[i],
                                           .msg_namelen = sizeof from[i],
                                           .msg_iov = &iov[i],
                                           .msg_iovlen = 1};
        }
        int r = recvmmsg(g->fd[f], m, BATCH, MSG_DONTWAIT, NULL);
        int64_t now = mono_ns();
        for (int i = 0; i < r; i++)
            take_reply(g, pkt[i], m[i].msg_len, &from[i], now);
        total += r > 0 ? (unsigned)r : 0;
    }
    return total;
}

/* Requests in flight longer than the timeout are lost; their entries are reused. */
static void expire(struct gen *g, int64_t now, int64_t timeout_ns)
{
    for (unsigned i = 0; i < g->o->ring; i++) {
        if (g->ring[i].busy && now - g->ring[i].sent_ns > timeout_ns) {
            put_free(g, i);
            g->st.lost++;
        }
    }
}

static void wait_readable(struct gen *g, int ms)
{
    struct pollfd p[MAX_SOCKS];
    for (unsigned i = 0; i < g->o->socks; i++)
        p[i] = (struct pollfd){.fd = g->fd[i], .events = POLLIN};
    poll(p, g->o->socks, ms);
}

/* How many requests the window and the rate allow now. */
static unsigned allowance(const struct gen *g, int64_t now, int64_t t0)
{
    unsigned room = g->o->window - g->inflight;
    if (g->o->rate <= 0)
        return room;
    double due = g->o->rate * (double)(now - t0) / 1e9 - (double)g->st.sent;
    return due < 1 ? 0 : due > room ? room : (unsigned)due;
}

static void run_ntp_loop(struct gen *g, int64_t *elapsed_ns)
{
    int64_t t0 = mono_ns(), timeout = (int64_t)g->o->timeout_ms * 1000000;
    int64_t end = t0 + (int64_t)(g->o->duration_s * 1e9), last_expire = t0, now = t0;
    while (now < end) {
        unsigned sent = send_some(g, allowance(g, now, t0), now);
        unsigned got = recv_some(g);
        now = mono_ns();
        if (now - last_expire > 1000000) {
            expire(g, now, timeout);
            last_expire = now;
        }
        if (sent == 0 && got == 0)
            wait_readable(g, g->o->rate > 0 ? 0 : 1);
    }
    *elapsed_ns = now - t0;
    while (g->inflight > 0 && now - end <= timeout) {
        if (recv_some(g) == 0)
            wait_readable(g, 1);
        now = mono_ns();
    }
    expire(g, INT64_MAX, 0);
}

#define NTP_REPORT_ARGS                                                                       \
    secs, o->window, o->socks, o->ring, (unsigned)g.cookie0.len, (unsigned)g.ring[0].len,     \
        s->sent, s->replies, (double)s->replies / secs, s->lost, s->kod, s->nak, s->late,     \
        s->bad, s->bad_uid, s->verified, s->auth_fail, s->unsync, lat_pct(&g.lat, 0.5),       \
        lat_pct(&g.lat, 0.99), g.lat.n ? (double)g.lat.sum_ns / (double)g.lat.n / 1000.0 : 0, \
        (double)g.lat.min_ns / 1000.0, (double)g.lat.max_ns / 1000.0, gen

static int run_ntp(const struct opts *o)
{
    static struct gen g;
    g.o = o;
    if (setup_ntp(&g, o) < 0)
        return 1;
    int64_t elapsed;
    double c0 = cpu_s();
    run_ntp_loop(&g, &elapsed);
    const struct ntp_stats *s = &g.st;
    double secs = (double)elapsed / 1e9, gen = (cpu_s() - c0) / secs * 100;
    if (o->json)
        printf("{\"duration_s\": %.3f, \"window\": %u, \"sockets\": %u, \"ring\": %u, "
               "\"cookie_len\": %u, \"req_len\": %u, \"sent\": %" PRIu64
               ", \"replies\": %" PRIu64 ", \"replies_per_s\": %.0f, \"lost\": %" PRIu64
               ", \"kod\": %" PRIu64 ", \"nak\": %" PRIu64 ", \"late\": %" PRIu64
               ", \"bad\": %" PRIu64 ", \"bad_uid\": %" PRIu64 ", \"verified\": %" PRIu64
               ", \"auth_fail\": %" PRIu64 ", \"unsync\": %" PRIu64
               ", \"p50_us\": %.1f, \"p99_us\": %.1f, \"mean_us\": %.1f, \"min_us\": %.1f, "
               "\"max_us\": %.1f, \"gen_cpu_pct\": %.1f}\n",
               NTP_REPORT_ARGS);
    else
        printf("duration_s %.3f window %u sockets %u ring %u cookie_len %u req_len %u sent "
               "%" PRIu64 " replies %" PRIu64 " replies_per_s %.0f lost %" PRIu64
               " kod %" PRIu64 " nak %" PRIu64 " late %" PRIu64 " bad %" PRIu64
               " bad_uid %" PRIu64 " verified %" PRIu64 " auth_fail %" PRIu64
               " unsync %" PRIu64
               " p50_us %.1f p99_us %.1f mean_us %.1f min_us %.1f max_us %.1f gen_cpu_pct "
               "%.1f\n",
               NTP_REPORT_ARGS);
    return s->replies > 0 && s->auth_fail == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct opts o;
    if (parse_args(&o, argc, argv) < 0)
        return 2;
    return o.ke_mode ? run_ke(&o) : run_ntp(&o);
}
