/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpleapfetch: the decisions (refresh or not, accept or refuse a download) as pure functions
 * over lib/'s leap-seconds.list parser, and the libcurl download with its bounds. */
#ifndef NTK_LF_H
#define NTK_LF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntk/leapfile.h"
#include "ntk/sb.h"

/* Largest leap-seconds.list downloaded or read, bytes (the real one is about 5 KiB). */
#define LF_MAX_BYTES (1024 * 1024)

/* The file's usual source: IANA's tzdb copy (NTPsec 1.2 uses www.ietf.org/timezones/data/). */
#define LF_DEFAULT_URL "https://data.iana.org/time-zones/tzdb/leap-seconds.list"

/* Where ntpd's leapfile directive usually points (the systemd unit's StateDirectory). */
#define LF_DEFAULT_FILE "/var/lib/ntpkit/leap-seconds.list"

/* What lf_decide says about the current file. */
enum lf_need {
    LF_FRESH = 0, /* expires later than the window: nothing to fetch */
    LF_FETCH = 1, /* missing, invalid, expiring within the window, or forced */
};

/* What lf_check says about a downloaded file. */
enum lf_verdict {
    LF_INSTALL = 0, /* valid and expires later than the current one (or there is none) */
    LF_SAME = 1,    /* valid but expires exactly when the current one does: keep the old */
    LF_BAD = 2,     /* fails the parser (hash, syntax, truncation): refused */
    LF_OLDER = 3,   /* valid but expires earlier than the current one: refused */
};

/* Whether to fetch: cur_expires_ntp_s is the current file's #@ (0: no valid file), now_unix_s
 * the time now, window_days the -e window (a fetch when the file expires within it), force
 * the -F flag. */
enum lf_need lf_decide(uint64_t cur_expires_ntp_s, int64_t now_unix_s, long window_days,
                       bool force);

/* Parses len bytes of a leap-seconds file (a #h line required and matching) and returns its
 * #@ in NTP seconds, or 0 when it is not a valid file; the first problem goes to why (may be
 * NULL) as "line:col: error: msg". */
uint64_t lf_expiry(const char *text, size_t len, struct ntk_sb *why);

/* Judges a download against the current file's expiry (0: none). *new_expires_ntp_s gets the
 * download's #@ (0 when LF_BAD); why (may be NULL) the reason for LF_BAD. */
enum lf_verdict lf_check(const char *text, size_t len, uint64_t cur_expires_ntp_s,
                         uint64_t *new_expires_ntp_s, struct ntk_sb *why);

/* Downloads url into buf (cap bytes at most, else an error) within timeout_s seconds: http
 * and https only, up to 5 redirects, TLS peers verified. Returns 0 and *len, or -1 with the
 * reason in err. */
int lf_fetch(const char *url, long timeout_s, char *buf, size_t cap, size_t *len,
             struct ntk_sb *err);

/* The program: options, decision, download, checks, atomic replace. Returns the exit code. */
int lf_main(int argc, char **argv);

#endif /* NTK_LF_H */
