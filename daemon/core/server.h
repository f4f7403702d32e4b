/* SPDX-License-Identifier: BSD-2-Clause */
/* The serving side of ntpd as pure functions: the shell calls srv_handle() for every
 * datagram that is not a reply to one of its own associations, sends what it builds, and
 * calls srv_finish() just before the send so the transmit timestamp is as late as possible.
 *
 * Order of the checks (NTPsec 1.2.2's receive(), measured side by side: its sysstats
 * counters and ours move alike, ctlv_ss_sum; each drop counted by enum srv_drop):
 *   0. a 48-byte NTPv1 datagram is counted as such, by mode (NTPsec 1.2.2's ss_ver1*);
 *   1. the first byte, before any restriction: version 0 or above 4, mode 7, the symmetric
 *      and broadcast modes 1, 2 and 5 (no ephemeral peers, and no answer to any of them:
 *      the one difference from NTPsec 1.2.2, which answers an NTPv1 mode 1 as a request;
 *      tests/security/amp.sh), mode 0 but in NTPv1 -> dropped ("bad length or format"),
 *      even from an `ignore` source; an empty datagram too (the shell does not pass those
 *      it reads: NTPsec drops them before it counts anything);
 *   2. restrict lookup on the source (address, and port for `ntpport` rules): `ignore`,
 *      `flake` (10 %), `noquery` for mode 6 and `noserve` for the rest, `version` (not v4,
 *      mode 6 too: NTPsec's ntpq sends version 2) -> dropped ("restricted");
 *   3. mode 6 -> SRV_CONTROL (the shell hands it to the control module with the flags, which
 *      applies nomodify/nomrulist and its own rate limit);
 *   4. MRU / rate limit (mru.h) BEFORE the decode and any cryptography, as NTPsec's
 *      ntp_monitor and chrony's NCR_ProcessRxUnknown: an excess packet costs no MAC
 *      computation; what passes is counted by version (NTPsec's "current version" and
 *      "older version" count there, malformed packets included);
 *   5. ntk_pkt_decode (malformed packets dropped by the codec's reason);
 *   6. only mode 3, and NTPv1 mode 0 (RFC 1059 had no mode field; NTPsec answers it), get a
 *      reply; mode 4 here is a reply nobody asked for ("declined", as NTPsec's); a MAC or
 *      crypto-NAK on NTPv1 or v2 is malformed (NTPsec: from NTPv3 on);
 *   7. a crypto-NAK (bare key id), an unknown key id or a bad MAC -> dropped and counted
 *      (so is an unsigned request from a `notrust` source, as NTPsec),
 *      never answered: NTPsec 1.2 (receive(): "drop: missing or bad MAC") and chrony 4
 *      (only NTS gets a NAK) both drop; no crypto-NAK is sent;
 *   8. reply (or KoD RATE) built: version mirrored, mode 4, poll copied, the system's leap
 *      (3 while sys->leap_in_progress),
 *      stratum (16, unsynchronised, goes out as 0 as NTPsec's STRATUM_TO_PKT), precision,
 *      root delay/dispersion, refid (INIT before the first update), reftime; origin = the
 *      request's transmit verbatim, receive = the kernel receive time; transmit left 0 for
 *      srv_finish. An unsynchronised server still answers (leap 3), as NTPsec and chrony do.
 * Data minimisation (draft-ietf-ntp-data-minimization): a normal reply depends on the
 * request's version, mode, poll, transmit timestamp and key id only, so a minimised request
 * (zero stratum, precision, root values, reference, origin, receive) gets the same answer.
 * Extension fields of a request that is not NTS are ignored: the reply has none.
 *
 * NTS (RFC 8915 §5), when s->nts is set and the request carries NTS fields (a 48-byte request
 * never does: the plain path pays for one test of ef_count):
 *   6b. after the rate limit (an excess NTS request costs no cryptography: a KoD RATE to it is
 *      the plain 48-byte one, unauthenticated, as the client cannot trust any KoD but NTSN),
 *      ntk_nts_parse_request: fields that break its rules -> dropped (SRV_DROP_NTS_BAD);
 *   7b. the cookie is opened (ntss_open_cookie); one that does not open (unknown or expired
 *      master key, tampered, not ours) -> an NTS NAK: a KoD "NTSN" like the KoD RATE with
 *      the request's Unique Identifier echoed and no Authenticator (RFC 8915 §5.7);
 *      the Authenticator is verified with the cookie's c2s key; failure -> dropped
 *      (SRV_DROP_NTS_AUTH), never answered, as chrony's NNS_CheckRequestAuth: §5.7's SHOULD
 *      answer a NAK, but a NAK for a forged Authenticator would let whoever saw a request
 *      (its cookie and UID) make its client throw away its cookies and re-run NTS-KE;
 *   8b. the reply: the normal header, then the UID and an Authenticator whose plaintext holds
 *      1 + (Cookie Placeholders) fresh cookies (ntss_make_cookie), fewer if the reply would
 *      otherwise be longer than the request (ntk_nts_reply_len). srv_handle stages them in
 *      the verdict (struct srv_nts_seal) and srv_finish seals with the s2c key once the
 *      transmit timestamp, which the Authenticator covers, is written. A reply to an NTS
 *      request never carries a legacy MAC; an NTS-authenticated request passes `notrust`.
 * With s->nts NULL, a request with NTS fields is answered as any other: without them (as
 * chrony without NTS keys does).
 * The KoD RATE is NTPsec's: leap 3, stratum 0, refid "RATE", poll, precision, root delay and
 * dispersion and reftime echoed from the request, origin = receive = transmit = the
 * request's transmit (it carries no time of ours).
 * Anti-amplification: a reply is never longer than its request (48 + key id + MAC of the
 * same key at most; an NTS reply is sized to fit, 8b; a NAK is the header and the request's
 * UID); srv_handle checks it and drops (SRV_DROP_AMPLIFY) if it were not.
 */
#ifndef NTK_SERVER_H
#define NTK_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "mru.h"
#include "ntk/addr.h"
#include "ntk/aead.h"
#include "ntk/mac.h"
#include "ntk/ntime.h"
#include "ntk/nts_ef.h"
#include "ntk/nts_ke.h"
#include "ntss.h"
#include "restrict.h"
#include "snap.h"

/* The longest reply: an NTS one (a legacy one is at most header, key id and a 20-byte MAC). */
#define SRV_REPLY_MAX NTK_NTS_PKT_MAX

/* What the shell does with the datagram. */
enum srv_action {
    SRV_DROP = 0,    /* nothing (the reason is counted) */
    SRV_REPLY = 1,   /* srv_finish the reply, then send it to the source */
    SRV_CONTROL = 2, /* a mode 6 message: pass it to the control module with the flags */
};

/* Why a datagram was dropped. Stable values: they index counters. */
enum srv_drop {
    SRV_DROP_NONE = 0,       /* not dropped */
    SRV_DROP_TOO_SHORT,      /* empty or under 48 bytes */
    SRV_DROP_BAD_LENGTH,     /* length not a multiple of 4 */
    SRV_DROP_BAD_VERSION,    /* version 0 or above 4 */
    SRV_DROP_BAD_MODE,       /* mode 0 in version 2-4 */
    SRV_DROP_BAD_EF,         /* malformed extension field */
    SRV_DROP_BAD_MAC_LENGTH, /* trailer not 0, 4, 20 or 24 bytes */
    SRV_DROP_MODE_PRIVATE,   /* mode 7 (ntpdc), never answered */
    SRV_DROP_NOT_REQUEST,    /* mode 4 from a stranger: a reply nobody asked for */
    SRV_DROP_IGNORE,         /* restrict ignore */
    SRV_DROP_NOSERVE,        /* restrict noserve */
    SRV_DROP_VERSION,        /* restrict version: not NTPv4 */
    SRV_DROP_FLAKE,          /* restrict flake: the random 10 % */
    SRV_DROP_RATE,           /* rate limited (restrict limited), no KoD sent */
    SRV_DROP_CRYPTO_NAK,     /* a request carrying a bare key id */
    SRV_DROP_UNKNOWN_KEY,    /* MAC with a key id we do not have */
    SRV_DROP_BAD_MAC,        /* MAC did not verify */
    SRV_DROP_NOSPC,          /* the caller's reply buffer is too small */
    SRV_DROP_AMPLIFY,        /* the reply would be longer than the request (never) */
    SRV_DROP_NOTRUST,        /* restrict notrust: not signed with a trusted key */
    SRV_DROP_NTS_BAD,        /* NTS fields that break RFC 8915 §5 (ntk_nts_parse_request) */
    SRV_DROP_NTS_AUTH,       /* NTS Authenticator did not verify with the cookie's key */
    SRV_DROP_NTS_CRYPTO,     /* making fresh cookies failed (OpenSSL), no reply */
    SRV_DROP_MODE_PEER,      /* mode 1, 2 or 5: symmetric or broadcast, not served */
    SRV_DROP_NOQUERY,        /* restrict noquery: a mode 6 message */
    SRV_DROP_COUNT,          /* number of values */
};

/* Counters (never reset). */
struct srv_stats {
    uint64_t received;              /* datagrams handed to srv_handle */
    uint64_t replies;               /* SRV_REPLY verdicts, KoDs included */
    uint64_t kod;                   /* of which KoD RATE */
    uint64_t control;               /* SRV_CONTROL verdicts */
    uint64_t drops[SRV_DROP_COUNT]; /* SRV_DROP verdicts by reason */
    uint64_t by_version[5]; /* by version (index 1..4): what passed the restrictions and the
                               rate limit, mode 6 excepted (check 4) */
    uint64_t v1;            /* 48-byte NTPv1 datagrams, counted before check 1 (ss_ver1) */
    uint64_t v1_client;     /* of those, mode 3 (NTPsec's ss_ver1client) */
    uint64_t v1_mode0;      /* mode 0 (ss_ver1zero) */
    uint64_t v1_symm;       /* mode 1 (ss_ver1symm) */
    /* NTS, NTPsec's ntsinfo names: */
    uint64_t
        nts_server_recv_good;     /* requests whose cookie opened and Authenticator verified */
    uint64_t nts_server_recv_bad; /* NTS requests refused: malformed fields, cookie that does
                                     not open (NAKed), Authenticator that does not verify */
    uint64_t nts_server_send;     /* NTS replies sealed by srv_finish */
    uint64_t naks_sent;           /* NTS NAKs (KoD NTSN) built */
};

/* The server's state. Zero-initialise, then set the borrowed pointers. */
struct srv {
    struct rst_table *rst;     /* restrict rules (borrowed); NULL: no restrictions */
    struct mru *mru;           /* MRU / rate limiter (borrowed); NULL: none */
    struct ntk_mac_keys *keys; /* symmetric keys (borrowed); NULL: none */
    struct eng_rng rng;        /* random bytes for `flake` (bytes NULL: flake never drops) */
    struct ntss *nts;          /* NTS cookies (borrowed); NULL: NTS not served */
    struct ntk_aead_key *aead; /* owned scratch key, re-keyed for every NTS request (c2s in
                                  srv_handle, s2c in srv_finish); made at the first NTS
                                  request, freed by srv_release */
    struct srv_stats st;       /* counters */
};

/* What srv_finish needs to seal an NTS reply, staged by srv_handle (RFC 8915 §5.7). */
struct srv_nts_seal {
    uint16_t aead;                                    /* the client's AEAD */
    size_t key_len;                                   /* its key length */
    uint8_t s2c[NTK_AEAD_KEY_MAX];                    /* server-to-client key (srv_finish
                                                         wipes it) */
    uint8_t nonce[NTK_AEAD_NONCE_LEN];                /* the Authenticator's fresh nonce */
    uint8_t uid[NTK_NTS_UID_MAX];                     /* the request's Unique Identifier */
    size_t uid_len;                                   /* its length */
    struct ntk_ke_cookie cookies[NTK_KE_COOKIES_MAX]; /* fresh cookies, to be encrypted */
    size_t n_cookies;                                 /* how many */
};

/* One received datagram. */
struct srv_req {
    const uint8_t *buf;  /* the UDP payload (borrowed) */
    size_t len;          /* its length */
    struct ntk_addr src; /* source address and port */
    ntk_ts rx_ts;        /* receive time (kernel timestamp when there was one) */
    int64_t rx_mono_ns;  /* the same instant on the monotonic clock (rate limits) */
};

/* The decision about one datagram. */
struct srv_verdict {
    enum srv_action action;   /* what to do */
    enum srv_drop why;        /* SRV_DROP_NONE unless action is SRV_DROP */
    uint32_t rflags;          /* restrict flags of the source */
    size_t len;               /* reply bytes written (action SRV_REPLY), else 0 */
    uint32_t key_id;          /* key the reply is to be signed with (0: none) */
    bool kod;                 /* the reply is a KoD RATE */
    bool nak;                 /* the reply is an NTS NAK (KoD NTSN with the UID): complete */
    bool nts;                 /* the reply is NTS: srv_finish seals it with seal */
    struct srv_nts_seal seal; /* written only when nts (never touched on the plain path, so
                                 that it costs a 48-byte request nothing) */
};

/* Handles one datagram with the system state sys (from eng_snap). When the verdict is
 * SRV_REPLY, writes the reply (transmit timestamp 0, MAC not yet computed; for NTS only the
 * header, the fields come in srv_finish) to reply[0..cap) and its final length to v->len
 * (cap >= SRV_REPLY_MAX always suffices); otherwise reply is untouched. Writes *v and counts
 * the outcome in s->st. Returns v->action. */
enum srv_action srv_handle(struct srv *s, const struct snap_system *sys,
                           const struct srv_req *req, uint8_t *reply, size_t cap,
                           struct srv_verdict *v);

/* Finishes the reply[0..cap) srv_handle wrote with verdict v: writes the transmit timestamp
 * xmt (a KoD RATE and an NTS NAK keep the request's transmit, as NTPsec's), then, when the
 * reply carries a key id, computes the MAC over the header with s->keys into the bytes
 * after it, or for an NTS reply appends the UID and the Authenticator sealed with the staged
 * s2c key (and wipes v->seal.s2c). Call it as late as possible before sending (the reply is
 * then reply[0..v->len)). Returns 0; NTK_EINVAL when v is not a reply srv_handle made (len
 * not 48, 68 or 72, or not the key's MAC length; cap too small for an NTS reply); the
 * ntk_mac_compute or ntk_nts_build_reply error otherwise (the reply must then not be
 * sent). Counts nts_server_send. */
int srv_finish(struct srv *s, struct srv_verdict *v, uint8_t *reply, size_t cap, ntk_ts xmt);

/* Frees what srv_handle allocated (the NTS scratch key). s stays usable. */
void srv_release(struct srv *s);

/* A stable lowercase name of a drop reason ("too_short", "ignore", "bad_mac", ...), the
 * daemon's counter label; "unknown" for other values. Never NULL. */
const char *srv_drop_name(enum srv_drop why);

#endif /* NTK_SERVER_H */
