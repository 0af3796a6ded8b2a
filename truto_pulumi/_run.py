"""What one provider host knows across the operations of one Pulumi run: the HTTP client (opened
at the first operation, so preview never loads httpx), the accounts' server listings
(`_listings`), the ids the stack's resources hold, the servers adopted in this run, the accounts
checked for what interrupted runs of an earlier release left, and which creates replace a
resource. The engine serves every TrutoMcpServer of a stack from one configured provider
instance, on several threads at once; `configure` makes this object for all of them.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ._host_bridge import reach_lost
from ._listings import AccountListings
from ._settings import ProviderSettings

if TYPE_CHECKING:
    from ._client import TrutoClient

__all__ = ["RunState", "cli_command_line", "replace_targets", "urn_matches"]

_REPLACE_FLAGS = ("--replace", "--target-replace")
_REPLACE_ENV = ("PULUMI_OPTION_REPLACE", "PULUMI_OPTION_TARGET_REPLACE")
"""The CLI reads a flag from PULUMI_OPTION_<FLAG> too; a list there is comma-separated."""
_ANCESTORS = 8
"""How far up the process tree the `pulumi` command is looked for (host, shell script, CLI)."""


class RunState:
    """Shared, thread-safe state of one provider process; nothing here is ever pickled."""

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._client: TrutoClient | None = None
        self._operations = 0
        self._held: set[str] = set()
        self._made: dict[str, float] = {}
        self._adopted: dict[str, tuple[str, str | None]] = {}
        """Servers adopted in this run: who adopted each, and that resource's URN."""
        self._swept: set[str] = set()
        self._accounts: dict[str, Mapping[str, object]] = {}
        self._account_reads: dict[str, threading.Lock] = {}
        self._with_state: set[str] = set()
        self._replace_targets: tuple[str, ...] | None = None
        self.listings = AccountListings(
            lambda account, deadline: self.client().list_mcp_servers(account, deadline)
        )
        """The accounts' server listings every operation of this process shares (`_listings`)."""

    @contextmanager
    def operating(self) -> Iterator[None]:
        """Count an operation under way for as long as the block runs (`busy`)."""
        with self._lock:
            self._operations += 1
        try:
            yield
        finally:
            with self._lock:
                self._operations -= 1

    def busy(self) -> bool:
        """Whether an operation that talks to Truto is under way."""
        return self._operations > 0

    def client(self) -> TrutoClient:
        """The one HTTP client of this process, opened on first use."""
        with self._lock:
            if self._client is None:
                from ._client import client_for  # httpx loads here, not during preview

                self._client = client_for(self.settings)
            return self._client

    def _add(self, into: set[str], key: str | None) -> bool:
        """Add `key`, when there is one, to `into`: whether it was not there before."""
        with self._lock:
            if not key or key in into:
                return False
            into.add(key)
            return True

    def hold(self, server_id: str) -> None:
        """Note a server id that a resource of the stack holds (seen in its state or made)."""
        self._add(self._held, server_id)

    def held(self) -> frozenset[str]:
        """The server ids resources of the stack hold, as of the asking."""
        with self._lock:
            return frozenset(self._held)

    def note_made(self, server_id: str) -> None:
        """Note a server this run made: a listing begun before now cannot prove it gone."""
        with self._lock:
            self._made[server_id] = time.monotonic()

    def existed_since(self, server_id: str) -> float:
        """Since when the server is known to exist (a `time.monotonic()` value): when this run
        made it, else before the run began (it is in the stack's state)."""
        with self._lock:
            return self._made.get(server_id, float("-inf"))

    def release(self, server_id: str) -> None:
        """Forget a server that was deleted or found gone (or whose adoption failed)."""
        with self._lock:
            self._held.discard(server_id)
            self._adopted.pop(server_id, None)

    def reserve_adoption(self, server_id: str, holder: str, urn: str | None = None) -> str | None:
        """Claim `server_id` for the resource described by `holder` (URN `urn`), atomically:
        None when the claim succeeded, else why it cannot be taken."""
        with self._lock:
            if server_id in self._adopted:
                return f"it was already adopted in this run by {self._adopted[server_id][0]}"
            if server_id in self._held:
                return "a resource of this stack already manages it"
            self._adopted[server_id] = (holder, urn)
            self._held.add(server_id)
            return None

    def adopted_by(self, server_id: str) -> str | None:
        """Who adopted `server_id` during this run, if anyone did."""
        with self._lock:
            return self._adopted.get(server_id, (None, None))[0]

    def readopted(self, server_id: str, urn: str | None) -> bool:
        """Whether `server_id` was adopted in this run by the resource `urn` itself: its
        replacement took the old server over again instead of making a new one."""
        with self._lock:
            return urn is not None and self._adopted.get(server_id, (None, None))[1] == urn

    def first_create_under(self, account_id: str) -> bool:
        """True once per account and process: for the create that checks it for servers an
        interrupted run of an earlier release left."""
        return self._add(self._swept, account_id)

    def integrated_account(
        self, account_id: str, read: Callable[[], Mapping[str, object]]
    ) -> Mapping[str, object]:
        """The account as `read()` gives it, read once per account in this process (a run),
        also by creates under it at once: the others wait for the first one's read."""
        with self._lock:
            reading = self._account_reads.setdefault(account_id, threading.Lock())
        with reading:
            if account_id not in self._accounts:
                self._accounts[account_id] = read()
            return self._accounts[account_id]

    def note_state(self, urn: str | None) -> None:
        """Note that resource `urn` has a state in the stack (the engine sent its old inputs in
        a Check, or read it for a refresh)."""
        self._add(self._with_state, urn)

    def replaces(self, urn: str | None) -> bool:
        """Whether a Create for `urn` replaces a resource of the stack rather than adding it: its
        URN had a Check with old inputs or a Read in this run (`note_state`), or the `pulumi`
        command running this host replaces it (`--replace`, `--target-replace` or their
        PULUMI_OPTION_* variables). For that one the engine calls Check without olds, then
        Create, and tells the provider nothing (pulumi/pulumi `step_generator.go`,
        `isTargetedReplace`); nor for `pulumi state taint`, unless the run refreshes it."""
        if urn is None or urn in self._with_state:
            return urn is not None
        if self._replace_targets is None:  # read once per run
            command = cli_command_line(os.getppid())
            if not command:
                reach_lost(
                    "read the `pulumi` command that runs this provider host (from /proc, "
                    "else `ps`)",
                    "`--replace` or `--target-replace` of a resource declaring adopt_id adopts "
                    "its server again rather than making a new one (remove adopt_id to rotate "
                    "it)",
                )
            self._replace_targets = replace_targets(command, os.environ)
        return any(urn_matches(target, urn) for target in self._replace_targets)


def replace_targets(argv: Sequence[str], environ: Mapping[str, str]) -> tuple[str, ...]:
    """The URNs (or globs) a `pulumi` command replaces: its `--replace` and `--target-replace`
    flags, and the PULUMI_OPTION_* variables that stand for them."""
    found = [name for variable in _REPLACE_ENV for name in environ.get(variable, "").split(",")]
    for index, arg in enumerate(argv):
        flag, equals, value = arg.partition("=")
        if flag in _REPLACE_FLAGS:
            found.append(value if equals else "".join(argv[index + 1 : index + 2]))
    return tuple(target for target in found if target)


def urn_matches(target: str, urn: str) -> bool:
    """Whether `urn` is `target`, or matches it as the engine reads a glob: `*` within one part
    of the URN (no `:`), `**` across parts (`deploy.UrnTargets`)."""
    parts = (
        "[^:]*".join(re.escape(piece) for piece in segment.split("*"))
        for segment in target.split("**")
    )
    return re.fullmatch(".*".join(parts), urn, flags=re.DOTALL) is not None


def cli_command_line(pid: int, *, proc: Path = Path("/proc")) -> list[str]:
    """The arguments of the nearest `pulumi` process among `pid` and its ancestors (the CLI
    that started this provider host), or [] when there is none or it cannot be read."""
    for _ in range(_ANCESTORS):
        found = _process(pid, proc) if pid > 0 else None
        if found is None:
            return []
        pid, argv = found
        if argv and re.split(r"[\\/]", argv[0])[-1].lower() in ("pulumi", "pulumi.exe"):
            return argv
    return []


def _process(pid: int, proc: Path) -> tuple[int, list[str]] | None:
    """A process's parent id and arguments: from /proc (Linux), else from `ps` (macOS, BSD),
    which joins the arguments with spaces."""
    try:
        raw = (proc / str(pid) / "cmdline").read_bytes().removesuffix(b"\0")
        argv = [arg.decode(errors="replace") for arg in raw.split(b"\0")]
        parent = (proc / str(pid) / "stat").read_text().rpartition(")")[2].split()[1:2]
    except OSError:
        try:
            ps = ["ps", "-o", "ppid=", "-o", "args=", "-p", str(pid)]
            done = subprocess.run(ps, capture_output=True, text=True, timeout=5, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        first, _, args = done.stdout.strip().partition(" ")
        parent, argv = [first], args.split()
    return (int(parent[0]), argv) if parent and parent[0].isdigit() else None
