"""The project's test kit: the real provider host over gRPC, and an engine simulation on it.

`ProviderHost` starts `python -u -m pulumi.dynamic` (the process the engine runs for dynamic
resources) and talks to it over gRPC. `SimulatedStack` adds the engine's step logic and state
for one resource type, so a test runs preview / up / refresh / destroy in a second and sees
exactly what the provider receives (pickled `__provider`, previous outputs as `olds`,
unknowns). `tests/engine/test_simulation.py` holds the simulation to the real engine.

Mirrored: Check olds = previous inputs; Diff olds = previous outputs; DIFF_UNKNOWN falls back
to comparing inputs (ignoring `__provider`); a replacement re-runs Check without olds and is
create-before-delete unless `delete_before_replace`; deletions run last; a failed step keeps
the prior state; Read with an empty id drops the resource; None outputs are dropped. Secrets:
the provider gets plain values (the host does not accept secrets), and the state marks secret
what the engine would (`ResourceState.secrets`, `secret_inputs`).
Not mirrored: dependencies between resources, `additional_secret_outputs`, `ignore_changes`,
aliases, import, and, unless `new_host_each_run`, a fresh host per command.
"""

from __future__ import annotations

from truto_pulumi.testing import ProgramMocks, ProgramRun, Registration, install_mocks, run_program

from .engine import (
    CheckFailedError,
    Op,
    OperationError,
    Plan,
    RefreshOutcome,
    ResourceState,
    SimulatedStack,
    Step,
    UpError,
    UpResult,
)
from .host import (
    CheckResult,
    DiffResult,
    HostCall,
    HostCallError,
    HostCheckFailure,
    HostStartError,
    ProviderHost,
    ReadResult,
)
from .props import UNKNOWN, contains_unknown_sentinel, from_struct, to_struct
from .truto import MCP_SERVER_TYPE, NO_TRUTO_ENV, mcp_mock_outputs, mcp_server_stack

__all__ = [
    "MCP_SERVER_TYPE",
    "NO_TRUTO_ENV",
    "UNKNOWN",
    "CheckFailedError",
    "CheckResult",
    "DiffResult",
    "HostCall",
    "HostCallError",
    "HostCheckFailure",
    "HostStartError",
    "Op",
    "OperationError",
    "Plan",
    "ProgramMocks",
    "ProgramRun",
    "ProviderHost",
    "ReadResult",
    "RefreshOutcome",
    "Registration",
    "ResourceState",
    "SimulatedStack",
    "Step",
    "UpError",
    "UpResult",
    "contains_unknown_sentinel",
    "from_struct",
    "install_mocks",
    "mcp_mock_outputs",
    "mcp_server_stack",
    "run_program",
    "to_struct",
]
