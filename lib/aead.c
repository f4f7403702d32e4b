/* SPDX-License-Identifier: BSD-2-Clause */
/* AES-SIV (RFC 5297) for NTS, built from OpenSSL 3 EVP AES-CBC (for CMAC) and AES-ECB (CTR).
 */
#include "ntk/aead.h"
#include "ntk/err.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "poison.h"

/* Why not OpenSSL's own "AES-xxx-SIV" ciphers: in OpenSSL 3.0 (3.0.19 here) they refuse an
 * empty plaintext (EVP_EncryptFinal_ex fails: openssl/openssl#17268, #26580), and every NTS
 * request's Authenticator seals exactly that; they also allocate a CMAC context per
 * associated-data component and must be re-keyed (2.6 us) or copied (1.2 us) per message.
 * So S2V and CTR are composed here from two EVP contexts keyed once: AES-CBC with a zero IV
 * is CBC-MAC, the core of CMAC (RFC 4493), and AES-ECB over counter blocks is SIV's CTR
 * (RFC 5297 §2.5, a 128-bit big-endian counter). Neither context is re-initialised per
 * message (OpenSSL's parameter handling would cost more than the cipher: see cbc_blocks
 * and ctr). The unit test checks the result against
 * the RFC 5297 vectors, against OpenSSL's SIV cipher for non-empty plaintexts, and against
 * chrony's (nettle's) cookies and authenticators from real captures.
 *
 * Empty associated-data components: RFC 5297 §2.4 counts every component, empty or not, and
 * so does this code (a zero-length ad[i] still takes a dbl/xor step of S2V). OpenSSL's SIV
 * agrees since 3.0.10 (CVE-2023-2975) as long as the AD pointer is not NULL (measured on
 * 3.0.19: EVP_EncryptUpdate(ctx, NULL, &n, "", 0) adds an empty component, while
 * (ctx, NULL, &n, NULL, 0) returns 0 and adds none); here a NULL ad[i] of length 0 is an
 * empty component too. chrony's cookies use AD = [empty string, nonce] and open here (unit
 * test chrony_cookie_opens). */

#define BLK 16 /* AES block, CMAC output and SIV tag length */

/* RFC 5297 §2.4: S2V takes at most 127 components; the plaintext is always the last one. */
#define S2V_AD_MAX NTK_AEAD_AD_MAX

/* CBC output is thrown away (only the chaining value matters): processed in chunks of this. */
#define SCRATCH 256

struct ntk_aead_key {
    uint16_t alg;        /* 0 while unusable (after a failed re-key) */
    EVP_CIPHER_CTX *cbc; /* AES-CBC keyed with K1 (the S2V half), padding off */
    EVP_CIPHER_CTX *ctr; /* AES-ECB keyed with K2 (the CTR half: ctr() makes the stream) */
    uint8_t sub1[BLK];   /* CMAC subkey K1 = dbl(AES(K1, 0)) (RFC 4493 §2.3) */
    uint8_t sub2[BLK];   /* CMAC subkey K2 = dbl(sub1) */
    uint8_t d0[BLK];     /* CMAC(K1, <zero>): S2V's starting value, the same every call */
    uint8_t chain[BLK];  /* the CBC context's chaining value: its last output block */
    bool restart;        /* the next block starts a new CBC-MAC (cbc_blocks) */
};

/* One incremental CMAC: the pending block is held back until it is known not to be last. */
struct cmac {
    uint8_t buf[BLK]; /* pending bytes */
    size_t n;         /* how many, 0..BLK */
};

/* Per algorithm: OpenSSL names and the cached fetched ciphers. */
struct alg_info {
    uint16_t alg;
    size_t key_len;
    const char *name;
    const char *cbc_name;
    const char *ecb_name; /* the CTR half's block cipher (ctr() counts itself) */
};

static const struct alg_info algs[] = {
    {NTK_AEAD_AES_SIV_CMAC_256, 32, "AEAD_AES_SIV_CMAC_256", "AES-128-CBC", "AES-128-ECB"},
    {NTK_AEAD_AES_SIV_CMAC_384, 48, "AEAD_AES_SIV_CMAC_384", "AES-192-CBC", "AES-192-ECB"},
    {NTK_AEAD_AES_SIV_CMAC_512, 64, "AEAD_AES_SIV_CMAC_512", "AES-256-CBC", "AES-256-ECB"},
};
#define N_ALGS (sizeof algs / sizeof algs[0])

/* Fetched once and kept for the process (the daemon is single-threaded; a race between two
 * first fetches would only drop one reference). */
static EVP_CIPHER *cbc_ciphers[N_ALGS];
static EVP_CIPHER *ecb_ciphers[N_ALGS];
static bool fetch_failed[N_ALGS];

static const uint8_t zero_block[BLK];

/* The index of alg in algs, or -1. */
static int alg_index(uint16_t alg)
{
    for (size_t i = 0; i < N_ALGS; i++) {
        if (algs[i].alg == alg) {
            return (int)i;
        }
    }
    return -1;
}

/* Fetches the ciphers of algs[i] on first use; false when OpenSSL lacks them. */
static bool fetch(size_t i)
{
    if (cbc_ciphers[i] && ecb_ciphers[i]) {
        return true;
    }
    if (fetch_failed[i]) {
        return false;
    }
    if (!cbc_ciphers[i]) {
        cbc_ciphers[i] = EVP_CIPHER_fetch(NULL, algs[i].cbc_name, NULL);
    }
    if (!ecb_ciphers[i]) {
        ecb_ciphers[i] = EVP_CIPHER_fetch(NULL, algs[i].ecb_name, NULL);
    }
    fetch_failed[i] = !cbc_ciphers[i] || !ecb_ciphers[i];
    return !fetch_failed[i];
}

size_t ntk_aead_key_len(uint16_t alg)
{
    int i = alg_index(alg);
    return i >= 0 && fetch((size_t)i) ? algs[i].key_len : 0;
}

bool ntk_aead_supported(uint16_t alg)
{
    return ntk_aead_key_len(alg) != 0;
}

const char *ntk_aead_name(uint16_t alg)
{
    int i = alg_index(alg);
    return i >= 0 ? algs[i].name : "unknown";
}

/* ASCII case-insensitive equality (strcasecmp is locale-dependent). */
static bool eq_nocase(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = (*a >= 'a' && *a <= 'z') ? (char)(*a - 'a' + 'A') : *a;
        char y = (*b >= 'a' && *b <= 'z') ? (char)(*b - 'a' + 'A') : *b;
        if (x != y) {
            return false;
        }
    }
    return *a == *b;
}

/* A decimal number of at most 5 digits, or -1. */
static long parse_decimal(const char *s)
{
    long v = 0;
    size_t n = 0;
    for (; s[n] >= '0' && s[n] <= '9' && n < 6; n++) {
        v = v * 10 + (s[n] - '0');
    }
    return n > 0 && n <= 5 && s[n] == '\0' ? v : -1;
}

uint16_t ntk_aead_from_name(const char *name)
{
    if (!name) {
        return 0;
    }
    long num = parse_decimal(name);
    for (size_t i = 0; i < N_ALGS; i++) {
        const char *iana = algs[i].name;
        if (num == algs[i].alg || eq_nocase(name, iana) || eq_nocase(name, iana + 5)) {
            return algs[i].alg; /* iana + 5 skips "AEAD_" */
        }
    }
    return 0;
}

/* ---- block helpers ---- */

/* Big-endian 64-bit loads and stores (compilers make each a single byte-swapping move). */
static uint64_t load_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

static void store_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

/* RFC 5297 §2.3 dbl(): multiply by x in GF(2^128), without a secret-dependent branch; in two
 * 64-bit halves (a byte loop was 1.7 % of an NTS server's CPU time under load). */
static void dbl(uint8_t b[BLK])
{
    uint64_t hi = load_be64(b), lo = load_be64(b + 8);
    uint64_t mask = 0 - (hi >> 63);
    store_be64(b, hi << 1 | lo >> 63);
    store_be64(b + 8, lo << 1 ^ (mask & 0x87));
}

/* dst ^= src over n bytes, 8 at a time (memcpy: no alignment assumed). */
static void xor_bytes(uint8_t *dst, const uint8_t *a, const uint8_t *b, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        x ^= y;
        memcpy(dst + i, &x, 8);
    }
    for (; i < n; i++) {
        dst[i] = a[i] ^ b[i];
    }
}

static void xor_block(uint8_t *dst, const uint8_t *src, size_t n)
{
    xor_bytes(dst, dst, src, n);
}

/* Runs len bytes (a multiple of BLK) through the CBC chain; out gets the last output block
 * when not NULL. A new CBC-MAC (k->restart) does not re-initialise the context: that costs
 * OpenSSL's parameter handling, more than the block itself (bench/BENCHMARKS.md, NTS). The
 * context chains from its last output C, so the first block goes in as P1 ^ C and comes out
 * as E(P1 ^ C ^ C) = E(P1): exactly what a zero IV gives. */
static int cbc_blocks(struct ntk_aead_key *k, const uint8_t *p, size_t len, uint8_t *out)
{
    uint8_t scratch[SCRATCH];
    int n = 0;
    if (len == 0) {
        return NTK_OK;
    }
    if (k->restart) {
        uint8_t first[BLK];
        memcpy(first, p, BLK);
        xor_block(first, k->chain, BLK);
        k->restart = false;
        if (EVP_EncryptUpdate(k->cbc, scratch, &n, first, BLK) != 1 || n != BLK) {
            return NTK_ECRYPTO;
        }
        p += BLK;
        len -= BLK;
    }
    while (len > 0) {
        size_t chunk = len < SCRATCH ? len : SCRATCH;
        if (EVP_EncryptUpdate(k->cbc, scratch, &n, p, (int)chunk) != 1 || (size_t)n != chunk) {
            return NTK_ECRYPTO;
        }
        p += chunk;
        len -= chunk;
    }
    memcpy(k->chain, scratch + n - BLK, BLK);
    if (out) {
        memcpy(out, scratch + n - BLK, BLK);
    }
    return NTK_OK;
}

/* ---- CMAC (RFC 4493) over the CBC context ---- */

static int cmac_start(struct ntk_aead_key *k, struct cmac *c)
{
    c->n = 0;
    k->restart = true;
    return NTK_OK;
}

static int cmac_update(struct ntk_aead_key *k, struct cmac *c, const uint8_t *p, size_t len)
{
    if (len <= BLK - c->n) {
        if (len > 0) {
            memcpy(c->buf + c->n, p, len);
        }
        c->n += len;
        return NTK_OK;
    }
    /* More data follows the pending block, so it is not the last: chain it. */
    size_t fill = BLK - c->n;
    memcpy(c->buf + c->n, p, fill);
    p += fill;
    len -= fill;
    int rc = cbc_blocks(k, c->buf, BLK, NULL);
    /* Keep 1..BLK bytes back: the last block is special. */
    size_t bulk = (len - 1) / BLK * BLK;
    if (rc == NTK_OK && bulk > 0) {
        rc = cbc_blocks(k, p, bulk, NULL);
    }
    memcpy(c->buf, p + bulk, len - bulk);
    c->n = len - bulk;
    return rc;
}

static int cmac_finish(struct ntk_aead_key *k, struct cmac *c, uint8_t out[BLK])
{
    if (c->n == BLK) {
        xor_block(c->buf, k->sub1, BLK);
    } else {
        c->buf[c->n] = 0x80;
        memset(c->buf + c->n + 1, 0, BLK - c->n - 1);
        xor_block(c->buf, k->sub2, BLK);
    }
    int rc = cbc_blocks(k, c->buf, BLK, out);
    OPENSSL_cleanse(c->buf, BLK);
    return rc;
}

/* CMAC of one whole message. */
static int cmac(struct ntk_aead_key *k, const uint8_t *p, size_t len, uint8_t out[BLK])
{
    struct cmac c;
    int rc = cmac_start(k, &c);
    if (rc == NTK_OK) {
        rc = cmac_update(k, &c, p, len);
    }
    return rc == NTK_OK ? cmac_finish(k, &c, out) : rc;
}

/* ---- keys ---- */

/* Derives the CMAC subkeys and S2V's constant from the freshly keyed CBC context (its IV is
 * zero): L = AES(K1, 0), sub1 = dbl(L), sub2 = dbl(sub1) (RFC 4493 §2.3), and
 * d0 = CMAC(K1, <zero>) = AES(K1, 0 xor sub1), one complete block: fed to the CBC chain
 * (whose value is L after the first block) as sub1 xor L. */
static int derive(struct ntk_aead_key *k)
{
    uint8_t l[BLK], x[BLK];
    int rc = cbc_blocks(k, zero_block, BLK, l);
    memcpy(k->sub1, l, BLK);
    dbl(k->sub1);
    memcpy(k->sub2, k->sub1, BLK);
    dbl(k->sub2);
    memcpy(x, k->sub1, BLK);
    xor_block(x, l, BLK);
    if (rc == NTK_OK) {
        rc = cbc_blocks(k, x, BLK, k->d0);
    }
    OPENSSL_cleanse(l, BLK);
    OPENSSL_cleanse(x, BLK);
    return rc;
}

int ntk_aead_key_set(struct ntk_aead_key *k, uint16_t alg, const uint8_t *key, size_t len)
{
    int i = alg_index(alg);
    if (i < 0 || !fetch((size_t)i)) {
        return NTK_EUNSUPP;
    }
    if (!key || len != algs[i].key_len) {
        return NTK_EINVAL;
    }
    /* Same algorithm: key only, so OpenSSL keeps its provider contexts (no allocation). */
    EVP_CIPHER *cbc = k->alg == alg ? NULL : cbc_ciphers[i];
    EVP_CIPHER *ctr = k->alg == alg ? NULL : ecb_ciphers[i];
    size_t half = len / 2; /* RFC 5297 §2.2: K1 (S2V) is the left half, K2 (CTR) the right */
    k->alg = 0;
    /* Padding is left on: only whole blocks go through EVP_EncryptUpdate, never Final, and
     * setting it costs a parameter lookup per re-key. */
    if (EVP_EncryptInit_ex2(k->cbc, cbc, key, zero_block, NULL) != 1 ||
        EVP_EncryptInit_ex2(k->ctr, ctr, key + half, NULL, NULL) != 1) {
        return NTK_ECRYPTO;
    }
    memset(k->chain, 0, BLK);
    k->restart = false;
    int rc = derive(k);
    if (rc == NTK_OK) {
        k->alg = alg;
    }
    return rc;
}

int ntk_aead_key_init(struct ntk_aead_key **out, uint16_t alg, const uint8_t *key, size_t len)
{
    int i = alg_index(alg);
    if (i < 0 || !fetch((size_t)i)) {
        return NTK_EUNSUPP;
    }
    if (!key || len != algs[i].key_len) {
        return NTK_EINVAL;
    }
    struct ntk_aead_key *k = calloc(1, sizeof *k);
    if (!k) {
        return NTK_ENOMEM;
    }
    k->cbc = EVP_CIPHER_CTX_new();
    k->ctr = EVP_CIPHER_CTX_new();
    int rc = k->cbc && k->ctr ? ntk_aead_key_set(k, alg, key, len) : NTK_ENOMEM;
    if (rc != NTK_OK) {
        ntk_aead_key_free(k);
        return rc;
    }
    *out = k;
    return NTK_OK;
}

void ntk_aead_key_free(struct ntk_aead_key *k)
{
    if (!k) {
        return;
    }
    EVP_CIPHER_CTX_free(k->cbc); /* OpenSSL wipes the key schedules */
    EVP_CIPHER_CTX_free(k->ctr);
    OPENSSL_cleanse(k, sizeof *k);
    free(k);
}

uint16_t ntk_aead_key_alg(const struct ntk_aead_key *k)
{
    return k->alg;
}

/* ---- SIV ---- */

/* The inputs of one operation: S2V's components, the plaintext last. */
struct siv_args {
    const uint8_t *const *ad;
    const size_t *ad_len;
    size_t n_ad;
    const uint8_t *nonce;
    size_t nonce_len;
};

/* D = dbl(D) xor CMAC(component): one step of S2V (RFC 5297 §2.4). */
static int s2v_step(struct ntk_aead_key *k, uint8_t d[BLK], const uint8_t *p, size_t len)
{
    uint8_t m[BLK] = {0}; /* cmac writes it unless it fails; gcc cannot see that */
    int rc = cmac(k, p, len, m);
    dbl(d);
    xor_block(d, m, BLK);
    return rc;
}

/* The last step: V = CMAC(Sn xorend D) when Sn has 16 bytes or more, else
 * CMAC(dbl(D) xor pad(Sn)). */
static int s2v_last(struct ntk_aead_key *k, uint8_t d[BLK], const uint8_t *pt, size_t len,
                    uint8_t v[BLK])
{
    if (len < BLK) {
        dbl(d);
        for (size_t i = 0; i < len; i++) {
            d[i] ^= pt[i];
        }
        d[len] ^= 0x80;
        return cmac(k, d, BLK, v);
    }
    struct cmac c;
    uint8_t tail[BLK];
    memcpy(tail, pt + len - BLK, BLK);
    xor_block(tail, d, BLK);
    int rc = cmac_start(k, &c);
    if (rc == NTK_OK) {
        rc = cmac_update(k, &c, pt, len - BLK);
    }
    if (rc == NTK_OK) {
        rc = cmac_update(k, &c, tail, BLK);
    }
    return rc == NTK_OK ? cmac_finish(k, &c, v) : rc;
}

/* S2V(K1, ad[0], ..., ad[n_ad - 1], nonce (when given), pt) into v. */
static int s2v(struct ntk_aead_key *k, const struct siv_args *a, const uint8_t *pt,
               size_t pt_len, uint8_t v[BLK])
{
    static const uint8_t empty[1];
    uint8_t d[BLK];
    memcpy(d, k->d0, BLK);
    int rc = NTK_OK;
    for (size_t i = 0; i < a->n_ad && rc == NTK_OK; i++) {
        rc = s2v_step(k, d, a->ad[i] ? a->ad[i] : empty, a->ad_len[i]);
    }
    if (rc == NTK_OK && a->nonce_len > 0) {
        rc = s2v_step(k, d, a->nonce, a->nonce_len);
    }
    if (rc == NTK_OK) {
        rc = s2v_last(k, d, pt, pt_len, v);
    }
    OPENSSL_cleanse(d, BLK);
    return rc;
}

/* Adds one to a 128-bit big-endian counter (RFC 5297 §2.5: Q, Q + 1, ... mod 2^128). */
static void inc128(uint8_t c[BLK])
{
    for (int i = BLK - 1; i >= 0; i--) {
        if (++c[i] != 0) {
            break;
        }
    }
}

/* CTR with Q = V with bits 63 and 31 cleared (RFC 5297 §2.5), in -> out: the counter blocks
 * are encrypted with the ECB context (keyed once per key) and XORed in. OpenSSL's CTR mode
 * would need an init with the new IV for every operation, whose parameter handling cost
 * more than the blocks (bench/BENCHMARKS.md, NTS). */
static int ctr(struct ntk_aead_key *k, const uint8_t v[BLK], const uint8_t *in, size_t len,
               uint8_t *out)
{
    uint8_t q[BLK], ctrs[SCRATCH], ks[SCRATCH];
    memcpy(q, v, BLK);
    q[8] &= 0x7f;
    q[12] &= 0x7f;
    int rc = NTK_OK;
    size_t used = 0; /* of ks: what the cleanse below must wipe */
    while (len > 0 && rc == NTK_OK) {
        size_t chunk = len < SCRATCH ? len : SCRATCH;
        size_t blocks = (chunk + BLK - 1) / BLK;
        used = blocks * BLK > used ? blocks * BLK : used;
        for (size_t b = 0; b < blocks; b++) {
            memcpy(ctrs + b * BLK, q, BLK);
            inc128(q);
        }
        int n = 0;
        if (EVP_EncryptUpdate(k->ctr, ks, &n, ctrs, (int)(blocks * BLK)) != 1 ||
            (size_t)n != blocks * BLK) {
            rc = NTK_ECRYPTO;
            break;
        }
        xor_bytes(out, in, ks, chunk);
        in += chunk;
        out += chunk;
        len -= chunk;
    }
    if (used > 0) {
        OPENSSL_cleanse(ks, used);
    }
    return rc;
}

/* Checks what seal and open share: a usable key, a sane component list, a length that fits
 * the int return. */
static int check_args(const struct ntk_aead_key *k, const struct siv_args *a, size_t len)
{
    if (!k || k->alg == 0 || (a->n_ad > 0 && (!a->ad || !a->ad_len)) ||
        (a->nonce_len > 0 && !a->nonce) ||
        a->n_ad + (a->nonce_len > 0 ? 1u : 0u) > S2V_AD_MAX) {
        return NTK_EINVAL;
    }
    for (size_t i = 0; i < a->n_ad; i++) {
        if (!a->ad[i] && a->ad_len[i] > 0) {
            return NTK_EINVAL;
        }
    }
    return len > (size_t)INT_MAX - BLK ? NTK_ERANGE : NTK_OK;
}

static int seal(struct ntk_aead_key *k, const struct siv_args *a, const uint8_t *pt,
                size_t pt_len, uint8_t *out, size_t cap)
{
    int rc = check_args(k, a, pt_len);
    if (rc == NTK_OK && pt_len > 0 && !pt) {
        rc = NTK_EINVAL;
    }
    if (rc != NTK_OK) {
        return rc;
    }
    if (!out || cap < pt_len + BLK) {
        return NTK_ENOSPC;
    }
    uint8_t v[BLK];
    rc = s2v(k, a, pt, pt_len, v);
    if (rc == NTK_OK) {
        rc = ctr(k, v, pt, pt_len, out + BLK);
    }
    if (rc != NTK_OK) {
        return rc;
    }
    memcpy(out, v, BLK);
    return (int)(pt_len + BLK);
}

static int open_ct(struct ntk_aead_key *k, const struct siv_args *a, const uint8_t *ct,
                   size_t ct_len, uint8_t *out, size_t cap)
{
    int rc = check_args(k, a, ct_len);
    if (rc != NTK_OK) {
        return rc;
    }
    if (!ct || ct_len < BLK) {
        return ct ? NTK_ETRUNC : NTK_EINVAL;
    }
    size_t pt_len = ct_len - BLK;
    if (cap < pt_len || (pt_len > 0 && !out)) {
        return NTK_ENOSPC;
    }
    uint8_t v[BLK];
    rc = ctr(k, ct, ct + BLK, pt_len, out);
    if (rc == NTK_OK) {
        rc = s2v(k, a, out, pt_len, v);
    }
    if (rc == NTK_OK && CRYPTO_memcmp(v, ct, BLK) != 0) {
        rc = NTK_EAUTH;
    }
    if (rc != NTK_OK) {
        OPENSSL_cleanse(out, pt_len); /* no unauthenticated plaintext leaves */
        return rc;
    }
    return (int)pt_len;
}

int ntk_aead_seal(struct ntk_aead_key *k, const uint8_t *ad, size_t ad_len,
                  const uint8_t *nonce, size_t nonce_len, const uint8_t *pt, size_t pt_len,
                  uint8_t *out, size_t cap)
{
    const struct siv_args a = {&ad, &ad_len, 1, nonce, nonce_len};
    return seal(k, &a, pt, pt_len, out, cap);
}

int ntk_aead_open(struct ntk_aead_key *k, const uint8_t *ad, size_t ad_len,
                  const uint8_t *nonce, size_t nonce_len, const uint8_t *ct, size_t ct_len,
                  uint8_t *out, size_t cap)
{
    const struct siv_args a = {&ad, &ad_len, 1, nonce, nonce_len};
    return open_ct(k, &a, ct, ct_len, out, cap);
}

int ntk_aead_seal_v(struct ntk_aead_key *k, const uint8_t *const *ad, const size_t *ad_len,
                    size_t n_ad, const uint8_t *nonce, size_t nonce_len, const uint8_t *pt,
                    size_t pt_len, uint8_t *out, size_t cap)
{
    const struct siv_args a = {ad, ad_len, n_ad, nonce, nonce_len};
    return seal(k, &a, pt, pt_len, out, cap);
}

int ntk_aead_open_v(struct ntk_aead_key *k, const uint8_t *const *ad, const size_t *ad_len,
                    size_t n_ad, const uint8_t *nonce, size_t nonce_len, const uint8_t *ct,
                    size_t ct_len, uint8_t *out, size_t cap)
{
    const struct siv_args a = {ad, ad_len, n_ad, nonce, nonce_len};
    return open_ct(k, &a, ct, ct_len, out, cap);
}
