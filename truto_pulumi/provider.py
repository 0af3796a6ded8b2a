"""The dynamic provider behind TrutoMcpServer: check, diff, create, read, update, delete.

The engine pickles an instance of this class into every resource's state (`__provider`) and
unpickles it in the provider host, which calls `configure` once and then serves all resources
of the stack from that one instance on several threads. So the instance pickles to nothing but
its class reference: the API token and the HTTP client exist only after `configure`, in the host.
Keep the import path `truto_pulumi.provider.TrutoMcpServerProvider` stable: old stacks load it.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from .diff import diff_inputs, patch_body
from .errors import (
    TrutoConfigError,
    TrutoError,
    TrutoNotFoundError,
    TrutoServerError,
    TrutoTransportError,
)
from .inputs import DIFFED_KEYS, INPUT_KEYS, check_inputs, parse_timestamp
from .settings import (
    MISSING_TOKEN_MESSAGE,
    OPERATION_TIMEOUT_KEY,
    ProviderSettings,
    resolve_settings,
    validate_api_token,
    validated_base_url,
)

if TYPE_CHECKING:
    from .client import TrutoClient

__all__ = [
    "CREATE_ATTEMPTS",
    "CREATE_WINDOW_MARGIN",
    "CREATE_WINDOW_TOLERANCE",
    "SECRET_OUTPUTS",
    "SERVER_OUTPUTS",
    "TrutoMcpServerProvider",
    "find_own_servers",
    "lost_create_window",
]

SECRET_OUTPUTS = ("token", "url")
"""Outputs Truto reveals only when a server is created; both embed the MCP token."""

SERVER_OUTPUTS = ("created_at", "updated_at", "created_by")
"""Outputs Truto sets on every answer."""

CREATE_ATTEMPTS = 3
"""POSTs one create may send when answers are lost, each after removing what the last made."""

CREATE_WINDOW_TOLERANCE = timedelta(seconds=1.5)
"""Slack around a lost POST's time window when Truto's clock is known from its `Date` header."""

CREATE_WINDOW_MARGIN = timedelta(seconds=60)
"""Slack around a lost POST's time window when Truto's clock is not known (no `Date` header)."""

_log = logging.getLogger("truto_pulumi.provider")


class TrutoMcpServerProvider(ResourceProvider):
    """Creates, reads, updates and deletes Truto MCP servers through Truto's REST API."""

    serialize_as_secret_always = False

    _settings: ProviderSettings | None = None
    _client: TrutoClient | None = None
    _config_problem: str | None = MISSING_TOKEN_MESSAGE

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        """Restore nothing: a provider is configured in the host, never carried in state."""

    def configure(self, req: ConfigureRequest) -> None:
        """Resolve and validate settings (stack config, then env). No I/O: the HTTP client is
        opened by the first operation that needs it, so preview never pays for it."""
        self._tracked: set[str] = set()
        self._tracked_lock = threading.Lock()
        self._client_lock = threading.Lock()
        try:
            settings = resolve_settings(req.config.get, os.environ)
            if settings.api_token is None:
                return
            validate_api_token(settings.api_token)
            validated_base_url(settings.base_url)
        except TrutoConfigError as error:
            self._config_problem = str(error)
        else:
            self._settings = settings
            self._config_problem = None

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate inputs and return them in canonical form; report a missing API token too."""
        outcome = check_inputs(news, olds=olds, now=datetime.now(timezone.utc))
        failures = [CheckFailure(failure.property, failure.reason) for failure in outcome.failures]
        if self._config_problem is not None:
            failures.append(CheckFailure("", self._config_problem))
        return CheckResult(outcome.inputs, failures)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Compare previous outputs with new inputs: replace on an account change, else update."""
        self._track(id_)
        result = diff_inputs(olds, news)
        return DiffResult(
            changes=bool(result.changes),
            replaces=list(result.replaces),
            delete_before_replace=False,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Create the server (or take over `adopt_id`); keep the `token` and `url` Truto
        reveals only in a create's answer."""
        inputs = _managed(props)
        with self._operation() as client:
            if "adopt_id" in inputs:
                server = self._adopt(client, inputs)
                secrets: Mapping[str, Any] = {"token_known": False}
            else:
                server = self._create_once(client, inputs)
                secrets = {**server, "token_known": True}
        self._track(str(server["id"]))
        return CreateResult(str(server["id"]), _outputs(inputs, server, secrets))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh from Truto; a server that is gone is dropped from the state."""
        account_id = props.get("integrated_account_id")
        if not isinstance(account_id, str):
            raise TrutoConfigError(
                f"cannot read MCP server {id_}: its state has no integrated_account_id "
                "(`pulumi import` is not supported for dynamic providers; use adopt_id)"
            )
        self._track(id_)
        try:
            with self._operation() as client:
                server = client.get_mcp_server(account_id, id_)
        except TrutoNotFoundError:
            _log.warning("MCP server %s no longer exists in Truto; dropping it from state", id_)
            return ReadResult(None, {})
        inputs = _live_inputs(server, account_id)
        if props.get("adopt_id") is not None:
            inputs["adopt_id"] = props["adopt_id"]
        return ReadResult(id_, _outputs(inputs, server, props), dict(inputs))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Send one PATCH with only what changed; carry `token` and `url` forward."""
        self._track(id_)
        inputs = _managed(news)
        body = patch_body(olds, inputs)
        if not body:
            return UpdateResult(_outputs(inputs, olds, olds))
        account_id = str(olds.get("integrated_account_id", inputs["integrated_account_id"]))
        try:
            with self._operation() as client:
                server = client.update_mcp_server(account_id, id_, body)
        except TrutoNotFoundError as error:
            raise error.explained(
                f"MCP server {id_} no longer exists in Truto (deleted outside Pulumi?). "
                "Run `pulumi refresh` to drop it from the state, then `pulumi up` to "
                "create it again"
            ) from error
        return UpdateResult(_outputs(inputs, server, olds))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Delete the server; one that is already gone counts as deleted."""
        try:
            with self._operation() as client:
                client.delete_mcp_server(str(props["integrated_account_id"]), id_)
        except TrutoNotFoundError:
            _log.warning("MCP server %s was already deleted", id_)
        self._track(id_, keep=False)

    # --- create, made transactional ------------------------------------------------------

    def _create_once(self, client: TrutoClient, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """POST, and when the answer is lost after Truto may have acted, remove what that
        POST made and POST again, so exactly one server exists and its token is known."""
        account_id = str(inputs["integrated_account_id"])
        body = {key: inputs[key] for key in ("name", "config", "expires_at") if key in inputs}
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            sent_at = datetime.now(timezone.utc)
            try:
                return client.create_mcp_server(account_id, body)
            except (TrutoServerError, TrutoTransportError) as error:
                if isinstance(error, TrutoTransportError) and not error.request_sent:
                    raise
                _log.warning(
                    "create of %r got no usable answer (%s); looking for what it made",
                    body["name"],
                    error,
                )
                self._remove_own_servers(client, account_id, body, sent_at, error)
                if attempt == CREATE_ATTEMPTS:
                    raise TrutoError(
                        f"no usable answer to {CREATE_ATTEMPTS} creates of MCP server "
                        f"{body['name']!r}; each server they made was removed, none is left "
                        f"behind. Last error: {error}"
                    ) from error
        raise AssertionError("unreachable")  # pragma: no cover

    def _remove_own_servers(
        self,
        client: TrutoClient,
        account_id: str,
        body: Mapping[str, Any],
        sent_at: datetime,
        error: TrutoError,
    ) -> None:
        name = str(body["name"])
        try:
            servers = client.list_mcp_servers(account_id)
        except TrutoError as listing:
            raise TrutoError(
                f"creating MCP server {name!r} under integrated account {account_id} failed "
                f"({error}), and listing the account to check whether it was created anyway "
                f"failed too ({listing}). Look for a server named {name!r} created at "
                f"{sent_at:%Y-%m-%dT%H:%M:%SZ} and delete it, then run `pulumi up` again"
            ) from listing
        with self._tracked_lock:
            tracked = set(self._tracked)
        earliest, latest = lost_create_window(
            sent_at, datetime.now(timezone.utc), client.server_clock_offset
        )
        own = find_own_servers(
            servers, body=body, earliest=earliest, latest=latest, tracked=tracked
        )
        if len(own) > 1:
            ids = ", ".join(str(server["id"]) for server in own)
            raise TrutoError(
                f"creating MCP server {name!r} failed ({error}); servers {ids} under integrated "
                f"account {account_id} all match it and were made in the same moment, so which "
                "one this create made cannot be told. None was deleted: delete the one that "
                "belongs to no stack, then run `pulumi up` again"
            )
        for server in own:
            try:
                client.delete_mcp_server(account_id, str(server["id"]))
            except TrutoNotFoundError:
                continue
            except TrutoError as removal:
                raise TrutoError(
                    f"creating MCP server {name!r} failed ({error}); it made server "
                    f"{server['id']} whose token Truto will not reveal again, and deleting it "
                    f"failed ({removal}). Server {server['id']} is left behind under integrated "
                    f"account {account_id}: delete it, then run `pulumi up` again"
                ) from removal
            _log.warning("removed MCP server %s, made by a lost create", server["id"])

    # --- adoption --------------------------------------------------------------------------

    def _adopt(self, client: TrutoClient, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Take over an existing server: PATCH only what differs from the declared inputs."""
        account_id = str(inputs["integrated_account_id"])
        adopt_id = str(inputs["adopt_id"])
        with self._tracked_lock:
            held = adopt_id in self._tracked
        if held:
            raise TrutoConfigError(
                f"cannot adopt MCP server {adopt_id}: a resource of this stack already manages "
                "it (a replacement, or a second resource with the same adopt_id). To rotate an "
                "adopted server, remove adopt_id, then run `pulumi up --replace <urn>`"
            )
        try:
            server = client.get_mcp_server(account_id, adopt_id)
        except TrutoNotFoundError as error:
            raise error.explained(
                f"cannot adopt MCP server {adopt_id}: Truto has no such server under "
                f"integrated account {account_id} (it may belong to another account or "
                "have been deleted). List the account's servers with "
                f"`python -m truto_pulumi.discover --integrated-account-id {account_id}`"
            ) from error
        body = patch_body(_live_inputs(server, account_id), inputs)
        if body:
            server = client.update_mcp_server(account_id, adopt_id, body)
        return server

    # --- plumbing ----------------------------------------------------------------------------

    def _operation(self) -> _Operation:
        settings = self._settings
        if settings is None or settings.api_token is None:
            raise TrutoConfigError(self._config_problem or MISSING_TOKEN_MESSAGE)
        with self._client_lock:
            if self._client is None:
                from .client import TrutoClient  # httpx loads here, not during preview
                from .ratelimit import RateLimiter

                limiter = None
                if settings.max_requests_per_second > 0:
                    limiter = RateLimiter(settings.max_requests_per_second)
                self._client = TrutoClient(
                    base_url=settings.base_url,
                    api_token=settings.api_token,
                    timeout=settings.request_timeout,
                    rate_limiter=limiter,
                )
        return _Operation(self._client, settings.operation_timeout)

    def _track(self, id_: str, *, keep: bool = True) -> None:
        """Note (or forget) an id held by a resource, so create's clean-up never takes it."""
        if id_ and hasattr(self, "_tracked_lock"):
            with self._tracked_lock:
                if keep:
                    self._tracked.add(id_)
                else:
                    self._tracked.discard(id_)


class _Operation:
    """`with provider._operation() as client:` one operation's deadline around its calls."""

    def __init__(self, client: TrutoClient, timeout: float) -> None:
        self._client = client
        self._scope = client.operation(timeout, setting=OPERATION_TIMEOUT_KEY)

    def __enter__(self) -> TrutoClient:
        self._scope.__enter__()
        return self._client

    def __exit__(self, *exc: Any) -> None:
        self._scope.__exit__(*exc)


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
    tracked: set[str],
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


def _managed(props: Mapping[str, Any]) -> dict[str, Any]:
    return {key: props[key] for key in INPUT_KEYS if props.get(key) is not None}


def _live_inputs(server: Mapping[str, Any], account_id: str) -> dict[str, Any]:
    """A server's inputs as Truto has them, in canonical form."""
    live = check_inputs({key: server[key] for key in DIFFED_KEYS if key in server})
    inputs = live.inputs if not live.failures else _managed(server)
    inputs.setdefault("integrated_account_id", account_id)
    return inputs


def _outputs(
    inputs: Mapping[str, Any], server: Mapping[str, Any], secrets: Mapping[str, Any]
) -> dict[str, Any]:
    """Outputs: the managed inputs as given, server-set fields, and the create-only secrets."""
    outputs = dict(inputs)
    for key in SERVER_OUTPUTS:
        if server.get(key) is not None:
            outputs[key] = server[key]
    for key in (*SECRET_OUTPUTS, "token_known"):
        if secrets.get(key) is not None:
            outputs[key] = secrets[key]
    return outputs
