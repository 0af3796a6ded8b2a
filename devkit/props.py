"""Property bags on the wire: plain dicts <-> protobuf Structs, as the engine encodes them.

Unknown (computed) values are written as the engine's sentinel string `UNKNOWN`; the host turns
it into a `pulumi.output.Unknown` for the provider. When reading Structs back, every
`pulumi.output.Unknown` becomes `UNKNOWN` again, so plain dict comparisons work. Numbers come
back as floats and keys whose value is `None` are dropped, as with the real engine. Secrets
(`rpc.wrap_rpc_secret` values, also nested) are sent as plain values: the dynamic provider host
does not accept secrets, so the engine unwraps them before every call.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Collection, Coroutine, Mapping
from typing import Any, Final, TypeVar

from pulumi.output import Unknown
from pulumi.runtime import rpc

__all__ = [
    "UNKNOWN",
    "contains_secret",
    "contains_unknown_sentinel",
    "from_struct",
    "mark_secrets",
    "secret_paths",
    "to_struct",
]

UNKNOWN: Final[str] = rpc.UNKNOWN
"""The engine's unknown-value sentinel; put it in desired properties to model a computed value."""

Struct = Any
"""A `google.protobuf.struct_pb2.Struct` (typed loosely: protobuf ships no type stubs here)."""

_T = TypeVar("_T")
_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def _run_coroutine(coro: Coroutine[Any, Any, _T]) -> _T:
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
    return _run_coroutine(rpc.serialize_properties(encoded, {}))


def from_struct(struct: Struct) -> dict[str, Any]:
    """Deserialise a Struct, keeping unknowns (as `UNKNOWN`) and dropping `None` values."""
    raw = rpc.deserialize_properties(struct, keep_unknowns=True)
    decoded = _decode(raw)
    if not isinstance(decoded, dict):
        raise TypeError(f"expected a property bag, got {type(decoded).__name__}")
    return decoded


def contains_unknown_sentinel(value: Any) -> bool:
    """True if `value` is, or contains, an unknown (sentinel or `pulumi.output.Unknown`)."""
    return _contains(
        value, lambda v: isinstance(v, Unknown) or (isinstance(v, str) and v == UNKNOWN)
    )


def contains_secret(value: Any) -> bool:
    """True if `value` is, or contains, a secret (`Output.secret`, `config.require_secret`)."""
    return _contains(value, rpc.is_rpc_secret)


def secret_paths(props: Mapping[str, Any], marked: Mapping[str, Any]) -> frozenset[str]:
    """The properties of `props` the engine marks secret, copying the secretness of the
    same-named values of `marked` (which carry RPC secrets): the engine's `annotateSecrets`,
    which it applies because the dynamic provider host does not accept secrets.

    It recurses into an object present on both sides (a secret inside `config` marks
    `config.tags`, not the whole `config`); any other value that is, or holds, a secret marks
    the whole same-named value (a list with one secret element: the whole list). Paths are
    keys joined by `.`.
    """
    found: set[str] = set()

    def walk(outs: Mapping[str, Any], ins: Mapping[str, Any], prefix: str) -> None:
        for key, in_value in ins.items():
            if key not in outs:
                continue
            out_value, path = outs[key], f"{prefix}{key}"
            if (
                isinstance(out_value, Mapping)
                and isinstance(in_value, Mapping)
                and not rpc.is_rpc_secret(in_value)
            ):
                walk(out_value, in_value, f"{path}.")
            elif contains_secret(in_value):
                found.add(path)

    walk(props, marked, "")
    return frozenset(found)


def mark_secrets(props: Mapping[str, Any], paths: Collection[str]) -> dict[str, Any]:
    """`props` with the values at `paths` (keys joined by `.`) wrapped as RPC secrets."""

    def walk(value: Any, path: str) -> Any:
        if path in paths:
            return rpc.wrap_rpc_secret(value)
        if isinstance(value, Mapping):
            return {key: walk(item, f"{path}.{key}") for key, item in value.items()}
        return value

    return {key: walk(value, str(key)) for key, value in props.items()}


def _contains(value: Any, found: Callable[[Any], bool]) -> bool:
    if found(value):
        return True
    if isinstance(value, Mapping):
        return any(_contains(v, found) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_contains(v, found) for v in value)
    return False
