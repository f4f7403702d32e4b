/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's server side: the sockets it listens on and the batches of requests it answers. */
#include "daemon_internal.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "net.h"

#include "poison.h"

/* Most batches served per wake-up of a server socket. */
#define SERVE_ROUNDS 8

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
int dlisten_open(struct ntpd *d)
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
