/* SPDX-License-Identifier: BSD-2-Clause */
/* Answers NTP client requests (mode 3 -> mode 4): restrict, rate limit, MAC, reply build. */
#include "server.h"

#include <assert.h>
#include <string.h>

#include "ntk/buf.h"
#include "ntk/err.h"
#include "ntk/pkt.h"
#include "ntk/refid.h"

#include "poison.h"

#define REFID_RATE NTK_REFID_CODE('R', 'A', 'T', 'E')

static const char *const drop_names[SRV_DROP_COUNT] = {
    "none",        "too_short",      "bad_length",   "bad_version", "bad_mode",
    "bad_ef",      "bad_mac_length", "mode_private", "not_request", "ignore",
    "noserve",     "version",        "flake",        "rate",        "crypto_nak",
    "unknown_key", "bad_mac",        "nospc",        "amplify",     "notrust",
};

const char *srv_drop_name(enum srv_drop why)
{
    return (unsigned)why < SRV_DROP_COUNT ? drop_names[why] : "unknown";
}

static enum srv_action drop(struct srv *s, struct srv_verdict *v, enum srv_drop why)
{
    v->action = SRV_DROP;
    v->why = why;
    v->len = 0;
    v->key_id = 0;
    v->kod = false;
    s->st.drops[why]++;
    return SRV_DROP;
}

static enum srv_drop from_reject(enum ntk_pkt_reject why)
{
    switch (why) {
    case NTK_PKT_BAD_LENGTH:
        return SRV_DROP_BAD_LENGTH;
    case NTK_PKT_BAD_VERSION:
        return SRV_DROP_BAD_VERSION;
    case NTK_PKT_BAD_MODE:
        return SRV_DROP_BAD_MODE;
    case NTK_PKT_MODE_PRIVATE:
        return SRV_DROP_MODE_PRIVATE;
    case NTK_PKT_BAD_EF:
        return SRV_DROP_BAD_EF;
    case NTK_PKT_BAD_MAC_LENGTH:
        return SRV_DROP_BAD_MAC_LENGTH;
    default:
        return SRV_DROP_TOO_SHORT;
    }
}

/* restrict flake: NTPsec drops one packet in ten at random. */
static bool flaked(struct srv *s)
{
    uint8_t b = 0xff;
    if (s->rng.bytes) {
        s->rng.bytes(s->rng.ctx, &b, 1);
    }
    return b < 26;
}

/* Checks the request's authentication; SRV_DROP_NONE when it has none or a good MAC. */
static enum srv_drop check_auth(struct srv *s, const uint8_t *buf,
                                const struct ntk_pkt_layout *l)
{
    if (l->auth == NTK_PKT_AUTH_NONE) {
        return SRV_DROP_NONE;
    }
    if (l->auth == NTK_PKT_AUTH_NAK) {
        return SRV_DROP_CRYPTO_NAK;
    }
    if (!s->keys || ntk_mac_keys_lookup(s->keys, l->key_id, NULL) != 0) {
        return SRV_DROP_UNKNOWN_KEY;
    }
    size_t data_len = l->mac_off - NTK_PKT_KEYID_LEN;
    int rc = ntk_mac_verify(s->keys, l->key_id, buf, data_len, buf + l->mac_off, l->mac_len);
    return rc == 0 ? SRV_DROP_NONE : SRV_DROP_BAD_MAC;
}

static uint8_t wire_stratum(uint8_t stratum)
{
    return stratum >= 16 ? 0 : stratum; /* NTPsec STRATUM_TO_PKT: 16 is "unspecified" */
}

/* The mode-4 header answering q. */
static void make_reply(const struct snap_system *sys, const struct ntk_pkt *q, ntk_ts rx_ts,
                       struct ntk_pkt *r)
{
    *r = (struct ntk_pkt){.leap = sys->leap,
                          .version = q->version,
                          .mode = NTK_MODE_SERVER,
                          .stratum = wire_stratum(sys->stratum),
                          .poll_log2 = q->poll_log2,
                          .precision_log2 = sys->precision_log2,
                          .root_delay = ntk_short_from_s(sys->root_delay_s),
                          .root_disp = ntk_short_from_s(sys->root_disp_s),
                          .refid = sys->refid,
                          .reftime = sys->reftime,
                          .org = q->xmt,
                          .rec = rx_ts};
}

/* NTPsec's KoD RATE: the request echoed, with leap 3, stratum 0 and refid RATE. */
static void make_kod(const struct ntk_pkt *q, struct ntk_pkt *r)
{
    *r = *q;
    r->leap = NTK_LEAP_UNSYNC;
    r->mode = NTK_MODE_SERVER;
    r->stratum = 0;
    r->refid = REFID_RATE;
    r->org = q->xmt;
    r->rec = q->xmt;
}

/* Encodes r and, if key_id is not 0, the key id and a zeroed MAC of mac_len bytes. */
static size_t encode(const struct ntk_pkt *r, uint32_t key_id, size_t mac_len, uint8_t *out,
                     size_t cap)
{
    struct ntk_wr w;
    ntk_wr_init(&w, out, cap);
    if (ntk_pkt_encode(&w, r) != 0) {
        return 0;
    }
    if (key_id != 0) {
        ntk_wr_be32(&w, key_id);
        ntk_wr_zero(&w, mac_len);
    }
    return w.err ? 0 : w.off;
}

/* Steps 3-5 of server.h: decode and the per-request restrict flags. */
static enum srv_drop screen(struct srv *s, const struct srv_req *req, uint32_t rflags,
                            struct ntk_pkt *q, struct ntk_pkt_layout *l)
{
    enum ntk_pkt_reject why;
    if (ntk_pkt_decode(req->buf, req->len, q, l, &why) != 0) {
        return from_reject(why);
    }
    bool v1_client = q->mode == NTK_MODE_RESERVED && q->version == 1;
    if (q->mode != NTK_MODE_CLIENT && !v1_client) {
        return SRV_DROP_NOT_REQUEST;
    }
    if (rflags & RST_NOSERVE) {
        return SRV_DROP_NOSERVE;
    }
    if ((rflags & RST_VERSION) && q->version != 4) {
        return SRV_DROP_VERSION;
    }
    if ((rflags & RST_FLAKE) && flaked(s)) {
        return SRV_DROP_FLAKE;
    }
    return SRV_DROP_NONE;
}

static enum srv_action answer(struct srv *s, const struct snap_system *sys,
                              const struct srv_req *req, const struct ntk_pkt *q,
                              const struct ntk_pkt_layout *l, bool kod, uint8_t *reply,
                              size_t cap, struct srv_verdict *v)
{
    struct ntk_pkt r;
    if (kod) {
        make_kod(q, &r);
    } else {
        make_reply(sys, q, req->rx_ts, &r);
    }
    uint32_t key_id = l->auth == NTK_PKT_AUTH_MAC ? l->key_id : 0;
    size_t need = NTK_PKT_HDR_LEN + (key_id ? NTK_PKT_KEYID_LEN + l->mac_len : 0);
    if (need > req->len) {
        return drop(s, v, SRV_DROP_AMPLIFY); /* cannot happen: the MAC is the request's */
    }
    if (need > cap) {
        return drop(s, v, SRV_DROP_NOSPC);
    }
    size_t n = encode(&r, key_id, l->mac_len, reply, cap);
    assert(n == need && n <= req->len);
    *v = (struct srv_verdict){
        .action = SRV_REPLY, .rflags = v->rflags, .len = n, .key_id = key_id, .kod = kod};
    s->st.replies++;
    s->st.kod += kod;
    s->st.by_version[q->version]++;
    return SRV_REPLY;
}

enum srv_action srv_handle(struct srv *s, const struct snap_system *sys,
                           const struct srv_req *req, uint8_t *reply, size_t cap,
                           struct srv_verdict *v)
{
    *v = (struct srv_verdict){.action = SRV_DROP};
    s->st.received++;
    v->rflags = s->rst ? rst_lookup(s->rst, &req->src) : 0;
    if (v->rflags & RST_IGNORE) {
        return drop(s, v, SRV_DROP_IGNORE);
    }
    enum ntk_mode mode;
    if (ntk_pkt_peek(req->buf, req->len, NULL, NULL, &mode) == 0 && mode == NTK_MODE_CONTROL) {
        v->action = SRV_CONTROL;
        s->st.control++;
        return SRV_CONTROL;
    }
    struct ntk_pkt q;
    struct ntk_pkt_layout l;
    enum srv_drop why = screen(s, req, v->rflags, &q, &l);
    if (why != SRV_DROP_NONE) {
        return drop(s, v, why);
    }
    enum mru_verdict mv = MRU_ALLOW;
    if (s->mru) {
        mv = mru_observe(s->mru, &req->src, req->rx_mono_ns, (uint8_t)q.mode, q.version,
                         v->rflags);
    }
    if (mv == MRU_DROP) {
        return drop(s, v, SRV_DROP_RATE);
    }
    why = check_auth(s, req->buf, &l);
    if (why != SRV_DROP_NONE) {
        return drop(s, v, why);
    }
    /* NTPsec's notrust: from such sources only requests with a good MAC are served. */
    if ((v->rflags & RST_NOTRUST) && l.auth != NTK_PKT_AUTH_MAC) {
        return drop(s, v, SRV_DROP_NOTRUST);
    }
    return answer(s, sys, req, &q, &l, mv == MRU_KOD, reply, cap, v);
}

static bool is_kod(const uint8_t *reply)
{
    uint32_t refid = (uint32_t)reply[12] << 24 | (uint32_t)reply[13] << 16 |
                     (uint32_t)reply[14] << 8 | reply[15];
    /* srv_handle's KoD has receive = origin = the request's transmit; a normal reply has
     * our receive time there, so a system refid of "RATE" cannot be taken for a KoD. */
    return reply[1] == 0 && refid == REFID_RATE && memcmp(reply + 24, reply + 32, 8) == 0;
}

int srv_finish(uint8_t *reply, size_t len, ntk_ts xmt, struct ntk_mac_keys *keys)
{
    size_t mac_len = len > NTK_PKT_HDR_LEN + NTK_PKT_KEYID_LEN
                         ? len - NTK_PKT_HDR_LEN - NTK_PKT_KEYID_LEN
                         : 0;
    if (len != NTK_PKT_HDR_LEN && mac_len != 16 && mac_len != 20) {
        return NTK_EINVAL;
    }
    if (!is_kod(reply)) {
        struct ntk_wr w;
        ntk_wr_init(&w, reply + 40, 8);
        ntk_wr_be64(&w, xmt.v);
    }
    if (len == NTK_PKT_HDR_LEN) {
        return 0;
    }
    uint32_t key_id = (uint32_t)reply[48] << 24 | (uint32_t)reply[49] << 16 |
                      (uint32_t)reply[50] << 8 | reply[51];
    enum ntk_mac_type type;
    if (!keys || ntk_mac_keys_lookup(keys, key_id, &type) != 0 ||
        ntk_mac_len(type) != mac_len) {
        return NTK_EINVAL;
    }
    int rc = ntk_mac_compute(keys, key_id, reply, NTK_PKT_HDR_LEN, reply + 52, mac_len);
    return rc < 0 ? rc : 0;
}
