/* SPDX-License-Identifier: BSD-2-Clause */
/* The variables ntpd reports over mode 6 (READVAR of the system and of associations), with
 * NTPsec's names, units, formats and default lists (features.md §2.5), written from one
 * consistent snapshot of the daemon (struct ctlv_src). Sans-IO: the shell fills the
 * snapshot (daemon/io), the responder (ctlsrv.c) calls these to build a response's data.
 * Units are converted only through lib/ctlvars (ms, ppm, hex timestamps). */
#ifndef NTK_CTLV_H
#define NTK_CTLV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "mru.h"
#include "ntk/tok.h"
#include "ntk/ctlvars.h"
#include "ntk/leapfile.h"
#include "server.h"
#include "snap.h"

/* One user-defined system variable (`setvar name = value [default]`, -z, -Z). */
struct ctlv_setvar {
    const char *name;  /* NUL-terminated (borrowed) */
    const char *value; /* NUL-terminated, written as given (borrowed) */
    bool deflt;        /* listed by a bare `rv` */
};

/* The kernel's clock state for kerninfo (read by the shell with ntp_adjtime(modes 0); all
 * zero and valid false when it could not be read). */
struct ctlv_kernel {
    bool valid;
    double offset_s, freq_ppm, maxerror_s, esterror_s;   /* koffset kfreq kmaxerr kesterr */
    unsigned status;                                     /* kstflags */
    long constant;                                       /* ktimeconst */
    double precision_s, tolerance_ppm;                   /* kprecis kfreqtol */
    double pps_freq_ppm, pps_jitter_s, pps_stabil_ppm;   /* kppsfreq kppsjitter kppsstab */
    int pps_shift;                                       /* kppscalibdur (log2 s) */
    long pps_calcnt, pps_errcnt, pps_jitcnt, pps_stbcnt; /* kppscalibs kppscaliberrs
                                                            kppsjitexc kppsstbexc */
};

/* NTPsec's sysstats counters (ss_*), summed from the server's and the engine's counters by
 * ctlv_ss_sum the same way the sysstats file sums them (dstats_counts). */
struct ctlv_ss {
    uint64_t received;   /* ss_received: datagrams received (server and client side) */
    uint64_t processed;  /* ss_processed: answered, control, and replies to our requests */
    uint64_t thisver;    /* ss_thisver: answered NTPv4 requests and NTPv4 datagrams from
                            servers (replies to our requests), as NTPsec counts them */
    uint64_t oldver;     /* ss_oldver: the same of NTPv1-3 */
    uint64_t ver1;       /* ss_ver1: 48-byte NTPv1 datagrams (server.h), replies included */
    uint64_t ver1client; /* ss_ver1client: of those, requests in mode 3 */
    uint64_t ver1zero;   /* ss_ver1zero: mode 0 */
    uint64_t ver1symm;   /* ss_ver1symm: mode 1 */
    uint64_t badformat;  /* ss_badformat: malformed, and modes 1, 2, 5 and 7 */
    uint64_t badauth;    /* ss_badauth: unknown key, bad MAC, crypto-NAK */
    uint64_t declined;   /* ss_declined: not answerable, or from an unknown source */
    uint64_t restricted; /* ss_restricted: restrict ignore / flake / noserve / noquery /
                            version / notrust */
    uint64_t limited;    /* ss_limited: rate limited (KoD or drop) */
    uint64_t kodsent;    /* ss_kodsent: KoD RATE sent */
};

/* Sums the server's (st) and the engine's (ec) counters into *out (either may be NULL). */
void ctlv_ss_sum(const struct srv_stats *st, const struct snap_counters *ec,
                 struct ctlv_ss *out);

/* Counters the shell keeps (iostats, timerstats, control requests, auth). Never reset. */
struct ctlv_io {
    uint64_t received, sent, send_failed, dropped, ignored; /* io_* */
    uint64_t wakeups, good_wakeups, pkt_reads; /* io_wakeups io_goodwakeups io_pkt_reads */
    uint64_t timer_overruns, timer_xmts;       /* timer_* */
    uint64_t ctl_requests;                     /* ss_numctlreq */
    uint64_t auth_decrypts, auth_encrypts, auth_fails; /* authinfo (all algorithms) */
    uint64_t auth_keys;                                /* authkeys: trusted keys */
};

/* NTPsec's ntsinfo counters, in the order of its variable list; the _wall and _cpu ones are
 * seconds, the others counts. */
enum ctlv_nts_var {
    CTLV_NTS_CLIENT_SEND = 0,
    CTLV_NTS_CLIENT_RECV_GOOD,
    CTLV_NTS_CLIENT_RECV_BAD,
    CTLV_NTS_SERVER_SEND,
    CTLV_NTS_SERVER_RECV_GOOD,
    CTLV_NTS_SERVER_RECV_BAD,
    CTLV_NTS_COOKIE_MAKE,
    CTLV_NTS_COOKIE_NOT_SERVER,
    CTLV_NTS_COOKIE_DECODE_TOTAL,
    CTLV_NTS_COOKIE_DECODE_CURRENT,
    CTLV_NTS_COOKIE_DECODE, /* the old name of _current: the same value */
    CTLV_NTS_COOKIE_DECODE_OLD,
    CTLV_NTS_COOKIE_DECODE_OLD2,
    CTLV_NTS_COOKIE_DECODE_OLDER,
    CTLV_NTS_COOKIE_DECODE_TOO_OLD,
    CTLV_NTS_COOKIE_DECODE_ERROR,
    CTLV_NTS_KE_SERVES_GOOD,
    CTLV_NTS_KE_SERVES_GOOD_WALL,
    CTLV_NTS_KE_SERVES_GOOD_CPU,
    CTLV_NTS_KE_SERVES_NOSSL,
    CTLV_NTS_KE_SERVES_NOSSL_WALL,
    CTLV_NTS_KE_SERVES_NOSSL_CPU,
    CTLV_NTS_KE_SERVES_BAD,
    CTLV_NTS_KE_SERVES_BAD_WALL,
    CTLV_NTS_KE_SERVES_BAD_CPU,
    CTLV_NTS_KE_PROBES_GOOD,
    CTLV_NTS_KE_PROBES_BAD,
    CTLV_NTS_COUNT, /* number of values */
};

/* The ntsinfo values since start (the shell sums the engine's, the server's, the cookies'
 * and the NTS-KE server's counters). */
struct ctlv_nts {
    double v[CTLV_NTS_COUNT];
};

/* Everything the variables are read from. Borrowed pointers, valid during one call. */
struct ctlv_src {
    const struct snap_system *sys;     /* the engine's system variables */
    const struct snap_counters *ctr;   /* the engine's counters */
    const struct snap_assoc *assocs;   /* the associations */
    size_t nassocs;                    /* how many */
    const struct srv_stats *srv;       /* the server's counters (sysstats, with ctr) */
    struct ctlv_ss ss_reset;           /* ctlv_ss_sum as of reset_mono_ns (zero: no reset
                                          yet): ss_X = now - this, ss_X_r = now */
    const struct mru_stats *mru;       /* client list counters (monstats); NULL: disabled */
    const struct mru_cfg *mru_cfg;     /* its limits (mru_maxage...); NULL: defaults unknown,
                                          reported as 0 */
    size_t mru_entries, mru_capacity;  /* entries in use / most (monstats) */
    unsigned mru_enabled;              /* NTPsec's mon_enabled bits: 1 the client list is
                                          kept (enable monitor), 2 a restrict rule limits
                                          (it needs the list); 0 when disabled */
    const struct ntk_addr *local;      /* NULL, or per association (parallel to assocs) the
                                          local address and port it sends from (dstadr,
                                          dstport); NULL or NTK_ADDR_NONE: 0.0.0.0 and 0 */
    const struct ctlv_io *io;          /* the shell's counters */
    const struct ctlv_nts *nts;        /* ntsinfo since start (NULL: all 0); nts_X_r, "since
                                          the hourly roll" in NTPsec, reports the same (no
                                          NTS roll is kept) */
    const struct ctlv_kernel *kern;    /* kerninfo */
    const struct ntk_leap_table *leap; /* the leap file (tai leapsec expire); NULL: none */
    const struct ctlv_setvar *setvars; /* user-defined variables */
    size_t nsetvars;                   /* how many */
    const char *version;               /* "ntpd ntpkit-1.0.0 ..." */
    const char *processor, *system, *release; /* uname machine, sysname, release */
    struct timespec now;                      /* CLOCK_REALTIME (the `clock` variable) */
    int64_t now_mono_ns;                      /* monotonic now */
    int64_t start_mono_ns;                    /* when ntpd started (ss_uptime) */
    int64_t reset_mono_ns;                    /* the last hourly stats reset (ss_reset) */
};

/* Writes the system variables named in names[0..len) (a request's data: names separated
 * by commas, values ignored; empty or only whitespace: NTPsec's default list for a bare
 * `rv`) to w in the order asked (NTPsec 1.2.2 answers in its table order; ntpq does not
 * care). Every name is checked before anything is written. Returns 0; NTK_ENOTFOUND for a
 * name that is not a system variable, with that name in *bad (the responder then answers
 * CERR_UNKNOWNVAR, as NTPsec); the ntk_cvar_next error for a list that does not parse
 * (CERR_BADFMT); or the writer's error (ntk_cvar_wr_err: NTK_ENOSPC...). The variables,
 * units and formats are listed in ctlv.c. */
int ctlv_sys(const struct ctlv_src *s, const char *names, size_t len, struct ntk_cvar_wr *w,
             struct ntk_span *bad);

/* The same for association a's peer variables (`rv ASSOC`); a must point into s->assocs.
 * `org` is accepted and never written (CVE-2015-8139). */
int ctlv_peer(const struct ctlv_src *s, const struct snap_assoc *a, const char *names,
              size_t len, struct ntk_cvar_wr *w, struct ntk_span *bad);

/* The clock variables of refclock association a (READCLOCK, ntpq's `cv`; a->refclock must be
 * true and a point into s->assocs), NTPsec's names and formats: name device timecode
 * (quoted strings) poll noreply badformat baddata (counts) fudgetime1 fudgetime2 (ms, 3
 * decimals) stratum (integer) refid (text, or a dotted quad above stratum 1) flags (flag1..4
 * as bits 0..3, decimal) clock_var_list. A bare request gets device name timecode poll
 * noreply badformat baddata fudgetime1, fudgetime2 when not 0, stratum refid flags (NTPsec's
 * default list, in its order). Returns as ctlv_peer. */
int ctlv_clock(const struct ctlv_src *s, const struct snap_assoc *a, const char *names,
               size_t len, struct ntk_cvar_wr *w, struct ntk_span *bad);

/* Refclock a's clock status word (RFC 9327 §2.2.3: its status, its last event). */
uint16_t ctlv_clock_status(const struct snap_assoc *a);

/* The system status word (RFC 9327 §2.2.1) and association a's peer status word (§2.2.2), as
 * READSTAT / READVAR responses carry them. */
uint16_t ctlv_sys_status(const struct ctlv_src *s);
uint16_t ctlv_peer_status(const struct ctlv_src *s, const struct snap_assoc *a);

/* The same words with another event history (ev: the last event code, n: how many in a row),
 * as protostats and peerstats write them at the time of each event: sys_peer is the system
 * peer's association (NULL: unknown; its source then counts as NTP). */
uint16_t ctlv_sys_word(const struct snap_system *sys, const struct snap_assoc *sys_peer,
                       uint8_t n, uint8_t ev);
uint16_t ctlv_peer_word(const struct snap_assoc *a, uint8_t n, uint8_t ev);

/* NTPsec's BOGON bits (ntpq's flash, rawstats' last field) of a reply's enum snap_flash
 * bits: duplicate 0x1, bogus origin 0x2, unsynchronised or zero origin 0x4, denied or RATE
 * 0x8, authentication 0x10, stratum or leap 0x20, header 0x40, distance 0x400, loop 0x800. */
unsigned ctlv_bogon_bits(uint32_t snap_flash);

#endif /* NTK_CTLV_H */
