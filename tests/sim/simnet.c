/* SPDX-License-Identifier: BSD-2-Clause */
/* Delay, loss and spike draws of one direction of a simulated network path. */
#include "simnet.h"

#include "poison.h"

bool simnet_draw(const struct simnet_dir *d, struct simrng *r, double *delay_s)
{
    double lost = simrng_uniform(r);
    double jitter = simrng_exp(r, d->jitter_mean_s);
    double spike = simrng_uniform(r);
    double spike_size = simrng_uniform(r) * d->spike_max_s;
    if (lost < d->loss) {
        return false;
    }
    *delay_s = d->base_s + jitter + (spike < d->spike_p ? spike_size : 0.0);
    return true;
}

double simnet_mean_delay_s(const struct simnet_dir *d)
{
    return d->base_s + d->jitter_mean_s + d->spike_p * d->spike_max_s / 2.0;
}
