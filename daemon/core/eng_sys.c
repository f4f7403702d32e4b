/* SPDX-License-Identifier: BSD-2-Clause */
/* The engine's system side: selection over the associations, the system variables it
 * yields (RFC 5905 §11.2.3 clock_update), the discipline and orphan mode (leap seconds:
 * eng_leap.c). */
#include <math.h>
#include <string.h>

#include "engine_internal.h"
#include "ntk/refid.h"

#include "poison.h"

#define NS_PER_S 1000000000LL

/* The dispersion growth rate once synchronised (chrony's maxclockerror default), and after
 * how many clock updates it applies. */
#define ENG_PHI_SYNCED_PPM    1.0
#define ENG_PHI_AFTER_UPDATES 8

/* NTPsec's orphan refid: the loopback address. */
#define ORPHAN_REFID 0x7f000001u

struct assoc_sys eng_assoc_sys(const struct eng *e)
{
    return (struct assoc_sys){.our_refid = e->sys.refid,
                              .our_stratum = e->sys.stratum,
                              .precision_log2 = e->cfg.precision_log2,
                              .maxdist_s = e->cfg.tos.maxdist_s,
                              .nts_s2c = e->nts_s2c};
}

bool eng_selectable(const struct eng *e, const struct assoc *a, int64_t now_mono_ns)
{
    if (!assoc_selectable(a, now_mono_ns, e->cfg.tos.maxdist_s))
        return false;
    /* NTPsec's tos floor and ceiling (peer_unfit), for servers: a refclock's stratum is
     * the one its line gives. */
    return a->refclock ||
           (a->last.stratum >= e->cfg.tos.floor && a->last.stratum < e->cfg.tos.ceiling);
}

/* Offers every selectable association to the selection. */
static size_t gather(struct eng *e, int64_t now_mono_ns, struct sel_cand *c)
{
    size_t n = 0;
    for (size_t i = 0; i < e->nassoc && n < SEL_MAX; i++) {
        struct assoc *a = &e->assoc[i];
        if (eng_is_pps(a) || !eng_selectable(e, a, now_mono_ns))
            continue; /* a PPS refclock numbers no second: eng_pps_rule decides on it */
        /* The filter may offer an older sample: bring it into the clock's current frame
         * (the corrections the discipline made since it was taken). */
        double since = disc_since_s(&e->disc, a->filt.t_mono_ns);
        c[n] = (struct sel_cand){.id = a->id,
                                 .offset_s = a->filt.offset_s - since,
                                 .root_dist_s = assoc_root_dist(a, now_mono_ns),
                                 .jitter_s = a->filt.jitter_s,
                                 .stratum = a->last.stratum,
                                 .prefer = a->cfg.prefer,
                                 .true_ = a->cfg.true_};
        e->sel_ids[n] = a->id;
        n++;
    }
    e->nsel = n;
    return n;
}

/* The system variables from the system peer (RFC 5905 clock_update). */
static void update_sys(struct eng *e, const struct assoc *p, const struct eng_now *now)
{
    struct snap_system *s = &e->sys;
    int64_t t = now->mono_ns;
    s->stratum = (uint8_t)(p->last.stratum + 1 > 16 ? 16 : p->last.stratum + 1);
    uint32_t refid = 0;
    if (p->refclock)
        s->refid = p->last.refid; /* "SHM", "PPS"...: we are one above the refclock */
    else
        s->refid = ntk_refid_from_addr(&p->cfg.addr, &refid) == 0 ? refid : 0;
    s->reftime = ntk_ts_from_timespec(&now->real);
    s->root_delay_s = ntk_short_to_s(p->last.root_delay) + p->filt.delay_s;
    s->root_disp_s = ntk_short_to_s(p->last.root_disp) + filter_disp_now(&p->filt, t) +
                     e->sel.jitter_s + fabs(e->sel.offset_s);
    s->offset_s = e->sel.offset_s;
    s->sys_jitter_s = e->sel.jitter_s;
    eng_leap_on_update(e, now);
}

static void fan_out_step(struct eng *e, double step_s)
{
    for (size_t i = 0; i < e->nassoc; i++)
        assoc_on_step(&e->assoc[i], step_s);
    eng_refclock_on_step(e, step_s);
    e->sys.steps++;
    eng_event(e, ENG_EV_STEP, 0, step_s, NULL);
}

/* The rate at which dispersion grows with age. RFC 5905's PHI (15 ppm) is the worst case
 * for a clock nobody has measured; once the discipline has run a few updates the local
 * clock's frequency is known far better, and ageing every sample by 15 ppm would make the
 * distances of sources polled every 1024 s tens of milliseconds wide, so a drifting
 * falseticker would stay inside the intersection long after it left the truth. chrony ages
 * its samples by `maxclockerror`, 1 ppm by default, plus its measured skew; we do the same
 * with ENG_PHI_SYNCED_PPM once synchronised, and keep the tinker value until then. */
static void set_phi(struct eng *e)
{
    double phi =
        e->sys.updates >= ENG_PHI_AFTER_UPDATES ? ENG_PHI_SYNCED_PPM : e->cfg.tinker.phi_ppm;
    if (phi > e->cfg.tinker.phi_ppm)
        phi = e->cfg.tinker.phi_ppm;
    for (size_t i = 0; i < e->nassoc; i++)
        filter_set_phi(&e->assoc[i].filt, phi);
}

/* Hands the combined offset to the discipline and acts on its verdict. */
static void discipline(struct eng *e, const struct assoc *p, const struct eng_now *now)
{
    double dist = assoc_root_dist(p, now->mono_ns);
    /* The sample's own time and delay: the estimator places it where it was measured and
     * weighs it by its delay (the combined offset is already in the current frame). */
    struct disc_sample x = {.t_mono_ns = p->filt.t_mono_ns,
                            .offset_s = e->sel.offset_s,
                            .delay_s = p->filt.delay_s,
                            .jitter_s = e->sel.jitter_s,
                            .root_dist_s = dist};
    disc_poll_range(&e->disc, p->cfg.minpoll_log2, p->cfg.maxpoll_log2);
    enum disc_verdict v = disc_feed(&e->disc, now->mono_ns, &x);
    e->sys.updates++;
    eng_event(e, ENG_EV_CLOCK_UPDATE, p->id, e->sel.offset_s, NULL);
    switch (v) {
    case DISC_STEPPED:
        fan_out_step(e, disc_last_step_s(&e->disc));
        break;
    case DISC_PANIC:
        eng_event(e, ENG_EV_PANIC, p->id, e->sel.offset_s,
                  "offset beyond the panic threshold");
        if (!e->cfg.observe)
            eng_exit(e, 1);
        break;
    case DISC_DONE:
        if (disc_last_step_s(&e->disc) != 0)
            fan_out_step(e, disc_last_step_s(&e->disc));
        eng_exit(e, 0);
        break;
    case DISC_ERROR:
        eng_event(e, ENG_EV_CLOCK_ERROR, 0, disc_last_error(&e->disc), "discipline");
        break;
    case DISC_SLEWED:
    case DISC_SPIKE:
        break;
    }
    set_phi(e);
    int8_t poll = disc_poll_log2(&e->disc);
    e->sys.poll_log2 = poll;
    for (size_t i = 0; i < e->nassoc; i++) {
        /* NTPsec: a refclock polls at its minpoll until it is the system peer. */
        if (e->assoc[i].refclock && e->assoc[i].id != e->sys.sys_peer)
            continue;
        assoc_set_poll(&e->assoc[i], poll);
    }
    if (!e->cfg.observe && e->clk->set_sync_status != NULL)
        (void)e->clk->set_sync_status(e->clk->ctx, 1, dist, e->sel.jitter_s);
}

static void lose_sync(struct eng *e, const struct eng_now *now)
{
    if (e->sys.sys_peer != 0) {
        eng_event(e, ENG_EV_UNSYNC, e->sys.sys_peer, 0, NULL);
        /* Tell the kernel too, so adjtimex(2) users stop trusting the clock. */
        if (!e->cfg.observe && e->clk->set_sync_status != NULL)
            (void)e->clk->set_sync_status(e->clk->ctx, 0, 16.0, 0.0);
    }
    e->sys.sys_peer = 0;
    if (e->unsync_since_mono_ns == 0)
        e->unsync_since_mono_ns = now->mono_ns;
}

/* The survivors were kept: none is a pool member to drop (eng_assoc.c pool_prune). */
static void note_survivors(struct eng *e)
{
    for (size_t i = 0; i < e->nsel; i++) {
        struct assoc *a =
            e->sel.fate[i] >= SEL_SURVIVOR ? eng_assoc_by_id(e, e->sel_ids[i]) : NULL;
        if (a != NULL)
            a->unselected = 0;
    }
}

void eng_clock_select(struct eng *e, const struct eng_now *now, uint32_t from)
{
    struct sel_cand c[SEL_MAX];
    size_t n = gather(e, now->mono_ns, c);
    select_run(c, n, &e->cfg.tos, e->sys.sys_peer, &e->sel);
    note_survivors(e);
    uint32_t sel_peer = e->sel.ok && e->sel.sys_peer >= 0 ? e->sel_ids[e->sel.sys_peer] : 0;
    uint32_t peer_id = eng_pps_rule(e, now, sel_peer); /* NTPsec's PPS peer */
    if (peer_id == 0) {
        lose_sync(e, now);
        return;
    }
    struct assoc *p = eng_assoc_by_id(e, peer_id);
    if (p == NULL)
        return;
    /* An offset beyond the panic threshold never synchronises the system: NTPsec reports
     * clock_sync only once its discipline took an update, and exits on a panic. Observe
     * mode, which keeps serving, stays unsynchronised and says why at each new sample. */
    if (disc_panics(&e->disc, e->sel.offset_s)) {
        if (from == peer_id) {
            eng_event(e, ENG_EV_PANIC, peer_id, e->sel.offset_s,
                      "offset beyond the panic threshold");
            if (!e->cfg.observe)
                eng_exit(e, 1);
        }
        lose_sync(e, now);
        return;
    }
    if (peer_id != e->sys.sys_peer)
        eng_event(e, ENG_EV_SYNC, peer_id, e->sel.offset_s, NULL);
    e->sys.sys_peer = peer_id;
    e->unsync_since_mono_ns = 0;
    update_sys(e, p, now);
    /* The clock follows the system peer's pace: one update per new sample of it. */
    if (from == peer_id)
        discipline(e, p, now);
}

/* Orphan mode (NTPsec's `tos orphan`): with no source for orphanwait, serve as stratum
 * `orphan` from the local clock, leap 0, refid 127.0.0.1. */
static void orphan(struct eng *e, const struct eng_now *now)
{
    int64_t since = e->unsync_since_mono_ns ? e->unsync_since_mono_ns : e->start_mono_ns;
    bool due = e->cfg.tos.orphan < 16 && e->sys.sys_peer == 0 &&
               now->mono_ns - since >= (int64_t)(e->cfg.tos.orphanwait_s * (double)NS_PER_S);
    if (!due || e->sys.stratum == (uint8_t)e->cfg.tos.orphan)
        return;
    e->sys.stratum = (uint8_t)e->cfg.tos.orphan;
    e->sys.leap = NTK_LEAP_NONE;
    e->sys.refid = ORPHAN_REFID;
    e->sys.reftime = ntk_ts_from_timespec(&now->real);
    e->sys.root_delay_s = 0;
    e->sys.root_disp_s = 0;
}

int64_t eng_sys_deadline(const struct eng *e)
{
    int64_t leap = e->leap.deadline_mono_ns;
    if (e->cfg.tos.orphan >= 16 || e->sys.sys_peer != 0 ||
        e->sys.stratum == (uint8_t)e->cfg.tos.orphan)
        return leap;
    int64_t since = e->unsync_since_mono_ns ? e->unsync_since_mono_ns : e->start_mono_ns;
    int64_t orphan_at = since + (int64_t)(e->cfg.tos.orphanwait_s * (double)NS_PER_S);
    return orphan_at < leap ? orphan_at : leap;
}

void eng_sys_timer(struct eng *e, const struct eng_now *now)
{
    struct assoc *p = e->sys.sys_peer ? eng_assoc_by_id(e, e->sys.sys_peer) : NULL;
    if (e->sys.sys_peer != 0 && (p == NULL || !eng_selectable(e, p, now->mono_ns)))
        eng_clock_select(e, now, 0);
    orphan(e, now);
    eng_leap_tick(e, now); /* the leap's schedule runs between clock updates too */
}
