/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/refid.c: refids from addresses and codes, and display as NTPsec shows
 * them, checked on the refids of the real captures in tests/data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include "ntk/addr.h"
#include "ntk/err.h"
#include "ntk/refid.h"
#include "testutil.h"
#include "tsv.h"

#include "poison.h"

static const char *show(uint32_t refid, unsigned stratum, unsigned flags,
                        char buf[NTK_REFID_STRMAX])
{
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, NTK_REFID_STRMAX);
    ntk_refid_format(refid, stratum, flags, &sb);
    assert_int_equal(ntk_sb_err(&sb), 0);
    return buf;
}

static void from_ipv4_and_code(void **state)
{
    (void)state;
    const uint8_t ip[4] = {127, 0, 0, 1};
    assert_int_equal(ntk_refid_from_ipv4(ip), 0x7f000001);
    uint32_t r = 0;
    assert_int_equal(ntk_refid_from_code("RATE", &r), 0);
    assert_int_equal(r, 0x52415445);
    assert_int_equal(r, NTK_REFID_CODE('R', 'A', 'T', 'E'));
    assert_int_equal(ntk_refid_from_code("GPS", &r), 0);
    assert_int_equal(r, 0x47505300);
    assert_int_equal(r, NTK_REFID_CODE('G', 'P', 'S', 0));
    assert_int_equal(ntk_refid_from_code("X", &r), 0);
    assert_int_equal(r, 0x58000000);
    r = 1234;
    assert_int_equal(ntk_refid_from_code("", &r), NTK_EINVAL);
    assert_int_equal(ntk_refid_from_code("TOOLONG", &r), NTK_EINVAL);
    assert_int_equal(ntk_refid_from_code("A B", &r), NTK_EINVAL);
    assert_int_equal(ntk_refid_from_code("A,B", &r), NTK_EINVAL);
    assert_int_equal(ntk_refid_from_code("\x01", &r), NTK_EINVAL);
    assert_int_equal(ntk_refid_from_code("\xc3\xa9", &r), NTK_EINVAL);
    assert_int_equal(r, 1234); /* untouched on error */
}

struct v6_vector {
    const char *addr;
    uint32_t refid;   /* MD5(16 address bytes)[0..3], computed with Python's hashlib */
    const char *text; /* how NTPsec shows it at stratum 2..15 */
};

static const struct v6_vector v6_vectors[] = {
    /* MD5 of 16 zero bytes is the well-known 4ae71336e44bf9bf79d2752e234818a5 */
    {"::", 0x4ae71336, "74.231.19.54"},
    {"::1", 0xcf404dc8, "207.64.77.200"},
    {"2001:db8::1", 0x39ab9b37, "57.171.155.55"},
    {"fe80::1", 0x89e5301f, "137.229.48.31"},
};

static void from_ipv6_known_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof v6_vectors / sizeof v6_vectors[0]; i++) {
        struct ntk_addr a;
        char buf[NTK_REFID_STRMAX];
        struct ntk_span s = {v6_vectors[i].addr, strlen(v6_vectors[i].addr)};
        assert_int_equal(ntk_addr_parse_span(s, &a), 0);
        uint32_t r = 0;
        assert_int_equal(ntk_refid_from_ipv6(a.ip, &r), 0);
        assert_int_equal(r, v6_vectors[i].refid);
        assert_int_equal(ntk_refid_from_addr(&a, &r), 0);
        assert_int_equal(r, v6_vectors[i].refid);
        assert_string_equal(show(r, 2, NTK_REFID_FMT_RV, buf), v6_vectors[i].text);
        assert_string_equal(show(r, 3, NTK_REFID_FMT_PEERS, buf), v6_vectors[i].text);
    }
    struct ntk_addr a;
    uint32_t r = 99;
    memset(&a, 0, sizeof a);
    assert_int_equal(ntk_refid_from_addr(&a, &r), NTK_EINVAL);
    assert_int_equal(r, 99);
    const uint8_t ip[4] = {192, 0, 2, 1};
    ntk_addr_set_v4(&a, ip, 123);
    assert_int_equal(ntk_refid_from_addr(&a, &r), 0);
    assert_int_equal(r, 0xc0000201);
}

static void from_ipv6_matches_openssl_md5(void **state)
{
    (void)state;
    tu_seed();
    for (int iter = 0; iter < 2000; iter++) {
        uint8_t ip[16], md[EVP_MAX_MD_SIZE];
        size_t mdlen = 0;
        tu_fill(ip, sizeof ip);
        /* One-shot EVP_Q_digest: a different OpenSSL entry point from the library's. */
        assert_int_equal(EVP_Q_digest(NULL, "MD5", NULL, ip, sizeof ip, md, &mdlen), 1);
        assert_int_equal(mdlen, 16);
        uint32_t r = 0;
        assert_int_equal(ntk_refid_from_ipv6(ip, &r), 0);
        assert_int_equal(r, (uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 |
                                (uint32_t)md[2] << 8 | md[3]);
    }
}

static void text_rule_and_code_check(void **state)
{
    (void)state;
    assert_true(ntk_refid_is_text(0));
    assert_true(ntk_refid_is_text(1));
    for (unsigned s = 2; s <= 15; s++) {
        assert_false(ntk_refid_is_text(s));
    }
    assert_true(ntk_refid_is_text(16));
    assert_true(ntk_refid_is_text(255));

    assert_true(ntk_refid_is_code(0x52415445));  /* RATE */
    assert_true(ntk_refid_is_code(0x47505300));  /* GPS */
    assert_true(ntk_refid_is_code(0x58000000));  /* X */
    assert_true(ntk_refid_is_code(0x7e212121));  /* ~!!! */
    assert_false(ntk_refid_is_code(0));          /* empty */
    assert_false(ntk_refid_is_code(0x7f7f0101)); /* chrony's local refid */
    assert_false(ntk_refid_is_code(0x41004200)); /* A, NUL, B */
    assert_false(ntk_refid_is_code(0x20414243)); /* leading space */
    assert_false(ntk_refid_is_code(0x41424320)); /* trailing space */
    assert_false(ntk_refid_is_code(0x414243ff));
    assert_false(ntk_refid_is_code(0x412c4200)); /* A,B */
}

struct fmt_case {
    uint32_t refid;
    unsigned stratum;
    unsigned flags;
    const char *want;
};

static const struct fmt_case fmt_cases[] = {
    {0x52415445, 0, NTK_REFID_FMT_RV, "RATE"},
    {0x52415445, 0, NTK_REFID_FMT_PEERS, ".RATE."},
    {0x494e4954, 16, NTK_REFID_FMT_PEERS, ".INIT."},
    {0x494e4954, 16, NTK_REFID_FMT_RV, "INIT"},
    {0x47505300, 1, NTK_REFID_FMT_PEERS, ".GPS."},
    {0x47505300, 1, NTK_REFID_FMT_RV, "GPS"},
    {0x41004200, 1, NTK_REFID_FMT_RV, "A"}, /* stops at the first NUL, like ctl_putrefid */
    {0, 0, NTK_REFID_FMT_RV, ""},
    {0, 0, NTK_REFID_FMT_PEERS, ".."}, /* what ntpq's wrapping makes of an empty refid */
    {0, 2, NTK_REFID_FMT_PEERS, "0.0.0.0"},
    {0x7f000001, 2, NTK_REFID_FMT_PEERS, "127.0.0.1"},
    {0x7f000001, 15, NTK_REFID_FMT_RV, "127.0.0.1"},
    {0x52415445, 3, NTK_REFID_FMT_RV, "82.65.84.69"}, /* the stratum decides, not the bytes */
    {0x7f7f0101, 1, NTK_REFID_FMT_RV, "...."},
    {0x7f7f0101, 1, NTK_REFID_FMT_PEERS, "...."}, /* has dots already: not wrapped */
    {0x7f7f0101, 1, NTK_REFID_FMT_ESCAPE, "\\x7f\\x7f\\x01\\x01"},
    {0x7f7f0101, 1, NTK_REFID_FMT_ESCAPE | NTK_REFID_FMT_PEERS, ".\\x7f\\x7f\\x01\\x01."},
    {0x412c4220, 0, NTK_REFID_FMT_RV, "A.B."}, /* ',' and ' ' made harmless */
    {0x412c4220, 0, NTK_REFID_FMT_ESCAPE, "A\\x2cB\\x20"},
    {0x5c1b5b41, 0, NTK_REFID_FMT_RV, "\\.[A"},           /* ESC never reaches a terminal */
    {0x5c1b5b41, 0, NTK_REFID_FMT_ESCAPE, "\\\\\\x1b[A"}, /* and '\' escapes itself */
    {0xffffffff, 0, NTK_REFID_FMT_ESCAPE | NTK_REFID_FMT_PEERS,
     ".\\xff\\xff\\xff\\xff."},                   /* the longest text: 18 characters */
    {0x3a3a3a3a, 0, NTK_REFID_FMT_PEERS, "::::"}, /* has ':': ntpq does not wrap it */
};

static void format_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof fmt_cases / sizeof fmt_cases[0]; i++) {
        const struct fmt_case *c = &fmt_cases[i];
        char buf[NTK_REFID_STRMAX];
        show(c->refid, c->stratum, c->flags, buf);
        if (strcmp(buf, c->want) != 0) {
            fail_msg("%08x stratum %u flags %u: got \"%s\", want \"%s\"", (unsigned)c->refid,
                     c->stratum, c->flags, buf, c->want);
        }
    }
    /* A full builder reports the overflow. */
    char small[4];
    struct ntk_sb sb;
    ntk_sb_init(&sb, small, sizeof small);
    ntk_refid_format(0x7f000001, 2, NTK_REFID_FMT_RV, &sb);
    assert_int_equal(ntk_sb_err(&sb), NTK_ENOSPC);
    assert_string_equal(small, "127");
}

/* Every (refid, stratum) pair in the captures, with NTPsec's rv and peers text. */
struct capture_refid {
    uint32_t refid;
    unsigned stratum;
    const char *rv;
    const char *peers;
    unsigned seen;
};

static void format_capture_refids(void **state)
{
    (void)state;
    struct capture_refid known[] = {
        {0x00000000, 0, "", "..", 0},                     /* client requests */
        {0x7f7f0101, 1, "....", "....", 0},               /* chronyd "local stratum 1" */
        {0x7f7f0101, 2, "127.127.1.1", "127.127.1.1", 0}, /* NTPsec's rv shows this too */
        {0x7f000001, 2, "127.0.0.1", "127.0.0.1", 0},     /* chronyd B synced to A */
        {0x7f000001, 5, "127.0.0.1", "127.0.0.1", 0},     /* NTPsec synced to 127.0.0.1 */
        {0x52415445, 0, "RATE", ".RATE.", 0},             /* KoD RATE */
        {0x4e54534e, 0, "NTSN", ".NTSN.", 0},             /* NTS NAK */
    };
    static const char *const files[] = {
        "client-server-ntpsec", "kod",   "mode6", "nts-ntpsec-client", "nts",
        "sntp-chrony",          "symkey"};
    unsigned rows = 0;
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        struct tsv t;
        const char *col[TSV_MAX_COLS];
        tsv_open(&t, files[f]);
        int stratum_col = tsv_col(&t, "ntp.stratum"), refid_col = tsv_col(&t, "ntp.refid");
        while (tsv_next(&t, col)) {
            /* Mode-6 rows have no refid; NTP packets have 8 hex digits. */
            if (strlen(col[refid_col]) != 8) {
                continue;
            }
            uint32_t refid = (uint32_t)strtoul(col[refid_col], NULL, 16);
            unsigned stratum = (unsigned)strtoul(col[stratum_col], NULL, 10);
            size_t k = 0;
            while (k < sizeof known / sizeof known[0] &&
                   !(known[k].refid == refid && known[k].stratum == stratum)) {
                k++;
            }
            if (k == sizeof known / sizeof known[0]) {
                fail_msg("%s: refid %08x at stratum %u not in the table", files[f],
                         (unsigned)refid, stratum);
            }
            char buf[NTK_REFID_STRMAX];
            assert_string_equal(show(refid, stratum, NTK_REFID_FMT_RV, buf), known[k].rv);
            assert_string_equal(show(refid, stratum, NTK_REFID_FMT_PEERS, buf),
                                known[k].peers);
            known[k].seen++;
            rows++;
        }
        tsv_close(&t);
    }
    assert_true(rows > 100);
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) {
        assert_true(known[k].seen > 0);
    }
}

/* The refid text NTPsec's ntpd itself sent in the mode-6 capture, turned back into octets and
 * formatted again at the same stratum, must come out the same. */
static void format_matches_ntpsec_mode6(void **state)
{
    (void)state;
    struct tsv t;
    const char *col[TSV_MAX_COLS];
    tsv_open(&t, "mode6");
    int payload_col = tsv_col(&t, "udp.payload");
    unsigned checked = 0;
    while (tsv_next(&t, col)) {
        uint8_t pkt[1024];
        int n = tu_unhex(col[payload_col], pkt, sizeof pkt - 1);
        if (n <= 12) {
            continue;
        }
        pkt[n] = 0;
        const char *data = (const char *)pkt + 12; /* mode-6 header */
        const char *st = strstr(data, "stratum=");
        const char *rf = strstr(data, "refid=");
        if (!st || !rf) {
            continue;
        }
        unsigned stratum = (unsigned)strtoul(st + 8, NULL, 10);
        char ntpsec[32];
        size_t k = 0;
        for (rf += 6; rf[k] && rf[k] != ',' && rf[k] != '\r' && k < sizeof ntpsec - 1; k++) {
            ntpsec[k] = rf[k];
        }
        ntpsec[k] = '\0';
        uint32_t refid = 0;
        if (ntk_refid_is_text(stratum)) {
            assert_int_equal(ntk_refid_from_code(ntpsec, &refid), 0);
        } else {
            struct ntk_addr a;
            assert_int_equal(ntk_addr_parse_span((struct ntk_span){ntpsec, k}, &a), 0);
            refid = ntk_refid_from_ipv4(a.ip);
        }
        char buf[NTK_REFID_STRMAX];
        assert_string_equal(show(refid, stratum, NTK_REFID_FMT_RV, buf), ntpsec);
        checked++;
    }
    tsv_close(&t);
    assert_true(checked >= 4); /* sys 127.0.0.1, peer 127.127.1.1, SHM0 twice, ... */
}

static bool is_safe_text(const char *s)
{
    for (; *s; s++) {
        if (*s < 0x21 || *s > 0x7e || *s == ',') {
            return false;
        }
    }
    return true;
}

/* Undoes NTK_REFID_FMT_ESCAPE; returns the byte count or -1. */
static int unescape(const char *s, uint8_t out[4])
{
    int n = 0;
    while (*s) {
        if (n == 4) {
            return -1;
        }
        if (s[0] == '\\' && s[1] == '\\') {
            out[n++] = '\\';
            s += 2;
        } else if (s[0] == '\\' && s[1] == 'x') {
            char two[3] = {s[2], s[3], 0};
            out[n++] = (uint8_t)strtoul(two, NULL, 16);
            s += 4;
        } else {
            out[n++] = (uint8_t)*s++;
        }
    }
    return n;
}

static void format_is_safe_and_escape_lossless(void **state)
{
    (void)state;
    tu_seed();
    for (int iter = 0; iter < 50000; iter++) {
        uint32_t refid = (uint32_t)tu_rand();
        if (tu_rand() % 4 == 0) {
            refid &= 0xffffff00u << (8 * (tu_rand() % 4)); /* NUL padding */
        }
        unsigned stratum = (unsigned)(tu_rand() % 20);
        unsigned flags = (unsigned)(tu_rand() % 4);
        char buf[NTK_REFID_STRMAX];
        show(refid, stratum, flags, buf);
        assert_true(strlen(buf) < NTK_REFID_STRMAX);
        assert_true(is_safe_text(buf));
        if (!ntk_refid_is_text(stratum)) {
            continue;
        }
        uint8_t b[4] = {(uint8_t)(refid >> 24), (uint8_t)(refid >> 16), (uint8_t)(refid >> 8),
                        (uint8_t)refid};
        int want = 0;
        while (want < 4 && b[want]) {
            want++;
        }
        show(refid, stratum, NTK_REFID_FMT_ESCAPE, buf);
        uint8_t back[4];
        assert_int_equal(unescape(buf, back), want);
        assert_memory_equal(back, b, (size_t)want);
        /* A well-formed code shows as itself. */
        if (ntk_refid_is_code(refid)) {
            show(refid, stratum, NTK_REFID_FMT_RV, buf);
            assert_int_equal(strlen(buf), (size_t)want);
            assert_memory_equal(buf, b, (size_t)want);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(from_ipv4_and_code),
        cmocka_unit_test(from_ipv6_known_vectors),
        cmocka_unit_test(from_ipv6_matches_openssl_md5),
        cmocka_unit_test(text_rule_and_code_check),
        cmocka_unit_test(format_table),
        cmocka_unit_test(format_capture_refids),
        cmocka_unit_test(format_matches_ntpsec_mode6),
        cmocka_unit_test(format_is_safe_and_escape_lossless),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
