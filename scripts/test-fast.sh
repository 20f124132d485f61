#!/usr/bin/env bash
# The fast loop: `npm run test:unit [-- files]` (no database) and `npm run test:int [-- files]`
# (migrates the test database without recreating it). No lint, typecheck or build: `npm test`
# does the whole thing.
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_ENV=test
export DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/p2p_test}"
export REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"
export LOG_LEVEL="${LOG_LEVEL:-silent}"
kind="$1"
shift
if [ "$kind" = int ]; then
  npx tsx scripts/setup.ts --seed >/dev/null
  [ $# -eq 0 ] && set -- test/integration
else
  [ $# -eq 0 ] && set -- test/unit
fi
npx mocha "$@"
