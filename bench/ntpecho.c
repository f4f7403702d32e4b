/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpecho: a bare UDP echo server that turns each request into a mode-4 reply (origin =
 * transmit) with recvmmsg/sendmmsg and no NTP logic, to show the ceiling of the machine and
 * the load generator. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "poison.h"

#define NTP_LEN         48
#define BATCH           64
#define NTP_UNIX_OFFSET 2208988800u /* seconds from 1900 to 1970 (RFC 5905 section 6) */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void put_ntp_now(uint8_t *p)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint32_t sec = (uint32_t)ts.tv_sec + NTP_UNIX_OFFSET;
    uint32_t frac = (uint32_t)(((uint64_t)ts.tv_nsec << 32) / 1000000000u);
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(sec >> (24 - 8 * i));
        p[4 + i] = (uint8_t)(frac >> (24 - 8 * i));
    }
}

/* The reply: mode 4, stratum 1, refid "ECHO", origin = the request's transmit, receive and
 * transmit = now (one clock reading per batch). */
static void rewrite(uint8_t *p, const uint8_t *now8)
{
    p[0] = (uint8_t)((p[0] & 0x38) | 4);
    p[1] = 1;
    p[3] = (uint8_t)-20;
    memset(p + 4, 0, 8);
    memcpy(p + 12, "ECHO", 4);
    memcpy(p + 24, p + 40, 8);
    memcpy(p + 16, now8, 8);
    memcpy(p + 32, now8, 8);
    memcpy(p + 40, now8, 8);
}

static int open_sock(const char *addr, const char *port)
{
    struct sockaddr_in me = {.sin_family = AF_INET};
    char *end;
    long pn = strtol(port, &end, 10);
    if (inet_pton(AF_INET, addr, &me.sin_addr) != 1 || *end != '\0' || pn < 1 || pn > 65535) {
        fputs("usage: ntpecho ADDR PORT [SECONDS]\n", stderr);
        return -1;
    }
    me.sin_port = htons((uint16_t)pn);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int buf = 4 << 20;
    if (fd < 0) {
        perror("ntpecho: socket");
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    if (bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
        perror("ntpecho: bind");
        close(fd);
        return -1;
    }
    return fd;
}

/* One batch: wait for at least one datagram, answer all that were read. */
static int serve_batch(int fd, uint64_t *replies)
{
    static uint8_t pkt[BATCH][128];
    static struct sockaddr_in peer[BATCH];
    static struct iovec iov[BATCH];
    static struct mmsghdr in[BATCH], out[BATCH];
    for (unsigned i = 0; i < BATCH; i++) {
        iov[i] = (struct iovec){.iov_base = pkt[i], .iov_len = sizeof pkt[i]};
        in[i].msg_hdr = (struct msghdr){.msg_name = &peer[i],
                                        .msg_namelen = sizeof peer[i],
                                        .msg_iov = &iov[i],
                                        .msg_iovlen = 1};
    }
    int r = recvmmsg(fd, in, BATCH, MSG_WAITFORONE, NULL);
    if (r < 0) {
        return errno == EINTR ? 0 : -1;
    }
    uint8_t now8[8];
    put_ntp_now(now8);
    unsigned n = 0;
    for (int i = 0; i < r; i++) {
        if (in[i].msg_len < NTP_LEN || (pkt[i][0] & 7) != 3) {
            continue;
        }
        rewrite(pkt[i], now8);
        iov[i].iov_len = NTP_LEN;
        out[n].msg_hdr = in[i].msg_hdr;
        out[n].msg_hdr.msg_controllen = 0;
        n++;
    }
    for (unsigned done = 0; done < n;) {
        int s = sendmmsg(fd, out + done, n - done, 0);
        if (s <= 0) {
            break; /* a full socket buffer drops the rest, as a real server would */
        }
        done += (unsigned)s;
        *replies += (uint64_t)s;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fputs(
            "usage: ntpecho ADDR PORT [SECONDS]   (stops on SIGTERM/SIGINT or after SECONDS, "
            "default 3600)\n",
            stderr);
        return 2;
    }
    int fd = open_sock(argv[1], argv[2]);
    if (fd < 0) {
        return 1;
    }
    unsigned limit = argc == 4 ? (unsigned)strtoul(argv[3], NULL, 10) : 3600;
    struct sigaction sa = {.sa_handler =
                               on_signal}; /* no SA_RESTART: recvmmsg returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    alarm(limit);
    uint64_t replies = 0;
    while (!stop) {
        if (serve_batch(fd, &replies) < 0) {
            perror("ntpecho: recvmmsg");
            return 1;
        }
    }
    fprintf(stderr, "ntpecho: %llu replies\n", (unsigned long long)replies);
    close(fd);
    return 0;
}
