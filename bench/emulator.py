"""The emulator in a process of its own, driven through its `/_emulator/` hooks.

Run in-process, uvicorn would share the benchmark's GIL with the raw-httpx baseline and with
the engine stand-in, and its CPU could not be told apart from theirs. In its own process it has
a core's worth of interpreter to itself and `/proc` tells what it used.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
from types import TracebackType

from truto_pulumi.emulator.hooks import EmulatorHooks

__all__ = ["EmulatorProcess"]

_LISTENING = re.compile(r"listening on (?P<url>http://\S+)")


class EmulatorProcess(EmulatorHooks):
    """`python -m truto_pulumi.emulator --port 0`, with the hook client. A context manager."""

    def __init__(self) -> None:
        self.token = f"bench-{secrets.token_urlsafe(12)}"
        self._process: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> EmulatorProcess:
        command = [sys.executable, "-m", "truto_pulumi.emulator", "--port", "0"]
        self._process = process = subprocess.Popen(
            [*command, "--token", self.token],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert process.stdout is not None
        line = process.stdout.readline()  # "Truto emulator listening on http://..."
        match = _LISTENING.search(line)
        if match is None:
            self.stop()
            raise RuntimeError(f"the emulator did not start (first line: {line!r})")
        self.url = match["url"]
        self._open_hooks(self.url, self.token)
        return self

    def stop(self) -> None:
        self._close_hooks()
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def config(self, **extra: str) -> dict[str, str]:
        """Stack config pointing a provider at this emulator (plus `extra` keys)."""
        return {"truto:apiToken": self.token, "truto:baseUrl": self.url, **extra}

    def server_count(self) -> int:
        return len(self.servers())
