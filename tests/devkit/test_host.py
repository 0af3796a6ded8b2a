"""The kit's drivers report failures rather than hide them: a provider host that dies or says
nothing raises with what it wrote, and a perpetual diff fails `apply_step`."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from devkit import HostStartError, Plan, ProviderHost, Step


def _fake_host(root: Path, body: str) -> Path:
    """A fake `pulumi.dynamic` package under `root` whose `__main__` runs `body`."""
    package = root / "pulumi" / "dynamic"
    package.mkdir(parents=True)
    (root / "pulumi" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(textwrap.dedent(body))
    return root


@pytest.mark.slow
@pytest.mark.parametrize(
    ("body", "error"),
    [
        pytest.param(
            "import sys\nsys.stderr.write('fake host exploded\\n')\nsys.exit(3)",
            r"(?s)code 3.*fake host exploded",
            id="dies",
        ),
        pytest.param("import time\ntime.sleep(60)", r"no port within 0\.5s", id="silent"),
    ],
)
def test_a_host_that_prints_no_port_raises_and_is_stopped(
    tmp_path: Path, body: str, error: str
) -> None:
    host = ProviderHost(extra_paths=[_fake_host(tmp_path, body)], start_timeout=0.5)

    with pytest.raises(HostStartError, match=error):
        host.start()
    assert not host.running


def test_a_plan_left_after_apply_names_each_step_as_a_perpetual_diff() -> None:
    steps = {"a": Step("update", {}), "b": Step("replace", {}, ["zone"]), "c": Step("same", {})}
    said = (
        "plan after apply is not empty (perpetual diff): a: update; b: replace (replaces ['zone'])"
    )

    with pytest.raises(AssertionError, match=f"^{re.escape(said)}$"):
        Plan(steps, {}).assert_empty()
    Plan({"c": Step("same", {})}, {}).assert_empty()
