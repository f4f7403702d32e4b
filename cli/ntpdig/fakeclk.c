/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpdig_fakeclk: ntpdig with a clock driver that never touches the system clock, for the
 * tests of -S/-s/-M. It reads the real time, and reports each step or slew on stderr as
 * "fakeclk: step +0.000123456" instead of making it. NTK_FAKECLK_FAIL=1 makes every
 * adjustment fail with EPERM; NTK_FAKECLK_NOPRIV=1 makes the privilege check fail. Built
 * only with the tests, never installed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dig.h"

#include "poison.h"

static bool env_set(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && strcmp(v, "1") == 0;
}

static int fake_now(void *ctx, struct timespec *out)
{
    (void)ctx;
    return clock_gettime(CLOCK_REALTIME, out) == 0 ? 0 : -errno;
}

static int fake_check_privilege(void *ctx)
{
    (void)ctx;
    return env_set("NTK_FAKECLK_NOPRIV") ? -EPERM : 0;
}

static int fake_adjust(const char *what, double offset_s)
{
    if (env_set("NTK_FAKECLK_FAIL"))
        return -EPERM;
    fprintf(stderr, "fakeclk: %s %+.9f\n", what, offset_s);
    return 0;
}

static int fake_step(void *ctx, double offset_s)
{
    (void)ctx;
    return fake_adjust("step", offset_s);
}

static int fake_slew(void *ctx, double offset_s)
{
    (void)ctx;
    return fake_adjust("slew", offset_s);
}

int main(int argc, char **argv)
{
    static const struct ntk_clk_ops fake = {
        .name = "fake",
        .now = fake_now,
        .check_privilege = fake_check_privilege,
        .step = fake_step,
        .slew = fake_slew,
    };
    return dig_main(argc, argv, &fake);
}
