/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of the Linux clock drivers that never change the clock: the frequency split
 * (pure), reads of the kernel state, and the null driver's promise to change nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <sys/timex.h>
#include <time.h>

#include "../../daemon/os/clk_linux.h"

#include "poison.h"

static void split_table(void **state)
{
    (void)state;
    static const struct {
        double ppm;
        long tick;
        double kernel;
    } cases[] = {
        {0, 10000, 0},       {12.5, 10000, 12.5}, {-500, 10000, -500}, {500, 10000, 500},
        {500.5, 10005, 0.5}, {-650, 9993, 50},    {1234, 10012, 34},   {83333, 10833, 33},
        {-83333, 9167, -33}, {100500, 11005, 0},  {-100500, 8995, 0},  {549.9, 10005, 49.9},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long tick = 0;
        double kernel = 1e9;
        assert_true(ntk_clk_split_freq(cases[i].ppm, 100, &tick, &kernel));
        assert_int_equal(tick, cases[i].tick);
        assert_true(fabs(kernel - cases[i].kernel) < 1e-9);
        assert_true(fabs(kernel) <= 500);
        /* The two parts add up to the request. */
        assert_true(fabs((double)(tick - 10000) * 100 + kernel - cases[i].ppm) < 1e-9);
    }
}

static void split_refuses(void **state)
{
    (void)state;
    long tick = 7;
    double kernel = 7;
    assert_false(ntk_clk_split_freq(100500.01, 100, &tick, &kernel));
    assert_false(ntk_clk_split_freq(-1e9, 100, &tick, &kernel));
    assert_false(ntk_clk_split_freq(NAN, 100, &tick, &kernel));
    assert_false(ntk_clk_split_freq(INFINITY, 100, &tick, &kernel));
    assert_false(ntk_clk_split_freq(1, 0, &tick, &kernel));
    assert_int_equal(tick, 7);
    assert_true(kernel == 7);
    /* Another HZ: at 1000 a µs of a 1000 µs tick is 1000 ppm. */
    assert_true(ntk_clk_split_freq(2600, 1000, &tick, &kernel));
    assert_int_equal(tick, 1003);
    assert_true(fabs(kernel + 400) < 1e-9);
}

/* Reading the kernel's frequency needs no privilege and changes nothing. */
static void read_freq_is_a_read(void **state)
{
    (void)state;
    const struct ntk_clk_ops *clk = ntk_clk_linux();
    double a = NAN, b = NAN;
    assert_int_equal(clk->read_freq(clk->ctx, &a), 0);
    assert_true(isfinite(a));
    assert_true(fabs(a) <= NTK_CLK_FREQ_MAX_PPM);
    assert_int_equal(clk->read_freq(clk->ctx, &b), 0);
    assert_true(a == b);
    struct timespec t;
    assert_int_equal(clk->now(clk->ctx, &t), 0);
    assert_true(t.tv_sec > 1700000000);
}

/* The null driver succeeds at everything and the kernel's frequency is unchanged. */
static void null_driver_changes_nothing(void **state)
{
    (void)state;
    const struct ntk_clk_ops *null = ntk_clk_null();
    double before = NAN, after = NAN;
    assert_int_equal(null->read_freq(null->ctx, &before), 0);
    assert_int_equal(null->check_privilege(null->ctx), 0);
    assert_int_equal(null->set_freq(null->ctx, 400), 0);
    assert_int_equal(null->step(null->ctx, 1000), 0);
    assert_int_equal(null->slew(null->ctx, 1), 0);
    assert_int_equal(null->set_leap(null->ctx, 1), 0);
    assert_int_equal(null->set_sync_status(null->ctx, 1, 0.1, 0.01), 0);
    assert_int_equal(null->set_pps(null->ctx, 1), 0);
    assert_int_equal(null->read_freq(null->ctx, &after), 0);
    assert_true(before == after);
    assert_string_equal(null->name, "null");
}

/* The status word set_freq writes: PLL and FLL always off; the PPS bits on exactly with
 * kernel PPS (set_pps), every other bit kept. */
static void status_bits(void **state)
{
    (void)state;
    assert_int_equal(clk_linux_status(STA_PLL | STA_FLL | STA_UNSYNC, false), STA_UNSYNC);
    assert_int_equal(clk_linux_status(STA_PPSFREQ | STA_PPSTIME | STA_INS, false), STA_INS);
    assert_int_equal(clk_linux_status(STA_PLL | STA_DEL, true),
                     STA_DEL | STA_PPSFREQ | STA_PPSTIME);
    for (int s = 0; s < 0x10000; s += 7) {
        int off = clk_linux_status(s, false), on = clk_linux_status(s, true);
        assert_int_equal(off & (STA_PLL | STA_FLL | STA_PPSFREQ | STA_PPSTIME), 0);
        assert_int_equal(on & (STA_PPSFREQ | STA_PPSTIME), STA_PPSFREQ | STA_PPSTIME);
        assert_int_equal(on & ~(STA_PPSFREQ | STA_PPSTIME), off);
        assert_int_equal(off & ~(STA_PLL | STA_FLL | STA_PPSFREQ | STA_PPSTIME),
                         s & ~(STA_PLL | STA_FLL | STA_PPSFREQ | STA_PPSTIME));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(split_table),         cmocka_unit_test(split_refuses),
        cmocka_unit_test(read_freq_is_a_read), cmocka_unit_test(null_driver_changes_nothing),
        cmocka_unit_test(status_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
