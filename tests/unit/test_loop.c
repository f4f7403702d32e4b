/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of ntpd's event loop: timer order (a seeded heap property), cancelling, FIFO
 * ties, descriptor callbacks through a pipe, removal from inside a callback, stop, output
 * events and pausing (loop_set_events), the descriptor limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../daemon/io/loop.h"
#include "testutil.h"

#include "poison.h"

struct log {
    int64_t fired[LOOP_TIMERS_MAX];
    int n;
};

static void record(void *ctx, int64_t now)
{
    (void)now;
    struct log *g = ctx;
    g->fired[g->n] = g->n; /* filled in by the tests through separate contexts below */
    g->n++;
}

struct tagged {
    struct log *log;
    int64_t tag;
};

static void record_tag(void *ctx, int64_t now)
{
    (void)now;
    struct tagged *t = ctx;
    t->log->fired[t->log->n++] = t->tag;
}

/* Runs rounds until nothing is pending (bounded). */
static void drain(struct loop *l)
{
    for (int i = 0; i < 1000 && loop_next_timer(l) != INT64_MAX; i++)
        assert_true(loop_run_once(l, 50) >= 0);
}

static void timers_fire_in_order(void **state)
{
    (void)state;
    tu_seed();
    for (int round = 0; round < 20; round++) {
        struct loop *l = loop_new();
        assert_non_null(l);
        struct log g = {0};
        struct tagged t[200];
        int64_t base = loop_now_mono_ns();
        for (int i = 0; i < 200; i++) {
            /* Times within 20 ms, many equal, so ties are exercised. */
            int64_t when = base + (int64_t)(tu_rand() % 8) * 2500000;
            t[i] = (struct tagged){&g, when * 1000 + i};
            assert_true(loop_timer(l, when, record_tag, &t[i]) >= 1);
        }
        drain(l);
        assert_int_equal(g.n, 200);
        for (int i = 1; i < 200; i++)
            assert_true(g.fired[i - 1] < g.fired[i]); /* by time, then by insertion */
        loop_free(l);
    }
}

static void cancel_and_limits(void **state)
{
    (void)state;
    struct loop *l = loop_new();
    struct log g = {0};
    int64_t now = loop_now_mono_ns();
    int64_t a = loop_timer(l, now + 1000000, record, &g);
    int64_t b = loop_timer(l, now + 2000000, record, &g);
    assert_true(a >= 1 && b > a);
    loop_cancel(l, a);
    loop_cancel(l, 12345); /* unknown: no-op */
    assert_true(loop_next_timer(l) == now + 2000000);
    drain(l);
    assert_int_equal(g.n, 1);
    for (int i = 0; i < LOOP_TIMERS_MAX; i++)
        assert_true(loop_timer(l, now + 3600000000000LL, record, &g) >= 1);
    assert_true(loop_timer(l, now, record, &g) == -ENOSPC);
    loop_free(l);
}

/* A timer far away bounds the wait by max_wait_ms; nothing runs early. */
static void waits_are_bounded(void **state)
{
    (void)state;
    struct loop *l = loop_new();
    struct log g = {0};
    int64_t start = loop_now_mono_ns();
    loop_timer(l, start + 60000000000LL, record, &g);
    assert_int_equal(loop_run_once(l, 20), 0);
    int64_t took = loop_now_mono_ns() - start;
    assert_true(took >= 15000000 && took < 2000000000);
    assert_int_equal(g.n, 0);
    loop_free(l);
}

struct reader {
    struct loop *l;
    int reads;
    bool remove_self;
    bool stop;
};

static void on_readable(void *ctx, int fd)
{
    struct reader *r = ctx;
    char buf[16];
    if (read(fd, buf, sizeof buf) > 0)
        r->reads++;
    if (r->remove_self)
        loop_del_fd(r->l, fd);
    if (r->stop)
        loop_stop(r->l);
}

static void descriptors(void **state)
{
    (void)state;
    struct loop *l = loop_new();
    int p[2];
    assert_int_equal(pipe(p), 0);
    struct reader r = {.l = l};
    assert_int_equal(loop_add_fd(l, p[0], on_readable, &r), 0);
    assert_int_equal(loop_add_fd(l, p[0], on_readable, &r), -EEXIST);
    assert_int_equal(loop_run_once(l, 10), 0); /* nothing to read */
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(loop_run_once(l, 1000), 1);
    assert_int_equal(r.reads, 1);
    /* Removed from inside its own callback, then stop: loop_run returns. */
    r.remove_self = true;
    r.stop = true;
    assert_int_equal(write(p[1], "y", 1), 1);
    assert_int_equal(loop_run(l), 0);
    assert_int_equal(r.reads, 2);
    assert_int_equal(write(p[1], "z", 1), 1);
    assert_int_equal(loop_run_once(l, 10), 0); /* no longer watched */
    assert_int_equal(r.reads, 2);
    close(p[0]);
    close(p[1]);
    loop_free(l);
}

struct counter {
    int calls;
};

static void count_call(void *ctx, int fd)
{
    (void)fd;
    ((struct counter *)ctx)->calls++;
}

/* POLLOUT runs the callback on a writable socket; 0 pauses it even with input queued;
 * POLLIN again wakes it; unknown descriptors are refused. */
static void output_events(void **state)
{
    (void)state;
    struct loop *l = loop_new();
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct counter c = {0};
    assert_int_equal(loop_add_fd(l, sv[0], count_call, &c), 0);
    assert_int_equal(loop_events(l, sv[0]), POLLIN);
    assert_int_equal(loop_events(l, sv[1]), -1);
    assert_int_equal(loop_set_events(l, sv[1], POLLOUT), -ENOENT);
    assert_int_equal(loop_run_once(l, 10), 0); /* no input: nothing runs */
    assert_int_equal(c.calls, 0);
    assert_int_equal(loop_set_events(l, sv[0], POLLOUT), 0);
    assert_int_equal(loop_events(l, sv[0]), POLLOUT);
    assert_int_equal(loop_run_once(l, 1000), 1); /* an empty socket is writable */
    assert_int_equal(c.calls, 1);
    assert_int_equal(write(sv[1], "x", 1), 1);
    assert_int_equal(loop_set_events(l, sv[0], 0), 0);
    int64_t start = loop_now_mono_ns();
    assert_int_equal(loop_run_once(l, 30), 0); /* paused: input is not reported */
    assert_true(loop_now_mono_ns() - start >= 25000000);
    assert_int_equal(c.calls, 1);
    close(sv[1]); /* a hang-up on a paused descriptor does not wake the loop either */
    assert_int_equal(loop_run_once(l, 10), 0);
    assert_int_equal(loop_set_events(l, sv[0], POLLIN), 0);
    assert_int_equal(loop_run_once(l, 1000), 1);
    assert_int_equal(c.calls, 2);
    assert_int_equal(loop_set_events(l, sv[0], POLLIN | POLLOUT), 0);
    assert_int_equal(loop_run_once(l, 1000), 1); /* both ready: one call */
    assert_int_equal(c.calls, 3);
    close(sv[0]);
    loop_free(l);
}

/* LOOP_FDS_MAX descriptors fit (the KE server's 64 connections and the daemon's sockets);
 * one more is refused; removing one makes room. */
static void descriptor_limit(void **state)
{
    (void)state;
    assert_true(LOOP_FDS_MAX >= 64 + 64);
    struct loop *l = loop_new();
    struct counter c = {0};
    for (int fd = 0; fd < LOOP_FDS_MAX; fd++)
        assert_int_equal(loop_add_fd(l, 10000 + fd, count_call, &c), 0);
    assert_int_equal(loop_add_fd(l, 20000, count_call, &c), -ENOSPC);
    loop_del_fd(l, 10000 + 7);
    assert_int_equal(loop_events(l, 10000 + 7), -1);
    assert_int_equal(loop_add_fd(l, 20000, count_call, &c), 0);
    assert_int_equal(loop_events(l, 20000), POLLIN);
    loop_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(timers_fire_in_order), cmocka_unit_test(cancel_and_limits),
        cmocka_unit_test(waits_are_bounded),    cmocka_unit_test(descriptors),
        cmocka_unit_test(output_events),        cmocka_unit_test(descriptor_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
