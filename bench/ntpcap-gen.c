/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpcap-gen: writes a deterministic synthetic NTP capture (classic pcap, nanosecond time
 * stamps, Ethernet) for bench/ntpcap.sh: client/server exchanges from many IPv4 and IPv6
 * clients to a few servers (some with NTS fields or a legacy MAC, some lost), mode-6 readvar
 * exchanges with multi-fragment responses, and now and then an anomaly (monlist
 * amplification, spoofed kiss-o'-death, unsolicited response, unsynchronised server, NTS
 * downgrade, an NTPv3 client, a client on source port 123). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "poison.h"

#define NTP_UNIX_OFFSET 2208988800ULL /* seconds from 1900 to 1970 (RFC 5905 section 6) */
#define START_UNIX      1767225600LL  /* 2026-01-01T00:00:00Z */
#define N_SERVERS       8
#define MAX_FRAME       1600

/* The generator's state. */
struct gen {
    FILE *out;
    uint64_t rng;
    uint64_t packets, limit; /* written / wanted */
    uint64_t t_ns;           /* capture time, ns since START_UNIX */
    unsigned clients;
    uint16_t ip_id;
};

/* splitmix64: deterministic for a seed on every platform. */
static uint64_t rnd(struct gen *g)
{
    uint64_t z = (g->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint32_t below(struct gen *g, uint32_t n)
{
    return (uint32_t)(rnd(g) % n);
}

static void be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
    be16(p, v >> 16);
    be16(p + 2, v & 0xffffU);
}

/* An endpoint: IPv4 (ip[0..3]) or IPv6, and a port. */
struct ep {
    bool v6;
    uint8_t ip[16];
    uint16_t port;
};

/* Client number i: 10% IPv6 (2001:db8::/32), else 172.16.0.0/12; its port is random per
 * exchange (data-minimised clients), except the one old client on port 123. */
static struct ep client_ep(struct gen *g, unsigned i)
{
    struct ep e;
    memset(&e, 0, sizeof e);
    e.v6 = i % 10 == 9;
    if (e.v6) {
        const uint8_t pre[4] = {0x20, 0x01, 0x0d, 0xb8};
        memcpy(e.ip, pre, 4);
        be32(e.ip + 12, i);
    } else {
        e.ip[0] = 172;
        e.ip[1] = (uint8_t)(16 + ((i >> 16) & 15));
        e.ip[2] = (uint8_t)(i >> 8);
        e.ip[3] = (uint8_t)i;
    }
    e.port = (uint16_t)(32768 + below(g, 28000));
    return e;
}

/* Server k: 10.0.0.k+1 or 2001:db8:ffff::k+1 (for IPv6 clients), port 123. */
static struct ep server_ep(unsigned k, bool v6)
{
    struct ep e;
    memset(&e, 0, sizeof e);
    e.v6 = v6;
    if (v6) {
        const uint8_t pre[6] = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff};
        memcpy(e.ip, pre, 6);
        e.ip[15] = (uint8_t)(k + 1);
    } else {
        e.ip[0] = 10;
        e.ip[3] = (uint8_t)(k + 1);
    }
    e.port = 123;
    return e;
}

/* The one's-complement sum of n bytes (RFC 1071), added to sum. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    }
    if (n & 1) {
        sum += (uint32_t)p[n - 1] << 8;
    }
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffffU) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

/* Builds Ethernet + IP + UDP around payload into f; returns the frame length. */
static size_t frame(struct gen *g, uint8_t *f, const struct ep *src, const struct ep *dst,
                    const uint8_t *pl, size_t len, uint8_t ttl)
{
    const uint8_t mac_c[6] = {0x02, 0, 0, 0, 0, 1}, mac_s[6] = {0x02, 0, 0, 0, 0, 2};
    memcpy(f, dst->port == 123 ? mac_s : mac_c, 6);
    memcpy(f + 6, dst->port == 123 ? mac_c : mac_s, 6);
    size_t ip_len = src->v6 ? 40 : 20, udp_len = 8 + len;
    uint8_t *ip = f + 14, *udp = ip + ip_len;
    be16(f + 12, src->v6 ? 0x86dd : 0x0800);
    if (src->v6) {
        be32(ip, 0x60000000U);
        be16(ip + 4, (uint32_t)udp_len);
        ip[6] = 17;
        ip[7] = ttl;
        memcpy(ip + 8, src->ip, 16);
        memcpy(ip + 24, dst->ip, 16);
    } else {
        memset(ip, 0, 20);
        ip[0] = 0x45;
        be16(ip + 2, (uint32_t)(20 + udp_len));
        be16(ip + 4, g->ip_id++);
        ip[8] = ttl;
        ip[9] = 17;
        memcpy(ip + 12, src->ip, 4);
        memcpy(ip + 16, dst->ip, 4);
        be16(ip + 10, csum_fold(csum_add(0, ip, 20)));
    }
    be16(udp, src->port);
    be16(udp + 2, dst->port);
    be16(udp + 4, (uint32_t)udp_len);
    be16(udp + 6, 0);
    memcpy(udp + 8, pl, len);
    if (src->v6) { /* mandatory over IPv6 (RFC 8200 section 8.1) */
        uint32_t s = csum_add(0, ip + 8, 32) + (uint32_t)udp_len + 17;
        be16(udp + 6, csum_fold(csum_add(s, udp, udp_len)));
    }
    return 14 + ip_len + udp_len;
}

/* Writes one frame at the current time. */
static void emit(struct gen *g, const struct ep *src, const struct ep *dst, const uint8_t *pl,
                 size_t len)
{
    if (g->packets >= g->limit) {
        return;
    }
    uint8_t f[MAX_FRAME];
    size_t n = frame(g, f, src, dst, pl, len, dst->port == 123 ? 64 : 57);
    uint32_t rec[4] = {(uint32_t)(START_UNIX + (int64_t)(g->t_ns / 1000000000U)),
                       (uint32_t)(g->t_ns % 1000000000U), (uint32_t)n, (uint32_t)n};
    fwrite(rec, sizeof rec, 1, g->out);
    fwrite(f, 1, n, g->out);
    g->packets++;
}

/* The NTP timestamp of the capture time plus offset_ns. */
static uint64_t ntp_now(const struct gen *g, int64_t offset_ns)
{
    uint64_t ns = g->t_ns + (uint64_t)offset_ns;
    uint64_t sec = (uint64_t)START_UNIX + ns / 1000000000U + NTP_UNIX_OFFSET;
    uint64_t frac = ((ns % 1000000000U) << 32) / 1000000000U;
    return (sec << 32) | frac;
}

static void put_ts(uint8_t *p, uint64_t ts)
{
    be32(p, (uint32_t)(ts >> 32));
    be32(p + 4, (uint32_t)ts);
}

/* An extension field of type with body_len bytes of random body (RFC 7822). */
static size_t put_ef(struct gen *g, uint8_t *p, uint16_t type, size_t body_len)
{
    be16(p, type);
    be16(p + 2, (uint32_t)(4 + body_len));
    for (size_t i = 0; i < body_len; i++) {
        p[4 + i] = (uint8_t)rnd(g);
    }
    return 4 + body_len;
}

/* The NTS fields of a request (UID, cookie, authenticator) or a response (UID copied,
 * authenticator with encrypted cookies), RFC 8915 section 5.7. */
static size_t put_nts(struct gen *g, uint8_t *p, bool response, const uint8_t uid[32])
{
    size_t n = 4 + 32;
    be16(p, 0x0104);
    be16(p + 2, 36);
    memcpy(p + 4, uid, 32);
    if (!response) {
        n += put_ef(g, p + n, 0x0204, 100);
    }
    size_t ct = response ? 136 : 16;
    be16(p + n, 0x0404);
    be16(p + n + 2, (uint32_t)(4 + 4 + 16 + ct));
    be16(p + n + 4, 16);
    be16(p + n + 6, (uint32_t)ct);
    for (size_t i = 0; i < 16 + ct; i++) {
        p[n + 8 + i] = (uint8_t)rnd(g);
    }
    return n + 8 + 16 + ct;
}

/* What one client exchange looks like. */
struct xopt {
    unsigned version;
    bool nts, mac, lost, downgrade, unsync, far, client123;
};

/* A client request and (unless lost) the server's response. */
static void exchange(struct gen *g, unsigned client, unsigned server, const struct xopt *x)
{
    struct ep c = client_ep(g, client);
    if (x->client123) {
        c.port = 123;
    }
    struct ep s = server_ep(server, c.v6);
    uint8_t q[512], r[512], uid[32];
    memset(q, 0, 48);
    q[0] = (uint8_t)(x->version << 3 | 3);
    uint64_t t1 = client % 3 == 0 ? ntp_now(g, 0) : rnd(g); /* data-minimised: random */
    put_ts(q + 40, t1);
    size_t qn = 48;
    for (size_t i = 0; i < 32; i++) {
        uid[i] = (uint8_t)rnd(g);
    }
    if (x->nts) {
        qn += put_nts(g, q + qn, false, uid);
    } else if (x->mac) {
        be32(q + qn, 1 + client % 16);
        for (size_t i = 4; i < 24; i++) {
            q[qn + i] = (uint8_t)rnd(g);
        }
        qn += 24;
    }
    emit(g, &c, &s, q, qn);
    if (x->lost) {
        return;
    }
    int64_t off = ((int64_t)server - 4) * 250000 + (x->far ? 3600LL * 1000000000 : 0);
    g->t_ns += 30000 + below(g, 400000);
    memset(r, 0, 48);
    r[0] = (uint8_t)((x->unsync ? 3U : 0U) << 6 | x->version << 3 | 4);
    r[1] = x->unsync ? 16 : 2;
    r[2] = 6;
    r[3] = (uint8_t)-24;
    be32(r + 4, 0x00000120);
    be32(r + 8, 0x00000340);
    be32(r + 12, 0xc0000201U + server);
    put_ts(r + 16, ntp_now(g, off - 16000000000LL));
    put_ts(r + 24, t1);
    put_ts(r + 32, ntp_now(g, off - 20000));
    put_ts(r + 40, ntp_now(g, off - 5000));
    size_t rn = 48;
    if (x->nts && !x->downgrade) {
        rn += put_nts(g, r + rn, true, uid);
    } else if (x->mac) {
        memcpy(r + rn, q + 48, 4);
        for (size_t i = 4; i < 24; i++) {
            r[rn + i] = (uint8_t)rnd(g);
        }
        rn += 24;
    }
    emit(g, &s, &c, r, rn);
}

/* A mode-6 header (RFC 9327 section 2.2). */
static void put_m6(uint8_t *p, uint8_t op, uint16_t seq, uint16_t off, uint16_t count)
{
    memset(p, 0, 12);
    p[0] = 2 << 3 | 6;
    p[1] = op;
    be16(p + 2, seq);
    be16(p + 8, off);
    be16(p + 10, count);
}

/* A readvar request and a response of 1-3 fragments. */
static void control(struct gen *g, unsigned client)
{
    struct ep c = client_ep(g, client), s = server_ep(client % N_SERVERS, c.v6);
    uint8_t q[12], r[12 + 468];
    uint16_t seq = (uint16_t)(1 + below(g, 60000));
    put_m6(q, 2, seq, 0, 0);
    emit(g, &c, &s, q, sizeof q);
    unsigned frags = 1 + below(g, 3);
    for (unsigned i = 0; i < frags; i++) {
        g->t_ns += 40000 + below(g, 50000);
        uint16_t count = i + 1 < frags ? 468 : (uint16_t)(100 + below(g, 300) * 4 / 4);
        count = (uint16_t)(count & ~3U);
        put_m6(r, (uint8_t)(0x80 | (i + 1 < frags ? 0x20 : 0) | 2), seq, (uint16_t)(i * 468),
               count);
        be16(r + 4, 0x0618);
        for (size_t k = 0; k < count; k++) {
            r[12 + k] =
                (uint8_t) "leap=0, stratum=2, offset=0.013, sys_jitter=0.004, "[k % 52];
        }
        emit(g, &s, &c, r, 12 + count);
    }
}

/* A monlist request (NTP Classic mode 7, MON_GETLIST_1) answered by 100 items of 72 bytes
 * in 17 datagrams: the amplifier of CVE-2013-5211. */
static void monlist(struct gen *g, unsigned client)
{
    struct ep c = client_ep(g, client), s = server_ep(0, c.v6);
    uint8_t q[48], r[8 + 6 * 72];
    memset(q, 0, sizeof q);
    q[0] = 2 << 3 | 7;
    q[2] = 3;
    q[3] = 42;
    emit(g, &c, &s, q, sizeof q);
    for (unsigned items = 100, i = 0; items > 0; i++) {
        unsigned n = items > 6 ? 6 : items;
        items -= n;
        g->t_ns += 20000;
        memset(r, 0, 8);
        r[0] = (uint8_t)(0x80 | (items > 0 ? 0x40 : 0) | 2 << 3 | 7);
        r[1] = (uint8_t)i;
        r[2] = 3;
        r[3] = 42;
        be16(r + 4, n);
        be16(r + 6, 72);
        for (size_t k = 0; k < n * 72; k++) {
            r[8 + k] = (uint8_t)rnd(g);
        }
        emit(g, &s, &c, r, 8 + n * 72);
    }
}

/* A kiss-o'-death RATE (stratum 0) to a client that asked nothing: spoofed or off-path. */
static void spoofed_kod(struct gen *g, unsigned client)
{
    struct ep c = client_ep(g, client), s = server_ep(1, c.v6);
    uint8_t r[48];
    memset(r, 0, sizeof r);
    r[0] = 3 << 6 | 4 << 3 | 4;
    memcpy(r + 12, "RATE", 4);
    put_ts(r + 24, rnd(g));
    emit(g, &s, &c, r, sizeof r);
}

/* One event: mostly a client exchange; the rare kinds by fixed intervals so every capture of
 * the default size holds each of them. */
static void event(struct gen *g, uint64_t n)
{
    unsigned client = below(g, g->clients);
    unsigned server = client % N_SERVERS;
    struct xopt x = {.version = 4};
    uint32_t roll = below(g, 1000);
    if (n % 100000 == 50000) {
        monlist(g, client);
    } else if (n % 100000 == 70000) {
        spoofed_kod(g, client);
    } else if (roll < 30) {
        control(g, client);
    } else {
        x.nts = roll >= 30 && roll < 80;
        x.mac = roll >= 80 && roll < 100;
        x.lost = roll >= 100 && roll < 110;
        x.version = roll >= 110 && roll < 115 ? 3 : 4;
        x.downgrade = x.nts && n % 100000 == 20000;
        x.unsync = server == 7 && n % 50000 < 100;
        x.far = n % 200000 == 10;
        x.client123 = n % 100000 == 30;
        exchange(g, client, server, &x);
    }
    /* About 800 exchanges a second. */
    g->t_ns += 200000 + below(g, 2000000);
}

static int usage(void)
{
    fputs("usage: ntpcap-gen [-n PACKETS] [-s SEED] [-c CLIENTS] FILE|-\n"
          "Writes a synthetic NTP capture (pcap, ns time stamps); default 1000000 packets,\n"
          "seed 1, 20000 clients.\n",
          stderr);
    return 2;
}

/* Parses a positive decimal number. */
static bool number(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v == 0) {
        return false;
    }
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    struct gen g = {.limit = 1000000, .rng = 1, .clients = 20000};
    int i = 1;
    for (; i + 1 < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i += 2) {
        uint64_t v;
        if (!number(argv[i + 1], &v)) {
            return usage();
        }
        if (strcmp(argv[i], "-n") == 0) {
            g.limit = v;
        } else if (strcmp(argv[i], "-s") == 0) {
            g.rng = v;
        } else if (strcmp(argv[i], "-c") == 0 && v < 1000000) {
            g.clients = (unsigned)v;
        } else {
            return usage();
        }
    }
    if (i + 1 != argc) {
        return usage();
    }
    g.out = strcmp(argv[i], "-") == 0 ? stdout : fopen(argv[i], "wb");
    if (g.out == NULL) {
        perror(argv[i]);
        return 1;
    }
    static char buf[1 << 20];
    setvbuf(g.out, buf, _IOFBF, sizeof buf);
    /* Classic pcap, nanosecond magic, native byte order, Ethernet. */
    const uint32_t magic = 0xa1b23c4dU,
                   rest[4] = {0, 0, 262144, 1}; /* zone, sigfigs, snaplen, link */
    const uint16_t ver[2] = {2, 4};
    fwrite(&magic, sizeof magic, 1, g.out);
    fwrite(ver, sizeof ver, 1, g.out);
    fwrite(rest, sizeof rest, 1, g.out);
    for (uint64_t n = 0; g.packets < g.limit; n++) {
        event(&g, n);
    }
    if (fclose(g.out) != 0) {
        perror(argv[i]);
        return 1;
    }
    fprintf(stderr, "ntpcap-gen: %llu packets\n", (unsigned long long)g.packets);
    return 0;
}
