/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for ntpcap's NTS-KE decryption (cli/ntpcap/cap_tls.c, cap_keylog.c): key log
 * lines, TLS record and handshake framing, HKDF-Expand-Label against RFC 8448's trace,
 * record protection round trips, and whole synthetic NTS-KE connections fed as TCP segments
 * (in order, split, reordered and retransmitted, without keys, with wrong keys, without the
 * ClientHello). With NTK_CAP_TLS_DUMP=DIR set, the synthetic connection is also written as
 * fuzz_cap_tls inputs (the corpus is made that way). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cap.h"
#include "cap_keylog.h"
#include "cap_tls.h"
#include "ntk/buf.h"
#include "ntk/err.h"
#include "ntk/nts_ke.h"
#include "testutil.h"

#include "poison.h"

/* The synthetic connection's constants (tests/fuzz/fuzz_cap_tls.c uses the same). */
#define RANDOM_BYTE 0x11
#define SECRET_BYTE 0xa0 /* + 1 + enum cap_kl_label */
#define SUITE       CAP_TLS_AES_128_GCM_SHA256
#define COOKIE_LEN  100

static void keylog_text(char *out, size_t cap, uint8_t bump)
{
    static const char *const labels[] = {"CLIENT_HANDSHAKE_TRAFFIC_SECRET",
                                         "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                                         "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"};
    size_t n = 0;
    out[0] = '\0';
    for (int l = 0; l < 4; l++) {
        n += (size_t)snprintf(out + n, cap - n, "%s ", labels[l]);
        for (int i = 0; i < 32; i++) {
            n += (size_t)snprintf(out + n, cap - n, "%02x", RANDOM_BYTE);
        }
        n += (size_t)snprintf(out + n, cap - n, " ");
        for (int i = 0; i < 32; i++) {
            n +=
                (size_t)snprintf(out + n, cap - n, "%02x",
                                 (unsigned)(SECRET_BYTE + 1 + l + (i == 31 ? bump : 0)) & 255);
        }
        n += (size_t)snprintf(out + n, cap - n, "\n");
    }
}

/* ---- building the two streams ---- */

struct stream {
    uint8_t b[8192];
    size_t n;
};

static void put(struct stream *s, const void *p, size_t n)
{
    assert_true(s->n + n <= sizeof s->b);
    memcpy(s->b + s->n, p, n);
    s->n += n;
}

static void plain_record(struct stream *s, uint8_t type, const uint8_t *body, size_t n)
{
    uint8_t h[5] = {type, 3, 3, (uint8_t)(n >> 8), (uint8_t)n};
    put(s, h, 5);
    put(s, body, n);
}

static void sealed(struct stream *s, enum cap_kl_label label, uint64_t seq, uint8_t inner,
                   const uint8_t *pt, size_t n)
{
    uint8_t secret[32];
    memset(secret, SECRET_BYTE + 1 + (int)label, sizeof secret);
    struct cap_tls_key k;
    assert_int_equal(cap_tls_derive(SUITE, secret, sizeof secret, &k), 0);
    uint8_t rec[4096];
    int len = cap_tls_seal(&k, seq, inner, pt, n, rec, sizeof rec);
    assert_true(len > 0);
    put(s, rec, (size_t)len);
}

static size_t hs(uint8_t *out, uint8_t type, const uint8_t *body, size_t n)
{
    out[0] = type;
    out[1] = (uint8_t)(n >> 16);
    out[2] = (uint8_t)(n >> 8);
    out[3] = (uint8_t)n;
    memcpy(out + 4, body, n);
    return n + 4;
}

static const uint8_t CCS[1] = {1};

static void client_stream(struct stream *s)
{
    uint8_t ch[128], body[64], m[64];
    size_t k = 0;
    body[k++] = 3;
    body[k++] = 3;
    memset(body + k, RANDOM_BYTE, 32);
    k += 32;
    const uint8_t rest[] = {0, 0, 2, 0x13, 0x01, 1, 0, 0, 0};
    memcpy(body + k, rest, sizeof rest);
    k += sizeof rest;
    plain_record(s, CAP_TLS_HANDSHAKE, ch, hs(ch, CAP_TLS_HS_CLIENT_HELLO, body, k));
    plain_record(s, CAP_TLS_CCS, CCS, 1);
    uint8_t fin[32];
    memset(fin, 0x5a, sizeof fin);
    sealed(s, CAP_KL_CLIENT_HS, 0, CAP_TLS_HANDSHAKE, m, hs(m, CAP_TLS_HS_FINISHED, fin, 32));
    uint16_t aeads[] = {15, 17};
    uint8_t req[64];
    int n = ntk_ke_build_request(req, sizeof req, aeads, 2, NULL, 0);
    assert_int_equal(n, 18);
    sealed(s, CAP_KL_CLIENT_AP, 0, CAP_TLS_APPDATA, req, (size_t)n);
}

static void server_stream(struct stream *s)
{
    uint8_t sh[128], body[96];
    size_t k = 0;
    body[k++] = 3;
    body[k++] = 3;
    memset(body + k, 0x22, 32);
    k += 32;
    const uint8_t rest[] = {0, 0x13, 0x01, 0, 0, 6, 0, 43, 0, 2, 3, 4};
    memcpy(body + k, rest, sizeof rest);
    k += sizeof rest;
    plain_record(s, CAP_TLS_HANDSHAKE, sh, hs(sh, CAP_TLS_HS_SERVER_HELLO, body, k));
    plain_record(s, CAP_TLS_CCS, CCS, 1);
    /* EncryptedExtensions, then a 1500-byte Certificate split over two records, then
     * Finished: a handshake message continuing in the next record. */
    static uint8_t flight[2048];
    uint8_t ee[2] = {0, 0}, cert[1500], fin[32];
    memset(cert, 0xce, sizeof cert);
    memset(fin, 0xf1, sizeof fin);
    size_t f = hs(flight, 8, ee, 2);
    f += hs(flight + f, 11, cert, sizeof cert);
    f += hs(flight + f, CAP_TLS_HS_FINISHED, fin, sizeof fin);
    sealed(s, CAP_KL_SERVER_HS, 0, CAP_TLS_HANDSHAKE, flight, 700);
    sealed(s, CAP_KL_SERVER_HS, 1, CAP_TLS_HANDSHAKE, flight + 700, f - 700);
    struct ntk_ke_cookie ck[NTK_KE_COOKIES_MAX];
    for (size_t i = 0; i < NTK_KE_COOKIES_MAX; i++) {
        ck[i].len = COOKIE_LEN;
        memset(ck[i].b, (int)i, COOKIE_LEN);
    }
    uint8_t resp[2048];
    int n = ntk_ke_build_response(resp, sizeof resp, 15, ck, NTK_KE_COOKIES_MAX, NULL, 0);
    assert_true(n > 0);
    sealed(s, CAP_KL_SERVER_AP, 0, CAP_TLS_APPDATA, resp, (size_t)n);
}

/* ---- feeding ---- */

struct got {
    int calls;
    struct cap_ntske k;
    size_t c2s, s2c;
};

static void on_done(void *ctx, const struct cap_ntske *k, const struct cap_pkt *first,
                    const struct cap_pkt *last, size_t c2s, size_t s2c)
{
    struct got *g = ctx;
    (void)first;
    (void)last;
    g->calls++;
    g->k = *k;
    g->c2s = c2s;
    g->s2c = s2c;
}

enum { ISN_C = 1000, ISN_S = 70000 };

static void seg(struct cap_tls *t, bool c2s, uint32_t off, const uint8_t *d, size_t n,
                uint8_t flags)
{
    struct cap_pkt p;
    memset(&p, 0, sizeof p);
    p.what = CAP_NTSKE;
    struct ntk_addr cl = {.family = NTK_ADDR_V4, .port = 40000};
    struct ntk_addr sv = {.family = NTK_ADDR_V4, .port = 4460};
    cl.ip[0] = 192;
    sv.ip[0] = 198;
    p.src = c2s ? cl : sv;
    p.dst = c2s ? sv : cl;
    p.tcp_flags = flags;
    p.tcp_seq = (c2s ? ISN_C + 1 : ISN_S + 1) + off;
    p.payload_len = n;
    cap_tls_feed(t, &p, d, n);
}

static void syn(struct cap_tls *t)
{
    seg(t, true, (uint32_t)-1, NULL, 0, 0x02);
    seg(t, false, (uint32_t)-1, NULL, 0, 0x12);
}

static struct cap_tls *table(struct cap_keylog *kl, struct got *g, uint8_t bump)
{
    char text[2048];
    keylog_text(text, sizeof text, bump);
    memset(kl, 0, sizeof *kl);
    assert_int_equal(cap_keylog_parse(kl, (const uint8_t *)text, strlen(text)), 0);
    assert_int_equal(kl->n, 4);
    memset(g, 0, sizeof *g);
    struct cap_tls *t = cap_tls_new(kl, on_done, g);
    assert_non_null(t);
    return t;
}

static void expect_ok(const struct got *g, const struct stream *c, const struct stream *s)
{
    assert_int_equal(g->calls, 1);
    assert_string_equal(g->k.status, "ok");
    assert_int_equal(g->k.cipher_suite, SUITE);
    assert_int_equal(g->k.records_c2s, 2);
    assert_int_equal(g->k.records_s2c, 3);
    assert_true(g->k.request);
    assert_int_equal(g->k.n_req_aeads, 2);
    assert_int_equal(g->k.req_aeads[0], 15);
    assert_int_equal(g->k.req_aeads[1], 17);
    assert_int_equal(g->k.request_len, 18);
    assert_true(g->k.response);
    assert_int_equal(g->k.response_len, 4 + 2 + 4 + 2 + 8 * (4 + COOKIE_LEN) + 4);
    assert_int_equal(g->k.next_protocol, 0);
    assert_int_equal(g->k.aead, 15);
    assert_int_equal(g->k.error_code, -1);
    assert_int_equal(g->k.warning_code, -1);
    assert_int_equal(g->k.n_cookies, 8);
    for (size_t i = 0; i < 8; i++) {
        assert_int_equal(g->k.cookie_lens[i], COOKIE_LEN);
    }
    assert_int_equal(g->k.port, -1);
    assert_string_equal(g->k.server, "");
    assert_int_equal(g->c2s, c->n);
    assert_int_equal(g->s2c, s->n);
}

static void dump(const char *name, const struct stream *c, const struct stream *s)
{
    const char *dir = getenv("NTK_CAP_TLS_DUMP");
    if (dir == NULL) {
        return;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    /* fuzz_cap_tls's format: mode byte, then segments of (flags, 2-byte offset, 2-byte
     * length, data): the client's stream then the server's, whole. */
    fputc(0x01, f);
    const struct stream *st[2] = {c, s};
    for (int i = 0; i < 2; i++) {
        uint8_t h[5] = {(uint8_t)(i == 0 ? 0 : 1), 0, 0, (uint8_t)(st[i]->n >> 8),
                        (uint8_t)st[i]->n};
        fwrite(h, 1, 5, f);
        fwrite(st[i]->b, 1, st[i]->n, f);
    }
    fclose(f);
}

static void connection_in_order(void **state)
{
    (void)state;
    static struct stream c, s;
    memset(&c, 0, sizeof c);
    memset(&s, 0, sizeof s);
    client_stream(&c);
    server_stream(&s);
    dump("whole", &c, &s);
    struct cap_keylog kl;
    struct got g;
    struct cap_tls *t = table(&kl, &g, 0);
    syn(t);
    /* ClientHello, ServerHello flight, client Finished + request, server response. */
    size_t ch = 5 + 4 + 2 + 32 + 9, sh_end = s.n - (5 + 4 + 2 + 4 + 2 + 8 * 104 + 4 + 1 + 16);
    seg(t, true, 0, c.b, ch, 0x18);
    seg(t, false, 0, s.b, sh_end, 0x18);
    assert_int_equal(g.calls, 0);
    seg(t, true, (uint32_t)ch, c.b + ch, c.n - ch, 0x18);
    assert_int_equal(g.calls, 0);
    seg(t, false, (uint32_t)sh_end, s.b + sh_end, s.n - sh_end, 0x18);
    expect_ok(&g, &c, &s);
    assert_int_equal(g.k.retransmits, 0);
    assert_int_equal(g.k.out_of_order, 0);
    /* What follows (FINs) is not reported again, and finish reports nothing more. */
    seg(t, false, (uint32_t)s.n, NULL, 0, 0x11);
    seg(t, true, (uint32_t)c.n, NULL, 0, 0x11);
    seg(t, false, (uint32_t)s.n + 1, NULL, 0, 0x10); /* the last ACK, after both FINs */
    assert_int_equal(g.calls, 1);
    /* The same ports again without FINs in between: a SYN starts a new connection. */
    syn(t);
    seg(t, true, 0, c.b, c.n, 0x18);
    syn(t);
    seg(t, true, 0, c.b, c.n, 0x18);
    seg(t, false, 0, s.b, s.n, 0x18);
    assert_int_equal(g.calls, 2);
    assert_string_equal(g.k.status, "ok");
    cap_tls_finish(t);
    assert_int_equal(g.calls, 2);
    cap_tls_free(t);
    cap_keylog_free(&kl);
}

/* Both streams cut into random pieces, sent in a shuffled order with duplicates: the same
 * result, the duplicates counted as retransmissions. */
static void connection_reordered(void **state)
{
    (void)state;
    static struct stream c, s;
    memset(&c, 0, sizeof c);
    memset(&s, 0, sizeof s);
    client_stream(&c);
    server_stream(&s);
    tu_seed();
    for (int round = 0; round < 200; round++) {
        struct piece {
            bool c2s;
            uint32_t off;
            size_t n;
        } pc[64];
        size_t np = 0;
        const struct stream *st[2] = {&c, &s};
        for (int i = 0; i < 2; i++) {
            for (size_t off = 0; off < st[i]->n && np < 56;) {
                size_t n = 1 + tu_rand() % 700;
                n = off + n > st[i]->n || np == 55 ? st[i]->n - off : n;
                pc[np++] = (struct piece){i == 0, (uint32_t)off, n};
                off += n;
            }
        }
        size_t dups = tu_rand() % 4;
        for (size_t d = 0; d < dups; d++) {
            pc[np] = pc[tu_rand() % np];
            np++;
        }
        /* A local shuffle keeps the ClientHello before the server's data mostly, but any
         * order must work: the server's records wait for nothing. */
        for (size_t i = np - 1; i > 0; i--) {
            if (tu_rand() % 3 == 0) {
                size_t j = i - 1;
                struct piece x = pc[i];
                pc[i] = pc[j];
                pc[j] = x;
            }
        }
        struct cap_keylog kl;
        struct got g;
        struct cap_tls *t = table(&kl, &g, 0);
        syn(t);
        for (size_t i = 0; i < np; i++) {
            const struct stream *x = pc[i].c2s ? &c : &s;
            seg(t, pc[i].c2s, pc[i].off, x->b + pc[i].off, pc[i].n, 0x18);
        }
        cap_tls_finish(t);
        expect_ok(&g, &c, &s);
        assert_true(g.k.retransmits <= dups);
        cap_tls_free(t);
        cap_keylog_free(&kl);
    }
}

static void run_whole(uint8_t bump, bool skip_hello, bool empty_keylog, struct got *g)
{
    static struct stream c, s;
    memset(&c, 0, sizeof c);
    memset(&s, 0, sizeof s);
    client_stream(&c);
    server_stream(&s);
    struct cap_keylog kl;
    struct cap_tls *t = table(&kl, g, bump);
    if (empty_keylog) {
        kl.n = 0;
    }
    size_t ch = 5 + 4 + 2 + 32 + 9;
    if (!skip_hello) {
        syn(t);
    }
    seg(t, true, skip_hello ? (uint32_t)ch : 0, c.b + (skip_hello ? ch : 0),
        c.n - (skip_hello ? ch : 0), 0x18);
    seg(t, false, 0, s.b, s.n, 0x18);
    cap_tls_finish(t);
    cap_tls_free(t);
    cap_keylog_free(&kl);
}

static void connection_failures(void **state)
{
    (void)state;
    struct got g;
    run_whole(0, false, true, &g);
    assert_int_equal(g.calls, 1);
    assert_string_equal(g.k.status, "no_keys");
    assert_false(g.k.request);
    assert_int_equal(g.k.records_c2s + g.k.records_s2c, 0);
    run_whole(1, false, false, &g);
    assert_int_equal(g.calls, 1);
    assert_string_equal(g.k.status, "decrypt_failed");
    assert_int_equal(g.k.n_cookies, 0);
    run_whole(0, true, false, &g);
    assert_int_equal(g.calls, 1);
    assert_string_equal(g.k.status, "no_client_hello");
    assert_int_equal(g.k.cipher_suite, 0); /* the ServerHello waited for the ClientHello */
}

/* ---- pieces ---- */

static void derive_rfc8448(void **state)
{
    (void)state;
    /* RFC 8448 §3, "derive write traffic keys for handshake data" (server). */
    uint8_t secret[32], key[16], iv[12];
    assert_int_equal(
        tu_unhex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38", secret,
                 sizeof secret),
        32);
    assert_int_equal(tu_unhex("3fce516009c21727d0f2e4e86ee403bc", key, sizeof key), 16);
    assert_int_equal(tu_unhex("5d313eb2671276ee13000b30", iv, sizeof iv), 12);
    struct cap_tls_key k;
    assert_int_equal(cap_tls_derive(CAP_TLS_AES_128_GCM_SHA256, secret, 32, &k), 0);
    assert_int_equal(k.key_len, 16);
    assert_memory_equal(k.key, key, 16);
    assert_memory_equal(k.iv, iv, 12);
    assert_int_equal(cap_tls_derive(0x1304, secret, 32, &k), NTK_EUNSUPP);
    assert_int_equal(cap_tls_derive(CAP_TLS_AES_256_GCM_SHA384, secret, 32, &k), NTK_EINVAL);
}

static void seal_open_round_trip(void **state)
{
    (void)state;
    static const uint16_t suites[] = {CAP_TLS_AES_128_GCM_SHA256, CAP_TLS_AES_256_GCM_SHA384,
                                      CAP_TLS_CHACHA20_POLY1305_SHA256};
    tu_seed();
    for (int round = 0; round < 300; round++) {
        uint16_t suite = suites[round % 3];
        uint8_t secret[48], pt[600], rec[700], out[700];
        size_t slen = suite == CAP_TLS_AES_256_GCM_SHA384 ? 48 : 32;
        tu_fill(secret, slen);
        size_t n = tu_rand() % sizeof pt;
        tu_fill(pt, n);
        struct cap_tls_key k;
        assert_int_equal(cap_tls_derive(suite, secret, slen, &k), 0);
        uint64_t seq = tu_rand() % 1000;
        int len = cap_tls_seal(&k, seq, CAP_TLS_APPDATA, pt, n, rec, sizeof rec);
        assert_int_equal(len, (int)(5 + n + 1 + 16));
        size_t got = 0;
        uint8_t inner = 0;
        assert_int_equal(
            cap_tls_open(&k, seq, rec, rec + 5, (size_t)len - 5, out, &got, &inner), 0);
        assert_int_equal(inner, CAP_TLS_APPDATA);
        assert_int_equal(got, n);
        assert_memory_equal(out, pt, n);
        assert_int_equal(
            cap_tls_open(&k, seq + 1, rec, rec + 5, (size_t)len - 5, out, &got, &inner),
            NTK_EAUTH);
        rec[5 + tu_rand() % ((size_t)len - 5)] ^= (uint8_t)(1u << (tu_rand() % 8));
        assert_int_equal(
            cap_tls_open(&k, seq, rec, rec + 5, (size_t)len - 5, out, &got, &inner),
            NTK_EAUTH);
        assert_int_equal(cap_tls_open(&k, seq, rec, rec + 5, 15, out, &got, &inner),
                         NTK_ETRUNC);
    }
}

static void record_framing(void **state)
{
    (void)state;
    const uint8_t two[] = {22, 3, 3, 0, 2, 0xaa, 0xbb, 23, 3, 3, 0, 1, 0xcc};
    struct ntk_rd r;
    struct cap_tls_rec rec;
    ntk_rd_init(&r, two, sizeof two);
    assert_int_equal(cap_tls_record(&r, &rec), 0);
    assert_int_equal(rec.type, 22);
    assert_int_equal(rec.len, 2);
    assert_int_equal(rec.body[1], 0xbb);
    assert_ptr_equal(rec.hdr, two);
    assert_int_equal(cap_tls_record(&r, &rec), 0);
    assert_int_equal(rec.type, 23);
    assert_int_equal(rec.body[0], 0xcc);
    assert_int_equal(ntk_rd_left(&r), 0);
    assert_int_equal(cap_tls_record(&r, &rec), NTK_ETRUNC);
    for (size_t n = 0; n < 7; n++) { /* every truncation of the first record */
        ntk_rd_init(&r, two, n);
        assert_int_equal(cap_tls_record(&r, &rec), NTK_ETRUNC);
        assert_int_equal(ntk_rd_pos(&r), 0);
    }
    const uint8_t big[] = {23, 3, 3, 0x41, 0x01}, bad[] = {24, 3, 3, 0, 0};
    ntk_rd_init(&r, big, sizeof big);
    assert_int_equal(cap_tls_record(&r, &rec), NTK_EFORMAT);
    ntk_rd_init(&r, bad, sizeof bad);
    assert_int_equal(cap_tls_record(&r, &rec), NTK_EFORMAT);
    /* Handshake headers: a whole message, then one that continues. */
    const uint8_t msgs[] = {20, 0, 0, 2, 1, 2, 11, 0, 1, 0, 9};
    uint8_t type = 0;
    uint32_t len = 0;
    struct ntk_rd body;
    ntk_rd_init(&r, msgs, sizeof msgs);
    assert_int_equal(cap_tls_handshake(&r, &type, &len, &body), 0);
    assert_int_equal(type, 20);
    assert_int_equal(len, 2);
    assert_int_equal(ntk_rd_left(&body), 2);
    assert_int_equal(cap_tls_handshake(&r, &type, &len, &body), NTK_ETRUNC);
    assert_int_equal(type, 11);
    assert_int_equal(len, 256);
    assert_int_equal(ntk_rd_left(&r), 0);
    ntk_rd_init(&r, msgs, 3);
    assert_int_equal(cap_tls_handshake(&r, &type, &len, &body), NTK_ETRUNC);
    assert_int_equal(len, 0);
}

static void hellos(void **state)
{
    (void)state;
    uint8_t b[80];
    memset(b, 0, sizeof b);
    b[0] = 3;
    b[1] = 3;
    memset(b + 2, 0x77, 32);
    struct ntk_rd r;
    uint8_t random[32];
    ntk_rd_init(&r, b, 34);
    assert_int_equal(cap_tls_client_random(&r, random), 0);
    assert_int_equal(random[31], 0x77);
    ntk_rd_init(&r, b, 33);
    assert_int_equal(cap_tls_client_random(&r, random), NTK_ETRUNC);
    /* A TLS 1.2 ServerHello (no extensions): not TLS 1.3. */
    b[34] = 0;
    b[35] = 0xc0;
    b[36] = 0x2f;
    b[37] = 0;
    uint16_t suite = 0;
    bool v13 = true, hrr = true;
    ntk_rd_init(&r, b, 38);
    assert_int_equal(cap_tls_server_hello(&r, &suite, &v13, &hrr), 0);
    assert_int_equal(suite, 0xc02f);
    assert_false(v13);
    assert_false(hrr);
    /* TLS 1.3 with the HelloRetryRequest random. */
    static const uint8_t hrr_random[32] = {0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11,
                                           0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
                                           0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e,
                                           0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};
    memcpy(b + 2, hrr_random, 32);
    const uint8_t ext[] = {0x13, 0x02, 0, 0, 6, 0, 43, 0, 2, 3, 4};
    memcpy(b + 35, ext, sizeof ext);
    ntk_rd_init(&r, b, 35 + sizeof ext);
    assert_int_equal(cap_tls_server_hello(&r, &suite, &v13, &hrr), 0);
    assert_int_equal(suite, 0x1302);
    assert_true(v13);
    assert_true(hrr);
    for (size_t n = 0; n < 35 + sizeof ext; n++) { /* every truncation */
        ntk_rd_init(&r, b, n);
        int rc = cap_tls_server_hello(&r, &suite, &v13, &hrr);
        /* Cut right after the compression method: a valid hello without extensions. */
        assert_int_equal(rc, n == 38 ? 0 : NTK_ETRUNC);
        if (n == 38) {
            assert_false(v13);
        }
    }
    b[34] = 33; /* session id longer than 32 */
    ntk_rd_init(&r, b, 80);
    assert_int_equal(cap_tls_server_hello(&r, &suite, &v13, &hrr), NTK_EFORMAT);
}

static void keylog_lines(void **state)
{
    (void)state;
    char line[300];
    struct cap_kl_ent e;
    snprintf(line, sizeof line, "SERVER_TRAFFIC_SECRET_0 abababab%056d %s\r", 0,
             "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
             "0011223344556677889900112233aadd");
    assert_int_equal(cap_keylog_line((const uint8_t *)line, strlen(line), &e), 0);
    assert_int_equal(e.label, CAP_KL_SERVER_AP);
    assert_int_equal(e.len, 48);
    assert_int_equal(e.random[0], 0xab);
    assert_int_equal(e.random[4], 0);
    assert_int_equal(e.secret[15], 0xff);
    assert_int_equal(e.secret[47], 0xdd);
    static const char *const skip[] = {
        "", "   ", "# a comment",
        "CLIENT_RANDOM 0000000000000000000000000000000000000000000000000000000000000000 00",
        "EXPORTER_SECRET 0000000000000000000000000000000000000000000000000000000000000000 00"};
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++) {
        assert_int_equal(cap_keylog_line((const uint8_t *)skip[i], strlen(skip[i]), &e), 1);
    }
    static const char *const bad[] = {
        "CLIENT_TRAFFIC_SECRET_0 00 00",
        "CLIENT_TRAFFIC_SECRET_0 "
        "0000000000000000000000000000000000000000000000000000000000000000",
        "CLIENT_TRAFFIC_SECRET_0 "
        "0000000000000000000000000000000000000000000000000000000000000000 0",
        "CLIENT_TRAFFIC_SECRET_0 "
        "000000000000000000000000000000000000000000000000000000000000000g 00",
        "CLIENT_TRAFFIC_SECRET_0 "
        "0000000000000000000000000000000000000000000000000000000000000000 zz",
        "CLIENT_TRAFFIC_SECRET_0 "
        "0000000000000000000000000000000000000000000000000000000000000000 00 x",
        "LABEL 00 00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(cap_keylog_line((const uint8_t *)bad[i], strlen(bad[i]), &e),
                         NTK_EFORMAT);
    }
    /* A file: a later line for the same random and label wins; counters. */
    char text[2048];
    keylog_text(text, sizeof text, 0);
    size_t n = strlen(text);
    n += (size_t)snprintf(text + n, sizeof text - n, "# comment\nbad line\n");
    keylog_text(text + n, sizeof text - n, 5);
    struct cap_keylog kl;
    memset(&kl, 0, sizeof kl);
    assert_int_equal(cap_keylog_parse(&kl, (const uint8_t *)text, strlen(text)), 0);
    assert_int_equal(kl.n, 8);
    assert_int_equal(kl.lines, 10);
    assert_int_equal(kl.skipped, 1);
    assert_int_equal(kl.bad, 1);
    uint8_t random[32];
    memset(random, RANDOM_BYTE, sizeof random);
    const struct cap_kl_ent *f = cap_keylog_find(&kl, random, CAP_KL_CLIENT_AP);
    assert_non_null(f);
    assert_int_equal(f->len, 32);
    assert_int_equal(f->secret[0], SECRET_BYTE + 1 + CAP_KL_CLIENT_AP);
    assert_int_equal(f->secret[31], SECRET_BYTE + 1 + CAP_KL_CLIENT_AP + 5);
    random[0] ^= 1;
    assert_null(cap_keylog_find(&kl, random, CAP_KL_CLIENT_AP));
    cap_keylog_free(&kl);
    assert_int_equal(kl.n, 0);
    char err[128];
    assert_int_equal(cap_keylog_load(&kl, "/nonexistent/keys.log", err, sizeof err),
                     NTK_ENOTFOUND);
    assert_string_equal(err, "/nonexistent/keys.log: No such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(derive_rfc8448),       cmocka_unit_test(seal_open_round_trip),
        cmocka_unit_test(record_framing),       cmocka_unit_test(hellos),
        cmocka_unit_test(keylog_lines),         cmocka_unit_test(connection_in_order),
        cmocka_unit_test(connection_reordered), cmocka_unit_test(connection_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
