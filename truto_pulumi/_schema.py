"""The shape of a TrutoMcpServer, declared once: each property, what it is to Pulumi (an input or
an output, secret, replacing) and to Truto (its field, whether a create and a PATCH carry it).

The resource's properties and secret outputs, check, the canonical form, the diff, the create
and PATCH bodies and the provider's outputs all derive from `PROPERTIES` and `CONFIG_PROPERTIES`:
adding a property is one entry here (and, for an input, its typed argument on
`TrutoMcpServerArgs`). Pure data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Shape = Literal["uuid", "text", "timestamp", "config", "string_set", "choice", "flag"]
"""What an input's value is, which decides how check validates it and its canonical form."""


@dataclass(frozen=True)
class Property:
    """One property of a TrutoMcpServer (or one key of its `config`)."""

    name: str
    """Its Pulumi name: the key in the program's inputs and in the stack's state, and its field
    in Truto's server object and request bodies."""
    shape: Shape | None = None
    """An input's kind of value; None for an output (every input is also an output)."""
    accepts: str = ""
    """What an input accepts, in the words check failures quote."""
    required: bool = False
    replaces: bool = False
    """A change replaces the server: Truto cannot change it in place."""
    patchable: bool = False
    """Sent in the create's body and, when it changes, in a PATCH."""
    secret: bool = False
    create_only: bool = False
    """An output only the answer to the server's create carries; Truto never shows it again."""
    of_account: bool = False
    """An output read from the server's integrated account, not from the server."""
    in_truto: bool = True
    """Whether Truto has the field; `adopt_id` and `token_known` are the provider's own."""
    choices: tuple[str, ...] = ()
    lead_seconds: int | None = None
    """A timestamp that must lie at least this far ahead when it is set or changed."""
    default: str | bool | None = None
    """A `config` key's documented default: Truto may echo it for a server that never set the
    key, so the key at its default and the key absent are the same `config`; and a key the
    program drops is PATCHed back to it (Truto may refuse `null` for a typed key)."""

    @property
    def truto(self) -> str | None:
        """Its field in Truto's server object and request bodies; None when Truto has none."""
        return self.name if self.in_truto else None

    @property
    def input(self) -> bool:
        """Declared by the program (and echoed as an output)."""
        return self.shape is not None

    def at_default(self, value: object) -> bool:
        """Whether `value` is this key's documented default (of its type too: `0` is not
        `false`)."""
        return (
            self.default is not None and type(value) is type(self.default) and value == self.default
        )


_ACCOUNT = "the UUID of a Truto integrated account"
_EXPIRY = "an RFC 3339 timestamp at least 60 s ahead, e.g. 2027-01-01T00:00:00Z"
_ADOPT = "the UUID of an existing MCP server of this integrated account to take over"
_METHODS = (
    "a non-empty list of method names (list, get, create, update, delete, a custom method) "
    "or the groups read, write"
)

PROPERTIES: tuple[Property, ...] = (
    Property("integrated_account_id", "uuid", _ACCOUNT, required=True, replaces=True),
    Property("name", "text", "a non-empty string", required=True, patchable=True),
    Property(
        "config",
        "config",
        "an object with any of methods, tags, tool_exposure, require_api_token_auth",
        patchable=True,
    ),
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
"""Every property of a TrutoMcpServer."""

CONFIG_PROPERTIES: tuple[Property, ...] = (
    Property("methods", "string_set", _METHODS),
    Property("tags", "string_set", "a non-empty list of non-empty tag strings"),
    Property(
        "tool_exposure",
        "choice",
        "'all' or 'discovery'",
        choices=("all", "discovery"),
        default="all",
    ),
    Property("require_api_token_auth", "flag", "true or false", default=False),
)
"""The keys of `config`: Truto's own, the same in the program, the state and the API."""

INPUTS = tuple(p for p in PROPERTIES if p.input)
INPUT_KEYS = tuple(p.name for p in INPUTS)
"""Every input, as stored in state."""
DIFFED_INPUTS = tuple(p for p in INPUTS if p.replaces or p.patchable)
"""The inputs that describe the server: a change is an update or a replacement (`adopt_id`
only matters at create)."""
OUTPUT_KEYS = tuple(p.name for p in PROPERTIES if not p.input)
"""The outputs that are not inputs echoed back."""
SECRET_OUTPUTS = tuple(p.name for p in PROPERTIES if p.secret)
CREATE_ONLY_OUTPUTS = tuple(p.name for p in PROPERTIES if p.create_only)
SERVER_OUTPUTS = tuple(
    p.name
    for p in PROPERTIES
    if not p.input and p.truto is not None and not p.create_only and not p.of_account
)
"""Outputs Truto sets on every answer about the server."""
ACCOUNT_OUTPUTS = tuple(p.name for p in PROPERTIES if p.of_account)
"""Outputs read from the server's integrated account: the installed integration it belongs to,
which proves the account deleted when the account answers 404 and the integration does not."""
DERIVED_OUTPUTS = tuple(p.name for p in PROPERTIES if not p.input and p.truto is None)
"""Outputs every create, read and update writes without asking Truto: a state that lacks one was
written by an earlier release, and the next `up` (or `refresh`) fills it in."""
CONFIG_KEYS = tuple(p.name for p in CONFIG_PROPERTIES)

ALLOWED: dict[str, str] = {
    **{p.name: p.accepts for p in INPUTS},
    **{f"config.{p.name}": p.accepts for p in CONFIG_PROPERTIES},
}
"""What each property path accepts, quoted in check failures."""

CONFIG_BY_NAME = {p.name: p for p in CONFIG_PROPERTIES}
"""The `config` keys this release knows, by name."""
