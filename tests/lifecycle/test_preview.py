"""Preview: bad inputs, unknown values and a missing API token are all settled by Check and
Diff, through the real host, without a single HTTP call."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from devkit import MCP_SERVER_TYPE, UNKNOWN, CheckFailedError, ProviderHost, SimulatedStack
from truto_pulumi._settings import API_TOKEN_ENV, BASE_URL_ENV, BASE_URL_KEY
from truto_pulumi.emulator import Emulator
from truto_pulumi.provider import TrutoMcpServerProvider

from .helpers import NAME, api_calls, desired

pytestmark = pytest.mark.slow  # starts the provider host and the emulator


def in_seconds(seconds: float) -> str:
    moment = datetime.now(timezone.utc) + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def failure_properties(stack: SimulatedStack, state: dict[str, dict[str, Any]]) -> dict[str, str]:
    plan = stack.preview(state)
    assert NAME not in plan.steps
    return {failed_path(failure): failure.reason for failure in plan.failures[NAME]}


def failed_path(failure: Any) -> str:
    """The property a check failure names: its `property`, or, for a nested path the engine
    could not resolve, the path that leads its reason."""
    return str(failure.property or failure.reason.split(": ", 1)[0])


# --- bad inputs (each rule: tests/test_check.py) ----------------------------------------------


def test_every_bad_property_fails_preview_at_once_each_named_without_http(
    stack: SimulatedStack, emulator: Emulator
) -> None:
    state = desired(
        name="",
        config={"tags": ["crm", "\t"], "colour": "red"},
        integrated_account_id="acct-1",
    )

    failures = failure_properties(stack, state)
    # Valid when written, but less than 60 s ahead by the time of the check:
    late = failure_properties(stack, desired(expires_at=in_seconds(30)))

    assert sorted(failures) == [
        "config.colour",
        "config.tags",
        "integrated_account_id",
        "name",
    ]
    assert "unknown property" in failures["config.colour"]
    assert "item 1" in failures["config.tags"]
    assert list(late) == ["expires_at"]
    assert "less than 60 s ahead" in late["expires_at"]
    assert "UUID" in failures["integrated_account_id"]
    assert "must not be empty" in failures["name"]
    assert api_calls(emulator) == []


def test_bad_input_to_an_existing_server_fails_up_before_any_http_call(
    stack: SimulatedStack, emulator: Emulator
) -> None:
    stack.up(desired())
    before = stack.resources[NAME]
    emulator.clear_journal()

    with pytest.raises(CheckFailedError) as raised:
        stack.up(desired(config={"methods": []}))

    assert [failed_path(failure) for failure in raised.value.failures[NAME]] == ["config.methods"]
    assert api_calls(emulator) == []
    assert stack.resources[NAME] == before


# --- unknown values -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "op", "replaces"),
    [
        ({"name": UNKNOWN}, "update", []),
        ({"config": UNKNOWN}, "update", []),
        ({"config": {"methods": ["read"], "tags": [UNKNOWN]}}, "update", []),
        ({"expires_at": UNKNOWN}, "update", []),
        ({"integrated_account_id": UNKNOWN}, "replace", ["integrated_account_id"]),
    ],
    ids=["name", "config", "one-tag", "expires_at", "integrated_account_id"],
)
def test_unknown_value_at_preview_plans_a_change_without_http(
    stack: SimulatedStack, emulator: Emulator, props: dict[str, Any], op: str, replaces: list[str]
) -> None:
    stack.up(desired(config={"methods": ["read"], "tags": ["crm"]}))
    emulator.clear_journal()

    plan = stack.preview(desired(**{"config": {"methods": ["read"], "tags": ["crm"]}, **props}))

    assert plan.failures == {}
    assert plan.steps[NAME].op == op
    assert plan.steps[NAME].replaces == replaces
    assert api_calls(emulator) == []


def test_unknown_values_for_a_new_server_plan_a_create_without_http(
    stack: SimulatedStack, emulator: Emulator
) -> None:
    plan = stack.preview(desired(integrated_account_id=UNKNOWN, name=UNKNOWN))

    assert plan.steps[NAME].op == "create"
    assert api_calls(emulator) == []


# --- missing API token ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def tokenless_host(emulator: Emulator) -> Iterator[ProviderHost]:
    """A host with no token in its environment. Its base URL points at the emulator, so a
    request made by mistake would show in the journal (and never leave this machine)."""
    with ProviderHost(env={API_TOKEN_ENV: "", BASE_URL_ENV: emulator.url}) as started:
        yield started


def test_missing_api_token_fails_preview_saying_how_to_set_it(
    tokenless_host: ProviderHost, emulator: Emulator
) -> None:
    emulator.reset()
    stack = SimulatedStack(
        tokenless_host,
        TrutoMcpServerProvider(),
        type_token=MCP_SERVER_TYPE,
        stack_config={BASE_URL_KEY: emulator.url},
    )

    plan = stack.preview(desired())

    (failure,) = plan.failures[NAME]
    assert failure.property == "truto:apiToken"  # the setting, never an empty property
    assert "pulumi config set --secret truto:apiToken" in failure.reason
    assert "TRUTO_API_TOKEN" in failure.reason
    with pytest.raises(CheckFailedError, match="truto:apiToken"):
        stack.up(desired())
    assert api_calls(emulator) == []
    assert emulator.servers() == []
