/* SPDX-License-Identifier: BSD-2-Clause */
/* Dropping root, keeping only CAP_SYS_TIME (priv.h). */
#include "priv.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "log.h"

#include "poison.h"

/* A numeric user or group id (decimal, below (uid_t)-1, which means "unchanged"). */
static bool parse_id(const char *text, unsigned long *out)
{
    char *end = NULL;
    unsigned long n = strtoul(text, &end, 10);
    if (end == text || *end != '\0' || n > 0xfffffffeUL)
        return false;
    *out = n;
    return true;
}

/* A user name or number into uid and its primary gid. */
static bool find_user(const char *name, uid_t *uid, gid_t *gid)
{
    struct passwd pw, *res = NULL;
    char buf[4096];
    if (getpwnam_r(name, &pw, buf, sizeof buf, &res) == 0 && res != NULL) {
        *uid = pw.pw_uid;
        *gid = pw.pw_gid;
        return true;
    }
    unsigned long n = 0;
    if (!parse_id(name, &n))
        return false;
    *uid = (uid_t)n;
    *gid = (gid_t)n;
    return true;
}

static bool find_group(const char *name, gid_t *gid)
{
    struct group gr, *res = NULL;
    char buf[4096];
    if (getgrnam_r(name, &gr, buf, sizeof buf, &res) == 0 && res != NULL) {
        *gid = gr.gr_gid;
        return true;
    }
    unsigned long n = 0;
    if (!parse_id(name, &n))
        return false;
    *gid = (gid_t)n;
    return true;
}

/* Leaves exactly CAP_SYS_TIME (or nothing) permitted and effective. */
static int set_caps(bool keep_time)
{
    cap_t caps = cap_init(); /* all clear */
    if (caps == NULL)
        return -errno;
    cap_value_t v[1] = {CAP_SYS_TIME};
    int rc = 0;
    if (keep_time && (cap_set_flag(caps, CAP_PERMITTED, 1, v, CAP_SET) != 0 ||
                      cap_set_flag(caps, CAP_EFFECTIVE, 1, v, CAP_SET) != 0))
        rc = -errno;
    if (rc == 0 && cap_set_proc(caps) != 0)
        rc = -errno;
    cap_free(caps);
    return rc;
}

static int become(uid_t uid, gid_t gid, bool keep_time)
{
    if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) != 0 || setgroups(0, NULL) != 0 ||
        setresgid(gid, gid, gid) != 0 || setresuid(uid, uid, uid) != 0)
        return -errno;
    int rc = set_caps(keep_time);
    (void)prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L);
    return rc;
}

int priv_lookup(const char *spec, uid_t *uid, gid_t *gid)
{
    char user[256];
    size_t len = strcspn(spec, ":");
    if (len == 0 || len >= sizeof user) {
        log_msg(LOG_ERR, "-u %s: not a user name", spec);
        return 1;
    }
    memcpy(user, spec, len);
    user[len] = '\0';
    if (!find_user(user, uid, gid) || (spec[len] == ':' && !find_group(spec + len + 1, gid))) {
        log_msg(LOG_ERR, "-u %s: no such user or group", spec);
        return 1;
    }
    return 0;
}

int priv_become(uid_t uid, gid_t gid, bool keep_time)
{
    int rc = become(uid, gid, keep_time);
    if (rc != 0) {
        log_msg(LOG_ERR, "cannot become uid %u gid %u%s: %s", (unsigned)uid, (unsigned)gid,
                keep_time ? " keeping CAP_SYS_TIME" : "", strerror(-rc));
        return 1;
    }
    log_msg(LOG_INFO, "running as uid %u gid %u, capabilities: %s", (unsigned)uid,
            (unsigned)gid, keep_time ? "cap_sys_time" : "none");
    return 0;
}

int priv_drop(const char *spec, bool keep_time)
{
    uid_t uid;
    gid_t gid;
    return priv_lookup(spec, &uid, &gid) != 0 ? 1 : priv_become(uid, gid, keep_time);
}
