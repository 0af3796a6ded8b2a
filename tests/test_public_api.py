"""The public surface other code and docs depend on: exported names, paths, type token."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import truto_pulumi
from truto_pulumi import TrutoMcpServer
from truto_pulumi.provider import TrutoMcpServerProvider


def test_exported_names_are_exactly_these() -> None:
    assert sorted(truto_pulumi.__all__) == [
        "McpServerConfigArgs",
        "TrutoApiError",
        "TrutoAuthError",
        "TrutoConfigError",
        "TrutoDeadlineError",
        "TrutoError",
        "TrutoMcpServer",
        "TrutoMcpServerArgs",
        "TrutoNotFoundError",
        "TrutoRateLimitedError",
        "TrutoServerError",
        "TrutoTransportError",
        "TrutoValidationError",
    ]
    assert all(hasattr(truto_pulumi, name) for name in truto_pulumi.__all__)


def test_provider_class_lives_at_its_stable_path_and_needs_no_arguments() -> None:
    provider = TrutoMcpServerProvider()
    assert type(provider).__module__ == "truto_pulumi.provider"
    assert type(provider).__qualname__ == "TrutoMcpServerProvider"


def test_resource_type_token() -> None:
    assert TrutoMcpServer._resource_type_name == "dynamic/truto:McpServer"


def test_package_ships_py_typed() -> None:
    assert (Path(truto_pulumi.__file__).parent / "py.typed").is_file()


def test_importing_the_package_loads_neither_emulator_nor_test_harness() -> None:
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, truto_pulumi; print(sorted(m for m in sys.modules "
            "if m.startswith(('truto_pulumi.emulator', 'truto_pulumi.testing', 'starlette'))))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "[]"
