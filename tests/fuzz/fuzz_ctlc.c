/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness for lib/ctlc.c: a mode-6 client session fed arbitrary datagrams.
 *
 * Input: byte 0 configures the session (bit 0: signed, bits 1-2: key id 1..3, bit 3: prove,
 * bit 4: mrulist instead of one request, bits 5-6: retries, bit 7: opcode REQ_NONCE instead of
 * READVAR); byte 1 is how many well-formed answers a built-in server gives first, which
 * walks the session into its later states (nonce fetched, proof asked, mrulist chunks);
 * then records of [2-byte big-endian length][flags][datagram]: flag bit 0 patches the
 * datagram's header to look like a response to the request in flight (R, opcode,
 * sequence), bit 1 re-signs it with the session's key (so that it passes the MAC check),
 * bit 2 moves the clock to the deadline first, bit 3 steps after it.
 * Invariants: every step returns a documented event; SEND datagrams decode as signed or
 * unsigned requests as configured; data is NUL-terminated and bounded; CHUNK only in
 * mrulist; final events repeat; feed returns only documented values; once the input is
 * spent the session ends within a bounded number of steps. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ntk/ctl.h"
#include "ntk/ctlc.h"
#include "ntk/err.h"
#include "ntk/mac.h"
#include "fuzz.h"

#include "fuzz_symkeys.h"

#include "poison.h"

/* One run's state. */
struct run {
    struct ntk_ctlc c;
    struct ntk_ctlc_cfg cfg;
    bool mru;
    int64_t now;
    uint8_t sent[NTK_CTL_DATAGRAM_MAX]; /* the last request sent */
    size_t sent_len;
    bool ended;
    enum ntk_ctlc_ev final;
};

static struct run R;

static void check_data(void)
{
    size_t n = 0;
    const char *d = ntk_ctlc_data(&R.c, &n);
    FUZZ_CHECK(d != NULL && n <= NTK_CTL_REASM_MAX && d[n] == '\0');
}

static void check_sent(void)
{
    struct ntk_ctl_msg m;
    FUZZ_CHECK(R.sent_len <= NTK_CTL_DATAGRAM_MAX);
    FUZZ_CHECK(ntk_ctl_decode(R.sent, R.sent_len, &m) == NTK_OK);
    FUZZ_CHECK(!m.hdr.response && m.hdr.leap == 3 && m.hdr.version == NTK_CTL_VERSION);
    FUZZ_CHECK(m.has_mac == (R.cfg.keyid != 0));
    if (R.cfg.keyid != 0) {
        uint32_t id = 0;
        FUZZ_CHECK(ntk_ctl_verify(fuzz_symkeys(), R.sent, R.sent_len, &m, &id) == NTK_OK);
        FUZZ_CHECK(id == R.cfg.keyid);
    }
}

/* Steps once and checks what comes back. */
static enum ntk_ctlc_ev step(void)
{
    uint8_t out[NTK_CTL_DATAGRAM_MAX];
    size_t len = 0;
    enum ntk_ctlc_ev ev = ntk_ctlc_step(&R.c, R.now, out, sizeof out, &len);
    FUZZ_CHECK(ev >= NTK_CTLC_SEND && ev <= NTK_CTLC_FAILED);
    if (R.ended) {
        FUZZ_CHECK(ev == R.final);
    }
    switch (ev) {
    case NTK_CTLC_SEND:
        memcpy(R.sent, out, len);
        R.sent_len = len;
        check_sent();
        break;
    case NTK_CTLC_WAIT:
        FUZZ_CHECK(ntk_ctlc_deadline(&R.c) != INT64_MAX);
        break;
    case NTK_CTLC_CHUNK:
        FUZZ_CHECK(R.mru);
        check_data();
        break;
    case NTK_CTLC_FAILED:
        FUZZ_CHECK(ntk_ctlc_err(&R.c) < 0);
        /* fall through */
    default:
        check_data();
        R.ended = true;
        R.final = ev;
        FUZZ_CHECK(ntk_ctlc_deadline(&R.c) == INT64_MAX);
        break;
    }
    return ev;
}

static void feed(const uint8_t *p, size_t len)
{
    int rc = ntk_ctlc_feed(&R.c, p, len);
    FUZZ_CHECK(rc == NTK_OK || rc == NTK_ENOTFOUND || rc == NTK_ETRUNC || rc == NTK_EFORMAT ||
               rc == NTK_EVERSION || rc == NTK_EAUTH || rc == NTK_ERANGE || rc == NTK_ECRYPTO);
}

/* The built-in server's well-formed answer to the last request. */
static void answer_well(void)
{
    struct ntk_ctl_msg q;
    if (R.sent_len == 0 || ntk_ctl_decode(R.sent, R.sent_len, &q) != NTK_OK) {
        return;
    }
    struct ntk_ctl_hdr h = {.version = 2,
                            .response = true,
                            .opcode = q.hdr.opcode,
                            .sequence = q.hdr.sequence,
                            .associd = q.hdr.associd};
    const char *text = "x=1\r\n";
    if (q.hdr.opcode == NTK_CTL_OP_REQ_NONCE) {
        text = "nonce=0123456789abcdef\r\n";
    } else if (q.hdr.opcode == NTK_CTL_OP_READ_MRU) {
        text = "nonce=fedcba, addr.0=192.0.2.1:123, last.0=0xeeb22b97.7a25f05d\r\n";
    } else if (R.cfg.prove && q.hdr.count < 6) {
        h.error = true; /* refuse unproven requests */
        h.status = ntk_ctl_err_status(NTK_CTL_CERR_PERMISSION);
        text = "";
    }
    h.count = (uint16_t)strlen(text);
    uint8_t dg[NTK_CTL_DATAGRAM_MAX];
    int n =
        ntk_ctl_encode(&h, (const uint8_t *)text, fuzz_symkeys(), R.cfg.keyid, dg, sizeof dg);
    FUZZ_CHECK(n > 0);
    feed(dg, (size_t)n);
}

/* Makes p look like a response to the request in flight, and signs it if asked. */
static size_t patch(uint8_t *p, size_t len, uint8_t flags)
{
    struct ntk_ctl_msg q, m;
    if ((flags & 1) && len >= NTK_CTL_HEADER_LEN &&
        ntk_ctl_decode(R.sent, R.sent_len, &q) == NTK_OK) {
        p[0] = (uint8_t)((p[0] & 0xc0) | (2 << 3) | 6);
        p[1] = (uint8_t)(0x80 | (p[1] & 0x60) | q.hdr.opcode);
        p[2] = (uint8_t)(q.hdr.sequence >> 8);
        p[3] = (uint8_t)q.hdr.sequence;
    }
    if ((flags & 2) && R.cfg.keyid != 0 && ntk_ctl_decode(p, len, &m) == NTK_OK) {
        uint8_t data[NTK_CTL_DATA_MAX];
        memcpy(data, m.data, m.hdr.count);
        int n =
            ntk_ctl_encode(&m.hdr, data, fuzz_symkeys(), R.cfg.keyid, p, NTK_CTL_DATAGRAM_MAX);
        if (n > 0) {
            len = (size_t)n;
        }
    }
    return len;
}

static void start(uint8_t conf)
{
    memset(&R.cfg, 0, sizeof R.cfg);
    R.cfg.timeout_ms = 5000;
    R.cfg.retries = (unsigned)((conf >> 5) & 3);
    R.cfg.prove = (conf & 8) != 0;
    R.cfg.first_sequence = 0xfffe;
    if (conf & 1) {
        R.cfg.keys = fuzz_symkeys();
        R.cfg.keyid = 1u + (uint32_t)((conf >> 1) & 3) % 3;
    }
    R.mru = (conf & 16) != 0;
    R.now = 1000;
    R.sent_len = 0;
    R.ended = false;
    ntk_ctlc_init(&R.c, &R.cfg);
    if (R.mru) {
        FUZZ_CHECK(ntk_ctlc_mrulist(&R.c, "recent=3, mincount=1", 20, 32) == NTK_OK);
    } else {
        uint8_t op = (conf & 128) ? NTK_CTL_OP_REQ_NONCE : NTK_CTL_OP_READVAR;
        FUZZ_CHECK(ntk_ctlc_request(&R.c, op, 0, "leap", 4) == NTK_OK);
    }
}

/* Steps until the session waits or ends; answers well while scripted answers remain. */
static void advance(unsigned *script)
{
    for (int i = 0; i < 64 && !R.ended; i++) {
        enum ntk_ctlc_ev ev = step();
        if (ev == NTK_CTLC_WAIT) {
            if (*script == 0) {
                return;
            }
            (*script)--;
            answer_well();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    start(data[0]);
    unsigned script = data[1] & 7;
    advance(&script);
    size_t pos = 2;
    while (pos + 3 <= size && !R.ended) {
        size_t len = (size_t)data[pos] << 8 | data[pos + 1];
        uint8_t flags = data[pos + 2];
        pos += 3;
        len = len < size - pos ? len : size - pos;
        len = len < NTK_CTL_DATAGRAM_MAX ? len : NTK_CTL_DATAGRAM_MAX;
        uint8_t dg[NTK_CTL_DATAGRAM_MAX];
        memcpy(dg, data + pos, len);
        pos += len;
        if (flags & 4) {
            R.now = ntk_ctlc_deadline(&R.c) == INT64_MAX ? R.now : ntk_ctlc_deadline(&R.c);
            advance(&script);
        }
        feed(dg, patch(dg, len, flags));
        if (flags & 8) {
            advance(&script);
        }
    }
    /* Input spent: nothing more arrives; the session must end. */
    for (int i = 0; i < 400 && !R.ended; i++) {
        if (step() == NTK_CTLC_WAIT) {
            R.now = ntk_ctlc_deadline(&R.c);
        }
    }
    FUZZ_CHECK(R.ended);
    FUZZ_CHECK(step() == R.final);
    return 0;
}
