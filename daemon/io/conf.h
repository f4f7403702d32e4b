/* SPDX-License-Identifier: BSD-2-Clause */
/* ntp.conf in NTPsec's syntax: the parsed configuration (struct conf), the parser with its
 * diagnostics (file:line:col and a reason for every problem, parsing goes on after an error),
 * includefile for files and directories, and the built-in default configuration.
 *
 * Lines are "keyword arg...", '#' starts a comment where a token would start, a token may be a
 * "double-quoted string" (for file names with spaces). Every line NTPsec 1.2.2 accepts is
 * accepted (tests/interop/ntpd_conf_ntpsec.sh runs both on a corpus), including the Classic
 * forms `server 127.127.T.U` and `fudge` for reference clocks and `unpeer` of a line above or
 * below; what has no effect here says so in a warning. What NTPsec removed (Autokey, mode 7,
 * broadcast and manycast), the reference-clock drivers not built here and values NTPsec would
 * misuse silently (version 0, key 0, a mask with holes...) are refused with the reason;
 * anything else is an error naming the unknown word.
 */
#ifndef NTK_CONF_H
#define NTK_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "ntk/addr.h"

#define CONF_PATH_MAX      512  /* room for a file name, NUL included (longer: an error) */
#define CONF_NAME_MAX      256  /* room for a host name (253 characters) and its NUL */
#define CONF_LINE_MAX      1024 /* longest line in bytes (longer: an error, the line skipped) */
#define CONF_TOKEN_MAX     511  /* longest token in bytes */
#define CONF_TOKENS_MAX    64   /* most tokens on a line */
#define CONF_SERVERS_MAX   1024  /* most server/pool/peer lines */
#define CONF_RULES_MAX     4096  /* most restrict/unrestrict lines */
#define CONF_NICS_MAX      64    /* most interface/nic lines */
#define CONF_SETVARS_MAX   32    /* most setvar lines */
#define CONF_LOGCFG_MAX    16    /* most logconfig items in total */
#define CONF_INCLUDE_MAX   5     /* includefile nesting limit (NTPsec's MAXINCLUDELEVEL) */
#define CONF_DIAGS_MAX     64    /* diagnostics kept with their text (more are only counted) */
#define CONF_KEYID_MAX     65535 /* largest symmetric key id */
#define CONF_REFCLOCKS_MAX 8     /* most refclock lines */
#define CONF_LATER_MAX     64    /* most fudge and unpeer lines */
#define CONF_DSCP_DEFAULT  46    /* NTPsec's DSCP for NTP datagrams: Expedited Forwarding */

/* ----- sources ------------------------------------------------------------------------- */

/* Which directive made a source. */
enum conf_srv_kind {
    CONF_SRV_SERVER = 1, /* server: one association */
    CONF_SRV_POOL,       /* pool: a name resolved to up to tos maxclock associations */
    CONF_SRV_PEER,       /* peer: an alias of server, as in NTPsec since 0.9.5 */
};

/* NTS options of a server line, stored for the NTS client (issue: NTS). */
struct conf_nts_client {
    bool enabled;            /* `nts`: use NTS-KE and NTS-protected NTP */
    bool noval;              /* `noval`: do not validate the server's certificate */
    char ca[CONF_PATH_MAX];  /* `ca FILE`: trust anchors ("" = the system's) */
    char aead[32];           /* `aead NAME`: e.g. "AES_SIV_CMAC_256" ("" = default) */
    char ask[CONF_NAME_MAX]; /* `ask HOST[:PORT]`: the NTS-KE server if not the NTP one
                                (an address; with nts, the line's own port is the NTS-KE
                                port, as in NTPsec) */
    uint32_t expire_s;       /* `expire N`: cookie lifetime override (0 = default) */
};

/* One server, pool or peer line. */
struct conf_server {
    enum conf_srv_kind kind;    /* which directive */
    struct eng_server_cfg cfg;  /* address or name (cfg.name), poll range, flags, key,
                                 * `version N` (1..4; 4 by default), `bias X`;
                                 * cfg.addr.port is the `port N` or address port (0 = 123) */
    uint8_t family;             /* 4 for `-4`, 6 for `-6`, 0 = either when resolving */
    bool preempt;               /* `preempt`: may be dropped when useless (pool's default) */
    struct conf_nts_client nts; /* NTS options */
    uint32_t line;              /* the line it came from, for messages */
};

/* ----- reference clocks (issue 12) ----------------------------------------------------- */

/* One `refclock NAME ...` line (NTPsec's syntax; drivers shm, pps and sock). */
struct conf_refclock {
    struct eng_refclock_cfg cfg; /* for eng_add_refclock: type, unit, fudges, poll, flags,
                                    with eng_refclock_defaults' values where not given */
    char path[CONF_PATH_MAX];    /* `path`: SOCK's socket (required), PPS's device ("" =
                                    /dev/ppsUNIT); unused by SHM */
    char ppspath[CONF_PATH_MAX]; /* `ppspath` (stored; no driver here uses it) */
    uint32_t mode;               /* `mode N` (driver-specific; stored) */
    uint32_t subtype;            /* `subtype N` (stored) */
    uint32_t line;               /* the line it came from, for messages */
};

/* What a fudge line gives (conf_rc.c): the refclock options it may set. */
enum conf_fudge_bit {
    CONF_FUDGE_TIME1 = 1u << 0,
    CONF_FUDGE_TIME2 = 1u << 1,
    CONF_FUDGE_STRATUM = 1u << 2,
    CONF_FUDGE_REFID = 1u << 3,
    CONF_FUDGE_FLAGS = 1u << 4, /* flag_mask says which of flag1..flag4 */
};

/* A line that refers to other lines, applied once the whole configuration is read (NTPsec
 * applies fudge and unpeer after every server line, wherever they are): a fudge changes its
 * reference clock, an unpeer removes its server or refclock lines, a `disable monitor` is
 * undone while a restrict rule (or the implicit default one) has `limited`, as NTPsec. */
struct conf_later {
    enum { CONF_LATER_FUDGE = 1, CONF_LATER_UNPEER, CONF_LATER_NOMONITOR } kind;
    char file[256];             /* where the line is, for the warning if it matches nothing */
    uint32_t line, col;         /* ... */
    struct eng_refclock_cfg rc; /* FUDGE: the options given; UNPEER of a clock: type, unit */
    uint32_t given;             /* FUDGE: enum conf_fudge_bit */
    uint8_t flag_mask;          /* FUDGE: which flags were given */
    bool clock;                 /* UNPEER: a reference clock (rc.type, rc.unit) */
    struct ntk_addr addr;       /* UNPEER: a server's address (NTK_ADDR_NONE: by name) */
    char name[CONF_NAME_MAX];   /* UNPEER: a server's host name, as written */
};

/* ----- access control ------------------------------------------------------------------ */

/* restrict flags (NTPsec's, one bit each). */
enum conf_res_flag {
    CONF_RES_IGNORE = 1u << 0,      /* drop every packet */
    CONF_RES_KOD = 1u << 1,         /* send a KoD RATE when rate limiting drops */
    CONF_RES_LIMITED = 1u << 2,     /* apply discard/limit rate limiting */
    CONF_RES_LOWPRIOTRAP = 1u << 3, /* traps: accepted, no effect (no traps here) */
    CONF_RES_MSSNTP = 1u << 4,      /* MS-SNTP signing through ntpsigndsocket */
    CONF_RES_NOMODIFY = 1u << 5,    /* refuse mode-6 writes and runtime configuration */
    CONF_RES_NOMRULIST = 1u << 6,   /* refuse mode-6 mrulist */
    CONF_RES_NOEPEER = 1u << 7,     /* refuse ephemeral peers (no effect: no modes 1/2) */
    CONF_RES_NOPEER = 1u << 8,      /* refuse new peers (no effect: no modes 1/2) */
    CONF_RES_NOQUERY = 1u << 9,     /* refuse every mode-6 query */
    CONF_RES_NOSERVE = 1u << 10,    /* refuse time requests (mode 3) */
    CONF_RES_NOTRAP = 1u << 11,     /* traps: accepted, no effect */
    CONF_RES_NOTRUST = 1u << 12,    /* refuse time not authenticated by a trusted key */
    CONF_RES_NTPPORT = 1u << 13,    /* the rule matches source port 123 only */
    CONF_RES_VERSION = 1u << 14,    /* refuse packets of another NTP version */
    CONF_RES_FLAKE = 1u << 15,      /* drop 10 % of packets (testing) */
};

/* One restrict or unrestrict line. */
struct conf_restrict {
    bool unrestrict;          /* `unrestrict`: remove a matching rule instead */
    bool is_default;          /* `default`: every address of the family */
    bool is_source;           /* `source`: the addresses of configured servers */
    uint8_t family;           /* 4 or 6; 0 for `default` without -4/-6 (both) */
    struct ntk_addr addr;     /* address (NTK_ADDR_NONE for default or a name) */
    char name[CONF_NAME_MAX]; /* a host name to resolve ("" for an address or default) */
    uint8_t prefix_len;       /* CIDR prefix from /N or `mask` (32/128 = host) */
    uint32_t flags;           /* enum conf_res_flag bits */
    uint32_t line;            /* the line it came from */
};

/* `discard` (NTPsec's rate-limit parameters). */
struct conf_discard {
    int average_log2;   /* `average`: minimum mean headway, log2 s (3) */
    int minimum_s;      /* `minimum`: minimum spacing, s (2) */
    int monitor;        /* `monitor`: discard probability scale (3000) */
    bool average_given; /* a discard line set `average` */
};

/* `limit` (features.md §1.8: average burst kod). */
struct conf_limit {
    double average_pps; /* allowed mean request rate, packets/s (1.0; NTPsec's unit) */
    uint32_t burst;     /* requests allowed in a burst (20) */
    double kod_pps;     /* most KoDs per second to one client (0.5: one every 2 s) */
    bool given;         /* a limit line was seen */
};

/* `mru`: bounds of the client list (0 = the daemon's default). */
struct conf_mru {
    uint32_t maxage_s;    /* entries older than this may be recycled */
    uint32_t minage_s;    /* entries younger than this are never recycled */
    uint32_t maxdepth;    /* most entries */
    uint32_t mindepth;    /* entries kept regardless of age */
    uint32_t maxmem_kib;  /* most memory, KiB */
    uint32_t initalloc;   /* entries allocated at start */
    uint32_t initmem_kib; /* memory allocated at start, KiB */
    uint32_t incalloc;    /* entries added per growth */
    uint32_t incmem_kib;  /* memory added per growth, KiB */
};

/* ----- tos and tinker beyond the engine's ------------------------------------------------ */

/* tos options the engine does not take (floor and ceiling are in struct eng_tos). */
struct conf_tos_extra {
    bool cohort;      /* `cohort 1`: accept servers of our own stratum */
    double maxdisp_s; /* `maxdisp`: dispersion threshold, s (16) */
};

/* tinker options the engine does not take (yet). */
struct conf_tinker_extra {
    double allan_s;    /* `allan`: Allan intercept, s (1500) */
    double huffpuff_s; /* `huffpuff`: huff-n'-puff window, s (7200; 0 = off) */
    bool have_freq;    /* `freq` was given */
    double freq_ppm;   /* `freq`: initial frequency, overrides the drift file (applied) */
    double stepback_s; /* `stepback`: backward step threshold, s (0 = same as step) */
    double stepfwd_s;  /* `stepfwd`: forward step threshold, s (0 = same as step) */
};

/* ----- monitoring ------------------------------------------------------------------------ */

/* The statistics files (NTPsec's names). */
enum conf_stat {
    CONF_STAT_CLOCKSTATS = 0, /* clockstats */
    CONF_STAT_LOOPSTATS,      /* loopstats */
    CONF_STAT_NTSKESTATS,     /* ntskestats */
    CONF_STAT_NTSSTATS,       /* ntsstats */
    CONF_STAT_PEERSTATS,      /* peerstats */
    CONF_STAT_PROTOSTATS,     /* protostats */
    CONF_STAT_RAWSTATS,       /* rawstats */
    CONF_STAT_SYSSTATS,       /* sysstats */
    CONF_STAT_TIMINGSTATS,    /* timingstats */
    CONF_STAT_USESTATS,       /* usestats */
    CONF_STAT_COUNT,          /* number of the above */
};

/* filegen rotation types. */
enum conf_fg_type {
    CONF_FG_DAY = 0, /* day (NTPsec's default) */
    CONF_FG_NONE,    /* none */
    CONF_FG_PID,     /* pid */
    CONF_FG_WEEK,    /* week */
    CONF_FG_MONTH,   /* month */
    CONF_FG_YEAR,    /* year */
    CONF_FG_AGE,     /* age (every 24 h of running) */
};

/* One `filegen NAME ...` (defaults when no line names the file). */
struct conf_filegen {
    char file[CONF_PATH_MAX]; /* `file F`: prefix inside statsdir ("" = the stat's name) */
    enum conf_fg_type type;   /* `type T` */
    bool link;   /* `link` (default) / `nolink`: keep a link to the current file */
    bool enable; /* `enable` / `disable` (statistics also enables) */
};

/* One logconfig item such as "=syncall" or "+clockinfo". */
struct conf_logcfg {
    char op;       /* '=', '+' or '-' ('=' when none was written, as NTPsec) */
    char class[8]; /* "all", "clock", "peer", "sys" or "sync" */
    char what[12]; /* "all", "info", "events", "status" or "statistics" */
};

/* ----- interfaces ------------------------------------------------------------------------ */

/* What an interface/nic line does. */
enum conf_nic_action {
    CONF_NIC_LISTEN = 1, /* listen: open sockets on the matching addresses */
    CONF_NIC_IGNORE,     /* ignore: open none */
    CONF_NIC_DROP,       /* drop: open them but drop what arrives */
};

/* Which addresses an interface/nic line matches. */
enum conf_nic_match {
    CONF_NIC_ALL = 1,  /* all */
    CONF_NIC_IPV4,     /* ipv4 */
    CONF_NIC_IPV6,     /* ipv6 */
    CONF_NIC_WILDCARD, /* wildcard: the 0.0.0.0 / :: sockets */
    CONF_NIC_NAME,     /* an interface name (name) */
    CONF_NIC_ADDR,     /* an address, optionally a prefix (addr, prefix_len) */
};

/* One interface or nic line. */
struct conf_nic {
    enum conf_nic_action action; /* what to do */
    enum conf_nic_match match;   /* what it matches */
    char name[16];               /* CONF_NIC_NAME: interface name (IF_NAMESIZE) */
    struct ntk_addr addr;        /* CONF_NIC_ADDR: the address */
    int prefix_len;              /* CONF_NIC_ADDR: prefix length, -1 = the address only */
};

/* One `setvar NAME = VALUE [default]`. */
struct conf_setvar {
    char name[64];   /* the variable's name */
    char value[192]; /* its value (the rest of the line, single spaces between tokens) */
    bool dflt;       /* `default`: also listed in the default readvar answer */
};

/* ----- NTS server ------------------------------------------------------------------------ */

/* The `nts ...` server-side directives (NTPsec's, plus `keport`). */
struct conf_nts_server {
    bool enable;                /* `nts enable` / `nts disable` */
    uint16_t keport;            /* `nts keport N` (ours): the NTS-KE TCP port (0: 4460) */
    char key[CONF_PATH_MAX];    /* `nts key FILE`: the TLS private key */
    char cert[CONF_PATH_MAX];   /* `nts cert FILE`: the TLS certificate chain */
    char ca[CONF_PATH_MAX];     /* `nts ca FILE`: trust anchors of the `server ... nts` lines
                                   without a `ca` of their own */
    char cookie[CONF_PATH_MAX]; /* `nts cookie FILE`: the cookie key file */
    char aead[32];              /* `nts aead NAME` */
    char mintls[16];            /* `nts mintls TLS1.3` */
    char maxtls[16];            /* `nts maxtls TLS1.3` */
    char ciphers[128];          /* `nts tlsciphersuites LIST` */
    char curves[128];           /* `nts tlsecdhcurves LIST` */
};

/* `enable` / `disable` flags. */
enum conf_sys_flag {
    CONF_SYS_CALIBRATE = 1u << 0, /* calibrate (default off) */
    CONF_SYS_KERNEL = 1u << 1,    /* kernel discipline (default on) */
    CONF_SYS_MONITOR = 1u << 2,   /* the MRU list (default on) */
    CONF_SYS_NTP = 1u << 3,       /* discipline the clock at all (default on) */
    CONF_SYS_STATS = 1u << 4,     /* statistics files (default on) */
};

/* Includes for conf_parse_text: called for each includefile line with the path as written
 * (NUL-terminated); returns 0 or a negative enum ntk_err (which is then reported). */
struct conf;
struct conf_diags;
typedef int (*conf_include_fn)(void *ctx, struct conf *c, const char *path,
                               struct conf_diags *d);

/* ----- the whole configuration ------------------------------------------------------------
 */

struct conf {
    struct conf_server *servers;       /* server/pool/peer lines in order (owned) */
    size_t n_servers;                  /* how many */
    size_t cap_servers;                /* allocated room */
    struct conf_restrict *rules;       /* restrict/unrestrict lines in order (owned) */
    size_t n_rules;                    /* how many */
    size_t cap_rules;                  /* allocated room */
    struct conf_discard discard;       /* `discard` */
    struct conf_limit limit;           /* `limit` */
    struct conf_mru mru;               /* `mru` */
    struct eng_tos tos;                /* `tos` options the engine takes */
    struct conf_tos_extra tos_x;       /* the other `tos` options */
    struct eng_tinker tinker;          /* `tinker` step stepout panic dispersion(phi_ppm) */
    struct conf_tinker_extra tinker_x; /* the other `tinker` options */
    char driftfile[CONF_PATH_MAX];     /* `driftfile` ("" = none; also a bare `driftfile`) */
    double drift_threshold_ppm;        /* `driftfile F X` / `nonvolatile X` (X s/s); 0: the
                                          default 0.1 ppm */
    char pidfile[CONF_PATH_MAX];       /* `pidfile` ("" = none; -p wins) */
    uint8_t dscp;                      /* `dscp N`: DSCP of NTP datagrams (46) */
    char leapfile[CONF_PATH_MAX];      /* `leapfile` ("" = none) */
    char statsdir[CONF_PATH_MAX];      /* `statsdir` ("" = the current directory) */
    char logfile[CONF_PATH_MAX];       /* `logfile` ("" = syslog) */
    char keys[CONF_PATH_MAX];          /* `keys` ("" = none) */
    char signd_socket[CONF_PATH_MAX];  /* `ntpsigndsocket` ("" = none) */
    uint32_t stats_mask;               /* `statistics`: bit (1 << enum conf_stat) per name */
    struct conf_filegen filegen[CONF_STAT_COUNT]; /* per statistics file */
    struct conf_logcfg logcfg[CONF_LOGCFG_MAX];   /* `logconfig` items in order */
    size_t n_logcfg;                              /* how many */
    uint8_t trusted[(CONF_KEYID_MAX + 1) / 8];    /* `trustedkey`: bit per key id */
    uint32_t controlkey;                          /* `controlkey` (0 = none) */
    struct conf_nic nics[CONF_NICS_MAX];          /* interface/nic lines in order */
    size_t n_nics;                                /* how many */
    struct conf_setvar setvars[CONF_SETVARS_MAX]; /* setvar lines in order */
    size_t n_setvars;                             /* how many */
    uint32_t sys_flags;           /* enum conf_sys_flag bits after enable/disable */
    struct conf_nts_server nts;   /* `nts ...` server directives */
    uint32_t leapsmear_s;         /* `leapsmearinterval` (0 = off) */
    uint32_t rlimit_memlock_mib;  /* `rlimit memlock` (0 = default) */
    uint32_t rlimit_stacksize_4k; /* `rlimit stacksize`, 4 KiB pages (0 = default) */
    uint32_t rlimit_filenum;      /* `rlimit filenum` (0 = default) */
    struct conf_refclock refclocks[CONF_REFCLOCKS_MAX]; /* refclock lines in order */
    size_t n_refclocks;                                 /* how many */
    struct conf_later *later;   /* fudge and unpeer lines until the end of the parse (owned) */
    size_t n_later, cap_later;  /* how many, allocated room */
    unsigned parse_depth;       /* conf_parse_* calls under way (the later lines are applied
                                   when the outermost one ends) */
    conf_include_fn include_fn; /* conf_parse_text's includefile handler (NULL = refused) */
    void *include_ctx;          /* passed to include_fn */
};

/* ----- diagnostics ------------------------------------------------------------------------
 */

/* How bad a diagnostic is. */
enum conf_sev {
    CONF_SEV_ERROR = 1, /* the line was not applied; --check-config fails */
    CONF_SEV_WARNING,   /* applied, but worth saying (e.g. a flag with no effect) */
};

/* One problem. */
struct conf_diag {
    enum conf_sev sev; /* severity */
    char file[256];    /* the file (or text name); a longer one keeps its last 255 bytes */
    uint32_t line;     /* 1-based line */
    uint32_t col;      /* 1-based byte column of the offending token (1 for a whole line) */
    char msg[160];     /* the reason, NUL-terminated */
};

/* Every problem met while parsing. */
struct conf_diags {
    struct conf_diag d[CONF_DIAGS_MAX]; /* the first CONF_DIAGS_MAX, in order */
    size_t n;                           /* how many are in d[] */
    size_t errors;                      /* errors in total (also those not kept) */
    size_t warnings;                    /* warnings in total */
};

/* Empties *d. */
void conf_diags_init(struct conf_diags *d);

/* Writes "file:line:col: error: msg" (or "warning") into buf[cap], NUL-terminated and cut to
 * fit; returns the length written. A problem with the file as a whole (it cannot be read)
 * has line 0 and col 0. */
size_t conf_diag_format(const struct conf_diag *g, char *buf, size_t cap);

/* ----- life cycle -------------------------------------------------------------------------
 */

/* Makes *c (whatever it held: nothing is freed) an empty configuration with NTPsec's
 * defaults for every knob (no servers, no rules, kernel/monitor/ntp/stats enabled, no
 * include_fn). Call before conf_parse_*. */
void conf_init(struct conf *c);

/* Makes *c (conf_init first, nothing freed) the built-in configuration used when no file
 * is given: the public pool
 * 2.debian.pool.ntp.org iburst, and rules that serve time to all and answer queries only from
 * localhost ("restrict default kod limited nomodify noquery", "restrict 127.0.0.1",
 * "restrict ::1"). Returns 0 or NTK_ENOMEM. */
int conf_default(struct conf *c);

/* Releases what *c owns and leaves it as conf_init does (include_fn kept). */
void conf_free(struct conf *c);

/* Parses len bytes of text named name (used in messages) into *c, appending to what is there.
 * includefile goes to c->include_fn, or is an error when that is NULL. Every problem is added
 * to *d. Returns 0 when no error was found, NTK_EFORMAT otherwise (the good lines are
 * applied), NTK_ENOMEM when memory ran out. */
int conf_parse_text(struct conf *c, const char *name, const char *text, size_t len,
                    struct conf_diags *d);

/* Reads the file at path and parses it as conf_parse_text does, following includefile to
 * files and to directories (their *.conf files in name order) up to CONF_INCLUDE_MAX levels,
 * refusing a file that includes itself through any chain. Relative include paths are taken
 * from the including file's directory. Returns 0, NTK_ENOTFOUND when path cannot be read,
 * NTK_EFORMAT when any error was found, NTK_ENOMEM. */
int conf_parse_file(struct conf *c, const char *path, struct conf_diags *d);

/* True when trustedkey listed key id. */
bool conf_key_trusted(const struct conf *c, uint32_t id);

#endif /* NTK_CONF_H */
