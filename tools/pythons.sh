#!/usr/bin/env bash
# The rows of README's "Supported versions" that .venv does not run: each Python, and the lowest
# `pulumi` the package allows, in a virtualenv of its own under .cache/versions (an editable
# install of this checkout with the dev extra), running the fast tier and the real provider
# host's lifecycle. A row the machine cannot provide fails the run: it is tested, or the table is
# wrong. A row is `PYTHON` or `PYTHON:PULUMI` (PULUMI a pip requirement for the `pulumi` SDK).
set -euo pipefail
cd "$(dirname "$0")/.."
lowest=$(.venv/bin/python -c 'from devkit.pulumi_versions import allowed_pulumi, lowest_pin
print(lowest_pin(allowed_pulumi()[0]))')  # pulumi==3.235.0, as the lowest-pulumi host tests pin it
for row in ${ROWS:-3.12 3.13 "3.11:$lowest"}; do
    version=${row%%:*}
    pin=$([ "$row" = "$version" ] || echo "${row#*:}")
    python=""
    for candidate in "$(pyenv root 2>/dev/null)"/versions/"$version".*/bin/"python$version" \
        "$(command -v "python$version" || true)"; do
        if [ -x "$candidate" ] && "$candidate" -c '' 2>/dev/null; then python=$candidate; fi
    done
    [ -n "$python" ] || { echo "Python $version: not found (pyenv, PATH)" >&2; exit 1; }
    venv=.cache/versions/$version${pin:+-${pin//[^0-9.]/}}
    # Made again for a newer pyproject.toml or another checkout (the install is editable).
    if [ "$(cat "$venv/.installed" 2>/dev/null)" != "$PWD" ] || [ pyproject.toml -nt "$venv/.installed" ]; then
        rm -rf "$venv"
        "$python" -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --upgrade pip
        "$venv/bin/python" -m pip install --quiet -e '.[dev]' $pin
        echo "$PWD" > "$venv/.installed"
    fi
    sdk=$("$venv/bin/python" -c 'from importlib.metadata import version; print(version("pulumi"))')
    echo "== $("$venv/bin/python" --version), pulumi $sdk"
    "$venv/bin/pytest" -q -p no:cacheprovider -m "not slow" | tail -1
    "$venv/bin/pytest" -q -p no:cacheprovider tests/lifecycle/test_lifecycle.py | tail -1
done
