/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for daemon/core/mru.c: the eviction policy (a flood of new addresses cannot
 * evict a client seen within minage), LRU order, the shared bucket of untracked clients,
 * the score (burst and average), discard minimum, and the KoD interval. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mru.h"
#include "restrict.h"
#include "testutil.h"

#include "poison.h"

#define NS 1000000000LL

static const uint8_t seed[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static struct ntk_addr v4(uint32_t ip, uint16_t port)
{
    struct ntk_addr a = {0};
    const uint8_t b[4] = {(uint8_t)(ip >> 24), (uint8_t)(ip >> 16), (uint8_t)(ip >> 8),
                          (uint8_t)ip};
    ntk_addr_set_v4(&a, b, port);
    return a;
}

static struct mru *make(size_t depth, double minage_s)
{
    struct mru_cfg c;
    mru_cfg_default(&c);
    c.maxdepth = depth;
    c.minage_s = minage_s;
    struct mru *m = mru_new(&c, seed);
    assert_non_null(m);
    return m;
}

static void test_capacity(void **state)
{
    (void)state;
    struct mru_cfg c;
    mru_cfg_default(&c);
    assert_int_equal(c.maxmem_kib, 1024);
    assert_true(c.minage_s == 64 && c.burst == 20 && c.average_pps == 1.0);
    struct mru *m = mru_new(&c, seed);
    /* about 100 bytes an entry: 1 MiB holds 8,000-12,000 clients */
    assert_true(mru_capacity(m) > 8000 && mru_capacity(m) < 12000);
    mru_free(m);
    c.maxdepth = 100;
    m = mru_new(&c, seed);
    assert_int_equal(mru_capacity(m), 100);
    assert_int_equal(mru_count(m), 0);
    mru_free(m);
    c.maxmem_kib = 0;
    assert_null(mru_new(&c, seed));
}

/* The property of mru.h: 100,000 random sources in a minute cannot evict a client whose
 * entry is younger than minage; and they are not tracked (the table is full of entries
 * younger than minage), so the old client's count is intact. */
static void test_flood_cannot_evict_young(void **state)
{
    (void)state;
    struct mru *m = make(1000, 64);
    struct ntk_addr steady = v4(0xc0000201, 123);
    tu_seed();
    int64_t t = 0;
    uint64_t sent = 0;
    for (int i = 0; i < 100000; i++) {
        t = (int64_t)i * 600000; /* 0.6 ms apart: 60 s in all */
        if (i % 25000 == 0) {    /* the steady client, every 15 s */
            assert_int_equal(mru_observe(m, &steady, t, 3, 4, 0), MRU_ALLOW);
            sent++;
        }
        struct ntk_addr a = v4((uint32_t)tu_rand(), (uint16_t)tu_rand());
        mru_observe(m, &a, t, 3, 4, 0);
    }
    struct mru_client c;
    assert_true(mru_get(m, &steady, &c));
    assert_int_equal(c.count, sent);
    assert_int_equal(c.first_mono_ns, 0);
    struct mru_stats st;
    mru_get_stats(m, &st);
    assert_int_equal(st.evictions, 0);
    assert_int_equal(st.inserts, 1000);
    assert_int_equal(st.untracked, 100000 - 999);
    /* The steady client found its entry 3 times (mru_exists); the random ones hardly ever:
     * an address of the 1000 kept repeats with odds of 1000 in 2^48. */
    assert_int_equal(st.exists, sent - 1);
    assert_int_equal(mru_count(m), 1000);

    /* A flood that lasts an hour evicts entries idle for minage, but never the steady
     * client that polls every 32 s (< minage). */
    for (int i = 0; i < 100000; i++) {
        t = 60 * NS + (int64_t)i * 36000000; /* 36 ms apart: an hour */
        if (i % 889 == 0) {                  /* every 32.004 s */
            assert_int_equal(mru_observe(m, &steady, t, 3, 4, 0), MRU_ALLOW);
            sent++;
        }
        struct ntk_addr a = v4((uint32_t)tu_rand(), 1);
        mru_observe(m, &a, t, 3, 4, 0);
    }
    assert_true(mru_get(m, &steady, &c));
    assert_int_equal(c.count, sent);
    assert_int_equal(c.first_mono_ns, 0);
    mru_get_stats(m, &st);
    assert_true(st.evictions > 50000);
    /* every entry still in the table is younger than... anything evicted was older than
     * minage: the oldest entry left is at most minage + one packet spacing old */
    struct mru_client *all = calloc(1000, sizeof *all);
    size_t n = mru_list(m, all, 1000);
    assert_int_equal(n, 1000);
    for (size_t i = 1; i < n; i++) {
        assert_true(all[i].last_mono_ns <= all[i - 1].last_mono_ns); /* newest first */
    }
    free(all);
    mru_free(m);
}

static void test_lru_eviction_order(void **state)
{
    (void)state;
    struct mru *m = make(4, 64);
    for (uint32_t i = 0; i < 4; i++) {
        mru_observe(m, &(struct ntk_addr){0}, 0, 3, 4, 0); /* NONE family is a key too */
        struct ntk_addr a = v4(0x0a000001 + i, 1000);
        mru_observe(m, &a, (int64_t)i * NS, 3, 4, 0);
    }
    /* the table: NONE, .1 .. .4 would be 5: NONE was evicted? no - full at 4 and young */
    struct mru_client c;
    struct ntk_addr a1 = v4(0x0a000001, 1), a2 = v4(0x0a000002, 1), a5 = v4(0x0a000005, 1);
    mru_observe(m, &a1, 100 * NS, 3, 4, 0); /* refresh .1: .2 becomes the oldest entry */
    mru_observe(m, &a5, 101 * NS, 3, 4, 0); /* .2 is 99 s old: recycled for .5 */
    assert_false(mru_get(m, &a2, &c));
    assert_true(mru_get(m, &a5, &c));
    assert_true(mru_get(m, &a1, &c));
    assert_int_equal(c.count, 2);
    assert_int_equal(c.addr.port, 1);
    struct mru_client l[4];
    assert_int_equal(mru_list(m, l, 4), 4);
    assert_int_equal(l[0].addr.ip[3], 5);
    assert_int_equal(l[1].addr.ip[3], 1);
    mru_free(m);
}

static void test_maxage_recycles(void **state)
{
    (void)state;
    struct mru_cfg c;
    mru_cfg_default(&c);
    c.maxdepth = 10;
    c.maxage_s = 100;
    struct mru *m = mru_new(&c, seed);
    struct ntk_addr a = v4(1, 1), b = v4(2, 1);
    mru_observe(m, &a, 0, 3, 4, 0);
    mru_observe(m, &b, 101 * NS, 3, 4, 0); /* room left, but a is older than maxage */
    struct mru_client x;
    assert_false(mru_get(m, &a, &x));
    assert_int_equal(mru_count(m), 1);
    mru_free(m);
}

static void test_mapped_same_entry(void **state)
{
    (void)state;
    struct mru *m = make(10, 64);
    struct ntk_addr a = v4(0xc0000201, 5), mapped = {0};
    const uint8_t ip6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    ntk_addr_set_v6(&mapped, ip6, 6, 0);
    mru_observe(m, &a, 0, 3, 4, 0);
    mru_observe(m, &mapped, 4 * NS, 3, 3, RST_NOQUERY);
    struct mru_client c;
    assert_true(mru_get(m, &a, &c));
    assert_int_equal(c.count, 2);
    assert_int_equal(c.addr.port, 6);
    assert_int_equal(c.version, 3);
    assert_int_equal(c.rflags, RST_NOQUERY);
    assert_true(c.avgint_s == 4.0);
    assert_int_equal(c.last_mono_ns, 4 * NS);
    mru_free(m);
}

/* The score (NTPsec's): packets/s, decaying with time constant burst, +1/burst a packet. */
static void test_score_burst_average(void **state)
{
    (void)state;
    struct mru_cfg c;
    mru_cfg_default(&c);
    c.average_pps = 0.5;
    c.burst = 8; /* a burst of 0.5 * 8 = 4 packets */
    c.minimum_s = 0;
    struct mru *m = mru_new(&c, seed);
    struct ntk_addr a = v4(7, 7);
    const uint32_t lim = RST_LIMITED;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(mru_observe(m, &a, 0, 3, 4, lim), MRU_ALLOW);
    }
    assert_int_equal(mru_observe(m, &a, 0, 3, 4, lim), MRU_DROP); /* the 5th */
    struct mru_client cl;
    assert_true(mru_get(m, &a, &cl));
    assert_true(fabs(cl.score - 0.625) < 1e-12);
    assert_int_equal(cl.drops, 1);
    assert_int_equal(cl.last_drop_mono_ns, 0);
    /* 8 ln 2 s later the score has halved: 0.3125 + 0.125 */
    int64_t t = (int64_t)(8 * log(2.0) * 1e9);
    assert_int_equal(mru_observe(m, &a, t, 3, 4, lim), MRU_ALLOW);
    assert_true(mru_get(m, &a, &cl));
    assert_true(fabs(cl.score - 0.4375) < 1e-6);
    /* at 80 % of the average rate (every 2.5 s) for an hour: never limited */
    struct ntk_addr b = v4(8, 8), f = v4(9, 9);
    for (int i = 0; i < 1440; i++) {
        assert_int_equal(mru_observe(m, &b, (int64_t)i * 5 * NS / 2, 3, 4, lim), MRU_ALLOW);
    }
    assert_true(mru_get(m, &b, &cl));
    assert_true(fabs(cl.score - 0.125 / (1 - exp(-2.5 / 8))) < 1e-6);
    assert_true(cl.avgint_s == 2.5);
    /* twice the average: a few pass, then limited for good (excess packets count, so a
     * client that keeps the rate up stays limited) */
    int dropped = 0;
    for (int i = 0; i < 1800; i++) {
        dropped += mru_observe(m, &f, (int64_t)i * NS, 3, 4, lim) != MRU_ALLOW;
    }
    assert_int_equal(dropped, 1795);
    mru_free(m);
}

static void test_minimum(void **state)
{
    (void)state;
    struct mru_cfg c;
    mru_cfg_default(&c); /* minimum 2 s, with NTPsec's 1 s grace */
    struct mru *m = mru_new(&c, seed);
    struct ntk_addr a = v4(7, 7);
    const uint32_t lim = RST_LIMITED;
    assert_int_equal(mru_observe(m, &a, 0, 3, 4, lim), MRU_ALLOW);
    assert_int_equal(mru_observe(m, &a, NS + NS / 100, 3, 4, lim), MRU_ALLOW); /* 1.01 s */
    assert_int_equal(mru_observe(m, &a, 2 * NS, 3, 4, lim), MRU_DROP);         /* 0.99 s */
    assert_int_equal(mru_observe(m, &a, 2 * NS + NS / 2, 3, 4, lim | RST_KOD), MRU_KOD);
    /* without `limited` nothing is limited, the table only records */
    assert_int_equal(mru_observe(m, &a, 2 * NS + NS / 2, 3, 4, RST_KOD), MRU_ALLOW);
    mru_free(m);
}

/* Untracked clients (table full of young entries) share one bucket and never get a KoD. */
static void test_untracked_share_bucket(void **state)
{
    (void)state;
    struct mru_cfg c;
    mru_cfg_default(&c);
    c.maxdepth = 2;
    c.burst = 4;
    struct mru *m = mru_new(&c, seed);
    const uint32_t lim = RST_LIMITED | RST_KOD;
    struct ntk_addr a = v4(1, 1), b = v4(2, 1);
    mru_observe(m, &a, 0, 3, 4, lim);
    mru_observe(m, &b, 0, 3, 4, lim);
    int allowed = 0, kod = 0;
    for (uint32_t i = 0; i < 100; i++) {
        struct ntk_addr x = v4(1000 + i, 1);
        enum mru_verdict v = mru_observe(m, &x, NS, 3, 4, lim);
        allowed += v == MRU_ALLOW;
        kod += v == MRU_KOD;
    }
    assert_int_equal(allowed, 4);
    assert_int_equal(kod, 0);
    struct mru_stats st;
    mru_get_stats(m, &st);
    assert_int_equal(st.untracked, 100);
    assert_int_equal(st.limited, 96);
    assert_int_equal(mru_count(m), 2);
    mru_free(m);
}

static void test_kod_interval(void **state)
{
    (void)state;
    struct mru_cfg c;
    mru_cfg_default(&c);
    c.burst = 1;
    c.minimum_s = 0;
    c.kod_interval_s = 5;
    struct mru *m = mru_new(&c, seed);
    struct ntk_addr a = v4(3, 3);
    const uint32_t lim = RST_LIMITED | RST_KOD;
    int kods = 0;
    for (int i = 0; i < 2000; i++) { /* 100/s for 20 s */
        kods += mru_observe(m, &a, (int64_t)i * NS / 100, 3, 4, lim) == MRU_KOD;
    }
    assert_int_equal(kods, 4); /* t = 0.01, 5.01, 10.01, 15.01 s */
    struct mru_stats st;
    mru_get_stats(m, &st);
    assert_int_equal(st.kod, 4);
    assert_int_equal(st.limited, 1999);
    mru_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capacity),
        cmocka_unit_test(test_flood_cannot_evict_young),
        cmocka_unit_test(test_lru_eviction_order),
        cmocka_unit_test(test_maxage_recycles),
        cmocka_unit_test(test_mapped_same_entry),
        cmocka_unit_test(test_score_burst_average),
        cmocka_unit_test(test_minimum),
        cmocka_unit_test(test_untracked_share_bucket),
        cmocka_unit_test(test_kod_interval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
