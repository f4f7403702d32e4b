/* SPDX-License-Identifier: BSD-2-Clause */
/* AES-SIV (RFC 5297) for NTS, built from OpenSSL 3 EVP AES-CBC (for CMAC) and AES-ECB (CTR).
 */
#include "ntk/aead.h"
#include "ntk/err.h"

#include <endian.h>
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
 * message (OpenSSL's parameter handling would cost more than the cipher: see cbc_run
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

/* The CTR half is keyed only when first needed (ctr_key): an NTS request's Authenticator
 * encrypts nothing, so a server never needs the K2 of a client's c2s key. */
struct ntk_aead_key {
    uint16_t alg;        /* 0 while unusable (after a failed re-key) */
    EVP_CIPHER_CTX *cbc; /* AES-CBC keyed with K1 (the S2V half), padding off */
    EVP_CIPHER_CTX *ctr; /* AES-ECB for K2 (the CTR half: ctr() makes the stream) */
    uint16_t ctr_alg;    /* the algorithm ctr was last initialised for (0: never) */
    bool ctr_keyed;      /* ctr holds K2 of the current key */
    uint8_t k2[NTK_AEAD_KEY_MAX / 2]; /* K2, kept until ctr is keyed with it */
    uint8_t sub1[BLK];                /* CMAC subkey K1 = dbl(AES(K1, 0)) (RFC 4493 §2.3) */
    uint8_t sub2[BLK];                /* CMAC subkey K2 = dbl(sub1) */
    uint8_t d0[BLK];    /* CMAC(K1, <zero>): S2V's starting value, the same every call */
    uint8_t chain[BLK]; /* the CBC context's chaining value: its last output block */
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

/* Whether a key-only EVP_EncryptInit_ex2 on a CBC context puts its IV back to the one it was
 * first given (zero here), as OpenSSL 3.0.19 does: a re-key then skips the IV, which costs
 * 45 ns of parameter handling. Probed once per process with a throwaway key rather than
 * assumed, since OpenSSL documents neither behaviour. */
static int iv_reset = -1; /* -1: not probed yet, 0: kept, 1: reset */

static bool probe_iv_reset(EVP_CIPHER *cbc)
{
    static const uint8_t key[32] = {0};
    uint8_t first[BLK], again[BLK];
    int n1 = 0, n2 = 0;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    bool reset = c && EVP_EncryptInit_ex2(c, cbc, key, zero_block, NULL) == 1 &&
                 EVP_EncryptUpdate(c, first, &n1, zero_block, BLK) == 1 &&
                 EVP_EncryptInit_ex2(c, NULL, key, NULL, NULL) == 1 &&
                 EVP_EncryptUpdate(c, again, &n2, zero_block, BLK) == 1 && n1 == BLK &&
                 n2 == BLK && memcmp(first, again, BLK) == 0;
    EVP_CIPHER_CTX_free(c);
    return reset;
}

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
    if (!fetch_failed[i] && iv_reset < 0) {
        iv_reset = probe_iv_reset(cbc_ciphers[i]) ? 1 : 0;
    }
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

/* Big-endian 64-bit loads and stores: one move and a byte swap each. (Byte loops were not
 * merged by gcc 12 at -O2, and their byte stores, read back by the next 8-byte load, stalled
 * store forwarding: dbl and xor_bytes were 4 % of an NTS server's CPU time under load.) */
static uint64_t load_be64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return be64toh(v);
}

static void store_be64(uint8_t *p, uint64_t v)
{
    v = htobe64(v);
    memcpy(p, &v, 8);
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

/* dst ^= src, one block. */
static void xor16(uint8_t dst[BLK], const uint8_t src[BLK])
{
    uint64_t a[2], b[2];
    memcpy(a, dst, BLK);
    memcpy(b, src, BLK);
    a[0] ^= b[0];
    a[1] ^= b[1];
    memcpy(dst, a, BLK);
}

/* Runs n bytes (whole blocks, at most SCRATCH) through the CBC chain; k->chain becomes the
 * last output block. The context is never re-initialised between CBC-MACs: that costs
 * OpenSSL's parameter handling, more than the blocks themselves (bench/BENCHMARKS.md, NTS).
 * It chains from its last output C instead, so a caller starting a new CBC-MAC XORs its
 * first block P1 with C: E(P1 ^ C ^ C) = E(P1), exactly what a zero IV gives. */
static int cbc_run(struct ntk_aead_key *k, const uint8_t *p, size_t n)
{
    uint8_t junk[SCRATCH];
    int got = 0;
    if (EVP_EncryptUpdate(k->cbc, junk, &got, p, (int)n) != 1 || (size_t)got != n) {
        return NTK_ECRYPTO;
    }
    memcpy(k->chain, junk + n - BLK, BLK);
    return NTK_OK;
}

/* ---- CMAC (RFC 4493) over the CBC context ---- */

/* XORs into buf, bytes off..off + n of a message that ends at x + BLK, the part of its last
 * BLK bytes it holds with xe (S2V's "Sn xorend D", RFC 5297 §2.4). */
static void xorend_part(uint8_t *buf, size_t off, size_t n, size_t x, const uint8_t *xe)
{
    for (size_t j = x > off ? x : off; j < off + n; j++) {
        buf[j - off] ^= xe[j - x];
    }
}

/* CMAC(K1, M) into out, where M is p[0..len) with, when xe is not NULL (len >= BLK), its last
 * BLK bytes XORed with xe. M is copied into a buffer a chunk of SCRATCH bytes at a time, its
 * first block XORed with the chain (cbc_run) and its last block finished there (padding,
 * subkey), so a message of up to SCRATCH bytes is one EVP call. */
static int cmac(struct ntk_aead_key *k, const uint8_t *p, size_t len, const uint8_t *xe,
                uint8_t out[BLK])
{
    uint8_t buf[SCRATCH];
    size_t total = len == 0 ? BLK : (len + BLK - 1) / BLK * BLK;
    size_t x = xe ? len - BLK : 0, used = 0;
    int rc = NTK_OK;
    for (size_t off = 0; off < total && rc == NTK_OK; off += SCRATCH) {
        size_t n = total - off < SCRATCH ? total - off : SCRATCH;
        size_t have = len - off < n ? len - off : n; /* message bytes in this chunk */
        used = n > used ? n : used;
        memcpy(buf, p + off, have);
        if (xe) {
            xorend_part(buf, off, have, x, xe);
        }
        if (off + n == total) { /* the last block: RFC 4493 §2.4 steps 3 and 4 */
            if (have == n && len > 0) {
                xor16(buf + n - BLK, k->sub1);
            } else {
                buf[have] = 0x80;
                memset(buf + have + 1, 0, n - have - 1);
                xor16(buf + n - BLK, k->sub2);
            }
        }
        if (off == 0) {
            xor16(buf, k->chain);
        }
        rc = cbc_run(k, buf, n);
    }
    OPENSSL_cleanse(buf, used); /* a cookie's plaintext holds keys */
    memcpy(out, k->chain, BLK);
    return rc;
}

/* ---- keys ---- */

/* Derives the CMAC subkeys and S2V's constant from the freshly keyed CBC context (its IV,
 * and so k->chain, zero): L = AES(K1, 0), sub1 = dbl(L), sub2 = dbl(sub1) (RFC 4493 §2.3),
 * and d0 = CMAC(K1, <zero>) = AES(K1, 0 xor sub1), one complete block. */
static int derive(struct ntk_aead_key *k)
{
    uint8_t x[BLK];
    int rc = cbc_run(k, zero_block, BLK); /* chain: L */
    memcpy(k->sub1, k->chain, BLK);
    dbl(k->sub1);
    memcpy(k->sub2, k->sub1, BLK);
    dbl(k->sub2);
    memcpy(x, k->sub1, BLK);
    xor16(x, k->chain); /* a new CBC-MAC of the one block sub1 */
    if (rc == NTK_OK) {
        rc = cbc_run(k, x, BLK);
    }
    memcpy(k->d0, k->chain, BLK);
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
    /* Same algorithm: key only, so OpenSSL keeps its provider contexts (no allocation), and
     * the IV too when a key-only init resets it to zero anyway (probe_iv_reset). */
    bool same = k->alg == alg;
    EVP_CIPHER *cbc = same ? NULL : cbc_ciphers[i];
    const uint8_t *iv = same && iv_reset == 1 ? NULL : zero_block;
    size_t half = len / 2; /* RFC 5297 §2.2: K1 (S2V) is the left half, K2 (CTR) the right */
    k->alg = 0;
    /* Padding is left on: only whole blocks go through EVP_EncryptUpdate, never Final, and
     * setting it costs a parameter lookup per re-key. */
    if (EVP_EncryptInit_ex2(k->cbc, cbc, key, iv, NULL) != 1) {
        return NTK_ECRYPTO;
    }
    memcpy(k->k2, key + half, half);
    k->ctr_keyed = false;
    memset(k->chain, 0, BLK);
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
    uint8_t m[BLK];
    int rc = cmac(k, p, len, NULL, m);
    dbl(d);
    xor16(d, m);
    return rc;
}

/* The last step: V = CMAC(Sn xorend D) when Sn has 16 bytes or more, else
 * CMAC(dbl(D) xor pad(Sn)). */
static int s2v_last(struct ntk_aead_key *k, uint8_t d[BLK], const uint8_t *pt, size_t len,
                    uint8_t v[BLK])
{
    if (len >= BLK) {
        return cmac(k, pt, len, d, v);
    }
    dbl(d);
    for (size_t i = 0; i < len; i++) {
        d[i] ^= pt[i];
    }
    d[len] ^= 0x80;
    return cmac(k, d, BLK, NULL, v);
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

/* Keys the CTR half with K2 when it is first needed after a key change. */
static int ctr_key(struct ntk_aead_key *k)
{
    if (k->ctr_keyed) {
        return NTK_OK;
    }
    int i = alg_index(k->alg);
    EVP_CIPHER *ecb = k->ctr_alg == k->alg ? NULL : ecb_ciphers[i];
    if (EVP_EncryptInit_ex2(k->ctr, ecb, k->k2, NULL, NULL) != 1) {
        k->ctr_alg = 0;
        return NTK_ECRYPTO;
    }
    k->ctr_alg = k->alg;
    k->ctr_keyed = true;
    OPENSSL_cleanse(k->k2, sizeof k->k2);
    return NTK_OK;
}

/* CTR with Q = V with bits 63 and 31 cleared (RFC 5297 §2.5), in -> out: the counter blocks
 * are encrypted with the ECB context (keyed once per key) and XORed in. OpenSSL's CTR mode
 * would need an init with the new IV for every operation, whose parameter handling cost
 * more than the blocks (bench/BENCHMARKS.md, NTS). */
static int ctr(struct ntk_aead_key *k, const uint8_t v[BLK], const uint8_t *in, size_t len,
               uint8_t *out)
{
    uint8_t ctrs[SCRATCH], ks[SCRATCH];
    /* Q as two 64-bit halves, counted with a carry: a 128-bit counter, mod 2^128. */
    uint64_t hi = load_be64(v), lo = load_be64(v + 8);
    lo &= ~(UINT64_C(1) << 63 | UINT64_C(1) << 31);
    int rc = len > 0 ? ctr_key(k) : NTK_OK;
    size_t used = 0; /* of ks: what the cleanse below must wipe */
    while (len > 0 && rc == NTK_OK) {
        size_t chunk = len < SCRATCH ? len : SCRATCH;
        size_t blocks = (chunk + BLK - 1) / BLK;
        used = blocks * BLK > used ? blocks * BLK : used;
        for (size_t b = 0; b < blocks; b++) {
            store_be64(ctrs + b * BLK, hi);
            store_be64(ctrs + b * BLK + 8, lo);
            hi += ++lo == 0;
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
