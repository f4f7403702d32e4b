/* SPDX-License-Identifier: BSD-2-Clause */
/* The Linux clock driver: reads, steps and slews CLOCK_REALTIME (see clk_linux.h). */
#include "clk_linux.h"

#include <errno.h>
#include <math.h>
#include <sys/capability.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <time.h>

#include "poison.h"

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

const struct ntk_clk_ops *ntk_clk_linux(void)
{
    static const struct ntk_clk_ops ops = {
        .name = "linux",
        .ctx = NULL,
        .now = linux_now,
        .check_privilege = linux_check_privilege,
        .step = linux_step,
        .slew = linux_slew,
    };
    return &ops;
}
