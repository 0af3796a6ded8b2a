"""The demo command (`make demo` runs `examples/demo.py`): the whole lifecycle, clean exit."""

from __future__ import annotations

import runpy
import subprocess
import sys

import pytest

from .conftest import EXAMPLES


@pytest.mark.slow
def test_demo_runs_the_whole_lifecycle_and_exits_cleanly() -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "demo.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin"},  # no pulumi CLI: the provider-host path
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "pulumi CLI not on PATH" in out
    for title in ("== preview", "== up", "== refresh", "== destroy"):
        assert title in out
    assert out.count("POST /integrated-account/") == 2
    assert out.count('-> 200 {"expires_at": "2031-06-30T00:00:00Z"}') == 2
    assert "drift" in out
    assert "Demo finished: emulator stopped, nothing left running." in out
    assert "Traceback" not in done.stderr


def test_a_failing_step_ends_the_demo_with_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    demo = runpy.run_path(str(EXAMPLES / "demo.py"), run_name="demo")
    monkeypatch.setattr("shutil.which", lambda _: None)

    def refresh_fails(self: object) -> None:
        raise RuntimeError("Truto is on fire")

    monkeypatch.setattr(demo["HarnessDriver"], "refresh", refresh_fails)
    assert demo["main"]() == 1
    err = capsys.readouterr().err
    assert err.strip() == (
        "demo failed: refresh (reports the drift): RuntimeError: Truto is on fire"
    )
