"""Where the provider reads its token and base URL: stack config first, then environment."""

from __future__ import annotations

import pytest

from truto_pulumi.errors import TrutoConfigError
from truto_pulumi.settings import DEFAULT_BASE_URL, resolve_settings, validated_base_url


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


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        pytest.param(5, 5.0, id="int"),
        pytest.param(2.5, 2.5, id="float"),
        pytest.param("7", 7.0, id="string"),
        pytest.param(" 7 ", 7.0, id="string_with_spaces"),
    ],
)
def test_typed_numbers_are_honoured_not_replaced_by_the_default(
    value: object, seconds: float
) -> None:
    settings = resolve_settings({"truto:requestTimeoutSeconds": value}, {})
    assert settings.request_timeout == seconds


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        pytest.param(
            "truto:requestTimeoutSeconds",
            True,
            "must be a number, got a value of type bool",
            id="bool",
        ),
        pytest.param(
            "truto:operationTimeoutSeconds",
            [1],
            "must be a number, got a value of type list",
            id="list",
        ),
        pytest.param(
            "truto:maxRequestsPerSecond",
            "true",
            "must be a number 0 or more, got 'true'",
            id="text",
        ),
        pytest.param(
            "truto:baseUrl", 8080, "must be a string, got a value of type int", id="url_int"
        ),
        pytest.param(
            "truto:apiToken", 12345, "must be a string, got a value of type int", id="token_int"
        ),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_naming_the_setting(
    key: str, value: object, reason: str
) -> None:
    with pytest.raises(TrutoConfigError) as info:
        resolve_settings({key: value}, {"TRUTO_REQUEST_TIMEOUT_SECONDS": "9"})
    assert info.value.setting == key
    assert str(info.value).startswith(key)
    assert reason in str(info.value)
    assert "12345" not in str(info.value)  # a token is never echoed


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        pytest.param("https://api.truto.one?env=eu", "query string", id="query"),
        pytest.param("https://api.truto.one/?", "query string", id="empty_query"),
        pytest.param("https://api.truto.one#frag", "fragment", id="fragment"),
        pytest.param("https://user:pw@api.truto.one", "user info", id="user_info"),
        pytest.param("ftp://api.truto.one", "not an http(s) URL", id="scheme"),
        pytest.param("https://", "not an http(s) URL", id="no_host"),
        pytest.param("https://api.truto.one:port", "not an http(s) URL", id="bad_port"),
        pytest.param("https://api.truto .one", "white space", id="space"),
    ],
)
def test_base_url_that_cannot_be_right_is_refused_naming_why(url: str, problem: str) -> None:
    with pytest.raises(TrutoConfigError) as info:
        validated_base_url(url)
    message = str(info.value)
    assert info.value.setting == "truto:baseUrl"
    assert message.startswith("truto:baseUrl must be the http(s) URL of Truto's API")
    assert problem in message
    assert "pw" not in message


@pytest.mark.parametrize(
    "url",
    ["https://api.truto.one", "http://127.0.0.1:8787/", "https://proxy.example/truto/"],
)
def test_base_url_with_a_path_prefix_or_port_is_accepted(url: str) -> None:
    assert validated_base_url(url) == url.rstrip("/")
