/* SPDX-License-Identifier: BSD-2-Clause */
/* What the parts of ntpd (daemon.c and the d*.c modules) share. Not used outside daemon/io. */
#ifndef NTK_DAEMON_INTERNAL_H
#define NTK_DAEMON_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon.h"

/* How often the drift-file policy is asked (it writes at most hourly itself). */
#define DRIFT_TIMER_S 600

/* ---- daemon.c ---- */

/* The engine's notion of now: CLOCK_REALTIME and the loop's monotonic time. */
struct eng_now daemon_now(void);

/* getrandom() into p (the engine's and the server's randomness; ctx unused). */
void daemon_rng_bytes(void *ctx, uint8_t *p, size_t n);

/* Carries out every action the engine queued, then re-arms its timer. */
void daemon_drain_actions(struct ntpd *d);

/* The rate limiter from `discard average` when no `limit` line overrides it. */
void daemon_rate_from_discard(struct mru_cfg *mc, const struct conf_discard *dc,
                              const struct conf_limit *lc);

/* ---- dclient.c: the client sockets ---- */

/* Opens the IPv4 and IPv6 client sockets and registers them with the loop; 1 when neither
 * could be opened (logged). */
int dclient_open(struct ntpd *d);

/* Sends an ENG_ACT_SEND action's request (a failure is logged at debug level). */
void dclient_send(struct ntpd *d, const struct eng_action *a);

/* ---- dlisten.c: the server sockets ---- */

/* Opens the server sockets the interface rules and -I ask for (the wildcards when none) and
 * registers them with the loop; 1 when none could be opened (logged). */
int dlisten_open(struct ntpd *d);

/* ---- dnames.c: server and restrict lines ---- */

/* Adds every server and pool line: addresses at once, names through the resolver. */
void dnames_add_servers(struct ntpd *d);

/* Gives the restrict lines to the server's table. */
void dnames_add_rules(struct ntpd *d);

/* Loop callback of the resolver's descriptor: takes every answer. */
void dnames_on_resolved(void *ctx, int fd);

/* ---- dstatus.c ---- */

/* Loop timer: logs the status line, prints the peers table, re-arms itself. */
void dstatus_on_timer(void *ctx, int64_t now_mono_ns);

/* ---- dfiles.c: keys, leap, drift and pid files ---- */

/* Reads the keys file (-k or `keys`), keeping the trusted keys only, into *out (NULL when
 * there is no file). Returns 0 (also with no file) or 1 (logged); d->key_errors counts the
 * lines in error. */
int dfiles_load_keys(struct ntpd *d, struct ntk_mac_keys **out);

/* (Re)reads the leap file: a good table replaces the engine's, a bad one is reported and
 * the previous table stays; an expired one is warned. */
void dfiles_load_leap(struct ntpd *d);

/* The frequency the drift file remembers; false when there is none (or it is unusable). */
bool dfiles_read_drift(const struct ntpd *d, double *freq_ppm);

/* Writes the drift file when NTPsec's policy says so (force: at exit); never in observe
 * mode. */
void dfiles_save_drift(struct ntpd *d, bool force);

/* Loop timer: asks the drift policy, re-arms itself every DRIFT_TIMER_S. */
void dfiles_on_drift_timer(void *ctx, int64_t now_mono_ns);

/* -p: writes the pidfile atomically; 0, or 1 (logged). */
int dfiles_write_pidfile(struct ntpd *d);

#endif /* NTK_DAEMON_INTERNAL_H */
