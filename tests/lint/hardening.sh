#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Lint: binaries are hardened: PIE executables, full RELRO (GNU_RELRO + BIND_NOW), a
# non-executable stack, and stack protector / fortify references where the code has buffers.
# Usage: hardening.sh SHARED_LIB EXECUTABLE...
set -euo pipefail
status=0
check() { # file, description, command...
  local f=$1 what=$2; shift 2
  if "$@"; then echo "ok   $what: $f"; else echo "FAIL $what: $f"; status=1; fi
}
for f in "$@"; do
  check "$f" "full RELRO (GNU_RELRO)" bash -c "readelf -lW '$f' | grep -q GNU_RELRO"
  check "$f" "full RELRO (BIND_NOW)" bash -c "readelf -dW '$f' | grep -Eq 'BIND_NOW|FLAGS.*NOW'"
  check "$f" "non-executable stack" bash -c "readelf -lW '$f' | grep GNU_STACK | grep -qv RWE"
  check "$f" "position independent (ELF type DYN)" bash -c "readelf -hW '$f' | grep -q 'DYN '"
done
# The library has buffers on its stack: the protector must be in.
check "$1" "stack protector" bash -c "nm -D '$1' | grep -q __stack_chk_fail"
# _FORTIFY_SOURCE: the library's bounded formatting goes through the checked variants.
# (Not in sanitizer builds, where the sanitizers check more and fortify is off.)
if [ "${NTK_SANITIZED:-0}" != 1 ]; then
  check "$1" "_FORTIFY_SOURCE (__*_chk imports)" bash -c "nm -D '$1' | grep -q '__.*_chk'"
fi
exit $status
