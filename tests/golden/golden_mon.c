/* SPDX-License-Identifier: BSD-2-Clause */
/* Golden tests of ntpmon's --once frames and --json output: a snapshot parsed from NTPsec
 * 1.2.2's real mode-6 responses (tests/data/mode6.tsv) laid out at fixed sizes and times must
 * equal tests/data/mon/<name>.txt / .json byte for byte; wire text with ESC, BEL and CR must
 * never reach a frame or the JSON raw. NTK_GOLDEN_UPDATE=1 rewrites the expected files
 * (review the diff). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "testutil.h"
#include "tsv.h"

#include "mode6_resp.h"

#include "m6snap.h"
#include "mon_model.h"
#include "mon_opts.h"

#include "poison.h"

#define TAKEN 1795665179.0 /* when the fixed snapshot was "taken" */

static struct m6_snap snap;

/* What m6_fetch would have built from the capture's exchanges, at a fixed time. */
static void build_snapshot(struct m6_snap *s)
{
    load_capture();
    m6_snap_init(s);
    s->up = true;
    s->fetch_s = 0.0125;
    s->taken_unix_s = TAKEN;
    const struct resp *r = find(2, 0, "leap=");
    assert_int_equal(m6_parse_sys(r->data, r->len, &s->sys), 0);
    s->sys.status = 0x0016;
    r = find(1, 0, "");
    int n = m6_parse_assocs((const uint8_t *)r->data, r->len, s->peers, M6_PEERS_MAX);
    assert_int_equal(n, 2);
    s->n_peers = 2;
    for (size_t i = 0; i < s->n_peers; i++) {
        r = find(2, s->peers[i].associd, "srcadr=");
        assert_int_equal(m6_parse_peer(r->data, r->len, &s->peers[i]), 0);
    }
}

static struct mon_model model;

/* The model after three polls of the capture's sources (offsets varied so that the
 * sparkline has a shape), each a new `rec`. */
static void build_model(bool utf8)
{
    static const char *const hosts[] = {"localhost"};
    build_snapshot(&snap);
    mon_model_init(&model, hosts, 1);
    model.utf8 = utf8;
    static const double scale[] = {1.5, 0.5, 1.0};
    for (int k = 0; k < 3; k++) {
        struct m6_snap s = snap;
        for (size_t i = 0; i < s.n_peers; i++) {
            s.peers[i].offset_s = snap.peers[i].offset_s * scale[k];
            s.peers[i].rec_unix_s = snap.peers[i].rec_unix_s - 64 * (2 - k);
        }
        s.taken_unix_s = TAKEN - 64 * (2 - k);
        mon_model_snapshot(&model, 0, &s, s.taken_unix_s);
    }
}

static bool updating(void)
{
    const char *u = getenv("NTK_GOLDEN_UPDATE");
    return u != NULL && strcmp(u, "1") == 0;
}

/* Compares text[0..len) with tests/data/mon/name (or writes it when updating). */
static void compare(const char *text, size_t len, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/mon/%s", NTK_TEST_DATA_DIR, name);
    if (updating()) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fwrite(text, 1, len, f);
        fclose(f);
        return;
    }
    size_t wl = 0;
    char *want = tu_read_file(path, &wl);
    if (want == NULL) {
        fail_msg("cannot read %s", path);
    }
    if (wl != len || memcmp(want, text, len) != 0) {
        fprintf(stderr, "--- %s differs; got:\n%.*s\n", path, (int)len, text);
        free(want);
        fail_msg("%s differs", name);
    }
    free(want);
}

/* No byte below 0x20 but '\n', no DEL, anywhere in text. */
static void assert_no_controls(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c < 0x20 && c != '\n') || c == 0x7f) {
            fail_msg("control byte 0x%02x at %zu", c, i);
        }
    }
}

/* Prints the frame at w x h and checks it. */
static void frame_case(const char *name, int w, int h, double now)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(mon_print_frame(&model, now, w, h, f), 0);
    fclose(f);
    assert_no_controls(buf, len);
    compare(buf, len, name);
    free(buf);
}

static void json_case(const char *name, double now)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    mon_print_json(&model, now, f);
    fclose(f);
    assert_no_controls(buf, len);
    compare(buf, len, name);
    free(buf);
}

static void test_peers_80x24(void **state)
{
    (void)state;
    build_model(false);
    frame_case("peers-80x24.txt", 80, 24, TAKEN + 7);
}

static void test_peers_200x50_utf8(void **state)
{
    (void)state;
    build_model(true);
    frame_case("peers-200x50.txt", 200, 50, TAKEN + 7);
}

static void test_modes_60x15(void **state)
{
    (void)state;
    build_model(false);
    model.v.mode = MON_APEERS;
    frame_case("apeers-60x15.txt", 60, 15, TAKEN + 7);
    model.v.mode = MON_OPEERS;
    model.v.units = true;
    frame_case("opeers-units-80x24.txt", 80, 24, TAKEN + 7);
    model.v.mode = MON_RPEERS;
    model.v.units = false;
    frame_case("rpeers-100x24.txt", 100, 24, TAKEN + 7);
}

static void test_detail_sorted(void **state)
{
    (void)state;
    build_model(true);
    model.v.detail = true;
    model.v.sort = MON_COL_OFFSET;
    model.v.sort_desc = true;
    model.v.selected = 1;
    frame_case("detail-120x30.txt", 120, 30, TAKEN + 7);
}

static void test_help_and_tiny(void **state)
{
    (void)state;
    build_model(false);
    model.v.help = true;
    frame_case("help-80x24.txt", 80, 24, TAKEN);
    model.v.help = false;
    frame_case("peers-20x5.txt", 20, 5, TAKEN + 7);
}

static void test_empty_states(void **state)
{
    (void)state;
    static const char *const hosts[] = {"localhost", "ntp.example.org"};
    struct m6_snap *s = calloc(1, sizeof *s);
    assert_non_null(s);
    mon_model_init(&model, hosts, 2);
    m6_snap_init(s);
    snprintf(s->error, sizeof s->error, "timeout");
    mon_model_snapshot(&model, 0, s, TAKEN - 30);
    frame_case("unreachable-80x24.txt", 80, 24, TAKEN);
    snprintf(s->error, sizeof s->error, "refused: error code 5");
    mon_model_snapshot(&model, 1, s, TAKEN - 30);
    model.v.host = 1;
    frame_case("refused-80x24.txt", 80, 24, TAKEN);
    build_snapshot(s);
    s->n_peers = 0;
    mon_model_snapshot(&model, 0, s, TAKEN);
    model.v.host = 0;
    frame_case("noassoc-80x24.txt", 80, 24, TAKEN);
    json_case("states.json", TAKEN);
    free(s);
}

static void test_json(void **state)
{
    (void)state;
    build_model(true);
    json_case("peers.json", TAKEN + 7);
}

/* A daemon that puts ESC, BEL and CR in a refid and a srchost: never raw on the screen or in
 * the JSON, in UTF-8 and ASCII mode. */
static void test_escape(void **state)
{
    (void)state;
    static const char *const hosts[] = {"evil"};
    struct m6_snap *s = calloc(1, sizeof *s);
    assert_non_null(s);
    build_snapshot(s);
    snprintf(s->peers[0].refid, sizeof s->peers[0].refid, "\x1b[2J\x07X\r");
    snprintf(s->peers[1].srchost, sizeof s->peers[1].srchost, "a\x1b]0;pwn\x07\rb\xff\xc0");
    snprintf(s->sys.version, sizeof s->sys.version, "ntpd \x1b[31mred\x1b[0m\r");
    for (int u = 0; u < 2; u++) {
        mon_model_init(&model, hosts, 1);
        model.utf8 = u == 1;
        mon_model_snapshot(&model, 0, s, TAKEN);
        frame_case(u ? "escape-utf8-100x24.txt" : "escape-ascii-100x24.txt", 100, 24, TAKEN);
        model.v.detail = true;
        frame_case(u ? "escape-detail-utf8.txt" : "escape-detail-ascii.txt", 100, 24, TAKEN);
    }
    json_case("escape.json", TAKEN);
    free(s);
}

/* NTPsec 1.2.2's SHM(0) (unreachable, its refid SHM0) with the clock variables it answered
 * READCLOCK with (captured), as detail mode fetches them: the detail pane shows them after the
 * peer variables, as NTPsec's ntpmon does; the row is SHM(0), type l, refid .SHM0. */
static void test_refclock_ntpsec_detail(void **state)
{
    (void)state;
    static const char *const hosts[] = {"localhost"};
    struct m6_snap *s = calloc(1, sizeof *s);
    assert_non_null(s);
    build_snapshot(s);
    assert_string_equal(s->peers[0].kind, "refclock");
    const struct resp *r = find(4, s->peers[0].associd, "name=");
    assert_int_equal(m6_parse_clock(r->data, r->len, &s->peers[0]), 0);
    mon_model_init(&model, hosts, 1);
    mon_model_snapshot(&model, 0, s, TAKEN);
    model.v.detail = true;
    model.v.selected = 0; /* SHM(0), the first row */
    frame_case("refclock-ntpsec-detail-100x24.txt", 100, 24, TAKEN + 3);
    free(s);
}

/* Our ntpd's SHM(0) fed by gpsd, the system peer (its variables as our ntpd sent them in
 * tests/interop/refclock_gpsd.sh): '*', SHM(0) also with -n (a refclock has no address to
 * show), refid .GPS., stratum 0, type l, reach 377; the header stratum 1 refid GPS; the
 * detail pane with its clock variables. */
static void test_refclock_ours_selected(void **state)
{
    (void)state;
    static const char *const hosts[] = {"localhost"};
    static const char sys[] =
        "leap=00, stratum=1, precision=-25, rootdelay=0.0, rootdisp=0.364, refid=GPS,\r\n"
        "tc=4, peer=1, offset=-0.358801, frequency=0.0, sys_jitter=0.000954,\r\n"
        "clk_jitter=0.000954, version=\"ntpd ntpkit-0.1.0\", clk_wander=0.0, mintc=0";
    static const char peer[] =
        "srcadr=127.127.28.0, srcport=123, dstadr=0.0.0.0, dstport=0, leap=00, hmode=3,\r\n"
        "stratum=0, ppoll=4, hpoll=4, precision=-20, rootdelay=0.0, rootdisp=0.0,\r\n"
        "refid=GPS, reach=0xff, unreach=0, delay=0.0, offset=-0.341900, jitter=0.068300,\r\n"
        "dispersion=0.084694, keyid=0, pmode=4, flash=0x0, headway=0, srchost=\"SHM(0)\",\r\n"
        "ntscookies=-1";
    static const char clock[] =
        "device=\"SHM/Shared memory interface\", name=\"SHM\",\r\n"
        "timecode=\"1795703550.000000000 1795703550.000366912\", poll=37, noreply=0,\r\n"
        "badformat=0, baddata=0, fudgetime1=0.0, stratum=0, refid=GPS, flags=0";
    struct m6_snap *s = calloc(1, sizeof *s);
    assert_non_null(s);
    m6_snap_init(s);
    s->up = true;
    s->fetch_s = 0.0031;
    s->taken_unix_s = TAKEN;
    assert_int_equal(m6_parse_sys(sys, sizeof sys - 1, &s->sys), 0);
    s->sys.status = 0x0415; /* leap_none, sync_uhf_radio, 1 event, clock_sync */
    /* conf, reach, sel_sys.peer, 1 event, sys_peer */
    assert_int_equal(m6_parse_assocs((const uint8_t[]){0, 1, 0x96, 0x1a}, 4, s->peers, 1), 1);
    s->n_peers = 1;
    assert_int_equal(m6_parse_peer(peer, sizeof peer - 1, &s->peers[0]), 0);
    s->peers[0].rec_unix_s = TAKEN - 2;
    assert_int_equal(m6_parse_clock(clock, sizeof clock - 1, &s->peers[0]), 0);
    assert_string_equal(s->peers[0].kind, "refclock");
    assert_int_equal(s->peers[0].sel, M6_SEL_SYSPEER);
    mon_model_init(&model, hosts, 1);
    mon_model_snapshot(&model, 0, s, TAKEN);
    frame_case("refclock-ours-80x24.txt", 80, 24, TAKEN + 1);
    model.v.numeric = true;
    frame_case("refclock-ours-numeric-80x24.txt", 80, 24, TAKEN + 1);
    model.utf8 = true;
    model.v.numeric = false;
    model.v.detail = true;
    frame_case("refclock-ours-detail-100x24.txt", 100, 24, TAKEN + 1);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peers_80x24),
        cmocka_unit_test(test_peers_200x50_utf8),
        cmocka_unit_test(test_modes_60x15),
        cmocka_unit_test(test_detail_sorted),
        cmocka_unit_test(test_help_and_tiny),
        cmocka_unit_test(test_empty_states),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_refclock_ntpsec_detail),
        cmocka_unit_test(test_refclock_ours_selected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
