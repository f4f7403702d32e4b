#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Lint: cppcheck finds no warning, portability or performance problem in lib/, daemon/ and
# cli/.
# Usage: cppcheck.sh SOURCE_DIR
set -euo pipefail
src=$1
command -v cppcheck >/dev/null || { echo "cppcheck not found: apt-get install cppcheck"; exit 1; }
cd "$src"
cppcheck --quiet --enable=warning,portability,performance --inline-suppr --std=c11 \
  --error-exitcode=1 -D__GNUC__ -I lib/include -I include -I cli/common -I daemon/os -I daemon/core \
  lib/ daemon/ cli/
echo "cppcheck: lib/ daemon/ cli/ clean ($(find lib daemon cli -name '*.c' | wc -l) files)"
