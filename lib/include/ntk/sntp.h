/* SPDX-License-Identifier: BSD-2-Clause */
/* A sans-IO SNTP exchange (RFC 4330, RFC 5905 §8): build a client request, check a reply
 * against it, and compute offset, delay, dispersion and synchronisation distance.
 *
 * The caller owns every system call. The usual sequence:
 *
 *   struct ntk_sntp_query q;
 *   len = ntk_sntp_request(&q, rnd, ks, key_id, buf, sizeof buf);   // rnd: 8 random bytes
 *   q.t1 = <CLOCK_REALTIME as ntk_ts, read right before send()>;
 *   send(buf, len) from a fresh socket on a random port;
 *   on each datagram: t4 = <receive time, the kernel's if it gave one>;
 *       v = ntk_sntp_check(&q, ks, dgram, dlen, t4, &sample);
 *       v < NTK_SNTP_KOD (MALFORMED .. BOGUS_ORIGIN, tests 1-4 below): keep waiting, as
 *       anyone can forge such a datagram and it must not end the exchange;
 *       anything else (KOD and later, OK): done with q.
 * The enum follows the check order, so "v != NTK_SNTP_OK && v < NTK_SNTP_KOD" is exactly
 * "refused before the nonce was seen to match".
 *
 * Client data minimisation (draft-ietf-ntp-data-minimization): the request is all zero except
 * the first byte (LI 0, VN 4, mode 3) and the transmit timestamp, which is 8 random bytes and
 * not the local time. It leaks no clock reading and serves as a 64-bit nonce: a reply counts
 * only if its origin timestamp echoes it (RFC 5905 §8 "bogus" test). T1 for the offset
 * arithmetic is the caller's own reading at send time (q.t1), never what was on the wire.
 *
 * ntk_sntp_check applies its tests in this order and returns the first that fails:
 *   1. the datagram decodes (ntk_pkt_decode)           NTK_SNTP_MALFORMED / _BAD_VERSION
 *      (a decoder refusal of mode 0, 6 or 7 is MALFORMED; sample->pkt_why says which)
 *   2. mode 4 (server)                                 NTK_SNTP_BAD_MODE
 *   3. origin != 0                                     NTK_SNTP_ZERO_ORIGIN
 *   4. origin == the transmit timestamp of the request NTK_SNTP_BOGUS_ORIGIN
 *   5. stratum 0: kiss-o'-death, its code in sample   NTK_SNTP_KOD
 *   6. if the request carried a MAC: the reply has     NTK_SNTP_AUTH_MISSING / _NAK /
 *      one with the same key id and it verifies        _KEYID / _FAILED
 *   7. stratum <= 15                                   NTK_SNTP_STRATUM
 *   8. leap != 3 (unsynchronised)                      NTK_SNTP_UNSYNC
 *   9. transmit timestamp != 0                         NTK_SNTP_ZERO_XMT
 * Tests 1-4 come first so that nothing an off-path attacker can send (it cannot know the
 * 64-bit nonce) gets past them, and a kiss-o'-death is believed only after them (RFC 5905
 * §7.4, RFC 8633 §5.3). A KoD is reported before the MAC test because servers send RATE and
 * DENY kisses without a MAC; the caller learns whether the KoD was authenticated from
 * sample->authenticated, and the only action a KoD causes in an SNTP client (stop asking
 * that server) is safe either way.
 *
 * The arithmetic (RFC 5905 §8), with T1 = q.t1, T2 = receive, T3 = transmit, T4 = t4:
 *   offset     θ = ((T2 - T1) + (T3 - T4)) / 2     server minus local: the correction to add
 *   delay      δ = (T4 - T1) - (T3 - T2)            as measured (may be negative)
 *   dispersion ε = 2^ρ_server + 2^ρ_local + PHI * |T4 - T1|
 *   distance   λ = (root_delay + max(δ, 2^ρ_local)) / 2 + root_dispersion + ε
 *   NTPsec's "+/-" (its JSON "precision"): |δ / 2 + PHI * |T4 - T1| + 2^ρ_server|
 * The elapsed time is taken as |T4 - T1| (chrony's fabs(local_interval)), so a local clock
 * stepped back between send and receive cannot make ε negative; for any real exchange
 * T4 >= T1 and this is RFC 5905's and NTPsec's formula. Differences are taken in 32.32 fixed
 * point with wrapping subtraction (ntk_ts_diff), and θ and δ are summed as whole seconds plus
 * fractions, so they are exact across an era boundary and only the final value is rounded
 * (once) to a double: θ of ±1e9 s keeps every bit a double can hold.
 */
#ifndef NTK_SNTP_H
#define NTK_SNTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntk/mac.h"
#include "ntk/ntime.h"
#include "ntk/pkt.h"

/* Frequency tolerance in s/s (RFC 5905 §7.2: 15 ppm). */
#define NTK_SNTP_PHI 15e-6

/* Room for the longest request: header, key id and the longest MAC. */
#define NTK_SNTP_REQ_MAX (NTK_PKT_HDR_LEN + NTK_PKT_KEYID_LEN + NTK_MAC_LEN_MAX)

/* The state of one request, kept by the caller until a reply is accepted or it gives up. */
struct ntk_sntp_query {
    ntk_ts xmt;                  /* the random transmit timestamp sent: the reply's origin */
    ntk_ts t1;                   /* T1: the local clock when the request left (set by the
                                    caller after ntk_sntp_request, before sending) */
    uint32_t key_id;             /* key the request was signed with; 0 = unauthenticated */
    int8_t local_precision_log2; /* ρ_local, log2 s (the caller measures it; -20 if unknown) */
    bool replay;                 /* no request was sent (NTPsec's hidden -r): test 4 is skipped
                                    and T1 is taken from the reply's origin timestamp */
};

/* Why a reply was refused. Values are stable: they index counters and name JSON errors. */
enum ntk_sntp_verdict {
    NTK_SNTP_OK = 0,        /* accepted: the sample is complete */
    NTK_SNTP_MALFORMED,     /* ntk_pkt_decode refused it (sample->pkt_why says why) */
    NTK_SNTP_BAD_VERSION,   /* version 0 or above 4 */
    NTK_SNTP_BAD_MODE,      /* not mode 4 (server) */
    NTK_SNTP_ZERO_ORIGIN,   /* origin timestamp is zero */
    NTK_SNTP_BOGUS_ORIGIN,  /* origin is not our transmit timestamp: not a reply to us */
    NTK_SNTP_KOD,           /* stratum 0: kiss-o'-death (sample->kiss, sample->kiss_code) */
    NTK_SNTP_AUTH_MISSING,  /* the request had a MAC, the reply none */
    NTK_SNTP_AUTH_NAK,      /* the reply is a crypto-NAK (key id alone) */
    NTK_SNTP_AUTH_KEYID,    /* the reply's MAC uses another key id than the request */
    NTK_SNTP_AUTH_FAILED,   /* the reply's MAC does not verify (or the key is unknown) */
    NTK_SNTP_STRATUM,       /* stratum above 15 */
    NTK_SNTP_UNSYNC,        /* leap indicator 3: the server is not synchronised */
    NTK_SNTP_ZERO_XMT,      /* transmit timestamp is zero */
    NTK_SNTP_VERDICT_COUNT, /* number of values */
};

/* What a reply says, and what was computed from it. */
struct ntk_sntp_sample {
    struct ntk_pkt pkt;          /* the decoded header (valid unless MALFORMED/BAD_VERSION) */
    enum ntk_pkt_reject pkt_why; /* the decoder's reason (NTK_PKT_OK when it decoded) */
    enum ntk_kiss kiss;          /* the kiss code for NTK_SNTP_KOD, else NTK_KISS_NONE */
    char kiss_code[5];           /* its 4 printable characters and a NUL ("" if no KoD) */
    bool authenticated;          /* the reply carried a MAC that verified with q->key_id
                                    (valid from NTK_SNTP_KOD on; false when q->key_id is 0,
                                    as no MAC is checked then) */
    uint32_t key_id;             /* the reply's key id, MAC or crypto-NAK (0 if it had none;
                                    valid whenever pkt is) */
    ntk_ts t1, t2, t3, t4;       /* the four timestamps (valid from NTK_SNTP_KOD on) */
    /* The rest is written only for NTK_SNTP_OK: */
    double offset_s;          /* θ */
    double delay_s;           /* δ */
    double dispersion_s;      /* ε */
    double sync_distance_s;   /* λ, the root synchronisation distance */
    double error_bound_s;     /* NTPsec's "+/-" figure */
    double root_delay_s;      /* the server's root delay */
    double root_dispersion_s; /* the server's root dispersion */
};

/* Builds a request into buf[0..cap): the 48-byte header of the data-minimised form above
 * with rnd as the transmit timestamp (its 8 bytes in wire order), then, when key_id is not
 * 0, the key id and the MAC of the header computed with ks (RFC 5905 §9.2). Writes *q (xmt,
 * key_id; t1 zero, local_precision_log2 -20, replay false) and returns the length: 48, or
 * 68 with an MD5 or AES-CMAC key, 72 with SHA-1 (and the other 20-byte digests). Errors, in
 * the order they are tested: NTK_EINVAL if rnd is all zero; NTK_ENOTFOUND if key_id is not
 * in ks (or ks is NULL); NTK_ENOSPC if cap is too small (NTK_SNTP_REQ_MAX always fits);
 * NTK_ECRYPTO if OpenSSL fails. *q and buf are written only on success. */
int ntk_sntp_request(struct ntk_sntp_query *q, const uint8_t rnd[8], struct ntk_mac_keys *ks,
                     uint32_t key_id, uint8_t *buf, size_t cap);

/* As ntk_sntp_request, with NTP version 1..4 in the header (`server ... version N`: servers
 * that only answer an old version); NTK_EINVAL for another version. */
int ntk_sntp_request_v(struct ntk_sntp_query *q, const uint8_t rnd[8], struct ntk_mac_keys *ks,
                       uint32_t key_id, uint8_t version, uint8_t *buf, size_t cap);

/* Checks the datagram buf[0..len) received at t4 against q, in the order at the top of this
 * file (ks is needed when q->key_id is not 0; it may be NULL otherwise). Always writes
 * *sample: the fields valid for the verdict returned, zero for the others. */
enum ntk_sntp_verdict ntk_sntp_check(const struct ntk_sntp_query *q, struct ntk_mac_keys *ks,
                                     const uint8_t *buf, size_t len, ntk_ts t4,
                                     struct ntk_sntp_sample *sample);

/* A stable snake_case name for v, used as the JSON "error" value and counter label: "ok",
 * "malformed", "bad_version", "bad_mode", "zero_origin", "bogus_origin", "kod",
 * "auth_missing", "auth_nak", "auth_keyid", "auth_failed", "stratum", "unsync", "zero_xmt";
 * "unknown" for any other value. Never NULL. */
const char *ntk_sntp_verdict_name(enum ntk_sntp_verdict v);

/* One English phrase for v, for diagnostics ("server not synchronized (leap indicator 3)").
 * Never NULL. */
const char *ntk_sntp_verdict_text(enum ntk_sntp_verdict v);

/* The order ntpdig keeps samples in (NTPsec's clock_select, with RFC 5905's distance): lower
 * stratum first, then smaller sync distance, then smaller root delay, then smaller delay.
 * Returns <0, 0 or >0 like a qsort comparator. Both samples must be NTK_SNTP_OK. */
int ntk_sntp_compare(const struct ntk_sntp_sample *a, const struct ntk_sntp_sample *b);

#endif /* NTK_SNTP_H */
