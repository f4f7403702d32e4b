/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpcap's analyzer core: captured frames in, decoded packets, paired exchanges, per-flow
 * statistics and anomalies out, through a sink of callbacks. Pure: no I/O, no clock, no
 * libpcap (cap_io.c reads files and interfaces and calls cap_feed; cap_out*.c print what the
 * sink receives), so fuzzing, golden tests and the benchmark drive exactly this code. Every
 * byte of a frame is read through lib/'s cursors; NTP decoding is lib/'s (ntk_pkt_decode,
 * ntk_ef, ntk_ctl_*, the NTS field rules of nts_ef.h).
 *
 * One pass, bounded memory: requests wait for their response in a table of at most
 * cfg.max_pending entries (the oldest is dropped and counted unmatched when it is full, or
 * when it is older than cfg.pair_timeout_s of capture time); flows live in an LRU table of
 * at most cfg.max_flows entries (an evicted flow is reported through sink.flow and counted).
 *
 * Pairing (ecosystem.md §3.4): mode 3 -> 4 by the address/port pair reversed and the
 * response's origin equal to the request's transmit timestamp; mode 6 by the pair, sequence
 * and association id (a multi-fragment response is one exchange: fragments reassembled with
 * ntk_ctl_reasm, the byte count is all fragments'); mode 7 by the pair, implementation and
 * request code (NTP Classic's requests carry sequence 0 and its response fragments count up
 * from 0; the fragment without the more bit ends the exchange).
 *
 * Times: every exchange says which clock each figure is relative to. offset_pkt_s and
 * delay_pkt_s are RFC 5905's with T1 = the request's transmit field (meaningful only when
 * the client put its clock there: data-minimised clients send random bits), T2 and T3 from
 * the response and T4 = the response's capture time; offset_cap_s and delay_cap_s take T1
 * and T4 from the capture times of request and response (the server's clock against the
 * capturing host's, whatever the client's software); server_s = T3 - T2 (the server's own
 * processing time).
 */
#ifndef NTK_CAP_H
#define NTK_CAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntk/addr.h"
#include "ntk/ntime.h"
#include "ntk/nts_ke.h"
#include "ntk/pkt.h"

/* Link-layer types handled (libpcap's DLT_ values). */
enum cap_link {
    CAP_LINK_NULL = 0,         /* BSD loopback (4-byte family) */
    CAP_LINK_EN10MB = 1,       /* Ethernet, with 802.1Q / QinQ tags */
    CAP_LINK_RAW = 101,        /* raw IPv4/IPv6 (LINKTYPE_RAW) */
    CAP_LINK_LINUX_SLL = 113,  /* Linux "any" v1 */
    CAP_LINK_LINUX_SLL2 = 276, /* Linux "any" v2 */
};

/* What a frame turned out to be. */
enum cap_what {
    CAP_NTP = 0,   /* UDP with an NTP payload (port 123 on either side, or any UDP payload the
                      BPF let through that decodes as NTP) */
    CAP_NTSKE,     /* TCP segment to or from port 4460 (connection metadata only) */
    CAP_OTHER,     /* anything else (counted, not reported) */
    CAP_TRUNCATED, /* the capture cut the frame before the end of its headers */
    CAP_MALFORMED, /* headers with impossible lengths (IP total length, UDP length) */
};

/* A decoded NTP packet (valid when what == CAP_NTP). */
struct cap_pkt {
    uint64_t frame; /* 1-based frame number in the capture */
    int64_t ts_sec; /* capture time (Unix) */
    uint32_t ts_nsec;
    enum cap_what what;
    struct ntk_addr src, dst; /* with ports */
    uint8_t ttl;              /* IPv4 TTL / IPv6 hop limit */
    uint8_t dscp;
    size_t frame_len;       /* bytes on the wire */
    size_t payload_len;     /* UDP payload (or TCP segment data) bytes captured */
    bool payload_truncated; /* the snap length cut the payload */
    bool ip_fragment;       /* first fragment of a larger IP datagram (decoded as captured) */
    /* CAP_NTSKE (TCP) */
    uint8_t tcp_flags; /* TCP flag bits (0x01 FIN, 0x02 SYN, 0x04 RST, 0x10 ACK) */
    uint32_t tcp_seq;  /* TCP sequence number (for the NTS-KE stream reassembly) */
    char tls_sni[64];  /* server name of a TLS ClientHello in this segment, or "" */
    char tls_alpn[16]; /* its first ALPN protocol ("ntske/1"), or "" */
    /* NTP (every field from here to the end is reset by cap_decode_ntp) */
    bool decoded;               /* ntk_pkt_decode accepted it (modes 1-5) or the mode-6/7
                                   header parsed */
    enum ntk_pkt_reject reject; /* why ntk_pkt_decode refused it */
    uint8_t version, mode, leap, stratum;
    struct ntk_pkt hdr;                 /* modes 1-5: the header */
    char kiss[5];                       /* KoD code (stratum 0, printable) or "" */
    size_t n_ef;                        /* extension fields */
    uint16_t ef_types[8];               /* the first 8 types */
    uint16_t ef_lens[8];                /* their Length fields (bytes) */
    bool ef_malformed;                  /* the fields do not walk (RFC 7822) */
    bool nts_uid, nts_cookie, nts_auth; /* NTS fields present */
    size_t nts_placeholders;
    size_t mac_len; /* legacy MAC: 0, 4 (crypto-NAK), 20 (MD5/CMAC), 24 (SHA1) */
    uint32_t keyid;
    /* mode 6 (RFC 9327 header) */
    uint8_t m6_opcode;
    bool m6_response, m6_error, m6_more;
    uint16_t m6_seq, m6_status, m6_associd, m6_offset, m6_count;
    bool m6_nonce; /* a request carrying "nonce=" or a REQ_NONCE */
    /* mode 7 (NTP Classic private: recognised, never spoken) */
    uint8_t m7_impl, m7_reqcode, m7_seq;
    bool m7_response, m7_more;
    uint16_t m7_items, m7_itemsize;
};

/* Kinds of exchange. */
enum cap_xkind {
    CAP_X_CLIENT = 0, /* mode 3 -> 4 */
    CAP_X_SYMMETRIC,  /* mode 1 <-> 2 */
    CAP_X_CONTROL,    /* mode 6 */
    CAP_X_PRIVATE,    /* mode 7 */
    CAP_X_NTSKE,      /* an NTS-KE TLS connection decrypted with a key log (cap_cfg.keylog):
                         req / resp are its first client and last server segment */
};

/* What the records of an NTS-KE connection (RFC 8915 §4) said, decrypted with a TLS 1.3
 * key log. Never holds a key or a cookie's bytes: only their sizes. */
struct cap_ntske {
    const char *status;    /* "ok" (both messages decoded), "no_client_hello", "not_tls13",
                              "cipher_unsupported", "no_keys", "decrypt_failed",
                              "key_update", "stream_overflow", "malformed_tls" or
                              "incomplete" (static) */
    uint16_t cipher_suite; /* from the ServerHello (0: not seen) */
    char sni[64];          /* the ClientHello's server name, or "" */
    char alpn[16];         /* its first ALPN protocol, or "" */
    uint64_t records_c2s, records_s2c;    /* TLS records decrypted each way (not alerts) */
    uint64_t retransmits;                 /* TCP segments that brought nothing new */
    uint64_t out_of_order;                /* segments that arrived ahead of a gap */
    size_t request_len, response_len;     /* bytes of each KE message (0: not complete) */
    bool request;                         /* the client's message was complete and decoded */
    const char *request_error;            /* else why lib/'s codec refused it, or NULL */
    uint16_t req_aeads[NTK_KE_AEADS_MAX]; /* AEAD ids offered that ntpkit knows */
    size_t n_req_aeads;
    char req_server[NTK_KE_SERVER_MAX + 1]; /* Server Negotiation asked for, or "" */
    int req_port;                           /* Port Negotiation asked for, or -1 */
    bool response;                          /* the server's message was complete and decoded */
    const char *response_error;             /* else why the codec refused it, or NULL */
    int next_protocol;                      /* NTS Next Protocol chosen (0: NTPv4), or -1 */
    int aead;                               /* AEAD chosen, or -1 */
    int error_code;                         /* an Error record's code, or -1 */
    int warning_code;                       /* a Warning record's code, or -1 */
    size_t n_cookies;                       /* New Cookie records kept (at most 8) */
    uint16_t cookie_lens[NTK_KE_COOKIES_MAX]; /* their sizes, bytes */
    size_t cookies_dropped;                   /* cookies beyond the 8 */
    char server[NTK_KE_SERVER_MAX + 1];       /* NTPv4 Server Negotiation, or "" */
    int port;                                 /* NTPv4 Port Negotiation, or -1 */
};

/* A request and its response. Pointers valid during the callback only. */
struct cap_exch {
    enum cap_xkind kind;
    const struct cap_pkt *req, *resp;
    size_t req_bytes, resp_bytes; /* UDP payload bytes, all response fragments included */
    unsigned resp_frags;          /* datagrams of the response */
    double rtt_cap_s;             /* response capture time - request capture time */
    /* CAP_X_CLIENT only (NAN otherwise or when a timestamp is zero): */
    double offset_pkt_s, delay_pkt_s; /* T1 from the request, T4 the response's capture */
    double offset_cap_s, delay_cap_s; /* T1 and T4 from the capture times */
    double server_s;                  /* T3 - T2 */
    bool interleaved; /* CAP_X_CLIENT: paired in interleaved mode (RFC 9769 §2): the
                         response's origin is the request's receive field (or the transmit of
                         the request before it) and its transmit is T3 of the previous
                         exchange, so the times are the previous exchange's: T1 and the
                         capture times of that request and response, T2 its receive (the
                         request's origin), T3 this response's transmit */
    const struct cap_ntske *ntske; /* CAP_X_NTSKE: what the records said; NULL otherwise */
    const char *req_line; /* the text the input attached to the request (cap_dec.line),
                             passed through untouched; NULL when none */
    size_t req_line_len;  /* its bytes */
};

/* Severity of an anomaly (--fail-on). */
enum cap_sev {
    CAP_SEV_INFO = 0,
    CAP_SEV_WARN,
    CAP_SEV_CRIT,
};

/* One anomaly. code is a stable snake_case name (the JSON "code"); the list and severities
 * are cap_anom_codes(). */
struct cap_anom {
    const char *code; /* e.g. "mode7_monlist", "amplification", "kod_spoofed" */
    enum cap_sev sev;
    uint64_t frame; /* the frame that showed it (0: a flow-level finding) */
    struct ntk_addr src, dst;
    char detail[192]; /* one line of English with the numbers */
};

/* Per-flow statistics: one client (address) and one server (address and port 123 side),
 * reported at eviction or at cap_finish. */
struct cap_flow {
    struct ntk_addr client, server;
    int64_t first_sec, last_sec;
    uint32_t first_nsec, last_nsec;
    uint64_t pkts_c2s, pkts_s2c, bytes_c2s, bytes_s2c;
    uint32_t modes;    /* bit m set: mode m seen */
    uint32_t versions; /* bit v set: version v seen */
    uint64_t requests, responses, exchanges, unmatched_req, unmatched_resp, kods;
    const char *auth; /* "none", "mac", "nts", "mixed" */
    unsigned stratum_changes, refid_changes, leap_changes;
    double poll_s; /* median interval between requests (NAN: fewer than 3) */
    double delay_min_s, delay_med_s, delay_max_s, delay_last_s;     /* of the exchanges */
    double offset_min_s, offset_med_s, offset_max_s, offset_last_s; /* offset_cap */
    double amplification; /* bytes_s2c / bytes_c2s (NAN when nothing was sent) */
    bool evicted;         /* reported because the table was full (still open) */
    uint64_t interleaved; /* exchanges paired in interleaved mode (counted in exchanges) */
    double loss;          /* requests without a reply / requests (NAN: no request) */
    double jitter_s;      /* RMS of the differences between successive offset_cap values of the
                             flow's exchanges (NAN: fewer than 2 exchanges) */
};

/* Where results go. Any callback may be NULL. */
struct cap_sink {
    void *ctx;
    void (*packet)(void *ctx, const struct cap_pkt *p);
    void (*exchange)(void *ctx, const struct cap_exch *x);
    void (*anomaly)(void *ctx, const struct cap_anom *a);
    void (*flow)(void *ctx, const struct cap_flow *f);
};

/* Limits and thresholds. cap_cfg_default gives the values in brackets. */
struct cap_cfg {
    size_t max_flows;                /* flow table [65536] */
    size_t max_pending;              /* requests waiting for a response [65536] */
    double pair_timeout_s;           /* a request unanswered this long is unmatched [5] */
    double far_s;                    /* server time this far from capture time: anomaly [10] */
    double amplification;            /* a flow whose s2c/c2s bytes exceed this: anomaly [1] */
    const struct cap_keylog *keylog; /* TLS 1.3 secrets to decrypt NTS-KE connections with
                                        (cap_keylog.h; borrowed), or NULL [NULL] */
};

void cap_cfg_default(struct cap_cfg *c);

/* Counters over the whole capture. */
struct cap_stats {
    uint64_t frames, ntp, ntske, other, truncated, malformed, undecoded;
    uint64_t exchanges, unmatched_req, unmatched_resp, pending_dropped;
    uint64_t flows, flow_evictions;
    uint64_t anomalies[3]; /* by enum cap_sev */
    uint64_t by_mode[8];
};

struct cap;
struct cap_keylog;

/* A new analyzer (NULL when out of memory). sink is copied. */
struct cap *cap_new(const struct cap_cfg *cfg, const struct cap_sink *sink);

/* Frees (NULL is fine). Not "cap_free": libcap (linked into the same program for the
 * privilege drop) owns that name, and a second definition would capture its callers. */
void cap_destroy(struct cap *c);

/* One captured frame of link type link: caplen bytes captured of wire_len, at ts. Decodes it,
 * reports the packet, pairs it, updates its flow, reports anomalies. Returns what it was. */
enum cap_what cap_feed(struct cap *c, int link, const uint8_t *frame, size_t caplen,
                       size_t wire_len, int64_t ts_sec, uint32_t ts_nsec);

/* The longest text attached to a request (cap_dec.line) that the core keeps. */
#define CAP_REQ_LINE_MAX 160

/* Whether p starts an exchange the core pairs (it then waits for its answer), and *kind:
 * mode 3 (decoded), a mode-6 request (a whole header) or mode-7 request (decoded), mode 1
 * or 2 (decoded). */
bool cap_request_kind(const struct cap_pkt *p, enum cap_xkind *kind);

/* cap_feed in two halves, for a reader that decodes frames on another thread (cap_pipe.h):
 * p and d come from cap_decode_frame (cap_decode.h) on the frame, whose bytes must stay valid
 * during the call (and d optionally from cap_hash_frame); frames must come in capture
 * order. */
struct cap_dec;
enum cap_what cap_feed_decoded(struct cap *c, struct cap_pkt *p, const struct cap_dec *d,
                               size_t wire_len, int64_t ts_sec, uint32_t ts_nsec);

/* Sets the hashes of d (cap_decode.h) by which the core will look the decoded frame p up:
 * pure functions of the packet, so the thread that decodes computes them and the analyzer
 * does not. Nothing for a frame that is not CAP_NTP. */
void cap_hash_frame(const struct cap_pkt *p, struct cap_dec *d);

/* A hint for a hashed NTP frame (cap_hash_frame) that cap_feed_decoded will see a few frames
 * later, so that its flow and pending request are in cache by then: a large capture's flows
 * do not fit in it, and waiting for them was a quarter of the analysis. Stage 0 loads the
 * hash buckets; stage 1, a few frames after stage 0, the entries. Changes nothing else. */
void cap_prefetch(const struct cap *c, const struct cap_dec *d, int stage);

/* End of capture: reports the requests still waiting (unmatched), every flow, and the
 * flow-level anomalies (amplification, ...). */
void cap_finish(struct cap *c);

const struct cap_stats *cap_stats(const struct cap *c);

/* Every anomaly code with its severity and a one-line meaning (for --help, the man page and
 * the JSON schema); ends with a {NULL} entry. */
struct cap_anom_info {
    const char *code;
    enum cap_sev sev;
    const char *meaning;
};
const struct cap_anom_info *cap_anom_codes(void);

/* "info", "warn", "crit"; and back (-1 for an unknown name). */
const char *cap_sev_name(enum cap_sev s);
int cap_sev_from_name(const char *name);

#endif /* NTK_CAP_H */
