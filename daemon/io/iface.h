/* SPDX-License-Identifier: BSD-2-Clause */
/* Which local addresses ntpd's server listens on: the machine's addresses (getifaddrs) and a
 * pure decision that applies NTPsec's `interface`/`nic` lines, -I and -L to them, in NTPsec's
 * order and with its defaults (ntp_io.c interface_action):
 *   - rules are -I (as `interface listen X`) or the configuration's lines, never both (NTPsec
 *     exits when the configuration has rules and -I or -L is given); the LAST matching rule
 *     decides;
 *   - `all` matches every address but the wildcards and loopback; `ipv4`/`ipv6` every address
 *     of the family, wildcards and loopback included; `wildcard` 0.0.0.0 and ::; an address
 *     (optionally /prefix) compares the address bits; a name is a shell pattern (fnmatch,
 *     case-insensitive) on the interface label ("eth0", "eth0:1");
 *   - no rule matches: loopback listens, a wildcard drops, an alias label ("eth0:1") is
 *     ignored under -L, then everything listens when there are no rules at all, else it is
 *     ignored.
 * Without any rule and without -L ntpd keeps one wildcard socket per family (PKTINFO makes
 * replies leave from the address asked) instead of NTPsec's socket per address: the same
 * addresses answer, and an address that appears later needs no rescan. */
#ifndef NTK_IFACE_H
#define NTK_IFACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "ntk/addr.h"

/* Room for an interface label, NUL included (Linux IF_NAMESIZE). */
#define IFACE_NAME_MAX 16

/* Most rules: every `interface` line, or every -I. */
#define IFACE_RULES_MAX (CONF_NICS_MAX > 32 ? CONF_NICS_MAX : 32)

/* Most local addresses enumerated. */
#define IFACE_ADDRS_MAX 256

/* Most addresses a plan opens (beyond the two wildcards). */
#define IFACE_PLAN_MAX 64

/* What to do with an address. */
enum iface_action {
    IFACE_IGNORE = 0, /* open no socket */
    IFACE_LISTEN,     /* open a socket and serve what arrives */
    IFACE_DROP,       /* open a socket, read and drop what arrives (counted), never answer */
};

/* Interface flags (from IFF_UP / IFF_LOOPBACK). */
enum iface_flag {
    IFACE_F_UP = 1u,       /* the interface is up (a down one is never opened) */
    IFACE_F_LOOPBACK = 2u, /* a loopback interface */
};

/* One local address. */
struct iface_addr {
    char name[IFACE_NAME_MAX]; /* the label: "eth0", or an IPv4 alias "eth0:1" */
    struct ntk_addr addr;      /* no port; an IPv6 link-local address has scope_id set */
    unsigned flags;            /* enum iface_flag bits */
};

/* The rules in force, in order (iface_rules_build). */
struct iface_rules {
    struct conf_nic rule[IFACE_RULES_MAX]; /* in order: the last match wins */
    size_t n;                              /* how many */
    bool no_virtual;                       /* -L: ignore alias labels ("eth0:1") */
    enum ntk_addr_family family;           /* -4 / -6: only this family; NTK_ADDR_NONE: both */
};

/* One address a plan opens. */
struct iface_plan_entry {
    struct ntk_addr addr;      /* no port */
    char name[IFACE_NAME_MAX]; /* the label it was found on (the first, when shared) */
    enum iface_action action;  /* IFACE_LISTEN or IFACE_DROP */
};

/* What to open. */
struct iface_plan {
    bool per_address;        /* false: the default, wildcards only (no rule, no -L) */
    enum iface_action wild4; /* the 0.0.0.0 socket */
    enum iface_action wild6; /* the :: socket */
    struct iface_plan_entry e[IFACE_PLAN_MAX]; /* per-address sockets, in the input's order */
    size_t n;                                  /* how many */
    size_t overflow;                           /* addresses to open that did not fit */
};

/* The daemon's record of one server socket (dlisten.c; srv_fd[i] and srv_sock[i] go
 * together). */
struct iface_sock {
    struct ntk_addr addr;      /* the address bound (no port); 0.0.0.0 or :: for a wildcard */
    char name[IFACE_NAME_MAX]; /* the label, or "v4wildcard" / "v6wildcard" */
    enum iface_action action;  /* IFACE_LISTEN or IFACE_DROP */
    bool wildcard;             /* a wildcard socket (never closed by a rescan) */
    bool seen;                 /* found again by the rescan in progress */
    int num;                   /* NTPsec's interface number, for the log lines */
    uint64_t dropped;          /* datagrams read and dropped (IFACE_DROP) */
    int64_t opened_mono_ns;    /* when it was opened (CLOCK_MONOTONIC) */
};

/* One rule of an -I argument: an address (`interface listen ADDR`) or else an interface name
 * or pattern (`interface listen NAME`), as NTPsec reads it. Writes *out and returns 0, or -1
 * when text is neither (empty, too long, or with a character a name cannot have). */
int iface_rule_from_opt(const char *text, struct conf_nic *out);

/* Builds *r from the configuration's interface lines, the -I arguments, -L and the family
 * (0, AF_INET or AF_INET6). Returns 0; -1 when the configuration has interface lines and -I
 * or -L is given too (NTPsec refuses that and exits), -2 for an -I argument that is neither an
 * address nor a name. *r is written in every case (on error: no rule). */
int iface_rules_build(struct iface_rules *r, const struct conf_nic *nics, size_t n_nics,
                      const char *const *opt_i, size_t n_opt_i, bool no_virtual, int af);

/* True when the label is an alias ("eth0:1"): what -L ignores. */
bool iface_is_virtual(const char *name);

/* True for the loopback addresses a rule-less address listens on: 127.0.0.1 or ::1 on a
 * loopback interface. (NTPsec takes all of 127/8; here other 127.x addresses, which hosts
 * use to run several servers on one machine, follow the rules like any address.) */
bool iface_is_loopback(const struct iface_addr *a);

/* The action for one address: name NULL for a wildcard, loopback as iface_is_loopback. */
enum iface_action iface_decide(const struct iface_rules *r, const char *name,
                               const struct ntk_addr *a, bool loopback);

/* The plan for the addresses in[0..n): down interfaces, wildcard addresses and the other
 * family (-4/-6) are skipped; an address found on several labels gets one socket, and drop
 * when the labels' actions disagree (NTPsec's "conflicting enable configuration"). */
void iface_plan(const struct iface_rules *r, const struct iface_addr *in, size_t n,
                struct iface_plan *out);

/* The machine's IPv4 and IPv6 addresses (getifaddrs) into out[0..max); *n is how many.
 * Returns 0, or a negative errno (nothing written then). Addresses beyond max are dropped. */
int iface_enumerate(struct iface_addr *out, size_t max, size_t *n);

#endif /* NTK_IFACE_H */
