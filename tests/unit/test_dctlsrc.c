/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of daemon/io/dctlsrc.c: dctl_fill_src on a made-up struct ntpd (an engine with
 * the null clock, counters, setvar lines, -z/-Z, a leap table), and the sysstats sums of
 * ctlv_ss_sum against dstats_counts (the sysstats file's). The kernel is only read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../../daemon/io/daemon_internal.h"
#include "../../daemon/io/net.h"
#include "../../daemon/os/clk_linux.h"
#include "ntk/err.h"
#include "testutil.h"

#include "poison.h"

#define NS 1000000000LL

static void rng_bytes(void *ctx, uint8_t *p, size_t n)
{
    uint64_t *s = ctx;
    for (size_t i = 0; i < n; i++) {
        *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
        p[i] = (uint8_t)(*s >> 56);
    }
}

static struct ntpd d;
static struct dctl_src_store st;
static uint64_t seed = 11;

static void make_daemon(void)
{
    memset(&d, 0, sizeof d);
    d.cli_fd4 = d.cli_fd6 = -1;
    struct eng_rng rng = {&seed, rng_bytes};
    struct eng_cfg cfg;
    eng_cfg_defaults(&cfg);
    cfg.observe = true;
    struct eng_now now = {.real = {1795665178, 0}, .mono_ns = loop_now_mono_ns()};
    d.eng = eng_new(&cfg, ntk_clk_null(), &rng, NULL, &now);
    assert_non_null(d.eng);
    struct eng_server_cfg sc;
    eng_server_defaults(&sc);
    ntk_addr_set_v4(&sc.addr, (const uint8_t[]){192, 0, 2, 1}, 123);
    assert_int_equal(eng_add_server(d.eng, &sc, &now), 1);
    d.srv.st.received = 30;
    d.srv.st.control = 4;
    d.nic_dropped = 2;
    d.conf.n_setvars = 2;
    memcpy(d.conf.setvars[0].name, "sitename", 9);
    memcpy(d.conf.setvars[0].value, "lab", 4);
    d.conf.setvars[0].dflt = true;
    memcpy(d.conf.setvars[1].name, "motd", 5);
    memcpy(d.conf.setvars[1].value, "hello world", 12);
    d.opts.nsetvars = 3;
    d.opts.setvars[0] = "zvar = 5";
    d.opts.setvars[1] = "noequals";
    d.opts.setvars[2] = "Zvar=x,y";
    d.opts.setvar_default[2] = true;
    d.leap.entries = d.leap_entries;
    d.leap.cap = NTK_LEAPFILE_ENTRIES_MAX;
    d.leap_entries[0] =
        (struct ntk_leap_entry){.ntp_s = 2272060800, .unix_s = 63072000, .tai_utc_s = 10};
    d.stats.start_mono_ns = now.mono_ns - 50 * NS;
    d.stats.sys_last_mono_ns = now.mono_ns - 20 * NS;
    d.stats.sys_base.received = 7;
}

static void test_fill(void **state)
{
    (void)state;
    make_daemon();
    struct ctlv_src s;
    dctl_fill_src(&d, &s, &st);
    /* the engine's report */
    assert_int_equal(s.nassocs, 1);
    assert_int_equal(s.assocs[0].id, 1);
    assert_int_equal(s.sys->stratum, 16);
    assert_int_equal(s.sys->events.last, SNAP_EVNT_RESTART);
    assert_int_equal(s.local[0].family, NTK_ADDR_NONE); /* no client socket */
    /* counters */
    assert_ptr_equal(s.srv, &d.srv.st);
    assert_int_equal(s.io->received, 30);
    assert_int_equal(s.io->dropped, 2);
    assert_int_equal(s.io->ctl_requests, 4);
    assert_int_equal(s.ss_reset.received, 7);
    assert_true(s.now_mono_ns - s.start_mono_ns >= 50 * NS);
    assert_int_equal(s.reset_mono_ns - s.start_mono_ns, 30 * NS);
    assert_null(s.mru);
    assert_int_equal(s.mru_cfg->maxmem_kib, 1024);
    /* no leap entries yet: no leap variables */
    assert_null(s.leap);
    /* setvar lines, then -z / -Z (one without '=' skipped) */
    assert_int_equal(s.nsetvars, 4);
    assert_string_equal(s.setvars[0].name, "sitename");
    assert_string_equal(s.setvars[0].value, "lab");
    assert_true(s.setvars[0].deflt);
    assert_string_equal(s.setvars[1].value, "hello world");
    assert_false(s.setvars[1].deflt);
    assert_string_equal(s.setvars[2].name, "zvar");
    assert_string_equal(s.setvars[2].value, "5");
    assert_false(s.setvars[2].deflt);
    assert_string_equal(s.setvars[3].name, "Zvar");
    assert_string_equal(s.setvars[3].value, "x,y");
    assert_true(s.setvars[3].deflt);
    /* identity: uname, taken once */
    struct utsname u;
    assert_int_equal(uname(&u), 0);
    assert_string_equal(s.processor, u.machine);
    assert_string_equal(s.system, u.sysname);
    assert_string_equal(s.release, u.release);
    assert_true(d.ctlv_uname_done);
    assert_memory_equal(s.version, "ntpd ntpkit-", 12);
    /* the kernel state: read (valid) or not, never written; frequency within its range */
    assert_true(!s.kern->valid || (s.kern->freq_ppm > -600 && s.kern->freq_ppm < 600));
    assert_true(s.kern->valid || s.kern->status == 0);
    /* the whole thing writes a bare rv and rv 1 */
    char buf[4096];
    struct ntk_sb sb;
    struct ntk_cvar_wr w;
    struct ntk_span bad;
    ntk_sb_init(&sb, buf, sizeof buf);
    ntk_cvar_wr_init(&w, &sb);
    assert_int_equal(ctlv_sys(&s, "", 0, &w, &bad), 0);
    assert_int_equal(ctlv_peer(&s, &s.assocs[0], "", 0, &w, &bad), 0);
    assert_int_equal(ntk_cvar_finish(&w), 0);
    buf[ntk_sb_len(&sb)] = '\0';
    assert_non_null(strstr(buf, "sitename=lab"));
    assert_non_null(strstr(buf, "Zvar=\"x,y\""));
    assert_null(strstr(buf, "motd"));
    assert_non_null(strstr(buf, "srcadr=192.0.2.1, srcport=123, dstadr=0.0.0.0, dstport=0"));
    /* a client socket: its wildcard address and port are each association's dstadr */
    d.cli_fd4 = net_open_client(AF_INET);
    assert_true(d.cli_fd4 >= 0);
    dctl_fill_src(&d, &s, &st);
    assert_int_equal(s.local[0].family, NTK_ADDR_V4);
    assert_true(s.local[0].port != 0);
    close(d.cli_fd4);
    d.cli_fd4 = -1;
    /* with a leap entry the table is reported */
    d.leap.n = 1;
    d.leap.expires_ntp_s = 3991334400;
    dctl_fill_src(&d, &s, &st);
    assert_ptr_equal(s.leap, &d.leap);
    eng_free(d.eng);
}

/* ctlv_ss_sum and dstats_counts add the same counters up (ss_* and sysstats agree). */
static void test_ss_sum_matches_sysstats(void **state)
{
    (void)state;
    tu_seed();
    for (int round = 0; round < 500; round++) {
        struct srv_stats sv;
        struct snap_counters ec;
        tu_fill((uint8_t *)&sv, sizeof sv);
        tu_fill((uint8_t *)&ec, sizeof ec);
        /* keep the sums away from wrapping */
        uint64_t *p = (uint64_t *)&sv;
        for (size_t i = 0; i < sizeof sv / 8; i++)
            p[i] >>= 8;
        p = (uint64_t *)&ec;
        for (size_t i = 0; i < sizeof ec / 8; i++)
            p[i] >>= 8;
        struct ctlv_ss a;
        struct stats_sys b;
        ctlv_ss_sum(&sv, &ec, &a);
        dstats_counts(&sv, &ec, &b);
        assert_true(a.received == b.received);
        assert_true(a.processed == b.processed);
        assert_true(a.thisver == b.newversion);
        assert_true(a.oldver == b.oldversion);
        assert_true(a.badformat == b.badlength);
        assert_true(a.badauth == b.badauth);
        assert_true(a.declined == b.declined);
        assert_true(a.restricted == b.restricted);
        assert_true(a.limited == b.limitrejected);
        assert_true(a.kodsent == b.kodsent);
        assert_true(a.ver1 == b.ver1 && a.ver1 == sv.v1 + ec.by_version[1]);
        assert_true(a.ver1client == b.ver1client && a.ver1client == sv.v1_client);
        assert_true(a.ver1zero == b.ver1zero && a.ver1zero == sv.v1_mode0);
        assert_true(a.ver1symm == b.ver1symm && a.ver1symm == sv.v1_symm);
    }
    struct ctlv_ss z;
    ctlv_ss_sum(NULL, NULL, &z);
    assert_true(z.received == 0 && z.processed == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fill),
        cmocka_unit_test(test_ss_sum_matches_sysstats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
