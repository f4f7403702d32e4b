/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for daemon/io/rc_shm.c: the SHM segment's snapshot to a sample (exact values,
 * ns and µs fields), every fault (valid 0, each bad mode, a count changed in mode 1, wild
 * values), the reader's handshake over memory, and a seeded loop of random segments. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "refclock.h"
#include "testutil.h"

#include "poison.h"

/* A good mode-0 snapshot: clock 1700000000.123456789, receive 1700000000.120000000. */
static struct rc_shm_snap good(void)
{
    struct rc_shm_snap s;
    memset(&s, 0, sizeof s);
    s.t.mode = 0;
    s.t.count = 7;
    s.count_after = 7;
    s.t.valid = 1;
    s.t.clockTimeStampSec = 1700000000;
    s.t.clockTimeStampUSec = 123456;
    s.t.clockTimeStampNSec = 123456789;
    s.t.receiveTimeStampSec = 1700000000;
    s.t.receiveTimeStampUSec = 120000;
    s.t.receiveTimeStampNSec = 120000000;
    s.t.leap = 0;
    s.t.precision = -20;
    return s;
}

static struct rc_result decode(const struct rc_shm_snap *s)
{
    struct rc_result r;
    rc_shm_decode(s, RC_SHM_MAXDELTA_S, &r);
    return r;
}

static void good_sample_exact(void **state)
{
    (void)state;
    struct rc_shm_snap s = good();
    struct rc_result r = decode(&s);
    assert_int_equal(r.fault, 0);
    assert_int_equal(r.s.ref.tv_sec, 1700000000);
    assert_int_equal(r.s.ref.tv_nsec, 123456789);
    assert_int_equal(r.s.local.tv_sec, 1700000000);
    assert_int_equal(r.s.local.tv_nsec, 120000000);
    assert_int_equal(r.s.leap, NTK_LEAP_NONE);
    assert_int_equal(r.s.precision_log2, -20);
    assert_string_equal(r.s.timecode, "1700000000.123456789 1700000000.120000000");
    /* Mode 1 with an unchanged count is as good. */
    s.t.mode = 1;
    r = decode(&s);
    assert_int_equal(r.fault, 0);
    assert_int_equal(r.s.ref.tv_nsec, 123456789);
}

static void ns_or_us(void **state)
{
    (void)state;
    struct rc_shm_snap s = good();
    /* An old producer leaves ns at 0: the µs count. */
    s.t.clockTimeStampNSec = 0;
    s.t.receiveTimeStampNSec = 0;
    struct rc_result r = decode(&s);
    assert_int_equal(r.fault, 0);
    assert_int_equal(r.s.ref.tv_nsec, 123456000);
    assert_int_equal(r.s.local.tv_nsec, 120000000);
    /* ns that disagrees with µs (stale) is ignored. */
    s.t.clockTimeStampNSec = 999000000;
    r = decode(&s);
    assert_int_equal(r.fault, 0);
    assert_int_equal(r.s.ref.tv_nsec, 123456000);
    /* Leap and precision pass through; a precision outside -30..-1 is the association's. */
    s = good();
    s.t.leap = 1;
    s.t.precision = -31;
    r = decode(&s);
    assert_int_equal(r.s.leap, NTK_LEAP_INSERT);
    assert_int_equal(r.s.precision_log2, 0);
    s.t.precision = 0;
    assert_int_equal(decode(&s).s.precision_log2, 0);
    s.t.precision = -1;
    assert_int_equal(decode(&s).s.precision_log2, -1);
    s.t.precision = -30;
    assert_int_equal(decode(&s).s.precision_log2, -30);
}

static void not_valid_is_noreply(void **state)
{
    (void)state;
    struct rc_shm_snap s = good();
    s.t.valid = 0;
    struct rc_result r = decode(&s);
    assert_int_equal(r.fault, ENG_RC_NOREPLY);
    assert_string_equal(r.why, "no new sample (valid 0)");
    /* Even with every other field wild. */
    s.t.mode = 99;
    s.t.clockTimeStampUSec = -5;
    assert_int_equal(decode(&s).fault, ENG_RC_NOREPLY);
}

static void bad_modes(void **state)
{
    (void)state;
    const int modes[] = {-1, 2, 3, 4, 255, INT_MAX, INT_MIN};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        struct rc_shm_snap s = good();
        s.t.mode = modes[i];
        struct rc_result r = decode(&s);
        assert_int_equal(r.fault, ENG_RC_BADFORMAT);
        assert_string_equal(r.why, "mode is neither 0 nor 1");
    }
}

static void count_changed(void **state)
{
    (void)state;
    struct rc_shm_snap s = good();
    s.t.mode = 1;
    s.count_after = 8;
    struct rc_result r = decode(&s);
    assert_int_equal(r.fault, ENG_RC_BADDATA);
    assert_string_equal(r.why, "count changed while reading (mode 1)");
    s.count_after = 6;
    assert_int_equal(decode(&s).fault, ENG_RC_BADDATA);
    /* Mode 0 does not look at count. */
    s.t.mode = 0;
    assert_int_equal(decode(&s).fault, 0);
}

static void wild_values(void **state)
{
    (void)state;
    struct {
        int field;
        long long v;
        const char *why;
    } cases[] = {
        {0, -1, "microseconds or nanoseconds out of range"},
        {0, 1000000, "microseconds or nanoseconds out of range"},
        {1, -1, "microseconds or nanoseconds out of range"},
        {1, 1000000, "microseconds or nanoseconds out of range"},
        {2, 1000000000, "microseconds or nanoseconds out of range"},
        {2, 4294967295LL, "microseconds or nanoseconds out of range"},
        {3, 1000000000, "microseconds or nanoseconds out of range"},
        {4, 0, "time not positive"},
        {4, -1700000000LL, "time not positive"},
        {5, 0, "time not positive"},
        {6, 4, "leap not 0..3"},
        {6, -1, "leap not 0..3"},
        {4, 1700000000LL + 4 * 3600 + 1, "clock and receive times too far apart"},
        {4, 1700000000LL - 4 * 3600 - 1, "clock and receive times too far apart"},
        {4, INT64_MAX, "clock and receive times too far apart"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rc_shm_snap s = good();
        switch (cases[i].field) {
        case 0:
            s.t.clockTimeStampUSec = (int)cases[i].v;
            break;
        case 1:
            s.t.receiveTimeStampUSec = (int)cases[i].v;
            break;
        case 2:
            s.t.clockTimeStampNSec = (unsigned)cases[i].v;
            break;
        case 3:
            s.t.receiveTimeStampNSec = (unsigned)cases[i].v;
            break;
        case 4:
            s.t.clockTimeStampSec = (time_t)cases[i].v;
            break;
        case 5:
            s.t.receiveTimeStampSec = (time_t)cases[i].v;
            break;
        default:
            s.t.leap = (int)cases[i].v;
            break;
        }
        struct rc_result r = decode(&s);
        assert_int_equal(r.fault, ENG_RC_BADDATA);
        assert_string_equal(r.why, cases[i].why);
    }
    /* Exactly 4 h apart passes; flag1 (maxdelta 0) lets a day through. */
    struct rc_shm_snap s = good();
    s.t.clockTimeStampSec = 1700000000 + 4 * 3600;
    s.t.clockTimeStampNSec = 120000000;
    s.t.clockTimeStampUSec = 120000;
    assert_int_equal(decode(&s).fault, 0);
    s.t.clockTimeStampSec = 1700000000 + 86400;
    struct rc_result r;
    rc_shm_decode(&s, 0, &r);
    assert_int_equal(r.fault, 0);
    assert_int_equal(r.s.ref.tv_sec, 1700000000 + 86400);
}

static void fetch_handshake(void **state)
{
    (void)state;
    struct rc_shm_time seg;
    memset(&seg, 0, sizeof seg);
    struct rc_shm_snap g = good();
    seg = g.t;
    seg.mode = 1;
    seg.count = 41;
    seg.dummy[3] = 5;
    struct rc_shm_snap s;
    memset(&s, 0xa5, sizeof s);
    rc_shm_fetch(&seg, &s);
    assert_int_equal(seg.valid, 0); /* cleared for the producer */
    assert_int_equal(s.t.valid, 1);
    assert_int_equal(s.t.mode, 1);
    assert_int_equal(s.t.count, 41);
    assert_int_equal(s.count_after, 41);
    assert_int_equal(s.t.clockTimeStampSec, 1700000000);
    assert_int_equal(s.t.clockTimeStampNSec, 123456789);
    assert_int_equal(s.t.receiveTimeStampUSec, 120000);
    assert_int_equal(s.t.precision, -20);
    assert_int_equal(s.t.dummy[3], 0);
    struct rc_result r;
    rc_shm_decode(&s, RC_SHM_MAXDELTA_S, &r);
    assert_int_equal(r.fault, 0);
    /* The second read sees nothing new. */
    rc_shm_fetch(&seg, &s);
    rc_shm_decode(&s, RC_SHM_MAXDELTA_S, &r);
    assert_int_equal(r.fault, ENG_RC_NOREPLY);
}

static void layout_is_native(void **state)
{
    (void)state;
    /* gpsd's and NTPsec's struct shmTime on LP64 with a 64-bit time_t. */
    assert_int_equal(sizeof(struct rc_shm_time), 96);
    assert_int_equal(offsetof(struct rc_shm_time, clockTimeStampSec), 8);
    assert_int_equal(offsetof(struct rc_shm_time, receiveTimeStampSec), 24);
    assert_int_equal(offsetof(struct rc_shm_time, leap), 36);
    assert_int_equal(offsetof(struct rc_shm_time, valid), 48);
    assert_int_equal(offsetof(struct rc_shm_time, clockTimeStampNSec), 52);
    assert_int_equal(offsetof(struct rc_shm_time, dummy), 60);
}

/* Random segments: never a sample out of range; a sample's fields are the segment's. */
static void random_segments(void **state)
{
    (void)state;
    tu_seed();
    for (int i = 0; i < 20000; i++) {
        struct rc_shm_snap s = good();
        uint64_t x = tu_rand();
        if (x & 1)
            s.t.mode = (int)(tu_rand() % 4) - 1;
        if (x & 2)
            s.count_after = s.t.count + (int)(tu_rand() % 3);
        if (x & 4)
            s.t.clockTimeStampUSec = (int)(tu_rand() % 2000000) - 500000;
        if (x & 8)
            s.t.clockTimeStampNSec = (unsigned)tu_rand();
        if (x & 16)
            s.t.clockTimeStampSec += (time_t)(tu_rand() % 40000) - 20000;
        if (x & 32)
            s.t.valid = (int)(tu_rand() % 2);
        if (x & 64)
            s.t.leap = (int)(tu_rand() % 6) - 1;
        struct rc_result r;
        rc_shm_decode(&s, RC_SHM_MAXDELTA_S, &r);
        if (s.t.valid == 0) {
            assert_int_equal(r.fault, ENG_RC_NOREPLY);
            continue;
        }
        if (r.fault != 0) {
            assert_true(r.fault >= ENG_RC_NOREPLY && r.fault <= ENG_RC_BADDATA);
            assert_non_null(r.why);
            continue;
        }
        assert_true(s.t.mode == 0 || s.t.mode == 1);
        assert_true(r.s.ref.tv_nsec >= 0 && r.s.ref.tv_nsec < 1000000000L);
        assert_int_equal(r.s.ref.tv_nsec / 1000, s.t.clockTimeStampUSec);
        assert_int_equal(r.s.ref.tv_sec, s.t.clockTimeStampSec);
        long long d = (long long)(r.s.ref.tv_sec - r.s.local.tv_sec);
        assert_true(d >= -RC_SHM_MAXDELTA_S && d <= RC_SHM_MAXDELTA_S);
        assert_true(r.s.leap <= NTK_LEAP_UNSYNC);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_sample_exact),    cmocka_unit_test(ns_or_us),
        cmocka_unit_test(not_valid_is_noreply), cmocka_unit_test(bad_modes),
        cmocka_unit_test(count_changed),        cmocka_unit_test(wild_values),
        cmocka_unit_test(fetch_handshake),      cmocka_unit_test(layout_is_native),
        cmocka_unit_test(random_segments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
