/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpmon's terminal front end, the only curses file: paints the frames mon_model_layout lays
 * out, reads keys into mon_model_key and runs the fetch loop, restoring the terminal on
 * every way out. */
#define _XOPEN_SOURCE_EXTENDED 1

#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curses.h>

#include "cli_log.h"
#include "mon_tui.h"

#include "poison.h"

#define WAIT_MAX_MS  1000 /* the screen is repainted at least this often (clock, "when") */
#define ESC_DELAY_MS 40   /* how long a lone ESC waits for the rest of a key sequence */

/* Set by the signal handler (SIGINT, SIGTERM, SIGHUP, SIGQUIT): the loop ends cleanly. */
static volatile sig_atomic_t stop_signal;
/* True between newterm and endwin, so the atexit hook knows whether to restore. */
static bool curses_on;
/* stderr while curses owns the terminal: a copy of the real one (-1: not redirected). */
static int saved_stderr = -1;
/* The curses video attributes and colour pair of each enum mon_attr (pair 0: none). */
static attr_t attr_of[MON_A_COUNT];
static short pair_of[MON_A_COUNT];

static void on_signal(int sig)
{
    stop_signal = sig;
}

/* Leaves curses mode and gives stderr back. */
static void restore_terminal(void)
{
    if (curses_on && !isendwin()) {
        endwin();
    }
    curses_on = false;
    if (saved_stderr >= 0) {
        dup2(saved_stderr, STDERR_FILENO);
        close(saved_stderr);
        saved_stderr = -1;
    }
}

/* A crash: best effort to give the user a usable terminal (endwin is not async-signal-safe,
 * but the process is going down anyway), then die of the same signal (SA_RESETHAND). */
static void on_fatal(int sig)
{
    restore_terminal();
    raise(sig);
}

/* Our handlers go in before newterm: ncurses then leaves SIGINT and SIGTERM alone (it only
 * takes signals still at SIG_DFL) and getch returns on them (no SA_RESTART). */
static void catch_signals(void)
{
    static const int quit[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    static const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_signal;
    for (size_t i = 0; i < sizeof quit / sizeof quit[0]; i++) {
        sigaction(quit[i], &sa, NULL);
    }
    sa.sa_handler = on_fatal;
    sa.sa_flags = (int)SA_RESETHAND;
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) {
        sigaction(fatal[i], &sa, NULL);
    }
}

/* Diagnostics on a terminal stderr would scribble over the screen: while curses runs they
 * go to /dev/null (debug output goes to the log file, see set_debug). */
static void mute_stderr(void)
{
    if (!isatty(STDERR_FILENO)) {
        return;
    }
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
    if (null >= 0 && saved_stderr >= 0) {
        dup2(null, STDERR_FILENO);
    }
    if (null >= 0) {
        close(null);
    }
}

/* One colour pair per attribute class; pair number = class (pair 0 is the default). */
static void set_color_attrs(void)
{
    static const struct {
        short fg, bg;
        attr_t extra;
    } pal[MON_A_COUNT] = {
        [MON_A_NORMAL] = {-1, -1, A_NORMAL},
        [MON_A_TITLE] = {COLOR_CYAN, -1, A_BOLD},
        [MON_A_STATUS] = {COLOR_BLACK, COLOR_CYAN, A_NORMAL},
        [MON_A_COLHEAD] = {COLOR_BLACK, COLOR_GREEN, A_NORMAL},
        [MON_A_SELECTED] = {COLOR_WHITE, COLOR_BLUE, A_BOLD},
        [MON_A_GOOD] = {COLOR_GREEN, -1, A_NORMAL},
        [MON_A_WARN] = {COLOR_YELLOW, -1, A_BOLD},
        [MON_A_BAD] = {COLOR_RED, -1, A_BOLD},
        [MON_A_DIM] = {-1, -1, A_DIM},
        [MON_A_KEYBAR] = {COLOR_BLACK, COLOR_CYAN, A_NORMAL},
    };
    start_color();
    use_default_colors();
    for (int a = 1; a < MON_A_COUNT; a++) {
        if (pal[a].fg == -1 && pal[a].bg == -1) {
            attr_of[a] = pal[a].extra;
            continue;
        }
        init_pair((short)a, pal[a].fg, pal[a].bg);
        attr_of[a] = pal[a].extra;
        pair_of[a] = (short)a;
    }
    attr_of[MON_A_NORMAL] = A_NORMAL;
}

/* --no-color, NO_COLOR or a terminal without colours: video attributes only. */
static void set_mono_attrs(void)
{
    memset(pair_of, 0, sizeof pair_of);
    attr_of[MON_A_NORMAL] = A_NORMAL;
    attr_of[MON_A_TITLE] = A_BOLD;
    attr_of[MON_A_STATUS] = A_REVERSE;
    attr_of[MON_A_COLHEAD] = A_BOLD | A_UNDERLINE;
    attr_of[MON_A_SELECTED] = A_REVERSE | A_BOLD;
    attr_of[MON_A_GOOD] = A_NORMAL;
    attr_of[MON_A_WARN] = A_BOLD;
    attr_of[MON_A_BAD] = A_BOLD | A_UNDERLINE;
    attr_of[MON_A_DIM] = A_DIM;
    attr_of[MON_A_KEYBAR] = A_REVERSE;
}

/* UTF-8 only when ncursesw runs in a UTF-8 locale (and --ascii was not given). */
static bool locale_is_utf8(void)
{
    const char *cs = nl_langinfo(CODESET);
    return cs != NULL && (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "utf8") == 0);
}

static int start_curses(struct mon_model *m, const struct mon_opts *o)
{
    setlocale(LC_ALL, "");
    if (o->ascii || !locale_is_utf8()) {
        m->utf8 = false;
    }
    catch_signals();
    /* Any exit() on the way (in a library, say) still leaves the terminal usable. */
    atexit(restore_terminal);
    /* newterm, not initscr: a terminal that cannot be used is an error we report, where
     * initscr would exit. */
    if (newterm(NULL, stdout, stdin) == NULL) {
        const char *term = getenv("TERM");
        cli_err("cannot drive the terminal (TERM=%s); --once or --json print without one",
                term != NULL ? term : "unset");
        return -1;
    }
    curses_on = true;
    mute_stderr();
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    set_escdelay(ESC_DELAY_MS);
    curs_set(0);
    if (m->v.color && o->color && has_colors()) {
        set_color_attrs();
    } else {
        m->v.color = false;
        set_mono_attrs();
    }
    return 0;
}

/* Cells a code point takes: East Asian wide and emoji ranges 2, as mon_model.c counts them
 * (the segments' columns are in those cells). */
static int cp_cells(uint32_t cp)
{
    return (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
                   (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
                   (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
                   (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) ||
                   (cp >= 0x1f900 && cp <= 0x1f9ff) || (cp >= 0x20000 && cp <= 0x3fffd)
               ? 2
               : 1;
}

/* Bytes and cells of the character starting at s (the model wrote escaped UTF-8 or ASCII;
 * a stray byte counts as one byte, one cell). */
static size_t next_char(const char *s, int *cells)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = u[0] < 0x80 ? 1 : u[0] >= 0xf0 ? 4 : u[0] >= 0xe0 ? 3 : u[0] >= 0xc0 ? 2 : 1;
    uint32_t cp = n == 1 ? u[0] : (uint32_t)(u[0] & (0x7f >> n));
    for (size_t i = 1; i < n; i++) {
        if ((u[i] & 0xc0) != 0x80) {
            *cells = 1;
            return 1;
        }
        cp = cp << 6 | (u[i] & 0x3f);
    }
    *cells = n == 1 ? 1 : cp_cells(cp);
    return n;
}

/* The attribute class of every cell of a line, from its segments. */
static void cell_attrs(const struct mon_line *l, uint8_t *cells, int width)
{
    memset(cells, MON_A_NORMAL, (size_t)width);
    for (size_t i = 0; i < l->nseg && i < MON_SEGS_MAX; i++) {
        const struct mon_seg *s = &l->seg[i];
        uint8_t a = s->attr < MON_A_COUNT ? s->attr : MON_A_NORMAL;
        for (int c = s->col; c < (int)s->col + (int)s->len && c < width; c++) {
            cells[c] = a;
        }
    }
}

/* Paints line y: runs of one attribute (that of a character's first cell) at a time; cells a
 * segment covers past the text (the status line's and key bar's background) are filled with
 * blanks. Nothing goes past the width: a character that would is not drawn. */
static void paint_line(int y, const struct mon_line *l, int width, uint8_t *cells)
{
    cell_attrs(l, cells, width);
    const char *p = l->text;
    int col = 0;
    move(y, 0);
    while (*p != '\0' && col < width) {
        uint8_t a = cells[col];
        const char *run = p;
        while (*p != '\0' && col < width && cells[col] == a) {
            int w;
            size_t n = next_char(p, &w);
            if (col + w > width) {
                break;
            }
            p += n;
            col += w;
        }
        if (p == run) {
            break; /* a wide character in the last cell */
        }
        attr_set(attr_of[a], pair_of[a], NULL);
        addnstr(run, (int)(p - run));
    }
    for (; col < width; col++) {
        attr_set(attr_of[cells[col]], pair_of[cells[col]], NULL);
        addch(' ');
    }
    attr_set(A_NORMAL, 0, NULL);
}

/* The frame's lines, kept between paints (grown when the terminal grows). */
struct canvas {
    struct mon_line *lines;
    int rows;
    uint8_t *cells;
    int cols;
};

static int canvas_fit(struct canvas *c, int rows, int cols)
{
    if (rows > c->rows) {
        struct mon_line *l = realloc(c->lines, (size_t)rows * sizeof *l);
        if (l == NULL) {
            return -1;
        }
        c->lines = l;
        c->rows = rows;
    }
    if (cols > c->cols) {
        uint8_t *b = realloc(c->cells, (size_t)cols);
        if (b == NULL) {
            return -1;
        }
        c->cells = b;
        c->cols = cols;
    }
    return 0;
}

/* Lays out the model at the terminal's current size and paints it (curses sends only the
 * cells that changed). */
static int paint(const struct mon_model *m, struct canvas *c)
{
    int rows, cols;
    getmaxyx(stdscr, rows, cols);
    if (rows < 1 || cols < 1) {
        return 0;
    }
    if (cols > MON_LINE_MAX - 1) {
        cols = MON_LINE_MAX - 1;
    }
    if (canvas_fit(c, rows, cols) != 0) {
        return -1;
    }
    memset(c->lines, 0, (size_t)rows * sizeof *c->lines);
    struct mon_frame fr = {.width = cols, .height = rows, .lines = c->lines};
    mon_model_layout(m, mon_fetch_now(), &fr);
    erase();
    for (int y = 0; y < rows; y++) {
        paint_line(y, &c->lines[y], cols, c->cells);
    }
    refresh();
    return 0;
}

/* A curses key code as enum mon_key or printable ASCII. Any other key (a control character,
 * F5, an arrow the model has no use for) becomes NUL, which the model treats like every
 * unbound key: it leaves the help screen, or polls now (NTPsec). */
static int map_key(int ch)
{
    static const struct {
        int curses, mon;
    } tab[] = {
        {KEY_UP, MON_KEY_UP},       {KEY_DOWN, MON_KEY_DOWN},
        {KEY_PPAGE, MON_KEY_PGUP},  {KEY_NPAGE, MON_KEY_PGDN},
        {KEY_HOME, MON_KEY_HOME},   {KEY_END, MON_KEY_END},
        {KEY_F(1), MON_KEY_F1},     {KEY_F(10), MON_KEY_F10},
        {'\t', MON_KEY_TAB},        {27, MON_KEY_ESC},
        {'\r', MON_KEY_ENTER},      {'\n', MON_KEY_ENTER},
        {KEY_ENTER, MON_KEY_ENTER}, {KEY_BACKSPACE, MON_KEY_BACKSPACE},
        {127, MON_KEY_BACKSPACE},   {8, MON_KEY_BACKSPACE},
        {3, MON_KEY_CTRL_C},        {KEY_RESIZE, MON_KEY_RESIZE},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        if (tab[i].curses == ch) {
            return tab[i].mon;
        }
    }
    return ch >= 0x20 && ch < 0x7f ? ch : 0;
}

/* How long to wait for a key: until the next fetch is due, at most WAIT_MAX_MS. */
static int wait_ms(double next_unix_s, double now_unix_s)
{
    double ms = (next_unix_s - now_unix_s) * 1000.0;
    if (!(ms < WAIT_MAX_MS)) {
        return WAIT_MAX_MS;
    }
    return ms <= 0.0 ? 0 : (int)ms + 1;
}

/* '+' and '-' (NTPsec): the debug level of the diagnostics, which go to the -l file or, as
 * NTPsec's do, to ntpmon.log in the current directory, never to the screen. */
static void set_debug(const struct mon_opts *o, int level)
{
    static bool log_open;
    if (level > 0 && o->logfile == NULL && !log_open) {
        log_open = cli_log_open("ntpmon.log") == 0;
    }
    cli_log_set_debug(level);
}

/* Handles one key; false when the user quits. */
static bool on_key(struct mon_fetch *f, struct mon_model *m, const struct mon_opts *o, int ch)
{
    int k = map_key(ch);
    enum mon_action act = mon_model_key(m, k);
    if (m->v.debug != cli_log_debug()) {
        set_debug(o, m->v.debug);
    }
    if (k == MON_KEY_RESIZE) {
        /* curses has already taken the new size (getmaxyx in paint); drop what the old
         * size left in curses' idea of the screen. */
        clearok(stdscr, TRUE);
    }
    if (act == MON_ACT_QUIT) {
        return false;
    }
    if (act == MON_ACT_POLL && m->v.host < m->n_hosts) {
        mon_fetch_host(f, m, m->v.host, mon_fetch_now());
    }
    return true;
}

/* Fetch what is due, paint, wait for a key or the next fetch; until a quit key or signal.
 * Returns 0, or -1 when memory for the frame ran out. */
static int run_loop(struct mon_fetch *f, struct mon_model *m, const struct mon_opts *o,
                    struct canvas *c)
{
    while (stop_signal == 0) {
        mon_fetch_tick(f, m, mon_fetch_now());
        if (stop_signal != 0) {
            break;
        }
        if (paint(m, c) != 0) {
            return -1;
        }
        timeout(wait_ms(mon_fetch_next(f, m), mon_fetch_now()));
        int ch = getch();
        if (ch == ERR) {
            continue; /* timeout, or a signal (checked above) */
        }
        if (!on_key(f, m, o, ch)) {
            break;
        }
    }
    return 0;
}

int mon_tui_run(struct mon_model *m, const struct mon_opts *o)
{
    struct mon_fetch f;
    memset(&f, 0, sizeof f);
    if (mon_fetch_init(&f, m, o) != 0) {
        cli_err("out of memory");
        return MON_EXIT_FAIL;
    }
    if (start_curses(m, o) != 0) {
        mon_fetch_free(&f);
        return MON_EXIT_FAIL;
    }
    struct canvas c = {0};
    int rc = run_loop(&f, m, o, &c);
    restore_terminal();
    if (rc != 0) {
        cli_err("out of memory");
    }
    free(c.lines);
    free(c.cells);
    mon_fetch_free(&f);
    return rc == 0 ? MON_EXIT_OK : MON_EXIT_FAIL;
}
