/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness for cli/common/m6snap.c's parsers (READCLOCK's too) and exporters/exp_prom.c:
 * arbitrary mode-6 response data becomes a snapshot whose strings are printable and whose
 * doubles are finite or NAN, and whose rendering (text and OpenMetrics) is still one
 * well-formed line per sample: hostile variable values cannot inject lines, quotes or metric
 * names. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exp.h"
#include "fuzz.h"
#include "m6snap.h"

#include "poison.h"

static bool printable(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n == cap) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f) {
            return false;
        }
    }
    return true;
}

static bool sane(double d)
{
    return isnan(d) || isfinite(d);
}

static bool name_char(char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && c >= '0' && c <= '9');
}

/* A label set {k="v",...}: names valid, values with only \\ \" \n escapes and no raw
 * quote; returns the index after '}', or 0 if malformed. */
static size_t labels_end(const char *l, size_t i, size_t n)
{
    if (i >= n || l[i] != '{') {
        return i;
    }
    i++;
    while (i < n && l[i] != '}') {
        if (!name_char(l[i], true)) {
            return 0;
        }
        while (i < n && name_char(l[i], false)) {
            i++;
        }
        if (i + 1 >= n || l[i] != '=' || l[i + 1] != '"') {
            return 0;
        }
        for (i += 2; i < n && l[i] != '"'; i++) {
            if (l[i] == '\\') {
                if (i + 1 >= n || (l[i + 1] != '\\' && l[i + 1] != '"' && l[i + 1] != 'n')) {
                    return 0;
                }
                i++;
            } else if ((unsigned char)l[i] < 0x20 || (unsigned char)l[i] >= 0x7f) {
                return 0;
            }
        }
        if (i >= n) {
            return 0;
        }
        i++; /* closing quote */
        if (i < n && l[i] == ',') {
            i++;
        }
    }
    return i < n ? i + 1 : 0;
}

/* Every line: empty, a comment, or name{labels} value. */
static void check_lines(const struct exp_buf *b)
{
    FUZZ_CHECK(!b->oom && b->p != NULL && strlen(b->p) == b->len);
    const char *p = b->p;
    while (*p != '\0') {
        const char *e = strchr(p, '\n');
        FUZZ_CHECK(e != NULL); /* every line ends with a newline */
        size_t n = (size_t)(e - p);
        if (n > 0 && p[0] != '#') {
            size_t i = 0;
            FUZZ_CHECK(name_char(p[0], true));
            while (i < n && name_char(p[i], false)) {
                i++;
            }
            i = labels_end(p, i, n);
            FUZZ_CHECK(i != 0 && i < n && p[i] == ' ');
            char *end;
            double v = strtod(p + i + 1, &end);
            (void)v;
            FUZZ_CHECK(end == e); /* the value is the rest of the line */
        }
        p = e + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct m6_snap s;
    m6_snap_init(&s);
    const char *text = (const char *)data;
    (void)m6_parse_sys(text, size, &s.sys);
    (void)m6_parse_counters(text, size, &s.ctr);
    /* The first bytes as READSTAT pairs (when whole), then each peer from the text. */
    size_t pairs = size >= 16 ? 16 : size - size % 4;
    int n = m6_parse_assocs(data, pairs, s.peers, 3);
    FUZZ_CHECK(n == (int)(pairs / 4));
    s.n_peers = (size_t)n < 3 ? (size_t)n : 3;
    if (s.n_peers == 0) {
        s.n_peers = 1;
    }
    for (size_t i = 0; i < s.n_peers; i++) {
        (void)m6_parse_peer(text + i, size - (i < size ? i : size), &s.peers[i]);
        /* The clock variables of the same text: only the rc_* fields may change. */
        struct m6_peer before = s.peers[i];
        int rc = m6_parse_clock(text + i, size - (i < size ? i : size), &s.peers[i]);
        FUZZ_CHECK(rc <= 0);
        FUZZ_CHECK(memcmp(&before, &s.peers[i], offsetof(struct m6_peer, rc_name)) == 0);
        FUZZ_CHECK(printable(s.peers[i].rc_name, sizeof s.peers[i].rc_name) &&
                   printable(s.peers[i].rc_device, sizeof s.peers[i].rc_device));
    }
    s.up = true;
    s.fetch_s = 0.01;

    const struct m6_sys *y = &s.sys;
    FUZZ_CHECK(printable(y->refid, sizeof y->refid) &&
               printable(y->version, sizeof y->version));
    FUZZ_CHECK(sane(y->root_delay_s) && sane(y->root_disp_s) && sane(y->root_dist_s) &&
               sane(y->reftime_unix_s) && sane(y->poll_s) && sane(y->offset_s) &&
               sane(y->freq_ratio) && sane(y->sys_jitter_s) && sane(y->clk_jitter_s) &&
               sane(y->clk_wander_ratio) && sane(y->leapsec_unix_s) &&
               sane(y->leap_expire_unix_s));
    for (size_t i = 0; i < s.n_peers; i++) {
        const struct m6_peer *p = &s.peers[i];
        FUZZ_CHECK(printable(p->srcadr, sizeof p->srcadr) &&
                   printable(p->srchost, sizeof p->srchost) &&
                   printable(p->refid, sizeof p->refid) &&
                   printable(p->kind, sizeof p->kind) && printable(p->kiss, sizeof p->kiss));
        FUZZ_CHECK(sane(p->offset_s) && sane(p->delay_s) && sane(p->disp_s) &&
                   sane(p->jitter_s) && sane(p->root_delay_s) && sane(p->root_disp_s) &&
                   sane(p->rec_unix_s));
        FUZZ_CHECK((unsigned)p->sel < M6_SEL_COUNT);
    }

    /* Hostile values as the exporter's own strings too (they reach labels unparsed). */
    char hostile[64];
    size_t hl = size < sizeof hostile - 1 ? size : sizeof hostile - 1;
    memcpy(hostile, data, hl);
    hostile[hl] = '\0';
    struct exp_self self = {.version = hostile,
                            .revision = "r\n\"\\",
                            .tls_library = "",
                            .start_unix_s = NAN,
                            .cpu_s = 1,
                            .rss_bytes = 2,
                            .open_fds = 3};
    /* One rendering per input, chosen by its first byte (the snapshot is the same for the
     * three; rendering all three tripled the cost), into buffers kept across inputs: fresh
     * buffers grew from 256 bytes by realloc every time, and the large ones cost page faults.
     */
    static struct exp_buf bufs[3];
    unsigned f = size > 0 ? data[0] % 3U : 0;
    struct exp_buf *b = &bufs[f];
    b->len = 0;
    b->oom = false;
    if (b->p != NULL) {
        b->p[0] = '\0';
    }
    if (f < 2) {
        exp_render_metrics(&s, &self, (enum exp_format)f, b);
        check_lines(b);
        if (f == EXP_OPENMETRICS) {
            FUZZ_CHECK(b->len >= 6 && strcmp(b->p + b->len - 6, "# EOF\n") == 0);
        }
    } else {
        exp_render_json(&s, &self, b);
        FUZZ_CHECK(!b->oom && b->len > 0 && b->p[0] == '{' &&
                   strchr(b->p, '\n') == b->p + b->len - 1);
    }
    return 0;
}
