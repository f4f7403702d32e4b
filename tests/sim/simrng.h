/* SPDX-License-Identifier: BSD-2-Clause */
/* The simulator's seeded pseudo-random generator (xoshiro256** seeded through splitmix64) and
 * the distributions the models draw from. Every stream is fully determined by (seed, stream),
 * so a scenario replays bit for bit, and the network, the clock's wander and the engine each
 * draw from their own stream: changing how often one of them draws leaves the others alone.
 */
#ifndef NTK_SIMRNG_H
#define NTK_SIMRNG_H

#include <stddef.h>
#include <stdint.h>

/* One generator. Plain data: copy it to fork a stream. */
struct simrng {
    uint64_t s[4]; /* xoshiro256** state, never all zero */
};

/* Seeds r from seed and a stream number (different streams of one seed are independent). */
void simrng_seed(struct simrng *r, uint64_t seed, uint64_t stream);

/* The next 64 random bits. */
uint64_t simrng_u64(struct simrng *r);

/* Uniform on [0, 1), 53 bits. */
double simrng_uniform(struct simrng *r);

/* Exponential with the given mean (>= 0; 0 gives 0). */
double simrng_exp(struct simrng *r, double mean);

/* Standard normal N(0, 1) (Box-Muller; two uniforms per draw, no cached spare, so the
 * number of draws a call makes never depends on earlier calls). */
double simrng_normal(struct simrng *r);

/* Fills p[0..n) with random bytes; ctx is a struct simrng. The signature of struct
 * eng_rng's bytes, so the engine can draw from a simulator stream. */
void simrng_bytes(void *ctx, uint8_t *p, size_t n);

#endif /* NTK_SIMRNG_H */
