/* SPDX-License-Identifier: BSD-2-Clause */
/* libedit for ntpq's interactive mode, loaded on demand (nq_edit.h). */
#include "nq_edit.h"

#include <dlfcn.h>
#include <stddef.h>
#include <string.h>

#include "poison.h"

/* The soname of Debian 12's libedit (package libedit2). */
#define LIBEDIT_SONAME "libedit.so.2"

static char *(*rl)(const char *);
static int (*ah)(const char *);

static void take(void *h, const char *name, void *fn, size_t size)
{
    void *p = dlsym(h, name);
    memcpy(fn, &p, size);
}

bool nq_edit_load(void)
{
    static bool tried, ok;
    if (tried)
        return ok;
    tried = true;
    void *h = dlopen(LIBEDIT_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL)
        return false;
    take(h, "readline", &rl, sizeof rl);
    take(h, "add_history", &ah, sizeof ah);
    ok = rl != NULL && ah != NULL;
    return ok;
}

char *nq_edit_readline(const char *prompt)
{
    return rl(prompt);
}

void nq_edit_add_history(const char *line)
{
    (void)ah(line);
}
