/* SPDX-License-Identifier: BSD-2-Clause */
/* ntp.conf source and access lines: server/pool/peer with their options, and
 * restrict/unrestrict with an address, a CIDR prefix or a mask, and NTPsec's flags. */
#include <stdlib.h>
#include <string.h>

#include "conf_internal.h"
#include "ntk/err.h"

#include "ntk/aead.h"

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
        if (s->kind == CONF_SRV_POOL) {
            return cl_err(l, (size_t)k, "pool needs a host name (for an address use server)");
        }
        if (!family_ok(s->family, &s->cfg.addr)) {
            return cl_err(l, (size_t)k, "-%u given with an IPv%d address", s->family,
                          s->family == 4 ? 6 : 4);
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
        {"preempt", offsetof(struct conf_server, preempt)},
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
        if (cl_u32(l, min ? "minpoll" : "maxpoll", ENG_POLL_MIN, ENG_POLL_MAX, &v) < 0) {
            return -1;
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
        s->version = (uint8_t)v;
        return rc;
    }
    if (cl_is(l, k, "port")) {
        int rc = cl_u32(l, "port", 1, 65535, &v);
        s->cfg.addr.port = (uint16_t)v;
        return rc;
    }
    if (cl_is(l, k, "bias")) {
        return cl_double(l, "bias", -86400, 86400, &s->bias_s);
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
        size_t k = poll_k[0] > poll_k[1] ? poll_k[0] : poll_k[1];
        return cl_err(l, k, "minpoll %d is greater than maxpoll %d", s->cfg.minpoll_log2,
                      s->cfg.maxpoll_log2);
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
    eng_server_defaults(&s.cfg);
    s.kind = cl_is(l, 0, "pool")   ? CONF_SRV_POOL
             : cl_is(l, 0, "peer") ? CONF_SRV_PEER
                                   : CONF_SRV_SERVER;
    s.preempt = s.kind == CONF_SRV_POOL;
    s.version = 4;
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
