"""Per-call cost of each provider method, in this process, without the host: where our code
spends time compared with the reference provider making the same HTTP calls."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from pulumi.dynamic import ConfigureRequest, ResourceProvider
from pulumi.dynamic.config import Config

from .emulator import EmulatorProcess
from .workload import desired

__all__ = ["METHODS", "method_costs"]

METHODS = ("check", "diff", "create", "update", "read", "delete")


def _one_round(provider: ResourceProvider, n: int) -> dict[str, float]:
    """Seconds per call of each method for `n` servers taken through their lifecycle."""
    first, second = desired(n), desired(n, generation=1)
    inputs: dict[str, dict[str, Any]] = {}
    ids: dict[str, str] = {}
    outputs: dict[str, dict[str, Any]] = {}

    def check(name: str) -> None:
        inputs[name] = provider.check({}, dict(first[name])).inputs

    def create(name: str) -> None:
        result = provider.create(dict(inputs[name]))
        ids[name], outputs[name] = result.id, dict(result.outs or {})

    def diff(name: str) -> None:
        provider.diff(ids[name], outputs[name], dict(second[name]))

    def update(name: str) -> None:
        result = provider.update(ids[name], outputs[name], dict(second[name]))
        outputs[name] = dict(result.outs or {})

    def read(name: str) -> None:
        provider.read(ids[name], dict(outputs[name]))

    def delete(name: str) -> None:
        provider.delete(ids[name], dict(outputs[name]))

    costs: dict[str, float] = {}
    steps: dict[str, Callable[[str], None]] = {
        "check": check,
        "create": create,
        "diff": diff,
        "update": update,
        "read": read,
        "delete": delete,
    }
    for method, action in steps.items():
        started = time.perf_counter()
        for name in first:
            action(name)
        costs[method] = (time.perf_counter() - started) / n
    return costs


def method_costs(
    providers: dict[str, type[ResourceProvider]],
    emulator: EmulatorProcess,
    config: dict[str, str],
    *,
    n: int,
    rounds: int,
) -> dict[str, dict[str, float]]:
    """Median seconds per call of each method of each provider, one thread.

    The providers take turns round by round, so that the machine's drift hits them alike.
    """
    instances: dict[str, ResourceProvider] = {}
    for name, provider_type in providers.items():
        instances[name] = provider = provider_type()
        provider.configure(ConfigureRequest(Config(dict(config), "bench")))
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in providers}
    for index in range(rounds):
        names = list(instances)
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(_one_round(instances[name], n))
    emulator.clear_journal()
    return {
        name: {method: statistics.median(s[method] for s in rounds_) for method in METHODS}
        for name, rounds_ in samples.items()
    }
