/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpdig's parts and the data they pass along: options (dig_opts.c), the queries
 * (dig_query.c), the clock adjustment (dig_adjust.c) and the report (dig_out.c). dig_main()
 * runs them in that order; main.c hands it the real clock driver, fakeclk.c a fake one. */
#ifndef NTK_DIG_H
#define NTK_DIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli_udp.h"
#include "ke_cli.h"
#include "ntk/clk.h"
#include "ntk/mac.h"
#include "ntk/sntp.h"

/* Exit statuses (NTPsec's 0 and 1, plus 2 for usage errors as getopt tools do). */
enum { DIG_EXIT_OK = 0, DIG_EXIT_FAIL = 1, DIG_EXIT_USAGE = 2 };

/* Limits that keep one run bounded. */
#define DIG_MAX_HOSTS   64  /* host arguments and -c options together */
#define DIG_MAX_ADDRS   16  /* addresses used per name */
#define DIG_MAX_SAMPLES 100 /* -p */

/* One server argument. */
struct dig_host {
    const char *name; /* as given (argv storage) */
    bool concurrent;  /* from -c: all its addresses are queried at once */
};

/* Everything the command line says. */
struct dig_opts {
    int family;                           /* AF_UNSPEC, AF_INET (-4) or AF_INET6 (-6) */
    uint32_t key_id;                      /* -a; 0 = unauthenticated */
    const char *keyfile;                  /* -k */
    const char *logfile;                  /* -l */
    int debug;                            /* -d (counted) / -D */
    double gap_s;                         /* -g, converted from ms */
    double timeout_s;                     /* -t */
    double steplimit_s;                   /* -M, converted from ms */
    long samples;                         /* -p, 1..DIG_MAX_SAMPLES */
    bool json;                            /* -j */
    bool step;                            /* -S */
    bool slew;                            /* -s */
    const char *bindaddr;                 /* -I */
    uint16_t port;                        /* --port, default 123 */
    const char *replay;                   /* -r HEX:DST */
    bool nts;                             /* --nts: NTS-KE, then one NTS exchange */
    const char *nts_ca;                   /* --nts-ca: CA bundle (NULL: system store) */
    bool nts_noval;                       /* --nts-noval: do not verify the certificate */
    uint16_t nts_port;                    /* --nts-port: NTS-KE TCP port, default 4460 */
    uint16_t nts_aead;                    /* --nts-aead: AEAD id to offer, 0 = 15 */
    bool nts_opt;                         /* one of the --nts-* options was given */
    struct dig_host hosts[DIG_MAX_HOSTS]; /* -c hosts first, then the arguments */
    size_t nhosts;
};

/* What dig_opts_parse decided. */
enum dig_parse {
    DIG_PARSE_RUN,  /* options are valid: go on */
    DIG_PARSE_DONE, /* --help or --version printed: exit 0 */
    DIG_PARSE_BAD,  /* a usage error was reported: exit DIG_EXIT_USAGE */
};

/* Parses argv into *o (defaults first). Reports usage errors as one line on stderr. */
enum dig_parse dig_opts_parse(int argc, char **argv, struct dig_opts *o);

/* One query's outcome: a line of JSON output. */
struct dig_result {
    const char *host;         /* the name as given */
    struct cli_target target; /* where the request went */
    long round;               /* sample round, 0-based */
    uint32_t key_id;          /* the key the request was signed with (-a), 0 if none */
    const char *error;        /* NULL when ok; a verdict name or "timeout", "send_failed" */
    char message[320];        /* English detail for error, "" when ok */
    enum ntk_sntp_verdict verdict; /* NTK_SNTP_OK when ok */
    bool replied;                  /* a reply was checked: s.pkt and t1..t4 are meaningful */
    struct ntk_sntp_sample s;      /* the sample (complete when verdict is NTK_SNTP_OK) */
    bool selected;                 /* the one kept for the report and the adjustment */
};

/* What --nts found out (the diagnosis printed before the time line, and "nts" in JSON). */
struct dig_nts {
    char ke_host[256];            /* the KE server as given */
    char ke_ip[NTK_ADDRSTR_MAX];  /* the address connected to ("" before resolving) */
    uint16_t ke_port;             /* its TCP port */
    bool ke_tried;                /* a KE exchange was attempted: ke is meaningful */
    struct ke_cli_result ke;      /* its result (the keys wiped once used) */
    bool noval;                   /* --nts-noval was given */
    char ntp_server[256];         /* the NTP server negotiated (or the KE host) */
    char ntp_ip[NTK_ADDRSTR_MAX]; /* its address ("" when not reached) */
    uint16_t ntp_port;            /* its UDP port */
    const char *nts_verdict;      /* ntk_nts_verdict_name of the reply, NULL if none */
    size_t cookies_returned;      /* cookies in the authenticated reply */
    size_t request_len;           /* bytes of the NTS request sent */
};

/* A growing list of results. */
struct dig_results {
    struct dig_result *v; /* heap array */
    size_t n;             /* used */
    size_t cap;           /* allocated */
    struct dig_nts *nts;  /* --nts only: heap, freed by the caller; NULL otherwise */
};

/* Marks r failed: error is the JSON "error" value (a static string), the rest its message. */
void dig_fail(struct dig_result *r, const char *error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Runs every query the options ask for (or the replay), appending to *out. Diagnostics go
 * through cli_log. Returns 0, or DIG_EXIT_FAIL after reporting a fatal problem (out of
 * memory, bad replay text). */
int dig_query_all(const struct dig_opts *o, const struct ntk_clk_ops *clk,
                  struct ntk_mac_keys *ks, struct dig_results *out);

/* --nts: NTS-KE with o->hosts[0], then one NTS-authenticated exchange with the NTP server
 * it names, appending one result to *out and the diagnosis to out->nts (allocated here).
 * A failure is a result with error "nts_ke" (KE failed), "nts_auth" (the reply was not
 * NTS-authenticated), "nts_nak", or the usual SNTP errors. Returns 0, DIG_EXIT_FAIL (out of
 * memory, no TLS context) or DIG_EXIT_USAGE (unknown --nts-aead). */
int dig_nts_query(const struct dig_opts *o, const struct ntk_clk_ops *clk,
                  struct dig_results *out);

/* Prints the --nts diagnosis as text lines on f. */
void dig_nts_print(const struct dig_nts *n, FILE *f);

/* Marks and returns the best OK result (ntk_sntp_compare), or NULL if there is none. */
struct dig_result *dig_select(struct dig_results *r);

/* What was done to the clock. */
enum dig_adjustment {
    DIG_ADJ_NONE,    /* nothing asked */
    DIG_ADJ_STEPPED, /* stepped */
    DIG_ADJ_SLEWED,  /* slewed */
    DIG_ADJ_FAILED,  /* asked, and it failed (reported) */
};

/* Applies NTPsec's rule through clk: with -S, step unless -s is also given and |offset| is
 * at most the step limit; otherwise with -s, slew. Reports failures (missing CAP_SYS_TIME in
 * one clear line). */
enum dig_adjustment dig_adjust(const struct dig_opts *o, const struct ntk_clk_ops *clk,
                               double offset_s);

/* A stable name for a: "none", "stepped", "slewed", "failed". */
const char *dig_adjustment_name(enum dig_adjustment a);

/* Prints the report on stdout: with -j every result as a JSON line, otherwise NTPsec's line
 * for the selected one (if any). near is "now", to place timestamps in their era. */
void dig_report(const struct dig_opts *o, const struct dig_results *r, enum dig_adjustment adj,
                const struct timespec *near);

/* Formats the selected sample as NTPsec's text line, without the newline. */
void dig_format_text(const struct dig_result *r, const struct timespec *near,
                     struct ntk_sb *sb);

/* The whole program: parse, load keys, query, select, adjust, report. Returns the exit
 * status. */
int dig_main(int argc, char **argv, const struct ntk_clk_ops *clk);

#endif /* NTK_DIG_H */
