/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness for lib/keyfile.c: arbitrary text into the keys-file parser. Every stored key
 * must be valid and unique, diagnostics must point inside the text, and write -> parse must
 * give the same keys back (parse(write(parse(x))) == parse(x)); the keys must build a store.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ntk/err.h"
#include "ntk/keyfile.h"
#include "ntk/mac.h"
#include "ntk/sb.h"
#include "fuzz.h"

#include "poison.h"

enum { MAXK = 64, MAXD = 16, LINE_MAX_BYTES = 96 };

static void check_results(const struct ntk_keyfile *kf, int rc, size_t lines)
{
    FUZZ_CHECK((rc == NTK_OK) == (kf->nerrors == 0));
    FUZZ_CHECK(rc <= 0);
    FUZZ_CHECK(kf->nkeys <= MAXK && kf->ndiags <= MAXD);
    size_t total = kf->nerrors + kf->nwarnings;
    FUZZ_CHECK(kf->ndiags == (total < MAXD ? total : MAXD));
    for (size_t i = 0; i < kf->nkeys; i++) {
        const struct ntk_mac_key *k = &kf->keys[i];
        FUZZ_CHECK(ntk_mac_key_valid(k));
        FUZZ_CHECK(k->keyid >= 1 && k->keyid <= NTK_MAC_KEYID_MAX);
        FUZZ_CHECK(k->secret_len >= 1 && k->secret_len <= NTK_MAC_SECRET_MAX);
        FUZZ_CHECK(k->line >= 1 && k->line <= lines);
        for (size_t j = 0; j < i; j++) {
            FUZZ_CHECK(kf->keys[j].keyid != k->keyid);
        }
    }
    for (size_t i = 0; i < kf->ndiags; i++) {
        const struct ntk_keyfile_diag *d = &kf->diags[i];
        FUZZ_CHECK(d->line >= 1 && d->line <= lines && d->col >= 1);
        FUZZ_CHECK(d->err < 0 && d->msg != NULL);
        FUZZ_CHECK(d->ref_line < d->line);
    }
}

/* parse(write(keys)) must give keys back, with no diagnostic. */
static void check_round_trip(const struct ntk_mac_key *keys, size_t n)
{
    static char text[MAXK * LINE_MAX_BYTES];
    struct ntk_sb sb;
    ntk_sb_init(&sb, text, sizeof text);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(ntk_keyfile_write(&sb, &keys[i]) == NTK_OK);
    }
    struct ntk_mac_key again[MAXK];
    struct ntk_keyfile_diag diags[MAXD];
    struct ntk_keyfile kf;
    ntk_keyfile_init(&kf, again, MAXK, diags, MAXD);
    FUZZ_CHECK(ntk_keyfile_parse(&kf, ntk_sb_str(&sb), ntk_sb_len(&sb)) == NTK_OK);
    FUZZ_CHECK(kf.nkeys == n && kf.ndiags == 0 && kf.nwarnings == 0);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(again[i].keyid == keys[i].keyid && again[i].type == keys[i].type);
        FUZZ_CHECK(again[i].secret_len == keys[i].secret_len);
        FUZZ_CHECK(memcmp(again[i].secret, keys[i].secret, sizeof again[i].secret) == 0);
        FUZZ_CHECK(again[i].line == i + 1);
    }
    ntk_mac_key_wipe(again, kf.nkeys);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ntk_mac_key keys[MAXK];
    struct ntk_keyfile_diag diags[MAXD];
    struct ntk_keyfile kf;
    ntk_keyfile_init(&kf, keys, MAXK, diags, MAXD);
    const char *text = (const char *)data;
    int rc = ntk_keyfile_parse(&kf, text, size);
    check_results(&kf, rc, ntk_keyfile_max_keys(text, size));
    check_round_trip(keys, kf.nkeys);
    if (kf.nkeys > 0) {
        struct ntk_mac_keys *ks = NULL;
        FUZZ_CHECK(ntk_mac_keys_new(keys, kf.nkeys, &ks) == NTK_OK);
        FUZZ_CHECK(ntk_mac_keys_count(ks) == kf.nkeys);
        uint8_t mac[NTK_MAC_LEN_MAX];
        int n = ntk_mac_compute(ks, keys[0].keyid, data, size, mac, sizeof mac);
        FUZZ_CHECK(n == (int)ntk_mac_len(keys[0].type));
        FUZZ_CHECK(ntk_mac_verify(ks, keys[0].keyid, data, size, mac, (size_t)n) == NTK_OK);
        ntk_mac_keys_free(ks);
    }
    ntk_mac_key_wipe(keys, kf.nkeys);
    return 0;
}
