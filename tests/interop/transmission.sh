#!/usr/bin/env bash
# Transmission (transmission-cli 3.00, Debian) with its DEFAULT settings against p2plab (notes 6.5):
#   1. transmission-cli downloads an 8 MiB torrent from `p2plab bt seed`, found through `p2plab bt tracker`
#   2. `p2plab bt get` downloads an 8 MiB torrent (made by transmission-create) that transmission-cli seeds
# SHA-1 checked both ways. Transmission ignores peers on 127.x, so each side runs in its own network
# namespace, joined by one veth pair with private addresses that never leave the namespaces.
# Transmission 3.00 opens every peer the tracker names with uTP first, and when that fails (our
# ST_RESET, or a timeout) it aborts instead of retrying over TCP and waits 15 min before calling
# again. Our uTP twin therefore calls the SYN's sender back over TCP (src/bittorrent/mod.rs,
# "Transmission"): every p2plab side runs with its defaults too (tracker interval 300 s).
# Skips (exit 0, one line) without root, network namespaces or transmission-cli. Leaves no
# namespace, process or file behind (KEEP=1 keeps the work folder; TRACE=1 adds Transmission's
# debug log). MEASURE=1 (needs tshark) captures the veth and prints, per direction, the time from
# Transmission's first packet to the first piece byte.
set -euo pipefail
cd "$(dirname "$0")/../.."

skip() { echo "SKIP transmission: $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
command -v ip >/dev/null 2>&1 || skip "needs ip (apt-get install iproute2)"
command -v transmission-cli >/dev/null 2>&1 || skip "transmission-cli not found (apt-get install transmission-cli)"
command -v transmission-create >/dev/null 2>&1 || skip "transmission-create not found (apt-get install transmission-cli)"
NA=p2plab-tr-a-$$
NB=p2plab-tr-b-$$
before=$(ip netns list 2>/dev/null | wc -l)
ip netns add "$NA" 2>/dev/null || skip "cannot create a network namespace here"
ip netns del "$NA"
for tool in sha1sum python3; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not found (apt-get install $tool)"; exit 1; }
done
MEASURE=${MEASURE:-0}
if [ "$MEASURE" = 1 ] && ! command -v tshark >/dev/null 2>&1; then
  echo "FAIL: MEASURE=1 needs tshark (apt-get install tshark)"; exit 1
fi

cargo build --release --quiet --bin p2plab
BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/p2plab"
W=$(mktemp -d /tmp/p2plab-transmission.XXXXXX)
A=10.199.77.1 # our side: tracker, seed, leecher
B=10.199.77.2 # Transmission
PIDS=()

stop_pid() { # stop_pid PID: TERM, up to 5 s for a clean exit, then KILL
  local p=$1
  kill "$p" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}
cleanup() {
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  ip netns del "$NA" 2>/dev/null || true
  ip netns del "$NB" 2>/dev/null || true # deleting a namespace deletes its end of the veth pair
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT

ip netns add "$NA"
ip netns add "$NB"
ip -n "$NA" link add va type veth peer name vb netns "$NB"
ip -n "$NA" addr add "$A/24" dev va
ip -n "$NB" addr add "$B/24" dev vb
for ns in "$NA" "$NB"; do ip -n "$ns" link set lo up; done
ip -n "$NA" link set va up
ip -n "$NB" link set vb up
# Default routes through the other side (which does not forward): Transmission's DHT and
# port-mapping probes get dropped there instead of failing with "Network is unreachable".
ip -n "$NA" route add default via "$B"
ip -n "$NB" route add default via "$A"
# In the background with `exec`: $! is then the program itself, which kill reaches.
bg_in() { local ns=$1; shift; exec ip netns exec "$ns" "$@"; }
now() { date +%s.%N; }
# wait_file FILE SECONDS: until FILE exists (Transmission renames FILE.part to FILE once every piece checks).
wait_file() {
  for _ in $(seq $(($2 * 10))); do [ -e "$1" ] && return 0; sleep 0.1; done
  return 1
}
capture() { # start tshark on Transmission's end of the veth
  [ "$MEASURE" = 1 ] || return 0
  bg_in "$NB" tshark -i vb -q -w "$W/cap.pcapng" </dev/null >"$W/tshark.log" 2>&1 &
  PIDS+=($!); CAP=$!
  for _ in $(seq 100); do [ -s "$W/cap.pcapng" ] && break; sleep 0.1; done
}
uncapture() { [ "$MEASURE" = 1 ] || return 0; sleep 2; kill -INT "$CAP"; wait "$CAP" 2>/dev/null || true; }
# Transmission's defaults, a fresh config dir each run; HOME too, so nothing lands outside $W.
transmission() { # transmission NAME TORRENT DIR PEER-PORT
  mkdir -p "$W/$1.cfg" "$3"
  (export HOME="$W/$1.cfg"; [ "${TRACE:-0}" = 1 ] && export TR_DEBUG_FD=2; bg_in "$NB" transmission-cli -g "$W/$1.cfg" -w "$3" -p "$4" "$2" </dev/null >"$W/$1.log" 2>&1) &
  PIDS+=($!); TR=$!
}

head -c $((8 << 20)) /dev/urandom >"$W/one.bin"
mkdir -p "$W/two"
head -c $((8 << 20)) /dev/urandom >"$W/two/two.bin"
want1=$(sha1sum <"$W/one.bin" | cut -c1-40)
want2=$(sha1sum <"$W/two/two.bin" | cut -c1-40)
"$BIN" bt make "$W/one.bin" -o "$W/one.torrent" --announce "http://$A:6969/announce" >/dev/null
transmission-create -o "$W/two.torrent" -t "http://$A:6969/announce" "$W/two/two.bin" >/dev/null

bg_in "$NA" "$BIN" bt tracker --listen "$A:6969" </dev/null >"$W/tracker.log" 2>&1 &
PIDS+=($!)
bg_in "$NA" "$BIN" bt seed "$W/one.torrent" "$W/one.bin" --listen "$A:6881" </dev/null >"$W/seed.log" 2>&1 &
PIDS+=($!); SEED=$!
for _ in $(seq 100); do grep -q "^seeding" "$W/seed.log" 2>/dev/null && break; sleep 0.1; done
grep -q "^seeding" "$W/seed.log" || { echo "FAIL: our seed did not start"; cat "$W/seed.log"; exit 1; }

# Both directions at once (each is mostly waiting on Transmission's timers, see the top):
#   1. Transmission (peer port 51413) downloads one.bin from our seed (port 6881);
#   2. our leecher (port 6882) downloads two.bin from Transmission seeding it (peer port 51414).
capture
t0=$(now)
transmission one "$W/one.torrent" "$W/dl1" 51413
T1=$TR
transmission two "$W/two.torrent" "$W/two" 51414
T2=$TR
mkdir -p "$W/get2"
bg_in "$NA" "$BIN" bt get "$W/two.torrent" -o "$W/get2" --listen "$A:6882" --timeout 45 </dev/null >"$W/get2.log" 2>&1 &
PIDS+=($!); GET=$!
wait_file "$W/dl1/one.bin" 45 || { echo "FAIL: transmission-cli did not finish from our seed in 45 s"; tr '\r' '\n' <"$W/one.log" | grep -v '^Progress' | tail -5; tail -5 "$W/seed.log"; exit 1; }
t_one=$(python3 -c "print('%.1f' % ($(now) - $t0))")
wait "$GET" || { echo "FAIL: p2plab bt get did not finish from transmission-cli in 45 s"; tail -5 "$W/get2.log"; tr '\r' '\n' <"$W/two.log" | grep -v '^Seeding' | tail -5; exit 1; }
t_two=$(python3 -c "print('%.1f' % ($(now) - $t0))")
stop_pid "$T1"; stop_pid "$T2"; stop_pid "$SEED"
uncapture
[ "$(sha1sum <"$W/dl1/one.bin" | cut -c1-40)" = "$want1" ] || { echo "FAIL: transmission-cli's copy has a wrong SHA-1"; exit 1; }
echo "1. transmission-cli downloaded 8 MiB from p2plab bt seed, $t_one s after it started, SHA-1 ok"
[ "$(sha1sum <"$W/get2/two.bin" | cut -c1-40)" = "$want2" ] || { echo "FAIL: our leecher's copy has a wrong SHA-1"; exit 1; }
echo "2. p2plab bt get downloaded 8 MiB from transmission-cli seeding, $t_two s after Transmission started, SHA-1 ok"

if [ "$MEASURE" = 1 ]; then
  # Per direction, from the capture: Transmission's first announce and its first packet on that
  # direction's peer ports; the first segment of >= 1000 bytes from the uploader on those ports
  # (a piece: handshakes, bitfields and extended handshakes are all shorter), and the last one.
  tshark -r "$W/cap.pcapng" -Y "tcp or udp" -T fields -e frame.time_epoch -e ip.src -e ip.dst \
    -e tcp.srcport -e tcp.dstport -e udp.dstport -e tcp.len 2>/dev/null | python3 -c "
import sys
rows = []
for line in sys.stdin:
    f = line.rstrip('\\n').split('\\t')
    if len(f) >= 7 and f[0]:
        rows.append((float(f[0]), f[1], f[2], {f[3], f[4], f[5]}, int(f[6] or 0)))
announce = next((t for t, s, d, ports, n in rows if s == '$B' and '6969' in ports), None)
for name, ports_of, up in (('1. Transmission <- p2plab', {'6881', '51413'}, '$A'), ('2. p2plab <- Transmission', {'6882', '51414'}, '$B')):
    mine = [r for r in rows if r[3] & ports_of and '6969' not in r[3]]
    first = next((t for t, s, d, ports, n in mine if s == '$B'), None)
    pieces = [t for t, s, d, ports, n in mine if s == up and n >= 1000]
    if None in (announce, first) or not pieces:
        print(name + ': incomplete capture'); continue
    print('%s: first piece byte %.2f s after Transmission announced, %.2f s after its first peer packet; 8 MiB of pieces in %.2f s'
          % (name, pieces[0] - announce, pieces[0] - first, pieces[-1] - pieces[0]))"
fi

trap - EXIT
cleanup
after=$(ip netns list 2>/dev/null | wc -l)
[ "$after" = "$before" ] || { echo "FAIL: $((after - before)) namespaces left behind"; exit 1; }
echo "transmission: both directions ok, SHA-1 checked, nothing left behind"
