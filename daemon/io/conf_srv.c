/* SPDX-License-Identifier: BSD-2-Clause */
/* ntp.conf source and access lines: server/pool/peer with their options, unpeer, and
 * restrict/unrestrict with an address, a CIDR prefix or a mask, and NTPsec's flags. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf_internal.h"
#include "ntk/err.h"

#include "ntk/aead.h"
#include "ntk/sb.h"

#include "poison.h"

/* A host name as DNS allows it (RFC 1123 §2.1 letters, digits, '-', '.'; '_' as seen in
 * practice), at most 253 bytes. */
static bool is_hostname(struct ntk_span s)
{
    if (s.len == 0 || s.len > 253 || s.p[0] == '-' || s.p[0] == '.') {
        return false;
    }
    bool alpha = false;
    for (size_t i = 0; i < s.len; i++) {
        char ch = s.p[i];
        bool letter = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
        alpha = alpha || letter;
        if (!letter && !(ch >= '0' && ch <= '9') && ch != '-' && ch != '.' && ch != '_') {
            return false;
        }
    }
    return alpha; /* all digits and dots: a malformed address, not a name */
}

/* Takes -4 / -6 if present. */
static uint8_t take_family(struct cline *l)
{
    if (cl_is(l, l->i, "-4")) {
        l->i++;
        return 4;
    }
    if (cl_is(l, l->i, "-6")) {
        l->i++;
        return 6;
    }
    return 0;
}

static bool family_ok(uint8_t fam, const struct ntk_addr *a)
{
    return fam == 0 || a->family == NTK_ADDR_NONE || (fam == 4) == (a->family == NTK_ADDR_V4);
}

/* Takes the address or host name of a server line. */
static int take_host(struct cline *l, struct conf_server *s)
{
    char b[64];
    int k = cl_take(l, "server address");
    if (k < 0) {
        return -1;
    }
    struct ntk_span h = l->t[k].s;
    if (ntk_addr_parse_span(h, &s->cfg.addr) == NTK_OK) {
        if (!family_ok(s->family, &s->cfg.addr)) {
            return cl_err(l, (size_t)k, "-%u given with an IPv%d address", s->family,
                          s->family == 4 ? 6 : 4);
        }
        if (s->kind == CONF_SRV_POOL) {
            /* NTPsec takes it: a pool whose name resolves to this one address. */
            struct ntk_addr a = s->cfg.addr;
            memset(&s->cfg.addr, 0, sizeof s->cfg.addr);
            s->cfg.addr.port = a.port;
            a.port = 0;
            struct ntk_sb sb;
            ntk_sb_init(&sb, s->cfg.name, sizeof s->cfg.name);
            ntk_addr_format_sb(&a, &sb);
        }
        return 0;
    }
    if (!is_hostname(h)) {
        return cl_err(l, (size_t)k, "'%s' is not an address or a host name",
                      cl_show(l, (size_t)k, b));
    }
    return ntk_span_cstr(h, s->cfg.name, sizeof s->cfg.name) == NTK_OK ? 0 : -1;
}

/* Options that set a flag. */
static bool server_flag(struct cline *l, size_t k, struct conf_server *s)
{
    static const struct {
        const char *w;
        size_t off;
    } flags[] = {
        {"iburst", offsetof(struct conf_server, cfg.iburst)},
        {"burst", offsetof(struct conf_server, cfg.burst)},
        {"prefer", offsetof(struct conf_server, cfg.prefer)},
        {"noselect", offsetof(struct conf_server, cfg.noselect)},
        {"true", offsetof(struct conf_server, cfg.true_)},
        {"noval", offsetof(struct conf_server, nts.noval)},
    };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        if (cl_is(l, k, flags[i].w)) {
            bool on = true;
            memcpy((char *)s + flags[i].off, &on, sizeof on);
            return true;
        }
    }
    return false;
}

/* One option with a value; k is its keyword. Returns 0, -1 (reported) or 1 (not one). */
static int server_valued(struct cline *l, size_t k, struct conf_server *s, size_t poll_k[2])
{
    uint32_t v;
    if (cl_is(l, k, "minpoll") || cl_is(l, k, "maxpoll")) {
        bool min = cl_is(l, k, "minpoll");
        if (cl_u32(l, min ? "minpoll" : "maxpoll", 0, ENG_POLL_MAX, &v) < 0) {
            return -1;
        }
        if (v < ENG_POLL_MIN) {
            cl_warn(l, k,
                    "%s %u: a server is polled at most every %d s (NTPsec, too, sends "
                    "its requests 2 s apart at least)",
                    min ? "minpoll" : "maxpoll", (unsigned)v, 1 << ENG_POLL_MIN);
            v = ENG_POLL_MIN;
        }
        *(min ? &s->cfg.minpoll_log2 : &s->cfg.maxpoll_log2) = (int8_t)v;
        poll_k[min ? 0 : 1] = k;
        return 0;
    }
    if (cl_is(l, k, "key")) {
        return cl_u32(l, "key", 1, CONF_KEYID_MAX, &s->cfg.key_id);
    }
    if (cl_is(l, k, "version")) {
        int rc = cl_u32(l, "version", 1, 4, &v);
        s->cfg.version = (uint8_t)v;
        return rc;
    }
    if (cl_is(l, k, "port")) {
        int rc = cl_u32(l, "port", 1, 65535, &v);
        s->cfg.addr.port = (uint16_t)v;
        return rc;
    }
    if (cl_is(l, k, "bias")) {
        return cl_double(l, "bias", -86400, 86400, &s->cfg.bias_s);
    }
    if (cl_is(l, k, "preempt")) {
        if (s->kind != CONF_SRV_POOL) {
            cl_warn(l, k,
                    "preempt: no effect on a server line (NTPsec 1.2.2 refuses it); "
                    "pool members are replaced when they stop answering");
        }
        s->preempt = true;
        return 0;
    }
    if (cl_is(l, k, "expire")) {
        return cl_u32(l, "expire", 1, 86400 * 365, &s->nts.expire_s);
    }
    if (cl_is(l, k, "ca")) {
        return cl_str(l, "ca", s->nts.ca, sizeof s->nts.ca);
    }
    if (cl_is(l, k, "aead")) {
        return cl_str(l, "aead", s->nts.aead, sizeof s->nts.aead);
    }
    if (cl_is(l, k, "ask")) {
        return cl_str(l, "ask", s->nts.ask, sizeof s->nts.ask);
    }
    return 1;
}

/* Server options NTPsec removed or that need a refclock. */
static int server_refused(struct cline *l, size_t k)
{
    char b[64];
    if (cl_is(l, k, "autokey")) {
        return cl_err(l, k, "autokey: Autokey was removed from NTPsec; use nts or key N");
    }
    if (cl_is(l, k, "xleave")) {
        return cl_err(l, k,
                      "xleave: interleaved mode was removed from NTPsec "
                      "(CVE-2016-1548, CVE-2018-7184)");
    }
    if (cl_is(l, k, "ttl")) {
        return cl_err(l, k, "ttl: manycast was removed from NTPsec");
    }
    if (cl_is(l, k, "mode") || cl_is(l, k, "subtype") || cl_is(l, k, "refid") ||
        cl_is(l, k, "stratum")) {
        return cl_err(l, k, "%s: reference clock options are not supported", cl_show(l, k, b));
    }
    return cl_err(l, k, "unknown server option '%s'", cl_show(l, k, b));
}

/* The NTS options of a server line agree with each other (nts_k: where `nts` was, or 0);
 * `ask` is parsed into cfg.nts_ask. */
static int server_nts_check(struct cline *l, struct conf_server *s, size_t nts_k)
{
    if (!s->nts.enabled) {
        if (s->nts.noval || s->nts.ca[0] || s->nts.aead[0] || s->nts.ask[0])
            return cl_err(l, 0, "ca, noval, aead and ask are options of nts: add nts");
        return 0;
    }
    if (s->cfg.key_id != 0)
        return cl_err(l, nts_k,
                      "nts and key %u: a server is authenticated one way or the "
                      "other, not both",
                      (unsigned)s->cfg.key_id);
    if (s->cfg.version != 4)
        return cl_err(l, nts_k, "nts needs NTP version 4 (RFC 8915), not version %u",
                      (unsigned)s->cfg.version);
    if (s->nts.ask[0] && ntk_addr_parse_span((struct ntk_span){s->nts.ask, strlen(s->nts.ask)},
                                             &s->cfg.nts_ask) != 0)
        return cl_err(l, nts_k,
                      "ask %s: an address, with an optional port (names are not "
                      "looked up for ask)",
                      s->nts.ask);
    if (s->nts.aead[0] && !ntk_aead_supported(ntk_aead_from_name(s->nts.aead)))
        return cl_err(l, nts_k,
                      "aead %s: not an AEAD this build supports "
                      "(AES_SIV_CMAC_256, AES_SIV_CMAC_384, AES_SIV_CMAC_512)",
                      s->nts.aead);
    return 0;
}

static int server_options(struct cline *l, struct conf_server *s)
{
    size_t poll_k[2] = {0, 0};
    size_t nts_k = 0;
    while (cl_more(l)) {
        size_t k = l->i++;
        if (cl_is(l, k, "nts")) {
            s->nts.enabled = true;
            s->cfg.nts = true;
            nts_k = k;
            continue;
        }
        if (server_flag(l, k, s)) {
            continue;
        }
        int rc = server_valued(l, k, s, poll_k);
        if (rc < 0) {
            return -1;
        }
        if (rc > 0) {
            return server_refused(l, k);
        }
    }
    if (s->cfg.minpoll_log2 > s->cfg.maxpoll_log2) {
        /* NTPsec lowers minpoll to maxpoll without a word; say it. */
        size_t k = poll_k[0] > poll_k[1] ? poll_k[0] : poll_k[1];
        cl_warn(l, k, "minpoll %d is above maxpoll %d: polling every 2^%d s (as NTPsec)%s",
                s->cfg.minpoll_log2, s->cfg.maxpoll_log2, s->cfg.maxpoll_log2,
                poll_k[1] == 0 ? "; give maxpoll too for longer polls" : "");
        s->cfg.minpoll_log2 = s->cfg.maxpoll_log2;
    }
    if (s->nts.enabled) { /* NTPsec: with nts, the line's port is the NTS-KE server's */
        s->cfg.nts_port = s->cfg.addr.port;
        s->cfg.addr.port = 0;
    }
    return server_nts_check(l, s, nts_k);
}

int conf_grow(void **arr, size_t *cap, size_t n, size_t sz, size_t max)
{
    if (n < *cap) {
        return 0;
    }
    if (n >= max) {
        return -1;
    }
    size_t ncap = *cap ? *cap * 2 : 8;
    if (ncap > max) {
        ncap = max;
    }
    void *p = realloc(*arr, ncap * sz);
    if (!p) {
        return -2;
    }
    *arr = p;
    *cap = ncap;
    return 0;
}

/* Appends *item to an array of the configuration, reporting a full one at token 0. */
static int append(struct cline *l, void **arr, size_t *n, size_t *cap, const void *item,
                  size_t sz, size_t max)
{
    int rc = conf_grow(arr, cap, *n, sz, max);
    if (rc == -2) {
        l->px->oom = true;
        return cl_err(l, 0, "out of memory");
    }
    if (rc < 0) {
        return cl_err(l, 0, "more than %zu such lines", max);
    }
    memcpy((char *)*arr + *n * sz, item, sz);
    (*n)++;
    return 0;
}

int conf_do_server(struct cline *l)
{
    struct conf_server s;
    memset(&s, 0, sizeof s);
    {
        /* 127.127.TYPE.UNIT: a reference clock, the Classic way NTPsec still takes. */
        size_t k = l->i + (cl_is(l, l->i, "-4") || cl_is(l, l->i, "-6"));
        struct ntk_addr a;
        if (k < l->n && ntk_addr_parse_span(l->t[k].s, &a) == NTK_OK &&
            conf_is_refclock_addr(&a)) {
            l->i = k + 1;
            return conf_refclock_server(l, k, &a);
        }
    }
    eng_server_defaults(&s.cfg);
    s.kind = cl_is(l, 0, "pool")   ? CONF_SRV_POOL
             : cl_is(l, 0, "peer") ? CONF_SRV_PEER
                                   : CONF_SRV_SERVER;
    s.preempt = s.kind == CONF_SRV_POOL;
    s.cfg.version = 4;
    s.line = l->line;
    s.family = take_family(l);
    if (take_host(l, &s) < 0 || server_options(l, &s) < 0) {
        return -1;
    }
    struct conf *c = l->c;
    /* The engine's tables: a line beyond them would only fail at start-up. */
    size_t pools = 0;
    for (size_t i = 0; i < c->n_servers; i++) {
        pools += c->servers[i].kind == CONF_SRV_POOL;
    }
    if (s.kind == CONF_SRV_POOL && pools == ENG_POOLS_MAX) {
        return cl_err(l, 0, "more than %d pool lines", ENG_POOLS_MAX);
    }
    if (s.kind != CONF_SRV_POOL && c->n_servers - pools == ENG_SERVERS_MAX) {
        return cl_err(l, 0, "more than %d server and peer lines", ENG_SERVERS_MAX);
    }
    return append(l, (void **)&c->servers, &c->n_servers, &c->cap_servers, &s, sizeof s,
                  CONF_SERVERS_MAX);
}

/* ----- restrict ------------------------------------------------------------------------- */

static const struct {
    const char *w;
    uint32_t bit;
} res_flags[] = {
    {"ignore", CONF_RES_IGNORE},       {"kod", CONF_RES_KOD},
    {"limited", CONF_RES_LIMITED},     {"lowpriotrap", CONF_RES_LOWPRIOTRAP},
    {"mssntp", CONF_RES_MSSNTP},       {"nomodify", CONF_RES_NOMODIFY},
    {"nomrulist", CONF_RES_NOMRULIST}, {"noepeer", CONF_RES_NOEPEER},
    {"nopeer", CONF_RES_NOPEER},       {"noquery", CONF_RES_NOQUERY},
    {"noserve", CONF_RES_NOSERVE},     {"notrap", CONF_RES_NOTRAP},
    {"notrust", CONF_RES_NOTRUST},     {"ntpport", CONF_RES_NTPPORT},
    {"version", CONF_RES_VERSION},     {"flake", CONF_RES_FLAKE},
};

/* The prefix length of a contiguous mask, or -1. */
static int mask_prefix(const struct ntk_addr *m)
{
    size_t nbytes = m->family == NTK_ADDR_V4 ? 4 : 16;
    int bits = 0;
    bool ended = false;
    for (size_t i = 0; i < nbytes; i++) {
        for (int b = 7; b >= 0; b--) {
            bool one = (m->ip[i] >> b) & 1;
            if (one && ended) {
                return -1;
            }
            ended = ended || !one;
            bits += one;
        }
    }
    return bits;
}

/* addr[/N] or a host name. */
static int restrict_target(struct cline *l, size_t k, struct conf_restrict *r)
{
    char b[64];
    struct ntk_tok t;
    ntk_tok_init_span(&t, l->t[k].s);
    if (ntk_addr_parse(&t, &r->addr) != NTK_OK || r->addr.port != 0) {
        memset(&r->addr, 0, sizeof r->addr);
        if (!is_hostname(l->t[k].s)) {
            return cl_err(l, k, "'%s' is not an address, a prefix or a host name",
                          cl_show(l, k, b));
        }
        return ntk_span_cstr(l->t[k].s, r->name, sizeof r->name) == NTK_OK ? 0 : -1;
    }
    uint8_t max = r->addr.family == NTK_ADDR_V4 ? 32 : 128;
    r->prefix_len = max;
    if (ntk_tok_accept(&t, '/')) {
        uint64_t v;
        if (ntk_tok_u64(&t, &v, max) != NTK_OK || !ntk_tok_eof(&t)) {
            return cl_err(l, k, "'%s': prefix length must be 0..%u", cl_show(l, k, b), max);
        }
        r->prefix_len = (uint8_t)v;
    }
    if (!ntk_tok_eof(&t)) {
        return cl_err(l, k, "'%s' is not an address or a prefix", cl_show(l, k, b));
    }
    if (!family_ok(r->family, &r->addr)) {
        return cl_err(l, k, "-%u given with an IPv%d address", r->family,
                      r->family == 4 ? 6 : 4);
    }
    return 0;
}

static int restrict_mask(struct cline *l, struct conf_restrict *r, bool cidr)
{
    char b[64];
    size_t kw = l->i - 1;
    int k = cl_take(l, "mask");
    if (k < 0) {
        return -1;
    }
    struct ntk_addr m;
    if (ntk_addr_parse_span(l->t[k].s, &m) != NTK_OK || m.port != 0 || m.scope_id != 0 ||
        m.scope_name[0] != '\0') {
        return cl_err(l, (size_t)k, "mask: '%s' is not an address", cl_show(l, (size_t)k, b));
    }
    if (r->addr.family == NTK_ADDR_NONE) {
        return cl_err(l, kw, "mask: only after an address");
    }
    if (cidr) {
        return cl_err(l, kw, "mask: the address already has a /prefix");
    }
    if (m.family != r->addr.family) {
        return cl_err(l, (size_t)k, "mask: not of the address's family");
    }
    int p = mask_prefix(&m);
    if (p < 0) {
        return cl_err(l, (size_t)k, "mask: '%s' is not contiguous", cl_show(l, (size_t)k, b));
    }
    r->prefix_len = (uint8_t)p;
    return 0;
}

static int restrict_flags(struct cline *l, struct conf_restrict *r, bool cidr)
{
    char b[64];
    while (cl_more(l)) {
        size_t k = l->i++;
        if (cl_is(l, k, "mask")) {
            if (restrict_mask(l, r, cidr) < 0) {
                return -1;
            }
            continue;
        }
        size_t i = 0;
        while (i < sizeof res_flags / sizeof res_flags[0] && !cl_is(l, k, res_flags[i].w)) {
            i++;
        }
        if (i == sizeof res_flags / sizeof res_flags[0]) {
            return cl_err(l, k, "unknown restrict flag '%s'", cl_show(l, k, b));
        }
        r->flags |= res_flags[i].bit;
        if (res_flags[i].bit &
            (CONF_RES_NOPEER | CONF_RES_NOEPEER | CONF_RES_NOTRAP | CONF_RES_LOWPRIOTRAP)) {
            /* NTPsec, too: "restrict nopeer ignored" */
            cl_warn(l, k, "restrict %s ignored (no peer mode, no traps)", res_flags[i].w);
        } else if (res_flags[i].bit == CONF_RES_MSSNTP) {
            cl_warn(l, k, "restrict mssntp: MS-SNTP signing is not applied by this ntpd");
        }
    }
    return 0;
}

int conf_do_restrict(struct cline *l)
{
    struct conf_restrict r;
    memset(&r, 0, sizeof r);
    r.unrestrict = cl_is(l, 0, "unrestrict");
    r.line = l->line;
    r.family = take_family(l);
    int k = cl_take(l, r.unrestrict ? "unrestrict address" : "restrict address");
    if (k < 0) {
        return -1;
    }
    bool cidr = false;
    if (cl_is(l, (size_t)k, "default")) {
        r.is_default = true;
    } else if (cl_is(l, (size_t)k, "source")) {
        r.is_source = true;
    } else {
        if (restrict_target(l, (size_t)k, &r) < 0) {
            return -1;
        }
        cidr = memchr(l->t[k].s.p, '/', l->t[k].s.len) != NULL;
    }
    if (restrict_flags(l, &r, cidr) < 0) {
        return -1;
    }
    struct conf *c = l->c;
    return append(l, (void **)&c->rules, &c->n_rules, &c->cap_rules, &r, sizeof r,
                  CONF_RULES_MAX);
}

/* ----- unpeer --------------------------------------------------------------------------- */

int conf_do_unpeer(struct cline *l)
{
    char b[64];
    struct conf_later u;
    memset(&u, 0, sizeof u);
    u.kind = CONF_LATER_UNPEER;
    if (cl_is(l, l->i, "clock")) { /* unpeer clock NAME [unit N] */
        l->i++;
        int k = cl_take(l, "unpeer clock driver");
        if (k < 0) {
            return -1;
        }
        char name[32];
        int t =
            ntk_span_cstr(l->t[k].s, name, sizeof name) == NTK_OK ? conf_clock_type(name) : -1;
        if (t < 0) {
            return cl_err(l, (size_t)k, "unpeer clock: unknown driver '%s'",
                          cl_show(l, (size_t)k, b));
        }
        uint32_t unit = 0;
        if (cl_is(l, l->i, "unit")) {
            l->i++;
            if (cl_u32(l, "unit", 0, 255, &unit) < 0) {
                return -1;
            }
        }
        if (cl_end(l) < 0) {
            return -1;
        }
        u.clock = true;
        u.rc.type = (enum eng_rc_type)t;
        u.rc.unit = (uint8_t)unit;
        return conf_later_add(l, (size_t)k, &u);
    }
    (void)take_family(l);
    int k = cl_take(l, "unpeer address");
    if (k < 0 || cl_end(l) < 0) {
        return -1;
    }
    struct ntk_span h = l->t[k].s;
    uint64_t id;
    if (ntk_span_u64(h, &id, UINT32_MAX) == NTK_OK) {
        cl_warn(l, (size_t)k,
                "unpeer %s: association ids are given at start-up, not known here; ignored",
                cl_show(l, (size_t)k, b));
        return 0;
    }
    if (ntk_addr_parse_span(h, &u.addr) == NTK_OK) {
        if (conf_is_refclock_addr(&u.addr)) {
            u.clock = true;
            u.rc.type = (enum eng_rc_type)u.addr.ip[2];
            u.rc.unit = u.addr.ip[3];
        }
    } else if (!is_hostname(h) || ntk_span_cstr(h, u.name, sizeof u.name) != NTK_OK) {
        return cl_err(l, (size_t)k, "'%s' is not an address or a host name",
                      cl_show(l, (size_t)k, b));
    }
    return conf_later_add(l, (size_t)k, &u);
}

static bool same_host(const struct conf_server *s, const struct conf_later *u)
{
    if (u->name[0] != '\0') {
        return strcasecmp(s->cfg.name, u->name) == 0;
    }
    return s->cfg.addr.family == u->addr.family &&
           memcmp(s->cfg.addr.ip, u->addr.ip, sizeof u->addr.ip) == 0;
}

bool conf_unpeer_apply(struct conf *c, const struct conf_later *u)
{
    if (u->clock) {
        return conf_unpeer_clock(c, (uint8_t)u->rc.type, u->rc.unit);
    }
    size_t n = 0;
    for (size_t i = 0; i < c->n_servers; i++) {
        if (!same_host(&c->servers[i], u)) {
            c->servers[n++] = c->servers[i];
        }
    }
    bool any = n != c->n_servers;
    c->n_servers = n;
    return any;
}
