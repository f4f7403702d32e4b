/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of the engine's reference clocks (engine.h "refclocks", eng_refclock.c): adding
 * them, samples through the median filter into the clock filter at each poll, noreply and
 * faults, the system's stratum and refid, PPS numbering and the PPS peer rule, and how mode
 * 6 shows them (peer variables, READCLOCK through ctlsrv). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "../../daemon/core/ctlsrv.h"
#include "../../daemon/core/ctlv.h"
#include "../../daemon/core/engine.h"
#include "../../daemon/core/engine_internal.h"
#include "../../daemon/core/snap.h"
#include "ntk/ctl.h"
#include "ntk/ctlvars.h"
#include "ntk/err.h"
#include "ntk/pkt.h"
#include "ntk/refid.h"
#include "ntk/sb.h"
#include "testutil.h"

#include "poison.h"

#define NS         1000000000LL
#define START_UNIX 1764126000LL

/* ---- a world in observe mode: the local clock is phase_s off true time, never corrected ----
 */

static int c_zero(void *ctx)
{
    (void)ctx;
    return 0;
}
static int c_now(void *ctx, struct timespec *t)
{
    (void)ctx;
    (void)t;
    return 0;
}
static int c_d(void *ctx, double v)
{
    (void)ctx;
    (void)v;
    return 0;
}
static int c_read(void *ctx, double *v)
{
    (void)ctx;
    *v = 0;
    return 0;
}
static int c_leap(void *ctx, int v)
{
    (void)ctx;
    (void)v;
    return 0;
}
static int c_sync(void *ctx, int s, double a, double b)
{
    (void)ctx;
    (void)s;
    (void)a;
    (void)b;
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

struct world {
    int64_t true_ns; /* since start */
    double phase_s;  /* local minus true */
    struct ntk_clk_ops ops;
    uint64_t seed;
    struct eng_rng rng;
    struct eng_cfg cfg;
    struct eng *e;
    struct ntk_addr srv;   /* one network server (family 0: none) */
    double srv_offset_s;   /* its clock minus true time */
    bool srv_silent;       /* it does not answer */
    int sends_to_srv;      /* datagrams to it */
    int sends_elsewhere;   /* datagrams to anything else (a refclock must send none) */
    int events[32];        /* by enum eng_event */
    int rc_ok, rc_refused; /* eng_on_refclock_sample results */
};

/* START_UNIX + t_ns + small_s as a timespec, exact to the ns (a double holding the Unix
 * time would round to 0.2 us). */
static struct timespec ts_at(int64_t t_ns, double small_s)
{
    int64_t ns = t_ns + llround(small_s * 1e9);
    int64_t sec = ns / NS, rem = ns % NS;
    if (rem < 0) {
        sec--;
        rem += NS;
    }
    return (struct timespec){.tv_sec = (time_t)(START_UNIX + sec), .tv_nsec = (long)rem};
}

static struct eng_now now_of(const struct world *w)
{
    struct eng_now n;
    n.real = ts_at(w->true_ns, w->phase_s);
    n.mono_ns = NS + w->true_ns;
    return n;
}

static void world_init(struct world *w, double phase_s)
{
    memset(w, 0, sizeof *w);
    w->phase_s = phase_s;
    w->ops = (struct ntk_clk_ops){.name = "fake",
                                  .now = c_now,
                                  .check_privilege = c_zero,
                                  .step = c_d,
                                  .slew = c_d,
                                  .read_freq = c_read,
                                  .set_freq = c_d,
                                  .set_leap = c_leap,
                                  .set_sync_status = c_sync};
    w->seed = 11;
    w->rng = (struct eng_rng){.ctx = &w->seed, .bytes = rng_bytes};
    eng_cfg_defaults(&w->cfg);
    w->cfg.observe = true;
}

static void world_start(struct world *w)
{
    struct eng_now n = now_of(w);
    w->e = eng_new(&w->cfg, &w->ops, &w->rng, NULL, &n);
    assert_non_null(w->e);
}

/* The server answers at once from its clock (stratum 1, refid GPS). */
static void answer(struct world *w, const uint8_t *req)
{
    struct timespec st = ts_at(w->true_ns, w->srv_offset_s);
    struct ntk_pkt p = {.leap = NTK_LEAP_NONE,
                        .version = 4,
                        .mode = NTK_MODE_SERVER,
                        .stratum = 1,
                        .poll_log2 = 6,
                        .precision_log2 = -20,
                        .refid = NTK_REFID_CODE('G', 'P', 'S', 0)};
    uint64_t org = 0;
    for (int i = 40; i < 48; i++)
        org = org << 8 | req[i];
    p.org = ntk_ts_make((uint32_t)(org >> 32), (uint32_t)org);
    p.rec = p.xmt = p.reftime = ntk_ts_from_timespec(&st);
    uint8_t buf[48];
    struct ntk_wr wr;
    ntk_wr_init(&wr, buf, sizeof buf);
    assert_int_equal(ntk_pkt_encode(&wr, &p), 0);
    struct eng_now n = now_of(w);
    eng_on_packet(w->e, &n, buf, sizeof buf, &w->srv, &n.real, ENG_RX_KERNEL);
}

static void drain(struct world *w)
{
    struct eng_action a;
    while (eng_pop_action(w->e, &a)) {
        if (a.kind == ENG_ACT_EVENT) {
            w->events[a.event & 31]++;
        } else if (a.kind == ENG_ACT_SEND) {
            bool to_srv = w->srv.family != NTK_ADDR_NONE && ntk_addr_eq(&a.remote, &w->srv);
            if (!to_srv) {
                w->sends_elsewhere++;
                continue;
            }
            w->sends_to_srv++;
            if (!w->srv_silent)
                answer(w, a.pkt);
        }
    }
}

/* Runs the engine's timers up to true time t_ns. */
static void timers_to(struct world *w, int64_t t_ns)
{
    drain(w);
    for (int guard = 0; guard < 100000; guard++) {
        int64_t d = eng_next_deadline(w->e) - NS;
        if (d > t_ns)
            break;
        if (d > w->true_ns)
            w->true_ns = d;
        struct eng_now n = now_of(w);
        eng_on_timer(w->e, &n);
        drain(w);
    }
    w->true_ns = t_ns;
}

static int add_rc(struct world *w, enum eng_rc_type t, uint8_t unit, double time1, bool prefer)
{
    struct eng_refclock_cfg c;
    eng_refclock_defaults(&c, t, unit);
    c.time1_s = time1;
    c.prefer = prefer;
    struct eng_now n = now_of(w);
    return eng_add_refclock(w->e, &c, &n);
}

static int add_srv(struct world *w, double offset_s, bool prefer)
{
    const uint8_t ip[4] = {192, 0, 2, 1};
    ntk_addr_set_v4(&w->srv, ip, 123);
    w->srv_offset_s = offset_s;
    struct eng_server_cfg c;
    eng_server_defaults(&c);
    c.addr = w->srv;
    c.iburst = true;
    c.minpoll_log2 = 4;
    c.prefer = prefer;
    struct eng_now n = now_of(w);
    return eng_add_server(w->e, &c, &n);
}

/* One sample per true second for `seconds`: SHM/SOCK with ref = true time + extra_s (its
 * offset is then extra_s - phase + time1); PPS with the local time of the edge at each true
 * second. */
static void feed(struct world *w, uint32_t id, int seconds, double extra_s, bool pps)
{
    for (int i = 0; i < seconds; i++) {
        timers_to(w, (w->true_ns / NS + 1) * NS);
        struct eng_now n = now_of(w);
        struct eng_rc_sample s;
        memset(&s, 0, sizeof s);
        s.local = n.real;
        if (!pps)
            s.ref = ts_at(w->true_ns, extra_s);
        s.leap = NTK_LEAP_NONE;
        memcpy(s.timecode, "$GPRMC,\"x\"\n", 12);
        if (eng_on_refclock_sample(w->e, id, &s, &n) == 0)
            w->rc_ok++;
        else
            w->rc_refused++;
        drain(w);
    }
}

static const struct snap_assoc *snap_of(struct world *w, uint32_t id, struct snap_system *sys)
{
    static struct snap_assoc as[8];
    struct eng_now n = now_of(w);
    size_t k = eng_snap(w->e, n.mono_ns, sys, NULL, as, 8);
    for (size_t i = 0; i < k && i < 8; i++)
        if (as[i].id == id)
            return &as[i];
    fail_msg("no association %u", id);
    return NULL;
}

/* ---- tests ---- */

static void defaults(void **state)
{
    (void)state;
    struct eng_refclock_cfg c;
    eng_refclock_defaults(&c, ENG_RC_SHM, 2);
    assert_int_equal(c.type, ENG_RC_SHM);
    assert_int_equal(c.unit, 2);
    assert_int_equal(c.minpoll_log2, 4);
    assert_int_equal(c.maxpoll_log2, 4);
    assert_int_equal(c.precision_log2, -20);
    assert_int_equal(c.stratum, 0);
    assert_string_equal(c.refid, "");
    assert_string_equal(c.device, "SHM/Shared memory interface");
    assert_true(c.time1_s == 0 && c.time2_s == 0 && !c.prefer && !c.noselect && c.flags == 0);
    eng_refclock_defaults(&c, ENG_RC_PPS, 0);
    assert_string_equal(c.device, "PPS Clock Discipline");
}

static void add_checks(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, 0);
    world_start(&w);
    struct eng_now n = now_of(&w);
    assert_int_equal(add_rc(&w, ENG_RC_SHM, 0, 0, false), 1);
    assert_int_equal(add_rc(&w, ENG_RC_SHM, 0, 0, false), NTK_EINVAL); /* duplicate */
    assert_int_equal(add_rc(&w, ENG_RC_SHM, 1, 0, false), 2);
    assert_int_equal(add_rc(&w, ENG_RC_PPS, 0, 0, false), 3);
    assert_int_equal(add_srv(&w, 0, false), 4); /* one id sequence with the servers */
    struct eng_refclock_cfg c;
    eng_refclock_defaults(&c, ENG_RC_SOCK, 0);
    c.minpoll_log2 = 5;
    c.maxpoll_log2 = 4;
    assert_int_equal(eng_add_refclock(w.e, &c, &n), NTK_EINVAL);
    c.minpoll_log2 = -1; /* 0 (1 s) is the shortest, as NTPsec's */
    assert_int_equal(eng_add_refclock(w.e, &c, &n), NTK_EINVAL);
    c.minpoll_log2 = 4;
    c.maxpoll_log2 = ENG_POLL_MAX + 1;
    assert_int_equal(eng_add_refclock(w.e, &c, &n), NTK_EINVAL);
    c.maxpoll_log2 = 6;
    c.stratum = 16;
    assert_int_equal(eng_add_refclock(w.e, &c, &n), NTK_EINVAL);
    c.stratum = 0;
    memcpy(c.refid, "GPSXX", 5); /* not terminated */
    assert_int_equal(eng_add_refclock(w.e, &c, &n), NTK_EINVAL);
    memcpy(c.refid, "GPS", 4);
    c.time1_s = (double)NAN;
    assert_int_equal(eng_add_refclock(w.e, &c, &n), NTK_EINVAL);
    c.time1_s = 0;
    c.type = (enum eng_rc_type)99;
    assert_int_equal(eng_add_refclock(w.e, &c, &n), NTK_EINVAL);
    c.type = ENG_RC_SOCK;
    assert_int_equal(eng_add_refclock(w.e, &c, &n), 5);
    /* A refclock has no address to move. */
    struct ntk_addr a;
    const uint8_t ip[4] = {192, 0, 2, 9};
    ntk_addr_set_v4(&a, ip, 123);
    assert_int_equal(eng_set_server_addr(w.e, 1, &a, &n), NTK_EINVAL);
    /* The refclock table fills up. */
    int added = 4, rc = 0;
    for (uint8_t u = 2; u < 40 && (rc = add_rc(&w, ENG_RC_SHM, u, 0, false)) > 0; u++)
        added++;
    assert_int_equal(rc, NTK_ENOSPC);
    assert_int_equal(added, ENG_RC_MAX);
    /* Samples for a server or an unknown id. */
    struct eng_rc_sample s;
    memset(&s, 0, sizeof s);
    s.ref = s.local = n.real;
    assert_int_equal(eng_on_refclock_sample(w.e, 4, &s, &n), NTK_ENOTFOUND);
    assert_int_equal(eng_on_refclock_sample(w.e, 999, &s, &n), NTK_ENOTFOUND);
    eng_on_refclock_fault(w.e, 999, ENG_RC_BADDATA); /* ignored */
    eng_free(w.e);
}

/* SHM: the trimmed mean of each poll's samples into the clock filter; the system becomes
 * stratum 1 with refid SHM; no datagram is ever sent for it. */
static void shm_sync(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, -0.005); /* the local clock 5 ms behind */
    world_start(&w);
    int id = add_rc(&w, ENG_RC_SHM, 0, 0.001, false);
    assert_int_equal(id, 1);
    struct snap_system sys;
    const struct snap_assoc *a = snap_of(&w, 1, &sys);
    assert_true(a->refclock);
    assert_string_equal(a->name, "SHM(0)");
    assert_int_equal(a->addr.family, NTK_ADDR_V4);
    assert_int_equal(a->addr.ip[0], 127);
    assert_int_equal(a->addr.ip[1], 127);
    assert_int_equal(a->addr.ip[2], 28);
    assert_int_equal(a->addr.ip[3], 0);
    assert_int_equal(a->addr.port, 123);
    assert_int_equal(a->stratum, 0);
    assert_int_equal(a->refid, NTK_REFID_CODE('S', 'H', 'M', 0));
    assert_int_equal(a->hpoll_log2, 4);
    assert_int_equal(sys.stratum, 16);
    feed(&w, 1, 64, 0.0, false);
    a = snap_of(&w, 1, &sys);
    assert_int_equal(w.sends_elsewhere, 0);
    assert_int_equal(a->sent, 0);
    assert_true(a->rc_polls >= 4 && a->rc_polls <= 5);
    assert_int_equal(a->rc_samples, 64);
    assert_int_equal(a->rc_noreply, 0);
    assert_true(fabs(a->offset_s - 0.006) < 1e-8); /* ref - local + time1 */
    assert_true(a->delay_s == 0);
    assert_true(a->jitter_s < 1e-8 + ldexp(1.0, -20));
    assert_int_equal(a->reach & 1, 1);
    assert_int_equal(a->tally, SNAP_TALLY_SYSPEER);
    assert_int_equal(a->rc_status, NTK_CTL_CLK_OKAY);
    assert_string_equal(a->rc_timecode, "$GPRMC,.x..");
    assert_int_equal(sys.sys_peer, 1);
    assert_int_equal(sys.stratum, 1);
    assert_int_equal(sys.refid, NTK_REFID_CODE('S', 'H', 'M', 0));
    assert_true(fabs(sys.offset_s - 0.006) < 1e-8);
    assert_true(w.events[ENG_EV_SYNC] == 1 && w.events[ENG_EV_REACH] == 1);
    assert_true(w.events[ENG_EV_PEER_UPDATE] >= 4);
    eng_free(w.e);
}

/* A poll without a sample: reach shifts a 0 in, noreply counts once per poll (a driver's
 * NOREPLY in the same interval is not counted twice), the clock status is noreply; after 8
 * empty polls the refclock is unreachable and the system loses it. */
static void noreply_and_faults(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, 0);
    world_start(&w);
    assert_int_equal(add_rc(&w, ENG_RC_SOCK, 3, 0, false), 1);
    feed(&w, 1, 40, 0.0, false);
    struct snap_system sys;
    const struct snap_assoc *a = snap_of(&w, 1, &sys);
    uint64_t polls = a->rc_polls;
    assert_int_equal(sys.sys_peer, 1);
    assert_string_equal(a->rc_name, "SOCK");
    eng_on_refclock_fault(w.e, 1, ENG_RC_NOREPLY);
    eng_on_refclock_fault(w.e, 1, ENG_RC_NOREPLY);
    eng_on_refclock_fault(w.e, 1, ENG_RC_BADFORMAT);
    eng_on_refclock_fault(w.e, 1, ENG_RC_BADFORMAT);
    eng_on_refclock_fault(w.e, 1, ENG_RC_BADDATA);
    a = snap_of(&w, 1, &sys);
    assert_int_equal(a->rc_noreply, 1);
    assert_int_equal(a->rc_badformat, 2);
    assert_int_equal(a->rc_baddata, 1);
    assert_int_equal(a->rc_status, NTK_CTL_CLK_BADTIME);
    assert_int_equal(a->rc_lastevent, NTK_CTL_CLK_BADTIME);
    assert_int_equal(a->events.last, SNAP_PEVNT_CLOCK);
    /* The next poll takes the samples that came since the last one (status ok again), the
     * one after finds nothing: the interval's driver NOREPLY is not counted twice. */
    timers_to(&w, w.true_ns + 16 * NS);
    a = snap_of(&w, 1, &sys);
    assert_int_equal(a->rc_polls, polls + 1);
    assert_int_equal(a->reach & 1, 1);
    assert_int_equal(a->rc_status, NTK_CTL_CLK_OKAY);
    eng_on_refclock_fault(w.e, 1, ENG_RC_NOREPLY);
    timers_to(&w, w.true_ns + 16 * NS);
    a = snap_of(&w, 1, &sys);
    assert_int_equal(a->rc_polls, polls + 2);
    assert_int_equal(a->rc_noreply, 2);
    assert_int_equal(a->reach & 3, 2);
    assert_int_equal(a->rc_status, NTK_CTL_CLK_NOREPLY);
    /* Two more empty polls: two more noreplies. */
    timers_to(&w, w.true_ns + 32 * NS);
    a = snap_of(&w, 1, &sys);
    assert_int_equal(a->rc_noreply, 4);
    assert_int_equal(a->reach & 15, 8);
    /* Silent long enough: unreachable, and the system unsynchronised. */
    timers_to(&w, w.true_ns + 8 * 16 * NS);
    a = snap_of(&w, 1, &sys);
    assert_int_equal(a->reach, 0);
    assert_int_equal(w.events[ENG_EV_UNREACH], 1);
    assert_int_equal(sys.sys_peer, 0);
    assert_true(w.events[ENG_EV_UNSYNC] >= 1);
    /* Samples again: back once the dummy stages are pushed out (about 4 polls). */
    feed(&w, 1, 100, 0.0, false);
    a = snap_of(&w, 1, &sys);
    assert_int_equal(a->rc_status, NTK_CTL_CLK_OKAY);
    assert_int_equal(sys.sys_peer, 1);
    eng_free(w.e);
}

/* Samples beyond the panic threshold are refused, unless -g and the clock was never set. */
static void panic_refused(void **state)
{
    (void)state;
    for (int g = 0; g < 2; g++) {
        struct world w;
        world_init(&w, 0);
        w.cfg.panic_once = g == 1;
        world_start(&w);
        assert_int_equal(add_rc(&w, ENG_RC_SHM, 0, 0, false), 1);
        struct eng_now n = now_of(&w);
        struct eng_rc_sample s;
        memset(&s, 0, sizeof s);
        s.local = n.real;
        s.ref = n.real;
        s.ref.tv_sec += 2000;
        assert_int_equal(eng_on_refclock_sample(w.e, 1, &s, &n), g ? 0 : NTK_ERANGE);
        s.ref.tv_sec -= 1500; /* 500 s: within the threshold */
        assert_int_equal(eng_on_refclock_sample(w.e, 1, &s, &n), 0);
        s.ref.tv_nsec = NS; /* not a valid timespec: refused too */
        assert_int_equal(eng_on_refclock_sample(w.e, 1, &s, &n), NTK_ERANGE);
        struct snap_system sys;
        const struct snap_assoc *a = snap_of(&w, 1, &sys);
        assert_int_equal(a->rc_refused, g ? 1 : 2);
        assert_int_equal(a->rc_samples, g ? 2 : 1);
        eng_free(w.e);
    }
}

/* PPS alone: no second to number the edges with; refused and counted. */
static void pps_alone_refused(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, 0.000002);
    world_start(&w);
    assert_int_equal(add_rc(&w, ENG_RC_PPS, 0, 0, false), 1);
    feed(&w, 1, 100, 0, true);
    assert_int_equal(w.rc_ok, 0);
    assert_int_equal(w.rc_refused, 100);
    struct snap_system sys;
    const struct snap_assoc *a = snap_of(&w, 1, &sys);
    assert_int_equal(a->rc_refused_pps, 100);
    assert_int_equal(a->rc_refused, 0);
    assert_int_equal(a->rc_samples, 0);
    assert_int_equal(a->reach, 0);
    assert_int_equal(a->tally, SNAP_TALLY_REJECT);
    assert_int_equal(sys.sys_peer, 0);
    assert_string_equal(a->name, "PPS(0)");
    eng_free(w.e);
}

/* PPS numbered by a prefer server: the edge's offset to the nearest second; the PPS refclock
 * becomes the PPS peer ('o'), the system stratum 1 with refid PPS and its offset. */
static void pps_peer(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, 0.000003); /* 3 us ahead */
    world_start(&w);
    assert_int_equal(add_srv(&w, 0.002, true), 1); /* 2 ms off, prefer */
    assert_int_equal(add_rc(&w, ENG_RC_PPS, 1, 0.0000005, false), 2);
    timers_to(&w, 20 * NS); /* the iburst: the server becomes the system peer */
    struct snap_system sys;
    snap_of(&w, 1, &sys);
    assert_int_equal(sys.sys_peer, 1);
    feed(&w, 2, 100, 0, true);
    assert_int_equal(w.rc_refused, 0);
    const struct snap_assoc *p = snap_of(&w, 2, &sys);
    assert_true(fabs(p->offset_s - (-0.000003 + 0.0000005)) < 1e-9);
    assert_int_equal(p->tally, SNAP_TALLY_PPSPEER);
    assert_int_equal(sys.sys_peer, 2);
    assert_int_equal(sys.stratum, 1);
    assert_int_equal(sys.refid, NTK_REFID_CODE('P', 'P', 'S', 0));
    assert_true(fabs(sys.offset_s - p->offset_s) < 1e-12);
    const struct snap_assoc *s = snap_of(&w, 1, &sys);
    assert_int_equal(s->tally, SNAP_TALLY_CANDIDATE);
    eng_free(w.e);
}

/* Without prefer the server numbers the edges, but the PPS never becomes the system peer. */
static void pps_without_prefer(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, 0);
    world_start(&w);
    assert_int_equal(add_srv(&w, 0.002, false), 1);
    assert_int_equal(add_rc(&w, ENG_RC_PPS, 0, 0, false), 2);
    timers_to(&w, 20 * NS);
    feed(&w, 2, 100, 0, true);
    assert_int_equal(w.rc_refused, 0);
    struct snap_system sys;
    const struct snap_assoc *p = snap_of(&w, 2, &sys);
    assert_int_equal(p->tally, SNAP_TALLY_CANDIDATE);
    assert_int_equal(sys.sys_peer, 1);
    assert_int_equal(sys.stratum, 2);
    eng_free(w.e);
}

/* gpsd's usual pair: `refclock shm unit 0 prefer` (the NMEA time, ms-coarse) numbers the
 * edges of `refclock pps`, which becomes the PPS peer. */
static void pps_with_shm_prefer(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, 0.000004);
    world_start(&w);
    assert_int_equal(add_rc(&w, ENG_RC_SHM, 0, 0, true), 1);
    assert_int_equal(add_rc(&w, ENG_RC_PPS, 0, 0, false), 2);
    for (int i = 0; i < 120; i++) {
        feed(&w, 1, 1, 0.003 * ((i % 3) - 1), false); /* NMEA: -3, 0, +3 ms */
        struct eng_now n = now_of(&w);
        struct eng_rc_sample e;
        memset(&e, 0, sizeof e);
        e.local = n.real;
        (void)eng_on_refclock_sample(w.e, 2, &e, &n); /* the edge at the same second */
        drain(&w);
    }
    struct snap_system sys;
    const struct snap_assoc *p = snap_of(&w, 2, &sys);
    assert_true(p->rc_samples > 60);
    assert_true(fabs(p->offset_s + 0.000004) < 1e-9);
    assert_int_equal(p->tally, SNAP_TALLY_PPSPEER);
    assert_int_equal(sys.sys_peer, 2);
    assert_int_equal(sys.refid, NTK_REFID_CODE('P', 'P', 'S', 0));
    assert_int_equal(snap_of(&w, 1, &sys)->tally, SNAP_TALLY_CANDIDATE);
    eng_free(w.e);
}

/* Numbering: the nearest second either way, and refused when the source is 0.4 s off or
 * more. */
static void pps_numbering(void **state)
{
    (void)state;
    for (int far = 0; far < 2; far++) {
        struct world w;
        world_init(&w, 0);
        world_start(&w);
        assert_int_equal(add_srv(&w, far ? 0.45 : 0.1, true), 1);
        assert_int_equal(add_rc(&w, ENG_RC_PPS, 0, 0, false), 2);
        timers_to(&w, 20 * NS);
        struct eng_now n = now_of(&w);
        struct eng_rc_sample s;
        memset(&s, 0, sizeof s);
        s.local.tv_sec = n.real.tv_sec;
        s.local.tv_nsec = 999999000; /* 1 us before the second: +1 us */
        assert_int_equal(eng_on_refclock_sample(w.e, 2, &s, &n), far ? NTK_ERANGE : 0);
        s.local.tv_nsec = 400000000; /* -0.4 s */
        assert_int_equal(eng_on_refclock_sample(w.e, 2, &s, &n), far ? NTK_ERANGE : 0);
        if (!far) {
            struct eng_rc *rc = eng_rc_by_id(w.e, 2);
            assert_non_null(rc);
            assert_int_equal(rc_filter_count(&rc->filt), 2);
            double a = rc->filt.s[0].offset_s, b = rc->filt.s[1].offset_s;
            assert_true(fabs(a - 1e-6) < 1e-12);
            assert_true(fabs(b + 0.4) < 1e-12);
        }
        eng_free(w.e);
    }
}

/* ---- mode 6 ---- */

struct m6 {
    struct snap_system sys;
    struct snap_assoc as[4];
    struct ctlv_src src;
};

static void m6_of(struct world *w, struct m6 *m)
{
    memset(m, 0, sizeof *m);
    struct eng_now n = now_of(w);
    size_t k = eng_snap(w->e, n.mono_ns, &m->sys, NULL, m->as, 4);
    m->src.sys = &m->sys;
    m->src.assocs = m->as;
    m->src.nassocs = k < 4 ? k : 4;
    m->src.now_mono_ns = n.mono_ns;
    m->src.now = n.real;
}

/* Asks ctlsrv (from loopback) op for assoc with data; returns the error code or -1, and
 * the response's data (NUL-terminated) and status. */
static int ask(const struct m6 *m, uint8_t op, uint16_t assoc, const char *data, char *out,
               size_t cap, uint16_t *status)
{
    struct ctlsrv_cfg cfg = {.mru_rows = 16};
    struct ctlsrv *s = ctlsrv_new(&cfg);
    assert_non_null(s);
    struct ntk_ctl_hdr h = {.version = 2,
                            .opcode = op,
                            .sequence = 1,
                            .associd = assoc,
                            .count = (uint16_t)strlen(data)};
    uint8_t req[NTK_CTL_DATAGRAM_MAX], resp[NTK_CTL_DATAGRAM_MAX];
    int len = ntk_ctl_encode(&h, (const uint8_t *)data, NULL, 0, req, sizeof req);
    assert_true(len > 0);
    struct ctlsrv_req q = {.buf = req, .len = (size_t)len, .local = true, .now_mono_ns = NS};
    const uint8_t ip[4] = {127, 0, 0, 1};
    ntk_addr_set_v4(&q.src, ip, 40000);
    struct ctlsrv_env env = {.vars = &m->src};
    assert_int_equal(ctlsrv_handle(s, &env, &q), 1);
    int rlen = ctlsrv_next(s, NULL, resp, sizeof resp);
    assert_true(rlen >= 12);
    struct ntk_ctl_msg msg;
    assert_int_equal(ntk_ctl_decode(resp, (size_t)rlen, &msg), 0);
    *status = msg.hdr.status;
    /* The writer breaks long lines after a comma as NTPsec does: join them again. */
    size_t k = 0;
    for (size_t i = 0; i < msg.hdr.count && k + 1 < cap; i++) {
        if (msg.data[i] == '\r')
            continue;
        out[k++] = msg.data[i] == '\n' ? ' ' : (char)msg.data[i];
    }
    while (k > 0 && out[k - 1] == ' ')
        k--; /* the final line end */
    out[k] = '\0';
    ctlsrv_free(s);
    return msg.hdr.error ? (int)(msg.hdr.status >> 8) : -1;
}

static void mode6(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, 0);
    world_start(&w);
    struct eng_refclock_cfg c;
    eng_refclock_defaults(&c, ENG_RC_SHM, 0);
    c.time1_s = 0.0125;
    c.flags = 0x5;
    struct eng_now n = now_of(&w);
    assert_int_equal(eng_add_refclock(w.e, &c, &n), 1);
    eng_on_refclock_fault(w.e, 1, ENG_RC_BADFORMAT);
    feed(&w, 1, 40, -0.0125, false); /* offset 0 with time1 */
    struct m6 m;
    m6_of(&w, &m);
    char out[1024];
    uint16_t st = 0;
    /* READCLOCK, the default list (associd 0: the system peer is this refclock). */
    for (uint16_t id = 0; id < 2; id++) {
        assert_int_equal(ask(&m, NTK_CTL_OP_READCLOCK, id, "", out, sizeof out, &st), -1);
        char want[512];
        struct ntk_sb sb;
        ntk_sb_init(&sb, want, sizeof want);
        ntk_sb_printf(&sb,
                      "device=\"SHM/Shared memory interface\", name=\"SHM\", "
                      "timecode=\"$GPRMC,.x..\", poll=%llu, noreply=0, badformat=1, "
                      "baddata=0, fudgetime1=12.500, stratum=0, refid=SHM, flags=5",
                      (unsigned long long)m.as[0].rc_polls);
        assert_string_equal(out, want);
        assert_int_equal(st, ntk_ctl_clk_status_pack(NTK_CTL_CLK_OKAY, NTK_CTL_CLK_OKAY));
    }
    /* Named variables, fudgetime2 included even when 0. */
    assert_int_equal(
        ask(&m, NTK_CTL_OP_READCLOCK, 1, "fudgetime2,noreply", out, sizeof out, &st), -1);
    assert_string_equal(out, "fudgetime2=0.000, noreply=0");
    assert_int_equal(ask(&m, NTK_CTL_OP_READCLOCK, 1, "nosuchvar", out, sizeof out, &st),
                     NTK_CTL_CERR_UNKNOWNVAR);
    assert_int_equal(ask(&m, NTK_CTL_OP_READCLOCK, 7, "", out, sizeof out, &st),
                     NTK_CTL_CERR_BADASSOC);
    /* The peer variables as NTPsec shows a refclock. */
    assert_int_equal(ask(&m, NTK_CTL_OP_READVAR, 1,
                         "srcadr,srcport,srchost,refid,stratum,hmode,flash", out, sizeof out,
                         &st),
                     -1);
    assert_string_equal(out, "srcadr=127.127.28.0, srcport=123, hmode=3, stratum=0, "
                             "refid=SHM, flash=0x0, srchost=\"SHM(0)\"");
    /* The peer status word: configured, reachable, the system peer. */
    assert_int_equal(ask(&m, NTK_CTL_OP_UNSPEC, 1, "", out, sizeof out, &st), -1);
    struct ntk_ctl_peer_status ps;
    ntk_ctl_peer_status_unpack(st, &ps);
    assert_int_equal(ps.sel, NTK_CTL_SEL_SYSPEER);
    assert_true(ps.flags & NTK_CTL_PST_REACH);
    /* The system status word names a UHF clock (NTPsec's SHM sstclktype). */
    assert_int_equal(ask(&m, NTK_CTL_OP_UNSPEC, 0, "", out, sizeof out, &st), -1);
    struct ntk_ctl_sys_status ss;
    ntk_ctl_sys_status_unpack(st, &ss);
    assert_int_equal(ss.source, NTK_CTL_SRC_UHF);
    eng_free(w.e);
}

/* No refclock: READCLOCK is BADASSOC whatever the id (as before). */
static void mode6_no_refclock(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, 0);
    world_start(&w);
    assert_int_equal(add_srv(&w, 0, false), 1);
    struct m6 m;
    m6_of(&w, &m);
    char out[64];
    uint16_t st;
    assert_int_equal(ask(&m, NTK_CTL_OP_READCLOCK, 0, "", out, sizeof out, &st),
                     NTK_CTL_CERR_BADASSOC);
    assert_int_equal(ask(&m, NTK_CTL_OP_READCLOCK, 1, "", out, sizeof out, &st),
                     NTK_CTL_CERR_BADASSOC);
    eng_free(w.e);
}

/* Property: whatever the samples' noise (seeded), the poll's offset lies within the samples
 * of that poll, the jitter is not negative, and samples within the threshold are accepted. */
static void property_polls(void **state)
{
    (void)state;
    tu_seed();
    for (int iter = 0; iter < 40; iter++) {
        struct world w;
        world_init(&w, 0);
        world_start(&w);
        assert_int_equal(add_rc(&w, ENG_RC_SHM, 0, 0, false), 1);
        double lo = INFINITY, hi = -INFINITY;
        for (int i = 0; i < 48; i++) {
            double x = ((double)(tu_rand() % 2000001) - 1000000.0) * 1e-9; /* +-1 ms */
            lo = fmin(lo, x);
            hi = fmax(hi, x);
            feed(&w, 1, 1, x, false);
        }
        assert_int_equal(w.rc_refused, 0);
        struct snap_system sys;
        const struct snap_assoc *a = snap_of(&w, 1, &sys);
        assert_true(a->rc_polls >= 2);
        assert_true(a->offset_s >= lo - 1e-9 && a->offset_s <= hi + 1e-9);
        assert_true(a->jitter_s >= 0);
        eng_free(w.e);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(add_checks),
        cmocka_unit_test(shm_sync),
        cmocka_unit_test(noreply_and_faults),
        cmocka_unit_test(panic_refused),
        cmocka_unit_test(pps_alone_refused),
        cmocka_unit_test(pps_peer),
        cmocka_unit_test(pps_without_prefer),
        cmocka_unit_test(pps_with_shm_prefer),
        cmocka_unit_test(pps_numbering),
        cmocka_unit_test(mode6),
        cmocka_unit_test(mode6_no_refclock),
        cmocka_unit_test(property_polls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
