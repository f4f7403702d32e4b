/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd as a whole: the engine and the server wired to sockets, the resolver and the loop
 * (ARCHITECTURE.md "The daemon's shape"). main.c parses the command line and calls
 * ntpd_setup, ntpd_run and ntpd_free. */
#ifndef NTK_DAEMON_H
#define NTK_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "coalesce.h"
#include "conf.h"
#include "dstats.h"
#include "engine.h"
#include "files.h"
#include "iface.h"
#include "ntk/leapfile.h"
#include "loop.h"
#include "mru.h"
#include "net.h"
#include "opts.h"
#include "resolve.h"
#include "restrict.h"
#include "server.h"

/* Most server sockets: the two wildcards and the addresses the interface rules open
 * (bounded by the loop's LOOP_FDS_MAX, which the other descriptors share). */
#define NTPD_SERVER_SOCKS 48

/* Servers whose local address mode 6 reports (ENG_SERVERS_MAX and the pools' members). */
#define NTPD_CLI_LOCAL_MAX 64

struct ctlsrv; /* daemon/core/ctlsrv.h */

struct ntpd {
    struct ntpd_opts opts;
    struct conf conf;
    struct loop *loop;
    struct resolver *resolver;
    struct eng *eng;
    struct rst_table *rst;
    struct mru *mru;
    struct srv srv;
    struct ntk_mac_keys *keys;     /* trusted symmetric keys (NULL: none) */
    size_t key_errors;             /* lines in error in the keys file */
    int srv_fd[NTPD_SERVER_SOCKS]; /* server sockets (-1: none) */
    int nsrv_fd;
    int cli_fd4, cli_fd6; /* client sockets (-1: none) */
    /* The local address each server's replies last came to (their IP_PKTINFO), for mode 6's
     * dstadr: the client sockets are bound to the wildcard (dclient.c). */
    struct cli_local {
        struct ntk_addr remote, local;
    } cli_local[NTPD_CLI_LOCAL_MAX];
    size_t n_cli_local;
    int sig_fd;                 /* signalfd for SIGTERM/SIGINT/SIGHUP */
    uint16_t port;              /* the port served (123) */
    int64_t eng_timer;          /* the loop timer for eng_next_deadline (0: none) */
    int64_t status_timer;       /* the periodic status line (0: none) */
    struct drift_policy drift;  /* when to write the drift file */
    struct ntk_leap_table leap; /* the leap file's table, given to the engine */
    struct ntk_leap_entry leap_entries[NTK_LEAPFILE_ENTRIES_MAX];
    struct dleap_watch {     /* dleap.c */
        struct stat st;      /* the file as last read (st_ino 0: never read) */
        int64_t timer;       /* the hourly check (0: none) */
        int64_t interval_ns; /* an hour, or NTK_LEAPFILE_INTERVAL */
        unsigned checks;     /* hourly checks done: every 24th is the daily one */
    } leapw;
    bool pidfile_written; /* remove it at exit */
    bool eng_observe;     /* the engine never touches the clock */
    struct dstats stats;  /* loopstats, peerstats */
    int exit_status;      /* what ntpd_run returns */
    int sync_fd;          /* -w: written to (then closed) at the first synchronisation */
    /* ---- sdnotify: systemd's readiness protocol (sdnotify.h) ---- */
    int notify_fd;        /* connected to $NOTIFY_SOCKET (-1: none) */
    bool notify_ready;    /* READY=1 was sent */
    int64_t notify_timer; /* the fallback READY=1 (0: none) */
    /* ---- txts: kernel transmit timestamps ---- */
    struct net_tx cli_tx4, cli_tx6; /* of cli_fd4 / cli_fd6 (dclient.c) */
    /* ---- interfaces (dlisten.c, iface.c) ---- */
    struct iface_sock srv_sock[NTPD_SERVER_SOCKS]; /* what srv_fd[i] is bound to */
    struct iface_rules nic_rules;                  /* interface lines, -I, -L, -4/-6 */
    int64_t nic_timer;                             /* the -U rescan timer (0: none) */
    int nic_seq;                                   /* addresses opened so far (numbering) */
    uint64_t nic_dropped;                          /* datagrams dropped by `drop` sockets */
    /* iostats (NTPsec's io_*): datagrams handed to the kernel and refused by it, and the
     * readable callbacks of the UDP sockets, those that found a datagram (good) */
    uint64_t io_sent, io_send_failed, io_wakeups, io_good_wakeups;
    struct coalesce serve_coal; /* waits under load (coalesce.h) */
    /* ---- names (dnames.c) ---- */
    struct dnames *names; /* server/restrict names and `restrict source` (NULL: none) */
    /* ---- ctl: mode 6 (dctl.c) ---- */
    struct ctlsrv *ctl; /* the responder, made at the first request (NULL: none yet) */
    /* ---- ctlv: the mode-6 variables' sources (dctlsrc.c) ---- */
    bool ctlv_uname_done;                    /* uname() was called (once) */
    char ctlv_machine[65], ctlv_sysname[65]; /* processor, system */
    char ctlv_release[65];                   /* release */
    /* ---- nts: NTS (dnts.c) ---- */
    struct dnts *nts; /* cookie keys, NTS-KE server and client sessions (NULL: no NTS) */
};

/* The port ntpd serves: 123, or NTK_NTPD_PORT from the environment (tests run several
 * daemons on loopback; NTPsec has no such option). */
uint16_t ntpd_port(void);

/* Builds the daemon from o: reads the configuration (or the built-in default), builds the
 * engine (observe: the null clock driver), the server, the sockets, and registers everything
 * with the loop. Problems are logged; returns 0, or the exit status to use (1). */
int ntpd_setup(struct ntpd *d, const struct ntpd_opts *o);

/* Writes the pidfile, drops root (-u), then runs until SIGTERM/SIGINT, -q's end or a panic.
 * Returns the exit status. */
int ntpd_run(struct ntpd *d);

/* Closes and frees everything (safe after a failed setup). */
void ntpd_free(struct ntpd *d);

/* Parses the configuration o names (or the default) and logs every diagnostic as
 * file:line:col; returns 0 when there was no error, 1 otherwise (--check-config). */
int ntpd_check_config(const struct ntpd_opts *o);

#endif /* NTK_DAEMON_H */
