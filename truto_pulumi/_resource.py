"""The `TrutoMcpServer` resource a Pulumi program declares, and its argument types."""

from __future__ import annotations

import base64
import functools
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi.dynamic

from ._host_bridge import URN_KEY
from ._schema import INPUT_KEYS, OUTPUT_KEYS, SECRET_OUTPUTS
from ._schema import TYPE_TOKEN as _TYPE
from ._settings import program_config
from .provider import TrutoMcpServerProvider


@dataclass(frozen=True)
class McpServerConfigArgs:
    """Which tools the MCP server exposes; unset fields apply no filter. `methods` and `tags` are
    sets: their order never causes a diff."""

    methods: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None
    """Method names (`list`, `get`, `create`, `update`, `delete`, custom) or `read`/`write`."""
    tags: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None
    """Keep tools whose resource carries at least one of these tags (ANDed with methods)."""
    tool_exposure: pulumi.Input[str] | None = None
    """`all` (default) or `discovery` (only meta-tools are listed)."""
    require_api_token_auth: pulumi.Input[bool] | None = None
    """MCP callers must also present a Truto API token."""

    def to_props(self) -> dict[str, Any]:
        """The `config` property bag, without unset keys."""
        return {
            f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None
        }


ConfigInput = McpServerConfigArgs | Mapping[str, Any] | pulumi.Output[Mapping[str, Any]]


@dataclass(frozen=True)
class TrutoMcpServerArgs:
    """The inputs of a TrutoMcpServer."""

    integrated_account_id: pulumi.Input[str]
    """The integrated account the server belongs to. Changing it replaces the server."""
    name: pulumi.Input[str] | None = None
    """Human-readable name; defaults to the Pulumi resource name."""
    config: ConfigInput | None = None
    """Tool scoping; omit to expose every tool of the account."""
    expires_at: pulumi.Input[str] | None = None
    """RFC 3339 time at which Truto deletes the server and its token (at least 60 s ahead)."""
    adopt_id: pulumi.Input[str] | None = None
    """Take over this existing server at create instead of making one (its `token` and `url`
    stay unknown); changing it later does nothing."""


class TrutoMcpServer(pulumi.dynamic.Resource, module="truto", name="McpServer"):
    """A Truto MCP server for one integrated account: a scoped, token-bearing endpoint for agents.
    Its `url` and `token` are secret outputs, known only when Pulumi created the server."""

    # For type checkers only: at runtime Pulumi would evaluate these annotations with
    # typing.get_type_hints at every registration, milliseconds of program time per server.
    if TYPE_CHECKING:
        integrated_account_id: pulumi.Output[str]
        name: pulumi.Output[str]
        config: pulumi.Output[dict[str, Any] | None]
        expires_at: pulumi.Output[str | None]
        url: pulumi.Output[str]
        """The MCP endpoint agents call. Secret: it embeds the token."""
        token: pulumi.Output[str]
        """The MCP server's token. Secret."""
        created_at: pulumi.Output[str]
        updated_at: pulumi.Output[str]
        created_by: pulumi.Output[str | None]
        environment_integration_id: pulumi.Output[str | None]
        """The installed integration the server's integrated account belongs to."""
        token_known: pulumi.Output[bool]
        """False for an adopted server: Truto never reveals an existing server's token and url."""
        adopt_id: pulumi.Output[str | None]

    def __init__(
        self,
        resource_name: str,
        args: TrutoMcpServerArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        integrated_account_id: pulumi.Input[str] | None = None,
        name: pulumi.Input[str] | None = None,
        config: ConfigInput | None = None,
        expires_at: pulumi.Input[str] | None = None,
        adopt_id: pulumi.Input[str] | None = None,
    ) -> None:
        """Declare the server with `TrutoMcpServerArgs` or with keyword arguments, not both."""
        given = locals()  # the keyword arguments are the schema's inputs, by name
        keywords = {key: given[key] for key in INPUT_KEYS}
        if args is None:
            if integrated_account_id is None:
                raise TypeError(
                    f"TrutoMcpServer {resource_name!r}: integrated_account_id is required"
                )
            args = TrutoMcpServerArgs(**keywords)
        elif any(value is not None for value in keywords.values()):
            raise TypeError(
                f"TrutoMcpServer {resource_name!r}: pass TrutoMcpServerArgs or keyword "
                "arguments, not both"
            )
        props: dict[str, Any] = {key: getattr(args, key) for key in INPUT_KEYS}
        name = args.name
        if name is not None and not isinstance(name, str):  # an Output may hold None too
            name = pulumi.Output.from_input(args.name).apply(
                lambda n: resource_name if n is None else n
            )
        props["name"] = resource_name if name is None else name
        if isinstance(args.config, McpServerConfigArgs):
            props["config"] = args.config.to_props()
        props[URN_KEY] = _urn(resource_name, None if opts is None else opts.parent)
        _register(self, resource_name, {**props, **dict.fromkeys(OUTPUT_KEYS)}, opts)

    @staticmethod
    def get(
        resource_name: str,
        id: pulumi.Input[str],
        integrated_account_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> TrutoMcpServer:
        """A read-only reference to the existing server `id` of `integrated_account_id`: read at
        every run, never changed or deleted; its `token` and `url` stay unknown."""
        server: TrutoMcpServer = TrutoMcpServer.__new__(TrutoMcpServer)
        props: dict[str, Any] = dict.fromkeys((*INPUT_KEYS, *OUTPUT_KEYS))
        props["integrated_account_id"] = integrated_account_id
        _register(server, resource_name, props, opts, id=id)
        return server


def _register(
    server: TrutoMcpServer,
    resource_name: str,
    props: dict[str, Any],
    opts: pulumi.ResourceOptions | None,
    **options: Any,
) -> None:
    """Register `server` (its `token` and `url` secret) as `pulumi.dynamic.Resource` would, but
    pickling the provider once (its pickle of each nests a Pickler patch: past about 950 servers
    it exceeds the recursion limit) and without its own frame as every server's source position."""
    program_config()  # raises for a `truto:` key that is not a setting
    props["__provider"] = _pickled_provider()
    ours = pulumi.ResourceOptions(additional_secret_outputs=list(SECRET_OUTPUTS), **options)
    pulumi.CustomResource.__init__(
        server,
        _TYPE,
        resource_name,
        props,
        ours if opts is None else pulumi.ResourceOptions.merge(opts, ours),
    )


@functools.cache
def _pickled_provider() -> str:
    """`__provider`, the bytes of pulumi.dynamic's pickle of the provider: its class alone."""
    return base64.b64encode(
        pickle.dumps(TrutoMcpServerProvider(), pickle.DEFAULT_PROTOCOL)
    ).decode()


def _urn(resource_name: str, parent: pulumi.Resource | None) -> pulumi.Input[str]:
    """The URN the engine gives this server (`URN_KEY`), from the parent's URN as a value: an
    `Output` of the parent would make it wait for a component parent, which waits for it."""
    if parent is None:
        stack, project = pulumi.get_stack(), pulumi.get_project()
        return f"urn:pulumi:{stack}::{project}::{_TYPE}::{resource_name}"

    def child_of(urn: str) -> str:
        stack, project, parent_type, _ = urn.split("::", 3)
        qualified = _TYPE if parent_type == "pulumi:pulumi:Stack" else f"{parent_type}${_TYPE}"
        return f"{stack}::{project}::{qualified}::{resource_name}"

    parent_urn: pulumi.Output[str] = pulumi.Output.from_input(parent.urn.future())  # type: ignore[arg-type]
    return parent_urn.apply(child_of)
