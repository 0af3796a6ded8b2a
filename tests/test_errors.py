"""The exception tree of `truto_pulumi._errors`, and `explained` keeping all of an API error but
its message. Which status raises which class, and the details a raised error carries, are the
tests' of the code that raises it (`test_client.py`, `test_create.py`, `test_settings.py`...)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pulumi import RunError

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
)

TREE: dict[type[Exception], tuple[type[Exception], ...]] = {
    TrutoError: (Exception,),
    TrutoConfigError: (TrutoError,),
    TrutoTransportError: (TrutoError,),
    TrutoDeadlineError: (TrutoError,),
    TrutoCreateError: (TrutoError,),
    TrutoLookupError: (TrutoError, RunError),
    TrutoApiError: (TrutoError,),
    TrutoAuthError: (TrutoApiError,),
    TrutoNotFoundError: (TrutoApiError,),
    TrutoValidationError: (TrutoApiError,),
    TrutoRateLimitedError: (TrutoApiError,),
    TrutoServerError: (TrutoApiError,),
}
"""Each class and its bases, as the module docstring draws the tree."""

MARK = "[pulumi creating 0123456789ab-01234567]"


def test_the_module_defines_exactly_the_documented_tree() -> None:
    defined = {
        value
        for value in vars(_errors).values()
        if isinstance(value, type) and value.__module__ == _errors.__name__
    }
    assert {error_type: error_type.__bases__ for error_type in defined} == TREE


@pytest.mark.parametrize(
    "error_type",
    [TrutoApiError, TrutoAuthError, TrutoNotFoundError, TrutoValidationError,
     TrutoRateLimitedError, TrutoServerError],
)  # fmt: skip
def test_explained_keeps_type_status_method_path_and_retry_after_and_replaces_the_message(
    error_type: type[TrutoApiError],
) -> None:
    path = "/integrated-account/a/mcp/s"
    said = error_type(status_code=418, method="DELETE", path=path, message="-", retry_after=2.5)
    explained = said.explained("what to do about it")
    assert type(explained) is error_type
    assert vars(explained) == {**vars(said), "message": "what to do about it"}
    assert str(explained) == f"Truto answered 418 to DELETE {path}: what to do about it"
    assert str(said.explained("")) == f"Truto answered 418 to DELETE {path}"  # no words: no colon


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
