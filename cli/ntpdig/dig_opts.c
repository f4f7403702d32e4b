/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpdig's command line: NTPsec's options, short and long, with strict number checks. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cli_num.h"
#include "dig.h"
#include "ntk/aead.h"
#include "ntk/nts_ke.h"

#include "poison.h"

#ifndef NTK_VERSION
#define NTK_VERSION "0"
#endif

static const char usage_text[] =
    "Usage: ntpdig [options] [host ...]\n"
    "Query NTP servers once (SNTP) and print the time; optionally set the clock.\n"
    "With no host, localhost is queried.\n"
    "\n"
    "  -4, --ipv4                  resolve host names to IPv4 addresses only\n"
    "  -6, --ipv6                  resolve host names to IPv6 addresses only\n"
    "  -a, --authentication=KEYID  sign requests with key KEYID of the keys file (needs -k)\n"
    "  -c, --concurrent=HOST       query every address of HOST at once (repeatable)\n"
    "  -d, --debug                 more debugging output on the log (repeatable)\n"
    "  -D, --set-debug-level=N     set the debugging level\n"
    "  -g, --gap=MS                gap between requests, milliseconds (default 50)\n"
    "  -h, --help                  show this help and exit\n"
    "  -I, --bindaddr=ADDR         send requests from local address ADDR\n"
    "  -j, --json                  JSON output, one object per line per sample\n"
    "  -k, --keyfile=FILE          keys file (NTPsec format) for -a\n"
    "  -l, --logfile=FILE          write diagnostics to FILE instead of stderr\n"
    "  -M, --steplimit=MS          with -S and -s: slew up to MS ms, step above (default 0)\n"
    "  -p, --samples=N             samples per server, the best is kept (default 1)\n"
    "  -S, --step                  step the clock (clock_settime)\n"
    "  -s, --slew                  slew the clock (adjtime)\n"
    "  -t, --timeout=SECONDS       wait this long for each reply (default 5)\n"
    "  -V, --version               show the version and exit\n"
    "      --port=PORT             server UDP port (default 123)\n"
    "      --nts                   use NTS (RFC 8915): NTS-KE with the one host, then one\n"
    "                              authenticated exchange; prints the TLS diagnosis\n"
    "      --nts-ca=FILE           trust the CA certificates in FILE (default: system store)\n"
    "      --nts-noval             do not verify the server certificate (tests only)\n"
    "      --nts-port=PORT         NTS-KE TCP port (default 4460)\n"
    "      --nts-aead=NAME         AEAD to offer (default AEAD_AES_SIV_CMAC_256)\n"
    "\n"
    "Exit status: 0 a server answered (and any adjustment worked), 1 no eligible server\n"
    "or the adjustment failed, 2 usage error. See ntpdig(1).\n";

/* Long-only options (values outside the short option characters). */
enum { OPT_NTS = 256, OPT_NTS_CA, OPT_NTS_NOVAL, OPT_NTS_PORT, OPT_NTS_AEAD };

static const struct option long_opts[] = {
    {"ipv4", no_argument, NULL, '4'},
    {"ipv6", no_argument, NULL, '6'},
    {"authentication", required_argument, NULL, 'a'},
    {"concurrent", required_argument, NULL, 'c'},
    {"debug", no_argument, NULL, 'd'},
    {"set-debug-level", required_argument, NULL, 'D'},
    {"gap", required_argument, NULL, 'g'},
    {"help", no_argument, NULL, 'h'},
    {"bindaddr", required_argument, NULL, 'I'},
    {"json", no_argument, NULL, 'j'},
    {"keyfile", required_argument, NULL, 'k'},
    {"logfile", required_argument, NULL, 'l'},
    {"steplimit", required_argument, NULL, 'M'},
    {"samples", required_argument, NULL, 'p'},
    {"replay", required_argument, NULL, 'r'},
    {"step", no_argument, NULL, 'S'},
    {"slew", no_argument, NULL, 's'},
    {"timeout", required_argument, NULL, 't'},
    {"version", no_argument, NULL, 'V'},
    {"port", required_argument, NULL, 'P'},
    {"nts", no_argument, NULL, OPT_NTS},
    {"nts-ca", required_argument, NULL, OPT_NTS_CA},
    {"nts-noval", no_argument, NULL, OPT_NTS_NOVAL},
    {"nts-port", required_argument, NULL, OPT_NTS_PORT},
    {"nts-aead", required_argument, NULL, OPT_NTS_AEAD},
    {NULL, 0, NULL, 0},
};

static void set_defaults(struct dig_opts *o)
{
    memset(o, 0, sizeof *o);
    o->family = AF_UNSPEC;
    o->gap_s = 0.05;
    o->timeout_s = 5.0;
    o->samples = 1;
    o->port = 123;
    o->nts_port = NTK_KE_PORT_DEFAULT;
}

static bool bad_number(const char *opt, const char *val)
{
    fprintf(stderr, "ntpdig: invalid number for %s: '%s' (see ntpdig --help)\n", opt, val);
    return false;
}

static bool add_host(struct dig_opts *o, const char *name, bool concurrent)
{
    if (o->nhosts == DIG_MAX_HOSTS) {
        fprintf(stderr, "ntpdig: too many servers (at most %d)\n", DIG_MAX_HOSTS);
        return false;
    }
    o->hosts[o->nhosts++] = (struct dig_host){.name = name, .concurrent = concurrent};
    return true;
}

/* The options with a numeric argument. */
static bool take_number(struct dig_opts *o, int c, const char *v)
{
    long n = 0;
    double d = 0;
    switch (c) {
    case 'a':
        if (!cli_parse_long(v, 1, NTK_MAC_KEYID_MAX, &n))
            return bad_number("-a", v);
        o->key_id = (uint32_t)n;
        return true;
    case 'D':
        if (!cli_parse_long(v, 0, 100, &n))
            return bad_number("-D", v);
        o->debug = (int)n;
        return true;
    case 'g':
        if (!cli_parse_double(v, 0, 60000, &d))
            return bad_number("-g", v);
        o->gap_s = d / 1000.0;
        return true;
    case 'M':
        if (!cli_parse_double(v, 0, 1e9, &d))
            return bad_number("-M", v);
        o->steplimit_s = d / 1000.0;
        return true;
    case 'p':
        if (!cli_parse_long(v, -1000000, DIG_MAX_SAMPLES, &n))
            return bad_number("-p", v);
        o->samples = n < 1 ? 1 : n; /* as NTPsec: fewer than one means one */
        return true;
    case 't':
        if (!cli_parse_double(v, 0.001, 3600, &d))
            return bad_number("-t", v);
        o->timeout_s = d;
        return true;
    case 'P':
        if (!cli_parse_long(v, 1, 65535, &n))
            return bad_number("--port", v);
        o->port = (uint16_t)n;
        return true;
    case OPT_NTS_PORT:
        if (!cli_parse_long(v, 1, 65535, &n))
            return bad_number("--nts-port", v);
        o->nts_port = (uint16_t)n;
        o->nts_opt = true;
        return true;
    default:
        return false;
    }
}

/* One option; false after reporting a usage error. */
static bool take_option(struct dig_opts *o, int c, const char *v)
{
    switch (c) {
    case '4':
        o->family = AF_INET;
        return true;
    case '6':
        o->family = AF_INET6;
        return true;
    case 'c':
        return add_host(o, v, true);
    case 'd':
        o->debug++;
        return true;
    case 'I':
        o->bindaddr = v;
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
    case 'r':
        o->replay = v;
        return true;
    case 'S':
        o->step = true;
        return true;
    case OPT_NTS:
        o->nts = true;
        return true;
    case OPT_NTS_CA:
        o->nts_ca = v;
        o->nts_opt = true;
        return true;
    case OPT_NTS_NOVAL:
        o->nts_noval = true;
        o->nts_opt = true;
        return true;
    case OPT_NTS_AEAD:
        o->nts_aead = ntk_aead_from_name(v);
        o->nts_opt = true;
        if (o->nts_aead == 0 || !ntk_aead_supported(o->nts_aead)) {
            fprintf(stderr,
                    "ntpdig: unknown AEAD for --nts-aead: '%s' (AEAD_AES_SIV_CMAC_256, "
                    "_384 or _512)\n",
                    v);
            return false;
        }
        return true;
    case 's':
        o->slew = true;
        return true;
    default:
        return take_number(o, c, v);
    }
}

/* at is optind before the getopt_long call that failed: a long option always moves optind
 * past itself, a short one inside a cluster does not. */
static enum dig_parse unknown_option(char **argv, int c, int at)
{
    const char *arg = optind > at ? argv[optind - 1] : "";
    int len = (int)strcspn(arg, "=");
    if (strncmp(arg, "--", 2) != 0) {
        if (c == ':')
            fprintf(stderr, "ntpdig: option -%c needs an argument (see ntpdig --help)\n",
                    optopt);
        else
            fprintf(stderr, "ntpdig: unknown option -%c (see ntpdig --help)\n", optopt);
    } else if (c == ':')
        fprintf(stderr, "ntpdig: option %.*s needs an argument (see ntpdig --help)\n", len,
                arg);
    else if (optopt != 0)
        fprintf(stderr, "ntpdig: option %.*s takes no argument (see ntpdig --help)\n", len,
                arg);
    else
        fprintf(stderr, "ntpdig: unknown option %.*s (see ntpdig --help)\n", len, arg);
    return DIG_PARSE_BAD;
}

/* --nts makes one KE and one exchange with one server, authenticated by NTS alone. */
static enum dig_parse check_nts(const struct dig_opts *o)
{
    const char *clash = NULL;
    if (!o->nts)
        clash =
            o->nts_opt ? "--nts-ca, --nts-noval, --nts-port and --nts-aead need --nts" : NULL;
    else if (o->key_id != 0)
        clash = "--nts and -a cannot be combined (NTS authenticates the reply)";
    else if (o->replay != NULL)
        clash = "--nts and -r cannot be combined";
    else if (o->nhosts != 1)
        clash = "--nts takes exactly one server";
    else if (o->samples > 1)
        clash = "--nts makes one exchange (-p is not supported with it)";
    if (clash == NULL)
        return DIG_PARSE_RUN;
    fprintf(stderr, "ntpdig: %s\n", clash);
    return DIG_PARSE_BAD;
}

static enum dig_parse finish(struct dig_opts *o, int argc, char **argv)
{
    for (int i = optind; i < argc; i++)
        if (!add_host(o, argv[i], false))
            return DIG_PARSE_BAD;
    if (o->key_id != 0 && o->keyfile == NULL) {
        fprintf(stderr, "ntpdig: -a option requires -k (a keys file)\n");
        return DIG_PARSE_BAD;
    }
    if (o->nhosts == 0 && o->replay == NULL)
        add_host(o, "localhost", false);
    return check_nts(o);
}

enum dig_parse dig_opts_parse(int argc, char **argv, struct dig_opts *o)
{
    set_defaults(o);
    opterr = 0;
    optind = 0; /* glibc: 0 re-initialises getopt completely, 1 keeps its cluster state */
    int c, at = 1;
    while ((c = getopt_long(argc, argv, ":46a:c:dD:g:hI:jk:l:M:p:r:Sst:V", long_opts, NULL)) !=
           -1) {
        if (c == 'h') {
            fputs(usage_text, stdout);
            return DIG_PARSE_DONE;
        }
        if (c == 'V') {
            printf("ntpdig ntpkit-%s\n", NTK_VERSION);
            return DIG_PARSE_DONE;
        }
        if (c == '?' || c == ':')
            return unknown_option(argv, c, at);
        if (!take_option(o, c, optarg))
            return DIG_PARSE_BAD;
        at = optind;
    }
    return finish(o, argc, argv);
}
