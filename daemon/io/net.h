/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's UDP sockets (ARCHITECTURE.md "The daemon's shape"): server sockets that learn the
 * address each request was sent to (IP_PKTINFO / IPV6_RECVPKTINFO) so the reply leaves from
 * it, client sockets on an ephemeral port, kernel receive timestamps (SO_TIMESTAMPNS; when a
 * datagram carries none the time is read in user space right after the receive), and
 * batched receive and send (recvmmsg / sendmmsg, falling back to one call per datagram when
 * the batch call fails, as under a simulator). Optional socket options that fail are
 * ignored: the daemon must run where they are not provided. */
#ifndef NTK_NET_H
#define NTK_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ntk/addr.h"

/* Largest datagram read (NTP with extension fields, NTS, mode 6 fragments fit). */
#define NET_DGRAM_MAX 1280

/* Most datagrams one batch call moves. */
#define NET_BATCH 32

/* One received datagram. */
struct net_msg {
    uint8_t buf[NET_DGRAM_MAX]; /* the bytes */
    size_t len;                 /* how many; a longer datagram is truncated and flagged */
    bool truncated;             /* it was longer than NET_DGRAM_MAX */
    struct ntk_addr remote;     /* the sender, with its port (v4-mapped addresses unmapped) */
    struct ntk_addr local;      /* the address it was sent to (from PKTINFO; zero if none) */
    int ifindex;                /* the interface it came in on (0 if unknown) */
    struct timespec rx;         /* receive time, CLOCK_REALTIME */
    bool kernel_ts;             /* rx is the kernel's timestamp (else read in user space) */
};

/* One datagram to send. */
struct net_out {
    const uint8_t *buf; /* the bytes (borrowed) */
    size_t len;
    struct ntk_addr remote; /* where to, with its port */
    struct ntk_addr local;  /* the source address to use (a server reply: the address the
                               request was sent to); zero: let the kernel choose */
    int ifindex;            /* with local: the interface (0: any) */
};

/* Opens a server socket bound to addr:port (addr may be the IPv4 or IPv6 wildcard; an IPv6
 * socket is IPv6-only), non-blocking, close-on-exec, with kernel timestamps and PKTINFO.
 * Returns the descriptor or a negative errno. */
int net_open_server(const struct ntk_addr *addr, uint16_t port);

/* Opens a client socket of family (AF_INET / AF_INET6) on an ephemeral port, non-blocking,
 * close-on-exec, with kernel timestamps. Returns the descriptor or a negative errno. */
int net_open_client(int family);

/* Receives up to n (<= NET_BATCH) queued datagrams into m[0..n). Returns how many (0 when
 * none is queued) or a negative errno. */
int net_recv_batch(int fd, struct net_msg *m, int n);

/* Sends o[0..n) (n <= NET_BATCH). Returns how many were handed to the kernel (a datagram the
 * kernel refuses is skipped and counted as not sent), or a negative errno when none was. */
int net_send_batch(int fd, const struct net_out *o, int n);

/* Sends one datagram (a client request). Returns 0 or a negative errno. */
int net_send(int fd, const uint8_t *buf, size_t len, const struct ntk_addr *remote);

#endif /* NTK_NET_H */
