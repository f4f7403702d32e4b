/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd as a whole: configuration to engine and server, sockets and resolver on the loop,
 * actions carried out, signals (daemon.h). */
#include "daemon_internal.h"

#include <errno.h>
#include <math.h>
#include <openssl/crypto.h>
#include <pthread.h>
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
#include "sdnotify.h"
#include "ntk/err.h"
#include "ntk/keyfile.h"
#include "ntk/refid.h"
#include "ntk/sb.h"

#include "poison.h"

/* Without a clock update this long after start, ntpd tells systemd it is ready anyway. */
#define NOTIFY_FALLBACK_S 60

/* The restrict flags of the configuration and of the server are the same bits. */
_Static_assert((unsigned)CONF_RES_IGNORE == (unsigned)RST_IGNORE &&
                   (unsigned)CONF_RES_FLAKE == (unsigned)RST_FLAKE &&
                   (unsigned)CONF_RES_NOSERVE == (unsigned)RST_NOSERVE &&
                   (unsigned)CONF_RES_NTPPORT == (unsigned)RST_NTPPORT,
               "conf and restrict flags differ");

struct eng_now daemon_now(void)
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

/* Random bytes come from a pool filled by getrandom and handed out once each (then wiped):
 * a system call per NTS reply (its nonce, its cookies' nonces) cost 0.5 µs of about 7
 * (bench/BENCHMARKS.md, NTS), and OpenSSL 3.0's RAND_bytes is slower still (0.62 µs for
 * 16 bytes here, getrandom 0.26 µs). A child of fork() (daemonizing) starts with an empty
 * pool, so the two never hand out the same bytes. Only the main thread draws. */
static uint8_t rng_pool[4096];
static size_t rng_have;

static void rng_forget(void)
{
    OPENSSL_cleanse(rng_pool, sizeof rng_pool);
    rng_have = 0;
}

static void rng_fill(void)
{
    static bool hooked;
    if (!hooked)
        hooked = pthread_atfork(NULL, NULL, rng_forget) == 0;
    size_t got = 0;
    while (got < sizeof rng_pool) {
        ssize_t r = getrandom(rng_pool + got, sizeof rng_pool - got, 0);
        if (r > 0) /* else EINTR: getrandom never fails otherwise once the pool is ready */
            got += (size_t)r;
    }
    rng_have = sizeof rng_pool;
}

void daemon_rng_bytes(void *ctx, uint8_t *p, size_t n)
{
    (void)ctx;
    while (n > 0) {
        if (rng_have == 0)
            rng_fill();
        size_t take = n < rng_have ? n : rng_have;
        uint8_t *from = rng_pool + sizeof rng_pool - rng_have;
        memcpy(p, from, take);
        OPENSSL_cleanse(from, take);
        rng_have -= take;
        p += take;
        n -= take;
    }
}

/* ---- actions ---- */

static void arm_eng_timer(struct ntpd *d);

/* How NTPsec's logconfig classes an engine event (its NLOG masks at the matching
 * report_event or msyslog call): system events are sys events, association events peer
 * events; the synchronisation state is also sync status, a step also a sync event (NTPsec
 * loop filter), frequency and clock errors also clock events. */
static uint32_t event_class(enum eng_event ev)
{
    switch (ev) {
    case ENG_EV_SYNC:
    case ENG_EV_UNSYNC:
        return LOG_BIT(SYNC, STATUS) | LOG_BIT(SYS, EVENT);
    case ENG_EV_STEP:
        return LOG_BIT(SYNC, EVENT) | LOG_BIT(SYS, EVENT) | LOG_BIT(CLOCK, EVENT);
    case ENG_EV_PANIC:
    case ENG_EV_FREQ:
    case ENG_EV_FREQ_NOT_SET:
    case ENG_EV_CLOCK_ERROR:
        return LOG_BIT(CLOCK, EVENT) | LOG_BIT(SYS, EVENT);
    case ENG_EV_KOD:
    case ENG_EV_UNREACH:
    case ENG_EV_REACH:
    case ENG_EV_NTS_REFUSED:
    case ENG_EV_MOBILIZE:
    case ENG_EV_DEMOBILIZE:
        return LOG_BIT(PEER, EVENT);
    case ENG_EV_LEAP_ARMED:
    case ENG_EV_LEAP_DISARMED:
    case ENG_EV_LEAP:
    case ENG_EV_LEAP_FILE:
    case ENG_EV_RESTART:
        return LOG_BIT(SYS, EVENT);
    default:
        return LOG_MASK_ALL;
    }
}

/* Whether an event's value means something (engine.h: seconds, ppm, a sign, an errno). */
static bool event_has_value(enum eng_event ev)
{
    switch (ev) {
    case ENG_EV_SYNC:
    case ENG_EV_STEP:
    case ENG_EV_PANIC:
    case ENG_EV_FREQ:
    case ENG_EV_LEAP_ARMED:
    case ENG_EV_CLOCK_ERROR:
        return true;
    default:
        return false;
    }
}

/* Logs an engine event under its logconfig class and writes its protostats line (an
 * ENG_EV_RAW event only its rawstats line: one comes with every reply). */
static void log_event(struct ntpd *d, const struct eng_action *a)
{
    if (a->event == ENG_EV_RAW) {
        dstats_raw(&d->stats, d->eng, a, dclient_local_of(d, &a->remote));
        return;
    }
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
        [ENG_EV_NTS_REFUSED] = "NTS refused a reply",
        [ENG_EV_RESTART] = "restart",
        [ENG_EV_FREQ_NOT_SET] = "no initial frequency (no drift file)",
        [ENG_EV_MOBILIZE] = "mobilize",
        [ENG_EV_DEMOBILIZE] = "demobilize",
        [ENG_EV_LEAP_DISARMED] = "leap second disarmed",
        [ENG_EV_LEAP] = "leap second",
    };
    const char *what = a->event < sizeof names / sizeof names[0] && names[a->event] != NULL
                           ? names[a->event]
                           : "event";
    int level = a->event == ENG_EV_PANIC || a->event == ENG_EV_CLOCK_ERROR ? LOG_ERR
                : a->event == ENG_EV_NTS_REFUSED                           ? LOG_WARNING
                                                                           : LOG_INFO;
    /* "what[: association N][, value V][, text]": only the parts the event has. */
    char line[384];
    struct ntk_sb m;
    ntk_sb_init(&m, line, sizeof line);
    ntk_sb_puts(&m, what);
    const char *sep = ": ";
    if (a->assoc_id != 0) {
        ntk_sb_printf(&m, "%sassociation %u", sep, (unsigned)a->assoc_id);
        sep = ", ";
    }
    if (event_has_value(a->event)) {
        ntk_sb_printf(&m, "%svalue %.9g", sep, a->value);
        sep = ", ";
    }
    if (a->text[0] != '\0')
        ntk_sb_printf(&m, "%s%s", sep, a->text);
    if (a->event != ENG_EV_LEAP_FILE) /* dleap_load has logged the file */
        log_class(event_class(a->event), level, "%s", line);
    dstats_event(&d->stats, d->eng, a);
}

/* systemd (Type=notify): READY=1 once, when the clock was first updated (observe mode: as
 * soon as ntpd serves), with a STATUS line systemctl shows. */
static void notify_ready(struct ntpd *d, const char *status)
{
    (void)sdn_status(d->notify_fd, status);
    if (d->notify_ready)
        return;
    d->notify_ready = true;
    (void)sdn_ready(d->notify_fd);
    if (d->notify_timer != 0) {
        loop_cancel(d->loop, d->notify_timer);
        d->notify_timer = 0;
    }
}

/* A machine without a reachable source must still finish booting: without a clock update
 * NOTIFY_FALLBACK_S after start, ntpd reports ready anyway and says why (systemd's default
 * start timeout is 90 s; time-sync.target waits for synchronisation through
 * ntpkit-wait.service, not through this). */
static void on_notify_fallback(void *ctx, int64_t now_mono_ns)
{
    struct ntpd *d = ctx;
    (void)now_mono_ns;
    d->notify_timer = 0;
    notify_ready(d, "serving; not synchronised yet (no clock update within a minute)");
}

/* -w: tells the waiting parent (main.c) that the first synchronisation happened. */
static void notify_synced(struct ntpd *d)
{
    if (d->sync_fd < 0)
        return;
    if (write(d->sync_fd, "s", 1) != 1)
        log_msg(LOG_WARNING, "-w: cannot tell the parent: %s", strerror(errno));
    close(d->sync_fd);
    d->sync_fd = -1;
}

void daemon_drain_actions(struct ntpd *d)
{
    struct eng_action a;
    while (eng_pop_action(d->eng, &a)) {
        switch (a.kind) {
        case ENG_ACT_SEND:
            dclient_send(d, &a);
            break;
        case ENG_ACT_RESOLVE:
            dnames_resolve_pool(d, a.text);
            break;
        case ENG_ACT_EVENT:
            if (a.event == ENG_EV_SYNC)
                notify_synced(d);
            if (a.event == ENG_EV_CLOCK_UPDATE && !d->notify_ready)
                notify_ready(d, "synchronising: the clock was updated");
            else if (a.event == ENG_EV_SYNC || a.event == ENG_EV_UNSYNC)
                (void)sdn_status(d->notify_fd,
                                 a.event == ENG_EV_SYNC ? "synchronised" : "not synchronised");
            if (a.event == ENG_EV_CLOCK_UPDATE || a.event == ENG_EV_PEER_UPDATE)
                dstats_event(&d->stats, d->eng, &a);
            else
                log_event(d, &a);
            break;
        case ENG_ACT_EXIT:
            d->exit_status = (int)a.value;
            loop_stop(d->loop);
            break;
        case ENG_ACT_NEED_KE:
            dnts_need_ke(d, &a);
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
    struct eng_now n = daemon_now();
    eng_on_timer(d->eng, &n);
    daemon_drain_actions(d);
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

static void on_signal(void *ctx, int fd)
{
    struct ntpd *d = ctx;
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGHUP) {
            /* As NTPsec: the log file is opened again by name (logrotate renamed it), then
             * the keys and the leap file are read again. Here, in the loop (signalfd). */
            int rc = log_reopen();
            if (rc != 0)
                log_msg(LOG_ERR, "SIGHUP: cannot reopen the log file %s: %s (still the old)",
                        log_file_path(), strerror(-rc));
            log_msg(LOG_INFO, "SIGHUP: log reopened; re-reading the keys and the leap file, "
                              "retrying unresolved names");
            dstats_reopen(&d->stats);
            dfiles_reload_keys(d);
            dnts_reload(d);
            dleap_load(d);
            dnames_retry(d); /* the names that could not be resolved, now (NTPsec too) */
            daemon_drain_actions(d);
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

/* The servers named on the command line (NTPsec's ntpd [options] [server...]), each as
 * `server NAME iburst`, through the parser's checks. Returns 0 or 1 (logged). */
static int add_cmdline_servers(struct conf *c, const struct ntpd_opts *o)
{
    static struct conf_diags g;
    int bad = 0;
    for (int i = 0; i < o->nservers; i++) {
        char line[CONF_NAME_MAX + 16];
        struct ntk_sb sb;
        ntk_sb_init(&sb, line, sizeof line);
        ntk_sb_printf(&sb, "server %s iburst\n", o->servers[i]);
        conf_diags_init(&g);
        if (ntk_sb_err(&sb) != 0 ||
            conf_parse_text(c, "(command line)", line, ntk_sb_len(&sb), &g) != 0) {
            log_diags(&g);
            log_msg(LOG_ERR, "command line: server '%s' not usable", o->servers[i]);
            bad = 1;
        }
    }
    return bad;
}

/* The configuration -c names, /etc/ntp.conf, or the built-in one when neither exists; then
 * the servers of the command line. */
static int load_conf(struct conf *c, const struct ntpd_opts *o)
{
    static struct conf_diags g;
    conf_diags_init(&g);
    conf_init(c);
    const char *path = o->config != NULL ? o->config : "/etc/ntp.conf";
    /* Only a missing file means the built-in configuration: an unreadable one is an error
     * (reported by the parser), not a silent switch to the public pool. */
    if (o->config == NULL && access(path, F_OK) != 0 && errno == ENOENT) {
        log_msg(LOG_INFO, "no %s: using the built-in configuration%s", path,
                o->nservers > 0 ? " without its pool (servers named on the command line)"
                                : "");
        if (conf_default(c) != 0)
            return 1;
        if (o->nservers > 0)
            c->n_servers = 0; /* the built-in pool line: the named servers replace it */
        return add_cmdline_servers(c, o);
    }
    int rc = conf_parse_file(c, path, &g);
    log_diags(&g);
    if (rc != 0)
        log_msg(LOG_ERR, "%s: %zu error(s) in the configuration", path, g.errors);
    return rc == 0 ? add_cmdline_servers(c, o) : 1;
}

/* Every `key N` of a server line must be a trusted key of the keys file: the engine would
 * refuse the line at start-up. Logs each as an error; returns how many. */
static size_t check_server_keys(const struct ntpd *d, const struct ntk_mac_keys *keys)
{
    const char *path = d->opts.config != NULL ? d->opts.config : "/etc/ntp.conf";
    size_t bad = 0;
    for (size_t i = 0; i < d->conf.n_servers; i++) {
        const struct conf_server *s = &d->conf.servers[i];
        uint32_t id = s->cfg.key_id;
        if (id == 0 || (keys != NULL && ntk_mac_keys_lookup(keys, id, NULL) == 0))
            continue;
        char a[NTK_ADDRSTR_MAX];
        log_msg(LOG_ERR,
                "%s:%u: error: %s %s: key %u is not a trusted key of the keys file (keys, "
                "trustedkey, -k, -t)",
                path, (unsigned)s->line, s->kind == CONF_SRV_POOL ? "pool" : "server",
                s->cfg.name[0] ? s->cfg.name : ntk_addr_format(&s->cfg.addr, a), (unsigned)id);
        bad++;
    }
    return bad;
}

int ntpd_check_config(const struct ntpd_opts *o)
{
    static struct ntpd d; /* only opts, conf and the keys are used */
    memset(&d, 0, sizeof d);
    d.opts = *o;
    int rc = load_conf(&d.conf, o);
    struct ntk_mac_keys *keys = NULL;
    /* The keys file is part of the configuration: unreadable, or a line in error, fails. */
    if (rc == 0 && (dfiles_load_keys(&d, &keys) != 0 || d.key_errors > 0))
        rc = 1;
    if (rc == 0 && dlisten_check(&d) != 0)
        rc = 1;
    if (rc == 0 && check_server_keys(&d, keys) > 0)
        rc = 1;
    if (rc == 0 && dnts_check(&d) != 0)
        rc = 1;
    if (rc == 0)
        log_msg(LOG_INFO, "configuration OK: %zu server line(s), %zu restrict line(s)",
                d.conf.n_servers, d.conf.n_rules);
    ntk_mac_keys_free(keys);
    conf_free(&d.conf);
    return rc;
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
    cfg.force_step_once = d->opts.step_first;
    cfg.once = d->opts.once;
    cfg.have_freq = dfiles_read_drift(d, &cfg.initial_freq_ppm);
    if (d->conf.tinker_x.have_freq) { /* NTPsec: `tinker freq` wins over the drift file */
        cfg.have_freq = true;
        cfg.initial_freq_ppm = d->conf.tinker_x.freq_ppm;
        log_msg(LOG_INFO, "tinker freq: starting at %+.3f ppm", cfg.initial_freq_ppm);
    }
    drift_policy_init(&d->drift, cfg.have_freq ? cfg.initial_freq_ppm : 0,
                      loop_now_mono_ns() / 1000000000LL);
    if (d->conf.drift_threshold_ppm > 0)
        d->drift.threshold_ppm = d->conf.drift_threshold_ppm;
    if (d->opts.slew_only)
        cfg.tinker.step_s = 600; /* -x: NTPsec slews up to 600 s */
    static struct eng_rng rng = {.ctx = NULL, .bytes = daemon_rng_bytes};
    d->eng_observe = cfg.observe;
    const struct ntk_clk_ops *clk = cfg.observe ? ntk_clk_null() : ntk_clk_linux();
    struct eng_now now = daemon_now();
    /* As --check-config: a keys file with a line in error stops ntpd (SIGHUP keeps the keys
     * in use instead). */
    if (dfiles_load_keys(d, &d->keys) != 0 || d->key_errors > 0 ||
        check_server_keys(d, d->keys) > 0)
        return 1;
    d->eng = eng_new(&cfg, clk, &rng, d->keys, &now);
    if (d->eng == NULL)
        return 1;
    log_msg(LOG_INFO, "clock: %s driver%s, precision 2^%d s", clk->name,
            cfg.observe ? " (observe: never adjusted)" : "", cfg.precision_log2);
    return 0;
}

/* The rate limiter's figures are `limit`'s, in NTPsec's units: average and kod in packets
 * per second, burst the score's time constant (their defaults let an iburst through, as
 * NTPsec does for Debian's `restrict default kod limited`); `discard minimum` is the least
 * spacing. `discard average N` without a `limit` line (older configurations) means a mean
 * spacing of 2^N s with NTP Classic's allowance of a burst of 8 packets (NTP_SHIFT), so an
 * iburst still passes: the time constant becomes 8 * 2^N s. kod 0: at most one KoD per
 * client entry. */
void daemon_rate_cfg(struct mru_cfg *mc, const struct conf_discard *dc,
                     const struct conf_limit *lc)
{
    mc->minimum_s = dc->minimum_s;
    mc->average_pps = lc->average_pps;
    if (lc->burst > 0)
        mc->burst = lc->burst;
    mc->kod_interval_s = lc->kod_pps > 0 ? 1.0 / lc->kod_pps : 1e9;
    if (!dc->average_given || lc->given)
        return;
    double spacing_s = ldexp(1.0, dc->average_log2);
    mc->average_pps = 1.0 / spacing_s;
    mc->burst = 8 * spacing_s;
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
    daemon_rate_cfg(&mc, &d->conf.discard, &d->conf.limit);
    uint8_t seed[16];
    daemon_rng_bytes(NULL, seed, sizeof seed);
    d->rst = rst_new();
    d->mru = mru_new(&mc, seed);
    if (d->rst == NULL || d->mru == NULL)
        return 1;
    dnames_add_rules(d);
    /* `disable monitor`: no client list, and so no rate limiting (as NTPsec). */
    struct mru *mon = d->conf.sys_flags & CONF_SYS_MONITOR ? d->mru : NULL;
    d->srv = (struct srv){.rst = d->rst,
                          .mru = mon,
                          .keys = d->keys,
                          .rng = {.ctx = NULL, .bytes = daemon_rng_bytes}};
    return 0;
}

int ntpd_setup(struct ntpd *d, const struct ntpd_opts *o)
{
    memset(d, 0, sizeof *d);
    d->opts = *o;
    d->cli_fd4 = d->cli_fd6 = d->sig_fd = d->sync_fd = d->notify_fd = -1;
    d->stats.loop.fd = d->stats.peer.fd = -1; /* ntpd_free may run before dstats_init */
    d->port = ntpd_port();
    d->exit_status = 0;
    if (load_conf(&d->conf, o) != 0)
        return 1;
    dfiles_setup_log(d); /* `logfile`, `logconfig` */
    d->loop = loop_new();
    d->resolver = resolver_new();
    if (d->loop == NULL || d->resolver == NULL || make_engine(d) != 0 || make_server(d) != 0)
        return 1;
    if (open_signals(d) != 0 || dlisten_open(d) != 0 || dclient_open(d) != 0 ||
        dnts_setup(d) != 0)
        return 1;
    /* refclocks */
    (void)drefclk_open(d);
    (void)loop_add_fd(d->loop, resolver_fd(d->resolver), dnames_on_resolved, d);
    dleap_load(d);
    dstats_init(&d->stats, &d->conf, d->opts.statsdir);
    dstats_start(d); /* the hourly sysstats line */
    dleap_start(d);  /* the hourly look at the leap file */
    dnames_add_servers(d);
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
    /* Before the chroot, the drop and the seccomp filter: afterwards only send(2) is needed.
     */
    int nrc = sdn_open(&d->notify_fd);
    if (nrc < 0)
        log_msg(LOG_WARNING, "NOTIFY_SOCKET: %s: systemd is not told when ntpd is ready",
                strerror(-nrc));
    if (dfiles_write_pidfile(d) != 0 ||
        (d->opts.user != NULL && priv_lookup(d->opts.user, &uid, &gid) != 0) ||
        enter_jail(d) != 0)
        return 1;
    set_priority(d);
    /* Sockets are bound and files open: root is no longer needed. Observe mode keeps no
     * capability at all; otherwise only CAP_SYS_TIME. */
    if (d->opts.user != NULL && priv_become(uid, gid, !d->eng_observe) != 0)
        return 1;
    if (dnts_load_keys(d) != 0) /* as the user ntpd now runs as: the file is its own */
        return 1;
    struct eng_now now = daemon_now();
    eng_on_timer(d->eng, &now);
    daemon_drain_actions(d);
    if (d->opts.foreground)
        d->status_timer = loop_timer(d->loop, now.mono_ns + 5000000000LL, dstatus_on_timer, d);
    (void)loop_timer(d->loop, now.mono_ns + DRIFT_TIMER_S * 1000000000LL,
                     dfiles_on_drift_timer, d);
    log_msg(LOG_INFO, "serving on port %u", (unsigned)d->port);
    if (d->eng_observe)
        notify_ready(d, "serving; observe mode: the clock is never touched");
    else if (!d->notify_ready)
        d->notify_timer = loop_timer(d->loop, now.mono_ns + NOTIFY_FALLBACK_S * 1000000000LL,
                                     on_notify_fallback, d);
    int rc = loop_run(d->loop);
    (void)sdn_stopping(d->notify_fd);
    dfiles_save_drift(d, true); /* SIGTERM: the state files are finished before exiting */
    if (rc < 0) {
        log_msg(LOG_ERR, "event loop: %s", strerror(-rc));
        return 1;
    }
    return d->exit_status;
}

void ntpd_free(struct ntpd *d)
{
    dnames_free(d);
    dctl_free(d);
    dnts_free(d);
    /* refclocks */
    drefclk_free(d);
    srv_release(&d->srv); /* the NTS scratch key, after dnts_free unhooked the cookies */
    for (int i = 0; i < d->nsrv_fd; i++)
        close(d->srv_fd[i]);
    if (d->cli_fd4 >= 0)
        close(d->cli_fd4);
    if (d->cli_fd6 >= 0)
        close(d->cli_fd6);
    if (d->sig_fd >= 0)
        close(d->sig_fd);
    if (d->sync_fd >= 0)
        close(d->sync_fd);
    sdn_close(d->notify_fd);
    dstats_close(&d->stats);
    resolver_free(d->resolver);
    eng_free(d->eng);
    ntk_mac_keys_free(d->keys);
    mru_free(d->mru);
    rst_free(d->rst);
    loop_free(d->loop);
    if (d->pidfile_written)
        (void)unlink(dfiles_pidfile(d));
    conf_free(&d->conf);
}
