/* SPDX-License-Identifier: BSD-2-Clause */
/* What ntpd's, the exporter's and ntpcap's seccomp allow-lists (daemon/io/sandbox.c,
 * exporters/exp_sandbox.c, cli/ntpcap/cap_sandbox.c) share: the --seccomp mode names and the
 * libseccomp rules built from lists (calls by name, ioctl requests, socket domains, threads).
 * Each program keeps its own list and decides when to load it. */
#ifndef NTK_SCMP_H
#define NTK_SCMP_H

#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The --seccomp modes, in the order of every program's own enum (0 kill, 1 log, 2 off). */
enum ntk_scmp_mode {
    NTK_SCMP_KILL = 0, /* "kill" (also "on"): a call off the list ends the process */
    NTK_SCMP_LOG,      /* "log": it runs, and the kernel logs it (audit type=1326) */
    NTK_SCMP_OFF,      /* "off": no filter */
};

/* "kill", "on", "log" or "off" into *out. Returns true, or false (out unchanged). */
bool ntk_scmp_parse(const char *text, enum ntk_scmp_mode *out);

/* The mode's name ("kill", "log", "off"). */
const char *ntk_scmp_name(enum ntk_scmp_mode m);

/* A new filter whose default action is def_action (SCMP_ACT_TRAP, _LOG, _KILL_PROCESS),
 * loaded on every thread of the process (TSYNC) and compiled as a binary tree (libseccomp
 * >= 2.5: a handful of comparisons per call on the packet path). Returns it, or NULL with
 * *rc a negative errno. */
scmp_filter_ctx ntk_scmp_new(uint32_t def_action, int *rc);

/* Allows names[0..n) by libseccomp's names; a name this architecture lacks is skipped.
 * Returns 0 or libseccomp's negative errno. */
int ntk_scmp_allow_names(scmp_filter_ctx ctx, const char *const *names, size_t n);

/* Allows ioctl with exactly these requests (the low 32 bits of argument 1). */
int ntk_scmp_allow_ioctls(scmp_filter_ctx ctx, const unsigned long *requests, size_t n);

/* Allows socket() for exactly these domains (argument 0). */
int ntk_scmp_allow_sockets(scmp_filter_ctx ctx, const int *domains, size_t n);

/* Allows clone for threads only (CLONE_THREAD set: never a new process); clone3, whose flags
 * are in memory out of a filter's reach, fails with ENOSYS, and glibc falls back to clone. */
int ntk_scmp_allow_threads(scmp_filter_ctx ctx);

#endif /* NTK_SCMP_H */
