/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's own files: the keys file, the drift file and the pidfile (the leap file: dleap.c). */
#include "daemon_internal.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files.h"
#include "log.h"
#include "ntk/err.h"
#include "ntk/keyfile.h"
#include "ntk/sb.h"

#include "poison.h"

/* daemon_internal.h */
char *dfiles_read_small(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        log_msg(LOG_ERR, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(max + 1);
    size_t n = buf != NULL ? fread(buf, 1, max + 1, f) : 0;
    bool bad = buf == NULL || ferror(f) || n > max;
    fclose(f);
    if (bad) {
        log_msg(LOG_ERR, "%s: cannot read it (or it is larger than %zu bytes)", path, max);
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static bool trusted(const struct ntpd *d, uint32_t id)
{
    for (int i = 0; i < d->opts.ntrusted; i++)
        if (d->opts.trusted[i] == id)
            return true;
    return conf_key_trusted(&d->conf, id);
}

/* Keeps the trusted keys of the parsed file (NTPsec uses only those). */
static size_t keep_trusted(const struct ntpd *d, struct ntk_mac_key *k, size_t n)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (trusted(d, k[i].keyid))
            k[m++] = k[i];
    ntk_mac_key_wipe(k + m, n - m);
    return m;
}

static void log_key_diags(const char *path, const struct ntk_keyfile *kf)
{
    for (size_t i = 0; i < kf->ndiags; i++) {
        char line[256];
        struct ntk_sb sb;
        ntk_sb_init(&sb, line, sizeof line);
        ntk_keyfile_diag_format(&sb, path, &kf->diags[i]);
        log_msg(kf->diags[i].warning ? LOG_WARNING : LOG_ERR, "%s", ntk_sb_str(&sb));
    }
}

/* The keys file (-k or `keys`), trusted keys only. Returns 0 (also with no file) or 1. */
int dfiles_load_keys(struct ntpd *d, struct ntk_mac_keys **out)
{
    const char *path = d->opts.keysfile != NULL ? d->opts.keysfile : d->conf.keys;
    *out = NULL;
    if (path == NULL || path[0] == '\0')
        return 0;
    size_t len = 0;
    char *text = dfiles_read_small(path, 1024 * 1024, &len);
    if (text == NULL)
        return 1;
    size_t cap = ntk_keyfile_max_keys(text, len) + 1;
    struct ntk_mac_key *keys = calloc(cap, sizeof *keys);
    struct ntk_keyfile_diag diags[32];
    struct ntk_keyfile kf;
    int rc = 1;
    if (keys != NULL) {
        ntk_keyfile_init(&kf, keys, cap, diags, 32);
        (void)ntk_keyfile_parse(&kf, text, len);
        log_key_diags(path, &kf);
        d->key_errors = kf.nerrors;
        size_t n = keep_trusted(d, keys, kf.nkeys);
        rc = ntk_mac_keys_new(keys, n, out) == 0 ? 0 : 1;
        log_msg(LOG_INFO, "%s: %zu trusted key(s)", path, n);
        ntk_mac_key_wipe(keys, cap);
    }
    OPENSSL_cleanse(text, len);
    free(text);
    free(keys);
    return rc;
}

/* ---- the drift file ---- */

static const char *drift_path(const struct ntpd *d)
{
    const char *p = d->opts.driftfile != NULL ? d->opts.driftfile : d->conf.driftfile;
    return p != NULL && p[0] != '\0' ? p : NULL;
}

/* The frequency the drift file remembers; false when there is none (or it is unusable). */
bool dfiles_read_drift(const struct ntpd *d, double *freq_ppm)
{
    const char *path = drift_path(d);
    if (path == NULL)
        return false;
    char why[300];
    struct ntk_sb err;
    ntk_sb_init(&err, why, sizeof why);
    enum drift_status st = drift_read(path, freq_ppm, &err);
    if (st == DRIFT_OK)
        log_msg(LOG_INFO, "%s: frequency %+.3f ppm", path, *freq_ppm);
    else if (st != DRIFT_NOFILE)
        log_msg(LOG_WARNING, "%s (ignored)", ntk_sb_str(&err));
    return st == DRIFT_OK;
}

/* Writes the drift file now if NTPsec's policy says so (force: at exit). Never in observe
 * mode: the frequency there is the clock's own, which no later start should apply. */
void dfiles_save_drift(struct ntpd *d, bool force)
{
    const char *path = drift_path(d);
    struct snap_system s;
    int64_t mono = loop_now_mono_ns();
    eng_snap(d->eng, mono, &s, NULL, NULL, 0);
    if (path == NULL || s.observe || s.updates == 0)
        return;
    struct drift_policy next;
    bool due = drift_should_write(&d->drift, s.freq_ppm, mono / 1000000000LL, &next);
    d->drift = next;
    if (!due && !force)
        return;
    char why[300];
    struct ntk_sb err;
    ntk_sb_init(&err, why, sizeof why);
    if (drift_write(path, s.freq_ppm, &err) != 0)
        log_msg(LOG_ERR, "%s", ntk_sb_str(&err));
}

void dfiles_on_drift_timer(void *ctx, int64_t now_mono_ns)
{
    struct ntpd *d = ctx;
    dfiles_save_drift(d, false);
    (void)loop_timer(d->loop, now_mono_ns + DRIFT_TIMER_S * 1000000000LL,
                     dfiles_on_drift_timer, d);
}
const char *dfiles_pidfile(const struct ntpd *d)
{
    if (d->opts.pidfile != NULL)
        return d->opts.pidfile;
    return d->conf.pidfile[0] != '\0' ? d->conf.pidfile : NULL;
}

/* -p or `pidfile`: the process id, written atomically; removed at exit. */
int dfiles_write_pidfile(struct ntpd *d)
{
    const char *path = dfiles_pidfile(d);
    if (path == NULL)
        return 0;
    char text[32], why[300];
    struct ntk_sb sb, err;
    ntk_sb_init(&sb, text, sizeof text);
    ntk_sb_printf(&sb, "%ld\n", (long)getpid());
    ntk_sb_init(&err, why, sizeof why);
    if (files_write_atomic(path, text, ntk_sb_len(&sb), 0644, &err) != 0) {
        log_msg(LOG_ERR, "%s", ntk_sb_str(&err));
        return 1;
    }
    d->pidfile_written = true;
    return 0;
}

/* ---- logstats: the log file, and the keys again on SIGHUP ---- */

void dfiles_setup_log(struct ntpd *d)
{
    uint32_t mask = LOG_MASK_ALL;
    for (size_t i = 0; i < d->conf.n_logcfg; i++) {
        const struct conf_logcfg *it = &d->conf.logcfg[i];
        char word[24];
        struct ntk_sb sb;
        ntk_sb_init(&sb, word, sizeof word);
        ntk_sb_printf(&sb, "%s%s", it->class, it->what);
        mask = log_mask_apply(mask, it->op, ntk_sb_str(&sb));
    }
    log_set_mask(mask);
    if (d->opts.logfile != NULL || d->conf.logfile[0] == '\0')
        return; /* -l wins over `logfile`; no `logfile`: syslog (or stderr with -n) */
    /* NTPsec leaves a crumb in the old log before switching. */
    log_msg(LOG_INFO, "switching log to file %s", d->conf.logfile);
    int rc = log_to_name(d->conf.logfile);
    if (rc != 0)
        log_msg(LOG_ERR, "logfile %s: %s", d->conf.logfile, strerror(-rc));
}

/* Appends the key ids in one set and not in the other (up to a line's worth). */
static size_t key_diff(const struct ntk_mac_keys *a, const struct ntk_mac_keys *b,
                       struct ntk_sb *sb)
{
    size_t n = 0;
    for (uint32_t id = 1; a != NULL && id <= CONF_KEYID_MAX; id++) {
        if (ntk_mac_keys_lookup(a, id, NULL) != 0)
            continue;
        if (b != NULL && ntk_mac_keys_lookup(b, id, NULL) == 0)
            continue;
        if (n++ < 32)
            ntk_sb_printf(sb, " %u", (unsigned)id);
    }
    if (n > 32)
        ntk_sb_puts(sb, " ...");
    return n;
}

void dfiles_reload_keys(struct ntpd *d)
{
    const char *path = d->opts.keysfile != NULL ? d->opts.keysfile : d->conf.keys;
    if (path == NULL || path[0] == '\0')
        return;
    struct ntk_mac_keys *fresh = NULL;
    /* A file that cannot be read, or with a line in error, is not half applied. */
    if (dfiles_load_keys(d, &fresh) != 0 || d->key_errors > 0) {
        ntk_mac_keys_free(fresh);
        log_msg(LOG_ERR, "SIGHUP: %s not re-read: the %zu key(s) in use stay", path,
                d->keys != NULL ? ntk_mac_keys_count(d->keys) : (size_t)0);
        return;
    }
    char added[256], removed[256];
    struct ntk_sb sa, sr;
    ntk_sb_init(&sa, added, sizeof added);
    ntk_sb_init(&sr, removed, sizeof removed);
    size_t na = key_diff(fresh, d->keys, &sa);
    size_t nr = key_diff(d->keys, fresh, &sr);
    /* Single-threaded: the engine and the server use the keys only inside their calls, so
     * once both point at the new set nothing holds the old one. */
    struct ntk_mac_keys *old = eng_set_keys(d->eng, fresh);
    d->srv.keys = fresh;
    d->keys = fresh;
    if (old != fresh)
        ntk_mac_keys_free(old);
    log_msg(LOG_INFO, "SIGHUP: %s re-read: %zu key(s) in use; %zu added%s%s, %zu removed%s%s",
            path, fresh != NULL ? ntk_mac_keys_count(fresh) : (size_t)0, na, na ? ":" : "",
            ntk_sb_str(&sa), nr, nr ? ":" : "", ntk_sb_str(&sr));
}
