/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's mode-6 responder: access policy, proof of address, nonces, and the opcodes
 * (ctlsrv.h). */
#include "ctlsrv.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ntk/ctlvars.h"
#include "ntk/err.h"
#include "ntk/sb.h"
#include "ntk/tok.h"

#include "poison.h"

#define NS_PER_S 1000000000LL

/* Bytes kept free in a READ_MRU response for "now=..., last.newest=...\r\n". */
#define MRU_TRAILER 80

/* Most resume points (addr.N / last.N) of a READ_MRU request looked at. */
#define MRU_PRIORS_MAX 32

/* An address as a table key: the family and IP, IPv4-mapped folded to IPv4, no port. */
struct akey {
    uint8_t family;
    uint8_t ip[16];
};

struct rate_slot {
    struct akey key;
    bool used;
    int64_t milli_tokens; /* tokens * 1000 */
    int64_t last_ns;
};

struct proof_slot {
    struct akey key;
    int64_t until_ns; /* 0: free */
};

struct mru_prior {
    struct ntk_addr addr;
    ntk_ts last;
    bool have_addr, have_last;
};

struct ctlsrv {
    struct ctlsrv_cfg cfg;
    struct ctlsrv_stats st;
    struct rate_slot rate[CTLSRV_RATE_SLOTS];
    struct proof_slot proof[CTLSRV_PROOF_SLOTS];
    struct mru_client *rows; /* READ_MRU scratch, cfg.mru_rows entries */
    bool ts_base_set;        /* MRU times: wall = base_ts + (mono - base_mono) */
    ntk_ts base_ts;
    int64_t base_mono_ns;
    /* the prepared response */
    struct ntk_ctl_split split;
    struct ntk_ctl_hdr err_hdr;
    bool err_pending;
    int remaining;
    uint32_t keyid;
    char data[NTK_CTL_REASM_MAX + 1];
};

/* One request being answered. */
struct rq {
    const struct ctlsrv_env *env;
    const struct ctlsrv_req *q;
    struct ntk_ctl_msg m;
    const char *data; /* request data after the nonce item */
    size_t len;
    bool is_signed;
    uint32_t keyid;
    bool nonce_ok; /* a valid leading nonce item */
    bool full;     /* may get answers larger than the request */
};

/* ---- SipHash-2-4 (Aumasson & Bernstein), for nonces and the rate table ---- */

static uint64_t rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void sipround(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = rotl(v[1], 13) ^ v[0];
    v[0] = rotl(v[0], 32);
    v[2] += v[3];
    v[3] = rotl(v[3], 16) ^ v[2];
    v[0] += v[3];
    v[3] = rotl(v[3], 21) ^ v[0];
    v[2] += v[1];
    v[1] = rotl(v[1], 17) ^ v[2];
    v[2] = rotl(v[2], 32);
}

static void sipblock(uint64_t v[4], uint64_t m)
{
    v[3] ^= m;
    sipround(v);
    sipround(v);
    v[0] ^= m;
}

static uint64_t siphash(const uint8_t key[16], const uint8_t *p, size_t n)
{
    uint64_t k0 = le64(key), k1 = le64(key + 8);
    uint64_t v[4] = {k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
                     k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        sipblock(v, le64(p + i));
    uint8_t last[8] = {0};
    memcpy(last, p + i, n - i);
    last[7] = (uint8_t)n;
    sipblock(v, le64(last));
    v[2] ^= 0xff;
    for (int r = 0; r < 4; r++)
        sipround(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* ---- addresses ---- */

static struct akey key_of(const struct ntk_addr *src)
{
    struct ntk_addr a = *src;
    (void)ntk_addr_unmap(&a);
    struct akey k;
    memset(&k, 0, sizeof k);
    k.family = (uint8_t)a.family;
    memcpy(k.ip, a.ip, a.family == NTK_ADDR_V4 ? 4 : 16);
    return k;
}

static bool key_eq(const struct akey *a, const struct akey *b)
{
    return memcmp(a, b, sizeof *a) == 0;
}

bool ctlsrv_is_loopback(const struct ntk_addr *src)
{
    static const uint8_t v6lo[16] = {[15] = 1};
    struct akey k = key_of(src);
    if (k.family == NTK_ADDR_V4)
        return k.ip[0] == 127;
    return k.family == NTK_ADDR_V6 && memcmp(k.ip, v6lo, 16) == 0;
}

static bool prefix_match(const uint8_t *net, const uint8_t *ip, unsigned bits)
{
    unsigned whole = bits / 8, rest = bits % 8;
    if (memcmp(net, ip, whole) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (net[whole] & mask) == (ip[whole] & mask);
}

bool ctlsrv_opened(const struct rst_table *t, const struct ntk_addr *src)
{
    if (t == NULL)
        return false;
    struct ntk_addr a = *src;
    (void)ntk_addr_unmap(&a);
    size_t n = rst_count(t);
    for (size_t i = 0; i < n; i++) {
        struct rst_rule r;
        if (!rst_get(t, i, &r) || r.family != a.family)
            continue;
        if ((r.flags & RST_NTPPORT) && a.port != 123)
            continue;
        if (!prefix_match(r.ip, a.ip, r.prefix_len))
            continue;
        return r.prefix_len > 0 && r.conf && !(r.flags & (RST_NOQUERY | RST_IGNORE));
    }
    return false;
}

uint32_t ctlsrv_res_bits(uint32_t f)
{
    static const uint32_t map[][2] = {
        {RST_IGNORE, 0x0001},  {RST_NOSERVE, 0x0002},     {RST_NOTRUST, 0x0004},
        {RST_VERSION, 0x0008}, {RST_NOPEER, 0x0010},      {RST_LIMITED, 0x0020},
        {RST_NOQUERY, 0x0040}, {RST_NOMODIFY, 0x0080},    {RST_NOTRAP, 0x0100},
        {RST_KOD, 0x0400},     {RST_LOWPRIOTRAP, 0x0200}, {RST_MSSNTP, 0x0800},
        {RST_FLAKE, 0x1000},   {RST_NOMRULIST, 0x2000},   {RST_NOEPEER, 0x4000},
    };
    uint32_t out = 0;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (f & map[i][0])
            out |= map[i][1];
    return out;
}

/* ---- rate limit and proofs ---- */

static bool rate_ok(struct ctlsrv *s, const struct ntk_addr *src, int64_t now)
{
    struct akey k = key_of(src);
    uint64_t h = siphash(s->cfg.secret, (const uint8_t *)&k, sizeof k);
    struct rate_slot *r = &s->rate[h % CTLSRV_RATE_SLOTS];
    const int64_t full = (int64_t)CTLSRV_RATE_BURST * 1000;
    if (r->used) {
        int64_t dt = now - r->last_ns;
        dt = dt < 0 ? 0 : dt > 10 * NS_PER_S ? 10 * NS_PER_S : dt;
        r->milli_tokens += dt * CTLSRV_RATE_PPS / 1000000;
        if (r->milli_tokens > full)
            r->milli_tokens = full;
    }
    r->last_ns = now;
    if (!r->used || (!key_eq(&r->key, &k) && r->milli_tokens >= full)) {
        r->used = true;
        r->key = k;
        r->milli_tokens = full;
    }
    if (r->milli_tokens < 1000)
        return false;
    r->milli_tokens -= 1000;
    return true;
}

static bool is_proven(const struct ctlsrv *s, const struct ntk_addr *src, int64_t now)
{
    struct akey k = key_of(src);
    for (size_t i = 0; i < CTLSRV_PROOF_SLOTS; i++)
        if (s->proof[i].until_ns > now && key_eq(&s->proof[i].key, &k))
            return true;
    return false;
}

static void prove(struct ctlsrv *s, const struct ntk_addr *src, int64_t now)
{
    struct akey k = key_of(src);
    struct proof_slot *best = &s->proof[0];
    for (size_t i = 0; i < CTLSRV_PROOF_SLOTS; i++) {
        struct proof_slot *p = &s->proof[i];
        if (p->until_ns > now && key_eq(&p->key, &k)) {
            best = p;
            break;
        }
        if (p->until_ns < best->until_ns)
            best = p;
    }
    best->key = k;
    best->until_ns = now + CTLSRV_PROOF_S * NS_PER_S;
    s->st.proofs++;
}

/* ---- nonces ---- */

static uint64_t nonce_mac(const struct ctlsrv *s, const struct ntk_addr *src, uint64_t t)
{
    uint8_t b[8 + sizeof(struct akey)];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(t >> (56 - 8 * i));
    struct akey k = key_of(src);
    memcpy(b + 8, &k, sizeof k);
    return siphash(s->cfg.secret, b, sizeof b);
}

static void put_nonce(struct ctlsrv *s, const struct ctlsrv_req *q, struct ntk_cvar_wr *w)
{
    uint64_t t = (uint64_t)q->now_mono_ns;
    char text[40];
    struct ntk_sb sb;
    ntk_sb_init(&sb, text, sizeof text);
    ntk_sb_printf(&sb, "%016llx%016llx", (unsigned long long)t,
                  (unsigned long long)nonce_mac(s, &q->src, t));
    ntk_cvar_put_raw(w, "nonce", text, ntk_sb_len(&sb));
    s->st.nonces++;
}

static bool nonce_valid(const struct ctlsrv *s, const struct ctlsrv_req *q, struct ntk_span v)
{
    uint8_t b[16];
    if (v.len != 32 || ntk_span_hex(v, b, sizeof b) != 16)
        return false;
    uint64_t t = 0, mac = 0;
    for (int i = 0; i < 8; i++) {
        t = (t << 8) | b[i];
        mac = (mac << 8) | b[8 + i];
    }
    int64_t age = q->now_mono_ns - (int64_t)t;
    return mac == nonce_mac(s, &q->src, t) && age >= 0 &&
           age < CTLSRV_NONCE_LIFETIME_S * NS_PER_S;
}

/* Removes a first item "nonce=<v>" from the request data; a valid one proves the source. */
static void strip_nonce(struct ctlsrv *s, struct rq *r)
{
    size_t i = 0;
    while (i < r->len && (r->data[i] == ' ' || r->data[i] == '\t' || r->data[i] == '\r' ||
                          r->data[i] == '\n'))
        i++;
    if (r->len - i < 6 || memcmp(r->data + i, "nonce=", 6) != 0)
        return;
    size_t v0 = i + 6, e = v0;
    while (e < r->len && r->data[e] != ',')
        e++;
    struct ntk_span v = ntk_span_trim((struct ntk_span){r->data + v0, e - v0});
    r->data += e < r->len ? e + 1 : e;
    r->len -= e < r->len ? e + 1 : e;
    if (nonce_valid(s, r->q, v)) {
        r->nonce_ok = true;
        prove(s, &r->q->src, r->q->now_mono_ns);
    }
}

/* ---- responses ---- */

static int refuse(struct ctlsrv *s, enum ctlsrv_refuse why)
{
    s->st.refused[why]++;
    return 0;
}

static uint8_t resp_leap(const struct rq *r)
{
    const struct ctlv_src *v = r->env->vars;
    return v != NULL && v->sys != NULL ? (uint8_t)(v->sys->leap & 3) : 3;
}

static struct ntk_ctl_hdr resp_hdr(const struct rq *r, uint16_t status)
{
    return (struct ntk_ctl_hdr){.leap = resp_leap(r),
                                .version = r->m.hdr.version,
                                .response = true,
                                .opcode = r->m.hdr.opcode,
                                .sequence = r->m.hdr.sequence,
                                .status = status,
                                .associd = r->m.hdr.associd};
}

static int error_resp(struct ctlsrv *s, const struct rq *r, enum ntk_ctl_cerr code)
{
    s->err_hdr = resp_hdr(r, ntk_ctl_err_status(code));
    s->err_hdr.error = true;
    s->err_pending = true;
    s->st.errors++;
    s->remaining = 1;
    return 1;
}

/* Unsigned datagram bytes of a len-byte response: full fragments plus the last. */
static size_t wire_bytes(size_t len)
{
    size_t full = len / NTK_CTL_DATA_MAX, rem = len % NTK_CTL_DATA_MAX;
    size_t n = full * (NTK_CTL_HEADER_LEN + NTK_CTL_DATA_MAX);
    if (rem > 0 || len == 0)
        n += NTK_CTL_HEADER_LEN + ((rem + 3) & ~(size_t)3);
    return n;
}

static int data_resp(struct ctlsrv *s, struct rq *r, size_t len, uint16_t status)
{
    if (!r->full && wire_bytes(len) > r->q->len) {
        s->st.refused[CTLSRV_REF_AMPLIFY]++;
        return error_resp(s, r, NTK_CTL_CERR_PERMISSION);
    }
    struct ntk_ctl_hdr h = resp_hdr(r, status);
    if (ntk_ctl_split_init(&s->split, &h, (const uint8_t *)s->data, len, NTK_CTL_DATA_MAX) !=
        0)
        return error_resp(s, r, NTK_CTL_CERR_UNSPEC);
    s->st.responses++;
    s->remaining = len == 0 ? 1 : (int)((len + NTK_CTL_DATA_MAX - 1) / NTK_CTL_DATA_MAX);
    return s->remaining;
}

/* Ends a text response built with w over sb (s->data). */
static int text_resp(struct ctlsrv *s, struct rq *r, struct ntk_sb *sb, struct ntk_cvar_wr *w,
                     uint16_t status)
{
    if (ntk_cvar_finish(w) != 0 || ntk_sb_err(sb) != 0)
        return error_resp(s, r, NTK_CTL_CERR_UNSPEC);
    return data_resp(s, r, ntk_sb_len(sb), status);
}

static void begin_text(struct ctlsrv *s, struct ntk_sb *sb, struct ntk_cvar_wr *w)
{
    ntk_sb_init(sb, s->data, sizeof s->data);
    ntk_cvar_wr_init(w, sb);
}

/* The error code for a ctlv_sys / ctlv_peer failure. */
static enum ntk_ctl_cerr var_error(int rc)
{
    if (rc == NTK_ENOTFOUND)
        return NTK_CTL_CERR_UNKNOWNVAR;
    return rc == NTK_EFORMAT || rc == NTK_ETRUNC || rc == NTK_ERANGE ? NTK_CTL_CERR_BADFMT
                                                                     : NTK_CTL_CERR_UNSPEC;
}

static const struct snap_assoc *find_assoc(const struct rq *r)
{
    const struct ctlv_src *v = r->env->vars;
    for (size_t i = 0; v != NULL && i < v->nassocs; i++)
        if (v->assocs[i].id == r->m.hdr.associd)
            return &v->assocs[i];
    return NULL;
}

static bool has_controlkey(const struct ctlsrv *s, const struct rq *r)
{
    return r->is_signed && s->cfg.controlkey != 0 && r->keyid == s->cfg.controlkey;
}

/* ---- opcodes ---- */

static int op_unspec(struct ctlsrv *s, struct rq *r)
{
    const struct ctlv_src *v = r->env->vars;
    if (v == NULL)
        return error_resp(s, r, NTK_CTL_CERR_UNSPEC);
    if (r->m.hdr.associd == 0)
        return data_resp(s, r, 0, ctlv_sys_status(v));
    const struct snap_assoc *a = find_assoc(r);
    if (a == NULL)
        return error_resp(s, r, NTK_CTL_CERR_BADASSOC);
    return data_resp(s, r, 0, ctlv_peer_status(v, a));
}

static int peer_vars(struct ctlsrv *s, struct rq *r, const char *names, size_t len)
{
    const struct ctlv_src *v = r->env->vars;
    const struct snap_assoc *a = find_assoc(r);
    if (a == NULL)
        return error_resp(s, r, NTK_CTL_CERR_BADASSOC);
    struct ntk_sb sb;
    struct ntk_cvar_wr w;
    struct ntk_span bad;
    begin_text(s, &sb, &w);
    int rc = ctlv_peer(v, a, names, len, &w, &bad);
    if (rc != 0)
        return error_resp(s, r, var_error(rc));
    return text_resp(s, r, &sb, &w, ctlv_peer_status(v, a));
}

static int op_readstat(struct ctlsrv *s, struct rq *r)
{
    const struct ctlv_src *v = r->env->vars;
    if (v == NULL)
        return error_resp(s, r, NTK_CTL_CERR_UNSPEC);
    if (r->m.hdr.associd != 0)
        return peer_vars(s, r, "", 0);
    size_t n = 0;
    for (size_t i = 0; i < v->nassocs && n + 4 <= NTK_CTL_REASM_MAX; i++) {
        const struct snap_assoc *a = &v->assocs[i];
        if (a->id == 0 || a->id > 0xffff)
            continue;
        uint16_t st = ctlv_peer_status(v, a);
        uint8_t *p = (uint8_t *)s->data + n;
        p[0] = (uint8_t)(a->id >> 8);
        p[1] = (uint8_t)a->id;
        p[2] = (uint8_t)(st >> 8);
        p[3] = (uint8_t)st;
        n += 4;
    }
    return data_resp(s, r, n, ctlv_sys_status(v));
}

static int op_readvar(struct ctlsrv *s, struct rq *r)
{
    const struct ctlv_src *v = r->env->vars;
    if (v == NULL)
        return error_resp(s, r, NTK_CTL_CERR_UNSPEC);
    if (r->m.hdr.associd != 0)
        return peer_vars(s, r, r->data, r->len);
    struct ntk_sb sb;
    struct ntk_cvar_wr w;
    struct ntk_span bad;
    begin_text(s, &sb, &w);
    int rc = ctlv_sys(v, r->data, r->len, &w, &bad);
    if (rc != 0)
        return error_resp(s, r, var_error(rc));
    return text_resp(s, r, &sb, &w, ctlv_sys_status(v));
}

/* The refclock READCLOCK asks about: the association named, or with id 0 the system peer
 * when it is a refclock, else the first refclock (NTPsec's read_clockstatus); NULL when
 * that is not a refclock. */
static const struct snap_assoc *find_clock(const struct rq *r)
{
    const struct ctlv_src *v = r->env->vars;
    if (r->m.hdr.associd != 0) {
        const struct snap_assoc *a = find_assoc(r);
        return a != NULL && a->refclock ? a : NULL;
    }
    const struct snap_assoc *first = NULL;
    for (size_t i = 0; i < v->nassocs; i++) {
        const struct snap_assoc *a = &v->assocs[i];
        if (!a->refclock)
            continue;
        if (v->sys != NULL && a->id == v->sys->sys_peer)
            return a;
        first = first != NULL ? first : a;
    }
    return first;
}

/* READCLOCK: a refclock's clock variables (ctlv_clock) with its clock status word. */
static int op_readclock(struct ctlsrv *s, struct rq *r)
{
    const struct ctlv_src *v = r->env->vars;
    if (v == NULL)
        return error_resp(s, r, NTK_CTL_CERR_UNSPEC);
    const struct snap_assoc *a = find_clock(r);
    if (a == NULL)
        return error_resp(s, r, NTK_CTL_CERR_BADASSOC);
    struct ntk_sb sb;
    struct ntk_cvar_wr w;
    struct ntk_span bad;
    begin_text(s, &sb, &w);
    int rc = ctlv_clock(v, a, r->data, r->len, &w, &bad);
    if (rc != 0)
        return error_resp(s, r, var_error(rc));
    return text_resp(s, r, &sb, &w, ctlv_clock_status(a));
}

/* Nothing is writable: each named variable is checked to exist (UNKNOWNVAR) and refused
 * (PERMISSION) at the first one; an empty list is an empty success. */
static int op_writevar(struct ctlsrv *s, struct rq *r)
{
    if (r->q->rflags & RST_NOMODIFY) {
        s->st.refused[CTLSRV_REF_NOMODIFY]++;
        return error_resp(s, r, NTK_CTL_CERR_PERMISSION);
    }
    if (!has_controlkey(s, r)) {
        s->st.refused[CTLSRV_REF_AUTH]++;
        return error_resp(s, r, NTK_CTL_CERR_PERMISSION);
    }
    const struct ctlv_src *v = r->env->vars;
    if (r->m.hdr.associd != 0 || v == NULL)
        return error_resp(s, r, NTK_CTL_CERR_PERMISSION);
    struct ntk_cvar_it it;
    struct ntk_cvar_item item;
    ntk_cvar_init(&it, r->data, r->len);
    int rc = ntk_cvar_next(&it, &item);
    if (rc < 0)
        return error_resp(s, r, NTK_CTL_CERR_BADFMT);
    if (rc == 0)
        return data_resp(s, r, 0, ctlv_sys_status(v));
    struct ntk_sb sb;
    struct ntk_cvar_wr w;
    struct ntk_span bad;
    begin_text(s, &sb, &w);
    if (ctlv_sys(v, item.name.p, item.name.len, &w, &bad) != 0)
        return error_resp(s, r, NTK_CTL_CERR_UNKNOWNVAR);
    return error_resp(s, r, NTK_CTL_CERR_PERMISSION);
}

static int op_nonce(struct ctlsrv *s, struct rq *r)
{
    struct ntk_sb sb;
    struct ntk_cvar_wr w;
    begin_text(s, &sb, &w);
    put_nonce(s, r->q, &w);
    const struct ctlv_src *v = r->env->vars;
    return text_resp(s, r, &sb, &w, v != NULL ? ctlv_sys_status(v) : 0);
}

/* ---- READ_ORDLIST_A ---- */

static void idx_name(char *buf, size_t cap, const char *stem, size_t i)
{
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, cap);
    ntk_sb_printf(&sb, "%s.%zu", stem, i);
}

static void put_addr(struct ntk_cvar_wr *w, const char *name, const struct ntk_addr *a)
{
    char text[NTK_ADDRSTR_MAX + 8];
    struct ntk_sb sb;
    ntk_sb_init(&sb, text, sizeof text);
    ntk_addr_format_sb(a, &sb);
    ntk_cvar_put_raw(w, name, text, ntk_sb_len(&sb));
}

static void put_iface(struct ntk_cvar_wr *w, const struct ctlsrv_iface *f, size_t i)
{
    char n[NTK_CVAR_NAME_MAX];
    idx_name(n, sizeof n, "addr", i);
    put_addr(w, n, &f->addr);
    idx_name(n, sizeof n, "bcast", i);
    ntk_cvar_put_raw(w, n, "", 0);
    idx_name(n, sizeof n, "name", i);
    ntk_cvar_put_str(w, n, f->name != NULL ? f->name : "", f->name ? strlen(f->name) : 0);
    idx_name(n, sizeof n, "flags", i);
    ntk_cvar_put_hex(w, n, f->flags);
    idx_name(n, sizeof n, "en", i);
    ntk_cvar_put_u64(w, n, f->enabled ? 1 : 0);
    idx_name(n, sizeof n, "rx", i);
    ntk_cvar_put_u64(w, n, f->rx);
    idx_name(n, sizeof n, "tx", i);
    ntk_cvar_put_u64(w, n, f->tx);
    idx_name(n, sizeof n, "txerr", i);
    ntk_cvar_put_u64(w, n, f->txerr);
    idx_name(n, sizeof n, "pc", i);
    ntk_cvar_put_u64(w, n, f->peers);
    idx_name(n, sizeof n, "up", i);
    ntk_cvar_put_i64(w, n, f->uptime_s);
}

/* The flags of a rule in the order NTPsec 1.2.2 writes them (its match flags, then its access
 * flags), then the two it stores and leaves out (nomrulist, mssntp). Never written, as
 * NTPsec does not keep them: nopeer, noepeer, notrap, lowpriotrap, which do nothing. */
static const uint32_t reslist_order[] = {
    RST_NTPPORT, RST_IGNORE,  RST_NOSERVE, RST_NOTRUST, RST_NOQUERY,   RST_NOMODIFY,
    RST_LIMITED, RST_VERSION, RST_KOD,     RST_FLAKE,   RST_NOMRULIST, RST_MSSNTP,
};

static const char *flag_word(uint32_t bit)
{
    for (unsigned b = 0; b < RST_FLAG_COUNT; b++)
        if (bit == 1u << b)
            return rst_flag_name(b);
    return "";
}

static void put_rule(struct ntk_cvar_wr *w, const struct rst_rule *ru, size_t i)
{
    char n[NTK_CVAR_NAME_MAX], flags[512];
    struct ntk_addr a, mask;
    memset(&a, 0, sizeof a);
    memset(&mask, 0, sizeof mask);
    a.family = mask.family = ru->family;
    memcpy(a.ip, ru->ip, sizeof a.ip);
    for (unsigned b = 0; b < ru->prefix_len && b < 128; b++)
        mask.ip[b / 8] |= (uint8_t)(0x80u >> (b % 8));
    idx_name(n, sizeof n, "addr", i);
    put_addr(w, n, &a);
    idx_name(n, sizeof n, "mask", i);
    put_addr(w, n, &mask);
    idx_name(n, sizeof n, "hits", i);
    ntk_cvar_put_u64(w, n, ru->hits);
    struct ntk_sb sb;
    ntk_sb_init(&sb, flags, sizeof flags);
    for (size_t b = 0; b < sizeof reslist_order / sizeof reslist_order[0]; b++)
        if (ru->flags & reslist_order[b])
            ntk_sb_printf(&sb, "%s%s", ntk_sb_len(&sb) ? " " : "",
                          flag_word(reslist_order[b]));
    idx_name(n, sizeof n, "flags", i);
    ntk_cvar_put_str(w, n, flags, ntk_sb_len(&sb));
}

/* NTPsec's order of the list: IPv4 before IPv6, each by address then prefix, larger first
 * (our table is kept by prefix length for the lookup; the answer is the same). */
static int rule_cmp(const void *pa, const void *pb)
{
    const struct rst_rule *a = pa, *b = pb;
    if (a->family != b->family)
        return a->family == NTK_ADDR_V4 ? -1 : 1;
    int c = memcmp(b->ip, a->ip, sizeof a->ip);
    if (c != 0)
        return c;
    return (int)b->prefix_len - (int)a->prefix_len;
}

static void put_rules(struct ntk_cvar_wr *w, const struct rst_table *t)
{
    size_t n = t != NULL ? rst_count(t) : 0;
    struct rst_rule *all = n > 0 ? calloc(n, sizeof *all) : NULL;
    if (all == NULL)
        return; /* no rule, or no memory for the copy: an empty list */
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (rst_get(t, i, &all[k]))
            k++;
    qsort(all, k, sizeof *all, rule_cmp);
    for (size_t i = 0; i < k; i++)
        put_rule(w, &all[i], i);
    free(all);
}

static int op_ordlist(struct ctlsrv *s, struct rq *r)
{
    if (!has_controlkey(s, r)) {
        s->st.refused[CTLSRV_REF_AUTH]++;
        return error_resp(s, r, NTK_CTL_CERR_PERMISSION);
    }
    struct ntk_span which = ntk_span_trim((struct ntk_span){r->data, r->len});
    struct ntk_sb sb;
    struct ntk_cvar_wr w;
    begin_text(s, &sb, &w);
    if (which.len == 0 || ntk_span_eq(which, "ifstats")) {
        for (size_t i = 0; i < r->env->nifs; i++)
            put_iface(&w, &r->env->ifs[i], i);
    } else if (ntk_span_eq(which, "addr_restrictions")) {
        put_rules(&w, r->env->rst);
    } else {
        return error_resp(s, r, NTK_CTL_CERR_UNKNOWNVAR);
    }
    const struct ctlv_src *v = r->env->vars;
    return text_resp(s, r, &sb, &w, v != NULL ? ctlv_sys_status(v) : 0);
}

/* ---- READ_MRU ---- */

struct mru_params {
    uint64_t frags, limit, mincount, resall, resany, recent;
    struct mru_prior prior[MRU_PRIORS_MAX];
    size_t npriors;
    bool nonce_ok;
};

/* Wall-clock time of a monotonic instant. The base is kept between requests so that a
 * client's resume points (last.N) compare equal; it moves only when the wall clock has
 * stepped by more than a second against it. */
static ntk_dur ns_to_dur(int64_t ns)
{
    int64_t sec = ns / NS_PER_S, rem = ns % NS_PER_S;
    if (rem < 0) {
        sec--;
        rem += NS_PER_S;
    }
    return (ntk_dur){(int64_t)((uint64_t)sec << 32) + (rem << 32) / NS_PER_S};
}

static ntk_ts mono_to_ts(struct ctlsrv *s, const struct ctlsrv_req *q, int64_t mono)
{
    ntk_dur dd = ns_to_dur(q->now_mono_ns - s->base_mono_ns);
    ntk_dur drift = ntk_ts_diff(q->now, ntk_ts_add(s->base_ts, dd));
    if (!s->ts_base_set || drift.v > (1LL << 32) || drift.v < -(1LL << 32)) {
        s->base_ts = q->now;
        s->base_mono_ns = q->now_mono_ns;
        s->ts_base_set = true;
    }
    return ntk_ts_add(s->base_ts, ns_to_dur(mono - s->base_mono_ns));
}

/* Index N of "stem.N" (N < MRU_PRIORS_MAX), or -1. */
static int prior_index(struct ntk_span name, const char *stem)
{
    size_t n = strlen(stem);
    uint64_t idx;
    if (name.len <= n + 1 || memcmp(name.p, stem, n) != 0 || name.p[n] != '.')
        return -1;
    if (ntk_span_u64((struct ntk_span){name.p + n + 1, name.len - n - 1}, &idx,
                     MRU_PRIORS_MAX - 1) != 0)
        return -1;
    return (int)idx;
}

static int mru_param(struct ctlsrv *s, const struct rq *r, const struct ntk_cvar_item *it,
                     struct mru_params *p)
{
    static const struct {
        const char *name;
        size_t off;
    } nums[] = {
        {"frags", offsetof(struct mru_params, frags)},
        {"limit", offsetof(struct mru_params, limit)},
        {"mincount", offsetof(struct mru_params, mincount)},
        {"resall", offsetof(struct mru_params, resall)},
        {"resany", offsetof(struct mru_params, resany)},
        {"recent", offsetof(struct mru_params, recent)},
    };
    if (ntk_span_eq(it->name, "nonce")) {
        p->nonce_ok = p->nonce_ok || nonce_valid(s, r->q, it->value);
        return 0;
    }
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
        if (ntk_span_eq(it->name, nums[i].name))
            return ntk_cvar_parse_u64(it->value, (uint64_t *)((char *)p + nums[i].off),
                                      UINT32_MAX);
    int k = prior_index(it->name, "addr");
    if (k >= 0) {
        p->prior[k].have_addr = ntk_addr_parse_span(it->value, &p->prior[k].addr) == 0;
        p->npriors = p->npriors > (size_t)k + 1 ? p->npriors : (size_t)k + 1;
        return 0;
    }
    k = prior_index(it->name, "last");
    if (k >= 0) {
        p->prior[k].have_last = ntk_cvar_parse_ts(it->value, &p->prior[k].last) == 0;
        p->npriors = p->npriors > (size_t)k + 1 ? p->npriors : (size_t)k + 1;
    }
    return 0; /* laddr, maxlstint, unknown names: ignored */
}

/* Index in s->rows (newest first) of the first entry to list (the oldest wanted), or
 * (size_t)-1 with *found false when no resume point matches. */
static size_t mru_start(struct ctlsrv *s, const struct rq *r, const struct mru_params *p,
                        size_t n, bool *found)
{
    *found = true;
    if (p->npriors == 0)
        return p->recent > 0 && p->recent < n ? (size_t)p->recent - 1 : n - 1;
    for (size_t k = 0; k < p->npriors; k++) {
        const struct mru_prior *pr = &p->prior[k];
        if (!pr->have_addr || !pr->have_last)
            continue;
        struct akey want = key_of(&pr->addr);
        for (size_t j = 0; j < n; j++) {
            struct akey have = key_of(&s->rows[j].addr);
            if (key_eq(&want, &have) &&
                ntk_ts_eq(mono_to_ts(s, r->q, s->rows[j].last_mono_ns), pr->last))
                return j - 1; /* the next newer; (size_t)-1 when j is the newest */
        }
    }
    *found = false;
    return (size_t)-1;
}

static void put_entry(struct ctlsrv *s, const struct rq *r, struct ntk_cvar_wr *w,
                      const struct mru_client *c, size_t i)
{
    char n[NTK_CVAR_NAME_MAX];
    idx_name(n, sizeof n, "addr", i);
    put_addr(w, n, &c->addr);
    idx_name(n, sizeof n, "last", i);
    ntk_cvar_put_ts(w, n, mono_to_ts(s, r->q, c->last_mono_ns));
    idx_name(n, sizeof n, "first", i);
    ntk_cvar_put_ts(w, n, mono_to_ts(s, r->q, c->first_mono_ns));
    idx_name(n, sizeof n, "ct", i);
    ntk_cvar_put_u64(w, n, c->count);
    idx_name(n, sizeof n, "mv", i);
    ntk_cvar_put_u64(w, n, (uint64_t)((c->version & 7u) << 3 | (c->mode & 7u)));
    idx_name(n, sizeof n, "rs", i);
    ntk_cvar_put_hex(w, n, ctlsrv_res_bits(c->rflags));
    idx_name(n, sizeof n, "sc", i);
    ntk_cvar_put_double(w, n, c->score, 3);
    idx_name(n, sizeof n, "dr", i);
    ntk_cvar_put_u64(w, n, c->drops);
}

static bool mru_wanted(const struct mru_params *p, const struct mru_client *c)
{
    uint32_t rs = ctlsrv_res_bits(c->rflags);
    return c->count >= p->mincount && (rs & p->resall) == p->resall &&
           (p->resany == 0 || (rs & p->resany) != 0);
}

/* Lists entries from rows[start] towards the newest within the byte and row budgets;
 * returns whether the newest was reached. */
static bool mru_list_entries(struct ctlsrv *s, const struct rq *r, const struct mru_params *p,
                             size_t start, struct ntk_sb *sb, struct ntk_cvar_wr *w)
{
    size_t budget = (size_t)p->frags * NTK_CTL_DATA_MAX - MRU_TRAILER, listed = 0;
    for (size_t j = start; j != (size_t)-1; j--) {
        const struct mru_client *c = &s->rows[j];
        if (!mru_wanted(p, c))
            continue;
        if (listed == p->limit)
            return false;
        struct ntk_sb sb0 = *sb;
        struct ntk_cvar_wr w0 = *w;
        put_entry(s, r, w, c, listed);
        if (ntk_sb_len(sb) > budget || ntk_cvar_wr_err(w) != 0) {
            *sb = sb0;
            *w = w0;
            s->data[sb->len] = '\0';
            return false;
        }
        listed++;
    }
    return true;
}

static int op_read_mru(struct ctlsrv *s, struct rq *r)
{
    if (r->q->rflags & RST_NOMRULIST) {
        s->st.refused[CTLSRV_REF_NOMRULIST]++;
        return error_resp(s, r, NTK_CTL_CERR_PERMISSION);
    }
    struct mru_params p;
    memset(&p, 0, sizeof p);
    p.nonce_ok = r->nonce_ok;
    struct ntk_cvar_it it;
    struct ntk_cvar_item item;
    int rc;
    ntk_cvar_init(&it, r->data, r->len);
    while ((rc = ntk_cvar_next(&it, &item)) == 1)
        if (mru_param(s, r, &item, &p) != 0)
            return error_resp(s, r, NTK_CTL_CERR_BADVALUE);
    if (!p.nonce_ok) {
        s->st.refused[CTLSRV_REF_NONCE]++;
        return error_resp(s, r, NTK_CTL_CERR_PERMISSION);
    }
    if (rc < 0)
        return error_resp(s, r, NTK_CTL_CERR_BADFMT);
    if (p.frags > CTLSRV_MRU_FRAGS_MAX || p.limit > CTLSRV_MRU_ROWS_MAX)
        return error_resp(s, r, NTK_CTL_CERR_BADVALUE);
    p.frags = p.frags == 0 ? CTLSRV_MRU_FRAGS_MAX : p.frags;
    p.limit = p.limit == 0 ? CTLSRV_MRU_ROWS_MAX : p.limit;
    size_t n = r->env->mru != NULL ? mru_list(r->env->mru, s->rows, s->cfg.mru_rows) : 0;
    bool found;
    size_t start = n == 0 ? (size_t)-1 : mru_start(s, r, &p, n, &found);
    if (n > 0 && !found)
        return error_resp(s, r, NTK_CTL_CERR_UNKNOWNVAR);
    if (n == 0 && p.npriors > 0)
        return error_resp(s, r, NTK_CTL_CERR_UNKNOWNVAR);
    struct ntk_sb sb;
    struct ntk_cvar_wr w;
    begin_text(s, &sb, &w);
    put_nonce(s, r->q, &w);
    if (mru_list_entries(s, r, &p, start, &sb, &w)) {
        ntk_cvar_put_ts(&w, "now", mono_to_ts(s, r->q, r->q->now_mono_ns));
        ntk_cvar_put_ts(&w, "last.newest",
                        n > 0 ? mono_to_ts(s, r->q, s->rows[0].last_mono_ns) : r->q->now);
    }
    const struct ctlv_src *v = r->env->vars;
    return text_resp(s, r, &sb, &w, v != NULL ? ctlv_sys_status(v) : 0);
}

/* ---- dispatch ---- */

static int dispatch(struct ctlsrv *s, struct rq *r)
{
    switch (r->m.hdr.opcode) {
    case NTK_CTL_OP_UNSPEC:
        return op_unspec(s, r);
    case NTK_CTL_OP_READSTAT:
        return op_readstat(s, r);
    case NTK_CTL_OP_READVAR:
        return op_readvar(s, r);
    case NTK_CTL_OP_WRITEVAR:
        return op_writevar(s, r);
    case NTK_CTL_OP_READCLOCK:
        return op_readclock(s, r);
    case NTK_CTL_OP_WRITECLOCK:
        return error_resp(s, r, NTK_CTL_CERR_PERMISSION);
    case NTK_CTL_OP_CONFIGURE:
        s->st.refused[CTLSRV_REF_CONFIGURE]++;
        return error_resp(s, r, NTK_CTL_CERR_BADOP);
    case NTK_CTL_OP_READ_MRU:
        return op_read_mru(s, r);
    case NTK_CTL_OP_READ_ORDLIST_A:
        return op_ordlist(s, r);
    case NTK_CTL_OP_REQ_NONCE:
        return op_nonce(s, r);
    default:
        return error_resp(s, r, NTK_CTL_CERR_BADOP);
    }
}

/* Decodes, screens and authenticates; false when the request gets no answer at all. */
static bool admit(struct ctlsrv *s, struct rq *r)
{
    const struct ctlsrv_req *q = r->q;
    if (ntk_ctl_decode(q->buf, q->len, &r->m) != 0 || r->m.hdr.response)
        return refuse(s, CTLSRV_REF_MALFORMED), false;
    s->st.by_opcode[r->m.hdr.opcode & 31]++;
    if (q->rflags & (RST_NOQUERY | RST_IGNORE))
        return refuse(s, CTLSRV_REF_NOQUERY), false;
    if (!q->local && !rate_ok(s, &q->src, q->now_mono_ns))
        return refuse(s, CTLSRV_REF_RATE), false;
    if (r->m.has_mac && r->env->keys != NULL &&
        ntk_ctl_verify(r->env->keys, q->buf, q->len, &r->m, &r->keyid) == 0) {
        r->is_signed = true;
        s->st.signed_requests++;
    } else if (r->m.has_mac) {
        s->st.refused[CTLSRV_REF_BAD_MAC]++;
    }
    return true;
}

int ctlsrv_handle(struct ctlsrv *s, const struct ctlsrv_env *env, const struct ctlsrv_req *q)
{
    struct rq r;
    memset(&r, 0, sizeof r);
    r.env = env;
    r.q = q;
    s->remaining = 0;
    s->err_pending = false;
    s->keyid = 0;
    s->st.requests++;
    s->st.bytes_in += q->len;
    if (!admit(s, &r))
        return 0;
    r.data = (const char *)r.m.data;
    r.len = r.m.hdr.count;
    strip_nonce(s, &r);
    r.full = r.is_signed || q->local || q->opened || is_proven(s, &q->src, q->now_mono_ns);
    s->keyid = r.is_signed ? r.keyid : 0;
    return dispatch(s, &r);
}

int ctlsrv_next(struct ctlsrv *s, struct ntk_mac_keys *keys, uint8_t *out, size_t cap)
{
    if (s->remaining <= 0)
        return 0;
    int n;
    if (s->err_pending) {
        n = ntk_ctl_encode(&s->err_hdr, NULL, keys, s->keyid, out, cap);
    } else {
        n = ntk_ctl_split_next(&s->split, keys, s->keyid, out, cap);
    }
    if (n <= 0)
        return n;
    s->remaining--;
    s->st.datagrams++;
    s->st.bytes_out += (uint64_t)n;
    return n;
}

/* ---- lifetime ---- */

struct ctlsrv *ctlsrv_new(const struct ctlsrv_cfg *cfg)
{
    struct ctlsrv *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->cfg = *cfg;
    if (s->cfg.mru_rows > 0) {
        s->rows = calloc(s->cfg.mru_rows, sizeof *s->rows);
        if (s->rows == NULL) {
            free(s);
            return NULL;
        }
    }
    return s;
}

void ctlsrv_free(struct ctlsrv *s)
{
    if (s == NULL)
        return;
    free(s->rows);
    free(s);
}

void ctlsrv_set_controlkey(struct ctlsrv *s, uint32_t keyid)
{
    s->cfg.controlkey = keyid;
}

const struct ctlsrv_stats *ctlsrv_stats(const struct ctlsrv *s)
{
    return &s->st;
}

const char *ctlsrv_refuse_name(enum ctlsrv_refuse r)
{
    static const char *const names[CTLSRV_REF_COUNT] = {
        "malformed", "noquery",  "rate",      "bad_mac", "amplify",
        "auth",      "nomodify", "nomrulist", "nonce",   "configure",
    };
    return (unsigned)r < CTLSRV_REF_COUNT ? names[r] : "unknown";
}
