#!/usr/bin/env bash
# Builds the pinned Pulumi CLI (from Pulumi's official Go modules, pinned in go.mod) and puts it
# with the Python dynamic-provider plugin into .cache/pulumi/bin. Idempotent: a cached build of
# the pinned version is reused. The first build takes about five minutes on two cores.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin="${PULUMI_CACHE_DIR:-$root/.cache/pulumi}/bin"
version=$(sed -n 's#^[[:space:]]*github.com/pulumi/pulumi/pkg/v3 \(v[0-9.]*\).*#\1#p' "$here/go.mod")
stamp="$bin/.built-$version"

if [ -f "$stamp" ] && [ -x "$bin/pulumi-resource-pulumi-python" ] &&
    [ "$("$bin/pulumi" version 2>/dev/null || true)" = "$version" ]; then
    echo "pulumi $version: already built in $bin"
    exit 0
fi
if ! command -v go >/dev/null; then
    echo "error: building the Pulumi CLI $version needs Go (1.26 or later) on PATH" >&2
    exit 1
fi

started=$(date +%s)
mkdir -p "$bin"
rm -f "$bin"/.built-*
cd "$here"
export GOTOOLCHAIN=local GOFLAGS=-mod=readonly
go build -trimpath \
    -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" \
    -o "$bin/pulumi.partial" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
mv "$bin/pulumi.partial" "$bin/pulumi"
# The engine runs dynamic providers through this script of the SDK module, found next to the CLI.
sdk=$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
install -m 0755 "$sdk/python/dist/pulumi-resource-pulumi-python" "$bin/"
install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" "$bin/"
[ "$("$bin/pulumi" version)" = "$version" ] || { echo "error: built CLI is not $version" >&2; exit 1; }
touch "$stamp"
echo "built pulumi $version in $(($(date +%s) - started)) s into $bin"
