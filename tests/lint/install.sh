#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Lint: `cmake --install` lays out libntk (shared + static), its headers under include/ntk/ and
# ntk.pc, and a program builds against it through pkg-config alone.
# Usage: install.sh BUILD_DIR
set -euo pipefail
build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
libdir=$(find "$tmp/prefix" -name ntk.pc -printf '%h\n' | head -n1)
[ -n "$libdir" ] || { echo "ntk.pc not installed"; exit 1; }
for f in "$libdir/../libntk.so" "$libdir/../libntk.a" "$tmp/prefix/include/ntk/buf.h"; do
  [ -e "$f" ] || { echo "missing after install: $f"; exit 1; }
done
cat > "$tmp/use.c" <<'C'
#include <ntk/err.h>
#include <ntk/ntime.h>
#include <stdio.h>
int main(void)
{
    char buf[32];
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    ntk_ts_format_hex(ntk_ts_make(0xe3a5f0c1u, 0x2b3c4d5eu), &sb);
    puts(ntk_sb_str(&sb));
    return ntk_sb_err(&sb) != NTK_OK;
}
C
export PKG_CONFIG_PATH="$libdir"
sed -i "s|^prefix=.*|prefix=$tmp/prefix|" "$libdir/ntk.pc"
# shellcheck disable=SC2046
cc -std=c17 -o "$tmp/use" "$tmp/use.c" $(pkg-config --cflags --libs ntk)
out=$(LD_LIBRARY_PATH="$libdir/.." "$tmp/use")
[ "$out" = "e3a5f0c1.2b3c4d5e" ] || { echo "unexpected output: $out"; exit 1; }
echo "installed libntk builds and runs a client: $out"
