/* SPDX-License-Identifier: BSD-2-Clause */
/* Serving under load: how long the server lets its request queue fill before reading it again.
 *
 * At a high request rate that does not saturate ntpd, every wake-up of poll() finds a few
 * requests: the per-wake-up cost (a sleep and a wake-up of the process, poll, a receive and a
 * send call) is then paid for a handful of replies and dominates the CPU time per reply
 * (BENCHMARKS.md: a context switch is a quarter of it at 100,000 requests/s). Network cards
 * solve the same problem with interrupt moderation; this is its user-space form: while the
 * measured rate is at least COAL_RATE_MIN_PER_S and a read brought less than half a batch,
 * ntpd waits for about the time half a batch takes to arrive (at most max_ns) and reads again.
 *
 * What it costs: a request waits up to max_ns longer for its reply, plus the kernel's timer
 * slack (50 us by default), which nanosleep may add to each wait: ntpd keeps the default,
 * whose longer waits share a wake-up among more requests (BENCHMARKS.md has both measured,
 * session 20). Its receive timestamp is the kernel's and its transmit timestamp is read
 * just before the reply leaves, so the wait is part of the server's stated processing time
 * (T3 - T2) and never of the client's offset or delay. Other sockets and timers wait at most
 * SERVE_ROUNDS waits (dlisten.c). Below the rate threshold (every ordinary server) nothing
 * changes: no wait at all.
 *
 * Pure: the caller passes the monotonic time and does the waiting. */
#ifndef NTK_COALESCE_H
#define NTK_COALESCE_H

#include <stdint.h>

#define COAL_RATE_MIN_PER_S 20000     /* below this rate, never wait */
#define COAL_WAIT_MAX_NS    50000     /* the default longest wait: 50 µs */
#define COAL_WINDOW_NS      100000000 /* the rate is measured over 100 ms windows */

/* The state of one server's coalescing. Zero-initialised it is off; coal_init turns it on. */
struct coalesce {
    int64_t max_ns;          /* the longest wait (0: off) */
    int64_t window_start_ns; /* when the current window began (monotonic) */
    uint32_t window_count;   /* datagrams read in it so far */
    uint32_t rate_per_s;     /* datagrams per second in the last complete window */
};

/* Turns coalescing on with waits of at most max_ns (0 turns it off). */
void coal_init(struct coalesce *c, int64_t max_ns);

/* Counts n datagrams read at now_ns (a batch holds at most batch_max) and returns how long to
 * wait before reading again: 0 means do not wait (coalescing off, the rate below the
 * threshold, the queue empty (n == 0) or the read at least half a batch). A window without
 * any read for a whole window's length counts as rate 0. */
int64_t coal_after_read(struct coalesce *c, int64_t now_ns, int n, int batch_max);

#endif /* NTK_COALESCE_H */
