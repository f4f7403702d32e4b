/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness for lib/mac.c. Input: type byte, 2-byte key id, secret length byte, the
 * secret, then data || MAC (the last ntk_mac_len bytes). Verify must never crash and accept
 * only the true MAC; compute -> verify must succeed; a flipped bit, a truncated MAC or another
 * key id must fail. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ntk/err.h"
#include "ntk/mac.h"
#include "fuzz.h"

#include "poison.h"

/* Verifies the input's own trailer: only the real MAC may pass. */
static void check_trailer(struct ntk_mac_keys *ks, const struct ntk_mac_key *k,
                          const uint8_t *rest, size_t len)
{
    size_t mlen = ntk_mac_len(k->type);
    if (len < mlen) {
        FUZZ_CHECK(ntk_mac_verify(ks, k->keyid, rest, 0, rest, len) == NTK_EAUTH);
        return;
    }
    size_t dlen = len - mlen;
    int rc = ntk_mac_verify(ks, k->keyid, rest, dlen, rest + dlen, mlen);
    FUZZ_CHECK(rc == NTK_OK || rc == NTK_EAUTH);
    uint8_t mac[NTK_MAC_LEN_MAX];
    FUZZ_CHECK(ntk_mac_compute(ks, k->keyid, rest, dlen, mac, sizeof mac) == (int)mlen);
    FUZZ_CHECK((rc == NTK_OK) == (memcmp(mac, rest + dlen, mlen) == 0));
}

/* compute -> verify, then tampering. */
static void check_compute(struct ntk_mac_keys *ks, const struct ntk_mac_key *k,
                          const uint8_t *rest, size_t len)
{
    uint8_t mac[NTK_MAC_LEN_MAX];
    int n = ntk_mac_compute(ks, k->keyid, rest, len, mac, sizeof mac);
    FUZZ_CHECK(n == (int)ntk_mac_len(k->type));
    FUZZ_CHECK(ntk_mac_verify(ks, k->keyid, rest, len, mac, (size_t)n) == NTK_OK);
    size_t bit = len > 0 ? rest[0] % (8u * (size_t)n) : 0;
    mac[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    FUZZ_CHECK(ntk_mac_verify(ks, k->keyid, rest, len, mac, (size_t)n) == NTK_EAUTH);
    mac[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    FUZZ_CHECK(ntk_mac_verify(ks, k->keyid, rest, len, mac, (size_t)n - 1) == NTK_EAUTH);
    FUZZ_CHECK(ntk_mac_verify(ks, k->keyid + 1, rest, len, mac, (size_t)n) == NTK_ENOTFOUND);
    FUZZ_CHECK(ntk_mac_compute(ks, k->keyid, rest, len, mac, (size_t)n - 1) == NTK_ENOSPC);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4) {
        return 0;
    }
    struct ntk_mac_key k;
    memset(&k, 0, sizeof k);
    k.type = (enum ntk_mac_type)(data[0] % NTK_MAC_TYPE_COUNT);
    k.keyid = (uint32_t)data[1] << 8 | data[2];
    k.secret_len = (uint8_t)(data[3] % (NTK_MAC_SECRET_MAX + 1));
    if (size - 4 < k.secret_len) {
        return 0;
    }
    memcpy(k.secret, data + 4, k.secret_len);
    const uint8_t *rest = data + 4 + k.secret_len;
    size_t len = size - 4 - k.secret_len;

    struct ntk_mac_keys *ks = NULL;
    int rc = ntk_mac_keys_new(&k, 1, &ks);
    FUZZ_CHECK((rc == NTK_OK) == ntk_mac_key_valid(&k));
    if (rc == NTK_OK) {
        check_trailer(ks, &k, rest, len);
        check_compute(ks, &k, rest, len);
        ntk_mac_keys_free(ks);
    } else {
        FUZZ_CHECK(rc == NTK_EINVAL && ks == NULL);
    }
    ntk_mac_key_wipe(&k, 1);
    return 0;
}
