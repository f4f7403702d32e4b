/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpmon's model: view state, keys, offset history, sorting, filtering, the layout of every
 * screen into text lines with attribute classes, escaping of wire text, sparklines, JSON. */
#include "mon_model.h"

#include <ctype.h>
#include <stdarg.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_json.h"
#include "ntk/ntime.h"
#include "ntk/sb.h"

#include "poison.h"

#define WARN_OFFSET_S  0.010 /* |offset| at or over this: WARN */
#define BAD_OFFSET_S   0.128 /* ... over the step threshold (RFC 5905 STEPT): BAD */
#define SPARK_MIN      8     /* narrowest sparkline column worth drawing */
#define SPARK_MAX      32    /* widest */
#define PAGE_ROWS      10    /* PgUp / PgDn move the selection this far */
#define CELL_BUF       512   /* one formatted field */
#define RETRY_DOWN_S   5.0   /* fetch interval while a host does not answer */
#define RETRY_REFUSE_S 10.0  /* ... while it refuses */

/* snprintf through ntk_sb: bounded, truncation expected (fields are clipped anyway). */
static void fmt(char *buf, size_t cap, const char *f, ...)
    __attribute__((format(printf, 3, 4)));
static void fmt(char *buf, size_t cap, const char *f, ...)
{
    struct ntk_sb sb;
    va_list ap;
    ntk_sb_init(&sb, buf, cap);
    va_start(ap, f);
    ntk_sb_vprintf(&sb, f, ap);
    va_end(ap);
}

/* ---- text: escaping, cells ---- */

/* Length of the valid, printable UTF-8 sequence at s (0: invalid or not to be shown). */
static size_t utf8_ok(const unsigned char *s, uint32_t *cp_out)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t cp, min;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2, cp = c & 0x1fu, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3, cp = c & 0x0fu, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, cp = c & 0x07u, min = 0x10000;
    } else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    /* C1 controls, zero-width and bidirectional controls could reorder or hide what the
     * terminal shows: they are escaped like C0 controls. */
    if (cp < 0xa0 || cp == 0xad || (cp >= 0x200b && cp <= 0x200f) ||
        (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff ||
        (cp >= 0x0300 && cp <= 0x036f) || (cp >= 0xfff9 && cp <= 0xfffb))
        return 0;
    *cp_out = cp;
    return n;
}

const char *mon_escape(const char *src, bool utf8, char *dst, size_t cap)
{
    if (cap == 0)
        return dst;
    size_t o = 0;
    const unsigned char *s = (const unsigned char *)(src ? src : "");
    while (*s) {
        uint32_t cp;
        size_t n = utf8 && *s >= 0x80 ? utf8_ok(s, &cp) : 0;
        if (n > 0) {
            if (o + n >= cap)
                break;
            memcpy(dst + o, s, n);
            o += n, s += n;
            continue;
        }
        if (o + 1 >= cap)
            break;
        dst[o++] = (*s >= 0x20 && *s < 0x7f) ? (char)*s : '?';
        s++;
    }
    dst[o] = '\0';
    return dst;
}

/* Cells code point cp takes (East Asian wide and emoji ranges: 2). */
static int cp_cells(uint32_t cp)
{
    return (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
                   (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
                   (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
                   (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) ||
                   (cp >= 0x1f900 && cp <= 0x1f9ff) || (cp >= 0x20000 && cp <= 0x3fffd)
               ? 2
               : 1;
}

/* Bytes and cells of the character at s (escaped text: invalid bytes count as one cell). */
static size_t next_char(const char *s, int *cells)
{
    uint32_t cp = 0;
    size_t n = (unsigned char)*s >= 0x80 ? utf8_ok((const unsigned char *)s, &cp) : 0;
    if (n == 0) {
        *cells = 1;
        return 1;
    }
    *cells = cp_cells(cp);
    return n;
}

/* Display cells of escaped text s. */
static int text_cells(const char *s)
{
    int total = 0, c;
    while (*s) {
        s += next_char(s, &c);
        total += c;
    }
    return total;
}

/* ---- frame lines ---- */

struct lb {
    struct mon_line *l;
    int width, col;
    size_t len;
    bool full; /* an lb_try failed: later ones are refused too (fields keep their order) */
};

static void lb_start(struct lb *b, struct mon_line *l, int width)
{
    b->l = l, b->width = width, b->col = 0, b->len = 0, b->full = false;
    l->text[0] = '\0';
    l->nseg = 0;
}

static void lb_seg(struct lb *b, int col, int len, int attr)
{
    struct mon_line *l = b->l;
    if (len <= 0)
        return;
    struct mon_seg *last = l->nseg ? &l->seg[l->nseg - 1] : NULL;
    if (last && last->attr == attr && last->col + last->len == col) {
        last->len = (uint16_t)(last->len + len);
        return;
    }
    if (l->nseg == MON_SEGS_MAX) {
        last->len = (uint16_t)(col + len - last->col);
        return;
    }
    l->seg[l->nseg++] = (struct mon_seg){(uint16_t)col, (uint16_t)len, (uint8_t)attr};
}

/* Appends escaped text, clipped at the line's width (never half a character). */
static void lb_put(struct lb *b, const char *s, int attr)
{
    int start = b->col, c;
    while (*s) {
        size_t n = next_char(s, &c);
        if (b->col + c > b->width || b->len + n >= MON_LINE_MAX)
            break;
        memcpy(b->l->text + b->len, s, n);
        b->len += n, b->col += c, s += n;
    }
    b->l->text[b->len] = '\0';
    lb_seg(b, start, b->col - start, attr);
}

static void lb_spaces(struct lb *b, int n, int attr)
{
    static const char sp[] =
        "                                                                ";
    while (n > 0 && b->col < b->width) {
        int k = n < 64 ? n : 64;
        lb_put(b, sp + 64 - k, attr);
        n -= k;
    }
}

/* Appends s in exactly w cells: truncated, or padded (right: on the left). */
static void lb_field(struct lb *b, const char *s, int w, bool right, int attr)
{
    char buf[CELL_BUF];
    size_t o = 0;
    int cells = 0, c;
    while (o < sizeof buf - 5 && s[o]) {
        size_t n = next_char(s + o, &c);
        if (cells + c > w)
            break;
        cells += c, o += n;
    }
    memcpy(buf, s, o);
    buf[o] = '\0';
    if (right)
        lb_spaces(b, w - cells, attr);
    lb_put(b, buf, attr);
    if (!right)
        lb_spaces(b, w - cells, attr);
}

/* Appends s only if all of it fits (header fields and key bar items are never cut). */
static bool lb_try(struct lb *b, const char *s, int attr)
{
    if (b->full || b->col + text_cells(s) > b->width) {
        b->full = true;
        return false;
    }
    lb_put(b, s, attr);
    return true;
}

static void lb_fill(struct lb *b, int attr)
{
    lb_spaces(b, b->width - b->col, attr);
}

/* ---- model state ---- */

void mon_model_init(struct mon_model *m, const char *const *hosts, size_t n)
{
    memset(m, 0, sizeof *m);
    m->n_hosts = n > MON_HOSTS_MAX ? MON_HOSTS_MAX : n;
    for (size_t i = 0; i < m->n_hosts; i++) {
        struct mon_host *h = &m->hosts[i];
        size_t l = strlen(hosts[i]);
        l = l < sizeof h->name - 1 ? l : sizeof h->name - 1;
        memcpy(h->name, hosts[i], l);
        h->name[l] = '\0';
        h->state = MON_HOST_WAITING;
        m6_snap_init(&h->snap);
    }
    m->v.mode = MON_PEERS;
    m->v.sort = MON_COL_COUNT;
    m->v.color = true;
    m->utf8 = false;
}

static bool is_refusal(const char *e)
{
    return strncmp(e, "refused:", 8) == 0 || strstr(e, "error code") != NULL;
}

static struct mon_hist *hist_slot(struct mon_host *h, uint16_t associd, bool make)
{
    struct mon_hist *free_slot = NULL;
    for (size_t i = 0; i < M6_PEERS_MAX; i++) {
        if (h->hist[i].associd == associd)
            return &h->hist[i];
        if (h->hist[i].associd == 0 && free_slot == NULL)
            free_slot = &h->hist[i];
    }
    if (!make || free_slot == NULL)
        return NULL;
    memset(free_slot, 0, sizeof *free_slot);
    free_slot->associd = associd;
    return free_slot;
}

static void hist_update(struct mon_host *h)
{
    /* Forget sources that went away, so their slots can be reused. */
    for (size_t i = 0; i < M6_PEERS_MAX; i++) {
        bool found = false;
        for (size_t j = 0; j < h->snap.n_peers && !found; j++)
            found = h->snap.peers[j].associd == h->hist[i].associd;
        if (!found)
            h->hist[i].associd = 0;
    }
    for (size_t j = 0; j < h->snap.n_peers; j++) {
        const struct m6_peer *p = &h->snap.peers[j];
        if (p->associd == 0 || p->rec_unix_s <= 0 || !isfinite(p->offset_s))
            continue;
        struct mon_hist *s = hist_slot(h, p->associd, true);
        if (s == NULL || s->last_rec_unix_s == p->rec_unix_s)
            continue; /* one sample per poll (a new rec), not one per refresh */
        s->last_rec_unix_s = p->rec_unix_s;
        s->offset_s[s->head] = p->offset_s;
        s->head = (s->head + 1) % MON_HIST;
        if (s->n < MON_HIST)
            s->n++;
    }
}

static size_t visible_rows(const struct mon_model *m, const struct mon_host *h, double now,
                           int *idx);

static void clamp_selection(struct mon_model *m)
{
    int idx[M6_PEERS_MAX];
    int n = (int)visible_rows(m, &m->hosts[m->v.host], 0, idx);
    if (m->v.selected >= n)
        m->v.selected = n - 1;
    if (m->v.selected < 0)
        m->v.selected = 0;
}

/* Takes snapshot s, except that when its association list could not be read (a lost
 * READSTAT: the system variables came) the list shown so far stays, under a banner: a
 * daemon that has sources is never shown as one without. */
static void keep_peers(struct mon_host *x, const struct m6_snap *s)
{
    static struct m6_peer old[M6_PEERS_MAX];
    size_t n = x->snap.n_peers;
    bool keep = s->peers_error[0] != '\0' && s->n_peers == 0 && n > 0;
    if (keep)
        memcpy(old, x->snap.peers, n * sizeof old[0]);
    x->snap = *s;
    if (keep) {
        memcpy(x->snap.peers, old, n * sizeof old[0]);
        x->snap.n_peers = n;
    }
    x->peers_kept = keep;
}

void mon_model_snapshot(struct mon_model *m, size_t h, const struct m6_snap *s,
                        double now_unix_s)
{
    if (h >= m->n_hosts)
        return;
    struct mon_host *x = &m->hosts[h];
    enum mon_host_state st;
    if (s->up) {
        st = MON_HOST_OK;
        keep_peers(x, s);
        x->error[0] = '\0';
        hist_update(x);
    } else {
        st = is_refusal(s->error) ? MON_HOST_REFUSED : MON_HOST_UNREACHABLE;
        mon_escape(s->error[0] ? s->error : "no answer", false, x->error, sizeof x->error);
    }
    if (st != x->state || x->since_unix_s == 0)
        x->since_unix_s = now_unix_s;
    x->state = st;
    clamp_selection(m);
}

static int mru_newest_first(const void *a, const void *b)
{
    const struct mon_mru *x = a, *y = b;
    return x->last_unix_s > y->last_unix_s ? -1 : x->last_unix_s < y->last_unix_s ? 1 : 0;
}

void mon_model_mru(struct mon_model *m, size_t h, const struct mon_mru *rows, size_t n,
                   double now_unix_s)
{
    if (h >= m->n_hosts)
        return;
    struct mon_host *x = &m->hosts[h];
    n = n > MON_MRU_MAX ? MON_MRU_MAX : n;
    for (size_t i = 0; i < n; i++) {
        x->mru[i] = rows[i];
        char tmp[sizeof rows[i].addr + 1];
        memcpy(tmp, rows[i].addr, sizeof rows[i].addr);
        tmp[sizeof rows[i].addr] = '\0';
        mon_escape(tmp, false, x->mru[i].addr, sizeof x->mru[i].addr);
    }
    x->n_mru = n;
    qsort(x->mru, n, sizeof x->mru[0], mru_newest_first);
    x->mru_unix_s = now_unix_s;
}

/* ---- source fields ---- */

/* NTPsec's peer name: the address, or the configured name (srchost) when names are shown
 * or the source has no address (a refclock, a pool). Escaped into buf. */
static const char *peer_name(const struct mon_model *m, const struct m6_peer *p, char *buf,
                             size_t cap)
{
    const char *s = p->srcadr;
    bool addr_ok = s[0] && strcmp(s, "0.0.0.0") != 0 && strncmp(s, "127.127", 7) != 0 &&
                   strcmp(s, "::") != 0;
    if (!addr_ok || (!m->v.numeric && p->srchost[0]))
        s = p->srchost[0] ? p->srchost : s;
    return mon_escape(s, m->utf8, buf, cap);
}

/* NTPsec's refid column: a code in dots (".INIT."), addresses as they are. */
static const char *peer_refid(const struct mon_model *m, const struct m6_peer *p, char *buf,
                              size_t cap)
{
    char e[64];
    mon_escape(p->refid, m->utf8, e, sizeof e);
    if (m->v.mode == MON_OPEERS) {
        /* opeers: the local address the daemon polls it from, as NTPsec's "local". */
        mon_escape(p->dstadr[0] ? p->dstadr : "-", false, buf, cap);
        return buf;
    }
    if (strchr(e, '.') == NULL && strchr(e, ':') == NULL)
        fmt(buf, cap, ".%s.", e);
    else
        fmt(buf, cap, "%s", e);
    return buf;
}

/* NTPsec's t column. */
static char peer_type(const struct m6_peer *p)
{
    switch (p->hmode) {
    case 6:
        return 'b';
    case 5:
        return strncmp(p->srcadr, "224.", 4) == 0 ? 'M' : 'B';
    case 3:
        if (strchr(p->srchost, '(') || strcmp(p->kind, "refclock") == 0)
            return 'l';
        if (strcmp(p->refid, "POOL") == 0 || strcmp(p->kind, "pool") == 0)
            return 'p';
        if (strncmp(p->srcadr, "224.", 4) == 0)
            return 'a';
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

static int peer_poll_log2(const struct m6_peer *p)
{
    int a = p->hpoll_log2, b = p->ppoll_log2;
    if (a <= 0)
        return b;
    if (b <= 0)
        return a;
    return a < b ? a : b;
}

/* Seconds since the last response, or -1. */
static double peer_when(const struct m6_peer *p, double now)
{
    return p->rec_unix_s > 0 && now >= p->rec_unix_s ? floor(now - p->rec_unix_s) : -1;
}

static double peer_third(const struct mon_model *m, const struct m6_peer *p)
{
    return m->v.mode == MON_OPEERS ? p->disp_s : p->jitter_s;
}

/* ---- visible rows: filter, reach-only, sort ---- */

static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return n == 0;
}

struct sort_ctx {
    const struct mon_model *m;
    const struct m6_peer *peers;
    double now;
};

/* A numeric sort key; NAN: absent (sorted last both ways). */
static double sort_num(const struct sort_ctx *c, const struct m6_peer *p, enum mon_col col)
{
    switch (col) {
    case MON_COL_ASSID:
        return p->associd;
    case MON_COL_ST:
        return p->stratum < 0 ? NAN : p->stratum;
    case MON_COL_T:
        return (unsigned char)peer_type(p);
    case MON_COL_WHEN: {
        double w = peer_when(p, c->now);
        return w < 0 ? NAN : w;
    }
    case MON_COL_POLL:
        return peer_poll_log2(p) <= 0 ? NAN : peer_poll_log2(p);
    case MON_COL_REACH:
        return p->reach_ok ? p->reach : NAN;
    case MON_COL_DELAY:
        return p->delay_s;
    case MON_COL_OFFSET:
    case MON_COL_SPARK:
        return fabs(p->offset_s);
    case MON_COL_JITTER:
        return peer_third(c->m, p);
    default:
        return NAN;
    }
}

static int cmp_rows(const struct sort_ctx *c, int a, int b)
{
    const struct m6_peer *x = &c->peers[a], *y = &c->peers[b];
    enum mon_col col = c->m->v.sort;
    int r = 0;
    if (col == MON_COL_REMOTE || col == MON_COL_REFID) {
        char s1[300], s2[300];
        if (col == MON_COL_REMOTE) {
            peer_name(c->m, x, s1, sizeof s1);
            peer_name(c->m, y, s2, sizeof s2);
        } else {
            peer_refid(c->m, x, s1, sizeof s1);
            peer_refid(c->m, y, s2, sizeof s2);
        }
        r = strcmp(s1, s2);
    } else {
        double u = sort_num(c, x, col), v = sort_num(c, y, col);
        if (isnan(u) || isnan(v)) /* absent values last, whatever the direction */
            return isnan(u) && isnan(v) ? a - b : isnan(u) ? 1 : -1;
        r = u < v ? -1 : u > v ? 1 : 0;
    }
    if (c->m->v.sort_desc)
        r = -r;
    return r != 0 ? r : a - b; /* stable: the daemon's order breaks ties */
}

static size_t visible_rows(const struct mon_model *m, const struct mon_host *h, double now,
                           int *idx)
{
    size_t n = 0;
    for (size_t i = 0; i < h->snap.n_peers; i++) {
        const struct m6_peer *p = &h->snap.peers[i];
        if (m->v.reach_only && (!p->reach_ok || p->reach == 0))
            continue;
        if (m->v.filter[0]) {
            char a[300], b[64];
            if (!contains_ci(peer_name(m, p, a, sizeof a), m->v.filter) &&
                !contains_ci(mon_escape(p->srcadr, m->utf8, a, sizeof a), m->v.filter) &&
                !contains_ci(peer_refid(m, p, b, sizeof b), m->v.filter))
                continue;
        }
        idx[n++] = (int)i;
    }
    if (m->v.sort >= MON_COL_COUNT)
        return n;
    struct sort_ctx c = {m, h->snap.peers, now};
    for (size_t i = 1; i < n; i++) /* insertion sort: at most M6_PEERS_MAX rows */
        for (size_t j = i; j > 0 && cmp_rows(&c, idx[j - 1], idx[j]) > 0; j--) {
            int t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    return n;
}

/* ---- keys ---- */

static void filter_key(struct mon_model *m, int k)
{
    size_t l = strlen(m->v.filter);
    if (k == MON_KEY_ENTER || k == '\n' || k == '\r')
        m->v.filter_editing = false;
    else if (k == MON_KEY_ESC) {
        m->v.filter[0] = '\0';
        m->v.filter_editing = false;
    } else if (k == MON_KEY_BACKSPACE || k == 0x7f || k == 0x08) {
        if (l > 0)
            m->v.filter[l - 1] = '\0';
    } else if (k >= 0x20 && k < 0x7f && l + 1 < sizeof m->v.filter) {
        m->v.filter[l] = (char)k;
        m->v.filter[l + 1] = '\0';
    }
    m->v.selected = 0;
}

static void sort_step(struct mon_view *v, int dir)
{
    /* The cycle: daemon order, then remote .. jitter (spark sorts as offset: skipped). */
    int s = v->sort >= MON_COL_COUNT ? -1 : (int)v->sort;
    for (;;) {
        s += dir;
        if (s < -1)
            s = MON_COL_JITTER;
        if (s > MON_COL_JITTER)
            s = -1;
        if (s != MON_COL_ASSID || v->mode == MON_APEERS)
            break;
    }
    v->sort = s < 0 ? MON_COL_COUNT : (enum mon_col)s;
}

static enum mon_action move_sel(struct mon_model *m, int delta, bool absolute)
{
    m->v.selected = absolute ? delta : m->v.selected + delta;
    clamp_selection(m);
    return MON_ACT_NONE;
}

static enum mon_action view_key(struct mon_model *m, int k)
{
    struct mon_view *v = &m->v;
    switch (k) {
    case 'a':
        v->mode = MON_APEERS;
        break;
    case 'o':
        v->mode = MON_OPEERS;
        break;
    case 'p':
        v->mode = MON_PEERS;
        break;
    case 'r':
        v->mode = MON_RPEERS;
        break;
    case ' ':
        v->mode = (enum mon_mode)((v->mode + 1) % 4);
        break;
    case 'd':
    case MON_KEY_ENTER:
        v->detail = !v->detail;
        break;
    case 'm':
        v->mru_only = !v->mru_only;
        break;
    case 'M':
        v->mru_on = !v->mru_on;
        break;
    case 'n':
        v->numeric = !v->numeric;
        break;
    case 's':
        v->reach_only = !v->reach_only;
        break;
    case 'u':
        v->units = !v->units;
        break;
    case 'w':
        v->wide = !v->wide;
        break;
    case 'i':
        v->sort_desc = !v->sort_desc;
        break;
    case '<':
        sort_step(v, -1);
        break;
    case '>':
        sort_step(v, 1);
        break;
    case 'P':
        v->paused = !v->paused;
        break;
    case '+':
        v->debug++;
        break;
    case '-':
        v->debug = v->debug > 0 ? v->debug - 1 : 0;
        break;
    case '/':
        v->filter_editing = true;
        break;
    case MON_KEY_TAB:
        v->host = m->n_hosts ? (v->host + 1) % m->n_hosts : 0;
        v->selected = 0;
        break;
    case MON_KEY_RESIZE:
    case MON_KEY_ESC:
        break;
    default:
        return MON_ACT_POLL; /* NTPsec: any other key polls now */
    }
    if (v->mode != MON_APEERS && v->sort == MON_COL_ASSID)
        v->sort = MON_COL_COUNT;
    clamp_selection(m);
    return MON_ACT_NONE;
}

enum mon_action mon_model_key(struct mon_model *m, int k)
{
    if (k == MON_KEY_CTRL_C || k == 0x03 || k == MON_KEY_F10)
        return MON_ACT_QUIT;
    if (m->v.filter_editing) {
        filter_key(m, k);
        return MON_ACT_NONE;
    }
    if (m->v.help) { /* any key leaves the help screen (NTPsec) */
        m->v.help = false;
        return k == 'q' || k == 'x' ? MON_ACT_QUIT : MON_ACT_NONE;
    }
    switch (k) {
    case 'q':
    case 'x':
        return MON_ACT_QUIT;
    case 'h':
    case '?':
    case MON_KEY_F1:
        m->v.help = true;
        return MON_ACT_NONE;
    case 'j':
    case MON_KEY_DOWN:
        return move_sel(m, 1, false);
    case 'k':
    case MON_KEY_UP:
        return move_sel(m, -1, false);
    case MON_KEY_PGDN:
        return move_sel(m, PAGE_ROWS, false);
    case MON_KEY_PGUP:
        return move_sel(m, -PAGE_ROWS, false);
    case MON_KEY_HOME:
        return move_sel(m, 0, true);
    case MON_KEY_END:
        return move_sel(m, M6_PEERS_MAX, true);
    default:
        return view_key(m, k);
    }
}

double mon_model_next_fetch(const struct mon_model *m, size_t h, double last_unix_s)
{
    if (m->interval_s > 0)
        return last_unix_s + m->interval_s;
    if (h >= m->n_hosts)
        return last_unix_s + RETRY_DOWN_S;
    const struct mon_host *x = &m->hosts[h];
    if (x->state == MON_HOST_UNREACHABLE || x->state == MON_HOST_WAITING)
        return last_unix_s + RETRY_DOWN_S;
    if (x->state == MON_HOST_REFUSED)
        return last_unix_s + RETRY_REFUSE_S;
    /* NTPsec: every second while a source is still INIT, else half the shortest poll
     * ("Nyquist"), at least 1 s. */
    double shortest = INFINITY;
    for (size_t i = 0; i < x->snap.n_peers; i++) {
        const struct m6_peer *p = &x->snap.peers[i];
        if (strcmp(p->refid, "INIT") == 0)
            return last_unix_s + 1;
        int lg = peer_poll_log2(p);
        if (lg > 0 && lg < 31 && ldexp(1, lg) < shortest)
            shortest = ldexp(1, lg);
    }
    if (!isfinite(shortest))
        return last_unix_s + RETRY_DOWN_S;
    double d = shortest / 2;
    return last_unix_s + (d < 1 ? 1 : d);
}

/* ---- sparkline ---- */

const char *mon_sparkline(const double *values, size_t n, int width, bool utf8, char *dst,
                          size_t cap)
{
    static const char ascii[] = " .:-=+*#";
    size_t o = 0;
    if (cap == 0)
        return dst;
    dst[0] = '\0';
    if (width <= 0)
        return dst;
    size_t w = (size_t)width, first = n > w ? n - w : 0, shown = n - first;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = first; i < n; i++)
        if (isfinite(values[i])) {
            lo = values[i] < lo ? values[i] : lo;
            hi = values[i] > hi ? values[i] : hi;
        }
    for (size_t cell = 0; cell < w; cell++) {
        int level = -1;
        if (cell >= w - shown) {
            double v = values[first + cell - (w - shown)];
            if (isfinite(v))
                level = hi > lo ? (int)lround((v - lo) / (hi - lo) * 7) : 3;
        }
        size_t need = level >= 0 && utf8 ? 3 : 1;
        if (o + need >= cap)
            break;
        if (level < 0)
            dst[o++] = ' ';
        else if (!utf8)
            dst[o++] = ascii[level];
        else { /* U+2581 + level: E2 96 81.. */
            dst[o++] = (char)0xe2;
            dst[o++] = (char)0x96;
            dst[o++] = (char)(0x81 + level);
        }
    }
    dst[o] = '\0';
    return dst;
}

/* ---- number formats ---- */

/* NTPsec's interval form ("-", seconds up to 2048, then m, h, d), at most 4 characters. */
static void fmt_interval(char *buf, size_t cap, double secs)
{
    if (secs <= 0 || !isfinite(secs)) {
        fmt(buf, cap, "-");
        return;
    }
    long long d = (long long)secs;
    if (d <= 2048)
        fmt(buf, cap, "%lld", d);
    else if ((d + 29) / 60 <= 300)
        fmt(buf, cap, "%lldm", (d + 29) / 60);
    else if (((d + 29) / 60 + 29) / 60 <= 96)
        fmt(buf, cap, "%lldh", ((d + 29) / 60 + 29) / 60);
    else
        fmt(buf, cap, "%lldd", (((d + 29) / 60 + 29) / 60 + 11) / 24);
}

/* A time in seconds as NTPsec's 8-column milliseconds (f8dot3: the decimals that fit), or
 * with units (-u: ns, µs, ms, s). */
static void fmt_time(char *buf, size_t cap, double s, bool units, bool utf8)
{
    if (!isfinite(s)) {
        fmt(buf, cap, "-");
        return;
    }
    if (units) {
        double a = fabs(s);
        const char *u = "s";
        double v = s;
        if (a == 0)
            v = 0, u = "ms";
        else if (a < 1e-6)
            v = s * 1e9, u = "ns";
        else if (a < 1e-3)
            v = s * 1e6, u = utf8 ? "\xc2\xb5s" : "us";
        else if (a < 1)
            v = s * 1e3, u = "ms";
        int dec = fabs(v) >= 100 ? 1 : fabs(v) >= 10 ? 2 : 3;
        fmt(buf, cap, "%.*f%s", dec, v, u);
        return;
    }
    double ms = s * 1e3;
    int dec = ntk_fit8_decimals(ms, 3);
    fmt(buf, cap, "%.*f", dec < 0 ? 0 : dec, ms);
}

static void fmt_clock(char *buf, size_t cap, double unix_s, bool date)
{
    struct ntk_civil c;
    ntk_civil_from_unix((int64_t)floor(unix_s), &c);
    if (date)
        fmt(buf, cap, "%04lld-%02d-%02d", (long long)c.year, c.mon, c.mday);
    else
        fmt(buf, cap, "%02d:%02d:%02d", c.hour, c.min, c.sec);
}

/* ---- the peers table ---- */

/* A column of the table as laid out. */
struct colspec {
    enum mon_col id;
    const char *head;
    int w;
    bool right;
    int drop; /* dropped in this order when the width is short (0: never) */
};

struct table {
    struct colspec c[MON_COL_COUNT];
    int n;
    int remote_w; /* tally + name */
    int spark_w;  /* 0: no sparkline */
};

static const struct colspec *spec_of(enum mon_col id, const struct mon_model *m)
{
    static const struct colspec all[MON_COL_COUNT] = {
        {MON_COL_REMOTE, "remote", 0, false, 0}, {MON_COL_REFID, "refid", 15, false, 8},
        {MON_COL_ASSID, "assid", 5, true, 1},    {MON_COL_ST, "st", 2, true, 9},
        {MON_COL_T, "t", 1, false, 2},           {MON_COL_WHEN, "when", 4, true, 3},
        {MON_COL_POLL, "poll", 4, true, 4},      {MON_COL_REACH, "reach", 5, true, 10},
        {MON_COL_DELAY, "delay", 8, true, 6},    {MON_COL_OFFSET, "offset", 8, true, 0},
        {MON_COL_JITTER, "jitter", 8, true, 5},  {MON_COL_SPARK, "history", 0, false, 0},
    };
    static const struct colspec local = {MON_COL_REFID, "local", 15, false, 8};
    static const struct colspec disp = {MON_COL_JITTER, "disp", 8, true, 5};
    /* NTPsec's apeers squeezes the refid to make room for the association id. */
    static const struct colspec arefid = {MON_COL_REFID, "refid", 9, false, 8};
    static const struct colspec aassid = {MON_COL_ASSID, "assid", 5, true, 7};
    if (m->v.mode == MON_APEERS && id == MON_COL_REFID)
        return &arefid;
    if (m->v.mode == MON_APEERS && id == MON_COL_ASSID)
        return &aassid; /* the point of apeers: kept longer */
    if (m->v.mode == MON_OPEERS && id == MON_COL_REFID)
        return &local;
    if (m->v.mode == MON_OPEERS && id == MON_COL_JITTER)
        return &disp;
    return &all[id];
}

static int longest_name(const struct mon_model *m, const struct mon_host *h, const int *idx,
                        size_t n)
{
    int best = 0;
    for (size_t i = 0; i < n; i++) {
        char b[300];
        int c = text_cells(peer_name(m, &h->snap.peers[idx[i]], b, sizeof b));
        best = c > best ? c : best;
    }
    return best;
}

/* Chooses the columns and widths for width cells: columns dropped by priority, the name
 * column sized like NTPsec's (15, more on wide terminals), the sparkline from what is left. */
static void plan_table(const struct mon_model *m, int width, int longest, struct table *t)
{
    static const enum mon_col peers[] = {MON_COL_REMOTE, MON_COL_REFID, MON_COL_ST,
                                         MON_COL_T,      MON_COL_WHEN,  MON_COL_POLL,
                                         MON_COL_REACH,  MON_COL_DELAY, MON_COL_OFFSET,
                                         MON_COL_JITTER, MON_COL_SPARK};
    static const enum mon_col apeers[] = {MON_COL_REMOTE, MON_COL_REFID,  MON_COL_ASSID,
                                          MON_COL_ST,     MON_COL_T,      MON_COL_WHEN,
                                          MON_COL_POLL,   MON_COL_REACH,  MON_COL_DELAY,
                                          MON_COL_OFFSET, MON_COL_JITTER, MON_COL_SPARK};
    static const enum mon_col rpeers[] = {MON_COL_ST,     MON_COL_T,      MON_COL_WHEN,
                                          MON_COL_POLL,   MON_COL_REACH,  MON_COL_DELAY,
                                          MON_COL_OFFSET, MON_COL_JITTER, MON_COL_SPARK,
                                          MON_COL_REFID,  MON_COL_REMOTE};
    const enum mon_col *order = peers;
    int n = (int)(sizeof peers / sizeof peers[0]);
    if (m->v.mode == MON_APEERS)
        order = apeers, n = (int)(sizeof apeers / sizeof apeers[0]);
    else if (m->v.mode == MON_RPEERS)
        order = rpeers, n = (int)(sizeof rpeers / sizeof rpeers[0]);
    bool keep[MON_COL_COUNT] = {false};
    int fixed = 0;
    for (int i = 0; i < n; i++) {
        keep[order[i]] = true;
        fixed += spec_of(order[i], m)->w ? 1 + spec_of(order[i], m)->w : 0;
    }
    /* Wide mode (w) keeps whole names: other columns are dropped for them first. */
    int remote_min = m->v.wide ? 1 + longest : 1 + 15;
    if (remote_min > width - 10)
        remote_min = width - 10 > 9 ? width - 10 : 9;
    for (int level = 1; fixed + remote_min > width && level <= 10; level++)
        for (int i = 0; i < n; i++) {
            const struct colspec *s = spec_of(order[i], m);
            if (keep[order[i]] && s->drop == level) {
                keep[order[i]] = false;
                fixed -= 1 + s->w;
            }
        }
    int slack = width - 80 > 24 ? 24 : width - 80 < 0 ? 0 : width - 80;
    int name = longest < 15 ? 15 : longest;
    if (!m->v.wide && name > 15 + slack)
        name = 15 + slack;
    int room = width - fixed;
    t->remote_w = 1 + name < room ? 1 + name : room;
    int left = room - t->remote_w;
    t->spark_w = 0;
    if (left >= 1 + SPARK_MIN)
        t->spark_w = left - 1 > SPARK_MAX ? SPARK_MAX : left - 1;
    if (t->spark_w == 0)
        keep[MON_COL_SPARK] = false;
    t->n = 0;
    for (int i = 0; i < n; i++)
        if (keep[order[i]]) {
            t->c[t->n] = *spec_of(order[i], m);
            if (order[i] == MON_COL_REMOTE)
                t->c[t->n].w = t->remote_w;
            if (order[i] == MON_COL_SPARK)
                t->c[t->n].w = t->spark_w;
            t->n++;
        }
}

static void put_heading(struct lb *b, const struct mon_model *m, const struct table *t)
{
    for (int i = 0; i < t->n; i++) {
        const struct colspec *c = &t->c[i];
        char h[32];
        const char *arrow = m->v.sort_desc ? (m->utf8 ? "\xe2\x86\x93" : "v")
                                           : (m->utf8 ? "\xe2\x86\x91" : "^");
        bool sorted =
            m->v.sort == c->id || (m->v.sort == MON_COL_SPARK && c->id == MON_COL_OFFSET);
        fmt(h, sizeof h, "%s%s%s", c->id == MON_COL_REMOTE ? " " : "", c->head,
            sorted ? arrow : "");
        if (i > 0)
            lb_put(b, " ", MON_A_COLHEAD);
        lb_field(b, h, c->w, c->right, MON_A_COLHEAD);
    }
    lb_fill(b, MON_A_COLHEAD);
}

static int row_attr(const struct m6_peer *p)
{
    switch (p->sel) {
    case M6_SEL_SYSPEER:
    case M6_SEL_PPSPEER:
        return MON_A_GOOD;
    case M6_SEL_FALSETICK:
        return MON_A_BAD;
    case M6_SEL_CANDIDATE:
    case M6_SEL_BACKUP:
        return MON_A_NORMAL;
    default:
        return MON_A_DIM;
    }
}

static const struct mon_hist *hist_of(const struct mon_host *h, uint16_t associd)
{
    for (size_t i = 0; i < M6_PEERS_MAX; i++)
        if (associd != 0 && h->hist[i].associd == associd)
            return &h->hist[i];
    return NULL;
}

/* The history of a source, oldest first, into out; returns the count. */
static size_t hist_values(const struct mon_hist *s, double *out)
{
    if (s == NULL)
        return 0;
    size_t start = (s->head + MON_HIST - s->n) % MON_HIST;
    for (size_t i = 0; i < s->n; i++)
        out[i] = s->offset_s[(start + i) % MON_HIST];
    return s->n;
}

static void cell_text(const struct mon_model *m, const struct mon_host *h,
                      const struct m6_peer *p, const struct colspec *c, double now, char *buf,
                      size_t cap, int *attr)
{
    char t[CELL_BUF];
    switch (c->id) {
    case MON_COL_REMOTE:
        fmt(buf, cap, "%c%s", m6_sel_tally(p->sel), peer_name(m, p, t, sizeof t));
        break;
    case MON_COL_REFID:
        peer_refid(m, p, buf, cap);
        break;
    case MON_COL_ASSID:
        fmt(buf, cap, "%u", p->associd);
        break;
    case MON_COL_ST:
        fmt(buf, cap, "%d", p->stratum < 0 ? 16 : p->stratum);
        break;
    case MON_COL_T:
        fmt(buf, cap, "%c", peer_type(p));
        break;
    case MON_COL_WHEN:
        fmt_interval(buf, cap, peer_when(p, now));
        break;
    case MON_COL_POLL: {
        int lg = peer_poll_log2(p);
        fmt_interval(buf, cap, lg > 0 && lg < 31 ? ldexp(1, lg) : 0);
        break;
    }
    case MON_COL_REACH:
        fmt(buf, cap, "%o", p->reach);
        if (*attr != MON_A_SELECTED && *attr != MON_A_DIM && p->reach != 0377)
            *attr = p->reach == 0 ? MON_A_BAD : MON_A_WARN;
        break;
    case MON_COL_DELAY:
        fmt_time(buf, cap, p->delay_s, m->v.units, m->utf8);
        break;
    case MON_COL_OFFSET:
        fmt_time(buf, cap, p->offset_s, m->v.units, m->utf8);
        if (*attr != MON_A_SELECTED && *attr != MON_A_DIM && isfinite(p->offset_s)) {
            double a = fabs(p->offset_s);
            *attr = a >= BAD_OFFSET_S ? MON_A_BAD : a >= WARN_OFFSET_S ? MON_A_WARN : *attr;
        }
        break;
    case MON_COL_JITTER:
        fmt_time(buf, cap, peer_third(m, p), m->v.units, m->utf8);
        break;
    case MON_COL_SPARK: {
        double v[MON_HIST];
        size_t n = hist_values(hist_of(h, p->associd), v);
        mon_sparkline(v, n, c->w, m->utf8, buf, cap);
        break;
    }
    default:
        buf[0] = '\0';
    }
}

static void put_row(struct lb *b, const struct mon_model *m, const struct mon_host *h,
                    const struct m6_peer *p, const struct table *t, double now, bool selected)
{
    int base = selected ? MON_A_SELECTED : h->state == MON_HOST_OK ? row_attr(p) : MON_A_DIM;
    for (int i = 0; i < t->n; i++) {
        char buf[CELL_BUF];
        int attr = base;
        cell_text(m, h, p, &t->c[i], now, buf, sizeof buf, &attr);
        if (i > 0)
            lb_put(b, " ", base);
        lb_field(b, buf, t->c[i].w, t->c[i].right, attr);
    }
    if (selected)
        lb_fill(b, MON_A_SELECTED);
}

/* ---- screens ---- */

struct screen {
    const struct mon_model *m;
    const struct mon_host *h;
    struct mon_frame *f;
    double now;
    int top, bottom; /* body lines [top, bottom) */
};

static struct lb line_at(struct screen *s, int y)
{
    struct lb b;
    lb_start(&b, &s->f->lines[y], s->f->width);
    return b;
}

/* Writes text on body line y (if within the body) and returns the next line. */
static int body_text(struct screen *s, int y, const char *text, int attr)
{
    if (y < s->top || y >= s->bottom)
        return y + 1;
    struct lb b = line_at(s, y);
    lb_put(&b, text, attr);
    return y + 1;
}

/* Writes text from body line y on, wrapped at spaces (a word longer than the width is cut),
 * and returns the next line. */
static int body_wrap(struct screen *s, int y, const char *text, int attr)
{
    const char *p = text;
    int w = s->f->width;
    do {
        const char *brk = NULL, *q = p;
        int cells = 0, c;
        while (*q) {
            size_t n = next_char(q, &c);
            if (cells + c > w)
                break;
            if (*q == ' ')
                brk = q;
            cells += c, q += n;
        }
        const char *end = *q == '\0' || brk == NULL ? q : brk;
        char line[MON_LINE_MAX];
        size_t len = (size_t)(end - p) < sizeof line ? (size_t)(end - p) : sizeof line - 1;
        memcpy(line, p, len);
        line[len] = '\0';
        y = body_text(s, y, line, attr);
        p = end;
        p += strspn(p, " ");
    } while (*p && y < s->bottom);
    return y;
}

static const char *sync_state(const struct mon_host *h, int *attr)
{
    const struct m6_sys *y = &h->snap.sys;
    if (h->state == MON_HOST_UNREACHABLE || h->state == MON_HOST_REFUSED) {
        *attr = MON_A_BAD;
        return h->state == MON_HOST_REFUSED ? "refused" : "not answering";
    }
    if (y->leap < 0 && y->stratum < 0) {
        *attr = MON_A_DIM;
        return "no data";
    }
    if (y->leap == 3 || y->stratum >= 16 || y->stratum < 0) {
        *attr = MON_A_BAD;
        return "unsynchronised";
    }
    *attr = MON_A_GOOD;
    return "synchronised";
}

static void put_header1(struct screen *s, int y)
{
    const struct mon_model *m = s->m;
    const struct m6_sys *y0 = &s->h->snap.sys;
    struct lb b = line_at(s, y);
    char buf[400], t1[64], t2[64], e[300];
    int attr;
    const char *st = sync_state(s->h, &attr);
    lb_put(&b, mon_escape(s->h->name, m->utf8, e, sizeof e), MON_A_TITLE);
    fmt(buf, sizeof buf, " %s", st);
    lb_try(&b, buf, attr);
    if (y0->stratum >= 0) {
        fmt(buf, sizeof buf, "  st %d", y0->stratum);
        lb_try(&b, buf, MON_A_NORMAL);
    }
    if (y0->refid[0]) {
        fmt(buf, sizeof buf, "  refid %s", mon_escape(y0->refid, m->utf8, e, 64));
        lb_try(&b, buf, MON_A_NORMAL);
    }
    if (isfinite(y0->offset_s)) {
        fmt_time(t1, sizeof t1, y0->offset_s, true, m->utf8);
        fmt_time(t2, sizeof t2, y0->root_dist_s, true, m->utf8);
        fmt(buf, sizeof buf, "  offset %s%s%s%s", y0->offset_s >= 0 ? "+" : "", t1,
            isfinite(y0->root_dist_s) ? (m->utf8 ? " \xc2\xb1" : " +/-") : "",
            isfinite(y0->root_dist_s) ? t2 : "");
        double a = fabs(y0->offset_s);
        lb_try(&b, buf,
               a >= BAD_OFFSET_S    ? MON_A_BAD
               : a >= WARN_OFFSET_S ? MON_A_WARN
                                    : MON_A_NORMAL);
    }
    if (isfinite(y0->freq_ratio)) {
        fmt(buf, sizeof buf, "  freq %+.3f ppm", y0->freq_ratio * 1e6);
        lb_try(&b, buf, MON_A_NORMAL);
    }
}

static void put_leap(struct lb *b, const struct mon_model *m, const struct m6_sys *y,
                     double now)
{
    static const char *const leap[] = {"none", "add second", "delete second", "alarm"};
    char buf[200], d[32];
    fmt(buf, sizeof buf, "leap %s", y->leap >= 0 && y->leap <= 3 ? leap[y->leap] : "-");
    lb_try(b, buf, y->leap == 1 || y->leap == 2 ? MON_A_WARN : MON_A_NORMAL);
    if (!isfinite(y->leap_expire_unix_s)) {
        lb_try(b, "  leapfile -", MON_A_NORMAL);
        return;
    }
    fmt_clock(d, sizeof d, y->leap_expire_unix_s, true);
    double days = (y->leap_expire_unix_s - now) / 86400;
    fmt(buf, sizeof buf, "  leapfile %s %s", days < 0 ? "expired" : "expires", d);
    (void)m;
    lb_try(b, buf, days < 0 ? MON_A_BAD : days < 30 ? MON_A_WARN : MON_A_NORMAL);
}

static void put_header2(struct screen *s, int y)
{
    const struct m6_snap *sn = &s->h->snap;
    struct lb b = line_at(s, y);
    char buf[200];
    put_leap(&b, s->m, &sn->sys, s->now);
    size_t nts = 0, auth = 0, reach = 0;
    for (size_t i = 0; i < sn->n_peers; i++) {
        nts += sn->peers[i].ntscookies >= 0;
        auth += sn->peers[i].authentic;
        reach += sn->peers[i].reach_ok && sn->peers[i].reach != 0;
    }
    if (nts)
        fmt(buf, sizeof buf, "  NTS %zu/%zu sources", nts, sn->n_peers);
    else
        fmt(buf, sizeof buf, "  NTS off");
    lb_try(&b, buf, nts ? MON_A_GOOD : MON_A_NORMAL);
    fmt(buf, sizeof buf, "  sources %zu (%zu reachable, %zu authenticated)", sn->n_peers,
        reach, auth);
    lb_try(&b, buf, MON_A_NORMAL);
}

/* NTPsec strips the build date from the version for the status line. */
static void short_version(const char *v, char *out, size_t cap)
{
    char e[160];
    mon_escape(v, false, e, sizeof e);
    size_t o = 0;
    for (const char *p = e; *p && o + 1 < cap;) {
        size_t w = strcspn(p, " ");
        bool date = w >= 10 && isdigit((unsigned char)p[0]) && p[4] == '-';
        if (!date) {
            if (o && o + 1 < cap)
                out[o++] = ' ';
            for (size_t i = 0; i < w && o + 1 < cap; i++)
                out[o++] = p[i];
        }
        p += w;
        p += strspn(p, " ");
    }
    out[o] = '\0';
}

static void put_status(struct screen *s, int y)
{
    const struct mon_model *m = s->m;
    struct lb b = line_at(s, y);
    char buf[600], v[128], t[16], sortinfo[48] = "", hostinfo[32] = "";
    short_version(s->h->snap.sys.version, v, sizeof v);
    if (s->h->snap.taken_unix_s > 0)
        fmt_clock(t, sizeof t, s->h->snap.taken_unix_s, false);
    else
        fmt(t, sizeof t, "never");
    if (m->v.sort < MON_COL_COUNT)
        fmt(sortinfo, sizeof sortinfo, "  sort %s%s", spec_of(m->v.sort, m)->head,
            m->v.sort_desc ? " desc" : "");
    if (m->n_hosts > 1)
        fmt(hostinfo, sizeof hostinfo, "  host %zu/%zu", m->v.host + 1, m->n_hosts);
    char every[32];
    fmt(every, sizeof every, "every %gs",
        mon_model_next_fetch(m, (size_t)(s->h - m->hosts), 0));
    fmt(buf, sizeof buf, "%s%sUpdated: %s (%s)%s%s%s%s%s", v, v[0] ? "  " : "", t, every,
        sortinfo, m->v.filter[0] || m->v.filter_editing ? "  filter: " : "", m->v.filter,
        m->v.filter_editing ? "_" : "", hostinfo);
    lb_put(&b, buf, MON_A_STATUS);
    if (m->v.paused)
        lb_put(&b, "  PAUSED", MON_A_STATUS);
    lb_fill(&b, MON_A_STATUS);
}

static void put_keybar(struct screen *s, int y)
{
    struct lb b = line_at(s, y);
    const char *text =
        s->m->v.filter_editing
            ? "Filter: type text  Enter keep  Esc clear  Backspace delete"
            : "F1 Help  F10 Quit  / Filter  < > Sort  i Reverse  Space Mode  d Detail  "
              "m MRU  P Pause  Tab Host";
    /* Whole items only: "F10 Quit" is never cut to "F10 Q". */
    for (const char *p = text; *p;) {
        const char *end = strstr(p, "  ");
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char item[80];
        fmt(item, sizeof item, "%s%.*s", p == text ? "" : "  ", (int)n, p);
        if (!lb_try(&b, item, MON_A_KEYBAR))
            break;
        p += n;
        p += strspn(p, " ");
    }
    lb_fill(&b, MON_A_KEYBAR);
}

static void put_help(struct screen *s)
{
    static const char *const lines[] = {
        "ntpmon help (any key returns)",
        "",
        "p / a / o / r  peers, apeers (assoc ids), opeers, rpeers mode",
        "space          next mode",
        "j k, Down Up   select the next / previous source (PgDn PgUp Home End)",
        "d, Enter       detail pane for the selected source",
        "m              MRU list only        M  MRU pane under the peers",
        "n              names / numeric addresses",
        "s              reachable sources only",
        "u              times with units",
        "w              wide: full names",
        "< >            sort column          i  reverse the sort",
        "/              filter (remote or refid; Esc clears)",
        "P              pause refreshing     Tab  next host",
        "+ -            debug level up / down",
        "h ? F1         this help",
        "q x F10 ^C     quit",
        "any other key  poll now",
        "",
        "Tally: * system peer  + candidate  # backup  - outlier  . excess  x falseticker",
        "       o PPS peer  (space) rejected",
        "t: u unicast  p pool  l local refclock  s/S symmetric  b/B/M broadcast  1-8 NTS",
    };
    int y = 0;
    for (size_t i = 0; i < sizeof lines / sizeof lines[0] && y < s->f->height - 1; i++, y++) {
        struct lb b = line_at(s, y);
        lb_put(&b, lines[i], i == 0 ? MON_A_TITLE : MON_A_NORMAL);
    }
    put_keybar(s, s->f->height - 1);
}

static void put_refused(struct screen *s, int y)
{
    char buf[400], e[300], t[16];
    const char *n = s->h->name;
    fmt_clock(t, sizeof t, s->h->since_unix_s, false);
    fmt(buf, sizeof buf, "%s refused the mode-6 queries (%s) since %s.",
        mon_escape(n, s->m->utf8, e, sizeof e), s->h->error, t);
    y = body_wrap(s, y, buf, MON_A_BAD);
    y = body_wrap(
        s, y, "A restrict line without noquery for this machine allows them:", MON_A_NORMAL);
    bool local = strcmp(n, "localhost") == 0 || strncmp(n, "127.", 4) == 0 ||
                 strcmp(n, "::1") == 0 || strcmp(n, "ip6-localhost") == 0;
    body_wrap(s, y,
              local ? "  restrict 127.0.0.1 nomodify nopeer notrap"
                    : "  restrict <this machine's address> nomodify nopeer notrap",
              MON_A_TITLE);
}

static void put_empty(struct screen *s, int y)
{
    char buf[400], t[16], e[300];
    const struct mon_host *h = s->h;
    fmt_clock(t, sizeof t, h->since_unix_s, false);
    mon_escape(h->name, s->m->utf8, e, sizeof e);
    switch (h->state) {
    case MON_HOST_WAITING:
        fmt(buf, sizeof buf, "Waiting for %s...", e);
        body_wrap(s, y, buf, MON_A_DIM);
        break;
    case MON_HOST_UNREACHABLE:
        fmt(buf, sizeof buf, "%s is not answering since %s (%.0f s): %s", e, t,
            s->now - h->since_unix_s, h->error);
        y = body_wrap(s, y, buf, MON_A_BAD);
        body_wrap(s, y, "Retrying.", MON_A_NORMAL);
        break;
    case MON_HOST_REFUSED:
        put_refused(s, y);
        break;
    default:
        if (h->snap.peers_error[0] != '\0') {
            fmt(buf, sizeof buf, "The associations could not be read (%s). Retrying.",
                mon_escape(h->snap.peers_error, s->m->utf8, e, sizeof e));
            body_wrap(s, y, buf, MON_A_BAD);
            break;
        }
        y = body_wrap(s, y, "No associations: the daemon has no sources (yet).", MON_A_WARN);
        body_wrap(s, y, "ntpmon keeps watching; sources appear here when configured.",
                  MON_A_NORMAL);
    }
}

/* The MRU pane on body lines [y, end). */
static void put_mru(struct screen *s, int y, int end)
{
    const struct mon_host *h = s->h;
    char buf[300];
    if (y >= end)
        return;
    struct lb b = line_at(s, y++);
    lb_put(&b, "lstint avgint rstr m v    count rport remote address", MON_A_COLHEAD);
    lb_fill(&b, MON_A_COLHEAD);
    if (h->mru_unix_s == 0) {
        body_text(s, y, "MRU list: not read yet (read at most every 10 s)", MON_A_DIM);
        return;
    }
    if (h->error[0] && h->state == MON_HOST_OK)
        y = body_text(s, y, h->error, MON_A_BAD);
    if (h->n_mru == 0) {
        body_text(s, y, "MRU list: empty", MON_A_DIM);
        return;
    }
    for (size_t i = 0; i < h->n_mru && y < end; i++) {
        const struct mon_mru *r = &h->mru[i];
        double lst = s->now - r->last_unix_s;
        double avg = r->count > 1 ? (r->last_unix_s - r->first_unix_s) / (double)r->count : 0;
        fmt(buf, sizeof buf, "%6.0f %6.0f %4x %d %d %8llu %5u %s", lst < 0 ? 0 : lst, avg,
            (unsigned)r->rstr & 0xffffu, r->mode, r->version, (unsigned long long)r->count,
            r->port, r->addr);
        y = body_text(s, y, buf, MON_A_NORMAL);
    }
}

/* A refclock's clock variables (NTPsec's ntpq cv names, as NTPsec's ntpmon shows them under
 * the peer variables) into items[0..cap): those the READCLOCK of detail mode brought, none
 * for a network source or before that READCLOCK answered. Returns how many. */
static int clock_items(const struct mon_model *m, const struct m6_peer *p, char (*items)[160],
                       int cap)
{
    char e[128];
    int n = 0;
    if (p->rc_name[0] && n < cap)
        fmt(items[n++], 160, "name=%s", mon_escape(p->rc_name, m->utf8, e, sizeof e));
    if (p->rc_device[0] && n < cap)
        fmt(items[n++], 160, "device=%s", mon_escape(p->rc_device, m->utf8, e, sizeof e));
    const struct {
        const char *name;
        uint64_t v;
    } ctr[] = {{"poll", p->rc_polls},
               {"noreply", p->rc_noreply},
               {"badformat", p->rc_badformat},
               {"baddata", p->rc_baddata}};
    for (size_t i = 0; i < sizeof ctr / sizeof ctr[0] && n < cap; i++)
        if (ctr[i].v != UINT64_MAX)
            fmt(items[n++], 160, "%s=%llu", ctr[i].name, (unsigned long long)ctr[i].v);
    return n;
}

/* Items flow over lines [y, end) after label, never split, never wider than the frame.
 * Returns the line after the last one used. */
static int flow_items(struct screen *s, int y, int end, const char *label, char (*items)[160],
                      int n)
{
    if (y >= end)
        return y;
    struct lb b = line_at(s, y);
    lb_put(&b, label, MON_A_TITLE);
    for (int i = 0; i < n; i++) {
        int c = text_cells(items[i]);
        if (b.col > 0 && b.col + 2 + c > b.width) {
            if (++y >= end)
                return y;
            b = line_at(s, y);
        }
        if (b.col > 0)
            lb_put(&b, "  ", MON_A_NORMAL);
        lb_put(&b, items[i], MON_A_NORMAL);
    }
    return y + 1;
}

/* The detail pane of one source on body lines [y, end). */
static void put_detail(struct screen *s, const struct m6_peer *p, int y, int end)
{
    const struct mon_model *m = s->m;
    char items[28][160], a[300], b2[300], r[64], t1[32], t2[32], t3[32], t4[32];
    int n = 0;
    fmt_time(t1, sizeof t1, p->delay_s, true, m->utf8);
    fmt_time(t2, sizeof t2, p->offset_s, true, m->utf8);
    fmt_time(t3, sizeof t3, p->jitter_s, true, m->utf8);
    fmt_time(t4, sizeof t4, p->disp_s, true, m->utf8);
    fmt(items[n++], 160, "srcadr=%s:%u", mon_escape(p->srcadr, m->utf8, a, 64), p->srcport);
    fmt(items[n++], 160, "srchost=%s", mon_escape(p->srchost, m->utf8, b2, 120));
    fmt(items[n++], 160, "assid=%u", p->associd);
    fmt(items[n++], 160, "kind=%s", mon_escape(p->kind, false, r, sizeof r));
    fmt(items[n++], 160, "refid=%s", mon_escape(p->refid, m->utf8, r, sizeof r));
    fmt(items[n++], 160, "stratum=%d", p->stratum);
    fmt(items[n++], 160, "leap=%d", p->leap);
    fmt(items[n++], 160, "hmode=%d", p->hmode);
    fmt(items[n++], 160, "hpoll=%d", p->hpoll_log2);
    fmt(items[n++], 160, "ppoll=%d", p->ppoll_log2);
    fmt(items[n++], 160, "reach=%03o", p->reach);
    fmt(items[n++], 160, "delay=%s", t1);
    fmt(items[n++], 160, "offset=%s", t2);
    fmt(items[n++], 160, "jitter=%s", t3);
    fmt(items[n++], 160, "dispersion=%s", t4);
    fmt(items[n++], 160, "flash=0x%x", p->flash);
    fmt(items[n++], 160, "keyid=%u", p->keyid);
    fmt(items[n++], 160, "authentic=%d", p->authentic);
    fmt(items[n++], 160, "ntscookies=%d", p->ntscookies);
    if (p->rec_unix_s > 0) {
        char d[16], c[16];
        fmt_clock(d, sizeof d, p->rec_unix_s, true);
        fmt_clock(c, sizeof c, p->rec_unix_s, false);
        fmt(items[n++], 160, "rec=%sT%sZ", d, c);
    }
    y = flow_items(s, y, end, "detail:", items, n);
    /* A refclock's clock variables on lines of their own, as NTPsec's ntpmon. */
    n = clock_items(m, p, items, 28);
    if (n > 0)
        flow_items(s, y, end, "clock:", items, n);
}

static void put_table(struct screen *s, int y, int end, int *rows_drawn)
{
    const struct mon_model *m = s->m;
    const struct mon_host *h = s->h;
    int idx[M6_PEERS_MAX];
    size_t n = visible_rows(m, h, s->now, idx);
    struct table t;
    plan_table(m, s->f->width, longest_name(m, h, idx, n), &t);
    struct lb b = line_at(s, y++);
    put_heading(&b, m, &t);
    int rows = end - y, sel = m->v.selected;
    sel = sel >= (int)n ? (int)n - 1 : sel < 0 ? 0 : sel;
    int first = sel >= rows ? sel - rows + 1 : 0;
    *rows_drawn = 0;
    if (n == 0) {
        body_text(s, y, m->v.filter[0] || m->v.reach_only ? "(no source matches)" : "",
                  MON_A_DIM);
        return;
    }
    for (int i = first; i < (int)n && y < end; i++, y++) {
        struct lb r = line_at(s, y);
        put_row(&r, m, h, &h->snap.peers[idx[i]], &t, s->now, i == sel);
        (*rows_drawn)++;
    }
}

static const struct m6_peer *selected_peer(const struct mon_model *m, const struct mon_host *h,
                                           double now)
{
    int idx[M6_PEERS_MAX];
    size_t n = visible_rows(m, h, now, idx);
    if (n == 0)
        return NULL;
    int sel = m->v.selected >= (int)n ? (int)n - 1 : m->v.selected < 0 ? 0 : m->v.selected;
    return &h->snap.peers[idx[sel]];
}

static void put_body(struct screen *s)
{
    const struct mon_model *m = s->m;
    const struct mon_host *h = s->h;
    int y = s->top, end = s->bottom;
    bool have = h->snap.up || h->snap.n_peers > 0;
    if (h->state != MON_HOST_OK && !have) {
        put_empty(s, y);
        return;
    }
    if (h->state != MON_HOST_OK) { /* stale data under a banner */
        char buf[400], e[300];
        fmt(buf, sizeof buf, "%s: %s (%s); showing data from before",
            mon_escape(h->name, m->utf8, e, sizeof e),
            h->state == MON_HOST_REFUSED ? "refused" : "not answering", h->error);
        y = body_text(s, y, buf, MON_A_BAD);
    } else if (h->snap.peers_error[0] != '\0' && h->snap.n_peers > 0) {
        char buf[400], e[300];
        fmt(buf, sizeof buf,
            h->peers_kept ? "associations not read (%s); showing them from before"
                          : "some sources missing (%s)",
            mon_escape(h->snap.peers_error, m->utf8, e, sizeof e));
        y = body_text(s, y, buf, MON_A_BAD);
    }
    if (m->v.mru_only) {
        put_mru(s, y, end);
        return;
    }
    if (h->snap.n_peers == 0) {
        put_empty(s, y);
        if (m->v.mru_on)
            put_mru(s, y + 3, end);
        return;
    }
    int avail = end - y, detail_h = 0, mru_h = 0;
    if (m->v.detail && avail >= 6)
        detail_h = avail >= 16 ? 5 : 3;
    if (m->v.mru_on && avail - detail_h >= 6) {
        int want = (int)h->snap.n_peers + 1;
        int table_h = want < (avail - detail_h) / 2 ? want : (avail - detail_h) / 2;
        mru_h = avail - detail_h - table_h;
    }
    int drawn;
    put_table(s, y, end - detail_h - mru_h, &drawn);
    if (mru_h)
        put_mru(s, end - detail_h - mru_h, end - detail_h);
    const struct m6_peer *p = detail_h ? selected_peer(m, h, s->now) : NULL;
    if (p)
        put_detail(s, p, end - detail_h, end);
}

void mon_model_layout(const struct mon_model *m, double now_unix_s, struct mon_frame *out)
{
    struct screen s = {m, NULL, out, now_unix_s, 0, 0};
    for (int y = 0; y < out->height; y++) {
        out->lines[y].text[0] = '\0';
        out->lines[y].nseg = 0;
    }
    if (out->width < 20 || out->height < 5 || m->n_hosts == 0) {
        if (out->height > 0) {
            struct lb b = line_at(&s, 0);
            lb_put(&b, m->n_hosts ? "terminal too small" : "no host", MON_A_BAD);
        }
        return;
    }
    s.h = &m->hosts[m->v.host < m->n_hosts ? m->v.host : 0];
    if (m->v.help) {
        put_help(&s);
        return;
    }
    int header = out->height >= 12 ? 2 : 1;
    put_header1(&s, 0);
    if (header == 2)
        put_header2(&s, 1);
    s.top = header;
    s.bottom = out->height - 2;
    put_body(&s);
    put_status(&s, out->height - 2);
    put_keybar(&s, out->height - 1);
}

/* ---- JSON ---- */

static const char *state_name(enum mon_host_state s)
{
    static const char *const n[] = {"waiting", "ok", "unreachable", "refused"};
    return (unsigned)s < 4 ? n[s] : "?";
}

static void json_estr(json_object *o, const char *key, const char *s)
{
    char e[600];
    cli_json_str(o, key, mon_escape(s, true, e, sizeof e));
}

static void json_time(json_object *o, const char *key, double unix_s)
{
    if (!(unix_s > 0) || !isfinite(unix_s)) {
        json_object_object_add(o, key, NULL);
        return;
    }
    char buf[NTK_TIMESTR_MAX];
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    double fl = floor(unix_s);
    struct timespec t = {(time_t)fl, (long)((unix_s - fl) * 1e9)};
    ntk_time_format_iso(&t, 3, &sb);
    cli_json_str(o, key, buf);
}

static json_object *json_sys(const struct m6_sys *y)
{
    json_object *o = json_object_new_object();
    cli_json_int(o, "leap", y->leap, y->leap >= 0);
    cli_json_int(o, "stratum", y->stratum, y->stratum >= 0);
    json_estr(o, "refid", y->refid);
    cli_json_seconds(o, "offset", y->offset_s);
    cli_json_seconds(o, "root_delay", y->root_delay_s);
    cli_json_seconds(o, "root_dispersion", y->root_disp_s);
    cli_json_seconds(o, "root_distance", y->root_dist_s);
    cli_json_seconds(o, "sys_jitter", y->sys_jitter_s);
    cli_json_seconds(o, "clk_jitter", y->clk_jitter_s);
    json_object_object_add(
        o, "frequency_ppm",
        isfinite(y->freq_ratio) ? json_object_new_double(y->freq_ratio * 1e6) : NULL);
    cli_json_seconds(o, "poll", y->poll_s);
    cli_json_int(o, "system_peer", y->sys_peer, y->sys_peer != 0);
    cli_json_int(o, "tai", y->tai_s, y->tai_s >= 0);
    json_time(o, "reftime", y->reftime_unix_s);
    json_time(o, "leap_file_expires", y->leap_expire_unix_s);
    json_estr(o, "version", y->version);
    return o;
}

static json_object *json_peer(const struct mon_model *m, const struct mon_host *h,
                              const struct m6_peer *p, double now)
{
    json_object *o = json_object_new_object();
    char t[2] = {m6_sel_tally(p->sel), '\0'}, ty[2] = {peer_type(p), '\0'};
    cli_json_int(o, "associd", p->associd, true);
    cli_json_str(o, "tally", t);
    cli_json_str(o, "selection", m6_sel_name(p->sel));
    json_estr(o, "srcadr", p->srcadr);
    cli_json_int(o, "srcport", p->srcport, true);
    json_estr(o, "srchost", p->srchost);
    json_estr(o, "refid", p->refid);
    cli_json_str(o, "t", ty);
    cli_json_int(o, "stratum", p->stratum, p->stratum >= 0);
    double w = peer_when(p, now);
    cli_json_int(o, "when", (long long)w, w >= 0);
    int lg = peer_poll_log2(p);
    cli_json_int(o, "poll", lg > 0 && lg < 31 ? 1LL << lg : 0, lg > 0 && lg < 31);
    cli_json_int(o, "reach", p->reach, p->reach_ok);
    cli_json_seconds(o, "delay", p->delay_s);
    cli_json_seconds(o, "offset", p->offset_s);
    cli_json_seconds(o, "jitter", p->jitter_s);
    cli_json_seconds(o, "dispersion", p->disp_s);
    json_time(o, "rec", p->rec_unix_s);
    cli_json_int(o, "ntscookies", p->ntscookies, p->ntscookies >= 0);
    cli_json_bool(o, "authentic", p->authentic);
    json_object *hist = json_object_new_array();
    double v[MON_HIST];
    size_t n = hist_values(hist_of(h, p->associd), v);
    for (size_t i = 0; i < n; i++)
        json_object_array_add(hist, json_object_new_double(v[i]));
    json_object_object_add(o, "history", hist);
    (void)m;
    return o;
}

static json_object *json_host(const struct mon_model *m, const struct mon_host *h, double now)
{
    json_object *o = json_object_new_object();
    json_estr(o, "name", h->name);
    cli_json_str(o, "state", state_name(h->state));
    cli_json_str(o, "error", h->error[0] ? h->error : NULL);
    if (h->snap.peers_error[0] != '\0')
        json_estr(o, "peers_error", h->snap.peers_error);
    else
        cli_json_str(o, "peers_error", NULL);
    json_time(o, "since", h->since_unix_s);
    bool have = h->snap.up || h->snap.n_peers > 0;
    json_object_object_add(o, "system", have ? json_sys(&h->snap.sys) : NULL);
    json_object *src = json_object_new_array();
    for (size_t i = 0; i < h->snap.n_peers; i++)
        json_object_array_add(src, json_peer(m, h, &h->snap.peers[i], now));
    json_object_object_add(o, "sources", src);
    json_object *mru = json_object_new_array();
    for (size_t i = 0; i < h->n_mru; i++) {
        const struct mon_mru *r = &h->mru[i];
        json_object *e = json_object_new_object();
        json_estr(e, "addr", r->addr);
        cli_json_int(e, "port", r->port, true);
        json_time(e, "first", r->first_unix_s);
        json_time(e, "last", r->last_unix_s);
        cli_json_int(e, "count", (long long)r->count, true);
        cli_json_int(e, "mode", r->mode, true);
        cli_json_int(e, "version", r->version, true);
        cli_json_int(e, "rstr", r->rstr, true);
        json_object_array_add(mru, e);
    }
    json_object_object_add(o, "mru", mru);
    json_time(o, "mru_time", h->mru_unix_s);
    return o;
}

json_object *mon_model_json(const struct mon_model *m, double now_unix_s)
{
    static const char *const modes[] = {"peers", "apeers", "opeers", "rpeers"};
    json_object *o = json_object_new_object();
    json_time(o, "time", now_unix_s);
    json_object *hosts = json_object_new_array();
    for (size_t i = 0; i < m->n_hosts; i++)
        json_object_array_add(hosts, json_host(m, &m->hosts[i], now_unix_s));
    json_object_object_add(o, "hosts", hosts);
    json_object *v = json_object_new_object();
    cli_json_str(v, "mode", modes[m->v.mode & 3]);
    cli_json_str(v, "sort", m->v.sort < MON_COL_COUNT ? spec_of(m->v.sort, m)->head : NULL);
    cli_json_bool(v, "sort_desc", m->v.sort_desc);
    cli_json_str(v, "filter", m->v.filter);
    cli_json_bool(v, "units", m->v.units);
    cli_json_bool(v, "numeric", m->v.numeric);
    cli_json_bool(v, "wide", m->v.wide);
    cli_json_bool(v, "reach_only", m->v.reach_only);
    cli_json_bool(v, "mru", m->v.mru_on || m->v.mru_only);
    cli_json_int(v, "host", (long long)m->v.host, true);
    json_object_object_add(o, "view", v);
    return o;
}
