"""Where the real engine comes from and what its stacks share: the `pulumi` CLI the tests use,
the `file://` backend and passphrase of every stack, and readers of an exported state. Project
folders that the CLI runs are `devkit.project`.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .truto import MCP_SERVER_TYPE

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
PASSPHRASE = "truto-engine-tests"


def backend_env(backend: Path) -> dict[str, str]:
    """A `file://` backend at `backend` with passphrase secrets, and no update check or plugin
    download: what every stack of the tests runs with."""
    return {
        "PULUMI_BACKEND_URL": backend.as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
    }


def pulumi_cli() -> str | None:
    """The `pulumi` CLI the tests use: one on PATH with its own Python language host beside it
    (a user's installation) wins; else the build cached by `make pulumi`; else any on PATH."""
    cached = REPO / ".cache" / "pulumi" / "bin" / "pulumi"
    on_path = shutil.which("pulumi")
    if on_path is not None and (Path(on_path).parent / "pulumi-language-python").is_file():
        return on_path
    return str(cached) if cached.is_file() else on_path


def servers_in(deployment: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The TrutoMcpServer resources of an exported deployment, by resource name."""
    return {
        resource["urn"].rsplit("::", 1)[1]: resource
        for resource in deployment.get("resources", [])
        if resource["type"] == MCP_SERVER_TYPE
    }


def is_secret(value: Any) -> bool:
    """Whether an exported state value is an encrypted secret."""
    return (
        isinstance(value, dict)
        and value.get("4dabf18193072939515e22adb298388d") == ("1b47061264138c4ac30d75fd1eb44270")
        and "ciphertext" in value
    )


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
