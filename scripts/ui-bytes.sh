#!/usr/bin/env bash
# Bytes on the wire for a first visit of the web UI (docs/benchmarks.md, "The web UI on the
# wire"): serves frontend/dist with `weft serve` on a free port and a temp database, fetches
# every file of it without compression, with gzip, brotli and zstd, and prints the sizes.
# Usage: scripts/ui-bytes.sh [path/to/weft]   (build the UI first: scripts/run.sh does)
set -euo pipefail
cd "$(dirname "$0")/.."
weft=${1:-target/release/weft}
dir=$(mktemp -d)
log="$dir/serve.log"
"$weft" serve --listen 127.0.0.1:0 --database "sqlite://$dir/weft.db?mode=rwc" \
  --ui-dir frontend/dist >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do grep -q '^weft listening on ' "$log" && break; sleep 0.1; done
base=$(sed -n 's/^weft listening on //p' "$log")
[ -n "$base" ] || { cat "$log"; exit 1; }
printf '%-40s %10s %10s %10s %10s  %s\n' file identity gzip br zstd cache-control
total=(0 0 0 0)
# The build's .gz and .zst copies are what the server sends for their file, not files of their own.
for path in / $(cd frontend/dist && ls | grep -v -e '^index.html$' -e '\.gz$' -e '\.zst$'); do
  path=${path#/}
  sizes=()
  for enc in identity gzip br zstd; do
    sizes+=("$(curl -so /dev/null -H "Accept-Encoding: $enc" -w '%{size_download}' "$base/$path")")
  done
  cache=$(curl -sD - -o /dev/null "$base/$path" | tr -d '\r' | sed -n 's/^cache-control: //Ip')
  printf '%-40s %10s %10s %10s %10s  %s\n' "/$path" "${sizes[@]}" "$cache"
  for i in 0 1 2 3; do total[i]=$(( total[i] + sizes[i] )); done
done
printf '%-40s %10s %10s %10s %10s\n' "first visit" "${total[@]}"
