/* SPDX-License-Identifier: BSD-2-Clause */
/* What ntpcap's two hash tables share (cap_flow.c's flows, cap_pair.c's pending requests):
 * the hash mixer, address equality as the tables compare addresses, and the bucket count. */
#ifndef NTK_CAP_TABLE_H
#define NTK_CAP_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ntk/addr.h"

/* A 64-bit finaliser (splitmix64's): every input bit moves every output bit. */
static inline uint64_t cap_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Family, address bytes and port equal. */
static inline bool cap_addr_same(const struct ntk_addr *a, const struct ntk_addr *b)
{
    return a->family == b->family && a->port == b->port && memcmp(a->ip, b->ip, 16) == 0;
}

/* Buckets for a table of at most max entries: the power of two >= max, 16 to 2^20. */
static inline uint32_t cap_buckets(size_t max)
{
    uint32_t n = 16;
    while (n < max && n < (1u << 20)) {
        n *= 2;
    }
    return n;
}

#endif /* NTK_CAP_TABLE_H */
