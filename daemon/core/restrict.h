/* SPDX-License-Identifier: BSD-2-Clause */
/* The access-control list of `restrict` / `unrestrict` lines (NTPsec ntp_restrict.c
 * semantics): address/prefix rules per family plus one default rule per family; the most
 * specific rule that matches a source address (the longest prefix) gives its flags, and
 * every rule counts its hits (ntpq reslist).
 *
 * `restrict net/len flags` on a network that already has a rule adds the flags to it (NTPsec
 * ORs them in); `unrestrict net/len flags` clears the named flags, and `unrestrict net/len`
 * with no flag removes the rule (a default rule is reset to no flags instead). An
 * IPv4-mapped IPv6 source (::ffff:a.b.c.d from a dual-stack socket) is matched as the IPv4
 * address. Lookup is a scan of the rules sorted most specific first: configurations have
 * tens of rules, and the scan touches no memory per packet besides the rule array.
 *
 * `restrict source` (NTPsec) is a template: the daemon adds a host rule with its flags for
 * the address of every association (rst_add_source) and takes it back when the association
 * goes (rst_remove_source). Source references are counted per address (two associations may
 * share one on different ports) and kept apart from what restrict lines gave the same
 * address, so removing the last one leaves a configured rule as it was.
 */
#ifndef NTK_RESTRICT_H
#define NTK_RESTRICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntk/addr.h"

/* Restriction flags (NTPsec's keywords). Bits are stable: they are shown in mrulist. */
enum rst_flag {
    RST_IGNORE = 1u << 0,      /* drop every packet silently */
    RST_KOD = 1u << 1,         /* with limited: answer excess with a KoD RATE */
    RST_LIMITED = 1u << 2,     /* rate-limit time service (discard / limit) */
    RST_LOWPRIOTRAP = 1u << 3, /* mode 6 traps (no-op, kept for old files) */
    RST_MSSNTP = 1u << 4,      /* MS-SNTP signing through ntp_signd */
    RST_NOMODIFY = 1u << 5,    /* mode 6: refuse writes and :config */
    RST_NOMRULIST = 1u << 6,   /* mode 6: refuse mrulist */
    RST_NOEPEER = 1u << 7,     /* refuse ephemeral symmetric peers */
    RST_NOPEER = 1u << 8,      /* refuse new associations */
    RST_NOQUERY = 1u << 9,     /* refuse mode 6 queries (time service unaffected) */
    RST_NOSERVE = 1u << 10,    /* refuse time service (mode 6 unaffected) */
    RST_NOTRAP = 1u << 11,     /* mode 6 traps (no-op) */
    RST_NOTRUST = 1u << 12,    /* only authenticated packets are trusted */
    RST_NTPPORT = 1u << 13,    /* a match modifier: the rule matches only packets from
                                  source port 123 (NTPsec), else less specific rules do */
    RST_VERSION = 1u << 14,    /* refuse packets that are not NTPv4 */
    RST_FLAKE = 1u << 15,      /* drop 10 % of packets (testing) */
};

/* Number of flags (bits 0 .. RST_FLAG_COUNT-1). */
#define RST_FLAG_COUNT 16

/* One rule as reported (ntpq reslist). A default rule has prefix_len 0. */
struct rst_rule {
    enum ntk_addr_family family; /* NTK_ADDR_V4 or NTK_ADDR_V6 */
    uint8_t ip[16];              /* the network, bits past prefix_len zeroed */
    uint8_t prefix_len;          /* 0..32 (v4) or 0..128 (v6) */
    uint32_t flags;              /* enum rst_flag bits in force: conf_flags, plus
                                    src_flags while src_refs > 0 */
    uint64_t hits;               /* lookups this rule decided */
    bool conf;                   /* a restrict line made it (always true for a default) */
    uint32_t conf_flags;         /* what restrict/unrestrict lines gave it */
    uint32_t src_refs;           /* associations whose `restrict source` rule this is */
    uint32_t src_flags;          /* the `restrict source` flags (while src_refs > 0) */
};

/* An ACL (opaque). */
struct rst_table;

/* Allocates a table holding only the two default rules, without flags. NULL if out of
 * memory. */
struct rst_table *rst_new(void);

/* Frees a table (NULL is fine). */
void rst_free(struct rst_table *t);

/* `restrict`: adds flags to the rule for net/prefix_len, creating it if needed (prefix_len
 * 0 names the family's default rule; bits of net past prefix_len are ignored). Returns 0;
 * NTK_EINVAL for a family other than V4/V6 or a prefix longer than the family's address;
 * NTK_ENOMEM. */
int rst_add(struct rst_table *t, const struct ntk_addr *net, unsigned prefix_len,
            uint32_t flags);

/* `unrestrict`: clears flags from the rule for net/prefix_len, or when flags is 0 removes
 * the rule (a default rule is reset to 0 flags; a rule `restrict source` also holds keeps
 * only its source part). Returns 0; NTK_ENOTFOUND when there is no
 * such rule; NTK_EINVAL as rst_add. */
int rst_remove(struct rst_table *t, const struct ntk_addr *net, unsigned prefix_len,
               uint32_t flags);

/* `restrict source` for one association: adds a reference to the host rule of addr (its
 * port is ignored; an IPv4-mapped address is taken as IPv4), creating the rule if needed,
 * and ORs flags into its source flags. Returns 0; NTK_EINVAL for a family other than V4/V6;
 * NTK_ENOMEM. */
int rst_add_source(struct rst_table *t, const struct ntk_addr *addr, uint32_t flags);

/* Takes back one rst_add_source(addr): with the last reference the source flags go, and so
 * does the rule unless a restrict line made it too. Returns 0; NTK_ENOTFOUND when addr has
 * no source reference; NTK_EINVAL as rst_add_source. */
int rst_remove_source(struct rst_table *t, const struct ntk_addr *addr);

/* Returns the flags of the most specific rule matching addr (a rule with RST_NTPPORT
 * matches only when addr->port is 123) and counts a hit on that rule. An address of another
 * family (NTK_ADDR_NONE) matches nothing and returns RST_IGNORE. */
uint32_t rst_lookup(struct rst_table *t, const struct ntk_addr *addr);

/* Number of rules, the two defaults included. */
size_t rst_count(const struct rst_table *t);

/* Copies rule i (0 = the most specific; the defaults are last) to *out; false if i is out
 * of range. */
bool rst_get(const struct rst_table *t, size_t i, struct rst_rule *out);

/* The keyword of flag bit i ("ignore", "kod", ...), or NULL when i >= RST_FLAG_COUNT. */
const char *rst_flag_name(unsigned i);

/* Looks a keyword up (exact, lowercase, len bytes at name). Returns 0 and writes *flag;
 * NTK_ENOTFOUND for an unknown word. */
int rst_flag_parse(const char *name, size_t len, uint32_t *flag);

#endif /* NTK_RESTRICT_H */
