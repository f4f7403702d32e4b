/* SPDX-License-Identifier: BSD-2-Clause */
/* ntp.conf files: reading a file, includefile of files and directories (their *.conf files in
 * name order, as /etc/ntp.d/), with a nesting limit and a cycle check on canonical paths. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf_internal.h"
#include "ntk/err.h"
#include "ntk/sb.h"

#include "poison.h"

#define CONF_FILE_MAX (1024 * 1024) /* largest configuration file read, bytes */

/* Reads the whole regular file at path into a new buffer. Returns 0 or -errno
 * (-EFBIG when larger than CONF_FILE_MAX). */
static int read_all(const char *path, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    struct stat st;
    int rc = 0;
    char *buf = NULL;
    if (fstat(fd, &st) != 0) {
        rc = -errno;
    } else if (!S_ISREG(st.st_mode)) {
        rc = -EINVAL;
    } else if (st.st_size > CONF_FILE_MAX) {
        rc = -EFBIG;
    } else if (!(buf = malloc((size_t)st.st_size + 1))) {
        rc = -ENOMEM;
    }
    size_t got = 0;
    while (rc == 0 && got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            rc = n < 0 ? -errno : -EIO;
            break;
        }
        got += (size_t)n;
    }
    close(fd);
    if (rc != 0) {
        free(buf);
        return rc;
    }
    *out = buf;
    *len = got;
    return 0;
}

static const char *why(int neg_errno)
{
    return neg_errno == -EFBIG    ? "larger than 1 MiB"
           : neg_errno == -EINVAL ? "not a regular file"
                                  : strerror(-neg_errno);
}

/* Parses the file at path (already canonical in real) below stack. Returns 0 or -errno
 * when it could not be read (nothing reported). */
static int parse_one(struct conf_pctx *up, const char *path, const char *real, unsigned depth)
{
    char *text = NULL;
    size_t len = 0;
    int rc = read_all(path, &text, &len);
    if (rc != 0) {
        return rc;
    }
    struct conf_frame fr = {.real = real, .up = up->stack};
    struct conf_pctx px = {.c = up->c, .d = up->d, .name = path, .depth = depth, .stack = &fr};
    conf_parse_lines(&px, text, len);
    free(text);
    up->oom = up->oom || px.oom;
    return 0;
}

/* Joins the including file's directory and a relative path into out[CONF_PATH_MAX]. */
static bool resolve(const char *from, const char *path, char *out)
{
    struct ntk_sb sb;
    ntk_sb_init(&sb, out, CONF_PATH_MAX);
    const char *slash = strrchr(from, '/');
    if (path[0] != '/' && slash) {
        ntk_sb_putn(&sb, from, (size_t)(slash - from) + 1);
    }
    ntk_sb_puts(&sb, path);
    return ntk_sb_err(&sb) == NTK_OK;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_conf_name(const char *n)
{
    size_t len = strlen(n);
    return n[0] != '.' && len > 5 && strcmp(n + len - 5, ".conf") == 0;
}

/* The *.conf names of directory dir, sorted; *n set. NULL with *n = 0 when empty or on
 * error (errno kept in *err). */
static char **list_dir(const char *dir, size_t *n, int *err)
{
    DIR *dp = opendir(dir);
    *n = 0;
    *err = 0;
    if (!dp) {
        *err = -errno;
        return NULL;
    }
    char **names = NULL;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL && *n < 1000) {
        if (!is_conf_name(e->d_name)) {
            continue;
        }
        if (conf_grow((void **)&names, &cap, *n, sizeof *names, 1000) < 0 ||
            !(names[*n] = strdup(e->d_name))) {
            *err = -ENOMEM;
            break;
        }
        (*n)++;
    }
    closedir(dp);
    if (names) {
        qsort(names, *n, sizeof *names, cmp_names);
    }
    return names;
}

static bool on_stack(const struct conf_frame *f, const char *real)
{
    for (; f; f = f->up) {
        if (strcmp(f->real, real) == 0) {
            return true;
        }
    }
    return false;
}

/* One file (not a directory) included from line l at token k. */
static int include_file(struct cline *l, size_t k, const char *path)
{
    char *real = realpath(path, NULL);
    if (!real) {
        return cl_err(l, k, "includefile: cannot open '%s': %s", path, strerror(errno));
    }
    int rc = 0;
    if (on_stack(l->px->stack, real)) {
        rc = cl_err(l, k, "includefile: '%s' is already being read (an include cycle)", path);
    } else {
        int e = parse_one(l->px, path, real, l->px->depth + 1);
        if (e != 0) {
            rc = cl_err(l, k, "includefile: cannot read '%s': %s", path, why(e));
        }
    }
    free(real);
    return rc;
}

static int include_dir(struct cline *l, size_t k, const char *dir)
{
    size_t n;
    int err;
    char **names = list_dir(dir, &n, &err);
    int rc = 0;
    if (err != 0) {
        rc = cl_err(l, k, "includefile: cannot list '%s': %s", dir, strerror(-err));
    }
    for (size_t i = 0; i < n; i++) {
        char p[CONF_PATH_MAX];
        struct ntk_sb sb;
        ntk_sb_init(&sb, p, sizeof p);
        ntk_sb_printf(&sb, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", names[i]);
        if (ntk_sb_err(&sb) != NTK_OK) {
            rc = cl_err(l, k, "includefile: path longer than %d bytes", CONF_PATH_MAX - 1);
        } else if (!l->px->oom) {
            (void)include_file(l, k, p); /* each file reports its own problems */
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int conf_include_path(struct cline *l, size_t k, const char *path)
{
    if (l->px->depth + 1 > CONF_INCLUDE_MAX) {
        return cl_err(l, k, "includefile: nested more than %d levels deep", CONF_INCLUDE_MAX);
    }
    char full[CONF_PATH_MAX];
    if (!resolve(l->px->name, path, full)) {
        return cl_err(l, k, "includefile: path longer than %d bytes", CONF_PATH_MAX - 1);
    }
    struct stat st;
    if (stat(full, &st) != 0) {
        return cl_err(l, k, "includefile: cannot open '%s': %s", full, strerror(errno));
    }
    return S_ISDIR(st.st_mode) ? include_dir(l, k, full) : include_file(l, k, full);
}

int conf_parse_file(struct conf *c, const char *path, struct conf_diags *d)
{
    char *real = realpath(path, NULL);
    if (!real) {
        conf_diag_add(d, CONF_SEV_ERROR, path, 0, 0, "cannot open: %s", strerror(errno));
        return NTK_ENOTFOUND;
    }
    struct conf_pctx top = {.c = c, .d = d, .name = path};
    size_t before = d->errors;
    c->parse_depth++;
    int e = parse_one(&top, path, real, 0);
    free(real);
    conf_parse_done(c, d);
    if (e != 0) {
        conf_diag_add(d, CONF_SEV_ERROR, path, 0, 0, "cannot read: %s", why(e));
        return e == -ENOMEM ? NTK_ENOMEM : NTK_ENOTFOUND;
    }
    if (top.oom) {
        return NTK_ENOMEM;
    }
    return d->errors == before ? NTK_OK : NTK_EFORMAT;
}
