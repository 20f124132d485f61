#!/usr/bin/env bash
# `npm run build`: compiles with tsc (tsconfig.build.json) into a scratch directory, then swaps
# it in as dist/, so that a process starting from dist/ never finds it half-written and a
# deleted source leaves no stale output behind.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
scratch=".dist-build-$$"
trap 'rm -rf "$scratch"' EXIT
npx tsc -p tsconfig.build.json --outDir "$scratch"
rm -rf dist
mv "$scratch" dist
