/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for daemon/io/conf_rc.c: `refclock` lines in NTPsec's syntax (every option to
 * its field, the defaults, one poll moving the other), the drivers not built and every bad
 * option as file:line:col errors, and a seeded loop of option soup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "conf.h"
#include "ntk/err.h"
#include "testutil.h"

#include "poison.h"

static struct conf C;
static struct conf_diags D;

static int parse(const char *text)
{
    conf_free(&C);
    conf_init(&C);
    conf_diags_init(&D);
    return conf_parse_text(&C, "t.conf", text, strlen(text), &D);
}

static void parse_ok(const char *text)
{
    int rc = parse(text);
    char buf[512];
    for (size_t i = 0; i < D.n; i++) {
        conf_diag_format(&D.d[i], buf, sizeof buf);
        fprintf(stderr, "  %s\n", buf);
    }
    assert_int_equal(rc, NTK_OK);
    assert_int_equal(D.n, 0);
}

/* text has exactly one error, formatted as want. */
static void parse_err(const char *text, const char *want)
{
    assert_int_equal(parse(text), NTK_EFORMAT);
    assert_int_equal(D.errors, 1);
    char buf[512];
    conf_diag_format(&D.d[0], buf, sizeof buf);
    assert_string_equal(buf, want);
    assert_int_equal(C.n_refclocks, 0);
}

static void shm_every_option(void **state)
{
    (void)state;
    parse_ok("refclock shm unit 2 refid GPS prefer noselect minpoll 3 maxpoll 5 time1 0.0035 "
             "time2 -0.1 stratum 1 flag1 1 flag2 0 flag4 1 mode 1 subtype 7 path /x "
             "ppspath /dev/pps1\n");
    assert_int_equal(C.n_refclocks, 1);
    const struct conf_refclock *r = &C.refclocks[0];
    assert_int_equal(r->cfg.type, ENG_RC_SHM);
    assert_int_equal(r->cfg.unit, 2);
    assert_string_equal(r->cfg.refid, "GPS");
    assert_true(r->cfg.prefer);
    assert_true(r->cfg.noselect);
    assert_int_equal(r->cfg.minpoll_log2, 3);
    assert_int_equal(r->cfg.maxpoll_log2, 5);
    assert_true(r->cfg.time1_s == 0.0035);
    assert_true(r->cfg.time2_s == -0.1);
    assert_int_equal(r->cfg.stratum, 1);
    assert_int_equal(r->cfg.flags, 0x9);
    assert_int_equal(r->cfg.precision_log2, -20);
    assert_string_equal(r->cfg.device, "SHM/Shared memory interface");
    assert_int_equal(r->mode, 1);
    assert_int_equal(r->subtype, 7);
    assert_string_equal(r->path, "/x");
    assert_string_equal(r->ppspath, "/dev/pps1");
    assert_int_equal(r->line, 1);
}

static void defaults_and_polls(void **state)
{
    (void)state;
    parse_ok("# GPS\nrefclock pps\nrefclock sock path \"/run/chrony.ttyS0.sock\" unit 1\n"
             "refclock shm minpoll 6\nrefclock shm unit 1 maxpoll 2\n");
    assert_int_equal(C.n_refclocks, 4);
    const struct conf_refclock *r = &C.refclocks[0];
    assert_int_equal(r->cfg.type, ENG_RC_PPS);
    assert_int_equal(r->cfg.unit, 0);
    assert_string_equal(r->cfg.refid, "");
    assert_int_equal(r->cfg.stratum, 0);
    assert_int_equal(r->cfg.minpoll_log2, 4);
    assert_int_equal(r->cfg.maxpoll_log2, 4);
    assert_int_equal(r->cfg.flags, 0);
    assert_false(r->cfg.prefer);
    assert_string_equal(r->cfg.device, "PPS Clock Discipline");
    assert_string_equal(r->path, "");
    assert_int_equal(r->line, 2);
    r = &C.refclocks[1];
    assert_int_equal(r->cfg.type, ENG_RC_SOCK);
    assert_int_equal(r->cfg.unit, 1);
    assert_string_equal(r->path, "/run/chrony.ttyS0.sock");
    assert_string_equal(r->cfg.device, "SOCK/chrony refclock socket");
    r = &C.refclocks[2]; /* minpoll 6 alone: maxpoll follows */
    assert_int_equal(r->cfg.minpoll_log2, 6);
    assert_int_equal(r->cfg.maxpoll_log2, 6);
    r = &C.refclocks[3]; /* maxpoll 2 alone: minpoll follows */
    assert_int_equal(r->cfg.minpoll_log2, 2);
    assert_int_equal(r->cfg.maxpoll_log2, 2);
    /* flagN 0 clears what an earlier flagN 1 set. */
    parse_ok("refclock shm flag3 1 flag3 0 flag2 1\n");
    assert_int_equal(C.refclocks[0].cfg.flags, 0x2);
}

static void errors(void **state)
{
    (void)state;
    parse_err("refclock\n", "t.conf:1:9: error: refclock: missing argument");
    parse_err("refclock nmea unit 0\n",
              "t.conf:1:10: error: refclock: the nmea driver is not built into this ntpd "
              "(built: shm, pps, sock)");
    parse_err("refclock gpsd\n", "t.conf:1:10: error: refclock: the gpsd driver is not built "
                                 "into this ntpd (built: shm, pps, sock)");
    parse_err("refclock frob\n",
              "t.conf:1:10: error: refclock: unknown driver 'frob' (built: shm, pps, sock)");
    parse_err("refclock SHM\n",
              "t.conf:1:10: error: refclock: unknown driver 'SHM' (built: shm, pps, sock)");
    parse_err("refclock shm unit 256\n",
              "t.conf:1:19: error: refclock unit: 256 is out of range 0..255");
    parse_err("refclock shm unit x\n",
              "t.conf:1:19: error: refclock unit: expected an integer, got 'x'");
    parse_err("refclock shm unit\n", "t.conf:1:18: error: refclock unit: missing argument");
    parse_err("refclock shm refid GPSXX\n", "t.conf:1:20: error: refclock refid: 1 to 4 "
                                            "printable characters, got 'GPSXX'");
    parse_err("refclock shm refid \"G S\"\n", "t.conf:1:20: error: refclock refid: 1 to 4 "
                                              "printable characters, got 'G S'");
    parse_err("refclock shm flag1 2\n",
              "t.conf:1:20: error: refclock flag: 2 is out of range 0..1");
    parse_err("refclock shm flag5 1\n",
              "t.conf:1:14: error: refclock: unknown option 'flag5'");
    parse_err("refclock shm key 1\n", "t.conf:1:14: error: refclock: unknown option 'key'");
    parse_err("refclock shm stratum 16\n",
              "t.conf:1:22: error: refclock stratum: 16 is out of range 0..15");
    parse_err("refclock shm minpoll 18\n",
              "t.conf:1:22: error: refclock minpoll: 18 is out of range 0..17");
    parse_err("refclock shm maxpoll -1\n",
              "t.conf:1:22: error: refclock maxpoll: -1 is out of range 0..17");
    parse_err("refclock shm minpoll 6 maxpoll 4\n",
              "t.conf:1:32: error: refclock: minpoll 6 is above maxpoll 4");
    parse_err("refclock shm time1 abc\n",
              "t.conf:1:20: error: refclock time1: expected a number, got 'abc'");
    parse_err("refclock shm time2 4000\n",
              "t.conf:1:20: error: refclock time2: 4000 is out of range -3600..3600");
    parse_err("refclock shm time1 nan\n",
              "t.conf:1:20: error: refclock time1: expected a number, got 'nan'");
    parse_err("refclock sock\n", "t.conf:1:14: error: refclock sock: path is required (the "
                                 "socket ntpd binds)");
    parse_err("refclock sock path \"\"\n", "t.conf:1:20: error: refclock path: empty");
    parse_err("refclock shm mode -1\n",
              "t.conf:1:19: error: refclock mode: -1 is out of range 0..4294967295");
    parse_err("server 127.127.20.0\n",
              "t.conf:1:8: error: 127.127.20.x is NTPsec's nmea driver, not built into this "
              "ntpd (built: shm 127.127.28.x, pps 127.127.22.x, sock 127.127.47.x)");
    parse_err("server 127.127.28.0 key 1\n",
              "t.conf:1:21: error: refclock: unknown option 'key'");
    parse_err("fudge 127.127.28.0 time1 0.1 minpoll 4\n",
              "t.conf:1:30: error: fudge: unknown option 'minpoll' (time1, time2, stratum, "
              "refid, flag1..flag4)");
}

/* The Classic forms NTPsec 1.2.2 still takes: server 127.127.TYPE.UNIT, fudge (before or
 * after its refclock), unpeer; and the refclock options NTPsec takes that do nothing. */
static void classic_forms(void **state)
{
    (void)state;
    parse_ok("fudge 127.127.28.0 refid GPS time1 0.1 flag1 1\n"
             "server 127.127.28.0 minpoll 4 maxpoll 4 prefer true iburst\n"
             "fudge 127.127.28.0 stratum 3 time2 0.5 flag1 0 flag3 1\n"
             "server -4 127.127.22.1 minpoll 0\nrefclock shm unit 2\nunpeer clock shm unit 2\n"
             "refclock pps unit 3\nunpeer 127.127.22.3\n");
    assert_int_equal(C.n_refclocks, 2);
    const struct eng_refclock_cfg *c = &C.refclocks[0].cfg;
    assert_int_equal(c->type, ENG_RC_SHM);
    assert_int_equal(c->unit, 0);
    assert_string_equal(c->refid, "GPS");
    assert_true(c->time1_s == 0.1 && c->time2_s == 0.5);
    assert_int_equal(c->stratum, 3);
    assert_int_equal(c->flags, 0x4); /* flag1 set by the first fudge, cleared by the second */
    assert_true(c->prefer && c->true_ && !c->noselect);
    assert_int_equal(c->minpoll_log2, 4);
    assert_string_equal(C.refclocks[0].cfg.device, "SHM/Shared memory interface");
    c = &C.refclocks[1].cfg;
    assert_int_equal(c->type, ENG_RC_PPS);
    assert_int_equal(c->unit, 1);
    assert_int_equal(c->minpoll_log2, 0);
    assert_int_equal(c->maxpoll_log2, 4);
    assert_int_equal(C.n_servers, 0);
    /* A fudge or unpeer that matches nothing is a warning at its own line (NTPsec ignores
     * it without a word). */
    assert_int_equal(parse("refclock shm\nfudge 127.127.28.1 refid X\nunpeer clock pps\n"),
                     NTK_OK);
    assert_int_equal(D.warnings, 2);
    char buf[512];
    conf_diag_format(&D.d[0], buf, sizeof buf);
    assert_string_equal(buf, "t.conf:2:7: warning: fudge: no reference clock of this "
                             "configuration has that address; ignored (as NTPsec)");
    conf_diag_format(&D.d[1], buf, sizeof buf);
    assert_string_equal(buf, "t.conf:3:14: warning: unpeer: no reference clock of this "
                             "configuration has that address; ignored (as NTPsec)");
    assert_string_equal(C.refclocks[0].cfg.refid, "");
    /* baud and holdover: taken, and said to do nothing. */
    assert_int_equal(parse("refclock shm baud 9600 holdover 5\n"), NTK_OK);
    assert_int_equal(D.warnings, 2);
    assert_int_equal(C.n_refclocks, 1);
}

static void duplicates_and_limit(void **state)
{
    (void)state;
    assert_int_equal(parse("refclock shm unit 1\nrefclock pps unit 1\nrefclock shm unit 1\n"),
                     NTK_EFORMAT);
    assert_int_equal(D.errors, 1);
    char buf[512];
    conf_diag_format(&D.d[0], buf, sizeof buf);
    assert_string_equal(
        buf, "t.conf:3:10: error: refclock: shm unit 1 is already configured at line 1");
    assert_int_equal(C.n_refclocks, 2);
    char text[1024];
    size_t n = 0;
    for (int i = 0; i < CONF_REFCLOCKS_MAX + 1; i++) {
        n += (size_t)snprintf(text + n, sizeof text - n, "refclock shm unit %d\n", i);
    }
    assert_int_equal(parse(text), NTK_EFORMAT);
    assert_int_equal(C.n_refclocks, CONF_REFCLOCKS_MAX);
    conf_diag_format(&D.d[0], buf, sizeof buf);
    assert_string_equal(buf, "t.conf:9:1: error: refclock: more than 8 refclock lines");
}

/* Option soup: every diagnostic points inside its line, and a clean line is stored with
 * its fields in range. */
static void option_soup(void **state)
{
    (void)state;
    static const char *const words[] = {
        "unit",  "prefer", "noselect", "minpoll", "maxpoll", "time1", "time2", "stratum",
        "refid", "flag1",  "flag4",    "path",    "mode",    "0",     "1",     "17",
        "-3",    "0.5",    "GPS",      "x",       "\"p q\"", "#",     "shm",   "pps"};
    tu_seed();
    for (int i = 0; i < 5000; i++) {
        char line[512];
        size_t n =
            (size_t)snprintf(line, sizeof line, "refclock %s", tu_rand() % 2 ? "shm" : "pps");
        unsigned k = (unsigned)(tu_rand() % 8);
        for (unsigned j = 0; j < k; j++) {
            n += (size_t)snprintf(line + n, sizeof line - n, " %s",
                                  words[tu_rand() % (sizeof words / sizeof words[0])]);
        }
        snprintf(line + n, sizeof line - n, "\n");
        int rc = parse(line);
        for (size_t d = 0; d < D.n; d++) {
            assert_int_equal(D.d[d].line, 1);
            assert_true(D.d[d].col >= 1 && D.d[d].col <= strlen(line));
        }
        if (rc == NTK_OK) {
            assert_int_equal(C.n_refclocks, 1);
            const struct eng_refclock_cfg *c = &C.refclocks[0].cfg;
            assert_true(c->minpoll_log2 <= c->maxpoll_log2);
            assert_true(c->maxpoll_log2 <= 17 && c->minpoll_log2 >= 0);
            assert_true(c->stratum <= 15);
            assert_true(strlen(c->refid) <= 4);
        } else {
            assert_int_equal(C.n_refclocks, 0);
        }
    }
}

static int teardown(void **state)
{
    (void)state;
    conf_free(&C);
    return 0;
}

int main(void)
{
    conf_init(&C);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shm_every_option), cmocka_unit_test(defaults_and_polls),
        cmocka_unit_test(errors),           cmocka_unit_test(duplicates_and_limit),
        cmocka_unit_test(option_soup),      cmocka_unit_test(classic_forms),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
