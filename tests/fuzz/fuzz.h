/* SPDX-License-Identifier: BSD-2-Clause */
/* What every fuzz harness shares: the libFuzzer entry point and an invariant check that stays
 * on in release builds (assert() is compiled out under NDEBUG). */
#ifndef NTK_FUZZ_H
#define NTK_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with the failed condition: libFuzzer then saves the input as a crash. */
#define FUZZ_CHECK(cond)                                                                      \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);      \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

#endif /* NTK_FUZZ_H */
