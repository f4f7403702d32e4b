/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's statistics files (`statsdir`, `statistics`, `filegen`) in NTPsec's formats (stats.h),
 * so its ntpviz reads them: loopstats after every clock update, peerstats after every
 * accepted sample, rawstats after every answered request, protostats for every engine event
 * (NTPsec's report_event codes and status words), sysstats and usestats hourly (counters and
 * ntpd's resource usage since the last line), and clockstats after every accepted poll of a
 * reference clock (its last timecode). */
#ifndef NTK_DSTATS_H
#define NTK_DSTATS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>

#include "conf.h"
#include "engine.h"
#include "server.h"
#include "snap.h"
#include "stats.h"

/* Associations whose protostats event history (NTPsec's last_event/num_events) is kept. */
#define DSTATS_PEERS_MAX ENG_SNAP_MAX

/* How often sysstats gets a line (NTPsec: hourly). */
#define DSTATS_SYS_INTERVAL_S 3600

/* NTPsec's CTL_SYS_MAXEVENTS / CTL_PEER_MAXEVENTS: the 16th report in a row of the same
 * event is not written. */
#define DSTATS_MAX_REPEAT 15

/* One association's event history for its status word. */
struct dstats_peer_ev {
    uint32_t id;   /* association id (0: free slot) */
    uint8_t last;  /* last event code, without NTPsec's PEER_EVENT bit */
    uint8_t count; /* events of that code in a row (1..15) */
};

struct dstats {
    struct stats_gen loop;  /* loopstats */
    struct stats_gen peer;  /* peerstats */
    struct stats_gen raw;   /* rawstats */
    struct stats_gen sys;   /* sysstats */
    struct stats_gen proto; /* protostats */
    struct stats_gen clock; /* clockstats (reference clocks) */
    struct stats_gen use;   /* usestats (with sysstats, from getrusage) */
    bool ready;             /* dstats_init ran (the descriptors are valid) */
    int64_t start_mono_ns;  /* for the "age" rotation */
    /* sysstats */
    int64_t sys_interval_ns;   /* DSTATS_SYS_INTERVAL_S, or NTK_SYSSTATS_INTERVAL (tests) */
    int64_t sys_last_mono_ns;  /* when the counters were last written (start: ntpd's start) */
    struct stats_sys sys_base; /* the cumulative counters as of then */
    int64_t sys_timer;         /* the loop timer (0: none) */
    /* usestats */
    int64_t use_last_mono_ns; /* when ntpd's usage was last written (start: ntpd's start) */
    struct rusage use_base;   /* the usage as of then (zero at the start) */
    /* protostats: NTPsec's system and peer event histories */
    bool synced;       /* a system peer was announced (clock_sync written) */
    uint8_t sys_last;  /* last system event code */
    uint8_t sys_count; /* in a row */
    struct dstats_peer_ev peers[DSTATS_PEERS_MAX];
};

/* Sets up the files the configuration enables (statistics NAME, or filegen NAME ...
 * enable) under statsdir (or -s dir). Nothing is opened before the first line. */
void dstats_init(struct dstats *s, const struct conf *c, const char *statsdir_opt);

/* Writes what an engine event calls for: loopstats (ENG_EV_CLOCK_UPDATE), peerstats
 * (ENG_EV_PEER_UPDATE), rawstats (ENG_EV_RAW) and protostats (the others), from the
 * engine's report. Failures are logged once per file (the file is then disabled). */
void dstats_event(struct dstats *s, const struct eng *e, const struct eng_action *ev);

/* The rawstats line of an ENG_EV_RAW event, with local the address the datagram came to
 * (NULL: unknown, printed "-"; dstats_event passes NULL). */
void dstats_raw(struct dstats *s, const struct eng *e, const struct eng_action *ev,
                const struct ntk_addr *local);

/* SIGHUP: closes the files; the next line opens them again by name. */
void dstats_reopen(struct dstats *s);

/* Closes the files (safe on a zeroed struct). */
void dstats_close(struct dstats *s);

/* ---- the lines, from plain data (the unit tests drive these) ---- */

/* The cumulative counters sysstats reports, from the server's and the engine's (either may
 * be NULL). since_reset_s and now are left 0. */
void dstats_counts(const struct srv_stats *st, const struct snap_counters *ec,
                   struct stats_sys *out);

/* The sysstats line due at now_mono_ns, if any: once sys_interval_ns has passed since the
 * last one (or the start), appends the line of the counters gained since then (cum is
 * cumulative; now the wall clock) to sb, makes cum the new base and returns true. */
bool dstats_sys_line(struct dstats *s, const struct stats_sys *cum, const struct timespec *now,
                     int64_t now_mono_ns, struct ntk_sb *sb);

/* The usestats line at now_mono_ns (now the wall clock) from ru, ntpd's
 * getrusage(RUSAGE_SELF): the usage since the last line (maxrss as it is), which ru then
 * becomes the base of. Appends the line to sb; false if it did not fit. */
bool dstats_use_line(struct dstats *s, const struct rusage *ru, const struct timespec *now,
                     int64_t now_mono_ns, struct ntk_sb *sb);

/* The protostats line for event ev (not CLOCK_UPDATE, PEER_UPDATE or RAW): sys is the
 * system's state, sys_peer its system peer's association (NULL: none or unknown), as the
 * association ev names (NULL for a system event, or when it is gone). The status words are
 * mode 6's (ctlv_sys_word, ctlv_peer_word) with the event histories kept here, which this
 * updates. Appends the line to sb; false when NTPsec would not write one (an event type it
 * has no code for, or a 16th repeat). */
bool dstats_proto_line(struct dstats *s, const struct eng_action *ev,
                       const struct snap_system *sys, const struct snap_assoc *sys_peer,
                       const struct snap_assoc *as, const struct timespec *now,
                       struct ntk_sb *sb);

/* The rawstats line for an ENG_EV_RAW event: peer is ev->remote when it has an address,
 * else as's address (as may be NULL then only if ev->remote is set); local (NULL: "-") the
 * address it came to. NTPsec 1.2.2's format, ending in the requests lost, the replies
 * dropped and the BOGON bits (hex). Returns 0 or NTK_ENOSPC. */
int dstats_raw_line(const struct eng_action *ev, const struct snap_assoc *as,
                    const struct ntk_addr *local, const struct timespec *now,
                    struct ntk_sb *sb);

#endif /* NTK_DSTATS_H */
