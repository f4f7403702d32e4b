/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's statistics files in NTPsec 1.2's formats (ntpd/ntp_util.c record_*_stats), so that
 * NTPsec's ntpviz and scripts read ours: pure line formatters from plain structs, filegen
 * naming (ntpd/ntp_filegen.c filegen_open) and an appender that opens and rotates the files.
 *
 * Every line starts with the UTC day as a Modified Julian Day and the seconds past midnight
 * with milliseconds, truncated ("%lu %lu.%03lu", NTPsec timespec_to_MJDtime). Values are in
 * seconds unless the field says ppm; timestamps in rawstats are NTP seconds with 9 decimals,
 * rounded as NTPsec's ulfptoa(ts, 9) does.
 */
#ifndef NTK_STATS_H
#define NTK_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "ntk/addr.h"
#include "ntk/ntime.h"
#include "ntk/sb.h"

/* MJD of 1970-01-01, the Unix epoch. */
#define STATS_MJD_1970 40587

/* Room for a generation file name: base path plus the longest suffix (".a" + 20 digits). */
#define STATS_PATH_MAX 4096

/* Room for any line the formatters produce when labels are at most 255 bytes: free text
 * (clockstats timecode, protostats message and extra) is cut to 256 bytes a field. */
#define STATS_LINE_MAX 1024

/* Who a peer or clock line is about: a reference clock's "NAME(unit)" label when label is
 * non-NULL (NTPsec's refclock_name), else the address without its port (NTPsec socktoa). */
struct stats_source {
    const char *label;    /* NUL-terminated, borrowed; NULL for a network peer */
    struct ntk_addr addr; /* used when label is NULL */
};

/* One peerstats line: NTPsec record_peer_stats. */
struct stats_peer {
    struct timespec now; /* CLOCK_REALTIME of the update */
    struct stats_source src;
    unsigned status; /* peer status word (RFC 5905 mode-6 format), printed "%x" */
    double offset_s; /* clock offset */
    double delay_s;  /* round-trip delay */
    double disp_s;   /* dispersion */
    double jitter_s; /* RMS jitter */
};

/* One loopstats line: NTPsec record_loop_stats. */
struct stats_loop {
    struct timespec now; /* CLOCK_REALTIME of the clock update */
    double offset_s;     /* clock offset */
    double freq_ppm;     /* frequency correction */
    double jitter_s;     /* RMS offset jitter */
    double wander_ppm;   /* RMS frequency jitter (wander) */
    int poll_log2;       /* discipline time constant */
};

/* One clockstats line: NTPsec record_clock_stats. */
struct stats_clock {
    struct timespec now;     /* CLOCK_REALTIME */
    struct stats_source src; /* the reference clock */
    const char *text;        /* last timecode, NUL-terminated; control bytes become '?' */
};

/* One rawstats line: NTPsec 1.2.2 record_raw_stats (19 fields after the time). */
struct stats_raw {
    struct timespec now;     /* CLOCK_REALTIME */
    struct stats_source src; /* the peer */
    struct ntk_addr dst;     /* local address it was received on; NTK_ADDR_NONE prints "-" */
    ntk_ts t1, t2, t3, t4;   /* origin, receive, transmit, destination timestamps */
    int leap, version, mode, stratum, poll_log2, precision_log2; /* from the packet */
    double root_delay_s;                                         /* printed %.6f */
    double root_disp_s;                                          /* printed %.6f */
    uint32_t refid;   /* printed as NTPsec refid_str: a dotted quad above stratum 1,
                       * else ".TEXT." */
    unsigned lost;    /* our requests before this reply's that had no answer */
    unsigned dropped; /* replies since our last request that did not answer it */
    unsigned flash;   /* 0: accepted; else NTPsec's BOGON bits saying why not (hex) */
};

/* One sysstats line: NTPsec 1.2.2 record_sys_stats (counters since the last line). */
struct stats_sys {
    struct timespec now;                       /* CLOCK_REALTIME */
    uint32_t since_reset_s;                    /* seconds since the counters were reset */
    uint64_t received, processed;              /* packets received / for this host */
    uint64_t newversion, oldversion;           /* current version / older versions */
    uint64_t restricted, badlength, badauth;   /* access denied / bad format / bad auth */
    uint64_t declined, limitrejected, kodsent; /* declined / rate exceeded / KoD sent */
    uint64_t ver1;                             /* NTPv1 packets received (NTPsec 1.2.2) */
    uint64_t ver1client, ver1zero, ver1symm;   /* of which mode 3 / 0 / 1 (mode 6 only) */
};

/* One protostats line: NTPsec report_event through record_proto_stats. */
struct stats_proto {
    struct timespec now;     /* CLOCK_REALTIME */
    struct stats_source src; /* the peer; the system's events use address 0.0.0.0 */
    unsigned status;         /* status word, printed "%04x" */
    unsigned event;          /* event code, printed "%02x" */
    const char *message;     /* event text (NTPsec eventstr), NUL-terminated */
    const char *extra;       /* optional further text or NULL; control bytes become '?' */
};

/* One usestats line: NTPsec 1.2.2 record_use_stats, ntpd's getrusage since the last line
 * (maxrss: the high-water mark since the start, KiB). */
struct stats_use {
    struct timespec now;   /* CLOCK_REALTIME */
    uint32_t since_s;      /* seconds the line covers */
    double utime_s;        /* user CPU, printed %.3f */
    double stime_s;        /* system CPU, printed %.3f */
    long minflt, majflt;   /* page faults without / with I/O */
    long nswap;            /* swaps */
    long inblock, oublock; /* file system blocks in / out */
    long nvcsw, nivcsw;    /* context switches: waiting / preempted */
    long nsignals;         /* signals */
    long maxrss_kib;       /* resident set high-water mark */
};

/* Splits a CLOCK_REALTIME time (tv_sec >= 0) into MJD and seconds past midnight. */
void stats_mjd(const struct timespec *now, uint32_t *mjd, uint32_t *sec, uint32_t *msec);

/* Appends "MJD SSSSS.mmm" (NTPsec timespec_to_MJDtime). */
void stats_fmt_time(const struct timespec *now, struct ntk_sb *sb);

/* Appends an NTP timestamp as NTPsec's ulfptoa(ts, 9): unsigned seconds, '.', 9 digits,
 * rounded half up ("3867818701.119346355"). */
void stats_fmt_ts(ntk_ts ts, struct ntk_sb *sb);

/* The line formatters: each appends one line with its trailing '\n' and returns 0, or
 * NTK_ENOSPC if sb overflowed (use STATS_LINE_MAX). */
int stats_fmt_peer(const struct stats_peer *r, struct ntk_sb *sb);
int stats_fmt_loop(const struct stats_loop *r, struct ntk_sb *sb);
int stats_fmt_clock(const struct stats_clock *r, struct ntk_sb *sb);
int stats_fmt_raw(const struct stats_raw *r, struct ntk_sb *sb);
int stats_fmt_sys(const struct stats_sys *r, struct ntk_sb *sb);
int stats_fmt_proto(const struct stats_proto *r, struct ntk_sb *sb);
int stats_fmt_use(const struct stats_use *r, struct ntk_sb *sb);

/* filegen types (ntp.conf "filegen NAME type T"). */
enum stats_gen_type {
    STATS_GEN_NONE = 0,  /* one plain file, no suffix */
    STATS_GEN_PID = 1,   /* ".#<pid>": one file per ntpd run */
    STATS_GEN_DAY = 2,   /* ".YYYYMMDD" (UTC) */
    STATS_GEN_WEEK = 3,  /* ".YYYYwWW", WW = day of year / 7 (00..52) */
    STATS_GEN_MONTH = 4, /* ".YYYYMM" */
    STATS_GEN_YEAR = 5,  /* ".YYYY" */
    STATS_GEN_AGE = 6,   /* ".a%08d" of the run time at the start of the current 24 h */
};

/* Parses a type word ("day", "week", ...). Returns 0 and writes *out, or NTK_EFORMAT. */
int stats_gen_type_parse(const char *word, enum stats_gen_type *out);

/* What decides the current generation: the wall clock, ntpd's run time and its pid. */
struct stats_gen_clock {
    int64_t unix_s; /* CLOCK_REALTIME seconds */
    int64_t up_s;   /* seconds since ntpd started (NTPsec current_time), for AGE */
    long pid;       /* ntpd's pid, for PID */
};

/* Appends the generation file name for base (statsdir + file name, e.g.
 * "/var/log/ntpstats/loopstats") at time c: base itself for NONE, else base + suffix
 * ("/var/log/ntpstats/loopstats.20261126"). When NTPsec's "link" flag is set, the name of
 * the link to the current generation is base itself. Returns 0 or NTK_ENOSPC.
 * NTPsec 1.2 names weeks by tm_yday % 7, which repeats every week; we number them as its
 * documentation describes (day of year / 7), so files never mix weeks. */
int stats_gen_name(const char *base, enum stats_gen_type type, const struct stats_gen_clock *c,
                   struct ntk_sb *sb);

/* A generation file set, opened and rotated by stats_gen_append. Zero-initialise with
 * stats_gen_init; plain data apart from the descriptor. */
struct stats_gen {
    char base[STATS_PATH_MAX];    /* statsdir + file name */
    enum stats_gen_type type;     /* how the set rotates */
    bool link;                    /* keep a hard link "base" to the current element */
    bool enabled;                 /* "enable"; a disabled set writes nothing */
    int fd;                       /* current element, or -1 */
    char current[STATS_PATH_MAX]; /* its name ("" when none is open) */
    bool torn;                    /* its last line is incomplete (a write failed part way) */
};

/* Sets up a closed set. Returns 0, or NTK_EFORMAT when base is empty, too long or holds a
 * ".." path element (NTPsec valid_fileref). */
int stats_gen_init(struct stats_gen *g, const char *base, enum stats_gen_type type, bool link,
                   bool enabled);

/* Appends len bytes (one or more whole lines) to the current element, first switching to a
 * new one if the name for time c differs from the open one: O_RDWR | O_APPEND | O_CREAT,
 * mode 0644, and with link the hard link base -> element (an existing base with one link is
 * kept as "base.<pid>C<n>", as NTPsec does). Returns 0 (also when disabled), or the errno of
 * the failing open/write with "name: reason" appended to err (may be NULL). A failed open
 * keeps writing to the previous element, as NTPsec does (the error is still put in err).
 * A torn last line (an element found not ending in a newline, as a crash or a full disk
 * leaves it, or a write of ours that failed part way) is ended with a newline before the
 * next line, so it stays one damaged line and never merges with a good one. */
int stats_gen_append(struct stats_gen *g, const struct stats_gen_clock *c, const char *line,
                     size_t len, struct ntk_sb *err);

/* Closes the current element (SIGHUP reopen, shutdown). */
void stats_gen_close(struct stats_gen *g);

#endif /* NTK_STATS_H */
