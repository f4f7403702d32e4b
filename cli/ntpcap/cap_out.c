/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpcap's outputs (see cap_out.h): the human report, JSON Lines, CSV, the summary and the
 * --fail-on rule. JSON is built with json-c only (ecosystem.md §2.5); text through ntk_sb. */
#include "cap_out.h"

#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ntk/sb.h"

#include "poison.h"

/* Anomaly lines the report prints per code before it only counts them. */
#define INLINE_PER_CODE 100
/* Slots for anomaly codes (cap_anom_codes() has fewer; the last slot takes unknown ones). */
#define CODE_SLOTS 64
/* The report shows offset_pkt and delay_pkt only when delay_pkt is in [0, this). */
#define PLAUSIBLE_DELAY_S 3600.0
/* Rows of each top-talkers table. */
#define TOP_N 10
/* Talker records kept before they are merged by address. */
#define TALK_COMPACT 262144

/* One address's traffic (top talkers), from the flows reported. */
struct talker {
    struct ntk_addr addr; /* port 0 */
    uint64_t pkts, bytes, flows;
};

/* One anomaly code's tally. */
struct tally {
    const char *code;
    enum cap_sev sev;
    uint64_t n, first_frame;
};

struct cap_out {
    struct cap_out_cfg cfg;
    uint64_t by_sev[3]; /* anomalies seen, by severity */
    struct tally codes[CODE_SLOTS];
    size_t n_codes;
    bool flows_header;                /* report: "Flows" printed */
    bool csv_header;                  /* CSV: the header row printed */
    struct talker *clients, *servers; /* --summary */
    size_t n_clients, n_servers, cap_clients, cap_servers;
    bool oom;           /* a talker record could not be kept (the tables are then partial) */
    struct cap_tod tod; /* of the last exchange line */
};

/* ---- names ---- */

static const char *mode_name(unsigned m)
{
    static const char *const names[8] = {"reserved", "symmetric_active", "symmetric_passive",
                                         "client",   "server",           "broadcast",
                                         "control",  "private"};
    return names[m & 7U];
}

static const char *leap_name(unsigned li)
{
    static const char *const names[4] = {"none", "insert", "delete", "unsynchronized"};
    return names[li & 3U];
}

static const char *kind_name(enum cap_xkind k)
{
    switch (k) {
    case CAP_X_CLIENT:
        return "client";
    case CAP_X_SYMMETRIC:
        return "symmetric";
    case CAP_X_CONTROL:
        return "control";
    case CAP_X_NTSKE:
        return "nts_ke";
    default:
        return "private";
    }
}

static const char *what_name(enum cap_what w)
{
    switch (w) {
    case CAP_NTP:
        return "ntp";
    case CAP_NTSKE:
        return "ntske";
    case CAP_TRUNCATED:
        return "truncated";
    case CAP_MALFORMED:
        return "malformed";
    default:
        return "other";
    }
}

/* RFC 9327 §2.2 opcodes. */
static const char *m6_op_name(unsigned op)
{
    static const char *const names[13] = {"unspec",    "readstat",   "readvar", "writevar",
                                          "readclock", "writeclock", "settrap", "asyncmsg",
                                          "configure", "saveconfig", "readmru", "readordlist",
                                          "reqnonce"};
    return op < 13 ? names[op] : op == 31 ? "unsettrap" : "unknown";
}

/* NTP Classic's ntp_request.h request codes, the ones analysts meet. */
static const char *m7_req_name(unsigned code)
{
    switch (code) {
    case 0:
        return "peer_list";
    case 1:
        return "peer_list_sum";
    case 2:
        return "peer_info";
    case 4:
        return "sys_info";
    case 5:
        return "sys_stats";
    case 16:
        return "get_restrict";
    case 20:
        return "mon_getlist";
    case 42:
        return "mon_getlist_1";
    default:
        return "other";
    }
}

/* ---- text helpers ---- */

/* "00".."99": numbers are written two digits at a time. */
static const char pairs[201] = "00010203040506070809101112131415161718192021222324"
                               "25262728293031323334353637383940414243444546474849"
                               "50515253545556575859606162636465666768697071727374"
                               "75767778798081828384858687888990919293949596979899";

/* Appends v in decimal, at least width digits (zero-padded). The report and CSV print
 * millions of numbers: these helpers avoid printf's cost on that path. */
static void put_u_pad(struct ntk_sb *sb, uint64_t v, size_t width)
{
    char d[24];
    size_t n = 0;
    while (v > UINT32_MAX) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        d[sizeof d - 1 - n++] = pairs[2 * r + 1];
        d[sizeof d - 1 - n++] = pairs[2 * r];
    }
    uint32_t w = (uint32_t)v;
    while (w >= 100) {
        unsigned r = w % 100;
        w /= 100;
        d[sizeof d - 1 - n++] = pairs[2 * r + 1];
        d[sizeof d - 1 - n++] = pairs[2 * r];
    }
    if (w >= 10) {
        d[sizeof d - 1 - n++] = pairs[2 * w + 1];
        d[sizeof d - 1 - n++] = pairs[2 * w];
    } else {
        d[sizeof d - 1 - n++] = (char)('0' + w);
    }
    while (n < width && n < sizeof d) {
        d[sizeof d - 1 - n++] = '0';
    }
    ntk_sb_putn(sb, d + sizeof d - n, n);
}

/* Exactly nine digits of v < 10^9 (nanoseconds). */
static void put_nano9(struct ntk_sb *sb, uint32_t v)
{
    char d[9];
    for (int i = 7; i >= 1; i -= 2) {
        unsigned r = v % 100;
        v /= 100;
        d[i] = pairs[2 * r];
        d[i + 1] = pairs[2 * r + 1];
    }
    d[0] = (char)('0' + v % 10);
    ntk_sb_putn(sb, d, sizeof d);
}

/* v < 256 in decimal (address octets). */
static void put_u8(struct ntk_sb *sb, unsigned v)
{
    char d[3];
    size_t n = 0;
    if (v >= 100) {
        d[n++] = (char)('0' + v / 100);
        v %= 100;
        d[n++] = pairs[2 * v];
        d[n++] = pairs[2 * v + 1];
    } else if (v >= 10) {
        d[n++] = pairs[2 * v];
        d[n++] = pairs[2 * v + 1];
    } else {
        d[n++] = (char)('0' + v);
    }
    ntk_sb_putn(sb, d, n);
}

static void put_u(struct ntk_sb *sb, uint64_t v)
{
    put_u_pad(sb, v, 1);
}

/* |v| * 1e9 rounded as printf rounds (to nearest, ties to even, on the exact binary value):
 * v = m * 2^(e-53) exactly, so v * 1e9 = m * 1e9 / 2^(53-e), an 83-bit product. For
 * |v| < 9e6 s. */
__extension__ typedef unsigned __int128 u128;
static uint64_t nanos_of(double a)
{
    /* a = m * 2^(e - 53) with m the 53-bit significand, read from the bits (frexp and ldexp
     * were a tenth of the report's cost). Subnormals are far below a nanosecond. */
    uint64_t bits;
    memcpy(&bits, &a, sizeof bits);
    int biased = (int)(bits >> 52 & 0x7ff);
    if (biased == 0) {
        return 0;
    }
    uint64_t m = (bits & ((UINT64_C(1) << 52) - 1)) | UINT64_C(1) << 52;
    int e = biased - 1022;
    u128 p = (u128)m * 1000000000U;
    int sh = 53 - e; /* >= 29 for a < 9e6 */
    if (sh >= 100) {
        return 0; /* below 2^-17 ns */
    }
    u128 q = p >> sh, rem = p & (((u128)1 << sh) - 1), half = (u128)1 << (sh - 1);
    if (rem > half || (rem == half && (q & 1))) {
        q++;
    }
    return (uint64_t)q;
}

/* Appends v seconds exactly as "%.9f" would ("%+.9f" when sign), without printf below
 * 9e6 s. */
static void put_fixed9(struct ntk_sb *sb, double v, bool sign)
{
    if (!(fabs(v) < 9e6)) {
        ntk_sb_printf(sb, sign ? "%+.9f" : "%.9f", v);
        return;
    }
    uint64_t ns = nanos_of(fabs(v));
    if (signbit(v)) {
        ntk_sb_putc(sb, '-');
    } else if (sign) {
        ntk_sb_putc(sb, '+');
    }
    put_u(sb, ns / 1000000000U);
    ntk_sb_putc(sb, '.');
    put_nano9(sb, (uint32_t)(ns % 1000000000U));
}

/* addr without its port, as text. */
static const char *addr_text(const struct ntk_addr *a, char buf[NTK_ADDRSTR_MAX])
{
    struct ntk_addr b = *a;
    b.port = 0;
    return ntk_addr_format(&b, buf);
}

/* True when the refid is printable ASCII padded with NULs (a kiss code or a reference clock
 * name, RFC 5905 section 7.3), not empty. */
static bool ascii_refid(const uint8_t b[4])
{
    size_t n = 0;
    while (n < 4 && b[n] >= 0x20 && b[n] < 0x7f) {
        n++;
    }
    for (size_t i = n; i < 4; i++) {
        if (b[i] != 0) {
            return false;
        }
    }
    return n > 0;
}

/* The refid as text: a kiss code or reference clock name for stratum 0 and 1 when it is
 * ASCII, else (and above stratum 1) a dotted quad. */
/* The refid as NTPsec shows it: four ASCII characters at stratum 0 and 1, else an IPv4
 * address (or an IPv6 address's hash). */
static void put_refid(struct ntk_sb *sb, uint8_t stratum, uint32_t refid)
{
    uint8_t b[4] = {(uint8_t)(refid >> 24), (uint8_t)(refid >> 16), (uint8_t)(refid >> 8),
                    (uint8_t)refid};
    if (stratum <= 1 && ascii_refid(b)) {
        for (size_t i = 0; i < 4 && b[i] != 0; i++) {
            ntk_sb_putc(sb, (char)b[i]);
        }
    } else {
        for (size_t i = 0; i < 4; i++) {
            if (i > 0) {
                ntk_sb_putc(sb, '.');
            }
            put_u8(sb, b[i]);
        }
    }
}

static const char *refid_text(uint8_t stratum, uint32_t refid, char buf[16])
{
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, 16);
    put_refid(&sb, stratum, refid);
    return ntk_sb_str(&sb);
}

static const char *refid_hex(uint32_t refid, char buf[16])
{
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, 16);
    ntk_sb_printf(&sb, "%08x", refid);
    return ntk_sb_str(&sb);
}

/* RFC 3339 UTC with 9 fraction digits. */
static const char *iso_text(int64_t sec, uint32_t nsec, char buf[NTK_TIMESTR_MAX])
{
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, NTK_TIMESTR_MAX);
    struct ntk_civil c;
    ntk_civil_from_unix(sec, &c);
    if (c.year < 0 || c.year > 9999 || nsec > 999999999U) {
        struct timespec t = {.tv_sec = (time_t)sec, .tv_nsec = (long)nsec};
        ntk_time_format_iso(&t, 9, &sb); /* its expanded years */
        return ntk_sb_str(&sb);
    }
    const struct {
        uint64_t v;
        size_t width;
        char after;
    } parts[] = {{(uint64_t)c.year, 4, '-'},
                 {(uint64_t)c.mon, 2, '-'},
                 {(uint64_t)c.mday, 2, 'T'},
                 {(uint64_t)c.hour, 2, ':'},
                 {(uint64_t)c.min, 2, ':'},
                 {(uint64_t)c.sec, 2, '.'},
                 {nsec, 9, 'Z'}};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        put_u_pad(&sb, parts[i].v, parts[i].width);
        ntk_sb_putc(&sb, parts[i].after);
    }
    return ntk_sb_str(&sb);
}

/* Time of day as tcpdump prints it, with nanoseconds. */
static void put_tod(struct ntk_sb *sb, int64_t sec, uint32_t nsec)
{
    int64_t day = sec % 86400;
    if (day < 0) {
        day += 86400;
    }
    put_u_pad(sb, (uint64_t)(day / 3600), 2);
    ntk_sb_putc(sb, ':');
    put_u_pad(sb, (uint64_t)(day / 60 % 60), 2);
    ntk_sb_putc(sb, ':');
    put_u_pad(sb, (uint64_t)(day % 60), 2);
    ntk_sb_putc(sb, '.');
    put_u_pad(sb, nsec, 9);
}

/* put_tod for the per-exchange lines: "HH:MM:SS." is kept from the last line, since
 * consecutive frames mostly fall in the same second. */
static void put_tod_line(struct cap_tod *tod, struct ntk_sb *sb, int64_t sec, uint32_t nsec)
{
    if (!tod->valid || tod->sec != sec) {
        struct ntk_sb t;
        ntk_sb_init(&t, tod->text, sizeof tod->text);
        put_tod(&t, sec, 0);
        tod->sec = sec;
        tod->valid = ntk_sb_err(&t) == 0;
    }
    ntk_sb_putn(sb, tod->text, 9); /* "HH:MM:SS." */
    if (nsec < 1000000000U) {
        put_nano9(sb, nsec);
    } else {
        put_u_pad(sb, nsec, 9); /* a malformed file's: shown as it is */
    }
}

/* tcpdump's "address.port" (the address alone without a port). */
static void put_endpoint(struct ntk_sb *sb, const struct ntk_addr *a)
{
    if (a->family == NTK_ADDR_V4) {
        for (size_t i = 0; i < 4; i++) {
            if (i > 0) {
                ntk_sb_putc(sb, '.');
            }
            put_u8(sb, a->ip[i]);
        }
    } else {
        char buf[NTK_ADDRSTR_MAX];
        ntk_sb_puts(sb, addr_text(a, buf));
    }
    if (a->port != 0) {
        ntk_sb_putc(sb, '.');
        put_u(sb, a->port);
    }
}

/* "name value" (name carries its separator) in seconds, or nothing when the value is unknown.
 * name is a string literal, whose length the compiler knows: a strlen per number was 4 % of
 * the analyzer thread's time. */
#define PUT_SECS(sb, name, v, sign) put_secs((sb), name " ", sizeof(name), (v), (sign))

static void put_secs(struct ntk_sb *sb, const char *name_sp, size_t len, double v, bool sign)
{
    if (isfinite(v)) {
        ntk_sb_putn(sb, name_sp, len);
        put_fixed9(sb, v, sign);
    }
}

static void emit_line(struct cap_out *o, struct ntk_sb *sb)
{
    ntk_sb_putc(sb, '\n');
    fwrite(ntk_sb_str(sb), 1, ntk_sb_len(sb), o->cfg.f);
}

/* ---- JSON helpers ---- */

/* Adds key (a string literal, added once: json-c neither copies nor looks it up). */
static void jput(json_object *j, const char *key, json_object *v)
{
    json_object_object_add_ex(j, key, v,
                              JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_ADD_CONSTANT_KEY);
}

static json_object *jnew(const char *type)
{
    json_object *j = json_object_new_object();
    jput(j, "schema", json_object_new_string(CAP_JSON_SCHEMA));
    jput(j, "type", json_object_new_string(type));
    return j;
}

/* key: s, or null. */
static void jstr(json_object *j, const char *key, const char *s)
{
    jput(j, key, s != NULL ? json_object_new_string(s) : NULL);
}

/* key: v, or null when not known. */
static void jintk(json_object *j, const char *key, long long v, bool known)
{
    jput(j, key, known ? json_object_new_int64(v) : NULL);
}

static void jbool(json_object *j, const char *key, bool v)
{
    jput(j, key, json_object_new_boolean(v));
}

/* key: v seconds with 9 decimals (ecosystem.md §2.5), or null when not finite. */
static void jsecs(json_object *j, const char *key, double v)
{
    if (!isfinite(v)) {
        jput(j, key, NULL);
        return;
    }
    char text[64];
    struct ntk_sb sb;
    ntk_sb_init(&sb, text, sizeof text);
    put_fixed9(&sb, v, false);
    jput(j, key, json_object_new_double_s(v, ntk_sb_str(&sb)));
}

/* Writes one JSON line (no flush: the program line-buffers stdout when capturing live). */
static void jemit(struct cap_out *o, json_object *j)
{
    fputs(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
                                                JSON_C_TO_STRING_NOSLASHESCAPE),
          o->cfg.f);
    fputc('\n', o->cfg.f);
    json_object_put(j);
}

static void jint(json_object *j, const char *key, long long v)
{
    jput(j, key, json_object_new_int64(v));
}

static void juint(json_object *j, const char *key, uint64_t v)
{
    jput(j, key, json_object_new_uint64(v));
}

/* key: address text and key_port: the port (null when 0); both null without an address. */
static void jaddr(json_object *j, const char *key, const char *key_port,
                  const struct ntk_addr *a)
{
    char buf[NTK_ADDRSTR_MAX];
    bool known = a->family != NTK_ADDR_NONE;
    jstr(j, key, known ? addr_text(a, buf) : NULL);
    jintk(j, key_port, a->port, known && a->port != 0);
}

static void jtime(json_object *j, const char *key, int64_t sec, uint32_t nsec)
{
    char buf[NTK_TIMESTR_MAX];
    jstr(j, key, iso_text(sec, nsec, buf));
}

/* A wire timestamp: key (RFC 3339, null when zero) and key_hex (always, when known). */
static void jts(json_object *j, const char *key, const char *key_hex, ntk_ts ts,
                int64_t near_s, bool known)
{
    if (!known) {
        jput(j, key, NULL);
        jput(j, key_hex, NULL);
        return;
    }
    char text[NTK_TIMESTR_MAX];
    struct timespec t = {0}, near = {.tv_sec = (time_t)near_s};
    /* A zero timestamp means "unknown" (RFC 5905 section 7.3): no date, the raw value. */
    if (!ntk_ts_is_zero(ts)) {
        ntk_ts_to_timespec_near(ts, &near, &t);
    }
    jput(j, key,
         ntk_ts_is_zero(ts)
             ? NULL
             : json_object_new_string(iso_text((int64_t)t.tv_sec, (uint32_t)t.tv_nsec, text)));
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        text[i + (i >= 8)] = hex[(ts.v >> (60 - 4 * i)) & 15U];
    }
    text[8] = '.';
    text[17] = '\0';
    jput(j, key_hex, json_object_new_string(text));
}

/* A plain number with 3 decimals (ratios), or null. */
static void jratio(json_object *j, const char *key, double v)
{
    if (!isfinite(v)) {
        jput(j, key, NULL);
        return;
    }
    char text[48];
    struct ntk_sb sb;
    ntk_sb_init(&sb, text, sizeof text);
    ntk_sb_printf(&sb, "%.3f", v);
    jput(j, key, json_object_new_double_s(v, ntk_sb_str(&sb)));
}

static json_object *jbits(uint32_t bits)
{
    json_object *a = json_object_new_array();
    for (unsigned i = 0; i < 32; i++) {
        if (bits & (1U << i)) {
            json_object_array_add(a, json_object_new_int((int)i));
        }
    }
    return a;
}

/* ---- packets ---- */

/* The header fields of a mode 1-5 packet (null for the others). */
static void jpkt_header(json_object *j, const struct cap_pkt *p)
{
    bool h = p->decoded && p->mode >= 1 && p->mode <= 5;
    char buf[16];
    jintk(j, "poll_log2", p->hdr.poll_log2, h);
    jintk(j, "precision_log2", p->hdr.precision_log2, h);
    jsecs(j, "root_delay_s", h ? ntk_short_to_s(p->hdr.root_delay) : NAN);
    jsecs(j, "root_dispersion_s", h ? ntk_short_to_s(p->hdr.root_disp) : NAN);
    jstr(j, "refid", h ? refid_text(p->stratum, p->hdr.refid, buf) : NULL);
    jstr(j, "refid_hex", h ? refid_hex(p->hdr.refid, buf) : NULL);
    jstr(j, "kiss", h && p->kiss[0] != '\0' ? p->kiss : NULL);
    jts(j, "ref_time", "ref_time_hex", p->hdr.reftime, p->ts_sec, h);
    jts(j, "org_time", "org_time_hex", p->hdr.org, p->ts_sec, h);
    jts(j, "rec_time", "rec_time_hex", p->hdr.rec, p->ts_sec, h);
    jts(j, "xmt_time", "xmt_time_hex", p->hdr.xmt, p->ts_sec, h);
}

/* Extension fields, NTS fields and the legacy MAC. */
static void jpkt_auth(json_object *j, const struct cap_pkt *p)
{
    juint(j, "ef_count", p->n_ef);
    json_object *types = json_object_new_array();
    for (size_t i = 0; i < p->n_ef && i < 8; i++) {
        json_object_array_add(types, json_object_new_int(p->ef_types[i]));
    }
    jput(j, "ef_types", types);
    jbool(j, "ef_malformed", p->ef_malformed);
    jbool(j, "nts_unique_id", p->nts_uid);
    jbool(j, "nts_cookie", p->nts_cookie);
    jbool(j, "nts_authenticator", p->nts_auth);
    juint(j, "nts_placeholders", p->nts_placeholders);
    juint(j, "mac_bytes", p->mac_len);
    jintk(j, "keyid", p->keyid, p->mac_len > 0);
}

/* Mode 6 and mode 7 header fields (null for other modes). */
static void jpkt_ctl(json_object *j, const struct cap_pkt *p)
{
    bool c6 = p->decoded && p->mode == 6, c7 = p->decoded && p->mode == 7;
    jintk(j, "ctl_opcode", p->m6_opcode, c6);
    jstr(j, "ctl_opcode_name", c6 ? m6_op_name(p->m6_opcode) : NULL);
    jintk(j, "ctl_sequence", p->m6_seq, c6);
    jintk(j, "ctl_assoc_id", p->m6_associd, c6);
    jintk(j, "ctl_status", p->m6_status, c6);
    jintk(j, "ctl_offset", p->m6_offset, c6);
    jintk(j, "ctl_count", p->m6_count, c6);
    jput(j, "ctl_response", c6 ? json_object_new_boolean(p->m6_response) : NULL);
    jput(j, "ctl_error", c6 ? json_object_new_boolean(p->m6_error) : NULL);
    jput(j, "ctl_more", c6 ? json_object_new_boolean(p->m6_more) : NULL);
    jput(j, "ctl_nonce", c6 ? json_object_new_boolean(p->m6_nonce) : NULL);
    jintk(j, "priv_request_code", p->m7_reqcode, c7);
    jstr(j, "priv_request", c7 ? m7_req_name(p->m7_reqcode) : NULL);
    jintk(j, "priv_impl", p->m7_impl, c7);
    jintk(j, "priv_sequence", p->m7_seq, c7);
    jintk(j, "priv_items", p->m7_items, c7);
    jintk(j, "priv_item_bytes", p->m7_itemsize, c7);
    jput(j, "priv_response", c7 ? json_object_new_boolean(p->m7_response) : NULL);
    jput(j, "priv_more", c7 ? json_object_new_boolean(p->m7_more) : NULL);
}

static void json_packet(struct cap_out *o, const struct cap_pkt *p)
{
    json_object *j = jnew("packet");
    juint(j, "frame", p->frame);
    jtime(j, "time", p->ts_sec, p->ts_nsec);
    jstr(j, "what", what_name(p->what));
    jaddr(j, "src", "src_port", &p->src);
    jaddr(j, "dst", "dst_port", &p->dst);
    jint(j, "ttl", p->ttl);
    jint(j, "dscp", p->dscp);
    juint(j, "frame_bytes", p->frame_len);
    juint(j, "payload_bytes", p->payload_len);
    jbool(j, "payload_truncated", p->payload_truncated);
    bool ntp = p->what == CAP_NTP;
    jbool(j, "decoded", ntp && p->decoded);
    jstr(j, "reject", ntp && !p->decoded ? ntk_pkt_reject_name(p->reject) : NULL);
    jintk(j, "version", p->version, ntp && p->decoded);
    jintk(j, "mode", p->mode, ntp && p->decoded);
    jstr(j, "mode_name", ntp && p->decoded ? mode_name(p->mode) : NULL);
    jintk(j, "li", p->leap, ntp && p->decoded);
    jstr(j, "leap", ntp && p->decoded ? leap_name(p->leap) : NULL);
    jintk(j, "stratum", p->stratum, ntp && p->decoded && p->mode <= 5);
    jpkt_header(j, p);
    jpkt_auth(j, p);
    jpkt_ctl(j, p);
    jemit(o, j);
}

static void human_packet(struct cap_out *o, const struct cap_pkt *p)
{
    char text[512];
    struct ntk_sb sb;
    ntk_sb_init(&sb, text, sizeof text);
    put_tod(&sb, p->ts_sec, p->ts_nsec);
    ntk_sb_printf(&sb, " #%llu ", (unsigned long long)p->frame);
    put_endpoint(&sb, &p->src);
    ntk_sb_puts(&sb, " > ");
    put_endpoint(&sb, &p->dst);
    if (p->what != CAP_NTP) {
        ntk_sb_printf(&sb, ": %s, length %zu", what_name(p->what), p->payload_len);
    } else if (!p->decoded) {
        ntk_sb_printf(&sb, ": NTP undecoded (%s), length %zu", ntk_pkt_reject_name(p->reject),
                      p->payload_len);
    } else {
        ntk_sb_printf(&sb, ": NTPv%u %s", p->version, mode_name(p->mode));
        if (p->mode <= 5) {
            ntk_sb_printf(&sb, ", stratum %u", p->stratum);
        }
        if (p->kiss[0] != '\0') {
            ntk_sb_printf(&sb, ", KoD %s", p->kiss);
        }
        if (p->nts_uid || p->nts_cookie || p->nts_auth) {
            ntk_sb_puts(&sb, ", NTS");
        }
        if (p->mac_len > 0) {
            ntk_sb_printf(&sb, ", MAC %zu B key %u", p->mac_len, p->keyid);
        }
        ntk_sb_printf(&sb, ", length %zu", p->payload_len);
    }
    emit_line(o, &sb);
}

static void on_packet(void *ctx, const struct cap_pkt *p)
{
    struct cap_out *o = ctx;
    if (o->cfg.verbose <= 0) {
        return;
    }
    if (o->cfg.fmt == CAP_FMT_JSON) {
        json_packet(o, p);
    } else if (o->cfg.fmt == CAP_FMT_HUMAN) {
        human_packet(o, p);
    }
}

/* ---- exchanges ---- */

static double ratio(double a, double b)
{
    return b > 0 ? a / b : NAN;
}

/* The request's and response's wire timestamps T1 (request transmit), T2, T3 (response). */
static void jexch_times(json_object *j, const struct cap_exch *x)
{
    bool c = x->kind == CAP_X_CLIENT;
    jts(j, "t1", "t1_hex", x->req->hdr.xmt, x->req->ts_sec, c);
    jts(j, "t2", "t2_hex", x->resp->hdr.rec, x->resp->ts_sec, c);
    jts(j, "t3", "t3_hex", x->resp->hdr.xmt, x->resp->ts_sec, c);
    jsecs(j, "rtt_s", x->rtt_cap_s);
    jsecs(j, "offset_pkt_s", x->offset_pkt_s);
    jsecs(j, "delay_pkt_s", x->delay_pkt_s);
    jsecs(j, "offset_cap_s", x->offset_cap_s);
    jsecs(j, "delay_cap_s", x->delay_cap_s);
    jsecs(j, "server_processing_s", x->server_s);
    /* Which clocks each figure compares (cap.h): the server's against these. */
    jstr(j, "offset_pkt_relative_to", c ? "request_transmit_and_capture" : NULL);
    jstr(j, "offset_cap_relative_to", c ? "capture" : NULL);
}

static void jexch_ctl(json_object *j, const struct cap_exch *x)
{
    bool c6 = x->kind == CAP_X_CONTROL, c7 = x->kind == CAP_X_PRIVATE;
    const struct cap_pkt *q = x->req, *r = x->resp;
    jintk(j, "ctl_opcode", q->m6_opcode, c6);
    jstr(j, "ctl_opcode_name", c6 ? m6_op_name(q->m6_opcode) : NULL);
    jintk(j, "ctl_assoc_id", q->m6_associd, c6);
    jintk(j, "ctl_sequence", q->m6_seq, c6);
    jput(j, "ctl_error", c6 ? json_object_new_boolean(r->m6_error) : NULL);
    jput(j, "ctl_nonce", c6 ? json_object_new_boolean(q->m6_nonce) : NULL);
    jintk(j, "priv_request_code", q->m7_reqcode, c7);
    jstr(j, "priv_request", c7 ? m7_req_name(q->m7_reqcode) : NULL);
    jintk(j, "priv_items", r->m7_items, c7);
}

static const char *suite_name(uint16_t s)
{
    switch (s) {
    case 0x1301:
        return "TLS_AES_128_GCM_SHA256";
    case 0x1302:
        return "TLS_AES_256_GCM_SHA384";
    case 0x1303:
        return "TLS_CHACHA20_POLY1305_SHA256";
    default:
        return NULL;
    }
}

static json_object *jints(const uint16_t *v, size_t n)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; a != NULL && i < n; i++) {
        json_object_array_add(a, json_object_new_int(v[i]));
    }
    return a;
}

/* The nts_ke object of an NTS-KE exchange (ntpcap(1) JSON OUTPUT): sizes, never bytes. */
static json_object *json_ntske_obj(const struct cap_ntske *k)
{
    json_object *j = json_object_new_object();
    if (j == NULL) {
        return NULL;
    }
    jstr(j, "status", k->status);
    jintk(j, "cipher_suite", k->cipher_suite, k->cipher_suite != 0);
    jstr(j, "cipher_suite_name", suite_name(k->cipher_suite));
    jstr(j, "sni", k->sni[0] != '\0' ? k->sni : NULL);
    jstr(j, "alpn", k->alpn[0] != '\0' ? k->alpn : NULL);
    juint(j, "records_c2s", k->records_c2s);
    juint(j, "records_s2c", k->records_s2c);
    juint(j, "tcp_retransmits", k->retransmits);
    juint(j, "tcp_out_of_order", k->out_of_order);
    jintk(j, "request_length", (long long)k->request_len, k->request_len > 0);
    jintk(j, "response_length", (long long)k->response_len, k->response_len > 0);
    jbool(j, "request_decoded", k->request);
    jstr(j, "request_error", k->request_error);
    jput(j, "request_aeads", k->request ? jints(k->req_aeads, k->n_req_aeads) : NULL);
    jstr(j, "request_server", k->req_server[0] != '\0' ? k->req_server : NULL);
    jintk(j, "request_port", k->req_port, k->req_port >= 0);
    jbool(j, "response_decoded", k->response);
    jstr(j, "response_error", k->response_error);
    jintk(j, "next_protocol", k->next_protocol, k->next_protocol >= 0);
    jintk(j, "aead", k->aead, k->aead >= 0);
    jintk(j, "error", k->error_code, k->error_code >= 0);
    jstr(j, "error_name",
         k->error_code >= 0 ? ntk_ke_error_name((uint16_t)k->error_code) : NULL);
    jintk(j, "warning", k->warning_code, k->warning_code >= 0);
    juint(j, "cookies", k->n_cookies + k->cookies_dropped);
    jput(j, "cookie_sizes", jints(k->cookie_lens, k->n_cookies));
    jstr(j, "server", k->server[0] != '\0' ? k->server : NULL);
    jintk(j, "port", k->port, k->port >= 0);
    return j;
}

static void json_ntske(struct cap_out *o, const struct cap_exch *x)
{
    const struct cap_pkt *q = x->req, *r = x->resp;
    json_object *j = jnew("exchange");
    jstr(j, "kind", kind_name(x->kind));
    juint(j, "request_frame", q->frame);
    juint(j, "response_frame", r->frame);
    jtime(j, "request_time", q->ts_sec, q->ts_nsec);
    jtime(j, "response_time", r->ts_sec, r->ts_nsec);
    bool c2s = q->dst.port == 4460;
    jaddr(j, "client", "client_port", c2s ? &q->src : &q->dst);
    jaddr(j, "server", "server_port", c2s ? &q->dst : &q->src);
    juint(j, "request_bytes", x->req_bytes);
    juint(j, "response_bytes", x->resp_bytes);
    jsecs(j, "rtt_s", x->rtt_cap_s);
    jput(j, "nts_ke", json_ntske_obj(x->ntske));
    jemit(o, j);
}

static void human_ntske(struct cap_out *o, const struct cap_exch *x)
{
    const struct cap_pkt *q = x->req;
    const struct cap_ntske *k = x->ntske;
    char text[768];
    struct ntk_sb sb;
    ntk_sb_init(&sb, text, sizeof text);
    put_tod(&sb, q->ts_sec, q->ts_nsec);
    ntk_sb_putc(&sb, ' ');
    bool c2s = q->dst.port == 4460;
    put_endpoint(&sb, c2s ? &q->src : &q->dst);
    ntk_sb_puts(&sb, " > ");
    put_endpoint(&sb, c2s ? &q->dst : &q->src);
    ntk_sb_printf(&sb, ": NTS-KE %s", k->status);
    const char *suite = suite_name(k->cipher_suite);
    if (suite != NULL) {
        ntk_sb_printf(&sb, " %s", suite);
    }
    ntk_sb_printf(&sb, ", %llu/%llu records", (unsigned long long)k->records_c2s,
                  (unsigned long long)k->records_s2c);
    if (k->request_error != NULL) {
        ntk_sb_printf(&sb, ", request refused: %s", k->request_error);
    }
    if (k->error_code >= 0) {
        ntk_sb_printf(&sb, ", error %d (%s)", k->error_code,
                      ntk_ke_error_name((uint16_t)k->error_code));
    }
    if (k->warning_code >= 0) {
        ntk_sb_printf(&sb, ", warning %d", k->warning_code);
    }
    if (k->response_error != NULL) {
        ntk_sb_printf(&sb, ", response refused: %s", k->response_error);
    }
    if (k->next_protocol >= 0) {
        ntk_sb_printf(&sb, ", next protocol %d, AEAD %d", k->next_protocol, k->aead);
    }
    if (k->response) {
        size_t lo = SIZE_MAX, hi = 0;
        for (size_t i = 0; i < k->n_cookies; i++) {
            lo = k->cookie_lens[i] < lo ? k->cookie_lens[i] : lo;
            hi = k->cookie_lens[i] > hi ? k->cookie_lens[i] : hi;
        }
        ntk_sb_printf(&sb, ", %zu cookies", k->n_cookies + k->cookies_dropped);
        if (k->n_cookies > 0 && lo == hi) {
            ntk_sb_printf(&sb, " of %zu B", lo);
        } else if (k->n_cookies > 0) {
            ntk_sb_printf(&sb, " of %zu-%zu B", lo, hi);
        }
    }
    if (k->server[0] != '\0') {
        ntk_sb_printf(&sb, ", server %s", k->server);
    }
    if (k->port >= 0) {
        ntk_sb_printf(&sb, ", port %d", k->port);
    }
    if (k->retransmits + k->out_of_order > 0) {
        ntk_sb_printf(&sb, ", TCP %llu retransmitted / %llu out of order",
                      (unsigned long long)k->retransmits, (unsigned long long)k->out_of_order);
    }
    emit_line(o, &sb);
}

static void json_exchange(struct cap_out *o, const struct cap_exch *x)
{
    if (x->ntske != NULL) {
        json_ntske(o, x);
        return;
    }
    const struct cap_pkt *q = x->req, *r = x->resp;
    bool hdr = r->mode >= 1 && r->mode <= 5;
    char buf[16];
    json_object *j = jnew("exchange");
    jstr(j, "kind", kind_name(x->kind));
    juint(j, "request_frame", q->frame);
    juint(j, "response_frame", r->frame);
    jtime(j, "request_time", q->ts_sec, q->ts_nsec);
    jtime(j, "response_time", r->ts_sec, r->ts_nsec);
    jaddr(j, "client", "client_port", &q->src);
    jaddr(j, "server", "server_port", &q->dst);
    jint(j, "version", q->version);
    jint(j, "mode", q->mode);
    jint(j, "response_version", r->version);
    jint(j, "response_mode", r->mode);
    jintk(j, "stratum", r->stratum, hdr);
    jintk(j, "li", r->leap, hdr);
    jstr(j, "leap", hdr ? leap_name(r->leap) : NULL);
    jstr(j, "refid", hdr ? refid_text(r->stratum, r->hdr.refid, buf) : NULL);
    jstr(j, "refid_hex", hdr ? refid_hex(r->hdr.refid, buf) : NULL);
    jstr(j, "kiss", r->kiss[0] != '\0' ? r->kiss : NULL);
    jbool(j, "request_nts", q->nts_uid || q->nts_cookie || q->nts_auth);
    jbool(j, "response_nts", r->nts_auth);
    juint(j, "request_bytes", x->req_bytes);
    juint(j, "response_bytes", x->resp_bytes);
    juint(j, "response_datagrams", x->resp_frags);
    jratio(j, "amplification", ratio((double)x->resp_bytes, (double)x->req_bytes));
    jexch_times(j, x);
    jexch_ctl(j, x);
    jbool(j, "interleaved", x->interleaved);
    jemit(o, j);
}

/* cap_out_line_start's text. */
static void put_line_start(struct cap_tod *tod, struct ntk_sb *sb, const struct cap_pkt *q,
                           enum cap_xkind kind, int64_t sec, uint32_t nsec)
{
    put_tod_line(tod, sb, sec, nsec);
    ntk_sb_putc(sb, ' ');
    put_endpoint(sb, &q->src);
    ntk_sb_puts(sb, " > ");
    put_endpoint(sb, &q->dst);
    ntk_sb_puts(sb, ": NTPv");
    put_u(sb, q->version);
    ntk_sb_putc(sb, ' ');
    ntk_sb_puts(sb, kind_name(kind));
}

size_t cap_out_line_start(struct cap_tod *tod, const struct cap_pkt *p, enum cap_xkind kind,
                          int64_t sec, uint32_t nsec, char *buf, size_t size)
{
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, size);
    put_line_start(tod, &sb, p, kind, sec, nsec);
    return ntk_sb_err(&sb) == 0 ? ntk_sb_len(&sb) : 0;
}

bool cap_out_exchange_lines(enum cap_fmt fmt, bool quiet)
{
    return fmt == CAP_FMT_HUMAN && !quiet;
}

static void human_exchange(struct cap_out *o, const struct cap_exch *x)
{
    if (x->ntske != NULL) {
        human_ntske(o, x);
        return;
    }
    const struct cap_pkt *q = x->req, *r = x->resp;
    char text[768];
    struct ntk_sb sb;
    ntk_sb_init(&sb, text, sizeof text);
    if (x->req_line != NULL) {
        ntk_sb_putn(&sb, x->req_line, x->req_line_len); /* made by the reading thread */
    } else {
        put_line_start(&o->tod, &sb, q, x->kind, q->ts_sec, q->ts_nsec);
    }
    if (x->kind == CAP_X_CONTROL) {
        ntk_sb_printf(&sb, " %s assoc %u seq %u%s", m6_op_name(q->m6_opcode), q->m6_associd,
                      q->m6_seq, r->m6_error ? " error" : "");
    } else if (x->kind == CAP_X_PRIVATE) {
        ntk_sb_printf(&sb, " %s (%u) seq %u, %u items", m7_req_name(q->m7_reqcode),
                      q->m7_reqcode, q->m7_seq, r->m7_items);
    } else {
        ntk_sb_puts(&sb, ", stratum ");
        put_u(&sb, r->stratum);
        ntk_sb_puts(&sb, " refid ");
        put_refid(&sb, r->stratum, r->hdr.refid);
    }
    if (r->kiss[0] != '\0') {
        ntk_sb_printf(&sb, ", KoD %s", r->kiss);
    }
    ntk_sb_puts(&sb, ", ");
    put_u(&sb, x->req_bytes);
    ntk_sb_putc(&sb, '/');
    put_u(&sb, x->resp_bytes);
    ntk_sb_puts(&sb, " B");
    if (x->resp_frags > 1) {
        ntk_sb_printf(&sb, " in %u datagrams", x->resp_frags);
    }
    if (x->interleaved) {
        ntk_sb_puts(&sb, ", interleaved");
    }
    PUT_SECS(&sb, ", rtt", x->rtt_cap_s, false);
    PUT_SECS(&sb, ", offset_cap", x->offset_cap_s, true);
    PUT_SECS(&sb, " delay_cap", x->delay_cap_s, false);
    /* A data-minimised client's T1 is random: its figures are shown only when plausible. */
    if (x->delay_pkt_s >= 0 && x->delay_pkt_s < PLAUSIBLE_DELAY_S) {
        PUT_SECS(&sb, ", offset_pkt", x->offset_pkt_s, true);
        PUT_SECS(&sb, " delay_pkt", x->delay_pkt_s, false);
    }
    emit_line(o, &sb);
}

/* Appends a number cell (empty when unknown). */
static void csv_num(struct ntk_sb *sb, double v)
{
    ntk_sb_putc(sb, ',');
    if (isfinite(v)) {
        put_fixed9(sb, v, false);
    }
}

static void csv_uint(struct ntk_sb *sb, uint64_t v)
{
    ntk_sb_putc(sb, ',');
    put_u(sb, v);
}

static void csv_text(struct ntk_sb *sb, const char *s)
{
    ntk_sb_putc(sb, ',');
    cap_out_csv_field(sb, s);
}

void cap_out_csv_field(struct ntk_sb *line, const char *field)
{
    if (field == NULL) {
        return;
    }
    if (strpbrk(field, ",\"\r\n") == NULL) {
        ntk_sb_puts(line, field);
        return;
    }
    ntk_sb_putc(line, '"');
    for (const char *c = field; *c != '\0'; c++) {
        if (*c == '"') {
            ntk_sb_putc(line, '"');
        }
        ntk_sb_putc(line, *c);
    }
    ntk_sb_putc(line, '"');
}

static const char csv_exchange_header[] =
    "request_frame,response_frame,request_time,kind,client,client_port,server,server_port,"
    "version,mode,stratum,leap,refid,kiss,request_bytes,response_bytes,response_datagrams,"
    "rtt_s,offset_pkt_s,delay_pkt_s,offset_cap_s,delay_cap_s,server_processing_s\n";

/* client or server address and its port as two cells (leading comma each). */
static void csv_endpoint(struct ntk_sb *sb, const struct ntk_addr *a)
{
    char buf[NTK_ADDRSTR_MAX];
    csv_text(sb, a->family != NTK_ADDR_NONE ? addr_text(a, buf) : NULL);
    ntk_sb_putc(sb, ',');
    if (a->port != 0) {
        put_u(sb, a->port);
    }
}

static void csv_exchange(struct cap_out *o, const struct cap_exch *x)
{
    const struct cap_pkt *q = x->req, *r = x->resp;
    bool hdr = r->mode >= 1 && r->mode <= 5;
    char text[1024], buf[NTK_TIMESTR_MAX];
    struct ntk_sb sb;
    ntk_sb_init(&sb, text, sizeof text);
    put_u(&sb, q->frame);
    csv_uint(&sb, r->frame);
    csv_text(&sb, iso_text(q->ts_sec, q->ts_nsec, buf));
    csv_text(&sb, kind_name(x->kind));
    csv_endpoint(&sb, &q->src);
    csv_endpoint(&sb, &q->dst);
    csv_uint(&sb, q->version);
    csv_uint(&sb, q->mode);
    if (hdr) {
        csv_uint(&sb, r->stratum);
        csv_text(&sb, leap_name(r->leap));
        csv_text(&sb, refid_text(r->stratum, r->hdr.refid, buf));
    } else {
        ntk_sb_puts(&sb, ",,,");
    }
    csv_text(&sb, r->kiss[0] != '\0' ? r->kiss : NULL);
    csv_uint(&sb, x->req_bytes);
    csv_uint(&sb, x->resp_bytes);
    csv_uint(&sb, x->resp_frags);
    csv_num(&sb, x->rtt_cap_s);
    csv_num(&sb, x->offset_pkt_s);
    csv_num(&sb, x->delay_pkt_s);
    csv_num(&sb, x->offset_cap_s);
    csv_num(&sb, x->delay_cap_s);
    csv_num(&sb, x->server_s);
    emit_line(o, &sb);
}

static void csv_header(struct cap_out *o, const char *header)
{
    if (!o->csv_header) {
        fputs(header, o->cfg.f);
        o->csv_header = true;
    }
}

static void on_exchange(void *ctx, const struct cap_exch *x)
{
    struct cap_out *o = ctx;
    switch (o->cfg.fmt) {
    case CAP_FMT_JSON:
        json_exchange(o, x);
        break;
    case CAP_FMT_CSV:
        if (x->ntske != NULL) {
            break; /* NTS-KE connections have no NTP columns: JSON and the report only */
        }
        csv_header(o, csv_exchange_header);
        csv_exchange(o, x);
        break;
    case CAP_FMT_HUMAN:
        if (cap_out_exchange_lines(o->cfg.fmt, o->cfg.quiet)) {
            human_exchange(o, x);
        }
        break;
    default:
        break;
    }
}

/* ---- anomalies ---- */

/* The tally slot of code (added on first sight; the last slot collects overflow). */
static struct tally *tally_of(struct cap_out *o, const struct cap_anom *a)
{
    for (size_t i = 0; i < o->n_codes; i++) {
        if (o->codes[i].code == a->code || strcmp(o->codes[i].code, a->code) == 0) {
            return &o->codes[i];
        }
    }
    struct tally *t = &o->codes[o->n_codes < CODE_SLOTS ? o->n_codes++ : CODE_SLOTS - 1];
    if (t->n == 0) {
        t->code = a->code;
        t->sev = a->sev;
        t->first_frame = a->frame;
    }
    return t;
}

static void json_anomaly(struct cap_out *o, const struct cap_anom *a)
{
    json_object *j = jnew("anomaly");
    jstr(j, "code", a->code);
    jstr(j, "severity", cap_sev_name(a->sev));
    jintk(j, "frame", (long long)a->frame, a->frame != 0);
    jaddr(j, "src", "src_port", &a->src);
    jaddr(j, "dst", "dst_port", &a->dst);
    jstr(j, "detail", a->detail);
    jemit(o, j);
}

static void human_anomaly(struct cap_out *o, const struct cap_anom *a)
{
    char text[512];
    struct ntk_sb sb;
    ntk_sb_init(&sb, text, sizeof text);
    ntk_sb_printf(&sb, "!! %s %s", cap_sev_name(a->sev), a->code);
    if (a->frame != 0) {
        ntk_sb_printf(&sb, " frame %llu", (unsigned long long)a->frame);
    }
    if (a->src.family != NTK_ADDR_NONE) {
        ntk_sb_putc(&sb, ' ');
        put_endpoint(&sb, &a->src);
        if (a->dst.family != NTK_ADDR_NONE) {
            ntk_sb_puts(&sb, " > ");
            put_endpoint(&sb, &a->dst);
        }
    }
    ntk_sb_printf(&sb, ": %s", a->detail);
    emit_line(o, &sb);
}

static void on_anomaly(void *ctx, const struct cap_anom *a)
{
    struct cap_out *o = ctx;
    if (a->sev <= CAP_SEV_CRIT) {
        o->by_sev[a->sev]++;
    }
    struct tally *t = tally_of(o, a);
    t->n++;
    if (o->cfg.fmt == CAP_FMT_JSON) {
        json_anomaly(o, a);
    } else if (o->cfg.fmt == CAP_FMT_HUMAN && t->n <= INLINE_PER_CODE) {
        human_anomaly(o, a);
    }
}

/* ---- flows ---- */

static void json_flow(struct cap_out *o, const struct cap_flow *f)
{
    json_object *j = jnew("flow");
    jaddr(j, "client", "client_port", &f->client);
    jaddr(j, "server", "server_port", &f->server);
    jtime(j, "first_time", f->first_sec, f->first_nsec);
    jtime(j, "last_time", f->last_sec, f->last_nsec);
    double span = (double)(f->last_sec - f->first_sec) +
                  ((double)f->last_nsec - (double)f->first_nsec) * 1e-9;
    jsecs(j, "duration_s", span);
    juint(j, "packets_c2s", f->pkts_c2s);
    juint(j, "packets_s2c", f->pkts_s2c);
    juint(j, "bytes_c2s", f->bytes_c2s);
    juint(j, "bytes_s2c", f->bytes_s2c);
    jput(j, "modes", jbits(f->modes));
    jput(j, "versions", jbits(f->versions));
    juint(j, "requests", f->requests);
    juint(j, "responses", f->responses);
    juint(j, "exchanges", f->exchanges);
    juint(j, "unmatched_requests", f->unmatched_req);
    juint(j, "unmatched_responses", f->unmatched_resp);
    jratio(j, "loss_ratio", f->loss);
    jsecs(j, "jitter_s", f->jitter_s);
    juint(j, "interleaved", f->interleaved);
    jratio(j, "request_rate_hz", span > 0 ? (double)f->requests / span : NAN);
    juint(j, "kods", f->kods);
    jstr(j, "auth", f->auth);
    jint(j, "stratum_changes", f->stratum_changes);
    jint(j, "refid_changes", f->refid_changes);
    jint(j, "leap_changes", f->leap_changes);
    jsecs(j, "poll_s", f->poll_s);
    jsecs(j, "delay_min_s", f->delay_min_s);
    jsecs(j, "delay_med_s", f->delay_med_s);
    jsecs(j, "delay_max_s", f->delay_max_s);
    jsecs(j, "delay_last_s", f->delay_last_s);
    jsecs(j, "offset_min_s", f->offset_min_s);
    jsecs(j, "offset_med_s", f->offset_med_s);
    jsecs(j, "offset_max_s", f->offset_max_s);
    jsecs(j, "offset_last_s", f->offset_last_s);
    jstr(j, "offset_relative_to", "capture");
    jratio(j, "amplification", f->amplification);
    jbool(j, "evicted", f->evicted);
    jemit(o, j);
}

static const char csv_flow_header[] =
    "client,client_port,server,server_port,first_time,last_time,packets_c2s,packets_s2c,"
    "bytes_c2s,bytes_s2c,modes,versions,requests,responses,exchanges,unmatched_requests,"
    "unmatched_responses,kods,auth,stratum_changes,refid_changes,leap_changes,poll_s,"
    "delay_min_s,delay_med_s,delay_max_s,delay_last_s,offset_min_s,offset_med_s,"
    "offset_max_s,offset_last_s,amplification,evicted,loss,jitter_s,interleaved\n";

/* The set bits as "3 4" (a CSV cell). */
static void csv_bits(struct ntk_sb *sb, uint32_t bits)
{
    ntk_sb_putc(sb, ',');
    const char *sep = "";
    for (unsigned i = 0; i < 32; i++) {
        if (bits & (1U << i)) {
            ntk_sb_printf(sb, "%s%u", sep, i);
            sep = " ";
        }
    }
}

static void csv_flow(struct cap_out *o, const struct cap_flow *f)
{
    char text[1536], buf[NTK_TIMESTR_MAX];
    struct ntk_sb sb;
    ntk_sb_init(&sb, text, sizeof text);
    csv_endpoint(&sb, &f->client);
    csv_endpoint(&sb, &f->server);
    csv_text(&sb, iso_text(f->first_sec, f->first_nsec, buf));
    csv_text(&sb, iso_text(f->last_sec, f->last_nsec, buf));
    csv_uint(&sb, f->pkts_c2s);
    csv_uint(&sb, f->pkts_s2c);
    csv_uint(&sb, f->bytes_c2s);
    csv_uint(&sb, f->bytes_s2c);
    csv_bits(&sb, f->modes);
    csv_bits(&sb, f->versions);
    csv_uint(&sb, f->requests);
    csv_uint(&sb, f->responses);
    csv_uint(&sb, f->exchanges);
    csv_uint(&sb, f->unmatched_req);
    csv_uint(&sb, f->unmatched_resp);
    csv_uint(&sb, f->kods);
    csv_text(&sb, f->auth);
    csv_uint(&sb, f->stratum_changes);
    csv_uint(&sb, f->refid_changes);
    csv_uint(&sb, f->leap_changes);
    const double nums[] = {f->poll_s,        f->delay_min_s,  f->delay_med_s,  f->delay_max_s,
                           f->delay_last_s,  f->offset_min_s, f->offset_med_s, f->offset_max_s,
                           f->offset_last_s, f->amplification};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        csv_num(&sb, nums[i]);
    }
    csv_text(&sb, f->evicted ? "true" : "false");
    csv_num(&sb, f->loss);
    csv_num(&sb, f->jitter_s);
    csv_uint(&sb, f->interleaved);
    /* Row built with a leading comma per cell: drop the first one. */
    const char *row = ntk_sb_str(&sb);
    fputs(row + 1, o->cfg.f);
    fputc('\n', o->cfg.f);
}

static void human_flow(struct cap_out *o, const struct cap_flow *f)
{
    if (!o->flows_header) {
        fprintf(o->cfg.f, "\nFlows (client > server: packets c>s/s>c, bytes c>s/s>c, "
                          "exchanges, unmatched req/resp, loss, poll, delay med, offset_cap "
                          "med, jitter, auth, amplification):\n");
        o->flows_header = true;
    }
    char text[768];
    struct ntk_sb sb;
    ntk_sb_init(&sb, text, sizeof text);
    ntk_sb_puts(&sb, f->evicted ? "  (evicted) " : "  ");
    put_endpoint(&sb, &f->client);
    ntk_sb_puts(&sb, " > ");
    put_endpoint(&sb, &f->server);
    ntk_sb_printf(&sb, ": %llu/%llu pkts, %llu/%llu B, %llu exch, %llu/%llu unmatched",
                  (unsigned long long)f->pkts_c2s, (unsigned long long)f->pkts_s2c,
                  (unsigned long long)f->bytes_c2s, (unsigned long long)f->bytes_s2c,
                  (unsigned long long)f->exchanges, (unsigned long long)f->unmatched_req,
                  (unsigned long long)f->unmatched_resp);
    if (isfinite(f->loss)) {
        ntk_sb_printf(&sb, ", loss %.1f%%", f->loss * 100);
    }
    PUT_SECS(&sb, ", poll", f->poll_s, false);
    PUT_SECS(&sb, ", delay", f->delay_med_s, false);
    PUT_SECS(&sb, ", offset", f->offset_med_s, true);
    PUT_SECS(&sb, ", jitter", f->jitter_s, false);
    if (f->interleaved > 0) {
        ntk_sb_printf(&sb, ", %llu interleaved", (unsigned long long)f->interleaved);
    }
    ntk_sb_printf(&sb, ", auth %s", f->auth != NULL ? f->auth : "none");
    if (isfinite(f->amplification)) {
        ntk_sb_printf(&sb, ", x%.2f", f->amplification);
    }
    if (f->kods > 0) {
        ntk_sb_printf(&sb, ", %llu KoD", (unsigned long long)f->kods);
    }
    emit_line(o, &sb);
}

/* ---- top talkers ---- */

static int cmp_addr(const void *a, const void *b)
{
    const struct talker *x = a, *y = b;
    if (x->addr.family != y->addr.family) {
        return x->addr.family < y->addr.family ? -1 : 1;
    }
    return memcmp(x->addr.ip, y->addr.ip, sizeof x->addr.ip);
}

static int cmp_volume(const void *a, const void *b)
{
    const struct talker *x = a, *y = b;
    if (x->pkts != y->pkts) {
        return x->pkts > y->pkts ? -1 : 1;
    }
    if (x->bytes != y->bytes) {
        return x->bytes > y->bytes ? -1 : 1;
    }
    return cmp_addr(a, b);
}

/* Sorts by address and merges the records of one address; returns the new count. */
static size_t compact(struct talker *t, size_t n)
{
    if (n == 0) {
        return 0;
    }
    qsort(t, n, sizeof *t, cmp_addr);
    size_t w = 0;
    for (size_t i = 1; i < n; i++) {
        if (cmp_addr(&t[w], &t[i]) == 0) {
            t[w].pkts += t[i].pkts;
            t[w].bytes += t[i].bytes;
            t[w].flows += t[i].flows;
        } else {
            t[++w] = t[i];
        }
    }
    return w + 1;
}

/* Adds one flow's share for addr to a talker array (growing it, merging when large). */
static void add_talker(struct cap_out *o, struct talker **arr, size_t *n, size_t *cap,
                       const struct ntk_addr *addr, uint64_t pkts, uint64_t bytes)
{
    if (*n >= TALK_COMPACT) {
        *n = compact(*arr, *n);
    }
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 256;
        struct talker *g = realloc(*arr, ncap * sizeof *g);
        if (g == NULL) {
            o->oom = true;
            return;
        }
        *arr = g;
        *cap = ncap;
    }
    struct talker *t = &(*arr)[(*n)++];
    memset(t, 0, sizeof *t);
    t->addr.family = addr->family;
    memcpy(t->addr.ip, addr->ip, sizeof t->addr.ip);
    t->pkts = pkts;
    t->bytes = bytes;
    t->flows = 1;
}

static void on_flow(void *ctx, const struct cap_flow *f)
{
    struct cap_out *o = ctx;
    if (o->cfg.summary) {
        add_talker(o, &o->clients, &o->n_clients, &o->cap_clients, &f->client, f->pkts_c2s,
                   f->bytes_c2s);
        add_talker(o, &o->servers, &o->n_servers, &o->cap_servers, &f->server, f->pkts_s2c,
                   f->bytes_s2c);
    }
    switch (o->cfg.fmt) {
    case CAP_FMT_JSON:
        json_flow(o, f);
        break;
    case CAP_FMT_CSV_FLOWS:
        csv_header(o, csv_flow_header);
        csv_flow(o, f);
        break;
    case CAP_FMT_HUMAN:
        human_flow(o, f);
        break;
    default:
        break;
    }
}

/* Merges and orders a talker array by volume; returns the rows to show. */
static size_t rank(struct talker *t, size_t *n)
{
    *n = compact(t, *n);
    if (*n > 0) {
        qsort(t, *n, sizeof *t, cmp_volume);
    }
    return *n < TOP_N ? *n : TOP_N;
}

static json_object *json_talkers(struct talker *t, size_t *n)
{
    json_object *a = json_object_new_array();
    size_t rows = rank(t, n);
    for (size_t i = 0; i < rows; i++) {
        char buf[NTK_ADDRSTR_MAX];
        json_object *e = json_object_new_object();
        jstr(e, "address", addr_text(&t[i].addr, buf));
        juint(e, "packets", t[i].pkts);
        juint(e, "bytes", t[i].bytes);
        juint(e, "flows", t[i].flows);
        json_object_array_add(a, e);
    }
    return a;
}

static void human_talkers(struct cap_out *o, const char *title, struct talker *t, size_t *n)
{
    size_t rows = rank(t, n);
    fprintf(o->cfg.f, "\n%s:\n  %-40s %12s %14s %8s\n", title, "ADDRESS", "PACKETS", "BYTES",
            "FLOWS");
    for (size_t i = 0; i < rows; i++) {
        char buf[NTK_ADDRSTR_MAX];
        fprintf(o->cfg.f, "  %-40s %12llu %14llu %8llu\n", addr_text(&t[i].addr, buf),
                (unsigned long long)t[i].pkts, (unsigned long long)t[i].bytes,
                (unsigned long long)t[i].flows);
    }
}

/* ---- summary ---- */

static void json_summary_input(json_object *j, const struct cap_io_info *in)
{
    jstr(j, "source", in ? in->source : NULL);
    jput(j, "live", in ? json_object_new_boolean(in->live) : NULL);
    jstr(j, "link_type", in ? in->link_name : NULL);
    jstr(j, "timestamp_precision", in ? (in->nano ? "ns" : "us") : NULL);
    jstr(j, "timestamp_type", in && in->live ? in->tstamp : NULL);
    bool st = in != NULL && in->stats_known;
    jintk(j, "capture_received", st ? (long long)in->recv : 0, st);
    jintk(j, "capture_dropped", st ? (long long)in->drop : 0, st);
    jintk(j, "capture_if_dropped", st ? (long long)in->ifdrop : 0, st);
    jstr(j, "user", in && in->live ? in->user : NULL);
}

static void json_summary(struct cap_out *o, const struct cap_stats *s,
                         const struct cap_io_info *in)
{
    json_object *j = jnew("summary");
    json_summary_input(j, in);
    const struct {
        const char *key;
        uint64_t v;
    } counts[] = {
        {"frames", s->frames},
        {"ntp", s->ntp},
        {"ntske", s->ntske},
        {"other", s->other},
        {"truncated", s->truncated},
        {"malformed", s->malformed},
        {"undecoded", s->undecoded},
        {"exchanges", s->exchanges},
        {"unmatched_requests", s->unmatched_req},
        {"unmatched_responses", s->unmatched_resp},
        {"pending_dropped", s->pending_dropped},
        {"flows", s->flows},
        {"flow_evictions", s->flow_evictions},
        {"anomalies_info", s->anomalies[CAP_SEV_INFO]},
        {"anomalies_warn", s->anomalies[CAP_SEV_WARN]},
        {"anomalies_crit", s->anomalies[CAP_SEV_CRIT]},
    };
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        juint(j, counts[i].key, counts[i].v);
    }
    json_object *modes = json_object_new_array();
    for (size_t m = 0; m < 8; m++) {
        json_object_array_add(modes, json_object_new_uint64(s->by_mode[m]));
    }
    jput(j, "packets_by_mode", modes);
    jstr(j, "fail_on",
         o->cfg.fail_on >= 0 ? cap_sev_name((enum cap_sev)o->cfg.fail_on) : NULL);
    jint(j, "exit_status", cap_out_status(o));
    bool t = o->cfg.summary;
    jput(j, "top_clients", t ? json_talkers(o->clients, &o->n_clients) : NULL);
    jput(j, "top_servers", t ? json_talkers(o->servers, &o->n_servers) : NULL);
    jemit(o, j);
}

static void human_tally(struct cap_out *o)
{
    if (o->n_codes == 0) {
        fputs("\nAnomalies: none\n", o->cfg.f);
        return;
    }
    fprintf(o->cfg.f, "\nAnomalies:\n  %-4s  %-24s %10s  %s\n", "SEV", "CODE", "COUNT",
            "FIRST FRAME");
    for (int sev = CAP_SEV_CRIT; sev >= CAP_SEV_INFO; sev--) {
        for (size_t i = 0; i < o->n_codes; i++) {
            const struct tally *t = &o->codes[i];
            if ((int)t->sev == sev) {
                fprintf(o->cfg.f, "  %-4s  %-24s %10llu  %llu%s\n", cap_sev_name(t->sev),
                        t->code, (unsigned long long)t->n, (unsigned long long)t->first_frame,
                        t->n > INLINE_PER_CODE ? " (first 100 shown above)" : "");
            }
        }
    }
}

static void human_summary(struct cap_out *o, const struct cap_stats *s,
                          const struct cap_io_info *in)
{
    FILE *f = o->cfg.f;
    human_tally(o);
    if (o->cfg.summary) {
        human_talkers(o, "Top clients (by packets sent)", o->clients, &o->n_clients);
        human_talkers(o, "Top servers (by packets sent)", o->servers, &o->n_servers);
    }
    fputs("\nSummary:\n", f);
    if (in != NULL) {
        fprintf(f, "  %s %s, link %s, %s time stamps\n", in->live ? "interface" : "file",
                in->source, in->link_name ? in->link_name : "?", in->nano ? "ns" : "us");
    }
    fprintf(
        f,
        "  frames %llu: ntp %llu, nts-ke %llu, other %llu, truncated %llu, malformed %llu, "
        "undecoded %llu\n",
        (unsigned long long)s->frames, (unsigned long long)s->ntp,
        (unsigned long long)s->ntske, (unsigned long long)s->other,
        (unsigned long long)s->truncated, (unsigned long long)s->malformed,
        (unsigned long long)s->undecoded);
    fprintf(f,
            "  exchanges %llu, unmatched requests %llu, unmatched responses %llu, pending "
            "dropped %llu\n  flows %llu, evicted %llu\n  packets by mode:",
            (unsigned long long)s->exchanges, (unsigned long long)s->unmatched_req,
            (unsigned long long)s->unmatched_resp, (unsigned long long)s->pending_dropped,
            (unsigned long long)s->flows, (unsigned long long)s->flow_evictions);
    for (unsigned m = 0; m < 8; m++) {
        fprintf(f, " %u:%llu", m, (unsigned long long)s->by_mode[m]);
    }
    fprintf(f, "\n  anomalies: crit %llu, warn %llu, info %llu\n",
            (unsigned long long)s->anomalies[CAP_SEV_CRIT],
            (unsigned long long)s->anomalies[CAP_SEV_WARN],
            (unsigned long long)s->anomalies[CAP_SEV_INFO]);
    if (in != NULL && in->live) {
        fprintf(f, "  capture: ran as %s", in->user ? in->user : "?");
        if (in->stats_known) {
            fprintf(f, ", received %llu, dropped %llu by the kernel, %llu by the interface",
                    (unsigned long long)in->recv, (unsigned long long)in->drop,
                    (unsigned long long)in->ifdrop);
        }
        fputc('\n', f);
    }
}

void cap_out_finish(struct cap_out *o, const struct cap_stats *st,
                    const struct cap_io_info *info)
{
    if (o->cfg.fmt == CAP_FMT_JSON) {
        json_summary(o, st, info);
    } else if (o->cfg.fmt == CAP_FMT_HUMAN) {
        human_summary(o, st, info);
    } else if (o->cfg.fmt == CAP_FMT_CSV) {
        csv_header(o, csv_exchange_header); /* an empty capture still has its header */
    } else {
        csv_header(o, csv_flow_header);
    }
    fflush(o->cfg.f);
}

/* ---- the object ---- */

bool cap_out_fails(int fail_on, const uint64_t by_sev[3])
{
    if (fail_on < CAP_SEV_INFO || fail_on > CAP_SEV_CRIT) {
        return false;
    }
    for (int s = fail_on; s <= CAP_SEV_CRIT; s++) {
        if (by_sev[s] > 0) {
            return true;
        }
    }
    return false;
}

int cap_out_status(const struct cap_out *o)
{
    return cap_out_fails(o->cfg.fail_on, o->by_sev) ? CAP_EXIT_ANOMALIES : CAP_EXIT_OK;
}

struct cap_out *cap_out_new(const struct cap_out_cfg *cfg)
{
    struct cap_out *o = calloc(1, sizeof *o);
    if (o != NULL) {
        o->cfg = *cfg;
    }
    return o;
}

void cap_out_free(struct cap_out *o)
{
    if (o != NULL) {
        free(o->clients);
        free(o->servers);
        free(o);
    }
}

void cap_out_sink(struct cap_out *o, struct cap_sink *sink)
{
    memset(sink, 0, sizeof *sink);
    sink->ctx = o;
    sink->packet = o->cfg.verbose > 0 ? on_packet : NULL;
    sink->exchange = on_exchange;
    sink->anomaly = on_anomaly;
    sink->flow = on_flow;
}
