/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for daemon/core/restrict.c: longest-prefix matching on a table of rules, hit
 * counters, restrict/unrestrict semantics, ntpport, IPv4-mapped sources, flag names, and a
 * seeded comparison with a brute-force reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ntk/err.h"
#include "restrict.h"
#include "testutil.h"

#include "poison.h"

static struct ntk_addr parse(const char *text)
{
    struct ntk_addr a;
    struct ntk_span s = {text, strlen(text)};
    assert_int_equal(ntk_addr_parse_span(s, &a), 0);
    return a;
}

static int add(struct rst_table *t, const char *net, unsigned len, uint32_t flags)
{
    struct ntk_addr a = parse(net);
    return rst_add(t, &a, len, flags);
}

static uint32_t look(struct rst_table *t, const char *addr)
{
    struct ntk_addr a = parse(addr);
    return rst_lookup(t, &a);
}

static void test_longest_prefix(void **state)
{
    (void)state;
    struct rst_table *t = rst_new();
    assert_non_null(t);
    assert_int_equal(add(t, "0.0.0.0", 0, RST_KOD | RST_LIMITED | RST_NOQUERY), 0);
    assert_int_equal(add(t, "::", 0, RST_NOSERVE), 0);
    assert_int_equal(add(t, "10.0.0.0", 8, RST_NOQUERY), 0);
    assert_int_equal(add(t, "10.1.0.0", 16, RST_IGNORE), 0);
    assert_int_equal(add(t, "10.1.2.0", 24, 0), 0);
    assert_int_equal(add(t, "10.1.2.3", 32, RST_NOMODIFY), 0);
    assert_int_equal(add(t, "10.1.2.128", 25, RST_VERSION), 0); /* bits past /25 ignored */
    assert_int_equal(add(t, "2001:db8::", 32, RST_NOTRUST), 0);
    assert_int_equal(add(t, "2001:db8:0:1::", 64, 0), 0);
    assert_int_equal(add(t, "127.0.0.1", 32, 0), 0);
    assert_int_equal(add(t, "::1", 128, 0), 0);
    static const struct {
        const char *addr;
        uint32_t flags;
    } cases[] = {
        {"192.0.2.1", RST_KOD | RST_LIMITED | RST_NOQUERY},
        {"10.9.9.9", RST_NOQUERY},
        {"10.1.9.9", RST_IGNORE},
        {"10.1.2.4", 0},
        {"10.1.2.3", RST_NOMODIFY},
        {"10.1.2.200", RST_VERSION},
        {"10.1.2.127", 0},
        {"127.0.0.1", 0},
        {"127.0.0.2", RST_KOD | RST_LIMITED | RST_NOQUERY},
        {"2001:db8::5", RST_NOTRUST},
        {"2001:db8:0:1::5", 0},
        {"2001:db9::1", RST_NOSERVE},
        {"::1", 0},
        {"::ffff:10.1.2.3", RST_NOMODIFY}, /* mapped: matched as IPv4 */
        {"10.1.9.9:123", RST_IGNORE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(look(t, cases[i].addr), cases[i].flags);
    }
    /* the order reported: most specific first, defaults last; hits per rule */
    static const struct {
        unsigned len;
        uint64_t hits;
    } order[] = {{128, 1}, {64, 1}, {32, 2}, {32, 1}, {32, 0}, {25, 1},
                 {24, 2},  {16, 2}, {8, 1},  {0, 2},  {0, 1}};
    assert_int_equal(rst_count(t), 11);
    uint64_t total = 0;
    for (size_t i = 0; i < 11; i++) {
        struct rst_rule r;
        assert_true(rst_get(t, i, &r));
        assert_int_equal(r.prefix_len, order[i].len);
        total += r.hits;
    }
    assert_int_equal(total, sizeof cases / sizeof cases[0]);
    struct rst_rule r;
    assert_true(rst_get(t, 9, &r));
    assert_int_equal(r.family, NTK_ADDR_V4);
    assert_int_equal(r.hits, 2);
    assert_true(rst_get(t, 2, &r)); /* 10.1.2.3/32, added before 127.0.0.1/32 */
    assert_int_equal(r.ip[3], 3);
    assert_int_equal(r.hits, 2);
    assert_true(rst_get(t, 5, &r)); /* 10.1.2.128/25 */
    assert_int_equal(r.ip[3], 128);
    assert_false(rst_get(t, 11, &r));
    rst_free(t);
}

static void test_restrict_unrestrict(void **state)
{
    (void)state;
    struct rst_table *t = rst_new();
    assert_int_equal(look(t, "192.0.2.1"), 0);
    assert_int_equal(add(t, "192.0.2.0", 24, RST_NOQUERY), 0);
    assert_int_equal(add(t, "192.0.2.0", 24, RST_LIMITED), 0); /* ORed in */
    assert_int_equal(look(t, "192.0.2.1"), RST_NOQUERY | RST_LIMITED);
    assert_int_equal(rst_count(t), 3);
    struct ntk_addr n = parse("192.0.2.0");
    assert_int_equal(rst_remove(t, &n, 24, RST_NOQUERY), 0);
    assert_int_equal(look(t, "192.0.2.1"), RST_LIMITED);
    assert_int_equal(rst_remove(t, &n, 24, 0), 0); /* no flags: the rule goes */
    assert_int_equal(rst_count(t), 2);
    assert_int_equal(rst_remove(t, &n, 24, 0), NTK_ENOTFOUND);
    struct ntk_addr any = parse("0.0.0.0");
    assert_int_equal(rst_add(t, &any, 0, RST_IGNORE), 0);
    assert_int_equal(look(t, "192.0.2.1"), RST_IGNORE);
    assert_int_equal(rst_remove(t, &any, 0, 0), 0); /* a default is reset, not removed */
    assert_int_equal(rst_count(t), 2);
    assert_int_equal(look(t, "192.0.2.1"), 0);
    assert_int_equal(rst_add(t, &n, 33, 0), NTK_EINVAL);
    struct ntk_addr none = {0};
    assert_int_equal(rst_add(t, &none, 0, 0), NTK_EINVAL);
    assert_int_equal(rst_lookup(t, &none), RST_IGNORE);
    rst_free(t);
}

static void test_ntpport(void **state)
{
    (void)state;
    struct rst_table *t = rst_new();
    assert_int_equal(add(t, "0.0.0.0", 0, RST_IGNORE), 0);
    assert_int_equal(add(t, "192.0.2.0", 24, RST_NTPPORT | RST_NOQUERY), 0);
    assert_int_equal(look(t, "192.0.2.1:123"), RST_NTPPORT | RST_NOQUERY);
    assert_int_equal(look(t, "192.0.2.1:40000"), RST_IGNORE); /* falls to the default */
    rst_free(t);
}

static void test_flag_names(void **state)
{
    (void)state;
    static const char *const names[RST_FLAG_COUNT] = {
        "ignore",    "kod",     "limited", "lowpriotrap", "mssntp",  "nomodify",
        "nomrulist", "noepeer", "nopeer",  "noquery",     "noserve", "notrap",
        "notrust",   "ntpport", "version", "flake"};
    for (unsigned i = 0; i < RST_FLAG_COUNT; i++) {
        assert_string_equal(rst_flag_name(i), names[i]);
        uint32_t f = 0;
        assert_int_equal(rst_flag_parse(names[i], strlen(names[i]), &f), 0);
        assert_int_equal(f, 1u << i);
    }
    assert_null(rst_flag_name(RST_FLAG_COUNT));
    uint32_t f = 7;
    assert_int_equal(rst_flag_parse("kodx", 4, &f), NTK_ENOTFOUND);
    assert_int_equal(rst_flag_parse("ko", 2, &f), NTK_ENOTFOUND);
    assert_int_equal(f, 7);
    assert_int_equal(RST_NOSERVE, 1u << 10);
}

/* Property: against a brute-force longest-prefix search over random rules. */
static void test_random_vs_reference(void **state)
{
    (void)state;
    tu_seed();
    for (int round = 0; round < 50; round++) {
        struct rst_table *t = rst_new();
        struct {
            uint8_t ip[4];
            unsigned len;
            uint32_t flags;
        } ref[64];
        size_t n = 0;
        for (int i = 0; i < 40; i++) {
            struct ntk_addr a = {0};
            uint8_t ip[4] = {10, (uint8_t)(tu_rand() % 4), (uint8_t)(tu_rand() % 4),
                             (uint8_t)tu_rand()};
            unsigned len = (unsigned)(tu_rand() % 33);
            uint32_t flags = (uint32_t)(tu_rand() & 0x7fff & ~RST_NTPPORT);
            ntk_addr_set_v4(&a, ip, 0);
            assert_int_equal(rst_add(t, &a, len, flags), 0);
            uint32_t key = (uint32_t)ip[0] << 24 | (uint32_t)ip[1] << 16 | ip[2] << 8 | ip[3];
            uint32_t mask = len ? ~0u << (32 - len) : 0;
            size_t j = 0;
            for (; j < n; j++) {
                uint32_t k2 = (uint32_t)ref[j].ip[0] << 24 | (uint32_t)ref[j].ip[1] << 16 |
                              ref[j].ip[2] << 8 | ref[j].ip[3];
                if (ref[j].len == len && (k2 & mask) == (key & mask)) {
                    ref[j].flags |= flags;
                    break;
                }
            }
            if (j == n) {
                memcpy(ref[n].ip, ip, 4);
                ref[n].len = len;
                ref[n++].flags = flags;
            }
        }
        for (int i = 0; i < 500; i++) {
            uint8_t ip[4] = {10, (uint8_t)(tu_rand() % 4), (uint8_t)(tu_rand() % 4),
                             (uint8_t)tu_rand()};
            struct ntk_addr a = {0};
            ntk_addr_set_v4(&a, ip, 0);
            uint32_t key = (uint32_t)ip[0] << 24 | (uint32_t)ip[1] << 16 | ip[2] << 8 | ip[3];
            int best = -1;
            uint32_t want = 0;
            for (size_t j = 0; j < n; j++) {
                uint32_t mask = ref[j].len ? ~0u << (32 - ref[j].len) : 0;
                uint32_t k2 = (uint32_t)ref[j].ip[0] << 24 | (uint32_t)ref[j].ip[1] << 16 |
                              ref[j].ip[2] << 8 | ref[j].ip[3];
                if ((k2 & mask) == (key & mask) && (int)ref[j].len > best) {
                    best = (int)ref[j].len;
                    want = ref[j].flags;
                }
            }
            assert_int_equal(rst_lookup(t, &a), want);
        }
        rst_free(t);
    }
}

/* `restrict source`: counted references per address, kept apart from configured flags. */
static void test_source_rules(void **state)
{
    (void)state;
    struct rst_table *t = rst_new();
    assert_non_null(t);
    assert_int_equal(add(t, "0.0.0.0", 0, RST_IGNORE), 0);
    assert_int_equal(add(t, "::", 0, RST_IGNORE), 0);
    struct ntk_addr s1 = parse("192.0.2.1:1123"), s1b = parse("192.0.2.1:123");
    struct ntk_addr mapped = parse("::ffff:192.0.2.1"), s6 = parse("[2001:db8::5]:123");
    assert_int_equal(rst_add_source(t, &s1, RST_NOMODIFY), 0);
    assert_int_equal(rst_count(t), 3);
    assert_int_equal(look(t, "192.0.2.1"), RST_NOMODIFY);
    assert_int_equal(look(t, "192.0.2.2"), RST_IGNORE);
    /* The same address on another port (and as IPv4-mapped): one rule, two references. */
    assert_int_equal(rst_add_source(t, &mapped, RST_NOMODIFY), 0);
    assert_int_equal(rst_count(t), 3);
    struct rst_rule r;
    assert_true(rst_get(t, 0, &r));
    assert_int_equal(r.prefix_len, 32);
    assert_int_equal(r.src_refs, 2);
    assert_false(r.conf);
    assert_int_equal(rst_remove_source(t, &s1b), 0);
    assert_int_equal(look(t, "192.0.2.1"), RST_NOMODIFY); /* one reference left */
    assert_int_equal(rst_remove_source(t, &s1), 0);
    assert_int_equal(rst_count(t), 2);
    assert_int_equal(look(t, "192.0.2.1"), RST_IGNORE);
    assert_int_equal(rst_remove_source(t, &s1), NTK_ENOTFOUND);
    /* A configured rule on the same address: the source adds to it and leaves it as it was. */
    assert_int_equal(add(t, "2001:db8::5", 128, RST_NOQUERY), 0);
    assert_int_equal(rst_remove_source(t, &s6), NTK_ENOTFOUND);
    assert_int_equal(rst_add_source(t, &s6, RST_NOSERVE), 0);
    assert_int_equal(look(t, "2001:db8::5"), RST_NOQUERY | RST_NOSERVE);
    assert_int_equal(rst_remove_source(t, &s6), 0);
    assert_int_equal(rst_count(t), 3);
    assert_int_equal(look(t, "2001:db8::5"), RST_NOQUERY);
    /* `unrestrict ADDR` of a rule an association holds: its source part stays. */
    assert_int_equal(rst_add_source(t, &s6, RST_NOSERVE), 0);
    struct ntk_addr n6 = parse("2001:db8::5");
    assert_int_equal(rst_remove(t, &n6, 128, 0), 0);
    assert_int_equal(look(t, "2001:db8::5"), RST_NOSERVE);
    assert_int_equal(rst_remove(t, &n6, 128, 0), NTK_ENOTFOUND); /* no configured rule now */
    assert_int_equal(rst_remove_source(t, &s6), 0);
    assert_int_equal(rst_count(t), 2);
    assert_int_equal(look(t, "2001:db8::5"), RST_IGNORE);
    struct ntk_addr none = {0};
    assert_int_equal(rst_add_source(t, &none, 0), NTK_EINVAL);
    assert_int_equal(rst_remove_source(t, &none), NTK_EINVAL);
    rst_free(t);
}

/* Property: random source references added and taken back in any order leave exactly the
 * configured rules, and a lookup while they are held sees the configured flags ORed with
 * the template. */
static void test_source_random(void **state)
{
    (void)state;
    tu_seed();
    for (int round = 0; round < 100; round++) {
        struct rst_table *t = rst_new();
        assert_int_equal(add(t, "10.0.0.0", 8, RST_NOQUERY), 0);
        assert_int_equal(add(t, "10.0.0.3", 32, RST_KOD), 0);
        struct ntk_addr held[32];
        size_t n = 0;
        for (int i = 0; i < 200; i++) {
            if (n < 32 && (n == 0 || tu_rand() % 2 == 0)) {
                uint8_t ip[4] = {10, 0, 0, (uint8_t)(tu_rand() % 6)};
                ntk_addr_set_v4(&held[n], ip, (uint16_t)(tu_rand() % 3 + 122));
                assert_int_equal(rst_add_source(t, &held[n], RST_NOMODIFY), 0);
                n++;
            } else {
                size_t k = (size_t)(tu_rand() % n);
                assert_int_equal(rst_remove_source(t, &held[k]), 0);
                held[k] = held[--n];
            }
            for (uint8_t last = 0; last < 6; last++) {
                struct ntk_addr a = {0};
                uint8_t ip[4] = {10, 0, 0, last};
                ntk_addr_set_v4(&a, ip, 0);
                bool is_held = false;
                for (size_t j = 0; j < n; j++)
                    is_held = is_held || held[j].ip[3] == last;
                uint32_t want = last == 3 ? RST_KOD : RST_NOQUERY;
                if (is_held)
                    want = (last == 3 ? RST_KOD : 0) | RST_NOMODIFY;
                assert_int_equal(rst_lookup(t, &a), want);
            }
        }
        while (n > 0)
            assert_int_equal(rst_remove_source(t, &held[--n]), 0);
        assert_int_equal(rst_count(t), 4);
        rst_free(t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_longest_prefix),
        cmocka_unit_test(test_restrict_unrestrict),
        cmocka_unit_test(test_ntpport),
        cmocka_unit_test(test_flag_names),
        cmocka_unit_test(test_random_vs_reference),
        cmocka_unit_test(test_source_rules),
        cmocka_unit_test(test_source_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
