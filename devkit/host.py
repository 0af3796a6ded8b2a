"""`ProviderHost`: the real dynamic-provider host (`python -u -m pulumi.dynamic`), started as the
engine starts it, each method one gRPC request of plain dicts encoded as the engine encodes them:
unknowns are the sentinel `UNKNOWN` both ways, numbers come back as floats, None values are
dropped, secrets are sent plain (the host does not accept secrets: the engine unwraps them).
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import IO, Any, Final, NoReturn, TypeVar

import grpc
from google.protobuf import struct_pb2  # type: ignore[import-untyped]
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from truto_pulumi._host_bridge import URN_KEY

_T = TypeVar("_T")
_MAX_MESSAGE = 400 * 1024 * 1024  # what the Pulumi SDK allows
_CALL_TIMEOUT = 60.0
_STOP_GRACE = 5.0
_Bag = Mapping[str, Any]
_Dict = dict[str, Any]
_EMPTY: _Bag = MappingProxyType({})

UNKNOWN: Final[str] = rpc.UNKNOWN
"""The engine's unknown-value sentinel; put it in desired properties to model a computed value."""


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


def _to_struct(props: Mapping[str, Any]) -> Any:
    """A property bag as a `Struct`, top-level None values left out (as the SDK does)."""
    struct = struct_pb2.Struct()
    struct.update({key: value for key, value in _plain(props).items() if value is not None})
    return struct


def _from_struct(struct: Any) -> dict[str, Any]:
    """Deserialise a `Struct`, keeping unknowns (as `UNKNOWN`) and dropping None values."""
    decoded: dict[str, Any] = _plain(
        rpc.deserialize_properties(struct, keep_unknowns=True), drop_none=True
    )
    return decoded


def contains_unknown(value: Any) -> bool:
    """True if `value` is, or contains, an unknown (sentinel or `pulumi.output.Unknown`)."""
    if isinstance(value, Unknown) or (isinstance(value, str) and value == UNKNOWN):
        return True
    if isinstance(value, Mapping):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(contains_unknown(v) for v in value)
    return False


@dataclass(frozen=True)
class HostCall:
    """One gRPC call made to the host (recorded when it finishes)."""

    method: str
    urn: str = ""
    ok: bool = True


@dataclass(frozen=True)
class HostCheckFailure:
    """A validation failure returned by the provider's `check`."""

    property: str
    reason: str


@dataclass(frozen=True)
class HostCheck:
    """The host's answer to Check: canonical inputs (with `__provider`) and validation failures."""

    inputs: dict[str, Any]
    failures: list[HostCheckFailure] = field(default_factory=list)


class HostCallError(Exception):
    """A gRPC call to the host failed; `details` is the host's text (the provider traceback)."""

    def __init__(self, method: str, details: str) -> None:
        super().__init__(method, details)
        self.method, self.details = method, details

    @property
    def summary(self) -> str:
        """The exception the user would see: the traceback's lines after its last indented one."""
        lines = [line for line in self.details.strip().splitlines() if line.strip()]
        indented = [i for i, line in enumerate(lines) if line.startswith((" ", "\t"))]
        tail = lines[indented[-1] + 1 :] if indented else lines
        return "\n".join(tail or lines[-1:]) or "(no details)"

    def __str__(self) -> str:
        return f"{self.method} failed: {self.summary}"


class HostStartError(RuntimeError):
    """The host process did not start (died early or printed no port in time)."""


def _drain(stream: IO[bytes], sink: list[str], first: queue.Queue[str | None] | None) -> None:
    """Read `stream` to EOF; hand the first line to `first`, collect the rest in `sink`."""
    for raw in iter(stream.readline, b""):
        line = raw.decode(errors="replace")
        if first is not None:
            first.put(line)
            first = None
        else:
            sink.append(line)
    if first is not None:
        first.put(None)
    stream.close()


class ProviderHost:
    """Runs `python -u -m pulumi.dynamic` and talks to it as the engine does. A context manager.

    The child inherits `os.environ` plus `env`; its PYTHONPATH is `extra_paths`, then (unless
    `python` is another interpreter) this process's `sys.path`. The host configures each distinct
    provider pickle once, with the latest `configure`'s config. Thread-safe: the host runs 4 calls
    at once (unless the provider widens it), and queues more.
    """

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        extra_paths: Sequence[str | os.PathLike[str]] = (),
        start_timeout: float = 30.0,
        python: str = sys.executable,
    ) -> None:
        self._env = dict(env or {})
        self._extra_paths = [os.fspath(p) for p in extra_paths]
        self._start_timeout = start_timeout
        self._python = python
        self._process: subprocess.Popen[bytes] | None = None
        self._channel: Any = None
        self._stub: Any = None
        self._stdout: list[str] = []
        self._stderr: list[str] = []
        self._readers: list[threading.Thread] = []
        self._calls: list[HostCall] = []
        self._lock = threading.Lock()

    def __enter__(self) -> ProviderHost:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _child_env(self) -> dict[str, str]:
        env = {**os.environ, **self._env}
        paths = list(self._extra_paths)
        if self._python == sys.executable:  # another interpreter keeps its own packages
            paths += [p or os.getcwd() for p in sys.path]
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
        return env

    def _fail(self, why: Callable[[], str]) -> NoReturn:
        """Stop the host, then raise `HostStartError`: `why()` and the host's stderr."""
        self.stop()
        raise HostStartError(f"dynamic provider host {why()}; stderr:\n{self.stderr}") from None

    def start(self) -> ProviderHost:
        """Start the host and connect; a no-op if already running. Returns `self`."""
        if self._process is not None:
            return self
        process = self._process = subprocess.Popen(
            [self._python, "-u", "-m", "pulumi.dynamic"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self._child_env(),
        )
        atexit.register(self.stop)
        assert process.stdout is not None
        assert process.stderr is not None
        first: queue.Queue[str | None] = queue.Queue()
        outs = ((process.stdout, self._stdout, first), (process.stderr, self._stderr, None))
        self._readers = [threading.Thread(target=_drain, args=a, daemon=True) for a in outs]
        for reader in self._readers:
            reader.start()
        try:
            line = first.get(timeout=self._start_timeout)
        except queue.Empty:
            self._fail(lambda: f"printed no port within {self._start_timeout:g}s")
        if line is None or not line.strip().isdigit():
            self._fail(lambda: f"exited with code {process.returncode} before printing its port"
                                 f" (first line: {line!r})")  # fmt: skip
        port = int(line.strip())
        options = [(f"grpc.max_{way}_message_length", _MAX_MESSAGE) for way in ("receive", "send")]
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=options)
        try:
            grpc.channel_ready_future(self._channel).result(timeout=self._start_timeout)
        except grpc.FutureTimeoutError:
            self._fail(lambda: f"took no connection on port {port}")
        self._stub = provider_pb2_grpc.ResourceProviderStub(self._channel)
        return self

    def restart(self) -> ProviderHost:
        """A new host process, as every `pulumi` run gets one (its provider remembers nothing)."""
        self.stop()
        return self.start()

    def stop(self) -> None:
        """Close the channel and end the process (SIGTERM, then SIGKILL after the grace period)."""
        atexit.unregister(self.stop)
        channel, self._channel, self._stub = self._channel, None, None
        if channel is not None:
            channel.close()
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=_STOP_GRACE)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for reader in self._readers:
            reader.join(timeout=_STOP_GRACE)

    @property
    def running(self) -> bool:
        """True while the host process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def stderr(self) -> str:
        """Everything the host wrote to stderr so far."""
        return "".join(self._stderr)

    @property
    def stdout(self) -> str:
        """What the host wrote to stdout after the port line (e.g. provider `print`s)."""
        return "".join(self._stdout)

    @property
    def calls(self) -> list[HostCall]:
        """A copy of the calls made so far, in the order they finished."""
        with self._lock:
            return list(self._calls)

    def reset_calls(self) -> None:
        """Forget the recorded calls."""
        with self._lock:
            self._calls.clear()

    def _invoke(self, method: str, urn: str, send: Callable[[Any], _T]) -> _T:
        stub = self._stub
        if stub is None:
            raise RuntimeError(
                "ProviderHost is not running: use it as a context manager or start()"
            )
        ok = False
        try:
            result = send(stub)
            ok = True
            return result
        except grpc.RpcError as err:
            raise HostCallError(method, err.details() or str(err.code())) from None
        finally:
            call = HostCall(method, urn, ok)
            with self._lock:
                self._calls.append(call)

    def configure(self, stack_config: Mapping[str, Any]) -> None:
        """Configure with the stack config (`truto:apiToken`), typed values in `args` as they
        are and in `variables` as text (JSON for non-strings), as the engine sends them."""
        plain = {key: rpc.unwrap_rpc_secret(value) for key, value in stack_config.items()}
        request = provider_pb2.ConfigureRequest(
            variables={
                key: value if isinstance(value, str) else json.dumps(value)
                for key, value in plain.items()
            },
            args=_to_struct(plain),
            acceptSecrets=True,
            acceptResources=True,
        )
        self._invoke("Configure", "", lambda s: s.Configure(request, timeout=_CALL_TIMEOUT))

    def _resource_call(self, method: str, urn: str, **fields: Any) -> Any:
        """Send `<method>Request(urn, name, type, **fields)`; property bags become Structs."""
        *_, type_, name = urn.split("::")  # urn:pulumi:stack::project::type::name
        request = getattr(provider_pb2, f"{method}Request")(
            urn=urn,
            name=name,
            type=type_.split("$")[-1],
            **{
                key: _to_struct(value) if isinstance(value, Mapping) else value
                for key, value in fields.items()
            },
        )
        return self._invoke(
            method, urn, lambda stub: getattr(stub, method)(request, timeout=_CALL_TIMEOUT)
        )

    def check(self, urn: str, olds: _Bag, news: _Bag) -> HostCheck:
        """Check `news` (olds: the previous inputs, or {}), the URN in them as `TrutoMcpServer`
        puts it (`URN_KEY`) unless they carry one."""
        response = self._resource_call("Check", urn, olds=olds, news={URN_KEY: urn, **news})
        failures = [HostCheckFailure(f.property, f.reason) for f in response.failures]
        return HostCheck(_from_struct(response.inputs), failures)

    def diff(
        self, id: str, urn: str, olds: _Bag, news: _Bag, old_inputs: _Bag = _EMPTY
    ) -> tuple[bool, list[str]]:
        """Diff the previous *outputs* `olds` with the checked `news`: (changes, replaces)."""
        response = self._resource_call(
            "Diff", urn, id=id, olds=olds, news=news, old_inputs=old_inputs
        )
        changed = response.changes == provider_pb2.DiffResponse.DIFF_SOME
        return changed, list(response.replaces)

    def create(self, urn: str, properties: _Bag) -> tuple[str, _Dict]:
        """Create: returns (id, outputs)."""
        response = self._resource_call("Create", urn, properties=properties)
        return response.id, _from_struct(response.properties)

    def read(
        self, id: str, urn: str, properties: _Bag, inputs: _Bag = _EMPTY
    ) -> tuple[str, _Dict, _Dict | None]:
        """Read the previous outputs `properties`: (id, outputs, inputs); an empty id means gone,
        inputs None that the provider returned none."""
        response = self._resource_call("Read", urn, id=id, properties=properties, inputs=inputs)
        new_inputs = _from_struct(response.inputs) if response.HasField("inputs") else None
        return response.id, _from_struct(response.properties), new_inputs

    def update(self, id: str, urn: str, olds: _Bag, news: _Bag, old_inputs: _Bag = _EMPTY) -> _Dict:
        """Update: `olds` are the previous outputs; returns the new outputs."""
        response = self._resource_call(
            "Update", urn, id=id, olds=olds, news=news, old_inputs=old_inputs
        )
        return _from_struct(response.properties)

    def delete(self, id: str, urn: str, properties: _Bag, old_inputs: _Bag = _EMPTY) -> None:
        """Delete: `properties` are the previous outputs."""
        self._resource_call("Delete", urn, id=id, properties=properties, old_inputs=old_inputs)
