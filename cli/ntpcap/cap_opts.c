/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpcap's command line (see cap_opts.h): tcpdump's short options, long-only extras. */
#include "cap_opts.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cap.h"
#include "cli_log.h"
#include "cli_num.h"

#include "poison.h"

#ifndef NTK_VERSION
#define NTK_VERSION "0"
#endif

static const char usage_text[] =
    "Usage: ntpcap [options] [expression]\n"
    "Analyze NTP, NTS and mode-6/7 traffic from a capture file or an interface: decode,\n"
    "pair requests with responses, compute offsets and delays, keep per-flow statistics\n"
    "and flag anomalies. The expression is a BPF filter (default: " CAP_DEFAULT_FILTER ").\n"
    "\n"
    "Input:\n"
    "  -r FILE                 read a pcap or pcapng file (- = standard input)\n"
    "  -i IFACE                capture live on IFACE (needs root or CAP_NET_RAW)\n"
    "  -w FILE                 also write every frame read to FILE (pcap)\n"
    "  -c N                    stop after N frames\n"
    "      --duration=SECONDS  stop after SECONDS (live: wall time; file: capture time)\n"
    "  -n                      do not resolve addresses (ntpcap never does; accepted)\n"
    "  -s SNAPLEN              live: bytes captured per frame (default 262144)\n"
    "  -B KIB                  live: kernel buffer size in KiB\n"
    "  -j TYPE                 live: time stamp type (host, adapter, adapter_unsynced...)\n"
    "      --nano              live: nanosecond time stamps\n"
    "      --immediate-mode    live: deliver each frame at once (no buffering)\n"
    "  -Z USER                 live: drop privileges to USER after opening (default ntpcap\n"
    "                          if it exists, else nobody; -Z root keeps root)\n"
    "      --tls-keylog=FILE   decrypt NTS-KE (TLS 1.3) with the secrets of FILE (NSS key\n"
    "                          log format, as SSLKEYLOGFILE makes clients write it)\n"
    "      --seccomp=MODE      system-call allow-list once the input is open: kill\n"
    "                          (default), log (the kernel logs a call off the list) or off\n"
    "Output:\n"
    "      --json              JSON Lines (schema ntpkit.ntpcap/1)\n"
    "      --csv[=flows]       CSV, one row per exchange (or per flow with --csv flows)\n"
    "      --summary           add the top talkers table\n"
    "      --fail-on=SEVERITY  exit 3 when an anomaly of SEVERITY (info, warn, crit) or\n"
    "                          worse was seen\n"
    "      --list-anomalies    list the anomaly codes and their severity, and exit\n"
    "  -q                      report: no per-exchange lines\n"
    "  -v                      also print every NTP packet (report and JSON)\n"
    "  -h, --help              show this help and exit\n"
    "  -V, --version           show the version and exit\n"
    "\n"
    "Exit status: 0 success, 1 error (file, interface, privileges), 2 usage error,\n"
    "3 an anomaly at or above --fail-on was seen. See ntpcap(1).\n";

/* Long-only options. */
enum {
    OPT_NANO = 256,
    OPT_IMMEDIATE,
    OPT_DURATION,
    OPT_JSON,
    OPT_CSV,
    OPT_SUMMARY,
    OPT_FAIL_ON,
    OPT_LIST_ANOM,
    OPT_TLS_KEYLOG,
    OPT_SECCOMP,
};

static const struct option long_opts[] = {
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {"nano", no_argument, NULL, OPT_NANO},
    {"immediate-mode", no_argument, NULL, OPT_IMMEDIATE},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"json", no_argument, NULL, OPT_JSON},
    {"csv", optional_argument, NULL, OPT_CSV},
    {"summary", no_argument, NULL, OPT_SUMMARY},
    {"fail-on", required_argument, NULL, OPT_FAIL_ON},
    {"list-anomalies", no_argument, NULL, OPT_LIST_ANOM},
    {"tls-keylog", required_argument, NULL, OPT_TLS_KEYLOG},
    {"seccomp", required_argument, NULL, OPT_SECCOMP},
    {NULL, 0, NULL, 0},
};

void cap_opts_list_anomalies(FILE *out)
{
    for (const struct cap_anom_info *i = cap_anom_codes(); i->code != NULL; i++) {
        fprintf(out, "%-24s %-4s  %s\n", i->code, cap_sev_name(i->sev), i->meaning);
    }
}

/* Joins argv[first..argc) with spaces into a new string (the BPF expression). */
static char *join_words(int argc, char **argv, int first)
{
    size_t n = 1;
    for (int i = first; i < argc; i++) {
        n += strlen(argv[i]) + 1;
    }
    char *s = malloc(n);
    if (s == NULL) {
        return NULL;
    }
    size_t at = 0;
    for (int i = first; i < argc; i++) {
        size_t len = strlen(argv[i]);
        if (at > 0) {
            s[at++] = ' ';
        }
        memcpy(s + at, argv[i], len);
        at += len;
    }
    s[at] = '\0';
    return s;
}

/* Reports a bad value for an option; returns 2. */
static int bad_value(const char *opt, const char *value)
{
    cli_err("invalid value for %s: '%s' (see --help)", opt, value);
    return 2;
}

/* --csv's argument: none or "exchanges" per exchange, "flows" per flow. The value may also
 * follow as the next word ("--csv flows"). */
static int parse_csv(int argc, char **argv, struct cap_opts *o)
{
    const char *v = optarg;
    if (v == NULL && optind < argc &&
        (strcmp(argv[optind], "flows") == 0 || strcmp(argv[optind], "exchanges") == 0)) {
        v = argv[optind++];
    }
    if (v == NULL || strcmp(v, "exchanges") == 0) {
        o->fmt = CAP_FMT_CSV;
    } else if (strcmp(v, "flows") == 0) {
        o->fmt = CAP_FMT_CSV_FLOWS;
    } else {
        return bad_value("--csv", v);
    }
    return 0;
}

/* The options taking a number. Returns 0 or 2. */
static int parse_number(int c, const char *arg, struct cap_opts *o)
{
    long v;
    switch (c) {
    case 'c':
        if (!cli_parse_long(arg, 1, 0x7fffffffL, &v)) {
            return bad_value("-c", arg);
        }
        o->count = (uint64_t)v;
        return 0;
    case 's':
        if (!cli_parse_long(arg, 0, 262144, &v)) {
            return bad_value("-s", arg);
        }
        o->snaplen = (int)v;
        return 0;
    case 'B':
        if (!cli_parse_long(arg, 1, 4194304, &v)) {
            return bad_value("-B", arg);
        }
        o->buffer_kib = (int)v;
        return 0;
    default:
        if (!cli_parse_double(arg, 0.001, 31536000.0, &o->duration_s)) {
            return bad_value("--duration", arg);
        }
        return 0;
    }
}

/* One option. Returns 0 to go on, 1 to exit 0 (printed), 2 on a usage error. */
static int parse_one(int c, int argc, char **argv, struct cap_opts *o, FILE *out)
{
    switch (c) {
    case 'r':
        o->read_file = optarg;
        return 0;
    case 'i':
        o->iface = optarg;
        return 0;
    case 'w':
        o->write_file = optarg;
        return 0;
    case 'n':
        o->numeric = true;
        return 0;
    case 'j':
        o->tstamp_type = optarg;
        return 0;
    case 'Z':
        o->user = optarg;
        return 0;
    case 'q':
        o->quiet = true;
        return 0;
    case 'v':
        o->verbose++;
        return 0;
    case 'c':
    case 's':
    case 'B':
    case OPT_DURATION:
        return parse_number(c, optarg, o);
    case OPT_NANO:
        o->nano = true;
        return 0;
    case OPT_IMMEDIATE:
        o->immediate = true;
        return 0;
    case OPT_JSON:
        o->fmt = CAP_FMT_JSON;
        return 0;
    case OPT_CSV:
        return parse_csv(argc, argv, o);
    case OPT_SUMMARY:
        o->summary = true;
        return 0;
    case OPT_FAIL_ON:
        o->fail_on = cap_sev_from_name(optarg);
        return o->fail_on < 0 ? bad_value("--fail-on", optarg) : 0;
    case OPT_LIST_ANOM:
        o->list_anomalies = true;
        return 0;
    case OPT_TLS_KEYLOG:
        o->tls_keylog = optarg;
        return 0;
    case OPT_SECCOMP:
        return cap_seccomp_parse(optarg, &o->seccomp) ? 0 : bad_value("--seccomp", optarg);
    case 'h':
        fputs(usage_text, out);
        return 1;
    case 'V':
        fprintf(out, "ntpcap (ntpkit) %s\n", NTK_VERSION);
        return 1;
    default:
        cli_err("try 'ntpcap --help'");
        return 2;
    }
}

/* Checks the combination of options. Returns 0 or 2. */
static int check(const struct cap_opts *o)
{
    if (o->read_file != NULL && o->iface != NULL) {
        cli_err("-r and -i exclude each other");
        return 2;
    }
    if (o->read_file == NULL && o->iface == NULL) {
        cli_err("nothing to read: give -r FILE or -i IFACE (see --help)");
        return 2;
    }
    if (o->write_file != NULL && o->read_file != NULL && strcmp(o->write_file, "-") != 0 &&
        strcmp(o->write_file, o->read_file) == 0) {
        cli_err("-w would overwrite the file -r reads");
        return 2;
    }
    return 0;
}

int cap_opts_parse(int argc, char **argv, struct cap_opts *o, FILE *out)
{
    memset(o, 0, sizeof *o);
    o->fail_on = -1;
    o->seccomp = CAP_SECCOMP_DEFAULT;
    optind = 1;
    int c;
    /* '+': the first word that is not an option starts the expression, as tcpdump reads it. */
    while ((c = getopt_long(argc, argv, "+r:i:w:c:ns:B:j:Z:qvhV", long_opts, NULL)) != -1) {
        int rc = parse_one(c, argc, argv, o, out);
        if (rc != 0) {
            return rc;
        }
    }
    if (o->list_anomalies) {
        cap_opts_list_anomalies(out);
        return 1;
    }
    int rc = check(o);
    if (rc != 0) {
        return rc;
    }
    o->filter = optind < argc ? join_words(argc, argv, optind) : strdup(CAP_DEFAULT_FILTER);
    if (o->filter == NULL) {
        cli_err("out of memory");
        return 2;
    }
    return 0;
}

void cap_opts_free(struct cap_opts *o)
{
    free(o->filter);
    o->filter = NULL;
}
