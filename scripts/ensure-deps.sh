#!/usr/bin/env bash
# Installs dependencies when node_modules is missing or older than package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null 2>&1; then
  echo "Node.js (>= 20.19) is required: install it first." >&2
  exit 1
fi
if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "› installing dependencies"
  # `npm install` honours package-lock.json. (`npm ci` would refuse: the lock lists optional
  # native packages for other platforms that this machine's registry does not serve.)
  npm install --no-audit --no-fund
  touch node_modules/.package-lock.json
fi
