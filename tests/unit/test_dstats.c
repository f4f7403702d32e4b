/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for daemon/io/dstats.c: exact sysstats, protostats and rawstats lines from
 * made-up counters and engine events (NTPsec's event codes and status words), the hourly
 * sysstats cadence driven by explicit times, and the files the configuration enables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "dstats.h"
#include "ntk/err.h"
#include "ntk/refid.h"
#include "testutil.h"

#include "poison.h"

#define NS 1000000000LL

/* The Unix time of MJD day + seconds past midnight + nanoseconds. */
static struct timespec at(uint32_t mjd, uint32_t sec, long nsec)
{
    struct timespec t;
    t.tv_sec = (time_t)((int64_t)(mjd - STATS_MJD_1970) * 86400 + sec);
    t.tv_nsec = nsec;
    return t;
}

static struct ntk_addr addr(const char *text, uint16_t port)
{
    struct ntk_addr a;
    memset(&a, 0, sizeof a);
    struct ntk_span s = {text, strlen(text)};
    assert_int_equal(ntk_addr_parse_span(s, &a), 0);
    a.port = port;
    return a;
}

static char buf[4 * STATS_LINE_MAX];

static struct ntk_sb fresh(void)
{
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    return sb;
}

static struct dstats st;

static void reset_stats(int64_t interval_s)
{
    memset(&st, 0, sizeof st);
    st.sys_interval_ns = interval_s * NS;
}

/* ---------------------------------------------------------------------------------------- */
/* sysstats                                                                                 */
/* ---------------------------------------------------------------------------------------- */

static void made_up_counters(struct srv_stats *sv, struct snap_counters *ec)
{
    memset(sv, 0, sizeof *sv);
    memset(ec, 0, sizeof *ec);
    sv->received = 1000;
    sv->replies = 900;
    sv->kod = 5;
    sv->control = 3;
    sv->drops[SRV_DROP_TOO_SHORT] = 2;
    sv->drops[SRV_DROP_BAD_LENGTH] = 1;
    sv->drops[SRV_DROP_BAD_VERSION] = 1;
    sv->drops[SRV_DROP_BAD_MODE] = 1;
    sv->drops[SRV_DROP_BAD_MAC_LENGTH] = 1;
    sv->drops[SRV_DROP_MODE_PRIVATE] = 4;
    sv->drops[SRV_DROP_NOT_REQUEST] = 2;
    sv->drops[SRV_DROP_IGNORE] = 10;
    sv->drops[SRV_DROP_NOSERVE] = 3;
    sv->drops[SRV_DROP_VERSION] = 1;
    sv->drops[SRV_DROP_FLAKE] = 2;
    sv->drops[SRV_DROP_MODE_PEER] = 3;
    sv->drops[SRV_DROP_NOQUERY] = 1;
    sv->drops[SRV_DROP_RATE] = 20;
    sv->drops[SRV_DROP_CRYPTO_NAK] = 1;
    sv->drops[SRV_DROP_UNKNOWN_KEY] = 2;
    sv->drops[SRV_DROP_BAD_MAC] = 3;
    sv->by_version[1] = 1;
    sv->v1 = 1;
    sv->v1_client = 1;
    sv->by_version[2] = 2;
    sv->by_version[3] = 97;
    sv->by_version[4] = 800;
    ec->received = 50;
    ec->unknown_source = 1;
    ec->bad_length = 2;
    const uint64_t rx[ENG_RX_KINDS] = {40, 3, 1, 1, 1, 0, 0};
    memcpy(ec->by_rx, rx, sizeof rx);
}

static void sys_counters_map(void **state)
{
    (void)state;
    struct srv_stats sv;
    struct snap_counters ec;
    made_up_counters(&sv, &ec);
    struct stats_sys c;
    dstats_counts(&sv, &ec, &c);
    assert_int_equal(c.received, 1050);    /* server + client sockets */
    assert_int_equal(c.processed, 949);    /* replies, mode 6, replies to us */
    assert_int_equal(c.newversion, 800);   /* answered v4 */
    assert_int_equal(c.oldversion, 100);   /* answered v1..v3 */
    assert_int_equal(c.restricted, 17);    /* ignore, flake, noserve, noquery, version */
    assert_int_equal(c.badlength, 15);     /* malformed (both sides), modes 1, 2, 5, 7 */
    assert_int_equal(c.badauth, 6);        /* unknown key, bad MAC, crypto-NAK */
    assert_int_equal(c.declined, 3);       /* mode 4 from strangers, both sides */
    assert_int_equal(c.limitrejected, 25); /* rate limited, KoD or not */
    assert_int_equal(c.kodsent, 5);
    assert_int_equal(c.ver1, 1); /* NTPv1 datagrams */
    assert_int_equal(c.ver1client, 1);
    assert_int_equal(c.ver1zero, 0);
    assert_int_equal(c.since_reset_s, 0);
    dstats_counts(NULL, NULL, &c);
    assert_int_equal(c.received + c.processed + c.kodsent, 0);
    dstats_counts(NULL, &ec, &c);
    assert_int_equal(c.received, 50);
    assert_int_equal(c.processed, 46);
}

static void sys_line_exact(void **state)
{
    (void)state;
    reset_stats(3600);
    struct srv_stats sv;
    struct snap_counters ec;
    made_up_counters(&sv, &ec);
    struct stats_sys cum;
    dstats_counts(&sv, &ec, &cum);
    struct timespec now = at(61000, 3600, 250000000);
    struct ntk_sb sb = fresh();
    assert_false(dstats_sys_line(&st, &cum, &now, 3600 * NS - 1, &sb));
    assert_int_equal(ntk_sb_len(&sb), 0);
    assert_true(dstats_sys_line(&st, &cum, &now, 3600 * NS + NS / 2, &sb));
    assert_string_equal(buf, "61000 3600.250 3600 1050 949 800 100 17 15 6 3 25 5 1\n");
    /* The next hour: only what came since. */
    sv.received += 10;
    sv.kod += 1;
    ec.received += 2;
    dstats_counts(&sv, &ec, &cum);
    now = at(61000, 7201, 0);
    sb = fresh();
    assert_false(dstats_sys_line(&st, &cum, &now, 7200 * NS, &sb));
    assert_true(dstats_sys_line(&st, &cum, &now, 7201 * NS, &sb));
    assert_string_equal(buf, "61000 7201.000 3600 12 0 0 0 0 0 0 0 1 1 0\n");
    /* A late timer: the line says how long it covers. */
    now = at(61001, 0, 999999999);
    sb = fresh();
    assert_true(dstats_sys_line(&st, &cum, &now, 12000 * NS + 1, &sb));
    assert_string_equal(buf, "61001 0.999 4799 0 0 0 0 0 0 0 0 0 0 0\n");
}

/* Driven by explicit times: one line an hour, each covering the time since the last, and
 * the lines add up to the counters' growth. */
/* usestats: what ntpd used since the previous line; the resident set as it is. */
static void use_line_exact(void **state)
{
    (void)state;
    reset_stats(3600);
    struct rusage ru = {.ru_utime = {1, 500000},
                        .ru_stime = {0, 250000},
                        .ru_minflt = 300,
                        .ru_majflt = 2,
                        .ru_inblock = 8,
                        .ru_oublock = 16,
                        .ru_nvcsw = 1000,
                        .ru_nivcsw = 5,
                        .ru_maxrss = 4900};
    struct timespec now = at(61000, 3600, 250000000);
    struct ntk_sb sb = fresh();
    assert_true(dstats_use_line(&st, &ru, &now, 3600 * NS + NS / 2, &sb));
    assert_string_equal(buf, "61000 3600.250 3600 1.500 0.250 300 2 0 8 16 1000 5 0 4900\n");
    ru.ru_utime.tv_sec += 2;
    ru.ru_minflt += 1;
    ru.ru_nvcsw += 3600;
    ru.ru_nsignals = 1;
    ru.ru_maxrss = 5000;
    now = at(61000, 7201, 0);
    sb = fresh();
    assert_true(dstats_use_line(&st, &ru, &now, 7201 * NS, &sb));
    assert_string_equal(buf, "61000 7201.000 3600 2.000 0.000 1 0 0 0 0 3600 0 1 5000\n");
}

static void sys_cadence(void **state)
{
    (void)state;
    reset_stats(3600);
    struct stats_sys cum;
    memset(&cum, 0, sizeof cum);
    struct timespec now = at(61000, 0, 0);
    int lines = 0;
    for (int64_t t = 0; t <= 5 * 3600; t += 60) {
        cum.received += 7;
        struct ntk_sb sb = fresh();
        if (dstats_sys_line(&st, &cum, &now, t * NS, &sb)) {
            lines++;
            assert_int_equal(t, 3600 * lines);
            assert_non_null(strstr(buf, " 3600 "));
        }
    }
    assert_int_equal(lines, 5);
    /* Random steps: never more often than hourly, never a line late by a step or more. */
    tu_seed();
    for (int round = 0; round < 50; round++) {
        reset_stats(3600);
        memset(&cum, 0, sizeof cum);
        int64_t t = 0, last = 0;
        uint64_t reported = 0;
        while (t < 48 * 3600) {
            int64_t step = (int64_t)(tu_rand() % 900) + 1;
            t += step;
            cum.received += tu_rand() % 1000;
            struct ntk_sb sb = fresh();
            if (!dstats_sys_line(&st, &cum, &now, t * NS, &sb)) {
                assert_true(t - last < 3600);
                continue;
            }
            unsigned long since = 0;
            unsigned long long got = 0;
            const char *p = strchr(strchr(buf, ' ') + 1, ' ') + 1; /* past the time */
            char *end;
            since = strtoul(p, &end, 10);
            got = strtoull(end, NULL, 10);
            assert_true(since >= 3600 && since < 3600 + 900);
            assert_int_equal(since, (unsigned long)(t - last));
            reported += got;
            last = t;
        }
        assert_int_equal(reported, st.sys_base.received);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* protostats                                                                               */
/* ---------------------------------------------------------------------------------------- */

static struct snap_system sys;
static struct snap_assoc peer1, peer2;

static void reset_proto(void)
{
    reset_stats(3600);
    memset(&sys, 0, sizeof sys);
    sys.leap = NTK_LEAP_NONE;
    sys.sys_peer = 1;
    memset(&peer1, 0, sizeof peer1);
    peer1.id = 1;
    peer1.addr = addr("192.0.2.1", 123);
    peer1.tally = ' ';
    peer1.reach = 1;
    memset(&peer2, 0, sizeof peer2);
    peer2.id = 2;
    peer2.addr = addr("2001:db8::1", 123);
    peer2.from_pool = true;
    peer2.key_id = 5;
    peer2.authenticated = true;
    peer2.reach = 0xff;
    peer2.tally = '+';
}

static struct eng_action event(enum eng_event e, uint32_t id, double value, const char *text)
{
    struct eng_action a;
    memset(&a, 0, sizeof a);
    a.kind = ENG_ACT_EVENT;
    a.event = e;
    a.assoc_id = id;
    a.value = value;
    snprintf(a.text, sizeof a.text, "%s", text != NULL ? text : "");
    return a;
}

/* The protostats line(s) for one event, or "" when none. */
static const char *proto(enum eng_event e, const struct snap_assoc *as, double value,
                         const char *text)
{
    struct eng_action a = event(e, as != NULL ? as->id : 0, value, text);
    struct timespec now = at(61000, 3600, 250000000);
    struct ntk_sb sb = fresh();
    bool wrote = dstats_proto_line(&st, &a, &sys, NULL, as, &now, &sb);
    assert_int_equal(wrote, ntk_sb_len(&sb) > 0);
    return buf;
}

#define T "61000 3600.250 "

static void proto_lines_exact(void **state)
{
    (void)state;
    reset_proto();
    /* Status words: peer (conf|auth|reach|sel) << 8 | events << 4 | last (auth: NTPsec's
     * `authentic`, set for a keyless server that answered, as mode 6 shows it); system
     * leap << 14 | source (6: NTP) << 8 | events << 4 | last. */
    assert_string_equal(proto(ENG_EV_REACH, &peer1, 0, NULL),
                        T "192.0.2.1 b014 84 reachable\n");
    peer1.tally = '*';
    assert_string_equal(proto(ENG_EV_SYNC, &peer1, 0, NULL),
                        T "0.0.0.0 0615 05 clock_sync\n" T "192.0.2.1 b61a 8a sys_peer\n");
    assert_string_equal(proto(ENG_EV_SYNC, &peer1, 0, NULL), T "192.0.2.1 b62a 8a sys_peer\n");
    assert_string_equal(proto(ENG_EV_STEP, NULL, 0.25, NULL),
                        T "0.0.0.0 061c 0c clock_step +0.250000 s\n");
    assert_string_equal(proto(ENG_EV_FREQ, NULL, 12.3456, "ntpd"),
                        T "0.0.0.0 0612 02 freq_set ntpd 12.345600 PPM\n");
    assert_string_equal(proto(ENG_EV_FREQ_NOT_SET, NULL, 0, NULL),
                        T "0.0.0.0 0611 01 freq_not_set\n");
    assert_string_equal(proto(ENG_EV_RESTART, NULL, 0, NULL), T "0.0.0.0 0616 06 restart\n");
    assert_string_equal(proto(ENG_EV_PANIC, NULL, -1234.4, NULL),
                        T "0.0.0.0 0617 07 panic_stop -1234 s\n");
    assert_string_equal(proto(ENG_EV_KOD, &peer1, 0, "RATE"),
                        T "192.0.2.1 b617 87 rate_exceeded RATE\n");
    assert_string_equal(proto(ENG_EV_KOD, &peer1, 0, "DENY"),
                        T "192.0.2.1 b618 88 access_denied DENY\n");
    assert_string_equal(proto(ENG_EV_KOD, &peer1, 0, "RSTR"),
                        T "192.0.2.1 b628 88 access_denied RSTR\n");
    assert_string_equal(proto(ENG_EV_KOD, &peer1, 0, "XYZW"), ""); /* NTPsec: no event */
    assert_string_equal(proto(ENG_EV_MOBILIZE, &peer1, 0, NULL),
                        T "192.0.2.1 b611 81 mobilize assoc 1\n");
    /* a pool member dropped: NTPsec's two lines, a new count for each event */
    assert_string_equal(proto(ENG_EV_DEMOBILIZE, &peer2, 1, "timeout"),
                        T "2001:db8::1 7415 85 restart timeout\n" T
                          "2001:db8::1 7412 82 demobilize assoc 2\n");
    sys.leap = NTK_LEAP_UNSYNC;
    sys.sys_peer = 0;
    assert_string_equal(proto(ENG_EV_UNSYNC, NULL, 0, NULL),
                        T "0.0.0.0 c018 08 no_sys_peer\n");
    sys.leap = NTK_LEAP_INSERT;
    sys.sys_peer = 1;
    assert_string_equal(proto(ENG_EV_LEAP_ARMED, NULL, 1, NULL),
                        T "0.0.0.0 4619 09 leap_armed\n");
    assert_string_equal(proto(ENG_EV_CLOCK_ERROR, NULL, -1, "clock_adjtime: EPERM"),
                        T "0.0.0.0 461d 0d kern clock_adjtime: EPERM\n");
    /* After no_sys_peer, synchronising again is a clock_sync again. */
    assert_string_equal(proto(ENG_EV_SYNC, &peer1, 0, NULL),
                        T "0.0.0.0 4615 05 clock_sync\n" T "192.0.2.1 b61a 8a sys_peer\n");
    peer1.tally = ' ';
    peer1.reach = 0;
    assert_string_equal(proto(ENG_EV_UNREACH, &peer1, 0, NULL),
                        T "192.0.2.1 8013 83 unreachable\n");
    /* A pool association with an authenticated key; IPv6. */
    assert_string_equal(proto(ENG_EV_REACH, &peer2, 0, NULL),
                        T "2001:db8::1 7414 84 reachable\n");
    /* Not protostats events, or the association is gone. */
    assert_string_equal(proto(ENG_EV_CLOCK_UPDATE, NULL, 0, NULL), "");
    assert_string_equal(proto(ENG_EV_REACH, NULL, 0, NULL), "");
}

/* The system status word names a reference clock as the source as mode 6 does: UHF radio
 * for a driver, atomic (1) for PPS. */
static void proto_sys_source_of_refclock(void **state)
{
    (void)state;
    reset_proto();
    struct snap_assoc rc = peer1;
    rc.refclock = true;
    rc.rc_type = ENG_RC_SHM;
    struct eng_action a = event(ENG_EV_STEP, 0, 0.25, NULL);
    struct timespec now = at(61000, 3600, 250000000);
    struct ntk_sb sb = fresh();
    assert_true(dstats_proto_line(&st, &a, &sys, &rc, NULL, &now, &sb));
    assert_string_equal(buf, T "0.0.0.0 041c 0c clock_step +0.250000 s\n");
    rc.rc_type = ENG_RC_PPS;
    sb = fresh();
    assert_true(dstats_proto_line(&st, &a, &sys, &rc, NULL, &now, &sb));
    assert_string_equal(buf, T "0.0.0.0 012c 0c clock_step +0.250000 s\n");
}

static void proto_repeats_suppressed(void **state)
{
    (void)state;
    reset_proto();
    /* NTPsec report_event: 15 reports of the same event in a row, then silence until
     * another event comes. */
    for (int i = 1; i <= 15; i++) {
        char want[128];
        snprintf(want, sizeof want, T "192.0.2.1 b0%x4 84 reachable\n", i);
        assert_string_equal(proto(ENG_EV_REACH, &peer1, 0, NULL), want);
    }
    assert_string_equal(proto(ENG_EV_REACH, &peer1, 0, NULL), "");
    assert_string_equal(proto(ENG_EV_UNREACH, &peer1, 0, NULL),
                        T "192.0.2.1 b013 83 unreachable\n");
    assert_string_equal(proto(ENG_EV_REACH, &peer1, 0, NULL),
                        T "192.0.2.1 b014 84 reachable\n");
    /* The same for system events; each association and the system count apart. */
    for (int i = 1; i <= 15; i++)
        assert_true(proto(ENG_EV_STEP, NULL, 1, NULL)[0] != '\0');
    assert_string_equal(proto(ENG_EV_STEP, NULL, 1, NULL), "");
    assert_string_equal(proto(ENG_EV_REACH, &peer2, 0, NULL),
                        T "2001:db8::1 7414 84 reachable\n");
    /* More associations than the history holds: still a line each, never a crash. */
    for (uint32_t id = 100; id < 100 + 3 * DSTATS_PEERS_MAX; id++) {
        struct snap_assoc p = peer1;
        p.id = id;
        assert_non_null(strstr(proto(ENG_EV_UNREACH, &p, 0, NULL), " 83 unreachable\n"));
    }
}

/* ---------------------------------------------------------------------------------------- */
/* rawstats                                                                                 */
/* ---------------------------------------------------------------------------------------- */

static struct eng_action raw_event(void)
{
    struct eng_action a = event(ENG_EV_RAW, 1, 0, NULL);
    a.raw = (struct eng_raw){
        .t1 = ntk_ts_make(3913056000u, 0),
        .t2 = ntk_ts_make(3913056000u, 0x40000000u),
        .t3 = ntk_ts_make(3913056000u, 0x80000000u),
        .t4 = ntk_ts_make(3913056000u, 0xc0000000u),
        .leap = 0,
        .version = 4,
        .mode = 4,
        .stratum = 2,
        .poll_log2 = 6,
        .precision_log2 = -20,
        .root_delay_s = 0.001,
        .root_disp_s = 0.0025,
        .refid = 0xc0000209u,
    };
    return a;
}

static void raw_line_exact(void **state)
{
    (void)state;
    reset_proto();
    struct eng_action a = raw_event();
    struct timespec now = at(61000, 3600, 250000000);
    struct ntk_sb sb = fresh();
    assert_int_equal(dstats_raw_line(&a, &peer1, NULL, &now, &sb), 0);
    assert_string_equal(buf, T "192.0.2.1 - 3913056000.000000000 3913056000.250000000 "
                               "3913056000.500000000 3913056000.750000000 "
                               "0 4 4 2 6 -20 0.001000 0.002500 192.0.2.9 0 0 0\n");
    /* The event's own address wins; stratum 1 prints the refid as a code; the local
     * address without its port; requests lost, replies dropped, BOGON bits in hex. */
    a.remote = addr("198.51.100.7", 123);
    a.raw.stratum = 1;
    a.raw.refid = NTK_REFID_CODE('G', 'P', 'S', 0);
    a.raw.lost = 2;
    a.raw.dropped = 1;
    a.raw.flash = SNAP_FLASH_HEADER; /* ours 0x80: NTPsec's header bit is 0x40 */
    struct ntk_addr local = addr("203.0.113.5", 40123);
    sb = fresh();
    assert_int_equal(dstats_raw_line(&a, NULL, &local, &now, &sb), 0);
    assert_string_equal(buf, T "198.51.100.7 203.0.113.5 3913056000.000000000 "
                               "3913056000.250000000 3913056000.500000000 "
                               "3913056000.750000000 0 4 4 1 6 -20 0.001000 0.002500 .GPS. "
                               "2 1 40\n");
    char tiny[30];
    ntk_sb_init(&sb, tiny, sizeof tiny);
    assert_int_equal(dstats_raw_line(&a, NULL, NULL, &now, &sb), NTK_ENOSPC);
}

/* ---------------------------------------------------------------------------------------- */
/* The files                                                                                */
/* ---------------------------------------------------------------------------------------- */

static char dir[64];

static int make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/ntk_dstats_XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int remove_dir(void **state)
{
    (void)state;
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    }
    if (d)
        closedir(d);
    return rmdir(dir);
}

static const char *slurp(const char *name)
{
    static char text[4096];
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    text[0] = '\0';
    FILE *f = fopen(p, "r");
    if (f == NULL)
        return NULL;
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static struct conf conf;

static void parse(const char *text)
{
    static struct conf_diags g;
    conf_diags_init(&g);
    conf_init(&conf);
    assert_int_equal(conf_parse_text(&conf, "t.conf", text, strlen(text), &g), 0);
}

static void files_enabled_by_conf(void **state)
{
    (void)state;
    char text[512];
    snprintf(text, sizeof text,
             "statsdir %s\n"
             "statistics rawstats protostats clockstats\n"
             "filegen rawstats type none\n"
             "filegen sysstats file sys type none enable\n",
             dir);
    parse(text);
    dstats_init(&st, &conf, NULL);
    conf_free(&conf);
    assert_true(st.raw.enabled);
    assert_true(st.proto.enabled);
    assert_true(st.sys.enabled);   /* filegen ... enable */
    assert_true(st.clock.enabled); /* set up; no reference clock writes to it */
    assert_false(st.loop.enabled);
    assert_false(st.peer.enabled);
    assert_int_equal(st.sys_interval_ns, 3600 * NS);
    /* A rawstats event with its address needs no engine report. */
    struct eng_action a = raw_event();
    a.remote = addr("198.51.100.7", 123);
    dstats_event(&st, NULL, &a);
    dstats_event(&st, NULL, &a);
    const char *raw = slurp("rawstats");
    assert_non_null(raw);
    assert_non_null(strstr(raw, " 198.51.100.7 - 3913056000.000000000 "));
    int lines = 0;
    for (const char *p = raw; (p = strchr(p, '\n')) != NULL; p++)
        lines++;
    assert_int_equal(lines, 2);
    /* SIGHUP: closed, then opened again by name at the next line. */
    dstats_reopen(&st);
    assert_int_equal(st.raw.fd, -1);
    char from[600], to[600];
    snprintf(from, sizeof from, "%s/rawstats", dir);
    snprintf(to, sizeof to, "%s/rawstats.old", dir);
    assert_int_equal(rename(from, to), 0);
    dstats_event(&st, NULL, &a);
    raw = slurp("rawstats");
    assert_non_null(raw);
    assert_int_equal(strchr(raw, '\n') - raw + 1, (long)strlen(raw)); /* one line */
    assert_null(slurp("clockstats"));
    assert_null(slurp("sys"));
    dstats_close(&st);
    assert_int_equal(st.raw.fd, -1);
    unlink(to);
    /* `filegen NAME disable` after `statistics NAME`: off. */
    snprintf(text, sizeof text,
             "statsdir %s\nstatistics rawstats peerstats\n"
             "filegen rawstats disable\nfilegen peerstats type week\n",
             dir);
    parse(text);
    dstats_init(&st, &conf, NULL);
    conf_free(&conf);
    assert_false(st.raw.enabled);
    assert_true(st.peer.enabled);
    assert_int_equal(st.peer.type, STATS_GEN_WEEK);
    assert_true(st.peer.link);
    dstats_close(&st);
    /* `disable stats`: nothing. */
    snprintf(text, sizeof text, "statsdir %s\nstatistics rawstats\ndisable stats\n", dir);
    parse(text);
    dstats_init(&st, &conf, NULL);
    conf_free(&conf);
    assert_false(st.raw.enabled);
    dstats_close(&st);
    /* A zeroed struct (ntpd_free before dstats_init) closes nothing. */
    memset(&st, 0, sizeof st);
    dstats_close(&st);
    assert_int_equal(st.raw.fd, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sys_counters_map),
        cmocka_unit_test(sys_line_exact),
        cmocka_unit_test(sys_cadence),
        cmocka_unit_test(use_line_exact),
        cmocka_unit_test(proto_lines_exact),
        cmocka_unit_test(proto_repeats_suppressed),
        cmocka_unit_test(proto_sys_source_of_refclock),
        cmocka_unit_test(raw_line_exact),
        cmocka_unit_test(files_enabled_by_conf),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
