/* SPDX-License-Identifier: BSD-2-Clause */
/* The clock discipline: turns the combined offsets the selection produces into frequency
 * and phase corrections of the local clock, made only through struct ntk_clk_ops.
 *
 * What it must do (issue 4, and the scenario targets in tests/sim):
 *  - estimate the local clock's frequency error and phase from the stream of combined
 *    offsets (their measurement noise given by the selection's jitter), and correct both;
 *  - correct phase by slewing: set_freq(base + rate) for a computed duration, then back to
 *    base. The rate may go past the kernel's ±500 ppm up to the tick's ±10 % (chrony's
 *    maxslewrate idea: DISC_MAX_SLEW_PPM), so a 10 ms error is gone in well under a second;
 *  - step when |offset| > step_s: at once during start-up (the first DISC_STARTUP_UPDATES
 *    updates), afterwards only when the offset has stayed beyond step_s for stepout_s
 *    (NTPsec's stepout; spikes in between are ignored);
 *  - panic: an offset beyond panic_s is never corrected (DISC_PANIC) unless panic_once was
 *    given and this is the first update (-g);
 *  - force_step_once (-G): the first update is a step even below step_s;
 *  - once (-q): the first update is applied (stepped if beyond step_s, else slewed) and
 *    DISC_DONE returned;
 *  - observe: every estimate is computed, no clk call is ever made;
 *  - suggest the poll interval (disc_poll_log2): short while converging, longer as the
 *    estimates settle, so that steady state costs at most ~160 packets a day per server;
 *  - keep the frequency for the drift file (disc_freq_ppm) and start from a known one.
 * The algorithm (PLL/FLL, regression, Kalman...) is the module's choice, documented in
 * disc.c (a Kalman filter on offset and frequency, fed with delay-weighted samples). All
 * state is in struct disc; the clock is called only from disc_init, disc_feed /
 * disc_update and disc_on_timer.
 */
#ifndef NTK_DISC_H
#define NTK_DISC_H

#include <stdbool.h>
#include <stdint.h>

#include "ntk/clk.h"

/* Updates during which a large offset is stepped at once (start-up). */
#define DISC_STARTUP_UPDATES 4

/* The fastest slew: the tick's 10 % less a margin for the frequency. */
#define DISC_MAX_SLEW_PPM 83333.0

/* The largest frequency correction kept as the clock's own (the kernel's limit). */
#define DISC_MAX_FREQ_PPM 500.0

/* What the engine tells the discipline once. */
struct disc_cfg {
    double step_s;         /* tinker step (0.128) */
    double stepout_s;      /* tinker stepout (300) */
    double panic_s;        /* tinker panic (1000; 0 = off) */
    double phi_ppm;        /* frequency tolerance (15) */
    int8_t precision_log2; /* local clock precision */
    int8_t minpoll_log2;   /* the shortest poll the engine knows (ENG_DISC_POLL_MIN) */
    int8_t maxpoll_log2;   /* the longest (ENG_POLL_MAX) */
    bool observe;          /* never call the clock */
    bool panic_once;       /* -g */
    bool force_step_once;  /* -G: the first correction is a step, whatever its size */
    bool once;             /* -q */
    bool have_freq;        /* initial_freq_ppm is valid */
    double initial_freq_ppm;
};

/* What disc_update did. */
enum disc_verdict {
    DISC_SLEWED = 0, /* accepted; the phase is being slewed */
    DISC_STEPPED,    /* the clock was stepped by disc_last_step_s(): the engine fans it out */
    DISC_SPIKE,      /* beyond step_s but within stepout: held, not used */
    DISC_PANIC,      /* beyond panic_s: not corrected (the daemon should exit, as NTPsec) */
    DISC_DONE,       /* once (-q): the one correction is made */
    DISC_ERROR,      /* a clock call failed (disc_last_error() says which -errno) */
};

/* History points kept for the regression, and corrections kept for disc_since_s. */
#define DISC_HIST_MAX 64
#define DISC_CORR_MAX 32

/* One offset in the history. */
struct disc_point {
    int64_t t_mono_ns; /* when it was measured */
    double offset_s;   /* the offset, corrected for every correction applied since */
    double delay_s;    /* the round-trip delay of its exchange (0: unknown) */
    double doubt_s2;   /* variance added by the slews made since the previous point */
    bool outlier;      /* held aside by its residual (kept to notice a change) */
};

/* One correction made (a frequency change or a slew), for disc_since_s. */
struct disc_corr {
    int64_t start_mono_ns; /* when it was made / the slew started */
    int64_t end_mono_ns;   /* when the slew ended or will end (start for a frequency) */
    double rate_ppm;       /* the slew's phase rate per monotonic second (0: a frequency) */
    double dfreq_ppm;      /* the frequency change (0: a slew) */
};

/* The Kalman filter's state: the offset and its rate in the current frame, at t_mono_ns. */
struct disc_kf {
    int64_t t_mono_ns;    /* when the state holds */
    double theta_s;       /* offset (server minus local), s */
    double b;             /* its rate: the residual frequency error, s/s */
    double ptt, ptb, pbb; /* covariance: s², s²/s, (s/s)² */
    double q;             /* the frequency's random walk, (s/s)² per s */
    double r;             /* measurement noise variance, s² */
};

/* The discipline's state. Opaque in spirit: read it through the functions below (the
 * report reads jitter_s and wander_ppm). disc.c documents the algorithm. */
struct disc {
    struct disc_cfg cfg;
    const struct ntk_clk_ops *clk;
    double base_freq_ppm;        /* the frequency correction for the clock's own error */
    double slew_rate_ppm;        /* extra rate of the slew in progress (0: none) */
    int64_t slew_start_mono_ns;  /* when it started */
    int64_t slew_end_mono_ns;    /* when it ends (INT64_MAX: none) */
    double slew_amount_s;        /* the phase it applies in all */
    double slewed_s;             /* |phase| slewed since the newest point was taken */
    int slew_corr;               /* its entry in corr[] */
    double last_offset_s;        /* last offset handed in (not a panic) */
    double last_step_s;          /* last step made */
    int last_error;              /* last failed clock call, -errno */
    double jitter_s;             /* RMS measurement noise of the offsets (clk_jitter) */
    double wander_ppm;           /* RMS of frequency changes (clk_wander) */
    double fit_offset_s;         /* the last fit's offset at its update (before correcting) */
    double fit_freq_ppm;         /* the last fit's residual frequency (observe: not applied) */
    int64_t last_update_mono_ns; /* when the last offset was accepted */
    int8_t poll_log2;            /* the poll it suggests */
    int8_t poll_lo_log2;         /* its range now: the system peer's minpoll... */
    int8_t poll_hi_log2;         /* ...and maxpoll (disc_poll_range), within cfg's */
    int poll_score;   /* good predictions (+) / bad ones (-) since the last change */
    unsigned updates; /* accepted updates (slews and steps) */
    bool spiking;     /* offsets beyond step_s in a row since spike_since */
    int64_t spike_since_mono_ns; /* the first of them */
    bool done;                   /* once (-q): the one correction is made */
    int outliers_in_row;         /* newest points held aside in a row */
    int64_t run_start_mono_ns;   /* when the first of them was taken */
    int nsamples;                /* points in hist, oldest first */
    struct disc_point hist[DISC_HIST_MAX];
    struct disc_kf kf;    /* the estimator (kf.r: the noise of a least-delay offset) */
    double min_delay_s;   /* the least delay in the history (0: none known) */
    double base_excess_s; /* how far that least is above the path's true least, estimated */
    double noise_var;     /* the average measurement variance in the history, s² */
    bool kf_running;      /* the filter is updated (else set from the history's fit) */
    int ncorr, corr_head; /* corrections logged (ring, newest at corr_head) */
    struct disc_corr corr[DISC_CORR_MAX];
};

/* Starts the discipline: sets the clock's frequency to the known one (or reads the one in
 * force) unless observe. Returns 0 or the clock's -errno. */
int disc_init(struct disc *d, const struct disc_cfg *cfg, const struct ntk_clk_ops *clk,
              int64_t now_mono_ns);

/* One combined offset (server minus local, seconds) measured at now, in the clock's current
 * frame (as measured minus disc_since_s(d, now): what a slew in progress has still to do),
 * with its noise (jitter_s, the selection's combined jitter) and the root distance of the
 * system peer. The same as disc_feed with t_mono_ns = now and no delay; disc_feed does
 * better. */
enum disc_verdict disc_update(struct disc *d, int64_t now_mono_ns, double offset_s,
                              double jitter_s, double root_dist_s);

/* One measurement for disc_feed: the system peer's newest sample, as the selection
 * combined it. */
struct disc_sample {
    int64_t t_mono_ns;  /* when it was measured (<= now; the filter may offer an older one) */
    double offset_s;    /* the combined offset (server minus local), brought into the
                           clock's current frame: as measured, minus disc_since_s(d,
                           t_mono_ns) */
    double delay_s;     /* the round-trip delay of the system peer's exchange (0: unknown):
                           an offset with more delay than the least seen is weighed less */
    double jitter_s;    /* the selection's combined jitter (seeds the noise estimate) */
    double root_dist_s; /* the system peer's root distance (unused so far) */
};

/* Takes one measurement: the estimator places it at its own time (an offset taken as
 * measured "now" when it is polls old is wrong by the frequency error times its age), and
 * the clock is corrected at now. Prefer it to disc_update, and feed every new sample of the
 * system peer, not only the clock filter's choice: the estimator weighs them by delay. */
enum disc_verdict disc_feed(struct disc *d, int64_t now_mono_ns, const struct disc_sample *s);

/* Whether disc_feed would answer DISC_PANIC to offset_s now: beyond the panic threshold, and
 * not the first update of a -g (panic_once) start. */
bool disc_panics(const struct disc *d, double offset_s);

/* Ends a slew that is due (sets the frequency back to base). */
void disc_on_timer(struct disc *d, int64_t now_mono_ns);

/* When disc_on_timer is next needed (INT64_MAX: never). */
int64_t disc_next_deadline(const struct disc *d);

/* The poll interval the discipline suggests now (within disc_poll_range's range). */
int8_t disc_poll_log2(const struct disc *d);

/* Bounds the suggestion by the system peer's minpoll and maxpoll, moving it into them, as
 * NTPsec's clock_update does with sys_poll before each update: with `minpoll 4` the
 * discipline starts at 16 s, and with `maxpoll 17` it may grow to 36 h. Until the first
 * call the range is cfg's whole range, and the suggestion starts at its bottom (each
 * association polls at its own minpoll then: it clamps the suggestion itself). */
void disc_poll_range(struct disc *d, int8_t lo, int8_t hi);

/* The frequency correction for the drift file, ppm. */
double disc_freq_ppm(const struct disc *d);

/* The size of the last step (seconds) and the last clock error (-errno, 0 if none). */
double disc_last_step_s(const struct disc *d);
int disc_last_error(const struct disc *d);

/* The estimate of the local clock's offset now, from the model (for reports): the part of
 * the slew in progress still to come (observe: the fit extrapolated to now). */
double disc_offset_now_s(const struct disc *d, int64_t now_mono_ns);

/* The phase the discipline has corrected since then (slews and frequency changes, not
 * steps: those are fanned out), as seen from a sample taken at then: an offset measured
 * at then, minus this, is what it would read in the clock's current frame. An association
 * offering an older filter sample should subtract it before the selection combines
 * (disc_update treats its offset as measured now). Covers the last DISC_CORR_MAX
 * corrections; 0 in observe mode. */
double disc_since_s(const struct disc *d, int64_t then_mono_ns);

#endif /* NTK_DISC_H */
