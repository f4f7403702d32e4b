/* SPDX-License-Identifier: BSD-2-Clause */
/* Poisons the functions STYLE.md §3.6 bans, so any later use fails to compile.
 *
 * Include this LAST in every .c file, after all system headers: a poisoned name that a later
 * system header mentions would be an error too. tests/lint checks that every source does so.
 */
#ifndef NTK_POISON_H
#define NTK_POISON_H

#if defined(__GNUC__)
/* One name at a time, and only a name that is not a macro: with clang, glibc's
 * _FORTIFY_SOURCE headers define some of these (sprintf, strcpy, ...) as macros, and poisoning
 * a macro is a warning no option silences. Such a name stays usable in that build only; gcc
 * builds (CI's) poison every one. */
/* Unbounded copies and formats: use ntk_sb_* or memcpy with a checked length. */
#ifndef strcpy
#pragma GCC poison strcpy
#endif
#ifndef strncpy
#pragma GCC poison strncpy
#endif
#ifndef strcat
#pragma GCC poison strcat
#endif
#ifndef strncat
#pragma GCC poison strncat
#endif
#ifndef sprintf
#pragma GCC poison sprintf
#endif
#ifndef vsprintf
#pragma GCC poison vsprintf
#endif
#ifndef gets
#pragma GCC poison gets
#endif
/* Unbounded or state-keeping parsers: use ntk_tok_* on a struct ntk_tok cursor. */
#ifndef strtok
#pragma GCC poison strtok
#endif
#ifndef sscanf
#pragma GCC poison sscanf
#endif
#ifndef atoi
#pragma GCC poison atoi
#endif
#ifndef atol
#pragma GCC poison atol
#endif
/* Non-reentrant time calls, and time of day through the wrong API: use ntk_ntime_*. */
#ifndef gmtime
#pragma GCC poison gmtime
#endif
#ifndef localtime
#pragma GCC poison localtime
#endif
#ifndef ctime
#pragma GCC poison ctime
#endif
#ifndef asctime
#pragma GCC poison asctime
#endif
#ifndef gettimeofday
#pragma GCC poison gettimeofday
#endif
/* select() is fd-count limited; the daemon's loop uses poll(). */
#ifndef select
#pragma GCC poison select
#endif
#endif

#endif /* NTK_POISON_H */
