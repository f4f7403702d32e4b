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
    SNAP_TALLY_PPSPEER = 'o',   /* the PPS peer (a PPS refclock chosen by NTPsec's rule) */
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

/* NTPsec's system event codes (include/ntp_control.h EVNT_*; RFC 9327 §2.2.1 event codes):
 * the last one and its repeat count make the low byte of the system status word. */
enum snap_sys_event {
    SNAP_EVNT_UNSPEC = 0,      /* unspecified (no event yet) */
    SNAP_EVNT_FNOTSET = 1,     /* freq_not_set: no drift file to start from */
    SNAP_EVNT_FSET = 2,        /* freq_set: frequency from the drift file */
    SNAP_EVNT_SYNC = 5,        /* clock_sync: first synchronisation (again after a loss) */
    SNAP_EVNT_RESTART = 6,     /* restart: the engine started */
    SNAP_EVNT_SYSFAULT = 7,    /* panic_stop: offset beyond the panic threshold */
    SNAP_EVNT_NOPEER = 8,      /* no_sys_peer: synchronisation lost */
    SNAP_EVNT_ARMED = 9,       /* leap_armed: a leap second is scheduled (from the file) */
    SNAP_EVNT_DISARMED = 10,   /* leap_disarmed: the scheduled leap second went away */
    SNAP_EVNT_LEAP = 11,       /* leap_event: the leap second has passed */
    SNAP_EVNT_CLOCKRESET = 12, /* clock_step */
    SNAP_EVNT_KERN = 13,       /* kern: a clock call failed */
    SNAP_EVNT_TAI = 14,        /* TAI: a leap-seconds file was loaded */
};

/* NTPsec's peer event codes (PEVNT_* without the 0x80 PEER_EVENT bit; RFC 9327 §2.2.2). */
enum snap_peer_event {
    SNAP_PEVNT_MOBIL = 1,    /* mobilize: the association was created */
    SNAP_PEVNT_DEMOBIL = 2,  /* demobilize: a pool member was dropped */
    SNAP_PEVNT_UNREACH = 3,  /* unreachable */
    SNAP_PEVNT_REACH = 4,    /* reachable */
    SNAP_PEVNT_RESTART = 5,  /* restart: NTPsec's "timeout" before a demobilize */
    SNAP_PEVNT_RATE = 7,     /* rate_exceeded: KoD RATE */
    SNAP_PEVNT_DENY = 8,     /* access_denied: KoD DENY / RSTR */
    SNAP_PEVNT_ARMED = 9,    /* leap_armed: the servers voted a leap second (system peer) */
    SNAP_PEVNT_NEWPEER = 10, /* sys_peer: became the system peer */
    SNAP_PEVNT_CLOCK = 11,   /* clock_event: a refclock's status changed */
    SNAP_PEVNT_AUTH = 12,    /* bad_auth: a reply to us failed authentication (NTS) */
};

/* The peer poll of a network association, as NTPsec 1.2.2 reports it (NTP_MAXPOLL_UNK):
 * a server's reply only echoes our request's poll field, which data minimisation leaves at
 * 0, so there is nothing to report; ntpq's and ntpmon's poll column, 2^min(ppoll, hpoll),
 * then shows our own poll, as with NTPsec. */
#define SNAP_PPOLL_UNKNOWN 99

/* NTPsec report_event's history behind a status word: the same event again counts up to
 * SNAP_EVENTS_MAX (then is not counted), another event starts a new count at 1. */
struct snap_events {
    uint8_t last;  /* last event code (enum snap_sys_event / snap_peer_event); 0: none */
    uint8_t count; /* reports of `last` in a row, 0..SNAP_EVENTS_MAX (0: none yet) */
};

/* NTPsec's CTL_SYS_MAXEVENTS / CTL_PEER_MAXEVENTS. */
#define SNAP_EVENTS_MAX 15

/* Records one report of event code in h (the rule above). */
void snap_events_note(struct snap_events *h, uint8_t code);

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
    uint8_t reach;           /* reachability register, newest poll in bit 0 */
    uint32_t flash;          /* enum snap_flash bits of the last packet */
    int8_t hpoll_log2;       /* our poll interval */
    int8_t ppoll_log2;       /* the peer's poll: SNAP_PPOLL_UNKNOWN, or a refclock's maxpoll */
    int64_t last_rx_mono_ns; /* when the last valid reply came (0: never) */
    int64_t next_poll_mono_ns; /* when the next request goes out */
    enum ntk_leap leap;        /* from the last valid reply */
    uint8_t stratum;           /* (16 before any reply) */
    int8_t precision_log2;
    uint32_t refid; /* wire bytes, big-endian */
    ntk_ts reftime;
    double root_delay_s, root_disp_s;
    double offset_s, delay_s, disp_s, jitter_s; /* the clock filter's output */
    double root_dist_s;        /* synchronisation distance to the root through it */
    char kiss[5];              /* the last kiss code received ("" if none) */
    uint64_t sent, received;   /* requests sent, replies accepted */
    uint64_t bogus, dropped;   /* datagrams that were not our reply / replies refused */
    struct snap_events events; /* peer events (status word, NTPsec's rules) */
    unsigned unreach;          /* polls since the last reply (NTPsec's `unreach`) */
    ntk_ts rec;                /* our receive time (T4) of the last reply (0: none) */
    ntk_ts xmt;                /* our transmit time (T1) of the last request (0: none);
                                  never the random transmit field on the wire */
    uint8_t nfilt;             /* clock filter stages filled, 0..8 */
    double filt_delay_s[8];    /* the filter stages, newest first: delay, */
    double filt_offset_s[8];   /* offset */
    double filt_disp_s[8];     /* and dispersion when taken (empty stages: 0, 0, 16 s) */
    /* A pool line itself, as NTPsec lists it (its "prototype"): name is the pool's, no
       address, refid POOL, stratum 16, never polled; hpoll the pool's lookup interval. */
    bool pool_line;
    /* NTS (ntsc.h) */
    bool nts;                    /* `nts` on the server line */
    int ntscookies;              /* cookies in the jar; -1 when not NTS (NTPsec's variable) */
    bool nts_keyed;              /* keys from NTS-KE held */
    uint16_t nts_aead;           /* their AEAD (0: none) */
    struct ntk_addr nts_ke_addr; /* the NTS-KE server */
    unsigned nts_ke_failures;    /* failed NTS-KE attempts in a row */
    int64_t nts_ke_mono_ns;      /* when the last successful NTS-KE ended (0: never) */
    int nts_last;                /* enum ntk_nts_verdict on the last reply checked */
    /* Reference clocks (engine.h "refclocks"): addr is 127.127.TYPE.UNIT port 123, name
       "NAME(UNIT)" (mode 6 srchost), stratum / refid the configured ones once a sample
       came; sent stays 0. The rest is cv's (READCLOCK). */
    bool refclock;           /* this association is a refclock; the fields below valid */
    uint8_t rc_type;         /* enum eng_rc_type */
    uint8_t rc_unit;         /* `unit` */
    char rc_name[8];         /* the driver's name: "SHM", "PPS", "SOCK" (cv `name`) */
    char rc_device[64];      /* cv `device` */
    char rc_timecode[64];    /* the last sample's raw text (cv `timecode`) */
    uint64_t rc_polls;       /* cv `poll` */
    uint64_t rc_noreply;     /* poll intervals without a sample (cv `noreply`) */
    uint64_t rc_badformat;   /* cv `badformat` */
    uint64_t rc_baddata;     /* cv `baddata` */
    uint64_t rc_samples;     /* samples taken into the median filter */
    uint64_t rc_refused;     /* samples refused: beyond the panic threshold */
    uint64_t rc_refused_pps; /* PPS edges refused: no second to number them */
    uint64_t rc_overwritten; /* samples lost to a full median filter */
    double rc_time1_s;       /* `time1` (cv `fudgetime1`, shown in ms) */
    double rc_time2_s;       /* `time2` (cv `fudgetime2`) */
    uint8_t rc_stratum;      /* configured `stratum` (cv `stratum`) */
    uint32_t rc_refid;       /* configured refid (cv `refid`), wire bytes */
    uint8_t rc_flags;        /* flag1..flag4 as bits 0..3 (cv `flags`) */
    uint8_t rc_status;       /* enum ntk_ctl_clk: current clock status (clock status word) */
    uint8_t rc_lastevent;    /* enum ntk_ctl_clk: the last clock event */
};

/* The system (ntpq's "rv 0"). */
struct snap_system {
    enum ntk_leap leap;    /* NTK_LEAP_UNSYNC until synchronised */
    bool leap_in_progress; /* the last 2 s before a leap (and the inserted second): replies
                              say leap 3, as NTPsec's leap_sec_in_progress; mode 6 `leap`
                              still shows `leap` */
    uint8_t stratum;       /* 16 until synchronised */
    int8_t precision_log2;
    double root_delay_s, root_disp_s;
    uint32_t refid;
    ntk_ts reftime;            /* when the clock was last updated */
    uint32_t sys_peer;         /* association id of the system peer, 0 if none */
    int8_t poll_log2;          /* the system poll */
    double offset_s;           /* last combined offset */
    double sys_jitter_s;       /* combined jitter */
    double clk_jitter_s;       /* the discipline's jitter */
    double freq_ppm;           /* frequency correction in force */
    double clk_wander_ppm;     /* frequency wander */
    bool observe;              /* --observe: the clock is never adjusted */
    uint64_t steps;            /* clock steps made */
    uint64_t updates;          /* clock updates (accepted combined offsets) */
    struct snap_events events; /* system events (status word, NTPsec's rules) */
};

/* Counters (NTPsec's sysstats names where they exist). Never reset. */
struct snap_counters {
    uint64_t received;            /* datagrams handed to eng_on_packet */
    uint64_t by_version[8];       /* of which with this NTP version (the first byte's bits
                                     3-5; sysstats' ss_thisver and ss_oldver count them as
                                     NTPsec's receive() does) */
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
    /* NTS client, every association (NTPsec's ntsinfo names): */
    uint64_t nts_client_send;      /* NTS requests sent */
    uint64_t nts_client_recv_good; /* authenticated replies */
    uint64_t nts_client_recv_bad;  /* replies to us that NTS refused (NAKs included) */
    uint64_t nts_client_naks;      /* NAKs (KoD NTSN with our UID) */
    uint64_t nts_ke_probes_good;   /* NTS-KE exchanges that gave keys */
    uint64_t nts_ke_probes_bad;    /* NTS-KE exchanges that failed */
};

/* Fills *sys and *ctr (each may be NULL) and up to cap associations (assocs may be NULL
 * when cap is 0) as of now (dispersions age), in id order, the pool lines among them
 * (pool_line); returns how many there are (at most ENG_SNAP_MAX). */
size_t eng_snap(const struct eng *e, int64_t now_mono_ns, struct snap_system *sys,
                struct snap_counters *ctr, struct snap_assoc *assocs, size_t cap);

#endif /* NTK_SNAP_H */
