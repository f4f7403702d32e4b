/* SPDX-License-Identifier: BSD-2-Clause */
/* The interface between ntpmon's program flow (main.c) and its terminal front end (mon_tui.c,
 * the only file that includes curses).
 *
 * main.c parses the options, sets up the model (mon_model_init, then units, numeric, colour
 * and --delay from the options, utf8 from the locale) and calls mon_tui_run. The TUI then
 * owns the loop:
 *   - mon_fetch_init(&f, m, o) once (mon_fetch_free(&f) before returning);
 *   - each turn: mon_fetch_tick(&f, m, mon_fetch_now()) (fetches at most one due host and
 *     feeds the model; it BLOCKS at most 2 x o->timeout_ms: a snapshot, then the MRU list
 *     when the MRU pane is on, at most every MON_MRU_EVERY_S s), then lays out the frame
 *     (mon_model_layout at the terminal's size) and paints it;
 *   - waits for a key until mon_fetch_next(&f, m) (cap the wait, e.g. at 1 s, so the "when"
 *     column and the clock in the status line move), maps curses key codes to enum mon_key
 *     (KEY_RESIZE -> MON_KEY_RESIZE: recompute the layout from the model), and calls
 *     mon_model_key: MON_ACT_QUIT returns, MON_ACT_POLL calls
 *     mon_fetch_host(&f, m, m->v.host, mon_fetch_now()) at once.
 * m->utf8 tells whether UTF-8 may be drawn (set by main.c from the locale; the TUI clears it
 * when ncursesw cannot). m->v.color false: bold/reverse instead of colours.
 */
#ifndef NTK_MON_TUI_H
#define NTK_MON_TUI_H

#include "mon_fetch.h"
#include "mon_model.h"
#include "mon_opts.h"

/* Runs the interactive monitor until the user quits. Returns the exit status
 * (MON_EXIT_OK, or MON_EXIT_FAIL when the terminal could not be set up). */
int mon_tui_run(struct mon_model *m, const struct mon_opts *o);

#endif /* NTK_MON_TUI_H */
