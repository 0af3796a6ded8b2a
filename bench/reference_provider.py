"""A minimal provider making the floor of HTTP calls: the yardstick for what our code adds.

One shared `httpx.Client` built in `configure`; no validation, canonical form, error mapping,
create mark, or retries but of a 429 (after its `Retry-After`, as any provider must). Check
echoes, Diff compares the inputs, and Create / Read / Update / Delete each send one request
(Create its POST alone, where ours adds the mark's rename PATCH), returning outputs of the same
shape.
Importable (not `__main__`), so it pickles by reference, like ours.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from pulumi import dynamic

_INPUTS = ("integrated_account_id", "name", "config", "expires_at")
_BODY = ("name", "config", "expires_at")
_SERVER = ("created_at", "updated_at", "created_by")


class ReferenceProvider(dynamic.ResourceProvider):
    """Truto MCP servers with nothing but the HTTP calls."""

    serialize_as_secret_always = False
    _http: httpx.Client | None = None

    def configure(self, req: dynamic.ConfigureRequest) -> None:
        self._http = httpx.Client(
            base_url=str(req.config.get("truto:baseUrl")),
            headers={"Authorization": f"Bearer {req.config.get('truto:apiToken')}"},
            timeout=30.0,
        )

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.CheckResult:
        return dynamic.CheckResult(news, [])

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        return dynamic.DiffResult(
            changes=any(olds.get(k) != news.get(k) for k in _INPUTS), replaces=[]
        )

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        body = {key: props[key] for key in _BODY if props.get(key) is not None}
        body.setdefault("config", {})  # Truto requires it
        server = self._send("POST", props, None, body)
        return dynamic.CreateResult(str(server["id"]), _outputs(props, server, server))

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        server = self._send("GET", props, id_)
        inputs = {key: server[key] for key in _INPUTS if server.get(key) is not None}
        return dynamic.ReadResult(id_, _outputs(inputs, server, props), inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        body = {key: news.get(key) for key in _BODY if olds.get(key) != news.get(key)}
        return dynamic.UpdateResult(_outputs(news, self._send("PATCH", olds, id_, body), olds))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self._send("DELETE", props, id_)

    def _send(
        self, method: str, props: dict[str, Any], id_: str | None, body: Any = None
    ) -> dict[str, Any]:
        assert self._http is not None, "configure() was not called"
        path = f"/integrated-account/{props['integrated_account_id']}/mcp"
        url = path if id_ is None else f"{path}/{id_}"
        response = self._http.request(method, url, json=body)
        while response.status_code == 429:  # as any provider must: wait as Truto says, again
            time.sleep(float(response.headers.get("Retry-After", "1")))
            response = self._http.request(method, url, json=body)
        answer: dict[str, Any] = response.raise_for_status().json()
        return answer


def _outputs(
    inputs: dict[str, Any], server: dict[str, Any], made: dict[str, Any]
) -> dict[str, Any]:
    """The inputs, what Truto sets on every answer, and `token` / `url` (known from create)."""
    outputs = {key: inputs[key] for key in _INPUTS if inputs.get(key) is not None}
    outputs.update({key: server[key] for key in _SERVER if server.get(key) is not None})
    outputs.update({key: made[key] for key in ("token", "url") if made.get(key) is not None})
    return outputs


class ReferenceServer(dynamic.Resource, module="bench", name="Reference"):
    """A server made by `ReferenceProvider`."""
