"""The emulator in a process of its own, not sharing the benchmark's GIL, with its hooks."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from truto_pulumi.emulator._hooks import EmulatorHooks


class EmulatorProcess(EmulatorHooks):
    """A running `python -m truto_pulumi.emulator`: its URL, token and hooks."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self._open_hooks(url, token)

    def config(self, **extra: str) -> dict[str, str]:
        """Stack config pointing a provider at this emulator (plus `extra` keys)."""
        return {"truto:apiToken": self.token, "truto:baseUrl": self.url, **extra}


@contextmanager
def emulator_process() -> Iterator[EmulatorProcess]:
    """Start the emulator on a free port; stop it (SIGTERM) on the way out."""
    token = f"bench-{secrets.token_urlsafe(12)}"
    command = [sys.executable, "-m", "truto_pulumi.emulator", "--port", "0", "--token", token]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()  # "Truto emulator listening on http://..."
            match = re.search(r"listening on (http://\S+)", line)
            if match is None:
                raise RuntimeError(f"the emulator did not start (first line: {line!r})")
            emulator = EmulatorProcess(match[1], token)
            try:
                yield emulator
            finally:
                emulator._close_hooks()
        finally:
            process.terminate()
