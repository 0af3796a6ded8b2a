"""The shape of a TrutoMcpServer, a row per property: what it is to Pulumi (input or output,
secret, replacing) and to Truto. The resource's properties, check, the canonical form, the diff,
the request bodies and the outputs all derive from these rows: adding a property is one row (and,
for an input, its argument on `TrutoMcpServerArgs`). Pure data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TYPE_TOKEN = "pulumi-python:dynamic/truto:McpServer"
"""The resource type token the engine gives a TrutoMcpServer (`pulumi.dynamic.Resource`'s rule)."""

Shape = Literal["uuid", "text", "timestamp", "config", "string_set", "choice", "flag"]


@dataclass(frozen=True)
class Property:
    """A property, or a key of `config`, named alike in the program, the state and Truto. An
    input has a `shape` (how check judges it) and says what it `accepts`; a `patchable` one is in
    the create's body and, changed, in a PATCH. An output may be `create_only`, `of_account`
    (read from the integrated account) or not `in_truto` (the provider's own). A `config` key at
    its `default` is the key absent (Truto may echo it); a dropped key is PATCHed back to it."""

    name: str
    shape: Shape | None = None
    accepts: str = ""
    required: bool = False
    replaces: bool = False
    patchable: bool = False
    secret: bool = False
    create_only: bool = False
    of_account: bool = False
    in_truto: bool = True
    choices: tuple[str, ...] = ()
    lead_seconds: int | None = None
    default: str | bool | None = None


_ACCOUNT = "the UUID of a Truto integrated account"
_EXPIRY = "an RFC 3339 timestamp at least 60 s ahead, e.g. 2027-01-01T00:00:00Z, or no expiry"
_ADOPT = "the UUID of an existing MCP server of this integrated account to take over"
_EXPOSURES = ("all", "discovery")
_CONFIG = "an object with any of methods, tags, tool_exposure, require_api_token_auth"
_METHODS = (
    "a non-empty list of method names (list, get, create, update, delete, a custom method) "
    "or the groups read, write"
)

PROPERTIES: tuple[Property, ...] = (
    Property("integrated_account_id", "uuid", _ACCOUNT, required=True, replaces=True),
    Property("name", "text", "a non-empty string", required=True, patchable=True),
    Property("config", "config", _CONFIG, patchable=True),
    Property("expires_at", "timestamp", _EXPIRY, patchable=True, lead_seconds=60),
    Property("adopt_id", "uuid", _ADOPT, in_truto=False),
    Property("token", secret=True, create_only=True),
    Property("url", secret=True, create_only=True),
    Property("created_at"),
    Property("updated_at"),
    Property("created_by"),
    Property("environment_integration_id", of_account=True),
    Property("token_known", in_truto=False),
)

CONFIG_PROPERTIES: tuple[Property, ...] = (
    Property("methods", "string_set", _METHODS),
    Property("tags", "string_set", "a non-empty list of non-empty tag strings"),
    Property("tool_exposure", "choice", "'all' or 'discovery'", choices=_EXPOSURES, default="all"),
    Property("require_api_token_auth", "flag", "true or false", default=False),
)
"""The keys of `config`: Truto's own, the same in the program, the state and the API."""

INPUTS = tuple(p for p in PROPERTIES if p.shape is not None)
INPUT_KEYS = tuple(p.name for p in INPUTS)
DIFFED_INPUTS = tuple(p for p in INPUTS if p.replaces or p.patchable)
"""The inputs that describe the server (`adopt_id` only matters at create)."""
_OUTPUTS = tuple(p for p in PROPERTIES if p.shape is None)
OUTPUT_KEYS = tuple(p.name for p in _OUTPUTS)
"""The outputs that are not inputs echoed back."""
SECRET_OUTPUTS = tuple(p.name for p in PROPERTIES if p.secret)
CREATE_ONLY_OUTPUTS = tuple(p.name for p in PROPERTIES if p.create_only)
SERVER_OUTPUTS = tuple(
    p.name for p in _OUTPUTS if p.in_truto and not (p.create_only or p.of_account)
)
"""Outputs Truto sets on every answer about the server."""
ACCOUNT_OUTPUTS = tuple(p.name for p in PROPERTIES if p.of_account)
"""Outputs read from the integrated account: its installed integration, which proves the account
deleted when the account answers 404 and the integration does not."""
DERIVED_OUTPUTS = tuple(p.name for p in _OUTPUTS if not p.in_truto)
"""Outputs written without asking Truto: a state without one is an earlier release's."""
CONFIG_KEYS = tuple(p.name for p in CONFIG_PROPERTIES)
CONFIG_BY_NAME = {p.name: p for p in CONFIG_PROPERTIES}
CONFIG_DEFAULTS = {p.name: p.default for p in CONFIG_PROPERTIES if p.default is not None}
