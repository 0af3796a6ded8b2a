"""The project's dev kit: the machinery `tests/` and `bench/` share (not shipped: the wheel holds
`truto_pulumi` only; only `devkit.acceptance` and `devkit.sweep` reach into the package).

`ProviderHost` (`devkit.host`) starts `python -u -m pulumi.dynamic`, the process the engine runs
for dynamic resources, and talks to it over gRPC. `SimulatedStack` (`devkit.engine`) adds the
engine's steps and state for one resource type: Check olds are the previous inputs, Diff olds
the previous outputs; a replacement re-runs Check without olds and is create-before-delete;
deletions run last; a failed step keeps the prior state; an empty Read id drops the resource;
None outputs are dropped; secrets reach the provider as plain values. Not mirrored:
dependencies, secret marks in the state, resource options, import.
`tests/engine/test_simulation.py` holds it to the real engine.

Imported by their own path: `devkit.driver` (which `pulumi` CLI, every stack's backend, readers
of an exported state), `devkit.project` (`ProjectFolder`: the `pulumi` CLI in a project folder),
`devkit.pulumi_versions` (the lowest and highest pulumi allowed), `devkit.acceptance` and
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
