/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of ntpmon's model (keys, modes, sorting, filter, selection, history, refresh
 * rule, sparkline, escaping, layout at several sizes, empty states, JSON) and its options. */
#include <json-c/json.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "testutil.h"

#include "mon_model.h"
#include "mon_opts.h"

#include "poison.h"

#define NOW 1795665179.0

static struct mon_model *M;       /* the model under test (heap: about 2 MB) */
static struct m6_snap *S;         /* a snapshot to feed it */
static struct mon_line lines[60]; /* frame lines */

static int setup(void **state)
{
    (void)state;
    M = calloc(1, sizeof *M);
    S = calloc(1, sizeof *S);
    return M && S ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(M);
    free(S);
    return 0;
}

/* Five sources whose every column orders them differently (see the expected orders in
 * test_sort_every_column). */
static void five_peers(struct m6_snap *s)
{
    static const struct {
        const char *addr, *refid;
        uint16_t assid;
        int st, hmode, nts;
        double when;
        int poll;
        uint8_t reach;
        double delay_ms, offset_ms, jitter_ms, disp_ms;
    } p[5] = {
        {"10.0.0.3", "GPS", 5, 3, 3, -1, 30, 6, 0377, 5, -20, 3, 9},
        {"10.0.0.1", "192.168.0.9", 3, 1, 5, -1, 10, 4, 01, 1, 1, 5, 7},
        {"10.0.0.5", "10.1.1.1", 1, 2, 3, 4, 50, 10, 017, 3, -0.5, 1, 6},
        {"10.0.0.2", "PPS", 4, 4, 1, -1, 20, 8, 0177, 2, 10, 4, 8},
        {"10.0.0.4", "ABC", 2, 0, 2, -1, 40, 5, 0, 4, 5, 2, 10},
    };
    m6_snap_init(s);
    s->up = true;
    s->taken_unix_s = NOW;
    s->sys.leap = 0;
    s->sys.stratum = 2;
    snprintf(s->sys.refid, sizeof s->sys.refid, "10.0.0.3");
    snprintf(s->sys.version, sizeof s->sys.version, "ntpd ntpsec-1.2.2 2023-01-01T00:00:00Z");
    s->sys.offset_s = 0.0002;
    s->sys.root_dist_s = 0.003;
    s->sys.freq_ratio = -12.5e-6;
    for (int i = 0; i < 5; i++) {
        struct m6_peer *q = &s->peers[i];
        q->associd = p[i].assid;
        q->sel = i == 0 ? M6_SEL_SYSPEER : M6_SEL_CANDIDATE;
        snprintf(q->srcadr, sizeof q->srcadr, "%s", p[i].addr);
        q->srcport = 123;
        snprintf(q->refid, sizeof q->refid, "%s", p[i].refid);
        snprintf(q->kind, sizeof q->kind, "server");
        q->hmode = p[i].hmode;
        q->stratum = p[i].st;
        q->leap = 0;
        q->hpoll_log2 = q->ppoll_log2 = p[i].poll;
        q->reach = p[i].reach;
        q->reach_ok = true;
        q->delay_s = p[i].delay_ms / 1e3;
        q->offset_s = p[i].offset_ms / 1e3;
        q->jitter_s = p[i].jitter_ms / 1e3;
        q->disp_s = p[i].disp_ms / 1e3;
        q->rec_unix_s = NOW - p[i].when;
        q->ntscookies = p[i].nts;
    }
    s->n_peers = 5;
}

static void model_with_peers(void)
{
    static const char *const hosts[] = {"localhost"};
    mon_model_init(M, hosts, 1);
    five_peers(S);
    mon_model_snapshot(M, 0, S, NOW);
}

static struct mon_frame layout(int w, int h)
{
    struct mon_frame f = {w, h, lines};
    assert_true(h <= 60);
    memset(lines, 0x55, sizeof lines); /* every line must be written */
    mon_model_layout(M, NOW, &f);
    return f;
}

/* Display cells of a frame line: one per code point (nothing here is East Asian wide). */
static int cells(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* The frame's invariants: every line NUL-terminated, no wider than the frame, no control
 * bytes, segments in order inside the width. */
static void check_frame(const struct mon_frame *f)
{
    for (int y = 0; y < f->height; y++) {
        const struct mon_line *l = &f->lines[y];
        assert_true(memchr(l->text, '\0', sizeof l->text) != NULL);
        assert_true(cells(l->text) <= f->width);
        for (const char *p = l->text; *p; p++)
            assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
        assert_true(l->nseg <= MON_SEGS_MAX);
        int end = 0;
        for (size_t i = 0; i < l->nseg; i++) {
            assert_true(l->seg[i].col >= end);
            end = l->seg[i].col + l->seg[i].len;
            assert_true(end <= f->width);
            assert_true(l->seg[i].attr < MON_A_COUNT);
        }
    }
}

/* The row line (from line 3 on) holding remote name `name`, or -1. */
static int row_of(const struct mon_frame *f, const char *name)
{
    for (int y = 3; y < f->height - 2; y++)
        if (strstr(f->lines[y].text, name) == f->lines[y].text + 1)
            return y - 3;
    return -1;
}

/* Line y of f without its trailing blanks. */
static const char *trimmed(const struct mon_frame *f, int y)
{
    static char buf[MON_LINE_MAX];
    snprintf(buf, sizeof buf, "%s", f->lines[y].text);
    size_t l = strlen(buf);
    while (l > 0 && buf[l - 1] == ' ')
        buf[--l] = '\0';
    return buf;
}

/* ---- keys and modes ---- */

static void test_keys_modes(void **state)
{
    (void)state;
    model_with_peers();
    assert_int_equal(M->v.mode, MON_PEERS);
    assert_int_equal(mon_model_key(M, 'a'), MON_ACT_NONE);
    assert_int_equal(M->v.mode, MON_APEERS);
    mon_model_key(M, 'o');
    assert_int_equal(M->v.mode, MON_OPEERS);
    mon_model_key(M, 'r');
    assert_int_equal(M->v.mode, MON_RPEERS);
    mon_model_key(M, 'p');
    assert_int_equal(M->v.mode, MON_PEERS);
    static const enum mon_mode rot[] = {MON_APEERS, MON_OPEERS, MON_RPEERS, MON_PEERS};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(mon_model_key(M, ' '), MON_ACT_NONE);
        assert_int_equal(M->v.mode, rot[i]);
    }
}

static void test_keys_toggles(void **state)
{
    (void)state;
    model_with_peers();
    struct {
        int key;
        bool *flag;
    } t[] = {{'d', &M->v.detail},     {'m', &M->v.mru_only},
             {'M', &M->v.mru_on},     {'n', &M->v.numeric},
             {'s', &M->v.reach_only}, {'u', &M->v.units},
             {'w', &M->v.wide},       {'i', &M->v.sort_desc},
             {'P', &M->v.paused},     {MON_KEY_ENTER, &M->v.detail}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        bool before = *t[i].flag;
        assert_int_equal(mon_model_key(M, t[i].key), MON_ACT_NONE);
        assert_true(*t[i].flag == !before);
        mon_model_key(M, t[i].key);
        assert_true(*t[i].flag == before);
    }
    assert_int_equal(mon_model_key(M, '+'), MON_ACT_NONE);
    mon_model_key(M, '+');
    assert_int_equal(M->v.debug, 2);
    mon_model_key(M, '-');
    mon_model_key(M, '-');
    mon_model_key(M, '-');
    assert_int_equal(M->v.debug, 0);
}

static void test_keys_quit_help_poll(void **state)
{
    (void)state;
    model_with_peers();
    static const int quit[] = {'q', 'x', MON_KEY_F10, MON_KEY_CTRL_C, 0x03};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(mon_model_key(M, quit[i]), MON_ACT_QUIT);
    static const int help[] = {'h', '?', MON_KEY_F1};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(mon_model_key(M, help[i]), MON_ACT_NONE);
        assert_true(M->v.help);
        /* any key returns (NTPsec), without acting */
        assert_int_equal(mon_model_key(M, 'a'), MON_ACT_NONE);
        assert_false(M->v.help);
        assert_int_equal(M->v.mode, MON_PEERS);
    }
    static const int poll[] = {'z', 'Z', '1', '!', 'c', MON_KEY_PGUP + 100};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(mon_model_key(M, poll[i]), MON_ACT_POLL);
    assert_int_equal(mon_model_key(M, MON_KEY_RESIZE), MON_ACT_NONE);
    assert_int_equal(mon_model_key(M, MON_KEY_ESC), MON_ACT_NONE);
}

static void test_keys_hosts_and_sort_cycle(void **state)
{
    (void)state;
    static const char *const hosts[] = {"a", "b", "c"};
    mon_model_init(M, hosts, 3);
    M->v.selected = 0;
    mon_model_key(M, MON_KEY_TAB);
    assert_int_equal(M->v.host, 1);
    mon_model_key(M, MON_KEY_TAB);
    mon_model_key(M, MON_KEY_TAB);
    assert_int_equal(M->v.host, 0);
    /* '>' walks daemon order, remote, refid, st ... jitter (assid only in apeers), back. */
    static const enum mon_col fwd[] = {MON_COL_REMOTE, MON_COL_REFID, MON_COL_ST,
                                       MON_COL_T,      MON_COL_WHEN,  MON_COL_POLL,
                                       MON_COL_REACH,  MON_COL_DELAY, MON_COL_OFFSET,
                                       MON_COL_JITTER, MON_COL_COUNT};
    for (size_t i = 0; i < 11; i++) {
        mon_model_key(M, '>');
        assert_int_equal(M->v.sort, fwd[i]);
    }
    mon_model_key(M, '<');
    assert_int_equal(M->v.sort, MON_COL_JITTER);
    mon_model_key(M, 'a');
    M->v.sort = MON_COL_REFID;
    mon_model_key(M, '>');
    assert_int_equal(M->v.sort, MON_COL_ASSID);
    mon_model_key(M, 'p'); /* assid makes no sense outside apeers: back to daemon order */
    assert_int_equal(M->v.sort, MON_COL_COUNT);
}

/* ---- sorting ---- */

static void check_order(const int *want, bool desc)
{
    struct mon_frame f = layout(200, 50);
    check_frame(&f);
    static const char *const names[] = {"10.0.0.3", "10.0.0.1", "10.0.0.5", "10.0.0.2",
                                        "10.0.0.4"};
    for (int i = 0; i < 5; i++) {
        int k = desc ? want[4 - i] : want[i];
        if (row_of(&f, names[k]) != i)
            fail_msg("sort %d desc %d: row %d should be %s", M->v.sort, desc, i, names[k]);
    }
}

static void test_sort_every_column(void **state)
{
    (void)state;
    static const struct {
        enum mon_col col;
        enum mon_mode mode;
        int asc[5];
    } t[] = {
        {MON_COL_COUNT, MON_PEERS, {0, 1, 2, 3, 4}},
        {MON_COL_REMOTE, MON_PEERS, {1, 3, 0, 4, 2}},
        {MON_COL_REFID, MON_PEERS, {4, 0, 3, 2, 1}},
        {MON_COL_ASSID, MON_APEERS, {2, 4, 1, 3, 0}},
        {MON_COL_ST, MON_PEERS, {4, 1, 2, 0, 3}},
        {MON_COL_T, MON_PEERS, {2, 1, 4, 3, 0}},
        {MON_COL_WHEN, MON_PEERS, {1, 3, 0, 4, 2}},
        {MON_COL_POLL, MON_PEERS, {1, 4, 0, 3, 2}},
        {MON_COL_REACH, MON_PEERS, {4, 1, 2, 3, 0}},
        {MON_COL_DELAY, MON_PEERS, {1, 3, 2, 4, 0}},
        {MON_COL_OFFSET, MON_PEERS, {2, 1, 4, 3, 0}},
        {MON_COL_SPARK, MON_PEERS, {2, 1, 4, 3, 0}},
        {MON_COL_JITTER, MON_PEERS, {2, 4, 0, 3, 1}},
        {MON_COL_JITTER, MON_OPEERS, {2, 1, 3, 0, 4}},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        model_with_peers();
        M->v.mode = t[i].mode;
        M->v.sort = t[i].col;
        M->v.sort_desc = false;
        check_order(t[i].asc, false);
        if (t[i].col == MON_COL_COUNT)
            continue; /* the daemon's order has no direction */
        M->v.sort_desc = true;
        check_order(t[i].asc, true);
    }
}

static void test_sort_absent_last(void **state)
{
    (void)state;
    model_with_peers();
    S->peers[1].delay_s = NAN; /* 10.0.0.1, the smallest delay */
    mon_model_snapshot(M, 0, S, NOW);
    M->v.sort = MON_COL_DELAY;
    for (int d = 0; d < 2; d++) {
        M->v.sort_desc = d;
        struct mon_frame f = layout(120, 30);
        assert_int_equal(row_of(&f, "10.0.0.1"), 4);
    }
}

/* ---- filter, reach-only, selection ---- */

static int n_rows(void)
{
    struct mon_frame f = layout(120, 30);
    int n = 0;
    for (int y = 3; y < 28; y++)
        n += strncmp(f.lines[y].text + 1, "10.0.0.", 7) == 0;
    return n;
}

static void test_filter(void **state)
{
    (void)state;
    model_with_peers();
    assert_int_equal(mon_model_key(M, '/'), MON_ACT_NONE);
    assert_true(M->v.filter_editing);
    mon_model_key(M, 'q');
    mon_model_key(M, 'P'); /* typed text, not pause */
    assert_false(M->v.paused);
    assert_string_equal(M->v.filter, "qP");
    assert_int_equal(n_rows(), 0);
    struct mon_frame f = layout(120, 30);
    assert_non_null(strstr(f.lines[3].text, "(no source matches)"));
    assert_non_null(strstr(f.lines[28].text, "filter: qP_"));
    mon_model_key(M, MON_KEY_BACKSPACE);
    mon_model_key(M, 0x7f);
    mon_model_key(M, MON_KEY_BACKSPACE); /* on an empty filter: nothing */
    mon_model_key(M, 'g');
    mon_model_key(M, 'p');
    mon_model_key(M, 's');
    assert_int_equal(n_rows(), 1); /* ".GPS." matches case-insensitively */
    assert_int_equal(mon_model_key(M, MON_KEY_ENTER), MON_ACT_NONE);
    assert_false(M->v.filter_editing);
    assert_string_equal(M->v.filter, "gps");
    assert_int_equal(n_rows(), 1);
    mon_model_key(M, '/');
    mon_model_key(M, MON_KEY_ESC);
    assert_string_equal(M->v.filter, "");
    assert_int_equal(n_rows(), 5);
    snprintf(M->v.filter, sizeof M->v.filter, "10.0.0.");
    assert_int_equal(n_rows(), 5);
    snprintf(M->v.filter, sizeof M->v.filter, "0.0.4");
    assert_int_equal(n_rows(), 1);
    M->v.filter[0] = '\0';
    mon_model_key(M, 's'); /* reachable only: 10.0.0.4 has reach 0 */
    assert_int_equal(n_rows(), 4);
    /* the filter holds at most 63 characters */
    mon_model_key(M, '/');
    for (int i = 0; i < 100; i++)
        mon_model_key(M, 'x');
    assert_int_equal(strlen(M->v.filter), 63);
}

static void test_selection_clamp(void **state)
{
    (void)state;
    model_with_peers();
    for (int i = 0; i < 10; i++)
        mon_model_key(M, 'j');
    assert_int_equal(M->v.selected, 4);
    mon_model_key(M, MON_KEY_UP);
    assert_int_equal(M->v.selected, 3);
    for (int i = 0; i < 10; i++)
        mon_model_key(M, 'k');
    assert_int_equal(M->v.selected, 0);
    mon_model_key(M, MON_KEY_END);
    assert_int_equal(M->v.selected, 4);
    mon_model_key(M, MON_KEY_PGUP);
    assert_int_equal(M->v.selected, 0);
    mon_model_key(M, MON_KEY_PGDN);
    assert_int_equal(M->v.selected, 4);
    mon_model_key(M, 's'); /* one row less */
    assert_int_equal(M->v.selected, 3);
    mon_model_key(M, 's');
    S->n_peers = 2; /* the daemon dropped sources */
    mon_model_snapshot(M, 0, S, NOW + 1);
    assert_int_equal(M->v.selected, 1);
    S->n_peers = 0;
    mon_model_snapshot(M, 0, S, NOW + 2);
    assert_int_equal(M->v.selected, 0);
    mon_model_key(M, MON_KEY_HOME);
    mon_model_key(M, MON_KEY_DOWN);
    assert_int_equal(M->v.selected, 0);
}

static void test_selection_scrolls(void **state)
{
    (void)state;
    static const char *const hosts[] = {"h"};
    mon_model_init(M, hosts, 1);
    five_peers(S);
    for (int i = 0; i < 40; i++) {
        S->peers[i] = S->peers[i % 5];
        S->peers[i].associd = (uint16_t)(100 + i);
        snprintf(S->peers[i].srcadr, sizeof S->peers[i].srcadr, "192.0.2.%d", i);
    }
    S->n_peers = 40;
    mon_model_snapshot(M, 0, S, NOW);
    mon_model_key(M, MON_KEY_END);
    assert_int_equal(M->v.selected, 39);
    struct mon_frame f = layout(80, 15); /* rows on lines 3..12: 10 rows */
    check_frame(&f);
    assert_string_equal(f.lines[12].text + 1, f.lines[12].text + 1);
    assert_non_null(strstr(f.lines[12].text, "192.0.2.39 "));
    assert_non_null(strstr(f.lines[3].text, "192.0.2.30 "));
    int selected_segs = 0;
    for (size_t i = 0; i < f.lines[12].nseg; i++)
        selected_segs += f.lines[12].seg[i].attr == MON_A_SELECTED;
    assert_true(selected_segs >= 1);
    assert_int_equal(f.lines[12].seg[0].attr, MON_A_SELECTED);
    assert_int_equal(f.lines[12].seg[f.lines[12].nseg - 1].col +
                         f.lines[12].seg[f.lines[12].nseg - 1].len,
                     80);
}

/* ---- history and refresh rule ---- */

static void test_history_once_per_rec(void **state)
{
    (void)state;
    model_with_peers();
    const struct mon_hist *h = NULL;
    for (size_t i = 0; i < M6_PEERS_MAX; i++)
        if (M->hosts[0].hist[i].associd == 5)
            h = &M->hosts[0].hist[i];
    assert_non_null(h);
    assert_int_equal(h->n, 1);
    mon_model_snapshot(M, 0, S, NOW + 1); /* same rec: no new sample */
    mon_model_snapshot(M, 0, S, NOW + 2);
    assert_int_equal(h->n, 1);
    for (int k = 1; k <= MON_HIST + 5; k++) {
        S->peers[0].rec_unix_s = NOW + 64 * k;
        S->peers[0].offset_s = k * 1e-3;
        mon_model_snapshot(M, 0, S, NOW + 64 * k);
        mon_model_snapshot(M, 0, S, NOW + 64 * k + 1);
        if (h->n != (k + 1 > MON_HIST ? MON_HIST : (unsigned)k + 1))
            fail_msg("k %d: n %u", k, h->n);
    }
    assert_true(h->offset_s[(h->head + MON_HIST - 1) % MON_HIST] == (MON_HIST + 5) * 1e-3);
    assert_true(h->offset_s[h->head] == 6e-3); /* the oldest kept */
    S->peers[0].rec_unix_s += 64;              /* no offset: no sample */
    S->peers[0].offset_s = NAN;
    mon_model_snapshot(M, 0, S, NOW + 9999);
    assert_int_equal(h->n, MON_HIST);
    S->peers[1].rec_unix_s = 0; /* never heard from: no sample */
    /* a source that went away frees its slot */
    S->peers[0] = S->peers[4];
    S->n_peers = 4;
    mon_model_snapshot(M, 0, S, NOW + 10000);
    for (size_t i = 0; i < M6_PEERS_MAX; i++)
        assert_int_not_equal(M->hosts[0].hist[i].associd, 5);
    /* a failed fetch keeps the history and the snapshot, greyed */
    struct m6_snap *down = calloc(1, sizeof *down);
    m6_snap_init(down);
    snprintf(down->error, sizeof down->error, "timeout");
    mon_model_snapshot(M, 0, down, NOW + 10001);
    assert_int_equal(M->hosts[0].state, MON_HOST_UNREACHABLE);
    assert_int_equal(M->hosts[0].snap.n_peers, 4);
    struct mon_frame f = layout(80, 24);
    assert_non_null(strstr(f.lines[2].text, "not answering (timeout)"));
    assert_int_equal(f.lines[4].seg[0].attr, MON_A_SELECTED);
    assert_int_equal(f.lines[5].seg[0].attr, MON_A_DIM);
    free(down);
}

static void test_refresh_rule(void **state)
{
    (void)state;
    model_with_peers(); /* shortest poll 2^4 = 16 s: every 8 s */
    assert_true(mon_model_next_fetch(M, 0, 1000) == 1008);
    S->peers[3].hpoll_log2 = 1; /* 2 s: every 1 s */
    mon_model_snapshot(M, 0, S, NOW);
    assert_true(mon_model_next_fetch(M, 0, 1000) == 1001);
    S->peers[3].hpoll_log2 = 8;
    S->peers[3].ppoll_log2 = 3; /* min(hpoll, ppoll) = 8 s: every 4 s */
    S->peers[1].hpoll_log2 = S->peers[1].ppoll_log2 = 10;
    mon_model_snapshot(M, 0, S, NOW);
    assert_true(mon_model_next_fetch(M, 0, 1000) == 1004);
    snprintf(S->peers[2].refid, sizeof S->peers[2].refid, "INIT"); /* NTPsec: 1 s */
    mon_model_snapshot(M, 0, S, NOW);
    assert_true(mon_model_next_fetch(M, 0, 1000) == 1001);
    M->interval_s = 2.5; /* --delay wins */
    assert_true(mon_model_next_fetch(M, 0, 1000) == 1002.5);
    M->interval_s = 0;
    S->n_peers = 0;
    mon_model_snapshot(M, 0, S, NOW);
    assert_true(mon_model_next_fetch(M, 0, 1000) == 1005);
    snprintf(S->error, sizeof S->error, "timeout");
    S->up = false;
    mon_model_snapshot(M, 0, S, NOW);
    assert_true(mon_model_next_fetch(M, 0, 1000) == 1005);
    snprintf(S->error, sizeof S->error, "refused: error code 4");
    mon_model_snapshot(M, 0, S, NOW);
    assert_int_equal(M->hosts[0].state, MON_HOST_REFUSED);
    assert_true(mon_model_next_fetch(M, 0, 1000) == 1010);
    snprintf(S->error, sizeof S->error, "connection refused"); /* ICMP: not a mode-6 refusal */
    mon_model_snapshot(M, 0, S, NOW);
    assert_int_equal(M->hosts[0].state, MON_HOST_UNREACHABLE);
}

/* ---- sparkline ---- */

static void test_sparkline(void **state)
{
    (void)state;
    char out[256];
    const double ramp[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    assert_string_equal(mon_sparkline(ramp, 8, 8, true, out, sizeof out),
                        "\xe2\x96\x81\xe2\x96\x82\xe2\x96\x83\xe2\x96\x84\xe2\x96\x85\xe2\x96"
                        "\x86\xe2\x96\x87\xe2\x96\x88");
    assert_string_equal(mon_sparkline(ramp, 8, 8, false, out, sizeof out), " .:-=+*#");
    const double scaled[3] = {-1e-3, 1e-3, 0}; /* scaled between min and max */
    assert_string_equal(mon_sparkline(scaled, 3, 3, false, out, sizeof out), " #=");
    const double gaps[4] = {1, NAN, 3, INFINITY};
    assert_string_equal(mon_sparkline(gaps, 4, 4, false, out, sizeof out), "  # ");
    const double flat[3] = {5, 5, 5};
    assert_string_equal(mon_sparkline(flat, 3, 3, false, out, sizeof out), "---");
    assert_string_equal(mon_sparkline(flat, 3, 3, true, out, sizeof out),
                        "\xe2\x96\x84\xe2\x96\x84\xe2\x96\x84");
    /* fewer values than cells: right-aligned; more: the newest `width` */
    assert_string_equal(mon_sparkline(ramp, 2, 5, false, out, sizeof out), "    #");
    assert_string_equal(mon_sparkline(ramp, 8, 3, false, out, sizeof out), " =#");
    assert_string_equal(mon_sparkline(ramp, 0, 3, false, out, sizeof out), "   ");
    assert_string_equal(mon_sparkline(ramp, 8, 0, false, out, sizeof out), "");
    /* a small buffer: whole characters only */
    assert_string_equal(mon_sparkline(ramp, 8, 8, true, out, 8), "\xe2\x96\x81\xe2\x96\x82");
    assert_string_equal(mon_sparkline(ramp, 8, 8, false, out, 4), " .:");
    tu_seed();
    for (int it = 0; it < 2000; it++) {
        double v[MON_HIST];
        size_t n = tu_rand() % (MON_HIST + 1);
        for (size_t i = 0; i < n; i++)
            v[i] = tu_rand() % 7 == 0 ? NAN : (double)(int64_t)(tu_rand() % 2001) - 1000;
        int w = (int)(tu_rand() % 40);
        bool u = tu_rand() & 1;
        mon_sparkline(v, n, w, u, out, sizeof out);
        assert_int_equal(cells(out), w);
        if (!u)
            assert_int_equal(strlen(out), (size_t)w);
    }
}

/* ---- escaping ---- */

static void test_escape_table(void **state)
{
    (void)state;
    static const struct {
        const char *in, *utf8, *ascii;
    } t[] = {
        {"plain 1.2.3.4", "plain 1.2.3.4", "plain 1.2.3.4"},
        {"\x1b[2J\a\r\n\t", "?[2J????", "?[2J????"},
        {"del\x7f", "del?", "del?"},
        {"caf\xc3\xa9", "caf\xc3\xa9", "caf??"},
        {"\xe2\x82\xac", "\xe2\x82\xac", "???"},
        {"\xc2\x9b"
         "31m",
         "??31m", "??31m"}, /* C1 CSI */
        {"a\xe2\x80\xae"
         "b",
         "a???b", "a???b"},                   /* RIGHT-TO-LEFT OVERRIDE */
        {"\xc0\x80", "??", "??"},             /* overlong NUL */
        {"\xed\xa0\x80", "???", "???"},       /* surrogate */
        {"\xf4\x90\x80\x80", "????", "????"}, /* above U+10FFFF */
        {"\x80x", "?x", "?x"},                /* lone continuation */
        {"\xe2\x82", "??", "??"},             /* cut sequence */
        {"\xff\xfe", "??", "??"},
        {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80", "????"},
    };
    char out[64];
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        assert_string_equal(mon_escape(t[i].in, true, out, sizeof out), t[i].utf8);
        assert_string_equal(mon_escape(t[i].in, false, out, sizeof out), t[i].ascii);
    }
    assert_string_equal(mon_escape("abcdef", false, out, 4), "abc");
    assert_string_equal(mon_escape("ab\xe2\x82\xac", true, out, 5), "ab"); /* never half */
    assert_string_equal(mon_escape(NULL, true, out, sizeof out), "");
}

static bool valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : 4;
        if (*p >= 0x80 && (*p < 0xc2 || *p > 0xf4))
            return false;
        for (size_t i = 1; i < n; i++)
            if ((p[i] & 0xc0) != 0x80)
                return false;
        p += n;
    }
    return true;
}

static void test_escape_property(void **state)
{
    (void)state;
    tu_seed();
    for (int it = 0; it < 20000; it++) {
        char in[40], out[48];
        size_t n = tu_rand() % sizeof in;
        for (size_t i = 0; i < n; i++) {
            uint64_t r = tu_rand();
            /* mostly UTF-8-looking bytes, so that valid sequences occur */
            in[i] = (char)(r % 4 == 0 ? 0xe2 : r % 4 == 1 ? 0x80 + (r >> 8) % 64 : r >> 16);
            if (in[i] == 0)
                in[i] = 'x';
        }
        in[n] = '\0';
        bool u = it & 1;
        size_t cap = 1 + tu_rand() % sizeof out;
        mon_escape(in, u, out, cap);
        assert_true(strlen(out) < cap);
        assert_true(strlen(out) <= n);
        for (const char *p = out; *p; p++) {
            unsigned char c = (unsigned char)*p;
            assert_true(c >= 0x20 && c != 0x7f);
            if (!u)
                assert_true(c < 0x80);
        }
        assert_true(valid_utf8(out));
        /* escaping is idempotent */
        char again[48];
        assert_string_equal(mon_escape(out, u, again, sizeof again), out);
    }
}

/* ---- layout ---- */

static void test_layout_sizes(void **state)
{
    (void)state;
    model_with_peers();
    struct mon_frame f = layout(20, 5);
    check_frame(&f);
    assert_string_equal(f.lines[0].text, "localhost");
    assert_string_equal(f.lines[1].text, " remote       offset");
    assert_string_equal(f.lines[2].text, "*10.0.0.3    -20.000");
    f = layout(19, 5);
    assert_string_equal(f.lines[0].text, "terminal too small");
    assert_string_equal(f.lines[1].text, "");
    f = layout(60, 15);
    check_frame(&f);
    assert_string_equal(trimmed(&f, 2),
                        " remote          refid           st reach    delay   offset");
    f = layout(80, 24);
    check_frame(&f);
    assert_string_equal(f.lines[0].text, "localhost synchronised  st 2  refid 10.0.0.3  "
                                         "offset +200.0us +/-3.000ms");
    assert_string_equal(f.lines[2].text,
                        " remote          refid           st t when poll reach"
                        "    delay   offset   jitter");
    assert_string_equal(f.lines[3].text,
                        "*10.0.0.3        .GPS.            3 u   30   64   377"
                        "    5.000  -20.000    3.000");
    assert_string_equal(trimmed(&f, 22), "ntpd ntpsec-1.2.2  Updated: 03:52:59 (every 8s)");
    M->utf8 = true;
    f = layout(200, 50);
    check_frame(&f);
    assert_non_null(strstr(f.lines[2].text, "jitter history"));
    assert_non_null(strstr(f.lines[0].text, "\xc2\xb1"));
    M->v.mode = MON_APEERS;
    f = layout(80, 24);
    check_frame(&f);
    assert_string_equal(
        trimmed(&f, 2),
        " remote          refid     assid st t when poll reach    delay   offset   jitter");
    f = layout(70, 24); /* t, when, poll go first; assid stays */
    assert_string_equal(
        trimmed(&f, 2),
        " remote          refid     assid st reach    delay   offset   jitter");
}

static void test_layout_long_names(void **state)
{
    (void)state;
    model_with_peers();
    snprintf(S->peers[2].srchost, sizeof S->peers[2].srchost,
             "a-very-long-server-name.example.org");
    mon_model_snapshot(M, 0, S, NOW);
    struct mon_frame f = layout(80, 24);
    assert_non_null(strstr(f.lines[5].text, "+a-very-long-ser "));
    f = layout(90, 24); /* names get up to 15 + (width - 80) cells */
    assert_non_null(strstr(f.lines[5].text, "+a-very-long-server-name.e "));
    M->v.wide = true; /* whole names, columns dropped for them */
    f = layout(90, 24);
    check_frame(&f);
    assert_non_null(strstr(f.lines[5].text, "+a-very-long-server-name.example.org "));
    assert_string_equal(trimmed(&f, 2),
                        " remote                              refid           st"
                        " reach    delay   offset   jitter");
    M->v.numeric = true;
    f = layout(100, 24);
    assert_non_null(strstr(f.lines[5].text, "+10.0.0.5 "));
}

static void test_layout_property(void **state)
{
    (void)state;
    tu_seed();
    for (int it = 0; it < 1500; it++) {
        model_with_peers();
        M->utf8 = tu_rand() & 1;
        M->v.mode = (enum mon_mode)(tu_rand() % 4);
        M->v.units = tu_rand() & 1;
        M->v.wide = tu_rand() & 1;
        M->v.detail = tu_rand() & 1;
        M->v.mru_on = tu_rand() & 1;
        M->v.help = tu_rand() % 8 == 0;
        M->v.sort = (enum mon_col)(tu_rand() % (MON_COL_COUNT + 1));
        if (tu_rand() % 3 == 0)
            snprintf(S->peers[1].srchost, sizeof S->peers[1].srchost, "n\xc3\xa9%0*d",
                     (int)(tu_rand() % 200), 7);
        mon_model_snapshot(M, 0, S, NOW);
        int w = 1 + (int)(tu_rand() % (it % 10 == 0 ? 1000 : 255));
        int h = 1 + (int)(tu_rand() % 60);
        struct mon_frame f = layout(w, h);
        check_frame(&f);
        for (int y = 0; y < h; y++) /* everything written */
            assert_true(strlen(lines[y].text) < MON_LINE_MAX);
    }
}

static void test_layout_mru_and_detail(void **state)
{
    (void)state;
    model_with_peers();
    struct mon_mru rows[3] = {
        {"192.0.2.7", 123, NOW - 100, NOW - 5, 20, 3, 4, 0x1d0},
        {"198.51.100.\x1b[1m", 40000, NOW - 50, NOW - 1, 2, 3, 4, 0},
        {"2001:db8::1", 123, NOW - 1000, NOW - 50, 11, 4, 4, 0x10},
    };
    mon_model_mru(M, 0, rows, 3, NOW);
    assert_string_equal(M->hosts[0].mru[0].addr, "198.51.100.?[1m");
    M->v.mru_only = true;
    struct mon_frame f = layout(80, 24);
    check_frame(&f);
    assert_string_equal(f.lines[2].text, "lstint avgint rstr m v    count rport remote address"
                                         "                            ");
    assert_string_equal(f.lines[3].text,
                        "     1     24    0 3 4        2 40000 198.51.100.?[1m");
    assert_string_equal(f.lines[5].text, "    50     86   10 4 4       11   123 2001:db8::1");
    M->v.mru_only = false;
    M->v.mru_on = true;
    M->v.detail = true;
    f = layout(80, 30);
    check_frame(&f);
    assert_non_null(strstr(f.lines[2].text, " remote"));
    bool mru = false, detail = false;
    for (int y = 3; y < 28; y++) {
        mru |= strncmp(f.lines[y].text, "lstint", 6) == 0;
        detail |= strncmp(f.lines[y].text, "detail:  srcadr=10.0.0.3:123", 28) == 0;
    }
    assert_true(mru);
    assert_true(detail);
}

static void test_empty_states(void **state)
{
    (void)state;
    static const char *const hosts[] = {"localhost", "192.0.2.1"};
    mon_model_init(M, hosts, 2);
    struct mon_frame f = layout(80, 24);
    assert_string_equal(f.lines[2].text, "Waiting for localhost...");
    m6_snap_init(S);
    snprintf(S->error, sizeof S->error, "timeout");
    mon_model_snapshot(M, 0, S, NOW - 12);
    assert_int_equal(M->hosts[0].state, MON_HOST_UNREACHABLE);
    f = layout(80, 24);
    check_frame(&f);
    assert_string_equal(f.lines[0].text, "localhost not answering");
    assert_string_equal(f.lines[2].text,
                        "localhost is not answering since 03:52:47 (12 s): timeout");
    assert_string_equal(f.lines[3].text, "Retrying.");
    snprintf(S->error, sizeof S->error, "refused: error code 5");
    mon_model_snapshot(M, 0, S, NOW);
    f = layout(80, 24);
    check_frame(&f);
    assert_string_equal(f.lines[2].text,
                        "localhost refused the mode-6 queries (refused: error "
                        "code 5) since 03:52:59.");
    assert_string_equal(f.lines[4].text, "  restrict 127.0.0.1 nomodify nopeer notrap");
    mon_model_snapshot(M, 1, S, NOW);
    M->v.host = 1;
    f = layout(40, 12); /* wrapped, never cut */
    check_frame(&f);
    assert_string_equal(f.lines[2].text, "192.0.2.1 refused the mode-6 queries");
    assert_string_equal(f.lines[3].text, "(refused: error code 5) since 03:52:59.");
    M->v.host = 0;
    five_peers(S);
    S->n_peers = 0;
    mon_model_snapshot(M, 0, S, NOW);
    f = layout(80, 24);
    check_frame(&f);
    assert_string_equal(f.lines[2].text, "No associations: the daemon has no sources (yet).");
    assert_string_equal(
        f.lines[23].text,
        "F1 Help  F10 Quit  / Filter  < > Sort  i Reverse  Space Mode  d Detail"
        "  m MRU   ");
}

/* A lost READSTAT (the system variables came, the association list did not): never "No
 * associations" for a daemon that has sources; the list shown so far stays under a banner. */
static void test_peers_error(void **state)
{
    (void)state;
    static const char *const hosts[] = {"localhost"};
    mon_model_init(M, hosts, 1);
    five_peers(S);
    S->n_peers = 0;
    snprintf(S->peers_error, sizeof S->peers_error, "READSTAT: timeout");
    mon_model_snapshot(M, 0, S, NOW);
    struct mon_frame f = layout(80, 24);
    check_frame(&f);
    assert_string_equal(f.lines[2].text,
                        "The associations could not be read (READSTAT: timeout). Retrying.");
    five_peers(S);
    mon_model_snapshot(M, 0, S, NOW + 1);
    assert_int_equal(M->hosts[0].snap.n_peers, 5);
    S->n_peers = 0;
    snprintf(S->peers_error, sizeof S->peers_error, "READSTAT: timeout");
    mon_model_snapshot(M, 0, S, NOW + 2);
    assert_int_equal(M->hosts[0].state, MON_HOST_OK);
    assert_int_equal(M->hosts[0].snap.n_peers, 5);
    assert_string_equal(M->hosts[0].snap.peers[4].srcadr, S->peers[4].srcadr);
    f = layout(80, 24);
    check_frame(&f);
    assert_string_equal(f.lines[2].text,
                        "associations not read (READSTAT: timeout); showing them from before");
    json_object *o = mon_model_json(M, NOW + 2);
    const char *txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    assert_non_null(strstr(txt, "\"peers_error\":\"READSTAT: timeout\""));
    json_object_put(o);
    /* Some associations' variables lost: the others are shown, and the banner says so. */
    five_peers(S);
    S->n_peers = 3;
    snprintf(S->peers_error, sizeof S->peers_error,
             "READVAR of 2 of 5 associations: timeout (association 4)");
    mon_model_snapshot(M, 0, S, NOW + 3);
    assert_int_equal(M->hosts[0].snap.n_peers, 3);
    f = layout(80, 24);
    check_frame(&f);
    assert_string_equal(f.lines[2].text,
                        "some sources missing (READVAR of 2 of 5 associations: timeout "
                        "(association 4))");
    S->peers_error[0] = '\0';
    five_peers(S);
    mon_model_snapshot(M, 0, S, NOW + 4);
    f = layout(80, 24);
    assert_null(strstr(f.lines[2].text, "not read"));
    assert_null(strstr(f.lines[2].text, "missing"));
}

static void test_json(void **state)
{
    (void)state;
    model_with_peers();
    S->peers[0].offset_s = 2e-3;
    S->peers[0].rec_unix_s += 64;
    mon_model_snapshot(M, 0, S, NOW + 64);
    json_object *o = mon_model_json(M, NOW + 64);
    const char *txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    assert_non_null(strstr(txt, "\"state\":\"ok\""));
    assert_non_null(strstr(txt, "\"history\":[-0.02,0.002]"));
    assert_non_null(strstr(txt, "\"srcadr\":\"10.0.0.3\""));
    assert_non_null(strstr(txt, "\"tally\":\"*\""));
    assert_non_null(strstr(txt, "\"mode\":\"peers\""));
    json_object_put(o);
}

/* ---- options ---- */

static int parse(struct mon_opts *o, const char *no_color, ...)
{
    char *argv[32] = {"ntpmon"};
    int argc = 1;
    va_list ap;
    va_start(ap, no_color);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL && argc < 31;)
        argv[argc++] = (char *)(uintptr_t)a;
    va_end(ap);
    FILE *err = fopen("/dev/null", "w");
    int rc = mon_opts_parse(argc, argv, no_color, o, err);
    fclose(err);
    return rc;
}

static void test_opts(void **state)
{
    (void)state;
    struct mon_opts o;
    assert_int_equal(parse(&o, NULL, NULL), 0);
    assert_int_equal(o.n_hosts, 1);
    assert_string_equal(o.hosts[0], "localhost");
    assert_true(o.color);
    assert_int_equal(o.timeout_ms, 2000);
    assert_true(o.delay_s == 0);
    assert_int_equal(parse(&o, "1", "-d", "-d", "-n", "-u", "a", "b", NULL), 0);
    assert_int_equal(o.debug, 2);
    assert_string_equal(o.logfile, "ntpmon.log");
    assert_true(o.numeric && o.units && !o.color);
    assert_int_equal(o.n_hosts, 2);
    assert_string_equal(o.hosts[1], "b");
    assert_int_equal(parse(&o, "", "--set-debug-level=3", "--logfile", "x.log", "--numeric",
                           "--units", "--delay", "2.5", "--timeout=500", "--once", "--json",
                           "--no-color", "--ascii", "-6", NULL),
                     0);
    assert_int_equal(o.debug, 3);
    assert_string_equal(o.logfile, "x.log");
    assert_true(o.delay_s == 2.5 && o.timeout_ms == 500 && o.once && o.json && !o.color &&
                o.ascii && o.family == AF_INET6);
    assert_int_equal(parse(&o, NULL, "-D", "0", "-l", "y", "-4", "-h", "-V", NULL), 0);
    assert_true(o.help && o.version && o.family == AF_INET && o.debug == 0);
    assert_int_equal(parse(&o, NULL, "--debug", "--help", "--version", NULL), 0);
    assert_true(o.debug == 1 && o.help && o.version);
    static const char *const bad[][3] = {
        {"-D", "x", NULL},        {"--delay", "0", NULL},  {"--delay", "abc", NULL},
        {"--timeout", "5", NULL}, {"--bogus", NULL, NULL}, {"-i", "5", NULL},
        {"-D", NULL, NULL},       {"", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(parse(&o, NULL, bad[i][0], bad[i][1], bad[i][2], NULL),
                         MON_EXIT_USAGE);
    assert_int_equal(parse(&o, NULL, "1", "2", "3", "4", "5", "6", "7", "8", NULL), 0);
    assert_int_equal(o.n_hosts, 8);
    assert_int_equal(parse(&o, NULL, "1", "2", "3", "4", "5", "6", "7", "8", "9", NULL),
                     MON_EXIT_USAGE);
    int w, h;
    mon_term_size(NULL, NULL, &w, &h);
    assert_true(w == 80 && h == 24);
    mon_term_size("132", "43", &w, &h);
    assert_true(w == 132 && h == 43);
    mon_term_size("1000", "1000", &w, &h);
    assert_true(w == 1000 && h == 1000);
    mon_term_size("1001", "-1", &w, &h);
    assert_true(w == 80 && h == 24);
    mon_term_size("0", "x", &w, &h);
    assert_true(w == 80 && h == 24);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_modes),
        cmocka_unit_test(test_keys_toggles),
        cmocka_unit_test(test_keys_quit_help_poll),
        cmocka_unit_test(test_keys_hosts_and_sort_cycle),
        cmocka_unit_test(test_sort_every_column),
        cmocka_unit_test(test_sort_absent_last),
        cmocka_unit_test(test_filter),
        cmocka_unit_test(test_selection_clamp),
        cmocka_unit_test(test_selection_scrolls),
        cmocka_unit_test(test_history_once_per_rec),
        cmocka_unit_test(test_refresh_rule),
        cmocka_unit_test(test_sparkline),
        cmocka_unit_test(test_escape_table),
        cmocka_unit_test(test_escape_property),
        cmocka_unit_test(test_layout_sizes),
        cmocka_unit_test(test_layout_long_names),
        cmocka_unit_test(test_layout_property),
        cmocka_unit_test(test_layout_mru_and_detail),
        cmocka_unit_test(test_empty_states),
        cmocka_unit_test(test_peers_error),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_opts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
