"""The version of the installed distribution, which every request and the package report."""

from __future__ import annotations

from importlib import metadata


def _installed_version() -> str:
    try:
        return metadata.version("truto-pulumi")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


version: str = _installed_version()
