/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd and names: server lines resolved to associations, and restrict lines to rules. */
#include "daemon_internal.h"

#include <netdb.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "ntk/err.h"

#include "poison.h"

/* A `server NAME` line's answer: its first address becomes an association. Pools go to the
 * engine, which asked for them. */
static void take_answer(struct ntpd *d, const struct resolve_answer *a)
{
    struct eng_now now = daemon_now();
    for (size_t i = 0; i < d->conf.n_servers; i++) {
        struct conf_server *s = &d->conf.servers[i];
        if (strcmp(s->cfg.name, a->name) != 0)
            continue;
        if (s->kind == CONF_SRV_POOL) {
            eng_on_resolved(d->eng, a->name, a->addrs, a->n, &now);
        } else if (a->n == 0) {
            log_msg(LOG_WARNING, "cannot resolve %s: %s", a->name, gai_strerror(a->gai_err));
        } else {
            struct eng_server_cfg c = s->cfg;
            uint16_t port = c.addr.port;
            c.addr = a->addrs[0];
            c.addr.port = port != 0 ? port : 123;
            int id = eng_add_server(d->eng, &c, &now);
            if (id < 0)
                log_msg(LOG_ERR, "server %s: %s", a->name, ntk_strerror(id));
        }
    }
}

void dnames_on_resolved(void *ctx, int fd)
{
    (void)fd;
    struct ntpd *d = ctx;
    static struct resolve_answer a;
    while (resolver_take(d->resolver, &a) == 1)
        take_answer(d, &a);
    daemon_drain_actions(d);
}

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
            rc = resolver_ask(d->resolver, s->cfg.name, family,
                              s->cfg.addr.port ? s->cfg.addr.port : 123);
        else
            rc = eng_add_server(d->eng, &s->cfg, &now);
        if (rc < 0)
            log_msg(LOG_ERR, "line %u: server %s: %s", (unsigned)s->line,
                    s->cfg.name[0] ? s->cfg.name : "(address)", ntk_strerror(rc));
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

void dnames_add_rules(struct ntpd *d)
{
    for (size_t i = 0; i < d->conf.n_rules; i++) {
        const struct conf_restrict *r = &d->conf.rules[i];
        if (r->is_default && r->family != 6)
            add_rule(d, r, NTK_ADDR_V4);
        if (r->is_default && r->family != 4)
            add_rule(d, r, NTK_ADDR_V6);
        if (!r->is_default && r->addr.family != NTK_ADDR_NONE)
            add_rule(d, r, r->addr.family);
        else if (!r->is_default)
            log_msg(LOG_WARNING, "line %u: restrict by name or `source` is not applied yet",
                    (unsigned)r->line);
    }
}
