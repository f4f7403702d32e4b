/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's mode-6 responder (RFC 9327; what NTPsec's ntpq asks), sans-IO: one request datagram
 * and its source in, the response datagrams out. The shell (daemon/io/dctl.c) fills the
 * variables' snapshot (struct ctlv_src) and sends what ctlsrv_next gives from the socket the
 * request came in on.
 *
 * Opcodes answered (NTPsec 1.2.2's table; others get CERR_BADOP):
 *   UNSPEC         empty response with the system (or association's) status word
 *   READSTAT       associd 0: (association id, peer status) pairs; else the peer's variables
 *   READVAR        associd 0: system variables (ctlv_sys); else the peer's (ctlv_peer)
 *   READCLOCK      a refclock's clock variables (ctlv_clock) and clock status word;
 *                  associd 0: the system peer if a refclock, else the first refclock;
 *                  CERR_BADASSOC when there is none or the association is no refclock
 *   WRITEVAR       signed with the control key only; nothing is writable (as NTPsec 1.2.2,
 *                  where no variable can actually be written): a known system variable gives
 *                  CERR_PERMISSION, an unknown one CERR_UNKNOWNVAR, associd != 0 PERMISSION
 *   WRITECLOCK     CERR_PERMISSION (NTPsec)
 *   CONFIGURE      CERR_BADOP, whatever the key: runtime configuration over UDP is not
 *                  implemented at all (NTPsec's `:config` is replayable by design). BADOP and
 *                  not PERMISSION/RESTRICT because no key and no restrict line would change
 *                  the answer; PERMISSION would also start a client's proof-of-address retry
 *   READ_MRU       needs a valid nonce; NTPsec's paging (ctlsrv.c read_mru)
 *   READ_ORDLIST_A signed with the control key only: "ifstats" (or empty), "addr_restrictions"
 *   REQ_NONCE      "nonce=<32 hex digits>"
 *
 * Access policy, in this order (each refusal counted in struct ctlsrv_stats):
 *   1. not a mode-6 request that ntk_ctl_decode accepts (or a response): no answer;
 *   2. restrict `noquery` (or `ignore`): no answer at all, as NTPsec;
 *   3. per-client rate limit (not for loopback): a token bucket per address of
 *      CTLSRV_RATE_BURST requests refilled at CTLSRV_RATE_PPS; an excess request gets no
 *      answer. The buckets are a direct-mapped table of CTLSRV_RATE_SLOTS slots indexed by a
 *      keyed hash (SipHash-2-4) of the address: a newcomer takes over a slot only when its
 *      bucket is full (the occupant idle), else it shares the occupant's bucket, so a flood
 *      of addresses can only make limiting stricter, never reset an active client's bucket;
 *   4. a MAC is verified (ntk_ctl_verify); a request with a valid MAC of a trusted key is
 *      "signed" and its responses are signed with the same key;
 *   5. a first data item "nonce=<v>" is removed; if it is a nonce issued to this address
 *      (not port) less than CTLSRV_NONCE_LIFETIME_S ago, the address is proven for
 *      CTLSRV_PROOF_S (a table of CTLSRV_PROOF_SLOTS addresses; the one expiring first is
 *      replaced when full);
 *   6. anti-amplification: unless the request is signed, or the source is loopback, proven,
 *      or covered by a non-default restrict rule that allows queries (ctlsrv_opened), the
 *      total bytes of all response datagrams are at most the request's length; a larger
 *      answer is replaced by one 12-byte CERR_PERMISSION error response;
 *   7. restrict `nomodify` refuses WRITEVAR with PERMISSION (WRITECLOCK is always
 *      PERMISSION, CONFIGURE always BADOP); `nomrulist` refuses READ_MRU with PERMISSION.
 * Nonces: 16 hex digits of the issue time (monotonic ns) and 16 of SipHash-2-4 over that time
 * and the client's address, keyed with a secret from the shell; valid 16 s (NTPsec's
 * NONCE_TIMEOUT).
 */
#ifndef NTK_CTLSRV_H
#define NTK_CTLSRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctlv.h"
#include "mru.h"
#include "ntk/addr.h"
#include "ntk/ctl.h"
#include "ntk/mac.h"
#include "ntk/ntime.h"
#include "restrict.h"

/* How long a nonce is accepted (NTPsec's NONCE_TIMEOUT). */
#define CTLSRV_NONCE_LIFETIME_S 16

/* How long a valid nonce proves its address. */
#define CTLSRV_PROOF_S 300

/* Proven addresses remembered at most. */
#define CTLSRV_PROOF_SLOTS 64

/* Per-client rate limit of mode-6 requests: bucket size and refill rate (requests/s). ntpq
 * -p sends 1 + one per association; a proven remote mrulist of 10,000 entries takes about
 * 100 requests. */
#define CTLSRV_RATE_BURST 200
#define CTLSRV_RATE_PPS   50

/* Slots of the rate-limit table. */
#define CTLSRV_RATE_SLOTS 256

/* NTPsec's READ_MRU caps: most fragments and most entries per response. */
#define CTLSRV_MRU_FRAGS_MAX 128
#define CTLSRV_MRU_ROWS_MAX  256

/* Why a request got no answer or a refusal. Stable values: they index counters. */
enum ctlsrv_refuse {
    CTLSRV_REF_MALFORMED = 0, /* not a decodable mode-6 request: no answer */
    CTLSRV_REF_NOQUERY,       /* restrict noquery / ignore: no answer */
    CTLSRV_REF_RATE,          /* rate limited: no answer */
    CTLSRV_REF_BAD_MAC,       /* a MAC that did not verify (then handled as unsigned) */
    CTLSRV_REF_AMPLIFY,       /* answer larger than the request: PERMISSION instead */
    CTLSRV_REF_AUTH,          /* needed the control key: PERMISSION */
    CTLSRV_REF_NOMODIFY,      /* restrict nomodify: PERMISSION */
    CTLSRV_REF_NOMRULIST,     /* restrict nomrulist: PERMISSION */
    CTLSRV_REF_NONCE,         /* READ_MRU without a valid nonce: PERMISSION */
    CTLSRV_REF_CONFIGURE,     /* CONFIGURE: BADOP */
    CTLSRV_REF_COUNT,         /* number of values */
};

/* Counters (never reset). */
struct ctlsrv_stats {
    uint64_t requests;                  /* datagrams handed to ctlsrv_handle */
    uint64_t by_opcode[32];             /* decoded requests by opcode */
    uint64_t refused[CTLSRV_REF_COUNT]; /* by reason */
    uint64_t signed_requests;           /* requests with a valid MAC */
    uint64_t nonces;                    /* nonces issued */
    uint64_t proofs;                    /* valid nonce items received (addresses proven) */
    uint64_t responses;                 /* responses with data (not error responses) */
    uint64_t errors;                    /* error responses */
    uint64_t datagrams;                 /* datagrams produced */
    uint64_t bytes_in, bytes_out;       /* request bytes / response bytes produced */
};

/* One local address for ifstats (filled by the shell from its server sockets). */
struct ctlsrv_iface {
    struct ntk_addr addr; /* address and port bound (0.0.0.0/:: for a wildcard) */
    const char *name;     /* interface label, NUL-terminated (borrowed) */
    bool enabled;         /* answered (false: a `drop` socket) */
    uint32_t flags;       /* NTPsec's INT_* flags (0x1 up, 0x4 loopback, 0x8 wildcard...) */
    uint64_t rx, tx, txerr, dropped; /* datagrams */
    uint32_t peers;                  /* associations using it */
    int64_t uptime_s;                /* seconds since it was opened */
};

/* What one call needs from the daemon besides the request. All borrowed, may be NULL. */
struct ctlsrv_env {
    struct ntk_mac_keys *keys;      /* trusted keys (NULL: none) */
    const struct ctlv_src *vars;    /* variables (NULL: READVAR etc. answer BADASSOC/UNSPEC) */
    const struct mru *mru;          /* MRU list (NULL: READ_MRU lists nothing) */
    const struct rst_table *rst;    /* restrict rules (reslist; NULL: empty list) */
    const struct ctlsrv_iface *ifs; /* local addresses (ifstats) */
    size_t nifs;                    /* how many */
};

/* One request. */
struct ctlsrv_req {
    const uint8_t *buf;  /* the UDP payload (borrowed) */
    size_t len;          /* its length */
    struct ntk_addr src; /* source address and port */
    bool local;          /* the source is loopback (ctlsrv_is_loopback) */
    bool opened;         /* a non-default restrict rule allows it queries (ctlsrv_opened) */
    uint32_t rflags;     /* its restrict flags (srv_verdict.rflags) */
    int64_t now_mono_ns; /* monotonic now */
    ntk_ts now;          /* wall-clock now (MRU timestamps, now=) */
};

/* Configuration (copied). */
struct ctlsrv_cfg {
    uint32_t controlkey; /* `controlkey` (0: none; then WRITEVAR and ORDLIST always refuse) */
    uint8_t secret[16];  /* random, from the shell: nonce and hash-table key */
    size_t mru_rows;     /* room for this many MRU entries per READ_MRU (>= mru_capacity) */
};

/* The responder (opaque). */
struct ctlsrv;

/* Allocates a responder (its response buffer and MRU scratch are allocated here, never per
 * request). NULL when out of memory. */
struct ctlsrv *ctlsrv_new(const struct ctlsrv_cfg *cfg);

/* Frees it (NULL is fine). */
void ctlsrv_free(struct ctlsrv *s);

/* Changes the control key (after a configuration or key reload). */
void ctlsrv_set_controlkey(struct ctlsrv *s, uint32_t keyid);

/* Handles one request: decides and prepares the response. Returns the number of datagrams
 * to send (0: none), which ctlsrv_next then produces one by one. */
int ctlsrv_handle(struct ctlsrv *s, const struct ctlsrv_env *env, const struct ctlsrv_req *q);

/* Writes the next response datagram of the last ctlsrv_handle to out[0..cap) (cap >=
 * NTK_CTL_DATAGRAM_MAX always suffices), signed when the request was. Returns its length;
 * 0 when all have been produced; a negative ntk_ctl_encode error. keys must be the
 * ctlsrv_handle call's. */
int ctlsrv_next(struct ctlsrv *s, struct ntk_mac_keys *keys, uint8_t *out, size_t cap);

/* Counters. */
const struct ctlsrv_stats *ctlsrv_stats(const struct ctlsrv *s);

/* Stable lowercase name of a refusal reason ("noquery", "rate", ...); "unknown" outside. */
const char *ctlsrv_refuse_name(enum ctlsrv_refuse r);

/* True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
bool ctlsrv_is_loopback(const struct ntk_addr *a);

/* True when the most specific rule of t that src matches is not a default rule, was made by
 * a restrict line, and has neither noquery nor ignore: the network is explicitly opened to
 * queries. Counts no hit. */
bool ctlsrv_opened(const struct rst_table *t, const struct ntk_addr *src);

/* NTPsec's RES_* bits (mrulist rs.N, resall, resany) for our restrict flags. */
uint32_t ctlsrv_res_bits(uint32_t rst_flags);

#endif /* NTK_CTLSRV_H */
