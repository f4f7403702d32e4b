/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of the systemd notification module: address parsing, and the exact datagrams a
 * test socket (path and abstract) receives from sdn_ready, sdn_stopping and sdn_status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../daemon/io/sdnotify.h"
#include "testutil.h"

#include "poison.h"

/* A string of n copies of c after prefix (into buf, which holds at least 200 bytes). */
static const char *repeat(char *buf, const char *prefix, char c, size_t n)
{
    size_t p = strlen(prefix);
    memcpy(buf, prefix, p);
    memset(buf + p, c, n);
    buf[p + n] = '\0';
    return buf;
}

static void parses_addresses(void **state)
{
    (void)state;
    struct sockaddr_un sa;
    size_t alen = 0;
    const size_t base = offsetof(struct sockaddr_un, sun_path);
    assert_int_equal(sdn_parse_addr("/run/systemd/notify", &sa, sizeof sa, &alen), 0);
    assert_int_equal(sa.sun_family, AF_UNIX);
    assert_string_equal(sa.sun_path, "/run/systemd/notify");
    assert_int_equal(alen, base + 19 + 1);
    assert_int_equal(sdn_parse_addr("@abc", &sa, sizeof sa, &alen), 0);
    assert_int_equal(alen, base + 4);
    assert_memory_equal(sa.sun_path, "\0abc", 4);

    char buf[200];
    alen = 7;
    const char *bad[] = {"", "run/notify", "notify", "@"};
    int want[] = {-EINVAL, -EINVAL, -EINVAL, 0};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(sdn_parse_addr(bad[i], &sa, sizeof sa, &alen), want[i]);
    assert_int_equal(alen, base + 1); /* "@": the empty abstract name is a valid address */
    alen = 7;
    assert_int_equal(sdn_parse_addr("vsock:2:1234", &sa, sizeof sa, &alen), -EAFNOSUPPORT);
    assert_int_equal(sdn_parse_addr(NULL, &sa, sizeof sa, &alen), -EINVAL);
    assert_int_equal(sdn_parse_addr("/x", &sa, sizeof sa - 1, &alen), -EINVAL);
    assert_int_equal(alen, 7); /* untouched on failure */
    /* sun_path is 108 bytes: a path of 107 and an abstract name of 107 (+ '@') fit. */
    assert_int_equal(sdn_parse_addr(repeat(buf, "/", 'p', 106), &sa, sizeof sa, &alen), 0);
    assert_int_equal(alen, base + 108);
    assert_int_equal(sdn_parse_addr(repeat(buf, "/", 'p', 107), &sa, sizeof sa, &alen),
                     -ENAMETOOLONG);
    assert_int_equal(sdn_parse_addr(repeat(buf, "@", 'a', 107), &sa, sizeof sa, &alen), 0);
    assert_int_equal(alen, base + 108);
    assert_int_equal(sdn_parse_addr(repeat(buf, "@", 'a', 108), &sa, sizeof sa, &alen),
                     -ENAMETOOLONG);
    assert_int_equal(sdn_parse_addr(repeat(buf, "/", 'p', 190), &sa, sizeof sa, &alen),
                     -ENAMETOOLONG);
}

/* A bound datagram socket standing in for systemd's; name is a path or "@abstract". */
static int listener(const char *name)
{
    struct sockaddr_un sa;
    size_t alen = 0;
    assert_int_equal(sdn_parse_addr(name, &sa, sizeof sa, &alen), 0);
    int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(s >= 0);
    assert_int_equal(bind(s, (struct sockaddr *)&sa, (socklen_t)alen), 0);
    return s;
}

/* The next datagram on s as a string (fails the test when none is waiting). */
static const char *next_msg(int s, char *buf, size_t size)
{
    ssize_t n = recv(s, buf, size - 1, MSG_DONTWAIT);
    assert_true(n >= 0);
    buf[n] = '\0';
    return buf;
}

static void no_datagram_waiting(int s)
{
    char c;
    assert_int_equal(recv(s, &c, 1, MSG_DONTWAIT), -1);
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
}

/* sdn_open through $NOTIFY_SOCKET = name, then the three messages, checked byte for byte. */
static void round_trip(const char *name)
{
    int l = listener(name);
    assert_int_equal(setenv("NOTIFY_SOCKET", name, 1), 0);
    int fd = -2;
    assert_int_equal(sdn_open(&fd), 0);
    assert_true(fd >= 0);
    char buf[512];
    assert_int_equal(sdn_ready(fd), 0);
    assert_string_equal(next_msg(l, buf, sizeof buf), "READY=1");
    assert_int_equal(sdn_status(fd, "synchronised to 192.0.2.1,\nstratum 2\t"), 0);
    assert_string_equal(next_msg(l, buf, sizeof buf),
                        "STATUS=synchronised to 192.0.2.1, stratum 2 ");
    assert_int_equal(sdn_stopping(fd), 0);
    assert_string_equal(next_msg(l, buf, sizeof buf), "STOPPING=1");
    no_datagram_waiting(l);
    sdn_close(fd);
    close(l);
    unsetenv("NOTIFY_SOCKET");
}

static void notifies_path_socket(void **state)
{
    (void)state;
    char dir[] = "/tmp/ntk-sdn-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/notify", dir);
    round_trip(path);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

static void notifies_abstract_socket(void **state)
{
    (void)state;
    char name[64];
    snprintf(name, sizeof name, "@ntk-sdn-test-%ld-%llu", (long)getpid(),
             (unsigned long long)(tu_rand() & 0xffffffu));
    round_trip(name);
}

static void open_without_socket(void **state)
{
    (void)state;
    unsetenv("NOTIFY_SOCKET");
    int fd = 5;
    assert_int_equal(sdn_open(&fd), 0);
    assert_int_equal(fd, -1);
    /* Not under systemd: every call is a successful no-op. */
    assert_int_equal(sdn_ready(fd), 0);
    assert_int_equal(sdn_status(fd, "x"), 0);
    assert_int_equal(sdn_stopping(fd), 0);
    sdn_close(fd);

    setenv("NOTIFY_SOCKET", "/nonexistent-ntk-dir/notify", 1);
    fd = 5;
    assert_int_equal(sdn_open(&fd), -ENOENT);
    assert_int_equal(fd, -1);
    setenv("NOTIFY_SOCKET", "relative/notify", 1);
    assert_int_equal(sdn_open(&fd), -EINVAL);
    assert_int_equal(fd, -1);
    unsetenv("NOTIFY_SOCKET");
}

static void bounds_messages(void **state)
{
    (void)state;
    char name[64];
    snprintf(name, sizeof name, "@ntk-sdn-bounds-%ld", (long)getpid());
    int l = listener(name);
    setenv("NOTIFY_SOCKET", name, 1);
    int fd = -1;
    assert_int_equal(sdn_open(&fd), 0);
    char big[SDN_MSG_MAX + 8];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(sdn_send(fd, big), -EMSGSIZE);
    no_datagram_waiting(l);
    big[SDN_MSG_MAX - 1] = '\0'; /* exactly the largest message */
    assert_int_equal(sdn_send(fd, big), 0);
    char buf[SDN_MSG_MAX * 2];
    assert_int_equal(strlen(next_msg(l, buf, sizeof buf)), SDN_MSG_MAX - 1);
    /* A long status is cut to the largest message, never refused. */
    big[SDN_MSG_MAX + 6] = '\0';
    assert_int_equal(sdn_status(fd, big), 0);
    next_msg(l, buf, sizeof buf);
    assert_int_equal(strlen(buf), SDN_MSG_MAX - 1);
    assert_memory_equal(buf, "STATUS=xxx", 10);

    /* Property: any status text arrives as "STATUS=" + the text with control bytes as
     * spaces, cut at SDN_MSG_MAX - 1 bytes in all. */
    tu_seed();
    for (int iter = 0; iter < 500; iter++) {
        char text[400];
        size_t n = (size_t)(tu_rand() % 399);
        for (size_t i = 0; i < n; i++)
            text[i] = (char)(1 + tu_rand() % 255);
        text[n] = '\0';
        assert_int_equal(sdn_status(fd, text), 0);
        next_msg(l, buf, sizeof buf);
        size_t keep = n < SDN_MSG_MAX - 8 ? n : SDN_MSG_MAX - 8;
        assert_int_equal(strlen(buf), 7 + keep);
        assert_memory_equal(buf, "STATUS=", 7);
        for (size_t i = 0; i < keep; i++) {
            unsigned char c = (unsigned char)text[i];
            char want = c < 0x20 || c == 0x7f ? ' ' : (char)c;
            assert_int_equal(buf[7 + i], want);
        }
    }
    /* The listener gone: send reports the error instead of blocking or raising a signal. */
    close(l);
    assert_int_equal(sdn_ready(fd), -ECONNREFUSED);
    sdn_close(fd);
    unsetenv("NOTIFY_SOCKET");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_addresses),         cmocka_unit_test(notifies_path_socket),
        cmocka_unit_test(notifies_abstract_socket), cmocka_unit_test(open_without_socket),
        cmocka_unit_test(bounds_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
