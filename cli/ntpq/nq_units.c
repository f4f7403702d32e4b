/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpq's unit display (-u, `units`): NTPsec's unitify, which rescales the decimal text of a
 * value to the unit that puts 1 to 3 digits before the point, without inventing digits.
 * It works on the text, as NTPsec's does (pylib/util.py scalestring, rescalestring,
 * fitinfield, cropprecision), so the digits shown are the server's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nq.h"

#include "poison.h"

/* Longest number text handled; longer values are shown unchanged. */
#define NUM_MAX 256

/* One scale of units, smallest first, with each name's width in characters. */
struct unit_group {
    const char *name[5];
    int width[5];
    int n;
};

/* NTPsec's ntpq replaces the micro sign and the per-mille sign by "us" and "ppk" whenever
 * Python names the output encoding other than "UTF-8" exactly, which Python 3 never does
 * (it says "utf-8"): in practice it always prints these. */
static const struct unit_group sec_units = {{"ns", "us", "ms", "s", "ks"}, {2, 2, 2, 1, 2}, 5};
static const struct unit_group ppx_units = {
    {"ppt", "ppb", "ppm", "ppk", ""}, {3, 3, 3, 3, 0}, 4};

/* A number split at its point (breaknumberstring). */
struct num {
    char whole[NUM_MAX];
    char dec[NUM_MAX];
    bool neg;
};

static bool is_zero(const char *s)
{
    return strspn(s, "-.0") == strlen(s);
}

static bool split_num(const char *s, struct num *n)
{
    n->neg = s[0] == '-';
    s += n->neg;
    const char *dot = strchr(s, '.');
    size_t wl = dot ? (size_t)(dot - s) : strlen(s);
    if (wl >= NUM_MAX || (dot && strlen(dot + 1) >= NUM_MAX) || (dot && strchr(dot + 1, '.')))
        return false;
    snprintf(n->whole, sizeof n->whole, "%.*s", (int)wl, s);
    snprintf(n->dec, sizeof n->dec, "%s", dot ? dot + 1 : "");
    return true;
}

/* gluenumberstring into out[NUM_MAX * 2 + 2]. */
static void glue(const char *whole, const char *dec, bool neg, char *out, size_t cap)
{
    struct ntk_sb sb;
    ntk_sb_init(&sb, out, cap);
    ntk_sb_puts(&sb, neg ? "-" : "");
    ntk_sb_puts(&sb, whole[0] ? whole : "0");
    ntk_sb_puts(&sb, dec[0] ? "." : "");
    ntk_sb_puts(&sb, dec);
}

/* maxdownscale: how many units down the value can go without inventing digits (<= 0). */
static int max_down(const char *s)
{
    const char *dot = strchr(s, '.');
    return dot ? -(int)(strlen(dot + 1) / 3) : 0;
}

/* rescalestring: moves the point by 3 * units digits. False when the digits run out. */
static bool rescale(const char *s, int units, char *out, size_t cap)
{
    struct num n;
    if (!split_num(s, &n))
        return false;
    if (units == 0) {
        glue(n.whole, n.dec, n.neg, out, cap);
        return true;
    }
    char nw[2 * NUM_MAX + 8], nd[2 * NUM_MAX + 8];
    size_t hl = strlen(n.whole), ll = strlen(n.dec), moved = (size_t)abs(units * 3);
    if (units > 0) {
        if (hl < moved) {
            nw[0] = '\0';
            snprintf(nd, sizeof nd, "%0*d%s%s", (int)(moved - hl), 0, n.whole, n.dec);
        } else {
            snprintf(nd, sizeof nd, "%s%s", n.whole + hl - moved, n.dec);
            snprintf(nw, sizeof nw, "%.*s", (int)(hl - moved), n.whole);
        }
    } else {
        if (ll < moved)
            return false;
        snprintf(nw, sizeof nw, "%s%.*s", n.whole, (int)moved, n.dec);
        snprintf(nd, sizeof nd, "%s", n.dec + moved);
    }
    glue(nw + strspn(nw, "0"), nd, n.neg, out, cap);
    return true;
}

/* formatzero: a zero at the finest unit its digits allow, without its sign. */
static int format_zero(const char *s, char *out, size_t cap)
{
    int scale = max_down(s);
    char tmp[2 * NUM_MAX + 8];
    if (!rescale(s, scale, tmp, sizeof tmp))
        snprintf(tmp, sizeof tmp, "%s", s);
    snprintf(out, cap, "%s", tmp + strspn(tmp, "-"));
    return scale;
}

/* scalestring: 1 to 3 digits before the point; returns the units moved. */
static int scale_string(const char *s, char *out, size_t cap)
{
    if (is_zero(s))
        return format_zero(s, out, cap);
    struct num n;
    if (!split_num(s, &n)) {
        snprintf(out, cap, "%s", s);
        return 0;
    }
    char nw[NUM_MAX], nd[2 * NUM_MAX + 8];
    size_t hl = strlen(n.whole);
    int moved;
    if (hl == 0 || is_zero(n.whole)) {
        size_t ll = strlen(n.dec), i = strspn(n.dec, "0");
        size_t lo = i / 3 + 1, mc = lo * 3;
        if (ll < mc) {
            lo = i / 3;
            mc = lo * 3;
        }
        snprintf(nw, sizeof nw, "%.*s", (int)mc, n.dec);
        snprintf(nd, sizeof nd, "%s", n.dec + mc);
        memmove(nw, nw + strspn(nw, "0"), strlen(nw + strspn(nw, "0")) + 1);
        moved = -(int)lo;
    } else {
        size_t hu = hl / 3, hd = hl % 3;
        if (hd == 0) {
            hu--;
            hd = 3;
        }
        snprintf(nw, sizeof nw, "%.*s", (int)hd, n.whole);
        snprintf(nd, sizeof nd, "%s%s", n.whole + hd, n.dec);
        moved = (int)hu;
    }
    glue(nw, nd, n.neg, out, cap);
    return moved;
}

/* cropprecision: drops decimals below the base unit. */
static void crop(char *s, int ooms)
{
    char *dot = strchr(s, '.');
    if (dot == NULL)
        return;
    if (ooms == 0) {
        *dot = '\0';
        return;
    }
    size_t dsize = strlen(dot + 1), prec = (size_t)ooms < dsize ? (size_t)ooms : dsize;
    s[strlen(s) - (dsize - prec)] = '\0';
}

/* fitinfield when the text fits: right-aligned in size columns (size < 0: as it is). */
static void fit(const char *s, int size, struct ntk_sb *sb)
{
    if (size >= 0 && (int)strlen(s) < size)
        ntk_sb_printf(sb, "%*s", size, s);
    else
        ntk_sb_puts(sb, s);
}

/* fitinfield: when the text is longer than the field, decimals are rounded away. */
static void fit_long(const char *s, int size, struct ntk_sb *sb)
{
    int len = (int)strlen(s);
    const char *dot = strchr(s, '.');
    if (size < 0 || len <= size || dot == NULL) {
        fit(s, size, sb);
        return;
    }
    int declen = (int)strlen(dot + 1), crop_n = len - size < declen ? len - size : declen;
    int roundlen = declen - crop_n;
    char buf[2 * NUM_MAX + 16];
    snprintf(buf, sizeof buf, "%.*f", roundlen, strtod(s, NULL));
    if (roundlen == 0)
        ntk_sb_printf(sb, "%s.", buf);
    else
        ntk_sb_puts(sb, buf);
}

/* unitify: value (decimal text in start's unit) at the unit that suits it, in width columns
 * (width < 0: no padding, NTPsec's width=None), base the finest unit allowed. */
static void unitify(struct ntk_sb *sb, const char *value, const struct unit_group *g,
                    int start, int base, int width)
{
    char v[2 * NUM_MAX + 8], s[2 * NUM_MAX + 8];
    int moved;
    if (strlen(value) >= NUM_MAX) {
        ntk_sb_printf(sb, "%s%s", value, g->name[start]);
        return;
    }
    if (is_zero(value))
        moved = format_zero(value, v, sizeof v);
    else {
        snprintf(s, sizeof s, "%s", value);
        crop(s, abs(start - base) * 3);
        moved = scale_string(s, v, sizeof v);
    }
    int idx = start + moved;
    if (idx < 0 || idx >= g->n) {
        ntk_sb_printf(sb, "%s%s", value, g->name[start]);
        return;
    }
    if (width < 0) {
        ntk_sb_printf(sb, "%s%s", v + strspn(v, " "), g->name[idx]);
        return;
    }
    fit_long(v, width - g->width[idx], sb);
    ntk_sb_puts(sb, g->name[idx]);
}

/* NTPsec's MS_VARS, S_VARS and PPM_VARS. */
static const char *const ms_vars[] = {"rootdelay",
                                      "rootdisp",
                                      "rootdist",
                                      "offset",
                                      "sys_jitter",
                                      "clk_jitter",
                                      "leapsmearoffset",
                                      "authdelay",
                                      "koffset",
                                      "kmaxerr",
                                      "kesterr",
                                      "kprecis",
                                      "kppsjitter",
                                      "fuzz",
                                      "clk_wander_threshold",
                                      "tick",
                                      "in",
                                      "out",
                                      "bias",
                                      "delay",
                                      "jitter",
                                      "dispersion",
                                      "fudgetime1",
                                      "fudgetime2",
                                      NULL};
static const char *const s_vars[] = {"tai", "poll", NULL};
static const char *const ppm_vars[] = {"frequency", "clk_wander", NULL};

static bool listed(const char *name, const char *const *l)
{
    for (; *l; l++)
        if (strcmp(*l, name) == 0)
            return true;
    return false;
}

bool nq_units_var(struct ntk_sb *sb, const char *name, const char *raw, int width)
{
    if (listed(name, ms_vars))
        unitify(sb, raw, &sec_units, 2, 0, width);
    else if (listed(name, s_vars))
        unitify(sb, raw, &sec_units, 3, 0, width);
    else if (listed(name, ppm_vars))
        unitify(sb, raw, &ppx_units, 2, 0, width);
    else
        return false;
    return true;
}

void nq_units_ms(struct ntk_sb *sb, const char *raw, int width)
{
    unitify(sb, raw, &sec_units, 2, 0, width);
}

void nq_units_filt(struct ntk_sb *sb, const char *text)
{
    char parts[32][NUM_MAX];
    size_t n = 0;
    for (const char *p = text; *p && n < 32;) {
        p += strspn(p, NQ_PY_SPACE);
        size_t w = strcspn(p, NQ_PY_SPACE);
        if (w == 0)
            break;
        snprintf(parts[n++], NUM_MAX, "%.*s", (int)(w < NUM_MAX ? w : NUM_MAX - 1), p);
        p += w;
    }
    /* The most common scale among the values that can reach it without invented digits. */
    int ooms[32], count[32], nk = 0, minscale = -100000, most = 0, best = 0;
    for (size_t i = 0; i < n; i++) {
        char tmp[2 * NUM_MAX + 8];
        int oom = scale_string(parts[i], tmp, sizeof tmp), ds = max_down(parts[i]), k = 0;
        minscale = ds > minscale ? ds : minscale;
        while (k < nk && ooms[k] != oom)
            k++;
        if (k == nk) {
            ooms[nk] = oom;
            count[nk++] = 0;
        }
        count[k]++;
    }
    for (int k = 0; k < nk; k++)
        if (ooms[k] >= minscale && count[k] > best) {
            most = ooms[k];
            best = count[k];
        }
    for (size_t i = 0; i < n; i++) {
        char tmp[2 * NUM_MAX + 8];
        if (!rescale(parts[i], most, tmp, sizeof tmp))
            snprintf(tmp, sizeof tmp, "%s", parts[i]);
        if (i)
            ntk_sb_putc(sb, ' ');
        fit_long(tmp, 7, sb);
    }
    int u = most + 2;
    ntk_sb_printf(sb, " %s", u >= 0 && u < 5 ? sec_units.name[u] : "?");
}
