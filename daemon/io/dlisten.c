/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's server side: the sockets it listens on and the batches of requests it answers. */
#include "daemon_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "net.h"

#include "poison.h"

/* Most batches served per wake-up of a server socket. */
#define SERVE_ROUNDS 8

/* Most datagrams a `drop` socket discards per wake-up. */
#define DROP_ROUNDS 256

/* NTPsec's default -U: re-read the addresses every 5 minutes. */
#define RESCAN_DEFAULT_S 300

/* NTS requests refused (a NAK sent, or dropped): one log line each, at most
 * NTS_LOG_PER_S a second, then one line saying how many were not logged (a flood of forged
 * requests must not flood the log). */
#define NTS_LOG_PER_S 10

static void log_nts_refusal(const struct ntk_addr *src, const struct srv_verdict *v,
                            int64_t now_mono_ns)
{
    static int64_t second;
    static unsigned logged, suppressed;
    if (now_mono_ns / 1000000000LL != second) {
        if (suppressed > 0)
            log_msg(LOG_WARNING, "NTS: %u more refused requests not logged", suppressed);
        second = now_mono_ns / 1000000000LL;
        logged = suppressed = 0;
    }
    if (logged++ >= NTS_LOG_PER_S) {
        suppressed++;
        return;
    }
    char b[NTK_ADDRSTR_MAX];
    const char *why = v->nak                        ? "cookie does not open: NTS NAK sent"
                      : v->why == SRV_DROP_NTS_AUTH ? "Authenticator does not verify: dropped"
                      : v->why == SRV_DROP_NTS_BAD  ? "malformed NTS fields: dropped"
                                                    : "cannot make cookies: dropped";
    log_msg(LOG_WARNING, "NTS request from %s: %s", ntk_addr_format(src, b), why);
}

static bool nts_refused(const struct srv_verdict *v)
{
    return v->nak || v->why == SRV_DROP_NTS_AUTH || v->why == SRV_DROP_NTS_BAD ||
           v->why == SRV_DROP_NTS_CRYPTO;
}

/* NTS replies sealed before the replies waiting are sent. A batch of 64 NTS replies takes
 * about 150 us of cryptography: sent all at once, the first reply would wait all that time
 * after its transmit timestamp was read (an error in the client's delay and offset), and a
 * client with many requests in flight would get nothing back until the last was sealed.
 * Sending every 8 bounds the wait to 8 seals for one system call more per 8 replies. */
#define NTS_SEND_EVERY 8

/* Replies answered from one batch and not sent yet. */
struct pending {
    struct net_out out[NET_BATCH];
    int k;   /* replies waiting */
    int nts; /* of which NTS replies */
};

/* Finishes the waiting replies (transmit timestamp, MAC or Authenticator) and sends them:
 * with one clock reading for all, except NTS replies, which read the clock right before
 * their own sealing (an AEAD seal costs microseconds, and the transmit timestamp is inside
 * what it authenticates). */
static void send_pending(struct ntpd *d, int fd, struct pending *p, struct srv_verdict *v,
                         uint8_t (*reply)[SRV_REPLY_MAX])
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int ok = 0;
    for (int i = 0; i < p->k; i++) {
        struct timespec t = now;
        if (v[i].nts)
            clock_gettime(CLOCK_REALTIME, &t);
        if (srv_finish(&d->srv, &v[i], reply[i], sizeof reply[i], ntk_ts_from_timespec(&t)) ==
            0)
            p->out[ok++] = p->out[i];
    }
    if (ok > 0)
        daemon_count_sent(d, ok, net_send_batch(fd, p->out, ok));
    p->k = p->nts = 0;
}

/* Serves one batch from fd; returns how many datagrams it read (0: the queue is empty). */
static int serve_batch(struct ntpd *d, int fd)
{
    static struct net_msg m[NET_BATCH];
    static uint8_t reply[NET_BATCH][SRV_REPLY_MAX];
    static struct srv_verdict v[NET_BATCH]; /* static: an NTS verdict stages ~2 KiB */
    struct pending p = {.k = 0};
    int n = net_recv_batch(fd, m, NET_BATCH);
    if (n <= 0)
        return 0;
    struct snap_system sys;
    int64_t mono = loop_now_mono_ns();
    eng_snap(d->eng, mono, &sys, NULL, NULL, 0);
    for (int i = 0; i < n; i++) {
        if (m[i].len == 0 && !m[i].truncated)
            continue; /* as NTPsec, which drops an empty datagram before it counts it */
        struct srv_req q = {.buf = m[i].buf,
                            .len = m[i].truncated ? 0 : m[i].len,
                            .src = m[i].remote,
                            .rx_ts = ntk_ts_from_timespec(&m[i].rx),
                            .rx_mono_ns = mono};
        int k = p.k;
        enum srv_action act = srv_handle(&d->srv, &sys, &q, reply[k], sizeof reply[k], &v[k]);
        if (nts_refused(&v[k]))
            log_nts_refusal(&m[i].remote, &v[k], mono);
        if (act == SRV_CONTROL)
            dctl_serve(d, fd, &m[i], v[k].rflags);
        if (act != SRV_REPLY)
            continue;
        p.out[k] = (struct net_out){.buf = reply[k],
                                    .len = v[k].len,
                                    .remote = m[i].remote,
                                    .local = m[i].local,
                                    .ifindex = m[i].ifindex};
        p.k++;
        if (v[k].nts && ++p.nts == NTS_SEND_EVERY)
            send_pending(d, fd, &p, v, reply);
    }
    if (p.k > 0)
        send_pending(d, fd, &p, v, reply);
    return n;
}

/* Sleeps ns nanoseconds (less than a second), resuming after a signal. */
static void wait_ns(int64_t ns)
{
    struct timespec t = {.tv_sec = 0, .tv_nsec = (long)ns}, left;
    while (nanosleep(&t, &left) != 0 && errno == EINTR)
        t = left;
}

/* Under load the queue refills while a batch is served: read again, as long as a read
 * brings anything, before going back to poll() (a system call per wake-up saved; the read
 * that finds the queue empty costs one at low load), a bounded number of times so that
 * the other sockets and the timers are not starved. Measured (BENCHMARKS.md): about 2 %
 * more replies per second than reading again only after a full batch. At a high rate
 * that brings only a few requests per read, wait for the queue to fill first
 * (coalesce.h). */
static void on_server_readable(void *ctx, int fd)
{
    struct ntpd *d = ctx;
    for (int round = 0; round < SERVE_ROUNDS; round++) {
        int n = serve_batch(d, fd);
        if (round == 0)
            daemon_count_wakeup(d, n);
        int64_t wait = coal_after_read(&d->serve_coal, loop_now_mono_ns(), n, NET_BATCH);
        if (n <= 0)
            break;
        if (wait > 0 && round + 1 < SERVE_ROUNDS)
            wait_ns(wait);
    }
}

/* ---- the sockets ---- */

static struct iface_sock *find_sock(struct ntpd *d, int fd)
{
    for (int i = 0; i < d->nsrv_fd; i++)
        if (d->srv_fd[i] == fd)
            return &d->srv_sock[i];
    return NULL;
}

/* `drop`: read and discard (counted), never answer. Not the hot path: a few recv calls. */
static void on_drop_readable(void *ctx, int fd)
{
    struct ntpd *d = ctx;
    struct iface_sock *s = find_sock(d, fd);
    uint8_t b[1];
    for (int i = 0; i < DROP_ROUNDS; i++) {
        if (recv(fd, b, sizeof b, MSG_DONTWAIT) < 0) {
            if (errno == EINTR)
                continue;
            return; /* EAGAIN: the queue is empty */
        }
        d->nic_dropped++;
        if (s != NULL)
            s->dropped++;
    }
}

static loop_fd_cb callback_of(enum iface_action a)
{
    return a == IFACE_DROP ? on_drop_readable : on_server_readable;
}

static bool wildcard_open(const struct ntpd *d, enum ntk_addr_family f)
{
    for (int i = 0; i < d->nsrv_fd; i++)
        if (d->srv_sock[i].wildcard && d->srv_sock[i].addr.family == f)
            return true;
    return false;
}

static enum iface_action wild_action(const struct ntpd *d, const struct iface_plan *p,
                                     enum ntk_addr_family f)
{
    (void)d;
    return f == NTK_ADDR_V4 ? p->wild4 : p->wild6;
}

/* Opens one server socket and registers it. Per-address sockets are first bound without
 * SO_REUSEADDR, so that an address another server holds is reported rather than shared; the
 * retry with it is only for our own wildcard. */
static void open_one(struct ntpd *d, const struct iface_plan *p, const struct ntk_addr *a,
                     const char *name, enum iface_action act, bool wild, int level)
{
    char text[NTK_ADDRSTR_MAX];
    if (d->nsrv_fd == NTPD_SERVER_SOCKS) {
        log_msg(LOG_WARNING, "cannot listen on %s: %d server sockets at most",
                ntk_addr_format(a, text), NTPD_SERVER_SOCKS);
        return;
    }
    int fd;
    if (!p->per_address) {
        fd = net_open_server(a, d->port, 0);
    } else {
        bool share = wild_action(d, p, a->family) != IFACE_IGNORE;
        fd = net_open_server(a, d->port,
                             (wild ? NET_REUSE_BEFORE : 0) | (share ? NET_REUSE_AFTER : 0));
        if (fd == -EADDRINUSE && !wild && wildcard_open(d, a->family))
            fd = net_open_server(a, d->port, NET_REUSE_BEFORE | NET_REUSE_AFTER);
    }
    if (fd < 0) {
        log_msg(level, "cannot listen on %s %s port %u: %s", name, ntk_addr_format(a, text),
                (unsigned)d->port, strerror(-fd));
        return;
    }
    (void)net_set_dscp(fd, a->family == NTK_ADDR_V6 ? AF_INET6 : AF_INET, d->conf.dscp);
    if (loop_add_fd(d->loop, fd, callback_of(act), d) != 0) {
        log_msg(LOG_ERR, "cannot watch the socket of %s", ntk_addr_format(a, text));
        close(fd);
        return;
    }
    struct iface_sock *s = &d->srv_sock[d->nsrv_fd];
    memset(s, 0, sizeof *s);
    s->addr = *a;
    s->addr.port = 0;
    memcpy(s->name, name, strnlen(name, sizeof s->name - 1));
    s->action = act;
    s->wildcard = wild;
    s->seen = true;
    /* NTPsec numbers the wildcards 0 and 1, then every address as it is opened. */
    s->num = !wild ? 2 + d->nic_seq++ : a->family == NTK_ADDR_V4 ? 0 : 1;
    s->opened_mono_ns = loop_now_mono_ns();
    d->srv_fd[d->nsrv_fd++] = fd;
    /* NTPsec's lines, so that log watchers keep working. */
    log_msg(LOG_INFO, "Listen %s on %d %s %s UDP %u",
            act == IFACE_DROP ? "and drop" : "normally", s->num, s->name,
            ntk_addr_format(&s->addr, text), (unsigned)d->port);
}

static void close_one(struct ntpd *d, int i)
{
    char text[NTK_ADDRSTR_MAX];
    struct iface_sock *s = &d->srv_sock[i];
    int64_t age_s = (loop_now_mono_ns() - s->opened_mono_ns) / 1000000000LL;
    log_msg(LOG_INFO,
            "Deleting interface #%d %s, %s#%u, interface stats: dropped=%" PRIu64
            ", active_time=%" PRId64 " secs",
            s->num, s->name, ntk_addr_format(&s->addr, text), (unsigned)d->port, s->dropped,
            age_s);
    loop_del_fd(d->loop, d->srv_fd[i]);
    close(d->srv_fd[i]);
    int last = --d->nsrv_fd;
    d->srv_fd[i] = d->srv_fd[last];
    d->srv_sock[i] = d->srv_sock[last];
}

static void open_wildcards(struct ntpd *d, const struct iface_plan *p)
{
    static const char *const names[2] = {"v4wildcard", "v6wildcard"};
    const enum iface_action act[2] = {p->wild4, p->wild6};
    for (int i = 0; i < 2; i++) {
        if (act[i] == IFACE_IGNORE)
            continue;
        struct ntk_addr w;
        memset(&w, 0, sizeof w);
        w.family = i == 0 ? NTK_ADDR_V4 : NTK_ADDR_V6;
        /* IPv6 may be missing (a kernel without it): a warning only. */
        open_one(d, p, &w, names[i], act[i], true, i == 0 ? LOG_ERR : LOG_WARNING);
    }
}

/* Makes the per-address sockets what p says: opens the new, closes the gone, switches an
 * address whose action changed. */
static void apply_plan(struct ntpd *d, const struct iface_plan *p, int level)
{
    for (int i = 0; i < d->nsrv_fd; i++)
        d->srv_sock[i].seen = d->srv_sock[i].wildcard;
    for (size_t k = 0; k < p->n; k++) {
        const struct iface_plan_entry *e = &p->e[k];
        struct iface_sock *s = NULL;
        int i = 0;
        for (; i < d->nsrv_fd && s == NULL; i++)
            if (!d->srv_sock[i].wildcard && ntk_addr_eq(&d->srv_sock[i].addr, &e->addr))
                s = &d->srv_sock[i];
        if (s == NULL) {
            open_one(d, p, &e->addr, e->name, e->action, false, level);
            continue;
        }
        s->seen = true;
        if (s->action != e->action) {
            int fd = d->srv_fd[i - 1];
            loop_del_fd(d->loop, fd);
            (void)loop_add_fd(d->loop, fd, callback_of(e->action), d);
            s->action = e->action;
            char text[NTK_ADDRSTR_MAX];
            log_msg(LOG_INFO, "Listen %s on %d %s %s UDP %u (was %s)",
                    e->action == IFACE_DROP ? "and drop" : "normally", s->num, s->name,
                    ntk_addr_format(&s->addr, text), (unsigned)d->port,
                    e->action == IFACE_DROP ? "listen" : "drop");
        }
    }
    if (p->overflow > 0)
        log_msg(LOG_WARNING, "%zu more addresses to listen on than fit: not opened",
                p->overflow);
    for (int i = d->nsrv_fd; i-- > 0;)
        if (!d->srv_sock[i].seen)
            close_one(d, i);
}

/* The plan for the machine's addresses now. */
static void make_plan(const struct ntpd *d, struct iface_plan *p)
{
    static struct iface_addr addrs[IFACE_ADDRS_MAX];
    size_t n = 0;
    if (d->nic_rules.n > 0 || d->nic_rules.no_virtual) {
        int rc = iface_enumerate(addrs, IFACE_ADDRS_MAX, &n);
        if (rc < 0) {
            log_msg(LOG_ERR, "cannot list the local addresses: %s", strerror(-rc));
            n = 0;
        }
    }
    iface_plan(&d->nic_rules, addrs, n, p);
}

void dlisten_rescan(struct ntpd *d)
{
    static struct iface_plan p;
    coal_init(&d->serve_coal, d->opts.coalesce_us * 1000);
    make_plan(d, &p);
    if (p.per_address)
        apply_plan(d, &p, LOG_INFO); /* an address that cannot be bound is retried */
}

static void on_rescan_timer(void *ctx, int64_t now_mono_ns)
{
    struct ntpd *d = ctx;
    dlisten_rescan(d);
    d->nic_timer =
        loop_timer(d->loop, now_mono_ns + d->opts.rescan_s * 1000000000LL, on_rescan_timer, d);
    if (d->nic_timer < 0)
        d->nic_timer = 0;
}

/* -U N: NTPsec's interface update interval (default 300 s, 0: never). Only the per-address
 * mode needs it (the wildcards see every address); not as a non-root user on a privileged
 * port, where a new socket could not be bound (NTPsec's "running as non-root disables
 * dynamic interface tracking"). */
static void arm_rescan(struct ntpd *d, const struct iface_plan *p)
{
    if (d->opts.rescan_s < 0)
        d->opts.rescan_s = RESCAN_DEFAULT_S;
    if (!p->per_address || d->opts.rescan_s == 0)
        return;
    if (d->opts.user != NULL && d->port < 1024) {
        log_msg(LOG_INFO, "running as non-root disables dynamic interface tracking");
        return;
    }
    int64_t when = loop_now_mono_ns() + d->opts.rescan_s * 1000000000LL;
    d->nic_timer = loop_timer(d->loop, when, on_rescan_timer, d);
    if (d->nic_timer < 0)
        d->nic_timer = 0;
}

int dlisten_check(struct ntpd *d)
{
    int rc =
        iface_rules_build(&d->nic_rules, d->conf.nics, d->conf.n_nics, d->opts.interfaces,
                          (size_t)d->opts.ninterfaces, d->opts.no_virtual, d->opts.family);
    if (rc == -1)
        log_msg(LOG_ERR, "interface/nic rules are not allowed with --interface (-I) or "
                         "--novirtualips (-L)");
    for (int i = 0; rc == -2 && i < d->opts.ninterfaces; i++) {
        struct conf_nic n;
        if (iface_rule_from_opt(d->opts.interfaces[i], &n) != 0)
            log_msg(LOG_ERR, "-I %s: neither an address nor an interface name",
                    d->opts.interfaces[i]);
    }
    return rc == 0 ? 0 : 1;
}

/* The sockets the interface rules, -I and -L ask for (iface.h): the addresses first, then
 * the wildcards, so that an address held by another server is seen as such. */
int dlisten_open(struct ntpd *d)
{
    static struct iface_plan p;
    if (dlisten_check(d) != 0)
        return 1;
    coal_init(&d->serve_coal, d->opts.coalesce_us * 1000);
    make_plan(d, &p);
    if (p.per_address)
        apply_plan(d, &p, LOG_ERR);
    open_wildcards(d, &p);
    if (d->nsrv_fd == 0) {
        log_msg(LOG_ERR, "no address to listen on could be opened");
        return 1;
    }
    arm_rescan(d, &p);
    return 0;
}
