"""`EngineStack`: a stack of the real engine driven through the Automation API, its program
inline (served from this process: the CLI needs no language host). What `bench.engine` times;
the tests run the engine in project folders instead (`devkit.project`)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from devkit.project import backend_env
from devkit.truto import API_TOKEN_ENV, API_TOKEN_KEY, BASE_URL_ENV, BASE_URL_KEY

PROJECT = "truto-engine"


def _nothing() -> None:
    """A program declaring nothing."""


class EngineStack:
    """Stack `dev` in `root` (file backend, passphrase secrets, its own PULUMI_HOME) whose
    program is `program`, run by the CLI `cli` with the environment `env` added."""

    def __init__(self, root: Path, cli: str, env: dict[str, str] | None = None) -> None:
        self.program: Callable[[], None] = _nothing
        backend = root / "backend"
        backend.mkdir(parents=True, exist_ok=True)
        (root / "project").mkdir(exist_ok=True)
        venv = Path(sys.prefix)
        env = {
            **backend_env(backend),
            "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
            # The engine starts `python -m pulumi.dynamic` in this virtualenv.
            "PULUMI_RUNTIME_VIRTUALENV": str(venv),
            "PATH": os.pathsep.join([str(Path(cli).parent), str(venv / "bin"), os.environ["PATH"]]),
            API_TOKEN_ENV: "",
            BASE_URL_ENV: "",
            **(env or {}),
        }
        self.stack = auto.create_or_select_stack(
            stack_name="dev",
            project_name=PROJECT,
            program=lambda: self.program(),
            opts=auto.LocalWorkspaceOptions(
                work_dir=str(root / "project"),
                pulumi_home=str(root / "pulumi-home"),
                pulumi_command=auto.PulumiCommand(
                    root=str(Path(cli).parent.parent), skip_version_check=True
                ),
                env_vars=env,
                project_settings=auto.ProjectSettings(
                    name=PROJECT,
                    runtime=auto.ProjectRuntimeInfo(
                        name="python", options={"virtualenv": str(venv)}
                    ),
                    backend=auto.ProjectBackend(url=backend.as_uri()),
                ),
                secrets_provider="passphrase",
            ),
        )

    def configure(self, api_token: str, base_url: str, **settings: str) -> None:
        """Stack config in one command: the token as a secret, the rest in plain text."""
        config = {f"truto:{key}": auto.ConfigValue(value) for key, value in settings.items()}
        config[API_TOKEN_KEY] = auto.ConfigValue(api_token, secret=True)
        config[BASE_URL_KEY] = auto.ConfigValue(base_url)
        self.stack.set_all_config(config)

    def up(self) -> Any:
        return self.stack.up()

    def preview(self) -> Any:
        return self.stack.preview()

    def refresh(self) -> Any:
        return self.stack.refresh()

    def destroy(self) -> Any:
        return self.stack.destroy()
