"""One engine, two doors: examples/basic run as an inline Automation API program and as a project
folder by the CLI, through the same steps and stack config, must give the same plan, the same HTTP
calls to Truto and the same state, once door-specific noise is normalised away (see DROPPED and
`canonical`)."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from typing import Any, Protocol

import pytest

from devkit import MCP_SERVER_TYPE
from devkit.driver import PROJECT, EngineStack, example, is_secret
from devkit.project import ProjectFolder
from truto_pulumi._mark import stack_tag
from truto_pulumi.emulator import Emulator

from ..kit import EXAMPLE_ACCOUNTS, EngineStackFactory
from ..lifecycle.helpers import create_mark, marked_post, masked, renamed

pytestmark = pytest.mark.engine

FIRST_EXPIRY = "2031-01-01T00:00:00Z"
FOLDER_PROJECT = "truto-mcp-basic"  # the `name:` in examples/basic/Pulumi.yaml
STEPS = ("preview", "up", "refresh", "destroy")
Trace = dict[str, dict[str, Any]]  # step -> aspect (plan, calls, state...) -> value

# Keys dropped wherever they occur; each is door-specific (or run-specific) noise:
DROPPED = frozenset(
    {
        "created", "modified",  # when the engine wrote each resource (state, plan)
        "created_at", "updated_at",  # when the emulator made or changed each server (outputs)
        "time", "startTime", "endTime", "duration", "ts",  # when a step or request ran, how long
        "sourcePosition", "stackTrace",  # the Python call stack: gRPC thread vs language host
        "secrets_providers",  # each stack's passphrase salt, drawn when the stack is made
        "environment",  # history: how the CLI was started (exec.kind, flags, interpreter)
    }
)  # fmt: skip


class Door(Protocol):
    project: str  # the project name in URNs and config keys

    def cli(self, *args: str) -> str: ...  # a CLI command on the stack: its stdout
    def preview(self) -> tuple[dict[str, Any], dict[str, int]]: ...  # JSON plan, change summary
    def apply(self, command: str) -> None: ...  # up, refresh or destroy


class Inline:
    project = PROJECT

    def __init__(self, stack: EngineStack) -> None:
        self.stack = stack

    def cli(self, *args: str) -> str:
        return self.stack.cli_run(*args)

    def preview(self) -> tuple[dict[str, Any], dict[str, int]]:
        result = self.stack.preview({}, json=True)  # the inline door's own `preview --json`
        summary = {str(getattr(op, "value", op)): n for op, n in result.change_summary.items()}
        return json.loads(result.stdout), summary

    def apply(self, command: str) -> None:
        if command == "up":
            self.stack.up({})  # the program is `stack.program`: no declared servers
        else:
            getattr(self.stack, command)()


class Folder:
    project = FOLDER_PROJECT

    def __init__(self, project: ProjectFolder) -> None:
        self.folder = project

    def cli(self, *args: str) -> str:
        return self.folder.pulumi(*args).stdout

    def preview(self) -> tuple[dict[str, Any], dict[str, int]]:
        plan = self.folder.preview_plan()
        return plan, dict(plan["changeSummary"])

    def apply(self, command: str) -> None:
        # What the Automation API passes too: without --skip-preview, `refresh --yes` would
        # read every server twice (its preview, then the refresh).
        self.folder.pulumi(command, "--yes", "--skip-preview")


def walk(door: Door, emulator: Emulator) -> Trace:
    """Configure the stack as examples/basic's README says, then preview, up, refresh, destroy;
    after each step: the plan or history, the calls, the state."""
    accounts = [f"integratedAccountIds[{i}]={a}" for i, a in enumerate(EXAMPLE_ACCOUNTS)]
    plain = [f"truto:baseUrl={emulator.url}", *accounts, f"expiresAt={FIRST_EXPIRY}"]
    door.cli("config", "set-all", "--path", "--secret", f"truto:apiToken={emulator.api_token}",
             *(arg for value in plain for arg in ("--plaintext", value)))  # fmt: skip
    trace: Trace = {}
    for command in STEPS:
        emulator.clear_journal()
        seen: dict[str, Any] = {}
        if command == "preview":
            seen["plan"], seen["summary"] = door.preview()
        else:
            door.apply(command)
            seen["history"] = json.loads(door.cli("stack", "history", "--json"))[0]
        seen["calls"] = emulator.journal()
        seen["state"] = json.loads(door.cli("stack", "export"))["deployment"]
        trace[command] = seen
    return trace


def resource_name(urn: str) -> str:
    return urn.rsplit("::", 1)[1]


def renames(trace: Trace, project: str) -> dict[str, str]:
    """Door-specific names -> neutral ones: the project name (in URNs, the stack resource's name
    and config keys), and every resource id seen in any state (random per run: server ids in
    HTTP paths and `id`s, the provider's id in provider references) -> its resource's name."""
    ids = {
        resource["id"]: f"<id of {resource_name(resource['urn'])}>"
        for seen in trace.values()
        for resource in seen["state"].get("resources", [])
        if resource.get("id")
    }
    return {project: "<project>", **ids}


def rename(text: str, names: dict[str, str]) -> str:
    for old, new in names.items():
        text = text.replace(old, new)
    return text


def normalise(value: Any, names: dict[str, str]) -> Any:
    """Rename, drop DROPPED keys, and hide ciphertexts (a fresh salt and nonce per stack)
    behind "<secret>", so which values are secret is still compared."""
    if is_secret(value):
        return "<secret>"
    if isinstance(value, dict):
        return {
            rename(key, names): normalise(item, names)
            for key, item in value.items()
            if key not in DROPPED
        }
    if isinstance(value, list):
        return [normalise(item, names) for item in value]
    return rename(value, names) if isinstance(value, str) else value


def in_any_order(items: list[Any]) -> list[Any]:
    """The two servers' steps run in parallel: the order of their calls, plan steps and state
    entries is whichever finished first, so these lists are compared sorted."""
    return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))


def post_marks_are_the_stacks(trace: Trace) -> None:
    """Every POST carries a create mark with the tag of the stack whose state it went to (the
    tag differs between the doors: their projects differ; `canonical` masks it)."""
    for step, seen in trace.items():
        posts = [call["body"]["name"] for call in seen["calls"] if call["method"] == "POST"]
        urns = {
            r["urn"] for r in seen["state"].get("resources", []) if r["type"] == MCP_SERVER_TYPE
        }
        tags = {stack_tag(urn) for urn in urns}
        assert all(create_mark(name)[1].stack in tags for name in posts), (step, posts, tags)


def canonical(trace: Trace, project: str) -> Trace:
    """The trace normalised, its unordered lists sorted, and each plan's op per resource name.
    Each create mark in a call is masked: its stack tag and nonce differ between the doors."""
    names = renames(trace, project)
    out: Trace = {}
    for step, seen in trace.items():
        step_out: dict[str, Any] = normalise(seen, names)
        if "plan" in step_out:
            steps = in_any_order(step_out["plan"].get("steps", []))
            step_out["plan"]["steps"] = steps
            step_out["ops"] = {resource_name(s["urn"]): s["op"] for s in steps}
        step_out["calls"] = in_any_order(
            [{**call, "body": masked(call["body"])} for call in step_out["calls"]]
        )
        step_out["state"]["resources"] = in_any_order(step_out["state"].get("resources", []))
        out[step] = step_out
    return out


def differences(inline: Trace, folder: Trace) -> list[str]:
    """A unified diff per (step, aspect) that differs; the readable aspects first."""
    found = []
    for step in dict.fromkeys([*inline, *folder]):
        for aspect in ("ops", "summary", "history", "calls", "plan", "state"):
            a, b = (
                json.dumps(trace.get(step, {}).get(aspect), indent=1, sort_keys=True).splitlines()
                for trace in (inline, folder)
            )
            if a != b:
                diff = difflib.unified_diff(
                    a, b, f"inline {step} {aspect}", f"folder {step} {aspect}"
                )
                found.append("\n".join(line.rstrip("\n") for line in diff))
    return found


def basic_creates(account: str) -> list[tuple[str, str, Any]]:
    """The calls examples/basic's first `up` makes for `account`, as `canonical` shows them."""
    name = f"Read-only MCP {account}"
    body = marked_post(name, config={"methods": ["read"]})
    servers = f"/integrated-account/{account}/mcp"
    return [
        ("GET", f"/integrated-account/{account}", None),  # the first create there: the account
        ("GET", servers, None),  # and leftovers of killed runs
        ("POST", servers, body),  # under the stack's create mark
        ("PATCH", f"{servers}/<id of readonly-{account}>", renamed(name, FIRST_EXPIRY)),
    ]


def test_inline_program_and_project_folder_give_the_same_plans_calls_and_state(
    make_engine_stack: EngineStackFactory,
    example_project: Callable[[str], ProjectFolder],
    emulator: Emulator,
) -> None:
    stack = make_engine_stack(
        api_token=None, base_url=None
    )  # configured by `walk`, as the folder is
    stack.program = example("basic")
    inline_trace = walk(Inline(stack), emulator)
    emulator.reset()
    folder_trace = walk(Folder(example_project("basic")), emulator)
    for trace in (inline_trace, folder_trace):
        post_marks_are_the_stacks(trace)
    inline = canonical(inline_trace, PROJECT)
    folder = canonical(folder_trace, FOLDER_PROJECT)

    methods = [" ".join(sorted(c["method"] for c in seen["calls"])) for seen in folder.values()]
    # `up`: per account, a read of the account (its installed integration), a listing for
    # leftovers of killed runs, the POST, the rename (PATCH).
    assert methods == ["", "GET GET GET GET PATCH PATCH POST POST", "GET GET", "DELETE DELETE"]
    up_calls = [(c["method"], c["path"], c["body"]) for c in folder["up"]["calls"]]
    expected = [call for account in EXAMPLE_ACCOUNTS for call in basic_creates(account)]
    assert in_any_order(up_calls) == in_any_order(expected)
    assert folder["preview"]["ops"] == dict.fromkeys(
        (f"readonly-{a}" for a in EXAMPLE_ACCOUNTS), "create"
    ) | {"<project>-dev": "create"}
    found = differences(inline, folder)
    if found:
        pytest.fail("the two doors differ:\n\n" + "\n\n".join(found), pytrace=False)
