#!/usr/bin/env bash
# Rebuilds the console from its sources and fails if the committed bundle
# (console/dist/, which the Rust binary embeds) differs: CI runs this, so a
# change to console/src or to ../proto without a rebuilt bundle cannot land.
#   console/check-bundle.sh            (from anywhere in the repository)
set -euo pipefail
cd "$(dirname "$0")"
npm ci --silent --no-audit --no-fund
npx buf generate
npx tsc -p .
node build.mjs
git diff --exit-code --stat -- dist
if [ -n "$(git status --porcelain -- dist)" ]; then
  git status --porcelain -- dist
  echo "console/dist is not what its sources build: run console/check-bundle.sh and commit console/dist" >&2
  exit 1
fi
echo "console/dist matches its sources"
