"""The emulator in a process of its own (`python -m truto_pulumi.emulator`), not sharing the
caller's GIL, driven through its public hooks (`truto_pulumi.emulator.RemoteEmulator`)."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from devkit.truto import API_TOKEN_KEY, BASE_URL_KEY
from truto_pulumi.emulator import RemoteEmulator


class EmulatorProcess(RemoteEmulator):
    """A running `python -m truto_pulumi.emulator`: its URL, token and hooks."""

    def stack_config(self, **extra: str) -> dict[str, str]:
        """Stack config pointing a provider at this emulator (plus `extra` keys)."""
        return {API_TOKEN_KEY: self.api_token, BASE_URL_KEY: self.url, **extra}


@contextmanager
def emulator_process() -> Iterator[EmulatorProcess]:
    """Start the emulator on a free port with a fresh token; stop it (SIGTERM) on the way out."""
    token = f"devkit-{secrets.token_urlsafe(12)}"
    command = [sys.executable, "-m", "truto_pulumi.emulator", "--port", "0", "--api-token", token]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()  # "Truto emulator listening on http://..."
            match = re.search(r"listening on (http://\S+)", line)
            if match is None:
                raise RuntimeError(f"the emulator did not start (first line: {line!r})")
            with EmulatorProcess(match[1], token) as emulator:
                yield emulator
        finally:
            process.terminate()
