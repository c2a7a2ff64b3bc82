#!/usr/bin/env bash
# Builds the partial plotly.js bundle the report inlines: plotly.js core (scatter) plus the bar and
# heatmap traces, the only trace types report.js draws. About a quarter of the full bundle's size.
#
# The result is committed (src/datahealth/report/static/vendor/), so installing or running datahealth
# needs neither node nor npm; run this script only to move to another plotly.js version, then run the
# report tests (tests/report/test_browser.py draws every chart in Chromium).
#
# Usage: scripts/build-plotly-bundle.sh [PLOTLY_VERSION]   (needs node and npm)
set -euo pipefail

PLOTLY_VERSION="${1:-4.1.1}"
ESBUILD_VERSION="0.28.1"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENDOR="$ROOT/src/datahealth/report/static/vendor"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cd "$WORK"
echo '{"name": "datahealth-plotly-bundle", "private": true}' > package.json
npm install --no-audit --no-fund --ignore-scripts --loglevel=error \
  "plotly.js@$PLOTLY_VERSION" "esbuild@$ESBUILD_VERSION"

cat > entry.js <<'JS'
var Plotly = require("plotly.js/lib/core");  // includes the scatter trace
Plotly.register([require("plotly.js/lib/bar"), require("plotly.js/lib/heatmap")]);
module.exports = Plotly;
JS

# The same esbuild settings as plotly.js's own bundles (esbuild-config.js), minified.
node_modules/.bin/esbuild entry.js --bundle --minify --format=iife --global-name=Plotly \
  --target=es2016 --define:global=window --define:define.amd=false --legal-comments=none \
  --log-level=warning --metafile=meta.json --outfile=bundle.js

mkdir -p "$VENDOR"
{
  printf '/**\n* plotly.js (datahealth partial bundle: scatter, bar, heatmap - minified) v%s\n' "$PLOTLY_VERSION"
  printf '* Copyright 2012-2026, Plotly, Inc.\n* All rights reserved.\n* Licensed under the MIT license\n*/\n'
  cat bundle.js
} > "$VENDOR/plotly-partial.min.js"
cp node_modules/plotly.js/LICENSE "$VENDOR/plotly.js.LICENSE"
# The licences of every package bundled in (d3, culori, ...), as the bundle carries no legal comments.
node -e '
const fs = require("fs"), path = require("path");
const inputs = Object.keys(require("./meta.json").inputs);
const names = [...new Set(inputs.map((p) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(p)).filter(Boolean).map((m) => m[1]))].sort();
const out = names.map((name) => {
  const dir = path.join("node_modules", name), pkg = require("./" + dir + "/package.json");
  const file = fs.readdirSync(dir).find((f) => /^(licen[cs]e|copying)/i.test(f));
  return `${name} ${pkg.version} (${pkg.license || "see text"})\n\n` + (file ? fs.readFileSync(path.join(dir, file), "utf8").trim() : "(no licence file in the package)");
});
fs.writeFileSync(process.argv[1], out.join("\n\n" + "-".repeat(78) + "\n\n") + "\n");
' "$VENDOR/plotly.js.THIRD-PARTY-LICENSES"
echo "$PLOTLY_VERSION" > "$VENDOR/plotly.js.VERSION"
ls -l "$VENDOR"
