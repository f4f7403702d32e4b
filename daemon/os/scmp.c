/* SPDX-License-Identifier: BSD-2-Clause */
/* The seccomp rules every allow-list of ntpkit builds from lists (scmp.h). */
#include "scmp.h"

#include <errno.h>
#include <sched.h>
#include <string.h>

#include "poison.h"

bool ntk_scmp_parse(const char *text, enum ntk_scmp_mode *out)
{
    static const struct {
        const char *name;
        enum ntk_scmp_mode m;
    } modes[] = {{"kill", NTK_SCMP_KILL},
                 {"on", NTK_SCMP_KILL},
                 {"log", NTK_SCMP_LOG},
                 {"off", NTK_SCMP_OFF}};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        if (strcmp(text, modes[i].name) == 0) {
            *out = modes[i].m;
            return true;
        }
    }
    return false;
}

const char *ntk_scmp_name(enum ntk_scmp_mode m)
{
    return m == NTK_SCMP_LOG ? "log" : m == NTK_SCMP_OFF ? "off" : "kill";
}

scmp_filter_ctx ntk_scmp_new(uint32_t def_action, int *rc)
{
    scmp_filter_ctx ctx = seccomp_init(def_action);
    *rc = ctx == NULL ? -ENOMEM : seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 5)
    if (*rc == 0)
        *rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
#endif
    if (*rc != 0 && ctx != NULL) {
        seccomp_release(ctx);
        ctx = NULL;
    }
    return ctx;
}

int ntk_scmp_allow_names(scmp_filter_ctx ctx, const char *const *names, size_t n)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int nr = seccomp_syscall_resolve_name(names[i]);
        if (nr >= 0) /* else __NR_SCMP_ERROR: not a call of this architecture */
            rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
    }
    return rc;
}

int ntk_scmp_allow_ioctls(scmp_filter_ctx ctx, const unsigned long *requests, size_t n)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                              SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, requests[i]));
    return rc;
}

int ntk_scmp_allow_sockets(scmp_filter_ctx ctx, const int *domains, size_t n)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = seccomp_rule_add(
            ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
            SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffUL, (scmp_datum_t)domains[i]));
    return rc;
}

int ntk_scmp_allow_threads(scmp_filter_ctx ctx)
{
    int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    return rc;
}
