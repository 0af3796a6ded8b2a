"""The dynamic provider behind TrutoMcpServer (ARCHITECTURE.md). It pickles to its class only,
so the API token and HTTP client exist only in the host, after `configure`. Old stacks load
`truto_pulumi.provider.TrutoMcpServerProvider`: never move it."""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

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

from . import _host_bridge
from ._create import PROVISIONAL_MARGIN, create_server, remove_left_behind
from ._deadline import Deadline
from ._diff import as_recorded, create_body, diff_inputs, patch_body
from ._errors import TrutoApiError, TrutoConfigError, TrutoError, TrutoNotFoundError
from ._host_bridge import URN_KEY
from ._inputs import canonical_live_inputs, check_inputs, lead_problem, unchanged_inputs
from ._mark import CreateMark, read_mark, stack_tag
from ._run import RunState
from ._schema import (
    ACCOUNT_OUTPUTS,
    CREATE_ONLY_OUTPUTS,
    DERIVED_OUTPUTS,
    INPUT_KEYS,
    PROPERTIES,
    SERVER_OUTPUTS,
)
from ._settings import (
    API_TOKEN_KEY,
    BASE_URL_KEY,
    HOST_CONCURRENCY_KEY,
    MISSING_TOKEN_MESSAGE,
    OPERATION_TIMEOUT_KEY,
    resolve_settings,
    validate_api_token,
    validated_base_url,
)

if TYPE_CHECKING:
    from ._client import TrutoClient

__all__ = ["TrutoMcpServerProvider"]

FULL_TRACEBACKS_ENV = "TRUTO_PULUMI_TRACEBACKS"
"""Set to 1 to keep the whole traceback of an expected failure (`TrutoError`)."""

_log = logging.getLogger("truto_pulumi.provider")

_MISSING_TOKEN = TrutoConfigError(MISSING_TOKEN_MESSAGE, setting=API_TOKEN_KEY)

_watching: list[RunState] = []
"""The run whose operations the engine watch waits for: the host's latest configuration."""

_ONE_MANAGER = (
    "two resources cannot manage one server. To move a server to a new resource name, use the "
    "`aliases` resource option"
)


_Call = TypeVar("_Call", bound=Callable[..., Any])


def _engine_call(method: _Call) -> _Call:
    """An engine call: its warnings land on the resource of its last argument's `__urn`, and a
    `TrutoError` reaches the host without frames or causes (`FULL_TRACEBACKS_ENV` keeps them)."""

    @functools.wraps(method)
    def call(self: TrutoMcpServerProvider, *args: Any) -> Any:
        serving = _host_bridge.REQUEST_URN.set(_urn(args[-1]))
        try:
            return method(self, *args)
        except TrutoError as error:
            if os.environ.get(FULL_TRACEBACKS_ENV, "") not in ("", "0"):
                raise
            raise error.with_traceback(None) from None
        finally:
            _host_bridge.REQUEST_URN.reset(serving)

    return call  # type: ignore[return-value]


def _urn(props: Mapping[str, Any]) -> str | None:
    """The URN the program gave (`URN_KEY`); None for `TrutoMcpServer.get` and older states."""
    urn = props.get(URN_KEY)
    return urn if isinstance(urn, str) and urn.startswith("urn:pulumi:") else None


class TrutoMcpServerProvider(ResourceProvider):
    """Creates, reads, updates and deletes Truto MCP servers through Truto's REST API."""

    serialize_as_secret_always = False

    _run: RunState | None = None
    """Made by a successful `configure`; None while the configuration has a problem."""
    _config_problem: TrutoConfigError = _MISSING_TOKEN
    """Why `_run` is None: reported by check, raised by every operation."""

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        """Restore nothing: a provider is configured in the host, never carried in state."""

    def configure(self, req: ConfigureRequest) -> None:
        """Resolve and validate settings (stack config, then env); no I/O, so preview opens no
        HTTP client (the first operation that needs one does)."""
        _host_bridge.send_warnings_to_engine()
        self._run, self._config_problem = None, _MISSING_TOKEN
        try:
            settings = resolve_settings(req.config.get, os.environ)
            if settings.api_token is None:
                return
            validate_api_token(settings.api_token)
            validated_base_url(settings.base_url)
        except TrutoConfigError as error:
            self._config_problem = error
        else:
            self._run = RunState(settings)
            first, _watching[:] = not _watching, [self._run]
            if first:  # once per process: the host exits when its engine is gone and idle
                _host_bridge.exit_with_engine(lambda: _watching[0].busy())
            if (
                settings.host_concurrency
                and _host_bridge.in_host()
                and _host_bridge.widen_host(settings.host_concurrency) is None
            ):
                _host_bridge.reach_lost(
                    "widen the pool of Pulumi's provider host",
                    f"it serves four engine calls at once, as Pulumi made it, and "
                    f"{HOST_CONCURRENCY_KEY} has no effect",
                )

    @_engine_call
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Canonical inputs (identical ones as they are) or their failures; a config problem."""
        inputs = unchanged_inputs(olds, news)
        failures: list[CheckFailure] = []
        if inputs is None:
            outcome = check_inputs(news, olds=olds, now=datetime.now(UTC))
            inputs = outcome.inputs
            failures = [CheckFailure(f.property, f.reason) for f in outcome.failures]
        urn = _urn(news)
        if urn is not None:
            inputs[URN_KEY] = urn
        if self._run is None:
            problem = self._config_problem
            failures.append(CheckFailure(problem.setting or API_TOKEN_KEY, str(problem)))
        elif olds:  # the engine sends olds only for a resource of the stack: see `_run`
            self._run.note_state(urn)
        return CheckResult(inputs, failures)

    @_engine_call
    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Compare previous outputs with new inputs: replace on an account change, else update
        (also when the state lacks an output this release writes)."""
        if self._run is not None:
            adopter = self._run.adopted_by(id_)
            if adopter is not None:
                raise TrutoConfigError(
                    f"MCP server {id_} of this resource was adopted in this run by {adopter}: "
                    f"{_ONE_MANAGER}; else remove one of them"
                )
            self._run.hold(id_)
        result = diff_inputs(olds, news)
        missing = any(key not in olds for key in DERIVED_OUTPUTS)
        return DiffResult(bool(result.changes or missing), list(result.replaces), None, False)

    @_engine_call
    def create(self, props: dict[str, Any]) -> CreateResult:
        """Create the server, or take over `adopt_id` for a resource entering the stack (a
        replacement makes a new one)."""
        inputs = _managed(props)
        op, urn = self._operation(), _urn(props)
        adopting = "adopt_id" in inputs and not op.run.replaces(urn)
        if not adopting:
            _refuse_late_expiry(create_body(inputs), "create")
        with op.run.operating(), _refusals_explained("created"):
            account = op.account(str(inputs["integrated_account_id"]), {})
            server = op.adopt(inputs, urn) if adopting else op.create(inputs, urn)
        op.run.note_made(str(server["id"]))
        outputs = _outputs(inputs, server, account, revealed={} if adopting else server)
        return CreateResult(str(server["id"]), outputs)

    @_engine_call
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh from Truto; a server proven gone is dropped from the state."""
        account_id = props.get("integrated_account_id")
        if not isinstance(account_id, str):
            raise TrutoConfigError(
                f"cannot read MCP server {id_}: its state has no integrated_account_id "
                "(`pulumi import` is not supported for dynamic providers; use adopt_id)"
            )
        op = self._operation()
        # Every state of a server has its name: without one, this is `TrutoMcpServer.get`,
        # which fails for an id that does not exist rather than read as "gone".
        missing = None
        if props.get("name") is None:
            missing = (
                f"TrutoMcpServer.get: MCP server {id_} does not exist in Truto under integrated "
                f"account {account_id}. `python -m truto_pulumi.discover --integrated-account-id "
                f"{account_id}` lists its servers"
            )
        with op.run.operating():
            server = op.existing(account_id, id_, props, missing)
            account = {} if server is None else op.account(account_id, props)
        if server is None:
            _log.warning("MCP server %s no longer exists in Truto; dropping it from state", id_)
            op.run.release(id_)
            return ReadResult(None, {})
        op.run.hold(id_)
        op.run.note_state(_urn(props))  # a resource dropped above enters the stack anew
        inputs = as_recorded(_live_inputs(server, account_id), props)
        inputs.update({k: props[k] for k in ("adopt_id", URN_KEY) if props.get(k) is not None})
        return ReadResult(id_, _outputs(inputs, server, account, revealed=props), dict(inputs))

    @_engine_call
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Send one PATCH with only what changed; carry `token` and `url` forward."""
        inputs = _managed(news)
        body = patch_body(olds, inputs)
        if self._run is not None:
            self._run.hold(id_)
        if not body:
            return UpdateResult(_outputs(inputs, olds, olds, revealed=olds))
        account_id = str(olds.get("integrated_account_id", inputs["integrated_account_id"]))
        op = self._operation()
        _refuse_late_expiry(body, "update")
        with op.run.operating(), _refusals_explained("changed"):
            try:
                server = op.client.update_mcp_server(account_id, id_, body, op.deadline)
            except TrutoNotFoundError as error:
                if op.listed(account_id, id_, error, olds) is not None:
                    raise
                raise error.explained(
                    f"MCP server {id_} no longer exists in Truto (deleted outside Pulumi?). "
                    "Run `pulumi refresh` to drop it from the state, then `pulumi up` to "
                    "create it again"
                ) from error
        return UpdateResult(_outputs(inputs, server, olds, revealed=olds))

    @_engine_call
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Delete the server (one proven gone counts as deleted) unless another resource adopted
        it during this run."""
        op, urn = self._operation(), _urn(props)
        adopter = op.run.adopted_by(id_)
        if adopter is not None and op.run.readopted(id_, urn):
            message = (
                "MCP server %s was NOT rotated: the replacement of %s took it over again because "
                "the program declares adopt_id, so it is kept and its token and url stay unknown. "
                "To rotate it, remove adopt_id from the program, then run `pulumi up --replace %s`"
            )
            return _log.warning(message, id_, urn, urn)
        if adopter is not None:
            message = (
                "MCP server %s is not deleted: %s adopted it in this run and manages it now; it "
                "is only dropped from this resource's state"
            )
            return _log.warning(message, id_, adopter)
        account_id = str(props["integrated_account_id"])
        with op.run.operating():
            try:
                op.client.delete_mcp_server(account_id, id_, op.deadline)
            except TrutoNotFoundError as error:
                if op.listed(account_id, id_, error, props) is not None:
                    raise
                _log.warning("MCP server %s was already deleted", id_)
        op.run.release(id_)

    def _operation(self) -> _Operation:
        """An operation starting now, or the configuration problem that prevents it."""
        if self._run is None:
            problem = self._config_problem
            raise TrutoConfigError(str(problem), setting=problem.setting)
        timeout = self._run.settings.operation_timeout
        return _Operation(
            self._run, self._run.client(), Deadline.after(timeout, OPERATION_TIMEOUT_KEY)
        )


@dataclass(frozen=True)
class _Operation:
    """One engine call's run state, client, and deadline (the operation timeout)."""

    run: RunState
    client: TrutoClient
    deadline: Deadline

    def create(self, inputs: Mapping[str, Any], urn: str | None) -> dict[str, Any]:
        """POST a new server under this stack's mark (`_create`); the first create under an
        account in a run first removes what runs of an earlier release left."""
        account_id, run = str(inputs["integrated_account_id"]), self.run
        stack = stack_tag(urn)
        if stack is not None and run.first_create_under(account_id):
            remove_left_behind(
                self.client,
                account_id,
                self.deadline,
                stack=stack,
                held=run.held,
                listings=run.listings,
            )
        return create_server(
            self.client,
            account_id,
            create_body(inputs),
            self.deadline,
            mark=CreateMark.drawn(urn),
            hold=run.settings.operation_timeout + PROVISIONAL_MARGIN,
            listings=run.listings,
            interrupted=_host_bridge.engine_gone,
        )

    def adopt(self, inputs: Mapping[str, Any], urn: str | None) -> dict[str, Any]:
        """Take over an existing server: PATCH only what differs from the declared inputs."""
        account_id, adopt_id = str(inputs["integrated_account_id"]), str(inputs["adopt_id"])
        # Its URN, never its `name`: that may be a secret, which the host gets as plain text.
        holder = f"the resource declaring adopt_id={adopt_id}" + (f" ({urn})" if urn else "")
        problem = self.run.reserve_adoption(adopt_id, holder, urn)
        if problem is not None:
            raise TrutoConfigError(
                f"cannot adopt MCP server {adopt_id}: {problem}, and {_ONE_MANAGER}; to rotate "
                "an adopted server, change its `replacement_trigger` option"
            )
        missing = (
            f"cannot adopt MCP server {adopt_id}: it does not exist in Truto under integrated "
            f"account {account_id} (deleted or expired outside Pulumi, or it belongs to another "
            "account). Remove adopt_id to have `pulumi up` create a new server in its place "
            "(with a new url and token), or set it to an existing server: `python -m "
            f"truto_pulumi.discover --integrated-account-id {account_id}` lists them"
        )
        try:
            server = self.existing(account_id, adopt_id, {}, missing)
            assert server is not None  # `missing` is raised instead
            if read_mark(server.get("name")) is not None:
                raise TrutoConfigError(
                    f"cannot adopt MCP server {adopt_id}: its name carries a Pulumi create "
                    "mark, so a stack's create of it is under way, or a killed run left it and "
                    "Truto deletes it at its provisional expiry. Adopt a server without the mark"
                )
            body = patch_body(_live_inputs(server, account_id), inputs)
            if body:
                _refuse_late_expiry(body, "adoption")
                server = self.client.update_mcp_server(account_id, adopt_id, body, self.deadline)
        except BaseException:
            self.run.release(adopt_id)  # the adoption failed
            raise
        return server

    def existing(
        self, account_id: str, server_id: str, state: Mapping[str, Any], missing: str | None
    ) -> dict[str, Any] | None:
        """The server as Truto has it; None when its 404 is proven (`listed`), unless `missing`
        says it must exist: that 404 is raised, explained so."""
        try:
            return self.client.get_mcp_server(account_id, server_id, self.deadline)
        except TrutoNotFoundError as error:
            server = self.listed(account_id, server_id, error, state)
            if server is None and missing is not None:
                raise error.explained(missing) from error
            return server

    def listed(
        self, account_id: str, server_id: str, error: TrutoNotFoundError, state: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """After a 404, the server as its account's list shows it, or None when a listing begun
        after it was known to exist and, if that shows it, after the 404 proves it gone."""
        answered = time.monotonic()
        known = self.run.existed_since(server_id) if state.get("name") is not None else answered
        try:
            listed = self.run.listings.since(account_id, known, self.deadline)
            if listed.began < answered and _find(listed.servers, server_id) is not None:
                listed = self.run.listings.since(account_id, answered, self.deadline)
            return _find(listed.servers, server_id)
        except TrutoNotFoundError as listing:
            integration = state.get("environment_integration_id")
            if isinstance(integration, str) and self.account_deleted(account_id, integration):
                _log.warning(
                    "integrated account %s no longer exists in Truto, while the installed "
                    "integration %s it belonged to still answers: the account was deleted, and "
                    "MCP server %s with it",
                    account_id,
                    integration,
                    server_id,
                )
                return None
            raise listing.explained(
                f"Truto answered 404 for MCP server {server_id} ({error.method} {error.path}) and "
                f"for the server list of its integrated account {account_id} too, so the 404 "
                "does not show that the server is gone: the account does not exist for this API "
                f"token (a token of another Truto environment?), or {BASE_URL_KEY} "
                f"({self.client.base_url}) does not point at Truto's API. Nothing was changed. If "
                "the integrated account was deleted in Truto, its servers are gone: `pulumi state "
                "delete <urn>` drops them"
            ) from error

    def account_deleted(self, account_id: str, integration: str) -> bool:
        """Whether Truto proves the account deleted: it answers 404 while the installed
        integration it belonged to answers (which another environment's token cannot fake)."""
        try:
            self.client.get_integrated_account(account_id, self.deadline)
            return False
        except TrutoNotFoundError:
            pass
        try:
            self.client.get_environment_integration(integration, self.deadline)
            return True
        except TrutoNotFoundError:
            return False

    def account(self, account_id: str, state: Mapping[str, Any]) -> dict[str, Any]:
        """The account outputs as recorded in `state`, else read once per account and run; best
        effort: an account Truto does not describe leaves them unset."""
        recorded = {key: state[key] for key in ACCOUNT_OUTPUTS if state.get(key) is not None}
        if len(recorded) == len(ACCOUNT_OUTPUTS):
            return recorded

        def read() -> Mapping[str, Any]:
            try:
                return self.client.get_integrated_account(account_id, self.deadline)
            except TrutoError as error:
                _log.debug("integrated account %s could not be read: %s", account_id, error)
                return {}

        account = self.run.integrated_account(account_id, read)
        return {key: account[key] for key in ACCOUNT_OUTPUTS if isinstance(account.get(key), str)}


def _refuse_late_expiry(body: Mapping[str, Any], operation: str) -> None:
    """Fail before any request when a timestamp to send no longer lies far enough ahead: check
    judged it at preview, and the run may have reached it much later."""
    now = datetime.now(UTC)
    for prop in PROPERTIES:
        problem = lead_problem(prop, body.get(prop.name), now)
        if problem is not None:
            raise TrutoConfigError(
                f"{prop.name} {problem} now, at the {operation} (it was far enough "
                "ahead when the plan was made; the run reached this server later). Nothing "
                f"was sent to Truto: set a later {prop.name}, or none, and run again"
            )


@contextmanager
def _refusals_explained(done: str) -> Iterator[None]:
    """Truto's refusal of a create or an update (a 4xx other than 401, 404 and 429) with its
    own words, that nothing was `done`, and the documented causes of such refusals."""
    try:
        yield
    except TrutoApiError as error:
        if error.status_code in (401, 404, 429) or not 400 <= error.status_code < 500:
            raise
        raise error.explained(
            f"{error.message.rstrip('.')}. Nothing was {done}. Truto refuses a config whose "
            "methods and tags match no tool of the integrated account (check them against the "
            "tools its integration offers, or declare fewer), and a create beyond the plan's "
            "limit on MCP servers (delete servers no longer needed, or ask Truto to raise the "
            "limit)"
        ) from error


def _find(servers: list[dict[str, Any]], server_id: str) -> dict[str, Any] | None:
    return next((s for s in servers if str(s.get("id")) == server_id), None)


def _managed(props: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs the provider manages, with the URN the program gave."""
    return {key: props[key] for key in (*INPUT_KEYS, URN_KEY) if props.get(key) is not None}


def _live_inputs(server: Mapping[str, Any], account_id: str) -> dict[str, Any]:
    """A server's inputs as Truto has them, in canonical form."""
    inputs = canonical_live_inputs(server)
    inputs.setdefault("integrated_account_id", account_id)
    return inputs


def _outputs(
    inputs: Mapping[str, Any],
    server: Mapping[str, Any],
    account: Mapping[str, Any],
    *,
    revealed: Mapping[str, Any],
) -> dict[str, Any]:
    """The managed inputs as given, and the outputs of `server`, of its `account`, and of what
    `revealed` the create-only ones (the create's answer, or the previous outputs)."""
    outputs = dict(inputs)
    for keys, source in (
        (SERVER_OUTPUTS, server),
        (ACCOUNT_OUTPUTS, account),
        (CREATE_ONLY_OUTPUTS, revealed),
    ):
        outputs.update({key: source[key] for key in keys if source.get(key) is not None})
    # As recorded; else (a create's answer, or a state of a release before `token_known`,
    # which only ever created servers) whether the create-only outputs are there.
    known = revealed.get("token_known")
    if not isinstance(known, bool):
        known = all(isinstance(revealed.get(k), str) and revealed[k] for k in CREATE_ONLY_OUTPUTS)
    outputs["token_known"] = known
    return outputs
