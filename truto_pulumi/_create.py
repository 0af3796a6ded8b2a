"""Create an MCP server so that no answer lost and no run killed leaves a server behind.

Truto reveals a server's `token` and `url` only in the answer to its POST, and only a server this
stack can prove it made (`_mark`) may be deleted. So:

1. The POST carries the marked name and a provisional expiry (`hold` seconds ahead), so Truto
   deletes what no process lived to finish; one PATCH then gives the declared name and expiry.
   A create whose engine is gone (the CLI killed) deletes what it made: nobody would record it.
2. A lost answer is *settled* first: listings begun after it until the POST's mark shows up
   (deleted, then POSTed anew with a new nonce) or Truto itself answered (500, 501, an unusable
   2xx; a 503 refuses before acting). A 502/504, a timeout or a dropped connection let Truto carry
   on: the settle waits `SETTLE_SECONDS` at most, then fails naming the mark.
3. The first create in an account in a run removes only legacy marks of this stack (releases up
   to 0.2.0 set no expiry), never an id the stack holds: no run deletes another's in flight.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ._deadline import Deadline
from ._errors import (
    TrutoCreateError,
    TrutoError,
    TrutoNotFoundError,
    TrutoServerError,
    TrutoTransportError,
)
from ._inputs import canonical_timestamp, parse_timestamp
from ._mark import CreateMark, read_mark
from ._schema import CREATE_ONLY_OUTPUTS
from ._settings import OPERATION_TIMEOUT_KEY

if TYPE_CHECKING:
    from ._client import TrutoClient
    from ._listings import AccountListings


CREATE_ATTEMPTS = 3
"""POSTs one create may send when answers are lost, each after removing what the last made."""

PROVISIONAL_MARGIN = 120.0
"""Seconds a marked server's provisional expiry lies beyond the create's operation timeout."""

SETTLE_SECONDS = 60.0
"""How long a lost POST's server is waited for at most; later its mark still proves whose it is."""

_EXPIRES = (
    f"Truto deletes it by itself at that expiry ({OPERATION_TIMEOUT_KEY} and two minutes after "
    "its create at the latest)"
)

_log = logging.getLogger("truto_pulumi.create")


def create_server(
    client: TrutoClient,
    account_id: str,
    body: Mapping[str, Any],
    deadline: Deadline,
    *,
    mark: CreateMark,
    hold: float,
    listings: AccountListings,
    interrupted: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, Any]:
    """POST `body` under `mark` with an expiry at most `hold` seconds ahead, then rename it, all
    by `deadline`. Messages name the mark and ids, never the name: it may be a secret."""
    name, declared = str(body["name"]), body.get("expires_at")
    create = _Create(client, account_id, deadline, mark, interrupted)
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        if attempt > 1:
            create.mark = create.mark.renewed()
        if interrupted():
            raise create.interrupted_error(made=None)
        latest = now() + timedelta(seconds=hold)
        posted = canonical_timestamp(latest.isoformat())  # unless the declared one is no later
        if isinstance(declared, str) and parse_timestamp(declared) <= latest:
            posted = declared
        rename = {"name": name} if posted == declared else {"name": name, "expires_at": declared}
        marked = {**body, "name": create.mark.on(name), "expires_at": posted}
        try:  # a POST sent again waits for its answer as long as the operation may
            server = client.create_mcp_server(account_id, marked, deadline, patient=attempt > 1)
        except (TrutoServerError, TrutoTransportError) as error:
            if isinstance(error, TrutoTransportError) and not error.request_sent:
                raise
            if isinstance(error, TrutoServerError) and error.status_code == 503:
                raise  # Truto refuses before acting (a blocked account): no server was made
            _log.warning("create %s got no usable answer (%s); settling it", create.mark, error)
            made = create.settle(listings, marked["name"], error, sleep)
            if made is not None:
                create.remove(made, error)
            if attempt == CREATE_ATTEMPTS:
                raise TrutoCreateError(
                    f"no usable answer to {CREATE_ATTEMPTS} creates of this MCP server; each "
                    f"server they made was removed, none is left behind. Last error: {error}",
                    mark=str(create.mark),
                ) from error
            continue
        return create.named(server, rename)
    raise AssertionError("unreachable")  # pragma: no cover


def settled_by_answer(error: TrutoError) -> bool:
    """Whether Truto itself answered a lost POST (an unusable 2xx, 500, 501, 503): it is done."""
    return isinstance(error, TrutoServerError) and (
        error.status_code < 300 or error.status_code in (500, 501, 503)
    )


def left_behind(
    servers: list[dict[str, Any]], *, stack: str, held: Collection[str]
) -> list[tuple[dict[str, Any], CreateMark]]:
    """The servers, with their marks, under the stack's legacy mark and not `held`: a current
    mark is Truto's to delete at its provisional expiry, and until then may be in flight."""
    marked = ((server, read_mark(server.get("name"))) for server in servers)
    return [
        (server, found[1])
        for server, found in marked
        if found and found[1].legacy and found[1].stack == stack and str(server["id"]) not in held
    ]


def remove_left_behind(
    client: TrutoClient,
    account_id: str,
    deadline: Deadline,
    *,
    stack: str,
    held: Callable[[], Collection[str]],
    listings: AccountListings,
) -> None:
    """Delete the stack's legacy leftovers (`left_behind`); a failure only warns: the next run
    tries again."""
    try:
        for server, mark in left_behind(
            listings.fresh(account_id, deadline), stack=stack, held=held()
        ):
            try:
                client.delete_mcp_server(account_id, str(server["id"]), deadline)
            except TrutoNotFoundError:
                continue
            _log.warning(
                "removed MCP server %s under integrated account %s, its name ending in %s: an "
                "interrupted run of this stack made it, and its token was never recorded",
                server["id"],
                account_id,
                mark,
            )
    except TrutoError as error:
        _log.warning(
            "could not check integrated account %s for servers an interrupted run of an earlier "
            "release left (%s); the next `pulumi up` that creates a server there tries again",
            account_id,
            error,
        )


@dataclass
class _Create:
    """One create's calls under its current `mark`; `interrupted`: whether the engine is gone."""

    client: TrutoClient
    account_id: str
    deadline: Deadline
    mark: CreateMark
    interrupted: Callable[[], bool]

    def named(self, server: Mapping[str, Any], rename: Mapping[str, Any]) -> dict[str, Any]:
        """Rename a server just made, keeping its create-only outputs; delete it when nobody is
        left to record it, or when it cannot be renamed (a lost rename is read back)."""
        server_id = str(server["id"])
        revealed = {key: server[key] for key in CREATE_ONLY_OUTPUTS if key in server}
        # The rename's retries take half the time left: the rest reads a lost one back.
        half = Deadline.after(
            max(self.deadline.remaining(), 0.0) / 2,
            f"half of what {OPERATION_TIMEOUT_KEY} left, the rest kept to read it back",
        )
        try:
            if self.interrupted():
                raise self.interrupted_error(made=server_id)
            renamed = self.client.update_mcp_server(self.account_id, server_id, rename, half)
        except TrutoCreateError as error:
            self.remove(server, error)
            raise
        except TrutoError as error:  # the rename may have landed though its answer did not
            try:
                now = self.client.get_mcp_server(self.account_id, server_id, self.deadline)
            except TrutoError:
                now = None
            name = rename["name"]
            if now is not None and now.get("name") == name and not self.interrupted():
                _log.warning("the rename of %s got no answer (%s), but it landed", self.mark, error)
                return {**now, **revealed}
            still_marked = now is not None and now.get("name") == self.mark.on(name)
            self.remove(server, error, marked=still_marked)
            raise
        if self.interrupted():
            gone = self.interrupted_error(made=server_id)
            self.remove(server, gone, marked=False)
            raise gone
        return {**renamed, **revealed}

    def interrupted_error(self, made: str | None) -> TrutoCreateError:
        what = f"server {made} it made was removed" if made else "no request was sent"
        return TrutoCreateError(
            "the create of this MCP server was interrupted (the Pulumi run that asked for it is "
            f"gone): {what}. A server whose name ends in {str(self.mark)!r} that may still "
            f"appear carries a provisional expiry: {_EXPIRES}",
            mark=str(self.mark),
            server_id=made,
        )

    def settle(
        self,
        listings: AccountListings,
        marked: str,
        error: TrutoError,
        sleep: Callable[[float], None],
    ) -> dict[str, Any] | None:
        """The server the lost POST (named `marked`) made, None if provably none; else raise."""
        answered, started, pause = settled_by_answer(error), time.monotonic(), 0.25
        while True:
            try:
                servers = listings.fresh(self.account_id, self.deadline)
            except TrutoError as listing:
                raise TrutoCreateError(
                    f"creating this MCP server under integrated account {self.account_id} failed "
                    f"({error}), and listing the account to check whether it was created anyway "
                    f"failed too ({listing}). A server whose name ends in {str(self.mark)!r} "
                    f"that it may have made carries a provisional expiry: {_EXPIRES}",
                    mark=str(self.mark),
                ) from listing
            made = next((s for s in servers if s.get("name") == marked), None)
            if made is not None or answered:
                return made
            waited = time.monotonic() - started
            if (
                min(SETTLE_SECONDS - waited, self.deadline.remaining()) <= pause
                or self.interrupted()
            ):
                why = (
                    "the Pulumi run that asked for it is gone"
                    if self.interrupted()
                    else f"the settle limit ({SETTLE_SECONDS:.0f} s) or the operation timeout "
                    f"({OPERATION_TIMEOUT_KEY}) ran out"
                )
                raise TrutoCreateError(
                    f"creating this MCP server under integrated account {self.account_id} got no "
                    f"answer ({error}), and no server of that request had appeared {waited:.0f} s "
                    f"later, when {why}. Truto may still make it, so nothing was put in the "
                    f"state; its name would end in {str(self.mark)!r}, and it would carry a "
                    f"provisional expiry: {_EXPIRES}",
                    mark=str(self.mark),
                ) from error
            sleep(pause)
            pause = min(pause * 2, 4.0)

    def remove(self, server: Mapping[str, Any], error: TrutoError, *, marked: bool = True) -> None:
        """Delete a server it cannot hand over; `marked`: it still has its provisional expiry."""
        server_id = str(server["id"])
        try:
            self.client.delete_mcp_server(self.account_id, server_id, self.deadline)
        except TrutoNotFoundError:
            return
        except TrutoError as removal:
            later = f"{_EXPIRES}; or delete" if marked else "Delete"
            raise TrutoCreateError(
                f"creating this MCP server failed ({error}); create {self.mark} made server "
                f"{server_id}, whose token will not be recorded, and deleting it failed "
                f"({removal}). {later} server {server_id} under integrated account "
                f"{self.account_id}",
                mark=str(self.mark),
                server_id=server_id,
            ) from removal
        _log.warning("removed MCP server %s, made by a create that could not complete", server_id)
