/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpmon's command line: NTPsec ntpmon's options (-d -D -h -l -n -u -V and their long forms)
 * plus ntpkit's (--once, --json, --no-color, --delay SECONDS, --timeout MS, -4/-6, several
 * hosts). NTPsec's -d is "more debug", so the refresh interval is --delay, not -d. */
#ifndef NTK_MON_OPTS_H
#define NTK_MON_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "mon_model.h"

/* Exit statuses (ntpmon(1) EXIT STATUS). */
#define MON_EXIT_OK    0 /* quit normally; --once/--json: at least one host answered */
#define MON_EXIT_FAIL  1 /* --once/--json: every host failed; or a runtime error */
#define MON_EXIT_USAGE 2 /* bad command line */

/* Everything the command line says. */
struct mon_opts {
    const char *hosts[MON_HOSTS_MAX]; /* borrowed from argv; "localhost" when none given */
    size_t n_hosts;                   /* 1..MON_HOSTS_MAX */
    int debug;                        /* -d (repeatable) / -D N */
    const char *logfile;              /* -l FILE (NULL: none; with debug: "ntpmon.log") */
    bool numeric;                     /* -n: numeric addresses */
    bool units;                       /* -u: times with units */
    bool once;                        /* --once: print one frame and exit */
    bool json;                        /* --json: print the model as JSON and exit */
    bool color;                       /* false with --no-color or a non-empty NO_COLOR */
    bool ascii;                       /* --ascii: no UTF-8 even in a UTF-8 locale */
    double delay_s;                   /* --delay SECONDS (0: NTPsec's refresh rule) */
    int timeout_ms;                   /* --timeout MS: one fetch's deadline (default 2000) */
    int family;                       /* AF_UNSPEC, AF_INET (-4) or AF_INET6 (-6) */
    bool help, version;               /* -h, -V: print and exit 0 */
};

/* Parses argv[1..argc) (getopt_long, which may permute argv; optind is reset, so it can be
 * called again) with env_no_color the value of NO_COLOR (NULL when unset; a non-empty value
 * turns colour off, no-color.org). Returns 0 with *o written, or MON_EXIT_USAGE after
 * writing a message and the usage to err. */
int mon_opts_parse(int argc, char *const argv[], const char *env_no_color, struct mon_opts *o,
                   FILE *err);

/* Writes the --help text (the man page's SYNOPSIS and OPTIONS in short) to f. */
void mon_opts_usage(FILE *f);

/* Writes "ntpmon ntpkit-<version>" and a newline to f (NTPsec: "ntpmon ntpsec-X.Y.Z"). */
void mon_opts_version(FILE *f);

/* --once and --json output (shared with the golden tests). */

/* Lays out m at width x height and writes the lines to f, trailing blanks cut, each ended by
 * a newline. Returns 0, or -1 when memory ran out. */
int mon_print_frame(const struct mon_model *m, double now_unix_s, int width, int height,
                    FILE *f);

/* Writes mon_model_json(m, now_unix_s) to f, pretty-printed with two-space indents and a
 * final newline (stable key order: the order the model adds them). */
void mon_print_json(const struct mon_model *m, double now_unix_s, FILE *f);

/* The terminal size for --once from COLUMNS and LINES (cols, rows: the environment values,
 * NULL when unset): numbers in 1..1000, else 80 and 24. (A line holds at most
 * MON_LINE_MAX bytes: on a very wide terminal, lines of many multi-byte characters end
 * early.) */
void mon_term_size(const char *cols, const char *rows, int *width, int *height);

#endif /* NTK_MON_OPTS_H */
