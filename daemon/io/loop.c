/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's event loop: poll() over a descriptor table and a binary heap of timers (loop.h). */
#include "loop.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <time.h>

#include "poison.h"

struct watch {
    int fd;
    short events; /* what poll() waits for (POLLIN unless loop_set_events changed it) */
    loop_fd_cb cb;
    void *ctx;
};

struct timer {
    int64_t when_mono_ns;
    uint64_t seq; /* insertion order: ties run first-in first-out */
    int64_t id;
    loop_timer_cb cb;
    void *ctx;
};

struct loop {
    struct watch fds[LOOP_FDS_MAX];
    int nfds;
    struct timer heap[LOOP_TIMERS_MAX];
    int nheap;
    uint64_t seq;
    int64_t next_id;
    bool stop;
};

int64_t loop_now_mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

struct loop *loop_new(void)
{
    struct loop *l = calloc(1, sizeof *l);
    if (l != NULL)
        l->next_id = 1;
    return l;
}

void loop_free(struct loop *l)
{
    free(l);
}

int loop_add_fd(struct loop *l, int fd, loop_fd_cb cb, void *ctx)
{
    for (int i = 0; i < l->nfds; i++)
        if (l->fds[i].fd == fd)
            return -EEXIST;
    if (l->nfds == LOOP_FDS_MAX)
        return -ENOSPC;
    l->fds[l->nfds++] = (struct watch){.fd = fd, .events = POLLIN, .cb = cb, .ctx = ctx};
    return 0;
}

int loop_set_events(struct loop *l, int fd, short events)
{
    for (int i = 0; i < l->nfds; i++) {
        if (l->fds[i].fd == fd) {
            l->fds[i].events = events;
            return 0;
        }
    }
    return -ENOENT;
}

int loop_events(const struct loop *l, int fd)
{
    for (int i = 0; i < l->nfds; i++)
        if (l->fds[i].fd == fd)
            return l->fds[i].events;
    return -1;
}

void loop_del_fd(struct loop *l, int fd)
{
    for (int i = 0; i < l->nfds; i++) {
        if (l->fds[i].fd == fd) {
            l->fds[i] = l->fds[--l->nfds];
            return;
        }
    }
}

/* ---- the timer heap ---- */

static bool earlier(const struct timer *a, const struct timer *b)
{
    return a->when_mono_ns < b->when_mono_ns ||
           (a->when_mono_ns == b->when_mono_ns && a->seq < b->seq);
}

static void swap(struct loop *l, int a, int b)
{
    struct timer t = l->heap[a];
    l->heap[a] = l->heap[b];
    l->heap[b] = t;
}

static void sift_up(struct loop *l, int i)
{
    while (i > 0 && i < l->nheap && i < LOOP_TIMERS_MAX) {
        int parent = (i - 1) / 2;
        if (!earlier(&l->heap[i], &l->heap[parent]))
            return;
        swap(l, i, parent);
        i = parent;
    }
}

static void sift_down(struct loop *l, int i)
{
    for (;;) {
        int m = i, a = 2 * i + 1, b = 2 * i + 2;
        if (a < l->nheap && earlier(&l->heap[a], &l->heap[m]))
            m = a;
        if (b < l->nheap && earlier(&l->heap[b], &l->heap[m]))
            m = b;
        if (m == i)
            return;
        swap(l, i, m);
        i = m;
    }
}

static void remove_at(struct loop *l, int i)
{
    l->heap[i] = l->heap[--l->nheap];
    if (i < l->nheap) {
        sift_up(l, i);
        sift_down(l, i);
    }
}

int64_t loop_timer(struct loop *l, int64_t when_mono_ns, loop_timer_cb cb, void *ctx)
{
    if (l->nheap == LOOP_TIMERS_MAX)
        return -ENOSPC;
    int64_t id = l->next_id++;
    l->heap[l->nheap] = (struct timer){
        .when_mono_ns = when_mono_ns, .seq = l->seq++, .id = id, .cb = cb, .ctx = ctx};
    l->nheap++;
    sift_up(l, l->nheap - 1);
    return id;
}

void loop_cancel(struct loop *l, int64_t id)
{
    for (int i = 0; i < l->nheap; i++) {
        if (l->heap[i].id == id) {
            remove_at(l, i);
            return;
        }
    }
}

int64_t loop_next_timer(const struct loop *l)
{
    return l->nheap > 0 ? l->heap[0].when_mono_ns : INT64_MAX;
}

/* ---- one round ---- */

/* The poll() timeout: until the earliest timer (rounded up to a millisecond, so a timer is
 * never run early), at most max_wait_ms. */
static int timeout_ms(const struct loop *l, int max_wait_ms, int64_t now)
{
    int64_t next = loop_next_timer(l);
    if (next == INT64_MAX)
        return max_wait_ms;
    int64_t ms = next <= now ? 0 : (next - now + 999999) / 1000000;
    if (ms > 24 * 3600 * 1000)
        ms = 24 * 3600 * 1000;
    return max_wait_ms >= 0 && max_wait_ms < ms ? max_wait_ms : (int)ms;
}

static int run_timers(struct loop *l)
{
    int n = 0;
    int64_t now = loop_now_mono_ns();
    while (l->nheap > 0 && l->heap[0].when_mono_ns <= now) {
        struct timer t = l->heap[0];
        remove_at(l, 0);
        t.cb(t.ctx, now);
        n++;
    }
    return n;
}

static int run_fds(struct loop *l, const struct pollfd *p, int np)
{
    int n = 0;
    for (int i = 0; i < np; i++) {
        if (p[i].revents == 0)
            continue;
        /* Look the descriptor up again: an earlier callback may have removed it. */
        for (int k = 0; k < l->nfds; k++) {
            if (l->fds[k].fd == p[i].fd) {
                l->fds[k].cb(l->fds[k].ctx, p[i].fd);
                n++;
                break;
            }
        }
    }
    return n;
}

int loop_run_once(struct loop *l, int max_wait_ms)
{
    struct pollfd p[LOOP_FDS_MAX];
    int np = l->nfds;
    /* A paused descriptor (no events) is left out: poll() skips a negative fd, which also
     * keeps a hang-up on it from waking every round. */
    for (int i = 0; i < np; i++)
        p[i] = (struct pollfd){.fd = l->fds[i].events != 0 ? l->fds[i].fd : -1,
                               .events = l->fds[i].events};
    int rc = poll(p, (nfds_t)np, timeout_ms(l, max_wait_ms, loop_now_mono_ns()));
    if (rc < 0)
        return errno == EINTR ? 0 : -errno;
    int n = run_timers(l);
    return n + (rc > 0 ? run_fds(l, p, np) : 0);
}

int loop_run(struct loop *l)
{
    l->stop = false;
    while (!l->stop) {
        int rc = loop_run_once(l, -1);
        if (rc < 0)
            return rc;
    }
    return 0;
}

void loop_stop(struct loop *l)
{
    l->stop = true;
}
