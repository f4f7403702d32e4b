/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpdig's clock adjustment: NTPsec's step/slew rule, acted on through the clock driver. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "cli_log.h"
#include "dig.h"

#include "poison.h"

const char *dig_adjustment_name(enum dig_adjustment a)
{
    switch (a) {
    case DIG_ADJ_NONE:
        return "none";
    case DIG_ADJ_STEPPED:
        return "stepped";
    case DIG_ADJ_SLEWED:
        return "slewed";
    case DIG_ADJ_FAILED:
        return "failed";
    }
    return "unknown";
}

enum dig_adjustment dig_adjust(const struct dig_opts *o, const struct ntk_clk_ops *clk,
                               double offset_s)
{
    /* NTPsec: -S alone steps; -s alone slews; both: step only above the -M limit. */
    bool step = o->step && (!o->slew || fabs(offset_s) > o->steplimit_s);
    if (!step && !o->slew)
        return DIG_ADJ_NONE;
    const char *what = step ? "step" : "slew";
    int rc = clk->check_privilege(clk->ctx);
    if (rc == -EPERM) {
        cli_err("cannot %s the clock: this process lacks CAP_SYS_TIME (run as root, or "
                "grant cap_sys_time)",
                what);
        return DIG_ADJ_FAILED;
    }
    if (rc == 0)
        rc = step ? clk->step(clk->ctx, offset_s) : clk->slew(clk->ctx, offset_s);
    if (rc != 0) {
        cli_err("cannot %s the clock by %+.9f s: %s", what, offset_s, strerror(-rc));
        return DIG_ADJ_FAILED;
    }
    cli_dbg(1, "%s the clock by %+.9f s (%s driver)", step ? "stepped" : "slewed", offset_s,
            clk->name);
    return step ? DIG_ADJ_STEPPED : DIG_ADJ_SLEWED;
}
