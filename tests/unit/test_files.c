/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for daemon/io/files.c: atomic write, drift file parser/reader/writer, and the
 * drift write policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "files.h"
#include "ntk/err.h"
#include "testutil.h"

#include "poison.h"

/* ---------------------------------------------------------------------------------------- */
/* Helpers: a scratch directory per test                                                    */
/* ---------------------------------------------------------------------------------------- */

static char dir[64];

static int make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/ntk_files_XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    return chmod(dir, 0755);
}

static int remove_dir(void **state)
{
    (void)state;
    chmod(dir, 0755);
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            if (unlink(p) != 0) {
                rmdir(p);
            }
        }
    }
    if (d) {
        closedir(d);
    }
    return rmdir(dir);
}

static void path_of(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

/* Number of directory entries other than . and .. */
static int count_entries(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)) != NULL) {
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    }
    if (d) {
        closedir(d);
    }
    return n;
}

static void write_raw(const char *path, const char *text, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
}

static void assert_file_is(const char *path, const void *data, size_t len)
{
    size_t n = 0;
    char *got = tu_read_file(path, &n);
    assert_non_null(got);
    assert_int_equal(n, len);
    assert_memory_equal(got, data, len);
    free(got);
}

/* ---------------------------------------------------------------------------------------- */
/* Atomic write                                                                             */
/* ---------------------------------------------------------------------------------------- */

static void atomic_content_and_mode(void **state)
{
    (void)state;
    char path[256];
    path_of(path, sizeof path, "state");
    mode_t old = umask(077); /* the mode must be exact despite the umask */
    assert_int_equal(files_write_atomic(path, "hello\n", 6, 0644, NULL), 0);
    umask(old);
    assert_file_is(path, "hello\n", 6);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    assert_int_equal(count_entries(), 1);

    /* Replace: new content, new mode, still a single entry. */
    assert_int_equal(files_write_atomic(path, "bye", 3, 0600, NULL), 0);
    assert_file_is(path, "bye", 3);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(count_entries(), 1);

    /* Empty content is a valid file. */
    assert_int_equal(files_write_atomic(path, "", 0, 0644, NULL), 0);
    assert_file_is(path, "", 0);
}

/* Temp files left by a writer killed before its rename are removed by the next write once a
 * minute old; a younger one (maybe another writer's, in progress) and other files stay. */
static void atomic_removes_stale_temps(void **state)
{
    (void)state;
    char path[256], stale[300], fresh[300], other[300];
    path_of(path, sizeof path, "keys");
    snprintf(stale, sizeof stale, "%s.4242.0.tmp", path);
    snprintf(fresh, sizeof fresh, "%s.4243.0.tmp", path);
    snprintf(other, sizeof other, "%s.notes", path);
    const char *made[] = {stale, fresh, other};
    for (size_t i = 0; i < 3; i++) {
        FILE *f = fopen(made[i], "w");
        assert_non_null(f);
        fclose(f);
    }
    struct timespec old[2] = {{.tv_sec = time(NULL) - 120}, {.tv_sec = time(NULL) - 120}};
    assert_int_equal(utimensat(AT_FDCWD, stale, old, 0), 0);
    assert_int_equal(files_write_atomic(path, "k", 1, 0600, NULL), 0);
    assert_int_equal(access(stale, F_OK), -1);
    assert_int_equal(access(fresh, F_OK), 0);
    assert_int_equal(access(other, F_OK), 0);
    assert_file_is(path, "k", 1);
    unlink(fresh);
    unlink(other);
}

static void atomic_random_sizes_property(void **state)
{
    (void)state;
    tu_seed();
    char path[256];
    path_of(path, sizeof path, "blob");
    static uint8_t buf[200000];
    for (int i = 0; i < 40; i++) {
        size_t len = (size_t)(tu_rand() % sizeof buf);
        if (i % 4 == 0) {
            len %= 64;
        }
        tu_fill(buf, len);
        assert_int_equal(files_write_atomic(path, buf, len, 0640, NULL), 0);
        assert_file_is(path, buf, len);
        assert_int_equal(count_entries(), 1);
    }
}

/* A write cut short (RLIMIT_FSIZE makes write fail with EFBIG, the way a full disk fails with
 * ENOSPC) leaves the old file intact and no temp file behind. */
static void atomic_failed_write_keeps_old(void **state)
{
    (void)state;
    char path[256];
    path_of(path, sizeof path, "keep");
    assert_int_equal(files_write_atomic(path, "old\n", 4, 0644, NULL), 0);

    struct rlimit saved, small;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
    small = saved;
    small.rlim_cur = 1000;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    static uint8_t big[5000];
    char msg[512];
    struct ntk_sb err;
    ntk_sb_init(&err, msg, sizeof msg);
    int rc = files_write_atomic(path, big, sizeof big, 0644, &err);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
    signal(SIGXFSZ, prev);

    assert_int_equal(rc, EFBIG);
    assert_non_null(strstr(msg, path));
    assert_non_null(strstr(msg, "write"));
    assert_non_null(strstr(msg, strerror(EFBIG)));
    assert_file_is(path, "old\n", 4);
    assert_int_equal(count_entries(), 1);
}

/* The target is a directory: the rename fails, the temp file is removed. */
static void atomic_rename_failure_cleans_up(void **state)
{
    (void)state;
    char path[256];
    path_of(path, sizeof path, "adir");
    assert_int_equal(mkdir(path, 0755), 0);
    char sub[300];
    snprintf(sub, sizeof sub, "%s/x", path);
    write_raw(sub, "x", 1);
    char msg[512];
    struct ntk_sb err;
    ntk_sb_init(&err, msg, sizeof msg);
    int rc = files_write_atomic(path, "data", 4, 0644, &err);
    assert_true(rc == EISDIR || rc == ENOTEMPTY || rc == EEXIST);
    assert_non_null(strstr(msg, "rename"));
    assert_int_equal(count_entries(), 1);
    assert_file_is(sub, "x", 1);
    unlink(sub);
    rmdir(path);
}

/* Runs one write into the unwritable scratch directory; returns its errno. */
static int write_into_readonly_dir(const char *path)
{
    char msg[512];
    struct ntk_sb err;
    ntk_sb_init(&err, msg, sizeof msg);
    int rc = files_write_atomic(path, "new\n", 4, 0644, &err);
    if (rc != 0 && (strstr(msg, path) == NULL || strstr(msg, strerror(rc)) == NULL)) {
        return -1;
    }
    return rc;
}

/* An unwritable directory: EACCES reported with the path, the old file intact. As root the
 * check runs in a child that has dropped to uid/gid 65534 (root ignores permissions). */
static void atomic_unwritable_dir(void **state)
{
    (void)state;
    char path[256];
    path_of(path, sizeof path, "ro");
    assert_int_equal(files_write_atomic(path, "old\n", 4, 0644, NULL), 0);
    int rc;
    if (geteuid() != 0) {
        assert_int_equal(chmod(dir, 0555), 0);
        rc = write_into_readonly_dir(path);
        chmod(dir, 0755);
    } else {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            if (setgid(65534) != 0 || setuid(65534) != 0) {
                _exit(200);
            }
            int e = write_into_readonly_dir(path);
            _exit(e < 0 ? 201 : e);
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        rc = WEXITSTATUS(status);
    }
    assert_int_equal(rc, EACCES);
    assert_file_is(path, "old\n", 4);
    assert_int_equal(count_entries(), 1);
}

static void atomic_bad_arguments(void **state)
{
    (void)state;
    char msg[256];
    struct ntk_sb err;
    ntk_sb_init(&err, msg, sizeof msg);
    assert_int_equal(files_write_atomic("", "x", 1, 0644, &err), EINVAL);
    assert_int_equal(files_write_atomic("/nonexistent-dir-ntk/f", "x", 1, 0644, NULL), ENOENT);
}

/* ---------------------------------------------------------------------------------------- */
/* Drift file parser                                                                        */
/* ---------------------------------------------------------------------------------------- */

struct good_case {
    const char *text;
    double want;
};

static void drift_parse_good(void **state)
{
    (void)state;
    static const struct good_case cases[] = {
        {"-12.345\n", -12.345},       /* NTPsec's example, ntpd 4.2.8 "%.3f" */
        {"-12.345678\n", -12.345678}, /* NTPsec 1.2 "%.6f" */
        {"0.000000\n", 0.0},
        {"500.000000\n", 500.0},
        {"-500\n", -500.0},
        {"+1.5", 1.5}, /* no newline at the end */
        {"  3.25 \t\r\n", 3.25},
        {".5\n", 0.5},
        {"5.\n", 5.0},
        {"0000012.5\n", 12.5},
        {"-0.000001\n", -0.000001},
        {"499.999999999999\n", 499.999999999999},
        {"7", 7.0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double v = -999;
        const char *reason = "unset";
        int rc = drift_parse(cases[i].text, strlen(cases[i].text), &v, &reason);
        if (rc != 0) {
            fail_msg("case %zu \"%s\": %d %s", i, cases[i].text, rc, reason);
        }
        assert_true(v == cases[i].want);
    }
}

struct bad_case {
    const char *text;
    size_t len; /* 0: strlen */
    int rc;
    const char *reason;
};

/* The corrupt-file corpus: every entry with the reason it is refused. */
static const struct bad_case bad_cases[] = {
    {"", 0, NTK_EFORMAT, "empty file"},
    {"\n", 0, NTK_EFORMAT, "no number"},
    {"   \t\n", 0, NTK_EFORMAT, "no number"},
    {"abc\n", 0, NTK_EFORMAT, "not a decimal number"},
    {"nan\n", 0, NTK_EFORMAT, "not a number (NaN)"},
    {"-NaN\n", 0, NTK_EFORMAT, "not a number (NaN)"},
    {"nan(0x1)\n", 0, NTK_EFORMAT, "not a number (NaN)"},
    {"inf\n", 0, NTK_EFORMAT, "infinite value"},
    {"-Infinity\n", 0, NTK_EFORMAT, "infinite value"},
    {"1e3\n", 0, NTK_EFORMAT, "exponent notation is not accepted"},
    {"1.5E-2\n", 0, NTK_EFORMAT, "exponent notation is not accepted"},
    {"0x1p3\n", 0, NTK_EFORMAT, "text after the number"},
    {"12abc\n", 0, NTK_EFORMAT, "text after the number"},
    {"1 2\n", 0, NTK_EFORMAT, "text after the number"},
    {"1,5\n", 0, NTK_EFORMAT, "text after the number"},
    {"--1\n", 0, NTK_EFORMAT, "not a decimal number"},
    {"-\n", 0, NTK_EFORMAT, "not a decimal number"},
    {".\n", 0, NTK_EFORMAT, "not a decimal number"},
    {"12\n13\n", 0, NTK_EFORMAT, "more than one line"},
    {"12\n\n", 0, NTK_EFORMAT, "more than one line"},
    {"1.0000000000001\n", 0, NTK_EFORMAT, "more than 12 fraction digits"},
    {"12\0", 3, NTK_EFORMAT, "contains a NUL byte"},
    {"500.000001\n", 0, NTK_ERANGE, "frequency beyond +-500 ppm"},
    {"-501\n", 0, NTK_ERANGE, "frequency beyond +-500 ppm"},
    {"1000\n", 0, NTK_ERANGE, "frequency beyond +-500 ppm"},
    {"99999999999999999999999999999\n", 0, NTK_ERANGE, "frequency beyond +-500 ppm"},
    {"-00000000000000000000000000001000.5\n", 0, NTK_ERANGE, "frequency beyond +-500 ppm"},
    {"1.00000000000000000000000000000000000000000000000000000000000000000000\n", 0,
     NTK_EFORMAT, "line too long"},
};

static void drift_parse_corrupt_corpus(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const struct bad_case *c = &bad_cases[i];
        size_t len = c->len ? c->len : strlen(c->text);
        double v = 42.0;
        const char *reason = NULL;
        int rc = drift_parse(c->text, len, &v, &reason);
        if (rc != c->rc || reason == NULL || strcmp(reason, c->reason) != 0) {
            fail_msg("case %zu: rc %d reason \"%s\", want %d \"%s\"", i, rc,
                     reason ? reason : "(null)", c->rc, c->reason);
        }
        assert_true(v == 42.0); /* never written on failure */
    }
}

static void drift_format_values(void **state)
{
    (void)state;
    char buf[64];
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    assert_int_equal(drift_format(-12.3456784, &sb), 0);
    assert_string_equal(buf, "-12.345678\n");
    ntk_sb_init(&sb, buf, sizeof buf);
    assert_int_equal(drift_format(500.0, &sb), 0);
    assert_string_equal(buf, "500.000000\n");
    ntk_sb_init(&sb, buf, sizeof buf);
    assert_int_equal(drift_format(-500.0, &sb), 0);
    assert_string_equal(buf, "-500.000000\n");
    ntk_sb_init(&sb, buf, sizeof buf);
    assert_int_equal(drift_format(NAN, &sb), NTK_EINVAL);
    assert_int_equal(drift_format(INFINITY, &sb), NTK_EINVAL);
    assert_int_equal(drift_format(500.0001, &sb), NTK_EINVAL);
    assert_int_equal(drift_format(-1e300, &sb), NTK_EINVAL);
    assert_string_equal(buf, "");
    char tiny[4];
    ntk_sb_init(&sb, tiny, sizeof tiny);
    assert_int_equal(drift_format(1.0, &sb), NTK_ENOSPC);
}

/* format -> parse gives the value back within half a unit of the 6th decimal, and formats
 * to the same text again; the edges +-500 and 0 included. */
static void drift_round_trip_property(void **state)
{
    (void)state;
    tu_seed();
    for (int i = 0; i < 20000; i++) {
        double x;
        switch (i) {
        case 0:
            x = 500.0;
            break;
        case 1:
            x = -500.0;
            break;
        case 2:
            x = 0.0;
            break;
        case 3:
            x = 499.9999994;
            break;
        default:
            x = ((double)(tu_rand() >> 11) / 9007199254740992.0) * 1000.0 - 500.0;
            break;
        }
        char a[64], b[64];
        struct ntk_sb sa, sb2;
        ntk_sb_init(&sa, a, sizeof a);
        assert_int_equal(drift_format(x, &sa), 0);
        double y = 1e9;
        const char *reason = NULL;
        assert_int_equal(drift_parse(a, strlen(a), &y, &reason), 0);
        assert_true(fabs(y - x) <= 5.000001e-7);
        ntk_sb_init(&sb2, b, sizeof b);
        assert_int_equal(drift_format(y, &sb2), 0);
        assert_string_equal(a, b);
        /* Every truncation of the line parses or is refused as a format error. */
        size_t n = strlen(a);
        for (size_t k = 0; k + 1 < n; k++) {
            double z = 1e9;
            int rc = drift_parse(a, k, &z, &reason);
            assert_true(rc == 0 || rc == NTK_EFORMAT);
        }
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Drift file on disk                                                                       */
/* ---------------------------------------------------------------------------------------- */

static void drift_read_write_files(void **state)
{
    (void)state;
    char path[256], msg[512];
    struct ntk_sb err;
    path_of(path, sizeof path, "ntp.drift");
    double v = 7.0;

    ntk_sb_init(&err, msg, sizeof msg);
    assert_int_equal(drift_read(path, &v, &err), DRIFT_NOFILE);
    assert_string_equal(msg, "");
    assert_true(v == 7.0);

    assert_int_equal(drift_write(path, -12.345678, NULL), 0);
    assert_file_is(path, "-12.345678\n", 11);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    assert_int_equal(drift_read(path, &v, &err), DRIFT_OK);
    assert_true(v == -12.345678);
    assert_int_equal(count_entries(), 1);

    /* Corrupt: reported with the path and the reason, value untouched. */
    write_raw(path, "nan\n", 4);
    ntk_sb_init(&err, msg, sizeof msg);
    v = 3.0;
    assert_int_equal(drift_read(path, &v, &err), DRIFT_CORRUPT);
    assert_true(v == 3.0);
    char want[400];
    snprintf(want, sizeof want, "%s: corrupt drift file ignored: not a number (NaN)", path);
    assert_string_equal(msg, want);

    /* Too large. */
    static char big[1000];
    memset(big, '1', sizeof big);
    write_raw(path, big, sizeof big);
    ntk_sb_init(&err, msg, sizeof msg);
    assert_int_equal(drift_read(path, &v, &err), DRIFT_CORRUPT);
    assert_non_null(strstr(msg, "file too large"));

    /* Not a regular file. */
    char sub[256];
    path_of(sub, sizeof sub, "d.drift");
    assert_int_equal(mkdir(sub, 0755), 0);
    ntk_sb_init(&err, msg, sizeof msg);
    assert_int_equal(drift_read(sub, &v, &err), DRIFT_CORRUPT);
    assert_non_null(strstr(msg, "not a regular file"));
    rmdir(sub);

    /* Refused values are never written; the old file stays. */
    assert_int_equal(drift_write(path, 12.5, NULL), 0);
    ntk_sb_init(&err, msg, sizeof msg);
    assert_int_equal(drift_write(path, 600.0, &err), EINVAL);
    assert_int_equal(drift_write(path, NAN, NULL), EINVAL);
    assert_file_is(path, "12.500000\n", 10);
    assert_non_null(strstr(msg, path));
}

/* ---------------------------------------------------------------------------------------- */
/* Write policy                                                                             */
/* ---------------------------------------------------------------------------------------- */

struct policy_step {
    int64_t now_s;
    double freq_ppm;
    bool write;         /* expected answer */
    double written_ppm; /* expected state afterwards */
    double resid_ppm;
    int64_t last_check_s;
};

static void drift_policy_table(void **state)
{
    (void)state;
    /* Start at t=0 with 10 ppm read from the file. */
    static const struct policy_step steps[] = {
        {1000, 50.0, false, 10.0, 0.0, 0},       /* not an hour yet: nothing changes */
        {3599, 50.0, false, 10.0, 0.0, 0},       /* still not */
        {3600, 10.0, true, 10.0, 0.1, 3600},     /* first check: threshold 0 -> write */
        {7200, 10.05, false, 10.0, 0.05, 7200},  /* 0.05 < 0.1: halve */
        {10800, 10.05, true, 10.05, 0.1, 10800}, /* 0.05 !< 0.05: write, reset */
        {14400, 10.2, true, 10.2, 0.1, 14400},   /* 0.15 >= 0.1: write */
        {16000, 30.0, false, 10.2, 0.1, 14400},  /* within the hour: wait */
        {18000, 10.2, false, 10.2, 0.05, 18000}, /* unchanged: halve */
        {21600, 10.2, false, 10.2, 0.025, 21600},
        {25200, NAN, false, 10.2, 0.025, 25200},   /* NaN never written */
        {28800, 900.0, false, 10.2, 0.025, 28800}, /* out of range never written */
        {32400, 10.15, true, 10.15, 0.1, 32400},   /* 0.05 >= 0.025 */
        {39600, -10.0, true, -10.0, 0.1, 39600},   /* big jump, late check */
    };
    struct drift_policy p;
    drift_policy_init(&p, 10.0, 0);
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        const struct policy_step *s = &steps[i];
        struct drift_policy before = p, next;
        bool w = drift_should_write(&p, s->freq_ppm, s->now_s, &next);
        /* pure: the input state is untouched */
        assert_memory_equal(&before, &p, sizeof p);
        if (w != s->write || fabs(next.written_ppm - s->written_ppm) > 1e-12 ||
            fabs(next.resid_ppm - s->resid_ppm) > 1e-12 ||
            next.last_check_s != s->last_check_s) {
            fail_msg("step %zu: write %d written %.9f resid %.9f last %lld", i, w,
                     next.written_ppm, next.resid_ppm, (long long)next.last_check_s);
        }
        p = next;
    }
}

/* `driftfile F X` / `nonvolatile X` (threshold_ppm): after a write, a change smaller than
 * the threshold waits for it to halve; one at least as large is written at the next check. */
static void drift_policy_threshold(void **state)
{
    (void)state;
    struct drift_policy p;
    drift_policy_init(&p, 0.0, 0);
    p.threshold_ppm = 1.0;                              /* nonvolatile 1e-6 */
    assert_true(drift_should_write(&p, 5.0, 3600, &p)); /* the first check writes */
    assert_true(p.resid_ppm == 1.0);
    assert_false(drift_should_write(&p, 5.6, 7200, &p)); /* 0.6 ppm < 1: not yet */
    assert_true(p.resid_ppm == 0.5);
    assert_true(drift_should_write(&p, 5.6, 10800, &p));         /* 0.6 >= 0.5 */
    assert_true(drift_should_write(&p, 6.7, 14400, &p) == true); /* 1.1 >= 1 */
    drift_policy_init(&p, 0.0, 0);
    assert_true(p.threshold_ppm == DRIFT_WANDER_THRESHOLD_PPM);
}

/* Over 1000 hours of a random walk: never two writes within an hour, and after every check
 * the written value is within the initial threshold of the frequency. */
static void drift_policy_property(void **state)
{
    (void)state;
    tu_seed();
    struct drift_policy p;
    drift_policy_init(&p, 0.0, 0);
    double f = 0.0;
    int64_t last_write = -DRIFT_CHECK_INTERVAL_S;
    int writes = 0;
    for (int64_t t = 0; t < 1000 * 3600; t += 600) {
        f += ((double)(tu_rand() % 2001) - 1000.0) * 1e-5;
        bool w = drift_should_write(&p, f, t, &p);
        if (w) {
            assert_true(t - last_write >= DRIFT_CHECK_INTERVAL_S);
            assert_true(p.written_ppm == f);
            last_write = t;
            writes++;
        }
        assert_true(p.resid_ppm <= DRIFT_WANDER_THRESHOLD_PPM);
        /* after every check the file is within the threshold of the frequency */
        if (p.last_check_s == t) {
            assert_true(w || fabs(f - p.written_ppm) < DRIFT_WANDER_THRESHOLD_PPM);
        }
    }
    assert_true(writes > 10 && writes <= 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(drift_policy_threshold),
        cmocka_unit_test_setup_teardown(atomic_content_and_mode, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(atomic_random_sizes_property, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(atomic_removes_stale_temps, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(atomic_failed_write_keeps_old, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(atomic_rename_failure_cleans_up, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(atomic_unwritable_dir, make_dir, remove_dir),
        cmocka_unit_test(atomic_bad_arguments),
        cmocka_unit_test(drift_parse_good),
        cmocka_unit_test(drift_parse_corrupt_corpus),
        cmocka_unit_test(drift_format_values),
        cmocka_unit_test(drift_round_trip_property),
        cmocka_unit_test_setup_teardown(drift_read_write_files, make_dir, remove_dir),
        cmocka_unit_test(drift_policy_table),
        cmocka_unit_test(drift_policy_property),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
