/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd: the NTP daemon (daemon.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

#include "poison.h"

/* Forks: the parent exits 0, the child goes on in a new session with stdio on /dev/null. */
static int daemonize(bool to_syslog)
{
    pid_t p = fork();
    if (p < 0) {
        log_msg(LOG_ERR, "fork: %s", strerror(errno));
        return 1;
    }
    if (p > 0)
        _exit(0);
    (void)setsid();
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        close(null);
    }
    if (to_syslog)
        (void)log_to(LOG_SINK_SYSLOG, NULL);
    return 0;
}

int main(int argc, char **argv)
{
    struct ntpd_opts o;
    switch (opts_parse(argc, argv, &o)) {
    case OPTS_DONE:
        return 0;
    case OPTS_BAD:
        return 2;
    case OPTS_RUN:
        break;
    }
    log_set_level(o.debug > 0 ? LOG_DEBUG : LOG_INFO);
    if (o.logfile != NULL) {
        int rc = log_to(LOG_SINK_FILE, o.logfile);
        if (rc != 0) {
            log_msg(LOG_ERR, "cannot open the log file %s: %s", o.logfile, strerror(-rc));
            return 1;
        }
    }
    if (o.check_config)
        return ntpd_check_config(&o);
    static struct ntpd d;
    int rc = ntpd_setup(&d, &o);
    /* As NTPsec: into the background (syslog unless -l) once start-up problems have been
     * reported on the terminal, unless -n. */
    if (rc == 0 && !o.foreground && !o.once)
        rc = daemonize(o.logfile == NULL);
    if (rc == 0)
        rc = ntpd_run(&d);
    ntpd_free(&d);
    return rc;
}
