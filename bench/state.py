"""What a provider costs in the stack state: its `__provider` pickle and one resource's bag."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pulumi.dynamic import ResourceProvider
from pulumi.dynamic.dynamic import serialize_provider

from truto_pulumi.testing import ProviderHost, Stack

from .emulator import EmulatorProcess
from .workload import MCP_SERVER_TYPE, desired

__all__ = ["StateCost", "state_cost"]

PROVIDER_KEY = "__provider"


@dataclass(frozen=True)
class StateCost:
    """Characters (= bytes: all ASCII) of what the state stores for one resource."""

    provider_chars: int
    outputs_bytes: int
    """The outputs as compact JSON, `__provider` included."""
    outputs_without_provider_bytes: int
    inputs_bytes: int
    """The checked inputs as compact JSON, `__provider` included."""
    output_keys: list[str]


def _size(bag: dict[str, Any]) -> int:
    return len(json.dumps(bag, separators=(",", ":"), sort_keys=True).encode())


def state_cost(
    host: ProviderHost,
    provider: ResourceProvider,
    emulator: EmulatorProcess,
    config: dict[str, str],
) -> StateCost:
    """Create one server through `host`, measure its state, destroy it."""
    stack = Stack(host, provider, type_token=MCP_SERVER_TYPE, config=config)
    stack.up(desired(1))
    state = next(iter(stack.resources.values()))
    stack.destroy()
    emulator.clear_journal()
    outputs = dict(state.outputs)
    return StateCost(
        provider_chars=len(serialize_provider(provider)),
        outputs_bytes=_size(outputs),
        outputs_without_provider_bytes=_size(
            {k: v for k, v in outputs.items() if k != PROVIDER_KEY}
        ),
        inputs_bytes=_size(state.inputs),
        output_keys=sorted(outputs),
    )
