/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of daemon/core/ctlv.c (the mode-6 variables) on a made-up snapshot: the exact
 * text of the default lists, named lists in the order asked, unknown names, every counter
 * group, user variables, status words; and of the engine's event histories (snap.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "../../daemon/core/ctlv.h"
#include "../../daemon/core/engine.h"
#include "../../daemon/core/engine_internal.h"
#include "../../daemon/os/clk_linux.h"
#include "ntk/ctl.h"
#include "ntk/ctlvars.h"
#include "ntk/err.h"
#include "ntk/refid.h"
#include "testutil.h"

#include "poison.h"

#define NS 1000000000LL

/* ---- the made-up daemon ---- */

static struct snap_system sys;
static struct snap_counters ctr;
static struct snap_assoc as[2];
static struct ntk_addr local[2];
static struct srv_stats srv;
static struct mru_stats mru;
static struct mru_cfg mcfg;
static struct ctlv_io io;
static struct ctlv_kernel kern;
static struct ntk_leap_entry leap_e[2];
static struct ntk_leap_table leap;
static struct ctlv_setvar setv[3];
static struct ctlv_src src;

static void make_src(void)
{
    memset(&sys, 0, sizeof sys);
    sys.leap = NTK_LEAP_NONE;
    sys.stratum = 2;
    sys.precision_log2 = -24;
    sys.root_delay_s = 0.0123456;
    sys.root_disp_s = 0.5;
    sys.refid = 0xc0000201; /* 192.0.2.1 */
    sys.reftime = ntk_ts_make(0xeeb22b8c, 0x7d549e3c);
    sys.sys_peer = 17;
    sys.poll_log2 = 6;
    sys.offset_s = 0.000123456;
    sys.sys_jitter_s = 0.0000015;
    sys.clk_jitter_s = 0.000002;
    sys.freq_ppm = -12.3456789;
    sys.clk_wander_ppm = 0.0031;
    sys.events = (struct snap_events){.last = SNAP_EVNT_SYNC, .count = 1};

    memset(as, 0, sizeof as);
    struct snap_assoc *a = &as[0];
    a->id = 17;
    ntk_addr_set_v4(&a->addr, (const uint8_t[]){192, 0, 2, 1}, 123);
    a->tally = SNAP_TALLY_SYSPEER;
    a->reach = 0377;
    a->hpoll_log2 = 6;
    a->ppoll_log2 = 7;
    a->leap = NTK_LEAP_NONE;
    a->stratum = 1;
    a->precision_log2 = -20;
    a->refid = NTK_REFID_CODE('G', 'P', 'S', 0);
    a->reftime = ntk_ts_make(0xeeb22b90, 0x80000000);
    a->root_delay_s = 0.0001;
    a->root_disp_s = 0.0002;
    a->offset_s = 0.000123456;
    a->delay_s = 0.0201;
    a->disp_s = 0.0015;
    a->jitter_s = 0.000045;
    a->rec = ntk_ts_make(0xeeb22b98, 0x6fffeaec);
    a->xmt = ntk_ts_make(0xeeb22b98, 0x6fff31a0);
    a->unreach = 0;
    a->last_rx_mono_ns = 90 * NS;
    a->next_poll_mono_ns = 130 * NS;
    a->sent = 12;
    a->received = 11;
    a->bogus = 2;
    a->nfilt = 8;
    for (int i = 0; i < 8; i++) {
        a->filt_delay_s[i] = 0.0201 + 0.001 * i;
        a->filt_offset_s[i] = 0.0 - 0.0001 * i;
        a->filt_disp_s[i] = 0.0005 * i;
    }
    a->events = (struct snap_events){.last = SNAP_PEVNT_NEWPEER, .count = 1};
    a->ntscookies = -1; /* not NTS */
    struct snap_assoc *b = &as[1];
    b->id = 18;
    ntk_addr_set_v4(&b->addr, (const uint8_t[]){198, 51, 100, 7}, 123);
    memcpy(b->name, "ntp.example", 12);
    b->from_pool = true;
    b->key_id = 5;
    b->tally = SNAP_TALLY_REJECT;
    b->hpoll_log2 = 6;
    b->leap = NTK_LEAP_UNSYNC;
    b->stratum = 16;
    b->refid = NTK_REFID_CODE('I', 'N', 'I', 'T');
    b->unreach = 3;
    b->nfilt = 0;
    for (int i = 0; i < 8; i++)
        b->filt_disp_s[i] = 16.0;
    b->events = (struct snap_events){.last = SNAP_PEVNT_MOBIL, .count = 1};
    b->nts = true; /* an NTS server with 7 cookies left */
    b->ntscookies = 7;
    ntk_addr_set_v4(&local[0], (const uint8_t[]){192, 0, 2, 99}, 123);

    memset(&srv, 0, sizeof srv);
    srv.received = 100;
    srv.replies = 80;
    srv.kod = 3;
    srv.control = 5;
    srv.by_version[4] = 70;
    srv.by_version[3] = 9;
    srv.by_version[1] = 1;
    srv.v1 = 1;
    srv.v1_client = 1;
    srv.drops[SRV_DROP_TOO_SHORT] = 4;
    srv.drops[SRV_DROP_IGNORE] = 2;
    srv.drops[SRV_DROP_BAD_MAC] = 1;
    srv.drops[SRV_DROP_RATE] = 6;
    srv.drops[SRV_DROP_NOT_REQUEST] = 7;
    memset(&ctr, 0, sizeof ctr);
    ctr.received = 20;
    ctr.by_version[4] = 18; /* replies from servers: ss_thisver counts them too */
    ctr.by_version[2] = 2;
    ctr.by_rx[0] = 11;
    ctr.by_rx[1] = 2;
    ctr.unknown_source = 1;
    ctr.bad_length = 1;

    mru = (struct mru_stats){
        .inserts = 40, .exists = 77, .evictions = 4, .untracked = 2, .limited = 6};
    mru_cfg_default(&mcfg);
    io = (struct ctlv_io){.received = 120,
                          .sent = 95,
                          .send_failed = 1,
                          .dropped = 3,
                          .ignored = 4,
                          .wakeups = 200,
                          .good_wakeups = 150,
                          .pkt_reads = 121,
                          .timer_overruns = 0,
                          .timer_xmts = 12,
                          .ctl_requests = 7,
                          .auth_decrypts = 9,
                          .auth_encrypts = 8,
                          .auth_fails = 1,
                          .auth_keys = 3};
    kern = (struct ctlv_kernel){.valid = true,
                                .offset_s = 0.000012,
                                .freq_ppm = -12.5,
                                .maxerror_s = 0.0165,
                                .esterror_s = 0.000002,
                                .status = 0x2001,
                                .constant = 7,
                                .precision_s = 0.000001,
                                .tolerance_ppm = 500,
                                .pps_shift = 2};
    leap_e[0] =
        (struct ntk_leap_entry){.ntp_s = 2272060800, .unix_s = 63072000, .tai_utc_s = 10};
    leap_e[1] =
        (struct ntk_leap_entry){.ntp_s = 3692217600, .unix_s = 1483228800, .tai_utc_s = 37};
    leap = (struct ntk_leap_table){
        .entries = leap_e, .cap = 2, .n = 2, .expires_ntp_s = 3991334400};
    setv[0] = (struct ctlv_setvar){"sitename", "lab-3", true};
    setv[1] = (struct ctlv_setvar){"motd", "\"hello, world\"", false};
    setv[2] = (struct ctlv_setvar){"owner", "a b", true};

    memset(&src, 0, sizeof src);
    src.sys = &sys;
    src.ctr = &ctr;
    src.assocs = as;
    src.nassocs = 2;
    src.local = local;
    src.srv = &srv;
    src.mru = &mru;
    src.mru_enabled = 3; /* the list is kept, and a restrict rule limits */
    src.mru_cfg = &mcfg;
    src.mru_entries = 10;
    src.mru_capacity = 100;
    src.io = &io;
    src.kern = &kern;
    src.leap = NULL;
    src.version = "ntpd ntpkit-1.0.0";
    src.processor = "x86_64";
    src.system = "Linux";
    src.release = "6.1.0";
    src.now.tv_sec = 0xeeb22b9aLL - 2208988800LL;
    src.now.tv_nsec = 0;
    src.now_mono_ns = 100 * NS;
    src.start_mono_ns = 0;
    src.reset_mono_ns = 40 * NS;
}

static char out[8192];

/* Runs ctlv_sys (or ctlv_peer on as[peer - 1]) for names; the text without the final CRLF. */
static int run(int peer, const char *names, struct ntk_span *bad)
{
    struct ntk_sb sb;
    struct ntk_cvar_wr w;
    ntk_sb_init(&sb, out, sizeof out);
    ntk_cvar_wr_init(&w, &sb);
    int rc = peer == 0 ? ctlv_sys(&src, names, strlen(names), &w, bad)
                       : ctlv_peer(&src, &as[peer - 1], names, strlen(names), &w, bad);
    out[ntk_sb_len(&sb)] = '\0';
    return rc;
}

static void expect(int peer, const char *names, const char *want)
{
    struct ntk_span bad = {0};
    assert_int_equal(run(peer, names, &bad), 0);
    assert_string_equal(out, want);
}

/* ---- system variables ---- */

static void test_sys_default(void **state)
{
    (void)state;
    make_src();
    expect(0, "",
           "leap=0, stratum=2, precision=-24, rootdelay=12.346, rootdisp=500.000,\r\n"
           "refid=192.0.2.1, reftime=0xeeb22b8c.7d549e3c, tc=6, peer=17,\r\n"
           "offset=0.123456, frequency=-12.345679, sys_jitter=0.001500,\r\n"
           "clk_jitter=0.002000, clock=0xeeb22b9a.00000000, processor=\"x86_64\",\r\n"
           "system=\"Linux/6.1.0\", version=\"ntpd ntpkit-1.0.0\", clk_wander=0.003100,\r\n"
           "mintc=0");
    /* Whitespace only is a bare rv too. */
    static char first[sizeof out];
    memcpy(first, out, sizeof out);
    expect(0, "  \r\n", first);
}

static void test_sys_leap_and_setvars(void **state)
{
    (void)state;
    make_src();
    src.leap = &leap;
    src.setvars = setv;
    src.nsetvars = 3;
    expect(0, "",
           "leap=0, stratum=2, precision=-24, rootdelay=12.346, rootdisp=500.000,\r\n"
           "refid=192.0.2.1, reftime=0xeeb22b8c.7d549e3c, tc=6, peer=17,\r\n"
           "offset=0.123456, frequency=-12.345679, sys_jitter=0.001500,\r\n"
           "clk_jitter=0.002000, clock=0xeeb22b9a.00000000, processor=\"x86_64\",\r\n"
           "system=\"Linux/6.1.0\", version=\"ntpd ntpkit-1.0.0\", clk_wander=0.003100,\r\n"
           "tai=37, leapsec=\"2017-01-01T00:00Z\", expire=\"2026-06-25T00:00Z\",\r\n"
           "mintc=0, sitename=lab-3, owner=a b");
    expect(0, "motd,sitename", "motd=\"hello, world\", sitename=lab-3");
    /* The table's variables first, then the user's in the list's order (NTPsec 1.2.2). */
    expect(0, "sitename,leap,motd", "leap=0, sitename=lab-3, motd=\"hello, world\"");
}

static void test_sys_named_order(void **state)
{
    (void)state;
    make_src();
    /* NTPsec's table order, not the list's (NTPsec 1.2.2 answered `stratum,refid,leap` with
     * leap first), and user variables after the table's. */
    expect(0, "stratum,leap,ss_uptime, rootdist,release",
           "leap=0, stratum=2, release=\"6.1.0\", ss_uptime=100, rootdist=506.173");
    /* Values in the request are ignored; a name twice is written once (NTPsec 1.2.2 answered
     * `tc,tc` with one tc). */
    expect(0, "tc=99,tc", "tc=6");
    expect(0, "peeradr,peermode,lockclock", "peeradr=192.0.2.1:123, peermode=3, lockclock=0");
}

static void test_sys_unknown(void **state)
{
    (void)state;
    make_src();
    struct ntk_span bad = {0};
    assert_int_equal(run(0, "leap,bogus,stratum", &bad), NTK_ENOTFOUND);
    assert_int_equal(bad.len, 5);
    assert_memory_equal(bad.p, "bogus", 5);
    assert_string_equal(out, ""); /* nothing written before the check */
    /* A retired counter NTPsec 1.2.2 does not know either (its authinfo shows "?"; but
     * io_goodwakeups and rbuf_lowater it answers, seen live: test_kerninfo_io_timer). */
    assert_int_equal(run(0, "authkuncached", &bad), NTK_ENOTFOUND);
    assert_int_equal(run(0, "ss_uptime_r", &bad), NTK_ENOTFOUND);
    assert_int_equal(run(0, "org", &bad), NTK_ENOTFOUND); /* a peer variable */
    /* A setvar is known only when configured. */
    assert_int_equal(run(0, "sitename", &bad), NTK_ENOTFOUND);
    /* Not a list. */
    assert_int_equal(run(0, "leap,\"x", &bad), NTK_EFORMAT);
}

static void test_sysstats(void **state)
{
    (void)state;
    make_src();
    /* Totals: received 100+20, processed 80+5+11+2, thisver 70+18, oldver 10+2, ver1 1 (a
     * client),
     * badformat 4+1, badauth 1, declined 7+1, restricted 2, limited 6+3, kodsent 3. */
    src.ss_reset = (struct ctlv_ss){
        .received = 20, .processed = 8, .thisver = 7, .limited = 9, .kodsent = 3};
    expect(0,
           "ss_uptime,ss_reset,ss_reset_r,ss_received,ss_received_r,ss_thisver,ss_thisver_r,"
           "ss_oldver,ss_oldver_r,ss_ver1,ss_ver1_r,ss_ver1client,ss_ver1zero_r,ss_ver1symm,"
           "ss_badformat,ss_badauth_r,ss_declined,ss_restricted,ss_limited,ss_limited_r,"
           "ss_kodsent,ss_kodsent_r,ss_processed,ss_processed_r,ss_numctlreq",
           "ss_uptime=100, ss_reset=60, ss_received=100, ss_thisver=81,\r\n"
           "ss_oldver=12, ss_badformat=5, ss_declined=8, ss_restricted=2,\r\n"
           "ss_limited=0, ss_kodsent=0, ss_processed=90, ss_numctlreq=7,\r\n"
           "ss_reset_r=100, ss_received_r=120, ss_thisver_r=88, ss_oldver_r=12,\r\n"
           "ss_badauth_r=1, ss_limited_r=9, ss_kodsent_r=3, ss_processed_r=98,\r\n"
           "ss_ver1=1, ss_ver1_r=1, ss_ver1client=1, ss_ver1zero_r=0, ss_ver1symm=0");
}

static void test_monstats_authinfo(void **state)
{
    (void)state;
    make_src();
    expect(0,
           "mru_enabled,mru_hashslots,mru_depth,mru_deepest,mru_mindepth,mru_maxage,"
           "mru_minage,mru_maxdepth,mru_mem,mru_maxmem,mru_exists,mru_new,mru_recycleold,"
           "mru_recyclefull,mru_none,mru_oldest_age",
           "mru_enabled=0x3, mru_depth=10, mru_deepest=10, mru_mindepth=0,\r\n"
           "mru_maxage=3600, mru_minage=64, mru_maxdepth=100, mru_mem=102,\r\n"
           "mru_maxmem=1024, mru_exists=77, mru_new=40, mru_recycleold=4,\r\n"
           "mru_recyclefull=0, mru_none=2, mru_oldest_age=0, mru_hashslots=100");
    src.mru = NULL;
    src.mru_enabled = 0; /* disable monitor */
    expect(0, "mru_enabled,mru_new", "mru_enabled=0x0, mru_new=0");
    expect(0,
           "authreset,authdelay,authkeys,authfreek,authklookups,authknotfound,authencrypts,"
           "authdigestencrypts,authcmacencrypts,authdecrypts,authdigestdecrypts,"
           "authdigestfails,authcmacdecrypts,authcmacfails",
           "authdelay=0.000000, authkeys=3, authfreek=0, authklookups=0,\r\n"
           "authknotfound=0, authencrypts=8, authdigestencrypts=0,\r\n"
           "authcmacencrypts=0, authdecrypts=9, authreset=100, authdigestdecrypts=0,\r\n"
           "authdigestfails=1, authcmacdecrypts=0, authcmacfails=0");
}

static void test_kerninfo_io_timer(void **state)
{
    (void)state;
    make_src();
    expect(0,
           "koffset,kfreq,kmaxerr,kesterr,kstflags,ktimeconst,kprecis,kfreqtol,kppsfreq,"
           "kppsstab,kppsjitter,kppscalibdur,kppscalibs,kppscaliberrs,kppsjitexc,kppsstbexc",
           "koffset=0.012, kfreq=-12.5, kmaxerr=16.5, kesterr=0.002,\r\n"
           "kstflags=\"pll nano\", ktimeconst=7, kprecis=0.001, kfreqtol=500,\r\n"
           "kppsfreq=0, kppsstab=0, kppsjitter=0, kppscalibdur=4, kppscalibs=0,\r\n"
           "kppscaliberrs=0, kppsjitexc=0, kppsstbexc=0");
    /* An unsynchronised kernel as NTPsec 1.2.2 shows it (kstflags, "%.6g"), with the
     * correct units (its kmaxerr reads 16 there); no PPS signal: every kpps* 0. */
    kern = (struct ctlv_kernel){.valid = true,
                                .maxerror_s = 16.0,
                                .esterror_s = 0.000016,
                                .status = 0x4041,
                                .constant = 4,
                                .precision_s = 0.000001,
                                .tolerance_ppm = 500,
                                .pps_calcnt = 5};
    expect(0, "kmaxerr,kesterr,kstflags,kprecis,kppscalibdur,kppscalibs",
           "kmaxerr=16000, kesterr=0.016, kstflags=\"pll unsync mode=fll\",\r\n"
           "kprecis=0.001, kppscalibdur=0, kppscalibs=0");
    expect(0,
           "iostats_reset,io_dropped,io_ignored,io_received,io_sent,io_sendfailed,"
           "io_wakeups,io_pkt_reads,io_ref_reads,total_rbuf,free_rbuf,used_rbuf,"
           "timerstats_reset,timer_overruns,timer_xmts",
           "iostats_reset=100, total_rbuf=0, free_rbuf=0, used_rbuf=0, io_dropped=3,\r\n"
           "io_ignored=4, io_received=120, io_sent=95, io_sendfailed=1,\r\n"
           "io_wakeups=200, io_pkt_reads=121, io_ref_reads=0, timerstats_reset=100,\r\n"
           "timer_overruns=0, timer_xmts=12");
    /* The two NTPsec 1.2.2 also answers (ntpq's iostats asks for them). */
    expect(0, "rbuf_lowater,io_goodwakeups", "rbuf_lowater=0, io_goodwakeups=150");
}

static void test_ntsinfo(void **state)
{
    (void)state;
    make_src();
    src.nts = NULL; /* no NTS counters: all 0 */
    expect(0,
           "nts_client_send,nts_client_send_r,nts_cookie_decode,nts_cookie_decode_r,"
           "nts_ke_serves_good_wall,nts_ke_serves_bad_cpu_r,nts_ke_probes_bad",
           "nts_client_send=0, nts_client_send_r=0, nts_cookie_decode=0,\r\n"
           "nts_cookie_decode_r=0, nts_ke_serves_good_wall=0.000,\r\n"
           "nts_ke_serves_bad_cpu_r=0.000, nts_ke_probes_bad=0");
    static struct ctlv_nts nts;
    for (int i = 0; i < CTLV_NTS_COUNT; i++)
        nts.v[i] = 10 + i;
    nts.v[CTLV_NTS_KE_SERVES_GOOD_WALL] = 1.25;
    src.nts = &nts;
    /* Each value in its own name; _r reports the total too; _wall/_cpu in seconds. */
    expect(0,
           "nts_client_send,nts_client_send_r,nts_server_recv_bad,nts_cookie_decode,"
           "nts_cookie_decode_current,nts_ke_serves_good_wall,nts_ke_serves_bad_cpu_r,"
           "nts_ke_probes_bad",
           "nts_client_send=10, nts_client_send_r=10, nts_server_recv_bad=15,\r\n"
           "nts_cookie_decode_current=19, nts_cookie_decode=20,\r\n"
           "nts_ke_serves_good_wall=1.250, nts_ke_serves_bad_cpu_r=34.000,\r\n"
           "nts_ke_probes_bad=36");
}

static void test_var_lists(void **state)
{
    (void)state;
    make_src();
    expect(0, "sys_var_list",
           "sys_var_list=\"leap,stratum,precision,rootdelay,rootdisp,rootdist,refid,reftime,"
           "tc,peer,offset,frequency,sys_jitter,clk_jitter,clock,processor,system,release,"
           "version,clk_wander,sys_var_list,tai,leapsec,expire,mintc,peeradr,peermode,"
           "lockclock,\"");
    struct ntk_span bad;
    assert_int_equal(run(1, "peer_var_list", &bad), 0);
    assert_non_null(strstr(out, "peer_var_list=\"srcadr,srcport,dstadr,"));
    assert_non_null(strstr(out, ",candidate,peer_var_list,\""));
}

/* ---- peer variables ---- */

static void test_peer_default(void **state)
{
    (void)state;
    make_src();
    expect(1, "",
           "srcadr=192.0.2.1, srcport=123, dstadr=192.0.2.99, dstport=123, leap=0,\r\n"
           "hmode=3, stratum=1, ppoll=7, hpoll=6, precision=-20, rootdelay=0.100,\r\n"
           "rootdisp=0.200, refid=GPS, reftime=0xeeb22b90.80000000,\r\n"
           "rec=0xeeb22b98.6fffeaec, xmt=0xeeb22b98.6fff31a0, reach=0xff, unreach=0,\r\n"
           "delay=20.100000, offset=0.123456, jitter=0.045000, dispersion=1.500000,\r\n"
           "keyid=0, filtdelay= 20.10 21.10 22.10 23.10 24.10 25.10 26.10 27.10,\r\n"
           "filtoffset= 0.00 -0.10 -0.20 -0.30 -0.40 -0.50 -0.60 -0.70, pmode=4,\r\n"
           "filtdisp= 0.00 0.50 1.00 1.50 2.00 2.50 3.00 3.50, flash=0x0, headway=0,\r\n"
           "ntscookies=-1");
    expect(2, "",
           "srcadr=198.51.100.7, srcport=123, dstadr=0.0.0.0, dstport=0, leap=3,\r\n"
           "hmode=3, stratum=16, ppoll=0, hpoll=6, precision=0, rootdelay=0.000,\r\n"
           "rootdisp=0.000, refid=INIT, reftime=0x00000000.00000000,\r\n"
           "rec=0x00000000.00000000, xmt=0x00000000.00000000, reach=0x0, unreach=3,\r\n"
           "delay=0.000000, offset=0.000000, jitter=0.000000, dispersion=0.000000,\r\n"
           "keyid=5, filtdelay= 0.00 0.00 0.00 0.00 0.00 0.00 0.00 0.00,\r\n"
           "filtoffset= 0.00 0.00 0.00 0.00 0.00 0.00 0.00 0.00, pmode=0,\r\n"
           "filtdisp= 16000.00 16000.00 16000.00 16000.00 16000.00 16000.00 16000.00 "
           "16000.00,\r\n"
           "flash=0x1200, headway=0, srchost=\"ntp.example\", ntscookies=7");
}

static void test_peer_named(void **state)
{
    (void)state;
    make_src();
    expect(1,
           "config,authenable,authentic,timer,received,sent,timerec,timereach,badauth,"
           "bogusorg,oldpkt,seldisp,selbroken,candidate,org,reach",
           "config=1, authenable=0, authentic=1, reach=0xff, timer=30, received=11,\r\n"
           "sent=12, timerec=10, timereach=10, badauth=0, bogusorg=2, oldpkt=0,\r\n"
           "seldisp=0, selbroken=0, candidate=6");
    expect(2, "config,authenable,authentic,srchost,org",
           "config=0, authenable=1, authentic=0, srchost=\"ntp.example\"");
    struct ntk_span bad;
    assert_int_equal(run(1, "offset,clock", &bad), NTK_ENOTFOUND);
    assert_memory_equal(bad.p, "clock", 5);
    assert_string_equal(out, "");
}

static void test_flash_bits(void **state)
{
    (void)state;
    make_src();
    struct snap_assoc *a = &as[0];
    a->flash = SNAP_FLASH_DUP | SNAP_FLASH_HEADER | SNAP_FLASH_DIST | SNAP_FLASH_LOOP;
    expect(1, "flash", "flash=0xc41");
    a->flash = SNAP_FLASH_SYNC | SNAP_FLASH_RATE;
    a->noselect = true;
    expect(1, "flash", "flash=0x1028");
}

/* ---- status words ---- */

static void test_status_words(void **state)
{
    (void)state;
    make_src();
    /* leap 0, sync_ntp, 1 event, clock_sync */
    assert_int_equal(ctlv_sys_status(&src), 0x0615);
    sys.sys_peer = 0;
    sys.leap = NTK_LEAP_UNSYNC;
    sys.events = (struct snap_events){.last = SNAP_EVNT_RESTART, .count = 1};
    assert_int_equal(ctlv_sys_status(&src), 0xc016);
    /* conf, reach, sel_sys.peer, 1 event, sys_peer; authentic (no key, replies came) */
    assert_int_equal(ctlv_peer_status(&src, &as[0]), 0xb61a);
    /* pool: not conf; authenable; not authentic; unreachable; reject; mobilize */
    assert_int_equal(ctlv_peer_status(&src, &as[1]), 0x4011);
    as[1].authenticated = true;
    as[1].reach = 1;
    as[1].tally = SNAP_TALLY_CANDIDATE;
    as[1].events = (struct snap_events){.last = SNAP_PEVNT_REACH, .count = 15};
    assert_int_equal(ctlv_peer_status(&src, &as[1]), 0x74f4);
    /* a pool line (NTPsec's prototype, `ntpq as` 8811): conf, bcast, reject, mobilize */
    struct snap_assoc line = {.pool_line = true, .tally = SNAP_TALLY_REJECT};
    line.events = (struct snap_events){.last = SNAP_PEVNT_MOBIL, .count = 1};
    assert_int_equal(ctlv_peer_status(&src, &line), 0x8811);
}

/* ---- the engine's event histories ---- */

static void test_events_note(void **state)
{
    (void)state;
    tu_seed();
    for (int round = 0; round < 200; round++) {
        struct snap_events h = {0};
        uint8_t last = 0;
        unsigned run_len = 0;
        for (int k = 0; k < 60; k++) {
            uint8_t code = (uint8_t)(1 + tu_rand() % 3);
            snap_events_note(&h, code);
            run_len = code == last ? run_len + 1 : 1;
            last = code;
            assert_int_equal(h.last, code);
            assert_int_equal(h.count, run_len > SNAP_EVENTS_MAX ? SNAP_EVENTS_MAX : run_len);
        }
    }
}

static void rng_bytes(void *ctx, uint8_t *p, size_t n)
{
    uint64_t *s = ctx;
    for (size_t i = 0; i < n; i++) {
        *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
        p[i] = (uint8_t)(*s >> 56);
    }
}

static void test_engine_events(void **state)
{
    (void)state;
    uint64_t seed = 7;
    struct eng_rng rng = {&seed, rng_bytes};
    struct eng_cfg cfg;
    eng_cfg_defaults(&cfg);
    cfg.observe = true;
    struct eng_now now = {.real = {1795665178, 0}, .mono_ns = 5 * NS};
    struct eng *e = eng_new(&cfg, ntk_clk_null(), &rng, NULL, &now);
    assert_non_null(e);
    struct snap_system y;
    struct snap_assoc a[1];
    eng_snap(e, now.mono_ns, &y, NULL, NULL, 0);
    assert_int_equal(y.events.last, SNAP_EVNT_RESTART);
    assert_int_equal(y.events.count, 1);
    struct eng_server_cfg sc;
    eng_server_defaults(&sc);
    ntk_addr_set_v4(&sc.addr, (const uint8_t[]){127, 0, 0, 1}, 123);
    int id = eng_add_server(e, &sc, &now);
    assert_true(id >= 1);
    assert_int_equal(eng_snap(e, now.mono_ns, &y, NULL, a, 1), 1);
    assert_int_equal(a[0].events.last, SNAP_PEVNT_MOBIL);
    assert_int_equal(a[0].events.count, 1);
    assert_int_equal(a[0].nfilt, 0);
    assert_true(a[0].filt_disp_s[7] == 16.0);
    /* The unit status word of a fresh association: conf, reject, 1 event, mobilize. */
    struct ctlv_src s = {.sys = &y, .assocs = a, .nassocs = 1};
    assert_int_equal(ctlv_peer_status(&s, &a[0]), 0x8011);
    assert_int_equal(ctlv_sys_status(&s), 0xc016);
    eng_free(e);
    /* With a drift file freq_set comes first, and restart is still the last system event
     * (NTPsec 1.2.2's order: c016 after start-up either way). */
    cfg.have_freq = true;
    cfg.initial_freq_ppm = 1.5;
    e = eng_new(&cfg, ntk_clk_null(), &rng, NULL, &now);
    assert_non_null(e);
    eng_snap(e, now.mono_ns, &y, NULL, NULL, 0);
    assert_int_equal(y.events.last, SNAP_EVNT_RESTART);
    assert_int_equal(y.events.count, 1);
    struct eng_action act;
    assert_true(eng_pop_action(e, &act));
    assert_int_equal(act.event, ENG_EV_FREQ);
    assert_string_equal(act.text, "ntpd");
    assert_true(eng_pop_action(e, &act));
    assert_int_equal(act.event, ENG_EV_RESTART);
    assert_false(eng_pop_action(e, &act));
    eng_free(e);
}

/* Each engine event lands in NTPsec's history: system or peer, with NTPsec's code. */
static void test_engine_event_mapping(void **state)
{
    (void)state;
    uint64_t seed = 9;
    struct eng_rng rng = {&seed, rng_bytes};
    struct eng_cfg cfg;
    eng_cfg_defaults(&cfg);
    cfg.observe = true;
    struct eng_now now = {.real = {1795665178, 0}, .mono_ns = 5 * NS};
    struct eng *e = eng_new(&cfg, ntk_clk_null(), &rng, NULL, &now);
    assert_non_null(e);
    struct eng_server_cfg sc;
    eng_server_defaults(&sc);
    ntk_addr_set_v4(&sc.addr, (const uint8_t[]){127, 0, 0, 1}, 123);
    assert_int_equal(eng_add_server(e, &sc, &now), 1);
    static const struct {
        enum eng_event ev;
        const char *text;
        uint8_t sys_last, sys_count, peer_last, peer_count;
    } steps[] = {
        {ENG_EV_REACH, NULL, SNAP_EVNT_RESTART, 1, SNAP_PEVNT_REACH, 1},
        {ENG_EV_SYNC, NULL, SNAP_EVNT_SYNC, 1, SNAP_PEVNT_NEWPEER, 1},
        {ENG_EV_PEER_UPDATE, NULL, SNAP_EVNT_SYNC, 1, SNAP_PEVNT_NEWPEER, 1},
        {ENG_EV_STEP, NULL, SNAP_EVNT_CLOCKRESET, 1, SNAP_PEVNT_NEWPEER, 1},
        {ENG_EV_STEP, NULL, SNAP_EVNT_CLOCKRESET, 2, SNAP_PEVNT_NEWPEER, 1},
        {ENG_EV_KOD, "RATE", SNAP_EVNT_CLOCKRESET, 2, SNAP_PEVNT_RATE, 1},
        {ENG_EV_KOD, "XYZZ", SNAP_EVNT_CLOCKRESET, 2, SNAP_PEVNT_RATE, 1},
        {ENG_EV_KOD, "RSTR", SNAP_EVNT_CLOCKRESET, 2, SNAP_PEVNT_DENY, 1},
        {ENG_EV_UNREACH, NULL, SNAP_EVNT_CLOCKRESET, 2, SNAP_PEVNT_UNREACH, 1},
        {ENG_EV_PANIC, NULL, SNAP_EVNT_SYSFAULT, 1, SNAP_PEVNT_UNREACH, 1},
        {ENG_EV_LEAP_FILE, NULL, SNAP_EVNT_TAI, 1, SNAP_PEVNT_UNREACH, 1},
        {ENG_EV_LEAP_DISARMED, NULL, SNAP_EVNT_DISARMED, 1, SNAP_PEVNT_UNREACH, 1},
        {ENG_EV_LEAP, NULL, SNAP_EVNT_LEAP, 1, SNAP_PEVNT_UNREACH, 1},
        {ENG_EV_CLOCK_ERROR, "x", SNAP_EVNT_KERN, 1, SNAP_PEVNT_UNREACH, 1},
        {ENG_EV_FREQ, NULL, SNAP_EVNT_FSET, 1, SNAP_PEVNT_UNREACH, 1},
        {ENG_EV_UNSYNC, NULL, SNAP_EVNT_NOPEER, 1, SNAP_PEVNT_UNREACH, 1},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        eng_event(e, steps[i].ev, 1, 0, steps[i].text);
        struct snap_system y;
        struct snap_assoc a[1];
        assert_int_equal(eng_snap(e, now.mono_ns, &y, NULL, a, 1), 1);
        assert_int_equal(y.events.last, steps[i].sys_last);
        assert_int_equal(y.events.count, steps[i].sys_count);
        assert_int_equal(a[0].events.last, steps[i].peer_last);
        assert_int_equal(a[0].events.count, steps[i].peer_count);
    }
    /* leap_armed: the system's event from the file, the system peer's when voted. */
    struct snap_system y;
    struct snap_assoc a[1];
    eng_event(e, ENG_EV_LEAP_ARMED, 0, 1, NULL);
    assert_int_equal(eng_snap(e, now.mono_ns, &y, NULL, a, 1), 1);
    assert_int_equal(y.events.last, SNAP_EVNT_ARMED);
    assert_int_equal(a[0].events.last, SNAP_PEVNT_UNREACH);
    eng_event(e, ENG_EV_LEAP_ARMED, 1, 1, NULL);
    assert_int_equal(eng_snap(e, now.mono_ns, &y, NULL, a, 1), 1);
    assert_int_equal(y.events.last, SNAP_EVNT_ARMED);
    assert_int_equal(y.events.count, 1);
    assert_int_equal(a[0].events.last, SNAP_PEVNT_ARMED);
    eng_free(e);
}

/* ---- properties ---- */

/* Every default variable reads back through ctlvars with the value given. */
static void test_roundtrip_default(void **state)
{
    (void)state;
    tu_seed();
    for (int round = 0; round < 300; round++) {
        make_src();
        sys.offset_s = ((double)(tu_rand() % 2000001) - 1000000.0) * 1e-9;
        sys.root_delay_s = (double)(tu_rand() % 100000) * 1e-6;
        sys.freq_ppm = ((double)(tu_rand() % 1000001) - 500000.0) * 1e-3;
        sys.stratum = (uint8_t)(tu_rand() % 17);
        struct ntk_span bad;
        assert_int_equal(run(0, "", &bad), 0);
        struct ntk_cvar_item it;
        double v;
        assert_int_equal(ntk_cvar_find(out, strlen(out), "offset", &it), 0);
        assert_int_equal(ntk_cvar_get(&it, &v), 0);
        assert_true(v - sys.offset_s < 1e-9 && sys.offset_s - v < 1e-9);
        assert_int_equal(ntk_cvar_find(out, strlen(out), "rootdelay", &it), 0);
        assert_int_equal(ntk_cvar_get(&it, &v), 0);
        assert_true(v - sys.root_delay_s < 1e-6 && sys.root_delay_s - v < 1e-6);
        assert_int_equal(ntk_cvar_find(out, strlen(out), "frequency", &it), 0);
        assert_int_equal(ntk_cvar_get(&it, &v), 0);
        assert_true(v - sys.freq_ppm < 1e-6 && sys.freq_ppm - v < 1e-6);
        assert_int_equal(ntk_cvar_find(out, strlen(out), "stratum", &it), 0);
        assert_int_equal(ntk_cvar_get(&it, &v), 0);
        assert_true(v == sys.stratum);
    }
}

/* A random list of known names is answered with each of those names once, in NTPsec's
 * table order whatever the list's order (live NTPsec 1.2.2: `rv 0 stratum,refid,leap` gives
 * leap, stratum, refid). The pool is in that order. */
static void test_order_property(void **state)
{
    (void)state;
    static const char *const pool[] = {
        "leap",    "clock",      "tai",     "ss_reset", "authkeys",      "kfreq",
        "io_sent", "timer_xmts", "mru_new", "rootdist", "ss_received_r", "nts_server_send_r",
    };
    enum { POOL = sizeof pool / sizeof pool[0] };
    tu_seed();
    make_src();
    for (int round = 0; round < 300; round++) {
        char names[512];
        struct ntk_sb sb;
        ntk_sb_init(&sb, names, sizeof names);
        size_t n = 1 + tu_rand() % 8;
        bool asked[POOL] = {false};
        for (size_t i = 0; i < n; i++) {
            size_t k = tu_rand() % POOL;
            asked[k] = true;
            ntk_sb_printf(&sb, "%s%s", i ? "," : "", pool[k]);
        }
        src.leap = (tu_rand() & 1) ? &leap : NULL;
        struct ntk_span bad;
        assert_int_equal(run(0, names, &bad), 0);
        struct ntk_cvar_it it;
        struct ntk_cvar_item item;
        ntk_cvar_init(&it, out, strlen(out));
        for (size_t k = 0; k < POOL; k++) {
            if (!asked[k] || (src.leap == NULL && strcmp(pool[k], "tai") == 0))
                continue; /* not asked, or no leap file: tai is not written */
            assert_int_equal(ntk_cvar_next(&it, &item), 1);
            assert_int_equal(item.name.len, strlen(pool[k]));
            assert_memory_equal(item.name.p, pool[k], item.name.len);
        }
        assert_int_equal(ntk_cvar_next(&it, &item), 0);
    }
}

/* Too small an output buffer gives NTK_ENOSPC, never a crash. */
static void test_nospace(void **state)
{
    (void)state;
    make_src();
    for (size_t cap = 1; cap < 400; cap += 7) {
        char small[400];
        struct ntk_sb sb;
        struct ntk_cvar_wr w;
        ntk_sb_init(&sb, small, cap);
        ntk_cvar_wr_init(&w, &sb);
        struct ntk_span bad;
        int rc = ctlv_sys(&src, "", 0, &w, &bad);
        assert_true(rc == NTK_ENOSPC || (rc == 0 && cap > 300));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sys_default),       cmocka_unit_test(test_sys_leap_and_setvars),
        cmocka_unit_test(test_sys_named_order),   cmocka_unit_test(test_sys_unknown),
        cmocka_unit_test(test_sysstats),          cmocka_unit_test(test_monstats_authinfo),
        cmocka_unit_test(test_kerninfo_io_timer), cmocka_unit_test(test_ntsinfo),
        cmocka_unit_test(test_var_lists),         cmocka_unit_test(test_peer_default),
        cmocka_unit_test(test_peer_named),        cmocka_unit_test(test_flash_bits),
        cmocka_unit_test(test_status_words),      cmocka_unit_test(test_events_note),
        cmocka_unit_test(test_engine_events),     cmocka_unit_test(test_engine_event_mapping),
        cmocka_unit_test(test_roundtrip_default), cmocka_unit_test(test_order_property),
        cmocka_unit_test(test_nospace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
