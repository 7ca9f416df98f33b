#!/usr/bin/env bash
# govulncheck over the module, with the vulnerability database built locally:
# the machines reach only the Go module proxy, so the database comes from the
# golang.org/x/vulndb module (its OSV files, indexed with its own indexdb).
# When the database cannot be had, the step is skipped with a notice, never
# silently; known vulnerabilities fail it.
set -euo pipefail
cd "$(dirname "$0")/.."

skip() { echo "vulncheck: SKIPPED — $*" >&2; exit 0; }

mod=golang.org/x/vulndb
ver=${ZHIBU_VULNDB_VERSION:-$(go list -m -f '{{.Version}}' "$mod@latest" 2>/dev/null)} || true
[ -n "${ver:-}" ] || skip "cannot resolve $mod through the module proxy"
dir=$(go mod download -json "$mod@$ver" 2>/dev/null | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p') || true
[ -n "${dir:-}" ] && [ -d "$dir/data/osv" ] || skip "cannot download $mod@$ver"

cache=${XDG_CACHE_HOME:-$HOME/.cache}/zhibu/vulndb-$ver
if [ ! -f "$cache/index/db.json" ]; then
  rm -rf "$cache.tmp"
  (cd "$dir" && GOFLAGS=-mod=mod go run ./cmd/indexdb -vulns data/osv -out "$cache.tmp") >/dev/null 2>&1 ||
    { rm -rf "$cache.tmp"; skip "cannot build the database from $mod@$ver"; }
  mv "$cache.tmp" "$cache"
fi
echo "vulncheck: database $mod@$ver" >&2
go tool govulncheck -db "file://$cache" ./...
