"""ProviderHost: process lifecycle, the raw gRPC calls, errors and property encoding."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from devkit import (
    UNKNOWN,
    HostCallError,
    HostCheckFailure,
    HostStartError,
    ProviderHost,
    from_struct,
    to_struct,
)

from .toy_provider import TOY_TYPE, ToyProvider, read_events

URN = f"urn:pulumi:dev::test::{TOY_TYPE}::obj"


def _fake_host(root: Path, body: str) -> Path:
    """A fake `pulumi.dynamic` package under `root` whose `__main__` runs `body`."""
    package = root / "pulumi" / "dynamic"
    package.mkdir(parents=True)
    (root / "pulumi" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(textwrap.dedent(body))
    return root


@pytest.mark.slow
def test_host_prints_a_port_and_stays_up(toy_host: ProviderHost) -> None:
    assert toy_host.port > 0
    assert toy_host.running
    assert toy_host.pid is not None


@pytest.mark.slow
def test_configure_then_check_returns_canonical_inputs(
    toy_host: ProviderHost, toy_dir: Path
) -> None:
    toy_host.configure({"toy:dir": str(toy_dir)})
    provider = serialize_provider(ToyProvider(tag="check"))

    result = toy_host.check(URN, {}, {"name": "  alpha ", "zone": "EU", "__provider": provider})

    assert result.failures == []
    assert result.inputs == {"name": "alpha", "zone": "eu", "size": 1, "__provider": provider}
    assert isinstance(result.inputs["size"], float)  # numbers come back as floats
    assert toy_dir.is_dir()  # configure ran in the host with our config


@pytest.mark.slow
def test_check_reports_failures_for_an_empty_name(toy_host: ProviderHost, toy_dir: Path) -> None:
    toy_host.configure({"toy:dir": str(toy_dir)})
    provider = serialize_provider(ToyProvider(tag="check-failure"))

    result = toy_host.check(URN, {}, {"name": "", "__provider": provider})

    assert result.failures == [HostCheckFailure("name", "name must be a non-empty string")]


@pytest.mark.slow
def test_crud_calls_round_trip_through_the_host(toy_host: ProviderHost, toy_dir: Path) -> None:
    toy_host.configure({"toy:dir": str(toy_dir)})
    provider = serialize_provider(ToyProvider(tag="crud"))
    inputs = toy_host.check(URN, {}, {"name": "a", "__provider": provider}).inputs

    id_, outputs = toy_host.create(URN, inputs)
    assert outputs["revision"] == 1
    assert outputs["__provider"] == provider
    assert (toy_dir / f"{id_}.json").exists()

    news = {**inputs, "size": 3}
    assert toy_host.diff(id_, URN, outputs, news, inputs).changes is True
    updated = toy_host.update(id_, URN, outputs, news, inputs)
    assert (updated["size"], updated["revision"]) == (3, 2)

    read = toy_host.read(id_, URN, updated, news)
    assert read.id == id_
    assert read.outputs == updated
    assert read.inputs is not None
    assert read.inputs["size"] == 3

    toy_host.delete(id_, URN, updated, news)
    assert not (toy_dir / f"{id_}.json").exists()
    assert toy_host.read(id_, URN, updated, news).id == ""  # gone


@pytest.mark.slow
def test_provider_exception_surfaces_as_host_call_error(
    toy_host: ProviderHost, toy_dir: Path
) -> None:
    toy_host.configure({"toy:dir": str(toy_dir)})
    provider = serialize_provider(ToyProvider(tag="boom"))

    with pytest.raises(HostCallError) as caught:
        toy_host.create(URN, {"name": "x", "fail_on": "create", "__provider": provider})

    err = caught.value
    assert err.method == "Create"
    assert err.code == "UNKNOWN"
    assert "Traceback" in err.details
    assert str(err).startswith("Create failed: ")
    assert str(err).endswith("ToyError: toy refuses to create 'x'")
    assert "Traceback" not in str(err)
    assert read_events(toy_dir) == []  # nothing was created


@pytest.mark.slow
def test_calls_are_recorded_with_method_urn_and_outcome(
    toy_host: ProviderHost, toy_dir: Path
) -> None:
    toy_host.configure({"toy:dir": str(toy_dir)})
    provider = serialize_provider(ToyProvider(tag="calls"))
    toy_host.reset_calls()

    toy_host.check(URN, {}, {"name": "a", "__provider": provider})
    with pytest.raises(HostCallError):
        toy_host.create(URN, {"name": "a", "fail_on": "create", "__provider": provider})

    calls = toy_host.calls
    assert [(c.method, c.urn, c.ok) for c in calls] == [
        ("Check", URN, True),
        ("Create", URN, False),
    ]
    assert all(c.seconds >= 0 for c in calls)
    toy_host.reset_calls()
    assert toy_host.calls == []


def test_error_summary_keeps_the_whole_final_exception_message() -> None:
    details = (
        "Traceback (most recent call last):\n"
        '  File "x.py", line 1, in f\n'
        "    raise ValueError(msg)\n"
        "ValueError: first line\n"
        "second line\n"
    )

    err = HostCallError("Update", details)

    assert err.summary == "ValueError: first line\nsecond line"
    assert str(err) == "Update failed: ValueError: first line\nsecond line"


def test_props_encode_unknowns_and_decode_like_the_engine() -> None:
    struct = to_struct({"a": UNKNOWN, "b": None, "n": 2, "nested": {"l": [1, UNKNOWN]}})

    assert struct["a"] == UNKNOWN  # the wire form the host turns into Unknown
    assert from_struct(struct) == {"a": UNKNOWN, "n": 2.0, "nested": {"l": [1.0, UNKNOWN]}}


@pytest.mark.slow
def test_stop_ends_the_host_process() -> None:
    with ProviderHost() as own:
        pid = own.pid
        assert pid is not None
        assert own.running

    assert not own.running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(RuntimeError, match="not running"):
        own.configure({})


@pytest.mark.slow
def test_host_dying_before_its_port_raises_with_stderr(tmp_path: Path) -> None:
    fake = _fake_host(
        tmp_path, "import sys\nsys.stderr.write('fake host exploded\\n')\nsys.exit(3)"
    )

    with pytest.raises(HostStartError, match=r"(?s)code 3.*fake host exploded"):
        ProviderHost(extra_paths=[fake]).start()


@pytest.mark.slow
def test_host_printing_no_port_times_out_and_is_killed(tmp_path: Path) -> None:
    fake = _fake_host(tmp_path, "import time\ntime.sleep(60)")
    silent = ProviderHost(extra_paths=[fake], start_timeout=0.5, stop_grace=1)

    with pytest.raises(HostStartError, match=r"no port within 0\.5s"):
        silent.start()
    assert not silent.running
