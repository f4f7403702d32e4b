/* SPDX-License-Identifier: BSD-2-Clause */
/* Prometheus text 0.0.4 and OpenMetrics 1.0 rendering of a mode-6 snapshot and of a probe
 * (exp.h), and the Accept-header negotiation between the two. */
#include "exp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "poison.h"

#ifndef NTK_VERSION
#define NTK_VERSION "unknown"
#endif

/* ======================================================================================== */
/* Content negotiation                                                                      */
/* ======================================================================================== */

const char *exp_content_type(enum exp_format f)
{
    return f == EXP_OPENMETRICS ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                : "text/plain; version=0.0.4; charset=utf-8";
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* True if s[0..n) equals the lowercase word w, case-insensitively. */
static bool word_is(const char *s, size_t n, const char *w)
{
    if (strlen(w) != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (lower(s[i]) != w[i]) {
            return false;
        }
    }
    return true;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* The q of one media range's parameters p[0..n) (RFC 9110 §12.4.2): 1 unless q= says. */
static double quality(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (is_space(p[i]) || p[i] == ';')) {
            i++;
        }
        size_t s = i;
        while (i < n && p[i] != ';') {
            i++;
        }
        size_t e = i;
        while (e > s && is_space(p[e - 1])) {
            e--;
        }
        if (e - s >= 2 && lower(p[s]) == 'q' && p[s + 1] == '=') {
            /* 0, 0.x, 1, 1.0: anything whose digits are not all zero is non-zero. */
            for (size_t k = s + 2; k < e; k++) {
                if (p[k] >= '1' && p[k] <= '9') {
                    return 1;
                }
            }
            return 0;
        }
    }
    return 1;
}

enum exp_format exp_negotiate(const char *accept)
{
    if (accept == NULL) {
        return EXP_PROM_TEXT;
    }
    const char *p = accept;
    while (*p != '\0') {
        const char *end = strchr(p, ',');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        size_t s = 0;
        while (s < n && is_space(p[s])) {
            s++;
        }
        size_t t = s;
        while (t < n && p[t] != ';' && !is_space(p[t])) {
            t++;
        }
        if (word_is(p + s, t - s, "application/openmetrics-text") &&
            quality(p + t, n - t) > 0) {
            return EXP_OPENMETRICS;
        }
        if (end == NULL) {
            break;
        }
        p = end + 1;
    }
    return EXP_PROM_TEXT;
}

/* ======================================================================================== */
/* Families and samples                                                                     */
/* ======================================================================================== */

/* A metric family: its name (counters without "_total"), type and HELP text. */
struct fam {
    const char *name;
    bool counter;
    const char *help;
};

/* The writer: the family being written and whether its header is out. */
struct wr {
    struct exp_buf *b;
    enum exp_format f;
    const struct fam *fam;
    bool head;
    const bool *dup; /* per peer: an earlier one has the same labels (NULL: none do) */
};

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

static void begin(struct wr *w, const struct fam *f)
{
    w->fam = f;
    w->head = false;
}

/* HELP text escaped as both formats require (backslash and newline). */
static void put_help(struct wr *w, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\') {
            exp_buf_printf(w->b, "\\\\");
        } else if (*s == '\n') {
            exp_buf_printf(w->b, "\\n");
        } else {
            exp_buf_printf(w->b, "%c", *s);
        }
    }
}

static void header(struct wr *w)
{
    const struct fam *f = w->fam;
    const char *tot = f->counter && w->f == EXP_PROM_TEXT ? "_total" : "";
    exp_buf_printf(w->b, "# HELP %s%s ", f->name, tot);
    put_help(w, f->help);
    exp_buf_printf(w->b, "\n# TYPE %s%s %s\n", f->name, tot, f->counter ? "counter" : "gauge");
    if (w->f == EXP_OPENMETRICS && !f->counter) {
        if (ends_with(f->name, "_seconds")) {
            exp_buf_printf(w->b, "# UNIT %s seconds\n", f->name);
        } else if (ends_with(f->name, "_bytes")) {
            exp_buf_printf(w->b, "# UNIT %s bytes\n", f->name);
        }
    }
    w->head = true;
}

/* A label value escaped for both formats: '\', '"' and newline; other control bytes and
 * bytes outside ASCII become '?' so that the output stays one sample per line and UTF-8. */
static void put_label_value(struct wr *w, const char *v)
{
    for (const unsigned char *s = (const unsigned char *)v; *s != '\0'; s++) {
        if (*s == '\\' || *s == '"') {
            exp_buf_printf(w->b, "\\%c", *s);
        } else if (*s == '\n') {
            exp_buf_printf(w->b, "\\n");
        } else if (*s < 0x20 || *s >= 0x7f) {
            exp_buf_printf(w->b, "?");
        } else {
            exp_buf_printf(w->b, "%c", *s);
        }
    }
}

/* Labels: up to 4 name/value pairs, names NULL-terminated. */
struct lbl {
    const char *k[5];
    const char *v[5];
};

static void sample_start(struct wr *w, const struct lbl *l)
{
    if (!w->head) {
        header(w);
    }
    exp_buf_printf(w->b, "%s%s", w->fam->name, w->fam->counter ? "_total" : "");
    if (l != NULL && l->k[0] != NULL) {
        exp_buf_printf(w->b, "{");
        for (size_t i = 0; i < 4 && l->k[i] != NULL; i++) {
            exp_buf_printf(w->b, "%s%s=\"", i > 0 ? "," : "", l->k[i]);
            put_label_value(w, l->v[i] != NULL ? l->v[i] : "");
            exp_buf_printf(w->b, "\"");
        }
        exp_buf_printf(w->b, "}");
    }
}

/* A double as Go's strconv 'g' shortest form would give it, or NaN / +Inf / -Inf. */
static void put_value(struct wr *w, double v)
{
    if (isnan(v)) {
        exp_buf_printf(w->b, " NaN\n");
    } else if (isinf(v)) {
        exp_buf_printf(w->b, " %sInf\n", v > 0 ? "+" : "-");
    } else if (v == floor(v) && fabs(v) < 1e15) {
        exp_buf_printf(w->b, " %.0f\n", v);
    } else {
        char t[40];
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(t, sizeof t, "%.*g", prec, v);
            if (strtod(t, NULL) == v) {
                break;
            }
        }
        exp_buf_printf(w->b, " %s\n", t);
    }
}

/* A sample with value v; nothing when v is NaN (absent). */
static void gauge(struct wr *w, const struct lbl *l, double v)
{
    if (isnan(v)) {
        return;
    }
    sample_start(w, l);
    put_value(w, v);
}

/* A counter sample; nothing when absent (UINT64_MAX). */
static void count(struct wr *w, const struct lbl *l, uint64_t v)
{
    if (v == UINT64_MAX) {
        return;
    }
    sample_start(w, l);
    exp_buf_printf(w->b, " %llu\n", (unsigned long long)v);
}

/* A counter that is the sum of several (absent when all are). */
static uint64_t sum(const uint64_t *v, size_t n)
{
    uint64_t s = UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
        if (v[i] != UINT64_MAX) {
            s = s == UINT64_MAX ? v[i] : s + v[i];
        }
    }
    return s;
}

/* ======================================================================================== */
/* The exporter's own metrics                                                               */
/* ======================================================================================== */

static const struct fam F_UP = {"ntpkit_up", false,
                                "1 if the NTP daemon answered the mode-6 query, else 0."};
static const struct fam F_BUILD = {
    "ntpkit_build_info", false,
    "Always 1; labels: the exporter's version, git revision and TLS library."};
static const struct fam F_SCRAPE = {
    "ntpkit_scrape_duration_seconds", false,
    "Wall time the mode-6 queries of this scrape took, in seconds."};
static const struct fam F_PSTART = {"process_start_time_seconds", false,
                                    "Start time of the process since unix epoch in seconds."};
static const struct fam F_PCPU = {"process_cpu_seconds", true,
                                  "Total user and system CPU time spent in seconds."};
static const struct fam F_PRSS = {"process_resident_memory_bytes", false,
                                  "Resident memory size in bytes."};
static const struct fam F_PFDS = {"process_open_fds", false,
                                  "Number of open file descriptors."};

static void render_self(struct wr *w, const struct m6_snap *s, const struct exp_self *self)
{
    begin(w, &F_UP);
    gauge(w, NULL, s != NULL && s->up ? 1 : 0);
    begin(w, &F_BUILD);
    struct lbl l = {{"version", "revision", "tls_library", NULL},
                    {self != NULL && self->version != NULL ? self->version : NTK_VERSION,
                     self != NULL && self->revision != NULL ? self->revision : "",
                     self != NULL && self->tls_library != NULL ? self->tls_library : "",
                     NULL}};
    gauge(w, &l, 1);
    if (s != NULL) {
        begin(w, &F_SCRAPE);
        gauge(w, NULL, isfinite(s->fetch_s) ? s->fetch_s : NAN);
    }
    if (self == NULL) {
        return;
    }
    begin(w, &F_PSTART);
    gauge(w, NULL, isfinite(self->start_unix_s) ? self->start_unix_s : NAN);
    begin(w, &F_PCPU);
    gauge(w, NULL, isfinite(self->cpu_s) ? self->cpu_s : NAN);
    begin(w, &F_PRSS);
    gauge(w, NULL, isfinite(self->rss_bytes) ? self->rss_bytes : NAN);
    begin(w, &F_PFDS);
    gauge(w, NULL, isfinite(self->open_fds) ? self->open_fds : NAN);
}

/* ======================================================================================== */
/* System                                                                                   */
/* ======================================================================================== */

static const struct fam F_SYNC = {
    "ntpkit_system_synchronized", false,
    "1 if the daemon is synchronised (leap indicator not 3 and stratum below 16), else 0."};
static const struct fam F_LEAP = {"ntpkit_system_leap_indicator", false,
                                  "Leap indicator (0-2; 3: unsynchronised), mode-6 leap."};
static const struct fam F_STRATUM = {"ntpkit_system_stratum", false,
                                     "Stratum of the daemon (16: unsynchronised)."};
static const struct fam F_OFFSET = {
    "ntpkit_system_offset_seconds", false,
    "Combined offset of the reference relative to the local clock (reference minus local, "
    "RFC 5905), in seconds."};
static const struct fam F_SJIT = {"ntpkit_system_jitter_seconds", false,
                                  "System jitter (sys_jitter), in seconds."};
static const struct fam F_CJIT = {"ntpkit_system_clock_jitter_seconds", false,
                                  "Clock jitter (clk_jitter), in seconds."};
static const struct fam F_FREQ = {
    "ntpkit_system_frequency_ratio", false,
    "Frequency correction of the local clock as a ratio (x1e6 for ppm)."};
static const struct fam F_WANDER = {"ntpkit_system_frequency_wander_ratio", false,
                                    "Clock frequency wander as a ratio (x1e6 for ppm)."};
static const struct fam F_RDELAY = {
    "ntpkit_system_root_delay_seconds", false,
    "Total round-trip delay to the primary reference, in seconds."};
static const struct fam F_RDISP = {"ntpkit_system_root_dispersion_seconds", false,
                                   "Total dispersion to the primary reference, in seconds."};
static const struct fam F_RDIST = {
    "ntpkit_system_root_distance_seconds", false,
    "Root distance (root delay / 2 + root dispersion), an error bound, in seconds."};
static const struct fam F_POLL = {"ntpkit_system_poll_interval_seconds", false,
                                  "System poll interval (2^tc), in seconds."};
static const struct fam F_REFTIME = {
    "ntpkit_system_reference_timestamp_seconds", false,
    "When the system clock was last set or corrected (reftime), Unix seconds; 0: never."};
static const struct fam F_PEERINFO = {
    "ntpkit_system_peer_info", false,
    "Always 1; labels: the system peer's source name, address and the system refid."};
static const struct fam F_TAI = {"ntpkit_system_tai_offset_seconds", false,
                                 "TAI minus UTC from the leap-second file, in seconds."};
static const struct fam F_LEXP = {"ntpkit_leapfile_expiry_timestamp_seconds", false,
                                  "When the daemon's leap-second file expires, Unix seconds."};
static const struct fam F_LNEXT = {
    "ntpkit_leapfile_next_leap_timestamp_seconds", false,
    "The last leap second listed in the daemon's leap-second file (leapsec), Unix seconds."};
static const struct fam F_DINFO = {"ntpkit_daemon_info", false,
                                   "Always 1; label: the NTP daemon's version string."};

/* The label values of a source: name, address, kind. */
struct src {
    const char *source, *address, *kind;
};

static struct src src_of(const struct m6_peer *p)
{
    bool ref = strcmp(p->kind, "refclock") == 0;
    struct src r = {p->srchost[0] != '\0' ? p->srchost : p->srcadr, ref ? "" : p->srcadr,
                    p->kind};
    return r;
}

static void render_system(struct wr *w, const struct m6_snap *s)
{
    const struct m6_sys *y = &s->sys;
    begin(w, &F_SYNC);
    if (y->leap >= 0 && y->stratum >= 0) {
        gauge(w, NULL, y->leap != 3 && y->stratum < 16 ? 1 : 0);
    }
    begin(w, &F_LEAP);
    gauge(w, NULL, y->leap >= 0 ? y->leap : NAN);
    begin(w, &F_STRATUM);
    gauge(w, NULL, y->stratum >= 0 ? y->stratum : NAN);
    begin(w, &F_OFFSET);
    gauge(w, NULL, y->offset_s);
    begin(w, &F_SJIT);
    gauge(w, NULL, y->sys_jitter_s);
    begin(w, &F_CJIT);
    gauge(w, NULL, y->clk_jitter_s);
    begin(w, &F_FREQ);
    gauge(w, NULL, y->freq_ratio);
    begin(w, &F_WANDER);
    gauge(w, NULL, y->clk_wander_ratio);
    begin(w, &F_RDELAY);
    gauge(w, NULL, y->root_delay_s);
    begin(w, &F_RDISP);
    gauge(w, NULL, y->root_disp_s);
    begin(w, &F_RDIST);
    gauge(w, NULL, y->root_dist_s);
    begin(w, &F_POLL);
    gauge(w, NULL, y->poll_s);
    begin(w, &F_REFTIME);
    gauge(w, NULL, y->reftime_unix_s);
    begin(w, &F_PEERINFO);
    for (size_t i = 0; y->sys_peer != 0 && i < s->n_peers; i++) {
        if (s->peers[i].associd == y->sys_peer) {
            struct src r = src_of(&s->peers[i]);
            struct lbl l = {{"source", "address", "refid", NULL},
                            {r.source, r.address, y->refid, NULL}};
            gauge(w, &l, 1);
            break;
        }
    }
    begin(w, &F_TAI);
    gauge(w, NULL, y->tai_s >= 0 ? y->tai_s : NAN);
    begin(w, &F_LEXP);
    gauge(w, NULL, y->leap_expire_unix_s);
    begin(w, &F_LNEXT);
    gauge(w, NULL, y->leapsec_unix_s);
    begin(w, &F_DINFO);
    if (y->version[0] != '\0') {
        struct lbl l = {{"version", NULL}, {y->version, NULL}};
        gauge(w, &l, 1);
    }
}

/* ======================================================================================== */
/* Sources                                                                                  */
/* ======================================================================================== */

static const struct fam F_S_REACHABLE = {
    "ntpkit_source_reachable", false,
    "1 if the source answered the last poll (low bit of reach), else 0."};
static const struct fam F_S_REACH = {
    "ntpkit_source_reach_ratio", false,
    "Share of the last 8 polls the source answered (popcount(reach) / 8)."};
static const struct fam F_S_OFFSET = {
    "ntpkit_source_offset_seconds", false,
    "Offset of the source relative to the local clock (source minus local), in seconds."};
static const struct fam F_S_DELAY = {"ntpkit_source_delay_seconds", false,
                                     "Round-trip delay to the source, in seconds."};
static const struct fam F_S_DISP = {"ntpkit_source_dispersion_seconds", false,
                                    "Dispersion of the source, in seconds."};
static const struct fam F_S_JIT = {"ntpkit_source_jitter_seconds", false,
                                   "Jitter of the source, in seconds."};
static const struct fam F_S_RDELAY = {"ntpkit_source_root_delay_seconds", false,
                                      "Root delay the source reports, in seconds."};
static const struct fam F_S_RDISP = {"ntpkit_source_root_dispersion_seconds", false,
                                     "Root dispersion the source reports, in seconds."};
static const struct fam F_S_STRATUM = {"ntpkit_source_stratum", false,
                                       "Stratum the source reports (0: kiss or refclock)."};
static const struct fam F_S_POLL = {"ntpkit_source_poll_interval_seconds", false,
                                    "Poll interval for the source (2^hpoll), in seconds."};
static const struct fam F_S_REC = {
    "ntpkit_source_last_response_timestamp_seconds", false,
    "When the last response from the source arrived (rec), Unix seconds."};
static const struct fam F_S_SEL = {
    "ntpkit_source_selection", false,
    "1 for the source's current selection state (RFC 9327 peer status), 0 for the others."};
static const struct fam F_S_AUTH = {
    "ntpkit_source_authenticated", false,
    "1 if the source's last response was authenticated by the method labelled, else 0."};
static const struct fam F_S_COOKIES = {"ntpkit_source_nts_cookies", false,
                                       "NTS cookies held for the source."};
static const struct fam F_RC_POLLS = {
    "ntpkit_refclock_polls", true,
    "Polls of the reference clock's driver since the daemon started (clock variable poll)."};
static const struct fam F_RC_ERRORS = {
    "ntpkit_refclock_errors", true,
    "Reference clock polls that failed since the daemon started, by error: noreply (no "
    "sample), badformat (a sample that did not parse), baddata (a sample rejected)."};

/* popcount of a byte. */
static int bits(uint8_t v)
{
    int n = 0;
    for (; v != 0; v &= (uint8_t)(v - 1)) {
        n++;
    }
    return n;
}

/* True when an earlier peer has the same labels (its series would be duplicated). Computed
 * once per scrape (mark_duplicates): per family it made rendering quadratic in the sources. */
static bool duplicate_of_earlier(const struct m6_snap *s, size_t i)
{
    struct src a = src_of(&s->peers[i]);
    for (size_t j = 0; j < i; j++) {
        struct src b = src_of(&s->peers[j]);
        if (strcmp(a.source, b.source) == 0 && strcmp(a.address, b.address) == 0 &&
            strcmp(a.kind, b.kind) == 0) {
            return true;
        }
    }
    return false;
}

/* One value per source: get(p) returns NAN when absent. */
static void mark_duplicates(const struct m6_snap *s, bool *dup)
{
    for (size_t i = 0; i < s->n_peers && i < M6_PEERS_MAX; i++) {
        dup[i] = duplicate_of_earlier(s, i);
    }
}

static bool duplicate(const struct wr *w, size_t i)
{
    return w->dup != NULL && w->dup[i];
}

static void per_source(struct wr *w, const struct m6_snap *s, const struct fam *f,
                       double (*get)(const struct m6_peer *))
{
    begin(w, f);
    for (size_t i = 0; i < s->n_peers && i < M6_PEERS_MAX; i++) {
        if (duplicate(w, i)) {
            continue;
        }
        struct src r = src_of(&s->peers[i]);
        struct lbl l = {{"source", "address", "kind", NULL}, {r.source, r.address, r.kind}};
        gauge(w, &l, get(&s->peers[i]));
    }
}

static double g_reachable(const struct m6_peer *p)
{
    return p->reach_ok ? (double)(p->reach & 1) : NAN;
}
static double g_reach(const struct m6_peer *p)
{
    return p->reach_ok ? bits(p->reach) / 8.0 : NAN;
}
static double g_offset(const struct m6_peer *p)
{
    return p->offset_s;
}
static double g_delay(const struct m6_peer *p)
{
    return p->delay_s;
}
static double g_disp(const struct m6_peer *p)
{
    return p->disp_s;
}
static double g_jitter(const struct m6_peer *p)
{
    return p->jitter_s;
}
static double g_rdelay(const struct m6_peer *p)
{
    return p->root_delay_s;
}
static double g_rdisp(const struct m6_peer *p)
{
    return p->root_disp_s;
}
static double g_stratum(const struct m6_peer *p)
{
    return p->stratum >= 0 ? p->stratum : NAN;
}
static double g_poll(const struct m6_peer *p)
{
    /* NTPsec's poll range (NTP_MINPOLL 0 .. NTP_MAXPOLL 17). */
    return p->hpoll_log2 >= 0 && p->hpoll_log2 <= 17 ? ldexp(1.0, p->hpoll_log2) : NAN;
}
static double g_rec(const struct m6_peer *p)
{
    return p->rec_unix_s > 0 ? p->rec_unix_s : NAN; /* 0: nothing received yet */
}
static double g_cookies(const struct m6_peer *p)
{
    return p->ntscookies >= 0 ? p->ntscookies : NAN;
}

static void render_sources(struct wr *w, const struct m6_snap *s)
{
    static const struct {
        const struct fam *f;
        double (*get)(const struct m6_peer *);
    } t[] = {{&F_S_REACHABLE, g_reachable}, {&F_S_REACH, g_reach}, {&F_S_OFFSET, g_offset},
             {&F_S_DELAY, g_delay},         {&F_S_DISP, g_disp},   {&F_S_JIT, g_jitter},
             {&F_S_RDELAY, g_rdelay},       {&F_S_RDISP, g_rdisp}, {&F_S_STRATUM, g_stratum},
             {&F_S_POLL, g_poll},           {&F_S_REC, g_rec},     {&F_S_COOKIES, g_cookies}};
    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
        per_source(w, s, t[k].f, t[k].get);
    }
    begin(w, &F_S_SEL);
    for (size_t i = 0; i < s->n_peers && i < M6_PEERS_MAX; i++) {
        if (duplicate(w, i)) {
            continue;
        }
        struct src r = src_of(&s->peers[i]);
        for (int st = 0; st < M6_SEL_COUNT; st++) {
            struct lbl l = {{"source", "address", "kind", "state", NULL},
                            {r.source, r.address, r.kind, m6_sel_name((enum m6_sel)st)}};
            gauge(w, &l, s->peers[i].sel == (enum m6_sel)st ? 1 : 0);
        }
    }
    begin(w, &F_S_AUTH);
    for (size_t i = 0; i < s->n_peers && i < M6_PEERS_MAX; i++) {
        const struct m6_peer *p = &s->peers[i];
        if (duplicate(w, i)) {
            continue;
        }
        struct src r = src_of(p);
        const char *m = p->ntscookies >= 0 ? "nts" : p->keyid != 0 ? "symmetric" : "none";
        struct lbl l = {{"source", "address", "kind", "method", NULL},
                        {r.source, r.address, r.kind, m}};
        gauge(w, &l, strcmp(m, "none") != 0 && p->authentic ? 1 : 0);
    }
}

/* The clock variables of the refclocks (READCLOCK): the families appear only when a source
 * has them (count() writes nothing, and so no header, for an absent value). */
static void render_refclocks(struct wr *w, const struct m6_snap *s)
{
    begin(w, &F_RC_POLLS);
    for (size_t i = 0; i < s->n_peers && i < M6_PEERS_MAX; i++) {
        if (!duplicate(w, i)) {
            struct src r = src_of(&s->peers[i]);
            struct lbl l = {{"source", "address", "kind", NULL},
                            {r.source, r.address, r.kind}};
            count(w, &l, s->peers[i].rc_polls);
        }
    }
    begin(w, &F_RC_ERRORS);
    for (size_t i = 0; i < s->n_peers && i < M6_PEERS_MAX; i++) {
        const struct m6_peer *p = &s->peers[i];
        if (duplicate(w, i)) {
            continue;
        }
        struct src r = src_of(p);
        static const char *const errs[] = {"noreply", "badformat", "baddata"};
        const uint64_t v[] = {p->rc_noreply, p->rc_badformat, p->rc_baddata};
        for (size_t e = 0; e < 3; e++) {
            struct lbl l = {{"source", "address", "kind", "error", NULL},
                            {r.source, r.address, r.kind, errs[e]}};
            count(w, &l, v[e]);
        }
    }
}

/* ======================================================================================== */
/* Counters                                                                                 */
/* ======================================================================================== */

static const struct fam F_RECV = {
    "ntpkit_server_packets_received", true,
    "NTP packets received since the daemon started (ss_received)."};
static const struct fam F_DROP = {
    "ntpkit_server_packets_dropped", true,
    "NTP packets dropped since the daemon started, by reason (the reasons sum to all drops)."};
static const struct fam F_PROC = {"ntpkit_server_packets_processed", true,
                                  "NTP packets processed for time (ss_processed)."};
static const struct fam F_BYVER = {
    "ntpkit_server_requests_by_version", true,
    "NTP packets received by protocol version: 4 (ss_thisver) or older (ss_oldver)."};
static const struct fam F_KOD = {"ntpkit_server_kod_sent", true,
                                 "Kiss-o'-death responses sent (ss_kodsent)."};
static const struct fam F_SENDERR = {"ntpkit_server_send_errors", true,
                                     "Packets the daemon failed to send (io_sendfailed)."};
static const struct fam F_IORECV = {"ntpkit_io_packets_received", true,
                                    "Packets received on all sockets (io_received)."};
static const struct fam F_IOSENT = {"ntpkit_io_packets_sent", true,
                                    "Packets sent on all sockets (io_sent)."};
static const struct fam F_IODROP = {
    "ntpkit_io_packets_dropped", true,
    "Packets received but dropped before processing (io_dropped, io_ignored)."};
static const struct fam F_MRU = {"ntpkit_server_mru_entries", false,
                                 "Client addresses in the MRU list (mru_depth)."};
static const struct fam F_MRUCAP = {
    "ntpkit_server_mru_capacity_entries", false,
    "Most client addresses the MRU list holds (mru_maxdepth)."};
static const struct fam F_MRUMEM = {"ntpkit_server_mru_memory_bytes", false,
                                    "Memory the MRU list uses (mru_mem), in bytes."};
static const struct fam F_CTL = {"ntpkit_control_requests", true,
                                 "Mode-6 control requests received (ss_numctlreq)."};
static const struct fam F_KE = {
    "ntpkit_nts_ke_connections", true,
    "NTS-KE connections served (role server) or probes made (role client), by result."};
static const struct fam F_COOKIE = {"ntpkit_nts_cookies_issued", true,
                                    "NTS cookies made (nts_cookie_make)."};
static const struct fam F_DECODE = {"ntpkit_nts_cookie_decodes", true,
                                    "NTS cookies received and decoded, by result."};
static const struct fam F_NTSPKT = {
    "ntpkit_nts_packets", true,
    "NTS-protected NTP packets, by role (client, server) and direction/result."};
static const struct fam F_AUTHOP = {"ntpkit_auth_operations", true,
                                    "Symmetric-key MAC computations, by operation."};
static const struct fam F_AUTHFAIL = {"ntpkit_auth_failures", true,
                                      "Symmetric-key MAC checks that failed."};
static const struct fam F_AUTHKEYS = {"ntpkit_auth_keys", false, "Symmetric keys loaded."};

/* One counter per label value: names[i] = values[i]. */
static void labelled(struct wr *w, const struct fam *f, const char *k1, const char *k2,
                     const char *const *v1, const char *const *v2, const uint64_t *v, size_t n)
{
    begin(w, f);
    for (size_t i = 0; i < n; i++) {
        struct lbl l = {{k1, k2, NULL}, {v1[i], v2 != NULL ? v2[i] : NULL}};
        if (k2 == NULL) {
            l.k[1] = NULL;
        }
        count(w, &l, v[i]);
    }
}

static void one(struct wr *w, const struct fam *f, uint64_t v)
{
    begin(w, f);
    if (f->counter) {
        count(w, NULL, v);
    } else {
        gauge(w, NULL, v != UINT64_MAX ? (double)v : NAN);
    }
}

static void render_counters(struct wr *w, const struct m6_counters *c)
{
    one(w, &F_RECV, c->ss_received);
    static const char *const reasons[] = {"bad_format", "auth_failed",  "declined",
                                          "restricted", "rate_limited", "nts_failed"};
    const uint64_t drops[] = {c->ss_badformat,  c->ss_badauth, c->ss_declined,
                              c->ss_restricted, c->ss_limited, c->nts_server_recv_bad};
    labelled(w, &F_DROP, "reason", NULL, reasons, NULL, drops, 6);
    one(w, &F_PROC, c->ss_processed);
    static const char *const vers[] = {"4", "older"};
    const uint64_t byver[] = {c->ss_thisver, c->ss_oldver};
    labelled(w, &F_BYVER, "version", NULL, vers, NULL, byver, 2);
    one(w, &F_KOD, c->ss_kodsent);
    one(w, &F_SENDERR, c->io_sendfailed);
    one(w, &F_CTL, c->ss_numctlreq);
    one(w, &F_IORECV, c->io_received);
    one(w, &F_IOSENT, c->io_sent);
    static const char *const ioreasons[] = {"dropped", "ignored"};
    const uint64_t io[] = {c->io_dropped, c->io_ignored};
    labelled(w, &F_IODROP, "reason", NULL, ioreasons, NULL, io, 2);
    one(w, &F_MRU, c->mru_entries);
    one(w, &F_MRUCAP, c->mru_maxdepth);
    /* NTPsec's mru_mem is in KiB. */
    one(w, &F_MRUMEM,
        c->mru_mem != UINT64_MAX && c->mru_mem < UINT64_MAX / 1024 ? c->mru_mem * 1024
                                                                   : UINT64_MAX);
    static const char *const roles[] = {"server", "server", "server", "client", "client"};
    static const char *const results[] = {"ok", "error", "tls_failed", "ok", "error"};
    const uint64_t ke[] = {c->nts_ke_serves_good, c->nts_ke_serves_bad, c->nts_ke_serves_nossl,
                           c->nts_ke_probes_good, c->nts_ke_probes_bad};
    labelled(w, &F_KE, "role", "result", roles, results, ke, 5);
    one(w, &F_COOKIE, c->nts_cookie_make);
    static const char *const dec[] = {"current", "old", "too_old", "error"};
    const uint64_t old3[] = {c->nts_cookie_decode_old, c->nts_cookie_decode_old2,
                             c->nts_cookie_decode_older};
    const uint64_t decv[] = {c->nts_cookie_decode_current, sum(old3, 3),
                             c->nts_cookie_decode_too_old, c->nts_cookie_decode_error};
    labelled(w, &F_DECODE, "result", NULL, dec, NULL, decv, 4);
    static const char *const nrole[] = {"client", "client", "client",
                                        "server", "server", "server"};
    static const char *const nres[] = {"sent", "received_ok", "received_bad",
                                       "sent", "received_ok", "received_bad"};
    const uint64_t np[] = {c->nts_client_send,      c->nts_client_recv_good,
                           c->nts_client_recv_bad,  c->nts_server_send,
                           c->nts_server_recv_good, c->nts_server_recv_bad};
    labelled(w, &F_NTSPKT, "role", "result", nrole, nres, np, 6);
    static const char *const ops[] = {"encrypt", "decrypt"};
    const uint64_t opv[] = {c->auth_encrypts, c->auth_decrypts};
    labelled(w, &F_AUTHOP, "operation", NULL, ops, NULL, opv, 2);
    one(w, &F_AUTHFAIL, c->auth_fails);
    one(w, &F_AUTHKEYS, c->auth_keys);
}

void exp_render_metrics(const struct m6_snap *s, const struct exp_self *self,
                        enum exp_format f, struct exp_buf *out)
{
    bool dup[M6_PEERS_MAX]; /* on the stack: scrapes run in several threads */
    struct wr w = {.b = out, .f = f, .dup = dup};
    render_self(&w, s, self);
    if (s != NULL && s->up) {
        mark_duplicates(s, dup);
        render_system(&w, s);
        render_sources(&w, s);
        render_refclocks(&w, s);
        render_counters(&w, &s->ctr);
    }
    if (f == EXP_OPENMETRICS) {
        exp_buf_printf(out, "# EOF\n");
    }
}

/* ======================================================================================== */
/* Probe                                                                                    */
/* ======================================================================================== */

static const struct fam F_P_OK = {
    "ntpkit_probe_success", false,
    "1 if the probe got a valid (for NTS: authenticated) reply, else 0."};
static const struct fam F_P_DUR = {"ntpkit_probe_duration_seconds", false,
                                   "How long the whole probe took, in seconds."};
static const struct fam F_P_OFF = {
    "ntpkit_probe_offset_seconds", false,
    "Offset of the target relative to this host's clock (target minus local), in seconds."};
static const struct fam F_P_DELAY = {"ntpkit_probe_delay_seconds", false,
                                     "Round-trip delay to the target, in seconds."};
static const struct fam F_P_RDELAY = {"ntpkit_probe_root_delay_seconds", false,
                                      "Root delay the target reports, in seconds."};
static const struct fam F_P_RDISP = {"ntpkit_probe_root_dispersion_seconds", false,
                                     "Root dispersion the target reports, in seconds."};
static const struct fam F_P_RDIST = {
    "ntpkit_probe_root_distance_seconds", false,
    "Root distance of the target (root delay / 2 + root dispersion), in seconds."};
static const struct fam F_P_STRATUM = {"ntpkit_probe_stratum", false,
                                       "Stratum the target reports."};
static const struct fam F_P_LEAP = {"ntpkit_probe_leap_indicator", false,
                                    "Leap indicator the target reports (3: unsynchronised)."};
static const struct fam F_P_KOD = {"ntpkit_probe_kod_info", false,
                                   "Always 1; label: the kiss code the target sent."};
static const struct fam F_P_CERT = {
    "ntpkit_probe_nts_certificate_expiry_timestamp_seconds", false,
    "When the NTS-KE server's certificate expires (notAfter), Unix seconds."};
static const struct fam F_P_COOKIES = {"ntpkit_probe_nts_cookies", false,
                                       "Cookies the NTS-KE server gave."};
static const struct fam F_P_KE = {"ntpkit_probe_nts_ke_duration_seconds", false,
                                  "How long the NTS key exchange took, in seconds."};

void exp_render_probe(const struct exp_probe *p, enum exp_format f, struct exp_buf *out)
{
    struct wr w = {.b = out, .f = f};
    begin(&w, &F_P_OK);
    gauge(&w, NULL, p->success ? 1 : 0);
    begin(&w, &F_P_DUR);
    gauge(&w, NULL, p->duration_s);
    begin(&w, &F_P_OFF);
    gauge(&w, NULL, p->offset_s);
    begin(&w, &F_P_DELAY);
    gauge(&w, NULL, p->delay_s);
    begin(&w, &F_P_RDELAY);
    gauge(&w, NULL, p->root_delay_s);
    begin(&w, &F_P_RDISP);
    gauge(&w, NULL, p->root_disp_s);
    begin(&w, &F_P_RDIST);
    gauge(&w, NULL, p->root_delay_s / 2 + p->root_disp_s);
    begin(&w, &F_P_STRATUM);
    gauge(&w, NULL, p->stratum >= 0 ? p->stratum : NAN);
    begin(&w, &F_P_LEAP);
    gauge(&w, NULL, p->leap >= 0 ? p->leap : NAN);
    begin(&w, &F_P_KOD);
    if (p->kiss[0] != '\0') {
        char k[sizeof p->kiss + 1];
        memcpy(k, p->kiss, sizeof p->kiss);
        k[sizeof p->kiss] = '\0';
        struct lbl l = {{"code", NULL}, {k, NULL}};
        gauge(&w, &l, 1);
    }
    begin(&w, &F_P_CERT);
    gauge(&w, NULL, p->cert_expiry_unix_s);
    begin(&w, &F_P_COOKIES);
    gauge(&w, NULL, p->nts_cookies >= 0 ? p->nts_cookies : NAN);
    begin(&w, &F_P_KE);
    gauge(&w, NULL, p->ke_duration_s);
    if (f == EXP_OPENMETRICS) {
        exp_buf_printf(out, "# EOF\n");
    }
}
