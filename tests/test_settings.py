"""Where the provider reads its settings: stack config first, then environment; typed values
honoured or refused naming the setting; a base URL or token that cannot be right refused by the
client (as by check) without echoing a secret; a misspelt `truto:` key refused naming the
nearest one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from truto_pulumi._client import TrutoClient
from truto_pulumi._errors import TrutoConfigError
from truto_pulumi._settings import DEFAULT_BASE_URL, KNOWN_SETTINGS, resolve_settings
from truto_pulumi.testing import run_program

from .kit import ACCOUNT

ENV = {"TRUTO_API_TOKEN": "env", "TRUTO_BASE_URL": "https://eu.truto"}


@pytest.mark.parametrize(
    ("config", "environ", "expected"),
    [
        pytest.param({}, {}, {"api_token": None, "base_url": DEFAULT_BASE_URL}, id="nothing_set"),
        pytest.param({"truto:apiToken": "cfg"}, {}, {"api_token": "cfg"}, id="config_only"),
        pytest.param({}, ENV, {"api_token": "env", "base_url": "https://eu.truto"}, id="env"),
        pytest.param({"truto:apiToken": "cfg", "truto:baseUrl": "http://127.0.0.1:8787/"}, ENV,
                     {"api_token": "cfg", "base_url": "http://127.0.0.1:8787"},
                     id="config_wins_over_env"),
        pytest.param({"truto:apiToken": "  "}, ENV, {"api_token": "env"}, id="blank_is_unset"),
        pytest.param({"truto:requestTimeoutSeconds": 5}, {}, {"request_timeout": 5.0}, id="int"),
        pytest.param({"truto:requestTimeoutSeconds": " 7 "}, {}, {"request_timeout": 7.0},
                     id="text"),
        pytest.param({"truto:requestTimeoutSeconds": 5}, {"TRUTO_REQUEST_TIMEOUT_SECONDS": "9"},
                     {"request_timeout": 5.0}, id="typed_number_wins_over_env"),
        pytest.param({"truto:operationTimeoutSeconds": 600}, {}, {"operation_timeout": 600.0}),
        pytest.param({"truto:maxRequestsPerSecond": 0}, {}, {"max_requests_per_second": 0.0}),
        pytest.param({"truto:maxRequestsPerSecond": 12.5}, {}, {"max_requests_per_second": 12.5}),
        pytest.param({}, {}, {"host_concurrency": 0}, id="host_left_as_pulumi_made_it"),
        pytest.param({}, {"TRUTO_HOST_CONCURRENCY": "16"}, {"host_concurrency": 16}),
        pytest.param({"truto:hostConcurrency": 64.0}, {}, {"host_concurrency": 64}),
        pytest.param({"truto-program:baseURL": "x", "aws:region": "x", "pulumi:tags": "x",
                      "expiresAt": ""}, {}, {"api_token": None},
                     id="keys_of_other_namespaces_are_not_ours"),
    ],
)  # fmt: skip
def test_settings_come_from_stack_config_then_the_environment_the_token_never_in_repr(
    config: dict[str, Any], environ: dict[str, str], expected: dict[str, Any]
) -> None:
    settings = resolve_settings(config, environ)
    assert {key: getattr(settings, key) for key in expected} == expected
    assert f"'{settings.api_token}'" not in repr(settings)


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("truto:requestTimeoutSeconds", True, "must be a number, got a value of type bool"),
        ("truto:operationTimeoutSeconds", [1], "must be a number, got a value of type list"),
        ("truto:maxRequestsPerSecond", "true", "must be a number 0 or more, got 'true'"),
        ("truto:baseUrl", 8080, "must be a string, got a value of type int"),
        ("truto:apiToken", 12345, "must be a string, got a value of type int"),
        ("truto:apiToken", {"value": "12345"}, "must be a string, got a value of type dict"),
        ("truto:requestTimeoutSeconds", -1, "must be a number more than 0, got '-1'"),
        ("truto:maxRequestsPerSecond", float("inf"), "must be a number 0 or more, got 'inf'"),
        ("truto:hostConcurrency", "4.5", "(or TRUTO_HOST_CONCURRENCY) must be a whole number"),
        ("truto:hostConcurrency", 65, "must be a whole number from 0 to 64, got 65"),
        ("truto:hostConcurrency", -1, "must be a number 0 or more, got '-1'"),
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
        *[(f"https://api.truto.one{tail}", "query string") for tail in ("?env=eu", "/?", "/v1?")],
        *[(f"https://api.truto.one{tail}", "fragment") for tail in ("#frag", "/#")],
        *[(f"https://{user}@api.truto.one", "user info") for user in ("user:sekrit", ":sekrit")],
        *[(f"https://{user}@api.truto.one/v1", "user info (user:password@); give the token as")
          for user in ("sekrit", "user:sekrit")],
        *[(url, "not an http(s) URL") for url in ("ftp://api.truto.one", "https://",
          "ftp://user:sekrit@api.truto.one", "https://api.truto.one:port",
          "https://u:sekrit@api.truto.one:port")],
        ("https://api.truto .one", "white space"),
        *[(url, None) for url in ("https://api.truto.one", "http://127.0.0.1:8787/",
          "https://proxy.example/truto/", "https://proxy.example:8443/truto/v1",
          "http://[::1]:8787")],
    ],
)  # fmt: skip
def test_a_base_url_that_cannot_be_right_is_refused_naming_why_and_a_path_or_port_is_kept(
    url: str, problem: str | None
) -> None:
    if problem is None:
        with TrutoClient(base_url=url, api_token="t") as client:
            assert client.base_url == url.rstrip("/")
        return
    with pytest.raises(TrutoConfigError) as info:
        TrutoClient(base_url=url, api_token="t")
    message = str(info.value)
    assert info.value.setting == "truto:baseUrl"
    assert message.startswith("truto:baseUrl must be the http(s) URL of Truto's API")
    assert problem in message
    assert "sekrit" not in message  # user info is never echoed, whatever else is wrong
    if url.endswith("/v1"):  # echoed without it
        assert message.endswith(": got 'https://api.truto.one/v1'")


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        *[(token, "Truto API token is empty") for token in ("", "   ")],
        *[(token, "contains characters not allowed in an HTTP header")
          for token in ("s3cr\u00e9t", "s3cr\nt", " s3cret")],
    ],
)  # fmt: skip
def test_a_token_that_cannot_go_in_a_header_is_refused_without_echoing_it(
    token: str, problem: str
) -> None:
    with pytest.raises(TrutoConfigError, match=problem) as info:
        TrutoClient(base_url=DEFAULT_BASE_URL, api_token=token)
    assert info.value.setting == "truto:apiToken"
    assert "s3cr" not in str(info.value)


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        *[
            (f"truto:{k}", "did you mean truto:baseUrl?")
            for k in ("baseURL", "baseurl", "base_url")
        ],
        *[(f"truto:{k}", "did you mean truto:apiToken?") for k in ("apitoken", "token")],
        ("truto:maxRequestPerSecond", "did you mean truto:maxRequestsPerSecond?"),
        ("truto:requestTimeout", "did you mean truto:requestTimeoutSeconds?"),
        ("truto:operationTimeoutSecond", "did you mean truto:operationTimeoutSeconds?"),
        ("truto:colour", "the settings are " + ", ".join(KNOWN_SETTINGS)),
    ],
)
def test_a_server_declared_under_a_misspelt_setting_fails_naming_the_nearest_known_key(
    tmp_path: Path, written: str, meant: str
) -> None:
    """At the declaration, before the engine calls the provider, in preview and `up` alike: every
    unknown key in one error (`truto:zone` too), never a value (perhaps a token)."""
    (tmp_path / "__main__.py").write_text(
        "from truto_pulumi import TrutoMcpServer\n"
        f"TrutoMcpServer('reader', integrated_account_id={ACCOUNT!r})\n"
    )
    stack = {"truto:apiToken": "t", written: "http://127.0.0.1:1", "truto:zone": "x"}
    with pytest.raises(TrutoConfigError) as info:
        run_program(tmp_path, config=stack)
    assert info.value.setting == written
    assert str(info.value).startswith(f"unknown setting {written}: {meant}")
    assert "; unknown setting truto:zone: the settings are" in str(info.value)
    assert "127.0.0.1" not in str(info.value)
    assert run_program(tmp_path, config={"truto:apiToken": "t"}).registrations
