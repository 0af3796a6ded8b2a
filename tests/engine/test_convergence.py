"""Convergence in a project folder: after one `up`, `refresh --expect-no-changes` and `preview
--expect-no-changes` pass, even for a `config` option the provider does not know; and a state an
early release wrote gets every output this release declares. How `config` converges under every
reading of Truto:
`test_diff.py::test_one_patch_leaves_truto_with_the_declared_config_under_every_reading`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from devkit.project import ProjectFolder, planned
from truto_pulumi.emulator import Emulator

from ..kit import ACCOUNT
from ..lifecycle.helpers import api_calls, item_path

pytestmark = pytest.mark.engine

ProgramProject = Callable[[str], ProjectFolder]

SCOPED_PROGRAM = f"""
from truto_pulumi import TrutoMcpServer

TrutoMcpServer("scoped", integrated_account_id="{ACCOUNT}", config={{"methods": ["read"]}})
"""

NEWER_OPTION = "some_new_option"
"""A `config` option of a newer Truto that this provider does not know."""


def test_a_config_option_set_in_the_dashboard_that_the_provider_does_not_know_is_removed_once(
    program_project: ProgramProject, emulator: Emulator
) -> None:
    project = program_project(SCOPED_PROGRAM)
    emulator.set_readings(newer_keys=[NEWER_OPTION], echo_defaults=False)
    project.pulumi("up", "--yes", "--skip-preview")
    (server,) = emulator.servers()
    emulator.edit_server(server["id"], config={"methods": ["read"], NEWER_OPTION: "strict"})

    project.pulumi("refresh", "--yes", "--skip-preview")
    assert project.servers()["scoped"]["outputs"]["config"][NEWER_OPTION] == "strict"
    emulator.clear_journal()
    project.pulumi("up", "--yes", "--skip-preview")

    assert api_calls(emulator) == [
        ("PATCH", item_path(server["id"]), {"config": {"methods": ["read"], NEWER_OPTION: None}})
    ]
    assert [s["config"] for s in emulator.servers()] == [{"methods": ["read"]}]
    project.pulumi("refresh", "--yes", "--skip-preview", "--expect-no-changes")
    project.pulumi("preview", "--expect-no-changes")


def as_an_early_release_wrote_it(project: ProjectFolder, name: str) -> None:
    """Rewrite the stack's state as the first release left it: no `token_known` output (and
    no `adopt_id`, which it did not know)."""
    exported: dict[str, Any] = project.pulumi("stack", "export").json()
    for resource in exported["deployment"]["resources"]:
        if resource["urn"].endswith(f"::{name}"):
            for key in ("token_known", "adopt_id"):
                resource["outputs"].pop(key, None)
                resource.get("inputs", {}).pop(key, None)
    file = project.root / "early-release-state.json"
    file.write_text(json.dumps(exported))
    project.pulumi("stack", "import", "--file", str(file))
    assert "token_known" not in project.servers()[name]["outputs"]


def test_refresh_and_up_fill_outputs_an_early_release_did_not_write(
    program_project: ProgramProject, emulator: Emulator
) -> None:
    """Refresh fills them from its reads, `up` without a call; and `pulumi refresh --yes`
    previews first, so it reads each server twice, once with `--skip-preview` (as the README
    says)."""
    project = program_project(SCOPED_PROGRAM)
    project.pulumi("up", "--yes", "--skip-preview")
    before = project.servers("--show-secrets")["scoped"]["outputs"]
    (server,) = emulator.servers()
    read = ("GET", item_path(server["id"]), None)

    for command, calls in (("refresh", [read, read]), ("up", [])):
        as_an_early_release_wrote_it(project, "scoped")
        emulator.clear_journal()
        project.pulumi(command, "--yes")
        outputs = project.servers("--show-secrets")["scoped"]["outputs"]
        assert outputs["token_known"] is True, command
        assert {k: outputs[k] for k in ("token", "url")} == {k: before[k] for k in ("token", "url")}
        assert api_calls(emulator) == calls, command

    assert planned(project.preview_plan()) == {}
    emulator.clear_journal()
    project.pulumi("refresh", "--yes", "--skip-preview", "--expect-no-changes")
    assert api_calls(emulator) == [read]
