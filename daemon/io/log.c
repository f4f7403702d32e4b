/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's log (log.h). */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "ntk/ntime.h"
#include "ntk/sb.h"

#include "poison.h"

static enum log_sink sink = LOG_SINK_STDERR;
static FILE *file;
static int max_level = LOG_INFO;

int log_to(enum log_sink s, const char *path)
{
    if (s == LOG_SINK_FILE) {
        FILE *f = fopen(path, "ae");
        if (f == NULL)
            return -errno;
        if (file != NULL)
            fclose(file);
        file = f;
    }
    if (s == LOG_SINK_SYSLOG)
        openlog("ntpd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
    sink = s;
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

void log_msg(int level, const char *fmt, ...)
{
    if (level > max_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    if (sink == LOG_SINK_SYSLOG) {
        vsyslog(level, fmt, ap);
    } else {
        FILE *f = sink == LOG_SINK_FILE && file != NULL ? file : stderr;
        if (f == file)
            stamp(f);
        else
            fputs("ntpd: ", f);
        vfprintf(f, fmt, ap);
        fputc('\n', f);
        fflush(f);
    }
    va_end(ap);
}
