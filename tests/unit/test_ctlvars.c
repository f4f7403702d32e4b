/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/ctlvars.c: the mode-6 name=value list parser and formatter, and the
 * unit table (ms, ppm, hex timestamps), with table cases and seeded round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ntk/ctlvars.h"
#include "ntk/err.h"
#include "ntk/ntime.h"
#include "testutil.h"

#include "poison.h"

static struct ntk_span S(const char *s) {
    return (struct ntk_span){s, strlen(s)};
}

/* NTPsec 1.2.2's answer to `ntpq -c rv` (tests/data/mode6.tsv frame 2). */
static const char rv_text[] =
    "leap=0, stratum=5, precision=-24, rootdelay=0.000, rootdisp=0.000,\r\n"
    "refid=127.0.0.1, reftime=0x00000000.00000000, tc=0, peer=0,\r\n"
    "offset=0.000000, frequency=0.000000, sys_jitter=0.000000,\r\n"
    "clk_jitter=0.000060, clock=0xeeb22b9a.9ef41b6f, processor=\"x86_64\",\r\n"
    "system=\"Linux/6.18.44-fc-v669\", version=\"ntpd ntpsec-1.2.2\",\r\n"
    "clk_wander=0.000000, mintc=0\r\n";

/* One expected item: name, value as written (between quotes if quoted). */
struct want {
    const char *name;
    const char *value; /* NULL for a bare name */
    bool quoted;
};

static void expect_items(const char *text, size_t len, const struct want *w, size_t n)
{
    struct ntk_cvar_it it;
    struct ntk_cvar_item item;
    ntk_cvar_init(&it, text, len);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(ntk_cvar_next(&it, &item), 1);
        assert_int_equal(item.name.len, strlen(w[i].name));
        assert_memory_equal(item.name.p, w[i].name, item.name.len);
        assert_int_equal(item.has_value, w[i].value != NULL);
        assert_int_equal(item.quoted, w[i].quoted);
        if (w[i].value != NULL) {
            assert_int_equal(item.value.len, strlen(w[i].value));
            assert_memory_equal(item.value.p, w[i].value, item.value.len);
        }
    }
    assert_int_equal(ntk_cvar_next(&it, &item), 0);
    assert_int_equal(ntk_cvar_next(&it, &item), 0);
}

static void parse_ntpsec_rv(void **state)
{
    (void)state;
    static const struct want w[] = {
        {"leap", "0", false},
        {"stratum", "5", false},
        {"precision", "-24", false},
        {"rootdelay", "0.000", false},
        {"rootdisp", "0.000", false},
        {"refid", "127.0.0.1", false},
        {"reftime", "0x00000000.00000000", false},
        {"tc", "0", false},
        {"peer", "0", false},
        {"offset", "0.000000", false},
        {"frequency", "0.000000", false},
        {"sys_jitter", "0.000000", false},
        {"clk_jitter", "0.000060", false},
        {"clock", "0xeeb22b9a.9ef41b6f", false},
        {"processor", "x86_64", true},
        {"system", "Linux/6.18.44-fc-v669", true},
        {"version", "ntpd ntpsec-1.2.2", true},
        {"clk_wander", "0.000000", false},
        {"mintc", "0", false},
    };
    expect_items(rv_text, sizeof rv_text - 1, w, sizeof w / sizeof w[0]);
}

static void parse_syntax(void **state)
{
    (void)state;
    static const struct want w1[] = {{"a", "1", false}, {"b", "x, y", true}, {"c", "", false}};
    const char t1[] = "a=1,b=\"x, y\",c=";
    expect_items(t1, sizeof t1 - 1, w1, 3);
    static const struct want w2[] = {{"a", "1", false}, {"b", "2 3", false}};
    const char t2[] = "  a = 1 ,\r\n\tb=2 3\r\n,";
    expect_items(t2, sizeof t2 - 1, w2, 2);
    static const struct want w3[] = {{"ss_uptime", NULL, false},
                                     {"ss_numctlreq", NULL, false}};
    const char t3[] = "ss_uptime,ss_numctlreq";
    expect_items(t3, sizeof t3 - 1, w3, 2);
    static const struct want w4[] = {{"n", "q\\\"uote\\\\", true}, {"x", "", true}};
    const char t4[] = "n=\"q\\\"uote\\\\\" , x=\"\"";
    expect_items(t4, sizeof t4 - 1, w4, 2);
    static const struct want w5[] = {{"addr.0", "127.0.0.3:47533", false},
                                     {"last.12", "0xeeb22b97.7a25f05d", false},
                                     {"bcast.0", "", false}};
    const char t5[] =
        "addr.0=127.0.0.3:47533, last.12=0xeeb22b97.7a25f05d,\r\nbcast.0=\r\n\0\0";
    expect_items(t5, sizeof t5 - 1, w5, 3);
    static const struct want w6[] = {{"k", "a=b", false}};
    expect_items("k=a=b", 5, w6, 1);
    expect_items("", 0, NULL, 0);
    expect_items(" \r\n\0", 4, NULL, 0);
    /* Binary garbage in an unquoted value passes through (NTPsec's filtdelay lists). */
    static const struct want w7[] = {{"filtdelay", "0.04 0.\x8f+\xb2\xee 0.00", false}};
    const char t7[] = "filtdelay= 0.04 0.\x8f+\xb2\xee 0.00,\r\n";
    expect_items(t7, sizeof t7 - 1, w7, 1);

    char dst[16];
    struct ntk_cvar_item item;
    assert_int_equal(ntk_cvar_find(t4, sizeof t4 - 1, "n", &item), NTK_OK);
    assert_int_equal(ntk_cvar_unquote(&item, dst, sizeof dst), 7);
    assert_string_equal(dst, "q\"uote\\");
    assert_int_equal(ntk_cvar_unquote(&item, dst, 7), NTK_ENOSPC);
    assert_string_equal(dst, "");
    assert_int_equal(ntk_cvar_find(t1, sizeof t1 - 1, "c", &item), NTK_OK);
    assert_int_equal(ntk_cvar_unquote(&item, dst, 1), 0);
}

struct bad {
    const char *text;
    int err;
};

static void parse_errors(void **state)
{
    (void)state;
    static const struct bad cases[] = {
        {",a=1", NTK_EFORMAT},    {"=1", NTK_EFORMAT},       {"a b=1", NTK_EFORMAT},
        {"a=x\"y", NTK_EFORMAT},  {"a=\"x\"y", NTK_EFORMAT}, {"a=\"xy", NTK_ETRUNC},
        {"a=\"xy\\", NTK_ETRUNC}, {"a\"=1", NTK_EFORMAT},    {"a=1,,b=2", NTK_EFORMAT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ntk_cvar_it it;
        struct ntk_cvar_item item;
        ntk_cvar_init(&it, cases[i].text, strlen(cases[i].text));
        int rc;
        while ((rc = ntk_cvar_next(&it, &item)) == 1) {
        }
        if (rc != cases[i].err) {
            fail_msg("'%s': got %d want %d", cases[i].text, rc, cases[i].err);
        }
        assert_int_equal(ntk_cvar_next(&it, &item), cases[i].err); /* sticky */
    }
    /* Lengths: names up to 64, values up to 1024 bytes (quoted or not). */
    static char text[3000];
    struct ntk_cvar_item item;
    for (size_t n = 63; n <= 65; n++) {
        memset(text, 'n', n);
        memcpy(text + n, "=1", 3);
        assert_int_equal(ntk_cvar_find(text, n + 2, "x", &item),
                         n <= NTK_CVAR_NAME_MAX ? NTK_ENOTFOUND : NTK_ERANGE);
    }
    for (size_t n = 1023; n <= 1025; n++) {
        memcpy(text, "v=", 2);
        memset(text + 2, 'x', n);
        int want = n <= NTK_CVAR_VALUE_MAX ? NTK_ENOTFOUND : NTK_ERANGE;
        assert_int_equal(ntk_cvar_find(text, n + 2, "x", &item), want);
        memcpy(text, "v=\"", 3);
        memset(text + 3, 'x', n);
        text[3 + n] = '"';
        assert_int_equal(ntk_cvar_find(text, n + 4, "x", &item), want);
    }
    assert_int_equal(ntk_cvar_find(rv_text, sizeof rv_text - 1, "nosuch", &item),
                     NTK_ENOTFOUND);
    assert_int_equal(ntk_cvar_find("a=\"x", 4, "b", &item), NTK_ETRUNC);
    assert_int_equal(ntk_cvar_find("b=1, a=\"x", 9, "b", &item), NTK_OK);
    /* Every cut inside a quoted value is an unterminated quote. */
    const char q[] = "system=\"Linux/6.18, x\", version=1";
    for (size_t cut = 8; cut < 22; cut++) {
        assert_int_equal(ntk_cvar_find(q, cut, "zz", &item), NTK_ETRUNC);
    }
}

/* ---- units -------------------------------------------------------------------------- */

static void unit_table(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum ntk_cvar_unit unit;
        int decimals;
    } cases[] = {
        {"rootdelay", NTK_CVAR_MS, 3},
        {"rootdisp", NTK_CVAR_MS, 3},
        {"offset", NTK_CVAR_MS, 6},
        {"sys_jitter", NTK_CVAR_MS, 6},
        {"clk_jitter", NTK_CVAR_MS, 6},
        {"delay", NTK_CVAR_MS, 6},
        {"jitter", NTK_CVAR_MS, 6},
        {"dispersion", NTK_CVAR_MS, 6},
        {"frequency", NTK_CVAR_PPM, 6},
        {"clk_wander", NTK_CVAR_PPM, 6},
        {"filtdelay", NTK_CVAR_MS_LIST, 2},
        {"filtdisp", NTK_CVAR_MS_LIST, 2},
        {"reftime", NTK_CVAR_TS, 0},
        {"last.12", NTK_CVAR_TS, 0},
        {"first.0", NTK_CVAR_TS, 0},
        {"last.newest", NTK_CVAR_TS, 0},
        {"now", NTK_CVAR_TS, 0},
        {"addr.0", NTK_CVAR_RAW, 0},
        {"sc.3", NTK_CVAR_RAW, 0},
        {"offsetx", NTK_CVAR_RAW, 0},
        {"stratum", NTK_CVAR_RAW, 0},
        {"last.", NTK_CVAR_RAW, 0},
        {"offset.x1", NTK_CVAR_RAW, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int decimals = -1;
        assert_int_equal(ntk_cvar_unit_of(S(cases[i].name), &decimals), cases[i].unit);
        assert_int_equal(decimals, cases[i].decimals);
    }
    assert_int_equal(ntk_cvar_unit_of(S("delay"), NULL), NTK_CVAR_MS);
}

static bool close_to(double a, double b)
{
    double d = a - b, m = (a < 0 ? -a : a) + (b < 0 ? -b : b);
    return (d < 0 ? -d : d) <= m * 1e-15;
}

static void numbers(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        double v;
    } ok[] = {
        {"0.042335", 0.042335},
        {"-24", -24.0},
        {"1.5e-05", 1.5e-05},
        {"16000.00", 16000.0},
        {"+1", 1.0},
        {".5", 0.5},
        {"5.", 5.0},
        {"-0.001404", -0.001404},
        {"1E3", 1000.0},
        {"187.526793", 187.526793},
        {"12345678901234567890123", 1.2345678901234568e22},
        {"0.000000000000000000000000001", 1e-27},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        double v = -999;
        assert_int_equal(ntk_cvar_parse_double(S(ok[i].text), &v), NTK_OK);
        if (!close_to(v, ok[i].v)) {
            fail_msg("%s: got %.17g", ok[i].text, v);
        }
    }
    double v = 7;
    /* Short decimals with up to 15 digits convert exactly (one rounding). */
    assert_int_equal(ntk_cvar_parse_double(S("0.042335"), &v), NTK_OK);
    assert_true(v == 0.042335);
    static const char *const bad[] = {"",   "-",  ".",    "1e",  "1.2.3", "abc",
                                      " 1", "1 ", "0x10", "1e+", "--1",   "nan"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 7;
        assert_int_equal(ntk_cvar_parse_double(S(bad[i]), &v), NTK_EFORMAT);
        assert_true(v == 7);
    }
    assert_int_equal(ntk_cvar_parse_double(S("1e999"), &v), NTK_ERANGE);
    assert_int_equal(ntk_cvar_parse_double(S("0e999"), &v), NTK_OK);
    assert_true(v == 0);

    assert_int_equal(ntk_cvar_parse_ms(S("0.042335"), &v), NTK_OK);
    assert_true(close_to(v, 42.335e-6));
    assert_int_equal(ntk_cvar_parse_ppm(S("-12.5"), &v), NTK_OK);
    assert_true(v == -12.5);

    uint64_t u = 0;
    assert_int_equal(ntk_cvar_parse_u64(S("0x1000"), &u, UINT64_MAX), NTK_OK);
    assert_int_equal(u, 4096);
    assert_int_equal(ntk_cvar_parse_u64(S("52935"), &u, UINT64_MAX), NTK_OK);
    assert_int_equal(u, 52935);
    assert_int_equal(ntk_cvar_parse_u64(S("0x"), &u, UINT64_MAX), NTK_EFORMAT);
    assert_int_equal(ntk_cvar_parse_u64(S("0x1g"), &u, UINT64_MAX), NTK_EFORMAT);
    assert_int_equal(ntk_cvar_parse_u64(S("0x10000000000000000"), &u, UINT64_MAX), NTK_ERANGE);
    assert_int_equal(ntk_cvar_parse_u64(S("0x100"), &u, 255), NTK_ERANGE);
    assert_int_equal(ntk_cvar_parse_u64(S("256"), &u, 255), NTK_ERANGE);
    int64_t i64 = 0;
    assert_int_equal(ntk_cvar_parse_i64(S("-1"), &i64, INT64_MIN, INT64_MAX), NTK_OK);
    assert_int_equal(i64, -1);
    assert_int_equal(ntk_cvar_parse_i64(S("-9223372036854775808"), &i64, INT64_MIN, 0),
                     NTK_OK);
    assert_true(i64 == INT64_MIN);
    assert_int_equal(ntk_cvar_parse_i64(S("9223372036854775808"), &i64, INT64_MIN, INT64_MAX),
                     NTK_ERANGE);
    assert_int_equal(ntk_cvar_parse_i64(S("-31"), &i64, -30, 30), NTK_ERANGE);
    assert_int_equal(ntk_cvar_parse_i64(S(""), &i64, -30, 30), NTK_EFORMAT);
    assert_int_equal(ntk_cvar_parse_i64(S("-"), &i64, -30, 30), NTK_EFORMAT);

    ntk_ts ts = ntk_ts_make(1, 2);
    assert_int_equal(ntk_cvar_parse_ts(S("0xeeb22b9a.9ef41b6f"), &ts), NTK_OK);
    assert_int_equal(ntk_ts_sec(ts), 0xeeb22b9a);
    assert_int_equal(ntk_ts_frac(ts), 0x9ef41b6f);
    assert_int_equal(ntk_cvar_parse_ts(S("eeb22b9a.9ef41b6f"), &ts), NTK_EFORMAT);
    assert_int_equal(ntk_cvar_parse_ts(S("0x"), &ts), NTK_EFORMAT);
    assert_int_equal(ntk_cvar_parse_ts(S("0xeeb22b9a.9ef41b6g"), &ts), NTK_EFORMAT);

    double list[8];
    assert_int_equal(ntk_cvar_parse_ms_list(S(" 0.04 0.04 0.03 16000.00"), list, 8), 4);
    assert_true(close_to(list[1], 4e-5));
    assert_true(close_to(list[3], 16.0));
    assert_int_equal(ntk_cvar_parse_ms_list(S(" 0.04 0.04 0.03"), list, 2), NTK_ERANGE);
    assert_int_equal(ntk_cvar_parse_ms_list(S(" 0.04 0.\x04 0.00"), list, 8), NTK_EFORMAT);
    assert_int_equal(ntk_cvar_parse_ms_list(S(""), list, 8), 0);
}

static void get_by_unit(void **state)
{
    (void)state;
    const char t[] = "offset=0.010123, frequency=-3.5, stratum=2, flash=0x1000, "
                     "reftime=0x00000000.00000000, filtdelay= 0.04, version=\"4\", peer";
    static const struct {
        const char *name;
        int rc;
        double v;
    } cases[] = {
        {"offset", NTK_OK, 10.123e-6}, {"frequency", NTK_OK, -3.5},
        {"stratum", NTK_OK, 2},        {"flash", NTK_OK, 4096},
        {"reftime", NTK_EINVAL, 0},    {"filtdelay", NTK_EINVAL, 0},
        {"version", NTK_EINVAL, 0},    {"peer", NTK_EINVAL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ntk_cvar_item item;
        assert_int_equal(ntk_cvar_find(t, sizeof t - 1, cases[i].name, &item), NTK_OK);
        double v = 0;
        assert_int_equal(ntk_cvar_get(&item, &v), cases[i].rc);
        assert_true(close_to(v, cases[i].v));
    }
}

/* ---- formatting --------------------------------------------------------------------- */

/* Our formatter writes NTPsec's rv answer byte for byte from typed values. */
static void format_ntpsec_rv(void **state)
{
    (void)state;
    char buf[1024];
    struct ntk_sb sb;
    struct ntk_cvar_wr w;
    ntk_sb_init(&sb, buf, sizeof buf);
    ntk_cvar_wr_init(&w, &sb);
    ntk_cvar_put_u64(&w, "leap", 0);
    ntk_cvar_put_u64(&w, "stratum", 5);
    ntk_cvar_put_i64(&w, "precision", -24);
    ntk_cvar_put(&w, "rootdelay", 0.0);
    ntk_cvar_put(&w, "rootdisp", 0.0);
    ntk_cvar_put_raw(&w, "refid", "127.0.0.1", 9);
    ntk_cvar_put_ts(&w, "reftime", ntk_ts_make(0, 0));
    ntk_cvar_put_u64(&w, "tc", 0);
    ntk_cvar_put_u64(&w, "peer", 0);
    ntk_cvar_put(&w, "offset", 0.0);
    ntk_cvar_put(&w, "frequency", 0.0);
    ntk_cvar_put(&w, "sys_jitter", 0.0);
    ntk_cvar_put(&w, "clk_jitter", 60e-9);
    ntk_cvar_put_ts(&w, "clock", ntk_ts_make(0xeeb22b9a, 0x9ef41b6f));
    ntk_cvar_put_str(&w, "processor", "x86_64", 6);
    ntk_cvar_put_str(&w, "system", "Linux/6.18.44-fc-v669", 21);
    ntk_cvar_put_str(&w, "version", "ntpd ntpsec-1.2.2", 17);
    ntk_cvar_put_ppm(&w, "clk_wander", 0.0, 6);
    ntk_cvar_put_u64(&w, "mintc", 0);
    assert_int_equal(ntk_cvar_finish(&w), NTK_OK);
    assert_string_equal(buf, rv_text);
}

static void format_rejects(void **state)
{
    (void)state;
    char buf[64];
    struct ntk_sb sb;
    struct ntk_cvar_wr w;
    static const char *const bad_names[] = {
        "",
        "a b",
        "a,b",
        "a=b",
        "a\"b",
        "a\r",
        "12345678901234567890123456789012345678901234567890123456789012345"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        ntk_sb_init(&sb, buf, sizeof buf);
        ntk_cvar_wr_init(&w, &sb);
        ntk_cvar_put_u64(&w, bad_names[i], 1);
        assert_int_equal(ntk_cvar_wr_err(&w), NTK_EINVAL);
        assert_int_equal(ntk_sb_len(&sb), 0);
        ntk_cvar_put_u64(&w, "ok", 1); /* sticky: nothing more */
        assert_int_equal(ntk_cvar_finish(&w), NTK_EINVAL);
        assert_int_equal(ntk_sb_len(&sb), 0);
    }
    static const char *const bad_raw[] = {"a,b", "a\"b", " a", "a ", "a\r\n", "a\0"};
    for (size_t i = 0; i < sizeof bad_raw / sizeof bad_raw[0]; i++) {
        ntk_sb_init(&sb, buf, sizeof buf);
        ntk_cvar_wr_init(&w, &sb);
        size_t n = strlen(bad_raw[i]) + (i == 5);
        ntk_cvar_put_raw(&w, "x", bad_raw[i], n);
        assert_int_equal(ntk_cvar_wr_err(&w), NTK_EINVAL);
    }
    static char big[NTK_CVAR_VALUE_MAX + 1];
    memset(big, 'x', sizeof big);
    ntk_sb_init(&sb, buf, sizeof buf);
    ntk_cvar_wr_init(&w, &sb);
    ntk_cvar_put_raw(&w, "x", big, sizeof big);
    assert_int_equal(ntk_cvar_wr_err(&w), NTK_ERANGE);
    memset(big, '"', sizeof big);
    ntk_cvar_wr_init(&w, &sb);
    ntk_cvar_put_str(&w, "x", big, NTK_CVAR_VALUE_MAX / 2 + 1);
    assert_int_equal(ntk_cvar_wr_err(&w), NTK_ERANGE);
    ntk_cvar_wr_init(&w, &sb);
    ntk_cvar_put(&w, "reftime", 1.0);
    assert_int_equal(ntk_cvar_wr_err(&w), NTK_EINVAL);
    /* The builder overflowing shows at the end. */
    ntk_sb_init(&sb, buf, 16);
    ntk_cvar_wr_init(&w, &sb);
    ntk_cvar_put_str(&w, "version", "ntpd ntpsec-1.2.2", 17);
    assert_int_equal(ntk_cvar_finish(&w), NTK_ENOSPC);
    /* Lists and hex. */
    ntk_sb_init(&sb, buf, sizeof buf);
    ntk_cvar_wr_init(&w, &sb);
    const double filt[3] = {40e-6, 16.0, 0.0};
    ntk_cvar_put_ms_list(&w, "filtdelay", filt, 3);
    ntk_cvar_put_hex(&w, "flash", 0x1000);
    ntk_cvar_put_name(&w, "peer");
    assert_int_equal(ntk_cvar_finish(&w), NTK_OK);
    assert_string_equal(buf, "filtdelay= 0.04 16000.00 0.00, flash=0x1000, peer\r\n");
}

/* A random name: letters, digits, '_', '.', '-', ':' (1..20 bytes). */
static size_t random_name(char *out)
{
    static const char set[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-:";
    size_t n = 1 + (size_t)(tu_rand() % 20);
    for (size_t i = 0; i < n; i++) {
        out[i] = set[tu_rand() % (sizeof set - 1)];
    }
    out[n] = '\0';
    return n;
}

/* A random value: any byte when quoted; no ',' '"' and no whitespace at the ends when not. */
static size_t random_value(char *out, bool quoted)
{
    size_t n = (size_t)(tu_rand() % 40);
    static const char special[] = ",\"\\ \r\n\t=";
    for (size_t i = 0; i < n; i++) {
        uint64_t r = tu_rand();
        char c = r % 3 == 0 ? special[(r >> 8) % (sizeof special - 1)] : (char)(r >> 16);
        if (!quoted) {
            while (c == ',' || c == '"') {
                c = (char)(tu_rand() & 0x7f);
            }
        }
        out[i] = c;
    }
    if (!quoted) {
        while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t' || out[n - 1] == '\r' ||
                         out[n - 1] == '\n' || out[n - 1] == '\0')) {
            n--;
        }
        size_t skip = 0;
        while (skip < n && (out[skip] == ' ' || out[skip] == '\t' || out[skip] == '\r' ||
                            out[skip] == '\n' || out[skip] == '\0')) {
            skip++;
        }
        memmove(out, out + skip, n - skip);
        n -= skip;
    }
    return n;
}

/* format -> parse gives back every name, kind and (unquoted) value; lines stay under 72
 * columns unless one item is longer. */
static void format_parse_roundtrip(void **state)
{
    (void)state;
    enum { ITEMS = 30 };
    static char text[ITEMS * 200];
    char names[ITEMS][24], values[ITEMS][48];
    size_t vlen[ITEMS];
    int kind[ITEMS]; /* 0 bare, 1 raw, 2 quoted */
    tu_seed();
    for (int iter = 0; iter < 2000; iter++) {
        struct ntk_sb sb;
        struct ntk_cvar_wr w;
        ntk_sb_init(&sb, text, sizeof text);
        ntk_cvar_wr_init(&w, &sb);
        size_t n = (size_t)(tu_rand() % ITEMS);
        for (size_t i = 0; i < n; i++) {
            random_name(names[i]);
            kind[i] = (int)(tu_rand() % 3);
            vlen[i] = random_value(values[i], kind[i] == 2);
            if (kind[i] == 0) {
                ntk_cvar_put_name(&w, names[i]);
            } else if (kind[i] == 1) {
                ntk_cvar_put_raw(&w, names[i], values[i], vlen[i]);
            } else {
                ntk_cvar_put_str(&w, names[i], values[i], vlen[i]);
            }
        }
        assert_int_equal(ntk_cvar_finish(&w), NTK_OK);
        struct ntk_cvar_it it;
        struct ntk_cvar_item item;
        ntk_cvar_init(&it, text, ntk_sb_len(&sb));
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(ntk_cvar_next(&it, &item), 1);
            assert_true(ntk_span_eq(item.name, names[i]));
            assert_int_equal(item.has_value, kind[i] != 0);
            assert_int_equal(item.quoted, kind[i] == 2);
            char got[64];
            int len = ntk_cvar_unquote(&item, got, sizeof got);
            assert_int_equal(len, kind[i] ? (int)vlen[i] : 0);
            assert_memory_equal(got, values[i], kind[i] ? vlen[i] : 0);
        }
        assert_int_equal(ntk_cvar_next(&it, &item), 0);
        /* NTPsec's line rule: a line, with its trailing ',', never passes 72 columns while
         * items are short. */
        if (iter % 10 == 0) {
            struct ntk_cvar_wr w2;
            ntk_sb_init(&sb, text, sizeof text);
            ntk_cvar_wr_init(&w2, &sb);
            for (size_t i = 0; i < n; i++) {
                ntk_cvar_put_u64(&w2, names[i], tu_rand() >> (tu_rand() % 64));
            }
            assert_int_equal(ntk_cvar_finish(&w2), NTK_OK);
            const char *line = text;
            for (const char *e; (e = strstr(line, "\r\n")) != NULL; line = e + 2) {
                assert_true(e - line <= NTK_CVAR_LINE_MAX);
            }
        }
    }
}

/* Seconds -> ms text -> seconds -> ms text is stable for NTPsec's magnitudes and decimals. */
static void ms_roundtrip(void **state)
{
    (void)state;
    tu_seed();
    for (int iter = 0; iter < 20000; iter++) {
        /* |s| < 1024 s with up to 6 decimals of ms: at most 13 significant digits, so the
         * text identifies one double and rounding twice cannot change it. */
        double s = (double)(int64_t)tu_rand() / 9.2e18 * (double)(1u << (tu_rand() % 11));
        int decimals = (int)(tu_rand() % 7);
        char a[128], b[128];
        struct ntk_sb sa, sbb;
        struct ntk_cvar_wr w;
        ntk_sb_init(&sa, a, sizeof a);
        ntk_cvar_wr_init(&w, &sa);
        ntk_cvar_put_ms(&w, "offset", s, decimals);
        assert_int_equal(ntk_cvar_wr_err(&w), NTK_OK);
        struct ntk_cvar_item item;
        assert_int_equal(ntk_cvar_find(a, ntk_sb_len(&sa), "offset", &item), NTK_OK);
        double back;
        assert_int_equal(ntk_cvar_get(&item, &back), NTK_OK);
        ntk_sb_init(&sbb, b, sizeof b);
        ntk_cvar_wr_init(&w, &sbb);
        ntk_cvar_put_ms(&w, "offset", back, decimals);
        assert_string_equal(a, b);
    }
}

/* What NTPsec 1.2.2 sent for a new association (captured from its ntpd, 2026-11-26): stray
 * bytes, a '"' among them, in its filter arrays. Resyncing skips exactly those items. */
static const char ntpsec_stray[] =
    "srcadr=127.0.0.1, srcport=123, stratum=2, reach=0x1,\r\n"
    "keyid=0, filtdelay= 0.00 0.\"\x1e\xb3\xee 0.04 0.04 0.03 0.00,\r\n"
    "filtoffset= 0.00 0.\"\x1e\xb3\xee 0.04 0.01 0.00,\r\npmode=4,\r\n"
    "filtdisp= 0.00 0.\"\x1e\xb3\xee 0.04 0\x04 0.00 16000.00,\r\n"
    "flash=0x400, headway=62, ntscookies=-1\r\n";

static void resync_skips_bad_items(void **state)
{
    (void)state;
    const char *want[] = {"srcadr", "srcport", "stratum", "reach",     "keyid",
                          "pmode",  "flash",   "headway", "ntscookies"};
    struct ntk_cvar_it it;
    struct ntk_cvar_item item;
    size_t n = 0, bad = 0;
    int rc;
    ntk_cvar_init(&it, ntpsec_stray, sizeof ntpsec_stray - 1);
    while ((rc = ntk_cvar_next(&it, &item)) != 0) {
        if (rc < 0) {
            assert_int_equal(rc, NTK_EFORMAT);
            bad++;
            ntk_cvar_resync(&it);
            continue;
        }
        assert_true(n < sizeof want / sizeof want[0]);
        assert_true(ntk_span_eq(item.name, want[n]));
        n++;
    }
    assert_int_equal(n, sizeof want / sizeof want[0]);
    assert_int_equal(bad, 3);
    /* Without resync the first error sticks, as before. */
    ntk_cvar_init(&it, ntpsec_stray, sizeof ntpsec_stray - 1);
    while ((rc = ntk_cvar_next(&it, &item)) == 1) {
    }
    assert_int_equal(rc, NTK_EFORMAT);
    assert_int_equal(ntk_cvar_next(&it, &item), NTK_EFORMAT);
    /* At the end, or on an error at the very end, resync stops and the list ends. */
    ntk_cvar_init(&it, "a=\"open", 7);
    assert_int_equal(ntk_cvar_next(&it, &item), NTK_ETRUNC);
    ntk_cvar_resync(&it);
    assert_int_equal(ntk_cvar_next(&it, &item), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_ntpsec_rv),
        cmocka_unit_test(parse_syntax),
        cmocka_unit_test(parse_errors),
        cmocka_unit_test(unit_table),
        cmocka_unit_test(numbers),
        cmocka_unit_test(get_by_unit),
        cmocka_unit_test(format_ntpsec_rv),
        cmocka_unit_test(format_rejects),
        cmocka_unit_test(format_parse_roundtrip),
        cmocka_unit_test(ms_roundtrip),
        cmocka_unit_test(resync_skips_bad_items),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
