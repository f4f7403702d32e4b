/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpkit_exporter's HTTP shell: request routing and /probe parameter validation (pure), the
 * process metrics of /proc/self, and the libmicrohttpd daemon serving the endpoints. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "cli_log.h"
#include "exp_http.h"
#include "exp_probe.h"
#include "ntk/sb.h"

#include "poison.h"

#ifndef NTK_VERSION
#define NTK_VERSION "unknown"
#endif

/* ---- routing (pure) ---- */

__attribute__((format(printf, 3, 4))) static void refuse(struct exp_route *r, int status,
                                                         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct ntk_sb sb;
    ntk_sb_init(&sb, r->reason, sizeof r->reason);
    ntk_sb_vprintf(&sb, fmt, ap);
    va_end(ap);
    r->ep = EXP_EP_ERROR;
    r->status = status;
}

static void set_text(char *dst, size_t cap, const char *src)
{
    struct ntk_sb sb;
    ntk_sb_init(&sb, dst, cap);
    ntk_sb_puts(&sb, src);
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A DNS name: labels of 1-63 letters, digits, '-' and '_' (not first or last), one
 * optional trailing dot, 253 bytes at most without it. */
static bool dns_name_ok(const char *s, size_t n)
{
    if (n > 0 && s[n - 1] == '.')
        n--;
    if (n == 0 || n > 253)
        return false;
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return false;
            label = 0;
            continue;
        }
        if (!is_alnum(c) && c != '-' && c != '_')
            return false;
        if (c == '-' && label == 0)
            return false;
        if (++label > 63)
            return false;
    }
    return s[n - 1] != '-';
}

static bool all_digits_dots(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]) && s[i] != '.')
            return false;
    return true;
}

/* Decimal 1-65535 in s[0..n). */
static bool port_ok(const char *s, size_t n, uint16_t *port)
{
    if (n == 0 || n > 5)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v == 0 || v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

static bool literal_ok(int af, const char *s, size_t n)
{
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    unsigned char bin[16];
    return inet_pton(af, tmp, bin) == 1;
}

/* Splits s into host span and port span; false with why set. */
static bool split_target(const char *s, const char **h, size_t *hn, const char **p, size_t *pn,
                         bool *v6, char *why, size_t whycap)
{
    size_t n = strlen(s);
    *p = NULL;
    *pn = 0;
    *v6 = false;
    if (s[0] == '[') {
        const char *end = memchr(s, ']', n);
        if (end == NULL) {
            set_text(why, whycap, "target: '[' without ']'");
            return false;
        }
        *h = s + 1;
        *hn = (size_t)(end - s - 1);
        *v6 = true;
        if (end[1] == ':') {
            *p = end + 2;
            *pn = strlen(*p);
        } else if (end[1] != '\0') {
            set_text(why, whycap, "target: text after ']' must be :PORT");
            return false;
        }
        return true;
    }
    const char *colon = strchr(s, ':');
    if (colon != NULL && strchr(colon + 1, ':') != NULL) {
        *h = s; /* a bare IPv6 literal: no port possible */
        *hn = n;
        *v6 = true;
        return true;
    }
    *h = s;
    *hn = colon != NULL ? (size_t)(colon - s) : n;
    if (colon != NULL) {
        *p = colon + 1;
        *pn = strlen(*p);
    }
    return true;
}

bool exp_parse_target(const char *s, char *host, size_t cap, uint16_t *port, uint16_t def_port,
                      char *why, size_t whycap)
{
    if (s == NULL || s[0] == '\0') {
        set_text(why, whycap, "target: empty");
        return false;
    }
    if (strlen(s) > EXP_TARGET_MAX) {
        set_text(why, whycap, "target: longer than 255 bytes");
        return false;
    }
    const char *h, *p;
    size_t hn, pn;
    bool v6;
    if (!split_target(s, &h, &hn, &p, &pn, &v6, why, whycap))
        return false;
    uint16_t pv = def_port;
    if (p != NULL && !port_ok(p, pn, &pv)) {
        set_text(why, whycap, "target: port must be 1-65535");
        return false;
    }
    if (v6                       ? !literal_ok(AF_INET6, h, hn)
        : all_digits_dots(h, hn) ? !literal_ok(AF_INET, h, hn)
                                 : !dns_name_ok(h, hn)) {
        set_text(why, whycap,
                 v6                       ? "target: not an IPv6 address"
                 : all_digits_dots(h, hn) ? "target: not an IPv4 address"
                                          : "target: not a valid host name");
        return false;
    }
    if (hn >= cap) {
        set_text(why, whycap, "target: host too long");
        return false;
    }
    memcpy(host, h, hn);
    host[hn] = '\0';
    *port = pv;
    return true;
}

static int parse_bool(const char *v)
{
    if (v == NULL || strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
        return 0;
    if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
        return 1;
    return -1;
}

/* timeout=: a decimal number of seconds in (0, EXP_PROBE_TIMEOUT_MAX]; -1 if bad. */
static double parse_timeout(const char *v)
{
    if (v == NULL)
        return EXP_PROBE_TIMEOUT_S;
    if (v[0] == '\0' || !(is_digit(v[0]) || v[0] == '.'))
        return -1;
    char *end;
    errno = 0;
    double t = strtod(v, &end);
    if (errno != 0 || *end != '\0' || !isfinite(t) || t <= 0 || t > EXP_PROBE_TIMEOUT_MAX)
        return -1;
    return t;
}

double exp_probe_timeout(const struct exp_probe_req *req, const char *hdr)
{
    if (req->timeout_given || hdr == NULL)
        return req->timeout_s;
    char *end;
    double h = strtod(hdr, &end);
    if (end == hdr || *end != '\0' || !isfinite(h) || h - 0.5 >= EXP_PROBE_TIMEOUT_S)
        return req->timeout_s;
    return h - 0.5 > 0.1 ? h - 0.5 : 0.1;
}

static void route_probe(exp_arg_fn get, void *ctx, struct exp_route *out)
{
    struct exp_probe_req *q = &out->probe;
    /* Copied at once: a getter's value need only live until its next call. */
    const char *target = get(ctx, "target");
    if (target == NULL || target[0] == '\0') {
        refuse(out, 400, "probe: missing target parameter");
        return;
    }
    if (strlen(target) > EXP_TARGET_MAX) {
        refuse(out, 400, "probe: target: longer than 255 bytes");
        return;
    }
    set_text(q->target, sizeof q->target, target);
    int nts = parse_bool(get(ctx, "nts"));
    if (nts < 0) {
        refuse(out, 400, "probe: nts must be 0 or 1");
        return;
    }
    double t = parse_timeout(get(ctx, "timeout"));
    if (t < 0) {
        refuse(out, 400, "probe: timeout must be seconds in (0, %g]", EXP_PROBE_TIMEOUT_MAX);
        return;
    }
    char why[96];
    if (!exp_parse_target(q->target, q->host, sizeof q->host, &q->port,
                          nts ? EXP_NTSKE_PORT : EXP_NTP_PORT, why, sizeof why)) {
        refuse(out, 400, "probe: %s", why);
        return;
    }
    q->nts = nts == 1;
    q->timeout_s = t;
    q->timeout_given = get(ctx, "timeout") != NULL;
    out->ep = EXP_EP_PROBE;
}

void exp_http_route(const char *method, const char *path, const char *telemetry_path,
                    exp_arg_fn get, void *ctx, struct exp_route *out)
{
    memset(out, 0, sizeof *out);
    out->status = 200;
    if (method == NULL || (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)) {
        refuse(out, 405, "method not allowed: only GET and HEAD");
        return;
    }
    out->head = method[0] == 'H';
    if (path == NULL || path[0] != '/') {
        refuse(out, 400, "bad request: the path must start with /");
        return;
    }
    if (strcmp(path, telemetry_path != NULL ? telemetry_path : "/metrics") == 0)
        out->ep = EXP_EP_METRICS;
    else if (strcmp(path, "/") == 0)
        out->ep = EXP_EP_LANDING;
    else if (strcmp(path, "/json") == 0)
        out->ep = EXP_EP_JSON;
    else if (strcmp(path, "/probe") == 0)
        route_probe(get, ctx, out);
    else
        refuse(out, 404, "not found");
}

static int hexval(char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes s[0..n) (%XX, '+') into out[0..cap); its length, or -1 if it does not fit or
 * holds a NUL. A '%' not followed by two hex digits stays as it is (as libmicrohttpd). */
static long decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%' && i + 2 < n + 0 && hexval(s[i + 1]) >= 0 &&
                   hexval(s[i + 2]) >= 0) {
            c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        }
        if (c == '\0' || o + 1 >= cap)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return (long)o;
}

const char *exp_query_get(const char *query, const char *key, char *out, size_t cap)
{
    if (query == NULL || cap == 0)
        return NULL;
    const char *p = query;
    while (*p != '\0') {
        size_t len = strcspn(p, "&");
        const char *eq = memchr(p, '=', len);
        size_t kn = eq != NULL ? (size_t)(eq - p) : len;
        char k[64];
        if (decode(p, kn, k, sizeof k) >= 0 && strcmp(k, key) == 0) {
            if (eq == NULL) {
                out[0] = '\0';
                return out;
            }
            return decode(eq + 1, len - kn - 1, out, cap) >= 0 ? out : NULL;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    return NULL;
}

/* ---- process metrics ---- */

/* Reads a small file into buf (NUL-terminated); its length or -1. */
static long read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return (long)n;
}

static double boot_time_s(void)
{
    char buf[8192];
    if (read_small("/proc/stat", buf, sizeof buf) < 0)
        return NAN;
    const char *b = strstr(buf, "\nbtime ");
    return b != NULL ? strtod(b + 7, NULL) : NAN;
}

/* /proc/self/stat: utime (14), stime (15), starttime (22) in clock ticks. */
static void read_stat(struct exp_self *self)
{
    char buf[1024];
    if (read_small("/proc/self/stat", buf, sizeof buf) < 0)
        return;
    const char *p = strrchr(buf, ')');
    if (p == NULL)
        return;
    double v[23] = {0};
    int field = 2; /* ')' ends field 2 (comm) */
    for (p++; *p != '\0' && field < 22;) {
        while (*p == ' ')
            p++;
        field++;
        char *end;
        v[field] = strtod(p, &end);
        if (end == p)
            end = (char *)(uintptr_t)(p + strcspn(p, " ")); /* the state letter */
        p = end;
    }
    double hz = (double)sysconf(_SC_CLK_TCK);
    if (field < 22 || hz <= 0)
        return;
    self->cpu_s = (v[14] + v[15]) / hz;
    double boot = boot_time_s();
    if (isfinite(boot))
        self->start_unix_s = boot + v[22] / hz;
}

void exp_self_read(struct exp_self *self)
{
    read_stat(self);
    char buf[256];
    if (read_small("/proc/self/statm", buf, sizeof buf) > 0) {
        char *end;
        strtod(buf, &end); /* size */
        double pages = strtod(end, NULL);
        self->rss_bytes = pages * (double)sysconf(_SC_PAGESIZE);
    }
    DIR *d = opendir("/proc/self/fd");
    if (d != NULL) {
        double n = 0;
        for (struct dirent *e = readdir(d); e != NULL; e = readdir(d))
            if (e->d_name[0] != '.')
                n++;
        closedir(d);
        self->open_fds = n - 1; /* the directory's own descriptor */
    }
}

/* ---- the daemon ---- */

struct exp_http {
    struct MHD_Daemon *d;
    struct exp_http_cfg cfg;
    uint16_t port;
};

static const char LANDING[] =
    "<!DOCTYPE html>\n<html><head><title>ntpkit_exporter</title></head><body>\n"
    "<h1>ntpkit_exporter</h1>\n<p>Metrics of an NTP daemon read over mode 6, and an "
    "SNTP/NTS probe.</p>\n<ul>\n<li><a href=\"%s\">%s</a> (Prometheus)</li>\n"
    "<li><a href=\"/json\">/json</a> (the same snapshot as JSON)</li>\n"
    "<li><a href=\"/probe?target=127.0.0.1\">/probe?target=HOST[:PORT][&amp;nts=1]"
    "[&amp;timeout=S]</a></li>\n</ul>\n</body></html>\n";

static const char *mhd_arg(void *ctx, const char *key)
{
    return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, key);
}

static enum MHD_Result send_buf(struct MHD_Connection *c, int status, const char *ctype,
                                struct exp_buf *b, const char *probe_error)
{
    if (b->oom) {
        exp_buf_free(b);
        exp_buf_printf(b, "out of memory\n");
        status = 500;
        ctype = "text/plain; charset=utf-8";
    }
    struct MHD_Response *r;
    if (b->p == NULL)
        r = MHD_create_response_from_buffer(0, (void *)(uintptr_t) "", MHD_RESPMEM_PERSISTENT);
    else
        r = MHD_create_response_from_buffer(b->len, b->p, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        exp_buf_free(b);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (status == 405)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    if (probe_error != NULL)
        MHD_add_response_header(r, "X-Ntpkit-Probe-Error", probe_error);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static void self_info(struct exp_self *self)
{
    self->version = NTK_VERSION;
    self->revision = "";
    self->tls_library = OpenSSL_version(OPENSSL_VERSION);
    self->start_unix_s = NAN;
    self->cpu_s = NAN;
    self->rss_bytes = NAN;
    self->open_fds = NAN;
    exp_self_read(self);
}

/* One daemon snapshot at a time: scrapes of /metrics and /json wait for each other, so that
 * many concurrent scrapers neither multiply the exporter's memory (a fetch holds its
 * sessions' reassembly buffers, the snapshot and the output) nor the daemon's mode-6 load.
 * Probes, which talk to other servers, are not serialised. */
static pthread_mutex_t snapshot_lock = PTHREAD_MUTEX_INITIALIZER;

static enum MHD_Result serve_snapshot(struct exp_http *h, struct MHD_Connection *c, bool json)
{
    struct m6_snap *s = malloc(sizeof *s);
    struct exp_buf b = {0};
    if (s == NULL) {
        b.oom = true;
        return send_buf(c, 500, "", &b, NULL);
    }
    pthread_mutex_lock(&snapshot_lock);
    m6_fetch(&h->cfg.ntp, s);
    if (!s->up)
        cli_dbg(1, "mode 6 fetch from %s port %u: %s", h->cfg.ntp.addr.ip,
                (unsigned)h->cfg.ntp.addr.port, s->error);
    struct exp_self self;
    self_info(&self);
    const char *ctype = "application/json";
    if (json) {
        exp_render_json(s, &self, &b);
    } else {
        enum exp_format f =
            exp_negotiate(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept"));
        exp_render_metrics(s, &self, f, &b);
        ctype = exp_content_type(f);
    }
    pthread_mutex_unlock(&snapshot_lock);
    free(s);
    return send_buf(c, 200, ctype, &b, NULL);
}

static enum MHD_Result serve_probe(struct exp_http *h, struct MHD_Connection *c,
                                   const struct exp_probe_req *q)
{
    struct exp_probe_req req = *q;
    req.timeout_s =
        exp_probe_timeout(q, MHD_lookup_connection_value(
                                 c, MHD_HEADER_KIND, "X-Prometheus-Scrape-Timeout-Seconds"));
    struct exp_probe p;
    exp_probe_run(&req, h->cfg.nts_ca, &p);
    cli_dbg(1, "probe %s%s: %s", q->target, q->nts ? " (nts)" : "",
            p.success ? "ok" : p.error);
    enum exp_format f =
        exp_negotiate(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept"));
    struct exp_buf b = {0};
    /* Why it failed, for people: a comment line (the text format allows them; OpenMetrics
     * does not), and a header either way. Control characters become '?'. */
    for (char *e = p.error; *e != '\0'; e++)
        if ((unsigned char)*e < 0x20 || *e == 0x7f)
            *e = '?';
    if (f == EXP_PROM_TEXT && !p.success)
        exp_buf_printf(&b, "# ntpkit_exporter: probe of %s failed: %s\n", q->target, p.error);
    exp_render_probe(&p, f, &b);
    return send_buf(c, 200, exp_content_type(f), &b, p.success ? NULL : p.error);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)con_cls;
    struct exp_http *h = cls;
    struct exp_route r;
    /* Answered on the first call: a request with a body (never GET) gets its 405 before the
     * body is read, and libmicrohttpd closes the connection after it. */
    exp_http_route(method, url, h->cfg.telemetry_path, mhd_arg, c, &r);
    struct exp_buf b = {0};
    switch (r.ep) {
    case EXP_EP_METRICS:
        return serve_snapshot(h, c, false);
    case EXP_EP_JSON:
        return serve_snapshot(h, c, true);
    case EXP_EP_PROBE:
        return serve_probe(h, c, &r.probe);
    case EXP_EP_LANDING: {
        const char *tp = h->cfg.telemetry_path != NULL ? h->cfg.telemetry_path : "/metrics";
        exp_buf_printf(&b, LANDING, tp, tp);
        return send_buf(c, 200, "text/html; charset=utf-8", &b, NULL);
    }
    case EXP_EP_ERROR:
        break;
    }
    cli_dbg(1, "%s %s: %d %s", method, url, r.status, r.reason);
    exp_buf_printf(&b, "%s\n", r.reason);
    return send_buf(c, r.status, "text/plain; charset=utf-8", &b, NULL);
}

struct exp_http *exp_http_start(const struct exp_http_cfg *cfg, char *why, size_t cap)
{
    struct exp_http *h = calloc(1, sizeof *h);
    if (h == NULL) {
        set_text(why, cap, "out of memory");
        return NULL;
    }
    h->cfg = *cfg;
    unsigned flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
    uint16_t port = 0;
    if (cfg->listen_fd < 0 && cfg->listen.ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
        port = ntohs(((const struct sockaddr_in6 *)&cfg->listen)->sin6_port);
    } else if (cfg->listen_fd < 0) {
        port = ntohs(((const struct sockaddr_in *)&cfg->listen)->sin_port);
    }
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_CONNECTION_LIMIT, cfg->conn_limit ? cfg->conn_limit : 64, NULL},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->per_ip_limit ? cfg->per_ip_limit : 16, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, cfg->conn_timeout_s ? cfg->conn_timeout_s : 10, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, 32 * 1024, NULL},
        {MHD_OPTION_THREAD_STACK_SIZE, 256 * 1024, NULL},
        {cfg->listen_fd >= 0 ? MHD_OPTION_LISTEN_SOCKET : MHD_OPTION_SOCK_ADDR,
         cfg->listen_fd >= 0 ? cfg->listen_fd : 0,
         cfg->listen_fd >= 0 ? NULL : (void *)(uintptr_t)&h->cfg.listen},
        {MHD_OPTION_END, 0, NULL},
    };
    h->d = MHD_start_daemon(flags, port, NULL, NULL, handle, h, MHD_OPTION_ARRAY, opts,
                            MHD_OPTION_END);
    if (h->d == NULL) {
        set_text(why, cap, "libmicrohttpd could not start (address in use or not local?)");
        free(h);
        return NULL;
    }
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = i != NULL ? i->port : port;
    return h;
}

uint16_t exp_http_port(const struct exp_http *h)
{
    return h->port;
}

void exp_http_stop(struct exp_http *h)
{
    if (h == NULL)
        return;
    MHD_stop_daemon(h->d);
    free(h);
}
