#!/usr/bin/env bash
# Checks the served OpenAPI document with standard tools, against a real `weft serve`:
#   1. openapi-spec-validator (PyPI) accepts it, and rejects a copy with a path parameter
#      its path does not have (so the validator is known to be live);
#   2. openapi-typescript (npm) generates types from it, e2e/openapi/client.ts type-checks
#      against them with `tsc --strict`, and then drives a run end to end through the API.
# Run by scripts/test.sh after `cargo build -p backend`; needs e2e/node_modules (tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
VALIDATOR_V=0.9.0
bin=${WEFT_BIN:-target/debug/weft}
work=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The validator, in a venv of its own under ~/.cache (nothing is installed system-wide).
venv="${XDG_CACHE_HOME:-$HOME/.cache}/weft/openapi-venv-$VALIDATOR_V"
if [ ! -x "$venv/bin/openapi-spec-validator" ]; then
  python=$(command -v python3.11 || command -v python3 || true)
  if [ -z "$python" ] || ! { "$python" -m venv "$venv" && "$venv/bin/pip" install -q "openapi-spec-validator==$VALIDATOR_V"; }; then
    rm -rf "$venv"
    if [ "${CI:-}" = "true" ]; then echo "openapi-spec-validator could not be installed in CI" >&2; exit 1; fi
    printf '\n!!!!!!!!\n!!! SKIPPED: the OpenAPI checks: openapi-spec-validator %s could not be installed (python3 -m venv, pip)\n!!!!!!!!\n\n' "$VALIDATOR_V" >&2
    exit 0
  fi
fi

# A server on a fresh SQLite file and a port the system picks; its stdout says which.
NO_COLOR=1 WEFT_API_TOKEN='' RUST_LOG=info "$bin" serve --listen 127.0.0.1:0 \
  --database "sqlite://$work/weft.db?mode=rwc" --ui-dir "$work" >"$work/log" 2>&1 &
server=$!
addr=
for _ in $(seq 1 100); do
  addr=$(sed -n 's/^weft listening on http:\/\/\([0-9.:]*\)$/\1/p' "$work/log" | head -1)
  [ -n "$addr" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$work/log" >&2; echo "weft serve exited" >&2; exit 1; }
  sleep 0.1
done
[ -n "$addr" ] || { cat "$work/log" >&2; echo "weft serve did not report its address" >&2; exit 1; }
base="http://$addr"

doc=e2e/openapi/openapi.json
curl -fsS "$base/api/openapi.json" -o "$doc"

echo "openapi: openapi-spec-validator on the served document"
"$venv/bin/openapi-spec-validator" "$doc"
# The same document with a path parameter its path lacks must be refused.
"$venv/bin/python" - "$doc" "$work/broken.json" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
op = doc["paths"]["/api/runs/{id}"]["get"]
op["parameters"].append({"name": "workflow", "in": "path", "required": True, "schema": {"type": "string"}})
json.dump(doc, open(sys.argv[2], "w"))
EOF
if "$venv/bin/openapi-spec-validator" "$work/broken.json" >/dev/null 2>&1; then
  echo "openapi-spec-validator accepted a document with an unresolved path parameter" >&2
  exit 1
fi

echo "openapi: openapi-typescript types, the client type-checked with tsc, run end to end"
e2e/node_modules/.bin/openapi-typescript "$doc" -o e2e/openapi/schema.d.ts
rm -rf e2e/openapi/dist
e2e/node_modules/.bin/tsc -p e2e/openapi
node e2e/openapi/dist/client.js "$base"
