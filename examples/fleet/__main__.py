"""A fleet of MCP servers: for each team, one server per account and scope, from stack config.

Stack config `fleet` (set with `pulumi config set --path` or in Pulumi.<stack>.yaml):

    fleet:
      expiresAt: "2027-06-30T00:00:00Z"          # optional, for every server
      teams:
        - name: support
          accounts: [<uuid>, <uuid>]
          scopes:
            readonly: {methods: [read], tags: [tickets, contacts]}
            triage: {methods: [read, update], tags: [tickets]}
        - name: sales
          accounts: [<uuid>]
          scopes:
            crm: {methods: [read], tags: [deals], tool_exposure: discovery}
"""

from __future__ import annotations

import pulumi
from fleet import plan_fleet  # this program's own module, beside it

from truto_pulumi import McpServerConfigArgs, TrutoMcpServer

fleet_config = pulumi.Config().require_object("fleet")
urls: dict[str, dict[str, pulumi.Output[str]]] = {}
for spec in plan_fleet(fleet_config):
    server = TrutoMcpServer(
        spec.resource_name,
        integrated_account_id=spec.account_id,
        name=spec.display_name,
        config=McpServerConfigArgs(**spec.config),
        expires_at=spec.expires_at,
    )
    urls.setdefault(spec.team, {})[spec.resource_name] = server.url

pulumi.export("count", sum(len(team) for team in urls.values()))
pulumi.export("mcp_urls", urls)
