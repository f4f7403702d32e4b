/* SPDX-License-Identifier: BSD-2-Clause */
/* An association's NTS client state: cookie jar, keys, request UID and NTS-KE backoff. */
#include "ntsc.h"

#include <string.h>

#include "ntk/ef.h"
#include "ntk/err.h"

#include "poison.h"

#define NS_PER_S 1000000000LL

void ntsc_init(struct ntsc *s, bool on)
{
    memset(s, 0, sizeof *s);
    s->on = on;
}

bool ntsc_ready(const struct ntsc *s)
{
    return s->on && s->keyed && s->n_cookies > 0;
}

bool ntsc_want_ke(const struct ntsc *s, int64_t now_mono_ns)
{
    return s->on && !ntsc_ready(s) && !s->ke_pending && now_mono_ns >= s->ke_next_mono_ns;
}

void ntsc_ke_started(struct ntsc *s)
{
    s->ke_pending = true;
}

/* Drops keys and cookies (NAK, empty jar, new NTS-KE). */
static void unkey(struct ntsc *s)
{
    s->keyed = false;
    s->n_cookies = 0;
    s->uid_live = false;
    memset(s->c2s, 0, sizeof s->c2s);
    memset(s->s2c, 0, sizeof s->s2c);
    memset(s->jar, 0, sizeof s->jar);
}

/* Adds one cookie to the jar, dropping the oldest when it is full. */
static void jar_push(struct ntsc *s, const struct ntk_ke_cookie *c)
{
    if (c->len == 0 || c->len > NTK_KE_COOKIE_MAX)
        return;
    if (s->n_cookies == NTSC_COOKIES_MAX) {
        memmove(&s->jar[0], &s->jar[1], (NTSC_COOKIES_MAX - 1) * sizeof s->jar[0]);
        s->n_cookies--;
    }
    s->jar[s->n_cookies++] = *c;
}

int ntsc_ke_done(struct ntsc *s, uint16_t aead, const uint8_t *c2s, const uint8_t *s2c,
                 size_t key_len, const struct ntk_ke_cookie *cookies, size_t n,
                 int64_t now_mono_ns)
{
    s->ke_pending = false;
    if (ntk_aead_key_len(aead) == 0 || key_len != ntk_aead_key_len(aead) || n == 0) {
        ntsc_ke_failed(s, now_mono_ns);
        return NTK_EINVAL;
    }
    unkey(s);
    s->keyed = true;
    s->aead = aead;
    s->key_len = key_len;
    memcpy(s->c2s, c2s, key_len);
    memcpy(s->s2c, s2c, key_len);
    for (size_t i = 0; i < n; i++)
        jar_push(s, &cookies[i]);
    s->ke_failures = 0;
    s->ke_next_mono_ns = 0;
    s->ke_last_mono_ns = now_mono_ns;
    s->st.ke_good++;
    return 0;
}

void ntsc_ke_failed(struct ntsc *s, int64_t now_mono_ns)
{
    s->ke_pending = false;
    s->st.ke_bad++;
    if (s->ke_failures < 16)
        s->ke_failures++;
    int64_t wait_s = NTSC_KE_RETRY_MIN_S;
    for (unsigned i = 1; i < s->ke_failures && wait_s < NTSC_KE_RETRY_MAX_S; i++)
        wait_s *= 2;
    if (wait_s > NTSC_KE_RETRY_MAX_S)
        wait_s = NTSC_KE_RETRY_MAX_S;
    s->ke_next_mono_ns = now_mono_ns + wait_s * NS_PER_S;
}

/* Placeholders to send with a cookie of cookie_len: as many as the jar will lack after this
 * request, fewer if the request would not fit in cap (RFC 8915 §5.7: the server answers with
 * one cookie per placeholder plus one). */
static size_t placeholders(const struct ntsc *s, size_t cap, size_t hdr_len, size_t cookie_len)
{
    size_t want = NTSC_COOKIES_MAX - s->n_cookies; /* n_cookies counts the one being spent */
    size_t field = ntk_ef_wire_len(cookie_len, NTK_EF_MIN_LEN);
    size_t base =
        hdr_len + ntk_ef_wire_len(NTK_NTS_UID_LEN, NTK_EF_MIN_LEN) + field +
        ntk_ef_wire_len(4 + NTK_AEAD_NONCE_LEN + NTK_AEAD_TAG_LEN, NTK_EF_MIN_LAST_LEN);
    while (want > 0 && base + want * field > cap)
        want--;
    return want > NTK_NTS_PLACEHOLDERS_MAX ? NTK_NTS_PLACEHOLDERS_MAX : want;
}

int ntsc_build(struct ntsc *s, uint8_t *buf, size_t cap, size_t hdr_len,
               const uint8_t rnd[NTSC_RND_LEN], struct ntk_aead_key *c2s)
{
    if (!ntsc_ready(s))
        return NTK_EINVAL;
    int rc = ntk_aead_key_set(c2s, s->aead, s->c2s, s->key_len);
    if (rc < 0)
        return rc;
    const struct ntk_ke_cookie *c = &s->jar[0];
    size_t n_ph = placeholders(s, cap, hdr_len, c->len);
    int len =
        ntk_nts_build_request(buf, cap, hdr_len, rnd, c, n_ph, c2s, rnd + NTK_NTS_UID_LEN);
    if (len < 0)
        return len;
    memcpy(s->uid, rnd, NTK_NTS_UID_LEN);
    s->uid_live = true;
    memmove(&s->jar[0], &s->jar[1], (NTSC_COOKIES_MAX - 1) * sizeof s->jar[0]);
    s->n_cookies--;
    memset(&s->jar[s->n_cookies], 0, sizeof s->jar[0]);
    s->st.send++;
    return len;
}

enum ntk_nts_verdict ntsc_check(struct ntsc *s, const uint8_t *buf, size_t len, bool is_ntsn,
                                struct ntk_aead_key *s2c)
{
    enum ntk_nts_verdict v = NTK_NTS_BAD_UID;
    struct ntk_nts_reply r;
    if (s->uid_live && s->keyed && ntk_aead_key_set(s2c, s->aead, s->s2c, s->key_len) == 0)
        v = ntk_nts_check_reply(buf, len, s->uid, is_ntsn, s2c, &r);
    s->last = v;
    if (v == NTK_NTS_OK) {
        for (size_t i = 0; i < r.n_cookies; i++)
            jar_push(s, &r.cookies[i]);
        s->uid_live = false;
        s->st.recv_good++;
    } else if (v == NTK_NTS_NAK) {
        unkey(s);
        s->st.naks++;
    } else {
        s->st.recv_bad++;
    }
    return v;
}

void ntsc_forget(struct ntsc *s)
{
    s->uid_live = false;
}
