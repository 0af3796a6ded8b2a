"""The emulator is an isolated part of the package: its own copy of Truto's rules, an oracle and
not a second client."""

from __future__ import annotations

import re
from pathlib import Path

import truto_pulumi.emulator

OUTSIDE = re.compile(r"^\s*(?:from|import)\s+(?:truto_pulumi(?!\.emulator\b)|\.\.)", re.MULTILINE)
"""An import of the package outside the emulator, absolute or relative."""


def test_emulator_modules_import_nothing_else_from_truto_pulumi() -> None:
    sources = Path(truto_pulumi.emulator.__file__).parent.glob("*.py")
    offenders = {source.name: OUTSIDE.findall(source.read_text()) for source in sources}

    assert {name: found for name, found in offenders.items() if found} == {}
