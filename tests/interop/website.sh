#!/usr/bin/env bash
# The tracker's website (BT网站, notes 6.5; issue 14) in a real browser, while a swarm runs:
#   1. `p2plab bt tracker` serves the site; `bt make --publish` uploads a torrent whose name
#      carries markup (<b>, <i>, &, quotes)
#   2. a seed announces; a newcomer takes the .torrent from the site (http URL), downloads
#      and keeps seeding: two peers in the swarm
#   3. headless Chromium loads / and the torrent's page (--dump-dom): the list shows the name
#      as text (escaped, never markup) and the magnet link; the swarm page's peer count equals
#      the tracker's own (scrape: complete + incomplete). SCREENSHOT=FILE also saves the swarm page.
# Skips (exit 0, with a message) when chromium is missing. Every process is killed by PID.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v chromium >/dev/null 2>&1; then
  echo "SKIP website.sh: 'chromium' not found (apt-get install chromium); the site is still tested by tests/website.rs"
  exit 0
fi

cargo build --release --quiet --bin p2plab
P2P="${CARGO_TARGET_DIR:-$PWD/target}/release/p2plab"
W=$(mktemp -d /tmp/p2plab-web-interop.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT

free_port() {
  local p
  while :; do
    p=$(( 20000 + RANDOM % 12000 )) # below the ephemeral range (32768+)
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
wait_for() { # wait_for FILE PATTERN SECONDS
  for _ in $(seq $(( $3 * 10 ))); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "FAIL: '$2' never appeared in $1:"; cat "$1"; exit 1
}
check() { if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: '$2' != '$3'"; exit 1; fi; }
contains() { # contains WHAT FILE TEXT
  if grep -qF -- "$3" "$2"; then echo "ok   $1"; else echo "FAIL $1: '$3' not in $2:"; head -c 4000 "$2"; exit 1; fi
}
# dom URL OUT: the page as Chromium built it. Its own process group, killed by PID.
dom() {
  local prof; prof=$(mktemp -d "$W/chromium.XXXXXX")
  timeout 60 chromium --headless --no-sandbox --disable-gpu --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$prof" --dump-dom "$1" >"$2" 2>"$2.log" &
  local pid=$!; PIDS+=("$pid")
  wait "$pid" || { echo "FAIL chromium on $1:"; tail -5 "$2.log"; exit 1; }
}

T=$(free_port)
SITE="http://127.0.0.1:$T"
NAME='<b>lab<i> & "demo".bin'
mkdir -p "$W/data" "$W/new"
head -c $((4 * 1024 * 1024)) /dev/urandom > "$W/data/$NAME"

echo "== [${SECONDS}s] 1. the tracker serves its site; bt make --publish uploads"
"$P2P" bt tracker --listen "127.0.0.1:$T" --interval 2 </dev/null >"$W/tracker.log" 2>&1 & PIDS+=($!)
wait_for "$W/tracker.log" "website on" 20
"$P2P" bt make "$W/data/$NAME" -o "$W/x.torrent" --announce "$SITE/announce" --publish "$SITE/" >"$W/make.log"
contains "bt make --publish: the site listed it" "$W/make.log" "published to $SITE/: listed"
HASH=$("$P2P" bt show "$W/x.torrent" | awk '/^info-hash/ {print $2}')

echo "== [${SECONDS}s] 2. a seed, and a newcomer that takes the .torrent from the site"
SP=$(free_port)
"$P2P" bt seed "$W/x.torrent" "$W/data/$NAME" --listen "127.0.0.1:$SP" </dev/null >"$W/seed.log" 2>&1 & PIDS+=($!)
wait_for "$W/seed.log" "seeding" 20
"$P2P" bt get "$SITE/torrent/$HASH.torrent" -o "$W/new" --timeout 60 --seed </dev/null >"$W/get.log" 2>&1 & PIDS+=($!)
wait_for "$W/get.log" "seeding on" 60
check "the newcomer's copy" "$(sha1sum <"$W/new/$NAME")" "$(sha1sum <"$W/data/$NAME")"

echo "== [${SECONDS}s] 3. headless Chromium reads the pages"
dom "$SITE/" "$W/index.html"
# In the DOM the name is text: its markup characters come back as entities, no <b> element.
contains "the list shows the name as text" "$W/index.html" '&lt;b&gt;lab&lt;i&gt; &amp; "demo".bin'
if grep -q '<b>lab' "$W/index.html"; then echo "FAIL the name became markup"; exit 1; fi
contains "the list has the magnet link" "$W/index.html" "magnet:?xt=urn:btih:$HASH&amp;dn=%3Cb%3Elab"
contains "the list links the .torrent" "$W/index.html" "/torrent/$HASH.torrent"
dom "$SITE/torrent/$HASH" "$W/swarm.html"
# The tracker's own numbers: its scrape (BEP 48), complete + incomplete, read from the bencode.
exec 3<>"/dev/tcp/127.0.0.1/$T"
printf 'GET /scrape?info_hash=%s HTTP/1.0\r\n\r\n' "$(echo "$HASH" | sed 's/../%&/g')" >&3
scraped=$(( $(cat <&3 | grep -ao '[a-z]*completei[0-9]*e' | sed 's/.*completei\([0-9]*\)e/\1/' | paste -sd+) ))
exec 3<&-
check "the tracker's scrape counts the seed and the newcomer" "$scraped" 2
shown=$(sed -n 's/.*<span id="peers">\([0-9]*\)<\/span>.*/\1/p' "$W/swarm.html" | head -1)
check "the swarm page's peer count equals the tracker's" "$shown" "$scraped"
check "one row per peer" "$(grep -o 'class="peer"' "$W/swarm.html" | wc -l)" 2
contains "the swarm page reloads itself" "$W/swarm.html" 'http-equiv="refresh"'
if [ -n "${SCREENSHOT:-}" ]; then # for the handout: SCREENSHOT=labs/bittorrent/website.png
  prof=$(mktemp -d "$W/chromium.XXXXXX")
  timeout 60 chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --user-data-dir="$prof" --hide-scrollbars \
    --window-size=1000,560 --screenshot="$SCREENSHOT" "$SITE/torrent/$HASH" >/dev/null 2>&1 & PIDS+=($!)
  wait "$!" && echo "screenshot: $SCREENSHOT"
fi
echo "website.sh: all checks passed in ${SECONDS}s"
