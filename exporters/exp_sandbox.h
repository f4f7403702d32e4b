/* SPDX-License-Identifier: BSD-2-Clause */
/* The exporter's seccomp allow-list (--seccomp=MODE): what serving HTTP, reading mode 6 and
 * probing (SNTP, NTS-KE over TLS, getaddrinfo) call; installed on every thread once the port
 * is bound and root is dropped. */
#ifndef NTK_EXP_SANDBOX_H
#define NTK_EXP_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

/* --seccomp modes, as ntpd's. */
enum exp_seccomp {
    EXP_SECCOMP_KILL = 0, /* "kill" / "on" (default): a call off the list kills the process */
    EXP_SECCOMP_LOG,      /* "log": it runs, and the kernel logs it (audit type=1326) */
    EXP_SECCOMP_OFF,      /* "off": no filter (valgrind, debugging) */
};

/* "kill", "on", "log" or "off" into *out. Returns true, or false (out unchanged). */
bool exp_seccomp_parse(const char *text, enum exp_seccomp *out);

/* Loads the filter on every thread (TSYNC), unless mode is off. Returns 0, or -1 with why
 * set. NO_NEW_PRIVS must be set already (exp_priv_no_new_privs). */
int exp_sandbox_apply(enum exp_seccomp mode, char *why, size_t cap);

#endif /* NTK_EXP_SANDBOX_H */
