/* SPDX-License-Identifier: BSD-2-Clause */
/* Reading tshark's .tsv decodings in tests/data (one line per packet, a header line of
 * column names first): one reader for every golden test, so columns are found by name.
 * Include after <cmocka.h> and "testutil.h"; a missing file or column fails the test. */
#ifndef NTK_TSV_H
#define NTK_TSV_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TSV_MAX_COLS = 64 };

/* One file split in place: the header's column names and a cursor over the rows. */
struct tsv {
    char *buf;                       /* the whole file (owned, freed by tsv_close) */
    char *next;                      /* start of the next unread row */
    const char *names[TSV_MAX_COLS]; /* column names from the header line */
    int ncols;                       /* number of columns */
};

/* Splits the line at *pos on tabs (in place) into cols; returns the count, or -1 at EOF. */
static inline int tsv_split(char **pos, const char **cols)
{
    char *p = *pos;
    if (!p || *p == '\0') {
        return -1;
    }
    char *end = strchr(p, '\n');
    if (end) {
        *end = '\0';
        *pos = end + 1;
    } else {
        *pos = p + strlen(p);
    }
    int n = 0;
    cols[n++] = p;
    for (char *q = p; *q; q++) {
        if (*q == '\t') {
            *q = '\0';
            assert_true(n < TSV_MAX_COLS);
            cols[n++] = q + 1;
        }
    }
    return n;
}

/* Opens tests/data/NAME.tsv and reads its header. */
static inline void tsv_open(struct tsv *t, const char *name)
{
    char path[512];
    size_t len;
    snprintf(path, sizeof path, "%s/%s.tsv", NTK_TEST_DATA_DIR, name);
    t->buf = tu_read_file(path, &len);
    if (!t->buf) {
        fail_msg("cannot read %s", path);
    }
    t->next = t->buf;
    t->ncols = tsv_split(&t->next, t->names);
    assert_true(t->ncols > 5);
}

/* Splits the next row into cols[TSV_MAX_COLS] (pointers into the file, valid until
 * tsv_close); returns 1, or 0 at the end. A row with another column count fails the test. */
static inline int tsv_next(struct tsv *t, const char **cols)
{
    int n = tsv_split(&t->next, cols);
    if (n < 0) {
        return 0;
    }
    assert_int_equal(n, t->ncols);
    return 1;
}

/* The index of column name; fails the test if tshark did not print it. */
static inline int tsv_col(const struct tsv *t, const char *name)
{
    for (int i = 0; i < t->ncols; i++) {
        if (strcmp(t->names[i], name) == 0) {
            return i;
        }
    }
    fail_msg("column %s missing", name);
    return -1;
}

/* Frees the file; the row pointers die with it. */
static inline void tsv_close(struct tsv *t)
{
    free(t->buf);
    t->buf = t->next = NULL;
}

#endif /* NTK_TSV_H */
