#!/usr/bin/env bash
# Builds the UI into dist/ (embedded by package web): the Vite bundle, the
# compiler compiled to WebAssembly with Go's wasm_exec.js, and every file
# precompressed (brotli and gzip). The output is deterministic, so CI
# rebuilds it and checks that nothing changed (.ci/web-check).
set -euo pipefail
cd "$(dirname "$0")"
[ -d node_modules ] || npm ci --no-audit --no-fund
npx tsc --noEmit -p .
npx vite build --logLevel warn
GOOS=js GOARCH=wasm go build -trimpath -ldflags="-s -w -buildid=" -o dist/skript.wasm ../cmd/skript-wasm
cp "$(go env GOROOT)/lib/wasm/wasm_exec.js" dist/wasm_exec.js
node scripts/compress.mjs dist
