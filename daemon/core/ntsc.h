/* SPDX-License-Identifier: BSD-2-Clause */
/* One association's NTS client state (RFC 8915 §5-6): the keys and cookies NTS-KE gave, the
 * Unique Identifier of the request in flight, and when to run NTS-KE again.
 *
 * Plain data (no pointers, no allocation): associations are copied and reset by value. The
 * keys are kept as bytes and expanded into the engine's two scratch key objects at each use
 * (once per poll on the client side, which costs nothing next to a poll interval).
 *
 * Cookies: each is sent once (RFC 8915 §6: reuse would let an observer link requests). A
 * request spends one and asks, through placeholders, for as many as the jar lacks, so a
 * client that gets every reply keeps 8; each lost reply costs one. When the jar is empty, or
 * a NAK says the server no longer opens our cookies, the keys are dropped and NTS-KE runs
 * again. A failed NTS-KE is retried with exponential backoff (NTSC_KE_RETRY_MIN_S doubling to
 * NTSC_KE_RETRY_MAX_S), so a broken server is not hammered.
 *
 * Replies: only one that carries our UID and an Authenticator that verifies with the s2c
 * key counts (NTK_NTS_OK); every other reply, kiss-o'-death included, is treated as not
 * authenticated. The one exception is the NAK (RFC 8915 §5.7), believed without
 * authentication when it carries our UID: an on-path attacker who can see the UID can also
 * drop our packets, so believing it gives them nothing more.
 */
#ifndef NTK_NTSC_H
#define NTK_NTSC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntk/addr.h"
#include "ntk/aead.h"
#include "ntk/nts_ef.h"
#include "ntk/nts_ke.h"

#define NTSC_COOKIES_MAX    8    /* the jar */
#define NTSC_KE_RETRY_MIN_S 16   /* first retry after a failed NTS-KE */
#define NTSC_KE_RETRY_MAX_S 1024 /* longest wait between NTS-KE attempts */

/* Random bytes a request needs: the UID, then the Authenticator's nonce. */
#define NTSC_RND_LEN (NTK_NTS_UID_LEN + NTK_AEAD_NONCE_LEN)

/* Counters, NTPsec's names (nts_client_*, nts_ke_probes_*). Never reset. */
struct ntsc_stats {
    uint64_t send;      /* nts_client_send: NTS requests built */
    uint64_t recv_good; /* nts_client_recv_good: authenticated replies */
    uint64_t recv_bad;  /* nts_client_recv_bad: replies to us refused by NTS */
    uint64_t naks;      /* NAKs believed */
    uint64_t ke_good;   /* nts_ke_probes_good: NTS-KE exchanges that gave keys */
    uint64_t ke_bad;    /* nts_ke_probes_bad: failed ones */
};

/* The state. Zero it (ntsc_init) before use. */
struct ntsc {
    bool on;                 /* the association uses NTS (`server ... nts`) */
    struct ntk_addr ke_addr; /* the NTS-KE server (address and port) */
    bool keyed;              /* keys from a successful NTS-KE are held */
    uint16_t aead;           /* their algorithm */
    size_t key_len;          /* their length */
    uint8_t c2s[NTK_AEAD_KEY_MAX];
    uint8_t s2c[NTK_AEAD_KEY_MAX];
    struct ntk_ke_cookie jar[NTSC_COOKIES_MAX]; /* unused cookies, oldest first */
    size_t n_cookies;                           /* how many */
    bool uid_live;                              /* uid is that of the request in flight */
    uint8_t uid[NTK_NTS_UID_LEN];
    bool ke_pending;           /* an NTS-KE was asked for (ENG_ACT_NEED_KE) and not answered */
    unsigned ke_failures;      /* failed NTS-KE attempts in a row */
    int64_t ke_next_mono_ns;   /* no NTS-KE before this */
    int64_t ke_last_mono_ns;   /* when the last successful NTS-KE ended (0: never) */
    enum ntk_nts_verdict last; /* the verdict on the last reply checked */
    struct ntsc_stats st;
};

/* Resets s; on: whether the association uses NTS. */
void ntsc_init(struct ntsc *s, bool on);

/* True when a request can be built now: NTS on, keys held and a cookie in the jar. */
bool ntsc_ready(const struct ntsc *s);

/* True when NTS-KE should be asked for at now: NTS on, not ready, none pending, and the
 * backoff has passed. */
bool ntsc_want_ke(const struct ntsc *s, int64_t now_mono_ns);

/* Marks an NTS-KE as asked for. */
void ntsc_ke_started(struct ntsc *s);

/* Installs a successful NTS-KE's result: aead, keys c2s/s2c of key_len bytes, cookies.
 * Returns 0; NTK_EINVAL (nothing installed, counted as a failure) when aead is not
 * supported, key_len does not match it, or there is no cookie. */
int ntsc_ke_done(struct ntsc *s, uint16_t aead, const uint8_t *c2s, const uint8_t *s2c,
                 size_t key_len, const struct ntk_ke_cookie *cookies, size_t n,
                 int64_t now_mono_ns);

/* Records a failed NTS-KE at now: the next attempt waits NTSC_KE_RETRY_MIN_S * 2^(failures
 * - 1), at most NTSC_KE_RETRY_MAX_S. */
void ntsc_ke_failed(struct ntsc *s, int64_t now_mono_ns);

/* Appends the NTS fields to a request whose 48-byte header is in buf (ntsc_ready must be
 * true): spends the oldest cookie, asks for the missing ones with placeholders (fewer when
 * they would not fit in cap), uses rnd (NTSC_RND_LEN random bytes) for the UID and nonce,
 * and seals with c2s (a scratch key object, re-keyed here). Returns the request's length or
 * a negative enum ntk_err (nothing spent then). */
int ntsc_build(struct ntsc *s, uint8_t *buf, size_t cap, size_t hdr_len,
               const uint8_t rnd[NTSC_RND_LEN], struct ntk_aead_key *c2s);

/* Checks the NTS part of a reply that passed the origin test (is_ntsn: it is a KoD NTSN),
 * with s2c a scratch key object (re-keyed here). On NTK_NTS_OK the new cookies join the
 * jar (the oldest dropped beyond NTSC_COOKIES_MAX) and the UID is retired; on NTK_NTS_NAK
 * the keys and cookies are dropped (NTS-KE must run again); otherwise nothing changes but
 * the counters. Returns the verdict. */
enum ntk_nts_verdict ntsc_check(struct ntsc *s, const uint8_t *buf, size_t len, bool is_ntsn,
                                struct ntk_aead_key *s2c);

/* Forgets the request in flight (its UID): a step of the clock, a new request. */
void ntsc_forget(struct ntsc *s);

#endif /* NTK_NTSC_H */
