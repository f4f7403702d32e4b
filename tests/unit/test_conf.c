/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for daemon/io/conf*.c: one case per directive (line -> fields), a corpus of
 * malformed lines with their exact column and message, includefile (file, directory, missing,
 * cycle, depth), NTPsec's Debian ntp.conf, the built-in configuration, and a seeded loop of
 * token soup whose diagnostics must all point inside the text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "ntk/sb.h"
#include "ntk/err.h"
#include "testutil.h"

#include "poison.h"

static struct conf C;
static struct conf_diags D;

static void dump_diags(void)
{
    char buf[512];
    for (size_t i = 0; i < D.n; i++) {
        conf_diag_format(&D.d[i], buf, sizeof buf);
        fprintf(stderr, "  %s\n", buf);
    }
}

/* Parses text into the fresh C and asserts it is clean. */
static void parse_ok(const char *text)
{
    conf_free(&C);
    conf_init(&C);
    conf_diags_init(&D);
    int rc = conf_parse_text(&C, "t.conf", text, strlen(text), &D);
    if (rc != NTK_OK || D.n != 0) {
        dump_diags();
    }
    assert_int_equal(rc, NTK_OK);
    assert_int_equal(D.n, 0);
}

static void addr_is(const struct ntk_addr *a, const char *want)
{
    char buf[NTK_ADDRSTR_MAX];
    assert_string_equal(ntk_addr_format(a, buf), want);
}

/* ----- one case per directive --------------------------------------------------------------
 */

static void chk_server(void)
{
    assert_int_equal(C.n_servers, 1);
    const struct conf_server *s = &C.servers[0];
    assert_int_equal(s->kind, CONF_SRV_SERVER);
    addr_is(&s->cfg.addr, "192.0.2.1");
    assert_string_equal(s->cfg.name, "");
    assert_true(s->cfg.iburst && s->cfg.prefer && !s->cfg.burst && !s->cfg.noselect);
    assert_int_equal(s->cfg.minpoll_log2, 4);
    assert_int_equal(s->cfg.maxpoll_log2, 8);
    assert_int_equal(s->cfg.key_id, 5);
    assert_int_equal(s->cfg.version, 3); /* the requests are NTPv3 */
    assert_int_equal(s->line, 1);
}

static void chk_server6(void)
{
    const struct conf_server *s = &C.servers[0];
    assert_int_equal(s->family, 6);
    addr_is(&s->cfg.addr, "[2001:db8::1]:1123");
    assert_true(s->cfg.burst && s->cfg.noselect && s->cfg.true_);
    assert_true(s->cfg.bias_s == -0.25);
    assert_int_equal(s->cfg.minpoll_log2, ENG_MINPOLL_DEFAULT);
}

static void chk_server_nts(void)
{
    const struct conf_server *s = &C.servers[0];
    assert_string_equal(s->cfg.name, "time.example.com");
    assert_int_equal(s->cfg.addr.family, NTK_ADDR_NONE);
    assert_true(s->nts.enabled && s->cfg.nts && s->nts.noval);
    assert_string_equal(s->nts.ca, "/etc/ssl/ca.pem");
    assert_string_equal(s->nts.aead, "AES_SIV_CMAC_512");
    assert_string_equal(s->nts.ask, "192.0.2.9:4461");
    assert_int_equal(s->cfg.nts_ask.family, NTK_ADDR_V4);
    assert_int_equal(s->cfg.nts_ask.port, 4461);
    assert_int_equal(s->nts.expire_s, 0);
    /* NTPsec: with nts, the line's port is the NTS-KE server's; NTP's comes from NTS-KE. */
    assert_int_equal(s->cfg.nts_port, 5460);
    assert_int_equal(s->cfg.addr.port, 0);
}

static void chk_peer_port(void)
{
    const struct conf_server *s = &C.servers[0];
    assert_int_equal(s->kind, CONF_SRV_PEER);
    addr_is(&s->cfg.addr, "198.51.100.7:12345");
    assert_false(s->preempt);
}

static void chk_pool(void)
{
    const struct conf_server *s = &C.servers[0];
    assert_int_equal(s->kind, CONF_SRV_POOL);
    assert_string_equal(s->cfg.name, "0.pool.ntp.org");
    assert_true(s->preempt && s->cfg.iburst);
    assert_int_equal(s->cfg.version, 4);
}

static void chk_restrict_default(void)
{
    assert_int_equal(C.n_rules, 1);
    const struct conf_restrict *r = &C.rules[0];
    assert_true(r->is_default && !r->unrestrict);
    assert_int_equal(r->family, 0);
    assert_int_equal(r->prefix_len, 0);
    assert_int_equal(r->flags,
                     CONF_RES_KOD | CONF_RES_LIMITED | CONF_RES_NOMODIFY | CONF_RES_NOQUERY);
}

static void chk_restrict_mask(void)
{
    const struct conf_restrict *r = &C.rules[0];
    addr_is(&r->addr, "10.0.0.0");
    assert_int_equal(r->prefix_len, 8);
    assert_int_equal(r->flags, CONF_RES_NOSERVE | CONF_RES_VERSION);
}

static void chk_restrict_v6(void)
{
    const struct conf_restrict *r = &C.rules[0];
    addr_is(&r->addr, "2001:db8::");
    assert_int_equal(r->prefix_len, 32);
    assert_int_equal(r->flags, CONF_RES_NOTRUST | CONF_RES_NTPPORT | CONF_RES_FLAKE |
                                   CONF_RES_MSSNTP | CONF_RES_NOMRULIST | CONF_RES_NOEPEER |
                                   CONF_RES_NOPEER | CONF_RES_NOTRAP | CONF_RES_LOWPRIOTRAP |
                                   CONF_RES_IGNORE);
}

static void chk_restrict_host(void)
{
    const struct conf_restrict *r = &C.rules[0];
    addr_is(&r->addr, "127.0.0.1");
    assert_int_equal(r->prefix_len, 32);
    assert_int_equal(r->flags, 0);
}

static void chk_unrestrict(void)
{
    const struct conf_restrict *r = &C.rules[0];
    assert_true(r->unrestrict);
    assert_int_equal(r->family, 6);
    addr_is(&r->addr, "::1");
    assert_int_equal(r->prefix_len, 128);
}

static void chk_restrict_name(void)
{
    assert_string_equal(C.rules[0].name, "ntp.example.org");
    assert_true(C.rules[1].is_source);
    assert_int_equal(C.rules[1].flags, CONF_RES_NOMODIFY);
}

static void chk_discard(void)
{
    assert_int_equal(C.discard.average_log2, 4);
    assert_int_equal(C.discard.minimum_s, 1);
    assert_int_equal(C.discard.monitor, 2000);
    assert_true(C.discard.average_given);
    assert_false(C.limit.given);
}

static void chk_discard_no_average(void)
{
    assert_int_equal(C.discard.average_log2, 3);
    assert_int_equal(C.discard.minimum_s, 4);
    assert_false(C.discard.average_given);
}

static void chk_limit(void)
{
    assert_true(C.limit.average_pps == 2.5 && C.limit.kod_pps == 1.0);
    assert_int_equal(C.limit.burst, 8);
    assert_true(C.limit.given);
}

static void chk_mru(void)
{
    assert_int_equal(C.mru.maxage_s, 600);
    assert_int_equal(C.mru.minage_s, 32);
    assert_int_equal(C.mru.maxdepth, 5000);
    assert_int_equal(C.mru.mindepth, 100);
    assert_int_equal(C.mru.maxmem_kib, 2048);
    assert_int_equal(C.mru.initalloc, 10);
    assert_int_equal(C.mru.initmem_kib, 64);
    assert_int_equal(C.mru.incalloc, 20);
    assert_int_equal(C.mru.incmem_kib, 32);
}

static void chk_tos(void)
{
    assert_int_equal(C.tos.maxclock, 11);
    assert_int_equal(C.tos.minclock, 4);
    assert_int_equal(C.tos.minsane, 3);
    assert_int_equal(C.tos.orphan, 10);
    assert_true(C.tos.orphanwait_s == 60 && C.tos.mindist_s == 0.01 && C.tos.maxdist_s == 2);
    assert_int_equal(C.tos.floor, 2);
    assert_int_equal(C.tos.ceiling, 12);
    assert_true(C.tos_x.cohort && C.tos_x.maxdisp_s == 8);
}

static void chk_tinker(void)
{
    assert_true(C.tinker.step_s == 0.5 && C.tinker.stepout_s == 600);
    assert_true(C.tinker.panic_s == 0 && C.tinker.phi_ppm == 20);
    assert_true(C.tinker_x.allan_s == 1000 && C.tinker_x.huffpuff_s == 900);
    assert_true(C.tinker_x.have_freq && C.tinker_x.freq_ppm == -12.5);
    assert_true(C.tinker_x.stepback_s == 1 && C.tinker_x.stepfwd_s == 2);
}

static void chk_files(void)
{
    assert_string_equal(C.driftfile, "/var/lib/ntpsec/ntp.drift");
    assert_string_equal(C.leapfile, "/usr/share/zone info/leap-seconds.list");
    assert_string_equal(C.statsdir, "/var/log/ntpsec/");
    assert_string_equal(C.logfile, "/var/log/ntpd.log");
    assert_string_equal(C.keys, "/etc/ntpsec/ntp.keys");
    assert_string_equal(C.signd_socket, "/run/signd");
}

static void chk_statistics(void)
{
    assert_int_equal(C.stats_mask, (1u << CONF_STAT_LOOPSTATS) | (1u << CONF_STAT_PEERSTATS) |
                                       (1u << CONF_STAT_USESTATS));
    assert_true(C.filegen[CONF_STAT_LOOPSTATS].enable);
    assert_false(C.filegen[CONF_STAT_RAWSTATS].enable);
}

static void chk_filegen(void)
{
    const struct conf_filegen *f = &C.filegen[CONF_STAT_LOOPSTATS];
    assert_string_equal(f->file, "loops");
    assert_int_equal(f->type, CONF_FG_WEEK);
    assert_false(f->link);
    assert_true(f->enable);
    assert_int_equal(C.filegen[CONF_STAT_PEERSTATS].type, CONF_FG_DAY);
    assert_true(C.filegen[CONF_STAT_PEERSTATS].link);
}

static void chk_logconfig(void)
{
    assert_int_equal(C.n_logcfg, 3);
    assert_int_equal(C.logcfg[0].op, '=');
    assert_string_equal(C.logcfg[0].class, "sync");
    assert_string_equal(C.logcfg[0].what, "all");
    assert_int_equal(C.logcfg[1].op, '+');
    assert_string_equal(C.logcfg[1].class, "clock");
    assert_string_equal(C.logcfg[1].what, "info");
    assert_int_equal(C.logcfg[2].op, '-');
    assert_string_equal(C.logcfg[2].what, "events");
}

/* NTPsec's reading: no prefix is '=' (each such item replaces the mask), a type alone is the
 * sys class, allclock is clockall. */
static void chk_logconfig_ntpsec(void)
{
    assert_int_equal(C.n_logcfg, 4);
    assert_int_equal(C.logcfg[0].op, '=');
    assert_string_equal(C.logcfg[0].class, "sys");
    assert_string_equal(C.logcfg[0].what, "events");
    assert_int_equal(C.logcfg[1].op, '-');
    assert_string_equal(C.logcfg[1].class, "clock");
    assert_string_equal(C.logcfg[1].what, "all");
    assert_int_equal(C.logcfg[2].op, '+');
    assert_string_equal(C.logcfg[2].class, "sys");
    assert_string_equal(C.logcfg[2].what, "info");
    assert_int_equal(C.logcfg[3].op, '=');
    assert_string_equal(C.logcfg[3].class, "sys");
    assert_string_equal(C.logcfg[3].what, "all");
}

static void chk_trustedkey(void)
{
    static const uint32_t yes[] = {1, 2, 5, 6, 9, 10, 20, 21, 22, 65535};
    static const uint32_t no[] = {0, 3, 4, 11, 19, 23, 65534, 65536};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        assert_true(conf_key_trusted(&C, yes[i]));
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        assert_false(conf_key_trusted(&C, no[i]));
    }
}

static void chk_controlkey(void)
{
    assert_int_equal(C.controlkey, 65535);
}

static void chk_interface(void)
{
    assert_int_equal(C.n_nics, 5);
    assert_int_equal(C.nics[0].action, CONF_NIC_LISTEN);
    assert_int_equal(C.nics[0].match, CONF_NIC_NAME);
    assert_string_equal(C.nics[0].name, "eth0");
    assert_int_equal(C.nics[1].action, CONF_NIC_IGNORE);
    assert_int_equal(C.nics[1].match, CONF_NIC_IPV6);
    assert_int_equal(C.nics[2].action, CONF_NIC_DROP);
    assert_int_equal(C.nics[2].match, CONF_NIC_ADDR);
    addr_is(&C.nics[2].addr, "192.0.2.0");
    assert_int_equal(C.nics[2].prefix_len, 24);
    assert_int_equal(C.nics[3].match, CONF_NIC_WILDCARD);
    assert_int_equal(C.nics[4].match, CONF_NIC_ADDR);
    assert_int_equal(C.nics[4].prefix_len, -1);
}

static void chk_setvar(void)
{
    assert_int_equal(C.n_setvars, 2);
    assert_string_equal(C.setvars[0].name, "owner");
    assert_string_equal(C.setvars[0].value, "the lab");
    assert_true(C.setvars[0].dflt);
    assert_string_equal(C.setvars[1].name, "x");
    assert_string_equal(C.setvars[1].value, "1");
    assert_false(C.setvars[1].dflt);
}

static void chk_enable(void)
{
    assert_int_equal(C.sys_flags, CONF_SYS_CALIBRATE | CONF_SYS_NTP | CONF_SYS_STATS);
}

/* `disable monitor` stays off with no `limited` anywhere (a default rule for both families
 * without it); it is undone, with a warning at its line, while the implicit default rule
 * (or any rule) has limited, as NTPsec. */
static void chk_enable_limited(void)
{
    assert_int_equal(C.sys_flags,
                     CONF_SYS_KERNEL | CONF_SYS_MONITOR | CONF_SYS_NTP | CONF_SYS_STATS);
    assert_int_equal(D.d[0].line, 1);
    assert_int_equal(D.d[0].col, 1);
    assert_string_equal(D.d[0].msg, "disable monitor: kept on while a restrict rule (or the "
                                    "implicit default one) has limited, as NTPsec");
}

static void chk_nts(void)
{
    assert_true(C.nts.enable);
    assert_int_equal(C.nts.keport, 5460);
    assert_string_equal(C.nts.key, "/k.pem");
    assert_string_equal(C.nts.cert, "/c.pem");
    assert_string_equal(C.nts.cookie, "/var/lib/ntpsec/nts-keys");
    assert_string_equal(C.nts.mintls, "TLS1.3");
    assert_string_equal(C.nts.ciphers, "TLS_AES_256_GCM_SHA384");
}

static void chk_misc(void)
{
    assert_int_equal(C.leapsmear_s, 86400);
    assert_int_equal(C.rlimit_memlock_mib, 64);
    assert_int_equal(C.rlimit_filenum, 1024);
    assert_int_equal(C.rlimit_stacksize_4k, 0);
}

static void chk_comments(void)
{
    assert_int_equal(C.n_servers, 1);
    assert_int_equal(C.servers[0].line, 3);
    assert_true(C.servers[0].cfg.iburst);
    assert_false(C.servers[0].cfg.prefer);
}

/* Each case: the text, its check, and how many warnings it gives (an option accepted for
 * NTPsec's sake that does nothing here says so). */
static const struct {
    const char *text;
    void (*check)(void);
    size_t warnings;
} directive_cases[] = {
    {"server 192.0.2.1 iburst minpoll 4 maxpoll 8 key 5 prefer version 3", chk_server, 0},
    {"server -6 [2001:db8::1]:1123 burst noselect true bias -0.25", chk_server6, 0},
    {"server time.example.com nts ca /etc/ssl/ca.pem aead AES_SIV_CMAC_512 noval "
     "ask 192.0.2.9:4461 port 5460",
     chk_server_nts, 0},
    {"peer 198.51.100.7 port 12345", chk_peer_port, 0},
    {"pool 0.pool.ntp.org iburst", chk_pool, 0},
    {"restrict default kod limited nomodify noquery", chk_restrict_default, 0},
    {"restrict 10.0.0.0 mask 255.0.0.0 noserve version", chk_restrict_mask, 0},
    {"restrict 2001:db8::/32 notrust ntpport flake mssntp nomrulist noepeer nopeer notrap "
     "lowpriotrap ignore",
     chk_restrict_v6, 5},
    {"restrict 127.0.0.1", chk_restrict_host, 0},
    {"unrestrict -6 ::1", chk_unrestrict, 0},
    {"restrict ntp.example.org\nrestrict source nomodify", chk_restrict_name, 0},
    {"discard average 4 minimum 1 monitor 2000", chk_discard, 1},
    {"discard minimum 4", chk_discard_no_average, 0},
    {"limit average 2.5 burst 8 kod 1", chk_limit, 0},
    {"mru maxage 600 minage 32 maxdepth 5000 mindepth 100 maxmem 2048 initalloc 10 "
     "initmem 64 incalloc 20 incmem 32",
     chk_mru, 0},
    {"tos maxclock 11 minclock 4 minsane 3 orphan 10 orphanwait 60 mindist 0.01\n"
     "tos maxdist 2 floor 2 ceiling 12 cohort 1 maxdisp 8e0",
     chk_tos, 2},
    {"tinker step 0.5 stepout 600 panic 0 dispersion 20 allan 1000 huffpuff 900 freq -12.5 "
     "stepback 1 stepfwd 2",
     chk_tinker, 4},
    {"driftfile /var/lib/ntpsec/ntp.drift\nleapfile \"/usr/share/zone "
     "info/leap-seconds.list\"\n"
     "statsdir /var/log/ntpsec/\nlogfile /var/log/ntpd.log\nkeys /etc/ntpsec/ntp.keys\n"
     "ntpsigndsocket /run/signd",
     chk_files, 1},
    {"statistics loopstats peerstats\nstatistics usestats", chk_statistics, 0},
    {"filegen loopstats file loops type week nolink enable", chk_filegen, 0},
    {"logconfig =syncall +clockinfo -peerevents", chk_logconfig, 0},
    {"logconfig events -allclock +info allsys", chk_logconfig_ntpsec, 0},
    {"trustedkey 1 2 (5 ... 6) ( 9 ... 10 )\ntrustedkey (20 ... 22) 65535", chk_trustedkey, 0},
    {"controlkey 65535", chk_controlkey, 0},
    {"interface listen eth0\nnic ignore ipv6\ninterface drop 192.0.2.0/24\n"
     "interface listen wildcard\nnic listen ::1",
     chk_interface, 0},
    {"setvar owner = \"the lab\" default\nsetvar x=1", chk_setvar, 0},
    {"restrict default kod\nenable calibrate\ndisable kernel monitor", chk_enable, 1},
    {"disable monitor\nrestrict -4 default kod", chk_enable_limited, 1},
    {"nts disable\nnts enable\nnts keport 5460\nnts key /k.pem\nnts cert /c.pem\n"
     "nts cookie /var/lib/ntpsec/nts-keys\n"
     "nts mintls TLS1.3\nnts tlsciphersuites TLS_AES_256_GCM_SHA384",
     chk_nts, 0},
    {"nts enable cert /c.pem key /k.pem cookie /var/lib/ntpsec/nts-keys keport 5460 "
     "mintls TLS1.3 tlsciphersuites TLS_AES_256_GCM_SHA384",
     chk_nts, 0},
    {"leapsmearinterval 86400\nrlimit memlock 64 filenum 1024", chk_misc, 2},
    {"# comment\n\n  server 192.0.2.9\tiburst\v\r # prefer\r\n   # server 1.2.3.4\n",
     chk_comments, 0},
};

static void each_directive(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof directive_cases / sizeof directive_cases[0]; i++) {
        conf_free(&C);
        conf_init(&C);
        conf_diags_init(&D);
        const char *t = directive_cases[i].text;
        int rc = conf_parse_text(&C, "t.conf", t, strlen(t), &D);
        if (rc != NTK_OK || D.warnings != directive_cases[i].warnings) {
            fprintf(stderr, "case %zu:\n", i);
            dump_diags();
        }
        assert_int_equal(rc, NTK_OK);
        assert_int_equal(D.errors, 0);
        assert_int_equal(D.warnings, directive_cases[i].warnings);
        directive_cases[i].check();
    }
    conf_free(&C);
}

/* ----- malformed lines ------------------------------------------------------------------- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 16];
    *len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[*len] = '\0';
    return buf;
}

/* Lines NTPsec 1.2.2 takes that this parser once refused (tests/interop/ntpd_conf_ntpsec.sh
 * found them by running both on one corpus): accepted, applied as NTPsec does, and a warning
 * where the line does nothing here. */
static void ntpsec_compat(void **state)
{
    (void)state;
    conf_free(&C);
    conf_init(&C);
    conf_diags_init(&D);
    static const char text[] =
        "server 192.0.2.1 minpoll 0\n"            /* 1: NTPsec's floor is 0; ours 2 s */
        "server 192.0.2.2 minpoll 10 maxpoll 6\n" /* 2: minpoll lowered to maxpoll */
        "server 192.0.2.3 minpoll 12\n"           /* 3: above the default maxpoll 10 */
        "pool 192.0.2.4\n"                        /* 4: a pool of one address */
        "pool [2001:db8::1]:1123\n"               /* 5 */
        "server ntp.example.org\nunpeer ntp.example.org\n" /* 6, 7 */
        "unpeer 192.0.2.3\n"                               /* 8: a line above */
        "driftfile /d\ndriftfile\n"                        /* 9, 10: bare: no drift file */
        "driftfile /e 2e-7\nnonvolatile 3e-7\n"            /* 11, 12 */
        "pidfile /run/ntpd.pid\ndscp 0\n"                  /* 13, 14 */
        "mdnstries 5\nreset allpeers io\ntick 0.01\nphone atdt1\n" /* 15..18: 3 warnings */
        "tos ceiling 16\n"                                         /* 19: NTPsec caps it */
        "logconfig all\n"                                          /* 20 */
        "server 192.0.2.5 bias 0.25 preempt\n"    /* 21: preempt warned on a server */
        "server 192.0.2.9\nunconfig 192.0.2.9\n"; /* 22, 23 */
    int rc = conf_parse_text(&C, "t.conf", text, sizeof text - 1, &D);
    dump_diags();
    assert_int_equal(rc, NTK_OK);
    assert_int_equal(D.errors, 0);
    static const unsigned warn_lines[] = {1, 2, 3, 15, 17, 18, 19, 21};
    assert_int_equal(D.warnings, sizeof warn_lines / sizeof warn_lines[0]);
    for (size_t i = 0; i < D.n; i++) {
        assert_int_equal(D.d[i].line, warn_lines[i]);
    }
    assert_string_equal(D.d[0].msg, "minpoll 0: a server is polled at most every 2 s (NTPsec, "
                                    "too, sends its requests 2 s apart at least)");
    assert_string_equal(D.d[1].msg, "minpoll 10 is above maxpoll 6: polling every 2^6 s (as "
                                    "NTPsec)");
    assert_string_equal(D.d[2].msg, "minpoll 12 is above maxpoll 10: polling every 2^10 s (as "
                                    "NTPsec); give maxpoll too for longer polls");
    assert_int_equal(C.n_servers, 5);
    const struct conf_server *s = &C.servers[0];
    assert_int_equal(s->cfg.minpoll_log2, ENG_POLL_MIN);
    s = &C.servers[1];
    assert_true(s->cfg.minpoll_log2 == 6 && s->cfg.maxpoll_log2 == 6);
    s = &C.servers[2];
    assert_int_equal(s->kind, CONF_SRV_POOL);
    assert_string_equal(s->cfg.name, "192.0.2.4");
    assert_int_equal(s->cfg.addr.family, NTK_ADDR_NONE);
    s = &C.servers[3];
    assert_string_equal(s->cfg.name, "2001:db8::1");
    assert_int_equal(s->cfg.addr.port, 1123);
    s = &C.servers[4];
    assert_true(s->cfg.bias_s == 0.25 && s->preempt);
    assert_string_equal(C.driftfile, "/e");
    assert_true(C.drift_threshold_ppm > 0.2999 && C.drift_threshold_ppm < 0.3001);
    assert_string_equal(C.pidfile, "/run/ntpd.pid");
    assert_int_equal(C.dscp, 0);
    assert_int_equal(C.tos.ceiling, 15);
    assert_int_equal(C.n_logcfg, 1);
    assert_string_equal(C.logcfg[0].class, "sys");
    assert_string_equal(C.logcfg[0].what, "all");
    /* A bare driftfile after one turns it off; the default DSCP is NTPsec's 46. */
    conf_free(&C);
    conf_init(&C);
    assert_int_equal(C.dscp, CONF_DSCP_DEFAULT);
    conf_diags_init(&D);
    assert_int_equal(conf_parse_text(&C, "t.conf", "driftfile /d\ndriftfile\n", 23, &D),
                     NTK_OK);
    assert_string_equal(C.driftfile, "");
    conf_free(&C);
}

static void bad_lines(void **state)
{
    (void)state;
    size_t len;
    char *all = read_file(NTK_TEST_DATA_DIR "/conf/bad-lines.tsv", &len);
    static char joined[1 << 16];
    size_t jlen = 0, cases = 0;
    char *save = NULL;
    for (char *row = strtok_r(all, "\n", &save); row; row = strtok_r(NULL, "\n", &save)) {
        if (row[0] == '#') {
            continue;
        }
        char *tab1 = strchr(row, '\t');
        assert_non_null(tab1);
        char *tab2 = strchr(tab1 + 1, '\t');
        assert_non_null(tab2);
        *tab1 = *tab2 = '\0';
        const char *input = tab2 + 1;
        conf_init(&C);
        conf_diags_init(&D);
        assert_int_equal(conf_parse_text(&C, "bad.conf", input, strlen(input), &D),
                         NTK_EFORMAT);
        if (D.n != 1 || strcmp(D.d[0].msg, tab1 + 1) != 0 ||
            D.d[0].col != (uint32_t)strtoul(row, NULL, 10)) {
            fprintf(stderr, "input: %s\n", input);
            dump_diags();
        }
        assert_int_equal(D.n, 1);
        assert_int_equal(D.errors, 1);
        assert_int_equal(D.d[0].line, 1);
        assert_int_equal(D.d[0].col, strtoul(row, NULL, 10));
        assert_string_equal(D.d[0].msg, tab1 + 1);
        assert_string_equal(D.d[0].file, "bad.conf");
        assert_int_equal(C.n_servers + C.n_rules, 0); /* a bad line applies nothing */
        conf_free(&C);
        memcpy(joined + jlen, input, strlen(input));
        jlen += strlen(input);
        joined[jlen++] = '\n';
        cases++;
    }
    assert_true(cases >= 80);
    /* All of them in one file: one error per line, each on its own line; parsing goes on. */
    conf_init(&C);
    conf_diags_init(&D);
    assert_int_equal(conf_parse_text(&C, "bad.conf", joined, jlen, &D), NTK_EFORMAT);
    assert_int_equal(D.errors, cases);
    assert_int_equal(D.n, CONF_DIAGS_MAX);
    for (size_t i = 0; i < D.n; i++) {
        assert_int_equal(D.d[i].line, i + 1);
    }
    conf_free(&C);
}

/* The engine's limits are the parser's: 64 server lines and 8 pool lines parse, one more of
 * either is an error at its line (it would only fail at start-up otherwise). */
static void engine_limits(void **state)
{
    (void)state;
    static char text[64 * 32 + 9 * 40];
    struct ntk_sb sb;
    ntk_sb_init(&sb, text, sizeof text);
    for (int i = 0; i < 64; i++)
        ntk_sb_printf(&sb, "server 192.0.2.%d\n", i + 1);
    for (int i = 0; i < 8; i++)
        ntk_sb_printf(&sb, "pool p%d.example.org\n", i);
    parse_ok(ntk_sb_str(&sb));
    assert_int_equal(C.n_servers, 72);
    for (int extra = 0; extra < 2; extra++) {
        char more[4096];
        struct ntk_sb m;
        ntk_sb_init(&m, more, sizeof more);
        ntk_sb_printf(&m, "%s%s", ntk_sb_str(&sb),
                      extra == 0 ? "server 198.51.100.1\n" : "pool p8.example.org\n");
        conf_free(&C);
        conf_init(&C);
        conf_diags_init(&D);
        assert_int_equal(conf_parse_text(&C, "n.conf", more, strlen(more), &D), NTK_EFORMAT);
        assert_int_equal(D.n, 1);
        assert_int_equal(D.d[0].line, 73);
        assert_string_equal(D.d[0].msg, extra == 0 ? "more than 64 server and peer lines"
                                                   : "more than 8 pool lines");
    }
    conf_free(&C);
    conf_init(&C);
}

static void long_line_and_nul(void **state)
{
    (void)state;
    static char text[3000];
    memset(text, 'x', 2000);
    memcpy(text + 2000, "\nserver 192.0.2.1\nserver\0bad\nfoo", 32);
    conf_init(&C);
    conf_diags_init(&D);
    assert_int_equal(conf_parse_text(&C, "l.conf", text, 2032, &D), NTK_EFORMAT);
    assert_int_equal(D.n, 3);
    assert_int_equal(D.d[0].line, 1);
    assert_int_equal(D.d[0].col, 1);
    assert_string_equal(D.d[0].msg, "line longer than 1024 bytes");
    assert_int_equal(D.d[1].line, 3);
    assert_int_equal(D.d[1].col, 7);
    assert_string_equal(D.d[1].msg, "NUL byte in the line");
    assert_int_equal(D.d[2].line, 4);
    assert_string_equal(D.d[2].msg, "unknown directive 'foo'");
    assert_int_equal(C.n_servers, 1);
    conf_free(&C);
}

static void long_token(void **state)
{
    (void)state;
    static char text[700];
    memcpy(text, "server ", 7);
    memset(text + 7, 'a', 600);
    conf_init(&C);
    conf_diags_init(&D);
    assert_int_equal(conf_parse_text(&C, "t", text, 607, &D), NTK_EFORMAT);
    assert_int_equal(D.n, 1);
    assert_int_equal(D.d[0].col, 8);
    assert_string_equal(D.d[0].msg, "token longer than 511 bytes");
    /* 253 bytes is the longest host name, 254 is refused. */
    memset(text + 7, 'a', 254);
    conf_diags_init(&D);
    assert_int_equal(conf_parse_text(&C, "t", text, 7 + 253, &D), NTK_OK);
    assert_int_equal(strlen(C.servers[0].cfg.name), 253);
    assert_int_equal(conf_parse_text(&C, "t", text, 7 + 254, &D), NTK_EFORMAT);
    assert_int_equal(C.n_servers, 1);
    conf_free(&C);
}

static void diag_format_and_overflow(void **state)
{
    (void)state;
    conf_init(&C);
    conf_diags_init(&D);
    static char text[100 * 8];
    size_t n = 0;
    for (int i = 0; i < 100; i++) {
        memcpy(text + n, "bogus 1\n", 8);
        n += 8;
    }
    assert_int_equal(conf_parse_text(&C, "/etc/ntp.conf", text, n, &D), NTK_EFORMAT);
    assert_int_equal(D.errors, 100);
    assert_int_equal(D.n, CONF_DIAGS_MAX);
    char buf[128];
    size_t len = conf_diag_format(&D.d[63], buf, sizeof buf);
    assert_string_equal(buf, "/etc/ntp.conf:64:1: error: unknown directive 'bogus'");
    assert_int_equal(len, strlen(buf));
    char small[12];
    conf_diag_format(&D.d[0], small, sizeof small);
    assert_string_equal(small, "/etc/ntp.co");
    conf_free(&C);
}

/* ----- files and includes ---------------------------------------------------------------- */

static char tmpdir[64];

static void put(const char *rel, const char *text)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int parse_path(const char *rel)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
    conf_free(&C);
    conf_init(&C);
    conf_diags_init(&D);
    return conf_parse_file(&C, p, &D);
}

static void make_tree(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_conf.XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    char p[256];
    snprintf(p, sizeof p, "%s/ntp.d", tmpdir);
    assert_int_equal(mkdir(p, 0700), 0);
    put("main.conf",
        "server 192.0.2.1\nincludefile sub.conf\nincludefile ntp.d\nserver 192.0.2.9\n");
    put("sub.conf", "server 192.0.2.2\n");
    put("ntp.d/20-b.conf", "server 192.0.2.4\n");
    put("ntp.d/10-a.conf", "server 192.0.2.3\n");
    put("ntp.d/notes.txt", "this is not parsed\n");
    put("ntp.d/.hidden.conf", "garbage\n");
    put("missing.conf", "includefile nope.conf\nserver 192.0.2.1\n");
    put("cyc-a.conf", "includefile cyc-b.conf\n");
    put("cyc-b.conf", "server 192.0.2.5\nincludefile \"cyc-a.conf\"\n");
    for (int i = 0; i < 7; i++) {
        char name[32], text[64];
        snprintf(name, sizeof name, "deep%d.conf", i);
        snprintf(text, sizeof text, "server 192.0.2.%d\nincludefile deep%d.conf\n", 10 + i,
                 i + 1);
        put(name, text);
    }
    put("bad-in-sub.conf", "includefile sub-bad.conf\nbogus\n");
    put("sub-bad.conf", "\n\nserver 192.0.2.1 frob\n");
}

static void rm_tree(void)
{
    static const char *const files[] = {
        "main.conf",       "sub.conf",           "ntp.d/20-b.conf", "ntp.d/10-a.conf",
        "ntp.d/notes.txt", "ntp.d/.hidden.conf", "missing.conf",    "cyc-a.conf",
        "cyc-b.conf",      "bad-in-sub.conf",    "sub-bad.conf",
    };
    char p[256];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", tmpdir, files[i]);
        unlink(p);
    }
    for (int i = 0; i < 7; i++) {
        snprintf(p, sizeof p, "%s/deep%d.conf", tmpdir, i);
        unlink(p);
    }
    snprintf(p, sizeof p, "%s/ntp.d", tmpdir);
    rmdir(p);
    rmdir(tmpdir);
}

static void includes(void **state)
{
    (void)state;
    make_tree();
    char buf[NTK_ADDRSTR_MAX];

    /* File and directory, in order; the directory's *.conf files by name, others skipped. */
    assert_int_equal(parse_path("main.conf"), NTK_OK);
    assert_int_equal(C.n_servers, 5);
    static const char *const order[] = {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4",
                                        "192.0.2.9"};
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(ntk_addr_format(&C.servers[i].cfg.addr, buf), order[i]);
    }

    /* A missing file: reported at the include's argument, the rest is parsed. */
    assert_int_equal(parse_path("missing.conf"), NTK_EFORMAT);
    assert_int_equal(D.n, 1);
    assert_int_equal(D.d[0].line, 1);
    assert_int_equal(D.d[0].col, 13);
    assert_non_null(strstr(D.d[0].msg, "includefile: cannot open '"));
    assert_non_null(strstr(D.d[0].msg, "/nope.conf': No such file or directory"));
    assert_int_equal(C.n_servers, 1);

    /* A cycle: a -> b -> a is refused in b, at the quoted name. */
    assert_int_equal(parse_path("cyc-a.conf"), NTK_EFORMAT);
    assert_int_equal(D.n, 1);
    assert_non_null(strstr(D.d[0].file, "cyc-b.conf"));
    assert_int_equal(D.d[0].line, 2);
    assert_int_equal(D.d[0].col, 13);
    assert_non_null(strstr(D.d[0].msg, "is already being read (an include cycle)"));
    assert_int_equal(C.n_servers, 1);

    /* Depth: deep0 is level 0; deep5 is the fifth include; deep5's include is refused. */
    assert_int_equal(parse_path("deep0.conf"), NTK_EFORMAT);
    assert_int_equal(D.n, 1);
    assert_non_null(strstr(D.d[0].file, "deep5.conf"));
    assert_string_equal(D.d[0].msg, "includefile: nested more than 5 levels deep");
    assert_int_equal(C.n_servers, 6);

    /* An error inside an included file names that file and its line. */
    assert_int_equal(parse_path("bad-in-sub.conf"), NTK_EFORMAT);
    assert_int_equal(D.n, 2);
    assert_non_null(strstr(D.d[0].file, "/sub-bad.conf"));
    assert_int_equal(D.d[0].line, 3);
    assert_int_equal(D.d[0].col, 18);
    assert_non_null(strstr(D.d[1].file, "/bad-in-sub.conf"));
    assert_int_equal(D.d[1].line, 2);

    /* The top file itself missing. */
    assert_int_equal(parse_path("absent.conf"), NTK_ENOTFOUND);
    assert_int_equal(D.n, 1);
    assert_int_equal(D.d[0].line, 0);

    /* A directory as the top file. */
    assert_int_equal(parse_path("ntp.d"), NTK_ENOTFOUND);
    assert_string_equal(D.d[0].msg, "cannot read: not a regular file");
    conf_free(&C);
    rm_tree();
}

static int text_include(void *ctx, struct conf *c, const char *path, struct conf_diags *d)
{
    int *calls = ctx;
    (*calls)++;
    if (strcmp(path, "extra.conf") != 0) {
        return NTK_ENOTFOUND;
    }
    static const char extra[] = "server 192.0.2.77\n";
    return conf_parse_text(c, path, extra, sizeof extra - 1, d);
}

static void include_callback(void **state)
{
    (void)state;
    static const char text[] = "includefile extra.conf\nincludefile other.conf\n";
    conf_init(&C);
    conf_diags_init(&D);
    assert_int_equal(conf_parse_text(&C, "t", text, sizeof text - 1, &D), NTK_EFORMAT);
    assert_int_equal(D.n, 2);
    assert_string_equal(D.d[0].msg, "includefile: not allowed here");
    int calls = 0;
    C.include_fn = text_include;
    C.include_ctx = &calls;
    conf_diags_init(&D);
    assert_int_equal(conf_parse_text(&C, "t", text, sizeof text - 1, &D), NTK_EFORMAT);
    assert_int_equal(calls, 2);
    assert_int_equal(D.n, 1);
    assert_int_equal(D.d[0].line, 2);
    assert_int_equal(D.d[0].col, 13);
    assert_string_equal(D.d[0].msg, "includefile: 'other.conf' failed");
    assert_int_equal(C.n_servers, 1);
    assert_int_equal(C.servers[0].cfg.addr.ip[3], 77);
    C.include_fn = NULL;
    conf_free(&C);
}

static void ntpsec_debian(void **state)
{
    (void)state;
    conf_free(&C);
    conf_init(&C);
    conf_diags_init(&D);
    int rc = conf_parse_file(&C, NTK_TEST_DATA_DIR "/conf/ntpsec-debian.conf", &D);
    dump_diags();
    assert_int_equal(rc, NTK_OK);
    /* NTPsec 1.2.2 logs the same about its own file: "restrict nopeer ignored". */
    assert_int_equal(D.n, 1);
    assert_int_equal(D.d[0].sev, CONF_SEV_WARNING);
    assert_string_equal(D.d[0].msg, "restrict nopeer ignored (no peer mode, no traps)");
    assert_string_equal(C.driftfile, "/var/lib/ntpsec/ntp.drift");
    assert_string_equal(C.leapfile, "/usr/share/zoneinfo/leap-seconds.list");
    assert_int_equal(C.tos.maxclock, 11);
    assert_int_equal(C.tos.minclock, 4);
    assert_int_equal(C.tos.minsane, 3);
    assert_int_equal(C.n_servers, 4);
    for (size_t i = 0; i < 4; i++) {
        char want[32];
        snprintf(want, sizeof want, "%zu.debian.pool.ntp.org", i);
        assert_int_equal(C.servers[i].kind, CONF_SRV_POOL);
        assert_string_equal(C.servers[i].cfg.name, want);
        assert_true(C.servers[i].cfg.iburst);
    }
    assert_int_equal(C.n_rules, 3);
    assert_int_equal(C.rules[0].flags, CONF_RES_KOD | CONF_RES_NOMODIFY | CONF_RES_NOPEER |
                                           CONF_RES_NOQUERY | CONF_RES_LIMITED);
    assert_int_equal(C.stats_mask, 0);

    /* The file with every directive parses clean too. */
    conf_free(&C);
    conf_init(&C);
    conf_diags_init(&D);
    rc = conf_parse_file(&C, NTK_TEST_DATA_DIR "/conf/full.conf", &D);
    dump_diags();
    assert_int_equal(rc, NTK_OK);
    assert_int_equal(C.n_servers, 5);
    assert_int_equal(C.n_rules, 7);
    assert_int_equal(C.n_nics, 4);
    conf_free(&C);
}

static void builtin_default(void **state)
{
    (void)state;
    assert_int_equal(conf_default(&C), NTK_OK);
    assert_int_equal(C.n_servers, 1);
    assert_int_equal(C.servers[0].kind, CONF_SRV_POOL);
    assert_string_equal(C.servers[0].cfg.name, "2.debian.pool.ntp.org");
    assert_true(C.servers[0].cfg.iburst);
    assert_int_equal(C.n_rules, 3);
    assert_true(C.rules[0].is_default);
    assert_int_equal(C.rules[0].flags,
                     CONF_RES_KOD | CONF_RES_LIMITED | CONF_RES_NOMODIFY | CONF_RES_NOQUERY);
    char buf[NTK_ADDRSTR_MAX];
    assert_string_equal(ntk_addr_format(&C.rules[1].addr, buf), "127.0.0.1");
    assert_int_equal(C.rules[1].flags, 0);
    assert_string_equal(ntk_addr_format(&C.rules[2].addr, buf), "::1");
    assert_int_equal(C.rules[2].flags, 0);
    /* NTPsec's defaults for everything else. */
    assert_int_equal(C.tos.minclock, 3);
    assert_int_equal(C.tos.maxclock, 10);
    assert_true(C.tinker.step_s == 0.128 && C.tinker.panic_s == 1000);
    assert_int_equal(C.discard.average_log2, 3);
    assert_int_equal(C.sys_flags,
                     CONF_SYS_KERNEL | CONF_SYS_MONITOR | CONF_SYS_NTP | CONF_SYS_STATS);
    assert_string_equal(C.driftfile, "");
    conf_free(&C);
    assert_int_equal(C.n_servers, 0);
    assert_null(C.servers);
}

/* ----- property: token soup ---------------------------------------------------------------
 */

static const char *const vocab[] = {
    "server",    "pool",       "peer",
    "restrict",  "unrestrict", "tos",
    "tinker",    "mru",        "discard",
    "limit",     "trustedkey", "(",
    ")",         "...",        "(1",
    "3)",        "interface",  "nic",
    "setvar",    "=",          "default",
    "mask",      "-4",         "-6",
    "192.0.2.1", "::1",        "10.0.0.0/8",
    "255.0.0.0", "iburst",     "minpoll",
    "maxpoll",   "17",         "0",
    "-1",        "1e308",      "0.5",
    "\"",        "\"a b\"",    "#",
    "nts",       "key",        "includefile",
    "filegen",   "type",       "statistics",
    "loopstats", "enable",     "disable",
    "logconfig", "=syncall",   "kod",
    "limited",   "noquery",    "listen",
    "eth0",      "all",        "host.example",
    "65535",     "65536",      "driftfile",
    "\t",        " ",          "\r",
};

static void token_soup(void **state)
{
    (void)state;
    tu_seed();
    static char text[4096];
    for (int iter = 0; iter < 3000; iter++) {
        size_t n = 0;
        uint32_t lines = 1;
        int count = (int)(tu_rand() % 60);
        for (int i = 0; i < count && n < sizeof text - 64; i++) {
            uint64_t r = tu_rand();
            if (r % 9 == 0) {
                text[n++] = '\n';
                lines++;
            } else if (r % 23 == 1) {
                text[n++] = (char)(tu_rand() & 0xff);
                lines += text[n - 1] == '\n';
            } else {
                const char *w = vocab[(r >> 8) % (sizeof vocab / sizeof vocab[0])];
                memcpy(text + n, w, strlen(w));
                n += strlen(w);
                text[n++] = ' ';
            }
        }
        conf_init(&C);
        conf_diags_init(&D);
        int rc = conf_parse_text(&C, "soup", text, n, &D);
        assert_true(rc == NTK_OK || rc == NTK_EFORMAT);
        assert_int_equal(rc == NTK_OK, D.errors == 0);
        for (size_t i = 0; i < D.n; i++) {
            assert_true(D.d[i].line >= 1 && D.d[i].line <= lines);
            /* the column is inside its line, or just after its end */
            size_t start = 0;
            for (uint32_t l = 1; l < D.d[i].line; l++) {
                start =
                    (size_t)((const char *)memchr(text + start, '\n', n - start) - text) + 1;
            }
            const char *nl = memchr(text + start, '\n', n - start);
            size_t llen = (nl ? (size_t)(nl - text) : n) - start;
            assert_true(D.d[i].col >= 1 && D.d[i].col <= llen + 1);
            assert_true(D.d[i].msg[0] != '\0');
        }
        for (size_t i = 0; i < C.n_servers; i++) {
            const struct conf_server *s = &C.servers[i];
            assert_true(s->cfg.minpoll_log2 <= s->cfg.maxpoll_log2);
            assert_true(s->cfg.addr.family != NTK_ADDR_NONE || s->cfg.name[0] != '\0');
        }
        conf_free(&C);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_directive),
        cmocka_unit_test(ntpsec_compat),
        cmocka_unit_test(bad_lines),
        cmocka_unit_test(engine_limits),
        cmocka_unit_test(long_line_and_nul),
        cmocka_unit_test(long_token),
        cmocka_unit_test(diag_format_and_overflow),
        cmocka_unit_test(includes),
        cmocka_unit_test(include_callback),
        cmocka_unit_test(ntpsec_debian),
        cmocka_unit_test(builtin_default),
        cmocka_unit_test(token_soup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
