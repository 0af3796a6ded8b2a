"""Conveniences for testing TrutoMcpServer itself: its type token, the names of its settings,
and a ready `SimulatedStack`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from truto_pulumi.provider import TrutoMcpServerProvider

from .engine import SimulatedStack
from .host import ProviderHost

MCP_SERVER_TYPE = "pulumi-python:dynamic/truto:McpServer"
"""The type token the engine gives TrutoMcpServer."""

# The provider's settings as the README documents them (stack config keys, environment
# variables): what users type, so what the kit types too.
API_TOKEN_KEY = "truto:apiToken"
BASE_URL_KEY = "truto:baseUrl"
MAX_REQUESTS_PER_SECOND_KEY = "truto:maxRequestsPerSecond"
API_TOKEN_ENV = "TRUTO_API_TOKEN"
BASE_URL_ENV = "TRUTO_BASE_URL"

NO_TRUTO_ENV = {API_TOKEN_ENV: "", BASE_URL_ENV: ""}
"""Environment for a `ProviderHost` that must not pick up a developer's real Truto settings."""


def mcp_mock_outputs(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    """Placeholder `token` and `url` for a TrutoMcpServer under `truto_pulumi.testing` mocks."""
    if args.typ != MCP_SERVER_TYPE:
        return {}
    return {
        "token": f"mock-token-{args.name}",
        "url": f"https://mcp.invalid/mcp/mock-token-{args.name}",
    }


def mcp_server_stack(
    host: ProviderHost,
    *,
    api_token: str,
    base_url: str,
    settings: Mapping[str, Any] | None = None,
    project: str = "truto-lifecycle",
    stack: str = "test",
    new_host_each_run: bool = False,
) -> SimulatedStack:
    """A `SimulatedStack` of TrutoMcpServer resources whose provider talks to `base_url`, plus
    the stack config `settings` (typed or text). The host configures its provider from the first
    stack that uses it: give a stack with other settings a host of its own."""
    return SimulatedStack(
        host,
        TrutoMcpServerProvider(),
        type_token=MCP_SERVER_TYPE,
        project=project,
        stack=stack,
        stack_config={API_TOKEN_KEY: api_token, BASE_URL_KEY: base_url, **(settings or {})},
        new_host_each_run=new_host_each_run,
    )
