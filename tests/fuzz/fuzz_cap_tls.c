/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness for ntpcap's NTS-KE decryption (cli/ntpcap/cap_tls.c, cap_keylog.c): TCP
 * reassembly, TLS record and handshake framing, record decryption with a fixed key log, and
 * the KE messages; or, with the first byte's top bit set, a key log file's text.
 *
 * Stream mode input: a mode byte, then segments of a flags byte (bit 0: server to client,
 * bit 1 SYN, bit 2 FIN, bit 3 RST), a 2-byte big-endian stream offset, a 2-byte length and
 * the data (cut to what is left). The key log holds the secrets of tests/unit/test_cap_tls.c's
 * synthetic connection (client random 32 x 0x11, secrets 32 x 0xa1..0xa4), whose dump is the
 * corpus. Invariants: every report has a known status, "ok" only with both messages decoded,
 * at most 8 cookies of 1..256 bytes; every connection is reported at most once per life. */
#include <string.h>

#include "cap.h"
#include "cap_keylog.h"
#include "cap_tls.h"
#include "fuzz.h"
#include "ntk/err.h"

#include "poison.h"

static const char *const STATUS[] = {"ok",
                                     "no_client_hello",
                                     "not_tls13",
                                     "cipher_unsupported",
                                     "no_keys",
                                     "decrypt_failed",
                                     "key_update",
                                     "stream_overflow",
                                     "malformed_tls",
                                     "incomplete"};

static void on_done(void *ctx, const struct cap_ntske *k, const struct cap_pkt *first,
                    const struct cap_pkt *last, size_t c2s, size_t s2c)
{
    unsigned *calls = ctx;
    (*calls)++;
    bool known = false;
    for (size_t i = 0; i < sizeof STATUS / sizeof STATUS[0]; i++) {
        known |= k->status != NULL && strcmp(k->status, STATUS[i]) == 0;
    }
    FUZZ_CHECK(known);
    FUZZ_CHECK(strcmp(k->status, "ok") != 0 || (k->request && k->response));
    FUZZ_CHECK(k->n_cookies <= NTK_KE_COOKIES_MAX);
    for (size_t i = 0; i < k->n_cookies; i++) {
        FUZZ_CHECK(k->cookie_lens[i] >= 1 && k->cookie_lens[i] <= NTK_KE_COOKIE_MAX);
    }
    FUZZ_CHECK(c2s <= CAP_TLS_STREAM_MAX && s2c <= CAP_TLS_STREAM_MAX);
    FUZZ_CHECK(first != NULL && last != NULL);
}

static void keylog(struct cap_keylog *kl)
{
    static const char *const labels[] = {"CLIENT_HANDSHAKE_TRAFFIC_SECRET",
                                         "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                                         "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"};
    char text[1024];
    size_t n = 0;
    for (int l = 0; l < 4; l++) {
        size_t ll = strlen(labels[l]);
        memcpy(text + n, labels[l], ll);
        n += ll;
        text[n++] = ' ';
        for (int i = 0; i < 32; i++) {
            text[n++] = '1';
            text[n++] = '1';
        }
        text[n++] = ' ';
        for (int i = 0; i < 32; i++) {
            text[n++] = 'a';
            text[n++] = (char)('1' + l);
        }
        text[n++] = '\n';
    }
    memset(kl, 0, sizeof *kl);
    FUZZ_CHECK(cap_keylog_parse(kl, (const uint8_t *)text, n) == 0 && kl->n == 4);
}

static void streams(const uint8_t *data, size_t size)
{
    struct cap_keylog kl;
    keylog(&kl);
    unsigned calls = 0;
    struct cap_tls *t = cap_tls_new(&kl, on_done, &calls);
    if (t == NULL) {
        cap_keylog_free(&kl);
        return;
    }
    size_t off = 0;
    while (off + 5 <= size) {
        uint8_t fl = data[off];
        uint32_t at = (uint32_t)data[off + 1] << 8 | data[off + 2];
        size_t n = (size_t)data[off + 3] << 8 | data[off + 4];
        off += 5;
        n = n > size - off ? size - off : n;
        struct cap_pkt p;
        memset(&p, 0, sizeof p);
        p.what = CAP_NTSKE;
        struct ntk_addr cl = {.family = NTK_ADDR_V4, .port = 40000};
        struct ntk_addr sv = {.family = NTK_ADDR_V4, .port = 4460};
        bool s2c = fl & 1;
        p.src = s2c ? sv : cl;
        p.dst = s2c ? cl : sv;
        p.tcp_flags = (uint8_t)(((fl & 2) ? 0x02 : 0) | ((fl & 4) ? 0x01 : 0) |
                                ((fl & 8) ? 0x04 : 0) | 0x10);
        p.tcp_seq = (s2c ? 700000u : 1000u) + at;
        p.payload_len = n;
        cap_tls_feed(t, &p, data + off, n);
        off += n;
    }
    cap_tls_finish(t);
    cap_tls_free(t);
    cap_keylog_free(&kl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    if (data[0] & 0x80) {
        struct cap_keylog kl;
        memset(&kl, 0, sizeof kl);
        int rc = cap_keylog_parse(&kl, data + 1, size - 1);
        FUZZ_CHECK(rc == 0 || rc == NTK_ENOMEM || rc == NTK_ERANGE);
        FUZZ_CHECK(kl.n + kl.skipped + kl.bad == kl.lines);
        cap_keylog_free(&kl);
        return 0;
    }
    streams(data + 1, size - 1);
    return 0;
}
