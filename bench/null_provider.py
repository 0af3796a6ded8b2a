"""A provider that calls nothing: the cold-start yardstick and the engine benchmark's "no HTTP".

A module of its own, importing only what the provider host has already imported, so the host's
first Check with it measures the host alone.
"""

from __future__ import annotations

import uuid
from typing import Any

import pulumi.dynamic
from pulumi.dynamic import CheckResult, CreateResult, ReadResult, ResourceProvider


class NullProvider(ResourceProvider):
    """Check echoes; Create, Read and Delete touch nothing anywhere."""

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
