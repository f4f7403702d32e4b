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
 * Behaviour (as NTPsec's ntpq, ntpclients/ntpq.py and pylib/packet.py, except where said):
 *  - requests are LI=3, VN=2 like ntpq's, their data zero-padded to 4 bytes (8 and a MAC
 *    when signed); sequence numbers increase by one per request (the first is
 *    cfg.first_sequence); responses to other sequences or opcodes are ignored
 *    (ntk_ctlc_feed returns NTK_ENOTFOUND); sources are the caller's business;
 *  - a request that got no complete response within timeout_ms is sent again, retries
 *    times, with the SAME sequence (ntpq takes a new one; keeping it lets a late answer to
 *    the first copy count), the fragments already received being dropped; then the session
 *    ends with NTK_CTLC_TIMEOUT;
 *  - with keyid != 0 every request is signed with that key and only response datagrams with
 *    a valid MAC of a key in keys are used; others are ignored (ntk_ctlc_feed returns
 *    NTK_EAUTH: a forged datagram must not end the session), and if no good response came
 *    when the retries are spent the session ends NTK_CTLC_FAILED / NTK_EAUTH instead of
 *    TIMEOUT. Likewise a response fragment the reassembler rejected (ntk_ctl_reasm_feed)
 *    turns that final TIMEOUT into FAILED with its error (NTK_EFORMAT, NTK_ERANGE);
 *  - an error response ends the request with NTK_CTLC_REFUSED (ntk_ctlc_cerr), except:
 *  - proof of address (ntpkit's ntpd; see daemon/core/ctlsrv.c): when an UNSIGNED request
 *    other than READ_MRU gets an error response with code NTK_CTL_CERR_PERMISSION and
 *    cfg.prove is set, the session (once per request) asks for a nonce (REQ_NONCE, its data
 *    NTK_CTLC_NONCE_PAD spaces so that the answer is not larger than the question) and then
 *    sends the original request again, new sequence, with "nonce=<value>, " in front of its
 *    data (also when the data is empty). When the refused request was itself a REQ_NONCE,
 *    the padded one's answer is the answer. A refusal of either ends the request REFUSED;
 *    an answer to the padded REQ_NONCE without "nonce=" ends it FAILED / NTK_EFORMAT.
 *    NTPsec's ntpd never refuses that way, so against it nothing of this happens;
 *  - mrulist (ntk_ctlc_mrulist), as ntpq's ControlSession.mrulist:
 *    . REQ_NONCE with empty data; an answer that does not start with "nonce=" is asked
 *      again, 4 requests in all (ntpq fetch_nonce), then FAILED / NTK_EFORMAT;
 *    . READ_MRU "nonce=<value>, frags=<F>, <params>" (F from the caller, ntpq: 32); each
 *      response's data is given to the caller as a CHUNK (entries may repeat across chunks,
 *      and the index numbers restart in each: the caller keeps the newest per address);
 *      a response with a "now=" item ends the list: the step after its CHUNK returns DONE
 *      (with empty data). A response's "nonce=" item replaces the nonce;
 *    . otherwise the next READ_MRU is "nonce=<value>, frags=<F>[, <params without
 *      recent=>]" followed by as many ", addr.<i>=<a>, last.<i>=<l>" resume points as keep
 *      the data under 468 bytes, i = 0 for the newest entry received so far (the highest
 *      index with both addr.K and last.K of the latest response, then older ones, then
 *      those of earlier responses), exactly the bytes ntpq sends; after a response (not an
 *      error) F grows by one up to 32 (ntpq MAXFRAGS); a new REQ_NONCE is made first when
 *      the last one is 16 s old or more (NTPsec NONCE_TIMEOUT, from its answer, as ntpq);
 *    . a READ_MRU that times out (after its resends; NTPsec's ntpd also drops requests with
 *      a stale nonce silently) halves F (L in limit mode; not below 2), gets a new nonce and
 *      goes on; when it was already 2 or less the session ends TIMEOUT (ntpq 1.2.2 meant to
 *      halve but retries the same request forever); a REQ_NONCE that times out ends it;
 *    . error CERR_BADVALUE: the first switches from "frags=F" to "limit=L" (L = 96, then
 *      grown as ntpq: min(96, max(L + 1, L * 33 / 32))), later ones lower ntpq's row limit
 *      (256) by one; error CERR_UNKNOWNVAR (no resume point matched): the resume points are
 *      forgotten and the list is read again from its oldest entry (ntpq 1.2.2 resends the
 *      same points); after 8 such error rounds in all the 9th ends REFUSED; other errors
 *      end REFUSED at once (PERMISSION on the first REQ_NONCE: the proof exchange above,
 *      whose padded REQ_NONCE is then used for every nonce of the transaction);
 *    . F and L are computed in ntpq's floating point and written truncated ("%d").
 *    The caller parses the entries with ctlvars.h.
 *  - ntk_ctlc_step before any request returns NTK_CTLC_FAILED (ntk_ctlc_err: NTK_EINVAL);
 *    after a final event it returns that event again until the next request.
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

/* Longest nonce value used (NTPsec's are 24 hex digits): with it "nonce=<value>, " and
 * NTK_CTLC_REQ_MAX bytes still fit in one datagram's 468 data bytes. An answer carrying a
 * longer one counts as an answer without a nonce. */
#define NTK_CTLC_NONCE_MAX 60

/* Longest mrulist params accepted by ntk_ctlc_mrulist: with "nonce=<value>, frags=<F>, "
 * in front they fit in one datagram. */
#define NTK_CTLC_PARAMS_MAX 384

/* Most resume points remembered (each takes at least 18 bytes of a 468-byte request). */
#define NTK_CTLC_RESUME_MAX 32

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

/* One remembered mrulist resume point: spans of the session's resume_text. */
struct ntk_ctlc_point {
    uint16_t addr_off; /* "addr.K" value: offset in resume_text */
    uint16_t addr_len; /* its length */
    uint16_t last_off; /* "last.K" value: offset in resume_text */
    uint16_t last_len; /* its length */
};

/* The session. Fields are private (sizeof is about 64 KiB: make it static or heap). */
struct ntk_ctlc {
    struct ntk_ctlc_cfg cfg;
    int state;                            /* internal state machine */
    int kind;                             /* what the request in flight is for */
    enum ntk_ctlc_ev final;               /* the final event, repeated by later steps */
    bool mru;                             /* an mrulist transaction */
    uint16_t next_sequence;               /* sequence of the next request */
    uint16_t sequence;                    /* of the request in flight */
    uint8_t opcode;                       /* of the request in flight */
    uint16_t associd;                     /* of the request in flight */
    uint8_t user_opcode;                  /* the caller's request */
    uint16_t user_associd;                /* its association id */
    char req[NTK_CTLC_REQ_MAX + 1];       /* its data */
    size_t req_len;                       /* its length */
    bool proving;                         /* the proof exchange ran for this request */
    bool pad_nonce;                       /* mrulist: pad every REQ_NONCE (refused once) */
    char params[NTK_CTLC_PARAMS_MAX + 1]; /* mrulist: the caller's parameters */
    size_t params_len;                    /* their length */
    char later[NTK_CTLC_PARAMS_MAX + 1];  /* the same without "recent=" */
    size_t later_len;                     /* its length */
    char nonce[NTK_CTLC_NONCE_MAX + 1];   /* the last nonce value received */
    size_t nonce_len;                     /* its length (0: none) */
    int64_t nonce_ms;                     /* when the last REQ_NONCE was answered */
    bool need_nonce;                      /* mrulist: REQ_NONCE before the next READ_MRU */
    unsigned nonce_tries;                 /* REQ_NONCE requests of this fetch */
    bool first_read;                      /* the next READ_MRU is the first */
    bool complete;                        /* mrulist: "now=" seen */
    double frags;                         /* mrulist: frags= (ntpq's float) */
    double limit;                         /* mrulist: limit= once use_limit */
    double row_limit;                     /* ntpq's ntpd_row_limit */
    bool use_limit;                       /* limit= instead of frags= (after BADVALUE) */
    unsigned error_rounds;                /* mrulist: BADVALUE/UNKNOWNVAR answers */
    struct ntk_ctlc_point resume[NTK_CTLC_RESUME_MAX]; /* newest first */
    size_t nresume;                                    /* points in resume */
    char resume_text[NTK_CTL_DATA_MAX];                /* their addr and last values */
    unsigned attempts;                                 /* sends of the request in flight */
    int64_t deadline_ms;                /* when the request in flight times out */
    bool bad_mac;                       /* a datagram of it had a bad or no MAC */
    int reasm_err;                      /* first fragment of it the reassembler refused */
    int err;                            /* for NTK_CTLC_FAILED */
    uint8_t cerr;                       /* for NTK_CTLC_REFUSED */
    uint16_t status;                    /* status word of the complete response */
    size_t data_len;                    /* data for ntk_ctlc_data (in buf) */
    uint8_t out[NTK_CTL_DATAGRAM_MAX];  /* the datagram of the request in flight */
    size_t out_len;                     /* its length */
    struct ntk_ctl_reasm reasm;         /* the response being reassembled */
    uint8_t buf[NTK_CTL_REASM_MAX + 1]; /* its data (NUL-terminated when complete) */
};

/* Prepares a session. */
void ntk_ctlc_init(struct ntk_ctlc *c, const struct ntk_ctlc_cfg *cfg);

/* Starts a request: opcode, association id (0: the system) and data[0..len) (a variable
 * list, or empty; may be NULL when len is 0). Returns 0; NTK_EINVAL for len >
 * NTK_CTLC_REQ_MAX, an opcode above 31, a keyid with no keys or not in them, or while a
 * request is in flight (a final event ends it). */
int ntk_ctlc_request(struct ntk_ctlc *c, uint8_t opcode, uint16_t associd, const char *data,
                     size_t len);

/* Starts an mrulist transaction with NTPsec's parameters (params[0..len): "recent=N,
 * limit=N, mincount=M, laddr=A, resall=0x.., resany=0x.." as ntpq's mrulist writes them:
 * recent first, name=value items joined by ", "; may be empty; "recent=" is sent only in
 * the first READ_MRU) and frags= starting at frags (NTPsec ntpq: 32). Returns 0;
 * NTK_EINVAL for len > NTK_CTLC_PARAMS_MAX, params that ctlvars.h cannot parse, frags
 * above 65535, and as ntk_ctlc_request. */
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
 * flight (ignored; also once the response is complete, until the next step); a negative
 * ntk_ctl_decode error when it is malformed, NTK_EAUTH when the session signs and its MAC
 * is missing or wrong, or an ntk_ctl_reasm_feed error when it contradicts the fragments
 * received (all ignored too: a forged datagram must not end the session). */
int ntk_ctlc_feed(struct ntk_ctlc *c, const uint8_t *p, size_t len);

/* After NTK_CTLC_DONE or NTK_CTLC_CHUNK: the response data, NUL-terminated (the NUL is not
 * counted in *len; the data may hold NUL bytes too). Valid until the next ntk_ctlc_step
 * (after a final event: until the next request). mrulist's DONE has empty data. Never
 * NULL; "" with *len 0 at other times. */
const char *ntk_ctlc_data(const struct ntk_ctlc *c, size_t *len);

/* After NTK_CTLC_DONE: the status word of the response. */
uint16_t ntk_ctlc_status(const struct ntk_ctlc *c);

/* After NTK_CTLC_REFUSED: the error code (enum ntk_ctl_cerr). */
uint8_t ntk_ctlc_cerr(const struct ntk_ctlc *c);

/* After NTK_CTLC_FAILED: the negative enum ntk_err. */
int ntk_ctlc_err(const struct ntk_ctlc *c);

#endif /* NTK_CTLC_H */
