"""A read-only MCP server for every active integrated account of one integration, following Truto.

pulumi config set --secret truto:apiToken <token>
pulumi config set integration hubspot
pulumi config set tenantId acme-1        # optional
pulumi up                                # again whenever customers connect or leave

A customer who connects the integration gets a server at the next `pulumi up`; one who
disconnects (the account deleted, or no longer active) loses it. An account that needs
re-authorization (`needs_reauth`) keeps its server: its url and token stay valid, and its
tools work again once the customer re-authorizes.
"""

from __future__ import annotations

import pulumi

from truto_pulumi import McpServerConfigArgs, TrutoMcpServer, get_integrated_accounts

KEPT_STATUSES = ("active", "needs_reauth")
"""Accounts in these statuses have a server; any other status (or no account) has none."""

config = pulumi.Config()
integration = config.require("integration")
tenant_id = config.get("tenantId") or None

accounts = [
    account
    for account in get_integrated_accounts(integration=integration, tenant_id=tenant_id)
    if account.status in KEPT_STATUSES
]

urls = {}
for account in accounts:
    # Named after the account, so that accounts coming and going move nothing else.
    server = TrutoMcpServer(
        f"readonly-{account.id}",
        integrated_account_id=account.id,
        name=f"Read-only MCP {account.tenant_id or account.id}",
        config=McpServerConfigArgs(methods=["read"]),
    )
    urls[account.id] = server.url

pulumi.export("accounts", len(accounts))
pulumi.export("mcp_urls", urls)
