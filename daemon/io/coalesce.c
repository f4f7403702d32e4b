/* SPDX-License-Identifier: BSD-2-Clause */
/* Serving under load: the wait that lets a server's request queue fill (coalesce.h). */
#include "coalesce.h"

#include "poison.h"

void coal_init(struct coalesce *c, int64_t max_ns)
{
    *c = (struct coalesce){.max_ns = max_ns > 0 ? max_ns : 0};
}

/* Closes the window when it is over: its count becomes the rate (a gap longer than a
 * window means nothing came in it, rate 0). */
static void roll_window(struct coalesce *c, int64_t now_ns)
{
    int64_t age = now_ns - c->window_start_ns;
    if (age >= 0 && age < COAL_WINDOW_NS)
        return;
    uint64_t rate = 0;
    if (age >= COAL_WINDOW_NS && age < 2 * (int64_t)COAL_WINDOW_NS)
        rate = (uint64_t)c->window_count * 1000000000ULL / (uint64_t)age;
    c->rate_per_s = rate > UINT32_MAX ? UINT32_MAX : (uint32_t)rate;
    c->window_start_ns = now_ns;
    c->window_count = 0;
}

int64_t coal_after_read(struct coalesce *c, int64_t now_ns, int n, int batch_max)
{
    if (c->max_ns <= 0 || n <= 0)
        return 0;
    roll_window(c, now_ns);
    c->window_count += (uint32_t)n;
    int half = batch_max / 2;
    if (c->rate_per_s < COAL_RATE_MIN_PER_S || n >= half)
        return 0;
    /* The time the missing part of half a batch takes to arrive at the measured rate. */
    int64_t wait = (int64_t)(half - n) * 1000000000LL / (int64_t)c->rate_per_s;
    return wait < c->max_ns ? wait : c->max_ns;
}
