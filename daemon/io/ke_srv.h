/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpd's NTS-KE server (RFC 8915 §4) on the daemon's one poll loop (loop.h): listening TCP
 * sockets, then per connection a small non-blocking state machine
 *   TLS 1.3 handshake (ALPN "ntske/1") -> read the request until ntk_ke_scan finds End of
 *   Message -> parse it -> pick the AEAD -> export the keys -> make 8 cookies -> send the
 *   response (or an Error record) -> close_notify -> close.
 * Many connections progress at once; each has a deadline (KE_SRV_TIMEOUT_MS from accept), the
 * number open at once is capped (beyond the cap a connection is accepted and closed at once,
 * and counted), and a request may not exceed NTK_KE_MSG_MAX (ntk_ke_scan enforces it).
 *
 * The module does not know where cookies come from: the caller passes a function and its
 * context (ntpd: a wrapper around ntss_make_cookie, daemon/core/ntss.h), so this file needs
 * no cookie state and its tests can see which keys were exported.
 *
 * Counters follow NTPsec's `ntsinfo` names (nts_ke_serves_good / _bad / _nossl, each with
 * wall-clock and CPU seconds): "nossl" is a connection whose TLS session never came up (the
 * handshake failed, timed out, or ALPN was not ntske/1); "bad" one that got TLS but no
 * cookies (bad or oversized request, Error sent, timeout, I/O error); "good" one that was
 * sent its cookies. CPU time is CLOCK_THREAD_CPUTIME_ID summed over the work done for the
 * connection (the loop's waiting is not counted); wall time is accept to close.
 *
 * Logging (log.h): one line per failed connection (peer address, stage, why, OpenSSL's
 * error text), at most KE_SRV_LOG_PER_S a second and then one "N more suppressed" line;
 * successes at LOG_INFO when cfg.log_success, else at LOG_DEBUG.
 */
#ifndef NTK_KE_SRV_H
#define NTK_KE_SRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "loop.h"
#include "ntk/addr.h"
#include "ntk/nts_ke.h"

#define KE_SRV_ADDRS_MAX    16   /* most listening addresses */
#define KE_SRV_TIMEOUT_MS   5000 /* default per-connection deadline, from accept */
#define KE_SRV_CONNS        64   /* default cap on connections open at once */
#define KE_SRV_CONNS_MAX    128 /* largest cap accepted (the loop's LOOP_FDS_MAX leaves room) */
#define KE_SRV_COOKIES      8   /* cookies per response (RFC 8915 §4: "SHOULD be eight") */
#define KE_SRV_LOG_PER_S    10  /* failure lines per second before suppression */
#define KE_SRV_RESPONSE_MAX 4096 /* room for the response (8 cookies of up to 256 bytes) */

/* Makes one cookie for a client that negotiated aead, whose exported keys are c2s and s2c
 * (each key_len bytes). Writes *out and returns 0, or a negative enum ntk_err (the client
 * then gets Error "internal server error"). ntpd's is ntss_make_cookie with ctx the
 * struct ntss *, behind a wrapper that casts ctx. */
typedef int (*ke_srv_cookie_fn)(void *ctx, uint16_t aead, const uint8_t *c2s,
                                const uint8_t *s2c, size_t key_len, struct ntk_ke_cookie *out);

/* How to run. Start from ke_srv_cfg_default, then change fields. */
struct ke_srv_cfg {
    struct ntk_addr addrs[KE_SRV_ADDRS_MAX]; /* addresses to listen on (ports ignored) */
    size_t n_addrs; /* how many; 0: the IPv4 and the IPv6 wildcard (an IPv6 wildcard that
                       cannot be bound, as with IPv6 disabled, is skipped) */
    uint16_t port;  /* TCP port (default NTK_KE_PORT_DEFAULT); 0: one the kernel picks
                       (tests; every address gets the port the first one got) */
    uint16_t aeads[NTK_KE_AEADS_MAX]; /* `nts aead`: the algorithms allowed, in any order */
    size_t n_aeads; /* how many; 0: every algorithm ntk_aead_supported accepts */
    char ntp_server[NTK_KE_SERVER_MAX + 1]; /* Server Negotiation record to send ("": none,
                                               the client uses the KE server's address) */
    uint16_t ntp_port; /* Port Negotiation record to send (0: none, the client uses 123) */
    int timeout_ms;    /* per-connection deadline from accept (default KE_SRV_TIMEOUT_MS) */
    int max_conns;     /* cap on connections open at once, 1..KE_SRV_CONNS_MAX (default
                          KE_SRV_CONNS) */
    bool log_success;  /* log each success at LOG_INFO (the daemon's debug level asks) */
    ke_srv_cookie_fn make_cookie; /* required */
    void *cookie_ctx;             /* passed to make_cookie (borrowed) */
};

/* Counters, never reset. NTPsec mode 6 names in the comments. */
struct ke_srv_stats {
    uint64_t good;        /* nts_ke_serves_good: responses with cookies sent */
    double good_wall_s;   /* nts_ke_serves_good_wall: their accept-to-close seconds, summed */
    double good_cpu_s;    /* nts_ke_serves_good_cpu: CPU seconds spent on them */
    uint64_t bad;         /* nts_ke_serves_bad: TLS up, but no cookies */
    double bad_wall_s;    /* nts_ke_serves_bad_wall */
    double bad_cpu_s;     /* nts_ke_serves_bad_cpu */
    uint64_t nossl;       /* nts_ke_serves_nossl: the TLS session never came up */
    double nossl_wall_s;  /* nts_ke_serves_nossl_wall */
    double nossl_cpu_s;   /* nts_ke_serves_nossl_cpu */
    uint64_t refused_cap; /* accepted and closed at once: the cap was reached (not counted
                             in good / bad / nossl) */
    uint64_t timeouts;    /* closed at the deadline (also counted as nossl or bad) */
    uint64_t errors_sent; /* Error records sent (also counted as bad) */
    uint64_t accept_errors; /* accept() failures other than "nothing pending" */
};

struct ke_srv;

/* Fills *cfg with the defaults: no address (the wildcards), port 4460, every supported
 * AEAD, no Server / Port records, KE_SRV_TIMEOUT_MS, KE_SRV_CONNS, no success lines, no
 * cookie function. */
void ke_srv_cfg_default(struct ke_srv_cfg *cfg);

/* Opens the listening sockets (non-blocking, close-on-exec, SO_REUSEADDR, IPv6-only on IPv6)
 * and watches them on l (borrowed; must outlive the server). ctx is the TLS context from
 * tls_server_ctx; the server takes its own reference (SSL_CTX_up_ref), so the caller may
 * free its own. Returns the server, or NULL with err[0..cap) saying why ("NTS-KE: bind
 * 0.0.0.0:4460: Address already in use", "NTS-KE: no cookie function"). */
struct ke_srv *ke_srv_new(const struct ke_srv_cfg *cfg, SSL_CTX *ctx, struct loop *l,
                          char *err, size_t cap);

/* Closes every connection (without counting them) and the listeners, stops watching them,
 * cancels the timers, drops the context reference and frees (NULL is fine). */
void ke_srv_free(struct ke_srv *s);

/* SIGHUP (certificate and key reloaded): new connections use ctx (a new reference is taken,
 * the old one dropped); connections already open keep the context they started with. */
void ke_srv_set_ctx(struct ke_srv *s, SSL_CTX *ctx);

/* The TCP port listened on (what the kernel picked when cfg.port was 0). */
uint16_t ke_srv_port(const struct ke_srv *s);

/* How many listening sockets are open (an IPv6 wildcard may have been skipped). */
size_t ke_srv_listeners(const struct ke_srv *s);

/* Connections open now. */
int ke_srv_active(const struct ke_srv *s);

/* The counters (pointer into s, valid until ke_srv_free). */
const struct ke_srv_stats *ke_srv_stats(const struct ke_srv *s);

#endif /* NTK_KE_SRV_H */
