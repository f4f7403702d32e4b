/* SPDX-License-Identifier: BSD-2-Clause */
/* NTS-KE record codec (RFC 8915 §4): message scanning, strict request/response parsing and
 * the builders both sides send (ntk/nts_ke.h). */
#include "ntk/nts_ke.h"
#include "ntk/aead.h"
#include "ntk/err.h"

#include <string.h>

#include "poison.h"

enum {
    HDR_LEN = 4,        /* type word + body length */
    TYPE_MASK = 0x7fff, /* the Record Type bits of the first word */
    BODY_MAX = 0xffff,  /* a 16-bit Body Length */
    NTP_PORT_DEFAULT = 123,
};

/* ---- scanning ---- */

int ntk_ke_scan(const uint8_t *buf, size_t len, size_t *msg_len)
{
    struct ntk_rd r;
    size_t records = 0;
    ntk_rd_init(&r, buf, len);
    for (;;) {
        if (ntk_rd_left(&r) < HDR_LEN) {
            return NTK_KE_SCAN_MORE;
        }
        size_t off = ntk_rd_pos(&r);
        uint16_t type = ntk_rd_be16(&r) & TYPE_MASK;
        size_t body = ntk_rd_be16(&r);
        size_t end = off + HDR_LEN + body;
        records++;
        if (type == NTK_KE_END) {
            /* RFC 8915 §4.1.1: End of Message has an empty body. */
            if (body != 0) {
                return NTK_EFORMAT;
            }
            *msg_len = end;
            return NTK_KE_SCAN_COMPLETE;
        }
        /* Any other record must leave room for the End of Message that has to follow: the
         * header alone decides, before its body is received. */
        if (end + HDR_LEN > NTK_KE_MSG_MAX || records + 1 > NTK_KE_RECORDS_MAX) {
            return NTK_ERANGE;
        }
        if (ntk_rd_left(&r) < body) {
            return NTK_KE_SCAN_MORE;
        }
        ntk_rd_skip(&r, body);
    }
}

/* ---- walking a complete message ---- */

/* One record: its type number (without the Critical bit) and a cursor over its body. */
struct rec {
    uint16_t type;
    bool critical;
    struct ntk_rd body;
};

/* A message being walked record by record. */
struct walk {
    struct ntk_rd r;
    size_t records;
};

static void walk_init(struct walk *w, const uint8_t *msg, size_t len)
{
    ntk_rd_init(&w->r, msg, len);
    w->records = 0;
}

/* Reads the next record. Returns 1 with *out set, 0 after a valid End of Message that ends
 * the message, or -1 with *why set when the framing is wrong. */
static int walk_next(struct walk *w, struct rec *out, const char **why)
{
    size_t left = ntk_rd_left(&w->r);
    if (left == 0) {
        *why = "no End of Message";
        return -1;
    }
    if (left < HDR_LEN) {
        *why = "truncated record header";
        return -1;
    }
    if (++w->records > NTK_KE_RECORDS_MAX) {
        *why = "too many records";
        return -1;
    }
    uint16_t word = ntk_rd_be16(&w->r);
    size_t len = ntk_rd_be16(&w->r);
    if (ntk_rd_sub(&w->r, len, &out->body) != NTK_OK) {
        *why = "truncated record";
        return -1;
    }
    out->type = word & TYPE_MASK;
    out->critical = (word & NTK_KE_CRITICAL) != 0;
    if (out->type != NTK_KE_END) {
        return 1;
    }
    /* RFC 8915 §4.1.1: critical, empty, and nothing may follow it. */
    if (len != 0) {
        *why = "End of Message with a body";
    } else if (!out->critical) {
        *why = "End of Message not critical";
    } else if (ntk_rd_left(&w->r) != 0) {
        *why = "data after End of Message";
    } else {
        return 0;
    }
    return -1;
}

/* True when body holds 1..NTK_KE_SERVER_MAX bytes of printable ASCII other than space (a
 * host name or an address literal: RFC 8915 §4.1.7), copied NUL-terminated into out. */
static bool take_server(struct ntk_rd *body, char out[NTK_KE_SERVER_MAX + 1])
{
    size_t n = ntk_rd_left(body);
    if (n == 0 || n > NTK_KE_SERVER_MAX) {
        return false;
    }
    const uint8_t *p = ntk_rd_ptr(body, n);
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x21 || p[i] > 0x7e) {
            return false;
        }
    }
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

/* ---- requests (server side) ---- */

/* What a request walk has seen so far. */
struct req_seen {
    bool npn, aead, server, port;
};

/* A refusal: the Error code and the phrase, as one value. */
struct why {
    enum ntk_ke_error code;
    const char *why;
};

static const struct why REQ_OK = {NTK_KE_ERR_BAD_REQUEST, NULL};

static struct why bad(const char *why)
{
    struct why w = {NTK_KE_ERR_BAD_REQUEST, why};
    return w;
}

/* RFC 8915 §4.1.2: exactly one, critical, a non-empty list of 16-bit ids including 0. */
static struct why req_npn(struct req_seen *seen, const struct rec *rec)
{
    struct ntk_rd body = rec->body;
    size_t n = ntk_rd_left(&body);
    bool ntpv4 = false;
    if (seen->npn) {
        return bad("duplicate NTS Next Protocol record");
    }
    seen->npn = true;
    if (!rec->critical) {
        return bad("NTS Next Protocol not critical");
    }
    if (n == 0) {
        return bad("empty NTS Next Protocol");
    }
    if (n % 2 != 0) {
        return bad("odd NTS Next Protocol length");
    }
    for (size_t i = 0; i < n / 2; i++) {
        ntpv4 |= ntk_rd_be16(&body) == NTK_KE_PROTO_NTPV4;
    }
    return ntpv4 ? REQ_OK : bad("no NTPv4 in NTS Next Protocol");
}

/* RFC 8915 §4.1.5: at most one, a list of 16-bit ids in the client's order of preference;
 * those this build lacks are skipped. The Critical bit may be either (NTPsec clears it). */
static struct why req_aead(struct ntk_ke_request *q, struct req_seen *seen,
                           const struct rec *rec)
{
    struct ntk_rd body = rec->body;
    size_t n = ntk_rd_left(&body);
    if (seen->aead) {
        return bad("duplicate AEAD Algorithm record");
    }
    seen->aead = true;
    q->had_aead_record = true;
    if (n % 2 != 0) {
        return bad("odd AEAD Algorithm length");
    }
    for (size_t i = 0; i < n / 2; i++) {
        uint16_t id = ntk_rd_be16(&body);
        if (q->n_aeads < NTK_KE_AEADS_MAX && ntk_aead_supported(id)) {
            q->aeads[q->n_aeads++] = id;
        }
    }
    return REQ_OK;
}

/* RFC 8915 §4.1.7, §4.1.8: the client's wish for an NTP server and port, at most once each. */
static struct why req_server_port(struct ntk_ke_request *q, struct req_seen *seen,
                                  const struct rec *rec)
{
    struct ntk_rd body = rec->body;
    if (rec->type == NTK_KE_SERVER) {
        if (seen->server) {
            return bad("duplicate Server Negotiation record");
        }
        seen->server = true;
        return take_server(&body, q->server) ? REQ_OK : bad("bad Server Negotiation value");
    }
    if (seen->port) {
        return bad("duplicate Port Negotiation record");
    }
    seen->port = true;
    if (ntk_rd_left(&body) != 2) {
        return bad("bad Port Negotiation length");
    }
    q->has_port = true;
    q->port = ntk_rd_be16(&body);
    return REQ_OK;
}

/* Takes one record of a request. */
static struct why req_record(struct ntk_ke_request *q, struct req_seen *seen,
                             const struct rec *rec)
{
    switch (rec->type) {
    case NTK_KE_NEXT_PROTO:
        return req_npn(seen, rec);
    case NTK_KE_AEAD:
        return req_aead(q, seen, rec);
    case NTK_KE_SERVER:
    case NTK_KE_PORT:
        return req_server_port(q, seen, rec);
    case NTK_KE_ERROR:
        return bad("Error record in a request");
    case NTK_KE_WARNING:
        return bad("Warning record in a request");
    case NTK_KE_COOKIE:
        return bad("New Cookie record in a request");
    default:
        break;
    }
    /* RFC 8915 §4: an unknown critical record must be refused, an unknown other ignored. */
    if (rec->critical) {
        struct why w = {NTK_KE_ERR_UNRECOGNIZED, "unrecognized critical record"};
        return w;
    }
    return REQ_OK;
}

static int refuse(struct ntk_ke_refusal *ref, struct why w)
{
    ref->code = w.code;
    ref->why = w.why;
    return NTK_EFORMAT;
}

int ntk_ke_parse_request(const uint8_t *msg, size_t len, struct ntk_ke_request *req,
                         struct ntk_ke_refusal *ref)
{
    struct ntk_ke_request q;
    struct req_seen seen = {false, false, false, false};
    struct walk w;
    struct rec rec;
    const char *why = NULL;
    int rc;
    memset(&q, 0, sizeof q);
    if (len > NTK_KE_MSG_MAX) {
        return refuse(ref, bad("message too long"));
    }
    walk_init(&w, msg, len);
    while ((rc = walk_next(&w, &rec, &why)) == 1) {
        struct why res = req_record(&q, &seen, &rec);
        if (res.why) {
            return refuse(ref, res);
        }
    }
    if (rc < 0) {
        return refuse(ref, bad(why));
    }
    if (!seen.npn) {
        return refuse(ref, bad("no NTS Next Protocol record"));
    }
    /* RFC 8915 §4.1.5: with NTPv4 negotiated the AEAD record MUST be there. */
    if (!seen.aead) {
        return refuse(ref, bad("no AEAD Algorithm record"));
    }
    *req = q;
    return NTK_OK;
}

/* ---- responses (client side) ---- */

/* What a response walk has seen so far, and what the client offered. */
struct resp_ctx {
    const uint16_t *offered;
    size_t n_offered;
    bool npn, aead, server, port;
};

/* RFC 8915 §4.1.2: the server echoes exactly one protocol, NTPv4, critical. An empty list
 * means it accepts none of ours. */
static const char *resp_npn(struct resp_ctx *c, const struct rec *rec)
{
    struct ntk_rd body = rec->body;
    size_t n = ntk_rd_left(&body);
    if (c->npn) {
        return "duplicate NTS Next Protocol record";
    }
    c->npn = true;
    if (!rec->critical) {
        return "NTS Next Protocol not critical";
    }
    if (n == 0) {
        return "server accepts none of our protocols";
    }
    if (n != 2) {
        return "NTS Next Protocol not one id";
    }
    return ntk_rd_be16(&body) == NTK_KE_PROTO_NTPV4 ? NULL : "NTS Next Protocol not NTPv4";
}

/* RFC 8915 §4.1.5: exactly one algorithm, one the client offered. */
static const char *resp_aead(struct ntk_ke_response *p, struct resp_ctx *c,
                             const struct rec *rec)
{
    struct ntk_rd body = rec->body;
    size_t n = ntk_rd_left(&body);
    if (c->aead) {
        return "duplicate AEAD Algorithm record";
    }
    c->aead = true;
    if (n == 0) {
        return "server accepts none of our AEAD algorithms";
    }
    if (n != 2) {
        return "AEAD Algorithm not one id";
    }
    uint16_t id = ntk_rd_be16(&body);
    for (size_t i = 0; i < c->n_offered; i++) {
        if (c->offered[i] == id) {
            p->aead = id;
            return NULL;
        }
    }
    return "AEAD not offered by us";
}

/* RFC 8915 §4.1.6: opaque, but bounded here; cookies past the jar's size are counted. */
static const char *resp_cookie(struct ntk_ke_response *p, const struct rec *rec)
{
    struct ntk_rd body = rec->body;
    size_t n = ntk_rd_left(&body);
    if (n == 0) {
        return "empty cookie";
    }
    if (n > NTK_KE_COOKIE_MAX) {
        return "cookie too long";
    }
    if (p->n_cookies == NTK_KE_COOKIES_MAX) {
        p->cookies_dropped++;
        return NULL;
    }
    struct ntk_ke_cookie *ck = &p->cookies[p->n_cookies++];
    ck->len = (uint16_t)n;
    ntk_rd_bytes(&body, ck->b, n);
    return NULL;
}

/* RFC 8915 §4.1.7, §4.1.8: where to send NTP, at most once each. Port 0 cannot be used. */
static const char *resp_server_port(struct ntk_ke_response *p, struct resp_ctx *c,
                                    const struct rec *rec)
{
    struct ntk_rd body = rec->body;
    if (rec->type == NTK_KE_SERVER) {
        if (c->server) {
            return "duplicate Server Negotiation record";
        }
        c->server = true;
        return take_server(&body, p->server) ? NULL : "bad Server Negotiation value";
    }
    if (c->port) {
        return "duplicate Port Negotiation record";
    }
    c->port = true;
    if (ntk_rd_left(&body) != 2) {
        return "bad Port Negotiation length";
    }
    p->has_port = true;
    p->port = ntk_rd_be16(&body);
    return p->port != 0 ? NULL : "Port Negotiation value 0";
}

/* Takes one record of a response (Error and Warning were dealt with before). */
static const char *resp_record(struct ntk_ke_response *p, struct resp_ctx *c,
                               const struct rec *rec)
{
    switch (rec->type) {
    case NTK_KE_NEXT_PROTO:
        return resp_npn(c, rec);
    case NTK_KE_AEAD:
        return resp_aead(p, c, rec);
    case NTK_KE_COOKIE:
        return resp_cookie(p, rec);
    case NTK_KE_SERVER:
    case NTK_KE_PORT:
        return resp_server_port(p, c, rec);
    default:
        break;
    }
    return rec->critical ? "unrecognized critical record" : NULL;
}

/* Looks for Error and Warning records before anything else: an Error response is reported
 * as such whatever else it holds (RFC 8915 §4.1.3), a Warning refuses it (§4.1.4). Returns
 * 1 when one was found (*p set), 0 when none, -1 for a malformed one (*why set). */
static int find_alerts(const uint8_t *msg, size_t len, struct ntk_ke_response *p,
                       const char **why)
{
    struct walk w;
    struct rec rec;
    const char *ignored;
    walk_init(&w, msg, len);
    while (walk_next(&w, &rec, &ignored) == 1) {
        if (rec.type != NTK_KE_ERROR && rec.type != NTK_KE_WARNING) {
            continue;
        }
        if (ntk_rd_left(&rec.body) != 2) {
            *why = rec.type == NTK_KE_ERROR ? "malformed Error record"
                                            : "malformed Warning record";
            return -1;
        }
        uint16_t code = ntk_rd_be16(&rec.body);
        if (rec.type == NTK_KE_ERROR && !p->error) {
            p->error = true;
            p->error_code = code;
        } else if (rec.type == NTK_KE_WARNING && !p->warning) {
            p->warning = true;
            p->warning_code = code;
        }
    }
    return p->error || p->warning;
}

/* Zeroes *resp and fails with why. */
static int refuse_resp(struct ntk_ke_response *resp, const char **why_out, const char *why)
{
    memset(resp, 0, sizeof *resp);
    if (why_out) {
        *why_out = why;
    }
    return NTK_EFORMAT;
}

/* Walks every record after the alert check; NULL when the response is usable. */
static const char *walk_response(const uint8_t *msg, size_t len, struct ntk_ke_response *p,
                                 struct resp_ctx *c)
{
    struct walk w;
    struct rec rec;
    const char *why = NULL;
    int rc;
    walk_init(&w, msg, len);
    while ((rc = walk_next(&w, &rec, &why)) == 1) {
        why = resp_record(p, c, &rec);
        if (why) {
            return why;
        }
    }
    if (rc < 0) {
        return why;
    }
    if (!c->npn) {
        return "no NTS Next Protocol record";
    }
    if (!c->aead) {
        return "no AEAD Algorithm record";
    }
    return p->n_cookies > 0 ? NULL : "no cookies";
}

int ntk_ke_parse_response(const uint8_t *msg, size_t len, const uint16_t *aeads,
                          size_t n_aeads, struct ntk_ke_response *resp, const char **why)
{
    struct ntk_ke_response r;
    struct resp_ctx c = {aeads, n_aeads, false, false, false, false};
    const char *reason = NULL;
    memset(&r, 0, sizeof r);
    if (len > NTK_KE_MSG_MAX) {
        return refuse_resp(resp, why, "message too long");
    }
    int alerts = find_alerts(msg, len, &r, &reason);
    if (alerts < 0) {
        return refuse_resp(resp, why, reason);
    }
    if (r.error) {
        *resp = r; /* an Error response parses fine: the caller reads resp->error */
        return NTK_OK;
    }
    if (r.warning) {
        (void)refuse_resp(resp, why, "server sent a Warning");
        resp->warning = true;
        resp->warning_code = r.warning_code;
        return NTK_EFORMAT;
    }
    reason = walk_response(msg, len, &r, &c);
    if (reason) {
        return refuse_resp(resp, why, reason);
    }
    if (!r.has_port) {
        r.port = NTP_PORT_DEFAULT;
    }
    *resp = r;
    return NTK_OK;
}

/* ---- building ---- */

/* Fails w for good, so that a caller who only tests ntk_wr_err() sees the error too. */
static int fail_wr(struct ntk_wr *w, int err)
{
    (void)ntk_wr_reserve(w, SIZE_MAX);
    return err;
}

/* Reserves a whole record and writes its header; NULL (w failed) on error, *err set. */
static uint8_t *begin_record(struct ntk_wr *w, uint16_t type, bool critical, size_t len,
                             int *err)
{
    if (type > TYPE_MASK || len > BODY_MAX) {
        *err = fail_wr(w, NTK_ERANGE);
        return NULL;
    }
    uint8_t *q = ntk_wr_reserve(w, HDR_LEN + len);
    if (!q) {
        *err = NTK_ENOSPC;
        return NULL;
    }
    uint16_t word = (uint16_t)(type | (critical ? NTK_KE_CRITICAL : 0));
    q[0] = (uint8_t)(word >> 8);
    q[1] = (uint8_t)word;
    q[2] = (uint8_t)(len >> 8);
    q[3] = (uint8_t)len;
    *err = NTK_OK;
    return q + HDR_LEN;
}

int ntk_ke_put(struct ntk_wr *w, uint16_t type, bool critical, const void *body, size_t len)
{
    int err;
    uint8_t *q = begin_record(w, type, critical, len, &err);
    if (q && len > 0) {
        memcpy(q, body, len);
    }
    return err;
}

int ntk_ke_put_u16s(struct ntk_wr *w, uint16_t type, bool critical, const uint16_t *ids,
                    size_t n)
{
    int err;
    uint8_t *q =
        begin_record(w, type, critical, n > BODY_MAX / 2 ? BODY_MAX + 1 : 2 * n, &err);
    for (size_t i = 0; q && i < n; i++) {
        q[2 * i] = (uint8_t)(ids[i] >> 8);
        q[2 * i + 1] = (uint8_t)ids[i];
    }
    return err;
}

/* Appends End of Message and returns the message length, or the first error of w. */
static int finish(struct ntk_wr *w, int err)
{
    if (err == NTK_OK) {
        err = ntk_ke_put(w, NTK_KE_END, true, NULL, 0);
    }
    if (err == NTK_OK && ntk_wr_err(w) != NTK_OK) {
        err = ntk_wr_err(w);
    }
    return err == NTK_OK ? (int)ntk_wr_len(w) : err;
}

/* True when server is a value take_server accepts. */
static bool server_ok(const char *server)
{
    struct ntk_rd r;
    char tmp[NTK_KE_SERVER_MAX + 1];
    size_t n = strlen(server);
    ntk_rd_init(&r, server, n);
    return take_server(&r, tmp);
}

/* Appends Server (when server is neither NULL nor "") and Port (when port is not 0). */
static int put_server_port(struct ntk_wr *w, const char *server, uint16_t port, bool critical)
{
    int err = NTK_OK;
    if (server && server[0] != '\0') {
        err = ntk_ke_put(w, NTK_KE_SERVER, critical, server, strlen(server));
    }
    if (err == NTK_OK && port != 0) {
        uint16_t p = port;
        err = ntk_ke_put_u16s(w, NTK_KE_PORT, critical, &p, 1);
    }
    return err;
}

int ntk_ke_build_request(uint8_t *out, size_t cap, const uint16_t *aeads, size_t n_aeads,
                         const char *server, uint16_t port)
{
    static const uint16_t npn = NTK_KE_PROTO_NTPV4;
    struct ntk_wr w;
    if (n_aeads == 0 || (server && server[0] != '\0' && !server_ok(server))) {
        return NTK_EINVAL;
    }
    ntk_wr_init(&w, out, cap);
    int err = ntk_ke_put_u16s(&w, NTK_KE_NEXT_PROTO, true, &npn, 1);
    if (err == NTK_OK) {
        err = ntk_ke_put_u16s(&w, NTK_KE_AEAD, true, aeads, n_aeads);
    }
    if (err == NTK_OK) {
        /* Non-critical: a server that does not honour the wish may ignore it (§4.1.7). */
        err = put_server_port(&w, server, port, false);
    }
    return finish(&w, err);
}

int ntk_ke_build_response(uint8_t *out, size_t cap, uint16_t aead,
                          const struct ntk_ke_cookie *cookies, size_t n_cookies,
                          const char *server, uint16_t port)
{
    static const uint16_t npn = NTK_KE_PROTO_NTPV4;
    struct ntk_wr w;
    if (server && server[0] != '\0' && !server_ok(server)) {
        return NTK_EINVAL;
    }
    for (size_t i = 0; i < n_cookies; i++) {
        if (cookies[i].len == 0 || cookies[i].len > NTK_KE_COOKIE_MAX) {
            return NTK_EINVAL;
        }
    }
    ntk_wr_init(&w, out, cap);
    int err = ntk_ke_put_u16s(&w, NTK_KE_NEXT_PROTO, true, &npn, 1);
    if (err == NTK_OK) {
        err = ntk_ke_put_u16s(&w, NTK_KE_AEAD, true, &aead, 1);
    }
    for (size_t i = 0; err == NTK_OK && i < n_cookies; i++) {
        err = ntk_ke_put(&w, NTK_KE_COOKIE, false, cookies[i].b, cookies[i].len);
    }
    if (err == NTK_OK) {
        /* Critical, as chrony sends them: a client that cannot follow them must not use the
         * KE server's address instead (§4.1.7, §4.1.8). */
        err = put_server_port(&w, server, port, true);
    }
    return finish(&w, err);
}

int ntk_ke_build_error(uint8_t *out, size_t cap, enum ntk_ke_error code)
{
    struct ntk_wr w;
    uint16_t c = (uint16_t)code;
    ntk_wr_init(&w, out, cap);
    return finish(&w, ntk_ke_put_u16s(&w, NTK_KE_ERROR, true, &c, 1));
}

void ntk_ke_exporter_context(uint16_t aead, bool s2c, uint8_t out[5])
{
    /* RFC 8915 §5.1: Protocol ID (NTPv4 = 0), AEAD id, then 0 for C2S or 1 for S2C. */
    out[0] = (uint8_t)(NTK_KE_PROTO_NTPV4 >> 8);
    out[1] = (uint8_t)NTK_KE_PROTO_NTPV4;
    out[2] = (uint8_t)(aead >> 8);
    out[3] = (uint8_t)aead;
    out[4] = s2c ? 1 : 0;
}

const char *ntk_ke_type_name(uint16_t type)
{
    static const char *const names[] = {
        "End of Message",
        "NTS Next Protocol Negotiation",
        "Error",
        "Warning",
        "AEAD Algorithm Negotiation",
        "New Cookie for NTPv4",
        "NTPv4 Server Negotiation",
        "NTPv4 Port Negotiation",
    };
    size_t t = type & TYPE_MASK;
    return t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

const char *ntk_ke_error_name(uint16_t code)
{
    switch (code) {
    case NTK_KE_ERR_UNRECOGNIZED:
        return "unrecognized critical record";
    case NTK_KE_ERR_BAD_REQUEST:
        return "bad request";
    case NTK_KE_ERR_INTERNAL:
        return "internal server error";
    default:
        return "unknown";
    }
}
