"""`python -m truto_pulumi.discover` prints Python that runs, whatever the servers and accounts
are named, for one account or every account the filters match, and `--project-dir` writes a
project folder that adopts them all, overwriting nothing."""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from truto_pulumi import IntegratedAccount, discover, get_mcp_servers
from truto_pulumi._mark import CreateMark
from truto_pulumi.discover import (
    _PROJECT_FILES,
    _project_name_for,
    _render_environment,
    render_program,
    render_project,
    write_project,
)
from truto_pulumi.emulator import Emulator
from truto_pulumi.testing import run_program

from .kit import ACCOUNT, OTHER_ACCOUNT
from .lifecycle.helpers import made_in_dashboard
from .test_lookups import fresh_lookups  # noqa: F401 (autouse: no stale client or config)

SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")

RESOURCE_NAMES: dict[str, tuple[list[Any], list[str]]] = {
    # behaviour: (server names, their resource names); each variable is `server_` + its slug
    "keyword": (["class", "import", "None", "True"], ["class", "import", "none", "true"]),
    "soft-keyword": (["match", "case", "type", "_"], ["match", "case", "type", "mcp-00000003"]),
    "leading-digit": (["1st server", "2024"], ["1st-server", "2024"]),
    "prefixed-collision": (["server-1st", "1st"], ["server-1st", "1st"]),
    "punctuation-only": (["!!!", "..."], ["mcp-00000000", "mcp-00000001"]),
    "empty": (["", "ok"], ["mcp-00000000", "ok"]),
    "non-ascii": (["Ünïcode 服务", "服务"], ["unicode", "mcp-00000001"]),
    "duplicates-and-suffix-collision": (["x", "x", "X", "x-2"], ["x", "x-2", "x-3", "x-2-2"]),
    "punctuation-collision": (["a-b", "a_b"], ["a-b", "a-b-2"]),
    "fallback-collision": (["mcp-00000001", "服务"], ["mcp-00000001", "mcp-00000001-2"]),
    "quotes-backslashes-newlines": (['it\'s "q" \\ back\nslash\r\u2028'], ["it-s-q-back-slash"]),
    "builtin-or-imported": (
        ["print", "TrutoMcpServer", "ACCOUNT_ID", "pulumi"],
        ["print", "trutomcpserver", "account-id", "pulumi"],
    ),
    "very-long": (["long " * 40], ["long-" * 11 + "long"]),
    "missing": ([None], ["mcp-00000000"]),
}

ALL_NAMES = [name for names, _ in RESOURCE_NAMES.values() for name in names if name is not None]


def servers_named(names: list[Any], *, shared_id_prefix: bool = False) -> list[dict[str, Any]]:
    """Servers in the order given; their ids differ in the first 8 characters unless shared."""
    return [
        {"id": f"00000000-0000-4000-8000-{index:012x}", "name": name}
        if shared_id_prefix
        else {"id": f"{index:08x}-0000-4000-8000-000000000000", "name": name}
        for index, name in enumerate(names)
    ]


def resource_names(code: str, servers: list[dict[str, Any]]) -> list[str]:
    """The resource names of code that compiles and declares each server once, by its own name
    and id, as `server_<slug> = TrutoMcpServer("<slug>", ...)` with unique slugs."""
    compile(code, "discovered.py", "exec")
    declared = []
    for node in ast.parse(code).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            call = node.value
            assert ast.unparse(call.func) == "TrutoMcpServer"
            resource_name = ast.literal_eval(call.args[0])
            assert SLUG.fullmatch(resource_name), resource_name
            assert ast.unparse(node.targets[0]) == "server_" + resource_name.replace("-", "_")
            given = {k.arg: k.value for k in call.keywords}
            name, adopt_id = (ast.literal_eval(given[key]) for key in ("name", "adopt_id"))
            declared.append((resource_name, name, adopt_id))
    assert [(name, adopt_id) for _, name, adopt_id in declared] == [
        (s["name"], s["id"]) for s in servers
    ]
    assert len({d[0] for d in declared}) == len(declared)
    return [d[0] for d in declared]


@pytest.mark.parametrize(("names", "expected"), RESOURCE_NAMES.values(), ids=RESOURCE_NAMES)
def test_tricky_names_render_runnable_code_with_readable_unique_resource_names(
    names: list[str], expected: list[str]
) -> None:
    servers = servers_named(names)
    assert resource_names(render_program(ACCOUNT, servers), servers) == expected


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
    resource_names(render_program(ACCOUNT, servers), servers)


ENVIRONMENTS: dict[str, tuple[list[tuple[Any, Any, list[str]]], list[str], str]] = {
    # behaviour: ((tenant, integration, server names) per account, resource names, 1st comment)
    "shared-tenant-and-integration": (
        [("acme", "hubspot", ["Support", "Support"]), ("acme", "hubspot", ["Support"])],
        ["acme-hubspot-support", "acme-hubspot-support-2", "acme-hubspot-support-3"],
        "# tenant 'acme', integration 'hubspot', status 'active'",
    ),
    "no-tenant-nor-integration": ([(None, None, ["x"])], ["account-00000000-x"],
                                  "# status 'active'"),
    "comment-breaking-tenant": ([("a\nb = 1  # ", "服务", ["!!!"])], ["a-b-1-mcp-00000000"],
                                "# tenant 'a\\nb = 1  # ', integration '服务', status 'active'"),
    "prefix-collision": ([("a", "b", ["c"]), ("a b", None, ["c"])], ["a-b-c", "a-b-c-2"],
                         "# tenant 'a', integration 'b', status 'active'"),
}  # fmt: skip
BLANK = {**dict.fromkeys(f.name for f in dataclasses.fields(IntegratedAccount)), "status": "active"}


@pytest.mark.parametrize(("accounts", "names", "comment"), ENVIRONMENTS.values(), ids=ENVIRONMENTS)
def test_accounts_render_one_commented_constant_each_and_resource_names_unique_across_them(
    accounts: list[tuple[Any, Any, list[str]]], names: list[str], comment: str, tmp_path: Path
) -> None:
    found = [
        (IntegratedAccount(**{**BLANK, "id": f"{n:08x}-0000-4000-8000-000000000000",
                              "tenant_id": tenant, "integration_name": integration}),
         [{**s, "id": f"{s['id'][:-4]}{n:04x}"} for s in servers_named(server_names)])
        for n, (tenant, integration, server_names) in enumerate(accounts)
    ]  # fmt: skip
    program = _render_environment(found)
    assert f"\n\n\n{comment}\nACCOUNT_1 = " in program
    (tmp_path / "__main__.py").write_text(program)
    declared = [(a.id, s["name"], s["id"]) for a, servers in found for s in servers]
    assert {r.name: r.inputs for r in run_program(tmp_path).registrations} == {
        name: {"integrated_account_id": account, "name": server_name, "adopt_id": server}
        for name, (account, server_name, server) in zip(names, declared, strict=True)
    }  # in any order: registrations complete as they may


# `--project-dir`: a complete project folder whose first `pulumi up` adopts every server.

TEMPLATE_REQUIREMENTS = Path(__file__).parents[1] / "examples" / "template" / "requirements.txt"
LISTED: list[dict[str, Any]] = [
    {"id": "0f1e2d3c-0000-4000-8000-000000000001", "name": "Support bot", "token": "tok-1",
     "config": {"methods": ["read"], "tags": ["tickets"]}, "expires_at": "2031-01-01T00:00:00Z",
     "url": "https://truto.example.test/mcp/tok-1"},
    {"id": "0f1e2d3c-0000-4000-8000-000000000002", "name": "Sales", "token": "tok-2",
     "config": {"tool_exposure": "discovery", "require_api_token_auth": True},
     "expires_at": None, "url": "https://truto.example.test/mcp/tok-2"},
    *({"config": {}, "expires_at": None, **s} for s in servers_named(ALL_NAMES)),
]  # fmt: skip
"""An account's servers as Truto lists them (with the tokens a list must never leak into code),
then one of each tricky name."""


def one_account(servers: list[dict[str, Any]], project_name: str) -> dict[str, str]:
    """The project `--integrated-account-id ACCOUNT` writes for these servers."""
    program = render_program(ACCOUNT, servers)
    return render_project(f"integrated account {ACCOUNT}", program, project_name)


def test_project_program_adopts_every_server_as_truto_has_it_under_mocks(tmp_path: Path) -> None:
    write_project(tmp_path, one_account(LISTED, "acme-mcp"))
    registered = [r.inputs for r in run_program(tmp_path).registrations]
    assert {inputs["adopt_id"]: inputs for inputs in registered} == {
        server["id"]: {
            "integrated_account_id": ACCOUNT,
            "name": server["name"],
            **({"config": server["config"]} if server["config"] else {}),
            **({"expires_at": server["expires_at"]} if server["expires_at"] else {}),
            "adopt_id": server["id"],
        }
        for server in LISTED
    }
    assert len(registered) == len(LISTED)
    program = (tmp_path / "__main__.py").read_text()
    assert ast.get_docstring(ast.parse(program))
    assert not [s[key] for s in LISTED[:2] for key in ("token", "url") if s[key] in program]


@pytest.mark.parametrize(("folder", "project_name"), [
    *[(name, name) for name in ("acme-mcp", "team_a.servers", "true", "1.0", "null")],  # strings
    *[(name, "truto-mcp-servers") for name in ("with space", "服务", "x" * 101)],  # refused
])  # fmt: skip
def test_project_is_a_python_pip_virtualenv_project_named_after_its_folder_if_pulumi_accepts_it(
    folder: str, project_name: str, tmp_path: Path
) -> None:
    files = one_account(LISTED, _project_name_for(tmp_path / folder))
    assert list(files) == list(_PROJECT_FILES)
    assert yaml.safe_load(files["Pulumi.yaml"]) == {
        "name": project_name,
        "description": f"Truto MCP servers of integrated account {ACCOUNT}, adopted by "
        "python -m truto_pulumi.discover",
        "runtime": {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}},
    }
    template = TEMPLATE_REQUIREMENTS.read_text().splitlines()
    assert files["requirements.txt"].splitlines() == [r for r in template if r and r[0] != "#"]


ONE = ("--integrated-account-id", ACCOUNT)


def test_discover_without_token_says_how_to_set_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRUTO_API_TOKEN", "")
    assert discover.main(ONE) == 2
    assert "TRUTO_API_TOKEN" in capsys.readouterr().err


Discover = Callable[..., tuple[object, str, str]]
LISTED_ACCOUNTS = [("acme", "hubspot", "active", 2), ("acme", "salesforce", "needs_reauth", 1),
                   ("beta", "hubspot", "active", 0)]  # fmt: skip
"""The accounts `GET /integrated-account` lists: tenant, integration, status, servers."""


@pytest.fixture
def run_discover(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Discover:
    """`python -m truto_pulumi.discover ...`, in-process against the emulator (TRUTO_API_TOKEN,
    TRUTO_BASE_URL), ACCOUNT holding two servers (it is not listed) and the accounts of
    `LISTED_ACCOUNTS`: its exit status, standard output and standard error."""
    emulator.reset()
    made_in_dashboard(emulator, ACCOUNT, name="Support bot", config={"tags": ["tickets"]})
    made_in_dashboard(emulator, ACCOUNT, name="Sales", expires_at="2031-01-01T00:00:00Z")
    for tenant, integration, status, servers in LISTED_ACCOUNTS:
        added = emulator.add_account(tenant_id=tenant, integration=integration, status=status)
        for _ in range(servers):
            made_in_dashboard(emulator, added["id"], name="Support")
    monkeypatch.setenv("TRUTO_API_TOKEN", emulator.api_token)
    monkeypatch.setenv("TRUTO_BASE_URL", emulator.url)

    def run(*args: str) -> tuple[object, str, str]:
        emulator.clear_journal()
        try:
            code: object = discover.main(args)
        except SystemExit as exited:  # a usage error
            code = exited.code
        return (code, *capsys.readouterr())

    return run


def written(folder: Path) -> dict[str, str]:
    """Every file in the folder, by name."""
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(folder.iterdir())}


@pytest.mark.slow
@pytest.mark.parametrize(
    "options",
    [(), ("--project-dir", "{folder}"), ("--project-dir", "{folder}", "--project-name", "a")],
)
def test_discover_prints_or_writes_the_adoptable_servers_saying_what_it_left_out_never_the_token(
    run_discover: Discover, emulator: Emulator, tmp_path: Path, options: tuple[str, ...]
) -> None:
    marked = made_in_dashboard(emulator, ACCOUNT, name=CreateMark.drawn(None).on("agent"))
    folder = tmp_path / "infra" / "acme-mcp"  # made with its parents
    code, out, err = run_discover(*ONE, *(option.format(folder=folder) for option in options))
    assert code == 0, err
    assert [(e["method"], e["path"]) for e in emulator.journal()] == [
        ("GET", f"/integrated-account/{ACCOUNT}/mcp")
    ]
    assert f"left out: MCP server {marked['id']} ('agent [pulumi creating " in err
    assert "carries a Pulumi create mark" in err
    adoptable = [dataclasses.asdict(server) for server in get_mcp_servers(ACCOUNT)]  # as read
    assert len(adoptable) == 2
    files = written(folder) if options else {}
    if options:
        assert files == one_account(adoptable, "a" if len(options) > 2 else "acme-mcp")
        assert "pulumi config set --secret truto:apiToken <token>" in out
        assert f"pulumi config set truto:baseUrl {emulator.url}" in out
        assert "2 to create: each an adoption" in out
    else:
        program = render_program(ACCOUNT, adoptable)
        assert out == f"# 2 MCP server(s) of integrated account {ACCOUNT}\n{program}"
    secrets = [emulator.api_token, *(s["token"] for s in emulator.servers())]
    assert not [s for s in secrets for text in [out, err, *files.values()] if s in text]


HUBSPOT = {"acme-hubspot-support": "hubspot", "acme-hubspot-support-2": "hubspot"}
FILTERED = {
    # filter: (options, Truto's query, the first line printed after "# ", resource -> account)
    "integration": (("--integration", "hubspot"), {"integration.name": "hubspot"},
                    "2 MCP server(s) of 1 integrated account(s) matching integration='hubspot'",
                    HUBSPOT),
    "tenant-and-status": (("--tenant-id", "acme", "--status", "needs_reauth"),
                          {"tenant_id": "acme", "status": "needs_reauth"},
                          "1 MCP server(s) of 1 integrated account(s) matching tenant_id='acme', "
                          "status='needs_reauth'", {"acme-salesforce-support": "salesforce"}),
    "every-account": (("--all-accounts",), {},
                      "3 MCP server(s) of 2 integrated account(s) of the API token's environment",
                      {**HUBSPOT, "acme-salesforce-support": "salesforce"}),
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("case", FILTERED.values(), ids=FILTERED)
def test_filters_reach_truto_as_the_lookup_sends_them_and_the_code_adopts_every_match(
    run_discover: Discover, emulator: Emulator, tmp_path: Path, case: Any
) -> None:
    options, query, first, adopted = case
    code, out, err = run_discover(*options)
    assert code == 0, err
    sent = [e["query"] for e in emulator.journal() if e["path"] == "/integrated-account"]
    assert [{k: v for k, v in q.items() if k != "limit"} for q in sent] == [query]
    assert out.splitlines()[0] == f"# {first}"
    (tmp_path / "__main__.py").write_text(out)
    registered = {
        r.name: r.inputs["integrated_account_id"] for r in run_program(tmp_path).registrations
    }
    accounts = {
        a["integration"]["name"]: a for a in emulator.accounts() if a["tenant_id"] == "acme"
    }
    assert registered == {
        name: accounts[integration]["id"] for name, integration in adopted.items()
    }
    oauth = [a["context"]["oauth"]["token"]["access_token"] for a in emulator.accounts()]
    assert not [s for s in [emulator.api_token, *oauth] if s in out + err]


CHOOSE = "choose the accounts one way: --integrated-account-id, or filters"
NOTHING = "nothing to adopt, no project written"
REFUSED = {
    # case: (files in the folder, options, what stderr says, requests sent)
    **{present: ({present: "theirs"}, ONE, f"{{folder}} already holds {present}: ", 0)
       for present in [*_PROJECT_FILES, "Pulumi.yml"]},
    "name": ({}, (*ONE, "--project-name", "a b"), "Pulumi project names are 1 to 100", 0),
    "no-servers": ({}, ("--integrated-account-id", OTHER_ACCOUNT),
                   f"integrated account {OTHER_ACCOUNT} has no MCP servers: {NOTHING}", 1),
    "no-account-matches": ({}, ("--integration", "zoho"),
                           f"no integrated account matching integration='zoho': {NOTHING}", 1),
    "no-server-in-the-matches": ({}, ("--tenant-id", "beta"), "the 1 integrated account(s) "
                                 f"matching tenant_id='beta' have no MCP servers: {NOTHING}", 2),
    "account-and-filter": ({}, (*ONE, "--integration", "hubspot"), CHOOSE, 0),
    "all-and-filter": ({}, ("--all-accounts", "--status", "active"), CHOOSE, 0),
    "no-choice": ({}, (), CHOOSE, 0),
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("case", REFUSED.values(), ids=REFUSED)
def test_a_project_dir_that_cannot_be_written_is_refused_writing_nothing(
    run_discover: Discover, emulator: Emulator, tmp_path: Path, case: Any
) -> None:
    """A folder holding a project, a project name Pulumi refuses, or accounts not chosen one
    way, before Truto is asked; accounts or filters that find nothing to adopt (requests: the
    account list, each server list)."""
    files, options, said, requests = case
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    code, out, err = run_discover(*options, "--project-dir", str(tmp_path))
    assert (code, out) == (2, "")
    assert said.format(folder=tmp_path) in err
    assert written(tmp_path) == files
    assert len(emulator.journal()) == requests
    if files:  # the function refuses it as the command does
        with pytest.raises(FileExistsError, match="overwrites nothing"):
            write_project(tmp_path, one_account(LISTED, "acme-mcp"))
        assert written(tmp_path) == files
