/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd: the NTP daemon (daemon.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "sandbox.h" /* sandbox */

#include "poison.h"

static void on_alarm(int sig)
{
    (void)sig; /* only interrupts the parent's read() */
}

/* -w: the parent waits up to wait_s for the byte the child writes once synchronised (or
 * EOF: the child exited). Exit status as NTPsec's: 0 when synchronised, ETIMEDOUT when the
 * time ran out, 1 when the child ended first. */
static _Noreturn void wait_for_child(int fd, long wait_s)
{
    struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART: read() gets EINTR */
    sigaction(SIGALRM, &sa, NULL);
    alarm((unsigned)wait_s);
    char c;
    ssize_t n = read(fd, &c, 1);
    if (n == 1)
        _exit(0);
    log_msg(LOG_ERR, "-w %ld: %s", wait_s,
            n < 0 ? "not synchronised in time" : "the daemon exited before synchronising");
    _exit(n < 0 ? ETIMEDOUT : 1);
}

/* Forks: the parent exits 0 (or, with -w, waits for the first synchronisation), the child
 * goes on in a new session with stdio on /dev/null. */
static int daemonize(struct ntpd *d, bool to_syslog)
{
    int sync_pipe[2] = {-1, -1};
    if (d->opts.wait_sync_s > 0 && pipe2(sync_pipe, O_CLOEXEC) != 0) {
        log_msg(LOG_ERR, "pipe: %s", strerror(errno));
        return 1;
    }
    pid_t p = fork();
    if (p < 0) {
        log_msg(LOG_ERR, "fork: %s", strerror(errno));
        return 1;
    }
    if (p > 0 && sync_pipe[0] >= 0) {
        close(sync_pipe[1]);
        wait_for_child(sync_pipe[0], d->opts.wait_sync_s);
    }
    if (p > 0)
        _exit(0);
    if (sync_pipe[0] >= 0)
        close(sync_pipe[0]);
    d->sync_fd = sync_pipe[1];
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

/* sandbox: the loop's first timer, so the filter is in place before ntpd_run's loop reads
 * a byte from the network, and after everything ntpd_run does first (pidfile, chroot, the
 * privilege drop), whose calls (chroot, setresuid, capset) are then refused. */
static void on_sandbox_timer(void *ctx, int64_t now_mono_ns)
{
    (void)now_mono_ns;
    struct ntpd *d = ctx;
    enum sandbox_mode m = (enum sandbox_mode)d->opts.seccomp;
    if (sandbox_apply(m) != 0) {
        d->exit_status = 1;
        loop_stop(d->loop);
        return;
    }
    if (d->opts.seccomp_selftest)
        sandbox_selftest();
}

/* sandbox: prepares the SIGSYS handler's output while the log file is still writable and
 * schedules on_sandbox_timer at time 0 (due at once, before every other timer). */
static int arm_sandbox(struct ntpd *d)
{
    sandbox_prepare((enum sandbox_mode)d->opts.seccomp);
    if (loop_timer(d->loop, 0, on_sandbox_timer, d) < 0) {
        log_msg(LOG_ERR, "sandbox: no timer left");
        return 1;
    }
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
        rc = daemonize(&d, o.logfile == NULL);
    if (rc == 0)
        rc = arm_sandbox(&d); /* sandbox */
    if (rc == 0)
        rc = ntpd_run(&d);
    ntpd_free(&d);
    return rc;
}
