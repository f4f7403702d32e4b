/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpload: an NTP server load generator keeping a window of mode-3 requests in flight from
 * many client addresses, checking every reply's origin, and printing replies/s, p50/p99
 * latency and losses. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "poison.h"

#define NTP_LEN    48
#define BATCH      64
#define MAX_SOCKS  64
#define MAX_WINDOW 65536
#define HIST_NS    100 /* histogram resolution */
#define HIST_N                                                                                \
    (100 * 1000 * 1000 / HIST_NS) /* up to 100 ms; slower replies land in the last */
#define SLOT_BITS 16

struct opts {
    struct sockaddr_in srv; /* server address and port */
    double duration_s;      /* sending time; the drain after it is at most timeout_ms */
    unsigned window;        /* requests in flight at most */
    unsigned clients;       /* distinct source addresses (127.1.0.1 upwards when > 1) */
    unsigned socks;         /* UDP sockets (distinct source ports) */
    unsigned timeout_ms;    /* a request unanswered this long is lost */
    double rate;            /* requests per second at most, 0 = as fast as the window allows */
    bool json;              /* one JSON object instead of one text line */
    struct in_addr src;     /* the source address when clients == 1 */
};

struct slot {
    uint64_t nonce;  /* transmit timestamp sent; 0 = free */
    int64_t sent_ns; /* CLOCK_MONOTONIC at send */
};

struct stats {
    uint64_t sent, replies, lost, bad, kod, late, unsync;
    uint64_t min_ns, max_ns, sum_ns;
};

struct gen {
    struct opts o;
    int fd[MAX_SOCKS];
    struct slot *slots;
    unsigned *free_list; /* indices of free slots */
    unsigned nfree;
    uint32_t *hist;
    struct stats st;
    uint64_t rng;
    uint64_t next_client;
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* xorshift64*: the nonces only have to be unpredictable enough to catch stale or foreign
 * replies. */
static uint64_t rnd(struct gen *g)
{
    g->rng ^= g->rng >> 12;
    g->rng ^= g->rng << 25;
    g->rng ^= g->rng >> 27;
    return g->rng * 2685821657736338717ULL;
}

static void usage(FILE *f)
{
    fputs("usage: ntpload [-j] [-a ADDR] [-p PORT] [-d SECONDS] [-w WINDOW] [-c CLIENTS]\n"
          "               [-s SOCKETS] [-t TIMEOUT_MS] [-r RATE] [-S SRC]\n"
          "  -a server address (127.0.0.1)      -p server port (123)\n"
          "  -d seconds of sending (5)          -w requests in flight (64)\n"
          "  -c distinct client addresses, 127.1.0.1 upwards (1: the -S address)\n"
          "  -s UDP sockets / source ports (1)  -t loss timeout in ms (200)\n"
          "  -r requests/s at most (0: as fast as the window allows)\n"
          "  -S source address when -c 1 (127.0.0.1)   -j JSON output\n",
          f);
}

static bool parse_num(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi)) {
        return false;
    }
    *out = v;
    return true;
}

static int parse_opt(struct opts *o, int c, const char *arg)
{
    double v = 0;
    switch (c) {
    case 'j':
        o->json = true;
        return 0;
    case 'a':
        return inet_pton(AF_INET, arg, &o->srv.sin_addr) == 1 ? 0 : -1;
    case 'S':
        return inet_pton(AF_INET, arg, &o->src) == 1 ? 0 : -1;
    case 'p':
        if (!parse_num(arg, 1, 65535, &v))
            return -1;
        o->srv.sin_port = htons((uint16_t)v);
        return 0;
    case 'd':
        return parse_num(arg, 0.01, 86400, &o->duration_s) ? 0 : -1;
    case 'w':
        if (!parse_num(arg, 1, MAX_WINDOW, &v))
            return -1;
        o->window = (unsigned)v;
        return 0;
    case 'c':
        if (!parse_num(arg, 1, 1000000, &v))
            return -1;
        o->clients = (unsigned)v;
        return 0;
    case 's':
        if (!parse_num(arg, 1, MAX_SOCKS, &v))
            return -1;
        o->socks = (unsigned)v;
        return 0;
    case 't':
        if (!parse_num(arg, 1, 60000, &v))
            return -1;
        o->timeout_ms = (unsigned)v;
        return 0;
    case 'r':
        return parse_num(arg, 0, 1e9, &o->rate) ? 0 : -1;
    default:
        return -1;
    }
}

static int parse_args(struct opts *o, int argc, char **argv)
{
    *o = (struct opts){
        .duration_s = 5, .window = 64, .clients = 1, .socks = 1, .timeout_ms = 200};
    o->srv.sin_family = AF_INET;
    o->srv.sin_port = htons(123);
    o->srv.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    o->src.s_addr = htonl(INADDR_LOOPBACK);
    int c;
    while ((c = getopt(argc, argv, "ja:p:d:w:c:s:t:r:S:h")) != -1) {
        if (c == 'h') {
            usage(stdout);
            exit(0);
        }
        if (parse_opt(o, c, optarg) < 0) {
            usage(stderr);
            return -1;
        }
    }
    return optind == argc ? 0 : -1;
}

/* Client k's source address: 127.1.0.1 upwards, skipping host bytes 0 and 255. */
static struct in_addr client_addr(const struct gen *g, uint64_t k)
{
    if (g->o.clients == 1) {
        return g->o.src;
    }
    uint64_t b = k / 254, c = k % 254 + 1;
    uint32_t a = (127u << 24) | (uint32_t)((1 + b / 256) << 16) | (uint32_t)((b % 256) << 8) |
                 (uint32_t)c;
    return (struct in_addr){.s_addr = htonl(a)};
}

static int open_socks(struct gen *g)
{
    for (unsigned i = 0; i < g->o.socks; i++) {
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            perror("ntpload: socket");
            return -1;
        }
        int buf = 4 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
        /* bound to any address, so replies to every 127.x client address arrive here */
        struct sockaddr_in me = {.sin_family = AF_INET};
        if (g->o.clients == 1) {
            me.sin_addr = g->o.src;
        }
        if (bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
            perror("ntpload: bind");
            close(fd);
            return -1;
        }
        g->fd[i] = fd;
    }
    return 0;
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

struct txbatch {
    struct mmsghdr m[BATCH];
    struct iovec iov[BATCH];
    uint8_t pkt[BATCH][NTP_LEN];
    union {
        char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
        struct cmsghdr align;
    } cm[BATCH];
    unsigned slot[BATCH];
};

/* Fills entry i of the batch with a request for slot s from the next client. */
static void fill_req(struct gen *g, struct txbatch *b, unsigned i, unsigned s, int64_t now)
{
    uint64_t nonce = (rnd(g) << SLOT_BITS) | s;
    uint8_t *p = b->pkt[i];
    memset(p, 0, NTP_LEN);
    p[0] = 0x23; /* LI 0, VN 4, mode 3 (client) */
    p[2] = 6;
    p[3] = (uint8_t)-20;
    put_u64(p + 40, nonce);
    g->slots[s] = (struct slot){.nonce = nonce, .sent_ns = now};
    b->slot[i] = s;
    b->iov[i] = (struct iovec){.iov_base = p, .iov_len = NTP_LEN};
    b->m[i].msg_hdr = (struct msghdr){.msg_name = &g->o.srv,
                                      .msg_namelen = sizeof g->o.srv,
                                      .msg_iov = &b->iov[i],
                                      .msg_iovlen = 1};
    if (g->o.clients > 1) {
        struct msghdr *h = &b->m[i].msg_hdr;
        h->msg_control = b->cm[i].buf;
        h->msg_controllen = sizeof b->cm[i].buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(h);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
        struct in_pktinfo pi = {.ipi_spec_dst = client_addr(g, g->next_client % g->o.clients)};
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
    }
    g->next_client++;
}

/* Sends up to n requests (limited by free slots) over the sockets in turn; returns how many.
 */
static unsigned send_some(struct gen *g, unsigned n, int64_t now)
{
    static struct txbatch b;
    unsigned done = 0;
    while (done < n && g->nfree > 0) {
        unsigned k = 0;
        int sock = (int)(g->st.sent % g->o.socks);
        while (k < BATCH && done + k < n && g->nfree > 0) {
            fill_req(g, &b, k, g->free_list[--g->nfree], now);
            k++;
        }
        int r = sendmmsg(g->fd[sock], b.m, k, 0);
        int sent = r < 0 ? 0 : r;
        for (unsigned i = (unsigned)sent; i < k; i++) { /* not sent: free again */
            g->slots[b.slot[i]].nonce = 0;
            g->free_list[g->nfree++] = b.slot[i];
        }
        g->st.sent += (uint64_t)sent;
        done += (unsigned)sent;
        if ((unsigned)sent < k) {
            if (r < 0 && errno != EAGAIN && errno != ENOBUFS && errno != EINTR) {
                perror("ntpload: sendmmsg");
            }
            break;
        }
    }
    return done;
}

static void record(struct gen *g, int64_t lat_ns)
{
    uint64_t l = lat_ns < 0 ? 0 : (uint64_t)lat_ns;
    uint64_t i = l / HIST_NS;
    g->hist[i < HIST_N ? i : HIST_N - 1]++;
    g->st.sum_ns += l;
    if (g->st.replies == 0 || l < g->st.min_ns) {
        g->st.min_ns = l;
    }
    if (l > g->st.max_ns) {
        g->st.max_ns = l;
    }
    g->st.replies++;
}

/* Checks one reply: from the server, mode 4, origin = a nonce in flight. */
static void take_reply(struct gen *g, const uint8_t *p, ssize_t len,
                       const struct sockaddr_in *from, int64_t now)
{
    if (len < NTP_LEN || (p[0] & 7) != 4 || from->sin_port != g->o.srv.sin_port ||
        from->sin_addr.s_addr != g->o.srv.sin_addr.s_addr) {
        g->st.bad++;
        return;
    }
    uint64_t origin = get_u64(p + 24);
    unsigned s = (unsigned)(origin & ((1u << SLOT_BITS) - 1));
    if (s >= g->o.window || g->slots[s].nonce != origin || origin == 0) {
        g->st.late++; /* a reply after its timeout, a duplicate, or foreign */
        return;
    }
    if (p[1] == 0) {
        g->st.kod++; /* kiss-o'-death (RFC 5905 section 7.4): answered but not served */
    } else {
        record(g, now - g->slots[s].sent_ns);
        g->st.unsync += (p[0] >> 6) == 3 || p[1] > 15; /* answered, but not synchronised */
    }
    g->slots[s].nonce = 0;
    g->free_list[g->nfree++] = s;
}

/* Reads what is queued on every socket without blocking; returns the count of datagrams. */
static unsigned recv_some(struct gen *g)
{
    static uint8_t pkt[BATCH][128];
    static struct sockaddr_in from[BATCH];
    static struct iovec iov[BATCH];
    static struct mmsghdr m[BATCH];
    unsigned total = 0;
    for (unsigned f = 0; f < g->o.socks; f++) {
        for (unsigned i = 0; i < BATCH; i++) {
            iov[i] = (struct iovec){.iov_base = pkt[i], .iov_len = sizeof pkt[i]};
            m[i].msg_hdr = (struct msghdr){.msg_name = &from[i],
                                           .msg_namelen = sizeof from[i],
                                           .msg_iov = &iov[i],
                                           .msg_iovlen = 1};
        }
        int r = recvmmsg(g->fd[f], m, BATCH, MSG_DONTWAIT, NULL);
        int64_t now = mono_ns();
        for (int i = 0; i < r; i++) {
            take_reply(g, pkt[i], (ssize_t)m[i].msg_len, &from[i], now);
        }
        total += r > 0 ? (unsigned)r : 0;
    }
    return total;
}

/* Requests in flight longer than the timeout are lost; their slots are reused. */
static void expire(struct gen *g, int64_t now, int64_t timeout_ns)
{
    for (unsigned s = 0; s < g->o.window; s++) {
        if (g->slots[s].nonce != 0 && now - g->slots[s].sent_ns > timeout_ns) {
            g->slots[s].nonce = 0;
            g->free_list[g->nfree++] = s;
            g->st.lost++;
        }
    }
}

static void wait_readable(struct gen *g, int ms)
{
    struct pollfd p[MAX_SOCKS];
    for (unsigned i = 0; i < g->o.socks; i++) {
        p[i] = (struct pollfd){.fd = g->fd[i], .events = POLLIN};
    }
    poll(p, g->o.socks, ms);
}

/* How many requests the rate limit allows now (all free slots without -r). */
static unsigned allowance(const struct gen *g, int64_t now, int64_t t0)
{
    if (g->o.rate <= 0) {
        return g->nfree;
    }
    double due = g->o.rate * (double)(now - t0) / 1e9 - (double)g->st.sent;
    return due < 1 ? 0 : due > g->nfree ? g->nfree : (unsigned)due;
}

static void run(struct gen *g, int64_t *elapsed_ns)
{
    int64_t t0 = mono_ns(), timeout = (int64_t)g->o.timeout_ms * 1000000;
    int64_t end = t0 + (int64_t)(g->o.duration_s * 1e9), last_expire = t0;
    int64_t now = t0;
    while (now < end) {
        unsigned sent = send_some(g, allowance(g, now, t0), now);
        unsigned got = recv_some(g);
        now = mono_ns();
        if (now - last_expire > 1000000) {
            expire(g, now, timeout);
            last_expire = now;
        }
        if (sent == 0 && got == 0) {
            wait_readable(g, g->o.rate > 0 ? 0 : 1);
        }
    }
    *elapsed_ns = now - t0;
    /* drain: whatever is still in flight gets the timeout to come back */
    while (g->nfree < g->o.window && now - end <= timeout) {
        if (recv_some(g) == 0) {
            wait_readable(g, 1);
        }
        now = mono_ns();
    }
    expire(g, INT64_MAX, 0);
}

static double percentile(const struct gen *g, double q)
{
    if (g->st.replies == 0) {
        return 0;
    }
    uint64_t want = (uint64_t)((double)g->st.replies * q), acc = 0;
    for (uint64_t i = 0; i < HIST_N; i++) {
        acc += g->hist[i];
        if (acc > want) {
            return (double)(i * HIST_NS + HIST_NS / 2) / 1000.0;
        }
    }
    return (double)HIST_N * HIST_NS / 1000.0;
}

#define REPORT_ARGS                                                                           \
    secs, g->o.window, g->o.clients, g->o.socks, s->sent, s->replies, rps, s->lost, s->kod,   \
        s->late, s->bad, s->unsync, p50, p99, mean, (double)s->min_ns / 1000.0,               \
        (double)s->max_ns / 1000.0

static void report(const struct gen *g, int64_t elapsed_ns)
{
    const struct stats *s = &g->st;
    double secs = (double)elapsed_ns / 1e9, rps = (double)s->replies / secs;
    double p50 = percentile(g, 0.50), p99 = percentile(g, 0.99);
    double mean = s->replies ? (double)s->sum_ns / (double)s->replies / 1000.0 : 0;
    if (g->o.json) {
        printf("{\"duration_s\": %.3f, \"window\": %u, \"clients\": %u, \"sockets\": %u, "
               "\"sent\": %" PRIu64 ", \"replies\": %" PRIu64 ", \"replies_per_s\": %.0f, "
               "\"lost\": %" PRIu64 ", \"kod\": %" PRIu64 ", \"late\": %" PRIu64
               ", \"bad\": %" PRIu64 ", \"unsync\": %" PRIu64
               ", \"p50_us\": %.1f, \"p99_us\": %.1f, \"mean_us\": %.1f, "
               "\"min_us\": %.1f, \"max_us\": %.1f}\n",
               REPORT_ARGS);
    } else {
        printf("duration_s %.3f window %u clients %u sockets %u sent %" PRIu64
               " replies %" PRIu64 " replies_per_s %.0f lost %" PRIu64 " kod %" PRIu64
               " late %" PRIu64 " bad %" PRIu64 " unsync %" PRIu64
               " p50_us %.1f p99_us %.1f mean_us %.1f min_us %.1f max_us %.1f\n",
               REPORT_ARGS);
    }
}

int main(int argc, char **argv)
{
    static struct gen g;
    if (parse_args(&g.o, argc, argv) < 0) {
        return 2;
    }
    g.slots = calloc(g.o.window, sizeof *g.slots);
    g.free_list = calloc(g.o.window, sizeof *g.free_list);
    g.hist = calloc(HIST_N, sizeof *g.hist);
    if (g.slots == NULL || g.free_list == NULL || g.hist == NULL) {
        fputs("ntpload: out of memory\n", stderr);
        return 1;
    }
    for (unsigned s = 0; s < g.o.window; s++) {
        g.free_list[g.nfree++] = g.o.window - 1 - s;
    }
    if (getrandom(&g.rng, sizeof g.rng, 0) != sizeof g.rng || g.rng == 0) {
        g.rng = (uint64_t)mono_ns() | 1;
    }
    if (open_socks(&g) < 0) {
        return 1;
    }
    int64_t elapsed;
    run(&g, &elapsed);
    report(&g, elapsed);
    return g.st.replies > 0 ? 0 : 1;
}
