/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for exporters/exp_http.c and exp_opts.c: routing and /probe parameter checks
 * (tables and seeded properties), the query-string parser, the command line, the process
 * metrics, and a real libmicrohttpd daemon on 127.0.0.1 answered over raw sockets. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "exp_http.h"
#include "exp_opts.h"
#include "testutil.h"

#include "poison.h"

/* A query string as the getter's context. */
static const char *qget(void *ctx, const char *key)
{
    static char buf[1024];
    return exp_query_get(ctx, key, buf, sizeof buf);
}

struct route_case {
    const char *method, *path, *query;
    enum exp_endpoint ep;
    int status;
    const char *reason; /* errors */
    const char *host;   /* probes */
    uint16_t port;
    bool nts;
    double timeout_s;
};

static const struct route_case ROUTES[] = {
    {"GET", "/metrics", "", EXP_EP_METRICS, 200, "", NULL, 0, false, 0},
    {"HEAD", "/metrics", "", EXP_EP_METRICS, 200, "", NULL, 0, false, 0},
    {"GET", "/", "", EXP_EP_LANDING, 200, "", NULL, 0, false, 0},
    {"GET", "/json", "x=1", EXP_EP_JSON, 200, "", NULL, 0, false, 0},
    {"POST", "/metrics", "", EXP_EP_ERROR, 405, "method not allowed: only GET and HEAD", NULL,
     0, false, 0},
    {"PUT", "/", "", EXP_EP_ERROR, 405, "method not allowed: only GET and HEAD", NULL, 0,
     false, 0},
    {"get", "/", "", EXP_EP_ERROR, 405, "method not allowed: only GET and HEAD", NULL, 0,
     false, 0},
    {NULL, "/", "", EXP_EP_ERROR, 405, "method not allowed: only GET and HEAD", NULL, 0, false,
     0},
    {"GET", "metrics", "", EXP_EP_ERROR, 400, "bad request: the path must start with /", NULL,
     0, false, 0},
    {"GET", NULL, "", EXP_EP_ERROR, 400, "bad request: the path must start with /", NULL, 0,
     false, 0},
    {"GET", "/metrics/", "", EXP_EP_ERROR, 404, "not found", NULL, 0, false, 0},
    {"GET", "/favicon.ico", "", EXP_EP_ERROR, 404, "not found", NULL, 0, false, 0},
    {"GET", "/probe", "", EXP_EP_ERROR, 400, "probe: missing target parameter", NULL, 0, false,
     0},
    {"GET", "/probe", "target=", EXP_EP_ERROR, 400, "probe: missing target parameter", NULL, 0,
     false, 0},
    {"GET", "/probe", "target=time.example.org", EXP_EP_PROBE, 200, "", "time.example.org",
     123, false, 5.0},
    {"GET", "/probe", "target=time.example.org&nts=1", EXP_EP_PROBE, 200, "",
     "time.example.org", 4460, true, 5.0},
    {"GET", "/probe", "nts=true&target=10.1.2.3%3A1123&timeout=0.5", EXP_EP_PROBE, 200, "",
     "10.1.2.3", 1123, true, 0.5},
    {"GET", "/probe", "target=%5B2001%3Adb8%3A%3A1%5D:4460&nts=0", EXP_EP_PROBE, 200, "",
     "2001:db8::1", 4460, false, 5.0},
    {"GET", "/probe", "target=::1", EXP_EP_PROBE, 200, "", "::1", 123, false, 5.0},
    {"GET", "/probe", "target=a&target=b.", EXP_EP_PROBE, 200, "", "a", 123, false, 5.0},
    {"GET", "/probe", "target=ntp_1.x-y.example.", EXP_EP_PROBE, 200, "", "ntp_1.x-y.example.",
     123, false, 5.0},
    {"GET", "/probe", "target=a&timeout=30", EXP_EP_PROBE, 200, "", "a", 123, false, 30.0},
    {"GET", "/probe", "target=a&nts=yes", EXP_EP_ERROR, 400, "probe: nts must be 0 or 1", NULL,
     0, false, 0},
    {"GET", "/probe", "target=a&timeout=0", EXP_EP_ERROR, 400,
     "probe: timeout must be seconds in (0, 30]", NULL, 0, false, 0},
    {"GET", "/probe", "target=a&timeout=30.5", EXP_EP_ERROR, 400,
     "probe: timeout must be seconds in (0, 30]", NULL, 0, false, 0},
    {"GET", "/probe", "target=a&timeout=-1", EXP_EP_ERROR, 400,
     "probe: timeout must be seconds in (0, 30]", NULL, 0, false, 0},
    {"GET", "/probe", "target=a&timeout=nan", EXP_EP_ERROR, 400,
     "probe: timeout must be seconds in (0, 30]", NULL, 0, false, 0},
    {"GET", "/probe", "target=a&timeout=1s", EXP_EP_ERROR, 400,
     "probe: timeout must be seconds in (0, 30]", NULL, 0, false, 0},
    {"GET", "/probe", "target=a:0", EXP_EP_ERROR, 400, "probe: target: port must be 1-65535",
     NULL, 0, false, 0},
    {"GET", "/probe", "target=a:65536", EXP_EP_ERROR, 400,
     "probe: target: port must be 1-65535", NULL, 0, false, 0},
    {"GET", "/probe", "target=a:", EXP_EP_ERROR, 400, "probe: target: port must be 1-65535",
     NULL, 0, false, 0},
    {"GET", "/probe", "target=a:+12", EXP_EP_ERROR, 400, "probe: target: port must be 1-65535",
     NULL, 0, false, 0},
    {"GET", "/probe", "target=a..b", EXP_EP_ERROR, 400, "probe: target: not a valid host name",
     NULL, 0, false, 0},
    {"GET", "/probe", "target=-a", EXP_EP_ERROR, 400, "probe: target: not a valid host name",
     NULL, 0, false, 0},
    {"GET", "/probe", "target=a-.b", EXP_EP_ERROR, 400, "probe: target: not a valid host name",
     NULL, 0, false, 0},
    {"GET", "/probe", "target=a%20b", EXP_EP_ERROR, 400,
     "probe: target: not a valid host name", NULL, 0, false, 0},
    {"GET", "/probe", "target=a/b", EXP_EP_ERROR, 400, "probe: target: not a valid host name",
     NULL, 0, false, 0},
    {"GET", "/probe", "target=%3Cscript%3E", EXP_EP_ERROR, 400,
     "probe: target: not a valid host name", NULL, 0, false, 0},
    {"GET", "/probe", "target=1.2.3.256", EXP_EP_ERROR, 400,
     "probe: target: not an IPv4 address", NULL, 0, false, 0},
    {"GET", "/probe", "target=1.2.3", EXP_EP_ERROR, 400, "probe: target: not an IPv4 address",
     NULL, 0, false, 0},
    {"GET", "/probe", "target=[1.2.3.4]", EXP_EP_ERROR, 400,
     "probe: target: not an IPv6 address", NULL, 0, false, 0},
    {"GET", "/probe", "target=fe80::1%25eth0", EXP_EP_ERROR, 400,
     "probe: target: not an IPv6 address", NULL, 0, false, 0},
    {"GET", "/probe", "target=[::1", EXP_EP_ERROR, 400, "probe: target: '[' without ']'", NULL,
     0, false, 0},
    {"GET", "/probe", "target=[::1]x", EXP_EP_ERROR, 400,
     "probe: target: text after ']' must be :PORT", NULL, 0, false, 0},
};

static void route_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ROUTES / sizeof ROUTES[0]; i++) {
        const struct route_case *c = &ROUTES[i];
        struct exp_route r;
        exp_http_route(c->method, c->path, NULL, qget, (void *)(uintptr_t)c->query, &r);
        fprintf(stderr, "# case %zu: %s %s?%s -> %d %s\n", i, c->method ? c->method : "-",
                c->path ? c->path : "-", c->query, r.status, r.reason);
        assert_int_equal(r.ep, c->ep);
        assert_int_equal(r.status, c->status);
        assert_string_equal(r.reason, c->reason);
        if (c->ep == EXP_EP_PROBE) {
            assert_string_equal(r.probe.host, c->host);
            assert_int_equal(r.probe.port, c->port);
            assert_int_equal(r.probe.nts, c->nts);
            assert_true(r.probe.timeout_s == c->timeout_s);
        }
    }
}

static void route_custom_path_and_long_target(void **state)
{
    (void)state;
    struct exp_route r;
    exp_http_route("GET", "/x/metrics", "/x/metrics", qget, (void *)(uintptr_t) "", &r);
    assert_int_equal(r.ep, EXP_EP_METRICS);
    exp_http_route("GET", "/metrics", "/x/metrics", qget, (void *)(uintptr_t) "", &r);
    assert_int_equal(r.status, 404);
    char q[400] = "target=";
    for (size_t i = 7; i < 7 + 250; i++)
        q[i] = (i % 50 == 0) ? '.' : 'a';
    memcpy(q + 7 + 250, ":1234", 6); /* 255 bytes, labels of 49 or fewer: accepted */
    exp_http_route("GET", "/probe", NULL, qget, q, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(strlen(r.probe.host), 250);
    assert_int_equal(r.probe.port, 1234);
    memcpy(q + 7 + 250, ":12345", 7); /* 256 bytes */
    exp_http_route("GET", "/probe", NULL, qget, q, &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(r.reason, "probe: target: longer than 255 bytes");
    memset(q + 7 + 250, 'a', 3); /* a 253-byte name is the longest */
    q[7 + 253] = '\0';
    exp_http_route("GET", "/probe", NULL, qget, q, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(strlen(r.probe.host), 253);
    q[7 + 253] = 'a'; /* 254 bytes: too long a name */
    q[7 + 254] = '\0';
    exp_http_route("GET", "/probe", NULL, qget, q, &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(r.reason, "probe: target: not a valid host name");
}

/* Prometheus's scrape timeout header bounds a probe without timeout= (blackbox style). */
static void probe_timeout_header(void **state)
{
    (void)state;
    struct exp_route r;
    exp_http_route("GET", "/probe", NULL, qget, (void *)(uintptr_t) "target=a", &r);
    assert_false(r.probe.timeout_given);
    assert_true(exp_probe_timeout(&r.probe, NULL) == 5.0);
    assert_true(exp_probe_timeout(&r.probe, "3") == 2.5);
    assert_true(exp_probe_timeout(&r.probe, "0.5") == 0.1);
    assert_true(exp_probe_timeout(&r.probe, "10") == 5.0);
    assert_true(exp_probe_timeout(&r.probe, "x") == 5.0);
    assert_true(exp_probe_timeout(&r.probe, "2s") == 5.0);
    assert_true(exp_probe_timeout(&r.probe, "inf") == 5.0);
    exp_http_route("GET", "/probe", NULL, qget, (void *)(uintptr_t) "target=a&timeout=8", &r);
    assert_true(r.probe.timeout_given);
    assert_true(exp_probe_timeout(&r.probe, "3") == 8.0);
}

static void query_get_table(void **state)
{
    (void)state;
    char b[8];
    assert_string_equal(exp_query_get("a=1&b=2", "b", b, sizeof b), "2");
    assert_string_equal(exp_query_get("a=1&a=2", "a", b, sizeof b), "1");
    assert_string_equal(exp_query_get("a&b=2", "a", b, sizeof b), "");
    assert_string_equal(exp_query_get("x+y=a+b%21", "x y", b, sizeof b), "a b!");
    assert_string_equal(exp_query_get("a=%zz%4", "a", b, sizeof b), "%zz%4");
    assert_string_equal(exp_query_get("%61=%41", "a", b, sizeof b), "A");
    assert_string_equal(exp_query_get("&&a=1&", "a", b, sizeof b), "1");
    assert_null(exp_query_get("a=12345678", "a", b, sizeof b)); /* 8 bytes + NUL: no room */
    assert_string_equal(exp_query_get("a=1234567", "a", b, sizeof b), "1234567");
    assert_null(exp_query_get("a=%00", "a", b, sizeof b));
    assert_null(exp_query_get("ab=1", "a", b, sizeof b));
    assert_null(exp_query_get("", "a", b, sizeof b));
    assert_null(exp_query_get(NULL, "a", b, sizeof b));
}

static bool all_digit_name(const char *s)
{
    return strspn(s, "0123456789.") == strlen(s);
}

/* Every host built from valid parts round-trips with every port; random bytes never crash
 * and an accepted host has only the characters a name or literal can have. */
static void target_property(void **state)
{
    (void)state;
    tu_seed();
    static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789-_";
    for (int it = 0; it < 2000; it++) {
        char name[80], t[100], host[EXP_TARGET_MAX + 1], why[96];
        size_t n = 1 + tu_rand() % 60, o = 0;
        for (size_t i = 0; i < n; i++) {
            char c = alpha[tu_rand() % (sizeof alpha - 1)];
            bool edge = o == 0 || i == n - 1 || name[o - 1] == '.';
            name[o++] = (c == '-' && edge) ? 'x' : c;
            if (!edge && i + 2 < n && tu_rand() % 8 == 0 && name[o - 1] != '-')
                name[o++] = '.';
        }
        name[o] = '\0';
        if (all_digit_name(name))
            continue;
        uint16_t port = (uint16_t)(1 + tu_rand() % 65535), got = 0;
        snprintf(t, sizeof t, "%s:%u", name, (unsigned)port);
        assert_true(exp_parse_target(t, host, sizeof host, &got, 123, why, sizeof why));
        assert_string_equal(host, name);
        assert_int_equal(got, port);
        uint8_t raw[40];
        tu_fill(raw, sizeof raw);
        for (size_t i = 0; i < sizeof raw; i++)
            t[i] = (char)(raw[i] % 0x7f ? raw[i] % 0x7f : '1');
        t[tu_rand() % 40] = '\0';
        if (exp_parse_target(t, host, sizeof host, &got, 123, why, sizeof why))
            assert_int_equal(strspn(host,
                                    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789-_.:"),
                             strlen(host));
    }
}

static void opts_table(void **state)
{
    (void)state;
    struct exp_opts o;
    char why[160];
    char *a0[] = {"x", NULL};
    assert_int_equal(exp_opts_parse(1, a0, &o, why, sizeof why), 0);
    assert_string_equal(o.listen, "127.0.0.1:10123");
    assert_string_equal(o.telemetry_path, "/metrics");
    assert_string_equal(o.ntp_host, "127.0.0.1");
    assert_int_equal(o.ntp_port, 123);
    assert_true(o.ntp_timeout_s == 2.0);
    assert_int_equal(o.log_level, EXP_LOG_INFO);
    char *a1[] = {"x",          "--web.listen-address=[::1]:9", "-ntp.address",
                  "[::1]:1123", "--ntp.timeout=0.25",           "--log.level",
                  "debug",      "--web.telemetry-path=/m",      "--nts.ca=/ca.pem",
                  NULL};
    assert_int_equal(exp_opts_parse(9, a1, &o, why, sizeof why), 0);
    assert_string_equal(o.listen, "[::1]:9");
    assert_string_equal(o.ntp_host, "::1");
    assert_int_equal(o.ntp_port, 1123);
    assert_true(o.ntp_timeout_s == 0.25);
    assert_int_equal(o.log_level, EXP_LOG_DEBUG);
    assert_string_equal(o.telemetry_path, "/m");
    assert_string_equal(o.nts_ca, "/ca.pem");
    char *a2[] = {"x", "--ntp.timeout=0", NULL};
    assert_int_equal(exp_opts_parse(2, a2, &o, why, sizeof why), -1);
    assert_string_equal(why, "--ntp.timeout: want seconds in (0, 60]");
    char *a3[] = {"x", "--web.listen-address=example.org:80", NULL};
    assert_int_equal(exp_opts_parse(2, a3, &o, why, sizeof why), -1);
    assert_string_equal(why, "--web.listen-address: want HOST:PORT with a numeric HOST");
    char *a4[] = {"x", "--bogus", NULL};
    assert_int_equal(exp_opts_parse(2, a4, &o, why, sizeof why), -1);
    assert_string_equal(why, "unknown flag or missing value: --bogus");
    char *a5[] = {"x", "--web.telemetry-path=/json", NULL};
    assert_int_equal(exp_opts_parse(2, a5, &o, why, sizeof why), -1);
    char *a6[] = {"x", "stray", NULL};
    assert_int_equal(exp_opts_parse(2, a6, &o, why, sizeof why), -1);
    assert_string_equal(why, "unexpected argument: stray");
    char *a7[] = {"x", "--log.level=trace", NULL};
    assert_int_equal(exp_opts_parse(2, a7, &o, why, sizeof why), -1);
    char *a8[] = {"x", "--ntp.address=bad..name", NULL};
    assert_int_equal(exp_opts_parse(2, a8, &o, why, sizeof why), -1);
    assert_string_equal(why, "--ntp.address: target: not a valid host name");
    char *a9[] = {"x", "--help", NULL};
    assert_int_equal(exp_opts_parse(2, a9, &o, why, sizeof why), 0);
    assert_true(o.help);
    struct sockaddr_storage ss;
    socklen_t len;
    assert_true(exp_parse_listen(":9", &ss, &len));
    assert_int_equal(ss.ss_family, AF_INET);
    assert_false(exp_parse_listen("127.0.0.1", &ss, &len));
    assert_false(exp_parse_listen("127.0.0.1:65536", &ss, &len));
}

static void self_metrics(void **state)
{
    (void)state;
    struct exp_self s = {.start_unix_s = NAN, .cpu_s = NAN, .rss_bytes = NAN, .open_fds = NAN};
    exp_self_read(&s);
    double now = (double)time(NULL);
    assert_true(s.start_unix_s > now - 3600 && s.start_unix_s <= now + 1);
    assert_true(s.cpu_s >= 0 && s.cpu_s < 3600);
    assert_true(s.rss_bytes > 100000 && s.rss_bytes < 1e9);
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    double before = s.open_fds;
    exp_self_read(&s);
    assert_true(s.open_fds == before + 1);
    assert_true(before >= 3);
    close(fd);
}

/* ---- a real daemon ---- */

/* One request on a fresh connection; returns the status (0 on failure), body in out. */
static int http(uint16_t port, const char *req, char *out, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        return 0;
    size_t n = strlen(req), got = 0;
    if (write(fd, req, n) != (ssize_t)n) {
        close(fd);
        return 0;
    }
    for (int i = 0; i < 100 && got + 1 < cap; i++) { /* 10 s at most */
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) == 0)
            continue;
        ssize_t k = read(fd, out + got, cap - 1 - got);
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    out[got] = '\0';
    if (strncmp(out, "HTTP/1.", 7) != 0 || got < 12)
        return 0;
    return (int)strtol(out + 9, NULL, 10);
}

static const char *body(const char *resp)
{
    const char *b = strstr(resp, "\r\n\r\n");
    return b != NULL ? b + 4 : "";
}

struct live {
    int silent; /* a UDP socket that never answers: the "daemon" */
    uint16_t silent_port;
    struct exp_http *h;
    uint16_t port;
};

static int live_setup(void **state)
{
    static struct live L;
    L.silent = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (L.silent < 0 || bind(L.silent, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(L.silent, (struct sockaddr *)&a, &len) != 0)
        return -1;
    L.silent_port = ntohs(a.sin_port);
    struct exp_http_cfg cfg = {
        .listen_fd = -1, .conn_limit = 8, .per_ip_limit = 8, .conn_timeout_s = 2};
    struct sockaddr_in *l = (struct sockaddr_in *)&cfg.listen;
    l->sin_family = AF_INET;
    l->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cfg.listen_len = sizeof *l;
    if (cli_resolve("127.0.0.1", L.silent_port, AF_INET, &cfg.ntp.addr, 1) != 1)
        return -1;
    cfg.ntp.timeout_ms = 300;
    char why[160];
    L.h = exp_http_start(&cfg, why, sizeof why);
    if (L.h == NULL) {
        fprintf(stderr, "# %s\n", why);
        return -1;
    }
    L.port = exp_http_port(L.h);
    *state = &L;
    return 0;
}

static int live_teardown(void **state)
{
    struct live *L = *state;
    exp_http_stop(L->h);
    close(L->silent);
    return 0;
}

static void live_endpoints(void **state)
{
    struct live *L = *state;
    static char r[1 << 16];
    assert_true(L->port != 0);
    assert_int_equal(http(L->port,
                          "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", r,
                          sizeof r),
                     200);
    assert_non_null(strstr(r, "Content-Type: text/plain; version=0.0.4"));
    assert_non_null(strstr(body(r), "\nntpkit_up 0\n"));
    assert_non_null(strstr(body(r), "ntpkit_build_info{"));
    assert_non_null(strstr(body(r), "process_resident_memory_bytes "));
    assert_int_equal(http(L->port,
                          "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: application/"
                          "openmetrics-text; version=1.0.0\r\nConnection: close\r\n\r\n",
                          r, sizeof r),
                     200);
    assert_non_null(strstr(r, "Content-Type: application/openmetrics-text"));
    assert_non_null(strstr(body(r), "# EOF\n"));
    assert_int_equal(http(L->port,
                          "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", r,
                          sizeof r),
                     200);
    assert_string_equal(body(r), "");
    assert_int_equal(http(L->port,
                          "GET /json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", r,
                          sizeof r),
                     200);
    assert_non_null(strstr(r, "Content-Type: application/json"));
    assert_non_null(strstr(body(r), "\"schema\""));
    assert_int_equal(
        http(L->port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", r, sizeof r),
        200);
    assert_non_null(strstr(body(r), "<a href=\"/metrics\">"));
}

static void live_errors(void **state)
{
    struct live *L = *state;
    static char r[1 << 14];
    assert_int_equal(http(L->port,
                          "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                          "Connection: close\r\n\r\nhello",
                          r, sizeof r),
                     405);
    assert_non_null(strstr(r, "Allow: GET, HEAD"));
    assert_string_equal(body(r), "method not allowed: only GET and HEAD\n");
    assert_int_equal(http(L->port,
                          "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", r,
                          sizeof r),
                     404);
    assert_string_equal(body(r), "not found\n");
    assert_int_equal(
        http(L->port,
             "GET /probe?target=a..b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", r,
             sizeof r),
        400);
    assert_string_equal(body(r), "probe: target: not a valid host name\n");
    /* Malformed requests: libmicrohttpd answers 400 itself. */
    assert_int_equal(
        http(L->port, "GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", r, sizeof r), 400);
    assert_int_equal(http(L->port, "GET /\r\n\r\n", r, sizeof r), 400);
}

static void live_probe_silent(void **state)
{
    struct live *L = *state;
    static char r[1 << 14];
    char req[300];
    snprintf(req, sizeof req,
             "GET /probe?target=127.0.0.1:%u&timeout=0.3 HTTP/1.1\r\nHost: x\r\n"
             "Connection: close\r\n\r\n",
             (unsigned)L->silent_port);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(http(L->port, req, r, sizeof r), 200);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double el = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    assert_true(el >= 0.29 && el < 2.0);
    assert_non_null(strstr(body(r), "\nntpkit_probe_success 0\n"));
    assert_non_null(strstr(r, "X-Ntpkit-Probe-Error: timeout\r\n"));
    assert_non_null(strstr(body(r), "probe of 127.0.0.1:"));
    /* No timeout=: Prometheus's header (0.8 s) less 0.5 s bounds it. */
    snprintf(req, sizeof req,
             "GET /probe?target=127.0.0.1:%u HTTP/1.1\r\nHost: x\r\n"
             "X-Prometheus-Scrape-Timeout-Seconds: 0.8\r\nConnection: close\r\n\r\n",
             (unsigned)L->silent_port);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(http(L->port, req, r, sizeof r), 200);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    el = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    assert_true(el >= 0.29 && el < 0.75);
    assert_non_null(strstr(r, "X-Ntpkit-Probe-Error: timeout\r\n"));
}

/* 200 connections beyond the limit of 8: refused or closed, never a crash; afterwards the
 * daemon still answers. */
static void live_connection_flood(void **state)
{
    struct live *L = *state;
    static char r[1 << 16];
    int fds[200];
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(L->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < 200; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fds[i] >= 0);
        (void)connect(fds[i], (struct sockaddr *)&a, sizeof a);
    }
    int closed = 0;
    usleep(300000);
    for (int i = 0; i < 200; i++) {
        char c;
        struct pollfd p = {.fd = fds[i], .events = POLLIN};
        if (poll(&p, 1, 0) == 1 && read(fds[i], &c, 1) <= 0)
            closed++;
    }
    fprintf(stderr, "# %d of 200 connections closed by the server at once\n", closed);
    assert_true(closed >= 200 - 8 - 1);
    for (int i = 0; i < 200; i++)
        close(fds[i]);
    int status = 0; /* the server notices the closed connections within a moment */
    for (int i = 0; i < 50 && status != 200; i++) {
        usleep(100000);
        status = http(L->port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", r,
                      sizeof r);
    }
    assert_int_equal(status, 200);
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(route_table),
        cmocka_unit_test(route_custom_path_and_long_target),
        cmocka_unit_test(query_get_table),
        cmocka_unit_test(target_property),
        cmocka_unit_test(probe_timeout_header),
        cmocka_unit_test(opts_table),
        cmocka_unit_test(self_metrics),
    };
    const struct CMUnitTest live[] = {
        cmocka_unit_test(live_endpoints),
        cmocka_unit_test(live_errors),
        cmocka_unit_test(live_probe_silent),
        cmocka_unit_test(live_connection_flood),
    };
    int rc = cmocka_run_group_tests_name("exp_http", pure, NULL, NULL);
    return rc | cmocka_run_group_tests_name("exp_http_live", live, live_setup, live_teardown);
}
