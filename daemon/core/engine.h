/* SPDX-License-Identifier: BSD-2-Clause */
/* The sans-IO NTP engine (ARCHITECTURE.md "The sans-IO core"): the whole client side of
 * ntpd, driven by its caller.
 *
 * The caller (daemon/io in ntpd, tests/sim in the simulator) owns every system call. It
 *   - hands the engine the time on every call (struct eng_now: CLOCK_REALTIME and
 *     CLOCK_MONOTONIC), the datagrams that arrive, and the results of name lookups;
 *   - calls eng_on_timer() when eng_next_deadline() has passed;
 *   - after every call, drains eng_pop_action() and does what each action says (send a
 *     datagram, resolve a name, log an event, exit).
 * The engine reads no clock and opens no socket. It adjusts the clock only through the
 * struct ntk_clk_ops it was given, and draws random numbers only through struct eng_rng.
 * So the simulator runs it against a simulated clock and network, deterministically.
 *
 * Units: times on the monotonic axis are int64 nanoseconds (*_mono_ns); offsets, delays and
 * dispersions are double seconds (*_s); frequencies double ppm (*_ppm); polls log2 seconds.
 */
#ifndef NTK_ENGINE_H
#define NTK_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ntk/addr.h"
#include "ntk/clk.h"
#include "ntk/mac.h"
#include "ntk/pkt.h"
#include "ntk/sntp.h"

/* The time, as the caller read it just before the call. */
struct eng_now {
    struct timespec real; /* CLOCK_REALTIME: the clock being disciplined */
    int64_t mono_ns;      /* CLOCK_MONOTONIC: timers, ages (never stepped) */
};

/* Randomness (request nonces, poll jitter). The simulator passes a seeded generator. */
struct eng_rng {
    void *ctx;                                      /* passed back */
    void (*bytes)(void *ctx, uint8_t *p, size_t n); /* fills p[0..n) */
};

/* Where a receive timestamp came from (counted; kernel stamps are better). */
enum eng_rx_src {
    ENG_RX_KERNEL = 0, /* SO_TIMESTAMPING / SO_TIMESTAMPNS */
    ENG_RX_USER = 1,   /* read in user space right after the receive */
};

/* Defaults of a server line. */
#define ENG_MINPOLL_DEFAULT 6  /* 64 s */
#define ENG_MAXPOLL_DEFAULT 10 /* 1024 s */
/* A server's shortest poll (2 s): NTPsec takes minpoll 0 but sends its requests 2 s apart at
 * least. */
#define ENG_POLL_MIN 1
/* The discipline's shortest poll (8 s); a server line's maxpoll below it still fixes that
 * server's poll. */
#define ENG_DISC_POLL_MIN 3
#define ENG_POLL_MAX      17 /* the longest (36 h) */

/* Most associations (servers plus pool members) and most pool lines. */
#define ENG_SERVERS_MAX 64
#define ENG_POOLS_MAX   8
/* eng_snap's most entries: the associations and, as NTPsec lists them, the pool lines. */
#define ENG_SNAP_MAX (ENG_SERVERS_MAX + ENG_POOLS_MAX)

/* One `server` / `peer` / `pool` line. Zero-initialise, then set what the line says;
 * eng_server_defaults() gives NTPsec's defaults. */
struct eng_server_cfg {
    struct ntk_addr addr;    /* the server's address; port 0 means 123 */
    char name[256];          /* the name it was resolved from ("" for an address) */
    int8_t minpoll_log2;     /* minpoll (ENG_POLL_MIN..ENG_POLL_MAX) */
    int8_t maxpoll_log2;     /* maxpoll (>= minpoll) */
    bool iburst;             /* a burst of requests 2 s apart while unreachable (start-up) */
    bool burst;              /* a burst at every poll while reachable */
    bool prefer;             /* preferred by the selection (RFC 5905 §11.2.3) */
    bool noselect;           /* polled and shown, never selected */
    bool true_;              /* `true`: never declared a falseticker */
    uint32_t key_id;         /* symmetric key (`key N`); 0 = none */
    double bias_s;           /* `bias X`: added to every offset from this server (NTPsec) */
    uint8_t version;         /* `version N`: the NTP version of the requests (0: 4) */
    bool from_pool;          /* spawned by a pool line: replaced when it becomes useless */
    bool nts;                /* `nts`: NTS-KE, then NTS-authenticated requests (key_id must
                                be 0); the address is the NTS-KE server's */
    uint16_t nts_port;       /* the NTS-KE port (0: 4460) */
    struct ntk_addr nts_ask; /* `ask ADDR[:PORT]`: the NTS-KE server when it is not the NTP
                                server (family 0: addr; port 0: nts_port) */
};

/* Fills *c with NTPsec's defaults for a server line (minpoll 6, maxpoll 10, all flags off). */
void eng_server_defaults(struct eng_server_cfg *c);

/* The `tos` knobs (NTPsec's names and defaults). */
struct eng_tos {
    int minclock;        /* survivors the cluster algorithm keeps at least (3) */
    int maxclock;        /* associations a pool grows to (10) */
    int minsane;         /* truechimers needed to synchronise (1) */
    double mindist_s;    /* minimum distance of the intersection (0.001 s) */
    double maxdist_s;    /* distance threshold: farther sources are not selectable (1.5 s) */
    int orphan;          /* orphan stratum; 16 = orphan mode off */
    double orphanwait_s; /* wait before going orphan (300 s) */
    int floor;           /* a server of a lower stratum is not selectable (1) */
    int ceiling;         /* nor one of this stratum or higher (15; NTPsec caps it at 15) */
};

/* The `tinker` knobs that mean something here (NTPsec's names and defaults). */
struct eng_tinker {
    double step_s;    /* step threshold (0.128 s; 0 = never step after start-up) */
    double stepout_s; /* how long an offset beyond the step threshold must last (300 s) */
    double panic_s;   /* panic threshold (1000 s; 0 = no panic check) */
    double phi_ppm;   /* frequency tolerance (15 ppm) */
};

/* What the daemon's command line and ntp.conf say about the engine as a whole. */
struct eng_cfg {
    struct eng_tos tos;
    struct eng_tinker tinker;
    int8_t precision_log2;   /* the local clock's precision, measured by the caller */
    bool observe;            /* --observe: compute and serve, never call the clock */
    bool panic_once;         /* -g: the first offset may exceed the panic threshold */
    bool force_step_once;    /* -G: the first correction is a step, whatever its size */
    bool once;               /* -q: set the clock once, then ENG_ACT_EXIT */
    bool have_freq;          /* initial_freq_ppm is known (drift file) */
    double initial_freq_ppm; /* frequency from the drift file */
};

/* Fills *c with NTPsec's defaults (tos and tinker as above, precision -20, flags off). */
void eng_cfg_defaults(struct eng_cfg *c);

/* What the caller must do. */
enum eng_act_kind {
    ENG_ACT_SEND = 1, /* send pkt[0..len) to remote (from any local address) */
    ENG_ACT_RESOLVE,  /* look up name; answer with eng_on_resolved() */
    ENG_ACT_EVENT,    /* log event (the engine never logs itself) */
    ENG_ACT_EXIT,     /* -q: done; exit with status `value` (0 ok, 1 failed) */
    ENG_ACT_NEED_KE,  /* run NTS-KE for assoc_id with the server at remote (the NTS-KE
                         port), named text (SNI and certificate name; the address as text
                         when the line gave one); answer with eng_on_ke_result() */
};

/* Things worth a log line (NTPsec's event names where it has one). */
enum eng_event {
    ENG_EV_SYNC = 1,     /* synchronised to a source (assoc_id) */
    ENG_EV_UNSYNC,       /* lost synchronisation */
    ENG_EV_STEP,         /* stepped the clock by value seconds */
    ENG_EV_PANIC,        /* offset value beyond the panic threshold: not corrected */
    ENG_EV_FREQ,         /* frequency set to value ppm (start-up estimate; text "ntpd": the
                            loop that takes it, as NTPsec's freq_set names it) */
    ENG_EV_KOD,          /* kiss-o'-death from assoc_id (text: the code) */
    ENG_EV_UNREACH,      /* assoc_id became unreachable */
    ENG_EV_REACH,        /* assoc_id became reachable */
    ENG_EV_LEAP_ARMED,   /* a leap second was scheduled (value +1 insert / -1 delete; text:
                            when and why; assoc_id: the system peer when the servers voted
                            it, else 0) */
    ENG_EV_CLOCK_ERROR,  /* a clock call failed (value = -errno, text: which call) */
    ENG_EV_CLOCK_UPDATE, /* the discipline took an offset (value: it; the statistics file
                            loopstats reads the rest from eng_snap) */
    ENG_EV_PEER_UPDATE,  /* assoc_id accepted a sample (value: its offset; peerstats) */
    ENG_EV_RAW,          /* assoc_id answered an outstanding request (the origin matched),
                            whatever became of the sample, or a reply came from its server
                            that did not, the first since our last request (NTPsec 1.2.2
                            logs that one too): `raw` has the exchange (rawstats), remote
                            the server's address as it came */
    ENG_EV_NTS_REFUSED,  /* NTS refused a reply to assoc_id's request (text: the
                            ntk_nts_verdict_name; "nak": NTS-KE again) */
    ENG_EV_RESTART,      /* the engine started (NTPsec "restart"; after the frequency event) */
    ENG_EV_FREQ_NOT_SET, /* no frequency to start from: no drift file (NTPsec
                            "freq_not_set") */
    ENG_EV_MOBILIZE,     /* assoc_id was created (NTPsec "mobilize") */
    ENG_EV_DEMOBILIZE,   /* pool member assoc_id was dropped (NTPsec "demobilize"; text:
                            "timeout" or "kiss"; remote: its address; value: 1 if
                            it ever answered) */
    ENG_EV_LEAP_DISARMED, /* the scheduled leap second went away (value +1 / -1) */
    ENG_EV_LEAP,          /* the scheduled leap second has passed (value +1 / -1) */
    ENG_EV_LEAP_FILE,     /* a leap-seconds file was taken (NTPsec's TAI event; value: its last
                             TAI - UTC; text "37 leap 2017-01-01T00:00Z expires ...") */
};

/* An exchange as NTPsec's rawstats reports it: our four timestamps (t1 the kernel's transmit
 * time when there was one, else the time the request was built; t4 the receive time) and
 * the reply's header. */
struct eng_raw {
    ntk_ts t1, t2, t3, t4; /* origin (ours), receive, transmit (the server's), destination */
    uint8_t leap, version, mode, stratum; /* from the reply */
    int8_t poll_log2, precision_log2;     /* from the reply */
    double root_delay_s, root_disp_s;     /* from the reply */
    uint32_t refid;                       /* wire bytes, big-endian */
    uint32_t lost;    /* our requests before the one answered that had no answer */
    uint32_t dropped; /* replies from the server since our last request that did not
                         answer it (this one included when it is one of them) */
    uint32_t flash;   /* 0: an accepted sample; else why it was not used (enum snap_flash:
                         a refused reply, or the one ignored; t1 is then its origin field) */
};

/* The longest datagram the engine sends: an NTS request whose cookie and placeholders would
 * not fit gets fewer placeholders (1280: IPv6's minimum MTU, never fragmented). */
#define ENG_PKT_MAX 1280

/* One action. pkt is valid for SEND, name for RESOLVE, text for EVENT and NEED_KE. */
struct eng_action {
    enum eng_act_kind kind;
    uint32_t assoc_id;        /* the association concerned, 0 if none */
    struct ntk_addr remote;   /* SEND: destination (with port); NEED_KE: the KE server */
    uint8_t pkt[ENG_PKT_MAX]; /* SEND: the datagram */
    size_t len;               /* SEND: its length */
    enum eng_event event;     /* EVENT */
    double value;             /* EVENT / EXIT */
    char text[256];           /* RESOLVE: the name; EVENT: detail */
    struct eng_raw raw;       /* EVENT ENG_EV_RAW: the exchange */
};

/* Room in the action queue; when it is full the oldest EVENTs are dropped first, and
 * eng_snap's counters say so. Every eng_on_* call produces at most a few actions. */
#define ENG_ACTIONS_MAX 256

/* The engine. */
struct eng;

/* Creates an engine. clk and rng are borrowed and must outlive it; keys may be NULL (no
 * authentication) and is borrowed too. Returns NULL when out of memory. */
struct eng *eng_new(const struct eng_cfg *cfg, const struct ntk_clk_ops *clk,
                    const struct eng_rng *rng, struct ntk_mac_keys *keys,
                    const struct eng_now *now);

/* Frees an engine (NULL is fine). */
void eng_free(struct eng *e);

/* Adds an association for one server. Returns its id (>= 1), or a negative enum ntk_err:
 * NTK_EINVAL for a bad config (poll range, key id not in the keys), NTK_ENOSPC when the
 * association table is full. The first poll is scheduled at once (iburst) or within a
 * random part of minpoll. */
int eng_add_server(struct eng *e, const struct eng_server_cfg *c, const struct eng_now *now);

/* Adds a pool: queues ENG_ACT_RESOLVE for c->name; the associations come with
 * eng_on_resolved(). Returns 0 or a negative enum ntk_err. */
int eng_add_pool(struct eng *e, const struct eng_server_cfg *c, const struct eng_now *now);

/* The addresses a name resolved to (n may be 0: the lookup failed, and is retried with
 * backoff through a later ENG_ACT_RESOLVE). */
void eng_on_resolved(struct eng *e, const char *name, const struct ntk_addr *addrs, size_t n,
                     const struct eng_now *now);

/* One datagram that arrived on a client socket: bytes buf[0..len) from remote to local,
 * received at rx (CLOCK_REALTIME) by src. Anything may arrive; only a reply to an
 * outstanding request of the association with that remote address can affect the clock. */
void eng_on_packet(struct eng *e, const struct eng_now *now, const uint8_t *buf, size_t len,
                   const struct ntk_addr *remote, const struct timespec *rx,
                   enum eng_rx_src src);

/* Runs whatever is due at now (polls, the discipline's slew ends, timeouts). */
void eng_on_timer(struct eng *e, const struct eng_now *now);

/* When eng_on_timer should next be called, on the monotonic axis (INT64_MAX: never). */
int64_t eng_next_deadline(const struct eng *e);

/* Uses tab (borrowed: the caller keeps it alive and calls again after a reload; NULL
 * forgets it) as the leap-seconds file (NTPsec's `leapfile`). While it is not expired it
 * decides the leap seconds and the servers' leap bits are not needed; without a table, or
 * once it has expired, the servers' bits schedule one for the end of the month (eng_leap.c
 * has the rules). A table with entries yields ENG_EV_LEAP_FILE (now_unix_s: for its
 * "expired"). */
struct ntk_leap_table;
void eng_set_leap_table(struct eng *e, const struct ntk_leap_table *tab, int64_t now_unix_s);

/* Takes the oldest pending action into *out. Returns false when there is none. */
bool eng_pop_action(struct eng *e, struct eng_action *out);

/* ---- txts: kernel transmit timestamps ---- */

/* The kernel's transmit time tx (CLOCK_REALTIME, e.g. SO_TIMESTAMPING's software stamp) of
 * the request association assoc_id sent with nonce[0..8) in its transmit field (bytes 40..47
 * of the ENG_ACT_SEND datagram). It becomes T1 of that exchange when the request is still
 * outstanding, it is the one with that nonce, and tx is not before the time the request was
 * built (the eng_now of the call that queued it) nor more than a few seconds after;
 * otherwise it is ignored. Counted either way (snap_counters tx_kernel_ts, tx_ts_ignored).
 * Optional: without it T1 is the build time. Call it before handing the engine the reply
 * (read the error queue before the data). */
void eng_on_sent(struct eng *e, uint32_t assoc_id, const uint8_t nonce[8],
                 const struct timespec *tx);

/* ---- eng_names.c: server names ---- */

/* Moves association id to addr (a `server NAME` whose name now resolves elsewhere): the
 * association starts afresh there (filter, reach and poll reset; the first poll as for a
 * new server) under the same id and configuration. addr->port 0 keeps the current port.
 * Returns 0; NTK_ENOTFOUND for no such association; NTK_EINVAL for an address that is not
 * IPv4/IPv6 or that another association already polls. */
int eng_set_server_addr(struct eng *e, uint32_t id, const struct ntk_addr *addr,
                        const struct eng_now *now);

/* ---- logstats: SIGHUP re-reads the keys file ---- */

/* Replaces the symmetric keys the engine borrows by keys (borrowed too; NULL: none) and
 * returns the set it used until now, which the caller may free once nothing else uses it
 * (the engine keeps no other reference: requests and replies are signed and checked inside
 * the calls). An association whose `key` is not in the new set gets no request out (each
 * poll reports ENG_EV_CLOCK_ERROR) until a set holding it comes. */
struct ntk_mac_keys *eng_set_keys(struct eng *e, struct ntk_mac_keys *keys);

/* ---- NTS (ntsc.h): NTS-KE results ---- */

/* What an NTS-KE exchange gave (ok) or why it failed. Pointers are borrowed for the call. */
struct ntk_ke_cookie;
struct eng_ke_result {
    bool ok;                  /* keys and at least one cookie */
    uint16_t aead;            /* the negotiated AEAD */
    const uint8_t *c2s, *s2c; /* the exported keys, key_len bytes each */
    size_t key_len;
    const struct ntk_ke_cookie *cookies; /* the cookies */
    size_t n_cookies;
    struct ntk_addr ntp; /* where to send NTP: family 0 keeps the
                            association's address; port 0 means 123 */
};

/* The answer to ENG_ACT_NEED_KE for association assoc_id (ignored when it no longer
 * exists). On success the association moves to r->ntp (when given; refused if another
 * association polls that address), keeps its keys and cookies and polls at once; on failure
 * NTS-KE is retried with backoff (ntsc.h). */
void eng_on_ke_result(struct eng *e, uint32_t assoc_id, const struct eng_ke_result *r,
                      const struct eng_now *now);

/* ---- refclocks (refclk.h, eng_refclock.c; issue 12) ----
 *
 * A reference clock is an association without a network peer: the caller (daemon/io's
 * drivers, or the simulator) reads the device (an SHM segment gpsd writes, chrony's SOCK
 * protocol, an RFC 2783 PPS device) and hands every sample to the engine, which keeps them
 * in a median filter (refclk.h) and, at each poll of the association (2^hpoll s), turns what
 * arrived since the last poll into one clock-filter sample: offset = the filter's trimmed
 * mean, delay 0, dispersion from the sample's precision plus the filter's jitter, stratum
 * the configured one (0: the server is stratum 1), refid the configured one. A poll with no
 * sample shifts a 0 into reach and counts `noreply` (NTPsec's clock status clk_noreply).
 *
 * PPS: a sample carries only the local time of the pulse's edge (ref zero). It numbers no
 * second, so the engine takes the offset to the nearest whole second, and only while the
 * system is synchronised to another source (the prefer peer when there is one, NTPsec's rule)
 * whose offset is within ENG_PPS_LOCK_S; otherwise the sample is refused and counted for want
 * of a second (not as an error of the device). When the PPS
 * association survives the selection with a prefer peer among the survivors it becomes the
 * system peer with tally 'o' (SNAP_TALLY_PPSPEER; NTPsec's PPS peer).
 *
 * Mode 6 shows a refclock as NTPsec does: srcadr 127.127.TYPE.UNIT, srchost "NAME(UNIT)",
 * and its clock variables (READCLOCK, ntpq's `cv`): name, device, timecode, poll, noreply,
 * badformat, baddata, fudgetime1, fudgetime2, stratum, refid, flags. */

/* The drivers, by NTPsec's type numbers (the third octet of 127.127.t.u). SOCK is chrony's
 * protocol (gpsd and ntpd-rs speak it), which NTPsec lacks: 47 is a number no NTPsec driver
 * uses. */
enum eng_rc_type {
    ENG_RC_PPS = 22,  /* "PPS": RFC 2783 kernel PPS (/dev/ppsN) */
    ENG_RC_SHM = 28,  /* "SHM": the ntpd shared-memory segment (key 0x4e545030 + unit) */
    ENG_RC_SOCK = 47, /* "SOCK": chrony's refclock socket (struct sock_sample datagrams) */
};

/* A PPS sample is numbered only while the system clock is within this of the second. */
#define ENG_PPS_LOCK_S 0.4

/* One `refclock` line, as the caller parsed it. Zero-initialise, then
 * eng_refclock_defaults() for NTPsec's defaults. */
struct eng_refclock_cfg {
    enum eng_rc_type type;
    uint8_t unit;          /* `unit N` (0..255) */
    char refid[5];         /* `refid` (1..4 characters; "" = the driver's: "SHM", "PPS",
                              "SOCK"), sent as our refid when we are stratum 1 */
    uint8_t stratum;       /* `stratum` (0..15): the refclock's; we are one above */
    double time1_s;        /* `time1`: added to every sample's offset (SHM, SOCK: the
                              receiver's delay; PPS: the pulse's offset) */
    double time2_s;        /* `time2`: driver-specific, shown in cv (fudgetime2) */
    int8_t minpoll_log2;   /* `minpoll` (default 4, as NTPsec's refclocks: 16 s) */
    int8_t maxpoll_log2;   /* `maxpoll` (default 4); hpoll stays between them */
    int8_t precision_log2; /* the driver's precision (default -20 ~ 1 µs; SHM samples may
                              bring their own) */
    bool prefer, noselect; /* as on a server line */
    bool true_;            /* `true`: never declared a falseticker (as on a server line) */
    uint8_t flags;         /* flag1..flag4 as bits 0..3 (driver-specific; shown in cv) */
    char device[64];       /* shown in cv `device` ("SHM/Shared memory interface") */
};

/* Fills *c with the defaults for driver type at unit (refid "", stratum 0, fudges 0,
 * minpoll = maxpoll = 4, precision -20, device the driver's description). */
void eng_refclock_defaults(struct eng_refclock_cfg *c, enum eng_rc_type type, uint8_t unit);

/* Adds a refclock association. Returns its id (>= 1), or a negative enum ntk_err:
 * NTK_EINVAL for a bad config (poll range, stratum, a second refclock with the same type and
 * unit), NTK_ENOSPC when the association table is full. */
int eng_add_refclock(struct eng *e, const struct eng_refclock_cfg *c,
                     const struct eng_now *now);

/* One sample from a refclock. */
struct eng_rc_sample {
    struct timespec ref;   /* the reference's time of the event (UTC); PPS: zero */
    struct timespec local; /* CLOCK_REALTIME when the event was seen (SHM's receive time,
                              SOCK's tv, PPS's assert or clear time) */
    enum ntk_leap leap;    /* the reference's leap indicator (NTK_LEAP_NONE if unknown) */
    int8_t precision_log2; /* this sample's precision; 0: the association's */
    char timecode[64];     /* the raw text for cv `timecode` ("" if none) */
};

/* Why a driver could not produce a sample (counted; cv's noreply / badformat / baddata, and
 * the association's clock status). */
enum eng_rc_fault {
    ENG_RC_NOREPLY = 1, /* nothing new from the device when it was read */
    ENG_RC_BADFORMAT,   /* a record that does not parse (a bad mode, magic, size) */
    ENG_RC_BADDATA,     /* a record that parses but is not believable (invalid flag, a
                           count that changed while reading, a wild value) */
};

/* A sample for refclock association id. Returns 0 when it went into the median filter;
 * NTK_ENOTFOUND (no such refclock); NTK_ERANGE when refused: its offset is beyond the
 * panic threshold of the system clock, or a PPS edge cannot be numbered (counted apart from
 * device faults). */
int eng_on_refclock_sample(struct eng *e, uint32_t id, const struct eng_rc_sample *s,
                           const struct eng_now *now);

/* A fault of refclock association id's device (ignored for an unknown id). */
void eng_on_refclock_fault(struct eng *e, uint32_t id, enum eng_rc_fault f);

#endif /* NTK_ENGINE_H */
