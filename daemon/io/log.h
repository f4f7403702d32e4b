/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's log: lines to syslog (daemon facility), or to a log file (-l, `logfile`), or to
 * stderr in the foreground. Levels as syslog's. */
#ifndef NTK_LOG_H
#define NTK_LOG_H

#include <syslog.h>

/* Where lines go. */
enum log_sink {
    LOG_SINK_STDERR = 0, /* foreground: "ntpd: message" on stderr */
    LOG_SINK_SYSLOG,     /* syslog, ident "ntpd" */
    LOG_SINK_FILE,       /* the file given to log_open_file, with a timestamp */
};

/* Sends lines to stderr (the default), syslog, or path (appended; created 0644). Returns 0
 * or a negative errno (the sink is then unchanged). */
int log_to(enum log_sink sink, const char *path);

/* Lines below level (LOG_DEBUG > LOG_INFO > ... ) are not written: the default is LOG_INFO;
 * -d raises it to LOG_DEBUG. */
void log_set_level(int level);

/* Writes one line at level. */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* NTK_LOG_H */
