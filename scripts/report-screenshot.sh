#!/bin/sh
# Renders a cimc report.html with headless Chromium and writes a PNG, to check that the page
# renders offline (no network, a throw-away profile). Usage: scripts/report-screenshot.sh REPORT.html [OUT.png]
# Debian: apt-get install -y chromium
set -eu
html=$(realpath "$1")
out=$(realpath -m "${2:-report.png}")
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$browser" ] || { echo "report-screenshot: no chromium found (apt-get install -y chromium)" >&2; exit 1; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
  --user-data-dir="$profile" --screenshot="$out" --window-size=1280,2000 "file://$html" >/dev/null 2>&1
echo "wrote $out"
