/* SPDX-License-Identifier: BSD-2-Clause */
/* The simulated local clock: Linux's tick, kernel frequency, adjtime slew, steps and leap
 * seconds, integrated exactly on the simulator's true-time axis. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "simclk.h"

#include "poison.h"

void simclk_init(struct simclk *c, const struct simclk_cfg *cfg)
{
    memset(c, 0, sizeof *c);
    c->cfg = *cfg;
    c->synced = false;
}

/* The phase of the local clock relative to the true axis, without the steps. */
static double phase_s(const struct simclk *c)
{
    return c->cfg.offset_s + c->drift_s + c->step_s;
}

double simclk_offset_s(const struct simclk *c)
{
    return phase_s(c);
}

int64_t simclk_real_ns(const struct simclk *c)
{
    return c->cfg.epoch_unix_ns + c->t_ns + llround(phase_s(c) * 1e9);
}

void simclk_real(const struct simclk *c, struct timespec *out)
{
    int64_t ns = simclk_real_ns(c);
    int64_t sec = ns / 1000000000LL;
    int64_t rem = ns % 1000000000LL;
    if (rem < 0) {
        rem += 1000000000LL;
        sec--;
    }
    out->tv_sec = (time_t)sec;
    out->tv_nsec = (long)rem;
}

int64_t simclk_mono_ns(const struct simclk *c)
{
    return c->cfg.mono_start_ns + c->t_ns + llround(c->drift_s * 1e9);
}

double simclk_corr_ppm(const struct simclk *c)
{
    return c->tick_delta_us * SIMCLK_TICK_PPM + (double)c->kfreq / SIMCLK_KFREQ_SCALE;
}

/* Own error plus correction, ppm (the slew excluded). */
static double freq_ppm(const struct simclk *c)
{
    return c->cfg.freq_ppm + c->wander_ppm + simclk_corr_ppm(c);
}

static double slew_ppm(const struct simclk *c)
{
    if (c->slew_left_s == 0.0) {
        return 0.0;
    }
    return c->slew_left_s > 0 ? SIMCLK_SLEW_PPM : -SIMCLK_SLEW_PPM;
}

double simclk_rate_ppm(const struct simclk *c)
{
    return freq_ppm(c) + slew_ppm(c);
}

void simclk_add_wander(struct simclk *c, double dfreq_ppm)
{
    c->wander_ppm += dfreq_ppm;
}

/* True nanoseconds (at least 1) for the clock to move by local_ns at the present rate. */
static int64_t true_span(const struct simclk *c, double local_ns)
{
    double ns = ceil(local_ns / (1.0 + simclk_rate_ppm(c) * 1e-6));
    if (ns < 1.0) {
        return 1;
    }
    return ns > 9e18 ? INT64_MAX / 2 : (int64_t)ns;
}

int64_t simclk_true_at_mono(const struct simclk *c, int64_t mono_ns)
{
    int64_t now = simclk_mono_ns(c);
    if (mono_ns <= now) {
        return c->t_ns;
    }
    if (mono_ns == INT64_MAX) {
        return INT64_MAX;
    }
    return c->t_ns + true_span(c, (double)(mono_ns - now));
}

static bool leap_pending(const struct simclk *c)
{
    return c->leap != 0 && !c->leap_wait;
}

int64_t simclk_next_event(const struct simclk *c)
{
    int64_t next = INT64_MAX;
    if (c->slew_left_s != 0.0) {
        double ns = ceil(fabs(c->slew_left_s) / (SIMCLK_SLEW_PPM * 1e-6) * 1e9);
        next = c->t_ns + (ns < 1.0 ? 1 : (int64_t)ns);
    }
    if (leap_pending(c)) {
        int64_t real = simclk_real_ns(c);
        int64_t at = real >= c->leap_at_ns
                         ? c->t_ns + 1
                         : c->t_ns + true_span(c, (double)(c->leap_at_ns - real));
        next = at < next ? at : next;
    }
    return next;
}

/* Linux's second_overflow(): insert (clock back) at 00:00:00, delete (forward) at 23:59:59. */
static void apply_leap_if_due(struct simclk *c)
{
    if (!leap_pending(c) || simclk_real_ns(c) < c->leap_at_ns) {
        return;
    }
    c->step_s -= (double)c->leap;
    c->leap_wait = true;
    c->st.kernel_leaps++;
}

/* Integrates dt_ns of true time at the present rates. */
static void integrate(struct simclk *c, int64_t dt_ns)
{
    double dt_s = (double)dt_ns * 1e-9;
    c->drift_s += freq_ppm(c) * 1e-6 * dt_s;
    if (c->slew_left_s != 0.0) {
        double most = SIMCLK_SLEW_PPM * 1e-6 * dt_s;
        double part =
            fabs(c->slew_left_s) <= most ? c->slew_left_s : copysign(most, c->slew_left_s);
        c->drift_s += part;
        c->slew_left_s -= part;
    }
}

void simclk_advance(struct simclk *c, int64_t t_ns)
{
    apply_leap_if_due(c);
    while (c->t_ns < t_ns) {
        int64_t end = simclk_next_event(c);
        end = end < t_ns ? end : t_ns;
        integrate(c, end - c->t_ns);
        c->t_ns = end;
        apply_leap_if_due(c);
    }
}

static int op_now(void *ctx, struct timespec *out)
{
    struct simclk *c = ctx;
    c->st.now++;
    simclk_real(c, out);
    return 0;
}

static int op_check_privilege(void *ctx)
{
    struct simclk *c = ctx;
    c->st.check_privilege++;
    return 0;
}

int simclk_op_step(void *ctx, double offset_s)
{
    struct simclk *c = ctx;
    if (!isfinite(offset_s)) {
        c->st.einval++;
        return -EINVAL;
    }
    if (c->st.step < SIMCLK_STEPS_MAX) {
        c->steps[c->st.step] = (struct simclk_step){c->t_ns, offset_s};
    }
    c->st.step++;
    c->step_s += offset_s;
    if (fabs(offset_s) > c->st.max_abs_step_s) {
        c->st.max_abs_step_s = fabs(offset_s);
    }
    return 0;
}

/* adjtime(3): a new offset replaces what is left of the previous one. */
int simclk_op_slew(void *ctx, double offset_s)
{
    struct simclk *c = ctx;
    c->st.slew++;
    if (!isfinite(offset_s) || fabs(offset_s) > SIMCLK_ADJTIME_MAX_S) {
        c->st.einval++;
        return -EINVAL;
    }
    c->slew_left_s = offset_s;
    if (fabs(offset_s) > c->st.max_abs_slew_s) {
        c->st.max_abs_slew_s = fabs(offset_s);
    }
    return 0;
}

static int op_read_freq(void *ctx, double *freq)
{
    struct simclk *c = ctx;
    c->st.read_freq++;
    *freq = simclk_corr_ppm(c);
    return 0;
}

/* Splits a frequency as a Linux driver must: the kernel frequency alone up to +-500 ppm,
 * beyond that the tick takes whole 100 ppm steps (rounded, as chrony's sys_linux does) and
 * the kernel frequency the rest, which stays within +-500 ppm. */
int simclk_op_set_freq(void *ctx, double freq_ppm_in)
{
    struct simclk *c = ctx;
    c->st.set_freq++;
    if (!(fabs(freq_ppm_in) <= NTK_CLK_FREQ_MAX_PPM)) {
        c->st.einval++;
        return -EINVAL;
    }
    double delta = 0.0;
    if (fabs(freq_ppm_in) > SIMCLK_KFREQ_MAX_PPM) {
        delta = round(freq_ppm_in / SIMCLK_TICK_PPM);
        delta = fmin(fmax(delta, -SIMCLK_TICK_DELTA_MAX_US), SIMCLK_TICK_DELTA_MAX_US);
    }
    double rest = freq_ppm_in - delta * SIMCLK_TICK_PPM;
    c->tick_delta_us = (int)delta;
    c->kfreq = llround(rest * SIMCLK_KFREQ_SCALE);
    if (fabs(freq_ppm_in) > c->st.max_abs_freq_ppm) {
        c->st.max_abs_freq_ppm = fabs(freq_ppm_in);
    }
    return 0;
}

/* The first local midnight (insert) or 23:59:59 (delete) after now. */
static int64_t leap_instant(const struct simclk *c, int leap)
{
    int64_t real = simclk_real_ns(c);
    int64_t at = (real / SIMCLK_DAY_NS + 1) * SIMCLK_DAY_NS;
    if (leap < 0) {
        at -= 1000000000LL;
        if (at <= real) {
            at += SIMCLK_DAY_NS;
        }
    }
    return at;
}

static int op_set_leap(void *ctx, int leap)
{
    struct simclk *c = ctx;
    c->st.set_leap++;
    if (leap < -1 || leap > 1) {
        c->st.einval++;
        return -EINVAL;
    }
    if (leap == 0) {
        c->leap_wait = false;
    } else if (leap != c->leap && !c->leap_wait) {
        c->leap_at_ns = leap_instant(c, leap);
    }
    c->leap = leap;
    return 0;
}

static int op_set_sync_status(void *ctx, int synced, double maxerror_s, double esterror_s)
{
    struct simclk *c = ctx;
    c->st.sync_status++;
    c->synced = synced != 0;
    c->maxerror_s = maxerror_s;
    c->esterror_s = esterror_s;
    return 0;
}

void simclk_ops(struct simclk *c, struct ntk_clk_ops *ops)
{
    memset(ops, 0, sizeof *ops);
    ops->name = "sim";
    ops->ctx = c;
    ops->now = op_now;
    ops->check_privilege = op_check_privilege;
    ops->step = simclk_op_step;
    ops->slew = simclk_op_slew;
    ops->read_freq = op_read_freq;
    ops->set_freq = simclk_op_set_freq;
    ops->set_leap = op_set_leap;
    ops->set_sync_status = op_set_sync_status;
}
