/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness for lib/ctl.c. The input is used three ways:
 * 1. as one datagram: decode must stay in bounds; what decodes re-encodes (without MAC) to a
 *    datagram that decodes to the same header and data; a MAC is checked against the keys of
 *    tests/data/symkey.keys (it must not crash, and a verified key id is one of them);
 * 2. as a sequence of datagrams, each behind a 2-byte big-endian length: fed to a
 *    reassembler expecting the first decoded response's opcode and sequence; stored
 *    fragments must be in the buffer, the caps hold, and nothing completes twice;
 * 3. as response data: split into fragments of a size taken from the input, fed in an
 *    order taken from the input (with duplicates), and reassembled to the same bytes. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ntk/ctl.h"
#include "ntk/err.h"
#include "ntk/mac.h"
#include "fuzz.h"

#include "fuzz_symkeys.h"

#include "poison.h"

static bool same_hdr(const struct ntk_ctl_hdr *a, const struct ntk_ctl_hdr *b)
{
    return a->leap == b->leap && a->version == b->version && a->response == b->response &&
           a->error == b->error && a->more == b->more && a->opcode == b->opcode &&
           a->sequence == b->sequence && a->status == b->status && a->associd == b->associd &&
           a->offset == b->offset && a->count == b->count;
}

static void one_datagram(const uint8_t *data, size_t size)
{
    struct ntk_ctl_msg m;
    if (ntk_ctl_decode(data, size, &m) != NTK_OK) {
        return;
    }
    FUZZ_CHECK(m.hdr.count <= NTK_CTL_DATA_MAX && m.len == size);
    FUZZ_CHECK(m.data >= data && m.data + m.hdr.count <= data + size);
    uint8_t out[NTK_CTL_DATAGRAM_MAX];
    int n = ntk_ctl_encode(&m.hdr, m.data, NULL, 0, out, sizeof out);
    FUZZ_CHECK(n >= NTK_CTL_HEADER_LEN && (size_t)n <= size);
    struct ntk_ctl_msg again;
    FUZZ_CHECK(ntk_ctl_decode(out, (size_t)n, &again) == NTK_OK);
    FUZZ_CHECK(same_hdr(&m.hdr, &again.hdr) && !again.has_mac);
    FUZZ_CHECK(memcmp(m.data, again.data, m.hdr.count) == 0);
    uint32_t keyid = 0;
    int rc = ntk_ctl_verify(fuzz_symkeys(), data, size, &m, &keyid);
    FUZZ_CHECK(rc == NTK_OK || rc == NTK_EAUTH || rc == NTK_ENOTFOUND);
    FUZZ_CHECK(rc != NTK_OK || (keyid >= 1 && keyid <= 3));
    FUZZ_CHECK(m.has_mac || rc == NTK_EAUTH);
}

static void check_stored(const struct ntk_ctl_reasm *r, const struct ntk_ctl_msg *m)
{
    FUZZ_CHECK(r->nfrags <= NTK_CTL_FRAGS_MAX && r->covered <= r->cap);
    FUZZ_CHECK((size_t)m->hdr.offset + m->hdr.count <= r->cap);
    FUZZ_CHECK(memcmp(r->buf + m->hdr.offset, m->data, m->hdr.count) == 0);
    for (size_t i = 1; i < r->nfrags; i++) {
        FUZZ_CHECK((size_t)r->frags[i - 1].off + r->frags[i - 1].count <= r->frags[i].off);
    }
}

static void datagram_sequence(const uint8_t *data, size_t size)
{
    static uint8_t buf[NTK_CTL_REASM_MAX];
    struct ntk_ctl_reasm r;
    bool started = false, done = false;
    size_t pos = 0;
    while (size - pos >= 2) {
        size_t len = (size_t)(data[pos] << 8 | data[pos + 1]) % (NTK_CTL_DATAGRAM_MAX + 1);
        pos += 2;
        len = len < size - pos ? len : size - pos;
        struct ntk_ctl_msg m;
        int rc = ntk_ctl_decode(data + pos, len, &m);
        pos += len;
        if (rc != NTK_OK || !m.hdr.response) {
            continue;
        }
        if (!started) {
            /* A small buffer every other time, to reach the size cap. */
            size_t cap = data[0] & 1 ? sizeof buf : 1000;
            ntk_ctl_reasm_init(&r, buf, cap, m.hdr.opcode, m.hdr.sequence);
            started = true;
        }
        rc = ntk_ctl_reasm_feed(&r, &m);
        FUZZ_CHECK(rc == NTK_CTL_FEED_MORE || rc == NTK_CTL_FEED_DONE ||
                   rc == NTK_CTL_FEED_DUP || rc == NTK_ENOTFOUND || rc == NTK_EFORMAT ||
                   rc == NTK_ERANGE);
        FUZZ_CHECK(!done || rc != NTK_CTL_FEED_MORE);
        if ((rc == NTK_CTL_FEED_MORE || rc == NTK_CTL_FEED_DONE) && !m.hdr.error) {
            check_stored(&r, &m);
        }
        done = done || rc == NTK_CTL_FEED_DONE;
        FUZZ_CHECK(done == ntk_ctl_reasm_done(&r));
    }
    size_t len;
    if (done && ntk_ctl_reasm_error(&r) < 0) {
        FUZZ_CHECK(ntk_ctl_reasm_data(&r, &len) == buf && len == r.covered && len <= r.cap);
    }
}

static size_t gcd(size_t a, size_t b)
{
    while (b != 0) {
        size_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static void split_roundtrip(const uint8_t *data, size_t size)
{
    static uint8_t dgrams[NTK_CTL_FRAGS_MAX][NTK_CTL_DATAGRAM_MAX];
    static size_t lens[NTK_CTL_FRAGS_MAX];
    static uint8_t buf[NTK_CTL_REASM_MAX];
    if (size < 2) {
        return;
    }
    size_t frag_max = 1 + (size_t)(data[0] << 8 | data[1]) % NTK_CTL_DATA_MAX;
    const uint8_t *payload = data + 2;
    size_t len = size - 2 < NTK_CTL_REASM_MAX ? size - 2 : NTK_CTL_REASM_MAX;
    if ((len + frag_max - 1) / frag_max > NTK_CTL_FRAGS_MAX) {
        frag_max = NTK_CTL_DATA_MAX;
    }
    struct ntk_ctl_hdr h = {.version = 2, .response = true, .opcode = 2, .sequence = 9};
    struct ntk_ctl_split s;
    FUZZ_CHECK(ntk_ctl_split_init(&s, &h, payload, len, frag_max) == NTK_OK);
    size_t n = 0;
    int got;
    while ((got = ntk_ctl_split_next(&s, NULL, 0, dgrams[n], NTK_CTL_DATAGRAM_MAX)) > 0) {
        lens[n++] = (size_t)got;
        FUZZ_CHECK(n <= NTK_CTL_FRAGS_MAX);
    }
    FUZZ_CHECK(got == 0 && n >= 1);
    struct ntk_ctl_reasm r;
    ntk_ctl_reasm_init(&r, buf, sizeof buf, 2, 9);
    /* Visit in a stride order taken from the input (coprime to n: every one once), then
     * feed the first again as a duplicate. */
    size_t stride = 1 + (size_t)data[1] % n;
    while (gcd(stride, n) != 1) {
        stride++;
    }
    for (size_t i = 0, k = (size_t)data[0] % n; i <= n; i++, k = (k + stride) % n) {
        struct ntk_ctl_msg m;
        FUZZ_CHECK(ntk_ctl_decode(dgrams[k], lens[k], &m) == NTK_OK);
        int rc = ntk_ctl_reasm_feed(&r, &m);
        FUZZ_CHECK(rc == (i == n       ? NTK_CTL_FEED_DUP
                          : i + 1 == n ? NTK_CTL_FEED_DONE
                                       : NTK_CTL_FEED_MORE));
    }
    size_t out_len;
    const uint8_t *out = ntk_ctl_reasm_data(&r, &out_len);
    FUZZ_CHECK(out_len == len && (len == 0 || memcmp(out, payload, len) == 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one_datagram(data, size);
    datagram_sequence(data, size);
    split_roundtrip(data, size);
    return 0;
}
