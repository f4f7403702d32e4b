/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's UDP sockets (ARCHITECTURE.md "The daemon's shape"): server sockets that learn the
 * address each request was sent to (IP_PKTINFO / IPV6_RECVPKTINFO) so the reply leaves from
 * it, client sockets on an ephemeral port, kernel receive timestamps (SO_TIMESTAMPNS, or
 * SO_TIMESTAMPING on client sockets; when a datagram carries none the time is read in user
 * space right after the receive), kernel transmit timestamps of client requests (below), and
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

/* Most datagrams one batch call moves (64: the load generator's window, as the echo
 * server's). */
#define NET_BATCH 64

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

/* Flags of net_open_server: SO_REUSEADDR set before bind (to bind an address next to a
 * wildcard of ours already bound), or once bound (so that our wildcard can bind next to
 * it: Linux gives a datagram to the most specific socket). */
#define NET_REUSE_BEFORE 1u
#define NET_REUSE_AFTER  2u

/* Opens a server socket bound to addr:port (addr may be the IPv4 or IPv6 wildcard; an IPv6
 * socket is IPv6-only), non-blocking, close-on-exec, with kernel timestamps and PKTINFO,
 * and NET_REUSE_* flags. Returns the descriptor or a negative errno. */
int net_open_server(const struct ntk_addr *addr, uint16_t port, unsigned flags);

/* Marks what fd sends with DSCP dscp (0..63: IP_TOS or IPV6_TCLASS). Returns 0 or a negative
 * errno. */
int net_set_dscp(int fd, int family, unsigned dscp);

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

/* ---- kernel transmit timestamps (client sockets; Linux SO_TIMESTAMPING) ----
 *
 * A client socket opened by net_open_client_txts asks for software timestamps
 * (SOF_TIMESTAMPING_SOFTWARE): on receive (RX_SOFTWARE, in place of SO_TIMESTAMPNS) and on
 * transmit (TX_SOFTWARE: when the datagram is handed to the driver). A transmit timestamp
 * comes back alone on the socket's error queue (OPT_TSONLY: no copy of the datagram, so it
 * works whatever net.core.tstamp_allow_data says), poll() reports POLLERR for it (loop.c
 * runs the callback for any event), and it is read with MSG_ERRQUEUE. It carries the
 * kernel's per-socket datagram counter (OPT_ID: 0 for the first datagram sent after the
 * option was set, then +1 per datagram).
 *
 * Matching a timestamp to its request: net_send_txts predicts that counter and records, in
 * a ring indexed by it, the caller's tag (ntpd: the association id) and the request's nonce
 * (bytes 40..47: its transmit field, random under data minimisation); net_recv_txts turns
 * each timestamp into (tag, nonce, time). The prediction could go wrong (a datagram the
 * kernel counted and then refused), so after any failed send the kernel's counter is
 * restarted (OPT_ID off and on) and the ring emptied; a timestamp whose counter has no
 * entry is dropped and counted (unmatched). What the counter cannot prove, the engine
 * checks (eng_on_sent): the nonce must be that of the association's outstanding request and
 * the time must follow the moment the request was built; a stale or wrong pairing is
 * ignored and counted there, never used. The nonce is 64 random bits, so a timestamp is
 * only ever applied to the request that carried it.
 *
 * Where SO_TIMESTAMPING is refused (old kernels, other systems) the socket keeps
 * SO_TIMESTAMPNS for receive and tx->on is false: no transmit timestamps, nothing else
 * changes (T1 stays the time the engine built the request). */

/* Requests remembered per socket (a timestamp comes back within microseconds; 64 covers a
 * whole iburst of every association at once). */
#define NET_TX_RING 64

/* One request sent on a socket with transmit timestamps. */
struct net_tx_slot {
    uint32_t key;     /* the kernel's datagram counter predicted for it */
    uint32_t tag;     /* the caller's (the association id) */
    uint8_t nonce[8]; /* bytes 40..47 of the datagram (zero if it was shorter) */
    bool used;        /* waiting for its timestamp */
};

/* Transmit-timestamp state of one client socket (initialised by net_open_client_txts). */
struct net_tx {
    bool on;                              /* the kernel gives transmit timestamps */
    int flags;                            /* the SO_TIMESTAMPING flags in force */
    uint32_t next_key;                    /* the counter the next datagram will get */
    struct net_tx_slot slot[NET_TX_RING]; /* indexed by key % NET_TX_RING */
    uint64_t stamped;                     /* timestamps matched to a request */
    uint64_t unmatched;                   /* timestamps with no request recorded */
    uint64_t restarts;                    /* counter restarts after a failed send */
};

/* One transmit timestamp, matched to its request. */
struct net_tx_stamp {
    uint32_t tag;       /* as given to net_send_txts */
    uint8_t nonce[8];   /* the request's bytes 40..47 */
    struct timespec tx; /* when it left (CLOCK_REALTIME, the kernel's) */
};

/* As net_open_client, with kernel transmit timestamps where the kernel has them (tx->on
 * says; *tx is initialised whenever a descriptor is returned). Returns the descriptor or a
 * negative errno. */
int net_open_client_txts(int family, struct net_tx *tx);

/* Sends one request as net_send and, when tx->on, records (tag, nonce) for its timestamp.
 * Returns 0 or a negative errno (after a failure the counter is restarted, see above). */
int net_send_txts(int fd, struct net_tx *tx, const uint8_t *buf, size_t len,
                  const struct ntk_addr *remote, uint32_t tag);

/* Reads up to n transmit timestamps from fd's error queue into out[0..n). Returns how many
 * matched a request (other messages on the queue are consumed and dropped), 0 when the
 * queue is empty, or a negative errno. Call it until it returns less than n. */
int net_recv_txts(int fd, struct net_tx *tx, struct net_tx_stamp *out, int n);

#endif /* NTK_NET_H */
