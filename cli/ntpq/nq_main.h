/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpq's command line (nq_opts.c) and program flow (nq_main.c). */
#ifndef NTK_NQ_MAIN_H
#define NTK_NQ_MAIN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "nq_cmd.h"

/* Everything the command line says. */
struct nq_opts {
    int family;                         /* AF_UNSPEC, AF_INET (-4), AF_INET6 (-6) */
    uint32_t keyid;                     /* -a, 0 none */
    const char *keyfile;                /* -k */
    const char *logfile;                /* -l */
    const char *cmds[NQ_MAX_CMDS];      /* -c and -p, in order */
    size_t ncmds;                       /* how many */
    struct nq_host hosts[NQ_MAX_HOSTS]; /* operands (localhost when none) */
    size_t nhosts;                      /* how many */
    int debug;                          /* -d (counted) / -D */
    int showhostnames;                  /* 1 default, 0 -n, 3 -s, 2 -S */
    bool wide;                          /* -w */
    int width;                          /* -W, 0 when not given */
    bool units;                         /* -u */
    bool json;                          /* -j */
};

/* What nq_opts_parse decided. */
enum nq_parse {
    NQ_PARSE_RUN,  /* go on */
    NQ_PARSE_DONE, /* --help or --version printed: exit 0 */
    NQ_PARSE_BAD,  /* a usage error was reported on err: exit NQ_EXIT_FAIL */
};

/* Parses argv as NTPsec's ntpq does (options first, then hosts; "-4"/"-6" operands set the
 * family). Help and version go to out, errors to err. */
enum nq_parse nq_opts_parse(int argc, char **argv, struct nq_opts *o, FILE *out, FILE *err);

/* The whole program. Returns the exit status. */
int nq_main(int argc, char **argv);

#endif /* NTK_NQ_MAIN_H */
