"""The opt-in settings of live acceptance tests of TrutoMcpServer.

Live acceptance tests run against the real Truto API only when opted in::

    TRUTO_ACC=1 TRUTO_API_TOKEN=... TRUTO_ACC_INTEGRATED_ACCOUNT_ID=<uuid> pytest tests/lifecycle

Every server they create is named `acceptance_name(...)`, which starts with
`devkit.sweep.ACCEPTANCE_PREFIX`, so the sweeper can remove leftovers.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from truto_pulumi._settings import API_TOKEN_ENV, BASE_URL_ENV, DEFAULT_BASE_URL

from .sweep import ACCEPTANCE_PREFIX

ACCEPTANCE_SWITCH_ENV = "TRUTO_ACC"
ACCEPTANCE_ACCOUNT_ENV = "TRUTO_ACC_INTEGRATED_ACCOUNT_ID"
ACCEPTANCE_ENV = (ACCEPTANCE_SWITCH_ENV, API_TOKEN_ENV, ACCEPTANCE_ACCOUNT_ENV)
"""What a live run needs: `TRUTO_ACC=1`, an API token and an integrated account to use."""


@dataclass(frozen=True)
class AcceptanceSettings:
    """Where a live run goes. The token is left out of `repr`."""

    api_token: str = field(repr=False)
    integrated_account_id: str
    base_url: str = DEFAULT_BASE_URL


def missing_acceptance_env(environ: Mapping[str, str]) -> list[str]:
    """The variables of `ACCEPTANCE_ENV` that are unset or blank (`TRUTO_ACC` must be `1`)."""
    missing = [] if environ.get(ACCEPTANCE_SWITCH_ENV, "").strip() == "1" else ["TRUTO_ACC=1"]
    missing += [name for name in ACCEPTANCE_ENV[1:] if not environ.get(name, "").strip()]
    return missing


def acceptance_settings(environ: Mapping[str, str]) -> AcceptanceSettings | None:
    """The live-run settings, or None unless every variable of `ACCEPTANCE_ENV` is set."""
    if missing_acceptance_env(environ):
        return None
    base_url = environ.get(BASE_URL_ENV, "").strip() or DEFAULT_BASE_URL
    return AcceptanceSettings(
        api_token=environ[API_TOKEN_ENV].strip(),
        integrated_account_id=environ[ACCEPTANCE_ACCOUNT_ENV].strip(),
        base_url=base_url.rstrip("/"),
    )


def acceptance_name(label: str, run_id: str | None = None) -> str:
    """A server name for a live test: the sweeper's prefix, a run id, then `label`."""
    return f"{ACCEPTANCE_PREFIX}{run_id or secrets.token_hex(4)}-{label}"
