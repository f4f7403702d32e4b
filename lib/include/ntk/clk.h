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
 * why in the operating system's words (strerror).
 */
#ifndef NTK_CLK_H
#define NTK_CLK_H

#include <stdint.h>
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

    /* The daemon's discipline. A driver for ntpdig may leave these NULL. */

    /* Reads the frequency correction now in force, ppm (positive: the clock runs faster). */
    int (*read_freq)(void *ctx, double *freq_ppm);

    /* Sets the frequency correction, ppm. The driver applies it the way Linux can: the
     * kernel frequency holds ±500 ppm, and beyond that the tick length (±10 %, in steps of
     * 100 ppm at HZ=100) takes the rest, which is how a discipline slews fast (chrony's
     * maxslewrate). Values beyond ±NTK_CLK_FREQ_MAX_PPM give -EINVAL. */
    int (*set_freq)(void *ctx, double freq_ppm);

    /* Arms the kernel for a leap second at the end of this UTC day: +1 insert, -1 delete,
     * 0 disarm (STA_INS / STA_DEL). */
    int (*set_leap)(void *ctx, int leap);

    /* Tells the kernel whether the clock is synchronised and how good it is (STA_UNSYNC,
     * maxerror, esterror), so that other programs (and the kernel's 11-minute RTC sync) can
     * see it. */
    int (*set_sync_status)(void *ctx, int synced, double maxerror_s, double esterror_s);

    /* Lets the kernel discipline frequency and phase from the PPS signal a PPS device bound
     * to its hardpps consumer (on != 0: STA_PPSFREQ | STA_PPSTIME, RFC 1589; NTPsec's
     * `refclock pps flag3 1`), or stops it (0). NULL when the driver has no kernel PPS. */
    int (*set_pps)(void *ctx, int on);
};

/* The largest frequency correction set_freq takes: 10 % of the tick plus the kernel's
 * 500 ppm. */
#define NTK_CLK_FREQ_MAX_PPM 100500.0

/* The clock's precision (RFC 5905 §7.3): the smallest positive step between successive
 * readings through clk->now, as log2 seconds rounded up, at least -30; 64 readings at most.
 * A failing read ends the measurement early. The one function of this header: it calls
 * only through the table, so lib/ still makes no clock call. */
int8_t ntk_clk_precision_log2(const struct ntk_clk_ops *clk);

#endif /* NTK_CLK_H */
