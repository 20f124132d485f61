#!/usr/bin/env bash
# `npm start`: set-up (dependencies, PostgreSQL, Redis, database, migrations, demo data), then
# web, worker and scheduler together with sandbox adapters. Ctrl-C stops all three gracefully.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npx tsx scripts/setup.ts --seed
exec npx concurrently --names web,worker,scheduler --prefix-colors cyan,magenta,yellow \
  --kill-others-on-fail --kill-signal SIGTERM \
  "node --import tsx src/server.ts" "node --import tsx jobs/worker.ts" "node --import tsx jobs/scheduler.ts"
