/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpq's JSON output (-j): json-c objects through cli_json, units from ctlvars.h. */
#include "nq_json.h"

#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_json.h"
#include "ntk/ctlvars.h"

#include "poison.h"

/* A new object with the keys every report has. */
static json_object *head(struct nq *q, const char *cmd)
{
    json_object *o = json_object_new_object();
    cli_json_str(o, "schema", NQ_JSON_SCHEMA);
    cli_json_str(o, "server", q->hostname);
    cli_json_str(o, "command", cmd);
    return o;
}

static void emit(struct nq *q, json_object *o)
{
    cli_json_line(o, q->out);
    json_object_put(o);
}

static void put_key(json_object *o, const char *name, const char *suffix, json_object *v)
{
    char key[NTK_CVAR_NAME_MAX + 8];
    struct ntk_sb sb;
    ntk_sb_init(&sb, key, sizeof key);
    ntk_sb_printf(&sb, "%s%s", name, suffix);
    json_object_object_add(o, key, v);
}

/* The value as JSON: integers, numbers in their own text (not rounded), strings. */
static json_object *typed(const struct nq_var *v)
{
    if (v->kind == NQ_INT)
        return json_object_new_int64(v->i);
    if (v->kind == NQ_FLOAT && isfinite(v->d))
        return json_object_new_double_s(v->d, v->raw);
    return json_object_new_string(v->str);
}

void nq_json_put_var(void *obj, const struct nq_var *v, double now_s)
{
    json_object *o = obj;
    struct ntk_span val = {.p = v->str, .len = strlen(v->str)};
    struct ntk_span name = {.p = v->name, .len = strlen(v->name)};
    double d, list[64];
    ntk_ts ts;
    switch (ntk_cvar_unit_of(name, NULL)) {
    case NTK_CVAR_MS:
        if (ntk_cvar_parse_ms(val, &d) == 0) {
            char key[NTK_CVAR_NAME_MAX + 4];
            struct ntk_sb sb;
            ntk_sb_init(&sb, key, sizeof key);
            ntk_sb_printf(&sb, "%s_s", v->name);
            cli_json_seconds(o, key, d);
            return;
        }
        break;
    case NTK_CVAR_MS_LIST: {
        int n = ntk_cvar_parse_ms_list(val, list, 64);
        if (n >= 0) {
            json_object *a = json_object_new_array();
            for (int i = 0; i < n; i++) {
                json_object *t = json_object_new_object();
                cli_json_seconds(t, "v", list[i]);
                json_object *x = NULL;
                json_object_object_get_ex(t, "v", &x);
                json_object_array_add(a, json_object_get(x));
                json_object_put(t);
            }
            put_key(o, v->name, "_s", a);
            return;
        }
        break;
    }
    case NTK_CVAR_PPM:
        if (ntk_cvar_parse_ppm(val, &d) == 0) {
            put_key(o, v->name, "_ppm", json_object_new_double_s(d, v->str));
            return;
        }
        break;
    case NTK_CVAR_TS:
        if (ntk_cvar_parse_ts(val, &ts) == 0) {
            char hk[NTK_CVAR_NAME_MAX + 8], ik[NTK_CVAR_NAME_MAX + 8];
            struct ntk_sb a, b;
            ntk_sb_init(&a, hk, sizeof hk);
            ntk_sb_init(&b, ik, sizeof ik);
            ntk_sb_printf(&a, "%s", v->name);
            ntk_sb_printf(&b, "%s_iso", v->name);
            struct timespec near = {.tv_sec = (time_t)now_s};
            cli_json_ts(o, hk, ik, ts, &near, true);
            return;
        }
        break;
    default:
        break;
    }
    json_object_object_add(o, v->name, typed(v));
}

static json_object *status_obj(int type, uint16_t status)
{
    char buf[256];
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    nq_put_statustoa(&sb, type, status);
    json_object *s = json_object_new_object();
    cli_json_int(s, "word", status, true);
    cli_json_str(s, "text", buf);
    return s;
}

static json_object *vars_obj(const struct nq_vars *vs, double now_s)
{
    json_object *o = json_object_new_object();
    for (size_t i = 0; i < vs->n; i++)
        nq_json_put_var(o, &vs->v[i], now_s);
    return o;
}

void nq_json_vars(struct nq *q, const char *cmd, uint16_t associd, uint16_t status, int type,
                  const struct nq_vars *vs)
{
    json_object *o = head(q, cmd);
    cli_json_int(o, "associd", associd, true);
    json_object_object_add(o, "status", status_obj(type, status));
    json_object_object_add(o, "vars", vars_obj(vs, q->io->now(q->io->ctx)));
    emit(q, o);
}

void nq_json_table(struct nq *q, const struct nq_stats_cmd *c, uint16_t associd,
                   uint16_t status, const struct nq_vars *vs)
{
    json_object *o = head(q, c->cmd);
    cli_json_int(o, "associd", associd, true);
    if (c->decodestatus)
        json_object_object_add(o, "status",
                               status_obj(associd == 0 ? NQ_TYPE_SYS : NQ_TYPE_PEER, status));
    json_object_object_add(o, "vars", vars_obj(vs, q->io->now(q->io->ctx)));
    emit(q, o);
}

void nq_json_assoc(struct nq *q)
{
    static const char *const cond[] = {"reject",    "falsetick", "excess",   "outlier",
                                       "candidate", "backup",    "sys.peer", "pps.peer"};
    json_object *o = head(q, "associations"), *a = json_object_new_array();
    for (size_t i = 0; i < q->nassoc; i++) {
        uint16_t s = q->status[i];
        json_object *e = json_object_new_object();
        cli_json_int(e, "index", (long long)i + 1, true);
        cli_json_int(e, "associd", q->ids[i], true);
        cli_json_int(e, "status", s, true);
        cli_json_bool(e, "configured", (s & 0x8000) != 0);
        cli_json_bool(e, "auth_enabled", (s & 0x4000) != 0);
        cli_json_bool(e, "authentic", (s & 0x2000) != 0);
        cli_json_bool(e, "reachable", (s & 0x1000) != 0);
        cli_json_bool(e, "broadcast", (s & 0x0800) != 0);
        cli_json_str(e, "condition", cond[(s >> 8) & 7]);
        cli_json_int(e, "event_count", (s >> 4) & 0xf, true);
        cli_json_int(e, "last_event", s & 0xf, true);
        json_object_array_add(a, e);
    }
    json_object_object_add(o, "associations", a);
    emit(q, o);
}

static const char *const mode_names[] = {"peers", "apeers", "opeers", "rpeers"};

void *nq_json_peers_begin(struct nq *q, enum nq_peers_mode m)
{
    json_object *o = head(q, mode_names[m]);
    json_object_object_add(o, "peers", json_object_new_array());
    return o;
}

void nq_json_peers_add(struct nq *q, void *js, uint16_t status, const struct nq_vars *vs,
                       uint16_t associd)
{
    json_object *arr = NULL, *e = json_object_new_object();
    json_object_object_get_ex(js, "peers", &arr);
    cli_json_int(e, "associd", associd, true);
    cli_json_str(e, "tally", (char[]){" x.-+#*o"[(status >> 8) & 7], '\0'});
    json_object_object_add(e, "status", status_obj(NQ_TYPE_PEER, status));
    json_object_object_add(e, "vars", vars_obj(vs, q->io->now(q->io->ctx)));
    json_object_array_add(arr, e);
}

void nq_json_peers_end(struct nq *q, void *js)
{
    emit(q, js);
}

void nq_json_mru(struct nq *q, const struct nq_mru *e, size_t n, double now_s)
{
    json_object *o = head(q, "mrulist"), *a = json_object_new_array();
    cli_json_seconds(o, "now_unix_s", now_s);
    for (size_t i = n; i-- > 0;) {
        json_object *x = json_object_new_object();
        cli_json_str(x, "addr", e[i].addr);
        cli_json_str(x, "first", e[i].first);
        cli_json_str(x, "last", e[i].last);
        cli_json_seconds(x, "first_unix_s", e[i].first_s);
        cli_json_seconds(x, "last_unix_s", e[i].last_s);
        cli_json_seconds(x, "lstint_s", now_s - e[i].last_s);
        cli_json_int(x, "count", e[i].ct, true);
        cli_json_int(x, "restrict", e[i].rs, true);
        cli_json_int(x, "mode", e[i].mv & 7, true);
        cli_json_int(x, "version", (e[i].mv >> 3) & 7, true);
        if (e[i].has_sc)
            json_object_object_add(x, "score", json_object_new_double(e[i].sc));
        else
            json_object_object_add(x, "score", NULL);
        cli_json_int(x, "drop", e[i].dr, e[i].has_dr);
        json_object_array_add(a, x);
    }
    json_object_object_add(o, "entries", a);
    emit(q, o);
}

void nq_json_ordlist(struct nq *q, const char *cmd, const struct nq_vars *vs, unsigned n)
{
    json_object *o = head(q, cmd), *a = json_object_new_array();
    for (unsigned k = 0; k < n; k++)
        json_object_array_add(a, json_object_new_object());
    for (size_t i = 0; i < vs->n; i++) {
        const char *dot = strrchr(vs->v[i].name, '.');
        if (dot == NULL)
            continue;
        unsigned long k = strtoul(dot + 1, NULL, 10);
        if (k >= n)
            continue;
        char stem[NTK_CVAR_NAME_MAX + 1];
        struct ntk_sb sb;
        ntk_sb_init(&sb, stem, sizeof stem);
        ntk_sb_putn(&sb, vs->v[i].name, (size_t)(dot - vs->v[i].name));
        struct nq_var v = vs->v[i];
        v.name = stem;
        nq_json_put_var(json_object_array_get_idx(a, k), &v, q->io->now(q->io->ctx));
    }
    json_object_object_add(o, "entries", a);
    emit(q, o);
}
