"""One read-only MCP server per integrated account listed in stack config.

pulumi config set --secret truto:apiToken <token>
pulumi config set --path 'integratedAccountIds[0]' <account uuid>
pulumi config set expiresAt 2027-01-01T00:00:00Z     # optional
pulumi up
"""

from __future__ import annotations

import pulumi

from truto_pulumi import McpServerConfigArgs, TrutoMcpServer

config = pulumi.Config()
account_ids: list[str] = config.require_object("integratedAccountIds")
expires_at = config.get("expiresAt") or None

urls = {}
for account_id in account_ids:
    # Named after the account, not its position, so reordering the list changes nothing.
    server = TrutoMcpServer(
        f"readonly-{account_id}",
        integrated_account_id=account_id,
        name=f"Read-only MCP {account_id}",
        config=McpServerConfigArgs(methods=["read"]),
        expires_at=expires_at,
    )
    urls[account_id] = server.url

pulumi.export("mcp_urls", urls)
