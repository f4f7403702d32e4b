#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Lint: the programs and the library we install are hardened (cmake/NtkFlags.cmake), as far as
# the ELF files show it: PIE executables, full RELRO (GNU_RELRO + BIND_NOW), a non-executable
# stack, the stack protector and _FORTIFY_SOURCE (imports of __stack_chk_fail and __*_chk: every
# file we check has buffers), and CET (-fcf-protection=full: the x86 IBT and SHSTK feature
# note) where the toolchain emits it. -fstack-clash-protection leaves no mark in the ELF file
# (it only adds page probes to large stack frames): NtkFlags.cmake turns it on where the
# compiler takes it, and nothing here can verify it. The fortify level (3 or 2) cannot be told apart in the binary.
# Usage: hardening.sh FILE...   Environment: NTK_SANITIZED=1 (sanitizer build: no fortify,
# and the sanitizer runtimes carry no CET note), NTK_FORTIFY (the _FORTIFY_SOURCE level the
# build uses, 0 for none: Debug builds, or clang, see cmake/NtkFlags.cmake),
# NTK_CC (the compiler, to ask whether it emits the CET note at all), NTK_STATIC (our static
# library, whose objects must all carry the CET note).
set -euo pipefail
status=0
check() { # file, description, command...
  local f=$1 what=$2
  shift 2
  if "$@"; then echo "ok   $what: $f"; else
    echo "FAIL $what: $f"
    status=1
  fi
}

# Does this toolchain put IBT and SHSTK in the note of a PIE, and of a shared library, linked
# with -fcf-protection=full? Only if every object linked in has them, crt*.o included: Debian
# 12's crt1.o and crti.o have not (glibc built without CET), so there neither gets the note
# and only our objects are checked (below).
cet_exe=0
cet_so=0
if [ "${NTK_SANITIZED:-0}" != 1 ] && [ -n "${NTK_CC:-}" ] && [ "$(uname -m)" = x86_64 ]; then
  t=$(mktemp -d)
  echo 'int main(void) { return 0; }' >"$t/t.c"
  cet_note() { readelf -nW "$1" | grep -q 'x86 feature:.*IBT.*SHSTK'; }
  "$NTK_CC" -fcf-protection=full -fPIE -pie -o "$t/t" "$t/t.c" 2>/dev/null && cet_note "$t/t" &&
    cet_exe=1
  "$NTK_CC" -fcf-protection=full -fPIC -shared -o "$t/t.so" "$t/t.c" 2>/dev/null &&
    cet_note "$t/t.so" && cet_so=1
  rm -rf "$t"
fi
[ "$cet_exe" = 1 ] || echo "skip CET (IBT, SHSTK) note of executables: the toolchain emits none"
[ "$cet_so" = 1 ] || echo "skip CET (IBT, SHSTK) note of libraries: the toolchain emits none"
# Whatever the link does, the compiler must have marked every object of ours: each member of
# the static library (NTK_STATIC) carries the note when the compiler emits it for an object.
if [ "${NTK_SANITIZED:-0}" != 1 ] && [ -n "${NTK_CC:-}" ] && [ -n "${NTK_STATIC:-}" ] &&
  [ "$(uname -m)" = x86_64 ]; then
  t=$(mktemp -d)
  echo 'int f(void) { return 0; }' >"$t/t.c"
  if "$NTK_CC" -fcf-protection=full -c -o "$t/t.o" "$t/t.c" 2>/dev/null &&
    readelf -nW "$t/t.o" | grep -q 'x86 feature:.*IBT.*SHSTK'; then
    members=$(ar t "$NTK_STATIC" | grep -c '\.o$')
    marked=$(readelf -nW "$NTK_STATIC" | grep -c 'x86 feature:.*IBT.*SHSTK' || true)
    check "$NTK_STATIC" "CET note in every object ($marked of $members)" [ "$marked" = "$members" ]
  fi
  rm -rf "$t"
fi

for f in "$@"; do
  check "$f" "full RELRO (GNU_RELRO)" bash -c "readelf -lW '$f' | grep -q GNU_RELRO"
  check "$f" "full RELRO (BIND_NOW)" bash -c "readelf -dW '$f' | grep -Eq 'BIND_NOW|FLAGS.*NOW'"
  check "$f" "non-executable stack" bash -c "readelf -lW '$f' | grep GNU_STACK | grep -qv RWE"
  check "$f" "position independent (ELF type DYN)" bash -c "readelf -hW '$f' | grep -q 'DYN '"
  cet=$cet_so
  case $f in
  *.so | *.so.*) ;;
  *)
    cet=$cet_exe
    check "$f" "PIE executable (FLAGS_1 PIE)" bash -c "readelf -dW '$f' | grep -Eq 'FLAGS_1.*PIE'"
    ;;
  esac
  check "$f" "stack protector (__stack_chk_fail)" bash -c "nm -D '$f' | grep -q __stack_chk_fail"
  # (__stack_chk_fail does not count: the pattern wants a name ending in _chk, as __memcpy_chk.)
  # Not in sanitizer builds, where the sanitizers check more and fortify is off, nor in Debug.
  if [ "${NTK_SANITIZED:-0}" != 1 ] && [ "${NTK_FORTIFY:-2}" = 0 ]; then
    echo "skip _FORTIFY_SOURCE: not used by this build (NTK_FORTIFY=0): $f"
  fi
  if [ "${NTK_SANITIZED:-0}" != 1 ] && [ "${NTK_FORTIFY:-2}" != 0 ]; then
    check "$f" "_FORTIFY_SOURCE (__*_chk imports)" \
      bash -c "nm -D '$f' | grep -Eq ' U __[a-z0-9_]+_chk(@|\$)'"
  fi
  if [ "$cet" = 1 ]; then
    check "$f" "CET (x86 feature: IBT, SHSTK)" \
      bash -c "readelf -nW '$f' | grep -q 'x86 feature:.*IBT.*SHSTK'"
  fi
done
exit $status
