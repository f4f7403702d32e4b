/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's log (log.h): the sink, reopening for logrotate, and NTPsec's logconfig mask. */
#include "log.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ntk/ntime.h"
#include "ntk/sb.h"

#include "poison.h"

static enum log_sink sink = LOG_SINK_STDERR;
static FILE *file;
static char file_path[PATH_MAX]; /* absolute; "stdout" for the terminal's stdout */
static int max_level = LOG_INFO;
static uint32_t class_mask = LOG_MASK_ALL;
static bool by_directive; /* the sink is `logfile`'s: going into the background keeps it */

/* ---- sinks ---- */

/* path made absolute against the current directory into out (NTPsec change_logfile). */
static int absolute(const char *path, char *out, size_t cap)
{
    struct ntk_sb sb;
    ntk_sb_init(&sb, out, cap);
    if (path[0] != '/') {
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof cwd) == NULL)
            return -errno;
        size_t n = strlen(cwd);
        ntk_sb_printf(&sb, "%s%s", cwd, n > 0 && cwd[n - 1] == '/' ? "" : "/");
    }
    ntk_sb_puts(&sb, path);
    return ntk_sb_err(&sb) == 0 ? 0 : -ENAMETOOLONG;
}

/* Replaces the open file by f (stdout is never closed). */
static void set_file(FILE *f)
{
    if (file != NULL && file != stdout)
        fclose(file);
    file = f;
}

int log_to(enum log_sink s, const char *path)
{
    if (s == LOG_SINK_SYSLOG && by_directive)
        return 0; /* main.c's switch to syslog in the background: `logfile` said otherwise */
    by_directive = false;
    if (s == LOG_SINK_FILE) {
        if (path == NULL)
            return -EINVAL;
        char abs[PATH_MAX];
        int rc = absolute(path, abs, sizeof abs);
        if (rc != 0)
            return rc;
        FILE *f = fopen(abs, "ae");
        if (f == NULL)
            return -errno;
        set_file(f);
        memcpy(file_path, abs, strlen(abs) + 1);
    } else {
        set_file(NULL);
        file_path[0] = '\0';
    }
    if (s == LOG_SINK_SYSLOG)
        openlog("ntpd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
    sink = s;
    return 0;
}

int log_to_name(const char *name)
{
    int rc = 0;
    if (strcmp(name, "stderr") == 0) {
        rc = log_to(LOG_SINK_STDERR, NULL);
    } else if (strcmp(name, "stdout") == 0) {
        set_file(stdout);
        memcpy(file_path, "stdout", sizeof "stdout");
        sink = LOG_SINK_FILE;
    } else {
        rc = log_to(LOG_SINK_FILE, name);
    }
    if (rc == 0)
        by_directive = true;
    return rc;
}

enum log_sink log_sink_now(void)
{
    return sink;
}

const char *log_file_path(void)
{
    return file_path;
}

int log_reopen(void)
{
    if (sink != LOG_SINK_FILE || file == stdout)
        return 0;
    FILE *f = fopen(file_path, "ae");
    if (f == NULL)
        return -errno;
    set_file(f);
    return 0;
}

void log_set_level(int level)
{
    max_level = level;
}

/* "2026-11-26T06:40:01Z " for the log file. */
static void stamp(FILE *f)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    char buf[NTK_TIMESTR_MAX];
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    ntk_time_format_iso(&t, 0, &sb);
    fprintf(f, "%s ", ntk_sb_str(&sb));
}

static void write_line(int level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void write_line(int level, const char *fmt, va_list ap)
{
    if (sink == LOG_SINK_SYSLOG) {
        vsyslog(level, fmt, ap);
        return;
    }
    FILE *f = sink == LOG_SINK_FILE && file != NULL ? file : stderr;
    if (f == file)
        stamp(f);
    else
        fputs("ntpd: ", f);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    fflush(f);
}

void log_msg(int level, const char *fmt, ...)
{
    if (level > max_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    write_line(level, fmt, ap);
    va_end(ap);
}

/* ---- logconfig ---- */

/* A prefix of *word among names; advances *word past it. Returns its index or -1. */
static int take_prefix(const char **word, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        if (strncmp(*word, names[i], len) == 0) {
            *word += len;
            return (int)i;
        }
    }
    return -1;
}

uint32_t log_mask_word(const char *word)
{
    /* NTPsec get_logmask: a class then a type; "all" as the class repeats the type in all
     * four classes, "all" as the type means the class's four bits. */
    static const char *const classes[] = {"all", "sys", "peer", "clock", "sync"};
    static const char *const types[] = {"all", "info", "events", "status", "statistics"};
    static const uint32_t type_bits[] = {0xf, LOG_TYPE_INFO, LOG_TYPE_EVENT, LOG_TYPE_STATUS,
                                         LOG_TYPE_STATS};
    if (word == NULL)
        return 0;
    const char *rest = word;
    int c = take_prefix(&rest, classes, 5);
    int t = -1;
    for (size_t i = 0; c >= 0 && i < 5 && t < 0; i++)
        if (strcmp(rest, types[i]) == 0)
            t = (int)i;
    if (c < 0 || t < 0)
        return 0;
    uint32_t bits = type_bits[t];
    if (c == 0)
        return bits | bits << 4 | bits << 8 | bits << 12;
    return bits << (4 * (unsigned)(c - 1)); /* sys 0, peer 4, clock 8, sync 12 */
}

uint32_t log_mask_apply(uint32_t mask, char op, const char *word)
{
    uint32_t bits = log_mask_word(word);
    if (bits == 0)
        return mask;
    switch (op) {
    case '=':
        return bits;
    case '+':
        return mask | bits;
    case '-':
        return mask & ~bits;
    default:
        return mask;
    }
}

void log_set_mask(uint32_t mask)
{
    class_mask = mask;
}

uint32_t log_mask(void)
{
    return class_mask;
}

bool log_class_on(uint32_t bits)
{
    return (class_mask & bits) != 0;
}

void log_class(uint32_t bits, int level, const char *fmt, ...)
{
    if (level > max_level || (level > LOG_ERR && !log_class_on(bits)))
        return;
    va_list ap;
    va_start(ap, fmt);
    write_line(level, fmt, ap);
    va_end(ap);
}
