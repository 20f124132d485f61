#!/usr/bin/env bash
# `npm test`: the same set-up against a separate, freshly recreated test database (and Redis
# database 15), then lint, typecheck, the build (dist/, which test/integration/build.test.ts
# runs; that test builds by itself when run alone) and the whole mocha suite against the real
# services.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
export NODE_ENV=test
export DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/p2p_test}"
export REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"
export LOG_LEVEL="${LOG_LEVEL:-silent}"
npx tsx scripts/setup.ts --reset --seed
echo "› lint"
npx eslint . --max-warnings 0
npx prettier --check . --log-level warn
echo "› typecheck"
npx tsc -p .
if [ $# -eq 0 ]; then
  echo "› build"
  bash scripts/build.sh
  set -- test/unit test/integration
fi
echo "› mocha"
npx mocha "$@"
