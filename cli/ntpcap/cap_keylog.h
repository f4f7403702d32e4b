/* SPDX-License-Identifier: BSD-2-Clause */
/* TLS key logs in the NSS format that SSLKEYLOGFILE makes OpenSSL, GnuTLS and NSS write: one
 * "LABEL <client random, 64 hex digits> <secret, hex>" per line, "#" comments. ntpcap keeps
 * the TLS 1.3 traffic secrets (RFC 8446 §7.1) it needs to decrypt NTS-KE records; every
 * other label (CLIENT_RANDOM of TLS 1.2, the exporter and early secrets) is skipped. The
 * lines are read through struct ntk_rd cursors. */
#ifndef NTK_CAP_KEYLOG_H
#define NTK_CAP_KEYLOG_H

#include <stddef.h>
#include <stdint.h>

/* The secrets ntpcap uses (RFC 8446 §7.1 names). */
enum cap_kl_label {
    CAP_KL_CLIENT_HS = 0, /* CLIENT_HANDSHAKE_TRAFFIC_SECRET */
    CAP_KL_SERVER_HS,     /* SERVER_HANDSHAKE_TRAFFIC_SECRET */
    CAP_KL_CLIENT_AP,     /* CLIENT_TRAFFIC_SECRET_0 */
    CAP_KL_SERVER_AP,     /* SERVER_TRAFFIC_SECRET_0 */
    CAP_KL_COUNT,
};

/* Longest secret kept (SHA-384's 48 bytes fit). */
#define CAP_KL_SECRET_MAX 64

/* Most entries kept from one file (a bound on memory: 4 per connection). */
#define CAP_KL_ENTRIES_MAX 262144

/* Largest key log file read, bytes. */
#define CAP_KL_FILE_MAX (64u << 20)

/* One secret. */
struct cap_kl_ent {
    uint8_t random[32];                /* the ClientHello random it belongs to */
    uint8_t label;                     /* enum cap_kl_label */
    uint8_t len;                       /* secret length, bytes (32 or 48) */
    uint8_t secret[CAP_KL_SECRET_MAX]; /* the secret */
};

/* The secrets of a key log. */
struct cap_keylog {
    struct cap_kl_ent *ent; /* owned; wiped when freed */
    size_t n, alloc;        /* entries used, allocated */
    size_t lines;           /* lines seen */
    size_t skipped;         /* comments, blank lines and labels ntpcap does not use */
    size_t bad;             /* malformed lines */
};

/* Parses one line (without its newline; a trailing CR is ignored) into *e. Returns 0 for a
 * TLS 1.3 traffic secret (e written), 1 for a line to skip (blank, "#" comment, another
 * label), NTK_EFORMAT for a malformed one (e untouched then). */
int cap_keylog_line(const uint8_t *line, size_t len, struct cap_kl_ent *e);

/* Adds the secrets of text[0..len) (lines as above) to kl. Returns 0, NTK_ENOMEM, or
 * NTK_ERANGE when kl would exceed CAP_KL_ENTRIES_MAX (what fit is kept). */
int cap_keylog_parse(struct cap_keylog *kl, const uint8_t *text, size_t len);

/* Reads the file at path into kl (zeroed first). Returns 0, or a negative enum ntk_err with
 * a one-line reason in err[0..cap). */
int cap_keylog_load(struct cap_keylog *kl, const char *path, char *err, size_t cap);

/* The last secret of label for the ClientHello random (a later line wins), or NULL. */
const struct cap_kl_ent *cap_keylog_find(const struct cap_keylog *kl, const uint8_t random[32],
                                         enum cap_kl_label label);

/* Wipes and frees the entries (kl is left empty). */
void cap_keylog_free(struct cap_keylog *kl);

#endif /* NTK_CAP_KEYLOG_H */
