"""`explained` keeping all of an API error but its message, and an error's details given by
keyword. The tree is `test_public_api.py`'s; which status raises which class, and what a raised
error carries, are the tests' of the code that raises it (`test_client.py`, `test_create.py`...)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from truto_pulumi import _errors
from truto_pulumi._errors import TrutoApiError, TrutoError


@pytest.mark.parametrize(
    "error_type", [TrutoApiError, *TrutoApiError.__subclasses__()], ids=lambda t: t.__name__
)
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
        lambda: _errors.TrutoConfigError("bad", "truto:baseUrl"),  # type: ignore[call-arg]
        lambda: _errors.TrutoTransportError("dropped", method="POST", path="/mcp"),  # type: ignore[call-arg]
        lambda: _errors.TrutoCreateError("lost"),  # type: ignore[call-arg]
        lambda: _errors.TrutoCreateError("lost", "[pulumi creating 0123456789ab-01234567]"),  # type: ignore[call-arg]
    ],
    ids=["config_setting_by_position", "transport_without_request_sent", "create_without_mark",
         "create_mark_by_position"],
)  # fmt: skip
def test_an_errors_details_are_given_by_keyword_and_none_required_may_be_left_out(
    make: Callable[[], TrutoError],
) -> None:
    with pytest.raises(TypeError):
        make()
