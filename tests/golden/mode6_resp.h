/* SPDX-License-Identifier: BSD-2-Clause */
/* The mode-6 responses of NTPsec 1.2.2 in tests/data/mode6.tsv, reassembled (fragments joined
 * in offset order), for the golden tests that build a daemon snapshot from them (golden_exp,
 * golden_mon). Include after cmocka.h, testutil.h and tsv.h. */
#ifndef NTK_TEST_MODE6_RESP_H
#define NTK_TEST_MODE6_RESP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* One response reassembled from the capture. */
struct resp {
    uint8_t op;
    uint16_t aid;
    char data[2048];
    size_t len;
};

static struct resp resps[20];
static size_t nresps;

/* Reads the capture once. */
static void load_capture(void)
{
    if (nresps != 0) {
        return;
    }
    struct tsv t;
    const char *c[TSV_MAX_COLS];
    tsv_open(&t, "mode6");
    int pay = tsv_col(&t, "udp.payload");
    while (tsv_next(&t, c)) {
        uint8_t p[600];
        int n = tu_unhex(c[pay], p, sizeof p);
        assert_true(n >= 12);
        if ((p[1] & 0x80) == 0 || (p[1] & 0x40) != 0) {
            continue; /* requests and error responses */
        }
        size_t off = (size_t)(p[8] << 8 | p[9]), cnt = (size_t)(p[10] << 8 | p[11]);
        struct resp *r;
        if (off == 0) {
            assert_true(nresps < 20);
            r = &resps[nresps++];
            r->op = p[1] & 0x1f;
            r->aid = (uint16_t)(p[6] << 8 | p[7]);
            r->len = 0;
        } else {
            r = &resps[nresps - 1];
            assert_int_equal(r->len, off);
        }
        assert_true(r->len + cnt < sizeof r->data && 12 + cnt <= (size_t)n);
        memcpy(r->data + r->len, p + 12, cnt);
        r->len += cnt;
        r->data[r->len] = '\0';
    }
    tsv_close(&t);
}

/* The response to opcode op for association aid whose data starts with prefix. */
static const struct resp *find(uint8_t op, uint16_t aid, const char *prefix)
{
    for (size_t i = 0; i < nresps; i++) {
        if (resps[i].op == op && resps[i].aid == aid &&
            strncmp(resps[i].data, prefix, strlen(prefix)) == 0) {
            return &resps[i];
        }
    }
    fail_msg("no response op %u aid %u %s", op, aid, prefix);
    return NULL;
}

#endif /* NTK_TEST_MODE6_RESP_H */
