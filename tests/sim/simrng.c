/* SPDX-License-Identifier: BSD-2-Clause */
/* Seeded xoshiro256** generator and the uniform, exponential and normal draws of the models.
 */
#include <math.h>

#include "simrng.h"

#include "poison.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void simrng_seed(struct simrng *r, uint64_t seed, uint64_t stream)
{
    /* Mix the stream in through one splitmix64 round of its own, so that streams of
     * neighbouring seeds do not overlap. */
    uint64_t x = stream;
    uint64_t sm = seed ^ splitmix64(&x);
    for (int i = 0; i < 4; i++) {
        r->s[i] = splitmix64(&sm);
    }
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0) {
        r->s[0] = 1;
    }
}

uint64_t simrng_u64(struct simrng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

double simrng_uniform(struct simrng *r)
{
    return (double)(simrng_u64(r) >> 11) * 0x1.0p-53;
}

double simrng_exp(struct simrng *r, double mean)
{
    /* 1 - u lies in (0, 1], so the log is finite. */
    return -mean * log(1.0 - simrng_uniform(r));
}

double simrng_normal(struct simrng *r)
{
    double u1 = 1.0 - simrng_uniform(r);
    double u2 = simrng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void simrng_bytes(void *ctx, uint8_t *p, size_t n)
{
    struct simrng *r = ctx;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t v = simrng_u64(r);
        for (size_t j = i; j < n && j < i + 8; j++) {
            p[j] = (uint8_t)v;
            v >>= 8;
        }
    }
}
