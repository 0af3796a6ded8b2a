"""CPU seconds used by processes (Linux `/proc`), to see which process does the work."""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["CpuClock", "process_cpu_seconds"]

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu_seconds(pid: int | None = None) -> float | None:
    """User + system CPU seconds of `pid` (this process when None); None if not readable."""
    if pid is None or pid == os.getpid():
        times = os.times()
        return times.user + times.system
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            text = stat.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: split after its closing parenthesis.
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


@dataclass
class CpuClock:
    """CPU seconds used by named processes between `start()` and `stop()`."""

    pids: dict[str, int | None]

    def __post_init__(self) -> None:
        self._started: dict[str, float | None] = {}

    def start(self) -> None:
        self._started = {name: process_cpu_seconds(pid) for name, pid in self.pids.items()}

    def stop(self) -> dict[str, float]:
        used: dict[str, float] = {}
        for name, pid in self.pids.items():
            before, after = self._started.get(name), process_cpu_seconds(pid)
            if before is not None and after is not None:
                used[name] = after - before
        return used
