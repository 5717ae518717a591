#!/usr/bin/env bash
# Runs every test: formatting and lints, the shared crate for wasm32, the Rust suites
# (unit, integration against the real `weft` binary), and the Playwright suite in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh
step() { printf '\n== %s\n' "$*"; }

step "format and lints"
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
cargo clippy -p frontend -p shared --target wasm32-unknown-unknown -- -D warnings

step "build: UI (trunk, wasm-opt) and server"
build_ui &
ui=$!
cargo build -p backend
wait "$ui"

step "Rust tests (the API suite on SQLite)"
cargo test

step "UI unit tests (editor state, run console state; native)"
cargo test -p frontend --lib

step "the API suite again on PostgreSQL (a throwaway server the tests start)"
if [ -n "${WEFT_TEST_POSTGRES_URL:-}" ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  # `--include-ignored`: the cluster tests (several processes on one database) are ignored on
  # SQLite, with that reason, and run here.
  WEFT_TEST_STORE=postgres cargo test -p backend --test api -- --include-ignored
else
  if [ "${CI:-}" = "true" ]; then echo "PostgreSQL missing in CI" >&2; exit 1; fi
  printf '\n!!!!!!!!\n!!! SKIPPED: the PostgreSQL pass: no /usr/lib/postgresql/*/bin/initdb and no WEFT_TEST_POSTGRES_URL (apt-get install postgresql)\n!!!!!!!!\n\n' >&2
fi

step "browser tests (Playwright, Chromium)"
if [ ! -x /usr/bin/chromium ]; then
  if [ "${CI:-}" = "true" ]; then echo "Chromium missing in CI" >&2; exit 1; fi
  printf '\n!!!!!!!!\n!!! SKIPPED: browser tests: /usr/bin/chromium is not installed (apt-get install chromium)\n!!!!!!!!\n\n' >&2
else
  (cd e2e && npx playwright test)
fi
echo "all tests passed"
