"""The opt-in switch and naming rules of the live acceptance run (no network)."""

from __future__ import annotations

import pytest

from devkit.acceptance import (
    AcceptanceSettings,
    acceptance_name,
    acceptance_settings,
    missing_acceptance_env,
)
from devkit.sweep import ACCEPTANCE_PREFIX

from ..kit import ACCOUNT

COMPLETE = {
    "TRUTO_ACC": "1",
    "TRUTO_API_TOKEN": "secret-token",
    "TRUTO_ACC_INTEGRATED_ACCOUNT_ID": ACCOUNT,
}


@pytest.mark.parametrize(
    ("environ", "missing"),
    [
        ({}, ["TRUTO_ACC=1", "TRUTO_API_TOKEN", "TRUTO_ACC_INTEGRATED_ACCOUNT_ID"]),
        ({**COMPLETE, "TRUTO_ACC": "0"}, ["TRUTO_ACC=1"]),
        ({**COMPLETE, "TRUTO_API_TOKEN": "  "}, ["TRUTO_API_TOKEN"]),
        ({**COMPLETE, "TRUTO_ACC_INTEGRATED_ACCOUNT_ID": ""}, ["TRUTO_ACC_INTEGRATED_ACCOUNT_ID"]),
        (COMPLETE, []),
    ],
    ids=["nothing-set", "switch-off", "blank-token", "no-account", "complete"],
)
def test_missing_acceptance_env_names_every_missing_variable(
    environ: dict[str, str], missing: list[str]
) -> None:
    assert missing_acceptance_env(environ) == missing
    assert (acceptance_settings(environ) is None) is bool(missing)


def test_acceptance_settings_default_to_the_real_truto_and_hide_the_token() -> None:
    settings = acceptance_settings(COMPLETE)

    assert settings == AcceptanceSettings(
        api_token="secret-token",
        integrated_account_id=COMPLETE["TRUTO_ACC_INTEGRATED_ACCOUNT_ID"],
        base_url="https://api.truto.one",
    )
    assert "secret-token" not in repr(settings)
    other = acceptance_settings({**COMPLETE, "TRUTO_BASE_URL": "https://eu.truto.example/"})
    assert other is not None
    assert other.base_url == "https://eu.truto.example"


def test_acceptance_names_start_with_the_sweepers_prefix_and_differ_per_run() -> None:
    assert ACCEPTANCE_PREFIX == "truto-pulumi-test-"
    assert acceptance_name("basic", "run1") == "truto-pulumi-test-run1-basic"
    first, second = acceptance_name("basic"), acceptance_name("basic")
    assert first.startswith(ACCEPTANCE_PREFIX)
    assert second.startswith(ACCEPTANCE_PREFIX)
    assert first != second
