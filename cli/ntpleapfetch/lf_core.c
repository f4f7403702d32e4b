/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpleapfetch's decisions: refresh or not (NTPsec's -e window), accept or refuse a download.
 */
#include "lf.h"

#include "ntk/err.h"

#include "poison.h"

/* Seconds from 1900-01-01 (NTP) to 1970-01-01 (Unix). */
#define NTP_UNIX_OFFSET_S 2208988800LL

enum lf_need lf_decide(uint64_t cur_expires_ntp_s, int64_t now_unix_s, long window_days,
                       bool force)
{
    if (force || cur_expires_ntp_s == 0 || window_days < 0)
        return LF_FETCH;
    int64_t expires_unix_s = (int64_t)cur_expires_ntp_s - NTP_UNIX_OFFSET_S;
    int64_t window_s = (int64_t)window_days * 86400;
    /* Within the window (or already expired): fetch. */
    if (expires_unix_s - now_unix_s <= window_s)
        return LF_FETCH;
    return LF_FRESH;
}

uint64_t lf_expiry(const char *text, size_t len, struct ntk_sb *why)
{
    struct ntk_leap_entry entries[NTK_LEAPFILE_ENTRIES_MAX];
    struct ntk_leapfile_diag diag;
    struct ntk_leapfile lf;
    ntk_leapfile_init(&lf, entries, NTK_LEAPFILE_ENTRIES_MAX, &diag, 1);
    if (ntk_leapfile_parse(&lf, text, len, 0) == 0)
        return lf.table.expires_ntp_s;
    if (why != NULL && lf.ndiags > 0)
        (void)ntk_leapfile_diag_format(why, NULL, &diag);
    else if (why != NULL)
        ntk_sb_puts(why, "not a leap-seconds file");
    return 0;
}

enum lf_verdict lf_check(const char *text, size_t len, uint64_t cur_expires_ntp_s,
                         uint64_t *new_expires_ntp_s, struct ntk_sb *why)
{
    uint64_t exp = lf_expiry(text, len, why);
    *new_expires_ntp_s = exp;
    if (exp == 0)
        return LF_BAD;
    if (exp < cur_expires_ntp_s)
        return LF_OLDER;
    if (exp == cur_expires_ntp_s)
        return LF_SAME;
    return LF_INSTALL;
}
