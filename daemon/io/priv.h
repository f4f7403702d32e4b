/* SPDX-License-Identifier: BSD-2-Clause */
/* Dropping root after the sockets are bound (-u user[:group]): the daemon goes on as that user
 * with CAP_SYS_TIME as its only capability, or none at all in observe mode. */
#ifndef NTK_PRIV_H
#define NTK_PRIV_H

#include <stdbool.h>

#include <sys/types.h>

/* Looks spec ("user" or "user:group"; names or numbers) up: the user's uid and the group's
 * gid (the user's primary group when none is given). Done before a chroot, where the user
 * database is out of reach. Returns 0, or 1 after logging why. */
int priv_lookup(const char *spec, uid_t *uid, gid_t *gid);

/* Becomes uid/gid, keeping CAP_SYS_TIME when keep_time is true; supplementary groups are
 * cleared. Returns 0, or 1 after logging why (a failed set*id, a capability that could not
 * be kept). */
int priv_become(uid_t uid, gid_t gid, bool keep_time);

/* priv_lookup then priv_become. */
int priv_drop(const char *spec, bool keep_time);

#endif /* NTK_PRIV_H */
