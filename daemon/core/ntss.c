/* SPDX-License-Identifier: BSD-2-Clause */
/* The NTS server's master keys, their rotation and key file, and the cookies sealed with them
 * (RFC 8915 §6). */
#include "ntss.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ntk/buf.h"
#include "ntk/err.h"
#include "ntk/tok.h"

#include "poison.h"

/* key id || nonce: the cookie's clear prefix (the key id is also the associated data). */
#define PREFIX_LEN (4 + NTK_AEAD_NONCE_LEN)

/* Plaintext header: AEAD id (2 bytes) and 2 zero bytes, so that with the 16-byte tag and
 * two keys of 32/48/64 bytes every cookie is a multiple of 4 bytes long. */
#define PT_HDR_LEN 4

/* Longest key file line we read: 8 + 1 + 20 + 1 + 64 and room for spaces and a comment. */
#define LINE_MAX_LEN 256

/* Most keys a file of NTSS_FILE_MAX bytes can hold (a line is at least 76 bytes). */
#define FILE_KEYS_MAX (NTSS_FILE_MAX / 76 + 1)

struct master {
    uint32_t id;                   /* random key id, the cookie's first 4 bytes */
    int64_t created_s;             /* Unix seconds */
    uint8_t key[NTSS_MASTER_LEN];  /* the AES-SIV-CMAC-256 key */
    struct ntk_aead_key *expanded; /* its expanded form, made when first used (or NULL) */
};

struct ntss {
    const struct eng_rng *rng;         /* borrowed */
    struct master keys[NTSS_KEYS_MAX]; /* oldest first, newest at n - 1 */
    size_t n;                          /* keys held */
    struct ntss_stats st;              /* counters */
};

struct ntss *ntss_new(const struct eng_rng *rng)
{
    if (!rng || !rng->bytes) {
        return NULL;
    }
    struct ntss *s = calloc(1, sizeof *s);
    if (s) {
        s->rng = rng;
    }
    return s;
}

static void wipe_master(struct master *m)
{
    ntk_aead_key_free(m->expanded);
    OPENSSL_cleanse(m, sizeof *m);
}

static void drop_all(struct ntss *s)
{
    for (size_t i = 0; i < s->n; i++) {
        wipe_master(&s->keys[i]);
    }
    s->n = 0;
}

void ntss_free(struct ntss *s)
{
    if (s) {
        drop_all(s);
        free(s);
    }
}

/* The expanded key of master m, made on first use. NULL when OpenSSL fails. */
static struct ntk_aead_key *expanded(struct master *m)
{
    if (!m->expanded &&
        ntk_aead_key_init(&m->expanded, NTSS_MASTER_ALG, m->key, sizeof m->key) != 0) {
        m->expanded = NULL;
    }
    return m->expanded;
}

/* ---- the key file ---- */

static void fail_line(char *why, size_t why_cap, size_t line_no, const char *what)
{
    if (why && why_cap > 0) {
        struct ntk_sb sb;
        ntk_sb_init(&sb, why, why_cap);
        ntk_sb_printf(&sb, "line %zu: %s", line_no, what);
    }
}

/* Parses one key line. Returns NULL and writes *m, or what is wrong. */
static const char *parse_key_line(struct ntk_span line, struct master *m)
{
    struct ntk_tok t;
    struct ntk_span id, created, key;
    ntk_tok_init_span(&t, line);
    ntk_tok_skip_ws(&t);
    if (ntk_tok_word(&t, &id, 8) != 0 || id.len != 8) {
        return "key id: 8 hex digits expected";
    }
    uint8_t idb[4];
    if (ntk_span_hex(id, idb, sizeof idb) != 4) {
        return "key id: 8 hex digits expected";
    }
    ntk_tok_skip_ws(&t);
    uint64_t c = 0;
    if (ntk_tok_word(&t, &created, 20) != 0 ||
        ntk_span_u64(created, &c, (uint64_t)INT64_MAX - NTSS_ROTATE_S) != 0) {
        return "creation time: Unix seconds expected";
    }
    ntk_tok_skip_ws(&t);
    if (ntk_tok_word(&t, &key, 2 * NTSS_MASTER_LEN) != 0 || key.len != 2 * NTSS_MASTER_LEN ||
        ntk_span_hex(key, m->key, sizeof m->key) != NTSS_MASTER_LEN) {
        return "key: 64 hex digits expected";
    }
    ntk_tok_skip_ws(&t);
    if (!ntk_tok_eof(&t) && ntk_tok_peek(&t) != '#' && ntk_tok_peek(&t) != '\r') {
        return "unexpected text after the key";
    }
    m->id = (uint32_t)idb[0] << 24 | (uint32_t)idb[1] << 16 | (uint32_t)idb[2] << 8 | idb[3];
    m->created_s = (int64_t)c;
    m->expanded = NULL;
    return NULL;
}

/* Checks the key k just read against those before it. */
static const char *check_order(const struct master *k, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (k[i].id == k[n].id) {
            return "duplicate key id";
        }
    }
    if (n > 0 && k[n].created_s < k[n - 1].created_s) {
        return "older than the key before it (newest last)";
    }
    return NULL;
}

static bool blank_or_comment(struct ntk_span line)
{
    struct ntk_span s = ntk_span_trim(line);
    return s.len == 0 || s.p[0] == '#';
}

/* Reads every key of text into k[0..*n). Returns 0 or an error (why written). */
static int parse_file(const char *text, size_t len, struct master *k, size_t *n, char *why,
                      size_t why_cap)
{
    struct ntk_tok t;
    ntk_tok_init(&t, text, len);
    size_t line_no = 0;
    *n = 0;
    while (!ntk_tok_eof(&t)) {
        struct ntk_span line;
        line_no++;
        if (ntk_tok_line(&t, &line, LINE_MAX_LEN) != 0) {
            fail_line(why, why_cap, line_no, "line too long");
            return NTK_ERANGE;
        }
        if (blank_or_comment(line)) {
            continue;
        }
        const char *bad = *n == FILE_KEYS_MAX ? "too many keys" : parse_key_line(line, &k[*n]);
        if (!bad) {
            bad = check_order(k, *n);
        }
        if (bad) {
            fail_line(why, why_cap, line_no, bad);
            return NTK_EFORMAT;
        }
        (*n)++;
    }
    return 0;
}

int ntss_load(struct ntss *s, const char *text, size_t len, char *why, size_t why_cap)
{
    if (len > NTSS_FILE_MAX) {
        fail_line(why, why_cap, 0, "file longer than 4096 bytes");
        return NTK_ERANGE;
    }
    struct master k[FILE_KEYS_MAX];
    size_t n = 0;
    int rc = parse_file(text, len, k, &n, why, why_cap);
    if (rc == 0) {
        drop_all(s);
        size_t skip = n > NTSS_KEYS_MAX ? n - NTSS_KEYS_MAX : 0;
        memcpy(s->keys, k + skip, (n - skip) * sizeof k[0]);
        s->n = n - skip;
        rc = (int)s->n;
    }
    OPENSSL_cleanse(k, sizeof k);
    return rc;
}

void ntss_format(const struct ntss *s, struct ntk_sb *sb)
{
    ntk_sb_puts(sb, "# ntpd NTS master keys (RFC 8915 section 6), oldest first: "
                    "key id, created (Unix seconds), AES-SIV-CMAC-256 key\n");
    for (size_t i = 0; i < s->n; i++) {
        const struct master *m = &s->keys[i];
        ntk_sb_printf(sb, "%08x %lld ", (unsigned)m->id, (long long)m->created_s);
        ntk_sb_hex(sb, m->key, sizeof m->key);
        ntk_sb_putc(sb, '\n');
    }
}

/* ---- rotation ---- */

static bool id_taken(const struct ntss *s, uint32_t id)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->keys[i].id == id) {
            return true;
        }
    }
    return false;
}

bool ntss_rotate(struct ntss *s, int64_t now_s)
{
    if (s->n > 0 && now_s - s->keys[s->n - 1].created_s < NTSS_ROTATE_S) {
        return false; /* also when the clock went back: now_s - created is then negative */
    }
    if (s->n == NTSS_KEYS_MAX) {
        wipe_master(&s->keys[0]);
        memmove(s->keys, s->keys + 1, (NTSS_KEYS_MAX - 1) * sizeof s->keys[0]);
        s->n--;
    }
    struct master *m = &s->keys[s->n];
    memset(m, 0, sizeof *m);
    uint8_t idb[4];
    do {
        s->rng->bytes(s->rng->ctx, idb, sizeof idb);
        m->id =
            (uint32_t)idb[0] << 24 | (uint32_t)idb[1] << 16 | (uint32_t)idb[2] << 8 | idb[3];
    } while (id_taken(s, m->id));
    s->rng->bytes(s->rng->ctx, m->key, sizeof m->key);
    m->created_s = now_s;
    s->n++;
    return true;
}

int64_t ntss_next_rotation(const struct ntss *s)
{
    return s->n == 0 ? 0 : s->keys[s->n - 1].created_s + NTSS_ROTATE_S;
}

size_t ntss_key_count(const struct ntss *s)
{
    return s->n;
}

void ntss_nonce(struct ntss *s, uint8_t nonce[NTK_AEAD_NONCE_LEN])
{
    s->rng->bytes(s->rng->ctx, nonce, NTK_AEAD_NONCE_LEN);
}

/* ---- cookies ---- */

int ntss_make_cookie(struct ntss *s, uint16_t aead, const uint8_t *c2s, const uint8_t *s2c,
                     size_t key_len, struct ntk_ke_cookie *out)
{
    if (s->n == 0) {
        return NTK_ENOTFOUND;
    }
    size_t want = ntk_aead_key_len(aead);
    if (want == 0) {
        return NTK_EUNSUPP;
    }
    if (key_len != want) {
        return NTK_EINVAL;
    }
    struct master *m = &s->keys[s->n - 1];
    struct ntk_aead_key *k = expanded(m);
    if (!k) {
        return NTK_ECRYPTO;
    }
    uint8_t pt[PT_HDR_LEN + 2 * NTK_AEAD_KEY_MAX] = {(uint8_t)(aead >> 8), (uint8_t)aead};
    memcpy(pt + PT_HDR_LEN, c2s, key_len);
    memcpy(pt + PT_HDR_LEN + key_len, s2c, key_len);
    uint8_t b[NTK_KE_COOKIE_MAX];
    struct ntk_wr w;
    ntk_wr_init(&w, b, sizeof b);
    ntk_wr_be32(&w, m->id);
    s->rng->bytes(s->rng->ctx, b + 4, NTK_AEAD_NONCE_LEN);
    int n = ntk_aead_seal(k, b, 4, b + 4, NTK_AEAD_NONCE_LEN, pt, PT_HDR_LEN + 2 * key_len,
                          b + PREFIX_LEN, sizeof b - PREFIX_LEN);
    OPENSSL_cleanse(pt, sizeof pt);
    if (n < 0) {
        return NTK_ECRYPTO;
    }
    out->len = (uint16_t)(PREFIX_LEN + (size_t)n);
    memcpy(out->b, b, out->len);
    s->st.made++;
    return 0;
}

/* The AEAD whose cookies are len bytes long, or 0. */
static uint16_t aead_of_len(size_t len)
{
    static const uint16_t algs[] = {NTK_AEAD_AES_SIV_CMAC_256, NTK_AEAD_AES_SIV_CMAC_384,
                                    NTK_AEAD_AES_SIV_CMAC_512};
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        size_t kl = ntk_aead_key_len(algs[i]);
        if (kl != 0 && len == NTSS_COOKIE_LEN(kl)) {
            return algs[i];
        }
    }
    return 0;
}

/* Finds the master key id; SIZE_MAX when we do not hold it. */
static size_t find_key(const struct ntss *s, uint32_t id)
{
    for (size_t i = s->n; i-- > 0;) {
        if (s->keys[i].id == id) {
            return i;
        }
    }
    return SIZE_MAX;
}

static void count_age(struct ntss *s, size_t i)
{
    size_t age = s->n - 1 - i;
    if (age == 0) {
        s->st.decode_current++;
    } else if (age == 1) {
        s->st.decode_old++;
    } else if (age == 2) {
        s->st.decode_old2++;
    } else {
        s->st.decode_older++;
    }
}

/* Checks the opened plaintext pt[0..n) of a cookie that was len bytes long and copies it. */
static int take_plaintext(const uint8_t *pt, size_t n, uint16_t len_aead,
                          struct ntss_cookie_keys *out)
{
    uint16_t aead = (uint16_t)(pt[0] << 8 | pt[1]);
    size_t kl = ntk_aead_key_len(aead);
    /* The AEAD inside must be the one the length says, and the padding zero: a cookie we
     * sealed always is, so anything else is a key file shared with another format. */
    if (aead != len_aead || pt[2] != 0 || pt[3] != 0 || n != PT_HDR_LEN + 2 * kl) {
        return NTK_EFORMAT;
    }
    out->aead = aead;
    out->key_len = kl;
    memcpy(out->c2s, pt + PT_HDR_LEN, kl);
    memcpy(out->s2c, pt + PT_HDR_LEN + kl, kl);
    return 0;
}

int ntss_open_cookie(struct ntss *s, const uint8_t *cookie, size_t len,
                     struct ntss_cookie_keys *out)
{
    uint16_t len_aead = aead_of_len(len);
    if (len_aead == 0) {
        s->st.decode_error++;
        return NTK_EFORMAT;
    }
    struct ntk_rd r;
    ntk_rd_init(&r, cookie, len);
    size_t i = find_key(s, ntk_rd_be32(&r));
    if (i == SIZE_MAX) {
        s->st.decode_too_old++;
        return NTK_ENOTFOUND;
    }
    struct ntk_aead_key *k = expanded(&s->keys[i]);
    uint8_t pt[PT_HDR_LEN + 2 * NTK_AEAD_KEY_MAX];
    int n = k ? ntk_aead_open(k, cookie, 4, cookie + 4, NTK_AEAD_NONCE_LEN,
                              cookie + PREFIX_LEN, len - PREFIX_LEN, pt, sizeof pt)
              : NTK_ECRYPTO;
    int rc = n < 0 ? (n == NTK_ECRYPTO ? NTK_ECRYPTO : NTK_EAUTH)
                   : take_plaintext(pt, (size_t)n, len_aead, out);
    OPENSSL_cleanse(pt, sizeof pt);
    if (rc != 0) {
        s->st.decode_error++;
        return rc;
    }
    count_age(s, i);
    return 0;
}

const struct ntss_stats *ntss_stats(const struct ntss *s)
{
    return &s->st;
}
