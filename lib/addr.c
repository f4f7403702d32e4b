/* SPDX-License-Identifier: BSD-2-Clause */
/* IPv4/IPv6 address parsing, RFC 5952 formatting and sockaddr conversion (ntk/addr.h). */
#include "ntk/addr.h"
#include "ntk/err.h"

#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "poison.h"

enum {
    V4_LEN = 4,
    V6_LEN = 16,
    V6_GROUPS = 8,
    GROUP_DIGITS_MAX = 4, /* RFC 4291 §2.2: "one to four hexadecimal digits" */
    SCOPE_NAME_MAX = NTK_ADDR_SCOPE_MAX - 1,
};

/* ==== character classes ==== */

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(int c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Characters of an interface name we accept after '%': enough for eth0, enp3s0, wlan0,
 * br-lan and VLANs (eth0.100), and nothing a terminal or a config line would mistake. */
static bool is_scope_char(int c)
{
    return is_alnum(c) || c == '.' || c == '_' || c == '-';
}

/* A character that could still be part of an address: an address followed by one of these
 * is malformed rather than finished ("1.2.3.4x", "::1]"). */
static bool continues_addr(int c)
{
    return is_scope_char(c) || c == ':' || c == '%' || c == '[' || c == ']';
}

/* ==== parsing on the tokenizer (each helper may advance on failure; the public entry points
 * restore the cursor) ==== */

static void skip_char(struct ntk_tok *t)
{
    (void)ntk_tok_accept(t, (char)ntk_tok_peek(t));
}

/* One IPv4 part: decimal, 0..255, no leading zero (glibc inet_pton refuses "01" too). */
static int parse_octet(struct ntk_tok *t, uint8_t *out)
{
    unsigned v = 0;
    size_t n = 0;
    while (is_digit(ntk_tok_peek(t))) {
        if (n == 1 && v == 0) {
            return NTK_EFORMAT;
        }
        v = v * 10 + (unsigned)(ntk_tok_peek(t) - '0');
        n++;
        skip_char(t);
        if (v > 255) {
            return NTK_ERANGE;
        }
    }
    if (n == 0) {
        return NTK_EFORMAT;
    }
    *out = (uint8_t)v;
    return NTK_OK;
}

/* Exactly four dotted parts (inet_pton's form, not inet_aton's "1.2" or "0x7f.1"). */
static int parse_v4(struct ntk_tok *t, uint8_t ip[V4_LEN])
{
    for (size_t i = 0; i < V4_LEN; i++) {
        if (i > 0 && !ntk_tok_accept(t, '.')) {
            return NTK_EFORMAT;
        }
        int rc = parse_octet(t, &ip[i]);
        if (rc != NTK_OK) {
            return rc;
        }
    }
    return NTK_OK;
}

/* One group of one to four hex digits. */
static int parse_group(struct ntk_tok *t, uint16_t *out)
{
    unsigned v = 0;
    size_t n = 0;
    int d;
    while ((d = ntk_tok_hexdigit(ntk_tok_peek(t))) >= 0) {
        if (n == GROUP_DIGITS_MAX) {
            return NTK_EFORMAT;
        }
        v = v << 4 | (unsigned)d;
        n++;
        skip_char(t);
    }
    if (n == 0) {
        return NTK_EFORMAT;
    }
    *out = (uint16_t)v;
    return NTK_OK;
}

/* Parsed groups of an IPv6 address before "::" is expanded. */
struct groups {
    uint16_t w[V6_GROUPS];
    size_t n;   /* groups read */
    long gap;   /* index in w where "::" stood, or -1 */
    bool tail4; /* the last two groups came from a dotted IPv4 tail */
};

/* Reads the next piece: a hex group, or a dotted IPv4 tail (RFC 4291 §2.2 form 3), which must
 * fit in the last two groups and ends the address. */
static int parse_piece(struct ntk_tok *t, struct groups *g)
{
    if (g->n == V6_GROUPS) {
        return NTK_EFORMAT;
    }
    struct ntk_tok start = *t;
    int rc = parse_group(t, &g->w[g->n]);
    if (rc != NTK_OK) {
        return rc;
    }
    if (ntk_tok_peek(t) != '.') {
        g->n++;
        return NTK_OK;
    }
    *t = start;
    uint8_t q[V4_LEN];
    if (g->n > V6_GROUPS - 2) {
        return NTK_EFORMAT;
    }
    rc = parse_v4(t, q);
    if (rc != NTK_OK) {
        return rc;
    }
    g->w[g->n++] = (uint16_t)(q[0] << 8 | q[1]);
    g->w[g->n++] = (uint16_t)(q[2] << 8 | q[3]);
    g->tail4 = true;
    return NTK_OK;
}

/* Reads groups separated by ':' with at most one "::". */
static int parse_groups(struct ntk_tok *t, struct groups *g)
{
    if (ntk_tok_accept(t, ':')) {
        if (!ntk_tok_accept(t, ':')) {
            return NTK_EFORMAT; /* a lone leading ':' */
        }
        g->gap = 0;
        if (ntk_tok_hexdigit(ntk_tok_peek(t)) < 0) {
            return NTK_OK; /* "::" alone */
        }
    }
    for (;;) {
        int rc = parse_piece(t, g);
        if (rc != NTK_OK || g->tail4 || !ntk_tok_accept(t, ':')) {
            return rc;
        }
        if (ntk_tok_accept(t, ':')) {
            if (g->gap >= 0) {
                return NTK_EFORMAT; /* "::" twice */
            }
            g->gap = (long)g->n;
            if (ntk_tok_hexdigit(ntk_tok_peek(t)) < 0) {
                return NTK_OK; /* trailing "::" */
            }
        }
    }
}

/* An IPv6 address in any RFC 4291 §2.2 text form, into 16 bytes. */
static int parse_v6(struct ntk_tok *t, uint8_t ip[V6_LEN])
{
    struct groups g = {.n = 0, .gap = -1, .tail4 = false};
    int rc = parse_groups(t, &g);
    if (rc != NTK_OK) {
        return rc;
    }
    /* Without "::" all eight groups are needed; "::" stands for at least one zero group
     * (RFC 4291 §2.2 item 2), so at most seven may be written around it. */
    if (g.gap < 0 ? g.n != V6_GROUPS : g.n > V6_GROUPS - 1) {
        return NTK_EFORMAT;
    }
    uint16_t w[V6_GROUPS] = {0};
    size_t head = g.gap < 0 ? g.n : (size_t)g.gap;
    size_t tail = g.n - head;
    memcpy(w, g.w, head * sizeof w[0]);
    memcpy(w + V6_GROUPS - tail, g.w + head, tail * sizeof w[0]);
    for (size_t i = 0; i < V6_GROUPS; i++) {
        ip[2 * i] = (uint8_t)(w[i] >> 8);
        ip[2 * i + 1] = (uint8_t)w[i];
    }
    return NTK_OK;
}

/* The zone after '%': all digits is a number (RFC 4007 §11.2 <zone_id>), else a name. */
static int parse_scope(struct ntk_tok *t, struct ntk_addr *a)
{
    char name[NTK_ADDR_SCOPE_MAX];
    size_t n = 0;
    bool numeric = true;
    uint64_t v = 0;
    while (is_scope_char(ntk_tok_peek(t))) {
        if (n == SCOPE_NAME_MAX) {
            return NTK_ERANGE;
        }
        char c = (char)ntk_tok_peek(t);
        name[n++] = c;
        skip_char(t);
        numeric = numeric && is_digit(c);
        v = numeric ? v * 10 + (uint64_t)(c - '0') : 0; /* <= 15 digits: no overflow */
    }
    if (n == 0) {
        return NTK_EFORMAT;
    }
    if (numeric) {
        if (v > UINT32_MAX) {
            return NTK_ERANGE;
        }
        a->scope_id = (uint32_t)v;
        return NTK_OK;
    }
    memcpy(a->scope_name, name, n);
    a->scope_name[n] = '\0';
    return NTK_OK;
}

/* The port after ':': 1..65535 (0 is our "no port", so "x:0" cannot be represented). */
static int parse_port(struct ntk_tok *t, uint16_t *port)
{
    uint64_t v;
    int rc = ntk_tok_u64(t, &v, UINT16_MAX);
    if (rc != NTK_OK) {
        return rc;
    }
    if (v == 0) {
        return NTK_ERANGE;
    }
    *port = (uint16_t)v;
    return NTK_OK;
}

/* "[v6%zone]:port" after the '['. */
static int parse_bracketed(struct ntk_tok *t, struct ntk_addr *a)
{
    a->family = NTK_ADDR_V6;
    int rc = parse_v6(t, a->ip);
    if (rc == NTK_OK && ntk_tok_accept(t, '%')) {
        rc = parse_scope(t, a);
    }
    if (rc != NTK_OK) {
        return rc;
    }
    if (!ntk_tok_accept(t, ']')) {
        return NTK_EFORMAT;
    }
    return ntk_tok_accept(t, ':') ? parse_port(t, &a->port) : NTK_OK;
}

/* Counts ':' in the run of address characters ahead, stopping at two: two or more means an
 * IPv6 address, fewer an IPv4 address with an optional port. */
static unsigned colons_ahead(const struct ntk_tok *t)
{
    struct ntk_tok c = *t;
    unsigned colons = 0;
    int ch;
    while (colons < 2 &&
           ((ch = ntk_tok_peek(&c)) == ':' || ch == '.' || ntk_tok_hexdigit(ch) >= 0)) {
        colons += ch == ':';
        skip_char(&c);
    }
    return colons;
}

/* "a.b.c.d[:port]" or "v6[%zone]". */
static int parse_bare(struct ntk_tok *t, struct ntk_addr *a)
{
    if (colons_ahead(t) >= 2) {
        a->family = NTK_ADDR_V6;
        int rc = parse_v6(t, a->ip);
        if (rc == NTK_OK && ntk_tok_accept(t, '%')) {
            rc = parse_scope(t, a);
        }
        return rc;
    }
    a->family = NTK_ADDR_V4;
    int rc = parse_v4(t, a->ip);
    if (rc == NTK_OK && ntk_tok_accept(t, ':')) {
        rc = parse_port(t, &a->port);
    }
    return rc;
}

int ntk_addr_parse(struct ntk_tok *t, struct ntk_addr *out)
{
    struct ntk_tok c = *t;
    struct ntk_addr a;
    memset(&a, 0, sizeof a);
    int rc = ntk_tok_accept(&c, '[') ? parse_bracketed(&c, &a) : parse_bare(&c, &a);
    if (rc == NTK_OK && continues_addr(ntk_tok_peek(&c))) {
        rc = NTK_EFORMAT;
    }
    if (rc != NTK_OK) {
        return rc;
    }
    *t = c;
    *out = a;
    return NTK_OK;
}

int ntk_addr_parse_span(struct ntk_span s, struct ntk_addr *out)
{
    struct ntk_tok t;
    struct ntk_addr a;
    ntk_tok_init_span(&t, s);
    int rc = ntk_addr_parse(&t, &a);
    if (rc != NTK_OK) {
        return rc;
    }
    if (!ntk_tok_eof(&t)) {
        return NTK_EFORMAT; /* e.g. "1.2.3.4 x" or an embedded NUL */
    }
    *out = a;
    return NTK_OK;
}

/* ==== formatting ==== */

static bool bytes_v4mapped(const uint8_t ip[V6_LEN])
{
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(ip, prefix, sizeof prefix) == 0;
}

/* v in decimal (or in lowercase hex without leading zeros when hex). Written out instead of
 * printf: ntpcap and the MRU list format addresses by the million. */
static void put_num(struct ntk_sb *sb, unsigned v, bool hex)
{
    char d[12];
    size_t n = 0;
    unsigned base = hex ? 16 : 10;
    do {
        d[sizeof d - 1 - n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v != 0);
    ntk_sb_putn(sb, d + sizeof d - n, n);
}

static void format_v4(const uint8_t ip[V4_LEN], struct ntk_sb *sb)
{
    for (size_t i = 0; i < V4_LEN; i++) {
        if (i > 0) {
            ntk_sb_putc(sb, '.');
        }
        put_num(sb, ip[i], false);
    }
}

/* The run of zero groups RFC 5952 §4.2 shortens: the longest of length >= 2 (§4.2.2), the
 * first one on a tie (§4.2.3). *len is 0 when there is none. */
static void find_zero_run(const uint16_t w[V6_GROUPS], size_t *base, size_t *len)
{
    *base = 0;
    *len = 0;
    for (size_t i = 0; i < V6_GROUPS;) {
        size_t j = i;
        while (j < V6_GROUPS && w[j] == 0) {
            j++;
        }
        if (j - i > *len && j - i >= 2) {
            *base = i;
            *len = j - i;
        }
        i = j > i ? j : i + 1;
    }
}

/* RFC 5952 §4: lowercase hex (§4.3) without leading zeros (§4.1), "::" for the chosen run;
 * IPv4-mapped addresses in mixed notation (§5). IPv4-compatible addresses (::a.b.c.d,
 * deprecated by RFC 4291 §2.5.5.1) stay hex, where glibc's inet_ntop would use dots. */
static void format_v6(const uint8_t ip[V6_LEN], struct ntk_sb *sb)
{
    if (bytes_v4mapped(ip)) {
        ntk_sb_puts(sb, "::ffff:");
        format_v4(ip + 12, sb);
        return;
    }
    uint16_t w[V6_GROUPS];
    for (size_t i = 0; i < V6_GROUPS; i++) {
        w[i] = (uint16_t)(ip[2 * i] << 8 | ip[2 * i + 1]);
    }
    size_t base, len;
    find_zero_run(w, &base, &len);
    for (size_t i = 0; i < V6_GROUPS;) {
        if (len > 0 && i == base) {
            ntk_sb_puts(sb, "::");
            i += len;
            continue;
        }
        if (i > 0 && !(len > 0 && i == base + len)) {
            ntk_sb_putc(sb, ':');
        }
        put_num(sb, w[i], true);
        i++;
    }
}

/* "%name" or "%index"; a name is read up to its NUL or 15 characters, and any character
 * outside the accepted set prints as '?' so a bad struct cannot inject text. */
static void format_scope(const struct ntk_addr *a, struct ntk_sb *sb)
{
    if (a->scope_name[0] != '\0') {
        ntk_sb_putc(sb, '%');
        for (size_t i = 0; i < SCOPE_NAME_MAX && a->scope_name[i] != '\0'; i++) {
            char c = a->scope_name[i];
            ntk_sb_putc(sb, is_scope_char((unsigned char)c) ? c : '?');
        }
    } else if (a->scope_id != 0) {
        ntk_sb_printf(sb, "%%%lu", (unsigned long)a->scope_id);
    }
}

void ntk_addr_format_sb(const struct ntk_addr *a, struct ntk_sb *sb)
{
    switch (a->family) {
    case NTK_ADDR_V4:
        format_v4(a->ip, sb);
        if (a->port != 0) {
            ntk_sb_putc(sb, ':');
            put_num(sb, a->port, false);
        }
        return;
    case NTK_ADDR_V6:
        if (a->port != 0) {
            ntk_sb_putc(sb, '[');
        }
        format_v6(a->ip, sb);
        format_scope(a, sb);
        if (a->port != 0) {
            ntk_sb_puts(sb, "]:");
            put_num(sb, a->port, false);
        }
        return;
    case NTK_ADDR_NONE:
    default:
        ntk_sb_putc(sb, '-');
        return;
    }
}

const char *ntk_addr_format(const struct ntk_addr *a, char buf[NTK_ADDRSTR_MAX])
{
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, NTK_ADDRSTR_MAX);
    ntk_addr_format_sb(a, &sb);
    return buf;
}

/* ==== comparison and conversion ==== */

static size_t ip_len(enum ntk_addr_family f)
{
    return f == NTK_ADDR_V4 ? V4_LEN : f == NTK_ADDR_V6 ? V6_LEN : 0;
}

bool ntk_addr_eq(const struct ntk_addr *a, const struct ntk_addr *b)
{
    return a->family == b->family && memcmp(a->ip, b->ip, ip_len(a->family)) == 0 &&
           a->port == b->port && a->scope_id == b->scope_id &&
           strncmp(a->scope_name, b->scope_name, NTK_ADDR_SCOPE_MAX) == 0;
}

void ntk_addr_set_v4(struct ntk_addr *a, const uint8_t ip[4], uint16_t port)
{
    memset(a, 0, sizeof *a);
    a->family = NTK_ADDR_V4;
    memcpy(a->ip, ip, V4_LEN);
    a->port = port;
}

void ntk_addr_set_v6(struct ntk_addr *a, const uint8_t ip[16], uint16_t port,
                     uint32_t scope_id)
{
    memset(a, 0, sizeof *a);
    a->family = NTK_ADDR_V6;
    memcpy(a->ip, ip, V6_LEN);
    a->port = port;
    a->scope_id = scope_id;
}

bool ntk_addr_is_v4mapped(const struct ntk_addr *a)
{
    return a->family == NTK_ADDR_V6 && bytes_v4mapped(a->ip);
}

bool ntk_addr_unmap(struct ntk_addr *a)
{
    if (!ntk_addr_is_v4mapped(a)) {
        return false;
    }
    uint8_t v4[V4_LEN];
    memcpy(v4, a->ip + 12, V4_LEN);
    ntk_addr_set_v4(a, v4, a->port);
    return true;
}

int ntk_addr_to_sockaddr(const struct ntk_addr *a, struct sockaddr_storage *ss, size_t *len)
{
    /* Ports are big-endian on the wire (sin_port); written byte-wise, no htons needed. */
    const uint8_t port_be[2] = {(uint8_t)(a->port >> 8), (uint8_t)a->port};
    if (a->family == NTK_ADDR_V4) {
        struct sockaddr_in sin;
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        memcpy(&sin.sin_port, port_be, sizeof port_be);
        memcpy(&sin.sin_addr, a->ip, V4_LEN);
        memset(ss, 0, sizeof *ss);
        memcpy(ss, &sin, sizeof sin);
        *len = sizeof sin;
        return NTK_OK;
    }
    if (a->family != NTK_ADDR_V6 || (a->scope_name[0] != '\0' && a->scope_id == 0)) {
        return NTK_EINVAL;
    }
    struct sockaddr_in6 sin6;
    memset(&sin6, 0, sizeof sin6);
    sin6.sin6_family = AF_INET6;
    memcpy(&sin6.sin6_port, port_be, sizeof port_be);
    memcpy(&sin6.sin6_addr, a->ip, V6_LEN);
    sin6.sin6_scope_id = a->scope_id;
    memset(ss, 0, sizeof *ss);
    memcpy(ss, &sin6, sizeof sin6);
    *len = sizeof sin6;
    return NTK_OK;
}

int ntk_addr_from_sockaddr(struct ntk_addr *out, const struct sockaddr *sa, size_t len)
{
    sa_family_t fam;
    if (len < offsetof(struct sockaddr, sa_family) + sizeof fam) {
        return NTK_ETRUNC;
    }
    /* Copied out rather than cast: the caller's buffer need not be aligned for the type. */
    memcpy(&fam, (const uint8_t *)sa + offsetof(struct sockaddr, sa_family), sizeof fam);
    uint8_t port_be[2];
    if (fam == AF_INET) {
        struct sockaddr_in sin;
        if (len < sizeof sin) {
            return NTK_ETRUNC;
        }
        memcpy(&sin, sa, sizeof sin);
        memcpy(port_be, &sin.sin_port, sizeof port_be);
        ntk_addr_set_v4(out, (const uint8_t *)&sin.sin_addr,
                        (uint16_t)(port_be[0] << 8 | port_be[1]));
        return NTK_OK;
    }
    if (fam == AF_INET6) {
        struct sockaddr_in6 sin6;
        if (len < sizeof sin6) {
            return NTK_ETRUNC;
        }
        memcpy(&sin6, sa, sizeof sin6);
        memcpy(port_be, &sin6.sin6_port, sizeof port_be);
        ntk_addr_set_v6(out, (const uint8_t *)&sin6.sin6_addr,
                        (uint16_t)(port_be[0] << 8 | port_be[1]), sin6.sin6_scope_id);
        return NTK_OK;
    }
    return NTK_EUNSUPP;
}
