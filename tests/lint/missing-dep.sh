#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Lint: a missing dependency stops configure with the Debian package to install. pkg-config
# is pointed at an empty directory, so it finds nothing, and the message must name
# libssl-dev (the first dependency configure looks for).
# Usage: missing-dep.sh SOURCE_DIR
set -euo pipefail
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/empty"
if PKG_CONFIG_LIBDIR="$tmp/empty" PKG_CONFIG_PATH="" \
   cmake -S "$src" -B "$tmp/build" >"$tmp/log" 2>&1; then
  echo "configure succeeded without any pkg-config module"; exit 1
fi
# CMake wraps long messages: compare with the line breaks folded.
msg=$(tr '\n' ' ' <"$tmp/log" | tr -s ' ')
case "$msg" in
  *"apt-get install libssl-dev"*) ;;
  *) cat "$tmp/log"; exit 1 ;;
esac
echo "configure stops with: $(grep -o 'ntpkit needs.*' <<<"$msg" | sed 's/ Call Stack.*//')"
