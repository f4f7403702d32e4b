/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of ntpd's command line: NTPsec's options short and long, repeats, numbers in
 * range, usage errors, --check-config and --observe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

#include "../../daemon/io/opts.h"

#include "poison.h"

/* Parses a NULL-terminated list of words after "ntpd". */
static enum opts_result parse(struct ntpd_opts *o, const char *const *words)
{
    char *argv[64] = {"ntpd"};
    int argc = 1;
    for (; words[argc - 1] != NULL; argc++)
        argv[argc] = (char *)(uintptr_t)words[argc - 1];
    argv[argc] = NULL;
    /* Keep usage errors out of the test log, and give stderr back afterwards. */
    fflush(stderr);
    int saved = dup(2);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 2);
    enum opts_result r = opts_parse(argc, argv, o);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(null);
    return r;
}

#define PARSE(o, ...) parse(o, (const char *const[]){__VA_ARGS__, NULL})

static void defaults(void **state)
{
    (void)state;
    struct ntpd_opts o;
    assert_int_equal(parse(&o, (const char *const[]){NULL}), OPTS_RUN);
    assert_null(o.config);
    assert_int_equal(o.debug, 0);
    assert_int_equal(o.rescan_s, -1);
    assert_int_equal(o.wait_sync_s, -1);
    assert_int_equal(o.coalesce_us, 50);
    assert_false(o.observe || o.check_config || o.once || o.panic_gate);
}

static void every_option(void **state)
{
    (void)state;
    struct ntpd_opts o;
    assert_int_equal(PARSE(&o, "-4", "-c", "/tmp/x.conf", "-d", "-d", "-f", "/tmp/drift", "-g",
                           "-G", "-i", "/jail", "-I", "lo", "-I", "eth0", "-k", "/keys", "-l",
                           "/log", "-L", "-n", "-N", "-p", "/pid", "-P", "-5", "-q", "-s",
                           "/stats", "-t", "1", "-t", "65535", "-u", "ntp:ntp", "-U", "300",
                           "-w", "60", "-x", "-z", "a=1", "-Z", "b=2", "--check-config",
                           "--observe"),
                     OPTS_RUN);
    assert_int_equal(o.family, AF_INET);
    assert_string_equal(o.config, "/tmp/x.conf");
    assert_int_equal(o.debug, 2);
    assert_string_equal(o.driftfile, "/tmp/drift");
    assert_true(o.panic_gate && o.step_first && o.no_virtual && o.foreground);
    assert_true(o.raise_priority && o.once && o.slew_only && o.check_config && o.observe);
    assert_string_equal(o.chroot_dir, "/jail");
    assert_int_equal(o.ninterfaces, 2);
    assert_string_equal(o.interfaces[1], "eth0");
    assert_string_equal(o.keysfile, "/keys");
    assert_string_equal(o.logfile, "/log");
    assert_string_equal(o.pidfile, "/pid");
    assert_int_equal(o.priority, -5);
    assert_string_equal(o.statsdir, "/stats");
    assert_int_equal(o.ntrusted, 2);
    assert_int_equal(o.trusted[1], 65535);
    assert_string_equal(o.user, "ntp:ntp");
    assert_int_equal(o.rescan_s, 300);
    assert_int_equal(o.wait_sync_s, 60);
    assert_int_equal(o.nsetvars, 2);
    assert_false(o.setvar_default[0]);
    assert_true(o.setvar_default[1]);
}

static void long_forms(void **state)
{
    (void)state;
    struct ntpd_opts o;
    assert_int_equal(PARSE(&o, "--ipv6", "--configfile=/c", "--set-debug-level=3",
                           "--panicgate", "--nofork", "--quit", "--user", "ntp",
                           "--trustedkey=7", "--var=x=y", "--dvar", "z=w", "--slew",
                           "--coalesce=0"),
                     OPTS_RUN);
    assert_int_equal(o.coalesce_us, 0);
    assert_int_equal(o.family, AF_INET6);
    assert_string_equal(o.config, "/c");
    assert_int_equal(o.debug, 3);
    assert_true(o.panic_gate && o.foreground && o.once && o.slew_only);
    assert_string_equal(o.user, "ntp");
    assert_int_equal(o.trusted[0], 7);
    assert_int_equal(o.nsetvars, 2);
}

static void usage_errors(void **state)
{
    (void)state;
    struct ntpd_opts o;
    static const char *const bad[][3] = {
        {"-a"}, /* NTPsec's: "Testing assert failure", then an abort */
        {"-r", "5"},
        {"--bogus"},
        {"-t", "0"},
        {"-t", "65536"},
        {"-t", "x"},
        {"-D", "-1"},
        {"-P", "20"},
        {"-P", "-21"},
        {"-U", "1.5"},
        {"-z", "novalue"},
        {"-Z", "=x"},
        {"-c"},
        {"-"},
        {""},
        {"--check-config=1"},
        {"--coalesce=-1"},
        {"--coalesce=10001"},
        {"--coalesce=1.5"},
        {"--coalesce"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (parse(&o, bad[i]) != OPTS_BAD)
            fail_msg("accepted: %s %s", bad[i][0], bad[i][1] ? bad[i][1] : "");
    }
    assert_int_equal(PARSE(&o, "-h"), OPTS_DONE);
    assert_int_equal(PARSE(&o, "--version"), OPTS_DONE);
    /* The parser resets getopt: a run after an early stop starts clean. */
    assert_int_equal(PARSE(&o, "-nV"), OPTS_DONE);
    assert_int_equal(PARSE(&o, "-g"), OPTS_RUN);
    assert_false(o.foreground);
    assert_true(o.panic_gate);
}

/* NTPsec's `ntpd [options] [server...]` and -m (mDNS, not built here: accepted). */
static void servers_and_mdns(void **state)
{
    (void)state;
    struct ntpd_opts o;
    assert_int_equal(PARSE(&o, "time.example.org", "-n", "-m", "192.0.2.1", "--mdns"),
                     OPTS_RUN);
    assert_true(o.foreground && o.mdns);
    assert_int_equal(o.nservers, 2);
    assert_string_equal(o.servers[0], "time.example.org");
    assert_string_equal(o.servers[1], "192.0.2.1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),         cmocka_unit_test(every_option),
        cmocka_unit_test(long_forms),       cmocka_unit_test(usage_errors),
        cmocka_unit_test(servers_and_mdns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
