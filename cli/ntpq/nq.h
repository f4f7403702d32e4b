/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpq's parts: the variable lists as NTPsec's ntpq reads them and the text formatters that
 * reproduce its output (nq_fmt.c, pure: text in, text out), the command interpreter
 * (nq_cmd.c) over a transport interface, the UDP transport over ntk_ctlc (nq_net.c), JSON
 * output (nq_json.c), options (nq_opts.c) and the program flow (nq_main.c).
 *
 * Reference for every format: NTPsec 1.2.2 ntpclients/ntpq.py and pylib/util.py (PeerSummary,
 * MRUSummary, IfstatsSummary, ReslistSummary, cook, packetize, periodize) and pylib/packet.py
 * (__parse_varlist); the golden test compares with what that ntpq printed. */
#ifndef NTK_NQ_H
#define NTK_NQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ntk/mac.h"
#include "ntk/ntime.h"
#include "ntk/sb.h"

/* Exit statuses: NTPsec's ntpq exits 0 after running its commands whatever they printed, 1
 * for a usage error (getopt) or an unreadable keys file. */
enum { NQ_EXIT_OK = 0, NQ_EXIT_FAIL = 1 };

/* ---- variable lists (nq_fmt.c) ---- */

/* The bytes Python's str.split() splits on, of those ntpq's filter lets through: ASCII
 * whitespace and the separators 0x1c-0x1f (NTPsec 1.2.2 sends such stray bytes in its
 * filter arrays, and NTPsec's ntpq splits them away). */
#define NQ_PY_SPACE " \t\n\v\f\r\x1c\x1d\x1e\x1f"

/* What a value parsed as, like Python's int(v, 0) then float(v) in packet.py. */
enum nq_kind {
    NQ_STR = 0, /* neither: str holds the text, quotes removed when it was quoted */
    NQ_INT,     /* an integer: i */
    NQ_FLOAT,   /* a float: d */
};

/* One name=value item, bytes 0 and >= 127 removed as NTPsec's ntpq removes them. */
struct nq_var {
    const char *name;  /* never NULL */
    const char *raw;   /* the value text as sent (quotes kept), "" for a bare name */
    const char *str;   /* the value text without surrounding quotes */
    enum nq_kind kind; /* how it parses */
    int64_t i;         /* NQ_INT value */
    double d;          /* NQ_FLOAT value (NQ_INT: the same as a double) */
};

/* A parsed list. Names are unique: a repeated name keeps its first place and takes the
 * last value (Python's OrderedDict). */
struct nq_vars {
    struct nq_var *v; /* heap array */
    size_t n;         /* items */
    char *arena;      /* heap copy of the filtered text the pointers point into */
    uint32_t *slots;  /* name hash table: index + 1 into v, 0 empty (heap) */
    size_t nslots;    /* its size, a power of two above twice the items */
};

/* Parses len bytes of a response's data exactly as NTPsec's ntpq does (packet.py
 * __parse_varlist: pairs split at commas outside '"' strings, NUL and bytes >= 127 dropped,
 * every value kept however malformed). Returns 0, or -1 when out of memory. Free with
 * nq_vars_free. */
int nq_vars_parse(const char *text, size_t len, struct nq_vars *out);

/* Frees a list (and zeroes it). */
void nq_vars_free(struct nq_vars *vs);

/* The item called name, or NULL. */
const struct nq_var *nq_vars_get(const struct nq_vars *vs, const char *name);

/* ---- number and time forms (nq_fmt.c) ---- */

/* Appends Python's repr() of a float ("0.0", "6e-05", "187.526793", "inf"). */
void nq_put_pyfloat(struct ntk_sb *sb, double d);

/* Appends a variable's value as Python's repr() would, ' quotes shown as ". */
void nq_put_repr(struct ntk_sb *sb, const struct nq_var *v);

/* Appends NTPsec's f8dot4 / f8dot3 of a value (NQ_STR values right-aligned in 8). */
void nq_put_f8dot4(struct ntk_sb *sb, const struct nq_var *v);
void nq_put_f8dot3(struct ntk_sb *sb, const struct nq_var *v);

/* NTPsec's lfptofloat: the Unix time of a "0x%08x.%08x" timestamp, era nearest to now_s.
 * Returns false for text that is not one. */
bool nq_lfp_to_unix(const char *text, double now_s, double *out);

/* Appends NTPsec's prettydate of a hex timestamp ("eeb22b9a.9ef41b6f
 * 2026-11-26T03:52:58.620Z"), or the text itself when it is not one. */
void nq_put_prettydate(struct ntk_sb *sb, const char *text, double now_s);

/* NTPsec's periodize: "[ND ]HH:MM:SS" of a number of seconds. */
void nq_put_period(struct ntk_sb *sb, int64_t s);

/* NTPsec's statustoa for system (1), peer (2) and clock (3) status words. */
enum { NQ_TYPE_SYS = 1, NQ_TYPE_PEER = 2, NQ_TYPE_CLOCK = 3 };
void nq_put_statustoa(struct ntk_sb *sb, int type, uint16_t status);

/* ---- units (nq_units.c): NTPsec's unitify ---- */

/* Appends raw (a decimal text) rescaled to the unit that suits it when name is one of
 * NTPsec's millisecond, second or ppm variables, in width columns (-1: unpadded). Returns
 * false, appending nothing, for other names. */
bool nq_units_var(struct ntk_sb *sb, const char *name, const char *raw, int width);

/* The same for a value known to be in milliseconds (the peers columns). */
void nq_units_ms(struct ntk_sb *sb, const char *raw, int width);

/* Appends a filtdelay-style list of milliseconds at its most common unit (stringfiltcooker).
 */
void nq_units_filt(struct ntk_sb *sb, const char *text);

/* ---- report formatters (nq_fmt.c) ---- */

/* Output settings that change the formatting. */
struct nq_style {
    int showhostnames; /* NTPsec's bits: 1 resolved names, 2 names as configured */
    bool units;        /* -u / `units` */
    bool wide;         /* -w: long remote names on their own line */
    int termwidth;     /* -W or the terminal's, 80 when not a terminal */
    int cookwidth;     /* cooked rv line limit: the terminal's width - 2 (78) */
    double now_s;      /* the current Unix time (peers' when, MRU lstint, eras) */
    /* Reverse lookup of a numeric address for display (NULL: numeric). The result is
     * static or owned by ctx, valid until the next call. */
    const char *(*resolve)(void *ctx, const char *addr);
    void *resolve_ctx;
};

/* Peers display modes. */
enum nq_peers_mode { NQ_PEERS, NQ_APEERS, NQ_OPEERS, NQ_RPEERS };

/* Appends the peers header line (no newline) and returns the width of the '=' rule. */
int nq_peers_header(struct ntk_sb *sb, const struct nq_style *st, enum nq_peers_mode m);

/* Appends one peers line (with its newline) for association associd with status word
 * rstatus (the READVAR response's) and its variables. */
void nq_peers_line(struct ntk_sb *sb, const struct nq_style *st, enum nq_peers_mode m,
                   uint16_t rstatus, const struct nq_vars *vs, uint16_t associd);

/* Appends NTPsec's cooked variable listing (rv, cv): name=value items separated by ", ",
 * lines broken before st->cookwidth, one newline at the end. */
void nq_cook(struct ntk_sb *sb, const struct nq_style *st, const struct nq_vars *vs);

/* Appends the associations table (header and rows) for n (associd, status) pairs. */
void nq_assoc_table(struct ntk_sb *sb, const uint16_t *ids, const uint16_t *status, size_t n);

/* Row formats of the statistics commands (NTPsec collect_display / collect_display2). */
enum nq_fmtype {
    NQ_F_STR,
    NQ_F_INT,
    NQ_F_UINT,
    NQ_F_FLOAT,
    NQ_F_ADD,
    NQ_F_ADP,
    NQ_F_LFP,
    NQ_F_MODE,
    NQ_F_2BIT,
    NQ_F_UPTIME,
    NQ_F_PACKETS
};

/* One row of a statistics command. */
struct nq_stat {
    const char *name;    /* the variable */
    const char *legend;  /* its label, NTPsec's text with its padding */
    enum nq_fmtype type; /* how the value is shown */
};

/* A statistics command's table (sysinfo, kerninfo, ...). */
struct nq_stats_cmd {
    const char *cmd;            /* the command name */
    const struct nq_stat *rows; /* rows */
    size_t n;                   /* how many */
    bool decodestatus;          /* print "associd=... status=..." first */
    bool pairs;                 /* collect_display2: the value and its "_r" twin */
};

/* The tables, found by command name ("sysstats" has two: its second is "sysstats2"). */
const struct nq_stats_cmd *nq_stats_find(const char *cmd);

/* Appends the rows of a statistics table for vs (collect_display / _display2), the status
 * line first when decodestatus (associd and status of the response). */
void nq_stats_show(struct ntk_sb *sb, const struct nq_style *st, const struct nq_stats_cmd *c,
                   const struct nq_vars *vs, uint16_t associd, uint16_t status);

/* One MRU list entry, as ntpq assembles it from "addr.N=..." items. */
struct nq_mru {
    char addr[64];  /* "127.0.0.1:57192" */
    char first[24]; /* hex timestamp text */
    char last[24];  /* hex timestamp text */
    double last_s;  /* last as Unix time */
    double first_s; /* first as Unix time */
    int64_t ct;     /* count */
    int64_t rs;     /* restriction flags */
    int64_t mv;     /* mode and version byte */
    double sc;      /* score */
    bool has_sc;    /* sc was given */
    int64_t dr;     /* drop count */
    bool has_dr;    /* dr was given */
};

/* MRU header line (without newline). */
extern const char nq_mru_header[];

/* Appends one MRU line (with newline) relative to now_s (the list's "now"). */
void nq_mru_line(struct ntk_sb *sb, const struct nq_style *st, const struct nq_mru *e,
                 double now_s);

/* Appends the ifstats header / one entry (index i, the ".i" items of the list). */
void nq_ifstats_header(struct ntk_sb *sb);
void nq_ifstats_entry(struct ntk_sb *sb, const struct nq_vars *vs, unsigned i);

/* Appends the reslist header / one entry. */
void nq_reslist_header(struct ntk_sb *sb);
void nq_reslist_entry(struct ntk_sb *sb, const struct nq_vars *vs, unsigned i);

/* The largest ".N" index in vs plus one (ordered lists), 0 when none. */
unsigned nq_ordlist_count(const struct nq_vars *vs);

#endif /* NTK_NQ_H */
