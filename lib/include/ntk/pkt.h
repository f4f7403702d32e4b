/* SPDX-License-Identifier: BSD-2-Clause */
/* The NTP packet codec: the 48-byte header of NTPv1-v4 (RFC 5905 §7.3), the layout of what
 * follows it (extension fields, RFC 7822; legacy MAC or crypto-NAK, RFC 5905 §7.3 / §9.2), and
 * kiss-o'-death recognition (RFC 5905 §7.4, RFC 8915 §5.7).
 *
 * Decoding is byte-wise through struct ntk_rd into a host-order struct, never a cast onto the
 * buffer. The layout rules, in the order ntk_pkt_decode applies them (each failure has its
 * own enum ntk_pkt_reject, so the daemon can count drops by reason):
 *
 *  1. An empty datagram is NTK_PKT_TOO_SHORT.
 *  2. Modes 6 (control) and 7 (private) are not timestamp packets and have other formats
 *     (mode 6 has a 12-byte header): they are refused as NTK_PKT_MODE_CONTROL /
 *     NTK_PKT_MODE_PRIVATE (NTK_EUNSUPP) whatever their length, so the caller can hand mode 6
 *     to the control-message codec. ntk_pkt_peek reads their leap/version/mode.
 *  3. Fewer than 48 bytes: NTK_PKT_TOO_SHORT (NTK_ETRUNC).
 *  4. Version 0 or above 4: NTK_PKT_BAD_VERSION (NTK_EVERSION).
 *  5. Mode 0 (reserved): NTK_PKT_BAD_MODE, except in version 1. RFC 1059 (NTPv1) had no
 *     mode field, and ntpd answers such packets as client requests; they decode with
 *     mode NTK_MODE_RESERVED and the caller decides.
 *  6. A length that is not a multiple of 4: NTK_PKT_BAD_LENGTH (every legal trailer is made of
 *     4-byte words; chrony's parse_packet has the same rule).
 *  7. Version 4 only: extension fields are walked while more than 24 bytes are left (chrony's
 *     parse_packet and NEF_ParseField do the same): RFC 7822 caps a v4 MAC at 24 bytes, so
 *     anything longer must be a field. Each field must be a multiple of 4 and at least 16
 *     bytes and fit, else NTK_PKT_BAD_EF. This makes the parse deterministic. Note what
 *     RFC 7822 asks: fields are at least 16 bytes, and the last field is at least 28 bytes
 *     when NO MAC follows (so it cannot pass for a 20/24-byte MAC); a field before a MAC
 *     needs only 16. A sender that breaks the 28-byte rule gets its last field read as
 *     what is left for rule 8: a 16-byte one is refused there, a 20/24-byte one is taken
 *     for a MAC (whose check then fails). (Versions 1-3 have no extension fields: RFC 1305
 *     knows only the MAC.)
 *  8. What is left must be 0 bytes (no authentication), 4 bytes (a key identifier alone: the
 *     crypto-NAK, normally key id 0), or 20 / 24 bytes (a key id then a 16-byte MD5 or
 *     AES-128-CMAC digest, or a 20-byte SHA-1 digest). Anything else is
 *     NTK_PKT_BAD_MAC_LENGTH. Longer digests (chrony's and NTPsec's SHA-256/512 keys) break
 *     RFC 7822's cap and are not supported.
 *
 * The MAC covers the header and the extension fields: buf[0 .. ef_off + ef_len), which when a
 * key id is present is buf[0 .. mac_off - NTK_PKT_KEYID_LEN) (RFC 5905 §9.2, RFC 8573).
 */
#ifndef NTK_PKT_H
#define NTK_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntk/buf.h"
#include "ntk/ntime.h"

/* Bytes of the fixed header. */
#define NTK_PKT_HDR_LEN 48

/* Bytes of the key identifier in front of a MAC digest (and of a crypto-NAK). */
#define NTK_PKT_KEYID_LEN 4

/* RFC 7822: the longest legacy MAC of an NTPv4 packet, key id included (4 + 20, SHA-1). */
#define NTK_PKT_MAC_MAX_LEN 24

/* Leap indicator (RFC 5905 Figure 9). */
enum ntk_leap {
    NTK_LEAP_NONE = 0,   /* no warning */
    NTK_LEAP_INSERT = 1, /* last minute of the day has 61 seconds */
    NTK_LEAP_DELETE = 2, /* last minute of the day has 59 seconds */
    NTK_LEAP_UNSYNC = 3, /* unknown: clock unsynchronized */
};

/* Association mode (RFC 5905 Figure 10). A separate type from the version on purpose. */
enum ntk_mode {
    NTK_MODE_RESERVED = 0,    /* reserved (an NTPv1 packet, which had no mode field) */
    NTK_MODE_SYM_ACTIVE = 1,  /* symmetric active */
    NTK_MODE_SYM_PASSIVE = 2, /* symmetric passive */
    NTK_MODE_CLIENT = 3,      /* client */
    NTK_MODE_SERVER = 4,      /* server */
    NTK_MODE_BROADCAST = 5,   /* broadcast */
    NTK_MODE_CONTROL = 6,     /* NTP control message (mode 6, another codec) */
    NTK_MODE_PRIVATE = 7,     /* reserved for private use (mode 7, never decoded) */
};

/* The fixed header in host order (RFC 5905 Figure 8). */
struct ntk_pkt {
    enum ntk_leap leap;    /* LI, 2 bits */
    uint8_t version;       /* VN, 3 bits: 1..4 after a successful decode */
    enum ntk_mode mode;    /* Mode, 3 bits */
    uint8_t stratum;       /* 0 = unspecified / kiss-o'-death, 1 primary, 2-15, 16 unsync */
    int8_t poll_log2;      /* poll interval, log2 seconds (signed byte as on the wire) */
    int8_t precision_log2; /* clock precision, log2 seconds (-24 = about 60 ns) */
    ntk_short root_delay;  /* total round-trip delay to the reference clock, 16.16 s */
    ntk_short root_disp;   /* total dispersion to the reference clock, 16.16 s */
    uint32_t refid;        /* reference id: the 4 wire bytes big-endian (first byte in the
                              high bits), so "RATE" is 0x52415445 and 127.0.0.1 0x7f000001 */
    ntk_ts reftime;        /* reference timestamp: when the clock was last set */
    ntk_ts org;            /* origin timestamp: T1, the request's transmit time echoed */
    ntk_ts rec;            /* receive timestamp: T2 */
    ntk_ts xmt;            /* transmit timestamp: T3 */
};

/* How a packet is authenticated, as far as its layout tells. */
enum ntk_pkt_auth {
    NTK_PKT_AUTH_NONE = 0, /* nothing after the extension fields */
    NTK_PKT_AUTH_MAC = 1,  /* key id + digest (20 or 24 bytes) */
    NTK_PKT_AUTH_NAK = 2,  /* key id alone (4 bytes): a crypto-NAK when the key id is 0 */
};

/* Where the parts of an accepted packet lie. Offsets count from the first byte of the
 * datagram; every span lies inside [0, len). */
struct ntk_pkt_layout {
    size_t len;             /* the datagram's length */
    size_t ef_off;          /* first extension field byte: always NTK_PKT_HDR_LEN */
    size_t ef_len;          /* bytes of extension fields (0 if none), a multiple of 4 */
    unsigned ef_count;      /* number of extension fields (ntk_ef_iter_init over
                               [ef_off, ef_off + ef_len) with NTK_EF_MIN_LEN walks them) */
    enum ntk_pkt_auth auth; /* what follows the fields */
    uint32_t key_id;        /* the key identifier (MAC or NAK); 0 when auth is NONE */
    size_t mac_off;         /* first digest byte (the key id is the 4 bytes before it when
                               auth is MAC or NAK); len when there is no digest */
    size_t mac_len;         /* digest bytes: 16 or 20 for a MAC, 0 otherwise */
};

/* Why ntk_pkt_decode refused a datagram. Values are stable: they index counters. */
enum ntk_pkt_reject {
    NTK_PKT_OK = 0,         /* accepted */
    NTK_PKT_TOO_SHORT,      /* empty, or under 48 bytes (NTK_ETRUNC) */
    NTK_PKT_BAD_LENGTH,     /* length not a multiple of 4 (NTK_EFORMAT) */
    NTK_PKT_BAD_VERSION,    /* version 0 or above 4 (NTK_EVERSION) */
    NTK_PKT_BAD_MODE,       /* mode 0 in version 2-4 (NTK_EFORMAT) */
    NTK_PKT_MODE_CONTROL,   /* mode 6: a control message, not for this codec (NTK_EUNSUPP) */
    NTK_PKT_MODE_PRIVATE,   /* mode 7: private/ntpdc, never answered (NTK_EUNSUPP) */
    NTK_PKT_BAD_EF,         /* an extension field is malformed or runs past the end
                               (NTK_EFORMAT) */
    NTK_PKT_BAD_MAC_LENGTH, /* what follows the fields is not 0, 4, 20 or 24 bytes
                               (NTK_EFORMAT) */
    NTK_PKT_REJECT_COUNT,   /* number of values, for counter arrays */
};

/* Decodes one UDP payload of len bytes at buf (buf may be NULL when len is 0; out must not
 * be NULL), applying the rules at the top of this file. Returns 0 and writes *out and, if
 * layout is not NULL, *layout; or returns the negative enum ntk_err named beside the reason in
 * enum ntk_pkt_reject and leaves *out and *layout untouched. *why, if why is not NULL, is
 * always written: NTK_PKT_OK on success, the reason otherwise. */
int ntk_pkt_decode(const uint8_t *buf, size_t len, struct ntk_pkt *out,
                   struct ntk_pkt_layout *layout, enum ntk_pkt_reject *why);

/* Reads only the first byte of any NTP datagram (modes 6 and 7 too): the dispatch step
 * before a mode-specific decoder. Returns 0 and writes each non-NULL out-parameter, or
 * NTK_ETRUNC when len is 0. */
int ntk_pkt_peek(const uint8_t *buf, size_t len, enum ntk_leap *leap, uint8_t *version,
                 enum ntk_mode *mode);

/* Appends the 48-byte header of p to w (the fields, if any, and the MAC are appended by
 * their own modules afterwards). Returns 0; NTK_EINVAL if leap > 3, version > 7 or mode > 7
 * (which do not fit their bits; versions 0 and 5-7 do fit, so tests can build packets the
 * decoder must refuse); NTK_ENOSPC if fewer than 48 bytes are free. On error nothing is
 * written (w is failed only by NTK_ENOSPC). */
int ntk_pkt_encode(struct ntk_wr *w, const struct ntk_pkt *p);

/* A stable lowercase name for a reject reason, the daemon's counter label: "ok",
 * "too_short", "bad_length", "bad_version", "bad_mode", "mode_control", "mode_private",
 * "bad_ef", "bad_mac_length"; "unknown" for any other value. Never NULL. */
const char *ntk_pkt_reject_name(enum ntk_pkt_reject why);

/* Kiss codes (RFC 5905 Figure 13, and NTSN from RFC 8915 §5.7). */
enum ntk_kiss {
    NTK_KISS_NONE = 0, /* not a kiss-o'-death packet */
    NTK_KISS_UNKNOWN,  /* a kiss-o'-death packet with a code not listed here */
    NTK_KISS_ACST,     /* the association belongs to a unicast server */
    NTK_KISS_AUTH,     /* server authentication failed */
    NTK_KISS_AUTO,     /* Autokey sequence failed */
    NTK_KISS_BCST,     /* the association belongs to a broadcast server */
    NTK_KISS_CRYP,     /* cryptographic authentication or identification failed */
    NTK_KISS_DENY,     /* access denied by remote server: demobilize (RFC 5905 §7.4) */
    NTK_KISS_DROP,     /* lost peer in symmetric mode */
    NTK_KISS_RSTR,     /* access denied due to local policy: demobilize */
    NTK_KISS_INIT,     /* the association has not yet synchronized for the first time */
    NTK_KISS_MCST,     /* the association belongs to a dynamically discovered server */
    NTK_KISS_NKEY,     /* no key found */
    NTK_KISS_NTSN,     /* NTS negative-acknowledgment: cookie not accepted, rekey */
    NTK_KISS_RATE,     /* rate exceeded: reduce the polling rate */
    NTK_KISS_RMOT,     /* alteration of association from a remote host running ntpdc */
    NTK_KISS_STEP,     /* a step change in system time has occurred */
};

/* True if p is a kiss-o'-death packet: stratum 0 (RFC 5905 §7.4) sent by a time source,
 * that is any mode but client (3) and the control/private/reserved ones (0, 6, 7). A client
 * request has stratum 0 and a zero refid as a matter of course, so it never counts. */
bool ntk_pkt_is_kod(const struct ntk_pkt *p);

/* The kiss code of p, or NTK_KISS_NONE if p is not kiss-o'-death (ntk_pkt_is_kod). */
enum ntk_kiss ntk_pkt_kiss(const struct ntk_pkt *p);

/* If p is kiss-o'-death, writes its 4-character code and a NUL to code (bytes outside
 * printable ASCII 0x20-0x7e become '?', so the text is always safe to print) and returns
 * true; otherwise returns false and leaves code untouched. */
bool ntk_pkt_kiss_code(const struct ntk_pkt *p, char code[5]);

/* The 4-letter code of k ("RATE"), "none" for NTK_KISS_NONE, "unknown" otherwise. */
const char *ntk_kiss_name(enum ntk_kiss k);

#endif /* NTK_PKT_H */
