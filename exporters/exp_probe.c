/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpkit_exporter's /probe: one SNTP exchange, or NTS-KE plus one NTS-protected exchange
 * (RFC 8915 §4-5), with a target, measured for exp_render_probe. */
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cli_udp.h"
#include "exp_probe.h"
#include "ke_cli.h"
#include "ntk/aead.h"
#include "ntk/err.h"
#include "ntk/nts_ef.h"
#include "ntk/ntime.h"
#include "ntk/sb.h"
#include "ntk/sntp.h"
#include "tls.h"

#include "poison.h"

/* One exchange in progress. */
struct exch {
    const struct exp_probe_req *req;
    struct exp_probe *out;
    double deadline_mono; /* CLOCK_MONOTONIC s */
    int fd;
    struct ntk_sntp_query q;
    /* NTS only: */
    struct ntk_aead_key *c2s, *s2c;
    uint8_t uid[NTK_NTS_UID_LEN];
};

static double mono_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

__attribute__((format(printf, 2, 3))) static void fail(struct exp_probe *p, const char *fmt,
                                                       ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct ntk_sb sb;
    ntk_sb_init(&sb, p->error, sizeof p->error);
    ntk_sb_vprintf(&sb, fmt, ap);
    va_end(ap);
    p->success = false;
}

static bool resolve(const char *host, uint16_t port, struct cli_target *t, struct exp_probe *p)
{
    struct cli_target all[4];
    int k = cli_resolve(host, port, AF_UNSPEC, all, 4);
    if (k <= 0) {
        fail(p, "lookup failed: %s", gai_strerror(k));
        return false;
    }
    *t = all[0];
    return true;
}

/* Builds the request (NTS when x->c2s is set) and sends it from a fresh socket. */
static bool send_request(struct exch *x, const struct cli_target *t,
                         const struct ntk_ke_cookie *cookie)
{
    uint8_t rnd[8], nonce[NTK_AEAD_NONCE_LEN], buf[NTK_NTS_PKT_MAX];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd ||
        getrandom(x->uid, sizeof x->uid, 0) != (ssize_t)sizeof x->uid ||
        getrandom(nonce, sizeof nonce, 0) != (ssize_t)sizeof nonce) {
        fail(x->out, "getrandom: %s", strerror(errno));
        return false;
    }
    int len = ntk_sntp_request(&x->q, rnd, NULL, 0, buf, sizeof buf);
    if (len > 0 && x->c2s != NULL)
        len = ntk_nts_build_request(buf, sizeof buf, (size_t)len, x->uid, cookie, 0, x->c2s,
                                    nonce);
    if (len < 0) {
        fail(x->out, "cannot build the request: %s", ntk_strerror(len));
        return false;
    }
    x->fd = cli_udp_open(t->ss.ss_family, NULL);
    if (x->fd < 0) {
        fail(x->out, "socket: %s", strerror(-x->fd));
        return false;
    }
    struct timespec t1;
    clock_gettime(CLOCK_REALTIME, &t1);
    x->q.t1 = ntk_ts_from_timespec(&t1);
    if (connect(x->fd, (const struct sockaddr *)&t->ss, t->len) != 0 ||
        send(x->fd, buf, (size_t)len, 0) != len) {
        fail(x->out, "send: %s", strerror(errno));
        return false;
    }
    return true;
}

/* Fills the reply fields from a sample that passed the origin test. */
static void take_sample(struct exp_probe *p, enum ntk_sntp_verdict v,
                        const struct ntk_sntp_sample *s)
{
    p->stratum = s->pkt.stratum;
    p->leap = (int)s->pkt.leap;
    if (v == NTK_SNTP_KOD) {
        struct ntk_sb sb;
        ntk_sb_init(&sb, p->kiss, sizeof p->kiss);
        ntk_sb_puts(&sb, s->kiss_code);
        fail(p, "kod %s", s->kiss_code);
        return;
    }
    if (v != NTK_SNTP_OK) {
        fail(p, "%s", ntk_sntp_verdict_name(v));
        return;
    }
    p->offset_s = s->offset_s;
    p->delay_s = s->delay_s;
    p->root_delay_s = s->root_delay_s;
    p->root_disp_s = s->root_dispersion_s;
    p->success = true;
    p->error[0] = '\0';
}

/* Judges a datagram that passed the origin test; true when the exchange is over. */
static bool judge(struct exch *x, const uint8_t *buf, size_t len, enum ntk_sntp_verdict v,
                  const struct ntk_sntp_sample *s)
{
    if (x->s2c == NULL) {
        take_sample(x->out, v, s);
        return true;
    }
    bool is_ntsn = v == NTK_SNTP_KOD && strcmp(s->kiss_code, "NTSN") == 0;
    struct ntk_nts_reply rep;
    enum ntk_nts_verdict nv = ntk_nts_check_reply(buf, len, x->uid, is_ntsn, x->s2c, &rep);
    if (nv == NTK_NTS_BAD_UID)
        return false; /* RFC 8915 §5.7: not ours, keep waiting */
    take_sample(x->out, v, s);
    if (nv == NTK_NTS_NAK)
        fail(x->out, "nts: NAK (cookie refused)");
    else if (nv != NTK_NTS_OK)
        fail(x->out, "nts: reply not authenticated (%s)", ntk_nts_verdict_name(nv));
    return true;
}

/* Waits for the reply until the deadline. */
static void wait_reply(struct exch *x, const struct cli_target *t)
{
    for (;;) {
        double left = x->deadline_mono - mono_s();
        struct pollfd pf = {.fd = x->fd, .events = POLLIN};
        if (left <= 0 || (poll(&pf, 1, (int)ceil(left * 1000)) < 0 && errno != EINTR))
            break;
        uint8_t buf[NTK_NTS_PKT_MAX];
        struct sockaddr_storage from;
        socklen_t fromlen = 0;
        struct timespec rx;
        bool kernel = false;
        ssize_t n = cli_udp_recv(x->fd, buf, sizeof buf, &from, &fromlen, &rx, &kernel);
        if (n == -ECONNREFUSED) {
            fail(x->out, "unreachable");
            return;
        }
        if (n < 0 || !cli_sockaddr_eq(&from, fromlen, &t->ss, t->len))
            continue;
        struct ntk_sntp_sample s;
        enum ntk_sntp_verdict v =
            ntk_sntp_check(&x->q, NULL, buf, (size_t)n, ntk_ts_from_timespec(&rx), &s);
        if ((v == NTK_SNTP_OK || v >= NTK_SNTP_KOD) && judge(x, buf, (size_t)n, v, &s))
            return;
    }
    fail(x->out, "timeout");
}

static void exchange(struct exch *x, const char *host, uint16_t port,
                     const struct ntk_ke_cookie *cookie)
{
    struct cli_target t;
    if (!resolve(host, port, &t, x->out))
        return;
    if (send_request(x, &t, cookie))
        wait_reply(x, &t);
}

/* NTS-KE; true with the keys set up in x. */
static bool key_exchange(struct exch *x, const char *nts_ca, struct ke_cli_result *ke)
{
    const struct exp_probe_req *req = x->req;
    struct exp_probe *p = x->out;
    struct cli_target t;
    if (!resolve(req->host, req->port, &t, p))
        return false;
    struct ke_cli_cfg cfg = {.n_aeads = 1, .aeads = {NTK_AEAD_AES_SIV_CMAC_256}};
    cfg.timeout_ms = (int)ceil((x->deadline_mono - mono_s()) * 1000);
    struct ntk_sb sb;
    ntk_sb_init(&sb, cfg.host, sizeof cfg.host);
    ntk_sb_puts(&sb, req->host);
    if (cfg.timeout_ms <= 0 ||
        ntk_addr_from_sockaddr(&cfg.addr, (const struct sockaddr *)&t.ss, t.len) != 0) {
        fail(p, cfg.timeout_ms <= 0 ? "timeout" : "nts-ke: unusable address");
        return false;
    }
    char err[256];
    SSL_CTX *ctx = tls_client_ctx(nts_ca, false, err, sizeof err);
    if (ctx == NULL) {
        fail(p, "nts-ke: %s", err);
        return false;
    }
    ke_cli_run(ctx, &cfg, ke);
    SSL_CTX_free(ctx);
    p->ke_duration_s = (double)ke->elapsed_ns * 1e-9;
    if (ke->peer.not_after_s != 0)
        p->cert_expiry_unix_s = (double)ke->peer.not_after_s;
    if (ke->err != 0) {
        fail(p, "nts-ke %s: %s", ke->stage, ke->why);
        return false;
    }
    p->nts_cookies = (int)ke->resp.n_cookies;
    if (ke->resp.n_cookies == 0 ||
        ntk_aead_key_init(&x->c2s, ke->aead, ke->c2s, ke->key_len) != 0 ||
        ntk_aead_key_init(&x->s2c, ke->aead, ke->s2c, ke->key_len) != 0) {
        fail(p, "nts-ke: no cookies or unusable keys");
        return false;
    }
    return true;
}

static void probe_nts(struct exch *x, const char *nts_ca)
{
    struct ke_cli_result *ke = calloc(1, sizeof *ke);
    if (ke == NULL) {
        fail(x->out, "out of memory");
        return;
    }
    if (key_exchange(x, nts_ca, ke)) {
        /* RFC 8915 §4.1.7: without a Server record the NTP server is the KE server. */
        const char *server = ke->resp.server[0] ? ke->resp.server : x->req->host;
        exchange(x, server, ke->resp.has_port ? ke->resp.port : EXP_NTP_PORT,
                 &ke->resp.cookies[0]);
    }
    ntk_aead_key_free(x->c2s);
    ntk_aead_key_free(x->s2c);
    explicit_bzero(ke, sizeof *ke);
    free(ke);
}

void exp_probe_run(const struct exp_probe_req *req, const char *nts_ca, struct exp_probe *out)
{
    memset(out, 0, sizeof *out);
    struct ntk_sb sb;
    ntk_sb_init(&sb, out->target, sizeof out->target);
    ntk_sb_puts(&sb, req->target);
    out->nts = req->nts;
    out->offset_s = out->delay_s = out->root_delay_s = out->root_disp_s = NAN;
    out->stratum = out->leap = -1;
    out->cert_expiry_unix_s = NAN;
    out->ke_duration_s = NAN;
    out->nts_cookies = -1;
    double start = mono_s();
    struct exch x = {
        .req = req, .out = out, .deadline_mono = start + req->timeout_s, .fd = -1};
    if (req->nts)
        probe_nts(&x, nts_ca);
    else
        exchange(&x, req->host, req->port, NULL);
    if (x.fd >= 0)
        close(x.fd);
    out->duration_s = mono_s() - start;
}
