"""Guardrails for Truto MCP servers: a Pulumi policy pack (CrossGuard) of the rules below, each
configured with `--policy-pack-config` (needs the extra `truto-pulumi[policy]`).

A rule sees only a server's inputs and makes no request to Truto, so it cannot know an
account's tenant: a tenant is allowed by naming it in a rule's `tenants` map, tenant id -> its
integrated account ids, which the team keeps beside its accounts (`accounts: ["*"]` allows all).
A value unknown at preview is reported as "cannot decide", at the rule's level. The SDK hands a
rule secrets as plain, unmarked values, so no message holds a server's `name`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from ._inputs import parse_timestamp
from ._schema import TYPE_TOKEN

__all__ = ["MCP_SERVER_TYPE", "policies", "serve_pack"]

MCP_SERVER_TYPE = TYPE_TOKEN
_READ_METHODS = {"read", "list", "get"}
_ALLOW_LIST = {
    "accounts": {"type": "array", "items": {"type": "string"}, "default": []},
    "tenants": {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
        "default": {},
    },
}
"""The settings of a rule with an allow-list: integrated account ids, and tenant -> accounts."""

Check = Callable[[Mapping[str, Any], Mapping[str, Any]], str | None]
"""A rule: (a server's inputs, its settings) -> what is wrong, or None."""


def _allowed(props: Mapping[str, Any], settings: Mapping[str, Any]) -> bool:
    """Whether the server's integrated account is on the rule's allow-list (or a tenant's)."""
    account = props.get("integrated_account_id")
    tenants = settings["tenants"].values()
    return any(account in ids or "*" in ids for ids in [settings["accounts"], *tenants])


def _config(props: Mapping[str, Any]) -> Mapping[str, Any]:
    config = props.get("config")
    return config if isinstance(config, Mapping) else {}


def _expires(props: Mapping[str, Any], settings: Mapping[str, Any]) -> str | None:
    expires_at = props.get("expires_at")
    if not expires_at:
        return "has no expires_at"
    try:
        when = parse_timestamp(str(expires_at))
    except ValueError:
        return f"has an expires_at that is no ISO 8601 time: {expires_at!r}"
    if when > datetime.now(UTC) + timedelta(days=settings["max_days"]):
        return f"expires at {expires_at}, more than {settings['max_days']:g} days ahead"
    return None


def _scoped(props: Mapping[str, Any], settings: Mapping[str, Any]) -> str | None:
    config = _config(props)
    if not config.get("methods"):
        return "declares no config.methods (every method of the account)"
    if not config.get("tags") and not _allowed(props, settings):
        return "declares no config.tags, and its account is not on the allow-list"
    return None


def _writes(props: Mapping[str, Any], settings: Mapping[str, Any]) -> str | None:
    config = _config(props)
    methods = config.get("methods")
    writes = sorted(set(methods) - _READ_METHODS) if methods else ["every method"]
    if not writes:
        return None
    if not _allowed(props, settings):
        return f"has write access ({', '.join(writes)}) on an account not on the allow-list"
    if config.get("require_api_token_auth") is not True:
        return f"has write access ({', '.join(writes)}) without require_api_token_auth: true"
    return None


def _exposure(props: Mapping[str, Any], settings: Mapping[str, Any]) -> str | None:
    exposure = _config(props).get("tool_exposure")
    if exposure in (None, "all") and not _allowed(props, settings):
        return "lists every tool (tool_exposure all, Truto's default) outside the allow-list"
    return None


def _named(props: Mapping[str, Any], settings: Mapping[str, Any]) -> str | None:
    pattern = settings.get("pattern")
    try:
        if pattern and not re.fullmatch(pattern, str(props.get("name", ""))):
            return f"has a name that does not match {pattern!r}"
    except re.error as error:
        return f"cannot be checked: the pattern {pattern!r} is not a regular expression ({error})"
    return None


def _adoption(props: Mapping[str, Any], settings: Mapping[str, Any]) -> str | None:
    if props.get("adopt_id") and not _allowed(props, settings):
        return "adopts a server (adopt_id) on an account not on the allow-list"
    return None


_RULES: list[tuple[str, str, EnforcementLevel, dict[str, Any], Check]] = [
    (
        "truto-server-expires",
        "Every MCP server has expires_at, at most max_days ahead.",
        EnforcementLevel.ADVISORY,
        {"max_days": {"type": "integer", "minimum": 1, "default": 90}},
        _expires,
    ),
    (
        "truto-server-scoped",
        "Every MCP server declares config.methods, and config.tags unless its account is allowed.",
        EnforcementLevel.ADVISORY,
        _ALLOW_LIST,
        _scoped,
    ),
    (
        "truto-write-access",
        "Write methods (write, create, update, delete, custom) only on allowed accounts, and only"
        " with require_api_token_auth: true.",
        EnforcementLevel.MANDATORY,
        _ALLOW_LIST,
        _writes,
    ),
    (
        "truto-tool-exposure",
        'tool_exposure "all" (Truto\'s default) only on allowed accounts.',
        EnforcementLevel.ADVISORY,
        _ALLOW_LIST,
        _exposure,
    ),
    (
        "truto-server-name",
        "Server names match the configured pattern (none: any name).",
        EnforcementLevel.MANDATORY,
        {"pattern": {"type": "string"}},
        _named,
    ),
    (
        "truto-adoption",
        "Adopting an existing server (adopt_id) only on allowed accounts.",
        EnforcementLevel.MANDATORY,
        _ALLOW_LIST,
        _adoption,
    ),
]
"""Each resource rule: name, description, default level, settings schema, check."""


def _resource_policy(
    name: str, description: str, level: EnforcementLevel, schema: dict[str, Any], check: Check
) -> ResourceValidationPolicy:
    defaults = {key: spec["default"] for key, spec in schema.items() if "default" in spec}

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type != MCP_SERVER_TYPE:
            return
        try:  # the settings: the pack config's over the schema's defaults
            problem = check(args.props, {**defaults, **args.get_config()})
        except UnknownValueError as unknown:
            problem = f"cannot decide at preview: {unknown.message}"
        if problem:
            report(f"MCP server {args.name} {problem}", None)

    return ResourceValidationPolicy(name, description, validate, level, PolicyConfigSchema(schema))


def _unique_names(args: StackValidationArgs, report: ReportViolation) -> None:
    """No two servers with one name in one integrated account (names are never printed)."""
    groups: dict[tuple[Any, Any], dict[str, str]] = {}  # (account, name) -> resource -> urn
    for resource in args.resources:
        if resource.resource_type != MCP_SERVER_TYPE:
            continue
        try:
            key = (resource.props.get("integrated_account_id"), resource.props.get("name"))
        except UnknownValueError as unknown:
            report(f"MCP server {resource.name}: cannot decide: {unknown.message}", resource.urn)
            continue
        groups.setdefault(key, {})[resource.name] = resource.urn
    for (account, _), urns in groups.items():
        for name, urn in urns.items() if len(urns) > 1 else ():
            others = ", ".join(sorted(set(urns) - {name}))
            report(f"MCP server {name} has the name of {others} in account {account}", urn)


def policies() -> list[ResourceValidationPolicy | StackValidationPolicy]:
    """Every rule of the pack, as `pulumi_policy` policies."""
    unique = StackValidationPolicy(
        "truto-unique-names",
        "No two MCP servers with one name in one integrated account.",
        _unique_names,
        EnforcementLevel.MANDATORY,
    )
    return [*(_resource_policy(*rule) for rule in _RULES), unique]


def serve_pack(
    name: str = "truto-guardrails", enforcement_level: EnforcementLevel | None = None
) -> None:
    """Serve the pack to the Pulumi CLI (a pack's `__main__.py`); `enforcement_level`
    overrides every rule's default."""
    rules = policies()
    if enforcement_level is not None:
        for rule in rules:
            rule.enforcement_level = enforcement_level
    PolicyPack(name, list(rules), enforcement_level)
