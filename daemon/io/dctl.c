/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's mode-6 shell: hands the datagrams srv_handle calls SRV_CONTROL to ctlsrv with a
 * snapshot of the daemon (dctl_fill_src), and sends the response from the socket the request
 * came in on. */
#include "daemon_internal.h"

#include <string.h>
#include <time.h>

#include "ctlsrv.h"
#include "ctlv.h"
#include "log.h"
#include "net.h"

#include "poison.h"

/* Creates the responder at the first request: its secret from getrandom, room for the
 * whole MRU list. */
static bool ensure(struct ntpd *d)
{
    if (d->ctl != NULL)
        return true;
    struct ctlsrv_cfg c;
    memset(&c, 0, sizeof c);
    c.controlkey = d->conf.controlkey;
    c.mru_rows = d->mru != NULL ? mru_capacity(d->mru) : 0;
    daemon_rng_bytes(NULL, c.secret, sizeof c.secret);
    d->ctl = ctlsrv_new(&c);
    memset(c.secret, 0, sizeof c.secret);
    if (d->ctl == NULL)
        log_msg(LOG_ERR, "mode 6: out of memory");
    return d->ctl != NULL;
}

/* ifstats: the server sockets (NTPsec's flags: 0x1 up, 0x4 loopback). */
static size_t fill_ifaces(const struct ntpd *d, struct ctlsrv_iface *f, int64_t mono)
{
    size_t n = 0;
    for (int i = 0; i < d->nsrv_fd; i++) {
        const struct iface_sock *s = &d->srv_sock[i];
        f[n] = (struct ctlsrv_iface){.addr = s->addr,
                                     .name = s->name,
                                     .enabled = s->action == IFACE_LISTEN,
                                     .flags = 0x1u | (ctlsrv_is_loopback(&s->addr) ? 0x4u : 0),
                                     .dropped = s->dropped,
                                     .uptime_s = (mono - s->opened_mono_ns) / 1000000000LL};
        f[n].addr.port = d->port;
        n++;
    }
    return n;
}

/* Sends what ctlsrv prepared, in batches, from fd with the request's local address. */
static void send_all(struct ntpd *d, int fd, const struct net_msg *m)
{
    static uint8_t buf[NET_BATCH][NTK_CTL_DATAGRAM_MAX];
    struct net_out o[NET_BATCH];
    for (;;) {
        int k = 0;
        while (k < NET_BATCH) {
            int len = ctlsrv_next(d->ctl, d->srv.keys, buf[k], sizeof buf[k]);
            if (len <= 0)
                break;
            o[k] = (struct net_out){.buf = buf[k],
                                    .len = (size_t)len,
                                    .remote = m->remote,
                                    .local = m->local,
                                    .ifindex = m->ifindex};
            k++;
        }
        if (k == 0)
            return;
        daemon_count_sent(d, k, net_send_batch(fd, o, k));
        if (k < NET_BATCH)
            return;
    }
}

void dctl_serve(struct ntpd *d, int fd, const struct net_msg *m, uint32_t rflags)
{
    static struct dctl_src_store store;
    static struct ctlv_src src;
    static struct ctlsrv_iface ifs[NTPD_SERVER_SOCKS];
    if (m->truncated || !ensure(d))
        return;
    /* Recorded in the MRU list as NTPsec does (mrulist shows ntpq's address, mode 6), never
     * rate-limited there: ctlsrv has its own limit for mode 6. `disable monitor` keeps no
     * list (d->srv.mru is then NULL). */
    if (d->srv.mru != NULL && m->len > 0)
        (void)mru_observe(d->mru, &m->remote, loop_now_mono_ns(), 6,
                          (uint8_t)(m->buf[0] >> 3 & 7),
                          rflags & ~(uint32_t)(RST_LIMITED | RST_KOD));
    dctl_fill_src(d, &src, &store);
    int64_t mono = src.now_mono_ns;
    ctlsrv_set_controlkey(d->ctl, d->conf.controlkey);
    struct ctlsrv_env env = {.keys = d->srv.keys,
                             .vars = &src,
                             .mru = d->srv.mru,
                             .rst = d->rst,
                             .ifs = ifs,
                             .nifs = fill_ifaces(d, ifs, mono)};
    struct ctlsrv_req q = {.buf = m->buf,
                           .len = m->len,
                           .src = m->remote,
                           .local = ctlsrv_is_loopback(&m->remote),
                           .opened = ctlsrv_opened(d->rst, &m->remote),
                           .rflags = rflags,
                           .now_mono_ns = mono,
                           .now = ntk_ts_from_timespec(&src.now)};
    if (ctlsrv_handle(d->ctl, &env, &q) > 0)
        send_all(d, fd, m);
}

void dctl_free(struct ntpd *d)
{
    ctlsrv_free(d->ctl);
    d->ctl = NULL;
}
