/* SPDX-License-Identifier: BSD-2-Clause */
/* The NTPsec symmetric keys file (ntp.keys(5)): parser and writer.
 *
 * Format, one key per line: `keyid type key`, fields separated by spaces or tabs.
 *   keyid  decimal 1..65535 (leading zeros allowed).
 *   type   case-insensitive: MD5, SHA1 or SHA-1, AES / AES128CMAC / AES-128 (AES-128-CMAC),
 *          AES-192, AES-256, SHA224 SHA256 SHA384 SHA512 (also spelled SHA-256 and SHA2-256),
 *          and NTPsec's legacy rule that an unknown type beginning with 'M' means MD5 ("M" is
 *          ntp classic's type letter; any other such name gives a warning). MD4, MD2, MDC2
 *          and MD5-SHA1 are OpenSSL digests, so NTPsec does not map them to MD5: refused.
 *   key    20 characters or fewer: the ASCII secret itself (printable, no '#'); longer: the
 *          secret in hex, an even number of digits, at most 64 (32 bytes).
 *   '#' starts a comment anywhere on a line, even inside a token (NTPsec's nexttok); blank
 *   lines are skipped; a '\r' before the '\n' is ignored.
 * CMAC secrets are zero-padded or truncated to the cipher's key length, as NTPsec does
 * (check_cmac_key_length); that is reported as a warning and the key is kept.
 *
 * Where we are stricter than NTPsec 1.2 (which logs and goes on, or silently accepts), the
 * line is an error: a key id with trailing non-digits (NTPsec's atoi takes "12abc" as 12),
 * text after the key (NTPsec ignores it, so a secret with a space is silently cut), an odd
 * number of hex digits (NTPsec drops the last one), more than 64 hex digits (NTPsec truncates
 * to 32 bytes; chrony would use the whole key), a control or non-ASCII byte in an ASCII key,
 * and a duplicate key id (NTPsec lets the later line win). Other OpenSSL names NTPsec passes
 * through (RSA-SHA1, SHA3-256, CAMELLIA-128, chrony's AES128 ...) are refused as unsupported.
 *
 * Diagnostics: the parser goes on after an error, so that `ntpd --check-config` can list
 * every problem as file:line:column. An error means the line's key was NOT stored; a warning
 * means it was. Parsing allocates nothing: keys and diagnostics go into caller arrays.
 */
#ifndef NTK_KEYFILE_H
#define NTK_KEYFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntk/mac.h"
#include "ntk/sb.h"

/* One problem found in a keys file. */
struct ntk_keyfile_diag {
    uint32_t line;     /* 1-based line number */
    uint32_t col;      /* 1-based byte column where the offending token starts */
    int err;           /* enum ntk_err for the kind of problem, warnings too (ERANGE...) */
    bool warning;      /* false: error, the line's key was not stored; true: key stored */
    uint32_t keyid;    /* the key id of the line when it was read, 0 otherwise */
    uint32_t ref_line; /* for a duplicate id: the line that defined it first; 0 otherwise */
    const char *msg;   /* static English text ("invalid hex digit"), never NULL */
};

/* Parser results. Initialise with ntk_keyfile_init(); the fields are then read directly.
 * keys and diags are the caller's arrays (borrowed). */
struct ntk_keyfile {
    struct ntk_mac_key *keys;       /* where valid keys go, in file order */
    size_t keys_cap;                /* size of keys */
    size_t nkeys;                   /* keys stored so far, <= keys_cap */
    struct ntk_keyfile_diag *diags; /* where diagnostics go (NULL if diags_cap is 0) */
    size_t diags_cap;               /* size of diags */
    size_t ndiags;                  /* diagnostics stored, <= diags_cap (the first ones) */
    size_t nerrors;                 /* errors found, including those not stored */
    size_t nwarnings;               /* warnings found, including those not stored */
};

/* Starts empty results over keys[keys_cap] and diags[diags_cap] (diags may be NULL). */
void ntk_keyfile_init(struct ntk_keyfile *kf, struct ntk_mac_key *keys, size_t keys_cap,
                      struct ntk_keyfile_diag *diags, size_t diags_cap);

/* Returns an upper bound of the keys that text[0..len) can define (its line count), to size
 * the keys array. */
size_t ntk_keyfile_max_keys(const char *text, size_t len);

/* Parses len bytes of keys-file text (need not be NUL-terminated; the caller read the file).
 * Appends each valid key to kf->keys and each problem to kf->diags, whatever is returned;
 * keys already in kf (from an earlier call) count for the duplicate check. A valid key that
 * does not fit in keys_cap is an NTK_ENOSPC error on its line. Returns 0 when no line had an
 * error (warnings allowed), else the err of the first error of this call. The secrets in
 * kf->keys belong to the caller: wipe them with ntk_mac_key_wipe() when done (and the text).
 * Uses about 8 KiB of stack (a bitmap of the 65536 key ids for the duplicate check). */
int ntk_keyfile_parse(struct ntk_keyfile *kf, const char *text, size_t len);

/* Appends key as one keys-file line "keyid TYPE secret\n": the secret in ASCII when it is 20
 * printable characters or fewer without '#', else in lowercase hex. Parsing the line gives the
 * same key back. Returns 0; NTK_EINVAL when the key is invalid or cannot be written (a binary
 * secret of 10 bytes or fewer: its hex would read as ASCII); NTK_ENOSPC if sb overflowed. */
int ntk_keyfile_write(struct ntk_sb *sb, const struct ntk_mac_key *key);

/* Appends d as "path:line:col: error: msg" (or "warning:"), plus " (key N)" and
 * " (first defined on line M)" when known, without a newline. path may be NULL (omitted).
 * Returns 0 or NTK_ENOSPC. */
int ntk_keyfile_diag_format(struct ntk_sb *sb, const char *path,
                            const struct ntk_keyfile_diag *d);

#endif /* NTK_KEYFILE_H */
