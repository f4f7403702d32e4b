/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of ntk_clk_precision_log2 through a fake clock that ticks by a fixed step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>

#include "ntk/clk.h"

#include "poison.h"

struct ticker {
    struct timespec t;
    long step_ns; /* added at every reading */
    int reads;    /* readings made */
    int fail_at;  /* reading number that fails (0: none) */
};

static int tick_now(void *ctx, struct timespec *out)
{
    struct ticker *k = ctx;
    if (++k->reads == k->fail_at)
        return -EIO;
    k->t.tv_nsec += k->step_ns;
    while (k->t.tv_nsec >= 1000000000L) {
        k->t.tv_nsec -= 1000000000L;
        k->t.tv_sec++;
    }
    *out = k->t;
    return 0;
}

static int8_t precision_of(long step_ns, int fail_at, int *reads)
{
    struct ticker k = {.t = {1764126000, 0}, .step_ns = step_ns, .fail_at = fail_at};
    struct ntk_clk_ops ops = {.name = "ticker", .ctx = &k, .now = tick_now};
    int8_t p = ntk_clk_precision_log2(&ops);
    *reads = k.reads;
    return p;
}

static void precision_values(void **state)
{
    (void)state;
    int reads = 0;
    assert_int_equal(precision_of(1000, 0, &reads), -19); /* 1 µs: 2^-19 s = 1.9 µs */
    assert_int_equal(reads, 65);                          /* bounded: 1 + 64 readings */
    assert_int_equal(precision_of(954, 0, &reads), -19);  /* just above 2^-20 s */
    assert_int_equal(precision_of(953, 0, &reads), -20);  /* just below it */
    assert_int_equal(precision_of(1, 0, &reads), -29);    /* 1 ns: 2^-30 s is 0.93 ns */
    assert_int_equal(precision_of(0, 0, &reads), 0);      /* never moves: 1 s bound */
    assert_int_equal(precision_of(1000, 1, &reads), 0);   /* the first read fails */
    assert_int_equal(precision_of(1000, 3, &reads), -19); /* stops early, keeps what it saw */
    assert_int_equal(reads, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(precision_values)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
