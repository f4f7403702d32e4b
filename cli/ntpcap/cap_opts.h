/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpcap's command line: tcpdump's options for reading, capturing and filtering, plus the
 * output formats and the anomaly exit status. */
#ifndef NTK_CAP_OPTS_H
#define NTK_CAP_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cap_sandbox.h"

/* Output formats. */
enum cap_fmt {
    CAP_FMT_HUMAN = 0, /* the report: exchange lines, flows, anomalies, summary */
    CAP_FMT_JSON,      /* --json: JSON Lines */
    CAP_FMT_CSV,       /* --csv: one row per exchange */
    CAP_FMT_CSV_FLOWS, /* --csv flows: one row per flow */
};

/* Default BPF expression: NTP and NTS-KE. */
#define CAP_DEFAULT_FILTER "udp port 123 or tcp port 4460"

/* Default snap length (-s): NTS packets and mode-6 responses exceed 300 bytes. */
#define CAP_DEFAULT_SNAPLEN 262144

/* Everything the command line says. Strings point into argv except filter (owned). */
struct cap_opts {
    const char *read_file;   /* -r FILE ("-" = stdin), or NULL */
    const char *iface;       /* -i IFACE, or NULL */
    const char *write_file;  /* -w FILE, or NULL */
    uint64_t count;          /* -c N: stop after N frames read (0 = no limit) */
    double duration_s;       /* --duration: stop after this long (0 = no limit); live: wall
                                time, files: capture time since the first frame */
    bool numeric;            /* -n: accepted for tcpdump compatibility (never resolves) */
    int snaplen;             /* -s, bytes (0 means the default) */
    int buffer_kib;          /* -B, KiB (0 = libpcap's default) */
    const char *tstamp_type; /* -j NAME, or NULL */
    const char *user;        /* -Z USER, or NULL (the default user) */
    bool nano;               /* --nano: nanosecond time stamps for live capture */
    bool immediate;          /* --immediate-mode */
    enum cap_fmt fmt;        /* --json / --csv [flows] */
    bool summary;            /* --summary: top talkers */
    int fail_on;             /* --fail-on: enum cap_sev, or -1 */
    bool quiet;              /* -q: no per-exchange lines in the report */
    int verbose;             /* -v (repeatable): packet lines */
    bool list_anomalies;     /* --list-anomalies */
    const char *tls_keylog;  /* --tls-keylog FILE: NTS-KE secrets (never SSLKEYLOGFILE's
                                value implicitly), or NULL */
    /* --seccomp=MODE (default CAP_SECCOMP_DEFAULT): loaded once the input and -w are open
     * and the privileges dropped */
    enum cap_seccomp seccomp;
    char *filter; /* the BPF expression (the words after the options joined, or
                     the default); heap, freed by cap_opts_free */
};

/* Parses argv into *o. Returns 0 to run, 1 when --help, --version or --list-anomalies was
 * printed on out (exit 0), 2 on a usage error (diagnostic on stderr; exit 2). */
int cap_opts_parse(int argc, char **argv, struct cap_opts *o, FILE *out);

/* Frees what cap_opts_parse allocated. */
void cap_opts_free(struct cap_opts *o);

/* Prints the anomaly codes, their severity and meaning, one per line. */
void cap_opts_list_anomalies(FILE *out);

#endif /* NTK_CAP_OPTS_H */
