/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's log: lines to syslog (daemon facility), or to a log file (-l, `logfile`), or to
 * stderr in the foreground. Levels as syslog's. Lines of a class (NTPsec's `logconfig`
 * classes clock/peer/sys/sync x info/events/status/statistics) can be turned off; plain
 * log_msg lines are always written, as NTPsec's unclassified msyslog lines are. */
#ifndef NTK_LOG_H
#define NTK_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

/* Where lines go. */
enum log_sink {
    LOG_SINK_STDERR = 0, /* foreground: "ntpd: message" on stderr */
    LOG_SINK_SYSLOG,     /* syslog, ident "ntpd" */
    LOG_SINK_FILE,       /* the file given to log_to, with a timestamp */
};

/* Sends lines to stderr (the default), syslog, or path (appended; created 0644; a relative
 * path is made absolute against the current directory, so log_reopen finds it after a
 * chdir, as NTPsec's change_logfile does). Returns 0 or a negative errno (the sink is then
 * unchanged). */
int log_to(enum log_sink sink, const char *path);

/* The sink in use, and (for LOG_SINK_FILE) the absolute path it writes ("" otherwise). */
enum log_sink log_sink_now(void);
const char *log_file_path(void);

/* Applies a `logfile NAME` directive as NTPsec does: "stderr" and "stdout" mean the
 * terminal's, anything else a file opened with log_to. The sink it sets is the
 * configuration's choice: a later log_to(LOG_SINK_SYSLOG) (main.c's switch when going into
 * the background) leaves it; any other log_to replaces it. Returns 0 or a negative errno
 * (the sink is then unchanged). */
int log_to_name(const char *name);

/* SIGHUP (logrotate): closes the log file and opens it again by its path, so that lines go
 * to a new file once the old one was renamed. Nothing to do for syslog or stderr. Returns
 * 0, or a negative errno when the file cannot be opened (the old one is kept). */
int log_reopen(void);

/* Lines below level (LOG_DEBUG > LOG_INFO > ... ) are not written: the default is LOG_INFO;
 * -d raises it to LOG_DEBUG. */
void log_set_level(int level);

/* Writes one line at level. */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- logconfig classes ---- */

/* Message classes, at NTPsec's bit offsets (NLOG_O*): a class owns 4 bits of the mask. */
enum log_class {
    LOG_CLASS_SYS = 0,   /* system events and status */
    LOG_CLASS_PEER = 4,  /* associations */
    LOG_CLASS_CLOCK = 8, /* the local clock */
    LOG_CLASS_SYNC = 12, /* the synchronisation state */
};

/* Message types inside a class (NTPsec's NLOG_*INFO, *EVENT, *STATUS, *STATIST). */
enum log_type {
    LOG_TYPE_INFO = 1,   /* informational */
    LOG_TYPE_EVENT = 2,  /* events */
    LOG_TYPE_STATUS = 4, /* status changes */
    LOG_TYPE_STATS = 8,  /* statistics */
};

/* The mask bit of one class and type (NTPsec NLOG_SYNCSTATUS is LOG_BIT(SYNC, STATUS)). */
#define LOG_BIT(cls, type) ((uint32_t)LOG_TYPE_##type << LOG_CLASS_##cls)

/* Every class and type: NTPsec's default (all output on). */
#define LOG_MASK_ALL 0xffffu

/* The bits a logconfig keyword names, without its prefix: "<class><type>" with class one
 * of all/clock/peer/sys/sync and type one of all/info/events/status/statistics ("syncall",
 * "allevents", "allall"). 0 for a word that is not one. */
uint32_t log_mask_word(const char *word);

/* Applies one item to mask as NTPsec's logconfig does: op '=' sets the mask to the item's
 * bits, '+' adds them, '-' removes them. Returns the new mask (mask unchanged when the
 * word or op is unknown). */
uint32_t log_mask_apply(uint32_t mask, char op, const char *word);

/* The mask in force (LOG_MASK_ALL until log_set_mask). */
void log_set_mask(uint32_t mask);
uint32_t log_mask(void);

/* True when a line of any of bits would be written (NTPsec's NLOG(bits)). */
bool log_class_on(uint32_t bits);

/* Writes one line at level if log_class_on(bits), or whatever bits are when level is
 * LOG_ERR or more severe: errors are never filtered. */
void log_class(uint32_t bits, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* NTK_LOG_H */
