"""Test a Pulumi dynamic provider against the real provider host, without the Pulumi CLI.

`ProviderHost` starts `python -u -m pulumi.dynamic` (the process the engine runs for dynamic
resources) and talks to it over gRPC; `Stack` adds the engine's step logic and state for one
resource type, so a test can run preview / up / refresh / destroy and see exactly what the
provider receives: pickled `__provider`, previous *outputs* as `olds`, unknowns, floats.

Example::

    from truto_pulumi.testing import UNKNOWN, ProviderHost, Stack
    from mypkg.provider import MyProvider   # importable module, so it pickles by reference

    with ProviderHost() as host:
        stack = Stack(host, MyProvider(), type_token="pulumi-python:dynamic/truto:McpServer",
                      config={"truto:apiToken": "t"})
        stack.apply_step({"srv": {"name": "a"}})        # up + "no perpetual diff" check
        plan = stack.preview({"srv": {"name": UNKNOWN}})  # computed value, as in a preview
        assert plan.steps["srv"].op == "update"
        assert stack.refresh()["srv"].drift is False
        stack.destroy()
        assert [c.method for c in host.calls][:2] == ["Configure", "Check"]

Mirrored: Check olds = previous inputs; Diff olds = previous outputs; DIFF_UNKNOWN falls back
to comparing inputs (ignoring `__provider`); a replacement re-runs Check without olds and is
create-before-delete unless `delete_before_replace`; deletions run last; a failed step keeps
the prior state; Read with an empty id drops the resource; None outputs are dropped. Secrets:
the provider gets plain values (the host does not accept secrets), and the state marks secret
what the engine would (`ResourceState.secrets`, `secret_inputs`: what came from a secret input,
kept through refresh and unchanged runs), so a program's `run_program(...).desired()` with
`config.require_secret` or `Output.secret` values runs as it does under the engine.
Not mirrored: dependencies between resources, `additional_secret_outputs`, `ignore_changes`,
aliases, import, and, unless `new_host_each_run`, a fresh host per command (one
`ProviderHost` and its cached, configured provider instances live across runs; the host
configures each distinct pickle once, with the config of the latest Configure).
"""

from __future__ import annotations

from .engine import (
    CheckFailedError,
    Op,
    OperationError,
    Plan,
    RefreshOutcome,
    ResourceState,
    Stack,
    Step,
    UpError,
    UpResult,
)
from .host import (
    CheckFailure,
    CheckResult,
    DiffResult,
    HostCall,
    HostCallError,
    HostStartError,
    ProviderHost,
    ReadResult,
)
from .program import ProgramMocks, ProgramRun, Registration, install_mocks, run_program
from .props import UNKNOWN, contains_unknown, from_struct, to_struct
from .truto import MCP_SERVER_TYPE, NO_TRUTO_ENV, mcp_server_stack

__all__ = [
    "MCP_SERVER_TYPE",
    "NO_TRUTO_ENV",
    "UNKNOWN",
    "CheckFailedError",
    "CheckFailure",
    "CheckResult",
    "DiffResult",
    "HostCall",
    "HostCallError",
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
    "Stack",
    "Step",
    "UpError",
    "UpResult",
    "contains_unknown",
    "from_struct",
    "install_mocks",
    "mcp_server_stack",
    "run_program",
    "to_struct",
]
