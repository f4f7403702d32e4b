/* SPDX-License-Identifier: BSD-2-Clause */
/* Answers NTP client requests (mode 3 -> mode 4): restrict, rate limit, MAC or NTS, reply
 * build. */
#include "server.h"

#include <assert.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ntk/buf.h"
#include "ntk/err.h"
#include "ntk/pkt.h"
#include "ntk/refid.h"

#include "poison.h"

#define REFID_RATE NTK_REFID_CODE('R', 'A', 'T', 'E')
#define REFID_NTSN NTK_REFID_CODE('N', 'T', 'S', 'N')

static const char *const drop_names[SRV_DROP_COUNT] = {
    "none",        "too_short",      "bad_length",   "bad_version", "bad_mode",
    "bad_ef",      "bad_mac_length", "mode_private", "not_request", "ignore",
    "noserve",     "version",        "flake",        "rate",        "crypto_nak",
    "unknown_key", "bad_mac",        "nospc",        "amplify",     "notrust",
    "nts_bad",     "nts_auth",       "nts_crypto",   "mode_peer",   "noquery",
};

const char *srv_drop_name(enum srv_drop why)
{
    return (unsigned)why < SRV_DROP_COUNT ? drop_names[why] : "unknown";
}

/* Sets the verdict's scalars; v->seal is left alone (2 KiB the plain path does not clear). */
static void set_verdict(struct srv_verdict *v, enum srv_action action, enum srv_drop why,
                        size_t len, uint32_t key_id)
{
    v->action = action;
    v->why = why;
    v->len = len;
    v->key_id = key_id;
    v->kod = false;
    v->nak = false;
    v->nts = false;
}

static enum srv_action drop(struct srv *s, struct srv_verdict *v, enum srv_drop why)
{
    set_verdict(v, SRV_DROP, why, 0, 0);
    s->st.drops[why]++;
    return SRV_DROP;
}

/* Counts an SRV_REPLY verdict. */
static enum srv_action replied(struct srv *s)
{
    s->st.replies++;
    return SRV_REPLY;
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
    /* Around a leap our clock's time is ambiguous: NTPsec says "not synchronised" then. */
    *r = (struct ntk_pkt){.leap = sys->leap_in_progress ? NTK_LEAP_UNSYNC : sys->leap,
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

/* NTPsec's KoD RATE (refid RATE) and our NTS NAK (refid NTSN): the request echoed, with leap
 * 3 and stratum 0. */
static void make_kod(const struct ntk_pkt *q, uint32_t refid, struct ntk_pkt *r)
{
    *r = *q;
    r->leap = NTK_LEAP_UNSYNC;
    r->mode = NTK_MODE_SERVER;
    r->stratum = 0;
    r->refid = refid;
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

/* Check 1 of server.h, NTPsec's is_vn_mode_acceptable: the first byte alone. */
static enum srv_drop screen_first_byte(const struct srv_req *req, uint8_t *version,
                                       enum ntk_mode *mode)
{
    if (ntk_pkt_peek(req->buf, req->len, NULL, version, mode) != 0) {
        return SRV_DROP_TOO_SHORT;
    }
    if (*version == 0 || *version > 4) {
        return SRV_DROP_BAD_VERSION;
    }
    switch (*mode) {
    case NTK_MODE_PRIVATE:
        return SRV_DROP_MODE_PRIVATE;
    case NTK_MODE_SYM_ACTIVE: /* NTPsec 1.2.2 answers it in NTPv1: not we (server.h) */
    case NTK_MODE_SYM_PASSIVE:
    case NTK_MODE_BROADCAST:
        return SRV_DROP_MODE_PEER;
    case NTK_MODE_RESERVED:
        return *version == 1 ? SRV_DROP_NONE : SRV_DROP_BAD_MODE;
    default:
        return SRV_DROP_NONE;
    }
}

/* NTPsec 1.2.2's NTPv1 counters: every 48-byte NTPv1 datagram, whatever its mode and source,
 * before any other check. */
static void count_v1(struct srv *s, const struct srv_req *req)
{
    if (req->len != NTK_PKT_HDR_LEN || (req->buf[0] >> 3 & 7) != 1) {
        return;
    }
    s->st.v1++;
    switch (req->buf[0] & 7) {
    case NTK_MODE_RESERVED:
        s->st.v1_mode0++;
        break;
    case NTK_MODE_SYM_ACTIVE:
        s->st.v1_symm++;
        break;
    case NTK_MODE_CLIENT:
        s->st.v1_client++;
        break;
    default:
        break;
    }
}

/* Check 2, NTPsec's check_early_restrictions. */
static enum srv_drop screen_restrict(struct srv *s, uint32_t rflags, enum ntk_mode mode,
                                     uint8_t version)
{
    if (rflags & RST_IGNORE) {
        return SRV_DROP_IGNORE;
    }
    if ((rflags & RST_FLAKE) && flaked(s)) {
        return SRV_DROP_FLAKE;
    }
    if (mode == NTK_MODE_CONTROL && (rflags & RST_NOQUERY)) {
        return SRV_DROP_NOQUERY;
    }
    if (mode != NTK_MODE_CONTROL && (rflags & RST_NOSERVE)) {
        return SRV_DROP_NOSERVE;
    }
    if ((rflags & RST_VERSION) && version != 4) {
        return SRV_DROP_VERSION;
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
        make_kod(q, REFID_RATE, &r);
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
    set_verdict(v, SRV_REPLY, SRV_DROP_NONE, n, key_id);
    v->kod = kod;
    s->st.kod += kod;
    return replied(s);
}

/* ---- NTS (RFC 8915 §5) ---- */

static int rekey(struct srv *s, uint16_t aead, const uint8_t *key, size_t len)
{
    if (!s->aead) {
        return ntk_aead_key_init(&s->aead, aead, key, len);
    }
    return ntk_aead_key_set(s->aead, aead, key, len);
}

/* The NTS NAK (RFC 8915 §5.7): a KoD NTSN carrying the request's Unique Identifier. */
static enum srv_action nak(struct srv *s, const struct srv_req *req, const struct ntk_pkt *q,
                           const struct ntk_nts_request *r, uint8_t *reply, size_t cap,
                           struct srv_verdict *v)
{
    struct ntk_pkt k;
    make_kod(q, REFID_NTSN, &k);
    if (cap < NTK_PKT_HDR_LEN + 4 + r->uid_len) {
        return drop(s, v, SRV_DROP_NOSPC); /* before writing: a dropped reply is untouched */
    }
    int n = encode(&k, 0, 0, reply, cap) == NTK_PKT_HDR_LEN
                ? ntk_nts_build_nak(reply, cap, NTK_PKT_HDR_LEN, r->uid, r->uid_len)
                : NTK_ENOSPC;
    if (n < 0) {
        return drop(s, v, SRV_DROP_NOSPC);
    }
    if ((size_t)n > req->len) {
        return drop(s, v, SRV_DROP_AMPLIFY); /* cannot happen: the request holds the UID */
    }
    set_verdict(v, SRV_REPLY, SRV_DROP_NONE, (size_t)n, 0);
    v->nak = true;
    s->st.naks_sent++;
    return replied(s);
}

/* Stages the fresh cookies and what srv_finish seals them with; returns the reply length,
 * or 0 when making a cookie failed. */
static size_t stage(struct srv *s, const struct srv_req *req, const struct ntk_nts_request *r,
                    const struct ntss_cookie_keys *ck, struct srv_nts_seal *seal)
{
    size_t cookie_len = NTSS_COOKIE_LEN(ck->key_len);
    size_t n = 1 + r->n_placeholders;
    n = n > NTK_KE_COOKIES_MAX ? NTK_KE_COOKIES_MAX : n;
    /* No amplification (RFC 8915 §5.7): a cookie of ours is as long as the one spent, so
     * one always fits; placeholders the client made too short cost it cookies. */
    while (n > 0 && ntk_nts_reply_len(NTK_PKT_HDR_LEN, r->uid_len, cookie_len, n) > req->len) {
        n--;
    }
    for (size_t i = 0; i < n; i++) {
        if (ntss_make_cookie(s->nts, ck->aead, ck->c2s, ck->s2c, ck->key_len,
                             &seal->cookies[i]) != 0) {
            return 0;
        }
    }
    seal->n_cookies = n;
    seal->aead = ck->aead;
    seal->key_len = ck->key_len;
    memcpy(seal->s2c, ck->s2c, ck->key_len);
    memcpy(seal->uid, r->uid, r->uid_len);
    seal->uid_len = r->uid_len;
    ntss_nonce(s->nts, seal->nonce);
    return ntk_nts_reply_len(NTK_PKT_HDR_LEN, r->uid_len, cookie_len, n);
}

/* Steps 7b and 8b of server.h: cookie, Authenticator, reply header and staged fields. */
static enum srv_action answer_nts(struct srv *s, const struct snap_system *sys,
                                  const struct srv_req *req, const struct ntk_pkt *q,
                                  const struct ntk_nts_request *r, uint8_t *reply, size_t cap,
                                  struct srv_verdict *v)
{
    struct ntss_cookie_keys ck;
    if (ntss_open_cookie(s->nts, r->cookie, r->cookie_len, &ck) != 0) {
        s->st.nts_server_recv_bad++;
        return nak(s, req, q, r, reply, cap, v);
    }
    enum srv_drop why = SRV_DROP_NONE;
    if (rekey(s, ck.aead, ck.c2s, ck.key_len) != 0 ||
        ntk_nts_verify_request(req->buf, r, s->aead) != 0) {
        s->st.nts_server_recv_bad++;
        why = SRV_DROP_NTS_AUTH;
    } else {
        s->st.nts_server_recv_good++;
        struct ntk_pkt h;
        make_reply(sys, q, req->rx_ts, &h);
        size_t len = stage(s, req, r, &ck, &v->seal);
        if (len == 0) {
            why = SRV_DROP_NTS_CRYPTO;
        } else if (len > cap || encode(&h, 0, 0, reply, cap) != NTK_PKT_HDR_LEN) {
            why = SRV_DROP_NOSPC;
        }
        set_verdict(v, SRV_REPLY, SRV_DROP_NONE, len, 0);
    }
    OPENSSL_cleanse(&ck, sizeof ck);
    if (why != SRV_DROP_NONE) {
        OPENSSL_cleanse(v->seal.s2c, sizeof v->seal.s2c);
        return drop(s, v, why);
    }
    v->nts = true;
    return replied(s);
}

enum srv_action srv_handle(struct srv *s, const struct snap_system *sys,
                           const struct srv_req *req, uint8_t *reply, size_t cap,
                           struct srv_verdict *v)
{
    set_verdict(v, SRV_DROP, SRV_DROP_NONE, 0, 0);
    s->st.received++;
    count_v1(s, req);
    v->rflags = s->rst ? rst_lookup(s->rst, &req->src) : 0;
    uint8_t version = 0;
    enum ntk_mode mode = NTK_MODE_RESERVED;
    enum srv_drop why = screen_first_byte(req, &version, &mode);
    if (why == SRV_DROP_NONE) {
        why = screen_restrict(s, v->rflags, mode, version);
    }
    if (why != SRV_DROP_NONE) {
        return drop(s, v, why);
    }
    if (mode == NTK_MODE_CONTROL) {
        v->action = SRV_CONTROL;
        s->st.control++;
        return SRV_CONTROL;
    }
    enum mru_verdict mv = MRU_ALLOW;
    if (s->mru) {
        mv =
            mru_observe(s->mru, &req->src, req->rx_mono_ns, (uint8_t)mode, version, v->rflags);
    }
    if (mv == MRU_DROP) {
        return drop(s, v, SRV_DROP_RATE);
    }
    s->st.by_version[version]++; /* NTPsec's "current version" and "older version" */
    struct ntk_pkt q;
    struct ntk_pkt_layout l;
    enum ntk_pkt_reject rej;
    if (ntk_pkt_decode(req->buf, req->len, &q, &l, &rej) != 0) {
        return drop(s, v, from_reject(rej));
    }
    if (q.mode == NTK_MODE_SERVER) {
        return drop(s, v, SRV_DROP_NOT_REQUEST);
    }
    if (q.version < 3 && l.auth != NTK_PKT_AUTH_NONE) {
        return drop(s, v, SRV_DROP_BAD_MAC_LENGTH); /* NTPsec: no MAC before NTPv3 */
    }
    if (l.ef_count > 0 && s->nts && mv != MRU_KOD) {
        struct ntk_nts_request r;
        int rc = ntk_nts_parse_request(req->buf, req->len, NTK_PKT_HDR_LEN, &r);
        if (rc < 0) {
            s->st.nts_server_recv_bad++;
            return drop(s, v, SRV_DROP_NTS_BAD);
        }
        if (rc > 0) {
            return answer_nts(s, sys, req, &q, &r, reply, cap, v);
        }
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

static void put_xmt(uint8_t *reply, ntk_ts xmt)
{
    struct ntk_wr w;
    ntk_wr_init(&w, reply + 40, 8);
    ntk_wr_be64(&w, xmt.v);
}

/* Appends the UID and the sealed Authenticator to an NTS reply whose header is final. */
static int seal_nts(struct srv *s, struct srv_verdict *v, uint8_t *reply, size_t cap)
{
    struct srv_nts_seal *z = &v->seal;
    int rc = v->len <= cap ? rekey(s, z->aead, z->s2c, z->key_len) : NTK_EINVAL;
    OPENSSL_cleanse(z->s2c, sizeof z->s2c);
    if (rc == 0) {
        rc = ntk_nts_build_reply(reply, cap, NTK_PKT_HDR_LEN, z->uid, z->uid_len, z->cookies,
                                 z->n_cookies, s->aead, z->nonce);
    }
    if (rc < 0) {
        return rc;
    }
    if ((size_t)rc != v->len) {
        return NTK_EINVAL; /* ntk_nts_reply_len disagrees with ntk_nts_build_reply */
    }
    s->st.nts_server_send++;
    return 0;
}

int srv_finish(struct srv *s, struct srv_verdict *v, uint8_t *reply, size_t cap, ntk_ts xmt)
{
    if (v->action != SRV_REPLY || v->len > cap || v->len < NTK_PKT_HDR_LEN) {
        return NTK_EINVAL;
    }
    if (v->nak) {
        return 0; /* complete: no time of ours, no authentication */
    }
    if (!v->kod) {
        put_xmt(reply, xmt); /* a KoD RATE keeps the request's (it may still carry a MAC) */
    }
    if (v->nts) {
        return seal_nts(s, v, reply, cap);
    }
    if (v->key_id == 0) {
        return v->len == NTK_PKT_HDR_LEN ? 0 : NTK_EINVAL;
    }
    size_t mac_len = v->len - NTK_PKT_HDR_LEN;
    mac_len = mac_len > NTK_PKT_KEYID_LEN ? mac_len - NTK_PKT_KEYID_LEN : 0;
    enum ntk_mac_type type;
    if (!s->keys || ntk_mac_keys_lookup(s->keys, v->key_id, &type) != 0 ||
        ntk_mac_len(type) != mac_len) {
        return NTK_EINVAL;
    }
    int rc = ntk_mac_compute(s->keys, v->key_id, reply, NTK_PKT_HDR_LEN,
                             reply + NTK_PKT_HDR_LEN + NTK_PKT_KEYID_LEN, mac_len);
    return rc < 0 ? rc : 0;
}

void srv_release(struct srv *s)
{
    ntk_aead_key_free(s->aead);
    s->aead = NULL;
}
