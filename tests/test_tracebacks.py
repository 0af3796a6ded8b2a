"""`_tracebacks.quiet_expected_failures`: in Pulumi's dynamic provider host, a `TrutoError` is
reported by its message; everything else, and every other process, keeps its traceback."""

from __future__ import annotations

import traceback
from importlib.machinery import ModuleSpec
from types import ModuleType

import pytest

from truto_pulumi._errors import TrutoConfigError
from truto_pulumi._tracebacks import FULL_TRACEBACKS_ENV, HOST_MODULE, quiet_expected_failures


def fake_host(name: str = HOST_MODULE) -> ModuleType:
    """A module shaped like `pulumi/dynamic/__main__.py`: it formats errors with `traceback`."""
    host = ModuleType("__main__")
    host.__spec__ = ModuleSpec(name, loader=None)
    host.traceback = traceback  # type: ignore[attr-defined]
    host._abort_with_traceback = lambda fn: fn  # type: ignore[attr-defined]
    return host


def formatted(host: ModuleType, error: Exception) -> str:
    """What the host would send the engine for `error`."""
    try:
        raise error
    except Exception:
        text: str = host.traceback.format_exc()
    return text


def test_in_the_host_an_expected_failure_is_its_message_alone() -> None:
    host = fake_host()
    assert quiet_expected_failures({"__main__": host}) is True
    error = TrutoConfigError("truto:baseUrl must be an http(s) URL")
    assert formatted(host, error) == "truto:baseUrl must be an http(s) URL"


def test_in_the_host_any_other_exception_keeps_its_traceback() -> None:
    host = fake_host()
    quiet_expected_failures({"__main__": host})
    text = formatted(host, KeyError("__provider"))
    assert text.startswith("Traceback (most recent call last):")
    assert text.rstrip().endswith("KeyError: '__provider'")


def test_a_second_configure_leaves_the_host_as_the_first_made_it() -> None:
    host = fake_host()
    assert quiet_expected_failures({"__main__": host}) is True
    patched = host.traceback
    assert quiet_expected_failures({"__main__": host}) is True
    assert host.traceback is patched


@pytest.mark.parametrize(
    "modules",
    [
        pytest.param({}, id="no_main"),
        pytest.param({"__main__": fake_host("pytest.__main__")}, id="another_program"),
    ],
)
def test_outside_the_host_nothing_changes(modules: dict[str, ModuleType]) -> None:
    assert quiet_expected_failures(modules) is False
    for module in modules.values():
        assert module.traceback is traceback


def test_a_host_that_formats_errors_otherwise_is_left_as_it_is() -> None:
    host = fake_host()
    del host._abort_with_traceback
    assert quiet_expected_failures({"__main__": host}) is False
    assert host.traceback is traceback


def test_the_environment_variable_keeps_every_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FULL_TRACEBACKS_ENV, "1")
    host = fake_host()
    assert quiet_expected_failures({"__main__": host}) is False
    assert formatted(host, TrutoConfigError("bad")).startswith("Traceback")
