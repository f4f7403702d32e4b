/* SPDX-License-Identifier: BSD-2-Clause */
/* IPv4 and IPv6 addresses with an optional port and IPv6 scope: parsing from text, canonical
 * formatting (RFC 5952), comparison and conversion to and from struct sockaddr.
 *
 * Accepted text (the whole grammar; anything else is refused):
 *   a.b.c.d              IPv4, exactly four decimal parts 0..255 without leading zeros
 *                        ("01.2.3.4" is refused, as glibc's inet_pton does)
 *   a.b.c.d:port         IPv4 with a port 1..65535
 *   v6                   IPv6 in any RFC 4291 §2.2 form, including a dotted IPv4 tail
 *   v6%zone              with a scope: decimal (stored as a number) or an interface name
 *   [v6]  [v6]:port  [v6%zone]  [v6%zone]:port   brackets as in RFC 3986 §3.2.2 / RFC 5952 §6
 * A bare IPv6 address never takes a port: "2001:db8::1:123" is eight groups, not a port.
 *
 * An interface name (fe80::1%eth0) cannot be turned into an index without a system call, so
 * lib/ stores the name and the daemon resolves it (if_nametoindex) before it uses the address
 * on a socket. Nothing here allocates or calls the OS.
 */
#ifndef NTK_ADDR_H
#define NTK_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntk/sb.h"
#include "ntk/tok.h"

struct sockaddr;
struct sockaddr_storage;

/* Room for a scope name, NUL included: Linux's IF_NAMESIZE, so names are 1..15 characters. */
#define NTK_ADDR_SCOPE_MAX 16

/* Room for any formatted address, NUL included: "[" + 39 (the longest RFC 5952 IPv6 text) +
 * "%" + 15 (a scope name; a decimal scope has at most 10 digits) + "]:65535" + NUL = 64. */
#define NTK_ADDRSTR_MAX 64

/* Address family; one enum type so it cannot be mixed up with AF_INET/AF_INET6. */
enum ntk_addr_family {
    NTK_ADDR_NONE = 0, /* no address (a zeroed struct ntk_addr) */
    NTK_ADDR_V4 = 4,   /* IPv4: ip[0..3] hold the address, ip[4..15] are zero */
    NTK_ADDR_V6 = 6,   /* IPv6: ip[0..15] */
};

/* An address as configured, reported or seen on the wire. Zero-initialise it; fields are
 * plain data and may be set directly. */
struct ntk_addr {
    enum ntk_addr_family family;         /* which of the below is meaningful */
    uint8_t ip[16];                      /* address in network byte order */
    uint16_t port;                       /* UDP/TCP port in host order; 0 = none */
    uint32_t scope_id;                   /* IPv6 zone index (sin6_scope_id); 0 = none */
    char scope_name[NTK_ADDR_SCOPE_MAX]; /* IPv6 zone as an interface name, NUL-terminated;
                                          * "" = none. Parsing sets either this or scope_id,
                                          * never both; the daemon may set scope_id after
                                          * resolving the name. */
};

/* Makes *a the IPv4 address ip[4] with port (0 = none). */
void ntk_addr_set_v4(struct ntk_addr *a, const uint8_t ip[4], uint16_t port);

/* Makes *a the IPv6 address ip[16] with port (0 = none) and numeric scope (0 = none). */
void ntk_addr_set_v6(struct ntk_addr *a, const uint8_t ip[16], uint16_t port,
                     uint32_t scope_id);

/* Takes one address at the cursor (grammar above) and advances past it. The address must end
 * the text or be followed by a character that cannot continue it (for example a space, ',',
 * '/' or ';'): "1.2.3.4x" is refused rather than read as 1.2.3.4. On success writes *out and
 * returns 0. Otherwise the cursor and *out are unchanged and the return is NTK_ERANGE for a
 * number out of range (an IPv4 part > 255, port 0 or > 65535, a decimal scope > 2^32-1, a
 * scope name over 15 characters) or NTK_EFORMAT for any other error. */
int ntk_addr_parse(struct ntk_tok *t, struct ntk_addr *out);

/* Parses the whole span as one address: the same as ntk_addr_parse, and nothing may follow.
 * Writes *out only on success (0); NTK_EFORMAT or NTK_ERANGE otherwise. */
int ntk_addr_parse_span(struct ntk_span s, struct ntk_addr *out);

/* Appends the address: IPv4 as "a.b.c.d" or "a.b.c.d:port"; IPv6 in the RFC 5952 §4 form
 * (lowercase, no leading zeros, the longest run of two or more zero groups shortened to "::",
 * the leftmost on a tie) with an IPv4-mapped address as "::ffff:a.b.c.d" (§5), then
 * "%scope" (the name if set, else the number if non-zero), all inside "[...]:port" when a
 * port is set (§6). NTK_ADDR_NONE appends "-". Overflow is reported through the builder. */
void ntk_addr_format_sb(const struct ntk_addr *a, struct ntk_sb *sb);

/* Formats the address into buf[NTK_ADDRSTR_MAX] (always fits) and returns buf. */
const char *ntk_addr_format(const struct ntk_addr *a, char buf[NTK_ADDRSTR_MAX]);

/* True when a and b have the same family, address bytes (4 for IPv4, 16 for IPv6), port,
 * scope_id and scope_name. Two NTK_ADDR_NONE addresses are equal. */
bool ntk_addr_eq(const struct ntk_addr *a, const struct ntk_addr *b);

/* True for an IPv4-mapped IPv6 address (::ffff:0:0/96, RFC 4291 §2.5.5.2). */
bool ntk_addr_is_v4mapped(const struct ntk_addr *a);

/* Turns an IPv4-mapped IPv6 address, as a dual-stack socket reports an IPv4 peer, into the
 * IPv4 address with the same port (the scope is dropped). Returns whether it changed *a. */
bool ntk_addr_unmap(struct ntk_addr *a);

/* Fills *ss (zeroed first) with a as a struct sockaddr_in or sockaddr_in6 and writes its
 * length to *len. Returns 0; NTK_EINVAL for NTK_ADDR_NONE, or for an IPv6 address whose
 * scope is only a name (resolve it into scope_id first). Nothing is written on error. */
int ntk_addr_to_sockaddr(const struct ntk_addr *a, struct sockaddr_storage *ss, size_t *len);

/* Reads an AF_INET or AF_INET6 socket address of len bytes (sin6_scope_id becomes scope_id,
 * a zero port becomes "no port"). Writes *out and returns 0; NTK_ETRUNC when len is too short
 * for its family, NTK_EUNSUPP for another family. */
int ntk_addr_from_sockaddr(struct ntk_addr *out, const struct sockaddr *sa, size_t len);

#endif /* NTK_ADDR_H */
