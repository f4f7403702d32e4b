/* SPDX-License-Identifier: BSD-2-Clause */
/* Golden test for lib/keyfile.c and lib/mac.c: every MAC in the real NTPsec/chrony captures
 * (tests/data/symkey.tsv, mode6.tsv) verifies, or fails, exactly as symkey-macs.txt and
 * mode6-macs.txt (made by make-captures/mac_verify.py) say. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ntk/err.h"
#include "ntk/keyfile.h"
#include "ntk/mac.h"
#include "ntk/tok.h"
#include "testutil.h"
#include "tsv.h"

#include "poison.h"

enum { MAX_FRAMES = 64, MAX_PAYLOAD = 600, MAX_KEYS = 8 };

/* One captured packet from a .tsv file. */
struct frame {
    unsigned number;
    struct ntk_span keyid_hex;    /* tshark's ntp.keyid column (borrowed from the tsv) */
    struct ntk_span mac_hex;      /* tshark's ntp.mac column (borrowed from the tsv) */
    uint8_t payload[MAX_PAYLOAD]; /* udp.payload, the last column */
    size_t len;
};

/* What a *-macs.txt line says about one frame. */
struct expect {
    bool mac; /* false: "no MAC" */
    uint32_t keyid;
    char type[8];     /* "MD5", "SHA1", "AES" */
    size_t mac_len;   /* 16 or 20 */
    char keyfile[40]; /* "symkey.keys" or "symkey-client-wrong.keys" */
};

static struct ntk_span span_of(const char *s)
{
    return (struct ntk_span){s, strlen(s)};
}

/* Reads tests/data/NAME.tsv: frames[i] gets frame i + 1. The frames borrow from *t, to be
 * closed after use. Returns the frame count. */
static size_t load_tsv(const char *name, struct frame *frames, struct tsv *t)
{
    tsv_open(t, name);
    int number_col = tsv_col(t, "frame.number"), keyid_col = tsv_col(t, "ntp.keyid");
    int mac_col = tsv_col(t, "ntp.mac"), payload_col = tsv_col(t, "udp.payload");
    const char *c[TSV_MAX_COLS];
    size_t n = 0;
    while (tsv_next(t, c)) {
        assert_true(n < MAX_FRAMES);
        struct frame *f = &frames[n];
        uint64_t number;
        assert_int_equal(ntk_span_u64(span_of(c[number_col]), &number, MAX_FRAMES), NTK_OK);
        f->number = (unsigned)number;
        assert_int_equal(f->number, n + 1);
        f->keyid_hex = span_of(c[keyid_col]);
        f->mac_hex = span_of(c[mac_col]);
        int got = ntk_span_hex(span_of(c[payload_col]), f->payload, sizeof f->payload);
        assert_true(got > 0);
        f->len = (size_t)got;
        n++;
    }
    return n;
}

/* Parses one *-macs.txt line into e; returns the frame number. */
static unsigned parse_expect(struct ntk_span line, struct expect *e)
{
    char s[256];
    assert_int_equal(ntk_span_cstr(line, s, sizeof s), NTK_OK);
    assert_memory_equal(s, "frame ", 6);
    unsigned number = (unsigned)strtoul(s + 6, NULL, 10);
    memset(e, 0, sizeof *e);
    const char *k = strstr(s, ": keyid ");
    if (k == NULL) {
        assert_non_null(strstr(s, ": no MAC"));
        return number;
    }
    char *end;
    e->mac = true;
    e->keyid = (uint32_t)strtoul(k + 8, &end, 10);
    const char *type = end + 1;
    const char *sp = strchr(type, ' ');
    assert_true(sp && (size_t)(sp - type) < sizeof e->type);
    memcpy(e->type, type, (size_t)(sp - type));
    e->mac_len = strtoul(sp + 1, &end, 10);
    assert_memory_equal(end, "-byte MAC OK (key from ", 23);
    const char *file = end + 23;
    const char *close = strchr(file, ')');
    assert_true(close && (size_t)(close - file) < sizeof e->keyfile);
    memcpy(e->keyfile, file, (size_t)(close - file));
    return number;
}

/* Reads a *-macs.txt file: expects[n] for frame n. Returns the number of lines. */
static size_t load_expects(const char *name, struct expect *expects)
{
    size_t len;
    char *text = tu_read_data(name, &len);
    struct ntk_tok t;
    ntk_tok_init(&t, text, len);
    struct ntk_span line;
    size_t n = 0;
    while (ntk_tok_line(&t, &line, SIZE_MAX) == NTK_OK) {
        unsigned number = parse_expect(line, &expects[n + 1]);
        assert_int_equal(number, n + 1);
        n++;
        assert_true(n < MAX_FRAMES);
    }
    free(text);
    return n;
}

/* Parses a keys file from tests/data that must be free of diagnostics. */
static size_t parse_keys(const char *name, struct ntk_mac_key *keys)
{
    size_t len;
    char *text = tu_read_data(name, &len);
    struct ntk_keyfile_diag diags[4];
    struct ntk_keyfile kf;
    ntk_keyfile_init(&kf, keys, MAX_KEYS, diags, 4);
    assert_int_equal(ntk_keyfile_parse(&kf, text, len), NTK_OK);
    assert_int_equal(kf.ndiags, 0);
    memset(text, 0, len); /* the text holds the secrets too */
    free(text);
    return kf.nkeys;
}

static struct ntk_mac_keys *load_store(const char *name, size_t want_keys)
{
    struct ntk_mac_key keys[MAX_KEYS];
    size_t n = parse_keys(name, keys);
    assert_int_equal(n, want_keys);
    struct ntk_mac_keys *ks = NULL;
    assert_int_equal(ntk_mac_keys_new(keys, n, &ks), NTK_OK);
    ntk_mac_key_wipe(keys, n);
    return ks;
}

static void assert_key(const struct ntk_mac_key *k, uint32_t keyid, enum ntk_mac_type type,
                       const char *secret_hex)
{
    uint8_t want[NTK_MAC_SECRET_MAX];
    int n = tu_unhex(secret_hex, want, sizeof want);
    assert_int_equal(k->keyid, keyid);
    assert_int_equal(k->type, type);
    assert_int_equal(k->secret_len, n);
    assert_memory_equal(k->secret, want, (size_t)n);
}

static void keys_files_parse(void **state)
{
    (void)state;
    struct ntk_mac_key keys[MAX_KEYS];
    assert_int_equal(parse_keys("symkey.keys", keys), 3);
    assert_key(&keys[0], 1, NTK_MAC_MD5, "416e63686f72734d44354b6579"); /* AnchorsMD5Key */
    assert_int_equal(keys[0].line, 3);
    assert_key(&keys[1], 2, NTK_MAC_SHA1, "8bb9956fb1c117e638fb115ea395d8b08105ee68");
    assert_key(&keys[2], 3, NTK_MAC_AES128_CMAC, "2450c2ae8f928858877f1b7bf8f6af79");
    assert_int_equal(keys[2].line, 7);
    assert_int_equal(parse_keys("symkey-client-wrong.keys", keys), 2);
    assert_key(&keys[0], 9, NTK_MAC_AES128_CMAC, "95fb9de2abed02c20debba9861c07944");
    assert_key(&keys[1], 1, NTK_MAC_MD5, "57726f6e674d4435536563726574"); /* WrongMD5Secret */
    ntk_mac_key_wipe(keys, MAX_KEYS);
}

/* symkey-chrony.keys holds the same secrets in chrony's "ID TYPE ASCII:|HEX:key" format. */
static void chrony_keys_agree(void **state)
{
    (void)state;
    struct ntk_mac_key keys[MAX_KEYS];
    assert_int_equal(parse_keys("symkey.keys", keys), 3);
    size_t len;
    char *text = tu_read_data("symkey-chrony.keys", &len);
    struct ntk_tok t;
    ntk_tok_init(&t, text, len);
    struct ntk_span line;
    size_t checked = 0;
    while (ntk_tok_line(&t, &line, SIZE_MAX) == NTK_OK) {
        struct ntk_span f[4];
        struct ntk_tok lt;
        ntk_tok_init_span(&lt, line);
        if (ntk_tok_peek(&lt) == '#') {
            continue;
        }
        size_t n = 0;
        while (n < 4 && ntk_tok_word(&lt, &f[n], SIZE_MAX) == NTK_OK) {
            n++;
            ntk_tok_skip_ws(&lt);
        }
        assert_int_equal(n, 3);
        uint64_t id;
        assert_int_equal(ntk_span_u64(f[0], &id, 65535), NTK_OK);
        const struct ntk_mac_key *k = &keys[id - 1];
        assert_int_equal(k->keyid, id);
        uint8_t secret[NTK_MAC_SECRET_MAX];
        struct ntk_span v = {f[2].p + 4, f[2].len - 4};
        if (memcmp(f[2].p, "HEX:", 4) == 0) {
            assert_int_equal(ntk_span_hex(v, secret, sizeof secret), k->secret_len);
        } else {
            assert_memory_equal(f[2].p, "ASCII:", 6);
            v = (struct ntk_span){f[2].p + 6, f[2].len - 6};
            assert_int_equal(v.len, k->secret_len);
            memcpy(secret, v.p, v.len);
        }
        assert_memory_equal(secret, k->secret, k->secret_len);
        checked++;
    }
    assert_int_equal(checked, 3);
    free(text);
    ntk_mac_key_wipe(keys, MAX_KEYS);
}

static enum ntk_mac_type type_of(const char *name)
{
    if (strcmp(name, "MD5") == 0) {
        return NTK_MAC_MD5;
    }
    if (strcmp(name, "SHA1") == 0) {
        return NTK_MAC_SHA1;
    }
    assert_string_equal(name, "AES");
    return NTK_MAC_AES128_CMAC;
}

/* Checks tshark's ntp.keyid / ntp.mac columns against the payload. */
static void check_tshark_columns(const struct frame *f, uint32_t keyid, const uint8_t *mac,
                                 size_t mac_len)
{
    uint8_t col[NTK_MAC_LEN_MAX];
    assert_int_equal(ntk_span_hex(f->keyid_hex, col, sizeof col), 4);
    assert_int_equal((uint32_t)col[0] << 24 | col[1] << 16 | col[2] << 8 | col[3], keyid);
    assert_int_equal(ntk_span_hex(f->mac_hex, col, sizeof col), mac_len);
    assert_memory_equal(col, mac, mac_len);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Counts of what happened in the symkey capture. */
struct tally {
    unsigned good_ok, wrong_ok, notfound, eauth;
};

static void check_symkey_frame(struct ntk_mac_keys *good, struct ntk_mac_keys *wrong,
                               const struct frame *f, const struct expect *e, struct tally *n)
{
    /* Modes 1-5: 48-byte header, key id, MAC (RFC 5905 §7.3); no extension fields here. */
    assert_true(e->mac);
    assert_int_equal(f->len, 48 + 4 + e->mac_len);
    uint32_t keyid = be32(f->payload + 48);
    const uint8_t *mac = f->payload + 52;
    assert_int_equal(keyid, e->keyid);
    check_tshark_columns(f, keyid, mac, e->mac_len);
    bool from_good = strcmp(e->keyfile, "symkey.keys") == 0;
    struct ntk_mac_keys *signer = from_good ? good : wrong;
    enum ntk_mac_type type;
    assert_int_equal(ntk_mac_keys_lookup(signer, keyid, &type), NTK_OK);
    assert_int_equal(type, type_of(e->type));

    uint8_t ours[NTK_MAC_LEN_MAX];
    assert_int_equal(ntk_mac_compute(signer, keyid, f->payload, 48, ours, sizeof ours),
                     e->mac_len);
    assert_memory_equal(ours, mac, e->mac_len);
    assert_int_equal(ntk_mac_verify(signer, keyid, f->payload, 48, mac, e->mac_len), NTK_OK);
    /* The other key set: key 1 exists in both with different secrets, 2 and 3 only in
     * symkey.keys, 9 only in symkey-client-wrong.keys. */
    struct ntk_mac_keys *other = from_good ? wrong : good;
    int rc = ntk_mac_verify(other, keyid, f->payload, 48, mac, e->mac_len);
    assert_int_equal(rc, keyid == 1 ? NTK_EAUTH : NTK_ENOTFOUND);
    if (from_good) {
        n->good_ok++;
    } else {
        n->wrong_ok++;
        n->notfound += rc == NTK_ENOTFOUND;
        n->eauth += rc == NTK_EAUTH;
    }
}

static void symkey_capture(void **state)
{
    (void)state;
    static struct frame frames[MAX_FRAMES];
    static struct expect expects[MAX_FRAMES + 1];
    struct tsv t;
    size_t nframes = load_tsv("symkey", frames, &t);
    assert_int_equal(nframes, 46);
    assert_int_equal(load_expects("symkey-macs.txt", expects), 46);
    struct ntk_mac_keys *good = load_store("symkey.keys", 3);
    struct ntk_mac_keys *wrong = load_store("symkey-client-wrong.keys", 2);
    struct tally n = {0};
    for (size_t i = 0; i < nframes; i++) {
        check_symkey_frame(good, wrong, &frames[i], &expects[frames[i].number], &n);
    }
    /* Frames 7 and 27 (key 9) and 8 and 28 (key 1, wrong secret) were signed with
     * symkey-client-wrong.keys; the other 42 with symkey.keys. */
    assert_int_equal(n.good_ok, 42);
    assert_int_equal(n.wrong_ok, 4);
    assert_int_equal(n.notfound, 2);
    assert_int_equal(n.eauth, 2);
    assert_int_equal(expects[7].keyid, 9);
    assert_int_equal(expects[8].keyid, 1);
    assert_string_equal(expects[28].keyfile, "symkey-client-wrong.keys");
    ntk_mac_keys_free(good);
    ntk_mac_keys_free(wrong);
    tsv_close(&t);
}

static void mode6_capture(void **state)
{
    (void)state;
    static struct frame frames[MAX_FRAMES];
    static struct expect expects[MAX_FRAMES + 1];
    struct tsv t;
    size_t nframes = load_tsv("mode6", frames, &t);
    assert_int_equal(nframes, 30);
    assert_int_equal(load_expects("mode6-macs.txt", expects), 30);
    struct ntk_mac_keys *ks = load_store("symkey.keys", 3);
    unsigned verified = 0, unsigned_frames = 0;
    for (size_t i = 0; i < nframes; i++) {
        const struct frame *f = &frames[i];
        const struct expect *e = &expects[f->number];
        assert_int_equal(f->payload[0] & 7, 6);
        if (!e->mac) {
            /* No trailer may pass for a MAC, at either length. */
            for (size_t dlen = 16; dlen <= 20; dlen += 4) {
                if (f->len >= 12 + 4 + dlen) {
                    size_t cut = f->len - 4 - dlen;
                    int rc = ntk_mac_verify(ks, be32(f->payload + cut), f->payload, cut,
                                            f->payload + cut + 4, dlen);
                    assert_int_not_equal(rc, NTK_OK);
                }
            }
            unsigned_frames++;
            continue;
        }
        /* The MAC covers header + data + padding: everything before the key id. */
        size_t cut = f->len - 4 - e->mac_len;
        assert_int_equal(be32(f->payload + cut), e->keyid);
        assert_int_equal(
            ntk_mac_verify(ks, e->keyid, f->payload, cut, f->payload + cut + 4, e->mac_len),
            NTK_OK);
        /* One byte less of padding must fail. */
        assert_int_equal(ntk_mac_verify(ks, e->keyid, f->payload, cut - 1,
                                        f->payload + cut + 4, e->mac_len),
                         NTK_EAUTH);
        verified++;
    }
    assert_int_equal(verified, 4);
    assert_int_equal(unsigned_frames, 26);
    assert_true(expects[27].mac && expects[30].mac && !expects[26].mac);
    ntk_mac_keys_free(ks);
    tsv_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keys_files_parse),
        cmocka_unit_test(chrony_keys_agree),
        cmocka_unit_test(symkey_capture),
        cmocka_unit_test(mode6_capture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
