#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Lint: every public header of libntk compiles on its own (it includes what it uses), in
# strict ISO C17 with warnings as errors, as a user of the installed library would meet it.
# Usage: headers.sh SOURCE_DIR [CC]
set -euo pipefail
src=$1
cc=${2:-cc}
n=0
for h in "$src"/lib/include/ntk/*.h; do
  printf '#include "ntk/%s"\n' "$(basename "$h")" |
    "$cc" -std=c17 -Wall -Wextra -Werror -pedantic -I "$src/lib/include" -x c -fsyntax-only -
  n=$((n + 1))
done
echo "public headers: $n compile on their own"
