/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzzes ntpd's mode-6 responder (daemon/core/ctlsrv.c) with arbitrary datagrams from
 * arbitrary kinds of source. Input: one control byte, then the datagram. Control bits 0-1:
 * source (0 a remote unproven address, 1 loopback, 2 a network opened by a restrict rule,
 * 3 a remote address with restrict flags from bits 2-4); bit 5: the harness puts a valid
 * nonce item in front of the data (reaching READ_MRU's paging). Invariants: every response
 * datagram decodes as a response with the request's opcode and sequence; at most
 * NTK_CTL_FRAGS_MAX of them; and an unsigned request from a remote unproven address never
 * gets more bytes than it had (the anti-amplification rule). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctlsrv.h"
#include "ctlv.h"
#include "fuzz.h"
#include "mru.h"
#include "ntk/ctl.h"
#include "ntk/err.h"
#include "restrict.h"

#include "poison.h"

#define NS 1000000000LL

static struct ntk_mac_keys *keys;
static struct rst_table *rst;
static struct mru *mru;
static struct snap_system sys;
static struct snap_counters ctr;
static struct snap_assoc assocs[2];
static struct srv_stats srv;
static struct ctlv_io io;
static struct ctlv_kernel kern;
static struct ctlv_src vars;
static struct ctlsrv_iface ifs[1];

static struct ntk_addr v4(uint32_t ip, uint16_t port)
{
    struct ntk_addr a;
    memset(&a, 0, sizeof a);
    const uint8_t b[4] = {(uint8_t)(ip >> 24), (uint8_t)(ip >> 16), (uint8_t)(ip >> 8),
                          (uint8_t)ip};
    ntk_addr_set_v4(&a, b, port);
    return a;
}

static void init(void)
{
    struct ntk_mac_key k = {.keyid = 3, .type = NTK_MAC_MD5, .secret_len = 4};
    memcpy(k.secret, "fuzz", 4);
    if (ntk_mac_keys_new(&k, 1, &keys) != 0)
        abort();
    rst = rst_new();
    struct ntk_addr net = v4(0x0a630000, 0);
    if (rst == NULL || rst_add(rst, &net, 16, 0) != 0)
        abort();
    struct mru_cfg c;
    mru_cfg_default(&c);
    c.maxdepth = 64;
    static const uint8_t seed[16] = {1};
    mru = mru_new(&c, seed);
    if (mru == NULL)
        abort();
    for (uint32_t i = 0; i < 40; i++) {
        struct ntk_addr a = v4(0xcb007100 + i, (uint16_t)(1000 + i));
        (void)mru_observe(mru, &a, (int64_t)i * NS, 3, 4, 0);
    }
    sys.stratum = 16;
    sys.leap = NTK_LEAP_UNSYNC;
    for (size_t i = 0; i < 2; i++) {
        assocs[i].id = (uint32_t)(1 + i);
        assocs[i].addr = v4(0x7f000001, 123);
        assocs[i].stratum = 2;
    }
    vars = (struct ctlv_src){.sys = &sys,
                             .ctr = &ctr,
                             .assocs = assocs,
                             .nassocs = 2,
                             .srv = &srv,
                             .io = &io,
                             .kern = &kern,
                             .version = "ntpd ntpkit-fuzz",
                             .processor = "x86_64",
                             .system = "Linux",
                             .release = "6"};
    ifs[0] = (struct ctlsrv_iface){.addr = v4(0x7f000001, 123), .name = "lo", .enabled = true};
}

/* The request with "nonce=<valid>, " in front of its data (the nonce fetched from src);
 * returns its length or 0. */
static size_t with_nonce(struct ctlsrv *s, const struct ctlsrv_env *env, struct ctlsrv_req q,
                         uint8_t *out)
{
    struct ntk_ctl_msg m;
    if (ntk_ctl_decode(q.buf, q.len, &m) != 0 || m.hdr.response)
        return 0;
    uint8_t req[NTK_CTL_DATAGRAM_MAX], resp[NTK_CTL_DATAGRAM_MAX];
    struct ntk_ctl_hdr h = {.version = 2, .opcode = NTK_CTL_OP_REQ_NONCE, .count = 64};
    char pad[64];
    memset(pad, ' ', sizeof pad);
    int n = ntk_ctl_encode(&h, (const uint8_t *)pad, NULL, 0, req, sizeof req);
    q.buf = req;
    q.len = (size_t)n;
    if (ctlsrv_handle(s, env, &q) != 1)
        return 0;
    n = ctlsrv_next(s, NULL, resp, sizeof resp);
    struct ntk_ctl_msg r;
    if (n <= 0 || ntk_ctl_decode(resp, (size_t)n, &r) != 0 || r.hdr.error || r.hdr.count < 38)
        return 0;
    char data[NTK_CTL_DATA_MAX];
    size_t len = 38;
    memcpy(data, r.data, 38);
    data[len++] = ',';
    size_t more = m.hdr.count < sizeof data - len ? m.hdr.count : sizeof data - len;
    memcpy(data + len, m.data, more);
    len += more;
    h = m.hdr;
    h.count = (uint16_t)len;
    n = ntk_ctl_encode(&h, (const uint8_t *)data, NULL, 0, out, NTK_CTL_DATAGRAM_MAX);
    return n > 0 ? (size_t)n : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (keys == NULL)
        init();
    if (size < 1)
        return 0;
    uint8_t ctl = data[0];
    struct ctlsrv_cfg cfg = {.controlkey = 3, .mru_rows = 64, .secret = {7}};
    struct ctlsrv *s = ctlsrv_new(&cfg);
    if (s == NULL)
        abort();
    static const uint32_t srcs[4] = {0x0a000001, 0x7f000001, 0x0a630001, 0xc0000201};
    static const uint32_t flag_sets[8] = {0,
                                          RST_NOMODIFY,
                                          RST_NOMRULIST,
                                          RST_NOQUERY,
                                          RST_LIMITED | RST_KOD,
                                          RST_NOMODIFY | RST_NOMRULIST,
                                          RST_IGNORE,
                                          RST_NOTRUST};
    struct ctlsrv_env env = {
        .keys = keys, .vars = &vars, .mru = mru, .rst = rst, .ifs = ifs, .nifs = 1};
    struct ctlsrv_req q = {.buf = data + 1, .len = size - 1, .now_mono_ns = 100 * NS};
    q.src = v4(srcs[ctl & 3], 4000);
    q.local = ctlsrv_is_loopback(&q.src);
    q.opened = ctlsrv_opened(rst, &q.src);
    q.rflags = (ctl & 3) == 3 ? flag_sets[(ctl >> 2) & 7] : 0;
    q.now = ntk_ts_make(3900000100u, 0);
    static uint8_t nreq[NTK_CTL_DATAGRAM_MAX];
    bool proven = false;
    if (ctl & 0x20) {
        size_t n = with_nonce(s, &env, q, nreq);
        if (n > 0) {
            q.buf = nreq;
            q.len = n;
            proven = true;
        }
    }
    struct ntk_ctl_msg m;
    bool is_signed = ntk_ctl_decode(q.buf, q.len, &m) == 0 && m.has_mac &&
                     ntk_ctl_verify(keys, q.buf, q.len, &m, NULL) == 0;
    int n = ctlsrv_handle(s, &env, &q);
    FUZZ_CHECK(n >= 0 && n <= NTK_CTL_FRAGS_MAX);
    size_t out = 0;
    static uint8_t buf[NTK_CTL_DATAGRAM_MAX];
    for (int i = 0; i < n; i++) {
        int len = ctlsrv_next(s, keys, buf, sizeof buf);
        FUZZ_CHECK(len >= NTK_CTL_HEADER_LEN);
        struct ntk_ctl_msg r;
        FUZZ_CHECK(ntk_ctl_decode(buf, (size_t)len, &r) == 0);
        FUZZ_CHECK(r.hdr.response && r.hdr.opcode == m.hdr.opcode &&
                   r.hdr.sequence == m.hdr.sequence);
        FUZZ_CHECK(r.hdr.more == (i + 1 < n));
        out += (size_t)len;
    }
    FUZZ_CHECK(ctlsrv_next(s, keys, buf, sizeof buf) == 0);
    if (((ctl & 3) == 0 || (ctl & 3) == 3) && !proven && !is_signed)
        FUZZ_CHECK(out <= q.len);
    ctlsrv_free(s);
    return 0;
}
