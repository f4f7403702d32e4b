/* SPDX-License-Identifier: BSD-2-Clause */
/* An NTS-KE client session (RFC 8915 §4) over a non-blocking TCP socket: connect, TLS 1.3
 * handshake, send the request, read the response to End of Message, export the keys.
 * It owns its socket and never blocks; whoever drives it (ntpd's loop, or ke_cli_run's own
 * poll for ntpdig) waits for ke_cli_events() on ke_cli_fd() or for ke_cli_deadline(), then
 * calls ke_cli_step(). Everything from the server goes through ntk_ke_scan /
 * ntk_ke_parse_response (lib/nts_ke.c).
 */
#ifndef NTK_KE_CLI_H
#define NTK_KE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "ntk/addr.h"
#include "ntk/aead.h"
#include "ntk/nts_ke.h"
#include "tls.h"

/* Default time for the whole exchange (connect to End of Message). */
#define KE_CLI_TIMEOUT_MS 5000

/* One exchange. */
struct ke_cli_cfg {
    char host[256];       /* the server's name (SNI, certificate check) or address text */
    struct ntk_addr addr; /* where to connect (resolved by the caller); port 0 = 4460 */
    uint16_t aeads[NTK_KE_AEADS_MAX]; /* AEADs to offer, preferred first */
    size_t n_aeads;                   /* 0: offer AEAD_AES_SIV_CMAC_256 only */
    int timeout_ms;                   /* 0: KE_CLI_TIMEOUT_MS */
};

/* How it ended. */
struct ke_cli_result {
    int err;           /* 0: keys and cookies obtained; else a negative enum ntk_err or
                          -errno */
    const char *stage; /* where it ended: "connect", "tls", "alpn", "send", "receive",
                          "response", "export", "done" */
    char why[256];     /* one line for the log, "" on success ("certificate verify
                          failed: certificate has expired", "server sent Error: bad
                          request", "timed out after 5000 ms in tls") */
    struct ntk_ke_response resp;   /* the parsed response (cookies, NTP server and port) */
    uint16_t aead;                 /* the negotiated AEAD (resp.aead) */
    size_t key_len;                /* ntk_aead_key_len(aead) */
    uint8_t c2s[NTK_AEAD_KEY_MAX]; /* exported keys */
    uint8_t s2c[NTK_AEAD_KEY_MAX];
    struct tls_peer_info peer; /* the server's certificate and the TLS parameters */
    int64_t elapsed_ns;        /* connect to result */
};

struct ke_cli;

/* Starts an exchange with ctx (tls_client_ctx; borrowed, must outlive the session) at
 * now_mono_ns: creates the socket and begins the connect. Returns the session, or NULL with
 * *err a negative errno / enum ntk_err. */
struct ke_cli *ke_cli_start(SSL_CTX *ctx, const struct ke_cli_cfg *cfg, int64_t now_mono_ns,
                            int *err);

/* The socket to watch, and the poll events (POLLIN and/or POLLOUT) the session waits for. */
int ke_cli_fd(const struct ke_cli *k);
short ke_cli_events(const struct ke_cli *k);

/* When the session times out (CLOCK_MONOTONIC ns). */
int64_t ke_cli_deadline(const struct ke_cli *k);

/* Advances as far as it can without blocking (call it when the socket is ready or the
 * deadline has passed). Returns true once the session has ended; then read ke_cli_result. */
bool ke_cli_step(struct ke_cli *k, int64_t now_mono_ns);

/* The result (valid once ke_cli_step returned true). */
const struct ke_cli_result *ke_cli_result(const struct ke_cli *k);

/* Closes the socket and frees (NULL is fine); wipes the keys. */
void ke_cli_free(struct ke_cli *k);

/* Runs one exchange to its end, waiting with poll() on its one socket (ntpdig; not for the
 * daemon, whose only poll() is the loop's). Writes *out; returns out->err. */
int ke_cli_run(SSL_CTX *ctx, const struct ke_cli_cfg *cfg, struct ke_cli_result *out);

#endif /* NTK_KE_CLI_H */
