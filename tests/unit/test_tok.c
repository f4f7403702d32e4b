/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/tok.c: lines, words, runs and numbers with their maxima, the span
 * helpers, and a property loop showing no call reads outside its text (run it under ASan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ntk/err.h"
#include "ntk/tok.h"
#include "testutil.h"

#include "poison.h"

static struct ntk_span span_of(const char *s)
{
    struct ntk_span sp = {s, strlen(s)};
    return sp;
}

static void init_text(struct ntk_tok *t, const char *s)
{
    ntk_tok_init(t, s, strlen(s));
}

static void assert_span(struct ntk_span s, const char *want)
{
    assert_int_equal(s.len, strlen(want));
    assert_memory_equal(s.p, want, s.len);
}

static void lines(void **state)
{
    (void)state;
    struct ntk_tok t;
    struct ntk_span l;
    init_text(&t, "a b\nsecond\r\n\n\r\nlast");
    assert_int_equal(ntk_tok_line(&t, &l, 80), 0);
    assert_span(l, "a b");
    assert_int_equal(ntk_tok_pos(&t), 4);
    assert_int_equal(ntk_tok_line(&t, &l, 80), 0);
    assert_span(l, "second"); /* the \r before \n is not part of the line */
    assert_int_equal(ntk_tok_line(&t, &l, 80), 0);
    assert_span(l, "");
    assert_int_equal(ntk_tok_line(&t, &l, 80), 0);
    assert_span(l, "");
    assert_int_equal(ntk_tok_line(&t, &l, 80), 0);
    assert_span(l, "last"); /* no \n needed */
    assert_true(ntk_tok_eof(&t));
    l.len = 99;
    assert_int_equal(ntk_tok_line(&t, &l, 80), NTK_ETRUNC);
    assert_int_equal(l.len, 99); /* untouched */

    /* A final \n does not make an extra empty line. */
    init_text(&t, "x\n");
    assert_int_equal(ntk_tok_line(&t, &l, 80), 0);
    assert_span(l, "x");
    assert_int_equal(ntk_tok_line(&t, &l, 80), NTK_ETRUNC);
    init_text(&t, "");
    assert_int_equal(ntk_tok_line(&t, &l, 80), NTK_ETRUNC);
}

static void long_line(void **state)
{
    (void)state;
    struct ntk_tok t;
    struct ntk_span l = {NULL, 0};
    init_text(&t, "abcdef\nxy\r\nabcde\r\n123456");
    assert_int_equal(ntk_tok_line(&t, &l, 5), NTK_ERANGE);
    assert_int_equal(ntk_tok_pos(&t), 0); /* cursor unchanged */
    assert_null(l.p);
    ntk_tok_skip_line(&t);
    assert_int_equal(ntk_tok_pos(&t), 7);
    assert_int_equal(ntk_tok_line(&t, &l, 5), 0);
    assert_span(l, "xy");
    assert_int_equal(ntk_tok_line(&t, &l, 5), 0); /* exactly max; the \r does not count */
    assert_span(l, "abcde");
    assert_int_equal(ntk_tok_line(&t, &l, 5), NTK_ERANGE); /* last line, no \n */
    ntk_tok_skip_line(&t);
    assert_true(ntk_tok_eof(&t));
    ntk_tok_skip_line(&t); /* harmless at the end */
    assert_true(ntk_tok_eof(&t));
    init_text(&t, "abc");
    assert_int_equal(ntk_tok_line(&t, &l, 0), NTK_ERANGE);
}

static void words(void **state)
{
    (void)state;
    struct ntk_tok t;
    struct ntk_span w;
    init_text(&t, " \t foo\tbar  bazbaz\r\n");
    assert_int_equal(ntk_tok_word(&t, &w, 10), NTK_EFORMAT); /* at a space */
    assert_int_equal(ntk_tok_pos(&t), 0);
    ntk_tok_skip_ws(&t);
    assert_int_equal(ntk_tok_pos(&t), 3);
    assert_int_equal(ntk_tok_word(&t, &w, 10), 0);
    assert_span(w, "foo");
    ntk_tok_skip_ws(&t);
    assert_int_equal(ntk_tok_word(&t, &w, 3), 0);
    assert_span(w, "bar");
    ntk_tok_skip_ws(&t);
    size_t at = ntk_tok_pos(&t);
    assert_int_equal(ntk_tok_word(&t, &w, 5), NTK_ERANGE);
    assert_int_equal(ntk_tok_pos(&t), at);
    assert_int_equal(ntk_tok_word(&t, &w, 6), 0);
    assert_span(w, "bazbaz");
    ntk_tok_skip_ws(&t); /* does not skip line ends */
    assert_int_equal(ntk_tok_peek(&t), '\r');
    assert_int_equal(ntk_tok_word(&t, &w, 10), NTK_EFORMAT);
    init_text(&t, "");
    assert_int_equal(ntk_tok_word(&t, &w, 10), NTK_EFORMAT);
}

static void until_and_accept(void **state)
{
    (void)state;
    struct ntk_tok t;
    struct ntk_span r;
    init_text(&t, "key=value,,x");
    assert_int_equal(ntk_tok_until(&t, "=,", &r, 10), 0);
    assert_span(r, "key");
    assert_false(ntk_tok_accept(&t, ','));
    assert_true(ntk_tok_accept(&t, '='));
    assert_int_equal(ntk_tok_until(&t, "=,", &r, 4), NTK_ERANGE);
    assert_int_equal(ntk_tok_pos(&t), 4);
    assert_int_equal(ntk_tok_until(&t, "=,", &r, 5), 0);
    assert_span(r, "value");
    assert_true(ntk_tok_accept(&t, ','));
    assert_int_equal(ntk_tok_until(&t, "=,", &r, 0), 0); /* an empty run is fine */
    assert_int_equal(r.len, 0);
    assert_true(ntk_tok_accept(&t, ','));
    assert_int_equal(ntk_tok_peek(&t), 'x');
    assert_int_equal(ntk_tok_until(&t, "", &r, 10), 0); /* no stops: to the end */
    assert_span(r, "x");
    assert_true(ntk_tok_eof(&t));
    assert_int_equal(ntk_tok_peek(&t), -1);
    assert_false(ntk_tok_accept(&t, 'x'));
    assert_int_equal(ntk_tok_until(&t, ",", &r, 10), 0);
    assert_int_equal(r.len, 0);
    /* peek returns bytes as unsigned. */
    init_text(&t, "\xff");
    assert_int_equal(ntk_tok_peek(&t), 0xff);
    assert_true(ntk_tok_accept(&t, '\xff'));
    /* A NUL byte in the text always ends a run. */
    ntk_tok_init(&t, "ab\0cd", 5);
    assert_int_equal(ntk_tok_until(&t, ",", &r, 10), 0);
    assert_span(r, "ab");
    assert_int_equal(ntk_tok_peek(&t), 0);
}

static void numbers(void **state)
{
    (void)state;
    struct ntk_tok t;
    uint64_t v = 7;
    init_text(&t, "18446744073709551615 18446744073709551616");
    assert_int_equal(ntk_tok_u64(&t, &v, UINT64_MAX), 0);
    assert_true(v == UINT64_MAX);
    ntk_tok_skip_ws(&t);
    size_t at = ntk_tok_pos(&t);
    v = 7;
    assert_int_equal(ntk_tok_u64(&t, &v, UINT64_MAX), NTK_ERANGE); /* 2^64 */
    assert_int_equal(ntk_tok_pos(&t), at);
    assert_true(v == 7);
    init_text(&t, "00000000000000000042 000000000000000000042 1000 1001 12ab x");
    assert_int_equal(ntk_tok_u64(&t, &v, 100), 0); /* 20 digits with leading zeros */
    assert_true(v == 42);
    ntk_tok_skip_ws(&t);
    at = ntk_tok_pos(&t);
    assert_int_equal(ntk_tok_u64(&t, &v, 100), NTK_ERANGE); /* 21 digits */
    assert_int_equal(ntk_tok_pos(&t), at);
    struct ntk_span w;
    assert_int_equal(ntk_tok_word(&t, &w, 30), 0);
    ntk_tok_skip_ws(&t);
    assert_int_equal(ntk_tok_u64(&t, &v, 1000), 0); /* max itself is allowed */
    assert_true(v == 1000);
    ntk_tok_skip_ws(&t);
    assert_int_equal(ntk_tok_u64(&t, &v, 1000), NTK_ERANGE);
    assert_int_equal(ntk_tok_word(&t, &w, 30), 0);
    ntk_tok_skip_ws(&t);
    assert_int_equal(ntk_tok_u64(&t, &v, 1000), 0); /* stops at the first non-digit */
    assert_true(v == 12);
    assert_int_equal(ntk_tok_peek(&t), 'a');
    assert_int_equal(ntk_tok_u64(&t, &v, 1000), NTK_EFORMAT);
    init_text(&t, "");
    assert_int_equal(ntk_tok_u64(&t, &v, 1000), NTK_EFORMAT);
    init_text(&t, "-1");
    assert_int_equal(ntk_tok_u64(&t, &v, 1000), NTK_EFORMAT);
    init_text(&t, "99999999999999999999"); /* 20 digits over 2^64 */
    assert_int_equal(ntk_tok_u64(&t, &v, UINT64_MAX), NTK_ERANGE);
    init_text(&t, "0");
    assert_int_equal(ntk_tok_u64(&t, &v, 0), 0);
    assert_true(v == 0);
}

static void number_property(void **state)
{
    (void)state;
    tu_seed();
    for (int i = 0; i < 100000; i++) {
        uint64_t x = tu_rand() >> (tu_rand() % 64), v = 0;
        char txt[48];
        int n = snprintf(txt, sizeof txt, "%llu", (unsigned long long)x);
        int zeros = (int)(tu_rand() % (size_t)(21 - n + 1)); /* may make 21 digits */
        memmove(txt + zeros, txt, (size_t)n + 1);
        memset(txt, '0', (size_t)zeros);
        struct ntk_tok t;
        init_text(&t, txt);
        uint64_t max = tu_rand() % 2 ? UINT64_MAX : tu_rand();
        int rc = ntk_tok_u64(&t, &v, max);
        if (n + zeros > 20 || x > max) {
            assert_int_equal(rc, NTK_ERANGE);
            assert_int_equal(ntk_tok_pos(&t), 0);
        } else {
            assert_int_equal(rc, 0);
            assert_true(v == x);
            assert_true(ntk_tok_eof(&t));
        }
        uint64_t sv = ~x;
        assert_int_equal(ntk_span_u64(span_of(txt), &sv, max), rc);
        assert_true(rc == 0 ? sv == x : sv == ~x);
    }
}

static void span_compare_trim(void **state)
{
    (void)state;
    assert_true(ntk_span_eq(span_of("abc"), "abc"));
    assert_false(ntk_span_eq(span_of("abc"), "abcd"));
    assert_false(ntk_span_eq(span_of("abc"), "ab"));
    assert_false(ntk_span_eq(span_of("abc"), "ABC"));
    struct ntk_span empty = {NULL, 0};
    assert_true(ntk_span_eq(empty, ""));
    assert_true(ntk_span_caseeq(empty, ""));
    assert_false(ntk_span_eq(empty, "a"));
    assert_true(ntk_span_caseeq(span_of("SHA1"), "sha1"));
    assert_true(ntk_span_caseeq(span_of("aes-128-CMAC"), "AES-128-cmac"));
    assert_false(ntk_span_caseeq(span_of("sha1"), "sha"));
    assert_false(ntk_span_caseeq(span_of("@"), "`")); /* only letters fold */
    assert_false(ntk_span_caseeq(span_of("["), "{"));
    struct ntk_span nul = {"a\0b", 3};
    assert_false(ntk_span_eq(nul, "a"));

    struct ntk_span t = ntk_span_trim(span_of(" \t\r\n x y \r\n\t "));
    assert_span(t, "x y");
    t = ntk_span_trim(span_of(" \t\r\n"));
    assert_int_equal(t.len, 0);
    t = ntk_span_trim(empty);
    assert_int_equal(t.len, 0);
    t = ntk_span_trim(span_of("\vx\f")); /* only space, tab, CR, LF are trimmed */
    assert_span(t, "\vx\f");
}

static void span_cstr(void **state)
{
    (void)state;
    char dst[4] = {'X', 'X', 'X', 'X'};
    assert_int_equal(ntk_span_cstr(span_of("abc"), dst, 4), 0);
    assert_string_equal(dst, "abc");
    memset(dst, 'X', sizeof dst);
    assert_int_equal(ntk_span_cstr(span_of("abcd"), dst, 4), NTK_ENOSPC);
    assert_string_equal(dst, ""); /* "" on ENOSPC */
    memset(dst, 'X', sizeof dst);
    struct ntk_span nul = {"a\0b", 3};
    assert_int_equal(ntk_span_cstr(nul, dst, 4), NTK_EFORMAT);
    assert_int_equal(dst[0], '\0');
    assert_int_equal(ntk_span_cstr(span_of(""), dst, 1), 0);
    assert_string_equal(dst, "");
    struct ntk_span empty = {NULL, 0};
    assert_int_equal(ntk_span_cstr(empty, dst, 4), 0);
    assert_string_equal(dst, "");
    dst[0] = 'X';
    assert_int_equal(ntk_span_cstr(span_of(""), dst, 0), NTK_ENOSPC);
    assert_int_equal(dst[0], 'X'); /* cap 0: nothing written */
}

static void span_numbers(void **state)
{
    (void)state;
    uint64_t v = 7;
    assert_int_equal(ntk_span_u64(span_of("123"), &v, 1000), 0);
    assert_true(v == 123);
    v = 7;
    const char *bad_fmt[] = {"", "12a", " 1", "1 ", "+1", "-1", "0x10", "1.0"};
    for (size_t i = 0; i < sizeof bad_fmt / sizeof bad_fmt[0]; i++) {
        assert_int_equal(ntk_span_u64(span_of(bad_fmt[i]), &v, UINT64_MAX), NTK_EFORMAT);
        assert_true(v == 7);
    }
    assert_int_equal(ntk_span_u64(span_of("18446744073709551616"), &v, UINT64_MAX),
                     NTK_ERANGE);
    assert_int_equal(ntk_span_u64(span_of("1001"), &v, 1000), NTK_ERANGE);
    assert_true(v == 7);
    assert_int_equal(ntk_span_u64(span_of("18446744073709551615"), &v, UINT64_MAX), 0);
    assert_true(v == UINT64_MAX);
}

static void span_hex(void **state)
{
    (void)state;
    uint8_t d[4] = {9, 9, 9, 9};
    assert_int_equal(ntk_span_hex(span_of("00aBfF7e"), d, 4), 4);
    assert_int_equal(d[0], 0x00);
    assert_int_equal(d[1], 0xab);
    assert_int_equal(d[2], 0xff);
    assert_int_equal(d[3], 0x7e);
    assert_int_equal(ntk_span_hex(span_of(""), d, 4), 0);
    struct ntk_span empty = {NULL, 0};
    assert_int_equal(ntk_span_hex(empty, d, 0), 0);

    memset(d, 9, sizeof d);
    assert_int_equal(ntk_span_hex(span_of("abc"), d, 4), NTK_EFORMAT);  /* odd */
    assert_int_equal(ntk_span_hex(span_of("abcg"), d, 4), NTK_EFORMAT); /* not hex */
    assert_int_equal(ntk_span_hex(span_of("ab c"), d, 4), NTK_EFORMAT); /* space */
    assert_int_equal(ntk_span_hex(span_of("0x12"), d, 4), NTK_EFORMAT); /* no prefix */
    assert_int_equal(ntk_span_hex(span_of("0011223344"), d, 4), NTK_ENOSPC);
    struct ntk_span nul = {"a\0", 2};
    assert_int_equal(ntk_span_hex(nul, d, 4), NTK_EFORMAT);
    /* Out-parameters are written only on success: a bad digit late in the text leaves dst
     * as it was. */
    for (size_t i = 0; i < sizeof d; i++) {
        assert_int_equal(d[i], 9);
    }
    assert_int_equal(ntk_span_hex(span_of("0102"), d, 2), 2);
    assert_int_equal(d[0], 1);
    assert_int_equal(d[1], 2);
    assert_int_equal(d[2], 9);
}

static void null_text(void **state)
{
    (void)state;
    /* An empty text may come with a NULL pointer (an empty ntk_rd_ptr, a {NULL, 0} span). */
    struct ntk_tok t;
    struct ntk_span s = {NULL, 0}, out;
    uint64_t v;
    ntk_tok_init_span(&t, s);
    assert_true(ntk_tok_eof(&t));
    assert_int_equal(ntk_tok_peek(&t), -1);
    assert_int_equal(ntk_tok_line(&t, &out, 10), NTK_ETRUNC);
    assert_int_equal(ntk_tok_word(&t, &out, 10), NTK_EFORMAT);
    assert_int_equal(ntk_tok_until(&t, ",", &out, 10), 0);
    assert_int_equal(out.len, 0);
    assert_int_equal(ntk_tok_u64(&t, &v, 10), NTK_EFORMAT);
    assert_false(ntk_tok_accept(&t, 'a'));
    ntk_tok_skip_ws(&t);
    ntk_tok_skip_line(&t);
    assert_int_equal(ntk_tok_pos(&t), 0);
    /* A NULL pointer with a length is treated as empty. */
    ntk_tok_init(&t, NULL, 5);
    assert_true(ntk_tok_eof(&t));
}

/* True if s lies inside text[0..n). */
static bool inside(struct ntk_span s, const char *text, size_t n)
{
    return s.p >= text && s.len <= n && s.p - text <= (ptrdiff_t)(n - s.len);
}

/* Runs every call on one line of random text; checks spans and cursor moves. */
static void exercise_line(struct ntk_span line, const char *text, size_t n)
{
    struct ntk_tok t;
    ntk_tok_init_span(&t, line);
    for (int steps = 0; !ntk_tok_eof(&t); steps++) {
        assert_true(steps <= (int)line.len + 1);
        size_t before = ntk_tok_pos(&t);
        struct ntk_span w;
        uint64_t v;
        uint8_t hex[8];
        char cs[8];
        size_t max = (size_t)(tu_rand() % 12);
        ntk_tok_skip_ws(&t);
        switch (tu_rand() % 4) {
        case 0:
            if (ntk_tok_word(&t, &w, max) == 0) {
                assert_true(inside(w, text, n) && w.len >= 1 && w.len <= max);
                (void)ntk_span_hex(w, hex, sizeof hex);
                (void)ntk_span_cstr(w, cs, sizeof cs);
                (void)ntk_span_u64(w, &v, UINT64_MAX);
                assert_true(inside(ntk_span_trim(w), text, n));
                (void)ntk_span_caseeq(w, "Key");
            }
            break;
        case 1:
            if (ntk_tok_until(&t, "=,\"", &w, max) == 0) {
                assert_true(inside(w, text, n) && w.len <= max);
            }
            break;
        case 2:
            (void)ntk_tok_u64(&t, &v, tu_rand());
            break;
        default:
            (void)ntk_tok_accept(&t, (char)ntk_tok_peek(&t));
            break;
        }
        if (ntk_tok_pos(&t) == before) {
            (void)ntk_tok_accept(&t, (char)ntk_tok_peek(&t)); /* guarantee progress */
        }
        assert_true(ntk_tok_pos(&t) >= before && ntk_tok_pos(&t) <= line.len);
    }
}

/* Random text in an exact-size heap block: under ASan any read past it aborts. */
static void bounds_property(void **state)
{
    (void)state;
    static const char alphabet[] = " \t\r\n=,\"0123456789abcdefABXYZ\0\xff";
    tu_seed();
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = (size_t)(tu_rand() % 80);
        char *text = malloc(n ? n : 1);
        assert_non_null(text);
        for (size_t i = 0; i < n; i++) {
            text[i] = alphabet[tu_rand() % (sizeof alphabet - 1)];
        }
        struct ntk_tok t;
        ntk_tok_init(&t, text, n);
        size_t lines_seen = 0;
        while (!ntk_tok_eof(&t)) {
            struct ntk_span line;
            size_t before = ntk_tok_pos(&t);
            int rc = ntk_tok_line(&t, &line, (size_t)(tu_rand() % 40));
            if (rc != 0) {
                assert_int_equal(rc, NTK_ERANGE);
                assert_int_equal(ntk_tok_pos(&t), before);
                ntk_tok_skip_line(&t);
            } else {
                assert_true(inside(line, text, n));
                assert_null(memchr(line.p, '\n', line.len));
                exercise_line(line, text, n);
            }
            assert_true(ntk_tok_pos(&t) > before);
            assert_true(++lines_seen <= n);
        }
        struct ntk_span all = {text, n};
        assert_true(inside(ntk_span_trim(all), text, n));
        (void)ntk_span_eq(all, "abc");
        free(text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lines),
        cmocka_unit_test(long_line),
        cmocka_unit_test(words),
        cmocka_unit_test(until_and_accept),
        cmocka_unit_test(numbers),
        cmocka_unit_test(number_property),
        cmocka_unit_test(span_compare_trim),
        cmocka_unit_test(span_cstr),
        cmocka_unit_test(span_numbers),
        cmocka_unit_test(span_hex),
        cmocka_unit_test(null_text),
        cmocka_unit_test(bounds_property),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
