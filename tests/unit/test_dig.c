/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for ntpdig (cli/ntpdig): options, the step/slew rule, the text and JSON reports,
 * selection, and whole runs of dig_main against a loopback server thread. */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli_log.h"
#include "dig.h"
#include "ntk/buf.h"
#include "ntk/ntime.h"
#include "ntk/pkt.h"
#include "ntk/sb.h"
#include "testutil.h"

#include "poison.h"

/* cmocka 1.1 has no assert_double_equal. */
#define assert_near(got, want, tol)                                                           \
    do {                                                                                      \
        double got_ = (got), want_ = (want);                                                  \
        if (!(fabs(got_ - want_) <= (tol)))                                                   \
            fail_msg("%s = %.9f, want %.9f +/- %g", #got, got_, want_, (double)(tol));        \
    } while (0)

/* ==== Capturing stdout / stderr ==== */

/* One redirected descriptor: fd now writes to a temporary file until cap_end. */
struct cap {
    int fd;
    int saved;
    FILE *tmp;
};

static void cap_begin(struct cap *c, int fd)
{
    fflush(stdout);
    fflush(stderr);
    c->fd = fd;
    c->tmp = tmpfile();
    assert_non_null(c->tmp);
    c->saved = dup(fd);
    assert_true(c->saved >= 0);
    assert_int_equal(dup2(fileno(c->tmp), fd), fd);
}

/* Restores the descriptor and returns what was written (malloc'd, NUL-terminated). */
static char *cap_end(struct cap *c)
{
    fflush(stdout);
    fflush(stderr);
    assert_int_equal(dup2(c->saved, c->fd), c->fd);
    close(c->saved);
    size_t cap = 1 << 16, n = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    rewind(c->tmp);
    size_t got;
    while (n < cap - 1 && (got = fread(text + n, 1, cap - 1 - n, c->tmp)) > 0)
        n += got;
    text[n] = '\0';
    fclose(c->tmp);
    return text;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; s++)
        n += *s == '\n';
    return n;
}

/* ==== argv building ====
 * getopt keeps a pointer into the previous argv between calls, so every argv built here
 * stays allocated (and unchanged) until the end of the run: a parser that does not fully
 * reset getopt then misbehaves deterministically instead of reading freed memory. */

#define MAX_ARGS 80

static void **arena;
static size_t arena_n, arena_cap;

static void *keep(void *p)
{
    assert_non_null(p);
    if (arena_n == arena_cap) {
        arena_cap = arena_cap ? arena_cap * 2 : 256;
        arena = realloc(arena, arena_cap * sizeof *arena);
        assert_non_null(arena);
    }
    arena[arena_n++] = p;
    return p;
}

static void free_arena(void)
{
    for (size_t i = 0; i < arena_n; i++)
        free(arena[i]);
    free(arena);
}

/* Builds a writable argv {"ntpdig", args..., NULL} from a NULL-terminated list. */
static char **make_argv(const char *const *args, int *argc)
{
    char **v = keep(calloc(MAX_ARGS + 2, sizeof *v));
    int n = 0;
    v[n++] = keep(strdup("ntpdig"));
    for (; args[n - 1] != NULL; n++) {
        assert_true(n <= MAX_ARGS);
        v[n] = keep(strdup(args[n - 1]));
    }
    *argc = n;
    return v;
}

/* Parses args, capturing stdout and stderr. */
static enum dig_parse parse(const char *const *args, struct dig_opts *o, char **out,
                            char **err)
{
    int argc;
    char **argv = make_argv(args, &argc);
    struct cap co, ce;
    cap_begin(&co, STDOUT_FILENO);
    cap_begin(&ce, STDERR_FILENO);
    enum dig_parse rc = dig_opts_parse(argc, argv, o);
    *err = cap_end(&ce);
    *out = cap_end(&co);
    return rc;
}

/* ==== dig_opts_parse ==== */

/* The field an option sets. */
enum field {
    F_FAMILY,
    F_KEYID,
    F_KEYFILE,
    F_LOGFILE,
    F_DEBUG,
    F_GAP,
    F_TIMEOUT,
    F_STEPLIMIT,
    F_SAMPLES,
    F_JSON,
    F_STEP,
    F_SLEW,
    F_BINDADDR,
    F_PORT,
    F_REPLAY,
    F_HOSTS,
    F_COUNT,
};

struct opt_case {
    const char *args[8];
    unsigned fields; /* bit per enum field: those that must differ from the defaults */
    long num;        /* expected integer (family, key id, debug, samples, port, bool) */
    double real;     /* expected seconds (gap, timeout, steplimit) */
    const char *str; /* expected string (files, bindaddr, replay, first host) */
};

#define BIT(f) (1u << (f))

static const struct opt_case opt_cases[] = {
    {{"-4", NULL}, BIT(F_FAMILY), AF_INET, 0, NULL},
    {{"-6", NULL}, BIT(F_FAMILY), AF_INET6, 0, NULL},
    {{"--ipv4", NULL}, BIT(F_FAMILY), AF_INET, 0, NULL},
    {{"--ipv6", NULL}, BIT(F_FAMILY), AF_INET6, 0, NULL},
    {{"-4", "-6", NULL}, BIT(F_FAMILY), AF_INET6, 0, NULL},
    {{"-6", "-4", NULL}, BIT(F_FAMILY), AF_INET, 0, NULL},
    {{"-d", NULL}, BIT(F_DEBUG), 1, 0, NULL},
    {{"-d", "-d", "--debug", NULL}, BIT(F_DEBUG), 3, 0, NULL},
    {{"-ddd", NULL}, BIT(F_DEBUG), 3, 0, NULL},
    {{"-D", "7", NULL}, BIT(F_DEBUG), 7, 0, NULL},
    {{"--set-debug-level=100", NULL}, BIT(F_DEBUG), 100, 0, NULL},
    {{"-g", "250", NULL}, BIT(F_GAP), 0, 0.25, NULL},
    {{"-g0", NULL}, BIT(F_GAP), 0, 0.0, NULL},
    {{"--gap=1.5", NULL}, BIT(F_GAP), 0, 0.0015, NULL},
    {{"--gap", "60000", NULL}, BIT(F_GAP), 0, 60.0, NULL},
    {{"-I", "127.0.0.1", NULL}, BIT(F_BINDADDR), 0, 0, "127.0.0.1"},
    {{"--bindaddr=::1", NULL}, BIT(F_BINDADDR), 0, 0, "::1"},
    {{"-j", NULL}, BIT(F_JSON), 1, 0, NULL},
    {{"--json", NULL}, BIT(F_JSON), 1, 0, NULL},
    {{"--js", NULL}, BIT(F_JSON), 1, 0, NULL},
    {{"-k", "/etc/ntp.keys", NULL}, BIT(F_KEYFILE), 0, 0, "/etc/ntp.keys"},
    {{"--keyfile=k.keys", NULL}, BIT(F_KEYFILE), 0, 0, "k.keys"},
    {{"-l", "dig.log", NULL}, BIT(F_LOGFILE), 0, 0, "dig.log"},
    {{"--logfile", "x.log", NULL}, BIT(F_LOGFILE), 0, 0, "x.log"},
    {{"-M", "125", NULL}, BIT(F_STEPLIMIT), 0, 0.125, NULL},
    {{"--steplimit=2000", NULL}, BIT(F_STEPLIMIT), 0, 2.0, NULL},
    {{"--steplim=0.5", NULL}, BIT(F_STEPLIMIT), 0, 0.0005, NULL},
    {{"-p", "4", NULL}, BIT(F_SAMPLES), 4, 0, NULL},
    {{"-p100", NULL}, BIT(F_SAMPLES), 100, 0, NULL},
    {{"--samples=3", NULL}, BIT(F_SAMPLES), 3, 0, NULL},
    {{"--sa", "2", NULL}, BIT(F_SAMPLES), 2, 0, NULL},
    {{"-p", "0", NULL}, 0, 0, 0, NULL}, /* samples stays 1 */
    {{"-p", "-5", NULL}, 0, 0, 0, NULL},
    {{"-p", "-1000000", NULL}, 0, 0, 0, NULL},
    {{"-S", NULL}, BIT(F_STEP), 1, 0, NULL},
    {{"--step", NULL}, BIT(F_STEP), 1, 0, NULL}, /* exact match beats --steplimit */
    {{"-s", NULL}, BIT(F_SLEW), 1, 0, NULL},
    {{"--slew", NULL}, BIT(F_SLEW), 1, 0, NULL},
    {{"-t", "0.5", NULL}, BIT(F_TIMEOUT), 0, 0.5, NULL},
    {{"-t", "0.001", NULL}, BIT(F_TIMEOUT), 0, 0.001, NULL},
    {{"--timeout=3600", NULL}, BIT(F_TIMEOUT), 0, 3600.0, NULL},
    {{"--time", "2", NULL}, BIT(F_TIMEOUT), 0, 2.0, NULL},
    {{"--port=1123", NULL}, BIT(F_PORT), 1123, 0, NULL},
    {{"--port", "65535", NULL}, BIT(F_PORT), 65535, 0, NULL},
    {{"--po=1", NULL}, BIT(F_PORT), 1, 0, NULL},
    {{"-r", "2401:1", NULL}, BIT(F_REPLAY) | BIT(F_HOSTS), 0, 0, "2401:1"},
    {{"--replay=ab:2", NULL}, BIT(F_REPLAY) | BIT(F_HOSTS), 0, 0, "ab:2"},
    {{"-c", "pool.example", NULL}, BIT(F_HOSTS), 1, 0, "pool.example"},
    {{"--concurrent=pool.example", NULL}, BIT(F_HOSTS), 1, 0, "pool.example"},
    {{"ntp.example", NULL}, BIT(F_HOSTS), 0, 0, "ntp.example"},
    {{"-j", "--", "-host", NULL}, BIT(F_JSON) | BIT(F_HOSTS), 0, 0, "-host"},
};

static const char *field_name(enum field f)
{
    static const char *const names[F_COUNT] = {
        "family",  "key_id", "keyfile", "logfile", "debug",    "gap",  "timeout", "steplimit",
        "samples", "json",   "step",    "slew",    "bindaddr", "port", "replay",  "hosts"};
    return names[f];
}

/* Checks one field: against the case's value if the case sets it, else the default. */
static bool field_ok(const struct dig_opts *o, enum field f, const struct opt_case *c)
{
    bool set = (c->fields & BIT(f)) != 0;
    switch (f) {
    case F_FAMILY:
        return o->family == (set ? c->num : AF_UNSPEC);
    case F_KEYID:
        return o->key_id == (set ? (uint32_t)c->num : 0);
    case F_KEYFILE:
        return set ? o->keyfile != NULL && strcmp(o->keyfile, c->str) == 0
                   : o->keyfile == NULL;
    case F_LOGFILE:
        return set ? o->logfile != NULL && strcmp(o->logfile, c->str) == 0
                   : o->logfile == NULL;
    case F_DEBUG:
        return o->debug == (set ? c->num : 0);
    case F_GAP:
        return fabs(o->gap_s - (set ? c->real : 0.05)) < 1e-12;
    case F_TIMEOUT:
        return fabs(o->timeout_s - (set ? c->real : 5.0)) < 1e-12;
    case F_STEPLIMIT:
        return fabs(o->steplimit_s - (set ? c->real : 0.0)) < 1e-12;
    case F_SAMPLES:
        return o->samples == (set ? c->num : 1);
    case F_JSON:
        return o->json == set;
    case F_STEP:
        return o->step == set;
    case F_SLEW:
        return o->slew == set;
    case F_BINDADDR:
        return set ? o->bindaddr != NULL && strcmp(o->bindaddr, c->str) == 0
                   : o->bindaddr == NULL;
    case F_PORT:
        return o->port == (set ? c->num : 123);
    case F_REPLAY:
        return set ? o->replay != NULL && strcmp(o->replay, c->str) == 0 : o->replay == NULL;
    case F_HOSTS:
        if (set && (c->fields & BIT(F_REPLAY)))
            return o->nhosts == 0; /* a replay queries nothing */
        if (set)
            return o->nhosts == 1 && strcmp(o->hosts[0].name, c->str) == 0 &&
                   o->hosts[0].concurrent == (c->num != 0);
        return o->nhosts == 1 && strcmp(o->hosts[0].name, "localhost") == 0 &&
               !o->hosts[0].concurrent;
    case F_COUNT:
        break;
    }
    return false;
}

static void opts_each_option_sets_its_field(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof opt_cases / sizeof opt_cases[0]; i++) {
        const struct opt_case *c = &opt_cases[i];
        struct dig_opts o;
        char *out, *err;
        enum dig_parse rc = parse(c->args, &o, &out, &err);
        if (rc != DIG_PARSE_RUN || out[0] != '\0' || err[0] != '\0')
            fail_msg("case %zu (%s): rc %d, stdout '%s', stderr '%s'", i, c->args[0], rc, out,
                     err);
        free(out);
        free(err);
        for (int f = 0; f < F_COUNT; f++)
            if (!field_ok(&o, (enum field)f, c))
                fail_msg("case %zu (%s): wrong %s", i, c->args[0], field_name((enum field)f));
    }
}

static void opts_key_id_needs_keyfile(void **state)
{
    (void)state;
    static const char *const cases[][6] = {
        {"-a", "5", "-k", "f.keys", NULL},
        {"--authentication=65535", "--keyfile=f.keys", NULL},
        {"-k", "f.keys", "-a1", NULL},
        {"--auth", "300", "-kf.keys", NULL},
    };
    static const uint32_t want[] = {5, 65535, 1, 300};
    for (size_t i = 0; i < 4; i++) {
        struct dig_opts o;
        char *out, *err;
        assert_int_equal(parse(cases[i], &o, &out, &err), DIG_PARSE_RUN);
        assert_string_equal(err, "");
        assert_int_equal(o.key_id, want[i]);
        assert_string_equal(o.keyfile, "f.keys");
        free(out);
        free(err);
    }
}

static void opts_hosts_order(void **state)
{
    (void)state;
    static const char *const args[] = {"a.example", "-c", "b.example", "-4",     "c.example",
                                       "-c",        "d",  "e",         "--json", NULL};
    struct dig_opts o;
    char *out, *err;
    assert_int_equal(parse(args, &o, &out, &err), DIG_PARSE_RUN);
    free(out);
    free(err);
    static const char *const names[] = {"b.example", "d", "a.example", "c.example", "e"};
    static const bool conc[] = {true, true, false, false, false};
    assert_int_equal(o.nhosts, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(o.hosts[i].name, names[i]);
        assert_int_equal(o.hosts[i].concurrent, conc[i]);
    }
    assert_int_equal(o.family, AF_INET);
    assert_true(o.json);
}

static void opts_defaults(void **state)
{
    (void)state;
    static const char *const none[] = {NULL};
    struct dig_opts o;
    memset(&o, 0x5a, sizeof o); /* the parser must set every default itself */
    char *out, *err;
    assert_int_equal(parse(none, &o, &out, &err), DIG_PARSE_RUN);
    assert_string_equal(out, "");
    assert_string_equal(err, "");
    free(out);
    free(err);
    struct opt_case c = {{NULL}, 0, 0, 0, NULL};
    for (int f = 0; f < F_COUNT; f++)
        if (!field_ok(&o, (enum field)f, &c))
            fail_msg("default %s is wrong", field_name((enum field)f));
}

static void opts_host_limit(void **state)
{
    (void)state;
    const char *args[DIG_MAX_HOSTS + 2];
    for (int i = 0; i <= DIG_MAX_HOSTS; i++)
        args[i] = "h.example";
    struct dig_opts o;
    char *out, *err;
    args[DIG_MAX_HOSTS] = NULL;
    assert_int_equal(parse(args, &o, &out, &err), DIG_PARSE_RUN);
    assert_int_equal(o.nhosts, DIG_MAX_HOSTS);
    free(out);
    free(err);
    args[DIG_MAX_HOSTS] = "one.more";
    args[DIG_MAX_HOSTS + 1] = NULL;
    assert_int_equal(parse(args, &o, &out, &err), DIG_PARSE_BAD);
    assert_string_equal(err, "ntpdig: too many servers (at most 64)\n");
    free(out);
    free(err);
}

struct bad_case {
    const char *args[6];
    const char *err; /* the exact stderr, or NULL: any one line starting "ntpdig: " */
};

static const struct bad_case bad_cases[] = {
    {{"-o", NULL}, "ntpdig: unknown option -o (see ntpdig --help)\n"},
    {{"-w", NULL}, "ntpdig: unknown option -w (see ntpdig --help)\n"},
    {{"-W", NULL}, "ntpdig: unknown option -W (see ntpdig --help)\n"},
    {{"-P", "5", NULL}, "ntpdig: unknown option -P (see ntpdig --help)\n"},
    {{"-j", "-w", "host", NULL}, "ntpdig: unknown option -w (see ntpdig --help)\n"},
    {{"--wait", NULL}, "ntpdig: unknown option --wait (see ntpdig --help)\n"},
    {{"--no-wait", NULL}, "ntpdig: unknown option --no-wait (see ntpdig --help)\n"},
    {{"--bogus", NULL}, "ntpdig: unknown option --bogus (see ntpdig --help)\n"},
    {{"--ipv", NULL}, NULL},    /* ambiguous: --ipv4 / --ipv6 */
    {{"--ste", NULL}, NULL},    /* ambiguous: --step / --steplimit */
    {{"--json=1", NULL}, NULL}, /* an argument to a flag */
    {{"-a", NULL}, "ntpdig: option -a needs an argument (see ntpdig --help)\n"},
    {{"-j", "-t", NULL}, "ntpdig: option -t needs an argument (see ntpdig --help)\n"},
    {{"--port", NULL}, "ntpdig: option --port needs an argument (see ntpdig --help)\n"},
    {{"-a", "x", "-k", "f", NULL}, "ntpdig: invalid number for -a: 'x' (see ntpdig --help)\n"},
    {{"-a", "0", "-k", "f", NULL}, "ntpdig: invalid number for -a: '0' (see ntpdig --help)\n"},
    {{"-a", "65536", "-k", "f", NULL},
     "ntpdig: invalid number for -a: '65536' (see ntpdig --help)\n"},
    {{"-a", "-1", "-k", "f", NULL},
     "ntpdig: invalid number for -a: '-1' (see ntpdig --help)\n"},
    {{"-t", "0", NULL}, "ntpdig: invalid number for -t: '0' (see ntpdig --help)\n"},
    {{"-t", "abc", NULL}, "ntpdig: invalid number for -t: 'abc' (see ntpdig --help)\n"},
    {{"-t", "inf", NULL}, "ntpdig: invalid number for -t: 'inf' (see ntpdig --help)\n"},
    {{"-t", "nan", NULL}, "ntpdig: invalid number for -t: 'nan' (see ntpdig --help)\n"},
    {{"-t", "3601", NULL}, "ntpdig: invalid number for -t: '3601' (see ntpdig --help)\n"},
    {{"-t", "", NULL}, "ntpdig: invalid number for -t: '' (see ntpdig --help)\n"},
    {{"-g", "1e", NULL}, "ntpdig: invalid number for -g: '1e' (see ntpdig --help)\n"},
    {{"-g", "-1", NULL}, "ntpdig: invalid number for -g: '-1' (see ntpdig --help)\n"},
    {{"-M", "-5", NULL}, "ntpdig: invalid number for -M: '-5' (see ntpdig --help)\n"},
    {{"-p", "1000", NULL}, "ntpdig: invalid number for -p: '1000' (see ntpdig --help)\n"},
    {{"-p", "101", NULL}, "ntpdig: invalid number for -p: '101' (see ntpdig --help)\n"},
    {{"-p", " 5", NULL}, "ntpdig: invalid number for -p: ' 5' (see ntpdig --help)\n"},
    {{"-p", "5 ", NULL}, "ntpdig: invalid number for -p: '5 ' (see ntpdig --help)\n"},
    {{"-p", "2.5", NULL}, "ntpdig: invalid number for -p: '2.5' (see ntpdig --help)\n"},
    {{"-D", "101", NULL}, "ntpdig: invalid number for -D: '101' (see ntpdig --help)\n"},
    {{"--port", "0", NULL}, "ntpdig: invalid number for --port: '0' (see ntpdig --help)\n"},
    {{"--port=65536", NULL},
     "ntpdig: invalid number for --port: '65536' (see ntpdig --help)\n"},
    {{"--port=0x7b", NULL}, "ntpdig: invalid number for --port: '0x7b' (see ntpdig --help)\n"},
    {{"-a", "5", NULL}, "ntpdig: -a option requires -k (a keys file)\n"},
    {{"--authentication=5", "host", NULL}, "ntpdig: -a option requires -k (a keys file)\n"},
};

static void opts_usage_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const struct bad_case *c = &bad_cases[i];
        struct dig_opts o;
        char *out, *err;
        enum dig_parse rc = parse(c->args, &o, &out, &err);
        if (rc != DIG_PARSE_BAD || out[0] != '\0')
            fail_msg("case %zu (%s): rc %d, stdout '%s'", i, c->args[0], rc, out);
        if (c->err != NULL && strcmp(err, c->err) != 0)
            fail_msg("case %zu (%s): stderr '%s', want '%s'", i, c->args[0], err, c->err);
        if (count_lines(err) != 1 || strncmp(err, "ntpdig: ", 8) != 0)
            fail_msg("case %zu (%s): stderr '%s' is not one line", i, c->args[0], err);
        free(out);
        free(err);
    }
}

/* An error names the option as the user wrote it: the long name for a long option (not the
 * letter it maps to), the letter alone for a short option inside a cluster. */
static void opts_error_names_the_option(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {{"--json=1", NULL}, "ntpdig: option --json takes no argument (see ntpdig --help)\n"},
        {{"--step=yes", "h", NULL},
         "ntpdig: option --step takes no argument (see ntpdig --help)\n"},
        {{"-jt", NULL}, "ntpdig: option -t needs an argument (see ntpdig --help)\n"},
        {{"-4jx", NULL}, "ntpdig: unknown option -x (see ntpdig --help)\n"},
        {{"--json", "-xj", NULL}, "ntpdig: unknown option -x (see ntpdig --help)\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct dig_opts o;
        char *out, *err;
        assert_int_equal(parse(cases[i].args, &o, &out, &err), DIG_PARSE_BAD);
        if (strcmp(err, cases[i].err) != 0)
            fail_msg("case %zu (%s): stderr '%s', want '%s'", i, cases[i].args[0], err,
                     cases[i].err);
        free(out);
        free(err);
    }
}

static void opts_help_and_version(void **state)
{
    (void)state;
    static const char *const help[][3] = {{"-h", NULL},
                                          {"--help", NULL},
                                          {"--he", NULL},
                                          {"-j", "-h", NULL},
                                          {"-o", "-h", NULL}};
    static const enum dig_parse want[] = {DIG_PARSE_DONE, DIG_PARSE_DONE, DIG_PARSE_DONE,
                                          DIG_PARSE_DONE, DIG_PARSE_BAD};
    for (size_t i = 0; i < 5; i++) {
        struct dig_opts o;
        char *out, *err;
        assert_int_equal(parse(help[i], &o, &out, &err), want[i]);
        if (want[i] == DIG_PARSE_DONE) {
            assert_string_equal(err, "");
            assert_int_equal(strncmp(out, "Usage: ntpdig [options] [host ...]\n", 35), 0);
            assert_non_null(strstr(out, "  -t, --timeout=SECONDS"));
            assert_non_null(strstr(out, "      --port=PORT"));
        } else {
            assert_string_equal(out, "");
        }
        free(out);
        free(err);
    }
    static const char *const version[][2] = {{"-V", NULL}, {"--version", NULL}};
    for (size_t i = 0; i < 2; i++) {
        struct dig_opts o;
        char *out, *err;
        assert_int_equal(parse(version[i], &o, &out, &err), DIG_PARSE_DONE);
        assert_string_equal(err, "");
        assert_int_equal(strncmp(out, "ntpdig ntpkit-", 14), 0);
        assert_true(strlen(out) > 15);
        assert_int_equal(count_lines(out), 1);
        assert_int_equal(out[strlen(out) - 1], '\n');
        free(out);
        free(err);
    }
}

/* dig_opts_parse stopped in the middle of "-hj" must not leak "j" into the next parse: it
 * has to reset getopt completely (glibc: optind = 0), not just set optind = 1. */
static void opts_parse_resets_getopt(void **state)
{
    (void)state;
    static const char *const first[] = {"-hj", NULL};
    static const char *const second[] = {"-4", "host.example", NULL};
    struct dig_opts o;
    char *out, *err;
    assert_int_equal(parse(first, &o, &out, &err), DIG_PARSE_DONE);
    free(out);
    free(err);
    assert_int_equal(parse(second, &o, &out, &err), DIG_PARSE_RUN);
    free(out);
    free(err);
    assert_false(o.json);
    assert_int_equal(o.family, AF_INET);
    assert_int_equal(o.nhosts, 1);
    assert_string_equal(o.hosts[0].name, "host.example");
}

/* ==== dig_adjust through a fake clock ==== */

struct fake_clk {
    int priv_rc, step_rc, slew_rc; /* what each operation returns */
    int nprivs, nsteps, nslews;    /* calls */
    double last_s;                 /* the last step or slew asked */
};

static int fake_now(void *ctx, struct timespec *out)
{
    (void)ctx;
    return clock_gettime(CLOCK_REALTIME, out) == 0 ? 0 : -errno;
}

static int fake_priv(void *ctx)
{
    struct fake_clk *f = ctx;
    f->nprivs++;
    return f->priv_rc;
}

static int fake_step(void *ctx, double offset_s)
{
    struct fake_clk *f = ctx;
    f->nsteps++;
    f->last_s = offset_s;
    return f->step_rc;
}

static int fake_slew(void *ctx, double offset_s)
{
    struct fake_clk *f = ctx;
    f->nslews++;
    f->last_s = offset_s;
    return f->slew_rc;
}

static struct ntk_clk_ops fake_ops(struct fake_clk *f)
{
    memset(f, 0, sizeof *f);
    return (struct ntk_clk_ops){.name = "fake",
                                .ctx = f,
                                .now = fake_now,
                                .check_privilege = fake_priv,
                                .step = fake_step,
                                .slew = fake_slew};
}

static struct dig_opts adj_opts(bool step, bool slew, double limit_s)
{
    struct dig_opts o;
    memset(&o, 0, sizeof o);
    o.step = step;
    o.slew = slew;
    o.steplimit_s = limit_s;
    return o;
}

struct adj_case {
    bool step, slew;
    double limit_s, offset_s;
    enum dig_adjustment want;
};

static const struct adj_case adj_cases[] = {
    {true, false, 0, 0.5, DIG_ADJ_STEPPED},
    {true, false, 0, -0.0001, DIG_ADJ_STEPPED},
    {true, false, 10, 0.5, DIG_ADJ_STEPPED}, /* -M alone changes nothing */
    {true, false, 0, 0, DIG_ADJ_STEPPED},
    {false, true, 0, 0.5, DIG_ADJ_SLEWED},
    {false, true, 0, -3, DIG_ADJ_SLEWED},
    {false, true, 0.1, 100, DIG_ADJ_SLEWED},
    {true, true, 0.1, 0.05, DIG_ADJ_SLEWED},
    {true, true, 0.1, -0.05, DIG_ADJ_SLEWED},
    {true, true, 0.125, 0.125, DIG_ADJ_SLEWED}, /* at the limit: slew */
    {true, true, 0.125, -0.125, DIG_ADJ_SLEWED},
    {true, true, 0.125, 0.1250001, DIG_ADJ_STEPPED},
    {true, true, 0.125, -0.1250001, DIG_ADJ_STEPPED},
    {true, true, 0.1, -0.2, DIG_ADJ_STEPPED},
    {true, true, 0, 0, DIG_ADJ_SLEWED},
    {true, true, 0, 1e-9, DIG_ADJ_STEPPED},
    {true, true, 0, -1e-9, DIG_ADJ_STEPPED},
    {false, false, 0, 5, DIG_ADJ_NONE},
    {false, false, 1, -5, DIG_ADJ_NONE},
};

static void adjust_rule_table(void **state)
{
    (void)state;
    cli_log_init("ntpdig");
    for (size_t i = 0; i < sizeof adj_cases / sizeof adj_cases[0]; i++) {
        const struct adj_case *c = &adj_cases[i];
        struct fake_clk f;
        struct ntk_clk_ops ops = fake_ops(&f);
        struct dig_opts o = adj_opts(c->step, c->slew, c->limit_s);
        struct cap ce;
        cap_begin(&ce, STDERR_FILENO);
        enum dig_adjustment got = dig_adjust(&o, &ops, c->offset_s);
        char *err = cap_end(&ce);
        if (got != c->want)
            fail_msg("case %zu: got %s, want %s", i, dig_adjustment_name(got),
                     dig_adjustment_name(c->want));
        assert_string_equal(err, "");
        free(err);
        assert_int_equal(f.nsteps, c->want == DIG_ADJ_STEPPED);
        assert_int_equal(f.nslews, c->want == DIG_ADJ_SLEWED);
        assert_int_equal(f.nprivs, c->want != DIG_ADJ_NONE);
        if (c->want != DIG_ADJ_NONE)
            assert_true(f.last_s == c->offset_s);
    }
}

static void adjust_failures(void **state)
{
    (void)state;
    cli_log_init("ntpdig");
    struct {
        bool step, slew;
        int priv_rc, step_rc, slew_rc, steps, slews;
        const char *err;
    } cases[] = {
        {true, false, -EPERM, 0, 0, 0, 0,
         "ntpdig: cannot step the clock: this process lacks CAP_SYS_TIME (run as root, or "
         "grant cap_sys_time)\n"},
        {false, true, -EPERM, 0, 0, 0, 0,
         "ntpdig: cannot slew the clock: this process lacks CAP_SYS_TIME (run as root, or "
         "grant cap_sys_time)\n"},
        {true, false, -EIO, 0, 0, 0, 0,
         "ntpdig: cannot step the clock by +0.500000000 s: Input/output error\n"},
        {true, false, 0, -EPERM, 0, 1, 0,
         "ntpdig: cannot step the clock by +0.500000000 s: Operation not permitted\n"},
        {true, false, 0, -EINVAL, 0, 1, 0,
         "ntpdig: cannot step the clock by +0.500000000 s: Invalid argument\n"},
        {false, true, 0, 0, -EINVAL, 0, 1,
         "ntpdig: cannot slew the clock by +0.500000000 s: Invalid argument\n"},
        {true, true, 0, 0, -EPERM, 0, 1,
         "ntpdig: cannot slew the clock by +0.500000000 s: Operation not permitted\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fake_clk f;
        struct ntk_clk_ops ops = fake_ops(&f);
        f.priv_rc = cases[i].priv_rc;
        f.step_rc = cases[i].step_rc;
        f.slew_rc = cases[i].slew_rc;
        struct dig_opts o = adj_opts(cases[i].step, cases[i].slew, 1.0);
        struct cap ce;
        cap_begin(&ce, STDERR_FILENO);
        enum dig_adjustment got = dig_adjust(&o, &ops, 0.5);
        char *err = cap_end(&ce);
        assert_int_equal(got, DIG_ADJ_FAILED);
        assert_string_equal(err, cases[i].err);
        free(err);
        assert_int_equal(f.nprivs, 1);
        assert_int_equal(f.nsteps, cases[i].steps);
        assert_int_equal(f.nslews, cases[i].slews);
    }
}

static void adjustment_names(void **state)
{
    (void)state;
    assert_string_equal(dig_adjustment_name(DIG_ADJ_NONE), "none");
    assert_string_equal(dig_adjustment_name(DIG_ADJ_STEPPED), "stepped");
    assert_string_equal(dig_adjustment_name(DIG_ADJ_SLEWED), "slewed");
    assert_string_equal(dig_adjustment_name(DIG_ADJ_FAILED), "failed");
    assert_string_equal(dig_adjustment_name((enum dig_adjustment)99), "unknown");
}

/* ==== The text line ==== */

/* 2026-11-26 03:00:04 UTC, 0xeeb21f34 in NTP era 0. */
#define T_2026 1795662004

static void set_tz(const char *tz)
{
    assert_int_equal(setenv("TZ", tz, 1), 0);
    tzset();
}

/* Fills r as an accepted sample of host/ip whose server transmit time is unix_s + nsec. */
static void make_result(struct dig_result *r, const char *host, const char *ip, int64_t unix_s,
                        long nsec)
{
    memset(r, 0, sizeof *r);
    r->host = host;
    if (ip != NULL) {
        assert_true(strlen(ip) < sizeof r->target.ip);
        memcpy(r->target.ip, ip, strlen(ip) + 1);
    }
    r->verdict = NTK_SNTP_OK;
    r->replied = true;
    r->s.pkt.version = 4;
    r->s.pkt.mode = NTK_MODE_SERVER;
    r->s.pkt.stratum = 10;
    r->s.pkt.leap = NTK_LEAP_NONE;
    r->s.pkt.precision_log2 = -20;
    struct timespec t = {.tv_sec = (time_t)unix_s, .tv_nsec = nsec};
    r->s.t3 = ntk_ts_from_timespec(&t);
    r->s.offset_s = -0.000775;
    r->s.error_bound_s = 0.001232;
}

struct text_case {
    const char *tz;
    const char *host, *ip;
    long nsec;
    int8_t precision_log2;
    uint8_t stratum;
    enum ntk_leap leap;
    double offset_s, error_s;
    const char *want;
};

static const struct text_case text_cases[] = {
    {"UTC", "127.0.0.2", "127.0.0.2", 121695123, -20, 10, NTK_LEAP_NONE, -0.000775, 0.001232,
     "2026-11-26 03:00:04.121695 (+0000) -0.000775 +/- 0.001232 127.0.0.2 s10 no-leap"},
    {"UTC", "127.0.0.2", "127.0.0.2", 121695123, -24, 10, NTK_LEAP_NONE, -0.000775, 0.001232,
     "2026-11-26 03:00:04.121695 (+0000) -0.000775 +/- 0.001232 127.0.0.2 s10 no-leap"},
    {"UTC", "127.0.0.2", "127.0.0.2", 121695123, -10, 10, NTK_LEAP_NONE, -0.000775, 0.001232,
     "2026-11-26 03:00:04.121 (+0000) -0.000775 +/- 0.001232 127.0.0.2 s10 no-leap"},
    {"UTC", "127.0.0.2", "127.0.0.2", 121695123, -7, 10, NTK_LEAP_NONE, -0.000775, 0.001232,
     "2026-11-26 03:00:04.12 (+0000) -0.000775 +/- 0.001232 127.0.0.2 s10 no-leap"},
    {"UTC", "127.0.0.2", "127.0.0.2", 121695123, -4, 10, NTK_LEAP_NONE, -0.000775, 0.001232,
     "2026-11-26 03:00:04.1 (+0000) -0.000775 +/- 0.001232 127.0.0.2 s10 no-leap"},
    {"UTC", "127.0.0.2", "127.0.0.2", 121695123, -3, 10, NTK_LEAP_NONE, -0.000775, 0.001232,
     "2026-11-26 03:00:04 (+0000) -0.000775 +/- 0.001232 127.0.0.2 s10 no-leap"},
    {"UTC", "127.0.0.2", "127.0.0.2", 999999999, 0, 10, NTK_LEAP_NONE, -0.000775, 0.001232,
     "2026-11-26 03:00:04 (+0000) -0.000775 +/- 0.001232 127.0.0.2 s10 no-leap"},
    {"UTC", "127.0.0.2", "127.0.0.2", 121695123, 3, 10, NTK_LEAP_NONE, -0.000775, 0.001232,
     "2026-11-26 03:00:04 (+0000) -0.000775 +/- 0.001232 127.0.0.2 s10 no-leap"},
    {"UTC", "127.0.0.2", "127.0.0.2", 5123000, -20, 10, NTK_LEAP_NONE, -0.000775, 0.001232,
     "2026-11-26 03:00:04.005123 (+0000) -0.000775 +/- 0.001232 127.0.0.2 s10 no-leap"},
    {"UTC", "127.0.0.2", "127.0.0.2", 5123000, -10, 10, NTK_LEAP_NONE, -0.000775, 0.001232,
     "2026-11-26 03:00:04.005 (+0000) -0.000775 +/- 0.001232 127.0.0.2 s10 no-leap"},
    {"UTC", "127.0.0.2", "127.0.0.2", 5123000, -7, 10, NTK_LEAP_NONE, -0.000775, 0.001232,
     "2026-11-26 03:00:04.00 (+0000) -0.000775 +/- 0.001232 127.0.0.2 s10 no-leap"},
    {"UTC", "127.0.0.2", "127.0.0.2", 0, -20, 10, NTK_LEAP_NONE, -0.000775, 0.001232,
     "2026-11-26 03:00:04.000000 (+0000) -0.000775 +/- 0.001232 127.0.0.2 s10 no-leap"},
    {"UTC", "127.0.0.2", "127.0.0.2", 999999000, -20, 10, NTK_LEAP_NONE, -0.000775, 0.001232,
     "2026-11-26 03:00:04.999999 (+0000) -0.000775 +/- 0.001232 127.0.0.2 s10 no-leap"},
    {"UTC", "ntp.example", "192.0.2.1", 121695123, -20, 2, NTK_LEAP_INSERT, 1.5, 0.25,
     "2026-11-26 03:00:04.121695 (+0000) +1.500000 +/- 0.250000 ntp.example 192.0.2.1 s2 "
     "add-leap"},
    {"UTC", "localhost", "::1", 121695123, -20, 1, NTK_LEAP_DELETE, 0, 0,
     "2026-11-26 03:00:04.121695 (+0000) +0.000000 +/- 0.000000 localhost ::1 s1 del-leap"},
    {"UTC", "replay", "", 121695123, -20, 16, NTK_LEAP_UNSYNC, -1234.5678915, 1e-7,
     "2026-11-26 03:00:04.121695 (+0000) -1234.567892 +/- 0.000000 replay s16 unsync"},
    {"Asia/Kolkata", "127.0.0.2", "127.0.0.2", 121695123, -20, 10, NTK_LEAP_NONE, -0.000775,
     0.001232,
     "2026-11-26 08:30:04.121695 (+0530) -0.000775 +/- 0.001232 127.0.0.2 s10 no-leap"},
    {"America/St_Johns", "127.0.0.2", "127.0.0.2", 121695123, -20, 10, NTK_LEAP_NONE,
     -0.000775, 0.001232,
     "2026-11-25 23:30:04.121695 (-0330) -0.000775 +/- 0.001232 127.0.0.2 s10 no-leap"},
    {"America/St_Johns", "127.0.0.2", "127.0.0.2", 5123000, -10, 10, NTK_LEAP_NONE, -0.000775,
     0.001232, "2026-11-25 23:30:04.005 (-0330) -0.000775 +/- 0.001232 127.0.0.2 s10 no-leap"},
};

static void text_line(void **state)
{
    (void)state;
    struct timespec near = {.tv_sec = T_2026, .tv_nsec = 0};
    for (size_t i = 0; i < sizeof text_cases / sizeof text_cases[0]; i++) {
        const struct text_case *c = &text_cases[i];
        set_tz(c->tz);
        struct dig_result r;
        make_result(&r, c->host, c->ip, T_2026, c->nsec);
        r.s.pkt.precision_log2 = c->precision_log2;
        r.s.pkt.stratum = c->stratum;
        r.s.pkt.leap = c->leap;
        r.s.offset_s = c->offset_s;
        r.s.error_bound_s = c->error_s;
        char line[512];
        struct ntk_sb sb;
        ntk_sb_init(&sb, line, sizeof line);
        dig_format_text(&r, &near, &sb);
        if (strcmp(ntk_sb_str(&sb), c->want) != 0)
            fail_msg("case %zu:\n got '%s'\nwant '%s'", i, ntk_sb_str(&sb), c->want);
    }
    set_tz("UTC");
}

/* The era comes from near: a timestamp of era 1 (after 2036-02-07) shows as such. */
static void text_line_next_era(void **state)
{
    (void)state;
    set_tz("UTC");
    struct dig_result r;
    make_result(&r, "h", "h", 0, 0);
    r.s.t3 = ntk_ts_make(1, 0x80000000u); /* era 1: 2036-02-07 06:28:17.5 */
    struct timespec near = {.tv_sec = 2085978496 + 100, .tv_nsec = 0};
    char line[512];
    struct ntk_sb sb;
    ntk_sb_init(&sb, line, sizeof line);
    dig_format_text(&r, &near, &sb);
    assert_string_equal(ntk_sb_str(&sb),
                        "2036-02-07 06:28:17.500000 (+0000) -0.000775 +/- 0.001232 h s10 "
                        "no-leap");
}

/* dig_report without -j prints only the selected sample, as one line. */
static void text_report_selected_only(void **state)
{
    (void)state;
    set_tz("UTC");
    struct dig_result v[3];
    make_result(&v[0], "a.example", "192.0.2.1", T_2026, 1000);
    make_result(&v[1], "b.example", "192.0.2.2", T_2026, 2000);
    make_result(&v[2], "c.example", "192.0.2.3", T_2026, 3000);
    v[1].selected = true;
    struct dig_results res = {.v = v, .n = 3, .cap = 3};
    struct dig_opts o;
    memset(&o, 0, sizeof o);
    struct timespec near = {.tv_sec = T_2026, .tv_nsec = 0};
    struct cap co;
    cap_begin(&co, STDOUT_FILENO);
    dig_report(&o, &res, DIG_ADJ_NONE, &near);
    char *out = cap_end(&co);
    assert_string_equal(out, "2026-11-26 03:00:04.000002 (+0000) -0.000775 +/- 0.001232 "
                             "b.example 192.0.2.2 s10 no-leap\n");
    free(out);
    v[1].selected = false;
    cap_begin(&co, STDOUT_FILENO);
    dig_report(&o, &res, DIG_ADJ_NONE, &near);
    out = cap_end(&co);
    assert_string_equal(out, "");
    free(out);
}

/* ==== JSON ==== */

/* Every key of the spec, NTPsec's first. */
static const char json_keys[] =
    "schema time offset precision host ip port stratum leap adjusted delay ok error message "
    "kiss_code sync_distance dispersion root_delay root_dispersion refid refid_hex version "
    "mode "
    "li precision_log2 poll_log2 authenticated key_id t1 t2 t3 t4 t1_iso t2_iso t3_iso t4_iso "
    "sample selected adjustment";

/* Calls fn(o, key) for each space-separated key in keys; returns how many. */
static size_t each_key(json_object *o, const char *keys,
                       void (*fn)(json_object *, const char *))
{
    size_t n = 0;
    for (const char *k = keys; *k != '\0';) {
        size_t len = strcspn(k, " ");
        char key[32];
        assert_true(len > 0 && len < sizeof key);
        memcpy(key, k, len);
        key[len] = '\0';
        fn(o, key);
        n++;
        k += len + (k[len] == ' ');
    }
    return n;
}

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v))
        fail_msg("key %s missing", key);
    return v;
}

static void expect_present(json_object *o, const char *key)
{
    (void)get(o, key);
}

static void expect_null(json_object *o, const char *key)
{
    if (get(o, key) != NULL)
        fail_msg("%s: want null, got %s", key, json_object_to_json_string(get(o, key)));
}

static void expect_str(json_object *o, const char *key, const char *want)
{
    json_object *v = get(o, key);
    if (v == NULL || !json_object_is_type(v, json_type_string))
        fail_msg("%s: want string '%s'", key, want);
    assert_string_equal(json_object_get_string(v), want);
}

static void expect_int(json_object *o, const char *key, int64_t want)
{
    json_object *v = get(o, key);
    if (v == NULL || !json_object_is_type(v, json_type_int))
        fail_msg("%s: want int %lld", key, (long long)want);
    assert_int_equal(json_object_get_int64(v), want);
}

static void expect_bool(json_object *o, const char *key, bool want)
{
    json_object *v = get(o, key);
    if (v == NULL || !json_object_is_type(v, json_type_boolean))
        fail_msg("%s: want a boolean", key);
    assert_int_equal(json_object_get_boolean(v), want);
}

static void expect_num(json_object *o, const char *key, double want, double tol)
{
    json_object *v = get(o, key);
    if (v == NULL || !json_object_is_type(v, json_type_double))
        fail_msg("%s: want a number", key);
    assert_near(json_object_get_double(v), want, tol);
}

/* Splits text into lines and parses each; returns the count. */
static size_t parse_lines(char *text, json_object **objs, char **raw, size_t cap)
{
    size_t n = 0;
    for (char *line = text, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        assert_true(n < cap);
        *nl = '\0';
        raw[n] = line;
        objs[n] = json_tokener_parse(line);
        if (objs[n] == NULL)
            fail_msg("line %zu is not JSON: %s", n, line);
        n++;
    }
    return n;
}

static void expect_all_keys(json_object *o)
{
    size_t n = each_key(o, json_keys, expect_present);
    assert_int_equal(n, 39);
    assert_int_equal(json_object_object_length(o), n);
    expect_str(o, "schema", "ntpkit.ntpdig/1");
}

static void set_msg(struct dig_result *r, const char *msg)
{
    snprintf(r->message, sizeof r->message, "%s", msg);
}

/* Four results: accepted and selected, a RATE kiss, a timeout, a failed lookup. */
static void json_results(struct dig_result v[4])
{
    /* 0: accepted, selected. */
    make_result(&v[0], "127.0.0.1", NULL, T_2026, 0);
    assert_int_equal(cli_resolve("127.0.0.1", 123, AF_INET, &v[0].target, 1), 1);
    v[0].s.pkt.stratum = 2;
    v[0].s.pkt.poll_log2 = 6;
    v[0].s.pkt.root_delay = 0x800;
    v[0].s.pkt.root_disp = 0x1000;
    v[0].s.pkt.refid = 0x7f000001;
    v[0].s.t1 = ntk_ts_make(0xeeb21f34u, 0x8ed35800u);
    v[0].s.t2 = ntk_ts_make(0xeeb21f34u, 0x80000000u);
    v[0].s.t3 = ntk_ts_make(0xeeb21f35u, 0x1f2a3b4cu);
    v[0].s.t4 = ntk_ts_make(0xeeb21f35u, 0x80000000u);
    v[0].s.delay_s = 0.0123456789;
    v[0].s.dispersion_s = 0.000001;
    v[0].s.sync_distance_s = 0.05;
    v[0].selected = true;
    /* 1: kiss-o'-death RATE. */
    memset(&v[1], 0, sizeof v[1]);
    v[1].host = "kod.example";
    assert_int_equal(cli_resolve("192.0.2.7", 123, AF_UNSPEC, &v[1].target, 1), 1);
    v[1].verdict = NTK_SNTP_KOD;
    v[1].replied = true;
    v[1].error = "kod";
    set_msg(&v[1], "kiss-o'-death RATE: server refuses or limits us");
    v[1].s.pkt = (struct ntk_pkt){.leap = NTK_LEAP_UNSYNC,
                                  .version = 4,
                                  .mode = NTK_MODE_SERVER,
                                  .stratum = 0,
                                  .poll_log2 = 4,
                                  .precision_log2 = -25,
                                  .refid = 0x52415445};
    v[1].s.kiss = NTK_KISS_RATE;
    memcpy(v[1].s.kiss_code, "RATE", 5);
    v[1].s.t1 = ntk_ts_make(0xeeb21f34u, 0);
    v[1].s.t4 = ntk_ts_make(0xeeb21f34u, 0x40000000u);
    /* 2: timeout. */
    memset(&v[2], 0, sizeof v[2]);
    v[2].host = "127.0.0.3";
    assert_int_equal(cli_resolve("127.0.0.3", 123, AF_UNSPEC, &v[2].target, 1), 1);
    v[2].round = 1;
    v[2].verdict = NTK_SNTP_VERDICT_COUNT;
    v[2].error = "timeout";
    set_msg(&v[2], "no reply within 5 s");
    /* 3: lookup failure, no target. */
    memset(&v[3], 0, sizeof v[3]);
    v[3].host = "bad..name.invalid";
    v[3].verdict = NTK_SNTP_VERDICT_COUNT;
    v[3].error = "lookup_failed";
    set_msg(&v[3], "lookup failed: Name or service not known");
}

static void json_lines(void **state)
{
    (void)state;
    set_tz("UTC");
    struct dig_result v[4];
    json_results(v);
    struct dig_results res = {.v = v, .n = 4, .cap = 4};
    struct dig_opts o;
    memset(&o, 0, sizeof o);
    o.json = true;
    struct timespec near = {.tv_sec = T_2026, .tv_nsec = 0};
    struct cap co;
    cap_begin(&co, STDOUT_FILENO);
    dig_report(&o, &res, DIG_ADJ_STEPPED, &near);
    char *out = cap_end(&co);
    json_object *j[8];
    char *raw[8];
    assert_int_equal(parse_lines(out, j, raw, 8), 4);
    for (size_t i = 0; i < 4; i++)
        expect_all_keys(j[i]);
    assert_null(strchr(raw[0], ' ')); /* compact */

    /* The selected sample. */
    json_object *a = j[0];
    assert_non_null(strstr(raw[0], "\"offset\":-0.000775000,"));
    assert_non_null(strstr(raw[0], "\"precision\":0.001232000,"));
    assert_non_null(strstr(raw[0], "\"delay\":0.012345679,"));
    assert_non_null(strstr(raw[0], "\"root_delay\":0.031250000,"));
    assert_non_null(strstr(raw[0], "\"root_dispersion\":0.062500000,"));
    assert_non_null(strstr(raw[0], "\"sync_distance\":0.050000000,"));
    assert_non_null(strstr(raw[0], "\"dispersion\":0.000001000,"));
    assert_int_equal(strncmp(raw[0], "{\"schema\":\"ntpkit.ntpdig/1\",\"time\":", 35), 0);
    expect_str(a, "time", "2026-11-26T03:00:05.121738+0000");
    expect_num(a, "offset", -0.000775, 1e-12);
    expect_num(a, "precision", 0.001232, 1e-12);
    expect_str(a, "host", "127.0.0.1");
    expect_str(a, "ip", "127.0.0.1");
    expect_int(a, "port", 123);
    expect_int(a, "stratum", 2);
    expect_str(a, "leap", "no-leap");
    expect_bool(a, "adjusted", true);
    expect_str(a, "adjustment", "stepped");
    expect_bool(a, "ok", true);
    expect_null(a, "error");
    expect_null(a, "message");
    expect_null(a, "kiss_code");
    expect_str(a, "refid", "127.0.0.1");
    expect_str(a, "refid_hex", "7f000001");
    expect_int(a, "version", 4);
    expect_int(a, "mode", 4);
    expect_int(a, "li", 0);
    expect_int(a, "precision_log2", -20);
    expect_int(a, "poll_log2", 6);
    expect_bool(a, "authenticated", false);
    expect_null(a, "key_id");
    expect_str(a, "t1", "eeb21f34.8ed35800");
    expect_str(a, "t2", "eeb21f34.80000000");
    expect_str(a, "t3", "eeb21f35.1f2a3b4c");
    expect_str(a, "t4", "eeb21f35.80000000");
    expect_str(a, "t1_iso", "2026-11-26T03:00:04.557912350Z");
    expect_str(a, "t2_iso", "2026-11-26T03:00:04.500000000Z");
    expect_str(a, "t3_iso", "2026-11-26T03:00:05.121738154Z");
    expect_str(a, "t4_iso", "2026-11-26T03:00:05.500000000Z");
    expect_int(a, "sample", 0);
    expect_bool(a, "selected", true);

    /* The kiss-o'-death. */
    json_object *k = j[1];
    expect_bool(k, "ok", false);
    expect_str(k, "error", "kod");
    expect_str(k, "message", "kiss-o'-death RATE: server refuses or limits us");
    expect_str(k, "kiss_code", "RATE");
    expect_str(k, "refid", "RATE");
    expect_str(k, "refid_hex", "52415445");
    expect_int(k, "stratum", 0);
    expect_str(k, "leap", "unsync");
    expect_int(k, "li", 3);
    expect_int(k, "precision_log2", -25);
    expect_str(k, "host", "kod.example");
    expect_str(k, "ip", "192.0.2.7");
    expect_int(k, "port", 123);
    expect_str(k, "t1", "eeb21f34.00000000");
    expect_str(k, "t4_iso", "2026-11-26T03:00:04.250000000Z");
    expect_num(k, "root_delay", 0, 0);
    static const char unmeasured[] =
        "time offset precision delay sync_distance dispersion key_id";
    each_key(k, unmeasured, expect_null);

    /* The timeout and the lookup failure: nothing from the wire. */
    static const char wire[] = "time offset precision stratum leap delay kiss_code "
                               "sync_distance dispersion root_delay "
                               "root_dispersion refid refid_hex version mode li "
                               "precision_log2 poll_log2 key_id t1 t2 "
                               "t3 t4 t1_iso t2_iso t3_iso t4_iso";
    for (size_t l = 2; l < 4; l++) {
        each_key(j[l], wire, expect_null);
        expect_bool(j[l], "ok", false);
        expect_bool(j[l], "authenticated", false);
    }
    expect_str(j[2], "error", "timeout");
    expect_str(j[2], "message", "no reply within 5 s");
    expect_str(j[2], "ip", "127.0.0.3");
    expect_int(j[2], "port", 123);
    expect_int(j[2], "sample", 1);
    expect_str(j[3], "host", "bad..name.invalid");
    expect_str(j[3], "error", "lookup_failed");
    expect_null(j[3], "ip");
    expect_null(j[3], "port");
    expect_int(j[3], "sample", 0);

    /* adjusted/adjustment belong to the selected line only. */
    for (size_t l = 1; l < 4; l++) {
        expect_bool(j[l], "adjusted", false);
        expect_str(j[l], "adjustment", "none");
        expect_bool(j[l], "selected", false);
    }
    for (size_t i = 0; i < 4; i++)
        json_object_put(j[i]);
    free(out);
}

/* "adjusted" is true only for a successful adjustment; "failed" shows as such. */
static void json_adjustment_values(void **state)
{
    (void)state;
    set_tz("UTC");
    static const enum dig_adjustment adj[] = {DIG_ADJ_NONE, DIG_ADJ_SLEWED, DIG_ADJ_FAILED};
    static const char *const name[] = {"none", "slewed", "failed"};
    static const bool adjusted[] = {false, true, false};
    for (size_t i = 0; i < 3; i++) {
        struct dig_result v[4];
        json_results(v);
        struct dig_results res = {.v = v, .n = 1, .cap = 4};
        struct dig_opts o;
        memset(&o, 0, sizeof o);
        o.json = true;
        struct timespec near = {.tv_sec = T_2026, .tv_nsec = 0};
        struct cap co;
        cap_begin(&co, STDOUT_FILENO);
        dig_report(&o, &res, adj[i], &near);
        char *out = cap_end(&co);
        json_object *j[2];
        char *raw[2];
        assert_int_equal(parse_lines(out, j, raw, 2), 1);
        expect_str(j[0], "adjustment", name[i]);
        expect_bool(j[0], "adjusted", adjusted[i]);
        json_object_put(j[0]);
        free(out);
    }
}

/* ==== dig_select ==== */

static void ok_sample(struct dig_result *r, uint8_t stratum, double dist_s)
{
    memset(r, 0, sizeof *r);
    r->host = "h";
    r->verdict = NTK_SNTP_OK;
    r->replied = true;
    r->s.pkt.stratum = stratum;
    r->s.sync_distance_s = dist_s;
}

static void select_best(void **state)
{
    (void)state;
    struct dig_result v[6];
    ok_sample(&v[0], 3, 0.01);
    memset(&v[1], 0, sizeof v[1]);
    v[1].verdict = NTK_SNTP_VERDICT_COUNT; /* a timeout */
    ok_sample(&v[2], 2, 0.5);
    ok_sample(&v[3], 2, 0.1);
    ok_sample(&v[4], 0, 0.0); /* a kiss-o'-death has stratum 0 but is not OK */
    v[4].verdict = NTK_SNTP_KOD;
    ok_sample(&v[5], 2, 0.1); /* a tie: the first one stays */
    struct dig_results res = {.v = v, .n = 6, .cap = 6};
    struct dig_result *best = dig_select(&res);
    assert_ptr_equal(best, &v[3]);
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(v[i].selected, i == 3);

    /* Stratum first: a worse distance at a lower stratum still wins. */
    ok_sample(&v[0], 1, 2.0);
    ok_sample(&v[1], 2, 0.001);
    res.n = 2;
    assert_ptr_equal(dig_select(&res), &v[0]);
    assert_true(v[0].selected);
    assert_false(v[1].selected);

    /* Then root delay, then delay (ntk_sntp_compare). */
    ok_sample(&v[0], 2, 0.1);
    v[0].s.root_delay_s = 0.2;
    ok_sample(&v[1], 2, 0.1);
    v[1].s.root_delay_s = 0.1;
    v[1].s.delay_s = 0.3;
    ok_sample(&v[2], 2, 0.1);
    v[2].s.root_delay_s = 0.1;
    v[2].s.delay_s = 0.2;
    res.n = 3;
    assert_ptr_equal(dig_select(&res), &v[2]);
    assert_false(v[0].selected);
    assert_false(v[1].selected);

    /* Nothing acceptable, or nothing at all. */
    for (size_t i = 0; i < 3; i++) {
        v[i].verdict = NTK_SNTP_UNSYNC;
        v[i].selected = false;
    }
    assert_null(dig_select(&res));
    for (size_t i = 0; i < 3; i++)
        assert_false(v[i].selected);
    res.n = 0;
    assert_null(dig_select(&res));
}

/* ==== dig_main against a loopback server ==== */

enum srv_mode {
    SRV_OK,           /* a valid reply */
    SRV_KOD_RATE,     /* a RATE kiss-o'-death */
    SRV_WRONG_ORIGIN, /* a reply whose origin is not the request's transmit timestamp */
    SRV_JUNK_FIRST,   /* a zero-origin server packet (forgeable by anyone), then a valid one */
    SRV_SILENT,       /* no answer at all */
};

struct srv {
    int fd;
    uint16_t port;
    enum srv_mode mode;
    double shift_s;  /* added to T2 and T3 */
    atomic_int stop; /* set by the test when done */
    atomic_int nreq; /* requests received */
    atomic_int nbad; /* requests that were not data-minimised mode-3 packets */
    pthread_t th;
};

static double mono_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static ntk_ts now_ts(double shift_s)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return ntk_ts_add(ntk_ts_from_timespec(&t), ntk_dur_from_s(shift_s));
}

static bool is_minimal_request(const uint8_t *b, ssize_t n)
{
    if (n != NTK_PKT_HDR_LEN || b[0] != 0x23) /* LI 0, VN 4, mode 3 */
        return false;
    for (int i = 1; i < 40; i++)
        if (b[i] != 0)
            return false;
    return true;
}

static void srv_send(struct srv *s, const struct ntk_pkt *p, const struct sockaddr_storage *to,
                     socklen_t tolen)
{
    uint8_t out[NTK_PKT_HDR_LEN];
    struct ntk_wr w;
    ntk_wr_init(&w, out, sizeof out);
    if (ntk_pkt_encode(&w, p) == 0)
        (void)sendto(s->fd, out, ntk_wr_len(&w), 0, (const struct sockaddr *)to, tolen);
}

static void srv_answer(struct srv *s, const uint8_t *b, ssize_t n, ntk_ts t2,
                       const struct sockaddr_storage *from, socklen_t fromlen)
{
    struct ntk_pkt req;
    if (s->mode == SRV_SILENT)
        return;
    if (!is_minimal_request(b, n) || ntk_pkt_decode(b, (size_t)n, &req, NULL, NULL) != 0) {
        atomic_fetch_add(&s->nbad, 1);
        return;
    }
    struct ntk_pkt p = {.leap = NTK_LEAP_NONE,
                        .version = 4,
                        .mode = NTK_MODE_SERVER,
                        .stratum = 2,
                        .poll_log2 = 6,
                        .precision_log2 = -20,
                        .root_delay = ntk_short_from_s(0.001),
                        .root_disp = ntk_short_from_s(0.002),
                        .refid = 0x7f000001,
                        .reftime = ntk_ts_make(ntk_ts_sec(t2) - 16, 0),
                        .org = req.xmt,
                        .rec = t2};
    if (s->mode == SRV_KOD_RATE) {
        p.leap = NTK_LEAP_UNSYNC;
        p.stratum = 0;
        p.refid = 0x52415445; /* "RATE" */
    } else if (s->mode == SRV_WRONG_ORIGIN) {
        p.org = ntk_ts_make(ntk_ts_sec(req.xmt) ^ 1, ntk_ts_frac(req.xmt));
    } else if (s->mode == SRV_JUNK_FIRST) {
        struct ntk_pkt junk = p;
        junk.org = ntk_ts_make(0, 0);
        junk.xmt = now_ts(1000.0);
        srv_send(s, &junk, from, fromlen);
    }
    p.xmt = now_ts(s->shift_s);
    srv_send(s, &p, from, fromlen);
}

/* Serves until told to stop, or 20 s at most. */
static void *srv_run(void *arg)
{
    struct srv *s = arg;
    double end = mono_s() + 20.0;
    while (atomic_load(&s->stop) == 0 && mono_s() < end) {
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        if (poll(&p, 1, 20) <= 0)
            continue;
        uint8_t buf[1024];
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof from;
        ssize_t n = recvfrom(s->fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen);
        if (n < 0)
            continue;
        ntk_ts t2 = now_ts(s->shift_s);
        atomic_fetch_add(&s->nreq, 1);
        srv_answer(s, buf, n, t2, &from, fromlen);
    }
    return NULL;
}

static void srv_start(struct srv *s, enum srv_mode mode, double shift_s)
{
    memset(s, 0, sizeof *s);
    s->mode = mode;
    s->shift_s = shift_s;
    s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(s->fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t alen = sizeof a;
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &alen), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->th, NULL, srv_run, s), 0);
}

static void srv_stop(struct srv *s)
{
    atomic_store(&s->stop, 1);
    assert_int_equal(pthread_join(s->th, NULL), 0);
    close(s->fd);
}

/* Runs dig_main with "--port=<s->port>" then args; captures stdout and stderr. */
static int run_dig(const struct srv *s, const char *const *args, struct ntk_clk_ops *clk,
                   char **out, char **err)
{
    char port[32];
    snprintf(port, sizeof port, "--port=%u", (unsigned)s->port);
    const char *all[MAX_ARGS];
    size_t n = 0;
    all[n++] = port;
    for (; args[n - 1] != NULL; n++)
        all[n] = args[n - 1];
    all[n] = NULL;
    int argc;
    char **argv = make_argv(all, &argc);
    struct cap co, ce;
    cap_begin(&co, STDOUT_FILENO);
    cap_begin(&ce, STDERR_FILENO);
    int rc = dig_main(argc, argv, clk);
    *err = cap_end(&ce);
    *out = cap_end(&co);
    return rc;
}

/* Checks the JSON of two accepted samples from s, shift_s ahead; adj on the selected one. */
static void e2e_check_json(char *out, const struct srv *s, double shift_s, const char *adj)
{
    json_object *j[4];
    char *raw[4];
    size_t n = parse_lines(out, j, raw, 4);
    assert_int_equal(n, 2);
    int selected = 0;
    for (size_t i = 0; i < n; i++) {
        expect_all_keys(j[i]);
        expect_bool(j[i], "ok", true);
        expect_null(j[i], "error");
        expect_str(j[i], "host", "127.0.0.1");
        expect_str(j[i], "ip", "127.0.0.1");
        expect_int(j[i], "port", s->port);
        expect_int(j[i], "stratum", 2);
        expect_int(j[i], "sample", (int64_t)i);
        expect_str(j[i], "refid", "127.0.0.1");
        expect_num(j[i], "offset", shift_s, 0.01);
        expect_num(j[i], "delay", 0.049, 0.05); /* loopback: 0 (-1 ms slack) to 99 ms */
        bool sel = json_object_get_boolean(get(j[i], "selected"));
        selected += sel;
        expect_str(j[i], "adjustment", sel ? adj : "none");
        json_object_put(j[i]);
    }
    assert_int_equal(selected, 1);
}

static void e2e_ok(void **state)
{
    (void)state;
    set_tz("UTC");
    struct srv s;
    srv_start(&s, SRV_OK, 0.0);
    struct fake_clk f;
    struct ntk_clk_ops ops = fake_ops(&f);
    static const char *const args[] = {"-j", "-p", "2", "-t", "2", "127.0.0.1", NULL};
    char *out, *err;
    int rc = run_dig(&s, args, &ops, &out, &err);
    srv_stop(&s);
    assert_string_equal(err, "");
    assert_int_equal(rc, DIG_EXIT_OK);
    assert_int_equal(atomic_load(&s.nreq), 2);
    assert_int_equal(atomic_load(&s.nbad), 0);
    e2e_check_json(out, &s, 0.0, "none");
    assert_int_equal(f.nprivs + f.nsteps + f.nslews, 0);
    free(out);
    free(err);
}

static void e2e_text(void **state)
{
    (void)state;
    set_tz("UTC");
    struct srv s;
    srv_start(&s, SRV_OK, 0.0);
    struct fake_clk f;
    struct ntk_clk_ops ops = fake_ops(&f);
    static const char *const args[] = {"-t", "2", "127.0.0.1", NULL};
    char *out, *err;
    int rc = run_dig(&s, args, &ops, &out, &err);
    srv_stop(&s);
    assert_int_equal(rc, DIG_EXIT_OK);
    assert_string_equal(err, "");
    /* "YYYY-MM-DD HH:MM:SS.ffffff (+0000) +0.00xxxx +/- 0.00xxxx 127.0.0.1 s2 no-leap\n" */
    assert_int_equal(count_lines(out), 1);
    assert_int_equal(strlen(out), 79);
    assert_int_equal(strncmp(out + 26, " (+0000) ", 9), 0);
    assert_string_equal(out + 57, " 127.0.0.1 s2 no-leap\n");
    free(out);
    free(err);
}

static void e2e_step(void **state)
{
    (void)state;
    set_tz("UTC");
    struct srv s;
    srv_start(&s, SRV_OK, 2.5);
    struct fake_clk f;
    struct ntk_clk_ops ops = fake_ops(&f);
    static const char *const args[] = {"-j", "-p", "2", "-S", "-t", "2", "127.0.0.1", NULL};
    char *out, *err;
    int rc = run_dig(&s, args, &ops, &out, &err);
    srv_stop(&s);
    assert_string_equal(err, "");
    assert_int_equal(rc, DIG_EXIT_OK);
    assert_int_equal(atomic_load(&s.nreq), 2);
    assert_int_equal(f.nprivs, 1);
    assert_int_equal(f.nsteps, 1);
    assert_int_equal(f.nslews, 0);
    assert_near(f.last_s, 2.5, 0.01);
    e2e_check_json(out, &s, 2.5, "stepped");
    free(out);
    free(err);
}

/* -S -s -M 3000: 2.5 s is within the limit, so it is slewed; a failing slew exits 1. */
static void e2e_slew_and_failure(void **state)
{
    (void)state;
    set_tz("UTC");
    struct srv s;
    srv_start(&s, SRV_OK, 2.5);
    struct fake_clk f;
    struct ntk_clk_ops ops = fake_ops(&f);
    static const char *const args[] = {"-S", "-s", "-M", "3000", "-t", "2", "127.0.0.1", NULL};
    char *out, *err;
    assert_int_equal(run_dig(&s, args, &ops, &out, &err), DIG_EXIT_OK);
    assert_string_equal(err, "");
    assert_int_equal(f.nslews, 1);
    assert_int_equal(f.nsteps, 0);
    assert_near(f.last_s, 2.5, 0.01);
    free(out);
    free(err);
    ops = fake_ops(&f);
    f.slew_rc = -EPERM;
    int rc = run_dig(&s, args, &ops, &out, &err);
    srv_stop(&s);
    assert_int_equal(rc, DIG_EXIT_FAIL);
    assert_int_equal(count_lines(out), 1); /* the sample is still reported */
    assert_int_equal(count_lines(err), 1);
    assert_int_equal(strncmp(err, "ntpdig: cannot slew the clock by +2.", 36), 0);
    assert_non_null(strstr(err, " s: Operation not permitted\n"));
    free(out);
    free(err);
}

static void e2e_kod_rate(void **state)
{
    (void)state;
    struct srv s;
    srv_start(&s, SRV_KOD_RATE, 0.0);
    struct fake_clk f;
    struct ntk_clk_ops ops = fake_ops(&f);
    static const char *const args[] = {"-p", "3", "-S", "-t", "1", "127.0.0.1", NULL};
    char *out, *err;
    int rc = run_dig(&s, args, &ops, &out, &err);
    usleep(50000); /* any further request would have arrived by now */
    srv_stop(&s);
    assert_int_equal(rc, DIG_EXIT_FAIL);
    assert_int_equal(atomic_load(&s.nreq), 1);
    assert_string_equal(out, "");
    assert_string_equal(err, "ntpdig: 127.0.0.1: Response dropped: kiss-o'-death RATE: server "
                             "refuses or limits us; not asked again in this run\n"
                             "ntpdig: no eligible servers\n");
    assert_int_equal(f.nprivs + f.nsteps + f.nslews, 0);
    free(out);
    free(err);
}

static void e2e_kod_rate_json(void **state)
{
    (void)state;
    struct srv s;
    srv_start(&s, SRV_KOD_RATE, 0.0);
    struct fake_clk f;
    struct ntk_clk_ops ops = fake_ops(&f);
    static const char *const args[] = {"-j", "-p", "3", "-t", "1", "127.0.0.1", NULL};
    char *out, *err;
    int rc = run_dig(&s, args, &ops, &out, &err);
    srv_stop(&s);
    assert_int_equal(rc, DIG_EXIT_FAIL);
    assert_int_equal(atomic_load(&s.nreq), 1);
    json_object *j[4];
    char *raw[4];
    assert_int_equal(parse_lines(out, j, raw, 4), 1);
    expect_all_keys(j[0]);
    expect_str(j[0], "error", "kod");
    expect_str(j[0], "kiss_code", "RATE");
    expect_int(j[0], "stratum", 0);
    expect_bool(j[0], "selected", false);
    json_object_put(j[0]);
    free(out);
    free(err);
}

static void e2e_wrong_origin(void **state)
{
    (void)state;
    struct srv s;
    srv_start(&s, SRV_WRONG_ORIGIN, 0.0);
    struct fake_clk f;
    struct ntk_clk_ops ops = fake_ops(&f);
    static const char *const args[] = {"-t", "0.3", "127.0.0.1", NULL};
    char *out, *err;
    double t0 = mono_s();
    int rc = run_dig(&s, args, &ops, &out, &err);
    double took = mono_s() - t0;
    srv_stop(&s);
    assert_int_equal(rc, DIG_EXIT_FAIL);
    assert_int_equal(atomic_load(&s.nreq), 1);
    assert_true(took >= 0.3 && took < 2.0);
    assert_string_equal(out, "");
    assert_string_equal(err, "ntpdig: 127.0.0.1 (127.0.0.1): no valid reply within 0.3 s "
                             "(ignored: origin timestamp does not match the request (not our "
                             "reply))\n"
                             "ntpdig: no eligible servers\n");
    free(out);
    free(err);
}

/* A packet that fails a test before the origin check proves nothing about its sender (an
 * off-path attacker can forge it), so it must not end the exchange: the valid reply that
 * follows is taken. */
static void e2e_forged_packet_ignored(void **state)
{
    (void)state;
    set_tz("UTC");
    struct srv s;
    srv_start(&s, SRV_JUNK_FIRST, 0.0);
    struct fake_clk f;
    struct ntk_clk_ops ops = fake_ops(&f);
    static const char *const args[] = {"-t", "1", "127.0.0.1", NULL};
    char *out, *err;
    int rc = run_dig(&s, args, &ops, &out, &err);
    srv_stop(&s);
    assert_string_equal(err, "");
    assert_int_equal(rc, DIG_EXIT_OK);
    assert_int_equal(count_lines(out), 1);
    free(out);
    free(err);
}

/* Nothing listens on the port: the ICMP port unreachable ends the wait at once. */
static void e2e_port_unreachable(void **state)
{
    (void)state;
    struct srv s;
    srv_start(&s, SRV_SILENT, 0.0);
    srv_stop(&s); /* the port is now closed */
    struct fake_clk f;
    struct ntk_clk_ops ops = fake_ops(&f);
    static const char *const args[] = {"-j", "-t", "3", "127.0.0.1", NULL};
    char *out, *err;
    double t0 = mono_s();
    int rc = run_dig(&s, args, &ops, &out, &err);
    double took = mono_s() - t0;
    assert_int_equal(rc, DIG_EXIT_FAIL);
    assert_true(took < 1.5);
    assert_string_equal(err, "ntpdig: 127.0.0.1 (127.0.0.1): port unreachable: no NTP server "
                             "there\n"
                             "ntpdig: no eligible servers\n");
    json_object *j[2];
    char *raw[2];
    assert_int_equal(parse_lines(out, j, raw, 2), 1);
    expect_all_keys(j[0]);
    expect_str(j[0], "error", "unreachable");
    expect_null(j[0], "stratum");
    json_object_put(j[0]);
    free(out);
    free(err);
}

static void e2e_usage_and_files(void **state)
{
    (void)state;
    struct srv s;
    srv_start(&s, SRV_OK, 0.0);
    struct fake_clk f;
    struct ntk_clk_ops ops = fake_ops(&f);
    char *out, *err;
    static const char *const bad[] = {"-o", "127.0.0.1", NULL};
    assert_int_equal(run_dig(&s, bad, &ops, &out, &err), DIG_EXIT_USAGE);
    free(out);
    free(err);
    static const char *const help[] = {"-h", NULL};
    assert_int_equal(run_dig(&s, help, &ops, &out, &err), DIG_EXIT_OK);
    free(out);
    free(err);
    static const char *const nokeys[] = {"-k", "/nonexistent/ntp.keys", "127.0.0.1", NULL};
    assert_int_equal(run_dig(&s, nokeys, &ops, &out, &err), DIG_EXIT_FAIL);
    assert_int_equal(count_lines(err), 1);
    free(out);
    free(err);
    static const char *const nokey[] = {
        "-a", "9", "-k", NTK_TEST_DATA_DIR "/symkey.keys", "127.0.0.1", NULL};
    assert_int_equal(run_dig(&s, nokey, &ops, &out, &err), DIG_EXIT_FAIL);
    assert_non_null(strstr(err, "no valid key 9"));
    free(out);
    free(err);
    static const char *const nolog[] = {"-l", "/nonexistent/dig.log", "127.0.0.1", NULL};
    assert_int_equal(run_dig(&s, nolog, &ops, &out, &err), DIG_EXIT_FAIL);
    assert_string_equal(err, "ntpdig: cannot open log file /nonexistent/dig.log: No such file "
                             "or directory\n");
    free(out);
    free(err);
    static const char *const badbind[] = {"-I", "nonnumeric", "127.0.0.1", NULL};
    assert_int_equal(run_dig(&s, badbind, &ops, &out, &err), DIG_EXIT_USAGE);
    free(out);
    free(err);
    srv_stop(&s);
    assert_int_equal(atomic_load(&s.nreq), 0);
}

/* With -l, diagnostics go to the file and stderr stays empty. */
static void e2e_logfile(void **state)
{
    (void)state;
    struct srv s;
    srv_start(&s, SRV_SILENT, 0.0);
    struct fake_clk f;
    struct ntk_clk_ops ops = fake_ops(&f);
    char path[] = "/tmp/test_dig_log_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "old\n", 4), 4);
    close(fd);
    const char *args[] = {"-l", path, "-t", "0.1", "127.0.0.1", NULL};
    char *out, *err;
    assert_int_equal(run_dig(&s, args, &ops, &out, &err), DIG_EXIT_FAIL);
    srv_stop(&s);
    assert_int_equal(atomic_load(&s.nreq), 1);
    assert_string_equal(err, "");
    free(out);
    free(err);
    size_t len;
    char *log = tu_read_file(path, &len);
    assert_non_null(log);
    assert_string_equal(log, "ntpdig: 127.0.0.1 (127.0.0.1): no reply within 0.1 s\n"
                             "ntpdig: no eligible servers\n");
    free(log);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(opts_defaults),
        cmocka_unit_test(opts_each_option_sets_its_field),
        cmocka_unit_test(opts_key_id_needs_keyfile),
        cmocka_unit_test(opts_hosts_order),
        cmocka_unit_test(opts_host_limit),
        cmocka_unit_test(opts_usage_errors),
        cmocka_unit_test(opts_error_names_the_option),
        cmocka_unit_test(opts_help_and_version),
        cmocka_unit_test(opts_parse_resets_getopt),
        cmocka_unit_test(adjust_rule_table),
        cmocka_unit_test(adjust_failures),
        cmocka_unit_test(adjustment_names),
        cmocka_unit_test(text_line),
        cmocka_unit_test(text_line_next_era),
        cmocka_unit_test(text_report_selected_only),
        cmocka_unit_test(json_lines),
        cmocka_unit_test(json_adjustment_values),
        cmocka_unit_test(select_best),
        cmocka_unit_test(e2e_ok),
        cmocka_unit_test(e2e_text),
        cmocka_unit_test(e2e_step),
        cmocka_unit_test(e2e_slew_and_failure),
        cmocka_unit_test(e2e_kod_rate),
        cmocka_unit_test(e2e_kod_rate_json),
        cmocka_unit_test(e2e_wrong_origin),
        cmocka_unit_test(e2e_forged_packet_ignored),
        cmocka_unit_test(e2e_port_unreachable),
        cmocka_unit_test(e2e_usage_and_files),
        cmocka_unit_test(e2e_logfile),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free_arena();
    return rc;
}
