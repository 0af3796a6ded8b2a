"""Property bags on the wire: plain dicts <-> protobuf Structs, as the engine encodes them.

Unknown (computed) values are written as the engine's sentinel string `UNKNOWN`; the host turns
it into a `pulumi.output.Unknown` for the provider. When reading Structs back, every
`pulumi.output.Unknown` becomes `UNKNOWN` again, so plain dict comparisons work. Numbers come
back as floats and keys whose value is `None` are dropped, as with the real engine.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Final, TypeVar

from pulumi.output import Unknown
from pulumi.runtime import rpc

__all__ = ["UNKNOWN", "contains_secret", "contains_unknown", "from_struct", "to_struct"]

UNKNOWN: Final[str] = rpc.UNKNOWN
"""The engine's unknown-value sentinel; put it in desired properties to model a computed value."""

Struct = Any
"""A `google.protobuf.struct_pb2.Struct` (typed loosely: protobuf ships no type stubs here)."""

_T = TypeVar("_T")
_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def _run(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run `coro` on a private event loop thread (safe from any thread, even inside a loop)."""
    global _loop
    with _loop_lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            threading.Thread(
                target=_loop.run_forever, name="truto-testing-serializer", daemon=True
            ).start()
        loop = _loop
    return asyncio.run_coroutine_threadsafe(coro, loop).result()


def _encode(value: Any) -> Any:
    """Replace `pulumi.output.Unknown` instances by the `UNKNOWN` sentinel and unwrap secrets,
    recursively: the host answers Configure with `acceptSecrets=False`, so the engine hands
    a dynamic provider plain values."""
    value = rpc.unwrap_rpc_secret(value)
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, Mapping):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    """Replace `pulumi.output.Unknown` by `UNKNOWN` and unwrap RPC secrets, recursively."""
    value = rpc.unwrap_rpc_secret(value)
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, dict):
        return {k: _decode(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def to_struct(props: Mapping[str, Any]) -> Struct:
    """Serialise a property bag with the SDK's own `rpc.serialize_properties`."""
    encoded: dict[str, Any] = _encode(props)
    return _run(rpc.serialize_properties(encoded, {}))


def from_struct(struct: Struct) -> dict[str, Any]:
    """Deserialise a Struct, keeping unknowns (as `UNKNOWN`) and dropping `None` values."""
    raw = rpc.deserialize_properties(struct, keep_unknowns=True)
    decoded = _decode(raw)
    if not isinstance(decoded, dict):
        raise TypeError(f"expected a property bag, got {type(decoded).__name__}")
    return decoded


def contains_unknown(value: Any) -> bool:
    """True if `value` is, or contains, an unknown (sentinel or `pulumi.output.Unknown`)."""
    return _contains(
        value, lambda v: isinstance(v, Unknown) or (isinstance(v, str) and v == UNKNOWN)
    )


def contains_secret(value: Any) -> bool:
    """True if `value` is, or contains, a secret (`Output.secret`, `config.require_secret`)."""
    return _contains(value, rpc.is_rpc_secret)


def _contains(value: Any, found: Callable[[Any], bool]) -> bool:
    if found(value):
        return True
    if isinstance(value, Mapping):
        return any(_contains(v, found) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_contains(v, found) for v in value)
    return False
