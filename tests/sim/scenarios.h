/* SPDX-License-Identifier: BSD-2-Clause */
/* The scenarios of issue 4 (lan, wan, falseticker, coldstart, spiky, and lost-and-back,
 * leap second, panic, KoD RATE, KoD DENY), each with the checks its CTest asserts. */
#ifndef NTK_SCENARIOS_H
#define NTK_SCENARIOS_H

#include <stddef.h>
#include <stdio.h>

#include "sim.h"

/* One scenario. */
struct scn {
    const char *name; /* as on the command line and in the CTest name (sim_<name>) */
    const char *what; /* one line: the model */
    /* Fills *s (zeroed by the caller). */
    void (*spec)(struct sim_spec *s);
    /* Writes one line per assertion ("ok" / "FAIL") to out; returns the failures. */
    int (*check)(const struct sim_result *r, FILE *out);
    /* Writes a short note for the table's last column to buf[0..cap). */
    void (*note)(const struct sim_result *r, char *buf, size_t cap);
};

/* The scenarios, in the order. */
size_t scn_count(void);
const struct scn *scn_get(size_t i);

/* The scenario called name, NULL if none. */
const struct scn *scn_find(const char *name);

/* Formats an offset or duration in seconds with a fitting unit ("8.2 µs", "1.40 ms",
 * "2.000 s") into buf[0..cap); returns buf. */
const char *scn_fmt_s(double s, char *buf, size_t cap);

#endif /* NTK_SCENARIOS_H */
