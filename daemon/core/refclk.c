/* SPDX-License-Identifier: BSD-2-Clause */
/* The median filter of a reference clock: a ring of samples reduced to a trimmed mean at
 * each poll (refclk.h has the rule). */
#include "refclk.h"

#include <math.h>
#include <string.h>

#include "poison.h"

void rc_filter_init(struct rc_filter *f)
{
    memset(f, 0, sizeof *f);
}

void rc_filter_add(struct rc_filter *f, double offset_s, int64_t t_mono_ns)
{
    f->s[f->head] = (struct rc_sample){offset_s, t_mono_ns};
    f->head = (f->head + 1) % RC_SAMPLES;
    if (f->n < RC_SAMPLES)
        f->n++;
    else
        f->overwritten++;
}

size_t rc_filter_count(const struct rc_filter *f)
{
    return f->n;
}

void rc_filter_shift(struct rc_filter *f, double shift_s)
{
    for (size_t i = 0; i < RC_SAMPLES; i++)
        f->s[i].offset_s -= shift_s;
}

void rc_filter_adjust(struct rc_filter *f, double (*corr)(const void *ctx, int64_t t_mono_ns),
                      const void *ctx)
{
    for (size_t i = 0; i < f->n; i++) {
        struct rc_sample *s = &f->s[(f->head + RC_SAMPLES - f->n + i) % RC_SAMPLES];
        s->offset_s -= corr(ctx, s->t_mono_ns);
    }
}

/* Insertion sort: at most RC_SAMPLES values. */
static void sort(double *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        double x = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

void rc_reduce(double *off, size_t n, struct rc_poll *out)
{
    sort(off, n);
    size_t keep = n - (n * 4) / 10;
    size_t lo = 0, hi = n; /* the kept ones: off[lo..hi) */
    while (hi - lo > keep) {
        double mid = off[lo + (hi - lo) / 2];
        if (off[hi - 1] - mid >= mid - off[lo])
            hi--; /* the high end is farther from the median (or as far) */
        else
            lo++;
    }
    double sum = 0;
    for (size_t i = lo; i < hi; i++)
        sum += off[i];
    double mean = sum / (double)keep;
    double sq = 0;
    for (size_t i = lo; i < hi; i++)
        sq += (off[i] - mean) * (off[i] - mean);
    out->offset_s = mean;
    out->jitter_s = sqrt(sq / (double)keep);
    out->min_s = off[lo];
    out->max_s = off[hi - 1];
    out->n = n;
    out->kept = keep;
    out->t_mono_ns = 0;
}

bool rc_filter_take(struct rc_filter *f, struct rc_poll *out)
{
    if (f->n == 0)
        return false;
    double off[RC_SAMPLES];
    int64_t newest = INT64_MIN;
    for (size_t i = 0; i < f->n; i++) {
        const struct rc_sample *s = &f->s[(f->head + RC_SAMPLES - f->n + i) % RC_SAMPLES];
        off[i] = s->offset_s;
        if (s->t_mono_ns > newest)
            newest = s->t_mono_ns;
    }
    rc_reduce(off, f->n, out);
    out->t_mono_ns = newest;
    uint64_t lost = f->overwritten;
    rc_filter_init(f);
    f->overwritten = lost;
    return true;
}
