/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's NTS: the cookie key file and its rotation, the NTS-KE server, and the NTS-KE
 * sessions the associations ask for (ENG_ACT_NEED_KE). */
#include "daemon_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ke_cli.h"
#include "ke_srv.h"
#include "log.h"
#include "ntk/aead.h"
#include "ntk/err.h"
#include "ntk/sb.h"
#include "ntss.h"
#include "tls.h"

#include "poison.h"

#define NS_PER_S 1000000000LL

/* NTPsec's default place for the cookie keys. */
#define COOKIE_FILE_DEFAULT "/var/lib/ntp/nts-keys"
/* How often a cookie key file that could not be written is tried again. */
#define COOKIE_SAVE_RETRY_S 60

/* Client contexts kept: one per (ca, noval) pair of the server lines. */
#define CLI_CTX_MAX 8

/* One NTS-KE session in progress. */
struct dnts_cli {
    struct ntpd *owner; /* for the timer callback */
    uint32_t assoc_id;  /* who asked */
    char host[256];     /* the KE server's name or address, for the log */
    struct ke_cli *k;   /* NULL: the slot is free */
    int fd;
    int64_t timer;
};

struct dnts {
    struct ntss *ntss;
    struct ke_srv *ke;
    int64_t rotate_timer;
    int64_t save_timer; /* a retry of the key file's write, or 0 */
    bool save_failed;   /* the file on disk lacks a key in use (logged once per streak) */
    struct {
        char ca[CONF_PATH_MAX];
        bool noval;
        SSL_CTX *ctx;
    } cctx[CLI_CTX_MAX];
    int ncctx;
    struct dnts_cli cli[ENG_SERVERS_MAX];
};

static const char *cookie_path(const struct ntpd *d)
{
    return d->conf.nts.cookie[0] ? d->conf.nts.cookie : COOKIE_FILE_DEFAULT;
}

/* ---- the cookie keys ---- */

/* Reads the key file: 1 loaded, 0 absent (a first start), -1 unusable (logged). */
static int load_cookie_keys(struct ntpd *d)
{
    const char *path = cookie_path(d);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return 0;
    static char text[NTSS_FILE_MAX + 1];
    ssize_t n = fd >= 0 ? read(fd, text, sizeof text) : -1;
    int e = errno;
    if (fd >= 0)
        close(fd);
    if (n < 0 || n > NTSS_FILE_MAX) {
        log_msg(LOG_ERR, "nts cookie %s: %s", path,
                n < 0 ? strerror(e) : "larger than a cookie key file can be");
        return -1;
    }
    char why[160];
    int rc = ntss_load(d->nts->ntss, text, (size_t)n, why, sizeof why);
    if (rc < 0) {
        log_msg(LOG_ERR, "nts cookie %s: %s", path, why);
        return -1;
    }
    log_msg(LOG_INFO, "nts cookie %s: %d key(s)", path, rc);
    return 1;
}

static void save_cookie_keys(struct ntpd *d);

static void on_save_retry(void *ctx, int64_t now_mono_ns)
{
    (void)now_mono_ns;
    struct ntpd *d = ctx;
    d->nts->save_timer = 0;
    save_cookie_keys(d);
}

/* Writes the key file atomically, mode 0600 (it holds the master keys). A failure (a full
 * disk, a directory not writable) would lose the newest key at the next restart, and with it
 * every cookie made since: it is logged once and retried every COOKIE_SAVE_RETRY_S (and at
 * each SIGHUP) until the file is written. */
static void save_cookie_keys(struct ntpd *d)
{
    static char text[NTSS_FILE_MAX];
    char errb[256];
    struct ntk_sb sb, err;
    struct dnts *n = d->nts;
    ntk_sb_init(&sb, text, sizeof text);
    ntk_sb_init(&err, errb, sizeof errb);
    ntss_format(n->ntss, &sb);
    if (files_write_atomic(cookie_path(d), text, ntk_sb_len(&sb), 0600, &err) == 0) {
        if (n->save_failed)
            log_msg(LOG_NOTICE, "nts cookie %s: written", cookie_path(d));
        n->save_failed = false;
        return;
    }
    if (!n->save_failed)
        log_msg(LOG_ERR,
                "nts cookie %s: %s (the newest key is only in memory: cookies made with it "
                "would not survive a restart; retrying every %d s)",
                cookie_path(d), errb, COOKIE_SAVE_RETRY_S);
    n->save_failed = true;
    if (n->save_timer == 0) {
        int64_t id = loop_timer(d->loop, loop_now_mono_ns() + COOKIE_SAVE_RETRY_S * NS_PER_S,
                                on_save_retry, d);
        n->save_timer = id > 0 ? id : 0;
    }
}

static void arm_rotation(struct ntpd *d);

static void on_rotate(void *ctx, int64_t now_mono_ns)
{
    (void)now_mono_ns;
    struct ntpd *d = ctx;
    d->nts->rotate_timer = 0;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (ntss_rotate(d->nts->ntss, now.tv_sec)) {
        log_msg(LOG_INFO, "nts: new cookie key (%zu kept)", ntss_key_count(d->nts->ntss));
        save_cookie_keys(d);
    }
    arm_rotation(d);
}

/* The next rotation, on the monotonic clock; at least a minute away (a clock far in the
 * past must not make the timer spin). */
static void arm_rotation(struct ntpd *d)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t wait_s = ntss_next_rotation(d->nts->ntss) - now.tv_sec;
    if (wait_s < 60)
        wait_s = 60;
    int64_t id = loop_timer(d->loop, loop_now_mono_ns() + wait_s * NS_PER_S, on_rotate, d);
    d->nts->rotate_timer = id > 0 ? id : 0;
}

/* ---- the NTS-KE server ---- */

static int make_cookie(void *ctx, uint16_t aead, const uint8_t *c2s, const uint8_t *s2c,
                       size_t key_len, struct ntk_ke_cookie *out)
{
    return ntss_make_cookie(ctx, aead, c2s, s2c, key_len, out);
}

static SSL_CTX *server_ctx(const struct ntpd *d, char *err, size_t cap)
{
    const struct conf_nts_server *n = &d->conf.nts;
    if (n->cert[0] == '\0' || n->key[0] == '\0') {
        struct ntk_sb sb;
        ntk_sb_init(&sb, err, cap);
        ntk_sb_puts(&sb, "nts enable needs `nts cert FILE` and `nts key FILE`");
        return NULL;
    }
    struct tls_server_cfg c = {.cert = n->cert,
                               .key = n->key,
                               .mintls = n->mintls,
                               .maxtls = n->maxtls,
                               .ciphers = n->ciphers,
                               .curves = n->curves};
    return tls_server_ctx(&c, err, cap);
}

/* The NTS-KE port: `nts keport`, else NTK_NTS_KE_PORT from the environment (tests run
 * several daemons), else 4460. */
static uint16_t ke_port(const struct ntpd *d)
{
    if (d->conf.nts.keport != 0)
        return d->conf.nts.keport;
    const char *env = getenv("NTK_NTS_KE_PORT");
    char *end = NULL;
    long v = env != NULL ? strtol(env, &end, 10) : 0;
    return env != NULL && *end == '\0' && v > 0 && v < 65536 ? (uint16_t)v
                                                             : NTK_KE_PORT_DEFAULT;
}

static int start_server(struct ntpd *d)
{
    char err[256];
    SSL_CTX *ctx = server_ctx(d, err, sizeof err);
    if (ctx == NULL) {
        log_msg(LOG_ERR, "%s", err);
        return 1;
    }
    struct ke_srv_cfg kc;
    ke_srv_cfg_default(&kc);
    kc.port = ke_port(d);
    uint16_t aead = ntk_aead_from_name(d->conf.nts.aead);
    if (aead != 0) {
        kc.aeads[0] = aead;
        kc.n_aeads = 1;
    }
    kc.make_cookie = make_cookie;
    kc.cookie_ctx = d->nts->ntss;
    kc.log_success = d->opts.debug > 0;
    d->nts->ke = ke_srv_new(&kc, ctx, d->loop, err, sizeof err);
    SSL_CTX_free(ctx); /* the server holds its own reference */
    if (d->nts->ke == NULL) {
        log_msg(LOG_ERR, "%s", err);
        return 1;
    }
    log_msg(LOG_INFO, "NTS-KE server on TCP port %u", (unsigned)ke_srv_port(d->nts->ke));
    return 0;
}

static int setup_server(struct ntpd *d)
{
    static struct eng_rng rng = {.ctx = NULL, .bytes = daemon_rng_bytes};
    d->nts->ntss = ntss_new(&rng);
    if (d->nts->ntss == NULL)
        return 1;
    d->srv.nts = d->nts->ntss;
    return start_server(d);
}

/* After the privilege drop (daemon.c), so that the key file belongs to the user ntpd runs
 * as: under -u, root (without CAP_DAC_OVERRIDE, as ntpd.service runs it) could neither read
 * nor replace that user's 0600 file, and the user could not replace root's. Nothing is
 * served before: the loop has not run yet. */
int dnts_load_keys(struct ntpd *d)
{
    if (d->nts == NULL || d->nts->ntss == NULL)
        return 0;
    if (load_cookie_keys(d) < 0)
        return 1;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (ntss_rotate(d->nts->ntss, now.tv_sec))
        save_cookie_keys(d);
    arm_rotation(d);
    return 0;
}

static bool any_nts_server_line(const struct ntpd *d)
{
    for (size_t i = 0; i < d->conf.n_servers; i++)
        if (d->conf.servers[i].nts.enabled)
            return true;
    return false;
}

int dnts_setup(struct ntpd *d)
{
    if (!d->conf.nts.enable && !any_nts_server_line(d))
        return 0;
    d->nts = calloc(1, sizeof *d->nts);
    if (d->nts == NULL)
        return 1;
    for (size_t i = 0; i < ENG_SERVERS_MAX; i++)
        d->nts->cli[i] = (struct dnts_cli){.owner = d, .fd = -1};
    return d->conf.nts.enable ? setup_server(d) : 0;
}

void dnts_reload(struct ntpd *d)
{
    if (d->nts != NULL && d->nts->save_failed)
        save_cookie_keys(d);
    if (d->nts == NULL || d->nts->ke == NULL)
        return;
    char err[256];
    SSL_CTX *ctx = server_ctx(d, err, sizeof err);
    if (ctx == NULL) {
        log_msg(LOG_ERR, "SIGHUP: %s (the certificate in use stays)", err);
        return;
    }
    ke_srv_set_ctx(d->nts->ke, ctx);
    SSL_CTX_free(ctx);
    log_msg(LOG_INFO, "SIGHUP: NTS certificate and key reloaded");
}

/* The NTS NTP server's counters (server.h) into ntsinfo's slots. */
static void dnts_fill_server(const struct ntpd *d, double *v)
{
    v[CTLV_NTS_SERVER_SEND] = (double)d->srv.st.nts_server_send;
    v[CTLV_NTS_SERVER_RECV_GOOD] = (double)d->srv.st.nts_server_recv_good;
    v[CTLV_NTS_SERVER_RECV_BAD] = (double)d->srv.st.nts_server_recv_bad;
}

/* ---- NTS-KE for the associations ---- */

/* The server line an NTS-KE request comes from: by name, else by address. */
static const struct conf_server *line_of(const struct ntpd *d, const struct eng_action *a)
{
    for (size_t i = 0; i < d->conf.n_servers; i++) {
        const struct conf_server *s = &d->conf.servers[i];
        if (!s->nts.enabled)
            continue;
        if (s->cfg.name[0] != '\0' && strcmp(s->cfg.name, a->text) == 0)
            return s;
        struct ntk_addr x = s->cfg.addr, y = a->remote;
        x.port = y.port = 0;
        if (s->cfg.name[0] == '\0' && ntk_addr_eq(&x, &y))
            return s;
    }
    return NULL;
}

/* The trust anchors of a server line: its own `ca`, else `nts ca` (NTPsec's site default),
 * else "" (the system's store). */
static const char *line_ca(const struct ntpd *d, const struct conf_server *s)
{
    return s->nts.ca[0] != '\0' ? s->nts.ca : d->conf.nts.ca;
}

static SSL_CTX *client_ctx(struct ntpd *d, const char *ca, bool noval)
{
    struct dnts *n = d->nts;
    for (int i = 0; i < n->ncctx; i++)
        if (n->cctx[i].noval == noval && strcmp(n->cctx[i].ca, ca) == 0)
            return n->cctx[i].ctx;
    char err[256];
    SSL_CTX *ctx = tls_client_ctx(ca, noval, err, sizeof err);
    if (ctx == NULL) {
        log_msg(LOG_ERR, "nts ca %s: %s", ca[0] ? ca : "(system store)", err);
        return NULL;
    }
    if (n->ncctx == CLI_CTX_MAX)
        return ctx; /* not cached: leaks one context per line beyond 8 (never, in practice) */
    struct ntk_sb sb;
    ntk_sb_init(&sb, n->cctx[n->ncctx].ca, sizeof n->cctx[n->ncctx].ca);
    ntk_sb_puts(&sb, ca);
    n->cctx[n->ncctx].noval = noval;
    n->cctx[n->ncctx].ctx = ctx;
    n->ncctx++;
    return ctx;
}

static struct dnts_cli *slot_of_fd(struct ntpd *d, int fd)
{
    for (size_t i = 0; i < ENG_SERVERS_MAX; i++)
        if (d->nts->cli[i].k != NULL && d->nts->cli[i].fd == fd)
            return &d->nts->cli[i];
    return NULL;
}

static void close_slot(struct dnts_cli *c)
{
    struct ntpd *d = c->owner;
    if (c->fd >= 0)
        loop_del_fd(d->loop, c->fd);
    if (c->timer != 0)
        loop_cancel(d->loop, c->timer);
    ke_cli_free(c->k);
    *c = (struct dnts_cli){.owner = d, .fd = -1};
}

/* Where NTS-KE says to send NTP: an address in the Server record, the port in the Port
 * record. A name other than the KE server's is not looked up: refused, with a reason. */
static bool ntp_target(const struct ke_cli_result *r, const char *host, struct ntk_addr *out,
                       char *why, size_t cap)
{
    memset(out, 0, sizeof *out);
    const char *srv = r->resp.server;
    if (srv[0] != '\0' && strcmp(srv, host) != 0 &&
        ntk_addr_parse_span((struct ntk_span){srv, strlen(srv)}, out) != 0) {
        struct ntk_sb sb;
        ntk_sb_init(&sb, why, cap);
        ntk_sb_printf(&sb, "it named NTP server \"%s\", which is not an address", srv);
        return false;
    }
    out->port = r->resp.has_port ? r->resp.port : 123;
    return true;
}

static void log_ke(const struct ke_cli_result *r, const char *host, bool ok, const char *why)
{
    if (!ok) {
        log_msg(LOG_WARNING, "NTS-KE with %s failed (%s): %s", host, r->stage, why);
        return;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    log_msg(LOG_INFO,
            "NTS-KE with %s: %s, %s, %zu cookies, certificate \"%s\" valid %lld more days%s",
            host, r->peer.version, ntk_aead_name(r->aead), r->resp.n_cookies, r->peer.subject,
            (long long)((r->peer.not_after_s - now.tv_sec) / 86400),
            r->peer.verified ? "" : " (NOT verified: noval)");
}

static void finish(struct ntpd *d, struct dnts_cli *c)
{
    const struct ke_cli_result *r = ke_cli_result(c->k);
    char why[256];
    struct ntk_sb sb;
    struct eng_ke_result er = {.ok = r->err == 0};
    ntk_sb_init(&sb, why, sizeof why);
    ntk_sb_puts(&sb, r->why);
    if (er.ok && !ntp_target(r, c->host, &er.ntp, why, sizeof why))
        er.ok = false;
    if (er.ok) {
        er.aead = r->aead;
        er.c2s = r->c2s;
        er.s2c = r->s2c;
        er.key_len = r->key_len;
        er.cookies = r->resp.cookies;
        er.n_cookies = r->resp.n_cookies;
    }
    log_ke(r, c->host, er.ok, why);
    struct eng_now now = daemon_now();
    uint32_t id = c->assoc_id;
    eng_on_ke_result(d->eng, id, &er, &now);
    close_slot(c);
    daemon_drain_actions(d);
}

static void step(struct ntpd *d, struct dnts_cli *c)
{
    if (ke_cli_step(c->k, loop_now_mono_ns())) {
        finish(d, c);
        return;
    }
    (void)loop_set_events(d->loop, c->fd, ke_cli_events(c->k));
}

static void on_cli_fd(void *ctx, int fd)
{
    struct ntpd *d = ctx;
    struct dnts_cli *c = slot_of_fd(d, fd);
    if (c != NULL)
        step(d, c);
}

static void on_cli_timer(void *ctx, int64_t now_mono_ns)
{
    (void)now_mono_ns;
    struct dnts_cli *c = ctx;
    c->timer = 0;
    if (c->k != NULL)
        step(c->owner, c);
}

/* Fails an NTS-KE request at once (no session could start). */
static void fail_now(struct ntpd *d, uint32_t id, const char *host, const char *why)
{
    log_msg(LOG_WARNING, "NTS-KE with %s failed (start): %s", host, why);
    struct eng_now now = daemon_now();
    struct eng_ke_result er = {.ok = false};
    eng_on_ke_result(d->eng, id, &er, &now);
}

static struct dnts_cli *free_slot(struct ntpd *d)
{
    for (size_t i = 0; i < ENG_SERVERS_MAX; i++)
        if (d->nts->cli[i].k == NULL)
            return &d->nts->cli[i];
    return NULL;
}

void dnts_need_ke(struct ntpd *d, const struct eng_action *a)
{
    const struct conf_server *s = d->nts != NULL ? line_of(d, a) : NULL;
    struct dnts_cli *c = s != NULL ? free_slot(d) : NULL;
    if (c == NULL) {
        fail_now(d, a->assoc_id, a->text,
                 s == NULL ? "no nts server line" : "too many at once");
        return;
    }
    SSL_CTX *ctx = client_ctx(d, line_ca(d, s), s->nts.noval);
    if (ctx == NULL) {
        fail_now(d, a->assoc_id, a->text, "no TLS context (see above)");
        return;
    }
    struct ke_cli_cfg kc = {.addr = a->remote};
    struct ntk_sb sb;
    ntk_sb_init(&sb, kc.host, sizeof kc.host);
    ntk_sb_puts(&sb, a->text);
    uint16_t aead = ntk_aead_from_name(s->nts.aead);
    if (aead != 0)
        kc.aeads[kc.n_aeads++] = aead;
    int err = 0;
    c->k = ke_cli_start(ctx, &kc, loop_now_mono_ns(), &err);
    if (c->k == NULL) {
        fail_now(d, a->assoc_id, a->text, err < -11 ? strerror(-err) : ntk_strerror(err));
        return;
    }
    c->assoc_id = a->assoc_id;
    ntk_sb_init(&sb, c->host, sizeof c->host);
    ntk_sb_puts(&sb, a->text);
    c->fd = ke_cli_fd(c->k);
    if (loop_add_fd(d->loop, c->fd, on_cli_fd, d) != 0) {
        c->fd = -1;
        close_slot(c);
        fail_now(d, a->assoc_id, a->text, "too many descriptors");
        return;
    }
    (void)loop_set_events(d->loop, c->fd, ke_cli_events(c->k));
    int64_t t = loop_timer(d->loop, ke_cli_deadline(c->k), on_cli_timer, c);
    c->timer = t > 0 ? t : 0;
}

void dnts_free(struct ntpd *d)
{
    struct dnts *n = d->nts;
    if (n == NULL)
        return;
    for (size_t i = 0; i < ENG_SERVERS_MAX; i++)
        if (n->cli[i].k != NULL)
            close_slot(&n->cli[i]);
    ke_srv_free(n->ke);
    for (int i = 0; i < n->ncctx; i++)
        SSL_CTX_free(n->cctx[i].ctx);
    if (n->rotate_timer != 0)
        loop_cancel(d->loop, n->rotate_timer);
    if (n->save_timer != 0)
        loop_cancel(d->loop, n->save_timer);
    d->srv.nts = NULL;
    ntss_free(n->ntss);
    free(n);
    d->nts = NULL;
}

const struct ke_srv_stats *dnts_ke_stats(const struct ntpd *d)
{
    return d->nts != NULL && d->nts->ke != NULL ? ke_srv_stats(d->nts->ke) : NULL;
}

const struct ntss_stats *dnts_cookie_stats(const struct ntpd *d)
{
    return d->nts != NULL && d->nts->ntss != NULL ? ntss_stats(d->nts->ntss) : NULL;
}

int dnts_check(const struct ntpd *d)
{
    int bad = 0;
    char err[256];
    if (d->conf.nts.enable) {
        SSL_CTX *ctx = server_ctx(d, err, sizeof err);
        if (ctx == NULL) {
            log_msg(LOG_ERR, "%s", err);
            bad++;
        }
        SSL_CTX_free(ctx);
    }
    for (size_t i = 0; i < d->conf.n_servers; i++) {
        const struct conf_server *s = &d->conf.servers[i];
        const char *ca = line_ca(d, s);
        if (!s->nts.enabled || ca[0] == '\0')
            continue;
        SSL_CTX *ctx = tls_client_ctx(ca, s->nts.noval, err, sizeof err);
        if (ctx == NULL) {
            log_msg(LOG_ERR, "line %u: ca %s: %s", (unsigned)s->line, ca, err);
            bad++;
        }
        SSL_CTX_free(ctx);
    }
    return bad > 0 ? 1 : 0;
}

void dnts_fill_ctlv(const struct ntpd *d, const struct snap_counters *ctr,
                    struct ctlv_nts *out)
{
    memset(out, 0, sizeof *out);
    double *v = out->v;
    v[CTLV_NTS_CLIENT_SEND] = (double)ctr->nts_client_send;
    v[CTLV_NTS_CLIENT_RECV_GOOD] = (double)ctr->nts_client_recv_good;
    v[CTLV_NTS_CLIENT_RECV_BAD] = (double)ctr->nts_client_recv_bad;
    v[CTLV_NTS_KE_PROBES_GOOD] = (double)ctr->nts_ke_probes_good;
    v[CTLV_NTS_KE_PROBES_BAD] = (double)ctr->nts_ke_probes_bad;
    dnts_fill_server(d, v);
    const struct ntss_stats *c = dnts_cookie_stats(d);
    if (c != NULL) {
        v[CTLV_NTS_COOKIE_MAKE] = (double)c->made;
        v[CTLV_NTS_COOKIE_DECODE_CURRENT] = (double)c->decode_current;
        v[CTLV_NTS_COOKIE_DECODE] = (double)c->decode_current;
        v[CTLV_NTS_COOKIE_DECODE_OLD] = (double)c->decode_old;
        v[CTLV_NTS_COOKIE_DECODE_OLD2] = (double)c->decode_old2;
        v[CTLV_NTS_COOKIE_DECODE_OLDER] = (double)c->decode_older;
        v[CTLV_NTS_COOKIE_DECODE_TOO_OLD] = (double)c->decode_too_old;
        v[CTLV_NTS_COOKIE_DECODE_ERROR] = (double)c->decode_error;
        v[CTLV_NTS_COOKIE_DECODE_TOTAL] =
            (double)(c->decode_current + c->decode_old + c->decode_old2 + c->decode_older);
    }
    const struct ke_srv_stats *k = dnts_ke_stats(d);
    if (k != NULL) {
        v[CTLV_NTS_KE_SERVES_GOOD] = (double)k->good;
        v[CTLV_NTS_KE_SERVES_GOOD_WALL] = k->good_wall_s;
        v[CTLV_NTS_KE_SERVES_GOOD_CPU] = k->good_cpu_s;
        v[CTLV_NTS_KE_SERVES_NOSSL] = (double)k->nossl;
        v[CTLV_NTS_KE_SERVES_NOSSL_WALL] = k->nossl_wall_s;
        v[CTLV_NTS_KE_SERVES_NOSSL_CPU] = k->nossl_cpu_s;
        v[CTLV_NTS_KE_SERVES_BAD] = (double)k->bad;
        v[CTLV_NTS_KE_SERVES_BAD_WALL] = k->bad_wall_s;
        v[CTLV_NTS_KE_SERVES_BAD_CPU] = k->bad_cpu_s;
    }
}
