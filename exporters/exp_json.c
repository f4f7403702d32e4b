/* SPDX-License-Identifier: BSD-2-Clause */
/* The exporter's /json: the same snapshot as /metrics, one JSON document in the metrics'
 * names and base units (exp.h), absent values left out. */
#include "exp.h"

#include <json-c/json.h>
#include <math.h>
#include <string.h>

#include "cli_json.h"

#include "poison.h"

#ifndef NTK_VERSION
#define NTK_VERSION "unknown"
#endif

/* key: seconds (or any double) when present. */
static void num(json_object *o, const char *key, double v)
{
    if (isfinite(v)) {
        cli_json_seconds(o, key, v);
    }
}

static void integer(json_object *o, const char *key, long long v, bool known)
{
    if (known) {
        cli_json_int(o, key, v, true);
    }
}

static void ctr(json_object *o, const char *key, uint64_t v)
{
    if (v != UINT64_MAX) {
        json_object_object_add(o, key, json_object_new_uint64(v));
    }
}

static json_object *system_obj(const struct m6_sys *y)
{
    json_object *o = json_object_new_object();
    if (y->leap >= 0 && y->stratum >= 0) {
        cli_json_bool(o, "synchronized", y->leap != 3 && y->stratum < 16);
    }
    integer(o, "leap_indicator", y->leap, y->leap >= 0);
    integer(o, "stratum", y->stratum, y->stratum >= 0);
    num(o, "offset_seconds", y->offset_s);
    num(o, "jitter_seconds", y->sys_jitter_s);
    num(o, "clock_jitter_seconds", y->clk_jitter_s);
    num(o, "frequency_ratio", y->freq_ratio);
    num(o, "frequency_wander_ratio", y->clk_wander_ratio);
    num(o, "root_delay_seconds", y->root_delay_s);
    num(o, "root_dispersion_seconds", y->root_disp_s);
    num(o, "root_distance_seconds", y->root_dist_s);
    num(o, "poll_interval_seconds", y->poll_s);
    num(o, "reference_timestamp_seconds", y->reftime_unix_s);
    if (y->refid[0] != '\0') {
        cli_json_str(o, "refid", y->refid);
    }
    integer(o, "system_peer_associd", y->sys_peer, y->sys_peer != 0);
    integer(o, "tai_offset_seconds", y->tai_s, y->tai_s >= 0);
    num(o, "leapfile_expiry_timestamp_seconds", y->leap_expire_unix_s);
    num(o, "leapfile_next_leap_timestamp_seconds", y->leapsec_unix_s);
    if (y->version[0] != '\0') {
        cli_json_str(o, "daemon_version", y->version);
    }
    return o;
}

/* A refclock's clock variables (READCLOCK) as "refclock": {...}, when it has any. */
static void refclock_obj(json_object *src, const struct m6_peer *p)
{
    if (p->rc_name[0] == '\0' && p->rc_device[0] == '\0' && p->rc_polls == UINT64_MAX &&
        p->rc_noreply == UINT64_MAX && p->rc_badformat == UINT64_MAX &&
        p->rc_baddata == UINT64_MAX) {
        return;
    }
    json_object *o = json_object_new_object();
    if (p->rc_name[0] != '\0') {
        cli_json_str(o, "name", p->rc_name);
    }
    if (p->rc_device[0] != '\0') {
        cli_json_str(o, "device", p->rc_device);
    }
    ctr(o, "polls_total", p->rc_polls);
    ctr(o, "errors_noreply_total", p->rc_noreply);
    ctr(o, "errors_badformat_total", p->rc_badformat);
    ctr(o, "errors_baddata_total", p->rc_baddata);
    json_object_object_add(src, "refclock", o);
}

static json_object *source_obj(const struct m6_peer *p)
{
    json_object *o = json_object_new_object();
    bool ref = strcmp(p->kind, "refclock") == 0;
    cli_json_str(o, "source", p->srchost[0] != '\0' ? p->srchost : p->srcadr);
    cli_json_str(o, "address", ref ? "" : p->srcadr);
    cli_json_str(o, "kind", p->kind);
    cli_json_int(o, "associd", p->associd, true);
    cli_json_str(o, "selection", m6_sel_name(p->sel));
    if (p->reach_ok) {
        cli_json_bool(o, "reachable", (p->reach & 1) != 0);
        int n = 0;
        for (uint8_t v = p->reach; v != 0; v &= (uint8_t)(v - 1)) {
            n++;
        }
        num(o, "reach_ratio", n / 8.0);
    }
    if (p->refid[0] != '\0') {
        cli_json_str(o, "refid", p->refid);
    }
    integer(o, "stratum", p->stratum, p->stratum >= 0);
    num(o, "offset_seconds", p->offset_s);
    num(o, "delay_seconds", p->delay_s);
    num(o, "dispersion_seconds", p->disp_s);
    num(o, "jitter_seconds", p->jitter_s);
    num(o, "root_delay_seconds", p->root_delay_s);
    num(o, "root_dispersion_seconds", p->root_disp_s);
    if (p->hpoll_log2 >= 0 && p->hpoll_log2 <= 17) {
        num(o, "poll_interval_seconds", ldexp(1.0, p->hpoll_log2));
    }
    if (p->rec_unix_s > 0) {
        num(o, "last_response_timestamp_seconds", p->rec_unix_s);
    }
    const char *m = p->ntscookies >= 0 ? "nts" : p->keyid != 0 ? "symmetric" : "none";
    cli_json_str(o, "auth_method", m);
    cli_json_bool(o, "authenticated", strcmp(m, "none") != 0 && p->authentic);
    integer(o, "nts_cookies", p->ntscookies, p->ntscookies >= 0);
    if (p->kiss[0] != '\0') {
        cli_json_str(o, "kiss_code", p->kiss);
    }
    refclock_obj(o, p);
    return o;
}

static json_object *counters_obj(const struct m6_counters *c)
{
    json_object *o = json_object_new_object();
    static const struct {
        const char *key;
        size_t off;
    } t[] = {
#define K(k, m) {k, offsetof(struct m6_counters, m)}
        K("daemon_uptime_seconds", ss_uptime),
        K("server_packets_received_total", ss_received),
        K("server_packets_version4_total", ss_thisver),
        K("server_packets_older_version_total", ss_oldver),
        K("server_packets_dropped_bad_format_total", ss_badformat),
        K("server_packets_dropped_auth_failed_total", ss_badauth),
        K("server_packets_dropped_declined_total", ss_declined),
        K("server_packets_dropped_restricted_total", ss_restricted),
        K("server_packets_dropped_rate_limited_total", ss_limited),
        K("server_kod_sent_total", ss_kodsent),
        K("server_packets_processed_total", ss_processed),
        K("control_requests_total", ss_numctlreq),
        K("io_packets_received_total", io_received),
        K("io_packets_sent_total", io_sent),
        K("server_send_errors_total", io_sendfailed),
        K("io_packets_dropped_total", io_dropped),
        K("io_packets_ignored_total", io_ignored),
        K("nts_client_packets_sent_total", nts_client_send),
        K("nts_client_packets_received_ok_total", nts_client_recv_good),
        K("nts_client_packets_received_bad_total", nts_client_recv_bad),
        K("nts_server_packets_sent_total", nts_server_send),
        K("nts_server_packets_received_ok_total", nts_server_recv_good),
        K("nts_server_packets_received_bad_total", nts_server_recv_bad),
        K("nts_cookies_issued_total", nts_cookie_make),
        K("nts_cookie_decodes_current_total", nts_cookie_decode_current),
        K("nts_cookie_decodes_old_total", nts_cookie_decode_old),
        K("nts_cookie_decodes_old2_total", nts_cookie_decode_old2),
        K("nts_cookie_decodes_older_total", nts_cookie_decode_older),
        K("nts_cookie_decodes_too_old_total", nts_cookie_decode_too_old),
        K("nts_cookie_decodes_error_total", nts_cookie_decode_error),
        K("nts_ke_server_ok_total", nts_ke_serves_good),
        K("nts_ke_server_error_total", nts_ke_serves_bad),
        K("nts_ke_server_tls_failed_total", nts_ke_serves_nossl),
        K("nts_ke_client_ok_total", nts_ke_probes_good),
        K("nts_ke_client_error_total", nts_ke_probes_bad),
        K("server_mru_entries", mru_entries),
        K("server_mru_capacity_entries", mru_maxdepth),
        K("auth_decrypts_total", auth_decrypts),
        K("auth_encrypts_total", auth_encrypts),
        K("auth_failures_total", auth_fails),
        K("auth_keys", auth_keys),
#undef K
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        uint64_t v;
        memcpy(&v, (const char *)c + t[i].off, sizeof v);
        ctr(o, t[i].key, v);
    }
    /* NTPsec's mru_mem and mru_maxmem are KiB; the document uses bytes. */
    if (c->mru_mem < UINT64_MAX / 1024) {
        ctr(o, "server_mru_memory_bytes", c->mru_mem * 1024);
    }
    if (c->mru_maxmem < UINT64_MAX / 1024) {
        ctr(o, "server_mru_memory_limit_bytes", c->mru_maxmem * 1024);
    }
    return o;
}

void exp_render_json(const struct m6_snap *s, const struct exp_self *self, struct exp_buf *out)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "schema", json_object_new_int(1));
    cli_json_str(o, "exporter_version",
                 self != NULL && self->version != NULL ? self->version : NTK_VERSION);
    cli_json_bool(o, "up", s != NULL && s->up);
    if (s != NULL && !s->up && s->error[0] != '\0') {
        cli_json_str(o, "error", s->error);
    }
    if (s != NULL && s->up && s->peers_error[0] != '\0') {
        cli_json_str(o, "peers_error", s->peers_error); /* the sources are missing, not 0 */
    }
    if (s != NULL) {
        num(o, "timestamp_seconds", s->taken_unix_s);
        num(o, "scrape_duration_seconds", s->fetch_s);
    }
    if (s != NULL && s->up) {
        json_object_object_add(o, "system", system_obj(&s->sys));
        json_object *a = json_object_new_array();
        for (size_t i = 0; i < s->n_peers && i < M6_PEERS_MAX; i++) {
            json_object_array_add(a, source_obj(&s->peers[i]));
        }
        json_object_object_add(o, "sources", a);
        json_object_object_add(o, "counters", counters_obj(&s->ctr));
    }
    const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                             JSON_C_TO_STRING_NOSLASHESCAPE);
    exp_buf_printf(out, "%s\n", text != NULL ? text : "{}");
    json_object_put(o);
}
