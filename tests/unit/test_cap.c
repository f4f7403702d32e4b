/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of ntpcap's analyzer core (cli/ntpcap/cap_*.c) on frames built here: every link
 * type, VLAN tags, IPv4 options and IPv6 extension headers, every truncation, pairing
 * (out of order, unanswered, timeouts, a full table), mode-6 reassembly, mode-7 monlist,
 * every anomaly code with a minimal sequence (and none on normal traffic), flow eviction,
 * exact offsets, and the packets/s ceiling of cap_feed over a real capture. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>
#include <math.h>
#include <pcap/pcap.h>

#include "cap.h"
#include "cap_anom.h"
#include "cap_decode.h"
#include "cap_flow.h"
#include "cap_pair.h"
#include "ntk/buf.h"
#include "ntk/ctl.h"
#include "ntk/ef.h"
#include "ntk/err.h"
#include "ntk/pkt.h"
#include "testutil.h"

#include "poison.h"

enum { FRAME_MAX = 4096 };

/* Unix time of the synthetic captures (2026-11-18). */
#define BASE_S 1795000000LL

/* ---- frame builder ---- */

struct opt {
    int link;        /* enum cap_link */
    bool null_be;    /* CAP_LINK_NULL family big-endian */
    int vlans;       /* 802.1Q tags (the first 802.1ad when 2) */
    size_t ip4_opts; /* IPv4 option bytes (a multiple of 4) */
    unsigned v6_ext; /* bits: 1 hop-by-hop, 2 routing, 4 destination options */
    int frag;        /* 0 none, 1 first fragment, 2 a later fragment */
    bool tcp;        /* TCP instead of UDP */
    uint8_t tcp_flags;
};

static void put_link(struct ntk_wr *w, const struct opt *o, bool v6)
{
    uint16_t et = v6 ? 0x86dd : 0x0800;
    switch (o->link) {
    case CAP_LINK_NULL:
        if (o->null_be) {
            ntk_wr_be32(w, v6 ? 30 : 2);
        } else {
            ntk_wr_u8(w, v6 ? 30 : 2);
            ntk_wr_zero(w, 3);
        }
        break;
    case CAP_LINK_EN10MB:
        ntk_wr_zero(w, 12);
        for (int i = 0; i < o->vlans; i++) {
            ntk_wr_be16(w, o->vlans == 2 && i == 0 ? 0x88a8 : 0x8100);
            ntk_wr_be16(w, (uint16_t)(100 + i));
        }
        ntk_wr_be16(w, et);
        break;
    case CAP_LINK_LINUX_SLL:
        ntk_wr_be16(w, 0);
        ntk_wr_be16(w, 772);
        ntk_wr_be16(w, 0);
        ntk_wr_zero(w, 8);
        ntk_wr_be16(w, et);
        break;
    case CAP_LINK_LINUX_SLL2:
        ntk_wr_be16(w, et);
        ntk_wr_be16(w, 0);
        ntk_wr_be32(w, 1);
        ntk_wr_be16(w, 772);
        ntk_wr_u8(w, 0);
        ntk_wr_u8(w, 0);
        ntk_wr_zero(w, 8);
        break;
    default:
        break;
    }
}

/* Builds a frame carrying n payload bytes from src to dst (ports included); returns its
 * length and writes the offset of the payload to *hdr. */
static size_t build(uint8_t *out, const struct opt *o, const struct ntk_addr *src,
                    const struct ntk_addr *dst, const uint8_t *pl, size_t n, size_t *hdr)
{
    struct ntk_wr w;
    ntk_wr_init(&w, out, FRAME_MAX);
    bool v6 = src->family == NTK_ADDR_V6;
    put_link(&w, o, v6);
    size_t l4 = (o->tcp ? 20 : 8) + n;
    uint8_t proto = o->tcp ? 6 : 17;
    if (!v6) {
        ntk_wr_u8(&w, (uint8_t)(0x45 + o->ip4_opts / 4));
        ntk_wr_u8(&w, 0xb8);
        ntk_wr_be16(&w, (uint16_t)(20 + o->ip4_opts + l4));
        ntk_wr_be16(&w, 1);
        ntk_wr_be16(&w, o->frag == 1 ? 0x2000 : o->frag == 2 ? 0x0010 : 0x4000);
        ntk_wr_u8(&w, 64);
        ntk_wr_u8(&w, proto);
        ntk_wr_be16(&w, 0);
        ntk_wr_bytes(&w, src->ip, 4);
        ntk_wr_bytes(&w, dst->ip, 4);
        for (size_t i = 0; i < o->ip4_opts; i++) {
            ntk_wr_u8(&w, 1); /* NOP */
        }
    } else {
        unsigned ext = o->v6_ext;
        size_t nx = (size_t)__builtin_popcount(ext) + (o->frag ? 1 : 0);
        ntk_wr_be32(&w, 0x60000000u | (46u << 22));
        ntk_wr_be16(&w, (uint16_t)(l4 + 8 * nx));
        static const uint8_t codes[] = {0, 43, 60};
        uint8_t chain[4];
        size_t k = 0;
        for (int i = 0; i < 3; i++) {
            if (ext & (1u << i)) {
                chain[k++] = codes[i];
            }
        }
        if (o->frag) {
            chain[k++] = 44;
        }
        ntk_wr_u8(&w, k ? chain[0] : proto);
        ntk_wr_u8(&w, 64);
        ntk_wr_bytes(&w, src->ip, 16);
        ntk_wr_bytes(&w, dst->ip, 16);
        for (size_t i = 0; i < k; i++) {
            ntk_wr_u8(&w, i + 1 < k ? chain[i + 1] : proto);
            ntk_wr_u8(&w, 0);
            if (chain[i] == 44) {
                ntk_wr_be16(&w, o->frag == 1 ? 1 : (uint16_t)(8 << 3));
                ntk_wr_be32(&w, 99);
            } else {
                ntk_wr_zero(&w, 6);
            }
        }
    }
    ntk_wr_be16(&w, src->port);
    ntk_wr_be16(&w, dst->port);
    if (o->tcp) {
        ntk_wr_be32(&w, 1000);
        ntk_wr_be32(&w, 0);
        ntk_wr_u8(&w, 0x50);
        ntk_wr_u8(&w, o->tcp_flags);
        ntk_wr_be16(&w, 65535);
        ntk_wr_be32(&w, 0);
    } else {
        ntk_wr_be16(&w, (uint16_t)l4);
        ntk_wr_be16(&w, 0);
    }
    *hdr = ntk_wr_len(&w);
    ntk_wr_bytes(&w, pl, n);
    assert_int_equal(ntk_wr_err(&w), 0);
    return ntk_wr_len(&w);
}

static struct ntk_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
    struct ntk_addr x;
    memset(&x, 0, sizeof x);
    const uint8_t ip[4] = {a, b, c, d};
    ntk_addr_set_v4(&x, ip, port);
    return x;
}

static struct ntk_addr v6(uint8_t last, uint16_t port)
{
    struct ntk_addr x;
    memset(&x, 0, sizeof x);
    uint8_t ip[16] = {0x20, 0x01, 0x0d, 0xb8};
    ip[15] = last;
    ntk_addr_set_v6(&x, ip, port, 0);
    return x;
}

/* ---- NTP payloads ---- */

static ntk_ts at(double s)
{
    int64_t whole = (int64_t)floor(s);
    struct timespec t = {.tv_sec = (time_t)(BASE_S + whole),
                         .tv_nsec = (long)((s - (double)whole) * 1e9 + 0.5)};
    return ntk_ts_from_timespec(&t);
}

struct ntp {
    uint8_t leap, version, mode, stratum;
    uint32_t refid;
    ntk_ts org, rec, xmt;
};

static size_t ntp(uint8_t *b, const struct ntp *n)
{
    struct ntk_pkt p;
    memset(&p, 0, sizeof p);
    p.leap = (enum ntk_leap)n->leap;
    p.version = n->version ? n->version : 4;
    p.mode = (enum ntk_mode)n->mode;
    p.stratum = n->stratum;
    p.poll_log2 = 6;
    p.precision_log2 = -20;
    p.refid = n->refid;
    p.org = n->org;
    p.rec = n->rec;
    p.xmt = n->xmt;
    struct ntk_wr w;
    ntk_wr_init(&w, b, FRAME_MAX);
    assert_int_equal(ntk_pkt_encode(&w, &p), 0);
    return ntk_wr_len(&w);
}

/* ---- the analyzer with a recording sink ---- */

struct rec {
    unsigned anom[CAP_A_COUNT]; /* reported lines per code */
    unsigned anom_lines;        /* all lines */
    unsigned summaries;         /* frame-0 lines */
    unsigned packets, exchanges, flows, evicted_flows;
    struct cap_exch last; /* the last exchange (pointers cleared) */
    struct cap_pkt last_req, last_resp;
    struct cap_flow last_flow;
    char last_detail[192];
    char last_line[CAP_REQ_LINE_MAX + 1]; /* the last exchange's req_line ("" when NULL) */
};

static int code_index(const char *code)
{
    const struct cap_anom_info *t = cap_anom_codes();
    for (int i = 0; t[i].code; i++) {
        if (strcmp(t[i].code, code) == 0) {
            return i;
        }
    }
    fail_msg("unknown code %s", code);
    return -1;
}

static void r_packet(void *ctx, const struct cap_pkt *p)
{
    (void)p;
    ((struct rec *)ctx)->packets++;
}

static void r_exchange(void *ctx, const struct cap_exch *x)
{
    struct rec *r = ctx;
    r->exchanges++;
    r->last = *x;
    r->last_req = *x->req;
    r->last_resp = *x->resp;
    r->last.req = r->last.resp = NULL;
    r->last.req_line = NULL;
    assert_true(x->req_line_len <= CAP_REQ_LINE_MAX);
    memcpy(r->last_line, x->req_line ? x->req_line : "", x->req_line ? x->req_line_len : 0);
    r->last_line[x->req_line ? x->req_line_len : 0] = '\0';
}

static void r_anomaly(void *ctx, const struct cap_anom *a)
{
    struct rec *r = ctx;
    r->anom[code_index(a->code)]++;
    r->anom_lines++;
    r->summaries += a->frame == 0;
    assert_int_equal(a->sev, cap_anom_codes()[code_index(a->code)].sev);
    snprintf(r->last_detail, sizeof r->last_detail, "%s", a->detail);
}

static void r_flow(void *ctx, const struct cap_flow *f)
{
    struct rec *r = ctx;
    r->flows++;
    r->evicted_flows += f->evicted;
    r->last_flow = *f;
}

struct t {
    struct cap *c;
    struct rec r;
    double now; /* seconds after BASE_S */
};

static void t_init(struct t *t, size_t max_flows, size_t max_pending)
{
    memset(t, 0, sizeof *t);
    struct cap_cfg cfg;
    cap_cfg_default(&cfg);
    cfg.max_flows = max_flows;
    cfg.max_pending = max_pending;
    struct cap_sink s = {.ctx = &t->r,
                         .packet = r_packet,
                         .exchange = r_exchange,
                         .anomaly = r_anomaly,
                         .flow = r_flow};
    t->c = cap_new(&cfg, &s);
    assert_non_null(t->c);
}

/* Feeds a UDP payload as a raw IPv4/IPv6 frame at now (seconds after BASE_S). */
static enum cap_what feed_at(struct t *t, const struct ntk_addr *s, const struct ntk_addr *d,
                             const uint8_t *pl, size_t n, double now)
{
    uint8_t f[FRAME_MAX];
    size_t hdr;
    struct opt o = {.link = CAP_LINK_RAW};
    size_t len = build(f, &o, s, d, pl, n, &hdr);
    int64_t whole = (int64_t)floor(now);
    t->now = now;
    return cap_feed(t->c, CAP_LINK_RAW, f, len, len, BASE_S + whole,
                    (uint32_t)((now - (double)whole) * 1e9 + 0.5));
}

/* feed_at through cap_feed_decoded, with line attached to the frame (cap_dec.line). */
static void feed_with_line(struct t *t, const struct ntk_addr *s, const struct ntk_addr *d,
                           const uint8_t *pl, size_t n, double now, const char *line,
                           size_t line_len)
{
    uint8_t f[FRAME_MAX];
    size_t hdr;
    struct opt o = {.link = CAP_LINK_RAW};
    size_t len = build(f, &o, s, d, pl, n, &hdr);
    struct cap_pkt p;
    struct cap_dec dec;
    assert_int_equal(cap_decode_frame(CAP_LINK_RAW, f, len, len, &p, &dec), CAP_NTP);
    assert_null(dec.line); /* the decoder attaches nothing */
    dec.line = line;
    dec.line_len = line_len;
    int64_t whole = (int64_t)floor(now);
    t->now = now;
    cap_hash_frame(&p, &dec); /* as the reading thread does */
    cap_feed_decoded(t->c, &p, &dec, len, BASE_S + whole,
                     (uint32_t)((now - (double)whole) * 1e9 + 0.5));
}

static const struct cap_stats *t_end(struct t *t)
{
    cap_finish(t->c);
    return cap_stats(t->c);
}

static void t_free(struct t *t)
{
    const struct cap_stats *st = cap_stats(t->c);
    assert_int_equal(st->frames,
                     st->ntp + st->ntske + st->other + st->truncated + st->malformed);
    cap_destroy(t->c);
}

static unsigned total_anoms(const struct rec *r)
{
    unsigned n = 0;
    for (int i = 0; i < CAP_A_COUNT; i++) {
        n += r->anom[i];
    }
    return n;
}

/* A normal client/server exchange at now: request with T1, answer 2 ms later. */
static void exchange_at(struct t *t, const struct ntk_addr *cl, const struct ntk_addr *sv,
                        double now, uint8_t stratum, uint32_t refid)
{
    uint8_t b[FRAME_MAX];
    struct ntp q = {.mode = 3, .xmt = at(now + 0.0001)};
    feed_at(t, cl, sv, b, ntp(b, &q), now);
    struct ntp r = {.mode = 4,
                    .stratum = stratum,
                    .refid = refid,
                    .org = q.xmt,
                    .rec = at(now + 0.001),
                    .xmt = at(now + 0.0011)};
    feed_at(t, sv, cl, b, ntp(b, &r), now + 0.002);
}

/* ---- decoding ---- */

static void check_decoded(const uint8_t *f, size_t len, int link, const struct ntk_addr *s,
                          const struct ntk_addr *d, size_t plen)
{
    struct cap_pkt p;
    struct cap_dec dec;
    assert_int_equal(cap_decode_frame(link, f, len, len, &p, &dec), CAP_NTP);
    assert_true(ntk_addr_eq(&p.src, s));
    assert_true(ntk_addr_eq(&p.dst, d));
    assert_int_equal(p.payload_len, plen);
    assert_false(p.payload_truncated);
    assert_true(p.decoded);
    assert_int_equal(p.mode, 3);
    assert_int_equal(p.version, 4);
    assert_int_equal(p.ttl, 64);
}

static void link_types(void **state)
{
    (void)state;
    uint8_t b[FRAME_MAX], f[FRAME_MAX];
    struct ntp q = {.mode = 3, .xmt = at(1)};
    size_t n = ntp(b, &q), hdr;
    const int links[] = {CAP_LINK_NULL, CAP_LINK_EN10MB, CAP_LINK_RAW, CAP_LINK_LINUX_SLL,
                         CAP_LINK_LINUX_SLL2};
    const size_t link_len[] = {4, 14, 0, 16, 20};
    for (int fam = 0; fam < 2; fam++) {
        struct ntk_addr s = fam ? v6(1, 40000) : v4(10, 0, 0, 1, 40000);
        struct ntk_addr d = fam ? v6(2, 123) : v4(10, 0, 0, 2, 123);
        for (size_t i = 0; i < 5; i++) {
            for (int be = 0; be < (links[i] == CAP_LINK_NULL ? 2 : 1); be++) {
                struct opt o = {.link = links[i], .null_be = be};
                size_t len = build(f, &o, &s, &d, b, n, &hdr);
                assert_int_equal(hdr, link_len[i] + (fam ? 40 : 20) + 8);
                check_decoded(f, len, links[i], &s, &d, n);
            }
        }
        for (int tags = 1; tags <= 2; tags++) {
            struct opt o = {.link = CAP_LINK_EN10MB, .vlans = tags};
            size_t len = build(f, &o, &s, &d, b, n, &hdr);
            assert_int_equal(hdr, 14 + 4 * (size_t)tags + (fam ? 40 : 20) + 8);
            check_decoded(f, len, CAP_LINK_EN10MB, &s, &d, n);
        }
    }
    /* An unknown link type and a non-IP ethertype are OTHER. */
    struct cap_pkt p;
    struct cap_dec dec;
    assert_int_equal(cap_decode_frame(147, b, n, n, &p, &dec), CAP_OTHER);
    uint8_t arp[60] = {[12] = 0x08, [13] = 0x06};
    assert_int_equal(cap_decode_frame(CAP_LINK_EN10MB, arp, 60, 60, &p, &dec), CAP_OTHER);
}

static void ip_options_and_ext_headers(void **state)
{
    (void)state;
    uint8_t b[FRAME_MAX], f[FRAME_MAX];
    struct ntp q = {.mode = 3, .xmt = at(1)};
    size_t n = ntp(b, &q), hdr, len;
    struct cap_pkt p;
    struct cap_dec dec;
    struct ntk_addr s4 = v4(10, 0, 0, 1, 40000), d4 = v4(10, 0, 0, 2, 123);
    for (size_t opts = 4; opts <= 40; opts += 12) {
        struct opt o = {.link = CAP_LINK_RAW, .ip4_opts = opts};
        len = build(f, &o, &s4, &d4, b, n, &hdr);
        assert_int_equal(hdr, 28 + opts);
        check_decoded(f, len, CAP_LINK_RAW, &s4, &d4, n);
    }
    struct ntk_addr s6 = v6(1, 40000), d6 = v6(2, 123);
    for (unsigned ext = 0; ext < 8; ext++) {
        struct opt o = {.link = CAP_LINK_EN10MB, .v6_ext = ext};
        len = build(f, &o, &s6, &d6, b, n, &hdr);
        assert_int_equal(hdr, 14 + 40 + 8 * (size_t)__builtin_popcount(ext) + 8);
        check_decoded(f, len, CAP_LINK_EN10MB, &s6, &d6, n);
        assert_int_equal(cap_decode_frame(CAP_LINK_EN10MB, f, len, len, &p, &dec), CAP_NTP);
        assert_int_equal(p.dscp, 46);
    }
    /* Fragments: the first is decoded as captured and flagged, a later one is OTHER. */
    for (int fam = 0; fam < 2; fam++) {
        const struct ntk_addr *s = fam ? &s6 : &s4, *d = fam ? &d6 : &d4;
        struct opt o = {.link = CAP_LINK_RAW, .frag = 1, .v6_ext = fam ? 1u : 0u};
        len = build(f, &o, s, d, b, n, &hdr);
        assert_int_equal(cap_decode_frame(CAP_LINK_RAW, f, len, len, &p, &dec), CAP_NTP);
        assert_true(p.ip_fragment);
        assert_int_equal(p.payload_len, n);
        o.frag = 2;
        len = build(f, &o, s, d, b, n, &hdr);
        assert_int_equal(cap_decode_frame(CAP_LINK_RAW, f, len, len, &p, &dec), CAP_OTHER);
    }
}

/* Every cut of a valid frame: TRUNCATED inside the headers, NTP with a truncated payload
 * inside the payload, never a crash. */
static void truncations(void **state)
{
    (void)state;
    uint8_t b[FRAME_MAX], f[FRAME_MAX];
    struct ntp q = {.mode = 3, .xmt = at(1)};
    size_t n = ntp(b, &q), hdr;
    const int links[] = {CAP_LINK_NULL, CAP_LINK_EN10MB, CAP_LINK_RAW, CAP_LINK_LINUX_SLL,
                         CAP_LINK_LINUX_SLL2};
    unsigned cuts = 0;
    for (int fam = 0; fam < 2; fam++) {
        struct ntk_addr s = fam ? v6(1, 40000) : v4(10, 0, 0, 1, 40000);
        struct ntk_addr d = fam ? v6(2, 123) : v4(10, 0, 0, 2, 123);
        for (size_t i = 0; i < 5; i++) {
            struct opt o = {.link = links[i], .vlans = 2, .ip4_opts = 8, .v6_ext = 7};
            size_t len = build(f, &o, &s, &d, b, n, &hdr);
            for (size_t cut = 0; cut < len; cut++) {
                struct cap_pkt p;
                struct cap_dec dec;
                uint8_t *copy = malloc(cut ? cut : 1);
                memcpy(copy, f, cut);
                enum cap_what w = cap_decode_frame(links[i], copy, cut, len, &p, &dec);
                if (cut < hdr) {
                    assert_int_equal(w, CAP_TRUNCATED);
                } else {
                    assert_int_equal(w, CAP_NTP);
                    assert_int_equal(p.payload_len, cut - hdr);
                    assert_true(p.payload_truncated);
                    assert_false(p.decoded);
                }
                free(copy);
                cuts++;
            }
        }
    }
    assert_true(cuts > 1000);
}

static void malformed(void **state)
{
    (void)state;
    uint8_t b[FRAME_MAX], f[FRAME_MAX];
    struct ntp q = {.mode = 3, .xmt = at(1)};
    size_t n = ntp(b, &q), hdr;
    struct ntk_addr s = v4(10, 0, 0, 1, 40000), d = v4(10, 0, 0, 2, 123);
    struct opt o = {.link = CAP_LINK_RAW};
    struct cap_pkt p;
    struct cap_dec dec;
    size_t len = build(f, &o, &s, &d, b, n, &hdr);
    struct {
        size_t off;
        uint8_t v;
        enum cap_what w;
    } cases[] = {
        {2, 0x01, CAP_MALFORMED}, /* total length > frame */
        {0, 0x44, CAP_MALFORMED}, /* IHL 4 */
        {0, 0x55, CAP_OTHER},     /* version 5: LINKTYPE_RAW says not IP */
        {3, 20, CAP_MALFORMED},   /* total length 20: no room for UDP */
        {25, 4, CAP_MALFORMED},   /* UDP length 4 */
        {25, 200, CAP_MALFORMED}, /* UDP length past the IP payload */
        {9, 1, CAP_OTHER},        /* ICMP */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t g[FRAME_MAX];
        memcpy(g, f, len);
        g[cases[i].off] = cases[i].v;
        assert_int_equal(cap_decode_frame(CAP_LINK_RAW, g, len, len, &p, &dec), cases[i].w);
    }
    /* A UDP datagram not on port 123 is NTP only when it decodes as modes 1-5. */
    struct ntk_addr s2 = v4(10, 0, 0, 1, 5000), d2 = v4(10, 0, 0, 2, 6000);
    len = build(f, &o, &s2, &d2, b, n, &hdr);
    assert_int_equal(cap_decode_frame(CAP_LINK_RAW, f, len, len, &p, &dec), CAP_NTP);
    len = build(f, &o, &s2, &d2, (const uint8_t *)"hello world!", 12, &hdr);
    assert_int_equal(cap_decode_frame(CAP_LINK_RAW, f, len, len, &p, &dec), CAP_OTHER);
}

/* Seeded property: valid frames of every link type with random bytes changed decode to
 * some enum cap_what without reading outside the frame, the payload view stays inside it,
 * and cap_feed's counters add up. */
static void mutated_frames(void **state)
{
    (void)state;
    tu_seed();
    const int links[] = {CAP_LINK_NULL, CAP_LINK_EN10MB, CAP_LINK_RAW, CAP_LINK_LINUX_SLL,
                         CAP_LINK_LINUX_SLL2};
    struct cap_cfg cfg;
    cap_cfg_default(&cfg);
    cfg.max_flows = 8;
    cfg.max_pending = 8;
    struct cap_sink sink = {0};
    struct cap *c = cap_new(&cfg, &sink);
    uint8_t b[FRAME_MAX], f[FRAME_MAX];
    for (int i = 0; i < 20000; i++) {
        struct ntp q = {.mode = (uint8_t)(1 + tu_rand() % 7), .xmt = at(i)};
        size_t n = ntp(b, &q), hdr;
        bool six = tu_rand() % 2;
        struct ntk_addr s = six ? v6(1, 40000) : v4(10, 0, 0, 1, 40000);
        struct ntk_addr d = six ? v6(2, 123) : v4(10, 0, 0, 2, 123);
        int link = links[tu_rand() % 5];
        struct opt o = {.link = link,
                        .vlans = (int)(tu_rand() % 3),
                        .ip4_opts = 4 * (tu_rand() % 3),
                        .v6_ext = (unsigned)(tu_rand() % 8),
                        .frag = (int)(tu_rand() % 3),
                        .tcp = tu_rand() % 8 == 0};
        size_t len = build(f, &o, &s, &d, b, n, &hdr);
        for (int k = (int)(tu_rand() % 4); k > 0; k--) {
            f[tu_rand() % len] = (uint8_t)tu_rand();
        }
        size_t cap = len - tu_rand() % (len / 4 + 1);
        uint8_t *copy = malloc(cap);
        memcpy(copy, f, cap);
        struct cap_pkt p;
        struct cap_dec dec;
        enum cap_what w = cap_decode_frame(link, copy, cap, len, &p, &dec);
        assert_true(w <= CAP_MALFORMED);
        assert_int_equal(p.what, w);
        if (dec.payload) {
            assert_true(dec.payload >= copy && dec.payload + dec.payload_len <= copy + cap);
            assert_int_equal(dec.payload_len, p.payload_len);
        }
        cap_feed(c, link, copy, cap, len, BASE_S + i, 0);
        free(copy);
    }
    cap_finish(c);
    const struct cap_stats *st = cap_stats(c);
    assert_int_equal(st->frames, 20000);
    assert_int_equal(st->frames,
                     st->ntp + st->ntske + st->other + st->truncated + st->malformed);
    assert_true(st->ntp > 1000 && st->other > 100);
    cap_destroy(c);
}

/* A ClientHello with SNI and ALPN (RFC 8446 §4.1.2, RFC 6066, RFC 7301). */
static size_t client_hello(uint8_t *out, const char *sni, const char *alpn)
{
    struct ntk_wr w;
    ntk_wr_init(&w, out, FRAME_MAX);
    ntk_wr_u8(&w, 0x16);
    ntk_wr_be16(&w, 0x0301);
    size_t rl = ntk_wr_len(&w);
    ntk_wr_be16(&w, 0);
    ntk_wr_u8(&w, 1);
    size_t hl = ntk_wr_len(&w);
    ntk_wr_zero(&w, 3);
    ntk_wr_be16(&w, 0x0303);
    ntk_wr_zero(&w, 32);
    ntk_wr_u8(&w, 0);
    ntk_wr_be16(&w, 2);
    ntk_wr_be16(&w, 0x1301);
    ntk_wr_u8(&w, 1);
    ntk_wr_u8(&w, 0);
    size_t el = ntk_wr_len(&w);
    ntk_wr_be16(&w, 0);
    ntk_wr_be16(&w, 0); /* server_name */
    ntk_wr_be16(&w, (uint16_t)(strlen(sni) + 5));
    ntk_wr_be16(&w, (uint16_t)(strlen(sni) + 3));
    ntk_wr_u8(&w, 0);
    ntk_wr_be16(&w, (uint16_t)strlen(sni));
    ntk_wr_bytes(&w, sni, strlen(sni));
    ntk_wr_be16(&w, 16); /* ALPN */
    ntk_wr_be16(&w, (uint16_t)(strlen(alpn) + 3));
    ntk_wr_be16(&w, (uint16_t)(strlen(alpn) + 1));
    ntk_wr_u8(&w, (uint8_t)strlen(alpn));
    ntk_wr_bytes(&w, alpn, strlen(alpn));
    size_t end = ntk_wr_len(&w);
    ntk_wr_patch_be16(&w, rl, (uint16_t)(end - rl - 2));
    out[hl] = 0;
    out[hl + 1] = (uint8_t)((end - hl - 3) >> 8);
    out[hl + 2] = (uint8_t)(end - hl - 3);
    ntk_wr_patch_be16(&w, el, (uint16_t)(end - el - 2));
    assert_int_equal(ntk_wr_err(&w), 0);
    return end;
}

static void ntske_tls(void **state)
{
    (void)state;
    uint8_t h[FRAME_MAX], f[FRAME_MAX];
    size_t n = client_hello(h, "time.example.net", "ntske/1"), hdr;
    char sni[64], alpn[16];
    assert_int_equal(cap_decode_tls_hello(h, n, sni, sizeof sni, alpn, sizeof alpn), 0);
    assert_string_equal(sni, "time.example.net");
    assert_string_equal(alpn, "ntske/1");
    for (size_t cut = 0; cut < n; cut++) {
        assert_true(cap_decode_tls_hello(h, cut, sni, sizeof sni, alpn, sizeof alpn) < 0);
        assert_string_equal(sni, "");
    }
    struct ntk_addr s = v4(10, 0, 0, 1, 43000), d = v4(10, 0, 0, 2, 4460);
    struct opt o = {.link = CAP_LINK_EN10MB, .tcp = true, .tcp_flags = 0x18};
    size_t len = build(f, &o, &s, &d, h, n, &hdr);
    struct cap_pkt p;
    struct cap_dec dec;
    assert_int_equal(cap_decode_frame(CAP_LINK_EN10MB, f, len, len, &p, &dec), CAP_NTSKE);
    assert_string_equal(p.tls_sni, "time.example.net");
    assert_string_equal(p.tls_alpn, "ntske/1");
    assert_int_equal(p.tcp_flags, 0x18);
    assert_int_equal(p.payload_len, n);
    o.tcp_flags = 0x02;
    len = build(f, &o, &s, &d, h, 0, &hdr);
    assert_int_equal(cap_decode_frame(CAP_LINK_EN10MB, f, len, len, &p, &dec), CAP_NTSKE);
    assert_int_equal(p.tcp_flags, 0x02);
    assert_int_equal(p.payload_len, 0);
    d.port = 443;
    len = build(f, &o, &s, &d, h, n, &hdr);
    assert_int_equal(cap_decode_frame(CAP_LINK_EN10MB, f, len, len, &p, &dec), CAP_OTHER);
}

/* ---- pairing and times ---- */

/* Which packets wait for an answer, and of what kind. */
static void request_kinds(void **state)
{
    (void)state;
    struct cap_pkt p;
    memset(&p, 0, sizeof p);
    enum cap_xkind k;
    p.decoded = true;
    const struct {
        uint8_t mode;
        bool waits;
        enum cap_xkind kind;
    } want[] = {{0, false, 0},
                {1, true, CAP_X_SYMMETRIC},
                {2, true, CAP_X_SYMMETRIC},
                {3, true, CAP_X_CLIENT},
                {4, false, 0},
                {5, false, 0},
                {7, true, CAP_X_PRIVATE}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        p.mode = want[i].mode;
        assert_int_equal(cap_request_kind(&p, &k), want[i].waits);
        if (want[i].waits) {
            assert_int_equal(k, want[i].kind);
        }
    }
    p.mode = 3;
    p.decoded = false; /* nothing to pair it by */
    assert_false(cap_request_kind(&p, &k));
    p.mode = 6;
    p.payload_len = NTK_CTL_HEADER_LEN;
    assert_true(cap_request_kind(&p, &k));
    assert_int_equal(k, CAP_X_CONTROL);
    p.m6_response = true;
    assert_false(cap_request_kind(&p, &k));
    p.m6_response = false;
    p.payload_len = NTK_CTL_HEADER_LEN - 1;
    assert_false(cap_request_kind(&p, &k));
}

/* The text attached to a request comes back with its exchange, as it was; one too long to
 * keep does not (the output then formats the line itself). */
static void request_line_passed_through(void **state)
{
    (void)state;
    struct t t;
    t_init(&t, 16, 16);
    struct ntk_addr cl = v4(10, 0, 0, 1, 40000), sv = v4(10, 0, 0, 2, 123);
    uint8_t b[FRAME_MAX];
    char long_line[CAP_REQ_LINE_MAX + 1];
    memset(long_line, 'x', sizeof long_line);
    const struct {
        const char *line;
        size_t len;
        const char *want;
    } cases[] = {{"12:00:00.000000000 a > b: NTPv4 client", 38,
                  "12:00:00.000000000 a > b: NTPv4 client"},
                 {"prefix-not-all", 6, "prefix"},
                 {long_line, CAP_REQ_LINE_MAX + 1, ""},
                 {NULL, 0, ""}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double now = (double)i;
        struct ntp q = {.mode = 3, .xmt = at(now + 0.25)};
        feed_with_line(&t, &cl, &sv, b, ntp(b, &q), now, cases[i].line, cases[i].len);
        struct ntp r = {.mode = 4,
                        .stratum = 2,
                        .org = q.xmt,
                        .rec = at(now + 0.3),
                        .xmt = at(now + 0.31)};
        feed_at(&t, &sv, &cl, b, ntp(b, &r), now + 0.5);
        assert_int_equal(t.r.exchanges, i + 1);
        assert_string_equal(t.r.last_line, cases[i].want);
    }
    t_end(&t);
    t_free(&t);
}

static void offsets_exact(void **state)
{
    (void)state;
    struct t t;
    t_init(&t, 16, 16);
    struct ntk_addr cl = v4(10, 0, 0, 1, 40000), sv = v4(10, 0, 0, 2, 123);
    uint8_t b[FRAME_MAX];
    struct ntp q = {.mode = 3, .xmt = at(0.25)};
    feed_at(&t, &cl, &sv, b, ntp(b, &q), 0.0);
    struct ntp r = {.mode = 4,
                    .stratum = 2,
                    .refid = 0x0a000009,
                    .org = at(0.25),
                    .rec = at(1.5),
                    .xmt = at(1.625)};
    feed_at(&t, &sv, &cl, b, ntp(b, &r), 0.5);
    assert_int_equal(t.r.exchanges, 1);
    const struct cap_exch *x = &t.r.last;
    assert_int_equal(x->kind, CAP_X_CLIENT);
    assert_true(x->offset_pkt_s == 1.1875);
    assert_true(x->delay_pkt_s == 0.125);
    assert_true(x->offset_cap_s == 1.3125);
    assert_true(x->delay_cap_s == 0.375);
    assert_true(x->server_s == 0.125);
    assert_true(x->rtt_cap_s == 0.5);
    assert_int_equal(x->req_bytes, 48);
    assert_int_equal(x->resp_bytes, 48);
    assert_int_equal(x->resp_frags, 1);
    assert_int_equal(t.r.last_req.frame, 1);
    assert_int_equal(t.r.last_resp.frame, 2);
    /* A zero T1 (data-minimised client) leaves the packet figures NAN, not the capture's. */
    struct ntp q0 = {.mode = 3};
    feed_at(&t, &cl, &sv, b, ntp(b, &q0), 10.0);
    struct ntp r0 = {.mode = 4, .stratum = 2, .rec = at(11.5), .xmt = at(11.625)};
    feed_at(&t, &sv, &cl, b, ntp(b, &r0), 10.5);
    assert_int_equal(t.r.exchanges, 2);
    assert_true(isnan(t.r.last.offset_pkt_s) && isnan(t.r.last.delay_pkt_s));
    assert_true(t.r.last.offset_cap_s == 1.3125);
    t_end(&t);
    t_free(&t);
}

/* Interleaved mode (RFC 9769 §2): the second request carries the first reply's T2 as origin
 * and its own receive time of that reply; the reply echoes that receive field as origin and
 * carries the first reply's precise T3. Then the other rule: a reply whose origin is the
 * transmit of the request before last. Both pair with the newest request, flagged, with the
 * previous exchange's times, and without t3_before_t2 / origin_bogus findings. */
static void interleaved(void **state)
{
    (void)state;
    struct t t;
    t_init(&t, 16, 16);
    struct ntk_addr cl = v4(10, 0, 0, 1, 40000), sv = v4(10, 0, 0, 2, 123);
    uint8_t b[FRAME_MAX];
    struct ntp q1 = {.mode = 3, .xmt = at(0.25)};
    feed_at(&t, &cl, &sv, b, ntp(b, &q1), 0.0);
    struct ntp r1 = {
        .mode = 4, .stratum = 2, .org = at(0.25), .rec = at(1.5), .xmt = at(1.625)};
    feed_at(&t, &sv, &cl, b, ntp(b, &r1), 0.5);
    assert_int_equal(t.r.exchanges, 1);
    assert_false(t.r.last.interleaved);
    struct ntp q2 = {.mode = 3, .org = at(1.5), .rec = at(0.5), .xmt = at(16.25)};
    feed_at(&t, &cl, &sv, b, ntp(b, &q2), 16.0);
    struct ntp r2 = {
        .mode = 4, .stratum = 2, .org = at(0.5), .rec = at(17.5), .xmt = at(1.6875)};
    feed_at(&t, &sv, &cl, b, ntp(b, &r2), 16.5);
    assert_int_equal(t.r.exchanges, 2);
    const struct cap_exch *x = &t.r.last;
    assert_int_equal(x->kind, CAP_X_CLIENT);
    assert_true(x->interleaved);
    assert_int_equal(t.r.last_req.frame, 3);
    assert_int_equal(t.r.last_resp.frame, 4);
    assert_true(x->server_s == 0.1875);
    assert_true(x->offset_pkt_s == 1.21875);
    assert_true(x->delay_pkt_s == 0.0625);
    assert_true(x->offset_cap_s == 1.34375);
    assert_true(x->delay_cap_s == 0.3125);
    assert_true(x->rtt_cap_s == 0.5);
    /* The rule of the request before last. */
    struct ntp q3 = {.mode = 3, .org = at(17.5), .rec = at(16.5), .xmt = at(32.25)};
    feed_at(&t, &cl, &sv, b, ntp(b, &q3), 32.0);
    struct ntp r3 = {
        .mode = 4, .stratum = 2, .org = at(16.25), .rec = at(33.5), .xmt = at(17.625)};
    feed_at(&t, &sv, &cl, b, ntp(b, &r3), 32.5);
    assert_int_equal(t.r.exchanges, 3);
    assert_true(x->interleaved);
    assert_int_equal(t.r.last_req.frame, 5);
    assert_true(x->server_s == 0.125);
    assert_true(x->offset_pkt_s == 1.1875);
    assert_true(x->offset_cap_s == 1.3125);
    assert_true(x->delay_cap_s == 0.375);
    /* A reply whose origin matches nothing stays unmatched. */
    struct ntp r4 = {
        .mode = 4, .stratum = 2, .org = at(99.0), .rec = at(50.0), .xmt = at(50.1)};
    feed_at(&t, &sv, &cl, b, ntp(b, &r4), 48.0);
    const struct cap_stats *st = t_end(&t);
    assert_int_equal(st->exchanges, 3);
    assert_int_equal(st->unmatched_resp, 1);
    assert_int_equal(st->unmatched_req, 0);
    assert_int_equal(t.r.anom[code_index("t3_before_t2")], 0);
    assert_int_equal(t.r.anom[code_index("origin_bogus")], 1);
    assert_int_equal(t.r.flows, 1);
    assert_int_equal(t.r.last_flow.interleaved, 2);
    assert_int_equal(t.r.last_flow.exchanges, 3);
    assert_true(t.r.last_flow.loss == 0.0);
    /* offset_cap 1.3125, 1.34375, 1.3125: differences +-1/32, RMS 1/32. */
    assert_true(t.r.last_flow.jitter_s == 0.03125);
    t_free(&t);
}

/* One exchange at now whose offset_cap is exactly off (T2 = T3, capture times now and
 * now + 0.5); answered only when answer is true. */
static void exchange_off(struct t *t, const struct ntk_addr *cl, const struct ntk_addr *sv,
                         double now, double off, bool answer)
{
    uint8_t b[FRAME_MAX];
    struct ntp q = {.mode = 3, .xmt = at(now + 0.125)};
    feed_at(t, cl, sv, b, ntp(b, &q), now);
    if (answer) {
        struct ntp r = {.mode = 4,
                        .stratum = 2,
                        .org = q.xmt,
                        .rec = at(now + 0.25 + off),
                        .xmt = at(now + 0.25 + off)};
        feed_at(t, sv, cl, b, ntp(b, &r), now + 0.5);
    }
}

/* Per-flow loss (requests without a reply / requests) and jitter (RMS of successive
 * offset_cap differences): exact values, then a seeded property loop. */
static void loss_jitter(void **state)
{
    (void)state;
    struct t t;
    t_init(&t, 16, 16);
    struct ntk_addr cl = v4(10, 0, 0, 1, 40000), sv = v4(10, 0, 0, 2, 123);
    exchange_off(&t, &cl, &sv, 0, 0.0, true);
    exchange_off(&t, &cl, &sv, 16, 0.125, true);
    exchange_off(&t, &cl, &sv, 32, 0.5, false);
    exchange_off(&t, &cl, &sv, 48, 1.0, true);
    t_end(&t);
    assert_int_equal(t.r.last_flow.requests, 4);
    assert_int_equal(t.r.last_flow.unmatched_req, 1);
    assert_true(t.r.last_flow.loss == 0.25);
    /* Differences 0.125 and 0.875: sqrt((1/64 + 49/64) / 2) = 0.625. */
    assert_true(t.r.last_flow.jitter_s == 0.625);
    t_free(&t);
    /* One exchange: no jitter; no request: no loss. */
    t_init(&t, 16, 16);
    exchange_off(&t, &cl, &sv, 0, 0.25, true);
    t_end(&t);
    assert_true(t.r.last_flow.loss == 0.0);
    assert_true(isnan(t.r.last_flow.jitter_s));
    t_free(&t);
    tu_seed();
    for (int round = 0; round < 50; round++) {
        t_init(&t, 16, 64);
        int n = 2 + (int)(tu_rand() % 30), lost = 0, answered = 0;
        double sum2 = 0, prev = 0;
        for (int i = 0; i < n; i++) {
            bool answer = tu_rand() % 4 != 0;
            double off = (double)((int)(tu_rand() % 2049) - 1024) / 1024.0;
            exchange_off(&t, &cl, &sv, 16.0 * i, off, answer);
            lost += !answer;
            if (answer) {
                sum2 += answered > 0 ? (off - prev) * (off - prev) : 0;
                prev = off;
                answered++;
            }
        }
        t_end(&t);
        assert_int_equal(t.r.last_flow.requests, n);
        assert_true(t.r.last_flow.loss == (double)lost / (double)n);
        if (answered >= 2) {
            double want = sqrt(sum2 / (answered - 1));
            assert_true(fabs(t.r.last_flow.jitter_s - want) <= 1e-9 * (1 + want));
        } else {
            assert_true(isnan(t.r.last_flow.jitter_s));
        }
        t_free(&t);
    }
}

static void pairing(void **state)
{
    (void)state;
    struct t t;
    t_init(&t, 16, 16);
    struct ntk_addr cl = v4(10, 0, 0, 1, 40000), cl2 = v4(10, 0, 0, 3, 40001),
                    sv = v4(10, 0, 0, 2, 123);
    uint8_t b[FRAME_MAX];
    /* Two clients interleaved; responses in the other order. */
    struct ntp q1 = {.mode = 3, .xmt = at(0.1)}, q2 = {.mode = 3, .xmt = at(0.2)};
    feed_at(&t, &cl, &sv, b, ntp(b, &q1), 0.1);
    feed_at(&t, &cl2, &sv, b, ntp(b, &q2), 0.2);
    struct ntp r2 = {.mode = 4, .stratum = 2, .org = q2.xmt, .rec = at(0.21), .xmt = at(0.21)};
    struct ntp r1 = {.mode = 4, .stratum = 2, .org = q1.xmt, .rec = at(0.22), .xmt = at(0.22)};
    feed_at(&t, &sv, &cl2, b, ntp(b, &r2), 0.3);
    assert_int_equal(t.r.last_req.frame, 2);
    feed_at(&t, &sv, &cl, b, ntp(b, &r1), 0.3);
    assert_int_equal(t.r.last_req.frame, 1);
    assert_int_equal(t.r.exchanges, 2);
    /* A response captured before its request (out of order): unmatched both ways. */
    struct ntp q3 = {.mode = 3, .xmt = at(1.0)};
    struct ntp r3 = {.mode = 4, .stratum = 2, .org = q3.xmt, .rec = at(1.0), .xmt = at(1.0)};
    feed_at(&t, &sv, &cl, b, ntp(b, &r3), 1.0);
    feed_at(&t, &cl, &sv, b, ntp(b, &q3), 1.0);
    /* A response to another port of the same client does not pair. */
    struct ntk_addr other = cl;
    other.port = 40002;
    struct ntp q4 = {.mode = 3, .xmt = at(2.0)};
    struct ntp r4 = {.mode = 4, .stratum = 2, .org = q4.xmt, .rec = at(2.0), .xmt = at(2.0)};
    feed_at(&t, &cl, &sv, b, ntp(b, &q4), 2.0);
    feed_at(&t, &sv, &other, b, ntp(b, &r4), 2.0);
    /* Timeout: the answer comes 6 s later (> 5 s). */
    struct ntp q5 = {.mode = 3, .xmt = at(3.0)};
    struct ntp r5 = {.mode = 4, .stratum = 2, .org = q5.xmt, .rec = at(3.0), .xmt = at(9.0)};
    feed_at(&t, &cl, &sv, b, ntp(b, &q5), 3.0);
    feed_at(&t, &sv, &cl, b, ntp(b, &r5), 9.5);
    const struct cap_stats *st = cap_stats(t.c);
    assert_int_equal(st->exchanges, 2);
    /* q3 and q4 expired at 9.5 (older than 5 s), q5 too. */
    assert_int_equal(st->unmatched_req, 3);
    assert_int_equal(st->unmatched_resp, 3);
    /* An unanswered request at the end is unmatched at cap_finish. */
    struct ntp q6 = {.mode = 3, .xmt = at(20.0)};
    feed_at(&t, &cl, &sv, b, ntp(b, &q6), 20.0);
    st = t_end(&t);
    assert_int_equal(st->unmatched_req, 4);
    assert_int_equal(st->pending_dropped, 0);
    assert_int_equal(st->exchanges, 2);
    t_free(&t);
}

static void pending_table_full(void **state)
{
    (void)state;
    struct t t;
    t_init(&t, 16, 2);
    struct ntk_addr cl = v4(10, 0, 0, 1, 40000), sv = v4(10, 0, 0, 2, 123);
    uint8_t b[FRAME_MAX];
    ntk_ts x[3];
    for (int i = 0; i < 3; i++) {
        struct ntp q = {.mode = 3, .xmt = at(0.1 * (i + 1))};
        x[i] = q.xmt;
        feed_at(&t, &cl, &sv, b, ntp(b, &q), 0.1 * (i + 1));
    }
    /* The oldest (x[0]) was dropped; its answer is now unmatched, the others pair. */
    for (int i = 0; i < 3; i++) {
        struct ntp r = {.mode = 4, .stratum = 2, .org = x[i], .rec = at(0.5), .xmt = at(0.5)};
        feed_at(&t, &sv, &cl, b, ntp(b, &r), 0.5);
    }
    const struct cap_stats *st = t_end(&t);
    assert_int_equal(st->pending_dropped, 1);
    assert_int_equal(st->unmatched_req, 1);
    assert_int_equal(st->unmatched_resp, 1);
    assert_int_equal(st->exchanges, 2);
    t_free(&t);
}

/* A property loop: random interleavings of requests and answers never pair more than
 * min(requests, responses), and every request ends paired or unmatched. */
static void pairing_property(void **state)
{
    (void)state;
    tu_seed();
    for (int round = 0; round < 50; round++) {
        struct t t;
        t_init(&t, 4, 1 + tu_rand() % 8);
        struct ntk_addr sv = v4(10, 0, 0, 2, 123);
        uint8_t b[FRAME_MAX];
        unsigned reqs = 0, resps = 0;
        ntk_ts sent[64];
        struct ntk_addr who[64];
        for (int i = 0; i < 64; i++) {
            double now = i * 0.25;
            if (tu_rand() % 2 == 0 || i == 0) {
                who[reqs] = v4(10, 0, 1, (uint8_t)(tu_rand() % 6), 40000);
                struct ntp q = {.mode = 3, .xmt = at(now + 0.5)};
                sent[reqs] = q.xmt;
                feed_at(&t, &who[reqs], &sv, b, ntp(b, &q), now);
                reqs++;
            } else {
                unsigned k = (unsigned)(tu_rand() % reqs);
                struct ntp r = {
                    .mode = 4, .stratum = 2, .org = sent[k], .rec = at(now), .xmt = at(now)};
                feed_at(&t, &sv, &who[k], b, ntp(b, &r), now);
                resps++;
            }
        }
        const struct cap_stats *st = t_end(&t);
        assert_true(st->exchanges <= (reqs < resps ? reqs : resps));
        assert_int_equal(st->exchanges + st->unmatched_req, reqs);
        assert_int_equal(st->exchanges + st->unmatched_resp, resps);
        assert_int_equal(st->flows, t.r.flows);
        t_free(&t);
    }
}

/* ---- mode 6 and mode 7 ---- */

static size_t ctl_req(uint8_t *out, uint8_t op, uint16_t seq, const char *data)
{
    struct ntk_ctl_hdr h = {
        .version = 2, .opcode = op, .sequence = seq, .count = (uint16_t)strlen(data)};
    int n = ntk_ctl_encode(&h, (const uint8_t *)data, NULL, 0, out, FRAME_MAX);
    assert_true(n > 0);
    return (size_t)n;
}

static void mode6_reassembly(void **state)
{
    (void)state;
    struct t t;
    t_init(&t, 16, 16);
    struct ntk_addr cl = v4(10, 0, 0, 1, 40000), sv = v4(10, 0, 0, 2, 123);
    uint8_t b[FRAME_MAX], frag[3][FRAME_MAX];
    size_t flen[3];
    feed_at(&t, &cl, &sv, b, ctl_req(b, NTK_CTL_OP_READVAR, 7, ""), 0.0);
    uint8_t data[250];
    memset(data, 'a', sizeof data);
    struct ntk_ctl_hdr h = {
        .version = 2, .response = true, .opcode = NTK_CTL_OP_READVAR, .sequence = 7};
    struct ntk_ctl_split sp;
    assert_int_equal(ntk_ctl_split_init(&sp, &h, data, sizeof data, 100), 0);
    for (int i = 0; i < 3; i++) {
        int n = ntk_ctl_split_next(&sp, NULL, 0, frag[i], FRAME_MAX);
        assert_true(n > 0);
        flen[i] = (size_t)n;
    }
    /* Out of order, with a duplicate: one exchange, three datagrams. */
    feed_at(&t, &sv, &cl, frag[2], flen[2], 0.01);
    feed_at(&t, &sv, &cl, frag[0], flen[0], 0.02);
    feed_at(&t, &sv, &cl, frag[0], flen[0], 0.02);
    assert_int_equal(t.r.exchanges, 0);
    feed_at(&t, &sv, &cl, frag[1], flen[1], 0.03);
    assert_int_equal(t.r.exchanges, 1);
    assert_int_equal(t.r.last.kind, CAP_X_CONTROL);
    assert_int_equal(t.r.last.resp_frags, 3);
    assert_int_equal(t.r.last.resp_bytes, flen[0] + flen[1] + flen[2]);
    assert_int_equal(t.r.last.req_bytes, 12);
    assert_true(isnan(t.r.last.offset_cap_s));
    /* A request whose response never completes is reported at the timeout with what came. */
    feed_at(&t, &cl, &sv, b, ctl_req(b, NTK_CTL_OP_READVAR, 8, ""), 1.0);
    h.sequence = 8;
    assert_int_equal(ntk_ctl_split_init(&sp, &h, data, sizeof data, 100), 0);
    int n = ntk_ctl_split_next(&sp, NULL, 0, frag[0], FRAME_MAX);
    feed_at(&t, &sv, &cl, frag[0], (size_t)n, 1.1);
    const struct cap_stats *st = t_end(&t);
    assert_int_equal(st->exchanges, 2);
    assert_int_equal(t.r.last.resp_frags, 1);
    assert_int_equal(st->by_mode[6], 7);
    t_free(&t);
}

static size_t m7(uint8_t *out, bool resp, bool more, uint8_t seq, uint8_t code, uint16_t items,
                 uint16_t size)
{
    struct ntk_wr w;
    ntk_wr_init(&w, out, FRAME_MAX);
    ntk_wr_u8(&w, (uint8_t)((resp ? 0x80 : 0) | (more ? 0x40 : 0) | (2 << 3) | 7));
    ntk_wr_u8(&w, seq);
    ntk_wr_u8(&w, 3); /* IMPL_XNTPD */
    ntk_wr_u8(&w, code);
    ntk_wr_be16(&w, items);
    ntk_wr_be16(&w, size);
    ntk_wr_zero(&w, (size_t)items * size);
    return ntk_wr_len(&w);
}

static void mode7_monlist(void **state)
{
    (void)state;
    struct t t;
    t_init(&t, 16, 16);
    struct ntk_addr victim = v4(192, 0, 2, 9, 50000), sv = v4(198, 51, 100, 2, 123);
    uint8_t b[FRAME_MAX];
    struct cap_pkt p;
    struct cap_dec d;
    size_t n = m7(b, false, false, 0, CAP_M7_MON_GETLIST_1, 0, 0);
    assert_int_equal(n, 8);
    cap_decode_ntp(b, n, &p);
    assert_true(p.decoded);
    assert_int_equal(p.mode, 7);
    assert_int_equal(p.m7_reqcode, 42);
    assert_int_equal(p.m7_impl, 3);
    feed_at(&t, &victim, &sv, b, n, 0.0);
    for (int i = 0; i < 6; i++) {
        n = m7(b, true, i < 5, (uint8_t)i, CAP_M7_MON_GETLIST_1, 6, 72);
        feed_at(&t, &sv, &victim, b, n, 0.01 * (i + 1));
    }
    assert_int_equal(t.r.exchanges, 1);
    assert_int_equal(t.r.last.kind, CAP_X_PRIVATE);
    assert_int_equal(t.r.last.resp_frags, 6);
    assert_int_equal(t.r.last.resp_bytes, 6 * (8 + 6 * 72));
    assert_int_equal(t.r.anom[CAP_A_MONLIST], CAP_ANOM_BURST);
    t_end(&t);
    assert_int_equal(t.r.anom[CAP_A_AMPLIFICATION], 1);
    assert_int_equal(cap_stats(t.c)->anomalies[CAP_SEV_CRIT], 7 + 1);
    (void)d;
    t_free(&t);
}

/* ---- anomalies ---- */

static void normal_traffic_is_quiet(void **state)
{
    (void)state;
    struct t t;
    t_init(&t, 16, 16);
    struct ntk_addr cl = v4(10, 0, 0, 1, 40000), sv = v4(10, 0, 0, 2, 123);
    for (int i = 0; i < 20; i++) {
        exchange_at(&t, &cl, &sv, 64.0 * i, 2, 0xc0000201);
    }
    const struct cap_stats *st = t_end(&t);
    assert_int_equal(total_anoms(&t.r), 0);
    assert_int_equal(st->anomalies[0] + st->anomalies[1] + st->anomalies[2], 0);
    assert_int_equal(st->exchanges, 20);
    assert_int_equal(t.r.flows, 1);
    const struct cap_flow *f = &t.r.last_flow;
    assert_int_equal(f->requests, 20);
    assert_int_equal(f->responses, 20);
    assert_int_equal(f->exchanges, 20);
    assert_int_equal(f->bytes_c2s, 20 * 48);
    assert_true(f->amplification == 1.0);
    assert_true(fabs(f->poll_s - 64.0) < 1e-6);
    assert_true(fabs(f->delay_med_s - 0.0019) < 1e-7);
    assert_string_equal(f->auth, "none");
    assert_int_equal(f->modes, (1u << 3) | (1u << 4));
    assert_int_equal(f->versions, 1u << 4);
    assert_false(f->evicted);
    t_free(&t);
}

/* Runs one crafted sequence and checks that code id (and only the allowed others) fired. */
typedef void (*scenario)(struct t *t);

static void expect(scenario s, enum cap_anom_id id, unsigned lines)
{
    struct t t;
    t_init(&t, 16, 16);
    s(&t);
    t_end(&t);
    if (t.r.anom[id] != lines) {
        fail_msg("%s: %u lines, want %u", cap_anom_codes()[id].code, t.r.anom[id], lines);
    }
    t_free(&t);
}

static const struct ntk_addr *CL(void)
{
    static struct ntk_addr a;
    a = v4(10, 0, 0, 1, 40000);
    return &a;
}

static const struct ntk_addr *SV(void)
{
    static struct ntk_addr a;
    a = v4(10, 0, 0, 2, 123);
    return &a;
}

static void s_mode7(struct t *t)
{
    uint8_t b[FRAME_MAX];
    feed_at(t, CL(), SV(), b, m7(b, false, false, 0, 1, 0, 0), 0);
}

static void s_monlist(struct t *t)
{
    uint8_t b[FRAME_MAX];
    feed_at(t, CL(), SV(), b, m7(b, false, false, 0, CAP_M7_MON_GETLIST, 0, 0), 0);
}

static void s_mode6_offnet(struct t *t)
{
    uint8_t b[FRAME_MAX];
    struct ntk_addr pub = v4(203, 0, 113, 5, 40000);
    feed_at(t, &pub, SV(), b, ctl_req(b, NTK_CTL_OP_READVAR, 1, ""), 0);
    feed_at(t, CL(), SV(), b, ctl_req(b, NTK_CTL_OP_READVAR, 2, ""), 0);
}

static void s_mru(struct t *t)
{
    uint8_t b[FRAME_MAX];
    feed_at(t, CL(), SV(), b, ctl_req(b, NTK_CTL_OP_READ_MRU, 1, "frags=32"), 0);
    feed_at(t, CL(), SV(), b, ctl_req(b, NTK_CTL_OP_READ_MRU, 2, "nonce=0123abcd, frags=32"),
            0);
}

static void s_amplification(struct t *t)
{
    uint8_t b[FRAME_MAX];
    feed_at(t, CL(), SV(), b, ctl_req(b, NTK_CTL_OP_READVAR, 1, ""), 0);
    struct ntk_ctl_hdr h = {
        .version = 2, .response = true, .opcode = 2, .sequence = 1, .count = 40};
    uint8_t data[40] = {0};
    int n = ntk_ctl_encode(&h, data, NULL, 0, b, FRAME_MAX);
    feed_at(t, SV(), CL(), b, (size_t)n, 0.01);
}

/* The same large mode-6 answer to ntpq on the host itself, or to a client that proved its
 * address with a nonce: not an amplification finding. */
static void s_amplification_local(struct t *t)
{
    uint8_t b[FRAME_MAX];
    struct ntk_addr lo = v4(127, 0, 0, 1, 40000), srv = v4(127, 0, 0, 1, 123);
    feed_at(t, &lo, &srv, b, ctl_req(b, NTK_CTL_OP_READVAR, 1, ""), 0);
    struct ntk_ctl_hdr h = {
        .version = 2, .response = true, .opcode = 2, .sequence = 1, .count = 40};
    uint8_t data[40] = {0};
    int n = ntk_ctl_encode(&h, data, NULL, 0, b, FRAME_MAX);
    feed_at(t, &srv, &lo, b, (size_t)n, 0.01);
}

static void s_amplification_nonce(struct t *t)
{
    uint8_t b[FRAME_MAX];
    feed_at(t, CL(), SV(), b, ctl_req(b, NTK_CTL_OP_READVAR, 1, "nonce=0123abcd"), 0);
    struct ntk_ctl_hdr h = {
        .version = 2, .response = true, .opcode = 2, .sequence = 1, .count = 40};
    uint8_t data[40] = {0};
    int n = ntk_ctl_encode(&h, data, NULL, 0, b, FRAME_MAX);
    feed_at(t, SV(), CL(), b, (size_t)n, 0.01);
}

static void s_unmatched(struct t *t)
{
    uint8_t b[FRAME_MAX];
    struct ntp r = {.mode = 4, .stratum = 2, .org = at(1), .rec = at(1), .xmt = at(1)};
    feed_at(t, SV(), CL(), b, ntp(b, &r), 1);
}

static void s_reflection(struct t *t)
{
    uint8_t b[FRAME_MAX];
    for (int i = 0; i < 12; i++) {
        struct ntp r = {.mode = 4, .stratum = 2, .org = at(i), .rec = at(i), .xmt = at(i)};
        feed_at(t, SV(), CL(), b, ntp(b, &r), i);
    }
}

static void s_kod(struct t *t)
{
    uint8_t b[FRAME_MAX];
    struct ntp q = {.mode = 3, .xmt = at(1)};
    feed_at(t, CL(), SV(), b, ntp(b, &q), 1);
    struct ntp r = {.leap = 3, .mode = 4, .refid = 0x52415445, .org = at(1), .xmt = at(1)};
    feed_at(t, SV(), CL(), b, ntp(b, &r), 1.01);
}

static void s_kod_spoofed(struct t *t)
{
    uint8_t b[FRAME_MAX];
    struct ntp q = {.mode = 3, .xmt = at(1)};
    feed_at(t, CL(), SV(), b, ntp(b, &q), 1);
    struct ntp r = {.leap = 3, .mode = 4, .refid = 0x44454e59, .org = at(7), .xmt = at(1)};
    feed_at(t, SV(), CL(), b, ntp(b, &r), 1.01);
}

static void s_origin_zero(struct t *t)
{
    uint8_t b[FRAME_MAX];
    struct ntp r = {.mode = 4, .stratum = 2, .rec = at(1), .xmt = at(1)};
    feed_at(t, SV(), CL(), b, ntp(b, &r), 1);
}

static void s_origin_bogus(struct t *t)
{
    uint8_t b[FRAME_MAX];
    struct ntp q = {.mode = 3, .xmt = at(1)};
    feed_at(t, CL(), SV(), b, ntp(b, &q), 1);
    struct ntp r = {.mode = 4, .stratum = 2, .org = at(2), .rec = at(1), .xmt = at(1)};
    feed_at(t, SV(), CL(), b, ntp(b, &r), 1.01);
}

static void s_t3_before_t2(struct t *t)
{
    uint8_t b[FRAME_MAX];
    struct ntp q = {.mode = 3, .xmt = at(1)};
    feed_at(t, CL(), SV(), b, ntp(b, &q), 1);
    struct ntp r = {.mode = 4, .stratum = 2, .org = at(1), .rec = at(1.5), .xmt = at(1.25)};
    feed_at(t, SV(), CL(), b, ntp(b, &r), 1.01);
}

static void s_far(struct t *t)
{
    uint8_t b[FRAME_MAX];
    struct ntp q = {.mode = 3, .xmt = at(1)};
    feed_at(t, CL(), SV(), b, ntp(b, &q), 1);
    struct ntp r = {.mode = 4, .stratum = 2, .org = at(1), .rec = at(3601), .xmt = at(3601)};
    feed_at(t, SV(), CL(), b, ntp(b, &r), 1.01);
}

static void s_unsync(struct t *t)
{
    uint8_t b[FRAME_MAX];
    struct ntp q = {.mode = 3, .xmt = at(1)};
    feed_at(t, CL(), SV(), b, ntp(b, &q), 1);
    struct ntp r = {
        .leap = 3, .mode = 4, .stratum = 16, .org = at(1), .rec = at(1), .xmt = at(1)};
    feed_at(t, SV(), CL(), b, ntp(b, &r), 1.01);
}

static void s_stratum_flap(struct t *t)
{
    for (int i = 0; i < 6; i++) {
        exchange_at(t, CL(), SV(), 64.0 * i, (uint8_t)(2 + i % 2), 0xc0000201);
    }
}

static void s_refid_flap(struct t *t)
{
    for (int i = 0; i < 6; i++) {
        exchange_at(t, CL(), SV(), 64.0 * i, 2, 0xc0000201 + (uint32_t)(i % 2));
    }
}

static void s_refid_loop(struct t *t)
{
    struct ntk_addr daemon = v4(10, 0, 0, 1, 123);
    exchange_at(t, &daemon, SV(), 0, 3, 0x0a000001);
    exchange_at(t, CL(), SV(), 64, 3, 0x0a000001); /* ntpdig on that host: no loop */
}

static void s_old_version(struct t *t)
{
    uint8_t b[FRAME_MAX];
    struct ntp q = {.version = 3, .mode = 3, .xmt = at(1)};
    feed_at(t, CL(), SV(), b, ntp(b, &q), 1);
}

static void s_unauth_sym(struct t *t)
{
    uint8_t b[FRAME_MAX];
    struct ntk_addr a = v4(10, 0, 0, 1, 123);
    struct ntp q = {.mode = 1, .stratum = 2, .xmt = at(1)};
    feed_at(t, &a, SV(), b, ntp(b, &q), 1);
    struct ntp r = {.mode = 2, .stratum = 2, .org = at(1), .rec = at(1), .xmt = at(1.001)};
    feed_at(t, SV(), &a, b, ntp(b, &r), 1.01);
    assert_int_equal(t->r.exchanges, 1);
    assert_int_equal(t->r.last.kind, CAP_X_SYMMETRIC);
}

static void s_unauth_bcast(struct t *t)
{
    uint8_t b[FRAME_MAX];
    struct ntk_addr bc = v4(10, 0, 0, 255, 123);
    struct ntp q = {.mode = 5, .stratum = 2, .xmt = at(1)};
    feed_at(t, SV(), &bc, b, ntp(b, &q), 1);
}

/* An NTS-looking request: UID, cookie and an authenticator-typed last field. */
static size_t nts_request(uint8_t *b, ntk_ts xmt)
{
    struct ntp q = {.mode = 3, .xmt = xmt};
    size_t n = ntp(b, &q);
    struct ntk_wr w;
    uint8_t body[100] = {0};
    ntk_wr_init(&w, b + n, FRAME_MAX - n);
    assert_int_equal(ntk_ef_put(&w, NTK_EF_NTS_UID, body, 32), 0);
    assert_int_equal(ntk_ef_put(&w, NTK_EF_NTS_COOKIE, body, 100), 0);
    assert_int_equal(ntk_ef_put_min(&w, NTK_EF_NTS_AUTH, body, 40, NTK_EF_MIN_LAST_LEN), 0);
    return n + ntk_wr_len(&w);
}

static void s_downgrade(struct t *t)
{
    uint8_t b[FRAME_MAX];
    size_t n = nts_request(b, at(1));
    struct cap_pkt p;
    cap_decode_ntp(b, n, &p);
    assert_true(p.decoded && p.nts_uid && p.nts_cookie && p.nts_auth);
    assert_int_equal(p.n_ef, 3);
    feed_at(t, CL(), SV(), b, n, 1);
    struct ntp r = {.mode = 4, .stratum = 2, .org = at(1), .rec = at(1), .xmt = at(1)};
    feed_at(t, SV(), CL(), b, ntp(b, &r), 1.01);
}

static void s_ef_malformed(struct t *t)
{
    uint8_t b[FRAME_MAX];
    struct ntp q = {.mode = 3, .xmt = at(1)};
    size_t n = ntp(b, &q);
    memset(b + n, 0, 32);
    b[n] = 0x01;
    b[n + 1] = 0x04;
    b[n + 3] = 8; /* length 8 < 16 */
    struct cap_pkt p;
    cap_decode_ntp(b, n + 32, &p);
    assert_false(p.decoded);
    assert_true(p.ef_malformed);
    feed_at(t, CL(), SV(), b, n + 32, 1);
}

static void s_port123(struct t *t)
{
    struct ntk_addr a = v4(10, 0, 0, 1, 123);
    exchange_at(t, &a, SV(), 0, 2, 0xc0000201);
}

static void s_duplicate(struct t *t)
{
    uint8_t b[FRAME_MAX];
    struct ntp q = {.mode = 3, .xmt = at(1)};
    feed_at(t, CL(), SV(), b, ntp(b, &q), 1);
    struct ntp r = {.mode = 4, .stratum = 2, .org = at(1), .rec = at(1), .xmt = at(1.001)};
    feed_at(t, SV(), CL(), b, ntp(b, &r), 1.01);
    feed_at(t, SV(), CL(), b, ntp(b, &r), 1.02);
}

static void anomaly_codes(void **state)
{
    (void)state;
    const struct cap_anom_info *t = cap_anom_codes();
    int n = 0;
    for (; t[n].code; n++) {
        for (int j = 0; j < n; j++) {
            assert_string_not_equal(t[n].code, t[j].code);
        }
        assert_non_null(t[n].meaning);
    }
    assert_int_equal(n, CAP_A_COUNT);
    assert_string_equal(cap_sev_name(CAP_SEV_CRIT), "crit");
    assert_int_equal(cap_sev_from_name("warn"), CAP_SEV_WARN);
    assert_int_equal(cap_sev_from_name("fatal"), -1);
    expect(s_mode7, CAP_A_MODE7, 1);
    expect(s_monlist, CAP_A_MONLIST, 1);
    expect(s_monlist, CAP_A_MODE7, 0);
    expect(s_mode6_offnet, CAP_A_MODE6_OFFNET, 1);
    expect(s_mru, CAP_A_MRU_NO_NONCE, 1);
    expect(s_amplification, CAP_A_AMPLIFICATION, 1);
    expect(s_amplification_local, CAP_A_AMPLIFICATION, 0);
    expect(s_amplification_nonce, CAP_A_AMPLIFICATION, 0);
    expect(s_unmatched, CAP_A_RESP_UNMATCHED, 1);
    expect(s_reflection, CAP_A_REFLECTION, 1);
    expect(s_reflection, CAP_A_RESP_UNMATCHED, CAP_ANOM_BURST + 1); /* + the summary */
    expect(s_kod, CAP_A_KOD, 1);
    expect(s_kod, CAP_A_KOD_SPOOFED, 0);
    expect(s_kod_spoofed, CAP_A_KOD_SPOOFED, 1);
    expect(s_origin_zero, CAP_A_ORIGIN_ZERO, 1);
    expect(s_origin_bogus, CAP_A_ORIGIN_BOGUS, 1);
    expect(s_t3_before_t2, CAP_A_T3_BEFORE_T2, 1);
    expect(s_far, CAP_A_SERVER_TIME_FAR, 1);
    expect(s_unsync, CAP_A_SERVER_UNSYNC, 1);
    expect(s_stratum_flap, CAP_A_STRATUM_FLAP, 1);
    expect(s_refid_flap, CAP_A_REFID_FLAP, 1);
    expect(s_refid_loop, CAP_A_REFID_LOOP, 1);
    expect(s_old_version, CAP_A_OLD_VERSION, 1);
    expect(s_unauth_sym, CAP_A_UNAUTH_SYMMETRIC, 2);
    expect(s_unauth_bcast, CAP_A_UNAUTH_BROADCAST, 1);
    expect(s_downgrade, CAP_A_NTS_DOWNGRADE, 1);
    expect(s_ef_malformed, CAP_A_EF_MALFORMED, 1);
    expect(s_port123, CAP_A_CLIENT_PORT_123, 1);
    expect(s_duplicate, CAP_A_RESP_DUPLICATE, 1);
    expect(s_duplicate, CAP_A_RESP_UNMATCHED, 0);
    expect(s_duplicate, CAP_A_ORIGIN_BOGUS, 0);
    expect(s_origin_zero, CAP_A_RESP_UNMATCHED, 0);
    expect(s_kod_spoofed, CAP_A_ORIGIN_BOGUS, 0);
}

/* A flood of one anomaly gives CAP_ANOM_BURST lines and a count, not a line each. */
static void rate_limit(void **state)
{
    (void)state;
    struct t t;
    t_init(&t, 16, 16);
    uint8_t b[FRAME_MAX];
    for (int i = 0; i < 1000; i++) {
        feed_at(&t, CL(), SV(), b, m7(b, false, false, 0, CAP_M7_MON_GETLIST, 0, 0),
                i * 0.001);
    }
    const struct cap_stats *st = t_end(&t);
    assert_int_equal(t.r.anom[CAP_A_MONLIST], CAP_ANOM_BURST + 1);
    assert_int_equal(t.r.summaries, 1);
    assert_string_equal(
        t.r.last_detail,
        "997 more occurrences in this flow not reported one by one (1000 in all)");
    assert_int_equal(st->anomalies[CAP_SEV_CRIT], 1000);
    t_free(&t);
}

static void flow_eviction(void **state)
{
    (void)state;
    struct t t;
    t_init(&t, 2, 16);
    for (int i = 0; i < 5; i++) {
        struct ntk_addr cl = v4(10, 0, 0, (uint8_t)(10 + i), 40000);
        exchange_at(&t, &cl, SV(), i, 2, 0xc0000201);
    }
    /* Touch the flow of client .13 so .14 is the least recently used. */
    struct ntk_addr c13 = v4(10, 0, 0, 13, 41000);
    exchange_at(&t, &c13, SV(), 10, 2, 0xc0000201);
    struct ntk_addr c20 = v4(10, 0, 0, 20, 40000);
    exchange_at(&t, &c20, SV(), 11, 2, 0xc0000201);
    assert_int_equal(t.r.evicted_flows, 4);
    uint8_t want[4] = {10, 0, 0, 14};
    assert_memory_equal(t.r.last_flow.client.ip, want, 4);
    assert_true(t.r.last_flow.evicted);
    const struct cap_stats *st = t_end(&t);
    assert_int_equal(st->flows, 6);
    assert_int_equal(st->flow_evictions, 4);
    assert_int_equal(t.r.flows, 6);
    assert_int_equal(st->exchanges, 7);
    t_free(&t);
}

/* ---- the ceiling ---- */

/* Replays the frames of tests/data/NAME.pcap (nf of them) through one analyzer until
 * 1,000,000 frames were fed, each replay 300 s after the last, and prints packets/s. */
static void replay_speed(const char *name, int nf_want, uint64_t exch_per_replay)
{
    static uint8_t frames[64][2048];
    size_t len[64], wire[64];
    int64_t sec[64];
    uint32_t nsec[64];
    int nf = 0;
    char err[PCAP_ERRBUF_SIZE], path[512];
    snprintf(path, sizeof path, "%s/%s.pcap", NTK_TEST_DATA_DIR, name);
    pcap_t *pc =
        pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
    assert_non_null(pc);
    int link = pcap_datalink(pc);
    struct pcap_pkthdr *h;
    const u_char *d;
    while (nf < 64 && pcap_next_ex(pc, &h, &d) == 1) {
        assert_true(h->caplen <= sizeof frames[0]);
        memcpy(frames[nf], d, h->caplen);
        len[nf] = h->caplen;
        wire[nf] = h->len;
        sec[nf] = (int64_t)h->ts.tv_sec;
        nsec[nf] = (uint32_t)h->ts.tv_usec;
        nf++;
    }
    pcap_close(pc);
    assert_int_equal(nf, nf_want);
    struct cap_cfg cfg;
    cap_cfg_default(&cfg);
    struct cap_sink sink = {0};
    struct cap *c = cap_new(&cfg, &sink);
    const long total = 1000000;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < total; i++) {
        int k = (int)(i % nf);
        cap_feed(c, link, frames[k], len[k], wire[k], sec[k] + (i / nf) * 300, nsec[k]);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cap_finish(c);
    double dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    const struct cap_stats *st = cap_stats(c);
    print_message("cap_feed: %ld frames (%s x %ld, %llu NTP) in %.3f s = %.0f packets/s, "
                  "%llu exchanges\n",
                  total, name, total / nf, (unsigned long long)st->ntp, dt, (double)total / dt,
                  (unsigned long long)st->exchanges);
    assert_int_equal(st->frames, (uint64_t)total);
    assert_true(st->exchanges >= (uint64_t)(total / nf) * exch_per_replay);
    cap_destroy(c);
}

/* The ceiling of the core: the biggest capture (nts.pcap, 56 frames, NTS-KE TCP included)
 * and the one with the most NTP packets (symkey.pcap, 46). */
static void throughput(void **state)
{
    (void)state;
    print_message("memory: %zu bytes per pending request, %zu per flow (tables grow on demand "
                  "up to max_pending / max_flows)\n",
                  sizeof(struct cap_pend), sizeof(struct cap_flow_ent));
    replay_speed("nts", 56, 9);
    replay_speed("symkey", 46, 21);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(link_types),
        cmocka_unit_test(ip_options_and_ext_headers),
        cmocka_unit_test(truncations),
        cmocka_unit_test(malformed),
        cmocka_unit_test(mutated_frames),
        cmocka_unit_test(ntske_tls),
        cmocka_unit_test(offsets_exact),
        cmocka_unit_test(interleaved),
        cmocka_unit_test(loss_jitter),
        cmocka_unit_test(pairing),
        cmocka_unit_test(pending_table_full),
        cmocka_unit_test(pairing_property),
        cmocka_unit_test(mode6_reassembly),
        cmocka_unit_test(mode7_monlist),
        cmocka_unit_test(normal_traffic_is_quiet),
        cmocka_unit_test(anomaly_codes),
        cmocka_unit_test(rate_limit),
        cmocka_unit_test(request_kinds),
        cmocka_unit_test(request_line_passed_through),
        cmocka_unit_test(flow_eviction),
        cmocka_unit_test(throughput),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
