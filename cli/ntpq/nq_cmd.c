/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpq's commands: NTPsec's names, prefix matching, messages and reports. */
#include "nq_cmd.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "nq_json.h"
#include "ntk/ctl.h"
#include "ntk/ctlc.h"

#include "poison.h"

#ifndef NTK_VERSION
#define NTK_VERSION "0"
#endif

/* Most text one report holds before it is written (mrulist writes line by line). */
#define NQ_OUT_MAX (1024 * 1024)

static void warn(struct nq *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct nq *q, const char *fmt, ...)
{
    va_list ap;
    fflush(q->out); /* keep reports and warnings in order on a shared terminal or pipe */
    va_start(ap, fmt);
    vfprintf(q->err, fmt, ap);
    va_end(ap);
    fputc('\n', q->err);
    fflush(q->err);
}

static void say(struct nq *q, const char *s)
{
    fputs(s, q->out);
    fflush(q->out);
}

/* A heap string builder for one report. */
struct out {
    char *buf;
    struct ntk_sb sb;
};

static bool out_open(struct out *o)
{
    o->buf = malloc(NQ_OUT_MAX);
    if (o->buf == NULL)
        return false;
    ntk_sb_init(&o->sb, o->buf, NQ_OUT_MAX);
    return true;
}

static void out_close(struct nq *q, struct out *o)
{
    fwrite(o->buf, 1, ntk_sb_len(&o->sb), q->out);
    fflush(q->out);
    free(o->buf);
}

/* NTPsec's exception messages (pylib/packet.py SERR_*), printed by warn(). */
static void warn_qerr(struct nq *q, int rc)
{
    static const char *const names[] = {"UNSPEC",   "PERMISSION", "BADFMT",   "BADOP",
                                        "BADASSOC", "UNKNOWNVAR", "BADVALUE", "RESTRICT"};
    if (rc >= NQ_Q_SERVER) {
        int code = rc - NQ_Q_SERVER;
        if (code < 8)
            warn(q, "***Server error code %s", names[code]);
        else
            warn(q, "***Server error code %d", code);
        return;
    }
    switch (rc) {
    case NQ_Q_TIMEOUT:
        warn(q, "***Request timed out\n");
        break;
    case NQ_Q_SOCKET:
        warn(q, "***Socket error; probably ntpd is not running\n");
        break;
    case NQ_Q_INCOMPLETE:
        warn(q, "***Response from server was incomplete\n");
        break;
    case NQ_Q_AUTH:
        warn(q, "***Response failed authentication");
        break;
    case NQ_Q_NOKEY:
        warn(q, "***Key not found");
        break;
    default:
        warn(q, "***No host open\n");
        break;
    }
}

/* One request; warns and returns false on failure (a server error forgets the key, as
 * NTPsec's ntpq does). */
static bool query(struct nq *q, uint8_t op, uint16_t associd, const char *data, bool auth,
                  struct nq_reply *r)
{
    if (q->hostname == NULL) {
        warn_qerr(q, NQ_Q_NOHOST);
        return false;
    }
    uint32_t keyid = auth || q->always_auth ? q->keyid : 0;
    int rc = q->io->query(q->io->ctx, op, associd, data, strlen(data), keyid, r);
    if (rc == 0)
        return true;
    if (rc >= NQ_Q_SERVER)
        q->keyid = 0;
    warn_qerr(q, rc);
    return false;
}

void nq_init(struct nq *q, const struct nq_io *io, FILE *out, FILE *err)
{
    memset(q, 0, sizeof *q);
    q->io = io;
    q->out = out;
    q->err = err;
    q->st.showhostnames = 1;
    q->st.termwidth = 80;
    q->st.cookwidth = 78;
    q->st.resolve = io->resolve;
    q->st.resolve_ctx = io->ctx;
    q->timeout_ms = 5000;
    q->pktversion = 2;
    q->family = AF_UNSPEC;
    memcpy(q->keytype, "MD5", 4);
}

void nq_fini(struct nq *q)
{
    for (size_t i = 0; i < q->nuvars; i++)
        free(q->uvars[i]);
    q->nuvars = 0;
}

/* ---- associations ---- */

static bool getassoc(struct nq *q)
{
    struct nq_reply r;
    if (!query(q, NTK_CTL_OP_READSTAT, 0, "", false, &r))
        return false;
    if (r.len % 4 != 0) {
        warn(q, "***Response length should have been a multiple of 4");
        return false;
    }
    size_t pos = 0;
    uint16_t id, st;
    q->nassoc = 0;
    while (q->nassoc < NQ_MAX_ASSOC &&
           ntk_ctl_assoc_next((const uint8_t *)r.data, r.len, &pos, &id, &st) == 1) {
        /* Insertion keeps them sorted by id (NTPsec sorts its list). */
        size_t i = q->nassoc++;
        for (; i > 0 && q->ids[i - 1] > id; i--) {
            q->ids[i] = q->ids[i - 1];
            q->status[i] = q->status[i - 1];
        }
        q->ids[i] = id;
        q->status[i] = st;
    }
    if (q->nassoc == 0) {
        fprintf(q->out, "server=%s ", q->hostname);
        say(q, "No association IDs returned\n");
        return false;
    }
    if (q->debug)
        warn(q, "\n%zu associations total", q->nassoc);
    return true;
}

static void print_assoc(struct nq *q)
{
    if (q->json) {
        nq_json_assoc(q);
        return;
    }
    struct out o;
    if (!out_open(&o))
        return;
    nq_assoc_table(&o.sb, q->ids, q->status, q->nassoc);
    out_close(q, &o);
}

static void cmd_associations(struct nq *q, const char *arg)
{
    (void)arg;
    if (getassoc(q))
        print_assoc(q);
}

static void cmd_passociations(struct nq *q, const char *arg)
{
    (void)arg;
    print_assoc(q);
}

/* NTPsec's __assoc_valid: "" gives 0 (or an error when required), "&N" the Nth
 * association, a number that association. Returns the id or -1 after a warning. */
static long assoc_valid(struct nq *q, const char *arg, bool required)
{
    while (isspace((unsigned char)*arg))
        arg++;
    if (*arg == '\0') {
        if (required)
            warn(q, "An associd argument is required.");
        return required ? -1 : 0;
    }
    if (q->nassoc == 0)
        getassoc(q);
    char *end;
    if (*arg == '&') {
        long idx = strtol(arg + 1, &end, 10);
        if (end == arg + 1 || (*end && !isspace((unsigned char)*end))) {
            warn(q, "Invalid index literal.");
            return -1;
        }
        if (idx < 0 || idx >= 65535) {
            warn(q, "%ld is not a valid association number.", idx);
            return -1;
        }
        if (idx < 1 || (size_t)idx > q->nassoc) {
            warn(q, "No such association as %ld.", idx);
            return -1;
        }
        return q->ids[idx - 1];
    }
    long id = strtol(arg, &end, 10);
    if (end == arg || (*end && !isspace((unsigned char)*end))) {
        warn(q, "Invalid associd literal.");
        return -1;
    }
    bool known = id == 0;
    for (size_t i = 0; i < q->nassoc && !known; i++)
        known = q->ids[i] == id;
    if (!known) {
        warn(q, "Unknown associd.");
        return -1;
    }
    return id;
}

/* Splits arg into whitespace-separated words (in a copy); returns the count. */
static size_t split_words(const char *arg, char *buf, size_t cap, char **w, size_t max)
{
    snprintf(buf, cap, "%s", arg);
    size_t n = 0;
    char *p = buf;
    while (n < max) {
        while (isspace((unsigned char)*p))
            *p++ = '\0';
        if (*p == '\0')
            break;
        w[n++] = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
    }
    return n;
}

/* ---- variable reads (readvar, clockvar, readlist, mreadvar) ---- */

static void print_vars(struct nq *q, const struct nq_reply *r, const struct nq_vars *vs,
                       int type, bool quiet, struct ntk_sb *sb)
{
    if (q->raw) {
        if (!quiet)
            ntk_sb_printf(sb, "status=0x%04x,\n", r->status);
        for (size_t i = 0; i < r->len; i++) {
            if (r->data[i] == ',' && i + 2 < r->len && r->data[i + 1] == '\r' &&
                r->data[i + 2] == '\n') {
                ntk_sb_puts(sb, ",\n");
                i += 2;
            } else
                ntk_sb_putc(sb, r->data[i] == '\'' ? '"' : r->data[i]);
        }
        return;
    }
    if (!quiet) {
        ntk_sb_printf(sb, "status=%04x ", r->status);
        nq_put_statustoa(sb, type, r->status);
        ntk_sb_puts(sb, ",\n");
    }
    nq_cook(sb, &q->st, vs);
}

/* NTPsec's __dolist: read the variables (all when nvars is 0) and print them. */
static bool dolist(struct nq *q, char **vars, size_t nvars, long associd, uint8_t op, int type,
                   bool quiet, const char *cmd)
{
    char req[NTK_CTLC_REQ_MAX + 1];
    struct ntk_sb rs;
    ntk_sb_init(&rs, req, sizeof req);
    for (size_t i = 0; i < nvars; i++)
        ntk_sb_printf(&rs, "%s%s", i ? "," : "", vars[i]);
    struct nq_reply r;
    if (!query(q, op, (uint16_t)associd, req, false, &r))
        return false;
    struct nq_vars vs;
    if (nq_vars_parse(r.data, r.len, &vs) != 0)
        return false;
    if (q->json) {
        nq_json_vars(q, cmd, (uint16_t)associd, r.status, type, &vs);
        nq_vars_free(&vs);
        return true;
    }
    struct out o;
    if (!out_open(&o)) {
        nq_vars_free(&vs);
        return false;
    }
    if (q->nhosts > 1)
        ntk_sb_printf(&o.sb, "server=%s ", q->hostname);
    if (vs.n == 0) {
        if (associd == 0) {
            if (type == NQ_TYPE_CLOCK)
                ntk_sb_puts(&o.sb, "No system clock variables returned\n");
        } else
            ntk_sb_printf(&o.sb, "No information returned for%s association %ld\n",
                          type == NQ_TYPE_CLOCK ? " clock" : "", associd);
    } else {
        if (!quiet)
            ntk_sb_printf(&o.sb, "associd=%ld ", associd);
        print_vars(q, &r, &vs, type, nvars > 0, &o.sb);
    }
    out_close(q, &o);
    nq_vars_free(&vs);
    return true;
}

static void cmd_readvar(struct nq *q, const char *arg)
{
    char buf[1024], *w[64];
    size_t n = split_words(arg, buf, sizeof buf, w, 64);
    long id = assoc_valid(q, arg, false);
    if (id < 0)
        return;
    dolist(q, w + (n > 0), n > 0 ? n - 1 : 0, id, NTK_CTL_OP_READVAR,
           id == 0 ? NQ_TYPE_SYS : NQ_TYPE_PEER, n >= 2, "readvar");
}

static void cmd_readlist(struct nq *q, const char *arg)
{
    long id = assoc_valid(q, arg, false);
    if (id >= 0)
        dolist(q, q->uvars, q->nuvars, id, NTK_CTL_OP_READVAR,
               id == 0 ? NQ_TYPE_SYS : NQ_TYPE_PEER, false, "readlist");
}

static void cmd_clocklist(struct nq *q, const char *arg)
{
    long id = assoc_valid(q, arg, false);
    if (id >= 0)
        dolist(q, q->uvars, q->nuvars, id, NTK_CTL_OP_READCLOCK, NQ_TYPE_CLOCK, false,
               "clocklist");
}

static void cmd_clockvar(struct nq *q, const char *arg)
{
    char buf[1024], *w[64];
    size_t n = split_words(arg, buf, sizeof buf, w, 64);
    long id = assoc_valid(q, arg, false);
    if (id == 0)
        warn(q, "This command requires the association ID of a clock.");
    else if (id > 0)
        dolist(q, w + 1, n - 1, id, NTK_CTL_OP_READCLOCK, NQ_TYPE_CLOCK, false, "clockvar");
}

/* mreadvar / mreadlist: every id from low to high. */
static void mread(struct nq *q, const char *arg, bool uservars, const char *usage)
{
    char buf[1024], *w[64];
    size_t n = split_words(arg, buf, sizeof buf, w, 64);
    if (n == 0) {
        warn(q, "%s", usage);
        return;
    }
    if (n < 2)
        return;
    long lo = assoc_valid(q, w[0], false), hi = assoc_valid(q, w[1], false);
    if (lo < 0 || hi < 0 || hi < lo)
        return;
    for (long id = lo; id <= hi; id++) {
        if (id != lo)
            say(q, "\n");
        bool ok = uservars ? dolist(q, q->uvars, q->nuvars, id, NTK_CTL_OP_READVAR,
                                    NQ_TYPE_PEER, false, "mreadlist")
                           : dolist(q, w + 2, n - 2, id, NTK_CTL_OP_READVAR, NQ_TYPE_PEER,
                                    false, "mreadvar");
        if (!ok)
            return;
    }
}

static void cmd_mreadvar(struct nq *q, const char *arg)
{
    mread(q, arg, false, "usage: mreadvar assocIDlow assocIDhigh  [ name=value[,...] ]");
}

static void cmd_mrv(struct nq *q, const char *arg)
{
    mread(q, arg, false, "usage: mrv assocIDlow assocIDhigh [name=value[,...]]");
}

static void cmd_mreadlist(struct nq *q, const char *arg)
{
    mread(q, arg, true, "usage: mreadlist assocIDlow assocIDhigh\n");
}

static void cmd_mrl(struct nq *q, const char *arg)
{
    mread(q, arg, true, "usage: mrl assocIDlow assocIDhigh");
}

/* ---- peers ---- */

static void dopeers(struct nq *q, enum nq_peers_mode m)
{
    if (!getassoc(q))
        return;
    q->st.now_s = q->io->now(q->io->ctx);
    struct out o;
    if (!out_open(&o))
        return;
    int mh = (int)q->maxhostlen;
    if (!q->json) {
        if (q->nhosts > 1)
            ntk_sb_printf(&o.sb, "%-*.*s ", mh, mh + 1, "server");
        int w = nq_peers_header(&o.sb, &q->st, m);
        ntk_sb_putc(&o.sb, '\n');
        for (int i = 0; q->nhosts > 1 && i < mh + 1; i++)
            ntk_sb_putc(&o.sb, '=');
        for (int i = 0; i < w; i++)
            ntk_sb_putc(&o.sb, '=');
        ntk_sb_putc(&o.sb, '\n');
    }
    void *js = q->json ? nq_json_peers_begin(q, m) : NULL;
    for (size_t i = 0; i < q->nassoc; i++) {
        struct nq_reply r;
        if (!query(q, NTK_CTL_OP_READVAR, q->ids[i], "", false, &r))
            break;
        struct nq_vars vs;
        if (nq_vars_parse(r.data, r.len, &vs) != 0)
            break;
        if (vs.n == 0) {
            if (q->nhosts > 1)
                warn(q, "server=%s ", q->hostname);
            warn(q, "***No information returned for association %u", q->ids[i]);
        } else if (js != NULL)
            nq_json_peers_add(q, js, r.status, &vs, q->ids[i]);
        else {
            if (q->nhosts > 1) {
                const char *h = q->hostname;
                int hl = (int)strlen(h);
                if (hl <= mh)
                    ntk_sb_puts(&o.sb, h);
                else
                    ntk_sb_printf(&o.sb, "-%s", h + hl - mh + 1);
                ntk_sb_printf(&o.sb, "%*s", mh + 1 - hl > 0 ? mh + 1 - hl : 0, "");
            }
            nq_peers_line(&o.sb, &q->st, m, r.status, &vs, q->ids[i]);
        }
        nq_vars_free(&vs);
    }
    if (js != NULL)
        nq_json_peers_end(q, js);
    out_close(q, &o);
}

static void cmd_peers(struct nq *q, const char *arg)
{
    (void)arg;
    dopeers(q, NQ_PEERS);
}

static void cmd_apeers(struct nq *q, const char *arg)
{
    (void)arg;
    dopeers(q, NQ_APEERS);
}

static void cmd_opeers(struct nq *q, const char *arg)
{
    (void)arg;
    dopeers(q, NQ_OPEERS);
}

static void cmd_rpeers(struct nq *q, const char *arg)
{
    (void)arg;
    dopeers(q, NQ_RPEERS);
}

/* ---- statistics tables ---- */

/* Reads the names of table c (and their "_r" twins) from associd; NTPsec retries one
 * variable at a time when the server does not know one of them. */
static bool read_table(struct nq *q, const struct nq_stats_cmd *c, long associd,
                       struct nq_reply *r, struct nq_vars *vs)
{
    char req[2048];
    struct ntk_sb rs;
    ntk_sb_init(&rs, req, sizeof req);
    for (int twin = 0; twin <= (int)c->pairs; twin++)
        for (size_t i = 0; i < c->n; i++)
            ntk_sb_printf(&rs, "%s%s%s", ntk_sb_len(&rs) ? "," : "", c->rows[i].name,
                          twin ? "_r" : "");
    int rc = q->io->query(q->io->ctx, NTK_CTL_OP_READVAR, (uint16_t)associd, req,
                          ntk_sb_len(&rs), q->always_auth ? q->keyid : 0, r);
    if (rc == NQ_Q_SERVER + NTK_CTL_CERR_UNKNOWNVAR) {
        warn(q, "Unknown variable.  Trying one at a time.");
        /* Collected one by one into a list text of our own. */
        static char acc[65536];
        struct ntk_sb as;
        ntk_sb_init(&as, acc, sizeof acc);
        uint16_t status = 0;
        for (int twin = 0; twin <= (int)c->pairs; twin++)
            for (size_t i = 0; i < c->n; i++) {
                char one[96];
                snprintf(one, sizeof one, "%s%s", c->rows[i].name, twin ? "_r" : "");
                struct nq_reply r1;
                int rc1 = q->io->query(q->io->ctx, NTK_CTL_OP_READVAR, (uint16_t)associd, one,
                                       strlen(one), 0, &r1);
                if (rc1 == 0) {
                    ntk_sb_printf(&as, "%s%.*s", ntk_sb_len(&as) ? ", " : "", (int)r1.len,
                                  r1.data);
                    status = r1.status;
                } else if (rc1 == NQ_Q_SERVER + NTK_CTL_CERR_UNKNOWNVAR)
                    ntk_sb_printf(&as, "%s%s=?", ntk_sb_len(&as) ? ", " : "", one);
                else {
                    warn_qerr(q, rc1);
                    return false;
                }
            }
        *r = (struct nq_reply){.data = acc, .len = ntk_sb_len(&as), .status = status};
        rc = 0;
    }
    if (rc != 0) {
        if (rc >= NQ_Q_SERVER)
            q->keyid = 0;
        warn_qerr(q, rc);
        return false;
    }
    return nq_vars_parse(r->data, r->len, vs) == 0;
}

static void show_table(struct nq *q, const char *name, long associd)
{
    const struct nq_stats_cmd *c = nq_stats_find(name);
    struct nq_reply r;
    struct nq_vars vs;
    if (c == NULL || !read_table(q, c, associd, &r, &vs))
        return;
    q->st.now_s = q->io->now(q->io->ctx);
    if (q->json)
        nq_json_table(q, c, (uint16_t)associd, r.status, &vs);
    else if (q->raw) {
        fwrite(r.data, 1, r.len, q->out);
        fflush(q->out);
    } else {
        struct out o;
        if (out_open(&o)) {
            nq_stats_show(&o.sb, &q->st, c, &vs, (uint16_t)associd, r.status);
            out_close(q, &o);
        }
    }
    nq_vars_free(&vs);
}

static void cmd_pstats(struct nq *q, const char *arg)
{
    while (isspace((unsigned char)*arg))
        arg++;
    if (*arg == '\0') {
        warn(q, "usage: pstats assocID");
        return;
    }
    long id = assoc_valid(q, arg, false);
    if (id >= 0)
        show_table(q, "pstats", id);
}

static void cmd_table(struct nq *q, const char *arg, const char *name)
{
    (void)arg;
    show_table(q, name, 0);
    if (strcmp(name, "sysstats") == 0)
        show_table(q, "sysstats2", 0);
}

/* ---- mrulist ---- */

/* What the chunks of one mrulist build up. */
struct mru_span {
    struct nq_mru *e; /* entries in the order received */
    size_t n, cap;    /* used, allocated */
    size_t slots;     /* entries parsed (before duplicates are dropped) */
    bool have_now;    /* the "now=" item (end of the list) arrived */
    double now_s;     /* its time */
    double clock_s;   /* our time, the era pivot */
    struct nq *q;     /* for raw output */
    bool failed;      /* out of memory */
};

/* Index of tag "stem.N" in the chunk's entries: the N after a known stem, else -1. */
static long mru_index(const char *name, const char **stem)
{
    static const char *const stems[] = {"addr", "last", "first", "ct", "mv", "rs", "sc", "dr"};
    for (size_t i = 0; i < 8; i++) {
        size_t l = strlen(stems[i]);
        if (strncmp(name, stems[i], l) == 0 && name[l] == '.' &&
            isdigit((unsigned char)name[l + 1])) {
            *stem = stems[i];
            return strtol(name + l + 1, NULL, 10);
        }
    }
    return -1;
}

static void mru_set(struct nq_mru *e, const char *stem, const struct nq_var *v, double now)
{
    if (strcmp(stem, "addr") == 0)
        snprintf(e->addr, sizeof e->addr, "%s", v->str);
    else if (strcmp(stem, "last") == 0) {
        snprintf(e->last, sizeof e->last, "%s", v->str);
        nq_lfp_to_unix(v->str, now, &e->last_s);
    } else if (strcmp(stem, "first") == 0) {
        snprintf(e->first, sizeof e->first, "%s", v->str);
        nq_lfp_to_unix(v->str, now, &e->first_s);
    } else if (strcmp(stem, "ct") == 0)
        e->ct = v->kind == NQ_STR ? 0 : v->i;
    else if (strcmp(stem, "mv") == 0)
        e->mv = v->kind == NQ_STR ? 0 : v->i;
    else if (strcmp(stem, "rs") == 0)
        e->rs = v->kind == NQ_STR ? 0 : v->i;
    else if (strcmp(stem, "sc") == 0) {
        e->sc = v->d;
        e->has_sc = v->kind != NQ_STR;
    } else if (strcmp(stem, "dr") == 0) {
        e->dr = v->kind == NQ_STR ? 0 : v->i;
        e->has_dr = v->kind != NQ_STR;
    }
}

static void mru_chunk(void *ctx, const char *data, size_t len)
{
    struct mru_span *s = ctx;
    struct nq_vars vs;
    if (s->failed || nq_vars_parse(data, len, &vs) != 0) {
        s->failed = true;
        return;
    }
    if (s->q->raw) {
        struct out o;
        if (out_open(&o)) {
            nq_cook(&o.sb, &s->q->st, &vs);
            out_close(s->q, &o);
        }
    }
    long maxidx = -1;
    for (size_t i = 0; i < vs.n; i++) {
        const char *stem;
        long k = mru_index(vs.v[i].name, &stem);
        if (k > maxidx && k < 100000)
            maxidx = k;
        if (strcmp(vs.v[i].name, "now") == 0) {
            s->have_now = nq_lfp_to_unix(vs.v[i].str, s->clock_s, &s->now_s);
        }
    }
    size_t base = s->n, add = (size_t)(maxidx + 1);
    if (base + add > s->cap) {
        size_t cap = (base + add) * 2;
        struct nq_mru *e = realloc(s->e, cap * sizeof *e);
        if (e == NULL) {
            s->failed = true;
            nq_vars_free(&vs);
            return;
        }
        s->e = e;
        s->cap = cap;
    }
    bool *seen = calloc(add + 1, sizeof *seen);
    if (add > 0)
        memset(s->e + base, 0, add * sizeof *s->e);
    for (size_t i = 0; i < vs.n && seen != NULL; i++) {
        const char *stem;
        long k = mru_index(vs.v[i].name, &stem);
        if (k < 0 || k > maxidx)
            continue;
        seen[k] = true;
        mru_set(&s->e[base + (size_t)k], stem, &vs.v[i], s->clock_s);
    }
    /* Indexes that never appeared are not entries (ntpq keeps only those it saw). */
    size_t w = base;
    for (size_t k = 0; k < add && seen != NULL; k++)
        if (seen[k])
            s->e[w++] = s->e[base + k];
    s->slots += w - base;
    s->n = w;
    free(seen);
    nq_vars_free(&vs);
}

/* stitch_mru: keeps only the newest entry of each address (the later one on a tie), in
 * the order received. Sorting indexes keeps it O(n log n) for long lists. */
static const struct nq_mru *dedupe_base;

static int dedupe_cmp(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(dedupe_base[i].addr, dedupe_base[j].addr);
    if (c == 0)
        c = strcmp(dedupe_base[i].last, dedupe_base[j].last);
    return c != 0 ? c : i < j ? -1 : i > j;
}

static void mru_dedupe(struct mru_span *s)
{
    size_t *idx = s->n ? malloc(s->n * sizeof *idx) : NULL;
    bool *keep = s->n ? calloc(s->n, sizeof *keep) : NULL;
    if (idx == NULL || keep == NULL) {
        free(idx);
        free(keep);
        return;
    }
    for (size_t i = 0; i < s->n; i++)
        idx[i] = i;
    dedupe_base = s->e;
    qsort(idx, s->n, sizeof *idx, dedupe_cmp);
    for (size_t k = 0; k < s->n; k++)
        keep[idx[k]] = k + 1 == s->n || strcmp(s->e[idx[k]].addr, s->e[idx[k + 1]].addr) != 0;
    size_t w = 0;
    for (size_t i = 0; i < s->n; i++)
        if (keep[i])
            s->e[w++] = s->e[i];
    s->n = w;
    free(idx);
    free(keep);
}

static const char *mru_sort_key;

/* Address key: IPv4 before IPv6, each in numeric order (MRUEntry.sortaddr). */
static void sortaddr(const struct nq_mru *e, uint8_t out[32])
{
    char ip[64];
    snprintf(ip, sizeof ip, "%s", e->addr[0] == '[' ? e->addr + 1 : e->addr);
    char *c = strchr(ip, ']');
    if (c == NULL && strchr(ip, ':') == strrchr(ip, ':'))
        c = strchr(ip, ':');
    if (c)
        *c = '\0';
    memset(out, 0, 32);
    if (inet_pton(AF_INET6, ip, out) != 1 && inet_pton(AF_INET, ip, out + 16 + 12) == 1) {
        memset(out, 0, 16);
        memmove(out + 16, out + 28, 4);
        memset(out + 20, 0, 12);
    }
}

static double mru_key(const struct nq_mru *e, const char *k)
{
    bool neg = k[0] == '-';
    const char *n = k + neg;
    double v = 0;
    if (strcmp(n, "lstint") == 0)
        v = e->last_s, neg = !neg;
    else if (strcmp(n, "avgint") == 0)
        v = e->ct ? (e->last_s - e->first_s) / (double)e->ct : 0;
    else if (strcmp(n, "count") == 0)
        v = (double)e->ct;
    else if (strcmp(n, "score") == 0)
        v = e->sc;
    else if (strcmp(n, "drop") == 0)
        v = (double)e->dr;
    return neg ? v : -v;
}

static int mru_cmp(const void *a, const void *b)
{
    const struct nq_mru *x = a, *y = b;
    if (strcmp(mru_sort_key, "addr") == 0 || strcmp(mru_sort_key, "-addr") == 0) {
        uint8_t ka[32], kb[32];
        sortaddr(x, ka);
        sortaddr(y, kb);
        return memcmp(ka, kb, 32);
    }
    double ka = mru_key(x, mru_sort_key), kb = mru_key(y, mru_sort_key);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/* The parameters of the mrulist command as NTPsec's ntpq writes them into its requests.
 * Returns false after a warning. */
static bool mru_params(struct nq *q, const char *arg, struct ntk_sb *ps, unsigned *frags,
                       const char **sort)
{
    static const char *const allowed[] = {"mincount",  "mindrop", "minscore", "resall",
                                          "resany",    "kod",     "limited",  "maxlstint",
                                          "minlstint", "laddr",   "recent",   "sort",
                                          "frags",     "limit",   NULL};
    char buf[1024], *w[32];
    size_t n = split_words(arg, buf, sizeof buf, w, 32);
    int64_t resany = 0, resall = 0;
    bool have_resany = false, have_resall = false;
    *sort = NULL;
    for (size_t i = 0; i < n; i++) {
        char *eq = strchr(w[i], '=');
        const char *val = eq ? eq + 1 : "True";
        if (eq)
            *eq = '\0';
        bool ok = false;
        for (size_t k = 0; allowed[k] && !ok; k++)
            ok = strcmp(w[i], allowed[k]) == 0;
        if (!ok && (strncmp(w[i], "addr.", 5) == 0 || strncmp(w[i], "last.", 5) == 0)) {
            long k = strtol(w[i] + 5, NULL, 10);
            ok = isdigit((unsigned char)w[i][5]) && k < 16;
        }
        if (!ok) {
            warn(q, "***Unknown parameter '%s'", w[i]);
            return false;
        }
        struct nq_var v;
        char vbuf[256];
        snprintf(vbuf, sizeof vbuf, "%s", val);
        struct nq_vars tmp;
        char item[300];
        snprintf(item, sizeof item, "x=%s", vbuf);
        if (nq_vars_parse(item, strlen(item), &tmp) != 0 || tmp.n != 1) {
            nq_vars_free(&tmp);
            continue;
        }
        v = tmp.v[0];
        if (strcmp(w[i], "sort") == 0) {
            static char sortbuf[32];
            snprintf(sortbuf, sizeof sortbuf, "%s", v.str);
            *sort = strcmp(sortbuf, "lstint") == 0 ? NULL : sortbuf;
        } else if (strcmp(w[i], "frags") == 0)
            *frags = v.kind == NQ_INT && v.i > 0 ? (unsigned)v.i : *frags;
        else if (strcmp(w[i], "kod") == 0)
            resany |= 0x400, have_resany = true;
        else if (strcmp(w[i], "limited") == 0)
            resany |= 0x20, have_resany = true;
        else if (strcmp(w[i], "resany") == 0)
            resany |= v.kind == NQ_INT ? v.i : 0, have_resany = true;
        else if (strcmp(w[i], "resall") == 0)
            resall = v.kind == NQ_INT ? v.i : 0, have_resall = true;
        else {
            ntk_sb_printf(ps, "%s%s=", ntk_sb_len(ps) ? ", " : "", w[i]);
            if (v.kind == NQ_STR)
                ntk_sb_puts(ps, v.str);
            else
                nq_put_repr(ps, &v);
        }
        nq_vars_free(&tmp);
    }
    if (have_resall)
        ntk_sb_printf(ps, "%sresall=0x%llx", ntk_sb_len(ps) ? ", " : "",
                      (unsigned long long)resall);
    if (have_resany)
        ntk_sb_printf(ps, "%sresany=0x%llx", ntk_sb_len(ps) ? ", " : "",
                      (unsigned long long)resany);
    if (*sort != NULL) {
        static const char *const keys[] = {"-lstint", "avgint", "-avgint", "addr",
                                           "-addr",   "count",  "-count",  "score",
                                           "-score",  "drop",   "-drop",   NULL};
        bool ok = false;
        for (size_t k = 0; keys[k] && !ok; k++)
            ok = strcmp(*sort, keys[k]) == 0;
        if (!ok) {
            warn(q, "***Sort order %s is not implemented", *sort);
            return false;
        }
    }
    return true;
}

static double monotonic_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void mru_print(struct nq *q, struct mru_span *s, double t0)
{
    char line[512];
    struct ntk_sb l;
    fprintf(q->out, "%s\n", nq_mru_header);
    for (size_t i = 0; i < strlen(nq_mru_header); i++)
        fputc('=', q->out);
    fputc('\n', q->out);
    for (size_t i = s->n; i-- > 0;) {
        ntk_sb_init(&l, line, sizeof line);
        nq_mru_line(&l, &q->st, &s->e[i], s->now_s);
        fputs(line, q->out);
    }
    fprintf(q->out, "# Collected %zu slots in %.3f seconds\n", s->slots, monotonic_s() - t0);
}

static void cmd_mrulist(struct nq *q, const char *arg)
{
    char params[NTK_CTLC_REQ_MAX + 1];
    struct ntk_sb ps;
    ntk_sb_init(&ps, params, sizeof params);
    unsigned frags = 32;
    const char *sort;
    if (!q->json)
        say(q, "Ctrl-C will stop MRU retrieval and display partial results.\n");
    if (!mru_params(q, arg, &ps, &frags, &sort))
        return;
    double t0 = monotonic_s();
    struct mru_span s = {.q = q, .clock_s = q->io->now(q->io->ctx)};
    q->st.now_s = s.clock_s;
    int rc = q->hostname == NULL
                 ? NQ_Q_NOHOST
                 : q->io->mrulist(q->io->ctx, params, ntk_sb_len(&ps), frags, mru_chunk, &s);
    if (rc != 0) {
        warn_qerr(q, rc);
        free(s.e);
        return;
    }
    mru_dedupe(&s);
    if (sort != NULL && s.n > 0) {
        mru_sort_key = sort;
        qsort(s.e, s.n, sizeof *s.e, mru_cmp);
        if (strcmp(sort, "addr") == 0)
            for (size_t i = 0; i < s.n / 2; i++) {
                struct nq_mru t = s.e[i];
                s.e[i] = s.e[s.n - 1 - i];
                s.e[s.n - 1 - i] = t;
            }
    }
    if (!s.have_now)
        s.now_s = s.clock_s;
    if (q->json)
        nq_json_mru(q, s.e, s.n, s.now_s);
    else {
        if (!q->raw)
            mru_print(q, &s, t0);
        fprintf(q->out, "# Processed %zu slots in %.3f seconds\n", s.slots,
                monotonic_s() - t0);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        fprintf(q->out, "# Used %ld megabytes of memory\n", ru.ru_maxrss / 1024);
        fflush(q->out);
    }
    free(s.e);
}

/* ---- authenticated lists (ifstats, reslist) ---- */

/* NTPsec's session.password(): a key id (prompted on a terminal) and its key. */
static bool password(struct nq *q)
{
    if (q->keyid == 0) {
        long id = 0;
        if (isatty(0)) {
            char buf[64];
            fputs("Keyid: ", stdout);
            fflush(stdout);
            if (fgets(buf, sizeof buf, stdin) != NULL)
                id = strtol(buf, NULL, 10);
        }
        if (id <= 0 || id > 65535) {
            warn(q, "***Invalid key identifier");
            return false;
        }
        q->keyid = (uint32_t)id;
    }
    if (q->io->have_key(q->io->ctx, q->keyid))
        return true;
    if (!isatty(0)) {
        warn(q, "***Invalid password");
        return false;
    }
    char *pw = getpass("Password: ");
    if (pw == NULL || q->io->add_key(q->io->ctx, q->keyid, q->keytype, pw) != 0) {
        warn(q, "***Invalid password");
        return false;
    }
    return true;
}

static void ordlist(struct nq *q, const char *what, bool ifstats)
{
    if (!password(q))
        return;
    struct nq_reply r;
    if (!query(q, NTK_CTL_OP_READ_ORDLIST_A, 0, what, true, &r))
        return;
    if (q->raw) {
        fwrite(r.data, 1, r.len, q->out);
        fputc('\n', q->out);
        fflush(q->out);
        return;
    }
    struct nq_vars vs;
    if (nq_vars_parse(r.data, r.len, &vs) != 0)
        return;
    unsigned n = nq_ordlist_count(&vs);
    if (q->json)
        nq_json_ordlist(q, ifstats ? "ifstats" : "reslist", &vs, n);
    else {
        struct out o;
        if (out_open(&o)) {
            if (ifstats)
                nq_ifstats_header(&o.sb);
            else
                nq_reslist_header(&o.sb);
            for (unsigned i = 0; i < n; i++)
                if (ifstats)
                    nq_ifstats_entry(&o.sb, &vs, i);
                else
                    nq_reslist_entry(&o.sb, &vs, i);
            out_close(q, &o);
        }
    }
    nq_vars_free(&vs);
}

static void cmd_ifstats(struct nq *q, const char *arg)
{
    (void)arg;
    ordlist(q, "ifstats", true);
}

static void cmd_reslist(struct nq *q, const char *arg)
{
    (void)arg;
    ordlist(q, "addr_restrictions", false);
}

/* ---- settings ---- */

static void cmd_units(struct nq *q, const char *arg)
{
    (void)arg;
    q->st.units = !q->st.units;
}

static void cmd_timeout(struct nq *q, const char *arg)
{
    if (*arg) {
        char *end;
        long ms = strtol(arg, &end, 10);
        if (end == arg || *end)
            warn(q, "What?");
        else {
            q->timeout_ms = ms;
            q->io->set_timeout(q->io->ctx, ms);
        }
    }
    fprintf(q->out, "primary timeout %ld ms\n", q->timeout_ms);
}

static void cmd_delay(struct nq *q, const char *arg)
{
    static long delay = 20;
    if (*arg == '\0') {
        fprintf(q->out, "delay %ld ms\n", delay);
        return;
    }
    char *end;
    long d = strtol(arg, &end, 10);
    if (end == arg || *end || d < 0)
        say(q, "Huh?");
    else
        delay = d;
}

static void cmd_host(struct nq *q, const char *arg)
{
    char buf[512], *w[3];
    size_t n = split_words(arg, buf, sizeof buf, w, 3), i = 0;
    if (n == 0) {
        if (q->hostname)
            fprintf(q->out, "current host is %s\n", q->hostname);
        else
            say(q, "no current host\n");
        return;
    }
    if (strcmp(w[0], "-4") == 0 || strcmp(w[0], "-6") == 0)
        q->family = w[i++][1] == '4' ? AF_INET : AF_INET6;
    if (i < n && q->io->open(q->io->ctx, w[i], q->family, q->err) == 0) {
        snprintf(q->hostbuf, sizeof q->hostbuf, "%s", w[i]);
        q->hostname = q->hostbuf;
        q->nassoc = 0;
        fprintf(q->out, "current host set to %s\n", q->hostname);
    } else if (q->hostname)
        fprintf(q->out, "current host remains %s\n", q->hostname);
    else
        say(q, "still no current host\n");
}

static void cmd_poll(struct nq *q, const char *arg)
{
    (void)arg;
    warn(q, "WARNING: poll not implemented yet");
}

static void cmd_passwd(struct nq *q, const char *arg)
{
    (void)arg;
    password(q);
}

static void cmd_hostnames(struct nq *q, const char *arg)
{
    if (strcmp(arg, "yes") == 0)
        q->st.showhostnames = 1;
    else if (strcmp(arg, "no") == 0)
        q->st.showhostnames = 0;
    else if (strcmp(arg, "hostnum") == 0)
        q->st.showhostnames = 2;
    else if (strcmp(arg, "hostname") == 0)
        q->st.showhostnames = 3;
    else if (*arg)
        say(q, "What?\n");
    say(q, q->st.showhostnames & 1 ? "resolved hostnames being shown\n"
                                   : "resolved hostnames not being shown\n");
    say(q, q->st.showhostnames & 2 ? "supplied hostnames being shown\n"
                                   : "supplied hostnames not being shown\n");
}

static void cmd_debug(struct nq *q, const char *arg)
{
    if (strcmp(arg, "more") == 0)
        q->debug++;
    else if (strcmp(arg, "less") == 0) {
        if (q->debug > 0)
            q->debug--;
    } else if (strcmp(arg, "no") == 0)
        q->debug = 0;
    else if (*arg) {
        char *end;
        long d = strtol(arg, &end, 10);
        if (end == arg || *end)
            warn(q, "What?");
        else
            q->debug = (int)d;
    }
    fprintf(q->out, "debug level is %d\n", q->debug);
}

/* NTPsec's logfile: where debug messages go (warnings stay on standard error). */
static void cmd_logfile(struct nq *q, const char *arg)
{
    if (*arg == '\0') {
        say(q, q->log == NULL ? "'<stderr>'\n" : "'<logfile>'\n");
        return;
    }
    if (strcmp(arg, "<stderr>") == 0) {
        if (q->log != NULL)
            fclose(q->log);
        q->log = NULL;
        return;
    }
    FILE *f = fopen(arg, "ae");
    if (f == NULL) {
        warn(q, "Could not open %s for logging.", arg);
        return;
    }
    setvbuf(f, NULL, _IOLBF, 0);
    if (q->log != NULL)
        fclose(q->log);
    q->log = f;
    fprintf(q->out, "Logfile set to %s\n", arg);
}

static void cmd_exit(struct nq *q, const char *arg)
{
    (void)arg;
    q->quit = true;
}

static void cmd_eof(struct nq *q, const char *arg)
{
    (void)arg;
    say(q, "\n");
    q->quit = true;
}

static void cmd_keyid(struct nq *q, const char *arg)
{
    if (*arg) {
        char *end;
        long id = strtol(arg, &end, 10);
        if (end == arg || *end)
            warn(q, "What?");
        else
            q->keyid = (uint32_t)id;
    }
    if (q->keyid == 0)
        say(q, "no keyid defined\n");
    else
        fprintf(q->out, "keyid is %u\n", q->keyid);
}

static void cmd_version(struct nq *q, const char *arg)
{
    (void)arg;
    say(q, "ntpkit-" NTK_VERSION "\n");
}

static void cmd_direct(struct nq *q, const char *arg)
{
    (void)arg;
    static bool direct;
    direct = !direct;
    say(q, direct ? "Direct mode is on\n" : "Direct mode is off\n");
}

static void cmd_raw(struct nq *q, const char *arg)
{
    (void)arg;
    q->raw = true;
    say(q, "Output set to raw\n");
}

static void cmd_cooked(struct nq *q, const char *arg)
{
    (void)arg;
    q->raw = false;
    say(q, "Output set to cooked\n");
}

static void cmd_authenticate(struct nq *q, const char *arg)
{
    if (strcmp(arg, "yes") == 0)
        q->always_auth = true;
    else if (strcmp(arg, "no") == 0)
        q->always_auth = false;
    else if (*arg)
        warn(q, "What?");
    say(q, q->always_auth ? "authenticated requests being sent\n"
                          : "unauthenticated requests being sent\n");
}

static void cmd_ntpversion(struct nq *q, const char *arg)
{
    if (*arg) {
        char *end;
        long v = strtol(arg, &end, 10);
        if (end == arg || *end)
            warn(q, "What?");
        else if (v >= 1 && v <= 4)
            q->pktversion = (int)v;
        else
            warn(q, "versions %d to %d, please", 1, 4);
    }
    fprintf(q->out, "NTP version being claimed is %d\n", q->pktversion);
}

static void cmd_keytype(struct nq *q, const char *arg)
{
    static const char *const ok[] = {"MD5",    "SHA1",   "SHA-1",   "SHA224", "SHA256",
                                     "SHA384", "SHA512", "AES-128", NULL};
    char up[32];
    size_t i = 0;
    for (; i < sizeof up - 1 && arg[i]; i++)
        up[i] = (char)toupper((unsigned char)arg[i]);
    up[i] = '\0';
    if (*arg == '\0') {
        fprintf(q->out, "Keytype: %s\n", q->keytype);
        return;
    }
    if (strcmp(up, "AES") == 0 || strcmp(up, "AES128CMAC") == 0) {
        snprintf(q->keytype, sizeof q->keytype, "AES-128");
        return;
    }
    for (size_t k = 0; ok[k]; k++)
        if (strcmp(up, ok[k]) == 0) {
            snprintf(q->keytype, sizeof q->keytype, "%.15s", up);
            return;
        }
    warn(q, "Keytype %s is not supported by openSSL or ntpq.\n", arg);
}

/* The index in the variable list of the entry named name[0..nl) ("name" or "name=value"),
 * or q->nuvars when there is none. */
static size_t find_uvar(const struct nq *q, const char *name, size_t nl)
{
    size_t k = 0;
    for (; k < q->nuvars; k++)
        if (strncmp(q->uvars[k], name, nl) == 0 &&
            (q->uvars[k][nl] == '\0' || q->uvars[k][nl] == '='))
            break;
    return k;
}

static void cmd_addvars(struct nq *q, const char *arg)
{
    if (*arg == '\0') {
        warn(q, "usage: addvars name[=value][,...]\n");
        return;
    }
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", arg);
    for (char *p = buf, *next; p != NULL; p = next) {
        next = strchr(p, ',');
        if (next)
            *next++ = '\0';
        char *eq = strchr(p, '='), *name = p, *val = eq ? eq + 1 : (char *)"";
        if (eq)
            *eq = '\0';
        while (isspace((unsigned char)*name))
            name++;
        for (char *e = name + strlen(name); e > name && isspace((unsigned char)e[-1]);)
            *--e = '\0';
        while (isspace((unsigned char)*val))
            val++;
        for (char *e = val + strlen(val); e > val && isspace((unsigned char)e[-1]);)
            *--e = '\0';
        size_t nl = strlen(name), k = find_uvar(q, name, nl);
        size_t len = nl + strlen(val) + 2;
        char *s = malloc(len);
        if (s == NULL)
            return;
        snprintf(s, len, *val ? "%s=%s" : "%s", name, val);
        if (k < q->nuvars) {
            free(q->uvars[k]);
            q->uvars[k] = s;
        } else if (q->nuvars < NQ_MAX_UVARS)
            q->uvars[q->nuvars++] = s;
        else
            free(s);
    }
}

static void cmd_rmvars(struct nq *q, const char *arg)
{
    if (*arg == '\0') {
        warn(q, "usage: rmvars name[,...]\n");
        return;
    }
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", arg);
    for (char *p = buf, *next; p != NULL; p = next) {
        next = strchr(p, ',');
        if (next)
            *next++ = '\0';
        size_t k = find_uvar(q, p, strlen(p));
        if (k == q->nuvars) {
            warn(q, "%s is not in the variable list", p);
            continue;
        }
        free(q->uvars[k]);
        memmove(q->uvars + k, q->uvars + k + 1, (q->nuvars - k - 1) * sizeof *q->uvars);
        q->nuvars--;
    }
}

static void cmd_clearvars(struct nq *q, const char *arg)
{
    (void)arg;
    nq_fini(q);
}

static void cmd_showvars(struct nq *q, const char *arg)
{
    (void)arg;
    if (q->nuvars == 0)
        say(q, "No variables on list.\n");
    for (size_t i = 0; i < q->nuvars; i++)
        fprintf(q->out, "%s\n", q->uvars[i]);
}

static void cmd_nothing(struct nq *q, const char *arg)
{
    (void)q;
    (void)arg;
}

static void cmd_config(struct nq *q, const char *arg)
{
    (void)arg;
    warn(q, "***Remote configuration (:config, config-from-file) is not supported by ntpkit");
}

static void cmd_doflake(struct nq *q, const char *arg)
{
    char *end;
    double p = strtod(arg, &end);
    if (end == arg || *end || !(p > 0 && p < 1))
        say(q, "Flakiness must be a (positive) float less than 1.");
}

static void cmd_help(struct nq *q, const char *arg);

/* Command names and handlers: NTPsec's full list, so that prefixes are ambiguous exactly
 * where they are there. */
struct command {
    const char *name;
    void (*fn)(struct nq *q, const char *arg);
};

#define TABLE_CMD(n)                                                                          \
    static void cmd_##n(struct nq *q, const char *arg)                                        \
    {                                                                                         \
        cmd_table(q, arg, #n);                                                                \
    }
TABLE_CMD(sysinfo)
TABLE_CMD(kerninfo)
TABLE_CMD(sysstats)
TABLE_CMD(monstats)
TABLE_CMD(authinfo)
TABLE_CMD(ntsinfo)
TABLE_CMD(iostats)
TABLE_CMD(timerstats)

static const struct command commands[] = {
    {":config", cmd_config},
    {"EOF", cmd_eof},
    {"addvars", cmd_addvars},
    {"apeers", cmd_apeers},
    {"associations", cmd_associations},
    {"authenticate", cmd_authenticate},
    {"authinfo", cmd_authinfo},
    {"cl", cmd_clocklist},
    {"clearvars", cmd_clearvars},
    {"clocklist", cmd_clocklist},
    {"clockvar", cmd_clockvar},
    {"config-from-file", cmd_config},
    {"cooked", cmd_cooked},
    {"cv", cmd_clockvar},
    {"debug", cmd_debug},
    {"delay", cmd_delay},
    {"direct", cmd_direct},
    {"doflake", cmd_doflake},
    {"exit", cmd_exit},
    {"help", cmd_help},
    {"host", cmd_host},
    {"hostnames", cmd_hostnames},
    {"ifstats", cmd_ifstats},
    {"iostats", cmd_iostats},
    {"kerninfo", cmd_kerninfo},
    {"keyid", cmd_keyid},
    {"keytype", cmd_keytype},
    {"lassociations", cmd_associations},
    {"logfile", cmd_logfile},
    {"lopeers", cmd_opeers},
    {"lpassociations", cmd_passociations},
    {"lpeers", cmd_peers},
    {"monstats", cmd_monstats},
    {"mreadlist", cmd_mreadlist},
    {"mreadvar", cmd_mreadvar},
    {"mrl", cmd_mrl},
    {"mrulist", cmd_mrulist},
    {"mrv", cmd_mrv},
    {"noflake", cmd_nothing},
    {"ntpversion", cmd_ntpversion},
    {"ntsinfo", cmd_ntsinfo},
    {"opeers", cmd_opeers},
    {"passociations", cmd_passociations},
    {"passwd", cmd_passwd},
    {"peers", cmd_peers},
    {"poll", cmd_poll},
    {"pstats", cmd_pstats},
    {"quit", cmd_exit},
    {"raw", cmd_raw},
    {"readlist", cmd_readlist},
    {"readvar", cmd_readvar},
    {"reslist", cmd_reslist},
    {"rl", cmd_readlist},
    {"rmvars", cmd_rmvars},
    {"rpeers", cmd_rpeers},
    {"rv", cmd_readvar},
    {"showvars", cmd_showvars},
    {"sysinfo", cmd_sysinfo},
    {"sysstats", cmd_sysstats},
    {"timeout", cmd_timeout},
    {"timerstats", cmd_timerstats},
    {"units", cmd_units},
    {"version", cmd_version},
    {"writelist", cmd_nothing},
    {"writevar", cmd_nothing},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

int nq_match(const char *cmd, const char **full)
{
    size_t n = strlen(cmd), hits = 0;
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(commands[i].name, cmd) == 0) {
            *full = commands[i].name;
            return 1;
        }
        if (strncmp(commands[i].name, cmd, n) == 0) {
            *full = commands[i].name;
            hits++;
        }
    }
    return hits == 0 ? 0 : hits == 1 ? 1 : 2;
}

static const struct command *find_exact(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void cmd_help(struct nq *q, const char *arg)
{
    if (*arg == '\0') {
        say(q, nq_help_listing);
        return;
    }
    const struct nq_help *hit = NULL;
    size_t n = strlen(arg), hits = 0;
    for (const struct nq_help *h = nq_help_table; h->name; h++) {
        if (h->help == NULL)
            continue;
        if (strcmp(h->name, arg) == 0) {
            hit = h;
            hits = 1;
            break;
        }
        if (strncmp(h->name, arg, n) == 0) {
            hit = h;
            hits++;
        }
    }
    if (hits > 1) {
        warn(q, "Command `%s' is ambiguous.", arg);
        return;
    }
    if (hits == 1) {
        say(q, hit->help);
        return;
    }
    for (const struct nq_help *h = nq_help_table; h->name; h++)
        if (strcmp(h->name, arg) == 0 && h->doc) {
            fprintf(q->out, "%s\n", h->doc);
            return;
        }
    fprintf(q->out, "*** No help on %s\n", arg);
}

/* Python's cmd.Cmd.parseline: the leading identifier characters are the command. */
static void parse_line(const char *line, char *cmd, size_t cap, const char **arg)
{
    size_t i = 0;
    while (line[i] && (isalnum((unsigned char)line[i]) || line[i] == '_') && i + 1 < cap) {
        cmd[i] = line[i];
        i++;
    }
    cmd[i] = '\0';
    const char *a = line + i;
    while (isspace((unsigned char)*a))
        a++;
    *arg = a;
}

void nq_run(struct nq *q, const char *input)
{
    char line[2048];
    const char *p = input;
    while (isspace((unsigned char)*p))
        p++;
    snprintf(line, sizeof line, "%s", p);
    for (size_t l = strlen(line); l > 0 && isspace((unsigned char)line[l - 1]);)
        line[--l] = '\0';
    if (line[0] == '\0')
        return;
    if (line[0] == '?') {
        char h[2060];
        snprintf(h, sizeof h, "help %s", line + 1);
        snprintf(line, sizeof line, "%.2040s", h);
    }
    if (strncmp(line, ":config", 7) == 0 || strncmp(line, "config-from-file", 16) == 0) {
        cmd_config(q, "");
        return;
    }
    char cmd[64];
    const char *arg;
    parse_line(line, cmd, sizeof cmd, &arg);
    char argbuf[2048];
    snprintf(argbuf, sizeof argbuf, "%s", arg);
    for (size_t l = strlen(argbuf); l > 0 && isspace((unsigned char)argbuf[l - 1]);)
        argbuf[--l] = '\0';
    const struct command *c = cmd[0] ? find_exact(cmd) : NULL;
    if (c == NULL) {
        const char *full = NULL;
        int m = nq_match(cmd, &full);
        if (m == 2) {
            warn(q, "***Command `%s' ambiguous", cmd);
            return;
        }
        if (m == 0) {
            warn(q, "***Command `%s' unknown", cmd);
            return;
        }
        c = find_exact(full);
    }
    c->fn(q, argbuf);
}
