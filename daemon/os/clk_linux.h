/* SPDX-License-Identifier: BSD-2-Clause */
/* The Linux clock drivers: struct ntk_clk_ops over CLOCK_REALTIME (clk_linux.c), and the null
 * driver of observe mode (clk_null.c). */
#ifndef NTK_CLK_LINUX_H
#define NTK_CLK_LINUX_H

#include <stdbool.h>

#include "ntk/clk.h"

/* Returns the driver for the system clock:
 *  - now: clock_gettime(CLOCK_REALTIME);
 *  - check_privilege: CAP_SYS_TIME in the effective set (libcap);
 *  - step: clock_adjtime with ADJ_SETOFFSET (relative, so no read-modify-write race), falling
 *    back to clock_settime on kernels that refuse it;
 *  - slew: adjtime(3);
 *  - read_freq / set_freq: the kernel frequency (ADJ_FREQUENCY, ±500 ppm in 2^-16 ppm units)
 *    plus the tick length (ADJ_TICK, whole microseconds per tick: 100 ppm steps at HZ=100),
 *    split by ntk_clk_split_freq, with the kernel PLL/FLL switched off (STA_PLL, STA_FLL) so
 *    that the kernel does nothing on its own;
 *  - set_leap: STA_INS / STA_DEL;
 *  - set_sync_status: STA_UNSYNC, maxerror, esterror;
 *  - set_pps: STA_PPSFREQ | STA_PPSTIME on or off, which set_freq then keeps (the kernel's
 *    PPS discipline of a refclock pps with flag3; clk_linux_status computes the bits).
 * Static storage, never NULL. */
const struct ntk_clk_ops *ntk_clk_linux(void);

/* Returns the observe-mode driver: now reads CLOCK_REALTIME and read_freq the kernel's
 * frequency (both are reads); every operation that would change the clock does nothing and
 * succeeds. The engine in observe mode never calls them; this driver makes sure of it. */
const struct ntk_clk_ops *ntk_clk_null(void);

/* Splits a total frequency correction freq_ppm into the tick length (µs per tick, nominally
 * 1e6 / hz) and the kernel frequency (ppm), the way set_freq applies it: the kernel frequency
 * alone while |freq_ppm| <= 500; beyond, whole tick steps (one µs of tick is 100 ppm at
 * HZ=100) bring the remainder within half a step. Returns false (nothing written) when
 * freq_ppm is not finite or beyond NTK_CLK_FREQ_MAX_PPM, or hz is not positive. Pure: no
 * system call. */
bool ntk_clk_split_freq(double freq_ppm, long hz, long *tick_us, double *kernel_ppm);

/* The status word set_freq writes, from the kernel's current one: the PLL and FLL off (ntpd
 * disciplines), and the PPS bits (STA_PPSFREQ | STA_PPSTIME) on exactly when pps_on. Pure. */
int clk_linux_status(int status, bool pps_on);

#endif /* NTK_CLK_LINUX_H */
