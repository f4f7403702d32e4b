/* SPDX-License-Identifier: BSD-2-Clause */
/* Decodes a captured frame down to its NTP (or NTS-KE TCP) payload, every byte through lib/'s
 * bounded cursors, and the payload through lib/'s NTP, extension-field and mode-6 codecs. */
#include <stddef.h>
#include <string.h>

#include "cap_decode.h"

#include "ntk/buf.h"
#include "ntk/ctl.h"
#include "ntk/ef.h"
#include "ntk/err.h"
#include "ntk/pkt.h"

#include "poison.h"

/* Ethertypes (IEEE 802 numbers). */
enum {
    ETH_IPV4 = 0x0800,
    ETH_IPV6 = 0x86dd,
    ETH_VLAN = 0x8100, /* 802.1Q */
    ETH_QINQ = 0x88a8, /* 802.1ad */
    ETH_QINQ_OLD = 0x9100,
};

/* Most VLAN tags and IPv6 extension headers walked (bounds every loop). */
enum { MAX_TAGS = 4, MAX_EXTHDRS = 8 };

/* IP protocol numbers. */
enum {
    IP_HOPOPTS = 0,
    IP_TCP = 6,
    IP_UDP = 17,
    IP_ROUTING = 43,
    IP_FRAGMENT = 44,
    IP_AH = 51,
    IP_DSTOPTS = 60
};

/* Internal result of the network layer: "go on" or a final enum cap_what. */
enum { GO_ON = -1 };

/* What the IP layer hands to the transport layer. */
struct l4 {
    uint8_t proto;   /* IP protocol */
    size_t len;      /* transport bytes according to the IP header */
    bool frag_first; /* first fragment of a larger datagram */
    uint8_t sip[16], dip[16];
    bool v6;
};

static bool is_ntske(uint16_t a, uint16_t b)
{
    return a == CAP_PORT_NTSKE || b == CAP_PORT_NTSKE;
}

/* Copies n bytes at s into out[cap] as printable ASCII ('?' for anything else). */
static void copy_text(const uint8_t *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (; k < n && k + 1 < cap; k++) {
        out[k] = (s[k] >= 0x20 && s[k] < 0x7f) ? (char)s[k] : '?';
    }
    out[k] = '\0';
}

/* The link layer: leaves r at the network header and returns 4 or 6, or a final cap_what. */
static int decode_link(int link, struct ntk_rd *r)
{
    uint16_t type = 0;
    switch (link) {
    case CAP_LINK_NULL: {
        uint8_t f[4];
        ntk_rd_bytes(r, f, sizeof f);
        /* The family is in the capturing host's byte order: take the non-zero half. */
        uint32_t fam =
            (f[0] | f[1]) ? (uint32_t)(f[0] | f[1] << 8) : (uint32_t)(f[2] << 8 | f[3]);
        if (ntk_rd_err(r)) {
            return CAP_TRUNCATED;
        }
        return fam == 2                                             ? 4
               : (fam == 10 || fam == 24 || fam == 28 || fam == 30) ? 6
                                                                    : CAP_OTHER;
    }
    case CAP_LINK_EN10MB:
        ntk_rd_skip(r, 12);
        type = ntk_rd_be16(r);
        for (int i = 0;
             i < MAX_TAGS && (type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD);
             i++) {
            ntk_rd_skip(r, 2); /* TCI */
            type = ntk_rd_be16(r);
        }
        break;
    case CAP_LINK_RAW: {
        struct ntk_rd look = *r; /* the version nibble, without consuming it */
        uint8_t ver = (uint8_t)(ntk_rd_u8(&look) >> 4);
        if (ntk_rd_err(&look)) {
            return CAP_TRUNCATED;
        }
        return ver == 4 ? 4 : ver == 6 ? 6 : CAP_OTHER;
    }
    case CAP_LINK_LINUX_SLL:
        ntk_rd_skip(r, 14);
        type = ntk_rd_be16(r);
        break;
    case CAP_LINK_LINUX_SLL2:
        type = ntk_rd_be16(r);
        ntk_rd_skip(r, 18);
        break;
    default:
        return CAP_OTHER;
    }
    if (ntk_rd_err(r)) {
        return CAP_TRUNCATED;
    }
    return type == ETH_IPV4 ? 4 : type == ETH_IPV6 ? 6 : CAP_OTHER;
}

/* IPv4 (RFC 791): options skipped, non-first fragments are CAP_OTHER. */
static int decode_ipv4(struct ntk_rd *r, size_t wire_left, struct cap_pkt *p, struct l4 *o)
{
    if (ntk_rd_left(r) < 20) {
        return CAP_TRUNCATED;
    }
    uint8_t b0 = ntk_rd_u8(r);
    size_t ihl = (size_t)(b0 & 15) * 4;
    p->dscp = (uint8_t)(ntk_rd_u8(r) >> 2);
    size_t total = ntk_rd_be16(r);
    ntk_rd_skip(r, 2); /* identification */
    uint16_t frag = ntk_rd_be16(r);
    p->ttl = ntk_rd_u8(r);
    o->proto = ntk_rd_u8(r);
    ntk_rd_skip(r, 2); /* checksum: offloaded on capture hosts, never checked */
    ntk_rd_bytes(r, o->sip, 4);
    ntk_rd_bytes(r, o->dip, 4);
    ntk_addr_set_v4(&p->src, o->sip, 0);
    ntk_addr_set_v4(&p->dst, o->dip, 0);
    if ((b0 >> 4) != 4 || ihl < 20 || total < ihl || total > wire_left) {
        return CAP_MALFORMED;
    }
    if (ntk_rd_left(r) < ihl - 20) {
        return CAP_TRUNCATED;
    }
    ntk_rd_skip(r, ihl - 20);
    if ((frag & 0x1fff) != 0) {
        return CAP_OTHER;
    }
    o->frag_first = (frag & 0x2000) != 0;
    o->len = total - ihl;
    return GO_ON;
}

/* One IPv6 extension header (RFC 8200 §4) of nh; updates *nh and *left. */
static int skip_ext6(struct ntk_rd *r, uint8_t *nh, size_t *left, struct l4 *o)
{
    if (ntk_rd_left(r) < 2) {
        return CAP_TRUNCATED;
    }
    uint8_t next = ntk_rd_u8(r);
    uint8_t hl = ntk_rd_u8(r);
    size_t size = *nh == IP_FRAGMENT ? 8
                  : *nh == IP_AH     ? ((size_t)hl + 2) * 4
                                     : ((size_t)hl + 1) * 8;
    if (size > *left) {
        return CAP_MALFORMED;
    }
    if (ntk_rd_left(r) < size - 2) {
        return CAP_TRUNCATED;
    }
    if (*nh == IP_FRAGMENT) {
        uint16_t fo = ntk_rd_be16(r);
        ntk_rd_skip(r, 4);
        if ((fo >> 3) != 0) {
            return CAP_OTHER;
        }
        o->frag_first = (fo & 1) != 0;
    } else {
        ntk_rd_skip(r, size - 2);
    }
    *left -= size;
    *nh = next;
    return GO_ON;
}

/* IPv6 (RFC 8200) with hop-by-hop, routing, destination options, fragment and AH headers. */
static int decode_ipv6(struct ntk_rd *r, size_t wire_left, struct cap_pkt *p, struct l4 *o)
{
    if (ntk_rd_left(r) < 40) {
        return CAP_TRUNCATED;
    }
    uint32_t w = ntk_rd_be32(r);
    size_t plen = ntk_rd_be16(r);
    uint8_t nh = ntk_rd_u8(r);
    p->ttl = ntk_rd_u8(r);
    p->dscp = (uint8_t)((w >> 22) & 0x3f);
    ntk_rd_bytes(r, o->sip, 16);
    ntk_rd_bytes(r, o->dip, 16);
    o->v6 = true;
    ntk_addr_set_v6(&p->src, o->sip, 0, 0);
    ntk_addr_set_v6(&p->dst, o->dip, 0, 0);
    /* A zero payload length is a jumbogram (RFC 2675): not NTP, and not supported. */
    if ((w >> 28) != 6 || plen == 0 || plen + 40 > wire_left) {
        return CAP_MALFORMED;
    }
    for (int i = 0; i < MAX_EXTHDRS; i++) {
        if (nh != IP_HOPOPTS && nh != IP_ROUTING && nh != IP_DSTOPTS && nh != IP_FRAGMENT &&
            nh != IP_AH) {
            break;
        }
        int rc = skip_ext6(r, &nh, &plen, o);
        if (rc != GO_ON) {
            return rc;
        }
    }
    o->proto = nh;
    o->len = plen;
    return GO_ON;
}

static void set_ports(struct cap_pkt *p, const struct l4 *o, uint16_t sp, uint16_t dp)
{
    if (o->v6) {
        ntk_addr_set_v6(&p->src, o->sip, sp, 0);
        ntk_addr_set_v6(&p->dst, o->dip, dp, 0);
    } else {
        ntk_addr_set_v4(&p->src, o->sip, sp);
        ntk_addr_set_v4(&p->dst, o->dip, dp);
    }
}

/* UDP (RFC 768): the payload, then NTP on port 123 or anything that decodes as NTP. */
static void decode_ntp_zeroed(const uint8_t *pl, size_t len, struct cap_pkt *p);

/* p was zeroed by cap_decode_frame: its NTP fields need no second clearing. */
static int decode_udp(struct ntk_rd *r, const struct l4 *o, struct cap_pkt *p,
                      struct cap_dec *d)
{
    if (ntk_rd_left(r) < 8) {
        return CAP_TRUNCATED;
    }
    uint16_t sp = ntk_rd_be16(r);
    uint16_t dp = ntk_rd_be16(r);
    size_t ulen = ntk_rd_be16(r);
    ntk_rd_skip(r, 2);
    set_ports(p, o, sp, dp);
    /* A first fragment carries only part of the datagram the UDP length describes. */
    if (ulen < 8 || (!o->frag_first && ulen > o->len) || o->len < 8) {
        return CAP_MALFORMED;
    }
    size_t data = ulen - 8;
    size_t have = data;
    if (have > o->len - 8) {
        have = o->len - 8;
    }
    if (have > ntk_rd_left(r)) {
        have = ntk_rd_left(r);
    }
    d->payload = ntk_rd_ptr(r, have);
    d->payload_len = have;
    p->payload_len = have;
    p->payload_truncated = have < data;
    p->ip_fragment = o->frag_first;
    if (sp == CAP_PORT_NTP || dp == CAP_PORT_NTP) {
        decode_ntp_zeroed(d->payload, have, p);
        return CAP_NTP;
    }
    struct cap_pkt t = *p;
    decode_ntp_zeroed(d->payload, have, &t);
    if (t.decoded && t.mode >= NTK_MODE_SYM_ACTIVE && t.mode <= NTK_MODE_BROADCAST) {
        *p = t;
        return CAP_NTP;
    }
    return CAP_OTHER;
}

/* TCP (RFC 9293) to or from port 4460: flags, data size, a ClientHello's SNI and ALPN. */
static int decode_tcp(struct ntk_rd *r, const struct l4 *o, struct cap_pkt *p,
                      struct cap_dec *d)
{
    if (ntk_rd_left(r) < 20) {
        return CAP_TRUNCATED;
    }
    uint16_t sp = ntk_rd_be16(r);
    uint16_t dp = ntk_rd_be16(r);
    uint32_t seq = ntk_rd_be32(r);
    ntk_rd_skip(r, 4); /* acknowledgment number */
    size_t off = (size_t)(ntk_rd_u8(r) >> 4) * 4;
    uint8_t flags = ntk_rd_u8(r);
    ntk_rd_skip(r, 6);
    set_ports(p, o, sp, dp);
    if (!is_ntske(sp, dp)) {
        return CAP_OTHER;
    }
    if (off < 20 || off > o->len) {
        return CAP_MALFORMED;
    }
    if (ntk_rd_left(r) < off - 20) {
        return CAP_TRUNCATED;
    }
    ntk_rd_skip(r, off - 20);
    size_t data = o->len - off;
    size_t have = data < ntk_rd_left(r) ? data : ntk_rd_left(r);
    d->payload = ntk_rd_ptr(r, have);
    d->payload_len = have;
    p->payload_len = have;
    p->payload_truncated = have < data;
    p->ip_fragment = o->frag_first;
    p->tcp_flags = flags;
    p->tcp_seq = seq;
    if (have > 0) {
        (void)cap_decode_tls_hello(d->payload, have, p->tls_sni, sizeof p->tls_sni,
                                   p->tls_alpn, sizeof p->tls_alpn);
    }
    return CAP_NTSKE;
}

enum cap_what cap_decode_frame(int link, const uint8_t *frame, size_t caplen, size_t wire_len,
                               struct cap_pkt *p, struct cap_dec *d)
{
    struct ntk_rd r;
    struct l4 o;
    memset(p, 0, sizeof *p);
    memset(d, 0, sizeof *d);
    memset(&o, 0, sizeof o);
    ntk_rd_init(&r, frame, caplen);
    if (wire_len < caplen) {
        wire_len = caplen;
    }
    int rc = decode_link(link, &r);
    if (rc == 4 || rc == 6) {
        size_t wire_left = wire_len - ntk_rd_pos(&r);
        rc = rc == 4 ? decode_ipv4(&r, wire_left, p, &o) : decode_ipv6(&r, wire_left, p, &o);
    }
    if (rc == GO_ON) {
        rc = o.proto == IP_UDP   ? decode_udp(&r, &o, p, d)
             : o.proto == IP_TCP ? decode_tcp(&r, &o, p, d)
                                 : CAP_OTHER;
    }
    p->what = (enum cap_what)rc;
    return p->what;
}

/* The legacy MAC and the extension fields of an accepted mode 1-5 packet. */
static void decode_trailer(const uint8_t *pl, size_t len, const struct ntk_pkt_layout *l,
                           struct cap_pkt *p)
{
    if (l->auth == NTK_PKT_AUTH_NAK) {
        p->mac_len = NTK_PKT_KEYID_LEN;
        p->keyid = l->key_id;
    } else if (l->auth == NTK_PKT_AUTH_MAC) {
        p->mac_len = NTK_PKT_KEYID_LEN + l->mac_len;
        p->keyid = l->key_id;
    }
    struct ntk_rd r, area;
    struct ntk_ef_iter it;
    struct ntk_ef ef;
    ntk_rd_init(&r, pl, len);
    ntk_rd_skip(&r, l->ef_off);
    ntk_rd_sub(&r, l->ef_len, &area);
    ntk_ef_iter_init(&it, &area, NTK_EF_MIN_LEN);
    int rc;
    while ((rc = ntk_ef_next(&it, &ef)) == 1) {
        if (p->n_ef < 8) {
            p->ef_types[p->n_ef] = ef.type;
            p->ef_lens[p->n_ef] = (uint16_t)ef.len;
        }
        p->n_ef++;
        p->nts_uid |= ef.type == NTK_EF_NTS_UID;
        p->nts_cookie |= ef.type == NTK_EF_NTS_COOKIE;
        p->nts_auth |= ef.type == NTK_EF_NTS_AUTH;
        p->nts_placeholders += ef.type == NTK_EF_NTS_COOKIE_PLACEHOLDER;
    }
    p->ef_malformed = rc < 0;
}

/* Modes 0-5 through ntk_pkt_decode. */
static void decode_std(const uint8_t *pl, size_t len, struct cap_pkt *p)
{
    struct ntk_pkt h;
    struct ntk_pkt_layout l;
    enum ntk_pkt_reject why;
    int rc = ntk_pkt_decode(pl, len, &h, &l, &why);
    p->reject = why;
    if (rc < 0) {
        p->ef_malformed = why == NTK_PKT_BAD_EF;
        return;
    }
    p->decoded = true;
    p->hdr = h;
    p->stratum = h.stratum;
    (void)ntk_pkt_kiss_code(&h, p->kiss);
    decode_trailer(pl, len, &l, p);
}

/* True if the n bytes at s contain "nonce=" (a READ_MRU request that carries its nonce). */
static bool has_nonce(const uint8_t *s, size_t n)
{
    static const char key[] = "nonce=";
    const size_t k = sizeof key - 1;
    for (size_t i = 0; i + k <= n; i++) {
        if (memcmp(s + i, key, k) == 0) {
            return true;
        }
    }
    return false;
}

/* Mode 6 (RFC 9327 §2): the header by cursor, validity by ntk_ctl_decode. */
static void decode_m6(const uint8_t *pl, size_t len, struct cap_pkt *p)
{
    struct ntk_rd r;
    ntk_rd_init(&r, pl, len);
    ntk_rd_skip(&r, 1);
    uint8_t b1 = ntk_rd_u8(&r);
    p->m6_seq = ntk_rd_be16(&r);
    p->m6_status = ntk_rd_be16(&r);
    p->m6_associd = ntk_rd_be16(&r);
    p->m6_offset = ntk_rd_be16(&r);
    p->m6_count = ntk_rd_be16(&r);
    p->reject = NTK_PKT_MODE_CONTROL;
    if (ntk_rd_err(&r)) {
        p->m6_seq = p->m6_status = p->m6_associd = p->m6_offset = p->m6_count = 0;
        return;
    }
    p->m6_response = (b1 & 0x80) != 0;
    p->m6_error = (b1 & 0x40) != 0;
    p->m6_more = (b1 & 0x20) != 0;
    p->m6_opcode = b1 & 0x1f;
    struct ntk_ctl_msg m;
    p->decoded = ntk_ctl_decode(pl, len, &m) == 0;
    if (!p->m6_response) {
        const uint8_t *data = ntk_rd_peek(&r);
        size_t n = ntk_rd_left(&r);
        n = p->m6_count < n ? p->m6_count : n;
        p->m6_nonce = p->m6_opcode == NTK_CTL_OP_REQ_NONCE || (data && has_nonce(data, n));
    }
}

/* Mode 7 (NTP Classic ntp_request.h): R M VN mode | A seq | impl | code | err nitems | mbz
 * itemsize. */
static void decode_m7(const uint8_t *pl, size_t len, struct cap_pkt *p)
{
    struct ntk_rd r;
    ntk_rd_init(&r, pl, len);
    uint8_t b0 = ntk_rd_u8(&r);
    uint8_t b1 = ntk_rd_u8(&r);
    uint8_t impl = ntk_rd_u8(&r);
    uint8_t code = ntk_rd_u8(&r);
    uint16_t items = ntk_rd_be16(&r);
    uint16_t size = ntk_rd_be16(&r);
    p->reject = NTK_PKT_MODE_PRIVATE;
    if (ntk_rd_err(&r)) {
        return;
    }
    p->decoded = true;
    p->m7_response = (b0 & 0x80) != 0;
    p->m7_more = (b0 & 0x40) != 0;
    p->m7_seq = b1 & 0x7f;
    p->m7_impl = impl;
    p->m7_reqcode = code;
    p->m7_items = items & 0x0fff;
    p->m7_itemsize = size & 0x0fff;
}

/* cap_decode_ntp on a packet whose NTP fields are zero. */
static void decode_ntp_zeroed(const uint8_t *pl, size_t len, struct cap_pkt *p)
{
    enum ntk_leap leap;
    uint8_t version;
    enum ntk_mode mode;
    if (ntk_pkt_peek(pl, len, &leap, &version, &mode) < 0) {
        p->reject = NTK_PKT_TOO_SHORT;
        return;
    }
    p->leap = (uint8_t)leap;
    p->version = version;
    p->mode = (uint8_t)mode;
    if (mode == NTK_MODE_CONTROL) {
        decode_m6(pl, len, p);
    } else if (mode == NTK_MODE_PRIVATE) {
        decode_m7(pl, len, p);
    } else {
        struct ntk_rd r;
        ntk_rd_init(&r, pl, len);
        ntk_rd_skip(&r, 1);
        p->stratum = ntk_rd_u8(&r); /* 0 when absent */
        decode_std(pl, len, p);
    }
}

void cap_decode_ntp(const uint8_t *pl, size_t len, struct cap_pkt *p)
{
    /* The NTP fields are the last ones of struct cap_pkt, from decoded on. */
    memset((char *)p + offsetof(struct cap_pkt, decoded), 0,
           sizeof *p - offsetof(struct cap_pkt, decoded));
    decode_ntp_zeroed(pl, len, p);
}

/* The server_name extension (RFC 6066 §3): the first host_name. */
static void tls_sni(struct ntk_rd *e, char *sni, size_t cap)
{
    struct ntk_rd list;
    ntk_rd_sub(e, ntk_rd_be16(e), &list);
    while (ntk_rd_left(&list) >= 3) {
        uint8_t type = ntk_rd_u8(&list);
        size_t n = ntk_rd_be16(&list);
        const uint8_t *name = ntk_rd_ptr(&list, n);
        if (name && type == 0) {
            copy_text(name, n, sni, cap);
            return;
        }
    }
}

/* The ALPN extension (RFC 7301 §3.1): the first protocol name. */
static void tls_alpn(struct ntk_rd *e, char *alpn, size_t cap)
{
    struct ntk_rd list;
    ntk_rd_sub(e, ntk_rd_be16(e), &list);
    size_t n = ntk_rd_u8(&list);
    const uint8_t *name = ntk_rd_ptr(&list, n);
    if (name && n > 0) {
        copy_text(name, n, alpn, cap);
    }
}

int cap_decode_tls_hello(const uint8_t *p, size_t len, char *sni, size_t sni_cap, char *alpn,
                         size_t alpn_cap)
{
    struct ntk_rd r, rec, hello, exts;
    sni[0] = '\0';
    alpn[0] = '\0';
    ntk_rd_init(&r, p, len);
    uint8_t ctype = ntk_rd_u8(&r);
    ntk_rd_skip(&r, 2); /* legacy record version */
    ntk_rd_sub(&r, ntk_rd_be16(&r), &rec);
    uint8_t htype = ntk_rd_u8(&rec);
    size_t hlen = (size_t)ntk_rd_u8(&rec) << 16;
    hlen |= ntk_rd_be16(&rec);
    ntk_rd_sub(&rec, hlen, &hello);
    if (ntk_rd_err(&rec) || ctype != 0x16 || htype != 1) {
        return ntk_rd_err(&rec) ? ntk_rd_err(&rec) : NTK_EFORMAT;
    }
    ntk_rd_skip(&hello, 2 + 32);              /* legacy_version, random */
    ntk_rd_skip(&hello, ntk_rd_u8(&hello));   /* legacy_session_id */
    ntk_rd_skip(&hello, ntk_rd_be16(&hello)); /* cipher_suites */
    ntk_rd_skip(&hello, ntk_rd_u8(&hello));   /* legacy_compression_methods */
    ntk_rd_sub(&hello, ntk_rd_be16(&hello), &exts);
    if (ntk_rd_err(&hello)) {
        return ntk_rd_err(&hello);
    }
    /* Each extension takes at least 4 bytes, so the walk ends. */
    while (ntk_rd_left(&exts) >= 4) {
        uint16_t type = ntk_rd_be16(&exts);
        struct ntk_rd e;
        if (ntk_rd_sub(&exts, ntk_rd_be16(&exts), &e) < 0) {
            break;
        }
        if (type == 0 && sni[0] == '\0') {
            tls_sni(&e, sni, sni_cap);
        } else if (type == 16 && alpn[0] == '\0') {
            tls_alpn(&e, alpn, alpn_cap);
        }
    }
    if (ntk_rd_err(&exts)) {
        sni[0] = '\0';
        alpn[0] = '\0';
        return ntk_rd_err(&exts);
    }
    return 0;
}
