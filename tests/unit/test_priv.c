/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of dropping root (-u): in a forked child, so the test itself keeps its rights;
 * the child checks its ids and capabilities and reports through its exit status. Skipped when
 * not run as root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sys/capability.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../daemon/io/priv.h"

#include "poison.h"

/* Exit status of the child: 0 when every check held, else the number of the failed one. */
static int child(const char *spec, bool keep_time, uid_t want_uid, gid_t want_gid)
{
    if (priv_drop(spec, keep_time) != 0)
        return 1;
    if (getuid() != want_uid || geteuid() != want_uid || getgid() != want_gid)
        return 2;
    if (getgroups(0, NULL) != 0)
        return 3;
    cap_t caps = cap_get_proc();
    for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
        cap_flag_value_t eff = CAP_CLEAR, prm = CAP_CLEAR;
        cap_get_flag(caps, c, CAP_EFFECTIVE, &eff);
        cap_get_flag(caps, c, CAP_PERMITTED, &prm);
        bool want = keep_time && c == CAP_SYS_TIME;
        if ((eff == CAP_SET) != want || (prm == CAP_SET) != want)
            return 4;
    }
    cap_free(caps);
    return setuid(0) == 0 ? 5 : 0; /* root must be gone for good */
}

static int run_child(const char *spec, bool keep_time, uid_t uid, gid_t gid)
{
    pid_t p = fork();
    if (p == 0)
        _exit(child(spec, keep_time, uid, gid));
    int st = 0;
    waitpid(p, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 99;
}

static bool have_time_cap(void)
{
    return CAP_IS_SUPPORTED(CAP_SYS_TIME) && cap_get_bound(CAP_SYS_TIME) == 1;
}

static void drops_to_nobody(void **state)
{
    (void)state;
    if (getuid() != 0)
        skip();
    assert_int_equal(run_child("nobody", false, 65534, 65534), 0);
    assert_int_equal(run_child("65534:65534", false, 65534, 65534), 0);
    if (have_time_cap())
        assert_int_equal(run_child("nobody", true, 65534, 65534), 0);
}

static void refuses_unknown_names(void **state)
{
    (void)state;
    if (getuid() != 0)
        skip();
    assert_int_equal(run_child("no-such-user-ntpkit", false, 0, 0), 1);
    assert_int_equal(run_child("nobody:no-such-group-ntpkit", false, 0, 0), 1);
    assert_int_equal(run_child("", false, 0, 0), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(drops_to_nobody),
        cmocka_unit_test(refuses_unknown_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
