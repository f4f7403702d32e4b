#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Package test: the installed systemd units pass `systemd-analyze verify` without a single
# warning (it exits 0 on unknown keys and bad values, so any output fails), with ExecStart
# pointing into a DESTDIR install; the leap-fetch units (not installed until ntpleapfetch
# exists) are verified from their templates with a stand-in program. Then the lines the
# least-privilege design rests on are checked word for word, and the sysusers.d file with
# systemd-sysusers --dry-run. Skipped (77) without systemd-analyze.
# Usage: units.sh BUILD_DIR SOURCE_DIR UNIT_TYPE UNITS
set -euo pipefail
build=$1 src=$2 type=$3 units=$4
command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
dest=$tmp/dest
p=usr/local
DESTDIR=$dest cmake --install "$build" --prefix /$p >/dev/null
mkdir "$tmp/u"
for u in $units; do
    sed "s|/$p/|$dest/$p/|g" "$dest/$p/lib/systemd/system/$u" >"$tmp/u/$u"
done
printf '#!/bin/sh\nexit 0\n' >"$tmp/ntpleapfetch"
chmod 755 "$tmp/ntpleapfetch"
sed -e "s|@NTK_SBINDIR@|$tmp|" "$src/packaging/systemd/ntpkit-leapfetch.service.in" \
    >"$tmp/u/ntpkit-leapfetch.service"
cp "$src/packaging/systemd/ntpkit-leapfetch.timer" "$tmp/u/"
mapfile -t files < <(cd "$tmp/u" && ls)
out=$(cd "$tmp/u" && systemd-analyze verify --man=no "${files[@]/#/./}" 2>&1) ||
    fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify warned: $out"
list="${files[*]}"
echo "systemd-analyze verify: clean for $list"

# The design, word for word (docs/units.md).
want() { grep -qxF "$2" "$tmp/u/$1" || fail "$1 lacks: $2"; }
want ntpd.service "Type=$type"
want ntpd.service "CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_SYS_TIME CAP_SETUID CAP_SETGID"
want ntpd.service "ExecStart=!$dest/$p/sbin/ntpd -n -u ntpkit:ntpkit \$NTPD_OPTS"
want ntpd.service "ProtectSystem=strict"
want ntpd.service "StateDirectory=ntpkit"
want ntpd.service "LogsDirectory=ntpstats"
want ntpd.service "NoNewPrivileges=yes"
want ntpd.service "Before=time-sync.target"
want ntpkit-wait.service "Before=time-sync.target"
want ntpkit-wait.service "Requisite=ntpd.service"
want ntpkit-wait.service "CapabilityBoundingSet="
want ntpkit-wait.service "ExecStart=$dest/$p/libexec/ntpkit/ntpkit-wait -n 180 -s 1"
if [ -f "$tmp/u/ntpkit_exporter.service" ]; then
    want ntpkit_exporter.service "CapabilityBoundingSet="
    want ntpkit_exporter.service "DynamicUser=yes"
fi
want ntpkit-leapfetch.service "User=ntpkit"
want ntpkit-leapfetch.timer "Persistent=true"
# Every [Service] of ours is sandboxed: no unit without these.
for u in "${files[@]}"; do
    case $u in *.service) ;; *) continue ;; esac
    for k in ProtectSystem=strict ProtectHome=yes PrivateTmp=yes NoNewPrivileges=yes; do
        want "$u" "$k"
    done
done
echo "units: least-privilege lines present"

# sysusers.d: systemd-sysusers would create exactly the user and group ntpkit (dry run, in
# an empty root), for installs without the .deb's postinst.
mkdir -p "$tmp/sr/etc"
: >"$tmp/sr/etc/passwd"
: >"$tmp/sr/etc/group"
out=$(systemd-sysusers --dry-run --root="$tmp/sr" "$dest/$p/lib/sysusers.d/ntpkit.conf" 2>&1) ||
    fail "systemd-sysusers: $out"
case $out in
*"Creating group 'ntpkit'"*"Creating user 'ntpkit' (ntpkit time daemon)"*) ;;
*) fail "systemd-sysusers would not create ntpkit: $out" ;;
esac
echo "sysusers.d: creates user and group ntpkit"
