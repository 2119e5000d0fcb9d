#!/usr/bin/env bash
# Wireshark's Gnutella dissector reads our traffic as real Gnutella.
#
# Captures a whole `lab-gnutella` run on loopback with dumpcap (tshark -i drops packets
# at these rates), the servents listening on a fixed port range, then decodes the
# capture as Gnutella on those ports. Fails if any packet is malformed, if any
# descriptor type is one the dissector does not know (Bye, 0x02, excepted: the
# dissector predates it), or if a descriptor type the lab sends never shows up.
set -euo pipefail
cd "$(dirname "$0")/../.."

for tool in dumpcap tshark; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "FAIL: $tool not found; install it with: apt-get install tshark" >&2
    exit 1
  fi
done

BASE=${GNUTELLA_PORT_BASE:-16346} # below Linux's ephemeral range (32768-60999)
PEERS=30
LAST=$((BASE + PEERS)) # the newcomer listens on BASE+PEERS
work=$(mktemp -d)
dumpcap_pid=""
cleanup() {
  if [ -n "$dumpcap_pid" ] && kill -0 "$dumpcap_pid" 2>/dev/null; then
    kill -INT "$dumpcap_pid" 2>/dev/null || true
    wait "$dumpcap_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

cargo build --release --quiet --bin lab-gnutella

dumpcap -q -i lo -B 1024 -f "tcp portrange $BASE-$LAST" -w "$work/cap.pcapng" 2>"$work/dumpcap.log" &
dumpcap_pid=$!
# dumpcap writes the pcapng header once it is capturing.
for _ in $(seq 100); do
  [ -s "$work/cap.pcapng" ] && break
  kill -0 "$dumpcap_pid" 2>/dev/null || { cat "$work/dumpcap.log" >&2; echo "FAIL: dumpcap exited" >&2; exit 1; }
  sleep 0.1
done
[ -s "$work/cap.pcapng" ] || { echo "FAIL: dumpcap did not start capturing" >&2; exit 1; }

./target/release/lab-gnutella --port-base "$BASE" --peers "$PEERS" >"$work/lab.out" || {
  cat "$work/lab.out" >&2
  echo "FAIL: lab-gnutella failed" >&2
  exit 1
}
sleep 0.5 # let the last segments reach the capture
kill -INT "$dumpcap_pid"
wait "$dumpcap_pid" || true
dumpcap_pid=""

decode=(-r "$work/cap.pcapng" -d "tcp.port==$BASE-$LAST,gnutella")
malformed=$(tshark "${decode[@]}" -Y _ws.malformed 2>/dev/null | wc -l)
tshark "${decode[@]}" -Y gnutella.header -T fields -e gnutella.header.payload 2>/dev/null |
  tr ',' '\n' | grep -v '^$' | sort -n | uniq -c >"$work/types"

echo "descriptors seen by Wireshark's Gnutella dissector (count, payload type):"
cat "$work/types"
fail=0
if [ "$malformed" -ne 0 ]; then
  echo "FAIL: $malformed malformed packets:" >&2
  tshark "${decode[@]}" -Y _ws.malformed 2>/dev/null | head -20 >&2
  fail=1
fi
unknown=$(awk '$2 !~ /^(0|1|2|64|128|129)$/' "$work/types")
if [ -n "$unknown" ]; then
  echo "FAIL: descriptor types the dissector does not know: $unknown" >&2
  fail=1
fi
for t in 0 1 2 64 128 129; do # Ping Pong Bye Push Query QueryHit
  if ! awk -v t="$t" '$2 == t { found = 1 } END { exit !found }' "$work/types"; then
    echo "FAIL: no descriptor of type $t in the capture" >&2
    fail=1
  fi
done
[ "$fail" -eq 0 ] || exit 1
echo "ok: $(awk '{ s += $1 } END { print s }' "$work/types") descriptors, 0 malformed, no unknown types"
