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

#include "poison.h"

/* Room for the control messages of one datagram: a timestamp and a PKTINFO. */
#define CTL_SPACE                                                                             \
    (CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(struct in6_pktinfo)))

/* Options whose failure is fine (the daemon works without them, only less well). */
static void optional_opts(int fd, int family)
{
    int on = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    if (family == AF_INET)
        (void)setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
    else
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
}

static int open_bound(int family, const struct sockaddr_storage *ss, size_t len)
{
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
    if (fd < 0)
        return -errno;
    int on = 1;
    if (family == AF_INET6)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    optional_opts(fd, family);
    if (bind(fd, (const struct sockaddr *)ss, (socklen_t)len) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

int net_open_server(const struct ntk_addr *addr, uint16_t port)
{
    struct ntk_addr a = *addr;
    a.port = port;
    struct sockaddr_storage ss;
    size_t len = 0;
    if (ntk_addr_to_sockaddr(&a, &ss, &len) != 0)
        return -EAFNOSUPPORT;
    return open_bound(ss.ss_family, &ss, len);
}

int net_open_client(int family)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_family = (sa_family_t)family;
    size_t len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    if (family != AF_INET && family != AF_INET6)
        return -EAFNOSUPPORT;
    return open_bound(family, &ss, len);
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
