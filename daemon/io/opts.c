/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's command line (opts.h): NTPsec's short options and long names, strict numbers. */
#include "opts.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "coalesce.h"
#include "ntk/tok.h"
#include "sandbox.h" /* sandbox */

#include "poison.h"

/* The refclock drivers built in (conf_rc.c), as NTPsec's ntpd -h lists its own. */
#define RC_DRIVERS "shm (SHM, type 28), pps (PPS, type 22), sock (SOCK, chrony's socket)"

#ifndef NTK_VERSION
#define NTK_VERSION "0"
#endif

static const char usage_text[] =
    "Usage: ntpd [options] [server...]\n"
    "The NTP daemon: keeps the clock synchronised and serves time. Options as NTPsec's ntpd;\n"
    "each server named after them is added as `server NAME iburst`.\n"
    "\n"
    "  -4, --ipv4                resolve names to IPv4 only\n"
    "  -6, --ipv6                resolve names to IPv6 only\n"
    "  -c, --configfile=FILE     configuration file (default /etc/ntp.conf)\n"
    "  -d, --debug-level         more debug output (repeatable)\n"
    "  -D, --set-debug-level=N   set the debug level\n"
    "  -f, --driftfile=FILE      frequency drift file\n"
    "  -g, --panicgate           allow the first adjustment to be big\n"
    "  -G, --force-step-once     step any initial offset\n"
    "  -h, --help                show this help and exit\n"
    "  -i, --jaildir=DIR         chroot into DIR after start-up\n"
    "  -I, --interface=IFACE     listen on this interface name or address (repeatable)\n"
    "  -k, --keyfile=FILE        symmetric keys file\n"
    "  -l, --logfile=FILE        log to FILE instead of syslog\n"
    "  -L, --novirtualips        do not listen on virtual interfaces\n"
    "  -m, --mdns                NTPsec's mDNS registration: accepted, not built in\n"
    "  -n, --nofork              stay in the foreground\n"
    "  -N, --nice                run at high priority\n"
    "  -p, --pidfile=FILE        write the process id to FILE\n"
    "  -P, --priority=N          process priority\n"
    "  -q, --quit                set the time once and exit\n"
    "  -s, --statsdir=DIR        statistics files directory\n"
    "  -t, --trustedkey=KEYID    trust this key (repeatable)\n"
    "  -u, --user=USER[:GROUP]   drop root privileges to USER, keeping CAP_SYS_TIME\n"
    "  -U, --uinterval=SECONDS   interval between interface scans (0: never; also\n"
    "                            --updateinterval)\n"
    "  -w, --wait-sync=SECONDS   wait up to SECONDS for the first synchronisation\n"
    "  -x, --slew                slew offsets up to 600 s instead of stepping\n"
    "  -z, --var=NAME=VALUE      define a system variable\n"
    "  -Z, --dvar=NAME=VALUE     define a system variable listed by default\n"
    "  -V, --version             show the version and exit\n"
    "      --check-config        check the configuration, report every error, exit\n"
    "      --observe             compute and serve time, never touch the clock\n"
    "      --coalesce=MICROSECONDS  under load, let requests gather this long before\n"
    "                            reading again (default 50; 0: never)\n"
    "      --seccomp=MODE        system-call filter: kill (default), log or off\n"
    "      --seccomp-selftest    tests: make one refused call once sandboxed\n"
    "\n"
    "Reference clock drivers (refclock NAME): " RC_DRIVERS "\n";

enum { OPT_CHECK = 256, OPT_OBSERVE, OPT_SECCOMP, OPT_SELFTEST, OPT_COALESCE };

static const struct option long_opts[] = {
    {"ipv4", no_argument, NULL, '4'},
    {"ipv6", no_argument, NULL, '6'},
    {"configfile", required_argument, NULL, 'c'},
    {"debug-level", no_argument, NULL, 'd'},
    {"set-debug-level", required_argument, NULL, 'D'},
    {"driftfile", required_argument, NULL, 'f'},
    {"panicgate", no_argument, NULL, 'g'},
    {"force-step-once", no_argument, NULL, 'G'},
    {"help", no_argument, NULL, 'h'},
    {"jaildir", required_argument, NULL, 'i'},
    {"interface", required_argument, NULL, 'I'},
    {"keyfile", required_argument, NULL, 'k'},
    {"logfile", required_argument, NULL, 'l'},
    {"novirtualips", no_argument, NULL, 'L'},
    {"mdns", no_argument, NULL, 'm'},
    {"nofork", no_argument, NULL, 'n'},
    {"nice", no_argument, NULL, 'N'},
    {"pidfile", required_argument, NULL, 'p'},
    {"priority", required_argument, NULL, 'P'},
    {"quit", no_argument, NULL, 'q'},
    {"statsdir", required_argument, NULL, 's'},
    {"trustedkey", required_argument, NULL, 't'},
    {"user", required_argument, NULL, 'u'},
    {"uinterval", required_argument, NULL, 'U'},
    {"updateinterval", required_argument, NULL, 'U'}, /* what NTPsec 1.2 really accepts */
    {"wait-sync", required_argument, NULL, 'w'},
    {"slew", no_argument, NULL, 'x'},
    {"var", required_argument, NULL, 'z'},
    {"dvar", required_argument, NULL, 'Z'},
    {"version", no_argument, NULL, 'V'},
    {"check-config", no_argument, NULL, OPT_CHECK},
    {"observe", no_argument, NULL, OPT_OBSERVE},
    {"coalesce", required_argument, NULL, OPT_COALESCE},
    {"seccomp", required_argument, NULL, OPT_SECCOMP},     /* sandbox */
    {"seccomp-selftest", no_argument, NULL, OPT_SELFTEST}, /* sandbox: tests */
    {NULL, 0, NULL, 0},
};

/* A decimal integer in [min, max], optionally signed, nothing else in the text. */
static bool parse_long(const char *v, long min, long max, long *out)
{
    bool neg = v[0] == '-';
    const char *d = neg || v[0] == '+' ? v + 1 : v;
    uint64_t u = 0;
    uint64_t lim = neg ? (uint64_t)(-(min + 1)) + 1 : (uint64_t)(max > 0 ? max : 0);
    if (ntk_span_u64((struct ntk_span){d, strlen(d)}, &u, lim) != 0)
        return false;
    long n = neg ? -(long)u : (long)u;
    if (n < min || n > max)
        return false;
    *out = n;
    return true;
}

static bool bad(const char *what, const char *val)
{
    fprintf(stderr, "ntpd: invalid %s: '%s' (see ntpd --help)\n", what, val);
    return false;
}

static bool add_str(const char **list, int *n, const char *v, const char *what)
{
    if (*n == OPTS_LIST_MAX)
        return bad(what, "too many");
    list[(*n)++] = v;
    return true;
}

static bool take_number(struct ntpd_opts *o, int c, const char *v)
{
    long n = 0;
    switch (c) {
    case 'D':
        if (!parse_long(v, 0, 100, &n))
            return bad("debug level", v);
        o->debug = (int)n;
        return true;
    case 'P':
        if (!parse_long(v, -20, 19, &n))
            return bad("priority", v);
        o->priority = (int)n;
        return true;
    case 't':
        if (!parse_long(v, 1, 65535, &n) || o->ntrusted == OPTS_LIST_MAX)
            return bad("key id", v);
        o->trusted[o->ntrusted++] = (uint32_t)n;
        return true;
    case 'U':
    case 'w':
        if (!parse_long(v, 0, 86400L * 365, &n))
            return bad("number of seconds", v);
        *(c == 'U' ? &o->rescan_s : &o->wait_sync_s) = n;
        return true;
    case OPT_COALESCE: /* at most 10 ms: a wait is one nanosleep of the whole loop */
        if (!parse_long(v, 0, 10000, &n))
            return bad("--coalesce microseconds (0..10000)", v);
        o->coalesce_us = n;
        return true;
    default:
        return false;
    }
}

static bool take_setvar(struct ntpd_opts *o, const char *v, bool dflt)
{
    if (strchr(v, '=') == NULL || v[0] == '=')
        return bad("variable (want NAME=VALUE)", v);
    o->setvar_default[o->nsetvars] = dflt;
    return add_str(o->setvars, &o->nsetvars, v, "variable");
}

static bool take_flag(struct ntpd_opts *o, int c)
{
    switch (c) {
    case '4':
        o->family = AF_INET;
        return true;
    case '6':
        o->family = AF_INET6;
        return true;
    case 'd':
        o->debug++;
        return true;
    case 'g':
        o->panic_gate = true;
        return true;
    case 'G':
        o->step_first = true;
        return true;
    case 'L':
        o->no_virtual = true;
        return true;
    case 'm': /* NTPsec registers with mDNS; the line still works here */
        o->mdns = true;
        fputs("ntpd: -m: this ntpd does not register with mDNS; ignored\n", stderr);
        return true;
    case 'n':
        o->foreground = true;
        return true;
    case 'N':
        o->raise_priority = true;
        return true;
    case 'q':
        o->once = true;
        return true;
    case 'x':
        o->slew_only = true;
        return true;
    case OPT_CHECK:
        o->check_config = true;
        return true;
    case OPT_OBSERVE:
        o->observe = true;
        return true;
    case OPT_SELFTEST: /* sandbox */
        o->seccomp_selftest = true;
        return true;
    default:
        return false;
    }
}

static bool take_option(struct ntpd_opts *o, int c, const char *v)
{
    switch (c) {
    case 'c':
        o->config = v;
        return true;
    case 'f':
        o->driftfile = v;
        return true;
    case 'i':
        o->chroot_dir = v;
        return true;
    case 'I':
        return add_str(o->interfaces, &o->ninterfaces, v, "interface");
    case 'k':
        o->keysfile = v;
        return true;
    case 'l':
        o->logfile = v;
        return true;
    case 'p':
        o->pidfile = v;
        return true;
    case 's':
        o->statsdir = v;
        return true;
    case 'u':
        o->user = v;
        return true;
    case OPT_SECCOMP: { /* sandbox */
        enum sandbox_mode m;
        if (!sandbox_parse_mode(v, &m))
            return bad("--seccomp mode (kill, on, log or off)", v);
        o->seccomp = (int)m;
        return true;
    }
    case 'z':
        return take_setvar(o, v, false);
    case 'Z':
        return take_setvar(o, v, true);
    default:
        return take_flag(o, c) || take_number(o, c, v);
    }
}

static enum opts_result unknown(char **argv, int c, int at)
{
    const char *arg = optind > at ? argv[optind - 1] : "";
    if (c == ':')
        fprintf(stderr, "ntpd: option %s needs an argument (see ntpd --help)\n",
                strncmp(arg, "--", 2) == 0 ? arg : (char[]){'-', (char)optopt, 0});
    else if (strncmp(arg, "--", 2) == 0)
        fprintf(stderr, "ntpd: unknown option %s (see ntpd --help)\n", arg);
    else
        fprintf(stderr, "ntpd: unknown option -%c (see ntpd --help)\n", optopt);
    return OPTS_BAD;
}

enum opts_result opts_parse(int argc, char **argv, struct ntpd_opts *o)
{
    memset(o, 0, sizeof *o);
    o->rescan_s = o->wait_sync_s = -1;
    o->coalesce_us = COAL_WAIT_MAX_NS / 1000;
    o->seccomp = (int)SANDBOX_DEFAULT; /* sandbox: on (kill) by default; see sandbox.h */
    opterr = 0;
    optind = 0; /* glibc: 0 resets getopt completely */
    int c, at = 1;
    while ((c = getopt_long(argc, argv, ":46c:dD:f:gGhi:I:k:l:LmnNp:P:qs:t:u:U:w:xz:Z:V",
                            long_opts, NULL)) != -1) {
        if (c == 'h' || c == 'V') {
            if (c == 'h')
                fputs(usage_text, stdout);
            else
                printf("ntpd ntpkit-%s\nrefclock drivers: %s\n", NTK_VERSION, RC_DRIVERS);
            return OPTS_DONE;
        }
        if (c == '?' || c == ':')
            return unknown(argv, c, at);
        if (!take_option(o, c, optarg))
            return OPTS_BAD;
        at = optind;
    }
    /* NTPsec's ntpd [options] [server...]: each a `server NAME iburst` (daemon.c). */
    for (; optind < argc; optind++) {
        if (argv[optind][0] == '\0' || argv[optind][0] == '-') {
            fprintf(stderr, "ntpd: unexpected argument '%s' (see ntpd --help)\n",
                    argv[optind]);
            return OPTS_BAD;
        }
        if (!add_str(o->servers, &o->nservers, argv[optind], "server"))
            return OPTS_BAD;
    }
    return OPTS_RUN;
}
