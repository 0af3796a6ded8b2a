"""The project's dev kit: the machinery `tests/` and `bench/` share (not shipped: the wheel holds
`truto_pulumi` only; only `devkit.acceptance` and `devkit.sweep` reach into the package).

`ProviderHost` (`devkit.host`): the process the engine runs for dynamic resources, over gRPC.
`SimulatedStack` (`devkit.engine`): the engine's steps and state for one resource type on it,
which `tests/engine/test_simulation.py` holds to the real engine. Imported by their own path:
`devkit.project` (`ProjectFolder`: the `pulumi` CLI in a project folder), `devkit.pulumi_versions`
(the lowest and highest pulumi allowed), `devkit.acceptance` and `devkit.sweep` (opt-in live
tests against real Truto, and the clean-up of what they leave).
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
