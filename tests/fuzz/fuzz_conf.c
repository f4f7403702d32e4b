/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness for daemon/io/conf*.c: any text parses without crashing or leaking, includes
 * are refused, every diagnostic points inside the text, and what was stored is consistent
 * (fudge and unpeer lines applied at the end, refclocks in range). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "conf.h"
#include "fuzz.h"
#include "ntk/err.h"

#include "poison.h"

/* The 1-based number of lines in data (a final line without '\n' counts). */
static uint32_t count_lines(const uint8_t *data, size_t size)
{
    uint32_t n = 1;
    for (size_t i = 0; i < size; i++) {
        n += data[i] == '\n';
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct conf c;
    static struct conf_diags d;
    conf_init(&c);
    conf_diags_init(&d);
    int rc = conf_parse_text(&c, "fuzz.conf", (const char *)data, size, &d);
    FUZZ_CHECK(rc == NTK_OK || rc == NTK_EFORMAT || rc == NTK_ENOMEM);
    FUZZ_CHECK((rc == NTK_OK) == (d.errors == 0) || rc == NTK_ENOMEM);
    FUZZ_CHECK(d.n <= CONF_DIAGS_MAX && d.n <= d.errors + d.warnings);
    uint32_t lines = count_lines(data, size);
    for (size_t i = 0; i < d.n; i++) {
        FUZZ_CHECK(d.d[i].line >= 1 && d.d[i].line <= lines);
        FUZZ_CHECK(d.d[i].col >= 1 && d.d[i].col <= CONF_LINE_MAX + 1);
        FUZZ_CHECK(d.d[i].msg[0] != '\0' && strlen(d.d[i].msg) < sizeof d.d[i].msg);
        char buf[64];
        FUZZ_CHECK(conf_diag_format(&d.d[i], buf, sizeof buf) < sizeof buf);
    }
    for (size_t i = 0; i < c.n_servers; i++) {
        const struct conf_server *s = &c.servers[i];
        FUZZ_CHECK(s->cfg.minpoll_log2 >= ENG_POLL_MIN && s->cfg.maxpoll_log2 <= ENG_POLL_MAX);
        FUZZ_CHECK(s->cfg.minpoll_log2 <= s->cfg.maxpoll_log2);
        FUZZ_CHECK(s->cfg.addr.family != NTK_ADDR_NONE || s->cfg.name[0] != '\0');
        FUZZ_CHECK(s->cfg.version >= 1 && s->cfg.version <= 4);
    }
    for (size_t i = 0; i < c.n_rules; i++) {
        const struct conf_restrict *r = &c.rules[i];
        FUZZ_CHECK(r->prefix_len <= (r->addr.family == NTK_ADDR_V4 ? 32 : 128));
    }
    for (size_t i = 0; i < c.n_refclocks; i++) {
        const struct eng_refclock_cfg *r = &c.refclocks[i].cfg;
        FUZZ_CHECK(r->minpoll_log2 >= 0 && r->minpoll_log2 <= r->maxpoll_log2 &&
                   r->maxpoll_log2 <= ENG_POLL_MAX);
        FUZZ_CHECK(r->stratum <= 15 && strlen(r->refid) <= 4);
    }
    /* fudge and unpeer lines were applied at the end, none left pending */
    FUZZ_CHECK(c.n_later == 0 && c.parse_depth == 0 && c.n_refclocks <= CONF_REFCLOCKS_MAX);
    FUZZ_CHECK(c.tos.ceiling <= 15 && c.dscp <= 63);
    FUZZ_CHECK(c.n_logcfg <= CONF_LOGCFG_MAX && c.n_nics <= CONF_NICS_MAX);
    FUZZ_CHECK(!conf_key_trusted(&c, 0));
    conf_free(&c);
    return 0;
}
