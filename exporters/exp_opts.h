/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpkit_exporter's command line, in the style of the Go exporters (--web.listen-address,
 * --ntp.address, ...; one or two dashes, "--flag=value" or "--flag value"). */
#ifndef NTK_EXP_OPTS_H
#define NTK_EXP_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "exp_sandbox.h"

/* The default --web.listen-address: loopback only, and a port of its own (the Prometheus
 * 9100-9999 allocation range is full; 10123 ends in NTP's 123 and no exporter uses it). */
#define EXP_DEFAULT_LISTEN "127.0.0.1:10123"

/* Exit codes. */
enum {
    EXP_EXIT_OK = 0,    /* stopped by SIGTERM/SIGINT, or --help / --version */
    EXP_EXIT_FAIL = 1,  /* could not start (address in use, daemon name not found) */
    EXP_EXIT_USAGE = 2, /* bad command line */
};

/* Log levels of --log.level. */
enum exp_log_level { EXP_LOG_DEBUG = 0, EXP_LOG_INFO, EXP_LOG_WARN, EXP_LOG_ERROR };

/* The parsed command line. Strings point into argv or static storage. */
struct exp_opts {
    const char *listen;           /* --web.listen-address, HOST:PORT */
    const char *telemetry_path;   /* --web.telemetry-path, starts with '/' */
    char ntp_host[256];           /* --ntp.address host part */
    uint16_t ntp_port;            /* --ntp.address port (default 123) */
    double ntp_timeout_s;         /* --ntp.timeout, seconds (default 2) */
    enum exp_log_level log_level; /* --log.level */
    const char *nts_ca;           /* --nts.ca FILE, NULL for the system store */
    const char *user;             /* -u, --user USER[:GROUP]: drop root once bound (NULL) */
    enum exp_seccomp seccomp;     /* --seccomp=MODE (default kill) */
    bool help, version;           /* --help, --version */
};

/* Parses argv. Returns 0, or -1 with why[0..cap) set (the caller prints it and the usage and
 * exits EXP_EXIT_USAGE). Defaults are written first, so *o is complete on success. */
int exp_opts_parse(int argc, char **argv, struct exp_opts *o, char *why, size_t cap);

/* Parses a listen address "HOST:PORT", "[V6]:PORT" or ":PORT" (every IPv4 address) with a
 * numeric HOST or "localhost". Returns true and writes *ss and *len. */
bool exp_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len);

/* Prints the usage text to f. */
void exp_opts_usage(FILE *f);

/* "ntpkit_exporter VERSION". */
const char *exp_version_text(void);

#endif /* NTK_EXP_OPTS_H */
