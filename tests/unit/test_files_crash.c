/* SPDX-License-Identifier: BSD-2-Clause */
/* Crash safety of files_write_atomic (daemon/io/files.c): a child process rewrites one file in
 * a loop and is killed with SIGKILL at random moments; the file must always hold one complete
 * version, never older than the last one seen, and at most one temp file may be left per kill.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "files.h"
#include "testutil.h"

#include "poison.h"

/* Kills per test, as issue 11 asks. */
#define KILLS 200

/* Largest version written, bytes: big enough that many kills land inside write() or fsync. */
#define BODY_MAX (256 * 1024)

/* Header of every version: "gen G len L sum S\n", then L body bytes. */
#define HDR_MAX 64

static char dir[64];
static char target[128];
static uint8_t buf[HDR_MAX + BODY_MAX];
static uint8_t readback[HDR_MAX + BODY_MAX + 1];

static int make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/ntk_fcrash_XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    snprintf(target, sizeof target, "%s/state", dir);
    return 0;
}

static int remove_dir(void **state)
{
    (void)state;
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
    return rmdir(dir);
}

/* The body byte i of version gen: a pattern that differs between versions and positions. */
static uint8_t body_byte(uint64_t gen, size_t i)
{
    return (uint8_t)('a' + (gen * 7 + i * 13 + i / 251) % 26);
}

/* Builds version gen of body length len into buf; returns the total length. */
static size_t make_version(uint64_t gen, size_t len)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < len; i++) {
        buf[HDR_MAX + i] = body_byte(gen, i);
        sum += buf[HDR_MAX + i];
    }
    int h = snprintf((char *)buf, HDR_MAX, "gen %llu len %zu sum %llu\n",
                     (unsigned long long)gen, len, (unsigned long long)sum);
    memmove(buf + h, buf + HDR_MAX, len);
    return (size_t)h + len;
}

/* Checks that the n bytes read are one complete version; returns its gen, or -1. */
static long long check_version(const uint8_t *p, size_t n)
{
    unsigned long long gen, sum;
    size_t len;
    const uint8_t *nl = memchr(p, '\n', n < HDR_MAX ? n : HDR_MAX);
    char hdr[HDR_MAX + 1];
    if (nl == NULL) {
        return -1;
    }
    size_t h = (size_t)(nl - p) + 1;
    memcpy(hdr, p, h);
    hdr[h] = '\0';
    char *end;
    if (strncmp(hdr, "gen ", 4) != 0) {
        return -1;
    }
    gen = strtoull(hdr + 4, &end, 10);
    if (strncmp(end, " len ", 5) != 0) {
        return -1;
    }
    len = (size_t)strtoull(end + 5, &end, 10);
    if (strncmp(end, " sum ", 5) != 0) {
        return -1;
    }
    sum = strtoull(end + 5, &end, 10);
    if (*end != '\n' || h + len != n) {
        return -1;
    }
    unsigned long long s = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[h + i] != body_byte(gen, i)) {
            return -1;
        }
        s += p[h + i];
    }
    return s == sum ? (long long)gen : -1;
}

/* Reads the target whole; returns its length, or -1 when it is missing or unreadable. */
static ssize_t read_target(mode_t *mode)
{
    int fd = open(target, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return -1;
    }
    *mode = st.st_mode & 07777;
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fd, readback + got, sizeof readback - got);
        if (r <= 0) {
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    return (ssize_t)got;
}

/* The writer: versions gen, gen+1, ... with random sizes, until it is killed. */
static _Noreturn void writer(uint64_t gen, uint64_t seed, mode_t mode)
{
    tu_state = seed;
    for (;;) {
        size_t len = (size_t)(tu_rand() % BODY_MAX);
        size_t n = make_version(gen, len);
        if (files_write_atomic(target, buf, n, mode, NULL) != 0) {
            _exit(3);
        }
        gen++;
    }
}

/* Removes the temp files the writer pid may have left ("<target>.<pid>.<n>.tmp"); counts
 * them and any other unexpected entry, and checks the temp files' mode. */
static void sweep(pid_t pid, mode_t mode, unsigned *temps, unsigned *others, unsigned *badmode)
{
    char prefix[160], p[512];
    snprintf(prefix, sizeof prefix, "state.%ld.", (long)pid);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            strcmp(e->d_name, "state") == 0) {
            continue;
        }
        size_t n = strlen(e->d_name);
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 && n > 4 &&
            strcmp(e->d_name + n - 4, ".tmp") == 0) {
            struct stat st;
            (*temps)++;
            /* a leftover must never be more readable than the file it was to replace */
            if (stat(p, &st) == 0 && (st.st_mode & 07777 & ~mode) != 0) {
                (*badmode)++;
            }
        } else {
            (*others)++;
        }
        unlink(p);
    }
    closedir(d);
}

/* KILLS writers, each SIGKILLed after 0..40 ms; checks the file after every kill. */
static void crash_loop(mode_t mode)
{
    tu_seed();
    umask(022);
    size_t n = make_version(0, 1000);
    assert_int_equal(files_write_atomic(target, buf, n, mode, NULL), 0);
    long long last = 0;
    unsigned temps = 0, others = 0, badmode = 0, max_temps = 0, advanced = 0, same = 0;
    for (int k = 0; k < KILLS; k++) {
        uint64_t seed = tu_rand();
        long delay_us = (long)(tu_rand() % 40000);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            writer((uint64_t)last + 1, seed, mode);
        }
        struct timespec ts = {.tv_sec = 0, .tv_nsec = delay_us * 1000};
        nanosleep(&ts, NULL);
        assert_int_equal(kill(pid, SIGKILL), 0);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        /* killed, not exited: an exit(3) would mean files_write_atomic failed */
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        mode_t got_mode = 0;
        ssize_t len = read_target(&got_mode);
        assert_true(len > 0);
        long long gen = check_version(readback, (size_t)len);
        if (gen < 0) {
            fail_msg("kill %d after %ld us: %s is not one complete version (%zd bytes)", k,
                     delay_us, target, len);
        }
        if (gen < last) {
            fail_msg("kill %d: %s went back from version %lld to %lld", k, target, last, gen);
        }
        assert_int_equal(got_mode, mode);
        advanced += gen > last;
        same += gen == last;
        last = gen;
        unsigned t = 0;
        sweep(pid, mode, &t, &others, &badmode);
        temps += t;
        max_temps = t > max_temps ? t : max_temps;
    }
    fprintf(stderr,
            "# mode %03o: %d kills, file advanced %u times, unchanged %u times, last version "
            "%lld; temp files left behind by a kill: %u in all, at most %u per kill\n",
            (unsigned)mode, KILLS, advanced, same, last, temps, max_temps);
    assert_int_equal(others, 0);
    assert_int_equal(badmode, 0);
    /* one writer has at most one temp file at a time: a kill leaves at most that one */
    assert_true(max_temps <= 1);
    /* the kills must land both between and inside writes for the test to mean something */
    assert_true(advanced > 0 && same + temps > 0);
}

/* The drift file's mode (drift_write). */
static void t_crash_0644(void **state)
{
    (void)state;
    crash_loop(0644);
}

/* The NTS cookie key file's mode (dnts.c save_cookie_keys): a leftover temp holding key
 * material must be as private as the key file. */
static void t_crash_0600(void **state)
{
    (void)state;
    crash_loop(0600);
}

/* The verifier itself: a truncated or altered version is refused (so the loop can fail). */
static void t_check_refuses(void **state)
{
    (void)state;
    size_t n = make_version(5, 3000);
    assert_int_equal(check_version(buf, n), 5);
    for (size_t cut = 0; cut < n; cut += 97) {
        assert_int_equal(check_version(buf, cut), -1);
    }
    buf[n - 1] ^= 1;
    assert_int_equal(check_version(buf, n), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_check_refuses),
        cmocka_unit_test_setup_teardown(t_crash_0644, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(t_crash_0600, make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
