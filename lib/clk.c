/* SPDX-License-Identifier: BSD-2-Clause */
/* Measuring a clock's precision through its driver table (ntk/clk.h). */
#include "ntk/clk.h"

#include "poison.h"

/* The smallest power of two, in log2 s, that is at least s (s in (0, 1]); -30 at least. */
static int8_t ceil_log2(double s)
{
    double x = 1.0;
    int p = 0;
    while (p > -30 && x / 2 >= s) {
        x /= 2;
        p--;
    }
    return (int8_t)p;
}

int8_t ntk_clk_precision_log2(const struct ntk_clk_ops *clk)
{
    struct timespec a, b;
    double best = 1.0;
    if (clk->now(clk->ctx, &a) != 0)
        return 0;
    for (int i = 0; i < 64 && clk->now(clk->ctx, &b) == 0; i++) {
        double d = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9;
        if (d > 0 && d < best)
            best = d;
        a = b;
    }
    return ceil_log2(best);
}
