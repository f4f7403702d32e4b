/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for daemon/io/rc_pps.c: RFC 2783 edges to samples of the assert or the clear
 * edge (flag2), nothing new, bad edge times, a seeded stream of edges, the kernel hardpps
 * binding of flag3 (never in observe mode), and the drivers' names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "refclock.h"
#include "testutil.h"

#include "poison.h"

static struct rc_pps_edges edges(void)
{
    return (struct rc_pps_edges){
        .assert_seq = 10,
        .clear_seq = 9,
        .assert_ts = {.tv_sec = 1700000001, .tv_nsec = 2500},
        .clear_ts = {.tv_sec = 1700000000, .tv_nsec = 200000000},
    };
}

static void assert_edge(void **state)
{
    (void)state;
    struct rc_pps_edges e = edges();
    uint32_t last = 9;
    struct rc_result r;
    rc_pps_decode(&e, false, &last, &r);
    assert_int_equal(r.fault, 0);
    assert_int_equal(last, 10);
    assert_int_equal(r.s.local.tv_sec, 1700000001);
    assert_int_equal(r.s.local.tv_nsec, 2500);
    assert_int_equal(r.s.ref.tv_sec, 0);
    assert_int_equal(r.s.ref.tv_nsec, 0);
    assert_int_equal(r.s.leap, NTK_LEAP_NONE);
    assert_string_equal(r.s.timecode, "assert 10 1700000001.000002500");
    /* The same edge again: nothing new, not a fault of the device. */
    rc_pps_decode(&e, false, &last, &r);
    assert_int_equal(r.fault, ENG_RC_NOREPLY);
    assert_string_equal(r.why, "no new edge");
    assert_int_equal(last, 10);
}

static void clear_edge(void **state)
{
    (void)state;
    struct rc_pps_edges e = edges();
    uint32_t last = 0;
    struct rc_result r;
    rc_pps_decode(&e, true, &last, &r);
    assert_int_equal(r.fault, 0);
    assert_int_equal(last, 9);
    assert_int_equal(r.s.local.tv_sec, 1700000000);
    assert_int_equal(r.s.local.tv_nsec, 200000000);
    assert_string_equal(r.s.timecode, "clear 9 1700000000.200000000");
}

static void bad_times(void **state)
{
    (void)state;
    const struct timespec bad[] = {{.tv_sec = 0, .tv_nsec = 5},
                                   {.tv_sec = -1, .tv_nsec = 0},
                                   {.tv_sec = 1700000000, .tv_nsec = 1000000000},
                                   {.tv_sec = 1700000000, .tv_nsec = -1}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct rc_pps_edges e = edges();
        e.assert_ts = bad[i];
        uint32_t last = 3;
        struct rc_result r;
        rc_pps_decode(&e, false, &last, &r);
        assert_int_equal(r.fault, ENG_RC_BADDATA);
        assert_string_equal(r.why, "edge time out of range");
        assert_int_equal(last, 3); /* not taken */
    }
}

/* A stream of edges, some polls seeing none, some skipping: each new sequence gives exactly
 * one sample with its edge's time, the sequence wrapping past 2^32 too. */
static void edge_stream(void **state)
{
    (void)state;
    tu_seed();
    struct rc_pps_edges e = edges();
    e.assert_seq = UINT32_MAX - 50;
    uint32_t last = e.assert_seq;
    unsigned samples = 0, expected = 0;
    for (int i = 0; i < 10000; i++) {
        uint32_t step = (uint32_t)(tu_rand() % 3); /* 0: no new edge this poll */
        e.assert_seq += step;
        e.assert_ts.tv_sec += step;
        e.assert_ts.tv_nsec = (long)(tu_rand() % 1000000000);
        expected += step != 0;
        struct rc_result r;
        rc_pps_decode(&e, false, &last, &r);
        if (step == 0) {
            assert_int_equal(r.fault, ENG_RC_NOREPLY);
            continue;
        }
        assert_int_equal(r.fault, 0);
        assert_int_equal(last, e.assert_seq);
        assert_int_equal(r.s.local.tv_sec, e.assert_ts.tv_sec);
        assert_int_equal(r.s.local.tv_nsec, e.assert_ts.tv_nsec);
        samples++;
    }
    assert_int_equal(samples, expected);
}

/* flag3 binds the chosen edge to hardpps, in timespec format; never in observe mode; not at
 * all without flag3; *args untouched when nothing is bound. */
static void kernel_bind(void **state)
{
    (void)state;
    struct pps_bind_args a = {.tsformat = 7, .edge = 7, .consumer = 7};
    assert_int_equal(rc_pps_kernel_args(4, false, &a), RC_PPS_KERNEL_BIND);
    assert_int_equal(a.tsformat, 0x1000);
    assert_int_equal(a.edge, 0x01); /* PPS_CAPTUREASSERT */
    assert_int_equal(a.consumer, 0);
    a = (struct pps_bind_args){.tsformat = 7, .edge = 7, .consumer = 7};
    assert_int_equal(rc_pps_kernel_args(2 | 4, false, &a), RC_PPS_KERNEL_BIND);
    assert_int_equal(a.tsformat, PPS_TSFMT_TSPEC);
    assert_int_equal(a.edge, 0x02); /* PPS_CAPTURECLEAR */
    assert_int_equal(a.consumer, PPS_KC_HARDPPS);
    const unsigned no_bind[] = {0, 1, 2, 8, 1 | 2 | 8};
    for (size_t i = 0; i < sizeof no_bind / sizeof no_bind[0]; i++) {
        a = (struct pps_bind_args){.tsformat = 7, .edge = 7, .consumer = 7};
        assert_int_equal(rc_pps_kernel_args(no_bind[i], false, &a), RC_PPS_KERNEL_OFF);
        assert_int_equal(rc_pps_kernel_args(no_bind[i], true, &a), RC_PPS_KERNEL_OFF);
        assert_int_equal(a.tsformat + a.edge + a.consumer, 21);
    }
    a = (struct pps_bind_args){.tsformat = 7, .edge = 7, .consumer = 7};
    assert_int_equal(rc_pps_kernel_args(4, true, &a), RC_PPS_KERNEL_SKIPPED);
    assert_int_equal(rc_pps_kernel_args(2 | 4, true, &a), RC_PPS_KERNEL_SKIPPED);
    assert_int_equal(a.tsformat + a.edge + a.consumer, 21);
    rc_pps_unbind_args(&a);
    assert_int_equal(a.tsformat, PPS_TSFMT_TSPEC);
    assert_int_equal(a.edge, 0);
    assert_int_equal(a.consumer, PPS_KC_HARDPPS);
}

/* Every flag set (seeded): bound exactly when flag3 is set outside observe mode, to the
 * edge flag2 picks; observe mode never binds. */
static void kernel_bind_flags(void **state)
{
    (void)state;
    tu_seed();
    for (int i = 0; i < 2000; i++) {
        unsigned flags = (unsigned)(tu_rand() % 16);
        bool observe = tu_rand() % 2;
        struct pps_bind_args a = {.tsformat = -1, .edge = -1, .consumer = -1};
        enum rc_pps_kernel k = rc_pps_kernel_args(flags, observe, &a);
        if (!(flags & 4)) {
            assert_int_equal(k, RC_PPS_KERNEL_OFF);
        } else if (observe) {
            assert_int_equal(k, RC_PPS_KERNEL_SKIPPED);
        } else {
            assert_int_equal(k, RC_PPS_KERNEL_BIND);
            assert_int_equal(a.edge, flags & 2 ? PPS_CAPTURECLEAR : PPS_CAPTUREASSERT);
            assert_int_equal(a.tsformat, PPS_TSFMT_TSPEC);
            assert_int_equal(a.consumer, PPS_KC_HARDPPS);
            continue;
        }
        assert_int_equal(a.edge, -1);
    }
}

static void names(void **state)
{
    (void)state;
    assert_string_equal(rc_type_name(ENG_RC_SHM), "SHM");
    assert_string_equal(rc_type_name(ENG_RC_PPS), "PPS");
    assert_string_equal(rc_type_name(ENG_RC_SOCK), "SOCK");
    assert_string_equal(rc_type_name((enum eng_rc_type)0), "?");
    assert_int_equal(ENG_RC_SHM, 28);
    assert_int_equal(ENG_RC_PPS, 22);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(assert_edge),
        cmocka_unit_test(clear_edge),
        cmocka_unit_test(bad_times),
        cmocka_unit_test(edge_stream),
        cmocka_unit_test(names),
        cmocka_unit_test(kernel_bind),
        cmocka_unit_test(kernel_bind_flags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
