/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpq's variable lists: split, cleaned and typed the way NTPsec's ntpq (packet.py) does. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nq.h"

#include "poison.h"

/* Python's str.strip() whitespace among the bytes that survive the filter. */
static bool py_space(char c)
{
    return c != '\0' && strchr(NQ_PY_SPACE, c) != NULL;
}

/* Python's str.strip() in place: the start of s, its trailing whitespace cut. */
static char *py_strip(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && py_space(s[n - 1]))
        n--;
    s[n] = '\0';
    while (py_space(*s))
        s++;
    return s;
}

static bool digit_ok(int c, int base)
{
    if (base == 16)
        return isxdigit(c) != 0;
    return c >= '0' && c < '0' + base;
}

static int digit_val(int c)
{
    return isdigit(c) ? c - '0' : (tolower(c) - 'a' + 10);
}

/* Python int(s, 0): sign, 0x/0o/0b prefixes, single '_' between digits, no leading zeros
 * on a non-zero decimal. False when it is not one or does not fit. */
static bool py_int(const char *s, int64_t *out)
{
    bool neg = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    int base = 10;
    if (s[0] == '0' && s[1] != '\0' && strchr("xXoObB", s[1]) != NULL) {
        base = strchr("xX", s[1]) ? 16 : strchr("oO", s[1]) ? 8 : 2;
        s += 2;
        if (*s == '_')
            s++;
    } else if (s[0] == '0') {
        for (const char *q = s; *q; q++)
            if (*q != '0' && !(*q == '_' && q[1] == '0'))
                return false;
    }
    uint64_t v = 0;
    size_t nd = 0;
    for (; *s; s++) {
        if (*s == '_' && nd > 0 && s[1] != '\0' && s[1] != '_')
            continue;
        if (!digit_ok((unsigned char)*s, base))
            return false;
        uint64_t d = (uint64_t)digit_val((unsigned char)*s);
        if (v > (UINT64_MAX - d) / (uint64_t)base)
            return false;
        v = v * (uint64_t)base + d;
        nd++;
    }
    if (nd == 0 || v > (uint64_t)INT64_MAX)
        return false;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return true;
}

/* Python float(s) for the forms ntpd writes: decimals with exponents, inf, nan. */
static bool py_float(const char *s, double *out)
{
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    if (strcasecmp(p, "inf") == 0 || strcasecmp(p, "infinity") == 0 ||
        strcasecmp(p, "nan") == 0) {
        *out = strtod(s, NULL);
        return true;
    }
    size_t nd = 0;
    while (isdigit((unsigned char)*p))
        p++, nd++;
    if (*p == '.')
        for (p++; isdigit((unsigned char)*p); p++)
            nd++;
    if (nd == 0)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '-' || *p == '+')
            p++;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p != '\0')
        return false;
    *out = strtod(s, NULL);
    return true;
}

/* Types a value as packet.py does: int, then float, else a string without its quotes. */
static void type_value(struct nq_var *v, char *raw)
{
    v->raw = raw;
    v->str = raw;
    v->kind = NQ_STR;
    if (raw[0] == '\0')
        return;
    if (py_int(raw, &v->i)) {
        v->kind = NQ_INT;
        v->d = (double)v->i;
    } else if (py_float(raw, &v->d))
        v->kind = NQ_FLOAT;
    else if (raw[0] == '"' && raw[strlen(raw) - 1] == '"' && raw[1] != '\0') {
        raw[strlen(raw) - 1] = '\0';
        v->str = raw + 1;
        /* raw must keep its quotes: it lives on in a second copy. */
    }
}

/* FNV-1a of a name. */
static size_t name_hash(const char *name)
{
    uint32_t h = 2166136261u;
    for (; *name; name++)
        h = (h ^ (unsigned char)*name) * 16777619u;
    return h;
}

/* The slot that holds name, or the empty slot where it would go. */
static uint32_t *slot_of(const struct nq_vars *vs, const char *name)
{
    size_t mask = vs->nslots - 1;
    for (size_t i = name_hash(name) & mask;; i = (i + 1) & mask) {
        uint32_t *sl = &vs->slots[i];
        if (*sl == 0 || strcmp(vs->v[*sl - 1].name, name) == 0)
            return sl;
    }
}

const struct nq_var *nq_vars_get(const struct nq_vars *vs, const char *name)
{
    if (vs->nslots == 0)
        return NULL;
    uint32_t *sl = slot_of(vs, name);
    return *sl ? &vs->v[*sl - 1] : NULL;
}

/* Adds or replaces an item (OrderedDict semantics). */
static void add_item(struct nq_vars *vs, const char *name, char *raw, char *raw2)
{
    uint32_t *sl = slot_of(vs, name);
    if (*sl == 0) {
        vs->v[vs->n].name = name;
        *sl = (uint32_t)++vs->n;
    }
    struct nq_var *v = &vs->v[*sl - 1];
    type_value(v, raw2);
    v->raw = raw;
}

int nq_vars_parse(const char *text, size_t len, struct nq_vars *out)
{
    struct nq_vars vs = {0};
    size_t items = 1;
    for (size_t i = 0; i < len; i++)
        items += text[i] == ',';
    vs.v = calloc(items, sizeof *vs.v);
    vs.arena = malloc(3 * len + 8 * items + 1);
    for (vs.nslots = 16; vs.nslots < 2 * items;)
        vs.nslots *= 2;
    vs.slots = calloc(vs.nslots, sizeof *vs.slots);
    if (vs.v == NULL || vs.arena == NULL || vs.slots == NULL) {
        free(vs.v);
        free(vs.arena);
        free(vs.slots);
        return -1;
    }
    char *w = vs.arena;
    for (size_t i = 0; i < len && vs.n < items;) {
        /* One pair as packet.py's __parse_varlist cuts it: up to a ',' outside a string
         * ('"' toggles, with no escapes), NUL and bytes >= 127 dropped. A stray '"' in a
         * value (NTPsec 1.2.2's filter arrays of a new association) thus joins pairs as it
         * does in NTPsec's ntpq. */
        char *pair = w;
        bool instring = false;
        for (; i < len; i++) {
            unsigned char c = (unsigned char)text[i];
            if (c == '"') {
                *w++ = '"';
                instring = !instring;
            } else if (!instring && c == ',') {
                i++;
                break;
            } else if (c > 0 && c < 127) {
                *w++ = (char)c;
            }
        }
        *w++ = '\0';
        char *eq = strchr(pair, '=');
        char *value = eq != NULL ? eq + 1 : w - 1; /* no '=': the empty value */
        if (eq != NULL)
            *eq = '\0';
        const char *name = py_strip(pair);
        char *raw = py_strip(value);
        size_t rl = strlen(raw) + 1;
        char *raw2 = w; /* a second copy that type_value may cut */
        memcpy(raw2, raw, rl);
        w += rl;
        if (name[0] != '\0')
            add_item(&vs, name, raw, raw2);
    }
    *out = vs;
    return 0;
}

void nq_vars_free(struct nq_vars *vs)
{
    free(vs->v);
    free(vs->arena);
    free(vs->slots);
    memset(vs, 0, sizeof *vs);
}

unsigned nq_ordlist_count(const struct nq_vars *vs)
{
    unsigned n = 0;
    for (size_t i = 0; i < vs->n; i++) {
        const char *dot = strrchr(vs->v[i].name, '.');
        if (dot == NULL || !isdigit((unsigned char)dot[1]))
            continue;
        unsigned long k = strtoul(dot + 1, NULL, 10);
        if (k < 4096 && k + 1 > n)
            n = (unsigned)k + 1;
    }
    return n;
}
