/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz target for ntpkit_exporter's request routing: "METHOD\nPATH?QUERY" through
 * exp_query_get (the raw query) and exp_http_route, checking the status set and that an
 * accepted /probe target is well-formed and parses again to the same host and port. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exp_http.h"
#include "fuzz.h"

#include "poison.h"

static const char *qget(void *ctx, const char *key)
{
    static char buf[512];
    const char *v = exp_query_get(ctx, key, buf, sizeof buf);
    FUZZ_CHECK(v == NULL || (v == buf && strlen(buf) < sizeof buf));
    return v;
}

/* Re-parses the host and port of an accepted probe: the same values must come back. */
static void check_probe(const struct exp_probe_req *q)
{
    FUZZ_CHECK(q->host[0] != '\0' && q->port != 0);
    FUZZ_CHECK(q->timeout_s > 0 && q->timeout_s <= EXP_PROBE_TIMEOUT_MAX);
    char again[EXP_TARGET_MAX + 16], host[EXP_TARGET_MAX + 1], why[96];
    size_t n = strlen(q->host);
    bool v6 = strchr(q->host, ':') != NULL;
    FUZZ_CHECK(n + 10 < sizeof again);
    size_t o = 0;
    if (v6)
        again[o++] = '[';
    memcpy(again + o, q->host, n);
    o += n;
    if (v6)
        again[o++] = ']';
    again[o++] = ':';
    unsigned p = q->port;
    char digits[6];
    int k = 0;
    do {
        digits[k++] = (char)('0' + p % 10);
        p /= 10;
    } while (p != 0);
    while (k > 0)
        again[o++] = digits[--k];
    again[o] = '\0';
    uint16_t port = 0;
    if (o <= EXP_TARGET_MAX) {
        FUZZ_CHECK(exp_parse_target(again, host, sizeof host, &port, 1, why, sizeof why));
        FUZZ_CHECK(strcmp(host, q->host) == 0 && port == q->port);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    char *nl = strchr(s, '\n');
    const char *method = "GET";
    char *url = s;
    if (nl != NULL) {
        *nl = '\0';
        method = s;
        url = nl + 1;
    }
    char *q = strchr(url, '?');
    const char *query = "";
    if (q != NULL) {
        *q = '\0';
        query = q + 1;
    }
    struct exp_route r;
    exp_http_route(method, url, "/metrics", qget, (void *)(uintptr_t)query, &r);
    FUZZ_CHECK(r.status == 200 || r.status == 400 || r.status == 404 || r.status == 405);
    FUZZ_CHECK((r.status == 200) == (r.ep != EXP_EP_ERROR));
    FUZZ_CHECK((r.status == 200) == (r.reason[0] == '\0'));
    FUZZ_CHECK(strlen(r.reason) < sizeof r.reason);
    if (r.ep == EXP_EP_PROBE)
        check_probe(&r.probe);
    /* The whole input as a target: never crashes, and what it accepts re-parses. */
    struct exp_probe_req t = {.timeout_s = 1};
    char why[96];
    if (exp_parse_target(query, t.host, sizeof t.host, &t.port, 123, why, sizeof why))
        check_probe(&t);
    else
        FUZZ_CHECK(strncmp(why, "target: ", 8) == 0);
    free(s);
    return 0;
}
