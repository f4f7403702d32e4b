/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for daemon/io/stats.c: every statistics line against NTPsec's documented
 * examples, filegen names across day/week/month/year boundaries, and the appender. */
#include <setjmp.h>
#include <sys/resource.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ntk/err.h"
#include "ntk/refid.h"
#include "stats.h"
#include "testutil.h"

#include "poison.h"

/* The Unix time of MJD day + seconds past midnight + nanoseconds. */
static struct timespec at(uint32_t mjd, uint32_t sec, long nsec)
{
    struct timespec t;
    t.tv_sec = (time_t)((int64_t)(mjd - STATS_MJD_1970) * 86400 + sec);
    t.tv_nsec = nsec;
    return t;
}

static struct ntk_addr addr(const char *text)
{
    struct ntk_addr a;
    memset(&a, 0, sizeof a);
    struct ntk_span s = {text, strlen(text)};
    assert_int_equal(ntk_addr_parse_span(s, &a), 0);
    return a;
}

static char line[STATS_LINE_MAX];

static struct ntk_sb fresh(void)
{
    struct ntk_sb sb;
    ntk_sb_init(&sb, line, sizeof line);
    return sb;
}

/* ---------------------------------------------------------------------------------------- */
/* Time fields                                                                              */
/* ---------------------------------------------------------------------------------------- */

static void time_fields(void **state)
{
    (void)state;
    struct ntk_sb sb = fresh();
    struct timespec t = {0, 0};
    stats_fmt_time(&t, &sb);
    assert_string_equal(line, "40587 0.000");
    /* milliseconds are truncated (NTPsec: tv_nsec / NS_PER_MS) */
    sb = fresh();
    t = at(59786, 36302, 768999999);
    stats_fmt_time(&t, &sb);
    assert_string_equal(line, "59786 36302.768");
    sb = fresh();
    t = at(61370, 86399, 999999999); /* last instant of 2026-11-26 */
    stats_fmt_time(&t, &sb);
    assert_string_equal(line, "61370 86399.999");
    uint32_t mjd, sec, msec;
    t.tv_sec = 1795694400; /* 2026-11-26T12:00:00Z */
    t.tv_nsec = 5000000;
    stats_mjd(&t, &mjd, &sec, &msec);
    assert_int_equal(mjd, 61370);
    assert_int_equal(sec, 43200);
    assert_int_equal(msec, 5);
}

/* NTPsec ulfptoa(ts, 9): 9 decimals rounded half up, carrying into the seconds. */
static void ntp_timestamps(void **state)
{
    (void)state;
    static const struct {
        uint32_t sec, frac;
        const char *want;
    } cases[] = {
        {0, 0, "0.000000000"},
        {3867818701u, 0x1e8d7b94u, "3867818701.119346355"},
        {1, 0x80000000u, "1.500000000"},
        {5, 0xffffffffu, "6.000000000"}, /* 0.99999999977 rounds up */
        {0xffffffffu, 0xffffffffu, "4294967296.000000000"},
        {7, 0x00000004u, "7.000000001"}, /* 0.93 ns rounds up */
        {7, 0x00000002u, "7.000000000"}, /* 0.47 ns rounds down */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ntk_sb sb = fresh();
        stats_fmt_ts(ntk_ts_make(cases[i].sec, cases[i].frac), &sb);
        assert_string_equal(line, cases[i].want);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Golden lines. References are the examples in NTPsec's docs/includes/mon-commands.adoc,    */
/* checked by hand against the format strings of NTPsec 1.2 ntpd/ntp_util.c.                */
/* ---------------------------------------------------------------------------------------- */

static void golden_peerstats(void **state)
{
    (void)state;
    /* NTPsec: "48773 10847.650 SPECTRACOM(4) 9714 -0.001605376 0.000000000
     *          0.001424877 0.000958674" (one line) */
    struct stats_peer r = {
        .now = at(48773, 10847, 650400000),
        .src = {.label = "SPECTRACOM(4)"},
        .status = 0x9714,
        .offset_s = -0.001605376,
        .delay_s = 0.0,
        .disp_s = 0.001424877,
        .jitter_s = 0.000958674,
    };
    struct ntk_sb sb = fresh();
    assert_int_equal(stats_fmt_peer(&r, &sb), 0);
    assert_string_equal(line, "48773 10847.650 SPECTRACOM(4) 9714 -0.001605376 0.000000000 "
                              "0.001424877 0.000958674\n");
    /* A network peer: the address without its port; the status without zero padding. */
    r.src.label = NULL;
    r.src.addr = addr("[2001:db8::1]:123");
    r.status = 0x14;
    sb = fresh();
    assert_int_equal(stats_fmt_peer(&r, &sb), 0);
    assert_string_equal(line, "48773 10847.650 2001:db8::1 14 -0.001605376 0.000000000 "
                              "0.001424877 0.000958674\n");
}

static void golden_loopstats(void **state)
{
    (void)state;
    /* NTPsec doc: "50935 75440.031 0.000006019 13.778190 0.000351733 0.0133806" with the
     * time constant 6 in its table. The example predates the code: NTPsec 1.2 prints
     * "%.9f %.6f %.9f %.6f %d", so the wander is "0.013381" and the poll follows. */
    struct stats_loop r = {
        .now = at(50935, 75440, 31000000),
        .offset_s = 0.000006019,
        .freq_ppm = 13.778190,
        .jitter_s = 0.000351733,
        .wander_ppm = 0.0133806,
        .poll_log2 = 6,
    };
    struct ntk_sb sb = fresh();
    assert_int_equal(stats_fmt_loop(&r, &sb), 0);
    assert_string_equal(line,
                        "50935 75440.031 0.000006019 13.778190 0.000351733 0.013381 6\n");
    r.freq_ppm = -500.0;
    r.offset_s = -0.128;
    r.poll_log2 = 10;
    sb = fresh();
    assert_int_equal(stats_fmt_loop(&r, &sb), 0);
    assert_string_equal(line,
                        "50935 75440.031 -0.128000000 -500.000000 0.000351733 0.013381 10\n");
}

static void golden_clockstats(void **state)
{
    (void)state;
    /* NTPsec: "49213 525.624 SPECTRACOM(1) 93 226 00:08:29.606" */
    struct stats_clock r = {
        .now = at(49213, 525, 624000000),
        .src = {.label = "SPECTRACOM(1)"},
        .text = "93 226 00:08:29.606",
    };
    struct ntk_sb sb = fresh();
    assert_int_equal(stats_fmt_clock(&r, &sb), 0);
    assert_string_equal(line, "49213 525.624 SPECTRACOM(1) 93 226 00:08:29.606\n");
    /* A timecode with a line break cannot split the record. */
    r.text = "bad\ncode\r";
    sb = fresh();
    assert_int_equal(stats_fmt_clock(&r, &sb), 0);
    assert_string_equal(line, "49213 525.624 SPECTRACOM(1) bad?code?\n");
}

static void golden_rawstats(void **state)
{
    (void)state;
    /* NTPsec doc: "59786 36302.768 2610:20:6f15:15::27 2604:a880:1:20::17:5001
     *   3867818701.119346355 3867818701.152009264 3867818701.152010426 3867818702.768490825
     *   0 3 4 1 13 -29 0.000244 0.000488 .NIST. 0 1 2000" (one line), as Debian's 1.2.2
     * writes it ("... %s %u %u %x": requests lost, replies dropped, BOGON bits). */
    struct stats_raw r = {
        .now = at(59786, 36302, 768490825),
        .src = {.addr = addr("2610:20:6f15:15::27")},
        .dst = addr("2604:a880:1:20::17:5001"),
        .t1 = ntk_ts_make(3867818701u, 0x1e8d7b94u),
        .t2 = ntk_ts_make(3867818701u, 0x26ea1442u),
        .t3 = ntk_ts_make(3867818701u, 0x26ea27c0u),
        .t4 = ntk_ts_make(3867818702u, 0xc4bbd091u),
        .leap = 0,
        .version = 3,
        .mode = 4,
        .stratum = 1,
        .poll_log2 = 13,
        .precision_log2 = -29,
        .root_delay_s = 16.0 / 65536, /* 0.000244140625 on the wire */
        .root_disp_s = 32.0 / 65536,
        .refid = NTK_REFID_CODE('N', 'I', 'S', 'T'),
        .lost = 0,
        .dropped = 1,
        .flash = 0x2000,
    };
    struct ntk_sb sb = fresh();
    assert_int_equal(stats_fmt_raw(&r, &sb), 0);
    assert_string_equal(line, "59786 36302.768 2610:20:6f15:15::27 2604:a880:1:20::17:5001 "
                              "3867818701.119346355 3867818701.152009264 "
                              "3867818701.152010426 3867818702.768490825 "
                              "0 3 4 1 13 -29 0.000244 0.000488 .NIST. 0 1 2000\n");

    /* refid_str as NTPsec's tests/libntp/numtoa.c checks it: refid_str(0x11223344, 8) is
     * "68.51.34.17" (bytes 44 33 22 11 in memory) and refid_str(0x535047, 0) ".GPS.". */
    r.src.addr = addr("192.0.2.7");
    r.dst.family = NTK_ADDR_NONE;
    r.stratum = 8;
    r.refid = 0x44332211u;
    r.lost = 3;
    r.dropped = 0;
    r.flash = 0;
    sb = fresh();
    assert_int_equal(stats_fmt_raw(&r, &sb), 0);
    assert_non_null(strstr(line, " 192.0.2.7 - 3867818701.119346355 "));
    assert_non_null(strstr(line, " 0 3 4 8 13 -29 0.000244 0.000488 68.51.34.17 3 0 0\n"));
    r.stratum = 0;
    r.refid = NTK_REFID_CODE('G', 'P', 'S', 0);
    r.flash = 0x402; /* BOGON2 | BOGON11, in hex without padding */
    sb = fresh();
    assert_int_equal(stats_fmt_raw(&r, &sb), 0);
    assert_non_null(strstr(line, " 0.000244 0.000488 .GPS. 3 0 402\n"));
}

static void golden_sysstats(void **state)
{
    (void)state;
    /* NTPsec doc: "59935 82782.547 3600 36082754 31287166 26510580 4779042 113 19698 1997
     * 428 4773352 0 366120": twelve counters, the last the NTPv1 packets, as Debian's
     * 1.2.2 writes them ("%s %u %lu ... %lu", eleven %lu). */
    struct stats_sys r = {
        .now = at(59935, 82782, 547000000),
        .since_reset_s = 3600,
        .received = 36082754,
        .processed = 31287166,
        .newversion = 26510580,
        .oldversion = 4779042,
        .restricted = 113,
        .badlength = 19698,
        .badauth = 1997,
        .declined = 428,
        .limitrejected = 4773352,
        .kodsent = 0,
        .ver1 = 366120,
    };
    struct ntk_sb sb = fresh();
    assert_int_equal(stats_fmt_sys(&r, &sb), 0);
    assert_string_equal(line,
                        "59935 82782.547 3600 36082754 31287166 26510580 4779042 113 19698 "
                        "1997 428 4773352 0 366120\n");
    r.received = UINT64_MAX;
    sb = fresh();
    assert_int_equal(stats_fmt_sys(&r, &sb), 0);
    assert_non_null(strstr(line, " 3600 18446744073709551615 31287166 "));
}

static void golden_usestats(void **state)
{
    (void)state;
    /* NTPsec doc: "57570 83399.541 3600 0.902 1.451 164 0 0 0 2328 64226 1 0 4308". */
    struct stats_use r = {
        .now = at(57570, 83399, 541000000),
        .since_s = 3600,
        .utime_s = 0.902,
        .stime_s = 1.451,
        .minflt = 164,
        .oublock = 2328,
        .nvcsw = 64226,
        .nivcsw = 1,
        .maxrss_kib = 4308,
    };
    struct ntk_sb sb = fresh();
    assert_int_equal(stats_fmt_use(&r, &sb), 0);
    assert_string_equal(line,
                        "57570 83399.541 3600 0.902 1.451 164 0 0 0 2328 64226 1 0 4308\n");
}

static void golden_protostats(void **state)
{
    (void)state;
    /* NTPsec doc: "49213 525.624 128.4.1.1 963a 8a message"; NTPsec report_event builds
     * "%s %04x %02x %s" (+ " %s" extra), and 0.0.0.0 for system events. */
    struct stats_proto r = {
        .now = at(49213, 525, 624000000),
        .src = {.addr = addr("128.4.1.1")},
        .status = 0x963a,
        .event = 0x8a,
        .message = "message",
    };
    struct ntk_sb sb = fresh();
    assert_int_equal(stats_fmt_proto(&r, &sb), 0);
    assert_string_equal(line, "49213 525.624 128.4.1.1 963a 8a message\n");
    r.src.addr.family = NTK_ADDR_NONE;
    r.status = 0x615;
    r.event = 5;
    r.message = "clock_sync";
    r.extra = "x\ny";
    sb = fresh();
    assert_int_equal(stats_fmt_proto(&r, &sb), 0);
    assert_string_equal(line, "49213 525.624 0.0.0.0 0615 05 clock_sync x?y\n");
}

static void overflow_is_reported(void **state)
{
    (void)state;
    char tiny[20];
    struct ntk_sb sb;
    ntk_sb_init(&sb, tiny, sizeof tiny);
    struct stats_loop r = {.now = at(50935, 75440, 0)};
    assert_int_equal(stats_fmt_loop(&r, &sb), NTK_ENOSPC);
    /* The longest text fields still fit STATS_LINE_MAX, cut to 256 bytes each. */
    static char text[1000];
    memset(text, 'a', sizeof text - 1);
    static char label[300];
    memset(label, 'b', 255);
    struct stats_proto p = {
        .now = at(40587, 1, 0), .src = {.label = label}, .message = text, .extra = text};
    sb = fresh();
    assert_int_equal(stats_fmt_proto(&p, &sb), 0);
    /* time 11 + label 255 + status and event 8 + two texts cut to 256 + spaces and '\n' */
    assert_int_equal(ntk_sb_len(&sb), 11 + 1 + 255 + 1 + 4 + 1 + 2 + 1 + 256 + 1 + 256 + 1);
}

/* ---------------------------------------------------------------------------------------- */
/* filegen names                                                                            */
/* ---------------------------------------------------------------------------------------- */

static const char *name_at(enum stats_gen_type type, int64_t unix_s, int64_t up_s)
{
    static char buf[256];
    struct stats_gen_clock c = {.unix_s = unix_s, .up_s = up_s, .pid = 4242};
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    assert_int_equal(stats_gen_name("/var/log/ntpstats/loopstats", type, &c, &sb), 0);
    const char *base = "/var/log/ntpstats/loopstats";
    return buf + strlen(base);
}

static void filegen_names(void **state)
{
    (void)state;
    const int64_t noon = 1795694400;      /* 2026-11-26T12:00:00Z */
    const int64_t day_end = 1795737599;   /* 2026-11-26T23:59:59Z */
    const int64_t month_end = 1796083199; /* 2026-11-30T23:59:59Z */
    const int64_t year_end = 1798761599;  /* 2026-12-31T23:59:59Z */
    assert_string_equal(name_at(STATS_GEN_NONE, noon, 0), "");
    assert_string_equal(name_at(STATS_GEN_PID, noon, 0), ".#4242");
    assert_string_equal(name_at(STATS_GEN_DAY, noon, 0), ".20261126");
    assert_string_equal(name_at(STATS_GEN_DAY, day_end, 0), ".20261126");
    assert_string_equal(name_at(STATS_GEN_DAY, day_end + 1, 0), ".20261127");
    assert_string_equal(name_at(STATS_GEN_MONTH, month_end, 0), ".202611");
    assert_string_equal(name_at(STATS_GEN_MONTH, month_end + 1, 0), ".202612");
    assert_string_equal(name_at(STATS_GEN_YEAR, year_end, 0), ".2026");
    assert_string_equal(name_at(STATS_GEN_YEAR, year_end + 1, 0), ".2027");
    assert_string_equal(name_at(STATS_GEN_DAY, year_end + 1, 0), ".20270101");
    /* weeks: day of year / 7; 2026-11-26 is day 329 (0-based) -> 47 */
    assert_string_equal(name_at(STATS_GEN_WEEK, noon, 0), ".2026w47");
    assert_string_equal(name_at(STATS_GEN_WEEK, year_end, 0), ".2026w52");
    assert_string_equal(name_at(STATS_GEN_WEEK, year_end + 1, 0), ".2027w00");
    /* NTPsec's documentation: January 10th 1992 is in week 1 */
    assert_string_equal(name_at(STATS_GEN_WEEK, 695001600, 0), ".1992w01");
    /* leap year: 2024-12-31 is day 365, still week 52; 2024-02-29 exists */
    assert_string_equal(name_at(STATS_GEN_WEEK, 1735646400, 0), ".2024w52");
    assert_string_equal(name_at(STATS_GEN_DAY, 1709164800, 0), ".20240229");
    /* age: the run time at the start of the current 24 h, 8 digits */
    assert_string_equal(name_at(STATS_GEN_AGE, noon, 0), ".a00000000");
    assert_string_equal(name_at(STATS_GEN_AGE, noon, 86399), ".a00000000");
    assert_string_equal(name_at(STATS_GEN_AGE, noon, 86400), ".a00086400");
    assert_string_equal(name_at(STATS_GEN_AGE, noon, 10 * 86400 + 5), ".a00864000");

    enum stats_gen_type t;
    assert_int_equal(stats_gen_type_parse("week", &t), 0);
    assert_int_equal(t, STATS_GEN_WEEK);
    assert_int_equal(stats_gen_type_parse("age", &t), 0);
    assert_int_equal(t, STATS_GEN_AGE);
    assert_int_equal(stats_gen_type_parse("Day", &t), NTK_EFORMAT);
    assert_int_equal(stats_gen_type_parse("hour", &t), NTK_EFORMAT);
}

/* Every day of 400 years gets one name per type, changing exactly at the boundaries. */
static void filegen_names_property(void **state)
{
    (void)state;
    char prev[5][256] = {{0}};
    const enum stats_gen_type types[5] = {STATS_GEN_DAY, STATS_GEN_WEEK, STATS_GEN_MONTH,
                                          STATS_GEN_YEAR, STATS_GEN_AGE};
    int changes[5] = {0};
    for (int64_t d = 0; d < 146097; d++) {
        int64_t t = 946684800 + d * 86400; /* from 2000-01-01 */
        for (int k = 0; k < 5; k++) {
            char first[256], last[256];
            snprintf(first, sizeof first, "%s", name_at(types[k], t, t - 946684800));
            snprintf(last, sizeof last, "%s", name_at(types[k], t + 86399, t - 946684800));
            assert_string_equal(first, last); /* constant within a UTC day */
            changes[k] += strcmp(first, prev[k]) != 0;
            memcpy(prev[k], first, sizeof first);
        }
    }
    assert_int_equal(changes[0], 146097);   /* days */
    assert_int_equal(changes[1], 400 * 53); /* 52 full weeks + 1-2 days, per year */
    assert_int_equal(changes[2], 400 * 12); /* months */
    assert_int_equal(changes[3], 400);      /* years */
    assert_int_equal(changes[4], 146097);   /* age: one per day of run time */
}

/* ---------------------------------------------------------------------------------------- */
/* Appender                                                                                 */
/* ---------------------------------------------------------------------------------------- */

static char dir[64];

static int make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/ntk_stats_XXXXXX");
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
    if (d) {
        closedir(d);
    }
    return rmdir(dir);
}

static void assert_file_is(const char *path, const char *text)
{
    size_t n = 0;
    char *got = tu_read_file(path, &n);
    assert_non_null(got);
    assert_string_equal(got, text);
    free(got);
}

static void appender_rotates_and_links(void **state)
{
    (void)state;
    char base[128], a[160], b[160], saved[200];
    snprintf(base, sizeof base, "%s/loopstats", dir);
    snprintf(a, sizeof a, "%s.20261126", base);
    snprintf(b, sizeof b, "%s.20261127", base);
    snprintf(saved, sizeof saved, "%s.4242C0", base);
    /* A plain file already at the link name is kept aside, as NTPsec does. */
    FILE *f = fopen(base, "w");
    assert_non_null(f);
    fputs("old\n", f);
    fclose(f);

    mode_t old = umask(022);
    struct stats_gen g;
    assert_int_equal(stats_gen_init(&g, base, STATS_GEN_DAY, true, true), 0);
    struct stats_gen_clock c = {.unix_s = 1795737598, .up_s = 10, .pid = 4242};
    assert_int_equal(stats_gen_append(&g, &c, "1\n", 2, NULL), 0);
    c.unix_s++;
    assert_int_equal(stats_gen_append(&g, &c, "2\n", 2, NULL), 0);
    c.unix_s++; /* midnight: a new element */
    assert_int_equal(stats_gen_append(&g, &c, "3\n", 2, NULL), 0);
    umask(old);
    stats_gen_close(&g);

    assert_file_is(a, "1\n2\n");
    assert_file_is(b, "3\n");
    assert_file_is(saved, "old\n");
    struct stat sb, sl;
    assert_int_equal(stat(b, &sb), 0);
    assert_int_equal(stat(base, &sl), 0);
    assert_true(sb.st_ino == sl.st_ino); /* base is a hard link to the current element */
    assert_int_equal(sb.st_mode & 07777, 0644);
    assert_int_equal(stat(a, &sb), 0);
    assert_int_equal(sb.st_nlink, 1);

    /* Reopening appends (O_APPEND), never truncates. */
    assert_int_equal(stats_gen_init(&g, base, STATS_GEN_DAY, true, true), 0);
    assert_int_equal(stats_gen_append(&g, &c, "4\n", 2, NULL), 0);
    stats_gen_close(&g);
    assert_file_is(b, "3\n4\n");
    assert_file_is(base, "3\n4\n");
}

/* A torn last line (a crash or a full disk in the middle of a write) is ended before the next
 * line, which would otherwise merge with it. */
static void appender_ends_a_torn_line(void **state)
{
    (void)state;
    char base[128], a[160];
    snprintf(base, sizeof base, "%s/peerstats", dir);
    snprintf(a, sizeof a, "%s.20261126", base);
    FILE *f = fopen(a, "w");
    assert_non_null(f);
    fputs("61000 1.5 good\n61000 2.5 tor", f);
    fclose(f);
    struct stats_gen g;
    struct stats_gen_clock c = {.unix_s = 1795737598, .up_s = 10, .pid = 1};
    assert_int_equal(stats_gen_init(&g, base, STATS_GEN_DAY, false, true), 0);
    assert_int_equal(stats_gen_append(&g, &c, "61000 3.5 next\n", 15, NULL), 0);
    assert_int_equal(stats_gen_append(&g, &c, "61000 4.5 after\n", 16, NULL), 0);
    stats_gen_close(&g);
    assert_file_is(a, "61000 1.5 good\n61000 2.5 tor\n61000 3.5 next\n61000 4.5 after\n");
    /* A whole file and an empty one get nothing added. */
    assert_int_equal(stats_gen_init(&g, base, STATS_GEN_DAY, false, true), 0);
    assert_int_equal(stats_gen_append(&g, &c, "x\n", 2, NULL), 0);
    stats_gen_close(&g);
    assert_file_is(a, "61000 1.5 good\n61000 2.5 tor\n61000 3.5 next\n61000 4.5 after\nx\n");
    char e[160];
    snprintf(e, sizeof e, "%s.20261127", base);
    c.unix_s += 86400;
    f = fopen(e, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(stats_gen_init(&g, base, STATS_GEN_DAY, false, true), 0);
    assert_int_equal(stats_gen_append(&g, &c, "y\n", 2, NULL), 0);
    stats_gen_close(&g);
    assert_file_is(e, "y\n");

    /* A write of ours that fails part way (RLIMIT_FSIZE: the kernel writes what fits, then
     * EFBIG) leaves a torn line too; the next line starts on a line of its own. */
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    void (*was)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(stats_gen_init(&g, base, STATS_GEN_DAY, false, true), 0);
    assert_int_equal(stats_gen_append(&g, &c, "z\n", 2, NULL), 0); /* "y\nz\n": 4 bytes */
    lim = old;
    lim.rlim_cur = 7;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc = stats_gen_append(&g, &c, "61000 5.5\n", 10, NULL);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, was);
    assert_int_equal(rc, EFBIG);
    assert_int_equal(stats_gen_append(&g, &c, "61000 6.5\n", 10, NULL), 0);
    stats_gen_close(&g);
    assert_file_is(e, "y\nz\n610\n61000 6.5\n");
}

static void appender_none_disabled_and_errors(void **state)
{
    (void)state;
    char base[128];
    snprintf(base, sizeof base, "%s/peerstats", dir);
    struct stats_gen g;
    struct stats_gen_clock c = {.unix_s = 1795694400, .up_s = 0, .pid = 1};
    assert_int_equal(stats_gen_init(&g, base, STATS_GEN_NONE, true, false), 0);
    assert_int_equal(stats_gen_append(&g, &c, "x\n", 2, NULL), 0);
    assert_int_equal(access(base, F_OK), -1); /* disabled: nothing written */
    g.enabled = true;
    assert_int_equal(stats_gen_append(&g, &c, "x\n", 2, NULL), 0);
    stats_gen_close(&g);
    assert_file_is(base, "x\n");

    assert_int_equal(stats_gen_init(&g, "/var/../etc/passwd", STATS_GEN_DAY, 0, 1),
                     NTK_EFORMAT);
    assert_int_equal(stats_gen_init(&g, "../x", STATS_GEN_DAY, 0, 1), NTK_EFORMAT);
    assert_int_equal(stats_gen_init(&g, "", STATS_GEN_DAY, 0, 1), NTK_EFORMAT);
    assert_int_equal(stats_gen_init(&g, "/var/..x/y", STATS_GEN_DAY, 0, 1), 0);

    char msg[512];
    struct ntk_sb err;
    ntk_sb_init(&err, msg, sizeof msg);
    assert_int_equal(stats_gen_init(&g, "/nonexistent-ntk/dir/loopstats", STATS_GEN_DAY, 0, 1),
                     0);
    assert_int_equal(stats_gen_append(&g, &c, "x\n", 2, &err), ENOENT);
    assert_non_null(strstr(msg, "/nonexistent-ntk/dir/loopstats.20261126: "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(time_fields),
        cmocka_unit_test(ntp_timestamps),
        cmocka_unit_test(golden_peerstats),
        cmocka_unit_test(golden_loopstats),
        cmocka_unit_test(golden_clockstats),
        cmocka_unit_test(golden_rawstats),
        cmocka_unit_test(golden_sysstats),
        cmocka_unit_test(golden_usestats),
        cmocka_unit_test(golden_protostats),
        cmocka_unit_test(overflow_is_reported),
        cmocka_unit_test(filegen_names),
        cmocka_unit_test(filegen_names_property),
        cmocka_unit_test_setup_teardown(appender_rotates_and_links, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(appender_ends_a_torn_line, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(appender_none_disabled_and_errors, make_dir,
                                        remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
