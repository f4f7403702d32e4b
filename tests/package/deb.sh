#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Package test: `cpack -G DEB` builds ntpkit_<version>_<arch>.deb whose control fields
# (dpkg -I) make it a time daemon like ntpsec, whose contents (dpkg -c) are the expected
# files, and which installs into a scratch Debian root: as root, in a private mount namespace,
# the root is this machine's /usr and /etc under writable overlays, `dpkg --root` unpacks the
# package and runs its postinst there (chrooted: system user ntpkit, /var/lib/ntpkit, the
# enablement symlink of ntpd.service), the installed ntpd checks the installed /etc/ntp.conf,
# and a purge removes it all but the user. systemd itself is not run (no systemd as PID 1
# here). Without root or mount namespaces, that last part is skipped and says so.
# Usage: deb.sh BUILD_DIR SOURCE_DIR VERSION
set -euo pipefail
build=$1 src=$2 version=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
arch=$(dpkg --print-architecture)
deb=$tmp/ntpkit_${version}_$arch.deb

(cd "$build" && cpack -G DEB -B "$tmp" >"$tmp/cpack.log" 2>&1) ||
    { cat "$tmp/cpack.log"; fail "cpack -G DEB"; }
[ -f "$deb" ] || fail "no $deb: $(ls "$tmp")"
echo "built ${deb##*/} ($(stat -c %s "$deb") bytes)"

# Control fields.
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = ntpkit ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version)"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture: $(field Architecture)"
[ "$(field Provides)" = time-daemon ] || fail "Provides: $(field Provides)"
for f in Conflicts Replaces; do
    for pkg in time-daemon ntp ntpsec ntpsec-ntpdig; do
        field "$f" | tr -d ' ' | tr ',' '\n' | grep -qx "$pkg" || fail "$f lacks $pkg: $(field "$f")"
    done
done
field Conflicts | grep -q chrony || fail "Conflicts lacks chrony"
deps=$(field Depends)
for d in adduser 'libc6 (>= ' 'libssl3 (>= ' 'libcap2 (>= ' 'libseccomp2 (>= '; do
    case $deps in *"$d"*) ;; *) fail "Depends lacks '$d': $deps" ;; esac
done
case $deps in *libntk*) fail "Depends names the package's own libntk: $deps" ;; esac
[ "$(field Section)" = net ] || fail "Section: $(field Section)"
dpkg-deb --ctrl-tarfile "$deb" | tar -t | sort >"$tmp/ctrl"
for c in ./conffiles ./postinst ./postrm ./prerm ./md5sums ./control; do
    grep -qx "$c" "$tmp/ctrl" || fail "control archive lacks $c"
done
dpkg-deb --info "$deb" conffiles | sort >"$tmp/conffiles"
printf '/etc/default/ntpkit\n/etc/ntp.conf\n' | cmp -s - "$tmp/conffiles" ||
    fail "conffiles: $(cat "$tmp/conffiles")"
echo "dpkg -I: Provides time-daemon, Conflicts/Replaces ntp ntpsec; Depends: $deps"

# Contents: the programs, library, units, configuration and pages, owned by root.
dpkg -c "$deb" >"$tmp/contents"
for f in ./usr/sbin/ntpd ./usr/bin/ntpq ./usr/bin/ntpdig ./usr/lib/libntk.so.0.1.0 \
    ./usr/lib/libntk.a ./usr/include/ntk/pkt.h ./usr/lib/pkgconfig/ntk.pc \
    ./usr/lib/cmake/ntk/ntkConfig.cmake ./etc/ntp.conf ./etc/default/ntpkit \
    ./lib/systemd/system/ntpd.service ./lib/systemd/system/ntpkit-wait.service \
    ./usr/libexec/ntpkit/ntpkit-wait ./usr/share/man/man8/ntpd.8 \
    ./usr/share/man/man5/ntp.conf.5 ./usr/share/bash-completion/completions/ntpq \
    ./usr/lib/sysusers.d/ntpkit.conf; do
    grep -q " $f\$" "$tmp/contents" || fail "dpkg -c: no $f"
done
if awk '{print $2}' "$tmp/contents" | grep -vqx root/root; then fail "a file not owned by root"; fi
grep -q '^-rwxr-xr-x .* ./usr/sbin/ntpd$' "$tmp/contents" || fail "ntpd mode"
grep -q '^-rw-r--r-- .* ./etc/ntp.conf$' "$tmp/contents" || fail "ntp.conf mode"
if grep -q ' ./usr/local/\| ./tmp/\| ./root/' "$tmp/contents"; then fail "paths outside /usr /etc /lib"; fi
echo "dpkg -c: $(grep -c '^-' "$tmp/contents") files, all root-owned, in place"

# Installation into a scratch root.
if [ "$(id -u)" -ne 0 ] || ! unshare -m true 2>/dev/null; then
    echo "SKIPPED the installation into a scratch root (needs root and mount namespaces)"
    exit 0
fi
cat >"$tmp/inroot.sh" <<'SH'
set -euo pipefail
tmp=$1 deb=$2 src=$3
R=$tmp/root
mkdir -p "$R"/{usr,etc,dev,run,tmp,var/lib/dpkg/{info,updates}} "$tmp"/{ou,ow,oe,we}
for l in bin sbin lib lib64; do ln -s "usr/$l" "$R/$l"; done
: >"$R/var/lib/dpkg/status"
: >"$R/var/lib/dpkg/available"
mount -t overlay overlay -o "lowerdir=/usr,upperdir=$tmp/ou,workdir=$tmp/ow" "$R/usr"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$tmp/oe,workdir=$tmp/we" "$R/etc"
mount --rbind /dev "$R/dev"
rm -f "$R/etc/ntp.conf" "$R/etc/default/ntpkit"
if grep -q '^ntpkit:' "$R/etc/passwd"; then echo "FAIL: ntpkit user exists already"; exit 1; fi
dpkg --root="$R" --force-depends -i "$deb" >"$tmp/dpkg.log" 2>&1 ||
    { cat "$tmp/dpkg.log"; echo "FAIL: dpkg -i"; exit 1; }
dpkg --root="$R" -s ntpkit | grep -qx 'Status: install ok installed' ||
    { echo "FAIL: not installed"; exit 1; }
dpkg --root="$R" -s ntpkit | grep -q '^ /etc/ntp.conf [0-9a-f]\{32\}$' ||
    { echo "FAIL: /etc/ntp.conf is not a registered conffile"; exit 1; }
cmp -s "$src/packaging/ntp.conf" "$R/etc/ntp.conf" || { echo "FAIL: /etc/ntp.conf"; exit 1; }
line=$(grep '^ntpkit:' "$R/etc/passwd") || { echo "FAIL: no ntpkit user"; exit 1; }
uid=$(echo "$line" | cut -d: -f3)
[ "$uid" -lt 1000 ] || { echo "FAIL: ntpkit is not a system user: $line"; exit 1; }
case $line in *:/nonexistent:/usr/sbin/nologin) ;; *) echo "FAIL: user $line"; exit 1 ;; esac
grep -q '^ntpkit:' "$R/etc/group" || { echo "FAIL: no ntpkit group"; exit 1; }
[ "$(stat -c '%u %a' "$R/var/lib/ntpkit")" = "$uid 755" ] ||
    { echo "FAIL: /var/lib/ntpkit: $(stat -c '%U %a' "$R/var/lib/ntpkit")"; exit 1; }
[ "$(readlink "$R/etc/systemd/system/multi-user.target.wants/ntpd.service")" = \
    /lib/systemd/system/ntpd.service ] || { echo "FAIL: ntpd.service not enabled"; exit 1; }
out=$(chroot "$R" /usr/sbin/ntpd --check-config 2>&1) || { echo "FAIL: ntpd in the root: $out"; exit 1; }
echo "installed: $(chroot "$R" /usr/sbin/ntpd --version 2>&1 | head -n1); $out"
echo "postinst: user $line; /var/lib/ntpkit owned by it; ntpd.service enabled"
dpkg --root="$R" --purge ntpkit >"$tmp/purge.log" 2>&1 || { cat "$tmp/purge.log"; echo "FAIL: purge"; exit 1; }
for f in /usr/sbin/ntpd /etc/ntp.conf /var/lib/ntpkit /lib/systemd/system/ntpd.service \
    /etc/systemd/system/multi-user.target.wants/ntpd.service; do
    if [ -e "$R$f" ] || [ -L "$R$f" ]; then echo "FAIL: $f survived the purge"; exit 1; fi
done
grep -q '^ntpkit:' "$R/etc/passwd" || { echo "FAIL: purge removed the user"; exit 1; }
echo "purge: files, configuration and state gone, user kept"
SH
unshare -m --propagation private bash "$tmp/inroot.sh" "$tmp" "$deb" "$src"
