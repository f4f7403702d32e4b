/* SPDX-License-Identifier: BSD-2-Clause */
/* The exporter's privilege drop and NO_NEW_PRIVS (exp_priv.h). */
#include "exp_priv.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "ntk/sb.h"

#include "poison.h"

static int fail(char *why, size_t cap, const char *what, const char *arg, int err)
{
    struct ntk_sb sb;
    ntk_sb_init(&sb, why, cap);
    ntk_sb_printf(&sb, "%s%s%s", what, arg, err != 0 ? ": " : "");
    if (err != 0)
        ntk_sb_puts(&sb, strerror(err));
    return -1;
}

int exp_priv_no_new_privs(char *why, size_t cap)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) == 0)
        return 0;
    return fail(why, cap, "PR_SET_NO_NEW_PRIVS", "", errno);
}

/* A decimal id below (uid_t)-1, which means "unchanged" to the set*id calls. */
static bool parse_id(const char *text, unsigned long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long n = strtoul(text, &end, 10);
    if (end == text || *end != '\0' || errno != 0 || n > 0xfffffffeUL || text[0] == '-')
        return false;
    *out = n;
    return true;
}

static bool find_user(const char *name, uid_t *uid, gid_t *gid)
{
    struct passwd pw, *res = NULL;
    char buf[4096];
    unsigned long n = 0;
    if (getpwnam_r(name, &pw, buf, sizeof buf, &res) == 0 && res != NULL) {
        *uid = pw.pw_uid;
        *gid = pw.pw_gid;
    } else if (parse_id(name, &n)) {
        *uid = (uid_t)n;
        *gid = (gid_t)n;
    } else {
        return false;
    }
    return true;
}

static bool find_group(const char *name, gid_t *gid)
{
    struct group gr, *res = NULL;
    char buf[4096];
    unsigned long n = 0;
    if (getgrnam_r(name, &gr, buf, sizeof buf, &res) == 0 && res != NULL)
        *gid = gr.gr_gid;
    else if (parse_id(name, &n))
        *gid = (gid_t)n;
    else
        return false;
    return true;
}

int exp_priv_drop(const char *spec, char *why, size_t cap)
{
    char user[256];
    size_t len = strcspn(spec, ":");
    if (len == 0 || len >= sizeof user)
        return fail(why, cap, "--user: not a user name: ", spec, 0);
    memcpy(user, spec, len);
    user[len] = '\0';
    uid_t uid = 0;
    gid_t gid = 0;
    if (!find_user(user, &uid, &gid) ||
        (spec[len] == ':' && !find_group(spec + len + 1, &gid)))
        return fail(why, cap, "--user: no such user or group: ", spec, 0);
    if (geteuid() != 0) {
        if (getuid() == uid && geteuid() == uid && getgid() == gid)
            return 0;
        return fail(why, cap, "--user: only root can become ", spec, 0);
    }
    /* No PR_SET_KEEPCAPS: leaving uid 0 clears the permitted and effective sets. */
    if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 ||
        setresuid(uid, uid, uid) != 0)
        return fail(why, cap, "--user: cannot become ", spec, errno);
    /* Root cannot come back: a check that the drop really happened. */
    if (uid != 0 && (setresuid(0, 0, 0) == 0 || geteuid() != uid))
        return fail(why, cap, "--user: still able to become root after dropping to ", spec, 0);
    return 0;
}
