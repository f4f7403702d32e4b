/* SPDX-License-Identifier: BSD-2-Clause */
/* THE report model (ARCHITECTURE.md): one snapshot of the engine's state that mode 6, JSON,
 * the statistics files and the exporter all read, so they never disagree. Plain data with
 * units in the names; filled by eng_snap(). */
#ifndef NTK_SNAP_H
#define NTK_SNAP_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "ntk/ntime.h"
#include "ntk/pkt.h"

/* Outcomes of a datagram from a known server (enum assoc_rx has them in this order). */
#define ENG_RX_KINDS 7

/* The selection status of a source, as the tally character of NTPsec's peers display. */
enum snap_tally {
    SNAP_TALLY_REJECT = ' ',    /* not valid (unreachable, bad header, too far...) */
    SNAP_TALLY_FALSETICK = 'x', /* rejected by the intersection algorithm */
    SNAP_TALLY_EXCESS = '.',    /* cut off the end of the survivor list */
    SNAP_TALLY_OUTLIER = '-',   /* discarded by the cluster algorithm */
    SNAP_TALLY_CANDIDATE = '+', /* a survivor, combined into the offset */
    SNAP_TALLY_BACKUP = '#',    /* a survivor beyond the combined set */
    SNAP_TALLY_SYSPEER = '*',   /* the system peer */
    SNAP_TALLY_PPSPEER = 'o',   /* the PPS peer (refclocks, later) */
};

/* NTPsec's flash bits: why the last packet of an association was not used (ntpq's
 * "flash" variable; RFC 5905 §8 test numbering). */
enum snap_flash {
    SNAP_FLASH_DUP = 0x0001,     /* TEST1 duplicate */
    SNAP_FLASH_BOGUS = 0x0002,   /* TEST2 bogus: origin is not our request */
    SNAP_FLASH_PROTO = 0x0004,   /* TEST3 unsynchronised / protocol */
    SNAP_FLASH_ACCESS = 0x0008,  /* TEST4 access denied (KoD DENY/RSTR) */
    SNAP_FLASH_AUTH = 0x0010,    /* TEST5 authentication failed */
    SNAP_FLASH_SYNC = 0x0020,    /* TEST6 server not synchronised (leap 3 / stratum 16) */
    SNAP_FLASH_STRATUM = 0x0040, /* TEST7 stratum above 15 */
    SNAP_FLASH_HEADER = 0x0080,  /* TEST8 invalid header (root delay/dispersion) */
    SNAP_FLASH_DIST = 0x0200,    /* TEST10 root distance beyond maxdist */
    SNAP_FLASH_LOOP = 0x0400,    /* TEST11 synchronisation loop */
    SNAP_FLASH_RATE = 0x0800,    /* KoD RATE received */
};

/* One association. */
struct snap_assoc {
    uint32_t id;                                 /* association id (>= 1) */
    struct ntk_addr addr;                        /* the server (with port) */
    char name[256];                              /* as configured ("" for an address) */
    bool from_pool;                              /* spawned by a pool line */
    bool prefer, noselect, true_, iburst, burst; /* configuration flags */
    uint32_t key_id;                             /* 0 if unauthenticated */
    bool authenticated;                          /* the last reply had a MAC that verified */
    char tally;                                  /* enum snap_tally */
    uint8_t reach;             /* reachability register, newest poll in bit 0 */
    uint32_t flash;            /* enum snap_flash bits of the last packet */
    int8_t hpoll_log2;         /* our poll interval */
    int8_t ppoll_log2;         /* the server's poll field */
    int64_t last_rx_mono_ns;   /* when the last valid reply came (0: never) */
    int64_t next_poll_mono_ns; /* when the next request goes out */
    enum ntk_leap leap;        /* from the last valid reply */
    uint8_t stratum;           /* (16 before any reply) */
    int8_t precision_log2;
    uint32_t refid; /* wire bytes, big-endian */
    ntk_ts reftime;
    double root_delay_s, root_disp_s;
    double offset_s, delay_s, disp_s, jitter_s; /* the clock filter's output */
    double root_dist_s;      /* synchronisation distance to the root through it */
    char kiss[5];            /* the last kiss code received ("" if none) */
    uint64_t sent, received; /* requests sent, replies accepted */
    uint64_t bogus, dropped; /* datagrams that were not our reply / replies refused */
};

/* The system (ntpq's "rv 0"). */
struct snap_system {
    enum ntk_leap leap; /* NTK_LEAP_UNSYNC until synchronised */
    uint8_t stratum;    /* 16 until synchronised */
    int8_t precision_log2;
    double root_delay_s, root_disp_s;
    uint32_t refid;
    ntk_ts reftime;        /* when the clock was last updated */
    uint32_t sys_peer;     /* association id of the system peer, 0 if none */
    int8_t poll_log2;      /* the system poll */
    double offset_s;       /* last combined offset */
    double sys_jitter_s;   /* combined jitter */
    double clk_jitter_s;   /* the discipline's jitter */
    double freq_ppm;       /* frequency correction in force */
    double clk_wander_ppm; /* frequency wander */
    bool observe;          /* --observe: the clock is never adjusted */
    uint64_t steps;        /* clock steps made */
    uint64_t updates;      /* clock updates (accepted combined offsets) */
};

/* Counters (NTPsec's sysstats names where they exist). Never reset. */
struct snap_counters {
    uint64_t received;            /* datagrams handed to eng_on_packet */
    uint64_t rx_kernel_ts;        /* of which with a kernel receive timestamp */
    uint64_t unknown_source;      /* from an address with no association */
    uint64_t bad_length;          /* too short / not a timestamp packet */
    uint64_t by_rx[ENG_RX_KINDS]; /* datagrams from servers by outcome: accepted, ignored
                                     (not our reply), refused, kod, header, dist, loop (the
                                     order of enum assoc_rx) */
    uint64_t kod_rate, kod_deny, kod_other; /* kiss-o'-death packets by code */
    uint64_t actions_dropped;               /* EVENTs lost to a full action queue */
    /* T1, the request's transmit time (eng_on_sent): */
    uint64_t tx_kernel_ts;  /* kernel transmit timestamps taken as T1 */
    uint64_t tx_ts_ignored; /* kernel transmit timestamps refused: no such association, not
                               its outstanding request, before it was built or too late */
    uint64_t t1_kernel;     /* replies to our request (ENG_EV_RAW) measured from the
                               kernel's transmit time */
    uint64_t t1_user;       /* ... measured from the time the request was built */
};

/* Fills *sys and *ctr (each may be NULL) and up to cap associations (assocs may be NULL
 * when cap is 0) as of now (dispersions age); returns how many associations there are. */
size_t eng_snap(const struct eng *e, int64_t now_mono_ns, struct snap_system *sys,
                struct snap_counters *ctr, struct snap_assoc *assocs, size_t cap);

#endif /* NTK_SNAP_H */
