/* SPDX-License-Identifier: BSD-2-Clause */
/* JSON helpers over json-c that keep ntpkit's output rules (ecosystem.md §2.5): durations as
 * numbers in seconds with 9 decimals, unknown values as null (keys always present), times as
 * RFC 3339 UTC plus the raw NTP timestamp, one compact object per line. */
#ifndef NTK_CLI_JSON_H
#define NTK_CLI_JSON_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "ntk/ntime.h"

/* Adds key: v seconds printed with 9 decimals, or null when v is NaN or infinite. */
void cli_json_seconds(json_object *o, const char *key, double v);

/* Adds key: the string s (json-c escapes it), or null when s is NULL. */
void cli_json_str(json_object *o, const char *key, const char *s);

/* Adds key: an integer, or null when known is false. */
void cli_json_int(json_object *o, const char *key, long long v, bool known);

/* Adds key: a boolean. */
void cli_json_bool(json_object *o, const char *key, bool v);

/* Adds hex_key: "eeb21f34.8ed35800" and iso_key: "2026-11-26T03:00:04.121695123Z" for ts,
 * its era chosen nearest to near; both null when known is false. */
void cli_json_ts(json_object *o, const char *hex_key, const char *iso_key, ntk_ts ts,
                 const struct timespec *near, bool known);

/* Writes o compactly and a newline to f, then flushes (JSON Lines). */
void cli_json_line(json_object *o, FILE *f);

#endif /* NTK_CLI_JSON_H */
