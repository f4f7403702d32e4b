#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Package test: each bash completion (packaging/bash-completion/<prog>) offers exactly the
# options the program's --help lists, and completes them in a real bash.
# Usage: completions.sh SOURCE_DIR PROG=PATH...
set -euo pipefail
src=$1
shift
fail() { echo "FAIL: $*"; exit 1; }
for pp in "$@"; do
    prog=${pp%%=*} exe=${pp#*=}
    comp=$src/packaging/bash-completion/$prog
    # --help: the option column (before the first run of two spaces) of lines starting
    # with blanks and a dash; every -x and --word in it.
    help=$("$exe" --help 2>&1 | sed -n 's/^ \{1,\}\(-.*\)$/\1/p' | sed 's/  .*//' |
        grep -oE -- '(^|[ ,])--?[A-Za-z0-9][A-Za-z0-9.-]*' | tr -d ' ,' | sort -u)
    opts=$(sed -n 's/^ *local opts="\(.*\)"$/\1/p' "$comp" | tr ' ' '\n' | sort -u)
    if [ -z "$help" ] || [ -z "$opts" ]; then fail "$prog: no options parsed"; fi
    if [ "$help" != "$opts" ]; then
        diff <(echo "$help") <(echo "$opts") || true
        fail "$prog: completion options differ from --help (< help, > completion)"
    fi
    # In bash: "--" completes to every long option, and "--he" to --help.
    got=$(bash -c "source '$comp'; COMP_WORDS=($prog --he); COMP_CWORD=1; _$prog; echo \"\${COMPREPLY[*]}\"")
    [ "$got" = "--help" ] || fail "$prog: '--he' completed to '$got'"
    echo "$prog: $(echo "$opts" | wc -l) options, as --help lists them"
done
