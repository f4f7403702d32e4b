/* SPDX-License-Identifier: BSD-2-Clause */
/* The clock driver table (ARCHITECTURE.md "The sans-IO core": the clock is an ops table).
 *
 * Code that decides to adjust the clock (ntpdig's -S/-s, the daemon's discipline) calls it
 * only through this table, so tests and simulators hand it a fake clock and no test ever
 * touches the machine's. lib/ only declares the table; the drivers live with the code that
 * may make system calls: daemon/os/clk_linux.c (the real one) and the test fakes.
 *
 * Every operation returns 0 on success or a negative errno value (-EPERM when the process
 * lacks CAP_SYS_TIME, -EINVAL for an adjustment the kernel refuses), so the caller can say
 * why in the operating system's words (strerror). The daemon's discipline adds its own
 * operations (frequency, leap, status) here when it lands.
 */
#ifndef NTK_CLK_H
#define NTK_CLK_H

#include <time.h>

/* A clock driver: a name, its private state and its operations. */
struct ntk_clk_ops {
    const char *name; /* "linux", "fake", ...: shown in diagnostics */
    void *ctx;        /* the driver's state, passed back as the first argument */

    /* Reads the clock that is being disciplined (CLOCK_REALTIME for the real driver). */
    int (*now)(void *ctx, struct timespec *out);

    /* Returns 0 if this process may adjust the clock at all, -EPERM otherwise. Called before
     * a decision is acted on, so the user learns about missing privilege in one clear line
     * rather than from a failed system call. */
    int (*check_privilege)(void *ctx);

    /* Steps the clock by offset_s seconds (positive: forward) at once. */
    int (*step)(void *ctx, double offset_s);

    /* Slews the clock by offset_s seconds: the kernel spreads the change over time
     * (adjtime(3); Linux refuses offsets beyond about ±2145 s with -EINVAL). */
    int (*slew)(void *ctx, double offset_s);
};

#endif /* NTK_CLK_H */
