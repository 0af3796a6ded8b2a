"""What the run saw: cores, Python, library versions, load, date."""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata

__all__ = ["Machine", "describe_machine", "load_average"]

_PACKAGES = ("pulumi", "grpcio", "httpx", "pydantic", "uvicorn", "starlette")


@dataclass(frozen=True)
class Machine:
    cores: int | None
    """Logical CPUs in the machine (`os.cpu_count()`)."""
    usable_cores: int | None
    """CPUs this process may run on (`sched_getaffinity`): what the run really had."""
    python: str
    platform: str
    packages: dict[str, str]
    date: str
    load_before: tuple[float, float, float] | None


def _usable_cores() -> int | None:
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count()


def load_average() -> tuple[float, float, float] | None:
    """1, 5 and 15 minute load averages, or None where the OS has none."""
    try:
        return os.getloadavg()
    except (AttributeError, OSError):
        return None


def describe_machine() -> Machine:
    packages: dict[str, str] = {}
    for name in _PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = "-"
    return Machine(
        cores=os.cpu_count(),
        usable_cores=_usable_cores(),
        python=sys.version.split()[0],
        platform=platform.platform(),
        packages=packages,
        date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        load_before=load_average(),
    )
