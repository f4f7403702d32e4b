/* SPDX-License-Identifier: BSD-2-Clause */
/* Leap seconds, scheduled as NTPsec 1.2 schedules them (its ntp_leapsec.c, ntp_timer.c and
 * clock_update, read to understand, nothing copied; compared running side by side in
 * tests/interop/ntpd_leap_ntpsec.sh):
 *  - While the leap-seconds file has not expired, its next entry is the pending leap, and it
 *    counts as scheduled (event leap_armed) from 28 days before.
 *  - Without a usable file the servers decide: when the survivors' leap bits vote for a leap
 *    (more than half of them, or any refclock), one is scheduled at once for the end of the
 *    current UTC month (RFC 5905: "the last minute of the current month") and kept until it
 *    passes, even if the bits go away. Not in the first hour of a month (the bits of the
 *    leap just past may still be set) and not while another leap is pending.
 *  - The leap is announced to clients (the leap indicator) and armed in the kernel only in
 *    the last 24 hours before it. A server that sets its bits all month, as NTP Classic 4.2.6
 *    did, therefore no longer makes us insert a second at tonight's midnight (the kernel
 *    inserts at the first midnight after it is armed).
 *  - In the last 2 seconds before the leap, and during an inserted one, replies say "not
 *    synchronised" (leap 3), as NTPsec's: our clock's time is ambiguous then.
 *  - Events: leap_armed when a leap becomes scheduled (on the system peer when the servers
 *    voted it: NTPsec's peer event), leap_disarmed when a scheduled leap goes away (a reloaded
 *    file without it), leap_event when it has passed. Nothing while never synchronised. */
#include <stdint.h>

#include "engine_internal.h"
#include "ntk/leapfile.h"
#include "ntk/ntime.h"
#include "ntk/sb.h"

#include "poison.h"

#define DAY_S         86400
#define SCHEDULE_S    (28 * DAY_S) /* NTPsec notices a file's leap 28 days ahead */
#define NS_PER_S      1000000000LL
#define IN_PROGRESS_S 2 /* NTPsec's leap_sec_in_progress: fewer than 3 s to go */

/* A leap: the instant the new offset begins (00:00 UTC, Unix s; the leap is the second
 * before), +1 insert / -1 delete; when == 0: none. */
struct leap {
    int64_t when;
    int delta;
    bool dynamic; /* voted by the servers, not from the file */
};

static bool file_usable(const struct eng *e, int64_t t)
{
    return e->leap_table != NULL && !ntk_leap_expired(e->leap_table, t);
}

/* The file's next leap after t, scheduled or not yet. */
static struct leap file_next(const struct eng *e, int64_t t)
{
    struct leap l = {0};
    if (file_usable(e, t) && ntk_leap_next(e->leap_table, t, &l.when, &l.delta) != 0)
        l = (struct leap){0};
    return l;
}

/* The leap scheduled at t, if any. */
static struct leap scheduled_at(const struct eng *e, int64_t t)
{
    if (file_usable(e, t)) {
        struct leap l = file_next(e, t);
        return l.when != 0 && t >= l.when - SCHEDULE_S ? l : (struct leap){0};
    }
    if (e->leap.dyn_when > t)
        return (struct leap){
            .when = e->leap.dyn_when, .delta = e->leap.dyn_delta, .dynamic = true};
    return (struct leap){0};
}

/* The survivors' vote: +1 / -1 / 0 (NTPsec's leap_vote_ins / _del against sys_survivors). */
static int servers_vote(struct eng *e)
{
    const struct assoc *surv[SEL_MAX];
    size_t n = 0, ins = 0, del = 0;
    for (size_t i = 0; i < e->nsel && n < SEL_MAX; i++) {
        const struct assoc *a =
            e->sel.fate[i] >= SEL_SURVIVOR ? eng_assoc_by_id(e, e->sel_ids[i]) : NULL;
        if (a != NULL)
            surv[n++] = a;
    }
    for (size_t i = 0; i < n; i++) {
        const struct assoc *a = surv[i];
        /* A refclock (a GPS receiver reading the leap from the satellites) wins the vote. */
        if (a->last.leap == NTK_LEAP_INSERT)
            ins = a->refclock ? n : ins + 1;
        else if (a->last.leap == NTK_LEAP_DELETE)
            del = a->refclock ? n : del + 1;
    }
    if (ins > del && 2 * ins > n)
        return 1;
    if (del > ins && 2 * del > n)
        return -1;
    return 0;
}

/* 00:00 UTC on the first of the month after t; 0 in the first hour of a month. */
static int64_t month_end(int64_t t)
{
    struct ntk_civil c;
    ntk_civil_from_unix(t, &c);
    if (c.mday == 1 && c.hour == 0)
        return 0;
    c.mday = 1;
    c.hour = c.min = c.sec = 0;
    if (++c.mon > 12) {
        c.mon = 1;
        c.year++;
    }
    int64_t u = 0;
    return ntk_civil_to_unix(&c, &u) == 0 ? u : 0;
}

static void arm_kernel(struct eng *e, int want)
{
    if (want == e->leap.armed)
        return;
    e->leap.armed = want;
    if (!e->cfg.observe && e->clk->set_leap != NULL) {
        int rc = e->clk->set_leap(e->clk->ctx, want);
        if (rc != 0)
            eng_event(e, ENG_EV_CLOCK_ERROR, 0, rc, "set_leap");
    }
}

static void report_armed(struct eng *e, const struct leap *l)
{
    char text[96];
    struct ntk_sb sb;
    ntk_sb_init(&sb, text, sizeof text);
    ntk_sb_puts(&sb, l->delta > 0 ? "insert at " : "delete at ");
    ntk_time_format_minute(l->when, &sb);
    ntk_sb_puts(&sb, l->dynamic ? ", voted by the servers" : ", from the leap file");
    eng_event(e, ENG_EV_LEAP_ARMED, l->dynamic ? e->sys.sys_peer : 0, l->delta, text);
}

/* The next instant eng_leap_tick has something to do at, after t (0: none). */
static int64_t next_boundary(const struct eng *e, int64_t t)
{
    int64_t s = e->leap.sched_when, f = file_next(e, t).when;
    int64_t cand[] = {s - DAY_S, s - IN_PROGRESS_S, s, f - SCHEDULE_S};
    int64_t best = 0;
    for (size_t i = 0; i < sizeof cand / sizeof cand[0]; i++)
        if (cand[i] > t && (best == 0 || cand[i] < best))
            best = cand[i];
    return best;
}

void eng_leap_tick(struct eng *e, const struct eng_now *now)
{
    struct eng_leap *st = &e->leap;
    int64_t t = (int64_t)now->real.tv_sec;
    st->deadline_mono_ns = INT64_MAX;
    if (e->sys.leap == NTK_LEAP_UNSYNC) /* NTPsec: no leap state before synchronisation */
        return;
    if (st->sched_when != 0 && t >= st->sched_when) {
        eng_event(e, ENG_EV_LEAP, 0, st->sched_delta,
                  st->sched_delta > 0 ? "inserted" : "deleted");
        st->sched_when = 0;
        st->sched_delta = 0;
    }
    struct leap l = scheduled_at(e, t);
    if (l.when != st->sched_when || l.delta != st->sched_delta) {
        if (st->sched_when != 0)
            eng_event(e, ENG_EV_LEAP_DISARMED, 0, st->sched_delta, NULL);
        if (l.when != 0)
            report_armed(e, &l);
        st->sched_when = l.when;
        st->sched_delta = l.delta;
    }
    bool last_day = l.when != 0 && t >= l.when - DAY_S;
    e->sys.leap = !last_day ? NTK_LEAP_NONE : l.delta > 0 ? NTK_LEAP_INSERT : NTK_LEAP_DELETE;
    /* Unix time repeats its last second for an inserted leap: t stays below l.when. */
    e->sys.leap_in_progress = l.when != 0 && t >= l.when - IN_PROGRESS_S;
    arm_kernel(e, last_day ? l.delta : 0);
    int64_t b = next_boundary(e, t);
    if (b != 0)
        st->deadline_mono_ns = now->mono_ns + (b - t) * NS_PER_S - (int64_t)now->real.tv_nsec;
}

void eng_leap_on_update(struct eng *e, const struct eng_now *now)
{
    int64_t t = (int64_t)now->real.tv_sec;
    if (e->sys.leap == NTK_LEAP_UNSYNC)
        e->sys.leap = NTK_LEAP_NONE; /* synchronised from now on */
    if (!file_usable(e, t) && e->leap.sched_when == 0) {
        int vote = servers_vote(e);
        int64_t when = vote != 0 ? month_end(t) : 0;
        if (when != 0) {
            e->leap.dyn_when = when;
            e->leap.dyn_delta = vote;
        }
    }
    eng_leap_tick(e, now);
}

void eng_set_leap_table(struct eng *e, const struct ntk_leap_table *tab, int64_t now_unix_s)
{
    e->leap_table = tab;
    e->leap.deadline_mono_ns = 0; /* eng_leap_tick at the next timer pass: what changed */
    if (tab == NULL || tab->n == 0)
        return;
    /* NTPsec's TAI event: the last entry's offset and date, the expiry. */
    char text[96];
    struct ntk_sb sb;
    ntk_sb_init(&sb, text, sizeof text);
    const struct ntk_leap_entry *last = &tab->entries[tab->n - 1];
    ntk_sb_printf(&sb, "%d leap ", (int)last->tai_utc_s);
    ntk_time_format_minute(last->unix_s, &sb);
    ntk_sb_puts(&sb, ntk_leap_expired(tab, now_unix_s) ? " expired " : " expires ");
    ntk_time_format_minute((int64_t)tab->expires_ntp_s - NTK_NTP_UNIX_OFFSET_S, &sb);
    eng_event(e, ENG_EV_LEAP_FILE, 0, last->tai_utc_s, text);
}
