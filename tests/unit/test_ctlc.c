/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/ctlc.c: the mode-6 client session driven against a scripted fake
 * server (real NTPsec datagrams from tests/data/mode6.tsv where they exist), and seeded
 * properties over loss, duplication and reordering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ntk/ctl.h"
#include "ntk/ctlc.h"
#include "ntk/err.h"
#include "ntk/mac.h"
#include "testutil.h"
#include "tsv.h"

#include "poison.h"

/* ---- fixtures --------------------------------------------------------------------------- */

/* The keys of tests/data/symkey.keys: 1 MD5, 2 SHA1, 3 AES-128-CMAC. */
static struct ntk_mac_keys *test_keys(void)
{
    struct ntk_mac_key k[3] = {
        {.keyid = 1, .type = NTK_MAC_MD5, .secret_len = 13},
        {.keyid = 2, .type = NTK_MAC_SHA1, .secret_len = 20},
        {.keyid = 3, .type = NTK_MAC_AES128_CMAC, .secret_len = 16},
    };
    memcpy(k[0].secret, "AnchorsMD5Key", 13);
    assert_int_equal(tu_unhex("8bb9956fb1c117e638fb115ea395d8b08105ee68", k[1].secret, 20),
                     20);
    assert_int_equal(tu_unhex("2450c2ae8f928858877f1b7bf8f6af79", k[2].secret, 16), 16);
    struct ntk_mac_keys *ks = NULL;
    assert_int_equal(ntk_mac_keys_new(k, 3, &ks), NTK_OK);
    ntk_mac_key_wipe(k, 3);
    return ks;
}

/* The udp.payload of frame n of tests/data/mode6.tsv into buf; returns its length. */
static size_t frame(int n, uint8_t *buf, size_t cap)
{
    struct tsv t;
    const char *cols[TSV_MAX_COLS];
    tsv_open(&t, "mode6");
    int fc = tsv_col(&t, "frame.number"), pc = tsv_col(&t, "udp.payload");
    int len = -1;
    while (tsv_next(&t, cols)) {
        if (strtol(cols[fc], NULL, 10) == n) {
            len = tu_unhex(cols[pc], buf, cap);
            break;
        }
    }
    tsv_close(&t);
    assert_true(len > 0);
    return (size_t)len;
}

/* The session (64 KiB) and what the last SEND produced. */
static struct ntk_ctlc S;
static uint8_t out[NTK_CTL_DATAGRAM_MAX];
static size_t out_len;

static struct ntk_ctlc_cfg cfg_plain(uint16_t first_sequence)
{
    struct ntk_ctlc_cfg cfg = {
        .timeout_ms = 5000, .retries = 1, .first_sequence = first_sequence};
    return cfg;
}

static enum ntk_ctlc_ev step(int64_t now_ms)
{
    out_len = 0;
    return ntk_ctlc_step(&S, now_ms, out, sizeof out, &out_len);
}

/* The request just sent, decoded. */
static struct ntk_ctl_msg sent(void)
{
    struct ntk_ctl_msg m;
    assert_int_equal(ntk_ctl_decode(out, out_len, &m), NTK_OK);
    assert_false(m.hdr.response);
    return m;
}

static void assert_sent_data(const char *want)
{
    struct ntk_ctl_msg m = sent();
    assert_int_equal(m.hdr.count, strlen(want));
    assert_memory_equal(m.data, want, m.hdr.count);
}

/* ---- the fake server -------------------------------------------------------------------- */

struct reply {
    uint8_t dg[NTK_CTL_FRAGS_MAX][NTK_CTL_DATAGRAM_MAX];
    size_t len[NTK_CTL_FRAGS_MAX];
    size_t n;
};

static struct reply R;

/* The response to the request in out: data split into frag_max fragments, signed with
 * keyid when it is not 0. */
static void answer(const void *data, size_t len, size_t frag_max, struct ntk_mac_keys *ks,
                   uint32_t keyid)
{
    struct ntk_ctl_msg q = sent();
    struct ntk_ctl_hdr h = {.version = 2,
                            .response = true,
                            .opcode = q.hdr.opcode,
                            .sequence = q.hdr.sequence,
                            .associd = q.hdr.associd,
                            .status = 0x0615};
    struct ntk_ctl_split sp;
    assert_int_equal(ntk_ctl_split_init(&sp, &h, data, len, frag_max), NTK_OK);
    R.n = 0;
    int n;
    while ((n = ntk_ctl_split_next(&sp, ks, keyid, R.dg[R.n], sizeof R.dg[0])) > 0) {
        R.len[R.n++] = (size_t)n;
    }
    assert_int_equal(n, 0);
}

static void answer_text(const char *text)
{
    answer(text, strlen(text), NTK_CTL_DATA_MAX, NULL, 0);
}

/* A 12-byte error response to the request in out. */
static void answer_error(uint8_t code, struct ntk_mac_keys *ks, uint32_t keyid)
{
    struct ntk_ctl_msg q = sent();
    struct ntk_ctl_hdr h = {.version = 2,
                            .response = true,
                            .error = true,
                            .opcode = q.hdr.opcode,
                            .sequence = q.hdr.sequence,
                            .associd = q.hdr.associd,
                            .status = ntk_ctl_err_status(code)};
    int n = ntk_ctl_encode(&h, NULL, ks, keyid, R.dg[0], sizeof R.dg[0]);
    assert_true(n > 0);
    R.len[0] = (size_t)n;
    R.n = 1;
}

static void feed_all(void)
{
    for (size_t i = 0; i < R.n; i++) {
        assert_int_equal(ntk_ctlc_feed(&S, R.dg[i], R.len[i]), NTK_OK);
    }
}

static void assert_data(const void *want, size_t len)
{
    size_t n = 99;
    const char *d = ntk_ctlc_data(&S, &n);
    assert_int_equal(n, len);
    assert_memory_equal(d, want, len);
    assert_int_equal(d[len], '\0');
}

/* ---- single requests -------------------------------------------------------------------- */

/* ntpq's `rv` of the capture: our request is frame 1 byte for byte, frame 2 completes it. */
static void readvar_single(void **state)
{
    (void)state;
    uint8_t f[NTK_CTL_DATAGRAM_MAX];
    struct ntk_ctlc_cfg cfg = cfg_plain(1);
    ntk_ctlc_init(&S, &cfg);
    assert_int_equal(ntk_ctlc_deadline(&S), INT64_MAX);
    assert_int_equal(step(0), NTK_CTLC_FAILED);
    assert_int_equal(ntk_ctlc_err(&S), NTK_EINVAL);
    assert_int_equal(ntk_ctlc_request(&S, NTK_CTL_OP_READVAR, 0, "", 0), NTK_OK);
    assert_int_equal(ntk_ctlc_request(&S, NTK_CTL_OP_READVAR, 0, "", 0), NTK_EINVAL);
    assert_int_equal(step(100), NTK_CTLC_SEND);
    size_t n = frame(1, f, sizeof f);
    assert_int_equal(out_len, n);
    assert_memory_equal(out, f, n);
    assert_int_equal(ntk_ctlc_deadline(&S), 5100);
    assert_int_equal(step(200), NTK_CTLC_WAIT);
    n = frame(2, f, sizeof f);
    assert_int_equal(ntk_ctlc_feed(&S, f, n), NTK_OK);
    assert_int_equal(ntk_ctlc_feed(&S, f, n), NTK_ENOTFOUND); /* complete: nothing awaited */
    assert_int_equal(step(300), NTK_CTLC_DONE);
    assert_data(f + 12, 349);
    assert_int_equal(ntk_ctlc_status(&S), 0x0016);
    assert_int_equal(step(400), NTK_CTLC_DONE); /* final events repeat */
    assert_int_equal(ntk_ctlc_deadline(&S), INT64_MAX);
    /* the next request takes the next sequence number */
    assert_int_equal(ntk_ctlc_request(&S, NTK_CTL_OP_READSTAT, 0, NULL, 0), NTK_OK);
    assert_int_equal(step(500), NTK_CTLC_SEND);
    n = frame(3, f, sizeof f);
    assert_int_equal(out_len, n);
    assert_memory_equal(out, f, n);
}

static void request_rejects(void **state)
{
    (void)state;
    struct ntk_mac_keys *ks = test_keys();
    char big[NTK_CTLC_REQ_MAX + 1];
    memset(big, 'a', sizeof big);
    struct ntk_ctlc_cfg cfg = cfg_plain(1);
    ntk_ctlc_init(&S, &cfg);
    assert_int_equal(ntk_ctlc_request(&S, 32, 0, "", 0), NTK_EINVAL);
    assert_int_equal(ntk_ctlc_request(&S, 2, 0, big, sizeof big), NTK_EINVAL);
    assert_int_equal(ntk_ctlc_request(&S, 2, 0, NULL, 3), NTK_EINVAL);
    assert_int_equal(ntk_ctlc_mrulist(&S, big, NTK_CTLC_PARAMS_MAX + 1, 32), NTK_EINVAL);
    assert_int_equal(ntk_ctlc_mrulist(&S, "a=\"b", 4, 32), NTK_EINVAL);
    assert_int_equal(ntk_ctlc_mrulist(&S, "", 0, 65536), NTK_EINVAL);
    cfg.keyid = 3; /* no keys */
    ntk_ctlc_init(&S, &cfg);
    assert_int_equal(ntk_ctlc_request(&S, 2, 0, "", 0), NTK_EINVAL);
    cfg.keys = ks;
    cfg.keyid = 9; /* not in the keys */
    ntk_ctlc_init(&S, &cfg);
    assert_int_equal(ntk_ctlc_request(&S, 2, 0, "", 0), NTK_EINVAL);
    /* the longest request fits in one datagram */
    cfg.keyid = 2;
    ntk_ctlc_init(&S, &cfg);
    assert_int_equal(ntk_ctlc_request(&S, 2, 0, big, NTK_CTLC_REQ_MAX), NTK_OK);
    assert_int_equal(step(0), NTK_CTLC_SEND);
    assert_int_equal(out_len, 12 + 404 + 4 + 20); /* padded to 8 before the MAC */
    /* a too small out buffer fails the session */
    ntk_ctlc_init(&S, &cfg);
    assert_int_equal(ntk_ctlc_request(&S, 2, 0, "", 0), NTK_OK);
    assert_int_equal(ntk_ctlc_step(&S, 0, out, 8, &out_len), NTK_CTLC_FAILED);
    assert_int_equal(ntk_ctlc_err(&S), NTK_ENOSPC);
    ntk_mac_keys_free(ks);
}

/* Frames 5-7: READVAR of association 17767 in 2 fragments, fed last first, duplicated. */
static void multi_fragment_out_of_order(void **state)
{
    (void)state;
    uint8_t f6[NTK_CTL_DATAGRAM_MAX], f7[NTK_CTL_DATAGRAM_MAX], f[NTK_CTL_DATAGRAM_MAX];
    struct ntk_ctlc_cfg cfg = cfg_plain(3);
    ntk_ctlc_init(&S, &cfg);
    assert_int_equal(ntk_ctlc_request(&S, NTK_CTL_OP_READVAR, 17767, "", 0), NTK_OK);
    assert_int_equal(step(0), NTK_CTLC_SEND);
    size_t n = frame(5, f, sizeof f);
    assert_int_equal(out_len, n);
    assert_memory_equal(out, f, n);
    size_t n6 = frame(6, f6, sizeof f6), n7 = frame(7, f7, sizeof f7);
    assert_int_equal(ntk_ctlc_feed(&S, f7, n7), NTK_OK);
    assert_int_equal(ntk_ctlc_feed(&S, f7, n7), NTK_OK); /* duplicate */
    assert_int_equal(step(10), NTK_CTLC_WAIT);
    assert_int_equal(ntk_ctlc_feed(&S, f6, n6), NTK_OK);
    assert_int_equal(step(20), NTK_CTLC_DONE);
    uint8_t want[468 + 179];
    memcpy(want, f6 + 12, 468);
    memcpy(want + 468, f7 + 12, 179);
    assert_data(want, sizeof want);
    assert_int_equal(ntk_ctlc_status(&S), 0xb014);

    /* 7 fragments of 70 bytes, fed in reverse with every one twice */
    char text[450];
    for (size_t i = 0; i < sizeof text; i++) {
        text[i] = (char)('a' + i % 26);
    }
    ntk_ctlc_init(&S, &cfg);
    assert_int_equal(ntk_ctlc_request(&S, NTK_CTL_OP_READVAR, 0, "a,b", 3), NTK_OK);
    assert_int_equal(step(0), NTK_CTLC_SEND);
    assert_sent_data("a,b");
    answer(text, sizeof text, 70, NULL, 0);
    assert_int_equal(R.n, 7);
    for (size_t i = R.n; i-- > 0;) {
        assert_int_equal(ntk_ctlc_feed(&S, R.dg[i], R.len[i]), NTK_OK);
        assert_int_equal(ntk_ctlc_feed(&S, R.dg[i], R.len[i]),
                         i == 0 ? NTK_ENOTFOUND : NTK_OK);
    }
    assert_int_equal(step(1), NTK_CTLC_DONE);
    assert_data(text, sizeof text);
    assert_int_equal(ntk_ctlc_status(&S), 0x0615);
}

/* No answer: one resend of the same datagram at the deadline, then TIMEOUT. */
static void timeout_resend_same_sequence(void **state)
{
    (void)state;
    struct ntk_ctlc_cfg cfg = cfg_plain(0xffff);
    ntk_ctlc_init(&S, &cfg);
    assert_int_equal(ntk_ctlc_request(&S, NTK_CTL_OP_READVAR, 0, "leap", 4), NTK_OK);
    assert_int_equal(step(1000), NTK_CTLC_SEND);
    uint8_t first[NTK_CTL_DATAGRAM_MAX];
    size_t first_len = out_len;
    memcpy(first, out, out_len);
    assert_int_equal(sent().hdr.sequence, 0xffff);
    assert_int_equal(ntk_ctlc_deadline(&S), 6000);
    assert_int_equal(step(5999), NTK_CTLC_WAIT);
    assert_int_equal(step(6000), NTK_CTLC_SEND);
    assert_int_equal(out_len, first_len);
    assert_memory_equal(out, first, first_len);
    assert_int_equal(ntk_ctlc_deadline(&S), 11000);
    assert_int_equal(step(10999), NTK_CTLC_WAIT);
    assert_int_equal(step(11000), NTK_CTLC_TIMEOUT);
    assert_int_equal(step(99999), NTK_CTLC_TIMEOUT);
    assert_int_equal(ntk_ctlc_deadline(&S), INT64_MAX);
    /* the sequence wraps to 0 */
    assert_int_equal(ntk_ctlc_request(&S, NTK_CTL_OP_READVAR, 0, "", 0), NTK_OK);
    assert_int_equal(step(0), NTK_CTLC_SEND);
    assert_int_equal(sent().hdr.sequence, 0);

    /* a fragment of the first attempt is dropped at the resend; the second completes */
    cfg.retries = 2;
    ntk_ctlc_init(&S, &cfg);
    assert_int_equal(ntk_ctlc_request(&S, NTK_CTL_OP_READVAR, 0, "", 0), NTK_OK);
    assert_int_equal(step(0), NTK_CTLC_SEND);
    answer("0123456789", 10, 4, NULL, 0);
    assert_int_equal(ntk_ctlc_feed(&S, R.dg[0], R.len[0]), NTK_OK);
    assert_int_equal(step(5000), NTK_CTLC_SEND);
    assert_int_equal(ntk_ctlc_feed(&S, R.dg[2], R.len[2]), NTK_OK);
    assert_int_equal(ntk_ctlc_feed(&S, R.dg[1], R.len[1]), NTK_OK);
    assert_int_equal(step(5001), NTK_CTLC_WAIT);
    assert_int_equal(ntk_ctlc_feed(&S, R.dg[0], R.len[0]), NTK_OK);
    assert_int_equal(step(5002), NTK_CTLC_DONE);
    assert_data("0123456789", 10);
}

static void error_refused(void **state)
{
    (void)state;
    struct ntk_ctlc_cfg cfg = cfg_plain(7);
    ntk_ctlc_init(&S, &cfg);
    assert_int_equal(ntk_ctlc_request(&S, NTK_CTL_OP_READVAR, 99, "", 0), NTK_OK);
    assert_int_equal(step(0), NTK_CTLC_SEND);
    answer_error(NTK_CTL_CERR_BADASSOC, NULL, 0);
    assert_int_equal(R.len[0], 12);
    feed_all();
    assert_int_equal(step(1), NTK_CTLC_REFUSED);
    assert_int_equal(ntk_ctlc_cerr(&S), NTK_CTL_CERR_BADASSOC);
    size_t n = 5;
    assert_string_equal(ntk_ctlc_data(&S, &n), "");
    assert_int_equal(n, 0);
    /* PERMISSION without cfg.prove is a plain refusal */
    assert_int_equal(ntk_ctlc_request(&S, NTK_CTL_OP_READVAR, 0, "", 0), NTK_OK);
    assert_int_equal(step(2), NTK_CTLC_SEND);
    answer_error(NTK_CTL_CERR_PERMISSION, NULL, 0);
    feed_all();
    assert_int_equal(step(3), NTK_CTLC_REFUSED);
    assert_int_equal(ntk_ctlc_cerr(&S), NTK_CTL_CERR_PERMISSION);
}

/* Datagrams that are not the awaited response are ignored and do not end the session. */
static void forged_ignored(void **state)
{
    (void)state;
    struct ntk_ctlc_cfg cfg = cfg_plain(100);
    ntk_ctlc_init(&S, &cfg);
    assert_int_equal(ntk_ctlc_request(&S, NTK_CTL_OP_READVAR, 0, "", 0), NTK_OK);
    uint8_t junk[3] = {1, 2, 3};
    assert_int_equal(ntk_ctlc_feed(&S, junk, 3), NTK_ETRUNC); /* before the send too */
    assert_int_equal(step(0), NTK_CTLC_SEND);
    answer_text("good=1\r\n");
    uint8_t f[NTK_CTL_DATAGRAM_MAX];
    memcpy(f, R.dg[0], R.len[0]);
    f[3] ^= 1; /* sequence 101 */
    assert_int_equal(ntk_ctlc_feed(&S, f, R.len[0]), NTK_ENOTFOUND);
    f[3] ^= 1;
    f[1] = 0x80 | NTK_CTL_OP_READSTAT; /* other opcode */
    assert_int_equal(ntk_ctlc_feed(&S, f, R.len[0]), NTK_ENOTFOUND);
    f[1] = NTK_CTL_OP_READVAR; /* a request, not a response */
    assert_int_equal(ntk_ctlc_feed(&S, f, R.len[0]), NTK_ENOTFOUND);
    f[1] = 0xc0 | NTK_CTL_OP_READVAR; /* an error with wrong sequence */
    f[3] ^= 2;
    f[10] = f[11] = 0;
    assert_int_equal(ntk_ctlc_feed(&S, f, 12), NTK_ENOTFOUND);
    f[0] = 0x17; /* mode 7 */
    assert_int_equal(ntk_ctlc_feed(&S, f, R.len[0]), NTK_EFORMAT);
    assert_int_equal(step(1), NTK_CTLC_WAIT);
    /* the first datagram with the right sequence is taken (R still holds the answer) */
    memcpy(f, R.dg[0], R.len[0]);
    f[12] = 'G';
    assert_int_equal(ntk_ctlc_feed(&S, f, R.len[0]), NTK_OK);
    assert_int_equal(step(2), NTK_CTLC_DONE);
    assert_data("Good=1\r\n", 8);

    /* a contradicting fragment with no complete answer: FAILED with its error at the end */
    ntk_ctlc_init(&S, &cfg);
    assert_int_equal(ntk_ctlc_request(&S, NTK_CTL_OP_READVAR, 0, "", 0), NTK_OK);
    assert_int_equal(step(0), NTK_CTLC_SEND);
    answer("abcdefgh", 8, 4, NULL, 0);
    memcpy(f, R.dg[0], R.len[0]);
    f[12] = 'X';
    assert_int_equal(ntk_ctlc_feed(&S, R.dg[0], R.len[0]), NTK_OK);
    assert_int_equal(ntk_ctlc_feed(&S, f, R.len[0]), NTK_EFORMAT);
    assert_int_equal(step(5000), NTK_CTLC_SEND);
    assert_int_equal(step(10000), NTK_CTLC_FAILED);
    assert_int_equal(ntk_ctlc_err(&S), NTK_EFORMAT);
}

/* Frames 27-30: ntpq -a 3 ifstats and -a 2 reslist. Our signed requests are the captured
 * bytes; a response with a bad MAC is ignored, the real one accepted; the signed error
 * response is a refusal (no proof exchange for signed requests). */
static void signed_session(void **state)
{
    (void)state;
    struct ntk_mac_keys *ks = test_keys();
    uint8_t f[NTK_CTL_DATAGRAM_MAX], bad[NTK_CTL_DATAGRAM_MAX];
    struct ntk_ctlc_cfg cfg = cfg_plain(1);
    cfg.keys = ks;
    cfg.keyid = 3;
    cfg.prove = true;
    ntk_ctlc_init(&S, &cfg);
    assert_int_equal(ntk_ctlc_request(&S, NTK_CTL_OP_READ_ORDLIST_A, 0, "ifstats", 7), NTK_OK);
    assert_int_equal(step(0), NTK_CTLC_SEND);
    size_t n = frame(27, f, sizeof f);
    assert_int_equal(out_len, n);
    assert_memory_equal(out, f, n);
    n = frame(28, f, sizeof f);
    memcpy(bad, f, n);
    bad[n - 1] ^= 0x40;
    assert_int_equal(ntk_ctlc_feed(&S, bad, n), NTK_EAUTH);
    bad[n - 1] ^= 0x40;
    bad[20] ^= 1; /* data changed under the MAC */
    assert_int_equal(ntk_ctlc_feed(&S, bad, n), NTK_EAUTH);
    assert_int_equal(step(1), NTK_CTLC_WAIT);
    assert_int_equal(ntk_ctlc_feed(&S, f, n), NTK_OK);
    assert_int_equal(step(2), NTK_CTLC_DONE);
    assert_data(f + 12, 125);

    cfg.keyid = 2;
    ntk_ctlc_init(&S, &cfg);
    assert_int_equal(
        ntk_ctlc_request(&S, NTK_CTL_OP_READ_ORDLIST_A, 0, "addr_restrictions", 17), NTK_OK);
    assert_int_equal(step(0), NTK_CTLC_SEND);
    n = frame(29, f, sizeof f);
    assert_int_equal(out_len, n);
    assert_memory_equal(out, f, n);
    n = frame(30, f, sizeof f);
    uint8_t plain[12];
    memcpy(plain, f, 12); /* the same error without its MAC: ignored */
    assert_int_equal(ntk_ctlc_feed(&S, plain, 12), NTK_EAUTH);
    assert_int_equal(ntk_ctlc_feed(&S, f, n), NTK_OK);
    assert_int_equal(step(1), NTK_CTLC_REFUSED);
    assert_int_equal(ntk_ctlc_cerr(&S), NTK_CTL_CERR_PERMISSION);

    /* only bad MACs until the retries are spent: FAILED / NTK_EAUTH */
    ntk_ctlc_init(&S, &cfg);
    assert_int_equal(ntk_ctlc_request(&S, NTK_CTL_OP_READVAR, 0, "", 0), NTK_OK);
    assert_int_equal(step(0), NTK_CTLC_SEND);
    answer("x=1", 3, 468, NULL, 0);
    assert_int_equal(ntk_ctlc_feed(&S, R.dg[0], R.len[0]), NTK_EAUTH);
    assert_int_equal(step(5000), NTK_CTLC_SEND);
    assert_int_equal(step(10000), NTK_CTLC_FAILED);
    assert_int_equal(ntk_ctlc_err(&S), NTK_EAUTH);
    ntk_mac_keys_free(ks);
}

/* A signed response from another trusted key is accepted. */
static void signed_other_key(void **state)
{
    (void)state;
    struct ntk_mac_keys *ks = test_keys();
    struct ntk_ctlc_cfg cfg = cfg_plain(1);
    cfg.keys = ks;
    cfg.keyid = 2;
    ntk_ctlc_init(&S, &cfg);
    assert_int_equal(ntk_ctlc_request(&S, NTK_CTL_OP_READVAR, 0, "", 0), NTK_OK);
    assert_int_equal(step(0), NTK_CTLC_SEND);
    answer("x=1", 3, 468, ks, 1);
    feed_all();
    assert_int_equal(step(1), NTK_CTLC_DONE);
    assert_data("x=1", 3);
    ntk_mac_keys_free(ks);
}

/* ---- the proof of address --------------------------------------------------------------- */

static void proof_exchange(void **state)
{
    (void)state;
    struct ntk_ctlc_cfg cfg = cfg_plain(40);
    cfg.prove = true;
    ntk_ctlc_init(&S, &cfg);
    assert_int_equal(ntk_ctlc_request(&S, NTK_CTL_OP_READVAR, 0, "", 0), NTK_OK);
    assert_int_equal(step(0), NTK_CTLC_SEND);
    assert_int_equal(out_len, 12);
    answer_error(NTK_CTL_CERR_PERMISSION, NULL, 0);
    feed_all();
    assert_int_equal(step(1), NTK_CTLC_SEND);
    struct ntk_ctl_msg m = sent();
    assert_int_equal(m.hdr.opcode, NTK_CTL_OP_REQ_NONCE);
    assert_int_equal(m.hdr.sequence, 41);
    assert_int_equal(m.hdr.count, NTK_CTLC_NONCE_PAD);
    assert_int_equal(out_len, 12 + NTK_CTLC_NONCE_PAD);
    for (size_t i = 0; i < NTK_CTLC_NONCE_PAD; i++) {
        assert_int_equal(m.data[i], ' ');
    }
    const char *nonce = "nonce=0a1b2c3d4e5f60718293a4b5\r\n";
    answer_text(nonce);
    assert_true(R.len[0] <= out_len); /* the answer is not larger than the question */
    feed_all();
    assert_int_equal(step(2), NTK_CTLC_SEND);
    m = sent();
    assert_int_equal(m.hdr.opcode, NTK_CTL_OP_READVAR);
    assert_int_equal(m.hdr.sequence, 42);
    assert_sent_data("nonce=0a1b2c3d4e5f60718293a4b5, ");
    answer_text("version=\"ntpd\"\r\n");
    feed_all();
    assert_int_equal(step(3), NTK_CTLC_DONE);
    assert_data("version=\"ntpd\"\r\n", 16);

    /* with data, and refused again after the proof: REFUSED */
    assert_int_equal(ntk_ctlc_request(&S, NTK_CTL_OP_READVAR, 5, "offset,delay", 12), NTK_OK);
    assert_int_equal(step(4), NTK_CTLC_SEND);
    answer_error(NTK_CTL_CERR_PERMISSION, NULL, 0);
    feed_all();
    assert_int_equal(step(5), NTK_CTLC_SEND);
    answer_text("nonce=77\r\n");
    feed_all();
    assert_int_equal(step(6), NTK_CTLC_SEND);
    m = sent();
    assert_int_equal(m.hdr.associd, 5);
    assert_sent_data("nonce=77, offset,delay");
    answer_error(NTK_CTL_CERR_PERMISSION, NULL, 0);
    feed_all();
    assert_int_equal(step(7), NTK_CTLC_REFUSED);
    assert_int_equal(ntk_ctlc_cerr(&S), NTK_CTL_CERR_PERMISSION);

    /* an answer without a nonce: FAILED / NTK_EFORMAT */
    assert_int_equal(ntk_ctlc_request(&S, NTK_CTL_OP_READVAR, 0, "", 0), NTK_OK);
    assert_int_equal(step(8), NTK_CTLC_SEND);
    answer_error(NTK_CTL_CERR_PERMISSION, NULL, 0);
    feed_all();
    assert_int_equal(step(9), NTK_CTLC_SEND);
    answer_text("noncE=77\r\n");
    feed_all();
    assert_int_equal(step(10), NTK_CTLC_FAILED);
    assert_int_equal(ntk_ctlc_err(&S), NTK_EFORMAT);

    /* a refused REQ_NONCE: the padded one's answer is the answer */
    assert_int_equal(ntk_ctlc_request(&S, NTK_CTL_OP_REQ_NONCE, 0, "", 0), NTK_OK);
    assert_int_equal(step(11), NTK_CTLC_SEND);
    answer_error(NTK_CTL_CERR_PERMISSION, NULL, 0);
    feed_all();
    assert_int_equal(step(12), NTK_CTLC_SEND);
    assert_int_equal(sent().hdr.count, NTK_CTLC_NONCE_PAD);
    answer_text("nonce=88\r\n");
    feed_all();
    assert_int_equal(step(13), NTK_CTLC_DONE);
    assert_data("nonce=88\r\n", 10);
}

/* ---- mrulist ---------------------------------------------------------------------------- */

/* Frames 21-26: `ntpq -c mrulist`. Our REQ_NONCE and first READ_MRU are the captured bytes
 * ("nonce=..., frags=32"); the 3-fragment answer (fed out of order) with now= ends it. */
static void mrulist_golden(void **state)
{
    (void)state;
    uint8_t f[NTK_CTL_DATAGRAM_MAX], g[3][NTK_CTL_DATAGRAM_MAX];
    struct ntk_ctlc_cfg cfg = cfg_plain(1);
    ntk_ctlc_init(&S, &cfg);
    assert_int_equal(ntk_ctlc_mrulist(&S, "", 0, 32), NTK_OK);
    assert_int_equal(step(0), NTK_CTLC_SEND);
    size_t n = frame(21, f, sizeof f);
    assert_int_equal(out_len, n);
    assert_memory_equal(out, f, n);
    n = frame(22, f, sizeof f);
    assert_int_equal(ntk_ctlc_feed(&S, f, n), NTK_OK);
    assert_int_equal(step(10), NTK_CTLC_SEND);
    n = frame(23, f, sizeof f);
    assert_int_equal(out_len, n);
    assert_memory_equal(out, f, n);
    assert_sent_data("nonce=eeb22b9b3a3ab4ea35d6204b, frags=32");
    size_t len[3];
    for (int i = 0; i < 3; i++) {
        len[i] = frame(24 + i, g[i], sizeof g[i]);
    }
    assert_int_equal(ntk_ctlc_feed(&S, g[2], len[2]), NTK_OK);
    assert_int_equal(ntk_ctlc_feed(&S, g[0], len[0]), NTK_OK);
    assert_int_equal(step(20), NTK_CTLC_WAIT);
    assert_int_equal(ntk_ctlc_feed(&S, g[1], len[1]), NTK_OK);
    assert_int_equal(step(30), NTK_CTLC_CHUNK);
    uint8_t want[466 + 466 + 102];
    memcpy(want, g[0] + 12, 466);
    memcpy(want + 466, g[1] + 12, 466);
    memcpy(want + 932, g[2] + 12, 102);
    assert_data(want, sizeof want);
    assert_int_equal(step(40), NTK_CTLC_DONE);
    assert_data("", 0);
}

/* The answers and requests of a 3-round mrulist, `mrulist frags=31 recent=5 mincount=2`.
 * The requests are what NTPsec 1.2.2's pylib/packet.py ControlSession.mrulist sent when
 * its doquery was replaced by one returning these answers (run with the Debian
 * python3-ntp package; time.time() fixed so that no nonce went stale). */
static const char *const MRU_ANSWER[4] = {
    "nonce=0123456789abcdef01234567\r\n",
    "nonce=1111111111111111aaaaaaaa, addr.0=192.0.2.10:40000,\r\nlast.0=0xeeb22b90.00000011, "
    "first.0=0xeeb22b90.00000001, ct.0=1,\r\nmv.0=35, rs.0=0x40, sc.0=0.050, dr.0=0, "
    "addr.1=192.0.2.11:40007,\r\nlast.1=0xeeb22b91.00001011, first.1=0xeeb22b90.00000001, "
    "ct.1=2,\r\nmv.1=35, rs.1=0x40, sc.1=0.050, dr.1=0, addr.2=192.0.2.12:40014,\r\nlast.2="
    "0xeeb22b92.00002011, first.2=0xeeb22b90.00000001, ct.2=3,\r\nmv.2=35, rs.2=0x40, sc.2="
    "0.050, dr.2=0, addr.3=192.0.2.13:40021,\r\nlast.3=0xeeb22b93.00003011, first.3="
    "0xeeb22b90.00000001, ct.3=4,\r\nmv.3=35, rs.3=0x40, sc.3=0.050, dr.3=0, addr.4=192.0.2."
    "14:40028,\r\nlast.4=0xeeb22b94.00004011, first.4=0xeeb22b90.00000001, ct.4=5,\r\nmv.4="
    "35, rs.4=0x40, sc.4=0.050, dr.4=0, addr.5=192.0.2.15:40035,\r\nlast.5=0xeeb22b95."
    "00005011, first.5=0xeeb22b90.00000001, ct.5=6,\r\nmv.5=35, rs.5=0x40, sc.5=0.050, dr.5="
    "0, addr.6=192.0.2.16:40042,\r\nlast.6=0xeeb22b96.00006011, first.6=0xeeb22b90.00000001,"
    " ct.6=7,\r\nmv.6=35, rs.6=0x40, sc.6=0.050, dr.6=0, addr.7=192.0.2.17:40049,\r\nlast.7="
    "0xeeb22b97.00007011, first.7=0xeeb22b90.00000001, ct.7=8,\r\nmv.7=35, rs.7=0x40, sc.7="
    "0.050, dr.7=0, addr.8=192.0.2.18:40056,\r\nlast.8=0xeeb22b98.00008011, first.8="
    "0xeeb22b90.00000001, ct.8=9,\r\nmv.8=35, rs.8=0x40, sc.8=0.050, dr.8=0, addr.9=192.0.2."
    "19:40063,\r\nlast.9=0xeeb22b99.00009011, first.9=0xeeb22b90.00000001, ct.9=10,\r\nmv.9="
    "35, rs.9=0x40, sc.9=0.050, dr.9=0, addr.10=192.0.2.20:40070,\r\nlast.10=0xeeb22b90."
    "0000a011, first.10=0xeeb22b90.00000001, ct.10=11,\r\nmv.10=35, rs.10=0x40, sc.10=0.050, "
    "dr.10=0, addr.11=192.0.2.21:40077,\r\nlast.11=0xeeb22b91.0000b011, first.11=0xeeb22b90."
    "00000001, ct.11=12,\r\nmv.11=35, rs.11=0x40, sc.11=0.050, dr.11=0\r\n",
    "nonce=2222222222222222bbbbbbbb, last.older=0xeeb22b99.0000b011,\r\naddr.older=192.0.2."
    "21:40077, addr.0=[2001:db8::1234:5678:9abc:def0]:123,\r\nlast.0=0xeeb22ba0.12345678, "
    "first.0=0xeeb22b91.00000000, ct.0=3,\r\nmv.0=35, rs.0=0x40, sc.0=0.050, dr.0=0,\r\n"
    "addr.1=[2001:db8:ffff:ffff:ffff:ffff:ffff:ffff]:65535,\r\nlast.1=0xeeb22ba1.9abcdef0, "
    "first.1=0xeeb22b92.00000000, ct.1=4,\r\nmv.1=35, rs.1=0x40, sc.1=0.050, dr.1=0\r\n",
    "nonce=3333333333333333cccccccc, addr.0=198.51.100.7:5000,\r\nlast.0=0xeeb22ba2.00000042, "
    "first.0=0xeeb22ba2.00000042, ct.0=1,\r\nmv.0=35, rs.0=0x40, sc.0=0.050, dr.0=0, now="
    "0xeeb22ba3.5a5727e7,\r\nlast.newest=0xeeb22ba2.00000042\r\n",
};

static const char *const MRU_REQUEST[3] = {
    "nonce=0123456789abcdef01234567, frags=31, recent=5, mincount=2",
    "nonce=1111111111111111aaaaaaaa, frags=32, mincount=2, addr.0=192.0.2.21:40077, last.0="
    "0xeeb22b91.0000b011, addr.1=192.0.2.20:40070, last.1=0xeeb22b90.0000a011, addr.2=192.0."
    "2.19:40063, last.2=0xeeb22b99.00009011, addr.3=192.0.2.18:40056, last.3=0xeeb22b98."
    "00008011, addr.4=192.0.2.17:40049, last.4=0xeeb22b97.00007011, addr.5=192.0.2.16:40042,"
    " last.5=0xeeb22b96.00006011, addr.6=192.0.2.15:40035, last.6=0xeeb22b95.00005011",
    "nonce=2222222222222222bbbbbbbb, frags=32, mincount=2, addr.0=[2001:db8:ffff:ffff:ffff:"
    "ffff:ffff:ffff]:65535, last.0=0xeeb22ba1.9abcdef0, addr.1=[2001:db8::1234:5678:9abc:"
    "def0]:123, last.1=0xeeb22ba0.12345678, addr.2=192.0.2.21:40077, last.2=0xeeb22b91."
    "0000b011, addr.3=192.0.2.20:40070, last.3=0xeeb22b90.0000a011, addr.4=192.0.2.19:40063,"
    " last.4=0xeeb22b99.00009011, addr.5=192.0.2.18:40056, last.5=0xeeb22b98.00008011",
};

/* Feeds R odd fragments first, then the even ones, then the first again (too late). */
static void feed_scrambled(void)
{
    for (size_t j = 1; j < R.n; j += 2) {
        assert_int_equal(ntk_ctlc_feed(&S, R.dg[j], R.len[j]), NTK_OK);
    }
    for (size_t j = 0; j < R.n; j += 2) {
        assert_int_equal(ntk_ctlc_feed(&S, R.dg[j], R.len[j]), NTK_OK);
    }
    assert_int_equal(ntk_ctlc_feed(&S, R.dg[0], R.len[0]), NTK_ENOTFOUND);
}

static void answer_frags(const char *text)
{
    answer(text, strlen(text), 100, NULL, 0);
}

static void mrulist_three_rounds(void **state)
{
    (void)state;
    struct ntk_ctlc_cfg cfg = cfg_plain(500);
    ntk_ctlc_init(&S, &cfg);
    const char *params = "recent=5, mincount=2";
    assert_int_equal(ntk_ctlc_mrulist(&S, params, strlen(params), 31), NTK_OK);
    assert_int_equal(step(1000), NTK_CTLC_SEND);
    assert_int_equal(sent().hdr.opcode, NTK_CTL_OP_REQ_NONCE);
    assert_int_equal(sent().hdr.sequence, 500);
    assert_int_equal(out_len, 12);
    answer_text(MRU_ANSWER[0]);
    feed_all();
    for (int round = 0; round < 3; round++) {
        assert_int_equal(step(1000 + round), NTK_CTLC_SEND);
        assert_int_equal(sent().hdr.opcode, NTK_CTL_OP_READ_MRU);
        assert_int_equal(sent().hdr.sequence, 501 + round);
        assert_sent_data(MRU_REQUEST[round]);
        answer_frags(MRU_ANSWER[round + 1]);
        feed_scrambled();
        assert_int_equal(step(1100 + round), NTK_CTLC_CHUNK);
        assert_data(MRU_ANSWER[round + 1], strlen(MRU_ANSWER[round + 1]));
    }
    assert_int_equal(step(2000), NTK_CTLC_DONE);
    assert_data("", 0);
    assert_int_equal(step(2001), NTK_CTLC_DONE);
}

/* The 468-byte edge of the resume points, checked against NTPsec 1.2.2's ntpq the same way:
 * with a 427-byte address the request is 467 bytes and carries that point; with 428 bytes
 * it would be 468, so ntpq stops there and sends none, not even the short older one. */
static void mrulist_resume_edge(void **state)
{
    (void)state;
    static char answer1[600], want[1024];
    for (size_t a = 427; a <= 428; a++) {
        char addr[430];
        memset(addr, 'a', a);
        addr[a] = '\0';
        snprintf(answer1, sizeof answer1,
                 "nonce=n, addr.0=b:2, last.0=0x2.2, addr.1=%s, last.1=0x1.1\r\n", addr);
        struct ntk_ctlc_cfg cfg = cfg_plain(1);
        ntk_ctlc_init(&S, &cfg);
        assert_int_equal(ntk_ctlc_mrulist(&S, "", 0, 32), NTK_OK);
        assert_int_equal(step(0), NTK_CTLC_SEND);
        answer_text("nonce=m\r\n");
        feed_all();
        assert_int_equal(step(0), NTK_CTLC_SEND);
        assert_sent_data("nonce=m, frags=32");
        answer_text(answer1);
        feed_all();
        assert_int_equal(step(0), NTK_CTLC_CHUNK);
        assert_int_equal(step(0), NTK_CTLC_SEND);
        if (a == 427) {
            snprintf(want, sizeof want, "nonce=n, frags=32, addr.0=%s, last.0=0x1.1", addr);
            assert_int_equal(strlen(want), 467);
        } else {
            snprintf(want, sizeof want, "nonce=n, frags=32");
        }
        assert_sent_data(want);
    }
}

/* Runs the REQ_NONCE of an mrulist and checks the READ_MRU that follows. */
static void mru_nonce_then(int64_t now, const char *nonce_answer, const char *want)
{
    assert_int_equal(step(now), NTK_CTLC_SEND);
    assert_int_equal(sent().hdr.opcode, NTK_CTL_OP_REQ_NONCE);
    answer_text(nonce_answer);
    feed_all();
    assert_int_equal(step(now), NTK_CTLC_SEND);
    assert_sent_data(want);
}

/* Timeouts halve frags and fetch a new nonce, down to 2, then TIMEOUT. A nonce 16 s old is
 * replaced before the next READ_MRU. */
static void mrulist_timeouts_and_stale_nonce(void **state)
{
    (void)state;
    struct ntk_ctlc_cfg cfg = cfg_plain(1);
    ntk_ctlc_init(&S, &cfg);
    assert_int_equal(ntk_ctlc_mrulist(&S, "mincount=2", 10, 32), NTK_OK);
    mru_nonce_then(0, "nonce=n1\r\n", "nonce=n1, frags=32, mincount=2");
    answer_frags("nonce=n2, addr.0=1.2.3.4:5, last.0=0x1.2\r\n");
    feed_all();
    assert_int_equal(step(10), NTK_CTLC_CHUNK);
    /* 15.999 s after the nonce: still good; the chunk's nonce is used */
    assert_int_equal(step(15999), NTK_CTLC_SEND);
    assert_sent_data("nonce=n2, frags=32, mincount=2, addr.0=1.2.3.4:5, last.0=0x1.2");
    int64_t now = 15999;
    const char *want[] = {"nonce=n3, frags=16, mincount=2, addr.0=1.2.3.4:5, last.0=0x1.2",
                          "nonce=n3, frags=8, mincount=2, addr.0=1.2.3.4:5, last.0=0x1.2",
                          "nonce=n3, frags=4, mincount=2, addr.0=1.2.3.4:5, last.0=0x1.2",
                          "nonce=n3, frags=2, mincount=2, addr.0=1.2.3.4:5, last.0=0x1.2"};
    for (int i = 0; i < 4; i++) {
        now += 5000;
        assert_int_equal(step(now), NTK_CTLC_SEND); /* the resend */
        now += 5000;
        mru_nonce_then(now, "nonce=n3\r\n", want[i]);
    }
    now += 5000;
    assert_int_equal(step(now), NTK_CTLC_SEND);
    now += 5000;
    assert_int_equal(step(now), NTK_CTLC_TIMEOUT);

    /* a good round grows frags by one again; a nonce 16 s old is fetched again first */
    ntk_ctlc_init(&S, &cfg);
    assert_int_equal(ntk_ctlc_mrulist(&S, "", 0, 32), NTK_OK);
    mru_nonce_then(0, "nonce=a\r\n", "nonce=a, frags=32");
    assert_int_equal(step(5000), NTK_CTLC_SEND);
    mru_nonce_then(10000, "nonce=b\r\n", "nonce=b, frags=16");
    answer_frags("nonce=c, addr.3=h:1, last.3=0x2.3\r\n");
    feed_all();
    assert_int_equal(step(10001), NTK_CTLC_CHUNK);
    mru_nonce_then(26000, "nonce=d\r\n", "nonce=d, frags=17, addr.0=h:1, last.0=0x2.3");
}

/* BADVALUE switches to limit=, UNKNOWNVAR forgets the resume points, the 9th error ends. */
static void mrulist_errors(void **state)
{
    (void)state;
    struct ntk_ctlc_cfg cfg = cfg_plain(1);
    ntk_ctlc_init(&S, &cfg);
    assert_int_equal(ntk_ctlc_mrulist(&S, "", 0, 200), NTK_OK);
    mru_nonce_then(0, "nonce=n1\r\n", "nonce=n1, frags=200");
    answer_error(NTK_CTL_CERR_BADVALUE, NULL, 0);
    feed_all();
    assert_int_equal(step(1), NTK_CTLC_SEND);
    assert_sent_data("nonce=n1, limit=96");
    answer_frags("nonce=n2, addr.0=a:1, last.0=0x1.1, addr.1=b:2, last.1=0x1.2\r\n");
    feed_all();
    assert_int_equal(step(2), NTK_CTLC_CHUNK);
    assert_int_equal(step(3), NTK_CTLC_SEND);
    assert_sent_data("nonce=n2, limit=96, addr.0=b:2, last.0=0x1.2, addr.1=a:1, last.1=0x1.1");
    answer_error(NTK_CTL_CERR_UNKNOWNVAR, NULL, 0);
    feed_all();
    assert_int_equal(step(4), NTK_CTLC_SEND);
    assert_sent_data("nonce=n2, limit=96");
    for (int i = 0; i < 6; i++) {
        answer_error(NTK_CTL_CERR_BADVALUE, NULL, 0);
        feed_all();
        assert_int_equal(step(5), NTK_CTLC_SEND);
        assert_sent_data("nonce=n2, limit=96"); /* min(96, 256 - i - 1) */
    }
    answer_error(NTK_CTL_CERR_UNKNOWNVAR, NULL, 0); /* the 9th */
    feed_all();
    assert_int_equal(step(6), NTK_CTLC_REFUSED);
    assert_int_equal(ntk_ctlc_cerr(&S), NTK_CTL_CERR_UNKNOWNVAR);

    /* other errors end it at once */
    ntk_ctlc_init(&S, &cfg);
    assert_int_equal(ntk_ctlc_mrulist(&S, "", 0, 32), NTK_OK);
    mru_nonce_then(0, "nonce=n1\r\n", "nonce=n1, frags=32");
    answer_error(NTK_CTL_CERR_PERMISSION, NULL, 0);
    feed_all();
    assert_int_equal(step(1), NTK_CTLC_REFUSED);
    assert_int_equal(ntk_ctlc_cerr(&S), NTK_CTL_CERR_PERMISSION);

    /* a REQ_NONCE answered without a nonce 4 times: FAILED / NTK_EFORMAT */
    ntk_ctlc_init(&S, &cfg);
    assert_int_equal(ntk_ctlc_mrulist(&S, "", 0, 32), NTK_OK);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(step(i), NTK_CTLC_SEND);
        assert_int_equal(sent().hdr.opcode, NTK_CTL_OP_REQ_NONCE);
        assert_int_equal(sent().hdr.sequence, 1 + i);
        answer_text(i == 0 ? "" : i == 1 ? "nonce=\r\n" : "x=1, nonce=2\r\n");
        feed_all();
    }
    assert_int_equal(step(9), NTK_CTLC_FAILED);
    assert_int_equal(ntk_ctlc_err(&S), NTK_EFORMAT);
}

/* mrulist against a server that wants a proof: the refused REQ_NONCE is padded. */
static void mrulist_proof(void **state)
{
    (void)state;
    struct ntk_ctlc_cfg cfg = cfg_plain(1);
    cfg.prove = true;
    ntk_ctlc_init(&S, &cfg);
    assert_int_equal(ntk_ctlc_mrulist(&S, "", 0, 32), NTK_OK);
    assert_int_equal(step(0), NTK_CTLC_SEND);
    assert_int_equal(sent().hdr.count, 0);
    answer_error(NTK_CTL_CERR_PERMISSION, NULL, 0);
    feed_all();
    mru_nonce_then(1, "nonce=p\r\n", "nonce=p, frags=32");
    assert_int_equal(sent().hdr.sequence, 3);
    answer_frags("nonce=q, addr.0=a:1, last.0=0x1.1\r\n");
    feed_all();
    assert_int_equal(step(2), NTK_CTLC_CHUNK);
    /* the nonce went stale: the new REQ_NONCE is padded at once */
    assert_int_equal(step(20000), NTK_CTLC_SEND);
    assert_int_equal(sent().hdr.opcode, NTK_CTL_OP_REQ_NONCE);
    assert_int_equal(sent().hdr.count, NTK_CTLC_NONCE_PAD);
    answer_error(NTK_CTL_CERR_PERMISSION, NULL, 0);
    feed_all();
    assert_int_equal(step(20001), NTK_CTLC_REFUSED);
}

/* ---- seeded property: loss, duplication, reordering ---------------------------------------
 */

/* Random response data, fragmented at random and delivered with random loss, duplication and
 * order: the session ends DONE with exactly the data when some attempt delivered every
 * fragment, and TIMEOUT otherwise; nothing else. */
static void property_lossy_delivery(void **state)
{
    (void)state;
    static uint8_t data[NTK_CTL_REASM_MAX];
    struct ntk_mac_keys *ks = test_keys();
    tu_seed();
    int done = 0, timeouts = 0;
    for (int iter = 0; iter < 600; iter++) {
        size_t len = (size_t)(tu_rand() % (iter % 10 == 0 ? 20000 : 1500));
        for (size_t i = 0; i < len; i++) {
            data[i] = (uint8_t)(' ' + tu_rand() % 95);
        }
        size_t min_frag = len / NTK_CTL_FRAGS_MAX + 1;
        size_t frag_max = min_frag + (size_t)(tu_rand() % (NTK_CTL_DATA_MAX - min_frag + 1));
        unsigned loss = (unsigned)(tu_rand() % 40), dup = (unsigned)(tu_rand() % 40);
        uint32_t keyid = tu_rand() % 3 == 0 ? (uint32_t)(1 + tu_rand() % 3) : 0;
        struct ntk_ctlc_cfg cfg = cfg_plain((uint16_t)tu_rand());
        cfg.retries = (unsigned)(tu_rand() % 3);
        cfg.keys = keyid ? ks : NULL;
        cfg.keyid = keyid;
        ntk_ctlc_init(&S, &cfg);
        assert_int_equal(ntk_ctlc_request(&S, NTK_CTL_OP_READVAR, 0, "x", 1), NTK_OK);
        int64_t now = 0;
        bool delivered = false;
        enum ntk_ctlc_ev ev;
        while ((ev = step(now)) == NTK_CTLC_SEND) {
            answer(data, len, frag_max, ks, keyid);
            bool all = true;
            for (size_t k = R.n; k > 1; k--) { /* shuffle */
                size_t j = (size_t)(tu_rand() % k);
                uint8_t tmp[NTK_CTL_DATAGRAM_MAX];
                size_t tl = R.len[k - 1];
                memcpy(tmp, R.dg[k - 1], tl);
                memcpy(R.dg[k - 1], R.dg[j], R.len[j]);
                R.len[k - 1] = R.len[j];
                memcpy(R.dg[j], tmp, tl);
                R.len[j] = tl;
            }
            for (size_t i = 0; i < R.n; i++) {
                if (tu_rand() % 100 < loss) {
                    all = false;
                    continue;
                }
                int times = tu_rand() % 100 < dup ? 2 : 1;
                for (int t = 0; t < times; t++) {
                    int rc = ntk_ctlc_feed(&S, R.dg[i], R.len[i]);
                    assert_true(rc == NTK_OK || rc == NTK_ENOTFOUND);
                }
            }
            delivered = delivered || all;
            if ((ev = step(now + 1)) != NTK_CTLC_WAIT) {
                break;
            }
            now = ntk_ctlc_deadline(&S);
        }
        if (delivered) {
            assert_int_equal(ev, NTK_CTLC_DONE);
            assert_data(data, len);
            done++;
        } else {
            assert_int_equal(ev, NTK_CTLC_TIMEOUT);
            timeouts++;
        }
    }
    assert_true(done > 100 && timeouts > 20);
    ntk_mac_keys_free(ks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(readvar_single),
        cmocka_unit_test(request_rejects),
        cmocka_unit_test(multi_fragment_out_of_order),
        cmocka_unit_test(timeout_resend_same_sequence),
        cmocka_unit_test(error_refused),
        cmocka_unit_test(forged_ignored),
        cmocka_unit_test(signed_session),
        cmocka_unit_test(signed_other_key),
        cmocka_unit_test(proof_exchange),
        cmocka_unit_test(mrulist_golden),
        cmocka_unit_test(mrulist_three_rounds),
        cmocka_unit_test(mrulist_resume_edge),
        cmocka_unit_test(mrulist_timeouts_and_stale_nonce),
        cmocka_unit_test(mrulist_errors),
        cmocka_unit_test(mrulist_proof),
        cmocka_unit_test(property_lossy_delivery),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
