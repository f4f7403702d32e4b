/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for cli/common/m6snap: the mode-6 parsers on NTPsec 1.2.2's real responses
 * (tests/data/mode6.tsv) and on our ntpd's documented output (daemon/core/ctlv.c), units,
 * absent values, READSTAT pairs, garbage, and m6_fetch against a loopback responder that
 * replays the captured datagrams. */
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include "tsv.h"

#include "m6snap.h"
#include "ntk/err.h"

#include "poison.h"

/* ======================================================================================== */
/* The capture                                                                              */
/* ======================================================================================== */

/* One captured datagram. */
struct dgram {
    uint8_t p[600];
    size_t len;
};

/* One response reassembled from its fragments. */
struct resp {
    uint8_t op;      /* opcode without the R/E/M bits */
    uint16_t seq;    /* sequence */
    uint16_t aid;    /* association id */
    uint16_t status; /* status word */
    char data[2048]; /* data, NUL-terminated */
    size_t len;
    size_t first, n; /* its datagrams: cap.d[first .. first + n) */
};

static struct {
    struct dgram d[40];
    size_t nd;
    struct resp r[20];
    size_t nr;
} cap;

/* Reads mode6.tsv: every datagram, and the responses joined in offset order. */
static void load_capture(void)
{
    if (cap.nd != 0) {
        return;
    }
    struct tsv t;
    const char *c[TSV_MAX_COLS];
    tsv_open(&t, "mode6");
    int pay = tsv_col(&t, "udp.payload");
    while (tsv_next(&t, c) && cap.nd < 40) {
        struct dgram *d = &cap.d[cap.nd];
        int n = tu_unhex(c[pay], d->p, sizeof d->p);
        assert_true(n >= 12);
        d->len = (size_t)n;
        cap.nd++;
        if ((d->p[1] & 0x80) == 0 || (d->p[1] & 0x40) != 0) {
            continue; /* a request, or an error response */
        }
        uint16_t seq = (uint16_t)(d->p[2] << 8 | d->p[3]);
        uint16_t off = (uint16_t)(d->p[8] << 8 | d->p[9]);
        uint16_t cnt = (uint16_t)(d->p[10] << 8 | d->p[11]);
        struct resp *r = &cap.r[cap.nr];
        if (off == 0) {
            assert_true(cap.nr < 20);
            r = &cap.r[cap.nr++];
            memset(r, 0, sizeof *r);
            r->op = d->p[1] & 0x1f;
            r->seq = seq;
            r->aid = (uint16_t)(d->p[6] << 8 | d->p[7]);
            r->status = (uint16_t)(d->p[4] << 8 | d->p[5]);
            r->first = cap.nd - 1;
        } else {
            r = &cap.r[cap.nr - 1];
            assert_int_equal(r->seq, seq);
            assert_int_equal(r->len, off);
        }
        assert_true(r->len + cnt < sizeof r->data && 12u + cnt <= d->len);
        memcpy(r->data + r->len, d->p + 12, cnt);
        r->len += cnt;
        r->data[r->len] = '\0';
        r->n++;
    }
    tsv_close(&t);
}

/* The response of the k-th request with this opcode and association id. */
static const struct resp *find(uint8_t op, uint16_t aid, int k)
{
    load_capture();
    for (size_t i = 0; i < cap.nr; i++) {
        if (cap.r[i].op == op && cap.r[i].aid == aid && k-- == 0) {
            return &cap.r[i];
        }
    }
    fail_msg("no response op %u aid %u", op, aid);
    return NULL;
}

/* The response whose data starts with prefix. */
static const struct resp *find_text(const char *prefix)
{
    load_capture();
    for (size_t i = 0; i < cap.nr; i++) {
        if (strncmp(cap.r[i].data, prefix, strlen(prefix)) == 0) {
            return &cap.r[i];
        }
    }
    fail_msg("no response starting %s", prefix);
    return NULL;
}

static bool printable(const char *s, size_t cap_bytes)
{
    size_t n = strnlen(s, cap_bytes);
    if (n == cap_bytes) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f) {
            return false;
        }
    }
    return true;
}

#define assert_near(a, b, eps) assert_true(fabs((a) - (b)) <= (eps))

/* ======================================================================================== */
/* System variables                                                                         */
/* ======================================================================================== */

static void test_sys_ntpsec(void **state)
{
    (void)state;
    const struct resp *r = find(2, 0, 0);
    struct m6_snap s;
    m6_snap_init(&s);
    assert_int_equal(m6_parse_sys(r->data, r->len, &s.sys), 0);
    const struct m6_sys *y = &s.sys;
    assert_int_equal(y->leap, 0);
    assert_int_equal(y->stratum, 5);
    assert_int_equal(y->precision_log2, -24);
    assert_true(y->root_delay_s == 0 && y->root_disp_s == 0);
    assert_true(y->root_dist_s == 0); /* not sent: delay / 2 + dispersion */
    assert_string_equal(y->refid, "127.0.0.1");
    assert_true(y->reftime_unix_s == 0); /* 0x00000000.00000000: never set */
    assert_true(y->poll_s == 1.0);       /* tc=0 */
    assert_int_equal(y->sys_peer, 0);
    assert_true(y->offset_s == 0 && y->freq_ratio == 0 && y->sys_jitter_s == 0);
    assert_true(y->clk_jitter_s == 0.000060 / 1000);
    assert_true(y->clk_wander_ratio == 0);
    assert_string_equal(y->version, "ntpd ntpsec-1.2.2");
    /* No leap file loaded in the capture: absent. */
    assert_int_equal(y->tai_s, -1);
    assert_true(isnan(y->leapsec_unix_s) && isnan(y->leap_expire_unix_s));
}

/* Our ntpd's list (ctlv.c header): rootdist sent, leap-file variables as YYYYMMDDhhmm. */
static const char ours_sys[] =
    "leap=0, stratum=2, precision=-20, rootdelay=1.234, rootdisp=5.678,\r\n"
    "rootdist=7.000, refid=192.0.2.1, reftime=0xeeb22b8c.7d549e3c, tc=6, peer=4660,\r\n"
    "offset=-0.123456, sys_jitter=0.500000, clk_jitter=0.250000,\r\n"
    "frequency=-12.345678, clk_wander=0.012000, clock=0xeeb22b9a.9ef41b6f,\r\n"
    "processor=\"x86_64\", system=\"Linux/6.1\", version=\"ntpkit 0.1.0\", tai=37,\r\n"
    "leapsec=\"2017-01-01T00:00Z\", expire=\"2026-06-28T00:00Z\", mintc=0\r\n";

static void test_sys_ours(void **state)
{
    (void)state;
    struct m6_sys y;
    struct m6_snap s;
    m6_snap_init(&s);
    y = s.sys;
    assert_int_equal(m6_parse_sys(ours_sys, sizeof ours_sys - 1, &y), 0);
    assert_int_equal(y.stratum, 2);
    assert_true(y.root_delay_s == 1.234 / 1000 && y.root_disp_s == 5.678 / 1000);
    assert_true(y.root_dist_s == 7.0 / 1000); /* as sent, not recomputed */
    assert_near(y.reftime_unix_s, 1795665164.489572420, 1e-6);
    assert_true(y.poll_s == 64.0);
    assert_int_equal(y.sys_peer, 4660);
    assert_true(y.offset_s == -0.123456 / 1000);
    assert_true(y.sys_jitter_s == 0.5 / 1000 && y.clk_jitter_s == 0.25 / 1000);
    assert_true(y.freq_ratio == -12.345678 * 1e-6);
    assert_true(y.clk_wander_ratio == 0.012 * 1e-6);
    assert_int_equal(y.tai_s, 37);
    assert_true(y.leapsec_unix_s == 1483228800.0);     /* 2017-01-01 00:00 UTC */
    assert_true(y.leap_expire_unix_s == 1782604800.0); /* 2026-06-28 00:00 UTC */
    /* NTP Classic's (and NTPsec 1.1's) unquoted YYYYMMDDhhmm reads the same. */
    static const char classic[] = "leapsec=201701010000, expire=202606280000";
    y.leapsec_unix_s = y.leap_expire_unix_s = NAN;
    assert_int_equal(m6_parse_sys(classic, sizeof classic - 1, &y), 0);
    assert_true(y.leapsec_unix_s == 1483228800.0);
    assert_true(y.leap_expire_unix_s == 1782604800.0);
    static const char bad[] = "leapsec=\"2017-01-01T00:00\", expire=\"2026-13-28T00:00Z\"";
    y.leapsec_unix_s = y.leap_expire_unix_s = NAN;
    assert_int_equal(m6_parse_sys(bad, sizeof bad - 1, &y), 0);
    assert_true(isnan(y.leapsec_unix_s) && isnan(y.leap_expire_unix_s));
    assert_string_equal(y.version, "ntpkit 0.1.0");
}

/* Bad values leave a field absent; unknown names are ignored; parsing goes on. */
static void test_sys_bad_values(void **state)
{
    (void)state;
    static const char t[] = "leap=7, stratum=x, precision=, rootdelay=\"1.0\", tc=99999,"
                            " offset=1e999, refid=\"a\\\"b\", frequency=nan, foo=bar,"
                            " expire=202613010000, leapsec=0x00000000.00000000,"
                            " tai=-5, peer=70000, version=\"v\x01\x7f\"";
    struct m6_snap s;
    m6_snap_init(&s);
    assert_int_equal(m6_parse_sys(t, sizeof t - 1, &s.sys), 0);
    assert_int_equal(s.sys.leap, -1);
    assert_int_equal(s.sys.stratum, -1);
    assert_int_equal(s.sys.precision_log2, -1);
    assert_true(isnan(s.sys.root_delay_s));
    assert_true(isnan(s.sys.poll_s));
    assert_true(isnan(s.sys.offset_s));
    assert_true(isnan(s.sys.freq_ratio));
    assert_true(isnan(s.sys.leap_expire_unix_s)); /* month 13 */
    assert_true(isnan(s.sys.leapsec_unix_s));     /* a zero timestamp is no date */
    assert_int_equal(s.sys.tai_s, -1);
    assert_int_equal(s.sys.sys_peer, 0);
    assert_string_equal(s.sys.refid, "a\"b");
    assert_string_equal(s.sys.version, "v??"); /* control bytes made printable */
    assert_true(isnan(s.sys.root_dist_s));     /* no delay to compute it from */
}

/* ======================================================================================== */
/* Associations and peers                                                                   */
/* ======================================================================================== */

static void test_assocs_ntpsec(void **state)
{
    (void)state;
    const struct resp *r = find(1, 0, 0);
    struct m6_peer p[4];
    assert_int_equal(r->len, 8);
    assert_int_equal(m6_parse_assocs((const uint8_t *)r->data, r->len, p, 4), 2);
    assert_int_equal(p[0].associd, 17768);
    assert_int_equal(p[0].status, 0x801b);
    assert_int_equal(p[1].associd, 17767);
    assert_int_equal(p[1].status, 0xb014);
    assert_int_equal(p[0].sel, M6_SEL_REJECT);
    assert_int_equal(p[0].stratum, -1); /* others absent */
    assert_true(isnan(p[0].offset_s));
    /* cap smaller than the count: the count is still returned. */
    assert_int_equal(m6_parse_assocs((const uint8_t *)r->data, r->len, p, 1), 2);
    assert_int_equal(m6_parse_assocs((const uint8_t *)r->data, 0, p, 4), 0);
    for (size_t len = 1; len < 8; len++) {
        if (len != 4) {
            assert_int_equal(m6_parse_assocs((const uint8_t *)r->data, len, p, 4),
                             NTK_EFORMAT);
        }
    }
}

static void test_assocs_selection(void **state)
{
    (void)state;
    static const char tally[] = " x.-+#*o";
    static const char *const names[] = {"reject",    "falseticker", "excess",      "outlier",
                                        "candidate", "backup",      "system_peer", "pps"};
    for (int sel = 0; sel < 8; sel++) {
        uint8_t d[4] = {0x12, 0x34, (uint8_t)(0x90 | sel), 0x14};
        struct m6_peer p;
        assert_int_equal(m6_parse_assocs(d, 4, &p, 1), 1);
        assert_int_equal(p.associd, 0x1234);
        assert_int_equal(p.sel, sel);
        assert_int_equal(m6_sel_tally(p.sel), tally[sel]);
        assert_string_equal(m6_sel_name(p.sel), names[sel]);
    }
    assert_string_equal(m6_sel_name(M6_SEL_COUNT), "reject");
}

static void test_peer_ntpsec_server(void **state)
{
    (void)state;
    const struct resp *r = find(2, 17767, 0);
    assert_int_equal(r->n, 2); /* two fragments joined */
    struct m6_peer p;
    uint8_t st[4] = {0x45, 0x67, 0xb0, 0x14};
    m6_parse_assocs(st, 4, &p, 1);
    assert_int_equal(m6_parse_peer(r->data, r->len, &p), 0);
    assert_int_equal(p.associd, 17767); /* kept from READSTAT */
    assert_string_equal(p.srcadr, "127.0.0.1");
    assert_int_equal(p.srcport, 123);
    assert_string_equal(p.srchost, "");
    assert_string_equal(p.kind, "server");
    assert_int_equal(p.leap, 0);
    assert_int_equal(p.hmode, 3);
    assert_int_equal(p.stratum, 2);
    assert_int_equal(p.hpoll_log2, 4);
    assert_int_equal(p.ppoll_log2, 99);
    assert_string_equal(p.refid, "127.127.1.1");
    assert_true(p.reach_ok);
    assert_int_equal(p.reach, 1); /* reach=0x1 */
    assert_true(p.delay_s == 0.042335 / 1000);
    assert_true(p.offset_s == 0.010123 / 1000);
    assert_true(p.jitter_s == 0.001404 / 1000);
    assert_true(p.disp_s == 187.526793 / 1000);
    assert_true(p.root_delay_s == 0 && p.root_disp_s == 0);
    assert_near(p.rec_unix_s, 1795665176.437498744, 1e-6);
    assert_int_equal(p.ntscookies, -1);
    assert_int_equal(p.keyid, 0);
    assert_int_equal(p.flash, 0x1000);
    assert_false(p.authentic);
    assert_string_equal(p.kiss, "");
}

static void test_peer_ntpsec_refclock(void **state)
{
    (void)state;
    const struct resp *r = find(2, 17768, 0);
    struct m6_peer p;
    uint8_t st[4] = {0x45, 0x68, 0x80, 0x1b};
    m6_parse_assocs(st, 4, &p, 1);
    /* The filtdelay lists carry NTPsec's stray binary bytes: still parsed. */
    assert_non_null(memchr(r->data, 0x8f, r->len));
    assert_int_equal(m6_parse_peer(r->data, r->len, &p), 0);
    assert_string_equal(p.srcadr, "127.127.28.0");
    assert_string_equal(p.srchost, "SHM(0)");
    assert_string_equal(p.kind, "refclock");
    assert_int_equal(p.leap, 3);
    assert_int_equal(p.stratum, 0);
    assert_string_equal(p.refid, "SHM0");
    assert_string_equal(p.kiss, ""); /* a refclock's refid is no kiss code */
    assert_true(p.rec_unix_s == 0);  /* never received */
    assert_true(p.reach_ok && p.reach == 0);
    assert_true(p.disp_s == 15937.5 / 1000);
    assert_int_equal(p.flash, 0x1200);
}

/* Our ntpd: hex reach, the pool's name as srchost, NTS cookies, authentic. */
static void test_peer_ours(void **state)
{
    (void)state;
    static const char t[] =
        "srcadr=192.0.2.7, srcport=123, dstadr=192.0.2.1, dstport=123, leap=0,\r\n"
        "hmode=3, stratum=1, ppoll=6, hpoll=6, precision=-23, rootdelay=0.000,\r\n"
        "rootdisp=0.122, refid=GPS, reftime=0xeeb22b8c.7d549e3c,\r\n"
        "rec=0xeeb22b98.6fffeaec, xmt=0xeeb22b98.6fff31a0, reach=0xff, unreach=0,\r\n"
        "delay=12.500000, offset=-0.250000, jitter=0.125000, dispersion=1.000000,\r\n"
        "keyid=0, pmode=4, flash=0x0, headway=0, srchost=\"0.debian.pool.ntp.org\",\r\n"
        "ntscookies=8, authentic=1\r\n";
    struct m6_snap s;
    m6_snap_init(&s);
    struct m6_peer *p = &s.peers[0];
    assert_int_equal(m6_parse_peer(t, sizeof t - 1, p), 0);
    assert_int_equal(p->reach, 0xff);
    assert_string_equal(p->srchost, "0.debian.pool.ntp.org");
    assert_string_equal(p->kind, "server"); /* alone, a pool member looks like a server */
    assert_int_equal(p->ntscookies, 8);
    assert_true(p->authentic);
    assert_true(p->root_disp_s == 0.122 / 1000);
    assert_true(p->delay_s == 12.5 / 1000 && p->offset_s == -0.25 / 1000);
    assert_string_equal(p->refid, "GPS");
    assert_string_equal(p->kiss, "");
}

static void test_peer_kinds(void **state)
{
    (void)state;
    static const struct {
        const char *text, *kind, *kiss;
    } t[] = {
        {"srcadr=192.0.2.9, hmode=1", "peer", ""},
        {"srcadr=192.0.2.9, hmode=2", "peer", ""},
        {"srcadr=192.0.2.9, hmode=3, stratum=0, refid=RATE", "server", "RATE"},
        {"srcadr=0.0.0.0, hmode=3, refid=POOL, srchost=\"pool.ntp.org\"", "pool", ""},
        {"srcadr=127.127.20.0, hmode=3, stratum=0, refid=GPS", "refclock", ""},
        {"srcadr=192.0.2.9, srchost=\"GPSD(1)\"", "refclock", ""},
        {"srcadr=192.0.2.9, srchost=\"GPSD()\"", "server", ""},
        {"srcadr=192.0.2.9, srchost=\"gpsd(1)x\"", "server", ""},
        {"srcadr=192.0.2.9", "server", ""},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct m6_peer p;
        uint8_t st[4] = {0, 1, 0, 0};
        m6_parse_assocs(st, 4, &p, 1);
        assert_int_equal(m6_parse_peer(t[i].text, strlen(t[i].text), &p), 0);
        assert_string_equal(p.kind, t[i].kind);
        assert_string_equal(p.kiss, t[i].kiss);
    }
}

static void test_peer_reach_forms(void **state)
{
    (void)state;
    static const struct {
        const char *v;
        bool ok;
        uint8_t reach;
    } t[] = {{"0x1", true, 1},  {"0xff", true, 255}, {"0XFF", true, 255}, {"377", true, 255},
             {"17", true, 15},  {"0", true, 0},      {"0x100", false, 0}, {"400", false, 0},
             {"8", false, 0},   {"0x", false, 0},    {"", false, 0},      {"-1", false, 0},
             {"0377", false, 0}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "reach=%s", t[i].v);
        struct m6_peer p;
        uint8_t st[4] = {0, 1, 0, 0};
        m6_parse_assocs(st, 4, &p, 1);
        assert_int_equal(m6_parse_peer(text, strlen(text), &p), 0);
        assert_int_equal(p.reach_ok, t[i].ok);
        assert_int_equal(p.reach, t[i].reach);
    }
}

/* ======================================================================================== */
/* Counters                                                                                 */
/* ======================================================================================== */

static void test_counters_ntpsec(void **state)
{
    (void)state;
    struct m6_snap s;
    m6_snap_init(&s);
    const struct resp *a = find_text("ss_uptime=");
    const struct resp *b = find_text("ss_reset=");
    assert_int_equal(m6_parse_counters(a->data, a->len, &s.ctr), 0);
    assert_int_equal(m6_parse_counters(b->data, b->len, &s.ctr), 0);
    assert_int_equal(s.ctr.ss_uptime, 13);
    assert_int_equal(s.ctr.ss_numctlreq, 7);
    assert_int_equal(s.ctr.ss_received, 21); /* ss_received_r: since start */
    assert_int_equal(s.ctr.ss_thisver, 13);
    assert_int_equal(s.ctr.ss_oldver, 0);
    assert_int_equal(s.ctr.ss_processed, 20);
    assert_int_equal(s.ctr.ss_limited, 0);
    assert_int_equal(s.ctr.ss_kodsent, 0);
    /* NTPsec 1.2.2 here was asked no other group: absent. */
    assert_true(s.ctr.nts_client_send == UINT64_MAX);
    assert_true(s.ctr.io_received == UINT64_MAX);
    assert_true(s.ctr.auth_fails == UINT64_MAX);
}

/* The _r (since start) value wins over the plain one (since the hourly reset), whatever the
 * order; nts_* are since start under their plain names. */
static void test_counters_conventions(void **state)
{
    (void)state;
    static const char t[] =
        "ss_received=5, ss_received_r=500, ss_limited_r=7, ss_limited=1,\r\n"
        "nts_client_send=9, nts_client_send_r=9, nts_cookie_decode_old2=3,\r\n"
        "nts_cookie_decode=17,\r\n"
        "io_received=44, io_sent=33, io_sendfailed=2, io_dropped=1, io_ignored=0,\r\n"
        "mru_depth=10, mru_maxdepth=100, mru_mem=4, mru_maxmem=1024,\r\n"
        "authdigestfails=2, authcmacfails=3, authkeys=4, authencrypts=5, authdecrypts=6,\r\n"
        "nts_ke_serves_good=11, nts_ke_serves_nossl=12, nts_ke_probes_bad=13,\r\n"
        "ss_badformat=18446744073709551615, ss_badauth_r=x\r\n";
    struct m6_counters c;
    memset(&c, 0xff, sizeof c);
    assert_int_equal(m6_parse_counters(t, sizeof t - 1, &c), 0);
    assert_int_equal(c.ss_received, 500);
    assert_int_equal(c.ss_limited, 7);
    assert_int_equal(c.nts_client_send, 9);
    assert_int_equal(c.nts_cookie_decode_old2, 3);
    assert_int_equal(c.nts_cookie_decode_current, 17); /* NTPsec 1.2.2's name for it */
    assert_int_equal(c.io_received, 44);
    assert_int_equal(c.io_sendfailed, 2);
    assert_int_equal(c.mru_entries, 10);
    assert_int_equal(c.mru_maxdepth, 100);
    assert_int_equal(c.mru_mem, 4);
    assert_int_equal(c.auth_fails, 5); /* digest + cmac */
    assert_int_equal(c.auth_keys, 4);
    assert_int_equal(c.auth_encrypts, 5);
    assert_int_equal(c.auth_decrypts, 6);
    assert_int_equal(c.nts_ke_serves_good, 11);
    assert_int_equal(c.nts_ke_serves_nossl, 12);
    assert_int_equal(c.nts_ke_probes_bad, 13);
    assert_true(c.ss_badformat == UINT64_MAX); /* the plain name is not read */
    assert_true(c.ss_badauth == UINT64_MAX);   /* bad value */
}

static void test_counter_names(void **state)
{
    (void)state;
    const char *n = m6_counter_names();
    static const char *const want[] = {
        "ss_uptime",         "ss_received_r",      "ss_thisver_r",
        "ss_oldver_r",       "ss_badformat_r",     "ss_badauth_r",
        "ss_declined_r",     "ss_restricted_r",    "ss_limited_r",
        "ss_kodsent_r",      "ss_processed_r",     "ss_numctlreq",
        "io_received",       "io_sendfailed",      "nts_client_send",
        "nts_cookie_make",   "nts_ke_serves_good", "nts_ke_probes_bad",
        "nts_cookie_decode", "mru_depth",          "mru_maxdepth",
        "authdecrypts",      "authdigestfails",    "authcmacfails",
        "authkeys"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char item[64];
        snprintf(item, sizeof item, ",%s,", want[i]);
        char all[2048];
        snprintf(all, sizeof all, ",%s,", n);
        assert_non_null(strstr(all, item));
    }
    /* A list of bare names parses, and sets nothing. */
    struct m6_counters c;
    memset(&c, 0xff, sizeof c);
    assert_int_equal(m6_parse_counters(n, strlen(n), &c), 0);
    struct m6_counters none;
    memset(&none, 0xff, sizeof none);
    assert_memory_equal(&c, &none, sizeof c);
}

/* ======================================================================================== */
/* Clock variables (READCLOCK)                                                              */
/* ======================================================================================== */

/* NTPsec 1.2.2's cv of its SHM refclock (frame 15): the clock fields only. */
static void test_clock_ntpsec(void **state)
{
    (void)state;
    const struct resp *r = find(4, 17768, 0);
    assert_int_equal(r->len, 139);
    struct m6_peer p;
    m6_parse_assocs((const uint8_t[]){0x45, 0x68, 0x80, 0x1b}, 4, &p, 1);
    assert_true(p.rc_polls == UINT64_MAX && p.rc_noreply == UINT64_MAX);
    assert_int_equal(m6_parse_clock(r->data, r->len, &p), 0);
    assert_string_equal(p.rc_name, "SHM");
    assert_string_equal(p.rc_device, "SHM/Shared memory interface");
    assert_true(p.rc_polls == 1);
    assert_true(p.rc_noreply == 1);
    assert_true(p.rc_badformat == 0);
    assert_true(p.rc_baddata == 0);
    /* Nothing else is touched: stratum= and refid= are the clock's, not the peer's. */
    assert_int_equal(p.stratum, -1);
    assert_string_equal(p.refid, "");
    assert_string_equal(p.kind, "server");
    assert_int_equal(p.associd, 17768);
}

/* Our ntpd's cv (daemon/core/ctlv.c ctlv_clock's default list). */
static const char ours_clock[] =
    "device=\"SOCK/Unix socket\", name=\"SOCK\", timecode=\"\", poll=42, noreply=3,\r\n"
    "badformat=1, baddata=2, fudgetime1=12.500, stratum=0, refid=GPS, flags=5";

static void test_clock_ours(void **state)
{
    (void)state;
    struct m6_peer p;
    m6_parse_assocs((const uint8_t[]){0, 9, 0x90, 0x14}, 4, &p, 1);
    assert_int_equal(m6_parse_clock(ours_clock, sizeof ours_clock - 1, &p), 0);
    assert_string_equal(p.rc_name, "SOCK");
    assert_string_equal(p.rc_device, "SOCK/Unix socket");
    assert_true(p.rc_polls == 42);
    assert_true(p.rc_noreply == 3);
    assert_true(p.rc_badformat == 1);
    assert_true(p.rc_baddata == 2);
    assert_string_equal(p.refid, "");
}

/* Bad values stay absent, strings are cut and made printable, a broken list keeps what
 * came before it. */
static void test_clock_bad_values(void **state)
{
    (void)state;
    static const char t[] =
        "poll=-1, noreply=18446744073709551615, badformat=abc, baddata=\"7\",\r\n"
        "name=\"A\\x01B\x7f"
        "C123456789012345\", device=\"dev\"";
    struct m6_peer p;
    m6_parse_assocs((const uint8_t[]){0, 9, 0x90, 0x14}, 4, &p, 1);
    assert_int_equal(m6_parse_clock(t, sizeof t - 1, &p), 0);
    assert_true(p.rc_polls == UINT64_MAX);
    assert_true(p.rc_noreply == UINT64_MAX); /* the "absent" value itself */
    assert_true(p.rc_badformat == UINT64_MAX);
    assert_true(p.rc_baddata == UINT64_MAX); /* quoted */
    assert_int_equal(strlen(p.rc_name), sizeof p.rc_name - 1);
    assert_true(printable(p.rc_name, sizeof p.rc_name));
    assert_string_equal(p.rc_device, "dev");
    static const char u[] = "poll=5, noreply=6, name=\"unterminated";
    m6_parse_assocs((const uint8_t[]){0, 9, 0x90, 0x14}, 4, &p, 1);
    assert_int_equal(m6_parse_clock(u, sizeof u - 1, &p), 0); /* the bad item skipped */
    assert_true(p.rc_polls == 5 && p.rc_noreply == 6);
    assert_string_equal(p.rc_name, "");
    assert_int_equal(m6_parse_clock(NULL, 0, &p), 0);
}

/* Every truncation of both texts: no crash, 0 or a negative error, strings printable and
 * prefixes of the full values, counters absent or a prefix of the full digits. */
static void test_clock_truncations(void **state)
{
    (void)state;
    const struct resp *r = find(4, 17768, 0);
    const struct {
        const char *t;
        size_t len;
        uint64_t full[4];
    } cases[] = {{r->data, r->len, {1, 1, 0, 0}},
                 {ours_clock, sizeof ours_clock - 1, {42, 3, 1, 2}}};
    for (size_t c = 0; c < 2; c++) {
        for (size_t len = 0; len <= cases[c].len; len++) {
            char *copy = malloc(len + 1); /* exactly len bytes: ASan sees overreads */
            assert_non_null(copy);
            memcpy(copy, cases[c].t, len);
            struct m6_peer p;
            m6_parse_assocs((const uint8_t[]){0, 9, 0x90, 0x14}, 4, &p, 1);
            int rc = m6_parse_clock(copy, len, &p);
            assert_true(rc <= 0);
            assert_true(printable(p.rc_name, sizeof p.rc_name));
            assert_true(printable(p.rc_device, sizeof p.rc_device));
            const uint64_t got[] = {p.rc_polls, p.rc_noreply, p.rc_badformat, p.rc_baddata};
            for (size_t k = 0; k < 4; k++) {
                assert_true(got[k] == UINT64_MAX || got[k] == cases[c].full[k] ||
                            got[k] == cases[c].full[k] / 10);
            }
            if (len == cases[c].len) {
                assert_int_equal(rc, 0);
                for (size_t k = 0; k < 4; k++) {
                    assert_true(got[k] == cases[c].full[k]);
                }
            }
            free(copy);
        }
    }
}

/* ======================================================================================== */
/* Garbage and truncation                                                                   */
/* ======================================================================================== */

static void check_snap(const struct m6_snap *s)
{
    const struct m6_sys *y = &s->sys;
    assert_true(printable(y->refid, sizeof y->refid));
    assert_true(printable(y->version, sizeof y->version));
    const double d[] = {y->root_delay_s,     y->root_disp_s,    y->root_dist_s,
                        y->reftime_unix_s,   y->poll_s,         y->offset_s,
                        y->freq_ratio,       y->sys_jitter_s,   y->clk_jitter_s,
                        y->clk_wander_ratio, y->leapsec_unix_s, y->leap_expire_unix_s};
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        assert_true(isnan(d[i]) || isfinite(d[i]));
    }
    assert_true(y->leap >= -1 && y->leap <= 3 && y->stratum >= -1 && y->stratum <= 16);
    const struct m6_peer *p = &s->peers[0];
    assert_true(printable(p->srcadr, sizeof p->srcadr));
    assert_true(printable(p->srchost, sizeof p->srchost));
    assert_true(printable(p->refid, sizeof p->refid));
    assert_true(printable(p->kind, sizeof p->kind));
    assert_true(printable(p->kiss, sizeof p->kiss));
    const double e[] = {p->offset_s,     p->delay_s,     p->disp_s,    p->jitter_s,
                        p->root_delay_s, p->root_disp_s, p->rec_unix_s};
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++) {
        assert_true(isnan(e[i]) || isfinite(e[i]));
    }
}

/* Every truncation of every real response parses without crashing; what is kept is
 * well-formed; the full text gives the full result. */
static void test_truncations(void **state)
{
    (void)state;
    load_capture();
    for (size_t i = 0; i < cap.nr; i++) {
        const struct resp *r = &cap.r[i];
        if (r->op != 2) {
            continue;
        }
        for (size_t len = 0; len <= r->len; len++) {
            char *copy = malloc(len + 1); /* exactly len bytes: ASan sees overreads */
            assert_non_null(copy);
            memcpy(copy, r->data, len);
            struct m6_snap s;
            m6_snap_init(&s);
            int a = m6_parse_sys(copy, len, &s.sys);
            int b = m6_parse_peer(copy, len, &s.peers[0]);
            int c = m6_parse_counters(copy, len, &s.ctr);
            assert_true(a <= 0 && b <= 0 && c <= 0);
            assert_int_equal(a, b);
            assert_int_equal(b, c);
            check_snap(&s);
            free(copy);
        }
    }
}

static void test_random_garbage(void **state)
{
    (void)state;
    tu_seed();
    load_capture();
    static const char alphabet[] = "=,\" \r\n\\0x123.-eabSHM()_r";
    for (int round = 0; round < 3000; round++) {
        char buf[300];
        size_t len = tu_rand() % sizeof buf;
        if (round % 3 == 0) {
            tu_fill((uint8_t *)buf, len);
        } else if (round % 3 == 1) {
            for (size_t i = 0; i < len; i++) {
                buf[i] = alphabet[tu_rand() % (sizeof alphabet - 1)];
            }
        } else {
            /* A real response with a few bytes changed. */
            const struct resp *r = &cap.r[tu_rand() % cap.nr];
            len = r->len < sizeof buf ? r->len : sizeof buf;
            memcpy(buf, r->data, len);
            for (int k = 0; k < 4 && len > 0; k++) {
                buf[tu_rand() % len] = (char)tu_rand();
            }
        }
        struct m6_snap s;
        m6_snap_init(&s);
        assert_true(m6_parse_sys(buf, len, &s.sys) <= 0);
        assert_true(m6_parse_peer(buf, len, &s.peers[0]) <= 0);
        assert_true(m6_parse_counters(buf, len, &s.ctr) <= 0);
        assert_true(m6_parse_clock(buf, len, &s.peers[0]) <= 0);
        assert_true(printable(s.peers[0].rc_name, sizeof s.peers[0].rc_name));
        assert_true(printable(s.peers[0].rc_device, sizeof s.peers[0].rc_device));
        int n = m6_parse_assocs((const uint8_t *)buf, len, &s.peers[1], 4);
        assert_true(len % 4 == 0 ? n == (int)(len / 4) : n == NTK_EFORMAT);
        check_snap(&s);
    }
    /* NULL with length 0 is an empty list. */
    struct m6_snap s;
    m6_snap_init(&s);
    assert_int_equal(m6_parse_sys(NULL, 0, &s.sys), 0);
    assert_int_equal(m6_parse_counters(NULL, 0, &s.ctr), 0);
}

/* A malformed item is skipped, the others kept; only text with nothing readable fails. */
static void test_syntax_error_keeps_fields(void **state)
{
    (void)state;
    static const char t[] = "stratum=3, leap=1, version=\"unterminated";
    struct m6_snap s;
    m6_snap_init(&s);
    assert_int_equal(m6_parse_sys(t, sizeof t - 1, &s.sys), 0);
    assert_int_equal(s.sys.stratum, 3);
    assert_int_equal(s.sys.leap, 1);
    assert_string_equal(s.sys.version, "");
    static const char only_bad[] = "version=\"unterminated";
    assert_int_equal(m6_parse_sys(only_bad, sizeof only_bad - 1, &s.sys), NTK_ETRUNC);
}

static void test_snap_init(void **state)
{
    (void)state;
    struct m6_snap s;
    memset(&s, 0x5a, sizeof s);
    m6_snap_init(&s);
    assert_false(s.up);
    assert_string_equal(s.error, "");
    assert_int_equal(s.n_peers, 0);
    assert_int_equal(s.sys.leap, -1);
    assert_true(isnan(s.sys.offset_s));
    assert_true(s.ctr.ss_received == UINT64_MAX && s.ctr.auth_keys == UINT64_MAX);
    assert_int_equal(s.peers[M6_PEERS_MAX - 1].ntscookies, -1);
    assert_string_equal(s.peers[0].srchost, "");
}

/* ======================================================================================== */
/* Fetching from a loopback responder                                                       */
/* ======================================================================================== */

/* Answers each request with the captured response to the same request (its datagrams,
 * sequence rewritten), the counter groups NTPsec would not know with CERR_UNKNOWNVAR. */
struct responder {
    int fd;
    int silent;       /* answer nothing */
    int no_readstat;  /* answer everything but READSTAT */
    uint16_t refuse;  /* answer READVAR of this association with an error */
    int refuse_clock; /* answer READCLOCK with an error (BADASSOC) */
    int clock_reqs;   /* READCLOCK requests seen */
    int requests;     /* requests seen */
    char names[1024]; /* READVAR 0 data received with names, joined by '|' */
};

static void reply(int fd, const struct sockaddr_in *to, const struct dgram *d, uint16_t seq)
{
    uint8_t p[600];
    memcpy(p, d->p, d->len);
    p[2] = (uint8_t)(seq >> 8);
    p[3] = (uint8_t)seq;
    sendto(fd, p, d->len, 0, (const struct sockaddr *)to, sizeof *to);
}

static void answer(struct responder *rs, const uint8_t *q, size_t n,
                   const struct sockaddr_in *from)
{
    uint8_t op = q[1] & 0x1f;
    uint16_t seq = (uint16_t)(q[2] << 8 | q[3]);
    uint16_t aid = (uint16_t)(q[6] << 8 | q[7]);
    size_t cnt = (size_t)(q[10] << 8 | q[11]);
    const char *data = (const char *)q + 12;
    if (cnt > n - 12) {
        return;
    }
    const struct resp *r = NULL;
    if (op == 4) {
        rs->clock_reqs++;
    }
    if (op == 4 && rs->refuse_clock) {
        uint8_t e[12] = {0x16, 0xc4, q[2], q[3], 0x03, 0x00, q[6], q[7], 0, 0, 0, 0};
        sendto(rs->fd, e, sizeof e, 0, (const struct sockaddr *)from, sizeof *from);
        return;
    }
    if ((op == 1 && rs->no_readstat) || (op == 2 && aid != 0 && aid == rs->refuse)) {
        if (op == 2) {
            uint8_t e[12] = {0x16, 0xc2, q[2], q[3], 0x07, 0x00, q[6], q[7], 0, 0, 0, 0};
            sendto(rs->fd, e, sizeof e, 0, (const struct sockaddr *)from, sizeof *from);
        }
        return;
    }
    if (op == 2 && cnt > 0) {
        size_t l = strlen(rs->names);
        snprintf(rs->names + l, sizeof rs->names - l, "%.*s|", (int)cnt, data);
        if (cnt >= 9 && memcmp(data, "ss_uptime", 9) == 0) {
            r = find_text("ss_reset=");
        }
        if (r == NULL) {
            uint8_t e[12] = {0x16, 0xc2, q[2], q[3], 0x05, 0x00, 0, 0, 0, 0, 0, 0};
            sendto(rs->fd, e, sizeof e, 0, (const struct sockaddr *)from, sizeof *from);
            return;
        }
    } else {
        r = find(op, aid, 0);
    }
    for (size_t i = 0; i < r->n; i++) {
        reply(rs->fd, from, &cap.d[r->first + i], seq);
    }
}

static void *serve(void *arg)
{
    struct responder *rs = arg;
    for (int i = 0; i < 200; i++) {
        struct pollfd p = {.fd = rs->fd, .events = POLLIN};
        if (poll(&p, 1, 3000) <= 0) {
            break;
        }
        uint8_t q[600];
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(rs->fd, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
        if (n == 1) {
            break; /* the test's stop byte */
        }
        if (n < 12) {
            continue;
        }
        rs->requests++;
        if (!rs->silent) {
            answer(rs, q, (size_t)n, &from);
        }
    }
    return NULL;
}

/* Opens the responder on 127.0.0.1 (kernel-chosen port) and a target pointing at it. */
static void start(struct responder *rs, pthread_t *th, struct m6_target *t, int timeout_ms)
{
    load_capture();
    rs->fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(rs->fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    assert_int_equal(bind(rs->fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t al = sizeof a;
    getsockname(rs->fd, (struct sockaddr *)&a, &al);
    memset(t, 0, sizeof *t);
    memcpy(&t->addr.ss, &a, sizeof a);
    t->addr.len = sizeof a;
    t->timeout_ms = timeout_ms;
    assert_int_equal(pthread_create(th, NULL, serve, rs), 0);
}

static void stop(struct responder *rs, pthread_t th, const struct m6_target *t)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    sendto(fd, "x", 1, 0, (const struct sockaddr *)&t->addr.ss, t->addr.len);
    close(fd);
    pthread_join(th, NULL);
    close(rs->fd);
}

static void test_fetch_replay(void **state)
{
    (void)state;
    struct responder rs = {0};
    pthread_t th;
    struct m6_target t;
    start(&rs, &th, &t, 3000);
    static struct m6_snap s;
    assert_int_equal(m6_fetch(&t, &s), 0);
    stop(&rs, th, &t);
    assert_true(s.up);
    assert_string_equal(s.error, "");
    assert_int_equal(s.sys.stratum, 5);
    assert_int_equal(s.sys.status, 0x0016);
    assert_string_equal(s.sys.version, "ntpd ntpsec-1.2.2");
    assert_int_equal(s.n_peers, 2);
    assert_int_equal(s.n_dropped, 0);
    assert_int_equal(s.peers[0].associd, 17768);
    assert_string_equal(s.peers[0].kind, "refclock");
    assert_int_equal(s.peers[1].associd, 17767);
    assert_string_equal(s.peers[1].srcadr, "127.0.0.1");
    assert_true(s.peers[1].offset_s == 0.010123 / 1000);
    assert_int_equal(s.ctr.ss_received, 21);
    assert_true(s.ctr.nts_client_send == UINT64_MAX); /* that group was refused */
    /* The refclock's READCLOCK (the captured cv), none for the server. */
    assert_string_equal(s.peers[0].rc_name, "SHM");
    assert_string_equal(s.peers[0].rc_device, "SHM/Shared memory interface");
    assert_true(s.peers[0].rc_polls == 1 && s.peers[0].rc_noreply == 1);
    assert_true(s.peers[0].rc_badformat == 0 && s.peers[0].rc_baddata == 0);
    assert_true(s.peers[1].rc_polls == UINT64_MAX && s.peers[1].rc_noreply == UINT64_MAX);
    assert_string_equal(s.peers[1].rc_name, "");
    /* READVAR 0 + READSTAT + 2 peers + 6 counter groups + 1 READCLOCK. */
    assert_int_equal(rs.requests, 11);
    assert_int_equal(rs.clock_reqs, 1);
    assert_non_null(strstr(rs.names, "|io_received,"));
    assert_non_null(strstr(rs.names, "|nts_client_send,"));
    assert_true(s.fetch_s >= 0 && s.fetch_s < 3);
    assert_true(s.taken_unix_s > 1.7e9);
}

/* The sources are never silently missing: a lost READSTAT or a refused READVAR of one
 * association says so in peers_error (ntpmon shows it instead of "No associations"). */
static void test_fetch_peers_error(void **state)
{
    (void)state;
    struct responder rs = {.refuse = 17767};
    pthread_t th;
    struct m6_target t;
    start(&rs, &th, &t, 3000);
    static struct m6_snap s;
    assert_int_equal(m6_fetch(&t, &s), 0);
    stop(&rs, th, &t);
    assert_true(s.up);
    assert_int_equal(s.n_peers, 1);
    assert_int_equal(s.n_dropped, 1);
    assert_int_equal(s.peers[0].associd, 17768);
    assert_string_equal(s.peers_error,
                        "READVAR of 1 of 2 associations: refused (association 17767)");

    struct responder rs2 = {.no_readstat = 1};
    start(&rs2, &th, &t, 1200);
    assert_int_equal(m6_fetch(&t, &s), 0);
    stop(&rs2, th, &t);
    assert_true(s.up);
    assert_int_equal(s.sys.stratum, 5);
    assert_int_equal(s.n_peers, 0);
    assert_string_equal(s.peers_error, "READSTAT: timeout");

    struct responder rs3 = {0};
    start(&rs3, &th, &t, 3000);
    assert_int_equal(m6_fetch(&t, &s), 0);
    stop(&rs3, th, &t);
    assert_string_equal(s.peers_error, "");
}

/* A refused READCLOCK keeps the refclock, its clock fields absent, and says nothing in
 * peers_error (its variables are there); without counters no READCLOCK is asked. */
static void test_fetch_clock_refused(void **state)
{
    (void)state;
    struct responder rs = {.refuse_clock = 1};
    pthread_t th;
    struct m6_target t;
    start(&rs, &th, &t, 3000);
    static struct m6_snap s;
    assert_int_equal(m6_fetch(&t, &s), 0);
    stop(&rs, th, &t);
    assert_true(s.up);
    assert_int_equal(s.n_peers, 2);
    assert_int_equal(s.n_dropped, 0);
    assert_string_equal(s.peers_error, "");
    assert_int_equal(s.peers[0].associd, 17768);
    assert_string_equal(s.peers[0].kind, "refclock");
    assert_string_equal(s.peers[0].srchost, "SHM(0)");
    assert_true(s.peers[0].rc_polls == UINT64_MAX && s.peers[0].rc_noreply == UINT64_MAX);
    assert_true(s.peers[0].rc_badformat == UINT64_MAX && s.peers[0].rc_baddata == UINT64_MAX);
    assert_string_equal(s.peers[0].rc_name, "");
    assert_int_equal(rs.clock_reqs, 1);
    assert_int_equal(rs.requests, 11);

    struct responder rs2 = {0};
    start(&rs2, &th, &t, 3000);
    t.no_counters = true;
    assert_int_equal(m6_fetch(&t, &s), 0);
    stop(&rs2, th, &t);
    assert_int_equal(s.n_peers, 2);
    assert_int_equal(rs2.clock_reqs, 0);
    assert_int_equal(rs2.requests, 4); /* READVAR 0 + READSTAT + 2 peers */
    assert_true(s.peers[0].rc_polls == UINT64_MAX);
}

static void test_fetch_timeout(void **state)
{
    (void)state;
    struct responder rs = {.silent = 1};
    pthread_t th;
    struct m6_target t;
    start(&rs, &th, &t, 300);
    static struct m6_snap s;
    assert_int_equal(m6_fetch(&t, &s), -1);
    stop(&rs, th, &t);
    assert_false(s.up);
    assert_string_equal(s.error, "timeout");
    assert_true(s.fetch_s >= 0.29 && s.fetch_s < 1.0); /* one overall deadline */
    assert_true(rs.requests >= 1 && rs.requests <= 2);
}

static void test_fetch_refused(void **state)
{
    (void)state;
    /* A port nobody listens on: the kernel's ICMP makes it fail at once. */
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    bind(fd, (struct sockaddr *)&a, sizeof a);
    socklen_t al = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &al);
    close(fd);
    struct m6_target t = {.timeout_ms = 2000};
    memcpy(&t.addr.ss, &a, sizeof a);
    t.addr.len = sizeof a;
    static struct m6_snap s;
    assert_int_equal(m6_fetch(&t, &s), -1);
    assert_false(s.up);
    assert_string_equal(s.error, "connection refused");
    assert_true(s.fetch_s < 1.0);
}

/* NTPsec 1.2.2's variables of a new association carry stray bytes in the filter arrays
 * (captured from its ntpd): the association is kept with every other variable, as NTPsec's
 * ntpq shows it. (ntpmon dropped it with "malformed response", an intermittent CI failure
 * of interop_ntpmon_tmux.) Text with no readable item at all still fails. */
static void test_parse_peer_stray_bytes(void **state)
{
    (void)state;
    static const char t[] =
        "srcadr=127.0.0.1, srcport=123, dstadr=127.0.0.2, stratum=2, hmode=3, reach=0x1,\r\n"
        "keyid=0, filtdelay= 0.00 0.\"\x1e\xb3\xee 0.04 0.04 0.03 0.00,\r\n"
        "filtoffset= 0.00 0.\"\x1e\xb3\xee 0.04 0.01 0.00,\r\npmode=4,\r\n"
        "filtdisp= 0.00 0.\"\x1e\xb3\xee 0.04 0\x04 0.00 16000.00,\r\n"
        "flash=0x400, headway=62, ntscookies=-1\r\n";
    struct m6_peer p;
    uint8_t st[4] = {0x45, 0x67, 0xb0, 0x14};
    assert_int_equal(m6_parse_assocs(st, 4, &p, 1), 1);
    assert_int_equal(m6_parse_peer(t, sizeof t - 1, &p), 0);
    assert_string_equal(p.srcadr, "127.0.0.1");
    assert_int_equal(p.srcport, 123);
    assert_int_equal(p.stratum, 2);
    assert_true(p.reach_ok);
    assert_int_equal(p.reach, 1);
    assert_int_equal(p.flash, 0x400);
    assert_int_equal(p.ntscookies, -1);
    static const char junk[] = "\"\"\", =x, \"a\"b";
    assert_true(m6_parse_peer(junk, sizeof junk - 1, &p) < 0);
    assert_int_equal(m6_parse_peer("", 0, &p), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sys_ntpsec),
        cmocka_unit_test(test_sys_ours),
        cmocka_unit_test(test_sys_bad_values),
        cmocka_unit_test(test_assocs_ntpsec),
        cmocka_unit_test(test_assocs_selection),
        cmocka_unit_test(test_peer_ntpsec_server),
        cmocka_unit_test(test_peer_ntpsec_refclock),
        cmocka_unit_test(test_peer_ours),
        cmocka_unit_test(test_peer_kinds),
        cmocka_unit_test(test_peer_reach_forms),
        cmocka_unit_test(test_clock_ntpsec),
        cmocka_unit_test(test_clock_ours),
        cmocka_unit_test(test_clock_bad_values),
        cmocka_unit_test(test_clock_truncations),
        cmocka_unit_test(test_counters_ntpsec),
        cmocka_unit_test(test_counters_conventions),
        cmocka_unit_test(test_counter_names),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_random_garbage),
        cmocka_unit_test(test_syntax_error_keeps_fields),
        cmocka_unit_test(test_snap_init),
        cmocka_unit_test(test_fetch_replay),
        cmocka_unit_test(test_fetch_peers_error),
        cmocka_unit_test(test_fetch_clock_refused),
        cmocka_unit_test(test_fetch_timeout),
        cmocka_unit_test(test_fetch_refused),
        cmocka_unit_test(test_parse_peer_stray_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
