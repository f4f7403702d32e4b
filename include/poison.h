/* SPDX-License-Identifier: BSD-2-Clause */
/* Poisons the functions STYLE.md §3.6 bans, so any later use fails to compile.
 *
 * Include this LAST in every .c file, after all system headers: a poisoned name that a later
 * system header mentions would be an error too. tests/lint checks that every source does so.
 */
#ifndef NTK_POISON_H
#define NTK_POISON_H

#if defined(__GNUC__)
/* Unbounded copies and formats: use ntk_sb_* or memcpy with a checked length. */
#pragma GCC poison strcpy strncpy strcat strncat sprintf vsprintf gets
/* Unbounded or state-keeping parsers: use ntk_tok_* on a struct ntk_tok cursor. */
#pragma GCC poison strtok sscanf atoi atol
/* Non-reentrant time calls, and time of day through the wrong API: use ntk_ntime_*. */
#pragma GCC poison gmtime localtime ctime asctime gettimeofday
/* select() is fd-count limited; the daemon's loop uses poll(). */
#pragma GCC poison select
#endif

#endif /* NTK_POISON_H */
