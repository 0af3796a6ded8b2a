"""What the user sees of an expected failure: its message, not a Python traceback.

Pulumi's dynamic provider host (`python -m pulumi.dynamic`) answers every exception of a
provider method with `traceback.format_exc()`, about twenty lines around the one that matters.
A `TrutoError` is a failure this provider expects and explains (Truto's answer, a setting, a
lost create), so in that host its message alone is what the engine shows. Any other exception
keeps its whole traceback. Feature-detected: a host that does not format errors this way is left
as it is; TRUTO_PULUMI_TRACEBACKS=1 keeps every traceback (to debug the provider itself).
"""

from __future__ import annotations

import os
import sys
import traceback
from types import ModuleType
from typing import Any

from ._errors import TrutoError

__all__ = ["FULL_TRACEBACKS_ENV", "HOST_MODULE", "quiet_expected_failures"]

HOST_MODULE = "pulumi.dynamic.__main__"
"""The module the engine runs as the dynamic provider host."""

FULL_TRACEBACKS_ENV = "TRUTO_PULUMI_TRACEBACKS"
"""Set to 1 to keep the host's traceback for every failure."""


class _QuietTraceback(ModuleType):
    """The `traceback` module as the host sees it, with `format_exc` giving a `TrutoError`'s
    message alone."""

    def __init__(self) -> None:
        super().__init__("traceback")

    def __getattr__(self, name: str) -> Any:
        return getattr(traceback, name)

    @staticmethod
    def format_exc(limit: int | None = None, chain: bool = True) -> str:
        error = sys.exc_info()[1]
        if isinstance(error, TrutoError):
            return str(error)
        return traceback.format_exc(limit, chain)


def quiet_expected_failures(modules: dict[str, ModuleType] | None = None) -> bool:
    """Make the running dynamic provider host report a `TrutoError` by its message; True when
    it did (or had already), False where the host is not there or formats errors otherwise."""
    if os.environ.get(FULL_TRACEBACKS_ENV, "") not in ("", "0"):
        return False
    modules = sys.modules if modules is None else modules
    host = next(
        (
            module
            for module in (modules.get("__main__"), modules.get(HOST_MODULE))
            if module is not None and getattr(module.__spec__, "name", None) == HOST_MODULE
        ),
        None,
    )
    if host is None or not callable(getattr(host, "_abort_with_traceback", None)):
        return False
    current = getattr(host, "traceback", None)
    if isinstance(current, _QuietTraceback):
        return True
    if current is not traceback:
        return False
    host.traceback = _QuietTraceback()  # type: ignore[attr-defined]
    return True
