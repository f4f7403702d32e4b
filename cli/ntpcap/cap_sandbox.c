/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpcap's seccomp allow-list (cap_sandbox.h), through libseccomp as ntpd's and the
 * exporter's. */
#include "cap_sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "ntk/sb.h"
#include "scmp.h"

#include "poison.h"

/* What reading frames (a file or stdin with fread; a live TPACKET ring with poll, or
 * recvfrom/recvmsg without one), writing the report and -w, the allocator and the signal
 * handlers (SIGINT, SIGTERM, --duration's SIGALRM) call once everything is open, by
 * libseccomp's names (one this architecture lacks is skipped). No open, socket, connect,
 * bind, clone or execve: a parser bug cannot reach a file, the network or a process. mmap,
 * mprotect, ioctl and (live only) openat are allowed only with the arguments below. */
/* clang-format off */
static const char *const allowed[] = {
    /* frames and output; close and getsockopt/setsockopt: pcap_stats and pcap_close */
    "read", "write", "readv", "writev", "lseek", "close", "fstat", "newfstatat", "poll",
    "ppoll", "recvfrom", "recvmsg", "getsockopt", "setsockopt", "fcntl",
    /* memory (mmap, mprotect: below) */
    "brk", "munmap", "mremap", "madvise",
    /* time, signals, the end */
    "clock_gettime", "gettimeofday", "rt_sigreturn", "rt_sigaction", "rt_sigprocmask",
    "sigaltstack", "restart_syscall", "getpid", "gettid", "tgkill", "futex", "exit",
    "exit_group",
    /* json-c seeds its hash tables on the first object */
    "getrandom",
    /* glibc's qsort asks for the memory size before sorting more than 1 KiB (--summary) */
    "sysinfo",
};
/* clang-format on */

/* ioctl requests: isatty (stdio deciding the buffering of stdout), pending bytes. */
static const unsigned long allowed_ioctls[] = {TCGETS, FIONREAD};

static int add_rules(scmp_filter_ctx ctx, bool live)
{
    int rc = ntk_scmp_allow_names(ctx, allowed, sizeof allowed / sizeof allowed[0]);
    if (rc == 0)
        rc = ntk_scmp_allow_ioctls(ctx, allowed_ioctls,
                                   sizeof allowed_ioctls / sizeof allowed_ioctls[0]);
    /* Memory that is never executable. */
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
                              SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
                              SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
    /* Live: pcap_stats reads the interface's drop counters from /sys/class/net (libpcap
     * opens them by name each time): opening for reading only, nothing else. */
    if (rc == 0 && live)
        rc =
            seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
                             SCMP_A2(SCMP_CMP_MASKED_EQ,
                                     (scmp_datum_t)(O_ACCMODE | O_CREAT | O_TRUNC | O_TMPFILE),
                                     (scmp_datum_t)O_RDONLY));
    return rc;
}

/* Writes the decimal digits of v to buf; returns their count. */
static size_t put_uint(char *buf, unsigned v)
{
    char d[12];
    size_t k = 0;
    do {
        d[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < k; i++)
        buf[i] = d[k - 1 - i];
    return k;
}

/* Kill mode: names the refused call on stderr, then dies of SIGSYS (async-signal-safe). */
static void on_sigsys(int sig, siginfo_t *si, void *uctx)
{
    (void)uctx;
    static const char head[] = "ntpcap: seccomp: system call ";
    static const char tail[] =
        " is not on the allow-list: exiting (--seccomp=log lets it run)\n";
    char line[sizeof head + sizeof tail + 12];
    size_t n = sizeof head - 1;
    memcpy(line, head, n);
    n += put_uint(line + n, (unsigned)si->si_syscall);
    memcpy(line + n, tail, sizeof tail - 1);
    n += sizeof tail - 1;
    (void)!write(STDERR_FILENO, line, n);
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigaction(sig, &dfl, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    _exit(128 + sig); /* not reached: SIGSYS's default action ends the process */
}

/* Builds and loads the filter on every thread. Returns 0 or a negative errno. Kill mode
 * traps (SIGSYS with the call's number, named by on_sigsys) rather than killing silently. */
static int load(enum cap_seccomp mode, bool live)
{
    if (mode == CAP_SECCOMP_KILL) {
        struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGSYS, &sa, NULL) != 0)
            return -errno;
    }
    int rc;
    scmp_filter_ctx ctx =
        ntk_scmp_new(mode == CAP_SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_TRAP, &rc);
    if (ctx == NULL)
        return rc;
    rc = add_rules(ctx, live);
    if (rc == 0)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    return rc;
}

/* OpenSSL reads its configuration file and loads its algorithm tables on first use: does it
 * now, while open is allowed, for what NTS-KE decryption (--tls-keylog) uses (cap_tls.c). */
static void warm_crypto(void)
{
    OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);
    EVP_KDF_free(EVP_KDF_fetch(NULL, "HKDF", NULL));
    static const char *const ciphers[] = {"AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305"};
    for (size_t i = 0; i < sizeof ciphers / sizeof ciphers[0]; i++)
        EVP_CIPHER_free(EVP_CIPHER_fetch(NULL, ciphers[i], NULL));
    EVP_MD_free(EVP_MD_fetch(NULL, "SHA256", NULL));
    EVP_MD_free(EVP_MD_fetch(NULL, "SHA384", NULL));
}

bool cap_seccomp_parse(const char *text, enum cap_seccomp *out)
{
    enum ntk_scmp_mode m;
    if (!ntk_scmp_parse(text, &m))
        return false;
    *out = (enum cap_seccomp)m;
    return true;
}

const char *cap_seccomp_name(enum cap_seccomp m)
{
    return ntk_scmp_name((enum ntk_scmp_mode)m);
}

int cap_sandbox_apply(enum cap_seccomp mode, bool live, char *why, size_t cap)
{
    struct ntk_sb sb;
    ntk_sb_init(&sb, why, cap);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) != 0) {
        ntk_sb_printf(&sb, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
        return -1;
    }
    if (mode == CAP_SECCOMP_OFF)
        return 0;
    warm_crypto();
    int rc = load(mode, live);
    if (rc != 0) {
        ntk_sb_printf(&sb,
                      "seccomp: cannot load the filter: %s (--seccomp=off runs without it)",
                      strerror(-rc));
        return -1;
    }
    return 0;
}
