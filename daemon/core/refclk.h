/* SPDX-License-Identifier: BSD-2-Clause */
/* The median filter of a reference clock (NTPsec's refclock_sample): the samples a driver
 * handed over since the last poll, reduced at poll time to one offset and its jitter.
 *
 * The rule (NTPsec ntp_refclock.c, written anew here): sort the n samples by offset; keep
 * k = n - floor(4n / 10) of them (60 %, at least one) by discarding, one at a time, the end
 * sample that lies farther from the median of those left (the high end on a tie); the
 * offset is the mean of the k kept, the jitter the RMS of their differences from that mean
 * (NTPsec takes the RMS of successive differences; ours is the plain standard deviation
 * about the mean, which a single wild sample can no longer reach once trimmed). So with up
 * to 40 % of the samples wild on either side the result stays within the good ones.
 *
 * Sans-IO, no allocation: a fixed ring of RC_SAMPLES (NTPsec keeps 60); when a driver
 * produces more per poll than that, the oldest are overwritten (counted). */
#ifndef NTK_REFCLK_H
#define NTK_REFCLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Samples kept between two polls (NTPsec's MAXSTAGE). */
#define RC_SAMPLES 60

/* One sample: the offset (reference minus local, s) and when it was taken. */
struct rc_sample {
    double offset_s;   /* reference minus local clock, fudge included */
    int64_t t_mono_ns; /* the monotonic time of the event */
};

/* The ring. Zero-initialised means empty. */
struct rc_filter {
    struct rc_sample s[RC_SAMPLES]; /* oldest at s[head] once full */
    size_t head;                    /* next slot to write */
    size_t n;                       /* samples held (0..RC_SAMPLES) */
    uint64_t overwritten;           /* samples lost to a full ring (never reset) */
};

/* What a poll takes out. */
struct rc_poll {
    double offset_s;   /* mean of the kept samples */
    double jitter_s;   /* RMS of their differences from offset_s (>= 0) */
    double min_s;      /* the smallest kept offset */
    double max_s;      /* the largest kept offset */
    size_t n;          /* samples the poll found */
    size_t kept;       /* of which were averaged */
    int64_t t_mono_ns; /* the newest sample's time */
};

/* Empties f (the overwritten counter too). */
void rc_filter_init(struct rc_filter *f);

/* Adds a sample; when the ring is full the oldest is overwritten. */
void rc_filter_add(struct rc_filter *f, double offset_s, int64_t t_mono_ns);

/* Samples held. */
size_t rc_filter_count(const struct rc_filter *f);

/* Subtracts shift_s from every held offset (the clock was stepped by shift_s). */
void rc_filter_shift(struct rc_filter *f, double shift_s);

/* Subtracts corr(ctx, t) from each held offset taken at t: the engine brings every sample
 * into the clock's current frame (the slews the discipline made since it was taken). */
void rc_filter_adjust(struct rc_filter *f, double (*corr)(const void *ctx, int64_t t_mono_ns),
                      const void *ctx);

/* Reduces the held samples (the rule above) into *out and empties the ring. Returns false,
 * writing nothing, when it holds none. */
bool rc_filter_take(struct rc_filter *f, struct rc_poll *out);

/* The same reduction over off[0..n) (sorted in place), for the tests: writes offset,
 * jitter, min, max, n and kept of *out (t_mono_ns 0). n must be >= 1. */
void rc_reduce(double *off, size_t n, struct rc_poll *out);

#endif /* NTK_REFCLK_H */
