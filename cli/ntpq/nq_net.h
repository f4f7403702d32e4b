/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpq's real transport (struct nq_io over UDP and ntk_ctlc). */
#ifndef NTK_NQ_NET_H
#define NTK_NQ_NET_H

#include <stdint.h>

#include "nq_cmd.h"
#include "ntk/mac.h"

struct ntk_ctlc;

/* The transport's state. */
struct nq_net {
    struct nq_io io;            /* the interface handed to nq_init (ctx = this) */
    int fd;                     /* connected socket, -1 when no host is open */
    struct ntk_ctlc *c;         /* the session (heap: it is large) */
    struct ntk_mac_keys *keys;  /* the -k keys (borrowed), or NULL */
    struct ntk_mac_keys *typed; /* a key typed at the passwd prompt (owned), or NULL */
    long timeout_ms;            /* per attempt */
    uint16_t sequence;          /* last sequence number used */
    char namebuf[1100];         /* the last resolved name */
};

/* Prepares the transport with the keys (may be NULL). Returns 0 or -1 (no memory). */
int nq_net_init(struct nq_net *n, struct ntk_mac_keys *keys);

/* Closes the socket and frees what nq_net_init allocated (not keys). */
void nq_net_fini(struct nq_net *n);

#endif /* NTK_NQ_NET_H */
