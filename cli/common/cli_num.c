/* SPDX-License-Identifier: BSD-2-Clause */
/* Strict number parsing for command-line arguments (see cli_num.h). */
#include "cli_num.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "poison.h"

/* strtol and strtod skip leading spaces and accept "inf"/"nan"; an argument must not. */
static bool starts_like_number(const char *s)
{
    if (*s == '+' || *s == '-')
        s++;
    return isdigit((unsigned char)*s) || (*s == '.' && isdigit((unsigned char)s[1]));
}

bool cli_parse_long(const char *s, long min, long max, long *out)
{
    if (s == NULL || !starts_like_number(s))
        return false;
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool cli_parse_double(const char *s, double min, double max, double *out)
{
    if (s == NULL || !starts_like_number(s) || s[strspn(s, "0123456789.eE+-")] != '\0')
        return false;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < min || v > max)
        return false;
    *out = v;
    return true;
}
