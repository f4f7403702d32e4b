/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of ntpd's sockets on loopback: batched receive with kernel timestamps and the
 * destination address, replies leaving from the address a request was sent to (127.0.0.2 on
 * a wildcard socket), IPv6, truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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
    int srv = net_open_server(&any, 0);
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
    int srv = net_open_server(&lo, 0);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ipv4_wildcard_answers_from_the_destination),
        cmocka_unit_test(ipv6_loopback),
        cmocka_unit_test(truncation_and_empty_queue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
