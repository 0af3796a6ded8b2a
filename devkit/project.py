"""Drive the `pulumi` CLI (`pulumi_cli`) in a project folder as a user's pipeline does, and read
what it exported. A `ProjectFolder` runs every command as in CI (`CI=true`, `--non-interactive`,
no TTY, stdin closed) with a `file://` backend, passphrase secrets and a PULUMI_HOME of its own;
nothing of the test's environment leaks in (no TRUTO_* variable, no test virtualenv).
"""

from __future__ import annotations

import json
import os
import runpy
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .truto import MCP_SERVER_TYPE

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
PASSPHRASE = "truto-engine-tests"

_KEPT_ENV = ("HOME", "LANG", "LC_ALL", "PIP_CACHE_DIR", "PYENV_ROOT", "PYENV_VERSION")


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
    if on_path is not None and language_host_beside(on_path) is not None:
        return on_path
    return str(cached) if cached.is_file() else on_path


def is_secret(value: Any) -> bool:
    """Whether an exported state value is an encrypted secret."""
    return (
        isinstance(value, dict)
        and value.get("4dabf18193072939515e22adb298388d") == ("1b47061264138c4ac30d75fd1eb44270")
        and "ciphertext" in value
    )


def pipeline_path(cli: str) -> str:
    """The CLI's folder, then PATH without the test run's virtualenv: the project's own
    virtualenv (`pulumi install`) must be what runs the program."""
    test_venv = str(Path(sys.prefix) / "bin")
    kept = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d and d != test_venv]
    return os.pathsep.join([str(Path(cli).parent), *kept])


def language_host_beside(cli: str) -> Path | None:
    """The Python language host next to a `pulumi` CLI, if it has one."""
    host = Path(cli).parent / "pulumi-language-python"
    return host if host.is_file() and os.access(host, os.X_OK) else None


def checkout_copy(dest: Path, example: str) -> Path:
    """The folder of `examples/<example>` in a copy of this repository holding what pip needs,
    as a user who cloned it has it (`make demo` makes its own so)."""
    checkout: Callable[[Path, str], Path] = runpy.run_path(
        str(EXAMPLES / "demo.py"), run_name="demo"
    )["checkout"]
    return checkout(dest, example)


@dataclass
class CliResult:
    """One CLI command: what it printed and how it ended."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def text(self) -> str:
        return self.stdout + self.stderr

    def json(self) -> Any:
        return json.loads(self.stdout)


@dataclass
class ProjectFolder:
    """A Pulumi project folder, its backend and PULUMI_HOME under `root`."""

    folder: Path
    cli: str
    root: Path
    env: dict[str, str] = field(default_factory=dict)
    log: list[CliResult] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.backend = self.root / "backend"
        self.home = self.root / "pulumi-home"
        self.tmp = self.root / "tmp"  # where `-v` logs go (glog writes to TMPDIR)
        for folder in (self.backend, self.home, self.tmp):
            folder.mkdir(parents=True, exist_ok=True)
        base = {key: os.environ[key] for key in _KEPT_ENV if key in os.environ}
        self.env = {
            **base,
            "PATH": pipeline_path(self.cli),
            "PULUMI_HOME": str(self.home),
            "TMPDIR": str(self.tmp),
            **backend_env(self.backend),
            "CI": "true",
            **self.env,
        }

    def pulumi(
        self, *args: str, check: bool = True, env: Mapping[str, str] | None = None
    ) -> CliResult:
        """`pulumi ARGS --non-interactive` in the folder, stdin closed (no TTY)."""
        return self.run([self.cli, *args, "--non-interactive"], check=check, env=env)

    def run(
        self, argv: Iterable[str], *, check: bool = True, env: Mapping[str, str] | None = None
    ) -> CliResult:
        """Any command in the folder with the pipeline's environment (plus `env`)."""
        command = list(argv)
        done = subprocess.run(
            command, cwd=self.folder, env={**self.env, **(env or {})}, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, check=False, timeout=600,
        )  # fmt: skip
        result = CliResult(tuple(command), done.returncode, done.stdout, done.stderr)
        self.log.append(result)
        if check and done.returncode != 0:
            raise AssertionError(
                f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
            )
        return result

    def start(self, *args: str) -> subprocess.Popen[str]:
        """`pulumi ARGS --non-interactive` started in the folder as a pipeline step runs it: in
        a process group of its own (to be killed as a CI runner kills a job), output piped."""
        return subprocess.Popen(
            [self.cli, *args, "--non-interactive"], cwd=self.folder, env=self.env,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )  # fmt: skip

    def set_config(
        self,
        plain: Mapping[str, str],
        *,
        secret: Mapping[str, str] | None = None,
        path: bool = False,
    ) -> None:
        """`pulumi config set-all`: every value in one command (`path`: keys are paths)."""
        pairs = [("--plaintext", f"{k}={v}") for k, v in plain.items()]
        pairs += [("--secret", f"{k}={v}") for k, v in (secret or {}).items()]
        flags = ["--path"] if path else []
        self.pulumi("config", "set-all", *flags, *(part for pair in pairs for part in pair))

    def preview_plan(self, *args: str) -> dict[str, Any]:
        """`pulumi preview --json`: the plan as the engine reports it."""
        plan: dict[str, Any] = self.pulumi("preview", "--json", *args).json()
        return plan

    def export(self, *flags: str) -> dict[str, Any]:
        """`pulumi stack export`: the deployment as stored (secrets as ciphertext, unless
        `--show-secrets`)."""
        deployment: dict[str, Any] = self.pulumi("stack", "export", *flags).json()["deployment"]
        return deployment

    def servers(self, *flags: str) -> dict[str, dict[str, Any]]:
        """The TrutoMcpServer resources in the exported state (`export(*flags)`), by name."""
        return {
            resource["urn"].rsplit("::", 1)[1]: resource
            for resource in self.export(*flags).get("resources", [])
            if resource["type"] == MCP_SERVER_TYPE
        }

    def text(self) -> str:
        """Everything the commands printed so far."""
        return "".join(result.text for result in self.log)


def planned(plan: Mapping[str, Any]) -> dict[str, int]:
    """The `changeSummary` of `pulumi preview --json` without what stays the same."""
    summary: Mapping[str, int] = plan.get("changeSummary") or {}
    return {op: n for op, n in summary.items() if op != "same" and n}


def changed(project: ProjectFolder) -> dict[str, int]:
    """The resource changes of the stack's last update (`stack history`), without `same`."""
    last: Mapping[str, Any] = project.pulumi("stack", "history", "--json").json()[0]
    return planned({"changeSummary": last.get("resourceChanges")})


def server_steps(plan: Mapping[str, Any]) -> dict[str, str]:
    """Each planned step on a TrutoMcpServer: resource name -> op."""
    return {
        step["urn"].rsplit("::", 1)[1]: step["op"]
        for step in plan.get("steps", [])
        if step["urn"].split("::")[2] == MCP_SERVER_TYPE
    }
