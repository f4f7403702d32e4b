/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's UDP sockets: server and client sockets, batched receive with kernel timestamps and
 * destination addresses, batched send from a chosen source address (net.h). */
#include "net.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/errqueue.h>
#include <linux/net_tstamp.h>

#include "poison.h"

/* Room for the control messages of one datagram: a timestamp (SCM_TIMESTAMPNS, or
 * SCM_TIMESTAMPING's three) and a PKTINFO. */
#define CTL_SPACE                                                                             \
    (CMSG_SPACE(sizeof(struct scm_timestamping)) + CMSG_SPACE(sizeof(struct in6_pktinfo)))

/* SO_TIMESTAMPING on client sockets: software receive and transmit timestamps, the transmit
 * ones alone on the error queue with the datagram counter (net.h). */
#define TS_FLAGS_TX                                                                           \
    (SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_RX_SOFTWARE |                               \
     SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY)

static bool set_tsflags(int fd, int flags)
{
    return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags) == 0;
}

/* Options whose failure is fine (the daemon works without them, only less well). With tx,
 * SO_TIMESTAMPING is tried first (tx->on says whether the kernel took it). The destination
 * address of each datagram (PKTINFO) is asked for only where the socket's own address does
 * not already say it: a wildcard socket. */
static void optional_opts(int fd, int family, struct net_tx *tx, bool pktinfo)
{
    int on = 1;
    if (tx != NULL && set_tsflags(fd, TS_FLAGS_TX)) {
        tx->on = true;
        tx->flags = TS_FLAGS_TX;
    } else {
        (void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    }
    if (!pktinfo)
        return;
    if (family == AF_INET)
        (void)setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
    else
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
}

/* Measured (BENCHMARKS.md): without the PKTINFO control message on the way in and out,
 * a socket bound to one address answers 2-3 % more requests per second. */
static bool is_wildcard(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
    return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* Every datagram leaves with DF set and the path MTU the kernel learned ignored
 * (IP_PMTUDISC_PROBE): nothing we send is ever fragmented, so a spoofed ICMP "fragmentation
 * needed" cannot make us split a reply for an off-path attacker to overwrite one fragment of
 * (Malhotra et al., "Attacking the Network Time Protocol", NDSS 2016, §V). NTP datagrams are
 * far below any real path's MTU (an NTS reply with 8 cookies is about 1 KB, IPv6's minimum
 * MTU 1280). The kernel's default (IP_PMTUDISC_WANT) sets DF too, but obeys those ICMP
 * messages and draws a hashed IP ID for every datagram, which DF datagrams here skip (the
 * ID is then 0, RFC 6864). */
static void no_fragments(int fd, int family)
{
    if (family == AF_INET) {
        int v = IP_PMTUDISC_PROBE;
        (void)setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof v);
    } else {
        int v = IPV6_PMTUDISC_PROBE;
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v, sizeof v);
    }
}

static int open_bound(int family, const struct sockaddr_storage *ss, size_t len,
                      struct net_tx *tx, unsigned flags)
{
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
    if (fd < 0)
        return -errno;
    int on = 1;
    if (family == AF_INET6)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    optional_opts(fd, family, tx, is_wildcard(ss));
    no_fragments(fd, family);
    if (flags & NET_REUSE_BEFORE)
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (bind(fd, (const struct sockaddr *)ss, (socklen_t)len) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    if (flags & NET_REUSE_AFTER)
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    return fd;
}

int net_set_dscp(int fd, int family, unsigned dscp)
{
    int tos = (int)(dscp & 0x3f) << 2; /* the DS field's upper six bits (RFC 2474) */
    int rc = family == AF_INET6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos)
                                : setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
    return rc == 0 ? 0 : -errno;
}

int net_open_server(const struct ntk_addr *addr, uint16_t port, unsigned flags)
{
    struct ntk_addr a = *addr;
    a.port = port;
    struct sockaddr_storage ss;
    size_t len = 0;
    if (ntk_addr_to_sockaddr(&a, &ss, &len) != 0)
        return -EAFNOSUPPORT;
    return open_bound(ss.ss_family, &ss, len, NULL, flags);
}

static int open_client(int family, struct net_tx *tx)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_family = (sa_family_t)family;
    size_t len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    if (family != AF_INET && family != AF_INET6)
        return -EAFNOSUPPORT;
    return open_bound(family, &ss, len, tx, 0);
}

int net_open_client(int family)
{
    return open_client(family, NULL);
}

int net_open_client_txts(int family, struct net_tx *tx)
{
    memset(tx, 0, sizeof *tx);
    int fd = open_client(family, tx);
    if (fd < 0)
        memset(tx, 0, sizeof *tx);
    return fd;
}

/* ---- receive ---- */

static void read_pktinfo(const struct cmsghdr *c, struct net_msg *m)
{
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        struct in_pktinfo pi;
        memcpy(&pi, CMSG_DATA(c), sizeof pi);
        ntk_addr_set_v4(&m->local, (const uint8_t *)&pi.ipi_addr, 0);
        m->ifindex = pi.ipi_ifindex;
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
        struct in6_pktinfo pi;
        memcpy(&pi, CMSG_DATA(c), sizeof pi);
        ntk_addr_set_v6(&m->local, pi.ipi6_addr.s6_addr, 0, 0); /* the interface: ifindex */
        m->ifindex = (int)pi.ipi6_ifindex;
    }
}

/* Fills m's metadata from a received message header. */
static void finish_msg(struct msghdr *mh, size_t len, struct net_msg *m)
{
    m->len = len > NET_DGRAM_MAX ? NET_DGRAM_MAX : len;
    m->truncated = (mh->msg_flags & MSG_TRUNC) != 0;
    memset(&m->local, 0, sizeof m->local);
    m->ifindex = 0;
    m->kernel_ts = false;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            memcpy(&m->rx, CMSG_DATA(c), sizeof m->rx);
            m->kernel_ts = true;
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING) {
            struct scm_timestamping st;
            memcpy(&st, CMSG_DATA(c), sizeof st);
            if (st.ts[0].tv_sec != 0 || st.ts[0].tv_nsec != 0) { /* [0]: software */
                m->rx = st.ts[0];
                m->kernel_ts = true;
            }
        } else {
            read_pktinfo(c, m);
        }
    }
    if (!m->kernel_ts)
        clock_gettime(CLOCK_REALTIME, &m->rx);
    if (ntk_addr_from_sockaddr(&m->remote, mh->msg_name, mh->msg_namelen) != 0)
        memset(&m->remote, 0, sizeof m->remote);
    ntk_addr_unmap(&m->remote);
}

/* The per-datagram buffers of one batch. */
struct rx_batch {
    struct mmsghdr mm[NET_BATCH];
    struct iovec iov[NET_BATCH];
    struct sockaddr_storage from[NET_BATCH];
    union {
        char b[CTL_SPACE];
        struct cmsghdr align;
    } ctl[NET_BATCH];
};

static void prepare_rx(struct rx_batch *b, struct net_msg *m, int n)
{
    for (int i = 0; i < n; i++) {
        b->iov[i] = (struct iovec){.iov_base = m[i].buf, .iov_len = NET_DGRAM_MAX};
        b->mm[i].msg_hdr = (struct msghdr){.msg_name = &b->from[i],
                                           .msg_namelen = sizeof b->from[i],
                                           .msg_iov = &b->iov[i],
                                           .msg_iovlen = 1,
                                           .msg_control = b->ctl[i].b,
                                           .msg_controllen = sizeof b->ctl[i].b};
        b->mm[i].msg_len = 0;
    }
}

/* One recvmsg at a time, for when recvmmsg is missing or refused. */
static int recv_single(int fd, struct rx_batch *b, struct net_msg *m, int n)
{
    int got = 0;
    for (; got < n; got++) {
        ssize_t r = recvmsg(fd, &b->mm[got].msg_hdr, MSG_DONTWAIT);
        if (r < 0)
            return got > 0 || errno == EAGAIN || errno == EWOULDBLOCK ? got : -errno;
        finish_msg(&b->mm[got].msg_hdr, (size_t)r, &m[got]);
    }
    return got;
}

int net_recv_batch(int fd, struct net_msg *m, int n)
{
    static struct rx_batch b; /* single-threaded: the loop is the only caller */
    n = n > NET_BATCH ? NET_BATCH : n;
    prepare_rx(&b, m, n);
    int got = recvmmsg(fd, b.mm, (unsigned)n, MSG_DONTWAIT, NULL);
    if (got < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        prepare_rx(&b, m, n);
        return recv_single(fd, &b, m, n);
    }
    for (int i = 0; i < got; i++)
        finish_msg(&b.mm[i].msg_hdr, b.mm[i].msg_len, &m[i]);
    return got;
}

/* ---- send ---- */

struct tx_batch {
    struct mmsghdr mm[NET_BATCH];
    struct iovec iov[NET_BATCH];
    struct sockaddr_storage to[NET_BATCH];
    union {
        char b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
        struct cmsghdr align;
    } ctl[NET_BATCH];
};

/* The source-address control message of a reply, when one is asked for. */
static size_t put_source(const struct net_out *o, char *ctl, size_t cap)
{
    struct msghdr mh = {.msg_control = ctl, .msg_controllen = cap};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    if (o->local.family == NTK_ADDR_V4) {
        struct in_pktinfo pi = {.ipi_ifindex = o->ifindex};
        memcpy(&pi.ipi_spec_dst, o->local.ip, 4);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof pi);
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
        return CMSG_SPACE(sizeof pi);
    }
    if (o->local.family == NTK_ADDR_V6) {
        struct in6_pktinfo pi = {.ipi6_ifindex = (unsigned)o->ifindex};
        memcpy(pi.ipi6_addr.s6_addr, o->local.ip, 16);
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof pi);
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
        return CMSG_SPACE(sizeof pi);
    }
    return 0;
}

static bool prepare_tx(struct tx_batch *b, const struct net_out *o, int i)
{
    size_t len = 0;
    if (ntk_addr_to_sockaddr(&o[i].remote, &b->to[i], &len) != 0)
        return false;
    b->iov[i] = (struct iovec){.iov_base = (void *)(uintptr_t)o[i].buf, .iov_len = o[i].len};
    size_t ctl = put_source(&o[i], b->ctl[i].b, sizeof b->ctl[i].b);
    b->mm[i].msg_hdr = (struct msghdr){.msg_name = &b->to[i],
                                       .msg_namelen = (socklen_t)len,
                                       .msg_iov = &b->iov[i],
                                       .msg_iovlen = 1,
                                       .msg_control = ctl ? b->ctl[i].b : NULL,
                                       .msg_controllen = ctl};
    return true;
}

int net_send_batch(int fd, const struct net_out *o, int n)
{
    static struct tx_batch b;
    n = n > NET_BATCH ? NET_BATCH : n;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (prepare_tx(&b, o, i))
            b.mm[k++] = b.mm[i];
    int sent = k > 0 ? sendmmsg(fd, b.mm, (unsigned)k, MSG_DONTWAIT) : 0;
    if (sent >= 0 && sent == k)
        return sent;
    /* A batch call that failed, or stopped at a datagram the kernel refused: go on one at
     * a time past it. */
    int ok = sent > 0 ? sent : 0;
    for (int i = ok + (sent >= 0 ? 1 : 0); i < k; i++)
        ok += sendmsg(fd, &b.mm[i].msg_hdr, MSG_DONTWAIT) >= 0;
    return ok > 0 || k == 0 ? ok : -errno;
}

int net_send(int fd, const uint8_t *buf, size_t len, const struct ntk_addr *remote)
{
    struct sockaddr_storage ss;
    size_t slen = 0;
    if (ntk_addr_to_sockaddr(remote, &ss, &slen) != 0)
        return -EAFNOSUPPORT;
    ssize_t r =
        sendto(fd, buf, len, MSG_DONTWAIT, (const struct sockaddr *)&ss, (socklen_t)slen);
    return r == (ssize_t)len ? 0 : r < 0 ? -errno : -EMSGSIZE;
}

/* ---- kernel transmit timestamps (net.h) ---- */

/* Restarts the kernel's datagram counter at 0 (OPT_ID is reset only when it is turned on)
 * and forgets the requests recorded: after a failed send the prediction may be off. */
static void restart_counter(int fd, struct net_tx *tx)
{
    (void)set_tsflags(fd, tx->flags & ~SOF_TIMESTAMPING_OPT_ID);
    tx->on = set_tsflags(fd, tx->flags);
    memset(tx->slot, 0, sizeof tx->slot);
    tx->next_key = 0;
    tx->restarts++;
}

int net_send_txts(int fd, struct net_tx *tx, const uint8_t *buf, size_t len,
                  const struct ntk_addr *remote, uint32_t tag)
{
    int rc = net_send(fd, buf, len, remote);
    if (!tx->on)
        return rc;
    if (rc != 0) {
        restart_counter(fd, tx);
        return rc;
    }
    struct net_tx_slot *s = &tx->slot[tx->next_key % NET_TX_RING];
    *s = (struct net_tx_slot){.key = tx->next_key, .tag = tag, .used = true};
    if (len >= 48)
        memcpy(s->nonce, buf + 40, sizeof s->nonce);
    tx->next_key++;
    return 0;
}

/* The transmit timestamp and its counter in one error-queue message's control data; false
 * for anything else (an ICMP error, a stamp without a time). */
static bool parse_tx_stamp(struct msghdr *mh, uint32_t *key, struct timespec *ts)
{
    bool have_ts = false, have_key = false;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING) {
            struct scm_timestamping st;
            memcpy(&st, CMSG_DATA(c), sizeof st);
            *ts = st.ts[0];
            have_ts = ts->tv_sec != 0 || ts->tv_nsec != 0;
        } else if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
                   (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
            struct sock_extended_err ee;
            memcpy(&ee, CMSG_DATA(c), sizeof ee);
            have_key = ee.ee_errno == ENOMSG && ee.ee_origin == SO_EE_ORIGIN_TIMESTAMPING &&
                       ee.ee_info == SCM_TSTAMP_SND;
            *key = ee.ee_data;
        }
    }
    return have_ts && have_key;
}

/* Reads one message from the error queue: 1 with *key and *ts for a transmit timestamp, 0
 * for any other message, or a negative errno (-EAGAIN: the queue is empty). */
static int read_errqueue(int fd, uint32_t *key, struct timespec *ts)
{
    uint8_t data[64]; /* OPT_TSONLY: normally empty */
    union {
        char b[CMSG_SPACE(sizeof(struct scm_timestamping)) +
               CMSG_SPACE(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in6)) +
               64];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
    struct msghdr mh = {.msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = ctl.b,
                        .msg_controllen = sizeof ctl.b};
    if (recvmsg(fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    return parse_tx_stamp(&mh, key, ts) ? 1 : 0;
}

int net_recv_txts(int fd, struct net_tx *tx, struct net_tx_stamp *out, int n)
{
    int got = 0;
    while (got < n) {
        uint32_t key = 0;
        struct timespec ts;
        int r = read_errqueue(fd, &key, &ts);
        if (r < 0)
            return r == -EAGAIN || got > 0 ? got : r;
        struct net_tx_slot *s = &tx->slot[key % NET_TX_RING];
        if (r == 0)
            continue;
        if (!s->used || s->key != key) {
            tx->unmatched++;
            continue;
        }
        s->used = false;
        tx->stamped++;
        out[got] = (struct net_tx_stamp){.tag = s->tag, .tx = ts};
        memcpy(out[got].nonce, s->nonce, sizeof out[got].nonce);
        got++;
    }
    return got;
}
