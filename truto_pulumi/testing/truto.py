"""Conveniences for testing TrutoMcpServer itself: its type token and a ready `Stack`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from truto_pulumi.provider import TrutoMcpServerProvider
from truto_pulumi.settings import API_TOKEN_ENV, API_TOKEN_KEY, BASE_URL_ENV, BASE_URL_KEY

from .engine import Stack
from .host import ProviderHost

__all__ = ["MCP_SERVER_TYPE", "NO_TRUTO_ENV", "mcp_server_stack"]

MCP_SERVER_TYPE = "pulumi-python:dynamic/truto:McpServer"
"""The type token the engine gives TrutoMcpServer."""

NO_TRUTO_ENV = {API_TOKEN_ENV: "", BASE_URL_ENV: ""}
"""Environment for a `ProviderHost` that must not pick up a developer's real Truto settings."""


def mcp_server_stack(
    host: ProviderHost,
    *,
    api_token: str,
    base_url: str,
    settings: Mapping[str, Any] | None = None,
    project: str = "truto-lifecycle",
    stack: str = "test",
    new_host_each_run: bool = False,
) -> Stack:
    """A `Stack` of TrutoMcpServer resources whose provider talks to `base_url`.

    `settings` adds stack config (e.g. `{"truto:operationTimeoutSeconds": "1"}`, or typed:
    `{"truto:operationTimeoutSeconds": 1}`, as `pulumi config set --type int` gives it). The host
    configures its one provider instance from the first stack that uses it, so every stack on
    one host should carry the same config: give a stack with other settings a host of its own.
    """
    return Stack(
        host,
        TrutoMcpServerProvider(),
        type_token=MCP_SERVER_TYPE,
        project=project,
        stack=stack,
        config={API_TOKEN_KEY: api_token, BASE_URL_KEY: base_url, **(settings or {})},
        new_host_each_run=new_host_each_run,
    )
