/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's statistics files (dstats.h). */
#include "dstats.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "ntk/sb.h"
#include "snap.h"

#include "poison.h"

/* conf's filegen types, in stats.h's terms. */
static enum stats_gen_type gen_type(enum conf_fg_type t)
{
    switch (t) {
    case CONF_FG_NONE:
        return STATS_GEN_NONE;
    case CONF_FG_PID:
        return STATS_GEN_PID;
    case CONF_FG_WEEK:
        return STATS_GEN_WEEK;
    case CONF_FG_MONTH:
        return STATS_GEN_MONTH;
    case CONF_FG_YEAR:
        return STATS_GEN_YEAR;
    case CONF_FG_AGE:
        return STATS_GEN_AGE;
    case CONF_FG_DAY:
        break;
    }
    return STATS_GEN_DAY;
}

static void setup(struct stats_gen *g, const struct conf *c, enum conf_stat which,
                  const char *name, const char *dir)
{
    const struct conf_filegen *f = &c->filegen[which];
    bool on = (c->stats_mask & (1u << which)) || f->enable;
    char base[STATS_PATH_MAX];
    struct ntk_sb sb;
    ntk_sb_init(&sb, base, sizeof base);
    ntk_sb_printf(&sb, "%s%s%s", dir, dir[0] && dir[strlen(dir) - 1] != '/' ? "/" : "",
                  f->file[0] ? f->file : name);
    if (stats_gen_init(g, base, gen_type(f->type), f->link, on) != 0) {
        log_msg(LOG_ERR, "%s: not a usable statistics file name", base);
        (void)stats_gen_init(g, name, STATS_GEN_NONE, false, false);
    }
}

void dstats_init(struct dstats *s, const struct conf *c, const char *statsdir_opt)
{
    memset(s, 0, sizeof *s);
    s->loop.fd = s->peer.fd = -1;
    const char *dir = statsdir_opt != NULL ? statsdir_opt : c->statsdir;
    s->start_mono_ns = loop_now_mono_ns();
    if (!(c->sys_flags & CONF_SYS_STATS))
        return; /* `disable stats` */
    setup(&s->loop, c, CONF_STAT_LOOPSTATS, "loopstats", dir);
    setup(&s->peer, c, CONF_STAT_PEERSTATS, "peerstats", dir);
}

static void append(struct stats_gen *g, struct ntk_sb *line, int64_t start_mono_ns)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct stats_gen_clock c = {.unix_s = (int64_t)now.tv_sec,
                                .up_s = (loop_now_mono_ns() - start_mono_ns) / 1000000000LL,
                                .pid = (long)getpid()};
    char why[300];
    struct ntk_sb err;
    ntk_sb_init(&err, why, sizeof why);
    if (stats_gen_append(g, &c, ntk_sb_str(line), ntk_sb_len(line), &err) != 0) {
        log_msg(LOG_ERR, "statistics: %s (the file is disabled)", ntk_sb_str(&err));
        g->enabled = false;
    }
}

static void loop_line(struct dstats *s, const struct eng *e)
{
    struct snap_system sys;
    eng_snap(e, loop_now_mono_ns(), &sys, NULL, NULL, 0);
    struct stats_loop r = {.offset_s = sys.offset_s,
                           .freq_ppm = sys.freq_ppm,
                           .jitter_s = sys.sys_jitter_s,
                           .wander_ppm = sys.clk_wander_ppm,
                           .poll_log2 = sys.poll_log2};
    clock_gettime(CLOCK_REALTIME, &r.now);
    char buf[512];
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    if (stats_fmt_loop(&r, &sb) == 0)
        append(&s->loop, &sb, s->start_mono_ns);
}

static void peer_line(struct dstats *s, const struct eng *e, uint32_t id)
{
    static struct snap_assoc as[64];
    size_t n = eng_snap(e, loop_now_mono_ns(), NULL, NULL, as, 64);
    for (size_t i = 0; i < n && i < 64; i++) {
        if (as[i].id != id)
            continue;
        /* The status word comes with mode 6; until then the selection tally's code is 0. */
        struct stats_peer r = {.src = {.label = NULL, .addr = as[i].addr},
                               .status = 0,
                               .offset_s = as[i].offset_s,
                               .delay_s = as[i].delay_s,
                               .disp_s = as[i].disp_s,
                               .jitter_s = as[i].jitter_s};
        r.src.addr.port = 0;
        clock_gettime(CLOCK_REALTIME, &r.now);
        char buf[512];
        struct ntk_sb sb;
        ntk_sb_init(&sb, buf, sizeof buf);
        if (stats_fmt_peer(&r, &sb) == 0)
            append(&s->peer, &sb, s->start_mono_ns);
    }
}

void dstats_event(struct dstats *s, const struct eng *e, const struct eng_action *ev)
{
    if (ev->event == ENG_EV_CLOCK_UPDATE && s->loop.enabled)
        loop_line(s, e);
    else if (ev->event == ENG_EV_PEER_UPDATE && s->peer.enabled)
        peer_line(s, e, ev->assoc_id);
}

void dstats_close(struct dstats *s)
{
    stats_gen_close(&s->loop);
    stats_gen_close(&s->peer);
}
