"""Where the provider reads its token and base URL: stack config first, then environment."""

from __future__ import annotations

import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from truto_pulumi._errors import TrutoConfigError
from truto_pulumi._settings import (
    DEFAULT_BASE_URL,
    KNOWN_SETTINGS,
    resolve_settings,
    unknown_settings_problem,
    validated_base_url,
)
from truto_pulumi.provider import TrutoMcpServerProvider

from .kit import ACCOUNT


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
        pytest.param("truto:hostConcurrency", 32, 32, id="host_int"),
        pytest.param("truto:hostConcurrency", "0", 0, id="host_zero_leaves_the_host_as_it_is"),
        pytest.param("truto:hostConcurrency", 64.0, 64, id="host_whole_float"),
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
        "truto:hostConcurrency": "host_concurrency",
    }[key]
    assert getattr(settings, attribute) == expected


def test_the_host_is_left_as_pulumi_made_it_unless_told_otherwise() -> None:
    assert resolve_settings({}, {}).host_concurrency == 0
    assert resolve_settings({}, {"TRUTO_HOST_CONCURRENCY": "16"}).host_concurrency == 16
    assert resolve_settings({"truto:hostConcurrency": 8}, {}).host_concurrency == 8


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
        pytest.param(
            "truto:hostConcurrency",
            "4.5",
            "(or TRUTO_HOST_CONCURRENCY) must be a whole number from 0 to 64, got 4.5",
            id="host_fraction",
        ),
        pytest.param(
            "truto:hostConcurrency",
            65,
            "must be a whole number from 0 to 64, got 65",
            id="host_too_many",
        ),
        pytest.param(
            "truto:hostConcurrency", -1, "must be a number 0 or more, got '-1'", id="host_negative"
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


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        pytest.param("truto:baseURL", "truto:baseUrl", id="base_url_case"),
        pytest.param("truto:baseurl", "truto:baseUrl", id="base_url_lower"),
        pytest.param("truto:base_url", "truto:baseUrl", id="base_url_snake"),
        pytest.param("truto:apitoken", "truto:apiToken", id="token_case"),
        pytest.param("truto:token", "truto:apiToken", id="token_short"),
        pytest.param("truto:maxRequestPerSecond", "truto:maxRequestsPerSecond", id="rate"),
        pytest.param("truto:requestTimeout", "truto:requestTimeoutSeconds", id="request_timeout"),
        pytest.param(
            "truto:operationTimeoutSecond", "truto:operationTimeoutSeconds", id="operation"
        ),
    ],
)
def test_a_misspelt_setting_is_refused_naming_the_nearest_known_key(
    written: str, meant: str
) -> None:
    config = {"truto:apiToken": "t", written: "http://127.0.0.1:1"}
    with pytest.raises(TrutoConfigError) as info:
        resolve_settings(config, {})
    assert info.value.setting == written
    assert str(info.value).startswith(f"unknown setting {written}: did you mean {meant}?")
    assert "127.0.0.1" not in str(info.value)  # a value (perhaps a token) is never echoed


def test_a_setting_like_no_other_is_refused_listing_the_known_ones() -> None:
    problem = unknown_settings_problem(["truto:colour"])
    assert problem is not None
    assert str(problem).startswith(
        "unknown setting truto:colour: the settings are " + ", ".join(KNOWN_SETTINGS)
    )


def test_every_unknown_setting_is_named_in_one_error() -> None:
    problem = unknown_settings_problem(["truto:zone", "truto:baseURL", "truto:apiToken"])
    assert problem is not None
    assert problem.setting == "truto:baseURL"
    assert "unknown setting truto:baseURL: did you mean truto:baseUrl?" in str(problem)
    assert "unknown setting truto:zone: the settings are" in str(problem)


@pytest.mark.parametrize(
    "key",
    ["truto-program:baseURL", "truto-mcp:apiToken", "aws:region", "pulumi:tags", "expiresAt"],
)
def test_keys_of_other_namespaces_are_not_the_providers_to_judge(key: str) -> None:
    settings = resolve_settings({key: "x", "truto:apiToken": "t"}, {})
    assert settings.api_token == "t"
    assert unknown_settings_problem([key, *KNOWN_SETTINGS]) is None


def test_the_whole_stack_config_is_judged_as_the_provider_host_hands_it_over() -> None:
    # The provider passes `ConfigureRequest.config.get`: the keys are found behind it.
    config = Config({"truto:apiToken": "t", "truto:baseURL": "http://x"}, project_name="p")
    with pytest.raises(TrutoConfigError, match="did you mean truto:baseUrl"):
        resolve_settings(config.get, {})


def test_an_unknown_setting_wins_over_the_environment_fallback() -> None:
    environ = {"TRUTO_API_TOKEN": "env", "TRUTO_BASE_URL": "http://127.0.0.1:8787"}
    assert resolve_settings({}, environ).base_url == "http://127.0.0.1:8787"
    with pytest.raises(TrutoConfigError, match="unknown setting truto:baseURL"):
        resolve_settings({"truto:baseURL": "http://127.0.0.1:8787"}, environ)


def test_a_misspelt_setting_fails_check_and_every_operation_before_any_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TRUTO_API_TOKEN", raising=False)
    monkeypatch.delenv("TRUTO_BASE_URL", raising=False)
    provider = TrutoMcpServerProvider()
    stack = {"truto:apiToken": "t", "truto:baseURL": "http://127.0.0.1:1"}
    provider.configure(ConfigureRequest(Config(stack, project_name="p")))
    inputs = {"integrated_account_id": ACCOUNT, "name": "reader", "__provider": "x"}

    (failure,) = provider.check({}, inputs).failures
    assert failure.property == "truto:baseURL"
    assert "did you mean truto:baseUrl?" in failure.reason
    with pytest.raises(TrutoConfigError, match="unknown setting truto:baseURL"):
        provider.create(inputs)  # `up` cannot reach the default URL with the token
    with pytest.raises(TrutoConfigError, match="unknown setting truto:baseURL"):
        provider.delete("server-id", inputs)
