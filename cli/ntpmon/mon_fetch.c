/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpmon's data source: mode-6 snapshots and incremental, nonce-based MRU lists per host. */
#include "mon_fetch.h"

#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli_udp.h"
#include "ntk/ctlc.h"
#include "ntk/ctlvars.h"
#include "ntk/ntime.h"
#include "ntk/sb.h"

#include "poison.h"

/* snprintf through ntk_sb (bounded; truncation of messages is fine). */
static void fmt(char *buf, size_t cap, const char *f, ...)
    __attribute__((format(printf, 3, 4)));
static void fmt(char *buf, size_t cap, const char *f, ...)
{
    struct ntk_sb sb;
    va_list ap;
    ntk_sb_init(&sb, buf, cap);
    va_start(ap, f);
    ntk_sb_vprintf(&sb, f, ap);
    va_end(ap);
}

#define MRU_CHUNK_ROWS 512 /* entry indexes accepted in one READ_MRU response */
#define MRU_RECENT     64  /* "recent=": the newest entries asked for each time */

double mon_fetch_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int mon_fetch_init(struct mon_fetch *f, const struct mon_model *m, const struct mon_opts *o)
{
    memset(f, 0, sizeof *f);
    f->n_hosts = m->n_hosts;
    f->family = o->family;
    f->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 2000;
    f->snap = malloc(sizeof *f->snap);
    f->rows = calloc(MON_MRU_MAX + MRU_CHUNK_ROWS, sizeof *f->rows);
    f->ctlc = malloc(sizeof(struct ntk_ctlc));
    if (f->snap == NULL || f->rows == NULL || f->ctlc == NULL) {
        mon_fetch_free(f);
        return -1;
    }
    return 0;
}

void mon_fetch_free(struct mon_fetch *f)
{
    free(f->snap);
    free(f->rows);
    free(f->ctlc);
    f->snap = NULL;
    f->rows = NULL;
    f->ctlc = NULL;
}

/* Resolves host h on first use (and again after a failure). */
static int resolve(struct mon_fetch *f, const struct mon_model *m, size_t h, char *why,
                   size_t cap)
{
    struct mon_fetch_host *x = &f->h[h];
    if (x->resolved)
        return 0;
    char name[256];
    const char *n = m->hosts[h].name;
    size_t l = strlen(n);
    if (n[0] == '[' && l > 2 && n[l - 1] == ']')
        fmt(name, sizeof name, "%.*s", (int)l - 2, n + 1);
    else
        fmt(name, sizeof name, "%s", n);
    int rc = cli_resolve(name, 123, f->family, &x->target.addr, 1);
    if (rc <= 0) {
        fmt(why, cap, "cannot resolve: %s", gai_strerror(rc));
        return -1;
    }
    x->resolved = true;
    return 0;
}

/* ---- MRU ---- */

struct mru_acc {
    struct mon_mru *rows; /* merged rows (the model's, then the new ones) */
    size_t n;
    struct timespec near; /* era pivot for the timestamps */
};

static bool index_of(struct ntk_span name, const char *stem, size_t *k)
{
    size_t l = strlen(stem);
    if (name.len <= l + 1 || memcmp(name.p, stem, l) != 0 || name.p[l] != '.')
        return false;
    size_t v = 0;
    for (size_t i = l + 1; i < name.len; i++) {
        if (name.p[i] < '0' || name.p[i] > '9' || v > MRU_CHUNK_ROWS)
            return false;
        v = v * 10 + (size_t)(name.p[i] - '0');
    }
    *k = v;
    return v < MRU_CHUNK_ROWS;
}

static double ts_unix(const struct ntk_span v, const struct timespec *near)
{
    ntk_ts ts;
    struct timespec t;
    if (ntk_cvar_parse_ts(v, &ts) != 0)
        return 0;
    ntk_ts_to_timespec_near(ts, near, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* "1.2.3.4:123" or "[::1]:123": splits off the port. */
static void split_addr(const char *a, struct mon_mru *r)
{
    const char *colon = strrchr(a, ':');
    bool v6 = a[0] == '[';
    if (colon && (v6 ? colon > a && colon[-1] == ']' : strchr(a, ':') == colon)) {
        long p = strtol(colon + 1, NULL, 10);
        r->port = (uint16_t)(p > 0 && p < 65536 ? p : 0);
        size_t l = (size_t)(colon - a) - (v6 ? 2 : 0);
        fmt(r->addr, sizeof r->addr, "%.*s", (int)l, a + (v6 ? 1 : 0));
    } else
        fmt(r->addr, sizeof r->addr, "%s", a);
}

static void set_field(struct mon_mru *r, struct ntk_cvar_item *it, const char *stem,
                      const struct timespec *near)
{
    uint64_t u = 0;
    if (strcmp(stem, "addr") == 0) {
        char a[128];
        if (ntk_cvar_unquote(it, a, sizeof a) >= 0)
            split_addr(a, r);
    } else if (strcmp(stem, "last") == 0)
        r->last_unix_s = ts_unix(it->value, near);
    else if (strcmp(stem, "first") == 0)
        r->first_unix_s = ts_unix(it->value, near);
    else if (strcmp(stem, "ct") == 0 && ntk_cvar_parse_u64(it->value, &u, UINT64_MAX) == 0)
        r->count = u;
    else if (strcmp(stem, "mv") == 0 && ntk_cvar_parse_u64(it->value, &u, 255) == 0) {
        r->mode = (int)(u & 7);
        r->version = (int)((u >> 3) & 7);
    } else if (strcmp(stem, "rs") == 0 && ntk_cvar_parse_u64(it->value, &u, UINT32_MAX) == 0)
        r->rstr = (uint32_t)u;
}

/* Merges one row: the newest entry of an address wins. */
static void merge_row(struct mru_acc *a, const struct mon_mru *r)
{
    char e[sizeof r->addr];
    mon_escape(r->addr, false, e, sizeof e);
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->rows[i].addr, e) == 0 && a->rows[i].port == r->port) {
            if (r->last_unix_s >= a->rows[i].last_unix_s) {
                a->rows[i] = *r;
                memcpy(a->rows[i].addr, e, sizeof e);
            }
            return;
        }
    if (a->n < MON_MRU_MAX + MRU_CHUNK_ROWS) {
        a->rows[a->n] = *r;
        memcpy(a->rows[a->n].addr, e, sizeof e);
        a->n++;
    }
}

static void mru_chunk(struct mru_acc *a, const char *data, size_t len)
{
    static const char *const stems[] = {"addr", "last", "first", "ct", "mv", "rs"};
    static struct mon_mru chunk[MRU_CHUNK_ROWS];
    static bool seen[MRU_CHUNK_ROWS];
    memset(chunk, 0, sizeof chunk);
    memset(seen, 0, sizeof seen);
    struct ntk_cvar_it it;
    struct ntk_cvar_item item;
    ntk_cvar_init(&it, data, len);
    while (ntk_cvar_next(&it, &item) == 1) {
        for (size_t s = 0; s < sizeof stems / sizeof stems[0]; s++) {
            size_t k;
            if (index_of(item.name, stems[s], &k)) {
                set_field(&chunk[k], &item, stems[s], &a->near);
                seen[k] = true;
            }
        }
    }
    for (size_t k = 0; k < MRU_CHUNK_ROWS; k++)
        if (seen[k] && chunk[k].addr[0])
            merge_row(a, &chunk[k]);
}

/* Runs one mrulist transaction within the deadline. Returns 0, or -1 with why set. */
static int run_mru(struct mon_fetch *f, int fd, struct mru_acc *a, char *why, size_t cap)
{
    struct ntk_ctlc *c = f->ctlc;
    struct ntk_ctlc_cfg cfg = {.timeout_ms = f->timeout_ms / 2 > 0 ? f->timeout_ms / 2 : 1,
                               .retries = 1,
                               .prove = true,
                               .first_sequence = (uint16_t)(mono_ms() & 0x7fff)};
    ntk_ctlc_init(c, &cfg);
    char params[32];
    fmt(params, sizeof params, "recent=%d", MRU_RECENT);
    size_t pl = strlen(params);
    if (ntk_ctlc_mrulist(c, params, pl, 32) != 0) {
        fmt(why, cap, "mrulist: bad request");
        return -1;
    }
    int64_t deadline = mono_ms() + f->timeout_ms;
    uint8_t out[NTK_CTL_DATAGRAM_MAX], in[NTK_CTL_DATAGRAM_MAX + 64];
    for (;;) {
        size_t len = 0;
        int64_t now = mono_ms();
        if (now >= deadline) {
            fmt(why, cap, "MRU list: timeout");
            return -1;
        }
        enum ntk_ctlc_ev ev = ntk_ctlc_step(c, now, out, sizeof out, &len);
        if (ev == NTK_CTLC_SEND) {
            if (send(fd, out, len, 0) < 0) {
                fmt(why, cap, "MRU list: send: %s", strerror(errno));
                return -1;
            }
        } else if (ev == NTK_CTLC_WAIT) {
            int64_t until = ntk_ctlc_deadline(c) < deadline ? ntk_ctlc_deadline(c) : deadline;
            int64_t wait = until - mono_ms();
            struct pollfd p = {.fd = fd, .events = POLLIN};
            if (poll(&p, 1, wait < 0 ? 0 : (int)wait) > 0) {
                ssize_t got = recv(fd, in, sizeof in, 0);
                if (got < 0 && errno == ECONNREFUSED) {
                    fmt(why, cap, "MRU list: connection refused");
                    return -1;
                }
                if (got > 0)
                    ntk_ctlc_feed(c, in, (size_t)got);
            }
        } else if (ev == NTK_CTLC_CHUNK) {
            size_t dl;
            const char *d = ntk_ctlc_data(c, &dl);
            mru_chunk(a, d, dl);
        } else if (ev == NTK_CTLC_DONE)
            return 0;
        else {
            if (ev == NTK_CTLC_REFUSED)
                fmt(why, cap, "MRU list refused: error code %u", ntk_ctlc_cerr(c));
            else if (ev == NTK_CTLC_TIMEOUT)
                fmt(why, cap, "MRU list: timeout");
            else
                fmt(why, cap, "MRU list: bad response (error %d)", ntk_ctlc_err(c));
            return -1;
        }
    }
}

static void fetch_mru(struct mon_fetch *f, struct mon_model *m, size_t h, double now)
{
    struct mon_fetch_host *x = &f->h[h];
    struct mon_host *mh = &m->hosts[h];
    char why[160] = "";
    struct mru_acc a = {f->rows, 0, {0, 0}};
    a.near.tv_sec = (time_t)now;
    for (size_t i = 0; i < mh->n_mru; i++) /* incremental: the rows held, updated */
        a.rows[a.n++] = mh->mru[i];
    int fd = cli_udp_open(x->target.addr.ss.ss_family, NULL);
    int rc = -1;
    if (fd < 0)
        fmt(why, sizeof why, "MRU list: socket: %s", strerror(-fd));
    else if (connect(fd, (const struct sockaddr *)&x->target.addr.ss, x->target.addr.len) != 0)
        fmt(why, sizeof why, "MRU list: connect: %s", strerror(errno));
    else
        rc = run_mru(f, fd, &a, why, sizeof why);
    if (fd >= 0)
        close(fd);
    /* A partial list is still newer than what was held: keep what came. */
    mon_model_mru(m, h, a.rows, a.n, mon_fetch_now());
    x->mru_unix_s = mon_fetch_now();
    mon_escape(rc != 0 ? why : "", false, x->mru_error, sizeof x->mru_error);
    if (mh->state == MON_HOST_OK) /* the MRU pane shows the error of an answering host */
        memcpy(mh->error, x->mru_error, sizeof mh->error);
}

static bool mru_shown(const struct mon_model *m)
{
    return m->v.mru_on || m->v.mru_only;
}

int mon_fetch_host(struct mon_fetch *f, struct mon_model *m, size_t h, double now_unix_s)
{
    if (h >= f->n_hosts || h >= m->n_hosts || f->snap == NULL)
        return -1;
    struct mon_fetch_host *x = &f->h[h];
    m6_snap_init(f->snap);
    int rc = -1;
    if (resolve(f, m, h, f->snap->error, sizeof f->snap->error) == 0) {
        x->target.timeout_ms = f->timeout_ms;
        /* The screens show no counters; the detail pane shows a refclock's clock
         * variables (READCLOCK), which come with them. */
        x->target.no_counters = !m->v.detail;
        rc = m6_fetch(&x->target, f->snap);
        if (rc != 0 && f->snap->error[0] == '\0')
            fmt(f->snap->error, sizeof f->snap->error, "no answer");
    }
    double done = mon_fetch_now();
    (void)now_unix_s;
    mon_model_snapshot(m, h, f->snap, done);
    if (rc == 0 && mru_shown(m) && x->mru_error[0]) /* kept until the next MRU read */
        memcpy(m->hosts[h].error, x->mru_error, sizeof m->hosts[h].error);
    if (rc == 0 && mru_shown(m) &&
        (x->mru_unix_s == 0 || done - x->mru_unix_s >= MON_MRU_EVERY_S))
        fetch_mru(f, m, h, done);
    x->last_unix_s = mon_fetch_now();
    x->next_unix_s = mon_model_next_fetch(m, h, x->last_unix_s);
    return rc == 0 ? 0 : -1;
}

int mon_fetch_tick(struct mon_fetch *f, struct mon_model *m, double now_unix_s)
{
    if (m->v.paused)
        return 0;
    size_t best = f->n_hosts;
    for (size_t h = 0; h < f->n_hosts; h++)
        if (f->h[h].next_unix_s <= now_unix_s &&
            (best == f->n_hosts || f->h[h].next_unix_s < f->h[best].next_unix_s))
            best = h;
    if (best < f->n_hosts) {
        mon_fetch_host(f, m, best, now_unix_s);
        return 1;
    }
    size_t h = m->v.host;
    if (h < f->n_hosts && mru_shown(m) && m->hosts[h].state == MON_HOST_OK &&
        f->h[h].resolved && now_unix_s >= f->h[h].mru_unix_s + MON_MRU_EVERY_S) {
        fetch_mru(f, m, h, now_unix_s);
        return 1;
    }
    return 0;
}

double mon_fetch_next(const struct mon_fetch *f, const struct mon_model *m)
{
    if (m->v.paused)
        return INFINITY;
    double next = INFINITY;
    for (size_t h = 0; h < f->n_hosts; h++)
        next = f->h[h].next_unix_s < next ? f->h[h].next_unix_s : next;
    size_t h = m->v.host;
    if (h < f->n_hosts && mru_shown(m) && m->hosts[h].state == MON_HOST_OK &&
        f->h[h].mru_unix_s + MON_MRU_EVERY_S < next)
        next = f->h[h].mru_unix_s + MON_MRU_EVERY_S;
    return next;
}
