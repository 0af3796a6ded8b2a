"""The project's dev kit: the machinery `tests/` and `bench/` share. It is not shipped (the wheel
holds `truto_pulumi` only). What `bench/` uses stands on public names of `truto_pulumi` and on
the provider's documented settings; only `devkit.acceptance` and `devkit.sweep` reach into the
package (its HTTP client and settings resolution).

`ProviderHost` (`devkit.host`) starts `python -u -m pulumi.dynamic` (the process the engine runs
for dynamic resources) and talks to it over gRPC. `SimulatedStack` (`devkit.engine`) adds the
engine's step logic and state for one resource type, so a test runs preview / up / refresh /
destroy in a second and sees exactly what the provider receives (pickled `__provider`, previous
outputs as `olds`, unknowns). `tests/engine/test_simulation.py` holds the simulation to the real
engine.

Mirrored: Check olds = previous inputs; Diff olds = previous outputs; DIFF_UNKNOWN falls back
to comparing inputs (ignoring `__provider`); a replacement re-runs Check without olds and is
create-before-delete unless `delete_before_replace`; deletions run last; a failed step keeps
the prior state; Read with an empty id drops the resource; None outputs are dropped. Secrets:
the provider gets plain values (the host does not accept secrets), and the state marks secret
what the engine would (`ResourceState.secrets`, `secret_inputs`).
Not mirrored: dependencies between resources, `additional_secret_outputs`, `ignore_changes`,
aliases, import, and, unless `new_host_each_run`, a fresh host per command.

Imported by their own path (they load more): `devkit.driver` (`EngineStack`: the real engine
through the Automation API, and `pulumi_cli`), `devkit.project` (`ProjectFolder`: the `pulumi`
CLI in a project folder, as a pipeline runs it), `devkit.emulator` (`emulator_process`: the
emulator in a process of its own), `devkit.acceptance` and `devkit.sweep` (opt-in live tests
against real Truto, and `python -m devkit.sweep`, the clean-up of what they leave).
"""

from __future__ import annotations

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
    UpOutcome,
)
from .host import (
    HostCall,
    HostCallError,
    HostCheck,
    HostCheckFailure,
    HostDiff,
    HostRead,
    HostStartError,
    ProviderHost,
)
from .props import UNKNOWN, contains_unknown_sentinel, from_struct, to_struct
from .truto import (
    API_TOKEN_ENV,
    API_TOKEN_KEY,
    BASE_URL_ENV,
    BASE_URL_KEY,
    MAX_REQUESTS_PER_SECOND_KEY,
    MCP_SERVER_TYPE,
    NO_TRUTO_ENV,
    mcp_mock_outputs,
    mcp_server_stack,
)

__all__ = [
    "API_TOKEN_ENV",
    "API_TOKEN_KEY",
    "BASE_URL_ENV",
    "BASE_URL_KEY",
    "MAX_REQUESTS_PER_SECOND_KEY",
    "MCP_SERVER_TYPE",
    "NO_TRUTO_ENV",
    "UNKNOWN",
    "CheckFailedError",
    "HostCall",
    "HostCallError",
    "HostCheck",
    "HostCheckFailure",
    "HostDiff",
    "HostRead",
    "HostStartError",
    "Op",
    "OperationError",
    "Plan",
    "ProviderHost",
    "RefreshOutcome",
    "ResourceState",
    "SimulatedStack",
    "Step",
    "UpError",
    "UpOutcome",
    "contains_unknown_sentinel",
    "from_struct",
    "mcp_mock_outputs",
    "mcp_server_stack",
    "to_struct",
]
