"""What one benchmark run planned and measured (plain data: the report is made from this)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .coldstart import ColdStart, FirstCheckCost, ImportTime
from .lifecycle import LifecycleRun
from .machine import Machine
from .ratelimit import RateLimitRun
from .state import StateCost
from .throughput import Throughput

__all__ = [
    "LOOPBACK",
    "OURS",
    "RAW",
    "REF",
    "TRIVIAL",
    "VARIANTS",
    "Plan",
    "Results",
    "latency_label",
]

RAW = "raw httpx"
"""(a): the same HTTP requests from four threads with plain httpx."""
REF = "reference provider"
"""(b): a minimal provider (bench.reference_provider) through the same host."""
OURS = "truto_pulumi"
"""Our provider (TrutoMcpServerProvider) through the same host."""
VARIANTS = (RAW, REF, OURS)
TRIVIAL = "trivial provider"
"""The cold-start yardstick (bench.trivial_provider): answers Check and nothing else."""
LOOPBACK = "loopback"


def latency_label(seconds: float) -> str:
    """How a setting of the emulator's added latency is named in the report."""
    return LOOPBACK if seconds == 0 else f"{seconds * 1000:g} ms answers"


@dataclass(frozen=True)
class Plan:
    """Sizes and round counts of one run."""

    quick: bool
    n: int
    rounds: int
    """Rounds on loopback (noisier: CPU-bound)."""
    latency_rounds: int
    """Rounds with the emulator's added latency (steadier: wait-bound)."""
    latency: float
    scale: dict[int, int]
    """N -> rounds for the scale table (N == n reuses the loopback overhead rounds)."""
    cold_rounds: int
    import_rounds: int
    ratelimit_ns: tuple[int, ...]
    ratelimit_limit: tuple[int, float]
    throughput_requests: int
    warmup_n: int
    method_n: int
    method_rounds: int

    @classmethod
    def full(cls) -> Plan:
        return cls(
            quick=False,
            n=200,
            rounds=11,
            latency_rounds=5,
            latency=0.030,
            scale={50: 7, 200: 11, 800: 3},
            cold_rounds=5,
            import_rounds=3,
            ratelimit_ns=(300, 600),
            ratelimit_limit=(500, 10.0),
            throughput_requests=2000,
            warmup_n=50,
            method_n=100,
            method_rounds=5,
        )

    @classmethod
    def quick_smoke(cls) -> Plan:
        return cls(
            quick=True,
            n=20,
            rounds=1,
            latency_rounds=1,
            latency=0.030,
            scale={10: 1, 20: 1, 40: 1},
            cold_rounds=1,
            import_rounds=1,
            ratelimit_ns=(30,),
            ratelimit_limit=(20, 2.0),
            throughput_requests=200,
            warmup_n=5,
            method_n=10,
            method_rounds=1,
        )


@dataclass
class Results:
    """Everything measured; filled in section by section."""

    plan: Plan
    machine: Machine
    throughput: list[Throughput] = field(default_factory=list)
    calls_one: LifecycleRun | None = None
    overhead: dict[str, dict[str, list[LifecycleRun]]] = field(default_factory=dict)
    """Setting ("loopback", "30 ms answers") -> variant -> rounds."""
    scale: dict[int, dict[str, list[LifecycleRun]]] = field(default_factory=dict)
    cold: dict[str, list[ColdStart]] = field(default_factory=dict)
    imports: dict[str, list[ImportTime]] = field(default_factory=dict)
    first_check: dict[str, list[FirstCheckCost]] = field(default_factory=dict)
    state: dict[str, StateCost] = field(default_factory=dict)
    ratelimit: list[RateLimitRun] = field(default_factory=list)
    methods: dict[str, dict[str, float]] = field(default_factory=dict)
    load_after: tuple[float, float, float] | None = None
    seconds: float = 0.0
