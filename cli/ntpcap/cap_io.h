/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpcap's input: libpcap reads a file (pcap or pcapng, nanosecond precision) or captures
 * live, applies the BPF expression, optionally copies every frame to -w, drops privileges
 * before the first live frame, and feeds each frame to the analyzer core. */
#ifndef NTK_CAP_IO_H
#define NTK_CAP_IO_H

#include <stdbool.h>
#include <stdint.h>

#include "cap.h"
#include "cap_opts.h"

/* What the input was, for the summary. */
struct cap_io_info {
    const char *source;          /* the file name or interface */
    bool live;                   /* -i */
    int link;                    /* libpcap's DLT_ value */
    const char *link_name;       /* e.g. "EN10MB" */
    bool nano;                   /* time stamps have nanosecond resolution */
    const char *tstamp;          /* live: the time stamp type name ("host" by default) */
    uint64_t frames;             /* frames read (after the filter) */
    uint64_t recv, drop, ifdrop; /* live: pcap_stats at the end */
    bool stats_known;            /* recv/drop/ifdrop are meaningful */
    const char *user;            /* live: the user run as after the drop ("root": kept) */
};

/* Reads or captures as o says and feeds every frame to c; on the first frame of a live
 * capture the privileges are already dropped. Stops at the end of the file, after -c frames,
 * after --duration, or when cap_io_stop is called. Writes *info (also on failure, as far as
 * it got). Returns 0, or 1 after printing a diagnostic. */
int cap_io_run(const struct cap_opts *o, struct cap *c, struct cap_io_info *info);

/* Asks a running cap_io_run to stop (async-signal-safe: for SIGINT/SIGTERM handlers). */
void cap_io_stop(void);

/* Drops privileges for user (NULL: "ntpcap" if that user exists, else "nobody"; "root":
 * keep them): setgroups, setgid, setuid when running as root, then every capability cleared
 * and PR_SET_NO_NEW_PRIVS; each step checked. *as is the user name now in effect. Returns 0,
 * or 1 after printing a diagnostic. */
int cap_io_drop_privileges(const char *user, const char **as);

#endif /* NTK_CAP_IO_H */
