"""A minimal provider making the same HTTP calls as ours: the yardstick for "what our code adds".

One shared `httpx.Client` built in `configure`, no validation, no canonical form, no retries,
no error mapping: Check echoes, Diff compares the managed keys, and each of Create / Read /
Update / Delete sends the one request ours sends, with the same body, and returns outputs of
the same shape. Importable (not `__main__`), so it pickles by reference like ours.
"""

from __future__ import annotations

from typing import Any

import httpx
import pulumi.dynamic
from pulumi.dynamic import (
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

__all__ = ["ReferenceProvider", "ReferenceServer"]

_INPUTS = ("integrated_account_id", "name", "config", "expires_at")
_BODY = ("name", "config", "expires_at")
_SERVER = ("created_at", "updated_at", "created_by")
_SECRETS = ("token", "url")


class ReferenceProvider(ResourceProvider):
    """Truto MCP servers with nothing but the HTTP calls."""

    serialize_as_secret_always = False

    _http: httpx.Client | None = None

    def configure(self, req: ConfigureRequest) -> None:
        token = req.config.get("truto:apiToken")
        self._http = httpx.Client(
            base_url=str(req.config.get("truto:baseUrl")),
            headers={"Authorization": f"Bearer {token}"},
            timeout=30.0,
        )

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, [])

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in _INPUTS if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changed), replaces=[])

    def create(self, props: dict[str, Any]) -> CreateResult:
        body = {key: props[key] for key in _BODY if key in props}
        server = self._send("POST", _path(props), body)
        return CreateResult(str(server["id"]), _outputs(props, server, server))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        server = self._send("GET", _path(props, id_))
        inputs = {key: server[key] for key in _INPUTS if server.get(key) is not None}
        return ReadResult(id_, _outputs(inputs, server, props), inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        body = {key: news.get(key) for key in _BODY if olds.get(key) != news.get(key)}
        server = self._send("PATCH", _path(olds, id_), body)
        return UpdateResult(_outputs(news, server, olds))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self._send("DELETE", _path(props, id_))

    def _send(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        assert self._http is not None, "configure() was not called"
        response = self._http.request(method, path, json=body)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer


def _path(props: dict[str, Any], id_: str | None = None) -> str:
    path = f"/integrated-account/{props['integrated_account_id']}/mcp"
    return path if id_ is None else f"{path}/{id_}"


def _outputs(
    inputs: dict[str, Any], server: dict[str, Any], secrets: dict[str, Any]
) -> dict[str, Any]:
    outputs = {key: inputs[key] for key in _INPUTS if inputs.get(key) is not None}
    outputs.update({key: server[key] for key in _SERVER if server.get(key) is not None})
    outputs.update({key: secrets[key] for key in _SECRETS if secrets.get(key) is not None})
    return outputs


class ReferenceServer(pulumi.dynamic.Resource, module="bench", name="Reference"):
    """A server made by `ReferenceProvider`."""
