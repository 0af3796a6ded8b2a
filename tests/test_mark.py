"""The mark a create's POST carries in the server name: what it proves, and what it does not."""

from __future__ import annotations

import pytest

from truto_pulumi._mark import CreateMark, read_mark, stack_tag

URN = "urn:pulumi:dev::shop::pulumi-python:dynamic/truto:McpServer::reader"


@pytest.mark.parametrize(
    "name",
    [
        "reader",
        "reader with [spaces] and ] brackets",
        "reader [pulumi creating 0123456789ab-01234567]",  # a mark in the declared name itself
        "",
        "naïve ✓\nsecond line",
    ],
)
def test_a_marked_name_reads_back_as_the_declared_name_and_its_mark(name: str) -> None:
    mark = CreateMark.drawn(URN)
    assert read_mark(mark.on(name)) == (name, mark)


@pytest.mark.parametrize(
    "name",
    [
        "reader",
        "reader [pulumi creating 0123456789ab-0123456]",  # nonce one short
        "reader [pulumi creating 0123456789AB-01234567]",  # upper case: not ours
        "reader [pulumi creating 0123456789ab-01234567] ",  # text after the mark
        "reader[pulumi creating 0123456789ab-01234567]",  # no space before the mark
        None,
        5,
    ],
)
def test_a_name_without_an_exact_mark_has_none(name: object) -> None:
    assert read_mark(name) is None


@pytest.mark.parametrize(
    ("other", "same"),
    [
        pytest.param(URN.replace("::reader", "::writer"), True, id="other_resource_same_stack"),
        pytest.param(URN.replace("urn:pulumi:dev::", "urn:pulumi:prod::"), False, id="other_stack"),
        pytest.param(URN.replace("::shop::", "::crm::"), False, id="other_project"),
        pytest.param(URN.replace("dev::shop", "dev::sho::p"), False, id="parts_shifted"),
    ],
)
def test_the_resources_of_one_stack_share_a_tag_and_other_stacks_have_others(
    other: str, same: bool
) -> None:
    assert (stack_tag(other) == stack_tag(URN)) is same
    assert (CreateMark.drawn(other).stack == CreateMark.drawn(URN).stack) is same


def test_each_post_draws_its_own_nonce() -> None:
    first = CreateMark.drawn(URN)
    assert len({first.nonce, first.renewed().nonce, CreateMark.drawn(URN).nonce}) == 3
    assert first.renewed().stack == first.stack


def test_without_a_urn_the_mark_proves_only_its_own_post() -> None:
    assert stack_tag(None) is None
    assert stack_tag("not-a-urn") is None
    assert CreateMark.drawn(None).stack != CreateMark.drawn(None).stack
