/* SPDX-License-Identifier: BSD-2-Clause */
/* Dropping root after the sockets are bound (-u user[:group]): the daemon goes on as that user
 * with CAP_SYS_TIME as its only capability, or none at all in observe mode. */
#ifndef NTK_PRIV_H
#define NTK_PRIV_H

#include <stdbool.h>

/* Becomes spec ("user" or "user:group"; names or numbers), keeping CAP_SYS_TIME when
 * keep_time is true. Supplementary groups are cleared. Returns 0, or 1 after logging why (an
 * unknown user or group, a failed set*id, a capability that could not be kept). */
int priv_drop(const char *spec, bool keep_time);

#endif /* NTK_PRIV_H */
