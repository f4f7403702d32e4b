/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzzes daemon/core/ctlv.c with arbitrary READVAR request data: the first byte chooses the
 * system or an association (and whether a leap table and user variables exist), the rest is
 * the name list. Invariants: the result is 0, NTK_ENOTFOUND with the bad name inside the
 * request, a parse error, or NTK_ENOSPC; on 0 the text parses back and its names are the
 * ones asked, each once, in NTPsec's table order (ctlv_order.h; a few write nothing: org,
 * leap variables without a table, srchost without a name). */
#include <string.h>

#include "ctlv.h"
#include "ctlv_order.h"
#include "fuzz.h"
#include "ntk/ctlvars.h"
#include "ntk/err.h"

#include "poison.h"

static struct snap_system sys;
static struct snap_assoc as[2];
static struct srv_stats srv;
static struct snap_counters ctr;
static struct ctlv_io io;
static struct ctlv_kernel kern;
static struct ntk_leap_entry le[1] = {
    {.ntp_s = 2272060800, .unix_s = 63072000, .tai_utc_s = 10}};
static struct ntk_leap_table leap = {
    .entries = le, .cap = 1, .n = 1, .expires_ntp_s = 3991334400};
static const struct ctlv_setvar sv[2] = {{"site", "a b", true}, {"q", "\"x, y\"", false}};

static void setup(struct ctlv_src *s, uint8_t mode)
{
    sys.stratum = 3;
    sys.refid = 0x7f000001;
    as[0].id = 1;
    as[0].addr.family = NTK_ADDR_V6;
    as[0].addr.ip[15] = 1;
    as[0].addr.port = 123;
    as[0].tally = '*';
    as[0].reach = 0xff;
    as[1].id = 2;
    memcpy(as[1].name, "ntp.example", 12);
    as[1].stratum = 16;
    *s = (struct ctlv_src){.sys = &sys,
                           .ctr = &ctr,
                           .assocs = as,
                           .nassocs = 2,
                           .srv = &srv,
                           .io = &io,
                           .kern = &kern,
                           .version = "ntpd ntpkit",
                           .processor = "p",
                           .system = "s",
                           .release = "r",
                           .now_mono_ns = 5000000000,
                           .start_mono_ns = 1};
    if (mode & 2)
        s->leap = &leap;
    if (mode & 4) {
        s->setvars = sv;
        s->nsetvars = 2;
    }
}

/* Names that may legitimately write nothing. */
static bool may_be_silent(struct ntk_span n)
{
    static const char *const quiet[] = {"org", "tai", "leapsec", "expire", "srchost"};
    for (size_t i = 0; i < sizeof quiet / sizeof quiet[0]; i++)
        if (n.len == strlen(quiet[i]) && memcmp(n.p, quiet[i], n.len) == 0)
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct ctlv_src s;
    setup(&s, data[0]);
    const char *names = (const char *)data + 1;
    size_t len = size - 1;
    static char out[65536];
    struct ntk_sb sb;
    struct ntk_cvar_wr w;
    ntk_sb_init(&sb, out, sizeof out);
    ntk_cvar_wr_init(&w, &sb);
    struct ntk_span bad = {0};
    int rc = (data[0] & 1) ? ctlv_peer(&s, &as[(data[0] >> 3) & 1], names, len, &w, &bad)
                           : ctlv_sys(&s, names, len, &w, &bad);
    if (rc == NTK_ENOTFOUND) {
        FUZZ_CHECK(bad.p >= names && bad.p + bad.len <= names + len && bad.len > 0);
        FUZZ_CHECK(ntk_sb_len(&sb) == 0);
        return 0;
    }
    if (rc != 0) {
        FUZZ_CHECK(rc == NTK_EFORMAT || rc == NTK_ETRUNC || rc == NTK_ERANGE ||
                   rc == NTK_ENOSPC);
        return 0;
    }
    /* Read the answer back against the request: the distinct names asked, in the order
     * ctlv_answer_order gives (NTPsec's table order), each once, and nothing else. */
    static struct ctlv_wanted want[CTLV_WANTED_MAX];
    size_t nw = ctlv_answer_order(names, len, (data[0] & 1) ? CTLV_PEER_TABLE : CTLV_SYS_TABLE,
                                  want, CTLV_WANTED_MAX);
    struct ntk_cvar_it req, ans;
    struct ntk_cvar_item q, a;
    size_t asked = 0;
    ntk_cvar_init(&req, names, len);
    while (ntk_cvar_next(&req, &q) == 1) {
        bool found = false;
        for (size_t i = 0; i < nw && !found; i++)
            found = want[i].name.len == q.name.len &&
                    memcmp(want[i].name.p, q.name.p, q.name.len) == 0;
        FUZZ_CHECK(found || nw == CTLV_WANTED_MAX); /* every name asked is answered */
        asked++;
    }
    FUZZ_CHECK(nw <= asked);
    for (size_t i = 1; i < nw; i++)
        FUZZ_CHECK(want[i - 1].rank < want[i].rank); /* ordered, no name twice */
    ntk_cvar_init(&ans, out, ntk_sb_len(&sb));
    for (size_t i = 0; i < nw; i++) {
        struct ntk_cvar_it save = ans;
        if (ntk_cvar_next(&ans, &a) == 1 && a.name.len == want[i].name.len &&
            memcmp(a.name.p, want[i].name.p, a.name.len) == 0)
            continue;
        FUZZ_CHECK(may_be_silent(want[i].name));
        ans = save;
    }
    if (asked > 0) {
        FUZZ_CHECK(ntk_cvar_next(&ans, &a) == 0); /* nothing beyond what was asked */
    } else {
        int r;
        while ((r = ntk_cvar_next(&ans, &a)) == 1) /* the default list parses */
            ;
        FUZZ_CHECK(r == 0);
    }
    return 0;
}
