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

/* The rate limiter's figures from `limit` (NTPsec's units: packets per second), `discard
 * minimum`, and `discard average` when no `limit` line overrides it. */
void daemon_rate_cfg(struct mru_cfg *mc, const struct conf_discard *dc,
                     const struct conf_limit *lc);

/* Counts a net_send_batch of n datagrams that returned rc (iostats' io_sent and
 * io_sendfailed). */
static inline void daemon_count_sent(struct ntpd *d, int n, int rc)
{
    int sent = rc > 0 ? rc : 0;
    d->io_sent += (uint64_t)sent;
    d->io_send_failed += (uint64_t)(n - sent);
}

/* Counts a readable callback of a UDP socket whose read brought n datagrams (io_wakeups,
 * io_goodwakeups). */
static inline void daemon_count_wakeup(struct ntpd *d, int n)
{
    d->io_wakeups++;
    if (n > 0)
        d->io_good_wakeups++;
}

/* ---- dclient.c: the client sockets ---- */

/* Opens the IPv4 and IPv6 client sockets and registers them with the loop; 1 when neither
 * could be opened (logged). */
int dclient_open(struct ntpd *d);

/* Sends an ENG_ACT_SEND action's request (a failure is logged at debug level). */
void dclient_send(struct ntpd *d, const struct eng_action *a);

/* The local address the last datagram from remote (address and port) came to, or NULL
 * when none came or the kernel did not say. */
const struct ntk_addr *dclient_local_of(const struct ntpd *d, const struct ntk_addr *remote);

/* ---- dlisten.c: the server sockets ---- */

/* Opens the server sockets the interface rules and -I ask for (the wildcards when none) and
 * registers them with the loop; 1 when none could be opened (logged). */
int dlisten_open(struct ntpd *d);

/* Builds the interface rules from the configuration, -I and -L into d->nic_rules; 1 when they
 * contradict each other or an -I argument is bad (logged), else 0 (--check-config too). */
int dlisten_check(struct ntpd *d);

/* Re-reads the local addresses and opens/closes the per-address sockets to match (the -U
 * timer calls it; a no-op without interface rules and -L, where the wildcards serve all). */
void dlisten_rescan(struct ntpd *d);

/* ---- dnames.c: server and restrict lines ---- */

/* Adds every server and pool line: addresses at once, names through the resolver. */
void dnames_add_servers(struct ntpd *d);

/* The engine asks for a pool's addresses (ENG_ACT_RESOLVE): looked up with the pool line's
 * -4/-6 (else the command line's) and `port` (else 123). */
void dnames_resolve_pool(struct ntpd *d, const char *name);

/* Gives the restrict lines to the server's table. */
void dnames_add_rules(struct ntpd *d);

/* Loop callback of the resolver's descriptor: takes every answer (pools' to the engine,
 * server and restrict names' here), then refreshes the `restrict source` rules. */
void dnames_on_resolved(void *ctx, int fd);

/* SIGHUP: looks up again, now, every server or restrict name whose lookup failed (the
 * backoff starts over). */
void dnames_retry(struct ntpd *d);

/* Frees what dnames.c allocated (d->names); for ntpd_free. */
void dnames_free(struct ntpd *d);

/* An association's name is looked up again once it has been unreachable for this many
 * polls (chrony replaces unreachable sources given by name likewise). */
#define DNAMES_UNREACH_POLLS 8

#include "snap.h" /* struct snap_assoc, for the two pure helpers below */

/* Most `restrict source` rules held (one per association). */
#define DNAMES_SRC_MAX ENG_SNAP_MAX

/* One association's `restrict source` rule in force. */
struct dnames_src {
    uint32_t id;          /* the association */
    struct ntk_addr addr; /* the address its rule is for */
};

/* Brings the source rules of t in line with the associations as[0..nas) (eng_snap): the
 * rules of associations gone or moved are taken back (rst_remove_source), and every new
 * association's address gets one with flags (rst_add_source), while fewer than
 * DNAMES_SRC_MAX are held. src[0..n) is the set in force; returns its new size. */
size_t dnames_sync_sources(struct rst_table *t, uint32_t flags, struct dnames_src *src,
                           size_t n, const struct snap_assoc *as, size_t nas);

/* What dnames_should_reresolve remembers of one server association. */
struct dnames_reach {
    int64_t mark_mono_ns; /* when last seen reachable, or given its address */
    bool seen;            /* reachable since then */
};

/* Whether a server association with this reach register (0: unreachable) and minpoll should
 * have its name looked up again at now: at once when a reach register seen non-zero is 0
 * again (8 polls unanswered, chrony's criterion), else once it has been unreachable since
 * r->mark_mono_ns for DNAMES_UNREACH_POLLS << minpoll seconds (never answered). A reachable
 * one moves the mark to now. The caller restarts *r (mark now, not seen) after a lookup. */
bool dnames_should_reresolve(uint8_t reach, int8_t minpoll_log2, int64_t now_mono_ns,
                             struct dnames_reach *r);

/* ---- dctl.c: mode 6 ---- */

struct net_msg;

/* Answers the mode-6 datagram m that came in on server socket fd (srv_handle returned
 * SRV_CONTROL with restrict flags rflags): ctlsrv decides, the response goes out from fd
 * with m's local address. */
void dctl_serve(struct ntpd *d, int fd, const struct net_msg *m, uint32_t rflags);

/* Frees the responder (for ntpd_free; safe when none was made). */
void dctl_free(struct ntpd *d);

/* ---- dstatus.c ---- */

/* Loop timer: logs the status line, prints the peers table, re-arms itself. */
void dstatus_on_timer(void *ctx, int64_t now_mono_ns);

/* ---- dleap.c: the leap-seconds file (`leapfile`) ---- */

/* (Re)reads the leap file: a good table replaces the engine's (its TAI event goes to
 * protostats), a bad one is reported with every problem and the previous table stays. Then
 * NTPsec's daily expiry check: an error once it has expired, a warning in its last 28 days. */
void dleap_load(struct ntpd *d);

/* Starts the hourly check (NTPsec's check_leap_file): the file is read again when it changed
 * on disk (a cron job renewed it: no SIGHUP needed), a warning is logged every hour in its
 * last day, the expiry check above once a day. NTK_LEAPFILE_INTERVAL (seconds, 1..3600;
 * tests) shortens the hour. */
void dleap_start(struct ntpd *d);

/* ---- dfiles.c: keys, drift and pid files ---- */

/* A whole small file, NUL not added (*len bytes, malloc'd: the caller frees); NULL, logged,
 * when it cannot be read or is larger than max bytes. */
char *dfiles_read_small(const char *path, size_t max, size_t *len);

/* Reads the keys file (-k or `keys`), keeping the trusted keys only, into *out (NULL when
 * there is no file). Returns 0 (also with no file) or 1 (logged); d->key_errors counts the
 * lines in error. */
int dfiles_load_keys(struct ntpd *d, struct ntk_mac_keys **out);

/* The frequency the drift file remembers; false when there is none (or it is unusable). */
bool dfiles_read_drift(const struct ntpd *d, double *freq_ppm);

/* Writes the drift file when NTPsec's policy says so (force: at exit); never in observe
 * mode. */
void dfiles_save_drift(struct ntpd *d, bool force);

/* Loop timer: asks the drift policy, re-arms itself every DRIFT_TIMER_S. */
void dfiles_on_drift_timer(void *ctx, int64_t now_mono_ns);

/* The pidfile: -p, else the `pidfile` directive's; NULL for none. */
const char *dfiles_pidfile(const struct ntpd *d);

/* Writes the pidfile atomically (if any); 0, or 1 (logged). */
int dfiles_write_pidfile(struct ntpd *d);

/* ---- logstats: dfiles.c's log file and key reload, dstats.c's timer ---- */

/* Applies `logconfig` (the class mask, NTPsec's default all-on before the items) and
 * `logfile` (unless -l gave one: the command line wins); a log file that cannot be opened
 * is reported and lines stay where they went. Call right after the configuration is read. */
void dfiles_setup_log(struct ntpd *d);

/* SIGHUP: re-reads the keys file; a readable one replaces the key set of the engine and the
 * server (the old set is freed once neither uses it), and the keys added and removed are
 * logged. An unreadable file keeps the keys in use. */
void dfiles_reload_keys(struct ntpd *d);

/* Arms the hourly statistics roll (every DSTATS_SYS_INTERVAL_S from the start): the ss_*
 * counters of mode 6 restart, and a sysstats line is written when that file is enabled;
 * call after dstats_init with the loop made. */
void dstats_start(struct ntpd *d);

/* ---- ctlv: dctlsrc.c, what the mode-6 variables are read from ---- */

#include "ctlv.h"

/* Most associations dctl_fill_src reports (eng_snap: associations and pool lines). */
#define DCTLSRC_ASSOCS_MAX ENG_SNAP_MAX

/* Storage behind a filled struct ctlv_src (large: keep it static or on the heap). */
struct dctl_src_store {
    struct snap_system sys;
    struct snap_counters ctr;
    struct snap_assoc assocs[DCTLSRC_ASSOCS_MAX];
    struct ntk_addr local[DCTLSRC_ASSOCS_MAX]; /* the client socket of each one's family */
    struct mru_stats mru;
    struct mru_cfg mru_cfg;
    struct ctlv_io io;
    struct ctlv_kernel kern;
    struct ctlv_setvar setvars[CONF_SETVARS_MAX + OPTS_LIST_MAX];
    char znames[OPTS_LIST_MAX][NTK_CVAR_NAME_MAX + 1]; /* -z/-Z names (values borrowed) */
    char version[64];                                  /* "ntpd ntpkit-VERSION" */
    struct ctlv_nts nts;                               /* ntsinfo */
};

/* Fills *out for ctlv_sys / ctlv_peer as of now: the engine's snapshot, the server's and
 * the MRU list's counters, the kernel clock state (ntp_adjtime with modes 0: read only),
 * uname (once per daemon), the leap table, setvar lines then -z/-Z ("name=value"; one
 * without '=' is skipped), the hourly sysstats reset (d->stats: without sysstats the
 * counters are never reset). out points into st and d until either changes. */
void dctl_fill_src(struct ntpd *d, struct ctlv_src *out, struct dctl_src_store *st);

/* ---- dnts.c: NTS ---- */

/* Sets up NTS when the configuration asks (`nts enable`: the cookie store and the NTS-KE
 * server, its certificate read while still root; the keys come with dnts_load_keys;
 * `server ... nts`: room for NTS-KE sessions). Returns 0 or 1 (logged). */
int dnts_setup(struct ntpd *d);

/* `nts enable`: loads the cookie key file (or makes the first key and writes it), rotates
 * and arms the daily rotation; called after the privilege drop, before the loop runs.
 * Returns 0 (also without an NTS server) or 1 (the file exists and does not load). */
int dnts_load_keys(struct ntpd *d);

/* --check-config: the NTS certificate and key load and match, and every `ca` file loads.
 * Logs each problem; returns 0 or 1. */
int dnts_check(const struct ntpd *d);

/* ENG_ACT_NEED_KE: starts an NTS-KE session on the loop; its end goes to eng_on_ke_result. */
void dnts_need_ke(struct ntpd *d, const struct eng_action *a);

/* SIGHUP: reloads the NTS certificate and key for new NTS-KE connections. */
void dnts_reload(struct ntpd *d);

/* Stops everything NTS and frees it (safe when there is none). */
void dnts_free(struct ntpd *d);

/* The NTS-KE server's and the cookies' counters (NULL when not serving NTS), mode 6. */
struct ke_srv_stats;
struct ntss_stats;
const struct ke_srv_stats *dnts_ke_stats(const struct ntpd *d);
const struct ntss_stats *dnts_cookie_stats(const struct ntpd *d);

/* ntsinfo's values: the engine's client counters (from ctr), the server's, the cookies' and
 * the NTS-KE server's. */
void dnts_fill_ctlv(const struct ntpd *d, const struct snap_counters *ctr,
                    struct ctlv_nts *out);

/* refclocks */
/* ---- drefclk.c: reference clocks (issue 12) ---- */

/* Opens every refclock line (SHM segment, SOCK socket, PPS device) and registers it with
 * the engine and the loop; one that cannot be opened is logged and left out. Returns 0. */
int drefclk_open(struct ntpd *d);

/* Closes the refclocks' sockets and devices and detaches the segments. */
void drefclk_free(struct ntpd *d);

#endif /* NTK_DAEMON_INTERNAL_H */
