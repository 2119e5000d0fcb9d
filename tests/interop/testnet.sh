#!/usr/bin/env bash
# Every peer on its own host (notes 6.2, 6.5): N+1 network namespaces made by
# `p2plab net up`, the kernel shaping each host's upload. Host 0 is the server (C/S: an
# HTTP server fetched by curl) or the seed and tracker (P2P: `p2plab bt`); hosts 1..N are
# the clients. Checks every SHA-1, that no measured time beats its 6.2 bound, and that
# nothing is left behind. Skips with a message where namespaces cannot be made.
#   N=8 U_S=16 U_I=8 MIB=4 bash tests/interop/testnet.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "$(id -u)" != 0 ] || ! ip netns list >/dev/null 2>&1; then
  echo "SKIP testnet: needs root and network namespaces (ip netns; apt-get install iproute2)"
  exit 0
fi
for tool in curl sha1sum python3; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not found (apt-get install $tool)"; exit 1; }
done

N=${N:-3}          # clients
U_S=${U_S:-16}     # the server's / seed's upload, Mbit/s
U_I=${U_I:-8}      # each client's upload, Mbit/s
MIB=${MIB:-4}      # file size, MiB
cargo build --release --quiet --bin p2plab
BIN=$PWD/target/release/p2plab
WORK=$(mktemp -d)
before=$(ip netns list | wc -l)
PIDS=()

cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "${NETUP:-}" ] && { echo quit >&7 || true; wait "$NETUP" 2>/dev/null || true; }
  "$BIN" net down >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# The hosts: `net up` reads `quit` from a pipe we hold open, and prints its hosts.
mkfifo "$WORK/ctl"
"$BIN" net up --hosts $((N + 1)) --up "$U_I" --server-up "$U_S" <"$WORK/ctl" >"$WORK/hosts.txt" 2>"$WORK/net.log" &
NETUP=$!
exec 7>"$WORK/ctl"
for _ in $(seq 100); do grep -q "type 'quit'" "$WORK/hosts.txt" 2>/dev/null && break; sleep 0.1; done
mapfile -t NS < <(awk '/ip netns exec/ {for (i = 1; i <= NF; i++) if ($i == "exec") print $(i + 1)}' "$WORK/hosts.txt")
mapfile -t IP < <(awk '/ip netns exec/ {print $3}' "$WORK/hosts.txt")
[ "${#NS[@]}" = $((N + 1)) ] || { echo "FAIL: expected $((N + 1)) hosts"; cat "$WORK/hosts.txt" "$WORK/net.log"; exit 1; }
# In the foreground, and in the background with `exec`: then $! is the program itself,
# not a subshell that a kill would leave its child behind.
in_host() { local h=$1; shift; ip netns exec "${NS[$h]}" "$@"; }
bg_host() { local h=$1; shift; exec ip netns exec "${NS[$h]}" "$@"; }

mkdir -p "$WORK/share"
head -c $((MIB << 20)) /dev/urandom >"$WORK/share/file.bin"
want=$(sha1sum <"$WORK/share/file.bin" | cut -c1-40)
now() { date +%s.%N; }

# C/S: the server uploads the whole file N times over its one u_s link.
bg_host 0 "$BIN" share serve --dir "$WORK/share" --listen "${IP[0]}:8080" </dev/null >"$WORK/serve.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do in_host 1 curl -sf -o /dev/null "http://${IP[0]}:8080/get/0/file.bin" --max-time 0.2 -r 0-0 && break; sleep 0.1; done
t0=$(now); cs=()
for h in $(seq 1 "$N"); do
  bg_host "$h" curl -sf -o "$WORK/cs$h.bin" "http://${IP[0]}:8080/get/0/file.bin" & cs+=($!)
done
for p in "${cs[@]}"; do wait "$p"; done
t_cs=$(python3 -c "print($(now) - $t0)")
for h in $(seq 1 "$N"); do
  [ "$(sha1sum <"$WORK/cs$h.bin" | cut -c1-40)" = "$want" ] || { echo "FAIL: C/S client $h has a wrong file"; exit 1; }
done

# P2P: tracker and seed on host 0, a leecher on every other host.
"$BIN" bt make "$WORK/share/file.bin" -o "$WORK/x.torrent" --announce "http://${IP[0]}:6969/announce" >/dev/null
bg_host 0 "$BIN" bt tracker --listen "${IP[0]}:6969" --interval 5 </dev/null >"$WORK/tracker.log" 2>&1 &
PIDS+=($!)
bg_host 0 "$BIN" bt seed "$WORK/x.torrent" "$WORK/share/file.bin" --listen "${IP[0]}:6881" </dev/null >"$WORK/seed.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do grep -q "seeding" "$WORK/seed.log" 2>/dev/null && break; sleep 0.1; done
t0=$(now); p2p=()
for h in $(seq 1 "$N"); do
  mkdir -p "$WORK/p2p$h"
  bg_host "$h" "$BIN" bt get "$WORK/x.torrent" -o "$WORK/p2p$h" --listen "${IP[$h]}:6881" --timeout 300 \
    </dev/null >"$WORK/get$h.log" 2>&1 & p2p+=($!)
done
for p in "${p2p[@]}"; do wait "$p" || { echo "FAIL: a leecher did not finish"; tail -3 "$WORK"/get*.log; exit 1; }; done
t_p2p=$(python3 -c "print($(now) - $t0)")
for h in $(seq 1 "$N"); do
  [ "$(sha1sum <"$WORK/p2p$h/file.bin" | cut -c1-40)" = "$want" ] || { echo "FAIL: leecher $h has a wrong file"; exit 1; }
  grep -q "${IP[$h]}" "$WORK/tracker.log" "$WORK/seed.log" 2>/dev/null || true
done

# The notes' bounds (6.2), with F in bits and rates in bit/s; d_min is not shaped here.
# Gnutella across three hosts: A (host 1) -- B (host 2) -- C (host 3, shares the file).
# A keeps one neighbour, so its Query must cross B; the QueryHit must name C's address.
[ "$N" -ge 3 ] || { echo "FAIL: the Gnutella check needs N >= 3"; exit 1; }
mkdir -p "$WORK/gC" "$WORK/gB" "$WORK/gA"
echo "the notes, chapter 6" >"$WORK/gC/lecture notes p2p.txt"
g_node() { local h=$1 name=$2; shift 2; bg_host "$h" "$BIN" gnutella node --listen "${IP[$h]}:6346" \
  --http "${IP[$h]}:6347" --share "$WORK/g$name" --degree 1 --batch "$@" </dev/null >"$WORK/g$name.log" 2>&1; }
g_node 3 C --run "wait 30" & PIDS+=($!)
for _ in $(seq 100); do grep -q "^servent" "$WORK/gC.log" 2>/dev/null && break; sleep 0.1; done
g_node 2 B --peer "${IP[3]}:6346" --run "wait 30" & PIDS+=($!)
for _ in $(seq 100); do grep -q "^servent" "$WORK/gB.log" 2>/dev/null && break; sleep 0.1; done
in_host 1 "$BIN" gnutella node --listen "${IP[1]}:6346" --http "${IP[1]}:6347" --share "$WORK/gA" \
  --peer "${IP[2]}:6346" --degree 1 --batch --run "wait 1" --run "query lecture" --run "wait 2" \
  </dev/null >"$WORK/gA.log" 2>&1
hit=$(grep -m1 "lecture notes p2p.txt" "$WORK/gA.log" || true)
echo "gnutella: host ${IP[1]} asked, hit: ${hit:-none}"
case "$hit" in
  *"http://${IP[3]}:6347"*"(2 hops)"*) ;;
  *) echo "FAIL: expected a QueryHit from ${IP[3]} (host 3) two hops away"; cat "$WORK/gA.log"; exit 1 ;;
esac

read -r b_cs b_p2p < <(python3 -c "
F = $MIB * 8 * 2**20; us = $U_S * 1e6; ui = $U_I * 1e6; n = $N
print(n * F / us, max(F / us, n * F / (us + n * ui)))")
echo "N = $N clients, F = $MIB MiB, u_s = $U_S Mbit/s, u_i = $U_I Mbit/s, links shaped by the kernel (tbf)"
printf '| %-4s | %-10s | %-10s | %-6s |\n' "" "bound s" "measured s" "ratio"
python3 -c "
for name, b, t in (('C/S', $b_cs, $t_cs), ('P2P', $b_p2p, $t_p2p)):
    print('| %-4s | %10.2f | %10.2f | %6.3f |' % (name, b, t, t / b))"
# A link may pass one tbf burst (10 ms of its rate) early: that is the only slack.
python3 -c "
import sys
ok = $t_cs >= 0.99 * $b_cs and $t_p2p >= 0.99 * $b_p2p
sys.exit(0 if ok else 1)" || { echo "FAIL: a measured time beat its bound: the links are not shaped"; exit 1; }

trap - EXIT
cleanup
after=$(ip netns list | wc -l)
[ "$after" = "$before" ] || { echo "FAIL: $((after - before)) namespaces left behind"; exit 1; }
echo "testnet: every SHA-1 ok, no time below its bound, a Gnutella hit across 3 hosts from the right address, no namespace left behind"
