"""`examples/template`'s program under mocks: what a project made by `pulumi new` registers."""

from __future__ import annotations

import pytest

from truto_pulumi.testing import run_program

from ..kit import EXAMPLE_ACCOUNT
from .conftest import EXAMPLES, PROJECT, stack_config


def test_one_read_only_server_named_after_the_project() -> None:
    run = run_program(
        EXAMPLES / "template",
        project=PROJECT,
        config=stack_config(integratedAccountId=EXAMPLE_ACCOUNT),
    )
    assert {r.name: r.inputs for r in run.registrations} == {
        "readonly": {
            "integrated_account_id": EXAMPLE_ACCOUNT,
            "name": f"{PROJECT} read-only",
            "config": {"methods": ["read"]},
        }
    }
    assert run.registrations[0].secret_outputs == ("token", "url")


def test_a_missing_account_fails_the_program_naming_the_setting() -> None:
    with pytest.raises(Exception, match="integratedAccountId"):
        run_program(EXAMPLES / "template", project=PROJECT, config={})
