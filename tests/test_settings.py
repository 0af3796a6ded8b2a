"""Where the provider reads its token and base URL: stack config first, then environment."""

from __future__ import annotations

import pytest

from truto_pulumi.settings import DEFAULT_BASE_URL, resolve_settings


@pytest.mark.parametrize(
    ("config", "environ", "token", "base_url"),
    [
        pytest.param({}, {}, None, DEFAULT_BASE_URL, id="nothing_set"),
        pytest.param({"truto:apiToken": "cfg"}, {}, "cfg", DEFAULT_BASE_URL, id="config_only"),
        pytest.param({}, {"TRUTO_API_TOKEN": "env"}, "env", DEFAULT_BASE_URL, id="env_only"),
        pytest.param(
            {"truto:apiToken": "cfg", "truto:baseUrl": "http://127.0.0.1:8787/"},
            {"TRUTO_API_TOKEN": "env", "TRUTO_BASE_URL": "https://other"},
            "cfg",
            "http://127.0.0.1:8787",
            id="config_wins_over_env",
        ),
        pytest.param(
            {"truto:apiToken": "  "},
            {"TRUTO_API_TOKEN": "env", "TRUTO_BASE_URL": "https://eu.truto"},
            "env",
            "https://eu.truto",
            id="blank_config_falls_back_to_env",
        ),
    ],
)
def test_resolve_settings(
    config: dict[str, str], environ: dict[str, str], token: str | None, base_url: str
) -> None:
    settings = resolve_settings(config, environ)
    assert settings.api_token == token
    assert settings.base_url == base_url


def test_token_is_not_in_repr() -> None:
    settings = resolve_settings({"truto:apiToken": "very-secret"}, {})
    assert "very-secret" not in repr(settings)
