/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of the resolver thread: answers come back through the descriptor, failures are
 * answers too, the thread starts only when asked, bad names are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../../daemon/io/resolve.h"

#include "poison.h"

/* Waits (bounded: 10 s) for n answers. */
static int collect(struct resolver *r, struct resolve_answer *a, int n)
{
    int got = 0;
    for (int tries = 0; got < n && tries < 100; tries++) {
        struct pollfd p = {.fd = resolver_fd(r), .events = POLLIN};
        (void)poll(&p, 1, 100);
        while (got < n && resolver_take(r, &a[got]) == 1)
            got++;
    }
    return got;
}

/* The answer for nm; a test without it cannot go on. */
static const struct resolve_answer *find(const struct resolve_answer *a, int n, const char *nm)
{
    for (int i = 0; i < n; i++)
        if (strcmp(a[i].name, nm) == 0)
            return &a[i];
    fprintf(stderr, "no answer for %s\n", nm);
    abort();
}

static void answers(void **state)
{
    (void)state;
    struct resolver *r = resolver_new();
    assert_non_null(r);
    struct resolve_answer none;
    assert_int_equal(resolver_take(r, &none), 0); /* no thread, nothing waiting */
    assert_int_equal(resolver_ask(r, "localhost", AF_INET, 123), 0);
    assert_int_equal(resolver_ask(r, "192.0.2.7", AF_UNSPEC, 1123), 0);
    assert_int_equal(resolver_ask(r, "no-such-host.invalid", AF_UNSPEC, 123), 0);
    static struct resolve_answer a[3];
    assert_int_equal(collect(r, a, 3), 3);
    const struct resolve_answer *lh = find(a, 3, "localhost");
    assert_non_null(lh);
    assert_true(lh->n >= 1);
    assert_int_equal(lh->addrs[0].family, NTK_ADDR_V4);
    assert_int_equal(lh->addrs[0].ip[0], 127);
    assert_int_equal(lh->addrs[0].port, 123);
    const struct resolve_answer *num = find(a, 3, "192.0.2.7");
    assert_non_null(num);
    assert_int_equal(num->n, 1);
    assert_int_equal(num->addrs[0].port, 1123);
    const struct resolve_answer *bad = find(a, 3, "no-such-host.invalid");
    assert_non_null(bad);
    assert_int_equal(bad->n, 0);
    assert_int_not_equal(bad->gai_err, 0);
    resolver_free(r);
}

/* Tags come back with their answers; the same name asked twice gives two answers. */
static void tags(void **state)
{
    (void)state;
    struct resolver *r = resolver_new();
    assert_non_null(r);
    assert_int_equal(resolver_ask_tag(r, "192.0.2.9", AF_UNSPEC, 123, 7), 0);
    assert_int_equal(resolver_ask_tag(r, "192.0.2.9", AF_INET, 124, 0xfffffffeu), 0);
    assert_int_equal(resolver_ask(r, "192.0.2.9", AF_UNSPEC, 125), 0);
    static struct resolve_answer a[3];
    assert_int_equal(collect(r, a, 3), 3);
    /* One thread, a FIFO queue: the answers come in the order asked. */
    assert_int_equal(a[0].tag, 7);
    assert_int_equal(a[0].addrs[0].port, 123);
    assert_int_equal(a[1].tag, 0xfffffffeu);
    assert_int_equal(a[1].addrs[0].port, 124);
    assert_int_equal(a[2].tag, 0);
    assert_int_equal(a[2].addrs[0].port, 125);
    resolver_free(r);
}

/* The retry schedule: 16 s doubling to 3600 s, back to 16 s after a reset. */
static void retry_schedule(void **state)
{
    (void)state;
    static const int want[] = {16, 32, 64, 128, 256, 512, 1024, 2048, 3600, 3600, 3600};
    struct resolve_retry b;
    resolve_retry_reset(&b);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_int_equal(resolve_retry_next_s(&b), want[i]);
    resolve_retry_reset(&b);
    assert_int_equal(resolve_retry_next_s(&b), 16);
    assert_int_equal(resolve_retry_next_s(&b), 32);
    struct resolve_retry z = {0}; /* zeroed (never reset): the minimum */
    assert_int_equal(resolve_retry_next_s(&z), 16);
    /* Property: from any start the delay never decreases, stays in range and reaches the
     * maximum within 8 failures. */
    for (int start = -5; start < 5000; start += 37) {
        struct resolve_retry p = {start};
        int prev = 0, d = 0;
        for (int i = 0; i < 9; i++) {
            d = resolve_retry_next_s(&p);
            assert_true(d >= RESOLVE_RETRY_MIN_S && d >= prev);
            assert_true(d <= RESOLVE_RETRY_MAX_S);
            prev = d;
        }
        assert_int_equal(d, RESOLVE_RETRY_MAX_S);
    }
}

static void refusals(void **state)
{
    (void)state;
    struct resolver *r = resolver_new();
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(resolver_ask(r, "", AF_UNSPEC, 123), -EINVAL);
    assert_int_equal(resolver_ask(r, longname, AF_UNSPEC, 123), -EINVAL);
    resolver_free(r); /* never started: nothing to join */
    resolver_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(answers),
        cmocka_unit_test(refusals),
        cmocka_unit_test(tags),
        cmocka_unit_test(retry_schedule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
