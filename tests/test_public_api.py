"""The public surface other code and docs depend on: exported names, the exception tree, paths,
type token, the version every request reports. What an error carries is `test_errors.py`'s."""

from __future__ import annotations
import __future__

import base64
import importlib
import inspect
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


PUBLIC_MODULES = {
    "truto_pulumi": None,  # checked above
    "truto_pulumi.provider": "TrutoMcpServerProvider",
    "truto_pulumi.discover": "main render_program render_project write_project",
    "truto_pulumi.recover": "left_by_killed_run main",
    "truto_pulumi.policy": "MCP_SERVER_TYPE policies serve_pack",
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
