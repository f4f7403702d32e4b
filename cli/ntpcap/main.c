/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpcap: analyze NTP traffic from a capture file or a live interface. */
#include <errno.h> /* sandbox */
#include <signal.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <string.h>
#include <sys/prctl.h> /* sandbox */

#include "cap.h"
#include "cap_io.h"
#include "cap_keylog.h"
#include "cap_opts.h"
#include "cap_out.h"
#include "cli_log.h"

#include "poison.h"

/* SIGINT / SIGTERM: finish the capture and print the results. */
static void on_signal(int sig)
{
    (void)sig;
    cap_io_stop();
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Runs the analysis the options ask for; returns the exit status. */
static int run(const struct cap_opts *opts)
{
    static char outbuf[1 << 16];
    /* Live: every line as soon as it is complete; files: large blocks. */
    setvbuf(stdout, opts->iface != NULL ? NULL : outbuf, opts->iface != NULL ? _IOLBF : _IOFBF,
            opts->iface != NULL ? 0 : sizeof outbuf);
    /* Only this thread writes the report (a file's reader thread never prints to stdout):
     * no lock per write. */
    (void)__fsetlocking(stdout, FSETLOCKING_BYCALLER);
    struct cap_out_cfg ocfg = {
        .f = stdout,
        .fmt = opts->fmt,
        .summary = opts->summary,
        .quiet = opts->quiet,
        .verbose = opts->verbose,
        .fail_on = opts->fail_on,
    };
    struct cap_out *out = cap_out_new(&ocfg);
    struct cap_sink sink;
    struct cap_cfg cfg;
    cap_cfg_default(&cfg);
    struct cap_keylog kl;
    memset(&kl, 0, sizeof kl);
    if (opts->tls_keylog != NULL) {
        char err[256];
        if (cap_keylog_load(&kl, opts->tls_keylog, err, sizeof err) != 0) {
            cli_err("--tls-keylog %s", err);
            cap_out_free(out);
            return CAP_EXIT_ERROR;
        }
        if (kl.bad > 0) {
            cli_err("warning: --tls-keylog %s: %zu malformed lines skipped", opts->tls_keylog,
                    kl.bad);
        }
        cfg.keylog = &kl;
    }
    struct cap *c = NULL;
    if (out != NULL) {
        cap_out_sink(out, &sink);
        c = cap_new(&cfg, &sink);
    }
    if (c == NULL) {
        cli_err("out of memory");
        cap_out_free(out);
        cap_keylog_free(&kl);
        return CAP_EXIT_ERROR;
    }
    struct cap_io_info info;
    int rc = cap_io_run(opts, c, &info);
    if (info.frames > 0 || rc == 0) {
        cap_finish(c);
        cap_out_finish(out, cap_stats(c), &info);
    }
    int status = rc != 0 ? CAP_EXIT_ERROR : cap_out_status(out);
    cap_destroy(c);
    cap_out_free(out);
    cap_keylog_free(&kl);
    if (fflush(stdout) != 0 && status == CAP_EXIT_OK) {
        cli_err("writing the output failed");
        status = CAP_EXIT_ERROR;
    }
    return status;
}

int main(int argc, char **argv)
{
    cli_log_init("ntpcap");
    struct cap_opts opts;
    int rc = cap_opts_parse(argc, argv, &opts, stdout);
    if (rc == 1) {
        return CAP_EXIT_OK;
    }
    if (rc != 0) {
        cap_opts_free(&opts);
        return CAP_EXIT_USAGE;
    }
    /* sandbox: no execve from here on may gain privileges (files are read as whoever runs
     * ntpcap; live captures drop to -Z and clear every capability as well). */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) != 0) {
        cli_err("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
        cap_opts_free(&opts);
        return CAP_EXIT_ERROR;
    }
    catch_signals();
    int status = run(&opts);
    cap_opts_free(&opts);
    return status;
}
