/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for daemon/io/daemon.c's pure parts: `discard average` turned into the rate
 * limiter's figures (with an iburst still passing and a 1/s client limited). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "daemon_internal.h"
#include "mru.h"
#include "restrict.h"
#include "testutil.h"

#include "poison.h"

#define NS 1000000000LL

static const uint8_t seed[16] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};

static struct conf_discard discard(int avg_log2, bool given)
{
    return (struct conf_discard){
        .average_log2 = avg_log2, .minimum_s = 2, .monitor = 3000, .average_given = given};
}

static void discard_average_sets_rate_and_burst(void **state)
{
    (void)state;
    struct conf_limit lim = {.average_pps = 1.0, .burst = 20, .kod_pps = 0.5, .given = false};
    struct mru_cfg mc;
    mru_cfg_default(&mc);
    /* limit in NTPsec's units: packets per second. */
    struct conf_limit lim2 = {.average_pps = 2.5, .burst = 8, .kod_pps = 0.25, .given = true};
    struct conf_discard dc = discard(3, false);
    daemon_rate_cfg(&mc, &dc, &lim2);
    assert_true(mc.average_pps == 2.5 && mc.burst == 8 && mc.kod_interval_s == 4.0);
    assert_true(mc.minimum_s == 2);
    lim2.kod_pps = 0; /* at most one KoD per client entry */
    daemon_rate_cfg(&mc, &dc, &lim2);
    assert_true(mc.kod_interval_s >= 1e9);
    dc = discard(3, true);
    daemon_rate_cfg(&mc, &dc, &lim);
    assert_true(mc.average_pps == 0.125);
    assert_true(mc.burst == 64);
    dc = discard(0, true);
    daemon_rate_cfg(&mc, &dc, &lim);
    assert_true(mc.average_pps == 1.0);
    assert_true(mc.burst == 8);
    /* Not given, or a limit line: the limit figures stay. */
    mru_cfg_default(&mc);
    struct mru_cfg before = mc;
    dc = discard(5, false);
    daemon_rate_cfg(&mc, &dc, &lim);
    assert_true(mc.average_pps == before.average_pps && mc.burst == before.burst);
    lim.given = true;
    dc = discard(5, true);
    daemon_rate_cfg(&mc, &dc, &lim);
    assert_true(mc.average_pps == before.average_pps && mc.burst == before.burst);
}

/* For every N in 0..6 and a random start: an iburst (8 requests 2 s apart) then polls every
 * 2^(N+1) s all pass, while clients polling every 2 s or 3 s without end are limited once
 * 2^-N is below their rate. */
static void discard_average_lets_iburst_through(void **state)
{
    (void)state;
    tu_seed();
    struct conf_limit lim = {.average_pps = 1.0, .burst = 20, .kod_pps = 0.5, .given = false};
    struct ntk_addr a = {0}, b = {0};
    const uint8_t ip_a[4] = {192, 0, 2, 1}, ip_b[4] = {192, 0, 2, 2};
    ntk_addr_set_v4(&a, ip_a, 123);
    ntk_addr_set_v4(&b, ip_b, 123);
    for (int n = 0; n <= 6; n++) {
        struct mru_cfg mc;
        mru_cfg_default(&mc);
        struct conf_discard dc = discard(n, true);
        daemon_rate_cfg(&mc, &dc, &lim);
        struct mru *m = mru_new(&mc, seed);
        assert_non_null(m);
        int64_t t = (int64_t)(tu_rand() % 1000) * NS;
        int dropped9 = 0;
        for (int i = 0; i < 8; i++)
            assert_int_equal(mru_observe(m, &a, t + i * 2 * NS, 3, 4, RST_LIMITED), MRU_ALLOW);
        t += 14 * NS;
        for (int i = 0; i < 20; i++) {
            t += (2LL << n) * NS;
            assert_int_equal(mru_observe(m, &a, t, 3, 4, RST_LIMITED), MRU_ALLOW);
        }
        /* An iburst that never stops (every 2 s) is limited once 2^-N <= 1/2 (exactly the
         * rate is just over the line, as in NTPsec). */
        struct mru *m9 = mru_new(&mc, seed);
        for (int i = 0; i < 40; i++)
            dropped9 += mru_observe(m9, &a, i * 2 * NS, 3, 4, RST_LIMITED) != MRU_ALLOW;
        mru_free(m9);
        int dropped = 0;
        for (int i = 0; i < 40; i++, t += 3 * NS) /* every 3 s: above discard minimum */
            dropped += mru_observe(m, &b, t, 3, 4, RST_LIMITED) != MRU_ALLOW;
        if (n >= 2)
            assert_true(dropped > 0); /* 1/3 s^-1 is more than 2^-n */
        else
            assert_int_equal(dropped, 0);
        assert_true(n >= 1 ? dropped9 > 0 : dropped9 == 0); /* 2^-N <= 1/2 */
        mru_free(m);
    }
}

/* The random pool hands out every byte once, and a child of fork() never repeats what its
 * parent hands out next (the daemon forks when it goes into the background). */
static void rng_pool_is_fork_safe(void **state)
{
    (void)state;
    uint8_t a[16], b[16], parent[16], child[16];
    daemon_rng_bytes(NULL, a, sizeof a);
    daemon_rng_bytes(NULL, b, sizeof b);
    assert_memory_not_equal(a, b, sizeof a);
    uint8_t big[10000]; /* more than the pool: refills */
    daemon_rng_bytes(NULL, big, sizeof big);
    assert_memory_not_equal(big, big + 5000, 64);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        daemon_rng_bytes(NULL, child, sizeof child);
        _exit(write(fds[1], child, sizeof child) == (ssize_t)sizeof child ? 0 : 1);
    }
    daemon_rng_bytes(NULL, parent, sizeof parent);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_int_equal(read(fds[0], child, sizeof child), (ssize_t)sizeof child);
    close(fds[0]);
    close(fds[1]);
    assert_memory_not_equal(parent, child, sizeof parent);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(discard_average_sets_rate_and_burst),
        cmocka_unit_test(discard_average_lets_iburst_through),
        cmocka_unit_test(rng_pool_is_fork_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
