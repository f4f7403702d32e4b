/* SPDX-License-Identifier: BSD-2-Clause */
/* ntk_strerror: the text of each enum ntk_err. */
#include "ntk/err.h"

#include "poison.h"

const char *ntk_strerror(int err)
{
    switch ((enum ntk_err)err) {
    case NTK_OK:
        return "success";
    case NTK_ETRUNC:
        return "truncated input";
    case NTK_EFORMAT:
        return "malformed input";
    case NTK_EVERSION:
        return "unsupported version";
    case NTK_EAUTH:
        return "authentication failed";
    case NTK_ENOSPC:
        return "output buffer too small";
    case NTK_ENOMEM:
        return "out of memory";
    case NTK_ERANGE:
        return "value out of range";
    case NTK_ENOTFOUND:
        return "not found";
    case NTK_EUNSUPP:
        return "not supported";
    case NTK_ECRYPTO:
        return "cryptographic library error";
    case NTK_EINVAL:
        return "invalid argument";
    }
    return "unknown error";
}
