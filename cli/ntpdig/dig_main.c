/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpdig's program flow: options, keys, queries, selection, adjustment, report. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_keys.h"
#include "cli_log.h"
#include "dig.h"

#include "poison.h"

/* Reports every failed query as NTPsec does ("HOST: Response dropped: why"). */
static void report_failures(const struct dig_results *r)
{
    for (size_t i = 0; i < r->n; i++) {
        const struct dig_result *x = &r->v[i];
        if (x->error == NULL || strcmp(x->error, "lookup_failed") == 0)
            continue;
        if (x->replied)
            cli_err("%s: Response dropped: %s", x->host, x->message);
        else
            cli_err("%s (%s): %s", x->host, x->target.ip[0] ? x->target.ip : "-", x->message);
    }
}

/* NTPsec's -d shows the selected exchange's four timestamps. */
static void debug_timestamps(const struct dig_result *r)
{
    const ntk_ts *t[4] = {&r->s.t1, &r->s.t2, &r->s.t3, &r->s.t4};
    char hex[4][24];
    for (int i = 0; i < 4; i++) {
        struct ntk_sb sb;
        ntk_sb_init(&sb, hex[i], sizeof hex[i]);
        ntk_ts_format_hex(*t[i], &sb);
    }
    cli_dbg(1, "org t1: %s rec t2: %s", hex[0], hex[1]);
    cli_dbg(1, "xmt t3: %s dst t4: %s", hex[2], hex[3]);
    cli_dbg(1, "offset %+.9f delay %.9f dispersion %.9f distance %.9f", r->s.offset_s,
            r->s.delay_s, r->s.dispersion_s, r->s.sync_distance_s);
}

/* Loads the keys file when one was given and checks that -a's key is in it. */
static int load_keys(const struct dig_opts *o, struct ntk_mac_keys **ks)
{
    if (o->keyfile == NULL)
        return 0;
    if (cli_keys_load(o->keyfile, ks) != 0)
        return DIG_EXIT_FAIL;
    if (o->key_id != 0 && ntk_mac_keys_lookup(*ks, o->key_id, NULL) != 0) {
        cli_err("%s: no valid key %u in the keys file", o->keyfile, (unsigned)o->key_id);
        return DIG_EXIT_FAIL;
    }
    return 0;
}

static int run(const struct dig_opts *o, const struct ntk_clk_ops *clk)
{
    struct ntk_mac_keys *ks = NULL;
    struct dig_results res = {0};
    int rc = load_keys(o, &ks);
    if (rc == 0)
        rc = o->nts ? dig_nts_query(o, clk, &res) : dig_query_all(o, clk, ks, &res);
    if (rc == 0) {
        report_failures(&res);
        struct dig_result *best = dig_select(&res);
        enum dig_adjustment adj = DIG_ADJ_NONE;
        if (best != NULL) {
            debug_timestamps(best);
            adj = dig_adjust(o, clk, best->s.offset_s);
        } else
            cli_err("no eligible servers");
        struct timespec now;
        if (clk->now(clk->ctx, &now) != 0)
            clock_gettime(CLOCK_REALTIME, &now);
        dig_report(o, &res, adj, &now);
        rc = best != NULL && adj != DIG_ADJ_FAILED ? DIG_EXIT_OK : DIG_EXIT_FAIL;
    }
    free(res.v);
    free(res.nts);
    ntk_mac_keys_free(ks);
    return rc;
}

int dig_main(int argc, char **argv, const struct ntk_clk_ops *clk)
{
    struct dig_opts *o = malloc(sizeof *o);
    if (o == NULL)
        return DIG_EXIT_FAIL;
    cli_log_init("ntpdig");
    int rc = DIG_EXIT_USAGE;
    switch (dig_opts_parse(argc, argv, o)) {
    case DIG_PARSE_DONE:
        rc = DIG_EXIT_OK;
        break;
    case DIG_PARSE_BAD:
        rc = DIG_EXIT_USAGE;
        break;
    case DIG_PARSE_RUN:
        cli_log_set_debug(o->debug);
        if (o->logfile != NULL && (rc = cli_log_open(o->logfile)) != 0) {
            cli_err("cannot open log file %s: %s", o->logfile, strerror(-rc));
            rc = DIG_EXIT_FAIL;
            break;
        }
        rc = run(o, clk);
        cli_log_close();
        break;
    }
    free(o);
    return rc;
}
