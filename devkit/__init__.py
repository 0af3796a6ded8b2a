"""The machinery `tests/` and `bench/` share (not shipped): `ProviderHost` (`devkit.host`), the
engine's process for dynamic resources, over gRPC; `SimulatedStack` (`devkit.engine`), the
engine's steps on it, held to the real engine by `tests/engine/test_simulation.py`. By their own
path: `devkit.project` (the `pulumi` CLI in a project folder), `devkit.pulumi_versions`, and
`devkit.sweep` (opt-in live tests against real Truto, and the clean-up of what they leave).
"""

from __future__ import annotations

# isort: off
from .engine import CheckFailedError, OperationError, Plan, SimulatedStack, Step, UpError
from .host import UNKNOWN, HostCallError, HostStartError, ProviderHost
from .truto import (
    MAX_REQUESTS_PER_SECOND_KEY, MCP_SERVER_TYPE, NO_TRUTO_ENV, mcp_mock_outputs, mcp_server_stack,
)  # fmt: skip
# isort: on

__all__ = [
    "MAX_REQUESTS_PER_SECOND_KEY", "MCP_SERVER_TYPE", "NO_TRUTO_ENV", "UNKNOWN", "CheckFailedError",
    "HostCallError", "HostStartError", "OperationError", "Plan", "ProviderHost", "SimulatedStack",
    "Step", "UpError", "mcp_mock_outputs", "mcp_server_stack",
]  # fmt: skip
