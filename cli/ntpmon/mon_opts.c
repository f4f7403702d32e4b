/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpmon's command line: NTPsec ntpmon's options plus --once, --json, --no-color, --delay. */
#include "mon_opts.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cli_num.h"

#include "poison.h"

#ifndef NTK_VERSION
#define NTK_VERSION "0"
#endif

static const char usage_text[] =
    "Usage: ntpmon [options] [host ...]\n"
    "Live view of NTP daemons over mode 6 (NTP control): system state, sources, MRU list.\n"
    "With no host, localhost is watched; Tab switches between several hosts.\n"
    "\n"
    "  -4, --ipv4                  resolve host names to IPv4 addresses only\n"
    "  -6, --ipv6                  resolve host names to IPv6 addresses only\n"
    "  -d, --debug                 more debugging output (repeatable)\n"
    "  -D, --set-debug-level=N     set the debugging level\n"
    "  -h, --help                  show this help and exit\n"
    "  -l, --logfile=FILE          write debugging messages to FILE\n"
    "  -n, --numeric               show numeric addresses, not configured names\n"
    "  -u, --units                 show time values with units\n"
    "  -V, --version               show the version and exit\n"
    "      --delay=SECONDS         refresh every SECONDS (default: NTPsec's rule)\n"
    "      --timeout=MS            give up on one fetch after MS milliseconds (2000)\n"
    "      --once                  print one screen as text and exit\n"
    "      --json                  print the model as JSON and exit\n"
    "      --no-color              no colours (also when NO_COLOR is set)\n"
    "      --ascii                 draw ASCII only, even in a UTF-8 locale\n"
    "\n"
    "Keys: h or F1 for help, q or F10 to quit. Exit status: 0, 1 when every host failed\n"
    "(--once, --json), 2 for a usage error. See ntpmon(1).\n";

enum { OPT_DELAY = 0x100, OPT_TIMEOUT, OPT_ONCE, OPT_JSON, OPT_NOCOLOR, OPT_ASCII };

static const struct option long_opts[] = {
    {"ipv4", no_argument, NULL, '4'},
    {"ipv6", no_argument, NULL, '6'},
    {"debug", no_argument, NULL, 'd'},
    {"set-debug-level", required_argument, NULL, 'D'},
    {"help", no_argument, NULL, 'h'},
    {"logfile", required_argument, NULL, 'l'},
    {"numeric", no_argument, NULL, 'n'},
    {"units", no_argument, NULL, 'u'},
    {"version", no_argument, NULL, 'V'},
    {"delay", required_argument, NULL, OPT_DELAY},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"once", no_argument, NULL, OPT_ONCE},
    {"json", no_argument, NULL, OPT_JSON},
    {"no-color", no_argument, NULL, OPT_NOCOLOR},
    {"ascii", no_argument, NULL, OPT_ASCII},
    {NULL, 0, NULL, 0},
};

void mon_opts_usage(FILE *f)
{
    fputs(usage_text, f);
}

void mon_opts_version(FILE *f)
{
    fprintf(f, "ntpmon ntpkit-%s\n", NTK_VERSION);
}

/* "ntpmon: OPT: 'ARG' WHAT", then the usage. */
static int usage_error(FILE *err, const char *opt, const char *arg, const char *what)
{
    fprintf(err, "ntpmon: %s: '%s' %s\n", opt, arg, what);
    fputs(usage_text, err);
    return MON_EXIT_USAGE;
}

/* Applies option c; argv_at is the argument getopt was looking at (for messages). */
static int one_opt(int c, const char *argv_at, struct mon_opts *o, FILE *err)
{
    long l;
    double d;
    switch (c) {
    case '4':
    case '6':
        o->family = c == '4' ? AF_INET : AF_INET6;
        return 0;
    case 'd':
        o->debug++;
        return 0;
    case 'D':
        if (!cli_parse_long(optarg, 0, 1000, &l))
            return usage_error(err, "-D", optarg, "is not a debug level (0-1000)");
        o->debug = (int)l;
        return 0;
    case 'h':
        o->help = true;
        return 0;
    case 'l':
        o->logfile = optarg;
        return 0;
    case 'n':
        o->numeric = true;
        return 0;
    case 'u':
        o->units = true;
        return 0;
    case 'V':
        o->version = true;
        return 0;
    case OPT_DELAY:
        if (!cli_parse_double(optarg, 0.1, 86400, &d))
            return usage_error(err, "--delay", optarg,
                               "is not a number of seconds (0.1-86400)");
        o->delay_s = d;
        return 0;
    case OPT_TIMEOUT:
        if (!cli_parse_long(optarg, 10, 600000, &l))
            return usage_error(err, "--timeout", optarg, "is not milliseconds (10-600000)");
        o->timeout_ms = (int)l;
        return 0;
    case OPT_ONCE:
        o->once = true;
        return 0;
    case OPT_JSON:
        o->json = true;
        return 0;
    case OPT_NOCOLOR:
        o->color = false;
        return 0;
    case OPT_ASCII:
        o->ascii = true;
        return 0;
    default: /* getopt's '?': an unknown option or a missing argument */
        if (optopt != 0)
            fprintf(err, "ntpmon: option -%c: unknown, or its argument is missing\n", optopt);
        else
            fprintf(err, "ntpmon: %s: unknown option, or its argument is missing\n", argv_at);
        fputs(usage_text, err);
        return MON_EXIT_USAGE;
    }
}

int mon_opts_parse(int argc, char *const argv[], const char *env_no_color, struct mon_opts *o,
                   FILE *err)
{
    struct mon_opts r = {.color = true, .timeout_ms = 2000, .family = AF_UNSPEC};
    if (env_no_color != NULL && env_no_color[0] != '\0')
        r.color = false;
    optind = 0; /* glibc: full re-initialisation, so the parser can run again */
    opterr = 0; /* messages go to err */
    int c;
    while ((c = getopt_long(argc, argv, "46dD:hl:nuV", long_opts, NULL)) != -1) {
        int rc = one_opt(c, argv[optind > 1 ? optind - 1 : 0], &r, err);
        if (rc != 0)
            return rc;
    }
    for (int i = optind; i < argc; i++) {
        if (r.n_hosts == MON_HOSTS_MAX)
            return usage_error(err, "host", argv[i], "is one too many (at most 8 hosts)");
        if (argv[i][0] == '\0')
            return usage_error(err, "host", "", "is empty");
        r.hosts[r.n_hosts++] = argv[i];
    }
    if (r.n_hosts == 0)
        r.hosts[r.n_hosts++] = "localhost";
    if (r.debug > 0 && r.logfile == NULL)
        r.logfile = "ntpmon.log"; /* NTPsec: debugging goes to ntpmon.log by default */
    *o = r;
    return 0;
}

int mon_print_frame(const struct mon_model *m, double now_unix_s, int width, int height,
                    FILE *f)
{
    struct mon_line *lines = calloc((size_t)(height > 0 ? height : 1), sizeof *lines);
    if (lines == NULL)
        return -1;
    struct mon_frame fr = {width, height, lines};
    mon_model_layout(m, now_unix_s, &fr);
    for (int y = 0; y < height; y++) {
        size_t l = strlen(lines[y].text);
        while (l > 0 && lines[y].text[l - 1] == ' ')
            l--;
        fwrite(lines[y].text, 1, l, f);
        fputc('\n', f);
    }
    free(lines);
    return 0;
}

void mon_print_json(const struct mon_model *m, double now_unix_s, FILE *f)
{
    json_object *o = mon_model_json(m, now_unix_s);
    fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                JSON_C_TO_STRING_NOSLASHESCAPE),
          f);
    fputc('\n', f);
    json_object_put(o);
}

void mon_term_size(const char *cols, const char *rows, int *width, int *height)
{
    long v;
    *width = cols && cli_parse_long(cols, 1, 1000, &v) ? (int)v : 80;
    *height = rows && cli_parse_long(rows, 1, 1000, &v) ? (int)v : 24;
}
