/* SPDX-License-Identifier: BSD-2-Clause */
/* The analyzer core: feeds each frame through the decoder, the pairing table, the flow
 * table and the anomaly checks, and hands the results to the caller's sink. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cap.h"
#include "cap_anom.h"
#include "cap_decode.h"
#include "cap_flow.h"
#include "cap_pair.h"
#include "cap_tls.h"

#include "ntk/ctl.h"
#include "ntk/ntime.h"

#include "poison.h"

struct cap {
    struct cap_cfg cfg;
    struct cap_sink sink;
    struct cap_stats st;
    struct cap_flows flows;
    struct cap_pairs pairs;
    struct cap_anom_out ao;
    struct cap_tls *tls; /* NTS-KE decryption (cfg.keylog set), or NULL */
};

/* Which side of an exchange a packet is. */
enum role {
    ROLE_REQ,   /* mode 3, mode 6/7 request */
    ROLE_RESP,  /* mode 4, mode 6/7 response */
    ROLE_SYM,   /* mode 1/2 */
    ROLE_BCAST, /* mode 5 */
    ROLE_OTHER, /* mode 0, or nothing decodable */
};

/* The packet being handled and what the core worked out about it. */
struct cur {
    const struct cap_pkt *p;
    const struct cap_dec *d;
    enum role role;
    bool c2s;                /* sent by the flow's client */
    struct cap_flow_ent *fl; /* its flow (NULL when out of memory) */
    double t;                /* capture time, Unix seconds */
    bool dup;                /* a server packet repeating the previous one's transmit time */
};

void cap_cfg_default(struct cap_cfg *c)
{
    c->max_flows = 65536;
    c->max_pending = 65536;
    c->pair_timeout_s = 5;
    c->far_s = 10;
    c->amplification = 1;
    c->keylog = NULL;
}

/* An NTS-KE connection decrypted (cap_tls.c): reported as an exchange of its own kind. */
static void ntske_done(void *ctx, const struct cap_ntske *k, const struct cap_pkt *first,
                       const struct cap_pkt *last, size_t c2s, size_t s2c)
{
    struct cap *c = ctx;
    struct cap_exch x;
    memset(&x, 0, sizeof x);
    x.kind = CAP_X_NTSKE;
    x.req = first;
    x.resp = last;
    x.req_bytes = c2s;
    x.resp_bytes = s2c;
    x.rtt_cap_s = (double)(last->ts_sec - first->ts_sec) +
                  ((double)last->ts_nsec - (double)first->ts_nsec) * 1e-9;
    x.offset_pkt_s = x.delay_pkt_s = x.offset_cap_s = x.delay_cap_s = x.server_s = NAN;
    x.ntske = k;
    if (c->sink.exchange) {
        c->sink.exchange(c->sink.ctx, &x);
    }
}

struct cap *cap_new(const struct cap_cfg *cfg, const struct cap_sink *sink)
{
    struct cap *c = calloc(1, sizeof *c);
    if (!c) {
        return NULL;
    }
    c->cfg = *cfg;
    c->sink = *sink;
    c->ao.sink = &c->sink;
    c->ao.st = &c->st;
    if (cfg->keylog != NULL && (c->tls = cap_tls_new(cfg->keylog, ntske_done, c)) == NULL) {
        cap_destroy(c);
        return NULL;
    }
    if (cap_flows_init(&c->flows, cfg->max_flows) < 0 ||
        cap_pairs_init(&c->pairs, cfg->max_pending) < 0) {
        cap_destroy(c);
        return NULL;
    }
    return c;
}

void cap_destroy(struct cap *c)
{
    if (!c) {
        return;
    }
    cap_flows_free(&c->flows);
    cap_pairs_free(&c->pairs);
    cap_tls_free(c->tls);
    free(c);
}

static double secs(int64_t sec, uint32_t nsec)
{
    return (double)sec + (double)nsec * 1e-9;
}

static double pkt_time(const struct cap_pkt *p)
{
    return secs(p->ts_sec, p->ts_nsec);
}

/* The capture time of p as an NTP timestamp. */
static ntk_ts cap_ts(const struct cap_pkt *p)
{
    struct timespec t = {.tv_sec = (time_t)p->ts_sec, .tv_nsec = (long)p->ts_nsec};
    return ntk_ts_from_timespec(&t);
}

static enum role role_of(const struct cap_pkt *p)
{
    switch (p->mode) {
    case NTK_MODE_CLIENT:
        return ROLE_REQ;
    case NTK_MODE_SERVER:
        return ROLE_RESP;
    case NTK_MODE_SYM_ACTIVE:
    case NTK_MODE_SYM_PASSIVE:
        return ROLE_SYM;
    case NTK_MODE_BROADCAST:
        return ROLE_BCAST;
    case NTK_MODE_CONTROL:
        return p->m6_response ? ROLE_RESP : ROLE_REQ;
    case NTK_MODE_PRIVATE:
        return p->m7_response ? ROLE_RESP : ROLE_REQ;
    default:
        return ROLE_OTHER;
    }
}

/* Orders two addresses (family, bytes, port) for a stable client/server choice. */
static int addr_cmp(const struct ntk_addr *a, const struct ntk_addr *b)
{
    if (a->family != b->family) {
        return a->family < b->family ? -1 : 1;
    }
    int r = memcmp(a->ip, b->ip, 16);
    return r ? r : (a->port > b->port) - (a->port < b->port);
}

/* True when the source of p is the client: by role, else by port 123, else by address. */
static bool src_is_client(const struct cap_pkt *p, enum role r)
{
    if (r == ROLE_REQ) {
        return true;
    }
    if (r == ROLE_RESP || r == ROLE_BCAST) {
        return false;
    }
    bool s123 = p->src.port == CAP_PORT_NTP, d123 = p->dst.port == CAP_PORT_NTP;
    if (s123 != d123) {
        return d123;
    }
    return addr_cmp(&p->src, &p->dst) < 0;
}

/* ---- flows ---- */

/* Byte amplification is a finding unless the client could not have been a victim: mode-6
 * answers are larger than questions by design, and go (in ntpkit's and NTPsec's rules) to
 * clients that proved their address with a nonce or query from the host itself. */
static bool amplification_excused(const struct cap_flow_ent *e)
{
    if (e->f.modes & (1u << 7))
        return false; /* mode 7 (monlist and friends): never excused */
    bool only_m6 = (e->f.modes & ~(1u << 6)) == 0;
    struct ntk_addr lo = e->f.client;
    bool loopback = (lo.family == NTK_ADDR_V4 && lo.ip[0] == 127) ||
                    (lo.family == NTK_ADDR_V6 &&
                     memcmp(lo.ip, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0);
    return only_m6 && (e->m6_nonce || loopback);
}

static void report_flow(void *ctx, struct cap_flow_ent *e)
{
    struct cap *c = ctx;
    cap_flow_finalize(e);
    if (e->f.bytes_c2s > 0 && e->f.amplification > c->cfg.amplification &&
        !amplification_excused(e)) {
        cap_anom_emit(&c->ao, NULL, CAP_A_AMPLIFICATION, 0, &e->f.server, &e->f.client,
                      "server sent %llu bytes for %llu received: amplification %.1f (> %.1f)",
                      (unsigned long long)e->f.bytes_s2c, (unsigned long long)e->f.bytes_c2s,
                      e->f.amplification, c->cfg.amplification);
    }
    cap_anom_flush(&c->ao, &e->lim, &e->f.client, &e->f.server);
    if (c->sink.flow) {
        c->sink.flow(c->sink.ctx, &e->f);
    }
}

static void flow_init(struct cap_flow_ent *e, const struct cap_pkt *p)
{
    e->f.first_sec = p->ts_sec;
    e->f.first_nsec = p->ts_nsec;
    e->f.delay_min_s = e->f.delay_med_s = e->f.delay_max_s = e->f.delay_last_s = NAN;
    e->f.offset_min_s = e->f.offset_med_s = e->f.offset_max_s = e->f.offset_last_s = NAN;
    e->f.poll_s = NAN;
    e->f.amplification = NAN;
    e->f.auth = "none";
}

static void flow_lookup(struct cap *c, struct cur *k)
{
    const struct cap_pkt *p = k->p;
    k->c2s = src_is_client(p, k->role);
    const struct ntk_addr *cl = k->c2s ? &p->src : &p->dst;
    const struct ntk_addr *sv = k->c2s ? &p->dst : &p->src;
    bool created;
    uint32_t h = k->d->hashed ? k->d->flow_hash : cap_flows_hash(cl, sv);
    k->fl =
        cap_flows_get(&c->flows, cl, sv, h, &created, report_flow, c, &c->st.flow_evictions);
    if (k->fl && created) {
        c->st.flows++;
        flow_init(k->fl, p);
    }
}

static void track(struct cap *c, struct cap_flow_ent *e, const struct cap_pkt *p, uint64_t *n,
                  uint8_t *last, uint8_t now, enum cap_anom_id flap, const char *what)
{
    if (*last == now) {
        return;
    }
    (*n)++;
    if (*n == CAP_ANOM_FLAP_MIN && flap != CAP_A_COUNT) {
        cap_anom_emit(&c->ao, &e->lim, flap, p->frame, &p->src, &p->dst,
                      "%s changed %llu times in this flow (now %u)", what,
                      (unsigned long long)*n, (unsigned)now);
    }
    *last = now;
}

/* Stratum, refid and leap changes of the server side (kiss-o'-death packets excluded). */
static void track_server(struct cap *c, struct cap_flow_ent *e, const struct cap_pkt *p)
{
    if (!e->have_state) {
        e->have_state = true;
        e->stratum = p->hdr.stratum;
        e->refid = p->hdr.refid;
        e->leap = (uint8_t)p->hdr.leap;
        return;
    }
    uint64_t n = e->f.stratum_changes;
    track(c, e, p, &n, &e->stratum, p->hdr.stratum, CAP_A_STRATUM_FLAP, "stratum");
    e->f.stratum_changes = (unsigned)n;
    n = e->f.leap_changes;
    track(c, e, p, &n, &e->leap, (uint8_t)p->hdr.leap, CAP_A_COUNT, "leap");
    e->f.leap_changes = (unsigned)n;
    if (e->refid != p->hdr.refid) {
        e->refid = p->hdr.refid;
        if (++e->f.refid_changes == CAP_ANOM_FLAP_MIN) {
            cap_anom_emit(&c->ao, &e->lim, CAP_A_REFID_FLAP, p->frame, &p->src, &p->dst,
                          "refid changed %u times in this flow (now %08x)", e->f.refid_changes,
                          (unsigned)p->hdr.refid);
        }
    }
}

static void flow_count(struct cap *c, struct cur *k)
{
    struct cap_flow_ent *e = k->fl;
    const struct cap_pkt *p = k->p;
    if (k->c2s) {
        e->f.pkts_c2s++;
        e->f.bytes_c2s += p->payload_len;
    } else {
        e->f.pkts_s2c++;
        e->f.bytes_s2c += p->payload_len;
    }
    e->f.last_sec = p->ts_sec;
    e->f.last_nsec = p->ts_nsec;
    e->f.modes |= 1u << (p->mode & 7);
    e->f.versions |= 1u << (p->version & 7);
    e->f.kods += p->kiss[0] != '\0';
    if (k->c2s && p->mode == 6 && p->m6_nonce)
        e->m6_nonce = true;
    if (k->role == ROLE_REQ || (k->role == ROLE_SYM && k->c2s)) {
        e->f.requests++;
        if (p->mode == NTK_MODE_CLIENT && p->decoded) {
            e->req_xmt[1] = e->req_xmt[0];
            e->req_xmt[0] = p->hdr.xmt.v;
            e->req_rec = p->hdr.rec.v;
        }
        if (p->mode == NTK_MODE_CLIENT || p->mode == NTK_MODE_SYM_ACTIVE) {
            if (e->last_req_s > 0) {
                cap_flow_push_poll(e, k->t - e->last_req_s);
            }
            e->last_req_s = k->t;
        }
    } else if (k->role == ROLE_RESP || k->role == ROLE_SYM) {
        e->f.responses++;
    }
    if (p->decoded && p->mode >= NTK_MODE_SYM_ACTIVE && p->mode <= NTK_MODE_BROADCAST) {
        e->auth_seen |= (p->nts_uid || p->nts_auth) ? 4u : p->mac_len >= 20 ? 2u : 1u;
        if (!k->c2s && p->mode != NTK_MODE_CLIENT && !p->kiss[0]) {
            track_server(c, e, p);
        }
    }
}

/* ---- per-packet checks ---- */

static void emit(struct cap *c, struct cur *k, enum cap_anom_id id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void emit(struct cap *c, struct cur *k, enum cap_anom_id id, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cap_anom_vemit(&c->ao, k->fl ? &k->fl->lim : NULL, id, k->p->frame, &k->p->src, &k->p->dst,
                   fmt, ap);
    va_end(ap);
}

static void check_control(struct cap *c, struct cur *k)
{
    const struct cap_pkt *p = k->p;
    if (p->mode == NTK_MODE_PRIVATE) {
        bool mon =
            p->m7_reqcode == CAP_M7_MON_GETLIST || p->m7_reqcode == CAP_M7_MON_GETLIST_1;
        cap_anom_emit(&c->ao, k->fl ? &k->fl->lim : NULL, mon ? CAP_A_MONLIST : CAP_A_MODE7,
                      p->frame, &p->src, &p->dst,
                      "mode 7 %s: implementation %u, request code %u, %u items of %u bytes, "
                      "%zu bytes",
                      p->m7_response ? "response" : "request", (unsigned)p->m7_impl,
                      (unsigned)p->m7_reqcode, (unsigned)p->m7_items, (unsigned)p->m7_itemsize,
                      p->payload_len);
        return;
    }
    if (p->mode != NTK_MODE_CONTROL || p->m6_response) {
        return;
    }
    if (cap_anom_offnet(&p->src)) {
        emit(c, k, CAP_A_MODE6_OFFNET,
             "mode 6 request (opcode %u, sequence %u) from a public address",
             (unsigned)p->m6_opcode, (unsigned)p->m6_seq);
    }
    if (p->m6_opcode == NTK_CTL_OP_READ_MRU && !p->m6_nonce) {
        emit(c, k, CAP_A_MRU_NO_NONCE,
             "READ_MRU request without a nonce (sequence %u, %zu bytes)", (unsigned)p->m6_seq,
             p->payload_len);
    }
}

static void check_client(struct cap *c, struct cur *k)
{
    const struct cap_pkt *p = k->p;
    if (p->version >= 1 && p->version <= 3) {
        emit(c, k, CAP_A_OLD_VERSION, "NTPv%u client request", (unsigned)p->version);
    }
    if (p->src.port == CAP_PORT_NTP) {
        emit(c, k, CAP_A_CLIENT_PORT_123,
             "client request from source port 123 (NTPv%u, %zu bytes)", (unsigned)p->version,
             p->payload_len);
    }
}

/* A server response that answers the client's newest request in interleaved mode: its
 * origin is not that request's transmit but the request's receive field (RFC 9769 §2: the
 * client's receive time of the previous reply), or the transmit of the request before it
 * (the rule of NTP Classic's and NTPsec's interleaved on-wire protocol); and its transmit
 * timestamp, the previous reply's, is earlier than its receive timestamp (which keeps a late
 * or replayed basic reply to an older request out). */
static bool looks_interleaved(const struct cap_flow_ent *e, const struct cap_pkt *p)
{
    uint64_t org = p->hdr.org.v;
    return e != NULL && p->mode == NTK_MODE_SERVER && p->decoded && p->kiss[0] == '\0' &&
           org != 0 && e->req_xmt[0] != 0 && org != e->req_xmt[0] &&
           !ntk_ts_is_zero(p->hdr.rec) && ntk_ts_diff(p->hdr.xmt, p->hdr.rec).v < 0 &&
           ((e->req_rec != 0 && org == e->req_rec) ||
            (e->req_xmt[1] != 0 && org == e->req_xmt[1]));
}

/* Checks of a packet a server (or peer) sent: k->c2s is false. */
static void check_server(struct cap *c, struct cur *k)
{
    const struct cap_pkt *p = k->p;
    const struct ntk_pkt *h = &p->hdr;
    if (p->kiss[0]) {
        return;
    }
    if (h->leap == NTK_LEAP_UNSYNC || h->stratum == 16) {
        emit(c, k, CAP_A_SERVER_UNSYNC, "server sends LI=%u stratum %u", (unsigned)h->leap,
             (unsigned)h->stratum);
    }
    if (p->mode == NTK_MODE_SERVER && ntk_ts_is_zero(h->org)) {
        emit(c, k, CAP_A_ORIGIN_ZERO,
             "server response with a zero origin timestamp (stratum %u)",
             (unsigned)h->stratum);
    }
    if (!ntk_ts_is_zero(h->rec) && !ntk_ts_is_zero(h->xmt) &&
        ntk_ts_diff(h->xmt, h->rec).v < 0 && !looks_interleaved(k->fl, p)) {
        emit(c, k, CAP_A_T3_BEFORE_T2, "T3 - T2 = %.9f s",
             ntk_dur_to_s(ntk_ts_diff(h->xmt, h->rec)));
    }
    if (!ntk_ts_is_zero(h->xmt)) {
        double far = ntk_dur_to_s(ntk_ts_diff(h->xmt, cap_ts(p)));
        if (fabs(far) > c->cfg.far_s) {
            emit(c, k, CAP_A_SERVER_TIME_FAR,
                 "server transmit time %+.3f s from the capture time (limit %.3f s)", far,
                 c->cfg.far_s);
        }
    }
    const struct ntk_addr *cl = &p->dst;
    /* Only a client on port 123 is a daemon that could serve this server its time: a
     * one-shot client (ntpdig) on the same host shares the address but makes no loop. */
    if (p->mode == NTK_MODE_SERVER && cl->family == NTK_ADDR_V4 && cl->port == CAP_PORT_NTP &&
        h->stratum >= 2 && h->stratum <= 15 &&
        h->refid == ((uint32_t)cl->ip[0] << 24 | (uint32_t)cl->ip[1] << 16 |
                     (uint32_t)cl->ip[2] << 8 | cl->ip[3])) {
        emit(c, k, CAP_A_REFID_LOOP, "refid %08x is the client's address (stratum %u)",
             (unsigned)h->refid, (unsigned)h->stratum);
    }
    struct cap_flow_ent *e = k->fl;
    if (e && !ntk_ts_is_zero(h->xmt)) {
        if (e->have_resp && e->last_xmt == h->xmt.v) {
            k->dup = true;
            cap_anom_emit(&c->ao, &e->lim, CAP_A_RESP_DUPLICATE, p->frame, &p->src, &p->dst,
                          "same transmit timestamp as frame %llu",
                          (unsigned long long)e->last_xmt_frame);
        }
        e->have_resp = true;
        e->last_xmt = h->xmt.v;
        e->last_xmt_frame = p->frame;
    }
}

static void check_packet(struct cap *c, struct cur *k)
{
    const struct cap_pkt *p = k->p;
    check_control(c, k);
    if (p->ef_malformed) {
        emit(c, k, CAP_A_EF_MALFORMED, "extension fields do not walk (%s, %zu bytes)",
             ntk_pkt_reject_name(p->reject), p->payload_len);
    }
    if (!p->decoded || p->mode > NTK_MODE_BROADCAST) {
        return;
    }
    bool authed = p->mac_len >= 20 || p->nts_auth;
    if (p->mode == NTK_MODE_CLIENT) {
        check_client(c, k);
    } else if ((p->mode == NTK_MODE_SYM_ACTIVE || p->mode == NTK_MODE_SYM_PASSIVE) &&
               !authed) {
        emit(c, k, CAP_A_UNAUTH_SYMMETRIC, "mode %u packet without MAC or NTS (%zu bytes)",
             (unsigned)p->mode, p->payload_len);
    } else if (p->mode == NTK_MODE_BROADCAST && !authed) {
        emit(c, k, CAP_A_UNAUTH_BROADCAST, "broadcast packet without MAC or NTS (%zu bytes)",
             p->payload_len);
    }
    if (!k->c2s && p->mode != NTK_MODE_CLIENT) {
        check_server(c, k);
    }
}

/* ---- pairing ---- */

static void exch_times(struct cap_exch *x, const struct cap_pkt *q, const struct cap_pkt *r)
{
    x->offset_pkt_s = x->delay_pkt_s = x->offset_cap_s = x->delay_cap_s = x->server_s = NAN;
    if (x->kind != CAP_X_CLIENT) {
        return;
    }
    ntk_ts t1 = q->hdr.xmt, t2 = r->hdr.rec, t3 = r->hdr.xmt, t4 = cap_ts(r), c1 = cap_ts(q);
    if (ntk_ts_is_zero(t2) || ntk_ts_is_zero(t3)) {
        return;
    }
    double srv = ntk_dur_to_s(ntk_ts_diff(t3, t2));
    double back = ntk_dur_to_s(ntk_ts_diff(t3, t4));
    x->server_s = srv;
    if (!ntk_ts_is_zero(t1)) {
        x->offset_pkt_s = (ntk_dur_to_s(ntk_ts_diff(t2, t1)) + back) / 2;
        x->delay_pkt_s = ntk_dur_to_s(ntk_ts_diff(t4, t1)) - srv;
    }
    x->offset_cap_s = (ntk_dur_to_s(ntk_ts_diff(t2, c1)) + back) / 2;
    x->delay_cap_s = ntk_dur_to_s(ntk_ts_diff(t4, c1)) - srv;
}

/* Interleaved (RFC 9769 §2): the response carries T3 of the previous exchange, whose T1,
 * T2 and capture times the flow kept; T2 is also the request's origin. */
static void exch_times_il(struct cap_exch *x, const struct cap_pkt *q, const struct cap_pkt *r,
                          const struct cap_flow_ent *fl)
{
    x->offset_pkt_s = x->delay_pkt_s = x->offset_cap_s = x->delay_cap_s = x->server_s = NAN;
    ntk_ts t2 = q->hdr.org, t3 = r->hdr.xmt;
    if (ntk_ts_is_zero(t2) && fl != NULL && fl->have_prev) {
        t2.v = fl->prev_t2;
    }
    if (ntk_ts_is_zero(t2) || ntk_ts_is_zero(t3)) {
        return;
    }
    double srv = ntk_dur_to_s(ntk_ts_diff(t3, t2));
    x->server_s = srv;
    if (fl == NULL || !fl->have_prev) {
        return;
    }
    ntk_ts t1 = {fl->prev_t1}, c1 = {fl->prev_c1}, c4 = {fl->prev_c4};
    double back = ntk_dur_to_s(ntk_ts_diff(t3, c4));
    if (!ntk_ts_is_zero(t1)) {
        x->offset_pkt_s = (ntk_dur_to_s(ntk_ts_diff(t2, t1)) + back) / 2;
        x->delay_pkt_s = ntk_dur_to_s(ntk_ts_diff(c4, t1)) - srv;
    }
    x->offset_cap_s = (ntk_dur_to_s(ntk_ts_diff(t2, c1)) + back) / 2;
    x->delay_cap_s = ntk_dur_to_s(ntk_ts_diff(c4, c1)) - srv;
}

/* Remembers a client exchange for the interleaved one that may follow. */
static void keep_prev(struct cap_flow_ent *fl, const struct cap_pkt *q,
                      const struct cap_pkt *r)
{
    fl->have_prev = true;
    fl->prev_t1 = q->hdr.xmt.v;
    fl->prev_t2 = r->hdr.rec.v;
    fl->prev_c1 = cap_ts(q).v;
    fl->prev_c4 = cap_ts(r).v;
}

static void minmax(double v, double *mn, double *mx, double *last)
{
    if (isnan(*mn) || v < *mn) {
        *mn = v;
    }
    if (isnan(*mx) || v > *mx) {
        *mx = v;
    }
    *last = v;
}

/* Reports the exchange of e answered by r (the last response datagram). */
static void exchange(struct cap *c, struct cap_pend *e, const struct cap_pkt *r,
                     struct cap_flow_ent *fl, bool il)
{
    struct cap_exch x;
    memset(&x, 0, sizeof x);
    x.kind = e->kind;
    x.req = &e->req;
    x.resp = r;
    x.req_bytes = e->req_bytes;
    x.resp_bytes = e->resp_bytes;
    x.resp_frags = e->resp_frags;
    x.rtt_cap_s = (double)(r->ts_sec - e->req.ts_sec) +
                  ((double)r->ts_nsec - (double)e->req.ts_nsec) * 1e-9;
    x.interleaved = il;
    x.req_line = e->line_len > 0 ? e->line : NULL;
    x.req_line_len = e->line_len;
    if (il) {
        exch_times_il(&x, &e->req, r, fl);
    } else {
        exch_times(&x, &e->req, r);
    }
    c->st.exchanges++;
    if (fl) {
        fl->f.exchanges++;
        fl->f.interleaved += il;
        if (x.kind == CAP_X_CLIENT && r->mode == NTK_MODE_SERVER && r->decoded) {
            keep_prev(fl, &e->req, r);
        }
        if (!isnan(x.offset_cap_s)) {
            cap_flow_offset(fl, x.offset_cap_s);
        }
        if (!isnan(x.delay_cap_s)) {
            cap_flow_push_exchange(fl, x.delay_cap_s, x.offset_cap_s);
            minmax(x.delay_cap_s, &fl->f.delay_min_s, &fl->f.delay_max_s, &fl->f.delay_last_s);
            minmax(x.offset_cap_s, &fl->f.offset_min_s, &fl->f.offset_max_s,
                   &fl->f.offset_last_s);
        }
    }
    if (c->sink.exchange) {
        c->sink.exchange(c->sink.ctx, &x);
    }
}

/* A request leaving the table unanswered (or, for modes 6/7, with a partial response). */
static void unanswered(struct cap *c, struct cap_pend *e)
{
    struct cap_flow_ent *fl = cap_flows_find(&c->flows, &e->req.src, &e->req.dst);
    if (e->resp_frags > 0) {
        struct cap_pkt r = e->resp;
        exchange(c, e, &r, fl, false);
        return;
    }
    c->st.unmatched_req++;
    if (fl) {
        fl->f.unmatched_req++;
    }
}

static void on_drop(void *ctx, struct cap_pend *e, bool full)
{
    struct cap *c = ctx;
    c->st.pending_dropped += full;
    unanswered(c, e);
}

static void expire(struct cap *c, double now)
{
    struct cap_pend *e;
    while ((e = cap_pairs_oldest(&c->pairs)) != NULL &&
           now - pkt_time(&e->req) > c->cfg.pair_timeout_s) {
        unanswered(c, e);
        cap_pairs_remove(&c->pairs, e);
    }
}

/* A mode-6 request and its response fragments share sequence, association id and opcode
 * (RFC 9327 §2: the server echoes all three). */
static uint64_t control_id(const struct cap_pkt *p)
{
    return (uint64_t)p->m6_seq << 24 | (uint64_t)p->m6_associd << 8 | p->m6_opcode;
}

bool cap_request_kind(const struct cap_pkt *p, enum cap_xkind *kind)
{
    switch (role_of(p)) {
    case ROLE_REQ:
        if (p->mode == NTK_MODE_CLIENT && p->decoded) {
            *kind = CAP_X_CLIENT;
        } else if (p->mode == NTK_MODE_CONTROL && p->payload_len >= NTK_CTL_HEADER_LEN) {
            *kind = CAP_X_CONTROL;
        } else if (p->mode == NTK_MODE_PRIVATE && p->decoded) {
            *kind = CAP_X_PRIVATE;
        } else {
            return false;
        }
        return true;
    case ROLE_SYM:
        *kind = CAP_X_SYMMETRIC;
        return p->decoded;
    default:
        return false;
    }
}

/* The identifier a request of kind waits with (cap_pair.h). */
static uint64_t request_id(const struct cap_pkt *p, enum cap_xkind kind)
{
    switch (kind) {
    case CAP_X_CONTROL:
        return control_id(p);
    case CAP_X_PRIVATE:
        return (uint64_t)p->m7_impl << 8 | p->m7_reqcode;
    default:
        return p->hdr.xmt.v; /* modes 3 and 1/2: the answer's origin */
    }
}

/* Makes the packet of k wait for its answer, with the text attached to it. */
static void add_request(struct cap *c, const struct cur *k, enum cap_xkind kind)
{
    uint64_t id = request_id(k->p, kind);
    uint32_t h = k->d->pair_hashed && kind == CAP_X_CLIENT
                     ? k->d->pair_hash
                     : cap_pairs_hash(&k->p->src, &k->p->dst, kind, id);
    struct cap_pend *e = cap_pairs_add(&c->pairs, k->p, kind, id, h, on_drop, c);
    if (e == NULL) {
        return;
    }
    e->line_len = 0;
    if (k->d->line != NULL && k->d->line_len <= sizeof e->line) {
        memcpy(e->line, k->d->line, k->d->line_len);
        e->line_len = k->d->line_len;
    }
}

static void request(struct cap *c, struct cur *k)
{
    enum cap_xkind kind;
    if (cap_request_kind(k->p, &kind)) {
        add_request(c, k, kind);
    }
}

/* A response that answers nothing pending. */
static void orphan(struct cap *c, struct cur *k)
{
    const struct cap_pkt *p = k->p;
    struct cap_flow_ent *e = k->fl;
    c->st.unmatched_resp++;
    if (!e) {
        return;
    }
    e->f.unmatched_resp++;
    bool dup = k->dup; /* response_duplicate says it already */
    if (p->kiss[0]) {
        emit(c, k, CAP_A_KOD_SPOOFED,
             "kiss-o'-death %s answers no pending request (%llu requests in this flow)",
             p->kiss, (unsigned long long)e->f.requests);
    } else if (p->mode == NTK_MODE_SERVER && p->decoded && ntk_ts_is_zero(p->hdr.org)) {
        /* origin_zero was reported by the packet checks */
    } else if (p->mode == NTK_MODE_SERVER && p->decoded && e->f.requests > 0 && !dup) {
        emit(c, k, CAP_A_ORIGIN_BOGUS,
             "origin matches none of the client's pending requests (%llu requests sent)",
             (unsigned long long)e->f.requests);
    } else if (!dup) {
        emit(c, k, CAP_A_RESP_UNMATCHED, "mode %u response answers no request (%zu bytes)",
             (unsigned)p->mode, p->payload_len);
    }
    if (e->f.requests == 0 && e->f.unmatched_resp >= CAP_ANOM_REFLECT_MIN &&
        !e->reflect_reported) {
        e->reflect_reported = true;
        cap_anom_emit(&c->ao, NULL, CAP_A_REFLECTION, p->frame, &p->src, &p->dst,
                      "%llu responses (%llu bytes) to a client that sent no request",
                      (unsigned long long)e->f.unmatched_resp,
                      (unsigned long long)e->f.bytes_s2c);
    }
}

/* A mode-6 fragment for e: true when the response is complete. */
static bool control_frag(struct cap *c, struct cap_pend *e, const struct cur *k)
{
    const struct cap_pkt *p = k->p;
    struct ntk_ctl_msg m;
    if (cap_pairs_reasm(&c->pairs, e) &&
        ntk_ctl_decode(k->d->payload, k->d->payload_len, &m) == 0) {
        int rc = ntk_ctl_reasm_feed(e->ra, &m);
        if (rc == NTK_CTL_FEED_DUP) {
            return false;
        }
        e->resp_frags++;
        e->resp_bytes += p->payload_len;
        return rc == NTK_CTL_FEED_DONE;
    }
    e->resp_frags++;
    e->resp_bytes += p->payload_len;
    return !p->m6_more || p->m6_error;
}

/* The request that the packet of k answers as kind/id, or NULL. */
static struct cap_pend *answered(struct cap *c, const struct cur *k, enum cap_xkind kind,
                                 uint64_t id)
{
    const struct cap_pkt *p = k->p;
    return cap_pairs_find(&c->pairs, &p->dst, &p->src, kind, id,
                          cap_pairs_hash(&p->dst, &p->src, kind, id));
}

static void response(struct cap *c, struct cur *k)
{
    const struct cap_pkt *p = k->p;
    struct cap_pend *e = NULL;
    if (p->mode == NTK_MODE_SERVER && p->decoded) {
        e = k->d->pair_hashed ? cap_pairs_find(&c->pairs, &p->dst, &p->src, CAP_X_CLIENT,
                                               p->hdr.org.v, k->d->pair_hash)
                              : answered(c, k, CAP_X_CLIENT, p->hdr.org.v);
    } else if (p->mode == NTK_MODE_CONTROL && p->payload_len >= NTK_CTL_HEADER_LEN) {
        e = answered(c, k, CAP_X_CONTROL, control_id(p));
    } else if (p->mode == NTK_MODE_PRIVATE && p->decoded) {
        e = answered(c, k, CAP_X_PRIVATE, (uint64_t)p->m7_impl << 8 | p->m7_reqcode);
    }
    bool il = false;
    if (!e && looks_interleaved(k->fl, p) && !k->dup) {
        e = answered(c, k, CAP_X_CLIENT, k->fl->req_xmt[0]);
        il = e != NULL;
    }
    if (!e) {
        orphan(c, k);
        return;
    }
    bool done = true;
    if (p->mode == NTK_MODE_CONTROL) {
        done = control_frag(c, e, k);
    } else {
        e->resp_frags++;
        e->resp_bytes += p->payload_len;
        done = p->mode != NTK_MODE_PRIVATE || !p->m7_more;
    }
    e->resp = *p;
    if (!done) {
        return;
    }
    if (p->mode == NTK_MODE_SERVER) {
        if (p->kiss[0]) {
            emit(c, k, CAP_A_KOD, "kiss-o'-death %s answering the request of frame %llu",
                 p->kiss, (unsigned long long)e->req.frame);
        } else if ((e->req.nts_uid || e->req.nts_auth) && !p->nts_auth) {
            emit(c, k, CAP_A_NTS_DOWNGRADE,
                 "NTS request (frame %llu) answered without an NTS authenticator",
                 (unsigned long long)e->req.frame);
        }
    }
    exchange(c, e, p, k->fl, il);
    cap_pairs_remove(&c->pairs, e);
}

static void symmetric(struct cap *c, struct cur *k)
{
    const struct cap_pkt *p = k->p;
    if (!p->decoded) {
        return;
    }
    struct cap_pend *e = answered(c, k, CAP_X_SYMMETRIC, p->hdr.org.v);
    if (e) {
        e->resp_frags = 1;
        e->resp_bytes = p->payload_len;
        exchange(c, e, p, k->fl, false);
        cap_pairs_remove(&c->pairs, e);
    }
    add_request(c, k, CAP_X_SYMMETRIC);
}

static void handle_ntp(struct cap *c, const struct cap_pkt *p, const struct cap_dec *d)
{
    struct cur k = {.p = p, .d = d, .role = role_of(p), .t = pkt_time(p)};
    expire(c, k.t);
    flow_lookup(c, &k);
    if (k.fl) {
        flow_count(c, &k);
    }
    check_packet(c, &k);
    switch (k.role) {
    case ROLE_REQ:
        request(c, &k);
        break;
    case ROLE_RESP:
        response(c, &k);
        break;
    case ROLE_SYM:
        symmetric(c, &k);
        break;
    default:
        break;
    }
}

enum cap_what cap_feed(struct cap *c, int link, const uint8_t *frame, size_t caplen,
                       size_t wire_len, int64_t ts_sec, uint32_t ts_nsec)
{
    struct cap_pkt p;
    struct cap_dec d;
    (void)cap_decode_frame(link, frame, caplen, wire_len, &p, &d);
    return cap_feed_decoded(c, &p, &d, wire_len, ts_sec, ts_nsec);
}

/* The pending-table key a decoded mode-3 request is added with, or a mode-4 response looks
 * for (request() and response() use the same): the bulk of a capture's packets. */
static bool pair_hash_of(const struct cap_pkt *p, uint32_t *h)
{
    if (!p->decoded) {
        return false;
    }
    if (p->mode == NTK_MODE_CLIENT) {
        *h = cap_pairs_hash(&p->src, &p->dst, CAP_X_CLIENT, p->hdr.xmt.v);
        return true;
    }
    if (p->mode == NTK_MODE_SERVER) {
        *h = cap_pairs_hash(&p->dst, &p->src, CAP_X_CLIENT, p->hdr.org.v);
        return true;
    }
    return false;
}

void cap_hash_frame(const struct cap_pkt *p, struct cap_dec *d)
{
    if (p->what != CAP_NTP) {
        return;
    }
    bool c2s = src_is_client(p, role_of(p));
    d->flow_hash = cap_flows_hash(c2s ? &p->src : &p->dst, c2s ? &p->dst : &p->src);
    d->hashed = true;
    d->pair_hashed = pair_hash_of(p, &d->pair_hash);
}

void cap_prefetch(const struct cap *c, const struct cap_dec *d, int stage)
{
    if (d->hashed) {
        cap_flows_prefetch(&c->flows, d->flow_hash, stage);
    }
    if (d->pair_hashed) {
        cap_pairs_prefetch(&c->pairs, d->pair_hash, stage);
    }
}

enum cap_what cap_feed_decoded(struct cap *c, struct cap_pkt *p, const struct cap_dec *d,
                               size_t wire_len, int64_t ts_sec, uint32_t ts_nsec)
{
    enum cap_what w = p->what;
    c->st.frames++;
    p->frame = c->st.frames;
    p->ts_sec = ts_sec;
    p->ts_nsec = ts_nsec;
    p->frame_len = wire_len;
    switch (w) {
    case CAP_NTP:
        c->st.ntp++;
        c->st.by_mode[p->mode & 7]++;
        c->st.undecoded += !p->decoded;
        break;
    case CAP_NTSKE:
        c->st.ntske++;
        break;
    case CAP_TRUNCATED:
        c->st.truncated++;
        return w;
    case CAP_MALFORMED:
        c->st.malformed++;
        return w;
    default:
        c->st.other++;
        return w;
    }
    if (c->sink.packet) {
        c->sink.packet(c->sink.ctx, p);
    }
    if (w == CAP_NTP) {
        handle_ntp(c, p, d);
    } else if (c->tls != NULL) {
        cap_tls_feed(c->tls, p, d->payload, d->payload_len);
    }
    return w;
}

void cap_finish(struct cap *c)
{
    struct cap_pend *e;
    while ((e = cap_pairs_oldest(&c->pairs)) != NULL) {
        unanswered(c, e);
        cap_pairs_remove(&c->pairs, e);
    }
    cap_flows_each(&c->flows, report_flow, c);
    if (c->tls != NULL) {
        cap_tls_finish(c->tls);
    }
}

const struct cap_stats *cap_stats(const struct cap *c)
{
    return &c->st;
}

const struct cap_anom_info *cap_anom_codes(void)
{
    return cap_anom_table();
}

const char *cap_sev_name(enum cap_sev s)
{
    return s == CAP_SEV_CRIT ? "crit" : s == CAP_SEV_WARN ? "warn" : "info";
}

int cap_sev_from_name(const char *name)
{
    static const char *const names[] = {"info", "warn", "crit"};
    for (int i = 0; i < 3; i++) {
        if (strcmp(name, names[i]) == 0) {
            return i;
        }
    }
    return -1;
}
