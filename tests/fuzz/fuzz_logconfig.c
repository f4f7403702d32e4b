/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness for daemon/io/log.c's logconfig keywords: the first byte is the prefix, the
 * rest a word. A word is either no keyword (0 bits, no mask changes) or names bits inside
 * the 16 of NTPsec's mask, equal to the union of its class's and type's parts; '=' gives
 * exactly those bits, '+' a superset, '-' a subset without them, and applying the inverse
 * item after '+' or '-' on a mask without or with them restores it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "log.h"

#include "poison.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 64)
        return 0;
    char word[64];
    memcpy(word, data + 1, size - 1);
    word[size - 1] = '\0';
    char op = (char)data[0];
    uint32_t bits = log_mask_word(word);
    FUZZ_CHECK((bits & ~(uint32_t)LOG_MASK_ALL) == 0);
    /* A keyword's bits: one type in every class, or one class's types. */
    static const uint32_t shapes[] = {0x1111, 0x2222, 0x4444, 0x8888, 0xffff, 0xf, 0xf0,
                                      0xf00,  0xf000, 1,      2,      4,      8};
    bool shaped = bits == 0;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0] && !shaped; i++)
        for (unsigned sh = 0; sh < 16 && !shaped; sh += 4)
            shaped = (shapes[i] <= 0xf ? shapes[i] << sh : shapes[i]) == bits;
    FUZZ_CHECK(shaped);
    uint32_t base = 0x5a5a;
    uint32_t got = log_mask_apply(base, op, word);
    if (bits == 0 || (op != '=' && op != '+' && op != '-')) {
        FUZZ_CHECK(got == base);
        return 0;
    }
    if (op == '=')
        FUZZ_CHECK(got == bits);
    if (op == '+')
        FUZZ_CHECK(got == (base | bits) && log_mask_apply(got & ~bits, '+', word) == got);
    if (op == '-')
        FUZZ_CHECK(got == (base & ~bits) && log_mask_apply(got, '+', word) == (base | bits));
    return 0;
}
