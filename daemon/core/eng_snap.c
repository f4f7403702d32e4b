/* SPDX-License-Identifier: BSD-2-Clause */
/* The engine's report (snap.h): a copy of the system, the counters and each association. */
#include <string.h>

#include "engine_internal.h"

#include "poison.h"

/* The tally character of association id from the last selection. */
static char tally_of(const struct eng *e, uint32_t id)
{
    static const char by_fate[] = {
        [SEL_FALSETICKER] = SNAP_TALLY_FALSETICK, [SEL_EXCESS] = SNAP_TALLY_EXCESS,
        [SEL_OUTLIER] = SNAP_TALLY_OUTLIER,       [SEL_SURVIVOR] = SNAP_TALLY_CANDIDATE,
        [SEL_SYSPEER] = SNAP_TALLY_SYSPEER,
    };
    for (size_t i = 0; i < e->nsel; i++) {
        if (e->sel_ids[i] != id)
            continue;
        if (e->sel.fate[i] == SEL_SYSPEER && id != e->sys.sys_peer)
            return SNAP_TALLY_CANDIDATE;
        return by_fate[e->sel.fate[i]];
    }
    return SNAP_TALLY_REJECT;
}

/* The fields that come from the last reply and the filter. */
static void snap_header(const struct assoc *a, int64_t now_mono_ns, struct snap_assoc *s)
{
    bool seen = a->ever_reached;
    s->leap = seen ? a->last.leap : NTK_LEAP_UNSYNC;
    s->stratum = seen ? a->last.stratum : 16;
    s->ppoll_log2 = a->last.poll_log2;
    s->precision_log2 = a->last.precision_log2;
    s->refid = a->last.refid;
    s->reftime = a->last.reftime;
    s->root_delay_s = ntk_short_to_s(a->last.root_delay);
    s->root_disp_s = ntk_short_to_s(a->last.root_disp);
    s->offset_s = a->filt.offset_s;
    s->delay_s = a->filt.delay_s;
    s->disp_s = filter_disp_now(&a->filt, now_mono_ns);
    s->jitter_s = a->filt.jitter_s;
    s->root_dist_s = assoc_root_dist(a, now_mono_ns);
}

static void snap_one(const struct eng *e, const struct assoc *a, int64_t now_mono_ns,
                     struct snap_assoc *s)
{
    memset(s, 0, sizeof *s);
    s->id = a->id;
    s->addr = a->cfg.addr;
    memcpy(s->name, a->cfg.name, sizeof s->name);
    s->from_pool = a->cfg.from_pool;
    s->prefer = a->cfg.prefer;
    s->noselect = a->cfg.noselect;
    s->true_ = a->cfg.true_;
    s->iburst = a->cfg.iburst;
    s->burst = a->cfg.burst;
    s->key_id = a->cfg.key_id;
    s->authenticated = a->authenticated;
    s->tally = tally_of(e, a->id);
    s->reach = a->reach;
    s->flash = a->flash;
    s->hpoll_log2 = a->hpoll_log2;
    s->next_poll_mono_ns = a->next_poll_mono_ns;
    s->last_rx_mono_ns = a->last_rx_mono_ns;
    memcpy(s->kiss, a->kiss, sizeof s->kiss);
    s->sent = a->sent;
    s->received = a->received;
    s->bogus = a->bogus;
    s->dropped = a->dropped;
    snap_header(a, now_mono_ns, s);
}

size_t eng_snap(const struct eng *e, int64_t now_mono_ns, struct snap_system *sys,
                struct snap_counters *ctr, struct snap_assoc *assocs, size_t cap)
{
    if (sys != NULL) {
        *sys = e->sys;
        sys->freq_ppm = disc_freq_ppm(&e->disc);
        sys->clk_jitter_s = e->disc.jitter_s;
        sys->clk_wander_ppm = e->disc.wander_ppm;
    }
    if (ctr != NULL)
        *ctr = e->ctr;
    for (size_t i = 0; i < e->nassoc && i < cap; i++)
        snap_one(e, &e->assoc[i], now_mono_ns, &assocs[i]);
    return e->nassoc;
}
