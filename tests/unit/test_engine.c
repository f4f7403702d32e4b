/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of the engine through its public API (engine.h, snap.h): a recording fake clock,
 * a seeded generator and scripted servers that answer its requests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../daemon/core/engine.h"
#include "../../daemon/core/snap.h"
#include "ntk/err.h"
#include "ntk/leapfile.h"
#include "ntk/pkt.h"
#include "ntk/refid.h"
#include "testutil.h"

#include "poison.h"

#define NS 1000000000LL

/* ---- the fake clock: a local clock that follows set_freq and step exactly ---- */

struct fclk {
    double phase_s;  /* local minus true */
    double freq_ppm; /* correction in force */
    int steps, freqs, leaps, syncs;
    int last_leap;
};

static int c_now(void *ctx, struct timespec *t)
{
    (void)ctx;
    (void)t;
    return 0;
}
static int c_priv(void *ctx)
{
    (void)ctx;
    return 0;
}
static int c_step(void *ctx, double s)
{
    struct fclk *c = ctx;
    c->phase_s += s;
    c->steps++;
    return 0;
}
static int c_read(void *ctx, double *ppm)
{
    *ppm = ((struct fclk *)ctx)->freq_ppm;
    return 0;
}
static int c_set(void *ctx, double ppm)
{
    struct fclk *c = ctx;
    c->freq_ppm = ppm;
    c->freqs++;
    return fabs(ppm) > NTK_CLK_FREQ_MAX_PPM ? -22 : 0;
}
static int c_leap(void *ctx, int leap)
{
    struct fclk *c = ctx;
    c->leaps++;
    c->last_leap = leap;
    return 0;
}
static int c_sync(void *ctx, int s, double a, double b)
{
    (void)s;
    (void)a;
    (void)b;
    ((struct fclk *)ctx)->syncs++;
    return 0;
}

static void rng_bytes(void *ctx, uint8_t *p, size_t n)
{
    uint64_t *s = ctx;
    for (size_t i = 0; i < n; i++) {
        *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
        p[i] = (uint8_t)(*s >> 56);
    }
}

/* ---- the world: true time, the engine, up to 8 servers ---- */

struct server {
    struct ntk_addr addr;
    double offset_s; /* server minus true time */
    uint8_t stratum; /* 0: answer with a KoD of code `kiss` */
    const char *kiss;
    enum ntk_leap leap;
    bool silent;
    int requests;
    uint8_t req0; /* the first byte of the last request (leap, version, mode) */
};

struct world {
    int64_t true_ns;  /* true time since start */
    double mono_s_ns; /* the local monotonic clock since start (ns, slewed, not stepped) */
    struct fclk clk;
    struct ntk_clk_ops ops;
    uint64_t seed;
    struct eng_rng rng;
    struct eng_cfg cfg;
    struct eng *e;
    struct server srv[8];
    int nsrv;
    int64_t
        start_unix; /* the real-time clock at the start (START_UNIX unless a test moves it) */
    int events[32]; /* counts by enum eng_event */
    int exits, exit_status, resolves;
    char resolve_name[256];
};

#define START_UNIX 1764126000LL

static struct eng_now now_of(const struct world *w)
{
    double local = (double)w->true_ns / (double)NS + w->clk.phase_s;
    struct eng_now n;
    n.real.tv_sec = (time_t)(w->start_unix + (int64_t)floor(local));
    n.real.tv_nsec = (long)((local - floor(local)) * 1e9);
    n.mono_ns = NS + (int64_t)w->mono_s_ns; /* slewed like the clock, never stepped (Linux) */
    return n;
}

static void world_init(struct world *w, bool observe)
{
    memset(w, 0, sizeof *w);
    w->ops = (struct ntk_clk_ops){.name = "fake",
                                  .ctx = &w->clk,
                                  .now = c_now,
                                  .check_privilege = c_priv,
                                  .step = c_step,
                                  .slew = c_step,
                                  .read_freq = c_read,
                                  .set_freq = c_set,
                                  .set_leap = c_leap,
                                  .set_sync_status = c_sync};
    w->seed = 7;
    w->start_unix = START_UNIX;
    w->rng = (struct eng_rng){.ctx = &w->seed, .bytes = rng_bytes};
    eng_cfg_defaults(&w->cfg);
    w->cfg.observe = observe;
}

static void world_start(struct world *w)
{
    struct eng_now n = now_of(w);
    w->e = eng_new(&w->cfg, &w->ops, &w->rng, NULL, &n);
    assert_non_null(w->e);
}

/* A stratum-1 server of the world at ip, and the line for it (iburst, NTPsec's defaults)
 * for the caller to change before eng_add_server. */
static struct eng_server_cfg new_server(struct world *w, const char *ip, double offset_s)
{
    struct server *s = &w->srv[w->nsrv++];
    memset(s, 0, sizeof *s);
    assert_int_equal(ntk_addr_parse_span((struct ntk_span){ip, strlen(ip)}, &s->addr), 0);
    s->addr.port = 123;
    s->offset_s = offset_s;
    s->stratum = 1;
    struct eng_server_cfg c;
    eng_server_defaults(&c);
    c.addr = s->addr;
    c.iburst = true;
    return c;
}

static int add_server_cfg(struct world *w, const struct eng_server_cfg *c)
{
    struct eng_now n = now_of(w);
    return eng_add_server(w->e, c, &n);
}

static int add_server_polls(struct world *w, const char *ip, double offset_s, int8_t minpoll,
                            int8_t maxpoll)
{
    struct eng_server_cfg c = new_server(w, ip, offset_s);
    c.minpoll_log2 = minpoll;
    c.maxpoll_log2 = maxpoll;
    return add_server_cfg(w, &c);
}

static int add_server(struct world *w, const char *ip, double offset_s)
{
    return add_server_polls(w, ip, offset_s, 6, 10);
}

static struct server *server_at(struct world *w, const struct ntk_addr *a)
{
    for (int i = 0; i < w->nsrv; i++)
        if (ntk_addr_eq(&w->srv[i].addr, a) && w->srv[i].addr.port == a->port)
            return &w->srv[i];
    return NULL;
}

/* Answers a request at once (zero network delay) from s's clock. */
static void answer(struct world *w, struct server *s, const uint8_t *req)
{
    s->requests++;
    s->req0 = req[0];
    if (s->silent)
        return;
    double server_unix = (double)w->start_unix + (double)w->true_ns / (double)NS + s->offset_s;
    struct timespec st = {.tv_sec = (time_t)floor(server_unix),
                          .tv_nsec = (long)((server_unix - floor(server_unix)) * 1e9)};
    struct ntk_pkt p = {.leap = s->leap,
                        .version = 4,
                        .mode = NTK_MODE_SERVER,
                        .stratum = s->stratum,
                        .poll_log2 = 6,
                        .precision_log2 = -20};
    p.refid = s->stratum == 0 ? NTK_REFID_CODE(s->kiss[0], s->kiss[1], s->kiss[2], s->kiss[3])
                              : NTK_REFID_CODE('G', 'P', 'S', 0);
    p.org = ntk_ts_make(
        (uint32_t)req[40] << 24 | (uint32_t)req[41] << 16 | (uint32_t)req[42] << 8 | req[43],
        (uint32_t)req[44] << 24 | (uint32_t)req[45] << 16 | (uint32_t)req[46] << 8 | req[47]);
    p.rec = p.xmt = p.reftime = ntk_ts_from_timespec(&st);
    uint8_t buf[48];
    struct ntk_wr wr;
    ntk_wr_init(&wr, buf, sizeof buf);
    assert_int_equal(ntk_pkt_encode(&wr, &p), 0);
    struct eng_now n = now_of(w);
    eng_on_packet(w->e, &n, buf, sizeof buf, &s->addr, &n.real, ENG_RX_KERNEL);
}

static void drain(struct world *w)
{
    struct eng_action a;
    while (eng_pop_action(w->e, &a)) {
        switch (a.kind) {
        case ENG_ACT_SEND: {
            struct server *s = server_at(w, &a.remote);
            assert_non_null(s);
            assert_true(a.len >= 48);
            if (s != NULL)
                answer(w, s, a.pkt);
            break;
        }
        case ENG_ACT_EVENT:
            w->events[a.event & 31]++;
            break;
        case ENG_ACT_EXIT:
            w->exits++;
            w->exit_status = (int)a.value;
            break;
        case ENG_ACT_RESOLVE:
            w->resolves++;
            memcpy(w->resolve_name, a.text, sizeof w->resolve_name);
            break;
        case ENG_ACT_NEED_KE:
            fail_msg("no server here uses NTS");
            break;
        }
    }
}

/* Moves true time forward, the local clock gaining the frequency correction in force. */
static void advance_to(struct world *w, int64_t true_ns)
{
    double dt = (double)(true_ns - w->true_ns) / (double)NS;
    w->clk.phase_s += dt * w->clk.freq_ppm * 1e-6;
    w->mono_s_ns += (double)(true_ns - w->true_ns) * (1 + w->clk.freq_ppm * 1e-6);
    w->true_ns = true_ns;
}

/* Runs the engine for `seconds` of true time, jumping from deadline to deadline. */
static void run(struct world *w, double seconds)
{
    int64_t end = w->true_ns + (int64_t)(seconds * (double)NS);
    drain(w);
    for (int guard = 0; guard < 1000000; guard++) {
        /* The deadline on the monotonic axis, mapped to true time at the current rate. */
        double ahead = (double)(eng_next_deadline(w->e) - NS) - w->mono_s_ns;
        int64_t d = w->true_ns;
        if (ahead > 0)
            d += (int64_t)ceil(ahead / (1 + w->clk.freq_ppm * 1e-6));
        if (d > end)
            break;
        if (d > w->true_ns)
            advance_to(w, d);
        struct eng_now n = now_of(w);
        eng_on_timer(w->e, &n);
        drain(w);
    }
    advance_to(w, end);
}

static void snap_sys(struct world *w, struct snap_system *sys)
{
    struct eng_now n = now_of(w);
    eng_snap(w->e, n.mono_ns, sys, NULL, NULL, 0);
}

/* ---- tests ---- */

static void defaults(void **state)
{
    (void)state;
    struct eng_cfg c;
    eng_cfg_defaults(&c);
    assert_int_equal(c.tos.minclock, 3);
    assert_int_equal(c.tos.maxclock, 10);
    assert_int_equal(c.tos.minsane, 1);
    assert_int_equal(c.tos.orphan, 16);
    assert_true(c.tinker.step_s == 0.128);
    assert_true(c.tinker.panic_s == 1000);
    struct eng_server_cfg s;
    eng_server_defaults(&s);
    assert_int_equal(s.minpoll_log2, 6);
    assert_int_equal(s.maxpoll_log2, 10);
    assert_false(s.iburst);
}

static void add_server_checks(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, false);
    world_start(&w);
    assert_int_equal(add_server(&w, "127.0.0.1", 0), 1);
    assert_int_equal(add_server(&w, "127.0.0.2", 0), 2);
    struct eng_server_cfg c;
    eng_server_defaults(&c);
    c.addr = w.srv[0].addr; /* a duplicate */
    struct eng_now n = now_of(&w);
    assert_int_equal(eng_add_server(w.e, &c, &n), NTK_EINVAL);
    c.addr.port = 1123;
    c.minpoll_log2 = 9;
    c.maxpoll_log2 = 8; /* min above max */
    assert_int_equal(eng_add_server(w.e, &c, &n), NTK_EINVAL);
    c.maxpoll_log2 = 10;
    c.key_id = 5; /* no keys */
    assert_int_equal(eng_add_server(w.e, &c, &n), NTK_EINVAL);
    c.key_id = 0;
    assert_int_equal(eng_add_server(w.e, &c, &n), 3);
    eng_free(w.e);
}

static void syncs_to_a_server(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, false);
    w.clk.phase_s = -0.010; /* the local clock is 10 ms behind */
    world_start(&w);
    assert_int_equal(add_server(&w, "127.0.0.1", 0), 1);
    run(&w, 60);
    struct snap_system sys;
    snap_sys(&w, &sys);
    assert_int_equal(sys.sys_peer, 1);
    assert_int_equal(sys.stratum, 2);
    assert_int_equal(sys.leap, NTK_LEAP_NONE);
    assert_int_equal(sys.refid, 0x7f000001u);
    assert_true(w.events[ENG_EV_SYNC] >= 1);
    assert_true(w.srv[0].requests >= 6); /* the iburst */
    assert_true(w.clk.freqs + w.clk.steps > 0);
    assert_true(fabs(w.clk.phase_s) < 0.001); /* corrected */
    struct snap_assoc a;
    struct eng_now n = now_of(&w);
    assert_int_equal(eng_snap(w.e, n.mono_ns, NULL, NULL, &a, 1), 1);
    assert_int_equal(a.tally, SNAP_TALLY_SYSPEER);
    assert_true(a.reach != 0);
    eng_free(w.e);
}

/* The system poll stays within the system peer's minpoll and maxpoll, as NTPsec's sys_poll:
 * `minpoll 4 maxpoll 6` starts polling every 16 s (NTPsec's ntpq shows reach 1, 3, 7, 17...
 * 16 s apart; ours lengthens the poll sooner, as its discipline firms up, but not beyond
 * 64 s), and `maxpoll 12` lets a quiet clock go beyond the default 1024 s. */
static void poll_follows_the_system_peers_range(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, true);
    world_start(&w);
    assert_int_equal(add_server_polls(&w, "127.0.0.1", 0, 4, 6), 1);
    run(&w, 60);
    /* 6 of the iburst in its first 10 s, then one at 16 s intervals (and a little jitter):
     * at 64 s, the default minpoll, there would be none yet. */
    assert_true(w.srv[0].requests >= 6 + 2);
    run(&w, 3600);
    struct snap_system sys;
    snap_sys(&w, &sys);
    assert_int_equal(sys.sys_peer, 1);
    assert_int_equal(sys.poll_log2, 6);
    struct snap_assoc a;
    struct eng_now n = now_of(&w);
    assert_int_equal(eng_snap(w.e, n.mono_ns, NULL, NULL, &a, 1), 1);
    assert_int_equal(a.hpoll_log2, 6);
    eng_free(w.e);

    world_init(&w, true);
    world_start(&w);
    assert_int_equal(add_server_polls(&w, "127.0.0.1", 0, 6, 12), 1);
    run(&w, 3 * 86400.0);
    snap_sys(&w, &sys);
    assert_int_equal(sys.sys_peer, 1);
    assert_true(sys.poll_log2 > 10);
    assert_true(sys.poll_log2 <= 12);
    n = now_of(&w);
    assert_int_equal(eng_snap(w.e, n.mono_ns, NULL, NULL, &a, 1), 1);
    assert_int_equal(a.hpoll_log2, sys.poll_log2);
    eng_free(w.e);
}

/* NTPsec's tos floor and ceiling: a server of a stratum below floor, or at ceiling or above,
 * is never selected (the default ceiling 15 shuts out stratum-15 servers, as NTPsec's). */
static void floor_and_ceiling(void **state)
{
    (void)state;
    struct world w;
    struct snap_system sys;
    for (int c = 0; c < 3; c++) {
        world_init(&w, true);
        if (c == 1)
            w.cfg.tos.floor = 2; /* our stratum-1 server is below it */
        world_start(&w);
        assert_int_equal(add_server(&w, "127.0.0.1", 0), 1);
        if (c == 2)
            w.srv[0].stratum = 15; /* at the default ceiling */
        run(&w, 60);
        snap_sys(&w, &sys);
        assert_int_equal(sys.sys_peer, c == 0 ? 1 : 0);
        eng_free(w.e);
    }
}

/* A server line's bias is added to every offset from it (NTPsec's bias). */
static void bias_moves_the_offset(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, true);
    world_start(&w);
    struct eng_server_cfg c = new_server(&w, "127.0.0.1", 0);
    c.bias_s = 0.25;
    assert_int_equal(add_server_cfg(&w, &c), 1);
    run(&w, 30);
    struct snap_assoc a;
    struct eng_now n = now_of(&w);
    assert_int_equal(eng_snap(w.e, n.mono_ns, NULL, NULL, &a, 1), 1);
    assert_true(fabs(a.offset_s - 0.25) < 0.001);
    eng_free(w.e);
}

/* `version 3` on a server line: its requests are NTPv3 (and its NTPv4 replies taken). */
static void version_of_the_requests(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, true);
    world_start(&w);
    struct eng_server_cfg c = new_server(&w, "127.0.0.1", 0);
    c.version = 3;
    assert_int_equal(add_server_cfg(&w, &c), 1);
    run(&w, 30);
    assert_int_equal((w.srv[0].req0 >> 3) & 7, 3);
    struct snap_system sys;
    snap_sys(&w, &sys);
    assert_int_equal(sys.sys_peer, 1);
    c.version = 5;
    assert_int_equal(add_server_cfg(&w, &c), NTK_EINVAL);
    eng_free(w.e);
}

/* minpoll 1 maxpoll 1 (a LAN server, as NTPsec allows down to 0 and spaces requests 2 s
 * apart): one request every 2 s after the iburst, though the discipline's own poll stays at
 * 8 s or more. */
static void two_second_poll(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, true);
    world_start(&w);
    assert_int_equal(add_server_polls(&w, "127.0.0.1", 0, 1, 1), 1);
    run(&w, 20);
    int before = w.srv[0].requests;
    run(&w, 60);
    assert_true(w.srv[0].requests - before >= 28 && w.srv[0].requests - before <= 31);
    struct snap_system sys;
    snap_sys(&w, &sys);
    assert_int_equal(sys.sys_peer, 1);
    assert_true(sys.poll_log2 >= ENG_DISC_POLL_MIN);
    eng_free(w.e);
}

static void observe_never_touches_the_clock(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, true);
    w.clk.phase_s = -0.5; /* would be stepped */
    world_start(&w);
    add_server(&w, "127.0.0.1", 0);
    run(&w, 600);
    assert_int_equal(w.clk.steps, 0);
    assert_int_equal(w.clk.freqs, 0);
    assert_int_equal(w.clk.leaps, 0);
    assert_int_equal(w.clk.syncs, 0);
    struct snap_system sys;
    snap_sys(&w, &sys);
    assert_int_equal(sys.sys_peer, 1);
    assert_true(sys.observe);
    assert_true(fabs(sys.offset_s - 0.5) < 0.01);
    eng_free(w.e);
}

static void unknown_sources_and_garbage(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, false);
    world_start(&w);
    add_server(&w, "127.0.0.1", 0);
    struct ntk_addr other;
    assert_int_equal(ntk_addr_parse_span((struct ntk_span){"192.0.2.1", 9}, &other), 0);
    other.port = 123;
    uint8_t junk[48] = {0x24};
    int calls = w.clk.freqs + w.clk.steps; /* disc_init may set the frequency */
    struct eng_now n = now_of(&w);
    eng_on_packet(w.e, &n, junk, sizeof junk, &other, &n.real, ENG_RX_USER);
    eng_on_packet(w.e, &n, junk, sizeof junk, &w.srv[0].addr, &n.real, ENG_RX_USER);
    eng_on_packet(w.e, &n, junk, 3, &w.srv[0].addr, &n.real, ENG_RX_KERNEL);
    struct snap_counters ctr;
    eng_snap(w.e, n.mono_ns, NULL, &ctr, NULL, 0);
    assert_int_equal(ctr.received, 3);
    assert_int_equal(ctr.rx_kernel_ts, 1);
    assert_int_equal(ctr.unknown_source, 1);
    assert_int_equal(ctr.by_rx[1], 2); /* ignored: not a reply to our request */
    assert_int_equal(w.clk.freqs + w.clk.steps, calls);
    eng_free(w.e);
}

static void pool_resolves_and_retries(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, false);
    world_start(&w);
    struct eng_server_cfg c;
    eng_server_defaults(&c);
    memcpy(c.name, "pool.example", 13);
    c.iburst = true;
    struct eng_now n = now_of(&w);
    assert_int_equal(eng_add_pool(w.e, &c, &n), 0);
    drain(&w);
    assert_int_equal(w.resolves, 1);
    assert_string_equal(w.resolve_name, "pool.example");
    eng_on_resolved(w.e, "pool.example", NULL, 0, &n); /* failed: retried in 16 s */
    run(&w, 15);
    assert_int_equal(w.resolves, 1);
    run(&w, 2);
    assert_int_equal(w.resolves, 2);
    struct ntk_addr addrs[3];
    const char *ips[3] = {"127.0.0.1", "127.0.0.2", "127.0.0.3"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ntk_addr_parse_span((struct ntk_span){ips[i], 9}, &addrs[i]), 0);
        w.srv[w.nsrv].addr = addrs[i];
        w.srv[w.nsrv].addr.port = 123;
        w.srv[w.nsrv].stratum = 2;
        w.nsrv++;
    }
    n = now_of(&w);
    eng_on_resolved(w.e, "pool.example", addrs, 3, &n);
    struct snap_assoc a[4];
    assert_int_equal(eng_snap(w.e, n.mono_ns, NULL, NULL, a, 4), 4);
    /* the pool line first (NTPsec's prototype: id 1, refid POOL, stratum 16, never polled) */
    assert_true(a[0].pool_line && !a[0].from_pool);
    assert_int_equal(a[0].id, 1);
    assert_string_equal(a[0].name, "pool.example");
    assert_int_equal(a[0].refid, NTK_REFID_CODE('P', 'O', 'O', 'L'));
    assert_int_equal(a[0].stratum, 16);
    assert_int_equal(a[0].addr.family, NTK_ADDR_NONE);
    assert_int_equal(a[0].hpoll_log2, 8);
    assert_int_equal(a[0].events.count, 1);
    assert_true(a[1].from_pool && a[3].from_pool && !a[1].pool_line);
    assert_int_equal(a[1].id, 2);
    assert_int_equal(a[2].addr.port, 123);
    run(&w, 60);
    struct snap_system sys;
    snap_sys(&w, &sys);
    assert_int_not_equal(sys.sys_peer, 0);
    eng_free(w.e);
}

/* ---- pools, as NTPsec's (engine_internal.h) ---- */

/* Servers 127.0.1.1.. of the world (stratum 2, offsets[i]) as the answer to a pool's lookup,
 * which the engine must have asked for. */
static void pool_answer(struct world *w, const double *offsets, int n)
{
    struct ntk_addr addrs[8];
    assert_true(w->nsrv + n <= 8);
    for (int i = 0; i < n; i++) {
        char ip[24];
        snprintf(ip, sizeof ip, "127.0.1.%d", (w->nsrv + 1) & 0xff);
        (void)new_server(w, ip, offsets[i]);
        w->srv[w->nsrv - 1].stratum = 2;
        addrs[i] = w->srv[w->nsrv - 1].addr;
    }
    struct eng_now now = now_of(w);
    eng_on_resolved(w->e, "pool.test", addrs, (size_t)n, &now);
    drain(w);
}

/* A world with `pool pool.test iburst minpoll 4 maxpoll 4` and tos maxclock m. */
static void pool_world(struct world *w, int m)
{
    world_init(w, true);
    w->cfg.tos.maxclock = m;
    world_start(w);
    struct eng_server_cfg c;
    eng_server_defaults(&c);
    memcpy(c.name, "pool.test", 10);
    c.iburst = true;
    c.minpoll_log2 = c.maxpoll_log2 = 4;
    struct eng_now n = now_of(w);
    assert_int_equal(eng_add_pool(w->e, &c, &n), 0);
    drain(w);
    assert_int_equal(w->resolves, 1);
}

/* The pool members' servers, as the indexes of w->srv (-1 ends the list). */
static void pool_members(struct world *w, int *out, int cap)
{
    struct snap_assoc a[ENG_SERVERS_MAX];
    struct eng_now n = now_of(w);
    size_t k = eng_snap(w->e, n.mono_ns, NULL, NULL, a, ENG_SERVERS_MAX);
    int m = 0;
    assert_true(k >= 1 && a[0].pool_line); /* the pool line first, as NTPsec lists it */
    assert_string_equal(a[0].name, "pool.test");
    for (size_t i = 1; i < k && m + 1 < cap; i++) {
        assert_true(a[i].from_pool && !a[i].pool_line);
        struct server *s = server_at(w, &a[i].addr);
        assert_non_null(s);
        out[m++] = (int)(s - w->srv);
    }
    out[m] = -1;
}

static void assert_members(struct world *w, const char *want)
{
    int m[16];
    pool_members(w, m, 16);
    char got[64] = "";
    for (int i = 0; m[i] >= 0; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%d", i ? " " : "", m[i] + 1);
    assert_string_equal(got, want);
}

/* NTPsec takes every address of an answer, then drops the ones the selection does not keep
 * while there are more associations than maxclock (the pool line is one of them). */
static void pool_takes_all_then_drops_the_useless(void **state)
{
    (void)state;
    struct world w;
    pool_world(&w, 4);
    const double off[6] = {0.001, 0.001, 0.4, 0.001, 0.45, 0.001};
    pool_answer(&w, off, 6);
    assert_members(&w, "1 2 3 4 5 6");
    assert_int_equal(w.events[ENG_EV_MOBILIZE], 7); /* the pool line's, then one each */
    /* 10 polls of 16 s: the two falsetickers go; the four that agree are all combined, so
     * they stay although 5 associations are more than maxclock */
    run(&w, 400);
    assert_members(&w, "1 2 4 6");
    assert_int_equal(w.events[ENG_EV_DEMOBILIZE], 2);
    /* 5 associations >= maxclock and 4 survivors >= minclock: no lookup since the first */
    run(&w, 600);
    assert_int_equal(w.resolves, 1);
    assert_members(&w, "1 2 4 6");
    eng_free(w.e);
}

/* A member that stops answering stays while there are no more associations than maxclock
 * (NTPsec's rule); survivors below minclock make the pool look again at its next poll, and
 * the new address it takes puts the silent one over the limit: dropped. */
static void pool_replaces_the_silent(void **state)
{
    (void)state;
    struct world w;
    pool_world(&w, 4);
    const double off[4] = {0.001, 0.001, 0.001, 0.001};
    pool_answer(&w, off, 3);
    run(&w, 600);
    assert_members(&w, "1 2 3");
    assert_int_equal(w.resolves, 1); /* 4 associations, 3 survivors */
    w.srv[1].silent = true;
    for (int i = 0; i < 40 && w.resolves == 1; i++)
        run(&w, 10);
    assert_int_equal(w.resolves, 2);
    assert_members(&w, "1 2 3");
    (void)new_server(&w, "127.0.1.4", off[3]);
    w.srv[3].stratum = 2;
    /* the answer has the silent one again (not taken twice), and a new one */
    struct ntk_addr answer2[2] = {w.srv[1].addr, w.srv[3].addr};
    struct eng_now n = now_of(&w);
    eng_on_resolved(w.e, "pool.test", answer2, 2, &n);
    drain(&w);
    assert_members(&w, "1 2 3 4");
    run(&w, 400);
    assert_members(&w, "1 3 4");
    assert_int_equal(w.events[ENG_EV_DEMOBILIZE], 1);
    eng_free(w.e);
}

/* Below maxclock the pool asks again at every pool poll (256 s) and grows; an address it
 * already has is not taken twice. */
static void pool_grows_to_maxclock(void **state)
{
    (void)state;
    struct world w;
    pool_world(&w, 8);
    const double off[6] = {0.001, 0.001, 0.001, 0.001, 0.001, 0.001};
    pool_answer(&w, off, 2);
    run(&w, 250);
    assert_int_equal(w.resolves, 1);
    run(&w, 10);
    assert_int_equal(w.resolves, 2);
    struct ntk_addr again[3] = {w.srv[0].addr, w.srv[1].addr};
    struct eng_now n = now_of(&w);
    eng_on_resolved(w.e, "pool.test", again, 2, &n); /* the same two: nothing new */
    assert_members(&w, "1 2");
    run(&w, 256);
    assert_int_equal(w.resolves, 3);
    pool_answer(&w, off, 6);
    assert_members(&w, "1 2 3 4 5 6 7 8");
    run(&w, 600); /* 9 associations, all 8 servers kept: no more lookups */
    assert_int_equal(w.resolves, 3);
    eng_free(w.e);
}

static void once_exits_after_the_first_update(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, false);
    w.cfg.once = true;
    w.clk.phase_s = 0.3;
    world_start(&w);
    add_server(&w, "127.0.0.1", 0);
    run(&w, 60);
    assert_int_equal(w.exits, 1);
    assert_int_equal(w.exit_status, 0);
    assert_int_equal(w.clk.steps, 1);
    assert_true(fabs(w.clk.phase_s) < 0.001);
    eng_free(w.e);
}

static void panic_is_not_corrected(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, false);
    world_start(&w);
    add_server(&w, "127.0.0.1", 2000);
    run(&w, 60);
    assert_true(w.events[ENG_EV_PANIC] >= 1);
    assert_int_equal(w.clk.steps, 0);
    assert_int_equal(w.exits, 1);
    assert_int_equal(w.exit_status, 1);
    eng_free(w.e);
}

/* Observe mode keeps serving past a panic, but never as synchronised: no clock_sync event,
 * no system peer, stratum 16 (it used to log "synchronised" just before the panic). */
static void observe_panic_stays_unsynchronised(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, true);
    world_start(&w);
    add_server(&w, "127.0.0.1", 2000);
    run(&w, 120);
    assert_true(w.events[ENG_EV_PANIC] >= 2); /* at each new sample */
    assert_int_equal(w.events[ENG_EV_SYNC], 0);
    assert_int_equal(w.exits, 0);
    assert_int_equal(w.clk.steps, 0);
    struct snap_system sys;
    snap_sys(&w, &sys);
    assert_int_equal(sys.sys_peer, 0);
    assert_int_equal(sys.stratum, 16);
    eng_free(w.e);
}

static void panic_once_allows_a_step(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, false);
    w.cfg.panic_once = true;
    world_start(&w);
    add_server(&w, "127.0.0.1", 2000);
    run(&w, 60);
    assert_int_equal(w.clk.steps, 1);
    assert_true(fabs(w.clk.phase_s - 2000) < 0.01);
    assert_int_equal(w.events[ENG_EV_STEP], 1);
    assert_int_equal(w.exits, 0);
    eng_free(w.e);
}

static void orphan_mode(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, false);
    w.cfg.tos.orphan = 5;
    w.cfg.tos.orphanwait_s = 10;
    world_start(&w);
    struct eng_server_cfg c;
    eng_server_defaults(&c);
    struct eng_now n = now_of(&w);
    assert_int_equal(ntk_addr_parse_span((struct ntk_span){"127.0.0.1", 9}, &c.addr), 0);
    c.addr.port = 123;
    w.srv[0].addr = c.addr;
    w.srv[0].silent = true;
    w.nsrv = 1;
    assert_int_equal(eng_add_server(w.e, &c, &n), 1);
    struct snap_system sys;
    run(&w, 5);
    snap_sys(&w, &sys);
    assert_int_equal(sys.stratum, 16);
    assert_int_equal(sys.leap, NTK_LEAP_UNSYNC);
    run(&w, 70);
    snap_sys(&w, &sys);
    assert_int_equal(sys.stratum, 5);
    assert_int_equal(sys.leap, NTK_LEAP_NONE);
    assert_int_equal(sys.refid, 0x7f000001u);
    eng_free(w.e);
}

static void kod_deny_stops_polling(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, false);
    world_start(&w);
    add_server(&w, "127.0.0.1", 0);
    w.srv[0].stratum = 0;
    w.srv[0].kiss = "DENY";
    run(&w, 30);
    int asked = w.srv[0].requests;
    assert_int_equal(asked, 1);
    run(&w, 3600);
    assert_int_equal(w.srv[0].requests, asked);
    assert_true(w.events[ENG_EV_KOD] == 1);
    struct snap_counters ctr;
    struct eng_now n = now_of(&w);
    eng_snap(w.e, n.mono_ns, NULL, &ctr, NULL, 0);
    assert_int_equal(ctr.kod_deny, 1);
    eng_free(w.e);
}

#define DEC_1_2025 1764547200LL /* 00:00 UTC; START_UNIX is 2025-11-26 03:00 UTC */

/* Runs w until its real-time clock reads unix_s (to within a second). */
static void run_until(struct world *w, int64_t unix_s)
{
    struct eng_now n = now_of(w);
    if (unix_s > (int64_t)n.real.tv_sec)
        run(w, (double)(unix_s - (int64_t)n.real.tv_sec));
}

/* A server's leap bits on 26 November schedule a leap for the end of the month (RFC 5905,
 * NTPsec): announced and armed only from 30 November 00:00, passed at 1 December 00:00. */
static void leap_bits_wait_for_the_month_end(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, false);
    world_start(&w);
    add_server(&w, "127.0.0.1", 0);
    w.srv[0].leap = NTK_LEAP_INSERT;
    run(&w, 60);
    struct snap_system sys;
    snap_sys(&w, &sys);
    assert_int_equal(sys.sys_peer, 1);
    assert_int_equal(sys.leap, NTK_LEAP_NONE);
    assert_int_equal(w.clk.leaps, 0);
    assert_int_equal(w.events[ENG_EV_LEAP_ARMED], 1);
    run_until(&w, DEC_1_2025 - 86400 - 60);
    snap_sys(&w, &sys);
    assert_int_equal(sys.leap, NTK_LEAP_NONE);
    assert_int_equal(w.clk.leaps, 0);
    run_until(&w, DEC_1_2025 - 86400 + 60);
    snap_sys(&w, &sys);
    assert_int_equal(sys.leap, NTK_LEAP_INSERT);
    assert_int_equal(w.clk.leaps, 1);
    assert_int_equal(w.clk.last_leap, 1);
    assert_false(sys.leap_in_progress);
    run_until(&w, DEC_1_2025 - 600);
    w.srv[0].leap = NTK_LEAP_NONE;
    run_until(&w, DEC_1_2025 - 4);
    snap_sys(&w, &sys);
    assert_false(sys.leap_in_progress);
    run_until(&w, DEC_1_2025 - 1);
    snap_sys(&w, &sys);
    assert_true(sys.leap_in_progress); /* replies say leap 3 (NTPsec) */
    assert_int_equal(sys.leap, NTK_LEAP_INSERT);
    run_until(&w, DEC_1_2025 + 600);
    snap_sys(&w, &sys);
    assert_int_equal(sys.leap, NTK_LEAP_NONE);
    assert_false(sys.leap_in_progress);
    assert_int_equal(w.events[ENG_EV_LEAP], 1);
    assert_int_equal(w.clk.last_leap, 0);
    assert_int_equal(w.events[ENG_EV_LEAP_ARMED], 1);
    assert_int_equal(w.events[ENG_EV_LEAP_DISARMED], 0);
    eng_free(w.e);
}

/* On the last day of a month the servers' bits announce and arm at once. */
static void leap_bits_on_the_last_day(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, false);
    w.start_unix = DEC_1_2025 - 6 * 3600;
    world_start(&w);
    add_server(&w, "127.0.0.1", 0);
    w.srv[0].leap = NTK_LEAP_INSERT;
    run(&w, 60);
    struct snap_system sys;
    snap_sys(&w, &sys);
    assert_int_equal(sys.leap, NTK_LEAP_INSERT);
    assert_int_equal(w.clk.last_leap, 1);
    eng_free(w.e);
}

/* One server of three is not a majority; in the first hour of a month the bits are the old
 * leap's, still set, and schedule nothing; after it, they schedule the next month's end. */
static void leap_bits_need_a_majority_and_a_new_month(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, false);
    world_start(&w);
    add_server(&w, "127.0.0.1", 0);
    add_server(&w, "127.0.0.2", 0);
    add_server(&w, "127.0.0.3", 0);
    w.srv[2].leap = NTK_LEAP_INSERT; /* the last to answer: never alone in the selection */
    run(&w, 600);
    assert_int_equal(w.events[ENG_EV_LEAP_ARMED], 0);
    eng_free(w.e);
    world_init(&w, false);
    w.start_unix = DEC_1_2025 + 600;
    world_start(&w);
    add_server(&w, "127.0.0.1", 0);
    w.srv[0].leap = NTK_LEAP_INSERT;
    run(&w, 600);
    assert_int_equal(w.events[ENG_EV_LEAP_ARMED], 0);
    run_until(&w, DEC_1_2025 + 3600 + 1200);
    assert_int_equal(w.events[ENG_EV_LEAP_ARMED], 1);
    struct snap_system sys;
    snap_sys(&w, &sys);
    assert_int_equal(sys.leap, NTK_LEAP_NONE);
    assert_int_equal(w.clk.leaps, 0);
    eng_free(w.e);
}

/* A leap-seconds table with the 1972 base and one leap beginning at unix_when. */
static void leap_table(struct ntk_leap_table *t, struct ntk_leap_entry e[2], int64_t unix_when,
                       int64_t expires_unix)
{
    e[0] = (struct ntk_leap_entry){.ntp_s = NTK_LEAPFILE_FIRST_NTP_S,
                                   .unix_s = (int64_t)NTK_LEAPFILE_FIRST_NTP_S -
                                             NTK_NTP_UNIX_OFFSET_S,
                                   .tai_utc_s = 10};
    e[1] = (struct ntk_leap_entry){.ntp_s = (uint64_t)(unix_when + NTK_NTP_UNIX_OFFSET_S),
                                   .unix_s = unix_when,
                                   .tai_utc_s = 11};
    *t = (struct ntk_leap_table){.entries = e,
                                 .cap = 2,
                                 .n = 2,
                                 .expires_ntp_s =
                                     (uint64_t)(expires_unix + NTK_NTP_UNIX_OFFSET_S)};
}

/* The leap file arms the kernel during the day that ends with a leap, whatever the servers
 * say; a leap on a later day does not, and an expired file leaves it to the servers. */
static void leap_file_arms_the_kernel(void **state)
{
    (void)state;
    int64_t day_end = (START_UNIX / 86400 + 1) * 86400;
    struct ntk_leap_entry ent[2];
    struct ntk_leap_table tab;
    struct world w;
    /* Today's leap: armed, though the server sends no leap bits. */
    world_init(&w, false);
    world_start(&w);
    leap_table(&tab, ent, day_end, day_end + 30 * 86400);
    eng_set_leap_table(w.e, &tab, START_UNIX);
    add_server(&w, "127.0.0.1", 0);
    run(&w, 60);
    assert_int_equal(w.clk.last_leap, 1);
    struct snap_system sys;
    snap_sys(&w, &sys);
    assert_int_equal(sys.leap, NTK_LEAP_INSERT);
    eng_free(w.e);
    /* Tomorrow's leap: not yet; a server's insert bit is overruled by the file. */
    world_init(&w, false);
    world_start(&w);
    leap_table(&tab, ent, day_end + 86400, day_end + 30 * 86400);
    eng_set_leap_table(w.e, &tab, START_UNIX);
    add_server(&w, "127.0.0.1", 0);
    w.srv[0].leap = NTK_LEAP_INSERT;
    run(&w, 60);
    assert_int_equal(w.clk.leaps, 0);
    snap_sys(&w, &sys);
    assert_int_equal(sys.leap, NTK_LEAP_NONE);
    eng_free(w.e);
    /* An expired file: the servers decide again (the end of the month). */
    world_init(&w, false);
    world_start(&w);
    leap_table(&tab, ent, day_end + 86400, START_UNIX - 1);
    eng_set_leap_table(w.e, &tab, START_UNIX);
    add_server(&w, "127.0.0.1", 0);
    w.srv[0].leap = NTK_LEAP_INSERT;
    run(&w, 60);
    assert_int_equal(w.events[ENG_EV_LEAP_ARMED], 1);
    assert_int_equal(w.clk.leaps, 0);
    eng_free(w.e);
    /* The file's leap on 1 December is scheduled from 28 days before (leap_armed, once),
     * one on 1 January is not yet. */
    world_init(&w, false);
    world_start(&w);
    leap_table(&tab, ent, DEC_1_2025, DEC_1_2025 + 180 * 86400);
    eng_set_leap_table(w.e, &tab, START_UNIX);
    add_server(&w, "127.0.0.1", 0);
    run(&w, 600);
    assert_int_equal(w.events[ENG_EV_LEAP_FILE], 1);
    assert_int_equal(w.events[ENG_EV_LEAP_ARMED], 1);
    assert_int_equal(w.clk.leaps, 0);
    eng_free(w.e);
    world_init(&w, false);
    world_start(&w);
    leap_table(&tab, ent, DEC_1_2025 + 31 * 86400, DEC_1_2025 + 180 * 86400);
    eng_set_leap_table(w.e, &tab, START_UNIX);
    add_server(&w, "127.0.0.1", 0);
    run(&w, 600);
    assert_int_equal(w.events[ENG_EV_LEAP_ARMED], 0);
    eng_free(w.e);
}

/* ---- kernel transmit timestamps and ENG_EV_RAW ---- */

#define TX_RTT_NS 15625000 /* 2^-6 s: the exchange's round trip */
#define TX_LAG_NS 500000   /* the kernel's transmit time after the build time */

/* A fresh observing engine with one iburst server at 127.0.0.1; its first request (sent at
 * once) in *send, *built the time it was built. */
static void first_request(struct world *w, struct eng_action *send, struct eng_now *built)
{
    world_init(w, true);
    world_start(w);
    assert_int_equal(add_server(w, "127.0.0.1", 0), 1);
    *built = now_of(w);
    eng_on_timer(w->e, built);
    bool sent = false;
    while (!sent && eng_pop_action(w->e, send))
        sent = send->kind == ENG_ACT_SEND;
    assert_true(sent);
    assert_int_equal(send->assoc_id, 1);
}

/* The header of the replies below: distinctive values, all within the sample tests. */
static const struct ntk_pkt reply_hdr = {.leap = NTK_LEAP_NONE,
                                         .version = 4,
                                         .mode = NTK_MODE_SERVER,
                                         .stratum = 2,
                                         .poll_log2 = 7,
                                         .precision_log2 = -23,
                                         .root_delay = 0x0200,
                                         .root_disp = 0x0100,
                                         .refid = 0xc0000201u};

static ntk_ts nonce_of(const uint8_t *req)
{
    return ntk_ts_make(
        (uint32_t)req[40] << 24 | (uint32_t)req[41] << 16 | (uint32_t)req[42] << 8 | req[43],
        (uint32_t)req[44] << 24 | (uint32_t)req[45] << 16 | (uint32_t)req[46] << 8 | req[47]);
}

static struct timespec ts_plus(const struct timespec *t, long ns)
{
    struct timespec r = *t;
    r.tv_nsec += ns;
    r.tv_sec += r.tv_nsec / NS;
    r.tv_nsec %= NS;
    if (r.tv_nsec < 0) {
        r.tv_nsec += NS;
        r.tv_sec--;
    }
    return r;
}

/* The server (no offset) receives and sends at built + RTT/2; the reply comes back at
 * built + RTT. org is the request's nonce, flipped in one bit when bogus. Returns T4. */
static struct timespec reply_to(struct world *w, const struct eng_action *send,
                                const struct eng_now *built, bool bogus, struct ntk_pkt *sent)
{
    struct timespec mid = ts_plus(&built->real, TX_RTT_NS / 2);
    struct ntk_pkt p = reply_hdr;
    p.org = nonce_of(send->pkt);
    p.org.v ^= bogus ? 0x10 : 0;
    p.rec = p.xmt = ntk_ts_from_timespec(&mid);
    p.reftime = ntk_ts_add(p.rec, ntk_dur_from_s(-16));
    uint8_t buf[48];
    struct ntk_wr wr;
    ntk_wr_init(&wr, buf, sizeof buf);
    assert_int_equal(ntk_pkt_encode(&wr, &p), 0);
    struct eng_now n = *built;
    n.real = ts_plus(&built->real, TX_RTT_NS);
    n.mono_ns += TX_RTT_NS;
    eng_on_packet(w->e, &n, buf, sizeof buf, &send->remote, &n.real, ENG_RX_KERNEL);
    *sent = p;
    return n.real;
}

/* The ENG_EV_RAW events queued, into raw[0..cap); returns how many. */
static int pop_raw(struct world *w, struct eng_action *raw, int cap)
{
    struct eng_action a;
    int n = 0;
    while (eng_pop_action(w->e, &a))
        if (a.kind == ENG_ACT_EVENT && a.event == ENG_EV_RAW && n < cap)
            raw[n++] = a;
    return n;
}

static void snap_one(struct world *w, struct snap_counters *ctr, struct snap_assoc *as)
{
    struct eng_now n = now_of(w);
    assert_int_equal(eng_snap(w->e, n.mono_ns, NULL, ctr, as, 1), 1);
}

/* The kernel's transmit time becomes T1: the delay shrinks and the offset moves by exactly
 * the lag (δ = RTT - lag, θ = -lag / 2), and ENG_EV_RAW carries the packet's fields with
 * the kernel's T1. */
static void kernel_tx_moves_t1(void **state)
{
    (void)state;
    struct world w;
    struct eng_action send, raw[4];
    struct eng_now built;
    first_request(&w, &send, &built);
    struct timespec tx = ts_plus(&built.real, TX_LAG_NS);
    eng_on_sent(w.e, 1, send.pkt + 40, &tx);
    struct ntk_pkt p;
    struct timespec t4 = reply_to(&w, &send, &built, false, &p);
    assert_int_equal(pop_raw(&w, raw, 4), 1);
    const struct eng_raw *r = &raw[0].raw;
    assert_int_equal(raw[0].assoc_id, 1);
    assert_true(ntk_ts_eq(r->t1, ntk_ts_from_timespec(&tx)));
    assert_true(ntk_ts_eq(r->t2, p.rec));
    assert_true(ntk_ts_eq(r->t3, p.xmt));
    assert_true(ntk_ts_eq(r->t4, ntk_ts_from_timespec(&t4)));
    assert_int_equal(r->leap, NTK_LEAP_NONE);
    assert_int_equal(r->version, 4);
    assert_int_equal(r->mode, NTK_MODE_SERVER);
    assert_int_equal(r->stratum, 2);
    assert_int_equal(r->poll_log2, 7);
    assert_int_equal(r->precision_log2, -23);
    assert_true(r->root_delay_s == 0x0200 / 65536.0);
    assert_true(r->root_disp_s == 0x0100 / 65536.0);
    assert_int_equal(r->refid, 0xc0000201u);
    struct snap_counters ctr;
    struct snap_assoc as;
    snap_one(&w, &ctr, &as);
    assert_true(fabs(as.delay_s - (TX_RTT_NS - TX_LAG_NS) * 1e-9) < 1e-9);
    assert_true(fabs(as.offset_s - (-TX_LAG_NS / 2) * 1e-9) < 1e-9);
    assert_int_equal(ctr.tx_kernel_ts, 1);
    assert_int_equal(ctr.tx_ts_ignored, 0);
    assert_int_equal(ctr.t1_kernel, 1);
    assert_int_equal(ctr.t1_user, 0);
    eng_free(w.e);

    /* The same exchange without a kernel time: T1 is the build time. */
    first_request(&w, &send, &built);
    reply_to(&w, &send, &built, false, &p);
    assert_int_equal(pop_raw(&w, raw, 4), 1);
    assert_true(ntk_ts_eq(raw[0].raw.t1, ntk_ts_from_timespec(&built.real)));
    snap_one(&w, &ctr, &as);
    assert_true(fabs(as.delay_s - TX_RTT_NS * 1e-9) < 1e-9);
    assert_true(fabs(as.offset_s) < 1e-9);
    assert_int_equal(ctr.t1_kernel, 0);
    assert_int_equal(ctr.t1_user, 1);
    eng_free(w.e);
}

/* Stale and foreign transmit times are ignored and counted: another association, another
 * nonce, before the build time, seconds later, a second one, one after the reply. */
static void kernel_tx_ignored(void **state)
{
    (void)state;
    struct world w;
    struct eng_action send, raw[4];
    struct eng_now built;
    first_request(&w, &send, &built);
    uint8_t wrong[8];
    memcpy(wrong, send.pkt + 40, 8);
    wrong[7] ^= 1;
    struct timespec ok = ts_plus(&built.real, TX_LAG_NS);
    struct timespec early = ts_plus(&built.real, -1000);
    struct timespec late = ts_plus(&built.real, 5 * (long)NS);
    eng_on_sent(w.e, 2, send.pkt + 40, &ok);
    eng_on_sent(w.e, 1, wrong, &ok);
    eng_on_sent(w.e, 1, send.pkt + 40, &early);
    eng_on_sent(w.e, 1, send.pkt + 40, &late);
    struct snap_counters ctr;
    struct snap_assoc as;
    snap_one(&w, &ctr, &as);
    assert_int_equal(ctr.tx_kernel_ts, 0);
    assert_int_equal(ctr.tx_ts_ignored, 4);
    struct timespec second = ts_plus(&ok, 1000);
    eng_on_sent(w.e, 1, send.pkt + 40, &ok);
    eng_on_sent(w.e, 1, send.pkt + 40, &second);
    struct ntk_pkt p;
    reply_to(&w, &send, &built, false, &p);
    eng_on_sent(w.e, 1, send.pkt + 40, &ok); /* the reply closed the request */
    assert_int_equal(pop_raw(&w, raw, 4), 1);
    assert_true(ntk_ts_eq(raw[0].raw.t1, ntk_ts_from_timespec(&ok)));
    snap_one(&w, &ctr, &as);
    assert_int_equal(ctr.tx_kernel_ts, 1);
    assert_int_equal(ctr.tx_ts_ignored, 6);
    assert_true(fabs(as.delay_s - (TX_RTT_NS - TX_LAG_NS) * 1e-9) < 1e-9);
    eng_free(w.e);
}

/* rawstats' lost: a request without an answer counts in the line of the next reply. */
static void raw_counts_lost_requests(void **state)
{
    (void)state;
    struct world w;
    struct eng_action send, raw[4];
    struct eng_now built;
    first_request(&w, &send, &built);         /* never answered */
    advance_to(&w, w.true_ns + 2100000000LL); /* iburst: the next request 2 s later */
    built = now_of(&w);
    eng_on_timer(w.e, &built);
    bool sent = false;
    while (!sent && eng_pop_action(w.e, &send))
        sent = send.kind == ENG_ACT_SEND;
    assert_true(sent);
    struct ntk_pkt p;
    reply_to(&w, &send, &built, false, &p);
    assert_int_equal(pop_raw(&w, raw, 4), 1);
    assert_int_equal(raw[0].raw.lost, 1);
    assert_int_equal(raw[0].raw.dropped, 0);
    assert_int_equal(raw[0].raw.flash, 0);
    eng_free(w.e);
}

/* ENG_EV_RAW for a reply whose origin matched our request, and for the first datagram after
 * each request that did not (NTPsec 1.2.2: "at most the first dropped packet per request"),
 * with its origin field, the count and why; not for more of them (a duplicate of the reply
 * after a bogus one), nor from an unknown address. */
static void raw_only_for_our_replies(void **state)
{
    (void)state;
    struct world w;
    struct eng_action send, raw[4];
    struct eng_now built;
    first_request(&w, &send, &built);
    struct ntk_pkt p;
    reply_to(&w, &send, &built, true, &p);
    assert_int_equal(pop_raw(&w, raw, 4), 1);
    assert_true(ntk_ts_eq(raw[0].raw.t1, p.org)); /* the bogus origin, as it came */
    assert_int_equal(raw[0].raw.dropped, 1);
    assert_int_equal(raw[0].raw.lost, 0);
    assert_int_equal(raw[0].raw.flash, SNAP_FLASH_BOGUS);
    assert_true(ntk_addr_eq(&raw[0].remote, &send.remote));
    reply_to(&w, &send, &built, true, &p); /* the second one after the request: no line */
    assert_int_equal(pop_raw(&w, raw, 4), 0);
    struct snap_counters ctr;
    struct snap_assoc as;
    snap_one(&w, &ctr, &as);
    assert_int_equal(ctr.t1_kernel + ctr.t1_user, 0);
    assert_int_equal(ctr.by_rx[1], 2); /* ignored */
    reply_to(&w, &send, &built, false, &p);
    assert_int_equal(pop_raw(&w, raw, 4), 1);
    assert_int_equal(raw[0].raw.dropped, 2); /* the two bogus ones since the request */
    assert_int_equal(raw[0].raw.flash, 0);   /* accepted */
    reply_to(&w, &send, &built, false, &p);  /* a duplicate: the request is closed */
    struct eng_action other = send;
    other.remote.ip[3] = 9;
    reply_to(&w, &other, &built, false, &p);
    assert_int_equal(pop_raw(&w, raw, 4), 0);
    snap_one(&w, &ctr, &as);
    assert_int_equal(ctr.t1_user, 1);
    assert_int_equal(ctr.by_rx[1], 3);
    assert_int_equal(ctr.unknown_source, 1);
    eng_free(w.e);
}

/* A refused reply to our request (stratum 16) still gets its ENG_EV_RAW, as NTPsec writes
 * rawstats before its later tests. */
static void raw_for_refused_reply(void **state)
{
    (void)state;
    struct world w;
    struct eng_action send, raw[4];
    struct eng_now built;
    first_request(&w, &send, &built);
    struct timespec mid = ts_plus(&built.real, TX_RTT_NS / 2);
    struct ntk_pkt p = reply_hdr;
    p.stratum = 16;
    p.leap = NTK_LEAP_UNSYNC;
    p.org = nonce_of(send.pkt);
    p.rec = p.xmt = ntk_ts_from_timespec(&mid);
    uint8_t buf[48];
    struct ntk_wr wr;
    ntk_wr_init(&wr, buf, sizeof buf);
    assert_int_equal(ntk_pkt_encode(&wr, &p), 0);
    struct eng_now n = built;
    n.real = ts_plus(&built.real, TX_RTT_NS);
    eng_on_packet(w.e, &n, buf, sizeof buf, &send.remote, &n.real, ENG_RX_USER);
    assert_int_equal(pop_raw(&w, raw, 4), 1);
    assert_int_equal(raw[0].raw.stratum, 16);
    assert_int_equal(raw[0].raw.leap, NTK_LEAP_UNSYNC);
    eng_free(w.e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(add_server_checks),
        cmocka_unit_test(syncs_to_a_server),
        cmocka_unit_test(poll_follows_the_system_peers_range),
        cmocka_unit_test(floor_and_ceiling),
        cmocka_unit_test(bias_moves_the_offset),
        cmocka_unit_test(two_second_poll),
        cmocka_unit_test(version_of_the_requests),
        cmocka_unit_test(observe_never_touches_the_clock),
        cmocka_unit_test(unknown_sources_and_garbage),
        cmocka_unit_test(pool_resolves_and_retries),
        cmocka_unit_test(pool_takes_all_then_drops_the_useless),
        cmocka_unit_test(pool_replaces_the_silent),
        cmocka_unit_test(pool_grows_to_maxclock),
        cmocka_unit_test(once_exits_after_the_first_update),
        cmocka_unit_test(panic_is_not_corrected),
        cmocka_unit_test(observe_panic_stays_unsynchronised),
        cmocka_unit_test(panic_once_allows_a_step),
        cmocka_unit_test(orphan_mode),
        cmocka_unit_test(kod_deny_stops_polling),
        cmocka_unit_test(leap_bits_wait_for_the_month_end),
        cmocka_unit_test(leap_bits_on_the_last_day),
        cmocka_unit_test(leap_bits_need_a_majority_and_a_new_month),
        cmocka_unit_test(leap_file_arms_the_kernel),
        cmocka_unit_test(kernel_tx_moves_t1),
        cmocka_unit_test(kernel_tx_ignored),
        cmocka_unit_test(raw_only_for_our_replies),
        cmocka_unit_test(raw_counts_lost_requests),
        cmocka_unit_test(raw_for_refused_reply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
