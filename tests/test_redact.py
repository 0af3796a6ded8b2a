"""`truto_pulumi._redact`: the API token kept out of text, in every form it can be echoed in
(verbatim, JSON-, percent- or HTML-encoded, base64) and any 8 of its characters in a row. That
the client's messages go through it is in `test_client.py`."""

from __future__ import annotations

import base64
import json
import traceback
from collections.abc import Callable
from urllib.parse import quote, quote_plus

import pytest

from truto_pulumi._redact import scrub_exception_chain, scrubbed

from .kit import ODD_TOKEN, shows_token
from .kit import json_unicode as _json_unicode


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(f"token {ODD_TOKEN} is invalid", "token *** is invalid", id="verbatim"),
        pytest.param(json.dumps(ODD_TOKEN).replace("/", "\\/"), '"***"', id="json_slash"),
        pytest.param(_json_unicode(ODD_TOKEN), "***", id="json_unicode_every_char"),
        pytest.param(_json_unicode(ODD_TOKEN, "04X"), "***", id="json_unicode_upper_hex"),
        pytest.param(
            ODD_TOKEN.replace("+", "\\u002B").replace('"', "\\u0022"),
            "***",
            id="json_unicode_some_chars",
        ),
        pytest.param(json.dumps(json.dumps(ODD_TOKEN)), '"\\"***\\""', id="json_twice"),
        pytest.param(f"?t={quote(ODD_TOKEN, safe='')}&x=1", "?t=***&x=1", id="percent"),
        pytest.param(quote(ODD_TOKEN, safe="").lower(), "***", id="percent_lower_hex"),
        pytest.param(f"?t={quote_plus(ODD_TOKEN)}", "?t=***", id="query_plus_for_space"),
        pytest.param(quote(quote(ODD_TOKEN, safe=""), safe=""), "***", id="percent_twice"),
        pytest.param("".join(f"&#{ord(c)};" for c in ODD_TOKEN), "***", id="html_decimal"),
        pytest.param("".join(f"&#x{ord(c):x};" for c in ODD_TOKEN), "***", id="html_hex"),
        pytest.param(base64.b64encode(ODD_TOKEN.encode()).decode(), "***", id="base64"),
        pytest.param(f"Bearer {ODD_TOKEN[:13]}…", "Bearer ***…", id="prefix_fragment"),
        pytest.param(f"…{ODD_TOKEN[-9:]} rejected", "…*** rejected", id="suffix_fragment"),
        pytest.param(f"[{ODD_TOKEN[10:18]}]", "[***]", id="inner_fragment_of_8"),
        pytest.param(f"{ODD_TOKEN}{ODD_TOKEN}", "******", id="twice_in_a_row"),
        pytest.param(f"[{ODD_TOKEN[:7]}]", f"[{ODD_TOKEN[:7]}]", id="fragment_of_7_kept"),
        pytest.param("id 4f9c-2b7e, code a1d0", "id 4f9c-2b7e, code a1d0", id="unrelated"),
    ],
)
def test_scrubbed_replaces_the_token_in_every_form_and_any_8_characters_of_it(
    text: str, expected: str
) -> None:
    assert scrubbed(text, ODD_TOKEN) == expected


def b64(text: str, encode: Callable[[bytes], bytes] = base64.b64encode) -> str:
    return encode(text.encode()).decode()


TILDES = "tok" + "~" * 21 + "??"
"""A secret whose base64 holds `+` and `/`, so that its URL-safe base64 differs."""


@pytest.mark.parametrize(
    ("text", "secret", "expected"),
    [
        pytest.param(f"seen: {b64(f'Bearer {ODD_TOKEN}')} (echoed)", ODD_TOKEN,
                     "seen: QmVhcmVyIH***g== (echoed)", id="base64_bearer_header"),
        pytest.param(b64(f"user:{ODD_TOKEN}"), ODD_TOKEN, "dXNlcjp***I=", id="base64_basic_auth"),
        pytest.param(b64(f"Bearer {TILDES}", base64.urlsafe_b64encode), TILDES, "QmVhcmVyIH***",
                     id="url_safe_base64"),
        pytest.param(b64(f"user:{TILDES}"), TILDES, "dXNlcjp***w==", id="standard_base64"),
        pytest.param("key abc here", "abc", "key *** here", id="short_secret_masked_whole"),
        pytest.param("key abc here", "", "key abc here", id="no_secret_masks_nothing"),
        pytest.param("", "abc", "", id="no_text"),
    ],
)  # fmt: skip
def test_scrubbed_finds_base64_at_any_alignment_masks_a_short_secret_whole_and_no_secret_never(
    text: str, secret: str, expected: str
) -> None:
    assert scrubbed(text, secret) == expected


def test_scrub_exception_chain_masks_the_token_in_every_cause_and_an_os_errors_text() -> None:
    refused = OSError(111, f"proxy refused {ODD_TOKEN}")
    header = ValueError(f"bad header Bearer {ODD_TOKEN}", 42)
    failed = RuntimeError(f"request failed: {quote(ODD_TOKEN, safe='')}")
    header.__cause__, failed.__context__ = refused, header
    refused.__context__ = failed  # a cycle of causes ends the walk too

    scrub_exception_chain(failed, ODD_TOKEN)

    assert failed.args == ("request failed: ***",)
    assert header.args == ("bad header Bearer ***", 42)
    assert (refused.args, refused.strerror) == ((111, "proxy refused ***"), "proxy refused ***")
    assert shows_token("".join(traceback.format_exception(failed))) == []
