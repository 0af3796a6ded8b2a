"""The exception tree of `truto_pulumi._errors`: where each class sits, which class each HTTP
error status maps to, what each error carries, and `explained` keeping all of an API error but
its message. That the client raises them is in `test_client.py`."""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pytest

from truto_pulumi import _errors
from truto_pulumi._errors import (
    TrutoApiError,
    TrutoAuthError,
    TrutoConfigError,
    TrutoCreateError,
    TrutoDeadlineError,
    TrutoError,
    TrutoLookupError,
    TrutoNotFoundError,
    TrutoRateLimitedError,
    TrutoServerError,
    TrutoTransportError,
    TrutoValidationError,
    api_error_for_status,
)

from .kit import STATUS_ERRORS

TREE: dict[type[Exception], type[Exception]] = {
    TrutoError: Exception,
    TrutoConfigError: TrutoError,
    TrutoTransportError: TrutoError,
    TrutoDeadlineError: TrutoError,
    TrutoCreateError: TrutoError,
    TrutoLookupError: TrutoError,
    TrutoApiError: TrutoError,
    TrutoAuthError: TrutoApiError,
    TrutoNotFoundError: TrutoApiError,
    TrutoValidationError: TrutoApiError,
    TrutoRateLimitedError: TrutoApiError,
    TrutoServerError: TrutoApiError,
}
"""Each class and its parent, as the module docstring draws the tree."""

MARK = "[pulumi creating 0123456789ab-01234567]"


def test_every_class_of_the_module_is_in_the_documented_tree_and_a_truto_error() -> None:
    defined = {
        value
        for value in vars(_errors).values()
        if isinstance(value, type) and value.__module__ == _errors.__name__
    }
    assert defined == set(TREE)
    assert all(issubclass(error_type, TrutoError) for error_type in defined)


@pytest.mark.parametrize(
    ("error_type", "parent"), list(TREE.items()), ids=[t.__name__ for t in TREE]
)
def test_each_error_class_sits_under_its_documented_parent(
    error_type: type[Exception], parent: type[Exception]
) -> None:
    assert error_type.__bases__[0] is parent
    assert error_type.__bases__[1:] == (
        (pulumi.RunError,) if error_type is TrutoLookupError else ()
    )


@pytest.mark.parametrize(("status", "error_type"), STATUS_ERRORS)
def test_each_error_status_maps_to_the_class_the_module_documents(
    status: int, error_type: type[TrutoApiError]
) -> None:
    assert api_error_for_status(status) is error_type


@pytest.mark.parametrize(
    ("error_type", "status"),
    [
        (TrutoApiError, 418),
        (TrutoAuthError, 403),
        (TrutoNotFoundError, 410),
        (TrutoValidationError, 409),
        (TrutoRateLimitedError, 429),
        (TrutoServerError, 503),
    ],
)
def test_explained_keeps_type_status_method_path_and_retry_after_and_replaces_the_message(
    error_type: type[TrutoApiError], status: int
) -> None:
    path = "/integrated-account/a/mcp/s"
    truto_said = error_type(
        status_code=status, method="DELETE", path=path, message="Truto's words", retry_after=2.5
    )

    explained = truto_said.explained("what to do about it")

    assert type(explained) is error_type
    assert (explained.status_code, explained.method, explained.path, explained.retry_after) == (
        status,
        "DELETE",
        path,
        2.5,
    )
    assert explained.message == "what to do about it"
    assert str(explained) == f"Truto answered {status} to DELETE {path}: what to do about it"
    assert truto_said.message == "Truto's words"


@pytest.mark.parametrize(
    ("message", "text"),
    [
        ("MCP server not found", "Truto answered 404 to GET /p: MCP server not found"),
        ("", "Truto answered 404 to GET /p"),
    ],
)
def test_an_api_error_says_status_method_path_and_trutos_words_when_it_has_any(
    message: str, text: str
) -> None:
    error = TrutoNotFoundError(status_code=404, method="GET", path="/p", message=message)
    assert str(error) == text
    assert error.retry_after is None


RETRIED = TrutoServerError(status_code=503, method="GET", path="/p", message="down")


@pytest.mark.parametrize(
    ("error", "carries"),
    [
        (TrutoConfigError("no token"), {"setting": None}),
        (TrutoConfigError("bad", setting="truto:baseUrl"), {"setting": "truto:baseUrl"}),
        (TrutoLookupError("get_mcp_servers: check truto:baseUrl", setting="truto:baseUrl"),
         {"setting": "truto:baseUrl"}),
        (TrutoTransportError("dropped", method="POST", path="/mcp", request_sent=True),
         {"method": "POST", "path": "/mcp", "request_sent": True}),
        (TrutoDeadlineError("gave up", method="GET", path="/p", last_error=RETRIED),
         {"method": "GET", "path": "/p", "last_error": RETRIED}),
        (TrutoDeadlineError("waited", method="GET", path="/p"), {"last_error": None}),
        (TrutoCreateError("lost", mark=MARK), {"mark": MARK, "server_id": None}),
        (TrutoCreateError("interrupted", mark=MARK, server_id="s-1"),
         {"mark": MARK, "server_id": "s-1"}),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else "",
)  # fmt: skip
def test_each_error_says_its_message_and_carries_what_it_was_given(
    error: TrutoError, carries: dict[str, object]
) -> None:
    assert str(error) == error.args[0]
    assert {key: getattr(error, key) for key in carries} == carries


@pytest.mark.parametrize(
    "make",
    [
        lambda: TrutoConfigError("bad", "truto:baseUrl"),  # type: ignore[call-arg]
        lambda: TrutoTransportError("dropped", method="POST", path="/mcp"),  # type: ignore[call-arg]
        lambda: TrutoCreateError("lost"),  # type: ignore[call-arg]
        lambda: TrutoCreateError("lost", MARK),  # type: ignore[call-arg]
    ],
    ids=["config_setting_by_position", "transport_without_request_sent", "create_without_mark",
         "create_mark_by_position"],
)  # fmt: skip
def test_an_errors_details_are_given_by_keyword_and_none_required_may_be_left_out(
    make: Callable[[], TrutoError],
) -> None:
    with pytest.raises(TypeError):
        make()
