/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of the engine's NTS client (ntsc.h, eng_nts.c) through the engine's API: a fake
 * NTS server built from lib's own server-side functions answers the requests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "../../daemon/core/engine.h"
#include "../../daemon/core/ntsc.h"
#include "../../daemon/core/snap.h"
#include "../../daemon/os/clk_linux.h"
#include "ntk/aead.h"
#include "ntk/err.h"
#include "ntk/nts_ef.h"
#include "ntk/pkt.h"
#include "ntk/refid.h"
#include "testutil.h"

#include "poison.h"

#define NS         1000000000LL
#define START_UNIX 1764126000LL
#define COOKIE_LEN 100

static const struct ntk_clk_ops *null_clk(void)
{
    return ntk_clk_null();
}

static void rng_bytes(void *ctx, uint8_t *p, size_t n)
{
    uint64_t *s = ctx;
    for (size_t i = 0; i < n; i++) {
        *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
        p[i] = (uint8_t)(*s >> 56);
    }
}

/* How the fake server answers. */
enum reply_kind {
    R_GOOD = 0, /* an authenticated reply with one cookie per placeholder plus one */
    R_TAMPER,   /* the same with one byte of the Authenticator's ciphertext flipped */
    R_PLAIN,    /* a reply without NTS fields */
    R_NAK,      /* KoD NTSN with the request's UID */
    R_NAK_BAD,  /* KoD NTSN with another UID */
    R_KOD_RATE, /* an unauthenticated KoD RATE */
    R_SILENT,   /* nothing */
};

struct world {
    int64_t t_ns; /* since start: real and monotonic clocks advance alike */
    uint64_t seed;
    struct eng_rng rng;
    struct eng *e;
    struct ntk_addr srv; /* the NTP server (port 123) */
    struct ntk_aead_key *c2s, *s2c;
    uint8_t c2s_key[32], s2c_key[32];
    enum reply_kind kind;
    int need_ke, sends, replies, bad_requests, syncs, nts_refused, resolves;
    uint8_t last_reply[NTK_NTS_PKT_MAX]; /* the last reply sent, for replays */
    size_t last_reply_len;
    struct eng_action last_ke, last_send;
    size_t last_placeholders;
    uint8_t cookie_serial;
};

static struct eng_now now_of(const struct world *w)
{
    struct eng_now n;
    n.real.tv_sec = (time_t)(START_UNIX + w->t_ns / NS);
    n.real.tv_nsec = (long)(w->t_ns % NS);
    n.mono_ns = NS + w->t_ns;
    return n;
}

static void cookie_fill(struct world *w, struct ntk_ke_cookie *c)
{
    c->len = COOKIE_LEN;
    memset(c->b, ++w->cookie_serial, COOKIE_LEN);
}

/* The header of a reply to req: stratum 1, the server's time = true time (offset 0). */
static size_t header(struct world *w, const uint8_t *req, uint8_t *out, bool kod,
                     const char *code)
{
    struct eng_now n = now_of(w);
    struct ntk_pkt p = {.leap = kod ? NTK_LEAP_UNSYNC : NTK_LEAP_NONE,
                        .version = 4,
                        .mode = NTK_MODE_SERVER,
                        .stratum = kod ? 0 : 1,
                        .poll_log2 = 4,
                        .precision_log2 = -20};
    p.refid = kod ? NTK_REFID_CODE(code[0], code[1], code[2], code[3])
                  : NTK_REFID_CODE('G', 'P', 'S', 0);
    struct ntk_rd rd;
    ntk_rd_init(&rd, req + 40, 8);
    p.org.v = ntk_rd_be64(&rd);
    p.rec = p.xmt = p.reftime = ntk_ts_from_timespec(&n.real);
    struct ntk_wr wr;
    ntk_wr_init(&wr, out, 48);
    assert_int_equal(ntk_pkt_encode(&wr, &p), 0);
    return 48;
}

/* The fake server: checks the request as an NTS server would, then answers by w->kind. */
static void answer(struct world *w, const struct eng_action *a)
{
    struct ntk_nts_request r;
    if (ntk_nts_parse_request(a->pkt, a->len, 48, &r) != 1 ||
        ntk_nts_verify_request(a->pkt, &r, w->c2s) != 0) {
        w->bad_requests++;
        return;
    }
    w->last_placeholders = r.n_placeholders;
    uint8_t out[NTK_NTS_PKT_MAX];
    int len = 0;
    uint8_t nonce[NTK_AEAD_NONCE_LEN];
    rng_bytes(&w->seed, nonce, sizeof nonce);
    struct ntk_ke_cookie fresh[NTK_KE_COOKIES_MAX];
    size_t n = r.n_placeholders + 1;
    for (size_t i = 0; i < n; i++)
        cookie_fill(w, &fresh[i]);
    switch (w->kind) {
    case R_GOOD:
    case R_TAMPER:
        header(w, a->pkt, out, false, NULL);
        len = ntk_nts_build_reply(out, sizeof out, 48, r.uid, r.uid_len, fresh, n, w->s2c,
                                  nonce);
        assert_true(len > 48);
        if (w->kind == R_TAMPER)
            out[len - 20] ^= 1;
        break;
    case R_PLAIN:
        len = (int)header(w, a->pkt, out, false, NULL);
        break;
    case R_NAK:
    case R_NAK_BAD: {
        header(w, a->pkt, out, true, "NTSN");
        uint8_t uid[NTK_NTS_UID_LEN];
        memcpy(uid, r.uid, sizeof uid);
        if (w->kind == R_NAK_BAD)
            uid[0] ^= 0xff;
        len = ntk_nts_build_nak(out, sizeof out, 48, uid, sizeof uid);
        break;
    }
    case R_KOD_RATE:
        len = (int)header(w, a->pkt, out, true, "RATE");
        break;
    case R_SILENT:
        return;
    }
    assert_true(len >= 48);
    w->replies++;
    memcpy(w->last_reply, out, (size_t)len);
    w->last_reply_len = (size_t)len;
    struct eng_now now = now_of(w);
    eng_on_packet(w->e, &now, out, (size_t)len, &w->srv, &now.real, ENG_RX_KERNEL);
}

static void drain(struct world *w)
{
    struct eng_action a;
    while (eng_pop_action(w->e, &a)) {
        if (a.kind == ENG_ACT_NEED_KE) {
            w->need_ke++;
            w->last_ke = a;
        } else if (a.kind == ENG_ACT_SEND) {
            w->sends++;
            w->last_send = a;
            assert_true(ntk_addr_eq(&a.remote, &w->srv));
            answer(w, &a);
        } else if (a.kind == ENG_ACT_EVENT && a.event == ENG_EV_SYNC) {
            w->syncs++;
        } else if (a.kind == ENG_ACT_EVENT && a.event == ENG_EV_NTS_REFUSED) {
            w->nts_refused++;
            assert_true(strlen(a.text) > 0);
        } else if (a.kind == ENG_ACT_RESOLVE) {
            w->resolves++;
        }
    }
}

static void run(struct world *w, double seconds)
{
    int64_t end = w->t_ns + (int64_t)(seconds * (double)NS);
    drain(w);
    for (int guard = 0; guard < 100000; guard++) {
        int64_t d = eng_next_deadline(w->e) - NS;
        if (d > end)
            break;
        if (d > w->t_ns)
            w->t_ns = d;
        struct eng_now n = now_of(w);
        eng_on_timer(w->e, &n);
        drain(w);
    }
    w->t_ns = end;
}

static int world_init(struct world *w, bool nts, uint32_t key_id)
{
    memset(w, 0, sizeof *w);
    w->seed = 11;
    w->rng = (struct eng_rng){.ctx = &w->seed, .bytes = rng_bytes};
    struct eng_cfg cfg;
    eng_cfg_defaults(&cfg);
    cfg.observe = true;
    struct eng_now n = now_of(w);
    w->e = eng_new(&cfg, null_clk(), &w->rng, NULL, &n);
    assert_non_null(w->e);
    memset(w->c2s_key, 0x11, sizeof w->c2s_key);
    memset(w->s2c_key, 0x22, sizeof w->s2c_key);
    assert_int_equal(ntk_aead_key_init(&w->c2s, NTK_AEAD_AES_SIV_CMAC_256, w->c2s_key, 32), 0);
    assert_int_equal(ntk_aead_key_init(&w->s2c, NTK_AEAD_AES_SIV_CMAC_256, w->s2c_key, 32), 0);
    const char *ip = "10.0.0.1";
    assert_int_equal(ntk_addr_parse_span((struct ntk_span){ip, strlen(ip)}, &w->srv), 0);
    w->srv.port = 123;
    struct eng_server_cfg c;
    eng_server_defaults(&c);
    c.addr = w->srv;
    c.iburst = true;
    c.minpoll_log2 = 4;
    c.maxpoll_log2 = 4;
    c.nts = nts;
    c.key_id = key_id;
    return eng_add_server(w->e, &c, &n);
}

static void world_free(struct world *w)
{
    eng_free(w->e);
    ntk_aead_key_free(w->c2s);
    ntk_aead_key_free(w->s2c);
}

/* Answers the pending NTS-KE: ok with 8 cookies and the fixed keys, or a failure. */
static void ke_answer(struct world *w, bool ok, const struct ntk_addr *ntp)
{
    struct ntk_ke_cookie ck[8];
    for (int i = 0; i < 8; i++)
        cookie_fill(w, &ck[i]);
    struct eng_ke_result r = {.ok = ok,
                              .aead = NTK_AEAD_AES_SIV_CMAC_256,
                              .c2s = w->c2s_key,
                              .s2c = w->s2c_key,
                              .key_len = 32,
                              .cookies = ck,
                              .n_cookies = 8};
    if (ntp != NULL)
        r.ntp = *ntp;
    struct eng_now n = now_of(w);
    eng_on_ke_result(w->e, w->last_ke.assoc_id, &r, &n);
    drain(w);
}

static void snap1(struct world *w, struct snap_assoc *a, struct snap_counters *c)
{
    struct eng_now n = now_of(w);
    assert_int_equal(eng_snap(w->e, n.mono_ns, NULL, c, a, 1), 1);
}

/* ---- tests ---- */

static void asks_for_ke_before_any_request(void **state)
{
    (void)state;
    struct world w;
    assert_true(world_init(&w, true, 0) > 0);
    run(&w, 10);
    assert_int_equal(w.need_ke, 1); /* asked once, then waits for the answer */
    assert_int_equal(w.sends, 0);
    assert_int_equal(w.last_ke.remote.port, NTK_KE_PORT_DEFAULT);
    assert_string_equal(w.last_ke.text, "10.0.0.1");
    struct snap_assoc a;
    snap1(&w, &a, NULL);
    assert_true(a.nts);
    assert_int_equal(a.ntscookies, 0);
    assert_false(a.nts_keyed);
    world_free(&w);
}

static void syncs_on_authenticated_replies(void **state)
{
    (void)state;
    struct world w;
    assert_true(world_init(&w, true, 0) > 0);
    run(&w, 1);
    ke_answer(&w, true, NULL);
    run(&w, 120);
    assert_true(w.sends >= 6);
    assert_int_equal(w.bad_requests, 0); /* every request verifies with the c2s key */
    assert_int_equal(w.replies, w.sends);
    assert_true(w.syncs >= 1);
    /* Every request spends the oldest of 8 cookies and gets one back: no placeholder. */
    assert_int_equal(w.last_placeholders, 0);
    struct snap_assoc a;
    struct snap_counters c;
    snap1(&w, &a, &c);
    assert_true(a.authenticated);
    assert_int_equal(a.ntscookies, 8);
    assert_int_equal(a.nts_aead, NTK_AEAD_AES_SIV_CMAC_256);
    assert_int_equal(c.nts_client_send, (uint64_t)w.sends);
    assert_int_equal(c.nts_client_recv_good, (uint64_t)w.sends);
    assert_int_equal(c.nts_client_recv_bad, 0);
    assert_int_equal(c.nts_ke_probes_good, 1);
    assert_int_equal(a.reach & 1, 1);
    world_free(&w);
}

static void refuses_what_is_not_authenticated(void **state)
{
    (void)state;
    const enum reply_kind kinds[] = {R_TAMPER, R_PLAIN, R_NAK_BAD, R_KOD_RATE};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        struct world w;
        assert_true(world_init(&w, true, 0) > 0);
        run(&w, 1);
        ke_answer(&w, true, NULL);
        w.kind = kinds[k];
        run(&w, 60);
        struct snap_assoc a;
        struct snap_counters c;
        snap1(&w, &a, &c);
        assert_true(w.replies > 0);
        assert_int_equal(w.syncs, 0);
        assert_false(a.authenticated);
        assert_int_equal(a.reach, 0);
        assert_int_equal(c.nts_client_recv_good, 0);
        assert_int_equal(c.nts_client_recv_bad, (uint64_t)w.replies);
        assert_int_equal(w.nts_refused, w.replies); /* each one logged (ENG_EV_NTS_REFUSED) */
        assert_int_equal(a.events.last, SNAP_PEVNT_AUTH); /* NTPsec's bad_auth */
        /* An unauthenticated RATE changes nothing: the poll stays at 16 s. */
        assert_int_equal(a.hpoll_log2, 4);
        /* Each lost reply cost a cookie: 60 s at 2-16 s polls spends them all, and then the
         * association goes back to NTS-KE. */
        assert_int_equal(a.ntscookies, 0);
        assert_int_equal(w.need_ke, 2);
        world_free(&w);
    }
}

static void nak_sends_back_to_ke(void **state)
{
    (void)state;
    struct world w;
    assert_true(world_init(&w, true, 0) > 0);
    run(&w, 1);
    ke_answer(&w, true, NULL);
    w.kind = R_NAK;
    int sends = w.sends;
    run(&w, 3);
    assert_int_equal(w.sends, sends + 1); /* one request, NAKed */
    struct snap_assoc a;
    struct snap_counters c;
    snap1(&w, &a, &c);
    assert_false(a.nts_keyed);
    assert_int_equal(a.ntscookies, 0);
    assert_string_equal(a.kiss, "NTSN");
    assert_int_equal(c.nts_client_naks, 1);
    assert_int_equal(w.need_ke, 2); /* at once: a NAK is not a KE failure */
    w.kind = R_GOOD;
    ke_answer(&w, true, NULL);
    run(&w, 30);
    snap1(&w, &a, &c);
    assert_true(a.authenticated);
    assert_int_equal(c.nts_ke_probes_good, 2);
    world_free(&w);
}

static void ke_failures_back_off(void **state)
{
    (void)state;
    struct world w;
    assert_true(world_init(&w, true, 0) > 0);
    run(&w, 1);
    assert_int_equal(w.need_ke, 1);
    ke_answer(&w, false, NULL);
    run(&w, 15);
    assert_int_equal(w.need_ke, 1); /* not before 16 s */
    run(&w, 3);
    assert_int_equal(w.need_ke, 2);
    ke_answer(&w, false, NULL);
    run(&w, 31);
    assert_int_equal(w.need_ke, 2); /* then 32 s */
    run(&w, 3);
    assert_int_equal(w.need_ke, 3);
    struct snap_assoc a;
    struct snap_counters c;
    snap1(&w, &a, &c);
    assert_int_equal(c.nts_ke_probes_bad, 2);
    assert_int_equal(a.nts_ke_failures, 2);
    assert_int_equal(w.sends, 0);
    world_free(&w);
}

static void ke_names_the_ntp_server(void **state)
{
    (void)state;
    struct world w;
    assert_true(world_init(&w, true, 0) > 0);
    run(&w, 1);
    struct ntk_addr ntp;
    const char *ip = "10.0.0.9";
    assert_int_equal(ntk_addr_parse_span((struct ntk_span){ip, strlen(ip)}, &ntp), 0);
    ntp.port = 0; /* no Port record: 123 */
    struct ntk_addr old = w.srv;
    w.srv = ntp;
    w.srv.port = 123;
    ke_answer(&w, true, &ntp);
    run(&w, 5);
    assert_true(w.sends > 0); /* drain asserts every request goes to 10.0.0.9:123 */
    struct snap_assoc a;
    snap1(&w, &a, NULL);
    assert_true(ntk_addr_eq(&a.addr, &w.srv));
    assert_false(ntk_addr_eq(&a.nts_ke_addr, &old)); /* the KE address keeps port 4460 */
    assert_int_equal(a.nts_ke_addr.port, NTK_KE_PORT_DEFAULT);
    world_free(&w);
}

/* A copy of an authenticated reply, delivered again, fails the origin test before any
 * cryptography: the request it answered is closed. */
static void replayed_reply_is_ignored(void **state)
{
    (void)state;
    struct world w;
    assert_true(world_init(&w, true, 0) > 0);
    run(&w, 1);
    ke_answer(&w, true, NULL);
    run(&w, 1);
    assert_true(w.replies >= 1);
    struct snap_assoc a;
    struct snap_counters c;
    snap1(&w, &a, &c);
    uint64_t good = c.nts_client_recv_good, bogus = a.bogus;
    struct eng_now n = now_of(&w);
    eng_on_packet(w.e, &n, w.last_reply, w.last_reply_len, &w.srv, &n.real, ENG_RX_KERNEL);
    drain(&w);
    snap1(&w, &a, &c);
    assert_int_equal(a.bogus, bogus + 1);
    assert_int_equal(c.nts_client_recv_good, good);
    assert_int_equal(c.nts_client_recv_bad, 0);
    assert_int_equal(w.nts_refused, 0);
    world_free(&w);
}

/* `pool NAME nts`: every member runs its own NTS-KE, with the pool's name for the
 * certificate. */
static void pool_members_each_run_ke(void **state)
{
    (void)state;
    struct world w;
    assert_true(world_init(&w, false, 0) > 0);
    struct eng_server_cfg c;
    eng_server_defaults(&c);
    memcpy(c.name, "pool.example", 13);
    c.nts = true;
    c.iburst = true;
    struct eng_now n = now_of(&w);
    assert_int_equal(eng_add_pool(w.e, &c, &n), 0);
    struct eng_action act;
    int resolve = 0;
    while (eng_pop_action(w.e, &act))
        resolve += act.kind == ENG_ACT_RESOLVE;
    assert_int_equal(resolve, 1);
    struct ntk_addr as[2];
    const char *ips[2] = {"10.0.1.1", "10.0.1.2"};
    for (int i = 0; i < 2; i++)
        assert_int_equal(
            ntk_addr_parse_span((struct ntk_span){ips[i], strlen(ips[i])}, &as[i]), 0);
    eng_on_resolved(w.e, "pool.example", as, 2, &n);
    eng_on_timer(w.e, &n);
    int ke = 0;
    while (eng_pop_action(w.e, &act)) {
        if (act.kind != ENG_ACT_NEED_KE)
            continue;
        ke++;
        assert_string_equal(act.text, "pool.example");
        assert_int_equal(act.remote.port, NTK_KE_PORT_DEFAULT);
    }
    assert_int_equal(ke, 2);
    world_free(&w);
}

static void nts_and_key_exclude_each_other(void **state)
{
    (void)state;
    struct world w;
    assert_int_equal(world_init(&w, true, 5), NTK_EINVAL);
    world_free(&w);
}

static void not_nts_stays_plain(void **state)
{
    (void)state;
    struct world w;
    assert_true(world_init(&w, false, 0) > 0);
    w.kind = R_PLAIN;
    struct eng_now n = now_of(&w);
    eng_on_timer(w.e, &n);
    struct eng_action a;
    do /* past the start-up events (restart, mobilize) */
        assert_true(eng_pop_action(w.e, &a));
    while (a.kind == ENG_ACT_EVENT);
    assert_int_equal(a.kind, ENG_ACT_SEND);
    assert_int_equal(a.len, 48);
    struct snap_assoc s;
    snap1(&w, &s, NULL);
    assert_false(s.nts);
    assert_int_equal(s.ntscookies, -1);
    world_free(&w);
}

/* ntsc alone: placeholders make up for the cookies the jar lacks. */
static void placeholders_refill_the_jar(void **state)
{
    (void)state;
    struct ntsc s;
    ntsc_init(&s, true);
    struct ntk_ke_cookie ck[8];
    for (int i = 0; i < 8; i++) {
        ck[i].len = COOKIE_LEN;
        memset(ck[i].b, i + 1, COOKIE_LEN);
    }
    uint8_t key[32];
    memset(key, 0x11, sizeof key);
    struct ntk_aead_key *c2s = NULL;
    assert_int_equal(ntk_aead_key_init(&c2s, NTK_AEAD_AES_SIV_CMAC_256, key, 32), 0);
    for (size_t have = 1; have <= 8; have++) {
        assert_int_equal(
            ntsc_ke_done(&s, NTK_AEAD_AES_SIV_CMAC_256, key, key, 32, ck, have, 0), 0);
        uint8_t buf[ENG_PKT_MAX] = {0x23};
        uint8_t rnd[NTSC_RND_LEN];
        memset(rnd, (int)have, sizeof rnd);
        int len = ntsc_build(&s, buf, sizeof buf, 48, rnd, c2s);
        assert_true(len > 48);
        struct ntk_nts_request r;
        assert_int_equal(ntk_nts_parse_request(buf, (size_t)len, 48, &r), 1);
        assert_int_equal(r.n_placeholders, 8 - have);
        assert_int_equal(r.cookie_len, COOKIE_LEN);
        assert_int_equal(r.cookie[0], 1); /* the oldest cookie goes first */
        assert_int_equal(s.n_cookies, have - 1);
        assert_int_equal(ntk_nts_verify_request(buf, &r, c2s), 0);
    }
    /* A small buffer: fewer placeholders, never a request that does not fit. */
    assert_int_equal(ntsc_ke_done(&s, NTK_AEAD_AES_SIV_CMAC_256, key, key, 32, ck, 1, 0), 0);
    uint8_t small[400];
    uint8_t rnd[NTSC_RND_LEN] = {1};
    int len = ntsc_build(&s, small, sizeof small, 48, rnd, c2s);
    assert_true(len > 48 && len <= (int)sizeof small);
    ntk_aead_key_free(c2s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(asks_for_ke_before_any_request),
        cmocka_unit_test(syncs_on_authenticated_replies),
        cmocka_unit_test(refuses_what_is_not_authenticated),
        cmocka_unit_test(nak_sends_back_to_ke),
        cmocka_unit_test(ke_failures_back_off),
        cmocka_unit_test(ke_names_the_ntp_server),
        cmocka_unit_test(replayed_reply_is_ignored),
        cmocka_unit_test(pool_members_each_run_ke),
        cmocka_unit_test(nts_and_key_exclude_each_other),
        cmocka_unit_test(not_nts_stays_plain),
        cmocka_unit_test(placeholders_refill_the_jar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
