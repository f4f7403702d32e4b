/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's client side: the sockets requests leave from and replies come back to, with the
 * kernel's transmit timestamps of the requests where it gives them (net.h). */
#include "daemon_internal.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "net.h"

#include "poison.h"

void dclient_send(struct ntpd *d, const struct eng_action *a)
{
    bool v6 = a->remote.family == NTK_ADDR_V6;
    int fd = v6 ? d->cli_fd6 : d->cli_fd4;
    struct net_tx *tx = v6 ? &d->cli_tx6 : &d->cli_tx4;
    int rc = fd < 0 ? -EAFNOSUPPORT
                    : net_send_txts(fd, tx, a->pkt, a->len, &a->remote, a->assoc_id);
    daemon_count_sent(d, 1, rc == 0 ? 1 : 0);
    if (rc != 0)
        log_msg(LOG_DEBUG, "association %u: send failed: %s", (unsigned)a->assoc_id,
                strerror(-rc));
}

/* The transmit timestamps waiting on fd's error queue, handed to the engine before any
 * reply is: the reply ends the request, and a later T1 would be ignored. */
static void read_tx_stamps(struct ntpd *d, int fd)
{
    struct net_tx *tx = fd == d->cli_fd6 ? &d->cli_tx6 : &d->cli_tx4;
    struct net_tx_stamp st[NET_BATCH];
    int n;
    do {
        n = net_recv_txts(fd, tx, st, NET_BATCH);
        for (int i = 0; i < n; i++)
            eng_on_sent(d->eng, st[i].tag, st[i].nonce, &st[i].tx);
    } while (n == NET_BATCH);
}

/* Remembers the local address a datagram from remote came to (nothing when the kernel did
 * not say); a full table forgets its oldest entry. */
static void note_local(struct ntpd *d, const struct ntk_addr *remote,
                       const struct ntk_addr *local)
{
    if (local->family == NTK_ADDR_NONE)
        return;
    size_t i = 0;
    while (i < d->n_cli_local && !ntk_addr_eq(&d->cli_local[i].remote, remote))
        i++;
    if (i == NTPD_CLI_LOCAL_MAX) {
        memmove(d->cli_local, d->cli_local + 1, sizeof d->cli_local[0] * (i - 1));
        i--;
    } else if (i == d->n_cli_local) {
        d->n_cli_local++;
    }
    d->cli_local[i] = (struct cli_local){*remote, *local};
}

const struct ntk_addr *dclient_local_of(const struct ntpd *d, const struct ntk_addr *remote)
{
    for (size_t i = 0; i < d->n_cli_local; i++)
        if (ntk_addr_eq(&d->cli_local[i].remote, remote))
            return &d->cli_local[i].local;
    return NULL;
}

/* Called for POLLIN and POLLERR alike (loop.c runs the callback for any event). */
static void on_client_readable(void *ctx, int fd)
{
    struct ntpd *d = ctx;
    static struct net_msg m[NET_BATCH];
    read_tx_stamps(d, fd);
    int n = net_recv_batch(fd, m, NET_BATCH);
    daemon_count_wakeup(d, n);
    for (int i = 0; i < n; i++)
        note_local(d, &m[i].remote, &m[i].local);
    for (int i = 0; i < n; i++) {
        struct eng_now now = daemon_now();
        eng_on_packet(d->eng, &now, m[i].buf, m[i].len, &m[i].remote, &m[i].rx,
                      m[i].kernel_ts ? ENG_RX_KERNEL : ENG_RX_USER);
    }
    daemon_drain_actions(d);
}

static void watch(struct ntpd *d, int fd, const struct net_tx *tx, const char *family)
{
    if (fd < 0)
        return;
    (void)loop_add_fd(d->loop, fd, on_client_readable, d);
    log_msg(LOG_DEBUG, "%s client socket: kernel transmit timestamps %s", family,
            tx->on ? "on" : "not available");
}

int dclient_open(struct ntpd *d)
{
    d->cli_fd4 = net_open_client_txts(AF_INET, &d->cli_tx4);
    d->cli_fd6 = net_open_client_txts(AF_INET6, &d->cli_tx6);
    if (d->cli_fd4 < 0 && d->cli_fd6 < 0) {
        log_msg(LOG_ERR, "cannot open a client socket: %s", strerror(-d->cli_fd4));
        return 1;
    }
    /* `dscp` (NTPsec's default 46, Expedited Forwarding) on every NTP datagram we send. */
    if (d->cli_fd4 >= 0)
        (void)net_set_dscp(d->cli_fd4, AF_INET, d->conf.dscp);
    if (d->cli_fd6 >= 0)
        (void)net_set_dscp(d->cli_fd6, AF_INET6, d->conf.dscp);
    watch(d, d->cli_fd4, &d->cli_tx4, "IPv4");
    watch(d, d->cli_fd6, &d->cli_tx6, "IPv6");
    return 0;
}
