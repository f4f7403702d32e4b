/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for the pure parts of daemon/io/dnames.c: the `restrict source` bookkeeping
 * that follows the associations (added, moved, gone; pool members coming and going) and
 * the decision to look an unreachable server's name up again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "daemon_internal.h"
#include "ntk/err.h"
#include "testutil.h"

#include "poison.h"

#define NS 1000000000LL

static struct ntk_addr addr(const char *text)
{
    struct ntk_addr a;
    assert_int_equal(ntk_addr_parse_span((struct ntk_span){text, strlen(text)}, &a), 0);
    return a;
}

static struct snap_assoc assoc(uint32_t id, const char *text)
{
    struct snap_assoc s;
    memset(&s, 0, sizeof s);
    s.id = id;
    s.addr = addr(text);
    return s;
}

static uint32_t look(struct rst_table *t, const char *text)
{
    struct ntk_addr a = addr(text);
    return rst_lookup(t, &a);
}

static void sources_follow_associations(void **state)
{
    (void)state;
    struct rst_table *t = rst_new();
    assert_non_null(t);
    struct ntk_addr v4 = addr("0.0.0.0"), v6 = addr("::");
    assert_int_equal(rst_add(t, &v4, 0, RST_IGNORE), 0);
    assert_int_equal(rst_add(t, &v6, 0, RST_IGNORE), 0);
    struct dnames_src src[DNAMES_SRC_MAX];
    size_t n = 0;
    struct snap_assoc as[4] = {assoc(1, "192.0.2.1:123"), assoc(2, "[2001:db8::1]:123"),
                               assoc(3, "192.0.2.1:1123")};
    n = dnames_sync_sources(t, RST_NOMODIFY, src, n, as, 3);
    assert_int_equal(n, 3);
    assert_int_equal(rst_count(t), 4); /* 192.0.2.1 once (two references), 2001:db8::1 */
    assert_int_equal(look(t, "192.0.2.1"), RST_NOMODIFY);
    assert_int_equal(look(t, "2001:db8::1"), RST_NOMODIFY);
    assert_int_equal(look(t, "192.0.2.9"), RST_IGNORE);
    /* Nothing changed: nothing happens (no second reference). */
    n = dnames_sync_sources(t, RST_NOMODIFY, src, n, as, 3);
    assert_int_equal(n, 3);
    struct rst_rule r;
    assert_true(rst_get(t, 0, &r));
    assert_int_equal(r.src_refs, r.family == NTK_ADDR_V4 ? 2 : 1);
    /* Association 1 gone: 192.0.2.1 keeps association 3's reference. */
    as[0] = as[2];
    n = dnames_sync_sources(t, RST_NOMODIFY, src, n, as, 2);
    assert_int_equal(n, 2);
    assert_int_equal(look(t, "192.0.2.1"), RST_NOMODIFY);
    /* Association 3 moved to 198.51.100.7: the old address's rule goes, the new one comes. */
    as[0].addr = addr("198.51.100.7:1123");
    n = dnames_sync_sources(t, RST_NOMODIFY, src, n, as, 2);
    assert_int_equal(n, 2);
    assert_int_equal(look(t, "192.0.2.1"), RST_IGNORE);
    assert_int_equal(look(t, "198.51.100.7"), RST_NOMODIFY);
    /* A pool member spawned (id 4), then everything gone. */
    as[2] = assoc(4, "203.0.113.4:123");
    n = dnames_sync_sources(t, RST_NOMODIFY, src, n, as, 3);
    assert_int_equal(n, 3);
    assert_int_equal(look(t, "203.0.113.4"), RST_NOMODIFY);
    n = dnames_sync_sources(t, RST_NOMODIFY, src, n, as, 0);
    assert_int_equal(n, 0);
    assert_int_equal(rst_count(t), 2);
    rst_free(t);
}

/* Property: after any sequence of association sets, the rules held are exactly those of the
 * last set, and taking them all back leaves the defaults. */
static void sources_random(void **state)
{
    (void)state;
    tu_seed();
    struct rst_table *t = rst_new();
    struct dnames_src src[DNAMES_SRC_MAX];
    size_t n = 0;
    uint32_t next_id = 1;
    struct snap_assoc as[DNAMES_SRC_MAX];
    size_t nas = 0;
    for (int round = 0; round < 500; round++) {
        int op = (int)(tu_rand() % 3);
        if (op == 0 && nas < 20) {
            char text[32];
            snprintf(text, sizeof text, "10.0.0.%u:%u", (unsigned)(tu_rand() % 8),
                     (unsigned)(122 + tu_rand() % 3));
            as[nas++] = assoc(next_id++, text);
        } else if (op == 1 && nas > 0) {
            size_t k = (size_t)(tu_rand() % nas);
            as[k] = as[--nas];
        } else if (nas > 0) {
            uint8_t ip[4] = {10, 0, 0, (uint8_t)(tu_rand() % 8)};
            ntk_addr_set_v4(&as[tu_rand() % nas].addr, ip, 123);
        }
        n = dnames_sync_sources(t, RST_NOQUERY, src, n, as, nas);
        assert_int_equal(n, nas);
        for (uint8_t last = 0; last < 8; last++) {
            struct ntk_addr a = {0};
            uint8_t ip[4] = {10, 0, 0, last};
            ntk_addr_set_v4(&a, ip, 0);
            bool held = false;
            for (size_t k = 0; k < nas; k++)
                held = held || as[k].addr.ip[3] == last;
            assert_int_equal(rst_lookup(t, &a), held ? RST_NOQUERY : 0u);
        }
    }
    n = dnames_sync_sources(t, RST_NOQUERY, src, n, as, 0);
    assert_int_equal(n, 0);
    assert_int_equal(rst_count(t), 2);
    rst_free(t);
}

static void reresolve_after_unreachable_polls(void **state)
{
    (void)state;
    struct dnames_reach r = {.mark_mono_ns = 100 * NS};
    /* Never answered, minpoll 4: 8 polls = 128 s of silence since the mark. */
    assert_false(dnames_should_reresolve(0, 4, 100 * NS, &r));
    assert_false(dnames_should_reresolve(0, 4, 227 * NS, &r));
    assert_true(dnames_should_reresolve(0, 4, 228 * NS, &r));
    assert_int_equal(r.mark_mono_ns, 100 * NS); /* unreachable: the mark stays */
    assert_false(r.seen);
    /* Heard from: the mark moves; when the register is 0 again (8 polls lost), at once. */
    assert_false(dnames_should_reresolve(0x81, 4, 300 * NS, &r));
    assert_int_equal(r.mark_mono_ns, 300 * NS);
    assert_true(r.seen);
    assert_false(dnames_should_reresolve(0x01, 4, 304 * NS, &r));
    assert_true(dnames_should_reresolve(0, 4, 308 * NS, &r));
    /* After a lookup that kept the address the caller restarts: the long wait again. */
    r = (struct dnames_reach){.mark_mono_ns = 308 * NS};
    assert_false(dnames_should_reresolve(0, 4, 312 * NS, &r));
    assert_true(dnames_should_reresolve(0, 4, 436 * NS, &r));
    /* minpoll 6 (the default): 512 s; out-of-range polls are clamped. */
    r = (struct dnames_reach){0};
    assert_false(dnames_should_reresolve(0, 6, 511 * NS, &r));
    assert_true(dnames_should_reresolve(0, 6, 512 * NS, &r));
    r = (struct dnames_reach){0};
    assert_true(dnames_should_reresolve(0, -3, 8 * NS, &r));
    assert_false(dnames_should_reresolve(0, 40, 8 * NS, &r));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sources_follow_associations),
        cmocka_unit_test(sources_random),
        cmocka_unit_test(reresolve_after_unreachable_polls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
