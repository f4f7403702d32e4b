/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpmon's program flow: options, model, then one frame or JSON (--once, --json) or the TUI.
 */
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli_log.h"
#include "mon_fetch.h"
#include "mon_model.h"
#include "mon_opts.h"
#include "mon_tui.h"

#include "poison.h"

static void setup_model(struct mon_model *m, const struct mon_opts *o)
{
    mon_model_init(m, o->hosts, o->n_hosts);
    m->v.units = o->units;
    m->v.numeric = o->numeric;
    m->v.color = o->color;
    m->v.debug = o->debug;
    m->interval_s = o->delay_s;
    const char *cs = nl_langinfo(CODESET);
    m->utf8 = !o->ascii && cs != NULL &&
              (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "utf8") == 0);
}

/* --once / --json: every host fetched once. Returns the exit status. */
static int run_once(struct mon_model *m, const struct mon_opts *o)
{
    struct mon_fetch f;
    if (mon_fetch_init(&f, m, o) != 0) {
        cli_err("out of memory");
        return MON_EXIT_FAIL;
    }
    size_t ok = 0;
    for (size_t h = 0; h < m->n_hosts; h++) {
        ok += mon_fetch_host(&f, m, h, mon_fetch_now()) == 0;
        cli_dbg(1, "%s: %s", m->hosts[h].name,
                m->hosts[h].error[0] ? m->hosts[h].error : "ok");
    }
    mon_fetch_free(&f);
    double now = mon_fetch_now();
    if (o->json)
        mon_print_json(m, now, stdout);
    else {
        int w, hgt;
        mon_term_size(getenv("COLUMNS"), getenv("LINES"), &w, &hgt);
        for (size_t h = 0; h < m->n_hosts; h++) {
            m->v.host = h;
            if (h > 0)
                fputc('\n', stdout);
            if (mon_print_frame(m, now, w, hgt, stdout) != 0)
                return MON_EXIT_FAIL;
        }
    }
    if (fflush(stdout) != 0)
        return MON_EXIT_FAIL;
    return ok > 0 ? MON_EXIT_OK : MON_EXIT_FAIL;
}

int main(int argc, char *argv[])
{
    struct mon_opts o;
    setlocale(LC_ALL, "");
    cli_log_init("ntpmon");
    int rc = mon_opts_parse(argc, argv, getenv("NO_COLOR"), &o, stderr);
    if (rc != 0)
        return rc;
    if (o.help) {
        mon_opts_usage(stdout);
        return MON_EXIT_OK;
    }
    if (o.version) {
        mon_opts_version(stdout);
        return MON_EXIT_OK;
    }
    cli_log_set_debug(o.debug);
    if (o.logfile != NULL && cli_log_open(o.logfile) != 0)
        cli_err("cannot open the log file %s; logging to stderr", o.logfile);
    struct mon_model *m = malloc(sizeof *m);
    if (m == NULL) {
        cli_err("out of memory");
        return MON_EXIT_FAIL;
    }
    setup_model(m, &o);
    rc = o.once || o.json ? run_once(m, &o) : mon_tui_run(m, &o);
    free(m);
    cli_log_close();
    return rc;
}
