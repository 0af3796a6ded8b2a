"""`python -m truto_pulumi.discover` prints Python that runs, whatever the servers are named, and
`--project-dir` writes a project folder that adopts them all, overwriting nothing."""

from __future__ import annotations

import ast
import builtins
import dataclasses
import keyword
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from truto_pulumi import discover, get_mcp_servers
from truto_pulumi._mark import CreateMark
from truto_pulumi.discover import (
    _PROJECT_FILES,
    _project_name_for,
    render_program,
    render_project,
    write_project,
)
from truto_pulumi.emulator import Emulator
from truto_pulumi.testing import run_program

from .kit import ACCOUNT
from .lifecycle.helpers import made_in_dashboard
from .test_lookups import fresh_lookups  # noqa: F401 (autouse: no stale client or config)

OFF_LIMITS = frozenset(
    {"ACCOUNT_ID", "McpServerConfigArgs", "TrutoMcpServer", "pulumi", *dir(builtins)}
)
"""What a variable of the printed code must not shadow."""

SOFT_KEYWORDS = frozenset({"_", "case", "match", "type"})
"""Soft keywords of every supported Python, whichever runs the tests."""

SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")

TABLE: dict[str, tuple[list[Any], list[str], list[str]]] = {
    # behaviour: (server names, their resource names, their variables)
    "keyword": (["class", "import"], ["class", "import"], ["class_server", "import_server"]),
    "soft-keyword": (
        ["match", "case", "type", "_"],
        ["match", "case", "type", "mcp-00000003"],
        ["match_server", "case_server", "type_server", "mcp_00000003"],
    ),
    "constant": (["None", "True"], ["none", "true"], ["none", "true"]),
    "leading-digit": (
        ["1st server", "2024"],
        ["1st-server", "2024"],
        ["server_1st_server", "server_2024"],
    ),
    "prefixed-variable-collision": (
        ["server-1st", "1st"],
        ["server-1st", "1st"],
        ["server_1st", "server_1st_2"],
    ),
    "punctuation-only": (
        ["!!!", "..."],
        ["mcp-00000000", "mcp-00000001"],
        ["mcp_00000000", "mcp_00000001"],
    ),
    "empty": (["", "ok"], ["mcp-00000000", "ok"], ["mcp_00000000", "ok"]),
    "non-ascii": (
        ["Ünïcode 服务", "服务"],
        ["unicode", "mcp-00000001"],
        ["unicode", "mcp_00000001"],
    ),
    "duplicates-and-suffix-collision": (
        ["x", "x", "X", "x-2"],
        ["x", "x-2", "x-3", "x-2-2"],
        ["x", "x_2", "x_3", "x_2_2"],
    ),
    "punctuation-collision": (["a-b", "a_b"], ["a-b", "a-b-2"], ["a_b", "a_b_2"]),
    "fallback-collision": (
        ["mcp-00000001", "服务"],
        ["mcp-00000001", "mcp-00000001-2"],
        ["mcp_00000001", "mcp_00000001_2"],
    ),
    "quotes-backslashes-newlines": (
        ['it\'s "quoted" \\ back\nslash\r\u2028'],
        ["it-s-quoted-back-slash"],
        ["it_s_quoted_back_slash"],
    ),
    "builtin-or-imported": (
        ["print", "type", "TrutoMcpServer", "ACCOUNT_ID", "pulumi"],
        ["print", "type", "trutomcpserver", "account-id", "pulumi"],
        ["print_2", "type_server", "trutomcpserver", "account_id", "pulumi_2"],
    ),
    "very-long": (["long " * 40], ["long-" * 11 + "long"], ["long_" * 11 + "long"]),
    "missing": ([None], ["mcp-00000000"], ["mcp_00000000"]),
}

ALL_NAMES = [name for names, _, _ in TABLE.values() for name in names if name is not None]


@dataclass(frozen=True)
class Declared:
    """One `TrutoMcpServer(...)` statement of rendered code."""

    variable: str
    resource_name: str
    name: Any
    adopt_id: str


def servers_named(names: list[Any], *, shared_id_prefix: bool = False) -> list[dict[str, Any]]:
    """Servers in the order given; their ids differ in the first 8 characters unless shared."""
    return [
        {"id": f"00000000-0000-4000-8000-{index:012x}", "name": name}
        if shared_id_prefix
        else {"id": f"{index:08x}-0000-4000-8000-000000000000", "name": name}
        for index, name in enumerate(names)
    ]


def declared(code: str) -> list[Declared]:
    """The servers the code declares, in order."""
    found = []
    for node in ast.parse(code).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            call = node.value
            assert isinstance(call.func, ast.Name)
            assert call.func.id == "TrutoMcpServer"
            (target,) = node.targets
            assert isinstance(target, ast.Name)
            keywords = {k.arg: k.value for k in call.keywords}
            found.append(
                Declared(
                    variable=target.id,
                    resource_name=ast.literal_eval(call.args[0]),
                    name=ast.literal_eval(keywords["name"]),
                    adopt_id=ast.literal_eval(keywords["adopt_id"]),
                )
            )
    return found


def assert_runnable(code: str, servers: list[dict[str, Any]]) -> list[Declared]:
    """Code that compiles, declares each server once by its own name, and clashes nowhere."""
    compile(code, "discovered.py", "exec")
    found = declared(code)
    assert [(d.name, d.adopt_id) for d in found] == [(s["name"], s["id"]) for s in servers]
    variables = [d.variable for d in found]
    assert len(set(variables)) == len(variables)
    for variable in variables:
        assert variable.isidentifier()
        assert variable.isascii()
        assert not keyword.iskeyword(variable)
        assert variable not in SOFT_KEYWORDS
        assert variable not in OFF_LIMITS
    resource_names = [d.resource_name for d in found]
    assert len(set(resource_names)) == len(resource_names)
    assert all(SLUG.fullmatch(r) for r in resource_names), resource_names
    return found


@pytest.mark.parametrize(
    ("names", "resource_names", "variables"),
    [pytest.param(*case, id=behaviour) for behaviour, case in TABLE.items()],
)
def test_tricky_names_render_runnable_code(
    names: list[str], resource_names: list[str], variables: list[str]
) -> None:
    found = assert_runnable(render_program(ACCOUNT, servers_named(names)), servers_named(names))
    assert [d.resource_name for d in found] == resource_names
    assert [d.variable for d in found] == variables


def test_rendered_program_registers_each_server_once_under_mocks(tmp_path: Path) -> None:
    servers = servers_named(ALL_NAMES)
    program = tmp_path / "__main__.py"
    program.write_text(render_program(ACCOUNT, servers), encoding="utf-8")
    run = run_program(program)
    registered = sorted((r.inputs["adopt_id"], r.inputs["name"]) for r in run.registrations)
    assert registered == sorted((s["id"], s["name"]) for s in servers)
    assert {r.inputs["integrated_account_id"] for r in run.registrations} == {ACCOUNT}
    assert len({r.name for r in run.registrations}) == len(servers)


def with_collisions(names: list[str]) -> list[str]:
    """The names, then repeats of the first two and what their suffixed slugs could be."""
    return names + names[:2] + [f"{name}-2" for name in names[:2]] + ["", "_"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(st.text(max_size=40), st.sampled_from(ALL_NAMES)), max_size=8).map(
        with_collisions
    ),
    st.booleans(),
)
def test_any_names_render_runnable_code(names: list[str], shared_id_prefix: bool) -> None:
    servers = servers_named(names, shared_id_prefix=shared_id_prefix)
    assert_runnable(render_program(ACCOUNT, servers), servers)


# `--project-dir`: a complete project folder whose first `pulumi up` adopts every server.

TEMPLATE_REQUIREMENTS = Path(__file__).parents[1] / "examples" / "template" / "requirements.txt"
LISTED: list[dict[str, Any]] = [
    {
        "id": "0f1e2d3c-0000-4000-8000-000000000001",
        "name": "Support bot",
        "config": {"methods": ["read"], "tags": ["tickets"]},
        "expires_at": "2031-01-01T00:00:00.000Z",
        "token": "server-token-1",
        "url": "https://truto.example.test/mcp/server-token-1",
    },
    {
        "id": "0f1e2d3c-0000-4000-8000-000000000002",
        "name": "Sales",
        "config": {"tool_exposure": "discovery", "require_api_token_auth": True},
        "expires_at": None,
        "token": "server-token-2",
        "url": "https://truto.example.test/mcp/server-token-2",
    },
]
"""An account's servers as Truto lists them (with the tokens a list must never leak into code)."""


def requirement_lines(text: str) -> list[str]:
    """A requirements file's requirements, without comments and blank lines."""
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


@pytest.mark.parametrize("name", ["acme-mcp", "true", "1.0", "null", "a_b.c"])
def test_project_is_a_python_pip_virtualenv_project_named_as_given(name: str) -> None:
    files = render_project(ACCOUNT, LISTED, name)
    assert list(files) == list(_PROJECT_FILES)
    assert yaml.safe_load(files["Pulumi.yaml"]) == {
        "name": name,
        "description": f"Truto MCP servers of integrated account {ACCOUNT}, adopted by "
        "python -m truto_pulumi.discover",
        "runtime": {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}},
    }
    assert requirement_lines(files["requirements.txt"]) == requirement_lines(
        TEMPLATE_REQUIREMENTS.read_text()
    )


def test_project_program_adopts_every_server_as_truto_has_it_under_mocks(tmp_path: Path) -> None:
    write_project(tmp_path, render_project(ACCOUNT, LISTED, "acme-mcp"))
    run = run_program(tmp_path)
    registered = {r.inputs["adopt_id"]: r.inputs for r in run.registrations}
    assert registered == {
        server["id"]: {
            "integrated_account_id": ACCOUNT,
            "name": server["name"],
            "config": server["config"],
            **({"expires_at": server["expires_at"]} if server["expires_at"] else {}),
            "adopt_id": server["id"],
        }
        for server in LISTED
    }
    program = (tmp_path / "__main__.py").read_text()
    assert ast.get_docstring(ast.parse(program))
    assert not [s[key] for s in LISTED for key in ("token", "url") if s[key] in program]


@pytest.mark.parametrize(
    ("folder", "project_name"),
    [
        ("acme-mcp", "acme-mcp"),
        ("team_a.servers", "team_a.servers"),
        ("with space", "truto-mcp-servers"),
        ("服务", "truto-mcp-servers"),
        ("x" * 101, "truto-mcp-servers"),
    ],
)
def test_project_is_named_after_its_folder_when_pulumi_accepts_the_name(
    folder: str, project_name: str, tmp_path: Path
) -> None:
    assert _project_name_for(tmp_path / folder) == project_name


# The command, in-process against the emulator, with TRUTO_API_TOKEN and TRUTO_BASE_URL.


@dataclass
class Discover:
    """`python -m truto_pulumi.discover --integrated-account-id ACCOUNT ...`: its exit status,
    standard output and standard error."""

    truto: Emulator
    capsys: pytest.CaptureFixture[str]

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.truto.clear_journal()
        code = discover.main(["--integrated-account-id", ACCOUNT, *args])
        out, err = self.capsys.readouterr()
        return code, out, err

    def listed(self) -> list[dict[str, Any]]:
        """The account's servers as the command reads them."""
        return [dataclasses.asdict(server) for server in get_mcp_servers(ACCOUNT)]


@pytest.fixture
def run_discover(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Discover:
    """The command, the account holding two servers."""
    emulator.reset()
    made_in_dashboard(emulator, ACCOUNT, name="Support bot", config={"tags": ["tickets"]})
    made_in_dashboard(emulator, ACCOUNT, name="Sales", expires_at="2031-01-01T00:00:00Z")
    monkeypatch.setenv("TRUTO_API_TOKEN", emulator.api_token)
    monkeypatch.setenv("TRUTO_BASE_URL", emulator.url)
    return Discover(emulator, capsys)


def written(folder: Path) -> dict[str, str]:
    """Every file in the folder, by name."""
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(folder.iterdir())}


@pytest.mark.slow
@pytest.mark.parametrize(("options", "name"), [((), "acme-mcp"), (("--project-name", "a"), "a")])
def test_project_dir_writes_the_project_and_says_what_to_run_never_the_token(
    run_discover: Discover, tmp_path: Path, options: tuple[str, ...], name: str
) -> None:
    folder = tmp_path / "infra" / "acme-mcp"  # made with its parents
    code, out, err = run_discover("--project-dir", str(folder), *options)
    assert code == 0, err
    assert [(e["method"], e["path"]) for e in run_discover.truto.journal()] == [
        ("GET", f"/integrated-account/{ACCOUNT}/mcp")
    ]
    assert written(folder) == render_project(ACCOUNT, run_discover.listed(), name)
    assert "pulumi config set --secret truto:apiToken <token>" in out
    assert f"pulumi config set truto:baseUrl {run_discover.truto.url}" in out
    assert "2 to create: each an adoption" in out
    secrets = [run_discover.truto.api_token, *(s["token"] for s in run_discover.truto.servers())]
    assert not [s for s in secrets for text in [out, err, *written(folder).values()] if s in text]


@pytest.mark.slow
@pytest.mark.parametrize("present", [*_PROJECT_FILES, "Pulumi.yml"])
def test_a_folder_holding_a_project_file_is_refused_before_truto_is_asked(
    run_discover: Discover, tmp_path: Path, present: str
) -> None:
    (tmp_path / present).write_text("theirs")
    code, out, err = run_discover("--project-dir", str(tmp_path))
    assert code == 2
    assert err.startswith(f"error: {tmp_path} already holds {present}: ")
    assert "overwrites nothing" in err
    assert (out, run_discover.truto.journal()) == ("", [])
    assert written(tmp_path) == {present: "theirs"}
    with pytest.raises(FileExistsError, match=re.escape(f"already holds {present}")):
        write_project(tmp_path, render_project(ACCOUNT, LISTED, "acme-mcp"))
    assert written(tmp_path) == {present: "theirs"}


@pytest.mark.slow
def test_project_dir_for_an_account_without_servers_writes_nothing(
    run_discover: Discover, tmp_path: Path
) -> None:
    run_discover.truto.reset()
    code, _, err = run_discover("--project-dir", str(tmp_path / "empty"))
    assert code == 2
    assert "has no MCP servers: nothing to adopt, no project written" in err
    assert not (tmp_path / "empty").exists()


@pytest.mark.slow
def test_a_project_name_pulumi_refuses_is_a_usage_error(
    run_discover: Discover, tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as exited:
        run_discover("--project-dir", str(tmp_path), "--project-name", "my project")
    assert exited.value.code == 2
    assert "Pulumi project names are 1 to 100 alphanumerics" in run_discover.capsys.readouterr().err
    assert run_discover.truto.journal() == []


@pytest.mark.slow
def test_a_server_carrying_a_create_mark_is_left_out_saying_why(run_discover: Discover) -> None:
    mark = CreateMark("0123456789ab", "0123456789abcdef").on("agent")
    marked = made_in_dashboard(run_discover.truto, ACCOUNT, name=mark)
    code, out, err = run_discover()
    assert code == 0, err
    listed = run_discover.listed()
    assert len(listed) == 2
    assert out == f"# 2 MCP server(s) of integrated account {ACCOUNT}\n" + render_program(
        ACCOUNT, listed
    )
    assert f"left out: MCP server {marked['id']} ('agent [pulumi creating " in err
    assert "carries a Pulumi create mark" in err
