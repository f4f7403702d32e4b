/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of ntpd's sockets on loopback: batched receive with kernel timestamps and the
 * destination address, replies leaving from the address a request was sent to (127.0.0.2 on
 * a wildcard socket), IPv6, truncation, kernel transmit timestamps on the error queue, and
 * datagrams that are never fragmented (DF set, the learned path MTU ignored). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../daemon/io/net.h"

#include "poison.h"

static struct ntk_addr addr_of(const char *text, uint16_t port)
{
    struct ntk_addr a;
    assert_int_equal(ntk_addr_parse_span((struct ntk_span){text, strlen(text)}, &a), 0);
    a.port = port;
    return a;
}

static uint16_t bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
    struct ntk_addr a;
    assert_int_equal(ntk_addr_from_sockaddr(&a, (struct sockaddr *)&ss, len), 0);
    return a.port;
}

/* Waits (bounded) until fd is readable. */
static void wait_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 2000), 1);
}

static int64_t ns_of(const struct timespec *t)
{
    return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static void round_trip(const char *wild, const char *dest, int family)
{
    struct ntk_addr any = addr_of(wild, 0);
    int srv = net_open_server(&any, 0, 0);
    assert_true(srv >= 0);
    uint16_t port = bound_port(srv);
    int cli = net_open_client(family);
    assert_true(cli >= 0);
    struct ntk_addr to = addr_of(dest, port);
    const uint8_t req[3][48] = {{1}, {2}, {3}};
    for (int i = 0; i < 3; i++)
        assert_int_equal(net_send(cli, req[i], sizeof req[i], &to), 0);
    static struct net_msg m[NET_BATCH];
    struct timespec before;
    clock_gettime(CLOCK_REALTIME, &before);
    int got = 0;
    for (int tries = 0; got < 3 && tries < 20; tries++) {
        wait_readable(srv);
        int n = net_recv_batch(srv, m + got, NET_BATCH - got);
        assert_true(n >= 0);
        got += n;
    }
    assert_int_equal(got, 3);
    struct ntk_addr dest_addr = addr_of(dest, 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(m[i].len, 48);
        assert_int_equal(m[i].buf[0], i + 1);
        assert_false(m[i].truncated);
        assert_true(m[i].kernel_ts);
        assert_true(llabs(ns_of(&m[i].rx) - ns_of(&before)) < 2000000000LL);
        assert_true(ntk_addr_eq(&m[i].local, &dest_addr)); /* PKTINFO */
        assert_int_equal(m[i].remote.port, bound_port(cli));
    }
    /* Replies from the address each request was sent to. */
    struct net_out o[3];
    for (int i = 0; i < 3; i++)
        o[i] = (struct net_out){.buf = m[i].buf,
                                .len = m[i].len,
                                .remote = m[i].remote,
                                .local = m[i].local,
                                .ifindex = m[i].ifindex};
    assert_int_equal(net_send_batch(srv, o, 3), 3);
    static struct net_msg r[NET_BATCH];
    got = 0;
    for (int tries = 0; got < 3 && tries < 20; tries++) {
        wait_readable(cli);
        got += net_recv_batch(cli, r + got, NET_BATCH - got);
    }
    assert_int_equal(got, 3);
    struct ntk_addr from = addr_of(dest, port);
    for (int i = 0; i < 3; i++) {
        assert_true(ntk_addr_eq(&r[i].remote, &from));
        assert_int_equal(r[i].remote.port, port);
    }
    close(srv);
    close(cli);
}

static void ipv4_wildcard_answers_from_the_destination(void **state)
{
    (void)state;
    round_trip("0.0.0.0", "127.0.0.1", AF_INET);
    round_trip("0.0.0.0", "127.0.0.2", AF_INET); /* not the primary address of lo */
}

static void ipv6_loopback(void **state)
{
    (void)state;
    int probe = socket(AF_INET6, SOCK_DGRAM, 0);
    if (probe < 0) {
        skip(); /* no IPv6 in this kernel */
    }
    close(probe);
    round_trip("::", "::1", AF_INET6);
}

static void truncation_and_empty_queue(void **state)
{
    (void)state;
    struct ntk_addr lo = addr_of("127.0.0.1", 0);
    int srv = net_open_server(&lo, 0, 0);
    assert_true(srv >= 0);
    static struct net_msg m[2];
    assert_int_equal(net_recv_batch(srv, m, 2), 0); /* nothing queued */
    int cli = net_open_client(AF_INET);
    static uint8_t big[NET_DGRAM_MAX + 100];
    struct ntk_addr to = addr_of("127.0.0.1", bound_port(srv));
    assert_int_equal(net_send(cli, big, sizeof big, &to), 0);
    wait_readable(srv);
    assert_int_equal(net_recv_batch(srv, m, 2), 1);
    assert_true(m[0].truncated);
    assert_int_equal(m[0].len, NET_DGRAM_MAX);
    assert_int_equal(net_open_client(12345), -EAFNOSUPPORT);
    close(srv);
    close(cli);
}

/* ---- kernel transmit timestamps ---- */

/* Waits (bounded) until fd's error queue has something (poll reports POLLERR unasked). */
static bool wait_errqueue(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = 0};
    return poll(&p, 1, ms) == 1 && (p.revents & POLLERR) != 0;
}

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return ns_of(&t);
}

/* A 48-byte request whose transmit field (bytes 40..47) is the nonce i. */
static void request_with_nonce(uint8_t req[48], uint8_t i)
{
    memset(req, 0, 48);
    req[0] = 0x23;
    memset(req + 40, 0xa0 + i, 8);
}

/* Reads stamps until want have come (or 2 s pass). */
static int collect_stamps(int fd, struct net_tx *tx, struct net_tx_stamp *st, int want)
{
    int got = 0;
    while (got < want && wait_errqueue(fd, 2000)) {
        int n = net_recv_txts(fd, tx, st + got, want - got);
        assert_true(n >= 0);
        got += n;
    }
    return got;
}

/* Linux turns receive timestamping on for the whole stack when a socket asks for it, but
 * from a work queue: until then datagrams carry none (an SO_TIMESTAMPNS socket then gets
 * the time of the recvmsg call, an SO_TIMESTAMPING socket nothing: the case net.c's
 * user-space fallback covers). Returns a socket that keeps it on, once a datagram to an
 * SO_TIMESTAMPING socket shows it is on. */
static int timestamps_on(void)
{
    struct net_tx tx;
    int keep = net_open_client_txts(AF_INET, &tx);
    assert_true(keep >= 0);
    struct ntk_addr to = addr_of("127.0.0.1", bound_port(keep));
    static struct net_msg m[1];
    uint8_t b[48] = {0};
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(net_send(keep, b, sizeof b, &to), 0);
        wait_readable(keep);
        assert_int_equal(net_recv_batch(keep, m, 1), 1);
        if (m[0].kernel_ts || !tx.on) {
            return keep; /* (without SO_TIMESTAMPING the test is skipped) */
        }
        struct timespec ms = {.tv_nsec = 1000000};
        nanosleep(&ms, NULL);
    }
    fail_msg("no kernel receive timestamp after 1000 datagrams");
    return -1;
}

/* Three requests on a client socket with transmit timestamps: each stamp comes back on the
 * error queue with its tag and nonce, after the time read before the send and not after the
 * server's kernel receive time; the replies carry kernel receive times, after the stamps. */
static void tx_stamps(const char *lo, int family)
{
    int keep = timestamps_on();
    struct ntk_addr a = addr_of(lo, 0);
    int srv = net_open_server(&a, 0, 0);
    assert_true(srv >= 0);
    struct net_tx tx;
    int cli = net_open_client_txts(family, &tx);
    assert_true(cli >= 0);
    if (!tx.on) {
        close(srv);
        close(cli);
        close(keep);
        skip(); /* no SO_TIMESTAMPING transmit stamps in this kernel */
    }
    struct ntk_addr to = addr_of(lo, bound_port(srv));
    uint8_t req[3][48];
    int64_t before[3];
    for (uint8_t i = 0; i < 3; i++) {
        request_with_nonce(req[i], i);
        before[i] = now_ns();
        assert_int_equal(net_send_txts(cli, &tx, req[i], 48, &to, 7u + i), 0);
    }
    struct net_tx_stamp st[4];
    assert_int_equal(collect_stamps(cli, &tx, st, 3), 3);
    assert_int_equal(net_recv_txts(cli, &tx, st + 3, 1), 0); /* drained */
    static struct net_msg m[NET_BATCH];
    int got = 0;
    while (got < 3) {
        wait_readable(srv);
        got += net_recv_batch(srv, m + got, NET_BATCH - got);
    }
    for (int i = 0; i < 3; i++) {
        assert_int_equal(st[i].tag, 7u + (unsigned)i);
        assert_memory_equal(st[i].nonce, req[i] + 40, 8);
        assert_true(m[i].kernel_ts);
        assert_memory_equal(m[i].buf + 40, req[i] + 40, 8);
        assert_true(ns_of(&st[i].tx) >= before[i]);
        assert_true(ns_of(&st[i].tx) <= ns_of(&m[i].rx));
    }
    assert_int_equal(tx.stamped, 3);
    assert_int_equal(tx.unmatched, 0);
    /* The answer: received with the kernel's time (SO_TIMESTAMPING), after the stamps. */
    struct net_out o = {.buf = m[0].buf, .len = 48, .remote = m[0].remote};
    assert_int_equal(net_send_batch(srv, &o, 1), 1);
    wait_readable(cli);
    static struct net_msg r[2];
    assert_int_equal(net_recv_batch(cli, r, 2), 1);
    assert_true(r[0].kernel_ts);
    assert_true(ns_of(&r[0].rx) >= ns_of(&st[2].tx));
    close(srv);
    close(cli);
    close(keep);
}

static void tx_stamps_ipv4(void **state)
{
    (void)state;
    tx_stamps("127.0.0.1", AF_INET);
}

static void tx_stamps_ipv6(void **state)
{
    (void)state;
    int probe = socket(AF_INET6, SOCK_DGRAM, 0);
    if (probe < 0) {
        skip();
    }
    close(probe);
    tx_stamps("::1", AF_INET6);
}

/* A socket without the option gets no stamp; a stamp nobody recorded is dropped and counted;
 * a failed send restarts the kernel's counter, and the next stamp still finds its request. */
static void tx_stamps_none_unmatched_restart(void **state)
{
    (void)state;
    struct ntk_addr lo = addr_of("127.0.0.1", 0);
    int srv = net_open_server(&lo, 0, 0);
    assert_true(srv >= 0);
    struct ntk_addr to = addr_of("127.0.0.1", bound_port(srv));
    uint8_t req[48];
    request_with_nonce(req, 1);
    struct net_tx_stamp st[2];
    /* Without the option. */
    int plain = net_open_client(AF_INET);
    assert_true(plain >= 0);
    struct net_tx off;
    memset(&off, 0, sizeof off);
    assert_int_equal(net_send_txts(plain, &off, req, 48, &to, 1), 0);
    wait_readable(srv);
    assert_false(wait_errqueue(plain, 50));
    assert_int_equal(net_recv_txts(plain, &off, st, 2), 0);
    close(plain);
    /* With it. */
    struct net_tx tx;
    int cli = net_open_client_txts(AF_INET, &tx);
    assert_true(cli >= 0);
    if (!tx.on) {
        close(srv);
        close(cli);
        skip();
    }
    assert_int_equal(net_send(cli, req, 48, &to), 0); /* not recorded: key 0 unmatched */
    assert_true(wait_errqueue(cli, 2000));
    assert_int_equal(net_recv_txts(cli, &tx, st, 2), 0);
    assert_int_equal(tx.unmatched, 1);
    /* A send that fails (no such family) restarts the counter at 0 ... */
    struct ntk_addr bad = to;
    bad.family = 0;
    assert_true(net_send_txts(cli, &tx, req, 48, &bad, 5) < 0);
    assert_int_equal(tx.restarts, 1);
    assert_true(tx.on);
    assert_int_equal(tx.next_key, 0);
    /* ... in the kernel too: the next datagram's stamp (key 0) matches its request. */
    request_with_nonce(req, 2);
    assert_int_equal(net_send_txts(cli, &tx, req, 48, &to, 6), 0);
    assert_int_equal(collect_stamps(cli, &tx, st, 1), 1);
    assert_int_equal(st[0].tag, 6);
    assert_memory_equal(st[0].nonce, req + 40, 8);
    assert_int_equal(tx.unmatched, 1);
    close(srv);
    close(cli);
}

/* ---- never fragmented ---- */

static int pmtu_mode(int fd, int family)
{
    int v = -1;
    socklen_t len = sizeof v;
    int level = family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
    int name = family == AF_INET ? IP_MTU_DISCOVER : IPV6_MTU_DISCOVER;
    assert_int_equal(getsockopt(fd, level, name, &v, &len), 0);
    return v;
}

/* Looks on raw (a copy of every UDP datagram this host receives) for the one from port
 * from_port to port to_port; copies its IP header. Bounded by 100 datagrams and 2 s. */
static bool raw_find(int raw, uint16_t from_port, uint16_t to_port, struct iphdr *out)
{
    for (int i = 0; i < 100; i++) {
        struct pollfd p = {.fd = raw, .events = POLLIN};
        if (poll(&p, 1, 2000) != 1)
            return false;
        uint8_t b[2048];
        ssize_t n = recv(raw, b, sizeof b, 0);
        if (n < (ssize_t)sizeof(struct iphdr))
            continue;
        struct iphdr ip;
        memcpy(&ip, b, sizeof ip);
        size_t hl = (size_t)ip.ihl * 4;
        struct udphdr u;
        if ((size_t)n < hl + sizeof u)
            continue;
        memcpy(&u, b + hl, sizeof u);
        if (ntohs(u.source) == from_port && ntohs(u.dest) == to_port) {
            *out = ip;
            return true;
        }
    }
    return false;
}

static void never_fragmented(void **state)
{
    (void)state;
    struct ntk_addr lo = addr_of("127.0.0.1", 0);
    int srv = net_open_server(&lo, 0, 0);
    int cli = net_open_client(AF_INET);
    assert_true(srv >= 0 && cli >= 0);
    assert_int_equal(pmtu_mode(srv, AF_INET), IP_PMTUDISC_PROBE);
    assert_int_equal(pmtu_mode(cli, AF_INET), IP_PMTUDISC_PROBE);
    int cli6 = net_open_client(AF_INET6);
    if (cli6 >= 0) {
        assert_int_equal(pmtu_mode(cli6, AF_INET6), IPV6_PMTUDISC_PROBE);
        close(cli6);
    }
    /* On the wire (where raw sockets are allowed: as root, as in CI): a reply as long as an
     * NTS reply with 8 cookies leaves with DF set and IP ID 0. */
    int raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_UDP);
    if (raw < 0) {
        print_message("never_fragmented: no raw socket (%s), the wire is not checked\n",
                      strerror(errno));
    } else {
        static uint8_t reply[1100];
        struct ntk_addr to = addr_of("127.0.0.1", bound_port(cli));
        assert_int_equal(net_send(srv, reply, sizeof reply, &to), 0);
        struct iphdr ip;
        assert_true(raw_find(raw, bound_port(srv), bound_port(cli), &ip));
        assert_int_equal(ntohs(ip.frag_off), IP_DF);
        assert_int_equal(ip.id, 0);
        close(raw);
    }
    close(srv);
    close(cli);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ipv4_wildcard_answers_from_the_destination),
        cmocka_unit_test(ipv6_loopback),
        cmocka_unit_test(truncation_and_empty_queue),
        cmocka_unit_test(tx_stamps_ipv4),
        cmocka_unit_test(tx_stamps_ipv6),
        cmocka_unit_test(tx_stamps_none_unmatched_restart),
        cmocka_unit_test(never_fragmented),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
