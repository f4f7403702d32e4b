/* SPDX-License-Identifier: BSD-2-Clause */
/* The engine's state, shared by its parts: engine.c (queue, creation), eng_assoc.c
 * (associations, pools, packets, timers), eng_sys.c (selection, system variables, the
 * discipline) and eng_snap.c (the report). Not for use outside daemon/core. */
#ifndef NTK_ENGINE_INTERNAL_H
#define NTK_ENGINE_INTERNAL_H

#include "assoc.h"
#include "disc.h"
#include "engine.h"
#include "refclk.h"
#include "select.h"
#include "snap.h"

/* Most associations (servers plus pool members); the selection's limit. */
#define ENG_ASSOC_MAX SEL_MAX
_Static_assert(ENG_ASSOC_MAX == ENG_SERVERS_MAX, "engine.h's ENG_SERVERS_MAX is out of date");

/* Most pool lines. */
#define ENG_POOL_MAX ENG_POOLS_MAX

/* Name lookups that failed are retried after this, doubling up to ENG_RESOLVE_MAX_S. */
#define ENG_RESOLVE_MIN_S 16
#define ENG_RESOLVE_MAX_S 3600

/* Pools, as NTPsec's: every pool line counts as one association against tos maxclock (NTPsec
 * lists it, as the ".POOL." row), and so do servers, pool members and refclocks. A pool
 * resolves its name again every ENG_POOL_POLL_S while there are fewer associations than
 * maxclock, or fewer survivors than minclock and at most twice maxclock associations, and
 * takes every new address of the answer (up to twice maxclock). A member the selection has
 * not kept for ENG_POOL_DROP_POLLS polls (unanswered, unfit, a falseticker or an outlier) is
 * dropped while there are more associations than maxclock, the least useful first; one
 * refused by a kiss DENY or RSTR at once. */
#define ENG_POOL_DROP_POLLS 10
#define ENG_POOL_POLL_LOG2  8
#define ENG_POOL_POLL_S     (1 << ENG_POOL_POLL_LOG2)

/* Most refclocks (each also takes an association slot). */
#define ENG_RC_MAX 16

/* The shortest refclock poll (1 s, as NTPsec's; a network server's is ENG_POLL_MIN). */
#define ENG_RC_POLL_MIN 0

/* One refclock (eng_refclock.c): the driver's side of its association. */
struct eng_rc {
    uint32_t id;                 /* its association */
    struct eng_refclock_cfg cfg; /* the line (refid filled in with the driver's) */
    struct rc_filter filt;       /* samples since the last poll */
    enum ntk_leap leap;          /* the last sample's leap indicator */
    int8_t precision_log2;       /* the last sample's precision */
    char timecode[64];           /* the last sample's raw text */
    ntk_ts reftime;              /* the last sample's reference time (PPS: the edge) */
    bool noreply_counted;        /* noreply already counted in this poll interval */
    uint64_t polls;              /* polls made (cv `poll`) */
    uint64_t noreply;            /* poll intervals without a sample (cv `noreply`) */
    uint64_t badformat, baddata; /* faults reported (cv) */
    uint64_t samples;            /* samples taken into the median filter */
    uint64_t refused_range;      /* samples refused: beyond the panic threshold */
    uint64_t refused_pps;        /* PPS edges refused: no second to number them */
    uint8_t status;              /* enum ntk_ctl_clk: the current clock status */
    uint8_t lastevent;           /* the last clock event code (enum ntk_ctl_clk) */
    char tally;                  /* PPS: its fate in the PPS rule (enum snap_tally) */
};

/* One pool line. */
struct eng_pool {
    uint32_t id;                  /* its row in the associations (NTPsec's pool prototype) */
    struct snap_events events;    /* its peer events (mobilize) */
    struct eng_server_cfg tmpl;   /* the line; tmpl.name is the name to resolve */
    bool resolving;               /* an ENG_ACT_RESOLVE is out */
    int64_t next_resolve_mono_ns; /* when to ask again (INT64_MAX: a lookup is out) */
    int backoff_s;                /* current retry delay after a failed lookup */
};

/* Leap-second state (eng_leap.c). */
struct eng_leap {
    int64_t dyn_when;         /* a leap the servers voted: its instant (Unix s), 0 none */
    int dyn_delta;            /* ... +1 insert, -1 delete */
    int64_t sched_when;       /* the leap reported scheduled (leap_armed), 0 none */
    int sched_delta;          /* ... +1 / -1 */
    int armed;                /* +1 / -1 / 0, as told to the clock */
    int64_t deadline_mono_ns; /* when eng_leap_tick must run next, INT64_MAX: no need */
};

struct eng {
    struct eng_cfg cfg;
    const struct ntk_clk_ops *clk;
    struct eng_rng rng;
    struct ntk_mac_keys *keys;
    int64_t start_mono_ns;
    /* associations, in creation order; ids are never reused */
    struct assoc assoc[ENG_ASSOC_MAX];
    size_t nassoc;
    uint32_t next_id;
    struct eng_pool pool[ENG_POOL_MAX];
    size_t npool;
    /* refclocks, in creation order (eng_refclock.c) */
    struct eng_rc rc[ENG_RC_MAX];
    size_t nrc;
    bool pps_peer; /* the system peer is a PPS refclock chosen by the PPS rule */
    /* selection and system state */
    struct sel_result sel;     /* the last selection */
    uint32_t sel_ids[SEL_MAX]; /* the association id of each candidate of `sel` */
    size_t nsel;
    struct snap_system sys;
    int64_t unsync_since_mono_ns;            /* for orphan mode */
    struct eng_leap leap;                    /* eng_leap.c */
    const struct ntk_leap_table *leap_table; /* eng_set_leap_table (borrowed), or NULL */
    struct disc disc;
    bool exited; /* ENG_ACT_EXIT was queued */
    struct snap_counters ctr;
    /* NTS client (eng_nts.c): scratch key objects re-keyed per use (NULL: no AES-SIV in
       this OpenSSL, NTS associations never get a request out), and the counters of every
       association, removed ones included */
    struct ntk_aead_key *nts_c2s, *nts_s2c;
    struct ntsc_stats nts_st;
    /* actions: a ring */
    struct eng_action act[ENG_ACTIONS_MAX];
    size_t act_head, nact;
};

/* Appends a zeroed action of this kind and returns it for the caller to fill; when the
 * queue is full the oldest EVENT is dropped to make room, and NULL is returned only if there
 * is none (counted in actions_dropped). */
struct eng_action *eng_push(struct eng *e, enum eng_act_kind kind, uint32_t assoc_id);

/* Queues an event action. */
void eng_event(struct eng *e, enum eng_event ev, uint32_t assoc_id, double value,
               const char *text);

/* Records event ev (of association assoc_id, 0 for the system) in the status-word histories
 * (e->sys.events, the association's events) as NTPsec's report_event would: called by
 * eng_event before the action is queued (eng_snap.c). */
void eng_note_event(struct eng *e, enum eng_event ev, uint32_t assoc_id, const char *text);

/* 32 random bits from the engine's rng. */
uint32_t eng_rand32(struct eng *e);

/* Queues ENG_ACT_EXIT once. */
void eng_exit(struct eng *e, int status);

/* The association with this id, or NULL. */
struct assoc *eng_assoc_by_id(struct eng *e, uint32_t id);

/* Runs the selection after a new sample from association `from`, updates the system
 * variables and, when the system peer has a new sample, the discipline (eng_sys.c). */
void eng_clock_select(struct eng *e, const struct eng_now *now, uint32_t from);

/* Periodic system work: orphan mode, losing the system peer (eng_sys.c). */
void eng_sys_timer(struct eng *e, const struct eng_now *now);

/* Leap seconds (eng_leap.c has the rules). eng_leap_on_update at each clock update (the
 * servers' vote, then as eng_leap_tick); eng_leap_tick at every timer pass: the events, the
 * announced leap in sys.leap (untouched while it is NTK_LEAP_UNSYNC) and the kernel's arming;
 * it sets leap.deadline_mono_ns to when it must run next. */
void eng_leap_on_update(struct eng *e, const struct eng_now *now);
void eng_leap_tick(struct eng *e, const struct eng_now *now);

/* When eng_sys_timer has work of its own (orphan mode to enter, a leap-second boundary),
 * INT64_MAX if none. */
int64_t eng_sys_deadline(const struct eng *e);

/* The loop-test view of the system for assoc_receive. */
struct assoc_sys eng_assoc_sys(const struct eng *e);

/* ---- eng_refclock.c ---- */

/* The refclock of association id, or NULL. */
struct eng_rc *eng_rc_by_id(struct eng *e, uint32_t id);
const struct eng_rc *eng_rc_by_id_const(const struct eng *e, uint32_t id);

/* A due poll of refclock association a: the median filter's result into the clock filter
 * (or a noreply), reach, events, the next poll, and the selection on a new sample. */
void eng_refclock_poll(struct eng *e, const struct eng_now *now, struct assoc *a);

/* The clock was stepped by step_s: the samples waiting in the median filters shift. */
void eng_refclock_on_step(struct eng *e, double step_s);

/* True when a is a PPS refclock (the PPS rule chooses it; it takes no part in the
 * selection proper). */
bool eng_is_pps(const struct assoc *a);

/* assoc_selectable with the engine's tos maxdist, and for a server its stratum within tos
 * floor..ceiling-1. */
bool eng_selectable(const struct eng *e, const struct assoc *a, int64_t now_mono_ns);

/* NTPsec's PPS peer rule after select_run: when a prefer peer survived, the combined offset
 * is within ENG_PPS_LOCK_S and a PPS refclock is selectable and agrees with the prefer peer,
 * that refclock becomes the system peer with its own offset and jitter (e->sel's offset and
 * jitter are replaced). Returns its id, or peer_id (the selection's system peer) when the
 * rule does not apply; sets e->pps_peer and each PPS refclock's tally. */
uint32_t eng_pps_rule(struct eng *e, const struct eng_now *now, uint32_t peer_id);

/* The refclock fields of a's report (a is a refclock). */
void eng_refclock_snap(const struct eng *e, const struct assoc *a, struct snap_assoc *s);

/* ---- eng_nts.c ---- */

/* Creates the scratch key objects (eng_new) and frees them (eng_free). */
void eng_nts_init(struct eng *e);
void eng_nts_free(struct eng *e);

/* A poll of an NTS association that cannot send yet: asks for NTS-KE when ntsc_want_ke, and
 * looks again later. */
void eng_nts_wait(struct eng *e, const struct eng_now *now, struct assoc *a);

/* Appends the NTS fields to the request of hdr_len bytes that assoc_poll built in
 * pkt[0..cap). Returns the new length or a negative enum ntk_err. */
int eng_nts_request(struct eng *e, struct assoc *a, uint8_t *pkt, size_t cap, size_t hdr_len);

/* Adds what changed between two readings of an association's NTS counters to the engine's. */
void eng_nts_account(struct eng *e, const struct ntsc_stats *before,
                     const struct ntsc_stats *after);

#endif /* NTK_ENGINE_INTERNAL_H */
