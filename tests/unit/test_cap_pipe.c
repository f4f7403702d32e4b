/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpcap's frame pipe (cap_pipe.h) between two real threads, and the flow table's parts that
 * the speed work rewrote: the ring median (selection instead of a sort) and the links kept
 * apart from the entries (hash chains, exact LRU order, growth, eviction). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cap_flow.h"
#include "cap_pipe.h"
#include "ntk/addr.h"

#include "poison.h"

/* ---- the pipe ---- */

#define FRAMES 100000

struct prod {
    struct cap_pipe *q;
    size_t max_len; /* frame lengths cycle 1..max_len */
    size_t stop_at; /* 0: all FRAMES; else stop early, as -c does */
    size_t sent;
};

/* Frame i is len(i) bytes of (uint8_t)(i + k); its what field carries i's low bits. */
static size_t len_of(const struct prod *p, size_t i)
{
    return 1 + i % p->max_len;
}

static void *producer(void *arg)
{
    struct prod *p = arg;
    static uint8_t frame[CAP_PIPE_ARENA];
    struct cap_pipe_batch *b = cap_pipe_take(p->q);
    size_t n = p->stop_at ? p->stop_at : FRAMES;
    for (size_t i = 0; i < n && b != NULL; i++) {
        size_t len = len_of(p, i);
        for (size_t k = 0; k < len; k++) {
            frame[k] = (uint8_t)(i + k);
        }
        const uint8_t *copy = NULL;
        if (b->n == CAP_PIPE_FRAMES || (copy = cap_pipe_copy(b, frame, len)) == NULL) {
            cap_pipe_put(p->q, b);
            b = cap_pipe_take(p->q);
            if (b == NULL) {
                break;
            }
            copy = cap_pipe_copy(b, frame, len);
        }
        struct cap_pipe_frame *f = &b->f[b->n++];
        memset(f, 0, sizeof *f);
        f->d.payload = copy;
        f->d.payload_len = len;
        f->sec = (int64_t)i;
        p->sent++;
    }
    if (b != NULL) {
        if (b->n > 0) {
            cap_pipe_put(p->q, b);
        } else {
            cap_pipe_give(p->q, b);
        }
    }
    cap_pipe_close(p->q, 7);
    return NULL;
}

/* Consumes everything, checking order and bytes; returns the frames seen. */
static size_t consume(struct cap_pipe *q, const struct prod *p)
{
    size_t seen = 0;
    struct cap_pipe_batch *b;
    while ((b = cap_pipe_next(q)) != NULL) {
        assert_true(b->n > 0 && b->n <= CAP_PIPE_FRAMES);
        assert_true(b->used <= CAP_PIPE_ARENA);
        for (size_t j = 0; j < b->n; j++) {
            const struct cap_pipe_frame *f = &b->f[j];
            assert_int_equal(f->sec, (int64_t)seen);
            assert_int_equal(f->d.payload_len, len_of(p, seen));
            assert_true(f->d.payload >= b->arena &&
                        f->d.payload + f->d.payload_len <= b->arena + CAP_PIPE_ARENA);
            for (size_t k = 0; k < f->d.payload_len; k++) {
                if (f->d.payload[k] != (uint8_t)(seen + k)) {
                    fail_msg("frame %zu byte %zu", seen, k);
                }
            }
            seen++;
        }
        cap_pipe_give(q, b);
    }
    return seen;
}

/* Small frames: batches end by count; every frame arrives once, in order, intact. */
static void pipe_order(void **state)
{
    (void)state;
    struct cap_pipe q;
    assert_int_equal(cap_pipe_init(&q), 0);
    struct prod p = {.q = &q, .max_len = 200};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, producer, &p), 0);
    assert_int_equal(consume(&q, &p), FRAMES);
    pthread_join(t, NULL);
    assert_int_equal(cap_pipe_status(&q), 7);
    assert_int_equal(p.sent, FRAMES);
    cap_pipe_free(&q);
}

/* Large frames: batches end when the arena is full (a frame of up to a quarter of it). */
static void pipe_arena_full(void **state)
{
    (void)state;
    struct cap_pipe q;
    assert_int_equal(cap_pipe_init(&q), 0);
    struct prod p = {.q = &q, .max_len = CAP_PIPE_ARENA / 4, .stop_at = 2000};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, producer, &p), 0);
    assert_int_equal(consume(&q, &p), 2000);
    pthread_join(t, NULL);
    cap_pipe_free(&q);
}

/* A frame of the whole arena fits an empty batch; one byte more does not. */
static void pipe_copy_bounds(void **state)
{
    (void)state;
    struct cap_pipe q;
    assert_int_equal(cap_pipe_init(&q), 0);
    struct cap_pipe_batch *b = cap_pipe_take(&q);
    assert_non_null(b);
    static uint8_t big[CAP_PIPE_ARENA + 1];
    assert_null(cap_pipe_copy(b, big, CAP_PIPE_ARENA + 1));
    assert_non_null(cap_pipe_copy(b, big, CAP_PIPE_ARENA));
    assert_null(cap_pipe_copy(b, big, 1));
    assert_non_null(cap_pipe_copy(b, big, 0));
    cap_pipe_give(&q, b);
    cap_pipe_free(&q);
}

/* The consumer aborts: a producer waiting for a free batch gets NULL and stops. */
static void pipe_abort(void **state)
{
    (void)state;
    struct cap_pipe q;
    assert_int_equal(cap_pipe_init(&q), 0);
    struct prod p = {.q = &q, .max_len = 16};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, producer, &p), 0);
    /* Take one batch and never give it back, then abort: the producer fills the others and
     * blocks, until the abort releases it. */
    struct cap_pipe_batch *b = cap_pipe_next(&q);
    assert_non_null(b);
    cap_pipe_abort(&q);
    pthread_join(t, NULL);
    assert_true(p.sent < FRAMES);
    assert_true(p.sent <= (size_t)CAP_PIPE_DEPTH * CAP_PIPE_FRAMES);
    cap_pipe_free(&q);
}

/* ---- the ring median ---- */

static int cmp_f(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The median of the last min(n, CAP_FLOW_RING) of vals, by a sort. */
static double median_by_sort(const double *vals, size_t pushes)
{
    size_t n = pushes < CAP_FLOW_RING ? pushes : CAP_FLOW_RING;
    float s[CAP_FLOW_RING];
    for (size_t i = 0; i < n; i++) {
        s[i] = (float)vals[pushes - n + i];
    }
    qsort(s, n, sizeof s[0], cmp_f);
    return n % 2 ? (double)s[n / 2] : ((double)s[n / 2 - 1] + (double)s[n / 2]) / 2;
}

/* The rings' medians against a sort, for every fill level, with duplicates, sorted and
 * reversed input: the exchange ring (delay and offset side by side) and the poll ring. */
static void ring_median(void **state)
{
    (void)state;
    static struct cap_flow_ent e;
    assert_true(isnan(cap_ring_median(e.poll, 1, 0)));
    srand(1);
    for (int trial = 0; trial < 3000; trial++) {
        memset(&e, 0, sizeof e);
        size_t pushes = 1 + (size_t)rand() % (2 * CAP_FLOW_RING);
        int shape = trial % 4;
        double d[2 * CAP_FLOW_RING], o[2 * CAP_FLOW_RING];
        for (size_t i = 0; i < pushes; i++) {
            d[i] = shape == 0   ? (double)(rand() % 1000) * 1e-6
                   : shape == 1 ? (double)i
                   : shape == 2 ? -(double)i
                                : (double)(rand() % 3);
            o[i] = (double)(rand() % 1000) - 500;
            cap_flow_push_exchange(&e, d[i], o[i]);
            cap_flow_push_poll(&e, o[i]);
        }
        assert_int_equal(e.n_exch, pushes);
        assert_true(cap_ring_median(&e.exch[0][0], 2, e.n_exch) == median_by_sort(d, pushes));
        assert_true(cap_ring_median(&e.exch[0][1], 2, e.n_exch) == median_by_sort(o, pushes));
        assert_true(cap_ring_median(e.poll, 1, e.n_poll) == median_by_sort(o, pushes));
    }
}

/* ---- the flow table ---- */

static struct ntk_addr cl(unsigned i)
{
    struct ntk_addr a;
    memset(&a, 0, sizeof a);
    a.family = NTK_ADDR_V4;
    a.ip[0] = 10;
    a.ip[1] = (uint8_t)(i >> 16);
    a.ip[2] = (uint8_t)(i >> 8);
    a.ip[3] = (uint8_t)i;
    a.port = (uint16_t)(1024 + i % 5000); /* ignored by the table */
    return a;
}

struct evictions {
    unsigned n;
    unsigned last; /* the evicted client's number */
};

static void on_evict(void *ctx, struct cap_flow_ent *e)
{
    struct evictions *ev = ctx;
    ev->n++;
    ev->last = (unsigned)e->f.client.ip[1] << 16 | (unsigned)e->f.client.ip[2] << 8 |
               e->f.client.ip[3];
}

struct walk {
    unsigned got[400];
    size_t n;
};

static void on_each(void *ctx, struct cap_flow_ent *e)
{
    struct walk *w = ctx;
    unsigned k = (unsigned)e->f.client.ip[1] << 16 | (unsigned)e->f.client.ip[2] << 8 |
                 e->f.client.ip[3];
    if (w->n < sizeof w->got / sizeof w->got[0]) {
        w->got[w->n] = k;
    }
    w->n++;
}

/* Many flows through a small table: found again while present, evicted in exact LRU order
 * (a model list says which), every entry reachable by cap_flows_each. */
static void flow_table(void **state)
{
    (void)state;
    enum { MAX = 300, KEYS = 1000 };
    struct cap_flows t;
    assert_int_equal(cap_flows_init(&t, MAX), 0);
    struct ntk_addr sv = cl(0xffffff);
    sv.port = 123;
    unsigned order[MAX]; /* model: order[0] least recently used */
    size_t n = 0;
    struct evictions ev = {0};
    uint64_t evicted = 0;
    srand(2);
    for (int step = 0; step < 20000; step++) {
        unsigned k = (unsigned)rand() % KEYS;
        struct ntk_addr c = cl(k);
        bool created;
        uint32_t h = cap_flows_hash(&c, &sv);
        cap_flows_prefetch(&t, h, step & 1); /* a hint: must change nothing */
        struct cap_flow_ent *e =
            cap_flows_get(&t, &c, &sv, h, &created, on_evict, &ev, &evicted);
        assert_non_null(e);
        size_t at = n;
        for (size_t i = 0; i < n; i++) {
            if (order[i] == k) {
                at = i;
            }
        }
        assert_int_equal(created, at == n);
        if (at < n) {
            memmove(order + at, order + at + 1, (n - at - 1) * sizeof order[0]);
            n--;
        } else if (n == MAX) {
            assert_int_equal(ev.last, order[0]);
            memmove(order, order + 1, (n - 1) * sizeof order[0]);
            n--;
        }
        order[n++] = k;
        assert_memory_equal(e->f.client.ip, c.ip, 4);
        assert_int_equal(e->f.client.port, 0);
        e->f.requests++;
    }
    assert_int_equal(ev.n, evicted);
    assert_true(evicted > 0);
    for (size_t i = 0; i < n; i++) {
        struct ntk_addr c = cl(order[i]);
        assert_non_null(cap_flows_find(&t, &c, &sv));
    }
    struct walk w = {.n = 0};
    cap_flows_each(&t, on_each, &w);
    assert_int_equal(w.n, n);
    assert_memory_equal(w.got, order, n * sizeof order[0]);
    struct ntk_addr absent = cl(KEYS + 1);
    assert_null(cap_flows_find(&t, &absent, &sv));
    cap_flows_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pipe_order),       cmocka_unit_test(pipe_arena_full),
        cmocka_unit_test(pipe_copy_bounds), cmocka_unit_test(pipe_abort),
        cmocka_unit_test(ring_median),      cmocka_unit_test(flow_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
