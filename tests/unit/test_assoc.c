/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for daemon/core/assoc.c, driven with a fake clock and a scripted server: the
 * iburst life cycle, reach bits, unreachable backoff, poll jitter and clamping, kisses of
 * death (RATE, DENY, forged), duplicates, steps, MAC keys, the header / distance / loop
 * tests, root distance and selectability, and a seeded loop of garbage datagrams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>

#include "assoc.h"
#include "ntk/buf.h"
#include "ntk/err.h"
#include "ntk/mac.h"
#include "ntk/ntime.h"
#include "ntk/pkt.h"
#include "snap.h"
#include "testutil.h"

#include "poison.h"

#define assert_near(got, want, tol)                                                           \
    do {                                                                                      \
        double g_ = (got), w_ = (want);                                                       \
        if (!(g_ - w_ <= (tol) && w_ - g_ <= (tol))) {                                        \
            fail_msg("%s = %.17g, want %.17g", #got, g_, w_);                                 \
        }                                                                                     \
    } while (0)

#define S_NS    1000000000LL
#define BUF     128
#define REFID_X 0xc0000201u /* 192.0.2.1 */

/* The fake world: the two clocks, one association, the request in flight. */
struct env {
    struct eng_now now;
    struct assoc a;
    struct assoc_sys sys;
    struct ntk_mac_keys *keys;
    uint8_t req[BUF];
    int req_len;
    ntk_ts req_t1; /* the client's clock when the request left */
};

/* What the scripted server answers. */
struct reply {
    double offset_s; /* server clock minus client clock */
    double delay_s;  /* round trip, split evenly */
    uint8_t stratum; /* 0 with kiss */
    enum ntk_leap leap;
    uint32_t refid;
    ntk_short root_delay, root_disp;
    const char *kiss;  /* a kiss code, or NULL */
    uint32_t key_id;   /* sign with this key (0: no MAC) */
    bool wrong_origin; /* echo something else than the nonce */
    double held_s;     /* T3 - T2: the server's processing time (0: none) */
};

static const struct reply good = {
    .offset_s = 0.001,
    .delay_s = 0.010,
    .stratum = 2,
    .leap = NTK_LEAP_NONE,
    .refid = 0x0a000001u,
    .root_delay = 0x100, /* 1/256 s */
    .root_disp = 0x80,   /* 1/512 s */
};

static void cfg_default(struct eng_server_cfg *c)
{
    memset(c, 0, sizeof *c);
    c->addr.family = NTK_ADDR_V4;
    c->minpoll_log2 = 6;
    c->maxpoll_log2 = 10;
}

static void env_init(struct env *e, const struct eng_server_cfg *c)
{
    memset(e, 0, sizeof *e);
    e->now.real.tv_sec = 1795000000; /* 2026-11-18 */
    e->now.real.tv_nsec = 250000000;
    e->now.mono_ns = 1000 * S_NS;
    e->sys.our_stratum = 16;
    e->sys.precision_log2 = -20;
    e->sys.maxdist_s = 1.5;
    assoc_init(&e->a, 1, c, 15, e->now.mono_ns, (uint32_t)tu_rand());
}

static void advance_ns(struct env *e, int64_t ns)
{
    e->now.mono_ns += ns;
    int64_t total = e->now.real.tv_nsec + ns % S_NS;
    e->now.real.tv_sec += (time_t)(ns / S_NS + total / S_NS);
    e->now.real.tv_nsec = (long)(total % S_NS);
}

static void advance_s(struct env *e, double s)
{
    advance_ns(e, (int64_t)llround(s * 1e9));
}

/* Moves the clocks to the next due poll (asserting nothing is due before) and polls. */
static int64_t poll_next(struct env *e)
{
    int64_t wait = e->a.next_poll_mono_ns - e->now.mono_ns;
    if (wait > 0) {
        advance_ns(e, wait - 1);
        assert_false(assoc_due(&e->a, e->now.mono_ns));
        advance_ns(e, 1);
    }
    assert_true(assoc_due(&e->a, e->now.mono_ns));
    uint8_t rnd[12];
    tu_fill(rnd, sizeof rnd);
    rnd[0] |= 1; /* never the all-zero nonce */
    e->req_len = assoc_poll(&e->a, &e->now, rnd, e->keys, e->req, sizeof e->req);
    assert_true(e->req_len >= NTK_PKT_HDR_LEN);
    e->req_t1 = ntk_ts_from_timespec(&e->now.real);
    assert_true(ntk_ts_eq(e->a.q.t1, e->req_t1));
    return wait > 0 ? wait : 0;
}

/* The server's reply to the request in flight (the client clock reads T1 at send, T4 =
 * T1 + delay at receive; the server's clock is offset_s ahead). */
static size_t make_reply(const struct env *e, const struct reply *r, uint8_t *out)
{
    struct ntk_pkt req;
    assert_int_equal(ntk_pkt_decode(e->req, (size_t)e->req_len, &req, NULL, NULL), 0);
    struct ntk_pkt p = {
        .leap = r->leap,
        .version = 4,
        .mode = NTK_MODE_SERVER,
        .stratum = r->stratum,
        .poll_log2 = 6,
        .precision_log2 = -20,
        .root_delay = r->root_delay,
        .root_disp = r->root_disp,
        .refid = r->refid,
    };
    if (r->kiss != NULL) {
        p.stratum = 0;
        p.refid = (uint32_t)r->kiss[0] << 24 | (uint32_t)r->kiss[1] << 16 |
                  (uint32_t)r->kiss[2] << 8 | (uint32_t)r->kiss[3];
    }
    p.org = req.xmt;
    if (r->wrong_origin) {
        p.org.v ^= 0x100;
    }
    p.rec = ntk_ts_add(e->req_t1, ntk_dur_from_s(r->offset_s + r->delay_s / 2));
    p.xmt = ntk_ts_add(p.rec, ntk_dur_from_s(r->held_s));
    p.reftime = ntk_ts_add(p.rec, ntk_dur_from_s(-10));
    struct ntk_wr w;
    ntk_wr_init(&w, out, BUF);
    assert_int_equal(ntk_pkt_encode(&w, &p), 0);
    if (r->key_id != 0) {
        uint8_t mac[NTK_MAC_LEN_MAX];
        int n = ntk_mac_compute(e->keys, r->key_id, out, NTK_PKT_HDR_LEN, mac, sizeof mac);
        assert_true(n == 16 || n == 20);
        ntk_wr_be32(&w, r->key_id);
        ntk_wr_bytes(&w, mac, (size_t)n);
    }
    assert_int_equal(ntk_wr_err(&w), 0);
    return ntk_wr_len(&w);
}

static enum assoc_rx deliver(struct env *e, const uint8_t *b, size_t n, bool *fresh)
{
    struct ntk_sntp_sample s;
    return assoc_receive(&e->a, &e->now, b, n, ntk_ts_from_timespec(&e->now.real), e->keys,
                         &e->sys, &s, fresh);
}

/* Lets the round trip pass, then hands the reply to the association. */
static enum assoc_rx answer(struct env *e, const struct reply *r)
{
    uint8_t b[BUF];
    size_t n = make_reply(e, r, b);
    advance_s(e, r->delay_s);
    bool fresh;
    return deliver(e, b, n, &fresh);
}

static void assert_interval(int64_t got_ns, int poll_log2)
{
    double base = ldexp(1.0, poll_log2) * 1e9;
    if (!((double)got_ns >= base && (double)got_ns < base * (1 + 1.0 / 32))) {
        fail_msg("interval %lld ns, want [2^%d, 2^%d * 33/32) s", (long long)got_ns, poll_log2,
                 poll_log2);
    }
}

/* ---- scheduling ------------------------------------------------------------------------ */

/* iburst: at once, 6 requests 2 s apart, then minpoll spacing with at most 1/32 jitter. */
static void iburst_life_cycle(void **state)
{
    (void)state;
    tu_seed();
    struct eng_server_cfg c;
    cfg_default(&c);
    c.iburst = true;
    struct env e;
    env_init(&e, &c);
    assert_true(assoc_due(&e.a, e.now.mono_ns));
    for (int i = 0; i < ASSOC_BURST; i++) {
        int64_t waited = poll_next(&e);
        if (i > 0) {
            assert_true(waited == 2 * S_NS - (int64_t)llround(good.delay_s * 1e9));
        }
        assert_int_equal(e.a.reach, i == 0 ? 0 : 1); /* the burst shifts once */
        assert_int_equal(answer(&e, &good), ASSOC_RX_SAMPLE);
        assert_int_equal(e.a.burst_left, ASSOC_BURST - 1 - i);
    }
    assert_int_equal(e.a.sent, 6);
    assert_int_equal(e.a.received, 6);
    assert_int_equal(e.a.filt.n, 6);
    assert_near(e.a.filt.offset_s, 0.001, 1e-9);
    assert_near(e.a.filt.delay_s, 0.010, 1e-9);
    uint8_t want_reach = 1;
    for (int i = 0; i < 20; i++) {
        int64_t gap = poll_next(&e) + (int64_t)llround(good.delay_s * 1e9);
        assert_interval(gap, 6);
        assert_int_equal(e.a.burst_left, 0); /* reached: no more bursts */
        want_reach = (uint8_t)(want_reach << 1 | 1);
        assert_int_equal(answer(&e, &good), ASSOC_RX_SAMPLE);
        assert_int_equal(e.a.reach, want_reach);
    }
    assert_int_equal(e.a.reach, 0xff);
    assert_int_equal(e.a.unreach, 0);
    assert_true(assoc_selectable(&e.a, e.now.mono_ns, 1.5));
}

/* Without iburst the first poll is within minpoll of the start, then one per interval. */
static void first_poll_random(void **state)
{
    (void)state;
    tu_seed();
    struct eng_server_cfg c;
    cfg_default(&c);
    for (int i = 0; i < 200; i++) {
        struct env e;
        env_init(&e, &c);
        int64_t d = e.a.next_poll_mono_ns - e.now.mono_ns;
        assert_true(d >= 0 && d < 64 * S_NS);
        assert_int_equal(e.a.hpoll_log2, 6);
    }
}

/* Reach: shifted at each poll, bit 0 set by a reply; misses add dummy filter stages. */
static void reach_register(void **state)
{
    (void)state;
    tu_seed();
    struct eng_server_cfg c;
    cfg_default(&c);
    struct env e;
    env_init(&e, &c);
    const char *script = "AMAAMMMAMMMMMMMMMA";
    unsigned reach = 0;
    int real = 0, dummies = 0;
    for (const char *p = script; *p; p++) {
        int was_outstanding = e.a.outstanding;
        poll_next(&e);
        dummies += was_outstanding;
        reach = (reach << 1) & 0xff;
        if (*p == 'A') {
            assert_int_equal(answer(&e, &good), ASSOC_RX_SAMPLE);
            reach |= 1;
            real++;
            assert_int_equal(e.a.unreach, 0);
        }
        assert_int_equal(e.a.reach, reach);
        assert_int_equal(e.a.filt.n, real + dummies > 8 ? 8 : real + dummies);
    }
    /* "MMMMMMMMM" before the last A: 9 polls without a reply, reach went to 0 */
    assert_int_equal(reach, 1);
    assert_int_equal(e.a.received, 5);
    assert_int_equal(e.a.sent, 18);
}

/* Unreachable: 8 polls at minpoll, then one step up per poll to maxpoll; a reply restores
 * the engine's poll; assoc_set_poll cannot undo the backoff. */
static void unreachable_backoff(void **state)
{
    (void)state;
    tu_seed();
    struct eng_server_cfg c;
    cfg_default(&c);
    c.maxpoll_log2 = 9;
    struct env e;
    env_init(&e, &c);
    poll_next(&e);
    /* the interval after poll k: 2^6 for k <= 8, then one step up per poll */
    const int want[] = {6, 6, 6, 6, 6, 6, 6, 6, 7, 8, 9, 9, 9};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assoc_set_poll(&e.a, 6); /* the engine keeps asking for 64 s */
        assert_interval(poll_next(&e), want[i]);
        assert_int_equal(e.a.reach, 0);
        assert_int_equal(e.a.unreach, i + 2);
    }
    assert_int_equal(e.a.hpoll_log2, 9);
    assert_false(assoc_selectable(&e.a, e.now.mono_ns, 1.5));
    assert_int_equal(answer(&e, &good), ASSOC_RX_SAMPLE);
    assert_int_equal(e.a.hpoll_log2, 6);
    assert_interval(poll_next(&e) + (int64_t)llround(good.delay_s * 1e9), 9);
    assert_interval(poll_next(&e), 6);
}

/* iburst toward a server that never answers: every poll is a burst, with backoff. */
static void iburst_unreachable(void **state)
{
    (void)state;
    tu_seed();
    struct eng_server_cfg c;
    cfg_default(&c);
    c.iburst = true;
    struct env e;
    env_init(&e, &c);
    for (int poll = 0; poll < 3; poll++) {
        for (int i = 0; i < ASSOC_BURST; i++) {
            int64_t w = poll_next(&e);
            if (i > 0) {
                assert_true(w == 2 * S_NS);
            } else if (poll > 0) {
                assert_interval(w, 6);
            }
        }
    }
    assert_int_equal(e.a.sent, 18);
    assert_int_equal(e.a.unreach, 3);
    assert_int_equal(e.a.filt.n, 8); /* 17 lost requests so far, as dummies */
    assert_false(e.a.filt.valid);
}

/* burst: 6 requests at every poll while reachable. */
static void burst_when_reachable(void **state)
{
    (void)state;
    tu_seed();
    struct eng_server_cfg c;
    cfg_default(&c);
    c.burst = true;
    struct env e;
    env_init(&e, &c);
    poll_next(&e); /* unreachable: a single request */
    assert_int_equal(e.a.burst_left, 0);
    assert_int_equal(answer(&e, &good), ASSOC_RX_SAMPLE);
    poll_next(&e);
    assert_int_equal(e.a.burst_left, ASSOC_BURST - 1);
    for (int i = 1; i < ASSOC_BURST; i++) {
        assert_int_equal(answer(&e, &good), ASSOC_RX_SAMPLE);
        poll_next(&e);
    }
    assert_int_equal(e.a.reach, 3); /* two polls reached (the 6-request one counts once) */
}

static void set_poll_clamps(void **state)
{
    (void)state;
    tu_seed();
    struct eng_server_cfg c;
    cfg_default(&c);
    struct env e;
    env_init(&e, &c);
    assoc_set_poll(&e.a, 3);
    assert_int_equal(e.a.hpoll_log2, 6);
    assoc_set_poll(&e.a, 14);
    assert_int_equal(e.a.hpoll_log2, 10);
    assoc_set_poll(&e.a, 8);
    assert_int_equal(e.a.hpoll_log2, 8);
    poll_next(&e);
    assert_int_equal(answer(&e, &good), ASSOC_RX_SAMPLE);
    assert_interval(poll_next(&e) + (int64_t)llround(good.delay_s * 1e9), 8);
}

/* The jitter of many intervals stays within 1/32 and is not constant. */
static void poll_jitter_bounds(void **state)
{
    (void)state;
    tu_seed();
    struct eng_server_cfg c;
    cfg_default(&c);
    struct env e;
    env_init(&e, &c);
    poll_next(&e);
    int64_t lo = INT64_MAX, hi = 0;
    for (int i = 0; i < 500; i++) {
        assert_int_equal(answer(&e, &good), ASSOC_RX_SAMPLE);
        int64_t gap = poll_next(&e) + (int64_t)llround(good.delay_s * 1e9);
        assert_interval(gap, 6);
        lo = gap < lo ? gap : lo;
        hi = gap > hi ? gap : hi;
    }
    assert_true(hi - lo > S_NS); /* spread over most of the 2 s window */
}

/* ---- kisses of death -------------------------------------------------------------------- */

static void kod_rate(void **state)
{
    (void)state;
    tu_seed();
    struct eng_server_cfg c;
    cfg_default(&c);
    c.iburst = true;
    struct env e;
    env_init(&e, &c);
    poll_next(&e);
    struct reply r = good;
    r.kiss = "RATE";
    assert_int_equal(answer(&e, &r), ASSOC_RX_KOD);
    assert_int_equal(e.a.hpoll_log2, 8); /* at least minpoll + 2 */
    assert_string_equal(e.a.kiss, "RATE");
    assert_int_equal(e.a.flash, SNAP_FLASH_RATE);
    assert_int_equal(e.a.burst_left, 0); /* the iburst is over */
    assert_int_equal(e.a.reach, 0);
    assert_int_equal(e.a.verdict, NTK_SNTP_KOD);
    assoc_set_poll(&e.a, 6);
    assert_int_equal(e.a.hpoll_log2, 8); /* the floor holds */
    assert_true(poll_next(&e) >= 256 * S_NS);
    assert_int_equal(answer(&e, &r), ASSOC_RX_KOD);
    assert_int_equal(e.a.hpoll_log2, 9);
    assert_int_equal(e.a.state, ASSOC_ACTIVE);
}

static void kod_deny_stops_forever(void **state)
{
    (void)state;
    tu_seed();
    const char *codes[] = {"DENY", "RSTR"};
    for (int k = 0; k < 2; k++) {
        struct eng_server_cfg c;
        cfg_default(&c);
        struct env e;
        env_init(&e, &c);
        poll_next(&e);
        struct reply r = good;
        r.kiss = codes[k];
        uint8_t b[BUF];
        size_t n = make_reply(&e, &r, b);
        bool fresh = true;
        assert_int_equal(deliver(&e, b, n, &fresh), ASSOC_RX_KOD);
        assert_false(fresh);
        assert_int_equal(e.a.state, ASSOC_DENIED);
        assert_int_equal(e.a.flash, SNAP_FLASH_ACCESS);
        assert_string_equal(e.a.kiss, codes[k]);
        for (int i = 0; i < 1000; i++) {
            advance_ns(&e, 86400 * S_NS);
            assert_false(assoc_due(&e.a, e.now.mono_ns));
        }
        uint8_t rnd[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
        uint8_t out[BUF];
        assert_int_equal(assoc_poll(&e.a, &e.now, rnd, NULL, out, sizeof out), NTK_EINVAL);
        assert_false(assoc_due(&e.a, e.now.mono_ns));
        assert_int_equal(deliver(&e, b, n, &fresh), ASSOC_RX_IGNORED);
        assert_int_equal(e.a.sent, 1);
    }
}

/* A kiss that does not echo our nonce changes nothing but the bogus counter. */
static void kod_wrong_origin_ignored(void **state)
{
    (void)state;
    tu_seed();
    const char *codes[] = {"DENY", "RSTR", "RATE"};
    for (int k = 0; k < 3; k++) {
        struct eng_server_cfg c;
        cfg_default(&c);
        struct env e;
        env_init(&e, &c);
        poll_next(&e);
        struct assoc before = e.a;
        struct reply r = good;
        r.kiss = codes[k];
        r.wrong_origin = true;
        assert_int_equal(answer(&e, &r), ASSOC_RX_IGNORED);
        assert_int_equal(e.a.state, ASSOC_ACTIVE);
        assert_int_equal(e.a.hpoll_log2, before.hpoll_log2);
        assert_true(e.a.next_poll_mono_ns == before.next_poll_mono_ns);
        assert_int_equal(e.a.flash, 0);
        assert_string_equal(e.a.kiss, "");
        assert_int_equal(e.a.bogus, 1);
        assert_true(e.a.outstanding);
        assert_int_equal(e.a.verdict, NTK_SNTP_BOGUS_ORIGIN);
        /* the real reply still counts */
        assert_int_equal(answer(&e, &good), ASSOC_RX_SAMPLE);
    }
}

/* ---- replies ------------------------------------------------------------------------- */

static void duplicate_ignored(void **state)
{
    (void)state;
    tu_seed();
    struct eng_server_cfg c;
    cfg_default(&c);
    struct env e;
    env_init(&e, &c);
    poll_next(&e);
    uint8_t b[BUF];
    size_t n = make_reply(&e, &good, b);
    advance_s(&e, 0.01);
    bool fresh = false;
    assert_int_equal(deliver(&e, b, n, &fresh), ASSOC_RX_SAMPLE);
    assert_true(fresh);
    assert_true(e.a.ever_reached);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(deliver(&e, b, n, &fresh), ASSOC_RX_IGNORED);
        assert_false(fresh);
    }
    assert_int_equal(e.a.received, 1);
    assert_int_equal(e.a.bogus, 3);
    assert_int_equal(e.a.filt.n, 1);
    assert_int_equal(e.a.reach, 1);
    assert_int_equal(e.a.verdict, NTK_SNTP_BOGUS_ORIGIN);
}

static void reply_after_step_ignored(void **state)
{
    (void)state;
    tu_seed();
    struct eng_server_cfg c;
    cfg_default(&c);
    struct env e;
    env_init(&e, &c);
    poll_next(&e);
    assert_int_equal(answer(&e, &good), ASSOC_RX_SAMPLE);
    poll_next(&e);
    uint8_t b[BUF];
    size_t n = make_reply(&e, &good, b);
    assoc_on_step(&e.a, 0.25);
    assert_near(e.a.filt.offset_s, 0.001 - 0.25, 1e-9);
    assert_false(e.a.outstanding);
    advance_s(&e, 0.01);
    bool fresh;
    assert_int_equal(deliver(&e, b, n, &fresh), ASSOC_RX_IGNORED);
    assert_int_equal(e.a.received, 1);
    assert_int_equal(e.a.reach, 2);
    poll_next(&e); /* the forgotten request is no loss: no dummy stage */
    assert_int_equal(e.a.filt.n, 1);
}

/* A slew shifts the stored offsets and keeps the request in flight. */
static void slew_keeps_request(void **state)
{
    (void)state;
    tu_seed();
    struct eng_server_cfg c;
    cfg_default(&c);
    struct env e;
    env_init(&e, &c);
    poll_next(&e);
    assert_int_equal(answer(&e, &good), ASSOC_RX_SAMPLE);
    poll_next(&e);
    assoc_on_slew(&e.a, 0.001);
    assert_near(e.a.filt.offset_s, 0.0, 1e-9);
    assert_near(e.a.filt.st[0].offset_s, 0.0, 1e-9);
    assert_true(e.a.outstanding);
    struct reply r = good;
    r.offset_s = 0.0;
    assert_int_equal(answer(&e, &r), ASSOC_RX_SAMPLE);
    assert_int_equal(e.a.received, 2);
}

/* A reply more than ASSOC_REPLY_TIMEOUT_S late is ignored; the next poll counts the loss. */
static void late_reply_ignored(void **state)
{
    (void)state;
    tu_seed();
    struct eng_server_cfg c;
    cfg_default(&c);
    struct env e;
    env_init(&e, &c);
    poll_next(&e);
    struct reply r = good;
    r.delay_s = ASSOC_REPLY_TIMEOUT_S + 0.5;
    assert_int_equal(answer(&e, &r), ASSOC_RX_IGNORED);
    assert_int_equal(e.a.reach, 0);
    poll_next(&e);
    assert_int_equal(e.a.filt.n, 1);
    assert_false(e.a.filt.valid);
}

/* A sample's numbers reach the filter: offset, delay (clamped to the precision), ε. */
static void sample_into_filter(void **state)
{
    (void)state;
    tu_seed();
    struct eng_server_cfg c;
    cfg_default(&c);
    struct env e;
    env_init(&e, &c);
    e.sys.precision_log2 = -6; /* 1/64 s, larger than the delay */
    poll_next(&e);
    struct reply r = good;
    r.offset_s = -0.125;
    r.delay_s = 0.0078125;
    assert_int_equal(answer(&e, &r), ASSOC_RX_SAMPLE);
    assert_near(e.a.filt.offset_s, -0.125, 1e-9);
    assert_near(e.a.filt.delay_s, 1.0 / 64, 0);
    /* ε = 2^-20 (server) + 2^-6 (local) + 15e-6 * 0.0078125 */
    assert_near(e.a.filt.st[0].disp_s, 0x1p-20 + 0x1p-6 + 15e-6 * 0.0078125, 1e-9);
    assert_near(e.a.filt.jitter_s, 1.0 / 64, 0);
    assert_int_equal(e.a.last.stratum, 2);
    assert_true(e.a.last_rx_mono_ns == e.now.mono_ns);
}

static void refusals_set_flash(void **state)
{
    (void)state;
    tu_seed();
    struct {
        uint8_t stratum;
        enum ntk_leap leap;
        uint32_t flash;
        enum ntk_sntp_verdict v;
    } t[] = {
        {16, NTK_LEAP_NONE, SNAP_FLASH_STRATUM, NTK_SNTP_STRATUM},
        {200, NTK_LEAP_NONE, SNAP_FLASH_STRATUM, NTK_SNTP_STRATUM},
        {3, NTK_LEAP_UNSYNC, SNAP_FLASH_SYNC, NTK_SNTP_UNSYNC},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct eng_server_cfg c;
        cfg_default(&c);
        c.iburst = true;
        struct env e;
        env_init(&e, &c);
        poll_next(&e);
        struct reply r = good;
        r.stratum = t[i].stratum;
        r.leap = t[i].leap;
        assert_int_equal(answer(&e, &r), ASSOC_RX_REFUSED);
        assert_int_equal(e.a.flash, t[i].flash);
        assert_int_equal(e.a.verdict, t[i].v);
        assert_int_equal(e.a.dropped, 1);
        assert_int_equal(e.a.received, 0);
        assert_int_equal(e.a.reach, 1); /* reachable, not usable */
        assert_false(e.a.outstanding);
        assert_false(e.a.filt.valid);
        assert_false(assoc_selectable(&e.a, e.now.mono_ns, 100));
    }
}

/* TEST8: root delay / 2 + root dispersion >= 16 s, or a reference time after T3. */
static void header_test(void **state)
{
    (void)state;
    tu_seed();
    struct eng_server_cfg c;
    cfg_default(&c);
    struct env e;
    env_init(&e, &c);
    e.sys.maxdist_s = 1e6;
    poll_next(&e);
    struct reply r = good;
    r.root_delay = 16 << 16; /* 16 s: 8 + 8 = 16 */
    r.root_disp = 8 << 16;
    assert_int_equal(answer(&e, &r), ASSOC_RX_HEADER);
    assert_int_equal(e.a.flash, SNAP_FLASH_HEADER);
    poll_next(&e);
    r.root_disp = (8 << 16) - 1; /* just under */
    assert_int_equal(answer(&e, &r), ASSOC_RX_SAMPLE);
    assert_int_equal(e.a.flash, 0);
}

/* TEST8, the server's processing time: T3 - T2 outside 0..ASSOC_SERVER_MAX_S is a forged or
 * broken reply (chrony's MAX_SERVER_INTERVAL), refused as a bad header. */
static void server_time_test(void **state)
{
    (void)state;
    tu_seed();
    struct eng_server_cfg c;
    cfg_default(&c);
    struct env e;
    env_init(&e, &c);
    e.sys.maxdist_s = 1e6;
    const double held[] = {-1.0, -0.000001, ASSOC_SERVER_MAX_S + 0.001, 1000.0};
    for (size_t i = 0; i < sizeof held / sizeof held[0]; i++) {
        poll_next(&e);
        struct reply r = good;
        r.held_s = held[i];
        assert_int_equal(answer(&e, &r), ASSOC_RX_HEADER);
        assert_int_equal(e.a.flash, SNAP_FLASH_HEADER);
    }
    const double ok[] = {0, 0.000001, ASSOC_SERVER_MAX_S - 0.001};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        poll_next(&e);
        struct reply r = good;
        r.held_s = ok[i];
        assert_int_equal(answer(&e, &r), ASSOC_RX_SAMPLE);
        assert_int_equal(e.a.flash, 0);
    }
}

/* TEST10: the sample's λ above maxdist. */
static void maxdist_test(void **state)
{
    (void)state;
    tu_seed();
    struct eng_server_cfg c;
    cfg_default(&c);
    struct env e;
    env_init(&e, &c);
    e.sys.maxdist_s = 0.25;
    poll_next(&e);
    struct reply r = good;
    r.root_disp = 1 << 14; /* 0.25 s: λ = 0.25 + delays + ε > 0.25 */
    assert_int_equal(answer(&e, &r), ASSOC_RX_DIST);
    assert_int_equal(e.a.flash, SNAP_FLASH_DIST);
    assert_int_equal(e.a.dropped, 1);
    assert_false(e.a.filt.valid);
    poll_next(&e);
    assert_int_equal(answer(&e, &good), ASSOC_RX_SAMPLE);
}

/* TEST11: the server names us, or our system peer at a stratum not below ours. */
static void loop_test(void **state)
{
    (void)state;
    tu_seed();
    struct {
        uint8_t stratum, our_stratum;
        uint32_t our_refid, our_addr;
        enum assoc_rx want;
    } t[] = {
        {3, 3, REFID_X, 0, ASSOC_RX_LOOP},      /* names our sys peer, same stratum */
        {4, 3, REFID_X, 0, ASSOC_RX_LOOP},      /* ... below us */
        {2, 3, REFID_X, 0, ASSOC_RX_SAMPLE},    /* above us: not a loop */
        {1, 1, REFID_X, 0, ASSOC_RX_SAMPLE},    /* primary: refid is a code */
        {2, 16, 0, REFID_X, ASSOC_RX_LOOP},     /* synchronised to our address */
        {2, 16, 0, 0, ASSOC_RX_SAMPLE},         /* nothing known */
        {5, 3, 0x0a0a0a0au, 0, ASSOC_RX_SAMPLE} /* another refid */
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct eng_server_cfg c;
        cfg_default(&c);
        struct env e;
        env_init(&e, &c);
        e.sys.our_stratum = t[i].our_stratum;
        e.sys.our_refid = t[i].our_refid;
        e.sys.our_addr_refid = t[i].our_addr;
        poll_next(&e);
        struct reply r = good;
        r.stratum = t[i].stratum;
        r.refid = REFID_X;
        assert_int_equal(answer(&e, &r), t[i].want);
        assert_int_equal(e.a.flash, t[i].want == ASSOC_RX_LOOP ? SNAP_FLASH_LOOP : 0);
    }
}

/* ---- MAC keys ----------------------------------------------------------------------------
 */

static struct ntk_mac_keys *make_keys(void)
{
    struct ntk_mac_key k[2];
    memset(k, 0, sizeof k);
    k[0].keyid = 1;
    k[0].type = NTK_MAC_MD5;
    k[0].secret_len = (uint8_t)tu_unhex("416e63686f72734d44354b6579", k[0].secret, 32);
    k[1].keyid = 2;
    k[1].type = NTK_MAC_SHA1;
    k[1].secret_len =
        (uint8_t)tu_unhex("8bb9956fb1c117e638fb115ea395d8b08105ee68", k[1].secret, 32);
    struct ntk_mac_keys *ks = NULL;
    assert_int_equal(ntk_mac_keys_new(k, 2, &ks), 0);
    ntk_mac_key_wipe(k, 2);
    return ks;
}

static void mac_keys(void **state)
{
    (void)state;
    tu_seed();
    struct eng_server_cfg c;
    cfg_default(&c);
    c.key_id = 1;
    struct env e;
    env_init(&e, &c);
    e.keys = make_keys();
    poll_next(&e);
    assert_int_equal(e.req_len, 48 + 4 + 16);
    /* unsigned, wrong key id: refused with AUTH, the request stays open */
    struct reply r = good;
    assert_int_equal(answer(&e, &r), ASSOC_RX_REFUSED);
    assert_int_equal(e.a.flash, SNAP_FLASH_AUTH);
    assert_int_equal(e.a.verdict, NTK_SNTP_AUTH_MISSING);
    r.key_id = 2;
    assert_int_equal(answer(&e, &r), ASSOC_RX_REFUSED);
    assert_int_equal(e.a.verdict, NTK_SNTP_AUTH_KEYID);
    assert_int_equal(e.a.reach, 0);
    assert_true(e.a.outstanding);
    /* a tampered MAC */
    r.key_id = 1;
    uint8_t b[BUF];
    size_t n = make_reply(&e, &r, b);
    b[n - 1] ^= 1;
    bool fresh;
    assert_int_equal(deliver(&e, b, n, &fresh), ASSOC_RX_REFUSED);
    assert_int_equal(e.a.verdict, NTK_SNTP_AUTH_FAILED);
    /* the real one */
    assert_int_equal(answer(&e, &r), ASSOC_RX_SAMPLE);
    assert_true(e.a.authenticated);
    assert_int_equal(e.a.flash, 0);
    assert_int_equal(e.a.reach, 1);
    assert_int_equal(e.a.dropped, 3);
    /* an unauthenticated DENY on a keyed association only slows it down */
    poll_next(&e);
    r = good;
    r.kiss = "DENY";
    assert_int_equal(answer(&e, &r), ASSOC_RX_KOD);
    assert_int_equal(e.a.state, ASSOC_ACTIVE);
    assert_int_equal(e.a.hpoll_log2, 8);
    poll_next(&e);
    r.key_id = 1;
    assert_int_equal(answer(&e, &r), ASSOC_RX_KOD);
    assert_int_equal(e.a.state, ASSOC_DENIED);
    ntk_mac_keys_free(e.keys);
}

/* A key missing from the store: the poll fails and is retried an interval later. */
static void mac_key_missing(void **state)
{
    (void)state;
    tu_seed();
    struct eng_server_cfg c;
    cfg_default(&c);
    c.key_id = 7;
    struct env e;
    env_init(&e, &c);
    e.keys = make_keys();
    advance_ns(&e, e.a.next_poll_mono_ns - e.now.mono_ns);
    uint8_t rnd[12] = {1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0};
    uint8_t out[BUF];
    assert_int_equal(assoc_poll(&e.a, &e.now, rnd, e.keys, out, sizeof out), NTK_ENOTFOUND);
    assert_true(e.a.next_poll_mono_ns == e.now.mono_ns + 64 * S_NS);
    assert_int_equal(e.a.sent, 0);
    assert_false(e.a.outstanding);
    ntk_mac_keys_free(e.keys);
}

/* ---- distance and selection --------------------------------------------------------- */

/* root_dist = (root delay + delay) / 2 + root disp + filter disp now + jitter; selectable
 * after four samples (the empty stages weigh MAXDISP). */
static void root_dist_and_selectable(void **state)
{
    (void)state;
    tu_seed();
    struct eng_server_cfg c;
    cfg_default(&c);
    c.iburst = true;
    struct env e;
    env_init(&e, &c);
    assert_near(assoc_root_dist(&e.a, e.now.mono_ns), 16.0, 0);
    for (int i = 1; i <= 4; i++) {
        poll_next(&e);
        assert_int_equal(answer(&e, &good), ASSOC_RX_SAMPLE);
        assert_int_equal(assoc_selectable(&e.a, e.now.mono_ns, 1.5), i >= 4);
    }
    const struct filter *f = &e.a.filt;
    double want = (1.0 / 256 + f->delay_s) / 2 + 1.0 / 512 +
                  filter_disp_now(f, e.now.mono_ns + 100 * S_NS) + f->jitter_s;
    assert_near(assoc_root_dist(&e.a, e.now.mono_ns + 100 * S_NS), want, 1e-15);
    assert_true(want > 16.0 / 16 - 16.0 / 256 && want < 16.0 / 16 - 16.0 / 256 + 0.02);
    assert_false(assoc_selectable(&e.a, e.now.mono_ns, 0.5));
    e.a.cfg.noselect = true;
    assert_false(assoc_selectable(&e.a, e.now.mono_ns, 1.5));
}

/* ---- property: garbage never yields a sample nor moves reach --------------------------- */

static void property_garbage(void **state)
{
    (void)state;
    tu_seed();
    struct eng_server_cfg c;
    cfg_default(&c);
    struct env e;
    env_init(&e, &c);
    poll_next(&e);
    assert_int_equal(answer(&e, &good), ASSOC_RX_SAMPLE);
    poll_next(&e);
    uint8_t valid[BUF];
    size_t vn = make_reply(&e, &good, valid);
    for (int i = 0; i < 20000; i++) {
        uint8_t b[BUF];
        size_t n;
        if (i % 3 == 0) {
            n = (size_t)(tu_rand() % (BUF + 1));
            tu_fill(b, n);
        } else if (i % 3 == 1) {
            /* a plausible server reply, random everywhere (also its origin) */
            n = 48;
            tu_fill(b, n);
            b[0] = (uint8_t)((b[0] & 0xc0) | 0x24);
        } else {
            /* the valid reply with its origin damaged */
            memcpy(b, valid, vn);
            n = vn;
            b[24 + tu_rand() % 8] ^= (uint8_t)(1u << (tu_rand() % 8));
        }
        uint8_t reach = e.a.reach;
        uint64_t rec = e.a.received;
        bool fresh = true;
        enum assoc_rx rx = deliver(&e, b, n, &fresh);
        assert_int_equal(rx, ASSOC_RX_IGNORED);
        assert_false(fresh);
        assert_int_equal(e.a.reach, reach);
        assert_true(e.a.received == rec);
        assert_true(e.a.outstanding);
    }
    advance_s(&e, 0.001);
    bool fresh;
    assert_int_equal(deliver(&e, valid, vn, &fresh), ASSOC_RX_SAMPLE); /* still works */
    assert_int_equal(e.a.reach, 3);
}

/* ---- kernel transmit timestamps ----------------------------------------------------------
 */

/* The reply to the request in flight, checked at now, with its sample. */
static enum assoc_rx answer_sample(struct env *e, const struct reply *r,
                                   struct ntk_sntp_sample *s)
{
    uint8_t b[BUF];
    size_t n = make_reply(e, r, b);
    advance_s(e, r->delay_s);
    return assoc_receive(&e->a, &e->now, b, n, ntk_ts_from_timespec(&e->now.real), e->keys,
                         &e->sys, s, NULL);
}

/* The kernel's time, lag after the build time, becomes T1: δ and θ move by exactly lag and
 * lag / 2; the wrong nonce, an earlier or much later time, and a second time are refused. */
static void kernel_t1(void **state)
{
    (void)state;
    tu_seed();
    struct eng_server_cfg c;
    cfg_default(&c);
    struct env e;
    env_init(&e, &c);
    poll_next(&e);
    ntk_dur lag = ntk_dur_from_s(0x1p-12);
    ntk_ts k = ntk_ts_add(e.req_t1, lag);
    ntk_ts nonce = e.a.q.xmt;
    ntk_ts other = nonce;
    other.v ^= 1;
    assert_false(assoc_on_sent(&e.a, other, k));
    assert_false(assoc_on_sent(&e.a, e.a.q.xmt, ntk_ts_add(e.req_t1, ntk_dur_from_s(-1e-6))));
    assert_false(assoc_on_sent(&e.a, e.a.q.xmt, ntk_ts_add(e.req_t1, ntk_dur_from_s(4.5))));
    assert_true(ntk_ts_eq(e.a.q.t1, e.req_t1));
    assert_true(assoc_on_sent(&e.a, e.a.q.xmt, k));
    assert_false(assoc_on_sent(&e.a, e.a.q.xmt, ntk_ts_add(k, lag)));
    assert_true(ntk_ts_eq(e.a.q.t1, k));
    struct ntk_sntp_sample s;
    struct reply r = good; /* offset 1 ms, delay 10 ms from the build time */
    assert_int_equal(answer_sample(&e, &r, &s), ASSOC_RX_SAMPLE);
    assert_true(e.a.rx_t1_kernel);
    assert_true(ntk_ts_eq(s.t1, k));
    assert_near(s.delay_s, 0.010 - 0x1p-12, 1e-9);
    assert_near(s.offset_s, 0.001 - 0x1p-13, 1e-9);
    /* The request is closed: a time for it now is refused. */
    assert_false(assoc_on_sent(&e.a, nonce, k));
    assert_false(e.a.t1_kernel);
    /* The next request starts with its build time. */
    poll_next(&e);
    assert_false(e.a.t1_kernel);
    assert_int_equal(answer_sample(&e, &r, &s), ASSOC_RX_SAMPLE);
    assert_false(e.a.rx_t1_kernel);
    assert_near(s.delay_s, 0.010, 1e-9);
}

/* A kernel time later than the receive time of our reply (the clock moved between them)
 * gives way to the build time; a forgery's receive time does not count. */
static void kernel_t1_after_t4(void **state)
{
    (void)state;
    tu_seed();
    struct eng_server_cfg c;
    cfg_default(&c);
    struct env e;
    env_init(&e, &c);
    poll_next(&e);
    assert_true(assoc_on_sent(&e.a, e.a.q.xmt, ntk_ts_add(e.req_t1, ntk_dur_from_s(0.5))));
    /* A forgery (not our nonce) received before that time changes nothing. */
    struct reply forged = good;
    forged.wrong_origin = true;
    struct ntk_sntp_sample s;
    assert_int_equal(answer_sample(&e, &forged, &s), ASSOC_RX_IGNORED);
    assert_true(e.a.t1_kernel);
    /* Our reply, received 20 ms after the build time, does. */
    assert_int_equal(answer_sample(&e, &good, &s), ASSOC_RX_SAMPLE);
    assert_false(e.a.rx_t1_kernel);
    assert_true(ntk_ts_eq(s.t1, e.req_t1));
    assert_near(s.delay_s, 0.020, 1e-9);
}

/* Seeded: a random lag within the window always moves δ by exactly it. */
static void property_kernel_t1(void **state)
{
    (void)state;
    tu_seed();
    for (int i = 0; i < 200; i++) {
        struct eng_server_cfg c;
        cfg_default(&c);
        struct env e;
        env_init(&e, &c);
        poll_next(&e);
        double lag_s = (double)(tu_rand() % 5000) * 1e-6; /* 0..5 ms, within the 10 ms RTT */
        ntk_ts k = ntk_ts_add(e.req_t1, ntk_dur_from_s(lag_s));
        assert_true(assoc_on_sent(&e.a, e.a.q.xmt, k));
        struct ntk_sntp_sample s;
        assert_int_equal(answer_sample(&e, &good, &s), ASSOC_RX_SAMPLE);
        assert_near(s.delay_s, 0.010 - lag_s, 2e-9);
        assert_near(s.offset_s, 0.001 - lag_s / 2, 2e-9);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(iburst_life_cycle),
        cmocka_unit_test(first_poll_random),
        cmocka_unit_test(reach_register),
        cmocka_unit_test(unreachable_backoff),
        cmocka_unit_test(iburst_unreachable),
        cmocka_unit_test(burst_when_reachable),
        cmocka_unit_test(set_poll_clamps),
        cmocka_unit_test(poll_jitter_bounds),
        cmocka_unit_test(kod_rate),
        cmocka_unit_test(kod_deny_stops_forever),
        cmocka_unit_test(kod_wrong_origin_ignored),
        cmocka_unit_test(duplicate_ignored),
        cmocka_unit_test(reply_after_step_ignored),
        cmocka_unit_test(slew_keeps_request),
        cmocka_unit_test(late_reply_ignored),
        cmocka_unit_test(sample_into_filter),
        cmocka_unit_test(refusals_set_flash),
        cmocka_unit_test(header_test),
        cmocka_unit_test(server_time_test),
        cmocka_unit_test(maxdist_test),
        cmocka_unit_test(loop_test),
        cmocka_unit_test(mac_keys),
        cmocka_unit_test(mac_key_missing),
        cmocka_unit_test(root_dist_and_selectable),
        cmocka_unit_test(property_garbage),
        cmocka_unit_test(kernel_t1),
        cmocka_unit_test(kernel_t1_after_t4),
        cmocka_unit_test(property_kernel_t1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
