/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpkit_exporter's command line: Go-exporter-style flags, their defaults and checks. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "exp_http.h"
#include "exp_opts.h"
#include "ntk/sb.h"

#include "poison.h"

#ifndef NTK_VERSION
#define NTK_VERSION "unknown"
#endif

enum {
    OPT_LISTEN = 256,
    OPT_PATH,
    OPT_NTP,
    OPT_TIMEOUT,
    OPT_LOG,
    OPT_CA,
    OPT_HELP,
    OPT_VER,
    OPT_USER,
    OPT_SECCOMP
};

static const struct option LONGOPTS[] = {
    {"web.listen-address", required_argument, NULL, OPT_LISTEN},
    {"web.telemetry-path", required_argument, NULL, OPT_PATH},
    {"ntp.address", required_argument, NULL, OPT_NTP},
    {"ntp.timeout", required_argument, NULL, OPT_TIMEOUT},
    {"log.level", required_argument, NULL, OPT_LOG},
    {"nts.ca", required_argument, NULL, OPT_CA},
    {"user", required_argument, NULL, OPT_USER},
    {"seccomp", required_argument, NULL, OPT_SECCOMP},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VER},
    {NULL, 0, NULL, 0},
};

const char *exp_version_text(void)
{
    return "ntpkit_exporter " NTK_VERSION;
}

void exp_opts_usage(FILE *f)
{
    fprintf(
        f,
        "usage: ntpkit_exporter [flags]\n"
        "  --web.listen-address=HOST:PORT  where to serve HTTP (default %s)\n"
        "  --web.telemetry-path=PATH       path of the metrics (default /metrics)\n"
        "  --ntp.address=HOST[:PORT]       the daemon read over mode 6 (default "
        "127.0.0.1:123)\n"
        "  --ntp.timeout=SECONDS           mode-6 fetch timeout (default 2)\n"
        "  --log.level=LEVEL               debug, info, warn or error (default info)\n"
        "  --nts.ca=FILE                   CA bundle for /probe?nts=1 (default: system "
        "store)\n"
        "  -u, --user=USER[:GROUP]         drop root (and every capability) once bound\n"
        "  --seccomp=MODE                  system-call filter: kill (default), log or off\n"
        "  -h, --help                      print this and exit\n"
        "  --version                       print the version and exit\n"
        "endpoints: / (links), /metrics, /json, /probe?target=HOST[:PORT][&nts=1]"
        "[&timeout=S]\n",
        EXP_DEFAULT_LISTEN);
}

static int bad(char *why, size_t cap, const char *flag, const char *what)
{
    struct ntk_sb sb;
    ntk_sb_init(&sb, why, cap);
    ntk_sb_printf(&sb, "--%s: %s", flag, what);
    return -1;
}

bool exp_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
    const char *colon = strrchr(s, ':');
    if (colon == NULL)
        return false;
    char host[64];
    size_t hn = (size_t)(colon - s);
    const char *h = s;
    if (hn >= 2 && s[0] == '[' && s[hn - 1] == ']') {
        h++;
        hn -= 2;
    }
    if (hn >= sizeof host)
        return false;
    memcpy(host, h, hn);
    host[hn] = '\0';
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || errno != 0 || port < 0 || port > 65535)
        return false;
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (hn == 0 || strcmp(host, "localhost") == 0) {
        v4->sin_family = AF_INET;
        v4->sin_addr.s_addr = htonl(hn == 0 ? INADDR_ANY : INADDR_LOOPBACK);
    } else if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *len = sizeof *v6;
        return true;
    } else {
        return false;
    }
    v4->sin_port = htons((uint16_t)port);
    *len = sizeof *v4;
    return true;
}

static int parse_level(const char *s, enum exp_log_level *l)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(s, names[i]) == 0) {
            *l = (enum exp_log_level)i;
            return 0;
        }
    }
    return -1;
}

/* One flag; 0 or -1 with why set. */
static int take(int c, const char *arg, struct exp_opts *o, char *why, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t len;
    char err[96];
    char *end;
    switch (c) {
    case OPT_LISTEN:
        o->listen = arg;
        return exp_parse_listen(arg, &ss, &len)
                   ? 0
                   : bad(why, cap, "web.listen-address", "want HOST:PORT with a numeric HOST");
    case OPT_PATH:
        o->telemetry_path = arg;
        return arg[0] == '/' && strcmp(arg, "/") != 0 && strcmp(arg, "/json") != 0 &&
                       strcmp(arg, "/probe") != 0
                   ? 0
                   : bad(why, cap, "web.telemetry-path",
                         "must start with / and not be /, /json or /probe");
    case OPT_NTP:
        return exp_parse_target(arg, o->ntp_host, sizeof o->ntp_host, &o->ntp_port, 123, err,
                                sizeof err)
                   ? 0
                   : bad(why, cap, "ntp.address", err);
    case OPT_TIMEOUT:
        errno = 0;
        o->ntp_timeout_s = strtod(arg, &end);
        return *end == '\0' && errno == 0 && isfinite(o->ntp_timeout_s) &&
                       o->ntp_timeout_s > 0 && o->ntp_timeout_s <= 60
                   ? 0
                   : bad(why, cap, "ntp.timeout", "want seconds in (0, 60]");
    case OPT_LOG:
        return parse_level(arg, &o->log_level) == 0
                   ? 0
                   : bad(why, cap, "log.level", "want debug, info, warn or error");
    case OPT_CA:
        o->nts_ca = arg;
        return 0;
    case OPT_USER:
        o->user = arg;
        return arg[0] != '\0' && arg[0] != ':' ? 0
                                               : bad(why, cap, "user", "want USER[:GROUP]");
    case OPT_SECCOMP:
        return exp_seccomp_parse(arg, &o->seccomp)
                   ? 0
                   : bad(why, cap, "seccomp", "want kill, on, log or off");
    case OPT_HELP:
        o->help = true;
        return 0;
    case OPT_VER:
        o->version = true;
        return 0;
    default:
        return bad(why, cap, "?", "unknown flag or missing value");
    }
}

int exp_opts_parse(int argc, char **argv, struct exp_opts *o, char *why, size_t cap)
{
    memset(o, 0, sizeof *o);
    o->listen = EXP_DEFAULT_LISTEN;
    o->telemetry_path = "/metrics";
    struct ntk_sb sb;
    ntk_sb_init(&sb, o->ntp_host, sizeof o->ntp_host);
    ntk_sb_puts(&sb, "127.0.0.1");
    o->ntp_port = 123;
    o->ntp_timeout_s = 2;
    o->log_level = EXP_LOG_INFO;
    optind = 0; /* reset getopt (tests parse several command lines) */
    opterr = 0;
    int c;
    while ((c = getopt_long_only(argc, argv, "hu:", LONGOPTS, NULL)) != -1) {
        if (c == 'h')
            c = OPT_HELP;
        if (c == 'u')
            c = OPT_USER;
        if (take(c, optarg, o, why, cap) != 0) {
            if (c == '?') {
                ntk_sb_init(&sb, why, cap);
                ntk_sb_printf(&sb, "unknown flag or missing value: %s",
                              argv[optind - 1 >= 0 ? optind - 1 : 0]);
            }
            return -1;
        }
    }
    if (optind < argc) {
        ntk_sb_init(&sb, why, cap);
        ntk_sb_printf(&sb, "unexpected argument: %s", argv[optind]);
        return -1;
    }
    return 0;
}
