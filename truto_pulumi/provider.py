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
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

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

from .client import TrutoClient
from .diff import diff_inputs, patch_body
from .errors import TrutoConfigError, TrutoNotFoundError
from .inputs import INPUT_KEYS, check_inputs
from .settings import MISSING_TOKEN_MESSAGE, resolve_settings

__all__ = ["SECRET_OUTPUTS", "SERVER_OUTPUTS", "TrutoMcpServerProvider"]

SECRET_OUTPUTS = ("token", "url")
"""Outputs Truto reveals only when a server is created; both embed the MCP token."""

SERVER_OUTPUTS = ("created_at", "updated_at", "created_by")
"""Outputs Truto sets on every answer."""

_log = logging.getLogger("truto_pulumi.provider")


class TrutoMcpServerProvider(ResourceProvider):
    """Creates, reads, updates and deletes Truto MCP servers through Truto's REST API."""

    serialize_as_secret_always = False

    _client: TrutoClient | None = None
    _config_problem: str | None = MISSING_TOKEN_MESSAGE

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        """Restore nothing: a provider is configured in the host, never carried in state."""

    def configure(self, req: ConfigureRequest) -> None:
        """Resolve the API token and base URL (stack config, then env) and open the client."""
        settings = resolve_settings(req.config.get, os.environ)
        if settings.api_token is None:
            return
        try:
            self._client = TrutoClient(base_url=settings.base_url, api_token=settings.api_token)
        except TrutoConfigError as error:
            self._config_problem = str(error)
        else:
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
        result = diff_inputs(olds, news)
        return DiffResult(
            changes=bool(result.changes),
            replaces=list(result.replaces),
            delete_before_replace=False,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Create the server with one POST and keep the `token` and `url` only this answer has."""
        inputs = _managed(props)
        body: dict[str, Any] = {
            key: inputs[key] for key in ("name", "config", "expires_at") if key in inputs
        }
        server = self._api().create_mcp_server(inputs["integrated_account_id"], body)
        return CreateResult(str(server["id"]), _outputs(inputs, server, server))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh from Truto; a server that is gone is dropped from the state."""
        account_id = props.get("integrated_account_id")
        if not isinstance(account_id, str):
            raise TrutoConfigError(
                f"cannot read MCP server {id_}: its state has no integrated_account_id "
                "(`pulumi import` is not supported for dynamic providers)"
            )
        try:
            server = self._api().get_mcp_server(account_id, id_)
        except TrutoNotFoundError:
            _log.warning("MCP server %s no longer exists in Truto; dropping it from state", id_)
            return ReadResult(None, {})
        live = check_inputs({key: server.get(key) for key in INPUT_KEYS if key in server})
        inputs = live.inputs if not live.failures else _managed(server)
        inputs.setdefault("integrated_account_id", account_id)
        return ReadResult(id_, _outputs(inputs, server, props), dict(inputs))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Send one PATCH with only what changed; carry `token` and `url` forward."""
        inputs = _managed(news)
        body = patch_body(olds, inputs)
        if not body:
            return UpdateResult(_outputs(inputs, olds, olds))
        account_id = str(olds.get("integrated_account_id", inputs["integrated_account_id"]))
        try:
            server = self._api().update_mcp_server(account_id, id_, body)
        except TrutoNotFoundError as error:
            raise TrutoNotFoundError(
                status_code=error.status_code,
                method=error.method,
                path=error.path,
                message=(
                    f"MCP server {id_} no longer exists in Truto (deleted outside Pulumi?). "
                    "Run `pulumi refresh` to drop it from the state, then `pulumi up` to "
                    "create it again"
                ),
            ) from error
        return UpdateResult(_outputs(inputs, server, olds))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Delete the server; one that is already gone counts as deleted."""
        try:
            self._api().delete_mcp_server(str(props["integrated_account_id"]), id_)
        except TrutoNotFoundError:
            _log.warning("MCP server %s was already deleted", id_)

    def _api(self) -> TrutoClient:
        if self._client is None:
            raise TrutoConfigError(self._config_problem or MISSING_TOKEN_MESSAGE)
        return self._client


def _managed(props: Mapping[str, Any]) -> dict[str, Any]:
    return {key: props[key] for key in INPUT_KEYS if props.get(key) is not None}


def _outputs(
    inputs: Mapping[str, Any], server: Mapping[str, Any], secrets: Mapping[str, Any]
) -> dict[str, Any]:
    """Outputs: the managed inputs as given, server-set fields, and the create-only secrets."""
    outputs = dict(inputs)
    for key in SERVER_OUTPUTS:
        if server.get(key) is not None:
            outputs[key] = server[key]
    for key in SECRET_OUTPUTS:
        if secrets.get(key) is not None:
            outputs[key] = secrets[key]
    return outputs
