/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpq's command line: NTPsec's options, short and long, plus -j/--json. */
#include <getopt.h>
#include <string.h>
#include <sys/socket.h>

#include "cli_num.h"
#include "nq_main.h"

#include "poison.h"

#ifndef NTK_VERSION
#define NTK_VERSION "0"
#endif

static const char usage_text[] =
    "Usage: ntpq [options] [host ...]\n"
    "Query NTP servers with mode 6 (NTP control) requests; interactive when no -c/-p.\n"
    "With no host, localhost is queried.\n"
    "\n"
    "  -4, --ipv4                  resolve host names to IPv4 addresses only\n"
    "  -6, --ipv6                  resolve host names to IPv6 addresses only\n"
    "  -a, --authentication=KEYID  sign requests that need it with key KEYID\n"
    "  -c, --command=CMD           run CMD and exit (repeatable)\n"
    "  -d, --debug                 more debugging output (repeatable)\n"
    "  -D, --set-debug-level=N     set the debugging level\n"
    "  -h, --help                  show this help and exit\n"
    "  -j, --json                  JSON output, one object per line per command\n"
    "  -k, --keyfile=FILE          keys file (NTPsec format) holding the key of -a\n"
    "  -l, --logfile=FILE          append debugging messages to FILE\n"
    "  -n, --numeric               show numeric addresses, no name lookups\n"
    "  -p, --peers                 print the peers list (same as -c peers)\n"
    "  -s, --srcname               show names as configured (srchost)\n"
    "  -S, --srcnumber             show configured names and numbers\n"
    "  -u, --units                 show time values with units\n"
    "  -V, --version               show the version and exit\n"
    "  -w, --wide                  long remote names on a line of their own\n"
    "  -W, --width=N               output width instead of the terminal's\n"
    "\n"
    "Exit status: 0 after running the commands (whatever they reported), 1 for a usage\n"
    "error or an unreadable keys file. See ntpq(1).\n";

static const struct option long_opts[] = {
    {"ipv4", no_argument, NULL, '4'},
    {"ipv6", no_argument, NULL, '6'},
    {"authentication", required_argument, NULL, 'a'},
    {"command", required_argument, NULL, 'c'},
    {"debug", no_argument, NULL, 'd'},
    {"set-debug-level", required_argument, NULL, 'D'},
    {"help", no_argument, NULL, 'h'},
    {"json", no_argument, NULL, 'j'},
    {"keyfile", required_argument, NULL, 'k'},
    {"logfile", required_argument, NULL, 'l'},
    {"numeric", no_argument, NULL, 'n'},
    {"peers", no_argument, NULL, 'p'},
    {"srcname", no_argument, NULL, 's'},
    {"srcnumber", no_argument, NULL, 'S'},
    {"units", no_argument, NULL, 'u'},
    {"version", no_argument, NULL, 'V'},
    {"wide", no_argument, NULL, 'w'},
    {"width", required_argument, NULL, 'W'},
    {NULL, 0, NULL, 0},
};

static bool add_cmd(struct nq_opts *o, const char *c, FILE *err)
{
    if (o->ncmds == NQ_MAX_CMDS) {
        fprintf(err, "ntpq: too many commands (at most %d)\n", NQ_MAX_CMDS);
        return false;
    }
    o->cmds[o->ncmds++] = c;
    return true;
}

/* NTPsec: "Error: -a parameter 'x' not a number" and the usage. */
static bool number(const char *opt, const char *v, long min, long max, long *out, FILE *err)
{
    if (cli_parse_long(v, min, max, out))
        return true;
    fprintf(err, "Error: %s parameter '%s' not a number\n%s", opt, v, usage_text);
    return false;
}

static bool take(struct nq_opts *o, int c, const char *v, FILE *err)
{
    long n;
    switch (c) {
    case '4':
    case '6':
        o->family = c == '4' ? AF_INET : AF_INET6;
        return true;
    case 'a':
        if (!number("-a", v, 1, 65535, &n, err))
            return false;
        o->keyid = (uint32_t)n;
        return true;
    case 'c':
        return add_cmd(o, v, err);
    case 'd':
        o->debug++;
        return true;
    case 'D':
        if (!number("-D", v, 0, 100, &n, err))
            return false;
        o->debug = (int)n;
        return true;
    case 'j':
        o->json = true;
        return true;
    case 'k':
        o->keyfile = v;
        return true;
    case 'l':
        o->logfile = v;
        return true;
    case 'n':
        o->showhostnames = 0;
        return true;
    case 'p':
        return add_cmd(o, "peers", err);
    case 's':
        o->showhostnames = 3;
        return true;
    case 'S':
        o->showhostnames = 2;
        return true;
    case 'u':
        o->units = true;
        return true;
    case 'w':
        o->wide = true;
        return true;
    case 'W':
        if (!number("-W", v, 1, 10000, &n, err))
            return false;
        o->width = (int)n;
        return true;
    default:
        return false;
    }
}

/* Python getopt's messages. */
static enum nq_parse bad_option(char **argv, int c, int at, FILE *err)
{
    const char *arg = optind > at ? argv[optind - 1] : "";
    int len = (int)strcspn(arg, "=");
    if (strncmp(arg, "--", 2) != 0) {
        if (c == ':')
            fprintf(err, "option -%c requires argument\n", optopt);
        else
            fprintf(err, "option -%c not recognized\n", optopt);
    } else if (c == ':')
        fprintf(err, "option %.*s requires argument\n", len, arg);
    else if (optopt != 0)
        fprintf(err, "option %.*s must not have an argument\n", len, arg);
    else
        fprintf(err, "option %.*s not recognized\n", len, arg);
    fputs(usage_text, err);
    return NQ_PARSE_BAD;
}

static enum nq_parse operands(struct nq_opts *o, int argc, char **argv, FILE *err)
{
    int family = o->family;
    for (int i = optind; i < argc; i++) {
        const char *t = argv[i];
        if (t[0] == '-') {
            size_t l = strlen(t);
            if (t[l - 1] == '4' || t[l - 1] == '6') {
                family = t[l - 1] == '4' ? AF_INET : AF_INET6;
                continue;
            }
            fprintf(err, "ntpq: unexpected option-like thing.\n");
            return NQ_PARSE_BAD;
        }
        if (o->nhosts == NQ_MAX_HOSTS) {
            fprintf(err, "ntpq: too many hosts (at most %d)\n", NQ_MAX_HOSTS);
            return NQ_PARSE_BAD;
        }
        o->hosts[o->nhosts++] = (struct nq_host){.name = t, .family = family};
    }
    if (o->nhosts == 0)
        o->hosts[o->nhosts++] = (struct nq_host){.name = "localhost", .family = family};
    return NQ_PARSE_RUN;
}

enum nq_parse nq_opts_parse(int argc, char **argv, struct nq_opts *o, FILE *out, FILE *err)
{
    memset(o, 0, sizeof *o);
    o->family = AF_UNSPEC;
    o->showhostnames = 1;
    opterr = 0;
    optind = 0;
    int c, at = 1;
    while ((c = getopt_long(argc, argv, "+:46a:c:dD:hjk:l:npsSuVwW:", long_opts, NULL)) !=
           -1) {
        if (c == 'h') {
            fputs(usage_text, out);
            return NQ_PARSE_DONE;
        }
        if (c == 'V') {
            fprintf(out, "ntpq ntpkit-%s\n", NTK_VERSION);
            return NQ_PARSE_DONE;
        }
        if (c == '?' || c == ':')
            return bad_option(argv, c, at, err);
        if (!take(o, c, optarg, err))
            return NQ_PARSE_BAD;
        at = optind;
    }
    return operands(o, argc, argv, err);
}
