/* SPDX-License-Identifier: BSD-2-Clause */
/* ntsecho: a bare UDP echo server that sends each NTS-sized request back whole as a mode-4
 * reply (origin = transmit, the extension fields untouched, no cryptography) with
 * recvmmsg/sendmmsg: the ceiling of the machine and the generator for NTS-sized datagrams. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "poison.h"

#define NTP_LEN 48
#define BATCH   64
#define PKT_MAX 2048

/* The header of the reply: mode 4, stratum 1, refid "ECHO", origin = the request's
 * transmit, receive and transmit = now (one clock reading per batch). */
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

static void ntp_now(uint8_t out[8])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t sec = (uint64_t)ts.tv_sec + 2208988800u;
    uint64_t frac = ((uint64_t)ts.tv_nsec << 32) / 1000000000u;
    uint64_t v = sec << 32 | (frac & 0xffffffffu);
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)v;
        v >>= 8;
    }
}

static int open_sock(const char *addr, const char *port)
{
    struct sockaddr_in me = {.sin_family = AF_INET};
    char *end;
    long pn = strtol(port, &end, 10);
    if (inet_pton(AF_INET, addr, &me.sin_addr) != 1 || *end != '\0' || pn < 1 || pn > 65535) {
        fputs("usage: ntsecho ADDR PORT [SECONDS]\n", stderr);
        return -1;
    }
    me.sin_port = htons((uint16_t)pn);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int buf = 4 << 20;
    if (fd < 0) {
        perror("ntsecho: socket");
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    if (bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
        perror("ntsecho: bind");
        close(fd);
        return -1;
    }
    return fd;
}

/* One batch: wait for at least one datagram, send back every mode-3 one whole. */
static int serve_batch(int fd)
{
    static uint8_t pkt[BATCH][PKT_MAX];
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
    if (r < 0)
        return errno == EINTR ? 0 : -1;
    uint8_t now8[8];
    ntp_now(now8);
    unsigned n = 0;
    for (int i = 0; i < r; i++) {
        if (in[i].msg_len < NTP_LEN || (pkt[i][0] & 7) != 3)
            continue;
        rewrite(pkt[i], now8);
        iov[i].iov_len = in[i].msg_len;
        out[n].msg_hdr = in[i].msg_hdr;
        out[n].msg_hdr.msg_controllen = 0;
        n++;
    }
    for (unsigned done = 0; done < n;) {
        int s = sendmmsg(fd, out + done, n - done, 0);
        if (s <= 0)
            break; /* a full socket buffer drops the rest, as a real server would */
        done += (unsigned)s;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fputs("usage: ntsecho ADDR PORT [SECONDS]\n", stderr);
        return 2;
    }
    int fd = open_sock(argv[1], argv[2]);
    if (fd < 0)
        return 1;
    if (argc == 4)
        alarm((unsigned)strtoul(argv[3], NULL, 10)); /* a bound on the run: SIGALRM ends it */
    for (;;) {
        if (serve_batch(fd) < 0) {
            perror("ntsecho: recvmmsg");
            return 1;
        }
    }
}
