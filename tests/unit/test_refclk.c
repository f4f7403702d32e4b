/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of the refclock median filter (daemon/core/refclk.h): exact trimmed means for
 * known inputs, the ring, and seeded property loops (bounds, outlier rejection). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "../../daemon/core/refclk.h"
#include "testutil.h"

#include "poison.h"

static void reduce(const double *in, size_t n, struct rc_poll *r)
{
    double v[RC_SAMPLES];
    memcpy(v, in, n * sizeof v[0]);
    rc_reduce(v, n, r);
}

static void test_known_values(void **state)
{
    (void)state;
    struct rc_poll r;
    /* One wild sample of five: 2 are dropped (100, then 1), the mean of 2, 3, 4 is left. */
    const double a[] = {4, 100, 2, 1, 3};
    reduce(a, 5, &r);
    assert_true(r.offset_s == 3.0);
    assert_true(fabs(r.jitter_s - sqrt(2.0 / 3.0)) < 1e-15);
    assert_int_equal(r.n, 5);
    assert_int_equal(r.kept, 3);
    assert_true(r.min_s == 2.0 && r.max_s == 4.0);
    /* Ten with a wild one at each end: 4 dropped (60 on the tie, -50, 1, 8), 2..7 kept. */
    const double b[] = {8, 60, 1, 2, 3, -50, 4, 5, 6, 7};
    reduce(b, 10, &r);
    assert_int_equal(r.kept, 6);
    assert_true(r.offset_s == 4.5);
    assert_true(fabs(r.jitter_s - sqrt(17.5 / 6.0)) < 1e-15);
    assert_true(r.min_s == 2.0 && r.max_s == 7.0);
    /* One sample: itself, no jitter. Two: both kept. Three: the far one goes. */
    const double c[] = {-0.25};
    reduce(c, 1, &r);
    assert_true(r.offset_s == -0.25 && r.jitter_s == 0.0 && r.kept == 1);
    const double d[] = {3, 1};
    reduce(d, 2, &r);
    assert_true(r.offset_s == 2.0 && r.jitter_s == 1.0 && r.kept == 2);
    const double e[] = {0, 9, 0};
    reduce(e, 3, &r);
    assert_true(r.offset_s == 0.0 && r.jitter_s == 0.0 && r.kept == 2);
}

static void test_ring(void **state)
{
    (void)state;
    struct rc_filter f;
    struct rc_poll r;
    rc_filter_init(&f);
    assert_false(rc_filter_take(&f, &r));
    for (int i = 0; i < 70; i++)
        rc_filter_add(&f, (double)i, 1000 + i);
    assert_int_equal(rc_filter_count(&f), RC_SAMPLES);
    assert_int_equal(f.overwritten, 10);
    assert_true(rc_filter_take(&f, &r));
    /* The newest 60 (10..69), 24 trimmed from the ends in turn (ties drop the high end):
     * 22..57 are left, mean 39.5. */
    assert_int_equal(r.n, 60);
    assert_int_equal(r.kept, 36);
    assert_true(r.offset_s == 39.5);
    assert_true(r.min_s == 22.0 && r.max_s == 57.0);
    assert_int_equal(r.t_mono_ns, 1069);
    assert_int_equal(rc_filter_count(&f), 0);
    assert_int_equal(f.overwritten, 10); /* kept across polls */
    assert_false(rc_filter_take(&f, &r));
    /* A step shifts what waits; the adjustment hook subtracts per sample. */
    rc_filter_add(&f, 1.0, 5);
    rc_filter_add(&f, 3.0, 7);
    rc_filter_shift(&f, 0.5);
    assert_true(rc_filter_take(&f, &r));
    assert_true(r.offset_s == 1.5);
}

static double corr_by_time(const void *ctx, int64_t t)
{
    (void)ctx;
    return (double)t * 0.25;
}

static void test_adjust(void **state)
{
    (void)state;
    struct rc_filter f;
    struct rc_poll r;
    rc_filter_init(&f);
    rc_filter_add(&f, 1.0, 4); /* - 1.0 */
    rc_filter_add(&f, 3.0, 8); /* - 2.0 */
    rc_filter_adjust(&f, corr_by_time, NULL);
    assert_true(rc_filter_take(&f, &r));
    assert_true(r.offset_s == 0.5);
    assert_true(r.jitter_s == 0.5);
    assert_int_equal(r.t_mono_ns, 8);
}

static double urand(double lo, double hi)
{
    return lo + (hi - lo) * ((double)(tu_rand() >> 11) * 0x1p-53);
}

/* Any input: the result lies within the kept samples, which are input values; the jitter is
 * at least 0 and at most half their spread; the kept count is n - floor(4n / 10). */
static void test_property_bounds(void **state)
{
    (void)state;
    tu_seed();
    for (int iter = 0; iter < 5000; iter++) {
        size_t n = 1 + (size_t)(tu_rand() % RC_SAMPLES);
        double in[RC_SAMPLES], lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            in[i] = urand(-1.0, 1.0) * (tu_rand() % 4 == 0 ? 1000.0 : 1e-3);
            lo = fmin(lo, in[i]);
            hi = fmax(hi, in[i]);
        }
        struct rc_poll r;
        reduce(in, n, &r);
        assert_int_equal(r.kept, n - (n * 4) / 10);
        assert_true(r.min_s <= r.offset_s && r.offset_s <= r.max_s);
        assert_true(lo <= r.min_s && r.max_s <= hi);
        assert_true(r.jitter_s >= 0 && r.jitter_s <= (r.max_s - r.min_s) / 2 + 1e-12);
    }
}

/* Up to 40 % wild samples (anywhere beyond 1 s, either side): the result stays within the
 * good ones (+-1 us). */
static void test_property_outliers(void **state)
{
    (void)state;
    tu_seed();
    for (int iter = 0; iter < 5000; iter++) {
        size_t n = 1 + (size_t)(tu_rand() % RC_SAMPLES);
        size_t wild = (n * 4) / 10 == 0 ? 0 : (size_t)(tu_rand() % ((n * 4) / 10 + 1));
        double in[RC_SAMPLES];
        for (size_t i = 0; i < n; i++)
            in[i] =
                i < wild ? (tu_rand() & 1 ? 1 : -1) * urand(1.0, 100.0) : urand(-1e-6, 1e-6);
        struct rc_poll r;
        reduce(in, n, &r);
        assert_true(fabs(r.offset_s) <= 1e-6);
        assert_true(r.jitter_s <= 1e-6);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_ring),
        cmocka_unit_test(test_adjust),
        cmocka_unit_test(test_property_bounds),
        cmocka_unit_test(test_property_outliers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
