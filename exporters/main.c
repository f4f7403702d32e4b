/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpkit_exporter: serves Prometheus and JSON metrics of a mode-6 NTP daemon and an SNTP/NTS
 * probe over HTTP until SIGTERM or SIGINT. */
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_log.h"
#include "exp_http.h"
#include "exp_opts.h"
#include "exp_priv.h"
#include "exp_sandbox.h"

#include "poison.h"

/* systemd socket activation (sd_listen_fds(3)): the first passed descriptor, fd 3, when
 * LISTEN_PID is this process; -1 otherwise. The variables are removed either way, so a child
 * would not take them. */
static int activation_fd(void)
{
    const char *pid = getenv("LISTEN_PID");
    const char *fds = getenv("LISTEN_FDS");
    int fd = -1;
    if (pid != NULL && fds != NULL && strtol(pid, NULL, 10) == (long)getpid() &&
        strtol(fds, NULL, 10) >= 1)
        fd = 3;
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    return fd;
}

static int configure(const struct exp_opts *o, struct exp_http_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->listen_fd = activation_fd();
    if (cfg->listen_fd < 0 && !exp_parse_listen(o->listen, &cfg->listen, &cfg->listen_len))
        return EXP_EXIT_USAGE; /* checked by exp_opts_parse already */
    cfg->telemetry_path = o->telemetry_path;
    cfg->nts_ca = o->nts_ca;
    cfg->ntp.timeout_ms = (int)ceil(o->ntp_timeout_s * 1000);
    int k = cli_resolve(o->ntp_host, o->ntp_port, AF_UNSPEC, &cfg->ntp.addr, 1);
    if (k <= 0) {
        cli_err("--ntp.address %s: %s", o->ntp_host, gai_strerror(k));
        return EXP_EXIT_FAIL;
    }
    return EXP_EXIT_OK;
}

int main(int argc, char **argv)
{
    cli_log_init("ntpkit_exporter");
    /* One malloc arena per connection thread would keep each thread's freed scrape buffers
     * resident: two arenas keep the RSS flat under concurrent scrapes. */
    mallopt(M_ARENA_MAX, 2);
    struct exp_opts o;
    char why[160];
    if (exp_opts_parse(argc, argv, &o, why, sizeof why) != 0) {
        cli_err("%s", why);
        exp_opts_usage(stderr);
        return EXP_EXIT_USAGE;
    }
    if (o.help || o.version) {
        if (o.help)
            exp_opts_usage(stdout);
        else
            printf("%s\n", exp_version_text());
        return EXP_EXIT_OK;
    }
    cli_log_set_debug(o.log_level == EXP_LOG_DEBUG ? 1 : 0);
    struct exp_http_cfg cfg;
    int rc = configure(&o, &cfg);
    if (rc != EXP_EXIT_OK)
        return rc;
    /* The signals are taken by sigwait below; the server's threads inherit the mask. A TLS
     * peer closing early must be an error, not a kill. */
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    /* Before the server's threads exist, as they inherit it (it is per thread): no later
     * execve may gain privileges. */
    if (exp_priv_no_new_privs(why, sizeof why) != 0) {
        cli_err("%s", why);
        return EXP_EXIT_FAIL;
    }
    struct exp_http *h = exp_http_start(&cfg, why, sizeof why);
    if (h == NULL) {
        cli_err("%s: %s", cfg.listen_fd >= 0 ? "socket from systemd" : o.listen, why);
        return EXP_EXIT_FAIL;
    }
    /* The port is bound (or came from systemd): root and every capability can go (glibc
     * changes the ids of the server's threads too), then the allow-list is loaded. */
    if ((o.user != NULL && exp_priv_drop(o.user, why, sizeof why) != 0) ||
        exp_sandbox_apply(o.seccomp, why, sizeof why) != 0) {
        cli_err("%s", why);
        exp_http_stop(h);
        return EXP_EXIT_FAIL;
    }
    if (o.log_level <= EXP_LOG_INFO)
        cli_err("%s listening on %s (port %u), reading %s port %u", exp_version_text(),
                cfg.listen_fd >= 0 ? "the socket from systemd" : o.listen,
                (unsigned)exp_http_port(h), cfg.ntp.addr.ip, (unsigned)cfg.ntp.addr.port);
    int sig = 0;
    while (sigwait(&set, &sig) != 0)
        ;
    if (o.log_level <= EXP_LOG_INFO)
        cli_err("signal %d: stopping", sig);
    exp_http_stop(h);
    return EXP_EXIT_OK;
}
