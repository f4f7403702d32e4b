/* SPDX-License-Identifier: BSD-2-Clause */
/* Diagnostics for the command-line tools (see cli_log.h). */
#include "cli_log.h"

#include <errno.h>
#include <stdarg.h>

#include "poison.h"

static const char *prog = "ntpkit";
static FILE *logfp;
static int debug_level;

void cli_log_init(const char *progname)
{
    prog = progname;
}

int cli_log_open(const char *path)
{
    FILE *f = fopen(path, "we");
    if (f == NULL)
        return -errno;
    cli_log_close();
    logfp = f;
    return 0;
}

void cli_log_close(void)
{
    if (logfp != NULL)
        fclose(logfp);
    logfp = NULL;
}

void cli_log_set_debug(int level)
{
    debug_level = level;
}

int cli_log_debug(void)
{
    return debug_level;
}

__attribute__((format(printf, 1, 0))) static void vline(const char *fmt, va_list ap)
{
    FILE *f = logfp != NULL ? logfp : stderr;
    fprintf(f, "%s: ", prog);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    fflush(f);
}

void cli_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(fmt, ap);
    va_end(ap);
}

void cli_dbg(int level, const char *fmt, ...)
{
    if (debug_level < level)
        return;
    va_list ap;
    va_start(ap, fmt);
    vline(fmt, ap);
    va_end(ap);
}
