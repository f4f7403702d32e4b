/* SPDX-License-Identifier: BSD-2-Clause */
/* systemd readiness notification over $NOTIFY_SOCKET, without libsystemd (sdnotify.h). */
#include "sdnotify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "poison.h"

int sdn_parse_addr(const char *value, void *out, size_t out_size, size_t *addr_len)
{
    struct sockaddr_un sa;
    size_t len = value != NULL ? strnlen(value, sizeof sa.sun_path + 1) : 0;
    if (len == 0)
        return -EINVAL;
    if (strncmp(value, "vsock:", 6) == 0)
        return -EAFNOSUPPORT;
    if (value[0] != '/' && value[0] != '@')
        return -EINVAL;
    /* A path needs room for its NUL; an abstract name's '@' becomes the leading NUL. */
    if (len >= sizeof sa.sun_path + (value[0] == '@' ? 1 : 0))
        return -ENAMETOOLONG;
    if (out_size < sizeof sa)
        return -EINVAL;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, value, len);
    size_t used = offsetof(struct sockaddr_un, sun_path) + len;
    if (value[0] == '@')
        sa.sun_path[0] = '\0'; /* abstract: the length, not a NUL, ends the name */
    else
        used += 1; /* the path's NUL */
    memcpy(out, &sa, sizeof sa);
    *addr_len = used;
    return 0;
}

int sdn_open(int *fd)
{
    *fd = -1;
    const char *value = getenv("NOTIFY_SOCKET");
    if (value == NULL)
        return 0;
    struct sockaddr_un sa;
    size_t alen = 0;
    int rc = sdn_parse_addr(value, &sa, sizeof sa, &alen);
    if (rc != 0)
        return rc;
    int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    if (connect(s, (const struct sockaddr *)&sa, (socklen_t)alen) != 0) {
        rc = -errno;
        close(s);
        return rc;
    }
    *fd = s;
    return 0;
}

int sdn_send(int fd, const char *text)
{
    if (fd < 0)
        return 0;
    size_t len = strnlen(text, SDN_MSG_MAX);
    if (len >= SDN_MSG_MAX)
        return -EMSGSIZE;
    ssize_t n = send(fd, text, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0)
        return -errno;
    return (size_t)n == len ? 0 : -EMSGSIZE;
}

int sdn_ready(int fd)
{
    return sdn_send(fd, "READY=1");
}

int sdn_stopping(int fd)
{
    return sdn_send(fd, "STOPPING=1");
}

int sdn_status(int fd, const char *text)
{
    static const char key[] = "STATUS=";
    char msg[SDN_MSG_MAX];
    size_t k = sizeof key - 1;
    memcpy(msg, key, k);
    size_t len = strnlen(text, sizeof msg - 1 - k);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        msg[k + i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    msg[k + len] = '\0';
    return sdn_send(fd, msg);
}

void sdn_close(int fd)
{
    if (fd >= 0)
        close(fd);
}
