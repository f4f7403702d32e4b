/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's statistics files in NTPsec's formats, their filegen names and the appender. */
#include "stats.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ntk/err.h"
#include "ntk/refid.h"

#include "poison.h"

#define SECS_PER_DAY 86400
#define TEXT_MAX     256

/* ======================================================================================== */
/* Line formatters                                                                          */
/* ======================================================================================== */

void stats_mjd(const struct timespec *now, uint32_t *mjd, uint32_t *sec, uint32_t *msec)
{
    int64_t s = now->tv_sec < 0 ? 0 : (int64_t)now->tv_sec;
    *mjd = (uint32_t)(s / SECS_PER_DAY + STATS_MJD_1970);
    *sec = (uint32_t)(s % SECS_PER_DAY);
    long ns = now->tv_nsec < 0 || now->tv_nsec > 999999999L ? 0 : now->tv_nsec;
    *msec = (uint32_t)(ns / 1000000L); /* truncated, as NTPsec does */
}

void stats_fmt_time(const struct timespec *now, struct ntk_sb *sb)
{
    uint32_t mjd, sec, msec;
    stats_mjd(now, &mjd, &sec, &msec);
    ntk_sb_printf(sb, "%" PRIu32 " %" PRIu32 ".%03" PRIu32, mjd, sec, msec);
}

void stats_fmt_ts(ntk_ts ts, struct ntk_sb *sb)
{
    uint64_t sec = ntk_ts_sec(ts);
    /* frac * 1e9 < 2^62: no overflow; + 2^31 rounds half up like ulfptoa's digit rounding. */
    uint64_t ns = ((uint64_t)ntk_ts_frac(ts) * 1000000000u + (1u << 31)) >> 32;
    if (ns == 1000000000u) {
        sec++;
        ns = 0;
    }
    ntk_sb_printf(sb, "%" PRIu64 ".%09" PRIu64, sec, ns);
}

/* Appends the source: its label, or its address without the port. */
static void put_source(const struct stats_source *s, struct ntk_sb *sb)
{
    if (s->label != NULL) {
        ntk_sb_puts(sb, s->label);
    } else if (s->addr.family == NTK_ADDR_NONE) {
        ntk_sb_puts(sb, "0.0.0.0");
    } else {
        struct ntk_addr a = s->addr;
        a.port = 0;
        ntk_addr_format_sb(&a, sb);
    }
}

/* Appends free text, at most TEXT_MAX bytes, with control bytes replaced so that a line
 * stays one line. */
static void put_text(const char *text, struct ntk_sb *sb)
{
    for (size_t i = 0; text != NULL && text[i] != '\0' && i < TEXT_MAX; i++) {
        unsigned char c = (unsigned char)text[i];
        ntk_sb_putc(sb, c < 0x20 || c == 0x7f ? '?' : (char)c);
    }
}

/* Appends a refid as NTPsec's refid_str: a dotted quad above stratum 1, else ".TEXT.". */
static void put_refid(uint32_t refid, int stratum, struct ntk_sb *sb)
{
    if (stratum > 1) {
        ntk_refid_format(refid, 2, NTK_REFID_FMT_RV, sb);
        return;
    }
    ntk_sb_putc(sb, '.');
    ntk_refid_format(refid, 1, NTK_REFID_FMT_RV, sb);
    ntk_sb_putc(sb, '.');
}

/* Ends the line and reports overflow. */
static int end_line(struct ntk_sb *sb)
{
    ntk_sb_putc(sb, '\n');
    return ntk_sb_err(sb);
}

int stats_fmt_peer(const struct stats_peer *r, struct ntk_sb *sb)
{
    stats_fmt_time(&r->now, sb);
    ntk_sb_putc(sb, ' ');
    put_source(&r->src, sb);
    ntk_sb_printf(sb, " %x %.9f %.9f %.9f %.9f", r->status, r->offset_s, r->delay_s, r->disp_s,
                  r->jitter_s);
    return end_line(sb);
}

int stats_fmt_loop(const struct stats_loop *r, struct ntk_sb *sb)
{
    stats_fmt_time(&r->now, sb);
    ntk_sb_printf(sb, " %.9f %.6f %.9f %.6f %d", r->offset_s, r->freq_ppm, r->jitter_s,
                  r->wander_ppm, r->poll_log2);
    return end_line(sb);
}

int stats_fmt_clock(const struct stats_clock *r, struct ntk_sb *sb)
{
    stats_fmt_time(&r->now, sb);
    ntk_sb_putc(sb, ' ');
    put_source(&r->src, sb);
    ntk_sb_putc(sb, ' ');
    put_text(r->text, sb);
    return end_line(sb);
}

int stats_fmt_raw(const struct stats_raw *r, struct ntk_sb *sb)
{
    stats_fmt_time(&r->now, sb);
    ntk_sb_putc(sb, ' ');
    put_source(&r->src, sb);
    ntk_sb_putc(sb, ' ');
    if (r->dst.family == NTK_ADDR_NONE) {
        ntk_sb_putc(sb, '-');
    } else {
        struct stats_source d = {.label = NULL, .addr = r->dst};
        put_source(&d, sb);
    }
    const ntk_ts ts[4] = {r->t1, r->t2, r->t3, r->t4};
    for (int i = 0; i < 4; i++) {
        ntk_sb_putc(sb, ' ');
        stats_fmt_ts(ts[i], sb);
    }
    ntk_sb_printf(sb, " %d %d %d %d %d %d %.6f %.6f ", r->leap, r->version, r->mode,
                  r->stratum, r->poll_log2, r->precision_log2, r->root_delay_s,
                  r->root_disp_s);
    put_refid(r->refid, r->stratum, sb);
    ntk_sb_printf(sb, " %u %u %x", r->lost, r->dropped, r->flash);
    return end_line(sb);
}

int stats_fmt_sys(const struct stats_sys *r, struct ntk_sb *sb)
{
    stats_fmt_time(&r->now, sb);
    ntk_sb_printf(sb,
                  " %" PRIu32 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
                  " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64,
                  r->since_reset_s, r->received, r->processed, r->newversion, r->oldversion,
                  r->restricted, r->badlength, r->badauth, r->declined, r->limitrejected,
                  r->kodsent, r->ver1);
    return end_line(sb);
}

int stats_fmt_use(const struct stats_use *r, struct ntk_sb *sb)
{
    stats_fmt_time(&r->now, sb);
    ntk_sb_printf(sb, " %" PRIu32 " %.3f %.3f %ld %ld %ld %ld %ld %ld %ld %ld %ld", r->since_s,
                  r->utime_s, r->stime_s, r->minflt, r->majflt, r->nswap, r->inblock,
                  r->oublock, r->nvcsw, r->nivcsw, r->nsignals, r->maxrss_kib);
    return end_line(sb);
}

int stats_fmt_proto(const struct stats_proto *r, struct ntk_sb *sb)
{
    stats_fmt_time(&r->now, sb);
    ntk_sb_putc(sb, ' ');
    put_source(&r->src, sb);
    ntk_sb_printf(sb, " %04x %02x ", r->status & 0xffffu, r->event & 0xffu);
    put_text(r->message, sb);
    if (r->extra != NULL) {
        ntk_sb_putc(sb, ' ');
        put_text(r->extra, sb);
    }
    return end_line(sb);
}

/* ======================================================================================== */
/* filegen names                                                                            */
/* ======================================================================================== */

int stats_gen_type_parse(const char *word, enum stats_gen_type *out)
{
    static const char *const names[] = {"none", "pid", "day", "week", "month", "year", "age"};
    for (size_t i = 0; word != NULL && i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(word, names[i]) == 0) {
            *out = (enum stats_gen_type)i;
            return 0;
        }
    }
    return NTK_EFORMAT;
}

/* Appends the suffix for a type that depends on the civil date. */
static void put_date_suffix(enum stats_gen_type type, int64_t unix_s, struct ntk_sb *sb)
{
    struct ntk_civil c;
    ntk_civil_from_unix(unix_s, &c);
    long long y = (long long)c.year;
    switch (type) {
    case STATS_GEN_DAY:
        ntk_sb_printf(sb, ".%04lld%02d%02d", y, c.mon, c.mday);
        break;
    case STATS_GEN_WEEK:
        ntk_sb_printf(sb, ".%04lldw%02d", y, c.yday / 7);
        break;
    case STATS_GEN_MONTH:
        ntk_sb_printf(sb, ".%04lld%02d", y, c.mon);
        break;
    default:
        ntk_sb_printf(sb, ".%04lld", y);
        break;
    }
}

int stats_gen_name(const char *base, enum stats_gen_type type, const struct stats_gen_clock *c,
                   struct ntk_sb *sb)
{
    ntk_sb_puts(sb, base);
    switch (type) {
    case STATS_GEN_NONE:
        break;
    case STATS_GEN_PID:
        ntk_sb_printf(sb, ".#%ld", c->pid);
        break;
    case STATS_GEN_AGE: {
        int64_t up = c->up_s < 0 ? 0 : c->up_s;
        ntk_sb_printf(sb, ".a%08lld", (long long)(up - up % SECS_PER_DAY));
        break;
    }
    default:
        put_date_suffix(type, c->unix_s, sb);
        break;
    }
    return ntk_sb_err(sb);
}

/* ======================================================================================== */
/* Appender                                                                                 */
/* ======================================================================================== */

/* NTPsec valid_fileref: no ".." path element. */
static bool has_dotdot(const char *p)
{
    for (const char *s = p; s != NULL; s = strchr(s, '/')) {
        if (*s == '/') {
            s++;
        }
        if (s[0] == '.' && s[1] == '.' && (s[2] == '\0' || s[2] == '/')) {
            return true;
        }
    }
    return false;
}

int stats_gen_init(struct stats_gen *g, const char *base, enum stats_gen_type type, bool link,
                   bool enabled)
{
    size_t n = base ? strlen(base) : 0;
    /* Leave room for the longest suffix (".a" + 20 digits) and the NUL. */
    if (n == 0 || n + 24 > sizeof g->base || has_dotdot(base)) {
        return NTK_EFORMAT;
    }
    memset(g, 0, sizeof *g);
    memcpy(g->base, base, n + 1);
    g->type = type;
    g->link = link && type != STATS_GEN_NONE;
    g->enabled = enabled;
    g->fd = -1;
    return 0;
}

void stats_gen_close(struct stats_gen *g)
{
    if (g->fd >= 0) {
        close(g->fd);
    }
    g->fd = -1;
    g->current[0] = '\0';
}

/* NTPsec filegen_open's link step: make base a hard link to the new element; an existing
 * base that is the only link to its data is kept under "base.<pid>C<n>". Best effort. */
static void relink(const struct stats_gen *g, const char *name, long pid)
{
    static unsigned long conflicts;
    struct stat st;
    if (lstat(g->base, &st) == 0) {
        if (S_ISREG(st.st_mode) && st.st_nlink <= 1) {
            char save[STATS_PATH_MAX + 48];
            struct ntk_sb sb;
            ntk_sb_init(&sb, save, sizeof save);
            ntk_sb_printf(&sb, "%s.%ldC%lu", g->base, pid, conflicts++);
            if (ntk_sb_err(&sb) == 0) {
                (void)rename(g->base, save);
            }
        } else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) {
            (void)unlink(g->base);
        }
    }
    /* Best effort, as in NTPsec: the statistics themselves are written either way. */
    int rc = link(name, g->base);
    (void)rc;
}

/* Opens the element name and makes it current. Returns 0 or errno. */
static int switch_to(struct stats_gen *g, const char *name, long pid)
{
    /* Read-write only to look at the last byte: every write still appends. */
    int fd = open(name, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
    if (fd < 0) {
        return errno;
    }
    stats_gen_close(g);
    g->fd = fd;
    struct stat st;
    char last = '\n';
    g->torn = fstat(fd, &st) == 0 && st.st_size > 0 &&
              pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n';
    memcpy(g->current, name, strlen(name) + 1);
    if (g->link) {
        relink(g, name, pid);
    }
    return 0;
}

/* Writes all of text to the current element; *done says how much went in. Returns 0 or
 * errno (named in err). */
static int write_all(struct stats_gen *g, const char *text, size_t len, struct ntk_sb *err,
                     size_t *done)
{
    *done = 0;
    while (len > 0) {
        ssize_t n = write(g->fd, text, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            int e = errno;
            if (err) {
                ntk_sb_printf(err, "%s: %s", g->current, strerror(e));
            }
            return e;
        }
        text += n;
        len -= (size_t)n;
        *done += (size_t)n;
    }
    return 0;
}

int stats_gen_append(struct stats_gen *g, const struct stats_gen_clock *c, const char *line,
                     size_t len, struct ntk_sb *err)
{
    if (!g->enabled) {
        stats_gen_close(g);
        return 0;
    }
    char name[STATS_PATH_MAX];
    struct ntk_sb sb;
    ntk_sb_init(&sb, name, sizeof name);
    if (stats_gen_name(g->base, g->type, c, &sb) != 0) {
        return ENAMETOOLONG;
    }
    if (g->fd < 0 || strcmp(name, g->current) != 0) {
        int e = switch_to(g, name, c->pid);
        if (e != 0 && err) {
            ntk_sb_printf(err, "%s: %s", name, strerror(e));
        }
        if (e != 0 && g->fd < 0) {
            return e;
        }
    }
    size_t done;
    if (g->torn) {
        int e = write_all(g, "\n", 1, err, &done);
        if (e != 0) {
            return e;
        }
        g->torn = false;
    }
    int e = write_all(g, line, len, err, &done);
    if (e != 0 && done > 0) {
        g->torn = true; /* part of the line is in the file: end it before the next one */
    }
    return e;
}
