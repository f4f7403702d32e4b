/* SPDX-License-Identifier: BSD-2-Clause */
/* ntp.conf: the configuration's life cycle, its NTPsec defaults, the built-in configuration,
 * the diagnostics' format and the text entry point. */
#include <stdlib.h>
#include <string.h>

#include "conf_internal.h"
#include "ntk/err.h"
#include "ntk/sb.h"

#include "poison.h"

void conf_diags_init(struct conf_diags *d)
{
    memset(d, 0, sizeof *d);
}

size_t conf_diag_format(const struct conf_diag *g, char *buf, size_t cap)
{
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, cap);
    ntk_sb_printf(&sb, "%s:%u:%u: %s: %s", g->file, (unsigned)g->line, (unsigned)g->col,
                  g->sev == CONF_SEV_ERROR ? "error" : "warning", g->msg);
    return ntk_sb_len(&sb);
}

void conf_init(struct conf *c)
{
    memset(c, 0, sizeof *c);
    struct eng_cfg e;
    eng_cfg_defaults(&e);
    c->tos = e.tos;
    c->tinker = e.tinker;
    /* NTPsec's defaults (ntp.conf(5), ntp_config.c). */
    c->tos_x = (struct conf_tos_extra){.cohort = false, .maxdisp_s = 16};
    c->tinker_x = (struct conf_tinker_extra){.allan_s = 1500, .huffpuff_s = 7200};
    c->discard = (struct conf_discard){.average_log2 = 3, .minimum_s = 2, .monitor = 3000};
    c->limit = (struct conf_limit){.average_pps = 1.0, .burst = 20, .kod_pps = 0.5};
    c->sys_flags = CONF_SYS_KERNEL | CONF_SYS_MONITOR | CONF_SYS_NTP | CONF_SYS_STATS;
    c->dscp = CONF_DSCP_DEFAULT;
    for (int i = 0; i < CONF_STAT_COUNT; i++) {
        c->filegen[i].type = CONF_FG_DAY;
        c->filegen[i].link = true;
    }
}

void conf_free(struct conf *c)
{
    conf_include_fn fn = c->include_fn;
    void *ctx = c->include_ctx;
    free(c->servers);
    free(c->rules);
    free(c->later);
    conf_init(c);
    c->include_fn = fn;
    c->include_ctx = ctx;
}

/* The built-in configuration, as text so that it goes through the same checks. */
static const char default_text[] = "pool 2.debian.pool.ntp.org iburst\n"
                                   "restrict default kod limited nomodify noquery\n"
                                   "restrict 127.0.0.1\n"
                                   "restrict ::1\n";

int conf_default(struct conf *c)
{
    struct conf_diags d;
    conf_init(c);
    conf_diags_init(&d);
    int rc = conf_parse_text(c, "(built-in)", default_text, sizeof default_text - 1, &d);
    return rc == NTK_ENOMEM ? NTK_ENOMEM : NTK_OK;
}

bool conf_key_trusted(const struct conf *c, uint32_t id)
{
    return id >= 1 && id <= CONF_KEYID_MAX && (c->trusted[id / 8] >> (id % 8)) & 1;
}

int conf_parse_text(struct conf *c, const char *name, const char *text, size_t len,
                    struct conf_diags *d)
{
    struct conf_pctx px = {.c = c, .d = d, .name = name};
    size_t before = d->errors;
    c->parse_depth++;
    conf_parse_lines(&px, text, len);
    conf_parse_done(c, d);
    if (px.oom) {
        return NTK_ENOMEM;
    }
    return d->errors == before ? NTK_OK : NTK_EFORMAT;
}

int conf_do_include(struct cline *l)
{
    char path[CONF_PATH_MAX];
    size_t k = l->i;
    if (cl_str(l, "includefile", path, sizeof path) < 0 || cl_end(l) < 0) {
        return -1;
    }
    if (l->px->stack) {
        return conf_include_path(l, k, path);
    }
    if (!l->c->include_fn) {
        return cl_err(l, 0, "includefile: not allowed here");
    }
    int rc = l->c->include_fn(l->c->include_ctx, l->c, path, l->px->d);
    return rc == NTK_OK ? 0 : cl_err(l, k, "includefile: '%s' failed", path);
}

int conf_later_add(struct cline *l, size_t k, const struct conf_later *item)
{
    struct conf *c = l->c;
    int rc = conf_grow((void **)&c->later, &c->cap_later, c->n_later, sizeof *c->later,
                       CONF_LATER_MAX);
    if (rc == -2) {
        l->px->oom = true;
        return cl_err(l, 0, "out of memory");
    }
    if (rc < 0) {
        return cl_err(l, 0, "more than %d fudge and unpeer lines", CONF_LATER_MAX);
    }
    struct conf_later *f = &c->later[c->n_later++];
    *f = *item;
    struct ntk_sb sb;
    ntk_sb_init(&sb, f->file, sizeof f->file);
    ntk_sb_puts(&sb, l->px->name);
    f->line = l->line;
    f->col = k < l->n ? l->t[k].col : l->end_col;
    return 0;
}

/* True when some client may be rate limited: a restrict rule with `limited`, or a family
 * without a `restrict default` line (its implicit rule is "noquery limited"). */
static bool limited_in_effect(const struct conf *c)
{
    bool dflt4 = false, dflt6 = false;
    for (size_t i = 0; i < c->n_rules; i++) {
        const struct conf_restrict *r = &c->rules[i];
        if (r->unrestrict) {
            continue;
        }
        if (r->flags & CONF_RES_LIMITED) {
            return true;
        }
        if (r->is_default) {
            dflt4 = dflt4 || r->family != 6;
            dflt6 = dflt6 || r->family != 4;
        }
    }
    return !dflt4 || !dflt6;
}

void conf_parse_done(struct conf *c, struct conf_diags *d)
{
    if (c->parse_depth > 0 && --c->parse_depth > 0) {
        return;
    }
    for (size_t i = 0; i < c->n_later; i++) {
        const struct conf_later *f = &c->later[i];
        if (f->kind == CONF_LATER_NOMONITOR) {
            if (limited_in_effect(c) && !(c->sys_flags & CONF_SYS_MONITOR)) {
                c->sys_flags |= CONF_SYS_MONITOR;
                conf_diag_add(d, CONF_SEV_WARNING, f->file, f->line, f->col,
                              "disable monitor: kept on while a restrict rule (or the "
                              "implicit default one) has limited, as NTPsec");
            }
            continue;
        }
        bool fudge = f->kind == CONF_LATER_FUDGE;
        if (fudge ? conf_fudge_apply(c, f) : conf_unpeer_apply(c, f)) {
            continue;
        }
        conf_diag_add(d, CONF_SEV_WARNING, f->file, f->line, f->col,
                      "%s: no %s of this configuration has that %s; ignored (as NTPsec)",
                      fudge ? "fudge" : "unpeer",
                      fudge || f->clock ? "reference clock" : "server",
                      f->name[0] != '\0' ? "name" : "address");
    }
    c->n_later = 0;
}
