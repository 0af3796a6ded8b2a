"""Where the provider finds its API token and base URL: stack config first, then environment."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ._errors import TrutoConfigError
from ._ratelimit import DEFAULT_REQUESTS_PER_SECOND

API_TOKEN_KEY = "truto:apiToken"
BASE_URL_KEY = "truto:baseUrl"
API_TOKEN_ENV = "TRUTO_API_TOKEN"
BASE_URL_ENV = "TRUTO_BASE_URL"
DEFAULT_BASE_URL = "https://api.truto.one"
MAX_REQUESTS_PER_SECOND_KEY = "truto:maxRequestsPerSecond"
REQUEST_TIMEOUT_KEY = "truto:requestTimeoutSeconds"
OPERATION_TIMEOUT_KEY = "truto:operationTimeoutSeconds"
HOST_CONCURRENCY_KEY = "truto:hostConcurrency"
_NAMESPACE = "truto:"
_USERINFO = re.compile(r"//[^/?#]*@")
"""The `user:password@` of a URL's authority, which is never echoed."""
_NUMBERS = (
    (MAX_REQUESTS_PER_SECOND_KEY, "max_requests_per_second", True, None),
    (REQUEST_TIMEOUT_KEY, "request_timeout", False, None),
    (OPERATION_TIMEOUT_KEY, "operation_timeout", False, None),
    (HOST_CONCURRENCY_KEY, "host_concurrency", True, 64),
)
"""The numeric settings: key, field, whether 0 is allowed, and a whole number's most."""
KNOWN_SETTINGS = (API_TOKEN_KEY, BASE_URL_KEY, *(number[0] for number in _NUMBERS))
"""Every `truto:` stack config key the provider reads; any other `truto:` key is refused."""

MISSING_TOKEN_MESSAGE = (
    "no Truto API token: set it with `pulumi config set --secret truto:apiToken <token>` "
    "or the environment variable TRUTO_API_TOKEN"
)


@dataclass(frozen=True)
class ProviderSettings:
    """The provider's resolved configuration. The token is left out of `repr`."""

    api_token: str | None = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    max_requests_per_second: float = DEFAULT_REQUESTS_PER_SECOND
    """Client-side pacing shared by every operation of the provider process; 0 turns it off."""
    request_timeout: float = 30.0
    """Seconds one HTTP request may take (connect, send, answer)."""
    operation_timeout: float = 300.0
    """Seconds one create/read/update/delete may take, retries and pacing included."""
    host_concurrency: int = 0
    """Engine calls the dynamic provider host may serve at once; 0 leaves it as Pulumi made it."""


def resolve_settings(
    config: Callable[[str], object] | Mapping[str, object],
    environ: Mapping[str, str],
) -> ProviderSettings:
    """The `truto:` settings from stack config, else environment variables; `TrutoConfigError`
    naming the setting when one is not of its type and range."""
    lookup = config.get if isinstance(config, Mapping) else config

    def first(key: str, *, numeric: bool = False) -> str | None:
        for value in (lookup(key), environ.get(_env_name(key))):
            text = _setting_text(key, value, numeric=numeric)
            if text is not None:
                return text
        return None

    numbers: dict[str, Any] = {}
    for key, name, zero_allowed, most in _NUMBERS:
        text = first(key, numeric=True)
        if text is not None:
            numbers[name] = _number(key, text, zero_allowed, most)
    return ProviderSettings(
        api_token=first(API_TOKEN_KEY),
        base_url=(first(BASE_URL_KEY) or DEFAULT_BASE_URL).rstrip("/"),
        **numbers,
    )


def _number(key: str, text: str, zero_allowed: bool, most: int | None) -> float:
    """A numeric setting's value; `TrutoConfigError` naming the setting when out of range."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    named = f"{key} (or {_env_name(key)}) must be a"
    if not (value > 0 or (zero_allowed and value == 0)) or math.isinf(value):
        floor = "0 or more" if zero_allowed else "more than 0"
        raise TrutoConfigError(f"{named} number {floor}, got {text!r}", setting=key)
    if most is None:
        return value
    if value != int(value) or value > most:
        raise TrutoConfigError(f"{named} whole number from 0 to {most}, got {value:g}", setting=key)
    return int(value)


def _env_name(key: str) -> str:
    """The environment variable of a setting: truto:hostConcurrency -> TRUTO_HOST_CONCURRENCY."""
    return "TRUTO_" + "".join(
        "_" + c if c.isupper() else c.upper() for c in key.removeprefix(_NAMESPACE)
    )


def _suggestion(key: str) -> str:
    """`did you mean truto:baseUrl?` for the nearest known key (case aside), else the list."""
    names = {known[len(_NAMESPACE) :].casefold(): known for known in KNOWN_SETTINGS}
    nearest = difflib.get_close_matches(key[len(_NAMESPACE) :].casefold(), list(names), n=1)
    if nearest:
        return f"did you mean {names[nearest[0]]}?"
    return f"the settings are {', '.join(KNOWN_SETTINGS)}"


def program_config() -> dict[str, object]:
    """The stack config a program runs with, as the Pulumi SDK reads it; `TrutoConfigError` for
    a `truto:` key not a setting: a misspelt `truto:baseURL` must not send the token elsewhere."""
    from pulumi.runtime import config

    stack_config = {**(config.get_config_env() or {}), **config.CONFIG.get()}
    unknown = sorted(
        k for k in stack_config if k.startswith(_NAMESPACE) and k not in KNOWN_SETTINGS
    )
    if unknown:
        clauses = [f"unknown setting {key}: {_suggestion(key)}" for key in unknown]
        raise TrutoConfigError(
            f"{'; '.join(clauses)} (nothing was sent to Truto: correct the key in "
            "Pulumi.<stack>.yaml, or remove it with `pulumi config rm <key>`)",
            setting=unknown[0],
        )
    return stack_config


def _setting_text(key: str, value: object, *, numeric: bool) -> str | None:
    """A setting's value as text (a number too, for a numeric one); None when unset or blank."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if numeric and isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    expected = "a number" if numeric else "a string"
    raise TrutoConfigError(
        f"{key} must be {expected}, got a value of type {type(value).__name__}", setting=key
    )


def validated_base_url(base_url: str) -> str:
    """The base URL without trailing slash; `TrutoConfigError` unless an http(s) URL that can be
    the root of Truto's API (a path prefix is allowed, for a proxy)."""
    url = base_url.strip().rstrip("/")
    try:
        parsed = urlsplit(url)
        parsed.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        parsed = None
    problem = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.hostname:
        problem = "it is not an http(s) URL"
    elif any(c.isspace() for c in url):
        problem = "it contains white space"
    elif parsed.username is not None or parsed.password is not None:
        problem = "it carries user info (user:password@); give the token as truto:apiToken"
    elif parsed.query or url.endswith("?"):
        problem = "it has a query string, which would end up inside every request's path"
    elif parsed.fragment or "#" in url:
        problem = "it has a fragment (#...)"
    if problem is not None:
        raise TrutoConfigError(
            f"{BASE_URL_KEY} must be the http(s) URL of Truto's API, such as "
            f"{DEFAULT_BASE_URL}, but {problem}: got {_USERINFO.sub('//', base_url, count=1)!r}",
            setting=BASE_URL_KEY,
        )
    return url


def validate_api_token(api_token: str) -> None:
    """`TrutoConfigError`, never echoing the token, unless it can go in an HTTP header."""
    if not api_token or not api_token.strip():
        raise TrutoConfigError("Truto API token is empty", setting=API_TOKEN_KEY)
    if not api_token.isascii() or not api_token.isprintable() or api_token != api_token.strip():
        raise TrutoConfigError(
            "Truto API token contains characters not allowed in an HTTP header "
            "(non-ASCII, control characters or surrounding whitespace)",
            setting=API_TOKEN_KEY,
        )
