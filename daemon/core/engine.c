/* SPDX-License-Identifier: BSD-2-Clause */
/* The sans-IO engine (see engine.h): associations, selection, discipline and the action
 * queue, wired together. Every entry point takes the time; nothing here reads a clock. */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

#include "assoc.h"
#include "disc.h"
#include "engine_internal.h"
#include "ntk/err.h"
#include "ntk/refid.h"
#include "ntk/sb.h"
#include "select.h"
#include "snap.h"

#include "poison.h"

void eng_server_defaults(struct eng_server_cfg *c)
{
    memset(c, 0, sizeof *c);
    c->minpoll_log2 = ENG_MINPOLL_DEFAULT;
    c->maxpoll_log2 = ENG_MAXPOLL_DEFAULT;
}

void eng_cfg_defaults(struct eng_cfg *c)
{
    memset(c, 0, sizeof *c);
    c->tos = (struct eng_tos){.minclock = 3,
                              .maxclock = 10,
                              .minsane = 1,
                              .mindist_s = 0.001,
                              .maxdist_s = 1.5,
                              .orphan = 16,
                              .orphanwait_s = 300,
                              .floor = 1,
                              .ceiling = 15};
    c->tinker =
        (struct eng_tinker){.step_s = 0.128, .stepout_s = 300, .panic_s = 1000, .phi_ppm = 15};
    c->precision_log2 = -20;
}

/* ---- the action queue ---- */

struct eng_action *eng_push(struct eng *e, enum eng_act_kind kind, uint32_t assoc_id)
{
    if (e->nact == ENG_ACTIONS_MAX) {
        /* Full: lose the oldest action if it is an event, else refuse the new one. */
        if (e->act[e->act_head].kind != ENG_ACT_EVENT) {
            e->ctr.actions_dropped++;
            return NULL;
        }
        e->act_head = (e->act_head + 1) % ENG_ACTIONS_MAX;
        e->nact--;
        e->ctr.actions_dropped++;
    }
    struct eng_action *a = &e->act[(e->act_head + e->nact) % ENG_ACTIONS_MAX];
    e->nact++;
    memset(a, 0, sizeof *a);
    a->kind = kind;
    a->assoc_id = assoc_id;
    return a;
}

void eng_exit(struct eng *e, int status)
{
    if (e->exited)
        return;
    e->exited = true;
    struct eng_action *a = eng_push(e, ENG_ACT_EXIT, 0);
    if (a != NULL)
        a->value = status;
}

void eng_event(struct eng *e, enum eng_event ev, uint32_t assoc_id, double value,
               const char *text)
{
    eng_note_event(e, ev, assoc_id, text);
    struct eng_action *a = eng_push(e, ENG_ACT_EVENT, assoc_id);
    if (a == NULL)
        return;
    a->event = ev;
    a->value = value;
    struct ntk_sb sb;
    ntk_sb_init(&sb, a->text, sizeof a->text);
    ntk_sb_puts(&sb, text != NULL ? text : "");
}

bool eng_pop_action(struct eng *e, struct eng_action *out)
{
    if (e->nact == 0)
        return false;
    *out = e->act[e->act_head];
    e->act_head = (e->act_head + 1) % ENG_ACTIONS_MAX;
    e->nact--;
    return true;
}

/* ---- creation ---- */

static struct disc_cfg disc_cfg_of(const struct eng_cfg *c)
{
    return (struct disc_cfg){
        .step_s = c->tinker.step_s,
        .stepout_s = c->tinker.stepout_s,
        .panic_s = c->tinker.panic_s,
        .phi_ppm = c->tinker.phi_ppm,
        .precision_log2 = c->precision_log2,
        .minpoll_log2 = ENG_DISC_POLL_MIN, /* disc_poll_range narrows it to the system
                                                peer's */
        .maxpoll_log2 = ENG_POLL_MAX,
        .observe = c->observe,
        .panic_once = c->panic_once,
        .force_step_once = c->force_step_once,
        .once = c->once,
        .have_freq = c->have_freq,
        .initial_freq_ppm = c->initial_freq_ppm,
    };
}

static void sys_unsync(struct snap_system *s)
{
    s->leap = NTK_LEAP_UNSYNC;
    s->stratum = 16;
    s->refid = NTK_REFID_CODE('I', 'N', 'I', 'T');
    s->sys_peer = 0;
}

struct eng *eng_new(const struct eng_cfg *cfg, const struct ntk_clk_ops *clk,
                    const struct eng_rng *rng, struct ntk_mac_keys *keys,
                    const struct eng_now *now)
{
    struct eng *e = calloc(1, sizeof *e);
    if (e == NULL)
        return NULL;
    e->cfg = *cfg;
    e->clk = clk;
    e->rng = *rng;
    e->keys = keys;
    e->start_mono_ns = now->mono_ns;
    e->next_id = 1;
    sys_unsync(&e->sys);
    e->leap.deadline_mono_ns = INT64_MAX;
    e->sys.precision_log2 = cfg->precision_log2;
    e->sys.observe = cfg->observe;
    e->sys.poll_log2 = ENG_MINPOLL_DEFAULT;
    struct disc_cfg dc = disc_cfg_of(cfg);
    int rc = disc_init(&e->disc, &dc, clk, now->mono_ns);
    if (rc != 0)
        eng_event(e, ENG_EV_CLOCK_ERROR, 0, rc, "cannot set the initial frequency");
    /* NTPsec's order: the frequency, then "restart", which the status word then shows. */
    if (cfg->have_freq)
        eng_event(e, ENG_EV_FREQ, 0, cfg->initial_freq_ppm, "ntpd");
    else
        eng_event(e, ENG_EV_FREQ_NOT_SET, 0, 0, NULL);
    eng_event(e, ENG_EV_RESTART, 0, 0, NULL);
    return e;
}

void eng_free(struct eng *e)
{
    if (e != NULL)
        eng_nts_free(e);
    free(e);
}

struct ntk_mac_keys *eng_set_keys(struct eng *e, struct ntk_mac_keys *keys)
{
    struct ntk_mac_keys *old = e->keys;
    e->keys = keys;
    return old;
}

uint32_t eng_rand32(struct eng *e)
{
    uint8_t b[4];
    e->rng.bytes(e->rng.ctx, b, sizeof b);
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}
