"""A provider that does nothing but answer Check: the cold-start yardstick.

In a module of its own (importing only what the host has already imported) so that the host's
first Check with it measures the host alone.
"""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import CheckResult, ResourceProvider

__all__ = ["TrivialProvider"]


class TrivialProvider(ResourceProvider):
    """Check echoes its inputs; nothing else is implemented."""

    serialize_as_secret_always = False

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, [])
