/* SPDX-License-Identifier: BSD-2-Clause */
/* TLS for NTS-KE (RFC 8915 §4): OpenSSL 3 contexts that speak only TLS 1.3 with the ALPN
 * protocol "ntske/1", the RFC 5705 key export NTS needs, and what a diagnosis wants to know
 * about the peer's certificate. Shared by ntpd (KE server and client) and ntpdig --nts.
 *
 * Both contexts refuse anything below TLS 1.3 (RFC 8915 §3: "MUST NOT" negotiate older
 * versions) and a peer that does not agree on ALPN "ntske/1" (the server alerts
 * no_application_protocol; the client checks after the handshake). The client verifies the
 * server's certificate chain against the system's trust store or a given CA file and the
 * host name (or IP address) it connected to, and sends that name as SNI; `noval` (NTPsec's
 * option) turns verification off, for tests only, and says so in the result.
 */
#ifndef NTK_TLS_H
#define NTK_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

/* What ntp.conf's `nts` directives say about the server side (all strings may be ""). */
struct tls_server_cfg {
    const char *cert;    /* `nts cert FILE`: PEM chain, leaf first */
    const char *key;     /* `nts key FILE`: PEM private key */
    const char *mintls;  /* `nts mintls`: "TLS1.3" or "" (anything lower is refused) */
    const char *maxtls;  /* `nts maxtls`: "TLS1.3" or "" */
    const char *ciphers; /* `nts tlsciphersuites`: OpenSSL TLS 1.3 suites, the server's
                          * order of preference; "" for ours (AES-128-GCM first) */
    const char *curves;  /* `nts tlsecdhcurves`: OpenSSL groups list, or "" */
};

/* A server context: certificate and key loaded and matched, TLS 1.3 only, ALPN selection of
 * "ntske/1". Returns NULL with err[0..cap) saying why ("nts cert /x.pem: No such file or
 * directory", "nts key: does not match the certificate", "nts mintls TLS1.2: NTS needs TLS
 * 1.3"). Used for start-up and for SIGHUP (a new context replaces the old one for new
 * connections only). */
SSL_CTX *tls_server_ctx(const struct tls_server_cfg *c, char *err, size_t cap);

/* A client context: TLS 1.3 only, ALPN "ntske/1" offered, peer verification on against
 * ca_file (PEM bundle; NULL or "" = the system's default store) unless noval. Returns NULL
 * with err set when the CA file cannot be loaded. */
SSL_CTX *tls_client_ctx(const char *ca_file, bool noval, char *err, size_t cap);

/* Sets up a client connection on ssl (from tls_client_ctx) to host: SNI (not for an IP
 * address literal, RFC 6066 §3) and the name or address the certificate must match. Returns
 * 0 or -1 (OpenSSL refused the name). */
int tls_client_expect(SSL *ssl, const char *host);

/* After a completed handshake: the two NTS keys of RFC 8915 §5.1 for aead, each key_len
 * bytes, exported with label "EXPORTER-network-time-security" and the 5-byte context
 * (ntk_ke_exporter_context). Returns 0 or -1. */
int tls_export_keys(SSL *ssl, uint16_t aead, uint8_t *c2s, uint8_t *s2c, size_t key_len);

/* What the peer showed, for logs, ntpdig --nts and mode 6 (strings NUL-terminated, "" when
 * unknown; control characters from the certificate are replaced by '?'). */
struct tls_peer_info {
    char version[16];     /* "TLSv1.3" */
    char cipher[64];      /* "TLS_AES_256_GCM_SHA384" */
    char alpn[32];        /* the negotiated ALPN protocol ("" when none) */
    char subject[256];    /* leaf certificate subject, one line (RFC 2253) */
    char issuer[256];     /* leaf certificate issuer */
    char san[256];        /* the leaf's DNS / IP subject alternative names, comma-separated */
    int64_t not_before_s; /* validity, Unix seconds (0 unknown) */
    int64_t not_after_s;
    int chain_len;          /* certificates the peer sent */
    bool verified;          /* chain and name verified (false with noval, or on failure) */
    bool name_match;        /* the certificate matches the expected host name / address */
    long verify_code;       /* X509_V_OK or the verification error */
    char verify_error[128]; /* X509_verify_cert_error_string, "" when OK */
};

/* Fills *out from ssl (client or server side, after the handshake). */
void tls_peer_info(SSL *ssl, struct tls_peer_info *out);

/* The last OpenSSL error queue entries as one line into buf (and clears the queue), for
 * log lines; "" when the queue was empty. Returns buf. */
const char *tls_error_text(char *buf, size_t cap);

#endif /* NTK_TLS_H */
