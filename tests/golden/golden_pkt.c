/* SPDX-License-Identifier: BSD-2-Clause */
/* Golden test: lib/pkt.c and lib/ef.c against tshark 4.0's decoding of the real captures in
 * tests/data. Every NTP column tshark printed is compared for every packet of every capture,
 * and the number of packets per file is asserted, so the test cannot pass on an empty file.
 *
 * How tshark prints (checked against Wireshark's sources, epan/proto.c and
 * epan/dissectors/packet-ntp.c): li/vn/mode/stratum/rootdelay/rootdispersion as unsigned
 * integers; ppoll and precision as the raw byte, unsigned (232 = -24); refid as 8 hex digits;
 * keyid/mac as hex, only for a 68- or 72-byte packet; ext.type as "0x%04x" and ext.length in
 * decimal, comma-joined; timestamps (ENC_TIME_NTP) as "Mon DD, YYYY HH:MM:SS.nnnnnnnnn UTC"
 * where the era follows the RFC 4330 MSB rule (MSB set: 1968-2036 from 1900; MSB clear:
 * 2036-2104 from 2036-02-07 06:28:16) and the nanoseconds are
 * (int)(1000000000 * (fraction / 4294967296.0)), a truncation done in double precision; the
 * time is "NULL" when that gives 0 s and 0 ns. That double product is exact (fraction * 10^9
 * = fraction * 1953125 * 2^9 and fraction * 1953125 < 2^53), so tshark's nanoseconds are
 * exactly floor(fraction * 10^9 / 2^32): the test computes that in integers and compares the
 * text exactly, with no tolerance (tshark_nanoseconds pins the equivalence). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ntk/buf.h"
#include "ntk/ef.h"
#include "ntk/err.h"
#include "ntk/ntime.h"
#include "ntk/pkt.h"
#include "testutil.h"
#include "tsv.h"

#include "poison.h"

enum { MAX_PAYLOAD = 2048, MAX_TEXT = 512 };

static long num(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    assert_true(*s != '\0' && *end == '\0');
    return v;
}

/* tshark's text for an NTP timestamp (see the top of this file). */
static void tshark_time(ntk_ts ts, char *out, size_t cap)
{
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    uint32_t sec = ntk_ts_sec(ts);
    int ns = (int)(((uint64_t)ntk_ts_frac(ts) * 1000000000u) >> 32);
    if (sec == 0 && ns == 0) {
        snprintf(out, cap, "NULL");
        return;
    }
    int64_t unix_s = (sec & 0x80000000u) ? (int64_t)sec - NTK_NTP_UNIX_OFFSET_S
                                         : (int64_t)sec + NTK_ERA_S - NTK_NTP_UNIX_OFFSET_S;
    struct ntk_civil c;
    ntk_civil_from_unix(unix_s, &c);
    snprintf(out, cap, "%s %2d, %lld %02d:%02d:%02d.%09d UTC", mon[c.mon - 1], c.mday,
             (long long)c.year, c.hour, c.min, c.sec, ns);
}

static void hex(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 3 <= cap; i++) {
        k += (size_t)snprintf(out + k, cap - k, "%02x", p[i]);
    }
    out[k] = '\0';
}

/* The EF walk as tshark prints it: "0x0104,0x0204" and "36,104". */
static void ef_lists(const uint8_t *b, const struct ntk_pkt_layout *l, char *types, char *lens,
                     size_t cap)
{
    struct ntk_rd r;
    struct ntk_ef_iter it;
    struct ntk_ef ef;
    size_t kt = 0, kl = 0;
    types[0] = lens[0] = '\0';
    ntk_rd_init(&r, b + l->ef_off, l->ef_len);
    ntk_ef_iter_init(&it, &r, NTK_EF_MIN_LEN);
    while (ntk_ef_next(&it, &ef) == 1) {
        const char *sep = kt ? "," : "";
        kt += (size_t)snprintf(types + kt, cap - kt, "%s0x%04x", sep, ef.type);
        kl += (size_t)snprintf(lens + kl, cap - kl, "%s%zu", sep, ef.len);
        assert_true(kt < cap && kl < cap);
    }
    assert_int_equal(ntk_ef_iter_err(&it), 0);
}

/* Results of one file, for the per-file assertions. */
struct tally {
    int rows;
    int timestamps; /* non-NULL timestamps compared */
    int macs;
    int efs;
    int kod_frames[8];
    int kods;
    enum ntk_kiss kiss[8];
};

static void check_timestamps(const struct tsv *t, const char **c, const struct ntk_pkt *p,
                             struct tally *tl)
{
    const char *names[] = {"ntp.reftime", "ntp.org", "ntp.rec", "ntp.xmt"};
    const ntk_ts ts[] = {p->reftime, p->org, p->rec, p->xmt};
    for (int i = 0; i < 4; i++) {
        char want[MAX_TEXT];
        tshark_time(ts[i], want, sizeof want);
        assert_string_equal(c[tsv_col(t, names[i])], want);
        tl->timestamps += strcmp(want, "NULL") != 0;
    }
}

static void check_auth(const struct tsv *t, const char **c, const uint8_t *b,
                       const struct ntk_pkt_layout *l, struct tally *tl)
{
    const char *keyid = c[tsv_col(t, "ntp.keyid")];
    const char *mac = c[tsv_col(t, "ntp.mac")];
    if (*keyid == '\0') {
        assert_int_equal(l->auth, NTK_PKT_AUTH_NONE);
        assert_string_equal(mac, "");
        return;
    }
    char text[MAX_TEXT];
    assert_int_equal(l->auth, NTK_PKT_AUTH_MAC);
    snprintf(text, sizeof text, "%08x", l->key_id);
    assert_string_equal(keyid, text);
    hex(b + l->mac_off, l->mac_len, text, sizeof text);
    assert_string_equal(mac, text);
    tl->macs++;
}

static void check_header(const struct tsv *t, const char **c, const struct ntk_pkt *p)
{
    char text[MAX_TEXT];
    assert_int_equal(num(c[tsv_col(t, "ntp.flags.li")]), p->leap);
    assert_int_equal(num(c[tsv_col(t, "ntp.flags.vn")]), p->version);
    assert_int_equal(num(c[tsv_col(t, "ntp.flags.mode")]), p->mode);
    assert_int_equal(num(c[tsv_col(t, "ntp.stratum")]), p->stratum);
    assert_int_equal(num(c[tsv_col(t, "ntp.ppoll")]), (uint8_t)p->poll_log2);
    assert_int_equal(num(c[tsv_col(t, "ntp.precision")]), (uint8_t)p->precision_log2);
    assert_int_equal(num(c[tsv_col(t, "ntp.rootdelay")]), p->root_delay);
    assert_int_equal(num(c[tsv_col(t, "ntp.rootdispersion")]), p->root_disp);
    snprintf(text, sizeof text, "%08x", p->refid);
    assert_string_equal(c[tsv_col(t, "ntp.refid")], text);
}

/* Decodes one row's payload and compares every column; records kiss codes. */
static void check_row(const struct tsv *t, const char **c, struct tally *tl)
{
    static uint8_t b[MAX_PAYLOAD];
    int n = tu_unhex(c[tsv_col(t, "udp.payload")], b, sizeof b);
    assert_true(n > 0);
    struct ntk_pkt p;
    struct ntk_pkt_layout l;
    enum ntk_pkt_reject why;
    assert_int_equal(ntk_pkt_decode(b, (size_t)n, &p, &l, &why), 0);
    assert_int_equal(why, NTK_PKT_OK);
    check_header(t, c, &p);
    check_timestamps(t, c, &p, tl);
    check_auth(t, c, b, &l, tl);

    char types[MAX_TEXT], lens[MAX_TEXT];
    ef_lists(b, &l, types, lens, sizeof types);
    assert_string_equal(c[tsv_col(t, "ntp.ext.type")], types);
    assert_string_equal(c[tsv_col(t, "ntp.ext.length")], lens);
    tl->efs += (int)l.ef_count;

    if (ntk_pkt_is_kod(&p)) {
        assert_true(tl->kods < 8);
        tl->kod_frames[tl->kods] = (int)num(c[tsv_col(t, "frame.number")]);
        tl->kiss[tl->kods++] = ntk_pkt_kiss(&p);
    }
}

/* Runs every row of capture name through check_row. */
static void run_file(const char *name, struct tally *tl)
{
    struct tsv t;
    const char *c[TSV_MAX_COLS];
    memset(tl, 0, sizeof *tl);
    tsv_open(&t, name);
    while (tsv_next(&t, c)) {
        check_row(&t, c, tl);
        tl->rows++;
    }
    tsv_close(&t);
}

static void sntp_chrony(void **state)
{
    (void)state;
    struct tally tl;
    run_file("sntp-chrony", &tl);
    assert_int_equal(tl.rows, 32);
    assert_int_equal(tl.kods, 0);
    assert_int_equal(tl.macs, 0);
    assert_int_equal(tl.timestamps, 16 + 4 * 16); /* requests carry only xmt */
}

static void client_server_ntpsec(void **state)
{
    (void)state;
    struct tally tl;
    run_file("client-server-ntpsec", &tl);
    assert_int_equal(tl.rows, 16);
    assert_int_equal(tl.kods, 0);
    assert_int_equal(tl.timestamps, 8 + 4 * 8);
}

static void symkey(void **state)
{
    (void)state;
    struct tally tl;
    run_file("symkey", &tl);
    assert_int_equal(tl.rows, 46);
    assert_int_equal(tl.macs, 46); /* every frame carries a MAC (README: 68 or 72 bytes) */
    assert_int_equal(tl.efs, 0);
    assert_int_equal(tl.timestamps, 102);
}

static void kod(void **state)
{
    (void)state;
    struct tally tl;
    run_file("kod", &tl);
    assert_int_equal(tl.rows, 17);
    /* tshark -Y 'ntp.stratum == 0 && ntp.flags.mode == 4 && ntp.refid == 52:41:54:45'. */
    static const int want[] = {6, 8, 11, 14, 17};
    assert_int_equal(tl.timestamps, 31);
    assert_int_equal(tl.kods, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(tl.kod_frames[i], want[i]);
        assert_int_equal(tl.kiss[i], NTK_KISS_RATE);
    }
}

static void nts(void **state)
{
    (void)state;
    struct tally tl;
    run_file("nts", &tl);
    assert_int_equal(tl.rows, 18);
    /* 9 requests x 3 fields, 8 replies x 2 and the NAK's single Unique Identifier. */
    assert_int_equal(tl.efs, 9 * 3 + 8 * 2 + 1);
    assert_int_equal(tl.timestamps, 45);
    assert_int_equal(tl.kods, 1);
    assert_int_equal(tl.kod_frames[0], 33);
    assert_int_equal(tl.kiss[0], NTK_KISS_NTSN);
}

static void nts_ntpsec_client(void **state)
{
    (void)state;
    struct tally tl;
    run_file("nts-ntpsec-client", &tl);
    assert_int_equal(tl.rows, 14);
    assert_int_equal(tl.efs, 7 * 3 + 7 * 2);
    assert_int_equal(tl.timestamps, 35);
    assert_int_equal(tl.kods, 0);
}

/* Mode 6: only the first byte is this codec's business; decode refuses it by name. */
static void mode6(void **state)
{
    (void)state;
    struct tsv t;
    const char *c[TSV_MAX_COLS];
    static uint8_t b[MAX_PAYLOAD];
    int rows = 0;
    tsv_open(&t, "mode6");
    while (tsv_next(&t, c)) {
        int n = tu_unhex(c[tsv_col(&t, "udp.payload")], b, sizeof b);
        assert_true(n > 0);
        enum ntk_leap leap;
        uint8_t version;
        enum ntk_mode mode;
        assert_int_equal(ntk_pkt_peek(b, (size_t)n, &leap, &version, &mode), 0);
        assert_int_equal(num(c[tsv_col(&t, "ntp.flags.li")]), leap);
        assert_int_equal(num(c[tsv_col(&t, "ntp.flags.vn")]), version);
        assert_int_equal(num(c[tsv_col(&t, "ntp.flags.mode")]), mode);
        assert_int_equal(mode, NTK_MODE_CONTROL);
        struct ntk_pkt p;
        enum ntk_pkt_reject why;
        assert_int_equal(ntk_pkt_decode(b, (size_t)n, &p, NULL, &why), NTK_EUNSUPP);
        assert_int_equal(why, NTK_PKT_MODE_CONTROL);
        rows++;
    }
    tsv_close(&t);
    assert_int_equal(rows, 30);
}

/* tshark's double-precision nanoseconds equal the integer floor used here, and the text
 * matches tshark's for a few pinned values (era rule, NULL rule, day padding). */
static void tshark_nanoseconds(void **state)
{
    (void)state;
    tu_seed();
    for (int i = 0; i < 1000000; i++) {
        uint32_t f = i < 4 ? (uint32_t)(0xffffffffu - (unsigned)i) : (uint32_t)tu_rand();
        int as_tshark = (int)(1000000000 * (f / 4294967296.0));
        assert_int_equal(as_tshark, (int)(((uint64_t)f * 1000000000u) >> 32));
    }
    char s[MAX_TEXT];
    /* symkey.tsv frame 1 xmt: eeb22b61.20e95000 */
    tshark_time(ntk_ts_make(0xeeb22b61, 0x20e95000), s, sizeof s);
    assert_string_equal(s, "Nov 26, 2026 03:52:01.128560066 UTC");
    /* nts.tsv frame 20 xmt: MSB set, era 0, a single-digit day padded with a space. */
    tshark_time(ntk_ts_make(0x8b86e81a, 0xe0a7b252), s, sizeof s);
    assert_string_equal(s, "Mar  7, 1974 10:51:06.877558846 UTC");
    /* MSB clear: era 1, counted from 2036-02-07 06:28:16. */
    tshark_time(ntk_ts_make(0x0000003c, 0xffffffff), s, sizeof s);
    assert_string_equal(s, "Feb  7, 2036 06:29:16.999999999 UTC");
    tshark_time(ntk_ts_make(0, 0), s, sizeof s);
    assert_string_equal(s, "NULL");
    tshark_time(ntk_ts_make(0, 4), s, sizeof s); /* under 1 ns: still NULL */
    assert_string_equal(s, "NULL");
    tshark_time(ntk_ts_make(0, 5), s, sizeof s);
    assert_string_equal(s, "Feb  7, 2036 06:28:16.000000001 UTC");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tshark_nanoseconds),
        cmocka_unit_test(sntp_chrony),
        cmocka_unit_test(client_server_ntpsec),
        cmocka_unit_test(symkey),
        cmocka_unit_test(kod),
        cmocka_unit_test(nts),
        cmocka_unit_test(nts_ntpsec_client),
        cmocka_unit_test(mode6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
