"""Create an MCP server so that a lost answer never leaves an orphan behind.

Truto reveals a server's `token` and `url` only in the answer to its POST. When that answer is
lost (timeout, dropped connection, a 5xx), the POST may have made a server, now or later, whose
token nobody will ever know. The rule:

1. A lost POST is *settled* before anything else happens, and never POSTed again while it may
   still land. It is settled when its server shows up in the account's list (the same name,
   config and expiry, made while the request was out, by Truto's clock, and held by no resource
   of this run), or when Truto itself answered it (500, 501, 503, or a 2xx with an unusable
   body: Truto's work on it is over, so one listing tells whether it made the server). A
   timeout, a dropped connection, or a gateway's 502/504 leaves Truto free to carry on: the
   account is listed again and again until the server shows up or the operation timeout
   (`truto:operationTimeoutSeconds`) runs out.
2. A server the lost POST made is deleted (its token is unknown), then the create POSTs again,
   waiting for the answer as long as the operation allows, since Truto has just shown that it
   can be slower than the request timeout. After `CREATE_ATTEMPTS` lost answers it gives up.
3. What cannot be attributed is never deleted: two matching servers, or a match while another
   create of the same name runs in this process, fail the create naming them. A lost POST not
   settled in time fails the create naming what may still appear. Nothing goes into the state
   then, and nothing is left behind unnamed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from ._diff import diff_inputs
from ._errors import TrutoError, TrutoNotFoundError, TrutoServerError, TrutoTransportError
from ._inputs import parse_timestamp
from ._settings import OPERATION_TIMEOUT_KEY

if TYPE_CHECKING:
    from ._client import TrutoClient

__all__ = [
    "CREATE_ATTEMPTS",
    "CREATE_WINDOW_MARGIN",
    "CREATE_WINDOW_TOLERANCE",
    "create_server",
    "find_own_servers",
    "lost_create_window",
    "settled_by_answer",
]

CREATE_ATTEMPTS = 3
"""POSTs one create may send when answers are lost, each after removing what the last made."""

CREATE_WINDOW_TOLERANCE = timedelta(seconds=1.5)
"""Slack around a lost POST's time window when Truto's clock is known from its `Date` header."""

CREATE_WINDOW_MARGIN = timedelta(seconds=60)
"""Slack around a lost POST's time window when Truto's clock is not known (no `Date` header)."""

_TRUTO_ANSWERED = frozenset({500, 501, 503})
"""5xx statuses that Truto itself sends once it is done with a request; 502, 504 and the
like come from a gateway that gave up while Truto may carry on."""

_FIRST_POLL = 0.25
_LONGEST_POLL = 4.0

_log = logging.getLogger("truto_pulumi.provider")


def create_server(
    client: TrutoClient,
    account_id: str,
    body: Mapping[str, Any],
    *,
    held: Callable[[], frozenset[str]],
    siblings: Callable[[], int],
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """POST `body`; settle every lost answer as the module docstring says.

    `held` gives the ids resources of this run hold; `siblings` how many creates of the same
    name under the account run in this process right now (this one included).
    """
    name = str(body["name"])
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        sent_at = datetime.now(timezone.utc)
        patience = None if attempt == 1 else client.operation_remaining()
        try:
            return client.create_mcp_server(account_id, body, timeout=patience)
        except (TrutoServerError, TrutoTransportError) as error:
            if isinstance(error, TrutoTransportError) and not error.request_sent:
                raise
            _log.warning("create of %r got no usable answer (%s); settling it", name, error)
            made = _settle(client, account_id, body, sent_at, error, held, siblings, sleep)
            if made is not None:
                _remove(client, account_id, name, made, error)
            if attempt == CREATE_ATTEMPTS:
                raise TrutoError(
                    f"no usable answer to {CREATE_ATTEMPTS} creates of MCP server {name!r}; "
                    f"each server they made was removed, none is left behind. Last error: {error}"
                ) from error
    raise AssertionError("unreachable")  # pragma: no cover


def settled_by_answer(error: TrutoError) -> bool:
    """Whether Truto itself answered a lost POST, so that its work on it is over."""
    if not isinstance(error, TrutoServerError):
        return False
    return error.status_code < 300 or error.status_code in _TRUTO_ANSWERED


def lost_create_window(
    sent_at: datetime, listed_at: datetime, clock_offset: float | None
) -> tuple[datetime, datetime]:
    """When, by Truto's clock, a lost POST sent at `sent_at` can have made its server.

    With Truto's clock known (`clock_offset`, from its `Date` header) the window is tight, so a
    same-named server another stack made seconds earlier falls outside it; without, it is
    widened by `CREATE_WINDOW_MARGIN` for clock skew.
    """
    if clock_offset is None:
        return sent_at - CREATE_WINDOW_MARGIN, listed_at + CREATE_WINDOW_MARGIN
    shift = timedelta(seconds=clock_offset)
    return (
        sent_at + shift - CREATE_WINDOW_TOLERANCE,
        listed_at + shift + CREATE_WINDOW_TOLERANCE,
    )


def find_own_servers(
    servers: list[dict[str, Any]],
    *,
    body: Mapping[str, Any],
    earliest: datetime,
    latest: datetime,
    tracked: frozenset[str] | set[str],
) -> list[dict[str, Any]]:
    """The servers a lost POST of `body` may have made: the same name, config and expiry,
    created inside the window, and not held by a resource this provider knows."""
    wanted = {key: body.get(key) for key in ("name", "config", "expires_at")}
    own = []
    for server in servers:
        if str(server.get("id")) in tracked:
            continue
        if diff_inputs(wanted, {key: server.get(key) for key in wanted}).changes:
            continue
        try:
            created = parse_timestamp(str(server.get("created_at")))
        except ValueError:
            continue
        if earliest <= created <= latest:
            own.append(server)
    return own


def _settle(
    client: TrutoClient,
    account_id: str,
    body: Mapping[str, Any],
    sent_at: datetime,
    error: TrutoError,
    held: Callable[[], frozenset[str]],
    siblings: Callable[[], int],
    sleep: Callable[[float], None],
) -> dict[str, Any] | None:
    """The server the lost POST made, None when it provably made none; raise when that cannot
    be told in time."""
    name = str(body["name"])
    answered = settled_by_answer(error)
    pause = _FIRST_POLL
    while True:
        try:
            servers = client.list_mcp_servers(account_id)
        except TrutoError as listing:
            raise TrutoError(
                f"creating MCP server {name!r} under integrated account {account_id} failed "
                f"({error}), and listing the account to check whether it was created anyway "
                f"failed too ({listing}). Look for a server named {name!r} created at or after "
                f"{sent_at:%Y-%m-%dT%H:%M:%SZ} and delete it, then run `pulumi up` again"
            ) from listing
        earliest, latest = lost_create_window(
            sent_at, datetime.now(timezone.utc), client.server_clock_offset
        )
        own = find_own_servers(servers, body=body, earliest=earliest, latest=latest, tracked=held())
        if len(own) > 1 or (own and siblings() > 1):
            ids = ", ".join(str(server["id"]) for server in own)
            raise TrutoError(
                f"creating MCP server {name!r} failed ({error}); server(s) {ids} under "
                f"integrated account {account_id} match it and were made in the same moment as "
                "another create of the same name, so which one this create made cannot be "
                "told. None was deleted: delete the one that belongs to no stack, then run "
                "`pulumi up` again"
            )
        if own:
            return own[0]
        if answered:
            return None
        remaining = client.operation_remaining()
        if remaining is None or remaining <= pause:
            waited = (datetime.now(timezone.utc) - sent_at).total_seconds()
            raise TrutoError(
                f"creating MCP server {name!r} under integrated account {account_id} got no "
                f"answer ({error}), and no such server had appeared {waited:.0f} s after the "
                f"request was sent, when the operation timeout ({OPERATION_TIMEOUT_KEY}) ran "
                "out. Truto may still make it, so the create was not sent again and nothing "
                f"was put in the state. If a server named {name!r} created after "
                f"{sent_at:%Y-%m-%dT%H:%M:%SZ} shows up (`python -m truto_pulumi.discover "
                f"--integrated-account-id {account_id}`), delete it; then run `pulumi up` again"
            )
        sleep(pause)
        pause = min(pause * 2, _LONGEST_POLL)


def _remove(
    client: TrutoClient,
    account_id: str,
    name: str,
    server: Mapping[str, Any],
    error: TrutoError,
) -> None:
    """Delete a server a lost POST made; its token is unknown, so it must not stay."""
    server_id = str(server["id"])
    try:
        client.delete_mcp_server(account_id, server_id)
    except TrutoNotFoundError:
        return
    except TrutoError as removal:
        raise TrutoError(
            f"creating MCP server {name!r} failed ({error}); it made server {server_id} whose "
            f"token Truto will not reveal again, and deleting it failed ({removal}). Server "
            f"{server_id} is left behind under integrated account {account_id}: delete it, "
            "then run `pulumi up` again"
        ) from removal
    _log.warning("removed MCP server %s, made by a lost create", server_id)
