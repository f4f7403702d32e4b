/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd as a whole: configuration to engine and server, sockets and resolver on the loop,
 * actions carried out, signals (daemon.h). */
#include "daemon.h"

#include <errno.h>
#include <math.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <netdb.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clk_linux.h"
#include "files.h"
#include "log.h"
#include "net.h"
#include "priv.h"
#include "ntk/err.h"
#include "ntk/keyfile.h"
#include "ntk/refid.h"
#include "ntk/sb.h"

#include "poison.h"

/* The restrict flags of the configuration and of the server are the same bits. */
_Static_assert((unsigned)CONF_RES_IGNORE == (unsigned)RST_IGNORE &&
                   (unsigned)CONF_RES_FLAKE == (unsigned)RST_FLAKE &&
                   (unsigned)CONF_RES_NOSERVE == (unsigned)RST_NOSERVE &&
                   (unsigned)CONF_RES_NTPPORT == (unsigned)RST_NTPPORT,
               "conf and restrict flags differ");

/* Most batches served per wake-up of a server socket. */
#define SERVE_ROUNDS 8

/* How often the drift-file policy is asked (it writes at most hourly itself). */
#define DRIFT_TIMER_S 600

/* How often a foreground daemon logs a status line. */
#define STATUS_INTERVAL_S 16

static struct eng_now now_of(void)
{
    struct eng_now n;
    clock_gettime(CLOCK_REALTIME, &n.real);
    n.mono_ns = loop_now_mono_ns();
    return n;
}

uint16_t ntpd_port(void)
{
    const char *p = getenv("NTK_NTPD_PORT");
    long v = p != NULL ? strtol(p, NULL, 10) : 0;
    return v > 0 && v < 65536 ? (uint16_t)v : 123;
}

static void rng_bytes(void *ctx, uint8_t *p, size_t n)
{
    (void)ctx;
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got <= 0)
            continue; /* EINTR; getrandom never fails otherwise once the pool is ready */
        p += got;
        n -= (size_t)got;
    }
}

/* ---- actions ---- */

static void arm_eng_timer(struct ntpd *d);
static void load_leapfile(struct ntpd *d);
static int load_keys(struct ntpd *d, struct ntk_mac_keys **out);

static void send_request(struct ntpd *d, const struct eng_action *a)
{
    int fd = a->remote.family == NTK_ADDR_V6 ? d->cli_fd6 : d->cli_fd4;
    int rc = fd < 0 ? -EAFNOSUPPORT : net_send(fd, a->pkt, a->len, &a->remote);
    if (rc != 0)
        log_msg(LOG_DEBUG, "association %u: send failed: %s", (unsigned)a->assoc_id,
                strerror(-rc));
}

static void log_event(const struct eng_action *a)
{
    static const char *const names[] = {
        [ENG_EV_SYNC] = "synchronised to association",
        [ENG_EV_UNSYNC] = "lost sync",
        [ENG_EV_STEP] = "clock stepped",
        [ENG_EV_PANIC] = "panic",
        [ENG_EV_FREQ] = "frequency",
        [ENG_EV_KOD] = "kiss-o'-death",
        [ENG_EV_UNREACH] = "unreachable",
        [ENG_EV_REACH] = "reachable",
        [ENG_EV_LEAP_ARMED] = "leap second armed",
        [ENG_EV_CLOCK_ERROR] = "clock error",
    };
    const char *what = a->event < sizeof names / sizeof names[0] && names[a->event] != NULL
                           ? names[a->event]
                           : "event";
    int level =
        a->event == ENG_EV_PANIC || a->event == ENG_EV_CLOCK_ERROR ? LOG_ERR : LOG_INFO;
    log_msg(level, "%s: association %u, value %.9g %s", what, (unsigned)a->assoc_id, a->value,
            a->text);
}

static void drain_actions(struct ntpd *d)
{
    struct eng_action a;
    while (eng_pop_action(d->eng, &a)) {
        switch (a.kind) {
        case ENG_ACT_SEND:
            send_request(d, &a);
            break;
        case ENG_ACT_RESOLVE:
            (void)resolver_ask(d->resolver, a.text, d->opts.family, 123); /* -4 / -6 */
            break;
        case ENG_ACT_EVENT:
            if (a.event == ENG_EV_CLOCK_UPDATE || a.event == ENG_EV_PEER_UPDATE)
                dstats_event(&d->stats, d->eng, &a);
            else
                log_event(&a);
            break;
        case ENG_ACT_EXIT:
            d->exit_status = (int)a.value;
            loop_stop(d->loop);
            break;
        }
    }
    arm_eng_timer(d);
}

static void on_eng_timer(void *ctx, int64_t now_mono_ns)
{
    (void)now_mono_ns;
    struct ntpd *d = ctx;
    d->eng_timer = 0;
    struct eng_now n = now_of();
    eng_on_timer(d->eng, &n);
    drain_actions(d);
}

static void arm_eng_timer(struct ntpd *d)
{
    if (d->eng_timer != 0)
        loop_cancel(d->loop, d->eng_timer);
    int64_t t = eng_next_deadline(d->eng);
    d->eng_timer = t == INT64_MAX ? 0 : loop_timer(d->loop, t, on_eng_timer, d);
    if (d->eng_timer < 0)
        d->eng_timer = 0;
}

/* ---- sockets ---- */

static void on_client_readable(void *ctx, int fd)
{
    struct ntpd *d = ctx;
    static struct net_msg m[NET_BATCH];
    int n = net_recv_batch(fd, m, NET_BATCH);
    for (int i = 0; i < n; i++) {
        struct eng_now now = now_of();
        eng_on_packet(d->eng, &now, m[i].buf, m[i].len, &m[i].remote, &m[i].rx,
                      m[i].kernel_ts ? ENG_RX_KERNEL : ENG_RX_USER);
    }
    drain_actions(d);
}

/* Answers what srv_handle accepts; replies are finished (transmit timestamp, MAC) just
 * before the batch goes out. */
/* Serves one batch from fd; returns how many datagrams it read (0: the queue is empty). */
static int serve_batch(struct ntpd *d, int fd)
{
    static struct net_msg m[NET_BATCH];
    static uint8_t reply[NET_BATCH][SRV_REPLY_MAX];
    struct net_out out[NET_BATCH];
    int n = net_recv_batch(fd, m, NET_BATCH), k = 0;
    if (n <= 0)
        return 0;
    struct snap_system sys;
    int64_t mono = loop_now_mono_ns();
    eng_snap(d->eng, mono, &sys, NULL, NULL, 0);
    for (int i = 0; i < n; i++) {
        struct srv_req q = {.buf = m[i].buf,
                            .len = m[i].truncated ? 0 : m[i].len,
                            .src = m[i].remote,
                            .rx_ts = ntk_ts_from_timespec(&m[i].rx),
                            .rx_mono_ns = mono};
        struct srv_verdict v;
        if (srv_handle(&d->srv, &sys, &q, reply[k], sizeof reply[k], &v) != SRV_REPLY)
            continue;
        out[k] = (struct net_out){.buf = reply[k],
                                  .len = v.len,
                                  .remote = m[i].remote,
                                  .local = m[i].local,
                                  .ifindex = m[i].ifindex};
        k++;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int ok = 0;
    for (int i = 0; i < k; i++)
        if (srv_finish(reply[i], out[i].len, ntk_ts_from_timespec(&now), d->srv.keys) == 0)
            out[ok++] = out[i];
    if (ok > 0)
        (void)net_send_batch(fd, out, ok);
    return n;
}

/* Under load the queue refills while a batch is served: read again before going back to
 * poll() (a system call per wake-up saved), a bounded number of times so that the other
 * sockets and the timers are not starved. */
static void on_server_readable(void *ctx, int fd)
{
    struct ntpd *d = ctx;
    for (int round = 0; round < SERVE_ROUNDS && serve_batch(d, fd) == NET_BATCH; round++)
        ;
}

static void listen_on(struct ntpd *d, const struct ntk_addr *a, int level)
{
    if (d->nsrv_fd == NTPD_SERVER_SOCKS) {
        log_msg(LOG_WARNING, "too many listen addresses: %d at most", NTPD_SERVER_SOCKS);
        return;
    }
    char text[NTK_ADDRSTR_MAX];
    int fd = net_open_server(a, d->port);
    if (fd < 0) {
        log_msg(level, "cannot listen on %s port %u: %s", ntk_addr_format(a, text),
                (unsigned)d->port, strerror(-fd));
        return;
    }
    d->srv_fd[d->nsrv_fd++] = fd;
    (void)loop_add_fd(d->loop, fd, on_server_readable, d);
}

static size_t listen_rules(const struct ntpd *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->conf.n_nics; i++)
        n += d->conf.nics[i].action == CONF_NIC_LISTEN &&
             d->conf.nics[i].match == CONF_NIC_ADDR;
    return n;
}

/* The addresses `interface listen ADDR` and -I ADDR name; none means the wildcards. (Names
 * of interfaces and the ignore/drop rules are not applied yet: they are logged.) */
static int open_server_sockets(struct ntpd *d)
{
    for (size_t i = 0; i < d->conf.n_nics; i++) {
        const struct conf_nic *n = &d->conf.nics[i];
        if (n->action == CONF_NIC_LISTEN && n->match == CONF_NIC_ADDR)
            listen_on(d, &n->addr, LOG_ERR);
        else if (n->action == CONF_NIC_LISTEN || n->match != CONF_NIC_WILDCARD)
            log_msg(LOG_WARNING,
                    "interface rule %zu: only `interface listen ADDRESS` is "
                    "applied so far",
                    i + 1);
    }
    for (int i = 0; i < d->opts.ninterfaces; i++) {
        struct ntk_addr a;
        const char *t = d->opts.interfaces[i];
        if (ntk_addr_parse_span((struct ntk_span){t, strlen(t)}, &a) == 0)
            listen_on(d, &a, LOG_ERR);
        else
            log_msg(LOG_WARNING, "-I %s: interface names are not supported yet", t);
    }
    if (d->nsrv_fd > 0)
        return 0;
    if (d->opts.ninterfaces > 0 || listen_rules(d) > 0) {
        log_msg(LOG_ERR, "none of the addresses to listen on could be used");
        return 1;
    }
    static const char *const wild[] = {"0.0.0.0", "::"};
    for (int i = 0; i < 2; i++) {
        struct ntk_addr a;
        (void)ntk_addr_parse_span((struct ntk_span){wild[i], strlen(wild[i])}, &a);
        listen_on(d, &a, i == 0 ? LOG_ERR : LOG_WARNING);
    }
    return d->nsrv_fd > 0 ? 0 : 1;
}

static int open_client_sockets(struct ntpd *d)
{
    d->cli_fd4 = net_open_client(AF_INET);
    d->cli_fd6 = net_open_client(AF_INET6);
    if (d->cli_fd4 < 0 && d->cli_fd6 < 0) {
        log_msg(LOG_ERR, "cannot open a client socket: %s", strerror(-d->cli_fd4));
        return 1;
    }
    if (d->cli_fd4 >= 0)
        (void)loop_add_fd(d->loop, d->cli_fd4, on_client_readable, d);
    if (d->cli_fd6 >= 0)
        (void)loop_add_fd(d->loop, d->cli_fd6, on_client_readable, d);
    return 0;
}

/* ---- names, signals, status ---- */

/* A `server NAME` line's answer: its first address becomes an association. Pools go to the
 * engine, which asked for them. */
static void take_answer(struct ntpd *d, const struct resolve_answer *a)
{
    struct eng_now now = now_of();
    for (size_t i = 0; i < d->conf.n_servers; i++) {
        struct conf_server *s = &d->conf.servers[i];
        if (strcmp(s->cfg.name, a->name) != 0)
            continue;
        if (s->kind == CONF_SRV_POOL) {
            eng_on_resolved(d->eng, a->name, a->addrs, a->n, &now);
        } else if (a->n == 0) {
            log_msg(LOG_WARNING, "cannot resolve %s: %s", a->name, gai_strerror(a->gai_err));
        } else {
            struct eng_server_cfg c = s->cfg;
            uint16_t port = c.addr.port;
            c.addr = a->addrs[0];
            c.addr.port = port != 0 ? port : 123;
            int id = eng_add_server(d->eng, &c, &now);
            if (id < 0)
                log_msg(LOG_ERR, "server %s: %s", a->name, ntk_strerror(id));
        }
    }
}

static void on_resolved(void *ctx, int fd)
{
    (void)fd;
    struct ntpd *d = ctx;
    static struct resolve_answer a;
    while (resolver_take(d->resolver, &a) == 1)
        take_answer(d, &a);
    drain_actions(d);
}

static void on_signal(void *ctx, int fd)
{
    struct ntpd *d = ctx;
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGHUP) {
            log_msg(LOG_INFO, "SIGHUP: re-reading the leap file");
            load_leapfile(d);
            continue;
        }
        log_msg(LOG_INFO, "signal %u: exiting", (unsigned)si.ssi_signo);
        d->exit_status = 0;
        loop_stop(d->loop);
    }
}

static int open_signals(struct ntpd *d)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    d->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (d->sig_fd < 0)
        return 1;
    return loop_add_fd(d->loop, d->sig_fd, on_signal, d) == 0 ? 0 : 1;
}

/* One association as a row of NTPsec's `ntpq -p` (remote refid st t when poll reach delay
 * offset jitter, in ms), for the foreground status. */
static void print_peer(const struct snap_assoc *a, int64_t now_mono_ns)
{
    char remote[NTK_ADDRSTR_MAX], refid[NTK_REFID_STRMAX];
    struct ntk_addr host = a->addr;
    host.port = 0;
    ntk_addr_format(&host, remote);
    struct ntk_sb sb;
    ntk_sb_init(&sb, refid, sizeof refid);
    ntk_refid_format(a->refid, a->stratum, NTK_REFID_FMT_PEERS, &sb);
    long when =
        a->last_rx_mono_ns ? (long)((now_mono_ns - a->last_rx_mono_ns) / 1000000000LL) : -1;
    char w[16];
    ntk_sb_init(&sb, w, sizeof w);
    if (when < 0)
        ntk_sb_putc(&sb, '-');
    else
        ntk_sb_printf(&sb, "%ld", when);
    printf("%c%-15.15s %-15.15s %2u u %4s %4d %4o %8.3f %8.3f %8.3f\n", a->tally, remote,
           refid, (unsigned)a->stratum, ntk_sb_str(&sb), 1 << a->hpoll_log2,
           (unsigned)a->reach, a->delay_s * 1e3, a->offset_s * 1e3, a->jitter_s * 1e3);
}

/* The foreground's live status: a summary line on the log and, on stdout, the peers table. */
static void on_status(void *ctx, int64_t now_mono_ns)
{
    struct ntpd *d = ctx;
    struct snap_system s;
    static struct snap_assoc as[64];
    size_t n = eng_snap(d->eng, now_mono_ns, &s, NULL, as, 64);
    /* The poll shown is the system peer's own (clamped to its maxpoll). */
    for (size_t i = 0; i < n && i < 64; i++)
        if (as[i].id == s.sys_peer)
            s.poll_log2 = as[i].hpoll_log2;
    if (s.sys_peer == 0)
        log_msg(LOG_INFO, "status: not synchronised (stratum %u)", (unsigned)s.stratum);
    else
        log_msg(LOG_INFO,
                "status: synchronised to association %u, stratum %u, offset %+.6f s, "
                "frequency %+.3f ppm, poll %d s%s",
                (unsigned)s.sys_peer, (unsigned)s.stratum, s.offset_s, s.freq_ppm,
                1 << s.poll_log2, s.observe ? " (observe: the clock is not touched)" : "");
    printf(
        "     remote           refid      st t when poll reach   delay   offset   jitter\n"
        "===============================================================================\n");
    for (size_t i = 0; i < n && i < 64; i++)
        print_peer(&as[i], now_mono_ns);
    fflush(stdout);
    d->status_timer =
        loop_timer(d->loop, now_mono_ns + STATUS_INTERVAL_S * 1000000000LL, on_status, d);
}

/* ---- setup ---- */

static void log_diags(const struct conf_diags *g)
{
    for (size_t i = 0; i < g->n; i++) {
        char line[512];
        conf_diag_format(&g->d[i], line, sizeof line);
        log_msg(g->d[i].sev == CONF_SEV_ERROR ? LOG_ERR : LOG_WARNING, "%s", line);
    }
    if (g->errors > g->n)
        log_msg(LOG_ERR, "... and %zu more errors", g->errors - g->n);
}

/* The configuration -c names, /etc/ntp.conf, or the built-in one when neither exists. */
static int load_conf(struct conf *c, const struct ntpd_opts *o)
{
    static struct conf_diags g;
    conf_diags_init(&g);
    conf_init(c);
    const char *path = o->config != NULL ? o->config : "/etc/ntp.conf";
    if (o->config == NULL && access(path, R_OK) != 0) {
        log_msg(LOG_INFO, "no %s: using the built-in configuration", path);
        return conf_default(c) == 0 ? 0 : 1;
    }
    int rc = conf_parse_file(c, path, &g);
    log_diags(&g);
    if (rc != 0)
        log_msg(LOG_ERR, "%s: %zu error(s) in the configuration", path, g.errors);
    return rc == 0 ? 0 : 1;
}

int ntpd_check_config(const struct ntpd_opts *o)
{
    static struct ntpd d; /* only opts, conf and the keys are used */
    memset(&d, 0, sizeof d);
    d.opts = *o;
    int rc = load_conf(&d.conf, o);
    struct ntk_mac_keys *keys = NULL;
    /* The keys file is part of the configuration: unreadable, or a line in error, fails. */
    if (rc == 0 && (load_keys(&d, &keys) != 0 || d.key_errors > 0))
        rc = 1;
    if (rc == 0)
        log_msg(LOG_INFO, "configuration OK: %zu server line(s), %zu restrict line(s)",
                d.conf.n_servers, d.conf.n_rules);
    ntk_mac_keys_free(keys);
    conf_free(&d.conf);
    return rc;
}

/* ---- keys ---- */

/* Reads a whole (small) file: NULL after logging why. */
static char *read_small_file(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        log_msg(LOG_ERR, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(max + 1);
    size_t n = buf != NULL ? fread(buf, 1, max + 1, f) : 0;
    bool bad = buf == NULL || ferror(f) || n > max;
    fclose(f);
    if (bad) {
        log_msg(LOG_ERR, "%s: cannot read it (or it is larger than %zu bytes)", path, max);
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static bool trusted(const struct ntpd *d, uint32_t id)
{
    for (int i = 0; i < d->opts.ntrusted; i++)
        if (d->opts.trusted[i] == id)
            return true;
    return conf_key_trusted(&d->conf, id);
}

/* Keeps the trusted keys of the parsed file (NTPsec uses only those). */
static size_t keep_trusted(const struct ntpd *d, struct ntk_mac_key *k, size_t n)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (trusted(d, k[i].keyid))
            k[m++] = k[i];
    ntk_mac_key_wipe(k + m, n - m);
    return m;
}

static void log_key_diags(const char *path, const struct ntk_keyfile *kf)
{
    for (size_t i = 0; i < kf->ndiags; i++) {
        char line[256];
        struct ntk_sb sb;
        ntk_sb_init(&sb, line, sizeof line);
        ntk_keyfile_diag_format(&sb, path, &kf->diags[i]);
        log_msg(kf->diags[i].warning ? LOG_WARNING : LOG_ERR, "%s", ntk_sb_str(&sb));
    }
}

/* The keys file (-k or `keys`), trusted keys only. Returns 0 (also with no file) or 1. */
static int load_keys(struct ntpd *d, struct ntk_mac_keys **out)
{
    const char *path = d->opts.keysfile != NULL ? d->opts.keysfile : d->conf.keys;
    *out = NULL;
    if (path == NULL || path[0] == '\0')
        return 0;
    size_t len = 0;
    char *text = read_small_file(path, 1024 * 1024, &len);
    if (text == NULL)
        return 1;
    size_t cap = ntk_keyfile_max_keys(text, len) + 1;
    struct ntk_mac_key *keys = calloc(cap, sizeof *keys);
    struct ntk_keyfile_diag diags[32];
    struct ntk_keyfile kf;
    int rc = 1;
    if (keys != NULL) {
        ntk_keyfile_init(&kf, keys, cap, diags, 32);
        (void)ntk_keyfile_parse(&kf, text, len);
        log_key_diags(path, &kf);
        d->key_errors = kf.nerrors;
        size_t n = keep_trusted(d, keys, kf.nkeys);
        rc = ntk_mac_keys_new(keys, n, out) == 0 ? 0 : 1;
        log_msg(LOG_INFO, "%s: %zu trusted key(s)", path, n);
        ntk_mac_key_wipe(keys, cap);
    }
    OPENSSL_cleanse(text, len);
    free(text);
    free(keys);
    return rc;
}

/* ---- the leap-seconds file ---- */

/* (Re)reads the leap file (`leapfile`): a good table replaces the engine's; a bad one is
 * reported with every problem and the previous table stays. Warns when it has expired. */
static void load_leapfile(struct ntpd *d)
{
    const char *path = d->conf.leapfile;
    if (path[0] == '\0')
        return;
    size_t len = 0;
    char *text = read_small_file(path, 64 * 1024, &len);
    if (text == NULL)
        return;
    static struct ntk_leap_entry fresh[NTK_LEAPFILE_ENTRIES_MAX];
    struct ntk_leapfile_diag diags[16];
    struct ntk_leapfile lf;
    ntk_leapfile_init(&lf, fresh, NTK_LEAPFILE_ENTRIES_MAX, diags, 16);
    int rc = ntk_leapfile_parse(&lf, text, len, NTK_LEAPFILE_ALLOW_NOHASH);
    free(text);
    for (size_t i = 0; i < lf.ndiags; i++) {
        char line[256];
        struct ntk_sb sb;
        ntk_sb_init(&sb, line, sizeof line);
        ntk_leapfile_diag_format(&sb, path, &diags[i]);
        log_msg(diags[i].warning ? LOG_WARNING : LOG_ERR, "%s", ntk_sb_str(&sb));
    }
    if (rc != 0)
        return;
    memcpy(d->leap_entries, fresh, lf.table.n * sizeof fresh[0]);
    d->leap = lf.table;
    d->leap.entries = d->leap_entries;
    eng_set_leap_table(d->eng, &d->leap);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    bool expired = ntk_leap_expired(&d->leap, (int64_t)now.tv_sec);
    log_msg(expired ? LOG_WARNING : LOG_INFO, "%s: %zu entries, TAI-UTC %d s%s", path,
            d->leap.n, ntk_leap_tai_offset(&d->leap, (int64_t)now.tv_sec),
            expired ? "; EXPIRED: leap seconds come from the servers until it is renewed"
                    : "");
}

/* ---- the drift file ---- */

static const char *drift_path(const struct ntpd *d)
{
    const char *p = d->opts.driftfile != NULL ? d->opts.driftfile : d->conf.driftfile;
    return p != NULL && p[0] != '\0' ? p : NULL;
}

/* The frequency the drift file remembers; false when there is none (or it is unusable). */
static bool read_drift(const struct ntpd *d, double *freq_ppm)
{
    const char *path = drift_path(d);
    if (path == NULL)
        return false;
    char why[300];
    struct ntk_sb err;
    ntk_sb_init(&err, why, sizeof why);
    enum drift_status st = drift_read(path, freq_ppm, &err);
    if (st == DRIFT_OK)
        log_msg(LOG_INFO, "%s: frequency %+.3f ppm", path, *freq_ppm);
    else if (st != DRIFT_NOFILE)
        log_msg(LOG_WARNING, "%s (ignored)", ntk_sb_str(&err));
    return st == DRIFT_OK;
}

/* Writes the drift file now if NTPsec's policy says so (force: at exit). Never in observe
 * mode: the frequency there is the clock's own, which no later start should apply. */
static void save_drift(struct ntpd *d, bool force)
{
    const char *path = drift_path(d);
    struct snap_system s;
    int64_t mono = loop_now_mono_ns();
    eng_snap(d->eng, mono, &s, NULL, NULL, 0);
    if (path == NULL || s.observe || s.updates == 0)
        return;
    struct drift_policy next;
    bool due = drift_should_write(&d->drift, s.freq_ppm, mono / 1000000000LL, &next);
    d->drift = next;
    if (!due && !force)
        return;
    char why[300];
    struct ntk_sb err;
    ntk_sb_init(&err, why, sizeof why);
    if (drift_write(path, s.freq_ppm, &err) != 0)
        log_msg(LOG_ERR, "%s", ntk_sb_str(&err));
}

static void on_drift_timer(void *ctx, int64_t now_mono_ns)
{
    struct ntpd *d = ctx;
    save_drift(d, false);
    (void)loop_timer(d->loop, now_mono_ns + DRIFT_TIMER_S * 1000000000LL, on_drift_timer, d);
}

static int make_engine(struct ntpd *d)
{
    struct eng_cfg cfg;
    eng_cfg_defaults(&cfg);
    cfg.tos = d->conf.tos;
    cfg.tinker = d->conf.tinker;
    cfg.precision_log2 = ntk_clk_precision_log2(ntk_clk_linux()); /* a read only */
    /* `disable ntp` and --observe both mean: compute, never touch the clock. */
    cfg.observe = d->opts.observe || !(d->conf.sys_flags & CONF_SYS_NTP);
    cfg.panic_once = d->opts.panic_gate;
    cfg.once = d->opts.once;
    cfg.have_freq = read_drift(d, &cfg.initial_freq_ppm);
    drift_policy_init(&d->drift, cfg.have_freq ? cfg.initial_freq_ppm : 0,
                      loop_now_mono_ns() / 1000000000LL);
    if (d->opts.slew_only)
        cfg.tinker.step_s = 600; /* -x: NTPsec slews up to 600 s */
    static struct eng_rng rng = {.ctx = NULL, .bytes = rng_bytes};
    d->eng_observe = cfg.observe;
    const struct ntk_clk_ops *clk = cfg.observe ? ntk_clk_null() : ntk_clk_linux();
    struct eng_now now = now_of();
    if (load_keys(d, &d->keys) != 0)
        return 1;
    d->eng = eng_new(&cfg, clk, &rng, d->keys, &now);
    if (d->eng == NULL)
        return 1;
    log_msg(LOG_INFO, "clock: %s driver%s, precision 2^%d s", clk->name,
            cfg.observe ? " (observe: never adjusted)" : "", cfg.precision_log2);
    return 0;
}

static void add_servers(struct ntpd *d)
{
    struct eng_now now = now_of();
    for (size_t i = 0; i < d->conf.n_servers; i++) {
        struct conf_server *s = &d->conf.servers[i];
        /* The line's -4/-6, else the command line's. */
        int family = s->family == 4 ? AF_INET : s->family == 6 ? AF_INET6 : d->opts.family;
        int rc = 0;
        if (s->kind == CONF_SRV_POOL)
            rc = eng_add_pool(d->eng, &s->cfg, &now);
        else if (s->cfg.addr.family == NTK_ADDR_NONE)
            rc = resolver_ask(d->resolver, s->cfg.name, family,
                              s->cfg.addr.port ? s->cfg.addr.port : 123);
        else
            rc = eng_add_server(d->eng, &s->cfg, &now);
        if (rc < 0)
            log_msg(LOG_ERR, "line %u: server %s: %s", (unsigned)s->line,
                    s->cfg.name[0] ? s->cfg.name : "(address)", ntk_strerror(rc));
    }
}

static void add_rule(struct ntpd *d, const struct conf_restrict *r, enum ntk_addr_family fam)
{
    struct ntk_addr net = r->addr;
    unsigned prefix = r->prefix_len;
    if (r->is_default) {
        memset(&net, 0, sizeof net);
        net.family = fam;
        prefix = 0;
    }
    int rc = r->unrestrict ? rst_remove(d->rst, &net, prefix, r->flags)
                           : rst_add(d->rst, &net, prefix, r->flags);
    if (rc != 0 && rc != NTK_ENOTFOUND)
        log_msg(LOG_ERR, "line %u: restrict: %s", (unsigned)r->line, ntk_strerror(rc));
}

static void add_rules(struct ntpd *d)
{
    for (size_t i = 0; i < d->conf.n_rules; i++) {
        const struct conf_restrict *r = &d->conf.rules[i];
        if (r->is_default && r->family != 6)
            add_rule(d, r, NTK_ADDR_V4);
        if (r->is_default && r->family != 4)
            add_rule(d, r, NTK_ADDR_V6);
        if (!r->is_default && r->addr.family != NTK_ADDR_NONE)
            add_rule(d, r, r->addr.family);
        else if (!r->is_default)
            log_msg(LOG_WARNING, "line %u: restrict by name or `source` is not applied yet",
                    (unsigned)r->line);
    }
}

static int make_server(struct ntpd *d)
{
    struct mru_cfg mc;
    mru_cfg_default(&mc);
    if (d->conf.mru.maxmem_kib)
        mc.maxmem_kib = d->conf.mru.maxmem_kib;
    if (d->conf.mru.maxdepth)
        mc.maxdepth = d->conf.mru.maxdepth;
    if (d->conf.mru.minage_s)
        mc.minage_s = d->conf.mru.minage_s;
    if (d->conf.mru.maxage_s)
        mc.maxage_s = d->conf.mru.maxage_s;
    /* The rate limiter's figures are `limit`'s (average spacing, burst, KoD spacing; their
     * defaults let an iburst through, as NTPsec 1.2 does for Debian's `restrict default kod
     * limited`), and `discard minimum` the least spacing. `discard average` is accepted and
     * not used: with the MRU's score it would limit the third request of an iburst. */
    mc.minimum_s = d->conf.discard.minimum_s;
    if (d->conf.limit.average_s > 0)
        mc.average_pps = 1.0 / d->conf.limit.average_s;
    if (d->conf.limit.burst > 0)
        mc.burst = d->conf.limit.burst;
    if (d->conf.limit.kod_s > 0)
        mc.kod_interval_s = d->conf.limit.kod_s;
    uint8_t seed[16];
    rng_bytes(NULL, seed, sizeof seed);
    d->rst = rst_new();
    d->mru = mru_new(&mc, seed);
    if (d->rst == NULL || d->mru == NULL)
        return 1;
    add_rules(d);
    /* `disable monitor`: no client list, and so no rate limiting (as NTPsec). */
    struct mru *mon = d->conf.sys_flags & CONF_SYS_MONITOR ? d->mru : NULL;
    d->srv = (struct srv){
        .rst = d->rst, .mru = mon, .keys = d->keys, .rng = {.ctx = NULL, .bytes = rng_bytes}};
    return 0;
}

/* -p: the process id, written atomically; removed at exit. */
static int write_pidfile(struct ntpd *d)
{
    if (d->opts.pidfile == NULL)
        return 0;
    char text[32], why[300];
    struct ntk_sb sb, err;
    ntk_sb_init(&sb, text, sizeof text);
    ntk_sb_printf(&sb, "%ld\n", (long)getpid());
    ntk_sb_init(&err, why, sizeof why);
    if (files_write_atomic(d->opts.pidfile, text, ntk_sb_len(&sb), 0644, &err) != 0) {
        log_msg(LOG_ERR, "%s", ntk_sb_str(&err));
        return 1;
    }
    d->pidfile_written = true;
    return 0;
}

int ntpd_setup(struct ntpd *d, const struct ntpd_opts *o)
{
    memset(d, 0, sizeof *d);
    d->opts = *o;
    d->cli_fd4 = d->cli_fd6 = d->sig_fd = -1;
    d->stats.loop.fd = d->stats.peer.fd = -1; /* ntpd_free may run before dstats_init */
    d->port = ntpd_port();
    d->exit_status = 0;
    if (load_conf(&d->conf, o) != 0)
        return 1;
    d->loop = loop_new();
    d->resolver = resolver_new();
    if (d->loop == NULL || d->resolver == NULL || make_engine(d) != 0 || make_server(d) != 0)
        return 1;
    if (open_signals(d) != 0 || open_server_sockets(d) != 0 || open_client_sockets(d) != 0)
        return 1;
    (void)loop_add_fd(d->loop, resolver_fd(d->resolver), on_resolved, d);
    load_leapfile(d);
    dstats_init(&d->stats, &d->conf, d->opts.statsdir);
    add_servers(d);
    return 0;
}

/* -N / -P: a higher priority for the time path (NTPsec's -N is the highest it may have). */
static void set_priority(const struct ntpd *d)
{
    if (!d->opts.raise_priority && d->opts.priority == 0)
        return;
    int prio = d->opts.priority != 0 ? d->opts.priority : -20;
    if (setpriority(PRIO_PROCESS, 0, prio) != 0)
        log_msg(LOG_WARNING, "cannot set priority %d: %s", prio, strerror(errno));
}

/* -i DIR: chroot before the privilege drop (the files it needs are open or re-read by path,
 * so DIR must hold the leap and drift files under the same names). */
static int enter_jail(const struct ntpd *d)
{
    if (d->opts.chroot_dir == NULL)
        return 0;
    if (chroot(d->opts.chroot_dir) != 0 || chdir("/") != 0) {
        log_msg(LOG_ERR, "-i %s: %s", d->opts.chroot_dir, strerror(errno));
        return 1;
    }
    return 0;
}

int ntpd_run(struct ntpd *d)
{
    /* After the fork into the background: the pidfile names the process that runs. */
    /* The user is looked up before the chroot, where /etc/passwd is out of reach. */
    uid_t uid = 0;
    gid_t gid = 0;
    if (write_pidfile(d) != 0 ||
        (d->opts.user != NULL && priv_lookup(d->opts.user, &uid, &gid) != 0) ||
        enter_jail(d) != 0)
        return 1;
    set_priority(d);
    /* Sockets are bound and files open: root is no longer needed. Observe mode keeps no
     * capability at all; otherwise only CAP_SYS_TIME. */
    if (d->opts.user != NULL && priv_become(uid, gid, !d->eng_observe) != 0)
        return 1;
    struct eng_now now = now_of();
    eng_on_timer(d->eng, &now);
    drain_actions(d);
    if (d->opts.foreground)
        d->status_timer = loop_timer(d->loop, now.mono_ns + 5000000000LL, on_status, d);
    (void)loop_timer(d->loop, now.mono_ns + DRIFT_TIMER_S * 1000000000LL, on_drift_timer, d);
    log_msg(LOG_INFO, "serving on port %u", (unsigned)d->port);
    int rc = loop_run(d->loop);
    save_drift(d, true); /* SIGTERM: the state files are finished before exiting */
    if (rc < 0) {
        log_msg(LOG_ERR, "event loop: %s", strerror(-rc));
        return 1;
    }
    return d->exit_status;
}

void ntpd_free(struct ntpd *d)
{
    for (int i = 0; i < d->nsrv_fd; i++)
        close(d->srv_fd[i]);
    if (d->cli_fd4 >= 0)
        close(d->cli_fd4);
    if (d->cli_fd6 >= 0)
        close(d->cli_fd6);
    if (d->sig_fd >= 0)
        close(d->sig_fd);
    dstats_close(&d->stats);
    resolver_free(d->resolver);
    eng_free(d->eng);
    ntk_mac_keys_free(d->keys);
    mru_free(d->mru);
    rst_free(d->rst);
    loop_free(d->loop);
    if (d->pidfile_written)
        (void)unlink(d->opts.pidfile);
    conf_free(&d->conf);
}
