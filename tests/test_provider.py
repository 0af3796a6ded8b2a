"""The provider called in-process: the API token at check, a late expiry, `token_known`, its
pickle, and that a preview loads no HTTP client. Its operations against Truto are `lifecycle/`'s,
through the real provider host."""

from __future__ import annotations

import subprocess
import sys
import traceback
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from truto_pulumi._errors import TrutoConfigError
from truto_pulumi.provider import TrutoMcpServerProvider

from .kit import ACCOUNT

TOKEN = "truto-api-token-do-not-leak"
UNREACHABLE = "http://127.0.0.1:9"
"""A base URL no request may reach: a test that sends one fails on it, not silently."""


def configured(config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> TrutoMcpServerProvider:
    monkeypatch.delenv("TRUTO_API_TOKEN", raising=False)
    monkeypatch.delenv("TRUTO_BASE_URL", raising=False)
    provider = TrutoMcpServerProvider()
    provider.configure(ConfigureRequest(Config(config, project_name="demo")))
    return provider


def valid_inputs(**changes: Any) -> dict[str, Any]:
    return {"integrated_account_id": ACCOUNT, "name": "reader", "__provider": "x", **changes}


TYPED = {"truto:operationTimeoutSeconds": 1.5, "truto:maxRequestsPerSecond": 0}
"""Typed stack config (`pulumi config set --type`, numbers in `Pulumi.<stack>.yaml`)."""


@pytest.mark.parametrize("unchanged", [False, True], ids=["new_inputs", "unchanged_inputs"])
@pytest.mark.parametrize(
    ("config", "setting", "said"),
    [({}, "truto:apiToken",
      "set it with `pulumi config set --secret truto:apiToken <token>` or the environment "
      "variable TRUTO_API_TOKEN"),
     ({"truto:requestTimeoutSeconds": True}, "truto:requestTimeoutSeconds",
      "truto:requestTimeoutSeconds must be a number, got a value of type bool")],
    ids=["no_token", "typed_value_of_the_wrong_type"],
)  # fmt: skip
def test_a_settings_problem_fails_check_naming_the_setting_and_how_to_set_it(
    monkeypatch: pytest.MonkeyPatch,
    unchanged: bool,
    config: dict[str, Any],
    setting: str,
    said: str,
) -> None:
    """Typed numbers are honoured; the environment's token will do."""
    provider = configured(config, monkeypatch)
    olds = valid_inputs() if unchanged else {}
    (failure,) = provider.check(olds, valid_inputs()).failures
    assert (failure.property, failure.reason.endswith(said)) == (setting, True), failure.reason
    monkeypatch.setenv("TRUTO_API_TOKEN", TOKEN)
    provider.configure(ConfigureRequest(Config(TYPED, project_name="demo")))
    assert provider.check(olds, valid_inputs()).failures == []


EARLY_RELEASE_STATE = {**valid_inputs(), "url": "u", "token": "t", "updated_at": "2026-01-01"}
"""A server's outputs as the first release wrote them: no `token_known`."""


def soon(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


@pytest.mark.parametrize(
    ("operation", "ahead"),
    [("create", 30.0), ("create", -5.0), ("update", 30.0)],
    ids=["create_less_than_60_s_ahead", "create_past", "update_less_than_60_s_ahead"],
)
def test_an_expiry_no_longer_far_enough_ahead_fails_before_any_request(
    monkeypatch: pytest.MonkeyPatch, operation: str, ahead: float
) -> None:
    """Valid at the preview, but no longer by the time the create or update runs."""
    provider = configured({"truto:apiToken": TOKEN, "truto:baseUrl": UNREACHABLE}, monkeypatch)
    news = valid_inputs(expires_at=soon(ahead))
    olds = {**valid_inputs(expires_at=soon(3600)), "token_known": True}
    calls = {"create": lambda: provider.create(news)}
    with pytest.raises(TrutoConfigError) as raised:
        calls.get(operation, lambda: provider.update("mcp-1", olds, news))()
    message = str(raised.value)
    assert f"now, at the {operation}" in message
    assert "Nothing was sent to Truto: set a later expires_at, or none, and run again" in message


@pytest.mark.parametrize(
    ("state", "token_known"),
    [
        pytest.param(EARLY_RELEASE_STATE, True, id="early_release_with_token_and_url"),
        pytest.param({**valid_inputs(), "url": "u"}, False, id="early_release_without_token"),
        pytest.param({**EARLY_RELEASE_STATE, "token_known": False}, False, id="recorded_false"),
        pytest.param({**valid_inputs(), "token_known": True}, True, id="recorded_true"),
    ],
)
def test_a_state_without_token_known_is_an_update_that_writes_it_without_a_call(
    monkeypatch: pytest.MonkeyPatch, state: dict[str, Any], token_known: bool
) -> None:
    provider = configured({"truto:apiToken": TOKEN, "truto:baseUrl": UNREACHABLE}, monkeypatch)
    diff = provider.diff("id", {**state, "__provider": "x"}, valid_inputs())
    assert (diff.changes, diff.replaces) == ("token_known" not in state, [])
    outs = provider.update("id", state, valid_inputs()).outs
    assert outs is not None
    assert outs["token_known"] is token_known
    assert {k: outs.get(k) for k in ("token", "url")} == {k: state.get(k) for k in ("token", "url")}
    assert provider.diff("id", {**outs, "__provider": "x"}, valid_inputs()).changes is False


@pytest.mark.slow
def test_a_preview_loads_neither_httpx_nor_the_emulator_nor_the_test_harness() -> None:
    """The package loads neither the emulator nor the test harness; configure, check (new inputs,
    and unchanged ones: returned as they are) and diff open no HTTP client: httpx loads at the
    first create, read, update or delete."""
    inputs = {"integrated_account_id": ACCOUNT, "name": "n", "config": {"methods": ["read"]}}
    olds, news = {**inputs, "__provider": "old"}, {**inputs, "__provider": "new"}
    script = f"""\
import sys
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from truto_pulumi.provider import TrutoMcpServerProvider
p = TrutoMcpServerProvider()
p.configure(ConfigureRequest(Config({{"truto:apiToken": "t"}}, project_name="demo")))
r = p.check({{}}, {{"integrated_account_id": {ACCOUNT!r}, "name": "other"}})
assert r.failures == [], r.failures
r = p.check({olds!r}, {news!r})
assert (r.inputs, r.failures) == ({inputs!r}, [])
assert not p.diff("mcp-1", {{**{inputs!r}, "token_known": True}}, {news!r}).changes
loaded = ("httpx", "truto_pulumi.emulator", "truto_pulumi.testing", "starlette")
print(sorted(m for m in sys.modules if m.startswith(loaded)))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("full", ["", "1"], ids=["by_default", "with_TRUTO_PULUMI_TRACEBACKS"])
def test_an_expected_failure_leaves_the_provider_without_its_frames_or_causes_unless_asked(
    monkeypatch: pytest.MonkeyPatch, full: str
) -> None:
    """So the host's report of it is a few lines ending in its message."""
    provider = configured({}, monkeypatch)
    monkeypatch.setenv("TRUTO_PULUMI_TRACEBACKS", full)
    with pytest.raises(TrutoConfigError, match="no Truto API token") as info:
        provider.create(valid_inputs())
    frames = [frame.name for frame in traceback.extract_tb(info.tb)][1:]  # below this test
    assert frames == ["call", "create", "_operation"] if full else ["call"]
    assert (info.value.__cause__, info.value.__suppress_context__) == (None, not full)
