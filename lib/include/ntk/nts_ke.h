/* SPDX-License-Identifier: BSD-2-Clause */
/* NTS Key Establishment records (RFC 8915 §4): the plaintext that client and server exchange
 * inside TLS 1.3 on TCP port 4460, as a codec with no I/O.
 *
 * A record is a 16-bit word (bit 15: Critical, bits 14-0: Record Type), a 16-bit Body Length
 * and the body. A message is a sequence of records ending with End of Message (type 0,
 * critical, empty body). Each side sends exactly one message; the server then closes.
 *
 * Bytes arrive from TLS in pieces of any size. The caller appends them to a buffer and asks
 * ntk_ke_scan whether a whole message is there; only then does it parse. A message longer
 * than NTK_KE_MSG_MAX, or with more than NTK_KE_RECORDS_MAX records, is refused before it is
 * read to the end, so a peer cannot make anyone buffer without bound (ntpd-rs CVE-2024-38528
 * was an unbounded KE read).
 *
 * Validation is strict where RFC 8915 says MUST and lenient where it says ignore:
 *   request (server side, ntk_ke_parse_request):
 *     - exactly one NTS Next Protocol record, critical, holding protocol 0 (NTPv4) among
 *       others (the other ids are ignored); an empty list or a missing record is a bad
 * request;
 *     - at most one AEAD record (may be absent: then the server has no algorithm to pick and
 *       answers with Error "bad request", RFC 8915 §4.1.5); ids that are not supported are
 *       skipped, the client's order is kept;
 *     - Server and Port Negotiation records are the client's wish (kept, may be ignored);
 *     - New Cookie, Error or Warning records from a client, and duplicates of any record,
 *       are a bad request;
 *     - an unknown critical record: Error "unrecognized critical record"; an unknown
 *       non-critical record is skipped;
 *     - body lengths: NPN and AEAD even, Port exactly 2, Server 1..255 bytes of printable
 *       ASCII (no spaces: 0x21..0x7e, as chrony checks), End 0 (and critical); anything
 *       else is a bad request.
 *   response (client side, ntk_ke_parse_response):
 *     - an Error record: the result says which (no other check);
 *     - a Warning record: reported, and the response is refused (RFC 8915 §4.1.4: a client
 *       MUST NOT continue on an unknown warning; no warning codes are defined);
 *     - NPN with exactly one id, 0, and critical; AEAD with exactly one id that the client
 *       offered; at least one cookie; cookies 1..NTK_KE_COOKIE_MAX bytes, the first
 *       NTK_KE_COOKIES_MAX kept and the rest counted; Server / Port as above, and Port
 *       not 0; an Error or Warning record of a length other than 2 is refused;
 *     - unknown critical record: refused; unknown non-critical: skipped.
 */
#ifndef NTK_NTS_KE_H
#define NTK_NTS_KE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntk/buf.h"

/* The TLS-level constants of NTS-KE (RFC 8915 §4, §5.1). */
#define NTK_KE_PORT_DEFAULT   4460                             /* TCP */
#define NTK_KE_ALPN           "ntske/1"                        /* ALPN protocol id */
#define NTK_KE_EXPORTER_LABEL "EXPORTER-network-time-security" /* RFC 5705 label */
#define NTK_KE_PROTO_NTPV4    0                                /* NTS Next Protocol id */

/* Limits (ours; chrony's are alike: 16 KiB messages, 8 cookies). */
#define NTK_KE_MSG_MAX     16384 /* longest message accepted, bytes */
#define NTK_KE_RECORDS_MAX 64    /* most records in one message */
#define NTK_KE_COOKIE_MAX  256   /* longest cookie accepted, bytes */
#define NTK_KE_COOKIES_MAX 8     /* cookies kept from one response */
#define NTK_KE_AEADS_MAX   8     /* AEAD ids kept from one request */
#define NTK_KE_SERVER_MAX  255   /* longest Server Negotiation value, bytes */

/* Record types (RFC 8915 §7.6, IANA "Network Time Security Key Establishment Record Types").
 */
enum ntk_ke_type {
    NTK_KE_END = 0,        /* End of Message */
    NTK_KE_NEXT_PROTO = 1, /* NTS Next Protocol Negotiation */
    NTK_KE_ERROR = 2,      /* Error */
    NTK_KE_WARNING = 3,    /* Warning */
    NTK_KE_AEAD = 4,       /* AEAD Algorithm Negotiation */
    NTK_KE_COOKIE = 5,     /* New Cookie for NTPv4 */
    NTK_KE_SERVER = 6,     /* NTPv4 Server Negotiation */
    NTK_KE_PORT = 7,       /* NTPv4 Port Negotiation */
};

/* The Critical bit of the first word. */
#define NTK_KE_CRITICAL 0x8000u

/* Error codes (RFC 8915 §4.1.3). */
enum ntk_ke_error {
    NTK_KE_ERR_UNRECOGNIZED = 0, /* Unrecognized Critical Record */
    NTK_KE_ERR_BAD_REQUEST = 1,  /* Bad Request */
    NTK_KE_ERR_INTERNAL = 2,     /* Internal Server Error */
};

/* What ntk_ke_scan found. */
enum ntk_ke_scan_result {
    NTK_KE_SCAN_MORE = 0,     /* no End of Message yet: read more */
    NTK_KE_SCAN_COMPLETE = 1, /* a whole message: *msg_len says how long */
};

/* Looks at buf[0..len), the bytes received so far, record header by record header. Returns
 * NTK_KE_SCAN_COMPLETE and sets *msg_len to the length up to and including the End of
 * Message record; NTK_KE_SCAN_MORE when it is not there yet (and the limits allow more);
 * NTK_ERANGE when the message exceeds NTK_KE_MSG_MAX or NTK_KE_RECORDS_MAX (also already
 * when a record header declares a body that would); NTK_EFORMAT when an End of Message
 * record has a non-empty body. Reads only record headers; never reads past len. A record
 * other than End must leave room for the End that follows (its header alone can make the
 * result NTK_ERANGE), so while the result is NTK_KE_SCAN_MORE, len < NTK_KE_MSG_MAX: a
 * receive buffer of NTK_KE_MSG_MAX bytes always suffices. */
int ntk_ke_scan(const uint8_t *buf, size_t len, size_t *msg_len);

/* A client's request, as the server understands it. */
struct ntk_ke_request {
    uint16_t aeads[NTK_KE_AEADS_MAX];   /* the AEAD ids offered, in the client's order, only
                                           those this build supports (ntk_aead_supported) */
    size_t n_aeads;                     /* how many */
    bool had_aead_record;               /* an AEAD record was present (even if none usable);
                                           always true on success: a request without one is
                                           refused ("no AEAD Algorithm record") */
    char server[NTK_KE_SERVER_MAX + 1]; /* Server Negotiation value, NUL-terminated ("") */
    bool has_port;                      /* a Port Negotiation record was present */
    uint16_t port;                      /* its value */
};

/* How a request was refused: the Error record the server must answer with. */
struct ntk_ke_refusal {
    enum ntk_ke_error code; /* what to send */
    const char *why;        /* a static English phrase for the log ("no NTPv4 in NTS Next
                               Protocol") */
};

/* Parses a complete request msg[0..len) (as delimited by ntk_ke_scan). Returns 0 and writes
 * *req; or NTK_EFORMAT and writes *ref (the Error to send and why). */
int ntk_ke_parse_request(const uint8_t *msg, size_t len, struct ntk_ke_request *req,
                         struct ntk_ke_refusal *ref);

/* A cookie as it travels (KE response, NTS Cookie extension field). */
struct ntk_ke_cookie {
    uint16_t len;                 /* 1..NTK_KE_COOKIE_MAX */
    uint8_t b[NTK_KE_COOKIE_MAX]; /* the bytes (opaque to the client) */
};

/* What a server answered, as the client understands it. */
struct ntk_ke_response {
    bool error;            /* the server sent an Error record */
    uint16_t error_code;   /* its code (enum ntk_ke_error, or another value) */
    bool warning;          /* the server sent a Warning record */
    uint16_t warning_code; /* its code */
    uint16_t aead;         /* the algorithm chosen */
    struct ntk_ke_cookie cookies[NTK_KE_COOKIES_MAX]; /* the cookies, in order */
    size_t n_cookies;                                 /* how many kept */
    size_t cookies_dropped;             /* cookies beyond NTK_KE_COOKIES_MAX (not kept) */
    char server[NTK_KE_SERVER_MAX + 1]; /* NTP server to use ("": the KE server's address) */
    bool has_port;                      /* a Port record was present */
    uint16_t port;                      /* the NTP port to use (123 when !has_port) */
};

/* Parses a complete response msg[0..len). aeads[0..n_aeads) is what the client offered.
 * Returns 0 and writes *resp (check resp->error first: an Error response parses fine);
 * NTK_EFORMAT for anything the rules above refuse (*resp then zeroed, except error /
 * warning and their codes when that was the reason), with *why (if not NULL) set to a static
 * English phrase ("AEAD not offered by us"). */
int ntk_ke_parse_response(const uint8_t *msg, size_t len, const uint16_t *aeads,
                          size_t n_aeads, struct ntk_ke_response *resp, const char **why);

/* ---- building (all or nothing: on error nothing is written and w is failed) ---- */

/* Appends one record: type (| NTK_KE_CRITICAL when critical), length, body[0..len).
 * Returns 0, NTK_ENOSPC, or NTK_ERANGE when len > 65535 or type > 0x7fff. */
int ntk_ke_put(struct ntk_wr *w, uint16_t type, bool critical, const void *body, size_t len);

/* Appends a record whose body is the list of 16-bit ids[0..n) (NPN, AEAD). */
int ntk_ke_put_u16s(struct ntk_wr *w, uint16_t type, bool critical, const uint16_t *ids,
                    size_t n);

/* Builds a client request: NPN {0} (critical), AEAD aeads[0..n_aeads) (critical), then,
 * when server is not NULL or port is not 0, Server / Port Negotiation (non-critical), then
 * End of Message. Returns the length written into out[0..cap) or a negative enum ntk_err:
 * NTK_EINVAL when n_aeads is 0 or server is not 1..NTK_KE_SERVER_MAX printable ASCII
 * characters without spaces ("" counts as NULL). */
int ntk_ke_build_request(uint8_t *out, size_t cap, const uint16_t *aeads, size_t n_aeads,
                         const char *server, uint16_t port);

/* Builds a server response: NPN {0} (critical), AEAD {aead} (critical), the cookies, then
 * Server (when server is not NULL and not "") and Port (when port is not 0), both critical
 * as chrony sends them, then End. Returns the length or a negative enum ntk_err (NTK_EINVAL
 * for a cookie of length 0 or over NTK_KE_COOKIE_MAX, or a server as refused above). */
int ntk_ke_build_response(uint8_t *out, size_t cap, uint16_t aead,
                          const struct ntk_ke_cookie *cookies, size_t n_cookies,
                          const char *server, uint16_t port);

/* Builds an error response: Error {code} (critical), End. Returns the length or a negative
 * enum ntk_err. */
int ntk_ke_build_error(uint8_t *out, size_t cap, enum ntk_ke_error code);

/* Writes the 5-byte TLS exporter context of RFC 8915 §5.1: protocol id 0 (2 bytes), aead
 * (2 bytes, big-endian), then 0x00 for the client-to-server key or 0x01 for
 * server-to-client. */
void ntk_ke_exporter_context(uint16_t aead, bool s2c, uint8_t out[5]);

/* A static name of a record type ("End of Message", ... "unknown"), for logs. */
const char *ntk_ke_type_name(uint16_t type);

/* A static name of an error code ("unrecognized critical record", "bad request",
 * "internal server error", "unknown"). */
const char *ntk_ke_error_name(uint16_t code);

#endif /* NTK_NTS_KE_H */
