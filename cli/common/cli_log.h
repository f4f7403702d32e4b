/* SPDX-License-Identifier: BSD-2-Clause */
/* Diagnostics for the command-line tools: "prog: message" lines on stderr, or on a log file
 * (ntpdig -l), plus debug lines gated by a level. Never on stdout, which is for data. */
#ifndef NTK_CLI_LOG_H
#define NTK_CLI_LOG_H

#include <stdio.h>

/* Sets the program name that prefixes every line (static storage expected). */
void cli_log_init(const char *progname);

/* Sends diagnostics to path, truncated (NTPsec's -l). Returns 0 or a negative errno; on
 * failure diagnostics stay on stderr. */
int cli_log_open(const char *path);

/* Closes a log file opened by cli_log_open (diagnostics return to stderr). */
void cli_log_close(void);

/* Sets / reads the debug level (0 = off). */
void cli_log_set_debug(int level);
int cli_log_debug(void);

/* Writes one diagnostic line "prog: <formatted>\n". */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes one line like cli_err when the debug level is at least level. */
void cli_dbg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* NTK_CLI_LOG_H */
