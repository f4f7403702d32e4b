#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Lint: the layering rule (ARCHITECTURE.md). lib/ knows nothing of the OS: libntk may not
# import sockets, poll/select, clocks, clock adjustment, process exit, logging or stdio output.
# Usage: layering.sh LIBRARY...   (shared objects or static archives)
set -euo pipefail
forbidden='^(socket|bind|connect|listen|accept4?|send|sendto|sendmsg|sendmmsg|recv|recvfrom|recvmsg|recvmmsg|poll|ppoll|select|pselect|epoll_[a-z_]+|clock_gettime|clock_settime|clock_adjtime|adjtimex|ntp_adjtime|settimeofday|gettimeofday|time|sleep|usleep|nanosleep|exit|_exit|_Exit|abort|syslog|vsyslog|openlog|printf|fprintf|vprintf|vfprintf|puts|fputs|putchar|perror|fopen|open|read|write|close|malloc_stats|getaddrinfo|gethostbyname|if_nametoindex)$'
status=0
for lib in "$@"; do
  # Undefined symbols, without symbol versions (@GLIBC_2.x) and leading underscores of
  # fortified variants kept as they are (they are different names, e.g. __printf_chk).
  syms=$(nm -u "$lib" 2>/dev/null | awk '{print $NF}' | sed 's/@.*//' | sort -u)
  fortified=$(printf '%s\n' "$syms" | sed -n 's/^__\(.*\)_chk$/\1/p')
  hits=$(printf '%s\n%s\n' "$syms" "$fortified" | grep -E "$forbidden" || true)
  if [ -n "$hits" ]; then
    echo "$lib imports symbols lib/ must not use:"
    printf '  %s\n' $hits
    status=1
  else
    echo "$lib: $(printf '%s\n' "$syms" | grep -c .) undefined symbols, none forbidden"
  fi
done
exit $status
