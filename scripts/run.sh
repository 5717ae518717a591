#!/usr/bin/env bash
# Builds Weft and serves UI + API at http://127.0.0.1:8080 on SQLite `weft.db`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh
build_ui &
ui=$!
cargo build --release -p backend
wait "$ui"
exec target/release/weft serve --listen "${WEFT_LISTEN:-127.0.0.1:8080}" --database "${WEFT_DATABASE_URL:-sqlite://weft.db}"
