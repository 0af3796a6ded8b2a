"""Markdown tables, the one-line machine description, and docs/benchmarks.md, whose engine,
lookups and distance sections (between their markers) `python -m bench` keeps and
`python -m bench.engine` and `python -m bench.lookups` replace."""

from __future__ import annotations

import os
import statistics
import sys
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path

ENGINE_BEGIN, ENGINE_END = "<!-- bench.engine -->", "<!-- /bench.engine -->"
LOOKUPS_BEGIN, LOOKUPS_END = "<!-- bench.lookups -->", "<!-- /bench.lookups -->"
DISTANCE_BEGIN, DISTANCE_END = "<!-- bench.distance -->", "<!-- /bench.distance -->"
_SECTIONS = {
    "engine": (ENGINE_BEGIN, ENGINE_END),
    "lookups": (LOOKUPS_BEGIN, LOOKUPS_END),
    "distance": (DISTANCE_BEGIN, DISTANCE_END),
}
"""The sections other commands write, between their markers, after the host benchmark's part."""
TEMPLATE = Path(__file__).with_name("template.md")
"""The report's text: sections 1-6, then (from ENGINE_BEGIN) section 7."""


def table(header: str, rows: Iterable[Sequence[object]]) -> str:
    """A Markdown table; `header` has its cells separated by "|"."""
    lines = [f"| {header.replace('|', ' | ')} |", "|---" * (header.count("|") + 1) + "|"]
    return "\n".join([*lines, *("| " + " | ".join(map(str, row)) + " |" for row in rows), ""])


def spread(values: Sequence[float], fmt: str = "{:.3f}") -> str:
    """`median (min-max)`, or the one value."""
    middle = fmt.format(statistics.median(values))
    if len(values) == 1:
        return middle
    return f"{middle} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def machine() -> str:
    """Cores, Python and the versions of the packages on the measured path."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    names = ("pulumi", "grpcio", "httpx", "uvicorn")
    packages = ", ".join(f"{name} {metadata.version(name)}" for name in names)
    return f"{cores} cores, Python {sys.version.split()[0]}, {packages}"


def write_markdown(
    path: Path,
    body: str | None = None,
    engine: str | None = None,
    lookups: str | None = None,
    distance: str | None = None,
) -> None:
    """Replace the host benchmark's part (`body`), the engine's, the lookups' or the distance
    section, keeping the others as they are."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    kept: dict[str, str] = {}
    for name, (begin, end) in _SECTIONS.items():
        start, stop = text.find(begin), text.find(end)
        if 0 <= start < stop:
            stop += len(end)
            kept[name], text = text[start:stop], text[:start] + text[stop:]
    given = {"engine": engine, "lookups": lookups, "distance": distance}
    parts = [text if body is None else body]
    for name in _SECTIONS:
        section = given[name]
        parts.append(kept.get(name, "") if section is None else section)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n\n".join(part.strip() for part in parts if part.strip()) + "\n"
    path.write_text(text, encoding="utf-8")
