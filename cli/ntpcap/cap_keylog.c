/* SPDX-License-Identifier: BSD-2-Clause */
/* Reads NSS-format TLS key logs (SSLKEYLOGFILE) and looks secrets up by ClientHello random. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cap_keylog.h"

#include "ntk/buf.h"
#include "ntk/err.h"
#include "ntk/sb.h"

#include "poison.h"

static const char *const LABELS[CAP_KL_COUNT] = {
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "SERVER_TRAFFIC_SECRET_0",
};

/* The next space-separated word of r (spaces before it skipped); *n its length. */
static const uint8_t *word(struct ntk_rd *r, size_t *n)
{
    while (ntk_rd_left(r) > 0 && *ntk_rd_peek(r) == ' ') {
        ntk_rd_skip(r, 1);
    }
    const uint8_t *w = ntk_rd_peek(r);
    size_t k = 0;
    while (ntk_rd_left(r) > k && w[k] != ' ') {
        k++;
    }
    ntk_rd_skip(r, k);
    *n = k;
    return w;
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = (uint8_t)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes n hex digits at h into out[0..n/2). */
static int unhex(const uint8_t *h, size_t n, uint8_t *out)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        int a = hexval(h[i]), b = hexval(h[i + 1]);
        if (a < 0 || b < 0) {
            return NTK_EFORMAT;
        }
        out[i / 2] = (uint8_t)(a << 4 | b);
    }
    return 0;
}

static int label_of(const uint8_t *w, size_t n)
{
    for (int i = 0; i < CAP_KL_COUNT; i++) {
        if (strlen(LABELS[i]) == n && memcmp(LABELS[i], w, n) == 0) {
            return i;
        }
    }
    return -1;
}

int cap_keylog_line(const uint8_t *line, size_t len, struct cap_kl_ent *e)
{
    if (len > 0 && line[len - 1] == '\r') {
        len--;
    }
    struct ntk_rd r;
    ntk_rd_init(&r, line, len);
    size_t nl, nr, ns, nx;
    const uint8_t *lab = word(&r, &nl);
    if (nl == 0 || lab[0] == '#') {
        return 1;
    }
    int l = label_of(lab, nl);
    const uint8_t *rnd = word(&r, &nr);
    const uint8_t *sec = word(&r, &ns);
    (void)word(&r, &nx);
    if (nr != 64 || ns == 0 || ns % 2 != 0 || nx != 0) {
        return NTK_EFORMAT;
    }
    if (l < 0) {
        return 1;
    }
    struct cap_kl_ent t;
    memset(&t, 0, sizeof t);
    if (ns / 2 > CAP_KL_SECRET_MAX || unhex(rnd, nr, t.random) < 0 ||
        unhex(sec, ns, t.secret) < 0) {
        OPENSSL_cleanse(&t, sizeof t);
        return NTK_EFORMAT;
    }
    t.label = (uint8_t)l;
    t.len = (uint8_t)(ns / 2);
    *e = t;
    OPENSSL_cleanse(&t, sizeof t);
    return 0;
}

static int add(struct cap_keylog *kl, const struct cap_kl_ent *e)
{
    if (kl->n == kl->alloc) {
        if (kl->alloc >= CAP_KL_ENTRIES_MAX) {
            return NTK_ERANGE;
        }
        size_t na = kl->alloc ? kl->alloc * 2 : 16;
        na = na > CAP_KL_ENTRIES_MAX ? CAP_KL_ENTRIES_MAX : na;
        struct cap_kl_ent *ne = calloc(na, sizeof *ne);
        if (ne == NULL) {
            return NTK_ENOMEM;
        }
        if (kl->n > 0) {
            memcpy(ne, kl->ent, kl->n * sizeof *ne);
            OPENSSL_cleanse(kl->ent, kl->n * sizeof *ne);
        }
        free(kl->ent);
        kl->ent = ne;
        kl->alloc = na;
    }
    kl->ent[kl->n++] = *e;
    return 0;
}

int cap_keylog_parse(struct cap_keylog *kl, const uint8_t *text, size_t len)
{
    struct ntk_rd r;
    ntk_rd_init(&r, text, len);
    int rc = 0;
    while (ntk_rd_left(&r) > 0 && rc == 0) {
        const uint8_t *line = ntk_rd_peek(&r);
        size_t n = 0, left = ntk_rd_left(&r);
        while (n < left && line[n] != '\n') {
            n++;
        }
        ntk_rd_skip(&r, n < left ? n + 1 : n);
        struct cap_kl_ent e;
        kl->lines++;
        int k = cap_keylog_line(line, n, &e);
        if (k == 0) {
            rc = add(kl, &e);
            OPENSSL_cleanse(&e, sizeof e);
        } else if (k == 1) {
            kl->skipped++;
        } else {
            kl->bad++;
        }
    }
    return rc;
}

int cap_keylog_load(struct cap_keylog *kl, const char *path, char *err, size_t cap)
{
    struct ntk_sb sb;
    ntk_sb_init(&sb, err, cap);
    memset(kl, 0, sizeof *kl);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        ntk_sb_printf(&sb, "%s: %s", path, strerror(errno));
        return NTK_ENOTFOUND;
    }
    size_t alloc = 1 << 16, n = 0;
    uint8_t *buf = malloc(alloc);
    int rc = buf ? 0 : NTK_ENOMEM;
    while (rc == 0) {
        if (n == alloc) {
            uint8_t *nb = alloc < CAP_KL_FILE_MAX ? malloc(alloc * 2) : NULL;
            if (nb == NULL) {
                rc = alloc < CAP_KL_FILE_MAX ? NTK_ENOMEM : NTK_ERANGE;
                break;
            }
            memcpy(nb, buf, n);
            OPENSSL_cleanse(buf, n);
            free(buf);
            buf = nb;
            alloc *= 2;
        }
        size_t got = fread(buf + n, 1, alloc - n, f);
        n += got;
        if (got == 0) {
            rc = ferror(f) ? NTK_EFORMAT : 0;
            break;
        }
    }
    fclose(f);
    if (rc == 0) {
        rc = cap_keylog_parse(kl, buf, n);
    }
    if (buf != NULL) {
        OPENSSL_cleanse(buf, n);
        free(buf);
    }
    if (rc != 0) {
        ntk_sb_printf(&sb, "%s: %s", path,
                      rc == NTK_ERANGE   ? "too large"
                      : rc == NTK_ENOMEM ? "out of memory"
                                         : "read error");
        cap_keylog_free(kl);
    }
    return rc;
}

const struct cap_kl_ent *cap_keylog_find(const struct cap_keylog *kl, const uint8_t random[32],
                                         enum cap_kl_label label)
{
    for (size_t i = kl->n; i > 0; i--) {
        const struct cap_kl_ent *e = &kl->ent[i - 1];
        if (e->label == label && memcmp(e->random, random, 32) == 0) {
            return e;
        }
    }
    return NULL;
}

void cap_keylog_free(struct cap_keylog *kl)
{
    if (kl->ent != NULL) {
        OPENSSL_cleanse(kl->ent, kl->alloc * sizeof *kl->ent);
    }
    free(kl->ent);
    memset(kl, 0, sizeof *kl);
}
