/* SPDX-License-Identifier: BSD-2-Clause */
/* Symmetric-key MAC store, compute and verify through OpenSSL 3 EVP (ntk/mac.h). */
#include "ntk/mac.h"
#include "ntk/err.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "poison.h"

/* What each type is. The cipher names sit in writable arrays only because OSSL_PARAM takes a
 * char *; they are never written. */
static char cipher_aes128[] = "AES-128-CBC";
static char cipher_aes192[] = "AES-192-CBC";
static char cipher_aes256[] = "AES-256-CBC";

struct type_info {
    const char *name;   /* canonical keys-file name */
    const char *digest; /* OpenSSL digest name, NULL for CMAC */
    char *cipher;       /* OpenSSL cipher name for CMAC, NULL for digests */
    uint8_t mac_len;    /* bytes on the wire */
    uint8_t secret_len; /* required secret length, 0 = any */
};

/* RFC 8573 §4: AES-CMAC output is 16 bytes. NTPsec truncates longer digests to
 * MAX_BARE_MAC_LENGTH = 20 (libntp/macencrypt.c digest_encrypt). */
static const struct type_info types[NTK_MAC_TYPE_COUNT] = {
    [NTK_MAC_NONE] = {"NONE", NULL, NULL, 0, 0},
    [NTK_MAC_MD5] = {"MD5", "MD5", NULL, 16, 0},
    [NTK_MAC_SHA1] = {"SHA1", "SHA1", NULL, 20, 0},
    [NTK_MAC_SHA224] = {"SHA224", "SHA2-224", NULL, 20, 0},
    [NTK_MAC_SHA256] = {"SHA256", "SHA2-256", NULL, 20, 0},
    [NTK_MAC_SHA384] = {"SHA384", "SHA2-384", NULL, 20, 0},
    [NTK_MAC_SHA512] = {"SHA512", "SHA2-512", NULL, 20, 0},
    [NTK_MAC_AES128_CMAC] = {"AES", NULL, cipher_aes128, 16, 16},
    [NTK_MAC_AES192_CMAC] = {"AES-192", NULL, cipher_aes192, 16, 24},
    [NTK_MAC_AES256_CMAC] = {"AES-256", NULL, cipher_aes256, 16, 32},
};

/* One key of the store. */
struct slot {
    uint32_t keyid;
    enum ntk_mac_type type;
    uint8_t secret_len;
    uint8_t secret[NTK_MAC_SECRET_MAX];
    EVP_MAC_CTX *cmac; /* CMAC keys: context with the key schedule loaded; else NULL */
};

struct ntk_mac_keys {
    size_t n;                       /* keys in slots, sorted by keyid */
    EVP_MD *md[NTK_MAC_TYPE_COUNT]; /* fetched digests, by type (NULL if unused) */
    EVP_MD_CTX *mdctx;              /* shared digest context (NULL if no digest key) */
    EVP_MAC *mac;                   /* fetched "CMAC" (NULL if no CMAC key) */
    bool cmac_rekey;                /* give the key to every EVP_MAC_init (old 3.0.x) */
    struct slot slots[];            /* n keys */
};

static const struct type_info *info(enum ntk_mac_type type)
{
    unsigned t = (unsigned)type;
    return t > 0 && t < NTK_MAC_TYPE_COUNT ? &types[t] : NULL;
}

size_t ntk_mac_len(enum ntk_mac_type type)
{
    const struct type_info *ti = info(type);
    return ti ? ti->mac_len : 0;
}

size_t ntk_mac_secret_len(enum ntk_mac_type type)
{
    const struct type_info *ti = info(type);
    return ti ? ti->secret_len : 0;
}

bool ntk_mac_is_cmac(enum ntk_mac_type type)
{
    const struct type_info *ti = info(type);
    return ti && ti->cipher != NULL;
}

const char *ntk_mac_type_name(enum ntk_mac_type type)
{
    const struct type_info *ti = info(type);
    return ti ? ti->name : types[NTK_MAC_NONE].name;
}

bool ntk_mac_key_valid(const struct ntk_mac_key *k)
{
    const struct type_info *ti = info(k->type);
    if (!ti || k->keyid == 0 || k->keyid > NTK_MAC_KEYID_MAX) {
        return false;
    }
    if (k->secret_len == 0 || k->secret_len > NTK_MAC_SECRET_MAX) {
        return false;
    }
    return ti->secret_len == 0 || k->secret_len == ti->secret_len;
}

void ntk_mac_key_wipe(struct ntk_mac_key *keys, size_t n)
{
    if (keys && n > 0) {
        OPENSSL_cleanse(keys, n * sizeof keys[0]);
    }
}

static void free_store(struct ntk_mac_keys *ks)
{
    for (size_t i = 0; i < ks->n; i++) {
        EVP_MAC_CTX_free(ks->slots[i].cmac);
    }
    for (size_t t = 0; t < NTK_MAC_TYPE_COUNT; t++) {
        EVP_MD_free(ks->md[t]);
    }
    EVP_MD_CTX_free(ks->mdctx);
    EVP_MAC_free(ks->mac);
    OPENSSL_cleanse(ks->slots, ks->n * sizeof ks->slots[0]);
    free(ks);
}

void ntk_mac_keys_free(struct ntk_mac_keys *ks)
{
    if (ks) {
        free_store(ks);
    }
}

static int cmp_slot(const void *a, const void *b)
{
    uint32_t x = ((const struct slot *)a)->keyid;
    uint32_t y = ((const struct slot *)b)->keyid;
    return (x > y) - (x < y);
}

/* Copies and checks the keys, sorts them and refuses duplicates; 0 or NTK_EINVAL. */
static int fill_slots(struct ntk_mac_keys *ks, const struct ntk_mac_key *keys, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!ntk_mac_key_valid(&keys[i])) {
            return NTK_EINVAL;
        }
        struct slot *s = &ks->slots[i];
        s->keyid = keys[i].keyid;
        s->type = keys[i].type;
        s->secret_len = keys[i].secret_len;
        memcpy(s->secret, keys[i].secret, keys[i].secret_len);
        ks->n = i + 1;
    }
    if (n > 1) {
        qsort(ks->slots, n, sizeof ks->slots[0], cmp_slot);
    }
    for (size_t i = 1; i < n; i++) {
        if (ks->slots[i].keyid == ks->slots[i - 1].keyid) {
            return NTK_EINVAL;
        }
    }
    return NTK_OK;
}

/* Fetches the digest for type once per store. */
static int fetch_digest(struct ntk_mac_keys *ks, enum ntk_mac_type type)
{
    if (ks->md[type] == NULL) {
        ks->md[type] = EVP_MD_fetch(NULL, types[type].digest, NULL);
        if (ks->md[type] == NULL) {
            return NTK_EUNSUPP;
        }
    }
    if (ks->mdctx == NULL && (ks->mdctx = EVP_MD_CTX_new()) == NULL) {
        return NTK_ENOMEM;
    }
    return NTK_OK;
}

/* OpenSSL up to 3.0.2 did not restart a CMAC on EVP_MAC_init(ctx, NULL, 0, NULL); NTPsec
 * (libntp/macencrypt.c) reloads the key there, and so do we. */
static bool cmac_needs_rekey(void)
{
    return OpenSSL_version_num() < 0x30000030UL;
}

/* Creates the slot's CMAC context with its cipher and key loaded (RFC 8573 §4). */
static int prepare_cmac(struct ntk_mac_keys *ks, struct slot *s)
{
    if (ks->mac == NULL) {
        ks->mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
        if (ks->mac == NULL) {
            return NTK_EUNSUPP;
        }
        ks->cmac_rekey = cmac_needs_rekey();
    }
    s->cmac = EVP_MAC_CTX_new(ks->mac);
    if (s->cmac == NULL) {
        return NTK_ENOMEM;
    }
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, types[s->type].cipher, 0),
        OSSL_PARAM_construct_end(),
    };
    if (!EVP_MAC_init(s->cmac, s->secret, s->secret_len, params)) {
        return NTK_EUNSUPP;
    }
    return NTK_OK;
}

static int prepare_crypto(struct ntk_mac_keys *ks)
{
    for (size_t i = 0; i < ks->n; i++) {
        struct slot *s = &ks->slots[i];
        int rc = ntk_mac_is_cmac(s->type) ? prepare_cmac(ks, s) : fetch_digest(ks, s->type);
        if (rc != NTK_OK) {
            return rc;
        }
    }
    return NTK_OK;
}

int ntk_mac_keys_new(const struct ntk_mac_key *keys, size_t n, struct ntk_mac_keys **out)
{
    if (n > (SIZE_MAX - sizeof(struct ntk_mac_keys)) / sizeof(struct slot) ||
        (keys == NULL && n > 0)) {
        return NTK_EINVAL;
    }
    struct ntk_mac_keys *ks = calloc(1, sizeof *ks + n * sizeof(struct slot));
    if (ks == NULL) {
        return NTK_ENOMEM;
    }
    int rc = fill_slots(ks, keys, n);
    if (rc == NTK_OK) {
        rc = prepare_crypto(ks);
    }
    if (rc != NTK_OK) {
        free_store(ks);
        return rc;
    }
    *out = ks;
    return NTK_OK;
}

size_t ntk_mac_keys_count(const struct ntk_mac_keys *ks)
{
    return ks->n;
}

/* Binary search over the sorted slots; NULL when keyid is not there. */
static const struct slot *find(const struct ntk_mac_keys *ks, uint32_t keyid)
{
    size_t lo = 0, hi = ks->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t k = ks->slots[mid].keyid;
        if (k == keyid) {
            return &ks->slots[mid];
        }
        if (k < keyid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

int ntk_mac_keys_lookup(const struct ntk_mac_keys *ks, uint32_t keyid, enum ntk_mac_type *type)
{
    const struct slot *s = find(ks, keyid);
    if (s == NULL) {
        return NTK_ENOTFOUND;
    }
    if (type) {
        *type = s->type;
    }
    return NTK_OK;
}

/* digest(secret || data), NTPsec digest_encrypt; writes the full digest to out. */
static int run_digest(struct ntk_mac_keys *ks, const struct slot *s, const uint8_t *data,
                      size_t len, uint8_t out[EVP_MAX_MD_SIZE])
{
    unsigned int n = 0;
    if (!EVP_DigestInit_ex2(ks->mdctx, ks->md[s->type], NULL) ||
        !EVP_DigestUpdate(ks->mdctx, s->secret, s->secret_len) ||
        (len > 0 && !EVP_DigestUpdate(ks->mdctx, data, len)) ||
        !EVP_DigestFinal_ex(ks->mdctx, out, &n)) {
        return NTK_ECRYPTO;
    }
    return n >= ntk_mac_len(s->type) ? NTK_OK : NTK_ECRYPTO;
}

/* CMAC(secret, data) with the slot's prepared context (RFC 4493 §2.4). */
static int run_cmac(const struct ntk_mac_keys *ks, const struct slot *s, const uint8_t *data,
                    size_t len, uint8_t out[EVP_MAX_MD_SIZE])
{
    size_t n = 0;
    const uint8_t *key = ks->cmac_rekey ? s->secret : NULL;
    size_t key_len = ks->cmac_rekey ? s->secret_len : 0;
    if (!EVP_MAC_init(s->cmac, key, key_len, NULL) ||
        (len > 0 && !EVP_MAC_update(s->cmac, data, len)) ||
        !EVP_MAC_final(s->cmac, out, &n, EVP_MAX_MD_SIZE)) {
        return NTK_ECRYPTO;
    }
    return n >= ntk_mac_len(s->type) ? NTK_OK : NTK_ECRYPTO;
}

/* Computes the untruncated MAC of data with slot s into out. */
static int run_mac(struct ntk_mac_keys *ks, const struct slot *s, const uint8_t *data,
                   size_t len, uint8_t out[EVP_MAX_MD_SIZE])
{
    if (data == NULL && len > 0) {
        return NTK_EINVAL;
    }
    return s->cmac ? run_cmac(ks, s, data, len, out) : run_digest(ks, s, data, len, out);
}

int ntk_mac_compute(struct ntk_mac_keys *ks, uint32_t keyid, const uint8_t *data,
                    size_t data_len, uint8_t *mac, size_t mac_cap)
{
    const struct slot *s = find(ks, keyid);
    if (s == NULL) {
        return NTK_ENOTFOUND;
    }
    size_t want = ntk_mac_len(s->type);
    if (mac_cap < want) {
        return NTK_ENOSPC;
    }
    uint8_t full[EVP_MAX_MD_SIZE];
    int rc = run_mac(ks, s, data, data_len, full);
    if (rc == NTK_OK) {
        memcpy(mac, full, want);
        rc = (int)want;
    }
    OPENSSL_cleanse(full, sizeof full);
    return rc;
}

int ntk_mac_verify(struct ntk_mac_keys *ks, uint32_t keyid, const uint8_t *data,
                   size_t data_len, const uint8_t *mac, size_t mac_len)
{
    const struct slot *s = find(ks, keyid);
    if (s == NULL) {
        return NTK_ENOTFOUND;
    }
    /* NTPsec digest_decrypt/cmac_decrypt: a MAC of the wrong size is a failed MAC. */
    if (mac_len != ntk_mac_len(s->type) || mac == NULL) {
        return NTK_EAUTH;
    }
    uint8_t full[EVP_MAX_MD_SIZE];
    int rc = run_mac(ks, s, data, data_len, full);
    if (rc == NTK_OK && CRYPTO_memcmp(full, mac, mac_len) != 0) {
        rc = NTK_EAUTH;
    }
    OPENSSL_cleanse(full, sizeof full);
    return rc;
}
