/* SPDX-License-Identifier: BSD-2-Clause */
/* The mode-6 system and peer variables (ctlv.h) with NTPsec 1.2.2's names, formats and default
 * lists, as its ntpd answered in tests/data/mode6.pcap.
 *
 * System variables. "D": in the bare `rv` list, in this order (NTPsec 1.2.2's table order;
 * tai, leapsec and expire only when a leap file is loaded, then the `default` setvars):
 *   leap D (0..3)  stratum D  precision D (log2 s)  rootdelay D rootdisp D (ms, 3 decimals)
 *   rootdist (ms, 3)  refid D (text at stratum <= 1 or >= 16, else a dotted quad; unquoted)
 *   reftime D (hex ts)  tc D (system poll, log2 s)  peer D (system peer's association id)
 *   offset D sys_jitter D clk_jitter D (ms, 6)  frequency D clk_wander D (ppm, 6)
 *   clock D (hex ts)  processor D  system D ("sysname/release" as 1.2.2)  release (NTPsec
 *   HEAD's)  version D (quoted)  sys_var_list  tai D  leapsec D expire D ("2026-12-01T00:00Z")
 *   mintc D (0: `tos mintc` is not supported, NTPsec's default)  peeradr  peermode
 *   lockclock (0);
 *   sysstats: ss_uptime ss_reset ss_reset_r (seconds) and the ss_* pairs (ctlv.h struct
 *   ctlv_ss; plain: since the last hourly reset, _r: since start) and ss_numctlreq;
 *   monstats: mru_*; authinfo: auth*; kerninfo: k*; iostats: iostats_reset io_* *_rbuf
 *   rbuf_lowater; timerstats: timerstats_reset timer_*; ntsinfo: nts_* and nts_*_r
 *   (ctlv.h struct ctlv_nts; the plain name is the total, NTPsec's opposite convention to
 *   ss_*; _r reports the total too, as no hourly NTS roll is kept); user variables
 *   (setvar, -z, -Z).
 * Peer variables, default list in order: srcadr srcport dstadr dstport leap hmode stratum
 *   ppoll hpoll precision rootdelay rootdisp refid reftime rec xmt reach (hex, as 1.2.2
 *   sends it: ntpq shows it in octal) unreach delay offset jitter dispersion keyid filtdelay
 *   filtoffset filtdisp (8 stages newest first, ms with 2 decimals) pmode flash (hex, NTPsec's
 *   BOGON bits) headway srchost (quoted, when configured by name) ntscookies (cookies in the
 *   jar; -1: not NTS);
 *   named only: config authenable authentic timer received sent timerec timereach badauth
 *   bogusorg oldpkt seldisp selbroken candidate peer_var_list; `org` is never written. */
#include "ctlv.h"
#include "ctlv_order.h"

#include <stddef.h>
#include <string.h>

#include "ntk/addr.h"
#include "ntk/ctl.h"
#include "ntk/err.h"
#include "ntk/refid.h"

#include "poison.h"

#define NS_PER_S          1000000000LL
#define NTP_UNIX_OFFSET_S 2208988800LL

/* NTPsec's flash bits (include/ntp.h BOGON1..13) that ctlv reports. */
enum {
    BOGON_PKT_DUP = 0x0001,
    BOGON_PKT_BOGUS = 0x0002,
    BOGON_PKT_UNSYNC = 0x0004,
    BOGON_PKT_DENIED = 0x0008,
    BOGON_PKT_AUTH = 0x0010,
    BOGON_PKT_STRATUM = 0x0020,
    BOGON_PKT_HEADER = 0x0040,
    BOGON_PEER_STRATUM = 0x0200,
    BOGON_PEER_DIST = 0x0400,
    BOGON_PEER_LOOP = 0x0800,
    BOGON_PEER_UNREACH = 0x1000,
};

/* ======================================================================================== */
/* Names                                                                                    */
/* ======================================================================================== */

/* Groups of system variables; a variable is (group, index in the group's table, _r). */
enum group { G_CORE, G_SS, G_MRU, G_AUTH, G_KERN, G_IO, G_NTS, G_SETVAR, G_COUNT };

struct ref {
    enum group g;
    size_t i;
    bool r; /* the "_r" form of a paired counter */
};

/* The core variables; DEF marks the bare `rv` list, LEAP those needing a leap file. */
enum { DEF = 1, LEAP = 2 };
struct core_var {
    const char *name;
    unsigned flags;
};
enum core_id {
    C_LEAP,
    C_STRATUM,
    C_PRECISION,
    C_ROOTDELAY,
    C_ROOTDISP,
    C_ROOTDIST,
    C_REFID,
    C_REFTIME,
    C_TC,
    C_PEER,
    C_OFFSET,
    C_FREQUENCY,
    C_SYS_JITTER,
    C_CLK_JITTER,
    C_CLOCK,
    C_PROCESSOR,
    C_SYSTEM,
    C_RELEASE,
    C_VERSION,
    C_CLK_WANDER,
    C_SYS_VAR_LIST,
    C_TAI,
    C_LEAPSEC,
    C_EXPIRE,
    C_MINTC,
    C_PEERADR,
    C_PEERMODE,
    C_LOCKCLOCK,
    C_N
};
static const struct core_var core_vars[C_N] = {
    [C_LEAP] = {"leap", DEF},
    [C_STRATUM] = {"stratum", DEF},
    [C_PRECISION] = {"precision", DEF},
    [C_ROOTDELAY] = {"rootdelay", DEF},
    [C_ROOTDISP] = {"rootdisp", DEF},
    [C_ROOTDIST] = {"rootdist", 0},
    [C_REFID] = {"refid", DEF},
    [C_REFTIME] = {"reftime", DEF},
    [C_TC] = {"tc", DEF},
    [C_PEER] = {"peer", DEF},
    [C_OFFSET] = {"offset", DEF},
    [C_FREQUENCY] = {"frequency", DEF},
    [C_SYS_JITTER] = {"sys_jitter", DEF},
    [C_CLK_JITTER] = {"clk_jitter", DEF},
    [C_CLOCK] = {"clock", DEF},
    [C_PROCESSOR] = {"processor", DEF},
    [C_SYSTEM] = {"system", DEF},
    [C_RELEASE] = {"release", 0},
    [C_VERSION] = {"version", DEF},
    [C_CLK_WANDER] = {"clk_wander", DEF},
    [C_SYS_VAR_LIST] = {"sys_var_list", 0},
    [C_TAI] = {"tai", DEF | LEAP},
    [C_LEAPSEC] = {"leapsec", DEF | LEAP},
    [C_EXPIRE] = {"expire", DEF | LEAP},
    [C_MINTC] = {"mintc", DEF},
    [C_PEERADR] = {"peeradr", 0},
    [C_PEERMODE] = {"peermode", 0},
    [C_LOCKCLOCK] = {"lockclock", 0},
};

/* sysstats: the ctlv_ss pairs (plain and _r), then the single ones. */
struct ss_var {
    const char *name;
    size_t off; /* offset of the counter in struct ctlv_ss; SIZE_MAX: a special below */
};
#define SS(n, f)                                                                              \
    {                                                                                         \
        n, offsetof(struct ctlv_ss, f)                                                        \
    }
static const struct ss_var ss_vars[] = {
    SS("ss_received", received), SS("ss_thisver", thisver),       SS("ss_oldver", oldver),
    SS("ss_ver1", ver1),         SS("ss_ver1client", ver1client), SS("ss_ver1zero", ver1zero),
    SS("ss_ver1symm", ver1symm), SS("ss_badformat", badformat),   SS("ss_badauth", badauth),
    SS("ss_declined", declined), SS("ss_restricted", restricted), SS("ss_limited", limited),
    SS("ss_kodsent", kodsent),   SS("ss_processed", processed),   {"ss_reset", SIZE_MAX},
};
#undef SS
enum { SS_PAIRS = sizeof ss_vars / sizeof ss_vars[0] };
/* Not paired: */
static const char *const ss_single[] = {"ss_uptime", "ss_numctlreq"};

static const char *const mru_vars[] = {
    "mru_enabled",    "mru_hashslots",   "mru_depth",  "mru_deepest",
    "mru_mindepth",   "mru_maxage",      "mru_minage", "mru_maxdepth",
    "mru_mem",        "mru_maxmem",      "mru_exists", "mru_new",
    "mru_recycleold", "mru_recyclefull", "mru_none",   "mru_oldest_age",
};
static const char *const auth_vars[] = {
    "authreset",        "authdelay",     "authkeys",           "authfreek",
    "authklookups",     "authknotfound", "authencrypts",       "authdigestencrypts",
    "authcmacencrypts", "authdecrypts",  "authdigestdecrypts", "authdigestfails",
    "authcmacdecrypts", "authcmacfails",
};
static const char *const kern_vars[] = {
    "koffset",    "kfreq",         "kmaxerr",    "kesterr",    "kstflags",   "ktimeconst",
    "kprecis",    "kfreqtol",      "kppsfreq",   "kppsstab",   "kppsjitter", "kppscalibdur",
    "kppscalibs", "kppscaliberrs", "kppsjitexc", "kppsstbexc",
};
static const char *const io_vars[] = {
    "iostats_reset", "io_dropped",     "io_ignored",       "io_received",    "io_sent",
    "io_sendfailed", "io_wakeups",     "io_pkt_reads",     "io_ref_reads",   "total_rbuf",
    "free_rbuf",     "used_rbuf",      "timerstats_reset", "timer_overruns", "timer_xmts",
    "rbuf_lowater",  "io_goodwakeups",
};
/* Paired with _r; the _wall/_cpu ones are seconds. The order of enum ctlv_nts_var. */
static const char *const nts_vars[] = {
    "nts_client_send",           "nts_client_recv_good",    "nts_client_recv_bad",
    "nts_server_send",           "nts_server_recv_good",    "nts_server_recv_bad",
    "nts_cookie_make",           "nts_cookie_not_server",   "nts_cookie_decode_total",
    "nts_cookie_decode_current", "nts_cookie_decode",       "nts_cookie_decode_old",
    "nts_cookie_decode_old2",    "nts_cookie_decode_older", "nts_cookie_decode_too_old",
    "nts_cookie_decode_error",   "nts_ke_serves_good",      "nts_ke_serves_good_wall",
    "nts_ke_serves_good_cpu",    "nts_ke_serves_nossl",     "nts_ke_serves_nossl_wall",
    "nts_ke_serves_nossl_cpu",   "nts_ke_serves_bad",       "nts_ke_serves_bad_wall",
    "nts_ke_serves_bad_cpu",     "nts_ke_probes_good",      "nts_ke_probes_bad",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool span_is(struct ntk_span n, const char *name)
{
    size_t len = strlen(name);
    return n.len == len && memcmp(n.p, name, len) == 0;
}

/* Index of n in names[count], or -1. */
static long find_in(struct ntk_span n, const char *const *names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (span_is(n, names[i]))
            return (long)i;
    return -1;
}

/* n without a trailing "_r" into *base; false when it has none. */
static bool strip_r(struct ntk_span n, struct ntk_span *base)
{
    if (n.len < 3 || memcmp(n.p + n.len - 2, "_r", 2) != 0)
        return false;
    *base = (struct ntk_span){n.p, n.len - 2};
    return true;
}

static bool find_ss(struct ntk_span n, struct ref *out)
{
    struct ntk_span base = n;
    bool r = strip_r(n, &base);
    for (size_t pass = 0; pass < 2; pass++) {
        struct ntk_span k = pass == 0 ? n : base;
        if (pass == 1 && !r)
            break;
        for (size_t i = 0; i < SS_PAIRS; i++) {
            if (span_is(k, ss_vars[i].name)) {
                *out = (struct ref){G_SS, i, pass == 1};
                return true;
            }
        }
    }
    long j = find_in(n, ss_single, COUNT(ss_single));
    if (j < 0)
        return false;
    *out = (struct ref){G_SS, SS_PAIRS + (size_t)j, false};
    return true;
}

static bool find_nts(struct ntk_span n, struct ref *out)
{
    long i = find_in(n, nts_vars, COUNT(nts_vars));
    struct ntk_span base;
    bool r = false;
    if (i < 0 && strip_r(n, &base)) {
        i = find_in(base, nts_vars, COUNT(nts_vars));
        r = true;
    }
    if (i < 0)
        return false;
    *out = (struct ref){G_NTS, (size_t)i, r};
    return true;
}

/* Looks a system variable name up in every group. */
static bool find_sys(const struct ctlv_src *s, struct ntk_span n, struct ref *out)
{
    static const struct {
        enum group g;
        const char *const *names;
        size_t count;
    } plain[] = {
        {G_MRU, mru_vars, COUNT(mru_vars)},
        {G_AUTH, auth_vars, COUNT(auth_vars)},
        {G_KERN, kern_vars, COUNT(kern_vars)},
        {G_IO, io_vars, COUNT(io_vars)},
    };
    for (size_t i = 0; i < C_N; i++) {
        if (span_is(n, core_vars[i].name)) {
            *out = (struct ref){G_CORE, i, false};
            return true;
        }
    }
    for (size_t k = 0; k < COUNT(plain); k++) {
        long i = find_in(n, plain[k].names, plain[k].count);
        if (i >= 0) {
            *out = (struct ref){plain[k].g, (size_t)i, false};
            return true;
        }
    }
    if (find_ss(n, out) || find_nts(n, out))
        return true;
    for (size_t i = 0; i < s->nsetvars; i++) {
        if (s->setvars[i].name != NULL && span_is(n, s->setvars[i].name)) {
            *out = (struct ref){G_SETVAR, i, false};
            return true;
        }
    }
    return false;
}

/* ======================================================================================== */
/* Values                                                                                   */
/* ======================================================================================== */

static uint64_t sec_since(int64_t now_ns, int64_t then_ns)
{
    return now_ns > then_ns ? (uint64_t)((now_ns - then_ns) / NS_PER_S) : 0;
}

/* NTPsec 1.2.2's ctl_putfs: a quoted "YYYY-MM-DDThh:mmZ" (UTC). NTP Classic and NTPsec before
 * 1.2 wrote YYYYMMDDhhmm unquoted, which ntpq/ntpmon/the exporter still read (m6snap.c). */
static void put_fs(struct ntk_cvar_wr *w, const char *name, int64_t unix_s)
{
    char buf[NTK_TIMESTR_MAX];
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    ntk_time_format_minute(unix_s, &sb);
    ntk_cvar_put_str(w, name, buf, ntk_sb_len(&sb));
}

/* A refid as NTPsec writes it in mode 6 (ctlv.c header). */
static void put_refid(struct ntk_cvar_wr *w, const char *name, uint32_t refid,
                      unsigned stratum)
{
    char buf[NTK_REFID_STRMAX];
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    ntk_refid_format(refid, stratum, NTK_REFID_FMT_RV, &sb);
    ntk_cvar_put_raw(w, name, buf, ntk_sb_len(&sb));
}

/* An address without its port (srcadr), or with it (peeradr). */
static void put_addr(struct ntk_cvar_wr *w, const char *name, const struct ntk_addr *a,
                     bool port)
{
    struct ntk_addr x = {.family = NTK_ADDR_V4};
    if (a != NULL && a->family != NTK_ADDR_NONE)
        x = *a;
    if (!port)
        x.port = 0;
    char buf[NTK_ADDRSTR_MAX];
    ntk_addr_format(&x, buf);
    if (port && x.port == 0) {
        struct ntk_sb sb;
        ntk_sb_init(&sb, buf + strlen(buf), NTK_ADDRSTR_MAX - strlen(buf));
        ntk_sb_puts(&sb, ":0");
    }
    ntk_cvar_put_raw(w, name, buf, strlen(buf));
}

static void put_cstr(struct ntk_cvar_wr *w, const char *name, const char *v)
{
    v = v != NULL ? v : "";
    ntk_cvar_put_str(w, name, v, strlen(v));
}

/* "sysname/release", as NTPsec 1.2.2's `system`. */
static void put_system(const struct ctlv_src *s, struct ntk_cvar_wr *w)
{
    char buf[256];
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    ntk_sb_puts(&sb, s->system != NULL ? s->system : "");
    if (s->release != NULL && s->release[0] != '\0')
        ntk_sb_printf(&sb, "/%s", s->release);
    ntk_cvar_put_str(w, "system", buf, ntk_sb_len(&sb));
}

/* A quoted comma list of names, each followed by ',' (NTPsec's *_var_list). */
static void put_list(struct ntk_cvar_wr *w, const char *name, const char *const *names,
                     size_t count, size_t stride)
{
    char buf[NTK_CVAR_VALUE_MAX];
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    for (size_t i = 0; i < count; i++)
        ntk_sb_printf(&sb, "%s,", *(const char *const *)((const char *)names + i * stride));
    ntk_cvar_put_str(w, name, buf, ntk_sb_len(&sb));
}

static const struct snap_assoc *sys_peer(const struct ctlv_src *s)
{
    for (size_t i = 0; i < s->nassocs && s->sys != NULL; i++)
        if (s->sys->sys_peer != 0 && s->assocs[i].id == s->sys->sys_peer)
            return &s->assocs[i];
    return NULL;
}

/* The most recent leap of the table (NTPsec's lsig.ttime), or 0. */
static int64_t last_leap_unix(const struct ntk_leap_table *t)
{
    return t->n > 0 ? t->entries[t->n - 1].unix_s : 0;
}

static void put_leapvars(const struct ctlv_src *s, enum core_id id, struct ntk_cvar_wr *w)
{
    const struct ntk_leap_table *t = s->leap;
    if (t == NULL || t->n == 0)
        return; /* no leap file: NTPsec writes nothing */
    if (id == C_TAI)
        ntk_cvar_put_i64(w, "tai", ntk_leap_tai_offset(t, (int64_t)s->now.tv_sec));
    else if (id == C_LEAPSEC)
        put_fs(w, "leapsec", last_leap_unix(t));
    else
        put_fs(w, "expire", (int64_t)t->expires_ntp_s - NTP_UNIX_OFFSET_S);
}

/* Identity and leap variables (core ids from C_CLOCK on). */
static void put_core2(const struct ctlv_src *s, enum core_id id, struct ntk_cvar_wr *w)
{
    const struct snap_assoc *p = sys_peer(s);
    switch (id) {
    case C_CLOCK:
        ntk_cvar_put_ts(w, "clock", ntk_ts_from_timespec(&s->now));
        break;
    case C_PROCESSOR:
        put_cstr(w, "processor", s->processor);
        break;
    case C_SYSTEM:
        put_system(s, w);
        break;
    case C_RELEASE:
        put_cstr(w, "release", s->release);
        break;
    case C_VERSION:
        put_cstr(w, "version", s->version);
        break;
    case C_SYS_VAR_LIST:
        /* The full list would pass NTK_CVAR_VALUE_MAX: the core names only. */
        put_list(w, "sys_var_list", &core_vars[0].name, C_N, sizeof core_vars[0]);
        break;
    case C_MINTC:
        ntk_cvar_put_u64(w, "mintc", 0);
        break;
    case C_PEERADR:
        put_addr(w, "peeradr", p != NULL ? &p->addr : NULL, true);
        break;
    case C_PEERMODE:
        ntk_cvar_put_u64(w, "peermode", p != NULL ? 3 : 0);
        break;
    case C_LOCKCLOCK:
        ntk_cvar_put_u64(w, "lockclock", 0);
        break;
    default:
        put_leapvars(s, id, w);
        break;
    }
}

static void put_core(const struct ctlv_src *s, enum core_id id, struct ntk_cvar_wr *w)
{
    const struct snap_system *y = s->sys;
    const char *name = core_vars[id].name;
    switch (id) {
    case C_LEAP:
        ntk_cvar_put_u64(w, name, (uint64_t)y->leap & 3u);
        break;
    case C_STRATUM:
        ntk_cvar_put_u64(w, name, y->stratum);
        break;
    case C_PRECISION:
        ntk_cvar_put_i64(w, name, y->precision_log2);
        break;
    case C_ROOTDELAY:
        ntk_cvar_put(w, name, y->root_delay_s);
        break;
    case C_ROOTDISP:
        ntk_cvar_put(w, name, y->root_disp_s);
        break;
    case C_ROOTDIST:
        ntk_cvar_put_ms(w, name, y->root_delay_s / 2 + y->root_disp_s, 3);
        break;
    case C_REFID:
        put_refid(w, name, y->refid, y->stratum);
        break;
    case C_REFTIME:
        ntk_cvar_put_ts(w, name, y->reftime);
        break;
    case C_TC:
        ntk_cvar_put_i64(w, name, y->poll_log2);
        break;
    case C_PEER:
        ntk_cvar_put_u64(w, name, y->sys_peer);
        break;
    case C_OFFSET:
        ntk_cvar_put(w, name, y->offset_s);
        break;
    case C_FREQUENCY:
        ntk_cvar_put(w, name, y->freq_ppm);
        break;
    case C_SYS_JITTER:
        ntk_cvar_put(w, name, y->sys_jitter_s);
        break;
    case C_CLK_JITTER:
        ntk_cvar_put(w, name, y->clk_jitter_s);
        break;
    case C_CLK_WANDER:
        ntk_cvar_put(w, name, y->clk_wander_ppm);
        break;
    default:
        put_core2(s, id, w);
        break;
    }
}

void ctlv_ss_sum(const struct srv_stats *st, const struct snap_counters *ec,
                 struct ctlv_ss *out)
{
    memset(out, 0, sizeof *out);
    if (st != NULL) {
        const uint64_t *dr = st->drops;
        out->received = st->received;
        out->processed = st->replies + st->control;
        out->thisver = st->by_version[4];
        out->oldver = st->by_version[1] + st->by_version[2] + st->by_version[3];
        out->ver1 = st->v1;
        out->ver1client = st->v1_client;
        out->ver1zero = st->v1_mode0;
        out->ver1symm = st->v1_symm;
        out->restricted = dr[SRV_DROP_IGNORE] + dr[SRV_DROP_FLAKE] + dr[SRV_DROP_NOSERVE] +
                          dr[SRV_DROP_NOQUERY] + dr[SRV_DROP_VERSION] + dr[SRV_DROP_NOTRUST];
        out->badformat =
            dr[SRV_DROP_TOO_SHORT] + dr[SRV_DROP_BAD_LENGTH] + dr[SRV_DROP_BAD_VERSION] +
            dr[SRV_DROP_BAD_MODE] + dr[SRV_DROP_MODE_PRIVATE] + dr[SRV_DROP_MODE_PEER] +
            dr[SRV_DROP_BAD_EF] + dr[SRV_DROP_BAD_MAC_LENGTH] + dr[SRV_DROP_NTS_BAD];
        out->badauth = dr[SRV_DROP_UNKNOWN_KEY] + dr[SRV_DROP_BAD_MAC] +
                       dr[SRV_DROP_CRYPTO_NAK] + dr[SRV_DROP_NTS_AUTH];
        out->declined = dr[SRV_DROP_NOT_REQUEST] + dr[SRV_DROP_NOSPC] + dr[SRV_DROP_AMPLIFY] +
                        dr[SRV_DROP_NTS_CRYPTO];
        out->limited = dr[SRV_DROP_RATE] + st->kod;
        out->kodsent = st->kod;
    }
    if (ec != NULL) {
        out->received += ec->received;
        out->thisver += ec->by_version[4];
        out->oldver += ec->by_version[1] + ec->by_version[2] + ec->by_version[3];
        out->ver1 += ec->by_version[1];
        for (size_t i = 0; i < ENG_RX_KINDS; i++)
            out->processed += ec->by_rx[i];
        out->badformat += ec->bad_length;
        out->declined += ec->unknown_source;
    }
}

static void put_ss(const struct ctlv_src *s, const struct ref *r, struct ntk_cvar_wr *w,
                   const char *name)
{
    if (r->i >= SS_PAIRS) {
        uint64_t v = r->i == SS_PAIRS ? sec_since(s->now_mono_ns, s->start_mono_ns)
                                      : (s->io != NULL ? s->io->ctl_requests : 0);
        ntk_cvar_put_u64(w, name, v);
        return;
    }
    size_t off = ss_vars[r->i].off;
    if (off == SIZE_MAX) { /* ss_reset / ss_reset_r: seconds */
        int64_t from = r->r ? s->start_mono_ns : s->reset_mono_ns;
        ntk_cvar_put_u64(w, name, sec_since(s->now_mono_ns, from));
        return;
    }
    struct ctlv_ss now;
    ctlv_ss_sum(s->srv, s->ctr, &now);
    uint64_t total, base;
    memcpy(&total, (const char *)&now + off, sizeof total);
    memcpy(&base, (const char *)&s->ss_reset + off, sizeof base);
    ntk_cvar_put_u64(w, name, r->r ? total : total - base);
}

static void put_mru(const struct ctlv_src *s, size_t i, struct ntk_cvar_wr *w)
{
    const struct mru_stats *m = s->mru;
    const struct mru_cfg *c = s->mru_cfg;
    size_t cap = s->mru_capacity != 0 ? s->mru_capacity : 1;
    size_t maxmem = c != NULL ? c->maxmem_kib : 0;
    if (i == 0) { /* hex, as NTPsec's ctl_puthex */
        ntk_cvar_put_hex(w, mru_vars[i], s->mru_enabled);
        return;
    }
    uint64_t v[] = {
        0,
        s->mru_capacity,
        s->mru_entries,
        s->mru_entries, /* peak: not kept; the current depth */
        0,              /* mindepth: no such setting */
        c != NULL ? (uint64_t)c->maxage_s : 0,
        c != NULL ? (uint64_t)c->minage_s : 0,
        s->mru_capacity,
        (uint64_t)maxmem * s->mru_entries / cap,
        maxmem,
        m != NULL ? m->exists : 0,
        m != NULL ? m->inserts : 0,
        m != NULL ? m->evictions : 0,
        0, /* recyclefull: evictions are not told apart */
        m != NULL ? m->untracked : 0,
        0, /* oldest age: not kept */
    };
    ntk_cvar_put_u64(w, mru_vars[i], v[i]);
}

static void put_auth(const struct ctlv_src *s, size_t i, struct ntk_cvar_wr *w)
{
    const struct ctlv_io *io = s->io;
    if (i == 1) { /* authdelay, ms */
        ntk_cvar_put_ms(w, auth_vars[i], 0, 6);
        return;
    }
    /* Not told apart by algorithm: the totals are in authencrypts / authdecrypts, the
     * failures in authdigestfails. */
    uint64_t v[] = {
        sec_since(s->now_mono_ns, s->start_mono_ns),
        0,
        io != NULL ? io->auth_keys : 0,
        0,
        0,
        0,
        io != NULL ? io->auth_encrypts : 0,
        0,
        0,
        io != NULL ? io->auth_decrypts : 0,
        0,
        io != NULL ? io->auth_fails : 0,
        0,
        0,
    };
    ntk_cvar_put_u64(w, auth_vars[i], v[i]);
}

/* kstflags as NTPsec's k_st_flags: the names of the set STA_* bits (the kernel's
 * timex.h, lowest bit first), joined by spaces. */
static void put_kstflags(struct ntk_cvar_wr *w, const char *name, unsigned status)
{
    static const char *const bits[16] = {"pll",       "ppsfreq",   "ppstime",   "fll",
                                         "ins",       "del",       "unsync",    "freqhold",
                                         "ppssignal", "ppsjitter", "ppswander", "ppserror",
                                         "clockerr",  "nano",      "mode=fll",  "src=B"};
    char text[160];
    struct ntk_sb sb;
    ntk_sb_init(&sb, text, sizeof text);
    for (unsigned b = 0; b < 16; b++)
        if (status & (1u << b)) {
            if (ntk_sb_len(&sb) > 0)
                ntk_sb_putc(&sb, ' ');
            ntk_sb_puts(&sb, bits[b]);
        }
    ntk_cvar_put_str(w, name, ntk_sb_str(&sb), ntk_sb_len(&sb));
}

/* A number as NTPsec's ctl_putdblf(..., false, 6, v): "%.6g" (16000, 0.016, 1e-06). */
static void put_g(struct ntk_cvar_wr *w, const char *name, double v)
{
    char text[40];
    struct ntk_sb sb;
    ntk_sb_init(&sb, text, sizeof text);
    ntk_sb_printf(&sb, "%.6g", v);
    ntk_cvar_put_raw(w, name, ntk_sb_str(&sb), ntk_sb_len(&sb));
}

/* kerninfo as NTPsec 1.2.2 writes it: times in ms and frequencies in ppm, both "%.6g", the
 * status as the names of its bits, and every PPS variable 0 while the kernel has no PPS
 * signal (shift 0: CTL_IF_KERNPPS). The values are the kernel's (the maximum and estimated
 * errors and the precision are microseconds in struct timex, STA_NANO or not); NTPsec 1.2.2
 * divides those three by 1e9 when STA_NANO is set, so its kmaxerr, kesterr and kprecis are
 * 1000 times too small (an unsynchronised kernel's 16 s shows there as 16 ms): ours are
 * not. */
static void put_kern(const struct ctlv_src *s, size_t i, struct ntk_cvar_wr *w)
{
    static const struct ctlv_kernel none;
    const struct ctlv_kernel *k = s->kern != NULL ? s->kern : &none;
    const char *n = kern_vars[i];
    bool pps = k->pps_shift != 0;
    const double g[] = {[0] = k->offset_s * 1e3,
                        [1] = k->freq_ppm,
                        [2] = k->maxerror_s * 1e3,
                        [3] = k->esterror_s * 1e3,
                        [6] = k->precision_s * 1e3,
                        [7] = k->tolerance_ppm,
                        [8] = pps ? k->pps_freq_ppm : 0,
                        [9] = pps ? k->pps_stabil_ppm : 0,
                        [10] = pps ? k->pps_jitter_s * 1e3 : 0};
    const long li[] = {[5] = k->constant,
                       [11] = pps ? 1L << (k->pps_shift & 31) : 0,
                       [12] = pps ? k->pps_calcnt : 0,
                       [13] = pps ? k->pps_errcnt : 0,
                       [14] = pps ? k->pps_jitcnt : 0,
                       [15] = pps ? k->pps_stbcnt : 0};
    if (i == 4)
        put_kstflags(w, n, k->status);
    else if (i == 5 || i >= 11)
        ntk_cvar_put_i64(w, n, li[i]);
    else
        put_g(w, n, g[i]);
}

static void put_io(const struct ctlv_src *s, size_t i, struct ntk_cvar_wr *w)
{
    static const struct ctlv_io none;
    const struct ctlv_io *io = s->io != NULL ? s->io : &none;
    uint64_t up = sec_since(s->now_mono_ns, s->start_mono_ns);
    uint64_t v[] = {
        up,
        io->dropped,
        io->ignored,
        io->received,
        io->sent,
        io->send_failed,
        io->wakeups,
        io->pkt_reads,
        0,
        0,
        0,
        0, /* no refclocks, no rbuf pool */
        up,
        io->timer_overruns,
        io->timer_xmts,
        0, /* rbuf_lowater: no receive-buffer pool to refill */
        io->good_wakeups,
    };
    ntk_cvar_put_u64(w, io_vars[i], v[i]);
}

static void put_nts(const struct ctlv_src *s, size_t i, bool r, struct ntk_cvar_wr *w)
{
    double v = s->nts != NULL && i < CTLV_NTS_COUNT ? s->nts->v[i] : 0;
    char name[NTK_CVAR_NAME_MAX + 1];
    struct ntk_sb sb;
    ntk_sb_init(&sb, name, sizeof name);
    ntk_sb_printf(&sb, "%s%s", nts_vars[i], r ? "_r" : "");
    size_t n = strlen(nts_vars[i]);
    bool secs = n > 5 && (strcmp(nts_vars[i] + n - 5, "_wall") == 0 ||
                          strcmp(nts_vars[i] + n - 4, "_cpu") == 0);
    if (secs)
        ntk_cvar_put_double(w, name, v, 3);
    else
        ntk_cvar_put_u64(w, name, (uint64_t)v);
}

/* A user variable: its value as given; quoted when it was quoted or cannot go bare. */
static void put_setvar(const struct ctlv_setvar *v, struct ntk_cvar_wr *w)
{
    const char *val = v->value != NULL ? v->value : "";
    size_t n = strlen(val);
    if (n >= 2 && val[0] == '"' && val[n - 1] == '"') {
        ntk_cvar_put_str(w, v->name, val + 1, n - 2);
        return;
    }
    bool bare =
        strpbrk(val, ",\"") == NULL && (n == 0 || (val[0] != ' ' && val[n - 1] != ' '));
    if (bare)
        ntk_cvar_put_raw(w, v->name, val, n);
    else
        ntk_cvar_put_str(w, v->name, val, n);
}

static void put_sys(const struct ctlv_src *s, const struct ref *r, struct ntk_span n,
                    struct ntk_cvar_wr *w)
{
    char name[NTK_CVAR_NAME_MAX + 1];
    size_t len = n.len < NTK_CVAR_NAME_MAX ? n.len : NTK_CVAR_NAME_MAX;
    memcpy(name, n.p, len);
    name[len] = '\0';
    switch (r->g) {
    case G_CORE:
        put_core(s, (enum core_id)r->i, w);
        break;
    case G_SS:
        put_ss(s, r, w, name);
        break;
    case G_MRU:
        put_mru(s, r->i, w);
        break;
    case G_AUTH:
        put_auth(s, r->i, w);
        break;
    case G_KERN:
        put_kern(s, r->i, w);
        break;
    case G_IO:
        put_io(s, r->i, w);
        break;
    case G_NTS:
        put_nts(s, r->i, r->r, w);
        break;
    default:
        put_setvar(&s->setvars[r->i], w);
        break;
    }
}

/* ======================================================================================== */
/* Requests                                                                                 */
/* ======================================================================================== */

/* True when the list holds no item at all (a bare `rv`). */
static bool list_empty(const char *names, size_t len)
{
    struct ntk_cvar_it it;
    struct ntk_cvar_item item;
    ntk_cvar_init(&it, names, len);
    return ntk_cvar_next(&it, &item) == 0;
}

/* Checks every name of the list with find(); 0, NTK_ENOTFOUND (*bad) or a parse error. */
typedef bool (*find_fn)(const struct ctlv_src *s, const struct snap_assoc *a,
                        struct ntk_span n, struct ref *out);

static int check_all(const struct ctlv_src *s, const struct snap_assoc *a, const char *names,
                     size_t len, find_fn find, struct ntk_span *bad)
{
    struct ntk_cvar_it it;
    struct ntk_cvar_item item;
    struct ref r;
    int rc;
    ntk_cvar_init(&it, names, len);
    while ((rc = ntk_cvar_next(&it, &item)) == 1) {
        if (!find(s, a, item.name, &r)) {
            *bad = item.name;
            return NTK_ENOTFOUND;
        }
    }
    return rc;
}

static bool find_sys_fn(const struct ctlv_src *s, const struct snap_assoc *a,
                        struct ntk_span n, struct ref *out)
{
    (void)a;
    return find_sys(s, n, out);
}

static void sys_defaults(const struct ctlv_src *s, struct ntk_cvar_wr *w)
{
    for (size_t i = 0; i < C_N; i++)
        if (core_vars[i].flags & DEF)
            put_core(s, (enum core_id)i, w);
    for (size_t i = 0; i < s->nsetvars; i++)
        if (s->setvars[i].deflt && s->setvars[i].name != NULL)
            put_setvar(&s->setvars[i], w);
}

int ctlv_sys(const struct ctlv_src *s, const char *names, size_t len, struct ntk_cvar_wr *w,
             struct ntk_span *bad)
{
    if (list_empty(names, len)) {
        sys_defaults(s, w);
        return ntk_cvar_wr_err(w);
    }
    int rc = check_all(s, NULL, names, len, find_sys_fn, bad);
    if (rc != 0)
        return rc;
    struct ctlv_wanted want[CTLV_WANTED_MAX];
    size_t n = ctlv_answer_order(names, len, CTLV_SYS_TABLE, want, CTLV_WANTED_MAX);
    struct ref r;
    for (size_t i = 0; i < n; i++)
        if (find_sys(s, want[i].name, &r))
            put_sys(s, &r, want[i].name, w);
    return ntk_cvar_wr_err(w);
}

/* ======================================================================================== */
/* Peer variables                                                                           */
/* ======================================================================================== */

enum peer_id {
    P_SRCADR,
    P_SRCPORT,
    P_DSTADR,
    P_DSTPORT,
    P_LEAP,
    P_HMODE,
    P_STRATUM,
    P_PPOLL,
    P_HPOLL,
    P_PRECISION,
    P_ROOTDELAY,
    P_ROOTDISP,
    P_REFID,
    P_REFTIME,
    P_ORG,
    P_REC,
    P_XMT,
    P_REACH,
    P_UNREACH,
    P_DELAY,
    P_OFFSET,
    P_JITTER,
    P_DISPERSION,
    P_KEYID,
    P_FILTDELAY,
    P_FILTOFFSET,
    P_PMODE,
    P_FILTDISP,
    P_FLASH,
    P_HEADWAY,
    P_SRCHOST,
    P_NTSCOOKIES,
    /* named only */
    P_CONFIG,
    P_AUTHENABLE,
    P_AUTHENTIC,
    P_TIMER,
    P_RECEIVED,
    P_SENT,
    P_TIMEREC,
    P_TIMEREACH,
    P_BADAUTH,
    P_BOGUSORG,
    P_OLDPKT,
    P_SELDISP,
    P_SELBROKEN,
    P_CANDIDATE,
    P_VARLIST,
    P_N
};
static const char *const peer_vars[P_N] = {
    "srcadr",    "srcport",    "dstadr",    "dstport",    "leap",          "hmode",
    "stratum",   "ppoll",      "hpoll",     "precision",  "rootdelay",     "rootdisp",
    "refid",     "reftime",    "org",       "rec",        "xmt",           "reach",
    "unreach",   "delay",      "offset",    "jitter",     "dispersion",    "keyid",
    "filtdelay", "filtoffset", "pmode",     "filtdisp",   "flash",         "headway",
    "srchost",   "ntscookies", "config",    "authenable", "authentic",     "timer",
    "received",  "sent",       "timerec",   "timereach",  "badauth",       "bogusorg",
    "oldpkt",    "seldisp",    "selbroken", "candidate",  "peer_var_list",
};

static bool find_peer_fn(const struct ctlv_src *s, const struct snap_assoc *a,
                         struct ntk_span n, struct ref *out)
{
    (void)s;
    (void)a;
    long i = find_in(n, peer_vars, P_N);
    if (i < 0)
        return false;
    *out = (struct ref){G_CORE, (size_t)i, false};
    return true;
}

/* The selection code of a tally character (RFC 9327 §2.2.2). */
static unsigned sel_of(char tally)
{
    static const char order[] = " x.-+#*o";
    for (unsigned i = 0; i < 8; i++)
        if (order[i] == tally)
            return i;
    return NTK_CTL_SEL_REJECT;
}

/* NTPsec's `authentic` flag: the last reply passed authentication, which a reply to an
 * association without a key always does (ntp_proto.c clears it only on TEST5). */
static bool authentic(const struct snap_assoc *a)
{
    return a->key_id != 0 ? a->authenticated : a->last_rx_mono_ns != 0 || a->reach != 0;
}

/* NTPsec's flash word: the packet tests of the last reply and peer_unfit's tests now. */
unsigned ctlv_bogon_bits(uint32_t snap_flash)
{
    static const struct {
        uint32_t ours;
        unsigned bogon;
    } map[] = {
        {SNAP_FLASH_DUP, BOGON_PKT_DUP},         {SNAP_FLASH_BOGUS, BOGON_PKT_BOGUS},
        {SNAP_FLASH_PROTO, BOGON_PKT_UNSYNC},    {SNAP_FLASH_ACCESS, BOGON_PKT_DENIED},
        {SNAP_FLASH_AUTH, BOGON_PKT_AUTH},       {SNAP_FLASH_SYNC, BOGON_PKT_STRATUM},
        {SNAP_FLASH_STRATUM, BOGON_PKT_STRATUM}, {SNAP_FLASH_HEADER, BOGON_PKT_HEADER},
        {SNAP_FLASH_DIST, BOGON_PEER_DIST},      {SNAP_FLASH_LOOP, BOGON_PEER_LOOP},
        {SNAP_FLASH_RATE, BOGON_PKT_DENIED},
    };
    unsigned f = 0;
    for (size_t i = 0; i < COUNT(map); i++)
        if (snap_flash & map[i].ours)
            f |= map[i].bogon;
    return f;
}

static unsigned flash_of(const struct snap_assoc *a)
{
    unsigned f = ctlv_bogon_bits(a->flash);
    if (a->leap == NTK_LEAP_UNSYNC || (a->stratum == 0 && !a->refclock) || a->stratum >= 16)
        f |= BOGON_PEER_STRATUM;
    if (a->reach == 0 || a->noselect)
        f |= BOGON_PEER_UNREACH;
    return f;
}

static const struct ntk_addr *local_of(const struct ctlv_src *s, const struct snap_assoc *a)
{
    if (s->local == NULL || a < s->assocs || a >= s->assocs + s->nassocs)
        return NULL;
    return &s->local[a - s->assocs];
}

static uint64_t secs_until(int64_t now_ns, int64_t then_ns)
{
    return then_ns > now_ns ? (uint64_t)((then_ns - now_ns) / NS_PER_S) : 0;
}

/* The named-only peer variables. */
static void put_peer3(const struct ctlv_src *s, const struct snap_assoc *a, enum peer_id id,
                      struct ntk_cvar_wr *w)
{
    const char *n = peer_vars[id];
    int64_t now = s->now_mono_ns;
    uint64_t v = 0;
    switch (id) {
    case P_CONFIG:
        v = !a->from_pool;
        break;
    case P_AUTHENABLE:
        v = a->key_id != 0;
        break;
    case P_AUTHENTIC:
        v = authentic(a);
        break;
    case P_TIMER:
        v = secs_until(now, a->next_poll_mono_ns);
        break;
    case P_RECEIVED:
        v = a->received;
        break;
    case P_SENT:
        v = a->sent;
        break;
    case P_TIMEREC:
    case P_TIMEREACH:
        v = a->last_rx_mono_ns != 0 ? sec_since(now, a->last_rx_mono_ns) : 0;
        break;
    case P_BOGUSORG:
        v = a->bogus;
        break;
    case P_CANDIDATE:
        v = sel_of(a->tally);
        break;
    case P_VARLIST:
        put_list(w, n, peer_vars, P_N, sizeof peer_vars[0]);
        return;
    default: /* badauth oldpkt seldisp selbroken: not counted */
        break;
    }
    ntk_cvar_put_u64(w, n, v);
}

/* The filter lists and the variables after them. */
static void put_peer2(const struct ctlv_src *s, const struct snap_assoc *a, enum peer_id id,
                      struct ntk_cvar_wr *w)
{
    const char *n = peer_vars[id];
    switch (id) {
    case P_KEYID:
        ntk_cvar_put_u64(w, n, a->key_id);
        break;
    case P_FILTDELAY:
        ntk_cvar_put_ms_list(w, n, a->filt_delay_s, 8);
        break;
    case P_FILTOFFSET:
        ntk_cvar_put_ms_list(w, n, a->filt_offset_s, 8);
        break;
    case P_FILTDISP:
        ntk_cvar_put_ms_list(w, n, a->filt_disp_s, 8);
        break;
    case P_PMODE:
        ntk_cvar_put_u64(w, n, a->last_rx_mono_ns != 0 || a->reach != 0 ? 4 : 0);
        break;
    case P_FLASH:
        ntk_cvar_put_hex(w, n, flash_of(a));
        break;
    case P_HEADWAY:
        ntk_cvar_put_u64(w, n, 0); /* no rate management headway is kept */
        break;
    case P_SRCHOST:
        if (a->name[0] != '\0')
            put_cstr(w, n, a->name);
        break;
    case P_NTSCOOKIES:
        ntk_cvar_put_i64(w, n, a->ntscookies);
        break;
    case P_ORG:
        break; /* never: leaking it enables off-path spoofing (CVE-2015-8139) */
    default:
        put_peer3(s, a, id, w);
        break;
    }
}

static void put_peer(const struct ctlv_src *s, const struct snap_assoc *a, enum peer_id id,
                     struct ntk_cvar_wr *w)
{
    const char *n = peer_vars[id];
    const struct ntk_addr *l = local_of(s, a);
    switch (id) {
    case P_SRCADR:
        put_addr(w, n, &a->addr, false);
        break;
    case P_SRCPORT:
        ntk_cvar_put_u64(w, n, a->addr.port);
        break;
    case P_DSTADR:
        put_addr(w, n, l, false);
        break;
    case P_DSTPORT:
        ntk_cvar_put_u64(w, n, l != NULL ? l->port : 0);
        break;
    case P_LEAP:
        ntk_cvar_put_u64(w, n, (uint64_t)a->leap & 3u);
        break;
    case P_HMODE:
        ntk_cvar_put_u64(w, n, 3); /* client */
        break;
    case P_STRATUM:
        ntk_cvar_put_u64(w, n, a->stratum);
        break;
    case P_PPOLL:
        ntk_cvar_put_i64(w, n, a->ppoll_log2);
        break;
    case P_HPOLL:
        ntk_cvar_put_i64(w, n, a->hpoll_log2);
        break;
    case P_PRECISION:
        ntk_cvar_put_i64(w, n, a->precision_log2);
        break;
    case P_ROOTDELAY:
        ntk_cvar_put(w, n, a->root_delay_s);
        break;
    case P_ROOTDISP:
        ntk_cvar_put(w, n, a->root_disp_s);
        break;
    case P_REFID: /* NTPsec: a refclock's refid is text whatever its fudged stratum */
        put_refid(w, n, a->refid, a->refclock ? 0 : a->stratum);
        break;
    case P_REFTIME:
        ntk_cvar_put_ts(w, n, a->reftime);
        break;
    case P_REC:
        ntk_cvar_put_ts(w, n, a->rec);
        break;
    case P_XMT:
        ntk_cvar_put_ts(w, n, a->xmt);
        break;
    case P_REACH:
        ntk_cvar_put_hex(w, n, a->reach);
        break;
    case P_UNREACH:
        ntk_cvar_put_u64(w, n, a->unreach);
        break;
    case P_DELAY:
        ntk_cvar_put(w, n, a->delay_s);
        break;
    case P_OFFSET:
        ntk_cvar_put(w, n, a->offset_s);
        break;
    case P_JITTER:
        ntk_cvar_put(w, n, a->jitter_s);
        break;
    case P_DISPERSION:
        ntk_cvar_put(w, n, a->disp_s);
        break;
    default:
        put_peer2(s, a, id, w);
        break;
    }
}

int ctlv_peer(const struct ctlv_src *s, const struct snap_assoc *a, const char *names,
              size_t len, struct ntk_cvar_wr *w, struct ntk_span *bad)
{
    if (list_empty(names, len)) {
        for (size_t i = 0; i <= P_NTSCOOKIES; i++)
            put_peer(s, a, (enum peer_id)i, w);
        return ntk_cvar_wr_err(w);
    }
    int rc = check_all(s, a, names, len, find_peer_fn, bad);
    if (rc != 0)
        return rc;
    struct ctlv_wanted want[CTLV_WANTED_MAX];
    size_t n = ctlv_answer_order(names, len, CTLV_PEER_TABLE, want, CTLV_WANTED_MAX);
    for (size_t k = 0; k < n; k++) {
        long i = find_in(want[k].name, peer_vars, P_N);
        if (i >= 0)
            put_peer(s, a, (enum peer_id)i, w);
    }
    return ntk_cvar_wr_err(w);
}

/* ======================================================================================== */
/* Clock variables (refclocks)                                                              */
/* ======================================================================================== */

enum clock_id {
    K_NAME,
    K_TIMECODE,
    K_POLL,
    K_NOREPLY,
    K_BADFORMAT,
    K_BADDATA,
    K_FUDGETIME1,
    K_FUDGETIME2,
    K_STRATUM,
    K_REFID,
    K_FLAGS,
    K_DEVICE,
    K_VARLIST,
    K_N
};
static const char *const clock_vars[K_N] = {
    "name",       "timecode", "poll",  "noreply", "badformat", "baddata",        "fudgetime1",
    "fudgetime2", "stratum",  "refid", "flags",   "device",    "clock_var_list",
};

static bool find_clock_fn(const struct ctlv_src *s, const struct snap_assoc *a,
                          struct ntk_span n, struct ref *out)
{
    (void)s;
    (void)a;
    long i = find_in(n, clock_vars, K_N);
    if (i < 0)
        return false;
    *out = (struct ref){G_CORE, (size_t)i, false};
    return true;
}

static void put_clock(const struct snap_assoc *a, enum clock_id id, struct ntk_cvar_wr *w)
{
    const char *n = clock_vars[id];
    switch (id) {
    case K_NAME:
        put_cstr(w, n, a->rc_name);
        break;
    case K_TIMECODE:
        put_cstr(w, n, a->rc_timecode);
        break;
    case K_POLL:
        ntk_cvar_put_u64(w, n, a->rc_polls);
        break;
    case K_NOREPLY:
        ntk_cvar_put_u64(w, n, a->rc_noreply);
        break;
    case K_BADFORMAT:
        ntk_cvar_put_u64(w, n, a->rc_badformat);
        break;
    case K_BADDATA:
        ntk_cvar_put_u64(w, n, a->rc_baddata);
        break;
    case K_FUDGETIME1:
    case K_FUDGETIME2:
        ntk_cvar_put_ms(w, n, id == K_FUDGETIME1 ? a->rc_time1_s : a->rc_time2_s, 3);
        break;
    case K_STRATUM:
        ntk_cvar_put_u64(w, n, a->rc_stratum);
        break;
    case K_REFID:
        put_refid(w, n, a->rc_refid, a->rc_stratum);
        break;
    case K_FLAGS:
        ntk_cvar_put_u64(w, n, a->rc_flags);
        break;
    case K_DEVICE:
        put_cstr(w, n, a->rc_device);
        break;
    default:
        put_list(w, n, clock_vars, K_N, sizeof clock_vars[0]);
        break;
    }
}

int ctlv_clock(const struct ctlv_src *s, const struct snap_assoc *a, const char *names,
               size_t len, struct ntk_cvar_wr *w, struct ntk_span *bad)
{
    if (list_empty(names, len)) {
        static const enum clock_id def[] = {
            K_DEVICE,  K_NAME,       K_TIMECODE,   K_POLL,    K_NOREPLY, K_BADFORMAT,
            K_BADDATA, K_FUDGETIME1, K_FUDGETIME2, K_STRATUM, K_REFID,   K_FLAGS};
        for (size_t i = 0; i < COUNT(def); i++)
            if (def[i] != K_FUDGETIME2 || a->rc_time2_s != 0)
                put_clock(a, def[i], w);
        return ntk_cvar_wr_err(w);
    }
    int rc = check_all(s, a, names, len, find_clock_fn, bad);
    if (rc != 0)
        return rc;
    struct ntk_cvar_it it;
    struct ntk_cvar_item item;
    ntk_cvar_init(&it, names, len);
    while (ntk_cvar_next(&it, &item) == 1) {
        long i = find_in(item.name, clock_vars, K_N);
        if (i >= 0)
            put_clock(a, (enum clock_id)i, w);
    }
    return ntk_cvar_wr_err(w);
}

uint16_t ctlv_clock_status(const struct snap_assoc *a)
{
    return ntk_ctl_clk_status_pack(a->rc_status, a->rc_lastevent);
}

/* ======================================================================================== */
/* Status words                                                                             */
/* ======================================================================================== */

/* The system status word; its source field is NTPsec's clock type of the system peer
 * (sstclktype: a PPS refclock is "atom", SHM and SOCK receivers "UHF", a server "NTP"). */
uint16_t ctlv_sys_word(const struct snap_system *sys, const struct snap_assoc *sys_peer,
                       uint8_t n, uint8_t ev)
{
    uint8_t source = NTK_CTL_SRC_NTP;
    if (sys->sys_peer == 0)
        source = NTK_CTL_SRC_UNSPEC;
    else if (sys_peer != NULL && sys_peer->refclock)
        source = sys_peer->rc_type == ENG_RC_PPS ? NTK_CTL_SRC_ATOM : NTK_CTL_SRC_UHF;
    struct ntk_ctl_sys_status st = {
        .leap = (uint8_t)((unsigned)sys->leap & 3u),
        .source = source,
        .nevents = n,
        .event = ev,
    };
    return ntk_ctl_sys_status_pack(&st);
}

uint16_t ctlv_sys_status(const struct ctlv_src *s)
{
    return ctlv_sys_word(s->sys, sys_peer(s), s->sys->events.count, s->sys->events.last);
}

uint16_t ctlv_peer_word(const struct snap_assoc *a, uint8_t n, uint8_t ev)
{
    uint8_t f = 0;
    f |= a->from_pool ? 0 : NTK_CTL_PST_CONFIG;
    f |= a->pool_line ? NTK_CTL_PST_BCAST : 0; /* NTPsec: its prototype solicits servers */
    f |= a->key_id != 0 ? NTK_CTL_PST_AUTHENABLE : 0;
    f |= authentic(a) ? NTK_CTL_PST_AUTHENTIC : 0;
    f |= a->reach != 0 ? NTK_CTL_PST_REACH : 0;
    struct ntk_ctl_peer_status st = {
        .flags = f,
        .sel = (uint8_t)sel_of(a->tally),
        .nevents = n,
        .event = ev,
    };
    return ntk_ctl_peer_status_pack(&st);
}

uint16_t ctlv_peer_status(const struct ctlv_src *s, const struct snap_assoc *a)
{
    (void)s;
    return ctlv_peer_word(a, a->events.count, a->events.last);
}
