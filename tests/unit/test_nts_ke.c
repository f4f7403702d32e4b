/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/nts_ke.c: the exact bytes of our messages, the requests and responses
 * chrony 4.3 and NTPsec 1.2.2 send, every validation rule of nts_ke.h broken once, scan fed
 * in pieces, the limits, and build -> scan -> parse round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ntk/aead.h"
#include "ntk/buf.h"
#include "ntk/err.h"
#include "ntk/nts_ke.h"
#include "testutil.h"

#include "poison.h"

enum { BUF_MAX = NTK_KE_MSG_MAX + 64 };

static uint8_t msg[BUF_MAX];

/* Decodes hex (spaces allowed, for readability) into msg; returns the length. */
static size_t hex(const char *h)
{
    char clean[2 * BUF_MAX + 1];
    size_t n = 0;
    for (; *h; h++) {
        if (*h != ' ') {
            clean[n++] = *h;
        }
    }
    clean[n] = '\0';
    int len = tu_unhex(clean, msg, sizeof msg);
    assert_true(len >= 0);
    return (size_t)len;
}

/* Appends one record to msg at *off. */
static void put_rec(size_t *off, uint16_t word, const uint8_t *body, size_t len)
{
    assert_true(*off + 4 + len <= sizeof msg);
    msg[*off] = (uint8_t)(word >> 8);
    msg[*off + 1] = (uint8_t)word;
    msg[*off + 2] = (uint8_t)(len >> 8);
    msg[*off + 3] = (uint8_t)len;
    if (len > 0) {
        memcpy(msg + *off + 4, body, len);
    }
    *off += 4 + len;
}

static const uint16_t offer15[] = {NTK_AEAD_AES_SIV_CMAC_256};

/* ---- exact bytes ---- */

static void build_request_bytes(void **state)
{
    (void)state;
    uint8_t out[600];
    int n = ntk_ke_build_request(out, sizeof out, offer15, 1, NULL, 0);
    size_t want = hex("8001 0002 0000  8004 0002 000f  8000 0000");
    assert_int_equal(n, (int)want);
    assert_memory_equal(out, msg, want);

    static const uint16_t three[] = {17, 16, 15};
    n = ntk_ke_build_request(out, sizeof out, three, 3, "ntp.test", 4123);
    want = hex("8001 0002 0000  8004 0006 0011 0010 000f  0006 0008 6e74702e74657374"
               "0007 0002 101b  8000 0000");
    assert_int_equal(n, (int)want);
    assert_memory_equal(out, msg, want);

    /* "" means no Server record, like NULL. */
    n = ntk_ke_build_request(out, sizeof out, offer15, 1, "", 0);
    assert_int_equal(n, 16);
}

static void build_response_bytes(void **state)
{
    (void)state;
    uint8_t out[600];
    struct ntk_ke_cookie ck[2] = {{3, {0xaa, 0xbb, 0xcc}}, {1, {0x01}}};
    int n = ntk_ke_build_response(out, sizeof out, 15, ck, 2, "10.0.0.1", 123);
    size_t want = hex("8001 0002 0000  8004 0002 000f  0005 0003 aabbcc  0005 0001 01"
                      "8006 0008 31302e302e302e31  8007 0002 007b  8000 0000");
    assert_int_equal(n, (int)want);
    assert_memory_equal(out, msg, want);

    n = ntk_ke_build_error(out, sizeof out, NTK_KE_ERR_BAD_REQUEST);
    want = hex("8002 0002 0001 8000 0000");
    assert_int_equal(n, (int)want);
    assert_memory_equal(out, msg, want);
    n = ntk_ke_build_error(out, sizeof out, NTK_KE_ERR_UNRECOGNIZED);
    assert_int_equal(n, 10);
    assert_int_equal(out[5], 0);
}

/* ---- what real peers send ---- */

/* Parses msg[0..len) as a request and expects success. */
static struct ntk_ke_request parse_req_ok(size_t len)
{
    struct ntk_ke_request req;
    struct ntk_ke_refusal ref = {NTK_KE_ERR_INTERNAL, "untouched"};
    size_t got = 0;
    assert_int_equal(ntk_ke_scan(msg, len, &got), NTK_KE_SCAN_COMPLETE);
    assert_int_equal(got, len);
    assert_int_equal(ntk_ke_parse_request(msg, len, &req, &ref), 0);
    assert_string_equal(ref.why, "untouched"); /* written only on refusal */
    return req;
}

static void peer_requests(void **state)
{
    (void)state;
    /* chrony 4.3 (nts_ke_client.c prepare_request): NPN {0} critical, AEAD critical with
     * AES-128-GCM-SIV (30) first when its crypto library has it, then AES-SIV-CMAC-256,
     * End. We skip 30 (not ours) and keep 15. */
    struct ntk_ke_request req =
        parse_req_ok(hex("8001 0002 0000 8004 0004 001e 000f 8000 0000"));
    assert_int_equal(req.n_aeads, 1);
    assert_int_equal(req.aeads[0], 15);
    assert_true(req.had_aead_record);
    assert_string_equal(req.server, "");
    assert_false(req.has_port);

    /* chrony without GCM-SIV (and chrony 4.0/4.1): AEAD {15} only. */
    req = parse_req_ok(hex("8001 0002 0000 8004 0002 000f 8000 0000"));
    assert_int_equal(req.n_aeads, 1);

    /* NTPsec 1.2.2 (nts_client.c nts_client_send_request_core): NPN {0} critical, AEAD
     * {15} NOT critical, End critical. */
    req = parse_req_ok(hex("8001 0002 0000 0004 0002 000f 8000 0000"));
    assert_int_equal(req.n_aeads, 1);
    assert_int_equal(req.aeads[0], 15);

    /* NTPsec with `aead AES_SIV_CMAC_512` configured. */
    req = parse_req_ok(hex("8001 0002 0000 0004 0002 0011 8000 0000"));
    assert_int_equal(req.n_aeads, ntk_aead_supported(17) ? 1 : 0);

    /* chrony's unit tests send Server (non-critical) and Port in requests. */
    req = parse_req_ok(hex("8001 0002 0000 8004 0002 000f 0006 0009 3132372e302e302e31"
                           "8007 0002 007b 8000 0000"));
    assert_string_equal(req.server, "127.0.0.1");
    assert_true(req.has_port);
    assert_int_equal(req.port, 123);
}

/* A cookie as chrony makes it for AEAD_AES_SIV_CMAC_256: key id (4), nonce (16), tag (16),
 * encrypted C2S + S2C keys (64) = 100 bytes. NTPsec's are 104. */
static void fill_cookie_hex(char *dst, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++) {
        snprintf(dst + 2 * i, 3, "%02x", (unsigned)((seed + i * 7) & 0xff));
    }
}

static void peer_responses(void **state)
{
    (void)state;
    char h[8192];
    char ck[2 * 104 + 1];
    size_t n;
    struct ntk_ke_response resp;
    const char *why = "untouched";

    /* chrony 4.3 (nts_ke_server.c prepare_response) with `port` and `ntsntpserver` set:
     * NPN {0} critical, AEAD {15} critical, Port critical, Server critical, 8 cookies not
     * critical, End. */
    snprintf(h, sizeof h, "8001 0002 0000 8004 0002 000f 8007 0002 1234 8006 0007 %s",
             "6e74702e6f7267");
    for (unsigned i = 0; i < 8; i++) {
        fill_cookie_hex(ck, 100, i);
        snprintf(h + strlen(h), sizeof h - strlen(h), " 0005 0064 %s", ck);
    }
    snprintf(h + strlen(h), sizeof h - strlen(h), " 8000 0000");
    n = hex(h);
    assert_int_equal(n, 6 + 6 + 6 + 11 + 8 * 104 + 4);
    assert_int_equal(ntk_ke_parse_response(msg, n, offer15, 1, &resp, &why), 0);
    assert_string_equal(why, "untouched");
    assert_false(resp.error);
    assert_false(resp.warning);
    assert_int_equal(resp.aead, 15);
    assert_int_equal(resp.n_cookies, 8);
    assert_int_equal(resp.cookies_dropped, 0);
    assert_int_equal(resp.cookies[7].len, 100);
    assert_int_equal(resp.cookies[7].b[1], (7 + 7) & 0xff);
    assert_string_equal(resp.server, "ntp.org");
    assert_true(resp.has_port);
    assert_int_equal(resp.port, 0x1234);

    /* NTPsec 1.2.2 (nts_server.c nts_ke_setup_send): NPN critical, AEAD NOT critical, 8
     * cookies of 104 bytes, End. No Server or Port: the NTP server is the KE server, 123. */
    snprintf(h, sizeof h, "8001 0002 0000 0004 0002 000f");
    for (unsigned i = 0; i < 8; i++) {
        fill_cookie_hex(ck, 104, i);
        snprintf(h + strlen(h), sizeof h - strlen(h), " 0005 0068 %s", ck);
    }
    snprintf(h + strlen(h), sizeof h - strlen(h), " 8000 0000");
    n = hex(h);
    assert_int_equal(ntk_ke_parse_response(msg, n, offer15, 1, &resp, &why), 0);
    assert_int_equal(resp.n_cookies, 8);
    assert_int_equal(resp.cookies[0].len, 104);
    assert_string_equal(resp.server, "");
    assert_false(resp.has_port);
    assert_int_equal(resp.port, 123);

    /* chrony's error response: Error {1} critical, End. Parses fine, resp->error says. */
    n = hex("8002 0002 0001 8000 0000");
    assert_int_equal(ntk_ke_parse_response(msg, n, offer15, 1, &resp, &why), 0);
    assert_true(resp.error);
    assert_int_equal(resp.error_code, NTK_KE_ERR_BAD_REQUEST);
    assert_int_equal(resp.n_cookies, 0);

    /* chrony when it accepts none of the protocols: an empty NPN, End. */
    n = hex("8001 0000 8000 0000");
    assert_int_equal(ntk_ke_parse_response(msg, n, offer15, 1, &resp, &why), NTK_EFORMAT);
    assert_string_equal(why, "server accepts none of our protocols");

    /* chrony when it supports none of the AEADs: NPN {0}, an empty AEAD record, End. */
    n = hex("8001 0002 0000 8004 0000 8000 0000");
    assert_int_equal(ntk_ke_parse_response(msg, n, offer15, 1, &resp, &why), NTK_EFORMAT);
    assert_string_equal(why, "server accepts none of our AEAD algorithms");
}

/* ---- request validation: every rule broken once ---- */

struct req_case {
    const char *hex;
    int code; /* -1: accepted */
    const char *why;
};

static void request_rules(void **state)
{
    (void)state;
#define NPN  "8001 0002 0000 "
#define AEAD "8004 0002 000f "
#define END  "8000 0000"
    static const struct req_case cases[] = {
        {NPN AEAD END, -1, NULL},
        {AEAD END, NTK_KE_ERR_BAD_REQUEST, "no NTS Next Protocol record"},
        {"0001 0002 0000 " AEAD END, NTK_KE_ERR_BAD_REQUEST, "NTS Next Protocol not critical"},
        {"8001 0000 " AEAD END, NTK_KE_ERR_BAD_REQUEST, "empty NTS Next Protocol"},
        {"8001 0003 000000 " AEAD END, NTK_KE_ERR_BAD_REQUEST, "odd NTS Next Protocol length"},
        {"8001 0004 0001 8000 " AEAD END, NTK_KE_ERR_BAD_REQUEST,
         "no NTPv4 in NTS Next Protocol"},
        {"8001 0004 0005 0000 " AEAD END, -1, NULL}, /* other ids are ignored */
        {NPN NPN AEAD END, NTK_KE_ERR_BAD_REQUEST, "duplicate NTS Next Protocol record"},
        {NPN END, NTK_KE_ERR_BAD_REQUEST, "no AEAD Algorithm record"},
        {NPN AEAD AEAD END, NTK_KE_ERR_BAD_REQUEST, "duplicate AEAD Algorithm record"},
        {NPN "8004 0003 000f00 " END, NTK_KE_ERR_BAD_REQUEST, "odd AEAD Algorithm length"},
        {NPN "0004 0000 " END, -1, NULL}, /* present, none usable: the server decides */
        {NPN AEAD "8002 0002 0000 " END, NTK_KE_ERR_BAD_REQUEST, "Error record in a request"},
        {NPN AEAD "8003 0002 0000 " END, NTK_KE_ERR_BAD_REQUEST,
         "Warning record in a request"},
        {NPN AEAD "0005 0001 00 " END, NTK_KE_ERR_BAD_REQUEST,
         "New Cookie record in a request"},
        {NPN AEAD "0006 0000 " END, NTK_KE_ERR_BAD_REQUEST, "bad Server Negotiation value"},
        {NPN AEAD "0006 0003 612062 " END, NTK_KE_ERR_BAD_REQUEST,
         "bad Server Negotiation value"}, /* a space */
        {NPN AEAD "0006 0002 61ff " END, NTK_KE_ERR_BAD_REQUEST,
         "bad Server Negotiation value"},
        {NPN AEAD "0006 0002 6100 " END, NTK_KE_ERR_BAD_REQUEST,
         "bad Server Negotiation value"},
        {NPN AEAD "0006 0001 61 8006 0001 62 " END, NTK_KE_ERR_BAD_REQUEST,
         "duplicate Server Negotiation record"},
        {NPN AEAD "0007 0001 00 " END, NTK_KE_ERR_BAD_REQUEST, "bad Port Negotiation length"},
        {NPN AEAD "0007 0003 000000 " END, NTK_KE_ERR_BAD_REQUEST,
         "bad Port Negotiation length"},
        {NPN AEAD "0007 0002 007b 0007 0002 007b " END, NTK_KE_ERR_BAD_REQUEST,
         "duplicate Port Negotiation record"},
        {NPN AEAD "8008 0000 " END, NTK_KE_ERR_UNRECOGNIZED, "unrecognized critical record"},
        {NPN AEAD "c000 0001 00 " END, NTK_KE_ERR_UNRECOGNIZED,
         "unrecognized critical record"},
        {NPN AEAD "0008 0000 7fff 0002 0000 4321 0003 abcdef " END, -1, NULL},
        /* chrony answers "unrecognized" when that record comes first; so do we. */
        {"9999 0000 " NPN AEAD END, NTK_KE_ERR_UNRECOGNIZED, "unrecognized critical record"},
        {NPN AEAD "0000 0000", NTK_KE_ERR_BAD_REQUEST, "End of Message not critical"},
        {NPN AEAD "8000 0001 00", NTK_KE_ERR_BAD_REQUEST, "End of Message with a body"},
        {NPN AEAD END " 00", NTK_KE_ERR_BAD_REQUEST, "data after End of Message"},
        {NPN AEAD, NTK_KE_ERR_BAD_REQUEST, "no End of Message"},
        {NPN AEAD "80", NTK_KE_ERR_BAD_REQUEST, "truncated record header"},
        {NPN AEAD "0009 0005 0102", NTK_KE_ERR_BAD_REQUEST, "truncated record"},
        {"", NTK_KE_ERR_BAD_REQUEST, "no End of Message"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = hex(cases[i].hex);
        struct ntk_ke_request req;
        memset(&req, 0x5a, sizeof req);
        struct ntk_ke_refusal ref = {NTK_KE_ERR_INTERNAL, "untouched"};
        int rc = ntk_ke_parse_request(msg, n, &req, &ref);
        if (cases[i].code < 0) {
            if (rc != 0) {
                fprintf(stderr, "case %zu: %s\n", i, ref.why);
            }
            assert_int_equal(rc, 0);
            assert_string_equal(ref.why, "untouched");
            continue;
        }
        if (rc != NTK_EFORMAT || ref.why == NULL || strcmp(ref.why, cases[i].why) != 0) {
            fprintf(stderr, "case %zu: rc %d why %s\n", i, rc, ref.why ? ref.why : "(null)");
        }
        assert_int_equal(rc, NTK_EFORMAT);
        assert_int_equal(ref.code, cases[i].code);
        assert_string_equal(ref.why, cases[i].why);
        assert_int_equal(req.n_aeads, 0x5a5a5a5a5a5a5a5aULL); /* not written */
    }
}

/* The AEAD list: unsupported ids skipped, the client's order kept, at most 8 kept. */
static void request_aead_list(void **state)
{
    (void)state;
    struct ntk_ke_request req = parse_req_ok(hex(NPN "8004 0000 " END));
    assert_true(req.had_aead_record);
    assert_int_equal(req.n_aeads, 0);

    req = parse_req_ok(hex(NPN "8004 000a 0001 0011 001e 000f 0010 " END));
    size_t k = 0;
    uint16_t want[] = {17, 15, 16};
    for (size_t i = 0; i < 3; i++) {
        if (ntk_aead_supported(want[i])) {
            assert_int_equal(req.aeads[k++], want[i]);
        }
    }
    assert_int_equal(req.n_aeads, k);

    /* 12 offers of 15: the first NTK_KE_AEADS_MAX kept. */
    req = parse_req_ok(
        hex(NPN "8004 0018 000f000f000f000f000f000f000f000f000f000f000f000f " END));
    assert_int_equal(req.n_aeads, ntk_aead_supported(15) ? NTK_KE_AEADS_MAX : 0);

    /* Server Negotiation values at the limits. */
    size_t off = 0;
    uint8_t name[NTK_KE_SERVER_MAX + 1];
    memset(name, 'a', sizeof name);
    put_rec(&off, 0x8001, (const uint8_t *)"\0\0", 2);
    put_rec(&off, 0x8004, (const uint8_t *)"\0\x0f", 2);
    put_rec(&off, 0x0006, name, NTK_KE_SERVER_MAX);
    put_rec(&off, 0x8000, NULL, 0);
    req = parse_req_ok(off);
    assert_int_equal(strlen(req.server), NTK_KE_SERVER_MAX);

    off = 0;
    put_rec(&off, 0x8001, (const uint8_t *)"\0\0", 2);
    put_rec(&off, 0x8004, (const uint8_t *)"\0\x0f", 2);
    put_rec(&off, 0x0006, name, NTK_KE_SERVER_MAX + 1);
    put_rec(&off, 0x8000, NULL, 0);
    struct ntk_ke_request r2;
    struct ntk_ke_refusal ref;
    assert_int_equal(ntk_ke_parse_request(msg, off, &r2, &ref), NTK_EFORMAT);
    assert_string_equal(ref.why, "bad Server Negotiation value");
}

/* ---- response validation ---- */

struct resp_case {
    const char *hex;
    int rc;
    const char *why;
};

static void response_rules(void **state)
{
    (void)state;
#define COOKIE "0005 0004 01020304 "
    static const struct resp_case cases[] = {
        {NPN AEAD COOKIE END, 0, NULL},
        {AEAD COOKIE END, NTK_EFORMAT, "no NTS Next Protocol record"},
        {NPN COOKIE END, NTK_EFORMAT, "no AEAD Algorithm record"},
        {NPN AEAD END, NTK_EFORMAT, "no cookies"},
        {"0001 0002 0000 " AEAD COOKIE END, NTK_EFORMAT, "NTS Next Protocol not critical"},
        {"8001 0004 0000 0000 " AEAD COOKIE END, NTK_EFORMAT, "NTS Next Protocol not one id"},
        {"8001 0001 00 " AEAD COOKIE END, NTK_EFORMAT, "NTS Next Protocol not one id"},
        {"8001 0002 0001 " AEAD COOKIE END, NTK_EFORMAT, "NTS Next Protocol not NTPv4"},
        {NPN NPN AEAD COOKIE END, NTK_EFORMAT, "duplicate NTS Next Protocol record"},
        {NPN "8004 0002 0010 " COOKIE END, NTK_EFORMAT, "AEAD not offered by us"},
        {NPN "8004 0004 000f 000f " COOKIE END, NTK_EFORMAT, "AEAD Algorithm not one id"},
        {NPN AEAD AEAD COOKIE END, NTK_EFORMAT, "duplicate AEAD Algorithm record"},
        {NPN "0004 0002 000f " COOKIE END, 0, NULL}, /* NTPsec: not critical */
        {NPN AEAD "0005 0000 " END, NTK_EFORMAT, "empty cookie"},
        {NPN AEAD COOKIE "0006 0000 " END, NTK_EFORMAT, "bad Server Negotiation value"},
        {NPN AEAD COOKIE "0006 0002 0a0d " END, NTK_EFORMAT, "bad Server Negotiation value"},
        {NPN AEAD COOKIE "8006 0001 61 8006 0001 61 " END, NTK_EFORMAT,
         "duplicate Server Negotiation record"},
        {NPN AEAD COOKIE "8007 0001 00 " END, NTK_EFORMAT, "bad Port Negotiation length"},
        {NPN AEAD COOKIE "8007 0002 0000 " END, NTK_EFORMAT, "Port Negotiation value 0"},
        {NPN AEAD COOKIE "8007 0002 0001 8007 0002 0001 " END, NTK_EFORMAT,
         "duplicate Port Negotiation record"},
        {NPN AEAD COOKIE "8123 0000 " END, NTK_EFORMAT, "unrecognized critical record"},
        {NPN AEAD COOKIE "0123 0004 00000000 " END, 0, NULL},
        {NPN AEAD COOKIE "0000 0000", NTK_EFORMAT, "End of Message not critical"},
        {NPN AEAD COOKIE, NTK_EFORMAT, "no End of Message"},
        {NPN AEAD COOKIE END "00", NTK_EFORMAT, "data after End of Message"},
        {NPN AEAD "0005 0009 01", NTK_EFORMAT, "truncated record"},
        {"8002 0001 00 " END, NTK_EFORMAT, "malformed Error record"},
        {"8003 0000 " END, NTK_EFORMAT, "malformed Warning record"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = hex(cases[i].hex);
        struct ntk_ke_response resp;
        memset(&resp, 0x5a, sizeof resp);
        const char *why = "untouched";
        int rc = ntk_ke_parse_response(msg, n, offer15, 1, &resp, &why);
        if (rc != cases[i].rc || (cases[i].why && strcmp(why, cases[i].why) != 0)) {
            fprintf(stderr, "case %zu: rc %d why %s\n", i, rc, why);
        }
        assert_int_equal(rc, cases[i].rc);
        if (rc == 0) {
            assert_string_equal(why, "untouched");
            assert_int_equal(resp.aead, 15);
            assert_int_equal(resp.n_cookies, 1);
            assert_int_equal(resp.cookies[0].len, 4);
            assert_int_equal(resp.cookies[0].b[3], 4);
            continue;
        }
        assert_string_equal(why, cases[i].why);
        /* Refused: *resp zeroed. */
        assert_false(resp.error);
        assert_int_equal(resp.aead, 0);
        assert_int_equal(resp.n_cookies, 0);
        assert_string_equal(resp.server, "");
        /* And why may be NULL. */
        assert_int_equal(ntk_ke_parse_response(msg, n, offer15, 1, &resp, NULL), rc);
    }
}

static void response_errors_and_warnings(void **state)
{
    (void)state;
    struct ntk_ke_response resp;
    const char *why = "untouched";
    /* An Error wins over anything else in the message (§4.1.3). */
    size_t n = hex("8001 0002 0001 8002 0002 0002 " END);
    assert_int_equal(ntk_ke_parse_response(msg, n, offer15, 1, &resp, &why), 0);
    assert_true(resp.error);
    assert_int_equal(resp.error_code, NTK_KE_ERR_INTERNAL);
    assert_string_equal(why, "untouched");
    /* An unknown code is passed on. */
    n = hex("8002 0002 abcd " END);
    assert_int_equal(ntk_ke_parse_response(msg, n, offer15, 1, &resp, &why), 0);
    assert_int_equal(resp.error_code, 0xabcd);
    /* A Warning refuses the response but says which (§4.1.4). */
    n = hex(NPN AEAD COOKIE "8003 0002 8001 " END);
    assert_int_equal(ntk_ke_parse_response(msg, n, offer15, 1, &resp, &why), NTK_EFORMAT);
    assert_string_equal(why, "server sent a Warning");
    assert_true(resp.warning);
    assert_int_equal(resp.warning_code, 0x8001);
    assert_false(resp.error);
    assert_int_equal(resp.n_cookies, 0);
    /* Both: the Error is what the client acts on. */
    n = hex("8003 0002 0007 8002 0002 0000 " END);
    assert_int_equal(ntk_ke_parse_response(msg, n, offer15, 1, &resp, &why), 0);
    assert_true(resp.error);
    assert_int_equal(resp.error_code, 0);
    assert_true(resp.warning);
    assert_int_equal(resp.warning_code, 7);
}

/* Cookies: 1..256 bytes kept, beyond 8 counted, 257 refused. */
static void response_cookie_limits(void **state)
{
    (void)state;
    uint8_t body[NTK_KE_COOKIE_MAX + 1];
    struct ntk_ke_response resp;
    const char *why = NULL;
    tu_fill(body, sizeof body);
    size_t off = 0;
    put_rec(&off, 0x8001, (const uint8_t *)"\0\0", 2);
    put_rec(&off, 0x8004, (const uint8_t *)"\0\x0f", 2);
    for (size_t i = 0; i < 11; i++) {
        put_rec(&off, 0x0005, body, i == 0 ? 1 : NTK_KE_COOKIE_MAX);
    }
    put_rec(&off, 0x8000, NULL, 0);
    assert_int_equal(ntk_ke_parse_response(msg, off, offer15, 1, &resp, &why), 0);
    assert_int_equal(resp.n_cookies, NTK_KE_COOKIES_MAX);
    assert_int_equal(resp.cookies_dropped, 3);
    assert_int_equal(resp.cookies[0].len, 1);
    assert_int_equal(resp.cookies[1].len, NTK_KE_COOKIE_MAX);
    assert_memory_equal(resp.cookies[7].b, body, NTK_KE_COOKIE_MAX);

    off = 0;
    put_rec(&off, 0x8001, (const uint8_t *)"\0\0", 2);
    put_rec(&off, 0x8004, (const uint8_t *)"\0\x0f", 2);
    put_rec(&off, 0x0005, body, NTK_KE_COOKIE_MAX + 1);
    put_rec(&off, 0x8000, NULL, 0);
    assert_int_equal(ntk_ke_parse_response(msg, off, offer15, 1, &resp, &why), NTK_EFORMAT);
    assert_string_equal(why, "cookie too long");

    /* The AEAD must be one we offered: 16 is accepted only when offered. */
    static const uint16_t offer_two[] = {17, 16};
    size_t n = hex(NPN "8004 0002 0010 " COOKIE END);
    assert_int_equal(ntk_ke_parse_response(msg, n, offer_two, 2, &resp, &why), 0);
    assert_int_equal(resp.aead, 16);
    assert_int_equal(ntk_ke_parse_response(msg, n, NULL, 0, &resp, &why), NTK_EFORMAT);
    assert_string_equal(why, "AEAD not offered by us");
}

/* ---- scanning ---- */

static void scan_basics(void **state)
{
    (void)state;
    size_t got = 777;
    assert_int_equal(ntk_ke_scan(NULL, 0, &got), NTK_KE_SCAN_MORE);
    assert_int_equal(got, 777);                /* written only when complete */
    size_t n = hex(NPN AEAD END " 8001 0002"); /* the start of another message after */
    assert_int_equal(ntk_ke_scan(msg, n, &got), NTK_KE_SCAN_COMPLETE);
    assert_int_equal(got, 16);
    /* The End record's type is what counts; its critical bit is parse's business. */
    n = hex(NPN "0000 0000");
    assert_int_equal(ntk_ke_scan(msg, n, &got), NTK_KE_SCAN_COMPLETE);
    assert_int_equal(got, 10);
    /* End with a body. */
    n = hex(NPN "8000 0002 0000");
    assert_int_equal(ntk_ke_scan(msg, n, &got), NTK_EFORMAT);
    n = hex(NPN "8000 0002");
    assert_int_equal(ntk_ke_scan(msg, n, &got), NTK_EFORMAT);
}

static void scan_limits(void **state)
{
    (void)state;
    size_t got = 0;
    /* A declared body that would overflow the message: refused from its header alone. */
    size_t n = hex("0005 ffff");
    assert_int_equal(ntk_ke_scan(msg, n, &got), NTK_ERANGE);
    n = hex(NPN "0005 3ff3"); /* 6 + 4 + 16371 = 16381: fits, but End would not */
    assert_int_equal(ntk_ke_scan(msg, n, &got), NTK_ERANGE);
    n = hex(NPN "0005 3fee"); /* 6 + 4 + 16366 + End 4 = 16380 */
    assert_int_equal(ntk_ke_scan(msg, n, &got), NTK_KE_SCAN_MORE);
    n = hex("0100 3ff8"); /* 4 + 16376 + End 4 = 16384 exactly */
    memset(msg + 4, 0, 0x3ff8);
    memcpy(msg + 4 + 0x3ff8, "\x80\x00\x00\x00", 4);
    assert_int_equal(ntk_ke_scan(msg, NTK_KE_MSG_MAX, &got), NTK_KE_SCAN_COMPLETE);
    assert_int_equal(got, NTK_KE_MSG_MAX);
    /* ... and it parses as far as the limit goes (no NPN here). */
    struct ntk_ke_request req;
    struct ntk_ke_refusal ref;
    assert_int_equal(ntk_ke_parse_request(msg, NTK_KE_MSG_MAX, &req, &ref), NTK_EFORMAT);
    assert_string_equal(ref.why, "no NTS Next Protocol record");
    /* One byte more and the body alone exceeds it. */
    n = hex("0005 3ff9");
    assert_int_equal(ntk_ke_scan(msg, n, &got), NTK_ERANGE);
    n = hex("8000 3ff9"); /* an End with a body is a format error whatever its size */
    assert_int_equal(ntk_ke_scan(msg, n, &got), NTK_EFORMAT);
    assert_int_equal(ntk_ke_parse_request(msg, NTK_KE_MSG_MAX + 1, &req, &ref), NTK_EFORMAT);
    assert_string_equal(ref.why, "message too long");

    /* Records: 63 others + End is the most; the 64th other record is refused at once. */
    size_t off = 0;
    for (int i = 0; i < NTK_KE_RECORDS_MAX - 1; i++) {
        put_rec(&off, 0x0100, NULL, 0);
    }
    size_t before_end = off;
    put_rec(&off, 0x8000, NULL, 0);
    assert_int_equal(ntk_ke_scan(msg, off, &got), NTK_KE_SCAN_COMPLETE);
    assert_int_equal(got, off);
    assert_int_equal(ntk_ke_scan(msg, before_end, &got), NTK_KE_SCAN_MORE);
    off = before_end;
    put_rec(&off, 0x0100, NULL, 0);
    assert_int_equal(ntk_ke_scan(msg, off, &got), NTK_ERANGE);
    assert_int_equal(ntk_ke_scan(msg, before_end + 4, &got), NTK_ERANGE); /* header only */
    put_rec(&off, 0x8000, NULL, 0);
    assert_int_equal(ntk_ke_parse_request(msg, off, &req, &ref), NTK_EFORMAT);
    assert_string_equal(ref.why, "too many records");
    struct ntk_ke_response resp;
    const char *why;
    assert_int_equal(ntk_ke_parse_response(msg, off, offer15, 1, &resp, &why), NTK_EFORMAT);
    assert_string_equal(why, "too many records");
}

/* Feeds msg[0..len) to scan in the chunk sizes the PRNG picks (1 byte at a time when
 * bytewise), as a TLS reader would, and checks it completes exactly at len. */
static void feed(size_t len, bool bytewise)
{
    size_t have = 0, got = 0;
    while (have < len) {
        size_t chunk = bytewise ? 1 : 1 + (size_t)(tu_rand() % 64);
        have = have + chunk > len ? len : have + chunk;
        int rc = ntk_ke_scan(msg, have, &got);
        if (have < len) {
            assert_int_equal(rc, NTK_KE_SCAN_MORE);
        } else {
            assert_int_equal(rc, NTK_KE_SCAN_COMPLETE);
            assert_int_equal(got, len);
        }
    }
}

/* ---- round trips ---- */

static const uint16_t aead_pool[] = {15, 16, 17, 30, 1, 0x8000};

/* Picks a random Server value (or none). */
static const char *random_server(char *buf)
{
    size_t n = tu_rand() % 3 == 0 ? 0 : 1 + (size_t)(tu_rand() % NTK_KE_SERVER_MAX);
    for (size_t i = 0; i < n; i++) {
        buf[i] = (char)(0x21 + tu_rand() % 94);
    }
    buf[n] = '\0';
    return n == 0 && tu_rand() % 2 ? NULL : buf;
}

static void roundtrip_requests(void **state)
{
    (void)state;
    tu_seed();
    uint8_t out[1024];
    char server_buf[NTK_KE_SERVER_MAX + 1];
    for (int iter = 0; iter < 3000; iter++) {
        uint16_t aeads[12];
        size_t n_aeads = 1 + (size_t)(tu_rand() % 12);
        for (size_t i = 0; i < n_aeads; i++) {
            aeads[i] = aead_pool[tu_rand() % 6];
        }
        const char *server = random_server(server_buf);
        uint16_t port = tu_rand() % 2 ? (uint16_t)tu_rand() : 0;
        int n = ntk_ke_build_request(out, sizeof out, aeads, n_aeads, server, port);
        assert_true(n > 0);
        memcpy(msg, out, (size_t)n);
        feed((size_t)n, iter % 2 == 0);
        struct ntk_ke_request req = parse_req_ok((size_t)n);
        size_t k = 0;
        for (size_t i = 0; i < n_aeads && k < NTK_KE_AEADS_MAX; i++) {
            if (ntk_aead_supported(aeads[i])) {
                assert_int_equal(req.aeads[k], aeads[i]);
                k++;
            }
        }
        assert_int_equal(req.n_aeads, k);
        assert_string_equal(req.server, server ? server : "");
        assert_int_equal(req.has_port, port != 0);
        assert_int_equal(req.port, port);
        /* Every truncation: scan wants more, parse refuses. */
        for (size_t cut = 0; cut < (size_t)n; cut++) {
            size_t got;
            struct ntk_ke_refusal ref;
            struct ntk_ke_request r2;
            assert_int_equal(ntk_ke_scan(msg, cut, &got), NTK_KE_SCAN_MORE);
            assert_int_equal(ntk_ke_parse_request(msg, cut, &r2, &ref), NTK_EFORMAT);
            assert_int_equal(ref.code, NTK_KE_ERR_BAD_REQUEST);
        }
    }
}

static void roundtrip_responses(void **state)
{
    (void)state;
    tu_seed();
    static uint8_t out[NTK_KE_MSG_MAX];
    char server_buf[NTK_KE_SERVER_MAX + 1];
    struct ntk_ke_cookie cookies[NTK_KE_COOKIES_MAX + 2];
    for (int iter = 0; iter < 2000; iter++) {
        size_t n_cookies = (size_t)(tu_rand() % (NTK_KE_COOKIES_MAX + 3));
        for (size_t i = 0; i < n_cookies; i++) {
            cookies[i].len = (uint16_t)(1 + tu_rand() % NTK_KE_COOKIE_MAX);
            tu_fill(cookies[i].b, cookies[i].len);
        }
        uint16_t offered[3] = {15, 16, 17};
        uint16_t aead = offered[tu_rand() % 3];
        const char *server = random_server(server_buf);
        uint16_t port = tu_rand() % 2 ? (uint16_t)(1 + tu_rand() % 65535) : 0;
        int n = ntk_ke_build_response(out, sizeof out, aead, cookies, n_cookies, server, port);
        assert_true(n > 0);
        memcpy(msg, out, (size_t)n);
        feed((size_t)n, iter % 3 == 0);
        struct ntk_ke_response resp;
        const char *why = NULL;
        int rc = ntk_ke_parse_response(msg, (size_t)n, offered, 3, &resp, &why);
        if (n_cookies == 0) {
            assert_int_equal(rc, NTK_EFORMAT);
            assert_string_equal(why, "no cookies");
            continue;
        }
        assert_int_equal(rc, 0);
        assert_false(resp.error);
        assert_int_equal(resp.aead, aead);
        size_t kept = n_cookies < NTK_KE_COOKIES_MAX ? n_cookies : NTK_KE_COOKIES_MAX;
        assert_int_equal(resp.n_cookies, kept);
        assert_int_equal(resp.cookies_dropped, n_cookies - kept);
        for (size_t i = 0; i < kept; i++) {
            assert_int_equal(resp.cookies[i].len, cookies[i].len);
            assert_memory_equal(resp.cookies[i].b, cookies[i].b, cookies[i].len);
        }
        assert_string_equal(resp.server, server ? server : "");
        assert_int_equal(resp.has_port, port != 0);
        assert_int_equal(resp.port, port != 0 ? port : 123);
        /* Rebuilding from what was parsed gives the same bytes (8 cookies or fewer). */
        if (n_cookies <= NTK_KE_COOKIES_MAX) {
            int n2 =
                ntk_ke_build_response(out, sizeof out, resp.aead, resp.cookies, resp.n_cookies,
                                      resp.server, resp.has_port ? resp.port : 0);
            assert_int_equal(n2, n);
            assert_memory_equal(out, msg, (size_t)n);
        }
        /* A few truncations. */
        for (int t = 0; t < 8; t++) {
            size_t cut = (size_t)(tu_rand() % (uint64_t)n), got;
            assert_int_equal(ntk_ke_scan(msg, cut, &got), NTK_KE_SCAN_MORE);
            assert_int_equal(ntk_ke_parse_response(msg, cut, offered, 3, &resp, &why),
                             NTK_EFORMAT);
        }
    }
}

/* ---- builders: errors ---- */

static void builder_errors(void **state)
{
    (void)state;
    uint8_t out[600];
    struct ntk_wr w;
    /* Every too-small buffer: ENOSPC. */
    int full = ntk_ke_build_request(out, sizeof out, offer15, 1, "a.b", 9);
    assert_int_equal(full, 16 + 7 + 6);
    for (size_t cap = 0; cap < (size_t)full; cap++) {
        assert_int_equal(ntk_ke_build_request(out, cap, offer15, 1, "a.b", 9), NTK_ENOSPC);
    }
    struct ntk_ke_cookie ck = {2, {1, 2}};
    full = ntk_ke_build_response(out, sizeof out, 15, &ck, 1, NULL, 0);
    assert_int_equal(full, 16 + 6);
    for (size_t cap = 0; cap < (size_t)full; cap++) {
        assert_int_equal(ntk_ke_build_response(out, cap, 15, &ck, 1, NULL, 0), NTK_ENOSPC);
    }
    assert_int_equal(ntk_ke_build_error(out, 9, NTK_KE_ERR_INTERNAL), NTK_ENOSPC);
    /* Invalid arguments. */
    assert_int_equal(ntk_ke_build_request(out, sizeof out, offer15, 0, NULL, 0), NTK_EINVAL);
    assert_int_equal(ntk_ke_build_request(out, sizeof out, offer15, 1, "a b", 0), NTK_EINVAL);
    char longname[NTK_KE_SERVER_MAX + 2];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(ntk_ke_build_request(out, sizeof out, offer15, 1, longname, 0),
                     NTK_EINVAL);
    assert_int_equal(ntk_ke_build_response(out, sizeof out, 15, &ck, 1, "\x7f", 0),
                     NTK_EINVAL);
    struct ntk_ke_cookie bad = {0, {0}};
    assert_int_equal(ntk_ke_build_response(out, sizeof out, 15, &bad, 1, NULL, 0), NTK_EINVAL);
    bad.len = NTK_KE_COOKIE_MAX + 1;
    assert_int_equal(ntk_ke_build_response(out, sizeof out, 15, &bad, 1, NULL, 0), NTK_EINVAL);

    /* ntk_ke_put: ERANGE for a body over 65535 bytes or a type with bit 15; w then failed. */
    ntk_wr_init(&w, out, sizeof out);
    assert_int_equal(ntk_ke_put(&w, 5, false, out, 65536), NTK_ERANGE);
    assert_int_equal(ntk_wr_err(&w), NTK_ENOSPC);
    assert_int_equal(ntk_wr_len(&w), 0);
    ntk_wr_init(&w, out, sizeof out);
    assert_int_equal(ntk_ke_put(&w, 0x8005, false, NULL, 0), NTK_ERANGE);
    ntk_wr_init(&w, out, sizeof out);
    assert_int_equal(ntk_ke_put_u16s(&w, 4, true, offer15, 40000), NTK_ERANGE);
    /* ENOSPC writes nothing. */
    ntk_wr_init(&w, out, 7);
    assert_int_equal(ntk_ke_put(&w, 5, false, "abcd", 4), NTK_ENOSPC);
    assert_int_equal(ntk_wr_len(&w), 0);
    /* Success. */
    ntk_wr_init(&w, out, sizeof out);
    assert_int_equal(ntk_ke_put(&w, 0x4000, true, "xy", 2), 0);
    static const uint16_t ids[] = {0x0102, 0xfffe};
    assert_int_equal(ntk_ke_put_u16s(&w, 1, false, ids, 2), 0);
    assert_int_equal(ntk_ke_put_u16s(&w, 4, true, NULL, 0), 0);
    size_t n = hex("c000 0002 7879 0001 0004 0102fffe 8004 0000");
    assert_int_equal(ntk_wr_len(&w), n);
    assert_memory_equal(out, msg, n);
}

/* ---- small things ---- */

static void exporter_context(void **state)
{
    (void)state;
    uint8_t c[5];
    ntk_ke_exporter_context(15, false, c);
    assert_memory_equal(c, "\x00\x00\x00\x0f\x00", 5);
    ntk_ke_exporter_context(15, true, c);
    assert_memory_equal(c, "\x00\x00\x00\x0f\x01", 5);
    ntk_ke_exporter_context(0x1234, true, c);
    assert_memory_equal(c, "\x00\x00\x12\x34\x01", 5);
    assert_string_equal(NTK_KE_EXPORTER_LABEL, "EXPORTER-network-time-security");
    assert_string_equal(NTK_KE_ALPN, "ntske/1");
    assert_int_equal(NTK_KE_PORT_DEFAULT, 4460);
}

static void names(void **state)
{
    (void)state;
    assert_string_equal(ntk_ke_type_name(0), "End of Message");
    assert_string_equal(ntk_ke_type_name(0x8000), "End of Message");
    assert_string_equal(ntk_ke_type_name(1), "NTS Next Protocol Negotiation");
    assert_string_equal(ntk_ke_type_name(4), "AEAD Algorithm Negotiation");
    assert_string_equal(ntk_ke_type_name(5), "New Cookie for NTPv4");
    assert_string_equal(ntk_ke_type_name(7), "NTPv4 Port Negotiation");
    assert_string_equal(ntk_ke_type_name(8), "unknown");
    assert_string_equal(ntk_ke_type_name(0xffff), "unknown");
    assert_string_equal(ntk_ke_error_name(0), "unrecognized critical record");
    assert_string_equal(ntk_ke_error_name(1), "bad request");
    assert_string_equal(ntk_ke_error_name(2), "internal server error");
    assert_string_equal(ntk_ke_error_name(3), "unknown");
}

/* Random bytes never crash the parsers, and whatever scan completes lies within the input. */
static void random_bytes(void **state)
{
    (void)state;
    tu_seed();
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = (size_t)(tu_rand() % 64);
        tu_fill(msg, n);
        /* Bias towards plausible headers: small types and lengths. */
        for (size_t i = 0; i + 4 <= n; i += 4 + (msg[i + 3] & 7)) {
            msg[i] &= 0x80;
            msg[i + 1] &= 0x07;
            msg[i + 2] = 0;
            msg[i + 3] &= 7;
        }
        size_t got = SIZE_MAX;
        int rc = ntk_ke_scan(msg, n, &got);
        assert_true(rc == NTK_KE_SCAN_MORE || rc == NTK_KE_SCAN_COMPLETE ||
                    rc == NTK_EFORMAT || rc == NTK_ERANGE);
        if (rc == NTK_KE_SCAN_COMPLETE) {
            assert_true(got >= 4 && got <= n);
        }
        struct ntk_ke_request req;
        struct ntk_ke_refusal ref;
        rc = ntk_ke_parse_request(msg, n, &req, &ref);
        assert_true(rc == 0 || rc == NTK_EFORMAT);
        struct ntk_ke_response resp;
        const char *why;
        rc = ntk_ke_parse_response(msg, n, offer15, 1, &resp, &why);
        assert_true(rc == 0 || rc == NTK_EFORMAT);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(build_request_bytes),
        cmocka_unit_test(build_response_bytes),
        cmocka_unit_test(peer_requests),
        cmocka_unit_test(peer_responses),
        cmocka_unit_test(request_rules),
        cmocka_unit_test(request_aead_list),
        cmocka_unit_test(response_rules),
        cmocka_unit_test(response_errors_and_warnings),
        cmocka_unit_test(response_cookie_limits),
        cmocka_unit_test(scan_basics),
        cmocka_unit_test(scan_limits),
        cmocka_unit_test(roundtrip_requests),
        cmocka_unit_test(roundtrip_responses),
        cmocka_unit_test(builder_errors),
        cmocka_unit_test(exporter_context),
        cmocka_unit_test(names),
        cmocka_unit_test(random_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
