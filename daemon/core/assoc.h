/* SPDX-License-Identifier: BSD-2-Clause */
/* One client-mode association (RFC 5905 §9, §13; RFC 8633): when to poll, what to send,
 * which replies to believe, and what they measured.
 *
 * Requests are data-minimised (ntk_sntp_request: a random transmit timestamp that the reply
 * must echo), so the origin test is a 64-bit nonce check and a step of the local clock never
 * breaks it. Once a reply is accepted the nonce is forgotten: a duplicate of it fails the
 * origin test (RFC 5905 TEST1/TEST2 in one).
 *
 * Poll scheduling:
 *  - hpoll starts at minpoll and moves between minpoll and maxpoll as the engine says
 *    (assoc_set_poll: the discipline's poll, clamped to the association's range);
 *  - iburst: while the source is unreachable (reach == 0: at start-up and after an outage),
 *    every poll is a burst of
 *    ASSOC_BURST requests ASSOC_BURST_GAP_S apart; burst: the same at every poll while
 *    reachable; the next poll is one interval after the last request of a burst;
 *  - reach is shifted left at every poll (not every request of a burst) and bit 0 set by a
 *    reply that answered our request and passed authentication (RFC 5905 / NTPsec: also
 *    when it is then refused for stratum, leap, header, distance or loop: the server is
 *    reachable, just not usable); a kiss-o'-death does not set it;
 *  - unreachable backoff: after 8 polls without a reply (reach == 0) hpoll grows by one per
 *    poll up to maxpoll (RFC 5905 §13 / NTPsec's poll_update); assoc_set_poll cannot lower
 *    it meanwhile, and the next reply brings it back to the engine's poll;
 *  - each interval 2^hpoll is lengthened by a random part of up to 1/32 so that clients do
 *    not synchronise their polls (never shortened: the server's rate limit is respected);
 *  - KoD RATE: hpoll += 1 (at least minpoll + 2, up to maxpoll), which also becomes a floor
 *    assoc_set_poll respects from then on, and the burst in progress ends; DENY / RSTR: the
 *    association stops polling for good (state ASSOC_DENIED). On an association with a key,
 *    a DENY / RSTR without a valid MAC only counts as RATE (an on-path forger can slow us
 *    down, not silence us);
 *  - a KoD counts only when it passed the origin test (ntk_sntp_check's order guarantees it).
 *
 * A reply that answered our request ends it (the nonce is cleared), except one whose MAC
 * fails: the real reply may still come.
 *
 * NTS (cfg.nts, ntsc.h): the engine appends the NTS fields to the request assoc_poll built
 * (ntsc_build); assoc_receive checks every reply that passed the origin test with
 * ntsc_check. Only NTK_NTS_OK makes it authenticated; anything else is treated like a MAC
 * failure (the request stays open, flash TEST5), kiss-o'-death included (RFC 8915 §5.7: an
 * unauthenticated KoD is ignored), except the NAK (our UID, code NTSN), which ends the
 * request and sends the association back to NTS-KE. A reply later than ASSOC_REPLY_TIMEOUT_S
 * is ignored.
 *
 * Reply checks beyond ntk_sntp_check (RFC 5905 §8 TEST8, TEST10, TEST11):
 *  - header: root delay / 2 + root dispersion must be under MAXDISP (16 s), a non-zero
 *    reference time must not be after the transmit time, and the server's processing time
 *    T3 - T2 must be 0..ASSOC_SERVER_MAX_S (ASSOC_RX_HEADER);
 *  - distance: the sample's root distance λ must not exceed tos maxdist (ASSOC_RX_DIST);
 *  - loop, for a server above stratum 1: its refid is our own IPv4 address, or it names the
 *    refid we send (our system peer) while its stratum is not below ours (ASSOC_RX_LOOP).
 */
#ifndef NTK_ASSOC_H
#define NTK_ASSOC_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "filter.h"
#include "ntk/sntp.h"
#include "ntsc.h"
#include "snap.h"

/* Requests in a burst (NTPsec: 6 for iburst, 8 for burst; we use 6 for both), their gap. */
#define ASSOC_BURST       6
#define ASSOC_BURST_GAP_S 2

/* Replies wait this long before a request counts as lost (the next request cancels it). */
#define ASSOC_REPLY_TIMEOUT_S 4

/* The longest a server may hold a request (T3 - T2) for its reply to count (chrony's 4 s). */
#define ASSOC_SERVER_MAX_S 4

/* Life cycle. */
enum assoc_state {
    ASSOC_ACTIVE = 0, /* polling */
    ASSOC_DENIED,     /* a DENY/RSTR kiss: never polled again */
};

/* What assoc_receive made of a datagram. */
enum assoc_rx {
    ASSOC_RX_SAMPLE = 0, /* accepted: its sample went into the filter */
    ASSOC_RX_IGNORED,    /* not a reply to our outstanding request (forgeable): nothing
                            changed but a counter */
    ASSOC_RX_REFUSED,    /* our reply, refused (verdict / flash say why) */
    ASSOC_RX_KOD,        /* our reply, a kiss-o'-death (kiss says which); acted on */
    ASSOC_RX_HEADER,     /* our reply, but an impossible root delay / dispersion */
    ASSOC_RX_DIST,       /* our reply, but too far from the root (maxdist) */
    ASSOC_RX_LOOP,       /* our reply, but a synchronisation loop */
};

/* What the association needs to know about the system to check a reply. */
struct assoc_sys {
    uint32_t our_refid;           /* the refid we send: our system peer's IPv4 address or a
                                     refclock code (0 when unsynchronised) */
    uint32_t our_addr_refid;      /* our own IPv4 address as a refid (0: unknown, test off) */
    uint8_t our_stratum;          /* our stratum (16 when unsynchronised) */
    int8_t precision_log2;        /* the local clock's precision (0 stands for unknown: -20) */
    double maxdist_s;             /* tos maxdist */
    struct ntk_aead_key *nts_s2c; /* scratch key object for NTS replies (NULL: NTS replies
                                     cannot be checked and are refused) */
};

/* One association. Read the fields; change them only through the functions. */
struct assoc {
    uint32_t id;               /* >= 1 */
    struct eng_server_cfg cfg; /* the server line (a refclock: addr 127.127.type.unit:123,
                                  name "SHM(0)", its polls and flags) */
    bool refclock;             /* a reference clock (eng_refclock.c): never sends, its
                                  samples come from eng_on_refclock_sample; stratum 0 is
                                  selectable */
    enum assoc_state state;
    /* polling */
    int8_t hpoll_log2;         /* current poll interval */
    int8_t want_poll_log2;     /* what assoc_set_poll asked for last (minpoll at first) */
    int8_t poll_floor_log2;    /* lowest hpoll allowed: minpoll, raised by KoD RATE */
    uint8_t reach;             /* reachability register */
    unsigned unreach;          /* polls since the last reply */
    unsigned unselected;       /* polls since the selection last kept it (a survivor): what
                                  the engine prunes pool members by (NTPsec's unreach of a
                                  preemptable association) */
    int burst_left;            /* requests left in the current burst */
    bool ever_reached;         /* any reply to our request yet (it set reach) */
    int64_t next_poll_mono_ns; /* when assoc_due becomes true */
    /* the request in flight */
    bool outstanding;        /* a request awaits its reply */
    struct ntk_sntp_query q; /* its nonce, T1, key */
    int64_t sent_mono_ns;    /* when it left */
    ntk_ts t1_build;         /* the local clock when it was built (q.t1 unless the kernel's
                                transmit time replaced it) */
    bool t1_kernel;          /* q.t1 is the kernel's transmit time (assoc_on_sent) */
    bool rx_t1_kernel;       /* the last datagram checked was measured with the kernel's T1 */
    /* the last reply's header (valid once ever_reached) */
    struct ntk_pkt last;           /* its header fields */
    bool authenticated;            /* it had a MAC that verified */
    uint32_t flash;                /* enum snap_flash bits of the last reply */
    enum ntk_sntp_verdict verdict; /* ntk_sntp_check's verdict on the last datagram (for
                                      the engine's by-verdict counters) */
    char kiss[5];                  /* last kiss code ("" if none) */
    int64_t last_rx_mono_ns;       /* when the last reply that set reach arrived */
    ntk_ts rec_ts;                 /* our receive time (T4) of the last reply to us */
    struct snap_events events;     /* peer events for the status word (eng_note_event) */
    /* NTS (cfg.nts): keys, cookies, the request's UID, NTS-KE backoff */
    struct ntsc nts;
    /* measurements */
    struct filter filt;
    /* counters */
    uint64_t sent;     /* requests built */
    uint64_t received; /* replies accepted (ASSOC_RX_SAMPLE) */
    uint64_t bogus;    /* datagrams that were not a reply to us (IGNORED) */
    uint64_t dropped;  /* replies to us refused (REFUSED, KOD, HEADER...) */
    /* what NTPsec 1.2.2's rawstats adds to each line */
    uint32_t unanswered;        /* requests sent since the last reply that answered one */
    uint32_t lost;              /* of those, the ones before the request it answered */
    uint32_t ignored_since_req; /* mode-4 datagrams from the server since our last request
                                   that did not answer it (IGNORED; malformed ones aside) */
    uint32_t ignored_flash;     /* why the last of them was ignored: SNAP_FLASH_DUP (no
                                   request open: a duplicate or a late reply), SNAP_FLASH_PROTO
                                   (origin zero) or SNAP_FLASH_BOGUS (another origin, or
                                   later than ASSOC_REPLY_TIMEOUT_S) */
};

/* Sets up a fresh association for c (already validated) and schedules its first poll: at
 * once with iburst, else within a random fraction of 2^minpoll (rnd is 32 random bits). */
void assoc_init(struct assoc *a, uint32_t id, const struct eng_server_cfg *c, double phi_ppm,
                int64_t now_mono_ns, uint32_t rnd);

/* True when a request is due at now (never again once ASSOC_DENIED). */
bool assoc_due(const struct assoc *a, int64_t now_mono_ns);

/* Builds the next request into buf[0..cap) (NTK_SNTP_REQ_MAX fits) with rnd (8 random bytes
 * for the nonce, 4 more for the poll jitter: 12 bytes), records T1 = now_real, shifts the
 * reach register when this request starts a new poll, adds a dummy filter stage for a lost
 * previous reply, and schedules the next request. Returns the length or a negative
 * enum ntk_err (NTK_ENOTFOUND: the key vanished; NTK_EINVAL: denied, or rnd's nonce is all
 * zero); on error nothing changes but the schedule: the next try is one interval later. */
int assoc_poll(struct assoc *a, const struct eng_now *now, const uint8_t rnd[12],
               struct ntk_mac_keys *keys, uint8_t *buf, size_t cap);

/* Checks a datagram from this association's server, received at t4 (CLOCK_REALTIME as an
 * NTP timestamp), with keys (may be NULL without a key) and the system's view sys. Always
 * sets a->verdict and writes *sample, if not NULL (ntk_sntp_check's result: the kiss code
 * of a KoD, the numbers of a sample), and *new_sample, if not NULL: true on ASSOC_RX_SAMPLE
 * when the filter produced a new output for the selection. On ASSOC_RX_SAMPLE the sample
 * (delay at least 2^precision) went into the filter, and reach, the header fields and the
 * counters are updated. Datagrams when no request is outstanding (duplicates, replies after
 * assoc_on_step, anything after DENY) are ASSOC_RX_IGNORED. Any outcome but IGNORED ends
 * the count of unanswered requests (lost says how many went before); an IGNORED mode-4
 * datagram counts in ignored_since_req with its reason in ignored_flash. */
enum assoc_rx assoc_receive(struct assoc *a, const struct eng_now *now, const uint8_t *buf,
                            size_t len, ntk_ts t4, struct ntk_mac_keys *keys,
                            const struct assoc_sys *sys, struct ntk_sntp_sample *sample,
                            bool *new_sample);

/* The kernel's transmit time t1 (CLOCK_REALTIME as an NTP timestamp) of the request whose
 * nonce (transmit field) was xmt. It becomes T1 of the offset and delay only when that is
 * this association's outstanding request, no kernel time was taken for it yet, and t1 is not
 * before the time the request was built nor more than ASSOC_REPLY_TIMEOUT_S after it; the
 * reply closes the request, so a time that comes after it is refused too. Returns whether
 * it was taken (a refusal changes nothing). A reply received (t4) before t1 puts the build
 * time back (assoc_receive): T1 is never later than T4 by the kernel's fault. */
bool assoc_on_sent(struct assoc *a, ntk_ts xmt, ntk_ts t1);

/* Sets the poll the engine wants (the discipline's), clamped to [poll_floor, maxpoll]; takes
 * effect at the next scheduling. While backing off (unreachable) only remembered. */
void assoc_set_poll(struct assoc *a, int8_t poll_log2);

/* The synchronisation distance through this association now (RFC 5905 root_dist():
 * (root delay + delay) / 2 + root dispersion + filter dispersion aged to now + jitter);
 * FILTER_MAXDISP_S when the filter has no output. */
double assoc_root_dist(const struct assoc *a, int64_t now_mono_ns);

/* True when the association may be offered to the selection: reachable, a valid filter
 * output, stratum 1..15 (0..15 for a refclock), leap != 3, not noselect, not denied, its last
 * reply not a loop, distance within maxdist. */
bool assoc_selectable(const struct assoc *a, int64_t now_mono_ns, double maxdist_s);

/* The clock was stepped by step_s: shift stored offsets and forget the request in flight
 * (its T1 is on the old time scale). */
void assoc_on_step(struct assoc *a, double step_s);

/* The clock's phase was corrected by corr_s without a step (a slew the discipline made):
 * shifts the stored offsets as assoc_on_step does, so a sample the filter offers later is
 * not stale and the popcorn test does not take the corrected clock for a spike; the request
 * in flight stays valid. */
void assoc_on_slew(struct assoc *a, double corr_s);

#endif /* NTK_ASSOC_H */
