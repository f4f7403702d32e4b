/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for daemon/io/log.c and dfiles_setup_log: NTPsec's logconfig keywords and the
 * =/+/- order, class filtering of lines, reopening a renamed log file (logrotate), and the
 * `logfile` directive against -l. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "daemon_internal.h"
#include "log.h"
#include "testutil.h"

#include "poison.h"

/* ---- helpers ---- */

static char dir[256];

static int make_dir(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/ntk-test-log.XXXXXX";
    if (mkdtemp(tmpl) == NULL)
        return -1;
    memcpy(dir, tmpl, sizeof tmpl);
    return 0;
}

static int remove_dir(void **state)
{
    (void)state;
    (void)log_to(LOG_SINK_STDERR, NULL);
    log_set_mask(LOG_MASK_ALL);
    DIR *dp = opendir(dir);
    struct dirent *e;
    char p[600];
    while (dp != NULL && (e = readdir(dp)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    }
    if (dp != NULL)
        closedir(dp);
    return rmdir(dir);
}

static const char *in_dir(const char *name)
{
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

/* The whole file (empty when missing). */
static const char *slurp(const char *path)
{
    static char buf[8192];
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return buf;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* ---- logconfig keywords ---- */

static void keywords(void **state)
{
    (void)state;
    static const struct {
        const char *word;
        uint32_t bits;
    } t[] = {
        {"sysinfo", 0x0001},
        {"sysevents", 0x0002},
        {"sysstatus", 0x0004},
        {"sysstatistics", 0x0008},
        {"sysall", 0x000f},
        {"peerinfo", 0x0010},
        {"peerevents", 0x0020},
        {"peerall", 0x00f0},
        {"clockinfo", 0x0100},
        {"clockstatus", 0x0400},
        {"clockall", 0x0f00},
        {"syncinfo", 0x1000},
        {"syncevents", 0x2000},
        {"syncstatus", 0x4000},
        {"syncstatistics", 0x8000},
        {"syncall", 0xf000},
        {"allinfo", 0x1111},
        {"allevents", 0x2222},
        {"allstatus", 0x4444},
        {"allstatistics", 0x8888},
        {"allall", 0xffff},
        {"", 0},
        {"sync", 0},
        {"all", 0},
        {"syncal", 0},
        {"syncalll", 0},
        {"Syncall", 0},
        {"infosync", 0},
        {"clock info", 0},
        {"peerevent", 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (log_mask_word(t[i].word) != t[i].bits)
            fail_msg("'%s': %#x, want %#x", t[i].word, log_mask_word(t[i].word), t[i].bits);
    }
    assert_int_equal(log_mask_word(NULL), 0);
    /* The macro and the keywords agree. */
    assert_int_equal(LOG_BIT(SYNC, STATUS), log_mask_word("syncstatus"));
    assert_int_equal(LOG_BIT(PEER, EVENT), log_mask_word("peerevents"));
    assert_int_equal(LOG_BIT(CLOCK, STATS), log_mask_word("clockstatistics"));
    assert_int_equal(LOG_BIT(SYS, INFO), log_mask_word("sysinfo"));
}

/* A logconfig line as items "=syncall", "+clockinfo", "-peerall" (no prefix means '+'). */
static uint32_t apply_line(uint32_t mask, const char *line)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", line);
    for (char *p = buf; *p != '\0';) {
        char *end = strchr(p, ' ');
        if (end != NULL)
            *end = '\0';
        char op = *p == '=' || *p == '+' || *p == '-' ? *p++ : '+';
        mask = log_mask_apply(mask, op, p);
        if (end == NULL)
            break;
        p = end + 1;
    }
    return mask;
}

static void items_in_order(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        uint32_t mask;
    } t[] = {
        /* NTPsec's two documented examples. */
        {"=syncstatus +sysevents", 0x4002},
        {"=syncall +clockall", 0xff00},
        /* '=' replaces what came before; '+' and '-' change it. */
        {"+clockinfo =syncevents", 0x2000},
        {"=syncevents +clockinfo", 0x2100},
        {"-peerall", 0xff0f},
        {"-allall", 0x0000},
        {"-allall +peerevents", 0x0020},
        {"=allall -syncinfo", 0xefff},
        {"=allevents -sysevents", 0x2220},
        {"=sysall -sysall +sysall", 0x000f},
        {"syncall", 0xffff}, /* no prefix: '+', the default already has it */
        {"=syncall -syncstatus +syncstatus", 0xf000},
        /* A word that is not a keyword changes nothing (the parser refused it already). */
        {"=bogus", 0xffff},
        {"=syncall =bogus", 0xf000},
        {"=syncall +sync", 0xf000},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        uint32_t got = apply_line(LOG_MASK_ALL, t[i].line);
        if (got != t[i].mask)
            fail_msg("logconfig %s: %#x, want %#x", t[i].line, got, t[i].mask);
    }
    assert_int_equal(log_mask_apply(0x1234, '*', "syncall"), 0x1234);
}

/* Property: any sequence of items agrees with a per-bit model of NTPsec's rules. */
static void items_property(void **state)
{
    (void)state;
    static const char *const classes[] = {"all", "sys", "peer", "clock", "sync"};
    static const char *const types[] = {"all", "info", "events", "status", "statistics"};
    static const char ops[] = "=+-";
    tu_seed();
    for (int round = 0; round < 2000; round++) {
        uint32_t mask = LOG_MASK_ALL;
        bool model[4][4];
        for (int c = 0; c < 4; c++)
            for (int t = 0; t < 4; t++)
                model[c][t] = true;
        int n = (int)(tu_rand() % 6) + 1;
        for (int k = 0; k < n; k++) {
            int ci = (int)(tu_rand() % 5), ti = (int)(tu_rand() % 5);
            char op = ops[tu_rand() % 3];
            char word[32];
            snprintf(word, sizeof word, "%s%s", classes[ci], types[ti]);
            mask = log_mask_apply(mask, op, word);
            for (int c = 0; c < 4; c++) {
                for (int t = 0; t < 4; t++) {
                    bool hit = (ci == 0 || ci - 1 == c) && (ti == 0 || ti - 1 == t);
                    if (op == '=')
                        model[c][t] = hit;
                    else if (hit)
                        model[c][t] = op == '+';
                }
            }
        }
        for (int c = 0; c < 4; c++)
            for (int t = 0; t < 4; t++)
                assert_int_equal((mask >> (4 * c + t)) & 1u, model[c][t] ? 1u : 0u);
    }
}

/* ---- filtering ---- */

static void class_filtering(void **state)
{
    (void)state;
    const char *path = in_dir("filter.log");
    assert_int_equal(log_to(LOG_SINK_FILE, path), 0);
    log_set_mask(apply_line(LOG_MASK_ALL, "=syncstatus +sysevents"));
    assert_true(log_class_on(LOG_BIT(SYNC, STATUS)));
    assert_false(log_class_on(LOG_BIT(PEER, EVENT)));
    assert_true(log_class_on(LOG_BIT(PEER, EVENT) | LOG_BIT(SYS, EVENT))); /* any bit */
    log_class(LOG_BIT(SYNC, STATUS), LOG_INFO, "line %d sync status", 1);
    log_class(LOG_BIT(PEER, EVENT), LOG_INFO, "line %d peer event", 2);
    log_class(LOG_BIT(CLOCK, EVENT) | LOG_BIT(SYS, EVENT), LOG_NOTICE, "line %d step", 3);
    log_class(LOG_BIT(CLOCK, EVENT), LOG_WARNING, "line %d clock warning", 4);
    log_class(LOG_BIT(CLOCK, EVENT), LOG_ERR, "line %d clock error", 5); /* never filtered */
    log_msg(LOG_INFO, "line %d unclassified", 6);
    log_set_mask(0);
    log_class(LOG_BIT(SYNC, STATUS), LOG_INFO, "line %d all off", 7);
    log_msg(LOG_INFO, "line %d unclassified", 8);
    log_set_level(LOG_WARNING);
    log_class(LOG_MASK_ALL, LOG_INFO, "line %d below the level", 9);
    log_set_level(LOG_INFO);
    log_set_mask(LOG_MASK_ALL);
    const char *text = slurp(path);
    assert_int_equal(count(text, "\n"), 5);
    assert_int_equal(count(text, "line 1 sync status\n"), 1);
    assert_int_equal(count(text, "line 2"), 0);
    assert_int_equal(count(text, "line 3 step\n"), 1);
    assert_int_equal(count(text, "line 4"), 0);
    assert_int_equal(count(text, "line 5 clock error\n"), 1);
    assert_int_equal(count(text, "line 6 unclassified\n"), 1);
    assert_int_equal(count(text, "line 7"), 0);
    assert_int_equal(count(text, "line 8 unclassified\n"), 1);
    assert_int_equal(count(text, "line 9"), 0);
    /* Lines carry an ISO 8601 UTC stamp in a file. */
    assert_int_equal(text[4], '-');
    assert_non_null(strstr(text, "Z line 1 sync status"));
}

/* ---- reopening ---- */

static void reopen_after_rename(void **state)
{
    (void)state;
    const char *path = in_dir("ntpd.log");
    const char *old = in_dir("ntpd.log.1");
    assert_int_equal(log_to(LOG_SINK_FILE, path), 0);
    assert_int_equal(log_sink_now(), LOG_SINK_FILE);
    assert_string_equal(log_file_path(), path);
    log_msg(LOG_INFO, "before the rename");
    assert_int_equal(rename(path, old), 0);
    log_msg(LOG_INFO, "after the rename");
    assert_int_equal(log_reopen(), 0);
    log_msg(LOG_INFO, "after the reopen");
    const char *text = slurp(old);
    assert_int_equal(count(text, "before the rename\n"), 1);
    assert_int_equal(count(text, "after the rename\n"), 1);
    assert_int_equal(count(text, "after the reopen"), 0);
    text = slurp(path);
    assert_int_equal(count(text, "\n"), 1);
    assert_int_equal(count(text, "after the reopen\n"), 1);
    /* Reopening twice without a rename appends to the same file. */
    assert_int_equal(log_reopen(), 0);
    log_msg(LOG_INFO, "again");
    assert_int_equal(count(slurp(path), "\n"), 2);
    /* A directory that went away: the old file stays in use. */
    const char *sub = in_dir("gone");
    assert_int_equal(mkdir(sub, 0755), 0);
    char in_sub[600];
    snprintf(in_sub, sizeof in_sub, "%s/x.log", sub);
    assert_int_equal(log_to(LOG_SINK_FILE, in_sub), 0);
    assert_int_equal(unlink(in_sub), 0);
    assert_int_equal(rmdir(sub), 0);
    assert_true(log_reopen() < 0);
    assert_int_equal(log_sink_now(), LOG_SINK_FILE);
    log_msg(LOG_INFO, "still somewhere"); /* to the unlinked file, no crash */
}

static void relative_path_and_names(void **state)
{
    (void)state;
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    assert_int_equal(log_to_name("rel.log"), 0);
    assert_int_equal(chdir("/"), 0);
    assert_string_equal(log_file_path(), in_dir("rel.log")); /* absolute */
    assert_int_equal(rename(in_dir("rel.log"), in_dir("rel.log.1")), 0);
    assert_int_equal(log_reopen(), 0); /* found again after the chdir */
    log_msg(LOG_INFO, "relative");
    assert_int_equal(count(slurp(in_dir("rel.log")), "relative\n"), 1);
    assert_int_equal(chdir(cwd), 0);
    /* NTPsec's special names. */
    assert_int_equal(log_to_name("stderr"), 0);
    assert_int_equal(log_sink_now(), LOG_SINK_STDERR);
    assert_string_equal(log_file_path(), "");
    assert_int_equal(log_to_name("stdout"), 0);
    assert_int_equal(log_sink_now(), LOG_SINK_FILE);
    assert_string_equal(log_file_path(), "stdout");
    assert_int_equal(log_reopen(), 0);
    /* A file that cannot be opened leaves the sink as it was. */
    assert_true(log_to_name("/nonexistent-dir/x.log") < 0);
    assert_string_equal(log_file_path(), "stdout");
    assert_int_equal(log_to(LOG_SINK_STDERR, NULL), 0);
}

/* ---- the directive against -l ---- */

static struct ntpd d;

static void setup_from(const char *text, const char *opt_logfile)
{
    memset(&d, 0, sizeof d);
    conf_init(&d.conf);
    static struct conf_diags g;
    conf_diags_init(&g);
    assert_int_equal(conf_parse_text(&d.conf, "test.conf", text, strlen(text), &g), 0);
    d.opts.logfile = opt_logfile;
    dfiles_setup_log(&d);
    conf_free(&d.conf);
}

static void logfile_directive(void **state)
{
    (void)state;
    char text[1024];
    /* `logfile` alone: lines go to it; logconfig applied. */
    assert_int_equal(log_to(LOG_SINK_STDERR, NULL), 0);
    snprintf(text, sizeof text, "logfile %s\nlogconfig =syncstatus +sysevents\n",
             in_dir("conf.log"));
    setup_from(text, NULL);
    assert_int_equal(log_sink_now(), LOG_SINK_FILE);
    assert_string_equal(log_file_path(), in_dir("conf.log"));
    assert_int_equal(log_mask(), 0x4002);
    log_msg(LOG_INFO, "to the directive's file");
    assert_int_equal(count(slurp(in_dir("conf.log")), "to the directive's file\n"), 1);
    /* Going into the background (main.c switches to syslog unless -l) keeps `logfile`. */
    assert_int_equal(log_to(LOG_SINK_SYSLOG, NULL), 0);
    assert_int_equal(log_sink_now(), LOG_SINK_FILE);
    assert_string_equal(log_file_path(), in_dir("conf.log"));
    /* -l given (main.c opened it): the directive is not applied. */
    assert_int_equal(log_to(LOG_SINK_FILE, in_dir("opt.log")), 0);
    setup_from(text, in_dir("opt.log"));
    assert_string_equal(log_file_path(), in_dir("opt.log"));
    assert_int_equal(log_mask(), 0x4002); /* logconfig still is */
    log_msg(LOG_INFO, "to -l's file");
    assert_int_equal(count(slurp(in_dir("opt.log")), "to -l's file\n"), 1);
    assert_int_equal(count(slurp(in_dir("conf.log")), "to -l's file"), 0);
    /* No logconfig: NTPsec's default, everything on; no logfile: the sink stays. */
    setup_from("logconfig -peerall\n", NULL);
    assert_int_equal(log_mask(), 0xff0f);
    setup_from("server 192.0.2.1\n", NULL);
    assert_int_equal(log_mask(), LOG_MASK_ALL);
    assert_string_equal(log_file_path(), in_dir("opt.log"));
    /* A logfile that cannot be opened: reported, the lines stay where they went. */
    setup_from("logfile /nonexistent-dir/ntpd.log\n", NULL);
    assert_string_equal(log_file_path(), in_dir("opt.log"));
    assert_int_equal(count(slurp(in_dir("opt.log")), "logfile /nonexistent-dir/ntpd.log: "),
                     1);
    /* "stderr" as NTPsec's special name. */
    setup_from("logfile stderr\n", NULL);
    assert_int_equal(log_sink_now(), LOG_SINK_STDERR);
    assert_int_equal(count(slurp(in_dir("opt.log")), "switching log to file stderr\n"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keywords),
        cmocka_unit_test(items_in_order),
        cmocka_unit_test(items_property),
        cmocka_unit_test(class_filtering),
        cmocka_unit_test(reopen_after_rename),
        cmocka_unit_test(relative_path_and_names),
        cmocka_unit_test(logfile_directive),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
