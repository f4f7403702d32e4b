/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpkit_exporter's formatters: a mode-6 snapshot (cli/common/m6snap.h) or a probe result
 * as Prometheus text format 0.0.4, OpenMetrics 1.0, or JSON. Pure: no I/O, no clock (the
 * caller passes the times), so golden tests and promtool check the same bytes the HTTP
 * shell serves. The metric set is ../shared/reference/ecosystem.md §1.7 (prefix ntpkit_,
 * base units, HELP and TYPE for every family, _total only on counters, one series per
 * selection state); exporters/README.md lists every family with its source variable.
 */
#ifndef NTK_EXP_H
#define NTK_EXP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "m6snap.h"

/* A growable output buffer (the output of 100 sources is some hundred KB). */
struct exp_buf {
    char *p;    /* NUL-terminated text (malloc'd; NULL before the first write) */
    size_t len; /* bytes written, NUL excluded */
    size_t cap; /* bytes allocated */
    bool oom;   /* an allocation failed: the content is incomplete, do not serve it */
};

/* Appends printf-style text (grows the buffer). */
void exp_buf_printf(struct exp_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Frees the buffer and zeroes it. */
void exp_buf_free(struct exp_buf *b);

/* Output formats. */
enum exp_format {
    EXP_PROM_TEXT = 0, /* text/plain; version=0.0.4; charset=utf-8 */
    EXP_OPENMETRICS,   /* application/openmetrics-text; version=1.0.0; charset=utf-8 */
};

/* The Content-Type header value of a format. */
const char *exp_content_type(enum exp_format f);

/* Picks the format an Accept header asks for (NULL: none): OpenMetrics only when it names
 * application/openmetrics-text with a non-zero q, as Prometheus sends it. */
enum exp_format exp_negotiate(const char *accept);

/* What the exporter knows about itself (ntpkit_build_info, process_* metrics). */
struct exp_self {
    const char *version;     /* ntpkit version */
    const char *revision;    /* git revision or "" */
    const char *tls_library; /* OpenSSL version text */
    double start_unix_s;     /* process_start_time_seconds */
    double cpu_s;            /* process_cpu_seconds_total */
    double rss_bytes;        /* process_resident_memory_bytes */
    double open_fds;         /* process_open_fds */
};

/* Renders /metrics for snapshot s into out (appended). With s->up false only
 * ntpkit_up 0, ntpkit_build_info and the process metrics are written. */
void exp_render_metrics(const struct m6_snap *s, const struct exp_self *self,
                        enum exp_format f, struct exp_buf *out);

/* Renders /json: one JSON document {"schema": 1, "up": ..., "system": {...},
 * "sources": [...], "counters": {...}} with the same names and units as the metrics
 * (seconds, ratios, Unix seconds), absent values left out. */
void exp_render_json(const struct m6_snap *s, const struct exp_self *self,
                     struct exp_buf *out);

/* A /probe result: one SNTP or NTS exchange with a target (blackbox style). */
struct exp_probe {
    char target[256];  /* as asked */
    bool nts;          /* NTS probe */
    bool success;      /* an authentic (for NTS) reply that passed every check */
    char error[160];   /* why not ("timeout", "kod RATE", "tls: certificate has expired") */
    double duration_s; /* the whole probe */
    double offset_s, delay_s, root_delay_s, root_disp_s; /* NAN when no reply */
    int stratum, leap;                                   /* -1 when no reply */
    char kiss[8];                                        /* KoD code received, "" none */
    double cert_expiry_unix_s; /* NTS: the server certificate's notAfter (NAN: none) */
    int nts_cookies;           /* NTS: cookies from NTS-KE (-1: not NTS) */
    double ke_duration_s;      /* NTS: the key exchange (NAN: not NTS) */
};

/* Renders a probe as metrics (ntpkit_probe_success, ntpkit_probe_duration_seconds,
 * ntpkit_probe_offset_seconds, ... ntpkit_probe_nts_certificate_expiry_timestamp_seconds). */
void exp_render_probe(const struct exp_probe *p, enum exp_format f, struct exp_buf *out);

#endif /* NTK_EXP_H */
