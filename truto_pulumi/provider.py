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
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
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

from ._create import PROVISIONAL_MARGIN, create_server, remove_left_behind
from ._deadline import Deadline
from ._diff import as_recorded, create_body, diff_inputs, patch_body
from ._errors import TrutoApiError, TrutoConfigError, TrutoError, TrutoNotFoundError
from ._host_bridge import (
    exit_with_engine,
    in_host,
    quiet_expected_failures,
    reach_lost,
    request_over,
    request_urn,
    send_warnings_to_engine,
    widen_host,
)
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

_log = logging.getLogger("truto_pulumi.provider")

_MISSING_TOKEN = TrutoConfigError(MISSING_TOKEN_MESSAGE, setting=API_TOKEN_KEY)


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
        """Resolve and validate settings (stack config, then env). No I/O: the HTTP client is
        opened by the first operation that needs it, so preview never pays for it."""
        quiet_expected_failures()
        send_warnings_to_engine()
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
            _watch_engine(self._run)
            if settings.host_concurrency and in_host():
                serves = widen_host(settings.host_concurrency)
                if serves is None:
                    reach_lost(
                        "widen the pool of Pulumi's provider host",
                        f"it serves four engine calls at once, as Pulumi made it, and "
                        f"{HOST_CONCURRENCY_KEY} has no effect",
                    )

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate inputs and return them in canonical form; report a missing API token too.
        Inputs identical to the old ones are returned as they are: a preview with nothing to
        change never loads pydantic."""
        inputs = unchanged_inputs(olds, news)
        failures: list[CheckFailure] = []
        if inputs is None:
            outcome = check_inputs(news, olds=olds, now=datetime.now(timezone.utc))
            inputs = outcome.inputs
            failures = [
                CheckFailure(failure.property, failure.reason) for failure in outcome.failures
            ]
        if self._run is None:
            problem = self._config_problem
            failures.append(CheckFailure(problem.setting or API_TOKEN_KEY, str(problem)))
        elif olds:  # the engine sends olds only for a resource of the stack: see `_run`
            self._run.note_state(_request_urn())
        return CheckResult(inputs, failures)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Compare previous outputs with new inputs: replace on an account change, else update."""
        if self._run is not None:
            adopter = self._run.adopted_by(id_)
            if adopter is not None:
                raise TrutoConfigError(
                    f"MCP server {id_} of this resource was adopted in this run by {adopter}: "
                    "two resources cannot manage one server. Remove one of them (to move a "
                    "server to a new resource name, use the `aliases` resource option)"
                )
            self._run.hold(id_)
        result = diff_inputs(olds, news)
        return DiffResult(
            changes=bool(result.changes or _missing_outputs(olds)),
            replaces=list(result.replaces),
            delete_before_replace=False,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Create the server, or take over `adopt_id` for a resource entering the stack (a
        replacement makes a new one); keep the `token` and `url` only a create's answer has."""
        inputs = _managed(props)
        run, client, deadline = self._operation()
        urn = _request_urn()
        adopting = "adopt_id" in inputs and not run.replaces(urn)
        if not adopting:
            _refuse_late_expiry(create_body(inputs), "create")
        account_id = str(inputs["integrated_account_id"])
        with run.operating(), _refusals_explained("created"):
            account = _account_outputs(run, client, deadline, account_id, {})
            if adopting:
                server = self._adopt(run, deadline, inputs, urn)
                outputs = _outputs(inputs, server, account, revealed={}, token_known=False)
            else:
                server = self._create(run, deadline, inputs, urn)
                outputs = _outputs(inputs, server, account, revealed=server, token_known=True)
        run.hold(str(server["id"]))
        run.note_made(str(server["id"]))
        return CreateResult(str(server["id"]), outputs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh from Truto; a server proven gone is dropped from the state."""
        account_id = props.get("integrated_account_id")
        if not isinstance(account_id, str):
            raise TrutoConfigError(
                f"cannot read MCP server {id_}: its state has no integrated_account_id "
                "(`pulumi import` is not supported for dynamic providers; use adopt_id)"
            )
        run, client, deadline = self._operation()
        with run.operating():
            try:
                server: dict[str, Any] | None = client.get_mcp_server(account_id, id_, deadline)
            except TrutoNotFoundError as error:
                server = _listed(run, client, deadline, account_id, id_, error, props)
            account = (
                {} if server is None else _account_outputs(run, client, deadline, account_id, props)
            )
        if server is None and props.get("name") is None:
            # Every state of a server has its name: this is `TrutoMcpServer.get` of an id
            # that does not exist, which must fail rather than read as "gone".
            raise TrutoNotFoundError(
                status_code=404,
                method="GET",
                path=f"/integrated-account/{account_id}/mcp/{id_}",
                message=(
                    f"TrutoMcpServer.get: MCP server {id_} does not exist in Truto under "
                    f"integrated account {account_id}. `python -m truto_pulumi.discover "
                    f"--integrated-account-id {account_id}` lists its servers"
                ),
            )
        if server is None:
            _log.warning("MCP server %s no longer exists in Truto; dropping it from state", id_)
            run.release(id_)
            return ReadResult(None, {})
        run.hold(id_)
        run.note_state(_request_urn())  # a resource dropped above enters the stack anew
        inputs = as_recorded(_live_inputs(server, account_id), props)
        if props.get("adopt_id") is not None:
            inputs["adopt_id"] = props["adopt_id"]
        known = _token_known(props)
        outputs = _outputs(inputs, server, account, revealed=props, token_known=known)
        return ReadResult(id_, outputs, dict(inputs))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Send one PATCH with only what changed; carry `token` and `url` forward."""
        inputs = _managed(news)
        body = patch_body(olds, inputs)
        if self._run is not None:
            self._run.hold(id_)
        known = _token_known(olds)
        if not body:
            return UpdateResult(_outputs(inputs, olds, olds, revealed=olds, token_known=known))
        account_id = str(olds.get("integrated_account_id", inputs["integrated_account_id"]))
        run, client, deadline = self._operation()
        _refuse_late_expiry(body, "update")
        with run.operating(), _refusals_explained("changed"):
            try:
                server = client.update_mcp_server(account_id, id_, body, deadline)
            except TrutoNotFoundError as error:
                if _listed(run, client, deadline, account_id, id_, error, olds) is not None:
                    raise
                raise error.explained(
                    f"MCP server {id_} no longer exists in Truto (deleted outside Pulumi?). "
                    "Run `pulumi refresh` to drop it from the state, then `pulumi up` to "
                    "create it again"
                ) from error
        return UpdateResult(_outputs(inputs, server, olds, revealed=olds, token_known=known))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Delete the server; one proven gone counts as deleted, and one that another resource
        adopted during this run is left to it."""
        run, client, deadline = self._operation()
        adopter = run.adopted_by(id_)
        urn = _request_urn()
        if adopter is not None and run.readopted(id_, urn):
            _log.warning(
                "MCP server %s was NOT rotated: the replacement of %s took it over again "
                "because the program declares adopt_id, so it is kept and its token and url "
                "stay unknown. To rotate it, remove adopt_id from the program, then run "
                "`pulumi up --replace %s`",
                id_,
                urn,
                urn,
            )
            return
        if adopter is not None:
            _log.warning(
                "MCP server %s is not deleted: %s adopted it in this run and manages it now; "
                "it is only dropped from this resource's state",
                id_,
                adopter,
            )
            return
        account_id = str(props["integrated_account_id"])
        with run.operating():
            try:
                client.delete_mcp_server(account_id, id_, deadline)
            except TrutoNotFoundError as error:
                if _listed(run, client, deadline, account_id, id_, error, props) is not None:
                    raise
                _log.warning("MCP server %s was already deleted", id_)
        run.release(id_)

    def _create(
        self, run: RunState, deadline: Deadline, inputs: Mapping[str, Any], urn: str | None
    ) -> dict[str, Any]:
        """POST a new server under this stack's mark (`_create` says why); the first create
        under an account in a run first removes what interrupted runs of an earlier release of
        the stack left."""
        account_id, client = str(inputs["integrated_account_id"]), run.client()
        stack = stack_tag(urn)
        if stack is not None and run.first_create_under(account_id):
            remove_left_behind(
                client, account_id, deadline, stack=stack, held=run.held, listings=run.listings
            )
        return create_server(
            client,
            account_id,
            create_body(inputs),
            deadline,
            mark=CreateMark.drawn(urn),
            hold=run.settings.operation_timeout + PROVISIONAL_MARGIN,
            listings=run.listings,
            interrupted=request_over,
        )

    # --- adoption --------------------------------------------------------------------------

    def _adopt(
        self, run: RunState, deadline: Deadline, inputs: Mapping[str, Any], urn: str | None
    ) -> dict[str, Any]:
        """Take over an existing server: PATCH only what differs from the declared inputs."""
        account_id, adopt_id = str(inputs["integrated_account_id"]), str(inputs["adopt_id"])
        client = run.client()
        # Its URN, never its `name`: that may be a secret, which the host gets as plain text.
        holder = f"the resource declaring adopt_id={adopt_id}" + (f" ({urn})" if urn else "")
        problem = run.reserve_adoption(adopt_id, holder, urn)
        if problem is not None:
            raise TrutoConfigError(
                f"cannot adopt MCP server {adopt_id}: {problem}, and two resources cannot "
                "manage one server. To move a server to a new resource name, use the "
                "`aliases` resource option; to rotate an adopted server, run `pulumi up "
                "--replace <urn>`"
            )
        try:
            try:
                server = client.get_mcp_server(account_id, adopt_id, deadline)
            except TrutoNotFoundError as error:
                listed = _listed(run, client, deadline, account_id, adopt_id, error, {})
                if listed is None:
                    raise error.explained(
                        f"cannot adopt MCP server {adopt_id}: it does not exist in Truto under "
                        f"integrated account {account_id} (deleted or expired outside Pulumi, "
                        "or it belongs to another account). Remove adopt_id to have `pulumi "
                        "up` create a new server in its place (with a new url and token), or "
                        "set it to an existing server: `python -m truto_pulumi.discover "
                        f"--integrated-account-id {account_id}` lists them"
                    ) from error
                server = listed
            if read_mark(server.get("name")) is not None:
                raise TrutoConfigError(
                    f"cannot adopt MCP server {adopt_id}: its name carries a Pulumi create "
                    "mark, so a stack's create of it is under way, or a killed run left it and "
                    "Truto deletes it at its provisional expiry. Adopt a server without the mark"
                )
            body = patch_body(_live_inputs(server, account_id), inputs)
            if body:
                _refuse_late_expiry(body, "adoption")
                server = client.update_mcp_server(account_id, adopt_id, body, deadline)
        except BaseException:
            run.release(adopt_id)  # the adoption failed
            raise
        return server

    # --- plumbing ----------------------------------------------------------------------------

    def _operation(self) -> tuple[RunState, TrutoClient, Deadline]:
        """The run's state and client, and the deadline of an operation starting now (the
        operation timeout), or the configuration problem that prevents them."""
        if self._run is None:
            problem = self._config_problem
            raise TrutoConfigError(str(problem), setting=problem.setting)
        client = self._run.client()
        return (
            self._run,
            client,
            Deadline.after(self._run.settings.operation_timeout, OPERATION_TIMEOUT_KEY),
        )


def _request_urn() -> str | None:
    """The URN of the engine request being served; said once when the host hides it."""
    urn = request_urn()
    if urn is None and in_host():
        reach_lost(
            "read the URN of the engine's request from its provider host",
            "the create marks of new servers carry no tag of this stack (`python -m "
            "truto_pulumi.recover` cannot find what a killed run left), warnings land on the "
            "stack rather than the resource, and a replacement of a resource declaring adopt_id "
            "adopts its server again rather than making a new one",
        )
    return urn


_watching: list[RunState] = []
"""The run whose operations the engine watch waits for: the host's latest configuration."""


def _watch_engine(run: RunState) -> None:
    """Once per process: the host exits when its engine is gone and no operation is under way."""
    first = not _watching
    _watching[:] = [run]
    if first:
        exit_with_engine(lambda: _watching[0].busy())


def _refuse_late_expiry(body: Mapping[str, Any], operation: str) -> None:
    """Fail before any request when a timestamp about to be sent no longer lies far enough
    ahead: check judged it at preview, and the run may have reached it much later."""
    now = datetime.now(timezone.utc)
    for prop in PROPERTIES:
        when = body.get(str(prop.truto))
        if prop.lead_seconds is None or not isinstance(when, str):
            continue
        problem = lead_problem(when, prop.lead_seconds, now)
        if problem is not None:
            raise TrutoConfigError(
                f"{prop.name} {when} {problem} now, at the {operation} (it was far enough "
                "ahead when the plan was made; the run reached this server later). Nothing "
                f"was sent to Truto: set a later {prop.name}, or none, and run again"
            )


_REFUSED_HINT = (
    "Truto refuses a config whose methods and tags match no tool of the integrated account "
    "(check them against the tools its integration offers, or declare fewer), and a create "
    "beyond the plan's limit on MCP servers (delete servers no longer needed, or ask Truto "
    "to raise the limit)"
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
            f"{error.message.rstrip('.')}. Nothing was {done}. {_REFUSED_HINT}"
        ) from error


def _listed(
    run: RunState,
    client: TrutoClient,
    deadline: Deadline,
    account_id: str,
    server_id: str,
    error: TrutoNotFoundError,
    state: Mapping[str, Any],
) -> dict[str, Any] | None:
    """After a 404 for one server, what the account's list says: the server if listed, None if
    the list proves it gone. The listing must have begun after the server was known to exist
    (`RunState.existed_since`: before the run for one in the state, so the run's listings are
    shared) and, if it still shows the server, after the 404. A 404 for the list too proves
    nothing (another environment's token, a wrong base URL) unless Truto proves the account
    deleted (`_account_deleted`); otherwise that raises."""
    answered = time.monotonic()
    known = run.existed_since(server_id) if state.get("name") is not None else answered
    try:
        listed = run.listings.since(account_id, known, deadline)
        server = _find(listed.servers, server_id)
        if server is not None and listed.began < answered:
            fresh = run.listings.since(account_id, answered, deadline)
            server = _find(fresh.servers, server_id)
    except TrutoNotFoundError as listing:
        integration = state.get("environment_integration_id")
        if isinstance(integration, str) and _account_deleted(
            client, deadline, account_id, integration
        ):
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
            f"for the server list of its integrated account {account_id} too, so the 404 does "
            "not show that the server is gone: the account does not exist for this API token "
            f"(a token of another Truto environment?), or {BASE_URL_KEY} ({client.base_url}) "
            "does not point at Truto's API. Nothing was changed. If the integrated account was "
            "deleted in Truto, its servers are gone: `pulumi state delete <urn>` drops them"
        ) from error
    return server


def _find(servers: list[dict[str, Any]], server_id: str) -> dict[str, Any] | None:
    return next((s for s in servers if str(s.get("id")) == server_id), None)


def _account_deleted(
    client: TrutoClient, deadline: Deadline, account_id: str, integration: str
) -> bool:
    """Whether Truto proves the account deleted: the account answers 404 while the installed
    integration it belonged to answers for this token. A token of another environment, or a
    base URL that is not Truto's, gets a 404 for the integration too: no proof."""
    try:
        client.get_integrated_account(account_id, deadline)
    except TrutoNotFoundError:
        pass
    else:
        return False
    try:
        client.get_environment_integration(integration, deadline)
    except TrutoNotFoundError:
        return False
    return True


def _account_outputs(
    run: RunState,
    client: TrutoClient,
    deadline: Deadline,
    account_id: str,
    state: Mapping[str, Any],
) -> dict[str, Any]:
    """The outputs read from the server's integrated account: as recorded in `state`, else
    read once per account and run. Best effort: an account Truto does not describe leaves them
    unset, and only the proof of a deleted account (`_account_deleted`) is lost."""
    recorded = {key: state[key] for key in ACCOUNT_OUTPUTS if state.get(key) is not None}
    if len(recorded) == len(ACCOUNT_OUTPUTS):
        return recorded
    account = run.integrated_account(
        account_id, lambda: _read_account(client, deadline, account_id)
    )
    return {
        p.name: account[str(p.truto)]
        for p in PROPERTIES
        if p.of_account and isinstance(account.get(str(p.truto)), str)
    }


def _read_account(client: TrutoClient, deadline: Deadline, account_id: str) -> Mapping[str, Any]:
    try:
        return client.get_integrated_account(account_id, deadline)
    except TrutoError as error:
        _log.debug("integrated account %s could not be read: %s", account_id, error)
        return {}


def _managed(props: Mapping[str, Any]) -> dict[str, Any]:
    return {key: props[key] for key in INPUT_KEYS if props.get(key) is not None}


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
    token_known: bool,
) -> dict[str, Any]:
    """Outputs: the managed inputs as given, the fields Truto sets on every answer (from
    `server`), those of its integrated account (`account`), the create-only outputs where
    `revealed` has them (the create's answer, or the previous outputs), and `token_known`."""
    outputs = dict(inputs)
    for prop in PROPERTIES:
        if prop.name in SERVER_OUTPUTS and server.get(str(prop.truto)) is not None:
            outputs[prop.name] = server[str(prop.truto)]
    for key in ACCOUNT_OUTPUTS:
        if account.get(key) is not None:
            outputs[key] = account[key]
    for key in CREATE_ONLY_OUTPUTS:
        if revealed.get(key) is not None:
            outputs[key] = revealed[key]
    outputs["token_known"] = token_known
    return outputs


def _token_known(olds: Mapping[str, Any]) -> bool:
    """`token_known` as recorded; for a state of a release before it, whether the create-only
    outputs are there (that release only ever created servers)."""
    recorded = olds.get("token_known")
    if isinstance(recorded, bool):
        return recorded
    return all(isinstance(olds.get(key), str) and olds[key] for key in CREATE_ONLY_OUTPUTS)


def _missing_outputs(olds: Mapping[str, Any]) -> tuple[str, ...]:
    """The outputs this release always writes that a resource's state lacks (an older release's)."""
    return tuple(key for key in DERIVED_OUTPUTS if key not in olds)
