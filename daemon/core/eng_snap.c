/* SPDX-License-Identifier: BSD-2-Clause */
/* The engine's report (snap.h): a copy of the system, the counters and each association. */
#include <string.h>

#include "engine_internal.h"
#include "ntk/refid.h"

#include "poison.h"

void snap_events_note(struct snap_events *h, uint8_t code)
{
    if (h->last == code && h->count > 0) {
        if (h->count < SNAP_EVENTS_MAX)
            h->count++;
        return;
    }
    h->last = code;
    h->count = 1;
}

/* NTPsec's peer event code of a kiss code: RATE and DENY/RSTR only (0: none). */
static uint8_t kod_event(const char *text)
{
    if (text == NULL)
        return 0;
    if (strcmp(text, "RATE") == 0)
        return SNAP_PEVNT_RATE;
    if (strcmp(text, "DENY") == 0 || strcmp(text, "RSTR") == 0)
        return SNAP_PEVNT_DENY;
    return 0;
}

/* The system event NTPsec reports for ev (0: none). */
static uint8_t sys_event(const struct eng *e, enum eng_event ev)
{
    switch (ev) {
    case ENG_EV_SYNC: /* clock_sync only when there was no system peer before */
        return e->sys.sys_peer == 0 ? SNAP_EVNT_SYNC : 0;
    case ENG_EV_UNSYNC:
        return SNAP_EVNT_NOPEER;
    case ENG_EV_STEP:
        return SNAP_EVNT_CLOCKRESET;
    case ENG_EV_PANIC:
        return SNAP_EVNT_SYSFAULT;
    case ENG_EV_FREQ:
        return SNAP_EVNT_FSET;
    case ENG_EV_FREQ_NOT_SET:
        return SNAP_EVNT_FNOTSET;
    case ENG_EV_RESTART:
        return SNAP_EVNT_RESTART;
    case ENG_EV_LEAP_ARMED:
        return SNAP_EVNT_ARMED;
    case ENG_EV_LEAP_DISARMED:
        return SNAP_EVNT_DISARMED;
    case ENG_EV_LEAP:
        return SNAP_EVNT_LEAP;
    case ENG_EV_LEAP_FILE:
        return SNAP_EVNT_TAI;
    case ENG_EV_CLOCK_ERROR:
        return SNAP_EVNT_KERN;
    default:
        return 0;
    }
}

/* The peer event NTPsec reports for ev (0: none). */
static uint8_t peer_event(enum eng_event ev, const char *text)
{
    switch (ev) {
    case ENG_EV_SYNC:
        return SNAP_PEVNT_NEWPEER;
    case ENG_EV_MOBILIZE:
        return SNAP_PEVNT_MOBIL;
    case ENG_EV_REACH:
        return SNAP_PEVNT_REACH;
    case ENG_EV_UNREACH:
        return SNAP_PEVNT_UNREACH;
    case ENG_EV_KOD:
        return kod_event(text);
    case ENG_EV_NTS_REFUSED:
        return SNAP_PEVNT_AUTH;
    case ENG_EV_LEAP_ARMED:
        return SNAP_PEVNT_ARMED;
    default:
        return 0;
    }
}

void eng_note_event(struct eng *e, enum eng_event ev, uint32_t assoc_id, const char *text)
{
    /* A leap the servers voted is the system peer's event alone (NTPsec's PEVNT_ARMED). */
    uint8_t code = ev == ENG_EV_LEAP_ARMED && assoc_id != 0 ? 0 : sys_event(e, ev);
    if (code != 0)
        snap_events_note(&e->sys.events, code);
    code = peer_event(ev, text);
    struct assoc *a = assoc_id != 0 ? eng_assoc_by_id(e, assoc_id) : NULL;
    if (code != 0 && a != NULL)
        snap_events_note(&a->events, code);
}

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
    s->ppoll_log2 = SNAP_PPOLL_UNKNOWN;
    s->precision_log2 = a->last.precision_log2;
    /* Before the first reply NTPsec shows the kiss code INIT (peer->refid "INIT"), and
     * ".NTS." while an NTS source waits for its key exchange; monitors key on them. */
    if (seen)
        s->refid = a->last.refid;
    else if (a->nts.on && !a->nts.keyed)
        s->refid = NTK_REFID_CODE('N', 'T', 'S', 0);
    else
        s->refid = NTK_REFID_CODE('I', 'N', 'I', 'T');
    s->reftime = a->last.reftime;
    s->root_delay_s = ntk_short_to_s(a->last.root_delay);
    s->root_disp_s = ntk_short_to_s(a->last.root_disp);
    s->offset_s = a->filt.offset_s;
    s->delay_s = a->filt.delay_s;
    s->disp_s = filter_disp_now(&a->filt, now_mono_ns);
    s->jitter_s = a->filt.jitter_s;
    s->root_dist_s = assoc_root_dist(a, now_mono_ns);
}

/* The filter's stages, newest first; empty ones as NTPsec's clock_filter starts them. */
static void snap_filter(const struct filter *f, struct snap_assoc *s)
{
    s->nfilt = (uint8_t)(f->n < FILTER_STAGES ? f->n : FILTER_STAGES);
    for (int i = 0; i < FILTER_STAGES; i++) {
        s->filt_delay_s[i] = 0;
        s->filt_offset_s[i] = 0;
        s->filt_disp_s[i] = FILTER_MAXDISP_S;
        if (i >= s->nfilt)
            continue;
        const struct filter_sample *st = &f->st[(f->head - i + FILTER_STAGES) % FILTER_STAGES];
        s->filt_delay_s[i] = st->delay_s;
        s->filt_offset_s[i] = st->offset_s;
        s->filt_disp_s[i] = st->disp_s;
    }
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
    s->events = a->events;
    s->unreach = a->unreach;
    s->rec = a->rec_ts;
    s->xmt = a->sent != 0 ? a->t1_build : ntk_ts_make(0, 0); /* q is cleared by a reply */
    snap_header(a, now_mono_ns, s);
    snap_filter(&a->filt, s);
    s->nts = a->nts.on;
    s->ntscookies = a->nts.on ? (int)a->nts.n_cookies : -1;
    s->nts_keyed = a->nts.keyed;
    s->nts_aead = a->nts.aead;
    s->nts_ke_addr = a->nts.ke_addr;
    s->nts_ke_failures = a->nts.ke_failures;
    s->nts_ke_mono_ns = a->nts.ke_last_mono_ns;
    s->nts_last = (int)a->nts.last;
    if (a->refclock)
        eng_refclock_snap(e, a, s);
}

/* A pool line as NTPsec shows its prototype: an association that was never answered, with
 * the pool's name, refid POOL and the lookup interval as its poll. */
static void snap_pool(const struct eng *e, const struct eng_pool *p, int64_t now_mono_ns,
                      struct snap_assoc *s)
{
    struct assoc fresh;
    assoc_init(&fresh, p->id, &p->tmpl, e->cfg.tinker.phi_ppm, now_mono_ns, 0);
    fresh.cfg.from_pool = false;
    fresh.cfg.addr = (struct ntk_addr){.family = NTK_ADDR_NONE};
    snap_one(e, &fresh, now_mono_ns, s);
    s->pool_line = true;
    s->refid = NTK_REFID_CODE('P', 'O', 'O', 'L');
    s->hpoll_log2 = ENG_POOL_POLL_LOG2;
    s->next_poll_mono_ns = p->next_resolve_mono_ns;
    s->events = p->events;
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
    if (ctr != NULL) {
        *ctr = e->ctr;
        ctr->nts_client_send = e->nts_st.send;
        ctr->nts_client_recv_good = e->nts_st.recv_good;
        ctr->nts_client_recv_bad = e->nts_st.recv_bad + e->nts_st.naks;
        ctr->nts_client_naks = e->nts_st.naks;
        ctr->nts_ke_probes_good = e->nts_st.ke_good;
        ctr->nts_ke_probes_bad = e->nts_st.ke_bad;
    }
    /* in id order, as NTPsec lists them: the pool lines among the associations */
    size_t n = 0, i = 0, p = 0;
    while (i < e->nassoc || p < e->npool) {
        bool pool = i == e->nassoc || (p < e->npool && e->pool[p].id < e->assoc[i].id);
        if (n < cap && pool)
            snap_pool(e, &e->pool[p], now_mono_ns, &assocs[n]);
        else if (n < cap)
            snap_one(e, &e->assoc[i], now_mono_ns, &assocs[n]);
        p += pool;
        i += !pool;
        n++;
    }
    return n;
}
