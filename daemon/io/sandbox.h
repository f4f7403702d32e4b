/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's system-call sandbox: PR_SET_NO_NEW_PRIVS and a seccomp allow-list (libseccomp) of
 * what the running daemon calls, installed once everything is open and root is dropped. */
#ifndef NTK_SANDBOX_H
#define NTK_SANDBOX_H

#include <stdbool.h>

/* --seccomp=MODE. NTPsec has no runtime switch (its filter is a build option that logs and
 * kills); these names are ours. */
enum sandbox_mode {
    SANDBOX_KILL = 0, /* "kill" (also "on"), the default: a call off the list is named in
                       * ntpd's log (SIGSYS handler) and the process dies of SIGSYS */
    SANDBOX_LOG,      /* "log": a call off the list runs, and the kernel logs it (audit
                       * record type=1326 in the kernel log, "syscall=N") */
    SANDBOX_OFF,      /* "off": no filter (valgrind, debugging); NO_NEW_PRIVS still set */
};

/* The default mode: kill, except in an AddressSanitizer build, whose leak check at exit
 * stops the process with ptrace from a new process (refused calls): log there. */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_DEFAULT SANDBOX_LOG
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_DEFAULT SANDBOX_LOG
#endif
#endif
#ifndef SANDBOX_DEFAULT
#define SANDBOX_DEFAULT SANDBOX_KILL
#endif

/* "kill", "on", "log" or "off" into *out. Returns true, or false (out unchanged). */
bool sandbox_parse_mode(const char *text, enum sandbox_mode *out);

/* The mode's name ("kill", "log", "off"). */
const char *sandbox_mode_name(enum sandbox_mode m);

/* Sets PR_SET_NO_NEW_PRIVS: no execve may gain privileges from now on (set-user-ID files,
 * file capabilities). Returns 0, or a negative errno. */
int sandbox_no_new_privs(void);

/* Before the privilege drop (the log file is still writable): opens what the SIGSYS
 * handler of kill mode writes to (the log file again, O_APPEND, or stderr) and names every
 * system call number of this architecture, so the handler needs no allocation. */
void sandbox_prepare(enum sandbox_mode m);

/* Sets NO_NEW_PRIVS and, unless mode is off, loads the allow-list on every thread of the
 * process (TSYNC: the resolver's thread too). Logs what it did. Returns 0, or 1 after
 * logging why (then the caller must not go on in kill or log mode). */
int sandbox_apply(enum sandbox_mode m);

/* --seccomp-selftest: makes one call that is not on the list (personality(0xffffffff),
 * which only reads the current persona, so nothing changes if it does run). In kill mode
 * the process dies of SIGSYS here; in log mode it returns after the kernel logged it. */
void sandbox_selftest(void);

#endif /* NTK_SANDBOX_H */
