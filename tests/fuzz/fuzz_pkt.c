/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness for lib/pkt.c: one UDP payload per input. A refused payload must name a reason
 * that agrees with the error; an accepted one must have a layout inside the buffer whose
 * fields walk cleanly, and its header must survive encode -> decode bit for bit. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ntk/buf.h"
#include "ntk/ef.h"
#include "ntk/err.h"
#include "ntk/pkt.h"
#include "fuzz.h"

#include "poison.h"

/* The error each reason is reported with (ntk/pkt.h). */
static int err_of(enum ntk_pkt_reject why)
{
    switch (why) {
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

static void check_reject(const uint8_t *data, size_t size, int rc, enum ntk_pkt_reject why)
{
    FUZZ_CHECK(why > NTK_PKT_OK && why < NTK_PKT_REJECT_COUNT);
    FUZZ_CHECK(rc == err_of(why));
    FUZZ_CHECK(strcmp(ntk_pkt_reject_name(why), "unknown") != 0);
    uint8_t mode = size ? (data[0] & 7) : 0;
    if (size == 0) {
        FUZZ_CHECK(why == NTK_PKT_TOO_SHORT);
    } else if (mode == 6 || mode == 7) {
        FUZZ_CHECK(why == (mode == 6 ? NTK_PKT_MODE_CONTROL : NTK_PKT_MODE_PRIVATE));
    } else {
        FUZZ_CHECK((why == NTK_PKT_TOO_SHORT) == (size < NTK_PKT_HDR_LEN));
    }
}

static uint32_t be32_at(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void check_layout(const uint8_t *data, size_t size, const struct ntk_pkt *p,
                         const struct ntk_pkt_layout *l)
{
    size_t ef_end = l->ef_off + l->ef_len;
    FUZZ_CHECK(l->len == size && size % 4 == 0);
    FUZZ_CHECK(l->ef_off == NTK_PKT_HDR_LEN && l->ef_len % 4 == 0 && ef_end <= size);
    FUZZ_CHECK(l->mac_off + l->mac_len == size);
    FUZZ_CHECK(p->version == 4 || l->ef_count == 0);
    FUZZ_CHECK(l->ef_count <= l->ef_len / NTK_EF_MIN_LEN);
    switch (l->auth) {
    case NTK_PKT_AUTH_NONE:
        FUZZ_CHECK(ef_end == size && l->mac_len == 0 && l->key_id == 0);
        break;
    case NTK_PKT_AUTH_NAK:
        FUZZ_CHECK(ef_end + NTK_PKT_KEYID_LEN == size && l->mac_len == 0);
        FUZZ_CHECK(l->key_id == be32_at(data + ef_end));
        break;
    case NTK_PKT_AUTH_MAC:
        FUZZ_CHECK(l->mac_len == 16 || l->mac_len == 20);
        FUZZ_CHECK(l->mac_off - NTK_PKT_KEYID_LEN == ef_end);
        FUZZ_CHECK(l->key_id == be32_at(data + ef_end));
        break;
    default:
        FUZZ_CHECK(0);
    }
}

/* The fields the layout announces walk cleanly, in at most ef_len / 16 steps. */
static void check_fields(const uint8_t *data, const struct ntk_pkt_layout *l)
{
    struct ntk_rd r;
    struct ntk_ef_iter it;
    struct ntk_ef ef;
    unsigned count = 0;
    size_t at = l->ef_off;
    ntk_rd_init(&r, data, l->ef_off + l->ef_len);
    ntk_rd_skip(&r, l->ef_off);
    ntk_ef_iter_init(&it, &r, NTK_EF_MIN_LEN);
    while (ntk_ef_next(&it, &ef) == 1) {
        FUZZ_CHECK(ef.off == at && ef.len >= NTK_EF_MIN_LEN && ef.len % 4 == 0);
        FUZZ_CHECK(ntk_rd_left(&ef.body) == ef.len - NTK_EF_HDR_LEN);
        at += ef.len;
        FUZZ_CHECK(++count <= l->ef_count);
    }
    FUZZ_CHECK(ntk_ef_iter_err(&it) == 0 && count == l->ef_count);
    FUZZ_CHECK(at == l->ef_off + l->ef_len);
}

static void check_same(const struct ntk_pkt *a, const struct ntk_pkt *b)
{
    FUZZ_CHECK(a->leap == b->leap && a->version == b->version && a->mode == b->mode);
    FUZZ_CHECK(a->stratum == b->stratum && a->poll_log2 == b->poll_log2);
    FUZZ_CHECK(a->precision_log2 == b->precision_log2);
    FUZZ_CHECK(a->root_delay == b->root_delay && a->root_disp == b->root_disp);
    FUZZ_CHECK(a->refid == b->refid && a->reftime.v == b->reftime.v);
    FUZZ_CHECK(a->org.v == b->org.v && a->rec.v == b->rec.v && a->xmt.v == b->xmt.v);
}

/* encode(decode(bytes)) gives the same 48 bytes; decode of those gives the same fields. */
static void check_roundtrip(const uint8_t *data, const struct ntk_pkt *p)
{
    uint8_t hdr[NTK_PKT_HDR_LEN];
    struct ntk_wr w;
    ntk_wr_init(&w, hdr, sizeof hdr);
    FUZZ_CHECK(ntk_pkt_encode(&w, p) == 0 && ntk_wr_len(&w) == NTK_PKT_HDR_LEN);
    FUZZ_CHECK(memcmp(hdr, data, NTK_PKT_HDR_LEN) == 0);
    struct ntk_pkt q;
    struct ntk_pkt_layout l;
    FUZZ_CHECK(ntk_pkt_decode(hdr, sizeof hdr, &q, &l, NULL) == 0);
    FUZZ_CHECK(l.auth == NTK_PKT_AUTH_NONE && l.ef_count == 0);
    check_same(p, &q);
}

static void check_kiss(const struct ntk_pkt *p)
{
    char code[5] = {0};
    bool kod = ntk_pkt_is_kod(p);
    FUZZ_CHECK(kod == (ntk_pkt_kiss(p) != NTK_KISS_NONE));
    FUZZ_CHECK(kod == ntk_pkt_kiss_code(p, code));
    for (int i = 0; kod && i < 4; i++) {
        FUZZ_CHECK(code[i] >= 0x20 && code[i] <= 0x7e);
    }
    FUZZ_CHECK(ntk_kiss_name(ntk_pkt_kiss(p)) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ntk_pkt p;
    struct ntk_pkt_layout l;
    enum ntk_pkt_reject why = NTK_PKT_REJECT_COUNT;
    int rc = ntk_pkt_decode(data, size, &p, &l, &why);
    if (rc != 0) {
        check_reject(data, size, rc, why);
        return 0;
    }
    FUZZ_CHECK(why == NTK_PKT_OK);
    check_layout(data, size, &p, &l);
    check_fields(data, &l);
    check_roundtrip(data, &p);
    check_kiss(&p);
    return 0;
}
