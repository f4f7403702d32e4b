#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Lint: ntp.conf(5) documents what the configuration parser accepts, no more and no less.
#  (a) every directive of the parser's table (directives[] in daemon/io/conf_lex.c) is a
#      directive heading of the built page, and every directive heading of the page is in that
#      table. A heading is a definition term (the text lines before `.RS`) at the outer level
#      of a section other than FILES and REFUSED DIRECTIVES, starting with a bold word: the
#      directive.
#  (b) every refused word (refused[] in conf_lex.c) is a bold word of a term of the section
#      REFUSED DIRECTIVES, and every such word is refused by the parser.
#  (c) the options of server (conf_srv.c: server_flag, server_valued), the restrict flags
#      (res_flags[]) and the options of tos, tinker, mru, discard, limit and enable
#      (conf_sys.c) are bold words of the terms nested under their directive's heading.
#  (d) `mandoc -Tlint` prints nothing about the page, and neither does groff through
#      `man --warnings` (skipped, and said so, when man-db is not installed).
# Every table is read from the sources, and a table that yields fewer words than it plainly
# has is an error (the sources changed shape: fix this script), never a silent pass.
# Usage: confpage.sh SOURCE_DIR PAGE
set -euo pipefail
export LC_ALL=C
[ $# -eq 2 ] || { echo "usage: $0 SOURCE_DIR PAGE" >&2; exit 2; }
src=$1 page=$2
lex=$src/daemon/io/conf_lex.c srv=$src/daemon/io/conf_srv.c sys=$src/daemon/io/conf_sys.c
for f in "$lex" "$srv" "$sys"; do
  [ -r "$f" ] || { echo "$f: cannot read it"; exit 1; }
done
if [ ! -r "$page" ]; then
  echo "$page: no such page (is scdoc installed? apt-get install scdoc)"; exit 1
fi
command -v mandoc >/dev/null || { echo "mandoc not found: apt-get install mandoc"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bad=0

# The lines of a C array initialiser `NAME[] = {` ... `};` of FILE.
array() {
  awk -v name="$2" 'index($0, name "[] = {") { on = 1 } on { print } on && /^ *};/ { exit }' "$1"
}
# The body of function NAME of FILE (from its definition line to the closing brace).
body() {
  awk -v name="$2" '/^[A-Za-z]/ && (index($0, " " name "(") || index($0, "*" name "(")) { on = 1 }
                    on { print } on && /^}/ { exit }' "$1"
}
# The "word"s of table entries {"word", ... and MRU("word", ...; with cl, also those of
# cl_is(l, k, "word") in $tmp/body.
words() {
  local cl=$1
  { grep -oE '(\{|MRU\()"[a-z0-9]+"' || true; } | sed -E 's/^(\{|MRU\()"//; s/"$//'
  if [ "$cl" = cl ]; then
    { grep -oE 'cl_is\(l, k, "[a-z0-9]+"\)' "$tmp/body" || true; } |
      sed -E 's/.*"([a-z0-9]+)".*/\1/'
  fi
}
# need FILE MIN WHAT: FILE (sorted, unique) must hold at least MIN words.
need() {
  sort -u -o "$1" "$1"
  local n
  n=$(wc -l <"$1")
  if [ "$n" -lt "$2" ]; then
    echo "confpage: found only $n $3 in the sources (expected at least $2): the parser's" \
      "tables changed shape, update tests/lint/confpage.sh"
    exit 1
  fi
}

# ---- the parser ----
array "$lex" directives | words no >"$tmp/directives"
need "$tmp/directives" 25 "directives (directives[] in conf_lex.c)"
array "$lex" refused | words no >"$tmp/refused"
need "$tmp/refused" 10 "refused words (refused[] in conf_lex.c)"

# opts DIRECTIVE MIN FILE [cl] FUNCTION...: the option words of DIRECTIVE.
opts() {
  local dir=$1 min=$2 file=$3 cl=no
  shift 3
  if [ "$1" = cl ]; then cl=cl; shift; fi
  : >"$tmp/opts.$dir"
  for fn in "$@"; do
    body "$file" "$fn" >"$tmp/body"
    words "$cl" <"$tmp/body" >>"$tmp/opts.$dir"
  done
  need "$tmp/opts.$dir" "$min" "$dir options ($*)"
  echo "$dir" >>"$tmp/optdirs"
}
: >"$tmp/optdirs"
opts server 15 "$srv" cl server_flag server_valued
array "$srv" res_flags | words no >"$tmp/opts.restrict"
need "$tmp/opts.restrict" 16 "restrict flags (res_flags[] in conf_srv.c)"
echo restrict >>"$tmp/optdirs"
opts tos 11 "$sys" tos_int conf_do_tos # not cl: tos_int's cl_is are the refused beacon etc.
opts tinker 9 "$sys" conf_do_tinker
opts mru 9 "$sys" conf_do_mru
opts discard 3 "$sys" conf_do_discard
opts limit 3 "$sys" cl conf_do_limit
opts enable 5 "$sys" conf_do_enable

# ---- the page ----
# One line per definition term: SECTION <TAB> DEPTH <TAB> RAW TERM (the text lines before
# `.RS`, joined), DEPTH being the .RS level the term is at.
awk '
  /^\.SH / { sec = substr($0, 5); gsub(/"/, "", sec); depth = 0; buf = ""; next }
  /^\.RS/  { if (buf != "") printf "%s\t%d\t%s\n", sec, depth, buf; depth++; buf = ""; next }
  /^\.RE/  { depth--; buf = ""; next }
  /^[.\047]/ { buf = ""; next }
  { buf = (buf == "") ? $0 : buf " " $0 }
' "$page" >"$tmp/terms"
# The bold words of a raw term, one per line (\- as -, \& dropped).
bold() {
  { grep -oE '\\fB([^\\]|\\[-&])*\\fR' || true; } |
    sed -E 's/^\\fB//; s/\\fR$//; s/\\-/-/g; s/\\&//g'
}

# (a) headings: outer-level terms starting with a bold word, outside FILES and REFUSED.
awk -F'\t' '$2 == 0 && $1 != "FILES" && $1 != "REFUSED DIRECTIVES" && $3 ~ /^\\fB/' \
  "$tmp/terms" | cut -f3 | while IFS= read -r t; do
  printf '%s\n' "$t" | bold | head -n1
done | sort >"$tmp/headings.all"
sort -u "$tmp/headings.all" >"$tmp/headings"
while read -r w; do
  echo "ntp.conf(5): directive '$w' is accepted by the parser but has no heading in $page"
  bad=$((bad + 1))
done < <(comm -23 "$tmp/directives" "$tmp/headings")
while read -r w; do
  echo "ntp.conf(5): heading '$w' is not a directive the parser accepts"; bad=$((bad + 1))
done < <(comm -13 "$tmp/directives" "$tmp/headings")
while read -r w; do
  echo "ntp.conf(5): directive '$w' has more than one heading"; bad=$((bad + 1))
done < <(uniq -d "$tmp/headings.all")

# (b) refused words.
awk -F'\t' '$2 == 0 && $1 == "REFUSED DIRECTIVES"' "$tmp/terms" | cut -f3 | bold |
  sort -u >"$tmp/page.refused"
while read -r w; do
  echo "ntp.conf(5): refused word '$w' is not listed in REFUSED DIRECTIVES"; bad=$((bad + 1))
done < <(comm -23 "$tmp/refused" "$tmp/page.refused")
while read -r w; do
  echo "ntp.conf(5): REFUSED DIRECTIVES lists '$w', which the parser does not refuse"
  bad=$((bad + 1))
done < <(comm -13 "$tmp/refused" "$tmp/page.refused")

# (c) options: bold words of the terms nested under each heading.
awk -F'\t' '
  $1 != sec { sec = $1; head = "" }
  $2 == 0 { t = $3; sub(/^\\fB/, "", t); sub(/\\fR.*/, "", t); head = t; next }
  head != "" { print head "\t" $3 }
' "$tmp/terms" >"$tmp/nested"
while read -r d; do
  awk -F'\t' -v d="$d" '$1 == d { print $2 }' "$tmp/nested" | bold | sort -u >"$tmp/page.opts"
  while read -r w; do
    echo "ntp.conf(5): $d option '$w' is not an entry under the $d heading"
    bad=$((bad + 1))
  done < <(comm -23 "$tmp/opts.$d" "$tmp/page.opts")
done <"$tmp/optdirs"

echo "confpage: $(wc -l <"$tmp/directives") directives, $(wc -l <"$tmp/refused") refused" \
  "words, options of $(tr '\n' ' ' <"$tmp/optdirs")checked against $page"

# (d) The roff is clean: roffpage.sh's checks (mandoc -Tlint, man --warnings).
"$(dirname "$0")/roffpage.sh" "$page" || bad=$((bad + 1))
echo "confpage: $bad problem(s)"
[ "$bad" -eq 0 ]
