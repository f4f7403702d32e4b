/* SPDX-License-Identifier: BSD-2-Clause */
/* NTP reference identifiers: construction and NTPsec-compatible display (ntk/refid.h). */
#include "ntk/refid.h"
#include "ntk/err.h"

#include <string.h>

#include <openssl/evp.h>

#include "poison.h"

enum {
    REFID_LEN = 4,
    STRATUM_UNSPEC = 16, /* NTPsec's "unsynchronised" stratum; text again from here on */
};

static uint32_t be32(const uint8_t b[REFID_LEN])
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void refid_bytes(uint32_t refid, uint8_t b[REFID_LEN])
{
    b[0] = (uint8_t)(refid >> 24);
    b[1] = (uint8_t)(refid >> 16);
    b[2] = (uint8_t)(refid >> 8);
    b[3] = (uint8_t)refid;
}

/* A character shown as itself: printable and not a space (C-locale isgraph(), without
 * depending on the locale), and not ',', which would split a mode-6 name=value list. */
static bool is_code_char(uint8_t c)
{
    return c >= 0x21 && c <= 0x7e && c != ',';
}

uint32_t ntk_refid_from_ipv4(const uint8_t ip[4])
{
    return be32(ip);
}

int ntk_refid_from_ipv6(const uint8_t ip[16], uint32_t *refid)
{
    /* "-fips" lifts a default "fips=yes" query: MD5 is a hash here (RFC 5905 §7.3), not a
     * security function, and NTPsec sets EVP_MD_CTX_FLAG_NON_FIPS_ALLOW for the same reason.
     */
    EVP_MD *md5 = EVP_MD_fetch(NULL, "MD5", "-fips");
    if (md5 == NULL) {
        return NTK_ECRYPTO;
    }
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    int ok = EVP_Digest(ip, 16, digest, &n, md5, NULL);
    EVP_MD_free(md5);
    if (ok != 1 || n < REFID_LEN) {
        return NTK_ECRYPTO;
    }
    *refid = be32(digest);
    return NTK_OK;
}

int ntk_refid_from_addr(const struct ntk_addr *a, uint32_t *refid)
{
    if (a->family == NTK_ADDR_V4) {
        *refid = ntk_refid_from_ipv4(a->ip);
        return NTK_OK;
    }
    if (a->family == NTK_ADDR_V6) {
        return ntk_refid_from_ipv6(a->ip, refid);
    }
    return NTK_EINVAL;
}

int ntk_refid_from_code(const char *code, uint32_t *refid)
{
    uint8_t b[REFID_LEN] = {0};
    size_t n = 0;
    for (; code[n] != '\0'; n++) {
        if (n == REFID_LEN || !is_code_char((uint8_t)code[n])) {
            return NTK_EINVAL;
        }
        b[n] = (uint8_t)code[n];
    }
    if (n == 0) {
        return NTK_EINVAL;
    }
    *refid = be32(b);
    return NTK_OK;
}

bool ntk_refid_is_text(unsigned stratum)
{
    return stratum <= 1 || stratum >= STRATUM_UNSPEC;
}

bool ntk_refid_is_code(uint32_t refid)
{
    uint8_t b[REFID_LEN];
    refid_bytes(refid, b);
    size_t n = 0;
    while (n < REFID_LEN && is_code_char(b[n])) {
        n++;
    }
    if (n == 0) {
        return false;
    }
    for (size_t i = n; i < REFID_LEN; i++) {
        if (b[i] != 0) {
            return false;
        }
    }
    return true;
}

/* The text form: bytes up to the first NUL (NTPsec's ctl_putrefid), with anything that is
 * not printable, and ',' (the mode-6 list separator), made harmless. */
static void put_text(const uint8_t b[REFID_LEN], unsigned flags, struct ntk_sb *sb)
{
    for (size_t i = 0; i < REFID_LEN && b[i] != 0; i++) {
        bool plain = is_code_char(b[i]);
        if (flags & NTK_REFID_FMT_ESCAPE) {
            if (b[i] == '\\') {
                ntk_sb_puts(sb, "\\\\");
            } else if (!plain) {
                ntk_sb_printf(sb, "\\x%02x", (unsigned)b[i]);
            } else {
                ntk_sb_putc(sb, (char)b[i]);
            }
        } else {
            ntk_sb_putc(sb, plain ? (char)b[i] : '.');
        }
    }
}

void ntk_refid_format(uint32_t refid, unsigned stratum, unsigned flags, struct ntk_sb *sb)
{
    uint8_t b[REFID_LEN];
    refid_bytes(refid, b);
    char buf[NTK_REFID_STRMAX];
    struct ntk_sb tmp;
    ntk_sb_init(&tmp, buf, sizeof buf);
    if (ntk_refid_is_text(stratum)) {
        put_text(b, flags, &tmp);
    } else {
        ntk_sb_printf(&tmp, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
    }
    /* ntpq's PeerSummary.summary (pylib/util.py) wraps a refid in dots unless it already
     * looks like an address; so "...." from unprintable bytes stays as it is. */
    bool wrap =
        (flags & NTK_REFID_FMT_PEERS) && strchr(buf, '.') == NULL && strchr(buf, ':') == NULL;
    if (wrap) {
        ntk_sb_putc(sb, '.');
    }
    ntk_sb_puts(sb, buf);
    if (wrap) {
        ntk_sb_putc(sb, '.');
    }
}
