/* SPDX-License-Identifier: BSD-2-Clause */
/* ntp.conf's `refclock NAME [options]` in NTPsec's syntax: the drivers built here (shm, pps
 * and chrony's sock), NTPsec's other driver names refused as not built, each option checked
 * with its column. */
#include <string.h>

#include "conf_internal.h"
#include "ntk/sb.h"

#include "poison.h"

/* NTPsec 1.2's other drivers (refclock_names in its ntp_refclock.c): named, not built. */
static const char *const unbuilt[] = {
    "local",    "spectracom", "truetime", "generic",  "arbiter", "modem",
    "nmea",     "hpgps",      "trimble",  "oncore",   "jjy",     "zyfer",
    "neoclock", "gpsd",       "jupiter",  "tsyncpci", "hopf",    "trimtsip",
};

/* The drivers built here (also ntpd -h / -V). */
static const struct {
    const char *word;
    enum eng_rc_type type;
    const char *device; /* cv `device`, as NTPsec's DESCRIPTION */
} drivers[] = {
    {"shm", ENG_RC_SHM, "SHM/Shared memory interface"},
    {"pps", ENG_RC_PPS, "PPS Clock Discipline"},
    {"sock", ENG_RC_SOCK, "SOCK/chrony refclock socket"},
};

/* What the options gave, before the defaults are filled in. */
struct rc_opts {
    struct conf_refclock r;
    bool have_minpoll, have_maxpoll;
    size_t minpoll_k, maxpoll_k; /* their tokens, for a poll range error */
};

static int take_flag(struct cline *l, struct rc_opts *o, unsigned bit)
{
    uint32_t v;
    if (cl_u32(l, "refclock flag", 0, 1, &v) < 0) {
        return -1;
    }
    o->r.cfg.flags =
        (uint8_t)(v ? o->r.cfg.flags | (1u << bit) : o->r.cfg.flags & ~(1u << bit));
    return 0;
}

static int take_refid(struct cline *l, struct rc_opts *o)
{
    char b[64];
    int k = cl_take(l, "refclock refid");
    if (k < 0) {
        return -1;
    }
    struct ntk_span s = l->t[k].s;
    bool ok = s.len >= 1 && s.len <= 4;
    for (size_t i = 0; ok && i < s.len; i++) {
        ok = s.p[i] > 0x20 && s.p[i] < 0x7f;
    }
    if (!ok) {
        return cl_err(l, (size_t)k, "refclock refid: 1 to 4 printable characters, got '%s'",
                      cl_show(l, (size_t)k, b));
    }
    memcpy(o->r.cfg.refid, s.p, s.len);
    o->r.cfg.refid[s.len] = '\0';
    return 0;
}

static int take_poll(struct cline *l, struct rc_opts *o, bool max)
{
    size_t k = l->i;
    int v;
    if (cl_int(l, max ? "refclock maxpoll" : "refclock minpoll", 1, 17, &v) < 0) {
        return -1;
    }
    if (max) {
        o->r.cfg.maxpoll_log2 = (int8_t)v;
        o->have_maxpoll = true;
        o->maxpoll_k = k;
    } else {
        o->r.cfg.minpoll_log2 = (int8_t)v;
        o->have_minpoll = true;
        o->minpoll_k = k;
    }
    return 0;
}

/* One option at the cursor (its keyword not yet taken). Returns 0 or -1 (reported). */
static int take_option(struct cline *l, struct rc_opts *o)
{
    char b[64];
    size_t k = l->i++;
    uint32_t u;
    if (cl_is(l, k, "unit")) {
        if (cl_u32(l, "refclock unit", 0, 255, &u) < 0) {
            return -1;
        }
        o->r.cfg.unit = (uint8_t)u;
        return 0;
    }
    if (cl_is(l, k, "prefer") || cl_is(l, k, "noselect")) {
        *(cl_is(l, k, "prefer") ? &o->r.cfg.prefer : &o->r.cfg.noselect) = true;
        return 0;
    }
    if (cl_is(l, k, "minpoll") || cl_is(l, k, "maxpoll")) {
        return take_poll(l, o, cl_is(l, k, "maxpoll"));
    }
    if (cl_is(l, k, "time1")) {
        return cl_double(l, "refclock time1", -3600, 3600, &o->r.cfg.time1_s);
    }
    if (cl_is(l, k, "time2")) {
        return cl_double(l, "refclock time2", -3600, 3600, &o->r.cfg.time2_s);
    }
    if (cl_is(l, k, "stratum")) {
        if (cl_u32(l, "refclock stratum", 0, 15, &u) < 0) {
            return -1;
        }
        o->r.cfg.stratum = (uint8_t)u;
        return 0;
    }
    if (cl_is(l, k, "refid")) {
        return take_refid(l, o);
    }
    for (unsigned f = 0; f < 4; f++) {
        char name[8] = {'f', 'l', 'a', 'g', (char)('1' + f), '\0'};
        if (cl_is(l, k, name)) {
            return take_flag(l, o, f);
        }
    }
    if (cl_is(l, k, "path")) {
        return cl_str(l, "refclock path", o->r.path, sizeof o->r.path);
    }
    if (cl_is(l, k, "ppspath")) {
        return cl_str(l, "refclock ppspath", o->r.ppspath, sizeof o->r.ppspath);
    }
    if (cl_is(l, k, "mode")) {
        return cl_u32(l, "refclock mode", 0, UINT32_MAX, &o->r.mode);
    }
    if (cl_is(l, k, "subtype")) {
        return cl_u32(l, "refclock subtype", 0, UINT32_MAX, &o->r.subtype);
    }
    return cl_err(l, k, "refclock: unknown option '%s'", cl_show(l, k, b));
}

/* The driver named by token k: its index in drivers[], or -1 (reported). */
static int find_driver(struct cline *l, size_t k)
{
    char b[64];
    for (size_t i = 0; i < sizeof drivers / sizeof drivers[0]; i++) {
        if (cl_is(l, k, drivers[i].word)) {
            return (int)i;
        }
    }
    for (size_t i = 0; i < sizeof unbuilt / sizeof unbuilt[0]; i++) {
        if (cl_is(l, k, unbuilt[i])) {
            return cl_err(l, k,
                          "refclock: the %s driver is not built into this ntpd (built: shm, "
                          "pps, sock)",
                          unbuilt[i]);
        }
    }
    return cl_err(l, k, "refclock: unknown driver '%s' (built: shm, pps, sock)",
                  cl_show(l, k, b));
}

/* The checks that need the whole line. */
static int check_line(struct cline *l, const struct rc_opts *o)
{
    const struct eng_refclock_cfg *c = &o->r.cfg;
    if (c->minpoll_log2 > c->maxpoll_log2) {
        return cl_err(l, o->have_maxpoll ? o->maxpoll_k : o->minpoll_k,
                      "refclock: minpoll %d is above maxpoll %d", c->minpoll_log2,
                      c->maxpoll_log2);
    }
    if (c->type == ENG_RC_SOCK && o->r.path[0] == '\0') {
        return cl_err(l, l->n, "refclock sock: path is required (the socket ntpd binds)");
    }
    for (size_t i = 0; i < l->c->n_refclocks; i++) {
        const struct eng_refclock_cfg *p = &l->c->refclocks[i].cfg;
        if (p->type == c->type && p->unit == c->unit) {
            char b[64];
            return cl_err(l, 1, "refclock: %s unit %u is already configured at line %u",
                          cl_show(l, 1, b), (unsigned)c->unit,
                          (unsigned)l->c->refclocks[i].line);
        }
    }
    if (l->c->n_refclocks >= CONF_REFCLOCKS_MAX) {
        return cl_err(l, 0, "refclock: more than %d refclock lines", CONF_REFCLOCKS_MAX);
    }
    return 0;
}

int conf_do_refclock(struct cline *l)
{
    int k = cl_take(l, "refclock");
    if (k < 0) {
        return -1;
    }
    int drv = find_driver(l, (size_t)k);
    if (drv < 0) {
        return -1;
    }
    struct rc_opts o;
    memset(&o, 0, sizeof o);
    o.r.cfg.type = drivers[drv].type;
    o.r.cfg.minpoll_log2 = 4;
    o.r.cfg.maxpoll_log2 = 4;
    o.r.cfg.precision_log2 = -20;
    o.r.line = l->line;
    while (cl_more(l)) {
        if (take_option(l, &o) < 0) {
            return -1;
        }
    }
    /* One poll given alone moves the other with it, as a server line's. */
    if (o.have_minpoll && !o.have_maxpoll && o.r.cfg.maxpoll_log2 < o.r.cfg.minpoll_log2) {
        o.r.cfg.maxpoll_log2 = o.r.cfg.minpoll_log2;
    }
    if (o.have_maxpoll && !o.have_minpoll && o.r.cfg.minpoll_log2 > o.r.cfg.maxpoll_log2) {
        o.r.cfg.minpoll_log2 = o.r.cfg.maxpoll_log2;
    }
    if (check_line(l, &o) < 0) {
        return -1;
    }
    struct ntk_sb sb;
    ntk_sb_init(&sb, o.r.cfg.device, sizeof o.r.cfg.device);
    ntk_sb_puts(&sb, drivers[drv].device);
    l->c->refclocks[l->c->n_refclocks++] = o.r;
    return 0;
}
