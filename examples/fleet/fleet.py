"""Turn the `fleet` stack config into the MCP servers to declare (pure, so it is testable)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CONFIG_KEYS = ("methods", "tags", "tool_exposure", "require_api_token_auth")


@dataclass(frozen=True)
class ServerSpec:
    """One MCP server of the fleet."""

    team: str
    scope: str
    account_id: str
    resource_name: str
    display_name: str
    config: dict[str, Any]
    expires_at: str | None


def plan_fleet(fleet: Mapping[str, Any]) -> list[ServerSpec]:
    """Every (team, account, scope) combination, its names derived from the three.

    Resource names use the team, scope and account id (never a list position), so adding,
    removing or reordering entries touches only the servers concerned.
    """
    specs: list[ServerSpec] = []
    seen: set[str] = set()
    for team in fleet.get("teams", []):
        team_name = _slug(team["name"])
        for account_id in team.get("accounts", []):
            for scope_name, scope in sorted(team.get("scopes", {}).items()):
                unknown = set(scope) - set(CONFIG_KEYS)
                if unknown:
                    raise ValueError(
                        f"team {team_name!r}, scope {scope_name!r}: unknown keys {sorted(unknown)};"
                        f" allowed: {', '.join(CONFIG_KEYS)}"
                    )
                resource_name = f"{team_name}-{_slug(scope_name)}-{account_id}"
                if resource_name in seen:
                    raise ValueError(f"duplicate server {resource_name!r} in the fleet config")
                seen.add(resource_name)
                specs.append(
                    ServerSpec(
                        team=team_name,
                        scope=scope_name,
                        account_id=account_id,
                        resource_name=resource_name,
                        display_name=f"{team['name']} / {scope_name}",
                        config=dict(scope),
                        expires_at=fleet.get("expiresAt") or None,
                    )
                )
    return specs


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if not slug:
        raise ValueError(f"{text!r} gives an empty name")
    return slug
