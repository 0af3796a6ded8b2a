"""Where the provider reads its token and base URL: stack config first, then environment."""

from __future__ import annotations

import pytest

from truto_pulumi._errors import TrutoConfigError
from truto_pulumi._settings import DEFAULT_BASE_URL, resolve_settings, validated_base_url


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
    ("key", "value", "expected"),
    [
        pytest.param("truto:requestTimeoutSeconds", 5, 5.0, id="int"),
        pytest.param("truto:requestTimeoutSeconds", 2.5, 2.5, id="float"),
        pytest.param("truto:requestTimeoutSeconds", "7", 7.0, id="string"),
        pytest.param("truto:requestTimeoutSeconds", " 7 ", 7.0, id="string_with_spaces"),
        pytest.param("truto:operationTimeoutSeconds", 600, 600.0, id="operation_int"),
        pytest.param("truto:maxRequestsPerSecond", 0, 0.0, id="rate_int_zero_turns_it_off"),
        pytest.param("truto:maxRequestsPerSecond", 12.5, 12.5, id="rate_float"),
    ],
)
def test_typed_numbers_are_honoured_not_replaced_by_the_default(
    key: str, value: object, expected: float
) -> None:
    settings = resolve_settings({key: value}, {})
    attribute = {
        "truto:requestTimeoutSeconds": "request_timeout",
        "truto:operationTimeoutSeconds": "operation_timeout",
        "truto:maxRequestsPerSecond": "max_requests_per_second",
    }[key]
    assert getattr(settings, attribute) == expected


def test_a_typed_number_in_stack_config_wins_over_the_environment() -> None:
    settings = resolve_settings(
        {"truto:requestTimeoutSeconds": 5}, {"TRUTO_REQUEST_TIMEOUT_SECONDS": "9"}
    )
    assert settings.request_timeout == 5.0


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
        pytest.param(
            "truto:apiToken",
            {"value": "12345"},
            "must be a string, got a value of type dict",
            id="token_dict",
        ),
        pytest.param(
            "truto:baseUrl", True, "must be a string, got a value of type bool", id="url_bool"
        ),
        pytest.param(
            "truto:requestTimeoutSeconds",
            -1,
            "must be a number more than 0, got '-1'",
            id="negative_int",
        ),
        pytest.param(
            "truto:maxRequestsPerSecond",
            float("inf"),
            "must be a number 0 or more, got 'inf'",
            id="infinite_float",
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
        pytest.param("https://api.truto.one/v1?", "query string", id="empty_query_after_path"),
        pytest.param("https://api.truto.one#frag", "fragment", id="fragment"),
        pytest.param("https://api.truto.one/#", "fragment", id="empty_fragment"),
        pytest.param("https://user:sekrit@api.truto.one", "user info", id="user_info"),
        pytest.param("https://sekrit@api.truto.one/v1", "user info", id="user_only"),
        pytest.param("https://:sekrit@api.truto.one", "user info", id="password_only"),
        pytest.param("ftp://api.truto.one", "not an http(s) URL", id="scheme"),
        pytest.param("ftp://user:sekrit@api.truto.one", "not an http(s) URL", id="scheme_user"),
        pytest.param("https://", "not an http(s) URL", id="no_host"),
        pytest.param("https://api.truto.one:port", "not an http(s) URL", id="bad_port"),
        pytest.param("https://u:sekrit@api.truto.one:port", "not an http(s) URL", id="port_user"),
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
    assert "sekrit" not in message  # user info is never echoed, whatever else is wrong


def test_a_refused_base_url_is_echoed_without_its_user_info() -> None:
    with pytest.raises(TrutoConfigError) as info:
        validated_base_url("https://user:sekrit@api.truto.one/v1")
    assert str(info.value).endswith(": got 'https://api.truto.one/v1'")


@pytest.mark.parametrize(
    "url",
    [
        "https://api.truto.one",
        "http://127.0.0.1:8787/",
        "https://proxy.example/truto/",
        "https://proxy.example:8443/truto/v1",
        "http://[::1]:8787",
    ],
)
def test_base_url_with_a_path_prefix_or_port_is_accepted(url: str) -> None:
    assert validated_base_url(url) == url.rstrip("/")


def test_a_config_error_names_its_setting_only_when_given_by_keyword() -> None:
    assert TrutoConfigError("no token").setting is None
    assert TrutoConfigError("bad", setting="truto:baseUrl").setting == "truto:baseUrl"
    with pytest.raises(TypeError):
        TrutoConfigError("bad", "truto:baseUrl")  # type: ignore[call-arg]
