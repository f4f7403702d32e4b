/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's state files: atomic write and the drift file (see files.h). */
#include "files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ntk/err.h"
#include "ntk/tok.h"

#include "poison.h"

/* Attempts at a fresh temp name before giving up (another writer, a stale file). */
#define TEMP_TRIES 100

/* Longest drift line and digit run looked at; anything longer is corrupt. */
#define DRIFT_LINE_MAX        64
#define DRIFT_FRAC_DIGITS_MAX 12

/* ======================================================================================== */
/* Atomic write                                                                             */
/* ======================================================================================== */

/* Appends "path: what: strerror(e)" to err and returns e. */
static int report(struct ntk_sb *err, const char *path, const char *what, int e)
{
    if (err) {
        ntk_sb_printf(err, "%s: %s: %s", path, what, strerror(e));
    }
    return e;
}

/* Writes all len bytes, retrying short writes and EINTR. Returns 0 or errno. */
static int write_all(int fd, const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Creates a new temp file next to path with O_EXCL; its name goes to tmp[cap]. Returns the
 * descriptor, or -errno. */
/* A temp file of path left by a writer that died between creating it and the rename (a
 * SIGKILL, a power cut) is removed before the next write, once it is STALE_TEMP_S old (a
 * younger one may belong to another process writing the same file right now): otherwise
 * they pile up (the cookie key file's hold master keys) and, where ntpd always gets the same
 * pid (a container), use up the TEMP_TRIES names one crash at a time. */
#define STALE_TEMP_S 60

static bool is_temp_of(const char *name, const char *base)
{
    size_t b = strlen(base), n = strlen(name);
    return n > b + 5 && strncmp(name, base, b) == 0 && name[b] == '.' &&
           strcmp(name + n - 4, ".tmp") == 0;
}

static void remove_stale_temps(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    struct ntk_sb sb;
    ntk_sb_init(&sb, dir, sizeof dir);
    if (slash == path)
        ntk_sb_puts(&sb, "/");
    else if (slash != NULL)
        ntk_sb_printf(&sb, "%.*s", (int)(slash - path), path);
    else
        ntk_sb_puts(&sb, ".");
    DIR *d = ntk_sb_err(&sb) == 0 ? opendir(dir) : NULL;
    if (d == NULL)
        return;
    time_t now = time(NULL);
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        struct stat st;
        if (!is_temp_of(e->d_name, base) ||
            fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode) || now - st.st_mtime < STALE_TEMP_S)
            continue;
        (void)unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

static int create_temp(const char *path, mode_t mode, char *tmp, size_t cap)
{
    remove_stale_temps(path);
    static unsigned counter;
    for (int i = 0; i < TEMP_TRIES; i++) {
        struct ntk_sb sb;
        ntk_sb_init(&sb, tmp, cap);
        ntk_sb_printf(&sb, "%s.%ld.%u.tmp", path, (long)getpid(), counter++);
        if (ntk_sb_err(&sb) != 0) {
            return -ENAMETOOLONG;
        }
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd >= 0) {
            return fd;
        }
        if (errno != EEXIST) {
            return -errno;
        }
    }
    return -EEXIST;
}

/* Writes, sets the mode (the umask may have cut it), flushes and closes fd. Returns 0 or
 * errno with *what naming the step. fd is closed in every case. */
static int fill_temp(int fd, const void *data, size_t len, mode_t mode, const char **what)
{
    int e = 0;
    if ((e = write_all(fd, data, len)) != 0) {
        *what = "write";
    } else if (fchmod(fd, mode) != 0) {
        e = errno;
        *what = "fchmod";
    } else if (fsync(fd) != 0) {
        e = errno;
        *what = "fsync";
    }
    if (close(fd) != 0 && e == 0) {
        e = errno;
        *what = "close";
    }
    return e;
}

/* fsyncs the directory holding path, so that the rename is on disk. Returns 0 or errno. */
static int sync_dir(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    size_t n = slash == NULL ? 0 : (size_t)(slash - path);
    if (slash == NULL) {
        memcpy(dir, ".", 2);
    } else if (n == 0) {
        memcpy(dir, "/", 2);
    } else if (n < sizeof dir) {
        memcpy(dir, path, n);
        dir[n] = '\0';
    } else {
        return ENAMETOOLONG;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return errno;
    }
    /* Some file systems cannot sync a directory (EINVAL): nothing more can be done there. */
    int e = fsync(fd) != 0 && errno != EINVAL ? errno : 0;
    close(fd);
    return e;
}

int files_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                       struct ntk_sb *err)
{
    char tmp[PATH_MAX];
    if (path == NULL || path[0] == '\0' || (data == NULL && len > 0)) {
        return report(err, path ? path : "(null)", "atomic write", EINVAL);
    }
    int fd = create_temp(path, mode, tmp, sizeof tmp);
    if (fd < 0) {
        return report(err, path, "cannot create a temp file beside it", -fd);
    }
    const char *what = "";
    int e = fill_temp(fd, data, len, mode, &what);
    if (e == 0 && rename(tmp, path) != 0) {
        e = errno;
        what = "rename of the temp file over it";
    }
    if (e != 0) {
        unlink(tmp);
        return report(err, path, what, e);
    }
    if ((e = sync_dir(path)) != 0) {
        return report(err, path, "fsync of its directory", e);
    }
    return 0;
}

/* ======================================================================================== */
/* Drift file                                                                               */
/* ======================================================================================== */

/* Takes a run of decimal digits at the cursor (possibly empty) into *run; text is what the
 * tokenizer was started on. */
static void take_digits(struct ntk_tok *t, const char *text, struct ntk_span *run)
{
    size_t start = ntk_tok_pos(t);
    run->p = text + start;
    while (ntk_tok_peek(t) >= '0' && ntk_tok_peek(t) <= '9') {
        ntk_tok_accept(t, (char)ntk_tok_peek(t));
    }
    run->len = ntk_tok_pos(t) - start;
}

/* True when s starts with the lowercase word w, ignoring case. */
static bool starts_with_word(struct ntk_span s, const char *w)
{
    size_t n = strlen(w);
    return s.len >= n && ntk_span_caseeq((struct ntk_span){s.p, n}, w);
}

/* Names the words strtod would take but we refuse, or NULL. */
static const char *special_value(struct ntk_span s)
{
    if (s.len > 0 && (s.p[0] == '-' || s.p[0] == '+')) {
        s.p++;
        s.len--;
    }
    if (starts_with_word(s, "nan")) {
        return "not a number (NaN)";
    }
    if (starts_with_word(s, "inf")) {
        return "infinite value";
    }
    return NULL;
}

/* The value of digits (at most DRIFT_FRAC_DIGITS_MAX of them), and 10^len in *scale. */
static uint64_t digits_value(struct ntk_span d, uint64_t *scale)
{
    uint64_t v = 0, s = 1;
    for (size_t i = 0; i < d.len; i++) {
        v = v * 10 + (uint64_t)(d.p[i] - '0');
        s *= 10;
    }
    *scale = s;
    return v;
}

/* Checks the number's syntax in the trimmed line; fills the digit runs and the sign. */
static int parse_syntax(struct ntk_span line, bool *neg, struct ntk_span *ip,
                        struct ntk_span *fp, const char **reason)
{
    struct ntk_tok t;
    ntk_tok_init_span(&t, line);
    *neg = ntk_tok_accept(&t, '-');
    if (!*neg) {
        ntk_tok_accept(&t, '+');
    }
    take_digits(&t, line.p, ip);
    fp->p = NULL;
    fp->len = 0;
    if (ntk_tok_accept(&t, '.')) {
        take_digits(&t, line.p, fp);
    }
    if (ip->len == 0 && fp->len == 0) {
        *reason = "not a decimal number";
        return NTK_EFORMAT;
    }
    if (ntk_tok_peek(&t) == 'e' || ntk_tok_peek(&t) == 'E') {
        *reason = "exponent notation is not accepted";
        return NTK_EFORMAT;
    }
    if (!ntk_tok_eof(&t)) {
        *reason = "text after the number";
        return NTK_EFORMAT;
    }
    if (fp->len > DRIFT_FRAC_DIGITS_MAX) {
        *reason = "more than 12 fraction digits";
        return NTK_EFORMAT;
    }
    return 0;
}

/* Converts the checked digit runs to ppm; NTK_ERANGE beyond +-DRIFT_MAX_PPM. */
static int digits_to_ppm(bool neg, struct ntk_span ip, struct ntk_span fp, double *out,
                         const char **reason)
{
    while (ip.len > 0 && ip.p[0] == '0') {
        ip.p++;
        ip.len--;
    }
    uint64_t scale_i = 1, scale_f = 1;
    if (ip.len > 3 || digits_value(ip, &scale_i) > (uint64_t)DRIFT_MAX_PPM) {
        *reason = "frequency beyond +-500 ppm";
        return NTK_ERANGE;
    }
    /* ip * 10^n + frac < 501e12 < 2^53: exact in a double, so one division rounds once. */
    uint64_t whole = digits_value(ip, &scale_i);
    uint64_t frac = digits_value(fp, &scale_f);
    double v = (double)(whole * scale_f + frac) / (double)scale_f;
    if (v > DRIFT_MAX_PPM) {
        *reason = "frequency beyond +-500 ppm";
        return NTK_ERANGE;
    }
    *out = neg ? -v : v;
    return 0;
}

int drift_parse(const char *text, size_t len, double *freq_ppm, const char **reason)
{
    static const char *unused;
    const char **why = reason ? reason : &unused;
    if (len == 0) {
        *why = "empty file";
        return NTK_EFORMAT;
    }
    if (memchr(text, '\0', len) != NULL) {
        *why = "contains a NUL byte";
        return NTK_EFORMAT;
    }
    struct ntk_tok t;
    struct ntk_span line;
    ntk_tok_init(&t, text, len);
    if (ntk_tok_line(&t, &line, DRIFT_LINE_MAX) != 0) {
        *why = "line too long";
        return NTK_EFORMAT;
    }
    if (!ntk_tok_eof(&t)) {
        *why = "more than one line";
        return NTK_EFORMAT;
    }
    line = ntk_span_trim(line);
    if (line.len == 0) {
        *why = "no number";
        return NTK_EFORMAT;
    }
    if ((*why = special_value(line)) != NULL) {
        return NTK_EFORMAT;
    }
    bool neg;
    struct ntk_span ip, fp;
    int rc = parse_syntax(line, &neg, &ip, &fp, why);
    return rc != 0 ? rc : digits_to_ppm(neg, ip, fp, freq_ppm, why);
}

int drift_format(double freq_ppm, struct ntk_sb *sb)
{
    if (!isfinite(freq_ppm) || fabs(freq_ppm) > DRIFT_MAX_PPM) {
        return NTK_EINVAL;
    }
    ntk_sb_printf(sb, "%.6f\n", freq_ppm);
    return ntk_sb_err(sb);
}

/* Reads at most cap bytes of the open file; returns the count or -errno. */
static ssize_t read_some(int fd, char *buf, size_t cap)
{
    size_t got = 0;
    while (got < cap) {
        ssize_t n = read(fd, buf + got, cap - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return -errno;
        }
        if (n == 0) {
            break;
        }
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* Reads the whole small file at path into buf[cap]; *n gets the size. */
static enum drift_status load(const char *path, char *buf, size_t cap, size_t *n,
                              struct ntk_sb *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT) {
            return DRIFT_NOFILE;
        }
        report(err, path, "cannot open the drift file", errno);
        return DRIFT_IOERR;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        if (err) {
            ntk_sb_printf(err, "%s: drift file is not a regular file", path);
        }
        return DRIFT_CORRUPT;
    }
    ssize_t got = read_some(fd, buf, cap);
    close(fd);
    if (got < 0) {
        report(err, path, "cannot read the drift file", (int)-got);
        return DRIFT_IOERR;
    }
    *n = (size_t)got;
    return DRIFT_OK;
}

enum drift_status drift_read(const char *path, double *freq_ppm, struct ntk_sb *err)
{
    char buf[DRIFT_FILE_MAX + 1];
    size_t n = 0;
    enum drift_status st = load(path, buf, sizeof buf, &n, err);
    if (st != DRIFT_OK) {
        return st;
    }
    const char *reason = "file too large";
    double v = 0;
    if (n <= DRIFT_FILE_MAX && drift_parse(buf, n, &v, &reason) == 0) {
        *freq_ppm = v;
        return DRIFT_OK;
    }
    if (err) {
        ntk_sb_printf(err, "%s: corrupt drift file ignored: %s", path, reason);
    }
    return DRIFT_CORRUPT;
}

int drift_write(const char *path, double freq_ppm, struct ntk_sb *err)
{
    char line[48];
    struct ntk_sb sb;
    ntk_sb_init(&sb, line, sizeof line);
    if (drift_format(freq_ppm, &sb) != 0) {
        return report(err, path, "refusing to write a frequency beyond +-500 ppm", EINVAL);
    }
    return files_write_atomic(path, line, ntk_sb_len(&sb), 0644, err);
}

void drift_policy_init(struct drift_policy *p, double freq_ppm, int64_t now_s)
{
    p->written_ppm = freq_ppm;
    p->resid_ppm = 0.0;
    p->last_check_s = now_s;
    p->threshold_ppm = DRIFT_WANDER_THRESHOLD_PPM;
}

bool drift_should_write(const struct drift_policy *p, double freq_ppm, int64_t now_s,
                        struct drift_policy *next)
{
    struct drift_policy n = *p;
    bool write = false;
    if (now_s - p->last_check_s >= DRIFT_CHECK_INTERVAL_S) {
        n.last_check_s = now_s;
        if (!isfinite(freq_ppm) || fabs(freq_ppm) > DRIFT_MAX_PPM) {
            /* nothing sane to write; keep the state as it was apart from the clock */
        } else if (fabs(p->written_ppm - freq_ppm) < p->resid_ppm) {
            n.resid_ppm = p->resid_ppm * 0.5;
        } else {
            n.written_ppm = freq_ppm;
            n.resid_ppm = p->threshold_ppm;
            write = true;
        }
    }
    *next = n;
    return write;
}
