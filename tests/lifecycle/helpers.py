"""What the provider-host and engine tests share besides `tests.kit`: the resource they declare,
the paths of Truto's API, and readers of the emulator's journal, create marks masked so that
runs compare."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from truto_pulumi._inputs import parse_timestamp
from truto_pulumi._mark import CreateMark, read_mark
from truto_pulumi.emulator import Emulator

from ..kit import ACCOUNT, bag

NAME = "srv"
"""The Pulumi resource name used by most tests."""

MASK = "[pulumi creating <mark>]"
"""What `masked` shows in place of a create mark (stack tag and nonce: drawn per POST)."""

PROVISIONAL = "<provisional>"
"""What `masked` shows in place of a marked POST's provisional expiry (drawn from the clock)."""


def desired(**props: Any) -> dict[str, dict[str, Any]]:
    """The desired state: one server `NAME`, its inputs `bag(**props)` (None leaves one out)."""
    return {NAME: bag(**props)}


def api_calls(emulator: Emulator) -> list[tuple[str, str, Any]]:
    """(method, path, body) of every API request the emulator received, in order."""
    return [(entry["method"], entry["path"], entry["body"]) for entry in emulator.journal()]


def requests_of(emulator: Emulator, method: str) -> list[dict[str, Any]]:
    """The journal entries of one HTTP method."""
    return [entry for entry in emulator.journal() if entry["method"] == method]


def account_read(account: str = ACCOUNT) -> tuple[str, str, None]:
    """The read of the integrated account itself, as `api_calls` shows it: a run's first create
    or adoption under `account` sends it before anything else there, for the installed
    integration the account belongs to (`environment_integration_id`)."""
    return ("GET", f"/integrated-account/{account}", None)


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


def create_mark(posted: object) -> tuple[str, CreateMark]:
    """The declared name and the create mark of a name a create POSTed; fails the test for a
    name without the mark."""
    marked = read_mark(posted)
    assert marked is not None, f"POSTed without a create mark: {posted!r}"
    return marked


def marked_post(name: str, **fields: Any) -> dict[str, Any]:
    """The body of a create's POST as `masked` shows it: `name` under the mark, the provisional
    expiry, and `fields` (its `config`)."""
    return {"name": f"{name} {MASK}", **fields, "expires_at": PROVISIONAL}


def renamed(name: str, expires_at: str | None = None) -> dict[str, Any]:
    """The body of a create's rename: the declared name and expiry (None clears the
    provisional one)."""
    return {"name": name, "expires_at": expires_at}


def masked(body: Any) -> Any:
    """A request body whose name carries a create mark as `marked_post` shows it (a provisional
    expiry, within the hour, as PROVISIONAL), so runs compare; any other body as it is, so a
    name POSTed without a mark still differs."""
    found = read_mark(body.get("name")) if isinstance(body, dict) else None
    if found is None:
        return body
    expiry = body.get("expires_at")
    hour = datetime.now(UTC) + timedelta(hours=1)
    provisional = isinstance(expiry, str) and parse_timestamp(expiry) < hour
    shown = {**body, "name": f"{found[0]} {MASK}"}
    return {**shown, "expires_at": PROVISIONAL} if provisional else shown


def masked_calls(emulator: Emulator) -> list[tuple[str, str, Any]]:
    """`api_calls` with each create mark masked (`masked`)."""
    return [(method, path, masked(body)) for method, path, body in api_calls(emulator)]
