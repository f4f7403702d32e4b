/* SPDX-License-Identifier: BSD-2-Clause */
/* The exporter's privilege drop (--user USER[:GROUP]) and NO_NEW_PRIVS: once its port is bound
 * it needs no privilege at all, so every capability goes with root. */
#ifndef NTK_EXP_PRIV_H
#define NTK_EXP_PRIV_H

#include <stddef.h>

/* Sets PR_SET_NO_NEW_PRIVS (no execve may gain privileges). Returns 0, or -1 with why set. */
int exp_priv_no_new_privs(char *why, size_t cap);

/* Becomes spec ("user" or "user:group", names or numbers; the user's primary group when
 * none is given), supplementary groups cleared, no capability left in any thread (glibc
 * changes the ids of every thread; the kernel clears the capabilities of a thread leaving
 * uid 0). Not root: fine only when spec is already who we are. Returns 0, or -1 with why
 * set. */
int exp_priv_drop(const char *spec, char *why, size_t cap);

#endif /* NTK_EXP_PRIV_H */
