/* SPDX-License-Identifier: BSD-2-Clause */
/* Error codes every lib/ function returns: 0 for success, a negative enum ntk_err otherwise.
 */
#ifndef NTK_ERR_H
#define NTK_ERR_H

/* Errors are negative so that "n >= 0 is a count, n < 0 an error" works for functions that
 * return lengths. Never renumber: the daemon exports counters keyed by these values. */
enum ntk_err {
    NTK_OK = 0,
    NTK_ETRUNC = -1,    /* input shorter than its own length fields say */
    NTK_EFORMAT = -2,   /* a field has an impossible value or the syntax is wrong */
    NTK_EVERSION = -3,  /* protocol version not supported */
    NTK_EAUTH = -4,     /* authentication (MAC, AEAD tag) failed */
    NTK_ENOSPC = -5,    /* the output buffer is too small */
    NTK_ENOMEM = -6,    /* an allocation failed */
    NTK_ERANGE = -7,    /* a number or a token exceeds its allowed maximum */
    NTK_ENOTFOUND = -8, /* a looked-up item (key id, name) does not exist */
    NTK_EUNSUPP = -9,   /* valid but not supported here (algorithm, feature) */
    NTK_ECRYPTO = -10,  /* the crypto library failed for a reason other than a bad tag */
    NTK_EINVAL = -11,   /* the caller passed an invalid argument */
};

/* Returns a short static English description of err ("truncated input"); never NULL, also
 * for values outside the enum. */
const char *ntk_strerror(int err);

#endif /* NTK_ERR_H */
