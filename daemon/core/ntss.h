/* SPDX-License-Identifier: BSD-2-Clause */
/* The NTS server's cookies (RFC 8915 §6): master keys, their rotation and their file, and
 * cookies made and opened with them. Sans-IO: the shell reads and writes the key file's
 * text and calls ntss_rotate from a timer.
 *
 * Why stateless: a cookie carries everything the server needs (the AEAD algorithm and the
 * client's two keys), encrypted under a master key only the servers know, so the server
 * keeps nothing per client and any server holding the same key file accepts the cookie.
 *
 * Cookie format (ours; opaque to clients, RFC 8915 §6 only suggests one):
 *   key id (4 bytes, big-endian: which master key) || nonce (NTK_AEAD_NONCE_LEN random) ||
 *   AES-SIV-CMAC-256(master key, AD = the key id, nonce,
 *                    plaintext = AEAD id (2 bytes) || 2 zero bytes || c2s key || s2c key)
 * so its length is 4 + 16 + 16 + 4 + 2 * key length: 104 bytes for AEAD_AES_SIV_CMAC_256
 * (136 and 168 for _384 and _512). The 2 zero bytes make every cookie a multiple of 4 bytes:
 * an NTS Cookie extension field pads its body to 4 (RFC 7822 §3), so a client could not
 * tell a 102-byte cookie from its padding and would send 104 bytes back (chrony's KE client
 * refuses such cookies outright). Opening checks them (and the AEAD id against the length).
 * All our cookies for one AEAD have one length, so a reply's fresh cookies are as long as
 * the one the client spent and the placeholders it sent (no amplification).
 *
 * Master keys: a new one every NTSS_ROTATE_S (a day), the newest NTSS_KEYS_MAX (8) kept, so
 * a cookie stays valid for at least 7 days after it was made (a client that sleeps a week
 * and wakes up still has working cookies; NTPsec keeps 10 days, chrony 3 weeks, ntpd-rs 7
 * rotations). Key ids are random 32-bit numbers, so servers that share the file agree and
 * two unrelated servers' cookies are told apart without trying every key.
 *
 * Key file (ours, text, one key per line, newest last; comments with '#'):
 *   <key id: 8 hex digits> <created: Unix seconds, decimal> <key: 64 hex digits>
 * The shell writes it atomically (write, fsync, rename) with mode 0600.
 *
 * Counters follow NTPsec's `ntsinfo` names (ctlv.c maps them): cookies made; decoded with
 * the current key, the previous, the one before, older ones; too old (a key id we no longer
 * have, but the cookie is in our format); errors (bad length, tag failure).
 */
#ifndef NTK_NTSS_H
#define NTK_NTSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "ntk/aead.h"
#include "ntk/nts_ke.h"
#include "ntk/sb.h"

#define NTSS_KEYS_MAX   8     /* master keys kept (the current one and 7 before it) */
#define NTSS_ROTATE_S   86400 /* a new master key every day */
#define NTSS_MASTER_ALG NTK_AEAD_AES_SIV_CMAC_256
#define NTSS_MASTER_LEN 32   /* bytes of a master key */
#define NTSS_FILE_MAX   4096 /* longest key file accepted */

/* The length of our cookies for a client AEAD whose keys are key_len bytes. */
#define NTSS_COOKIE_LEN(key_len)                                                              \
    (4 + NTK_AEAD_NONCE_LEN + NTK_AEAD_TAG_LEN + 4 + 2 * (key_len))

/* Counters (never reset), NTPsec's nts_cookie_* names. */
struct ntss_stats {
    uint64_t made;           /* nts_cookie_make */
    uint64_t decode_current; /* nts_cookie_decode_current: with the newest key */
    uint64_t decode_old;     /* nts_cookie_decode_old: the one before */
    uint64_t decode_old2;    /* nts_cookie_decode_old2: the one before that */
    uint64_t decode_older;   /* nts_cookie_decode_older: any older key we still have */
    uint64_t decode_too_old; /* nts_cookie_decode_too_old: a key id we no longer hold */
    uint64_t decode_error;   /* nts_cookie_decode_error: wrong length, tag, contents */
};

/* The cookie state. */
struct ntss;

/* Creates an empty state (no master key: ntss_rotate makes the first). rng (borrowed, must
 * outlive it) provides master keys, key ids and cookie nonces. NULL when out of memory. */
struct ntss *ntss_new(const struct eng_rng *rng);

/* Frees (NULL is fine), wiping the keys. */
void ntss_free(struct ntss *s);

/* Replaces the master keys by those in the key file text[0..len). Returns the number of keys
 * loaded (the newest NTSS_KEYS_MAX if the file has more); a negative enum ntk_err for a
 * malformed file (nothing changed), with why[0..why_cap) saying "line N: ..." . */
int ntss_load(struct ntss *s, const char *text, size_t len, char *why, size_t why_cap);

/* Writes the key file text for the current keys to sb (oldest first). */
void ntss_format(const struct ntss *s, struct ntk_sb *sb);

/* Makes a new master key when there is none or the newest is NTSS_ROTATE_S old at now_s
 * (Unix seconds; a clock stepped backwards never makes one early), dropping the oldest
 * beyond NTSS_KEYS_MAX. Returns true when the keys changed (the shell then saves the file). */
bool ntss_rotate(struct ntss *s, int64_t now_s);

/* When ntss_rotate will next make a key (Unix seconds; 0 when there is no key yet). */
int64_t ntss_next_rotation(const struct ntss *s);

/* How many master keys are held. */
size_t ntss_key_count(const struct ntss *s);

/* Makes a cookie for a client that negotiated aead with the exported keys c2s, s2c (each
 * key_len bytes). Returns 0; NTK_ENOTFOUND without a master key; NTK_EUNSUPP when aead is
 * not supported; NTK_EINVAL when key_len does not match it; NTK_ECRYPTO. */
int ntss_make_cookie(struct ntss *s, uint16_t aead, const uint8_t *c2s, const uint8_t *s2c,
                     size_t key_len, struct ntk_ke_cookie *out);

/* Fills nonce with fresh random bytes from the state's rng (the server's NTS replies need a
 * nonce per Authenticator, RFC 8915 §5.6; added for server.c, which has no rng of its own
 * that is always set). */
void ntss_nonce(struct ntss *s, uint8_t nonce[NTK_AEAD_NONCE_LEN]);

/* What a cookie holds. */
struct ntss_cookie_keys {
    uint16_t aead;                 /* the client's AEAD */
    size_t key_len;                /* ntk_aead_key_len(aead) */
    uint8_t c2s[NTK_AEAD_KEY_MAX]; /* client-to-server key */
    uint8_t s2c[NTK_AEAD_KEY_MAX]; /* server-to-client key */
};

/* Opens cookie[0..len). Returns 0 and writes *out; NTK_ENOTFOUND when its key id is not one
 * we hold (counted too_old); NTK_EFORMAT / NTK_EAUTH otherwise, NTK_ECRYPTO when OpenSSL
 * fails (all counted as errors). */
int ntss_open_cookie(struct ntss *s, const uint8_t *cookie, size_t len,
                     struct ntss_cookie_keys *out);

/* The counters. */
const struct ntss_stats *ntss_stats(const struct ntss *s);

#endif /* NTK_NTSS_H */
