/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness for the server side of lib/nts_ke.c. The first two input bytes seed the
 * chunk sizes in which the rest is handed to ntk_ke_scan, as TLS would deliver it; a
 * complete message is parsed as a request and answered (response or Error). Invariants:
 * scan's verdict does not depend on the chunking and never claims bytes it was not given;
 * a buffer of NTK_KE_MSG_MAX bytes always suffices; an unknown critical record, too many
 * records or a too long message are refused; an accepted request has what the rules demand;
 * parse(build(x)) == x for the request rebuilt from what was parsed; the answer parses back
 * on the client side. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ntk/aead.h"
#include "ntk/buf.h"
#include "ntk/err.h"
#include "ntk/nts_ke.h"
#include "fuzz.h"

#include "poison.h"

/* What an independent walk of a message finds. */
struct census {
    size_t records;      /* records up to and including End (or to where it broke) */
    bool unknown_crit;   /* an unknown critical record came before any framing error */
    size_t npn_records;  /* NTS Next Protocol records */
    size_t aead_records; /* AEAD records */
};

/* Walks msg[0..len) with plain cursor reads, independently of lib/nts_ke.c. */
static void take_census(const uint8_t *msg, size_t len, struct census *c)
{
    struct ntk_rd r;
    memset(c, 0, sizeof *c);
    ntk_rd_init(&r, msg, len);
    while (ntk_rd_left(&r) >= 4) {
        uint16_t word = ntk_rd_be16(&r);
        uint16_t blen = ntk_rd_be16(&r);
        uint16_t type = word & 0x7fff;
        c->records++;
        if (ntk_rd_left(&r) < blen) {
            return;
        }
        ntk_rd_skip(&r, blen);
        if (type == NTK_KE_END) {
            return;
        }
        c->unknown_crit |= type > NTK_KE_PORT && (word & NTK_KE_CRITICAL) != 0;
        c->npn_records += type == NTK_KE_NEXT_PROTO;
        c->aead_records += type == NTK_KE_AEAD;
    }
}

/* A tiny PRNG for chunk sizes (xorshift32); the state never reaches 0. */
static uint32_t next_rand(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

/* Feeds data[0..size) in random chunks; returns scan's final verdict and *msg_len. */
static int scan_in_chunks(const uint8_t *data, size_t size, uint32_t seed, size_t *msg_len)
{
    size_t have = 0;
    int rc = NTK_KE_SCAN_MORE;
    while (rc == NTK_KE_SCAN_MORE && have < size) {
        size_t chunk = 1 + next_rand(&seed) % 300;
        have = size - have < chunk ? size : have + chunk;
        rc = ntk_ke_scan(data, have, msg_len);
        FUZZ_CHECK(rc == NTK_KE_SCAN_MORE || rc == NTK_KE_SCAN_COMPLETE || rc == NTK_ERANGE ||
                   rc == NTK_EFORMAT);
        /* A message still incomplete fits in a buffer of NTK_KE_MSG_MAX bytes. */
        FUZZ_CHECK(rc != NTK_KE_SCAN_MORE || have < NTK_KE_MSG_MAX);
        FUZZ_CHECK(rc != NTK_KE_SCAN_COMPLETE || (*msg_len >= 4 && *msg_len <= have));
    }
    return rc;
}

/* Checks an accepted request against the rules, rebuilds it and parses that again. */
static void check_accepted(const uint8_t *msg, size_t len, const struct ntk_ke_request *req)
{
    struct census c;
    take_census(msg, len, &c);
    FUZZ_CHECK(!c.unknown_crit);
    FUZZ_CHECK(c.npn_records == 1 && c.aead_records == 1);
    FUZZ_CHECK(c.records <= NTK_KE_RECORDS_MAX);
    FUZZ_CHECK(req->had_aead_record);
    FUZZ_CHECK(req->n_aeads <= NTK_KE_AEADS_MAX);
    for (size_t i = 0; i < req->n_aeads; i++) {
        FUZZ_CHECK(ntk_aead_supported(req->aeads[i]));
    }
    size_t slen = strlen(req->server);
    FUZZ_CHECK(slen <= NTK_KE_SERVER_MAX);
    for (size_t i = 0; i < slen; i++) {
        FUZZ_CHECK(req->server[i] > 0x20 && req->server[i] < 0x7f);
    }
    if (req->n_aeads == 0 || (req->has_port && req->port == 0)) {
        return; /* not expressible by ntk_ke_build_request */
    }
    static uint8_t out[NTK_KE_MSG_MAX];
    int n = ntk_ke_build_request(out, sizeof out, req->aeads, req->n_aeads, req->server,
                                 req->has_port ? req->port : 0);
    FUZZ_CHECK(n > 0);
    size_t got = 0;
    FUZZ_CHECK(ntk_ke_scan(out, (size_t)n, &got) == NTK_KE_SCAN_COMPLETE && got == (size_t)n);
    struct ntk_ke_request again;
    struct ntk_ke_refusal ref;
    FUZZ_CHECK(ntk_ke_parse_request(out, (size_t)n, &again, &ref) == 0);
    FUZZ_CHECK(again.n_aeads == req->n_aeads && again.has_port == req->has_port &&
               again.port == req->port && again.had_aead_record);
    FUZZ_CHECK(memcmp(again.aeads, req->aeads, req->n_aeads * sizeof req->aeads[0]) == 0);
    FUZZ_CHECK(strcmp(again.server, req->server) == 0);
}

/* Answers an accepted request as a server would, and checks the client accepts it. */
static void answer(const struct ntk_ke_request *req, uint8_t salt)
{
    static uint8_t out[NTK_KE_MSG_MAX];
    struct ntk_ke_cookie cookies[NTK_KE_COOKIES_MAX];
    struct ntk_ke_response resp;
    const char *why = NULL;
    if (req->n_aeads == 0) {
        int n = ntk_ke_build_error(out, sizeof out, NTK_KE_ERR_BAD_REQUEST);
        FUZZ_CHECK(n == 10);
        FUZZ_CHECK(ntk_ke_parse_response(out, (size_t)n, NULL, 0, &resp, &why) == 0);
        FUZZ_CHECK(resp.error && resp.error_code == NTK_KE_ERR_BAD_REQUEST);
        return;
    }
    size_t n_cookies = 1 + salt % NTK_KE_COOKIES_MAX;
    for (size_t i = 0; i < n_cookies; i++) {
        cookies[i].len = (uint16_t)(1 + (salt * 31u + i * 17u) % NTK_KE_COOKIE_MAX);
        memset(cookies[i].b, (int)(i + salt), cookies[i].len);
    }
    uint16_t port = req->has_port && req->port != 0 ? req->port : 0;
    int n = ntk_ke_build_response(out, sizeof out, req->aeads[0], cookies, n_cookies,
                                  req->server, port);
    FUZZ_CHECK(n > 0);
    FUZZ_CHECK(ntk_ke_parse_response(out, (size_t)n, req->aeads, req->n_aeads, &resp, &why) ==
               0);
    FUZZ_CHECK(!resp.error && resp.aead == req->aeads[0] && resp.n_cookies == n_cookies);
    FUZZ_CHECK(strcmp(resp.server, req->server) == 0);
    FUZZ_CHECK(resp.port == (port ? port : 123));
}

/* Answers a refused request with its Error, and checks the client sees that code. */
static void answer_error(const struct ntk_ke_refusal *ref)
{
    uint8_t out[16];
    struct ntk_ke_response resp;
    FUZZ_CHECK(ref->code == NTK_KE_ERR_UNRECOGNIZED || ref->code == NTK_KE_ERR_BAD_REQUEST);
    FUZZ_CHECK(ref->why != NULL && ref->why[0] != '\0');
    int n = ntk_ke_build_error(out, sizeof out, ref->code);
    FUZZ_CHECK(n == 10);
    FUZZ_CHECK(ntk_ke_parse_response(out, (size_t)n, NULL, 0, &resp, NULL) == 0);
    FUZZ_CHECK(resp.error && resp.error_code == (uint16_t)ref->code);
}

/* Parses msg[0..len) as a request and answers it. */
static void serve(const uint8_t *msg, size_t len, uint8_t salt)
{
    struct ntk_ke_request req;
    struct ntk_ke_refusal ref = {NTK_KE_ERR_INTERNAL, NULL};
    struct census c;
    int rc = ntk_ke_parse_request(msg, len, &req, &ref);
    FUZZ_CHECK(rc == 0 || rc == NTK_EFORMAT);
    take_census(msg, len, &c);
    if (c.unknown_crit || c.records > NTK_KE_RECORDS_MAX || len > NTK_KE_MSG_MAX) {
        FUZZ_CHECK(rc == NTK_EFORMAT); /* answered with an Error record */
    }
    if (rc == 0) {
        FUZZ_CHECK(ref.why == NULL); /* not written */
        check_accepted(msg, len, &req);
        answer(&req, salt);
    } else {
        answer_error(&ref);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    uint32_t seed = 0x9e3779b9u ^ ((uint32_t)data[0] << 8 | data[1]);
    const uint8_t *stream = data + 2;
    size_t len = size - 2, chunked_len = 0, whole_len = 0;
    int chunked = scan_in_chunks(stream, len, seed, &chunked_len);
    int whole = ntk_ke_scan(stream, len, &whole_len);
    /* The verdict does not depend on how the bytes arrived. */
    FUZZ_CHECK(chunked == whole);
    FUZZ_CHECK(whole != NTK_KE_SCAN_COMPLETE || chunked_len == whole_len);
    if (whole == NTK_KE_SCAN_COMPLETE) {
        serve(stream, whole_len, data[0]);
    }
    /* The parser copes with any length too, framing errors included. */
    serve(stream, len, data[1]);
    return 0;
}
