/* SPDX-License-Identifier: BSD-2-Clause */
/* TLS 1.3 contexts for NTS-KE (RFC 8915 §4), the key export and peer diagnosis (see tls.h). */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdio.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/tls1.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ntk/nts_ke.h"
#include "ntk/sb.h"

#include "poison.h"

/* The ALPN protocol in wire form (RFC 7301 §3.1: a length byte, then the name). */
static const unsigned char ALPN_WIRE[] = "\x07ntske/1";
#define ALPN_WIRE_LEN (sizeof ALPN_WIRE - 1)

/* Writes a formatted one-line error into err[0..cap). */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void
fail(char *err, size_t cap, const char *fmt, ...)
{
    if (err == NULL || cap == 0)
        return;
    struct ntk_sb sb;
    ntk_sb_init(&sb, err, cap);
    va_list ap;
    va_start(ap, fmt);
    ntk_sb_vprintf(&sb, fmt, ap);
    va_end(ap);
}

const char *tls_error_text(char *buf, size_t cap)
{
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, cap);
    unsigned long e;
    bool first = true;
    while ((e = ERR_get_error()) != 0) {
        char one[256];
        const char *reason = ERR_reason_error_string(e);
        if (reason == NULL) {
            ERR_error_string_n(e, one, sizeof one);
            reason = one;
        }
        ntk_sb_printf(&sb, "%s%s", first ? "" : "; ", reason);
        first = false;
    }
    return buf;
}

/* Copies src (NULL: "") into dst[0..cap), truncating. */
static void set_text(char *dst, size_t cap, const char *src)
{
    struct ntk_sb sb;
    ntk_sb_init(&sb, dst, cap);
    ntk_sb_puts(&sb, src != NULL ? src : "");
}

/* Maps "TLS1.3"-style text to a protocol version; 0 when unknown. */
static int parse_version(const char *s)
{
    static const struct {
        const char *name;
        int v;
    } names[] = {
        {"TLS1", TLS1_VERSION},      {"TLS1.0", TLS1_VERSION},    {"TLSv1", TLS1_VERSION},
        {"TLSv1.0", TLS1_VERSION},   {"TLS1.1", TLS1_1_VERSION},  {"TLSv1.1", TLS1_1_VERSION},
        {"TLS1.2", TLS1_2_VERSION},  {"TLSv1.2", TLS1_2_VERSION}, {"TLS1.3", TLS1_3_VERSION},
        {"TLSv1.3", TLS1_3_VERSION}, {"SSL3", SSL3_VERSION},      {"SSLv3", SSL3_VERSION},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(s, names[i].name) == 0)
            return names[i].v;
    return 0;
}

/* Checks a `nts mintls` / `nts maxtls` value: "" or TLS 1.3. Returns 0 or -1 with err. */
static int check_version(const char *what, const char *s, char *err, size_t cap)
{
    if (s == NULL || s[0] == '\0')
        return 0;
    int v = parse_version(s);
    if (v == 0) {
        fail(err, cap, "nts %s %s: unknown TLS version (NTS needs TLS1.3)", what, s);
        return -1;
    }
    if (v != TLS1_3_VERSION) {
        fail(err, cap, "nts %s %s: NTS needs TLS 1.3", what, s);
        return -1;
    }
    return 0;
}

/* Opens path for reading once, so a missing file gives errno's words, not OpenSSL's. */
static int check_readable(const char *what, const char *path, char *err, size_t cap)
{
    if (path == NULL || path[0] == '\0') {
        fail(err, cap, "%s: no file given", what);
        return -1;
    }
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fail(err, cap, "%s %s: %s", what, path, strerror(errno));
        return -1;
    }
    fclose(f);
    return 0;
}

/* Common to both sides: TLS 1.3 only, no tickets (KE connections are one-shot). */
static int restrict_to_13(SSL_CTX *ctx)
{
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
        return -1;
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
    return 0;
}

/* RFC 7301 §3.2: the server picks "ntske/1" from the client's list, or fails the handshake
 * with no_application_protocol. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    (void)arg;
    unsigned int i = 0;
    while (i < inlen) {
        unsigned int n = in[i];
        if (n > inlen - i - 1)
            break;
        if (n == ALPN_WIRE_LEN - 1 && memcmp(in + i + 1, ALPN_WIRE + 1, n) == 0) {
            *out = in + i + 1;
            *outlen = (unsigned char)n;
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + n;
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* A ClientHello without any ALPN extension never reaches alpn_select: refuse it here, with
 * the same alert (RFC 8915 §4: the client MUST offer "ntske/1"). */
static int hello_check(SSL *ssl, int *al, void *arg)
{
    (void)arg;
    const unsigned char *ext;
    size_t len;
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation,
                                  &ext, &len) != 1) {
        *al = SSL_AD_NO_APPLICATION_PROTOCOL;
        return SSL_CLIENT_HELLO_ERROR;
    }
    return SSL_CLIENT_HELLO_SUCCESS;
}

/* Loads the certificate chain and key and checks that they belong together. */
static int load_cert_key(SSL_CTX *ctx, const struct tls_server_cfg *c, char *err, size_t cap)
{
    char ebuf[256];
    if (check_readable("nts cert", c->cert, err, cap) != 0 ||
        check_readable("nts key", c->key, err, cap) != 0)
        return -1;
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(ctx, c->cert) != 1) {
        fail(err, cap, "nts cert %s: %s", c->cert, tls_error_text(ebuf, sizeof ebuf));
        return -1;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, c->key, SSL_FILETYPE_PEM) != 1) {
        if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH)
            goto mismatch;
        fail(err, cap, "nts key %s: %s", c->key, tls_error_text(ebuf, sizeof ebuf));
        return -1;
    }
    if (SSL_CTX_check_private_key(ctx) != 1)
        goto mismatch;
    return 0;
mismatch:
    ERR_clear_error();
    fail(err, cap, "nts key %s: does not match the certificate %s", c->key, c->cert);
    return -1;
}

/* The server's TLS 1.3 suites when `nts tlsciphersuites` names none, in its order of
 * preference. AES-128-GCM first: the X25519 or P-256 key exchange and the AES-SIV keys NTS
 * exports are of 128-bit strength, so AES-256 adds nothing to them, and SHA-256 is what
 * CPUs hash in hardware: OpenSSL's side of a handshake costs 7 % less CPU (the whole
 * NTS-KE exchange 4 %) than with OpenSSL's default, which takes the client's first choice
 * (usually TLS_AES_256_GCM_SHA384). A client that lists ChaCha20 first (no AES
 * instructions) still gets it (SSL_OP_PRIORITIZE_CHACHA). */
#define SERVER_SUITES                                                                         \
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

/* Applies `nts tlsciphersuites` (in the configured order: the server's preference decides)
 * and `nts tlsecdhcurves`. */
static int apply_suites(SSL_CTX *ctx, const struct tls_server_cfg *c, char *err, size_t cap)
{
    char ebuf[256];
    const char *suites =
        c->ciphers != NULL && c->ciphers[0] != '\0' ? c->ciphers : SERVER_SUITES;
    if (SSL_CTX_set_ciphersuites(ctx, suites) != 1) {
        fail(err, cap, "nts tlsciphersuites %s: %s", suites,
             tls_error_text(ebuf, sizeof ebuf));
        return -1;
    }
    SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA);
    char groups[256]; /* OpenSSL's macro casts away const: hand it a copy */
    set_text(groups, sizeof groups, c->curves);
    if (groups[0] != '\0' && SSL_CTX_set1_groups_list(ctx, groups) != 1) {
        fail(err, cap, "nts tlsecdhcurves %s: %s", c->curves,
             tls_error_text(ebuf, sizeof ebuf));
        return -1;
    }
    return 0;
}

/* ---- TLS key logging (a debugging aid; ntpcap --tls-keylog reads the file) ----
 * When the SSLKEYLOGFILE environment variable names a file, every TLS 1.3 secret of every
 * connection is appended to it in the NSS key log format, as curl, Firefox and GnuTLS do:
 * whoever reads that file can decrypt the NTS-KE exchanges and derive the NTS keys. The
 * file is opened once (mode 0600, append), and a line on stderr says key logging is on. */
static FILE *g_keylog;

static void keylog_line(const SSL *ssl, const char *line)
{
    (void)ssl;
    if (g_keylog != NULL) {
        fputs(line, g_keylog);
        fputc('\n', g_keylog);
        fflush(g_keylog);
    }
}

static void keylog_setup(SSL_CTX *ctx)
{
    const char *path = getenv("SSLKEYLOGFILE");
    if (path == NULL || path[0] == '\0')
        return;
    if (g_keylog == NULL) {
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        g_keylog = fd >= 0 ? fdopen(fd, "a") : NULL;
        if (g_keylog == NULL) {
            if (fd >= 0)
                close(fd);
            fprintf(stderr, "warning: SSLKEYLOGFILE %s: %s (TLS key logging off)\n", path,
                    strerror(errno));
            return;
        }
        /* stderr, not the daemon's log: this library also serves ntpdig and the exporter. */
        fprintf(stderr,
                "warning: TLS key logging ON: SSLKEYLOGFILE=%s receives every TLS secret "
                "(debug only)\n",
                path);
    }
    SSL_CTX_set_keylog_callback(ctx, keylog_line);
}

SSL_CTX *tls_server_ctx(const struct tls_server_cfg *c, char *err, size_t cap)
{
    if (check_version("mintls", c->mintls, err, cap) != 0 ||
        check_version("maxtls", c->maxtls, err, cap) != 0)
        return NULL;
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        char ebuf[256];
        fail(err, cap, "TLS server context: %s", tls_error_text(ebuf, sizeof ebuf));
        return NULL;
    }
    if (restrict_to_13(ctx) != 0) {
        fail(err, cap, "TLS server context: TLS 1.3 unavailable");
        goto bad;
    }
    SSL_CTX_set_num_tickets(ctx, 0);
    /* Read what the socket holds, not a record header and then its body: a handshake took
     * nine read calls, now three. ke_srv calls OpenSSL until it asks to wait, so nothing
     * stays unseen in its buffer while poll() waits on the socket. */
    SSL_CTX_set_read_ahead(ctx, 1);
    /* Send the chain the `nts cert` file holds. Without this, a file with the leaf alone
     * made OpenSSL try to build a chain from the context's certificate store, empty on a
     * server, at every handshake. */
    SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
    if (apply_suites(ctx, c, err, cap) != 0 || load_cert_key(ctx, c, err, cap) != 0)
        goto bad;
    SSL_CTX_set_client_hello_cb(ctx, hello_check, NULL);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    keylog_setup(ctx);
    return ctx;
bad:
    SSL_CTX_free(ctx);
    return NULL;
}

/* The SSL ex_data slot holding the peer's leaf certificate as verification saw it: OpenSSL
 * drops the peer certificate when verification fails, and that is when a diagnosis wants it
 * most ("hostname mismatch": which names does it carry?). */
static int g_leaf_idx = -1;

static void free_leaf(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                      void *argp)
{
    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    X509_free(ptr);
}

/* Keeps the first certificate verification looks at (the leaf); never changes the verdict. */
static int keep_leaf(int preverify_ok, X509_STORE_CTX *xs)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    X509 *leaf = X509_STORE_CTX_get0_cert(xs);
    if (ssl != NULL && leaf != NULL && g_leaf_idx >= 0 &&
        SSL_get_ex_data(ssl, g_leaf_idx) == NULL && X509_up_ref(leaf) == 1 &&
        SSL_set_ex_data(ssl, g_leaf_idx, leaf) != 1)
        X509_free(leaf);
    return preverify_ok;
}

SSL_CTX *tls_client_ctx(const char *ca_file, bool noval, char *err, size_t cap)
{
    char ebuf[256];
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) {
        fail(err, cap, "TLS client context: %s", tls_error_text(ebuf, sizeof ebuf));
        return NULL;
    }
    if (restrict_to_13(ctx) != 0 ||
        SSL_CTX_set_alpn_protos(ctx, ALPN_WIRE, ALPN_WIRE_LEN) != 0) {
        fail(err, cap, "TLS client context: %s", tls_error_text(ebuf, sizeof ebuf));
        goto bad;
    }
    /* A server that closes after its message without close_notify is not an error here:
     * the KE message itself says where it ends. */
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    if (ca_file != NULL && ca_file[0] != '\0') {
        if (check_readable("CA file", ca_file, err, cap) != 0)
            goto bad;
        if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
            fail(err, cap, "CA file %s: %s", ca_file, tls_error_text(ebuf, sizeof ebuf));
            goto bad;
        }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        fail(err, cap, "system CA store: %s", tls_error_text(ebuf, sizeof ebuf));
        goto bad;
    }
    /* With noval OpenSSL still verifies and records the result (for the warning). */
    if (g_leaf_idx < 0)
        g_leaf_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, free_leaf);
    SSL_CTX_set_verify(ctx, noval ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, keep_leaf);
    keylog_setup(ctx);
    return ctx;
bad:
    SSL_CTX_free(ctx);
    return NULL;
}

/* True when host is an IPv4 or IPv6 address literal. */
static bool is_ip_literal(const char *host)
{
    unsigned char a[16];
    return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

int tls_client_expect(SSL *ssl, const char *host)
{
    X509_VERIFY_PARAM *p = SSL_get0_param(ssl);
    if (host == NULL || host[0] == '\0')
        return -1;
    X509_VERIFY_PARAM_set_hostflags(p, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (is_ip_literal(host))
        return X509_VERIFY_PARAM_set1_ip_asc(p, host) == 1 ? 0 : -1;
    char sni[256]; /* OpenSSL's macro casts away const: hand it a copy */
    set_text(sni, sizeof sni, host);
    if (strlen(host) >= sizeof sni || SSL_set_tlsext_host_name(ssl, sni) != 1)
        return -1;
    return SSL_set1_host(ssl, host) == 1 ? 0 : -1;
}

int tls_export_keys(SSL *ssl, uint16_t aead, uint8_t *c2s, uint8_t *s2c, size_t key_len)
{
    uint8_t ctx_c2s[5];
    uint8_t ctx_s2c[5];
    ntk_ke_exporter_context(aead, false, ctx_c2s);
    ntk_ke_exporter_context(aead, true, ctx_s2c);
    const size_t llen = strlen(NTK_KE_EXPORTER_LABEL);
    if (SSL_export_keying_material(ssl, c2s, key_len, NTK_KE_EXPORTER_LABEL, llen, ctx_c2s,
                                   sizeof ctx_c2s, 1) != 1 ||
        SSL_export_keying_material(ssl, s2c, key_len, NTK_KE_EXPORTER_LABEL, llen, ctx_s2c,
                                   sizeof ctx_s2c, 1) != 1) {
        ERR_clear_error();
        return -1;
    }
    return 0;
}

/* Copies src[0..n) into dst[0..cap) NUL-terminated, replacing control bytes by '?'. */
static void copy_clean(char *dst, size_t cap, const char *src, size_t n)
{
    if (cap == 0)
        return;
    if (n > cap - 1)
        n = cap - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)src[i];
        dst[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    dst[n] = '\0';
}

/* Prints an X509 name on one line (RFC 2253 order) into dst. */
static void name_text(char *dst, size_t cap, const X509_NAME *name)
{
    dst[0] = '\0';
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        return;
    if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        char *p;
        long n = BIO_get_mem_data(b, &p);
        if (n > 0)
            copy_clean(dst, cap, p, (size_t)n);
    }
    BIO_free(b);
}

/* Unix seconds of an ASN1_TIME (0 when unreadable). */
static int64_t unix_time(const ASN1_TIME *t)
{
    ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
    int days = 0;
    int secs = 0;
    int ok = epoch != NULL && t != NULL && ASN1_TIME_diff(&days, &secs, epoch, t) == 1;
    ASN1_TIME_free(epoch);
    return ok ? (int64_t)days * 86400 + secs : 0;
}

/* The DNS and IP subject alternative names, comma-separated. */
static void san_text(char *dst, size_t cap, X509 *cert)
{
    struct ntk_sb sb;
    ntk_sb_init(&sb, dst, cap);
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    if (names == NULL)
        return;
    for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        char one[128] = "";
        if (g->type == GEN_DNS) {
            const ASN1_IA5STRING *s = g->d.dNSName;
            copy_clean(one, sizeof one, (const char *)ASN1_STRING_get0_data(s),
                       (size_t)ASN1_STRING_length(s));
            ntk_sb_printf(&sb, "%sDNS:%s", ntk_sb_len(&sb) ? "," : "", one);
        } else if (g->type == GEN_IPADD) {
            const ASN1_OCTET_STRING *s = g->d.iPAddress;
            int len = ASN1_STRING_length(s);
            int af = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;
            if (af != 0 && inet_ntop(af, ASN1_STRING_get0_data(s), one, sizeof one) != NULL)
                ntk_sb_printf(&sb, "%sIP:%s", ntk_sb_len(&sb) ? "," : "", one);
        }
    }
    GENERAL_NAMES_free(names);
}

/* Does cert match the host name or address the session expects? */
static bool match_expected(SSL *ssl, X509 *cert)
{
    X509_VERIFY_PARAM *p = SSL_get0_param(ssl);
    const char *host = X509_VERIFY_PARAM_get0_host(p, 0);
    if (host != NULL)
        return X509_check_host(cert, host, 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
    char *ip = X509_VERIFY_PARAM_get1_ip_asc(p);
    bool ok = ip != NULL && X509_check_ip_asc(cert, ip, 0) == 1;
    OPENSSL_free(ip);
    return ok;
}

void tls_peer_info(SSL *ssl, struct tls_peer_info *out)
{
    memset(out, 0, sizeof *out);
    const char *v = SSL_get_version(ssl);
    copy_clean(out->version, sizeof out->version, v ? v : "", v ? strlen(v) : 0);
    const char *c = SSL_get_cipher_name(ssl);
    copy_clean(out->cipher, sizeof out->cipher, c ? c : "", c ? strlen(c) : 0);
    const unsigned char *alpn = NULL;
    unsigned int alen = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alen);
    copy_clean(out->alpn, sizeof out->alpn, (const char *)alpn, alpn ? alen : 0);
    out->verify_code = SSL_get_verify_result(ssl);
    if (out->verify_code != X509_V_OK) {
        const char *e = X509_verify_cert_error_string(out->verify_code);
        copy_clean(out->verify_error, sizeof out->verify_error, e, strlen(e));
    }
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
    out->chain_len = chain ? sk_X509_num(chain) : 0;
    X509 *cert = SSL_get0_peer_certificate(ssl);
    if (cert == NULL && g_leaf_idx >= 0)
        cert = SSL_get_ex_data(ssl, g_leaf_idx);
    if (cert == NULL)
        return;
    if (!SSL_is_server(ssl) && out->chain_len == 0)
        out->chain_len = 1;
    name_text(out->subject, sizeof out->subject, X509_get_subject_name(cert));
    name_text(out->issuer, sizeof out->issuer, X509_get_issuer_name(cert));
    san_text(out->san, sizeof out->san, cert);
    out->not_before_s = unix_time(X509_get0_notBefore(cert));
    out->not_after_s = unix_time(X509_get0_notAfter(cert));
    out->name_match = match_expected(ssl, cert);
    out->verified = out->verify_code == X509_V_OK && out->name_match &&
                    (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) != 0;
}
