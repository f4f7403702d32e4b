/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpcap's frame decoder: link layer, VLAN tags, IPv4/IPv6 (options, extension headers,
 * fragments), UDP and TCP, then the NTP payload through lib/ (ntk_pkt_decode, ntk_ef,
 * ntk_ctl_decode) into a struct cap_pkt. Pure and allocation-free; every byte is read
 * through struct ntk_rd cursors. */
#ifndef NTK_CAP_DECODE_H
#define NTK_CAP_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "cap.h"

/* Mode-7 request codes that make amplifiers (NTP Classic ntp_request.h). */
#define CAP_M7_MON_GETLIST   20
#define CAP_M7_MON_GETLIST_1 42

/* Ports that classify a packet. */
#define CAP_PORT_NTP   123
#define CAP_PORT_NTSKE 4460

/* What the decoder found besides the packet: a view of the payload (into the frame). */
struct cap_dec {
    const uint8_t *payload; /* the UDP payload / TCP data captured, or NULL */
    size_t payload_len;     /* its bytes (== cap_pkt.payload_len) */
    /* Left NULL by cap_decode_frame: text the caller attaches to a request frame (at most
     * CAP_REQ_LINE_MAX bytes), which the core keeps while the request waits and hands back
     * with its exchange (cap_exch.req_line). ntpcap's reading thread puts the start of the
     * report's line there, so that the analyzer thread only copies it. */
    const char *line;
    size_t line_len;
    /* Also left for the caller: cap_hash_frame (cap.h) sets them on the thread that decodes.
     * Without them the core computes the same values itself. */
    bool hashed;        /* flow_hash is set */
    bool pair_hashed;   /* pair_hash is set (a decoded mode-3 or mode-4 packet) */
    uint32_t flow_hash; /* the frame's flow in the flow table */
    uint32_t pair_hash; /* the request's key in the pending table, or the key a response
                           looks for */
};

/* Decodes one frame of link type link (enum cap_link) into *p (zeroed first; frame, ts and
 * frame_len are left for the caller) and *d. Returns what it was (also stored in p->what). */
enum cap_what cap_decode_frame(int link, const uint8_t *frame, size_t caplen, size_t wire_len,
                               struct cap_pkt *p, struct cap_dec *d);

/* Decodes an NTP UDP payload of len bytes into the NTP fields of *p (decoded, reject,
 * version, mode, leap, stratum, hdr, kiss, extension fields, MAC, mode 6 / mode 7 headers),
 * every one of them reset first. */
void cap_decode_ntp(const uint8_t *pl, size_t len, struct cap_pkt *p);

/* Parses a TLS record holding a ClientHello (RFC 8446 §4.1.2) and copies its server name
 * (RFC 6066 §3) and first ALPN protocol (RFC 7301) into sni / alpn (NUL-terminated, cut to
 * fit; "" when absent). Returns 0, or a negative enum ntk_err when the bytes are not a
 * complete ClientHello (sni and alpn are then ""). */
int cap_decode_tls_hello(const uint8_t *p, size_t len, char *sni, size_t sni_cap, char *alpn,
                         size_t alpn_cap);

#endif /* NTK_CAP_DECODE_H */
