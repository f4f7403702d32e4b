/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for daemon/core/filter.c: the lowest delay wins, dispersion and jitter against
 * hand-computed values, aging, the popcorn suppressor's held-once rule, steps, misses, and a
 * seeded property loop against a naive reference implementation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>

#include "filter.h"
#include "testutil.h"

#include "poison.h"

#define assert_near(got, want, tol)                                                           \
    do {                                                                                      \
        double g_ = (got), w_ = (want);                                                       \
        if (!(g_ - w_ <= (tol) && w_ - g_ <= (tol))) {                                        \
            fail_msg("%s = %.17g, want %.17g", #got, g_, w_);                                 \
        }                                                                                     \
    } while (0)

#define S_NS 1000000000LL
#define PREC 0x1p-20 /* the jitter floor of every test */
#define MS   1e-3

/* 16 s times the weights of the empty stages from k on: 16 * (2^-k - 2^-8). */
static double empty_tail(int k)
{
    return 16.0 * (ldexp(1.0, -k) - ldexp(1.0, -8));
}

static bool add(struct filter *f, double off, double delay, double disp, int64_t t_s)
{
    struct filter_sample s = {off, delay, disp, t_s * S_NS};
    return filter_add(f, &s, PREC);
}

static void empty_filter(void **state)
{
    (void)state;
    struct filter f;
    filter_init(&f, 15);
    assert_false(f.valid);
    assert_int_equal(f.n, 0);
    assert_near(filter_disp_now(&f, 0), 16.0, 0);
    struct filter z = {0};
    assert_near(filter_disp_now(&z, 123), 16.0, 0);
}

/* One sample: it is offered; its ε counts half, the seven empty stages the rest. */
static void first_sample(void **state)
{
    (void)state;
    struct filter f;
    filter_init(&f, 0);
    assert_true(add(&f, 0.25, 0.125, 0.5, 10));
    assert_true(f.valid);
    assert_near(f.offset_s, 0.25, 0);
    assert_near(f.delay_s, 0.125, 0);
    assert_true(f.t_mono_ns == 10 * S_NS);
    assert_near(f.disp_s, 0.25 + empty_tail(1), 0);
    assert_near(f.disp_s, 0.25 + 7.9375, 0);
    assert_near(f.jitter_s, PREC, 0);
}

/* Three samples: the lowest delay is chosen; the weighted sum and the RMS follow it. */
static void lowest_delay_wins(void **state)
{
    (void)state;
    struct filter f;
    filter_init(&f, 0);
    assert_true(add(&f, 1 * MS, 0.005, 0.001, 1));
    assert_true(add(&f, 2 * MS, 0.003, 0.002, 2)); /* lower delay and newer: offered */
    assert_near(f.offset_s, 2 * MS, 0);
    assert_false(add(&f, 3 * MS, 0.004, 0.004, 3)); /* chosen is still the one of t=2 */
    assert_near(f.offset_s, 2 * MS, 0);
    assert_near(f.delay_s, 0.003, 0);
    assert_true(f.t_mono_ns == 2 * S_NS);
    /* sorted: (0.003, ε 0.002), (0.004, ε 0.004), (0.005, ε 0.001) */
    assert_near(f.disp_s, 0.002 / 2 + 0.004 / 4 + 0.001 / 8 + empty_tail(3), 1e-15);
    /* sqrt(((3 - 2)² + (1 - 2)²) ms² / 2) = 1 ms */
    assert_near(f.jitter_s, 1 * MS, 1e-15);
}

/* Jitter: RMS of the differences from the chosen stage over m - 1, floored at precision. */
static void jitter_formula(void **state)
{
    (void)state;
    struct filter f;
    filter_init(&f, 0);
    add(&f, 0.001, 0.010, 0, 1);
    add(&f, -0.002, 0.011, 0, 2);
    add(&f, 0.002, 0.012, 0, 3);
    add(&f, 0.0, 0.001, 0, 4); /* the chosen one, offset 0 */
    /* (1 + 4 + 4) ms² / 3 = 3 ms² */
    assert_near(f.jitter_s, sqrt(3e-6), 1e-15);
    assert_near(f.offset_s, 0.0, 0);

    filter_init(&f, 0);
    for (int i = 1; i <= 5; i++) {
        add(&f, 0.125, 0.01 * i, 0, i);
    }
    assert_near(f.jitter_s, PREC, 0); /* identical offsets: the precision */
}

/* Eight full stages and a ninth: the oldest falls out; weights 1/2 .. 1/256. */
static void dispersion_full_register(void **state)
{
    (void)state;
    struct filter f;
    filter_init(&f, 0);
    /* delays decreasing, so the sort order is newest first: ε_k = (8 - k) ms */
    for (int i = 1; i <= 8; i++) {
        add(&f, 0, 0.1 - 0.01 * i, i * MS, i);
    }
    double want = 0;
    for (int k = 0; k < 8; k++) {
        want += (8 - k) * MS / ldexp(1.0, k + 1);
    }
    assert_near(f.disp_s, want, 1e-15);
    assert_int_equal(f.n, 8);
    add(&f, 0, 0.001, 9 * MS, 9); /* stage 1 (ε 1 ms) falls out */
    want = 0;
    for (int k = 0; k < 8; k++) {
        want += (9 - k) * MS / ldexp(1.0, k + 1);
    }
    assert_near(f.disp_s, want, 1e-15);
    assert_int_equal(f.n, 8);
}

/* Dispersion grows by PHI per second of age; a stage aged to 16 s becomes a dummy. */
static void aging(void **state)
{
    (void)state;
    struct filter f;
    filter_init(&f, 15);
    add(&f, 0.001, 0.002, 0.001, 0);
    add(&f, 0.003, 0.004, 0.001, 100); /* older one still has the lower delay */
    double want = (0.001 + 15e-6 * 100) / 2 + 0.001 / 4 + empty_tail(2);
    assert_near(f.disp_s, want, 1e-15);
    want = (0.001 + 15e-6 * 300) / 2 + (0.001 + 15e-6 * 200) / 4 + empty_tail(2);
    assert_near(filter_disp_now(&f, 300 * S_NS), want, 1e-15);
    /* 2e6 s later every stage is worth MAXDISP */
    assert_near(filter_disp_now(&f, 2000000 * S_NS), 16 * 255.0 / 256, 1e-12);
}

/* A filter whose output is 0 with a jitter of about 0.1 ms, all stages offered in turn. */
static void calm_filter(struct filter *f)
{
    filter_init(f, 0);
    for (int i = 1; i <= 6; i++) {
        assert_true(add(f, (i % 2 ? 1 : -1) * 0.1 * MS, 0.1 - 0.01 * i, 0, i));
    }
    assert_near(f->offset_s, -0.1 * MS, 0);
    assert_true(f->jitter_s > 0.1 * MS && f->jitter_s < 0.3 * MS);
}

/* A lone spike is held; the next normal sample is offered and the spike never is. */
static void popcorn_spike_dropped(void **state)
{
    (void)state;
    struct filter f;
    calm_filter(&f);
    double jit = f.jitter_s;
    assert_false(add(&f, 50 * MS, 0.02, 0, 7)); /* the lowest delay, but a spike */
    assert_true(f.spike_held);
    assert_near(f.offset_s, -0.1 * MS, 0); /* output unchanged */
    assert_true(f.t_mono_ns == 6 * S_NS);
    assert_true(f.jitter_s > jit);               /* the jitter does see it */
    assert_true(add(&f, 0.05 * MS, 0.01, 0, 8)); /* next one, lower delay, normal */
    assert_false(f.spike_held);
    assert_near(f.offset_s, 0.05 * MS, 0);
}

/* Held once only: a second sample that agrees with the step is offered. */
static void popcorn_held_once(void **state)
{
    (void)state;
    struct filter f;
    calm_filter(&f);
    assert_false(add(&f, 50 * MS, 0.02, 0, 7));
    assert_true(add(&f, 51 * MS, 0.01, 0, 8));
    assert_near(f.offset_s, 51 * MS, 0);
    assert_false(f.spike_held);
}

/* After a held spike the next candidate is offered whatever its offset: it decides. */
static void popcorn_next_decides(void **state)
{
    (void)state;
    struct filter f;
    calm_filter(&f);
    assert_false(add(&f, 50 * MS, 0.02, 0, 7));
    /* far beyond 3 x the jitter the spike left (about 50 ms), yet not held again */
    assert_true(3 * f.jitter_s < 400 * MS);
    assert_true(add(&f, 400 * MS, 0.01, 0, 8));
    assert_near(f.offset_s, 400 * MS, 0);
    /* and the gate is armed again for the one after */
    assert_false(add(&f, -5000 * MS, 0.005, 0, 9));
    assert_true(f.spike_held);
}

/* The held spike stays the lowest delay: the next add offers it (the next one decides). */
static void popcorn_spike_stays_lowest(void **state)
{
    (void)state;
    struct filter f;
    calm_filter(&f);
    assert_false(add(&f, 50 * MS, 0.001, 0, 7));
    assert_true(add(&f, 0.0, 0.05, 0, 8)); /* higher delay: the spike is chosen again */
    assert_near(f.offset_s, 50 * MS, 0);
    assert_true(f.t_mono_ns == 7 * S_NS);
}

/* No gate while the jitter rests on fewer than two stages (it is only the precision). */
static void popcorn_needs_two_stages(void **state)
{
    (void)state;
    struct filter f;
    filter_init(&f, 0);
    assert_true(add(&f, 0, 0.01, 0, 1));
    assert_true(add(&f, 10 * MS, 0.005, 0, 2));
    assert_near(f.offset_s, 10 * MS, 0);
}

/* A sample not newer than the last offered is never offered again. */
static void only_newer_samples(void **state)
{
    (void)state;
    struct filter f;
    filter_init(&f, 0);
    assert_true(add(&f, 0.001, 0.001, 0, 1));
    for (int i = 2; i < 8; i++) {
        assert_false(add(&f, 0.001 * i, 0.01, 0, i));
        assert_near(f.offset_s, 0.001, 0);
    }
}

static void on_step_shift(void **state)
{
    (void)state;
    struct filter f;
    filter_init(&f, 0);
    add(&f, 0.5, 0.002, 0, 1);
    add(&f, 0.501, 0.001, 0, 2);
    double jit = f.jitter_s;
    filter_on_step(&f, 0.5);
    assert_near(f.offset_s, 0.001, 1e-15);
    for (int i = 0; i < f.n; i++) {
        assert_true(fabs(f.st[i].offset_s) <= 0.0011);
    }
    assert_true(add(&f, 0.0005, 0.0005, 0, 3)); /* the shifted stages agree with it */
    assert_near(f.offset_s, 0.0005, 0);
    /* jitter over 0, 0.001, 0.0005 from 0.0005: sqrt((0.25 + 0.25) / 2) ms */
    assert_near(f.jitter_s, 0.5 * MS, 1e-15);
    assert_near(jit, 0.001, 1e-15);
}

/* Misses: dummies push real stages out, the dispersion climbs to 16 * 255/256, the output
 * offset stays until no real stage is left. */
static void miss_growth(void **state)
{
    (void)state;
    struct filter f;
    filter_init(&f, 0);
    for (int i = 1; i <= 8; i++) {
        add(&f, 0.004, 0.01 * i, 0, i); /* oldest has the lowest delay */
    }
    assert_near(f.disp_s, 0, 0);
    double prev = f.disp_s;
    for (int k = 1; k <= 8; k++) {
        filter_add_miss(&f, (8 + k) * S_NS);
        /* k real stages gone: the 8 - k left are worth 0, the k dummies 16 each */
        assert_near(f.disp_s, empty_tail(8 - k), 1e-12);
        assert_true(f.disp_s > prev);
        prev = f.disp_s;
        assert_near(f.offset_s, 0.004, 0);
        assert_int_equal(f.valid, k < 8);
    }
    assert_near(filter_disp_now(&f, 100 * S_NS), 16.0, 0);
    /* a sample after that starts afresh, with no popcorn gate */
    assert_true(add(&f, 1.0, 0.01, 0, 20));
    assert_near(f.offset_s, 1.0, 0);
}

/* A miss on a few samples keeps the chosen one and leaves the dispersion as is. */
static void miss_on_partial(void **state)
{
    (void)state;
    struct filter f;
    filter_init(&f, 0);
    add(&f, 0.002, 0.001, 0.004, 1);
    double d = f.disp_s;
    filter_add_miss(&f, 1 * S_NS);
    assert_near(f.disp_s, d, 0); /* an empty stage and a dummy weigh the same */
    assert_int_equal(f.n, 2);
    assert_true(f.valid);
}

/* ---- property loop: the filter against a naive reference ------------------------------ */

struct ref {
    struct filter_sample s[FILTER_STAGES];
    int n;
};

static int by_delay(const void *a, const void *b)
{
    const struct filter_sample *x = a, *y = b;
    if (x->delay_s != y->delay_s) {
        return x->delay_s < y->delay_s ? -1 : 1;
    }
    return x->t_mono_ns > y->t_mono_ns ? -1 : 1; /* newer first */
}

/* The reference dispersion and jitter at t (phi 0: no aging; dummies have ε 16). */
static void ref_eval(const struct ref *r, double *disp, double *jit, double *off0)
{
    struct filter_sample v[FILTER_STAGES];
    int m = 0;
    for (int i = 0; i < r->n; i++) {
        if (r->s[i].disp_s < 16) {
            v[m++] = r->s[i];
        }
    }
    qsort(v, (size_t)m, sizeof v[0], by_delay);
    *disp = 0;
    for (int k = 0; k < 8; k++) {
        *disp += (k < m ? v[k].disp_s : 16.0) / ldexp(1.0, k + 1);
    }
    double sum = 0;
    for (int k = 1; k < m; k++) {
        sum += (v[k].offset_s - v[0].offset_s) * (v[k].offset_s - v[0].offset_s);
    }
    *jit = m > 1 ? sqrt(sum / (m - 1)) : 0;
    *jit = *jit > PREC ? *jit : PREC;
    *off0 = m > 0 ? v[0].offset_s : 0;
}

static void ref_push(struct ref *r, struct filter_sample s)
{
    if (r->n == FILTER_STAGES) {
        memmove(r->s, r->s + 1, sizeof r->s[0] * (FILTER_STAGES - 1));
        r->n--;
    }
    r->s[r->n++] = s;
}

static double urand(void)
{
    return (double)(tu_rand() >> 11) * 0x1p-53;
}

static void property_against_reference(void **state)
{
    (void)state;
    tu_seed();
    for (int run = 0; run < 300; run++) {
        struct filter f;
        struct ref r = {.n = 0};
        filter_init(&f, 0);
        int64_t last_offered = -1;
        for (int i = 1; i <= 60; i++) {
            int64_t t = i * S_NS;
            if (tu_rand() % 5 == 0) {
                filter_add_miss(&f, t);
                ref_push(&r, (struct filter_sample){0, 16, 16, t});
            } else {
                struct filter_sample s = {(urand() - 0.5) * 0.01, urand() * 0.1,
                                          urand() * 0.01, t};
                bool fresh = filter_add(&f, &s, PREC);
                ref_push(&r, s);
                if (fresh) {
                    assert_true(f.t_mono_ns > last_offered); /* strictly newer each time */
                    last_offered = f.t_mono_ns;
                    double d, j, o;
                    ref_eval(&r, &d, &j, &o);
                    assert_near(f.offset_s, o, 0); /* offered = lowest delay now */
                }
            }
            double d, j, o;
            ref_eval(&r, &d, &j, &o);
            assert_near(f.disp_s, d, 1e-12);
            assert_near(f.jitter_s, j, 1e-12);
            assert_near(filter_disp_now(&f, t), f.valid ? d : 16.0, 1e-12);
            assert_true(f.jitter_s >= PREC);
            assert_true(f.disp_s <= 16.0);
        }
    }
}

/* Every-sample mode: each sample is the output and offered, whatever its delay; stages never
 * filled add no dispersion, so one reply is enough to be selectable; a missed poll still
 * counts as MAXDISP. */
static void every_sample_mode(void **state)
{
    (void)state;
    struct filter f;
    filter_init(&f, 0);
    filter_set_every_sample(&f, true);
    assert_true(add(&f, 0.010, 0.005, 0.002, 10));
    assert_near(f.offset_s, 0.010, 0);
    assert_near(f.disp_s, 0.001, 1e-15); /* ε/2, no empty-stage tail */
    assert_true(add(&f, 0.011, 0.001, 0.002, 12));
    assert_true(add(&f, 0.030, 0.009, 0.002, 14)); /* the worst delay, and a spike: offered */
    assert_near(f.offset_s, 0.030, 0);
    assert_near(f.delay_s, 0.009, 0);
    assert_true(f.t_mono_ns == 14 * S_NS);
    /* Sorted by delay: 1, 5, 9 ms; ε = 2 ms each: 1 + 0.5 + 0.25 ms. */
    assert_near(f.disp_s, 0.00175, 1e-15);
    /* The jitter still comes from the stages, around the lowest-delay one (11 ms). */
    assert_near(f.jitter_s, sqrt((0.001 * 0.001 + 0.019 * 0.019) / 2), 1e-15);
    filter_add_miss(&f, 16 * S_NS);
    assert_near(filter_disp_now(&f, 16 * S_NS), 0.001 + 0.0005 + 0.00025 + 16.0 / 16, 1e-12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_filter),
        cmocka_unit_test(first_sample),
        cmocka_unit_test(lowest_delay_wins),
        cmocka_unit_test(jitter_formula),
        cmocka_unit_test(dispersion_full_register),
        cmocka_unit_test(aging),
        cmocka_unit_test(popcorn_spike_dropped),
        cmocka_unit_test(popcorn_held_once),
        cmocka_unit_test(popcorn_next_decides),
        cmocka_unit_test(popcorn_spike_stays_lowest),
        cmocka_unit_test(popcorn_needs_two_stages),
        cmocka_unit_test(only_newer_samples),
        cmocka_unit_test(on_step_shift),
        cmocka_unit_test(miss_growth),
        cmocka_unit_test(miss_on_partial),
        cmocka_unit_test(property_against_reference),
        cmocka_unit_test(every_sample_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
