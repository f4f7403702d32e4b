/* SPDX-License-Identifier: BSD-2-Clause */
/* One client-mode association: poll scheduling, request building and the RFC 5905 / RFC 8633
 * checks on every reply (see assoc.h for the rules). */
#include "assoc.h"

#include <math.h>
#include <string.h>

#include "ntk/err.h"
#include "snap.h"

#include "poison.h"

/* RFC 5905 §13: polls without a reply before the interval starts to back off. */
#define UNREACH_POLLS 8

#define NS_PER_S 1000000000LL

static int8_t clamp_poll(int v, int lo, int hi)
{
    if (v > hi) {
        v = hi;
    }
    if (v < lo) {
        v = lo;
    }
    return (int8_t)v;
}

/* 2^poll_log2 seconds lengthened by jit / 2^32 / 32 of itself, in ns. */
static int64_t interval_ns(int8_t poll_log2, uint32_t jit)
{
    int p = clamp_poll(poll_log2, 0, 30);
    int64_t base = NS_PER_S << p;
    double extra = (double)(base >> 5) * ((double)jit * 0x1p-32);
    return base + (int64_t)extra;
}

/* 2^e seconds for a precision, 0 standing for "unknown" (-20, as ntk_sntp_request). */
static double precision_s(int8_t e)
{
    return ldexp(1.0, e == 0 ? -20 : e);
}

void assoc_init(struct assoc *a, uint32_t id, const struct eng_server_cfg *c, double phi_ppm,
                int64_t now_mono_ns, uint32_t rnd)
{
    memset(a, 0, sizeof *a);
    a->id = id;
    a->cfg = *c;
    ntsc_init(&a->nts, c->nts);
    a->nts.ke_addr = c->nts_ask.family != NTK_ADDR_NONE ? c->nts_ask : c->addr;
    if (c->nts_ask.family == NTK_ADDR_NONE || c->nts_ask.port == 0)
        a->nts.ke_addr.port = c->nts_port != 0 ? c->nts_port : NTK_KE_PORT_DEFAULT;
    a->state = ASSOC_ACTIVE;
    a->hpoll_log2 = c->minpoll_log2;
    a->want_poll_log2 = c->minpoll_log2;
    a->poll_floor_log2 = c->minpoll_log2;
    a->last.stratum = 16;
    a->last.leap = NTK_LEAP_UNSYNC;
    a->verdict = NTK_SNTP_OK;
    filter_init(&a->filt, phi_ppm);
    a->next_poll_mono_ns = now_mono_ns;
    if (!c->iburst) {
        /* A random part of minpoll, so that clients started together spread out. */
        double part = (double)rnd * 0x1p-32;
        a->next_poll_mono_ns += (int64_t)(part * (double)interval_ns(c->minpoll_log2, 0));
    }
}

bool assoc_due(const struct assoc *a, int64_t now_mono_ns)
{
    return a->state == ASSOC_ACTIVE && now_mono_ns >= a->next_poll_mono_ns;
}

/* Backing off: 8 polls or more went unanswered (RFC 5905 §13). */
static bool backing_off(const struct assoc *a)
{
    return a->unreach > UNREACH_POLLS;
}

/* The start of a poll: shift reach, count it, back off, and decide whether it is a burst. */
static void start_poll(struct assoc *a)
{
    bool reachable = a->reach != 0;
    a->reach = (uint8_t)(a->reach << 1);
    a->unreach++;
    a->unselected++;
    if (backing_off(a)) {
        a->hpoll_log2 = clamp_poll(a->hpoll_log2 + 1, a->poll_floor_log2, a->cfg.maxpoll_log2);
    }
    /* RFC 5905 / NTPsec: iburst whenever the server is unreachable (start-up, and when it
     * comes back after an outage, so the filter refills in seconds, not polls). */
    bool burst = (a->cfg.iburst && !reachable) || (a->cfg.burst && reachable);
    a->burst_left = burst ? ASSOC_BURST : 1;
}

/* The 32-bit big-endian word at p. */
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int assoc_poll(struct assoc *a, const struct eng_now *now, const uint8_t rnd[12],
               struct ntk_mac_keys *keys, uint8_t *buf, size_t cap)
{
    uint32_t jit = be32(rnd + 8);
    struct ntk_sntp_query q;
    int len = NTK_EINVAL;
    if (a->state == ASSOC_ACTIVE) {
        len = ntk_sntp_request_v(&q, rnd, keys, a->cfg.key_id,
                                 a->cfg.version != 0 ? a->cfg.version : 4, buf, cap);
    }
    if (len < 0) {
        a->next_poll_mono_ns = now->mono_ns + interval_ns(a->hpoll_log2, jit);
        return len;
    }
    if (a->outstanding) {
        filter_add_miss(&a->filt, now->mono_ns); /* the previous request went unanswered */
    }
    if (a->burst_left <= 0) {
        start_poll(a);
    }
    a->burst_left--;
    q.t1 = ntk_ts_from_timespec(&now->real);
    a->q = q;
    a->t1_build = q.t1;
    a->t1_kernel = false;
    a->outstanding = true;
    a->sent_mono_ns = now->mono_ns;
    a->sent++;
    a->unanswered++;
    a->ignored_since_req = 0;
    a->next_poll_mono_ns =
        now->mono_ns + (a->burst_left > 0 ? (int64_t)ASSOC_BURST_GAP_S * NS_PER_S
                                          : interval_ns(a->hpoll_log2, jit));
    return len;
}

/* Forgets the request in flight: any later datagram fails the origin test. */
static void end_request(struct assoc *a)
{
    a->outstanding = false;
    memset(&a->q, 0, sizeof a->q);
    a->t1_kernel = false;
    ntsc_forget(&a->nts);
}

bool assoc_on_sent(struct assoc *a, ntk_ts xmt, ntk_ts t1)
{
    if (!a->outstanding || a->t1_kernel || !ntk_ts_eq(a->q.xmt, xmt)) {
        return false; /* not our request, already answered or timed: nothing to move */
    }
    int64_t after = ntk_ts_diff(t1, a->t1_build).v;
    if (after < 0 || after > (int64_t)ASSOC_REPLY_TIMEOUT_S << 32) {
        return false;
    }
    a->q.t1 = t1;
    a->t1_kernel = true;
    return true;
}

/* T1 later than the receive time of our reply: the clock moved between the two kernel
 * readings (or the stamp was wrong). The build time is then the better T1. Only a datagram
 * that echoes our nonce counts, so a forgery queued before the request left cannot undo the
 * kernel's T1. */
static void check_t1(struct assoc *a, const uint8_t *buf, size_t len, ntk_ts t4)
{
    bool ours = len >= NTK_PKT_HDR_LEN &&
                ((uint64_t)be32(buf + 24) << 32 | be32(buf + 28)) == a->q.xmt.v;
    if (ours && a->t1_kernel && ntk_ts_diff(t4, a->q.t1).v < 0) {
        a->q.t1 = a->t1_build;
        a->t1_kernel = false;
    }
    a->rx_t1_kernel = a->t1_kernel;
}

/* The server answered our request authentically: it is reachable (RFC 5905 §13: reach bit,
 * unreach reset; the engine's poll again after a backoff). */
static void mark_reached(struct assoc *a, const struct eng_now *now,
                         const struct ntk_sntp_sample *s)
{
    if (backing_off(a)) {
        a->hpoll_log2 = clamp_poll(a->want_poll_log2, a->poll_floor_log2, a->cfg.maxpoll_log2);
    }
    a->reach |= 1;
    a->unreach = 0;
    a->ever_reached = true;
    a->last = s->pkt;
    a->authenticated = s->authenticated;
    a->last_rx_mono_ns = now->mono_ns;
}

/* KoD RATE: poll less often, for good (RFC 5905 §7.4, RFC 8633 §5.3). */
static void kiss_rate(struct assoc *a, int64_t now_mono_ns)
{
    int up = a->hpoll_log2 + 1;
    if (up < a->cfg.minpoll_log2 + 2) {
        up = a->cfg.minpoll_log2 + 2;
    }
    a->hpoll_log2 = clamp_poll(up, a->cfg.minpoll_log2, a->cfg.maxpoll_log2);
    if (a->hpoll_log2 > a->poll_floor_log2) {
        a->poll_floor_log2 = a->hpoll_log2;
    }
    a->burst_left = 0;
    a->next_poll_mono_ns = now_mono_ns + interval_ns(a->hpoll_log2, 0);
    a->flash = SNAP_FLASH_RATE;
}

/* A kiss-o'-death that answered our request (ntk_sntp_check put it after the origin test). */
static enum assoc_rx on_kiss(struct assoc *a, const struct eng_now *now,
                             const struct ntk_sntp_sample *s)
{
    memcpy(a->kiss, s->kiss_code, sizeof a->kiss);
    a->dropped++;
    end_request(a);
    bool stop = s->kiss == NTK_KISS_DENY || s->kiss == NTK_KISS_RSTR;
    if (stop && (a->cfg.key_id == 0 || s->authenticated)) {
        a->state = ASSOC_DENIED; /* RFC 5905 §7.4: demobilize; never polled again */
        a->burst_left = 0;
        a->next_poll_mono_ns = INT64_MAX;
        a->flash = SNAP_FLASH_ACCESS;
    } else if (stop || s->kiss == NTK_KISS_RATE) {
        kiss_rate(a, now->mono_ns);
    } else {
        a->flash = SNAP_FLASH_PROTO; /* another kiss: nothing to do but not use it */
    }
    return ASSOC_RX_KOD;
}

/* The flash bit for a refusal by ntk_sntp_check after the origin test. */
static uint32_t refusal_flash(enum ntk_sntp_verdict v)
{
    switch (v) {
    case NTK_SNTP_AUTH_MISSING:
    case NTK_SNTP_AUTH_NAK:
    case NTK_SNTP_AUTH_KEYID:
    case NTK_SNTP_AUTH_FAILED:
        return SNAP_FLASH_AUTH;
    case NTK_SNTP_STRATUM:
        return SNAP_FLASH_STRATUM;
    case NTK_SNTP_UNSYNC:
        return SNAP_FLASH_SYNC;
    default:
        return SNAP_FLASH_PROTO;
    }
}

/* A reply to us that ntk_sntp_check refused. A MAC failure leaves the request open (it
 * proves nothing about the server); anything else is the server's answer. */
static enum assoc_rx on_refused(struct assoc *a, const struct eng_now *now,
                                const struct ntk_sntp_sample *s, enum ntk_sntp_verdict v)
{
    a->flash = refusal_flash(v);
    a->dropped++;
    if (a->flash != SNAP_FLASH_AUTH) {
        mark_reached(a, now, s);
        end_request(a);
    }
    return ASSOC_RX_REFUSED;
}

/* RFC 5905 §8 TEST8: root delay / 2 + root dispersion under MAXDISP, and the server's clock
 * was not set after it sent the reply. */
static bool header_ok(const struct ntk_sntp_sample *s)
{
    if (s->root_delay_s / 2 + s->root_dispersion_s >= FILTER_MAXDISP_S) {
        return false;
    }
    const struct ntk_pkt *p = &s->pkt;
    /* The server's own processing time T3 - T2 must be 0..ASSOC_SERVER_MAX_S (chrony's
     * MAX_SERVER_INTERVAL): a reply sent before it was received, or held for seconds, is
     * forged or broken, and would shift the offset by half of it. */
    int64_t held = ntk_ts_diff(p->xmt, p->rec).v;
    if (held < 0 || held > (int64_t)ASSOC_SERVER_MAX_S << 32) {
        return false;
    }
    return ntk_ts_is_zero(p->reftime) || ntk_ts_diff(p->xmt, p->reftime).v >= 0;
}

/* RFC 5905 §8 TEST11 / NTPsec peer_unfit BOGON12: the server takes its time from us, or from
 * our system peer at a stratum not below ours. Primary servers' refids are codes. */
static bool is_loop(const struct ntk_pkt *p, const struct assoc_sys *sys)
{
    if (p->stratum <= 1) {
        return false;
    }
    if (sys->our_addr_refid != 0 && p->refid == sys->our_addr_refid) {
        return true;
    }
    return sys->our_refid != 0 && p->refid == sys->our_refid && p->stratum >= sys->our_stratum;
}

/* Tests 8, 10, 11 on an accepted reply; ASSOC_RX_SAMPLE if it passes them. */
static enum assoc_rx late_tests(const struct ntk_sntp_sample *s, const struct assoc_sys *sys,
                                uint32_t *flash)
{
    if (!header_ok(s)) {
        *flash = SNAP_FLASH_HEADER;
        return ASSOC_RX_HEADER;
    }
    if (s->sync_distance_s > sys->maxdist_s) {
        *flash = SNAP_FLASH_DIST;
        return ASSOC_RX_DIST;
    }
    if (is_loop(&s->pkt, sys)) {
        *flash = SNAP_FLASH_LOOP;
        return ASSOC_RX_LOOP;
    }
    *flash = 0;
    return ASSOC_RX_SAMPLE;
}

/* A reply ntk_sntp_check accepted: the late tests, then the filter. */
static enum assoc_rx on_reply(struct assoc *a, const struct eng_now *now,
                              const struct ntk_sntp_sample *s, const struct assoc_sys *sys,
                              bool *fresh)
{
    enum assoc_rx rx = late_tests(s, sys, &a->flash);
    mark_reached(a, now, s);
    end_request(a);
    if (rx != ASSOC_RX_SAMPLE) {
        a->dropped++;
        return rx;
    }
    double floor_s = precision_s(sys->precision_log2);
    struct filter_sample fs = {
        .offset_s = s->offset_s + a->cfg.bias_s,
        .delay_s = s->delay_s > floor_s ? s->delay_s : floor_s,
        .disp_s = s->dispersion_s,
        .t_mono_ns = now->mono_ns,
    };
    *fresh = filter_add(&a->filt, &fs, floor_s);
    a->received++;
    return ASSOC_RX_SAMPLE;
}

/* NTS: the reply's UID and Authenticator (ntsc_check); on success it counts as
 * authenticated. */
static bool nts_ok(struct assoc *a, const uint8_t *buf, size_t len, enum ntk_sntp_verdict v,
                   struct ntk_sntp_sample *s, const struct assoc_sys *sys)
{
    bool ntsn = v == NTK_SNTP_KOD && s->kiss == NTK_KISS_NTSN;
    if (sys->nts_s2c == NULL) {
        a->nts.last = NTK_NTS_BAD_AUTH;
        a->nts.st.recv_bad++;
        return false;
    }
    if (ntsc_check(&a->nts, buf, len, ntsn, sys->nts_s2c) != NTK_NTS_OK)
        return false;
    s->authenticated = true;
    return true;
}

/* A reply to us that NTS refused: a NAK ends the request (the association goes back to
 * NTS-KE: ntsc_check dropped the keys); anything else may be forged and leaves it open. */
static enum assoc_rx on_nts_refused(struct assoc *a)
{
    a->dropped++;
    a->flash = SNAP_FLASH_AUTH;
    if (a->nts.last != NTK_NTS_NAK)
        return ASSOC_RX_REFUSED;
    memcpy(a->kiss, "NTSN", sizeof a->kiss);
    end_request(a);
    return ASSOC_RX_KOD;
}

/* Counts a datagram that did not answer our request, when it was a decodable reply
 * (rawstats logs the first of them after each request, as NTPsec 1.2.2 does). */
static void note_ignored(struct assoc *a, enum ntk_sntp_verdict v)
{
    if (v == NTK_SNTP_MALFORMED || v == NTK_SNTP_BAD_VERSION || v == NTK_SNTP_BAD_MODE) {
        return;
    }
    a->ignored_since_req++;
    if (!a->outstanding) {
        a->ignored_flash = SNAP_FLASH_DUP;
    } else if (v == NTK_SNTP_ZERO_ORIGIN) {
        a->ignored_flash = SNAP_FLASH_PROTO;
    } else {
        a->ignored_flash = SNAP_FLASH_BOGUS;
    }
}

/* True when the request in flight is older than ASSOC_REPLY_TIMEOUT_S. */
static bool too_late(const struct assoc *a, int64_t now_mono_ns)
{
    return now_mono_ns - a->sent_mono_ns > (int64_t)ASSOC_REPLY_TIMEOUT_S * NS_PER_S;
}

/* Hands assoc_receive's results to its caller. */
static enum assoc_rx finish_rx(const struct ntk_sntp_sample *s, bool fresh,
                               struct ntk_sntp_sample *sample, bool *new_sample,
                               enum assoc_rx rx)
{
    if (sample != NULL) {
        *sample = *s;
    }
    if (new_sample != NULL) {
        *new_sample = fresh;
    }
    return rx;
}

enum assoc_rx assoc_receive(struct assoc *a, const struct eng_now *now, const uint8_t *buf,
                            size_t len, ntk_ts t4, struct ntk_mac_keys *keys,
                            const struct assoc_sys *sys, struct ntk_sntp_sample *sample,
                            bool *new_sample)
{
    struct ntk_sntp_sample s;
    bool fresh = false;
    enum assoc_rx rx;
    /* With no request outstanding q is all zero, and nothing passes the origin test. */
    a->q.local_precision_log2 = sys->precision_log2 == 0 ? -20 : sys->precision_log2;
    check_t1(a, buf, len, t4);
    enum ntk_sntp_verdict v = ntk_sntp_check(&a->q, keys, buf, len, t4, &s);
    a->verdict = v;
    if ((v != NTK_SNTP_OK && v < NTK_SNTP_KOD) || !a->outstanding ||
        too_late(a, now->mono_ns)) {
        a->bogus++; /* forgeable, or our own reply too late: changes nothing */
        note_ignored(a, v);
        return finish_rx(&s, false, sample, new_sample, ASSOC_RX_IGNORED);
    }
    a->lost = a->unanswered > 0 ? a->unanswered - 1 : 0;
    a->unanswered = 0;
    if (a->nts.on && !nts_ok(a, buf, len, v, &s, sys)) {
        rx = on_nts_refused(a);
    } else if (v == NTK_SNTP_KOD) {
        rx = on_kiss(a, now, &s);
    } else if (v != NTK_SNTP_OK) {
        rx = on_refused(a, now, &s, v);
    } else {
        rx = on_reply(a, now, &s, sys, &fresh);
    }
    return finish_rx(&s, fresh, sample, new_sample, rx);
}

void assoc_set_poll(struct assoc *a, int8_t poll_log2)
{
    a->want_poll_log2 = poll_log2;
    if (!backing_off(a)) {
        a->hpoll_log2 = clamp_poll(poll_log2, a->poll_floor_log2, a->cfg.maxpoll_log2);
    }
}

double assoc_root_dist(const struct assoc *a, int64_t now_mono_ns)
{
    const struct filter *f = &a->filt;
    if (!f->valid) {
        return FILTER_MAXDISP_S;
    }
    double root_delay = ntk_short_to_s(a->last.root_delay);
    double root_disp = ntk_short_to_s(a->last.root_disp);
    return (root_delay + f->delay_s) / 2 + root_disp + filter_disp_now(f, now_mono_ns) +
           f->jitter_s;
}

bool assoc_selectable(const struct assoc *a, int64_t now_mono_ns, double maxdist_s)
{
    if (a->state != ASSOC_ACTIVE || a->reach == 0 || !a->filt.valid || a->cfg.noselect) {
        return false;
    }
    if ((a->last.stratum < 1 && !a->refclock) || a->last.stratum > 15 ||
        a->last.leap == NTK_LEAP_UNSYNC) {
        return false;
    }
    if (a->flash & SNAP_FLASH_LOOP) {
        return false; /* its last reply says it takes its time from us */
    }
    return assoc_root_dist(a, now_mono_ns) <= maxdist_s;
}

void assoc_on_step(struct assoc *a, double step_s)
{
    filter_on_step(&a->filt, step_s);
    end_request(a); /* its T1 is on the old time scale */
}

void assoc_on_slew(struct assoc *a, double corr_s)
{
    filter_on_step(&a->filt, corr_s);
}
