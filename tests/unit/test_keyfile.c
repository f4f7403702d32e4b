/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/keyfile.c: NTPsec keys-file syntax, every diagnostic with its line and
 * column, the writer, and parse/write round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ntk/err.h"
#include "ntk/keyfile.h"
#include "ntk/mac.h"
#include "ntk/sb.h"
#include "testutil.h"

#include "poison.h"

enum { MAXK = 64, MAXD = 32 };

/* A parse with room for MAXK keys and MAXD diagnostics. */
struct run {
    struct ntk_mac_key keys[MAXK];
    struct ntk_keyfile_diag diags[MAXD];
    struct ntk_keyfile kf;
    int rc;
};

static void parse_text(struct run *r, const char *text)
{
    ntk_keyfile_init(&r->kf, r->keys, MAXK, r->diags, MAXD);
    r->rc = ntk_keyfile_parse(&r->kf, text, strlen(text));
}

/* Parses a one-key text that must give exactly one key and no diagnostic. */
static const struct ntk_mac_key *parse_one(struct run *r, const char *text)
{
    parse_text(r, text);
    if (r->rc != NTK_OK || r->kf.nkeys != 1 || r->kf.ndiags != 0) {
        fail_msg("\"%s\": rc %d, %zu keys, %zu diags (%s)", text, r->rc, r->kf.nkeys,
                 r->kf.ndiags, r->kf.ndiags ? r->diags[0].msg : "-");
    }
    return &r->keys[0];
}

static void assert_secret(const struct ntk_mac_key *k, const void *want, size_t n)
{
    assert_int_equal(k->secret_len, n);
    assert_memory_equal(k->secret, want, n);
    for (size_t i = n; i < NTK_MAC_SECRET_MAX; i++) {
        assert_int_equal(k->secret[i], 0);
    }
}

static void every_type_alias(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum ntk_mac_type type;
    } cases[] = {
        {"MD5", NTK_MAC_MD5},
        {"md5", NTK_MAC_MD5},
        {"Md5", NTK_MAC_MD5},
        {"M", NTK_MAC_MD5},
        {"m", NTK_MAC_MD5},
        {"SHA1", NTK_MAC_SHA1},
        {"sha1", NTK_MAC_SHA1},
        {"SHA-1", NTK_MAC_SHA1},
        {"sha-1", NTK_MAC_SHA1},
        {"SHA224", NTK_MAC_SHA224},
        {"SHA-224", NTK_MAC_SHA224},
        {"sha2-224", NTK_MAC_SHA224},
        {"SHA256", NTK_MAC_SHA256},
        {"SHA-256", NTK_MAC_SHA256},
        {"SHA2-256", NTK_MAC_SHA256},
        {"SHA384", NTK_MAC_SHA384},
        {"SHA-384", NTK_MAC_SHA384},
        {"SHA2-384", NTK_MAC_SHA384},
        {"SHA512", NTK_MAC_SHA512},
        {"sha-512", NTK_MAC_SHA512},
        {"SHA2-512", NTK_MAC_SHA512},
        {"AES", NTK_MAC_AES128_CMAC},
        {"aes", NTK_MAC_AES128_CMAC},
        {"AES128CMAC", NTK_MAC_AES128_CMAC},
        {"aes128cmac", NTK_MAC_AES128_CMAC},
        {"AES-128", NTK_MAC_AES128_CMAC},
        {"AES-192", NTK_MAC_AES192_CMAC},
        {"AES-256", NTK_MAC_AES256_CMAC},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* A key of the exact CMAC length so that no padding warning interferes. */
        size_t need = ntk_mac_secret_len(cases[i].type);
        char text[160];
        struct ntk_sb sb;
        ntk_sb_init(&sb, text, sizeof text);
        ntk_sb_printf(&sb, "7 %s ", cases[i].name);
        for (size_t j = 0; j < (need ? need : 16); j++) {
            ntk_sb_puts(&sb, "a5");
        }
        struct run r;
        const struct ntk_mac_key *k = parse_one(&r, ntk_sb_str(&sb));
        assert_int_equal(k->keyid, 7);
        assert_int_equal(k->type, cases[i].type);
        assert_int_equal(k->secret_len, need ? need : 16);
        assert_int_equal(k->secret[0], 0xa5);
        assert_int_equal(k->line, 1);
    }
}

static void legacy_m_rule(void **state)
{
    (void)state;
    struct run r;
    parse_text(&r, "1 MX secret\n2 md5WithRSAEncryption abc\n");
    assert_int_equal(r.rc, NTK_OK);
    assert_int_equal(r.kf.nkeys, 2);
    assert_int_equal(r.keys[0].type, NTK_MAC_MD5);
    assert_int_equal(r.keys[1].type, NTK_MAC_MD5);
    assert_int_equal(r.kf.nwarnings, 2);
    assert_int_equal(r.kf.nerrors, 0);
    assert_true(r.diags[0].warning);
    assert_int_equal(r.diags[0].line, 1);
    assert_int_equal(r.diags[0].col, 3);
    assert_int_equal(r.diags[1].line, 2);
}

static void refused_types(void **state)
{
    (void)state;
    /* chrony's AES128, a type with NTPsec's internal -CBC, OpenSSL digests beginning with M
     * (not MD5 in NTPsec either) and names NTPsec would pass to OpenSSL that we do not do. */
    static const char *const names[] = {"AES128",   "AES-128-CBC", "SHA",     "MD4",
                                        "MD5-SHA1", "MDC2",        "DES",     "CAMELLIA-128",
                                        "SHA3-256", "RSA-SHA1",    "AES-512", "HMAC-SHA1"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char text[80];
        struct ntk_sb sb;
        ntk_sb_init(&sb, text, sizeof text);
        ntk_sb_printf(&sb, "# comment\n12 %s secret\n", names[i]);
        struct run r;
        parse_text(&r, text);
        assert_int_equal(r.rc, NTK_EUNSUPP);
        assert_int_equal(r.kf.nkeys, 0);
        assert_int_equal(r.kf.nerrors, 1);
        assert_int_equal(r.diags[0].line, 2);
        assert_int_equal(r.diags[0].col, 4);
        assert_int_equal(r.diags[0].keyid, 12);
        assert_false(r.diags[0].warning);
    }
}

static void ascii_or_hex(void **state)
{
    (void)state;
    struct run r;
    /* 20 characters: ASCII even though every one is a hex digit (NTPsec Bug 2537 rule). */
    const struct ntk_mac_key *k = parse_one(&r, "1 MD5 0123456789abcdef0123");
    assert_secret(k, "0123456789abcdef0123", 20);
    /* 22 hex digits: 11 bytes. */
    k = parse_one(&r, "2 SHA1 00112233445566778899AA");
    assert_secret(k, "\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa", 11);
    /* 64 hex digits: the 32-byte maximum. */
    uint8_t want[32];
    for (int i = 0; i < 32; i++) {
        want[i] = (uint8_t)(i * 7 + 1);
    }
    char hex[80];
    struct ntk_sb sb;
    ntk_sb_init(&sb, hex, sizeof hex);
    ntk_sb_puts(&sb, "65535 SHA256 ");
    ntk_sb_hex(&sb, want, sizeof want);
    k = parse_one(&r, hex);
    assert_int_equal(k->keyid, 65535);
    assert_secret(k, want, 32);
    /* Printable punctuation is fine in an ASCII key. */
    k = parse_one(&r, "3 MD5 !\"$%&'()*+,-./:;<=>?");
    assert_secret(k, "!\"$%&'()*+,-./:;<=>?", 20);
    k = parse_one(&r, "4 MD5 @[\\]^_`{|}~");
    assert_secret(k, "@[\\]^_`{|}~", 11);
    /* The two keys of tests/data/symkey.keys. */
    k = parse_one(&r, "1 MD5 AnchorsMD5Key");
    assert_secret(k, "AnchorsMD5Key", 13);
    k = parse_one(&r, "3 AES 2450c2ae8f928858877f1b7bf8f6af79");
    assert_secret(k, "\x24\x50\xc2\xae\x8f\x92\x88\x58\x87\x7f\x1b\x7b\xf8\xf6\xaf\x79", 16);
}

static void comments_blanks_crlf(void **state)
{
    (void)state;
    struct run r;
    parse_text(&r, "# NTPsec keys\n\n   \n\t\n\r\n1 MD5 abc\r\n  # indented comment\n"
                   "2\tSHA1\tdef # trailing comment\n3 MD5 ghi#jkl\n \t 4  MD5   last");
    assert_int_equal(r.rc, NTK_OK);
    assert_int_equal(r.kf.ndiags, 0);
    assert_int_equal(r.kf.nkeys, 4);
    assert_int_equal(r.keys[0].keyid, 1);
    assert_int_equal(r.keys[0].line, 6);
    assert_secret(&r.keys[0], "abc", 3); /* the '\r' before '\n' is not part of the key */
    assert_int_equal(r.keys[1].keyid, 2);
    assert_int_equal(r.keys[1].line, 8);
    assert_secret(&r.keys[1], "def", 3);
    /* '#' ends the line even inside a token, as NTPsec's nexttok does. */
    assert_int_equal(r.keys[2].line, 9);
    assert_secret(&r.keys[2], "ghi", 3);
    /* The last line needs no newline. */
    assert_int_equal(r.keys[3].keyid, 4);
    assert_int_equal(r.keys[3].line, 10);
    assert_secret(&r.keys[3], "last", 4);

    parse_text(&r, "");
    assert_int_equal(r.rc, NTK_OK);
    assert_int_equal(r.kf.nkeys, 0);
    assert_int_equal(r.kf.ndiags, 0);
    parse_text(&r, "# only a comment");
    assert_int_equal(r.kf.nkeys + r.kf.ndiags, 0);
}

/* One expected diagnostic. */
struct want_diag {
    uint32_t line, col;
    int err;
    bool warning;
    uint32_t keyid, ref_line;
};

static void every_error_has_its_line(void **state)
{
    (void)state;
    static const char text[] =
        "# header comment\n"                                                          /* 1 */
        "1 MD5 good1\n"                                                               /* 2 */
        "0 MD5 zero\n"                                                                /* 3 */
        "65536 MD5 big\n"                                                             /* 4 */
        "abc MD5 x\n"                                                                 /* 5 */
        "5\n"                                                                         /* 6 */
        "6 SHA1\n"                                                                    /* 7 */
        "7 SHA1 0123456789abcdef0123456789abcdef012345678\n"                          /* 8 */
        "8 SHA1 0123456789abcdef0123456789abcdef01234567zz\n"                         /* 9 */
        "9 SHA1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef00\n" /* 10 */
        "10 BOGUS key\n"                                                              /* 11 */
        "11 MD5 key trailing\n"                                                       /* 12 */
        "1 MD5 dup\n"                                                                 /* 13 */
        "\t12 \t MD5\tok   # comment\n"                                               /* 14 */
        "13 MD5 a\001b\n"                                                             /* 15 */
        "-1 MD5 x\n"                                                                  /* 16 */
        "99999999999999999999999 MD5 x\n"                                             /* 17 */
        "1#2 MD5 x\n"                                                                 /* 18 */
        "14 MD5 \303\251\n"                                                           /* 19 */
        "15 AES short\n"                                                              /* 20 */
        "16 AES-128 00112233445566778899aabbccddeeff0011\n"                           /* 21 */
        "17 MD5 a\rb\n";                                                              /* 22 */
    static const struct want_diag want[] = {
        {3, 1, NTK_ERANGE, false, 0, 0},    {4, 1, NTK_ERANGE, false, 0, 0},
        {5, 1, NTK_EFORMAT, false, 0, 0},   {6, 2, NTK_EFORMAT, false, 5, 0},
        {7, 7, NTK_EFORMAT, false, 6, 0},   {8, 8, NTK_EFORMAT, false, 7, 0},
        {9, 48, NTK_EFORMAT, false, 8, 0},  {10, 8, NTK_ERANGE, false, 9, 0},
        {11, 4, NTK_EUNSUPP, false, 10, 0}, {12, 12, NTK_EFORMAT, false, 11, 0},
        {13, 1, NTK_EFORMAT, false, 1, 2},  {15, 9, NTK_EFORMAT, false, 13, 0},
        {16, 1, NTK_EFORMAT, false, 0, 0},  {17, 1, NTK_ERANGE, false, 0, 0},
        {18, 2, NTK_EFORMAT, false, 1, 0},  {19, 8, NTK_EFORMAT, false, 14, 0},
        {20, 8, NTK_ERANGE, true, 15, 0},   {21, 12, NTK_ERANGE, true, 16, 0},
        {22, 9, NTK_EFORMAT, false, 17, 0},
    };
    struct run r;
    parse_text(&r, text);
    assert_int_equal(r.rc, NTK_ERANGE); /* the first error's code */
    assert_int_equal(r.kf.ndiags, sizeof want / sizeof want[0]);
    assert_int_equal(r.kf.nwarnings, 2);
    assert_int_equal(r.kf.nerrors, r.kf.ndiags - 2);
    for (size_t i = 0; i < r.kf.ndiags; i++) {
        const struct ntk_keyfile_diag *d = &r.diags[i];
        if (d->line != want[i].line || d->col != want[i].col || d->err != want[i].err ||
            d->warning != want[i].warning || d->keyid != want[i].keyid ||
            d->ref_line != want[i].ref_line) {
            fail_msg("diag %zu: got %u:%u err %d warn %d key %u ref %u (%s)", i, d->line,
                     d->col, d->err, d->warning, d->keyid, d->ref_line, d->msg);
        }
        assert_non_null(d->msg);
    }
    /* Kept: good1, 12, and the padded / truncated CMAC keys. */
    assert_int_equal(r.kf.nkeys, 4);
    assert_int_equal(r.keys[0].keyid, 1);
    assert_secret(&r.keys[0], "good1", 5); /* the first definition wins */
    assert_int_equal(r.keys[1].keyid, 12);
    assert_int_equal(r.keys[1].line, 14);
    assert_secret(&r.keys[1], "ok", 2);
    assert_int_equal(r.keys[2].keyid, 15);
    assert_int_equal(r.keys[2].type, NTK_MAC_AES128_CMAC);
    assert_secret(&r.keys[2], "short\0\0\0\0\0\0\0\0\0\0\0", 16);
    assert_int_equal(r.keys[3].keyid, 16);
    assert_secret(&r.keys[3],
                  "\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff", 16);
}

static void nul_byte_is_an_error(void **state)
{
    (void)state;
    static const char text[] = "1 MD5 a\0b\n2 MD5 ok";
    struct ntk_mac_key keys[4];
    struct ntk_keyfile_diag diags[4];
    struct ntk_keyfile kf;
    ntk_keyfile_init(&kf, keys, 4, diags, 4);
    assert_int_equal(ntk_keyfile_parse(&kf, text, sizeof text - 1), NTK_EFORMAT);
    assert_int_equal(kf.nkeys, 1);
    assert_int_equal(keys[0].keyid, 2);
    assert_int_equal(diags[0].line, 1);
    assert_int_equal(diags[0].col, 8);
}

static void cmac_key_lengths(void **state)
{
    (void)state;
    struct run r;
    /* AES-256 with exactly 32 bytes and AES-192 with 24: no warning. */
    const struct ntk_mac_key *k = parse_one(&r, "1 AES-256 000102030405060708090a0b0c0d0e0f"
                                                "101112131415161718191a1b1c1d1e1f");
    assert_int_equal(k->secret_len, 32);
    k = parse_one(&r, "2 AES-192 000102030405060708090a0b0c0d0e0f1011121314151617");
    assert_int_equal(k->secret_len, 24);
    /* An ASCII AES-256 key is padded to 32, a 32-byte AES key truncated to 16. */
    parse_text(&r, "3 AES-256 password\n4 AES 000102030405060708090a0b0c0d0e0f"
                   "101112131415161718191a1b1c1d1e1f\n");
    assert_int_equal(r.rc, NTK_OK);
    assert_int_equal(r.kf.nkeys, 2);
    assert_int_equal(r.kf.nwarnings, 2);
    assert_int_equal(r.keys[0].secret_len, 32);
    assert_memory_equal(r.keys[0].secret, "password", 8);
    assert_int_equal(r.keys[0].secret[8], 0);
    assert_secret(&r.keys[1],
                  "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f", 16);
    assert_true(ntk_mac_key_valid(&r.keys[0]));
    assert_true(ntk_mac_key_valid(&r.keys[1]));
}

static void capacity_limits(void **state)
{
    (void)state;
    struct ntk_mac_key keys[2];
    struct ntk_keyfile_diag diags[2];
    struct ntk_keyfile kf;
    static const char three[] = "1 MD5 a\n2 MD5 b\n3 MD5 c\n";
    ntk_keyfile_init(&kf, keys, 2, diags, 2);
    assert_int_equal(ntk_keyfile_parse(&kf, three, strlen(three)), NTK_ENOSPC);
    assert_int_equal(kf.nkeys, 2);
    assert_int_equal(diags[0].line, 3);
    assert_int_equal(diags[0].err, NTK_ENOSPC);
    assert_int_equal(diags[0].keyid, 3);

    /* More errors than room: the first ones are kept, all are counted. */
    static const char bad[] = "x\ny\nz\n1 MD5 ok\nw\n";
    ntk_keyfile_init(&kf, keys, 2, diags, 2);
    assert_int_equal(ntk_keyfile_parse(&kf, bad, strlen(bad)), NTK_EFORMAT);
    assert_int_equal(kf.ndiags, 2);
    assert_int_equal(kf.nerrors, 4);
    assert_int_equal(diags[0].line, 1);
    assert_int_equal(diags[1].line, 2);
    assert_int_equal(kf.nkeys, 1);

    /* No diagnostics array at all: still counted. */
    ntk_keyfile_init(&kf, keys, 2, NULL, 5);
    assert_int_equal(ntk_keyfile_parse(&kf, bad, strlen(bad)), NTK_EFORMAT);
    assert_int_equal(kf.ndiags, 0);
    assert_int_equal(kf.nerrors, 4);

    assert_int_equal(ntk_keyfile_max_keys("", 0), 1);
    assert_int_equal(ntk_keyfile_max_keys(three, strlen(three)), 4);
}

static void later_calls_see_earlier_keys(void **state)
{
    (void)state;
    struct run r;
    parse_text(&r, "1 MD5 a\n");
    static const char more[] = "2 MD5 b\n1 SHA1 c\n";
    assert_int_equal(ntk_keyfile_parse(&r.kf, more, strlen(more)), NTK_EFORMAT);
    assert_int_equal(r.kf.nkeys, 2);
    assert_int_equal(r.diags[0].line, 2);
    assert_int_equal(r.diags[0].keyid, 1);
    assert_int_equal(r.diags[0].ref_line, 1);
}

static void diag_format(void **state)
{
    (void)state;
    struct run r;
    parse_text(&r, "1 MD5 a\n# x\n1 MD5 b\n2 AES x\n");
    assert_int_equal(r.kf.ndiags, 2);
    char buf[160];
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    assert_int_equal(ntk_keyfile_diag_format(&sb, "/etc/ntp.keys", &r.diags[0]), NTK_OK);
    assert_string_equal(buf,
                        "/etc/ntp.keys:3:1: error: duplicate key id: line ignored (key 1) "
                        "(first defined on line 1)");
    ntk_sb_init(&sb, buf, sizeof buf);
    assert_int_equal(ntk_keyfile_diag_format(&sb, NULL, &r.diags[1]), NTK_OK);
    assert_string_equal(buf, "4:7: warning: CMAC key shorter than the cipher key: padded with "
                             "zeros (key 2)");
    char small[8];
    ntk_sb_init(&sb, small, sizeof small);
    assert_int_equal(ntk_keyfile_diag_format(&sb, NULL, &r.diags[1]), NTK_ENOSPC);
}

static void writer_lines(void **state)
{
    (void)state;
    char buf[200];
    struct ntk_sb sb;
    struct ntk_mac_key k = {.keyid = 1, .type = NTK_MAC_MD5, .secret_len = 13};
    memcpy(k.secret, "AnchorsMD5Key", 13);
    ntk_sb_init(&sb, buf, sizeof buf);
    assert_int_equal(ntk_keyfile_write(&sb, &k), NTK_OK);
    static const uint8_t aes[16] = {0x24, 0x50, 0xc2, 0xae, 0x8f, 0x92, 0x88, 0x58,
                                    0x87, 0x7f, 0x1b, 0x7b, 0xf8, 0xf6, 0xaf, 0x79};
    struct ntk_mac_key a = {.keyid = 3, .type = NTK_MAC_AES128_CMAC, .secret_len = 16};
    memcpy(a.secret, aes, 16);
    assert_int_equal(ntk_keyfile_write(&sb, &a), NTK_OK);
    assert_string_equal(buf, "1 MD5 AnchorsMD5Key\n3 AES 2450c2ae8f928858877f1b7bf8f6af79\n");

    /* A short binary secret has no keys-file form; nor one with '#' of 10 bytes or less. */
    struct ntk_mac_key bin = {.keyid = 2, .type = NTK_MAC_SHA1, .secret_len = 10};
    bin.secret[0] = 1;
    assert_int_equal(ntk_keyfile_write(&sb, &bin), NTK_EINVAL);
    memcpy(bin.secret, "abc#def", 8);
    bin.secret_len = 7;
    assert_int_equal(ntk_keyfile_write(&sb, &bin), NTK_EINVAL);
    bin.secret_len = 11; /* 11 bytes: hex of 22 digits reads back as hex */
    ntk_sb_init(&sb, buf, sizeof buf);
    assert_int_equal(ntk_keyfile_write(&sb, &bin), NTK_OK);
    assert_string_equal(buf, "2 SHA1 6162632364656600000000\n");
    struct ntk_mac_key bad = k;
    bad.keyid = 0;
    assert_int_equal(ntk_keyfile_write(&sb, &bad), NTK_EINVAL);
    bad = a;
    bad.secret_len = 15;
    assert_int_equal(ntk_keyfile_write(&sb, &bad), NTK_EINVAL);
    char tiny[10];
    ntk_sb_init(&sb, tiny, sizeof tiny);
    assert_int_equal(ntk_keyfile_write(&sb, &k), NTK_ENOSPC);
}

/* A random valid key; returns false when the writer cannot express it (short binary). */
static bool random_key(struct ntk_mac_key *k, uint32_t keyid)
{
    memset(k, 0, sizeof *k);
    k->keyid = keyid;
    k->type = (enum ntk_mac_type)(1 + tu_rand() % (NTK_MAC_TYPE_COUNT - 1));
    size_t need = ntk_mac_secret_len(k->type);
    k->secret_len = (uint8_t)(need ? need : 1 + tu_rand() % NTK_MAC_SECRET_MAX);
    bool ascii = tu_rand() % 2 == 0;
    for (size_t i = 0; i < k->secret_len; i++) {
        k->secret[i] = ascii ? (uint8_t)(0x21 + tu_rand() % 94) : (uint8_t)tu_rand();
    }
    return !(k->secret_len <= 10 && memchr(k->secret, '#', k->secret_len)) &&
           (ascii || k->secret_len > 10);
}

static void assert_same_key(const struct ntk_mac_key *a, const struct ntk_mac_key *b)
{
    assert_int_equal(a->keyid, b->keyid);
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->secret_len, b->secret_len);
    assert_memory_equal(a->secret, b->secret, sizeof a->secret);
}

/* Writes n random keys with distinct ids into text; returns its length. */
static size_t random_file(struct ntk_mac_key *keys, size_t n, char *text, size_t cap)
{
    struct ntk_sb sb;
    ntk_sb_init(&sb, text, cap);
    for (size_t i = 0; i < n; i++) {
        while (!random_key(&keys[i], (uint32_t)(i * 997 + 1 + tu_rand() % 997))) {
        }
        keys[i].line = (uint32_t)i + 1;
        assert_int_equal(ntk_keyfile_write(&sb, &keys[i]), NTK_OK);
    }
    return ntk_sb_len(&sb);
}

static void property_write_parse_round_trip(void **state)
{
    (void)state;
    tu_seed();
    for (int iter = 0; iter < 500; iter++) {
        struct ntk_mac_key want[MAXK];
        char text[MAXK * 96];
        size_t n = 1 + tu_rand() % MAXK;
        size_t len = random_file(want, n, text, sizeof text);
        struct run r;
        ntk_keyfile_init(&r.kf, r.keys, MAXK, r.diags, MAXD);
        assert_int_equal(ntk_keyfile_parse(&r.kf, text, len), NTK_OK);
        assert_int_equal(r.kf.ndiags, 0);
        assert_int_equal(r.kf.nkeys, n);
        for (size_t i = 0; i < n; i++) {
            assert_same_key(&r.keys[i], &want[i]);
            assert_int_equal(r.keys[i].line, i + 1);
        }
    }
}

static void property_every_prefix(void **state)
{
    (void)state;
    tu_seed();
    for (int iter = 0; iter < 40; iter++) {
        struct ntk_mac_key want[8];
        char text[8 * 96];
        size_t len = random_file(want, 8, text, sizeof text);
        for (size_t cut = 0; cut <= len; cut++) {
            struct run r;
            ntk_keyfile_init(&r.kf, r.keys, MAXK, r.diags, MAXD);
            (void)ntk_keyfile_parse(&r.kf, text, cut);
            size_t whole = 0; /* complete lines in the prefix */
            for (size_t i = 0; i < cut; i++) {
                whole += text[i] == '\n';
            }
            assert_true(r.kf.nkeys == whole || r.kf.nkeys == whole + 1);
            for (size_t i = 0; i < whole; i++) {
                assert_same_key(&r.keys[i], &want[i]);
            }
            if (r.kf.nkeys > whole) { /* a cut secret can still be a valid key */
                assert_int_equal(r.keys[whole].keyid, want[whole].keyid);
            }
            for (size_t i = 0; i < r.kf.ndiags; i++) {
                assert_int_equal(r.diags[i].line, whole + 1);
            }
        }
    }
}

static void property_random_text(void **state)
{
    (void)state;
    tu_seed();
    static const char *const frags[] = {"1",
                                        "65535",
                                        "65536",
                                        "0",
                                        "007",
                                        " ",
                                        "\t",
                                        "\r",
                                        "\n",
                                        "#",
                                        "MD5",
                                        "sha1",
                                        "M",
                                        "AES",
                                        "AES-256",
                                        "x",
                                        "abcdef0123456789abcdef",
                                        "0011",
                                        "zz",
                                        "\001",
                                        "\303",
                                        "SHA-256",
                                        "99999999999999999999999",
                                        "aes128cmac"};
    for (int iter = 0; iter < 3000; iter++) {
        char text[256];
        struct ntk_sb sb;
        ntk_sb_init(&sb, text, sizeof text);
        size_t n = tu_rand() % 40;
        for (size_t i = 0; i < n; i++) {
            ntk_sb_puts(&sb, frags[tu_rand() % (sizeof frags / sizeof frags[0])]);
        }
        size_t len = ntk_sb_len(&sb);
        struct run r;
        ntk_keyfile_init(&r.kf, r.keys, MAXK, r.diags, MAXD);
        int rc = ntk_keyfile_parse(&r.kf, text, len);
        assert_int_equal(rc == NTK_OK, r.kf.nerrors == 0);
        size_t lines = ntk_keyfile_max_keys(text, len);
        for (size_t i = 0; i < r.kf.nkeys; i++) {
            assert_true(ntk_mac_key_valid(&r.keys[i]));
            assert_true(r.keys[i].line >= 1 && r.keys[i].line <= lines);
            for (size_t j = 0; j < i; j++) {
                assert_int_not_equal(r.keys[i].keyid, r.keys[j].keyid);
            }
        }
        for (size_t i = 0; i < r.kf.ndiags; i++) {
            assert_true(r.diags[i].line >= 1 && r.diags[i].line <= lines);
            assert_true(r.diags[i].col >= 1);
            assert_true(r.diags[i].err < 0);
        }
        assert_true(r.kf.ndiags <= r.kf.nerrors + r.kf.nwarnings);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_type_alias),
        cmocka_unit_test(legacy_m_rule),
        cmocka_unit_test(refused_types),
        cmocka_unit_test(ascii_or_hex),
        cmocka_unit_test(comments_blanks_crlf),
        cmocka_unit_test(every_error_has_its_line),
        cmocka_unit_test(nul_byte_is_an_error),
        cmocka_unit_test(cmac_key_lengths),
        cmocka_unit_test(capacity_limits),
        cmocka_unit_test(later_calls_see_earlier_keys),
        cmocka_unit_test(diag_format),
        cmocka_unit_test(writer_lines),
        cmocka_unit_test(property_write_parse_round_trip),
        cmocka_unit_test(property_every_prefix),
        cmocka_unit_test(property_random_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
