/* SPDX-License-Identifier: BSD-2-Clause */
/* NTPsec keys file parser and writer (ntk/keyfile.h), modelled on libntp/authreadkeys.c. */
#include "ntk/keyfile.h"
#include "ntk/err.h"
#include "ntk/tok.h"

#include <string.h>

#include "poison.h"

/* NTPsec authreadkeys: a key of 20 characters or fewer is ASCII, a longer one hex. */
enum { ASCII_KEY_MAX = 20, HEX_KEY_MAX = 2 * NTK_MAC_SECRET_MAX };

/* Type names, compared case-insensitively (NTPsec upper-cases them for OpenSSL). "AES",
 * "AES128CMAC" and "AES-128" are NTPsec's try_cmac aliases; the "-CBC" it appends internally
 * must not be written. "SHA-1" is the alias ntp.keys(5) documents. */
struct type_name {
    const char *name;
    enum ntk_mac_type type;
};

static const struct type_name type_names[] = {
    {"MD5", NTK_MAC_MD5},
    {"M", NTK_MAC_MD5},
    {"SHA1", NTK_MAC_SHA1},
    {"SHA-1", NTK_MAC_SHA1},
    {"SHA224", NTK_MAC_SHA224},
    {"SHA-224", NTK_MAC_SHA224},
    {"SHA2-224", NTK_MAC_SHA224},
    {"SHA256", NTK_MAC_SHA256},
    {"SHA-256", NTK_MAC_SHA256},
    {"SHA2-256", NTK_MAC_SHA256},
    {"SHA384", NTK_MAC_SHA384},
    {"SHA-384", NTK_MAC_SHA384},
    {"SHA2-384", NTK_MAC_SHA384},
    {"SHA512", NTK_MAC_SHA512},
    {"SHA-512", NTK_MAC_SHA512},
    {"SHA2-512", NTK_MAC_SHA512},
    {"AES", NTK_MAC_AES128_CMAC},
    {"AES128CMAC", NTK_MAC_AES128_CMAC},
    {"AES-128", NTK_MAC_AES128_CMAC},
    {"AES-192", NTK_MAC_AES192_CMAC},
    {"AES-256", NTK_MAC_AES256_CMAC},
};

/* OpenSSL digests beginning with 'M': NTPsec's try_digest finds them before its "begins
 * with M means MD5" rule, so they are not MD5 there; we support none of them. */
static const char *const m_digests[] = {"MD2", "MD4", "MDC2", "MD5-SHA1",
                                        "MD4WITHRSAENCRYPTION"};

/* State of one parse call. */
struct parser {
    struct ntk_keyfile *kf;
    uint32_t line;                               /* current line number, 1-based */
    const char *bol;                             /* start of the current line, for columns */
    int first_err;                               /* first error of this call, 0 if none */
    uint64_t seen[(NTK_MAC_KEYID_MAX + 1) / 64]; /* key ids already stored */
};

/* One diagnostic's details. */
struct problem {
    const char *at; /* where in the line */
    int err;
    const char *msg;
};

void ntk_keyfile_init(struct ntk_keyfile *kf, struct ntk_mac_key *keys, size_t keys_cap,
                      struct ntk_keyfile_diag *diags, size_t diags_cap)
{
    memset(kf, 0, sizeof *kf);
    kf->keys = keys;
    kf->keys_cap = keys ? keys_cap : 0;
    kf->diags = diags;
    kf->diags_cap = diags ? diags_cap : 0;
}

size_t ntk_keyfile_max_keys(const char *text, size_t len)
{
    size_t n = 1;
    for (size_t i = 0; text && i < len; i++) {
        n += text[i] == '\n';
    }
    return n;
}

static void report(struct parser *p, struct problem pr, bool warning, uint32_t keyid,
                   uint32_t ref_line)
{
    struct ntk_keyfile *kf = p->kf;
    if (warning) {
        kf->nwarnings++;
    } else {
        kf->nerrors++;
        if (p->first_err == NTK_OK) {
            p->first_err = pr.err;
        }
    }
    if (kf->ndiags < kf->diags_cap) {
        kf->diags[kf->ndiags++] = (struct ntk_keyfile_diag){
            .line = p->line,
            .col = (uint32_t)(pr.at - p->bol) + 1,
            .err = pr.err,
            .warning = warning,
            .keyid = keyid,
            .ref_line = ref_line,
            .msg = pr.msg,
        };
    }
}

/* Records an error for the line and returns its code, for "return fail(...)". */
static int fail(struct parser *p, const char *at, int err, const char *msg, uint32_t keyid)
{
    report(p, (struct problem){at, err, msg}, false, keyid, 0);
    return err;
}

static void warn(struct parser *p, const char *at, int err, const char *msg, uint32_t keyid)
{
    report(p, (struct problem){at, err, msg}, true, keyid, 0);
}

/* The current position of t, a cursor over the current line. */
static const char *here(const struct parser *p, const struct ntk_tok *t)
{
    return p->bol + ntk_tok_pos(t);
}

static bool seen_get(const struct parser *p, uint32_t id)
{
    return (p->seen[id / 64] >> (id % 64)) & 1u;
}

static void seen_set(struct parser *p, uint32_t id)
{
    p->seen[id / 64] |= (uint64_t)1 << (id % 64);
}

/* The first field: a decimal key id 1..65535 (ntp.keys(5)). */
static int take_keyid(struct parser *p, struct ntk_tok *t, uint32_t *keyid)
{
    struct ntk_span w;
    ntk_tok_skip_ws(t);
    const char *at = here(p, t);
    uint64_t v = 0;
    int rc = ntk_tok_word(t, &w, SIZE_MAX); /* fails only on a stray '\r' */
    if (rc == NTK_OK) {
        rc = ntk_span_u64(w, &v, NTK_MAC_KEYID_MAX);
    }
    if (rc == NTK_EFORMAT) {
        return fail(p, at, rc, "key id is not a decimal number", 0);
    }
    if (rc != NTK_OK || v == 0) {
        /* RFC 5905 §7.3: key id 0 means "no key"; NTPsec's NTP_MAXKEY is 65535. */
        return fail(p, at, NTK_ERANGE, "key id out of range 1..65535", 0);
    }
    *keyid = (uint32_t)v;
    return NTK_OK;
}

static bool is_m_digest(struct ntk_span w)
{
    for (size_t i = 0; i < sizeof m_digests / sizeof m_digests[0]; i++) {
        if (ntk_span_caseeq(w, m_digests[i])) {
            return true;
        }
    }
    return false;
}

/* Maps a type name; NTK_MAC_NONE when unknown. *legacy_m is set for NTPsec's "unknown type
 * beginning with M is MD5" rule (authreadkeys.c try_digest). */
static enum ntk_mac_type lookup_type(struct ntk_span w, bool *legacy_m)
{
    *legacy_m = false;
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++) {
        if (ntk_span_caseeq(w, type_names[i].name)) {
            return type_names[i].type;
        }
    }
    if ((w.p[0] == 'M' || w.p[0] == 'm') && !is_m_digest(w)) {
        *legacy_m = true;
        return NTK_MAC_MD5;
    }
    return NTK_MAC_NONE;
}

static int take_type(struct parser *p, struct ntk_tok *t, struct ntk_mac_key *k)
{
    struct ntk_span w;
    ntk_tok_skip_ws(t);
    const char *at = here(p, t);
    if (ntk_tok_word(t, &w, SIZE_MAX) != NTK_OK) {
        return fail(p, at, NTK_EFORMAT, "no key type", k->keyid);
    }
    bool legacy_m;
    k->type = lookup_type(w, &legacy_m);
    if (k->type == NTK_MAC_NONE) {
        return fail(p, w.p, NTK_EUNSUPP, "unknown or unsupported key type", k->keyid);
    }
    if (legacy_m) {
        warn(p, w.p, NTK_EFORMAT,
             "unknown type beginning with M taken as MD5 (NTPsec's legacy rule)", k->keyid);
    }
    return NTK_OK;
}

static int take_hex(struct parser *p, struct ntk_span w, struct ntk_mac_key *k)
{
    if (w.len > HEX_KEY_MAX) {
        return fail(p, w.p, NTK_ERANGE, "hex key longer than 64 digits (32 bytes)", k->keyid);
    }
    if (w.len % 2 != 0) {
        return fail(p, w.p, NTK_EFORMAT, "odd number of hex digits in key", k->keyid);
    }
    for (size_t i = 0; i < w.len; i += 2) {
        int hi = ntk_tok_hexdigit(w.p[i]);
        int lo = ntk_tok_hexdigit(w.p[i + 1]);
        if (hi < 0 || lo < 0) {
            const char *bad = w.p + i + (hi < 0 ? 0 : 1);
            return fail(p, bad, NTK_EFORMAT, "invalid hex digit in key", k->keyid);
        }
        k->secret[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    k->secret_len = (uint8_t)(w.len / 2);
    return NTK_OK;
}

static int take_ascii(struct parser *p, struct ntk_span w, struct ntk_mac_key *k)
{
    for (size_t i = 0; i < w.len; i++) {
        unsigned char c = (unsigned char)w.p[i];
        if (c < 0x21 || c > 0x7e) {
            return fail(p, w.p + i, NTK_EFORMAT, "ASCII key has a non-printable character",
                        k->keyid);
        }
    }
    memcpy(k->secret, w.p, w.len);
    k->secret_len = (uint8_t)w.len;
    return NTK_OK;
}

static int take_secret(struct parser *p, struct ntk_tok *t, struct ntk_mac_key *k)
{
    struct ntk_span w;
    ntk_tok_skip_ws(t);
    const char *at = here(p, t);
    if (ntk_tok_word(t, &w, SIZE_MAX) != NTK_OK) {
        return fail(p, at, NTK_EFORMAT, "no key", k->keyid);
    }
    int rc = w.len <= ASCII_KEY_MAX ? take_ascii(p, w, k) : take_hex(p, w, k);
    if (rc != NTK_OK) {
        return rc;
    }
    ntk_tok_skip_ws(t);
    if (!ntk_tok_eof(t)) {
        return fail(p, here(p, t), NTK_EFORMAT, "unexpected text after the key", k->keyid);
    }
    return NTK_OK;
}

/* NTPsec check_cmac_key_length: a CMAC secret is zero-padded or truncated to the cipher's
 * key length. Kept for compatibility, with a warning. */
static void fit_cmac_secret(struct parser *p, const char *at, struct ntk_mac_key *k)
{
    size_t need = ntk_mac_secret_len(k->type);
    if (need == 0 || k->secret_len == need) {
        return;
    }
    if (k->secret_len < need) {
        memset(k->secret + k->secret_len, 0, need - k->secret_len);
        warn(p, at, NTK_ERANGE, "CMAC key shorter than the cipher key: padded with zeros",
             k->keyid);
    } else {
        memset(k->secret + need, 0, sizeof k->secret - need);
        warn(p, at, NTK_ERANGE, "CMAC key longer than the cipher key: truncated", k->keyid);
    }
    k->secret_len = (uint8_t)need;
}

static uint32_t line_of(const struct ntk_keyfile *kf, uint32_t keyid)
{
    for (size_t i = 0; i < kf->nkeys; i++) {
        if (kf->keys[i].keyid == keyid) {
            return kf->keys[i].line;
        }
    }
    return 0;
}

/* Appends k unless its id is taken or there is no room; at is the line's first token. */
static void store(struct parser *p, const char *at, const struct ntk_mac_key *k)
{
    struct ntk_keyfile *kf = p->kf;
    if (seen_get(p, k->keyid)) {
        struct problem pr = {at, NTK_EFORMAT, "duplicate key id: line ignored"};
        report(p, pr, false, k->keyid, line_of(kf, k->keyid));
        return;
    }
    if (kf->nkeys >= kf->keys_cap) {
        (void)fail(p, at, NTK_ENOSPC, "too many keys", k->keyid);
        return;
    }
    kf->keys[kf->nkeys++] = *k;
    seen_set(p, k->keyid);
}

/* Parses the fields of one line (comment already cut off). */
static void parse_fields(struct parser *p, struct ntk_tok *t, struct ntk_mac_key *k)
{
    ntk_tok_skip_ws(t);
    if (ntk_tok_eof(t)) {
        return; /* blank or comment-only line */
    }
    const char *first = here(p, t);
    if (take_keyid(p, t, &k->keyid) != NTK_OK || take_type(p, t, k) != NTK_OK) {
        return;
    }
    ntk_tok_skip_ws(t);
    const char *secret_at = here(p, t);
    if (take_secret(p, t, k) != NTK_OK) {
        return;
    }
    fit_cmac_secret(p, secret_at, k);
    k->line = p->line;
    store(p, first, k);
}

static void parse_line(struct parser *p, struct ntk_span line)
{
    /* '#' ends the line's content wherever it is, as in NTPsec's nexttok. */
    const char *hash = line.len ? memchr(line.p, '#', line.len) : NULL;
    if (hash) {
        line.len = (size_t)(hash - line.p);
    }
    struct ntk_tok t;
    ntk_tok_init_span(&t, line);
    struct ntk_mac_key k;
    memset(&k, 0, sizeof k);
    parse_fields(p, &t, &k);
    ntk_mac_key_wipe(&k, 1);
}

int ntk_keyfile_parse(struct ntk_keyfile *kf, const char *text, size_t len)
{
    struct parser p;
    memset(&p, 0, sizeof p);
    p.kf = kf;
    for (size_t i = 0; i < kf->nkeys; i++) {
        seen_set(&p, kf->keys[i].keyid);
    }
    struct ntk_tok t;
    ntk_tok_init(&t, text, len);
    struct ntk_span line;
    while (ntk_tok_line(&t, &line, SIZE_MAX) == NTK_OK) {
        p.line++;
        p.bol = line.p;
        parse_line(&p, line);
    }
    return p.first_err;
}

static bool ascii_writable(const struct ntk_mac_key *k)
{
    if (k->secret_len > ASCII_KEY_MAX) {
        return false;
    }
    for (size_t i = 0; i < k->secret_len; i++) {
        uint8_t c = k->secret[i];
        if (c < 0x21 || c > 0x7e || c == '#') {
            return false;
        }
    }
    return true;
}

int ntk_keyfile_write(struct ntk_sb *sb, const struct ntk_mac_key *key)
{
    if (!ntk_mac_key_valid(key)) {
        return NTK_EINVAL;
    }
    bool ascii = ascii_writable(key);
    if (!ascii && 2u * key->secret_len <= ASCII_KEY_MAX) {
        return NTK_EINVAL; /* its hex would be read back as an ASCII key */
    }
    ntk_sb_printf(sb, "%u %s ", (unsigned)key->keyid, ntk_mac_type_name(key->type));
    if (ascii) {
        ntk_sb_putn(sb, (const char *)key->secret, key->secret_len);
    } else {
        ntk_sb_hex(sb, key->secret, key->secret_len);
    }
    ntk_sb_putc(sb, '\n');
    return ntk_sb_err(sb);
}

int ntk_keyfile_diag_format(struct ntk_sb *sb, const char *path,
                            const struct ntk_keyfile_diag *d)
{
    if (path) {
        ntk_sb_printf(sb, "%s:", path);
    }
    ntk_sb_printf(sb, "%u:%u: %s: %s", (unsigned)d->line, (unsigned)d->col,
                  d->warning ? "warning" : "error", d->msg);
    if (d->keyid != 0) {
        ntk_sb_printf(sb, " (key %u)", (unsigned)d->keyid);
    }
    if (d->ref_line != 0) {
        ntk_sb_printf(sb, " (first defined on line %u)", (unsigned)d->ref_line);
    }
    return ntk_sb_err(sb);
}
