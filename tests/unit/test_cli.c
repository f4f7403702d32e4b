/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for cli/common (ntkcli): number parsing, resolution, UDP sockets, address
 * comparison, JSON helpers, diagnostics and keys-file loading. */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli_json.h"
#include "cli_keys.h"
#include "cli_log.h"
#include "cli_num.h"
#include "cli_udp.h"
#include "ntk/mac.h"
#include "ntk/ntime.h"
#include "testutil.h"

#include "poison.h"

/* ==== cli_parse_long / cli_parse_double ==== */

struct long_case {
    const char *s;
    long min, max;
    bool ok;
    long want;
};

static const struct long_case long_cases[] = {
    {"0", 0, 10, true, 0},
    {"10", 0, 10, true, 10},
    {"11", 0, 10, false, 0},
    {"-1", 0, 10, false, 0},
    {"-1", -5, 5, true, -1},
    {"-5", -5, 5, true, -5},
    {"-6", -5, 5, false, 0},
    {"+7", 0, 10, true, 7},
    {"007", 0, 10, true, 7},
    {"-0", 0, 10, true, 0},
    {"9223372036854775807", LONG_MIN, LONG_MAX, true, LONG_MAX},
    {"-9223372036854775808", LONG_MIN, LONG_MAX, true, LONG_MIN},
    {"9223372036854775808", LONG_MIN, LONG_MAX, false, 0}, /* ERANGE */
    {"-9223372036854775809", LONG_MIN, LONG_MAX, false, 0},
    {"99999999999999999999999", LONG_MIN, LONG_MAX, false, 0},
    {"", 0, 10, false, 0},
    {" 5", 0, 10, false, 0},
    {"\t5", 0, 10, false, 0},
    {"5 ", 0, 10, false, 0},
    {"5\n", 0, 10, false, 0},
    {"5x", 0, 10, false, 0},
    {"x5", 0, 10, false, 0},
    {"0x10", 0, 100, false, 0},
    {"1e3", 0, 10000, false, 0},
    {"1.0", 0, 10, false, 0},
    {".5", 0, 10, false, 0},
    {"-", 0, 10, false, 0},
    {"+", 0, 10, false, 0},
    {"--1", -10, 10, false, 0},
    {"+-1", -10, 10, false, 0},
    {"- 1", -10, 10, false, 0},
    {"1 000", 0, 10000, false, 0},
};

static void parse_long_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof long_cases / sizeof long_cases[0]; i++) {
        const struct long_case *c = &long_cases[i];
        long out = -42;
        bool ok = cli_parse_long(c->s, c->min, c->max, &out);
        if (ok != c->ok || out != (c->ok ? c->want : -42))
            fail_msg("case %zu '%s': ok %d out %ld", i, c->s, ok, out);
    }
    long out = -42;
    assert_false(cli_parse_long(NULL, 0, 10, &out));
    assert_int_equal(out, -42);
}

struct double_case {
    const char *s;
    double min, max;
    bool ok;
    double want;
};

static const struct double_case double_cases[] = {
    {"5", 0, 10, true, 5},
    {"0.25", 0, 10, true, 0.25},
    {".5", 0, 10, true, 0.5},
    {"-.5", -1, 1, true, -0.5},
    {"+0.5", -1, 1, true, 0.5},
    {"5.", 0, 10, true, 5},
    {"1e3", 0, 1e4, true, 1000},
    {"1E-3", 0, 1, true, 0.001},
    {"2.5e+1", 0, 100, true, 25},
    {"0.001", 0.001, 3600, true, 0.001}, /* the bounds are inclusive */
    {"3600", 0.001, 3600, true, 3600},
    {"3600.0001", 0.001, 3600, false, 0},
    {"0", 0.001, 3600, false, 0},
    {"-1", 0, 10, false, 0},
    {"1e", 0, 10, false, 0},
    {"1e+", 0, 10, false, 0},
    {"e3", 0, 1e4, false, 0},
    {".", 0, 10, false, 0},
    {"-.", -1, 10, false, 0},
    {".e1", 0, 10, false, 0},
    {"inf", 0, INFINITY, false, 0},
    {"-inf", -INFINITY, 0, false, 0},
    {"infinity", 0, INFINITY, false, 0},
    {"nan", -INFINITY, INFINITY, false, 0},
    {"1e400", 0, INFINITY, false, 0}, /* overflows to inf: ERANGE */
    {"", 0, 10, false, 0},
    {" 1", 0, 10, false, 0},
    {"1 ", 0, 10, false, 0},
    {"1,5", 0, 10, false, 0},
    {"1.5.", 0, 10, false, 0},
    {"0x10", 0, 100, false, 0}, /* the contract says decimal: no hex floats */
    {"0x1p3", 0, 100, false, 0},
};

static void parse_double_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof double_cases / sizeof double_cases[0]; i++) {
        const struct double_case *c = &double_cases[i];
        double out = -42;
        bool ok = cli_parse_double(c->s, c->min, c->max, &out);
        if (ok != c->ok || out != (c->ok ? c->want : -42))
            fail_msg("case %zu '%s': ok %d out %g", i, c->s, ok, out);
    }
    double out = -42;
    assert_false(cli_parse_double(NULL, 0, 10, &out));
    assert_true(out == -42);
}

/* ==== cli_resolve / cli_parse_bind ==== */

/* getaddrinfo is interposed so that a resolver answer with duplicates (and an address family
 * cli_resolve must skip) can be tested: names ending in ".fake.invalid" get a made-up answer,
 * every other call goes to the real one. Each node is one allocation with its address, as
 * glibc's freeaddrinfo (free(ai_canonname), free(ai)) expects. */
static struct addrinfo last_hints;
static char last_service[16];

static struct addrinfo *fake_ai(const char *ip, uint16_t port, struct addrinfo *next)
{
    struct node {
        struct addrinfo ai;
        struct sockaddr_storage ss;
    } *n = calloc(1, sizeof *n);
    if (n == NULL)
        return next;
    n->ai.ai_socktype = SOCK_DGRAM;
    n->ai.ai_protocol = IPPROTO_UDP;
    n->ai.ai_addr = (struct sockaddr *)&n->ss;
    n->ai.ai_next = next;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&n->ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&n->ss;
    if (strcmp(ip, "unix") == 0) {
        n->ai.ai_family = AF_UNIX;
        n->ss.ss_family = AF_UNIX;
        n->ai.ai_addrlen = sizeof(sa_family_t) + 8;
    } else if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) {
        n->ai.ai_family = a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        n->ai.ai_addrlen = sizeof *a4;
    } else if (inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1) {
        n->ai.ai_family = a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        n->ai.ai_addrlen = sizeof *a6;
    }
    return &n->ai;
}

int getaddrinfo(const char *restrict node, const char *restrict service,
                const struct addrinfo *restrict hints, struct addrinfo **restrict res)
{
    size_t len = node != NULL ? strlen(node) : 0;
    static const char suffix[] = ".fake.invalid";
    if (len < sizeof suffix || strcmp(node + len - (sizeof suffix - 1), suffix) != 0) {
        int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
        *(void **)&real = dlsym(RTLD_NEXT, "getaddrinfo");
        return real != NULL ? real(node, service, hints, res) : EAI_FAIL;
    }
    last_hints = *hints;
    snprintf(last_service, sizeof last_service, "%s", service != NULL ? service : "");
    uint16_t port = (uint16_t)strtoul(last_service, NULL, 10);
    struct addrinfo *list = NULL;
    if (strcmp(node, "unix.fake.invalid") == 0) {
        list = fake_ai("unix", 0, NULL);
    } else if (strcmp(node, "dup.fake.invalid") == 0) {
        /* Built back to front: the answer reads 127.0.0.1, unix, 127.0.0.2, 127.0.0.1,
         * ::ffff:127.0.0.1, ::1, 127.0.0.2. */
        static const char *const ips[] = {"127.0.0.2", "::1",  "::ffff:127.0.0.1", "127.0.0.1",
                                          "127.0.0.2", "unix", "127.0.0.1"};
        for (size_t i = 0; i < sizeof ips / sizeof ips[0]; i++)
            list = fake_ai(ips[i], port, list);
    } else {
        return EAI_NONAME;
    }
    *res = list;
    return 0;
}

static void resolve_removes_duplicates(void **state)
{
    (void)state;
    struct cli_target t[8];
    memset(t, 0, sizeof t);
    assert_int_equal(cli_resolve("dup.fake.invalid", 4123, AF_UNSPEC, t, 8), 3);
    assert_string_equal(t[0].ip, "127.0.0.1");
    assert_string_equal(t[1].ip, "127.0.0.2");
    assert_string_equal(t[2].ip, "::1");
    for (int i = 0; i < 3; i++)
        assert_int_equal(t[i].port, 4123);
    /* What cli_resolve asked for. */
    assert_string_equal(last_service, "4123");
    assert_int_equal(last_hints.ai_family, AF_UNSPEC);
    assert_int_equal(last_hints.ai_socktype, SOCK_DGRAM);
    assert_int_equal(last_hints.ai_protocol, IPPROTO_UDP);
    assert_true((last_hints.ai_flags & AI_NUMERICSERV) != 0);
    /* The cap counts distinct targets. */
    assert_int_equal(cli_resolve("dup.fake.invalid", 123, AF_INET, t, 2), 2);
    assert_int_equal(last_hints.ai_family, AF_INET);
    assert_string_equal(t[1].ip, "127.0.0.2");
    /* Nothing usable in the answer: an EAI error, not 0. */
    int rc = cli_resolve("unix.fake.invalid", 123, AF_UNSPEC, t, 8);
    assert_int_equal(rc, EAI_NODATA);
    assert_true(rc < 0);
}

static void resolve_numeric(void **state)
{
    (void)state;
    struct cli_target t[4];
    memset(t, 0xa5, sizeof t);
    assert_int_equal(cli_resolve("127.0.0.1", 123, AF_UNSPEC, t, 4), 1);
    assert_string_equal(t[0].ip, "127.0.0.1");
    assert_int_equal(t[0].port, 123);
    assert_int_equal(t[0].len, sizeof(struct sockaddr_in));
    const struct sockaddr_in *a = (const struct sockaddr_in *)&t[0].ss;
    assert_int_equal(a->sin_family, AF_INET);
    assert_int_equal(ntohs(a->sin_port), 123);
    assert_int_equal(ntohl(a->sin_addr.s_addr), INADDR_LOOPBACK);

    assert_int_equal(cli_resolve("::1", 4123, AF_UNSPEC, t, 4), 1);
    assert_string_equal(t[0].ip, "::1"); /* no brackets, no port */
    assert_int_equal(t[0].port, 4123);
    assert_int_equal(t[0].len, sizeof(struct sockaddr_in6));
    const struct sockaddr_in6 *b = (const struct sockaddr_in6 *)&t[0].ss;
    assert_int_equal(b->sin6_family, AF_INET6);
    assert_int_equal(ntohs(b->sin6_port), 4123);
    assert_true(IN6_IS_ADDR_LOOPBACK(&b->sin6_addr));

    assert_int_equal(cli_resolve("2001:db8::1", 1, AF_INET6, t, 4), 1);
    assert_string_equal(t[0].ip, "2001:db8::1");
    assert_int_equal(cli_resolve("192.0.2.1", 65535, AF_INET, t, 4), 1);
    assert_string_equal(t[0].ip, "192.0.2.1");
    assert_int_equal(t[0].port, 65535);

    /* A numeric address of the other family is refused with a negative EAI code. */
    int rc = cli_resolve("::1", 123, AF_INET, t, 4);
    assert_true(rc < 0);
    assert_non_null(gai_strerror(rc));
    rc = cli_resolve("127.0.0.1", 123, AF_INET6, t, 4);
    assert_true(rc < 0);
}

static void resolve_names(void **state)
{
    (void)state;
    struct cli_target t[16];
    int n = cli_resolve("localhost", 123, AF_INET, t, 16);
    assert_true(n >= 1);
    assert_string_equal(t[0].ip, "127.0.0.1");
    for (int i = 0; i < n; i++) {
        assert_int_equal(t[i].ss.ss_family, AF_INET);
        assert_int_equal(t[i].port, 123);
    }
    /* No two targets are the same address and port. */
    n = cli_resolve("localhost", 123, AF_UNSPEC, t, 16);
    assert_true(n >= 1);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            assert_false(cli_sockaddr_eq(&t[i].ss, t[i].len, &t[j].ss, t[j].len));
    /* cap bounds the output. */
    struct cli_target one[2];
    memset(one, 0, sizeof one);
    assert_int_equal(cli_resolve("localhost", 123, AF_UNSPEC, one, 1), 1);
    assert_int_equal(one[1].len, 0);

    int rc = cli_resolve("bad..name.invalid", 123, AF_UNSPEC, t, 16);
    assert_true(rc < 0);
    assert_string_equal(gai_strerror(rc), "Name or service not known");
    rc = cli_resolve("", 123, AF_UNSPEC, t, 16);
    assert_true(rc < 0);
}

static void parse_bind(void **state)
{
    (void)state;
    struct cli_target t;
    assert_true(cli_parse_bind("127.0.0.1", &t));
    assert_int_equal(t.ss.ss_family, AF_INET);
    assert_int_equal(t.port, 0);
    assert_string_equal(t.ip, "127.0.0.1");
    assert_int_equal(t.len, sizeof(struct sockaddr_in));
    assert_true(cli_parse_bind("::1", &t));
    assert_int_equal(t.ss.ss_family, AF_INET6);
    assert_string_equal(t.ip, "::1");
    assert_int_equal(t.port, 0);
    assert_true(cli_parse_bind("0.0.0.0", &t));
    assert_string_equal(t.ip, "0.0.0.0");
    static const char *const bad[] = {"localhost", "",     "1.2.3.4.5",   "127.0.0.1:123",
                                      "[::1]",     "::1 ", "host.invalid"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&t, 0x5a, sizeof t);
        if (cli_parse_bind(bad[i], &t))
            fail_msg("'%s' accepted", bad[i]);
    }
}

/* ==== cli_udp_open / cli_udp_recv ==== */

static double ts_s(const struct timespec *t)
{
    return (double)t->tv_sec + (double)t->tv_nsec * 1e-9;
}

static void udp_round_trip_family(const char *addr, int family)
{
    struct cli_target bind_to;
    assert_true(cli_parse_bind(addr, &bind_to));
    int srv = cli_udp_open(family, &bind_to);
    assert_true(srv >= 0);
    assert_true((fcntl(srv, F_GETFL) & O_NONBLOCK) != 0);
    assert_true((fcntl(srv, F_GETFD) & FD_CLOEXEC) != 0);
    struct sockaddr_storage srv_addr;
    socklen_t srv_len = sizeof srv_addr;
    assert_int_equal(getsockname(srv, (struct sockaddr *)&srv_addr, &srv_len), 0);

    int cli = cli_udp_open(family, NULL);
    assert_true(cli >= 0);
    const uint8_t msg[] = "ntpkit round trip";
    assert_int_equal(sendto(cli, msg, sizeof msg, 0, (struct sockaddr *)&srv_addr, srv_len),
                     sizeof msg);
    struct sockaddr_storage cli_addr;
    socklen_t cli_len = sizeof cli_addr;
    assert_int_equal(getsockname(cli, (struct sockaddr *)&cli_addr, &cli_len), 0);

    struct pollfd p = {.fd = srv, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 2000), 1);
    uint8_t buf[64];
    struct sockaddr_storage from;
    socklen_t fromlen = 0;
    struct timespec rx, now;
    bool kernel = false;
    ssize_t n = cli_udp_recv(srv, buf, sizeof buf, &from, &fromlen, &rx, &kernel);
    clock_gettime(CLOCK_REALTIME, &now);
    assert_int_equal(n, sizeof msg);
    assert_memory_equal(buf, msg, sizeof msg);
    /* From the client's port, at the loopback address it was sent to. */
    struct cli_target want;
    assert_true(cli_parse_bind(addr, &want));
    if (family == AF_INET)
        ((struct sockaddr_in *)&want.ss)->sin_port =
            ((struct sockaddr_in *)&cli_addr)->sin_port;
    else
        ((struct sockaddr_in6 *)&want.ss)->sin6_port =
            ((struct sockaddr_in6 *)&cli_addr)->sin6_port;
    assert_true(cli_sockaddr_eq(&from, fromlen, &want.ss, want.len));
    assert_true(kernel); /* Linux honours SO_TIMESTAMPNS */
    double age = ts_s(&now) - ts_s(&rx);
    if (age < 0 || age > 0.5)
        fail_msg("receive time %.9f s from now", age);

    /* Nothing more queued. */
    assert_int_equal(cli_udp_recv(srv, buf, sizeof buf, &from, &fromlen, &rx, &kernel),
                     -EAGAIN);
    close(cli);
    close(srv);
}

static void udp_round_trip(void **state)
{
    (void)state;
    udp_round_trip_family("127.0.0.1", AF_INET);
    udp_round_trip_family("::1", AF_INET6);
}

static void udp_open_errors(void **state)
{
    (void)state;
    struct cli_target t;
    assert_true(cli_parse_bind("127.0.0.1", &t));
    assert_int_equal(cli_udp_open(AF_INET6, &t), -EAFNOSUPPORT);
    assert_true(cli_parse_bind("192.0.2.1", &t)); /* TEST-NET-1: not ours */
    assert_int_equal(cli_udp_open(AF_INET, &t), -EADDRNOTAVAIL);
    assert_int_equal(cli_udp_open(12345, NULL), -EAFNOSUPPORT);
}

/* ==== cli_sockaddr_eq ==== */

static struct sockaddr_storage v4(const char *ip, uint16_t port, socklen_t *len)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    assert_int_equal(inet_pton(AF_INET, ip, &a->sin_addr), 1);
    *len = sizeof *a;
    return ss;
}

static struct sockaddr_storage v6(const char *ip, uint16_t port, socklen_t *len)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    assert_int_equal(inet_pton(AF_INET6, ip, &a->sin6_addr), 1);
    *len = sizeof *a;
    return ss;
}

static void sockaddr_eq(void **state)
{
    (void)state;
    socklen_t la, lb;
    struct sockaddr_storage a = v4("127.0.0.1", 123, &la);
    struct sockaddr_storage b = v6("::ffff:127.0.0.1", 123, &lb);
    assert_true(cli_sockaddr_eq(&a, la, &a, la));
    assert_true(cli_sockaddr_eq(&a, la, &b, lb)); /* v4-mapped equals v4 */
    assert_true(cli_sockaddr_eq(&b, lb, &a, la));
    b = v6("::ffff:127.0.0.1", 124, &lb);
    assert_false(cli_sockaddr_eq(&a, la, &b, lb));
    b = v4("127.0.0.2", 123, &lb);
    assert_false(cli_sockaddr_eq(&a, la, &b, lb));
    b = v4("127.0.0.1", 124, &lb);
    assert_false(cli_sockaddr_eq(&a, la, &b, lb));
    b = v6("::1", 123, &lb);
    assert_false(cli_sockaddr_eq(&a, la, &b, lb));
    struct sockaddr_storage c = v6("::1", 123, &la);
    assert_true(cli_sockaddr_eq(&b, lb, &c, la));
    c = v6("::1", 1230, &la);
    assert_false(cli_sockaddr_eq(&b, lb, &c, la));
    /* A truncated length or an unknown family never compares equal. */
    assert_false(cli_sockaddr_eq(&b, 4, &b, 4));
    a = v4("127.0.0.1", 123, &la);
    a.ss_family = AF_UNIX;
    assert_false(cli_sockaddr_eq(&a, la, &a, la));
}

/* ==== cli_json_* ==== */

/* Writes o with cli_json_line into a temporary file and returns the text (malloc'd). */
static char *json_text(json_object *o)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    cli_json_line(o, f);
    rewind(f);
    char *buf = calloc(1, 4096);
    assert_non_null(buf);
    size_t n = fread(buf, 1, 4095, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void json_seconds(void **state)
{
    (void)state;
    json_object *o = json_object_new_object();
    cli_json_seconds(o, "a", 1.5);
    cli_json_seconds(o, "b", -0.000775);
    cli_json_seconds(o, "c", 0.0123456789);
    cli_json_seconds(o, "d", 1e-10);
    cli_json_seconds(o, "e", 123456.123456789);
    cli_json_seconds(o, "f", NAN);
    cli_json_seconds(o, "g", INFINITY);
    cli_json_seconds(o, "h", -INFINITY);
    cli_json_seconds(o, "i", 0);
    cli_json_seconds(o, "j", -2.5e-10);
    char *t = json_text(o);
    assert_string_equal(t, "{\"a\":1.500000000,\"b\":-0.000775000,\"c\":0.012345679,"
                           "\"d\":0.000000000,\"e\":123456.123456789,\"f\":null,\"g\":null,"
                           "\"h\":null,\"i\":0.000000000,\"j\":-0.000000000}\n");
    /* The values parse back as numbers. */
    json_object *back = json_tokener_parse(t);
    assert_non_null(back);
    json_object *v;
    assert_true(json_object_object_get_ex(back, "b", &v));
    assert_true(json_object_is_type(v, json_type_double));
    assert_true(json_object_get_double(v) == -0.000775);
    json_object_put(back);
    free(t);
    json_object_put(o);
}

static void json_str_int_bool(void **state)
{
    (void)state;
    json_object *o = json_object_new_object();
    cli_json_str(o, "s", "a\"b/c\\d\n\x01");
    cli_json_str(o, "n", NULL);
    cli_json_str(o, "e", "");
    cli_json_int(o, "i", 42, true);
    cli_json_int(o, "m", -1, true);
    cli_json_int(o, "big", 1LL << 40, true);
    cli_json_int(o, "u", 7, false);
    cli_json_bool(o, "t", true);
    cli_json_bool(o, "f", false);
    char *t = json_text(o);
    assert_string_equal(t,
                        "{\"s\":\"a\\\"b/c\\\\d\\n\\u0001\",\"n\":null,\"e\":\"\",\"i\":42,"
                        "\"m\":-1,\"big\":1099511627776,\"u\":null,\"t\":true,\"f\":false}\n");
    free(t);
    json_object_put(o);
}

static void json_timestamps(void **state)
{
    (void)state;
    struct timespec near = {.tv_sec = 1795662004, .tv_nsec = 0}; /* 2026-11-26 03:00:04 */
    json_object *o = json_object_new_object();
    cli_json_ts(o, "t1", "t1_iso", ntk_ts_make(0xeeb21f34u, 0x8ed35800u), &near, true);
    cli_json_ts(o, "t2", "t2_iso", ntk_ts_make(0xeeb21f34u, 0x8ed35800u), &near, false);
    cli_json_ts(o, "t3", "t3_iso", ntk_ts_make(0, 0), &near, true);
    /* Era 1: 1 s after 2036-02-07 06:28:16, chosen because near is in 2036. */
    struct timespec near36 = {.tv_sec = 2085978496 + 10, .tv_nsec = 0};
    cli_json_ts(o, "t4", "t4_iso", ntk_ts_make(1, 0x80000000u), &near36, true);
    char *t = json_text(o);
    assert_string_equal(
        t, "{\"t1\":\"eeb21f34.8ed35800\",\"t1_iso\":\"2026-11-26T03:00:04."
           "557912350Z\",\"t2\":null,\"t2_iso\":null,\"t3\":\"00000000.00000000\","
           "\"t3_iso\":\"2036-02-07T06:28:16.000000000Z\",\"t4\":\"00000001."
           "80000000\",\"t4_iso\":\"2036-02-07T06:28:17.500000000Z\"}\n");
    free(t);
    json_object_put(o);
}

/* ==== cli_log ==== */

static char *read_all(const char *path)
{
    size_t len;
    char *text = tu_read_file(path, &len);
    assert_non_null(text);
    return text;
}

static void temp_path(char *path, const char *content)
{
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(content);
    assert_int_equal(write(fd, content, n), (ssize_t)n);
    close(fd);
}

static void log_to_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_cli_log_XXXXXX";
    temp_path(path, "old contents\n");
    cli_log_init("testprog");
    cli_log_set_debug(0);
    assert_int_equal(cli_log_open(path), 0);
    cli_err("one %d", 1);
    cli_dbg(1, "hidden");
    cli_log_set_debug(2);
    assert_int_equal(cli_log_debug(), 2);
    cli_dbg(2, "shown %s", "too");
    cli_dbg(3, "hidden");
    cli_err("%s", "100% literal");
    cli_log_close();
    cli_log_set_debug(0);
    char *text = read_all(path);
    assert_string_equal(text,
                        "testprog: one 1\ntestprog: shown too\ntestprog: 100% literal\n");
    free(text);

    /* Reopening truncates; a second open replaces the first. */
    char other[] = "/tmp/test_cli_log_XXXXXX";
    temp_path(other, "");
    assert_int_equal(cli_log_open(path), 0);
    cli_err("first");
    assert_int_equal(cli_log_open(other), 0);
    cli_err("second");
    cli_log_close();
    text = read_all(path);
    assert_string_equal(text, "testprog: first\n");
    free(text);
    text = read_all(other);
    assert_string_equal(text, "testprog: second\n");
    free(text);
    unlink(path);
    unlink(other);
}

static void log_open_failure(void **state)
{
    (void)state;
    cli_log_init("testprog");
    assert_int_equal(cli_log_open("/nonexistent-dir/x.log"), -ENOENT);
    /* Diagnostics stay on stderr. */
    fflush(stderr);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    dup2(fileno(tmp), STDERR_FILENO);
    cli_err("after %s", "failure");
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(tmp);
    char buf[128] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, tmp);
    fclose(tmp);
    buf[n] = '\0';
    assert_string_equal(buf, "testprog: after failure\n");
}

/* ==== cli_keys_load ==== */

static size_t count_lines_of(const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; s++)
        n += *s == '\n';
    return n;
}

/* Loads path with diagnostics going to a temporary log; returns the log text. */
static char *load_keys(const char *path, int *rc, struct ntk_mac_keys **ks)
{
    char log[] = "/tmp/test_cli_keys_XXXXXX";
    temp_path(log, "");
    cli_log_init("testprog");
    assert_int_equal(cli_log_open(log), 0);
    *rc = cli_keys_load(path, ks);
    cli_log_close();
    char *text = read_all(log);
    unlink(log);
    return text;
}

static void keys_load_good(void **state)
{
    (void)state;
    struct ntk_mac_keys *ks = NULL;
    int rc;
    char *log = load_keys(NTK_TEST_DATA_DIR "/symkey.keys", &rc, &ks);
    assert_int_equal(rc, 0);
    assert_string_equal(log, "");
    free(log);
    assert_non_null(ks);
    assert_int_equal(ntk_mac_keys_count(ks), 3);
    enum ntk_mac_type type;
    assert_int_equal(ntk_mac_keys_lookup(ks, 1, &type), 0);
    assert_int_equal(type, NTK_MAC_MD5);
    assert_int_equal(ntk_mac_keys_lookup(ks, 2, &type), 0);
    assert_int_equal(type, NTK_MAC_SHA1);
    assert_int_equal(ntk_mac_keys_lookup(ks, 3, &type), 0);
    assert_int_equal(type, NTK_MAC_AES128_CMAC);
    assert_true(ntk_mac_keys_lookup(ks, 4, &type) != 0);
    ntk_mac_keys_free(ks);
}

static void keys_load_missing(void **state)
{
    (void)state;
    struct ntk_mac_keys *ks = NULL;
    int rc;
    char *log = load_keys(NTK_TEST_DATA_DIR "/no-such.keys", &rc, &ks);
    assert_int_equal(rc, 1);
    assert_null(ks);
    assert_string_equal(log,
                        "testprog: " NTK_TEST_DATA_DIR
                        "/no-such.keys: cannot open keys file: No such file or directory\n");
    free(log);
    /* A directory opens but cannot be read. */
    log = load_keys(NTK_TEST_DATA_DIR, &rc, &ks);
    assert_int_equal(rc, 1);
    assert_null(ks);
    assert_int_equal(count_lines_of(log), 1);
    free(log);
}

static void keys_load_bad_line(void **state)
{
    (void)state;
    char path[] = "/tmp/test_cli_keys_XXXXXX";
    temp_path(path, "# comment\n"
                    "1 MD5 goodsecret\n"
                    "2 SHA1 8bb9956fb1c117e638fb115ea395d8b08105ee6g\n"
                    "3 AES 2450c2ae8f928858877f1b7bf8f6af79\n");
    struct ntk_mac_keys *ks = NULL;
    int rc;
    char *log = load_keys(path, &rc, &ks);
    assert_int_equal(rc, 0);
    assert_non_null(ks);
    assert_int_equal(ntk_mac_keys_count(ks), 2);
    assert_int_equal(ntk_mac_keys_lookup(ks, 1, NULL), 0);
    assert_true(ntk_mac_keys_lookup(ks, 2, NULL) != 0);
    assert_int_equal(ntk_mac_keys_lookup(ks, 3, NULL), 0);
    ntk_mac_keys_free(ks);
    /* One line "prog: file:line:col: error: ...", the column at the bad digit. */
    char want[160];
    snprintf(want, sizeof want, "testprog: %s:3:47: error: invalid hex digit in key (key 2)\n",
             path);
    assert_string_equal(log, want);
    free(log);
    unlink(path);

    /* Comments only: an empty store, no complaint. */
    char empty[] = "/tmp/test_cli_keys_XXXXXX";
    temp_path(empty, "# nothing here\n\n");
    log = load_keys(empty, &rc, &ks);
    assert_int_equal(rc, 0);
    assert_string_equal(log, "");
    assert_int_equal(ntk_mac_keys_count(ks), 0);
    ntk_mac_keys_free(ks);
    free(log);
    unlink(empty);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_long_table),
        cmocka_unit_test(parse_double_table),
        cmocka_unit_test(resolve_numeric),
        cmocka_unit_test(resolve_names),
        cmocka_unit_test(resolve_removes_duplicates),
        cmocka_unit_test(parse_bind),
        cmocka_unit_test(udp_round_trip),
        cmocka_unit_test(udp_open_errors),
        cmocka_unit_test(sockaddr_eq),
        cmocka_unit_test(json_seconds),
        cmocka_unit_test(json_str_int_bool),
        cmocka_unit_test(json_timestamps),
        cmocka_unit_test(log_to_file),
        cmocka_unit_test(log_open_failure),
        cmocka_unit_test(keys_load_good),
        cmocka_unit_test(keys_load_missing),
        cmocka_unit_test(keys_load_bad_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
