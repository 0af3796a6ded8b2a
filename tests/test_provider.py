"""The provider's own behaviour, called in-process: configuration, check, diff, pickling.

Its create/read/update/delete against a live server are covered through the real provider
host in `test_provider_host.py`.
"""

from __future__ import annotations

import base64
import pickle
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

import dill
import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.output import Unknown

from truto_pulumi._errors import TrutoConfigError
from truto_pulumi.emulator import Emulator
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


def test_check_without_token_names_both_ways_to_set_it(monkeypatch: pytest.MonkeyPatch) -> None:
    provider = configured({}, monkeypatch)
    result = provider.check({}, valid_inputs())
    reasons = [failure.reason for failure in result.failures]
    assert len(reasons) == 1
    assert "pulumi config set --secret truto:apiToken" in reasons[0]
    assert "TRUTO_API_TOKEN" in reasons[0]


def test_token_from_environment_satisfies_check(monkeypatch: pytest.MonkeyPatch) -> None:
    provider = configured({}, monkeypatch)
    monkeypatch.setenv("TRUTO_API_TOKEN", TOKEN)
    provider.configure(ConfigureRequest(Config({}, project_name="demo")))
    assert provider.check({}, valid_inputs()).failures == []


def test_invalid_base_url_is_reported_at_check_without_the_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    provider = configured({"truto:apiToken": TOKEN, "truto:baseUrl": "ftp://x"}, monkeypatch)
    (failure,) = provider.check({}, valid_inputs()).failures
    assert "http(s)" in failure.reason
    assert TOKEN not in failure.reason


def test_check_returns_canonical_inputs_and_field_failures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    provider = configured({"truto:apiToken": TOKEN}, monkeypatch)
    good = provider.check({}, valid_inputs(config={"tags": ["b", "a", "b"]}))
    assert good.failures == []
    assert good.inputs["config"] == {"tags": ["a", "b"]}
    bad = provider.check({}, valid_inputs(name="", config={"tool_exposure": "none"}))
    paths = sorted(f.property or f.reason.split(": ", 1)[0] for f in bad.failures)
    assert paths == ["config.tool_exposure", "name"]


def test_diff_replaces_on_account_change_and_updates_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    provider = configured({"truto:apiToken": TOKEN}, monkeypatch)
    olds = {
        **valid_inputs(),
        "url": "u",
        "token": "t",
        "token_known": True,
        "updated_at": "2026-01-01T00:00:00Z",
    }
    assert provider.diff("id", olds, valid_inputs()).changes is False
    renamed = provider.diff("id", olds, valid_inputs(name="other"))
    assert (renamed.changes, renamed.replaces) == (True, [])
    moved = provider.diff("id", olds, valid_inputs(integrated_account_id=Unknown()))
    assert moved.changes is True
    assert moved.replaces == ["integrated_account_id"]


EARLY_RELEASE_STATE = {**valid_inputs(), "url": "u", "token": "t", "updated_at": "2026-01-01"}
"""A server's outputs as the first release wrote them: no `token_known`."""


def soon(seconds: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).isoformat()


@pytest.mark.parametrize("ahead", [30.0, -5.0], ids=["less_than_60_s_ahead", "past"])
def test_an_expiry_no_longer_far_enough_ahead_at_create_fails_before_any_request(
    monkeypatch: pytest.MonkeyPatch, ahead: float
) -> None:
    provider = configured({"truto:apiToken": TOKEN, "truto:baseUrl": UNREACHABLE}, monkeypatch)
    with pytest.raises(TrutoConfigError) as raised:
        provider.create(valid_inputs(expires_at=soon(ahead)))
    message = str(raised.value)
    assert "now, at the create" in message
    assert "Nothing was sent to Truto: set a later expires_at, or none, and run again" in message


def test_an_expiry_no_longer_far_enough_ahead_at_update_fails_before_any_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    provider = configured({"truto:apiToken": TOKEN, "truto:baseUrl": UNREACHABLE}, monkeypatch)
    olds = {**valid_inputs(expires_at=soon(3600)), "token_known": True}
    with pytest.raises(TrutoConfigError, match="now, at the update"):
        provider.update("mcp-1", olds, valid_inputs(expires_at=soon(30)))


def test_a_state_without_token_known_is_an_update_so_that_up_fills_it_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    provider = configured({"truto:apiToken": TOKEN}, monkeypatch)
    diff = provider.diff("id", EARLY_RELEASE_STATE, valid_inputs())
    assert (diff.changes, diff.replaces) == (True, [])


@pytest.mark.parametrize(
    ("state", "token_known"),
    [
        pytest.param(EARLY_RELEASE_STATE, True, id="early_release_with_token_and_url"),
        pytest.param({**valid_inputs(), "url": "u"}, False, id="early_release_without_token"),
        pytest.param({**EARLY_RELEASE_STATE, "token_known": False}, False, id="recorded_false"),
        pytest.param({**valid_inputs(), "token_known": True}, True, id="recorded_true"),
    ],
)
def test_an_update_with_nothing_to_patch_writes_token_known_without_a_call(
    monkeypatch: pytest.MonkeyPatch, state: dict[str, Any], token_known: bool
) -> None:
    provider = configured(
        {"truto:apiToken": TOKEN, "truto:baseUrl": "http://127.0.0.1:9"}, monkeypatch
    )
    outs = provider.update("id", state, valid_inputs()).outs
    assert outs is not None
    assert outs["token_known"] is token_known
    assert {k: outs.get(k) for k in ("token", "url")} == {k: state.get(k) for k in ("token", "url")}
    assert provider.diff("id", {**outs, "__provider": "x"}, valid_inputs()).changes is False


def test_configured_provider_pickles_without_token_or_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    provider = configured({"truto:apiToken": TOKEN}, monkeypatch)
    pickled = serialize_provider(provider)
    raw = base64.b64decode(pickled)
    assert TOKEN.encode() not in raw
    assert b"httpx" not in raw
    assert len(pickled) < 256
    assert pickled == serialize_provider(TrutoMcpServerProvider())  # by reference, no state
    restored = dill.loads(raw)
    assert isinstance(restored, TrutoMcpServerProvider)
    assert restored.check({}, valid_inputs()).failures != []  # unconfigured again
    assert TOKEN.encode() not in pickle.dumps(provider)


def test_provider_pickle_is_not_forced_secret() -> None:
    assert TrutoMcpServerProvider.serialize_as_secret_always is False


def test_provider_constructs_with_no_arguments() -> None:
    assert serialize_provider(TrutoMcpServerProvider()) == serialize_provider(
        TrutoMcpServerProvider()
    )


def loaded_after(config: dict[str, str], calls: str, module: str) -> bool:
    """Whether `module` is imported after a fresh interpreter configures a provider with
    `config` and runs `calls` on it (`p`)."""
    script = (
        "import sys\n"
        "from pulumi.dynamic import ConfigureRequest\n"
        "from pulumi.dynamic.config import Config\n"
        "from truto_pulumi.provider import TrutoMcpServerProvider\n"
        "p = TrutoMcpServerProvider()\n"
        f"p.configure(ConfigureRequest(Config({config!r}, project_name='demo')))\n"
        f"{calls}\n"
        f"print({module!r} in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return {"True": True, "False": False}[done.stdout.strip()]


@pytest.mark.slow
def test_configure_and_check_open_no_http_client() -> None:
    """Preview pays for validation only: httpx loads at the first create/read/update/delete."""
    check = (
        f"r = p.check({{}}, {{'integrated_account_id': {ACCOUNT!r}, 'name': 'n'}})\n"
        "assert r.failures == [], r.failures"
    )
    assert loaded_after({"truto:apiToken": "t"}, check, "httpx") is False


@pytest.mark.slow
def test_a_preview_with_nothing_to_change_never_loads_pydantic() -> None:
    """Check returns inputs identical to the old ones as they are: check of its own answer."""
    inputs = {"integrated_account_id": ACCOUNT, "name": "n", "config": {"methods": ["read"]}}
    olds, news = {**inputs, "__provider": "old"}, {**inputs, "__provider": "new"}
    check = f"r = p.check({olds!r}, {news!r})\nassert (r.inputs, r.failures) == ({inputs!r}, [])"
    assert loaded_after({"truto:apiToken": "t"}, check, "pydantic") is False


def test_unchanged_inputs_still_report_a_missing_api_token() -> None:
    inputs = valid_inputs()
    result = TrutoMcpServerProvider().check(inputs, dict(inputs))
    assert [failure.property for failure in result.failures or []] == ["truto:apiToken"]


@pytest.mark.slow
def test_refresh_and_destroy_never_load_pydantic(emulator: Emulator) -> None:
    """Only check validates; read canonicalizes Truto's answer and delete sends, without it."""
    with emulator.client() as api:
        server_id = api.post(
            f"/integrated-account/{ACCOUNT}/mcp", json={"config": {}, "name": "n"}
        ).json()["id"]
    config = {"truto:apiToken": emulator.api_token, "truto:baseUrl": emulator.url}
    props = {"integrated_account_id": ACCOUNT, "name": "n"}
    calls = f"p.read({server_id!r}, {props!r})\np.delete({server_id!r}, {props!r})"
    assert loaded_after(config, calls, "pydantic") is False
    assert emulator.servers() == []
