"""The emulator's own throughput: how many requests per second it answers to plain httpx."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .cpu import process_cpu_seconds
from .emulator import EmulatorProcess
from .workload import ACCOUNTS

__all__ = ["Throughput", "emulator_throughput"]


@dataclass(frozen=True)
class Throughput:
    """`requests` GETs of one server by `workers` threads in `seconds`; emulator CPU used."""

    workers: int
    requests: int
    seconds: float
    emulator_cpu: float | None

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def emulator_busy(self) -> float | None:
        """Share of one core the emulator used (1.0 = saturated: it is single-threaded)."""
        return None if self.emulator_cpu is None else self.emulator_cpu / self.seconds


def emulator_throughput(emulator: EmulatorProcess, *, workers: int, requests: int) -> Throughput:
    """Hammer one server with GETs from `workers` threads sharing one httpx client."""
    path = f"/integrated-account/{ACCOUNTS[0]}/mcp"
    with emulator.client(timeout=30.0) as http:
        created = http.post(path, json={"name": "throughput"})
        created.raise_for_status()
        item = f"{path}/{created.json()['id']}"

        def get(_: int) -> None:
            http.get(item).raise_for_status()

        cpu_before = process_cpu_seconds(emulator.pid)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(get, range(requests)))
        seconds = time.perf_counter() - started
        cpu_after = process_cpu_seconds(emulator.pid)
        http.delete(item).raise_for_status()
    cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    emulator.clear_journal()
    return Throughput(workers, requests, seconds, cpu)
