/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpleapfetch's program: options, the current file, the download, the checks, the replace. */
#include "lf.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_log.h"
#include "cli_num.h"
#include "files.h"

#include "poison.h"

#ifndef NTK_VERSION
#define NTK_VERSION "unknown"
#endif

/* Exit codes: 0 updated or up to date, 1 failure (the old file kept), 2 usage. */
enum { EX_DONE = 0, EX_FAIL = 1, EX_USAGE = 2 };

struct opts {
    const char *url;
    const char *file;
    long window_days;
    long timeout_s;
    bool force;
    bool quiet;
    int verbose;
};

static void usage(FILE *f)
{
    fputs("usage: ntpleapfetch [options]\n"
          "Refreshes the leap-seconds file: downloads it, checks its hash, replaces it "
          "atomically.\n"
          "  -s, --source URL    where to download it (default " LF_DEFAULT_URL ")\n"
          "  -f, --file FILE     the file to refresh (default " LF_DEFAULT_FILE ")\n"
          "  -e, --expire DAYS   refresh only when FILE expires within DAYS (default 60)\n"
          "  -F, --force         download and check even when FILE is fresh\n"
          "  -t, --timeout SEC   give up the download after SEC seconds (default 30)\n"
          "  -q, --quiet         no message unless something failed\n"
          "  -v, --verbose       say what is done\n"
          "  -h, --help          this help\n"
          "  -V, --version       print the version\n"
          "Exit: 0 updated or up to date, 1 failure (the old file is kept), 2 usage.\n",
          f);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        {"source", required_argument, NULL, 's'},  {"file", required_argument, NULL, 'f'},
        {"expire", required_argument, NULL, 'e'},  {"force", no_argument, NULL, 'F'},
        {"timeout", required_argument, NULL, 't'}, {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},       {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},       {NULL, 0, NULL, 0}};
    *o = (struct opts){LF_DEFAULT_URL, LF_DEFAULT_FILE, 60, 30, false, false, 0};
    int c;
    while ((c = getopt_long(argc, argv, "s:f:e:Ft:qvhV", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            o->url = optarg;
            break;
        case 'f':
            o->file = optarg;
            break;
        case 'e':
            if (!cli_parse_long(optarg, 0, 36500, &o->window_days)) {
                cli_err("-e: a number of days from 0 to 36500 expected, not '%s'", optarg);
                return EX_USAGE;
            }
            break;
        case 'F':
            o->force = true;
            break;
        case 't':
            if (!cli_parse_long(optarg, 1, 3600, &o->timeout_s)) {
                cli_err("-t: seconds from 1 to 3600 expected, not '%s'", optarg);
                return EX_USAGE;
            }
            break;
        case 'q':
            o->quiet = true;
            break;
        case 'v':
            o->verbose++;
            break;
        case 'h':
            usage(stdout);
            return EX_DONE;
        case 'V':
            puts("ntpleapfetch " NTK_VERSION);
            return EX_DONE;
        default:
            usage(stderr);
            return EX_USAGE;
        }
    }
    if (optind != argc) {
        cli_err("unexpected argument '%s'", argv[optind]);
        usage(stderr);
        return EX_USAGE;
    }
    return -1;
}

/* Reads at most cap bytes of path into buf; returns the length, or -1 (missing, unreadable or
 * larger than cap). */
static long read_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            return n < 0 ? -1 : (long)len;
        }
        len += (size_t)n;
        if (len == cap) {
            close(fd);
            return -1;
        }
    }
}

static uint64_t current_expiry(const struct opts *o, char *buf)
{
    char why[256];
    struct ntk_sb sb;
    ntk_sb_init(&sb, why, sizeof why);
    long len = read_file(o->file, buf, LF_MAX_BYTES);
    if (len < 0) {
        if (o->verbose)
            cli_err("%s: no readable current file (%s)", o->file, strerror(errno));
        return 0;
    }
    uint64_t exp = lf_expiry(buf, (size_t)len, &sb);
    if (exp == 0 && !o->quiet)
        cli_err("%s: current file invalid, replacing it: %s", o->file, why);
    return exp;
}

static int install(const struct opts *o, const char *buf, size_t len)
{
    char why[512];
    struct ntk_sb sb;
    ntk_sb_init(&sb, why, sizeof why);
    if (files_write_atomic(o->file, buf, len, 0644, &sb) != 0) {
        cli_err("%s", why);
        return EX_FAIL;
    }
    return EX_DONE;
}

static int fetch_and_check(const struct opts *o, uint64_t cur_exp, char *buf)
{
    char why[512];
    struct ntk_sb sb;
    ntk_sb_init(&sb, why, sizeof why);
    size_t len = 0;
    if (o->verbose)
        cli_err("fetching %s", o->url);
    if (lf_fetch(o->url, o->timeout_s, buf, LF_MAX_BYTES, &len, &sb) != 0) {
        cli_err("download failed, %s %s: %s", o->file, cur_exp != 0 ? "kept" : "not written",
                why);
        return EX_FAIL;
    }
    uint64_t new_exp = 0;
    switch (lf_check(buf, len, cur_exp, &new_exp, &sb)) {
    case LF_BAD:
        cli_err("%s: refused, %s %s: %s", o->url, o->file,
                cur_exp != 0 ? "kept" : "not written", why);
        return EX_FAIL;
    case LF_OLDER:
        cli_err("%s: refused, it expires (NTP %llu) before %s (NTP %llu)", o->url,
                (unsigned long long)new_exp, o->file, (unsigned long long)cur_exp);
        return EX_FAIL;
    case LF_SAME:
        if (!o->quiet)
            cli_err("%s: up to date (the download expires at the same time)", o->file);
        return EX_DONE;
    case LF_INSTALL:
        break;
    }
    int rc = install(o, buf, len);
    if (rc == EX_DONE && !o->quiet)
        cli_err("%s: updated (%zu bytes, expires NTP %llu)", o->file, len,
                (unsigned long long)new_exp);
    return rc;
}

int lf_main(int argc, char **argv)
{
    struct opts o;
    cli_log_init("ntpleapfetch");
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0)
        return rc;
    char *buf = malloc(LF_MAX_BYTES);
    if (buf == NULL) {
        cli_err("out of memory");
        return EX_FAIL;
    }
    uint64_t cur_exp = current_expiry(&o, buf);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (lf_decide(cur_exp, (int64_t)now.tv_sec, o.window_days, o.force) == LF_FRESH) {
        if (o.verbose)
            cli_err("%s: up to date (expires beyond %ld days)", o.file, o.window_days);
        free(buf);
        return EX_DONE;
    }
    rc = fetch_and_check(&o, cur_exp, buf);
    free(buf);
    return rc;
}
