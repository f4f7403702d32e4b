/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of the server's read coalescing (daemon/io/coalesce.h): the rate windows, the
 * threshold, the wait's size and cap, and seeded properties. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../daemon/io/coalesce.h"
#include "testutil.h"

#include "poison.h"

#define MS 1000000LL
#define US 1000LL

/* Feeds `rate` datagrams per second for one whole window in reads of `per` at t0.., and
 * returns the time after it. */
static int64_t feed(struct coalesce *c, int64_t t0, uint32_t rate, int per)
{
    int64_t reads = (int64_t)rate / 10 / per, t = t0;
    for (int64_t i = 0; i < reads; i++, t += COAL_WINDOW_NS / reads)
        (void)coal_after_read(c, t, per, 64);
    return t0 + COAL_WINDOW_NS;
}

static void t_off(void **state)
{
    (void)state;
    struct coalesce c = {0};
    (void)feed(&c, 1000 * MS, 200000, 4);
    assert_int_equal(coal_after_read(&c, 1200 * MS, 1, 64), 0);
    coal_init(&c, 0);
    (void)feed(&c, 1000 * MS, 200000, 4);
    assert_int_equal(coal_after_read(&c, 1200 * MS, 1, 64), 0);
    coal_init(&c, -5);
    assert_int_equal(c.max_ns, 0);
}

static void t_first_window_never_waits(void **state)
{
    (void)state;
    struct coalesce c;
    coal_init(&c, COAL_WAIT_MAX_NS);
    /* No rate is known before a window has closed. */
    for (int i = 0; i < 100; i++)
        assert_int_equal(coal_after_read(&c, 5000 * MS + i * 10 * US, 1, 64), 0);
}

static void t_high_rate_waits(void **state)
{
    (void)state;
    struct coalesce c;
    coal_init(&c, COAL_WAIT_MAX_NS);
    int64_t t = 1000 * MS;
    (void)coal_after_read(&c, t, 1, 64); /* opens the first window */
    t = feed(&c, t, 100000, 5);
    /* 100,000/s measured: half a batch (32) minus 5 takes 270 µs: capped. */
    int64_t w = coal_after_read(&c, t + 1 * US, 5, 64);
    assert_int_equal(c.rate_per_s / 1000, 100);
    assert_int_equal(w, COAL_WAIT_MAX_NS);
    /* Half a batch or more: no wait. */
    assert_int_equal(coal_after_read(&c, t + 2 * US, 32, 64), 0);
    assert_int_equal(coal_after_read(&c, t + 3 * US, 64, 64), 0);
    /* An empty read: back to poll. */
    assert_int_equal(coal_after_read(&c, t + 4 * US, 0, 64), 0);
}

static void t_wait_size(void **state)
{
    (void)state;
    struct coalesce c;
    coal_init(&c, 10 * MS);
    c.window_start_ns = 1000 * MS;
    c.rate_per_s = 400000;
    /* 400,000/s: (32 - 30) datagrams take 5 µs. */
    assert_int_equal(coal_after_read(&c, 1000 * MS + 1, 30, 64), 5 * US);
    /* (32 - 2) take 75 µs. */
    assert_int_equal(coal_after_read(&c, 1000 * MS + 2, 2, 64), 75 * US);
}

static void t_threshold(void **state)
{
    (void)state;
    struct coalesce c;
    coal_init(&c, COAL_WAIT_MAX_NS);
    int64_t t = 1000 * MS;
    (void)coal_after_read(&c, t, 1, 64);
    t = feed(&c, t, COAL_RATE_MIN_PER_S / 2, 1);
    assert_int_equal(coal_after_read(&c, t + 1, 1, 64), 0);
    assert_true(c.rate_per_s < COAL_RATE_MIN_PER_S);
    t = feed(&c, t + 1, COAL_RATE_MIN_PER_S * 2, 1);
    assert_true(coal_after_read(&c, t + 2, 1, 64) > 0);
}

static void t_idle_gap_resets(void **state)
{
    (void)state;
    struct coalesce c;
    coal_init(&c, COAL_WAIT_MAX_NS);
    int64_t t = 1000 * MS;
    (void)coal_after_read(&c, t, 1, 64);
    t = feed(&c, t, 100000, 5);
    assert_true(coal_after_read(&c, t + 1, 1, 64) > 0);
    /* Nothing for a second: the old rate no longer holds. */
    assert_int_equal(coal_after_read(&c, t + 1000 * MS, 1, 64), 0);
    assert_int_equal(c.rate_per_s, 0);
}

/* Whatever the reads: the wait is 0 or within (0, max_ns], 0 when the read was half a batch
 * or more. */
static void t_prop_bounds(void **state)
{
    (void)state;
    for (int run = 0; run < 200; run++) {
        struct coalesce c;
        int64_t max = (int64_t)(tu_rand() % (1000 * US)) + 1;
        coal_init(&c, max);
        int64_t t = (int64_t)(tu_rand() % (1000 * MS));
        for (int i = 0; i < 2000; i++) {
            t += (int64_t)(tu_rand() % (2 * MS));
            int n = (int)(tu_rand() % 65);
            int64_t w = coal_after_read(&c, t, n, 64);
            assert_true(w >= 0 && w <= max);
            if (n >= 32 || n == 0)
                assert_int_equal(w, 0);
        }
    }
}

int main(void)
{
    tu_seed();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_off),
        cmocka_unit_test(t_first_window_never_waits),
        cmocka_unit_test(t_high_rate_waits),
        cmocka_unit_test(t_wait_size),
        cmocka_unit_test(t_threshold),
        cmocka_unit_test(t_idle_gap_resets),
        cmocka_unit_test(t_prop_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
