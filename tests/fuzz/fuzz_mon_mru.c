/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer harness: ntpmon's MRU-list chunk parser (mon_fetch.c) on arbitrary response data.
 */
/* The parser is static: the harness compiles mon_fetch.c itself (as unit tests do with lib/),
 * and links ntpmon_core for the rest. */
#include "../../cli/ntpmon/mon_fetch.c"

#include "fuzz.h"

#include "poison.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct mon_mru rows[MON_MRU_MAX + MRU_CHUNK_ROWS];
    struct mru_acc a = {.rows = rows, .n = 0, .near = {.tv_sec = 1764126000, .tv_nsec = 0}};
    memset(rows, 0, sizeof rows);
    /* Twice: the second chunk merges into the rows of the first, as successive fetches do. */
    mru_chunk(&a, (const char *)data, size);
    mru_chunk(&a, (const char *)data, size);
    FUZZ_CHECK(a.n <= MON_MRU_MAX + MRU_CHUNK_ROWS);
    for (size_t i = 0; i < a.n; i++) {
        const struct mon_mru *r = &rows[i];
        FUZZ_CHECK(memchr(r->addr, '\0', sizeof r->addr) != NULL);
        for (const char *p = r->addr; *p != '\0'; p++)
            FUZZ_CHECK((unsigned char)*p >= 0x20 && (unsigned char)*p != 0x7f); /* escaped */
        FUZZ_CHECK(r->mode >= 0 && r->mode <= 7 && r->version >= 0 && r->version <= 7);
        for (size_t j = 0; j < i; j++) /* merged: one row per address and port */
            FUZZ_CHECK(strcmp(rows[j].addr, r->addr) != 0 || rows[j].port != r->port);
    }
    return 0;
}
