/* SPDX-License-Identifier: BSD-2-Clause */
/* The engine's associations: adding servers and pools, dispatching datagrams to them, and
 * the timers that make them poll. */
#include <stdint.h>
#include <string.h>

#include "engine_internal.h"
#include "ntk/err.h"
#include "ntk/nts_ef.h"
#include "ntk/sb.h"

#include "poison.h"

#define NS_PER_S 1000000000LL

/* The 32-bit big-endian word at p. */
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

struct assoc *eng_assoc_by_id(struct eng *e, uint32_t id)
{
    for (size_t i = 0; i < e->nassoc; i++)
        if (e->assoc[i].id == id)
            return &e->assoc[i];
    return NULL;
}

/* The poll range, and the NTP version of the requests (0: 4). */
static bool poll_range_ok(const struct eng_server_cfg *c)
{
    return c->minpoll_log2 >= ENG_POLL_MIN && c->maxpoll_log2 <= ENG_POLL_MAX &&
           c->minpoll_log2 <= c->maxpoll_log2 && c->version <= 4;
}

static bool same_server(const struct ntk_addr *a, const struct ntk_addr *b)
{
    return ntk_addr_eq(a, b) && a->port == b->port;
}

int eng_add_server(struct eng *e, const struct eng_server_cfg *c, const struct eng_now *now)
{
    if (!poll_range_ok(c))
        return NTK_EINVAL;
    if (c->key_id != 0 && (e->keys == NULL || ntk_mac_keys_lookup(e->keys, c->key_id, NULL)))
        return NTK_EINVAL;
    if (c->nts && c->key_id != 0)
        return NTK_EINVAL; /* one authentication per association */
    if (e->nassoc == ENG_ASSOC_MAX)
        return NTK_ENOSPC;
    struct eng_server_cfg cfg = *c;
    if (cfg.addr.port == 0)
        cfg.addr.port = 123;
    for (size_t i = 0; i < e->nassoc; i++)
        if (same_server(&e->assoc[i].cfg.addr, &cfg.addr))
            return NTK_EINVAL;
    if (c->nts && e->nts_c2s == NULL)
        eng_nts_init(e); /* on failure NTS requests report ENG_EV_CLOCK_ERROR */
    struct assoc *a = &e->assoc[e->nassoc++];
    uint32_t id = e->next_id++;
    assoc_init(a, id, &cfg, e->cfg.tinker.phi_ppm, now->mono_ns, eng_rand32(e));
    /* Every reply reaches the discipline, which weighs it by its delay (filter.h). */
    filter_set_every_sample(&a->filt, true);
    assoc_set_poll(a, disc_poll_log2(&e->disc));
    eng_event(e, ENG_EV_MOBILIZE, id, 0, NULL); /* NTPsec newpeer: "mobilize" */
    return (int)id;
}

static void request_resolve(struct eng *e, struct eng_pool *p)
{
    struct eng_action *a = eng_push(e, ENG_ACT_RESOLVE, 0);
    if (a == NULL)
        return; /* retried at the next timer: next_resolve_mono_ns stays due */
    struct ntk_sb sb;
    ntk_sb_init(&sb, a->text, sizeof a->text);
    ntk_sb_puts(&sb, p->tmpl.name);
    p->resolving = true;
    p->next_resolve_mono_ns = INT64_MAX;
}

int eng_add_pool(struct eng *e, const struct eng_server_cfg *c, const struct eng_now *now)
{
    (void)now;
    if (!poll_range_ok(c) || c->name[0] == '\0')
        return NTK_EINVAL;
    if (e->npool == ENG_POOL_MAX)
        return NTK_ENOSPC;
    struct eng_pool *p = &e->pool[e->npool++];
    memset(p, 0, sizeof *p);
    p->tmpl = *c;
    p->tmpl.from_pool = true;
    p->backoff_s = ENG_RESOLVE_MIN_S;
    p->id = e->next_id++; /* the line is an association too, listed first (NTPsec's) */
    snap_events_note(&p->events, SNAP_PEVNT_MOBIL);
    eng_event(e, ENG_EV_MOBILIZE, p->id, 0, NULL);
    request_resolve(e, p);
    return 0;
}

/* The associations NTPsec counts against tos maxclock: ours, and each pool line's own. */
static size_t associations(const struct eng *e)
{
    return e->nassoc + e->npool;
}

static size_t maxclock(const struct eng *e)
{
    return e->cfg.tos.maxclock < 1 ? 1 : (size_t)e->cfg.tos.maxclock;
}

/* Whether the pools should look for more servers (NTPsec's condition for a pool's poll). */
static bool pool_wants_more(const struct eng *e)
{
    size_t n = associations(e);
    return n <= 2 * maxclock(e) && (n < maxclock(e) || e->sel.survivors < e->cfg.tos.minclock);
}

static void pool_grow(struct eng *e, struct eng_pool *p, const struct ntk_addr *addrs,
                      size_t n, const struct eng_now *now)
{
    for (size_t i = 0; i < n && associations(e) < 2 * maxclock(e); i++) {
        struct eng_server_cfg c = p->tmpl;
        c.addr = addrs[i];
        (void)eng_add_server(e, &c, now); /* duplicates and a full table are skipped */
    }
}

void eng_on_resolved(struct eng *e, const char *name, const struct ntk_addr *addrs, size_t n,
                     const struct eng_now *now)
{
    for (size_t i = 0; i < e->npool; i++) {
        struct eng_pool *p = &e->pool[i];
        if (!p->resolving || strcmp(p->tmpl.name, name) != 0)
            continue;
        p->resolving = false;
        if (n == 0) {
            p->next_resolve_mono_ns = now->mono_ns + (int64_t)p->backoff_s * NS_PER_S;
            p->backoff_s =
                p->backoff_s * 2 > ENG_RESOLVE_MAX_S ? ENG_RESOLVE_MAX_S : p->backoff_s * 2;
            continue;
        }
        p->backoff_s = ENG_RESOLVE_MIN_S;
        p->next_resolve_mono_ns = now->mono_ns + (int64_t)ENG_POOL_POLL_S * NS_PER_S;
        pool_grow(e, p, addrs, n, now);
    }
}

static struct assoc *assoc_by_addr(struct eng *e, const struct ntk_addr *remote)
{
    struct ntk_addr r = *remote;
    ntk_addr_unmap(&r);
    for (size_t i = 0; i < e->nassoc; i++)
        if (!e->assoc[i].refclock && same_server(&e->assoc[i].cfg.addr, &r))
            return &e->assoc[i];
    return NULL;
}

static void count_kod(struct eng *e, const struct assoc *a, const struct ntk_sntp_sample *s)
{
    if (s->kiss == NTK_KISS_RATE)
        e->ctr.kod_rate++;
    else if (s->kiss == NTK_KISS_DENY || s->kiss == NTK_KISS_RSTR)
        e->ctr.kod_deny++;
    else
        e->ctr.kod_other++;
    eng_event(e, ENG_EV_KOD, a->id, 0, s->kiss_code);
}

/* ENG_EV_RAW: a datagram from a's server, as rawstats shows it: r is what assoc_receive
 * made of it, t4 when it came. */
static void emit_raw(struct eng *e, const struct assoc *a, const struct ntk_sntp_sample *s,
                     enum assoc_rx r, const struct ntk_addr *remote, ntk_ts t4)
{
    bool ignored = r == ASSOC_RX_IGNORED;
    if (!ignored && a->rx_t1_kernel)
        e->ctr.t1_kernel++;
    else if (!ignored)
        e->ctr.t1_user++;
    struct eng_action *act = eng_push(e, ENG_ACT_EVENT, a->id);
    if (act == NULL)
        return;
    const struct ntk_pkt *p = &s->pkt;
    act->event = ENG_EV_RAW;
    act->remote = *remote;
    uint32_t flash = r == ASSOC_RX_SAMPLE ? 0 : a->flash;
    uint32_t lost = a->lost; /* the request it answered ended the count */
    if (ignored) {
        flash = a->ignored_flash;
        lost = a->unanswered > 0 ? a->unanswered - 1 : 0; /* the one open is not lost yet */
    }
    act->raw = (struct eng_raw){
        /* An ignored datagram did not answer our request: its own origin field stands */
        .t1 = ignored ? p->org : s->t1,
        .t2 = ignored ? p->rec : s->t2,
        .t3 = ignored ? p->xmt : s->t3,
        .t4 = ignored ? t4 : s->t4,
        .lost = lost,
        .dropped = a->ignored_since_req,
        .flash = flash,
        .leap = (uint8_t)p->leap,
        .version = p->version,
        .mode = (uint8_t)p->mode,
        .stratum = p->stratum,
        .poll_log2 = p->poll_log2,
        .precision_log2 = p->precision_log2,
        .root_delay_s = ntk_short_to_s(p->root_delay),
        .root_disp_s = ntk_short_to_s(p->root_disp),
        .refid = p->refid,
    };
}

void eng_on_packet(struct eng *e, const struct eng_now *now, const uint8_t *buf, size_t len,
                   const struct ntk_addr *remote, const struct timespec *rx,
                   enum eng_rx_src src)
{
    e->ctr.received++;
    if (len > 0)
        e->ctr.by_version[(buf[0] >> 3) & 7]++;
    if (src == ENG_RX_KERNEL)
        e->ctr.rx_kernel_ts++;
    struct assoc *a = assoc_by_addr(e, remote);
    if (a == NULL) {
        e->ctr.unknown_source++;
        return;
    }
    struct ntk_sntp_sample s;
    bool fresh = false;
    uint8_t reach_before = a->reach;
    struct assoc_sys sys = eng_assoc_sys(e);
    struct ntsc_stats nts_before = a->nts.st;
    uint32_t ignored_before = a->ignored_since_req;
    ntk_ts t4 = ntk_ts_from_timespec(rx);
    enum assoc_rx r = assoc_receive(a, now, buf, len, t4, e->keys, &sys, &s, &fresh);
    eng_nts_account(e, &nts_before, &a->nts.st);
    if (a->nts.st.recv_bad != nts_before.recv_bad || a->nts.st.naks != nts_before.naks)
        eng_event(e, ENG_EV_NTS_REFUSED, a->id, 0, ntk_nts_verdict_name(a->nts.last));
    e->ctr.by_rx[r < ENG_RX_KINDS ? r : ENG_RX_KINDS - 1]++;
    if (r != ASSOC_RX_IGNORED) {
        a->rec_ts = s.t4;                  /* mode 6 `rec` */
        emit_raw(e, a, &s, r, remote, t4); /* the origin matched (NTPsec record_raw_stats) */
    } else if (ignored_before == 0 && a->ignored_since_req == 1) {
        emit_raw(e, a, &s, r, remote, t4); /* one per request: a flood adds no lines */
    }
    if (r == ASSOC_RX_KOD)
        count_kod(e, a, &s);
    if (reach_before == 0 && a->reach != 0)
        eng_event(e, ENG_EV_REACH, a->id, 0, NULL);
    if (r == ASSOC_RX_SAMPLE)
        eng_event(e, ENG_EV_PEER_UPDATE, a->id, s.offset_s, NULL);
    if (r == ASSOC_RX_SAMPLE && fresh)
        eng_clock_select(e, now, a->id);
}

void eng_on_sent(struct eng *e, uint32_t assoc_id, const uint8_t nonce[8],
                 const struct timespec *tx)
{
    struct assoc *a = eng_assoc_by_id(e, assoc_id);
    ntk_ts xmt = {((uint64_t)be32(nonce) << 32) | be32(nonce + 4)};
    if (a != NULL && assoc_on_sent(a, xmt, ntk_ts_from_timespec(tx)))
        e->ctr.tx_kernel_ts++;
    else
        e->ctr.tx_ts_ignored++;
}

/* How useful a pool member is, for choosing which one to drop: answering, fit, a truechimer,
 * a survivor (NTPsec's score of a preemptable association, in our terms). */
static int pool_score(const struct eng *e, const struct assoc *a, int64_t now_mono_ns)
{
    int fate = -1;
    for (size_t i = 0; i < e->nsel; i++)
        if (e->sel_ids[i] == a->id)
            fate = (int)e->sel.fate[i];
    return (a->reach != 0) + eng_selectable(e, a, now_mono_ns) + (fate > SEL_FALSETICKER) +
           (fate >= SEL_SURVIVOR);
}

static void drop_assoc(struct eng *e, size_t i, const char *why)
{
    struct eng_action *act = eng_push(e, ENG_ACT_EVENT, e->assoc[i].id);
    if (act != NULL) {
        act->event = ENG_EV_DEMOBILIZE;
        act->remote = e->assoc[i].cfg.addr; /* the association is gone when it is read */
        act->value = e->assoc[i].ever_reached;
        struct ntk_sb sb;
        ntk_sb_init(&sb, act->text, sizeof act->text);
        ntk_sb_puts(&sb, why);
    }
    /* keep creation order: mode 6 and ntpq list associations by id */
    memmove(&e->assoc[i], &e->assoc[i + 1], (e->nassoc - i - 1) * sizeof e->assoc[0]);
    e->nassoc--;
}

/* Drops the pool members refused by a kiss, then, while there are more associations than
 * maxclock, the least useful of those the selection has not kept for a while. */
static void pool_prune(struct eng *e, const struct eng_now *now)
{
    for (size_t i = e->nassoc; i-- > 0;)
        if (e->assoc[i].cfg.from_pool && e->assoc[i].state == ASSOC_DENIED)
            drop_assoc(e, i, "kiss");
    while (associations(e) > maxclock(e)) {
        int low = INT32_MAX;
        size_t worst = SIZE_MAX;
        for (size_t i = 0; i < e->nassoc; i++) {
            const struct assoc *a = &e->assoc[i];
            if (!a->cfg.from_pool)
                continue;
            int score = pool_score(e, a, now->mono_ns);
            if (score < low)
                low = score, worst = SIZE_MAX;
            if (score == low && worst == SIZE_MAX && a->unselected >= ENG_POOL_DROP_POLLS)
                worst = i;
        }
        if (worst == SIZE_MAX)
            return; /* the least useful ones have not been idle long enough */
        drop_assoc(e, worst, "timeout");
    }
}

static void poll_due(struct eng *e, const struct eng_now *now, struct assoc *a)
{
    uint8_t rnd[12];
    uint8_t reach_before = a->reach;
    if (a->nts.on && !ntsc_ready(&a->nts)) {
        eng_nts_wait(e, now, a); /* NTS-KE first */
        return;
    }
    e->rng.bytes(e->rng.ctx, rnd, sizeof rnd);
    struct eng_action *act = eng_push(e, ENG_ACT_SEND, a->id);
    if (act == NULL)
        return;
    int len = assoc_poll(a, now, rnd, e->keys, act->pkt, sizeof act->pkt);
    if (len < 0) {
        act->kind = ENG_ACT_EVENT;
        act->event = ENG_EV_CLOCK_ERROR;
        return;
    }
    if (a->nts.on &&
        (len = eng_nts_request(e, a, act->pkt, sizeof act->pkt, (size_t)len)) < 0) {
        act->kind = ENG_ACT_EVENT;
        act->event = ENG_EV_CLOCK_ERROR;
        return;
    }
    act->len = (size_t)len;
    act->remote = a->cfg.addr;
    if (reach_before != 0 && a->reach == 0)
        eng_event(e, ENG_EV_UNREACH, a->id, 0, NULL);
}

void eng_on_timer(struct eng *e, const struct eng_now *now)
{
    for (size_t i = 0; i < e->nassoc; i++) {
        if (!assoc_due(&e->assoc[i], now->mono_ns))
            continue;
        if (e->assoc[i].refclock)
            eng_refclock_poll(e, now, &e->assoc[i]); /* no datagram: the median filter */
        else
            poll_due(e, now, &e->assoc[i]);
    }
    if (disc_next_deadline(&e->disc) <= now->mono_ns)
        disc_on_timer(&e->disc, now->mono_ns);
    pool_prune(e, now);
    for (size_t i = 0; i < e->npool; i++) {
        struct eng_pool *p = &e->pool[i];
        if (p->next_resolve_mono_ns > now->mono_ns)
            continue;
        if (pool_wants_more(e))
            request_resolve(e, p);
        else
            p->next_resolve_mono_ns = now->mono_ns + (int64_t)ENG_POOL_POLL_S * NS_PER_S;
    }
    eng_sys_timer(e, now);
}

int64_t eng_next_deadline(const struct eng *e)
{
    int64_t t = disc_next_deadline(&e->disc);
    int64_t sys = eng_sys_deadline(e);
    if (sys < t)
        t = sys;
    for (size_t i = 0; i < e->nassoc; i++)
        if (e->assoc[i].state == ASSOC_ACTIVE && e->assoc[i].next_poll_mono_ns < t)
            t = e->assoc[i].next_poll_mono_ns;
    for (size_t i = 0; i < e->npool; i++)
        if (e->pool[i].next_resolve_mono_ns < t)
            t = e->pool[i].next_resolve_mono_ns;
    return t;
}
