"""`truto_pulumi._version`: the version every request and the package report is the installed
distribution's, from its metadata."""

from __future__ import annotations

from importlib import metadata

import pytest

import truto_pulumi
from truto_pulumi import _version
from truto_pulumi._client import DEFAULT_USER_AGENT


def test_the_version_is_the_installed_distributions_and_every_request_says_it() -> None:
    installed = metadata.version("truto-pulumi")
    assert truto_pulumi.__version__ == installed
    assert f"truto-pulumi/{installed}" == DEFAULT_USER_AGENT


def test_a_source_tree_never_installed_reports_version_0_unknown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def not_installed(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    assert _version._installed_version() == "0+unknown"
