/* SPDX-License-Identifier: BSD-2-Clause */
/* Mode 6, the NTP control protocol (RFC 9327) as NTPsec speaks it: the 12-byte header, the
 * data area, padding and MAC, status words, and the fragmenting of long responses into
 * datagrams and their reassembly. Sans-IO: bytes in, bytes out; nothing here allocates.
 *
 * Wire layout (RFC 9327 §2, NTPsec include/ntp_control.h):
 *
 *   0: LI(2) VN(3) Mode(3)=6    1: R E M Opcode(5)    2: sequence    4: status
 *   6: association id           8: offset             10: count      12: data[count]
 *   then padding to a multiple of 4 (8 when a MAC follows), then key id (4) + MAC (16/20).
 *
 * The padding bytes are not checked: NTPsec's responses carry leftovers there, not zeros.
 * Only count says how much data there is.
 */
#ifndef NTK_CTL_H
#define NTK_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntk/mac.h"

/* Bytes of the fixed header. */
#define NTK_CTL_HEADER_LEN 12

/* Most data bytes in one datagram (RFC 9327 §2, NTPsec CTL_MAX_DATA_LEN). */
#define NTK_CTL_DATA_MAX 468

/* Longest datagram: header and full data (480 bytes, already a multiple of 8), key id and
 * a 20-byte MAC: 504 bytes. */
#define NTK_CTL_DATAGRAM_MAX (NTK_CTL_HEADER_LEN + NTK_CTL_DATA_MAX + 4 + NTK_MAC_LEN_MAX)

/* Most fragments in one response. NTPsec's ntpd sends at most MRU_FRAGS_LIMIT = 128 datagrams
 * for one READ_MRU request (its largest responses; ntpq asks for at most MAXFRAGS = 32, and
 * READVAR answers fit in a few), so 128 accepts everything a real NTPsec server sends while
 * bounding the reassembler's table to 512 bytes. */
#define NTK_CTL_FRAGS_MAX 128

/* Most bytes in one reassembled response: 128 full fragments (59,904 bytes). Offsets stay
 * below 65,536, so the 16-bit offset field can describe every fragment. */
#define NTK_CTL_REASM_MAX (NTK_CTL_FRAGS_MAX * NTK_CTL_DATA_MAX)

/* The version NTPsec's ntpq puts in its requests (ntpd answers with the request's). */
#define NTK_CTL_VERSION 2

/* Opcodes (RFC 9327 §2.1; NTPsec CTL_OP_*). Never renumber: these are wire values. */
enum ntk_ctl_op {
    NTK_CTL_OP_UNSPEC = 0,     /* unspecified */
    NTK_CTL_OP_READSTAT = 1,   /* read status: association ids and status words */
    NTK_CTL_OP_READVAR = 2,    /* read system or peer variables */
    NTK_CTL_OP_WRITEVAR = 3,   /* write variables */
    NTK_CTL_OP_READCLOCK = 4,  /* read reference-clock variables */
    NTK_CTL_OP_WRITECLOCK = 5, /* write reference-clock variables */
    NTK_CTL_OP_SETTRAP = 6,    /* set trap address (obsolete, unused by NTPsec) */
    NTK_CTL_OP_ASYNCMSG = 7,   /* asynchronous message (traps; obsolete) */
    NTK_CTL_OP_CONFIGURE = 8,  /* runtime configuration (":config") */
    NTK_CTL_OP_SAVECONFIG = 9, /* save configuration (NTP Classic; not in NTPsec) */
    NTK_CTL_OP_READ_MRU = 10,  /* read the MRU list (mrulist) */
    NTK_CTL_OP_READ_ORDLIST_A =
        11,                    /* read an ordered list, authenticated (ifstats, reslist) */
    NTK_CTL_OP_REQ_NONCE = 12, /* request a nonce for READ_MRU */
    NTK_CTL_OP_UNSETTRAP = 31, /* unset trap (obsolete, unused by NTPsec) */
};

/* Error codes of an error response (E bit set), carried in the high byte of the status word
 * (RFC 9327 §2.3; NTPsec CERR_*). Never renumber. */
enum ntk_ctl_cerr {
    NTK_CTL_CERR_UNSPEC = 0, /* unspecified error */
    NTK_CTL_CERR_PERMISSION =
        1,                     /* authentication failure or no permission (also no resource) */
    NTK_CTL_CERR_BADFMT = 2,   /* request badly formatted */
    NTK_CTL_CERR_BADOP = 3,    /* unknown opcode */
    NTK_CTL_CERR_BADASSOC = 4, /* unknown association id */
    NTK_CTL_CERR_UNKNOWNVAR = 5, /* unknown variable name */
    NTK_CTL_CERR_BADVALUE = 6,   /* invalid variable value */
    NTK_CTL_CERR_RESTRICT = 7,   /* administratively prohibited */
};

/* Clock source of the system status word (RFC 9327 §2.2.1; NTPsec CTL_SST_TS_*). */
enum ntk_ctl_clksrc {
    NTK_CTL_SRC_UNSPEC = 0,    /* unspecified or unknown */
    NTK_CTL_SRC_ATOM = 1,      /* pulse per second */
    NTK_CTL_SRC_LF = 2,        /* LF radio (WWVB, DCF77) */
    NTK_CTL_SRC_HF = 3,        /* HF radio (WWV) */
    NTK_CTL_SRC_UHF = 4,       /* UHF radio (GPS, GOES) */
    NTK_CTL_SRC_LOCAL = 5,     /* local clock */
    NTK_CTL_SRC_NTP = 6,       /* an NTP server */
    NTK_CTL_SRC_UDPTIME = 7,   /* other protocol */
    NTK_CTL_SRC_WRSTWTCH = 8,  /* eye and wristwatch */
    NTK_CTL_SRC_TELEPHONE = 9, /* telephone modem (ACTS) */
};

/* The system status word (RFC 9327 §2.2.1): leap(2) source(6) event count(4) last event(4). */
struct ntk_ctl_sys_status {
    uint8_t leap;    /* leap indicator 0..3 */
    uint8_t source;  /* clock source 0..63, an enum ntk_ctl_clksrc value */
    uint8_t nevents; /* system event counter 0..15 */
    uint8_t event;   /* code of the last system event 0..15 */
};

/* Flag bits in the high byte of a peer status word (RFC 9327 §2.2.2; NTPsec CTL_PST_*). */
#define NTK_CTL_PST_CONFIG     0x80 /* association configured (persistent) */
#define NTK_CTL_PST_AUTHENABLE 0x40 /* authentication enabled (key or NTS) */
#define NTK_CTL_PST_AUTHENTIC  0x20 /* last packet authenticated */
#define NTK_CTL_PST_REACH      0x10 /* reachable */
#define NTK_CTL_PST_BCAST      0x08 /* broadcast association */

/* Peer selection code, the low 3 bits of the peer status byte (RFC 9327 §2.2.2). The
 * comments give ntpq's tally characters. */
enum ntk_ctl_sel {
    NTK_CTL_SEL_REJECT = 0,   /* ' ' rejected */
    NTK_CTL_SEL_SANE = 1,     /* 'x' falseticker */
    NTK_CTL_SEL_CORRECT = 2,  /* '.' excess */
    NTK_CTL_SEL_SELCAND = 3,  /* '-' outlier */
    NTK_CTL_SEL_SYNCCAND = 4, /* '+' candidate */
    NTK_CTL_SEL_EXCESS = 5,   /* '#' backup */
    NTK_CTL_SEL_SYSPEER = 6,  /* '*' system peer */
    NTK_CTL_SEL_PPS = 7,      /* 'o' PPS peer */
};

/* A peer status word (RFC 9327 §2.2.2): flags(5) selection(3) event count(4) last event(4). */
struct ntk_ctl_peer_status {
    uint8_t flags;   /* NTK_CTL_PST_* bits (the low 3 bits are always 0 here) */
    uint8_t sel;     /* selection, an enum ntk_ctl_sel value 0..7 */
    uint8_t nevents; /* peer event counter 0..15 */
    uint8_t event;   /* code of the last peer event 0..15 */
};

/* Reference-clock status codes (RFC 9327 §2.2.3; NTPsec CTL_CLK_*). */
enum ntk_ctl_clk {
    NTK_CTL_CLK_OKAY = 0,        /* clock operating within nominals */
    NTK_CTL_CLK_NOREPLY = 1,     /* reply timeout */
    NTK_CTL_CLK_BADFORMAT = 2,   /* bad reply format */
    NTK_CTL_CLK_FAULT = 3,       /* hardware or software fault */
    NTK_CTL_CLK_PROPAGATION = 4, /* propagation failure */
    NTK_CTL_CLK_BADDATE = 5,     /* bad date format or value */
    NTK_CTL_CLK_BADTIME = 6,     /* bad time format or value */
};

/* The decoded header. Mode is always 6 and is not stored. */
struct ntk_ctl_hdr {
    uint8_t leap;      /* LI 0..3 (NTPsec's ntpq sends 3; not interpreted) */
    uint8_t version;   /* VN 1..4 accepted on decode; 1..7 allowed on encode */
    bool response;     /* R: a response (from the server) */
    bool error;        /* E: an error response; the code is ntk_ctl_err_code(status) */
    bool more;         /* M: more fragments follow this one */
    uint8_t opcode;    /* 0..31, an enum ntk_ctl_op value */
    uint16_t sequence; /* request sequence number, echoed in every response fragment */
    uint16_t status;   /* status word (system, peer or clock), or the error code << 8 */
    uint16_t associd;  /* association id, 0 for the system */
    uint16_t offset;   /* byte offset of this fragment's data in the whole response */
    uint16_t count;    /* data bytes in this datagram, 0..NTK_CTL_DATA_MAX */
};

/* A decoded datagram: views into the caller's bytes (borrowed, valid while they are). */
struct ntk_ctl_msg {
    struct ntk_ctl_hdr hdr;
    const uint8_t *data; /* hdr.count data bytes (never NULL, even when count is 0) */
    size_t len;          /* length of the whole datagram */
    bool has_mac;        /* a key id and a MAC follow the padded data */
};

/* Decodes one datagram of len bytes at p into *out (written only on success). The checks,
 * in this order (RFC 9327 §2; what NTPsec's ntpd and ntpq accept):
 *   NTK_ETRUNC   fewer than the 12 header bytes;
 *   NTK_EFORMAT  mode is not 6;
 *   NTK_EVERSION VN outside 1..4 (what NTPsec's ntpq accepts; its requests carry 2);
 *   NTK_EFORMAT  count > 468; a request (R clear) with E or M set or a non-zero offset; an
 *                error response with M set; M set with count 0 (nothing would follow);
 *   NTK_ETRUNC   fewer than 12 + count bytes, or the data not padded to a multiple of 4;
 *   NTK_ETRUNC   a trailer after the padding that matches no key id + MAC layout but is
 *                shorter than the longest one;
 *   NTK_EFORMAT  bytes beyond the longest layout.
 * Valid lengths are exactly: P4 (no MAC), or a key id at P4 or P8 followed by 16 or 20 MAC
 * bytes, where P4/P8 are 12 + count rounded up to 4/8 (NTPsec pads to 8 before a MAC, but
 * its error responses put the MAC right after the 12-byte header). The padding bytes are
 * not looked at. */
int ntk_ctl_decode(const uint8_t *p, size_t len, struct ntk_ctl_msg *out);

/* Verifies the MAC of a datagram that ntk_ctl_decode accepted with has_mac (p, len are the
 * same bytes). The MAC covers header + data + padding: everything before the key id. The
 * key id is looked for at P8 first, then at P4; a layout counts when its key id is in ks
 * and the MAC length is that key type's. Returns 0 and writes *keyid (if not NULL) when
 * the MAC is right; NTK_EAUTH when it is wrong, when no MAC is present, or when the key
 * exists but its MAC length matches no layout; NTK_ENOTFOUND when no layout's key id is in
 * ks; NTK_ECRYPTO if OpenSSL fails. */
int ntk_ctl_verify(struct ntk_mac_keys *ks, const uint8_t *p, size_t len,
                   const struct ntk_ctl_msg *m, uint32_t *keyid);

/* Encodes one datagram from h (mode 6; h->count data bytes from data) into out[0..cap):
 * the data zero-padded to a multiple of 4, or, when keyid is not 0, to a multiple of 8 and
 * followed by keyid and its MAC from ks. Returns the datagram length; NTK_EINVAL when h
 * has leap > 3, version 0 or > 7, opcode > 31, count > 468, or E/M/offset set on a request,
 * or E and M together, or keyid != 0 without ks; NTK_ENOTFOUND for a key id not in ks;
 * NTK_ENOSPC when cap is too small (NTK_CTL_DATAGRAM_MAX always fits); NTK_ECRYPTO.
 * out is not written on failure except for NTK_ECRYPTO. data may be NULL when count is 0. */
int ntk_ctl_encode(const struct ntk_ctl_hdr *h, const uint8_t *data, struct ntk_mac_keys *ks,
                   uint32_t keyid, uint8_t *out, size_t cap);

/* The error code of an error response's status word (its high byte). */
uint8_t ntk_ctl_err_code(uint16_t status);

/* The status word of an error response with code (RFC 9327 §2.3: code in the high byte). */
uint16_t ntk_ctl_err_status(enum ntk_ctl_cerr code);

/* Returns a short English text for an error code ("permission denied", ...): static, never
 * NULL, "unknown error" outside the enum. */
const char *ntk_ctl_err_name(uint8_t code);

/* Packs a system status word; fields are masked to their widths. */
uint16_t ntk_ctl_sys_status_pack(const struct ntk_ctl_sys_status *s);

/* Unpacks a system status word into *out. */
void ntk_ctl_sys_status_unpack(uint16_t w, struct ntk_ctl_sys_status *out);

/* Packs a peer status word; fields are masked to their widths. */
uint16_t ntk_ctl_peer_status_pack(const struct ntk_ctl_peer_status *s);

/* Unpacks a peer status word into *out. */
void ntk_ctl_peer_status_unpack(uint16_t w, struct ntk_ctl_peer_status *out);

/* Packs a clock status word: status (an enum ntk_ctl_clk value) in the high byte, the
 * last event code in the low byte (NTPsec CTL_CLK_STATUS). */
uint16_t ntk_ctl_clk_status_pack(uint8_t status, uint8_t event);

/* Reads the next (association id, status word) pair of a READSTAT response's data. Returns
 * 1 and writes both, 0 at the end of the data, NTK_ETRUNC for a trailing partial pair. */
int ntk_ctl_assoc_next(const uint8_t *data, size_t len, size_t *pos, uint16_t *associd,
                       uint16_t *status);

/* Splitting a long response into datagrams (NTPsec ctl_putdata/ctl_flushpkt). Fields are
 * private; the data is borrowed until the last datagram has been produced. */
struct ntk_ctl_split {
    struct ntk_ctl_hdr hdr; /* template; offset, count and M are set per fragment */
    const uint8_t *data;    /* the whole response data (borrowed) */
    size_t len;             /* its length */
    size_t off;             /* bytes already sent */
    size_t frag_max;        /* data bytes per fragment */
    bool done;              /* the last fragment has been produced */
};

/* Prepares to split len bytes of data into fragments of at most frag_max (1..468) data
 * bytes each, with h's header (R must be set and E clear; offset, count and M are
 * ignored). Returns 0; NTK_EINVAL for a bad frag_max or header; NTK_ERANGE when len exceeds
 * NTK_CTL_REASM_MAX or needs more than NTK_CTL_FRAGS_MAX fragments. Empty data gives one
 * fragment with count 0. */
int ntk_ctl_split_init(struct ntk_ctl_split *s, const struct ntk_ctl_hdr *h,
                       const uint8_t *data, size_t len, size_t frag_max);

/* Writes the next fragment into out[0..cap) as ntk_ctl_encode does (MAC when keyid != 0),
 * M set on all but the last. Returns its length (> 0); 0 when every fragment has been
 * produced; a negative ntk_ctl_encode error (the split does not advance). */
int ntk_ctl_split_next(struct ntk_ctl_split *s, struct ntk_mac_keys *ks, uint32_t keyid,
                       uint8_t *out, size_t cap);

/* What ntk_ctl_reasm_feed reports besides errors. */
enum ntk_ctl_feed {
    NTK_CTL_FEED_MORE = 0, /* fragment stored; more are needed */
    NTK_CTL_FEED_DONE = 1, /* the response is complete (or an error response arrived) */
    NTK_CTL_FEED_DUP = 2,  /* an exact duplicate of a stored fragment; ignored */
};

/* One stored fragment's extent. */
struct ntk_ctl_frag {
    uint16_t off;   /* offset of its data */
    uint16_t count; /* its data bytes */
};

/* Reassembler of one response into a caller's buffer. Fields are private. */
struct ntk_ctl_reasm {
    uint8_t *buf;                                 /* caller's buffer (borrowed) */
    size_t cap;                                   /* usable bytes: min(its size, REASM_MAX) */
    uint8_t opcode;                               /* expected opcode */
    uint16_t sequence;                            /* expected sequence */
    bool have_assoc;                              /* associd has been seen */
    uint16_t associd;                             /* association id of the fragments */
    bool have_last;                               /* the fragment without M has arrived */
    size_t end;                                   /* its end = total length, once known */
    uint16_t last_off;                            /* offset of the fragment without M */
    size_t covered;                               /* sum of stored counts */
    size_t nfrags;                                /* fragments stored */
    struct ntk_ctl_frag frags[NTK_CTL_FRAGS_MAX]; /* stored fragments, sorted by offset */
    bool done;                                    /* complete */
    bool error;                                   /* completed by an error response */
    uint16_t status;                              /* status word of the last fragment */
};

/* Starts reassembling the response to the request (opcode, sequence) into buf[0..cap). */
void ntk_ctl_reasm_init(struct ntk_ctl_reasm *r, uint8_t *buf, size_t cap, uint8_t opcode,
                        uint16_t sequence);

/* Feeds one decoded datagram, in any order. Returns an enum ntk_ctl_feed value, or (the
 * reassembly unchanged, so the caller may go on feeding) NTK_ENOTFOUND for a datagram that
 * is not a response to this request (R clear, other opcode or sequence, or an association
 * id other than the first fragment's); NTK_EFORMAT for a fragment that overlaps a stored
 * one, has a stored one's offset with other length or bytes, is a second last fragment
 * (M clear) that ends elsewhere, ends past the last fragment's end, or (as the last) ends
 * before a stored one; NTK_ERANGE when it ends past the buffer or NTK_CTL_REASM_MAX, or
 * would be fragment number NTK_CTL_FRAGS_MAX + 1. An error response completes the
 * reassembly at once (ntk_ctl_reasm_error). Done when the last fragment has arrived and
 * the stored ones cover 0..end with no gap. */
int ntk_ctl_reasm_feed(struct ntk_ctl_reasm *r, const struct ntk_ctl_msg *m);

/* True once complete. */
bool ntk_ctl_reasm_done(const struct ntk_ctl_reasm *r);

/* When complete, returns the data and writes its length to *len; NULL (and *len 0)
 * before. The data lives in the caller's buffer. */
const uint8_t *ntk_ctl_reasm_data(const struct ntk_ctl_reasm *r, size_t *len);

/* When complete by an error response, returns its error code (enum ntk_ctl_cerr value);
 * -1 otherwise. */
int ntk_ctl_reasm_error(const struct ntk_ctl_reasm *r);

#endif /* NTK_CTL_H */
