#!/usr/bin/env bash
# BitTorrent against real software, on loopback (notes 6.5; PROTOCOLS.md "Real BitTorrent tools"):
#   1. our .torrent has mktorrent's info-hash (one file and a folder); transmission-create's loads
#   2. aria2c downloads 64 MiB from our seeder, found through our tracker: encrypted (MSE, both
#      defaults), then with --bt-require-crypto, then in plaintext (our seeder --encryption off)
#   3. our leecher downloads it from aria2c seeding, found through opentracker: in plaintext, then
#      both sides requiring encryption
#   2b/3. magnet links both ways: aria2c fetches the metadata from our seeder, we from aria2c seeding
#   4. tshark decodes the plaintext transfers (extension messages too) as BitTorrent with zero malformed packets; the
#      encrypted ones carry no plaintext handshake
# Every tool gets a free port and is killed by PID on exit. Fails (non-zero) on any mismatch.
set -euo pipefail
cd "$(dirname "$0")/../.."

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "FAIL: '$1' not found: install it with 'apt-get install $2'"; exit 1; }
}
need aria2c aria2; need mktorrent mktorrent; need opentracker opentracker
need tshark tshark; need dumpcap tshark; need transmission-create transmission-cli; need transmission-show transmission-cli

cargo build --release --quiet --bin p2plab
P2P="${CARGO_TARGET_DIR:-$PWD/target}/release/p2plab"
W=$(mktemp -d /tmp/p2plab-bt-interop.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT

# A port nobody listens on: connecting to it is refused.
free_port() {
  local p
  while :; do
    p=$(( 20000 + RANDOM % 12000 )) # below the ephemeral range (32768+)
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
# wait_for FILE PATTERN SECONDS: until FILE contains PATTERN.
wait_for() {
  for _ in $(seq $(( $3 * 10 ))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "FAIL: '$2' never appeared in $1:"; cat "$1"; exit 1
}
hash_of() { "$P2P" bt show "$1" | awk '/^info-hash/ {print $2}'; }
sha() { sha1sum "$1" | cut -d' ' -f1; }
check() { if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: '$2' != '$3'"; exit 1; fi; }
ARIA=(aria2c --enable-dht=false --enable-dht6=false --bt-enable-lpd=false --enable-peer-exchange=false
      --disable-ipv6=true --summary-interval=0 --console-log-level=warn --file-allocation=none)
# capture PORT FILE: dumpcap on loopback (tshark -i drops packets at these rates).
capture() { # capture "PORT [PORT]" FILE
  local f; f=$(echo "$1" | sed 's/ / or tcp port /g')
  dumpcap -q -i lo -B 1024 -f "tcp port $f" -w "$2" >"$2.log" 2>&1 &
  PIDS+=($!); CAP_PID=$!
  for _ in $(seq 100); do [ -s "$2" ] && return 0; sleep 0.1; done
  echo "FAIL dumpcap did not start:"; cat "$2.log"; exit 1
}
# libpcap hands packets to dumpcap a block at a time, when a block fills or its timeout
# (about a second) expires; a dumpcap interrupted sooner drops what is still pending. A
# transfer over loopback can be done in 50 ms, so give the last block time to arrive.
stop_capture() { sleep 2; kill -INT "$CAP_PID"; wait "$CAP_PID" 2>/dev/null || true; }
decode_check() { # decode_check FILE "PORT [PORT]" WHAT: every port decoded as BitTorrent, one pass
  local all bad pieces d=()
  for p in $2; do d+=(-d "tcp.port==$p,bittorrent"); done
  tshark -r "$1" "${d[@]}" >"$1.txt" 2>/dev/null
  all=$(wc -l <"$1.txt")
  bad=$(grep -c 'Malformed' "$1.txt" || true)
  pieces=$(grep -c 'Piece, Idx' "$1.txt" || true)
  [ "$pieces" -gt 0 ] || { echo "FAIL tshark found no Piece message in $3"; exit 1; }
  check "tshark: $3, $all packets, $pieces with Piece messages, malformed" "$bad" 0
}

mkdir -p "$W/data/album/cd2" "$W/aria-out" "$W/our-out" "$W/ot" "$W/aria-seed"
head -c $((64 * 1024 * 1024)) /dev/urandom > "$W/data/big.bin"
head -c 300000 /dev/urandom > "$W/data/album/a.bin"
head -c 123457 /dev/urandom > "$W/data/album/cd2/b.bin"

echo "== [${SECONDS}s] 1. metainfo: info-hash equals mktorrent's; transmission-create's torrent loads"
URL=http://127.0.0.1:1/announce
mktorrent -l 18 -a "$URL" -o "$W/mk.torrent" "$W/data/big.bin" >/dev/null
"$P2P" bt make "$W/data/big.bin" -o "$W/our.torrent" --announce "$URL" >/dev/null
check "one file: info-hash = mktorrent's" "$(hash_of "$W/our.torrent")" "$(hash_of "$W/mk.torrent")"
mktorrent -l 18 -a "$URL" -o "$W/mk-album.torrent" "$W/data/album" >/dev/null
"$P2P" bt make "$W/data/album" -o "$W/our-album.torrent" --announce "$URL" >/dev/null
check "folder: info-hash = mktorrent's" "$(hash_of "$W/our-album.torrent")" "$(hash_of "$W/mk-album.torrent")"
transmission-create -o "$W/tc.torrent" -t "$URL" "$W/data/big.bin" >/dev/null
want=$(transmission-show "$W/tc.torrent" | awk '/Hash:/ {print $2}')
check "transmission-create torrent loads, same info-hash as transmission-show" "$(hash_of "$W/tc.torrent")" "$want"

echo "== [${SECONDS}s] 2. aria2c leeches 64 MiB from our seeder through our tracker"
TP=$(free_port)
"$P2P" bt tracker --listen "127.0.0.1:$TP" >"$W/tracker.log" 2>&1 & PIDS+=($!)
wait_for "$W/tracker.log" "tracker on" 10
"$P2P" bt make "$W/data/big.bin" -o "$W/ours.torrent" --announce "http://127.0.0.1:$TP/announce" >/dev/null
# aria_leech NAME SEEDER_PORT [ARIA2C OPTIONS]: aria2c downloads ours.torrent into aria-NAME, captured.
aria_leech() {
  local name=$1 port=$2; shift 2
  capture "$port" "$W/$name.pcapng"
  timeout 120 "${ARIA[@]}" --dir="$W/aria-$name" --listen-port="$(free_port)" --seed-time=0 "$@" "${SOURCE:-$W/ours.torrent}" \
    >"$W/aria-$name.log" 2>&1 || { echo "FAIL aria2c ($name) did not finish:"; tail -20 "$W/aria-$name.log"; exit 1; }
  stop_capture
  check "aria2c's copy ($name) has the source's SHA-1" "$(sha "$W/aria-$name/big.bin")" "$(sha "$W/data/big.bin")"
}
# no_plaintext FILE WHAT: no BitTorrent handshake of ours (peer id -PL0001-) crossed the wire in
# clear. (Each run shows one plaintext exchange without our peer id, from an ephemeral port to
# the seeding aria2c, despite its --bt-require-crypto: not ours.)
no_plaintext() {
  local n; n=$(tshark -r "$1" -Y 'frame contains "BitTorrent protocol" && frame contains "-PL0001-"' \
    -T fields -e frame.time_relative -e tcp.srcport -e tcp.dstport 2>/dev/null | tee "$1.plain" | wc -l)
  [ "$n" = 0 ] || { echo "frames with a plaintext handshake of ours:"; cat "$1.plain"; }
  check "$2: frames with a plaintext handshake of ours" "$n" 0
}
# ext_check FILE "PORTS" WHAT: tshark sees extension messages (BEP 10), none malformed.
ext_check() {
  local d=() n
  for p in $2; do d+=(-d "tcp.port==$p,bittorrent"); done
  n=$(tshark -r "$1" "${d[@]}" -Y 'bittorrent.msg.type == 20' 2>/dev/null | wc -l)
  [ "$n" -gt 0 ] || { echo "FAIL tshark found no extension message in $3"; exit 1; }
  echo "ok   tshark: $3, $n packets with extension messages (BEP 10 / BEP 9)"
}
SP=$(free_port)
"$P2P" bt seed "$W/ours.torrent" "$W/data/big.bin" --listen "127.0.0.1:$SP" >"$W/seed.log" 2>&1 & PIDS+=($!); SP_PID=$!
wait_for "$W/seed.log" "seeding" 30
aria_leech mse "$SP"
no_plaintext "$W/mse.pcapng" "our seeder -> aria2c, both on defaults (MSE)"
aria_leech crypto "$SP" --bt-require-crypto=true
no_plaintext "$W/crypto.pcapng" "our seeder -> aria2c --bt-require-crypto"
# Only a plaintext seeder from here on, so that tshark can read all of it (the tracker
# still lists the first one; aria2c's calls to it are refused).
kill "$SP_PID"; wait "$SP_PID" 2>/dev/null || true
PP=$(free_port)
"$P2P" bt seed "$W/ours.torrent" "$W/data/big.bin" --listen "127.0.0.1:$PP" --encryption off >"$W/seed-plain.log" 2>&1 & PIDS+=($!)
wait_for "$W/seed-plain.log" "seeding" 30
aria_leech plain "$PP"
decode_check "$W/plain.pcapng" "$PP" "our seeder (--encryption off) -> aria2c"
echo "== [${SECONDS}s] 2b. aria2c downloads a magnet link: the metadata, then the data, from our seeders"
MAGNET="magnet:?xt=urn:btih:$(hash_of "$W/ours.torrent")&tr=http%3A%2F%2F127.0.0.1%3A$TP%2Fannounce"
SOURCE=$MAGNET aria_leech magnet "$PP"
ext_check "$W/magnet.pcapng" "$PP" "our seeder (--encryption off) -> aria2c, magnet link"
decode_check "$W/magnet.pcapng" "$PP" "our seeder (--encryption off) -> aria2c, magnet link"

echo "== [${SECONDS}s] 3. our leecher downloads it from aria2c seeding through opentracker"
OP=$(free_port)
"$P2P" bt make "$W/data/big.bin" -o "$W/ot.torrent" --announce "http://127.0.0.1:$OP/announce" >/dev/null
hash_of "$W/ot.torrent" > "$W/ot/whitelist.txt"
# Debian's opentracker chroots into -d: the whitelist path is as seen from inside.
opentracker -i 127.0.0.1 -p "$OP" -P "$OP" -d "$W/ot" -w /whitelist.txt >"$W/ot.log" 2>&1 & PIDS+=($!)
cp "$W/data/big.bin" "$W/aria-seed/"
# from_aria NAME ENCRYPTION [ARIA2C OPTIONS]: aria2c seeds ot.torrent, our leecher gets it.
from_aria() { # from_aria NAME ENCRYPTION SOURCE [ARIA2C OPTIONS]
  local name=$1 enc=$2 src=$3 ap lp apid; shift 3
  ap=$(free_port); lp=$(free_port)
  # Either side may call the other (aria2c calls leechers it hears of): capture both ports.
  capture "$ap $lp" "$W/$name.pcapng"
  "${ARIA[@]}" --dir="$W/aria-seed" --listen-port="$ap" --seed-ratio=0.0 --bt-seed-unverified=true "$@" \
    "$W/ot.torrent" >"$W/$name-aria.log" 2>&1 & PIDS+=($!); apid=$!
  "$P2P" bt get "$src" -o "$W/our-$name" --listen "127.0.0.1:$lp" --timeout 120 --encryption "$enc" \
    >"$W/$name-get.log" 2>&1 || { echo "FAIL our leecher ($name) did not finish:"; tail -20 "$W/$name-get.log"; exit 1; }
  stop_capture
  kill "$apid"; wait "$apid" 2>/dev/null || true
  grep '^done' "$W/$name-get.log"
  check "our copy ($name) has the source's SHA-1" "$(sha "$W/our-$name/big.bin")" "$(sha "$W/data/big.bin")"
  PORTS="$ap $lp"
  echo "     ($name: aria2c on $ap, our leecher on $lp)"
}
from_aria from-aria-plain off "$W/ot.torrent"
decode_check "$W/from-aria-plain.pcapng" "$PORTS" "aria2c -> our leecher (--encryption off)"
from_aria from-aria-crypto require "$W/ot.torrent" --bt-require-crypto=true
no_plaintext "$W/from-aria-crypto.pcapng" "aria2c --bt-require-crypto -> our leecher --encryption require"
OT_MAGNET="magnet:?xt=urn:btih:$(hash_of "$W/ot.torrent")&tr=http%3A%2F%2F127.0.0.1%3A$OP%2Fannounce"
from_aria from-aria-magnet off "$OT_MAGNET"
ext_check "$W/from-aria-magnet.pcapng" "$PORTS" "aria2c -> our leecher, magnet link"
decode_check "$W/from-aria-magnet.pcapng" "$PORTS" "aria2c -> our leecher, magnet link"

echo "== [${SECONDS}s] 4. the tracker's traffic decodes as HTTP"
capture "$TP" "$W/tracker.pcapng"
"$P2P" bt get "$W/ours.torrent" -o "$W/our-out2" --timeout 120 >"$W/get2.log" 2>&1
stop_capture
gets=$(tshark -r "$W/tracker.pcapng" -d "tcp.port==$TP,http" -Y 'http.request.method == "GET"' 2>/dev/null | wc -l)
bad=$(tshark -r "$W/tracker.pcapng" -d "tcp.port==$TP,http" -Y _ws.malformed 2>/dev/null | wc -l)
[ "$gets" -gt 0 ] || { echo "FAIL no announce seen"; exit 1; }
check "tshark: $gets announces to our tracker, malformed" "$bad" 0
echo "bittorrent interop: all passed"
