#!/usr/bin/env bash
# Builds the pinned Pulumi CLI from Pulumi's official Go modules (the release pinned in go.mod
# beside this script) into .cache/pulumi/bin, with the two Python scripts that the engine runs
# from beside the CLI: pulumi-resource-pulumi-python (the dynamic-provider plugin) and
# pulumi-language-python-exec. Both are copied at build time from the sdk/v3 module in the Go
# module cache; nothing of Pulumi's is kept in this repository.
#
# Idempotent: when the stamp matches this script, go.mod and go.sum and `pulumi version` prints
# the pinned version, nothing is rebuilt. The first build (module downloads included) takes
# several minutes on two cores. PULUMI_CACHE_DIR moves the output (default: <repo>/.cache/pulumi).
#
# The Python language host (pulumi-language-python) is not built: it is a Go module of its own
# (github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3) that Pulumi never tags, and
# the module proxy this project can reach refuses every version of it ("403 Forbidden ... This
# module version is not available."). Without it the CLI runs Python programs through the
# Automation API (inline programs); `pulumi up` in a `runtime: python` project folder needs it.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bin="${PULUMI_CACHE_DIR:-$root/.cache/pulumi}/bin"
stamp="$bin/.stamp"

die() {
    echo "error: $*" >&2
    exit 1
}

pinned() { # the version go.mod requires of a module
    sed -n "s#^[[:space:]]*$1 \(v[^ ]*\).*#\1#p" "$here/go.mod"
}
version=$(pinned github.com/pulumi/pulumi/pkg/v3)
sdk_version=$(pinned github.com/pulumi/pulumi/sdk/v3)
[ -n "$version" ] || die "no github.com/pulumi/pulumi/pkg/v3 version in $here/go.mod"
[ "$version" = "$sdk_version" ] ||
    die "go.mod pins pkg/v3 $version but sdk/v3 ${sdk_version:-(none)}; they must be the same release"
fingerprint=$(cat "$here/go.mod" "$here/go.sum" "$here/build.sh" | sha256sum | cut -c1-16)
want_stamp="pulumi $version $fingerprint"

files=(pulumi pulumi-resource-pulumi-python pulumi-language-python-exec)
up_to_date() {
    local f
    [ -f "$stamp" ] && [ "$(head -n 1 "$stamp")" = "$want_stamp" ] || return 1
    for f in "${files[@]}"; do [ -x "$bin/$f" ] || return 1; done
    [ "$("$bin/pulumi" version 2>/dev/null || true)" = "$version" ]
}
if up_to_date; then
    echo "pulumi $version: already built in $bin (stamp $fingerprint); nothing to do"
    exit 0
fi

command -v go >/dev/null ||
    die "building the Pulumi CLI $version needs Go $(sed -n 's/^go //p' "$here/go.mod") or later on PATH"

started=$(date +%s)
echo "building pulumi $version into $bin ($(go env GOVERSION), module cache $(go env GOMODCACHE))"
trap 'echo "error: building pulumi $version failed after $(($(date +%s) - started)) s (see above). It needs Go $(sed -n "s/^go //p" "$here/go.mod") or later and either the Go module proxy (GOPROXY) or a module cache that holds the modules in go.sum." >&2' ERR

mkdir -p "$bin"
rm -f "$stamp"
cd "$here"
# go.mod and go.sum are complete: -mod=readonly downloads what is missing but never rewrites them.
# The machine's own Go is used (no toolchain download); GOFLAGS from the caller is replaced.
export GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false"
go mod download github.com/pulumi/pulumi/pkg/v3 github.com/pulumi/pulumi/sdk/v3
go build -trimpath \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" \
    -o "$bin/pulumi.partial.$$" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
mv -f "$bin/pulumi.partial.$$" "$bin/pulumi"

# The engine finds plugins on PATH or next to the CLI: copy the two scripts of the sdk/v3 module.
sdk=$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
[ -d "$sdk/python" ] || die "sdk/v3 module directory not found ($sdk)"
install -m 0755 "$sdk/python/dist/pulumi-resource-pulumi-python" "$bin/"
install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" "$bin/"

got=$("$bin/pulumi" version)
[ "$got" = "$version" ] || die "the built CLI says '$got', not $version"
trap - ERR
rm -f "$bin"/.built-* # stamps of an older layout of this script
elapsed=$(($(date +%s) - started))
printf '%s\nbuilt %s in %d s with %s\n' "$want_stamp" "$(date -u +%FT%TZ)" "$elapsed" "$(go env GOVERSION)" >"$stamp"
echo "built pulumi $version in ${elapsed} s into $bin"
