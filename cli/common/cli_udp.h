/* SPDX-License-Identifier: BSD-2-Clause */
/* UDP transport for the command-line tools: name resolution, one socket per exchange (so
 * every query gets a fresh random source port from the kernel), receive with the kernel's
 * receive timestamp when it gives one. */
#ifndef NTK_CLI_UDP_H
#define NTK_CLI_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include "ntk/addr.h"

/* One resolved destination. */
struct cli_target {
    struct sockaddr_storage ss; /* address and port */
    socklen_t len;              /* bytes of ss in use */
    char ip[NTK_ADDRSTR_MAX];   /* numeric form, no brackets, no port */
    uint16_t port;              /* host order */
};

/* Resolves host (a name or a numeric address) for UDP to port, restricted to family
 * (AF_UNSPEC, AF_INET or AF_INET6), writing up to cap targets in the resolver's order,
 * duplicates removed. Returns the count (0 never: an empty answer is an error) or a negative
 * EAI_* code for gai_strerror. */
int cli_resolve(const char *host, uint16_t port, int family, struct cli_target *out,
                size_t cap);

/* Parses a numeric local address for binding (-I). Returns true and writes *out (port 0). */
bool cli_parse_bind(const char *addr, struct cli_target *out);

/* Opens a non-blocking, close-on-exec UDP socket for family with kernel receive timestamps
 * requested (SO_TIMESTAMPNS; a kernel that refuses is fine), bound to bind_to when not NULL
 * (its family must match) or else to the wildcard with port 0: the kernel picks a random
 * ephemeral port. Returns the descriptor or a negative errno. */
int cli_udp_open(int family, const struct cli_target *bind_to);

/* Receives one datagram into buf[0..cap). Writes the sender, the receive time (the kernel's
 * timestamp if the datagram carried one, else CLOCK_REALTIME read right after the receive)
 * and whether it was the kernel's. Returns the length, or a negative errno (-EAGAIN when
 * nothing is queued). */
ssize_t cli_udp_recv(int fd, uint8_t *buf, size_t cap, struct sockaddr_storage *from,
                     socklen_t *fromlen, struct timespec *rx, bool *kernel_ts);

/* True if the two socket addresses are the same address and port. */
bool cli_sockaddr_eq(const struct sockaddr_storage *a, socklen_t alen,
                     const struct sockaddr_storage *b, socklen_t blen);

#endif /* NTK_CLI_UDP_H */
