/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/addr.c: the accepted and refused grammar, RFC 5952 formatting checked
 * against glibc's inet_ntop, parsing checked against inet_pton, round trips, sockaddrs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "ntk/addr.h"
#include "ntk/err.h"
#include "testutil.h"

#include "poison.h"

static int parse_str(const char *s, struct ntk_addr *a)
{
    struct ntk_span sp = {s, strlen(s)};
    return ntk_addr_parse_span(sp, a);
}

static const char *fmt(const struct ntk_addr *a, char buf[NTK_ADDRSTR_MAX])
{
    return ntk_addr_format(a, buf);
}

struct accept_case {
    const char *in;
    enum ntk_addr_family family;
    const char *ip_hex; /* 8 or 32 hex digits */
    uint16_t port;
    uint32_t scope_id;
    const char *scope_name;
    const char *canon; /* what ntk_addr_format gives back */
};

static const struct accept_case accepts[] = {
    {"192.0.2.1", NTK_ADDR_V4, "c0000201", 0, 0, "", "192.0.2.1"},
    {"192.0.2.1:123", NTK_ADDR_V4, "c0000201", 123, 0, "", "192.0.2.1:123"},
    {"0.0.0.0", NTK_ADDR_V4, "00000000", 0, 0, "", "0.0.0.0"},
    {"255.255.255.255:65535", NTK_ADDR_V4, "ffffffff", 65535, 0, "", "255.255.255.255:65535"},
    {"10.0.0.1:00123", NTK_ADDR_V4, "0a000001", 123, 0, "", "10.0.0.1:123"},
    {"2001:db8::1", NTK_ADDR_V6, "20010db8000000000000000000000001", 0, 0, "", "2001:db8::1"},
    {"[2001:db8::1]:123", NTK_ADDR_V6, "20010db8000000000000000000000001", 123, 0, "",
     "[2001:db8::1]:123"},
    {"[fe80::1%eth0]:123", NTK_ADDR_V6, "fe800000000000000000000000000001", 123, 0, "eth0",
     "[fe80::1%eth0]:123"},
    {"fe80::1%2", NTK_ADDR_V6, "fe800000000000000000000000000001", 0, 2, "", "fe80::1%2"},
    {"fe80::1%eth0.100", NTK_ADDR_V6, "fe800000000000000000000000000001", 0, 0, "eth0.100",
     "fe80::1%eth0.100"},
    {"fe80::1%0", NTK_ADDR_V6, "fe800000000000000000000000000001", 0, 0, "", "fe80::1"},
    {"[fe80::a%4294967295]:1", NTK_ADDR_V6, "fe80000000000000000000000000000a", 1, 4294967295u,
     "", "[fe80::a%4294967295]:1"},
    {"::ffff:192.0.2.1", NTK_ADDR_V6, "00000000000000000000ffffc0000201", 0, 0, "",
     "::ffff:192.0.2.1"},
    {"::FFFF:c000:0201", NTK_ADDR_V6, "00000000000000000000ffffc0000201", 0, 0, "",
     "::ffff:192.0.2.1"},
    {"::ffff:0.0.0.0", NTK_ADDR_V6, "00000000000000000000ffff00000000", 0, 0, "",
     "::ffff:0.0.0.0"},
    {"::", NTK_ADDR_V6, "00000000000000000000000000000000", 0, 0, "", "::"},
    {"::1", NTK_ADDR_V6, "00000000000000000000000000000001", 0, 0, "", "::1"},
    {"[::1]", NTK_ADDR_V6, "00000000000000000000000000000001", 0, 0, "", "::1"},
    {"[::]:123", NTK_ADDR_V6, "00000000000000000000000000000000", 123, 0, "", "[::]:123"},
    {"1::", NTK_ADDR_V6, "00010000000000000000000000000000", 0, 0, "", "1::"},
    {"1::%lo", NTK_ADDR_V6, "00010000000000000000000000000000", 0, 0, "lo", "1::%lo"},
    /* RFC 5952 §4.1 leading zeros, §4.3 lowercase */
    {"2001:0DB8:0000:0000:0000:0000:0000:0001", NTK_ADDR_V6,
     "20010db8000000000000000000000001", 0, 0, "", "2001:db8::1"},
    /* §4.2.3: equal runs, the first is shortened */
    {"2001:db8:0:0:1:0:0:1", NTK_ADDR_V6, "20010db8000000000001000000000001", 0, 0, "",
     "2001:db8::1:0:0:1"},
    /* §4.2.2: a single zero group is not shortened */
    {"2001:db8:0:1:1:1:1:1", NTK_ADDR_V6, "20010db8000000010001000100010001", 0, 0, "",
     "2001:db8:0:1:1:1:1:1"},
    {"1:2:3:4:5:6:7::", NTK_ADDR_V6, "00010002000300040005000600070000", 0, 0, "",
     "1:2:3:4:5:6:7:0"},
    {"::2:3:4:5:6:7:8", NTK_ADDR_V6, "00000002000300040005000600070008", 0, 0, "",
     "0:2:3:4:5:6:7:8"},
    /* §4.2.1: the longest run is shortened, even if it is not the first */
    {"1:0:0:2:0:0:0:3", NTK_ADDR_V6, "00010000000000020000000000000003", 0, 0, "",
     "1:0:0:2::3"},
    /* a bare IPv6 address takes no port: the last ":123" is a group */
    {"2001:db8::1:123", NTK_ADDR_V6, "20010db8000000000000000000010123", 0, 0, "",
     "2001:db8::1:123"},
    /* IPv4 tails; IPv4-compatible (deprecated) stays hex, unlike glibc's inet_ntop */
    {"::1.2.3.4", NTK_ADDR_V6, "00000000000000000000000001020304", 0, 0, "", "::102:304"},
    {"1:2:3:4:5:6:1.2.3.4", NTK_ADDR_V6, "00010002000300040005000601020304", 0, 0, "",
     "1:2:3:4:5:6:102:304"},
    {"::1:2:3:4:5:1.2.3.4", NTK_ADDR_V6, "00000001000200030004000501020304", 0, 0, "",
     "0:1:2:3:4:5:102:304"},
    /* the longest text there is: 63 characters */
    {"[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%abcdefghijklmno]:65535", NTK_ADDR_V6,
     "ffffffffffffffffffffffffffffffff", 65535, 0, "abcdefghijklmno",
     "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%abcdefghijklmno]:65535"},
};

static void parse_accepts_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof accepts / sizeof accepts[0]; i++) {
        const struct accept_case *c = &accepts[i];
        struct ntk_addr a;
        char buf[NTK_ADDRSTR_MAX];
        uint8_t ip[16] = {0};
        if (parse_str(c->in, &a) != 0) {
            fail_msg("refused: %s", c->in);
        }
        int n = tu_unhex(c->ip_hex, ip, sizeof ip);
        assert_int_equal(n, c->family == NTK_ADDR_V4 ? 4 : 16);
        assert_int_equal(a.family, c->family);
        assert_memory_equal(a.ip, ip, 16); /* IPv4 leaves ip[4..15] zero */
        assert_int_equal(a.port, c->port);
        assert_int_equal(a.scope_id, c->scope_id);
        assert_string_equal(a.scope_name, c->scope_name);
        assert_string_equal(fmt(&a, buf), c->canon);
        assert_true(strlen(buf) < NTK_ADDRSTR_MAX);
        /* The canonical form parses back to the same address. */
        struct ntk_addr b;
        assert_int_equal(parse_str(c->canon, &b), 0);
        assert_true(ntk_addr_eq(&a, &b));
    }
}

struct reject_case {
    const char *in;
    int err;
};

static const struct reject_case rejects[] = {
    {"", NTK_EFORMAT},
    {"01.2.3.4", NTK_EFORMAT}, /* leading zero: inet_pton refuses it too */
    {"1.02.3.4", NTK_EFORMAT},
    {"1.2.3", NTK_EFORMAT},
    {"1.2", NTK_EFORMAT},
    {"1.2.3.4.5", NTK_EFORMAT},
    {"1.2.3.", NTK_EFORMAT},
    {".1.2.3", NTK_EFORMAT},
    {"0x7f.0.0.1", NTK_EFORMAT},
    {"256.1.1.1", NTK_ERANGE},
    {"1.2.3.1000", NTK_ERANGE},
    {"1.2.3.4:", NTK_EFORMAT},
    {"1.2.3.4:0", NTK_ERANGE},
    {"1.2.3.4:65536", NTK_ERANGE},
    {"1.2.3.4:99999999999999999999999", NTK_ERANGE},
    {"1.2.3.4:-1", NTK_EFORMAT},
    {"1.2.3.4:1:2", NTK_EFORMAT},
    {"1.2.3.4%eth0", NTK_EFORMAT},
    {"1.2.3.4x", NTK_EFORMAT},
    {"1.2.3.4 ", NTK_EFORMAT},
    {" 1.2.3.4", NTK_EFORMAT},
    {"[::1", NTK_EFORMAT},
    {"::1]", NTK_EFORMAT},
    {"[[::1]]", NTK_EFORMAT},
    {"[::1]]", NTK_EFORMAT},
    {"[::1]:", NTK_EFORMAT},
    {"[::1]:0", NTK_ERANGE},
    {"[::1]:65536", NTK_ERANGE},
    {"[::1]123", NTK_EFORMAT},
    {"[1.2.3.4]:80", NTK_EFORMAT},
    {"[]", NTK_EFORMAT},
    {":::", NTK_EFORMAT},
    {"::::", NTK_EFORMAT},
    {":", NTK_EFORMAT},
    {":1", NTK_EFORMAT},
    {":1::", NTK_EFORMAT},
    {"1:", NTK_EFORMAT},
    {"1::2:", NTK_EFORMAT},
    {"1:2:3:4:5:6:7:8:9", NTK_EFORMAT},
    {"1:2:3:4:5:6:7", NTK_EFORMAT},
    {"1:2:3:4:5:6:7:8::", NTK_EFORMAT}, /* "::" must stand for at least one group */
    {"::1:2:3:4:5:6:7:8", NTK_EFORMAT},
    {"12345::", NTK_EFORMAT},
    {"::00000", NTK_EFORMAT},
    {"1::2::3", NTK_EFORMAT},
    {"::1::", NTK_EFORMAT},
    {"::g", NTK_EFORMAT},
    {"::1.2.3.4:5", NTK_EFORMAT},
    {"::1.2.3.4.5", NTK_EFORMAT},
    {"::1.2.3", NTK_EFORMAT},
    {"::01.2.3.4", NTK_EFORMAT},
    {"::256.2.3.4", NTK_ERANGE},
    {"::1.2.3.4:1:2", NTK_EFORMAT},
    {"1:2:3:4:5:6:7:1.2.3.4", NTK_EFORMAT},
    {"::1a.2.3.4", NTK_EFORMAT},
    {"fe80::1%", NTK_EFORMAT},
    {"[fe80::1%]:1", NTK_EFORMAT},
    {"fe80::1%abcdefghijklmnop", NTK_ERANGE}, /* 16 characters */
    {"fe80::1%4294967296", NTK_ERANGE},
    {"fe80::1%eth0:123", NTK_EFORMAT},
    {"fe80::1%eth/0", NTK_EFORMAT},
    {"fe80::1%%1", NTK_EFORMAT},
    {"fe80::1%eth0%1", NTK_EFORMAT},
};

static void parse_rejects_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rejects / sizeof rejects[0]; i++) {
        struct ntk_addr a, before;
        memset(&a, 0xa5, sizeof a);
        before = a;
        int rc = parse_str(rejects[i].in, &a);
        if (rc != rejects[i].err) {
            fail_msg("\"%s\": got %d, want %d", rejects[i].in, rc, rejects[i].err);
        }
        assert_memory_equal(&a, &before, sizeof a); /* *out untouched on error */
    }
    /* An embedded NUL ends nothing: the span's length rules. */
    struct ntk_addr a;
    struct ntk_span s = {"1.2.3.4\0", 8};
    assert_int_equal(ntk_addr_parse_span(s, &a), NTK_EFORMAT);
    s.len = 7;
    assert_int_equal(ntk_addr_parse_span(s, &a), 0);
}

static void parse_on_tokenizer(void **state)
{
    (void)state;
    const char line[] = "server [fe80::1%eth0]:123 iburst";
    struct ntk_tok t;
    struct ntk_span w;
    struct ntk_addr a;
    ntk_tok_init(&t, line, strlen(line));
    assert_int_equal(ntk_tok_word(&t, &w, 16), 0);
    ntk_tok_skip_ws(&t);
    assert_int_equal(ntk_addr_parse(&t, &a), 0);
    assert_int_equal(ntk_tok_pos(&t), strlen("server [fe80::1%eth0]:123"));
    assert_string_equal(a.scope_name, "eth0");
    assert_int_equal(a.port, 123);

    /* Stops before a character that cannot continue an address. */
    const char pfx[] = "192.0.2.0/24";
    ntk_tok_init(&t, pfx, strlen(pfx));
    assert_int_equal(ntk_addr_parse(&t, &a), 0);
    assert_int_equal(ntk_tok_peek(&t), '/');
    const char list[] = "::1,10.0.0.1:5";
    ntk_tok_init(&t, list, strlen(list));
    assert_int_equal(ntk_addr_parse(&t, &a), 0);
    assert_true(ntk_tok_accept(&t, ','));
    assert_int_equal(ntk_addr_parse(&t, &a), 0);
    assert_int_equal(a.port, 5);
    assert_true(ntk_tok_eof(&t));

    /* On failure the cursor does not move. */
    const char bad[] = "x [::1";
    ntk_tok_init(&t, bad, strlen(bad));
    assert_true(ntk_tok_accept(&t, 'x'));
    ntk_tok_skip_ws(&t);
    assert_int_equal(ntk_addr_parse(&t, &a), NTK_EFORMAT);
    assert_int_equal(ntk_tok_pos(&t), 2);
}

static void truncations_fail(void **state)
{
    (void)state;
    /* Every proper prefix is malformed except the listed lengths, which are addresses too
     * ("[2001:db8::1]", "[2001:db8::1]:1", "192.0.2.1"). */
    static const struct {
        const char *full;
        size_t ok[3];
    } cases[] = {
        {"[2001:db8::1]:123", {13, 15, 16}},
        {"[fe80::1%eth0]:123", {14, 16, 17}},
        {"1:2:3:4:5:6:7:8", {0}},
        {"1:2:3:4:5:6:1.2.3.4", {0}},
        {"192.0.2.100", {9, 10}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *full = cases[i].full;
        size_t n = strlen(full);
        struct ntk_addr a;
        assert_int_equal(ntk_addr_parse_span((struct ntk_span){full, n}, &a), 0);
        for (size_t cut = 0; cut < n; cut++) {
            int rc = ntk_addr_parse_span((struct ntk_span){full, cut}, &a);
            bool ok = cut > 0 && (cut == cases[i].ok[0] || cut == cases[i].ok[1] ||
                                  cut == cases[i].ok[2]);
            if ((rc == 0) != ok) {
                fail_msg("prefix %zu of %s: %d", cut, full, rc);
            }
            assert_true(rc == 0 || rc == NTK_EFORMAT || rc == NTK_ERANGE);
        }
    }
}

static void format_edge_cases(void **state)
{
    (void)state;
    struct ntk_addr a;
    char buf[NTK_ADDRSTR_MAX];
    memset(&a, 0, sizeof a);
    assert_string_equal(fmt(&a, buf), "-");

    /* The name wins over the number when both are set (after the daemon resolved it). */
    assert_int_equal(parse_str("fe80::1%eth0", &a), 0);
    a.scope_id = 3;
    assert_string_equal(fmt(&a, buf), "fe80::1%eth0");
    /* A name that is not NUL-terminated is read to 15 characters; bad bytes show as '?'. */
    memset(a.scope_name, 'x', sizeof a.scope_name);
    a.scope_name[2] = '\n';
    a.port = 1;
    assert_string_equal(fmt(&a, buf), "[fe80::1%xx?xxxxxxxxxxxx]:1");

    /* Overflow is reported by the builder. */
    char small[8];
    struct ntk_sb sb;
    ntk_sb_init(&sb, small, sizeof small);
    assert_int_equal(parse_str("[2001:db8::1]:123", &a), 0);
    ntk_addr_format_sb(&a, &sb);
    assert_int_equal(ntk_sb_err(&sb), NTK_ENOSPC);
    assert_string_equal(small, "[2001:d");
}

/* words[0..5] zero and words[6] non-zero: where glibc prints "::a.b.c.d" and RFC 5952 hex. */
static bool is_v4compat_for_glibc(const uint8_t ip[16])
{
    static const uint8_t zero[12] = {0};
    return memcmp(ip, zero, 12) == 0 && (ip[12] | ip[13]) != 0;
}

static void random_v6(uint8_t ip[16])
{
    tu_fill(ip, 16);
    /* Small groups and zero runs are where the rules are. */
    for (size_t i = 0; i < 8; i++) {
        switch (tu_rand() % 4) {
        case 0:
            ip[2 * i] = ip[2 * i + 1] = 0;
            break;
        case 1:
            ip[2 * i] = 0;
            ip[2 * i + 1] &= 0x0f;
            break;
        default:
            break;
        }
    }
    size_t base = (size_t)(tu_rand() % 8), len = (size_t)(tu_rand() % 9);
    for (size_t i = base; i < base + len && i < 8; i++) {
        ip[2 * i] = ip[2 * i + 1] = 0;
    }
    if (tu_rand() % 8 == 0) { /* IPv4-mapped */
        memset(ip, 0, 10);
        ip[10] = ip[11] = 0xff;
    } else if (tu_rand() % 8 == 0) { /* IPv4-compatible */
        memset(ip, 0, 12);
    }
}

static void format_matches_inet_ntop(void **state)
{
    (void)state;
    tu_seed();
    unsigned compat = 0, mapped = 0;
    for (int iter = 0; iter < 20000; iter++) {
        uint8_t ip[16];
        random_v6(ip);
        struct ntk_addr a;
        ntk_addr_set_v6(&a, ip, 0, 0);
        char ours[NTK_ADDRSTR_MAX], ref[INET6_ADDRSTRLEN];
        fmt(&a, ours);
        assert_non_null(inet_ntop(AF_INET6, ip, ref, sizeof ref));
        if (is_v4compat_for_glibc(ip)) {
            /* RFC 5952 §5 recommends mixed notation only for well-known prefixes; we keep
             * it to IPv4-mapped, as IPv4-compatible is deprecated (RFC 4291 §2.5.5.1). */
            char want[NTK_ADDRSTR_MAX];
            unsigned hi = (unsigned)(ip[12] << 8 | ip[13]);
            unsigned lo = (unsigned)(ip[14] << 8 | ip[15]);
            snprintf(want, sizeof want, "::%x:%x", hi, lo);
            assert_string_equal(ours, want);
            assert_true(strchr(ref, '.') != NULL);
            compat++;
        } else {
            if (strcmp(ours, ref) != 0) {
                fail_msg("ours %s, inet_ntop %s", ours, ref);
            }
        }
        mapped += ntk_addr_is_v4mapped(&a);
        /* And it parses back to the same bytes. */
        struct ntk_addr b;
        assert_int_equal(parse_str(ours, &b), 0);
        assert_true(ntk_addr_eq(&a, &b));
    }
    assert_true(compat > 100);
    assert_true(mapped > 100);
}

static void random_addr(struct ntk_addr *a)
{
    memset(a, 0, sizeof *a);
    if (tu_rand() % 2) {
        uint8_t ip[4];
        tu_fill(ip, 4);
        ntk_addr_set_v4(a, ip, (uint16_t)(tu_rand() % 3 ? tu_rand() : 0));
        return;
    }
    uint8_t ip[16];
    random_v6(ip);
    ntk_addr_set_v6(a, ip, (uint16_t)(tu_rand() % 2 ? tu_rand() : 0), 0);
    switch (tu_rand() % 4) {
    case 0:
        a->scope_id = (uint32_t)tu_rand();
        break;
    case 1: {
        static const char cs[] =
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
        size_t n = 1 + (size_t)(tu_rand() % 15);
        for (size_t i = 0; i < n; i++) {
            a->scope_name[i] = cs[tu_rand() % (sizeof cs - 1)];
        }
        a->scope_name[0] = 'e'; /* all digits would be a number */
        break;
    }
    default:
        break;
    }
}

static void format_parse_roundtrip(void **state)
{
    (void)state;
    tu_seed();
    for (int iter = 0; iter < 20000; iter++) {
        struct ntk_addr a, b;
        random_addr(&a);
        char buf[NTK_ADDRSTR_MAX];
        fmt(&a, buf);
        assert_true(strlen(buf) < NTK_ADDRSTR_MAX);
        if (parse_str(buf, &b) != 0) {
            fail_msg("refused own output %s", buf);
        }
        if (!ntk_addr_eq(&a, &b)) {
            fail_msg("round trip changed %s", buf);
        }
        /* The tokenizer entry point sees the same address followed by a space. */
        char line[NTK_ADDRSTR_MAX + 8];
        snprintf(line, sizeof line, "%s iburst", buf);
        struct ntk_tok t;
        ntk_tok_init(&t, line, strlen(line));
        assert_int_equal(ntk_addr_parse(&t, &b), 0);
        assert_true(ntk_addr_eq(&a, &b));
        assert_int_equal(ntk_tok_peek(&t), ' ');
    }
}

/* Checks one string against inet_pton: both accept with the same bytes, or both refuse,
 * except that we also take "a.b.c.d:port". Returns 1 when it was accepted. */
static int check_against_pton(const char *s)
{
    struct ntk_addr a;
    int rc = parse_str(s, &a);
    uint8_t r4[4], r6[16];
    if (inet_pton(AF_INET, s, r4) == 1) {
        if (rc != 0) {
            fail_msg("\"%s\": inet_pton accepts, we say %d", s, rc);
        }
        assert_int_equal(a.family, NTK_ADDR_V4);
        assert_memory_equal(a.ip, r4, 4);
        assert_int_equal(a.port, 0);
        return 1;
    }
    if (inet_pton(AF_INET6, s, r6) == 1) {
        if (rc != 0) {
            fail_msg("\"%s\": inet_pton accepts, we say %d", s, rc);
        }
        assert_int_equal(a.family, NTK_ADDR_V6);
        assert_memory_equal(a.ip, r6, 16);
        return 1;
    }
    if (rc != 0) {
        return 0;
    }
    /* Only "a.b.c.d:port" may be ours alone. */
    const char *colon = strchr(s, ':');
    if (a.family != NTK_ADDR_V4 || a.port == 0 || colon == NULL) {
        fail_msg("\"%s\": inet_pton refuses, we accept", s);
    }
    char v4[32];
    size_t n = (size_t)(colon - s);
    assert_true(n < sizeof v4);
    memcpy(v4, s, n);
    v4[n] = '\0';
    assert_int_equal(inet_pton(AF_INET, v4, r4), 1);
    assert_memory_equal(a.ip, r4, 4);
    assert_int_equal(a.port, (uint16_t)strtoul(colon + 1, NULL, 10));
    return 1;
}

static void parse_agrees_with_inet_pton(void **state)
{
    (void)state;
    tu_seed();
    static const char alphabet[] = "0123456789abcdefABCDEF.:";
    unsigned accepted = 0, total = 0;
    for (int iter = 0; iter < 20000; iter++) {
        char s[64];
        size_t n;
        if (iter % 4 == 0) {
            /* Random strings over the grammar's characters. */
            n = (size_t)(tu_rand() % 24);
            for (size_t i = 0; i < n; i++) {
                s[i] = alphabet[tu_rand() % (sizeof alphabet - 1)];
            }
            s[n] = '\0';
        } else {
            /* Mutants of a valid address (no port, no scope): near the grammar's edges. */
            struct ntk_addr a;
            random_addr(&a);
            a.port = 0;
            a.scope_id = 0;
            a.scope_name[0] = '\0';
            fmt(&a, s);
            n = strlen(s);
            for (int m = (int)(tu_rand() % 3); m > 0; m--) {
                size_t at = n ? (size_t)(tu_rand() % (n + 1)) : 0;
                char c = alphabet[tu_rand() % (sizeof alphabet - 1)];
                switch (tu_rand() % 3) {
                case 0: /* insert */
                    if (n + 1 < sizeof s) {
                        memmove(s + at + 1, s + at, n - at + 1);
                        s[at] = c;
                        n++;
                    }
                    break;
                case 1: /* delete */
                    if (at < n) {
                        memmove(s + at, s + at + 1, n - at);
                        n--;
                    }
                    break;
                default: /* replace */
                    if (at < n) {
                        s[at] = c;
                    }
                    break;
                }
            }
        }
        accepted += (unsigned)check_against_pton(s);
        total++;
    }
    /* Both sides of the boundary were exercised. */
    assert_true(accepted > total / 5);
    assert_true(accepted < total - total / 5);
}

static void eq_compares_every_field(void **state)
{
    (void)state;
    struct ntk_addr a, b;
    assert_int_equal(parse_str("[fe80::1%eth0]:123", &a), 0);
    b = a;
    assert_true(ntk_addr_eq(&a, &b));
    b.port = 124;
    assert_false(ntk_addr_eq(&a, &b));
    b = a;
    b.ip[15] ^= 1;
    assert_false(ntk_addr_eq(&a, &b));
    b = a;
    b.scope_id = 1;
    assert_false(ntk_addr_eq(&a, &b));
    b = a;
    b.scope_name[3] = '1';
    assert_false(ntk_addr_eq(&a, &b));
    b = a;
    b.family = NTK_ADDR_V4;
    assert_false(ntk_addr_eq(&a, &b));
    /* IPv4 compares 4 bytes: garbage past them does not matter. */
    assert_int_equal(parse_str("10.1.2.3", &a), 0);
    b = a;
    b.ip[9] = 7;
    assert_true(ntk_addr_eq(&a, &b));
    /* ::ffff:10.1.2.3 is not 10.1.2.3 until unmapped. */
    assert_int_equal(parse_str("[::ffff:10.1.2.3]:5", &b), 0);
    assert_true(ntk_addr_is_v4mapped(&b));
    assert_false(ntk_addr_eq(&a, &b));
    assert_true(ntk_addr_unmap(&b));
    a.port = 5;
    assert_true(ntk_addr_eq(&a, &b));
    assert_false(ntk_addr_unmap(&b));
    assert_false(ntk_addr_is_v4mapped(&b));
}

static void sockaddr_conversion(void **state)
{
    (void)state;
    struct ntk_addr a, b;
    struct sockaddr_storage ss;
    size_t len = 0;

    assert_int_equal(parse_str("192.0.2.1:123", &a), 0);
    assert_int_equal(ntk_addr_to_sockaddr(&a, &ss, &len), 0);
    assert_int_equal(len, sizeof(struct sockaddr_in));
    const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
    assert_int_equal(sin->sin_family, AF_INET);
    assert_int_equal(ntohs(sin->sin_port), 123);
    assert_int_equal(ntohl(sin->sin_addr.s_addr), 0xc0000201);
    assert_int_equal(ntk_addr_from_sockaddr(&b, (const struct sockaddr *)&ss, len), 0);
    assert_true(ntk_addr_eq(&a, &b));

    assert_int_equal(parse_str("[fe80::1%7]:4460", &a), 0);
    assert_int_equal(ntk_addr_to_sockaddr(&a, &ss, &len), 0);
    assert_int_equal(len, sizeof(struct sockaddr_in6));
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
    assert_int_equal(sin6->sin6_family, AF_INET6);
    assert_int_equal(ntohs(sin6->sin6_port), 4460);
    assert_int_equal(sin6->sin6_scope_id, 7);
    assert_memory_equal(&sin6->sin6_addr, a.ip, 16);
    assert_int_equal(ntk_addr_from_sockaddr(&b, (const struct sockaddr *)&ss, len), 0);
    assert_true(ntk_addr_eq(&a, &b));

    /* Short lengths, other families, unresolvable input; nothing written on error. */
    struct ntk_addr keep = b;
    for (size_t cut = 0; cut < len; cut++) {
        assert_int_equal(ntk_addr_from_sockaddr(&b, (const struct sockaddr *)&ss, cut),
                         NTK_ETRUNC);
    }
    struct sockaddr_un un;
    memset(&un, 0, sizeof un);
    un.sun_family = AF_UNIX;
    assert_int_equal(ntk_addr_from_sockaddr(&b, (const struct sockaddr *)&un, sizeof un),
                     NTK_EUNSUPP);
    assert_true(ntk_addr_eq(&b, &keep));
    memset(&ss, 0x5a, sizeof ss);
    struct sockaddr_storage before = ss;
    assert_int_equal(parse_str("fe80::1%eth0", &a), 0);
    assert_int_equal(ntk_addr_to_sockaddr(&a, &ss, &len), NTK_EINVAL);
    memset(&a, 0, sizeof a);
    assert_int_equal(ntk_addr_to_sockaddr(&a, &ss, &len), NTK_EINVAL);
    assert_memory_equal(&ss, &before, sizeof ss);

    /* Property: every address without a scope name survives the trip. */
    tu_seed();
    for (int iter = 0; iter < 5000; iter++) {
        random_addr(&a);
        a.scope_name[0] = '\0';
        if (a.family == NTK_ADDR_V4) {
            a.scope_id = 0;
        }
        assert_int_equal(ntk_addr_to_sockaddr(&a, &ss, &len), 0);
        assert_int_equal(ntk_addr_from_sockaddr(&b, (const struct sockaddr *)&ss, len), 0);
        assert_true(ntk_addr_eq(&a, &b));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_accepts_table),
        cmocka_unit_test(parse_rejects_table),
        cmocka_unit_test(parse_on_tokenizer),
        cmocka_unit_test(truncations_fail),
        cmocka_unit_test(format_edge_cases),
        cmocka_unit_test(format_matches_inet_ntop),
        cmocka_unit_test(format_parse_roundtrip),
        cmocka_unit_test(parse_agrees_with_inet_pton),
        cmocka_unit_test(eq_compares_every_field),
        cmocka_unit_test(sockaddr_conversion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
