#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Regenerates the seed files of the fuzz corpora tests/fuzz/corpus/pkt/, ef/ and sntp/ from the
# real captures' tshark decodings, tests/data/*.tsv (the udp.payload column), plus a few
# hand-made edge cases written below as hex. Run it from anywhere:
#
#     tests/fuzz/seed-corpus.sh
#
# What it writes (and deletes first, so a rerun gives the same set):
#   corpus/pkt/seed-<capture>-f<frame>  one whole UDP payload per file, at most PER_FILE per
#                                       capture: first one of each distinct shape (length, first
#                                       two bytes, extension-field types), then the next frames
#                                       in order; a payload seen before is skipped
#                                       (mode6-ctrl.tsv, which repeats mode6.tsv, is not read)
#   corpus/ef/seed-<capture>-f<frame>   the extension-field area of each NTS packet: the bytes
#                                       after the 48-byte header, as long as tshark's
#                                       ntp.ext.length list adds up to; at most EF_PER_FILE
#   corpus/{pkt,ef}/edge-*              the hand-made cases
#   corpus/sntp/seed-<capture>-f<frame> one server reply (mode 4) of the client/server captures,
#                                       behind fuzz_sntp's 18-byte prefix: flags = the reply's
#                                       key id (0-3) + "nonce = its own origin", local
#                                       precision -20, T1 = its origin, T4 = its transmit
#                                       timestamp; at most SNTP_PER_FILE per capture, first
#                                       one of each (key, stratum), then in frame order
#   corpus/sntp/edge-*                  hand-made replies (no echo, replay, no key store)
# Files with other names (e.g. found-* inputs that libFuzzer found) are left alone.
#
# Needs only bash, awk and sed (no xxd): bytes are written with bash's printf '\xHH'.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
data="$here/../data"
pkt_dir="$here/corpus/pkt"
ef_dir="$here/corpus/ef"
PER_FILE=6
EF_PER_FILE=6
sntp_dir="$here/corpus/sntp"
SNTP_PER_FILE=8

# Writes the bytes spelled by hex string $2 to file $1.
write_hex() {
    local out=$1 hex=$2
    # shellcheck disable=SC2059 # the format is the data: only \xHH escapes, no '%'
    printf "$(printf '%s' "$hex" | sed 's/../\\x&/g')" >"$out"
}

# Prints "frame<TAB>shape<TAB>hex" for the rows of tsv $1 that awk program $2 selects; $2 sees
# the columns as variables pay (payload hex), frame, etype, elen.
rows() {
    awk -F'\t' -v select="$2" '
        NR == 1 {
            for (i = 1; i <= NF; i++) col[$i] = i
            next
        }
        {
            pay = $(col["udp.payload"]); frame = $(col["frame.number"])
            etype = ("ntp.ext.type" in col) ? $(col["ntp.ext.type"]) : ""
            elen = ("ntp.ext.length" in col) ? $(col["ntp.ext.length"]) : ""
            if (select == "ef") {
                if (etype == "") next
                n = split(elen, l, ","); total = 0
                for (i = 1; i <= n; i++) total += l[i]
                pay = substr(pay, 97, 2 * total)
            }
            print frame "\t" length(pay) ":" substr(pay, 1, 4) ":" etype "\t" pay
        }' "$1"
}

# Picks at most $2 of the rows on stdin: new shapes first, then the rest in frame order.
pick() {
    awk -F'\t' -v max="$1" '
        { frame[NR] = $1; shape[NR] = $2; hex[NR] = $3 }
        END {
            n = 0
            for (i = 1; i <= NR && n < max; i++)
                if (!(shape[i] in seen)) { seen[shape[i]] = 1; take[i] = 1; n++ }
            for (i = 1; i <= NR && n < max; i++)
                if (!(i in take)) { take[i] = 1; n++ }
            for (i = 1; i <= NR; i++)
                if (i in take) print frame[i] "\t" hex[i]
        }'
}

# Seeds corpus dir $1 from every tsv, with selector $2 and per-capture cap $3.
seed_from_captures() {
    local dir=$1 select=$2 max=$3 tsv name frame hex
    local -A seen=()
    for tsv in "$data"/*.tsv; do
        name=$(basename "$tsv" .tsv)
        [[ $name != *-ctrl ]] || continue # the same packets as mode6.tsv, other columns
        while IFS=$'\t' read -r frame hex; do
            [[ -n $hex && -z ${seen[$hex]:-} ]] || continue
            seen[$hex]=1
            write_hex "$dir/seed-$name-f$frame" "$hex"
        done < <(rows "$tsv" "$select" | pick "$max")
    done
}

mkdir -p "$pkt_dir" "$ef_dir"
rm -f "$pkt_dir"/seed-* "$pkt_dir"/edge-* "$ef_dir"/seed-* "$ef_dir"/edge-*
seed_from_captures "$pkt_dir" pkt "$PER_FILE"
seed_from_captures "$ef_dir" ef "$EF_PER_FILE"

# Prints the hex of $1 zero bytes.
zeros() {
    printf '%0*d' $((2 * $1)) 0
}

# Hand-made packets: one per rule of ntk_pkt_decode (lib/include/ntk/pkt.h).
tail44=$(zeros 44)                                  # header after its first 4 bytes
v4c="23000020$tail44"                               # v4 client request, 48 bytes
kod="e4000000$(zeros 8)52415445$(zeros 32)"         # LI 3, v4, server, stratum 0, "RATE"
write_hex "$pkt_dir/edge-empty" ""
write_hex "$pkt_dir/edge-mode6-readvar" "160200010000000000000000" # 12-byte mode 6 header
write_hex "$pkt_dir/edge-mode7" "17000000"                         # ntpdc
write_hex "$pkt_dir/edge-short47" "${v4c:0:94}"                    # one byte short
write_hex "$pkt_dir/edge-len49" "${v4c}00"                         # not a multiple of 4
write_hex "$pkt_dir/edge-v1-mode0" "08${v4c:2}"                    # NTPv1: no mode field
write_hex "$pkt_dir/edge-v5" "2b${v4c:2}"                          # version 5
write_hex "$pkt_dir/edge-v4-mode0" "20${v4c:2}"                    # mode 0 in v4
write_hex "$pkt_dir/edge-kod-nak" "${kod}00000000"                 # KoD RATE + crypto-NAK
write_hex "$pkt_dir/edge-v3-md5" "1b${v4c:2}00000007$(zeros 16)"   # v3 + MD5 MAC
write_hex "$pkt_dir/edge-v3-ef" "1b${v4c:2}1234001c$(zeros 24)"    # v3 cannot carry fields
write_hex "$pkt_dir/edge-ef28-nomac" "${v4c}1234001c$(zeros 24)"   # shortest MAC-less last EF
write_hex "$pkt_dir/edge-ef16-mac20" "${v4c}12340010$(zeros 12)00000001$(zeros 16)"
write_hex "$pkt_dir/edge-ef16-last" "${v4c}12340010$(zeros 12)"    # too short to be last
write_hex "$pkt_dir/edge-ef-overrun" "${v4c}12340100$(zeros 24)"   # Length past the end
write_hex "$pkt_dir/edge-ef-len18" "${v4c}12340012$(zeros 24)"     # not a multiple of 4

# Hand-made extension-field areas.
write_hex "$ef_dir/edge-empty" ""
write_hex "$ef_dir/edge-3bytes" "010400"
write_hex "$ef_dir/edge-len4" "12340004" # legal nested, too short in a packet
write_hex "$ef_dir/edge-len0" "12340000"
write_hex "$ef_dir/edge-len18" "12340012$(zeros 14)"
write_hex "$ef_dir/edge-two16" "0104001000112233445566778899aabb04040010$(zeros 12)"
write_hex "$ef_dir/edge-overrun" "0204fffc$(zeros 16)"

# fuzz_sntp inputs: the prefix (tests/fuzz/fuzz_sntp.c), then one server reply. Prints
# "frame<TAB>shape<TAB>hex" for each reply of tsv $1 signed with no key or keys 1-3, for pick.
sntp_rows() {
    awk -F'\t' '
        NR == 1 {
            for (i = 1; i <= NF; i++) col[$i] = i
            next
        }
        $(col["ntp.flags.mode"]) == 4 {
            pay = $(col["udp.payload"]); kid = $(col["ntp.keyid"])
            if (kid != "" && kid !~ /^0000000[0-3]$/) next
            key = (kid == "") ? 0 : substr(kid, 8, 1) + 0
            printf "%s\t%d:%s\t%02x%s%s%s%s\n", $(col["frame.number"]), key,
                $(col["ntp.stratum"]), key + 4, "ec", substr(pay, 49, 16),
                substr(pay, 81, 16), pay
        }' "$1"
}

mkdir -p "$sntp_dir"
rm -f "$sntp_dir"/seed-* "$sntp_dir"/edge-*
for name in sntp-chrony client-server-ntpsec symkey kod; do
    while IFS=$'\t' read -r frame hex; do
        write_hex "$sntp_dir/seed-$name-f$frame" "$hex"
    done < <(sntp_rows "$data/$name.tsv" | pick "$SNTP_PER_FILE")
done
# Prefix: flags, precision -20, T1 = S + 0.5 s, T4 = S + 1.375 s (S = 0xeeb22c89).
sntp_pre="ec" t1="eeb22c8980000000" t4="eeb22c8a60000000" org="8f1e2d3c4b5a6978"
srv="240206ec0000080000000400""7f000001eeb22c2500000000${org}eeb22c8a00000000eeb22c8a40000000"
write_hex "$sntp_dir/edge-fixed-nonce" "00${sntp_pre}${t1}${t4}${srv:0:48}eeb22c8972f5b000${srv:64}"
write_hex "$sntp_dir/edge-replay" "08${sntp_pre}${t1}${t4}$srv"
write_hex "$sntp_dir/edge-nostore-md5" "15${sntp_pre}${t1}${t4}${srv}00000001$(zeros 16)"
write_hex "$sntp_dir/edge-kod-nak" "05${sntp_pre}${t1}${t4}e4000000$(zeros 8)52415445$(zeros 8)${org}$(zeros 16)00000000"
write_hex "$sntp_dir/edge-short" "04${sntp_pre}${t1}${t4}${srv:0:60}"
write_hex "$sntp_dir/edge-crypto-nak" "05${sntp_pre}${t1}${t4}${srv}00000000"
write_hex "$sntp_dir/edge-bogus-origin" "00${sntp_pre}${t1}${t4}$srv"
write_hex "$sntp_dir/edge-auth-missing" "05${sntp_pre}${t1}${t4}$srv"
write_hex "$sntp_dir/edge-auth-keyid" "05${sntp_pre}${t1}${t4}${srv}00000002$(zeros 20)"

echo "pkt: $(find "$pkt_dir" -type f | wc -l) files, ef: $(find "$ef_dir" -type f | wc -l) files," \
    "sntp: $(find "$sntp_dir" -type f | wc -l) files"
