"""Unit-test a Pulumi program under `pulumi.runtime.set_mocks` (no engine, no provider, no
network) and see what it registers::

    run = run_program("examples/basic", project="truto-mcp", config={"truto-mcp:ids": "[...]"})
    assert [r.name for r in run.registrations] == ["readonly-0"]

The mocks answer like the engine after a create: outputs are the inputs, plus what `outputs`
computes (what a provider would return); those in `additional_secret_outputs` come back secret.
"""

from __future__ import annotations

import asyncio
import os
import runpy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import pulumi
from google.protobuf import struct_pb2  # type: ignore[import-untyped]
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor

__all__ = [
    "ComputedOutputs",
    "ProgramMocks",
    "ProgramRun",
    "Registration",
    "install_mocks",
    "run_program",
]


@dataclass(frozen=True)
class Registration:
    """One resource the program registered: its inputs as the engine would receive them."""

    type_token: str
    name: str
    inputs: dict[str, Any]
    """Inputs without internal `__` ones; a secret is an RPC secret where the program put it."""
    provider: str | None
    """The pickled provider (`__provider`), for dynamic resources."""
    secret_outputs: tuple[str, ...] = ()


@dataclass
class ProgramRun:
    """What one run of a program registered, in order."""

    registrations: list[Registration] = field(default_factory=list)

    def desired(self, type_token: str) -> dict[str, dict[str, Any]]:
        """The registered inputs of the resources of one type, by name."""
        return {r.name: dict(r.inputs) for r in self.registrations if r.type_token == type_token}


ComputedOutputs = Callable[[pulumi.runtime.MockResourceArgs], Mapping[str, Any]]
"""Outputs a provider would compute for a resource (e.g. a server's `url`), beyond its inputs."""


class ProgramMocks(pulumi.runtime.Mocks):
    """Records registrations and answers like the engine would after a create."""

    def __init__(self, outputs: ComputedOutputs | None = None) -> None:
        self.run = ProgramRun()
        self._computed = outputs
        self._sent: dict[tuple[str, str], tuple[dict[str, Any], tuple[str, ...]]] = {}
        """Each registration's inputs as sent (`args.inputs` lift a nested secret to the top)
        and secret outputs, which the monitor alone sees."""

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[Any, Any]]:
        sent, secret_outputs = self._sent.pop((args.typ, args.name), (args.inputs, ()))
        self.run.registrations.append(
            Registration(
                args.typ,
                args.name,
                _shown(sent),
                rpc.unwrap_rpc_secret(args.inputs.get("__provider")),
                secret_outputs,
            )
        )
        outputs = {**_shown(args.inputs), **(self._computed(args) if self._computed else {})}
        for key in set(secret_outputs) & set(outputs):
            outputs[key] = rpc.wrap_rpc_secret(outputs[key])
        return f"{args.name}-id", outputs

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        return {}, None


def _shown(properties: Mapping[str, Any]) -> dict[str, Any]:
    """The properties a user sees: without the internal ones (`__provider`, `__urn`)."""
    return {key: value for key, value in properties.items() if not key.startswith("__")}


class _SecretAwareMonitor(MockMonitor):
    """Pulumi's mock monitor, telling the mocks what it alone sees of a registration."""

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (the gRPC method's name)
        sent = (_as_sent(request.object), tuple(request.additionalSecretOutputs))
        cast(ProgramMocks, self.mocks)._sent[(request.type, request.name)] = sent
        return super().RegisterResource(request)  # type: ignore[no-untyped-call]


_SIG_KEY = "4dabf18193072939515e22adb298388d"  # marks a special value (a secret, ...) on the wire
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


def _as_sent(value: Any) -> Any:
    """A registration's properties decoded like `rpc.deserialize_properties`, except that a
    secret stays where it is instead of making its whole object or list secret."""
    if isinstance(value, struct_pb2.Struct):
        if _SIG_KEY not in value:
            decoded = {key: _as_sent(item) for key, item in value.items()}
            return {key: item for key, item in decoded.items() if item is not None}
        if value[_SIG_KEY] == _SECRET_SIG:
            return rpc.wrap_rpc_secret(_as_sent(value["value"]))
        return rpc.deserialize_properties(value)  # an asset, archive or resource reference
    if isinstance(value, struct_pb2.ListValue):
        return [_as_sent(item) for item in value]
    return rpc.deserialize_property(value)


def install_mocks(
    *,
    project: str = "project",
    stack: str = "dev",
    preview: bool = False,
    outputs: ComputedOutputs | None = None,
) -> ProgramMocks:
    """Install `ProgramMocks` as the Pulumi runtime's monitor; returns them."""
    try:
        asyncio.get_event_loop()
    except RuntimeError:  # the SDK needs a current loop; another test may have closed it
        asyncio.set_event_loop(asyncio.new_event_loop())
    mocks = ProgramMocks(outputs)
    pulumi.runtime.set_mocks(
        mocks, project=project, stack=stack, preview=preview, monitor=_SecretAwareMonitor(mocks)
    )
    return mocks


def run_program(
    program: str | os.PathLike[str],
    *,
    project: str = "project",
    stack: str = "dev",
    config: Mapping[str, str] | None = None,
    preview: bool = False,
    outputs: ComputedOutputs | None = None,
) -> ProgramRun:
    """Run a program (a folder's `__main__.py`, or one file) under mocks with the stack `config`:
    keys namespaced (`truto:apiToken`), values strings (structured ones as JSON), as the CLI."""
    mocks = install_mocks(project=project, stack=stack, preview=preview, outputs=outputs)
    before = dict(pulumi.runtime.config.CONFIG.get())
    pulumi.runtime.set_all_config(dict(config or {}))

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def execute() -> None:
        runpy.run_path(os.fspath(program), run_name="__main__")

    try:
        execute()
    finally:  # the config is the run's own: a later program or lookup does not inherit it
        pulumi.runtime.set_all_config(before)
    return mocks.run
