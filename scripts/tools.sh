#!/usr/bin/env bash
# Installs what building Weft needs when it is missing: the wasm target, Trunk and
# wasm-bindgen-cli at pinned versions (see ../shared/TOOLCHAIN.md), and the e2e Node packages
# (which carry npm's binaryen for wasm-opt, and openapi-typescript and tsc for the OpenAPI
# check). Sourced by run.sh and test.sh.
set -euo pipefail
TRUNK_V=0.21.14
WBG_V=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')
export PATH="$HOME/.cargo/bin:$PATH"
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
fast() { CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 "$@"; }
pids=()
trunk --version 2>/dev/null | grep -qF "$TRUNK_V" || { fast cargo install --locked trunk --version "$TRUNK_V" & pids+=($!); }
wasm-bindgen --version 2>/dev/null | grep -qF "$WBG_V" || { fast cargo install wasm-bindgen-cli --version "$WBG_V" & pids+=($!); }
{ [ -x e2e/node_modules/.bin/wasm-opt ] && [ -x e2e/node_modules/.bin/openapi-typescript ]; } || (cd e2e && npm ci --no-audit --no-fund)
for p in "${pids[@]}"; do wait "$p"; done
export PATH="$PWD/e2e/node_modules/.bin:$PATH"

# Builds the SPA into frontend/dist; Trunk reads the Trunk.toml of the repository root and gets
# its own target dir so it does not wait on the backend's lock (TOOLCHAIN pitfall 9).
build_ui() {
  CARGO_TARGET_DIR="$PWD/target/wasm" trunk build --release --skip-version-check
}
