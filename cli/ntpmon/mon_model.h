/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpmon's model: everything ntpmon knows and shows, without curses. The caller feeds it
 * mode-6 snapshots (cli/common/m6snap.h), MRU rows and keys, with the time; the model keeps
 * the view state (mode, sort, filter, selection...) and the offset history of every source,
 * and lays out a whole screen as a frame of text lines with attribute classes. mon_tui.c (the
 * only ncurses file) paints that frame; --once prints it as plain text; --json dumps the
 * model. So the golden tests, the tmux tests and a user see the same lines.
 *
 * Safety: every string that came from the wire passes mon_escape before it enters a frame:
 * control characters, DEL, invalid UTF-8 and (in ASCII mode) every non-ASCII byte become
 * '?', so nothing a daemon sends can move the cursor or change the terminal.
 *
 * NTPsec compatibility (reference/features.md §2.3): the keys a d h ? j k m n o p r s u w q x
 * space + - and "any other key polls now" keep their meaning; the peers table has NTPsec's
 * columns and tally characters for each of the four modes; the refresh interval is NTPsec's
 * (1 s while a source's refid is INIT, else half the shortest peer poll, at least 1 s) unless
 * --delay SECONDS is given. Added (htop habits): F1 help, F10 quit, '/' filter, '<' '>' sort
 * column, 'i' reverse sort, 'P' pause, Tab next host, a key bar on the last line, colours.
 */
#ifndef NTK_MON_MODEL_H
#define NTK_MON_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "m6snap.h"

#define MON_HOSTS_MAX 8    /* hosts on the command line */
#define MON_HIST      64   /* offset samples kept per source (the sparkline) */
#define MON_MRU_MAX   256  /* MRU rows kept per host */
#define MON_LINE_MAX  1024 /* bytes of one frame line (UTF-8), NUL included */
#define MON_SEGS_MAX  24   /* attribute segments per line */

/* Peers display modes (NTPsec's ntpq/ntpmon names). */
enum mon_mode {
    MON_PEERS = 0, /* remote refid st t when poll reach delay offset jitter */
    MON_APEERS,    /* remote refid assid st t when poll reach delay offset jitter */
    MON_OPEERS,    /* remote local st t when poll reach delay offset disp */
    MON_RPEERS,    /* as peers, with the refid column showing the source's address side */
};

/* Why a host shows no table. */
enum mon_host_state {
    MON_HOST_WAITING = 0, /* no answer yet (first fetch running) */
    MON_HOST_OK,          /* the last fetch worked */
    MON_HOST_UNREACHABLE, /* no answer: retrying (the screen says since when) */
    MON_HOST_REFUSED,     /* the daemon refused the queries (the screen shows the restrict
                             line that would allow them) */
};

/* One MRU row (ntpq mrulist's columns). */
struct mon_mru {
    char addr[64]; /* client address (escaped text) */
    uint16_t port;
    double first_unix_s; /* first seen */
    double last_unix_s;  /* last seen */
    uint64_t count;      /* packets */
    int mode, version;   /* of the last packet */
    uint32_t rstr;       /* restrict flags (hex on screen) */
};

/* Per-source history for the sparkline, keyed by association id. */
struct mon_hist {
    uint16_t associd;          /* 0: free */
    double offset_s[MON_HIST]; /* ring */
    unsigned n, head;          /* samples held, next write position */
    double last_rec_unix_s;    /* the `rec` of the last sample taken (a sample is added only
                                  when rec changes: one per poll, not per refresh) */
};

struct mon_host {
    char name[256]; /* as given on the command line */
    enum mon_host_state state;
    char error[160];     /* the last fetch error (escaped) */
    double since_unix_s; /* when the state began */
    struct m6_snap snap; /* the last good snapshot */
    bool peers_kept;     /* snap.peers are from an earlier snapshot (snap.peers_error says
                            why the last one brought none) */
    struct mon_hist hist[M6_PEERS_MAX];
    struct mon_mru mru[MON_MRU_MAX];
    size_t n_mru;
    double mru_unix_s; /* when the MRU rows were fetched (0: never) */
};

/* Sortable columns (the peers table's, in display order). */
enum mon_col {
    MON_COL_REMOTE = 0,
    MON_COL_REFID,
    MON_COL_ASSID,
    MON_COL_ST,
    MON_COL_T,
    MON_COL_WHEN,
    MON_COL_POLL,
    MON_COL_REACH,
    MON_COL_DELAY,
    MON_COL_OFFSET,
    MON_COL_JITTER, /* disp in opeers mode */
    MON_COL_SPARK,  /* the offset history (not sortable: sorts as OFFSET) */
    MON_COL_COUNT,
};

/* The view: what the user chose. */
struct mon_view {
    enum mon_mode mode;
    bool units, numeric, wide, reach_only, mru_only, mru_on, detail, help, paused, color,
        filter_editing;
    int selected;      /* row index in the (sorted, filtered) table */
    enum mon_col sort; /* MON_COL_COUNT: the daemon's order */
    bool sort_desc;
    char filter[64]; /* substring matched against remote and refid ("": none) */
    size_t host;     /* the host shown */
    int debug;       /* -d/-D level, + and - */
};

struct mon_model {
    struct mon_host hosts[MON_HOSTS_MAX];
    size_t n_hosts;
    struct mon_view v;
    double interval_s; /* --delay SECONDS (0: NTPsec's rule) */
    bool utf8;         /* the terminal takes UTF-8 (ncursesw and a UTF-8 locale) */
};

/* Sets up the model for hosts[0..n) (n >= 1; more than MON_HOSTS_MAX are ignored), every
 * host waiting, the view at NTPsec's defaults (peers mode, MRU off) with colour on. */
void mon_model_init(struct mon_model *m, const char *const *hosts, size_t n);

/* A fetch of host h finished at now: s->up true (state OK, history appended), or false
 * (UNREACHABLE, or REFUSED when s->error says the daemon refused; the last good snapshot is
 * kept and shown greyed). */
void mon_model_snapshot(struct mon_model *m, size_t h, const struct m6_snap *s,
                        double now_unix_s);

/* MRU rows of host h (raw text from the wire: escaped here). */
void mon_model_mru(struct mon_model *m, size_t h, const struct mon_mru *rows, size_t n,
                   double now_unix_s);

/* Keys: printable ASCII as itself; these for the others (mon_tui.c maps curses codes). */
enum mon_key {
    MON_KEY_UP = 0x101,
    MON_KEY_DOWN,
    MON_KEY_PGUP,
    MON_KEY_PGDN,
    MON_KEY_HOME,
    MON_KEY_END,
    MON_KEY_F1,
    MON_KEY_F10,
    MON_KEY_TAB,
    MON_KEY_ESC,
    MON_KEY_ENTER,
    MON_KEY_BACKSPACE,
    MON_KEY_CTRL_C,
    MON_KEY_RESIZE,
};

/* What the caller does after a key. */
enum mon_action {
    MON_ACT_NONE = 0, /* redraw */
    MON_ACT_QUIT,     /* q x F10 Ctrl-C */
    MON_ACT_POLL,     /* fetch now (NTPsec: any unbound key) */
};

/* Applies key k to the view. */
enum mon_action mon_model_key(struct mon_model *m, int k);

/* When host h should be fetched next after a fetch at last_unix_s (NTPsec's rule, or --delay).
 */
double mon_model_next_fetch(const struct mon_model *m, size_t h, double last_unix_s);

/* Attribute classes of frame segments; mon_tui.c maps them to colours (or to bold/reverse
 * with --no-color / NO_COLOR). */
enum mon_attr {
    MON_A_NORMAL = 0,
    MON_A_TITLE,    /* the header's labels */
    MON_A_STATUS,   /* the reverse-video status line */
    MON_A_COLHEAD,  /* table column headings */
    MON_A_SELECTED, /* the selected row */
    MON_A_GOOD,     /* synchronised, system peer, small offset */
    MON_A_WARN,     /* offset or jitter over the warning threshold, partial reach */
    MON_A_BAD,      /* unsynchronised, unreachable, falseticker, large offset, refused */
    MON_A_DIM,      /* stale data (host unreachable), rejected sources */
    MON_A_KEYBAR,   /* the key bar */
    MON_A_COUNT,
};

/* A run of cells of one line with one attribute (columns count display cells, not bytes). */
struct mon_seg {
    uint16_t col, len;
    uint8_t attr; /* enum mon_attr */
};

/* One screen line: text (escaped UTF-8 or ASCII, at most the frame's width in cells, never
 * wider: columns are dropped by priority and fields truncated, never wrapped). */
struct mon_line {
    char text[MON_LINE_MAX];
    struct mon_seg seg[MON_SEGS_MAX];
    size_t nseg;
};

/* A whole screen. lines[0..height) are provided by the caller. */
struct mon_frame {
    int width, height;
    struct mon_line *lines;
};

/* Lays out host v.host's screen for a width x height terminal (width >= 20, height >= 5:
 * smaller gets a one-line "terminal too small" frame): the header (sync state, stratum,
 * refid, offset ± error bound, frequency, leap and leap-file expiry, NTS state), the peers
 * table with a sparkline column when there is room, the MRU pane when on, the detail pane
 * when on, the status line, the key bar; or the help screen; or an empty state (no
 * associations, unreachable, refused). Every line of out is written (blank ones empty). */
void mon_model_layout(const struct mon_model *m, double now_unix_s, struct mon_frame *out);

/* Escapes wire text into dst[0..cap) as described above (utf8: keep valid UTF-8 printable
 * characters). Returns dst. */
const char *mon_escape(const char *src, bool utf8, char *dst, size_t cap);

/* Draws values[0..n) (oldest first; NAN: a gap) as a sparkline of `width` cells, scaled
 * between their min and max (a flat series draws the middle level), with U+2581..U+2588 in
 * UTF-8 or " .:-=+*#" in ASCII. Returns dst. */
const char *mon_sparkline(const double *values, size_t n, int width, bool utf8, char *dst,
                          size_t cap);

/* The model as one JSON object (json-c, caller puts it): hosts with state, error, system,
 * sources (with their history), MRU rows; the view. */
struct json_object;
struct json_object *mon_model_json(const struct mon_model *m, double now_unix_s);

#endif /* NTK_MON_MODEL_H */
