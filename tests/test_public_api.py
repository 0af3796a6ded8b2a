"""The public surface other code and docs depend on: exported names, the exception tree, paths,
type token, the version every request reports. Which status raises which error class, and the
details a raised error carries, are the tests' of the code that raises it (`test_client.py`...)."""

from __future__ import annotations
import __future__

import base64
import importlib
import inspect
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from unittest.mock import Mock

import dill
import pytest

import truto_pulumi
from truto_pulumi import TrutoMcpServer, _errors, _version
from truto_pulumi._client import DEFAULT_USER_AGENT
from truto_pulumi.provider import TrutoMcpServerProvider

TREE = {
    "TrutoError": "Exception",
    "TrutoConfigError": "TrutoError", "TrutoTransportError": "TrutoError",
    "TrutoDeadlineError": "TrutoError", "TrutoCreateError": "TrutoError",
    "TrutoLookupError": "TrutoError RunError",  # pulumi's: a lookup fails the program cleanly
    "TrutoApiError": "TrutoError",
    "TrutoAuthError": "TrutoApiError", "TrutoNotFoundError": "TrutoApiError",
    "TrutoValidationError": "TrutoApiError", "TrutoRateLimitedError": "TrutoApiError",
    "TrutoServerError": "TrutoApiError",
}  # fmt: skip
"""Each error class and its bases, as the docstring of `_errors` draws the tree."""
API_ERRORS = [
    getattr(_errors, name) for name, base in TREE.items() if "TrutoApiError" in (name, base)
]


def test_all_is_every_public_name_and_the_errors_are_exactly_the_documented_tree() -> None:
    public = {
        name
        for name, value in vars(truto_pulumi).items()
        if not name.startswith("_")
        and not inspect.ismodule(value)
        and value is not __future__.annotations
    }
    assert set(truto_pulumi.__all__) == public | {"__version__"}
    assert len(truto_pulumi.__all__) == len(set(truto_pulumi.__all__))
    defined = {
        value
        for value in vars(_errors).values()
        if isinstance(value, type) and value.__module__ == _errors.__name__
    }
    assert {t.__name__: " ".join(b.__name__ for b in t.__bases__) for t in defined} == TREE
    assert {*TREE, "TrutoMcpServer", "TrutoMcpServerArgs", "McpServerConfigArgs"} <= public


@pytest.mark.parametrize("error_type", API_ERRORS, ids=lambda error_type: error_type.__name__)
def test_explained_keeps_type_status_method_path_and_retry_after_and_replaces_the_message(
    error_type: type[_errors.TrutoApiError],
) -> None:
    path = "/integrated-account/a/mcp/s"
    said = error_type(status_code=418, method="DELETE", path=path, message="-", retry_after=2.5)
    explained = said.explained("what to do about it")
    assert type(explained) is error_type
    assert vars(explained) == {**vars(said), "message": "what to do about it"}
    assert str(explained) == f"Truto answered 418 to DELETE {path}: what to do about it"
    assert str(said.explained("")) == f"Truto answered 418 to DELETE {path}"  # no words: no colon


@pytest.mark.parametrize(
    "make",
    [
        lambda: _errors.TrutoConfigError("bad", "truto:baseUrl"),  # type: ignore[call-arg]
        lambda: _errors.TrutoTransportError("dropped", method="POST", path="/mcp"),  # type: ignore[call-arg]
        lambda: _errors.TrutoCreateError("lost"),  # type: ignore[call-arg]
        lambda: _errors.TrutoCreateError("lost", "[pulumi creating 0123456789ab-01234567]"),  # type: ignore[call-arg]
    ],
    ids=["config_setting_by_position", "transport_without_request_sent", "create_without_mark",
         "create_mark_by_position"],
)  # fmt: skip
def test_an_errors_details_are_given_by_keyword_and_none_required_may_be_left_out(
    make: Callable[[], _errors.TrutoError],
) -> None:
    with pytest.raises(TypeError):
        make()


PUBLIC_MODULES = {
    "truto_pulumi": None,  # checked above
    "truto_pulumi.provider": "TrutoMcpServerProvider",
    "truto_pulumi.discover": "main render_program render_project write_project",
    "truto_pulumi.recover": "left_by_killed_run main",
    "truto_pulumi.testing": "ComputedOutputs ProgramMocks ProgramRun Registration "
    "install_mocks run_program",
    "truto_pulumi.emulator": "Emulator Readings RemoteEmulator create_app run_emulator",
    "truto_pulumi.emulator.__main__": None,  # `python -m truto_pulumi.emulator`
}
"""Each public module and the names it exports."""


def test_public_modules_are_those_listed_and_export_exactly_their_names() -> None:
    root = Path(truto_pulumi.__file__).parent
    modules = {
        ".".join(("truto_pulumi", *path.relative_to(root).with_suffix("").parts)).removesuffix(
            ".__init__"
        )
        for path in root.rglob("*.py")
    }
    public = {m for m in modules if not any(part.startswith("_") for part in m.split(".")[1:])}
    public |= {m for m in modules if m.endswith(".__main__")}
    assert sorted(public) == sorted(PUBLIC_MODULES)
    for module, names in PUBLIC_MODULES.items():
        if names is not None:
            assert sorted(importlib.import_module(module).__all__) == names.split(), module


# What every stack's state holds for each server: `serialize_provider(TrutoMcpServerProvider())`
# as written by earlier releases. A moved or renamed class would make every existing stack fail.
PICKLED_BY_AN_EARLIER_RELEASE = (
    "gASVOgAAAAAAAACMFXRydXRvX3B1bHVtaS5wcm92aWRlcpSMFlRydXRvTWNwU2VydmVyUHJvdmlkZXKUk5QpgZR9lGIu"
)


def test_the_stable_names_of_the_state_and_the_package_data() -> None:
    provider = dill.loads(base64.b64decode(PICKLED_BY_AN_EARLIER_RELEASE))
    assert isinstance(provider, TrutoMcpServerProvider)
    assert TrutoMcpServer._resource_type_name == "dynamic/truto:McpServer"
    assert (Path(truto_pulumi.__file__).parent / "py.typed").is_file()


def test_the_version_is_the_installed_distributions_and_every_request_says_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A source tree never installed reports version 0+unknown."""
    installed = metadata.version("truto-pulumi")
    assert truto_pulumi.__version__ == installed
    assert f"truto-pulumi/{installed}" == DEFAULT_USER_AGENT
    monkeypatch.setattr(metadata, "version", Mock(side_effect=metadata.PackageNotFoundError))
    assert _version._installed_version() == "0+unknown"
