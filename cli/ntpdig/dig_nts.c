/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpdig --nts: NTS-KE (RFC 8915 §4) with the server, then one NTS-protected SNTP exchange
 * (RFC 8915 §5) with the NTP server it names, and the diagnosis of both. */
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cli_log.h"
#include "dig.h"
#include "ntk/aead.h"
#include "ntk/err.h"
#include "ntk/nts_ef.h"
#include "ntk/ntime.h"

#include "poison.h"

/* The state of the one NTS exchange. */
struct nts_exch {
    const struct dig_opts *o;
    const struct ntk_clk_ops *clk;
    struct dig_nts *n;
    struct dig_result *r;
    struct ntk_aead_key *c2s, *s2c;
    struct ntk_sntp_query q;
    uint8_t uid[NTK_NTS_UID_LEN];
    int fd;
};

static double now_s(const struct ntk_clk_ops *clk, struct timespec *t)
{
    if (clk->now(clk->ctx, t) != 0)
        clock_gettime(CLOCK_REALTIME, t);
    return (double)t->tv_sec + (double)t->tv_nsec * 1e-9;
}

/* Copies text into a fixed array, truncating. */
static void set_text(char *dst, size_t cap, const char *src)
{
    struct ntk_sb sb;
    ntk_sb_init(&sb, dst, cap);
    ntk_sb_puts(&sb, src);
}

/* Resolves host to its first address for port; false after failing r. */
static bool resolve_one(const struct dig_opts *o, const char *host, uint16_t port,
                        struct cli_target *t, struct dig_result *r)
{
    struct cli_target all[DIG_MAX_ADDRS];
    int k = cli_resolve(host, port, o->family, all, DIG_MAX_ADDRS);
    if (k <= 0) {
        dig_fail(r, "lookup_failed", "lookup of %s failed: %s", host, gai_strerror(k));
        cli_err("%s", r->message);
        return false;
    }
    *t = all[0];
    return true;
}

/* NTS-KE with the host; false after failing r. */
static bool key_exchange(const struct dig_opts *o, struct dig_nts *n, struct dig_result *r)
{
    struct cli_target t;
    if (!resolve_one(o, n->ke_host, n->ke_port, &t, r))
        return false;
    set_text(n->ke_ip, sizeof n->ke_ip, t.ip);
    struct ke_cli_cfg cfg = {.n_aeads = 1, .timeout_ms = (int)ceil(o->timeout_s * 1000)};
    set_text(cfg.host, sizeof cfg.host, n->ke_host);
    cfg.aeads[0] = o->nts_aead != 0 ? o->nts_aead : NTK_AEAD_AES_SIV_CMAC_256;
    if (ntk_addr_from_sockaddr(&cfg.addr, (const struct sockaddr *)&t.ss, t.len) != 0) {
        dig_fail(r, "nts_ke", "NTS-KE: unusable address %s", t.ip);
        return false;
    }
    char err[256];
    SSL_CTX *ctx = tls_client_ctx(o->nts_ca, o->nts_noval, err, sizeof err);
    if (ctx == NULL) {
        dig_fail(r, "nts_ke", "NTS-KE: %s", err);
        return false;
    }
    ke_cli_run(ctx, &cfg, &n->ke);
    SSL_CTX_free(ctx);
    n->ke_tried = true;
    if (n->ke.err != 0) {
        dig_fail(r, "nts_ke", "NTS-KE with %s port %u failed in %s: %s", t.ip,
                 (unsigned)n->ke_port, n->ke.stage, n->ke.why);
        return false;
    }
    if (o->nts_noval)
        cli_err("warning: %s: server certificate NOT verified (--nts-noval)%s%s", n->ke_host,
                n->ke.peer.verify_error[0] ? ": " : "", n->ke.peer.verify_error);
    return true;
}

/* Builds and sends the NTS request; false after failing r. */
static bool send_request(struct nts_exch *x, const struct cli_target *t)
{
    const struct dig_opts *o = x->o;
    struct cli_target bind_to;
    if (o->bindaddr != NULL && !cli_parse_bind(o->bindaddr, &bind_to)) {
        dig_fail(x->r, "send_failed", "-I %s: not a numeric local address", o->bindaddr);
        return false;
    }
    uint8_t rnd[8], nonce[NTK_AEAD_NONCE_LEN], buf[NTK_NTS_PKT_MAX];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd ||
        getrandom(x->uid, sizeof x->uid, 0) != (ssize_t)sizeof x->uid ||
        getrandom(nonce, sizeof nonce, 0) != (ssize_t)sizeof nonce) {
        dig_fail(x->r, "send_failed", "getrandom failed: %s", strerror(errno));
        return false;
    }
    int len = ntk_sntp_request(&x->q, rnd, NULL, 0, buf, sizeof buf);
    if (len > 0)
        len = ntk_nts_build_request(buf, sizeof buf, (size_t)len, x->uid,
                                    &x->n->ke.resp.cookies[0], 0, x->c2s, nonce);
    if (len < 0) {
        dig_fail(x->r, "send_failed", "cannot build the NTS request: %s", ntk_strerror(len));
        return false;
    }
    x->n->request_len = (size_t)len;
    x->q.local_precision_log2 = ntk_clk_precision_log2(x->clk);
    x->fd = cli_udp_open(t->ss.ss_family, o->bindaddr != NULL ? &bind_to : NULL);
    if (x->fd < 0) {
        dig_fail(x->r, "send_failed", "cannot open a socket: %s", strerror(-x->fd));
        return false;
    }
    struct timespec t1;
    now_s(x->clk, &t1);
    x->q.t1 = ntk_ts_from_timespec(&t1);
    if (connect(x->fd, (const struct sockaddr *)&t->ss, t->len) != 0 ||
        send(x->fd, buf, (size_t)len, 0) != len) {
        dig_fail(x->r, "send_failed", "send failed: %s", strerror(errno));
        return false;
    }
    cli_dbg(1, "%s (%s): sent %d-byte NTS request", x->r->host, t->ip, len);
    return true;
}

/* Judges one datagram that passed the origin test. Returns true when the exchange is over
 * (a datagram carrying another UID is not ours: RFC 8915 §5.7, keep waiting). */
static bool judge(struct nts_exch *x, const uint8_t *buf, size_t len, enum ntk_sntp_verdict v,
                  struct ntk_sntp_sample *s)
{
    struct dig_result *r = x->r;
    bool is_ntsn = v == NTK_SNTP_KOD && strcmp(s->kiss_code, "NTSN") == 0;
    struct ntk_nts_reply rep;
    enum ntk_nts_verdict nv = ntk_nts_check_reply(buf, len, x->uid, is_ntsn, x->s2c, &rep);
    if (nv == NTK_NTS_BAD_UID) {
        cli_dbg(1, "%s: ignored a reply with another Unique Identifier", r->target.ip);
        return false;
    }
    x->n->nts_verdict = ntk_nts_verdict_name(nv);
    r->replied = true;
    r->s = *s;
    r->s.authenticated = nv == NTK_NTS_OK;
    r->verdict = v;
    if (nv == NTK_NTS_NAK) {
        r->verdict = NTK_SNTP_KOD;
        dig_fail(r, "nts_nak", "NTS NAK: the server refused the cookie (run NTS-KE again)");
    } else if (nv != NTK_NTS_OK) {
        r->verdict = NTK_SNTP_AUTH_FAILED;
        dig_fail(r, "nts_auth", "reply is not NTS-authenticated (%s): refused",
                 ntk_nts_verdict_name(nv));
    } else {
        x->n->cookies_returned = rep.n_cookies;
        if (v != NTK_SNTP_OK)
            dig_fail(r, ntk_sntp_verdict_name(v), "%s", ntk_sntp_verdict_text(v));
    }
    return true;
}

/* Waits for the reply until the timeout. */
static void wait_reply(struct nts_exch *x, double start)
{
    const struct cli_target *t = &x->r->target;
    struct timespec now;
    for (;;) {
        double left = start + x->o->timeout_s - now_s(x->clk, &now);
        struct pollfd p = {.fd = x->fd, .events = POLLIN};
        if (left <= 0 || (poll(&p, 1, (int)ceil(left * 1000)) < 0 && errno != EINTR))
            break;
        uint8_t buf[NTK_NTS_PKT_MAX];
        struct sockaddr_storage from;
        socklen_t fromlen = 0;
        struct timespec rx;
        bool kernel = false;
        ssize_t n = cli_udp_recv(x->fd, buf, sizeof buf, &from, &fromlen, &rx, &kernel);
        if (n == -ECONNREFUSED) {
            dig_fail(x->r, "unreachable", "port unreachable: no NTP server there");
            return;
        }
        if (n < 0 || !cli_sockaddr_eq(&from, fromlen, &t->ss, t->len))
            continue;
        struct ntk_sntp_sample s;
        enum ntk_sntp_verdict v =
            ntk_sntp_check(&x->q, NULL, buf, (size_t)n, ntk_ts_from_timespec(&rx), &s);
        cli_dbg(2, "%s: %zd bytes, %s", t->ip, n, ntk_sntp_verdict_name(v));
        if ((v == NTK_SNTP_OK || v >= NTK_SNTP_KOD) && judge(x, buf, (size_t)n, v, &s))
            return;
    }
    dig_fail(x->r, "timeout", "no NTS reply within %g s", x->o->timeout_s);
}

/* One NTS exchange with the negotiated server, with the keys of the KE. */
static void ntp_exchange(struct nts_exch *x)
{
    struct dig_nts *n = x->n;
    const struct ntk_ke_response *resp = &n->ke.resp;
    n->ntp_port = resp->has_port ? resp->port : x->o->port;
    /* RFC 8915 §4.1.7: without a Server record the NTP server is the KE server's host. */
    set_text(n->ntp_server, sizeof n->ntp_server, resp->server[0] ? resp->server : n->ke_host);
    struct cli_target t;
    if (!resolve_one(x->o, resp->server[0] ? resp->server : n->ke_ip, n->ntp_port, &t, x->r))
        return;
    x->r->target = t;
    set_text(n->ntp_ip, sizeof n->ntp_ip, t.ip);
    if (ntk_aead_key_init(&x->c2s, n->ke.aead, n->ke.c2s, n->ke.key_len) != 0 ||
        ntk_aead_key_init(&x->s2c, n->ke.aead, n->ke.s2c, n->ke.key_len) != 0) {
        dig_fail(x->r, "nts_auth", "cannot set up AEAD %u keys", (unsigned)n->ke.aead);
        return;
    }
    struct timespec now;
    double start = now_s(x->clk, &now);
    if (send_request(x, &t))
        wait_reply(x, start);
}

int dig_nts_query(const struct dig_opts *o, const struct ntk_clk_ops *clk,
                  struct dig_results *out)
{
    struct dig_nts *n = calloc(1, sizeof *n);
    struct dig_result *r = calloc(1, sizeof *r);
    if (n == NULL || r == NULL) {
        free(n);
        free(r);
        cli_err("out of memory");
        return DIG_EXIT_FAIL;
    }
    signal(SIGPIPE, SIG_IGN); /* a KE server closing early must be an error, not a kill */
    out->nts = n;
    free(out->v);
    *out = (struct dig_results){.v = r, .n = 1, .cap = 1, .nts = n};
    r->host = o->hosts[0].name;
    r->verdict = NTK_SNTP_VERDICT_COUNT;
    set_text(n->ke_host, sizeof n->ke_host, r->host);
    n->ke_port = o->nts_port;
    n->noval = o->nts_noval;
    if (key_exchange(o, n, r)) {
        struct nts_exch x = {.o = o, .clk = clk, .n = n, .r = r, .fd = -1};
        ntp_exchange(&x);
        if (x.fd >= 0)
            close(x.fd);
        ntk_aead_key_free(x.c2s);
        ntk_aead_key_free(x.s2c);
    }
    explicit_bzero(n->ke.c2s, sizeof n->ke.c2s);
    explicit_bzero(n->ke.s2c, sizeof n->ke.s2c);
    return 0;
}

/* "2026-12-06 10:50:00 UTC" */
static void utc_text(int64_t t, struct ntk_sb *sb)
{
    time_t tt = (time_t)t;
    struct tm tm;
    char buf[40];
    if (t == 0 || gmtime_r(&tt, &tm) == NULL) {
        ntk_sb_puts(sb, "unknown");
        return;
    }
    size_t len = strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    ntk_sb_putn(sb, buf, len);
}

void dig_nts_print(const struct dig_nts *n, FILE *f)
{
    const struct ke_cli_result *k = &n->ke;
    const struct tls_peer_info *p = &k->peer;
    if (!n->ke_tried)
        return;
    fprintf(f, "NTS-KE %s port %u (%s): %s in %.1f ms\n", n->ke_host, (unsigned)n->ke_port,
            n->ke_ip, k->err == 0 ? "ok" : "FAILED", (double)k->elapsed_ns / 1e6);
    if (p->version[0])
        fprintf(f, "  TLS: %s %s, ALPN %s\n", p->version, p->cipher,
                p->alpn[0] ? p->alpn : "(none)");
    if (p->subject[0]) {
        char until[64];
        struct ntk_sb sb;
        ntk_sb_init(&sb, until, sizeof until);
        utc_text(p->not_after_s, &sb);
        double days = floor((double)(p->not_after_s - (int64_t)time(NULL)) / 86400.0);
        fprintf(f, "  certificate: %s\n  issuer: %s\n", p->subject, p->issuer);
        fprintf(f, "  valid until: %s (%.0f days left)\n", until, days);
        fprintf(f, "  SAN: %s (%s %s)\n", p->san[0] ? p->san : "(none)",
                p->name_match ? "matches" : "does NOT match", n->ke_host);
        fprintf(f, "  verified: %s%s%s\n",
                p->verified ? "yes"
                : n->noval  ? "NO (--nts-noval)"
                            : "no",
                p->verify_error[0] ? ": " : "", p->verify_error);
    }
    if (k->err != 0) {
        fprintf(f, "  failed in %s: %s\n", k->stage, k->why);
        return;
    }
    size_t clen = k->resp.n_cookies ? k->resp.cookies[0].len : 0;
    fprintf(f, "  AEAD: %s (%u), %zu cookies of %zu bytes\n", ntk_aead_name(k->aead),
            (unsigned)k->aead, k->resp.n_cookies, clen);
    fprintf(f, "  NTP server: %s port %u%s\n", n->ntp_server, (unsigned)n->ntp_port,
            k->resp.server[0] || k->resp.has_port ? " (negotiated)" : " (default)");
    if (n->nts_verdict != NULL)
        fprintf(f, "NTS reply: %s, %zu new cookie%s\n",
                strcmp(n->nts_verdict, "ok") == 0 ? "authenticated" : n->nts_verdict,
                n->cookies_returned, n->cookies_returned == 1 ? "" : "s");
}
