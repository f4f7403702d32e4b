/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for daemon/core/ctlsrv.c: every opcode, nonces (valid, expired, other address),
 * the proof table, PERMISSION for oversize unsigned answers, signed requests, READ_MRU paging
 * over 300 clients, the rate limit, and the anti-amplification property over every opcode,
 * association, request size and kind of source. The variables writer (ctlv.c) is replaced by
 * a small double below so that the expected bytes are known exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctlsrv.h"
#include "ntk/ctl.h"
#include "ntk/ctlvars.h"
#include "ntk/err.h"
#include "testutil.h"

#include "poison.h"

#define NS 1000000000LL

/* ---- the ctlv double: system variables "version", "stratum", "big" (600 bytes) ---- */

static char big_value[601];

static int put_sys_var(struct ntk_cvar_wr *w, struct ntk_span n)
{
    if (ntk_span_eq(n, "version"))
        ntk_cvar_put_str(w, "version", "ntpd ntpkit-test", 16);
    else if (ntk_span_eq(n, "stratum"))
        ntk_cvar_put_u64(w, "stratum", 2);
    else if (ntk_span_eq(n, "big"))
        ntk_cvar_put_raw(w, "big", big_value, 600);
    else
        return NTK_ENOTFOUND;
    return 0;
}

static int each_name(const char *names, size_t len, struct ntk_cvar_wr *w,
                     struct ntk_span *bad, const char *deflt)
{
    struct ntk_cvar_it it;
    struct ntk_cvar_item item;
    int rc, any = 0;
    ntk_cvar_init(&it, names, len);
    while ((rc = ntk_cvar_next(&it, &item)) == 1) {
        any = 1;
        if (put_sys_var(w, item.name) != 0) {
            *bad = item.name;
            return NTK_ENOTFOUND;
        }
    }
    if (rc < 0)
        return NTK_ENOTFOUND;
    if (!any) {
        ntk_cvar_init(&it, deflt, strlen(deflt));
        while (ntk_cvar_next(&it, &item) == 1)
            (void)put_sys_var(w, item.name);
    }
    return 0;
}

int ctlv_sys(const struct ctlv_src *s, const char *names, size_t len, struct ntk_cvar_wr *w,
             struct ntk_span *bad)
{
    (void)s;
    return each_name(names, len, w, bad, "version, stratum");
}

int ctlv_peer(const struct ctlv_src *s, const struct snap_assoc *a, const char *names,
              size_t len, struct ntk_cvar_wr *w, struct ntk_span *bad)
{
    (void)s;
    if (len == 0) {
        ntk_cvar_put_u64(w, "stratum", a->stratum);
        return 0;
    }
    return each_name(names, len, w, bad, "");
}

uint16_t ctlv_sys_status(const struct ctlv_src *s)
{
    (void)s;
    return 0x0615;
}

uint16_t ctlv_peer_status(const struct ctlv_src *s, const struct snap_assoc *a)
{
    (void)s;
    return (uint16_t)(0x9000 | a->id % 16);
}

int ctlv_clock(const struct ctlv_src *s, const struct snap_assoc *a, const char *names,
               size_t len, struct ntk_cvar_wr *w, struct ntk_span *bad)
{
    (void)s;
    if (len == 0) {
        ntk_cvar_put_u64(w, "clockof", a->id);
        return 0;
    }
    return each_name(names, len, w, bad, "");
}

uint16_t ctlv_clock_status(const struct snap_assoc *a)
{
    return (uint16_t)(0x0100 | a->id % 16);
}

/* ---- fixture ---- */

static struct snap_system sys;
static struct snap_assoc assocs[3];
static struct ctlv_src vars;
static struct ntk_mac_keys *keys;
static struct rst_table *rst;
static struct ctlsrv_iface ifs[2];
static struct ctlsrv_env env;
static const uint8_t secret[16] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};

static struct ntk_addr v4(uint32_t ip, uint16_t port)
{
    struct ntk_addr a = {0};
    const uint8_t b[4] = {(uint8_t)(ip >> 24), (uint8_t)(ip >> 16), (uint8_t)(ip >> 8),
                          (uint8_t)ip};
    ntk_addr_set_v4(&a, b, port);
    return a;
}

static int setup(void **state)
{
    (void)state;
    memset(big_value, 'x', 600);
    memset(&sys, 0, sizeof sys);
    sys.leap = NTK_LEAP_NONE;
    for (size_t i = 0; i < 3; i++) {
        memset(&assocs[i], 0, sizeof assocs[i]);
        assocs[i].id = (uint32_t)(17767 + i);
        assocs[i].stratum = (uint8_t)(2 + i);
    }
    memset(&vars, 0, sizeof vars);
    vars.sys = &sys;
    vars.assocs = assocs;
    vars.nassocs = 3;
    struct ntk_mac_key k[2] = {{.keyid = 3, .type = NTK_MAC_SHA1, .secret_len = 8},
                               {.keyid = 2, .type = NTK_MAC_MD5, .secret_len = 8}};
    memcpy(k[0].secret, "control!", 8);
    memcpy(k[1].secret, "otherkey", 8);
    assert_int_equal(ntk_mac_keys_new(k, 2, &keys), 0);
    rst = rst_new();
    assert_non_null(rst);
    struct ntk_addr net = v4(0x0a630000, 0); /* restrict 10.99.0.0 mask 255.255.0.0 */
    assert_int_equal(rst_add(rst, &net, 16, 0), 0);
    struct ntk_addr bad = v4(0xc0a80000, 0); /* 192.168.0.0/16 noquery nomodify */
    assert_int_equal(rst_add(rst, &bad, 16, RST_NOQUERY | RST_NOMODIFY), 0);
    memset(ifs, 0, sizeof ifs);
    ifs[0].addr = v4(0x7f000001, 123);
    ifs[0].name = "lo";
    ifs[0].enabled = true;
    ifs[0].flags = 0x5;
    ifs[0].rx = 23;
    ifs[0].tx = 29;
    ifs[0].peers = 2;
    ifs[0].uptime_s = 15;
    ifs[1].addr = v4(0, 123);
    ifs[1].name = "v4wildcard";
    env = (struct ctlsrv_env){.keys = keys, .vars = &vars, .rst = rst, .ifs = ifs, .nifs = 2};
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ntk_mac_keys_free(keys);
    rst_free(rst);
    return 0;
}

static struct ctlsrv *make(void)
{
    struct ctlsrv_cfg c = {.controlkey = 3, .mru_rows = 512};
    memcpy(c.secret, secret, 16);
    struct ctlsrv *s = ctlsrv_new(&c);
    assert_non_null(s);
    return s;
}

/* A request datagram: data (n bytes), signed with keyid when not 0. */
static size_t request(uint8_t *out, uint8_t op, uint16_t assoc, const char *data, size_t n,
                      uint32_t keyid)
{
    struct ntk_ctl_hdr h = {.leap = 3,
                            .version = 2,
                            .opcode = op,
                            .sequence = 7,
                            .associd = assoc,
                            .count = (uint16_t)n};
    int len =
        ntk_ctl_encode(&h, (const uint8_t *)data, keys, keyid, out, NTK_CTL_DATAGRAM_MAX);
    assert_true(len > 0);
    return (size_t)len;
}

enum src_kind { SRC_LOCAL, SRC_REMOTE, SRC_PROVEN, SRC_OPENED };

static struct ctlsrv_req req_from(const uint8_t *buf, size_t len, struct ntk_addr a,
                                  int64_t now_ns)
{
    struct ctlsrv_req q = {.buf = buf, .len = len, .src = a, .now_mono_ns = now_ns};
    q.local = ctlsrv_is_loopback(&a);
    q.opened = ctlsrv_opened(rst, &a);
    q.rflags = rst_lookup(rst, &a);
    q.now = ntk_ts_make((uint32_t)(3900000000u + (uint64_t)(now_ns / NS)), 0);
    return q;
}

/* Everything one request produced. */
struct result {
    int n;                   /* datagrams */
    size_t bytes;            /* their total length */
    struct ntk_ctl_msg last; /* the last one decoded */
    uint8_t buf[NTK_CTL_FRAGS_MAX][NTK_CTL_DATAGRAM_MAX];
    size_t len[NTK_CTL_FRAGS_MAX];
    uint8_t data[NTK_CTL_REASM_MAX + 1]; /* reassembled, NUL-terminated */
    size_t dlen;
    int err; /* error code, or -1 */
};

static struct result res;

static void run(struct ctlsrv *s, const struct ctlsrv_req *q)
{
    memset(&res, 0, sizeof res);
    res.err = -1;
    int n = ctlsrv_handle(s, &env, q);
    assert_true(n >= 0 && n <= NTK_CTL_FRAGS_MAX);
    struct ntk_ctl_reasm ra;
    ntk_ctl_reasm_init(&ra, res.data, NTK_CTL_REASM_MAX, q->len >= 2 ? (q->buf[1] & 31) : 0,
                       q->len >= 4 ? (uint16_t)(q->buf[2] << 8 | q->buf[3]) : 0);
    for (int i = 0; i < n; i++) {
        int len = ctlsrv_next(s, keys, res.buf[i], sizeof res.buf[i]);
        assert_true(len >= 12);
        res.len[i] = (size_t)len;
        res.bytes += (size_t)len;
        assert_int_equal(ntk_ctl_decode(res.buf[i], res.len[i], &res.last), 0);
        assert_true(res.last.hdr.response);
        (void)ntk_ctl_reasm_feed(&ra, &res.last);
    }
    assert_int_equal(ctlsrv_next(s, keys, res.buf[0], sizeof res.buf[0]), 0);
    res.n = n;
    if (n > 0) {
        assert_true(ntk_ctl_reasm_done(&ra));
        res.err = ntk_ctl_reasm_error(&ra);
        const uint8_t *d = ntk_ctl_reasm_data(&ra, &res.dlen);
        if (res.err < 0)
            memmove(res.data, d, res.dlen);
        res.data[res.dlen] = 0;
    }
}

/* Sends op/assoc/data from a and returns through res. */
static void ask(struct ctlsrv *s, struct ntk_addr a, int64_t now, uint8_t op, uint16_t assoc,
                const char *data, uint32_t keyid)
{
    static uint8_t buf[NTK_CTL_DATAGRAM_MAX];
    size_t n = request(buf, op, assoc, data, strlen(data), keyid);
    struct ctlsrv_req q = req_from(buf, n, a, now);
    run(s, &q);
}

static const struct ntk_addr *lo(void)
{
    static struct ntk_addr a;
    a = v4(0x7f000001, 40000);
    return &a;
}

/* ---- opcodes ---- */

static void test_readstat(void **state)
{
    (void)state;
    struct ctlsrv *s = make();
    ask(s, *lo(), NS, NTK_CTL_OP_READSTAT, 0, "", 0);
    assert_int_equal(res.n, 1);
    assert_int_equal(res.err, -1);
    assert_int_equal(res.last.hdr.status, 0x0615);
    assert_int_equal(res.last.hdr.sequence, 7);
    assert_int_equal(res.last.hdr.version, 2);
    assert_int_equal(res.last.hdr.leap, 0);
    const uint8_t want[12] = {0x45, 0x67, 0x90, 0x07, 0x45, 0x68,
                              0x90, 0x08, 0x45, 0x69, 0x90, 0x09};
    assert_int_equal(res.dlen, 12);
    assert_memory_equal(res.data, want, 12);
    /* a peer: its default variables */
    ask(s, *lo(), NS, NTK_CTL_OP_READSTAT, 17768, "", 0);
    assert_string_equal((char *)res.data, "stratum=3\r\n");
    assert_int_equal(res.last.hdr.status, 0x9008);
    assert_int_equal(res.last.hdr.associd, 17768);
    ask(s, *lo(), NS, NTK_CTL_OP_READSTAT, 1, "", 0);
    assert_int_equal(res.err, NTK_CTL_CERR_BADASSOC);
    assert_int_equal(ctlsrv_stats(s)->by_opcode[NTK_CTL_OP_READSTAT], 3);
    ctlsrv_free(s);
}

static void test_readvar(void **state)
{
    (void)state;
    struct ctlsrv *s = make();
    ask(s, *lo(), NS, NTK_CTL_OP_READVAR, 0, "", 0);
    assert_string_equal((char *)res.data, "version=\"ntpd ntpkit-test\", stratum=2\r\n");
    assert_int_equal(res.last.hdr.status, 0x0615);
    ask(s, *lo(), NS, NTK_CTL_OP_READVAR, 0, "stratum", 0);
    assert_string_equal((char *)res.data, "stratum=2\r\n");
    ask(s, *lo(), NS, NTK_CTL_OP_READVAR, 0, "stratum,nosuch", 0);
    assert_int_equal(res.err, NTK_CTL_CERR_UNKNOWNVAR);
    assert_int_equal(res.n, 1);
    ask(s, *lo(), NS, NTK_CTL_OP_READVAR, 17769, "", 0);
    assert_string_equal((char *)res.data, "stratum=4\r\n");
    assert_int_equal(res.last.hdr.status, 0x9009);
    ask(s, *lo(), NS, NTK_CTL_OP_READVAR, 4, "", 0);
    assert_int_equal(res.err, NTK_CTL_CERR_BADASSOC);
    /* 600 + 2 + 4 + ... bytes: two fragments */
    ask(s, *lo(), NS, NTK_CTL_OP_READVAR, 0, "big, stratum", 0);
    assert_int_equal(res.n, 2);
    assert_int_equal(res.len[0], 480);
    assert_int_equal(res.dlen, 4 + 600 + 3 + 9 + 2);
    assert_memory_equal(res.data + res.dlen - 14, ",\r\nstratum=2\r\n", 14);
    ctlsrv_free(s);
}

static void test_unspec_clock_badop_configure(void **state)
{
    (void)state;
    struct ctlsrv *s = make();
    ask(s, *lo(), NS, NTK_CTL_OP_UNSPEC, 0, "", 0);
    assert_int_equal(res.n, 1);
    assert_int_equal(res.dlen, 0);
    assert_int_equal(res.last.hdr.status, 0x0615);
    ask(s, *lo(), NS, NTK_CTL_OP_UNSPEC, 17767, "", 0);
    assert_int_equal(res.last.hdr.status, 0x9007);
    ask(s, *lo(), NS, NTK_CTL_OP_READCLOCK, 0, "", 0);
    assert_int_equal(res.err, NTK_CTL_CERR_BADASSOC);
    ask(s, *lo(), NS, NTK_CTL_OP_READCLOCK, 17767, "", 0);
    assert_int_equal(res.err, NTK_CTL_CERR_BADASSOC);
    ask(s, *lo(), NS, NTK_CTL_OP_WRITECLOCK, 17767, "", 3);
    assert_int_equal(res.err, NTK_CTL_CERR_PERMISSION);
    const uint8_t badops[] = {6, 7, 9, 13, 20, 31};
    for (size_t i = 0; i < sizeof badops; i++) {
        ask(s, *lo(), NS, badops[i], 0, "", 0);
        assert_int_equal(res.err, NTK_CTL_CERR_BADOP);
        assert_int_equal(res.bytes, 12);
    }
    /* CONFIGURE: BADOP whatever the key, and signed when the request was */
    ask(s, *lo(), NS, NTK_CTL_OP_CONFIGURE, 0, "server 10.0.0.1", 0);
    assert_int_equal(res.err, NTK_CTL_CERR_BADOP);
    ask(s, *lo(), NS, NTK_CTL_OP_CONFIGURE, 0, "server 10.0.0.1", 3);
    assert_int_equal(res.err, NTK_CTL_CERR_BADOP);
    assert_true(res.last.has_mac);
    uint32_t kid = 0;
    assert_int_equal(ntk_ctl_verify(keys, res.buf[0], res.len[0], &res.last, &kid), 0);
    assert_int_equal(kid, 3);
    assert_int_equal(ctlsrv_stats(s)->refused[CTLSRV_REF_CONFIGURE], 2);
    ctlsrv_free(s);
}

/* READCLOCK: the refclock asked for, or with id 0 the system peer if a refclock, else the
 * first refclock; a non-refclock association is BADASSOC. */
static void test_readclock(void **state)
{
    (void)state;
    struct ctlsrv *s = make();
    assocs[1].refclock = true;
    assocs[2].refclock = true;
    ask(s, *lo(), NS, NTK_CTL_OP_READCLOCK, 0, "", 0);
    assert_string_equal((const char *)res.data, "clockof=17768\r\n");
    assert_int_equal(res.last.hdr.status, 0x0108);
    sys.sys_peer = 17769;
    ask(s, *lo(), NS, NTK_CTL_OP_READCLOCK, 0, "", 0);
    assert_string_equal((const char *)res.data, "clockof=17769\r\n");
    ask(s, *lo(), NS, NTK_CTL_OP_READCLOCK, 17768, "stratum", 0);
    assert_string_equal((const char *)res.data, "stratum=2\r\n");
    ask(s, *lo(), NS, NTK_CTL_OP_READCLOCK, 17768, "nosuch", 0);
    assert_int_equal(res.err, NTK_CTL_CERR_UNKNOWNVAR);
    ask(s, *lo(), NS, NTK_CTL_OP_READCLOCK, 17767, "", 0);
    assert_int_equal(res.err, NTK_CTL_CERR_BADASSOC);
    assocs[1].refclock = false;
    assocs[2].refclock = false;
    sys.sys_peer = 0;
    ctlsrv_free(s);
}

static void test_writevar(void **state)
{
    (void)state;
    struct ctlsrv *s = make();
    ask(s, *lo(), NS, NTK_CTL_OP_WRITEVAR, 0, "stratum=3", 0);
    assert_int_equal(res.err, NTK_CTL_CERR_PERMISSION);
    ask(s, *lo(), NS, NTK_CTL_OP_WRITEVAR, 0, "stratum=3", 2); /* not the control key */
    assert_int_equal(res.err, NTK_CTL_CERR_PERMISSION);
    assert_int_equal(ctlsrv_stats(s)->refused[CTLSRV_REF_AUTH], 2);
    ask(s, *lo(), NS, NTK_CTL_OP_WRITEVAR, 0, "stratum=3", 3); /* read-only */
    assert_int_equal(res.err, NTK_CTL_CERR_PERMISSION);
    ask(s, *lo(), NS, NTK_CTL_OP_WRITEVAR, 0, "nosuch=3", 3);
    assert_int_equal(res.err, NTK_CTL_CERR_UNKNOWNVAR);
    ask(s, *lo(), NS, NTK_CTL_OP_WRITEVAR, 0, "", 3);
    assert_int_equal(res.err, -1);
    assert_int_equal(res.dlen, 0);
    ask(s, *lo(), NS, NTK_CTL_OP_WRITEVAR, 17767, "stratum=3", 3);
    assert_int_equal(res.err, NTK_CTL_CERR_PERMISSION);
    /* nomodify: 192.168.0.0/16 also has noquery, so no answer at all */
    ask(s, v4(0xc0a80001, 1), NS, NTK_CTL_OP_WRITEVAR, 0, "stratum=3", 3);
    assert_int_equal(res.n, 0);
    assert_int_equal(ctlsrv_stats(s)->refused[CTLSRV_REF_NOQUERY], 1);
    struct ntk_addr m = v4(0x0a0b0000, 0);
    assert_int_equal(rst_add(rst, &m, 16, RST_NOMODIFY), 0);
    ask(s, v4(0x0a0b0001, 1), NS, NTK_CTL_OP_WRITEVAR, 0, "stratum=3", 3);
    assert_int_equal(res.err, NTK_CTL_CERR_PERMISSION);
    assert_int_equal(ctlsrv_stats(s)->refused[CTLSRV_REF_NOMODIFY], 1);
    assert_int_equal(rst_remove(rst, &m, 16, 0), 0);
    ctlsrv_free(s);
}

static void test_malformed_and_noquery(void **state)
{
    (void)state;
    struct ctlsrv *s = make();
    uint8_t b[64];
    size_t n = request(b, NTK_CTL_OP_READVAR, 0, "", 0, 0);
    b[1] |= 0x80; /* a response */
    struct ctlsrv_req q = req_from(b, n, *lo(), NS);
    run(s, &q);
    assert_int_equal(res.n, 0);
    q = req_from(b, 11, *lo(), NS);
    run(s, &q);
    assert_int_equal(res.n, 0);
    assert_int_equal(ctlsrv_stats(s)->refused[CTLSRV_REF_MALFORMED], 2);
    ask(s, v4(0xc0a80105, 9), NS, NTK_CTL_OP_READSTAT, 0, "", 0);
    assert_int_equal(res.n, 0);
    assert_int_equal(ctlsrv_stats(s)->refused[CTLSRV_REF_NOQUERY], 1);
    assert_int_equal(ctlsrv_stats(s)->requests, 3);
    ctlsrv_free(s);
}

/* ---- nonces and proofs ---- */

static void get_nonce(struct ctlsrv *s, struct ntk_addr a, int64_t now, char nonce[64])
{
    char pad[65];
    memset(pad, ' ', 64);
    pad[64] = 0;
    ask(s, a, now, NTK_CTL_OP_REQ_NONCE, 0, pad, 0);
    assert_int_equal(res.err, -1);
    assert_int_equal(res.dlen, 6 + 32 + 2);
    assert_memory_equal(res.data, "nonce=", 6);
    memcpy(nonce, res.data, 38);
    nonce[38] = 0;
}

static void test_nonce(void **state)
{
    (void)state;
    struct ctlsrv *s = make();
    struct ntk_addr a = v4(0x0a000001, 5000), b = v4(0x0a000002, 5000);
    char nonce[64], req[128];
    get_nonce(s, a, 100 * NS, nonce);
    assert_int_equal(res.bytes, 12 + 40);
    snprintf(req, sizeof req, "%s, frags=4", nonce);
    ask(s, a, 100 * NS + 15 * NS, NTK_CTL_OP_READ_MRU, 0, req, 0); /* 15 s: valid */
    assert_int_equal(res.err, -1);
    assert_memory_equal(res.data, "nonce=", 6);
    assert_non_null(strstr((char *)res.data, "now=0x"));
    ask(s, b, 101 * NS, NTK_CTL_OP_READ_MRU, 0, req, 0); /* another address */
    assert_int_equal(res.err, NTK_CTL_CERR_PERMISSION);
    struct ntk_addr a2 = v4(0x0a000001, 6000); /* same address, other port: valid */
    ask(s, a2, 101 * NS, NTK_CTL_OP_READ_MRU, 0, req, 0);
    assert_int_equal(res.err, -1);
    ask(s, a, 116 * NS, NTK_CTL_OP_READ_MRU, 0, req, 0); /* 16 s: expired */
    assert_int_equal(res.err, NTK_CTL_CERR_PERMISSION);
    ask(s, a, 99 * NS, NTK_CTL_OP_READ_MRU, 0, req, 0); /* from the future */
    assert_int_equal(res.err, NTK_CTL_CERR_PERMISSION);
    ask(s, a, 101 * NS, NTK_CTL_OP_READ_MRU, 0, "frags=4", 0); /* none */
    assert_int_equal(res.err, NTK_CTL_CERR_PERMISSION);
    nonce[10] = nonce[10] == '0' ? '1' : '0'; /* forged time */
    snprintf(req, sizeof req, "%s, frags=4", nonce);
    ask(s, a, 101 * NS, NTK_CTL_OP_READ_MRU, 0, req, 0);
    assert_int_equal(res.err, NTK_CTL_CERR_PERMISSION);
    assert_int_equal(ctlsrv_stats(s)->refused[CTLSRV_REF_NONCE], 5);
    /* NTPsec's ntpq asks with an empty REQ_NONCE: 44 bytes > 12 from a stranger */
    ask(s, b, 101 * NS, NTK_CTL_OP_REQ_NONCE, 0, "", 0);
    assert_int_equal(res.err, NTK_CTL_CERR_PERMISSION);
    assert_int_equal(res.bytes, 12);
    ask(s, *lo(), 101 * NS, NTK_CTL_OP_REQ_NONCE, 0, "", 0);
    assert_int_equal(res.err, -1);
    ctlsrv_free(s);
}

static void test_proof(void **state)
{
    (void)state;
    struct ctlsrv *s = make();
    struct ntk_addr a = v4(0x0a000001, 5000), b = v4(0x0a000002, 5000);
    char nonce[64], req[128];
    ask(s, a, 10 * NS, NTK_CTL_OP_READVAR, 0, "", 0); /* 12 bytes in, 52 would go out */
    assert_int_equal(res.err, NTK_CTL_CERR_PERMISSION);
    assert_int_equal(res.bytes, 12);
    assert_int_equal(ctlsrv_stats(s)->refused[CTLSRV_REF_AMPLIFY], 1);
    get_nonce(s, a, 10 * NS, nonce);
    snprintf(req, sizeof req, "%s, ", nonce);
    ask(s, a, 11 * NS, NTK_CTL_OP_READVAR, 0, req, 0);
    assert_int_equal(res.err, -1);
    assert_string_equal((char *)res.data, "version=\"ntpd ntpkit-test\", stratum=2\r\n");
    assert_int_equal(ctlsrv_stats(s)->proofs, 1);
    ask(s, a, 11 * NS, NTK_CTL_OP_READVAR, 0, "big", 0); /* proven: 2 fragments for 16 bytes */
    assert_int_equal(res.n, 2);
    ask(s, a, (11 + 299) * NS, NTK_CTL_OP_READVAR, 0, "", 0);
    assert_int_equal(res.err, -1);
    ask(s, a, (11 + 300) * NS, NTK_CTL_OP_READVAR, 0, "", 0); /* 5 min later */
    assert_int_equal(res.err, NTK_CTL_CERR_PERMISSION);
    ask(s, b, 12 * NS, NTK_CTL_OP_READVAR, 0, "", 0); /* not b */
    assert_int_equal(res.err, NTK_CTL_CERR_PERMISSION);
    /* a bounded table: 64 more addresses prove themselves; the oldest proof (c) goes */
    struct ntk_addr c = v4(0x0a010000, 1);
    get_nonce(s, c, 400 * NS, nonce);
    snprintf(req, sizeof req, "%s", nonce);
    ask(s, c, 400 * NS, NTK_CTL_OP_UNSPEC, 0, req, 0);
    for (uint32_t i = 1; i <= CTLSRV_PROOF_SLOTS; i++) {
        struct ntk_addr x = v4(0x0a010000 + i, 1);
        get_nonce(s, x, 401 * NS, nonce);
        ask(s, x, 401 * NS, NTK_CTL_OP_UNSPEC, 0, nonce, 0);
    }
    assert_int_equal(ctlsrv_stats(s)->proofs, 2 + CTLSRV_PROOF_SLOTS);
    ask(s, c, 402 * NS, NTK_CTL_OP_READVAR, 0, "", 0);
    assert_int_equal(res.err, NTK_CTL_CERR_PERMISSION);
    ask(s, v4(0x0a010001, 1), 402 * NS, NTK_CTL_OP_READVAR, 0, "", 0);
    assert_int_equal(res.err, -1);
    ctlsrv_free(s);
}

static void test_oversize_and_opened(void **state)
{
    (void)state;
    struct ctlsrv *s = make();
    struct ntk_addr a = v4(0x0a000001, 5000);
    char pad[200];
    /* "stratum" padded with spaces to 60 bytes of data: 72 in, 12 + 12 out */
    memset(pad, ' ', sizeof pad);
    memcpy(pad, "stratum", 7);
    pad[60] = 0;
    ask(s, a, NS, NTK_CTL_OP_READVAR, 0, pad, 0);
    assert_int_equal(res.err, -1);
    assert_string_equal((char *)res.data, "stratum=2\r\n");
    assert_int_equal(res.bytes, 24);
    /* exactly as long: 12 + 40 = 52 bytes out; 52 bytes in is enough, 48 is not */
    memcpy(pad, "version,stratum", 15);
    pad[40] = 0;
    ask(s, a, NS, NTK_CTL_OP_READVAR, 0, pad, 0);
    assert_int_equal(res.err, -1);
    assert_int_equal(res.bytes, 52);
    pad[36] = 0;
    ask(s, a, NS, NTK_CTL_OP_READVAR, 0, pad, 0);
    assert_int_equal(res.err, NTK_CTL_CERR_PERMISSION);
    /* opened by `restrict 10.99.0.0 mask 255.255.0.0`: full answers */
    ask(s, v4(0x0a630001, 5000), NS, NTK_CTL_OP_READVAR, 0, "big", 0);
    assert_int_equal(res.n, 2);
    assert_true(ctlsrv_opened(rst, &(struct ntk_addr){0}) == false);
    assert_false(ctlsrv_opened(rst, &a));
    assert_false(
        ctlsrv_opened(rst, &(struct ntk_addr){.family = NTK_ADDR_V4, .ip = {192, 168, 1, 1}}));
    struct ntk_addr mapped = {.family = NTK_ADDR_V6,
                              .ip = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 99, 3, 4}};
    assert_true(ctlsrv_opened(rst, &mapped));
    assert_true(
        ctlsrv_is_loopback(&(struct ntk_addr){.family = NTK_ADDR_V6, .ip = {[15] = 1}}));
    assert_false(ctlsrv_is_loopback(&a));
    ctlsrv_free(s);
}

static void test_signed(void **state)
{
    (void)state;
    struct ctlsrv *s = make();
    struct ntk_addr a = v4(0x0a000001, 5000);
    ask(s, a, NS, NTK_CTL_OP_READVAR, 0, "big", 2); /* any trusted key: full, signed */
    assert_int_equal(res.n, 2);
    assert_int_equal(res.err, -1);
    for (int i = 0; i < 2; i++) {
        struct ntk_ctl_msg m;
        uint32_t kid = 0;
        assert_int_equal(ntk_ctl_decode(res.buf[i], res.len[i], &m), 0);
        assert_true(m.has_mac);
        assert_int_equal(ntk_ctl_verify(keys, res.buf[i], res.len[i], &m, &kid), 0);
        assert_int_equal(kid, 2);
    }
    assert_int_equal(ctlsrv_stats(s)->signed_requests, 1);
    /* a broken MAC: handled as unsigned (refused as oversize), answer not signed */
    static uint8_t b[NTK_CTL_DATAGRAM_MAX];
    size_t n = request(b, NTK_CTL_OP_READVAR, 0, "big", 3, 2);
    b[n - 1] ^= 1;
    struct ctlsrv_req q = req_from(b, n, a, NS);
    run(s, &q);
    assert_int_equal(res.err, NTK_CTL_CERR_PERMISSION);
    assert_false(res.last.has_mac);
    assert_int_equal(ctlsrv_stats(s)->refused[CTLSRV_REF_BAD_MAC], 1);
    ctlsrv_free(s);
}

static void test_ordlist(void **state)
{
    (void)state;
    struct ctlsrv *s = make();
    ask(s, *lo(), NS, NTK_CTL_OP_READ_ORDLIST_A, 0, "ifstats", 0);
    assert_int_equal(res.err, NTK_CTL_CERR_PERMISSION);
    ask(s, *lo(), NS, NTK_CTL_OP_READ_ORDLIST_A, 0, "ifstats", 2);
    assert_int_equal(res.err, NTK_CTL_CERR_PERMISSION);
    assert_true(res.last.has_mac);
    ask(s, *lo(), NS, NTK_CTL_OP_READ_ORDLIST_A, 0, "ifstats", 3);
    assert_int_equal(res.err, -1);
    assert_string_equal(
        (char *)res.data,
        "addr.0=127.0.0.1:123, bcast.0=, name.0=\"lo\", flags.0=0x5, en.0=1,\r\n"
        "rx.0=23, tx.0=29, txerr.0=0, pc.0=2, up.0=15, addr.1=0.0.0.0:123,\r\n"
        "bcast.1=, name.1=\"v4wildcard\", flags.1=0x0, en.1=0, rx.1=0, tx.1=0,\r\n"
        "txerr.1=0, pc.1=0, up.1=0\r\n");
    ask(s, *lo(), NS, NTK_CTL_OP_READ_ORDLIST_A, 0, "", 3);
    assert_int_equal(res.err, -1);
    assert_memory_equal(res.data, "addr.0=127.0.0.1:123", 20);
    ask(s, *lo(), NS, NTK_CTL_OP_READ_ORDLIST_A, 0, "addr_restrictions", 3);
    assert_int_equal(res.err, -1);
    /* NTPsec's order: IPv4 then IPv6, larger addresses first; its order of the flags */
    assert_non_null(
        strstr((char *)res.data, "addr.0=192.168.0.0, mask.0=255.255.0.0, hits.0="));
    assert_non_null(strstr((char *)res.data, "flags.0=\"noquery nomodify\""));
    assert_non_null(strstr((char *)res.data, "addr.1=10.99.0.0, mask.1=255.255.0.0,"));
    assert_non_null(strstr((char *)res.data, "mask.2=0.0.0.0"));
    assert_non_null(strstr((char *)res.data, "addr.3=::, mask.3=::,"));
    ask(s, *lo(), NS, NTK_CTL_OP_READ_ORDLIST_A, 0, "peers", 3);
    assert_int_equal(res.err, NTK_CTL_CERR_UNKNOWNVAR);
    ctlsrv_free(s);
}

/* ---- READ_MRU ---- */

struct seen {
    int count[300];
    size_t requests;
};

/* Parses one READ_MRU response like NTPsec's ntpq: entries, the new nonce, now=. Returns
 * whether the list is complete; writes the newest entry's addr and last into the next
 * request's resume points. */
static bool mru_chunk(struct seen *sn, char *nonce, char *addr, char *last)
{
    struct ntk_cvar_it it;
    struct ntk_cvar_item item;
    bool done = false;
    ntk_cvar_init(&it, (const char *)res.data, res.dlen);
    while (ntk_cvar_next(&it, &item) == 1) {
        if (ntk_span_eq(item.name, "nonce")) {
            snprintf(nonce, 64, "nonce=%.*s", (int)item.value.len, item.value.p);
        } else if (ntk_span_eq(item.name, "now")) {
            done = true;
        } else if (item.name.len > 5 && memcmp(item.name.p, "addr.", 5) == 0) {
            snprintf(addr, 64, "%.*s", (int)item.value.len, item.value.p);
            struct ntk_addr x;
            assert_int_equal(ntk_addr_parse_span(item.value, &x), 0);
            unsigned i = x.ip[3] + 256u * (x.ip[2] - 113u);
            assert_true(i < 300);
            sn->count[i]++;
        } else if (item.name.len > 5 && memcmp(item.name.p, "last.", 5) == 0) {
            snprintf(last, 64, "%.*s", (int)item.value.len, item.value.p);
        }
    }
    return done;
}

static struct mru *mru300(void)
{
    struct mru_cfg c;
    mru_cfg_default(&c);
    c.maxdepth = 400;
    struct mru *m = mru_new(&c, secret);
    assert_non_null(m);
    for (uint32_t i = 0; i < 300; i++) {
        struct ntk_addr a = v4(0xcb007100 + (i / 256) * 256 + i % 256, (uint16_t)(1000 + i));
        for (uint32_t k = 0; k <= i % 3; k++)
            (void)mru_observe(m, &a, (int64_t)(i * 10 + k) * 1000000LL, 3, 4, 0);
    }
    return m;
}

static void test_mru_paging(void **state)
{
    (void)state;
    struct ctlsrv *s = make();
    struct mru *m = mru300();
    env.mru = m;
    char nonce[64], addr[64] = "", last[64] = "", req[512];
    get_nonce(s, *lo(), 10 * NS, nonce);
    struct seen sn;
    memset(&sn, 0, sizeof sn);
    snprintf(req, sizeof req, "%s, frags=2", nonce);
    for (;;) {
        ask(s, *lo(), 10 * NS, NTK_CTL_OP_READ_MRU, 0, req, 0);
        assert_int_equal(res.err, -1);
        assert_true(res.n <= 2);
        sn.requests++;
        assert_true(sn.requests < 300);
        if (mru_chunk(&sn, nonce, addr, last))
            break;
        snprintf(req, sizeof req, "%s, frags=2, addr.0=%s, last.0=%s", nonce, addr, last);
    }
    for (int i = 0; i < 300; i++)
        assert_int_equal(sn.count[i], 1);
    assert_true(sn.requests >= 40); /* 2 fragments hold at most 7 entries */
    /* the entry fields, oldest first, exactly */
    snprintf(req, sizeof req, "%s, limit=1", nonce);
    ask(s, *lo(), 10 * NS, NTK_CTL_OP_READ_MRU, 0, req, 0);
    assert_string_equal((char *)res.data + 40,
                        "addr.0=203.0.113.0:1000,\r\n"
                        "last.0=0xe8754700.00000000, first.0=0xe8754700.00000000, ct.0=1,\r\n"
                        "mv.0=35, rs.0=0x0, sc.0=0.050, dr.0=0\r\n");
    assert_null(strstr((char *)res.data, "addr.1="));
    assert_null(strstr((char *)res.data, "now="));
    /* mincount=3: a third of them, and a complete list within one response */
    memset(&sn, 0, sizeof sn);
    snprintf(req, sizeof req, "%s, mincount=3", nonce);
    ask(s, *lo(), 10 * NS, NTK_CTL_OP_READ_MRU, 0, req, 0);
    assert_true(mru_chunk(&sn, nonce, addr, last));
    for (int i = 0; i < 300; i++)
        assert_int_equal(sn.count[i], i % 3 == 2 ? 1 : 0);
    /* resume points that match nothing: UNKNOWNVAR (ntpq restarts) */
    snprintf(req, sizeof req, "%s, addr.0=198.51.100.1:5, last.0=0x00000001.00000000", nonce);
    ask(s, *lo(), 10 * NS, NTK_CTL_OP_READ_MRU, 0, req, 0);
    assert_int_equal(res.err, NTK_CTL_CERR_UNKNOWNVAR);
    /* caps */
    snprintf(req, sizeof req, "%s, frags=129", nonce);
    ask(s, *lo(), 10 * NS, NTK_CTL_OP_READ_MRU, 0, req, 0);
    assert_int_equal(res.err, NTK_CTL_CERR_BADVALUE);
    snprintf(req, sizeof req, "%s, limit=257", nonce);
    ask(s, *lo(), 10 * NS, NTK_CTL_OP_READ_MRU, 0, req, 0);
    assert_int_equal(res.err, NTK_CTL_CERR_BADVALUE);
    /* nomrulist */
    struct ntk_addr net = v4(0x0a0c0000, 0);
    assert_int_equal(rst_add(rst, &net, 16, RST_NOMRULIST), 0);
    get_nonce(s, v4(0x0a0c0001, 1), 10 * NS, nonce);
    snprintf(req, sizeof req, "%s", nonce);
    ask(s, v4(0x0a0c0001, 1), 10 * NS, NTK_CTL_OP_READ_MRU, 0, req, 0);
    assert_int_equal(res.err, NTK_CTL_CERR_PERMISSION);
    assert_int_equal(ctlsrv_stats(s)->refused[CTLSRV_REF_NOMRULIST], 1);
    assert_int_equal(rst_remove(rst, &net, 16, 0), 0);
    env.mru = NULL;
    mru_free(m);
    ctlsrv_free(s);
}

static void test_res_bits(void **state)
{
    (void)state;
    assert_int_equal(ctlsrv_res_bits(RST_LIMITED | RST_KOD), 0x0420);
    assert_int_equal(ctlsrv_res_bits(RST_NOQUERY | RST_NOMODIFY | RST_NOMRULIST), 0x20c0);
    assert_int_equal(ctlsrv_res_bits(0), 0);
    assert_string_equal(ctlsrv_refuse_name(CTLSRV_REF_AMPLIFY), "amplify");
    assert_string_equal(ctlsrv_refuse_name(CTLSRV_REF_COUNT), "unknown");
}

/* ---- rate limit ---- */

static void test_rate_limit(void **state)
{
    (void)state;
    struct ctlsrv *s = make();
    struct ntk_addr a = v4(0x0a000001, 5000);
    for (int i = 0; i < CTLSRV_RATE_BURST; i++) {
        ask(s, a, 5 * NS, NTK_CTL_OP_UNSPEC, 0, "", 0);
        assert_int_equal(res.n, 1);
    }
    ask(s, a, 5 * NS, NTK_CTL_OP_UNSPEC, 0, "", 0);
    assert_int_equal(res.n, 0);
    assert_int_equal(ctlsrv_stats(s)->refused[CTLSRV_REF_RATE], 1);
    /* one second refills CTLSRV_RATE_PPS */
    int ok = 0;
    for (int i = 0; i < 2 * CTLSRV_RATE_PPS; i++) {
        ask(s, a, 6 * NS, NTK_CTL_OP_UNSPEC, 0, "", 0);
        ok += res.n;
    }
    assert_int_equal(ok, CTLSRV_RATE_PPS);
    /* loopback is not limited */
    for (int i = 0; i < 2 * CTLSRV_RATE_BURST; i++) {
        ask(s, *lo(), 6 * NS, NTK_CTL_OP_UNSPEC, 0, "", 0);
        assert_int_equal(res.n, 1);
    }
    /* property: whatever the mix of addresses, one address never gets more than a full
     * bucket plus the refill in a second */
    tu_seed();
    for (int round = 0; round < 20; round++) {
        struct ctlsrv *t = make();
        int got = 0;
        for (int i = 0; i < 2000; i++) {
            bool target = tu_rand() % 2 == 0;
            struct ntk_addr x = target ? a : v4(0x0b000000u + (uint32_t)(tu_rand() % 5000), 1);
            ask(t, x, 100 * NS + i * (NS / 2000), NTK_CTL_OP_UNSPEC, 0, "", 0);
            if (target)
                got += res.n;
        }
        assert_true(got <= CTLSRV_RATE_BURST + CTLSRV_RATE_PPS);
        assert_true(got >= CTLSRV_RATE_PPS);
        ctlsrv_free(t);
    }
    ctlsrv_free(s);
}

/* ---- anti-amplification property ---- */

/* A request of exactly size bytes (count fills what the layout allows, a trailer of a key id
 * that is not ours after), with data of one of three kinds. */
static size_t sized_request(uint8_t *out, uint8_t op, uint16_t assoc, size_t size, int kind)
{
    size_t count = size - 12 > NTK_CTL_DATA_MAX ? NTK_CTL_DATA_MAX : size - 12;
    count &= ~(size_t)3;
    char data[NTK_CTL_DATA_MAX];
    memset(data, ' ', sizeof data);
    static const char *const starts[] = {"", "big, version, stratum", "nonce=0123, big"};
    if (kind < 3)
        memcpy(data, starts[kind],
               strlen(starts[kind]) < count ? strlen(starts[kind]) : count);
    else
        for (size_t i = 0; i < count; i++)
            data[i] = (char)(tu_rand() & 0xff);
    struct ntk_ctl_hdr h = {.leap = 3,
                            .version = 2,
                            .opcode = op,
                            .sequence = 1,
                            .associd = assoc,
                            .count = (uint16_t)count};
    int n = ntk_ctl_encode(&h, (const uint8_t *)data, NULL, 0, out, NTK_CTL_DATAGRAM_MAX);
    assert_true(n > 0);
    size_t len = (size_t)n;
    for (; len < size; len++)
        out[len] = len == (size_t)n + 3 ? 99 : 0; /* key id 99: unknown */
    return len;
}

static void test_amplification(void **state)
{
    (void)state;
    tu_seed();
    struct ctlsrv *s = make();
    struct mru *m = mru300();
    env.mru = m;
    const struct ntk_addr srcs[4] = {v4(0x7f000001, 1), v4(0x0a000001, 1), v4(0x0a000002, 1),
                                     v4(0x0a630001, 1)};
    const uint16_t ids[] = {0, 17767, 17768, 17769, 1, 65535};
    int64_t now = 1000 * NS;
    size_t checked = 0, bigger = 0;
    static uint8_t buf[NTK_CTL_DATAGRAM_MAX + 64];
    for (int src = 0; src < 4; src++) {
        for (unsigned op = 0; op < 32; op++) {
            for (size_t id = 0; id < sizeof ids / sizeof ids[0]; id++) {
                for (size_t size = 12; size <= 500; size += 4) {
                    now += NS / 40; /* under the rate limit */
                    if (src == SRC_PROVEN && (now / NS) % 200 == 0) {
                        char nonce[64];
                        get_nonce(s, srcs[src], now, nonce);
                        ask(s, srcs[src], now, NTK_CTL_OP_UNSPEC, 0, nonce, 0);
                    }
                    size_t len =
                        sized_request(buf, (uint8_t)op, ids[id], size, (int)(size / 4 % 4));
                    assert_int_equal(len, size);
                    struct ctlsrv_req q = req_from(buf, len, srcs[src], now);
                    run(s, &q);
                    if (src == SRC_REMOTE) {
                        assert_true(res.bytes <= size);
                        checked++;
                    } else if (res.bytes > size) {
                        bigger++;
                    }
                }
            }
        }
    }
    assert_int_equal(checked, 32 * 6 * 123);
    fprintf(stderr, "# %zu answers larger than their request\n", bigger);
    assert_true(bigger > 300); /* the others do get full answers */
    assert_int_equal(ctlsrv_stats(s)->refused[CTLSRV_REF_RATE], 0);
    assert_true(ctlsrv_stats(s)->refused[CTLSRV_REF_AMPLIFY] > 100);
    env.mru = NULL;
    mru_free(m);
    ctlsrv_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readstat),
        cmocka_unit_test(test_readvar),
        cmocka_unit_test(test_unspec_clock_badop_configure),
        cmocka_unit_test(test_readclock),
        cmocka_unit_test(test_writevar),
        cmocka_unit_test(test_malformed_and_noquery),
        cmocka_unit_test(test_nonce),
        cmocka_unit_test(test_proof),
        cmocka_unit_test(test_oversize_and_opened),
        cmocka_unit_test(test_signed),
        cmocka_unit_test(test_ordlist),
        cmocka_unit_test(test_mru_paging),
        cmocka_unit_test(test_res_bits),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_amplification),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
