/* SPDX-License-Identifier: BSD-2-Clause */
/* The Linux clock drivers: CLOCK_REALTIME and the kernel's NTP state, and the observe-mode
 * null driver (see clk_linux.h). */
#include "clk_linux.h"

#include <errno.h>
#include <math.h>
#include <sys/capability.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "poison.h"

/* The kernel frequency's own range, ppm (the rest goes to the tick). */
#define KERNEL_FREQ_MAX_PPM 500.0

/* Splits offset_s into whole seconds and a non-negative nanosecond part (the form both
 * ADJ_SETOFFSET and timespec arithmetic want: -1.25 s is -2 s + 750000000 ns). */
static int split_offset(double offset_s, time_t *sec, long *nsec)
{
    if (!isfinite(offset_s) || fabs(offset_s) > 1e15)
        return -EINVAL;
    double whole = floor(offset_s);
    long ns = lround((offset_s - whole) * 1e9);
    if (ns >= 1000000000L) {
        whole += 1.0;
        ns -= 1000000000L;
    }
    *sec = (time_t)whole;
    *nsec = ns;
    return 0;
}

static int linux_now(void *ctx, struct timespec *out)
{
    (void)ctx;
    return clock_gettime(CLOCK_REALTIME, out) == 0 ? 0 : -errno;
}

static int linux_check_privilege(void *ctx)
{
    (void)ctx;
    cap_t caps = cap_get_proc();
    if (caps == NULL)
        return -errno;
    cap_flag_value_t v = CAP_CLEAR;
    int rc = cap_get_flag(caps, CAP_SYS_TIME, CAP_EFFECTIVE, &v);
    cap_free(caps);
    if (rc != 0)
        return -EPERM;
    return v == CAP_SET ? 0 : -EPERM;
}

/* The fallback when ADJ_SETOFFSET is refused: read, add, write. */
static int step_settime(time_t sec, long nsec)
{
    struct timespec t;
    if (clock_gettime(CLOCK_REALTIME, &t) != 0)
        return -errno;
    t.tv_sec += sec;
    t.tv_nsec += nsec;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec += 1;
        t.tv_nsec -= 1000000000L;
    }
    return clock_settime(CLOCK_REALTIME, &t) == 0 ? 0 : -errno;
}

static int linux_step(void *ctx, double offset_s)
{
    (void)ctx;
    time_t sec;
    long nsec;
    int rc = split_offset(offset_s, &sec, &nsec);
    if (rc != 0)
        return rc;
    struct timex tx = {.modes = ADJ_SETOFFSET | ADJ_NANO};
    tx.time.tv_sec = sec;
    tx.time.tv_usec = nsec; /* nanoseconds, because of ADJ_NANO */
    if (clock_adjtime(CLOCK_REALTIME, &tx) >= 0)
        return 0;
    if (errno != EINVAL && errno != EOPNOTSUPP)
        return -errno;
    return step_settime(sec, nsec);
}

static int linux_slew(void *ctx, double offset_s)
{
    (void)ctx;
    time_t sec;
    long nsec;
    int rc = split_offset(offset_s, &sec, &nsec);
    if (rc != 0)
        return rc;
    struct timeval delta = {.tv_sec = sec, .tv_usec = (suseconds_t)(nsec / 1000)};
    return adjtime(&delta, NULL) == 0 ? 0 : -errno;
}

bool ntk_clk_split_freq(double freq_ppm, long hz, long *tick_us, double *kernel_ppm)
{
    if (!isfinite(freq_ppm) || fabs(freq_ppm) > NTK_CLK_FREQ_MAX_PPM || hz <= 0)
        return false;
    long nominal = 1000000L / hz;
    double step_ppm = 1e6 / (double)nominal; /* one µs of tick: 100 ppm at HZ=100 */
    long ticks = 0;
    if (fabs(freq_ppm) > KERNEL_FREQ_MAX_PPM)
        ticks = lround(freq_ppm / step_ppm);
    *tick_us = nominal + ticks;
    *kernel_ppm = freq_ppm - (double)ticks * step_ppm;
    return true;
}

/* The kernel's clock state (a read: modes 0 needs no privilege). */
static int read_timex(struct timex *tx)
{
    memset(tx, 0, sizeof *tx);
    return clock_adjtime(CLOCK_REALTIME, tx) >= 0 ? 0 : -errno;
}

static int write_timex(struct timex *tx)
{
    return clock_adjtime(CLOCK_REALTIME, tx) >= 0 ? 0 : -errno;
}

static long user_hz(void)
{
    long hz = sysconf(_SC_CLK_TCK);
    return hz > 0 ? hz : 100;
}

static int linux_read_freq(void *ctx, double *freq_ppm)
{
    (void)ctx;
    struct timex tx;
    int rc = read_timex(&tx);
    if (rc != 0)
        return rc;
    long hz = user_hz(), nominal = 1000000L / hz;
    double step_ppm = 1e6 / (double)nominal;
    *freq_ppm = (double)tx.freq / 65536.0 + (double)(tx.tick - nominal) * step_ppm;
    return 0;
}

/* set_pps: whether the kernel disciplines from a bound PPS signal (set_freq keeps it). */
static bool kernel_pps;

int clk_linux_status(int status, bool pps_on)
{
    status &= ~(STA_PLL | STA_FLL | STA_PPSFREQ | STA_PPSTIME);
    return pps_on ? status | STA_PPSFREQ | STA_PPSTIME : status;
}

static int linux_set_freq(void *ctx, double freq_ppm)
{
    (void)ctx;
    long tick = 0;
    double kernel = 0;
    if (!ntk_clk_split_freq(freq_ppm, user_hz(), &tick, &kernel))
        return -EINVAL;
    struct timex tx;
    int rc = read_timex(&tx);
    if (rc != 0)
        return rc;
    tx.modes = ADJ_FREQUENCY | ADJ_TICK | ADJ_STATUS;
    tx.freq = lround(kernel * 65536.0);
    tx.tick = tick;
    tx.status = clk_linux_status(tx.status, kernel_pps);
    return write_timex(&tx);
}

static int linux_set_pps(void *ctx, int on)
{
    (void)ctx;
    struct timex tx;
    int rc = read_timex(&tx);
    if (rc != 0)
        return rc;
    tx.modes = ADJ_STATUS;
    tx.status &= ~(STA_PPSFREQ | STA_PPSTIME);
    tx.status |= on ? STA_PPSFREQ | STA_PPSTIME : 0;
    rc = write_timex(&tx);
    if (rc == 0)
        kernel_pps = on != 0;
    return rc;
}

static int linux_set_leap(void *ctx, int leap)
{
    (void)ctx;
    struct timex tx;
    int rc = read_timex(&tx);
    if (rc != 0)
        return rc;
    tx.modes = ADJ_STATUS;
    tx.status &= ~(STA_INS | STA_DEL);
    tx.status |= leap > 0 ? STA_INS : leap < 0 ? STA_DEL : 0;
    return write_timex(&tx);
}

static int linux_set_sync_status(void *ctx, int synced, double maxerror_s, double esterror_s)
{
    (void)ctx;
    struct timex tx;
    int rc = read_timex(&tx);
    if (rc != 0)
        return rc;
    tx.modes = ADJ_STATUS | ADJ_MAXERROR | ADJ_ESTERROR;
    tx.status = synced ? tx.status & ~STA_UNSYNC : tx.status | STA_UNSYNC;
    /* The kernel keeps microseconds and caps maxerror at 16 s (NTP_PHASE_LIMIT). */
    tx.maxerror = lround(fmin(fmax(maxerror_s, 0), 16.0) * 1e6);
    tx.esterror = lround(fmin(fmax(esterror_s, 0), 16.0) * 1e6);
    return write_timex(&tx);
}

const struct ntk_clk_ops *ntk_clk_linux(void)
{
    static const struct ntk_clk_ops ops = {
        .name = "linux",
        .ctx = NULL,
        .now = linux_now,
        .check_privilege = linux_check_privilege,
        .step = linux_step,
        .slew = linux_slew,
        .read_freq = linux_read_freq,
        .set_freq = linux_set_freq,
        .set_leap = linux_set_leap,
        .set_sync_status = linux_set_sync_status,
        .set_pps = linux_set_pps,
    };
    return &ops;
}

/* ---- observe mode ---- */

static int null_privilege(void *ctx)
{
    (void)ctx;
    return 0;
}

static int null_adjust(void *ctx, double v)
{
    (void)ctx;
    (void)v;
    return 0;
}

static int null_leap(void *ctx, int leap)
{
    (void)ctx;
    (void)leap;
    return 0;
}

static int null_pps(void *ctx, int on)
{
    (void)ctx;
    (void)on;
    return 0;
}

static int null_status(void *ctx, int synced, double maxerror_s, double esterror_s)
{
    (void)ctx;
    (void)synced;
    (void)maxerror_s;
    (void)esterror_s;
    return 0;
}

const struct ntk_clk_ops *ntk_clk_null(void)
{
    static const struct ntk_clk_ops ops = {
        .name = "null",
        .ctx = NULL,
        .now = linux_now,
        .check_privilege = null_privilege,
        .step = null_adjust,
        .slew = null_adjust,
        .read_freq = linux_read_freq,
        .set_freq = null_adjust,
        .set_leap = null_leap,
        .set_sync_status = null_status,
        .set_pps = null_pps,
    };
    return &ops;
}
