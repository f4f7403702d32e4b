/* SPDX-License-Identifier: BSD-2-Clause */
/* A mode-6 client session (RFC 9327), sans-IO: what ntpq, ntpmon and the exporter use to
 * talk to ntpd. One request at a time. The caller owns the socket and the clock: it calls
 * ntk_ctlc_step() and does what it says (send a datagram, or wait until a datagram arrives
 * or ntk_ctlc_deadline() passes), feeds every datagram from the server to ntk_ctlc_feed(),
 * and calls ntk_ctlc_step() again, until a final event.
 *
 *   ntk_ctlc_init(&c, &cfg);
 *   ntk_ctlc_request(&c, NTK_CTL_OP_READVAR, 0, "", 0);      (or ntk_ctlc_mrulist)
 *   for (;;) {
 *       ev = ntk_ctlc_step(&c, now, out, sizeof out, &n);
 *       SEND: send out[0..n) and step again;  WAIT: poll until a datagram (feed it) or the
 *       deadline, then step again;  CHUNK: use ntk_ctlc_data() and step again;
 *       DONE / REFUSED / TIMEOUT / FAILED: stop.
 *   }
 *
 * Behaviour (as NTPsec's ntpq, ntpclients/ntpq.py and pylib/packet.py):
 *  - sequence numbers increase by one per request; responses to other sequences, opcodes or
 *    sources the caller filtered are ignored (ntk_ctlc_feed returns NTK_ENOTFOUND);
 *  - a request that got no complete response within timeout_ms is sent again, retries
 *    times (the same sequence), then the session ends with NTK_CTLC_TIMEOUT;
 *  - with keyid != 0 every request is signed with that key and every response must carry a
 *    valid MAC of a key in keys (else NTK_CTLC_FAILED, NTK_EAUTH);
 *  - proof of address (ntpkit's ntpd; see daemon/core/ctlsrv.c): when an UNSIGNED request
 *    gets an error response with code NTK_CTL_CERR_PERMISSION and cfg.prove is set, the
 *    session once asks for a nonce (REQ_NONCE, its data padded with spaces to
 *    NTK_CTLC_NONCE_PAD bytes so that the answer is not larger than the question) and then
 *    sends the original request again with "nonce=<value>, " in front of its data (padded
 *    requests and the nonce item are what lets ntpkit's ntpd send a response larger than
 *    the request to an address that has not proven itself). NTPsec's ntpd never refuses
 *    that way, so against it nothing of this happens;
 *  - mrulist (ntk_ctlc_mrulist): REQ_NONCE, then READ_MRU requests "nonce=N, frags=F,
 *    <params>" and, while a response does not end the list (it has no "now=" item), the
 *    next READ_MRU with the new nonce it carried and the last few entries' "addr.K=" /
 *    "last.K=" as resume points, exactly as NTPsec's ntpq; every response's data is given
 *    to the caller as a CHUNK (entries may repeat across chunks: the caller keeps the
 *    newest per address); frags is halved after a timeout, as ntpq does; the end is DONE.
 *    The caller parses the entries with ctlvars.h.
 */
#ifndef NTK_CTLC_H
#define NTK_CTLC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntk/ctl.h"
#include "ntk/mac.h"

/* REQ_NONCE requests of the proof exchange are padded to this many data bytes. */
#define NTK_CTLC_NONCE_PAD 64

/* Longest request data accepted by ntk_ctlc_request (one datagram, without the nonce item
 * the proof may add in front). */
#define NTK_CTLC_REQ_MAX 400

/* Configuration (copied by ntk_ctlc_init). */
struct ntk_ctlc_cfg {
    struct ntk_mac_keys *keys; /* borrowed; NULL: no key (keyid must be 0) */
    uint32_t keyid;            /* sign requests with this key; 0: unsigned */
    int64_t timeout_ms;        /* per attempt (ntpq's `timeout` command; NTPsec: 5000) */
    unsigned retries;          /* resends after a timeout (as ntpq's) */
    bool prove;                /* do the proof-of-address exchange when refused */
    uint16_t first_sequence;   /* the first request's sequence number (random is best) */
};

/* What ntk_ctlc_step asks of the caller, or how the request ended. */
enum ntk_ctlc_ev {
    NTK_CTLC_SEND = 1, /* send out[0..*len) to the server, then step again */
    NTK_CTLC_WAIT,     /* wait for a datagram (feed it) or the deadline, then step again */
    NTK_CTLC_CHUNK,    /* mrulist: one response's data is ready (ntk_ctlc_data); step on */
    NTK_CTLC_DONE,     /* the response is complete: ntk_ctlc_data, ntk_ctlc_status */
    NTK_CTLC_REFUSED,  /* the server answered with an error: ntk_ctlc_cerr */
    NTK_CTLC_TIMEOUT,  /* no complete response after the retries */
    NTK_CTLC_FAILED,   /* something else: ntk_ctlc_err (NTK_EAUTH for a bad response MAC,
                          NTK_EFORMAT for a response that cannot be reassembled...) */
};

/* The session. Fields are private (sizeof is about 64 KiB: make it static or heap). */
struct ntk_ctlc {
    struct ntk_ctlc_cfg cfg;
    int state;                          /* internal state machine */
    uint16_t sequence;                  /* of the request in flight */
    uint8_t opcode;                     /* of the request in flight */
    uint16_t associd;                   /* of the request in flight */
    char req[NTK_CTLC_REQ_MAX + 1];     /* the caller's request data */
    size_t req_len;                     /* its length */
    char params[NTK_CTLC_REQ_MAX + 1];  /* mrulist: the caller's parameters */
    size_t params_len;                  /* their length */
    char nonce[64];                     /* the last nonce received ("" none) */
    char resume[NTK_CTLC_REQ_MAX + 1];  /* mrulist: resume points for the next request */
    size_t resume_len;                  /* their length */
    unsigned frags;                     /* mrulist: frags= of the next request */
    unsigned attempts;                  /* sends of the request in flight */
    bool proved;                        /* the proof exchange has been done */
    int64_t deadline_ms;                /* when the request in flight times out */
    int err;                            /* for NTK_CTLC_FAILED */
    uint8_t cerr;                       /* for NTK_CTLC_REFUSED */
    uint16_t status;                    /* status word of the complete response */
    uint8_t out[NTK_CTL_DATAGRAM_MAX];  /* the next datagram to send */
    size_t out_len;                     /* its length (0: none pending) */
    struct ntk_ctl_reasm reasm;         /* the response being reassembled */
    uint8_t buf[NTK_CTL_REASM_MAX + 1]; /* its data (NUL-terminated when complete) */
};

/* Prepares a session. */
void ntk_ctlc_init(struct ntk_ctlc *c, const struct ntk_ctlc_cfg *cfg);

/* Starts a request: opcode, association id (0: the system) and data[0..len) (a variable
 * list, or empty). Returns 0; NTK_EINVAL for len > NTK_CTLC_REQ_MAX, an opcode above 31,
 * or a keyid with no keys or while a request is in flight. */
int ntk_ctlc_request(struct ntk_ctlc *c, uint8_t opcode, uint16_t associd, const char *data,
                     size_t len);

/* Starts an mrulist transaction with NTPsec's parameters (params[0..len): "limit=N,
 * mincount=M, laddr=A, resall=0x.., resany=0x.., sort=..." as ntpq's mrulist writes them,
 * may be empty) and frags= starting at frags (NTPsec ntpq: 32). Errors as ntk_ctlc_request. */
int ntk_ctlc_mrulist(struct ntk_ctlc *c, const char *params, size_t len, unsigned frags);

/* Advances the session at now_ms (any monotonic milliseconds): returns what the caller must
 * do next (see enum ntk_ctlc_ev). For NTK_CTLC_SEND the datagram is written to out[0..cap)
 * and its length to *len (cap >= NTK_CTL_DATAGRAM_MAX always suffices). */
enum ntk_ctlc_ev ntk_ctlc_step(struct ntk_ctlc *c, int64_t now_ms, uint8_t *out, size_t cap,
                               size_t *len);

/* When the request in flight times out (monotonic ms; INT64_MAX when nothing is awaited). */
int64_t ntk_ctlc_deadline(const struct ntk_ctlc *c);

/* Feeds one datagram received from the server. Returns 0 when it was used (a fragment of
 * the awaited response, even a duplicate); NTK_ENOTFOUND when it belongs to no request in
 * flight (ignored); a negative ntk_ctl_decode / MAC error when it is malformed or its MAC
 * is wrong (ignored too: a forged datagram must not end the session). */
int ntk_ctlc_feed(struct ntk_ctlc *c, const uint8_t *p, size_t len);

/* After NTK_CTLC_DONE or NTK_CTLC_CHUNK: the response data, NUL-terminated (the NUL is not
 * counted in *len). Valid until the next ntk_ctlc_step. */
const char *ntk_ctlc_data(const struct ntk_ctlc *c, size_t *len);

/* After NTK_CTLC_DONE: the status word of the response. */
uint16_t ntk_ctlc_status(const struct ntk_ctlc *c);

/* After NTK_CTLC_REFUSED: the error code (enum ntk_ctl_cerr). */
uint8_t ntk_ctlc_cerr(const struct ntk_ctlc *c);

/* After NTK_CTLC_FAILED: the negative enum ntk_err. */
int ntk_ctlc_err(const struct ntk_ctlc *c);

#endif /* NTK_CTLC_H */
