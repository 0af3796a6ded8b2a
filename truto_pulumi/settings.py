"""Where the provider finds its API token and base URL: stack config first, then environment."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

__all__ = [
    "API_TOKEN_ENV",
    "API_TOKEN_KEY",
    "BASE_URL_ENV",
    "BASE_URL_KEY",
    "DEFAULT_BASE_URL",
    "MISSING_TOKEN_MESSAGE",
    "ProviderSettings",
    "resolve_settings",
]

API_TOKEN_KEY = "truto:apiToken"
BASE_URL_KEY = "truto:baseUrl"
API_TOKEN_ENV = "TRUTO_API_TOKEN"
BASE_URL_ENV = "TRUTO_BASE_URL"
DEFAULT_BASE_URL = "https://api.truto.one"

MISSING_TOKEN_MESSAGE = (
    "no Truto API token: set it with `pulumi config set --secret truto:apiToken <token>` "
    "or the environment variable TRUTO_API_TOKEN"
)


@dataclass(frozen=True)
class ProviderSettings:
    """The provider's resolved configuration. The token is left out of `repr`."""

    api_token: str | None = field(repr=False)
    base_url: str = DEFAULT_BASE_URL


def resolve_settings(
    config: Callable[[str], object] | Mapping[str, object],
    environ: Mapping[str, str],
) -> ProviderSettings:
    """Read `truto:apiToken` and `truto:baseUrl` from stack config, falling back to env vars."""
    lookup = config.get if isinstance(config, Mapping) else config

    def first(key: str, env: str) -> str | None:
        for value in (lookup(key), environ.get(env)):
            if isinstance(value, str) and value.strip():
                return value.strip()
        return None

    return ProviderSettings(
        api_token=first(API_TOKEN_KEY, API_TOKEN_ENV),
        base_url=(first(BASE_URL_KEY, BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/"),
    )
