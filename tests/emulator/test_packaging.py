"""The emulator is an isolated, opt-in part of the package."""

from __future__ import annotations

import ast
import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

import truto_pulumi.emulator
from truto_pulumi.emulator._protocol import ConnectionDroppedError, drop_connection

EMULATOR_DIR = Path(truto_pulumi.emulator.__file__).parent
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # starts a process
def test_truto_emulator_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "truto-emulator"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=True)
    assert "--port" in result.stdout
    assert "--api-token" in result.stdout


def test_emulator_modules_import_nothing_else_from_truto_pulumi() -> None:
    offenders: list[str] = []
    for source in sorted(EMULATOR_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else []
                if node.level > 1:
                    offenders.append(f"{source.name}: relative import beyond the emulator")
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            offenders += [
                f"{source.name}: {name}"
                for name in names
                if name.split(".")[0] == "truto_pulumi"
                and not name.startswith("truto_pulumi.emulator")
            ]

    assert offenders == []


def test_public_api_is_exported() -> None:
    assert sorted(truto_pulumi.emulator.__all__) == [
        "Emulator",
        "Readings",
        "RemoteEmulator",
        "create_app",
        "run_emulator",
    ]
    assert "Emulator(" in (truto_pulumi.emulator.__doc__ or "")


def test_drop_without_the_uvicorn_extension_sends_an_unfinished_answer_and_raises() -> None:
    sent: list[object] = []

    async def send(message: object) -> None:
        sent.append(message)

    with pytest.raises(ConnectionDroppedError):
        asyncio.run(drop_connection({"type": "http"}, send))

    assert sent == [
        {
            "type": "http.response.start",
            "status": 502,
            "headers": [(b"content-length", b"1"), (b"connection", b"close")],
        }
    ]
