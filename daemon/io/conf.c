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
    c->tos_x =
        (struct conf_tos_extra){.floor = 1, .ceiling = 15, .cohort = false, .maxdisp_s = 16};
    c->tinker_x = (struct conf_tinker_extra){.allan_s = 1500, .huffpuff_s = 7200};
    c->discard = (struct conf_discard){.average_log2 = 3, .minimum_s = 2, .monitor = 3000};
    c->limit = (struct conf_limit){.average_pps = 1.0, .burst = 20, .kod_pps = 0.5};
    c->sys_flags = CONF_SYS_KERNEL | CONF_SYS_MONITOR | CONF_SYS_NTP | CONF_SYS_STATS;
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
    conf_parse_lines(&px, text, len);
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
