/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for daemon/io/rc_sock.c: chrony's struct sock_sample datagrams to a sample
 * (exact values, offsets either side of the second, pulses), every wrong size and magic, the
 * wild values, and a seeded loop of offsets and of truncations. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "refclock.h"
#include "testutil.h"

#include "poison.h"

static struct rc_sock_sample good(void)
{
    struct rc_sock_sample s;
    memset(&s, 0, sizeof s);
    s.tv.tv_sec = 1700000000;
    s.tv.tv_usec = 250000;
    s.offset = 0.0025;
    s.magic = RC_SOCK_MAGIC;
    return s;
}

static struct rc_result decode(const struct rc_sock_sample *s)
{
    struct rc_result r;
    rc_sock_decode((const uint8_t *)s, sizeof *s, &r);
    return r;
}

static void good_sample_exact(void **state)
{
    (void)state;
    struct rc_sock_sample s = good();
    struct rc_result r = decode(&s);
    assert_int_equal(r.fault, 0);
    assert_int_equal(r.s.local.tv_sec, 1700000000);
    assert_int_equal(r.s.local.tv_nsec, 250000000);
    assert_int_equal(r.s.ref.tv_sec, 1700000000);
    assert_int_equal(r.s.ref.tv_nsec, 252500000);
    assert_int_equal(r.s.leap, NTK_LEAP_NONE);
    assert_int_equal(r.s.precision_log2, 0);
    assert_string_equal(r.s.timecode, "sample 1700000000.250000 +0.002500000");
    /* A negative offset across the second, and a leap. */
    s.offset = -0.75;
    s.leap = 2;
    r = decode(&s);
    assert_int_equal(r.fault, 0);
    assert_int_equal(r.s.ref.tv_sec, 1699999999);
    assert_int_equal(r.s.ref.tv_nsec, 500000000);
    assert_int_equal(r.s.leap, NTK_LEAP_DELETE);
    /* A positive one across the second, whole seconds too. */
    s.offset = 3.8;
    s.leap = 1;
    r = decode(&s);
    assert_int_equal(r.s.ref.tv_sec, 1700000004);
    assert_int_equal(r.s.ref.tv_nsec, 50000000);
    assert_int_equal(r.s.leap, NTK_LEAP_INSERT);
}

static void pulse_has_no_reference(void **state)
{
    (void)state;
    struct rc_sock_sample s = good();
    s.pulse = 1;
    s.offset = -0.000123;
    struct rc_result r = decode(&s);
    assert_int_equal(r.fault, 0);
    assert_int_equal(r.s.ref.tv_sec, 0);
    assert_int_equal(r.s.ref.tv_nsec, 0);
    assert_int_equal(r.s.local.tv_nsec, 250000000);
    assert_string_equal(r.s.timecode, "pulse 1700000000.250000 -0.000123000");
    s.offset = 0.5;
    assert_int_equal(decode(&s).fault, ENG_RC_BADDATA);
}

static void sizes_and_magic(void **state)
{
    (void)state;
    uint8_t buf[64];
    struct rc_sock_sample s = good();
    memset(buf, 0, sizeof buf);
    memcpy(buf, &s, sizeof s);
    for (size_t n = 0; n <= sizeof buf; n++) {
        struct rc_result r;
        rc_sock_decode(buf, n, &r);
        if (n == sizeof s) {
            assert_int_equal(r.fault, 0);
        } else {
            assert_int_equal(r.fault, ENG_RC_BADFORMAT);
            assert_string_equal(r.why, "datagram is not a struct sock_sample (size)");
        }
    }
    const int magics[] = {0, 0x4b434f53, RC_SOCK_MAGIC + 1, -1};
    for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++) {
        s.magic = magics[i];
        struct rc_result r = decode(&s);
        assert_int_equal(r.fault, ENG_RC_BADFORMAT);
        assert_string_equal(r.why, "bad magic");
    }
}

static void wild_values(void **state)
{
    (void)state;
    struct rc_sock_sample s;
    s = good();
    s.tv.tv_usec = 1000000;
    assert_int_equal(decode(&s).fault, ENG_RC_BADDATA);
    s.tv.tv_usec = -1;
    assert_int_equal(decode(&s).fault, ENG_RC_BADDATA);
    s = good();
    s.tv.tv_sec = 0;
    assert_string_equal(decode(&s).why, "time out of range");
    const double offsets[] = {NAN, INFINITY, -INFINITY, 1e9, -1e9, 1e300};
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        s = good();
        s.offset = offsets[i];
        struct rc_result r = decode(&s);
        assert_int_equal(r.fault, ENG_RC_BADDATA);
        assert_string_equal(r.why, "offset out of range");
    }
    const int leaps[] = {3, -1, 4, 1000};
    for (size_t i = 0; i < sizeof leaps / sizeof leaps[0]; i++) {
        s = good();
        s.leap = leaps[i];
        struct rc_result r = decode(&s);
        assert_int_equal(r.fault, ENG_RC_BADDATA);
        assert_string_equal(r.why, "leap not 0..2");
    }
}

/* Random offsets: ref - local is the offset to the ns; random bytes never give an
 * out-of-range sample. */
static void random_offsets(void **state)
{
    (void)state;
    tu_seed();
    for (int i = 0; i < 20000; i++) {
        struct rc_sock_sample s = good();
        s.tv.tv_usec = (long)(tu_rand() % 1000000);
        s.offset = ((double)(tu_rand() % 2000000001) - 1000000000.0) * 1e-6;
        struct rc_result r = decode(&s);
        assert_int_equal(r.fault, 0);
        double d = (double)(r.s.ref.tv_sec - r.s.local.tv_sec) +
                   (double)(r.s.ref.tv_nsec - r.s.local.tv_nsec) * 1e-9;
        assert_true(fabs(d - s.offset) < 1.5e-9);
        assert_true(r.s.ref.tv_nsec >= 0 && r.s.ref.tv_nsec < 1000000000L);

        uint8_t junk[sizeof s];
        tu_fill(junk, sizeof junk);
        rc_sock_decode(junk, sizeof junk, &r);
        if (r.fault == 0) {
            assert_true(r.s.local.tv_nsec >= 0 && r.s.local.tv_nsec < 1000000000L);
            assert_true(r.s.ref.tv_nsec >= 0 && r.s.ref.tv_nsec < 1000000000L);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_sample_exact), cmocka_unit_test(pulse_has_no_reference),
        cmocka_unit_test(sizes_and_magic),   cmocka_unit_test(wild_values),
        cmocka_unit_test(random_offsets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
