"""Shared values and small readers of the emulator's journal for the lifecycle tests (the
account ids are `tests.kit`'s)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from truto_pulumi._inputs import parse_timestamp
from truto_pulumi._mark import CreateMark, read_mark
from truto_pulumi.emulator import Emulator

from ..kit import ACCOUNT

NAME = "srv"
"""The Pulumi resource name used by most tests."""


def desired(**props: Any) -> dict[str, dict[str, Any]]:
    """The desired state: one server `NAME` in `ACCOUNT`, overridden by `props`.

    A value of None removes the property (as if the program did not set it).
    """
    base: dict[str, Any] = {"integrated_account_id": ACCOUNT, "name": "reader"}
    merged = {**base, **props}
    return {NAME: {key: value for key, value in merged.items() if value is not None}}


def api_calls(emulator: Emulator) -> list[tuple[str, str, Any]]:
    """(method, path, body) of every API request the emulator received, in order."""
    return [(entry["method"], entry["path"], entry["body"]) for entry in emulator.journal()]


def requests_of(emulator: Emulator, method: str) -> list[dict[str, Any]]:
    """The journal entries of one HTTP method."""
    return [entry for entry in emulator.journal() if entry["method"] == method]


def account_path(account: str = ACCOUNT) -> str:
    """The integrated account itself: the first create (or adoption) under it in a run reads it
    once (`GET`), for the installed integration it belongs to (`environment_integration_id`)."""
    return f"/integrated-account/{account}"


def account_read(account: str = ACCOUNT) -> tuple[str, str, None]:
    """The account read as `api_calls` and `masked_calls` show it: a run's first create or
    adoption under `account` sends it before anything else there."""
    return ("GET", account_path(account), None)


def collection_path(account: str = ACCOUNT) -> str:
    return f"/integrated-account/{account}/mcp"


def item_path(server_id: str, account: str = ACCOUNT) -> str:
    return f"/integrated-account/{account}/mcp/{server_id}"


def made_in_dashboard(emulator: Emulator, account: str, **body: Any) -> dict[str, Any]:
    """A server made outside Pulumi (as in Truto's dashboard), with its token."""
    with emulator.client() as http:
        answer = http.post(collection_path(account), json={"config": {}, **body})
    answer.raise_for_status()
    created: dict[str, Any] = answer.json()
    return created


MASKED_MARK = "[pulumi creating <mark>]"
"""What `masked` shows in place of a create mark (stack tag and nonce: drawn per POST)."""


def create_mark(posted: object) -> tuple[str, CreateMark]:
    """The declared name and the create mark of a name a create POSTed; fails the test for a
    name without the mark."""
    marked = read_mark(posted)
    assert marked is not None, f"POSTed without a create mark: {posted!r}"
    return marked


PROVISIONAL = "<provisional>"
"""What `masked` shows in place of a marked POST's provisional expiry (drawn from the clock)."""


def marked(name: str) -> str:
    """`name` as `masked` shows it POSTed under a create mark."""
    return f"{name} {MASKED_MARK}"


def marked_post(name: str, **fields: Any) -> dict[str, Any]:
    """The body of a create's POST as `masked` shows it: `name` under the mark, the provisional
    expiry, and `fields` (its `config`)."""
    return {"name": marked(name), **fields, "expires_at": PROVISIONAL}


def renamed(name: str, expires_at: str | None = None) -> dict[str, Any]:
    """The body of a create's rename: the declared name and expiry (None clears the
    provisional one)."""
    return {"name": name, "expires_at": expires_at}


def masked(body: Any) -> Any:
    """A request body whose name carries a create mark, with the mark replaced by MASKED_MARK
    and a provisional expiry (within the hour) by PROVISIONAL, so runs compare; any other body
    as it is, so a name POSTed without a mark still differs."""
    if isinstance(body, dict):
        found = read_mark(body.get("name"))
        if found is not None:
            shown = {**body, "name": marked(found[0])}
            expiry = body.get("expires_at")
            if isinstance(expiry, str) and parse_timestamp(expiry) < _within_the_hour():
                shown["expires_at"] = PROVISIONAL
            return shown
    return body


def _within_the_hour() -> datetime:
    return datetime.now(timezone.utc) + timedelta(hours=1)


def masked_calls(emulator: Emulator) -> list[tuple[str, str, Any]]:
    """`api_calls` with each create mark masked (`masked`)."""
    return [(method, path, masked(body)) for method, path, body in api_calls(emulator)]


def check_create_order(calls: list[tuple[str, str, Any]]) -> None:
    """What creates running in parallel still fix of the order of `calls` ((method, path, body)
    as `api_calls` gives them): each POST is followed by a PATCH of the declared name on a
    server of its account; each account listing by a POST in that account (the first create
    there lists it for what interrupted runs left, then POSTs); and the first request about an
    account's servers comes after a read of the account itself (`account_read`), which is
    followed by a listing or POST there (a create reads its account before anything else)."""
    for index, (method, path, body) in enumerate(calls):
        earlier, later = calls[:index], calls[index + 1 :]
        if method == "POST":
            declared = create_mark(body["name"])[0]
            assert any(
                m == "PATCH" and p.startswith(f"{path}/") and b.get("name") == declared
                for m, p, b in later
            ), f"no rename to {declared!r} after its POST: {calls}"
        elif method == "GET" and path.endswith("/mcp"):
            assert ("POST", path) in [(m, p) for m, p, _ in later], f"no POST after: {calls}"
        if path.startswith("/integrated-account/") and "/mcp" in path:
            account = path.split("/")[2]
            assert account_read(account) in earlier, f"{account} not read before: {calls}"
        elif method == "GET" and path.count("/") == 2 and path.startswith("/integrated-account/"):
            mcp = f"{path}/mcp"
            assert any(p == mcp and m in ("GET", "POST") for m, p, _ in later), (
                f"no listing or POST after the read of {path}: {calls}"
            )
