/* SPDX-License-Identifier: BSD-2-Clause */
/* The clock filter of one association (RFC 5905 §10): the last 8 samples, the one with the
 * lowest delay chosen as the association's offset, jitter from the others, and a "popcorn"
 * spike suppressor.
 *
 * As in RFC 5905's clear(), a stage that holds no sample counts as a dummy (delay and
 * dispersion MAXDISP), so the filter dispersion of a fresh association starts near 8 s and
 * halves with each sample: with tos maxdist 1.5 s a source becomes selectable after about
 * four samples, which is what iburst is for. A stage whose dispersion has aged to MAXDISP
 * is a dummy too (NTPsec's clock_filter).
 *
 * The output (offset_s, delay_s, t_mono_ns) is always the last sample offered to the
 * selection: a sample that is not newer than it, or a held popcorn spike, never shows
 * there. disp_s and jitter_s are recomputed at every filter_add / filter_add_miss. */
#ifndef NTK_FILTER_H
#define NTK_FILTER_H

#include <stdbool.h>
#include <stdint.h>

/* Stages of the filter (RFC 5905 NSTAGE). */
#define FILTER_STAGES 8

/* The dispersion of a dummy stage, and the largest any stage ages to (RFC 5905 MAXDISP). */
#define FILTER_MAXDISP_S 16.0

/* The popcorn gate: a new sample whose offset is more than this many jitters away from
 * the last output is held once (RFC 5905 SGATE). */
#define FILTER_SGATE 3.0

/* One measurement, as the association hands it over. */
struct filter_sample {
    double offset_s;   /* θ of the exchange */
    double delay_s;    /* δ (clamped to the precision by the caller) */
    double disp_s;     /* ε at the time of the measurement */
    int64_t t_mono_ns; /* when the reply arrived */
};

/* The filter's state and output. Zero-initialised means empty (filter_init). */
struct filter {
    struct filter_sample st[FILTER_STAGES]; /* ring, newest at st[head] */
    int head;                               /* index of the newest stage */
    int n;                                  /* stages filled (0..FILTER_STAGES) */
    double phi_ppm;                         /* frequency tolerance used to age dispersion */
    bool every_sample;                      /* filter_set_every_sample */
    double precision_s; /* jitter floor given with the last sample (2^-20 before) */
    bool spike_held;    /* the last new candidate was held as a spike:
                           the next new one is used whatever it says */
    /* Output, valid once `valid` is true: */
    bool valid;        /* a sample has been offered and a real (non-dummy) stage remains */
    double offset_s;   /* offset of the last sample offered (the lowest-delay stage then) */
    double delay_s;    /* its delay */
    double disp_s;     /* filter dispersion (RFC 5905 §10: Σ ε_i / 2^(i+1) over the stages
                          sorted by delay, dummies as MAXDISP), aged to the last add */
    double jitter_s;   /* RMS of the other real stages' offsets from the lowest-delay one,
                          at least the precision (RFC 5905 §10 ψ) */
    int64_t t_mono_ns; /* when the sample offered last was taken */
};

/* Empties f; phi_ppm is the frequency tolerance (15). */
void filter_init(struct filter *f, double phi_ppm);

/* Adds a sample taken at s->t_mono_ns (now) and recomputes disp_s / jitter_s (precision_s
 * is the jitter floor: 2^precision of the local clock). Returns true, and makes the
 * lowest-delay stage the output, when that stage should be offered to the selection:
 * it is newer than the last one offered (RFC 5905 "use a sample only once"), and it is not
 * a popcorn spike (offset more than FILTER_SGATE × the previous jitter from the previous
 * output, while that jitter came from at least 2 real stages) unless the previous new
 * candidate was already held (a spike is held once; the next candidate decides). */
bool filter_add(struct filter *f, const struct filter_sample *s, double precision_s);

/* Adds a dummy stage (offset 0, delay and dispersion MAXDISP) after an unanswered poll
 * (RFC 5905 poll(): clock_filter(p, 0, 0, MAXDISP)), so the dispersion of a silent source
 * grows; recomputes disp_s / jitter_s. The output offset stays; `valid` becomes false once
 * no real stage is left. */
void filter_add_miss(struct filter *f, int64_t now_mono_ns);

/* The filter dispersion recomputed with every stage aged to now (FILTER_MAXDISP_S while
 * the filter is not valid). */
double filter_disp_now(const struct filter *f, int64_t now_mono_ns);

/* Every-sample mode (the engine's choice, off after filter_init): each accepted sample is the
 * output and is offered (filter_add returns true for it), with no popcorn hold, and stages
 * never filled add no dispersion. The stages still give the jitter and the dispersion. The
 * RFC 5905 choice of the lowest-delay stage passes about one reply in eight to the clock;
 * the discipline (disc.c) instead weighs every offset by its delay and rejects outliers
 * against its model, which uses all of them. */
void filter_set_every_sample(struct filter *f, bool on);

/* Sets the frequency tolerance that ages the dispersion from now on (ppm). The engine lowers
 * it from the RFC's worst case once the discipline has measured the clock (see eng_sys.c). */
void filter_set_phi(struct filter *f, double phi_ppm);

/* Shifts every stored offset (and the output) by -step_s after the clock was stepped by
 * step_s. */
void filter_on_step(struct filter *f, double step_s);

#endif /* NTK_FILTER_H */
