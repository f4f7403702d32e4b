/* SPDX-License-Identifier: BSD-2-Clause */
/* The sans-IO mode-6 client session (RFC 9327): requests, resends, MACs, the proof-of-address
 * exchange and NTPsec ntpq's mrulist paging (pylib/packet.py ControlSession.mrulist). */
#include "ntk/ctlc.h"

#include <stdint.h>
#include <string.h>

#include "ntk/ctlvars.h"
#include "ntk/err.h"
#include "ntk/sb.h"
#include "ntk/tok.h"

#include "poison.h"

/* Session states: nothing asked yet; a datagram to hand out; waiting for the response; an
 * mrulist round is over (its CHUNK was returned, or it failed in a way that goes on); ended.
 */
enum { ST_IDLE, ST_SEND, ST_WAIT, ST_NEXT, ST_FINAL };

/* What the request in flight is for. */
enum {
    K_USER,      /* the caller's request (perhaps with the proof's nonce in front) */
    K_PROOF,     /* the padded REQ_NONCE of the proof exchange */
    K_MRU_NONCE, /* mrulist: REQ_NONCE */
    K_MRU_READ,  /* mrulist: READ_MRU */
};

#define REQ_LEAP         3     /* ntpq sends LI=3 (not synchronised) */
#define MAXFRAGS         32.0  /* ntpq MAXFRAGS: most frags= it asks for */
#define MRU_ROW_LIMIT    256.0 /* ntpq ControlSession.MRU_ROW_LIMIT */
#define NONCE_TIMEOUT_MS 16000 /* NTPsec NONCE_TIMEOUT (16 s) */
#define NONCE_TRIES      4     /* ntpq fetch_nonce: REQ_NONCE requests per fetch */
#define ERROR_ROUNDS_MAX 8     /* ntpq: restarts before SERR_STALL */

/* One resume point of the latest response, while it is being analysed. */
struct found {
    uint32_t idx;         /* its K in addr.K / last.K */
    struct ntk_span addr; /* addr.K value (p NULL: none) */
    struct ntk_span last; /* last.K value (p NULL: none) */
};

/* ---- small helpers -------------------------------------------------------------------- */

static void finish(struct ntk_ctlc *c, enum ntk_ctlc_ev ev)
{
    c->final = ev;
    c->state = ST_FINAL;
}

static void fail(struct ntk_ctlc *c, int err)
{
    c->err = err;
    finish(c, NTK_CTLC_FAILED);
}

static int64_t add_ms(int64_t a, int64_t b)
{
    if (b < 0) {
        b = 0;
    }
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

static bool span_is(struct ntk_span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.p, lit, n) == 0;
}

static size_t digits(size_t v)
{
    size_t n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

static double min_d(double a, double b)
{
    return a < b ? a : b;
}

static double max_d(double a, double b)
{
    return a > b ? a : b;
}

/* ---- sending -------------------------------------------------------------------------- */

/* Encodes a new request (next sequence number) and makes it the one in flight. */
static void send_new(struct ntk_ctlc *c, int kind, uint8_t opcode, uint16_t associd,
                     const char *data, size_t len)
{
    struct ntk_ctl_hdr h = {
        .leap = REQ_LEAP,
        .version = NTK_CTL_VERSION,
        .opcode = opcode,
        .sequence = c->next_sequence,
        .associd = associd,
        .count = (uint16_t)len,
    };
    int n = ntk_ctl_encode(&h, (const uint8_t *)data, c->cfg.keys, c->cfg.keyid, c->out,
                           sizeof c->out);
    if (n < 0) {
        fail(c, n);
        return;
    }
    c->next_sequence++;
    c->kind = kind;
    c->opcode = opcode;
    c->associd = associd;
    c->sequence = h.sequence;
    c->out_len = (size_t)n;
    c->attempts = 0;
    c->bad_mac = false;
    c->reasm_err = 0;
    c->state = ST_SEND;
}

/* A REQ_NONCE, padded with spaces when it must prove the address. */
static void send_nonce(struct ntk_ctlc *c, int kind, bool pad)
{
    char spaces[NTK_CTLC_NONCE_PAD];
    memset(spaces, ' ', sizeof spaces);
    send_new(c, kind, NTK_CTL_OP_REQ_NONCE, 0, spaces, pad ? sizeof spaces : 0);
}

/* ---- nonces --------------------------------------------------------------------------- */

/* Keeps a nonce value if it is usable (unquoted, 1..NTK_CTLC_NONCE_MAX bytes). */
static int keep_nonce(struct ntk_ctlc *c, const struct ntk_cvar_item *it)
{
    if (!it->has_value || it->quoted || it->value.len == 0 ||
        it->value.len > NTK_CTLC_NONCE_MAX) {
        return NTK_EFORMAT;
    }
    memcpy(c->nonce, it->value.p, it->value.len);
    c->nonce[it->value.len] = '\0';
    c->nonce_len = it->value.len;
    return NTK_OK;
}

/* Takes the nonce of a REQ_NONCE answer: it must start with "nonce=" (ntpq fetch_nonce). */
static int take_nonce(struct ntk_ctlc *c)
{
    const char *d = (const char *)c->buf;
    struct ntk_cvar_item it;
    if (c->data_len < 6 || memcmp(d, "nonce=", 6) != 0 ||
        ntk_cvar_find(d, c->data_len, "nonce", &it) != NTK_OK) {
        return NTK_EFORMAT;
    }
    return keep_nonce(c, &it);
}

/* ---- mrulist requests ----------------------------------------------------------------- */

/* Length of ", addr.<i>=<addr>, last.<i>=<last>" (ntpq generate_mru_lastseen's incr). */
static size_t point_len(size_t i, size_t addr_len, size_t last_len)
{
    return 16 + 2 * digits(i) + addr_len + last_len;
}

/* Appends resume points while the data stays under 468 bytes, stopping at the first that
 * does not fit (ntpq: `>= CTL_MAX_DATA_LEN` then break). */
static void add_resume(const struct ntk_ctlc *c, struct ntk_sb *sb)
{
    for (size_t i = 0; i < c->nresume; i++) {
        const struct ntk_ctlc_point *pt = &c->resume[i];
        if (ntk_sb_len(sb) + point_len(i, pt->addr_len, pt->last_len) >= NTK_CTL_DATA_MAX) {
            break;
        }
        ntk_sb_printf(sb, ", addr.%zu=", i);
        ntk_sb_putn(sb, c->resume_text + pt->addr_off, pt->addr_len);
        ntk_sb_printf(sb, ", last.%zu=", i);
        ntk_sb_putn(sb, c->resume_text + pt->last_off, pt->last_len);
    }
}

/* READ_MRU "nonce=N, frags=F[, params][, addr.0=.., last.0=..]..." (ntpq mrulist). */
static void send_read(struct ntk_ctlc *c)
{
    char d[NTK_CTL_DATA_MAX + 1];
    struct ntk_sb sb;
    ntk_sb_init(&sb, d, sizeof d);
    ntk_sb_puts(&sb, "nonce=");
    ntk_sb_putn(&sb, c->nonce, c->nonce_len);
    /* ntpq keeps frags and limit as Python floats and prints them with "%d". */
    double v = c->use_limit ? c->limit : c->frags;
    ntk_sb_printf(&sb, ", %s=%u", c->use_limit ? "limit" : "frags", (unsigned)v);
    const char *params = c->first_read ? c->params : c->later;
    size_t plen = c->first_read ? c->params_len : c->later_len;
    if (plen > 0) {
        ntk_sb_puts(&sb, ", ");
        ntk_sb_putn(&sb, params, plen);
    }
    c->first_read = false;
    add_resume(c, &sb);
    if (ntk_sb_err(&sb) != NTK_OK || ntk_sb_len(&sb) > NTK_CTL_DATA_MAX) {
        fail(c, NTK_ENOSPC);
        return;
    }
    send_new(c, K_MRU_READ, NTK_CTL_OP_READ_MRU, 0, d, ntk_sb_len(&sb));
}

static void fetch_nonce(struct ntk_ctlc *c)
{
    c->nonce_tries = 0;
    send_nonce(c, K_MRU_NONCE, c->pad_nonce);
}

/* After an mrulist round: the end, a new nonce, or the next READ_MRU. */
static void next_round(struct ntk_ctlc *c, int64_t now_ms)
{
    if (c->complete) {
        c->data_len = 0;
        finish(c, NTK_CTLC_DONE);
        return;
    }
    bool stale =
        now_ms >= INT64_MIN + NONCE_TIMEOUT_MS && now_ms - NONCE_TIMEOUT_MS >= c->nonce_ms;
    if (c->need_nonce || stale) {
        fetch_nonce(c);
        return;
    }
    send_read(c);
}

/* ---- mrulist responses ---------------------------------------------------------------- */

/* Parses "<prefix><decimal>" (at most 9 digits) into *idx. */
static bool parse_index(struct ntk_span name, const char *prefix, uint32_t *idx)
{
    size_t n = strlen(prefix);
    if (name.len <= n || name.len > n + 9 || memcmp(name.p, prefix, n) != 0) {
        return false;
    }
    uint32_t v = 0;
    for (size_t i = n; i < name.len; i++) {
        if (name.p[i] < '0' || name.p[i] > '9') {
            return false;
        }
        v = v * 10 + (uint32_t)(name.p[i] - '0');
    }
    *idx = v;
    return true;
}

/* Inserts idx into the descending list of the highest distinct indices. */
static void insert_top(struct found *top, size_t *n, uint32_t idx)
{
    size_t i = 0;
    while (i < *n && top[i].idx > idx) {
        i++;
    }
    if (i == NTK_CTLC_RESUME_MAX || (i < *n && top[i].idx == idx)) {
        return;
    }
    size_t keep = *n < NTK_CTLC_RESUME_MAX ? *n : NTK_CTLC_RESUME_MAX - 1;
    memmove(&top[i + 1], &top[i], (keep - i) * sizeof top[0]);
    top[i] = (struct found){.idx = idx};
    *n = keep + 1;
}

static struct found *find_top(struct found *top, size_t n, uint32_t idx)
{
    for (size_t i = 0; i < n; i++) {
        if (top[i].idx == idx) {
            return &top[i];
        }
    }
    return NULL;
}

static struct ntk_span value_of(const struct ntk_cvar_item *it)
{
    return it->has_value ? it->value : (struct ntk_span){.p = "", .len = 0};
}

/* First pass: the nonce, the end marker and the highest entry indices. */
static void scan_items(struct ntk_ctlc *c, struct found *top, size_t *ntop)
{
    struct ntk_cvar_it it;
    struct ntk_cvar_item item;
    ntk_cvar_init(&it, (const char *)c->buf, c->data_len);
    while (ntk_cvar_next(&it, &item) == 1) {
        uint32_t idx;
        if (span_is(item.name, "nonce")) {
            (void)keep_nonce(c, &item); /* the last usable one wins, as in ntpq's dict */
        } else if (span_is(item.name, "now")) {
            c->complete = true;
        } else if (parse_index(item.name, "addr.", &idx)) {
            insert_top(top, ntop, idx);
        }
    }
}

/* Second pass: the addr.K and last.K values of those indices (the last one wins). */
static void collect_points(const struct ntk_ctlc *c, struct found *top, size_t ntop)
{
    struct ntk_cvar_it it;
    struct ntk_cvar_item item;
    ntk_cvar_init(&it, (const char *)c->buf, c->data_len);
    while (ntk_cvar_next(&it, &item) == 1) {
        uint32_t idx;
        struct found *f;
        if (parse_index(item.name, "addr.", &idx) && (f = find_top(top, ntop, idx))) {
            f->addr = value_of(&item);
        } else if (parse_index(item.name, "last.", &idx) && (f = find_top(top, ntop, idx))) {
            f->last = value_of(&item);
        }
    }
}

/* The new resume list under construction. */
struct points {
    struct ntk_ctlc_point pt[NTK_CTLC_RESUME_MAX];
    size_t n;
    char text[NTK_CTL_DATA_MAX];
    size_t text_len;
    size_t total; /* sum of point_len: a point is kept only while this stays < 468 */
};

/* Appends a point; false once no further point could ever be sent. */
static bool push_point(struct points *ps, const char *addr, size_t alen, const char *last,
                       size_t llen)
{
    if (ps->n == NTK_CTLC_RESUME_MAX) {
        return false;
    }
    size_t len = point_len(ps->n, alen, llen);
    if (ps->total + len >= NTK_CTL_DATA_MAX) {
        return false;
    }
    struct ntk_ctlc_point *pt = &ps->pt[ps->n++];
    pt->addr_off = (uint16_t)ps->text_len;
    pt->addr_len = (uint16_t)alen;
    memcpy(ps->text + ps->text_len, addr, alen);
    ps->text_len += alen;
    pt->last_off = (uint16_t)ps->text_len;
    pt->last_len = (uint16_t)llen;
    memcpy(ps->text + ps->text_len, last, llen);
    ps->text_len += llen;
    ps->total += len;
    return true;
}

/* The newest entries first: this response's from the highest index down, then the points
 * kept from earlier responses (ntpq walks its whole span from its newest entry). */
static void update_resume(struct ntk_ctlc *c, const struct found *top, size_t ntop)
{
    struct points ps;
    ps.n = ps.text_len = ps.total = 0;
    bool room = true;
    for (size_t i = 0; i < ntop && room; i++) {
        if (top[i].addr.p != NULL && top[i].last.p != NULL) {
            room = push_point(&ps, top[i].addr.p, top[i].addr.len, top[i].last.p,
                              top[i].last.len);
        }
    }
    for (size_t i = 0; i < c->nresume && room; i++) {
        const struct ntk_ctlc_point *pt = &c->resume[i];
        room = push_point(&ps, c->resume_text + pt->addr_off, pt->addr_len,
                          c->resume_text + pt->last_off, pt->last_len);
    }
    memcpy(c->resume, ps.pt, ps.n * sizeof ps.pt[0]);
    memcpy(c->resume_text, ps.text, ps.text_len);
    c->nresume = ps.n;
}

/* ntpq: after a good round that did not end the list, ask for a little more next time. */
static void grow(struct ntk_ctlc *c)
{
    if (!c->use_limit) {
        c->frags = min_d(MAXFRAGS, c->frags + 1);
    } else {
        double up = max_d(c->limit + 1, c->limit * 33 / 32);
        c->limit = min_d(min_d(3 * MAXFRAGS, c->row_limit), up);
    }
}

static void on_mru_read(struct ntk_ctlc *c)
{
    struct found top[NTK_CTLC_RESUME_MAX];
    size_t ntop = 0;
    scan_items(c, top, &ntop);
    collect_points(c, top, ntop);
    update_resume(c, top, ntop);
    if (!c->complete) {
        grow(c);
    }
    c->state = ST_NEXT;
}

static void on_mru_nonce(struct ntk_ctlc *c, int64_t now_ms)
{
    c->nonce_ms = now_ms; /* ntpq: nonce_xmit, set whatever the answer */
    if (take_nonce(c) == NTK_OK) {
        c->need_nonce = false;
        send_read(c);
        return;
    }
    if (++c->nonce_tries >= NONCE_TRIES) {
        fail(c, NTK_EFORMAT);
        return;
    }
    send_nonce(c, K_MRU_NONCE, c->pad_nonce);
}

/* ntpq __mru_query_error after a READ_MRU timed out: ask for half as much (not below 2). */
static bool shrink(struct ntk_ctlc *c)
{
    double *v = c->use_limit ? &c->limit : &c->frags;
    if (*v <= 2) {
        return false;
    }
    *v = max_d(2, *v / 2);
    return true;
}

/* ntpq __mru_query_error for the errors it goes on after; false for the others. */
static bool mru_error(struct ntk_ctlc *c, uint8_t code)
{
    if ((code != NTK_CTL_CERR_BADVALUE && code != NTK_CTL_CERR_UNKNOWNVAR) ||
        c->error_rounds >= ERROR_ROUNDS_MAX) {
        return false;
    }
    c->error_rounds++;
    if (code == NTK_CTL_CERR_UNKNOWNVAR) {
        c->nresume = 0; /* no resume point matched: read the list again from its start */
    } else if (!c->use_limit) {
        c->use_limit = true;
    } else {
        c->row_limit -= 1;
        c->limit = min_d(c->limit, c->row_limit);
    }
    c->state = ST_NEXT;
    return true;
}

/* ---- the proof of address ------------------------------------------------------------- */

static bool may_prove(const struct ntk_ctlc *c)
{
    if (!c->cfg.prove || c->cfg.keyid != 0 || c->proving) {
        return false;
    }
    return (c->kind == K_USER && c->user_opcode != NTK_CTL_OP_READ_MRU) ||
           c->kind == K_MRU_NONCE;
}

static void start_proof(struct ntk_ctlc *c)
{
    c->proving = true;
    if (c->kind == K_MRU_NONCE) {
        c->pad_nonce = true;
        send_nonce(c, K_MRU_NONCE, true);
    } else {
        send_nonce(c, K_PROOF, true);
    }
}

/* The padded REQ_NONCE was answered: send the caller's request with the nonce in front. */
static void on_proof_nonce(struct ntk_ctlc *c)
{
    if (c->user_opcode == NTK_CTL_OP_REQ_NONCE) {
        finish(c, NTK_CTLC_DONE);
        return;
    }
    if (take_nonce(c) != NTK_OK) {
        fail(c, NTK_EFORMAT);
        return;
    }
    char d[NTK_CTL_DATA_MAX + 1];
    struct ntk_sb sb;
    ntk_sb_init(&sb, d, sizeof d);
    ntk_sb_puts(&sb, "nonce=");
    ntk_sb_putn(&sb, c->nonce, c->nonce_len);
    ntk_sb_puts(&sb, ", ");
    ntk_sb_putn(&sb, c->req, c->req_len);
    if (ntk_sb_err(&sb) != NTK_OK || ntk_sb_len(&sb) > NTK_CTL_DATA_MAX) {
        fail(c, NTK_ENOSPC);
        return;
    }
    send_new(c, K_USER, c->user_opcode, c->user_associd, d, ntk_sb_len(&sb));
}

/* ---- responses and timeouts ----------------------------------------------------------- */

static void on_error(struct ntk_ctlc *c, uint8_t code)
{
    c->cerr = code;
    if (code == NTK_CTL_CERR_PERMISSION && may_prove(c)) {
        start_proof(c);
        return;
    }
    if (c->kind == K_MRU_READ && mru_error(c, code)) {
        return;
    }
    finish(c, NTK_CTLC_REFUSED);
}

/* The reassembly is complete. Returns true when an mrulist CHUNK is ready. */
static bool on_response(struct ntk_ctlc *c, int64_t now_ms)
{
    int code = ntk_ctl_reasm_error(&c->reasm);
    if (code >= 0) {
        on_error(c, (uint8_t)code);
        return false;
    }
    size_t n = 0;
    (void)ntk_ctl_reasm_data(&c->reasm, &n);
    c->buf[n] = 0;
    c->data_len = n;
    c->status = c->reasm.status;
    switch (c->kind) {
    case K_USER:
        finish(c, NTK_CTLC_DONE);
        return false;
    case K_PROOF:
        on_proof_nonce(c);
        return false;
    case K_MRU_NONCE:
        on_mru_nonce(c, now_ms);
        return false;
    default:
        on_mru_read(c);
        return true;
    }
}

static void on_timeout(struct ntk_ctlc *c)
{
    if (c->attempts <= c->cfg.retries) {
        c->state = ST_SEND; /* the same datagram, the same sequence */
        return;
    }
    if (c->bad_mac) {
        fail(c, NTK_EAUTH);
    } else if (c->reasm_err != 0) {
        fail(c, c->reasm_err);
    } else if (c->kind == K_MRU_READ && shrink(c)) {
        c->need_nonce = true; /* NTPsec drops a request with a stale nonce silently */
        c->state = ST_NEXT;
    } else {
        finish(c, NTK_CTLC_TIMEOUT);
    }
}

/* ---- public API ----------------------------------------------------------------------- */

void ntk_ctlc_init(struct ntk_ctlc *c, const struct ntk_ctlc_cfg *cfg)
{
    memset(c, 0, sizeof *c);
    c->cfg = *cfg;
    c->next_sequence = cfg->first_sequence;
    c->state = ST_IDLE;
}

static int check_start(const struct ntk_ctlc *c, uint8_t opcode)
{
    if (opcode > 31 || (c->state != ST_IDLE && c->state != ST_FINAL)) {
        return NTK_EINVAL;
    }
    if (c->cfg.keyid != 0 &&
        (c->cfg.keys == NULL ||
         ntk_mac_keys_lookup(c->cfg.keys, c->cfg.keyid, NULL) != NTK_OK)) {
        return NTK_EINVAL;
    }
    return NTK_OK;
}

/* Clears what one request or transaction leaves behind. */
static void begin(struct ntk_ctlc *c, bool mru, uint8_t opcode, uint16_t associd)
{
    c->mru = mru;
    c->user_opcode = opcode;
    c->user_associd = associd;
    c->proving = c->pad_nonce = false;
    c->err = 0;
    c->cerr = 0;
    c->status = 0;
    c->data_len = 0;
    c->buf[0] = 0;
}

int ntk_ctlc_request(struct ntk_ctlc *c, uint8_t opcode, uint16_t associd, const char *data,
                     size_t len)
{
    int rc = check_start(c, opcode);
    if (rc != NTK_OK) {
        return rc;
    }
    if (len > NTK_CTLC_REQ_MAX || (len > 0 && data == NULL)) {
        return NTK_EINVAL;
    }
    begin(c, false, opcode, associd);
    if (len > 0) {
        memcpy(c->req, data, len);
    }
    c->req[len] = '\0';
    c->req_len = len;
    send_new(c, K_USER, opcode, associd, c->req, len);
    return NTK_OK;
}

/* Writes params without their "recent=" item into c->later, ntpq's parms. */
static int split_params(struct ntk_ctlc *c)
{
    struct ntk_cvar_it it;
    struct ntk_cvar_item item;
    struct ntk_sb sb;
    int rc;
    ntk_sb_init(&sb, c->later, sizeof c->later);
    ntk_cvar_init(&it, c->params, c->params_len);
    while ((rc = ntk_cvar_next(&it, &item)) == 1) {
        if (span_is(item.name, "recent")) {
            continue;
        }
        ntk_sb_puts(&sb, ntk_sb_len(&sb) > 0 ? ", " : "");
        ntk_sb_putn(&sb, item.name.p, item.name.len);
        if (item.has_value) {
            ntk_sb_puts(&sb, item.quoted ? "=\"" : "=");
            ntk_sb_putn(&sb, item.value.p, item.value.len);
            ntk_sb_puts(&sb, item.quoted ? "\"" : "");
        }
    }
    c->later_len = ntk_sb_len(&sb);
    return rc < 0 || ntk_sb_err(&sb) != NTK_OK ? NTK_EINVAL : NTK_OK;
}

int ntk_ctlc_mrulist(struct ntk_ctlc *c, const char *params, size_t len, unsigned frags)
{
    int rc = check_start(c, NTK_CTL_OP_READ_MRU);
    if (rc != NTK_OK) {
        return rc;
    }
    if (len > NTK_CTLC_PARAMS_MAX || (len > 0 && params == NULL) || frags > UINT16_MAX) {
        return NTK_EINVAL;
    }
    if (len > 0) {
        memcpy(c->params, params, len);
    }
    c->params[len] = '\0';
    c->params_len = len;
    if (split_params(c) != NTK_OK) {
        return NTK_EINVAL;
    }
    begin(c, true, NTK_CTL_OP_READ_MRU, 0);
    c->frags = frags;
    c->row_limit = MRU_ROW_LIMIT;
    c->limit = min_d(3 * MAXFRAGS, c->row_limit);
    c->use_limit = false;
    c->error_rounds = 0;
    c->nresume = 0;
    c->nonce_len = 0;
    c->first_read = true;
    c->need_nonce = true;
    c->complete = false;
    c->state = ST_NEXT;
    return NTK_OK;
}

enum ntk_ctlc_ev ntk_ctlc_step(struct ntk_ctlc *c, int64_t now_ms, uint8_t *out, size_t cap,
                               size_t *len)
{
    for (;;) {
        switch (c->state) {
        case ST_IDLE:
            c->err = NTK_EINVAL;
            return NTK_CTLC_FAILED;
        case ST_FINAL:
            return c->final;
        case ST_NEXT:
            next_round(c, now_ms);
            break;
        case ST_SEND:
            if (out == NULL || len == NULL || cap < c->out_len) {
                fail(c, NTK_ENOSPC);
                break;
            }
            memcpy(out, c->out, c->out_len);
            *len = c->out_len;
            c->attempts++;
            c->deadline_ms = add_ms(now_ms, c->cfg.timeout_ms);
            ntk_ctl_reasm_init(&c->reasm, c->buf, NTK_CTL_REASM_MAX, c->opcode, c->sequence);
            c->state = ST_WAIT;
            return NTK_CTLC_SEND;
        default: /* ST_WAIT */
            if (ntk_ctl_reasm_done(&c->reasm)) {
                if (on_response(c, now_ms)) {
                    return NTK_CTLC_CHUNK;
                }
            } else if (now_ms < c->deadline_ms) {
                return NTK_CTLC_WAIT;
            } else {
                on_timeout(c);
            }
            break;
        }
    }
}

int64_t ntk_ctlc_deadline(const struct ntk_ctlc *c)
{
    return c->state == ST_WAIT ? c->deadline_ms : INT64_MAX;
}

int ntk_ctlc_feed(struct ntk_ctlc *c, const uint8_t *p, size_t len)
{
    struct ntk_ctl_msg m;
    int rc = ntk_ctl_decode(p, len, &m);
    if (rc != NTK_OK) {
        return rc;
    }
    if (c->state != ST_WAIT || ntk_ctl_reasm_done(&c->reasm) || !m.hdr.response ||
        m.hdr.opcode != c->opcode || m.hdr.sequence != c->sequence) {
        return NTK_ENOTFOUND;
    }
    if (c->cfg.keyid != 0) {
        rc = ntk_ctl_verify(c->cfg.keys, p, len, &m, NULL);
        if (rc != NTK_OK) {
            c->bad_mac = true;
            return rc == NTK_ECRYPTO ? rc : NTK_EAUTH;
        }
    }
    rc = ntk_ctl_reasm_feed(&c->reasm, &m);
    if (rc < 0) {
        if (rc != NTK_ENOTFOUND && c->reasm_err == 0) {
            c->reasm_err = rc;
        }
        return rc;
    }
    return NTK_OK;
}

const char *ntk_ctlc_data(const struct ntk_ctlc *c, size_t *len)
{
    bool ready = c->state == ST_NEXT || (c->state == ST_FINAL && c->final == NTK_CTLC_DONE);
    if (!ready || c->data_len == 0) {
        *len = 0;
        return "";
    }
    *len = c->data_len;
    return (const char *)c->buf;
}

uint16_t ntk_ctlc_status(const struct ntk_ctlc *c)
{
    return c->status;
}

uint8_t ntk_ctlc_cerr(const struct ntk_ctlc *c)
{
    return c->cerr;
}

int ntk_ctlc_err(const struct ntk_ctlc *c)
{
    return c->err;
}
