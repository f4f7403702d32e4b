#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# ntpkit-wait: waits until ntpd is synchronised, asking it with ntpq over mode 6 ("rv 0 leap":
# any leap indicator but 11, "alarm", means synchronised, as NTPsec's ntpwait decides).
# Usage: ntpkit-wait [-n TRIES] [-s SECONDS] [-v] [HOST]; HOST defaults to 127.0.0.1.
# Exit status: 0 synchronised, 1 not after TRIES tries, 2 usage error. $NTPQ names the ntpq
# to run (default: the one installed beside this script's bin directory, else ntpq on PATH).
set -u
tries=100
sleep_s=6
verbose=0
while getopts n:s:v opt; do
    case $opt in
    n) tries=$OPTARG ;;
    s) sleep_s=$OPTARG ;;
    v) verbose=1 ;;
    *) echo "usage: ntpkit-wait [-n TRIES] [-s SECONDS] [-v] [HOST]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
host=${1:-127.0.0.1}
case $tries in '' | *[!0-9]*) echo "ntpkit-wait: -n $tries: not a count" >&2; exit 2 ;; esac
case $sleep_s in '' | *[!0-9]*) echo "ntpkit-wait: -s $sleep_s: not seconds" >&2; exit 2 ;; esac
ntpq=${NTPQ:-@NTK_BINDIR@/ntpq}
[ -x "$ntpq" ] || ntpq=ntpq

i=0
while [ "$i" -lt "$tries" ]; do
    out=$("$ntpq" -n -c "rv 0 leap" "$host" 2>/dev/null)
    case $out in
    *leap=00* | *leap=01* | *leap=10*)
        [ "$verbose" -eq 1 ] && echo "ntpkit-wait: synchronised ($out)"
        exit 0 ;;
    esac
    [ "$verbose" -eq 1 ] && echo "ntpkit-wait: not yet synchronised (${out:-no answer})"
    i=$((i + 1))
    [ "$i" -lt "$tries" ] && sleep "$sleep_s"
done
echo "ntpkit-wait: ntpd at $host not synchronised after $tries tries" >&2
exit 1
