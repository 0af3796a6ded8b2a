"""A read-only Truto MCP server for one integrated account.

pulumi config set --secret truto:apiToken <token>     # or TRUTO_API_TOKEN in the environment
pulumi config set integratedAccountId <account uuid>
pulumi up
"""

import pulumi

from truto_pulumi import McpServerConfigArgs, TrutoMcpServer

config = pulumi.Config()
account_id = config.require("integratedAccountId")

server = TrutoMcpServer(
    "readonly",
    integrated_account_id=account_id,
    name=f"{pulumi.get_project()} read-only",
    config=McpServerConfigArgs(methods=["read"]),
)

pulumi.export("server_id", server.id)
pulumi.export("mcp_url", server.url)  # secret: `pulumi stack output --show-secrets mcp_url`
