/* SPDX-License-Identifier: BSD-2-Clause */
/* Line editing and history for ntpq's interactive mode: libedit's readline interface, loaded
 * with dlopen() only when ntpq runs on a terminal, so that `ntpq -p` and scripts do not pay
 * for loading it. Without libedit, lines are read plainly. */
#ifndef NTK_NQ_EDIT_H
#define NTK_NQ_EDIT_H

#include <stdbool.h>

/* Loads libedit (once). False when it cannot be loaded: use plain reads then. */
bool nq_edit_load(void);

/* After nq_edit_load() succeeded: readline(prompt) (a malloc'd line, NULL at end of input)
 * and add_history(line). */
char *nq_edit_readline(const char *prompt);
void nq_edit_add_history(const char *line);

#endif /* NTK_NQ_EDIT_H */
