/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness for lib/addr.c (and refid display): any text either is refused with the cursor
 * unmoved, or parses to an address whose formatted text fits NTK_ADDRSTR_MAX and parses back
 * to the same address and the same text. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ntk/addr.h"
#include "ntk/err.h"
#include "ntk/refid.h"
#include "fuzz.h"

#include "poison.h"

/* format -> parse -> format must be the identity once an address has been accepted. */
static void check_roundtrip(const struct ntk_addr *a)
{
    char buf[NTK_ADDRSTR_MAX];
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    ntk_addr_format_sb(a, &sb);
    FUZZ_CHECK(ntk_sb_err(&sb) == NTK_OK);
    FUZZ_CHECK(strlen(buf) < NTK_ADDRSTR_MAX);

    struct ntk_addr b;
    FUZZ_CHECK(ntk_addr_parse_span((struct ntk_span){buf, strlen(buf)}, &b) == NTK_OK);
    FUZZ_CHECK(ntk_addr_eq(a, &b));
    char again[NTK_ADDRSTR_MAX];
    FUZZ_CHECK(strcmp(ntk_addr_format(&b, again), buf) == 0);
}

/* The refid formatter on the first bytes: bounded output with nothing unprintable in it. */
static void check_refid(const uint8_t *data, size_t size)
{
    if (size < 6) {
        return;
    }
    uint32_t refid =
        (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3];
    char buf[NTK_REFID_STRMAX];
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    ntk_refid_format(refid, data[4], data[5] & 3u, &sb);
    FUZZ_CHECK(ntk_sb_err(&sb) == NTK_OK);
    for (const char *p = buf; *p; p++) {
        FUZZ_CHECK(*p >= 0x21 && *p <= 0x7e && *p != ',');
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct ntk_addr whole, first;

    int rc = ntk_addr_parse_span((struct ntk_span){text, size}, &whole);
    FUZZ_CHECK(rc == NTK_OK || rc == NTK_EFORMAT || rc == NTK_ERANGE);
    if (rc == NTK_OK) {
        FUZZ_CHECK(whole.family == NTK_ADDR_V4 || whole.family == NTK_ADDR_V6);
        check_roundtrip(&whole);
    }

    /* The tokenizer entry point: advances only on success, and agrees with the span one. */
    struct ntk_tok t;
    ntk_tok_init(&t, text, size);
    int rt = ntk_addr_parse(&t, &first);
    if (rt == NTK_OK) {
        FUZZ_CHECK(ntk_tok_pos(&t) > 0 && ntk_tok_pos(&t) <= size);
        check_roundtrip(&first);
    } else {
        FUZZ_CHECK(ntk_tok_pos(&t) == 0);
    }
    if (rc == NTK_OK) {
        FUZZ_CHECK(rt == NTK_OK && ntk_tok_eof(&t) && ntk_addr_eq(&whole, &first));
    }

    check_refid(data, size);
    return 0;
}
