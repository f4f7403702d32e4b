/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness for daemon/io/files.c drift_parse: arbitrary bytes as a drift file. A refusal
 * names a reason and leaves the output alone; an accepted value is finite, within +-500 ppm,
 * equal to what strtod makes of the same text (the parser rounds correctly), and survives
 * drift_format -> drift_parse -> drift_format unchanged.
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "fuzz.h"
#include "ntk/err.h"
#include "ntk/sb.h"

#include "poison.h"

/* strtod over the accepted text (a NUL-free single line, by then known to be a plain
 * decimal); the copy is NUL-terminated for it. */
static double reference_value(const uint8_t *data, size_t size)
{
    char text[DRIFT_FILE_MAX + 1];
    size_t n = size < DRIFT_FILE_MAX ? size : DRIFT_FILE_MAX;
    memcpy(text, data, n);
    text[n] = '\0';
    return strtod(text, NULL);
}

static void check_round_trip(double v)
{
    char a[64], b[64];
    struct ntk_sb sa, sb;
    ntk_sb_init(&sa, a, sizeof a);
    FUZZ_CHECK(drift_format(v, &sa) == NTK_OK);
    double w = 1e300;
    const char *reason = NULL;
    FUZZ_CHECK(drift_parse(a, strlen(a), &w, &reason) == NTK_OK);
    FUZZ_CHECK(fabs(w - v) <= 5.000001e-7);
    ntk_sb_init(&sb, b, sizeof b);
    FUZZ_CHECK(drift_format(w, &sb) == NTK_OK);
    FUZZ_CHECK(strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const double sentinel = 1234.5;
    double v = sentinel;
    const char *reason = NULL;
    int rc = drift_parse((const char *)data, size, &v, &reason);
    FUZZ_CHECK(rc == NTK_OK || rc == NTK_EFORMAT || rc == NTK_ERANGE);
    if (rc != NTK_OK) {
        FUZZ_CHECK(reason != NULL && reason[0] != '\0');
        FUZZ_CHECK(v == sentinel);
        return 0;
    }
    FUZZ_CHECK(isfinite(v) && fabs(v) <= DRIFT_MAX_PPM);
    FUZZ_CHECK(size <= DRIFT_FILE_MAX);
    FUZZ_CHECK(v == reference_value(data, size));
    check_round_trip(v);
    return 0;
}
