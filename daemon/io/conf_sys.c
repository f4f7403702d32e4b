/* SPDX-License-Identifier: BSD-2-Clause */
/* ntp.conf system lines: discard, limit, mru, tos, tinker, file names, statistics and
 * filegen, logconfig, keys, interfaces, setvar, enable/disable, nts, rlimit. */
#include <string.h>

#include "conf_internal.h"
#include "ntk/err.h"
#include "ntk/sb.h"

#include "poison.h"

#define DAY_S 86400.0

/* A keyword option taking a value: matches token k against w and parses its value. */
struct kv_u32 {
    const char *w;   /* option name */
    uint32_t lo, hi; /* range */
    size_t off;      /* offset of the uint32_t (or int) field in the target struct */
};

/* Reads "opt value" pairs (at least one) into base from a table. is_int: int fields. */
static int kv_loop(struct cline *l, const char *what, const struct kv_u32 *tab, size_t n,
                   void *base, bool is_int)
{
    char b[64];
    if (!cl_more(l)) {
        return cl_err(l, l->n, "%s: missing option", what);
    }
    while (cl_more(l)) {
        size_t k = l->i++;
        size_t i = 0;
        while (i < n && !cl_is(l, k, tab[i].w)) {
            i++;
        }
        if (i == n) {
            return cl_err(l, k, "unknown %s option '%s'", what, cl_show(l, k, b));
        }
        uint32_t v;
        if (cl_u32(l, tab[i].w, tab[i].lo, tab[i].hi, &v) < 0) {
            return -1;
        }
        if (is_int) {
            int iv = (int)v;
            memcpy((char *)base + tab[i].off, &iv, sizeof iv);
        } else {
            memcpy((char *)base + tab[i].off, &v, sizeof v);
        }
    }
    return 0;
}

int conf_do_discard(struct cline *l)
{
    static const struct kv_u32 tab[] = {
        {"average", 0, 16, offsetof(struct conf_discard, average_log2)},
        {"minimum", 0, 3600, offsetof(struct conf_discard, minimum_s)},
        {"monitor", 0, 1000000, offsetof(struct conf_discard, monitor)},
    };
    struct conf_discard v = l->c->discard;
    for (size_t k = l->i; k < l->n; k += 2) {
        v.average_given = v.average_given || cl_is(l, k, "average");
    }
    if (kv_loop(l, "discard", tab, 3, &v, true) < 0) {
        return -1;
    }
    for (size_t k = 1; k < l->n; k += 2) {
        if (cl_is(l, k, "monitor")) {
            cl_warn(l, k, "discard monitor: not applied (NTPsec's MRU probability scale)");
        }
    }
    l->c->discard = v;
    return 0;
}

int conf_do_mru(struct cline *l)
{
#define MRU(name, field)                                                                      \
    {                                                                                         \
        name, 0, 100000000, offsetof(struct conf_mru, field)                                  \
    }
    static const struct kv_u32 tab[] = {
        MRU("maxage", maxage_s),     MRU("minage", minage_s),   MRU("maxdepth", maxdepth),
        MRU("mindepth", mindepth),   MRU("maxmem", maxmem_kib), MRU("initalloc", initalloc),
        MRU("initmem", initmem_kib), MRU("incalloc", incalloc), MRU("incmem", incmem_kib),
    };
#undef MRU
    struct conf_mru v = l->c->mru;
    if (kv_loop(l, "mru", tab, sizeof tab / sizeof tab[0], &v, false) < 0) {
        return -1;
    }
    l->c->mru = v;
    return 0;
}

int conf_do_rlimit(struct cline *l)
{
    static const struct kv_u32 tab[] = {
        {"memlock", 0, 1000000, offsetof(struct conf, rlimit_memlock_mib)},
        {"stacksize", 0, 1000000, offsetof(struct conf, rlimit_stacksize_4k)},
        {"filenum", 0, 1000000, offsetof(struct conf, rlimit_filenum)},
    };
    /* Parse into a copy of the three fields so an error applies none of them. */
    struct conf *c = l->c;
    uint32_t save[3] = {c->rlimit_memlock_mib, c->rlimit_stacksize_4k, c->rlimit_filenum};
    if (kv_loop(l, "rlimit", tab, 3, c, false) < 0) {
        c->rlimit_memlock_mib = save[0];
        c->rlimit_stacksize_4k = save[1];
        c->rlimit_filenum = save[2];
        return -1;
    }
    cl_warn(l, 0, "rlimit: not applied; ntpd sets its own limits");
    return 0;
}

/* A keyword option with a real value. */
struct kv_dbl {
    const char *w; /* option name */
    double lo, hi; /* range */
    size_t off;    /* offset of the double in the target */
    int which;     /* 0: first target, 1: second target */
};

/* Parses the value of option token k if the table has it. Returns 0, -1 (reported) or 1 (not
 * in the table). */
static int kvd_one(struct cline *l, size_t k, const struct kv_dbl *tab, size_t n, void *base0,
                   void *base1)
{
    for (size_t i = 0; i < n; i++) {
        if (cl_is(l, k, tab[i].w)) {
            double v;
            if (cl_double(l, tab[i].w, tab[i].lo, tab[i].hi, &v) < 0) {
                return -1;
            }
            memcpy((char *)(tab[i].which ? base1 : base0) + tab[i].off, &v, sizeof v);
            return 0;
        }
    }
    return 1;
}

/* The tos targets. */
struct tos_pair {
    struct eng_tos tos;      /* engine options */
    struct conf_tos_extra x; /* the others */
};

/* tos options with integer values. Returns 0, -1 or 1 (not one). */
static int tos_int(struct cline *l, size_t k, struct tos_pair *p)
{
    static const struct {
        const char *w;
        int lo, hi;
    } tab[] = {{"minclock", 1, 100}, {"maxclock", 1, 100}, {"minsane", 1, 100},
               {"floor", 0, 16},     {"ceiling", 0, 16},   {"cohort", 0, 1},
               {"orphan", 1, 16}};
    int cohort = 0;
    int *dst[] = {&p->tos.minclock, &p->tos.maxclock, &p->tos.minsane, &p->tos.floor,
                  &p->tos.ceiling,  &cohort,          &p->tos.orphan};
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        if (cl_is(l, k, tab[i].w)) {
            if (cl_int(l, tab[i].w, tab[i].lo, tab[i].hi, dst[i]) < 0) {
                return -1;
            }
            if (dst[i] == &cohort) {
                p->x.cohort = cohort != 0;
                cl_warn(l, k, "cohort: not applied by this ntpd (NTPsec 1.2.2 refuses it)");
            }
            if (dst[i] == &p->tos.ceiling && p->tos.ceiling > 15) {
                cl_warn(l, k, "ceiling %d: using 15, the highest (as NTPsec)", p->tos.ceiling);
                p->tos.ceiling = 15;
            }
            return 0;
        }
    }
    if (cl_is(l, k, "beacon")) {
        return cl_err(l, k, "beacon: manycast was removed from NTPsec");
    }
    if (cl_is(l, k, "bcpollbstep")) {
        return cl_err(l, k, "bcpollbstep: broadcast mode was removed from NTPsec");
    }
    return 1;
}

int conf_do_limit(struct cline *l)
{
    static const struct kv_dbl tab[] = {
        {"average", 0, 3600, offsetof(struct conf_limit, average_pps), 0},
        {"kod", 0, 3600, offsetof(struct conf_limit, kod_pps), 0},
    };
    struct conf_limit v = l->c->limit;
    char b[64];
    if (!cl_more(l)) {
        return cl_err(l, l->n, "limit: missing option");
    }
    while (cl_more(l)) {
        size_t k = l->i++;
        int rc = cl_is(l, k, "burst") ? cl_u32(l, "burst", 1, 1000000, &v.burst)
                                      : kvd_one(l, k, tab, 2, &v, &v);
        if (rc < 0) {
            return -1;
        }
        if (rc > 0) {
            return cl_err(l, k, "unknown limit option '%s'", cl_show(l, k, b));
        }
    }
    v.given = true;
    l->c->limit = v;
    return 0;
}

int conf_do_tos(struct cline *l)
{
    static const struct kv_dbl tab[] = {
        {"mindist", 0, 60, offsetof(struct eng_tos, mindist_s), 0},
        {"maxdist", 0.001, 60, offsetof(struct eng_tos, maxdist_s), 0},
        {"orphanwait", 0, DAY_S, offsetof(struct eng_tos, orphanwait_s), 0},
        {"maxdisp", 0.001, 60, offsetof(struct conf_tos_extra, maxdisp_s), 1},
    };
    char b[64];
    struct tos_pair p = {l->c->tos, l->c->tos_x};
    if (!cl_more(l)) {
        return cl_err(l, l->n, "tos: missing option");
    }
    while (cl_more(l)) {
        size_t k = l->i++;
        int rc = tos_int(l, k, &p);
        if (rc > 0) {
            rc = kvd_one(l, k, tab, 4, &p.tos, &p.x);
        }
        if (rc < 0) {
            return -1;
        }
        if (rc > 0) {
            return cl_err(l, k, "unknown tos option '%s'", cl_show(l, k, b));
        }
        if (cl_is(l, k, "maxdisp")) {
            cl_warn(l, k,
                    "maxdisp: not applied by this ntpd (maxdist bounds a source's "
                    "distance)");
        }
    }
    l->c->tos = p.tos;
    l->c->tos_x = p.x;
    return 0;
}

int conf_do_tinker(struct cline *l)
{
    static const struct kv_dbl tab[] = {
        {"step", 0, DAY_S, offsetof(struct eng_tinker, step_s), 0},
        {"stepout", 0, DAY_S, offsetof(struct eng_tinker, stepout_s), 0},
        {"panic", 0, 100 * DAY_S, offsetof(struct eng_tinker, panic_s), 0},
        {"dispersion", 0, 500, offsetof(struct eng_tinker, phi_ppm), 0},
        {"allan", 0, DAY_S, offsetof(struct conf_tinker_extra, allan_s), 1},
        {"huffpuff", 0, DAY_S, offsetof(struct conf_tinker_extra, huffpuff_s), 1},
        {"freq", -500, 500, offsetof(struct conf_tinker_extra, freq_ppm), 1},
        {"stepback", 0, DAY_S, offsetof(struct conf_tinker_extra, stepback_s), 1},
        {"stepfwd", 0, DAY_S, offsetof(struct conf_tinker_extra, stepfwd_s), 1},
    };
    char b[64];
    struct eng_tinker t = l->c->tinker;
    struct conf_tinker_extra x = l->c->tinker_x;
    if (!cl_more(l)) {
        return cl_err(l, l->n, "tinker: missing option");
    }
    while (cl_more(l)) {
        size_t k = l->i++;
        if (cl_is(l, k, "tick")) { /* NTPsec's sys_tick, as the `tick` directive */
            double v;
            if (cl_double(l, "tick", 0, 1, &v) < 0) {
                return -1;
            }
            cl_warn(l, k,
                    "tinker tick: this ntpd measures its clock's resolution itself; "
                    "ignored");
            continue;
        }
        int rc = kvd_one(l, k, tab, sizeof tab / sizeof tab[0], &t, &x);
        if (rc < 0) {
            return -1;
        }
        if (rc > 0) {
            return cl_err(l, k, "unknown tinker option '%s'", cl_show(l, k, b));
        }
        if (cl_is(l, k, "allan") || cl_is(l, k, "huffpuff")) {
            cl_warn(l, k,
                    "tinker %s: a knob of NTPsec's loop filter, which this ntpd's "
                    "discipline does not have; ignored",
                    cl_show(l, k, b));
        } else if (cl_is(l, k, "stepback") || cl_is(l, k, "stepfwd")) {
            cl_warn(l, k, "tinker %s: not applied; step is the threshold both ways",
                    cl_show(l, k, b));
        }
        x.have_freq = x.have_freq || cl_is(l, k, "freq");
    }
    l->c->tinker = t;
    l->c->tinker_x = x;
    return 0;
}

int conf_do_path(struct cline *l)
{
    struct conf *c = l->c;
    static const struct {
        const char *w;
        size_t off;
    } tab[] = {
        {"driftfile", offsetof(struct conf, driftfile)},
        {"leapfile", offsetof(struct conf, leapfile)},
        {"statsdir", offsetof(struct conf, statsdir)},
        {"logfile", offsetof(struct conf, logfile)},
        {"keys", offsetof(struct conf, keys)},
        {"ntpsigndsocket", offsetof(struct conf, signd_socket)},
        {"pidfile", offsetof(struct conf, pidfile)},
    };
    size_t i = 0;
    while (!cl_is(l, 0, tab[i].w)) {
        i++;
    }
    bool drift = cl_is(l, 0, "driftfile");
    if (drift && !cl_more(l)) {
        c->driftfile[0] = '\0'; /* NTPsec: "driftfile disabled" */
        return 0;
    }
    char tmp[CONF_PATH_MAX];
    if (cl_str(l, tab[i].w, tmp, sizeof tmp) < 0) {
        return -1;
    }
    if (drift && cl_more(l)) { /* driftfile FILE THRESHOLD: NTPsec's wander threshold */
        double x;
        if (cl_double(l, "driftfile threshold", 0, 1e-3, &x) < 0) {
            return -1;
        }
        c->drift_threshold_ppm = x * 1e6;
    }
    if (cl_end(l) < 0) {
        return -1;
    }
    if (cl_is(l, 0, "ntpsigndsocket")) {
        cl_warn(l, 0,
                "ntpsigndsocket: not applied; MS-SNTP signing is not built into this "
                "ntpd");
    }
    memcpy((char *)c + tab[i].off, tmp, sizeof tmp);
    return 0;
}

static const char *const stat_names[CONF_STAT_COUNT] = {
    "clockstats", "loopstats", "ntskestats", "ntsstats",    "peerstats",
    "protostats", "rawstats",  "sysstats",   "timingstats", "usestats",
};

/* The enum conf_stat of token k, or -1 (reported; cryptostats gets its reason). */
static int stat_of(struct cline *l, size_t k)
{
    char b[64];
    for (int i = 0; i < CONF_STAT_COUNT; i++) {
        if (cl_is(l, k, stat_names[i])) {
            return i;
        }
    }
    if (cl_is(l, k, "cryptostats")) {
        return cl_err(l, k, "cryptostats: Autokey was removed from NTPsec");
    }
    return cl_err(l, k, "unknown statistics file '%s'", cl_show(l, k, b));
}

int conf_do_statistics(struct cline *l)
{
    uint32_t mask = 0;
    if (!cl_more(l)) {
        return cl_err(l, l->n, "statistics: missing file name");
    }
    while (cl_more(l)) {
        size_t k = l->i++;
        int s = stat_of(l, k);
        if (s < 0) {
            return -1;
        }
        mask |= 1u << s;
        if (s == CONF_STAT_TIMINGSTATS || s == CONF_STAT_NTSSTATS ||
            s == CONF_STAT_NTSKESTATS) {
            char b[64];
            cl_warn(l, k, "%s: not written by this ntpd (nor by NTPsec 1.2.2)",
                    cl_show(l, k, b));
        }
    }
    l->c->stats_mask |= mask;
    for (int i = 0; i < CONF_STAT_COUNT; i++) {
        if (mask & (1u << i)) {
            l->c->filegen[i].enable = true;
        }
    }
    return 0;
}

static int filegen_type(struct cline *l, struct conf_filegen *f)
{
    static const char *const types[] = {"day", "none", "pid", "week", "month", "year", "age"};
    char b[64];
    int k = cl_take(l, "type");
    if (k < 0) {
        return -1;
    }
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (cl_is(l, (size_t)k, types[i])) {
            f->type = (enum conf_fg_type)i;
            return 0;
        }
    }
    return cl_err(l, (size_t)k, "type: unknown filegen type '%s'", cl_show(l, (size_t)k, b));
}

int conf_do_filegen(struct cline *l)
{
    char b[64];
    int k = cl_take(l, "filegen");
    if (k < 0) {
        return -1;
    }
    int s = stat_of(l, (size_t)k);
    if (s < 0) {
        return -1;
    }
    struct conf_filegen f = l->c->filegen[s];
    while (cl_more(l)) {
        size_t o = l->i++;
        if (cl_is(l, o, "file")) {
            if (cl_str(l, "file", f.file, sizeof f.file) < 0) {
                return -1;
            }
        } else if (cl_is(l, o, "type")) {
            if (filegen_type(l, &f) < 0) {
                return -1;
            }
        } else if (cl_is(l, o, "link") || cl_is(l, o, "nolink")) {
            f.link = cl_is(l, o, "link");
        } else if (cl_is(l, o, "enable") || cl_is(l, o, "disable")) {
            f.enable = cl_is(l, o, "enable");
        } else {
            return cl_err(l, o, "unknown filegen option '%s'", cl_show(l, o, b));
        }
    }
    l->c->filegen[s] = f;
    return 0;
}

/* One logconfig item as NTPsec's get_logmask reads it: [=+-]? (no prefix: '=', each such item
 * replacing the mask), then CLASS TYPE with CLASS all|clock|peer|sys|sync and TYPE
 * all|info|events|status|statistics; TYPE alone is the sys class; allclock, allpeer, allsys
 * and allsync are NTPsec's spellings of clockall... Stored as class and type. */
static bool logcfg_item(struct ntk_span s, struct conf_logcfg *out)
{
    static const char *const classes[] = {"all", "clock", "peer", "sys", "sync"};
    static const char *const whats[] = {"all", "info", "events", "status", "statistics"};
    out->op = '=';
    if (s.len > 0 && (s.p[0] == '=' || s.p[0] == '+' || s.p[0] == '-')) {
        out->op = s.p[0];
        s.p++;
        s.len--;
    }
    for (size_t j = 0; j < 5; j++) {
        if (ntk_span_eq(s, whats[j])) { /* no class: NTPsec's offset 0, the sys class */
            (void)ntk_span_cstr((struct ntk_span){"sys", 3}, out->class, sizeof out->class);
            (void)ntk_span_cstr(s, out->what, sizeof out->what);
            return true;
        }
    }
    for (size_t i = 1; i < 5; i++) {
        struct ntk_span cls = {classes[i], strlen(classes[i])};
        if (s.len == 3 + cls.len && memcmp(s.p, "all", 3) == 0 &&
            memcmp(s.p + 3, cls.p, cls.len) == 0) {
            (void)ntk_span_cstr(cls, out->class, sizeof out->class);
            (void)ntk_span_cstr((struct ntk_span){"all", 3}, out->what, sizeof out->what);
            return true;
        }
    }
    for (size_t i = 0; i < 5; i++) {
        size_t cl = strlen(classes[i]);
        if (s.len <= cl || memcmp(s.p, classes[i], cl) != 0) {
            continue;
        }
        struct ntk_span rest = {s.p + cl, s.len - cl};
        for (size_t j = 0; j < 5; j++) {
            if (ntk_span_eq(rest, whats[j])) {
                (void)ntk_span_cstr((struct ntk_span){s.p, cl}, out->class, sizeof out->class);
                (void)ntk_span_cstr(rest, out->what, sizeof out->what);
                return true;
            }
        }
    }
    return false;
}

int conf_do_logconfig(struct cline *l)
{
    char b[64];
    struct conf *c = l->c;
    if (!cl_more(l)) {
        return cl_err(l, l->n, "logconfig: missing item");
    }
    size_t first = c->n_logcfg;
    for (; cl_more(l); l->i++) {
        struct conf_logcfg it;
        if (!logcfg_item(l->t[l->i].s, &it)) {
            c->n_logcfg = first;
            return cl_err(l, l->i, "logconfig: bad item '%s'", cl_show(l, l->i, b));
        }
        if (c->n_logcfg >= CONF_LOGCFG_MAX) {
            c->n_logcfg = first;
            return cl_err(l, l->i, "logconfig: more than %d items", CONF_LOGCFG_MAX);
        }
        c->logcfg[c->n_logcfg++] = it;
    }
    return 0;
}

/* A key id in token text s (1..CONF_KEYID_MAX). */
static bool key_id(struct ntk_span s, uint32_t *out)
{
    uint64_t v;
    if (ntk_span_u64(s, &v, CONF_KEYID_MAX) != NTK_OK || v == 0) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

/* "(lo ... hi)" with the parentheses glued to the numbers or standing alone. */
static int key_range(struct cline *l, uint32_t *lo, uint32_t *hi)
{
    size_t k = l->i++;
    struct ntk_span s = l->t[k].s;
    s.p++;
    s.len--;
    if (s.len == 0) {
        if (!cl_more(l)) {
            return cl_err(l, l->n, "trustedkey: missing key id after '('");
        }
        k = l->i++;
        s = l->t[k].s;
    }
    if (!key_id(s, lo)) {
        return cl_err(l, k, "trustedkey: key ids are 1..%d", CONF_KEYID_MAX);
    }
    if (!cl_is(l, l->i, "...")) {
        return cl_err(l, l->i, "trustedkey: expected '...' in a range");
    }
    l->i++;
    if (!cl_more(l)) {
        return cl_err(l, l->n, "trustedkey: missing end of range");
    }
    k = l->i++;
    s = l->t[k].s;
    bool closed = s.len > 0 && s.p[s.len - 1] == ')';
    if (closed) {
        s.len--;
    }
    if (!key_id(s, hi)) {
        return cl_err(l, k, "trustedkey: key ids are 1..%d", CONF_KEYID_MAX);
    }
    if (!closed && !cl_is(l, l->i, ")")) {
        return cl_err(l, l->i, "trustedkey: expected ')' to end the range");
    }
    l->i += !closed;
    if (*lo > *hi) {
        return cl_err(l, k, "trustedkey: range %u ... %u is empty", *lo, *hi);
    }
    return 0;
}

int conf_do_trustedkey(struct cline *l)
{
    uint8_t set[sizeof l->c->trusted];
    memset(set, 0, sizeof set);
    if (!cl_more(l)) {
        return cl_err(l, l->n, "trustedkey: missing key id");
    }
    while (cl_more(l)) {
        uint32_t lo = 0, hi = 0;
        struct ntk_span s = l->t[l->i].s;
        if (s.len > 0 && s.p[0] == '(') {
            if (key_range(l, &lo, &hi) < 0) {
                return -1;
            }
        } else if (key_id(s, &lo)) {
            hi = lo;
            l->i++;
        } else {
            return cl_err(l, l->i, "trustedkey: key ids are 1..%d", CONF_KEYID_MAX);
        }
        for (uint32_t id = lo; id <= hi; id++) {
            set[id / 8] |= (uint8_t)(1u << (id % 8));
        }
    }
    for (size_t i = 0; i < sizeof set; i++) {
        l->c->trusted[i] |= set[i];
    }
    return 0;
}

int conf_do_controlkey(struct cline *l)
{
    uint32_t v;
    if (cl_u32(l, "controlkey", 1, CONF_KEYID_MAX, &v) < 0 || cl_end(l) < 0) {
        return -1;
    }
    l->c->controlkey = v;
    return 0;
}

static int nic_target(struct cline *l, size_t k, struct conf_nic *n)
{
    char b[64];
    static const char *const words[] = {"all", "ipv4", "ipv6", "wildcard"};
    for (size_t i = 0; i < 4; i++) {
        if (cl_is(l, k, words[i])) {
            n->match = (enum conf_nic_match)(CONF_NIC_ALL + (int)i);
            return 0;
        }
    }
    struct ntk_tok t;
    ntk_tok_init_span(&t, l->t[k].s);
    if (ntk_addr_parse(&t, &n->addr) == NTK_OK && n->addr.port == 0) {
        n->match = CONF_NIC_ADDR;
        if (ntk_tok_accept(&t, '/')) {
            uint64_t v;
            uint64_t max = n->addr.family == NTK_ADDR_V4 ? 32 : 128;
            if (ntk_tok_u64(&t, &v, max) != NTK_OK || !ntk_tok_eof(&t)) {
                return cl_err(l, k, "'%s': prefix length must be 0..%u", cl_show(l, k, b),
                              (unsigned)max);
            }
            n->prefix_len = (int)v;
        }
        return ntk_tok_eof(&t) ? 0 : cl_err(l, k, "'%s' is not an address", cl_show(l, k, b));
    }
    memset(&n->addr, 0, sizeof n->addr);
    struct ntk_span s = l->t[k].s;
    bool ok = s.len > 0 && s.len < sizeof n->name;
    for (size_t i = 0; ok && i < s.len; i++) {
        ok = s.p[i] > ' ' && s.p[i] < 0x7f && s.p[i] != '/';
    }
    if (!ok) {
        return cl_err(l, k, "'%s' is not an interface name or address", cl_show(l, k, b));
    }
    n->match = CONF_NIC_NAME;
    return ntk_span_cstr(s, n->name, sizeof n->name) == NTK_OK ? 0 : -1;
}

int conf_do_interface(struct cline *l)
{
    char b[64];
    struct conf_nic n;
    memset(&n, 0, sizeof n);
    n.prefix_len = -1;
    int k = cl_take(l, "interface action (listen, ignore or drop)");
    if (k < 0) {
        return -1;
    }
    if (cl_is(l, (size_t)k, "listen")) {
        n.action = CONF_NIC_LISTEN;
    } else if (cl_is(l, (size_t)k, "ignore")) {
        n.action = CONF_NIC_IGNORE;
    } else if (cl_is(l, (size_t)k, "drop")) {
        n.action = CONF_NIC_DROP;
    } else {
        return cl_err(l, (size_t)k, "interface: unknown action '%s' (listen, ignore or drop)",
                      cl_show(l, (size_t)k, b));
    }
    k = cl_take(l, "interface target");
    if (k < 0 || nic_target(l, (size_t)k, &n) < 0 || cl_end(l) < 0) {
        return -1;
    }
    if (l->c->n_nics >= CONF_NICS_MAX) {
        return cl_err(l, 0, "more than %d interface lines", CONF_NICS_MAX);
    }
    l->c->nics[l->c->n_nics++] = n;
    return 0;
}

static bool is_varname(const char *s)
{
    if (!*s) {
        return false;
    }
    for (; *s; s++) {
        char ch = *s;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-')) {
            return false;
        }
    }
    return true;
}

int conf_do_setvar(struct cline *l)
{
    struct conf_setvar v;
    memset(&v, 0, sizeof v);
    size_t end = l->n;
    if (end > l->i + 1 && cl_is(l, end - 1, "default")) {
        v.dflt = true;
        end--;
    }
    if (l->i >= end) {
        return cl_err(l, l->n, "setvar: missing NAME = VALUE");
    }
    char all[CONF_LINE_MAX + 1];
    struct ntk_sb sb;
    ntk_sb_init(&sb, all, sizeof all);
    for (size_t k = l->i; k < end; k++) {
        ntk_sb_putn(&sb, l->t[k].s.p, l->t[k].s.len);
        ntk_sb_putc(&sb, k + 1 < end ? ' ' : '\0');
    }
    char *eq = strchr(all, '=');
    if (!eq) {
        return cl_err(l, l->i, "setvar: expected NAME = VALUE");
    }
    struct ntk_span name = ntk_span_trim((struct ntk_span){all, (size_t)(eq - all)});
    struct ntk_span val = ntk_span_trim((struct ntk_span){eq + 1, strlen(eq + 1)});
    if (ntk_span_cstr(name, v.name, sizeof v.name) != NTK_OK || !is_varname(v.name)) {
        return cl_err(l, l->i, "setvar: bad variable name");
    }
    if (ntk_span_cstr(val, v.value, sizeof v.value) != NTK_OK) {
        return cl_err(l, l->i, "setvar: value longer than %zu bytes", sizeof v.value - 1);
    }
    if (l->c->n_setvars >= CONF_SETVARS_MAX) {
        return cl_err(l, 0, "more than %d setvar lines", CONF_SETVARS_MAX);
    }
    l->c->setvars[l->c->n_setvars++] = v;
    return 0;
}

int conf_do_enable(struct cline *l)
{
    static const struct {
        const char *w;
        uint32_t bit;
    } tab[] = {{"calibrate", CONF_SYS_CALIBRATE},
               {"kernel", CONF_SYS_KERNEL},
               {"monitor", CONF_SYS_MONITOR},
               {"ntp", CONF_SYS_NTP},
               {"stats", CONF_SYS_STATS}};
    char b[64];
    bool on = cl_is(l, 0, "enable");
    uint32_t bits = 0;
    if (!cl_more(l)) {
        return cl_err(l, l->n, "%s: missing flag", on ? "enable" : "disable");
    }
    for (; cl_more(l); l->i++) {
        size_t i = 0;
        while (i < 5 && !cl_is(l, l->i, tab[i].w)) {
            i++;
        }
        if (i < 5) {
            bits |= tab[i].bit;
        } else if (cl_is(l, l->i, "bclient")) {
            return cl_err(l, l->i, "bclient: broadcast mode was removed from NTPsec");
        } else if (cl_is(l, l->i, "mode7")) {
            return cl_err(l, l->i,
                          "mode7: mode 7 (ntpdc) was removed from NTPsec; ntpq "
                          "uses mode 6");
        } else {
            return cl_err(l, l->i, "unknown %s flag '%s'", on ? "enable" : "disable",
                          cl_show(l, l->i, b));
        }
    }
    l->c->sys_flags = on ? l->c->sys_flags | bits : l->c->sys_flags & ~bits;
    if (on && (bits & (CONF_SYS_KERNEL | CONF_SYS_CALIBRATE))) {
        cl_warn(l, 0,
                "enable %s: not applied; ntpd disciplines the clock itself, without "
                "the kernel's loop",
                (bits & CONF_SYS_KERNEL) ? "kernel" : "calibrate");
    }
    if (!on && (bits & CONF_SYS_MONITOR)) {
        struct conf_later m = {.kind = CONF_LATER_NOMONITOR};
        return conf_later_add(l, 0, &m);
    }
    return 0;
}

int conf_do_nts(struct cline *l)
{
    struct conf_nts_server *n = &l->c->nts;
    static const struct {
        const char *w;
        size_t off, cap;
    } tab[] = {
#define F(name, field) {name, offsetof(struct conf_nts_server, field), sizeof n->field}
        F("key", key),
        F("cert", cert),
        F("ca", ca),
        F("cookie", cookie),
        F("aead", aead),
        F("mintls", mintls),
        F("maxtls", maxtls),
        F("tlsciphersuites", ciphers),
        F("tlsecdhcurves", curves),
#undef F
    };
    char b[64];
    if (!cl_more(l)) {
        return cl_err(l, l->n, "nts: missing argument");
    }
    /* NTPsec takes several options on one line ("nts enable cert F key F"). */
    while (cl_more(l)) {
        size_t k = l->i++;
        if (cl_is(l, k, "keport")) {
            uint32_t v;
            if (cl_u32(l, "keport", 1, 65535, &v) < 0)
                return -1;
            n->keport = (uint16_t)v;
            continue;
        }
        if (cl_is(l, k, "enable") || cl_is(l, k, "disable")) {
            n->enable = cl_is(l, k, "enable");
            continue;
        }
        size_t i = 0;
        while (i < sizeof tab / sizeof tab[0] && !cl_is(l, k, tab[i].w)) {
            i++;
        }
        if (i == sizeof tab / sizeof tab[0]) {
            return cl_err(l, k, "unknown nts option '%s'", cl_show(l, k, b));
        }
        char tmp[CONF_PATH_MAX];
        if (cl_str(l, tab[i].w, tmp, tab[i].cap) < 0) {
            return -1;
        }
        memcpy((char *)n + tab[i].off, tmp, tab[i].cap);
    }
    return 0;
}

int conf_do_leapsmear(struct cline *l)
{
    uint32_t v;
    if (cl_u32(l, "leapsmearinterval", 0, 86400, &v) < 0 || cl_end(l) < 0) {
        return -1;
    }
    l->c->leapsmear_s = v;
    if (v > 0) {
        cl_warn(l, 0,
                "leapsmearinterval: leap smearing is not built into this ntpd (nor "
                "into Debian's NTPsec); a leap second is inserted, not smeared");
    }
    return 0;
}
