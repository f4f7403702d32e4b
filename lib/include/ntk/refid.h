/* SPDX-License-Identifier: BSD-2-Clause */
/* NTP reference identifiers (RFC 5905 §7.3): making them from an upstream address or a code,
 * and showing them the way NTPsec does.
 *
 * A refid is held as a uint32_t whose big-endian bytes are the four octets on the wire, so
 * 127.0.0.1 is 0x7f000001 and "RATE" is 0x52415445 (what tshark prints as ntp.refid).
 *
 * What the octets mean depends on the stratum of the packet or peer that carries them:
 * - stratum 0 (unspecified: a kiss code, RFC 5905 §7.4) and 1 (a reference clock): up to four
 *   ASCII characters, left-justified and NUL-padded ("RATE", "GPS", "INIT");
 * - stratum 2..15: the IPv4 address of the upstream server, or for an IPv6 upstream the first
 *   four octets of the MD5 hash of its address;
 * - stratum 16 and up (unsynchronised): NTPsec treats it as text again ("INIT", "STEP").
 * NTPsec's ntpd shows text when stratum <= 1 or >= 16 (ntp_control.c ctl_putsys/ctl_putpeer,
 * STRATUM_UNSPEC = 16) and a dotted quad otherwise, whatever the octets are, so an IPv6 hash
 * shows as a dotted quad too. Refclock peers always show text; pass stratum 0 for them.
 */
#ifndef NTK_REFID_H
#define NTK_REFID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntk/addr.h"
#include "ntk/sb.h"

/* The refid of a four-character code, as a constant: NTK_REFID_CODE('R','A','T','E'). Pad a
 * shorter code with 0: NTK_REFID_CODE('G','P','S',0). */
#define NTK_REFID_CODE(a, b, c, d)                                                            \
    ((uint32_t)(uint8_t)(a) << 24 | (uint32_t)(uint8_t)(b) << 16 |                            \
     (uint32_t)(uint8_t)(c) << 8 | (uint32_t)(uint8_t)(d))

/* Room for any formatted refid, NUL included: "\xNN" for each of 4 bytes, two '.' and NUL. */
#define NTK_REFID_STRMAX 20

/* Flags for ntk_refid_format; combine with '|'. */
enum ntk_refid_fmt {
    NTK_REFID_FMT_RV = 0,     /* as ntpd sends it in mode 6 ("refid=" in `ntpq -c rv`):
                               * text, or a dotted quad */
    NTK_REFID_FMT_PEERS = 1,  /* as the refid column of `ntpq -p`: the RV text wrapped in
                               * dots (".INIT.") when it holds neither '.' nor ':' */
    NTK_REFID_FMT_ESCAPE = 2, /* text bytes that are not printable show as "\xNN" (and '\'
                               * as "\\") instead of NTPsec's lossy '.', for logs */
};

/* The refid for an IPv4 upstream: its address, ip[0] being the first octet. */
uint32_t ntk_refid_from_ipv4(const uint8_t ip[4]);

/* The refid for an IPv6 upstream (RFC 5905 §7.3): the first four octets of MD5 over the 16
 * address bytes, as NTPsec's addr2refid computes it on little-endian hosts (the wire octets
 * are digest[0..3]). MD5 is fetched through OpenSSL EVP with the "-fips" property query, as it
 * serves as a hash here, not for security. Writes *refid and returns 0, or NTK_ECRYPTO when
 * OpenSSL offers no MD5 (a FIPS-only configuration), leaving *refid untouched. */
int ntk_refid_from_ipv6(const uint8_t ip[16], uint32_t *refid);

/* The refid for an upstream address: ntk_refid_from_ipv4 for IPv4, ntk_refid_from_ipv6 for
 * IPv6 (an IPv4-mapped address is hashed as IPv6, as NTPsec does). Port and scope are
 * ignored. Returns 0, NTK_EINVAL for NTK_ADDR_NONE, or NTK_ECRYPTO; *refid written on 0. */
int ntk_refid_from_addr(const struct ntk_addr *a, uint32_t *refid);

/* The refid for a reference-clock or kiss code: 1 to 4 printable ASCII characters other than
 * space and ',' (0x21..0x7e), NUL-padded. Writes *refid and returns 0; NTK_EINVAL for an empty
 * or longer code or any other character. */
int ntk_refid_from_code(const char *code, uint32_t *refid);

/* True when a refid at this stratum is shown as text rather than a dotted quad: stratum <= 1
 * or >= 16, NTPsec's rule. */
bool ntk_refid_is_text(unsigned stratum);

/* True when the refid is a well-formed code: 1 to 4 characters 0x21..0x7e other than ','
 * followed only by NUL bytes; such a refid shows as itself in text form. A kiss code that
 * fails this may still be shown, escaped, but must not be acted upon as a known code. */
bool ntk_refid_is_code(uint32_t refid);

/* Appends the refid as NTPsec shows it at this stratum (flags from enum ntk_refid_fmt).
 * Text: the bytes up to the first NUL (none for refid 0, so RV gives "" and PEERS ".."), each
 * byte outside 0x21..0x7e, and ',', replaced by '.' (or escaped with NTK_REFID_FMT_ESCAPE),
 * so nothing from the wire reaches a terminal or a mode-6 list unescaped. NTPsec 1.2 keeps
 * ',' (isgraph), which breaks its own name=value lists; we replace it as ntpd 4.2.8 did.
 * Numbers: "a.b.c.d". At most NTK_REFID_STRMAX - 1 characters. */
void ntk_refid_format(uint32_t refid, unsigned stratum, unsigned flags, struct ntk_sb *sb);

#endif /* NTK_REFID_H */
