/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's client side: the sockets requests leave from and replies come back to. */
#include "daemon_internal.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "net.h"

#include "poison.h"

void dclient_send(struct ntpd *d, const struct eng_action *a)
{
    int fd = a->remote.family == NTK_ADDR_V6 ? d->cli_fd6 : d->cli_fd4;
    int rc = fd < 0 ? -EAFNOSUPPORT : net_send(fd, a->pkt, a->len, &a->remote);
    if (rc != 0)
        log_msg(LOG_DEBUG, "association %u: send failed: %s", (unsigned)a->assoc_id,
                strerror(-rc));
}

static void on_client_readable(void *ctx, int fd)
{
    struct ntpd *d = ctx;
    static struct net_msg m[NET_BATCH];
    int n = net_recv_batch(fd, m, NET_BATCH);
    for (int i = 0; i < n; i++) {
        struct eng_now now = daemon_now();
        eng_on_packet(d->eng, &now, m[i].buf, m[i].len, &m[i].remote, &m[i].rx,
                      m[i].kernel_ts ? ENG_RX_KERNEL : ENG_RX_USER);
    }
    daemon_drain_actions(d);
}

int dclient_open(struct ntpd *d)
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
