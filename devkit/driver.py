"""Drive the real Pulumi engine: the pinned `pulumi` CLI through the Automation API.

Programs run inline (the Automation API serves them from this process and passes `--client` to
the CLI), so the CLI needs only the dynamic-provider plugin beside it, not a language host.
Every stack lives in a temporary folder: file backend, passphrase secrets, its own
PULUMI_HOME, no update or version checks, no plugin downloads.
"""

from __future__ import annotations

import json
import os
import runpy
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi import automation as auto

from truto_pulumi import TrutoMcpServer

from .truto import API_TOKEN_ENV, API_TOKEN_KEY, BASE_URL_ENV, BASE_URL_KEY, MCP_SERVER_TYPE

PROJECT = "truto-engine"
REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
STACK = "dev"
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


@dataclass
class Server:
    """One declared TrutoMcpServer: its keyword arguments and resource options."""

    props: dict[str, Any]
    opts: pulumi.ResourceOptions | None = None


Desired = Mapping[str, Server | Mapping[str, Any]]


@dataclass
class EngineStack:
    """One stack of TrutoMcpServer resources, run by the real engine."""

    root: Path
    cli: str
    env: dict[str, str] = field(default_factory=dict)
    output: list[str] = field(default_factory=list)
    desired: dict[str, Server] = field(default_factory=dict)
    program: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        backend = self.root / "backend"
        backend.mkdir(parents=True, exist_ok=True)
        venv = Path(sys.prefix)
        bin_dir = str(Path(self.cli).parent)
        env = {
            **backend_env(backend),
            "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
            # The engine starts `python -m pulumi.dynamic` in this virtualenv.
            "PULUMI_RUNTIME_VIRTUALENV": str(venv),
            "PATH": os.pathsep.join([bin_dir, str(venv / "bin"), os.environ.get("PATH", "")]),
            API_TOKEN_ENV: "",
            BASE_URL_ENV: "",
            **self.env,
        }
        self.env = env
        work_dir = self.root / "project"
        work_dir.mkdir(exist_ok=True)
        self.work_dir = work_dir
        self.stack = auto.create_or_select_stack(
            stack_name=STACK,
            project_name=PROJECT,
            program=self._run_program,
            opts=auto.LocalWorkspaceOptions(
                work_dir=str(work_dir),
                pulumi_home=str(self.root / "pulumi-home"),
                pulumi_command=auto.PulumiCommand(
                    root=str(Path(self.cli).parent.parent), skip_version_check=True
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

    def configure(self, api_token: str | None, base_url: str | None, **settings: str) -> None:
        """Stack config as users set it, in one command: the token as a secret, the rest in
        plain text."""
        config = {f"truto:{key}": auto.ConfigValue(value) for key, value in settings.items()}
        if api_token is not None:
            config[API_TOKEN_KEY] = auto.ConfigValue(api_token, secret=True)
        if base_url is not None:
            config[BASE_URL_KEY] = auto.ConfigValue(base_url)
        if config:
            self.stack.set_all_config(config)

    def cli_run(self, *args: str) -> str:
        """Run the CLI itself in the stack's project folder (e.g. `stack export`): its stdout.
        What it printed goes to `output`, unless it is the state (`stack export`)."""
        done = subprocess.run(
            [self.cli, *args, "--stack", STACK, "--non-interactive"],
            cwd=self.work_dir,
            env={**os.environ, **self.env, "PULUMI_HOME": str(self.root / "pulumi-home")},
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        text = done.stdout + done.stderr
        if done.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)} failed ({done.returncode}): {text}")
        if args[:2] != ("stack", "export"):
            self.output.append(text)
        return done.stdout

    def _declare(self, desired: Desired) -> None:
        self.desired = {
            name: server if isinstance(server, Server) else Server(dict(server))
            for name, server in desired.items()
        }

    def _run_program(self) -> None:
        if self.program is not None:
            self.program()
            return
        for name, server in self.desired.items():
            resource = TrutoMcpServer(name, **server.props, opts=server.opts)
            pulumi.export(f"{name}-url", resource.url)

    def _log(self, line: str) -> None:
        self.output.append(line)

    def preview(self, desired: Desired, **options: Any) -> auto.PreviewResult:
        self._declare(desired)
        return self.stack.preview(on_output=self._log, on_error=self._log, **options)

    def up(self, desired: Desired, **options: Any) -> auto.UpResult:
        self._declare(desired)
        return self.stack.up(on_output=self._log, on_error=self._log, **options)

    def refresh(self, **options: Any) -> auto.RefreshResult:
        return self.stack.refresh(on_output=self._log, on_error=self._log, **options)

    def destroy(self, **options: Any) -> auto.DestroyResult:
        return self.stack.destroy(on_output=self._log, on_error=self._log, **options)

    def export(self) -> dict[str, Any]:
        """`pulumi stack export`: the deployment as stored (secrets as ciphertext)."""
        text = self.cli_run("stack", "export")
        deployment: dict[str, Any] = json.loads(text)["deployment"]
        return deployment

    def servers(self) -> dict[str, dict[str, Any]]:
        """The TrutoMcpServer resources in the exported state, by resource name."""
        return servers_in(self.export())

    def text(self) -> str:
        """Everything the CLI printed so far."""
        return "".join(self.output)


def servers_in(deployment: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The TrutoMcpServer resources of an exported deployment, by resource name."""
    return {
        resource["urn"].rsplit("::", 1)[1]: resource
        for resource in deployment.get("resources", [])
        if resource["type"] == MCP_SERVER_TYPE
    }


def changes(summary: Mapping[Any, int] | None) -> dict[str, int]:
    """An operation summary without the resources left the same, keyed by plain names."""
    return {
        str(getattr(op, "value", op)): n
        for op, n in (summary or {}).items()
        if str(getattr(op, "value", op)) != "same"
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


def example(name: str) -> Callable[[], None]:
    """The example's `__main__.py`, run as the CLI runs a program folder."""
    folder = EXAMPLES / name

    def program() -> None:
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
        runpy.run_path(str(folder / "__main__.py"), run_name="__main__")

    return program
