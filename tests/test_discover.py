"""`python -m truto_pulumi.discover` prints Python that runs, whatever the servers are named, and
`--project-dir` writes a project folder that adopts them all, overwriting nothing."""

from __future__ import annotations

import ast
import builtins
import dataclasses
import keyword
import re
from collections.abc import Callable
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

from .kit import ACCOUNT, OTHER_ACCOUNT
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


def servers_named(names: list[Any], *, shared_id_prefix: bool = False) -> list[dict[str, Any]]:
    """Servers in the order given; their ids differ in the first 8 characters unless shared."""
    return [
        {"id": f"00000000-0000-4000-8000-{index:012x}", "name": name}
        if shared_id_prefix
        else {"id": f"{index:08x}-0000-4000-8000-000000000000", "name": name}
        for index, name in enumerate(names)
    ]


def declared(code: str) -> list[tuple[str, str, Any, str]]:
    """Each `TrutoMcpServer(...)` of the code, in order: its variable, resource name, `name`
    and `adopt_id`."""
    found = []
    for node in ast.parse(code).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            call = node.value
            assert ast.unparse(call.func) == "TrutoMcpServer"
            given = {k.arg: k.value for k in call.keywords}
            literals = [call.args[0], given["name"], given["adopt_id"]]
            found.append((ast.unparse(node.targets[0]), *map(ast.literal_eval, literals)))
    return found


def assert_runnable(code: str, servers: list[dict[str, Any]]) -> list[tuple[str, str, Any, str]]:
    """Code that compiles, declares each server once by its own name, and clashes nowhere."""
    compile(code, "discovered.py", "exec")
    found = declared(code)
    assert [(name, adopt_id) for *_, name, adopt_id in found] == [
        (s["name"], s["id"]) for s in servers
    ]
    variables, resource_names = [d[0] for d in found], [d[1] for d in found]
    assert len(set(variables)) == len(variables) == len(set(resource_names))
    for variable in variables:
        assert variable.isidentifier(), variable
        assert variable.isascii(), variable
        assert not keyword.iskeyword(variable), variable
        assert variable not in SOFT_KEYWORDS | OFF_LIMITS, variable
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
    assert [(d[1], d[0]) for d in found] == list(zip(resource_names, variables, strict=True))


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
    {"id": "0f1e2d3c-0000-4000-8000-000000000001", "name": "Support bot", "token": "tok-1",
     "config": {"methods": ["read"], "tags": ["tickets"]}, "expires_at": "2031-01-01T00:00:00Z",
     "url": "https://truto.example.test/mcp/tok-1"},
    {"id": "0f1e2d3c-0000-4000-8000-000000000002", "name": "Sales", "token": "tok-2",
     "config": {"tool_exposure": "discovery", "require_api_token_auth": True},
     "expires_at": None, "url": "https://truto.example.test/mcp/tok-2"},
]  # fmt: skip
"""An account's servers as Truto lists them (with the tokens a list must never leak into code)."""


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
    template = TEMPLATE_REQUIREMENTS.read_text().splitlines()
    assert files["requirements.txt"].splitlines() == [r for r in template if r and r[0] != "#"]


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


Discover = Callable[..., tuple[object, str, str]]


@pytest.fixture
def run_discover(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Discover:
    """`python -m truto_pulumi.discover --integrated-account-id ACCOUNT ...`, in-process against
    the emulator (TRUTO_API_TOKEN, TRUTO_BASE_URL), the account holding two servers: its exit
    status, standard output and standard error."""
    emulator.reset()
    made_in_dashboard(emulator, ACCOUNT, name="Support bot", config={"tags": ["tickets"]})
    made_in_dashboard(emulator, ACCOUNT, name="Sales", expires_at="2031-01-01T00:00:00Z")
    monkeypatch.setenv("TRUTO_API_TOKEN", emulator.api_token)
    monkeypatch.setenv("TRUTO_BASE_URL", emulator.url)

    def run(*args: str) -> tuple[object, str, str]:
        emulator.clear_journal()
        try:
            code: object = discover.main(["--integrated-account-id", ACCOUNT, *args])
        except SystemExit as exited:  # a usage error
            code = exited.code
        return (code, *capsys.readouterr())

    return run


def listed() -> list[dict[str, Any]]:
    """The account's servers as the command reads them."""
    return [dataclasses.asdict(server) for server in get_mcp_servers(ACCOUNT)]


def written(folder: Path) -> dict[str, str]:
    """Every file in the folder, by name."""
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(folder.iterdir())}


@pytest.mark.slow
@pytest.mark.parametrize(("options", "name"), [((), "acme-mcp"), (("--project-name", "a"), "a")])
def test_project_dir_writes_the_project_and_says_what_to_run_never_the_token(
    run_discover: Discover, emulator: Emulator, tmp_path: Path, options: Any, name: str
) -> None:
    folder = tmp_path / "infra" / "acme-mcp"  # made with its parents
    code, out, err = run_discover("--project-dir", str(folder), *options)
    assert code == 0, err
    assert [(e["method"], e["path"]) for e in emulator.journal()] == [
        ("GET", f"/integrated-account/{ACCOUNT}/mcp")
    ]
    assert written(folder) == render_project(ACCOUNT, listed(), name)
    assert "pulumi config set --secret truto:apiToken <token>" in out
    assert f"pulumi config set truto:baseUrl {emulator.url}" in out
    assert "2 to create: each an adoption" in out
    secrets = [emulator.api_token, *(s["token"] for s in emulator.servers())]
    assert not [s for s in secrets for text in [out, err, *written(folder).values()] if s in text]


REFUSED = [
    *[
        pytest.param({present: "theirs"}, (), f"{{folder}} already holds {present}: ", id=present)
        for present in [*_PROJECT_FILES, "Pulumi.yml"]
    ],
    pytest.param({}, ("--project-name", "a b"), "Pulumi project names are 1 to 100", id="name"),
    pytest.param(
        {},
        ("--integrated-account-id", OTHER_ACCOUNT),  # the last wins
        f"integrated account {OTHER_ACCOUNT} has no MCP servers: nothing to adopt, no project",
        id="no-servers",
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("files", "options", "said"), REFUSED)
def test_a_project_dir_that_cannot_be_written_is_refused_writing_nothing(
    run_discover: Discover,
    emulator: Emulator,
    tmp_path: Path,
    files: dict[str, str],
    options: Any,
    said: str,
) -> None:
    """A folder holding a project, or a project name Pulumi refuses, before Truto is asked."""
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    code, out, err = run_discover("--project-dir", str(tmp_path), *options)
    assert (code, out) == (2, "")
    assert said.format(folder=tmp_path) in err
    assert written(tmp_path) == files
    assert len(emulator.journal()) == ("has no MCP servers" in said)  # its list
    if files:  # the function refuses it as the command does
        with pytest.raises(FileExistsError, match="overwrites nothing"):
            write_project(tmp_path, render_project(ACCOUNT, LISTED, "acme-mcp"))
        assert written(tmp_path) == files


@pytest.mark.slow
def test_a_server_carrying_a_create_mark_is_left_out_saying_why(
    run_discover: Discover, emulator: Emulator
) -> None:
    mark = CreateMark("0123456789ab", "0123456789abcdef").on("agent")
    marked = made_in_dashboard(emulator, ACCOUNT, name=mark)
    code, out, err = run_discover()
    assert code == 0, err
    adoptable = listed()
    assert len(adoptable) == 2
    assert out == f"# 2 MCP server(s) of integrated account {ACCOUNT}\n" + render_program(
        ACCOUNT, adoptable
    )
    assert f"left out: MCP server {marked['id']} ('agent [pulumi creating " in err
    assert "carries a Pulumi create mark" in err
