"""Failures under the real engine: Truto refusing, answers lost, wrong settings."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from pulumi import automation as auto

from devkit.driver import EngineStack
from devkit.project import ProjectFolder
from truto_pulumi.emulator import Emulator

from ..kit import ACCOUNT, EngineStackFactory
from ..lifecycle.helpers import account_path, collection_path, create_mark, item_path, renamed

pytestmark = pytest.mark.engine

ProgramProject = Callable[[str], ProjectFolder]

READER = {"integrated_account_id": ACCOUNT, "name": "reader", "config": {"methods": ["read"]}}


def test_truto_400_at_create_fails_the_up_with_its_message_and_leaves_no_state(
    engine_stack: EngineStack, emulator: Emulator
) -> None:
    emulator.inject(method="POST", status=400)
    with pytest.raises(auto.CommandError) as raised:
        engine_stack.up({"reader": READER})
    assert f"Truto answered 400 to POST {collection_path()}: Injected fault" in str(raised.value)
    assert engine_stack.servers() == {}
    assert emulator.servers() == []


def test_lost_create_answer_ends_with_one_server_whose_token_is_in_state(
    engine_stack: EngineStack, emulator: Emulator
) -> None:
    """Truto makes the server of the first POST, its answer is lost: the account is listed,
    the server with that POST's own mark deleted, and a POST under a new mark is renamed."""
    emulator.inject(method="POST", lose_answer=True)
    up = engine_stack.up({"reader": READER})
    (server,) = emulator.servers()
    assert server["name"] == "reader"
    assert engine_stack.servers()["reader"]["id"] == server["id"]
    assert up.outputs["reader-url"].value == server["url"]
    journal = emulator.journal()
    assert [(e["method"], e["path"]) for e in journal] == [
        ("GET", account_path()),  # the first create in the account: its installed integration
        ("GET", collection_path()),  # and leftovers of the stack
        ("POST", collection_path()),  # Truto makes the server; the answer is lost
        ("GET", collection_path()),  # the server with that POST's mark is listed ...
        ("DELETE", journal[4]["path"]),  # ... and deleted
        ("POST", collection_path()),  # under a new mark
        ("PATCH", item_path(server["id"])),  # the declared name
    ]
    assert journal[4]["path"] != item_path(server["id"])
    lost, kept = (create_mark(journal[i]["body"]["name"]) for i in (2, 5))
    assert (lost[0], kept[0]) == ("reader", "reader")
    assert lost[1].stack == kept[1].stack
    assert lost[1].nonce != kept[1].nonce
    assert journal[6]["body"] == renamed("reader")


def test_wrong_token_fails_the_up_saying_truto_refused_it(
    make_engine_stack: EngineStackFactory, emulator: Emulator
) -> None:
    stack = make_engine_stack(api_token="not-the-emulator-token")
    with pytest.raises(auto.CommandError) as raised:
        stack.up({"reader": READER})
    assert f"Truto answered 401 to POST {collection_path()}" in str(raised.value)
    assert "not-the-emulator-token" not in str(raised.value)
    assert emulator.servers() == []


@pytest.mark.parametrize("operation", ["refresh", "destroy"])
def test_a_base_url_that_answers_404_to_everything_never_drops_state(
    make_engine_stack: EngineStackFactory, emulator: Emulator, operation: str
) -> None:
    good = make_engine_stack()
    good.up({"reader": READER})
    good.configure(None, f"{emulator.url}/v1")
    # The engine keeps the provider's config in state: refresh and destroy use what the last
    # `up` stored, unless the program runs (`--run-program`) and brings the new config.
    with pytest.raises(auto.CommandError, match="does not show that the server is gone"):
        getattr(good, operation)(run_program=True)
    assert list(good.servers()) == ["reader"]
    assert len(emulator.servers()) == 1


def test_base_url_with_a_query_string_fails_preview_naming_the_setting(
    make_engine_stack: EngineStackFactory, emulator: Emulator
) -> None:
    stack = make_engine_stack(base_url=f"{emulator.url}?env=eu")
    with pytest.raises(auto.CommandError) as raised:
        stack.preview({"reader": READER})
    assert "truto:baseUrl must be the http(s) URL of Truto's API" in str(raised.value)
    assert emulator.journal() == []


# --- what Truto documents it refuses, through the CLI in a project folder ---------------------

TOOLS = [{"resource": "contacts", "method": "list", "tags": ["crm"]}]
"""The one tool of the account in the refusal tests."""

SCOPED = f"""
import pulumi
from truto_pulumi import TrutoMcpServer

TrutoMcpServer(
    "scoped",
    integrated_account_id="{ACCOUNT}",
    config={{"tags": pulumi.Config("app").require_object("tags")}},
)
"""


def test_a_config_that_matches_no_tool_fails_with_trutos_words_and_what_to_do(
    program_project: ProgramProject, emulator: Emulator
) -> None:
    emulator.set_readings(account_tools={ACCOUNT: TOOLS})
    project = program_project(SCOPED)
    project.pulumi("config", "set", "app:tags", '["hr"]')

    refused_create = project.pulumi("up", "--yes", "--skip-preview", check=False)

    assert refused_create.returncode != 0
    assert emulator.servers() == []
    project.pulumi("config", "set", "app:tags", '["crm"]')
    project.pulumi("up", "--yes", "--skip-preview")
    project.pulumi("config", "set", "app:tags", '["hr"]')
    refused_patch = project.pulumi("up", "--yes", "--skip-preview", check=False)

    assert refused_patch.returncode != 0
    for refused, nothing in ((refused_create, "created"), (refused_patch, "changed")):
        assert "No tools match the given methods and tags" in refused.text
        assert f"Nothing was {nothing}." in refused.text
        assert "match no tool of the integrated account" in refused.text
    assert [s["config"] for s in emulator.servers()] == [{"tags": ["crm"]}]
    assert project.servers()["scoped"]["outputs"]["config"] == {"tags": ["crm"]}


MANY = f"""
from truto_pulumi import TrutoMcpServer

for n in range(4):
    TrutoMcpServer(f"server-{{n}}", integrated_account_id="{ACCOUNT}")
"""


def test_a_create_beyond_the_plan_limit_fails_with_trutos_words_and_keeps_what_was_made(
    program_project: ProgramProject, emulator: Emulator
) -> None:
    emulator.set_readings(plan_limit=2)
    project = program_project(MANY)

    up = project.pulumi("up", "--yes", "--skip-preview", check=False)

    assert up.returncode != 0
    assert "Your plan allows 2 MCP servers" in up.text
    assert "beyond the plan's limit on MCP servers" in up.text
    made = {s["id"] for s in emulator.servers()}
    assert len(made) == 2
    assert {r["id"] for r in project.servers().values()} == made


def test_a_blocked_account_fails_the_up_within_a_minute_with_trutos_words_leaving_nothing(
    program_project: ProgramProject, emulator: Emulator
) -> None:
    emulator.set_readings(blocked_accounts=[ACCOUNT])
    project = program_project(MANY)
    started = time.monotonic()

    up = project.pulumi("up", "--yes", "--skip-preview", check=False)

    assert time.monotonic() - started < 60
    assert up.returncode != 0
    assert f"Integrated account {ACCOUNT} is blocked. Contact support." in up.text
    assert "retrying will not help" in up.text
    assert emulator.servers() == []
    assert project.servers() == {}
    assert {e["status"] for e in emulator.journal()} == {503}
