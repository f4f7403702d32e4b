/* SPDX-License-Identifier: BSD-2-Clause */
/* UDP transport for the command-line tools (see cli_udp.h). */
#include "cli_udp.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ntk/sb.h"

#include "poison.h"

/* Fills t from one addrinfo result; false if the family is not IPv4/IPv6. */
static bool target_from_ai(const struct addrinfo *ai, struct cli_target *t)
{
    struct ntk_addr a;
    if (ai->ai_addrlen > sizeof t->ss ||
        ntk_addr_from_sockaddr(&a, ai->ai_addr, ai->ai_addrlen) != 0)
        return false;
    memset(t, 0, sizeof *t);
    memcpy(&t->ss, ai->ai_addr, ai->ai_addrlen);
    t->len = (socklen_t)ai->ai_addrlen;
    t->port = a.port;
    a.port = 0;
    /* ntk_addr_format brackets IPv6 only when a port is set; the port is shown apart. */
    ntk_addr_format(&a, t->ip);
    return true;
}

static bool seen(const struct cli_target *out, size_t n, const struct cli_target *t)
{
    for (size_t i = 0; i < n; i++)
        if (cli_sockaddr_eq(&out[i].ss, out[i].len, &t->ss, t->len))
            return true;
    return false;
}

int cli_resolve(const char *host, uint16_t port, int family, struct cli_target *out,
                size_t cap)
{
    struct addrinfo hints = {.ai_family = family,
                             .ai_socktype = SOCK_DGRAM,
                             .ai_protocol = IPPROTO_UDP,
                             .ai_flags = AI_NUMERICSERV};
    char portstr[8];
    struct ntk_sb sb;
    ntk_sb_init(&sb, portstr, sizeof portstr);
    ntk_sb_printf(&sb, "%u", (unsigned)port);
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0)
        return rc < 0 ? rc : EAI_FAIL; /* EAI_* are negative on glibc; keep the sign rule */
    size_t n = 0;
    for (const struct addrinfo *ai = res; ai != NULL && n < cap; ai = ai->ai_next) {
        struct cli_target t;
        if (target_from_ai(ai, &t) && !seen(out, n, &t))
            out[n++] = t;
    }
    freeaddrinfo(res);
    return n > 0 ? (int)n : EAI_NODATA;
}

bool cli_parse_bind(const char *addr, struct cli_target *out)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_DGRAM,
                             .ai_flags = AI_NUMERICHOST | AI_PASSIVE};
    struct addrinfo *res = NULL;
    if (getaddrinfo(addr, NULL, &hints, &res) != 0)
        return false;
    bool ok = target_from_ai(res, out);
    freeaddrinfo(res);
    return ok;
}

int cli_udp_open(int family, const struct cli_target *bind_to)
{
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
    if (fd < 0)
        return -errno;
    int on = 1;
    /* Optional: without it the receive time is read in user space (cli_udp_recv). */
    (void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    if (bind_to != NULL) {
        if (bind_to->ss.ss_family != family) {
            close(fd);
            return -EAFNOSUPPORT;
        }
        if (bind(fd, (const struct sockaddr *)&bind_to->ss, bind_to->len) != 0) {
            int e = errno;
            close(fd);
            return -e;
        }
    }
    return fd;
}

/* The kernel's SCM_TIMESTAMPNS, if the datagram carried one. */
static bool kernel_stamp(struct msghdr *mh, struct timespec *rx)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
            c->cmsg_len >= CMSG_LEN(sizeof *rx)) {
            memcpy(rx, CMSG_DATA(c), sizeof *rx);
            return true;
        }
    }
    return false;
}

ssize_t cli_udp_recv(int fd, uint8_t *buf, size_t cap, struct sockaddr_storage *from,
                     socklen_t *fromlen, struct timespec *rx, bool *kernel_ts)
{
    union {
        char b[CMSG_SPACE(sizeof(struct timespec)) * 2];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    struct msghdr mh = {.msg_name = from,
                        .msg_namelen = sizeof *from,
                        .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = ctl.b,
                        .msg_controllen = sizeof ctl.b};
    ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
    if (n < 0)
        return -errno;
    *kernel_ts = kernel_stamp(&mh, rx);
    if (!*kernel_ts)
        clock_gettime(CLOCK_REALTIME, rx);
    *fromlen = mh.msg_namelen;
    return n;
}

bool cli_sockaddr_eq(const struct sockaddr_storage *a, socklen_t alen,
                     const struct sockaddr_storage *b, socklen_t blen)
{
    struct ntk_addr x, y;
    if (ntk_addr_from_sockaddr(&x, (const struct sockaddr *)a, alen) != 0 ||
        ntk_addr_from_sockaddr(&y, (const struct sockaddr *)b, blen) != 0)
        return false;
    ntk_addr_unmap(&x);
    ntk_addr_unmap(&y);
    return ntk_addr_eq(&x, &y) && x.port == y.port;
}
