"""A toy dynamic provider storing objects as JSON files in the directory of config `toy:dir`.

It lives in an importable module so `serialize_provider` pickles it by reference. Every
operation appends a line `op<TAB>id<TAB>detail` to `<dir>/events.log`, so tests can observe
what ran in the host process and in which order.

Inputs: `name` (required, stripped), `zone` (lower-cased, default "a"; a change replaces),
`size` (default 1), optional `exclusive` (replacement deletes first), `fail_on` (an op name
the provider refuses) and `delay` (seconds Create sleeps). A file `<dir>/fail-<op>` makes
every `<op>` fail until it is removed (an out-of-band switch for tests).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown

TOY_TYPE = "pulumi-python:dynamic/toy:Object"
"""The type token the engine would give a resource of `ToyProvider`."""
TOY_INPUT_KEYS = ("name", "zone", "size", "exclusive", "fail_on", "delay")
EVENTS = "events.log"


class ToyError(Exception):
    """Raised by the toy on purpose (`fail_on`)."""


def read_events(directory: Path) -> list[tuple[str, str, str]]:
    """The (op, id, detail) events the provider logged in `directory`."""
    path = directory / EVENTS
    if not path.exists():
        return []
    lines = path.read_text().splitlines()
    return [(op, id_, detail) for op, id_, detail in (line.split("\t") for line in lines)]


class ToyProvider(ResourceProvider):
    """Objects as `<dir>/<id>.json`. `tag` only makes distinct pickles (one host config each)."""

    serialize_as_secret_always = False

    def __init__(self, tag: str = "") -> None:
        super().__init__()
        self.tag = tag

    def configure(self, req: ConfigureRequest) -> None:
        self._dir = Path(str(req.config.require("toy:dir")))
        self._dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._in_flight = 0

    def _event(self, op: str, id_: str, detail: str) -> None:
        with self._lock, (self._dir / EVENTS).open("a") as log:
            log.write(f"{op}\t{id_}\t{detail}\n")

    def _path(self, id_: str) -> Path:
        return self._dir / f"{id_}.json"

    def _maybe_fail(self, op: str, props: dict[str, Any]) -> None:
        if props.get("fail_on") == op or (self._dir / f"fail-{op}").exists():
            raise ToyError(f"toy refuses to {op} {props.get('name')!r}")

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures: list[CheckFailure] = []
        inputs = {k: news[k] for k in TOY_INPUT_KEYS if k in news}
        name = news.get("name", "")
        if isinstance(name, Unknown):
            self._event("check-unknown", "-", "name")
        elif not isinstance(name, str) or not name.strip():
            failures.append(CheckFailure("name", "name must be a non-empty string"))
        else:
            inputs["name"] = name.strip()
        zone = news.get("zone", "a")
        inputs["zone"] = zone.lower() if isinstance(zone, str) else zone
        inputs.setdefault("size", 1)
        return CheckResult(inputs, failures)

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        changed = []
        for key in TOY_INPUT_KEYS:
            new = _news.get(key)
            if isinstance(new, Unknown):
                self._event("diff-unknown", _id, key)
                changed.append(key)
            elif new != _olds.get(key):
                changed.append(key)
        replaces = [k for k in changed if k == "zone"]
        return DiffResult(
            changes=bool(changed),
            replaces=replaces,
            delete_before_replace=bool(replaces) and _news.get("exclusive") is True,
        )

    def _write(self, id_: str, props: dict[str, Any], revision: int) -> dict[str, Any]:
        data = {k: props[k] for k in TOY_INPUT_KEYS if k in props}
        data["revision"] = revision
        self._path(id_).write_text(json.dumps(data))
        return {**data, "path": str(self._path(id_))}

    def create(self, props: dict[str, Any]) -> CreateResult:
        self._maybe_fail("create", props)
        id_ = uuid.uuid4().hex[:12]
        with self._lock:
            self._in_flight += 1
            in_flight = self._in_flight
        self._event("create-begin", id_, f"{props['name']} in_flight={in_flight}")
        time.sleep(float(props.get("delay", 0)))
        outs = self._write(id_, props, 1)
        with self._lock:
            self._in_flight -= 1
        self._event("create", id_, str(props["name"]))
        return CreateResult(id_, outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        self._maybe_fail("read", props)
        path = self._path(id_)
        if not path.exists():
            self._event("read-gone", id_, "")
            return ReadResult(None, {})
        data = json.loads(path.read_text())
        self._event("read", id_, "")
        inputs = {k: data[k] for k in TOY_INPUT_KEYS if k in data}
        return ReadResult(id_, {**data, "path": str(path)}, inputs)

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        self._maybe_fail("update", _news)
        outs = self._write(_id, _news, int(_olds.get("revision", 0)) + 1)
        self._event("update", _id, str(_news["name"]))
        return UpdateResult(outs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        self._maybe_fail("delete", _props)
        self._path(_id).unlink(missing_ok=True)
        self._event("delete", _id, str(_props.get("name")))


class DefaultDiffToy(ToyProvider):
    """A toy whose diff does not decide (DIFF_UNKNOWN), like a provider without `diff`."""

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        return DiffResult()


class ForgetfulToy(ToyProvider):
    """A toy that does not echo `size` into its outputs: a perpetual diff."""

    def _write(self, id_: str, props: dict[str, Any], revision: int) -> dict[str, Any]:
        outs = super()._write(id_, props, revision)
        outs.pop("size", None)
        return outs
