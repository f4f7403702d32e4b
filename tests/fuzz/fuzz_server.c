/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness for daemon/core/server.c (with restrict.c, mru.c and ntss.c): srv_handle on
 * arbitrary datagrams from a source with arbitrary restrict flags, repeated to reach the rate
 * limiter, with NTS served from one fixed master key (the nts_* seeds are real NTS requests
 * whose cookie was made under it: c2s key 0x01..., s2c key 0x02...).
 * Input: flags (2 bytes, little-endian), source port (2), repeats (1), then the datagram.
 * Invariants: a reply is never longer than the request, comes only for mode 3 (or NTPv1
 * mode 0), finishes, and decodes as mode 4 of the request's version with a MAC that
 * verifies, or for NTS with an Authenticator that verifies with the cookie's s2c key and
 * fresh cookies that open (a NAK: KoD NTSN, nothing sealed); mode 6 alone is passed on;
 * every drop has a named reason. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "ntk/err.h"
#include "ntk/nts_ef.h"
#include "ntk/pkt.h"
#include "ntss.h"
#include "server.h"

#include "fuzz_symkeys.h"

#include "poison.h"

static const char nts_key_file[] =
    "4e545331 1700000000 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";

static void counter_rng(void *ctx, uint8_t *p, size_t n)
{
    uint8_t *c = ctx;
    for (size_t i = 0; i < n; i++) {
        p[i] = (*c)++;
    }
}

static uint8_t rng_ctr;
static const struct eng_rng nts_rng = {&rng_ctr, counter_rng};

/* The NTS state, loaded once and kept (reachable, not a leak). */
static struct ntss *fuzz_ntss(void)
{
    static struct ntss *s;
    if (!s) {
        s = ntss_new(&nts_rng);
        FUZZ_CHECK(s && ntss_load(s, nts_key_file, sizeof nts_key_file - 1, NULL, 0) == 1);
    }
    return s;
}

/* An NTS reply: its Authenticator verifies with the s2c key the request's cookie holds, and
 * every fresh cookie opens to the same keys. */
static void check_nts(const uint8_t *q, size_t qlen, const uint8_t *out, size_t len,
                      const struct srv_verdict *v)
{
    struct ntk_nts_request r;
    FUZZ_CHECK(ntk_nts_parse_request(q, qlen, NTK_PKT_HDR_LEN, &r) == 1);
    FUZZ_CHECK(v->seal.n_cookies <= 1 + r.n_placeholders);
    struct ntss_cookie_keys ck;
    FUZZ_CHECK(ntss_open_cookie(fuzz_ntss(), r.cookie, r.cookie_len, &ck) == 0);
    if (r.uid_len != NTK_NTS_UID_LEN) {
        return; /* ntk_nts_check_reply takes our own UID length only */
    }
    struct ntk_aead_key *s2c = NULL;
    FUZZ_CHECK(ntk_aead_key_init(&s2c, ck.aead, ck.s2c, ck.key_len) == 0);
    static struct ntk_nts_reply rep;
    FUZZ_CHECK(ntk_nts_check_reply(out, len, r.uid, false, s2c, &rep) == NTK_NTS_OK);
    ntk_aead_key_free(s2c);
    FUZZ_CHECK(rep.n_cookies == v->seal.n_cookies);
    for (size_t i = 0; i < rep.n_cookies; i++) {
        struct ntss_cookie_keys k2;
        FUZZ_CHECK(rep.cookies[i].len == r.cookie_len);
        FUZZ_CHECK(ntss_open_cookie(fuzz_ntss(), rep.cookies[i].b, rep.cookies[i].len, &k2) ==
                   0);
        FUZZ_CHECK(k2.aead == ck.aead && memcmp(k2.s2c, ck.s2c, ck.key_len) == 0);
    }
}

static void check_reply(struct srv *s, const uint8_t *q, size_t qlen, uint8_t *out, size_t cap,
                        struct srv_verdict *v)
{
    FUZZ_CHECK(v->why == SRV_DROP_NONE);
    FUZZ_CHECK(v->len >= NTK_PKT_HDR_LEN && v->len <= qlen && v->len <= SRV_REPLY_MAX);
    unsigned mode = q[0] & 7, ver = (q[0] >> 3) & 7;
    FUZZ_CHECK(mode == 3 || (mode == 0 && ver == 1));
    FUZZ_CHECK(srv_finish(s, v, out, cap, ntk_ts_make(0xeeb22b00, 1)) == 0);
    struct ntk_pkt p;
    struct ntk_pkt_layout l;
    FUZZ_CHECK(ntk_pkt_decode(out, v->len, &p, &l, NULL) == 0);
    FUZZ_CHECK(p.mode == NTK_MODE_SERVER && p.version == ver);
    FUZZ_CHECK(memcmp(out + 24, q + 40, 8) == 0); /* origin = the request's transmit */
    if (v->key_id) {
        FUZZ_CHECK(!v->nts && !v->nak);
        FUZZ_CHECK(l.auth == NTK_PKT_AUTH_MAC && l.key_id == v->key_id);
        FUZZ_CHECK(ntk_mac_verify(fuzz_symkeys(), v->key_id, out, 48, out + l.mac_off,
                                  l.mac_len) == 0);
    } else if (v->nak) {
        FUZZ_CHECK(p.stratum == 0 && memcmp(out + 12, "NTSN", 4) == 0 && l.ef_count == 1);
    } else if (v->nts) {
        FUZZ_CHECK(l.auth == NTK_PKT_AUTH_NONE && l.ef_count == 2); /* no legacy MAC */
        check_nts(q, qlen, out, v->len, v);
    } else {
        FUZZ_CHECK(v->len == NTK_PKT_HDR_LEN);
    }
    if (v->kod) {
        FUZZ_CHECK(p.stratum == 0 && p.leap == NTK_LEAP_UNSYNC && !v->nts && !v->nak);
    }
}

static void one(struct srv *s, const struct snap_system *sys, const struct srv_req *req)
{
    static uint8_t out[SRV_REPLY_MAX];
    memset(out, 0xa5, sizeof out);
    static struct srv_verdict v;
    enum srv_action a = srv_handle(s, sys, req, out, sizeof out, &v);
    FUZZ_CHECK(a == v.action);
    if (a == SRV_REPLY) {
        check_reply(s, req->buf, req->len, out, sizeof out, &v);
    } else if (a == SRV_CONTROL) {
        FUZZ_CHECK(req->len > 0 && (req->buf[0] & 7) == 6 && !(v.rflags & RST_IGNORE));
    } else {
        FUZZ_CHECK(v.why > SRV_DROP_NONE && v.why < SRV_DROP_COUNT && v.len == 0);
        FUZZ_CHECK(strcmp(srv_drop_name(v.why), "unknown") != 0);
        FUZZ_CHECK(out[0] == 0xa5);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5) {
        return 0;
    }
    uint32_t flags = (uint32_t)data[0] | (uint32_t)data[1] << 8;
    const uint8_t ip[4] = {192, 0, 2, 1};
    struct srv_req req = {.buf = data + 5, .len = size - 5, .rx_ts = ntk_ts_make(1, 2)};
    ntk_addr_set_v4(&req.src, ip, (uint16_t)(data[2] | data[3] << 8));
    struct mru_cfg cfg;
    mru_cfg_default(&cfg);
    cfg.maxdepth = 16;
    cfg.burst = 2;
    static const uint8_t seed[16] = {0};
    struct srv s = {.rst = rst_new(),
                    .mru = mru_new(&cfg, seed),
                    .keys = fuzz_symkeys(),
                    .nts = fuzz_ntss()};
    FUZZ_CHECK(s.rst && s.mru);
    struct ntk_addr net = req.src;
    FUZZ_CHECK(rst_add(s.rst, &net, 24, flags & ~(uint32_t)RST_FLAKE) == 0);
    struct snap_system sys = {.leap = (enum ntk_leap)(data[4] >> 6),
                              .stratum = data[4] & 31,
                              .precision_log2 = -20,
                              .refid = 0x7f000001,
                              .root_delay_s = 0.5,
                              .root_disp_s = 70000};
    unsigned repeats = 1 + (data[4] & 7);
    for (unsigned i = 0; i < repeats; i++) {
        req.rx_mono_ns = (int64_t)i * 100000000;
        one(&s, &sys, &req);
    }
    FUZZ_CHECK(s.st.received == repeats);
    rst_free(s.rst);
    mru_free(s.mru);
    srv_release(&s);
    return 0;
}
