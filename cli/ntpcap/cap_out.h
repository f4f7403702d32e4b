/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpcap's outputs: the sink the analyzer core reports to, in one of four formats (the human
 * report, JSON Lines with schema "ntpkit.ntpcap/1", CSV per exchange, CSV per flow), the
 * closing summary and top talkers, and the --fail-on exit status. */
#ifndef NTK_CAP_OUT_H
#define NTK_CAP_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cap.h"
#include "cap_io.h"
#include "cap_opts.h"

/* The JSON schema name every JSON line carries. */
#define CAP_JSON_SCHEMA "ntpkit.ntpcap/1"

/* Exit statuses (ntpcap(1) EXIT STATUS). */
enum {
    CAP_EXIT_OK = 0,        /* success, no anomaly at or above --fail-on */
    CAP_EXIT_ERROR = 1,     /* file, interface or privilege error */
    CAP_EXIT_USAGE = 2,     /* bad command line */
    CAP_EXIT_ANOMALIES = 3, /* an anomaly at or above --fail-on was seen */
};

/* How to print. */
struct cap_out_cfg {
    FILE *f;          /* where (stdout in the program); not closed */
    enum cap_fmt fmt; /* the format */
    bool summary;     /* --summary: top talkers */
    bool quiet;       /* -q: report without exchange lines */
    int verbose;      /* -v: packet lines (report and JSON) */
    int fail_on;      /* enum cap_sev, or -1: never fail on anomalies */
};

struct cap_out;

/* A new output (NULL when out of memory). */
struct cap_out *cap_out_new(const struct cap_out_cfg *cfg);

/* Frees (NULL is fine). */
void cap_out_free(struct cap_out *o);

/* Fills *sink with the callbacks that print to o (ctx = o). */
void cap_out_sink(struct cap_out *o, struct cap_sink *sink);

/* After cap_finish: prints the closing part (report: anomaly tally, top talkers, summary;
 * JSON: the summary line) from the core's counters and what the input was (info may be
 * NULL). */
void cap_out_finish(struct cap_out *o, const struct cap_stats *st,
                    const struct cap_io_info *info);

/* Whether the output prints a line per exchange: the report without -q. */
bool cap_out_exchange_lines(enum cap_fmt fmt, bool quiet);

/* The time of day of the last line's capture second, kept by whoever writes lines: the
 * seconds change rarely from one line to the next. Zero it before the first use. */
struct cap_tod {
    bool valid;    /* text holds the time of day of sec */
    int64_t sec;   /* a capture second */
    char text[20]; /* its "HH:MM:SS." */
};

/* Writes to buf (size bytes) the start of the report's line for the exchange that request p
 * (cap_request_kind: kind), captured at sec.nsec, starts: "HH:MM:SS.nnnnnnnnn SRC > DST:
 * NTPvV KIND", exactly what the report would print there. Touches nothing but *tod, so a
 * reading thread makes these lines for the analyzer (cap_dec.line), which prints them as
 * they are. Returns the length, or 0 when it does not fit. */
size_t cap_out_line_start(struct cap_tod *tod, const struct cap_pkt *p, enum cap_xkind kind,
                          int64_t sec, uint32_t nsec, char *buf, size_t size);

/* The exit status the anomalies seen so far call for: CAP_EXIT_ANOMALIES when one at or above
 * fail_on was reported through the sink, else CAP_EXIT_OK. */
int cap_out_status(const struct cap_out *o);

/* The rule of --fail-on: true when fail_on >= 0 and any of by_sev[fail_on..CRIT] is
 * non-zero. */
bool cap_out_fails(int fail_on, const uint64_t by_sev[3]);

/* Appends field to line with RFC 4180 quoting: quoted (inner quotes doubled) when it holds
 * a comma, a quote, CR or LF; NULL (unknown) is the empty cell. */
void cap_out_csv_field(struct ntk_sb *line, const char *field);

#endif /* NTK_CAP_OUT_H */
