/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpq's program flow: options, keys, then the -c commands for each host, or the
 * interactive loop (libedit on a terminal when it can be loaded, plain lines otherwise). */
#include "nq_main.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli_keys.h"
#include "cli_log.h"
#include "nq_edit.h"
#include "nq_net.h"

#include "poison.h"

/* The terminal's width when stdout is one, else 80 (NTPsec's termsize). */
static int term_width(void)
{
    struct winsize ws;
    if (isatty(1) && ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}

/* Reads commands until quit or end of input. */
static void loop(struct nq *q)
{
    bool tty = isatty(0) && isatty(1) && nq_edit_load();
    char buf[4096];
    while (!q->quit) {
        char *line = NULL;
        if (tty) {
            line = nq_edit_readline("ntpq> ");
            if (line != NULL && line[0] != '\0')
                nq_edit_add_history(line);
        } else {
            if (isatty(0))
                fputs("ntpq> ", stdout);
            if (fgets(buf, sizeof buf, stdin) != NULL)
                line = strdup(buf);
        }
        if (line == NULL) {
            nq_run(q, "EOF");
            break;
        }
        nq_run(q, line);
        free(line);
    }
}

static void configure(struct nq *q, const struct nq_opts *o)
{
    q->st.showhostnames = o->showhostnames;
    q->st.wide = o->wide;
    q->st.units = o->units;
    q->st.termwidth = o->width ? o->width : term_width();
    q->st.cookwidth = term_width() - 2;
    q->json = o->json;
    q->debug = o->debug;
    q->keyid = o->keyid;
    q->nhosts = o->ncmds ? o->nhosts : 1;
    for (size_t i = 0; i < o->nhosts; i++)
        if (strlen(o->hosts[i].name) > q->maxhostlen)
            q->maxhostlen = strlen(o->hosts[i].name);
}

static int run(const struct nq_opts *o, struct ntk_mac_keys *keys, FILE *log)
{
    struct nq_net net;
    if (nq_net_init(&net, keys) != 0)
        return NQ_EXIT_FAIL;
    struct nq q;
    nq_init(&q, &net.io, stdout, stderr);
    q.log = log;
    configure(&q, o);
    if (o->ncmds == 0) {
        q.interactive = isatty(0) && isatty(1);
        if (o->nhosts > 1)
            fprintf(q.err, "ntpq can only work interactively on one host.\n");
        if (net.io.open(&net, o->hosts[0].name, o->hosts[0].family, q.err) == 0)
            q.hostname = o->hosts[0].name;
        loop(&q);
    } else {
        for (size_t h = 0; h < o->nhosts; h++) {
            if (net.io.open(&net, o->hosts[h].name, o->hosts[h].family, q.err) != 0)
                continue;
            q.hostname = o->hosts[h].name;
            q.nassoc = 0;
            for (size_t i = 0; i < o->ncmds && !q.quit; i++)
                nq_run(&q, o->cmds[i]);
        }
    }
    if (q.log != NULL && q.log != log)
        fclose(q.log);
    nq_fini(&q);
    nq_net_fini(&net);
    return NQ_EXIT_OK;
}

int nq_main(int argc, char **argv)
{
    struct nq_opts *o = malloc(sizeof *o);
    if (o == NULL)
        return NQ_EXIT_FAIL;
    cli_log_init("ntpq");
    int rc = NQ_EXIT_FAIL;
    enum nq_parse p = nq_opts_parse(argc, argv, o, stdout, stderr);
    if (p == NQ_PARSE_DONE)
        rc = NQ_EXIT_OK;
    else if (p == NQ_PARSE_RUN) {
        struct ntk_mac_keys *keys = NULL;
        FILE *log = NULL;
        if (o->logfile != NULL && (log = fopen(o->logfile, "ae")) == NULL)
            fprintf(stderr, "ntpq: cannot open %s\n", o->logfile);
        else if (o->keyfile != NULL && cli_keys_load(o->keyfile, &keys) != 0)
            fprintf(stderr, "ntpq: %s nonexistent or unreadable", o->keyfile);
        else
            rc = run(o, keys, log);
        if (log != NULL)
            fclose(log);
        ntk_mac_keys_free(keys);
    }
    free(o);
    return rc;
}
