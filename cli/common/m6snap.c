/* SPDX-License-Identifier: BSD-2-Clause */
/* A daemon's state over mode 6 (m6snap.h): variable-list parsers into base units, and the
 * fetch of one snapshot over UDP with the sans-IO session ntk_ctlc. */
#include "m6snap.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ntk/ctl.h"
#include "ntk/ctlc.h"
#include "ntk/ctlvars.h"
#include "ntk/err.h"
#include "ntk/ntime.h"
#include "ntk/sb.h"

#include "poison.h"

/* NTP timestamps are read in the era window starting 2000-01-01 (to 2136): mode-6 times are
 * recent, and a fixed pivot keeps the parsers free of the clock. */
#define PIVOT_UNIX_S 946684800LL

/* ======================================================================================== */
/* Names and initial values                                                                 */
/* ======================================================================================== */

const char *m6_sel_name(enum m6_sel s)
{
    static const char *const names[M6_SEL_COUNT] = {"reject",      "falseticker", "excess",
                                                    "outlier",     "candidate",   "backup",
                                                    "system_peer", "pps"};
    return (unsigned)s < M6_SEL_COUNT ? names[s] : "reject";
}

char m6_sel_tally(enum m6_sel s)
{
    static const char tally[M6_SEL_COUNT] = {' ', 'x', '.', '-', '+', '#', '*', 'o'};
    return (unsigned)s < M6_SEL_COUNT ? tally[s] : ' ';
}

static void sys_init(struct m6_sys *y)
{
    memset(y, 0, sizeof *y);
    y->leap = -1;
    y->stratum = -1;
    y->precision_log2 = -1;
    y->root_delay_s = y->root_disp_s = y->root_dist_s = NAN;
    y->reftime_unix_s = NAN;
    y->poll_s = y->offset_s = y->freq_ratio = NAN;
    y->sys_jitter_s = y->clk_jitter_s = y->clk_wander_ratio = NAN;
    y->tai_s = -1;
    y->leapsec_unix_s = y->leap_expire_unix_s = NAN;
}

static void peer_init(struct m6_peer *p)
{
    memset(p, 0, sizeof *p);
    p->hmode = p->stratum = p->leap = -1;
    p->hpoll_log2 = p->ppoll_log2 = -1;
    p->offset_s = p->delay_s = p->disp_s = p->jitter_s = NAN;
    p->root_delay_s = p->root_disp_s = NAN;
    p->rec_unix_s = NAN;
    p->ntscookies = -1;
    memcpy(p->kind, "server", sizeof "server");
    p->rc_polls = p->rc_noreply = p->rc_badformat = p->rc_baddata = UINT64_MAX;
}

void m6_snap_init(struct m6_snap *s)
{
    memset(s, 0, sizeof *s);
    sys_init(&s->sys);
    for (size_t i = 0; i < M6_PEERS_MAX; i++) {
        peer_init(&s->peers[i]);
    }
    memset(&s->ctr, 0xff, sizeof s->ctr); /* every counter UINT64_MAX */
    s->fetch_s = NAN;
    s->taken_unix_s = NAN;
}

/* ======================================================================================== */
/* Value readers                                                                            */
/* ======================================================================================== */

/* How a variable's value is read and where it goes. */
enum vkind {
    VK_INT,     /* int, bounded */
    VK_NUM,     /* double in the table unit (ms -> s), ntk_cvar_get */
    VK_MS,      /* double, ms -> s (names the ctlvars table does not list) */
    VK_PPM,     /* double, ppm -> ratio */
    VK_LOG2,    /* double 2^value from an integer log2 */
    VK_TS,      /* double Unix seconds from a hex NTP timestamp (0 stays 0) */
    VK_DATE,    /* double Unix seconds from "YYYY-MM-DDThh:mmZ" (NTPsec 1.2), YYYYMMDDhhmm
                   (NTP Classic, NTPsec 1.1) or a hex timestamp */
    VK_STR,     /* char[size], printable */
    VK_U16,     /* uint16_t */
    VK_U32,     /* uint32_t, decimal or 0x hex */
    VK_REACH,   /* uint8_t, "0x" hex or plain octal; sets reach_ok */
    VK_BOOL,    /* bool from an integer */
    VK_COUNTER, /* uint64_t */
};

struct field {
    const char *name;
    enum vkind kind;
    size_t off;   /* in the struct parsed into */
    size_t size;  /* VK_STR: the array size */
    int min, max; /* VK_INT bounds */
};

/* Copies src[0..n) into dst[cap] NUL-terminated, printable ASCII only ('?' for others). */
static void copy_printable(char *dst, size_t cap, const char *src, size_t n)
{
    if (cap == 0) {
        return;
    }
    if (n > cap - 1) {
        n = cap - 1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    dst[n] = '\0';
}

/* YYYYMMDDhhmm (NTPsec ctl_putfs) into Unix seconds. */
static bool parse_date(struct ntk_span v, double *out)
{
    if (v.len != 12) {
        return false;
    }
    int d[12];
    for (size_t i = 0; i < 12; i++) {
        if (v.p[i] < '0' || v.p[i] > '9') {
            return false;
        }
        d[i] = v.p[i] - '0';
    }
    struct ntk_civil c = {
        .year = d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3],
        .mon = d[4] * 10 + d[5],
        .mday = d[6] * 10 + d[7],
        .hour = d[8] * 10 + d[9],
        .min = d[10] * 10 + d[11],
    };
    if (c.mon < 1 || c.mon > 12 || c.mday < 1 || c.hour > 23 || c.min > 59) {
        return false;
    }
    int64_t u;
    if (ntk_civil_to_unix(&c, &u) != 0) {
        return false;
    }
    *out = (double)u;
    return true;
}

static bool parse_ts_unix(struct ntk_span v, double *out)
{
    ntk_ts ts;
    if (ntk_cvar_parse_ts(v, &ts) != 0) {
        return false;
    }
    if (ntk_ts_is_zero(ts)) {
        *out = 0;
        return true;
    }
    struct timespec t;
    ntk_ts_to_timespec(ts, PIVOT_UNIX_S, &t);
    *out = (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
    return true;
}

/* reach: "0x" hex (NTPsec 1.2.2, ours) or octal digits (as ntpq prints it). */
static bool parse_reach(struct ntk_span v, uint8_t *out)
{
    uint64_t r = 0;
    if (v.len > 2 && v.p[0] == '0' && (v.p[1] == 'x' || v.p[1] == 'X')) {
        if (ntk_cvar_parse_u64(v, &r, 0xff) != 0) {
            return false;
        }
    } else {
        if (v.len == 0 || v.len > 3) {
            return false;
        }
        for (size_t i = 0; i < v.len; i++) {
            if (v.p[i] < '0' || v.p[i] > '7') {
                return false;
            }
            r = r * 8 + (uint64_t)(v.p[i] - '0');
        }
        if (r > 0xff) {
            return false;
        }
    }
    *out = (uint8_t)r;
    return true;
}

static bool read_num(const struct ntk_cvar_item *it, double *out)
{
    double d;
    if (it->quoted || ntk_cvar_get(it, &d) != 0 || !isfinite(d)) {
        return false;
    }
    *out = d;
    return true;
}

static bool read_int(struct ntk_span v, int64_t min, int64_t max, int64_t *out)
{
    uint64_t u;
    if (v.len > 2 && v.p[0] == '0' && v.p[1] == 'x') {
        if (ntk_cvar_parse_u64(v, &u, (uint64_t)max) != 0 || (int64_t)u < min) {
            return false;
        }
        *out = (int64_t)u;
        return true;
    }
    return ntk_cvar_parse_i64(v, out, min, max) == 0;
}

/* Reads one item into base + f->off; a bad value leaves the field as it was. */
static void store(const struct field *f, const struct ntk_cvar_item *it, void *base)
{
    char *dst = (char *)base + f->off;
    struct ntk_span v = it->value;
    int64_t i;
    double d;
    uint64_t u;
    if (!it->has_value) {
        return;
    }
    if (f->kind == VK_STR) {
        char tmp[NTK_CVAR_VALUE_MAX + 1];
        int n = ntk_cvar_unquote(it, tmp, sizeof tmp);
        if (n >= 0) {
            copy_printable(dst, f->size, tmp, (size_t)n);
        }
        return;
    }
    if (f->kind == VK_DATE && it->quoted) {
        /* NTPsec 1.2's "2026-12-01T00:00Z" (its ctl_putfs since 1.2; Classic's is below). */
        struct timespec t;
        char tmp[40];
        int n = ntk_cvar_unquote(it, tmp, sizeof tmp - 4);
        if (n == 17 && tmp[16] == 'Z') {
            memcpy(tmp + 16, ":00Z", 4); /* the seconds ntk_time_parse_iso wants */
            if (ntk_time_parse_iso((struct ntk_span){.p = tmp, .len = 20}, &t) == 0) {
                d = (double)t.tv_sec;
                memcpy(dst, &d, sizeof d);
            }
        }
        return;
    }
    if (it->quoted) {
        return;
    }
    switch (f->kind) {
    case VK_INT:
        if (read_int(v, f->min, f->max, &i)) {
            int x = (int)i;
            memcpy(dst, &x, sizeof x);
        }
        break;
    case VK_NUM:
        if (read_num(it, &d)) {
            memcpy(dst, &d, sizeof d);
        }
        break;
    case VK_MS:
        if (ntk_cvar_parse_ms(v, &d) == 0 && isfinite(d)) {
            memcpy(dst, &d, sizeof d);
        }
        break;
    case VK_PPM:
        if (ntk_cvar_parse_ppm(v, &d) == 0 && isfinite(d)) {
            d *= 1e-6;
            memcpy(dst, &d, sizeof d);
        }
        break;
    case VK_LOG2:
        if (ntk_cvar_parse_i64(v, &i, -64, 64) == 0) {
            d = ldexp(1.0, (int)i);
            memcpy(dst, &d, sizeof d);
        }
        break;
    case VK_TS:
        if (parse_ts_unix(v, &d)) {
            memcpy(dst, &d, sizeof d);
        }
        break;
    case VK_DATE:
        if (parse_date(v, &d) || (parse_ts_unix(v, &d) && d != 0)) {
            memcpy(dst, &d, sizeof d);
        }
        break;
    case VK_U16:
        if (ntk_cvar_parse_u64(v, &u, UINT16_MAX) == 0) {
            uint16_t x = (uint16_t)u;
            memcpy(dst, &x, sizeof x);
        }
        break;
    case VK_U32:
        if (ntk_cvar_parse_u64(v, &u, UINT32_MAX) == 0) {
            uint32_t x = (uint32_t)u;
            memcpy(dst, &x, sizeof x);
        }
        break;
    case VK_REACH: {
        uint8_t r;
        if (parse_reach(v, &r)) {
            struct m6_peer *p = base;
            p->reach = r;
            p->reach_ok = true;
        }
        break;
    }
    case VK_BOOL:
        if (ntk_cvar_parse_u64(v, &u, 1) == 0) {
            bool b = u != 0;
            memcpy(dst, &b, sizeof b);
        }
        break;
    case VK_COUNTER:
        /* UINT64_MAX means absent, so it cannot be a value. */
        if (ntk_cvar_parse_u64(v, &u, UINT64_MAX - 1) == 0) {
            memcpy(dst, &u, sizeof u);
        }
        break;
    default:
        break;
    }
}

/* Parses a list, storing the items named in fields[0..n); a malformed item is skipped.
 * Returns 0, or the first parse error when no item at all could be read. */
static int parse_list(const char *data, size_t len, const struct field *fields, size_t n,
                      void *base)
{
    struct ntk_cvar_it it;
    struct ntk_cvar_item item;
    int rc, first_err = 0;
    size_t good = 0;
    ntk_cvar_init(&it, data, data != NULL ? len : 0);
    while ((rc = ntk_cvar_next(&it, &item)) != 0) {
        if (rc < 0) {
            /* A malformed item is skipped and the rest kept, as NTPsec's ntpq does:
             * NTPsec 1.2.2 itself sends stray bytes in its filter arrays for the first
             * polls of an association (ntk_cvar_resync), and dropping the whole
             * association for a variable no one here reads lost it from the display. */
            first_err = first_err ? first_err : rc;
            ntk_cvar_resync(&it);
            continue;
        }
        good++;
        for (size_t i = 0; i < n; i++) {
            if (strlen(fields[i].name) == item.name.len &&
                memcmp(fields[i].name, item.name.p, item.name.len) == 0) {
                store(&fields[i], &item, base);
                break;
            }
        }
    }
    return good == 0 && first_err != 0 ? first_err : 0;
}

/* ======================================================================================== */
/* System, peer and counter variables                                                       */
/* ======================================================================================== */

#define F(n, k, s, m)                                                                         \
    {                                                                                         \
        n, k, offsetof(s, m), 0, 0, 0                                                         \
    }
#define FS(n, s, m)                                                                           \
    {                                                                                         \
        n, VK_STR, offsetof(s, m), sizeof(((s *)0)->m), 0, 0                                  \
    }
#define FI(n, s, m, lo, hi)                                                                   \
    {                                                                                         \
        n, VK_INT, offsetof(s, m), 0, lo, hi                                                  \
    }

static const struct field sys_fields[] = {
    FI("leap", struct m6_sys, leap, 0, 3),
    FI("stratum", struct m6_sys, stratum, 0, 16),
    FI("precision", struct m6_sys, precision_log2, -128, 127),
    F("rootdelay", VK_NUM, struct m6_sys, root_delay_s),
    F("rootdisp", VK_NUM, struct m6_sys, root_disp_s),
    F("rootdist", VK_MS, struct m6_sys, root_dist_s),
    FS("refid", struct m6_sys, refid),
    F("reftime", VK_TS, struct m6_sys, reftime_unix_s),
    F("peer", VK_U16, struct m6_sys, sys_peer),
    F("tc", VK_LOG2, struct m6_sys, poll_s),
    F("offset", VK_NUM, struct m6_sys, offset_s),
    F("frequency", VK_PPM, struct m6_sys, freq_ratio),
    F("sys_jitter", VK_NUM, struct m6_sys, sys_jitter_s),
    F("clk_jitter", VK_NUM, struct m6_sys, clk_jitter_s),
    F("clk_wander", VK_PPM, struct m6_sys, clk_wander_ratio),
    FI("tai", struct m6_sys, tai_s, 0, 1000),
    F("leapsec", VK_DATE, struct m6_sys, leapsec_unix_s),
    F("expire", VK_DATE, struct m6_sys, leap_expire_unix_s),
    FS("version", struct m6_sys, version),
};

int m6_parse_sys(const char *data, size_t len, struct m6_sys *out)
{
    int rc = parse_list(data, len, sys_fields, sizeof sys_fields / sizeof sys_fields[0], out);
    /* RFC 5905 §11.2: root distance = root delay / 2 + root dispersion (NTPsec's rootdist
     * adds the peer terms; it is used when sent). */
    if (isnan(out->root_dist_s) && !isnan(out->root_delay_s) && !isnan(out->root_disp_s)) {
        out->root_dist_s = out->root_delay_s / 2 + out->root_disp_s;
    }
    return rc < 0 ? rc : 0;
}

static const struct field peer_fields[] = {
    FS("srcadr", struct m6_peer, srcadr),
    FS("dstadr", struct m6_peer, dstadr),
    F("srcport", VK_U16, struct m6_peer, srcport),
    FS("srchost", struct m6_peer, srchost),
    FS("refid", struct m6_peer, refid),
    FI("hmode", struct m6_peer, hmode, 0, 7),
    FI("stratum", struct m6_peer, stratum, 0, 16),
    FI("leap", struct m6_peer, leap, 0, 3),
    FI("hpoll", struct m6_peer, hpoll_log2, -128, 127),
    FI("ppoll", struct m6_peer, ppoll_log2, -128, 127),
    {"reach", VK_REACH, 0, 0, 0, 0},
    F("offset", VK_NUM, struct m6_peer, offset_s),
    F("delay", VK_NUM, struct m6_peer, delay_s),
    F("dispersion", VK_NUM, struct m6_peer, disp_s),
    F("jitter", VK_NUM, struct m6_peer, jitter_s),
    F("rootdelay", VK_NUM, struct m6_peer, root_delay_s),
    F("rootdisp", VK_NUM, struct m6_peer, root_disp_s),
    F("rec", VK_TS, struct m6_peer, rec_unix_s),
    FI("ntscookies", struct m6_peer, ntscookies, -1, 1000000),
    F("authentic", VK_BOOL, struct m6_peer, authentic),
    F("keyid", VK_U32, struct m6_peer, keyid),
    F("flash", VK_U32, struct m6_peer, flash),
};

/* "NAME(unit)" as NTPsec shows a refclock ("SHM(0)", "GPSD(1)"). */
static bool refclock_name(const char *s)
{
    size_t n = strlen(s), i = 0;
    while (i < n && ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
                     s[i] == '_' || s[i] == '-')) {
        i++;
    }
    if (i == 0 || i >= n || s[i] != '(' || s[n - 1] != ')' || n - i < 3) {
        return false;
    }
    for (size_t j = i + 1; j + 1 < n; j++) {
        if (s[j] < '0' || s[j] > '9') {
            return false;
        }
    }
    return true;
}

static void set_kind(struct m6_peer *p, const char *k)
{
    size_t n = strlen(k);
    memcpy(p->kind, k, n + 1);
}

/* kind from what the variables show: refclock by its 127.127.t.u address or NAME(unit)
 * host; pool for NTPsec's pool prototype (refid POOL); peer for symmetric modes; else
 * server. Pool members look like servers here (m6_fetch marks those sharing a name). */
static void classify(struct m6_peer *p)
{
    if (strncmp(p->srcadr, "127.127.", 8) == 0 || refclock_name(p->srchost)) {
        set_kind(p, "refclock");
    } else if (strcmp(p->refid, "POOL") == 0) {
        set_kind(p, "pool");
    } else if (p->hmode == 1 || p->hmode == 2) {
        set_kind(p, "peer");
    } else {
        set_kind(p, "server");
    }
    /* A kiss code is the refid of a stratum-0 packet (RFC 5905 §7.4); refclocks' refids
     * are their names, not kisses. */
    p->kiss[0] = '\0';
    if (p->stratum == 0 && strcmp(p->kind, "refclock") != 0) {
        copy_printable(p->kiss, sizeof p->kiss, p->refid, strlen(p->refid));
    }
}

int m6_parse_peer(const char *data, size_t len, struct m6_peer *out)
{
    int rc =
        parse_list(data, len, peer_fields, sizeof peer_fields / sizeof peer_fields[0], out);
    classify(out);
    return rc < 0 ? rc : 0;
}

/* The clock variables NTPsec 1.2.2 and our ctlv.c send (timecode, fudge times, stratum,
 * refid and flags describe the configuration or the last sample: not kept). */
static const struct field clock_fields[] = {
    FS("name", struct m6_peer, rc_name),
    FS("device", struct m6_peer, rc_device),
    F("poll", VK_COUNTER, struct m6_peer, rc_polls),
    F("noreply", VK_COUNTER, struct m6_peer, rc_noreply),
    F("badformat", VK_COUNTER, struct m6_peer, rc_badformat),
    F("baddata", VK_COUNTER, struct m6_peer, rc_baddata),
};

int m6_parse_clock(const char *data, size_t len, struct m6_peer *out)
{
    int rc =
        parse_list(data, len, clock_fields, sizeof clock_fields / sizeof clock_fields[0], out);
    return rc < 0 ? rc : 0;
}

#define C(n, m) F(n, VK_COUNTER, struct m6_counters, m)
static const struct field ctr_fields[] = {
    C("ss_uptime", ss_uptime),
    C("ss_received_r", ss_received),
    C("ss_thisver_r", ss_thisver),
    C("ss_oldver_r", ss_oldver),
    C("ss_badformat_r", ss_badformat),
    C("ss_badauth_r", ss_badauth),
    C("ss_declined_r", ss_declined),
    C("ss_restricted_r", ss_restricted),
    C("ss_limited_r", ss_limited),
    C("ss_kodsent_r", ss_kodsent),
    C("ss_processed_r", ss_processed),
    C("ss_numctlreq", ss_numctlreq),
    C("io_received", io_received),
    C("io_sent", io_sent),
    C("io_sendfailed", io_sendfailed),
    C("io_dropped", io_dropped),
    C("io_ignored", io_ignored),
    C("nts_client_send", nts_client_send),
    C("nts_client_recv_good", nts_client_recv_good),
    C("nts_client_recv_bad", nts_client_recv_bad),
    C("nts_server_send", nts_server_send),
    C("nts_server_recv_good", nts_server_recv_good),
    C("nts_server_recv_bad", nts_server_recv_bad),
    C("nts_cookie_make", nts_cookie_make),
    C("nts_cookie_decode", nts_cookie_decode_current),
    C("nts_cookie_decode_current", nts_cookie_decode_current),
    C("nts_cookie_decode_old", nts_cookie_decode_old),
    C("nts_cookie_decode_old2", nts_cookie_decode_old2),
    C("nts_cookie_decode_older", nts_cookie_decode_older),
    C("nts_cookie_decode_too_old", nts_cookie_decode_too_old),
    C("nts_cookie_decode_error", nts_cookie_decode_error),
    C("nts_ke_serves_good", nts_ke_serves_good),
    C("nts_ke_serves_bad", nts_ke_serves_bad),
    C("nts_ke_serves_nossl", nts_ke_serves_nossl),
    C("nts_ke_probes_good", nts_ke_probes_good),
    C("nts_ke_probes_bad", nts_ke_probes_bad),
    C("mru_depth", mru_entries),
    C("mru_maxdepth", mru_maxdepth),
    C("mru_mem", mru_mem),
    C("mru_maxmem", mru_maxmem),
    C("authdecrypts", auth_decrypts),
    C("authencrypts", auth_encrypts),
    C("authkeys", auth_keys),
};

/* The failure counters NTPsec splits by algorithm, summed into auth_fails. */
static const char *const auth_fail_names[] = {"authdigestfails", "authcmacfails"};

int m6_parse_counters(const char *data, size_t len, struct m6_counters *out)
{
    int rc = parse_list(data, len, ctr_fields, sizeof ctr_fields / sizeof ctr_fields[0], out);
    for (size_t i = 0; i < 2; i++) {
        struct ntk_cvar_item it;
        uint64_t u;
        if (ntk_cvar_find(data, data != NULL ? len : 0, auth_fail_names[i], &it) == 0 &&
            it.has_value && !it.quoted &&
            ntk_cvar_parse_u64(it.value, &u, UINT64_MAX / 2) == 0) {
            out->auth_fails = out->auth_fails == UINT64_MAX ? u : out->auth_fails + u;
        }
    }
    return rc < 0 ? rc : 0;
}

int m6_parse_assocs(const uint8_t *data, size_t len, struct m6_peer *peers, size_t cap)
{
    if (len % 4 != 0) {
        return NTK_EFORMAT;
    }
    size_t n = len / 4;
    for (size_t i = 0; i < n && i < cap; i++) {
        peer_init(&peers[i]);
        peers[i].associd = (uint16_t)(data[4 * i] << 8 | data[4 * i + 1]);
        peers[i].status = (uint16_t)(data[4 * i + 2] << 8 | data[4 * i + 3]);
        peers[i].sel = (enum m6_sel)((peers[i].status >> 8) & 7);
    }
    return n > (size_t)INT32_MAX ? INT32_MAX : (int)n;
}

/* The counter groups, one READVAR each: a daemon that does not know a name refuses the
 * whole request (NTPsec CERR_UNKNOWNVAR, e.g. nts_* without NTS), so one group's refusal
 * must not lose the others; and all names together exceed one request's 400 bytes. */
/* The counter groups, one READVAR each: a daemon that does not know a name refuses the
 * whole request (NTPsec 1.2.2: CERR_UNKNOWNVAR for nts_ke_serves_nossl, which came later,
 * and for every nts_* when built without NTS), so one group's refusal must not lose the
 * others; and all names together exceed one request's 400 bytes. nts_cookie_decode is the
 * count with the current key under the name NTPsec 1.2.2 and our ntpd both know. */
static const char *const ctr_groups[] = {
    ("ss_uptime,ss_received_r,ss_thisver_r,ss_oldver_r,ss_badformat_r,ss_badauth_r,"
     "ss_declined_r,ss_restricted_r,ss_limited_r,ss_kodsent_r,ss_processed_r,"
     "ss_numctlreq"),
    ("io_received,io_sent,io_sendfailed,io_dropped,io_ignored"),
    ("nts_client_send,nts_client_recv_good,nts_client_recv_bad,nts_server_send,"
     "nts_server_recv_good,nts_server_recv_bad,nts_cookie_make,nts_cookie_decode,"
     "nts_cookie_decode_old,nts_cookie_decode_old2,nts_cookie_decode_older,"
     "nts_cookie_decode_too_old,nts_cookie_decode_error,"
     "nts_ke_serves_good,nts_ke_serves_bad,nts_ke_probes_good,nts_ke_probes_bad"),
    ("nts_ke_serves_nossl"),
    ("mru_depth,mru_maxdepth,mru_mem,mru_maxmem"),
    ("authdecrypts,authencrypts,authkeys,authdigestfails,authcmacfails"),
};
#define N_GROUPS (sizeof ctr_groups / sizeof ctr_groups[0])

const char *m6_counter_names(void)
{
    return "ss_uptime,ss_received_r,ss_thisver_r,ss_oldver_r,ss_badformat_r,ss_badauth_r,"
           "ss_declined_r,ss_restricted_r,ss_limited_r,ss_kodsent_r,ss_processed_r,"
           "ss_numctlreq,io_received,io_sent,io_sendfailed,io_dropped,io_ignored,"
           "nts_client_send,nts_client_recv_good,nts_client_recv_bad,nts_server_send,"
           "nts_server_recv_good,nts_server_recv_bad,nts_cookie_make,nts_cookie_decode,"
           "nts_cookie_decode_old,nts_cookie_decode_old2,nts_cookie_decode_older,"
           "nts_cookie_decode_too_old,nts_cookie_decode_error,nts_ke_serves_good,"
           "nts_ke_serves_bad,nts_ke_probes_good,nts_ke_probes_bad,nts_ke_serves_nossl,"
           "mru_depth,mru_maxdepth,mru_mem,mru_maxmem,authdecrypts,authencrypts,authkeys,"
           "authdigestfails,authcmacfails";
}

/* ======================================================================================== */
/* Fetching                                                                                 */
/* ======================================================================================== */

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* One request on the connected socket fd, ending by end_ms at the latest. */
struct xfer {
    int fd;
    int64_t end_ms;
    struct ntk_ctlc *c;
    uint16_t seq;
    const char *data; /* the response (after DONE) */
    size_t len;
    uint16_t status;
    char why[96]; /* what went wrong */
};

/* Runs one request; returns 0 (DONE) or -1 with x->why. */
static int query(struct xfer *x, uint8_t op, uint16_t associd, const char *req)
{
    int64_t left = x->end_ms - mono_ms();
    struct ntk_ctlc_cfg cfg = {.timeout_ms = left > 1000 ? left / 2
                                             : left > 1  ? left
                                                         : 1,
                               .retries = 1,
                               .prove = true,
                               .first_sequence = x->seq};
    x->seq = (uint16_t)(x->seq + 8);
    ntk_ctlc_init(x->c, &cfg);
    if (ntk_ctlc_request(x->c, op, associd, req, strlen(req)) != 0) {
        memcpy(x->why, "request too long", sizeof "request too long");
        return -1;
    }
    uint8_t out[NTK_CTL_DATAGRAM_MAX], in[NTK_CTL_DATAGRAM_MAX + 64];
    for (unsigned guard = 0; guard < 100000; guard++) {
        size_t n = 0;
        int64_t now = mono_ms();
        if (now >= x->end_ms) {
            memcpy(x->why, "timeout", sizeof "timeout");
            return -1;
        }
        switch (ntk_ctlc_step(x->c, now, out, sizeof out, &n)) {
        case NTK_CTLC_SEND:
            if (send(x->fd, out, n, 0) < 0) {
                snprintf(x->why, sizeof x->why, "send: %s", strerror(errno));
                return -1;
            }
            break;
        case NTK_CTLC_WAIT: {
            int64_t d = ntk_ctlc_deadline(x->c);
            int64_t wait = (d < x->end_ms ? d : x->end_ms) - now;
            struct pollfd p = {.fd = x->fd, .events = POLLIN};
            if (poll(&p, 1, wait < 0 ? 0 : wait > 60000 ? 60000 : (int)wait) > 0) {
                ssize_t got = recv(x->fd, in, sizeof in, 0);
                if (got < 0 && errno == ECONNREFUSED) {
                    memcpy(x->why, "connection refused", sizeof "connection refused");
                    return -1;
                }
                if (got > 0) {
                    ntk_ctlc_feed(x->c, in, (size_t)got);
                }
            }
            break;
        }
        case NTK_CTLC_CHUNK:
            break;
        case NTK_CTLC_DONE:
            x->data = ntk_ctlc_data(x->c, &x->len);
            x->status = ntk_ctlc_status(x->c);
            return 0;
        case NTK_CTLC_REFUSED:
            snprintf(x->why, sizeof x->why, "refused: error code %u",
                     (unsigned)ntk_ctlc_cerr(x->c));
            return -1;
        case NTK_CTLC_TIMEOUT:
            memcpy(x->why, "timeout", sizeof "timeout");
            return -1;
        default:
            snprintf(x->why, sizeof x->why, "bad response (error %d)", ntk_ctlc_err(x->c));
            return -1;
        }
    }
    memcpy(x->why, "timeout", sizeof "timeout");
    return -1;
}

/* Servers configured by one name that several associations share are pool members (our
 * ntpd gives a pool member its pool's name; a `server` name makes one association). */
static void mark_pools(struct m6_snap *s)
{
    for (size_t i = 0; i < s->n_peers; i++) {
        struct m6_peer *p = &s->peers[i];
        if (strcmp(p->kind, "server") != 0 || p->srchost[0] == '\0') {
            continue;
        }
        for (size_t j = 0; j < s->n_peers; j++) {
            struct m6_peer *q = &s->peers[j];
            if (j != i && strcmp(q->srchost, p->srchost) == 0 &&
                (strcmp(q->kind, "server") == 0 || strcmp(q->kind, "pool") == 0)) {
                set_kind(p, "pool");
                break;
            }
        }
    }
}

/* Requests in flight at once after READSTAT: one round trip per association in turn made a
 * scrape of 100 sources take 7 ms on loopback (bench/BENCHMARKS.md, exporter); each session
 * holds a reassembly buffer, so the window stays small. */
#define M6_WINDOW 8

/* One request of a batch. */
struct job {
    uint8_t op;
    uint16_t associd;
    const char *req;
};

/* Called for every job of a batch when it ends: with its response (data NUL-terminated),
 * or with data NULL and why it failed (the session's event: refused, timeout, failed). */
typedef void (*job_done_fn)(void *ctx, size_t job, const char *data, size_t len, int ev);

/* The sessions of a batch: which job each runs (SIZE_MAX: free). */
struct batch {
    struct xfer *x;
    struct ntk_ctlc *sess; /* M6_WINDOW of them */
    size_t job[M6_WINDOW];
    size_t active;
};

static void start_job(struct batch *b, size_t s, const struct job *j, size_t index)
{
    struct ntk_ctlc_cfg cfg = {
        .timeout_ms = 500, .retries = 1, .prove = true, .first_sequence = b->x->seq};
    b->x->seq = (uint16_t)(b->x->seq + 8);
    ntk_ctlc_init(&b->sess[s], &cfg);
    if (ntk_ctlc_request(&b->sess[s], j->op, j->associd, j->req, strlen(j->req)) == 0) {
        b->job[s] = index;
        b->active++;
    }
}

/* Steps session s as far as it goes without input; frees it when it ends. */
static void step_job(struct batch *b, size_t s, int64_t now, job_done_fn done, void *ctx)
{
    uint8_t out[NTK_CTL_DATAGRAM_MAX];
    for (unsigned guard = 0; guard < 64; guard++) {
        size_t n = 0, len = 0;
        enum ntk_ctlc_ev ev = ntk_ctlc_step(&b->sess[s], now, out, sizeof out, &n);
        if (ev == NTK_CTLC_SEND) {
            (void)send(b->x->fd, out, n, 0);
            continue;
        }
        if (ev == NTK_CTLC_CHUNK)
            continue;
        if (ev == NTK_CTLC_WAIT)
            return;
        if (ev == NTK_CTLC_DONE) {
            const char *data = ntk_ctlc_data(&b->sess[s], &len);
            done(ctx, b->job[s], data, len, (int)ev);
        } else {
            done(ctx, b->job[s], NULL, 0, (int)ev);
        }
        break; /* DONE, or REFUSED / TIMEOUT / FAILED: the job is dropped */
    }
    b->job[s] = SIZE_MAX;
    b->active--;
}

/* Hands one datagram to the session whose request it answers. */
static void feed_one(struct batch *b, const uint8_t *p, size_t len)
{
    for (size_t s = 0; s < M6_WINDOW; s++)
        if (b->job[s] != SIZE_MAX && ntk_ctlc_feed(&b->sess[s], p, len) == 0)
            return;
}

/* Waits for the next datagrams (until the earliest session deadline) and feeds them. */
static void wait_input(struct batch *b, int64_t now)
{
    int64_t d = b->x->end_ms;
    for (size_t s = 0; s < M6_WINDOW; s++)
        if (b->job[s] != SIZE_MAX && ntk_ctlc_deadline(&b->sess[s]) < d)
            d = ntk_ctlc_deadline(&b->sess[s]);
    struct pollfd p = {.fd = b->x->fd, .events = POLLIN};
    if (poll(&p, 1, d <= now ? 0 : d - now > 60000 ? 60000 : (int)(d - now)) <= 0)
        return;
    uint8_t in[NTK_CTL_DATAGRAM_MAX + 64];
    for (unsigned i = 0; i < 64; i++) {
        ssize_t got = recv(b->x->fd, in, sizeof in, MSG_DONTWAIT);
        if (got <= 0)
            return;
        feed_one(b, in, (size_t)got);
    }
}

/* Runs jobs[0..n) with up to M6_WINDOW in flight, by x->end_ms; done() for each answered
 * one (in any order). A job refused, timed out or unanswered by the deadline is skipped. */
static void run_jobs(struct xfer *x, const struct job *jobs, size_t n, job_done_fn done,
                     void *ctx)
{
    struct batch b = {.x = x, .sess = malloc(sizeof *b.sess * M6_WINDOW)};
    if (b.sess == NULL)
        return;
    for (size_t s = 0; s < M6_WINDOW; s++)
        b.job[s] = SIZE_MAX;
    size_t next = 0;
    for (unsigned guard = 0; guard < 1000000 && (next < n || b.active > 0); guard++) {
        int64_t now = mono_ms();
        if (now >= x->end_ms)
            break;
        for (size_t s = 0; s < M6_WINDOW && next < n; s++)
            if (b.job[s] == SIZE_MAX) {
                start_job(&b, s, &jobs[next], next);
                next++;
            }
        for (size_t s = 0; s < M6_WINDOW; s++)
            if (b.job[s] != SIZE_MAX)
                step_job(&b, s, now, done, ctx);
        if (b.active > 0)
            wait_input(&b, now);
    }
    free(b.sess);
}

/* What the batch of a fetch fills: the associations (by job index) and the counters. */
struct fetch_ctx {
    struct m6_snap *s;
    struct m6_peer *tmp; /* READSTAT's associations, job i = tmp[i] */
    bool *ok;            /* job i answered and parsed */
    size_t npeers;       /* jobs 0..npeers) are associations, the rest counter groups */
    size_t failed;       /* association jobs without an answer, */
    size_t fail_job;     /* the last of them */
    int fail_ev;         /* and its session's event */
};

static void on_job(void *ctx, size_t job, const char *data, size_t len, int ev)
{
    struct fetch_ctx *f = ctx;
    if (data == NULL) {
        if (job < f->npeers) {
            f->failed++;
            f->fail_job = job;
            f->fail_ev = ev;
        }
        return;
    }
    if (job >= f->npeers) {
        m6_parse_counters(data, len, &f->s->ctr);
        return;
    }
    f->ok[job] = m6_parse_peer(data, len, &f->tmp[job]) == 0;
    if (!f->ok[job]) {
        f->failed++;
        f->fail_job = job;
        f->fail_ev = -1;
    }
}

/* Why association job `f->fail_job` has no variables, in words. */
static const char *fail_reason(const struct fetch_ctx *f)
{
    switch (f->fail_ev) {
    case -1:
        return "malformed response";
    case NTK_CTLC_REFUSED:
        return "refused";
    case NTK_CTLC_TIMEOUT:
        return "timeout";
    default:
        return "failed";
    }
}

/* The refclocks' READCLOCK batch: job i reads s->peers[idx[i]]. */
struct clock_ctx {
    struct m6_snap *s;
    const size_t *idx;
};

/* A READCLOCK answer: its values replace the absent ones only if the whole text parsed (a
 * refused, lost or malformed one leaves them absent; the association stays). */
static void on_clock(void *ctx, size_t job, const char *data, size_t len, int ev)
{
    (void)ev;
    struct clock_ctx *c = ctx;
    struct m6_peer *p = &c->s->peers[c->idx[job]];
    struct m6_peer tmp;
    peer_init(&tmp);
    if (data == NULL || m6_parse_clock(data, len, &tmp) != 0)
        return;
    memcpy(p->rc_name, tmp.rc_name, sizeof p->rc_name);
    memcpy(p->rc_device, tmp.rc_device, sizeof p->rc_device);
    p->rc_polls = tmp.rc_polls;
    p->rc_noreply = tmp.rc_noreply;
    p->rc_badformat = tmp.rc_badformat;
    p->rc_baddata = tmp.rc_baddata;
}

/* One READCLOCK per kept refclock association, in one batch (none: no request at all). */
static void fetch_clocks(struct xfer *x, struct m6_snap *s)
{
    struct job jobs[M6_PEERS_MAX];
    size_t idx[M6_PEERS_MAX], n = 0;
    for (size_t i = 0; i < s->n_peers && i < M6_PEERS_MAX; i++)
        if (strcmp(s->peers[i].kind, "refclock") == 0) {
            jobs[n] = (struct job){NTK_CTL_OP_READCLOCK, s->peers[i].associd, ""};
            idx[n++] = i;
        }
    if (n == 0)
        return;
    struct clock_ctx c = {.s = s, .idx = idx};
    run_jobs(x, jobs, n, on_clock, &c);
}

/* Reads the associations and their variables, and the counters, in one batch. */
static void fetch_rest(struct xfer *x, struct m6_snap *s, bool counters)
{
    int n = 0;
    struct m6_peer *tmp = malloc(sizeof *tmp * M6_PEERS_MAX);
    struct job *jobs = calloc(M6_PEERS_MAX + N_GROUPS, sizeof *jobs); /* calloc: GCC 12 */
    bool *ok = calloc(M6_PEERS_MAX, sizeof *ok);
    if (tmp == NULL || jobs == NULL || ok == NULL)
        snprintf(s->peers_error, sizeof s->peers_error, "out of memory");
    else if (query(x, NTK_CTL_OP_READSTAT, 0, "") != 0)
        snprintf(s->peers_error, sizeof s->peers_error, "READSTAT: %s", x->why);
    else if ((n = m6_parse_assocs((const uint8_t *)x->data, x->len, tmp, M6_PEERS_MAX)) < 0)
        snprintf(s->peers_error, sizeof s->peers_error, "READSTAT: malformed response");
    size_t kept = n > 0 ? ((size_t)n < M6_PEERS_MAX ? (size_t)n : M6_PEERS_MAX) : 0;
    s->n_dropped += n > 0 ? (size_t)n - kept : 0;
    if (jobs != NULL && ok != NULL && tmp != NULL) {
        for (size_t i = 0; i < kept; i++)
            jobs[i] = (struct job){NTK_CTL_OP_READVAR, tmp[i].associd, ""};
        size_t ngroups = counters ? N_GROUPS : 0;
        for (size_t g = 0; g < ngroups; g++)
            jobs[kept + g] = (struct job){NTK_CTL_OP_READVAR, 0, ctr_groups[g]};
        struct fetch_ctx f = {.s = s, .tmp = tmp, .ok = ok, .npeers = kept};
        run_jobs(x, jobs, kept + ngroups, on_job, &f);
        for (size_t i = 0; i < kept; i++) {
            if (ok[i])
                s->peers[s->n_peers++] = tmp[i];
            else
                s->n_dropped++;
        }
        if (s->n_peers < kept) /* a job that never started ran out of time */
            snprintf(s->peers_error, sizeof s->peers_error,
                     "READVAR of %zu of %zu associations: %s (association %u)",
                     kept - s->n_peers, kept, f.failed > 0 ? fail_reason(&f) : "timeout",
                     (unsigned)tmp[f.failed > 0 ? f.fail_job : kept - 1].associd);
    }
    free(tmp);
    free(jobs);
    free(ok);
    mark_pools(s);
    if (counters)
        fetch_clocks(x, s);
}

int m6_fetch(const struct m6_target *t, struct m6_snap *out)
{
    m6_snap_init(out);
    struct timespec t0;
    clock_gettime(CLOCK_REALTIME, &t0);
    int64_t start = mono_ms();
    out->taken_unix_s = (double)t0.tv_sec + (double)t0.tv_nsec * 1e-9;
    struct xfer x = {.fd = -1, .end_ms = start + (t->timeout_ms > 0 ? t->timeout_ms : 1)};
    x.c = malloc(sizeof *x.c);
    x.seq = (uint16_t)(t0.tv_nsec ^ getpid());
    int rc = -1;
    if (x.c == NULL) {
        snprintf(out->error, sizeof out->error, "out of memory");
        goto done;
    }
    x.fd = cli_udp_open(t->addr.ss.ss_family, NULL);
    if (x.fd < 0 || connect(x.fd, (const struct sockaddr *)&t->addr.ss, t->addr.len) != 0) {
        snprintf(out->error, sizeof out->error, "socket: %s",
                 strerror(x.fd < 0 ? -x.fd : errno));
        goto done;
    }
    if (query(&x, NTK_CTL_OP_READVAR, 0, "") != 0) {
        snprintf(out->error, sizeof out->error, "%s", x.why);
        goto done;
    }
    m6_parse_sys(x.data, x.len, &out->sys);
    out->sys.status = x.status;
    out->up = true;
    rc = 0;
    fetch_rest(&x, out, !t->no_counters);
done:
    if (x.fd >= 0) {
        close(x.fd);
    }
    free(x.c);
    out->fetch_s = (double)(mono_ms() - start) / 1000.0;
    return rc;
}
