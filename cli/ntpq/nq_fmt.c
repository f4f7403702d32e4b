/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpq's text reports, column for column as NTPsec 1.2.2's ntpq prints them. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nq.h"
#include "ntk/ctlvars.h"

#include "poison.h"

/* A double truncated to an integer, clamped to int64_t (NaN gives 0): the values come from
 * the network. */
static int64_t to_i64(double d)
{
    if (!(d == d))
        return 0;
    if (d >= 9.2e18)
        return INT64_MAX;
    if (d <= -9.2e18)
        return INT64_MIN;
    return (int64_t)d;
}

void nq_put_pyfloat(struct ntk_sb *sb, double d)
{
    if (isnan(d)) {
        ntk_sb_puts(sb, "nan");
        return;
    }
    if (isinf(d)) {
        ntk_sb_puts(sb, d < 0 ? "-inf" : "inf");
        return;
    }
    if (d == 0) {
        ntk_sb_puts(sb, signbit(d) ? "-0.0" : "0.0");
        return;
    }
    char buf[40];
    /* The shortest digits that read back as d (Python's repr). */
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*e", p - 1, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    char digits[24] = "";
    size_t nd = 0;
    const char *q = buf;
    if (*q == '-') {
        ntk_sb_putc(sb, '-');
        q++;
    }
    for (; *q != 'e'; q++)
        if (*q != '.')
            digits[nd++] = *q;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    int e = (int)strtol(q + 1, NULL, 10), decpt = e + 1;
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0)
            ntk_sb_printf(sb, "0.%.*s%s", -decpt, "0000", digits);
        else if ((size_t)decpt >= nd)
            ntk_sb_printf(sb, "%s%.*s.0", digits, decpt - (int)nd, "0000000000000000");
        else
            ntk_sb_printf(sb, "%.*s.%s", decpt, digits, digits + decpt);
        return;
    }
    ntk_sb_printf(sb, "%c%s%s%se%c%02d", digits[0], nd > 1 ? "." : "", digits + 1, "",
                  e < 0 ? '-' : '+', abs(e));
}

/* Python repr() of a string, then ntpq's replace("'", '"'). */
static void put_repr_str(struct ntk_sb *sb, const char *s)
{
    ntk_sb_putc(sb, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\\')
            ntk_sb_puts(sb, "\\\\");
        else if (c == '\t')
            ntk_sb_puts(sb, "\\t");
        else if (c == '\n')
            ntk_sb_puts(sb, "\\n");
        else if (c == '\r')
            ntk_sb_puts(sb, "\\r");
        else if (c < 0x20 || c == 0x7f)
            ntk_sb_printf(sb, "\\x%02x", c);
        else if (c == '\'' && strchr(s, '"') != NULL)
            ntk_sb_puts(sb, "\\\"");
        else
            ntk_sb_putc(sb, c == '\'' ? '"' : (char)c);
    }
    ntk_sb_putc(sb, '"');
}

void nq_put_repr(struct ntk_sb *sb, const struct nq_var *v)
{
    if (v->kind == NQ_INT)
        ntk_sb_printf(sb, "%lld", (long long)v->i);
    else if (v->kind == NQ_FLOAT)
        nq_put_pyfloat(sb, v->d);
    else
        put_repr_str(sb, v->str);
}

/* Python str(): numbers as repr, strings as they are. */
static void put_str(struct ntk_sb *sb, const struct nq_var *v)
{
    if (v->kind == NQ_STR)
        ntk_sb_puts(sb, v->str);
    else
        nq_put_repr(sb, v);
}

static void put_f8(struct ntk_sb *sb, const struct nq_var *v, bool four)
{
    if (v == NULL || v->kind == NQ_STR) {
        ntk_sb_printf(sb, "%8s", v == NULL ? "." : v->str);
        return;
    }
    double f = v->d;
    if (isnan(f)) {
        ntk_sb_puts(sb, "     nan");
        return;
    }
    int dec = ntk_fit8_decimals(f, four ? 4 : 3);
    if (dec < 0) {
        if (v->kind == NQ_INT)
            ntk_sb_printf(sb, "%8lld", (long long)v->i);
        else if (f > -9e15 && f < 9e15)
            ntk_sb_printf(sb, "%8lld", (long long)f); /* Python's "%d": truncated */
        else
            ntk_sb_printf(sb, "%8.0f", f); /* already an integer (or inf) */
    } else
        ntk_sb_printf(sb, "%8.*f", dec, f);
}

void nq_put_f8dot4(struct ntk_sb *sb, const struct nq_var *v)
{
    put_f8(sb, v, true);
}

void nq_put_f8dot3(struct ntk_sb *sb, const struct nq_var *v)
{
    put_f8(sb, v, false);
}

static bool parse_lfp(const char *text, ntk_ts *ts)
{
    return ntk_cvar_parse_ts((struct ntk_span){.p = text, .len = strlen(text)}, ts) == 0;
}

bool nq_lfp_to_unix(const char *text, double now_s, double *out)
{
    ntk_ts ts;
    if (!parse_lfp(text, &ts))
        return false;
    struct timespec near = {.tv_sec = (time_t)now_s}, t;
    ntk_ts_to_timespec_near(ts, &near, &t);
    *out = (double)t.tv_sec + (double)t.tv_nsec / 1e9;
    return true;
}

void nq_put_prettydate(struct ntk_sb *sb, const char *text, double now_s)
{
    ntk_ts ts;
    if (!parse_lfp(text, &ts)) {
        ntk_sb_puts(sb, text);
        return;
    }
    ntk_ts_format_pretty(ts, (int64_t)now_s - 2147483648LL, sb);
}

void nq_put_period(struct ntk_sb *sb, int64_t s)
{
    if (s >= 86400)
        ntk_sb_printf(sb, "%lldD ", (long long)(s / 86400));
    /* Python's % is a floor modulo: negative periods wrap as NTPsec prints them. */
    long long d = (long long)(s % 86400 + 86400) % 86400,
              h = (long long)(s % 3600 + 3600) % 3600;
    ntk_sb_printf(sb, "%02lld:%02lld:%02lld", d / 3600, h / 60, (long long)(s % 60 + 60) % 60);
}

/* ---- status words (NTPsec libntp/statestr.c, as its ntpq prints them) ---- */

static void put_events(struct ntk_sb *sb, unsigned n)
{
    if (n == 0)
        ntk_sb_puts(sb, "no events");
    else
        ntk_sb_printf(sb, "%u event%s", n, n == 1 ? "" : "s");
}

static void put_sys_status(struct ntk_sb *sb, uint16_t st)
{
    static const char *const leap[] = {"leap_none", "leap_add_sec", "leap_del_sec",
                                       "leap_alarm"};
    static const char *const src[] = {
        "sync_unspec", "sync_pps", "sync_lf_radio", "sync_hf_radio",   "sync_uhf_radio",
        "sync_local",  "sync_ntp", "sync_other",    "sync_wristwatch", "sync_telephone"};
    static const char *const ev[] = {
        "unspecified", "freq_not_set", "freq_set",      "spike_detect",
        "freq_mode",   "clock_sync",   "restart",       "panic_stop",
        "no_sys_peer", "leap_armed",   "leap_disarmed", "leap_event",
        "clock_step",  "kern",         "TAI",           "stale_leapsecond_values"};
    unsigned s = (st >> 8) & 0x3f;
    ntk_sb_printf(sb, "%s, ", leap[st >> 14]);
    if (s < 10)
        ntk_sb_puts(sb, src[s]);
    else
        ntk_sb_printf(sb, "sync_%u", s);
    ntk_sb_puts(sb, ", ");
    put_events(sb, (st >> 4) & 0xf);
    ntk_sb_printf(sb, ", %s", ev[st & 0xf]);
}

static void put_peer_status(struct ntk_sb *sb, uint16_t st)
{
    static const char *const flags[] = {"conf", "authenb", "auth", "reach", "bcast"};
    static const char *const sel[] = {"sel_reject",   "sel_falsetick", "sel_excess",
                                      "sel_outlier",  "sel_candidate", "sel_backup",
                                      "sel_sys.peer", "sel_pps.peer"};
    static const char *const ev[] = {
        "",         "mobilize",    "demobilize",    "unreachable",   "reachable",
        "restart",  "no_reply",    "rate_exceeded", "access_denied", "leap_armed",
        "sys_peer", "clock_event", "bad_auth",      "popcorn",       "_14",
        "_15"};
    bool any = false;
    for (int i = 0; i < 5; i++)
        if (st & (0x8000 >> i)) {
            ntk_sb_printf(sb, "%s%s", any ? ", " : "", flags[i]);
            any = true;
        }
    ntk_sb_printf(sb, ", %s, ", sel[(st >> 8) & 7]);
    put_events(sb, (st >> 4) & 0xf);
    if ((st & 0xf) != 0)
        ntk_sb_printf(sb, ", %s", ev[st & 0xf]);
}

static void put_clock_status(struct ntk_sb *sb, uint16_t st)
{
    static const char *const ev[] = {"clk_unspec",  "clk_no_reply",   "clk_bad_format",
                                     "clk_fault",   "clk_bad_signal", "clk_bad_date",
                                     "clk_bad_time"};
    put_events(sb, (st >> 4) & 0xf);
    if ((st & 0xf) < 7)
        ntk_sb_printf(sb, ", %s", ev[st & 0xf]);
    else
        ntk_sb_printf(sb, ", clk_%u", st & 0xf);
}

void nq_put_statustoa(struct ntk_sb *sb, int type, uint16_t status)
{
    if (type == NQ_TYPE_SYS)
        put_sys_status(sb, status);
    else if (type == NQ_TYPE_PEER)
        put_peer_status(sb, status);
    else if (type == NQ_TYPE_CLOCK)
        put_clock_status(sb, status);
}

/* ---- peers (PeerSummary) ---- */

static int slack(const struct nq_style *st)
{
    int s = (st->termwidth > 0 ? st->termwidth : 80) - 80;
    return s > 24 ? 24 : s < -15 ? -15 : s;
}

int nq_peers_header(struct ntk_sb *sb, const struct nq_style *st, enum nq_peers_mode m)
{
    int namewidth = 15 + slack(st);
    const char *common = "st t when poll reach   delay   offset   ";
    if (m == NQ_RPEERS) {
        ntk_sb_puts(
            sb, " st t when poll reach   delay   offset   jitter refid           T remote");
        return 79 + slack(st);
    }
    ntk_sb_printf(sb, "%-*s", namewidth, "     remote    ");
    if (m == NQ_APEERS)
        ntk_sb_printf(sb, "%-15s%sjitter", "   refid   assid  ", common);
    else if (m == NQ_OPEERS)
        ntk_sb_printf(sb, "%-15s%s  disp", "       local      ", common);
    else
        ntk_sb_printf(sb, "%-15s%sjitter", "       refid      ", common);
    return 79 + slack(st);
}

/* NTPsec's prettyinterval: "-", seconds, then minutes, hours, days. */
static void put_interval(struct ntk_sb *sb, bool known, int64_t diff)
{
    char buf[32];
    if (!known || diff <= 0)
        snprintf(buf, sizeof buf, "-");
    else if (diff <= 2048)
        snprintf(buf, sizeof buf, "%lld", (long long)diff);
    else {
        double d = ((double)diff + 29) / 60;
        if (d <= 300)
            snprintf(buf, sizeof buf, "%lldm", (long long)to_i64(d));
        else if ((d = (d + 29) / 60) <= 96)
            snprintf(buf, sizeof buf, "%lldh", (long long)to_i64(d));
        else
            snprintf(buf, sizeof buf, "%lldd", (long long)to_i64((d + 11) / 24));
    }
    ntk_sb_printf(sb, " %4.4s", buf);
}

/* What PeerSummary.summary gathers from the variables. */
struct peer_sum {
    const struct nq_var *delay, *offset, *jitter, *disp;
    const char *refid, *srcadr, *srchost;
    bool saw6, have_jitter, have_sync;
    int64_t hmode, ppoll, hpoll, reach, stratum, ntscookies;
    double last_sync;
};

static int64_t ival(const struct nq_var *v)
{
    return v->kind == NQ_STR ? 0 : v->kind == NQ_INT ? v->i : to_i64(v->d);
}

static void gather_one(struct peer_sum *p, const struct nq_var *v, enum nq_peers_mode m,
                       double now)
{
    const char *n = v->name;
    double t;
    if (strcmp(n, "delay") == 0) {
        p->delay = v;
        size_t l = strlen(v->raw);
        p->saw6 = l > 6 && v->raw[l - 7] == '.';
    } else if ((strcmp(n, "dstadr") == 0 && m == NQ_OPEERS) ||
               (strcmp(n, "refid") == 0 && m != NQ_OPEERS && m != NQ_RPEERS))
        p->refid = v->raw; /* opeers shows the local address where the others show refid */
    else if (strcmp(n, "hmode") == 0)
        p->hmode = ival(v);
    else if (strcmp(n, "hpoll") == 0)
        p->hpoll = ival(v) < 0 ? 0 : ival(v);
    else if (strcmp(n, "ppoll") == 0)
        p->ppoll = ival(v) < 0 ? 0 : ival(v);
    else if (strcmp(n, "jitter") == 0 && m != NQ_OPEERS) {
        p->jitter = v;
        p->have_jitter = true;
    } else if (strcmp(n, "offset") == 0)
        p->offset = v;
    else if (strcmp(n, "reach") == 0)
        p->reach = ival(v);
    else if ((strcmp(n, "rec") == 0 || strcmp(n, "reftime") == 0) &&
             nq_lfp_to_unix(v->str, now, &t)) {
        p->last_sync = (double)to_i64(now - t);
        p->have_sync = true;
    } else if (strcmp(n, "rootdisp") == 0 || strcmp(n, "dispersion") == 0)
        p->disp = v;
    else if (strcmp(n, "srcadr") == 0 || strcmp(n, "peeradr") == 0)
        p->srcadr = v->str;
    else if (strcmp(n, "srchost") == 0)
        p->srchost = v->str;
    else if (strcmp(n, "stratum") == 0)
        p->stratum = ival(v);
    else if (strcmp(n, "ntscookies") == 0)
        p->ntscookies = ival(v);
}

static char peer_type(const struct peer_sum *p)
{
    const char *src = p->srcadr ? p->srcadr : "";
    switch (p->hmode) {
    case 6:
        return 'b';
    case 5:
        return strncmp(src, "224.", 4) == 0 ? 'M' : 'B';
    case 3:
        if (p->srchost && strchr(p->srchost, '('))
            return 'l';
        if (p->refid && strcmp(p->refid, "POOL") == 0)
            return 'p';
        if (strncmp(src, "224.", 4) == 0)
            return 'a';
        /* One column: a count beyond 9 (a jar holds 8) from a strange daemon shows as 9,
         * as ntpmon shows it. */
        if (p->ntscookies > -1)
            return (char)('0' + (p->ntscookies > 9 ? 9 : p->ntscookies));
        return 'u';
    case 1:
        return 's';
    case 2:
        return 'S';
    default:
        return '?';
    }
}

static const char *peer_name(const struct peer_sum *p, const struct nq_style *st)
{
    const char *s = p->srcadr;
    if (s != NULL && strcmp(s, "0.0.0.0") != 0 && strncmp(s, "127.127", 7) != 0 &&
        strcmp(s, "::") != 0) {
        if ((st->showhostnames & 2) && p->srchost && p->srchost[0])
            return p->srchost;
        if ((st->showhostnames & 1) && st->resolve)
            return st->resolve(st->resolve_ctx, s);
        return s;
    }
    if (p->srchost)
        return p->srchost;
    return s ? s : "";
}

static void put_refid(struct ntk_sb *sb, const struct peer_sum *p, enum nq_peers_mode m,
                      uint16_t associd)
{
    char buf[NTK_CVAR_VALUE_MAX + 3];
    const char *r = p->refid ? p->refid : "";
    if (strchr(r, '.') == NULL && strchr(r, ':') == NULL) {
        snprintf(buf, sizeof buf, ".%s.", r);
        r = buf;
    }
    int assocw = m == NQ_APEERS ? 7 : 0;
    const char *vis = assocw && (int)strlen(r) >= 15 - assocw ? "..." : r;
    int len = (int)strlen(vis);
    if (len <= 15)
        ntk_sb_puts(sb, vis);
    else
        ntk_sb_printf(sb, "-%s", vis + len - 14);
    if (m == NQ_APEERS)
        ntk_sb_printf(sb, "%*s%-6d", 15 - len - assocw + 1 > 0 ? 15 - len - assocw + 1 : 0, "",
                      associd);
    else if (len < 15)
        ntk_sb_printf(sb, "%*s", 15 - len, "");
}

void nq_peers_line(struct ntk_sb *sb, const struct nq_style *st, enum nq_peers_mode m,
                   uint16_t rstatus, const struct nq_vars *vs, uint16_t associd)
{
    struct peer_sum p = {.stratum = 20, .ntscookies = -1};
    for (size_t i = 0; i < vs->n; i++)
        gather_one(&p, &vs->v[i], m, st->now_s);
    char c = " x.-+#*o"[(rstatus >> 8) & 7];
    int namewidth = 15 + slack(st);
    if (m != NQ_RPEERS) {
        const char *name = peer_name(&p, st);
        if (st->wide && (int)strlen(name) > namewidth)
            ntk_sb_printf(sb, "%c%s\n%*s", c, name, namewidth + 2, "");
        else
            ntk_sb_printf(sb, "%c%-*.*s ", c, namewidth, namewidth, name);
        put_refid(sb, &p, m, associd);
    }
    int64_t mp = p.ppoll < p.hpoll ? p.ppoll : p.hpoll;
    ntk_sb_printf(sb, " %2lld %c", (long long)p.stratum, peer_type(&p));
    put_interval(sb, p.have_sync, to_i64(p.last_sync));
    put_interval(sb, mp >= 0 && mp < 63, mp >= 0 && mp < 63 ? (int64_t)1 << mp : 0);
    ntk_sb_printf(sb, "  %3llo ", (unsigned long long)p.reach);
    const struct nq_var *col[3] = {p.delay, p.offset, p.have_jitter ? p.jitter : p.disp};
    for (int i = 0; i < 3; i++) {
        if (st->units)
            nq_units_ms(sb, col[i] ? col[i]->raw : ".", 8);
        else if (p.saw6)
            nq_put_f8dot4(sb, col[i]);
        else
            nq_put_f8dot3(sb, col[i]);
        ntk_sb_putc(sb, i < 2 ? ' ' : '\n');
    }
}

/* ---- cooked variables (util.cook) ---- */

static bool in_list(const char *name, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(name, *list) == 0)
            return true;
    return false;
}

static void put_flash(struct ntk_sb *sb, int64_t v)
{
    static const char *const names[] = {
        "pkt_dup",     "pkt_bogus",  "pkt_unsync",  "pkt_denied", "pkt_auth",
        "pkt_stratum", "pkt_header", "pkt_autokey", "pkt_crypto", "peer_stratum",
        "peer_dist",   "peer_loop",  "peer_unreach"};
    ntk_sb_printf(sb, "%02llx", (unsigned long long)v);
    if (v == 0)
        ntk_sb_puts(sb, " ok");
    for (int i = 0; i < 13; i++)
        if (v & (1LL << i))
            ntk_sb_printf(sb, " %s", names[i]);
}

/* Appends the words of s (split as Python's str.split() splits) joined by tabs. */
static void put_tabbed(struct ntk_sb *sb, const char *s)
{
    bool first = true;
    while (*s) {
        size_t sp = strspn(s, NQ_PY_SPACE);
        s += sp;
        size_t w = strcspn(s, NQ_PY_SPACE);
        if (w == 0)
            break;
        if (!first)
            ntk_sb_putc(sb, '\t');
        ntk_sb_putn(sb, s, w);
        first = false;
        s += w;
    }
}

/* One cooked item "name=value" (without separator). */
static void cook_item(struct ntk_sb *sb, const struct nq_style *st, const struct nq_var *v)
{
    static const char *const specials[] = {"filtdelay", "filtoffset", "filtdisp", "filterror",
                                           NULL};
    static const char *const dates[] = {"reftime", "clock", "org", "rec", "xmt", NULL};
    static const char *const addrs[] = {"srcadr", "peeradr", "dstadr", "refid", NULL};
    const char *n = v->name;
    if (in_list(n, specials))
        ntk_sb_printf(sb, "%10s =", n);
    else
        ntk_sb_printf(sb, "%s=", n);
    if (in_list(n, dates))
        nq_put_prettydate(sb, v->str, st->now_s);
    else if (in_list(n, addrs))
        put_str(sb, v);
    else if (strcmp(n, "leap") == 0 && v->kind == NQ_INT && v->i >= 0 && v->i < 4)
        ntk_sb_puts(sb, (const char *[]){"00", "01", "10", "11"}[v->i]);
    else if (strcmp(n, "reach") == 0 && v->kind == NQ_INT)
        ntk_sb_printf(sb, "%03llo", (unsigned long long)v->i);
    else if (in_list(n, specials) && v->kind == NQ_STR && st->units)
        nq_units_filt(sb, v->str);
    else if (in_list(n, specials) && v->kind == NQ_STR)
        put_tabbed(sb, v->str);
    else if (strcmp(n, "flash") == 0 && v->kind == NQ_INT)
        put_flash(sb, v->i);
    else if (!st->units || !nq_units_var(sb, n, v->raw, -1))
        nq_put_repr(sb, v);
}

void nq_cook(struct ntk_sb *sb, const struct nq_style *st, const struct nq_vars *vs)
{
    size_t start = ntk_sb_len(sb), linelen = 0;
    char item[NTK_CVAR_VALUE_MAX * 5 + 128];
    for (size_t i = 0; i < vs->n; i++) {
        struct ntk_sb isb;
        ntk_sb_init(&isb, item, sizeof item);
        cook_item(&isb, st, &vs->v[i]);
        ntk_sb_puts(&isb, ", ");
        size_t il = ntk_sb_len(&isb);
        /* Break the line (turning the previous separator's space into a newline) when the
         * item would pass the width. */
        if (linelen + il > (size_t)st->cookwidth && ntk_sb_len(sb) > start) {
            sb->p[sb->len - 1] = '\n';
            linelen = 0;
        }
        ntk_sb_puts(sb, item);
        const char *nl = strrchr(item, '\n');
        linelen = nl ? il - (size_t)(nl + 1 - item) : linelen + il;
    }
    if (ntk_sb_len(sb) >= start + 2) {
        sb->p[sb->len - 2] = '\n';
        sb->p[--sb->len] = '\0';
    } else
        ntk_sb_putc(sb, '\n');
}

/* ---- associations ---- */

void nq_assoc_table(struct ntk_sb *sb, const uint16_t *ids, const uint16_t *status, size_t n)
{
    static const char *const cond[] = {"reject",    "falsetick", "excess",   "outlier",
                                       "candidate", "backup",    "sys.peer", "pps.peer"};
    static const char *const ev[] = {"",
                                     "mobilize",
                                     "demobilize",
                                     "unreachable",
                                     "reachable",
                                     "restart",
                                     "no_reply",
                                     "rate_exceeded",
                                     "access_denied",
                                     "leap_armed",
                                     "sys_peer",
                                     "clock_alarm",
                                     "",
                                     "",
                                     "",
                                     ""};
    if (n == 0) {
        ntk_sb_puts(sb, "No association IDs in list\n");
        return;
    }
    ntk_sb_puts(sb, "\nind assid status  conf reach auth condition  last_event cnt\n");
    ntk_sb_puts(sb, "===========================================================\n");
    for (size_t i = 0; i < n; i++) {
        uint16_t s = status[i];
        const char *reach = (s & 0x0800) ? "none" : (s & 0x1000) ? "yes" : "no";
        const char *auth = !(s & 0x4000) ? "none" : (s & 0x2000) ? "ok " : "bad";
        ntk_sb_printf(sb, "%3zu %5u  %04x   %3.3s  %4s  %4.4s %9.9s %11s %2u\n", i + 1, ids[i],
                      s, (s & 0x8000) ? "yes" : "no", reach, auth, cond[(s >> 8) & 7],
                      ev[s & 0xf], (s >> 4) & 0xf);
    }
}

/* ---- statistics tables (collect_display, collect_display2) ---- */

static void put_packets(struct ntk_sb *sb, const struct nq_var *v)
{
    if (v == NULL || v->kind != NQ_INT)
        ntk_sb_printf(sb, "%13s", "???");
    else
        ntk_sb_printf(sb, "%13lld", (long long)v->i);
}

/* Python's round(x, 0): to nearest, halves to even (no libm: the golden test links none). */
static double round_even(double x)
{
    if (!(x > -9e15 && x < 9e15))
        return x;
    double t = (double)(int64_t)x, f = x - t;
    if (f > 0.5 || (f == 0.5 && ((int64_t)t & 1)))
        t += 1;
    else if (f < -0.5 || (f == -0.5 && ((int64_t)t & 1)))
        t -= 1;
    return t;
}

static void put_rate(struct ntk_sb *sb, const struct nq_var *v, bool have_period,
                     int64_t period)
{
    char rate[40] = "";
    const char *unit = "";
    if (v != NULL && v->kind == NQ_INT && v->i != 0 && have_period && period != 0) {
        struct ntk_sb r;
        ntk_sb_init(&r, rate, sizeof rate);
        bool pps = v->i > period;
        nq_put_pyfloat(&r, round_even(pps ? (double)v->i / (double)period
                                          : (double)period / (double)v->i));
        unit = pps ? "p/s" : "s/p";
    }
    ntk_sb_printf(sb, "%10s%-3s", rate, unit);
}

/* periodize: writes the display text and returns whether the value was a number. */
static bool period_text(const struct nq_var *v, char *buf, size_t cap, int64_t *secs)
{
    struct ntk_sb s;
    ntk_sb_init(&s, buf, cap);
    if (v == NULL || v->kind == NQ_STR) {
        ntk_sb_puts(&s, "???");
        return false;
    }
    *secs = v->kind == NQ_INT ? v->i : to_i64(round_even(v->d));
    nq_put_period(&s, *secs);
    return true;
}

static void stat_value(struct ntk_sb *sb, const struct nq_style *st, const struct nq_var *v)
{
    if (st->resolve && (st->showhostnames & 1))
        ntk_sb_puts(sb, st->resolve(st->resolve_ctx, v->str));
    else
        put_str(sb, v);
}

/* One collect_display row. */
static void stat_row(struct ntk_sb *sb, const struct nq_style *st, const struct nq_stat *r,
                     const struct nq_var *v, bool *have_run, int64_t *run)
{
    static const char *const modes[] = {"unspec",  "sym_active", "sym_passive",
                                        "client",  "server",     "broadcast",
                                        "control", "private",    "bclient"};
    char buf[NTK_CVAR_VALUE_MAX + 64];
    struct ntk_sb vb;
    ntk_sb_init(&vb, buf, sizeof buf);
    switch (r->type) {
    case NQ_F_ADD:
    case NQ_F_ADP:
        stat_value(&vb, st, v);
        break;
    case NQ_F_STR:
        if (v->kind == NQ_STR ? v->str[0] == '\0' : v->d == 0)
            return;
        put_str(&vb, v);
        break;
    case NQ_F_LFP:
        nq_put_prettydate(&vb, v->str, st->now_s);
        break;
    case NQ_F_2BIT:
        ntk_sb_puts(&vb, v->kind == NQ_INT && v->i >= 0 && v->i < 4
                             ? (const char *[]){"00", "01", "10", "11"}[v->i]
                             : v->str);
        break;
    case NQ_F_MODE:
        if (v->kind == NQ_INT && v->i >= 0 && v->i < 9)
            ntk_sb_printf(sb, "%s  %s\n", r->legend, modes[v->i]);
        else
            ntk_sb_printf(sb, "%s  mode#%lld\n", r->legend, (long long)ival(v));
        return;
    case NQ_F_PACKETS:
        ntk_sb_printf(sb, "%-13s ", r->legend);
        put_packets(sb, v);
        ntk_sb_putc(sb, ' ');
        put_rate(sb, v, *have_run, *run);
        ntk_sb_putc(sb, '\n');
        return;
    case NQ_F_UPTIME:
        *have_run = period_text(v, buf, sizeof buf, run);
        ntk_sb_printf(sb, "%-13s %13s\n", r->legend, buf);
        return;
    default:
        if (!st->units)
            put_str(&vb, v);
        else if (!nq_units_var(&vb, v->name, v->raw, 8))
            ntk_sb_puts(&vb, v->raw);
        break;
    }
    ntk_sb_printf(sb, "%13s %13s\n", r->legend, buf);
}

/* One collect_display2 row: the value and its since-reset twin. */
static void stat_row2(struct ntk_sb *sb, const struct nq_stat *r, const struct nq_var *v,
                      const struct nq_var *v2, bool *hs, int64_t *runs, bool *hl,
                      int64_t *runl)
{
    char a[64], b[64];
    switch (r->type) {
    case NQ_F_PACKETS:
        ntk_sb_printf(sb, "%-13s ", r->legend);
        put_packets(sb, v);
        ntk_sb_putc(sb, ' ');
        put_packets(sb, v2);
        ntk_sb_putc(sb, ' ');
        put_rate(sb, v, *hs, *runs);
        ntk_sb_putc(sb, ' ');
        put_rate(sb, v2, *hl, *runl);
        ntk_sb_putc(sb, '\n');
        return;
    case NQ_F_UPTIME:
        *hs = period_text(v, a, sizeof a, runs);
        *hl = period_text(v2, b, sizeof b, runl);
        ntk_sb_printf(sb, "%-13s %13s %13s\n", r->legend, a, b);
        return;
    default: {
        struct ntk_sb s1, s2;
        ntk_sb_init(&s1, a, sizeof a);
        ntk_sb_init(&s2, b, sizeof b);
        put_str(&s1, v);
        if (v2)
            put_str(&s2, v2);
        ntk_sb_printf(sb, "%-13s %13s %13s\n", r->legend, a, b);
        return;
    }
    }
}

void nq_stats_show(struct ntk_sb *sb, const struct nq_style *st, const struct nq_stats_cmd *c,
                   const struct nq_vars *vs, uint16_t associd, uint16_t status)
{
    if (c->decodestatus) {
        ntk_sb_printf(sb, "associd=%u status=%04x ", associd, status);
        nq_put_statustoa(sb, associd == 0 ? NQ_TYPE_SYS : NQ_TYPE_PEER, status);
        ntk_sb_puts(sb, ",\n");
    }
    bool h1 = !c->pairs, h2 = false;
    int64_t r1 = 1, r2 = 0;
    for (size_t i = 0; i < c->n; i++) {
        const struct nq_var *v = nq_vars_get(vs, c->rows[i].name);
        if (v == NULL)
            continue;
        if (c->pairs) {
            char twin[96];
            snprintf(twin, sizeof twin, "%s_r", c->rows[i].name);
            stat_row2(sb, &c->rows[i], v, nq_vars_get(vs, twin), &h1, &r1, &h2, &r2);
        } else
            stat_row(sb, st, &c->rows[i], v, &h1, &r1);
    }
}

/* ---- mrulist (MRUSummary) ---- */

const char nq_mru_header[] =
    " lstint avgint rstr r m v  count    score   drop rport remote address";

void nq_mru_line(struct ntk_sb *sb, const struct nq_style *st, const struct nq_mru *e,
                 double now_s)
{
    double active = e->last_s - e->first_s;
    ntk_sb_printf(sb, "%7lld", (long long)to_i64(now_s - e->last_s + 0.5));
    double favg = e->ct == 1 ? 0 : active / (double)(e->ct - 1);
    if (5.0 < favg || e->ct == 1)
        ntk_sb_printf(sb, " %6lld", (long long)to_i64(favg + 0.5));
    else if (1.0 <= favg)
        ntk_sb_printf(sb, " %6.2f", favg);
    else
        ntk_sb_printf(sb, " %6.3f", favg);
    char rs = (e->rs & 0x400) ? 'K' : (e->rs & 0x20) ? 'L' : '.';
    char ip[64], port[16] = "";
    const char *colon = strrchr(e->addr, ':');
    size_t ipl = strlen(e->addr);
    /* "a.b.c.d:port" (one colon) or "[v6]:port" (a colon after the bracket). */
    if (colon && (strchr(e->addr, ':') == colon ||
                  (strchr(e->addr, ']') && colon > strrchr(e->addr, ']')))) {
        ipl = (size_t)(colon - e->addr);
        snprintf(port, sizeof port, "%s", colon + 1);
    }
    snprintf(ip, sizeof ip, "%.*s", (int)ipl, e->addr);
    if (ip[0] == '[' && ipl > 1 && port[0]) {
        memmove(ip, ip + 1, ipl);
        ip[ipl - 2] = '\0';
    }
    char score[32], drop[24];
    if (e->has_sc && e->sc != 0)
        snprintf(score, sizeof score,
                 e->sc > 100000.0  ? "%8.1f"
                 : e->sc > 10000.0 ? "%8.2f"
                                   : "%8.3f",
                 e->sc);
    else
        snprintf(score, sizeof score, "-");
    if (e->has_dr)
        snprintf(drop, sizeof drop, "%4lld", (long long)e->dr);
    else
        snprintf(drop, sizeof drop, "-");
    const char *dns = ip;
    if ((st->showhostnames & 1) && st->resolve)
        dns = st->resolve(st->resolve_ctx, ip);
    ntk_sb_printf(sb, " %4llx %c %d %d %6lld %8s %6s %5s %s\n",
                  (unsigned long long)(e->rs & 0xffff), rs, (int)(e->mv & 7),
                  (int)((e->mv >> 3) & 7), (long long)e->ct, score, drop, port, dns);
}

/* ---- ifstats and reslist (IfstatsSummary, ReslistSummary) ---- */

void nq_ifstats_header(struct ntk_sb *sb)
{
    ntk_sb_puts(sb, "    interface name                                  send\n"
                    " #  address/broadcast     drop flag received sent failed peers   uptime\n"
                    " ");
    for (int i = 0; i < 74; i++)
        ntk_sb_putc(sb, '=');
    ntk_sb_putc(sb, '\n');
}

static const struct nq_var *item_n(const struct nq_vars *vs, const char *stem, unsigned i)
{
    char name[80];
    snprintf(name, sizeof name, "%s.%u", stem, i);
    return nq_vars_get(vs, name);
}

/* Rejects lines with characters NTPsec's ntpq takes for corruption. */
static bool clean_text(const char *s, size_t n, const char *allowed)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(c < 128 && (isalnum(c) || strchr(allowed, c) != NULL)))
            return false;
    }
    return true;
}

/* One ifstats number field: the value printed with fmt, or "?" when missing. */
static void if_field(struct ntk_sb *sb, const struct nq_var *v, int width, bool hex)
{
    if (v == NULL || v->kind == NQ_STR)
        ntk_sb_puts(sb, v == NULL ? "?" : v->str);
    else if (hex)
        ntk_sb_printf(sb, "%*llx", width, (unsigned long long)v->i);
    else
        ntk_sb_printf(sb, "%*lld", width, (long long)v->i);
}

void nq_ifstats_entry(struct ntk_sb *sb, const struct nq_vars *vs, unsigned i)
{
    char line[2048];
    struct ntk_sb l;
    ntk_sb_init(&l, line, sizeof line);
    const struct nq_var *name = item_n(vs, "name", i), *en = item_n(vs, "en", i);
    const struct nq_var *addr = item_n(vs, "addr", i), *bc = item_n(vs, "bcast", i);
    ntk_sb_printf(&l, "%3u ", i);
    if (name == NULL)
        ntk_sb_puts(&l, "?");
    else
        ntk_sb_printf(&l, "%-24.24s", name->kind == NQ_STR ? name->str : name->raw);
    bool enabled = en != NULL && (en->kind == NQ_STR ? en->str[0] != '\0' : en->d != 0);
    ntk_sb_printf(&l, " %c ", enabled ? '.' : 'D');
    if_field(&l, item_n(vs, "flags", i), 4, true);
    static const char *const nums[] = {"rx", "tx", "txerr", "pc", "up"};
    static const int widths[] = {6, 6, 6, 5, 8};
    for (int k = 0; k < 5; k++) {
        ntk_sb_putc(&l, ' ');
        if_field(&l, item_n(vs, nums[k], i), widths[k], false);
    }
    ntk_sb_printf(&l, "\n    %s\n", addr ? addr->str : "?");
    if (bc != NULL && (bc->kind == NQ_STR ? bc->str[0] != '\0' : bc->d != 0)) {
        ntk_sb_puts(&l, "    ");
        put_str(&l, bc);
        ntk_sb_putc(&l, '\n');
    }
    if (ntk_sb_err(&l) == 0 && clean_text(line, ntk_sb_len(&l), "/.:[] \\%\n"))
        ntk_sb_puts(sb, line);
}

void nq_reslist_header(struct ntk_sb *sb)
{
    ntk_sb_puts(sb, "   hits    addr/prefix or addr mask\n           restrictions\n");
    for (int i = 0; i < 72; i++)
        ntk_sb_putc(sb, '=');
    ntk_sb_putc(sb, '\n');
}

/* Prefix length of a mask as ntpq counts it: the 1 bits of each dotted (decimal) or colon
 * (hex) group. */
static int mask_prefix(const char *mask)
{
    bool v6 = strchr(mask, ':') != NULL;
    int bits = 0;
    const char *p = mask;
    while (*p) {
        char *end;
        unsigned long g = strtoul(p, &end, v6 ? 16 : 10);
        if (end != p)
            bits += __builtin_popcountl(g);
        p = *end ? end + 1 : end;
    }
    return bits;
}

void nq_reslist_entry(struct ntk_sb *sb, const struct nq_vars *vs, unsigned i)
{
    const struct nq_var *hits = item_n(vs, "hits", i), *addr = item_n(vs, "addr", i);
    const struct nq_var *mask = item_n(vs, "mask", i), *flags = item_n(vs, "flags", i);
    if (addr == NULL || mask == NULL)
        return;
    char line[2048], h[64];
    struct ntk_sb l, hs;
    ntk_sb_init(&l, line, sizeof line);
    ntk_sb_init(&hs, h, sizeof h);
    if (hits)
        put_str(&hs, hits);
    else
        ntk_sb_puts(&hs, "?");
    ntk_sb_printf(&l, "%10s ", h);
    put_str(&l, addr);
    ntk_sb_printf(&l, "/%d\n           ", mask_prefix(mask->str));
    if (flags)
        put_str(&l, flags);
    else
        ntk_sb_puts(&l, "?");
    ntk_sb_putc(&l, '\n');
    if (ntk_sb_err(&l) == 0 && clean_text(line, ntk_sb_len(&l), "/.: \n"))
        ntk_sb_puts(sb, line);
}
