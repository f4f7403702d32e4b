/* SPDX-License-Identifier: BSD-2-Clause */
/* Loading an NTPsec keys file for a command-line tool (see cli_keys.h). */
#include "cli_keys.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_log.h"
#include "ntk/err.h"
#include "ntk/keyfile.h"

#include "poison.h"

/* Reads the whole file into a fresh buffer; *len gets its size. NULL after reporting. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        cli_err("%s: cannot open keys file: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(CLI_KEYS_FILE_MAX + 1);
    size_t n = buf != NULL ? fread(buf, 1, CLI_KEYS_FILE_MAX + 1, f) : 0;
    bool bad = buf == NULL || ferror(f) || n > CLI_KEYS_FILE_MAX;
    fclose(f);
    if (bad) {
        cli_err("%s: cannot read keys file: %s", path,
                n > CLI_KEYS_FILE_MAX ? "larger than 1 MiB" : "read error");
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static void report(const char *path, const struct ntk_keyfile *kf)
{
    for (size_t i = 0; i < kf->ndiags; i++) {
        char line[256];
        struct ntk_sb sb;
        ntk_sb_init(&sb, line, sizeof line);
        ntk_keyfile_diag_format(&sb, path, &kf->diags[i]);
        cli_err("%s", ntk_sb_str(&sb));
    }
}

int cli_keys_load(const char *path, struct ntk_mac_keys **out)
{
    size_t len = 0;
    char *text = slurp(path, &len);
    if (text == NULL)
        return 1;
    size_t cap = ntk_keyfile_max_keys(text, len);
    struct ntk_mac_key *keys = calloc(cap > 0 ? cap : 1, sizeof *keys);
    struct ntk_keyfile_diag diags[32];
    struct ntk_keyfile kf;
    int rc = 1;
    if (keys != NULL) {
        ntk_keyfile_init(&kf, keys, cap, diags, 32);
        (void)ntk_keyfile_parse(&kf, text, len);
        report(path, &kf);
        int mrc = ntk_mac_keys_new(keys, kf.nkeys, out);
        if (mrc != 0)
            cli_err("%s: cannot load keys: %s", path, ntk_strerror(mrc));
        rc = mrc == 0 ? 0 : 1;
        ntk_mac_key_wipe(keys, cap);
    }
    OPENSSL_cleanse(text, len);
    free(text);
    free(keys);
    return rc;
}
