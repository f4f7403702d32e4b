/* SPDX-License-Identifier: BSD-2-Clause */
/* Sans-IO SNTP exchange: data-minimised request, staged reply checks, RFC 5905 §8 arithmetic.
 */
#include "ntk/sntp.h"
#include "ntk/buf.h"
#include "ntk/err.h"

#include <string.h>

#include "poison.h"

/* Byte 0 of every request: LI 0, VN 4, mode 3 (draft-ietf-ntp-data-minimization §3). */
static const struct ntk_pkt request_template = {
    .leap = NTK_LEAP_NONE,
    .version = 4,
    .mode = NTK_MODE_CLIENT,
};

/* A ntk_ts from 8 bytes in wire (big-endian) order. */
static ntk_ts ts_from_bytes(const uint8_t b[8])
{
    struct ntk_rd r;
    ntk_rd_init(&r, b, 8);
    ntk_ts ts = {.v = ntk_rd_be64(&r)};
    return ts;
}

/* The MAC length key_id needs, or NTK_ENOTFOUND. */
static int request_mac_len(const struct ntk_mac_keys *ks, uint32_t key_id, size_t *mac_len)
{
    enum ntk_mac_type type;
    if (key_id == 0) {
        *mac_len = 0;
        return NTK_OK;
    }
    if (ks == NULL || ntk_mac_keys_lookup(ks, key_id, &type) != NTK_OK) {
        return NTK_ENOTFOUND;
    }
    *mac_len = ntk_mac_len(type);
    return NTK_OK;
}

/* Appends the key id and the MAC of the 48-byte header at hdr (RFC 5905 §9.2). */
static int append_mac(struct ntk_wr *w, struct ntk_mac_keys *ks, uint32_t key_id,
                      const uint8_t *hdr, size_t mac_len)
{
    ntk_wr_be32(w, key_id);
    uint8_t *mac = ntk_wr_reserve(w, mac_len);
    if (mac == NULL) {
        return NTK_ENOSPC; /* cannot happen: the buffer is NTK_SNTP_REQ_MAX long */
    }
    int n = ntk_mac_compute(ks, key_id, hdr, NTK_PKT_HDR_LEN, mac, mac_len);
    return n < 0 ? n : NTK_OK;
}

/* Builds the whole request in out[NTK_SNTP_REQ_MAX]; returns its length or an error. */
static int build_request(ntk_ts xmt, struct ntk_mac_keys *ks, uint32_t key_id, size_t mac_len,
                         uint8_t version, uint8_t *out)
{
    struct ntk_pkt p = request_template;
    struct ntk_wr w;
    p.xmt = xmt;
    p.version = version;
    ntk_wr_init(&w, out, NTK_SNTP_REQ_MAX);
    int rc = ntk_pkt_encode(&w, &p);
    if (rc == NTK_OK && key_id != 0) {
        rc = append_mac(&w, ks, key_id, out, mac_len);
    }
    return rc == NTK_OK ? (int)ntk_wr_len(&w) : rc;
}

int ntk_sntp_request(struct ntk_sntp_query *q, const uint8_t rnd[8], struct ntk_mac_keys *ks,
                     uint32_t key_id, uint8_t *buf, size_t cap)
{
    return ntk_sntp_request_v(q, rnd, ks, key_id, 4, buf, cap);
}

int ntk_sntp_request_v(struct ntk_sntp_query *q, const uint8_t rnd[8], struct ntk_mac_keys *ks,
                       uint32_t key_id, uint8_t version, uint8_t *buf, size_t cap)
{
    ntk_ts xmt = ts_from_bytes(rnd);
    size_t mac_len;
    if (ntk_ts_is_zero(xmt) || version < 1 || version > 4) {
        return NTK_EINVAL; /* a zero origin means "none" (RFC 5905 §8): no nonce at all */
    }
    int rc = request_mac_len(ks, key_id, &mac_len);
    if (rc != NTK_OK) {
        return rc;
    }
    if (cap < NTK_PKT_HDR_LEN + (key_id ? NTK_PKT_KEYID_LEN + mac_len : 0)) {
        return NTK_ENOSPC;
    }
    uint8_t out[NTK_SNTP_REQ_MAX];
    int len = build_request(xmt, ks, key_id, mac_len, version, out);
    if (len < 0) {
        return len;
    }
    memcpy(buf, out, (size_t)len);
    *q = (struct ntk_sntp_query){.xmt = xmt, .key_id = key_id, .local_precision_log2 = -20};
    return len;
}

/* Test 1: decodes into s->pkt; *l gets the layout. */
static enum ntk_sntp_verdict test_decode(const uint8_t *buf, size_t len,
                                         struct ntk_sntp_sample *s, struct ntk_pkt_layout *l)
{
    if (ntk_pkt_decode(buf, len, &s->pkt, l, &s->pkt_why) != NTK_OK) {
        return s->pkt_why == NTK_PKT_BAD_VERSION ? NTK_SNTP_BAD_VERSION : NTK_SNTP_MALFORMED;
    }
    s->key_id = l->key_id;
    return NTK_SNTP_OK;
}

/* Tests 2-4: a server reply that echoes our nonce (RFC 5905 §8, the "bogus" test). */
static enum ntk_sntp_verdict test_origin(const struct ntk_sntp_query *q,
                                         const struct ntk_pkt *p)
{
    if (p->mode != NTK_MODE_SERVER) {
        return NTK_SNTP_BAD_MODE;
    }
    if (ntk_ts_is_zero(p->org)) {
        return NTK_SNTP_ZERO_ORIGIN;
    }
    if (!q->replay && !ntk_ts_eq(p->org, q->xmt)) {
        return NTK_SNTP_BOGUS_ORIGIN;
    }
    return NTK_SNTP_OK;
}

/* Test 6, run for KoDs too so that sample->authenticated is known for them. The MAC covers
 * everything before the key id (RFC 5905 §9.2, RFC 7822). */
static enum ntk_sntp_verdict test_auth(const struct ntk_sntp_query *q, struct ntk_mac_keys *ks,
                                       const uint8_t *buf, const struct ntk_pkt_layout *l,
                                       struct ntk_sntp_sample *s)
{
    if (q->key_id == 0) {
        return NTK_SNTP_OK;
    }
    if (l->auth == NTK_PKT_AUTH_NONE) {
        return NTK_SNTP_AUTH_MISSING;
    }
    if (l->auth == NTK_PKT_AUTH_NAK) {
        return NTK_SNTP_AUTH_NAK;
    }
    if (l->key_id != q->key_id) {
        return NTK_SNTP_AUTH_KEYID;
    }
    size_t data_len = l->mac_off - NTK_PKT_KEYID_LEN;
    if (ks == NULL ||
        ntk_mac_verify(ks, q->key_id, buf, data_len, buf + l->mac_off, l->mac_len) != NTK_OK) {
        return NTK_SNTP_AUTH_FAILED;
    }
    s->authenticated = true;
    return NTK_SNTP_OK;
}

/* Tests 7-9: the server says it has usable time. */
static enum ntk_sntp_verdict test_sanity(const struct ntk_pkt *p)
{
    if (p->stratum > 15) {
        return NTK_SNTP_STRATUM;
    }
    if (p->leap == NTK_LEAP_UNSYNC) {
        return NTK_SNTP_UNSYNC;
    }
    if (ntk_ts_is_zero(p->xmt)) {
        return NTK_SNTP_ZERO_XMT;
    }
    return NTK_SNTP_OK;
}

/* Records the kiss code of a KoD (RFC 5905 §7.4); ntk_pkt_kiss_code makes it printable. */
static void take_kiss(struct ntk_sntp_sample *s)
{
    s->kiss = ntk_pkt_kiss(&s->pkt);
    (void)ntk_pkt_kiss_code(&s->pkt, s->kiss_code);
}

/* Splits d into whole seconds (rounded down) and a fraction in 0..2^32-1 units, without the
 * implementation-defined right shift of a negative value. */
static void split_dur(ntk_dur d, int64_t *sec, int64_t *frac)
{
    *frac = (int64_t)((uint64_t)d.v & 0xffffffffu);
    *sec = (d.v - *frac) / NTK_ERA_S; /* exact: the low 32 bits are now zero */
}

/* a + sign * b in seconds. Each sum of seconds (|x| <= 2^32) and of fractions (|x| < 2^33)
 * is an exact double, so the one addition below is the only rounding: no int64 overflow and
 * no precision lost to large whole-second parts. */
static double sum_s(ntk_dur a, ntk_dur b, int sign)
{
    int64_t as, af, bs, bf;
    split_dur(a, &as, &af);
    split_dur(b, &bs, &bf);
    return (double)(as + sign * bs) + (double)(af + sign * bf) * 0x1p-32;
}

/* 2^e exactly, for a precision byte (no libm: lib/ links none). */
static double pow2(int8_t e)
{
    double v = 1.0;
    for (int i = 0; i < e; i++) {
        v *= 2.0;
    }
    for (int i = 0; i > e; i--) {
        v *= 0.5;
    }
    return v;
}

static double abs_s(double x)
{
    return x < 0 ? -x : x;
}

/* θ, δ, ε, λ and NTPsec's "+/-" (RFC 5905 §8, the formulas at the top of ntk/sntp.h). */
static void compute(const struct ntk_sntp_query *q, struct ntk_sntp_sample *s)
{
    ntk_dur t21 = ntk_ts_diff(s->t2, s->t1), t34 = ntk_ts_diff(s->t3, s->t4);
    ntk_dur t41 = ntk_ts_diff(s->t4, s->t1), t32 = ntk_ts_diff(s->t3, s->t2);
    double rho_server = pow2(s->pkt.precision_log2);
    double rho_local = pow2(q->local_precision_log2);
    double phi_elapsed = NTK_SNTP_PHI * abs_s(ntk_dur_to_s(t41));
    s->offset_s = sum_s(t21, t34, 1) * 0.5;
    s->delay_s = sum_s(t41, t32, -1);
    s->dispersion_s = rho_server + rho_local + phi_elapsed;
    s->root_delay_s = ntk_short_to_s(s->pkt.root_delay);
    s->root_dispersion_s = ntk_short_to_s(s->pkt.root_disp);
    double floor_delay = s->delay_s > rho_local ? s->delay_s : rho_local;
    s->sync_distance_s =
        (s->root_delay_s + floor_delay) / 2 + s->root_dispersion_s + s->dispersion_s;
    s->error_bound_s = abs_s(s->delay_s / 2 + phi_elapsed + rho_server);
}

/* Tests 5-9 on a reply that passed 1-4, then the arithmetic. */
static enum ntk_sntp_verdict check_reply(const struct ntk_sntp_query *q,
                                         struct ntk_mac_keys *ks, const uint8_t *buf,
                                         const struct ntk_pkt_layout *l, ntk_ts t4,
                                         struct ntk_sntp_sample *s)
{
    s->t1 = q->replay ? s->pkt.org : q->t1;
    s->t2 = s->pkt.rec;
    s->t3 = s->pkt.xmt;
    s->t4 = t4;
    enum ntk_sntp_verdict v = test_auth(q, ks, buf, l, s);
    if (ntk_pkt_is_kod(&s->pkt)) {
        take_kiss(s);
        return NTK_SNTP_KOD;
    }
    if (v == NTK_SNTP_OK) {
        v = test_sanity(&s->pkt);
    }
    if (v == NTK_SNTP_OK) {
        compute(q, s);
    }
    return v;
}

enum ntk_sntp_verdict ntk_sntp_check(const struct ntk_sntp_query *q, struct ntk_mac_keys *ks,
                                     const uint8_t *buf, size_t len, ntk_ts t4,
                                     struct ntk_sntp_sample *sample)
{
    struct ntk_pkt_layout l;
    memset(sample, 0, sizeof *sample);
    enum ntk_sntp_verdict v = test_decode(buf, len, sample, &l);
    if (v == NTK_SNTP_OK) {
        v = test_origin(q, &sample->pkt);
    }
    return v == NTK_SNTP_OK ? check_reply(q, ks, buf, &l, t4, sample) : v;
}

/* Name and text of each verdict, in enum order. */
static const char *const verdict_names[NTK_SNTP_VERDICT_COUNT][2] = {
    [NTK_SNTP_OK] = {"ok", "reply accepted"},
    [NTK_SNTP_MALFORMED] = {"malformed", "malformed packet"},
    [NTK_SNTP_BAD_VERSION] = {"bad_version", "unsupported NTP version"},
    [NTK_SNTP_BAD_MODE] = {"bad_mode", "not a server reply (mode is not 4)"},
    [NTK_SNTP_ZERO_ORIGIN] = {"zero_origin", "origin timestamp is zero"},
    [NTK_SNTP_BOGUS_ORIGIN] = {"bogus_origin",
                               "origin timestamp does not match the request (not our reply)"},
    [NTK_SNTP_KOD] = {"kod", "kiss-o'-death from the server"},
    [NTK_SNTP_AUTH_MISSING] = {"auth_missing", "reply carries no MAC"},
    [NTK_SNTP_AUTH_NAK] = {"auth_nak", "server sent a crypto-NAK (it did not accept our key)"},
    [NTK_SNTP_AUTH_KEYID] = {"auth_keyid", "reply MAC uses another key id"},
    [NTK_SNTP_AUTH_FAILED] = {"auth_failed", "reply MAC does not verify"},
    [NTK_SNTP_STRATUM] = {"stratum", "server stratum above 15"},
    [NTK_SNTP_UNSYNC] = {"unsync", "server not synchronized (leap indicator 3)"},
    [NTK_SNTP_ZERO_XMT] = {"zero_xmt", "transmit timestamp is zero"},
};

/* Entry k of v's row, or "unknown" outside the enum. */
static const char *verdict_entry(enum ntk_sntp_verdict v, int k)
{
    if ((unsigned)v >= NTK_SNTP_VERDICT_COUNT) {
        return "unknown";
    }
    return verdict_names[v][k];
}

const char *ntk_sntp_verdict_name(enum ntk_sntp_verdict v)
{
    return verdict_entry(v, 0);
}

const char *ntk_sntp_verdict_text(enum ntk_sntp_verdict v)
{
    return verdict_entry(v, 1);
}

/* -1, 0 or 1 as a < b, a == b, a > b. */
static int cmp_double(double a, double b)
{
    return (a > b) - (a < b);
}

int ntk_sntp_compare(const struct ntk_sntp_sample *a, const struct ntk_sntp_sample *b)
{
    if (a->pkt.stratum != b->pkt.stratum) {
        return a->pkt.stratum < b->pkt.stratum ? -1 : 1;
    }
    int c = cmp_double(a->sync_distance_s, b->sync_distance_s);
    if (c == 0) {
        c = cmp_double(a->root_delay_s, b->root_delay_s);
    }
    return c != 0 ? c : cmp_double(a->delay_s, b->delay_s);
}
