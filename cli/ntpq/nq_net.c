/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpq's transport: one connected UDP socket per host, mode-6 sessions by ntk_ctlc. */
#include "nq_net.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli_udp.h"
#include "ntk/ctlc.h"
#include "ntk/err.h"

#include "poison.h"

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void net_close(struct nq_net *n)
{
    if (n->fd >= 0)
        close(n->fd);
    n->fd = -1;
}

static int net_open(void *ctx, const char *host, int family, FILE *err)
{
    struct nq_net *n = ctx;
    struct cli_target t[4];
    char name[256];
    size_t hl = strlen(host);
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']')
        snprintf(name, sizeof name, "%.*s", (int)hl - 2, host + 1);
    else
        snprintf(name, sizeof name, "%s", host);
    int rc = cli_resolve(name, 123, family, t, 4);
    if (rc <= 0) {
        fprintf(err, "ntpq: standard-mode lookup of %s failed, %s\n", name, gai_strerror(rc));
        return -1;
    }
    int fd = cli_udp_open(t[0].ss.ss_family, NULL);
    if (fd < 0 || connect(fd, (const struct sockaddr *)&t[0].ss, t[0].len) != 0) {
        fprintf(err, "***Error connecting to %s: %s [%d]\n", name, strerror(errno), errno);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    net_close(n);
    n->fd = fd;
    return 0;
}

/* The key store that holds keyid: the keys file's, else the passwd prompt's. */
static struct ntk_mac_keys *store_for(struct nq_net *n, uint32_t keyid)
{
    if (n->keys && ntk_mac_keys_lookup(n->keys, keyid, NULL) == 0)
        return n->keys;
    if (n->typed && ntk_mac_keys_lookup(n->typed, keyid, NULL) == 0)
        return n->typed;
    return NULL;
}

static bool net_have_key(void *ctx, uint32_t keyid)
{
    return store_for(ctx, keyid) != NULL;
}

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

static int net_add_key(void *ctx, uint32_t keyid, const char *keytype, const char *passwd)
{
    struct nq_net *n = ctx;
    static const struct {
        const char *name;
        enum ntk_mac_type type;
    } types[] = {{"MD5", NTK_MAC_MD5},       {"SHA1", NTK_MAC_SHA1},
                 {"SHA-1", NTK_MAC_SHA1},    {"SHA224", NTK_MAC_SHA224},
                 {"SHA256", NTK_MAC_SHA256}, {"SHA384", NTK_MAC_SHA384},
                 {"SHA512", NTK_MAC_SHA512}, {"AES-128", NTK_MAC_AES128_CMAC}};
    struct ntk_mac_key k = {.keyid = keyid};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(keytype, types[i].name) == 0)
            k.type = types[i].type;
    size_t len = strlen(passwd);
    if (k.type == NTK_MAC_NONE || len == 0)
        return -1;
    if (len > 20) { /* NTPsec: longer passwords are hex */
        for (size_t i = 0; i + 1 < len && k.secret_len < NTK_MAC_SECRET_MAX; i += 2)
            k.secret[k.secret_len++] =
                (uint8_t)(hexval(passwd[i]) * 16 + hexval(passwd[i + 1]));
    } else {
        memcpy(k.secret, passwd, len);
        k.secret_len = (uint8_t)len;
    }
    struct ntk_mac_keys *ks;
    int rc = ntk_mac_keys_new(&k, 1, &ks);
    ntk_mac_key_wipe(&k, 1);
    if (rc != 0)
        return -1;
    ntk_mac_keys_free(n->typed);
    n->typed = ks;
    return 0;
}

/* Runs the session until a final event; CHUNK events go to chunk. */
static int run(struct nq_net *n, nq_chunk_fn chunk, void *cctx, struct nq_reply *r)
{
    struct ntk_ctlc *c = n->c;
    uint8_t out[NTK_CTL_DATAGRAM_MAX], in[NTK_CTL_DATAGRAM_MAX + 64];
    for (;;) {
        size_t len = 0;
        enum ntk_ctlc_ev ev = ntk_ctlc_step(c, mono_ms(), out, sizeof out, &len);
        switch (ev) {
        case NTK_CTLC_SEND:
            if (send(n->fd, out, len, 0) < 0)
                return NQ_Q_SOCKET;
            break;
        case NTK_CTLC_WAIT: {
            int64_t wait = ntk_ctlc_deadline(c) - mono_ms();
            struct pollfd p = {.fd = n->fd, .events = POLLIN};
            int pr = poll(&p, 1, wait < 0 ? 0 : wait > 60000 ? 60000 : (int)wait);
            if (pr > 0) {
                ssize_t got = recv(n->fd, in, sizeof in, 0);
                if (got < 0 && errno == ECONNREFUSED)
                    return NQ_Q_SOCKET;
                if (got > 0)
                    ntk_ctlc_feed(c, in, (size_t)got);
            }
            break;
        }
        case NTK_CTLC_CHUNK: {
            size_t dl;
            const char *d = ntk_ctlc_data(c, &dl);
            if (chunk)
                chunk(cctx, d, dl);
            break;
        }
        case NTK_CTLC_DONE:
            if (r) {
                r->data = ntk_ctlc_data(c, &r->len);
                r->status = ntk_ctlc_status(c);
            }
            return 0;
        case NTK_CTLC_REFUSED:
            return NQ_Q_SERVER + ntk_ctlc_cerr(c);
        case NTK_CTLC_TIMEOUT:
            return NQ_Q_TIMEOUT;
        default:
            return ntk_ctlc_err(c) == NTK_EAUTH ? NQ_Q_AUTH : NQ_Q_INCOMPLETE;
        }
    }
}

static int start(struct nq_net *n, uint32_t keyid)
{
    if (n->fd < 0)
        return NQ_Q_NOHOST;
    struct ntk_mac_keys *ks = keyid ? store_for(n, keyid) : NULL;
    if (keyid && ks == NULL)
        return NQ_Q_NOKEY;
    struct ntk_ctlc_cfg cfg = {.keys = ks,
                               .keyid = keyid,
                               .timeout_ms = n->timeout_ms,
                               .retries = 1,
                               .prove = true,
                               .first_sequence = ++n->sequence};
    ntk_ctlc_init(n->c, &cfg);
    return 0;
}

static int net_query(void *ctx, uint8_t op, uint16_t associd, const char *data, size_t len,
                     uint32_t keyid, struct nq_reply *r)
{
    struct nq_net *n = ctx;
    int rc = start(n, keyid);
    if (rc != 0)
        return rc;
    if (ntk_ctlc_request(n->c, op, associd, data, len) != 0)
        return NQ_Q_INCOMPLETE;
    return run(n, NULL, NULL, r);
}

static int net_mrulist(void *ctx, const char *params, size_t len, unsigned frags,
                       nq_chunk_fn chunk, void *cctx)
{
    struct nq_net *n = ctx;
    int rc = start(n, 0);
    if (rc != 0)
        return rc;
    if (ntk_ctlc_mrulist(n->c, params, len, frags) != 0)
        return NQ_Q_INCOMPLETE;
    return run(n, chunk, cctx, NULL);
}

static void net_set_timeout(void *ctx, long ms)
{
    ((struct nq_net *)ctx)->timeout_ms = ms;
}

/* NTPsec's canonicalize_dns: the address's reverse name, lowercased, port kept. */
static const char *net_resolve(void *ctx, const char *addr)
{
    struct nq_net *n = ctx;
    char host[256], port[16] = "";
    snprintf(host, sizeof host, "%s", addr);
    char *c = strchr(host, ':');
    if (c != NULL && strrchr(host, ':') == c) {
        snprintf(port, sizeof port, "%s", c);
        *c = '\0';
    }
    struct addrinfo hints = {.ai_flags = AI_CANONNAME}, *ai = NULL;
    if (getaddrinfo(host, NULL, &hints, &ai) != 0) {
        snprintf(n->namebuf, sizeof n->namebuf, "DNSFAIL:%s", host);
        return n->namebuf;
    }
    char name[NI_MAXHOST];
    if (getnameinfo(ai->ai_addr, ai->ai_addrlen, name, sizeof name, NULL, 0, NI_NAMEREQD) != 0)
        snprintf(name, sizeof name, "%s", ai->ai_canonname ? ai->ai_canonname : host);
    freeaddrinfo(ai);
    for (char *p = name; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    snprintf(n->namebuf, sizeof n->namebuf, "%s%s", name, port);
    return n->namebuf;
}

static double net_now(void *ctx)
{
    (void)ctx;
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int nq_net_init(struct nq_net *n, struct ntk_mac_keys *keys)
{
    memset(n, 0, sizeof *n);
    n->fd = -1;
    n->keys = keys;
    n->timeout_ms = 5000;
    n->c = malloc(sizeof *n->c);
    if (n->c == NULL)
        return -1;
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    n->sequence = (uint16_t)(t.tv_nsec ^ getpid());
    n->io = (struct nq_io){.ctx = n,
                           .open = net_open,
                           .query = net_query,
                           .mrulist = net_mrulist,
                           .set_timeout = net_set_timeout,
                           .have_key = net_have_key,
                           .add_key = net_add_key,
                           .resolve = net_resolve,
                           .now = net_now};
    return 0;
}

void nq_net_fini(struct nq_net *n)
{
    net_close(n);
    free(n->c);
    ntk_mac_keys_free(n->typed);
    n->c = NULL;
    n->typed = NULL;
}
