/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness for the client side of lib/nts_ke.c. The first input byte chooses which AEAD
 * ids the client offered; the rest is a server's response, parsed whole and as far as
 * ntk_ke_scan delimits it. Invariants: cookies are counted and capped, their sizes bounded;
 * the AEAD is one offered; Server is printable and bounded, Port non-zero when given; an
 * accepted response holds no unknown critical record; and rebuilding the response with
 * ntk_ke_build_response parses back to the same result. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ntk/buf.h"
#include "ntk/err.h"
#include "ntk/nts_ke.h"
#include "fuzz.h"

#include "poison.h"

/* Counts New Cookie records and notes unknown critical ones, independently of the codec. */
static void count_records(const uint8_t *msg, size_t len, size_t *cookies, bool *unknown_crit)
{
    struct ntk_rd r;
    *cookies = 0;
    *unknown_crit = false;
    ntk_rd_init(&r, msg, len);
    while (ntk_rd_left(&r) >= 4) {
        uint16_t word = ntk_rd_be16(&r);
        uint16_t blen = ntk_rd_be16(&r);
        uint16_t type = word & 0x7fff;
        if (type == NTK_KE_END || ntk_rd_left(&r) < blen) {
            return;
        }
        ntk_rd_skip(&r, blen);
        *cookies += type == NTK_KE_COOKIE;
        *unknown_crit |= type > NTK_KE_PORT && (word & NTK_KE_CRITICAL) != 0;
    }
}

/* Checks what an accepted, non-Error response holds. */
static void check_fields(const struct ntk_ke_response *r, const uint16_t *offered,
                         size_t n_offered)
{
    bool found = false;
    for (size_t i = 0; i < n_offered; i++) {
        found |= offered[i] == r->aead;
    }
    FUZZ_CHECK(found);
    FUZZ_CHECK(r->n_cookies >= 1 && r->n_cookies <= NTK_KE_COOKIES_MAX);
    FUZZ_CHECK(r->cookies_dropped == 0 || r->n_cookies == NTK_KE_COOKIES_MAX);
    for (size_t i = 0; i < r->n_cookies; i++) {
        FUZZ_CHECK(r->cookies[i].len >= 1 && r->cookies[i].len <= NTK_KE_COOKIE_MAX);
    }
    size_t slen = strlen(r->server);
    FUZZ_CHECK(slen <= NTK_KE_SERVER_MAX);
    for (size_t i = 0; i < slen; i++) {
        FUZZ_CHECK(r->server[i] > 0x20 && r->server[i] < 0x7f);
    }
    FUZZ_CHECK(r->has_port ? r->port != 0 : r->port == 123);
    FUZZ_CHECK(!r->warning);
}

/* Rebuilds an accepted response and parses it again: the same result. */
static void check_rebuild(const struct ntk_ke_response *r, const uint16_t *offered,
                          size_t n_offered)
{
    static uint8_t out[NTK_KE_MSG_MAX];
    struct ntk_ke_response again;
    int n = ntk_ke_build_response(out, sizeof out, r->aead, r->cookies, r->n_cookies,
                                  r->server, r->has_port ? r->port : 0);
    FUZZ_CHECK(n > 0);
    size_t got = 0;
    FUZZ_CHECK(ntk_ke_scan(out, (size_t)n, &got) == NTK_KE_SCAN_COMPLETE && got == (size_t)n);
    FUZZ_CHECK(ntk_ke_parse_response(out, (size_t)n, offered, n_offered, &again, NULL) == 0);
    FUZZ_CHECK(!again.error && again.aead == r->aead && again.n_cookies == r->n_cookies);
    FUZZ_CHECK(again.cookies_dropped == 0);
    for (size_t i = 0; i < r->n_cookies; i++) {
        FUZZ_CHECK(again.cookies[i].len == r->cookies[i].len);
        FUZZ_CHECK(memcmp(again.cookies[i].b, r->cookies[i].b, r->cookies[i].len) == 0);
    }
    FUZZ_CHECK(strcmp(again.server, r->server) == 0);
    FUZZ_CHECK(again.has_port == r->has_port && again.port == r->port);
}

/* Parses msg[0..len) as a response to the offered ids and checks the result. */
static void check_response(const uint8_t *msg, size_t len, const uint16_t *offered,
                           size_t n_offered)
{
    struct ntk_ke_response r;
    const char *why = NULL;
    size_t cookies;
    bool unknown_crit;
    int rc = ntk_ke_parse_response(msg, len, offered, n_offered, &r, &why);
    FUZZ_CHECK(rc == 0 || rc == NTK_EFORMAT);
    if (rc != 0) {
        FUZZ_CHECK(why != NULL && why[0] != '\0');
        FUZZ_CHECK(r.n_cookies == 0 && r.aead == 0 && r.server[0] == '\0' && !r.error);
        return;
    }
    if (r.error) {
        if (r.error_code <= NTK_KE_ERR_INTERNAL) {
            uint8_t out[16];
            struct ntk_ke_response e;
            int n = ntk_ke_build_error(out, sizeof out, (enum ntk_ke_error)r.error_code);
            FUZZ_CHECK(n == 10);
            FUZZ_CHECK(ntk_ke_parse_response(out, (size_t)n, NULL, 0, &e, NULL) == 0);
            FUZZ_CHECK(e.error && e.error_code == r.error_code);
        }
        return;
    }
    FUZZ_CHECK(len <= NTK_KE_MSG_MAX);
    count_records(msg, len, &cookies, &unknown_crit);
    FUZZ_CHECK(!unknown_crit);
    FUZZ_CHECK(r.n_cookies + r.cookies_dropped == cookies);
    check_fields(&r, offered, n_offered);
    check_rebuild(&r, offered, n_offered);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint16_t pool[] = {15, 16, 17, 30, 0, 0xffff, 1, 2};
    uint16_t offered[8];
    size_t n_offered = 0;
    if (size < 1) {
        return 0;
    }
    for (size_t i = 0; i < 8; i++) {
        if (data[0] & (1u << i)) {
            offered[n_offered++] = pool[i];
        }
    }
    const uint8_t *msg = data + 1;
    size_t len = size - 1, msg_len = 0;
    if (ntk_ke_scan(msg, len, &msg_len) == NTK_KE_SCAN_COMPLETE) {
        FUZZ_CHECK(msg_len <= len);
        check_response(msg, msg_len, offered, n_offered);
    }
    check_response(msg, len, offered, n_offered);
    return 0;
}
