/* SPDX-License-Identifier: BSD-2-Clause */
/* Mode 6 (RFC 9327): header codec, MAC placement, status words, fragmenting, reassembly. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ntk/buf.h"
#include "ntk/ctl.h"
#include "ntk/err.h"
#include "ntk/mac.h"

#include "poison.h"

enum {
    MODE_CONTROL = 6, /* RFC 5905 §7.3 mode 6 */
    FLAG_R = 0x80,    /* response */
    FLAG_E = 0x40,    /* error */
    FLAG_M = 0x20,    /* more */
    OP_MASK = 0x1f,
    KEYID_LEN = 4,
    MAC_SHORT = 16, /* MD5, AES-CMAC */
    MAC_LONG = 20,  /* SHA1 and the truncated SHA-2 digests */
};

static size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

/* ---- decode ------------------------------------------------------------------------- */

static void read_header(struct ntk_rd *r, struct ntk_ctl_hdr *h, uint8_t *mode)
{
    uint8_t lvm = ntk_rd_u8(r);
    uint8_t remo = ntk_rd_u8(r);
    h->leap = (uint8_t)(lvm >> 6);
    h->version = (uint8_t)((lvm >> 3) & 7);
    *mode = (uint8_t)(lvm & 7);
    h->response = (remo & FLAG_R) != 0;
    h->error = (remo & FLAG_E) != 0;
    h->more = (remo & FLAG_M) != 0;
    h->opcode = (uint8_t)(remo & OP_MASK);
    h->sequence = ntk_rd_be16(r);
    h->status = ntk_rd_be16(r);
    h->associd = ntk_rd_be16(r);
    h->offset = ntk_rd_be16(r);
    h->count = ntk_rd_be16(r);
}

/* The rules RFC 9327 §2 and NTPsec put on the flag bits, offset and count. */
static int check_fields(const struct ntk_ctl_hdr *h)
{
    if (h->count > NTK_CTL_DATA_MAX) {
        return NTK_EFORMAT;
    }
    /* NTPsec's ntpd drops requests with R, M or E set or a non-zero offset. */
    if (!h->response && (h->error || h->more || h->offset != 0)) {
        return NTK_EFORMAT;
    }
    /* ntpq: "Error received on non-final fragment"; "count of 0 in non-final fragment". */
    if (h->more && (h->error || h->count == 0)) {
        return NTK_EFORMAT;
    }
    return NTK_OK;
}

/* Classifies the bytes after header + data: padding only, or padding + key id + MAC. */
static int check_trailer(size_t len, size_t count, bool *has_mac)
{
    size_t base = NTK_CTL_HEADER_LEN + count;
    size_t p4 = round_up(base, 4), p8 = round_up(base, 8);
    if (len < p4) {
        return NTK_ETRUNC;
    }
    if (len == p4) {
        *has_mac = false;
        return NTK_OK;
    }
    const size_t mac_at = KEYID_LEN + MAC_SHORT, long_at = KEYID_LEN + MAC_LONG;
    if (len == p4 + mac_at || len == p4 + long_at || len == p8 + mac_at ||
        len == p8 + long_at) {
        *has_mac = true;
        return NTK_OK;
    }
    return len > p8 + long_at ? NTK_EFORMAT : NTK_ETRUNC;
}

int ntk_ctl_decode(const uint8_t *p, size_t len, struct ntk_ctl_msg *out)
{
    struct ntk_rd r;
    struct ntk_ctl_hdr h;
    uint8_t mode;
    ntk_rd_init(&r, p, len);
    read_header(&r, &h, &mode);
    if (ntk_rd_err(&r) != NTK_OK) {
        return NTK_ETRUNC;
    }
    if (mode != MODE_CONTROL) {
        return NTK_EFORMAT;
    }
    if (h.version < 1 || h.version > 4) {
        return NTK_EVERSION;
    }
    int rc = check_fields(&h);
    if (rc != NTK_OK) {
        return rc;
    }
    const uint8_t *data = h.count ? ntk_rd_ptr(&r, h.count) : p + NTK_CTL_HEADER_LEN;
    if (data == NULL) {
        return NTK_ETRUNC;
    }
    bool has_mac;
    rc = check_trailer(len, h.count, &has_mac);
    if (rc != NTK_OK) {
        return rc;
    }
    out->hdr = h;
    out->data = data;
    out->len = len;
    out->has_mac = has_mac;
    return NTK_OK;
}

/* ---- MAC ---------------------------------------------------------------------------- */

static uint32_t load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Tries the layout with the key id at pos. Returns 1 when it does not apply (*why says
 * whether because of an unknown key or a wrong length), else the verification result. */
static int try_layout(struct ntk_mac_keys *ks, const uint8_t *p, size_t len, size_t pos,
                      uint32_t *keyid, int *why)
{
    if (len < pos + KEYID_LEN + MAC_SHORT) {
        return 1;
    }
    size_t mac_len = len - pos - KEYID_LEN;
    uint32_t id = load_be32(p + pos);
    enum ntk_mac_type type;
    if (ntk_mac_keys_lookup(ks, id, &type) != NTK_OK) {
        return 1;
    }
    if (ntk_mac_len(type) != mac_len) {
        *why = NTK_EAUTH;
        return 1;
    }
    int rc = ntk_mac_verify(ks, id, p, pos, p + pos + KEYID_LEN, mac_len);
    if (rc == NTK_OK && keyid != NULL) {
        *keyid = id;
    }
    return rc;
}

int ntk_ctl_verify(struct ntk_mac_keys *ks, const uint8_t *p, size_t len,
                   const struct ntk_ctl_msg *m, uint32_t *keyid)
{
    if (!m->has_mac || ks == NULL || len != m->len) {
        return NTK_EAUTH;
    }
    size_t base = NTK_CTL_HEADER_LEN + m->hdr.count;
    size_t p8 = round_up(base, 8), p4 = round_up(base, 4);
    int why = NTK_ENOTFOUND;
    int rc = try_layout(ks, p, len, p8, keyid, &why);
    if (rc == 1 && p4 != p8) {
        rc = try_layout(ks, p, len, p4, keyid, &why);
    }
    return rc == 1 ? why : rc;
}

/* ---- encode ------------------------------------------------------------------------- */

static bool header_valid(const struct ntk_ctl_hdr *h)
{
    if (h->leap > 3 || h->version == 0 || h->version > 7 || h->opcode > OP_MASK ||
        h->count > NTK_CTL_DATA_MAX) {
        return false;
    }
    if (!h->response && (h->error || h->more || h->offset != 0)) {
        return false;
    }
    return !(h->error && h->more);
}

static void write_header(struct ntk_wr *w, const struct ntk_ctl_hdr *h)
{
    uint8_t remo = (uint8_t)(h->opcode | (h->response ? FLAG_R : 0) | (h->error ? FLAG_E : 0) |
                             (h->more ? FLAG_M : 0));
    ntk_wr_u8(w, (uint8_t)(h->leap << 6 | h->version << 3 | MODE_CONTROL));
    ntk_wr_u8(w, remo);
    ntk_wr_be16(w, h->sequence);
    ntk_wr_be16(w, h->status);
    ntk_wr_be16(w, h->associd);
    ntk_wr_be16(w, h->offset);
    ntk_wr_be16(w, h->count);
}

int ntk_ctl_encode(const struct ntk_ctl_hdr *h, const uint8_t *data, struct ntk_mac_keys *ks,
                   uint32_t keyid, uint8_t *out, size_t cap)
{
    if (!header_valid(h) || (keyid != 0 && ks == NULL) || (h->count && data == NULL)) {
        return NTK_EINVAL;
    }
    size_t base = NTK_CTL_HEADER_LEN + h->count, mac_len = 0;
    /* NTPsec's ntpd wants the MAC on a 64-bit boundary (ctl_flushpkt, ntpq sendrequest). */
    size_t padded = round_up(base, keyid ? 8 : 4);
    if (keyid != 0) {
        enum ntk_mac_type type;
        if (ntk_mac_keys_lookup(ks, keyid, &type) != NTK_OK) {
            return NTK_ENOTFOUND;
        }
        mac_len = ntk_mac_len(type);
    }
    size_t total = padded + (keyid ? KEYID_LEN + mac_len : 0);
    if (cap < total) {
        return NTK_ENOSPC;
    }
    struct ntk_wr w;
    ntk_wr_init(&w, out, cap);
    write_header(&w, h);
    ntk_wr_bytes(&w, data, h->count);
    ntk_wr_zero(&w, padded - base);
    if (keyid == 0) {
        return (int)ntk_wr_len(&w);
    }
    ntk_wr_be32(&w, keyid);
    int rc = ntk_mac_compute(ks, keyid, out, padded, out + padded + KEYID_LEN, mac_len);
    return rc < 0 ? rc : (int)total;
}

/* ---- status words ------------------------------------------------------------------- */

uint8_t ntk_ctl_err_code(uint16_t status)
{
    return (uint8_t)(status >> 8);
}

uint16_t ntk_ctl_err_status(enum ntk_ctl_cerr code)
{
    return (uint16_t)(((unsigned)code & 0xffu) << 8);
}

const char *ntk_ctl_err_name(uint8_t code)
{
    /* Indexed by enum ntk_ctl_cerr (RFC 9327 §2.3). */
    static const char *const texts[] = {
        "unspecified error",      "permission denied",           "request badly formatted",
        "unknown opcode",         "unknown association",         "unknown variable",
        "invalid variable value", "administratively prohibited",
    };
    return code < sizeof texts / sizeof texts[0] ? texts[code] : "unknown error";
}

uint16_t ntk_ctl_sys_status_pack(const struct ntk_ctl_sys_status *s)
{
    return (uint16_t)((s->leap & 3u) << 14 | (s->source & 0x3fu) << 8 |
                      (s->nevents & 0xfu) << 4 | (s->event & 0xfu));
}

void ntk_ctl_sys_status_unpack(uint16_t w, struct ntk_ctl_sys_status *out)
{
    out->leap = (uint8_t)(w >> 14);
    out->source = (uint8_t)((w >> 8) & 0x3f);
    out->nevents = (uint8_t)((w >> 4) & 0xf);
    out->event = (uint8_t)(w & 0xf);
}

uint16_t ntk_ctl_peer_status_pack(const struct ntk_ctl_peer_status *s)
{
    return (uint16_t)((s->flags & 0xf8u) << 8 | (s->sel & 7u) << 8 | (s->nevents & 0xfu) << 4 |
                      (s->event & 0xfu));
}

void ntk_ctl_peer_status_unpack(uint16_t w, struct ntk_ctl_peer_status *out)
{
    out->flags = (uint8_t)((w >> 8) & 0xf8);
    out->sel = (uint8_t)((w >> 8) & 7);
    out->nevents = (uint8_t)((w >> 4) & 0xf);
    out->event = (uint8_t)(w & 0xf);
}

uint16_t ntk_ctl_clk_status_pack(uint8_t status, uint8_t event)
{
    return (uint16_t)(status << 8 | event);
}

int ntk_ctl_assoc_next(const uint8_t *data, size_t len, size_t *pos, uint16_t *associd,
                       uint16_t *status)
{
    if (*pos >= len) {
        return 0;
    }
    if (len - *pos < 4) {
        return NTK_ETRUNC;
    }
    const uint8_t *q = data + *pos;
    *associd = (uint16_t)(q[0] << 8 | q[1]);
    *status = (uint16_t)(q[2] << 8 | q[3]);
    *pos += 4;
    return 1;
}

/* ---- fragmenting -------------------------------------------------------------------- */

int ntk_ctl_split_init(struct ntk_ctl_split *s, const struct ntk_ctl_hdr *h,
                       const uint8_t *data, size_t len, size_t frag_max)
{
    if (frag_max == 0 || frag_max > NTK_CTL_DATA_MAX || !h->response || h->error ||
        (len && data == NULL)) {
        return NTK_EINVAL;
    }
    size_t frags = len == 0 ? 1 : (len + frag_max - 1) / frag_max;
    if (len > NTK_CTL_REASM_MAX || frags > NTK_CTL_FRAGS_MAX) {
        return NTK_ERANGE;
    }
    s->hdr = *h;
    s->data = data;
    s->len = len;
    s->off = 0;
    s->frag_max = frag_max;
    s->done = false;
    return NTK_OK;
}

int ntk_ctl_split_next(struct ntk_ctl_split *s, struct ntk_mac_keys *ks, uint32_t keyid,
                       uint8_t *out, size_t cap)
{
    if (s->done) {
        return 0;
    }
    size_t n = s->len - s->off < s->frag_max ? s->len - s->off : s->frag_max;
    struct ntk_ctl_hdr h = s->hdr;
    h.offset = (uint16_t)s->off;
    h.count = (uint16_t)n;
    h.more = s->off + n < s->len;
    int rc = ntk_ctl_encode(&h, n ? s->data + s->off : NULL, ks, keyid, out, cap);
    if (rc < 0) {
        return rc;
    }
    s->off += n;
    s->done = !h.more;
    return rc;
}

/* ---- reassembly --------------------------------------------------------------------- */

void ntk_ctl_reasm_init(struct ntk_ctl_reasm *r, uint8_t *buf, size_t cap, uint8_t opcode,
                        uint16_t sequence)
{
    memset(r, 0, sizeof *r);
    r->buf = buf;
    r->cap = cap < NTK_CTL_REASM_MAX ? cap : NTK_CTL_REASM_MAX;
    r->opcode = opcode;
    r->sequence = sequence;
}

static bool belongs(const struct ntk_ctl_reasm *r, const struct ntk_ctl_hdr *h)
{
    return h->response && h->opcode == r->opcode && h->sequence == r->sequence &&
           (!r->have_assoc || h->associd == r->associd);
}

/* Index of the first stored fragment whose offset is >= off. */
static size_t find_slot(const struct ntk_ctl_reasm *r, size_t off)
{
    size_t i = 0;
    while (i < r->nfrags && r->frags[i].off < off) {
        i++;
    }
    return i;
}

static size_t frag_end(const struct ntk_ctl_frag *f)
{
    return (size_t)f->off + f->count;
}

/* Checks where the last fragment (M clear) may end and where others may not. */
static int check_end(const struct ntk_ctl_reasm *r, const struct ntk_ctl_hdr *h, size_t end)
{
    if (end > r->cap) {
        return NTK_ERANGE;
    }
    if (r->have_last) {
        if (end > r->end || (!h->more && end != r->end)) {
            return NTK_EFORMAT;
        }
        /* A copy of the last fragment that claims more follows contradicts it. */
        if (h->more && h->offset == r->last_off && end == r->end) {
            return NTK_EFORMAT;
        }
    } else if (!h->more && r->nfrags > 0 && frag_end(&r->frags[r->nfrags - 1]) > end) {
        return NTK_EFORMAT;
    }
    return NTK_OK;
}

/* Overlap and duplicate checks against the neighbours of slot i (ntpq getresponse). */
static int check_neighbours(const struct ntk_ctl_reasm *r, size_t i,
                            const struct ntk_ctl_msg *m)
{
    size_t off = m->hdr.offset, end = off + m->hdr.count;
    if (i < r->nfrags && r->frags[i].off == off) {
        const struct ntk_ctl_frag *f = &r->frags[i];
        if (f->count == m->hdr.count &&
            (f->count == 0 || memcmp(r->buf + off, m->data, f->count) == 0)) {
            return NTK_CTL_FEED_DUP;
        }
        return NTK_EFORMAT;
    }
    if (i > 0 && frag_end(&r->frags[i - 1]) > off) {
        return NTK_EFORMAT;
    }
    if (i < r->nfrags && m->hdr.count > 0 && end > r->frags[i].off) {
        return NTK_EFORMAT;
    }
    return NTK_OK;
}

static void store(struct ntk_ctl_reasm *r, size_t i, const struct ntk_ctl_msg *m)
{
    memmove(&r->frags[i + 1], &r->frags[i], (r->nfrags - i) * sizeof r->frags[0]);
    r->frags[i].off = m->hdr.offset;
    r->frags[i].count = m->hdr.count;
    r->nfrags++;
    if (m->hdr.count > 0) {
        memcpy(r->buf + m->hdr.offset, m->data, m->hdr.count);
    }
    r->covered += m->hdr.count;
    r->have_assoc = true;
    r->associd = m->hdr.associd;
    if (!m->hdr.more) {
        r->have_last = true;
        r->end = (size_t)m->hdr.offset + m->hdr.count;
        r->last_off = m->hdr.offset;
        r->status = m->hdr.status;
    }
}

int ntk_ctl_reasm_feed(struct ntk_ctl_reasm *r, const struct ntk_ctl_msg *m)
{
    if (!belongs(r, &m->hdr)) {
        return NTK_ENOTFOUND;
    }
    if (m->hdr.error) {
        r->done = r->error = true;
        r->status = m->hdr.status;
        return NTK_CTL_FEED_DONE;
    }
    size_t end = (size_t)m->hdr.offset + m->hdr.count;
    int rc = check_end(r, &m->hdr, end);
    if (rc != NTK_OK) {
        return rc;
    }
    size_t i = find_slot(r, m->hdr.offset);
    rc = check_neighbours(r, i, m);
    if (rc != NTK_OK) {
        return rc;
    }
    if (r->nfrags == NTK_CTL_FRAGS_MAX) {
        return NTK_ERANGE;
    }
    store(r, i, m);
    /* Sorted, non-overlapping and inside 0..end: full coverage means no gap. */
    if (r->have_last && r->covered == r->end) {
        r->done = true;
    }
    return r->done ? NTK_CTL_FEED_DONE : NTK_CTL_FEED_MORE;
}

bool ntk_ctl_reasm_done(const struct ntk_ctl_reasm *r)
{
    return r->done;
}

const uint8_t *ntk_ctl_reasm_data(const struct ntk_ctl_reasm *r, size_t *len)
{
    if (!r->done) {
        *len = 0;
        return NULL;
    }
    *len = r->error ? 0 : r->end;
    return r->buf;
}

int ntk_ctl_reasm_error(const struct ntk_ctl_reasm *r)
{
    return r->done && r->error ? ntk_ctl_err_code(r->status) : -1;
}
