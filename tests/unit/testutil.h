/* SPDX-License-Identifier: BSD-2-Clause */
/* Helpers shared by the unit tests: a seeded PRNG for property loops, and reading test data.
 */
#ifndef NTK_TESTUTIL_H
#define NTK_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Seed for the property loops: NTK_TEST_SEED from the environment, or a fixed default so CI
 * runs are reproducible. tu_seed() prints it once so a failing run can be replayed. */
static uint64_t tu_state;

static inline void tu_seed(void)
{
    const char *env = getenv("NTK_TEST_SEED");
    tu_state = env ? strtoull(env, NULL, 0) : 0x6e74706b6974ULL;
    fprintf(stderr, "# seed: NTK_TEST_SEED=%llu\n", (unsigned long long)tu_state);
}

/* splitmix64: small, fast and good enough to generate test inputs. */
static inline uint64_t tu_rand(void)
{
    uint64_t z = (tu_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Fills n bytes with pseudo-random data. */
static inline void tu_fill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)tu_rand();
    }
}

/* Decodes a hex string into dst[cap]; returns the byte count, or -1. */
static inline int tu_unhex(const char *hex, uint8_t *dst, size_t cap)
{
    size_t n = strlen(hex);
    if (n % 2 || n / 2 > cap) {
        return -1;
    }
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        char two[3] = {hex[2 * i], hex[2 * i + 1], 0};
        char *end;
        v = (unsigned)strtoul(two, &end, 16);
        if (*end) {
            return -1;
        }
        dst[i] = (uint8_t)v;
    }
    return (int)(n / 2);
}

/* Reads a whole file into a malloc'd NUL-terminated buffer; *len gets its size. */
static inline char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

#ifdef NTK_TEST_DATA_DIR
/* Reads tests/data/<name> like tu_read_file; a test cannot go on without its data, so on
 * failure it says which path and aborts. */
static inline char *tu_read_data(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", NTK_TEST_DATA_DIR, name);
    char *text = tu_read_file(path, len);
    if (!text) {
        fprintf(stderr, "cannot read %s\n", path);
        abort();
    }
    return text;
}
#endif

#endif /* NTK_TESTUTIL_H */
