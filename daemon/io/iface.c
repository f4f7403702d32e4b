/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's interface rules: local addresses from getifaddrs and NTPsec's listen/ignore/drop
 * decision over them (iface.h). Everything but iface_enumerate is pure. */
#include "iface.h"

#include <errno.h>
#include <fnmatch.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "poison.h"

bool iface_is_virtual(const char *name)
{
    return name != NULL && strchr(name, ':') != NULL;
}

bool iface_is_loopback(const struct iface_addr *a)
{
    static const uint8_t v4[4] = {127, 0, 0, 1};
    static const uint8_t v6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (!(a->flags & IFACE_F_LOOPBACK))
        return false;
    if (a->addr.family == NTK_ADDR_V4)
        return memcmp(a->addr.ip, v4, sizeof v4) == 0;
    return a->addr.family == NTK_ADDR_V6 && memcmp(a->addr.ip, v6, sizeof v6) == 0;
}

static size_t addr_len(enum ntk_addr_family f)
{
    return f == NTK_ADDR_V4 ? 4 : 16;
}

static bool is_wildcard(const struct ntk_addr *a)
{
    static const uint8_t zero[16];
    return memcmp(a->ip, zero, addr_len(a->family)) == 0;
}

/* The first bits of a and b agree (same family). */
static bool prefix_eq(const struct ntk_addr *a, const struct ntk_addr *b, int bits)
{
    if (a->family != b->family || bits < 0 || (size_t)bits > 8 * addr_len(a->family))
        return false;
    size_t whole = (size_t)bits / 8;
    if (memcmp(a->ip, b->ip, whole) != 0)
        return false;
    unsigned rest = (unsigned)bits % 8;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return ((a->ip[whole] ^ b->ip[whole]) & mask) == 0;
}

/* An address rule without a prefix: the same address (and zone, when the rule names one). */
static bool addr_match(const struct conf_nic *n, const char *name, const struct ntk_addr *a)
{
    if (n->prefix_len >= 0)
        return prefix_eq(a, &n->addr, n->prefix_len);
    if (n->addr.family != a->family || memcmp(n->addr.ip, a->ip, addr_len(a->family)) != 0)
        return false;
    if (n->addr.scope_id != 0 && n->addr.scope_id != a->scope_id)
        return false;
    return n->addr.scope_name[0] == '\0' ||
           (name != NULL && strcmp(n->addr.scope_name, name) == 0);
}

static bool rule_match(const struct conf_nic *n, const char *name, const struct ntk_addr *a,
                       bool loopback)
{
    bool wild = name == NULL;
    switch (n->match) {
    case CONF_NIC_ALL:
        return !loopback && !wild; /* NTPsec: `all` leaves out loopback and wildcards */
    case CONF_NIC_IPV4:
        return a->family == NTK_ADDR_V4;
    case CONF_NIC_IPV6:
        return a->family == NTK_ADDR_V6;
    case CONF_NIC_WILDCARD:
        return wild;
    case CONF_NIC_ADDR:
        return addr_match(n, name, a);
    case CONF_NIC_NAME:
        return name != NULL && fnmatch(n->name, name, FNM_CASEFOLD) == 0;
    }
    return false;
}

enum iface_action iface_decide(const struct iface_rules *r, const char *name,
                               const struct ntk_addr *a, bool loopback)
{
    for (size_t i = r->n; i-- > 0;) {
        if (rule_match(&r->rule[i], name, a, loopback))
            return (enum iface_action)(r->rule[i].action == CONF_NIC_LISTEN ? IFACE_LISTEN
                                       : r->rule[i].action == CONF_NIC_DROP ? IFACE_DROP
                                                                            : IFACE_IGNORE);
    }
    if (loopback)
        return IFACE_LISTEN; /* ntpq's "localhost" keeps working */
    if (name == NULL)
        return IFACE_DROP; /* a wildcard: absorbs what no other socket takes */
    /* After the rules, so that `-I eth0:1 -L` listens on eth0:1. */
    if (r->no_virtual && iface_is_virtual(name))
        return IFACE_IGNORE;
    return r->n == 0 ? IFACE_LISTEN : IFACE_IGNORE;
}

int iface_rule_from_opt(const char *text, struct conf_nic *out)
{
    struct conf_nic n;
    memset(&n, 0, sizeof n);
    n.action = CONF_NIC_LISTEN;
    n.prefix_len = -1;
    size_t len = strlen(text);
    if (ntk_addr_parse_span((struct ntk_span){text, len}, &n.addr) == 0 && n.addr.port == 0) {
        n.match = CONF_NIC_ADDR;
        *out = n;
        return 0;
    }
    memset(&n.addr, 0, sizeof n.addr);
    if (len == 0 || len >= sizeof n.name)
        return -1;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)text[i] <= ' ' || (unsigned char)text[i] >= 0x7f || text[i] == '/')
            return -1;
    memcpy(n.name, text, len + 1);
    n.match = CONF_NIC_NAME;
    *out = n;
    return 0;
}

int iface_rules_build(struct iface_rules *r, const struct conf_nic *nics, size_t n_nics,
                      const char *const *opt_i, size_t n_opt_i, bool no_virtual, int af)
{
    memset(r, 0, sizeof *r);
    r->no_virtual = no_virtual;
    r->family = af == AF_INET ? NTK_ADDR_V4 : af == AF_INET6 ? NTK_ADDR_V6 : NTK_ADDR_NONE;
    if (n_nics > 0 && (n_opt_i > 0 || no_virtual))
        return -1;
    for (size_t i = 0; i < n_nics && r->n < IFACE_RULES_MAX; i++)
        r->rule[r->n++] = nics[i];
    for (size_t i = 0; i < n_opt_i && r->n < IFACE_RULES_MAX; i++) {
        if (iface_rule_from_opt(opt_i[i], &r->rule[r->n]) != 0) {
            r->n = 0;
            return -2;
        }
        r->n++;
    }
    return 0;
}

static bool family_ok(const struct iface_rules *r, enum ntk_addr_family f)
{
    return r->family == NTK_ADDR_NONE || r->family == f;
}

static enum iface_action wild_action(const struct iface_rules *r, enum ntk_addr_family f)
{
    if (!family_ok(r, f))
        return IFACE_IGNORE;
    struct ntk_addr w;
    memset(&w, 0, sizeof w);
    w.family = f;
    return iface_decide(r, NULL, &w, false);
}

/* Adds a to the plan, or merges it with the entry of the same address. */
static void plan_add(struct iface_plan *p, const struct iface_addr *a, enum iface_action act)
{
    for (size_t i = 0; i < p->n; i++) {
        if (ntk_addr_eq(&p->e[i].addr, &a->addr)) {
            if (p->e[i].action != act)
                p->e[i].action = IFACE_DROP; /* one socket cannot tell the labels apart */
            return;
        }
    }
    if (p->n == IFACE_PLAN_MAX) {
        p->overflow++;
        return;
    }
    struct iface_plan_entry *e = &p->e[p->n++];
    e->addr = a->addr;
    e->addr.port = 0;
    memcpy(e->name, a->name, sizeof e->name);
    e->name[sizeof e->name - 1] = '\0';
    e->action = act;
}

void iface_plan(const struct iface_rules *r, const struct iface_addr *in, size_t n,
                struct iface_plan *out)
{
    memset(out, 0, sizeof *out);
    out->per_address = r->n > 0 || r->no_virtual;
    if (!out->per_address) {
        out->wild4 = family_ok(r, NTK_ADDR_V4) ? IFACE_LISTEN : IFACE_IGNORE;
        out->wild6 = family_ok(r, NTK_ADDR_V6) ? IFACE_LISTEN : IFACE_IGNORE;
        return;
    }
    out->wild4 = wild_action(r, NTK_ADDR_V4);
    out->wild6 = wild_action(r, NTK_ADDR_V6);
    for (size_t i = 0; i < n; i++) {
        const struct iface_addr *a = &in[i];
        if (!(a->flags & IFACE_F_UP) || !family_ok(r, a->addr.family) ||
            (a->addr.family != NTK_ADDR_V4 && a->addr.family != NTK_ADDR_V6) ||
            is_wildcard(&a->addr))
            continue;
        enum iface_action act = iface_decide(r, a->name, &a->addr, iface_is_loopback(a));
        if (act != IFACE_IGNORE)
            plan_add(out, a, act);
    }
}

int iface_enumerate(struct iface_addr *out, size_t max, size_t *n)
{
    struct ifaddrs *all;
    if (getifaddrs(&all) != 0)
        return -errno;
    size_t k = 0;
    for (const struct ifaddrs *i = all; i != NULL && k < max; i = i->ifa_next) {
        if (i->ifa_addr == NULL ||
            (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
            continue;
        struct iface_addr *a = &out[k];
        memset(a, 0, sizeof *a);
        size_t len = i->ifa_addr->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                                       : sizeof(struct sockaddr_in6);
        if (ntk_addr_from_sockaddr(&a->addr, i->ifa_addr, len) != 0)
            continue;
        a->addr.port = 0;
        size_t nl = strnlen(i->ifa_name, sizeof a->name - 1);
        memcpy(a->name, i->ifa_name, nl);
        a->flags = ((i->ifa_flags & IFF_UP) ? IFACE_F_UP : 0u) |
                   ((i->ifa_flags & IFF_LOOPBACK) ? IFACE_F_LOOPBACK : 0u);
        k++;
    }
    freeifaddrs(all);
    *n = k;
    return 0;
}
