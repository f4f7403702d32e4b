#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Package test: `cmake --install` into a DESTDIR (prefix /usr/local) lays out exactly the
# expected files with the expected modes; the installed ntp.conf passes ntpd --check-config;
# units and ntpkit-wait name the installed programs; pkg-config and find_package(ntk) both
# build and run a client against the installed tree (shared and static).
# Usage: install.sh BUILD_DIR SOURCE_DIR "SBIN PROGRAMS" "BIN PROGRAMS" "MAN PAGES" UNITS
set -euo pipefail
build=$1 src=$2 sbin=$3 bin=$4 man=$5 units=$6
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest
p=usr/local
fail() { echo "FAIL: $*"; exit 1; }

DESTDIR=$dest cmake --install "$build" --prefix /$p >"$tmp/install.log" ||
    { cat "$tmp/install.log"; fail "cmake --install"; }

# The expected tree: "mode path" for every file, "link path" for every symbolic link.
{
    for x in $sbin; do echo "755 $p/sbin/$x"; done
    for x in $bin; do echo "755 $p/bin/$x"; done
    echo "644 $p/lib/libntk.so.0.1.0" # Debian policy: shared libraries not executable
    echo "link $p/lib/libntk.so.0"
    echo "link $p/lib/libntk.so"
    echo "644 $p/lib/libntk.a"
    for h in "$src"/lib/include/ntk/*.h; do echo "644 $p/include/ntk/${h##*/}"; done
    echo "644 $p/lib/pkgconfig/ntk.pc"
    for f in ntkConfig.cmake ntkConfigVersion.cmake ntkTargets.cmake; do
        echo "644 $p/lib/cmake/ntk/$f"
    done
    for m in $man; do echo "644 $p/share/man/man${m##*.}/$m"; done
    echo "644 $p/etc/ntp.conf"
    echo "644 $p/etc/default/ntpkit"
    for u in $units; do echo "644 $p/lib/systemd/system/$u"; done
    echo "755 $p/libexec/ntpkit/ntpkit-wait"
    echo "644 $p/lib/sysusers.d/ntpkit.conf"
    for c in ntpq ntpdig ntpmon ntpcap; do echo "644 $p/share/bash-completion/completions/$c"; done
    case " $sbin " in *" ntpleapfetch "*) echo "644 $p/share/bash-completion/completions/ntpleapfetch" ;; esac
} | sort -k2 >"$tmp/want"
(
    cd "$dest"
    find . -type f -printf '%m %P\n' | grep -v '/ntkTargets-[a-z]*\.cmake$' || true
    find . -type l -printf 'link %P\n'
) | sort -k2 >"$tmp/got"
if ! diff -u "$tmp/want" "$tmp/got"; then
    fail "installed tree differs from the expected one (- expected, + installed)"
fi
ls "$dest/$p"/lib/cmake/ntk/ntkTargets-*.cmake >/dev/null || fail "no per-configuration ntkTargets"
[ "$(readlink "$dest/$p/lib/libntk.so")" = libntk.so.0 ] || fail "libntk.so -> $(readlink "$dest/$p/lib/libntk.so")"
[ "$(readlink "$dest/$p/lib/libntk.so.0")" = libntk.so.0.1.0 ] || fail "libntk.so.0 link"
echo "tree: $(wc -l <"$tmp/want") entries as expected"

# Paths inside the generated files are the install prefix's, never the build's.
grep -qx "prefix=/$p" "$dest/$p/lib/pkgconfig/ntk.pc" || fail "ntk.pc prefix: $(head -1 "$dest/$p/lib/pkgconfig/ntk.pc")"
grep -q "^ExecStart=!/$p/sbin/ntpd -n -u ntpkit:ntpkit " "$dest/$p/lib/systemd/system/ntpd.service" ||
    fail "ntpd.service ExecStart"
grep -q "^ntpq=\${NTPQ:-/$p/bin/ntpq}$" "$dest/$p/libexec/ntpkit/ntpkit-wait" || fail "ntpkit-wait's ntpq"
if grep -rl "$build\|@NTK_" "$dest/$p/lib/systemd" "$dest/$p/libexec" "$dest/$p/lib/pkgconfig"; then
    fail "build paths or unsubstituted @NTK_...@ in the files above"
fi
out=$("$dest/$p/sbin/ntpd" --check-config -c "$dest/$p/etc/ntp.conf" 2>&1) ||
    fail "installed ntp.conf: $out"
[ "$out" = "ntpd: configuration OK: 4 server line(s), 3 restrict line(s)" ] || fail "check-config: $out"

# A second install keeps an edited configuration and puts the new one beside it.
echo "# edited" >>"$dest/$p/etc/ntp.conf"
DESTDIR=$dest cmake --install "$build" --prefix /$p >/dev/null
tail -n1 "$dest/$p/etc/ntp.conf" | grep -qx "# edited" || fail "reinstall overwrote ntp.conf"
cmp -s "$src/packaging/ntp.conf" "$dest/$p/etc/ntp.conf.ntpkit-dist" || fail "no ntp.conf.ntpkit-dist"
echo "ntp.conf: checks OK, kept on reinstall"

# The client (a heredoc, not a file of the tree: it includes no poison.h, which is not
# installed), built beside the consumer project of consumer/.
mkdir "$tmp/consumer"
cp "$src/tests/package/consumer/CMakeLists.txt" "$tmp/consumer/"
cat >"$tmp/consumer/use.c" <<'C'
/* SPDX-License-Identifier: BSD-2-Clause */
/* Uses an installed libntk: formats an NTP timestamp and names an error code. */
#include <ntk/err.h>
#include <ntk/ntime.h>
#include <ntk/sb.h>
#include <stdio.h>

int main(void)
{
    char buf[32];
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    ntk_ts_format_hex(ntk_ts_make(0xe3a5f0c1u, 0x2b3c4d5eu), &sb);
    printf("%s %s\n", ntk_sb_str(&sb), ntk_strerror(NTK_ETRUNC));
    return ntk_sb_err(&sb) != NTK_OK;
}
C

# pkg-config against the DESTDIR: its prefix moved there, as a user would relocate it.
export PKG_CONFIG_PATH=$dest/$p/lib/pkgconfig
flags=$(pkg-config --define-variable=prefix="$dest/$p" --cflags --libs ntk | sed 's/ *$//')
[ "$flags" = "-I$dest/$p/include -L$dest/$p/lib -lntk" ] || fail "pkg-config: $flags"
# shellcheck disable=SC2086
cc -std=c17 -o "$tmp/use_pc" "$tmp/consumer/use.c" $flags
want="e3a5f0c1.2b3c4d5e truncated input"
out=$(LD_LIBRARY_PATH=$dest/$p/lib "$tmp/use_pc")
[ "$out" = "$want" ] || fail "pkg-config client printed: $out"
echo "pkg-config: $flags"

# find_package(ntk): a shared and a static client; a version the tree does not have fails.
cmake -S "$tmp/consumer" -B "$tmp/cb" -DCMAKE_PREFIX_PATH="$dest/$p" \
    -DNTK_WANT_VERSION=0.1 >"$tmp/cb.log" 2>&1 || { cat "$tmp/cb.log"; fail "consumer configure"; }
grep -q "ntk 0.1.0 from $dest/$p/lib/cmake/ntk" "$tmp/cb.log" || fail "find_package found another ntk"
cmake --build "$tmp/cb" >"$tmp/cbb.log" 2>&1 || { cat "$tmp/cbb.log"; fail "consumer build"; }
for v in shared static; do
    out=$(LD_LIBRARY_PATH=$dest/$p/lib "$tmp/cb/use_$v")
    [ "$out" = "$want" ] || fail "use_$v printed: $out"
done
readelf -d "$tmp/cb/use_shared" | grep -q 'NEEDED.*\[libntk\.so\.0\]' || fail "use_shared does not need libntk.so.0"
if readelf -d "$tmp/cb/use_static" | grep -q 'libntk'; then fail "use_static needs libntk.so"; fi
if cmake -S "$tmp/consumer" -B "$tmp/cb9" -DCMAKE_PREFIX_PATH="$dest/$p" \
    -DNTK_WANT_VERSION=9.0 >/dev/null 2>&1; then
    fail "find_package(ntk 9.0) succeeded"
fi
echo "find_package(ntk): ntk::ntk and ntk::ntk_static build and run"
