/* SPDX-License-Identifier: BSD-2-Clause */
/* The restrict ACL: rules sorted most specific first, longest-prefix lookup, hit counters. */
#include "restrict.h"

#include <stdlib.h>
#include <string.h>

#include "ntk/err.h"

#include "poison.h"

struct rst_table {
    struct rst_rule *rules; /* sorted: longer prefix first; the two defaults last */
    size_t n, cap;
};

static const char *const flag_names[RST_FLAG_COUNT] = {
    "ignore",    "kod",     "limited", "lowpriotrap", "mssntp",  "nomodify",
    "nomrulist", "noepeer", "nopeer",  "noquery",     "noserve", "notrap",
    "notrust",   "ntpport", "version", "flake",
};

static unsigned family_bits(enum ntk_addr_family f)
{
    return f == NTK_ADDR_V4 ? 32u : f == NTK_ADDR_V6 ? 128u : 0u;
}

/* Zeroes every bit of ip past prefix_len. */
static void mask_ip(uint8_t ip[16], unsigned prefix_len)
{
    for (unsigned i = 0; i < 16; i++) {
        unsigned lo = i * 8;
        if (prefix_len <= lo) {
            ip[i] = 0;
        } else if (prefix_len < lo + 8) {
            ip[i] &= (uint8_t)(0xffu << (8 - (prefix_len - lo)));
        }
    }
}

static bool prefix_match(const struct rst_rule *r, const uint8_t ip[16])
{
    unsigned full = r->prefix_len / 8, rest = r->prefix_len % 8;
    if (memcmp(r->ip, ip, full) != 0) {
        return false;
    }
    if (rest == 0) {
        return true;
    }
    uint8_t m = (uint8_t)(0xffu << (8 - rest));
    return (ip[full] & m) == r->ip[full];
}

struct rst_table *rst_new(void)
{
    struct rst_table *t = calloc(1, sizeof *t);
    if (!t) {
        return NULL;
    }
    t->cap = 8;
    t->rules = calloc(t->cap, sizeof *t->rules);
    if (!t->rules) {
        free(t);
        return NULL;
    }
    t->rules[0].family = NTK_ADDR_V4;
    t->rules[1].family = NTK_ADDR_V6;
    t->rules[0].conf = t->rules[1].conf = true;
    t->n = 2;
    return t;
}

void rst_free(struct rst_table *t)
{
    if (t) {
        free(t->rules);
        free(t);
    }
}

/* Builds the canonical rule key for net/prefix_len; false if invalid. */
static bool make_key(const struct ntk_addr *net, unsigned prefix_len, struct rst_rule *k)
{
    unsigned bits = family_bits(net->family);
    if (bits == 0 || prefix_len > bits) {
        return false;
    }
    memset(k, 0, sizeof *k);
    k->family = net->family;
    memcpy(k->ip, net->ip, 16);
    mask_ip(k->ip, prefix_len);
    k->prefix_len = (uint8_t)prefix_len;
    return true;
}

static size_t find(const struct rst_table *t, const struct rst_rule *k)
{
    for (size_t i = 0; i < t->n; i++) {
        const struct rst_rule *r = &t->rules[i];
        if (r->family == k->family && r->prefix_len == k->prefix_len &&
            memcmp(r->ip, k->ip, 16) == 0) {
            return i;
        }
    }
    return t->n;
}

/* Where a new rule goes: after every rule with a prefix at least as long. */
static size_t insert_pos(const struct rst_table *t, unsigned prefix_len)
{
    size_t i = 0;
    while (i < t->n && t->rules[i].prefix_len >= prefix_len && t->rules[i].prefix_len > 0) {
        i++;
    }
    return i;
}

static bool grow(struct rst_table *t)
{
    if (t->n < t->cap) {
        return true;
    }
    size_t cap = t->cap * 2;
    struct rst_rule *r = realloc(t->rules, cap * sizeof *r);
    if (!r) {
        return false;
    }
    t->rules = r;
    t->cap = cap;
    return true;
}

/* The flags a rule has in force: the configured ones, and the source template's while an
 * association holds it. */
static void refresh(struct rst_rule *r)
{
    r->flags = r->conf_flags | (r->src_refs > 0 ? r->src_flags : 0u);
}

/* The rule for key k, created (without flags, neither configured nor a source) when
 * missing; NULL when out of memory. */
static struct rst_rule *find_or_insert(struct rst_table *t, const struct rst_rule *k)
{
    size_t i = find(t, k);
    if (i < t->n) {
        return &t->rules[i];
    }
    if (!grow(t)) {
        return NULL;
    }
    i = insert_pos(t, k->prefix_len);
    memmove(&t->rules[i + 1], &t->rules[i], (t->n - i) * sizeof *t->rules);
    t->rules[i] = *k;
    t->n++;
    return &t->rules[i];
}

static void erase(struct rst_table *t, size_t i)
{
    memmove(&t->rules[i], &t->rules[i + 1], (t->n - i - 1) * sizeof *t->rules);
    t->n--;
}

int rst_add(struct rst_table *t, const struct ntk_addr *net, unsigned prefix_len,
            uint32_t flags)
{
    struct rst_rule k;
    if (!make_key(net, prefix_len, &k)) {
        return NTK_EINVAL;
    }
    struct rst_rule *r = find_or_insert(t, &k);
    if (!r) {
        return NTK_ENOMEM;
    }
    r->conf = true;
    r->conf_flags |= flags;
    refresh(r);
    return 0;
}

int rst_remove(struct rst_table *t, const struct ntk_addr *net, unsigned prefix_len,
               uint32_t flags)
{
    struct rst_rule k;
    if (!make_key(net, prefix_len, &k)) {
        return NTK_EINVAL;
    }
    size_t i = find(t, &k);
    if (i == t->n || !t->rules[i].conf) {
        return NTK_ENOTFOUND;
    }
    struct rst_rule *r = &t->rules[i];
    if (flags != 0 || prefix_len == 0) {
        r->conf_flags &= flags != 0 ? ~flags : 0u;
    } else if (r->src_refs > 0) {
        r->conf = false; /* the association's source rule stays */
        r->conf_flags = 0;
    } else {
        erase(t, i);
        return 0;
    }
    refresh(r);
    return 0;
}

/* The host rule key of a source address (unmapped, full prefix); false for no family. */
static bool source_key(const struct ntk_addr *addr, struct rst_rule *k)
{
    struct ntk_addr a = *addr;
    ntk_addr_unmap(&a);
    return make_key(&a, family_bits(a.family), k);
}

int rst_add_source(struct rst_table *t, const struct ntk_addr *addr, uint32_t flags)
{
    struct rst_rule k;
    if (!source_key(addr, &k)) {
        return NTK_EINVAL;
    }
    struct rst_rule *r = find_or_insert(t, &k);
    if (!r) {
        return NTK_ENOMEM;
    }
    r->src_refs++;
    r->src_flags |= flags;
    refresh(r);
    return 0;
}

int rst_remove_source(struct rst_table *t, const struct ntk_addr *addr)
{
    struct rst_rule k;
    if (!source_key(addr, &k)) {
        return NTK_EINVAL;
    }
    size_t i = find(t, &k);
    if (i == t->n || t->rules[i].src_refs == 0) {
        return NTK_ENOTFOUND;
    }
    struct rst_rule *r = &t->rules[i];
    if (--r->src_refs > 0) {
        return 0;
    }
    r->src_flags = 0;
    if (!r->conf) {
        erase(t, i);
        return 0;
    }
    refresh(r);
    return 0;
}

uint32_t rst_lookup(struct rst_table *t, const struct ntk_addr *addr)
{
    struct ntk_addr a = *addr;
    ntk_addr_unmap(&a);
    if (family_bits(a.family) == 0) {
        return RST_IGNORE;
    }
    for (size_t i = 0; i < t->n; i++) {
        struct rst_rule *r = &t->rules[i];
        bool port_ok = !(r->flags & RST_NTPPORT) || a.port == 123;
        if (r->family == a.family && port_ok && prefix_match(r, a.ip)) {
            r->hits++;
            return r->flags;
        }
    }
    return 0; /* only when a default rule has ntpport and the port is not 123 */
}

size_t rst_count(const struct rst_table *t)
{
    return t->n;
}

bool rst_get(const struct rst_table *t, size_t i, struct rst_rule *out)
{
    if (i >= t->n) {
        return false;
    }
    *out = t->rules[i];
    return true;
}

const char *rst_flag_name(unsigned i)
{
    return i < RST_FLAG_COUNT ? flag_names[i] : NULL;
}

int rst_flag_parse(const char *name, size_t len, uint32_t *flag)
{
    for (unsigned i = 0; i < RST_FLAG_COUNT; i++) {
        if (strlen(flag_names[i]) == len && memcmp(flag_names[i], name, len) == 0) {
            *flag = 1u << i;
            return 0;
        }
    }
    return NTK_ENOTFOUND;
}
