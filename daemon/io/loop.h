/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's event loop (ARCHITECTURE.md "The daemon's shape"): the only poll() in the daemon,
 * file descriptors with callbacks, and one-shot timers on CLOCK_MONOTONIC kept in a binary
 * heap. Single-threaded; other threads (the resolver) wake it through a descriptor. */
#ifndef NTK_LOOP_H
#define NTK_LOOP_H

#include <stdbool.h>
#include <stdint.h>

/* Most descriptors watched: ntpd's handful (sockets, the resolver pipe, signals) plus the
 * NTS-KE server's listeners and its connections (64 by default, up to KE_SRV_CONNS_MAX). */
#define LOOP_FDS_MAX 256

/* Most timers pending at once. */
#define LOOP_TIMERS_MAX 256

/* Called when fd is ready for one of the events it is watched for (POLLIN by default; see
 * loop_set_events), or has an error or a hang-up: the callback's read or write reports it. */
typedef void (*loop_fd_cb)(void *ctx, int fd);

/* Called once when a timer is due. now_mono_ns is the loop's reading of the clock. */
typedef void (*loop_timer_cb)(void *ctx, int64_t now_mono_ns);

struct loop;

/* Creates an empty loop, or NULL when out of memory. */
struct loop *loop_new(void);

/* Frees it (NULL is fine). Descriptors are not closed: they belong to their owners. */
void loop_free(struct loop *l);

/* Watches fd for input. Returns 0, -EEXIST if fd is watched already, -ENOSPC when full. */
int loop_add_fd(struct loop *l, int fd, loop_fd_cb cb, void *ctx);

/* Changes the poll events a watched fd waits for: POLLIN, POLLOUT or both (a TLS session
 * wants to write when OpenSSL says SSL_ERROR_WANT_WRITE), or 0 to pause it (an fd with no
 * events is not polled at all, so a hang-up does not wake the loop either). The callback
 * runs when any of them is reported. Takes effect from the next round. Returns 0, or
 * -ENOENT if fd is not watched. */
int loop_set_events(struct loop *l, int fd, short events);

/* The events fd waits for (POLLIN after loop_add_fd), or -1 if it is not watched. */
int loop_events(const struct loop *l, int fd);

/* Stops watching fd (no-op if it is not watched). Safe inside any callback. */
void loop_del_fd(struct loop *l, int fd);

/* Schedules cb at when_mono_ns (CLOCK_MONOTONIC). Returns a timer id (>= 1) for
 * loop_cancel, or -ENOSPC. Timers due at the same instant run in the order they were added. */
int64_t loop_timer(struct loop *l, int64_t when_mono_ns, loop_timer_cb cb, void *ctx);

/* Cancels a pending timer (no-op if it ran or never existed). */
void loop_cancel(struct loop *l, int64_t id);

/* When the earliest timer is due (INT64_MAX if none). */
int64_t loop_next_timer(const struct loop *l);

/* Runs one round: poll() until a descriptor is ready, the earliest timer is due, or
 * max_wait_ms passes (-1: no limit but the timers); then the due timers and the ready
 * descriptors' callbacks. Returns the number of callbacks run, or a negative errno if poll
 * failed (EINTR is not a failure: 0). */
int loop_run_once(struct loop *l, int max_wait_ms);

/* Runs rounds until loop_stop is called (from a callback). Returns 0, or a negative errno. */
int loop_run(struct loop *l);

/* Makes loop_run return after the current round. */
void loop_stop(struct loop *l);

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t loop_now_mono_ns(void);

#endif /* NTK_LOOP_H */
