/* SPDX-License-Identifier: BSD-2-Clause */
/* A simulated stratum-1 server that answers client requests as ntpd or chronyd would. */
#include <math.h>
#include <string.h>

#include "ntk/buf.h"
#include "ntk/pkt.h"
#include "simsrv.h"

#include "poison.h"

#define PROC_DEFAULT_S 5e-6
#define ROOT_DISP_S    1e-5
#define REFID_GPS      0x47505300u /* "GPS\0" */
#define REFID_RATE     0x52415445u /* "RATE" */
#define REFID_DENY     0x44454e59u /* "DENY" */

void simsrv_init(struct simsrv *s, const struct simsrv_cfg *cfg)
{
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
}

double simsrv_proc_s(const struct simsrv *s)
{
    return s->cfg.proc_s > 0 ? s->cfg.proc_s : PROC_DEFAULT_S;
}

double simsrv_offset_s(const struct simsrv *s, double t_s)
{
    double off = s->cfg.offset_s + s->cfg.freq_ppm * 1e-6 * t_s;
    if (s->cfg.drift_ppm != 0.0 && t_s > s->cfg.drift_from_s) {
        off += s->cfg.drift_ppm * 1e-6 * (t_s - s->cfg.drift_from_s);
    }
    return off;
}

static bool within(double t, double from, double to)
{
    return t >= from && t < to;
}

/* The server's clock (UTC + its offset) as an NTP timestamp, plus extra_s. */
static ntk_ts server_ts(const struct simsrv *s, double t_s, int64_t utc_ns, double extra_s)
{
    int64_t ns = utc_ns + llround((simsrv_offset_s(s, t_s) + extra_s) * 1e9);
    int64_t sec = ns / 1000000000LL;
    int64_t rem = ns % 1000000000LL;
    if (rem < 0) {
        rem += 1000000000LL;
        sec--;
    }
    struct timespec ts = {.tv_sec = (time_t)sec, .tv_nsec = (long)rem};
    return ntk_ts_from_timespec(&ts);
}

static bool kiss_now(const struct simsrv *s, double t)
{
    double to = s->cfg.kod_to_s > s->cfg.kod_from_s ? s->cfg.kod_to_s : HUGE_VAL;
    return s->cfg.kod != SIMSRV_KOD_NONE && within(t, s->cfg.kod_from_s, to);
}

/* The reply header for req arriving at t; a kiss when the KoD window is open. */
static void build_reply(const struct simsrv *s, const struct ntk_pkt *req, double t,
                        int64_t utc_ns, struct ntk_pkt *rep)
{
    memset(rep, 0, sizeof *rep);
    rep->version = req->version;
    rep->mode = NTK_MODE_SERVER;
    rep->poll_log2 = req->poll_log2 >= 3 && req->poll_log2 <= 17 ? req->poll_log2 : 6;
    rep->precision_log2 = -20;
    rep->root_disp = ntk_short_from_s(ROOT_DISP_S);
    rep->org = req->xmt;
    rep->rec = server_ts(s, t, utc_ns, 0.0);
    rep->xmt = server_ts(s, t, utc_ns, simsrv_proc_s(s));
    if (kiss_now(s, t)) {
        /* RFC 5905 §7.4: stratum 0, the code in the refid, leap 3 as ntpd sends. */
        rep->leap = NTK_LEAP_UNSYNC;
        rep->stratum = 0;
        rep->refid = s->cfg.kod == SIMSRV_KOD_RATE ? REFID_RATE : REFID_DENY;
        return;
    }
    rep->leap = NTK_LEAP_NONE;
    if (s->cfg.leap != 0 && within(t, s->cfg.leap_from_s, s->cfg.leap_at_s)) {
        rep->leap = s->cfg.leap > 0 ? NTK_LEAP_INSERT : NTK_LEAP_DELETE;
    }
    rep->stratum = 1;
    rep->refid = REFID_GPS;
    rep->reftime = server_ts(s, t, utc_ns, -16.0);
}

enum simsrv_answer simsrv_answer(struct simsrv *s, int64_t t_ns, int64_t utc_ns,
                                 const uint8_t *req, size_t len, uint8_t *out, size_t cap,
                                 size_t *out_len)
{
    double t = (double)t_ns * 1e-9;
    struct ntk_pkt q;
    s->st.requests++;
    if (ntk_pkt_decode(req, len, &q, NULL, NULL) != 0 || q.mode != NTK_MODE_CLIENT ||
        within(t, s->cfg.unreach_from_s, s->cfg.unreach_to_s)) {
        s->st.silent++;
        return SIMSRV_SILENT;
    }
    struct ntk_pkt rep;
    build_reply(s, &q, t, utc_ns, &rep);
    struct ntk_wr w;
    ntk_wr_init(&w, out, cap);
    if (ntk_pkt_encode(&w, &rep) != 0) {
        s->st.silent++;
        return SIMSRV_SILENT;
    }
    *out_len = ntk_wr_len(&w);
    if (rep.stratum == 0) {
        s->st.kisses++;
        return SIMSRV_KISS;
    }
    s->st.replies++;
    return SIMSRV_TIME;
}
