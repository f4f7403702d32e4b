/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd and names: server lines resolved to associations (failed lookups retried with
 * backoff, names of unreachable servers resolved again), restrict lines by name turned into
 * rules, and the `restrict source` template kept on every association's address. */
#include "daemon_internal.h"

#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "ntk/err.h"

#include "poison.h"

#define NS_PER_S 1000000000LL

/* How often the names are looked after (retries due, unreachable servers, source rules). */
#define DNAMES_TICK_S 4

/* A name looked up for a server or a restrict line. */
enum dn_kind { DN_SERVER, DN_RESTRICT };

struct dn_entry {
    enum dn_kind kind;
    size_t conf_index;          /* into d->conf.servers or d->conf.rules */
    const char *name;           /* the line's name (in d->conf) */
    int family;                 /* AF_UNSPEC, AF_INET (-4) or AF_INET6 (-6) */
    uint16_t port;              /* server: the port to poll */
    bool asking;                /* a lookup is out */
    bool done;                  /* restrict: its rules are in */
    struct resolve_retry retry; /* the failure backoff */
    int64_t next_mono_ns;       /* the next lookup (INT64_MAX: none planned) */
    uint32_t assoc_id;          /* server: its association (0: none yet) */
    struct dnames_reach reach;  /* server: when to look its name up again */
};

struct dnames {
    struct dn_entry *ent; /* one per name (owned) */
    size_t n, cap;
    bool have_source;                      /* a `restrict source` line */
    uint32_t src_flags;                    /* its flags */
    struct dnames_src src[DNAMES_SRC_MAX]; /* the source rules in force */
    size_t nsrc;
    int64_t timer; /* the loop timer (0: none) */
};

static struct dnames *get(struct ntpd *d)
{
    if (d->names != NULL)
        return d->names;
    struct dnames *g = calloc(1, sizeof *g);
    size_t cap = d->conf.n_servers + d->conf.n_rules;
    if (g == NULL || (cap > 0 && (g->ent = calloc(cap, sizeof *g->ent)) == NULL)) {
        free(g);
        log_msg(LOG_ERR, "names: out of memory");
        return NULL;
    }
    g->cap = cap;
    d->names = g;
    return g;
}

void dnames_free(struct ntpd *d)
{
    if (d->names == NULL)
        return;
    free(d->names->ent);
    free(d->names);
    d->names = NULL;
}

/* ---- the pure parts (test_dnames.c) ---- */

static bool has_id(const struct snap_assoc *as, size_t nas, uint32_t id, size_t *at)
{
    for (size_t i = 0; i < nas; i++)
        if (as[i].id == id) {
            *at = i;
            return true;
        }
    return false;
}

size_t dnames_sync_sources(struct rst_table *t, uint32_t flags, struct dnames_src *src,
                           size_t n, const struct snap_assoc *as, size_t nas)
{
    /* Gone, or moved to another address: the rule of the old address goes. */
    for (size_t i = 0; i < n;) {
        size_t k;
        if (has_id(as, nas, src[i].id, &k) && ntk_addr_eq(&as[k].addr, &src[i].addr)) {
            i++;
            continue;
        }
        (void)rst_remove_source(t, &src[i].addr);
        src[i] = src[--n];
    }
    for (size_t k = 0; k < nas && n < DNAMES_SRC_MAX; k++) {
        if (as[k].pool_line)
            continue; /* no address: its members are associations of their own */
        bool known = false;
        for (size_t i = 0; i < n && !known; i++)
            known = src[i].id == as[k].id;
        if (!known && rst_add_source(t, &as[k].addr, flags) == 0)
            src[n++] = (struct dnames_src){.id = as[k].id, .addr = as[k].addr};
    }
    return n;
}

bool dnames_should_reresolve(uint8_t reach, int8_t minpoll_log2, int64_t now_mono_ns,
                             struct dnames_reach *r)
{
    if (reach != 0) {
        r->mark_mono_ns = now_mono_ns;
        r->seen = true;
        return false;
    }
    if (r->seen)
        return true;
    int p = minpoll_log2 < 0 ? 0 : minpoll_log2 > 17 ? 17 : minpoll_log2;
    int64_t wait_ns = ((int64_t)DNAMES_UNREACH_POLLS << p) * NS_PER_S;
    return now_mono_ns - r->mark_mono_ns >= wait_ns;
}

/* ---- lookups ---- */

/* The associations now (at most DNAMES_SRC_MAX); returns how many. */
static size_t snapshot(struct ntpd *d, struct snap_assoc *as)
{
    size_t n = eng_snap(d->eng, loop_now_mono_ns(), NULL, NULL, as, DNAMES_SRC_MAX);
    return n < DNAMES_SRC_MAX ? n : DNAMES_SRC_MAX;
}

static void sync_sources(struct ntpd *d)
{
    struct dnames *g = d->names;
    if (g == NULL || !g->have_source)
        return;
    static struct snap_assoc as[DNAMES_SRC_MAX];
    size_t nas = snapshot(d, as);
    g->nsrc = dnames_sync_sources(d->rst, g->src_flags, g->src, g->nsrc, as, nas);
}

static void schedule_retry(struct dn_entry *e, const char *why)
{
    int s = resolve_retry_next_s(&e->retry);
    e->next_mono_ns = loop_now_mono_ns() + (int64_t)s * NS_PER_S;
    log_msg(LOG_WARNING, "%s %s: %s; retrying in %d s",
            e->kind == DN_SERVER ? "server" : "restrict", e->name, why, s);
}

static void ask(struct ntpd *d, struct dn_entry *e)
{
    uint32_t tag = (uint32_t)(e - d->names->ent) + 1;
    int rc = resolver_ask_tag(d->resolver, e->name, e->family, e->port, tag);
    if (rc < 0) {
        schedule_retry(e, strerror(-rc));
        return;
    }
    e->asking = true;
    e->next_mono_ns = INT64_MAX;
}

static struct dn_entry *add_entry(struct ntpd *d, enum dn_kind kind, size_t index,
                                  const char *name, int family, uint16_t port)
{
    struct dnames *g = get(d);
    if (g == NULL || g->n == g->cap)
        return NULL;
    struct dn_entry *e = &g->ent[g->n++];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->conf_index = index;
    e->name = name;
    e->family = family;
    e->port = port;
    resolve_retry_reset(&e->retry);
    ask(d, e);
    return e;
}

static bool same_server(const struct ntk_addr *a, const struct ntk_addr *b)
{
    return ntk_addr_eq(a, b) && a->port == b->port;
}

/* The first address of the answer no association polls (NTPsec's dns_take_server); NULL
 * when the association's own address is still in it (*still) or every one is taken. */
static const struct ntk_addr *pick(const struct resolve_answer *a, const struct snap_assoc *as,
                                   size_t nas, const struct ntk_addr *current, bool *still)
{
    *still = false;
    for (size_t i = 0; current != NULL && i < a->n; i++)
        *still = *still || same_server(&a->addrs[i], current);
    if (*still)
        return NULL;
    for (size_t i = 0; i < a->n; i++) {
        bool used = false;
        for (size_t k = 0; k < nas && !used; k++)
            used = same_server(&as[k].addr, &a->addrs[i]);
        if (!used)
            return &a->addrs[i];
    }
    return NULL;
}

/* A server name's answer: a new association, or the association moved. */
static void take_server(struct ntpd *d, struct dn_entry *e, const struct resolve_answer *a)
{
    static struct snap_assoc as[DNAMES_SRC_MAX];
    size_t nas = snapshot(d, as);
    size_t k = 0;
    const struct ntk_addr *current =
        e->assoc_id != 0 && has_id(as, nas, e->assoc_id, &k) ? &as[k].addr : NULL;
    bool still;
    const struct ntk_addr *addr = pick(a, as, nas, current, &still);
    int64_t now_mono = loop_now_mono_ns();
    char b1[NTK_ADDRSTR_MAX], b2[NTK_ADDRSTR_MAX];
    if (still) { /* the server is down, not moved: look again after another while */
        e->reach = (struct dnames_reach){.mark_mono_ns = now_mono};
        resolve_retry_reset(&e->retry);
        log_msg(LOG_INFO, "server %s: still %s", e->name, ntk_addr_format(current, b1));
        return;
    }
    if (addr == NULL) {
        schedule_retry(e, "every address it has is already an association");
        return;
    }
    struct eng_now now = daemon_now();
    int rc;
    if (e->assoc_id == 0) {
        struct eng_server_cfg c = d->conf.servers[e->conf_index].cfg;
        c.addr = *addr;
        rc = eng_add_server(d->eng, &c, &now);
        if (rc > 0) {
            e->assoc_id = (uint32_t)rc;
            log_msg(LOG_INFO, "server %s: %s, association %d", e->name,
                    ntk_addr_format(addr, b1), rc);
        }
    } else {
        rc = eng_set_server_addr(d->eng, e->assoc_id, addr, &now);
        if (rc == 0)
            log_msg(LOG_NOTICE, "server %s: unreachable at %s, association %u moves to %s",
                    e->name, current ? ntk_addr_format(current, b1) : "-",
                    (unsigned)e->assoc_id, ntk_addr_format(addr, b2));
    }
    if (rc < 0) {
        schedule_retry(e, ntk_strerror(rc));
        return;
    }
    e->reach = (struct dnames_reach){.mark_mono_ns = now_mono};
    resolve_retry_reset(&e->retry);
}

/* A restrict name's answer: one host rule per address, with the line's flags. */
static void take_restrict(struct ntpd *d, struct dn_entry *e, const struct resolve_answer *a)
{
    const struct conf_restrict *r = &d->conf.rules[e->conf_index];
    char b[NTK_ADDRSTR_MAX];
    for (size_t i = 0; i < a->n; i++) {
        struct ntk_addr h = a->addrs[i];
        h.port = 0;
        unsigned prefix = h.family == NTK_ADDR_V4 ? 32u : 128u;
        int rc = r->unrestrict ? rst_remove(d->rst, &h, prefix, r->flags)
                               : rst_add(d->rst, &h, prefix, r->flags);
        if (rc != 0 && rc != NTK_ENOTFOUND)
            log_msg(LOG_ERR, "line %u: restrict %s: %s", (unsigned)r->line, e->name,
                    ntk_strerror(rc));
        else
            log_msg(LOG_INFO, "line %u: %srestrict %s: %s", (unsigned)r->line,
                    r->unrestrict ? "un" : "", e->name, ntk_addr_format(&h, b));
    }
    e->done = true;
}

static void take_answer(struct ntpd *d, const struct resolve_answer *a)
{
    struct dnames *g = d->names;
    if (a->tag == 0) { /* a pool's: the engine asked */
        if (a->n == 0)
            log_msg(LOG_INFO, "pool %s: lookup failed: %s (asked again later)", a->name,
                    a->gai_err != 0 ? gai_strerror(a->gai_err) : "no address");
        else
            log_msg(LOG_INFO, "pool %s: resolved to %zu address%s", a->name, a->n,
                    a->n == 1 ? "" : "es");
        struct eng_now now = daemon_now();
        eng_on_resolved(d->eng, a->name, a->addrs, a->n, &now);
        return;
    }
    if (g == NULL || a->tag > g->n)
        return;
    struct dn_entry *e = &g->ent[a->tag - 1];
    e->asking = false;
    if (a->n == 0) {
        schedule_retry(e, a->gai_err != 0 ? gai_strerror(a->gai_err) : "no address");
        return;
    }
    if (e->kind == DN_SERVER)
        take_server(d, e, a);
    else
        take_restrict(d, e, a);
}

void dnames_on_resolved(void *ctx, int fd)
{
    (void)fd;
    struct ntpd *d = ctx;
    static struct resolve_answer a;
    while (resolver_take(d->resolver, &a) == 1)
        take_answer(d, &a);
    sync_sources(d); /* new pool members and servers */
    daemon_drain_actions(d);
}

/* Unreachable for DNAMES_UNREACH_POLLS polls: look the name up again. */
static void check_reach(struct ntpd *d, struct dn_entry *e, const struct snap_assoc *as,
                        size_t nas, int64_t now_mono)
{
    size_t k;
    if (e->assoc_id == 0 || e->asking || !has_id(as, nas, e->assoc_id, &k))
        return;
    int8_t minpoll = d->conf.servers[e->conf_index].cfg.minpoll_log2;
    if (dnames_should_reresolve(as[k].reach, minpoll, now_mono, &e->reach) &&
        e->next_mono_ns == INT64_MAX) {
        log_msg(LOG_INFO, "server %s: unreachable, resolving its name again", e->name);
        ask(d, e);
    }
}

static void on_timer(void *ctx, int64_t now_mono_ns)
{
    struct ntpd *d = ctx;
    struct dnames *g = d->names;
    static struct snap_assoc as[DNAMES_SRC_MAX];
    size_t nas = snapshot(d, as);
    for (size_t i = 0; i < g->n; i++) {
        struct dn_entry *e = &g->ent[i];
        if (!e->asking && e->next_mono_ns <= now_mono_ns)
            ask(d, e);
        else if (e->kind == DN_SERVER)
            check_reach(d, e, as, nas, now_mono_ns);
    }
    sync_sources(d); /* pool members dropped or replaced */
    g->timer = loop_timer(d->loop, now_mono_ns + DNAMES_TICK_S * NS_PER_S, on_timer, d);
    if (g->timer < 0)
        g->timer = 0;
}

void dnames_retry(struct ntpd *d)
{
    struct dnames *g = d->names;
    for (size_t i = 0; g != NULL && i < g->n; i++) {
        struct dn_entry *e = &g->ent[i];
        bool failed = e->kind == DN_SERVER ? e->assoc_id == 0 : !e->done;
        if (failed && !e->asking) {
            resolve_retry_reset(&e->retry);
            ask(d, e);
        }
    }
}

/* ---- configuration ---- */

void dnames_add_servers(struct ntpd *d)
{
    struct eng_now now = daemon_now();
    for (size_t i = 0; i < d->conf.n_servers; i++) {
        struct conf_server *s = &d->conf.servers[i];
        /* The line's -4/-6, else the command line's. */
        int family = s->family == 4 ? AF_INET : s->family == 6 ? AF_INET6 : d->opts.family;
        int rc = 0;
        if (s->kind == CONF_SRV_POOL)
            rc = eng_add_pool(d->eng, &s->cfg, &now);
        else if (s->cfg.addr.family == NTK_ADDR_NONE)
            rc = add_entry(d, DN_SERVER, i, s->cfg.name, family,
                           s->cfg.addr.port ? s->cfg.addr.port : 123) != NULL
                     ? 0
                     : NTK_ENOMEM;
        else
            rc = eng_add_server(d->eng, &s->cfg, &now);
        if (rc < 0)
            log_msg(LOG_ERR, "line %u: server %s: %s", (unsigned)s->line,
                    s->cfg.name[0] ? s->cfg.name : "(address)", ntk_strerror(rc));
    }
    sync_sources(d); /* the servers given by address */
    struct dnames *g = d->names;
    if (g != NULL && (g->n > 0 || g->have_source) && g->timer == 0) {
        g->timer = loop_timer(d->loop, now.mono_ns + DNAMES_TICK_S * NS_PER_S, on_timer, d);
        if (g->timer < 0)
            g->timer = 0;
    }
}

static void add_rule(struct ntpd *d, const struct conf_restrict *r, enum ntk_addr_family fam)
{
    struct ntk_addr net = r->addr;
    unsigned prefix = r->prefix_len;
    if (r->is_default) {
        memset(&net, 0, sizeof net);
        net.family = fam;
        prefix = 0;
    }
    int rc = r->unrestrict ? rst_remove(d->rst, &net, prefix, r->flags)
                           : rst_add(d->rst, &net, prefix, r->flags);
    if (rc != 0 && rc != NTK_ENOTFOUND)
        log_msg(LOG_ERR, "line %u: restrict: %s", (unsigned)r->line, ntk_strerror(rc));
}

/* `restrict source FLAGS`: the template every association's address gets (flags ORed over
 * the lines; `unrestrict source FLAGS` takes flags out of it). */
static void add_source(struct ntpd *d, const struct conf_restrict *r)
{
    struct dnames *g = get(d);
    if (g == NULL)
        return;
    g->have_source = true;
    if (r->unrestrict)
        g->src_flags &= ~r->flags;
    else
        g->src_flags |= r->flags;
}

/* A family without a `restrict default` line gets NTPsec's implicit default entry
 * (noquery limited: time for everyone, rate-limited, no mode 6), and the host itself may
 * still query (127.0.0.0/8 and ::1 get rules of their own, without flags; a line about them
 * adds its flags). */
static void add_implicit_defaults(struct ntpd *d)
{
    bool have[2] = {false, false};
    for (size_t i = 0; i < d->conf.n_rules; i++) {
        const struct conf_restrict *r = &d->conf.rules[i];
        if (r->is_default && !r->unrestrict) {
            have[0] = have[0] || r->family != 6;
            have[1] = have[1] || r->family != 4;
        }
    }
    static const char *const lo[2] = {"127.0.0.0", "::1"};
    for (int f = 0; f < 2; f++) {
        if (have[f])
            continue;
        struct ntk_addr any = {0}, host;
        any.family = f == 0 ? NTK_ADDR_V4 : NTK_ADDR_V6;
        (void)ntk_addr_parse_span((struct ntk_span){lo[f], strlen(lo[f])}, &host);
        int rc = rst_add(d->rst, &any, 0, RST_NOQUERY | RST_LIMITED);
        if (rc == 0)
            rc = rst_add(d->rst, &host, f == 0 ? 8 : 128, 0);
        if (rc != 0)
            log_msg(LOG_ERR, "implicit restrict rules: %s", ntk_strerror(rc));
        else
            log_msg(LOG_INFO,
                    "no `restrict default` for %s: the default rule is noquery limited "
                    "(as NTPsec's), and %s may query",
                    f == 0 ? "IPv4" : "IPv6", f == 0 ? "127.0.0.0/8" : "::1");
    }
}

void dnames_resolve_pool(struct ntpd *d, const char *name)
{
    int family = d->opts.family;
    uint16_t port = 123;
    for (size_t i = 0; i < d->conf.n_servers; i++) {
        const struct conf_server *s = &d->conf.servers[i];
        if (s->kind != CONF_SRV_POOL || strcmp(s->cfg.name, name) != 0)
            continue;
        family = s->family == 4 ? AF_INET : s->family == 6 ? AF_INET6 : family;
        port = s->cfg.addr.port != 0 ? s->cfg.addr.port : 123;
        break;
    }
    (void)resolver_ask(d->resolver, name, family, port);
}

void dnames_add_rules(struct ntpd *d)
{
    add_implicit_defaults(d);
    for (size_t i = 0; i < d->conf.n_rules; i++) {
        const struct conf_restrict *r = &d->conf.rules[i];
        int family = r->family == 4 ? AF_INET : r->family == 6 ? AF_INET6 : d->opts.family;
        if (r->is_default && r->family != 6)
            add_rule(d, r, NTK_ADDR_V4);
        if (r->is_default && r->family != 4)
            add_rule(d, r, NTK_ADDR_V6);
        if (r->is_default)
            continue;
        if (r->is_source)
            add_source(d, r);
        else if (r->addr.family != NTK_ADDR_NONE)
            add_rule(d, r, r->addr.family);
        else if (add_entry(d, DN_RESTRICT, i, r->name, family, 123) == NULL)
            log_msg(LOG_ERR, "line %u: restrict %s: out of memory", (unsigned)r->line,
                    r->name);
    }
}
