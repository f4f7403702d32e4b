/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpdig's report: NTPsec's text line for the selected sample, or one JSON line per sample.
 */
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_json.h"
#include "dig.h"
#include "ntk/aead.h"
#include "ntk/refid.h"

#include "poison.h"

/* The JSON schema name; within major 1 keys are only ever added. */
#define DIG_SCHEMA "ntpkit.ntpdig/1"

static const char *leap_word(enum ntk_leap leap)
{
    static const char *const words[] = {"no-leap", "add-leap", "del-leap", "unsync"};
    return words[leap & 3];
}

/* NTPsec's fraction digits: the decimal digits the server's precision justifies, at most 6
 * (min(6, -int(log10(2^precision))) in ntpdig.py, int() truncating toward zero). */
static int frac_digits(int8_t precision_log2)
{
    int d = -(int)((double)precision_log2 * log10(2.0));
    return d < 0 ? 0 : d > 6 ? 6 : d;
}

/* Appends "YYYY-MM-DD<sep>HH:MM:SS[.fff]" and the zone as "+hhmm" (NTPsec's form) for the
 * server's transmit time in local time. */
static void local_time(const struct dig_result *r, const struct timespec *near, char sep,
                       const char *zone_open, const char *zone_close, struct ntk_sb *sb)
{
    struct timespec t;
    ntk_ts_to_timespec_near(r->s.t3, near, &t);
    struct tm tm;
    if (localtime_r(&t.tv_sec, &tm) == NULL)
        memset(&tm, 0, sizeof tm);
    char date[64];
    size_t n = strftime(date, sizeof date, "%Y-%m-%d", &tm);
    ntk_sb_putn(sb, date, n);
    ntk_sb_putc(sb, sep);
    n = strftime(date, sizeof date, "%H:%M:%S", &tm);
    ntk_sb_putn(sb, date, n);
    int digits = frac_digits(r->s.pkt.precision_log2);
    if (digits > 0) {
        long us = t.tv_nsec / 1000, scale = 1;
        for (int i = digits; i < 6; i++)
            scale *= 10;
        ntk_sb_printf(sb, ".%0*ld", digits, us / scale);
    }
    long off_min = tm.tm_gmtoff / 60;
    ntk_sb_printf(sb, "%s%c%02ld%02ld%s", zone_open, off_min < 0 ? '-' : '+',
                  labs(off_min) / 60, labs(off_min) % 60, zone_close);
}

void dig_format_text(const struct dig_result *r, const struct timespec *near,
                     struct ntk_sb *sb)
{
    local_time(r, near, ' ', " (", ")", sb);
    ntk_sb_printf(sb, " %+f +/- %f %s", r->s.offset_s, r->s.error_bound_s, r->host);
    if (strcmp(r->target.ip, r->host) != 0 && r->target.ip[0] != '\0')
        ntk_sb_printf(sb, " %s", r->target.ip);
    ntk_sb_printf(sb, " s%u %s", (unsigned)r->s.pkt.stratum, leap_word(r->s.pkt.leap));
}

/* What the reply's header said (null when there was no usable reply). */
static void json_header(json_object *o, const struct dig_result *r)
{
    bool h = r->replied;
    const struct ntk_pkt *p = &r->s.pkt;
    cli_json_int(o, "li", p->leap, h);
    cli_json_int(o, "version", p->version, h);
    cli_json_int(o, "mode", p->mode, h);
    cli_json_int(o, "precision_log2", p->precision_log2, h);
    cli_json_int(o, "poll_log2", p->poll_log2, h);
    char refid[NTK_REFID_STRMAX], hex[12];
    struct ntk_sb sb;
    ntk_sb_init(&sb, refid, sizeof refid);
    ntk_refid_format(p->refid, p->stratum, NTK_REFID_FMT_ESCAPE, &sb);
    cli_json_str(o, "refid", h ? refid : NULL);
    ntk_sb_init(&sb, hex, sizeof hex);
    ntk_sb_printf(&sb, "%08x", (unsigned)p->refid);
    cli_json_str(o, "refid_hex", h ? hex : NULL);
    cli_json_seconds(o, "root_delay", h ? ntk_short_to_s(p->root_delay) : NAN);
    cli_json_seconds(o, "root_dispersion", h ? ntk_short_to_s(p->root_disp) : NAN);
    cli_json_str(o, "kiss_code", r->verdict == NTK_SNTP_KOD ? r->s.kiss_code : NULL);
    cli_json_bool(o, "authenticated", h && r->s.authenticated);
    cli_json_int(o, "key_id", r->key_id, r->key_id != 0);
}

/* The measurement (null unless the sample was accepted). */
/* NTPsec's keys, in NTPsec's order (time offset precision host ip stratum leap adjusted
 * delay), each null when this sample has no value for it. */
static void json_ntpsec(json_object *o, const struct dig_result *r, bool adjusted,
                        const struct timespec *near)
{
    bool ok = r->verdict == NTK_SNTP_OK;
    char text[NTK_TIMESTR_MAX];
    struct ntk_sb sb;
    ntk_sb_init(&sb, text, sizeof text);
    if (ok)
        local_time(r, near, 'T', "", "", &sb);
    cli_json_str(o, "time", ok ? text : NULL);
    cli_json_seconds(o, "offset", ok ? r->s.offset_s : NAN);
    cli_json_seconds(o, "precision", ok ? r->s.error_bound_s : NAN);
    cli_json_str(o, "host", r->host);
    cli_json_str(o, "ip", r->target.len > 0 ? r->target.ip : NULL);
    cli_json_int(o, "stratum", r->s.pkt.stratum, r->replied);
    cli_json_str(o, "leap", r->replied ? leap_word(r->s.pkt.leap) : NULL);
    cli_json_bool(o, "adjusted", adjusted);
    cli_json_seconds(o, "delay", ok ? r->s.delay_s : NAN);
}

/* The measurement beyond NTPsec's keys (null unless the sample was accepted; the
 * timestamps whenever a reply was checked). */
static void json_measure(json_object *o, const struct dig_result *r,
                         const struct timespec *near)
{
    bool ok = r->verdict == NTK_SNTP_OK;
    /* ntk_sntp_check fills T1..T4 from the kiss-o'-death test on. */
    bool times = ok || (r->verdict >= NTK_SNTP_KOD && r->verdict < NTK_SNTP_VERDICT_COUNT);
    cli_json_seconds(o, "sync_distance", ok ? r->s.sync_distance_s : NAN);
    cli_json_seconds(o, "dispersion", ok ? r->s.dispersion_s : NAN);
    const ntk_ts *ts[4] = {&r->s.t1, &r->s.t2, &r->s.t3, &r->s.t4};
    static const char *const keys[4][2] = {
        {"t1", "t1_iso"}, {"t2", "t2_iso"}, {"t3", "t3_iso"}, {"t4", "t4_iso"}};
    for (int i = 0; i < 4; i++)
        cli_json_ts(o, keys[i][0], keys[i][1], *ts[i], near, times);
}

/* The --nts diagnosis (every value null when the step that gives it was not reached). */
static json_object *json_nts(const struct dig_nts *n)
{
    json_object *o = json_object_new_object();
    const struct ke_cli_result *k = &n->ke;
    const struct tls_peer_info *p = &k->peer;
    bool ok = n->ke_tried && k->err == 0, cert = p->subject[0] != '\0';
    cli_json_str(o, "ke_host", n->ke_host);
    cli_json_str(o, "ke_ip", n->ke_ip[0] ? n->ke_ip : NULL);
    cli_json_int(o, "ke_port", n->ke_port, true);
    cli_json_bool(o, "ke_ok", ok);
    cli_json_str(o, "ke_stage", n->ke_tried ? k->stage : NULL);
    cli_json_str(o, "ke_error", n->ke_tried && k->err != 0 ? k->why : NULL);
    cli_json_seconds(o, "ke_time", n->ke_tried ? (double)k->elapsed_ns * 1e-9 : NAN);
    cli_json_str(o, "tls_version", p->version[0] ? p->version : NULL);
    cli_json_str(o, "tls_cipher", p->cipher[0] ? p->cipher : NULL);
    cli_json_str(o, "alpn", p->alpn[0] ? p->alpn : NULL);
    cli_json_str(o, "cert_subject", cert ? p->subject : NULL);
    cli_json_str(o, "cert_issuer", cert ? p->issuer : NULL);
    cli_json_str(o, "cert_san", cert ? p->san : NULL);
    cli_json_int(o, "cert_not_before", p->not_before_s, cert);
    cli_json_int(o, "cert_not_after", p->not_after_s, cert);
    cli_json_int(o, "cert_days_left",
                 (long long)floor((double)(p->not_after_s - (int64_t)time(NULL)) / 86400.0),
                 cert);
    cli_json_bool(o, "cert_name_match", p->name_match);
    cli_json_bool(o, "cert_verified", p->verified);
    cli_json_str(o, "cert_verify_error", p->verify_error[0] ? p->verify_error : NULL);
    cli_json_bool(o, "noval", n->noval);
    cli_json_int(o, "aead", k->aead, ok);
    cli_json_str(o, "aead_name", ok ? ntk_aead_name(k->aead) : NULL);
    cli_json_int(o, "cookies", (long long)k->resp.n_cookies, ok);
    cli_json_int(o, "cookie_len", ok ? k->resp.cookies[0].len : 0, ok);
    cli_json_str(o, "ntp_server", n->ntp_server[0] ? n->ntp_server : NULL);
    cli_json_int(o, "ntp_port", n->ntp_port, ok);
    cli_json_bool(o, "ntp_negotiated", ok && (k->resp.server[0] || k->resp.has_port));
    cli_json_int(o, "request_len", (long long)n->request_len, n->request_len != 0);
    cli_json_str(o, "reply", n->nts_verdict);
    cli_json_int(o, "cookies_returned", (long long)n->cookies_returned,
                 n->nts_verdict != NULL);
    return o;
}

static json_object *json_result(const struct dig_result *r, enum dig_adjustment adj,
                                const struct timespec *near, const struct dig_nts *nts)
{
    json_object *o = json_object_new_object();
    bool has_target = r->target.len > 0;
    enum dig_adjustment mine = r->selected ? adj : DIG_ADJ_NONE;
    cli_json_str(o, "schema", DIG_SCHEMA);
    json_ntpsec(o, r, mine == DIG_ADJ_STEPPED || mine == DIG_ADJ_SLEWED, near);
    cli_json_str(o, "adjustment", dig_adjustment_name(mine));
    cli_json_int(o, "port", r->target.port, has_target);
    json_header(o, r);
    json_measure(o, r, near);
    cli_json_bool(o, "ok", r->verdict == NTK_SNTP_OK);
    cli_json_str(o, "error", r->error);
    cli_json_str(o, "message", r->error != NULL ? r->message : NULL);
    cli_json_int(o, "sample", r->round, true);
    cli_json_bool(o, "selected", r->selected);
    if (nts != NULL)
        json_object_object_add(o, "nts", json_nts(nts));
    return o;
}

void dig_report(const struct dig_opts *o, const struct dig_results *r, enum dig_adjustment adj,
                const struct timespec *near)
{
    if (!o->json && r->nts != NULL) {
        dig_nts_print(r->nts, stdout);
        fflush(stdout);
    }
    for (size_t i = 0; i < r->n; i++) {
        const struct dig_result *x = &r->v[i];
        if (o->json) {
            json_object *j = json_result(x, adj, near, r->nts);
            cli_json_line(j, stdout);
            json_object_put(j);
        } else if (x->selected) {
            char line[512];
            struct ntk_sb sb;
            ntk_sb_init(&sb, line, sizeof line);
            dig_format_text(x, near, &sb);
            puts(ntk_sb_str(&sb));
            fflush(stdout);
        }
    }
}
