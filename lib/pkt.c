/* SPDX-License-Identifier: BSD-2-Clause */
/* NTP header codec, deterministic extension-field / MAC layout, kiss codes (ntk/pkt.h). */
#include "ntk/pkt.h"
#include "ntk/ef.h"
#include "ntk/err.h"

#include <string.h>

#include "poison.h"

/* The enum ntk_err a reject reason is reported with. */
static int reject_err(enum ntk_pkt_reject why)
{
    switch (why) {
    case NTK_PKT_OK:
        return NTK_OK;
    case NTK_PKT_TOO_SHORT:
        return NTK_ETRUNC;
    case NTK_PKT_BAD_VERSION:
        return NTK_EVERSION;
    case NTK_PKT_MODE_CONTROL:
    case NTK_PKT_MODE_PRIVATE:
        return NTK_EUNSUPP;
    default:
        return NTK_EFORMAT;
    }
}

/* Splits the first byte: LI (2 bits), VN (3 bits), Mode (3 bits), RFC 5905 Figure 8. */
static void split_flags(uint8_t b, enum ntk_leap *leap, uint8_t *version, enum ntk_mode *mode)
{
    *leap = (enum ntk_leap)(b >> 6);
    *version = (uint8_t)((b >> 3) & 7);
    *mode = (enum ntk_mode)(b & 7);
}

/* Rules 1-3: dispatch modes 6 and 7 away, then gate the length before any semantics. */
static enum ntk_pkt_reject check_gate(const struct ntk_rd *r)
{
    struct ntk_rd c = *r;
    uint8_t b = ntk_rd_u8(&c);
    if (ntk_rd_err(&c) != NTK_OK) {
        return NTK_PKT_TOO_SHORT;
    }
    if ((b & 7) == NTK_MODE_CONTROL) {
        return NTK_PKT_MODE_CONTROL;
    }
    if ((b & 7) == NTK_MODE_PRIVATE) {
        return NTK_PKT_MODE_PRIVATE;
    }
    return ntk_rd_left(r) < NTK_PKT_HDR_LEN ? NTK_PKT_TOO_SHORT : NTK_PKT_OK;
}

/* Reads a 64-bit timestamp; the wire layout (seconds word first) is ntk_ts's own. */
static ntk_ts read_ts(struct ntk_rd *r)
{
    ntk_ts ts = {.v = ntk_rd_be64(r)};
    return ts;
}

/* Decodes the 48-byte header straight-line; the caller tests the cursor's error once. */
static void read_header(struct ntk_rd *r, struct ntk_pkt *p)
{
    split_flags(ntk_rd_u8(r), &p->leap, &p->version, &p->mode);
    p->stratum = ntk_rd_u8(r);
    p->poll_log2 = (int8_t)ntk_rd_u8(r);
    p->precision_log2 = (int8_t)ntk_rd_u8(r);
    p->root_delay = ntk_rd_be32(r);
    p->root_disp = ntk_rd_be32(r);
    p->refid = ntk_rd_be32(r);
    p->reftime = read_ts(r);
    p->org = read_ts(r);
    p->rec = read_ts(r);
    p->xmt = read_ts(r);
}

/* Rules 4-6. */
static enum ntk_pkt_reject check_header(const struct ntk_pkt *p, size_t len)
{
    if (p->version < 1 || p->version > 4) {
        return NTK_PKT_BAD_VERSION;
    }
    /* RFC 1059 packets carry no mode (the bits are zero); later versions must. */
    if (p->mode == NTK_MODE_RESERVED && p->version != 1) {
        return NTK_PKT_BAD_MODE;
    }
    return len % 4 == 0 ? NTK_PKT_OK : NTK_PKT_BAD_LENGTH;
}

/* Rule 7: walks the v4 extension fields while more than a MAC's worth of bytes is left, and
 * moves r past them. */
static enum ntk_pkt_reject walk_fields(struct ntk_rd *r, struct ntk_pkt_layout *l)
{
    struct ntk_ef_iter it;
    struct ntk_ef ef;
    ntk_ef_iter_init(&it, r, NTK_EF_MIN_LEN);
    while (ntk_ef_iter_left(&it) > NTK_PKT_MAC_MAX_LEN) {
        if (ntk_ef_next(&it, &ef) != 1) {
            return NTK_PKT_BAD_EF;
        }
        l->ef_len += ef.len;
        l->ef_count++;
    }
    ntk_rd_skip(r, l->ef_len);
    return NTK_PKT_OK;
}

/* Rule 8: classifies what follows the fields. */
static enum ntk_pkt_reject classify_auth(struct ntk_rd *r, struct ntk_pkt_layout *l)
{
    size_t rem = ntk_rd_left(r);
    l->auth = NTK_PKT_AUTH_NONE;
    l->key_id = 0;
    l->mac_off = l->len;
    l->mac_len = 0;
    switch (rem) {
    case 0:
        return NTK_PKT_OK;
    case NTK_PKT_KEYID_LEN:
        l->auth = NTK_PKT_AUTH_NAK;
        break;
    case NTK_PKT_KEYID_LEN + 16: /* MD5 (RFC 5905), AES-128-CMAC (RFC 8573) */
    case NTK_PKT_KEYID_LEN + 20: /* SHA-1 */
        l->auth = NTK_PKT_AUTH_MAC;
        l->mac_len = rem - NTK_PKT_KEYID_LEN;
        l->mac_off = l->len - l->mac_len;
        break;
    default:
        return NTK_PKT_BAD_MAC_LENGTH;
    }
    l->key_id = ntk_rd_be32(r);
    return NTK_PKT_OK;
}

/* Finds where the fields and the MAC lie in the bytes after the header. */
static enum ntk_pkt_reject classify_trailer(struct ntk_rd *r, const struct ntk_pkt *p,
                                            struct ntk_pkt_layout *l)
{
    l->len = ntk_rd_pos(r) + ntk_rd_left(r);
    l->ef_off = ntk_rd_pos(r);
    l->ef_len = 0;
    l->ef_count = 0;
    if (p->version == 4) {
        enum ntk_pkt_reject why = walk_fields(r, l);
        if (why != NTK_PKT_OK) {
            return why;
        }
    }
    return classify_auth(r, l);
}

/* Applies rules 1-8 to the datagram under r; fills *p and *l as it goes. */
static enum ntk_pkt_reject decode(struct ntk_rd *r, struct ntk_pkt *p,
                                  struct ntk_pkt_layout *l)
{
    enum ntk_pkt_reject why = check_gate(r);
    if (why != NTK_PKT_OK) {
        return why;
    }
    size_t len = ntk_rd_left(r);
    read_header(r, p);
    if (ntk_rd_err(r) != NTK_OK) {
        return NTK_PKT_TOO_SHORT; /* unreachable after the gate; kept as a belt */
    }
    why = check_header(p, len);
    return why != NTK_PKT_OK ? why : classify_trailer(r, p, l);
}

int ntk_pkt_decode(const uint8_t *buf, size_t len, struct ntk_pkt *out,
                   struct ntk_pkt_layout *layout, enum ntk_pkt_reject *why)
{
    struct ntk_rd r;
    struct ntk_pkt p;
    struct ntk_pkt_layout l;
    ntk_rd_init(&r, buf, len);
    enum ntk_pkt_reject res = decode(&r, &p, &l);
    if (why) {
        *why = res;
    }
    if (res != NTK_PKT_OK) {
        return reject_err(res);
    }
    *out = p;
    if (layout) {
        *layout = l;
    }
    return NTK_OK;
}

int ntk_pkt_peek(const uint8_t *buf, size_t len, enum ntk_leap *leap, uint8_t *version,
                 enum ntk_mode *mode)
{
    struct ntk_rd r;
    ntk_rd_init(&r, buf, len);
    uint8_t b = ntk_rd_u8(&r);
    if (ntk_rd_err(&r) != NTK_OK) {
        return NTK_ETRUNC;
    }
    enum ntk_leap l;
    uint8_t v;
    enum ntk_mode m;
    split_flags(b, &l, &v, &m);
    if (leap) {
        *leap = l;
    }
    if (version) {
        *version = v;
    }
    if (mode) {
        *mode = m;
    }
    return NTK_OK;
}

int ntk_pkt_encode(struct ntk_wr *w, const struct ntk_pkt *p)
{
    if ((unsigned)p->leap > 3 || p->version > 7 || (unsigned)p->mode > 7) {
        return NTK_EINVAL;
    }
    /* Reserve the whole header first so that a short buffer gets nothing half-written. */
    uint8_t *q = ntk_wr_reserve(w, NTK_PKT_HDR_LEN);
    if (!q) {
        return NTK_ENOSPC;
    }
    struct ntk_wr h;
    ntk_wr_init(&h, q, NTK_PKT_HDR_LEN);
    ntk_wr_u8(
        &h, (uint8_t)((unsigned)p->leap << 6 | (unsigned)p->version << 3 | (unsigned)p->mode));
    ntk_wr_u8(&h, p->stratum);
    ntk_wr_u8(&h, (uint8_t)p->poll_log2);
    ntk_wr_u8(&h, (uint8_t)p->precision_log2);
    ntk_wr_be32(&h, p->root_delay);
    ntk_wr_be32(&h, p->root_disp);
    ntk_wr_be32(&h, p->refid);
    ntk_wr_be64(&h, p->reftime.v);
    ntk_wr_be64(&h, p->org.v);
    ntk_wr_be64(&h, p->rec.v);
    ntk_wr_be64(&h, p->xmt.v);
    return ntk_wr_err(&h); /* exactly 48 bytes: cannot fail */
}

const char *ntk_pkt_reject_name(enum ntk_pkt_reject why)
{
    static const char *const names[NTK_PKT_REJECT_COUNT] = {
        [NTK_PKT_OK] = "ok",
        [NTK_PKT_TOO_SHORT] = "too_short",
        [NTK_PKT_BAD_LENGTH] = "bad_length",
        [NTK_PKT_BAD_VERSION] = "bad_version",
        [NTK_PKT_BAD_MODE] = "bad_mode",
        [NTK_PKT_MODE_CONTROL] = "mode_control",
        [NTK_PKT_MODE_PRIVATE] = "mode_private",
        [NTK_PKT_BAD_EF] = "bad_ef",
        [NTK_PKT_BAD_MAC_LENGTH] = "bad_mac_length",
    };
    if ((unsigned)why >= NTK_PKT_REJECT_COUNT) {
        return "unknown";
    }
    return names[why];
}

/* The known kiss codes, in the order of enum ntk_kiss from NTK_KISS_ACST on. */
static const char kiss_codes[][5] = {
    "ACST", "AUTH", "AUTO", "BCST", "CRYP", "DENY", "DROP", "RSTR",
    "INIT", "MCST", "NKEY", "NTSN", "RATE", "RMOT", "STEP",
};

enum { KISS_CODE_COUNT = sizeof kiss_codes / sizeof kiss_codes[0] };

_Static_assert(NTK_KISS_STEP - NTK_KISS_ACST + 1 == KISS_CODE_COUNT, "kiss table and enum");

bool ntk_pkt_is_kod(const struct ntk_pkt *p)
{
    /* RFC 5905 §7.4: stratum 0 turns the refid into a kiss code. Only a time source's
     * packets count: clients send stratum 0 with refid 0 in every request. */
    switch (p->mode) {
    case NTK_MODE_SYM_ACTIVE:
    case NTK_MODE_SYM_PASSIVE:
    case NTK_MODE_SERVER:
    case NTK_MODE_BROADCAST:
        return p->stratum == 0;
    default:
        return false;
    }
}

/* The refid's 4 wire bytes, first byte first. */
static void refid_bytes(uint32_t refid, uint8_t b[4])
{
    for (int i = 0; i < 4; i++) {
        b[i] = (uint8_t)(refid >> (24 - 8 * i));
    }
}

enum ntk_kiss ntk_pkt_kiss(const struct ntk_pkt *p)
{
    if (!ntk_pkt_is_kod(p)) {
        return NTK_KISS_NONE;
    }
    uint8_t b[4];
    refid_bytes(p->refid, b);
    for (int i = 0; i < KISS_CODE_COUNT; i++) {
        if (memcmp(b, kiss_codes[i], 4) == 0) {
            return (enum ntk_kiss)(NTK_KISS_ACST + i);
        }
    }
    return NTK_KISS_UNKNOWN;
}

bool ntk_pkt_kiss_code(const struct ntk_pkt *p, char code[5])
{
    if (!ntk_pkt_is_kod(p)) {
        return false;
    }
    uint8_t b[4];
    refid_bytes(p->refid, b);
    for (int i = 0; i < 4; i++) {
        code[i] = (b[i] >= 0x20 && b[i] <= 0x7e) ? (char)b[i] : '?';
    }
    code[4] = '\0';
    return true;
}

const char *ntk_kiss_name(enum ntk_kiss k)
{
    if (k == NTK_KISS_NONE) {
        return "none";
    }
    if (k >= NTK_KISS_ACST && k < NTK_KISS_ACST + KISS_CODE_COUNT) {
        return kiss_codes[k - NTK_KISS_ACST];
    }
    return "unknown";
}
