/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for daemon/core/eng_names.c: an association moved to a new address keeps its
 * id and configuration, polls the new address, forgets the old one, and refuses an address
 * another association polls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "clk_linux.h"
#include "engine.h"
#include "ntk/err.h"
#include "snap.h"
#include "testutil.h"

#include "poison.h"

#define NS 1000000000LL

static void rng_bytes(void *ctx, uint8_t *p, size_t n)
{
    (void)ctx;
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(tu_rand() | 1);
}

static struct ntk_addr addr(const char *text)
{
    struct ntk_addr a;
    assert_int_equal(ntk_addr_parse_span((struct ntk_span){text, strlen(text)}, &a), 0);
    return a;
}

static struct eng_now at(int64_t s)
{
    struct eng_now n = {.real = {.tv_sec = 1764126000 + s}, .mono_ns = NS + s * NS};
    return n;
}

/* The destinations of the SEND actions queued, at most cap; returns how many. */
static size_t sends(struct eng *e, struct ntk_addr *to, size_t cap)
{
    struct eng_action a;
    size_t n = 0;
    while (eng_pop_action(e, &a))
        if (a.kind == ENG_ACT_SEND && n < cap)
            to[n++] = a.remote;
    return n;
}

static void moves(void **state)
{
    (void)state;
    tu_seed();
    struct eng_cfg cfg;
    eng_cfg_defaults(&cfg);
    cfg.observe = true;
    struct eng_rng rng = {.ctx = NULL, .bytes = rng_bytes};
    struct eng_now n = at(0);
    struct eng *e = eng_new(&cfg, ntk_clk_null(), &rng, NULL, &n);
    assert_non_null(e);
    struct eng_server_cfg c;
    eng_server_defaults(&c);
    c.iburst = true;
    c.addr = addr("192.0.2.1:1123");
    memcpy(c.name, "ntp.example", 12);
    int a = eng_add_server(e, &c, &n);
    c.addr = addr("192.0.2.2");
    c.name[0] = '\0';
    int b = eng_add_server(e, &c, &n);
    assert_true(a >= 1 && b > a);
    eng_on_timer(e, &n);
    struct ntk_addr to[8];
    assert_int_equal(sends(e, to, 8), 2);

    /* Refusals change nothing. */
    struct ntk_addr taken = addr("192.0.2.2:123"), none = {0};
    assert_int_equal(eng_set_server_addr(e, (uint32_t)a, &taken, &n), NTK_EINVAL);
    assert_int_equal(eng_set_server_addr(e, (uint32_t)a, &none, &n), NTK_EINVAL);
    assert_int_equal(eng_set_server_addr(e, 999, &taken, &n), NTK_ENOTFOUND);

    /* Port 0 keeps the association's port (1123); the id, name and flags stay. */
    n = at(1);
    struct ntk_addr moved = addr("2001:db8::7");
    assert_int_equal(eng_set_server_addr(e, (uint32_t)a, &moved, &n), 0);
    moved.port = 1123; /* what the association has now */
    struct snap_assoc s[4];
    assert_int_equal(eng_snap(e, n.mono_ns, NULL, NULL, s, 4), 2);
    const struct snap_assoc *m = s[0].id == (uint32_t)a ? &s[0] : &s[1];
    assert_int_equal(m->id, (uint32_t)a);
    assert_int_equal(m->addr.family, NTK_ADDR_V6);
    assert_int_equal(m->addr.port, 1123);
    assert_true(ntk_addr_eq(&m->addr, &moved));
    assert_string_equal(m->name, "ntp.example");
    assert_true(m->iburst);
    assert_int_equal(m->reach, 0);
    assert_int_equal(m->sent, 0);
    /* Its first poll (iburst: at once) goes to the new address. */
    eng_on_timer(e, &n);
    assert_int_equal(sends(e, to, 8), 1);
    assert_true(ntk_addr_eq(&to[0], &moved));
    assert_int_equal(to[0].port, 1123);

    /* A datagram from the old address is from nobody now. */
    struct snap_counters before, after;
    eng_snap(e, n.mono_ns, NULL, &before, NULL, 0);
    uint8_t junk[48] = {0x24};
    struct ntk_addr old = addr("192.0.2.1:1123");
    eng_on_packet(e, &n, junk, sizeof junk, &old, &n.real, ENG_RX_USER);
    eng_snap(e, n.mono_ns, NULL, &after, NULL, 0);
    assert_int_equal(after.unknown_source, before.unknown_source + 1);

    /* The old address is free again for another association; moving back is allowed. */
    struct ntk_addr back = addr("192.0.2.1:1123");
    assert_int_equal(eng_set_server_addr(e, (uint32_t)b, &back, &n), 0);
    assert_int_equal(eng_set_server_addr(e, (uint32_t)a, &back, &n), NTK_EINVAL);
    /* Moving to its own address is a restart, not a conflict. */
    assert_int_equal(eng_set_server_addr(e, (uint32_t)b, &back, &n), 0);
    eng_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(moves),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
