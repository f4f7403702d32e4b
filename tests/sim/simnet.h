/* SPDX-License-Identifier: BSD-2-Clause */
/* The simulated network: one direction of a path delays each datagram by a constant plus an
 * exponential jitter, loses it with some probability, and with another probability adds a
 * spike drawn uniformly from [0, spike_max_s). Datagrams may overtake each other. */
#ifndef NTK_SIMNET_H
#define NTK_SIMNET_H

#include <stdbool.h>

#include "simrng.h"

/* One direction of a path. Zero-initialised: no delay, no loss, no spikes. */
struct simnet_dir {
    double base_s;        /* constant part of the delay */
    double jitter_mean_s; /* mean of the exponential part */
    double loss;          /* probability that a datagram is lost (0..1) */
    double spike_p;       /* probability of a spike (0..1) */
    double spike_max_s;   /* a spike adds U(0, spike_max_s) */
};

/* Draws the fate of one datagram from r: returns false if it is lost, else true with its
 * delay in *delay_s. Always draws the same number of variates (four), so the stream stays
 * aligned whatever the outcome. */
bool simnet_draw(const struct simnet_dir *d, struct simrng *r, double *delay_s);

/* The mean delay of a datagram that is not lost. */
double simnet_mean_delay_s(const struct simnet_dir *d);

#endif /* NTK_SIMNET_H */
