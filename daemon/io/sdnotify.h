/* SPDX-License-Identifier: BSD-2-Clause */
/* systemd's readiness protocol (sd_notify(3)) without libsystemd: datagrams such as
 * "READY=1" sent to the AF_UNIX socket named by $NOTIFY_SOCKET.
 *
 * The socket is created and connected once, at start-up (sdn_open), before the chroot, the
 * privilege drop and the seccomp filter: afterwards sending needs only send(2) on an open
 * descriptor, never a path lookup. With no $NOTIFY_SOCKET (not started by systemd, or a unit
 * that is not Type=notify) every call is a no-op, so the daemon calls them unconditionally.
 *
 * $NOTIFY_SOCKET is either a filesystem path ("/run/systemd/notify") or, starting with '@',
 * a Linux abstract socket name ('@' stands for the leading NUL). systemd 254's "vsock:" form
 * is refused. systemd accepts a message only from the unit's main process (NotifyAccess=main):
 * the daemon must not fork after sdn_open (ntpd -n).
 */
#ifndef NTK_SDNOTIFY_H
#define NTK_SDNOTIFY_H

#include <stddef.h>

/* Longest message sent, bytes, "STATUS=" included; a longer status text is cut. */
#define SDN_MSG_MAX 256

/* Fills *addr_len bytes of *out (a struct sockaddr_un, as void * so that callers need not
 * include <sys/un.h>) from a $NOTIFY_SOCKET value. Returns 0; -EINVAL for an empty value or
 * one that is neither an absolute path nor '@'-abstract, -ENAMETOOLONG when it does not fit in
 * sun_path (107 bytes for a path, which needs its NUL; 107 for an abstract name after its
 * NUL), -EAFNOSUPPORT for "vsock:". *out and *addr_len are written only on success. */
int sdn_parse_addr(const char *value, void *out, size_t out_size, size_t *addr_len);

/* Reads $NOTIFY_SOCKET, creates a close-on-exec datagram socket connected to it and stores the
 * descriptor in *fd. Returns 0 with *fd = -1 when the variable is unset (nothing to notify),
 * 0 with *fd >= 0 when connected, or a negative errno (the address is malformed, or socket or
 * connect failed) with *fd = -1. *fd is always written. */
int sdn_open(int *fd);

/* Sends one message (text, at most SDN_MSG_MAX - 1 bytes, without its NUL) on fd, without
 * blocking and without SIGPIPE. Returns 0 (also when fd < 0: nothing to do), -EMSGSIZE for
 * a longer text, or the negative errno of send(2) (the datagram was not sent). */
int sdn_send(int fd, const char *text);

/* "READY=1": start-up is finished (ntpd: first clock update, or at once in observe mode). */
int sdn_ready(int fd);

/* "STOPPING=1": the daemon is shutting down. */
int sdn_stopping(int fd);

/* "STATUS=<text>", shown by `systemctl status`: text is cut to fit SDN_MSG_MAX and every
 * control character in it (a newline would start a new assignment) becomes a space. */
int sdn_status(int fd, const char *text);

/* Closes fd when >= 0. */
void sdn_close(int fd);

#endif /* NTK_SDNOTIFY_H */
