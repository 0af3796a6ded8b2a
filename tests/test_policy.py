"""The guardrails' rules (truto_pulumi.policy), each called as the policy SDK calls it: the
server's inputs behind the SDK's unknown-checking proxy, the rule's pack config, and a
`report_violation` that keeps what it is told. pulumi-policy has no test helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from truto_pulumi import policy
from truto_pulumi.policy import MCP_SERVER_TYPE, policies

from .kit import EXAMPLE_ACCOUNTS

ACCOUNT, OTHER = EXAMPLE_ACCOUNTS
NAME = "Support Bot"
"""Every server's name: no message may hold it (a secret name reaches a rule as plain text)."""
RULES: dict[str, Any] = {rule.name: rule for rule in policies()}
UNKNOWN = UNKNOWN_STRING_VALUE


def in_days(n: int) -> str:
    """The time `n` days from now, as a server's `expires_at`."""
    return (datetime.now(UTC) + timedelta(days=n)).strftime("%Y-%m-%dT%H:%M:%SZ")


def server(**inputs: Any) -> dict[str, Any]:
    """A server's inputs: ACCOUNT, NAME, and `inputs` (`config` as given, else read-only)."""
    return {
        "integrated_account_id": ACCOUNT,
        "name": NAME,
        "config": {"methods": ["read"]},
        **inputs,
    }


def violations(rule: str, props: dict[str, Any], config: dict[str, Any] | None = None) -> list[str]:
    """What `rule` reports on a server with inputs `props` under the pack config `config`."""
    args = ResourceValidationArgs(
        MCP_SERVER_TYPE, unknown_checking_proxy(props), "urn:s", "s", cast(Any, None), None, config
    )
    found: list[str] = []
    RULES[rule].validate(args, lambda message, urn: found.append(message))
    return found


ALLOWED = {"accounts": [ACCOUNT]}
BY_TENANT = {"tenants": {"acme": [OTHER, ACCOUNT]}}
SCOPED = {"methods": ["read"], "tags": ["tickets"]}
WRITER = {"methods": ["read", "update"], "require_api_token_auth": True}
CASES: list[tuple[str, dict[str, Any], dict[str, Any], str | None]] = [
    ("truto-server-expires", server(), {}, "has no expires_at"),
    ("truto-server-expires", server(expires_at=in_days(89)), {}, None),
    ("truto-server-expires", server(expires_at=in_days(91)), {}, "more than 90 days ahead"),
    ("truto-server-expires", server(expires_at=in_days(91)), {"max_days": 120}, None),
    (
        "truto-server-expires",
        server(expires_at=in_days(31)),
        {"max_days": 30.0},
        "than 30 days",
    ),  # CLI: float
    ("truto-server-expires", server(expires_at="next week"), {}, "no ISO 8601 time"),
    ("truto-server-expires", server(expires_at="2030-01-01T00:00:00Z"), {}, "more than 90"),
    ("truto-server-expires", server(expires_at=UNKNOWN), {}, "cannot decide at preview"),
    ("truto-server-scoped", server(config={"tags": ["t"]}), {}, "declares no config.methods"),
    ("truto-server-scoped", server(), {}, "declares no config.tags"),
    ("truto-server-scoped", server(), ALLOWED, None),
    ("truto-server-scoped", server(), BY_TENANT, None),
    ("truto-server-scoped", server(config=SCOPED), {}, None),
    ("truto-server-scoped", server(config=UNKNOWN), {}, "cannot decide at preview"),
    ("truto-write-access", server(), {}, None),
    ("truto-write-access", server(config=WRITER), {}, "(update) on an account not on the allow"),
    ("truto-write-access", server(config={"methods": ["write"]}), ALLOWED, "(write) without"),
    ("truto-write-access", server(config={"methods": ["search"]}), {}, "(search) on an account"),
    ("truto-write-access", server(config={"tags": ["t"]}), {}, "(every method) on an account"),
    ("truto-write-access", server(config=WRITER), ALLOWED, None),
    ("truto-write-access", server(config=WRITER), BY_TENANT, None),
    ("truto-write-access", server(config=WRITER), {"accounts": [OTHER]}, "not on the allow"),
    ("truto-write-access", server(config={"methods": ["read", UNKNOWN]}), {}, "cannot decide"),
    ("truto-tool-exposure", server(), {}, "lists every tool"),
    ("truto-tool-exposure", server(config={"tool_exposure": "all"}), BY_TENANT, None),
    ("truto-tool-exposure", server(config={"tool_exposure": "all"}), {"accounts": ["*"]}, None),
    ("truto-tool-exposure", server(config={"tool_exposure": "discovery"}), {}, None),
    ("truto-server-name", server(), {}, None),
    ("truto-server-name", server(), {"pattern": "mcp-[a-z-]+"}, "does not match 'mcp-[a-z-]+'"),
    ("truto-server-name", server(name="mcp-support"), {"pattern": "mcp-[a-z-]+"}, None),
    ("truto-server-name", server(name=UNKNOWN), {"pattern": "mcp-.*"}, "cannot decide"),
    ("truto-server-name", server(), {"pattern": "mcp-("}, "is not a regular expression"),
    ("truto-adoption", server(), {}, None),
    ("truto-adoption", server(adopt_id="srv-1"), {}, "adopts a server (adopt_id) on an account"),
    ("truto-adoption", server(adopt_id="srv-1"), ALLOWED, None),
]


@pytest.mark.parametrize(("rule", "props", "config", "expected"), CASES)
def test_each_rule_reports_what_breaks_it_and_never_the_name(
    rule: str, props: dict[str, Any], config: dict[str, Any], expected: str | None
) -> None:
    found = violations(rule, props, config)
    assert len(found) == (expected is not None), found
    if expected is not None:
        assert found[0].startswith("MCP server s ")
        assert expected in found[0]
        assert NAME not in found[0]


def test_rules_leave_other_resources_alone() -> None:
    args = ResourceValidationArgs("random:index:RandomId", {}, "urn:r", "r", cast(Any, None), None)
    found: list[str] = []
    for rule in list(RULES.values())[:-1]:  # the resource rules
        rule.validate(args, lambda message, urn: found.append(message))
    assert found == []


def stack_violations(*servers: dict[str, Any]) -> list[tuple[str, str | None]]:
    rest: tuple[Any, ...] = (None, None, None, [], {})  # provider, options, dependencies, ...
    resources = [
        PolicyResource(MCP_SERVER_TYPE, unknown_checking_proxy(p), f"urn:s{i}", f"s{i}", *rest)
        for i, p in enumerate(servers)
    ]
    found: list[tuple[str, str | None]] = []
    RULES["truto-unique-names"].validate(
        StackValidationArgs(resources), lambda message, urn: found.append((message, urn))
    )
    return found


def test_two_servers_with_one_name_in_one_account_break_the_stack_rule() -> None:
    assert stack_violations(server(), server(integrated_account_id=OTHER)) == []
    assert stack_violations(server(), server(name="Other"), server()) == [
        (f"MCP server s0 has the name of s2 in account {ACCOUNT}", "urn:s0"),
        (f"MCP server s2 has the name of s0 in account {ACCOUNT}", "urn:s2"),
    ]
    assert stack_violations(server(), server(name=UNKNOWN)) == [
        (
            "MCP server s1: cannot decide: string value at .name can't be known during preview",
            "urn:s1",
        )
    ]


def test_pack_default_levels() -> None:
    levels = {name: rule.enforcement_level.value for name, rule in RULES.items()}
    assert levels == {
        "truto-server-expires": "advisory",
        "truto-server-scoped": "advisory",
        "truto-write-access": "mandatory",
        "truto-tool-exposure": "advisory",
        "truto-server-name": "mandatory",
        "truto-adoption": "mandatory",
        "truto-unique-names": "mandatory",
    }


def test_serve_pack_sets_every_rule_to_the_level_given(monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[tuple[str, list[Any], EnforcementLevel | None]] = []
    monkeypatch.setattr(policy, "PolicyPack", lambda *args: served.append(args))
    policy.serve_pack("strict", EnforcementLevel.MANDATORY)
    ((name, rules, level),) = served
    assert (name, level, len(rules)) == ("strict", EnforcementLevel.MANDATORY, len(RULES))
    assert {rule.enforcement_level for rule in rules} == {EnforcementLevel.MANDATORY}
