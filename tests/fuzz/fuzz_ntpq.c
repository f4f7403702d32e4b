/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness for ntpq's response reader and formatters (cli/ntpq/nq_vars.c, nq_fmt.c):
 * arbitrary response data is parsed as NTPsec's ntpq parses it and rendered by every text
 * report, with and without units (cooked variables, the four peers layouts, every statistics
 * table, ifstats and reslist entries). Invariants: names are never empty and hold no byte
 * NTPsec's ntpq drops, names are unique, a value typed as a number has no quotes, and every
 * report ends its line. The ntpq sources are compiled in (they need nothing beyond ntk). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli/ntpq/nq_fmt.c"
#include "../../cli/ntpq/nq_tables.c"
#include "../../cli/ntpq/nq_units.c"
#include "../../cli/ntpq/nq_vars.c"
#include "fuzz.h"

#include "poison.h"

static char out[1 << 20];

static void check_vars(const struct nq_vars *vs)
{
    for (size_t i = 0; i < vs->n; i++) {
        const struct nq_var *v = &vs->v[i];
        FUZZ_CHECK(v->name[0] != '\0');
        for (const char *p = v->name; *p; p++)
            FUZZ_CHECK((unsigned char)*p > 0 && (unsigned char)*p < 127);
        FUZZ_CHECK(v->kind == NQ_STR || strchr(v->raw, '"') == NULL);
        FUZZ_CHECK(nq_vars_get(vs, v->name) == v);
    }
}

static void ends_line(const struct ntk_sb *sb)
{
    FUZZ_CHECK(ntk_sb_err(sb) != 0 || ntk_sb_len(sb) == 0 ||
               ntk_sb_str(sb)[ntk_sb_len(sb) - 1] == '\n');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    struct nq_vars vs;
    if (nq_vars_parse((const char *)data, size, &vs) != 0)
        return 0;
    check_vars(&vs);
    struct nq_style st = {.termwidth = size % 2 ? 80 : 104,
                          .cookwidth = 78,
                          .wide = size % 3 == 0,
                          .units = size % 5 < 2,
                          .now_s = 1795665178.62};
    struct ntk_sb sb;
    ntk_sb_init(&sb, out, sizeof out);
    nq_cook(&sb, &st, &vs);
    ends_line(&sb);
    /* One peers layout and one statistics table per input, chosen by the size (rendering
     * all 4 + 10 of them for every input was most of the run time; the fuzzer varies the
     * size all the time, so every one still sees every kind of input). */
    static const char *const cmds[] = {"pstats",    "sysinfo",   "kerninfo", "sysstats",
                                       "sysstats2", "monstats",  "authinfo", "ntsinfo",
                                       "iostats",   "timerstats"};
    enum nq_peers_mode m = (enum nq_peers_mode)(NQ_PEERS + (int)(size / 7 % 4));
    ntk_sb_init(&sb, out, sizeof out);
    nq_peers_line(&sb, &st, m, (uint16_t)(size * 2654435761u), &vs, 17767);
    ends_line(&sb);
    ntk_sb_init(&sb, out, sizeof out);
    nq_stats_show(&sb, &st, nq_stats_find(cmds[size / 11 % (sizeof cmds / sizeof cmds[0])]),
                  &vs, 0, (uint16_t)size);
    ends_line(&sb);
    unsigned n = nq_ordlist_count(&vs);
    for (unsigned i = 0; i < n && i < 64; i++) {
        ntk_sb_init(&sb, out, sizeof out);
        nq_ifstats_entry(&sb, &vs, i);
        nq_reslist_entry(&sb, &vs, i);
        ends_line(&sb);
    }
    nq_vars_free(&vs);
    return 0;
}
