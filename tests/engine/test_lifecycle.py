"""Preview, up, update, replace, refresh and destroy through the real engine (the pinned `pulumi`
CLI) against the emulator: the plan the engine reports, the HTTP calls Truto received, and the
state `pulumi stack export` shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from devkit.driver import EngineStack, changes, dumps, is_secret
from truto_pulumi import TrutoMcpServer
from truto_pulumi._mark import stack_tag
from truto_pulumi.emulator import Emulator

from ..kit import ACCOUNT, OTHER_ACCOUNT, EngineStackFactory
from ..lifecycle.helpers import (
    account_path,
    account_read,
    api_calls,
    check_create_order,
    collection_path,
    item_path,
    marked_post,
    masked_calls,
    post_marks,
    renamed,
)

pytestmark = pytest.mark.engine

READER = {"integrated_account_id": ACCOUNT, "name": "reader", "config": {"methods": ["read"]}}
WRITER = {"integrated_account_id": ACCOUNT, "name": "writer", "config": {"methods": ["write"]}}


def posted(props: dict[str, Any]) -> dict[str, Any]:
    """The body a create of `props` POSTs (as `masked_calls` shows it): its name marked."""
    return marked_post(props["name"], **{k: props[k] for k in ("config",) if k in props})


def in_any_order(calls: list[tuple[str, str, Any]]) -> list[tuple[str, str, Any]]:
    """Calls of steps the engine runs in parallel, in a fixed order to compare them."""
    return sorted(calls, key=dumps)


def test_preview_of_a_new_stack_plans_creates_and_makes_no_http_call(
    engine_stack: EngineStack, emulator: Emulator
) -> None:
    preview = engine_stack.preview({"reader": READER, "writer": WRITER})
    assert changes(preview.change_summary) == {"create": 3}  # the stack and two servers
    assert api_calls(emulator) == []


def test_preview_without_a_token_fails_with_the_provider_message(
    make_engine_stack: EngineStackFactory, emulator: Emulator
) -> None:
    stack = make_engine_stack(api_token=None)
    with pytest.raises(auto.CommandError) as raised:
        stack.preview({"reader": READER})
    message = str(raised.value)
    assert "truto:apiToken" in message
    assert "pulumi config set --secret truto:apiToken" in message
    assert "TRUTO_API_TOKEN" in message
    assert api_calls(emulator) == []


def test_up_posts_once_per_server_and_the_next_preview_expects_no_changes(
    engine_stack: EngineStack, emulator: Emulator
) -> None:
    """One POST per server, under the stack's create mark, then a PATCH giving it its declared
    name; the first create in the account reads the account (its installed integration) and
    lists it once (GET) for what killed runs left."""
    up = engine_stack.up({"reader": READER, "writer": WRITER})
    assert changes(up.summary.resource_changes) == {"create": 3}
    live = {s["name"]: s for s in emulator.servers()}
    assert sorted(live) == ["reader", "writer"]
    assert in_any_order(masked_calls(emulator)) == in_any_order(
        [
            account_read(),
            ("GET", collection_path(), None),
            ("POST", collection_path(), posted(READER)),
            ("POST", collection_path(), posted(WRITER)),
            ("PATCH", item_path(live["reader"]["id"]), renamed("reader")),
            ("PATCH", item_path(live["writer"]["id"]), renamed("writer")),
        ]
    )
    check_create_order(api_calls(emulator))
    state = engine_stack.servers()
    marks = post_marks(emulator)
    assert {mark.stack for mark in marks} == {stack_tag(state["reader"]["urn"])}
    assert len({mark.nonce for mark in marks}) == 2
    assert {name: r["id"] for name, r in state.items()} == {
        "reader": live["reader"]["id"],
        "writer": live["writer"]["id"],
    }
    emulator.clear_journal()
    engine_stack.preview({"reader": READER, "writer": WRITER}, expect_no_changes=True)
    assert api_calls(emulator) == []


def test_parallel_creates_in_one_account_read_it_once(
    engine_stack: EngineStack, emulator: Emulator
) -> None:
    """The account is read once per account and run, also when the engine runs its creates in
    parallel: Truto answering slowly, every create starts before the first read is answered,
    and waits for it instead of reading the account too."""
    emulator.set_latency(0.5)
    declared = {
        name: {"integrated_account_id": ACCOUNT, "name": name} for name in ("a", "b", "c", "d")
    }

    engine_stack.up(declared)

    calls = api_calls(emulator)
    assert sorted(s["name"] for s in emulator.servers()) == sorted(declared)
    assert [call for call in calls if call[1] == account_path()] == [account_read()]
    assert [call for call in calls if call[0] == "GET" and call[1] == collection_path()] == [
        ("GET", collection_path(), None)
    ]


@pytest.mark.parametrize(
    ("change", "property_name", "patch"),
    [
        pytest.param({"name": "reader v2"}, "name", {"name": "reader v2"}, id="name"),
        pytest.param(
            {"config": {"methods": ["read"], "tags": ["crm"]}},
            "tags",
            {"config": {"methods": ["read"], "tags": ["crm"]}},
            id="config",
        ),
        pytest.param(
            {"expires_at": "2031-01-01T00:00:00Z"},
            "expires_at",
            {"expires_at": "2031-01-01T00:00:00Z"},
            id="expires_at",
        ),
    ],
)
def test_each_input_change_is_shown_by_preview_diff_and_sent_as_one_patch(
    engine_stack: EngineStack,
    emulator: Emulator,
    change: dict[str, Any],
    property_name: str,
    patch: dict[str, Any],
) -> None:
    engine_stack.up({"reader": READER})
    (server,) = emulator.servers()
    emulator.clear_journal()
    changed = {**READER, **change}

    preview = engine_stack.preview({"reader": changed}, diff=True)
    assert changes(preview.change_summary) == {"update": 1}
    assert property_name in preview.stdout
    assert api_calls(emulator) == []

    up = engine_stack.up({"reader": changed})
    assert changes(up.summary.resource_changes) == {"update": 1}
    assert api_calls(emulator) == [("PATCH", item_path(server["id"]), patch)]
    engine_stack.preview({"reader": changed}, expect_no_changes=True)


def test_account_change_replaces_creating_the_new_server_before_deleting_the_old(
    engine_stack: EngineStack, emulator: Emulator
) -> None:
    engine_stack.up({"reader": READER})
    (old,) = emulator.servers()
    emulator.clear_journal()
    moved = {**READER, "integrated_account_id": OTHER_ACCOUNT}

    up = engine_stack.up({"reader": moved})

    assert changes(up.summary.resource_changes) == {"replace": 1}
    (new,) = emulator.servers()
    assert masked_calls(emulator) == [
        account_read(OTHER_ACCOUNT),  # the run's first create in that account ...
        ("GET", collection_path(OTHER_ACCOUNT), None),  # ... reads it, and lists it
        ("POST", collection_path(OTHER_ACCOUNT), posted(moved)),
        ("PATCH", item_path(new["id"], OTHER_ACCOUNT), renamed("reader")),
        ("DELETE", item_path(old["id"]), None),
    ]
    assert (new["integrated_account_id"], new["name"]) == (OTHER_ACCOUNT, "reader")
    assert engine_stack.servers()["reader"]["id"] == new["id"]


def test_refresh_reports_out_of_band_edits_and_deletes_and_up_restores_them(
    engine_stack: EngineStack, emulator: Emulator
) -> None:
    tagger = {**READER, "name": "tagger", "config": {"methods": ["read"], "tags": ["crm"]}}
    declared = {"reader": READER, "writer": WRITER, "tagger": tagger}
    engine_stack.up(declared)
    live = {s["name"]: s for s in emulator.servers()}
    emulator.edit_server(live["reader"]["id"], name="renamed in the dashboard")
    emulator.edit_server(live["tagger"]["id"], config={"methods": ["read", "write"]})
    emulator.delete_server(live["writer"]["id"])
    emulator.clear_journal()

    refresh = engine_stack.refresh()

    assert changes(refresh.summary.resource_changes) == {"update": 2, "delete": 1}
    state = engine_stack.servers()
    assert sorted(state) == ["reader", "tagger"]
    assert state["reader"]["outputs"]["name"] == "renamed in the dashboard"
    assert state["tagger"]["outputs"]["config"] == {"methods": ["read", "write"]}
    emulator.clear_journal()

    up = engine_stack.up(declared)

    assert changes(up.summary.resource_changes) == {"update": 2, "create": 1}
    restored = {s["name"]: s for s in emulator.servers()}
    assert sorted(restored) == ["reader", "tagger", "writer"]
    assert in_any_order(masked_calls(emulator)) == in_any_order(
        [
            ("PATCH", item_path(live["reader"]["id"]), {"name": "reader"}),  # an update
            (
                "PATCH",
                item_path(live["tagger"]["id"]),
                {"config": {"methods": ["read"], "tags": ["crm"]}},
            ),
            account_read(),  # the create reads the account ...
            ("GET", collection_path(), None),  # ... and lists it for leftovers
            ("POST", collection_path(), posted(WRITER)),
            ("PATCH", item_path(restored["writer"]["id"]), renamed("writer")),
        ]
    )
    # The create's calls in their order; the updates of servers in the state read no account.
    updated = {item_path(live[name]["id"]) for name in ("reader", "tagger")}
    check_create_order([call for call in api_calls(emulator) if call[1] not in updated])
    engine_stack.preview(declared, expect_no_changes=True)


def test_up_refresh_recreates_a_server_deleted_outside_pulumi(
    engine_stack: EngineStack, emulator: Emulator
) -> None:
    engine_stack.up({"reader": READER})
    (server,) = emulator.servers()
    emulator.delete_server(server["id"])
    emulator.clear_journal()

    up = engine_stack.up({"reader": READER}, refresh=True)

    assert changes(up.summary.resource_changes) == {"create": 1}
    (new,) = emulator.servers()
    assert masked_calls(emulator) == [
        ("GET", item_path(server["id"]), None),  # the refresh: 404 ...
        ("GET", collection_path(), None),  # ... and the list proves the server gone
        account_read(),  # the create reads the account ...
        ("GET", collection_path(), None),  # ... and lists it for leftovers
        ("POST", collection_path(), posted(READER)),
        ("PATCH", item_path(new["id"]), renamed("reader")),
    ]
    assert new["name"] == "reader"
    assert engine_stack.servers()["reader"]["id"] == new["id"]


def test_state_records_the_programs_line_as_each_servers_source_position(
    engine_stack: EngineStack,
) -> None:
    def program() -> None:
        TrutoMcpServer("reader", integrated_account_id=ACCOUNT, name="reader")

    declared_at = program.__code__.co_firstlineno + 1
    engine_stack.program = program
    engine_stack.up({})
    position = engine_stack.servers()["reader"]["sourcePosition"]
    assert position.endswith(f"/tests/engine/{Path(__file__).name}#{declared_at}"), position


def test_destroy_deletes_every_server_and_empties_the_state(
    engine_stack: EngineStack, emulator: Emulator
) -> None:
    engine_stack.up({"reader": READER, "writer": WRITER})
    emulator.clear_journal()
    destroy = engine_stack.destroy()
    assert changes(destroy.summary.resource_changes) == {"delete": 3}
    assert sorted(m for m, _, _ in api_calls(emulator)) == ["DELETE", "DELETE"]
    assert emulator.servers() == []
    assert engine_stack.servers() == {}


def test_token_and_url_are_secret_in_state_and_outputs_and_the_api_token_is_nowhere(
    engine_stack: EngineStack, emulator: Emulator
) -> None:
    up = engine_stack.up({"reader": READER})
    (server,) = emulator.servers()
    outputs = engine_stack.servers()["reader"]["outputs"]
    assert is_secret(outputs["token"])
    assert is_secret(outputs["url"])
    assert up.outputs["reader-url"].secret is True
    assert up.outputs["reader-url"].value == server["url"]
    engine_stack.refresh()
    engine_stack.up({"reader": {**READER, "name": "reader v2"}})
    everything = dumps(engine_stack.export()) + engine_stack.text()
    home = engine_stack.root / "pulumi-home"
    logs = "".join(p.read_text(errors="replace") for p in home.rglob("*.log") if p.is_file())
    for secret in (emulator.api_token, server["token"]):
        assert secret not in everything
        assert secret not in logs
