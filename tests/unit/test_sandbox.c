/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of ntpd's sandbox (daemon/io/sandbox.c) and its --seccomp option: the modes'
 * names, and the filter itself in forked children (the test keeps its own freedom): allowed
 * calls work, refused ones end the child with SIGSYS in kill mode and run in log mode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../daemon/io/opts.h"
#include "../../daemon/io/sandbox.h"
#include "testutil.h"

#include "poison.h"

static void modes_table(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool ok;
        enum sandbox_mode m;
    } cases[] = {
        {"kill", true, SANDBOX_KILL},  {"on", true, SANDBOX_KILL},
        {"log", true, SANDBOX_LOG},    {"off", true, SANDBOX_OFF},
        {"", false, SANDBOX_KILL},     {"Kill", false, SANDBOX_KILL},
        {"kil", false, SANDBOX_KILL},  {"offf", false, SANDBOX_KILL},
        {"log ", false, SANDBOX_KILL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum sandbox_mode m = (enum sandbox_mode)77;
        assert_int_equal(sandbox_parse_mode(cases[i].text, &m), cases[i].ok);
        assert_int_equal(m, cases[i].ok ? cases[i].m : (enum sandbox_mode)77);
    }
    assert_string_equal(sandbox_mode_name(SANDBOX_KILL), "kill");
    assert_string_equal(sandbox_mode_name(SANDBOX_LOG), "log");
    assert_string_equal(sandbox_mode_name(SANDBOX_OFF), "off");
}

/* Seeded: random short strings are accepted exactly when they are one of the four words,
 * and a name parses back to its mode. */
static void modes_property(void **state)
{
    (void)state;
    tu_seed();
    static const char alphabet[] = "kilogfn ";
    for (int i = 0; i < 20000; i++) {
        char s[6];
        size_t n = (size_t)(tu_rand() % 5);
        for (size_t k = 0; k < n; k++)
            s[k] = alphabet[tu_rand() % (sizeof alphabet - 1)];
        s[n] = '\0';
        enum sandbox_mode m = SANDBOX_OFF;
        bool want = strcmp(s, "kill") == 0 || strcmp(s, "on") == 0 || strcmp(s, "log") == 0 ||
                    strcmp(s, "off") == 0;
        assert_int_equal(sandbox_parse_mode(s, &m), want);
        if (want) {
            enum sandbox_mode back = SANDBOX_OFF;
            assert_true(sandbox_parse_mode(sandbox_mode_name(m), &back));
            assert_int_equal(back, m);
        }
    }
}

static void option(void **state)
{
    (void)state;
    struct ntpd_opts o;
    char *def[] = {"ntpd", NULL};
    assert_int_equal(opts_parse(1, def, &o), OPTS_RUN);
    assert_int_equal(o.seccomp, SANDBOX_DEFAULT);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__has_feature)
    assert_int_equal(SANDBOX_DEFAULT, SANDBOX_KILL);
#endif
    assert_false(o.seccomp_selftest);
    char *log[] = {"ntpd", "--seccomp=log", "--seccomp-selftest", NULL};
    assert_int_equal(opts_parse(3, log, &o), OPTS_RUN);
    assert_int_equal(o.seccomp, SANDBOX_LOG);
    assert_true(o.seccomp_selftest);
    char *off[] = {"ntpd", "--seccomp", "off", NULL};
    assert_int_equal(opts_parse(3, off, &o), OPTS_RUN);
    assert_int_equal(o.seccomp, SANDBOX_OFF);
    int saved = dup(2), null = open("/dev/null", O_WRONLY);
    dup2(null, 2); /* the usage error's message */
    char *bad[] = {"ntpd", "--seccomp=maybe", NULL};
    assert_int_equal(opts_parse(2, bad, &o), OPTS_BAD);
    dup2(saved, 2);
    close(saved);
    close(null);
}

/* ---- the filter, in children ---- */

static void *thread_main(void *arg)
{
    return arg;
}

/* What a child does after sandbox_apply(mode): 0 when every allowed call worked; then
 * the refused call `what` (1: personality, 2: socket(AF_PACKET), 3: fork, 4: execve). */
static int sandboxed(enum sandbox_mode mode, int what)
{
    if (sandbox_apply(mode) != 0)
        return 10;
    struct timespec ts;
    char buf[8];
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || fd < 0 || write(fd, "x", 1) != 1 ||
        read(fd, buf, 1) != 0 || close(fd) != 0)
        return 11;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0 || close(s) != 0)
        return 12;
    pthread_t t;
    void *ret = NULL;
    if (pthread_create(&t, NULL, thread_main, buf) != 0 || pthread_join(t, &ret) != 0 ||
        ret != buf)
        return 13; /* a thread: clone3 refused with ENOSYS, glibc falls back to clone */
    if (prctl(PR_GET_NO_NEW_PRIVS, 0L, 0L, 0L, 0L) != 1)
        return 14;
    switch (what) {
    case 1:
        (void)personality(0xffffffffUL);
        break;
    case 2:
        (void)socket(AF_PACKET, SOCK_RAW, 0);
        break;
    case 3:
        if (fork() == 0) /* clone without CLONE_THREAD */
            _exit(0);
        break;
    case 4: {
        static char prog[] = "/bin/true";
        char *argv[] = {prog, NULL}, *envp[] = {NULL};
        (void)execve(prog, argv, envp);
        break;
    }
    default:
        break;
    }
    return 0;
}

/* Runs sandboxed() in a child; returns its wait status. */
static int run_child(enum sandbox_mode mode, int what)
{
    fflush(NULL);
    pid_t p = fork();
    if (p == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2); /* the handler's and the log's lines */
        sandbox_prepare(mode);
        _exit(sandboxed(mode, what));
    }
    int st = 0;
    while (waitpid(p, &st, 0) < 0)
        ;
    return st;
}

static void filter_kill(void **state)
{
    (void)state;
    int st = run_child(SANDBOX_KILL, 0);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    for (int what = 1; what <= 4; what++) {
        st = run_child(SANDBOX_KILL, what);
        assert_true(WIFSIGNALED(st));
        assert_int_equal(WTERMSIG(st), SIGSYS);
    }
}

static void filter_log_and_off(void **state)
{
    (void)state;
    for (int what = 0; what <= 1; what++) {
        int st = run_child(SANDBOX_LOG, what);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
        st = run_child(SANDBOX_OFF, what);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(modes_table),
        cmocka_unit_test(modes_property),
        cmocka_unit_test(option),
        cmocka_unit_test(filter_kill),
        cmocka_unit_test(filter_log_and_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
