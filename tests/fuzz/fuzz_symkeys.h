/* SPDX-License-Identifier: BSD-2-Clause */
/* Keys 1-3 of tests/data/symkey.keys (MD5, SHA1, AES-128-CMAC) for the harnesses whose
 * corpora hold real signed datagrams, so that those MACs verify. */
#ifndef NTK_FUZZ_SYMKEYS_H
#define NTK_FUZZ_SYMKEYS_H

#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "ntk/err.h"
#include "ntk/mac.h"

/* The key store, built on the first call and kept for the process (reachable, not a leak). */
static inline struct ntk_mac_keys *fuzz_symkeys(void)
{
    static struct ntk_mac_keys *ks;
    if (ks == NULL) {
        static const uint8_t sha1[20] = {0x8b, 0xb9, 0x95, 0x6f, 0xb1, 0xc1, 0x17,
                                         0xe6, 0x38, 0xfb, 0x11, 0x5e, 0xa3, 0x95,
                                         0xd8, 0xb0, 0x81, 0x05, 0xee, 0x68};
        static const uint8_t aes[16] = {0x24, 0x50, 0xc2, 0xae, 0x8f, 0x92, 0x88, 0x58,
                                        0x87, 0x7f, 0x1b, 0x7b, 0xf8, 0xf6, 0xaf, 0x79};
        struct ntk_mac_key k[3] = {
            {.keyid = 1, .type = NTK_MAC_MD5, .secret_len = 13},
            {.keyid = 2, .type = NTK_MAC_SHA1, .secret_len = 20},
            {.keyid = 3, .type = NTK_MAC_AES128_CMAC, .secret_len = 16},
        };
        memcpy(k[0].secret, "AnchorsMD5Key", 13);
        memcpy(k[1].secret, sha1, 20);
        memcpy(k[2].secret, aes, 16);
        FUZZ_CHECK(ntk_mac_keys_new(k, 3, &ks) == NTK_OK);
    }
    return ks;
}

#endif /* NTK_FUZZ_SYMKEYS_H */
