/* SPDX-License-Identifier: BSD-2-Clause */
/* One daemon's state read over mode 6 (RFC 9327), in base units, for the tools that watch a
 * daemon rather than ask it one question: ntpkit_exporter (Prometheus, /json) and ntpmon.
 * It works against ntpkit's ntpd and NTPsec's alike: only NTPsec's variable names are used.
 *
 * Two layers:
 *   - parsing (pure, no I/O; fuzzed): m6_parse_sys, m6_parse_peer, m6_parse_counters,
 *     m6_parse_clock, m6_parse_assocs turn the data of READVAR / READSTAT responses into the
 * structs below, converting units on the way (ms -> s, ppm -> ratio, log2 s -> s, NTP
 * timestamps -> Unix seconds, octal/hex reach -> a byte) through lib/ctlvars;
 *   - fetching (UDP through cli/common/cli_udp.h and the sans-IO session ntk_ctlc):
 *     m6_fetch runs READSTAT (associations), READVAR 0 (system), READVAR per association,
 *     and READVAR 0 with the counter names (sysstats, iostats, ntsinfo, monstats, authinfo
 *     variables), then READCLOCK per refclock association (unless no_counters), all
 *     unsigned, within one overall deadline. It never asks for the MRU
 *     list (ntpmon(1): the daemon can fill it faster than mode 6 can ship it).
 * What the daemon does not send stays "absent" (the has_* flags, NAN for doubles): NTPsec
 * 1.2.2 has no nts_* counters unless built with NTS; only refclocks have clock variables.
 */
#ifndef NTK_M6SNAP_H
#define NTK_M6SNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli_udp.h"

#define M6_PEERS_MAX 128 /* associations kept (more are counted in n_dropped) */

/* Selection state of an association, from its status word (RFC 9327 §2.2.2, bits 8-10),
 * as ntpq's tally characters. */
enum m6_sel {
    M6_SEL_REJECT = 0, /* ' ' */
    M6_SEL_FALSETICK,  /* 'x' */
    M6_SEL_EXCESS,     /* '.' */
    M6_SEL_OUTLIER,    /* '-' */
    M6_SEL_CANDIDATE,  /* '+' */
    M6_SEL_BACKUP,     /* '#' */
    M6_SEL_SYSPEER,    /* '*' */
    M6_SEL_PPSPEER,    /* 'o' */
    M6_SEL_COUNT,
};

/* A stable lowercase name of s ("reject", "falseticker", "excess", "outlier", "candidate",
 * "backup", "system_peer", "pps") and its tally character. */
const char *m6_sel_name(enum m6_sel s);
char m6_sel_tally(enum m6_sel s);

/* The system variables (READVAR 0). Doubles are NAN when absent. */
struct m6_sys {
    int leap;                  /* 0-3 (3: unsynchronised); -1 absent */
    int stratum;               /* 0-16; -1 absent */
    int precision_log2;        /* log2 s */
    double root_delay_s;       /* rootdelay (ms on the wire) */
    double root_disp_s;        /* rootdisp */
    double root_dist_s;        /* rootdist when sent, else delay / 2 + dispersion */
    char refid[48];            /* refid as sent (dotted quad or code), unquoted, printable */
    double reftime_unix_s;     /* reftime as Unix seconds (0: never set) */
    uint16_t sys_peer;         /* peer: association id of the system peer (0: none) */
    double poll_s;             /* 2^tc */
    double offset_s;           /* offset: reference minus local (RFC 5905) */
    double freq_ratio;         /* frequency, ppm * 1e-6 */
    double sys_jitter_s;       /* sys_jitter */
    double clk_jitter_s;       /* clk_jitter */
    double clk_wander_ratio;   /* clk_wander, ppm * 1e-6 */
    int tai_s;                 /* tai (TAI - UTC); -1 absent */
    double leapsec_unix_s;     /* leapsec: the last leap second in the file (NAN absent) */
    double leap_expire_unix_s; /* expire: when the leap file expires (NAN absent) */
    char version[128];         /* version string, unquoted */
    uint16_t status;           /* the system status word of the response */
};

/* One association (READVAR assoc). */
struct m6_peer {
    uint16_t associd;
    uint16_t status; /* the peer status word (READSTAT) */
    enum m6_sel sel; /* from status */
    char srcadr[64]; /* address as sent ("" for a refclock shown by name) */
    char dstadr[64]; /* the local address the daemon polls it from ("" absent) */
    uint16_t srcport;
    char srchost[256]; /* srchost (configured name) unquoted, "" absent */
    char kind[12];     /* "server", "pool", "peer", "refclock" (from hmode/srcadr) */
    char refid[48];
    int hmode;   /* 3 client, 1/2 symmetric, ...; -1 absent */
    int stratum; /* -1 absent */
    int leap;    /* -1 absent */
    int hpoll_log2, ppoll_log2;
    uint8_t reach;                              /* reachability register */
    bool reach_ok;                              /* reach was sent */
    double offset_s, delay_s, disp_s, jitter_s; /* NAN absent */
    double root_delay_s, root_disp_s;           /* NAN absent */
    double rec_unix_s; /* rec: last response received, Unix seconds (0: never) */
    int ntscookies;    /* -1: not NTS (or absent) */
    bool authentic;    /* authentic = 1 (a MAC or NTS verified) */
    uint32_t keyid;
    uint32_t flash; /* flash bits (NTPsec BOGON numbering) */
    char kiss[8];   /* refid when stratum is 0 (a kiss code), "" otherwise */
    /* The clock variables (READCLOCK, NTPsec's names), asked only of kind "refclock"; a
     * READCLOCK that fails leaves them absent. Counters are since the daemon started. */
    char rc_name[16];      /* name: the driver ("SHM", "SOCK"), printable; "" absent */
    char rc_device[64];    /* device: the driver's description, printable; "" absent */
    uint64_t rc_polls;     /* poll: polls of the driver; UINT64_MAX absent */
    uint64_t rc_noreply;   /* noreply: polls that found no sample; UINT64_MAX absent */
    uint64_t rc_badformat; /* badformat: samples that did not parse; UINT64_MAX absent */
    uint64_t rc_baddata;   /* baddata: samples parsed but rejected; UINT64_MAX absent */
};

/* The counters NTPsec's ntpq prints with sysstats, iostats, ntsinfo, monstats, authinfo.
 * All are since-start values: ss_X_r for the ss_ family, the plain nts_ names (NTPsec's
 * conventions are opposite in the two families; ctlv.c explains). UINT64_MAX: absent. */
struct m6_counters {
    uint64_t ss_uptime, ss_received, ss_thisver, ss_oldver, ss_badformat, ss_badauth,
        ss_declined, ss_restricted, ss_limited, ss_kodsent, ss_processed, ss_numctlreq;
    uint64_t io_received, io_sent, io_sendfailed, io_dropped, io_ignored;
    uint64_t nts_client_send, nts_client_recv_good, nts_client_recv_bad;
    uint64_t nts_server_send, nts_server_recv_good, nts_server_recv_bad;
    uint64_t nts_cookie_make, nts_cookie_decode_current, nts_cookie_decode_old,
        nts_cookie_decode_old2, nts_cookie_decode_older, nts_cookie_decode_too_old,
        nts_cookie_decode_error;
    uint64_t nts_ke_serves_good, nts_ke_serves_bad, nts_ke_serves_nossl;
    uint64_t nts_ke_probes_good, nts_ke_probes_bad;
    uint64_t mru_entries, mru_maxdepth, mru_mem, mru_maxmem; /* mru_depth ... monstats */
    uint64_t auth_decrypts, auth_encrypts, auth_fails, auth_keys;
};

/* The whole snapshot. */
struct m6_snap {
    bool up;               /* the daemon answered READVAR 0 */
    char error[160];       /* why not (timeout, refused with the error code), "" if up */
    char peers_error[112]; /* up, but the sources are not all there: the association list
                              could not be read (READSTAT failed: peers[] is empty), or some
                              associations' variables were not (they are left out and
                              counted in n_dropped): why; "" when every one was read */
    struct m6_sys sys;
    struct m6_peer peers[M6_PEERS_MAX];
    size_t n_peers;
    size_t n_dropped; /* associations beyond M6_PEERS_MAX, or whose READVAR failed */
    struct m6_counters ctr;
    double fetch_s;      /* wall time the fetch took */
    double taken_unix_s; /* when it was taken (CLOCK_REALTIME) */
};

/* Fills *s with "absent" everywhere (NAN, -1, UINT64_MAX, "") and up false. */
void m6_snap_init(struct m6_snap *s);

/* Parsing: data[0..len) is one response's data (as ntk_ctlc_data gives it). A malformed
 * item is skipped and the others kept (NTPsec's ntpq does the same; NTPsec 1.2.2 sends
 * stray bytes in some variables, see ntk_cvar_resync). Each returns 0, or a negative enum
 * ntk_err when not one item could be read from text that has some. Unknown variables are
 * ignored; known ones with a bad value are left absent. */
int m6_parse_sys(const char *data, size_t len, struct m6_sys *out);
int m6_parse_peer(const char *data, size_t len, struct m6_peer *out);
int m6_parse_counters(const char *data, size_t len, struct m6_counters *out);
/* READCLOCK data (ctlv.c ctlv_clock, NTPsec ntpq cv): fills only out's rc_* fields. */
int m6_parse_clock(const char *data, size_t len, struct m6_peer *out);

/* READSTAT data: pairs of big-endian 16-bit (association id, status). Fills peers[0..] with
 * associd, status and sel (others absent), up to cap; returns how many pairs the data held
 * (may exceed cap) or NTK_EFORMAT for an odd length. */
int m6_parse_assocs(const uint8_t *data, size_t len, struct m6_peer *peers, size_t cap);

/* The READVAR 0 request data that asks for every counter of struct m6_counters by name
 * (NTPsec answers only the names it knows). Returns a static string. */
const char *m6_counter_names(void);

/* Where the daemon is. */
struct m6_target {
    struct cli_target addr; /* resolved address and port (cli_resolve) */
    int timeout_ms;         /* the whole fetch (all requests) must finish within this */
    bool no_counters;       /* skip the counter and READCLOCK requests (ntpmon shows none
                               of them) */
};

/* Fetches a snapshot (the requests above on one socket: READVAR 0 and READSTAT first, then
 * the associations and counters a few at a time, then the refclocks' READCLOCK). Always
 * writes *out; returns 0 when the daemon answered READVAR 0 (out->up), else -1 with
 * out->error set. An association whose READVAR fails is counted in n_dropped and left out;
 * one whose READCLOCK fails is kept with its rc_* fields absent. */
int m6_fetch(const struct m6_target *t, struct m6_snap *out);

#endif /* NTK_M6SNAP_H */
