/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's command line: NTPsec's options (features.md §2.7) plus --check-config and
 * --observe. Parsing only: what the options mean is applied by main.c. */
#ifndef NTK_OPTS_H
#define NTK_OPTS_H

#include <stdbool.h>
#include <stdint.h>

/* Most -t, -z and -Z options kept. */
#define OPTS_LIST_MAX 32

struct ntpd_opts {
    int family;             /* 0, or AF_INET (-4) / AF_INET6 (-6) */
    const char *config;     /* -c file (NULL: the default, /etc/ntp.conf) */
    int debug;              /* -d (counted) / -D n */
    const char *driftfile;  /* -f */
    bool panic_gate;        /* -g: allow one first adjustment beyond the panic threshold */
    bool step_first;        /* -G: step any initial offset (NTPsec HEAD) */
    const char *chroot_dir; /* -i */
    const char *interfaces[OPTS_LIST_MAX]; /* -I iface (repeatable) */
    int ninterfaces;
    const char *keysfile;            /* -k */
    const char *logfile;             /* -l */
    bool no_virtual;                 /* -L */
    bool foreground;                 /* -n */
    bool raise_priority;             /* -N */
    int priority;                    /* -P n (0: unchanged) */
    const char *pidfile;             /* -p */
    bool once;                       /* -q: set the clock once and exit */
    const char *statsdir;            /* -s */
    uint32_t trusted[OPTS_LIST_MAX]; /* -t key (repeatable) */
    int ntrusted;
    const char *user; /* -u user[:group] */
    long rescan_s;    /* -U seconds (-1: not given) */
    long wait_sync_s; /* -w seconds (-1: not given) */
    bool slew_only;   /* -x: step threshold 600 s, no kernel discipline (NTPsec) */
    const char *setvars[OPTS_LIST_MAX]; /* -z / -Z var=value */
    bool setvar_default[OPTS_LIST_MAX]; /* true for -Z (listed by default) */
    int nsetvars;
    bool mdns;                          /* -m: NTPsec's mDNS registration (not built) */
    const char *servers[OPTS_LIST_MAX]; /* the arguments: servers, `server NAME iburst` */
    int nservers;
    bool check_config; /* --check-config: parse, report every error, exit */
    bool observe;      /* --observe: compute and serve, never touch the clock */
    long coalesce_us;  /* --coalesce: the longest wait for requests to gather under load
                          (coalesce.h; default 50, 0: off) */
    /* sandbox */
    int seccomp;           /* --seccomp=MODE: an enum sandbox_mode (0: kill, the default) */
    bool seccomp_selftest; /* --seccomp-selftest: make a refused call once sandboxed */
};

/* What opts_parse decided. */
enum opts_result {
    OPTS_RUN,  /* go on */
    OPTS_DONE, /* --help / --version printed: exit 0 */
    OPTS_BAD,  /* a usage error was reported on stderr: exit 2 */
};

/* Parses argv (NTPsec's short options and their long forms) into *o, defaults first. */
enum opts_result opts_parse(int argc, char **argv, struct ntpd_opts *o);

#endif /* NTK_OPTS_H */
