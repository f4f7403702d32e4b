/* SPDX-License-Identifier: BSD-2-Clause */
/* Loading an NTPsec keys file for a command-line tool (-k), with every problem reported as
 * file:line:col on the diagnostics stream. */
#ifndef NTK_CLI_KEYS_H
#define NTK_CLI_KEYS_H

#include <stdint.h>

#include "ntk/mac.h"

/* Largest keys file read (bytes); a keys file is a few lines. */
#define CLI_KEYS_FILE_MAX (1024 * 1024)

/* Reads and parses path, reports each diagnostic with cli_err, and builds a key store from
 * the valid keys (a line with an error loses only its own key, as in NTPsec). Returns 0 and
 * writes *out, or 1 after reporting why (unreadable, too large, no store). The caller frees
 * *out with ntk_mac_keys_free. */
int cli_keys_load(const char *path, struct ntk_mac_keys **out);

#endif /* NTK_CLI_KEYS_H */
