/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's seccomp allow-list and NO_NEW_PRIVS (sandbox.h). */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/pps.h>
#include <net/if.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "scmp.h"

#include "poison.h"

/* What the running daemon calls, by libseccomp's names (a name this architecture lacks,
 * such as "open" on arm64, is skipped). Grouped by who needs it; ioctl, socket and clone
 * are allowed only with the arguments below. */
/* clang-format off */
static const char *const allowed[] = {
    /* memory: the allocator, OpenSSL, the resolver's loading of NSS modules */
    "brk", "mmap", "munmap", "mprotect", "madvise", "mremap",
    /* time: reading; the adjusting calls stay for a daemon that is not in observe mode */
    "clock_gettime", "clock_getres", "gettimeofday", "time", "clock_nanosleep", "nanosleep",
    "clock_adjtime", "adjtimex", "clock_settime", "settimeofday",
    /* files: the log, state files written atomically (drift, NTS keys), statistics files
     * (opened per day), the keys and leap files re-read on SIGHUP, /etc/resolv.conf and
     * friends for getaddrinfo */
    "read", "write", "readv", "writev", "pread64", "pwrite64", "lseek", "close", "openat",
    "open", "fstat", "newfstatat", "stat", "lstat", "statx", "fcntl", "dup", "dup2", "dup3",
    "pipe", "pipe2", "rename", "link", "linkat", "renameat", "renameat2", "unlink", "unlinkat",
    "mkdir", "mkdirat", "fsync", "fdatasync", "ftruncate", "getdents64", "readlink",
    "readlinkat", "access", "faccessat", "faccessat2", "fchmod", "umask", "getcwd",
    /* network: NTP, mode 6, the NTS-KE server and client (TLS over TCP), the resolver's DNS
     * queries and its netlink query of the local addresses (AI_ADDRCONFIG), the interface
     * scan (-U), the SOCK refclock */
    "bind", "connect", "listen", "accept", "accept4", "getsockname", "getpeername",
    "setsockopt", "getsockopt", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg",
    "recvmmsg", "shutdown", "socketpair", "poll", "ppoll",
    /* signals: the signalfd of SIGTERM/SIGINT/SIGHUP, abort() and raise() */
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "signalfd4",
    "restart_syscall", "kill", "tgkill", "tkill", "getpid", "gettid", "getppid",
    /* the resolver's thread */
    "futex", "set_robust_list", "get_robust_list", "rseq", "set_tid_address", "exit",
    "exit_group", "sched_yield", "sched_getaffinity", "getrlimit", "prlimit64",
    /* the rest: random bytes, mode 6's system variables, identity reads, usestats */
    "getrandom", "uname", "prctl", "getuid", "geteuid", "getgid", "getegid", "getresuid",
    "getresgid", "getgroups", "sysinfo", "getpriority", "getrusage",
    /* refclocks: the SHM segment (System V), timers of the drivers */
    "shmget", "shmat", "shmdt", "shmctl", "timerfd_create", "timerfd_settime",
    "timerfd_gettime",
};
/* clang-format on */

/* ioctl requests: isatty (stdio), pending bytes, non-blocking mode, interface names and
 * indexes (if_nametoindex), the PPS refclock (RFC 2783 via linux/pps.h), serial lines. */
static const unsigned long allowed_ioctls[] = {
    TCGETS,      FIONREAD, FIONBIO,  SIOCGIFINDEX,  SIOCGIFNAME,   SIOCGIFFLAGS, SIOCGIFADDR,
    SIOCGIFCONF, TIOCMGET, TIOCOUTQ, PPS_GETPARAMS, PPS_SETPARAMS, PPS_GETCAP,   PPS_FETCH,
};

/* socket() domains: IP, Unix (syslog, the SOCK refclock, nscd), netlink (getaddrinfo). */
static const int allowed_domains[] = {AF_INET, AF_INET6, AF_UNIX, AF_NETLINK};

/* ---- the SIGSYS handler of kill mode (async-signal-safe: static data, write) ---- */

#define NAMES_MAX 512
#define NAME_LEN  28

static char names[NAMES_MAX][NAME_LEN]; /* this architecture's system calls by number */
static int trap_fd = -1;                /* where the handler writes (-1: nowhere) */
static bool trap_syslog;                /* trap_fd is a datagram socket to /dev/log */

static void add_text(char *buf, size_t cap, size_t *n, const char *s)
{
    while (*s != '\0' && *n + 1 < cap)
        buf[(*n)++] = *s++;
}

static void add_uint(char *buf, size_t cap, size_t *n, unsigned v)
{
    char d[12];
    size_t k = 0;
    do {
        d[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (k > 0 && *n + 1 < cap)
        buf[(*n)++] = d[--k];
}

/* Names the refused call in ntpd's log, then dies of SIGSYS (the default action). */
static void on_sigsys(int sig, siginfo_t *si, void *uctx)
{
    (void)uctx;
    int saved = errno;
    char line[200];
    size_t n = 0;
    unsigned nr = (unsigned)si->si_syscall;
    /* syslog's wire format (RFC 3164 without the time, as glibc's local sends): daemon.crit */
    add_text(line, sizeof line, &n, trap_syslog ? "<26>ntpd[" : "ntpd: ");
    if (trap_syslog) {
        add_uint(line, sizeof line, &n, (unsigned)getpid());
        add_text(line, sizeof line, &n, "]: ");
    }
    add_text(line, sizeof line, &n, "seccomp: system call ");
    add_uint(line, sizeof line, &n, nr);
    if (nr < NAMES_MAX && names[nr][0] != '\0') {
        add_text(line, sizeof line, &n, " (");
        add_text(line, sizeof line, &n, names[nr]);
        add_text(line, sizeof line, &n, ")");
    }
    add_text(line, sizeof line, &n,
             " is not on the allow-list: exiting (--seccomp=log lets it run and logs it)");
    add_text(line, sizeof line, &n, trap_syslog ? "" : "\n");
    if (trap_fd >= 0)
        (void)!write(trap_fd, line, n);
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigaction(sig, &dfl, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    errno = saved;
    _exit(128 + sig); /* not reached: SIGSYS's default action ends the process */
}

/* ---- modes ---- */

bool sandbox_parse_mode(const char *text, enum sandbox_mode *out)
{
    enum ntk_scmp_mode m;
    if (!ntk_scmp_parse(text, &m))
        return false;
    *out = (enum sandbox_mode)m;
    return true;
}

const char *sandbox_mode_name(enum sandbox_mode m)
{
    return ntk_scmp_name((enum ntk_scmp_mode)m);
}

int sandbox_no_new_privs(void)
{
    return prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) == 0 ? 0 : -errno;
}

/* A datagram socket connected to syslog's /dev/log (-1 when there is none). */
static int open_syslog(void)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX, .sun_path = "/dev/log"};
    if (fd >= 0 && connect(fd, (const struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    trap_syslog = fd >= 0;
    return fd;
}

void sandbox_prepare(enum sandbox_mode m)
{
    if (m != SANDBOX_KILL || trap_fd >= 0)
        return;
    for (int nr = 0; nr < NAMES_MAX; nr++) {
        char *s = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
        if (s != NULL && strlen(s) < NAME_LEN)
            memcpy(names[nr], s, strlen(s) + 1);
        free(s);
    }
    /* The log file is root's and opened before the drop: a second descriptor for it. */
    if (log_sink_now() == LOG_SINK_FILE)
        trap_fd = open(log_file_path(), O_WRONLY | O_APPEND | O_CLOEXEC);
    else if (log_sink_now() == LOG_SINK_STDERR)
        trap_fd = STDERR_FILENO;
    else
        trap_fd = open_syslog();
}

/* ---- the filter ---- */

static int add_rules(scmp_filter_ctx ctx)
{
    int rc = ntk_scmp_allow_names(ctx, allowed, sizeof allowed / sizeof allowed[0]);
    if (rc == 0)
        rc = ntk_scmp_allow_ioctls(ctx, allowed_ioctls,
                                   sizeof allowed_ioctls / sizeof allowed_ioctls[0]);
    if (rc == 0)
        rc = ntk_scmp_allow_sockets(ctx, allowed_domains,
                                    sizeof allowed_domains / sizeof allowed_domains[0]);
    if (rc == 0) /* threads only: the resolver's */
        rc = ntk_scmp_allow_threads(ctx);
    return rc;
}

static int load(enum sandbox_mode m)
{
    int rc;
    scmp_filter_ctx ctx = ntk_scmp_new(m == SANDBOX_LOG ? SCMP_ACT_LOG : SCMP_ACT_TRAP, &rc);
    if (ctx == NULL)
        return rc;
    rc = add_rules(ctx);
    if (rc == 0 && m == SANDBOX_KILL) {
        struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGSYS, &sa, NULL) != 0)
            rc = -errno;
    }
    if (rc == 0)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    return rc;
}

int sandbox_apply(enum sandbox_mode m)
{
    int rc = sandbox_no_new_privs();
    if (rc != 0) {
        log_msg(LOG_ERR, "sandbox: PR_SET_NO_NEW_PRIVS: %s", strerror(-rc));
        return 1;
    }
    if (m == SANDBOX_OFF) {
        log_msg(LOG_INFO, "sandbox: no_new_privs set, seccomp off (--seccomp=off)");
        return 0;
    }
    rc = load(m);
    if (rc != 0) {
        log_msg(LOG_ERR,
                "sandbox: cannot load the seccomp filter: %s (--seccomp=off runs "
                "without it)",
                strerror(-rc));
        return 1;
    }
    log_msg(LOG_INFO, "sandbox: no_new_privs set, seccomp allow-list loaded (--seccomp=%s)",
            sandbox_mode_name(m));
    return 0;
}

void sandbox_selftest(void)
{
    log_msg(LOG_INFO, "sandbox: self-test: calling personality, which is not allowed");
    long r = syscall(SYS_personality, 0xffffffffUL);
    log_msg(LOG_INFO, "sandbox: self-test: personality returned %ld (still running)", r);
}
