"""A provider that does nothing but answer Check: the cold-start yardstick.

In a module of its own (importing only what the host has already imported) so that the host's
first Check with it measures the host alone.
"""

from __future__ import annotations

import uuid
from typing import Any

import pulumi.dynamic
from pulumi.dynamic import CheckResult, CreateResult, ReadResult, ResourceProvider

__all__ = ["NullProvider", "NullResource", "TrivialProvider"]


class TrivialProvider(ResourceProvider):
    """Check echoes its inputs; nothing else is implemented."""

    serialize_as_secret_always = False

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, [])


class NullProvider(ResourceProvider):
    """Creates, reads and deletes nothing anywhere: what the engine and host cost per resource."""

    serialize_as_secret_always = False

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, [])

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(uuid.uuid4().hex, props)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        return None


class NullResource(pulumi.dynamic.Resource, module="bench", name="Null"):
    """A resource of `NullProvider`."""
