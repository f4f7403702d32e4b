/* SPDX-License-Identifier: BSD-2-Clause */
/* Strict number parsing for command-line arguments: the whole string must be the number,
 * in range, or the caller reports a usage error naming the option. */
#ifndef NTK_CLI_NUM_H
#define NTK_CLI_NUM_H

#include <stdbool.h>

/* Parses a decimal integer (optional sign, no spaces, no trailing text) in [min, max].
 * Returns true and writes *out, or false. */
bool cli_parse_long(const char *s, long min, long max, long *out);

/* Parses a finite decimal number ("5", "0.25", no exponent needed but allowed) in
 * [min, max]. Returns true and writes *out, or false. */
bool cli_parse_double(const char *s, double min, double max, double *out);

#endif /* NTK_CLI_NUM_H */
