"""The demo command (`make demo` runs `examples/demo.py`) without a CLI: one clear line.

Its run through the real engine is `tests/engine/test_demo.py`.
"""

from __future__ import annotations

import runpy

import pytest

from .conftest import EXAMPLES


def test_without_a_pulumi_cli_the_demo_says_how_to_get_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    demo = runpy.run_path(str(EXAMPLES / "demo.py"), run_name="demo")
    monkeypatch.setattr("shutil.which", lambda _: None)
    assert demo["main"]() == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == (
        "demo failed: no pulumi CLI on PATH: run `make pulumi` (builds the pinned CLI)"
        " or install Pulumi"
    )
