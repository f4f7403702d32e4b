/* SPDX-License-Identifier: BSD-2-Clause */
/* The leap-seconds file (`leapfile`): read at start and on SIGHUP, looked at every hour as
 * NTPsec's check_leap_file does (read again when it changed on disk; expiry warnings with
 * NTPsec's wording and schedule). What the table means for the clock: eng_leap.c. */
#include "daemon_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "ntk/leapfile.h"
#include "ntk/sb.h"

#include "poison.h"

#define NS_PER_S  1000000000LL
#define HOUR_S    3600
#define DAY_S     86400
#define WARN_DAYS 28 /* NTPsec warns daily from 28 days before the expiry */

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
           a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Whole days until the expiry, rounded down (negative once expired): NTPsec's
 * leapsec_daystolive. */
static int64_t days_to_live(const struct ntk_leap_table *t, int64_t now)
{
    int64_t left = (int64_t)t->expires_ntp_s - NTK_NTP_UNIX_OFFSET_S - now;
    return left >= 0 ? left / DAY_S : -((-left + DAY_S - 1) / DAY_S);
}

/* NTPsec's check_leap_expiration: in the last day every hour; daily, from 28 days before
 * the expiry on, and after it. */
static void warn_expiry(struct ntpd *d, bool daily, int64_t now)
{
    if (d->leap.n == 0)
        return;
    const char *path = d->conf.leapfile;
    int64_t days = days_to_live(&d->leap, now);
    if (days == 0)
        log_msg(LOG_WARNING, "leapsecond file ('%s'): will expire in less than one day", path);
    else if (daily && days < 0)
        log_msg(LOG_ERR, "leapsecond file ('%s'): expired less than %lld day%s ago", path,
                (long long)-days, days == -1 ? "" : "s");
    else if (daily && days < WARN_DAYS)
        log_msg(LOG_WARNING, "leapsecond file ('%s'): will expire in less than %lld days",
                path, (long long)days + 1);
}

void dleap_load(struct ntpd *d)
{
    const char *path = d->conf.leapfile;
    if (path[0] == '\0')
        return;
    struct stat st;
    if (stat(path, &st) != 0)
        memset(&st, 0, sizeof st);
    size_t len = 0;
    char *text = dfiles_read_small(path, 64 * 1024, &len);
    if (text == NULL)
        return;
    static struct ntk_leap_entry fresh[NTK_LEAPFILE_ENTRIES_MAX];
    struct ntk_leapfile_diag diags[16];
    struct ntk_leapfile lf;
    ntk_leapfile_init(&lf, fresh, NTK_LEAPFILE_ENTRIES_MAX, diags, 16);
    int rc = ntk_leapfile_parse(&lf, text, len, NTK_LEAPFILE_ALLOW_NOHASH);
    free(text);
    for (size_t i = 0; i < lf.ndiags; i++) {
        char line[256];
        struct ntk_sb sb;
        ntk_sb_init(&sb, line, sizeof line);
        ntk_leapfile_diag_format(&sb, path, &diags[i]);
        log_msg(diags[i].warning ? LOG_WARNING : LOG_ERR, "%s", ntk_sb_str(&sb));
    }
    d->leapw.st = st; /* a bad file is not read again until it changes */
    if (rc != 0)
        return;
    memcpy(d->leap_entries, fresh, lf.table.n * sizeof fresh[0]);
    d->leap = lf.table;
    d->leap.entries = d->leap_entries;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    eng_set_leap_table(d->eng, &d->leap, (int64_t)now.tv_sec);
    bool expired = ntk_leap_expired(&d->leap, (int64_t)now.tv_sec);
    log_msg(expired ? LOG_WARNING : LOG_INFO, "%s: %zu entries, TAI-UTC %d s%s", path,
            d->leap.n, ntk_leap_tai_offset(&d->leap, (int64_t)now.tv_sec),
            expired ? "; EXPIRED: leap seconds come from the servers until it is renewed"
                    : "");
    warn_expiry(d, true, (int64_t)now.tv_sec);
}

static void on_leap_timer(void *ctx, int64_t now_mono_ns)
{
    struct ntpd *d = ctx;
    d->leapw.timer = 0;
    d->leapw.checks++;
    struct stat st;
    if (stat(d->conf.leapfile, &st) == 0 && !same_file(&st, &d->leapw.st)) {
        log_msg(LOG_INFO, "%s: changed on disk, reading it again", d->conf.leapfile);
        dleap_load(d);
        daemon_drain_actions(d); /* the TAI event, and what the new table changes */
    } else {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        warn_expiry(d, d->leapw.checks % 24 == 0, (int64_t)now.tv_sec);
    }
    int64_t id = loop_timer(d->loop, now_mono_ns + d->leapw.interval_ns, on_leap_timer, d);
    d->leapw.timer = id > 0 ? id : 0;
}

void dleap_start(struct ntpd *d)
{
    if (d->conf.leapfile[0] == '\0' || d->loop == NULL)
        return;
    const char *p = getenv("NTK_LEAPFILE_INTERVAL");
    long v = p != NULL ? strtol(p, NULL, 10) : 0;
    d->leapw.interval_ns = (v >= 1 && v <= HOUR_S ? v : HOUR_S) * NS_PER_S;
    int64_t id =
        loop_timer(d->loop, loop_now_mono_ns() + d->leapw.interval_ns, on_leap_timer, d);
    d->leapw.timer = id > 0 ? id : 0;
}
