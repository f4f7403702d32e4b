/* SPDX-License-Identifier: BSD-2-Clause */
/* The clock discipline (disc.h): a Kalman filter on the clock's offset and frequency error,
 * fed from an offset history kept in the clock's current frame, correcting the clock by its
 * frequency and a fast slew through struct ntk_clk_ops.
 *
 * Algorithm, and why
 *  1. Frame. Every correction the discipline makes is known exactly, so every offset kept
 *     is rewritten as if the corrections made since had always been in force: a frequency
 *     change df at t0 adds df * (t0 - t) to an offset measured at t, a slew of P takes P
 *     off (a slew cut short gives back what it did not apply, a late end takes what it
 *     added). The history and the filter's state then describe the clock as it runs now,
 *     and correcting it means subtracting the estimate and starting afresh from zero. This
 *     is chrony's idea (sourcestats samples corrected on every local parameter change)
 *     without a second time scale; disc_since_s offers the same rewrite to the engine.
 *  2. Estimator. The state is (offset θ, its rate b = the residual frequency error) with
 *     covariance P. Between offsets θ runs at b and P grows by a random walk of the
 *     frequency (variance q per second: the wander); an offset of variance r updates it.
 *     This is optimal for exactly the clocks the scenarios model (white measurement
 *     noise, random-walk frequency), and it weighs old against new offsets by q / r, where
 *     a regression (chrony) has to guess a window. ntpd-rs's Kalman filter is the model;
 *     ours is smaller: one state for the combined offset.
 *  3. Start. While the history holds fewer than DISC_KF_INIT_N usable offsets the state is
 *     set from a least-squares line through them all (with the frequency prior as a ridge
 *     term: tight from a drift file, loose otherwise), the worst point dropped when it lies
 *     DISC_BATCH_K robust deviations off. A recursive filter started on the first two
 *     offsets with a guessed r would stay confidently wrong; the line uses every offset
 *     with today's r. The frequency is thus known from the second offset of an iburst.
 *  4. Noise. An offset's variance is r0 + x² / 12, x its delay in excess of the path's
 *     least (the least in the history, plus the doubt about that least): the extra delay,
 *     split at random between the two ways, moves the offset by up to x / 2 (chrony weighs
 *     samples by delay too; the RFC 5905 clock filter keeps only the least-delay one, and
 *     with it most of the information away). So a spike is weighed as little as it
 *     deserves, without a threshold. r0 comes from the history: each offset's distance from
 *     the straight line through its two neighbours varies by r0 (1 + a² + b²) plus the
 *     delay and wander (5.) shares, whatever the phase and frequency (a three-point,
 *     Allan-like estimate). The engine's jitter seeds it.
 *  5. Wander q. Estimated with r (see 4.) from the same history: a point's distance from
 *     the line through two neighbours h1 and h2 away varies by q (a² h1³ + b² h2³) / 3 on
 *     top of the noise, so triplets 1, 2, 4 ... DISC_LAG_MAX points apart tell the two
 *     apart (weighted least squares of the squared distances: the Allan-variance way clock
 *     makers separate white phase noise from random-walk frequency). Taken two standard
 *     errors high and halved at most per update, because a filter told too little wander
 *     turns stiff and lets the clock coast away, while too much costs little.
 *  6. Outliers. An offset beyond DISC_OUTLIER_K standard deviations of its prediction is
 *     held aside, unused (RFC 5905's popcorn spike suppressor, made statistical).
 *     DISC_OUTLIER_RUN in a row mean the clock or the path changed: the history restarts
 *     from them, the filter forgets the offset, the poll shortens.
 *  7. Correction. b goes to the frequency at once (clamped to the kernel's ±500 ppm; the
 *     rest stays in the state and is found again); θ is slewed away at up to
 *     DISC_MAX_SLEW_PPM (chrony's maxslewrate: the tick takes what the kernel frequency
 *     cannot), taking at least DISC_SLEW_MIN_S so that timer latency costs little. Unlike
 *     RFC 5905's PLL/FLL (§A.5.5) there is no loop time constant: after an update the
 *     clock's error is the estimator's, not a fraction of the last offset. A slew is
 *     booked on the monotonic clock, which Linux slews too; what it may have missed
 *     (DISC_SLEW_DOUBT of it) is added to the next offset's variance, and the first
 *     frequency estimate waits for three offsets, so that a slew gone slightly wrong is
 *     not taken for a frequency error.
 *  8. Poll. Longer while the offsets are no surprise to the model and the frequency is
 *     known as well as the noise and the wander allow over the doubled poll; shorter when
 *     offsets surprise it (RFC 5905 §A.5.5.1 poll_update's role; NTPsec's PGATE test made
 *     statistical). A settled clock thus polls at maxpoll, within the 160-packets-a-day
 *     budget; the estimator, not the poll, follows the wander.
 *  9. Thresholds as NTPsec: step beyond step_s at once during the first
 *     DISC_STARTUP_UPDATES updates, afterwards only once offsets beyond it have lasted
 *     stepout_s (RFC 5905 §A.5.5.1 SPIK state); panic beyond panic_s except the first
 *     update with -g; -q corrects once (a step, or the kernel's own slew, which outlives
 *     the process); observe computes everything and never calls the clock.
 */
#include "disc.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "poison.h"

#define NS_PER_S 1000000000.0

/* The step threshold used during start-up when step_s is 0 (NTPsec's default). */
#define DISC_STEP_DEFAULT_S 0.128

/* A slew never takes less than this (so timer latency adds little). */
#define DISC_SLEW_MIN_S 0.1

/* Outlier gate, in standard deviations of the prediction, and the run that means a change;
 * the gate of the start-up fit, in robust deviations of its residuals. */
#define DISC_OUTLIER_K   5.0
#define DISC_OUTLIER_RUN 3
#define DISC_BATCH_K     4.0

/* Usable points below which the state is set from a least-squares line (see 3.), and
 * below which that line's slope is not used yet. */
#define DISC_KF_INIT_N       6
#define DISC_FREQ_MIN_POINTS 3

/* The share of a slew's phase that may not have been applied as booked (the tick changes at
 * the next tick, the timer runs late): it adds to the variance of the next offset. */
#define DISC_SLEW_DOUBT 0.1

/* Prior standard deviation of the frequency, ppm: from a drift file, and unknown. */
#define DISC_PRIOR_KNOWN_PPM   1.0
#define DISC_PRIOR_UNKNOWN_PPM 10000.0

/* Poll: the score for a change (good +1, bad -1), and the thresholds of 8. */
#define DISC_POLL_UP   2
#define DISC_POLL_DOWN (-2)
#define DISC_NIS_GOOD  4.0
#define DISC_NIS_BAD   16.0
#define DISC_FREQ_VAR  9.0

/* The filter: the offset variance when nothing is known (s²); q (s²/s³) as a prior and
 * its bounds (wander 1e-9, 1e-11 and 1e-6 per sqrt(s)). */
#define DISC_KF_PHASE_VAR 1.0
#define DISC_Q_INIT       1e-19
#define DISC_Q_MIN        1e-22
#define DISC_Q_MAX        1e-12

/* Triplets for the noise and q: points 1, 2, 4 ... DISC_LAG_MAX apart; the weight of the
 * previous r0 (in triplets); the share of the excess delay squared in an offset's variance
 * (1/12: the excess split uniformly between the two ways, as exponential delays the same
 * each way do; a one-sided spike has 1/4, and is weighed little enough anyway). */
#define DISC_LAG_MAX       16
#define DISC_NOISE_PRIOR_N 2.0
#define DISC_KAPPA         (1.0 / 12)

/* A straight line through the history, at time t_ref. */
struct fit {
    double a_s;    /* the line at t_ref, s */
    double b;      /* its slope, s/s */
    double var_a;  /* variance of a_s, s² */
    double var_b;  /* variance of b, (s/s)² */
    double cov_ab; /* their covariance, s²/s */
};

/* ---- small helpers ---- */

static double ns_to_s(int64_t ns)
{
    return (double)ns / NS_PER_S;
}

static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

static double noise_floor_s(const struct disc *d)
{
    double p = ldexp(1.0, d->cfg.precision_log2);
    return p > 1e-9 ? p : 1e-9;
}

static double prior_freq(const struct disc *d)
{
    return (d->cfg.have_freq ? DISC_PRIOR_KNOWN_PPM : DISC_PRIOR_UNKNOWN_PPM) * 1e-6;
}

static bool slewing(const struct disc *d)
{
    return d->slew_end_mono_ns != INT64_MAX;
}

static int8_t clamp_poll(const struct disc *d, int p)
{
    int lo = d->poll_lo_log2, hi = d->poll_hi_log2;
    if (hi < lo) {
        hi = lo;
    }
    return (int8_t)(p < lo ? lo : (p > hi ? hi : p));
}

/* ---- the history ---- */

/* A correction made at t moves the frame: every point's offset by c_s plus per_s per second
 * of its age, and the filter's state alike (its slope by -per_s). */
static void shift_frame(struct disc *d, int64_t t, double c_s, double per_s)
{
    for (int i = 0; i < d->nsamples; i++) {
        double age = ns_to_s(t - d->hist[i].t_mono_ns);
        d->hist[i].offset_s += c_s + per_s * (age > 0 ? age : 0.0);
    }
    d->kf.theta_s += c_s + per_s * ns_to_s(t - d->kf.t_mono_ns);
    d->kf.b -= per_s;
}

/* Drops the first k points. */
static void drop_oldest(struct disc *d, int k)
{
    if (k <= 0) {
        return;
    }
    if (k > d->nsamples) {
        k = d->nsamples;
    }
    memmove(d->hist, d->hist + k, (size_t)(d->nsamples - k) * sizeof d->hist[0]);
    d->nsamples -= k;
}

/* Adds a point in time order (an older filter sample may come after a newer one was
 * used), dropping the oldest when full. */
static void push_point(struct disc *d, int64_t t, double y, double delay, bool outlier)
{
    if (d->nsamples == DISC_HIST_MAX) {
        drop_oldest(d, 1);
    }
    int i = d->nsamples++;
    for (; i > 0 && d->hist[i - 1].t_mono_ns > t; i--) {
        d->hist[i] = d->hist[i - 1];
    }
    double doubt = DISC_SLEW_DOUBT * d->slewed_s;
    d->hist[i] = (struct disc_point){t, y, delay, doubt * doubt, outlier};
    d->slewed_s = 0;
}

static int usable_points(const struct disc *d)
{
    int n = 0;
    for (int i = 0; i < d->nsamples; i++) {
        n += d->hist[i].outlier ? 0 : 1;
    }
    return n;
}

/* Remembers a correction for disc_since_s. */
static void log_corr(struct disc *d, int64_t start, int64_t end, double rate, double dfreq)
{
    d->corr_head = (d->corr_head + 1) % DISC_CORR_MAX;
    d->corr[d->corr_head] = (struct disc_corr){start, end, rate, dfreq};
    if (d->ncorr < DISC_CORR_MAX) {
        d->ncorr++;
    }
}

/* A point's excess delay over the least in the history (0: unknown). */
static double excess(const struct disc *d, const struct disc_point *p)
{
    double x = p->delay_s > 0 && d->min_delay_s > 0 ? p->delay_s - d->min_delay_s : 0.0;
    return x > 0 ? x : 0.0;
}

/* A point's excess delay over the path's true least, squared: the excess over the least
 * seen plus the estimate of how far that least is above the true one (0: unknown). */
static double excess2(const struct disc *d, const struct disc_point *p)
{
    if (p->delay_s <= 0 || d->min_delay_s <= 0) {
        return 0.0;
    }
    double x = excess(d, p) + d->base_excess_s;
    return x * x;
}

/* The measurement variance of point p (see 4.): r0 + (excess delay)² / 12, plus the doubt
 * about the slews made just before it (see 7.). */
static double point_var(const struct disc *d, const struct disc_point *p)
{
    return d->kf.r + DISC_KAPPA * excess2(d, p) + p->doubt_s2;
}

/* ---- the start-up line ---- */

/* Weighted least squares through the usable points (weights 1 / their variance), the
 * slope with a ridge term from the frequency prior. */
static void fit_line(const struct disc *d, int64_t t_ref, struct fit *f)
{
    double sw = 0, xm = 0, ym = 0, sxx = 0, sxy = 0;
    for (int i = 0; i < d->nsamples; i++) {
        if (!d->hist[i].outlier) {
            double w = 1.0 / point_var(d, &d->hist[i]);
            sw += w;
            xm += w * ns_to_s(d->hist[i].t_mono_ns - t_ref);
            ym += w * d->hist[i].offset_s;
        }
    }
    xm = sw > 0 ? xm / sw : 0.0;
    ym = sw > 0 ? ym / sw : 0.0;
    for (int i = 0; i < d->nsamples; i++) {
        if (!d->hist[i].outlier) {
            double w = 1.0 / point_var(d, &d->hist[i]);
            double x = ns_to_s(d->hist[i].t_mono_ns - t_ref) - xm;
            sxx += w * x * x;
            sxy += w * x * (d->hist[i].offset_s - ym);
        }
    }
    double pf = prior_freq(d);
    double den = sxx + 1.0 / (pf * pf);
    f->b = sxy / den;
    f->a_s = ym - f->b * xm;
    f->var_b = 1.0 / den;
    f->var_a = sw > 0 ? 1.0 / sw + xm * xm * f->var_b : DISC_KF_PHASE_VAR;
    f->cov_ab = -xm * f->var_b;
}

/* The residual of point i from the line f (fitted at t_ref). */
static double residual(const struct disc *d, int i, const struct fit *f, int64_t t_ref)
{
    return d->hist[i].offset_s - (f->a_s + f->b * ns_to_s(d->hist[i].t_mono_ns - t_ref));
}

/* The median of v[0..n) (sorts v). */
static double median(double *v, int n)
{
    for (int i = 1; i < n; i++) {
        double x = v[i];
        int j = i;
        for (; j > 0 && v[j - 1] > x; j--) {
            v[j] = v[j - 1];
        }
        v[j] = x;
    }
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Marks the point farthest from line f as an outlier when it lies beyond DISC_BATCH_K
 * robust deviations (1.4826 median absolute residuals). Returns whether it did. */
static bool drop_worst(struct disc *d, const struct fit *f, int64_t t_ref)
{
    double res[DISC_HIST_MAX];
    int n = 0, worst = -1;
    double worst_abs = 0;
    for (int i = 0; i < d->nsamples; i++) {
        if (!d->hist[i].outlier) {
            res[n] = fabs(residual(d, i, f, t_ref));
            worst = res[n] > worst_abs ? i : worst;
            worst_abs = res[n] > worst_abs ? res[n] : worst_abs;
            n++;
        }
    }
    if (n < 4) {
        return false;
    }
    double sd = 1.4826 * median(res, n);
    sd = sd > noise_floor_s(d) ? sd : noise_floor_s(d);
    if (worst_abs <= DISC_BATCH_K * sd) {
        return false;
    }
    d->hist[worst].outlier = true;
    return true;
}

/* ---- the noise and the wander ---- */

/* Normal equations of the fit E[dist²] - kappa e = r0 c + q g over triplets. */
struct noise_sums {
    double scc, scg, sgg, scd, sgd;
};

/* Adds the triplet o, m, n (oldest first): m's distance dist from the line through o and n
 * (weights a at o, b at n) has E[dist²] = r0 c + kappa e + q g, where c = 1 + a² + b²,
 * e = x_m² + a² x_o² + b² x_n² (x the excess delays) and g = (a² h1³ + b² h2³) / 3 (h1, h2
 * the gaps; the share of a random-walk frequency). Weighted by the inverse variance of
 * dist², 1 / (2 E²), E from the previous estimates. */
static void add_triplet(const struct disc *d, const struct disc_point *o,
                        const struct disc_point *m, const struct disc_point *n,
                        struct noise_sums *s)
{
    double h1 = ns_to_s(m->t_mono_ns - o->t_mono_ns),
           h2 = ns_to_s(n->t_mono_ns - m->t_mono_ns);
    if (h1 <= 0 || h2 <= 0) {
        return;
    }
    double a = h2 / (h1 + h2), b = h1 / (h1 + h2);
    double dist = m->offset_s - (a * o->offset_s + b * n->offset_s);
    double c = 1 + a * a + b * b, g = (a * a * h1 * h1 * h1 + b * b * h2 * h2 * h2) / 3;
    double e = DISC_KAPPA * (excess2(d, m) + a * a * excess2(d, o) + b * b * excess2(d, n));
    double ex = d->kf.r * c + e + d->kf.q * g;
    double w = 1.0 / (2 * ex * ex), y = dist * dist - e;
    s->scc += w * c * c;
    s->scg += w * c * g;
    s->sgg += w * g * g;
    s->scd += w * c * y;
    s->sgd += w * g * y;
}

/* The least delay among the usable points (0: none known). */
static double least_delay(const struct disc *d)
{
    double m = 0;
    for (int i = 0; i < d->nsamples; i++) {
        double x = d->hist[i].delay_s;
        if (!d->hist[i].outlier && x > 0 && (m == 0 || x < m)) {
            m = x;
        }
    }
    return m;
}

/* How far the least delay seen is above the path's true least: it is only the least of n
 * samples, above the true one by about the median excess over sqrt(n) (exponential
 * delays). A least-delay offset is not exact either: its variance has this share. */
static double base_excess(const struct disc *d, const int *u, int m)
{
    double ex[DISC_HIST_MAX];
    int n = 0;
    for (int i = 0; i < m; i++) {
        if (d->hist[u[i]].delay_s > 0) {
            ex[n++] = excess(d, &d->hist[u[i]]);
        }
    }
    return n > 0 ? median(ex, n) / sqrt((double)n) : 0.0;
}

/* Estimates the noise r0 and the wander q together from the history (see 4. and 5.):
 * triplets of usable points 1, 2, 4 ... DISC_LAG_MAX apart, so that short gaps show the
 * noise and long ones the wander; weak priors (the previous r0, the default q) give an
 * answer from a short history too. */
static void estimate_noise(struct disc *d)
{
    int u[DISC_HIST_MAX], m = 0;
    for (int i = 0; i < d->nsamples; i++) {
        if (!d->hist[i].outlier) {
            u[m++] = i;
        }
    }
    d->min_delay_s = least_delay(d);
    d->base_excess_s = base_excess(d, u, m);
    struct noise_sums s = {0};
    for (int lag = 1; lag <= DISC_LAG_MAX; lag *= 2) {
        for (int i = 0; i + 2 * lag < m; i++) {
            add_triplet(d, &d->hist[u[i]], &d->hist[u[i + lag]], &d->hist[u[i + 2 * lag]], &s);
        }
    }
    double pr = DISC_NOISE_PRIOR_N / (2 * d->kf.r * d->kf.r),
           pq = 1.0 / (DISC_Q_INIT * DISC_Q_INIT);
    s.scc += pr;
    s.scd += pr * d->kf.r;
    s.sgg += pq;
    s.sgd += pq * DISC_Q_INIT;
    double det = s.scc * s.sgg - s.scg * s.scg;
    /* Two standard errors up, and never below half the previous value: a wander taken too
     * low makes the filter too stiff and the clock coasts away (ten times too low doubles
     * the error), while too high only costs a little noise (ten times: +20 %). */
    double q = (s.scc * s.sgd - s.scg * s.scd) / det + 2 * sqrt(s.scc / det);
    q = clamp(q > d->kf.q / 2 ? q : d->kf.q / 2, DISC_Q_MIN, DISC_Q_MAX);
    double r = (s.scd - q * s.scg) / s.scc, fl = noise_floor_s(d);
    d->kf.q = q;
    d->kf.r = r > fl * fl ? r : fl * fl;
    double sum = 0;
    for (int i = 0; i < m; i++) {
        sum += point_var(d, &d->hist[u[i]]);
    }
    d->noise_var = m > 0 ? sum / m : d->kf.r;
    d->jitter_s = sqrt(d->noise_var);
}

/* ---- the Kalman filter on (offset, residual frequency) ---- */

/* Moves the state from its time to now: the offset runs at the residual frequency, and the
 * uncertainty grows by the frequency's random walk. */
static void kf_predict(struct disc *d, int64_t now)
{
    double dt = ns_to_s(now - d->kf.t_mono_ns);
    if (dt <= 0) {
        return;
    }
    double q = d->kf.q;
    d->kf.theta_s += d->kf.b * dt;
    d->kf.ptt += 2 * dt * d->kf.ptb + dt * dt * d->kf.pbb + q * dt * dt * dt / 3;
    d->kf.ptb += dt * d->kf.pbb + q * dt * dt / 2;
    d->kf.pbb += q * dt;
    d->kf.t_mono_ns = now;
}

/* The measurement of an offset taken h seconds (<= 0) before the state's time predicts
 * theta + h b; its innovation variance with noise r. */
static double kf_innov_var(const struct disc *d, double h, double r)
{
    return d->kf.ptt + 2 * h * d->kf.ptb + h * h * d->kf.pbb + r;
}

/* Takes offset y (variance r), measured h seconds before the state's time, into it. */
static void kf_update(struct disc *d, double y, double h, double r)
{
    double nu = y - (d->kf.theta_s + h * d->kf.b);
    double s = kf_innov_var(d, h, r);
    double u = d->kf.ptt + h * d->kf.ptb, v = d->kf.ptb + h * d->kf.pbb; /* P H' */
    d->kf.theta_s += u / s * nu;
    d->kf.b += v / s * nu;
    d->kf.ptt -= u * u / s;
    d->kf.ptb -= u * v / s;
    d->kf.pbb -= v * v / s;
    /* Keep P a covariance whatever the rounding (the variances span 20 decades). */
    d->kf.ptt = d->kf.ptt > 0 ? d->kf.ptt : 0.0;
    d->kf.pbb = d->kf.pbb > 0 ? d->kf.pbb : 0.0;
    double lim = sqrt(d->kf.ptt * d->kf.pbb);
    d->kf.ptb = clamp(d->kf.ptb, -lim, lim);
}

/* Sets the state from the line through the history (see 3.), dropping a far point first. */
static void kf_from_history(struct disc *d, int64_t now)
{
    struct fit f;
    fit_line(d, now, &f);
    if (drop_worst(d, &f, now)) {
        fit_line(d, now, &f);
    }
    d->kf.t_mono_ns = now;
    d->kf.theta_s = f.a_s;
    d->kf.ptt = f.var_a;
    if (usable_points(d) < DISC_FREQ_MIN_POINTS) {
        /* Two offsets cannot tell a frequency error from a slew that did not do exactly
         * what it was booked for (a tick that changed late): wait for a third. */
        d->kf.theta_s = d->nsamples > 0 ? d->hist[d->nsamples - 1].offset_s : 0.0;
        d->kf.b = 0;
        d->kf.ptb = 0;
        d->kf.pbb = prior_freq(d) * prior_freq(d);
        return;
    }
    d->kf.b = f.b;
    d->kf.ptb = f.cov_ab;
    d->kf.pbb = f.var_b;
}

/* ---- clock calls ---- */

static int set_freq(struct disc *d, double total_ppm)
{
    if (d->clk == NULL || d->clk->set_freq == NULL) {
        return -ENOSYS;
    }
    return d->clk->set_freq(d->clk->ctx, total_ppm);
}

static enum disc_verdict fail(struct disc *d, int rc)
{
    d->last_error = rc;
    return DISC_ERROR;
}

/* The phase a slew at rate_ppm moves per second of CLOCK_MONOTONIC. That clock is
 * disciplined too (Linux runs it at the corrected frequency), so one of its seconds lasts
 * 1 / (1 + r) true seconds, in which the phase moves r / (1 + r). The base frequency's own
 * share of this (ppm of ppm) is neglected. */
static double slew_phase_per_s(double rate_ppm)
{
    double r = rate_ppm * 1e-6;
    return r / (1.0 + r);
}

/* Books the slew in progress as ended at now: the frame was moved by the whole planned
 * amount when it started; give back what was not applied (or take what a late end added).
 * The clock still runs at base + rate until the caller sets the frequency. */
static void book_slew_end(struct disc *d, int64_t now)
{
    if (!slewing(d)) {
        return;
    }
    double applied = slew_phase_per_s(d->slew_rate_ppm) * ns_to_s(now - d->slew_start_mono_ns);
    shift_frame(d, now, d->slew_amount_s - applied, 0.0);
    d->corr[d->slew_corr].end_mono_ns = now;
    d->slew_end_mono_ns = INT64_MAX;
    d->slew_rate_ppm = 0;
}

/* Plans a slew of p_s: its rate (ppm: DISC_MAX_SLEW_PPM, or slower to take at least
 * DISC_SLEW_MIN_S) and its duration on the monotonic clock (ns). */
static double plan_slew(double p_s, int64_t *dur_ns)
{
    double t = fabs(p_s) / (DISC_MAX_SLEW_PPM * 1e-6);
    t = t > DISC_SLEW_MIN_S ? t : DISC_SLEW_MIN_S;
    double rate = p_s / t * 1e6;
    *dur_ns = (int64_t)ceil(p_s / slew_phase_per_s(rate) * NS_PER_S);
    return rate;
}

/* Makes the clock run at new_base plus a slew of p_s starting now, in one clock call, and
 * moves the frame accordingly. Any slew in progress must have been booked. */
static int correct(struct disc *d, int64_t now, double new_base, double p_s)
{
    int64_t dur = 0;
    double rate = fabs(p_s) > 1e-12 ? plan_slew(p_s, &dur) : 0.0;
    int rc = set_freq(d, new_base + rate);
    if (rc != 0) {
        d->slew_rate_ppm = 0; /* the clock's rate is unknown: the next call resets it */
        return rc;
    }
    double dfreq = new_base - d->base_freq_ppm;
    if (dfreq != 0) {
        shift_frame(d, now, 0.0, dfreq * 1e-6);
        log_corr(d, now, now, 0.0, dfreq);
    }
    d->base_freq_ppm = new_base;
    d->slew_rate_ppm = rate;
    if (rate != 0) {
        d->slew_start_mono_ns = now;
        d->slew_end_mono_ns = now + dur;
        d->slew_amount_s = slew_phase_per_s(rate) * ns_to_s(dur);
        d->slewed_s += fabs(d->slew_amount_s);
        shift_frame(d, now, -d->slew_amount_s, 0.0);
        log_corr(d, now, now + dur, slew_phase_per_s(rate) * 1e6, 0.0);
        d->slew_corr = d->corr_head;
    }
    return 0;
}

/* Steps the clock by step_s (any slew in progress ends first). */
static int step_clock(struct disc *d, int64_t now, double step_s)
{
    if (d->cfg.observe) {
        return 0;
    }
    int rc = 0;
    if (slewing(d)) {
        book_slew_end(d, now);
        rc = correct(d, now, d->base_freq_ppm, 0.0);
    }
    if (rc == 0) {
        rc = d->clk->step == NULL ? -ENOSYS : d->clk->step(d->clk->ctx, step_s);
    }
    if (rc == 0) {
        shift_frame(d, now, -step_s, 0.0);
        d->last_step_s = step_s;
    }
    return rc;
}

/* ---- start ---- */

int disc_init(struct disc *d, const struct disc_cfg *cfg, const struct ntk_clk_ops *clk,
              int64_t now_mono_ns)
{
    memset(d, 0, sizeof *d);
    d->cfg = *cfg;
    d->clk = clk;
    d->slew_end_mono_ns = INT64_MAX;
    d->poll_lo_log2 = cfg->minpoll_log2;
    d->poll_hi_log2 = cfg->maxpoll_log2;
    d->poll_log2 = clamp_poll(d, cfg->minpoll_log2);
    d->jitter_s = noise_floor_s(d);
    d->last_update_mono_ns = now_mono_ns;
    d->kf = (struct disc_kf){.t_mono_ns = now_mono_ns,
                             .ptt = DISC_KF_PHASE_VAR,
                             .pbb = prior_freq(d) * prior_freq(d),
                             .q = DISC_Q_INIT,
                             .r = d->jitter_s * d->jitter_s};
    if (cfg->have_freq) {
        d->base_freq_ppm = clamp(cfg->initial_freq_ppm, -DISC_MAX_FREQ_PPM, DISC_MAX_FREQ_PPM);
    }
    if (cfg->observe) {
        return 0;
    }
    if (!cfg->have_freq) {
        double f = 0;
        int rc =
            clk == NULL || clk->read_freq == NULL ? -ENOSYS : clk->read_freq(clk->ctx, &f);
        if (rc != 0) {
            return d->last_error = rc;
        }
        d->base_freq_ppm = clamp(f, -DISC_MAX_FREQ_PPM, DISC_MAX_FREQ_PPM);
    }
    /* Always set it: a slew left in the tick by a previous run ends here. */
    int rc = set_freq(d, d->base_freq_ppm);
    return rc != 0 ? (d->last_error = rc) : 0;
}

/* ---- the poll ---- */

/* See 8.: an update is good when its offset was no surprise (normalised innovation below
 * DISC_NIS_GOOD) and the frequency is known well enough that its uncertainty over twice
 * the gap between updates (at least two polls: the clock filter may offer fewer samples
 * than polls) stays within DISC_FREQ_VAR average measurement variances: the clock can then
 * coast twice as long. It is bad when the offset was a surprise (beyond DISC_NIS_BAD). */
static void score_poll(struct disc *d, int64_t now, double nis)
{
    double gap = ns_to_s(now - d->last_update_mono_ns), tau = ldexp(1.0, d->poll_log2);
    double t2 = 2 * (gap > tau ? gap : tau);
    bool good = nis < DISC_NIS_GOOD && d->kf.pbb * t2 * t2 <= DISC_FREQ_VAR * d->noise_var;
    bool bad = nis > DISC_NIS_BAD;
    d->poll_score += good ? 1 : (bad ? -1 : 0);
    if (d->poll_score >= DISC_POLL_UP) {
        d->poll_log2 = clamp_poll(d, d->poll_log2 + 1);
        d->poll_score = 0;
    } else if (d->poll_score <= DISC_POLL_DOWN) {
        d->poll_log2 = clamp_poll(d, d->poll_log2 - 1);
        d->poll_score = 0;
    }
}

/* ---- the update ---- */

/* A run of outliers: the clock or the path changed. Keep only the run (the state is set
 * from it afresh) and listen more often. */
static void restart_from_outliers(struct disc *d)
{
    int k = 0;
    while (k < d->nsamples && d->hist[k].t_mono_ns < d->run_start_mono_ns) {
        k++;
    }
    drop_oldest(d, k);
    for (int i = 0; i < d->nsamples; i++) {
        d->hist[i].outlier = false;
    }
    d->outliers_in_row = 0;
    d->poll_score = 0;
    d->poll_log2 = clamp_poll(d, d->poll_log2 - 2);
    d->kf_running = false;
}

/* The wander (clk_wander): the RMS of the frequency changes, averaged as NTPsec's
 * clock_stability (a quarter of the new change's square per update). */
static void note_wander(struct disc *d, double dfreq_ppm)
{
    d->wander_ppm = sqrt((3.0 * d->wander_ppm * d->wander_ppm + dfreq_ppm * dfreq_ppm) / 4.0);
}

/* Corrects the clock from the state: the residual frequency into the base (clamped), the
 * offset slewed away. In observe mode only the report moves. */
static int apply_state(struct disc *d, int64_t now)
{
    double freq_before = disc_freq_ppm(d);
    d->fit_offset_s = d->kf.theta_s;
    d->fit_freq_ppm = d->kf.b * 1e6;
    if (d->cfg.observe) {
        /* The frequency reported moves as it would be set: so does the wander. */
        note_wander(d, disc_freq_ppm(d) - freq_before);
        return 0;
    }
    double new_base =
        clamp(d->base_freq_ppm + d->kf.b * 1e6, -DISC_MAX_FREQ_PPM, DISC_MAX_FREQ_PPM);
    double dfreq = new_base - d->base_freq_ppm;
    int rc = correct(d, now, new_base, d->kf.theta_s);
    if (rc == 0) {
        note_wander(d, dfreq);
    }
    return rc;
}

/* What the slew in progress has still to apply at now (0 when none). */
static double slew_left_s(const struct disc *d, int64_t now)
{
    if (!slewing(d)) {
        return 0.0;
    }
    return d->slew_amount_s -
           slew_phase_per_s(d->slew_rate_ppm) * ns_to_s(now - d->slew_start_mono_ns);
}

/* Gates sample x (its variance var) against the filter's prediction; returns its
 * normalised innovation, whether it is an outlier in *out, and in *h its age (<= 0) at the
 * state's new time. The state is moved to that time only if the sample is used. The gate
 * takes at least the history's average variance: a sample more precise than most must
 * still be far off to be refused, or an overconfident filter could refuse exactly the
 * samples that would correct it. */
static double gate(struct disc *d, const struct disc_sample *x, double var, bool *out,
                   double *h)
{
    struct disc_kf k = d->kf;
    int64_t tu = x->t_mono_ns > d->kf.t_mono_ns ? x->t_mono_ns : d->kf.t_mono_ns;
    kf_predict(d, tu);
    *h = ns_to_s(x->t_mono_ns - tu);
    double nu = x->offset_s - (d->kf.theta_s + *h * d->kf.b);
    double nis = nu * nu / kf_innov_var(d, *h, var);
    double wide = nu * nu / kf_innov_var(d, *h, var > d->noise_var ? var : d->noise_var);
    *out = d->kf_running && wide > DISC_OUTLIER_K * DISC_OUTLIER_K;
    if (*out && d->outliers_in_row == 0) {
        d->run_start_mono_ns = x->t_mono_ns;
    }
    d->outliers_in_row = *out ? d->outliers_in_row + 1 : 0;
    if (*out && d->outliers_in_row < DISC_OUTLIER_RUN) {
        d->kf = k;
    }
    return nis;
}

/* Takes sample x (its offset in the frame: as if every slew had ended) into the history
 * and the filter, and corrects the clock. An outlier held aside leaves the slew in
 * progress running. */
static enum disc_verdict accept(struct disc *d, int64_t now, const struct disc_sample *x)
{
    bool outlier;
    double h;
    struct disc_point p = {x->t_mono_ns, x->offset_s, x->delay_s, 0.0, false};
    double nis = gate(d, x, point_var(d, &p), &outlier, &h);
    push_point(d, x->t_mono_ns, x->offset_s, x->delay_s, outlier);
    if (outlier && d->outliers_in_row < DISC_OUTLIER_RUN) {
        return DISC_SPIKE;
    }
    if (outlier) {
        restart_from_outliers(d);
    }
    double left = slew_left_s(d, now);
    book_slew_end(d, now); /* the frame moves by left: the offset with it */
    estimate_noise(d);
    if (d->kf_running) {
        kf_update(d, x->offset_s + left, h, point_var(d, &p));
        kf_predict(d, now);
        score_poll(d, now, nis);
    } else {
        kf_from_history(d, now);
        d->kf_running = usable_points(d) >= DISC_KF_INIT_N;
    }
    int rc = apply_state(d, now);
    if (rc != 0) {
        return fail(d, rc);
    }
    d->updates++;
    d->last_update_mono_ns = now;
    return DISC_SLEWED;
}

/* ---- thresholds ---- */

/* The step threshold now: step_s, or during start-up the default when step_s is 0; after
 * start-up step_s 0 means never. */
static double step_threshold(const struct disc *d)
{
    if (d->cfg.step_s > 0) {
        return d->cfg.step_s;
    }
    return d->updates < DISC_STARTUP_UPDATES ? DISC_STEP_DEFAULT_S : (double)INFINITY;
}

bool disc_panics(const struct disc *d, double offset_s)
{
    bool allowed = d->cfg.panic_once && d->updates == 0;
    return d->cfg.panic_s > 0 && fabs(offset_s) > d->cfg.panic_s && !allowed;
}

/* Restarts the history at one point (after a step, or its observe-mode stand-in). */
static void restart_at(struct disc *d, const struct disc_sample *x, double y_s)
{
    d->nsamples = 0;
    d->outliers_in_row = 0;
    d->poll_score = 0;
    d->poll_log2 = clamp_poll(d, d->poll_lo_log2);
    d->kf_running = false;
    push_point(d, x->t_mono_ns, y_s, x->delay_s, false);
}

/* Steps by x's offset plus what the slew in progress has left. During start-up the
 * history is kept (shifted by the step); after a stepout it restarts. In observe mode
 * nothing is stepped: the history restarts at the offset and the update counts as a
 * slew. */
static enum disc_verdict step_update(struct disc *d, int64_t now, const struct disc_sample *x)
{
    bool startup = d->updates < DISC_STARTUP_UPDATES;
    d->spiking = false;
    d->updates++;
    d->last_update_mono_ns = now;
    if (d->cfg.observe) {
        restart_at(d, x, x->offset_s);
        kf_from_history(d, now);
        return DISC_SLEWED;
    }
    int rc = step_clock(d, now, x->offset_s + slew_left_s(d, now));
    if (rc != 0) {
        d->updates--;
        return fail(d, rc);
    }
    if (startup) {
        push_point(d, x->t_mono_ns, 0.0, x->delay_s, false);
    } else {
        restart_at(d, x, 0.0);
    }
    kf_from_history(d, now);
    return DISC_STEPPED;
}

/* An offset beyond the step threshold: stepped at once during start-up, else held as a
 * spike until offsets beyond it have lasted stepout_s (RFC 5905 §A.5.5.1). */
static enum disc_verdict big_offset(struct disc *d, int64_t now, const struct disc_sample *x)
{
    if (d->updates < DISC_STARTUP_UPDATES) {
        return step_update(d, now, x);
    }
    if (!d->spiking) {
        d->spiking = true;
        d->spike_since_mono_ns = now;
    }
    if (ns_to_s(now - d->spike_since_mono_ns) < d->cfg.stepout_s) {
        return DISC_SPIKE;
    }
    return step_update(d, now, x);
}

/* -q: one correction, a step beyond the threshold, else the kernel's own slew (it goes on
 * after the process exits; without one, a step). */
static enum disc_verdict once_update(struct disc *d, int64_t now, double offset_s)
{
    d->done = true;
    d->updates++;
    if (d->cfg.observe) {
        return DISC_DONE;
    }
    int rc;
    if (fabs(offset_s) > step_threshold(d) || d->cfg.force_step_once || d->clk->slew == NULL) {
        rc = step_clock(d, now, offset_s);
    } else {
        rc = d->clk->slew(d->clk->ctx, offset_s);
    }
    return rc != 0 ? fail(d, rc) : DISC_DONE;
}

enum disc_verdict disc_feed(struct disc *d, int64_t now_mono_ns, const struct disc_sample *s)
{
    if (d->done) {
        return DISC_DONE;
    }
    if (!isfinite(s->offset_s) || !isfinite(s->delay_s)) {
        return DISC_SPIKE;
    }
    if (d->nsamples == 0 && isfinite(s->jitter_s) && s->jitter_s > d->jitter_s) {
        d->jitter_s = s->jitter_s; /* the first noise estimate, until the history has one */
        d->kf.r = s->jitter_s * s->jitter_s;
    }
    if (disc_panics(d, s->offset_s)) {
        return DISC_PANIC;
    }
    d->last_offset_s = s->offset_s;
    if (d->cfg.once) {
        return once_update(d, now_mono_ns, s->offset_s);
    }
    struct disc_sample x = *s;
    x.t_mono_ns = s->t_mono_ns < now_mono_ns ? s->t_mono_ns : now_mono_ns;
    x.delay_s = s->delay_s > 0 ? s->delay_s : 0.0;
    if (d->cfg.force_step_once && d->updates == 0) {
        return step_update(d, now_mono_ns, &x); /* -G */
    }
    if (fabs(x.offset_s) <= step_threshold(d)) {
        d->spiking = false;
        return accept(d, now_mono_ns, &x);
    }
    return big_offset(d, now_mono_ns, &x);
}

enum disc_verdict disc_update(struct disc *d, int64_t now_mono_ns, double offset_s,
                              double jitter_s, double root_dist_s)
{
    struct disc_sample x = {.t_mono_ns = now_mono_ns,
                            .offset_s = offset_s,
                            .jitter_s = jitter_s,
                            .root_dist_s = root_dist_s};
    return disc_feed(d, now_mono_ns, &x);
}

/* ---- timer and reports ---- */

void disc_on_timer(struct disc *d, int64_t now_mono_ns)
{
    if (!slewing(d) || now_mono_ns < d->slew_end_mono_ns) {
        return;
    }
    book_slew_end(d, now_mono_ns);
    int rc = set_freq(d, d->base_freq_ppm);
    if (rc != 0) {
        d->last_error = rc;
    }
}

int64_t disc_next_deadline(const struct disc *d)
{
    return d->slew_end_mono_ns;
}

int8_t disc_poll_log2(const struct disc *d)
{
    return clamp_poll(d, d->poll_log2);
}

void disc_poll_range(struct disc *d, int8_t lo, int8_t hi)
{
    int8_t cmin = d->cfg.minpoll_log2, cmax = d->cfg.maxpoll_log2;
    d->poll_lo_log2 = lo < cmin ? cmin : (lo > cmax ? cmax : lo);
    d->poll_hi_log2 = hi > cmax ? cmax : (hi < d->poll_lo_log2 ? d->poll_lo_log2 : hi);
    d->poll_log2 = clamp_poll(d, d->poll_log2);
}

double disc_freq_ppm(const struct disc *d)
{
    return d->cfg.observe ? d->base_freq_ppm + d->fit_freq_ppm : d->base_freq_ppm;
}

double disc_last_step_s(const struct disc *d)
{
    return d->last_step_s;
}

int disc_last_error(const struct disc *d)
{
    return d->last_error;
}

double disc_offset_now_s(const struct disc *d, int64_t now_mono_ns)
{
    if (d->cfg.observe) {
        return d->fit_offset_s +
               d->fit_freq_ppm * 1e-6 * ns_to_s(now_mono_ns - d->last_update_mono_ns);
    }
    return slew_left_s(d, now_mono_ns);
}

/* The part of correction c made after then (see disc_since_s). */
static double corr_since(const struct disc_corr *c, int64_t then)
{
    double s = 0.0;
    int64_t from = c->start_mono_ns > then ? c->start_mono_ns : then;
    if (c->rate_ppm != 0 && c->end_mono_ns > from) {
        s += c->rate_ppm * 1e-6 * ns_to_s(c->end_mono_ns - from);
    }
    if (c->dfreq_ppm != 0 && c->start_mono_ns > then) {
        s -= c->dfreq_ppm * 1e-6 * ns_to_s(c->start_mono_ns - then);
    }
    return s;
}

double disc_since_s(const struct disc *d, int64_t then_mono_ns)
{
    double s = 0.0;
    for (int k = 0; k < d->ncorr; k++) {
        s += corr_since(&d->corr[k], then_mono_ns);
    }
    return s;
}
