"""Engine-side resource options and flags on TrutoMcpServer, run by the real engine: one stack
holding a server per option, taken through the changes and commands each option is about."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from devkit.project import ProjectFolder, changed
from truto_pulumi.emulator import Emulator

from ..kit import ACCOUNT, OTHER_ACCOUNT
from ..lifecycle.helpers import api_calls, create_mark, item_path
from .conftest import failed

pytestmark = pytest.mark.engine

PROGRAM = f"""
import pulumi
from truto_pulumi import TrutoMcpServer

app = pulumi.Config("app")
changed = app.get_object("changed") or {{}}  # inputs overridden, by server
options = {{
    "ignored": pulumi.ResourceOptions(ignore_changes=["name"]),
    "protected": pulumi.ResourceOptions(protect=app.get_bool("protect") is not False),
    "retained": pulumi.ResourceOptions(retain_on_delete=True),
    "dbr": pulumi.ResourceOptions(delete_before_replace=True),
    "roc": pulumi.ResourceOptions(replace_on_changes=["config"]),
    "trigger": pulumi.ResourceOptions(replacement_trigger=app.get("trigger") or "v1"),
}}
for name, opts in options.items():  # a server per option, named after it, reading in ACCOUNT
    base = {{"integrated_account_id": {ACCOUNT!r}, "config": {{"methods": ["read"]}}}}
    TrutoMcpServer(name, **{{**base, "name": name, **changed.get(name, {{}})}}, opts=opts)
"""


def declare(
    project: ProjectFolder, trigger: str = "v1", protect: bool = True, **changed: Any
) -> None:
    """The program's settings: the trigger's `replacement_trigger`, `protected`'s `protect`,
    and inputs overridden by server name."""
    settings = {"trigger": trigger, "protect": str(protect).lower(), "changed": json.dumps(changed)}
    project.set_config({f"app:{key}": value for key, value in settings.items()})


def live(emulator: Emulator) -> dict[str, str]:
    """Server name -> id, as Truto has them."""
    return {server["name"]: server["id"] for server in emulator.servers()}


def test_each_option_does_what_the_engine_says_and_nothing_more(
    program_project: Callable[[str], ProjectFolder], emulator: Emulator
) -> None:
    project = program_project(PROGRAM)
    up = ("up", "--yes", "--skip-preview")
    project.pulumi(*up)
    before = live(emulator)
    emulator.clear_journal()

    changes: dict[str, Any] = {
        "ignored": {"name": "renamed but ignored"},
        "dbr": {"integrated_account_id": OTHER_ACCOUNT},
        "roc": {"config": {"methods": ["read"], "tags": ["crm"]}},
    }
    declare(project, trigger="v2", **changes)
    project.pulumi(*up)

    # replace_on_changes has no effect: the host answers Diff without per-property detail.
    assert changed(project) == {"update": 1, "replace": 2}
    calls = [  # a POST's body as the name it marks
        (method, path, create_mark(body["name"])[0] if method == "POST" else body)
        for method, path, body in api_calls(emulator)
    ]
    assert not [call for call in calls if before["ignored"] in call[1]]  # ignore_changes
    assert [(m, b) for m, p, b in calls if before["roc"] in p] == [
        ("PATCH", {"config": {"methods": ["read"], "tags": ["crm"]}})
    ]
    dbr_delete = calls.index(("DELETE", item_path(before["dbr"]), None))
    dbr_post = next(i for i, (m, _, b) in enumerate(calls) if (m, b) == ("POST", "dbr"))
    assert dbr_delete < dbr_post  # delete_before_replace
    trigger_post = next(i for i, (m, _, b) in enumerate(calls) if (m, b) == ("POST", "trigger"))
    assert trigger_post < calls.index(("DELETE", item_path(before["trigger"]), None))
    after = live(emulator)
    assert after["dbr"] != before["dbr"]
    assert after["trigger"] != before["trigger"]

    emulator.clear_journal()
    changes["roc"] = {**changes["roc"], "name": "roc v2"}
    declare(project, trigger="v2", **changes, protected={"name": "protected v2"})
    project.pulumi(
        *up, "--target", project.servers()["roc"]["urn"]
    )  # only the targeted server changes
    assert [(m, b) for m, _, b in api_calls(emulator)] == [("PATCH", {"name": "roc v2"})]

    declare(project, trigger="v2", **changes)
    project.pulumi(*up, "--replace", project.servers()["retained"]["urn"])
    retained = project.servers()["retained"]["id"]
    assert retained != after["retained"]
    live_ids = {server["id"] for server in emulator.servers()}
    assert {retained, after["retained"]} <= live_ids  # retain_on_delete kept the replaced one

    assert "protected" in failed(project, "destroy", "--yes", "--skip-preview")
    assert before["protected"] in {server["id"] for server in emulator.servers()}
    declare(project, trigger="v2", protect=False, **changes)
    project.pulumi(*up)
    project.pulumi("destroy", "--yes", "--skip-preview")
    assert project.servers() == {}
    left = {server["id"]: server["name"] for server in emulator.servers()}
    assert set(left.values()) == {"retained"}  # retain_on_delete, each time the engine deleted it
    assert {retained, after["retained"]} <= set(left)
