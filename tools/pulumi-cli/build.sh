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
# The Python language host (pulumi-language-python, which runs a `runtime: python` project folder)
# is not a module the Go proxy serves: it is installed beside the CLI from a build of Pulumi's own
# source for the same release, `../shared/tools/pulumi-language-python` next to this repository
# (PULUMI_LANGUAGE_PYTHON_DIR moves it), its sha256 and version checked. Without it this script
# fails: a CLI that cannot run a project folder is not what users run.
#
# A `pulumi` on PATH with its own pulumi-language-python beside it (a user's installation) wins:
# then nothing is built.
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

language_host_dir=${PULUMI_LANGUAGE_PYTHON_DIR:-$root/../shared/tools/pulumi-language-python}

# A user's own installation: a pulumi on PATH (not this build) with its language host beside it.
if on_path=$(command -v pulumi) && [ "$(dirname "$on_path")" != "$bin" ] &&
    [ -x "$(dirname "$on_path")/pulumi-language-python" ]; then
    echo "using $on_path ($("$on_path" version)) and its pulumi-language-python; nothing to build"
    exit 0
fi

# Installs the language host beside the CLI unless the same binary is there already.
install_language_host() {
    local want got
    [ -f "$language_host_dir/install" ] || die "no Python language host to install: \
$language_host_dir/install is missing (set PULUMI_LANGUAGE_PYTHON_DIR to the folder that holds \
pulumi-language-python.xz, its sha256 and install). Without it \`pulumi up\` cannot run a project folder."
    want=$(cat "$language_host_dir/pulumi-language-python.sha256")
    got=$(sha256sum "$bin/pulumi-language-python" 2>/dev/null | cut -d' ' -f1 || true)
    if [ "$got" != "$want" ]; then
        bash "$language_host_dir/install" "$bin"
    fi
    got=$("$bin/pulumi-language-python" -version 2>/dev/null || true)
    [ "$got" = "$version" ] ||
        die "$bin/pulumi-language-python says '$got', not $version: it must be the CLI's release"
}

files=(pulumi pulumi-resource-pulumi-python pulumi-language-python-exec)
up_to_date() {
    local f
    [ -f "$stamp" ] && [ "$(head -n 1 "$stamp")" = "$want_stamp" ] || return 1
    for f in "${files[@]}"; do [ -x "$bin/$f" ] || return 1; done
    [ "$("$bin/pulumi" version 2>/dev/null || true)" = "$version" ]
}
if up_to_date; then
    install_language_host
    echo "pulumi $version: already built in $bin (stamp $fingerprint), with its Python language host"
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
install_language_host
trap - ERR
rm -f "$bin"/.built-* # stamps of an older layout of this script
elapsed=$(($(date +%s) - started))
printf '%s\nbuilt %s in %d s with %s\n' "$want_stamp" "$(date -u +%FT%TZ)" "$elapsed" "$(go env GOVERSION)" >"$stamp"
echo "built pulumi $version in ${elapsed} s into $bin, with its Python language host"
