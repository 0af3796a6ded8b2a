"""Property bags on the wire: plain dicts <-> protobuf Structs, as the engine encodes them.

Unknown (computed) values are the engine's sentinel string `UNKNOWN` both ways, so plain dict
comparisons work. Numbers come back as floats and keys whose value is None are dropped, as with
the real engine. Secrets (`rpc.wrap_rpc_secret` values, also nested) are sent as plain values:
the dynamic provider host does not accept secrets, so the engine unwraps them before every call.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Mapping
from typing import Any, Final, TypeVar

from pulumi.output import Unknown
from pulumi.runtime import rpc

UNKNOWN: Final[str] = rpc.UNKNOWN
"""The engine's unknown-value sentinel; put it in desired properties to model a computed value."""

_T = TypeVar("_T")
_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def _run_coroutine(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run `coro` on a private event loop thread (safe from any thread, even inside a loop)."""
    global _loop
    with _loop_lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="devkit-props", daemon=True).start()
        loop = _loop
    return asyncio.run_coroutine_threadsafe(coro, loop).result()


def _plain(value: Any, *, drop_none: bool = False) -> Any:
    """`value` with secrets unwrapped and `Unknown`s as `UNKNOWN`, recursively (`drop_none`:
    without the keys whose value is None)."""
    value = rpc.unwrap_rpc_secret(value)
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, Mapping):
        kept = [(k, v) for k, v in value.items() if not drop_none or v is not None]
        return {str(k): _plain(v, drop_none=drop_none) for k, v in kept}
    if isinstance(value, (list, tuple)):
        return [_plain(v, drop_none=drop_none) for v in value]
    return value


def to_struct(props: Mapping[str, Any]) -> Any:
    """Serialise a property bag (a `Struct`) with the SDK's own `rpc.serialize_properties`."""
    return _run_coroutine(rpc.serialize_properties(_plain(props), {}))


def from_struct(struct: Any) -> dict[str, Any]:
    """Deserialise a `Struct`, keeping unknowns (as `UNKNOWN`) and dropping None values."""
    decoded = _plain(rpc.deserialize_properties(struct, keep_unknowns=True), drop_none=True)
    if not isinstance(decoded, dict):
        raise TypeError(f"expected a property bag, got {type(decoded).__name__}")
    return decoded


def contains_unknown_sentinel(value: Any) -> bool:
    """True if `value` is, or contains, an unknown (sentinel or `pulumi.output.Unknown`)."""
    if isinstance(value, Unknown) or (isinstance(value, str) and value == UNKNOWN):
        return True
    if isinstance(value, Mapping):
        return any(contains_unknown_sentinel(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(contains_unknown_sentinel(v) for v in value)
    return False
