"""What the HTTP client does with hostile answers, seen through the CLI in a project folder: an
error body echoing the API token in any form, and a constant 429 with `Retry-After: 0`."""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from devkit.project import ProjectFolder
from truto_pulumi.emulator import Emulator, run_emulator

from ..kit import account_id
from ..lifecycle.helpers import account_read, collection_path, create_mark

pytestmark = pytest.mark.engine

ProgramProject = Callable[[str], ProjectFolder]

TOKEN = "trt/4f9c2b7e+a1d0=9c3e/5f6a77b1e0c2d"
"""36 characters like Truto's, with `/` (JSON may escape it) and `+`, `=` (URLs encode them)."""

FRAGMENT = 8
"""Characters of the token that must never show together, in any encoding."""

ACCOUNTS = [account_id(n) for n in range(6)]

PROGRAM = """
from truto_pulumi import TrutoMcpServer

for index, account in enumerate({accounts!r}):
    TrutoMcpServer(f"s{{index}}", integrated_account_id=account, name=f"server {{index}}")
"""


def _json_unicode(text: str) -> str:
    return "".join(f"\\u{ord(c):04x}" for c in text)


def _base64_cores(secret: str) -> list[str]:
    """The base64 characters that encode `secret` alone, at each of the 3 byte alignments."""
    cores = []
    for shift in range(3):
        bits = 8 * (shift + len(secret.encode()))
        encoded = base64.b64encode(b"\0" * shift + secret.encode()).decode()
        # Character i carries bits 6i..6i+5: keep those that lie inside the secret's bytes.
        cores.append(encoded[-(-8 * shift // 6) : (bits - 6) // 6 + 1])
    return cores


ECHOES = {
    # A token straddling the client's 200-character excerpt.
    "straddling the cut": "upstream said: " + "x" * 171 + TOKEN + " was refused",
    # A JSON body that is not Truto's error object, escaping `/` as JSON allows.
    "json slash": json.dumps({"error": "Unauthorized", "detail": f"Bearer {TOKEN}"}).replace(
        "/", "\\/"
    ),
    "json unicode": '{"error": "Unauthorized", "echo": "' + _json_unicode(TOKEN) + '"}',
    "percent-encoded": f"400 Bad Request: GET /v1/check?api_token={quote(TOKEN, safe='')}&x=1",
    "base64": "header seen: "
    + base64.b64encode(f"Bearer {TOKEN}".encode()).decode()
    + " (Proxy-Authorization)",
    # Truto's own error object whose message is cut at 1000 characters, across the token.
    "truto message": json.dumps(
        {"statusCode": 400, "error": "Bad Request", "message": "y" * 990 + TOKEN}
    ),
}


def leaked(text: str) -> list[str]:
    """Each `FRAGMENT`-character piece of the token found in `text`, in any form sent above."""
    haystack = text.lower()
    windows = [TOKEN[i : i + FRAGMENT] for i in range(len(TOKEN) - FRAGMENT + 1)]
    needles = {
        form
        for window in windows
        for form in (
            window,
            window.replace("/", "\\/"),
            _json_unicode(window),
            quote(window, safe=""),
        )
    }
    needles |= {core[i : i + 11] for core in _base64_cores(TOKEN) for i in range(len(core) - 10)}
    return sorted(n for n in needles if n.lower() in haystack)


def files_under(*roots: Path) -> Iterator[Path]:
    """Every file under the roots, except a virtualenv's."""
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and "venv" not in path.relative_to(root).parts:
                yield path


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """The emulator of this module, accepting `TOKEN` (the stack's API token)."""
    with run_emulator(api_token=TOKEN) as running:
        yield running


def test_the_api_token_echoed_in_error_bodies_in_any_form_stays_out_of_output_state_and_logs(
    program_project: ProgramProject, emulator: Emulator
) -> None:
    for account, body in zip(ACCOUNTS, ECHOES.values(), strict=True):
        emulator.inject(method="POST", path=f"/{account}/", status=400, body=body)
    project = program_project(PROGRAM.format(accounts=ACCOUNTS))

    up = project.pulumi("up", "--yes", "--continue-on-error", "-v=9", "--logflow", check=False)
    exported = project.pulumi("stack", "export").stdout

    assert up.returncode != 0
    for account in ACCOUNTS:
        assert f"Truto answered 400 to POST {collection_path(account)}: " in up.text
    assert leaked(up.text) == []
    assert leaked(exported) == []
    assert "***" in up.text
    assert emulator.faults() == []
    assert emulator.servers() == []
    verbose = "".join(log.read_text() for log in project.tmp.glob("pulumi*.log.INFO.*"))
    assert "Truto answered 400 to POST" in verbose, "the -v=9 log holds no error: nothing checked"
    files = list(files_under(project.home, project.backend, project.folder, project.tmp))
    in_files = {path.name: leaked(path.read_text(errors="replace")) for path in files}
    assert {name: found for name, found in in_files.items() if found} == {}


OPERATION_TIMEOUT = 5.0
SERVERS = 4
MAX_POSTS = SERVERS * 15
"""Each create retries while its waits fit in `OPERATION_TIMEOUT`, and every wait is at least
the client's backoff, uniform(0, min(8, 0.5 * 2**n)) before retry n: about 5 attempts per create
(20 in all, 28 at most in 300,000 simulated runs). 15 attempts would need 14 waits summing to at
most 5 s, 10 of them uniform(0, 8): a chance below 1e-8 per create. Unfloored, a `Retry-After:
0` retries at once, and only the client's rate limit (490 per 10 s) stops it."""

FOUR_SERVERS = f"""
from truto_pulumi import TrutoMcpServer

for index in range({SERVERS}):
    TrutoMcpServer(f"s{{index}}", integrated_account_id="{ACCOUNTS[0]}", name=f"server {{index}}")
"""


def test_constant_429_with_retry_after_zero_is_retried_no_faster_than_the_backoff(
    program_project: ProgramProject, emulator: Emulator
) -> None:
    emulator.inject(method="POST", status=429, retry_after=0, times=100_000)
    project = program_project(FOUR_SERVERS)
    project.pulumi("config", "set", "truto:operationTimeoutSeconds", f"{OPERATION_TIMEOUT:g}")

    up = project.pulumi("up", "--yes", check=False)

    sent = emulator.journal()
    assert up.returncode != 0
    assert "operation timeout of 5 s (truto:operationTimeoutSeconds) ran out" in up.text
    assert "Truto answered 429 to POST" in up.text
    methods = Counter(entry["method"] for entry in sent)
    gets = [(e["method"], e["path"], e["body"]) for e in sent if e["method"] == "GET"]
    # The first create in the account reads it (its installed integration) and lists it once
    # for leftovers of killed runs; the 429s, refused before Truto acts, need no listing: no
    # create settles, none gets to its rename.
    assert set(methods) == {"GET", "POST"}
    assert gets == [
        account_read(ACCOUNTS[0]),
        ("GET", collection_path(ACCOUNTS[0]), None),
    ]
    posts = [entry["body"]["name"] for entry in sent if entry["method"] == "POST"]
    assert SERVERS <= len(posts) <= MAX_POSTS, f"{len(posts)} POSTs"
    marks = {create_mark(name) for name in posts}  # a retried POST keeps its mark
    assert sorted(declared for declared, _ in marks) == [f"server {n}" for n in range(SERVERS)]
    assert emulator.servers() == []
