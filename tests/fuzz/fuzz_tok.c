/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness for lib/tok.c: every token reader on arbitrary text must stay in bounds,
 * advance only on success and terminate. */
#include <stddef.h>
#include <stdint.h>

#include "ntk/err.h"
#include "ntk/tok.h"
#include "fuzz.h"

#include "poison.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ntk_tok t;
    ntk_tok_init(&t, (const char *)data, size);
    struct ntk_span line;
    size_t steps = 0;
    while (!ntk_tok_eof(&t)) {
        size_t before = ntk_tok_pos(&t);
        if (ntk_tok_line(&t, &line, 64) != NTK_OK) {
            FUZZ_CHECK(ntk_tok_pos(&t) == before);
            ntk_tok_skip_line(&t);
            continue;
        }
        struct ntk_tok lt;
        ntk_tok_init_span(&lt, line);
        while (!ntk_tok_eof(&lt)) {
            struct ntk_span w;
            uint64_t v;
            uint8_t hex[16];
            ntk_tok_skip_ws(&lt);
            if (ntk_tok_u64(&lt, &v, 1000000) == NTK_OK) {
                FUZZ_CHECK(v <= 1000000);
            }
            if (ntk_tok_word(&lt, &w, 16) == NTK_OK) {
                FUZZ_CHECK(w.len >= 1 && w.len <= 16);
                (void)ntk_span_hex(w, hex, sizeof hex);
                char cs[8];
                (void)ntk_span_cstr(w, cs, sizeof cs);
            } else {
                struct ntk_span run;
                if (ntk_tok_until(&lt, " \t=,", &run, 8) != NTK_OK || run.len == 0) {
                    ntk_tok_accept(&lt, (char)ntk_tok_peek(&lt));
                }
            }
            ntk_tok_accept(&lt, '=');
        }
        FUZZ_CHECK(++steps <= size + 1);
    }
    return 0;
}
