/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpdig's queries: resolve each server, send data-minimised requests from fresh sockets,
 * collect and check the replies, and remember kiss-o'-death senders for the rest of the run.
 */
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "cli_log.h"
#include "dig.h"
#include "cli_num.h"
#include "ntk/err.h"
#include "ntk/ntime.h"
#include "ntk/tok.h"

#include "poison.h"

/* One request in flight. */
struct exch {
    int fd;                        /* its own socket, -1 when done */
    struct ntk_sntp_query q;       /* what the reply must match */
    struct dig_result *r;          /* where the outcome goes */
    enum ntk_sntp_verdict ignored; /* why the last datagram was ignored (OK: none was) */
};

/* The state of one run. */
struct run {
    const struct dig_opts *o;
    const struct ntk_clk_ops *clk;
    struct ntk_mac_keys *ks;
    struct dig_results *out;
    struct cli_target bind_to; /* -I, when bound */
    int8_t precision_log2;     /* measured local clock precision */
    struct cli_target kissed[DIG_MAX_HOSTS * DIG_MAX_ADDRS]; /* never asked again */
    size_t nkissed;
};

static double ts_now(const struct ntk_clk_ops *clk, struct timespec *t)
{
    if (clk->now(clk->ctx, t) != 0)
        clock_gettime(CLOCK_REALTIME, t);
    return (double)t->tv_sec + (double)t->tv_nsec * 1e-9;
}

/* Makes room for n more results, so that pointers to results taken after this call stay
 * valid until the next call (the exchanges of one host hold such pointers). */
static bool reserve(struct dig_results *o, size_t n)
{
    if (o->cap - o->n >= n)
        return true;
    size_t cap = o->cap ? o->cap : 16;
    while (cap - o->n < n)
        cap *= 2;
    struct dig_result *v = realloc(o->v, cap * sizeof *v);
    if (v == NULL)
        return false;
    o->v = v;
    o->cap = cap;
    return true;
}

static struct dig_result *new_result(struct run *run, const char *host,
                                     const struct cli_target *t, long round)
{
    struct dig_results *o = run->out;
    if (!reserve(o, 1))
        return NULL;
    struct dig_result *r = &o->v[o->n++];
    memset(r, 0, sizeof *r);
    r->host = host;
    if (t != NULL)
        r->target = *t;
    r->round = round;
    r->key_id = run->o->key_id;
    r->verdict = NTK_SNTP_VERDICT_COUNT;
    return r;
}

void dig_fail(struct dig_result *r, const char *error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct ntk_sb sb;
    ntk_sb_init(&sb, r->message, sizeof r->message);
    ntk_sb_vprintf(&sb, fmt, ap);
    va_end(ap);
    r->error = error;
}

static bool is_kissed(const struct run *run, const struct cli_target *t)
{
    for (size_t i = 0; i < run->nkissed; i++)
        if (cli_sockaddr_eq(&run->kissed[i].ss, run->kissed[i].len, &t->ss, t->len))
            return true;
    return false;
}

static void sleep_s(double s)
{
    if (s <= 0)
        return;
    struct timespec t = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - floor(s)) * 1e9)};
    while (nanosleep(&t, &t) != 0 && errno == EINTR)
        ;
}

/* Opens a socket, builds and sends one request. On failure the result says why and the
 * exchange is closed (fd -1). */
static void send_one(struct run *run, struct exch *e)
{
    const struct cli_target *t = &e->r->target;
    const struct cli_target *b = run->o->bindaddr != NULL ? &run->bind_to : NULL;
    e->fd = cli_udp_open(t->ss.ss_family, b);
    if (e->fd < 0) {
        dig_fail(e->r, "send_failed", "cannot open a socket: %s", strerror(-e->fd));
        e->fd = -1;
        return;
    }
    uint8_t rnd[8], buf[NTK_SNTP_REQ_MAX];
    int len = NTK_EINVAL;
    /* All-zero random bytes (a 2^-64 chance) are refused: draw again. */
    for (int tries = 0; tries < 4 && len == NTK_EINVAL; tries++) {
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
            break;
        len = ntk_sntp_request(&e->q, rnd, run->ks, run->o->key_id, buf, sizeof buf);
    }
    if (len < 0) {
        dig_fail(e->r, "send_failed", "cannot build the request: %s", ntk_strerror(len));
        close(e->fd);
        e->fd = -1;
        return;
    }
    e->q.local_precision_log2 = run->precision_log2;
    struct timespec t1;
    ts_now(run->clk, &t1);
    e->q.t1 = ntk_ts_from_timespec(&t1);
    /* Connected: the kernel drops datagrams from any other address, and an ICMP port
     * unreachable comes back as ECONNREFUSED instead of a timeout. */
    if (connect(e->fd, (const struct sockaddr *)&t->ss, t->len) != 0 ||
        send(e->fd, buf, (size_t)len, 0) != len) {
        dig_fail(e->r, "send_failed", "send failed: %s", strerror(errno));
        close(e->fd);
        e->fd = -1;
        return;
    }
    cli_dbg(1, "%s (%s): sent %d-byte request", e->r->host, t->ip, len);
}

/* Fills the result from a checked reply. Returns true when the exchange is over: always for
 * a replay, else for anything but a datagram that fails the checks anyone could fail (those
 * before the kiss-o'-death test in ntk/sntp.h). */
static bool take_reply(struct run *run, struct exch *e, enum ntk_sntp_verdict v,
                       const struct ntk_sntp_sample *s)
{
    struct dig_result *r = e->r;
    if (v != NTK_SNTP_OK && v < NTK_SNTP_KOD && !e->q.replay) {
        /* Anyone can forge these (they do not echo our nonce): keep waiting. */
        cli_dbg(1, "%s (%s): ignored a datagram: %s", r->host, r->target.ip,
                ntk_sntp_verdict_text(v));
        e->ignored = v;
        return false;
    }
    r->verdict = v;
    r->s = *s;
    r->replied = v != NTK_SNTP_MALFORMED && v != NTK_SNTP_BAD_VERSION;
    if (v == NTK_SNTP_OK)
        return true;
    r->error = ntk_sntp_verdict_name(v);
    dig_fail(r, r->error, "%s", ntk_sntp_verdict_text(v));
    if (v == NTK_SNTP_KOD && run->nkissed < sizeof run->kissed / sizeof run->kissed[0]) {
        run->kissed[run->nkissed++] = r->target;
        struct ntk_sb sb;
        ntk_sb_init(&sb, r->message, sizeof r->message);
        ntk_sb_printf(&sb, "kiss-o'-death %s: %s; not asked again in this run", s->kiss_code,
                      s->kiss == NTK_KISS_INIT ? "server not synchronized"
                                               : "server refuses or limits us");
    }
    return true;
}

/* Reads what is queued on e's socket. Returns true when the exchange is over. */
static bool drain(struct run *run, struct exch *e)
{
    for (;;) {
        uint8_t buf[2048];
        struct sockaddr_storage from;
        socklen_t fromlen = 0;
        struct timespec rx;
        bool kernel = false;
        ssize_t n = cli_udp_recv(e->fd, buf, sizeof buf, &from, &fromlen, &rx, &kernel);
        if (n == -ECONNREFUSED) {
            dig_fail(e->r, "unreachable", "port unreachable: no NTP server there");
            return true;
        }
        if (n < 0)
            return false; /* -EAGAIN (or another ICMP error): wait for the timeout */
        const struct cli_target *t = &e->r->target;
        if (!cli_sockaddr_eq(&from, fromlen, &t->ss, t->len)) {
            cli_dbg(1, "%s: ignored a datagram from another address", t->ip);
            continue;
        }
        struct ntk_sntp_sample s;
        enum ntk_sntp_verdict v =
            ntk_sntp_check(&e->q, run->ks, buf, (size_t)n, ntk_ts_from_timespec(&rx), &s);
        cli_dbg(2, "%s: %zd bytes, %s receive time, %s", t->ip, n,
                kernel ? "kernel" : "user-space", ntk_sntp_verdict_name(v));
        if (take_reply(run, e, v, &s))
            return true;
    }
}

static void close_exch(struct exch *e)
{
    if (e->fd >= 0)
        close(e->fd);
    e->fd = -1;
}

/* Waits until every open exchange in e[0..n) is answered or timeout_s has passed since
 * start; those left open time out. */
static void wait_all(struct run *run, struct exch *e, size_t n, double start)
{
    struct pollfd pfd[DIG_MAX_ADDRS];
    struct timespec now;
    for (;;) {
        size_t open = 0;
        for (size_t i = 0; i < n; i++)
            if (e[i].fd >= 0)
                pfd[open++] = (struct pollfd){.fd = e[i].fd, .events = POLLIN};
        double left = start + run->o->timeout_s - ts_now(run->clk, &now);
        if (open == 0 || left <= 0)
            break;
        if (poll(pfd, open, (int)ceil(left * 1000)) < 0 && errno != EINTR)
            break;
        for (size_t i = 0; i < n; i++)
            if (e[i].fd >= 0 && drain(run, &e[i]))
                close_exch(&e[i]);
    }
    for (size_t i = 0; i < n; i++) {
        if (e[i].fd < 0)
            continue;
        char secs[32];
        struct ntk_sb sb;
        ntk_sb_init(&sb, secs, sizeof secs);
        ntk_sb_printf(&sb, "%g", run->o->timeout_s);
        if (e[i].ignored != NTK_SNTP_OK)
            dig_fail(e[i].r, "timeout", "no valid reply within %s s (ignored: %s)", secs,
                     ntk_sntp_verdict_text(e[i].ignored));
        else
            dig_fail(e[i].r, "timeout", "no reply within %s s", secs);
        close_exch(&e[i]);
    }
}

/* The addresses of one host, resolved once per run (-1: lookup failed, reported). */
struct addrs {
    int n;
    struct cli_target t[DIG_MAX_ADDRS];
};

static void resolve(struct run *run, const struct dig_host *h, struct addrs *a)
{
    a->n = cli_resolve(h->name, run->o->port, run->o->family, a->t, DIG_MAX_ADDRS);
    if (a->n > 0)
        return;
    const char *why = gai_strerror(a->n);
    cli_err("lookup of %s failed: %s", h->name, why);
    struct dig_result *r = new_result(run, h->name, NULL, 0);
    if (r != NULL)
        dig_fail(r, "lookup_failed", "lookup failed: %s", why);
}

/* Queries the addresses of h for one round: all at once for -c, one after the other
 * otherwise (as NTPsec does). Returns false when out of memory. */
static bool query_host(struct run *run, const struct dig_host *h, const struct addrs *a,
                       long round)
{
    struct exch e[DIG_MAX_ADDRS];
    size_t n = 0, sent = 0;
    struct timespec now;
    if (!reserve(run->out, (size_t)a->n))
        return false;
    for (int i = 0; i < a->n; i++) {
        if (is_kissed(run, &a->t[i])) {
            cli_dbg(1, "%s (%s): kissed earlier, not asked again", h->name, a->t[i].ip);
            continue;
        }
        if (sent++ > 0)
            sleep_s(run->o->gap_s);
        struct dig_result *r = new_result(run, h->name, &a->t[i], round);
        if (r == NULL)
            return false;
        e[n] = (struct exch){.fd = -1, .r = r};
        send_one(run, &e[n]);
        if (!h->concurrent) {
            wait_all(run, &e[n], 1, ts_now(run->clk, &now));
            continue;
        }
        n++;
    }
    if (h->concurrent)
        wait_all(run, e, n, ts_now(run->clk, &now));
    return true;
}

/* -r HEX:DST: check one reply given in hex as if received at DST (Unix seconds). */
static int replay(struct run *run)
{
    const char *text = run->o->replay, *colon = strchr(text, ':');
    uint8_t buf[1024];
    size_t n = 0, hexlen = colon != NULL ? (size_t)(colon - text) : 0;
    double dst = 0;
    bool ok = colon != NULL && hexlen % 2 == 0 && hexlen / 2 <= sizeof buf &&
              cli_parse_double(colon + 1, 0, 1e12, &dst);
    for (size_t i = 0; ok && i < hexlen; i += 2) {
        int hi = ntk_tok_hexdigit(text[i]), lo = ntk_tok_hexdigit(text[i + 1]);
        ok = hi >= 0 && lo >= 0;
        buf[n++] = (uint8_t)(hi << 4 | lo);
    }
    if (!ok) {
        cli_err("-r wants HEXPACKET:UNIXTIME, e.g. 24010000...:1764126000.5");
        return DIG_EXIT_USAGE;
    }
    struct timespec t4 = {.tv_sec = (time_t)dst, .tv_nsec = (long)((dst - floor(dst)) * 1e9)};
    struct exch e = {.fd = -1,
                     .q = {.key_id = run->o->key_id,
                           .replay = true,
                           .local_precision_log2 = run->precision_log2}};
    e.r = new_result(run, "replay", NULL, 0);
    if (e.r == NULL)
        return DIG_EXIT_FAIL;
    struct ntk_sntp_sample s;
    enum ntk_sntp_verdict v =
        ntk_sntp_check(&e.q, run->ks, buf, n, ntk_ts_from_timespec(&t4), &s);
    take_reply(run, &e, v, &s);
    return 0;
}

static int query_rounds(struct run *run, struct addrs *res)
{
    const struct dig_opts *o = run->o;
    for (size_t h = 0; h < o->nhosts; h++)
        resolve(run, &o->hosts[h], &res[h]);
    for (long round = 0; round < o->samples; round++) {
        if (round > 0)
            sleep_s(o->gap_s);
        for (size_t h = 0; h < o->nhosts; h++)
            if (res[h].n > 0 && !query_host(run, &o->hosts[h], &res[h], round))
                return DIG_EXIT_FAIL;
    }
    return 0;
}

int dig_query_all(const struct dig_opts *o, const struct ntk_clk_ops *clk,
                  struct ntk_mac_keys *ks, struct dig_results *out)
{
    struct run *run = calloc(1, sizeof *run);
    struct addrs *res = calloc(o->nhosts + 1, sizeof *res);
    int rc = DIG_EXIT_FAIL;
    if (run == NULL || res == NULL) {
        cli_err("out of memory");
        goto done;
    }
    *run = (struct run){.o = o, .clk = clk, .ks = ks, .out = out};
    run->precision_log2 = ntk_clk_precision_log2(clk);
    if (o->bindaddr != NULL && !cli_parse_bind(o->bindaddr, &run->bind_to)) {
        cli_err("-I %s: not a numeric local address", o->bindaddr);
        rc = DIG_EXIT_USAGE;
        goto done;
    }
    rc = o->replay != NULL ? replay(run) : query_rounds(run, res);
done:
    free(res);
    free(run);
    return rc;
}

struct dig_result *dig_select(struct dig_results *r)
{
    struct dig_result *best = NULL;
    for (size_t i = 0; i < r->n; i++) {
        struct dig_result *x = &r->v[i];
        if (x->verdict == NTK_SNTP_OK &&
            (best == NULL || ntk_sntp_compare(&x->s, &best->s) < 0))
            best = x;
    }
    if (best != NULL)
        best->selected = true;
    return best;
}
