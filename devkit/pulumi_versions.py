"""Virtualenvs holding the lowest and the highest `pulumi` this package allows, for the tests of
what touches Pulumi's provider host (`truto:hostConcurrency`). Each holds the package's runtime
dependencies only; the package itself comes from the repo, on PYTHONPATH. Made on first use
under build/, with pip; a pip that fails fails the test, it is never skipped."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Literal

REPO = Path(__file__).resolve().parents[1]
_FRESH_FOR = 24 * 3600.0
"""Seconds a venv of the highest allowed pulumi is trusted to still hold the highest."""

Which = Literal["lowest", "highest"]


def allowed_pulumi(distribution: str = "truto-pulumi") -> tuple[str, list[str]]:
    """The package's `pulumi` requirement (`pulumi<4,>=3.235`) and its other runtime ones, as
    its installed metadata (pyproject.toml) says."""
    runtime = [r for r in metadata.requires(distribution) or [] if ";" not in r]
    pulumi = [r for r in runtime if re.match(r"pulumi\s*[<>=!~]", r)]
    if len(pulumi) != 1:
        raise ValueError(f"no single `pulumi` requirement in {distribution}: {runtime}")
    return pulumi[0], [r for r in runtime if r not in pulumi]


def lowest_pin(requirement: str) -> str:
    """`pulumi<4,>=3.200` -> `pulumi==3.200.0`: the lowest release the requirement allows."""
    lower = next(
        part.strip()[2:] for part in requirement[len("pulumi") :].split(",") if ">=" in part
    )
    parts = lower.strip().split(".")
    return "pulumi==" + ".".join(parts + ["0"] * (3 - len(parts)))


def pulumi_venv(which: Which, root: Path = REPO / "build" / "pulumi-versions") -> Path:
    """The Python of a virtualenv holding the `which` pulumi the package allows (made if
    missing, or for `highest` if older than a day); its version is in `version.txt` beside."""
    folder = root / which
    python = folder / "bin" / "python"
    marker = folder / "version.txt"
    requirement, others = allowed_pulumi()
    pulumi = lowest_pin(requirement) if which == "lowest" else requirement
    fresh = marker.is_file() and (
        marker.read_text(encoding="utf-8").strip() == pulumi.partition("==")[2]
        if which == "lowest"
        else time.time() - marker.stat().st_mtime < _FRESH_FOR
    )
    if fresh and python.is_file():
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(folder)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--upgrade", pulumi, *others],
        check=True,
    )
    version = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('pulumi'))"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    marker.write_text(version + "\n", encoding="utf-8")
    return python


def installed_pulumi(python: Path) -> str:
    """The pulumi version of a virtualenv `pulumi_venv` made."""
    return (python.parent.parent / "version.txt").read_text(encoding="utf-8").strip()
