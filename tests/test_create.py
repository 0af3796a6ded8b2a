"""The create's rules as pure functions: which answers settle a lost POST, and which servers an
interrupted run of this stack left."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import pytest

from truto_pulumi._create import left_behind, remove_left_behind, settled_by_answer
from truto_pulumi._errors import TrutoError, TrutoServerError
from truto_pulumi._mark import CreateMark
from truto_pulumi._run import RunState
from truto_pulumi._settings import ProviderSettings

if TYPE_CHECKING:
    from truto_pulumi._client import TrutoClient

OURS = CreateMark("0123456789ab", "01234567")
THIS_RUN = CreateMark("0123456789ab", "89abcdef")
THEIRS = CreateMark("ba9876543210", "01234567")
URN = "urn:pulumi:dev::shop::pulumi-python:dynamic/truto:McpServer::b"


def listed(id_: str, name: str) -> dict[str, Any]:
    return {"id": id_, "name": name}


@pytest.mark.parametrize(
    ("server", "left"),
    [
        pytest.param(listed("a", OURS.on("reader")), True, id="this_stacks_mark"),
        pytest.param(listed("b", THIS_RUN.on("reader")), False, id="a_post_of_this_run"),
        pytest.param(listed("c", THEIRS.on("reader")), False, id="another_stacks_mark"),
        pytest.param(listed("d", "reader"), False, id="no_mark"),
        pytest.param(listed("e", "reader [pulumi creating 0123456789ab]"), False, id="half_mark"),
        pytest.param({"id": "f"}, False, id="no_name"),
    ],
)
def test_left_behind_is_only_this_stacks_marked_servers_no_post_of_this_run_made(
    server: dict[str, Any], left: bool
) -> None:
    found = left_behind([server], stack=OURS.stack, this_run=frozenset({THIS_RUN}))
    assert (found == [server]) is left


def status_error(status: int) -> TrutoServerError:
    return TrutoServerError(status_code=status, method="POST", path="/mcp", message="failed")


@pytest.mark.parametrize(
    ("error", "settled"),
    [
        pytest.param(status_error(500), True, id="500_truto_is_done"),
        pytest.param(status_error(503), True, id="503_truto_is_done"),
        pytest.param(status_error(201), True, id="2xx_unusable_body"),
        pytest.param(status_error(502), False, id="502_gateway"),
        pytest.param(status_error(504), False, id="504_gateway"),
        pytest.param(TrutoError("timed out"), False, id="no_answer"),
    ],
)
def test_only_trutos_own_answer_settles_a_lost_post(error: TrutoError, settled: bool) -> None:
    assert settled_by_answer(error) is settled


class _SlowListing:
    """A Truto whose listing was read before a create of the run renamed its server, and whose
    answer arrives after that create ended (a paged or slow list)."""

    def __init__(self, listed: list[dict[str, Any]]) -> None:
        self.listed = listed
        self.deleted: list[str] = []

    def list_mcp_servers(self, account_id: str) -> list[dict[str, Any]]:
        return self.listed

    def delete_mcp_server(self, account_id: str, server_id: str) -> None:
        self.deleted.append(server_id)


def test_a_server_whose_create_this_run_already_finished_is_never_swept() -> None:
    run = RunState(ProviderSettings(api_token=None))
    finished = CreateMark.drawn(URN)
    run.note_mark(finished)  # its POST, rename and return to the engine are all done
    leftover = CreateMark(finished.stack, "deadbeef")
    truto = _SlowListing([listed("mine", finished.on("b")), listed("old", leftover.on("a"))])

    remove_left_behind(
        cast("TrutoClient", truto), "acc", stack=finished.stack, this_run=run.marks_of_this_run
    )

    assert truto.deleted == ["old"]
