"""Convergence in a project folder: after one `up`, `refresh --expect-no-changes` and `preview
--expect-no-changes` pass, even for a `config` option the provider does not know (a state an
earlier release wrote: `test_upgrade.py`). How `config` converges under every reading of Truto:
`test_diff.py::test_one_patch_leaves_truto_with_the_declared_config_under_every_reading`."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from devkit.project import ProjectFolder
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
