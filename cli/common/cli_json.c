/* SPDX-License-Identifier: BSD-2-Clause */
/* JSON helpers over json-c (see cli_json.h). */
#include "cli_json.h"

#include <math.h>

#include "ntk/sb.h"

#include "poison.h"

void cli_json_seconds(json_object *o, const char *key, double v)
{
    if (!isfinite(v)) {
        json_object_object_add(o, key, NULL);
        return;
    }
    char text[64];
    struct ntk_sb sb;
    ntk_sb_init(&sb, text, sizeof text);
    ntk_sb_printf(&sb, "%.9f", v);
    /* json-c prints a double_s with the given text, so the value keeps its 9 decimals. */
    json_object_object_add(o, key, json_object_new_double_s(v, ntk_sb_str(&sb)));
}

void cli_json_str(json_object *o, const char *key, const char *s)
{
    json_object_object_add(o, key, s != NULL ? json_object_new_string(s) : NULL);
}

void cli_json_int(json_object *o, const char *key, long long v, bool known)
{
    json_object_object_add(o, key, known ? json_object_new_int64(v) : NULL);
}

void cli_json_bool(json_object *o, const char *key, bool v)
{
    json_object_object_add(o, key, json_object_new_boolean(v));
}

void cli_json_ts(json_object *o, const char *hex_key, const char *iso_key, ntk_ts ts,
                 const struct timespec *near, bool known)
{
    if (!known) {
        json_object_object_add(o, hex_key, NULL);
        json_object_object_add(o, iso_key, NULL);
        return;
    }
    char text[NTK_TIMESTR_MAX];
    struct ntk_sb sb;
    ntk_sb_init(&sb, text, sizeof text);
    ntk_ts_format_hex(ts, &sb);
    json_object_object_add(o, hex_key, json_object_new_string(ntk_sb_str(&sb)));
    struct timespec t;
    ntk_ts_to_timespec_near(ts, near, &t);
    ntk_sb_init(&sb, text, sizeof text);
    ntk_time_format_iso(&t, 9, &sb);
    json_object_object_add(o, iso_key, json_object_new_string(ntk_sb_str(&sb)));
}

void cli_json_line(json_object *o, FILE *f)
{
    fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                JSON_C_TO_STRING_NOSLASHESCAPE),
          f);
    fputc('\n', f);
    fflush(f);
}
