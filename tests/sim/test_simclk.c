/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of the simulated clock: exact integration, Linux's tick/frequency split and
 * limits, adjtime's 500 ppm slew, steps, the monotonic clock, deadline mapping and the
 * kernel's leap seconds. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "simclk.h"
#include "testutil.h"

#include "poison.h"

#define S 1000000000LL
/* 2026-06-30T23:59:50Z: a UTC midnight 10 s after t = 0. */
#define EPOCH_NS ((1782864000LL - 10) * S)

static void start(struct simclk *c, double offset_s, double freq_ppm)
{
    struct simclk_cfg cfg = {.epoch_unix_ns = EPOCH_NS,
                             .mono_start_ns = 1000 * S,
                             .offset_s = offset_s,
                             .freq_ppm = freq_ppm};
    simclk_init(c, &cfg);
}

static void set_freq_moves_phase_exactly(void **state)
{
    (void)state;
    struct simclk c;
    start(&c, 0, 0);
    assert_int_equal(simclk_op_set_freq(&c, 100.0), 0);
    simclk_advance(&c, 10 * S);
    assert_true(fabs(simclk_offset_s(&c) - 1e-3) < 1e-15);
    assert_int_equal(simclk_real_ns(&c), EPOCH_NS + 10 * S + 1000000);
    assert_int_equal(simclk_mono_ns(&c), 1000 * S + 10 * S + 1000000);
}

/* However the time is cut into advances, the phase is the same. */
static void integration_does_not_depend_on_spacing(void **state)
{
    (void)state;
    tu_seed();
    for (int round = 0; round < 50; round++) {
        struct simclk one, many;
        double f = (double)(tu_rand() % 200001) - 100000.0; /* ppm, tick range */
        double err = (double)(tu_rand() % 2001) / 10.0 - 100.0;
        start(&one, 0.25, err);
        start(&many, 0.25, err);
        simclk_op_set_freq(&one, f);
        simclk_op_set_freq(&many, f);
        simclk_op_slew(&one, 0.002);
        simclk_op_slew(&many, 0.002);
        int64_t end = 100 * S;
        simclk_advance(&one, end);
        while (many.t_ns < end) {
            int64_t step = (int64_t)(tu_rand() % (uint64_t)(3 * S)) + 1;
            simclk_advance(&many, many.t_ns + step < end ? many.t_ns + step : end);
        }
        assert_true(fabs(simclk_offset_s(&one) - simclk_offset_s(&many)) < 1e-12);
        double expect = 0.25 + (err + simclk_corr_ppm(&one)) * 1e-6 * 100.0 + 0.002;
        assert_true(fabs(simclk_offset_s(&one) - expect) < 1e-12);
    }
}

static void tick_and_kernel_frequency_split(void **state)
{
    (void)state;
    struct simclk c;
    start(&c, 0, 0);
    assert_int_equal(simclk_op_set_freq(&c, 250.0), 0);
    assert_int_equal(c.tick_delta_us, 0);
    assert_int_equal(c.kfreq, 250 * 65536);
    assert_int_equal(simclk_op_set_freq(&c, -500.0), 0);
    assert_int_equal(c.tick_delta_us, 0);
    assert_int_equal(c.kfreq, -500 * 65536);
    assert_int_equal(simclk_op_set_freq(&c, 1234.5), 0);
    assert_int_equal(c.tick_delta_us, 12);
    assert_int_equal(c.kfreq, llround(34.5 * 65536));
    assert_int_equal(simclk_op_set_freq(&c, -83333.0), 0);
    assert_int_equal(c.tick_delta_us, -833);
    assert_int_equal(c.kfreq, llround(-33.0 * 65536));
    assert_int_equal(simclk_op_set_freq(&c, 100500.0), 0);
    assert_int_equal(c.tick_delta_us, 1000);
    assert_int_equal(c.kfreq, 500 * 65536);
    assert_int_equal(simclk_op_set_freq(&c, -100500.0), 0);
    assert_int_equal(c.tick_delta_us, -1000);
    assert_int_equal(c.kfreq, -500 * 65536);
    /* 2^-16 ppm units */
    assert_int_equal(simclk_op_set_freq(&c, 1.0 / 65536 * 3.4), 0);
    assert_int_equal(c.kfreq, 3);
}

static void set_freq_limits(void **state)
{
    (void)state;
    struct simclk c;
    start(&c, 0, 0);
    assert_int_equal(simclk_op_set_freq(&c, 42.0), 0);
    assert_int_equal(simclk_op_set_freq(&c, 100500.001), -EINVAL);
    assert_int_equal(simclk_op_set_freq(&c, -100501.0), -EINVAL);
    assert_int_equal(simclk_op_set_freq(&c, NAN), -EINVAL);
    assert_int_equal(simclk_op_set_freq(&c, INFINITY), -EINVAL);
    assert_int_equal(c.st.einval, 4);
    assert_int_equal(c.st.set_freq, 5);
    /* refused calls leave the frequency alone */
    assert_true(simclk_corr_ppm(&c) == 42.0);
    struct ntk_clk_ops ops;
    simclk_ops(&c, &ops);
    double f = 0;
    assert_int_equal(ops.read_freq(ops.ctx, &f), 0);
    assert_true(f == 42.0);
}

/* Any frequency in range reads back within the kernel's resolution, inside the limits. */
static void set_freq_property(void **state)
{
    (void)state;
    tu_seed();
    struct simclk c;
    start(&c, 0, 0);
    struct ntk_clk_ops ops;
    simclk_ops(&c, &ops);
    for (int i = 0; i < 100000; i++) {
        double f = ((double)(tu_rand() >> 11) * 0x1.0p-53 * 2.0 - 1.0) * NTK_CLK_FREQ_MAX_PPM;
        assert_int_equal(ops.set_freq(ops.ctx, f), 0);
        double back = 0;
        ops.read_freq(ops.ctx, &back);
        assert_true(fabs(back - f) <= 0.5 / 65536 + 1e-9);
        assert_true(c.tick_delta_us >= -1000 && c.tick_delta_us <= 1000);
        assert_true(c.kfreq >= -500 * 65536 && c.kfreq <= 500 * 65536);
        if (fabs(f) <= 500.0) {
            assert_int_equal(c.tick_delta_us, 0);
        }
    }
}

static void slew_runs_at_500ppm(void **state)
{
    (void)state;
    struct simclk c;
    start(&c, 0, 0);
    assert_int_equal(simclk_op_slew(&c, 1e-3), 0);
    assert_int_equal(simclk_next_event(&c), 2 * S);
    assert_true(simclk_rate_ppm(&c) == 500.0);
    simclk_advance(&c, 1 * S);
    assert_true(fabs(simclk_offset_s(&c) - 0.5e-3) < 1e-15);
    simclk_advance(&c, 3 * S);
    assert_true(fabs(simclk_offset_s(&c) - 1e-3) < 1e-15);
    assert_true(c.slew_left_s == 0.0);
    assert_true(simclk_rate_ppm(&c) == 0.0);
    assert_int_equal(simclk_next_event(&c), INT64_MAX);
    /* negative; a new slew replaces what is left of the old one */
    assert_int_equal(simclk_op_slew(&c, -2e-3), 0);
    simclk_advance(&c, 4 * S);
    assert_true(fabs(simclk_offset_s(&c) - 0.5e-3) < 1e-15);
    assert_int_equal(simclk_op_slew(&c, 1e-4), 0);
    simclk_advance(&c, 10 * S);
    assert_true(fabs(simclk_offset_s(&c) - 0.6e-3) < 1e-15);
    /* adjtime's limit */
    assert_int_equal(simclk_op_slew(&c, 2145.0), 0);
    assert_int_equal(simclk_op_slew(&c, -2145.5), -EINVAL);
    assert_true(c.slew_left_s == 2145.0);
    assert_true(c.st.max_abs_slew_s == 2145.0);
}

static void step_leaves_monotonic_alone(void **state)
{
    (void)state;
    struct simclk c;
    start(&c, 0, 0);
    simclk_advance(&c, 5 * S);
    int64_t mono = simclk_mono_ns(&c);
    int64_t real = simclk_real_ns(&c);
    assert_int_equal(simclk_op_step(&c, -0.5), 0);
    assert_int_equal(simclk_real_ns(&c), real - S / 2);
    assert_int_equal(simclk_mono_ns(&c), mono);
    assert_int_equal(c.st.step, 1);
    assert_int_equal(c.steps[0].t_ns, 5 * S);
    assert_true(c.steps[0].offset_s == -0.5);
    assert_true(c.st.max_abs_step_s == 0.5);
    assert_int_equal(simclk_op_step(&c, NAN), -EINVAL);
    assert_int_equal(c.st.step, 1);
}

static void deadline_maps_to_true_time(void **state)
{
    (void)state;
    tu_seed();
    for (int i = 0; i < 1000; i++) {
        struct simclk c;
        start(&c, 0, (double)(tu_rand() % 1001) - 500.0);
        simclk_op_set_freq(&c, (double)(tu_rand() % 20001) - 10000.0);
        simclk_advance(&c, (int64_t)(tu_rand() % (uint64_t)S));
        int64_t dl = simclk_mono_ns(&c) + (int64_t)(tu_rand() % (uint64_t)(2000 * S)) + 1;
        int64_t t = simclk_true_at_mono(&c, dl);
        struct simclk before = c;
        simclk_advance(&before, t - 2);
        assert_true(simclk_mono_ns(&before) < dl);
        simclk_advance(&c, t);
        /* never late; early only by the rounding of one nanosecond */
        assert_true(simclk_mono_ns(&c) >= dl - 1);
    }
    struct simclk c;
    start(&c, 0, 0);
    assert_int_equal(simclk_true_at_mono(&c, 0), 0);
    assert_int_equal(simclk_true_at_mono(&c, INT64_MAX), INT64_MAX);
}

static void leap_insert_at_local_midnight(void **state)
{
    (void)state;
    struct simclk c;
    start(&c, 1e-3, 0); /* 1 ms ahead: the kernel's midnight comes 1 ms early */
    struct ntk_clk_ops ops;
    simclk_ops(&c, &ops);
    assert_int_equal(ops.set_leap(ops.ctx, 1), 0);
    assert_int_equal(simclk_next_event(&c), 10 * S - 1000000);
    simclk_advance(&c, 10 * S - 1000001);
    assert_int_equal(c.st.kernel_leaps, 0);
    simclk_advance(&c, 10 * S - 1000000);
    assert_int_equal(c.st.kernel_leaps, 1);
    assert_int_equal(simclk_real_ns(&c), 1782864000LL * S - S);
    assert_true(fabs(simclk_offset_s(&c) - (1e-3 - 1.0)) < 1e-12);
    /* the monotonic clock does not see it */
    assert_int_equal(simclk_mono_ns(&c), 1000 * S + 10 * S - 1000000);
    /* still armed: the kernel waits for the disarm, no leap the next day */
    simclk_advance(&c, 10 * S + SIMCLK_DAY_NS + S);
    assert_int_equal(c.st.kernel_leaps, 1);
    assert_int_equal(ops.set_leap(ops.ctx, 0), 0);
    assert_int_equal(ops.set_leap(ops.ctx, 1), 0);
    simclk_advance(&c, 10 * S + 2 * SIMCLK_DAY_NS + S);
    assert_int_equal(c.st.kernel_leaps, 2);
    assert_int_equal(ops.set_leap(ops.ctx, 2), -EINVAL);
}

static void leap_delete_at_235959(void **state)
{
    (void)state;
    struct simclk c;
    start(&c, 0, 0);
    struct ntk_clk_ops ops;
    simclk_ops(&c, &ops);
    assert_int_equal(ops.set_leap(ops.ctx, -1), 0);
    simclk_advance(&c, 9 * S - 1);
    assert_int_equal(c.st.kernel_leaps, 0);
    simclk_advance(&c, 9 * S);
    assert_int_equal(c.st.kernel_leaps, 1);
    assert_int_equal(simclk_real_ns(&c), 1782864000LL * S);
}

static void disarmed_leap_does_nothing(void **state)
{
    (void)state;
    struct simclk c;
    start(&c, 0, 0);
    struct ntk_clk_ops ops;
    simclk_ops(&c, &ops);
    ops.set_leap(ops.ctx, 1);
    ops.set_leap(ops.ctx, 0);
    simclk_advance(&c, 20 * S);
    assert_int_equal(c.st.kernel_leaps, 0);
    assert_true(simclk_offset_s(&c) == 0.0);
}

static void wander_and_ops(void **state)
{
    (void)state;
    struct simclk c;
    start(&c, 0, 5.0);
    simclk_add_wander(&c, 0.5);
    assert_true(simclk_rate_ppm(&c) == 5.5);
    simclk_advance(&c, 2 * S);
    assert_true(fabs(simclk_offset_s(&c) - 11e-6) < 1e-15);
    struct ntk_clk_ops ops;
    simclk_ops(&c, &ops);
    struct timespec ts;
    assert_int_equal(ops.now(ops.ctx, &ts), 0);
    assert_int_equal((int64_t)ts.tv_sec * S + ts.tv_nsec, simclk_real_ns(&c));
    assert_int_equal(ops.check_privilege(ops.ctx), 0);
    assert_int_equal(ops.set_sync_status(ops.ctx, 1, 0.5, 1e-5), 0);
    assert_true(c.synced);
    assert_true(c.maxerror_s == 0.5);
    assert_int_equal(c.st.now, 1);
    assert_int_equal(c.st.sync_status, 1);
    assert_string_equal(ops.name, "sim");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(set_freq_moves_phase_exactly),
        cmocka_unit_test(integration_does_not_depend_on_spacing),
        cmocka_unit_test(tick_and_kernel_frequency_split),
        cmocka_unit_test(set_freq_limits),
        cmocka_unit_test(set_freq_property),
        cmocka_unit_test(slew_runs_at_500ppm),
        cmocka_unit_test(step_leaves_monotonic_alone),
        cmocka_unit_test(deadline_maps_to_true_time),
        cmocka_unit_test(leap_insert_at_local_midnight),
        cmocka_unit_test(leap_delete_at_235959),
        cmocka_unit_test(disarmed_leap_does_nothing),
        cmocka_unit_test(wander_and_ops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
