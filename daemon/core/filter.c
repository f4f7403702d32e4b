/* SPDX-License-Identifier: BSD-2-Clause */
/* The 8-stage clock filter of RFC 5905 §10 with NTPsec's dummy-stage rule and a held-once
 * popcorn spike suppressor. */
#include "filter.h"

#include <math.h>
#include <string.h>

#include "poison.h"

/* The stages sorted for one evaluation, and what RFC 5905 clock_filter computes from them. */
struct pick {
    int ord[FILTER_STAGES]; /* stored stage indices, real ones by delay, then dummies */
    int n;                  /* stored stages in ord */
    int m;                  /* real stages (the first m of ord) */
    double disp_s;          /* Σ ε_i / 2^(i+1) */
    double jitter_s;        /* RMS offset difference from ord[0], at least the precision */
};

void filter_set_every_sample(struct filter *f, bool on)
{
    f->every_sample = on;
}

void filter_set_phi(struct filter *f, double phi_ppm)
{
    f->phi_ppm = phi_ppm;
}

void filter_init(struct filter *f, double phi_ppm)
{
    memset(f, 0, sizeof *f);
    f->phi_ppm = phi_ppm;
    f->precision_s = 0x1p-20; /* until the first sample says (ntk_sntp's default) */
}

/* The dispersion of stage s aged to t, capped at MAXDISP (NTPsec clock_filter). */
static double aged_disp(const struct filter *f, const struct filter_sample *s, int64_t t)
{
    double age_s = (double)(t - s->t_mono_ns) * 1e-9;
    double d = s->disp_s + f->phi_ppm * 1e-6 * (age_s > 0 ? age_s : 0.0);
    return d < FILTER_MAXDISP_S ? d : FILTER_MAXDISP_S;
}

/* The sort key of a stage: its delay, or +inf for a dummy so that dummies come last. */
static double sort_key(const struct filter *f, int i, int64_t t)
{
    if (aged_disp(f, &f->st[i], t) >= FILTER_MAXDISP_S) {
        return HUGE_VAL;
    }
    return f->st[i].delay_s;
}

/* Fills p->ord with the stored stages, newest first, stably sorted by key: on a tie in
 * delay the newer sample wins, so it can be offered. */
static void sort_stages(const struct filter *f, int64_t t, struct pick *p)
{
    double key[FILTER_STAGES];
    p->n = f->n;
    p->m = 0;
    for (int k = 0; k < f->n; k++) {
        int i = (f->head - k + FILTER_STAGES) % FILTER_STAGES;
        double kv = sort_key(f, i, t);
        int j = k;
        for (; j > 0 && key[j - 1] > kv; j--) {
            key[j] = key[j - 1];
            p->ord[j] = p->ord[j - 1];
        }
        key[j] = kv;
        p->ord[j] = i;
        p->m += isinf(kv) ? 0 : 1;
    }
}

/* RFC 5905 §10: ε = Σ ε_i / 2^(i+1) over all 8 stages in delay order, an empty stage or a
 * dummy counting as MAXDISP. In every-sample mode a stage never filled counts nothing, so a
 * source is selectable from its first reply (a dummy, an unanswered poll, still counts). */
static double weighted_disp(const struct filter *f, const struct pick *p, int64_t t)
{
    double sum = 0.0, w = 0.5;
    int stages = f->every_sample ? p->n : FILTER_STAGES;
    for (int k = 0; k < stages; k++, w *= 0.5) {
        double e = k < p->m ? aged_disp(f, &f->st[p->ord[k]], t) : FILTER_MAXDISP_S;
        sum += e * w;
    }
    return sum;
}

/* RFC 5905 §10: ψ = sqrt(Σ (θ_j - θ_0)² / (m - 1)) over the real stages, at least the
 * precision. */
static double rms_jitter(const struct filter *f, const struct pick *p, double precision_s)
{
    double sum = 0.0;
    if (p->m < 2) {
        return precision_s;
    }
    double o0 = f->st[p->ord[0]].offset_s;
    for (int k = 1; k < p->m; k++) {
        double d = f->st[p->ord[k]].offset_s - o0;
        sum += d * d;
    }
    double j = sqrt(sum / (double)(p->m - 1));
    return j > precision_s ? j : precision_s;
}

/* Sorts the stages as of t and computes dispersion and jitter. */
static void evaluate(const struct filter *f, int64_t t, struct pick *p)
{
    sort_stages(f, t, p);
    p->disp_s = weighted_disp(f, p, t);
    p->jitter_s = rms_jitter(f, p, f->precision_s);
}

/* Shifts s into the register (RFC 5905 clock_filter: the oldest stage falls out). */
static void push(struct filter *f, const struct filter_sample *s)
{
    f->head = f->n == 0 ? 0 : (f->head + 1) % FILTER_STAGES;
    f->st[f->head] = *s;
    if (f->n < FILTER_STAGES) {
        f->n++;
    }
}

/* True when the candidate c should be held as a popcorn spike: it is far from the last
 * output compared with a jitter that was measured (2 real stages at least), and the
 * previous candidate was not held already. */
static bool is_spike(const struct filter *f, const struct filter_sample *c, int prev_m)
{
    if (!f->valid || f->spike_held || prev_m < 2) {
        return false;
    }
    return fabs(c->offset_s - f->offset_s) > FILTER_SGATE * f->jitter_s;
}

/* Decides on candidate c (see filter.h); prev_m is the real-stage count before the add. */
static bool offer(struct filter *f, const struct filter_sample *c, int prev_m)
{
    if (f->valid && c->t_mono_ns <= f->t_mono_ns) {
        return false; /* RFC 5905: never a sample older than, or the same as, the last used */
    }
    if (is_spike(f, c, prev_m)) {
        f->spike_held = true;
        return false;
    }
    f->spike_held = false;
    f->valid = true;
    f->offset_s = c->offset_s;
    f->delay_s = c->delay_s;
    f->t_mono_ns = c->t_mono_ns;
    return true;
}

/* Every-sample mode: the newest sample is the output (the discipline weighs it). */
static bool offer_newest(struct filter *f, const struct filter_sample *s)
{
    if (f->valid && s->t_mono_ns <= f->t_mono_ns) {
        return false;
    }
    f->spike_held = false;
    f->valid = true;
    f->offset_s = s->offset_s;
    f->delay_s = s->delay_s;
    f->t_mono_ns = s->t_mono_ns;
    return true;
}

bool filter_add(struct filter *f, const struct filter_sample *s, double precision_s)
{
    struct pick before, p;
    sort_stages(f, s->t_mono_ns, &before);
    push(f, s);
    f->precision_s = precision_s;
    evaluate(f, s->t_mono_ns, &p);
    bool fresh = false;
    if (f->every_sample && aged_disp(f, s, s->t_mono_ns) < FILTER_MAXDISP_S) {
        fresh = offer_newest(f, s);
    } else if (p.m > 0) {
        fresh = offer(f, &f->st[p.ord[0]], before.m);
    } else {
        f->valid = false; /* even the new sample is a dummy (its ε is MAXDISP) */
        f->spike_held = false;
    }
    /* The gate above used the previous jitter; the new one replaces it only now. */
    f->disp_s = p.disp_s;
    f->jitter_s = p.jitter_s;
    return fresh;
}

void filter_add_miss(struct filter *f, int64_t now_mono_ns)
{
    const struct filter_sample dummy = {
        .offset_s = 0.0,
        .delay_s = FILTER_MAXDISP_S,
        .disp_s = FILTER_MAXDISP_S,
        .t_mono_ns = now_mono_ns,
    };
    struct pick p;
    push(f, &dummy);
    evaluate(f, now_mono_ns, &p);
    f->disp_s = p.disp_s;
    f->jitter_s = p.jitter_s;
    if (p.m == 0) {
        f->valid = false; /* nothing real left to offer */
        f->spike_held = false;
    }
}

double filter_disp_now(const struct filter *f, int64_t now_mono_ns)
{
    struct pick p;
    if (!f->valid) {
        return FILTER_MAXDISP_S;
    }
    evaluate(f, now_mono_ns, &p);
    return p.disp_s;
}

void filter_on_step(struct filter *f, double step_s)
{
    for (int i = 0; i < f->n; i++) {
        f->st[i].offset_s -= step_s;
    }
    f->offset_s -= step_s;
}
