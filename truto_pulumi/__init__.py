"""Manage Truto MCP servers as code with Pulumi: the `TrutoMcpServer` resource, its argument
types, lookups and errors (README.md shows them at work)."""

from __future__ import annotations

from ._errors import (
    TrutoApiError,
    TrutoAuthError,
    TrutoConfigError,
    TrutoCreateError,
    TrutoDeadlineError,
    TrutoError,
    TrutoLookupError,
    TrutoNotFoundError,
    TrutoRateLimitedError,
    TrutoServerError,
    TrutoTransportError,
    TrutoValidationError,
)
from ._lookups import (
    IntegratedAccount,
    McpServerInfo,
    get_integrated_accounts,
    get_integrated_accounts_output,
    get_mcp_servers,
    get_mcp_servers_output,
)
from ._resource import McpServerConfigArgs, TrutoMcpServer, TrutoMcpServerArgs
from ._version import version as __version__

__all__ = [
    "IntegratedAccount",
    "McpServerConfigArgs",
    "McpServerInfo",
    "TrutoApiError",
    "TrutoAuthError",
    "TrutoConfigError",
    "TrutoCreateError",
    "TrutoDeadlineError",
    "TrutoError",
    "TrutoLookupError",
    "TrutoMcpServer",
    "TrutoMcpServerArgs",
    "TrutoNotFoundError",
    "TrutoRateLimitedError",
    "TrutoServerError",
    "TrutoTransportError",
    "TrutoValidationError",
    "__version__",
    "get_integrated_accounts",
    "get_integrated_accounts_output",
    "get_mcp_servers",
    "get_mcp_servers_output",
]
