/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of ntpcap's seccomp allow-list (cli/ntpcap/cap_sandbox.c): the mode names, and
 * forked children that load the filter: what reading and writing need still works, a call
 * off the list (a packet socket, execve, open, executable memory) dies of SIGSYS naming the
 * call in kill mode and runs in log and off modes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cap_sandbox.h"
#include "testutil.h"

#include "poison.h"

/* ---- mode names ---- */

static void test_parse_table(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool ok;
        enum cap_seccomp m;
    } cases[] = {
        {"kill", true, CAP_SECCOMP_KILL},  {"on", true, CAP_SECCOMP_KILL},
        {"log", true, CAP_SECCOMP_LOG},    {"off", true, CAP_SECCOMP_OFF},
        {"", false, CAP_SECCOMP_OFF},      {"Kill", false, CAP_SECCOMP_OFF},
        {"kill ", false, CAP_SECCOMP_OFF}, {"of", false, CAP_SECCOMP_OFF},
        {"logs", false, CAP_SECCOMP_OFF},  {"1", false, CAP_SECCOMP_OFF},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum cap_seccomp m = (enum cap_seccomp)99;
        assert_int_equal(cap_seccomp_parse(cases[i].text, &m), cases[i].ok);
        assert_int_equal(m, cases[i].ok ? cases[i].m : (enum cap_seccomp)99);
    }
    assert_string_equal(cap_seccomp_name(CAP_SECCOMP_KILL), "kill");
    assert_string_equal(cap_seccomp_name(CAP_SECCOMP_LOG), "log");
    assert_string_equal(cap_seccomp_name(CAP_SECCOMP_OFF), "off");
}

/* Property: a random word over the letters of the names parses only when it is one of the
 * four names, and then its mode's name parses back to the same mode. */
static void test_parse_random(void **state)
{
    (void)state;
    static const char letters[] = "kilonfg";
    tu_seed();
    for (int iter = 0; iter < 20000; iter++) {
        char w[6];
        size_t n = (size_t)(tu_rand() % sizeof w);
        for (size_t i = 0; i < n; i++)
            w[i] = letters[tu_rand() % (sizeof letters - 1)];
        w[n] = '\0';
        bool named = strcmp(w, "kill") == 0 || strcmp(w, "on") == 0 || strcmp(w, "log") == 0 ||
                     strcmp(w, "off") == 0;
        enum cap_seccomp m = (enum cap_seccomp)99, back = (enum cap_seccomp)98;
        assert_int_equal(cap_seccomp_parse(w, &m), named);
        if (named) {
            assert_true(cap_seccomp_parse(cap_seccomp_name(m), &back));
            assert_int_equal(back, m);
        } else {
            assert_int_equal(m, 99);
        }
    }
}

/* ---- forked children ---- */

/* What a child does after loading the filter; returns its exit status. */
typedef int (*child_fn)(void);

struct outcome {
    int status;    /* waitpid's */
    char err[512]; /* what the child wrote on stderr */
};

static bool child_live; /* run_child applies the live (-i) list */

/* Forks a child that applies mode and runs fn, with stderr captured. */
static void run_child(enum cap_seccomp mode, child_fn fn, struct outcome *out)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDERR_FILENO);
        char why[160];
        if (cap_sandbox_apply(mode, child_live, why, sizeof why) != 0)
            _exit(100);
        _exit(fn());
    }
    close(fds[1]);
    memset(out, 0, sizeof *out);
    size_t n = 0;
    ssize_t got;
    while (n + 1 < sizeof out->err &&
           (got = read(fds[0], out->err + n, sizeof out->err - 1 - n)) > 0)
        n += (size_t)got;
    close(fds[0]);
    assert_int_equal(waitpid(pid, &out->status, 0), pid);
}

/* Creating a descriptor (here a pipe) is off the list. */
static int make_pipe(void)
{
    int p[2];
    return syscall(SYS_pipe2, p, 0) == 0 ? 0 : 1;
}

/* What ntpcap does once sandboxed, on descriptors opened before the filter (as its input
 * and output are): read and write, small and large allocations (brk, mmap), clock_gettime,
 * non-executable mmap and mprotect. */
static int pre_fds[2] = {-1, -1};

static int allowed_io(void)
{
    static const char msg[] = "frame";
    char buf[8] = "";
    if (write(pre_fds[1], msg, 5) != 5 || read(pre_fds[0], buf, 5) != 5 ||
        memcmp(buf, msg, 5) != 0)
        return 1;
    void *small = malloc(100);
    void *big = malloc(8 << 20); /* above the mmap threshold */
    if (small == NULL || big == NULL)
        return 2;
    memset(big, 1, 8 << 20);
    free(big);
    free(small);
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 3;
    void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || mprotect(m, 4096, PROT_READ) != 0 || munmap(m, 4096) != 0)
        return 4;
    if (prctl(PR_GET_NO_NEW_PRIVS, 0L, 0L, 0L, 0L) != 1)
        return 5; /* prctl is off the list: reaching this line would be a failure */
    return 0;
}

static int packet_socket(void)
{
    int fd = socket(AF_PACKET, SOCK_RAW, 0);
    (void)fd;
    return 0; /* reached only when the call was let through (log, off) */
}

static int exec_true(void)
{
    char *const argv[] = {(char *)"true", NULL};
    char *const envp[] = {NULL};
    execve("/bin/true", argv, envp);
    return 0;
}

static int open_file(void)
{
    int fd = open("/etc/hostname", O_RDONLY);
    (void)fd;
    return 0;
}

static int open_read_only(void)
{
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    char buf[16];
    return fd >= 0 && read(fd, buf, sizeof buf) > 0 ? 0 : 1;
}

static int open_write(void)
{
    int fd = open("/dev/null", O_WRONLY);
    (void)fd;
    return 0;
}

static int open_create(void)
{
    int fd = open("/tmp/ntk-cap-sandbox-never", O_RDONLY | O_CREAT, 0600);
    (void)fd;
    return 0;
}

static int exec_memory(void)
{
    void *m = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    (void)m;
    return 0;
}

static int mode_seen(void)
{
    /* 2 = SECCOMP_MODE_FILTER; prctl is off the list, so this runs only in log and off */
    return prctl(PR_GET_SECCOMP, 0L, 0L, 0L, 0L) == 2 ? 20 : 30;
}

static void assert_sigsys(const struct outcome *o, long nr)
{
    assert_true(WIFSIGNALED(o->status));
    assert_int_equal(WTERMSIG(o->status), SIGSYS);
    if (strstr(o->err, "seccomp") == NULL)
        fprintf(stderr, "child's stderr: %s\n", o->err);
    char want[48];
    snprintf(want, sizeof want, "seccomp: system call %ld is not", nr);
    assert_non_null(strstr(o->err, want));
}

static void test_kill_allows_io(void **state)
{
    (void)state;
    assert_int_equal(pipe(pre_fds), 0);
    struct outcome o;
    run_child(CAP_SECCOMP_KILL, allowed_io, &o);
    close(pre_fds[0]);
    close(pre_fds[1]);
    /* everything up to prctl worked; prctl itself is refused */
    assert_sigsys(&o, SYS_prctl);
}

static void test_kill_refuses(void **state)
{
    (void)state;
    struct outcome o;
    run_child(CAP_SECCOMP_KILL, packet_socket, &o);
    assert_sigsys(&o, SYS_socket);
    run_child(CAP_SECCOMP_KILL, exec_true, &o);
    assert_sigsys(&o, SYS_execve);
    run_child(CAP_SECCOMP_KILL, open_file, &o);
    assert_sigsys(&o, SYS_openat);
    run_child(CAP_SECCOMP_KILL, exec_memory, &o);
    assert_sigsys(&o, SYS_mmap);
    run_child(CAP_SECCOMP_KILL, make_pipe, &o);
    assert_sigsys(&o, SYS_pipe2);
}

/* Live captures (pcap_stats reading /sys) may open files for reading, nothing more. */
static void test_live_opens_read_only(void **state)
{
    (void)state;
    struct outcome o;
    child_live = true;
    run_child(CAP_SECCOMP_KILL, open_read_only, &o);
    if (!WIFEXITED(o.status))
        fprintf(stderr, "child's stderr: %s\n", o.err);
    assert_true(WIFEXITED(o.status));
    assert_int_equal(WEXITSTATUS(o.status), 0);
    run_child(CAP_SECCOMP_KILL, open_write, &o);
    assert_sigsys(&o, SYS_openat);
    run_child(CAP_SECCOMP_KILL, open_create, &o);
    assert_sigsys(&o, SYS_openat);
    run_child(CAP_SECCOMP_KILL, packet_socket, &o);
    assert_sigsys(&o, SYS_socket);
    run_child(CAP_SECCOMP_KILL, exec_true, &o);
    assert_sigsys(&o, SYS_execve);
    child_live = false;
    run_child(CAP_SECCOMP_KILL, open_read_only, &o); /* files (-r): no open at all */
    assert_sigsys(&o, SYS_openat);
}

static void test_log_and_off_let_it_run(void **state)
{
    (void)state;
    child_fn refused[] = {packet_socket, open_file, exec_memory};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        struct outcome o;
        run_child(CAP_SECCOMP_LOG, refused[i], &o);
        assert_true(WIFEXITED(o.status));
        assert_int_equal(WEXITSTATUS(o.status), 0);
        run_child(CAP_SECCOMP_OFF, refused[i], &o);
        assert_true(WIFEXITED(o.status));
        assert_int_equal(WEXITSTATUS(o.status), 0);
    }
    struct outcome o;
    run_child(CAP_SECCOMP_LOG, mode_seen, &o);
    assert_true(WIFEXITED(o.status));
    assert_int_equal(WEXITSTATUS(o.status), 20); /* a filter is loaded */
    run_child(CAP_SECCOMP_OFF, mode_seen, &o);
    assert_true(WIFEXITED(o.status));
    assert_int_equal(WEXITSTATUS(o.status), 30); /* none */
    run_child(CAP_SECCOMP_OFF, exec_true, &o);
    assert_true(WIFEXITED(o.status));
    assert_int_equal(WEXITSTATUS(o.status), 0); /* /bin/true ran */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_parse_random),
        cmocka_unit_test(test_kill_allows_io),
        cmocka_unit_test(test_kill_refuses),
        cmocka_unit_test(test_live_opens_read_only),
        cmocka_unit_test(test_log_and_off_let_it_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
