/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpkit_exporter's HTTP shell: the routing of a request (pure, fuzzed: method, path and
 * query parameters to an endpoint or an error status with a reason), the /probe target
 * validation, the process metrics of /proc, and the libmicrohttpd daemon that serves
 * /metrics, /json, /probe and the landing page.
 *
 * libmicrohttpd parses the request line and headers (a malformed request gets its 400) and
 * percent-decodes the query string; exp_http_route sees only the decoded parts through a
 * getter, so the same function serves the daemon and the fuzz target (which parses a raw
 * query string with exp_query_get).
 */
#ifndef NTK_EXP_HTTP_H
#define NTK_EXP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "exp.h"
#include "m6snap.h"

#define EXP_TARGET_MAX        255  /* longest /probe target accepted (bytes) */
#define EXP_PROBE_TIMEOUT_S   5.0  /* /probe timeout when none is asked */
#define EXP_PROBE_TIMEOUT_MAX 30.0 /* the largest timeout= accepted (s) */
#define EXP_NTP_PORT          123  /* /probe default port (SNTP) */
#define EXP_NTSKE_PORT        4460 /* /probe default port with nts=1 (NTS-KE, RFC 8915 §6) */

/* Which endpoint a request goes to. */
enum exp_endpoint {
    EXP_EP_ERROR = 0, /* refused: status and reason say why */
    EXP_EP_LANDING,   /* "/" */
    EXP_EP_METRICS,   /* the telemetry path (default "/metrics") */
    EXP_EP_JSON,      /* "/json" */
    EXP_EP_PROBE,     /* "/probe" with a valid target */
};

/* A validated /probe request. */
struct exp_probe_req {
    char target[EXP_TARGET_MAX + 1]; /* as asked (for the metrics' messages) */
    char host[EXP_TARGET_MAX + 1];   /* host name or IP literal, without brackets */
    uint16_t port;                   /* given, or EXP_NTP_PORT / EXP_NTSKE_PORT */
    bool nts;                        /* nts=1 */
    double timeout_s;                /* timeout=, else EXP_PROBE_TIMEOUT_S */
    bool timeout_given;              /* timeout= was in the request */
};

/* The outcome of routing. */
struct exp_route {
    enum exp_endpoint ep;       /* where to go (EXP_EP_ERROR: answer status with reason) */
    int status;                 /* HTTP status: 200, or 400, 404, 405 */
    char reason[160];           /* for errors: one line, "" for 200 */
    bool head;                  /* HEAD: headers only */
    struct exp_probe_req probe; /* for EXP_EP_PROBE */
};

/* Returns the value of query parameter key (decoded, NUL-terminated), or NULL when absent. */
typedef const char *(*exp_arg_fn)(void *ctx, const char *key);

/* Routes one request: method ("GET", "HEAD", anything else is 405), path (the URL without
 * its query, decoded; NULL is 400), the telemetry path (NULL: "/metrics"), and the query
 * parameters through get(ctx, key). Writes *out always. Unknown paths are 404; /probe
 * without a valid target, with nts= other than 0/1/true/false or timeout= outside
 * (0, EXP_PROBE_TIMEOUT_MAX] is 400 with the reason. */
void exp_http_route(const char *method, const char *path, const char *telemetry_path,
                    exp_arg_fn get, void *ctx, struct exp_route *out);

/* The timeout of a probe: req->timeout_s when timeout= was given, else the smaller of
 * EXP_PROBE_TIMEOUT_S and Prometheus's X-Prometheus-Scrape-Timeout-Seconds header (hdr, NULL
 * when absent) less 0.5 s, as blackbox_exporter does (never below 0.1 s). */
double exp_probe_timeout(const struct exp_probe_req *req, const char *hdr);

/* Validates a /probe target "HOST", "HOST:PORT", "[IPV6]", "[IPV6]:PORT" or a bare IPv6
 * literal: HOST is a DNS name (letters, digits, '-', '_' inside labels of 1-63 bytes, dots
 * between, 253 bytes at most) or an IPv4/IPv6 literal; PORT 1-65535 in decimal. Writes
 * host[0..cap) and *port (def_port when none is given) and returns true; else false with
 * why[0..whycap) set ("target: port out of range"). */
bool exp_parse_target(const char *s, char *host, size_t cap, uint16_t *port, uint16_t def_port,
                      char *why, size_t whycap);

/* Finds key in a raw query string "a=1&b=x%20y" (no leading '?'; '+' is a space, %XX
 * decoded; a key without '=' has the value ""). Writes the decoded value to out[0..cap) and
 * returns out, or NULL when the key is absent or its decoded value does not fit or holds a
 * NUL byte. The first occurrence wins, as in libmicrohttpd. */
const char *exp_query_get(const char *query, const char *key, char *out, size_t cap);

/* Reads the exporter's own process metrics from /proc/self (stat, statm, fd) into the
 * numeric fields of *self (those that cannot be read are left unchanged). */
void exp_self_read(struct exp_self *self);

/* What the daemon serves and where. */
struct exp_http_cfg {
    struct sockaddr_storage listen; /* where to listen (ignored when listen_fd >= 0) */
    socklen_t listen_len;
    int listen_fd;              /* a bound, listening socket (systemd), or -1 */
    const char *telemetry_path; /* NULL: "/metrics" */
    struct m6_target ntp;       /* the daemon read at scrape time */
    const char *nts_ca;         /* CA file for NTS probes (NULL: the system store) */
    unsigned conn_limit;        /* open connections at most (0: 64) */
    unsigned per_ip_limit;      /* per client address (0: 16) */
    unsigned conn_timeout_s;    /* idle connection timeout (0: 10) */
};

struct exp_http;

/* Starts the daemon (its own polling thread). Returns it, or NULL with why[0..cap) set. */
struct exp_http *exp_http_start(const struct exp_http_cfg *cfg, char *why, size_t cap);

/* The TCP port it listens on (host order; useful after listening on port 0). */
uint16_t exp_http_port(const struct exp_http *h);

/* Stops the daemon, closing every connection, and frees it (NULL is fine). */
void exp_http_stop(struct exp_http *h);

#endif /* NTK_EXP_HTTP_H */
