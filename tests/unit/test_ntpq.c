/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for ntpq (cli/ntpq): options, command prefix matching, each formatter with the
 * exact text NTPsec 1.2.2's ntpq prints (values worked out from its pylib/util.py), the
 * variable-list reader (typing, garbage, truncations) and the JSON keys and units. */
#include <json-c/json.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "nq.h"
#include "nq_cmd.h"
#include "nq_json.h"
#include "nq_main.h"
#include "testutil.h"

#include "poison.h"

/* ==== helpers ==== */

static char sbuf[65536];

static struct ntk_sb *fresh(struct ntk_sb *sb)
{
    ntk_sb_init(sb, sbuf, sizeof sbuf);
    return sb;
}

static struct nq_vars parse(const char *text)
{
    struct nq_vars vs;
    assert_int_equal(nq_vars_parse(text, strlen(text), &vs), 0);
    return vs;
}

static struct nq_style style(void)
{
    return (struct nq_style){.termwidth = 80, .cookwidth = 78, .now_s = 1795665178.62};
}

/* ==== options ==== */

struct parsed {
    enum nq_parse rc;
    struct nq_opts o;
    char out[4096], err[4096];
};

static void run_opts(struct parsed *p, int argc, const char **argv)
{
    FILE *out = fmemopen(p->out, sizeof p->out, "w"),
         *err = fmemopen(p->err, sizeof p->err, "w");
    char *args[32];
    for (int i = 0; i <= argc && i < 32; i++)
        memcpy(&args[i], &argv[i], sizeof args[i]); /* getopt's argv is not const */
    p->rc = nq_opts_parse(argc, args, &p->o, out, err);
    fclose(out);
    fclose(err);
}

static void test_opts(void **state)
{
    (void)state;
    static struct parsed p;
    const char *a1[] = {"ntpq", "-n", "-c", "rv", "-p", "-c",   "as", "-W", "120", "-w",
                        "-u",   "-j", "-a", "3",  "-k", "keys", "h1", "-6", "h2",  NULL};
    run_opts(&p, 19, a1);
    assert_int_equal(p.rc, NQ_PARSE_RUN);
    assert_int_equal(p.o.ncmds, 3);
    assert_string_equal(p.o.cmds[0], "rv");
    assert_string_equal(p.o.cmds[1], "peers");
    assert_string_equal(p.o.cmds[2], "as");
    assert_int_equal(p.o.showhostnames, 0);
    assert_int_equal(p.o.width, 120);
    assert_true(p.o.wide && p.o.units && p.o.json);
    assert_int_equal(p.o.keyid, 3);
    assert_string_equal(p.o.keyfile, "keys");
    assert_int_equal(p.o.nhosts, 2);
    assert_string_equal(p.o.hosts[1].name, "h2");
    assert_int_equal(p.o.hosts[0].family, AF_UNSPEC);
    assert_int_equal(p.o.hosts[1].family, AF_INET6);

    const char *a2[] = {"ntpq", NULL};
    run_opts(&p, 1, a2);
    assert_int_equal(p.rc, NQ_PARSE_RUN);
    assert_int_equal(p.o.nhosts, 1);
    assert_string_equal(p.o.hosts[0].name, "localhost");
    assert_int_equal(p.o.showhostnames, 1);

    const char *a3[] = {"ntpq", "-a", "x", NULL};
    run_opts(&p, 3, a3);
    assert_int_equal(p.rc, NQ_PARSE_BAD);
    assert_true(strncmp(p.err, "Error: -a parameter 'x' not a number\n", 37) == 0);

    const char *a4[] = {"ntpq", "-x", NULL};
    run_opts(&p, 2, a4);
    assert_int_equal(p.rc, NQ_PARSE_BAD);
    assert_true(strncmp(p.err, "option -x not recognized\n", 25) == 0);

    const char *a5[] = {"ntpq", "-c", NULL};
    run_opts(&p, 2, a5);
    assert_int_equal(p.rc, NQ_PARSE_BAD);
    assert_true(strncmp(p.err, "option -c requires argument\n", 28) == 0);

    const char *a6[] = {"ntpq", "--help", NULL};
    run_opts(&p, 2, a6);
    assert_int_equal(p.rc, NQ_PARSE_DONE);
    assert_true(strncmp(p.out, "Usage: ntpq [options] [host ...]\n", 33) == 0);

    const char *a7[] = {"ntpq", "host", "-x", NULL};
    run_opts(&p, 3, a7);
    assert_int_equal(p.rc, NQ_PARSE_BAD);
    assert_string_equal(p.err, "ntpq: unexpected option-like thing.\n");

    const char *a8[] = {"ntpq", "--json=1", NULL};
    run_opts(&p, 2, a8);
    assert_int_equal(p.rc, NQ_PARSE_BAD);
    assert_true(strncmp(p.err, "option --json must not have an argument\n", 40) == 0);
}

/* ==== prefix matching ==== */

static void test_match(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int rc;
        const char *full;
    } cases[] = {
        {"peers", 1, "peers"}, {"pe", 1, "peers"},        {"p", 2, NULL},
        {"rv", 1, "rv"},       {"as", 1, "associations"}, {"mrul", 1, "mrulist"},
        {"mr", 2, NULL},       {"cl", 1, "cl"},           {"cle", 1, "clearvars"},
        {"a", 2, NULL},        {"zz", 0, NULL},           {"sysi", 1, "sysinfo"},
        {"sys", 2, NULL},      {"ifs", 1, "ifstats"},     {"res", 1, "reslist"},
        {"lop", 1, "lopeers"}, {"EOF", 1, "EOF"},         {"q", 1, "quit"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *full = NULL;
        int rc = nq_match(cases[i].in, &full);
        assert_int_equal(rc, cases[i].rc);
        if (rc == 1)
            assert_string_equal(full, cases[i].full);
    }
}

/* ==== a fake transport ==== */

static const char *fake_data;
static size_t fake_len;
static uint16_t fake_status;
static int fake_rc;
static char last_req[512];

static int f_open(void *c, const char *h, int f, FILE *e)
{
    (void)c, (void)h, (void)f, (void)e;
    return 0;
}
static int f_query(void *c, uint8_t op, uint16_t id, const char *d, size_t l, uint32_t k,
                   struct nq_reply *r)
{
    (void)c, (void)k;
    snprintf(last_req, sizeof last_req, "%u %u %.*s", op, id, (int)l, d);
    *r = (struct nq_reply){.data = fake_data, .len = fake_len, .status = fake_status};
    return fake_rc;
}
static int f_mru(void *c, const char *p, size_t l, unsigned fr, nq_chunk_fn ch, void *cc)
{
    (void)c, (void)fr;
    snprintf(last_req, sizeof last_req, "mru %.*s", (int)l, p);
    ch(cc, fake_data, fake_len);
    return 0;
}
static void f_timeout(void *c, long ms)
{
    (void)c, (void)ms;
}
static bool f_have(void *c, uint32_t k)
{
    (void)c;
    return k == 3;
}
static int f_add(void *c, uint32_t k, const char *t, const char *p)
{
    (void)c, (void)k, (void)t, (void)p;
    return -1;
}
static double f_now(void *c)
{
    (void)c;
    return 1795665178.62;
}
static const struct nq_io fake = {.open = f_open,
                                  .query = f_query,
                                  .mrulist = f_mru,
                                  .set_timeout = f_timeout,
                                  .have_key = f_have,
                                  .add_key = f_add,
                                  .now = f_now};

/* Runs lines through the interpreter; returns stdout and (in *err) stderr. */
static char *interp(const char *const *lines, size_t n, bool json, char **err)
{
    char *ob = NULL, *eb = NULL;
    size_t ol = 0, el = 0;
    FILE *o = open_memstream(&ob, &ol), *e = open_memstream(&eb, &el);
    struct nq q;
    nq_init(&q, &fake, o, e);
    q.st.showhostnames = 0;
    q.hostname = "127.0.0.2";
    q.nhosts = 1;
    q.json = json;
    for (size_t i = 0; i < n; i++)
        nq_run(&q, lines[i]);
    nq_fini(&q);
    fclose(o);
    fclose(e);
    *err = eb;
    return ob;
}

static void test_interp_messages(void **state)
{
    (void)state;
    static const char *const l1[] = {"a",      "frobnicate",  "rv stratum", "cv",
                                     "pstats", "timeout 300", "keyid",      "hostnames no",
                                     "raw",    "cooked"};
    fake_rc = NQ_Q_TIMEOUT;
    char *err, *out = interp(l1, 10, false, &err);
    assert_string_equal(err, "***Command `a' ambiguous\n"
                             "***Command `frobnicate' unknown\n"
                             "***Request timed out\n\n"
                             "Invalid associd literal.\n"
                             "This command requires the association ID of a clock.\n"
                             "usage: pstats assocID\n");
    assert_string_equal(out, "primary timeout 300 ms\n"
                             "no keyid defined\n"
                             "resolved hostnames not being shown\n"
                             "supplied hostnames not being shown\n"
                             "Output set to raw\n"
                             "Output set to cooked\n");
    free(out);
    free(err);

    static const char *const l2[] = {"help timeout", "help pe", "help p", "help zork"};
    out = interp(l2, 4, false, &err);
    assert_string_equal(
        out, "function: set the primary receive time out\n"
             "usage: timeout [ msec ]\n"
             "function: obtain and print a list of the server's peers [IP version]\n"
             "usage: peers\n"
             "*** No help on zork\n");
    assert_string_equal(err, "Command `p' is ambiguous.\n");
    free(out);
    free(err);
}

static void test_interp_associations(void **state)
{
    (void)state;
    static const uint8_t stat[] = {0x45, 0x68, 0x80, 0x1b, 0x45, 0x67, 0xb0, 0x14};
    fake_data = (const char *)stat;
    fake_len = sizeof stat;
    fake_rc = 0;
    static const char *const l[] = {"as"};
    char *err, *out = interp(l, 1, false, &err);
    assert_string_equal(out, "\nind assid status  conf reach auth condition  last_event cnt\n"
                             "===========================================================\n"
                             "  1 17767  b014   yes   yes  none    reject   reachable  1\n"
                             "  2 17768  801b   yes    no  none    reject clock_alarm  1\n");
    assert_string_equal(err, "");
    free(out);
    free(err);
    out = interp(l, 1, true, &err);
    json_object *j = json_tokener_parse(out);
    assert_non_null(j);
    json_object *a, *e, *v;
    assert_true(json_object_object_get_ex(j, "associations", &a));
    assert_int_equal(json_object_array_length(a), 2);
    e = json_object_array_get_idx(a, 0);
    assert_true(json_object_object_get_ex(e, "associd", &v));
    assert_int_equal(json_object_get_int(v), 17767);
    assert_true(json_object_object_get_ex(e, "reachable", &v));
    assert_true(json_object_get_boolean(v));
    assert_true(json_object_object_get_ex(j, "schema", &v));
    assert_string_equal(json_object_get_string(v), NQ_JSON_SCHEMA);
    json_object_put(j);
    free(out);
    free(err);
}

static void test_interp_rv_json(void **state)
{
    (void)state;
    static const char data[] = "offset=-0.001404, frequency=12.5, stratum=2, "
                               "reftime=0xeeb22b8c.7d549e3c, refid=127.127.1.1, "
                               "filtdelay= 0.04 0.05, version=\"ntpd 1\"\r\n";
    fake_data = data;
    fake_len = strlen(data);
    fake_status = 0x0016;
    fake_rc = 0;
    static const char *const l[] = {"rv 0 offset"};
    char *err, *out = interp(l, 1, true, &err);
    assert_string_equal(last_req, "2 0 offset");
    json_object *j = json_tokener_parse(out), *vars, *v;
    assert_non_null(j);
    assert_true(json_object_object_get_ex(j, "vars", &vars));
    assert_true(json_object_object_get_ex(vars, "offset_s", &v));
    assert_string_equal(json_object_to_json_string(v), "-0.000001404");
    assert_true(json_object_object_get_ex(vars, "frequency_ppm", &v));
    assert_string_equal(json_object_to_json_string(v), "12.5");
    assert_true(json_object_object_get_ex(vars, "stratum", &v));
    assert_int_equal(json_object_get_int(v), 2);
    assert_true(json_object_object_get_ex(vars, "reftime", &v));
    assert_string_equal(json_object_get_string(v), "eeb22b8c.7d549e3c");
    assert_true(json_object_object_get_ex(vars, "reftime_iso", &v));
    assert_true(strncmp(json_object_get_string(v), "2026-11-26T03:52:44.489", 23) == 0);
    assert_true(json_object_object_get_ex(vars, "filtdelay_s", &v));
    assert_string_equal(json_object_to_json_string(v), "[ 0.000040000, 0.000050000 ]");
    assert_true(json_object_object_get_ex(vars, "version", &v));
    assert_string_equal(json_object_get_string(v), "ntpd 1");
    assert_false(json_object_object_get_ex(vars, "offset", &v));
    json_object_put(j);
    free(out);
    free(err);
}

static void test_interp_mrulist_params(void **state)
{
    (void)state;
    fake_data = "now=0xeeb22b9b.3a5727e7, last.newest=0xeeb22b9b.3a51d6f8";
    fake_len = strlen(fake_data);
    static const char *const l[] = {"mrulist limit=5 mincount=0x10 kod resall=16 sort=-count"};
    char *err, *out = interp(l, 1, false, &err);
    assert_string_equal(last_req, "mru limit=5, mincount=16, resall=0x10, resany=0x400");
    assert_true(strncmp(out,
                        "Ctrl-C will stop MRU retrieval and display partial results.\n"
                        " lstint avgint",
                        74) == 0);
    free(out);
    free(err);
    static const char *const l2[] = {"mrulist bogus=1", "mrulist sort=zz"};
    out = interp(l2, 2, false, &err);
    assert_string_equal(err,
                        "***Unknown parameter 'bogus'\n***Sort order zz is not implemented\n");
    free(out);
    free(err);
}

/* ==== formatters ==== */

static void test_pyfloat(void **state)
{
    (void)state;
    static const struct {
        double d;
        const char *s;
    } cases[] = {{0.0, "0.0"},
                 {6e-05, "6e-05"},
                 {187.526793, "187.526793"},
                 {1e16, "1e+16"},
                 {1e15, "1000000000000000.0"},
                 {0.0001, "0.0001"},
                 {-2.5, "-2.5"},
                 {16000.0, "16000.0"},
                 {1.5e-05, "1.5e-05"},
                 {0.042335, "0.042335"},
                 {-0.0, "-0.0"},
                 {123456789.125, "123456789.125"},
                 {1e22, "1e+22"},
                 {0.1, "0.1"},
                 {2.0 / 3, "0.6666666666666666"}};
    struct ntk_sb sb;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nq_put_pyfloat(fresh(&sb), cases[i].d);
        assert_string_equal(ntk_sb_str(&sb), cases[i].s);
    }
    nq_put_pyfloat(fresh(&sb), NAN);
    assert_string_equal(ntk_sb_str(&sb), "nan");
    /* Property: the text reads back as the same double. */
    tu_seed();
    for (int i = 0; i < 2000; i++) {
        uint64_t bits = tu_rand();
        double d;
        memcpy(&d, &bits, sizeof d);
        if (!isfinite(d))
            continue;
        nq_put_pyfloat(fresh(&sb), d);
        assert_true(strtod(ntk_sb_str(&sb), NULL) == d);
    }
}

static void test_f8(void **state)
{
    (void)state;
    static const struct {
        const char *v;
        const char *four, *three;
    } cases[] = {{"0.042335", "  0.0423", "   0.042"}, {"1234.5", "1234.500", "1234.500"},
                 {"-0.5", " -0.5000", "  -0.500"},     {"-150.25", "-150.250", "-150.250"},
                 {"99999", "99999.00", "99999.00"},    {"12345678", "12345678", "12345678"},
                 {"abc", "     abc", "     abc"}};
    struct ntk_sb sb;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "x=%s", cases[i].v);
        struct nq_vars vs = parse(text);
        nq_put_f8dot4(fresh(&sb), &vs.v[0]);
        assert_string_equal(ntk_sb_str(&sb), cases[i].four);
        nq_put_f8dot3(fresh(&sb), &vs.v[0]);
        assert_string_equal(ntk_sb_str(&sb), cases[i].three);
        nq_vars_free(&vs);
    }
}

static void test_statustoa(void **state)
{
    (void)state;
    static const struct {
        int type;
        uint16_t st;
        const char *s;
    } cases[] = {
        {NQ_TYPE_SYS, 0x0016, "leap_none, sync_unspec, 1 event, restart"},
        {NQ_TYPE_SYS, 0xffff, "leap_alarm, sync_63, 15 events, stale_leapsecond_values"},
        {NQ_TYPE_SYS, 0x0100, "leap_none, sync_pps, no events, unspecified"},
        {NQ_TYPE_PEER, 0xb014, "conf, auth, reach, sel_reject, 1 event, reachable"},
        {NQ_TYPE_PEER, 0x0000, ", sel_reject, no events"},
        {NQ_TYPE_PEER, 0xffff,
         "conf, authenb, auth, reach, bcast, sel_pps.peer, 15 events, _15"},
        {NQ_TYPE_CLOCK, 0x0011, "1 event, clk_no_reply"},
        {NQ_TYPE_CLOCK, 0x801b, "1 event, clk_11"},
    };
    struct ntk_sb sb;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nq_put_statustoa(fresh(&sb), cases[i].type, cases[i].st);
        assert_string_equal(ntk_sb_str(&sb), cases[i].s);
    }
}

static const char peer_vars[] =
    "srcadr=192.0.2.77, dstadr=192.0.2.1, hmode=3, stratum=2, ppoll=10, hpoll=6, "
    "refid=203.0.113.5, rec=0xeeb22b5c.00000000, reach=0xff, delay=12.345678, "
    "offset=-0.5, jitter=1.25, rootdisp=3.0, dispersion=4.0, ntscookies=-1";

static void test_peers(void **state)
{
    (void)state;
    struct nq_style st = style();
    struct nq_vars vs = parse(peer_vars);
    struct ntk_sb sb;
    assert_int_equal(nq_peers_header(fresh(&sb), &st, NQ_PEERS), 79);
    assert_string_equal(ntk_sb_str(&sb), "     remote           refid      st t when poll "
                                         "reach   delay   offset   jitter");
    nq_peers_line(fresh(&sb), &st, NQ_PEERS, 0x9614, &vs, 17767);
    assert_string_equal(ntk_sb_str(&sb), "*192.0.2.77      203.0.113.5      2 u   62   64  "
                                         "377  12.3457  -0.5000   1.2500\n");
    nq_peers_line(fresh(&sb), &st, NQ_APEERS, 0x9414, &vs, 17767);
    assert_string_equal(ntk_sb_str(&sb), "+192.0.2.77      ...      17767   2 u   62   64  "
                                         "377  12.3457  -0.5000   1.2500\n");
    nq_peers_line(fresh(&sb), &st, NQ_OPEERS, 0x9314, &vs, 17767);
    assert_string_equal(ntk_sb_str(&sb), "-192.0.2.77      192.0.2.1        2 u   62   64  "
                                         "377  12.3457  -0.5000   4.0000\n");
    nq_peers_line(fresh(&sb), &st, NQ_RPEERS, 0x9114, &vs, 17767);
    assert_string_equal(ntk_sb_str(&sb), "  2 u   62   64  377  12.3457  -0.5000   1.2500\n");
    st.termwidth = 90;
    assert_int_equal(nq_peers_header(fresh(&sb), &st, NQ_PEERS), 89);
    nq_peers_line(fresh(&sb), &st, NQ_PEERS, 0x9614, &vs, 17767);
    assert_string_equal(ntk_sb_str(&sb), "*192.0.2.77                203.0.113.5      2 u   "
                                         "62   64  377  12.3457  -0.5000   1.2500\n");
    nq_vars_free(&vs);
    /* -w: a long name on its own line; numeric names keep their column otherwise. */
    vs = parse("srcadr=2001:db8:1234:5678:9abc:def0:1234:5678, refid=GPS, hmode=3, "
               "stratum=1, ppoll=4, hpoll=4, reach=0x1, delay=0.123, offset=1.0, "
               "jitter=0.5");
    st.termwidth = 80;
    st.wide = true;
    nq_peers_line(fresh(&sb), &st, NQ_PEERS, 0x9614, &vs, 1);
    assert_string_equal(ntk_sb_str(&sb), "*2001:db8:1234:5678:9abc:def0:1234:5678\n"
                                         "                 .GPS.            1 u    -   16    "
                                         "1    0.123    1.000    0.500\n");
    nq_vars_free(&vs);
    /* The t column of an NTS association is its cookie count, one character: a count from
     * the wire beyond 9 (a jar holds 8) is 9, as in ntpmon, and the largest int64 no longer
     * overflows '0' + n (found by the fuzz campaign: UBSan, signed integer overflow). */
    st.wide = false;
    const char *counts[] = {
        "0", "8", "9", "10", "9223372036854775807", "-1", "-9223372036854775808"};
    const char want[] = {'0', '8', '9', '9', '9', 'u', 'u'};
    for (size_t i = 0; i < sizeof want; i++) {
        char text[256];
        struct ntk_sb t;
        ntk_sb_init(&t, text, sizeof text);
        ntk_sb_printf(&t, "srcadr=192.0.2.9, hmode=3, stratum=2, ntscookies=%s", counts[i]);
        vs = parse(ntk_sb_str(&t));
        nq_peers_line(fresh(&sb), &st, NQ_PEERS, 0x9614, &vs, 1);
        const char *line = ntk_sb_str(&sb);
        const char *st2 = strstr(line, "  2 "); /* the st column, then t */
        assert_non_null(st2);
        if (st2[4] != want[i]) {
            fail_msg("ntscookies=%s: t column '%c', want '%c' in \"%s\"", counts[i], st2[4],
                     want[i], line);
        }
        nq_vars_free(&vs);
    }
}

static void test_cook(void **state)
{
    (void)state;
    struct nq_style st = style();
    struct nq_vars vs = parse("leap=3, reach=0x1f, flash=0x0, x=\"it's\", n=-0.000, "
                              "filtoffset= 0.01 -0.02, bare, clock=0xeeb22b9a.9ef41b6f");
    struct ntk_sb sb;
    nq_cook(fresh(&sb), &st, &vs);
    assert_string_equal(ntk_sb_str(&sb),
                        "leap=11, reach=037, flash=00 ok, x=\"it\"s\", n=-0.0, filtoffset "
                        "=0.01\t-0.02,\nbare=\"\", "
                        "clock=eeb22b9a.9ef41b6f 2026-11-26T03:52:58.620Z\n");
    nq_vars_free(&vs);
    /* NTPsec 1.2.2's stray bytes in a filter array: 0x1c-0x1f split words as Python's
     * str.split() splits them, other control bytes stay (as NTPsec's ntpq prints them). */
    vs = parse("filtdelay= 0.03 0.\x1f 0.03 0\x04 0.00");
    nq_cook(fresh(&sb), &st, &vs);
    assert_string_equal(ntk_sb_str(&sb), " filtdelay =0.03\t0.\t0.03\t0\x04\t0.00\n");
    nq_vars_free(&vs);
}

static void test_tables(void **state)
{
    (void)state;
    struct nq_style st = style();
    struct nq_vars vs = parse("ss_uptime=90061, ss_numctlreq=7");
    struct ntk_sb sb;
    nq_stats_show(fresh(&sb), &st, nq_stats_find("sysstats"), &vs, 0, 0);
    assert_string_equal(ntk_sb_str(&sb), "uptime:                  1D 01:01:01\n"
                                         "control requests:                  7\n");
    nq_vars_free(&vs);
    vs = parse("peeradr=127.0.0.1:123, peermode=3, leap=0, stratum=2, rootdelay=0.123, "
               "refid=x, reftime=0x00000000.00000000, authdelay=0.000");
    nq_stats_show(fresh(&sb), &st, nq_stats_find("sysinfo"), &vs, 0, 0x0016);
    assert_string_equal(ntk_sb_str(&sb),
                        "associd=0 status=0016 leap_none, sync_unspec, 1 event, restart,\n"
                        "system peer:       127.0.0.1:123\n"
                        "system peer mode:   client\n"
                        "leap indicator:               00\n"
                        "stratum:                       2\n"
                        "root delay:                0.123\n"
                        "reference ID:                  x\n"
                        "reference time:    00000000.00000000 2036-02-07T06:28:16.000Z\n"
                        "symm. auth. delay:           0.0\n");
    nq_vars_free(&vs);
    vs = parse("iostats_reset=10, io_received=25, io_sent=5, io_dropped=0");
    nq_stats_show(fresh(&sb), &st, nq_stats_find("iostats"), &vs, 0, 0);
    assert_string_equal(ntk_sb_str(&sb),
                        "time since reset:           00:00:10\n"
                        "dropped packets:                   0              \n"
                        "received packets:                 25        2.0p/s\n"
                        "packets sent:                      5        2.0s/p\n");
    nq_vars_free(&vs);
}

static void test_assoc_mru_ifstats_reslist(void **state)
{
    (void)state;
    struct ntk_sb sb;
    struct nq_style st = style();
    struct nq_mru e = {.addr = "[2001:db8::1]:123",
                       .first_s = 100.0,
                       .last_s = 110.0,
                       .ct = 3,
                       .rs = 0x420,
                       .mv = 0x23,
                       .sc = 123456.0,
                       .has_sc = true};
    nq_mru_line(fresh(&sb), &st, &e, 120.4);
    assert_string_equal(
        ntk_sb_str(&sb),
        "     10   5.00  420 K 3 4      3 123456.0      -   123 2001:db8::1\n");
    e.ct = 11;
    e.has_dr = true;
    e.dr = 2;
    e.sc = 0;
    nq_mru_line(fresh(&sb), &st, &e, 110.0);
    assert_string_equal(
        ntk_sb_str(&sb),
        "      0   1.00  420 K 3 4     11        -      2   123 2001:db8::1\n");

    struct nq_vars vs = parse("addr.0=127.0.0.2:123, name.0=\"lo\", en.0=1, flags.0=0x5, "
                              "rx.0=23, tx.0=29, txerr.0=0, pc.0=2, up.0=15, bcast.0=, "
                              "addr.1=10.0.0.1:123, name.1=\"e\\tx\", en.1=0");
    assert_int_equal(nq_ordlist_count(&vs), 2);
    nq_ifstats_entry(fresh(&sb), &vs, 0);
    assert_string_equal(ntk_sb_str(&sb),
                        "  0 lo                       .    5     23     29      "
                        "0     2       15\n    127.0.0.2:123\n");
    nq_ifstats_entry(fresh(&sb), &vs, 1); /* the name has a '\': NTPsec drops the entry */
    assert_string_equal(ntk_sb_str(&sb), "");
    nq_vars_free(&vs);
    vs = parse("addr.0=192.0.2.0, mask.0=255.255.255.0, hits.0=4, flags.0=nopeer noquery, "
               "addr.1=::, mask.1=ffff:ffff::, hits.1=0, flags.1=ntpport");
    nq_reslist_entry(fresh(&sb), &vs, 0);
    assert_string_equal(ntk_sb_str(&sb),
                        "         4 192.0.2.0/24\n           nopeer noquery\n");
    nq_reslist_entry(fresh(&sb), &vs, 1);
    assert_string_equal(ntk_sb_str(&sb), "         0 ::/32\n           ntpport\n");
    nq_vars_free(&vs);
}

/* NTPsec's unitify on the same texts (values printed by its pylib/util.py). */
static void test_units(void **state)
{
    (void)state;
    static const char *const cases[][4] = {
        {"0.042335", "42.335us", "42.335us", "42.335ppb"},
        {"-0.001404", "-1.404us", "-1.404us", "-1.404ppb"},
        {"187.526793", "187.53ms", "187.526793ms", "187.526793ppm"},
        {"0.000", "     0us", "0us", "0ppb"},
        {"0.000060", "    60ns", "60ns", "60ppt"},
        {"15937.500000", "15.9375s", "15.937500000s", "15.937500000ppk"},
        {"-150.25", "-150.2ms", "-150.25ms", "-150.25ppm"},
        {"1234567.891", "1.2346ks", "1.234567891ks", "1234567.891ppm"},
        {"999.9999", "1000.00ms", "999.9999ms", "999.9999ppm"},
    };
    struct ntk_sb sb;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nq_units_ms(fresh(&sb), cases[i][0], 8);
        assert_string_equal(ntk_sb_str(&sb), cases[i][1]);
        assert_true(nq_units_var(fresh(&sb), "offset", cases[i][0], -1));
        assert_string_equal(ntk_sb_str(&sb), cases[i][2]);
        assert_true(nq_units_var(fresh(&sb), "frequency", cases[i][0], -1));
        assert_string_equal(ntk_sb_str(&sb), cases[i][3]);
    }
    assert_false(nq_units_var(fresh(&sb), "stratum", "2", 8));
    assert_string_equal(ntk_sb_str(&sb), "");
    nq_units_filt(fresh(&sb), " 0.04 0.00 0.00 0.00 16000.00 16000.00");
    assert_string_equal(ntk_sb_str(&sb), "   0.04    0.00    0.00    0.00 16000.0 16000.0 ms");
}

/* ==== the variable-list reader ==== */

static void test_vars(void **state)
{
    (void)state;
    static const char text[] = "a=0x1f, b=-24, c=0.000060, d=\"q,uo\", e=010, f=1_000, "
                               "g=0.\x8f+\xb2\xee 1, a=7,\r\nh, i=";
    struct nq_vars vs;
    assert_int_equal(nq_vars_parse(text, sizeof text - 1, &vs), 0);
    assert_int_equal(vs.n, 9);
    assert_string_equal(vs.v[0].name, "a"); /* first place, last value */
    assert_int_equal(vs.v[0].kind, NQ_INT);
    assert_int_equal(vs.v[0].i, 7);
    assert_int_equal(vs.v[1].i, -24);
    assert_int_equal(vs.v[2].kind, NQ_FLOAT);
    assert_true(vs.v[2].d == 0.00006);
    assert_int_equal(vs.v[3].kind, NQ_STR);
    assert_string_equal(vs.v[3].str, "q,uo");
    assert_string_equal(vs.v[3].raw, "\"q,uo\"");
    assert_int_equal(vs.v[4].kind, NQ_FLOAT); /* Python: int("010", 0) fails, float works */
    assert_int_equal(vs.v[5].kind, NQ_INT);
    assert_int_equal(vs.v[5].i, 1000);
    assert_string_equal(vs.v[6].str, "0.+ 1");
    assert_string_equal(vs.v[7].name, "h");
    assert_string_equal(vs.v[7].raw, "");
    assert_non_null(nq_vars_get(&vs, "i"));
    nq_vars_free(&vs);
    /* NTPsec 1.2.2's filter arrays of a new association carry stray bytes, '"' among them:
     * split as packet.py splits, the text between two of them is one value (commas too). */
    static const char stray[] = "keyid=0, filtdelay= 0.00 0.\"\x1e\xb3 0.04,\r\n"
                                "filtoffset= 0.1 0.\"\x1e 0.2,\r\npmode=4, flash=0x400";
    assert_int_equal(nq_vars_parse(stray, sizeof stray - 1, &vs), 0);
    assert_int_equal(vs.n, 4);
    assert_string_equal(nq_vars_get(&vs, "filtdelay")->raw,
                        "0.00 0.\"\x1e 0.04,\r\nfiltoffset= 0.1 0.\"\x1e 0.2");
    assert_null(nq_vars_get(&vs, "filtoffset"));
    assert_int_equal(nq_vars_get(&vs, "pmode")->i, 4);
    assert_int_equal(nq_vars_get(&vs, "flash")->i, 0x400);
    nq_vars_free(&vs);
    /* Every truncation parses without crashing and keeps only whole names. */
    for (size_t n = 0; n <= sizeof text - 1; n++) {
        assert_int_equal(nq_vars_parse(text, n, &vs), 0);
        assert_true(vs.n <= 9);
        nq_vars_free(&vs);
    }
    /* Random bytes never crash it. */
    tu_seed();
    for (int i = 0; i < 500; i++) {
        char buf[200];
        size_t n = tu_rand() % sizeof buf;
        for (size_t k = 0; k < n; k++)
            buf[k] =
                (char)(tu_rand() % 4 == 0 ? ",=\" "[tu_rand() % 4] : (int)(tu_rand() & 0xff));
        assert_int_equal(nq_vars_parse(buf, n, &vs), 0);
        struct ntk_sb sb;
        struct nq_style st = style();
        nq_cook(fresh(&sb), &st, &vs);
        nq_vars_free(&vs);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opts),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_interp_messages),
        cmocka_unit_test(test_interp_associations),
        cmocka_unit_test(test_interp_rv_json),
        cmocka_unit_test(test_interp_mrulist_params),
        cmocka_unit_test(test_pyfloat),
        cmocka_unit_test(test_f8),
        cmocka_unit_test(test_statustoa),
        cmocka_unit_test(test_peers),
        cmocka_unit_test(test_cook),
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_assoc_mru_ifstats_reslist),
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_vars),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
