/* SPDX-License-Identifier: BSD-2-Clause */
/* The Linux clock driver: struct ntk_clk_ops over CLOCK_REALTIME. */
#ifndef NTK_CLK_LINUX_H
#define NTK_CLK_LINUX_H

#include "ntk/clk.h"

/* Returns the driver for the system clock: now = clock_gettime(CLOCK_REALTIME);
 * check_privilege = CAP_SYS_TIME in the effective set (libcap); step = clock_adjtime with
 * ADJ_SETOFFSET (relative, so no read-modify-write race), falling back to clock_settime on
 * kernels that refuse it; slew = adjtime(3). Static storage, never NULL. */
const struct ntk_clk_ops *ntk_clk_linux(void);

#endif /* NTK_CLK_LINUX_H */
