/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness for lib/sntp.c: one received datagram checked against a query. Input: a flags
 * byte (bits 0-1: the request's key, 0 none or key 1 MD5 / 2 SHA-1 / 3 AES-CMAC; bit 2: the
 * query's nonce is the datagram's own origin field, so real replies get past the origin
 * test; bit 3: replay mode; bit 4: no key store at all), the local precision byte, T1 and T4
 * (8 bytes each, big-endian), then the datagram. Whatever the bytes, the verdict is in range,
 * the sample holds exactly the fields its verdict promises, the kiss code is printable, and an
 * accepted reply is a synchronised server's answer to us with finite, consistent numbers. */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ntk/err.h"
#include "ntk/mac.h"
#include "ntk/ntime.h"
#include "ntk/pkt.h"
#include "ntk/sntp.h"
#include "fuzz.h"

#include "fuzz_symkeys.h"

#include "poison.h"

enum { PREFIX = 18, FLAG_KEY = 3, FLAG_ECHO = 4, FLAG_REPLAY = 8, FLAG_NO_STORE = 16 };

/* The nonce of queries without FLAG_ECHO (sntp-chrony.tsv frame 11, a chronyd nonce). */
#define FIXED_XMT 0xeeb22c8972f5b000ULL

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

static struct ntk_sntp_query make_query(const uint8_t *data, size_t size)
{
    struct ntk_sntp_query q;
    memset(&q, 0, sizeof q);
    q.key_id = data[0] & FLAG_KEY;
    q.replay = (data[0] & FLAG_REPLAY) != 0;
    q.local_precision_log2 = (int8_t)data[1];
    q.t1.v = be64(data + 2);
    q.xmt.v = FIXED_XMT;
    if ((data[0] & FLAG_ECHO) && size >= PREFIX + 32) {
        q.xmt.v = be64(data + PREFIX + 24); /* the origin field of the datagram */
    }
    return q;
}

static bool is_zero(double x)
{
    return x == 0.0 && !signbit(x);
}

/* The kiss code is a C string of 4 printable characters for a KoD, "" otherwise. */
static void check_kiss(enum ntk_sntp_verdict v, const struct ntk_sntp_sample *s)
{
    const void *nul = memchr(s->kiss_code, '\0', sizeof s->kiss_code);
    FUZZ_CHECK(nul != NULL);
    size_t len = strlen(s->kiss_code);
    for (size_t i = 0; i < len; i++) {
        FUZZ_CHECK(s->kiss_code[i] >= 0x20 && s->kiss_code[i] <= 0x7e);
    }
    FUZZ_CHECK(len == (v == NTK_SNTP_KOD ? 4u : 0u));
    FUZZ_CHECK((s->kiss != NTK_KISS_NONE) == (v == NTK_SNTP_KOD));
    FUZZ_CHECK(v != NTK_SNTP_KOD || (s->pkt.stratum == 0 && s->pkt.mode == NTK_MODE_SERVER));
}

/* The decoder's reason matches the verdict; early verdicts carry no timestamps. */
static void check_stage(enum ntk_sntp_verdict v, const struct ntk_sntp_sample *s)
{
    if (v == NTK_SNTP_MALFORMED) {
        FUZZ_CHECK(s->pkt_why != NTK_PKT_OK && s->pkt_why != NTK_PKT_BAD_VERSION);
        FUZZ_CHECK(s->pkt_why < NTK_PKT_REJECT_COUNT);
    } else {
        FUZZ_CHECK(s->pkt_why ==
                   (v == NTK_SNTP_BAD_VERSION ? NTK_PKT_BAD_VERSION : NTK_PKT_OK));
    }
    if (v == NTK_SNTP_MALFORMED || v == NTK_SNTP_BAD_VERSION) {
        FUZZ_CHECK(s->pkt.version == 0 && s->pkt.org.v == 0 && s->key_id == 0);
    }
    if (v < NTK_SNTP_KOD && v != NTK_SNTP_OK) {
        FUZZ_CHECK(s->t1.v == 0 && s->t2.v == 0 && s->t3.v == 0 && s->t4.v == 0);
        FUZZ_CHECK(!s->authenticated);
    }
    if (v != NTK_SNTP_OK) {
        FUZZ_CHECK(is_zero(s->offset_s) && is_zero(s->delay_s) && is_zero(s->dispersion_s));
        FUZZ_CHECK(is_zero(s->sync_distance_s) && is_zero(s->error_bound_s));
        FUZZ_CHECK(is_zero(s->root_delay_s) && is_zero(s->root_dispersion_s));
    }
}

/* From KOD on: the four timestamps, and authentication only with our key. */
static void check_times(const struct ntk_sntp_query *q, enum ntk_sntp_verdict v,
                        const struct ntk_sntp_sample *s, ntk_ts t4)
{
    if (s->authenticated) {
        FUZZ_CHECK(q->key_id != 0 && s->key_id == q->key_id);
    }
    if (v != NTK_SNTP_OK && v < NTK_SNTP_KOD) {
        return;
    }
    FUZZ_CHECK(s->pkt.mode == NTK_MODE_SERVER && !ntk_ts_is_zero(s->pkt.org));
    FUZZ_CHECK(q->replay || ntk_ts_eq(s->pkt.org, q->xmt));
    FUZZ_CHECK(ntk_ts_eq(s->t1, q->replay ? s->pkt.org : q->t1));
    FUZZ_CHECK(ntk_ts_eq(s->t2, s->pkt.rec) && ntk_ts_eq(s->t3, s->pkt.xmt));
    FUZZ_CHECK(ntk_ts_eq(s->t4, t4));
}

static double abs_d(double x)
{
    return x < 0 ? -x : x;
}

/* An accepted reply: RFC 5905's tests passed, and the numbers are sane. */
static void check_ok(const struct ntk_sntp_query *q, const struct ntk_sntp_sample *s)
{
    FUZZ_CHECK(s->pkt.stratum >= 1 && s->pkt.stratum <= 15);
    FUZZ_CHECK(s->pkt.leap != NTK_LEAP_UNSYNC && !ntk_ts_is_zero(s->pkt.xmt));
    FUZZ_CHECK(q->key_id == 0 || s->authenticated);
    const double v[] = {s->offset_s,         s->delay_s,       s->dispersion_s,
                        s->sync_distance_s,  s->error_bound_s, s->root_delay_s,
                        s->root_dispersion_s};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        FUZZ_CHECK(isfinite(v[i]));
    }
    FUZZ_CHECK(s->dispersion_s > 0 && s->sync_distance_s >= 0 && s->error_bound_s >= 0);
    FUZZ_CHECK(s->sync_distance_s >= s->dispersion_s);
    /* The exact arithmetic agrees with a plain one (each difference rounded to a double,
     * about 2^-22 s at most for a ±2^31 s difference) to a microsecond. */
    double naive =
        (ntk_dur_to_s(ntk_ts_diff(s->t2, s->t1)) + ntk_dur_to_s(ntk_ts_diff(s->t3, s->t4))) /
        2;
    FUZZ_CHECK(abs_d(s->offset_s - naive) <= 1e-6);
    naive = ntk_dur_to_s(ntk_ts_diff(s->t4, s->t1)) - ntk_dur_to_s(ntk_ts_diff(s->t3, s->t2));
    FUZZ_CHECK(abs_d(s->delay_s - naive) <= 1e-6);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < PREFIX) {
        return 0;
    }
    struct ntk_sntp_query q = make_query(data, size);
    ntk_ts t4 = {be64(data + 10)};
    struct ntk_mac_keys *ks = (data[0] & FLAG_NO_STORE) ? NULL : fuzz_symkeys();
    struct ntk_sntp_sample s;
    enum ntk_sntp_verdict v = ntk_sntp_check(&q, ks, data + PREFIX, size - PREFIX, t4, &s);
    FUZZ_CHECK((unsigned)v < NTK_SNTP_VERDICT_COUNT);
    FUZZ_CHECK(strcmp(ntk_sntp_verdict_name(v), "unknown") != 0);
    FUZZ_CHECK(strcmp(ntk_sntp_verdict_text(v), "unknown") != 0);
    check_kiss(v, &s);
    check_stage(v, &s);
    check_times(&q, v, &s, t4);
    if (v == NTK_SNTP_OK) {
        check_ok(&q, &s);
        FUZZ_CHECK(ntk_sntp_compare(&s, &s) == 0);
    }
    /* Deterministic: the same input gives the same verdict and numbers. */
    struct ntk_sntp_sample again;
    FUZZ_CHECK(ntk_sntp_check(&q, ks, data + PREFIX, size - PREFIX, t4, &again) == v);
    FUZZ_CHECK(again.offset_s == s.offset_s || (isnan(again.offset_s) && isnan(s.offset_s)));
    return 0;
}
