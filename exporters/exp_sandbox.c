/* SPDX-License-Identifier: BSD-2-Clause */
/* The exporter's seccomp allow-list (exp_sandbox.h). */
#include "exp_sandbox.h"

#include <errno.h>
#include <seccomp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "ntk/sb.h"
#include "scmp.h"

#include "poison.h"

/* By libseccomp's names; one this architecture lacks is skipped. socket, ioctl and clone are
 * allowed only with the arguments below. */
/* clang-format off */
static const char *const allowed[] = {
    /* memory, time */
    "brk", "mmap", "munmap", "mprotect", "madvise", "mremap", "clock_gettime", "clock_getres",
    "gettimeofday", "time", "clock_nanosleep", "nanosleep",
    /* files: /proc/self for the process metrics, CA certificates, the resolver's /etc files */
    "read", "write", "readv", "writev", "pread64", "lseek", "close", "openat", "open", "fstat",
    "newfstatat", "stat", "lstat", "statx", "fcntl", "dup", "dup2", "dup3", "pipe", "pipe2",
    "getdents64", "readlink", "readlinkat", "access", "faccessat", "faccessat2", "getcwd",
    /* network: HTTP (libmicrohttpd), mode 6 and SNTP over UDP, NTS-KE over TLS, DNS */
    "bind", "connect", "listen", "accept", "accept4", "getsockname", "getpeername",
    "setsockopt", "getsockopt", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg",
    "recvmmsg", "shutdown", "socketpair", "poll", "ppoll", "select", "pselect6", "eventfd2",
    "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
    /* signals (sigwait of SIGTERM/SIGINT), threads (one per connection) */
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigtimedwait", "sigaltstack",
    "restart_syscall", "kill", "tgkill", "tkill", "getpid", "gettid", "getppid", "futex",
    "set_robust_list", "get_robust_list", "rseq", "set_tid_address", "exit", "exit_group",
    "sched_yield", "sched_getaffinity", "getrlimit", "prlimit64", "membarrier",
    /* the rest */
    "getrandom", "uname", "prctl", "getuid", "geteuid", "getgid", "getegid", "sysinfo",
    "getrusage", "times",
};
/* clang-format on */

static const unsigned long allowed_ioctls[] = {TCGETS, FIONREAD, FIONBIO};
static const int allowed_domains[] = {AF_INET, AF_INET6, AF_UNIX, AF_NETLINK};

bool exp_seccomp_parse(const char *text, enum exp_seccomp *out)
{
    enum ntk_scmp_mode m;
    if (!ntk_scmp_parse(text, &m))
        return false;
    *out = (enum exp_seccomp)m;
    return true;
}

static int add_rules(scmp_filter_ctx ctx)
{
    int rc = ntk_scmp_allow_names(ctx, allowed, sizeof allowed / sizeof allowed[0]);
    if (rc == 0)
        rc = ntk_scmp_allow_ioctls(ctx, allowed_ioctls,
                                   sizeof allowed_ioctls / sizeof allowed_ioctls[0]);
    if (rc == 0)
        rc = ntk_scmp_allow_sockets(ctx, allowed_domains,
                                    sizeof allowed_domains / sizeof allowed_domains[0]);
    if (rc == 0) /* libmicrohttpd's thread per connection */
        rc = ntk_scmp_allow_threads(ctx);
    return rc;
}

int exp_sandbox_apply(enum exp_seccomp mode, char *why, size_t cap)
{
    if (mode == EXP_SECCOMP_OFF)
        return 0;
    int rc;
    scmp_filter_ctx ctx =
        ntk_scmp_new(mode == EXP_SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS, &rc);
    if (ctx != NULL) {
        rc = add_rules(ctx);
        if (rc == 0)
            rc = seccomp_load(ctx);
        seccomp_release(ctx);
    }
    if (rc == 0)
        return 0;
    struct ntk_sb sb;
    ntk_sb_init(&sb, why, cap);
    ntk_sb_printf(&sb, "seccomp: cannot load the filter: %s (--seccomp=off runs without it)",
                  strerror(-rc));
    return -1;
}
