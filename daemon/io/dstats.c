/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's statistics files (dstats.h): which files, their lines from the engine's events and
 * counters, and the hourly sysstats timer. */
#include "dstats.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon_internal.h"
#include "log.h"
#include "loop.h"
#include "ntk/err.h"
#include "ntk/sb.h"

#include "ctlv.h"

#include "poison.h"

#define NS_PER_S 1000000000LL

/* NTPsec's event codes (include/ntp_control.h, snap.h) as protostats writes them, a peer
 * event with the PEER_EVENT bit; their texts are NTPsec's (libntp/statestr.c). */
#define PEER_EVENT      0x80u
#define EVNT_FNOTSET    SNAP_EVNT_FNOTSET                 /* freq_not_set */
#define EVNT_FSET       SNAP_EVNT_FSET                    /* freq_set */
#define EVNT_RESTART    SNAP_EVNT_RESTART                 /* restart */
#define EVNT_SYNC       SNAP_EVNT_SYNC                    /* clock_sync */
#define EVNT_SYSFAULT   SNAP_EVNT_SYSFAULT                /* panic_stop */
#define EVNT_NOPEER     SNAP_EVNT_NOPEER                  /* no_sys_peer */
#define EVNT_ARMED      SNAP_EVNT_ARMED                   /* leap_armed */
#define EVNT_DISARMED   SNAP_EVNT_DISARMED                /* leap_disarmed */
#define EVNT_LEAP       SNAP_EVNT_LEAP                    /* leap_event */
#define EVNT_TAI        SNAP_EVNT_TAI                     /* TAI */
#define EVNT_CLOCKRESET SNAP_EVNT_CLOCKRESET              /* clock_step */
#define EVNT_KERN       SNAP_EVNT_KERN                    /* kern */
#define PEVNT_MOBIL     (PEER_EVENT | SNAP_PEVNT_MOBIL)   /* mobilize */
#define PEVNT_DEMOBIL   (PEER_EVENT | SNAP_PEVNT_DEMOBIL) /* demobilize */
#define PEVNT_RESTART   (PEER_EVENT | SNAP_PEVNT_RESTART) /* restart */
#define PEVNT_UNREACH   (PEER_EVENT | SNAP_PEVNT_UNREACH) /* unreachable */
#define PEVNT_REACH     (PEER_EVENT | SNAP_PEVNT_REACH)   /* reachable */
#define PEVNT_RATE      (PEER_EVENT | SNAP_PEVNT_RATE)    /* rate_exceeded */
#define PEVNT_DENY      (PEER_EVENT | SNAP_PEVNT_DENY)    /* access_denied */
#define PEVNT_NEWPEER   (PEER_EVENT | SNAP_PEVNT_NEWPEER) /* sys_peer */
#define PEVNT_AUTH      (PEER_EVENT | SNAP_PEVNT_AUTH)    /* bad_auth */
#define PEVNT_ARMED     (PEER_EVENT | SNAP_PEVNT_ARMED)   /* leap_armed */

/* ======================================================================================== */
/* Setup                                                                                    */
/* ======================================================================================== */

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
    /* `statistics NAME` sets enable too, so a later `filegen NAME disable` wins. */
    bool on = (c->sys_flags & CONF_SYS_STATS) && f->enable;
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

/* NTK_SYSSTATS_INTERVAL (seconds, 1..86400) lets the tests see sysstats lines without
 * waiting an hour; NTPsec has no such knob. */
static int64_t sys_interval_ns(void)
{
    const char *p = getenv("NTK_SYSSTATS_INTERVAL");
    long v = p != NULL ? strtol(p, NULL, 10) : 0;
    return (v >= 1 && v <= 86400 ? v : DSTATS_SYS_INTERVAL_S) * NS_PER_S;
}

void dstats_init(struct dstats *s, const struct conf *c, const char *statsdir_opt)
{
    memset(s, 0, sizeof *s);
    struct stats_gen *all[] = {&s->loop,  &s->peer,  &s->raw, &s->sys,
                               &s->proto, &s->clock, &s->use};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        all[i]->fd = -1;
    s->ready = true;
    const char *dir = statsdir_opt != NULL ? statsdir_opt : c->statsdir;
    s->start_mono_ns = loop_now_mono_ns();
    s->sys_last_mono_ns = s->start_mono_ns;
    s->sys_interval_ns = sys_interval_ns();
    s->use_last_mono_ns = s->start_mono_ns;
    setup(&s->loop, c, CONF_STAT_LOOPSTATS, "loopstats", dir);
    setup(&s->peer, c, CONF_STAT_PEERSTATS, "peerstats", dir);
    setup(&s->raw, c, CONF_STAT_RAWSTATS, "rawstats", dir);
    setup(&s->sys, c, CONF_STAT_SYSSTATS, "sysstats", dir);
    setup(&s->proto, c, CONF_STAT_PROTOSTATS, "protostats", dir);
    setup(&s->clock, c, CONF_STAT_CLOCKSTATS, "clockstats", dir);
    setup(&s->use, c, CONF_STAT_USESTATS, "usestats", dir);
}

void dstats_reopen(struct dstats *s)
{
    if (!s->ready)
        return;
    stats_gen_close(&s->loop);
    stats_gen_close(&s->peer);
    stats_gen_close(&s->raw);
    stats_gen_close(&s->sys);
    stats_gen_close(&s->proto);
    stats_gen_close(&s->clock);
    stats_gen_close(&s->use);
}

void dstats_close(struct dstats *s)
{
    dstats_reopen(s);
}

/* Appends line to g; a failure is logged and disables the file. */
static void append(struct stats_gen *g, struct ntk_sb *line, int64_t start_mono_ns)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct stats_gen_clock c = {.unix_s = (int64_t)now.tv_sec,
                                .up_s = (loop_now_mono_ns() - start_mono_ns) / NS_PER_S,
                                .pid = (long)getpid()};
    char why[300];
    struct ntk_sb err;
    ntk_sb_init(&err, why, sizeof why);
    if (stats_gen_append(g, &c, ntk_sb_str(line), ntk_sb_len(line), &err) != 0) {
        log_msg(LOG_ERR, "statistics: %s (the file is disabled)", ntk_sb_str(&err));
        g->enabled = false;
    }
}

/* ======================================================================================== */
/* Status words (NTPsec ctlsysstatus / ctlpeerstatus)                                       */
/* ======================================================================================== */

static struct dstats_peer_ev *peer_hist(struct dstats *s, uint32_t id, bool make)
{
    struct dstats_peer_ev *free_slot = NULL;
    for (size_t i = 0; i < DSTATS_PEERS_MAX; i++) {
        if (s->peers[i].id == id)
            return &s->peers[i];
        if (s->peers[i].id == 0 && free_slot == NULL)
            free_slot = &s->peers[i];
    }
    if (!make)
        return NULL;
    if (free_slot == NULL)
        free_slot = &s->peers[id % DSTATS_PEERS_MAX]; /* full: forget another's history */
    *free_slot = (struct dstats_peer_ev){.id = id};
    return free_slot;
}

/* The status words as of the event being written: mode 6's, with the history kept here. */
static unsigned sys_word(const struct dstats *s, const struct snap_system *sys,
                         const struct snap_assoc *sys_peer)
{
    return ctlv_sys_word(sys, sys_peer, s->sys_count, s->sys_last);
}

static unsigned peer_word(struct dstats *s, const struct snap_assoc *as)
{
    const struct dstats_peer_ev *h = peer_hist(s, as->id, false);
    return ctlv_peer_word(as, h != NULL ? h->count : 0, h != NULL ? h->last : 0);
}

/* NTPsec report_event's history: the same event again counts up to 15 and is then not
 * reported; another event starts a new count. Returns false for a suppressed report. */
static bool count_event(uint8_t *last, uint8_t *count, uint8_t code)
{
    if (*last == code && *count > 0) {
        if (*count >= DSTATS_MAX_REPEAT)
            return false;
        (*count)++;
    } else {
        *last = code;
        *count = 1;
    }
    return true;
}

/* ======================================================================================== */
/* Lines                                                                                    */
/* ======================================================================================== */

void dstats_counts(const struct srv_stats *st, const struct snap_counters *ec,
                   struct stats_sys *out)
{
    /* One sum for the file and for mode 6's ss_* variables (ctlv.c). */
    struct ctlv_ss ss;
    ctlv_ss_sum(st, ec, &ss);
    memset(out, 0, sizeof *out);
    out->received = ss.received;
    out->processed = ss.processed;
    out->newversion = ss.thisver;
    out->oldversion = ss.oldver;
    out->restricted = ss.restricted;
    out->badlength = ss.badformat;
    out->badauth = ss.badauth;
    out->declined = ss.declined;
    out->limitrejected = ss.limited;
    out->kodsent = ss.kodsent;
    out->ver1 = ss.ver1;
    out->ver1client = ss.ver1client;
    out->ver1zero = ss.ver1zero;
    out->ver1symm = ss.ver1symm;
}

bool dstats_sys_line(struct dstats *s, const struct stats_sys *cum, const struct timespec *now,
                     int64_t now_mono_ns, struct ntk_sb *sb)
{
    int64_t since = now_mono_ns - s->sys_last_mono_ns;
    if (since < s->sys_interval_ns)
        return false;
    const struct stats_sys *b = &s->sys_base;
    struct stats_sys r = {
        .now = *now,
        .since_reset_s = (uint32_t)(since / NS_PER_S),
        .received = cum->received - b->received,
        .processed = cum->processed - b->processed,
        .newversion = cum->newversion - b->newversion,
        .oldversion = cum->oldversion - b->oldversion,
        .restricted = cum->restricted - b->restricted,
        .badlength = cum->badlength - b->badlength,
        .badauth = cum->badauth - b->badauth,
        .declined = cum->declined - b->declined,
        .limitrejected = cum->limitrejected - b->limitrejected,
        .kodsent = cum->kodsent - b->kodsent,
        .ver1 = cum->ver1 - b->ver1,
        .ver1client = cum->ver1client - b->ver1client,
        .ver1zero = cum->ver1zero - b->ver1zero,
        .ver1symm = cum->ver1symm - b->ver1symm,
    };
    s->sys_base = *cum;
    s->sys_last_mono_ns = now_mono_ns;
    return stats_fmt_sys(&r, sb) == 0;
}

static double tv_s(const struct timeval *t)
{
    return (double)t->tv_sec + (double)t->tv_usec / 1e6;
}

bool dstats_use_line(struct dstats *s, const struct rusage *ru, const struct timespec *now,
                     int64_t now_mono_ns, struct ntk_sb *sb)
{
    const struct rusage *b = &s->use_base;
    struct stats_use r = {
        .now = *now,
        .since_s = (uint32_t)((now_mono_ns - s->use_last_mono_ns) / NS_PER_S),
        .utime_s = tv_s(&ru->ru_utime) - tv_s(&b->ru_utime),
        .stime_s = tv_s(&ru->ru_stime) - tv_s(&b->ru_stime),
        .minflt = ru->ru_minflt - b->ru_minflt,
        .majflt = ru->ru_majflt - b->ru_majflt,
        .nswap = ru->ru_nswap - b->ru_nswap,
        .inblock = ru->ru_inblock - b->ru_inblock,
        .oublock = ru->ru_oublock - b->ru_oublock,
        .nvcsw = ru->ru_nvcsw - b->ru_nvcsw,
        .nivcsw = ru->ru_nivcsw - b->ru_nivcsw,
        .nsignals = ru->ru_nsignals - b->ru_nsignals,
        .maxrss_kib = ru->ru_maxrss, /* a high-water mark, not a count */
    };
    s->use_base = *ru;
    s->use_last_mono_ns = now_mono_ns;
    return stats_fmt_use(&r, sb) == 0;
}

/* The code (with PEER_EVENT for a peer event), text and extra text of an event; false for
 * one NTPsec has no code for. */
static bool event_code(const struct eng_action *ev, unsigned *code, const char **msg,
                       char *extra, size_t cap)
{
    struct ntk_sb x;
    ntk_sb_init(&x, extra, cap);
    switch (ev->event) {
    case ENG_EV_UNSYNC:
        *code = EVNT_NOPEER, *msg = "no_sys_peer";
        return true;
    case ENG_EV_STEP:
        *code = EVNT_CLOCKRESET, *msg = "clock_step";
        ntk_sb_printf(&x, "%+.6f s", ev->value);
        return true;
    case ENG_EV_PANIC:
        *code = EVNT_SYSFAULT, *msg = "panic_stop";
        ntk_sb_printf(&x, "%+.0f s", ev->value);
        return true;
    case ENG_EV_FREQ:
        *code = EVNT_FSET, *msg = "freq_set";
        ntk_sb_printf(&x, "%s %.6f PPM", ev->text, ev->value);
        return true;
    case ENG_EV_FREQ_NOT_SET:
        *code = EVNT_FNOTSET, *msg = "freq_not_set";
        return true;
    case ENG_EV_RESTART:
        *code = EVNT_RESTART, *msg = "restart";
        return true;
    case ENG_EV_MOBILIZE:
        *code = PEVNT_MOBIL, *msg = "mobilize";
        ntk_sb_printf(&x, "assoc %u", (unsigned)ev->assoc_id);
        return true;
    case ENG_EV_LEAP_ARMED: /* voted by the servers: the system peer's event */
        *code = ev->assoc_id != 0 ? PEVNT_ARMED : EVNT_ARMED, *msg = "leap_armed";
        return true;
    case ENG_EV_LEAP_DISARMED:
        *code = EVNT_DISARMED, *msg = "leap_disarmed";
        return true;
    case ENG_EV_LEAP:
        *code = EVNT_LEAP, *msg = "leap_event";
        return true;
    case ENG_EV_LEAP_FILE:
        *code = EVNT_TAI, *msg = "TAI";
        ntk_sb_puts(&x, ev->text);
        return true;
    case ENG_EV_CLOCK_ERROR:
        *code = EVNT_KERN, *msg = "kern";
        ntk_sb_puts(&x, ev->text);
        return true;
    case ENG_EV_REACH:
        *code = PEVNT_REACH, *msg = "reachable";
        return true;
    case ENG_EV_UNREACH:
        *code = PEVNT_UNREACH, *msg = "unreachable";
        return true;
    case ENG_EV_NTS_REFUSED:
        *code = PEVNT_AUTH, *msg = "bad_auth";
        ntk_sb_printf(&x, "NTS %s", ev->text);
        return true;
    case ENG_EV_KOD:
        /* NTPsec acts on RATE (rate_exceeded) and DENY/RSTR (access_denied) only. */
        if (strcmp(ev->text, "RATE") == 0)
            *code = PEVNT_RATE, *msg = "rate_exceeded";
        else if (strcmp(ev->text, "DENY") == 0 || strcmp(ev->text, "RSTR") == 0)
            *code = PEVNT_DENY, *msg = "access_denied";
        else
            return false;
        ntk_sb_puts(&x, ev->text);
        return true;
    default:
        return false;
    }
}

/* One report_event: updates the history, appends the line. */
static bool report(struct dstats *s, unsigned code, const char *msg, const char *extra,
                   const struct snap_system *sys, const struct snap_assoc *sys_peer,
                   const struct snap_assoc *as, const struct timespec *now, struct ntk_sb *sb)
{
    struct stats_proto r = {.now = *now, .event = code, .message = msg, .extra = extra};
    if (code & PEER_EVENT) {
        if (as == NULL)
            return false; /* the association is gone */
        struct dstats_peer_ev *h = peer_hist(s, as->id, true);
        if (!count_event(&h->last, &h->count, (uint8_t)(code & ~PEER_EVENT)))
            return false;
        r.src.addr = as->addr;
        r.src.label = as->pool_line ? as->name : NULL; /* NTPsec: "pool.test ... mobilize" */
        r.status = peer_word(s, as);
    } else {
        if (!count_event(&s->sys_last, &s->sys_count, (uint8_t)code))
            return false;
        r.src.addr.family = NTK_ADDR_NONE; /* "0.0.0.0" */
        r.status = sys_word(s, sys, sys_peer);
    }
    return stats_fmt_proto(&r, sb) == 0;
}

bool dstats_proto_line(struct dstats *s, const struct eng_action *ev,
                       const struct snap_system *sys, const struct snap_assoc *sys_peer,
                       const struct snap_assoc *as, const struct timespec *now,
                       struct ntk_sb *sb)
{
    if (ev->event == ENG_EV_SYNC) {
        /* NTPsec: clock_sync when the system first synchronises, sys_peer for each new
         * system peer. */
        bool wrote = false;
        if (!s->synced)
            wrote = report(s, EVNT_SYNC, "clock_sync", NULL, sys, as, NULL, now, sb);
        s->synced = true;
        return report(s, PEVNT_NEWPEER, "sys_peer", NULL, sys, as, as, now, sb) || wrote;
    }
    if (ev->event == ENG_EV_UNSYNC)
        s->synced = false;
    if (ev->event == ENG_EV_DEMOBILIZE) {
        /* NTPsec: "restart timeout", then "demobilize assoc N" */
        char extra[32];
        struct ntk_sb x;
        ntk_sb_init(&x, extra, sizeof extra);
        ntk_sb_printf(&x, "assoc %u", (unsigned)ev->assoc_id);
        bool wrote = report(s, PEVNT_RESTART, "restart", ev->text, sys, sys_peer, as, now, sb);
        return report(s, PEVNT_DEMOBIL, "demobilize", extra, sys, sys_peer, as, now, sb) ||
               wrote;
    }
    unsigned code = 0;
    const char *msg = NULL;
    char extra[STATS_LINE_MAX / 4];
    if (!event_code(ev, &code, &msg, extra, sizeof extra))
        return false;
    return report(s, code, msg, extra[0] ? extra : NULL, sys, sys_peer, as, now, sb);
}

int dstats_raw_line(const struct eng_action *ev, const struct snap_assoc *as,
                    const struct ntk_addr *local, const struct timespec *now,
                    struct ntk_sb *sb)
{
    const struct eng_raw *w = &ev->raw;
    struct stats_raw r = {
        .now = *now,
        .src = {.label = NULL, .addr = ev->remote},
        .dst = {.family = NTK_ADDR_NONE},
        .t1 = w->t1,
        .t2 = w->t2,
        .t3 = w->t3,
        .t4 = w->t4,
        .leap = w->leap,
        .version = w->version,
        .mode = w->mode,
        .stratum = w->stratum,
        .poll_log2 = w->poll_log2,
        .precision_log2 = w->precision_log2,
        .root_delay_s = w->root_delay_s,
        .root_disp_s = w->root_disp_s,
        .refid = w->refid,
        .lost = w->lost,
        .dropped = w->dropped,
        .flash = ctlv_bogon_bits(w->flash), /* NTPsec's bits, as ntpq's flash */
    };
    if (r.src.addr.family == NTK_ADDR_NONE && as != NULL)
        r.src.addr = as->addr;
    r.src.addr.port = 0;
    if (local != NULL) {
        r.dst = *local;
        r.dst.port = 0;
    }
    return stats_fmt_raw(&r, sb);
}

/* ======================================================================================== */
/* From the engine                                                                          */
/* ======================================================================================== */

/* The association id in the engine's report into *out; false when there is none. */
static bool snap_one(const struct eng *e, uint32_t id, struct snap_system *sys,
                     struct snap_assoc *out)
{
    static struct snap_assoc as[DSTATS_PEERS_MAX];
    size_t n = eng_snap(e, loop_now_mono_ns(), sys, NULL, as, DSTATS_PEERS_MAX);
    for (size_t i = 0; i < n && i < DSTATS_PEERS_MAX; i++) {
        if (as[i].id == id && id != 0) {
            *out = as[i];
            return true;
        }
    }
    return false;
}

static void loop_line(struct dstats *s, const struct eng *e)
{
    struct snap_system sys;
    eng_snap(e, loop_now_mono_ns(), &sys, NULL, NULL, 0);
    struct stats_loop r = {.offset_s = sys.offset_s,
                           .freq_ppm = sys.freq_ppm,
                           .jitter_s = sys.clk_jitter_s, /* NTPsec: clock_jitter */
                           .wander_ppm = sys.clk_wander_ppm,
                           .poll_log2 = sys.poll_log2};
    clock_gettime(CLOCK_REALTIME, &r.now);
    char buf[STATS_LINE_MAX];
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    if (stats_fmt_loop(&r, &sb) == 0)
        append(&s->loop, &sb, s->start_mono_ns);
}

static void peer_line(struct dstats *s, const struct eng *e, uint32_t id)
{
    static struct snap_assoc as;
    if (!snap_one(e, id, NULL, &as))
        return;
    struct stats_peer r = {.src = {.label = as.refclock ? as.name : NULL, .addr = as.addr},
                           .status = peer_word(s, &as),
                           .offset_s = as.offset_s,
                           .delay_s = as.delay_s,
                           .disp_s = as.disp_s,
                           .jitter_s = as.jitter_s};
    r.src.addr.port = 0;
    clock_gettime(CLOCK_REALTIME, &r.now);
    char buf[STATS_LINE_MAX];
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    if (stats_fmt_peer(&r, &sb) == 0)
        append(&s->peer, &sb, s->start_mono_ns);
}

/* A reference clock's last timecode, once per accepted poll (NTPsec writes one per
 * timecode its drivers decode; ours hand the engine samples, which keeps the last one). */
static void clock_line(struct dstats *s, const struct eng *e, uint32_t id)
{
    static struct snap_assoc as;
    if (!snap_one(e, id, NULL, &as) || !as.refclock)
        return;
    struct stats_clock r = {.src = {.label = as.name}, .text = as.rc_timecode};
    clock_gettime(CLOCK_REALTIME, &r.now);
    char buf[STATS_LINE_MAX];
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    if (stats_fmt_clock(&r, &sb) == 0)
        append(&s->clock, &sb, s->start_mono_ns);
}

void dstats_raw(struct dstats *s, const struct eng *e, const struct eng_action *ev,
                const struct ntk_addr *local)
{
    if (!s->ready || !s->raw.enabled)
        return;
    static struct snap_assoc as;
    bool have = ev->remote.family != NTK_ADDR_NONE || snap_one(e, ev->assoc_id, NULL, &as);
    if (!have)
        return;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    char buf[STATS_LINE_MAX];
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    if (dstats_raw_line(ev, &as, local, &now, &sb) == 0)
        append(&s->raw, &sb, s->start_mono_ns);
}

static void proto_line(struct dstats *s, const struct eng *e, const struct eng_action *ev)
{
    static struct snap_assoc as;
    struct snap_system sys;
    bool have = snap_one(e, ev->assoc_id, &sys, &as);
    if (!have && ev->event == ENG_EV_DEMOBILIZE) {
        /* gone: what its status word needs (a pool member, heard or not) */
        as = (struct snap_assoc){.id = ev->assoc_id,
                                 .addr = ev->remote,
                                 .from_pool = true,
                                 .last_rx_mono_ns = ev->value != 0};
        have = true;
    }
    if (ev->assoc_id == 0) /* snap_one filled sys only */
        eng_snap(e, loop_now_mono_ns(), &sys, NULL, NULL, 0);
    static struct snap_assoc peer; /* the system peer: a refclock changes the source */
    bool have_peer = sys.sys_peer != 0 && snap_one(e, sys.sys_peer, NULL, &peer);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    char buf[2 * STATS_LINE_MAX];
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    if (dstats_proto_line(s, ev, &sys, have_peer ? &peer : NULL, have ? &as : NULL, &now, &sb))
        append(&s->proto, &sb, s->start_mono_ns);
}

void dstats_event(struct dstats *s, const struct eng *e, const struct eng_action *ev)
{
    if (!s->ready)
        return;
    switch (ev->event) {
    case ENG_EV_CLOCK_UPDATE:
        if (s->loop.enabled)
            loop_line(s, e);
        break;
    case ENG_EV_PEER_UPDATE:
        if (s->peer.enabled)
            peer_line(s, e, ev->assoc_id);
        if (s->clock.enabled)
            clock_line(s, e, ev->assoc_id);
        break;
    case ENG_EV_RAW:
        dstats_raw(s, e, ev, NULL);
        break;
    default:
        if (s->proto.enabled)
            proto_line(s, e, ev);
        break;
    }
}

/* ======================================================================================== */
/* The hourly sysstats and usestats lines                                                   */
/* ======================================================================================== */

static void on_sys_timer(void *ctx, int64_t now_mono_ns)
{
    struct ntpd *d = ctx;
    struct dstats *s = &d->stats;
    s->sys_timer = 0;
    struct snap_counters ec;
    eng_snap(d->eng, now_mono_ns, NULL, &ec, NULL, 0);
    struct stats_sys cum;
    dstats_counts(&d->srv.st, &ec, &cum);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    char buf[STATS_LINE_MAX];
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    /* The counters roll every hour whether or not the file is written: mode 6's ss_*
     * variables count since the last roll, as NTPsec's do. */
    if (dstats_sys_line(s, &cum, &now, now_mono_ns, &sb) && s->sys.enabled)
        append(&s->sys, &sb, s->start_mono_ns);
    struct rusage ru;
    ntk_sb_init(&sb, buf, sizeof buf);
    if (s->use.enabled && getrusage(RUSAGE_SELF, &ru) == 0 &&
        dstats_use_line(s, &ru, &now, now_mono_ns, &sb))
        append(&s->use, &sb, s->start_mono_ns);
    dstats_start(d);
}

void dstats_start(struct ntpd *d)
{
    struct dstats *s = &d->stats;
    if (!s->ready || d->loop == NULL)
        return;
    int64_t id =
        loop_timer(d->loop, s->sys_last_mono_ns + s->sys_interval_ns, on_sys_timer, d);
    s->sys_timer = id > 0 ? id : 0;
}
