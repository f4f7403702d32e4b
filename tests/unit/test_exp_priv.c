/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of the exporter's privilege drop and sandbox (exporters/exp_priv.c,
 * exp_sandbox.c): refused specs, --seccomp modes, and in forked children (the test keeps its
 * rights) the drop to nobody with no capability left, NO_NEW_PRIVS, and the filter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exp_opts.h"
#include "exp_priv.h"
#include "exp_sandbox.h"

#include "poison.h"

static void bad_specs(void **state)
{
    (void)state;
    char why[160];
    static const char *const specs[] = {"", ":root", "ntk-no-such-user", "root:ntk-no-group",
                                        "-1"};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        why[0] = '\0';
        assert_int_equal(exp_priv_drop(specs[i], why, sizeof why), -1);
        assert_non_null(strstr(why, "--user"));
    }
}

static void seccomp_modes(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool ok;
        enum exp_seccomp m;
    } cases[] = {{"kill", true, EXP_SECCOMP_KILL}, {"on", true, EXP_SECCOMP_KILL},
                 {"log", true, EXP_SECCOMP_LOG},   {"off", true, EXP_SECCOMP_OFF},
                 {"", false, EXP_SECCOMP_OFF},     {"KILL", false, EXP_SECCOMP_OFF},
                 {"of", false, EXP_SECCOMP_OFF}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum exp_seccomp m = EXP_SECCOMP_OFF;
        assert_int_equal(exp_seccomp_parse(cases[i].text, &m), cases[i].ok);
        assert_int_equal(m, cases[i].m);
    }
    char why[160];
    struct exp_opts o;
    char *argv[] = {"ntpkit_exporter", "-u", "nobody", "--seccomp=log", NULL};
    assert_int_equal(exp_opts_parse(4, argv, &o, why, sizeof why), 0);
    assert_string_equal(o.user, "nobody");
    assert_int_equal(o.seccomp, EXP_SECCOMP_LOG);
    char *dflt[] = {"ntpkit_exporter", NULL};
    assert_int_equal(exp_opts_parse(1, dflt, &o, why, sizeof why), 0);
    assert_null(o.user);
    assert_int_equal(o.seccomp, EXP_SECCOMP_KILL);
    char *bad[] = {"ntpkit_exporter", "--seccomp=maybe", NULL};
    assert_int_equal(exp_opts_parse(2, bad, &o, why, sizeof why), -1);
}

/* The child: 0 when the drop left nobody's ids, no capability and NO_NEW_PRIVS. */
static int child_drop(uid_t uid, gid_t gid)
{
    char why[160];
    if (exp_priv_no_new_privs(why, sizeof why) != 0 ||
        exp_priv_drop("nobody", why, sizeof why))
        return 1;
    if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid)
        return 2;
    if (getgroups(0, NULL) != 0)
        return 3;
    cap_t caps = cap_get_proc(), none = cap_init();
    int differ = cap_compare(caps, none);
    cap_free(caps);
    cap_free(none);
    if (differ != 0)
        return 4;
    if (prctl(PR_GET_NO_NEW_PRIVS, 0L, 0L, 0L, 0L) != 1)
        return 5;
    return setuid(0) == 0 ? 6 : 0;
}

/* The child: the filter lets ordinary calls through, then personality ends it (kill). */
static int child_filter(enum exp_seccomp mode)
{
    char why[160];
    if (exp_priv_no_new_privs(why, sizeof why) != 0 ||
        exp_sandbox_apply(mode, why, sizeof why))
        return 1;
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || close(fd) != 0 || getpid() <= 0)
        return 2;
    (void)personality(0xffffffffUL);
    return 0;
}

static int wait_child(pid_t p)
{
    int st = 0;
    while (waitpid(p, &st, 0) < 0)
        ;
    return st;
}

static void drop_in_child(void **state)
{
    (void)state;
    const struct passwd *pw = getpwnam("nobody");
    if (geteuid() != 0 || pw == NULL) {
        skip(); /* needs root and the user nobody */
    }
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    pid_t p = fork();
    if (p == 0)
        _exit(child_drop(uid, gid));
    int st = wait_child(p);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void filter_in_child(void **state)
{
    (void)state;
    pid_t p = fork();
    if (p == 0)
        _exit(child_filter(EXP_SECCOMP_KILL));
    int st = wait_child(p);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGSYS);
    p = fork();
    if (p == 0)
        _exit(child_filter(EXP_SECCOMP_LOG));
    st = wait_child(p);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_specs),
        cmocka_unit_test(seccomp_modes),
        cmocka_unit_test(drop_in_child),
        cmocka_unit_test(filter_in_child),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
