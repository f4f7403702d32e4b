/* SPDX-License-Identifier: BSD-2-Clause */
/* The variables ntpd reports over mode 6 (READVAR of the system and of associations), with
 * NTPsec's names, units, formats and default lists (features.md §2.5), written from one
 * consistent snapshot of the daemon (struct ctlv_src). Sans-IO: the shell fills the
 * snapshot (daemon/io), the responder (ctlsrv.c) calls these to build a response's data.
 * Units are converted only through lib/ctlvars (ms, ppm, hex timestamps). */
#ifndef NTK_CTLV_H
#define NTK_CTLV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "mru.h"
#include "ntk/tok.h"
#include "ntk/ctlvars.h"
#include "ntk/leapfile.h"
#include "server.h"
#include "snap.h"

/* One user-defined system variable (`setvar name = value [default]`, -z, -Z). */
struct ctlv_setvar {
    const char *name;  /* NUL-terminated (borrowed) */
    const char *value; /* NUL-terminated, written as given (borrowed) */
    bool deflt;        /* listed by a bare `rv` */
};

/* The kernel's clock state for kerninfo (read by the shell with ntp_adjtime(modes 0); all
 * zero and valid false when it could not be read). */
struct ctlv_kernel {
    bool valid;
    double offset_s, freq_ppm, maxerror_s, esterror_s; /* koffset kfreq kmaxerr kesterr */
    unsigned status;                                   /* kstflags */
    long constant;                                     /* ktimeconst */
    double precision_s, tolerance_ppm;                 /* kprecis kfreqtol */
};

/* Counters the shell keeps (iostats, timerstats, control requests, auth). Never reset. */
struct ctlv_io {
    uint64_t received, sent, send_failed, dropped, ignored; /* io_* */
    uint64_t wakeups, pkt_reads;                            /* io_wakeups io_pkt_reads */
    uint64_t timer_overruns, timer_xmts;                    /* timer_* */
    uint64_t ctl_requests;                                  /* ss_numctlreq */
    uint64_t auth_decrypts, auth_encrypts, auth_fails;      /* authinfo (all algorithms) */
    uint64_t auth_keys;                                     /* authkeys: trusted keys */
};

/* Everything the variables are read from. Borrowed pointers, valid during one call. */
struct ctlv_src {
    const struct snap_system *sys;     /* the engine's system variables */
    const struct snap_counters *ctr;   /* the engine's counters */
    const struct snap_assoc *assocs;   /* the associations */
    size_t nassocs;                    /* how many */
    const struct srv_stats *srv;       /* the server's counters (sysstats) */
    const struct mru_stats *mru;       /* client list counters (monstats); NULL: disabled */
    size_t mru_entries, mru_capacity;  /* entries in use / most (monstats) */
    const struct ctlv_io *io;          /* the shell's counters */
    const struct ctlv_kernel *kern;    /* kerninfo */
    const struct ntk_leap_table *leap; /* the leap file (tai leapsec expire); NULL: none */
    const struct ctlv_setvar *setvars; /* user-defined variables */
    size_t nsetvars;                   /* how many */
    const char *version;               /* "ntpd ntpkit-1.0.0 ..." */
    const char *processor, *system, *release; /* uname machine, sysname, release */
    struct timespec now;                      /* CLOCK_REALTIME (the `clock` variable) */
    int64_t now_mono_ns;                      /* monotonic now */
    int64_t start_mono_ns;                    /* when ntpd started (ss_uptime) */
    int64_t reset_mono_ns;                    /* the last hourly stats reset (ss_reset) */
};

/* Writes the system variables named in names[0..len) (a request's data: names separated
 * by commas, values ignored; empty: NTPsec's default list for a bare `rv`) to w in the
 * order asked. Returns 0; NTK_ENOTFOUND for a name that is not a system variable, with
 * that name in *bad (the responder then answers CERR_UNKNOWNVAR, as NTPsec). */
int ctlv_sys(const struct ctlv_src *s, const char *names, size_t len, struct ntk_cvar_wr *w,
             struct ntk_span *bad);

/* The same for association a's peer variables (`rv ASSOC`). */
int ctlv_peer(const struct ctlv_src *s, const struct snap_assoc *a, const char *names,
              size_t len, struct ntk_cvar_wr *w, struct ntk_span *bad);

/* The system status word (RFC 9327 §2.2.1) and association a's peer status word (§2.2.2), as
 * READSTAT / READVAR responses carry them. */
uint16_t ctlv_sys_status(const struct ctlv_src *s);
uint16_t ctlv_peer_status(const struct ctlv_src *s, const struct snap_assoc *a);

#endif /* NTK_CTLV_H */
