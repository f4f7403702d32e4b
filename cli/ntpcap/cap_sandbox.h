/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpcap's seccomp allow-list (--seccomp=MODE): once the capture is open, -w is open and the
 * privileges are dropped, the packet parser may only read frames, write its output and
 * manage memory; it can no longer open a file, a socket or a process. */
#ifndef NTK_CAP_SANDBOX_H
#define NTK_CAP_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

/* --seccomp modes, with ntpd's and the exporter's names. */
enum cap_seccomp {
    CAP_SECCOMP_KILL = 0, /* "kill" / "on": a call off the list is named on stderr and the
                           * process dies of SIGSYS */
    CAP_SECCOMP_LOG,      /* "log": it runs, and the kernel logs it (audit type=1326) */
    CAP_SECCOMP_OFF,      /* "off": no filter (valgrind, strace -f, debugging) */
};

/* The default: kill, except in an AddressSanitizer build, whose leak check at exit starts a
 * tracer process (a refused clone): log there, as ntpd does. */
#if defined(__SANITIZE_ADDRESS__)
#define CAP_SECCOMP_DEFAULT CAP_SECCOMP_LOG
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CAP_SECCOMP_DEFAULT CAP_SECCOMP_LOG
#endif
#endif
#ifndef CAP_SECCOMP_DEFAULT
#define CAP_SECCOMP_DEFAULT CAP_SECCOMP_KILL
#endif

/* "kill", "on", "log" or "off" into *out. Returns true, or false (out unchanged). */
bool cap_seccomp_parse(const char *text, enum cap_seccomp *out);

/* The mode's name ("kill", "log", "off"). */
const char *cap_seccomp_name(enum cap_seccomp m);

/* Sets PR_SET_NO_NEW_PRIVS and, unless mode is off, loads the allow-list on every thread
 * (TSYNC). Call it after every file and socket the run needs is open. live (-i) also allows
 * opening files read-only: libpcap's pcap_stats reads /sys/class/net/IFACE/statistics.
 * Returns 0, or -1 with why written to why[0..cap) (then the caller must stop: nothing was
 * loaded). */
int cap_sandbox_apply(enum cap_seccomp mode, bool live, char *why, size_t cap);

#endif /* NTK_CAP_SANDBOX_H */
