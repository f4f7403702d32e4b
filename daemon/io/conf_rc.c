/* SPDX-License-Identifier: BSD-2-Clause */
/* ntp.conf's reference clocks: `refclock NAME [options]` in NTPsec's syntax, the Classic
 * `server 127.127.TYPE.UNIT [options]` that NTPsec still takes, and `fudge 127.127.TYPE.UNIT`.
 * The drivers built here (shm, pps and chrony's sock), NTPsec's other driver names and type
 * numbers refused as not built, each option checked with its column. */
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

/* The type numbers of NTPsec's drivers (its refclock_conf[]), for 127.127.TYPE.UNIT. */
static const struct {
    uint8_t type;
    const char *name;
} numbered[] = {
    {1, "local"},     {4, "spectracom"}, {5, "truetime"}, {8, "generic"}, {11, "arbiter"},
    {18, "modem"},    {20, "nmea"},      {22, "pps"},     {26, "hpgps"},  {28, "shm"},
    {29, "trimble"},  {30, "oncore"},    {31, "jupiter"}, {40, "jjy"},    {42, "zyfer"},
    {44, "neoclock"}, {45, "tsyncpci"},  {46, "gpsd"},
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
    uint32_t given;              /* enum conf_fudge_bit: which fudge options were given */
    uint8_t flag_mask;           /* which of flag1..flag4 were given */
    bool fudge;                  /* a fudge line: only fudge options */
    bool by_address;             /* server 127.127.T.U: the address gives the unit */
};

static int take_flag(struct cline *l, struct rc_opts *o, unsigned bit)
{
    uint32_t v;
    if (cl_u32(l, "refclock flag", 0, 1, &v) < 0) {
        return -1;
    }
    o->r.cfg.flags =
        (uint8_t)(v ? o->r.cfg.flags | (1u << bit) : o->r.cfg.flags & ~(1u << bit));
    o->given |= CONF_FUDGE_FLAGS;
    o->flag_mask = (uint8_t)(o->flag_mask | (1u << bit));
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
    if (cl_int(l, max ? "refclock maxpoll" : "refclock minpoll", 0, 17, &v) < 0) {
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
    if (cl_is(l, k, "time1") || cl_is(l, k, "time2")) {
        bool one = cl_is(l, k, "time1");
        o->given |= one ? CONF_FUDGE_TIME1 : CONF_FUDGE_TIME2;
        return cl_double(l, one ? "refclock time1" : "refclock time2", -3600, 3600,
                         one ? &o->r.cfg.time1_s : &o->r.cfg.time2_s);
    }
    if (cl_is(l, k, "stratum")) {
        if (cl_u32(l, "refclock stratum", 0, 15, &u) < 0) {
            return -1;
        }
        o->r.cfg.stratum = (uint8_t)u;
        o->given |= CONF_FUDGE_STRATUM;
        return 0;
    }
    if (cl_is(l, k, "refid")) {
        o->given |= CONF_FUDGE_REFID;
        return take_refid(l, o);
    }
    for (unsigned f = 0; f < 4; f++) {
        char name[8] = {'f', 'l', 'a', 'g', (char)('1' + f), '\0'};
        if (cl_is(l, k, name)) {
            return take_flag(l, o, f);
        }
    }
    if (o->fudge) {
        return cl_err(l, k,
                      "fudge: unknown option '%s' (time1, time2, stratum, refid, "
                      "flag1..flag4)",
                      cl_show(l, k, b));
    }
    if (cl_is(l, k, "unit")) {
        if (o->by_address) {
            return cl_err(l, k, "unit: the address 127.127.TYPE.UNIT gives the unit");
        }
        if (cl_u32(l, "refclock unit", 0, 255, &u) < 0) {
            return -1;
        }
        o->r.cfg.unit = (uint8_t)u;
        return 0;
    }
    if (cl_is(l, k, "prefer") || cl_is(l, k, "noselect") || cl_is(l, k, "true")) {
        *(cl_is(l, k, "prefer")     ? &o->r.cfg.prefer
          : cl_is(l, k, "noselect") ? &o->r.cfg.noselect
                                    : &o->r.cfg.true_) = true;
        return 0;
    }
    if (cl_is(l, k, "iburst") || cl_is(l, k, "burst")) {
        return 0; /* NTPsec takes them and does nothing: a refclock is read every poll */
    }
    if (cl_is(l, k, "baud") || cl_is(l, k, "holdover")) {
        cl_warn(l, k, "refclock %s: no driver built here uses it; ignored", cl_show(l, k, b));
        return cl_u32(l, cl_is(l, k, "baud") ? "refclock baud" : "refclock holdover", 0,
                      UINT32_MAX, &u);
    }
    if (cl_is(l, k, "minpoll") || cl_is(l, k, "maxpoll")) {
        return take_poll(l, o, cl_is(l, k, "maxpoll"));
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
static int check_line(struct cline *l, const struct rc_opts *o, int drv)
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
            return cl_err(l, 1, "refclock: %s unit %u is already configured at line %u",
                          drivers[drv].word, (unsigned)c->unit,
                          (unsigned)l->c->refclocks[i].line);
        }
    }
    if (l->c->n_refclocks >= CONF_REFCLOCKS_MAX) {
        return cl_err(l, 0, "refclock: more than %d refclock lines", CONF_REFCLOCKS_MAX);
    }
    return 0;
}

static void opts_init(struct rc_opts *o, int drv, uint32_t line)
{
    memset(o, 0, sizeof *o);
    o->r.cfg.type = drivers[drv].type;
    o->r.cfg.minpoll_log2 = 4;
    o->r.cfg.maxpoll_log2 = 4;
    o->r.cfg.precision_log2 = -20;
    o->r.line = line;
}

/* The rest of a refclock's line: its options, the checks, and the refclock stored. */
static int take_refclock(struct cline *l, struct rc_opts *o, int drv)
{
    while (cl_more(l)) {
        if (take_option(l, o) < 0) {
            return -1;
        }
    }
    /* One poll given alone moves the other with it, as a server line's. */
    if (o->have_minpoll && !o->have_maxpoll && o->r.cfg.maxpoll_log2 < o->r.cfg.minpoll_log2) {
        o->r.cfg.maxpoll_log2 = o->r.cfg.minpoll_log2;
    }
    if (o->have_maxpoll && !o->have_minpoll && o->r.cfg.minpoll_log2 > o->r.cfg.maxpoll_log2) {
        o->r.cfg.minpoll_log2 = o->r.cfg.maxpoll_log2;
    }
    if (check_line(l, o, drv) < 0) {
        return -1;
    }
    struct ntk_sb sb;
    ntk_sb_init(&sb, o->r.cfg.device, sizeof o->r.cfg.device);
    ntk_sb_puts(&sb, drivers[drv].device);
    l->c->refclocks[l->c->n_refclocks++] = o->r;
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
    opts_init(&o, drv, l->line);
    return take_refclock(l, &o, drv);
}

bool conf_is_refclock_addr(const struct ntk_addr *a)
{
    return a->family == NTK_ADDR_V4 && a->ip[0] == 127 && a->ip[1] == 127;
}

/* The built driver of type number t, or -1 with the reason reported at token k. */
static int driver_of_type(struct cline *l, size_t k, uint8_t t)
{
    for (size_t i = 0; i < sizeof drivers / sizeof drivers[0]; i++) {
        if ((uint8_t)drivers[i].type == t) {
            return (int)i;
        }
    }
    for (size_t i = 0; i < sizeof numbered / sizeof numbered[0]; i++) {
        if (numbered[i].type == t) {
            return cl_err(l, k,
                          "127.127.%u.x is NTPsec's %s driver, not built into this ntpd "
                          "(built: shm 127.127.28.x, pps 127.127.22.x, sock 127.127.47.x)",
                          (unsigned)t, numbered[i].name);
        }
    }
    return cl_err(l, k, "127.127.%u.x: no reference clock driver has type %u", (unsigned)t,
                  (unsigned)t);
}

int conf_refclock_server(struct cline *l, size_t k, const struct ntk_addr *a)
{
    if (cl_is(l, 0, "pool")) {
        return cl_err(l, k, "a reference clock address cannot be a pool (use server)");
    }
    int drv = driver_of_type(l, k, a->ip[2]);
    if (drv < 0) {
        return -1;
    }
    struct rc_opts o;
    opts_init(&o, drv, l->line);
    o.r.cfg.unit = a->ip[3];
    o.by_address = true;
    return take_refclock(l, &o, drv);
}

int conf_do_fudge(struct cline *l)
{
    char b[64];
    int k = cl_take(l, "fudge address");
    if (k < 0) {
        return -1;
    }
    struct ntk_addr a;
    if (ntk_addr_parse_span(l->t[k].s, &a) != 0 || !conf_is_refclock_addr(&a)) {
        return cl_err(l, (size_t)k,
                      "fudge: '%s' is not a reference clock address "
                      "(127.127.TYPE.UNIT)",
                      cl_show(l, (size_t)k, b));
    }
    struct rc_opts o;
    memset(&o, 0, sizeof o);
    o.fudge = true;
    if (!cl_more(l)) {
        return cl_err(l, l->n, "fudge: missing option");
    }
    while (cl_more(l)) {
        if (take_option(l, &o) < 0) {
            return -1;
        }
    }
    struct conf_later f;
    memset(&f, 0, sizeof f);
    f.kind = CONF_LATER_FUDGE;
    f.rc = o.r.cfg;
    f.rc.type = (enum eng_rc_type)a.ip[2];
    f.rc.unit = a.ip[3];
    f.given = o.given;
    f.flag_mask = o.flag_mask;
    return conf_later_add(l, (size_t)k, &f);
}

bool conf_fudge_apply(struct conf *c, const struct conf_later *f)
{
    bool hit = false;
    for (size_t i = 0; i < c->n_refclocks; i++) {
        struct eng_refclock_cfg *r = &c->refclocks[i].cfg;
        if ((uint8_t)r->type != (uint8_t)f->rc.type || r->unit != f->rc.unit) {
            continue;
        }
        hit = true;
        if (f->given & CONF_FUDGE_TIME1)
            r->time1_s = f->rc.time1_s;
        if (f->given & CONF_FUDGE_TIME2)
            r->time2_s = f->rc.time2_s;
        if (f->given & CONF_FUDGE_STRATUM)
            r->stratum = f->rc.stratum;
        if (f->given & CONF_FUDGE_REFID)
            memcpy(r->refid, f->rc.refid, sizeof r->refid);
        if (f->given & CONF_FUDGE_FLAGS)
            r->flags = (uint8_t)((r->flags & ~f->flag_mask) | (f->rc.flags & f->flag_mask));
    }
    return hit;
}

bool conf_unpeer_clock(struct conf *c, uint8_t type, uint8_t unit)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_refclocks; i++) {
        const struct eng_refclock_cfg *r = &c->refclocks[i].cfg;
        bool hit = (uint8_t)r->type == type && r->unit == unit;
        if (!hit) {
            c->refclocks[n++] = c->refclocks[i];
        }
    }
    bool any = n != c->n_refclocks;
    c->n_refclocks = n;
    return any;
}

int conf_clock_type(const char *name)
{
    for (size_t i = 0; i < sizeof drivers / sizeof drivers[0]; i++) {
        if (strcmp(drivers[i].word, name) == 0) {
            return (int)drivers[i].type;
        }
    }
    for (size_t i = 0; i < sizeof numbered / sizeof numbered[0]; i++) {
        if (strcmp(numbered[i].name, name) == 0) {
            return numbered[i].type;
        }
    }
    return -1;
}
