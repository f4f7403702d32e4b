/* SPDX-License-Identifier: BSD-2-Clause */
/* The engine's reference clocks (engine.h "refclocks"): associations fed by drivers through
 * a median filter (refclk.h), polled without a datagram, and NTPsec's PPS peer rule. */
#include <math.h>
#include <string.h>

#include "engine_internal.h"
#include "ntk/ctl.h"
#include "ntk/err.h"
#include "ntk/refid.h"
#include "ntk/sb.h"

#include "poison.h"

#define NS_PER_S 1000000000LL

/* A driver's name and description (NTPsec's NAME and DESCRIPTION). */
struct rc_driver {
    enum eng_rc_type type;
    const char *name;
    const char *device;
};

static const struct rc_driver drivers[] = {
    {ENG_RC_PPS, "PPS", "PPS Clock Discipline"},
    {ENG_RC_SHM, "SHM", "SHM/Shared memory interface"},
    {ENG_RC_SOCK, "SOCK", "SOCK/chrony refclock socket"},
};

static const struct rc_driver *driver_of(enum eng_rc_type t)
{
    for (size_t i = 0; i < sizeof drivers / sizeof drivers[0]; i++)
        if (drivers[i].type == t)
            return &drivers[i];
    return NULL;
}

void eng_refclock_defaults(struct eng_refclock_cfg *c, enum eng_rc_type type, uint8_t unit)
{
    memset(c, 0, sizeof *c);
    c->type = type;
    c->unit = unit;
    c->minpoll_log2 = 4;
    c->maxpoll_log2 = 4;
    c->precision_log2 = -20;
    const struct rc_driver *d = driver_of(type);
    struct ntk_sb sb;
    ntk_sb_init(&sb, c->device, sizeof c->device);
    ntk_sb_puts(&sb, d != NULL ? d->device : "");
}

struct eng_rc *eng_rc_by_id(struct eng *e, uint32_t id)
{
    for (size_t i = 0; i < e->nrc; i++)
        if (e->rc[i].id == id)
            return &e->rc[i];
    return NULL;
}

const struct eng_rc *eng_rc_by_id_const(const struct eng *e, uint32_t id)
{
    for (size_t i = 0; i < e->nrc; i++)
        if (e->rc[i].id == id)
            return &e->rc[i];
    return NULL;
}

bool eng_is_pps(const struct assoc *a)
{
    return a->refclock && a->cfg.addr.ip[2] == ENG_RC_PPS;
}

/* ---- adding ---- */

static bool cfg_ok(const struct eng *e, const struct eng_refclock_cfg *c)
{
    if (driver_of(c->type) == NULL || c->stratum > 15)
        return false;
    if (c->minpoll_log2 < ENG_RC_POLL_MIN || c->maxpoll_log2 > ENG_POLL_MAX ||
        c->minpoll_log2 > c->maxpoll_log2)
        return false;
    if (memchr(c->refid, '\0', sizeof c->refid) == NULL ||
        memchr(c->device, '\0', sizeof c->device) == NULL)
        return false;
    if (!isfinite(c->time1_s) || !isfinite(c->time2_s) || fabs(c->time1_s) > 1e6 ||
        fabs(c->time2_s) > 1e6 || c->precision_log2 > 0 || c->precision_log2 < -30)
        return false;
    for (size_t i = 0; i < e->nrc; i++)
        if (e->rc[i].cfg.type == c->type && e->rc[i].cfg.unit == c->unit)
            return false;
    return true;
}

/* The association's side: 127.127.type.unit, "NAME(unit)", the polls and flags. */
static void server_cfg_of(const struct eng_refclock_cfg *c, const struct rc_driver *d,
                          struct eng_server_cfg *sc)
{
    eng_server_defaults(sc);
    uint8_t ip[4] = {127, 127, (uint8_t)c->type, c->unit};
    ntk_addr_set_v4(&sc->addr, ip, 123);
    struct ntk_sb sb;
    ntk_sb_init(&sb, sc->name, sizeof sc->name);
    ntk_sb_printf(&sb, "%s(%u)", d->name, (unsigned)c->unit);
    sc->minpoll_log2 = c->minpoll_log2;
    sc->maxpoll_log2 = c->maxpoll_log2;
    sc->prefer = c->prefer;
    sc->noselect = c->noselect;
    sc->true_ = c->true_;
}

int eng_add_refclock(struct eng *e, const struct eng_refclock_cfg *c,
                     const struct eng_now *now)
{
    const struct rc_driver *d = driver_of(c->type);
    if (d == NULL || !cfg_ok(e, c))
        return NTK_EINVAL;
    if (e->nassoc == ENG_ASSOC_MAX || e->nrc == ENG_RC_MAX)
        return NTK_ENOSPC;
    struct eng_server_cfg sc;
    server_cfg_of(c, d, &sc);
    struct eng_rc *rc = &e->rc[e->nrc++];
    memset(rc, 0, sizeof *rc);
    rc->cfg = *c;
    if (rc->cfg.refid[0] == '\0')
        memcpy(rc->cfg.refid, d->name, strlen(d->name) + 1);
    if (rc->cfg.precision_log2 == 0)
        rc->cfg.precision_log2 = -20;
    rc->precision_log2 = rc->cfg.precision_log2;
    rc->leap = NTK_LEAP_NONE;
    rc->tally = SNAP_TALLY_REJECT;
    rc->status = NTK_CTL_CLK_OKAY;
    struct assoc *a = &e->assoc[e->nassoc++];
    uint32_t id = e->next_id++;
    assoc_init(a, id, &sc, e->cfg.tinker.phi_ppm, now->mono_ns, eng_rand32(e));
    a->refclock = true;
    a->last.stratum = c->stratum;
    a->last.precision_log2 = rc->cfg.precision_log2;
    a->last.poll_log2 = a->hpoll_log2;
    (void)ntk_refid_from_code(rc->cfg.refid, &a->last.refid);
    filter_set_every_sample(&a->filt, true);
    /* Its poll stays at minpoll (assoc_init) until it is the system peer, as NTPsec's. */
    rc->id = id;
    eng_event(e, ENG_EV_MOBILIZE, id, 0, NULL);
    return (int)id;
}

/* ---- samples and faults ---- */

/* Records a change of the clock status (NTPsec refclock_report: the event is reported only
 * when the status changes). */
static void clock_event(struct eng_rc *rc, struct assoc *a, uint8_t code)
{
    rc->lastevent = code;
    if (rc->status == code)
        return;
    rc->status = code;
    snap_events_note(&a->events, SNAP_PEVNT_CLOCK);
}

static double ts_to_s(const struct timespec *t)
{
    return (double)t->tv_sec + (double)t->tv_nsec * 1e-9;
}

/* A PPS edge can be numbered while the system is synchronised to another source whose
 * offset is within ENG_PPS_LOCK_S: the prefer peer when one survived the last selection,
 * else the system peer. */
static bool pps_numbered(struct eng *e)
{
    const struct assoc *src = NULL;
    for (size_t i = 0; i < e->nsel && src == NULL; i++) {
        const struct assoc *a = eng_assoc_by_id(e, e->sel_ids[i]);
        if (a != NULL && a->cfg.prefer && !eng_is_pps(a) && e->sel.fate[i] >= SEL_SURVIVOR)
            src = a;
    }
    if (src == NULL && e->sys.sys_peer != 0) {
        const struct assoc *p = eng_assoc_by_id(e, e->sys.sys_peer);
        if (p != NULL && !eng_is_pps(p))
            src = p;
    }
    if (src == NULL || e->sys.sys_peer == 0 || !src->filt.valid)
        return false;
    double off = src->filt.offset_s - disc_since_s(&e->disc, src->filt.t_mono_ns);
    return fabs(off) < ENG_PPS_LOCK_S;
}

/* The sample's offset (reference minus local, time1 added); PPS: to the nearest second. */
static double sample_offset(const struct eng_rc *rc, const struct eng_rc_sample *s)
{
    if (rc->cfg.type == ENG_RC_PPS) {
        double frac = (double)s->local.tv_nsec * 1e-9;
        double off = -frac;
        if (off < -0.5)
            off += 1.0;
        return off + rc->cfg.time1_s;
    }
    /* In doubles: a hostile segment's seconds must not overflow a time_t difference. */
    double d = ((double)s->ref.tv_sec - (double)s->local.tv_sec) +
               ((double)s->ref.tv_nsec - (double)s->local.tv_nsec) * 1e-9;
    return d + rc->cfg.time1_s;
}

/* Beyond the panic threshold (unless -g and the clock was never set). */
static bool beyond_panic(const struct eng *e, double off)
{
    double p = e->cfg.tinker.panic_s;
    if (p <= 0 || fabs(off) <= p)
        return false;
    return !(e->cfg.panic_once && e->sys.updates == 0);
}

/* A timespec a driver may hand over: nanoseconds within the second. */
static bool valid_ts(const struct timespec *t)
{
    return t->tv_nsec >= 0 && t->tv_nsec < NS_PER_S;
}

/* Copies a driver's timecode (NUL-terminated within its 64 bytes or not), with anything
 * but printable ASCII and the double quote replaced by '.' (it is shown quoted in cv). */
static void copy_timecode(char dst[64], const char src[64])
{
    size_t i = 0;
    for (; i < 63 && src[i] != '\0'; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = c < 0x20 || c > 0x7e || c == '"' ? '.' : (char)c;
    }
    dst[i] = '\0';
}

int eng_on_refclock_sample(struct eng *e, uint32_t id, const struct eng_rc_sample *s,
                           const struct eng_now *now)
{
    struct eng_rc *rc = eng_rc_by_id(e, id);
    struct assoc *a = eng_assoc_by_id(e, id);
    if (rc == NULL || a == NULL)
        return NTK_ENOTFOUND;
    if (rc->cfg.type == ENG_RC_PPS && !pps_numbered(e)) {
        rc->refused_pps++;
        return NTK_ERANGE;
    }
    double off = sample_offset(rc, s);
    if (!valid_ts(&s->local) || (rc->cfg.type != ENG_RC_PPS && !valid_ts(&s->ref)) ||
        !isfinite(off) || beyond_panic(e, off)) {
        rc->refused_range++;
        return NTK_ERANGE;
    }
    /* When the event happened on the monotonic axis (never after now). */
    double age = ts_to_s(&now->real) - ts_to_s(&s->local);
    int64_t t = now->mono_ns;
    if (age > 0 && age < 3600.0)
        t -= (int64_t)(age * (double)NS_PER_S);
    rc_filter_add(&rc->filt, off, t);
    rc->samples++;
    rc->leap = (enum ntk_leap)((unsigned)s->leap & 3u);
    bool own = s->precision_log2 < 0 && s->precision_log2 >= -30; /* else the line's */
    rc->precision_log2 = own ? s->precision_log2 : rc->cfg.precision_log2;
    struct timespec ref = rc->cfg.type == ENG_RC_PPS ? s->local : s->ref;
    rc->reftime = ntk_ts_from_timespec(&ref);
    copy_timecode(rc->timecode, s->timecode);
    return 0;
}

void eng_on_refclock_fault(struct eng *e, uint32_t id, enum eng_rc_fault f)
{
    struct eng_rc *rc = eng_rc_by_id(e, id);
    struct assoc *a = eng_assoc_by_id(e, id);
    if (rc == NULL || a == NULL)
        return;
    switch (f) {
    case ENG_RC_NOREPLY:
        if (!rc->noreply_counted)
            rc->noreply++;
        rc->noreply_counted = true;
        clock_event(rc, a, NTK_CTL_CLK_NOREPLY);
        break;
    case ENG_RC_BADFORMAT:
        rc->badformat++;
        clock_event(rc, a, NTK_CTL_CLK_BADFORMAT);
        break;
    case ENG_RC_BADDATA:
        rc->baddata++;
        clock_event(rc, a, NTK_CTL_CLK_BADTIME);
        break;
    }
}

/* ---- polls ---- */

static double since(const void *ctx, int64_t t_mono_ns)
{
    return disc_since_s(ctx, t_mono_ns);
}

/* The poll found samples: their trimmed mean into the clock filter (delay 0, dispersion
 * the sample's precision plus the median filter's jitter, as NTPsec's refclock_receive).
 * Returns whether the filter offers it to the selection. */
static bool take_sample(struct eng *e, const struct eng_now *now, struct assoc *a,
                        struct eng_rc *rc, const struct rc_poll *r)
{
    a->reach |= 1;
    a->unreach = 0;
    a->ever_reached = true;
    a->last_rx_mono_ns = now->mono_ns;
    a->rec_ts = ntk_ts_from_timespec(&now->real);
    a->last.leap = rc->leap;
    a->last.stratum = rc->cfg.stratum;
    a->last.precision_log2 = rc->precision_log2;
    a->last.reftime = rc->reftime;
    a->received++;
    double prec = ldexp(1.0, rc->precision_log2);
    double floor_s = ldexp(1.0, e->cfg.precision_log2 == 0 ? -20 : e->cfg.precision_log2);
    struct filter_sample fs = {
        .offset_s = r->offset_s,
        .delay_s = 0,
        .disp_s = prec + r->jitter_s,
        .t_mono_ns = now->mono_ns,
    };
    bool fresh = filter_add(&a->filt, &fs, prec > floor_s ? prec : floor_s);
    clock_event(rc, a, NTK_CTL_CLK_OKAY);
    return fresh && rc->leap != NTK_LEAP_UNSYNC;
}

void eng_refclock_poll(struct eng *e, const struct eng_now *now, struct assoc *a)
{
    struct eng_rc *rc = eng_rc_by_id(e, a->id);
    if (rc == NULL) {
        a->next_poll_mono_ns = INT64_MAX;
        return;
    }
    uint8_t reach_before = a->reach;
    rc->polls++;
    a->reach = (uint8_t)(a->reach << 1);
    a->unreach++;
    a->last.poll_log2 = a->hpoll_log2;
    a->next_poll_mono_ns = now->mono_ns + ((int64_t)NS_PER_S << a->hpoll_log2);
    rc_filter_adjust(&rc->filt, since, &e->disc); /* into the clock's current frame */
    struct rc_poll r;
    bool fresh = false, got = rc_filter_take(&rc->filt, &r);
    if (got) {
        fresh = take_sample(e, now, a, rc, &r);
    } else {
        if (!rc->noreply_counted)
            rc->noreply++;
        clock_event(rc, a, NTK_CTL_CLK_NOREPLY);
        filter_add_miss(&a->filt, now->mono_ns);
    }
    rc->noreply_counted = false;
    if (reach_before == 0 && a->reach != 0)
        eng_event(e, ENG_EV_REACH, a->id, 0, NULL);
    if (reach_before != 0 && a->reach == 0)
        eng_event(e, ENG_EV_UNREACH, a->id, 0, NULL);
    if (got)
        eng_event(e, ENG_EV_PEER_UPDATE, a->id, r.offset_s, NULL);
    if (fresh)
        eng_clock_select(e, now, a->id);
    else if (e->sys.sys_peer == a->id && !eng_selectable(e, a, now->mono_ns))
        eng_clock_select(e, now, 0);
}

void eng_refclock_on_step(struct eng *e, double step_s)
{
    for (size_t i = 0; i < e->nrc; i++)
        rc_filter_shift(&e->rc[i].filt, step_s);
}

/* ---- the PPS peer rule ---- */

/* The prefer peer among the last selection's survivors (index into sel_ids), -1 if none. */
static int prefer_survivor(struct eng *e)
{
    for (size_t i = 0; i < e->nsel; i++) {
        const struct assoc *a = eng_assoc_by_id(e, e->sel_ids[i]);
        if (a != NULL && a->cfg.prefer && e->sel.fate[i] >= SEL_SURVIVOR)
            return (int)i;
    }
    return -1;
}

/* The offset of a's filter output in the clock's current frame. */
static double offset_now(const struct eng *e, const struct assoc *a)
{
    return a->filt.offset_s - disc_since_s(&e->disc, a->filt.t_mono_ns);
}

/* Whether PPS refclock p agrees with the prefer peer q: their correctness intervals
 * (offset ± root distance, at least tos mindist) overlap. */
static bool agrees(const struct eng *e, const struct assoc *p, const struct assoc *q,
                   int64_t now_mono_ns)
{
    double dp = fmax(assoc_root_dist(p, now_mono_ns), e->cfg.tos.mindist_s);
    double dq = fmax(assoc_root_dist(q, now_mono_ns), e->cfg.tos.mindist_s);
    return fabs(offset_now(e, p) - offset_now(e, q)) <= dp + dq;
}

uint32_t eng_pps_rule(struct eng *e, const struct eng_now *now, uint32_t peer_id)
{
    int64_t t = now->mono_ns;
    int pref = e->sel.ok ? prefer_survivor(e) : -1;
    const struct assoc *q = pref >= 0 ? eng_assoc_by_id(e, e->sel_ids[pref]) : NULL;
    bool locked = e->sel.ok && fabs(e->sel.offset_s) < ENG_PPS_LOCK_S;
    uint32_t chosen = 0;
    for (size_t i = 0; i < e->nrc; i++) {
        struct eng_rc *rc = &e->rc[i];
        const struct assoc *p = eng_assoc_by_id(e, rc->id);
        if (rc->cfg.type != ENG_RC_PPS || p == NULL)
            continue;
        rc->tally = SNAP_TALLY_REJECT;
        if (!eng_selectable(e, p, t))
            continue;
        if (q != NULL && !agrees(e, p, q, t)) {
            rc->tally = SNAP_TALLY_FALSETICK;
            continue;
        }
        rc->tally = SNAP_TALLY_CANDIDATE;
        if (chosen == 0 && q != NULL && locked) {
            chosen = rc->id;
            e->sel.offset_s = offset_now(e, p);
            e->sel.jitter_s = p->filt.jitter_s;
        }
    }
    e->pps_peer = chosen != 0;
    return chosen != 0 ? chosen : peer_id;
}

/* ---- the report ---- */

void eng_refclock_snap(const struct eng *e, const struct assoc *a, struct snap_assoc *s)
{
    const struct eng_rc *rc = eng_rc_by_id_const(e, a->id);
    if (rc == NULL)
        return;
    const struct rc_driver *d = driver_of(rc->cfg.type);
    if (d == NULL)
        return;
    s->refclock = true;
    s->rc_type = (uint8_t)rc->cfg.type;
    s->rc_unit = rc->cfg.unit;
    memcpy(s->rc_name, d->name, strlen(d->name) + 1);
    memcpy(s->rc_device, rc->cfg.device, sizeof s->rc_device);
    memcpy(s->rc_timecode, rc->timecode, sizeof s->rc_timecode);
    s->rc_polls = rc->polls;
    s->rc_noreply = rc->noreply;
    s->rc_badformat = rc->badformat;
    s->rc_baddata = rc->baddata;
    s->rc_samples = rc->samples;
    s->rc_refused = rc->refused_range;
    s->rc_refused_pps = rc->refused_pps;
    s->rc_overwritten = rc->filt.overwritten;
    s->rc_time1_s = rc->cfg.time1_s;
    s->rc_time2_s = rc->cfg.time2_s;
    s->rc_stratum = rc->cfg.stratum;
    s->rc_refid = a->last.refid;
    s->rc_flags = rc->cfg.flags;
    s->rc_status = rc->status;
    s->rc_lastevent = rc->lastevent;
    s->stratum = a->last.stratum; /* configured, shown before the first sample too */
    s->refid = a->last.refid;
    s->ppoll_log2 = a->cfg.maxpoll_log2; /* NTPsec's refclock_newpeer */
    if (eng_is_pps(a))
        s->tally = a->id == e->sys.sys_peer && e->pps_peer ? SNAP_TALLY_PPSPEER : rc->tally;
}
