"""Secrets, proven: no API token anywhere, MCP tokens only in the `token` and `url` outputs.

A whole lifecycle runs through the real provider host against the emulator (create, no-op
preview, update, refresh with a retried GET, out-of-band deletion, refused PATCH, lost create
answer, check failure, wrong API token, destroy). Everything the provider produced is collected:
state, check results, pickles (decoded), error texts with their tracebacks, the host's stderr
with the `truto_pulumi` loggers at DEBUG. Then every text is scanned for the tokens. (The
client's own errors and log records: tests/test_client.py; the lookups': tests/test_lookups.py.)
"""

from __future__ import annotations

import base64
import dataclasses
import traceback
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from devkit import (
    NO_TRUTO_ENV,
    OperationError,
    ProviderHost,
    SimulatedStack,
    UpError,
    mcp_server_stack,
)
from truto_pulumi.emulator import Emulator, run_emulator

from .kit import ACCOUNT, OTHER_ACCOUNT

pytestmark = pytest.mark.slow  # starts the provider host and the emulator

API_TOKEN = "truto-api-SECRET-4d1f0c2b9e7a5531-do-not-leak"
WRONG_TOKEN = "truto-api-WRONG-88aa17c3e5f90b24-do-not-leak"
SECRET_FIELDS = ("token", "url")
# Imported by the host's Python at start-up (it is first on the host's PYTHONPATH): the host's
# own `truto_pulumi` log records then reach its stderr at DEBUG, where the scan sees them.
SITECUSTOMIZE = """\
import logging, sys
logging.basicConfig(stream=sys.stderr, level=logging.WARNING,
                    format="%(name)s %(levelname)s %(message)s")
logging.getLogger("truto_pulumi").setLevel(logging.DEBUG)
"""


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with run_emulator(api_token=API_TOKEN) as running:
        yield running


def describe(value: object, depth: int = 0) -> str:
    """Every string reachable from `value` (a result, an error, state), readable.

    Objects (dataclasses, errors) are opened through their attributes, a few levels deep.
    """
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, bytes | int | float | bool) or depth > 5:
        return repr(value)
    if isinstance(value, Mapping):
        items = (f"{describe(k, depth + 1)}: {describe(v, depth + 1)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list | tuple | set | frozenset):
        return "[" + ", ".join(describe(item, depth + 1) for item in value) + "]"
    if hasattr(value, "__dict__"):
        return f"{type(value).__name__}{describe(vars(value), depth + 1)} {value!r}"
    return repr(value)


@dataclasses.dataclass
class Evidence:
    """What the provider produced: `texts` where no token may be, and `secrets`, the `token` and
    `url` outputs, where only the MCP tokens of the servers Truto holds may be."""

    texts: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    secrets: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    mcp_tokens: set[str] = dataclasses.field(default_factory=set)
    lost_tokens: set[str] = dataclasses.field(default_factory=set)
    """Tokens of servers whose create answer was lost: they cannot be in any output either."""

    def text(self, label: str, value: object) -> None:
        """`value` as text (an error's attributes and repr); an error's traceback (its str) and
        inner errors too."""
        self.texts.append((label, describe(value)))
        if isinstance(value, BaseException):
            self.texts.append((f"{label} (traceback)", "".join(traceback.format_exception(value))))
            for name, inner in getattr(value, "errors", {}).items():
                self.text(f"{label}/{name}", inner)

    def props(self, label: str, props: Mapping[str, Any]) -> None:
        """A property bag: `token` and `url` may hold MCP tokens, no other key may."""
        for key, value in props.items():
            into = self.secrets if key in SECRET_FIELDS else self.texts
            into.append((f"{label}.{key}", describe(value)))
            if key == "__provider" and isinstance(value, str):
                pickled = base64.b64decode(value).decode("latin-1")  # the dill pickle, as text
                self.text(f"{label}.{key} (unpickled)", pickled)

    def stack(self, label: str, stack: SimulatedStack) -> None:
        for name, state in stack.resources.items():
            self.text(f"{label}/{name} id and urn", (state.id, state.urn))
            self.props(f"{label}/{name} inputs", state.inputs)
            self.props(f"{label}/{name} outputs", state.outputs)
        for index, state in enumerate(stack.pending_deletes):
            self.props(f"{label}/pending delete {index}", state.outputs)

    def live_servers(self, emulator: Emulator) -> None:
        """Remember the MCP tokens of every server Truto holds now."""
        self.mcp_tokens.update(str(server["token"]) for server in emulator.servers())

    def assert_no_leaks(self, *, min_size: int) -> None:
        size = sum(len(text) for _, text in self.texts)
        assert size > min_size, f"scanned only {size} characters"
        # Positive control: the scan does find MCP tokens where they belong.
        found = {token for token in self.mcp_tokens for _, text in self.secrets if token in text}
        assert found == self.mcp_tokens - self.lost_tokens, "a token not in a token/url output"
        for label, text in [*self.texts, *self.secrets]:
            assert API_TOKEN not in text, f"API token in {label}"
            assert WRONG_TOKEN not in text, f"API token in {label}"
            # No MCP token outside the outputs; none of a server whose create answer was lost.
            unseen = self.lost_tokens if (label, text) in self.secrets else self.mcp_tokens
            leaked = sorted(token[:6] + "..." for token in unseen if token in text)
            assert not leaked, f"MCP token(s) {leaked} in {label}"


def servers(**names: str) -> dict[str, dict[str, Any]]:
    """Desired resources: name -> account (upper-case, as a user may write it)."""
    return {
        name: {
            "integrated_account_id": account.upper(),
            "name": f"{name} server",
            "config": {"methods": ["write", "read", "read"], "tags": ["crm", "billing"]},
            "expires_at": "2099-01-01T01:00:00+01:00",
        }
        for name, account in names.items()
    }


def test_lifecycle_through_the_host_shows_mcp_tokens_only_in_token_and_url_outputs(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.reset()
    (tmp_path / "sitecustomize.py").write_text(SITECUSTOMIZE)
    found = Evidence()
    hosts = [ProviderHost(env=NO_TRUTO_ENV, extra_paths=[tmp_path]) for _ in range(2)]
    with hosts[0] as host, hosts[1] as wrong_host:
        stack = mcp_server_stack(host, api_token=API_TOKEN, base_url=emulator.url)
        found.props("stack", {"__provider": stack.provider_string})

        desired = servers(alpha=ACCOUNT, beta=OTHER_ACCOUNT)
        found.text("create", stack.apply_step(desired))  # with the no-op preview after it
        found.live_servers(emulator)
        found.stack("after create", stack)
        assert len(found.mcp_tokens) == 2

        plan = stack.preview(desired)
        assert plan.is_empty
        found.text("no-op preview", plan)
        alpha = stack.resources["alpha"]
        news = {**desired["alpha"], "__provider": stack.provider_string}
        checked = host.check(alpha.urn, alpha.inputs, news)
        found.props("check inputs", checked.inputs)
        found.text("check failures", checked.failures)
        found.text("diff", host.diff(alpha.id, alpha.urn, alpha.outputs, alpha.inputs))

        desired["alpha"]["name"] = "alpha renamed"
        desired["beta"]["config"] = {"methods": ["read"], "tool_exposure": "discovery"}
        found.text("update", stack.apply_step(desired))
        found.stack("after update", stack)

        emulator.inject(method="GET", status=503)  # retried: a warning in the host's log
        found.text("refresh", stack.refresh())
        found.stack("after refresh", stack)

        emulator.delete_server(stack.resources["beta"].id)
        outcome = stack.refresh()
        assert outcome["beta"].deleted
        found.text("refresh after out-of-band delete", outcome)
        found.text("up recreating beta", stack.apply_step(desired))
        found.live_servers(emulator)
        found.stack("after recreation", stack)
        assert len(found.mcp_tokens) == 3

        emulator.inject(method="PATCH", status=400)
        with pytest.raises(UpError) as refused:
            stack.up({**desired, "alpha": {**desired["alpha"], "name": "refused"}})
        found.text("PATCH answered 400", refused.value)

        # A create whose answer is lost after Truto made the server. Whether the provider
        # gives up or looks for what it made (its clean-up DELETE is refused here), the server
        # stays behind, so its token is known to the scan, which covers the error texts.
        emulator.inject(method="POST", lose_answer=True)
        emulator.inject(method="DELETE", status=400)
        with pytest.raises(UpError) as lost:
            stack.up({**desired, **servers(gamma=ACCOUNT)})
        found.text("create with a lost answer", lost.value)
        found.live_servers(emulator)
        assert len(found.mcp_tokens) == 4
        emulator.clear_faults()
        known = {state.id for state in stack.resources.values()}
        (orphan,) = [server for server in emulator.servers() if server["id"] not in known]
        found.lost_tokens.add(str(orphan["token"]))
        emulator.delete_server(str(orphan["id"]))

        plan = stack.preview({**desired, "beta": {**desired["beta"], "expires_at": "soon"}})
        assert plan.failures
        found.text("check failure", plan.failures)

        wrong = mcp_server_stack(wrong_host, api_token=WRONG_TOKEN, base_url=emulator.url)
        wrong.resources = dict(stack.resources)  # the real state, MCP tokens included
        changed = {"alpha": {**desired["alpha"], "name": "x"}, **servers(gamma=ACCOUNT)}
        for label, run in [
            ("refresh", wrong.refresh),
            ("up", lambda: wrong.up(changed)),
            ("destroy", wrong.destroy),
        ]:
            with pytest.raises(OperationError) as unauthorized:
                run()
            found.text(f"{label} with a wrong API token", unauthorized.value)
        found.stack("wrong-token stack", wrong)

        stack.destroy()
        assert emulator.servers() == []
        found.stack("after destroy", stack)
        found.text("host calls", [*host.calls, *wrong_host.calls])

    for name, started in (("host", host), ("wrong-token host", wrong_host)):
        found.text(f"{name} stderr", started.stderr)
        found.text(f"{name} stdout", started.stdout)
    # The host's DEBUG records did reach its stderr: the scan covers the provider's logging.
    assert "truto_pulumi.client DEBUG" in host.stderr
    assert "truto_pulumi.provider WARNING" in host.stderr
    assert "401" in wrong_host.stderr
    found.assert_no_leaks(min_size=20_000)
