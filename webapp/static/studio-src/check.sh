#!/bin/sh
# Rebuild the studio bundle into a temporary directory and compare it with
# the committed webapp/static/vendor/studio/ (byte for byte, file list too).
# Exit 0 when identical, 1 on any difference, 2 when the build fails.
#
#   sh webapp/static/studio-src/check.sh
#
# Installs the pinned packages with `npm ci` when node_modules/ is missing.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
committed="$here/../vendor/studio"

cd "$here"

if [ ! -x node_modules/.bin/esbuild ]; then
    npm ci --no-audit --no-fund >&2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

if ! node build.mjs --outdir "$tmp/studio" >"$tmp/build.log" 2>&1; then
    cat "$tmp/build.log" >&2
    echo "check.sh: build failed" >&2
    exit 2
fi

if diff -rq "$committed" "$tmp/studio" >"$tmp/diff.txt" 2>&1; then
    echo "check.sh: vendor/studio is up to date (rebuild is byte-identical)"
    exit 0
fi

# which files differ (studio.js is one long line: show the first differing byte, not a diff)
cat "$tmp/diff.txt" >&2
for f in $(cd "$tmp/studio" && find . -type f | sort); do
    if [ -f "$committed/$f" ]; then
        cmp "$committed/$f" "$tmp/studio/$f" >&2 || true
    fi
done
echo "check.sh: vendor/studio differs from a fresh build; run 'node build.mjs' in $here" >&2
exit 1
