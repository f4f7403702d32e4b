/* SPDX-License-Identifier: BSD-2-Clause */
/* libcrypto loaded on first use, for a tool that needs it only when it is given a key (ntpq
 * -a): every OpenSSL function lib/ calls is defined here and forwarded to libcrypto.so.3,
 * which is dlopen()ed the first time one is called. A tool linked with these objects (and
 * -Wl,--as-needed) starts without loading libcrypto, which is half a millisecond of every
 * run on the benchmark machine (bench/BENCHMARKS.md, ntpq). When the library cannot be
 * loaded each function returns its failure value, and lib/ reports NTK_ECRYPTO as for any
 * OpenSSL failure. OPENSSL_cleanse and CRYPTO_memcmp are done here, so wiping a key or
 * comparing a MAC never loads it. */
#include <dlfcn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "poison.h"

/* The soname of Debian 12's OpenSSL 3 (package libssl3). */
#define LIBCRYPTO_SONAME "libcrypto.so.3"

static void *libcrypto;
static bool tried;

static void *sym(const char *name)
{
    if (!tried) {
        tried = true;
        libcrypto = dlopen(LIBCRYPTO_SONAME, RTLD_NOW | RTLD_LOCAL);
    }
    return libcrypto != NULL ? dlsym(libcrypto, name) : NULL;
}

/* A forwarder for a function returning ret: fail when libcrypto or the symbol is missing. */
#define FWD(ret, name, params, args, fail)                                                    \
    ret name params                                                                           \
    {                                                                                         \
        static ret(*f) params;                                                                \
        if (f == NULL) {                                                                      \
            void *p = sym(#name);                                                             \
            memcpy(&f, &p, sizeof f);                                                         \
        }                                                                                     \
        return f != NULL ? f args : (fail);                                                   \
    }

/* The same for a function returning nothing. */
#define FWD_VOID(name, params, args)                                                          \
    void name params                                                                          \
    {                                                                                         \
        static void(*f) params;                                                               \
        if (f == NULL) {                                                                      \
            void *p = sym(#name);                                                             \
            memcpy(&f, &p, sizeof f);                                                         \
        }                                                                                     \
        if (f != NULL)                                                                        \
            f args;                                                                           \
    }

FWD(unsigned long, OpenSSL_version_num, (void), (), 0)
FWD(EVP_MD_CTX *, EVP_MD_CTX_new, (void), (), NULL)
FWD_VOID(EVP_MD_CTX_free, (EVP_MD_CTX * ctx), (ctx))
FWD(EVP_MD *, EVP_MD_fetch, (OSSL_LIB_CTX * lc, const char *alg, const char *props),
    (lc, alg, props), NULL)
FWD_VOID(EVP_MD_free, (EVP_MD * md), (md))
FWD(const EVP_MD *, EVP_sha1, (void), (), NULL)
FWD(int, EVP_Digest,
    (const void *data, size_t n, unsigned char *md, unsigned int *len, const EVP_MD *type,
     ENGINE *impl),
    (data, n, md, len, type, impl), 0)
FWD(int, EVP_DigestInit_ex, (EVP_MD_CTX * ctx, const EVP_MD *type, ENGINE *impl),
    (ctx, type, impl), 0)
FWD(int, EVP_DigestInit_ex2, (EVP_MD_CTX * ctx, const EVP_MD *type, const OSSL_PARAM params[]),
    (ctx, type, params), 0)
FWD(int, EVP_DigestUpdate, (EVP_MD_CTX * ctx, const void *d, size_t n), (ctx, d, n), 0)
FWD(int, EVP_DigestFinal_ex, (EVP_MD_CTX * ctx, unsigned char *md, unsigned int *len),
    (ctx, md, len), 0)
FWD(EVP_MAC *, EVP_MAC_fetch, (OSSL_LIB_CTX * lc, const char *alg, const char *props),
    (lc, alg, props), NULL)
FWD_VOID(EVP_MAC_free, (EVP_MAC * mac), (mac))
FWD(EVP_MAC_CTX *, EVP_MAC_CTX_new, (EVP_MAC * mac), (mac), NULL)
FWD_VOID(EVP_MAC_CTX_free, (EVP_MAC_CTX * ctx), (ctx))
FWD(int, EVP_MAC_init,
    (EVP_MAC_CTX * ctx, const unsigned char *key, size_t keylen, const OSSL_PARAM params[]),
    (ctx, key, keylen, params), 0)
FWD(int, EVP_MAC_update, (EVP_MAC_CTX * ctx, const unsigned char *d, size_t n), (ctx, d, n), 0)
FWD(int, EVP_MAC_final, (EVP_MAC_CTX * ctx, unsigned char *out, size_t *outl, size_t outsize),
    (ctx, out, outl, outsize), 0)

/* Plain constructors of a parameter array (what OpenSSL's own do), kept here so that
 * building the parameters of a MAC that will fail anyway needs no library. */
OSSL_PARAM OSSL_PARAM_construct_utf8_string(const char *key, char *buf, size_t bsize)
{
    if (buf != NULL && bsize == 0)
        bsize = strlen(buf);
    return (OSSL_PARAM){key, OSSL_PARAM_UTF8_STRING, buf, bsize, OSSL_PARAM_UNMODIFIED};
}

OSSL_PARAM OSSL_PARAM_construct_end(void)
{
    return (OSSL_PARAM){NULL, 0, NULL, 0, 0};
}

void OPENSSL_cleanse(void *p, size_t n)
{
    explicit_bzero(p, n);
}

/* Constant time: every byte is looked at whatever the first difference. */
int CRYPTO_memcmp(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *x = a, *y = b;
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++)
        d |= (unsigned char)(x[i] ^ y[i]);
    return d;
}
