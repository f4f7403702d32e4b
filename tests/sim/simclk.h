/* SPDX-License-Identifier: BSD-2-Clause */
/* The simulated local clock: a struct ntk_clk_ops that obeys the calls as Linux does, on the
 * simulation's true-time axis.
 *
 * True time t is int64 nanoseconds since the start of the run. The local clock's phase runs
 * at (1 + f_err + f_corr + f_slew) per true second, where
 *  - f_err is the clock's own error: the scenario's freq_ppm plus a random-walk "wander"
 *    that the simulator adds through simclk_add_wander (on its 1 s grid);
 *  - f_corr is what set_freq set, kept as Linux keeps it: the tick (10000 us +- 10 %, whole
 *    microseconds, so 100 ppm a step) plus the kernel frequency (+-500 ppm in units of
 *    2^-16 ppm); requests beyond NTK_CLK_FREQ_MAX_PPM are refused with -EINVAL;
 *  - f_slew is adjtime's: +-500 ppm while a slew is left, which stops exactly when done.
 * step() adds to the phase at once. CLOCK_MONOTONIC is the same clock without the steps
 * (and without the kernel's leap seconds). A leap second armed with set_leap is applied at
 * the local clock's midnight UTC, as the kernel does: an insertion sets the clock back one
 * second when it reaches 00:00:00, a deletion forward one second at 23:59:59; the kernel then
 * waits for the leap to be disarmed before it acts on another.
 *
 * The rates are piecewise constant between events and every segment is integrated exactly,
 * so the phase does not depend on how often the clock is advanced. Every call is counted.
 */
#ifndef NTK_SIMCLK_H
#define NTK_SIMCLK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "ntk/clk.h"

#define SIMCLK_TICK_US           10000   /* nominal tick at HZ=100 */
#define SIMCLK_TICK_DELTA_MAX_US 1000    /* the tick may move +-10 % */
#define SIMCLK_TICK_PPM          100.0   /* one microsecond of tick, ppm */
#define SIMCLK_KFREQ_MAX_PPM     500.0   /* the kernel frequency's range */
#define SIMCLK_KFREQ_SCALE       65536.0 /* kernel frequency units per ppm */
#define SIMCLK_SLEW_PPM          500.0   /* adjtime's slew rate */
#define SIMCLK_ADJTIME_MAX_S     2145.0  /* adjtime refuses larger offsets (-EINVAL) */
#define SIMCLK_STEPS_MAX         32      /* steps recorded with their time */
#define SIMCLK_DAY_NS            86400000000000LL

/* The clock's starting point and its own error. */
struct simclk_cfg {
    int64_t epoch_unix_ns; /* true UTC (Unix ns) at t = 0 */
    int64_t mono_start_ns; /* CLOCK_MONOTONIC at t = 0 */
    double offset_s;       /* local minus true time at t = 0 */
    double freq_ppm;       /* frequency error (positive: the clock runs fast) */
};

/* Calls received through the ops table, and what the kernel did by itself. */
struct simclk_stats {
    unsigned now, check_privilege, step, slew, read_freq, set_freq, set_leap, sync_status;
    unsigned einval;         /* calls refused with -EINVAL */
    unsigned kernel_leaps;   /* leap seconds the kernel applied */
    double max_abs_step_s;   /* largest step */
    double max_abs_slew_s;   /* largest adjtime offset asked for */
    double max_abs_freq_ppm; /* largest set_freq accepted */
};

/* One step, when it was made. */
struct simclk_step {
    int64_t t_ns;    /* true time */
    double offset_s; /* its size */
};

/* The clock. Read the fields; change them only through the functions and the ops table. */
struct simclk {
    struct simclk_cfg cfg;
    int64_t t_ns;       /* true time the clock has been advanced to */
    double drift_s;     /* integral of (rate - 1): frequency errors, corrections, slews */
    double step_s;      /* sum of the steps (engine's and kernel leaps) */
    double wander_ppm;  /* the random-walk part of the frequency error */
    int tick_delta_us;  /* tick - 10000 us */
    int64_t kfreq;      /* kernel frequency, 2^-16 ppm */
    double slew_left_s; /* adjtime offset still to apply */
    int leap;           /* armed leap: +1 insert, -1 delete, 0 none */
    bool leap_wait;     /* the kernel applied it and waits for the disarm */
    int64_t leap_at_ns; /* local Unix ns where the armed leap happens */
    bool synced;        /* last set_sync_status */
    double maxerror_s;  /* last set_sync_status */
    double esterror_s;  /* last set_sync_status */
    struct simclk_stats st;
    struct simclk_step steps[SIMCLK_STEPS_MAX]; /* the first SIMCLK_STEPS_MAX steps */
};

/* Starts the clock at true time 0: tick nominal, kernel frequency 0, nothing armed. */
void simclk_init(struct simclk *c, const struct simclk_cfg *cfg);

/* Fills *ops with the driver table over c (name "sim"); c must outlive its use. */
void simclk_ops(struct simclk *c, struct ntk_clk_ops *ops);

/* Integrates the clock up to true time t_ns (>= c->t_ns), applying a slew's end and a
 * kernel leap at their exact instants. */
void simclk_advance(struct simclk *c, int64_t t_ns);

/* The true time of the next change of rate or phase the clock makes by itself (a slew ends,
 * an armed leap second), INT64_MAX if none. Always > c->t_ns. */
int64_t simclk_next_event(const struct simclk *c);

/* The local clock now (CLOCK_REALTIME), as the now op reads it (the sim's own reading is
 * not counted in the stats). */
void simclk_real(const struct simclk *c, struct timespec *out);

/* The local clock now, Unix nanoseconds. */
int64_t simclk_real_ns(const struct simclk *c);

/* CLOCK_MONOTONIC now, ns. */
int64_t simclk_mono_ns(const struct simclk *c);

/* The earliest true time at which CLOCK_MONOTONIC reaches mono_ns if the rates stay as they
 * are now (c->t_ns when it already has). simclk_next_event bounds how long they do. */
int64_t simclk_true_at_mono(const struct simclk *c, int64_t mono_ns);

/* Local time minus true time (the axis epoch + t, which has no leap seconds), seconds. */
double simclk_offset_s(const struct simclk *c);

/* The frequency correction in force (tick and kernel frequency), ppm. */
double simclk_corr_ppm(const struct simclk *c);

/* The rate error now, ppm: own error + correction + slew. */
double simclk_rate_ppm(const struct simclk *c);

/* Changes the clock's own frequency error by dfreq_ppm from now on (the wander). */
void simclk_add_wander(struct simclk *c, double dfreq_ppm);

/* The ops, callable directly (tests); ctx is a struct simclk. */
int simclk_op_set_freq(void *ctx, double freq_ppm);
int simclk_op_slew(void *ctx, double offset_s);
int simclk_op_step(void *ctx, double offset_s);

#endif /* NTK_SIMCLK_H */
