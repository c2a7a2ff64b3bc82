#!/usr/bin/env bash
# Installs Azurite (the Azure Storage emulator, an npm package) under .cache/standins/azurite when it is
# missing (idempotent; `make standins` and the lake tests' fixture run it). Needs node and npm.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="${DATAHEALTH_STANDINS:-.cache/standins}"
VERSION="${AZURITE_VERSION:-3.35.0}"
DIR="$ROOT/azurite"
if [ -x "$DIR/node_modules/.bin/azurite-blob" ] && [ "$(cat "$DIR/.installed" 2>/dev/null)" = "$VERSION" ]; then
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "npm is missing: install Node.js (Debian: apt-get install npm)" >&2; exit 1; }
echo "installing Azurite $VERSION into $DIR"
mkdir -p "$DIR"
npm install --silent --no-audit --no-fund --prefix "$DIR" "azurite@$VERSION" >/dev/null
echo "$VERSION" > "$DIR/.installed"
