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

from .kit import ODD_TOKEN, json_unicode, shows_token


def b64(text: str, encode: Callable[[bytes], bytes] = base64.b64encode) -> str:
    return encode(text.encode()).decode()


TILDES = "tok" + "~" * 21 + "??"
"""A secret whose base64 holds `+` and `/`, so that its URL-safe base64 differs."""
ODD_FORMS = {
    "verbatim": (f"token {ODD_TOKEN} is invalid", "token *** is invalid"),
    "json_slash": (json.dumps(ODD_TOKEN).replace("/", "\\/"), '"***"'),
    "json_unicode_every_char": (json_unicode(ODD_TOKEN), "***"),
    "json_unicode_upper_hex": (json_unicode(ODD_TOKEN, "04X"), "***"),
    "json_unicode_some_chars": (ODD_TOKEN.replace("+", "\\u002B").replace('"', "\\u0022"), "***"),
    "json_twice": (json.dumps(json.dumps(ODD_TOKEN)), '"\\"***\\""'),
    "percent": (f"?t={quote(ODD_TOKEN, safe='')}&x=1", "?t=***&x=1"),
    "percent_lower_hex": (quote(ODD_TOKEN, safe="").lower(), "***"),
    "query_plus_for_space": (f"?t={quote_plus(ODD_TOKEN)}", "?t=***"),
    "percent_twice": (quote(quote(ODD_TOKEN, safe=""), safe=""), "***"),
    "html_decimal": ("".join(f"&#{ord(c)};" for c in ODD_TOKEN), "***"),
    "html_hex": ("".join(f"&#x{ord(c):x};" for c in ODD_TOKEN), "***"),
    "base64": (b64(ODD_TOKEN), "***"),
    "prefix_fragment": (f"Bearer {ODD_TOKEN[:13]}…", "Bearer ***…"),
    "suffix_fragment": (f"…{ODD_TOKEN[-9:]} rejected", "…*** rejected"),
    "inner_fragment_of_8": (f"[{ODD_TOKEN[10:18]}]", "[***]"),
    "twice_in_a_row": (f"{ODD_TOKEN}{ODD_TOKEN}", "******"),
    "fragment_of_7_kept": (f"[{ODD_TOKEN[:7]}]", f"[{ODD_TOKEN[:7]}]"),
    "unrelated": ("id 4f9c-2b7e, code a1d0", "id 4f9c-2b7e, code a1d0"),
    # base64 at any alignment
    "base64_bearer_header": (
        f"seen: {b64(f'Bearer {ODD_TOKEN}')} (echoed)",
        "seen: QmVhcmVyIH***g== (echoed)",
    ),
    "base64_basic_auth": (b64(f"user:{ODD_TOKEN}"), "dXNlcjp***I="),
}


@pytest.mark.parametrize(
    ("text", "secret", "expected"),
    [pytest.param(text, ODD_TOKEN, expected, id=name)
     for name, (text, expected) in ODD_FORMS.items()]
    + [
        pytest.param(b64(f"Bearer {TILDES}", base64.urlsafe_b64encode), TILDES, "QmVhcmVyIH***",
                     id="url_safe_base64"),
        pytest.param(b64(f"user:{TILDES}"), TILDES, "dXNlcjp***w==", id="standard_base64"),
        pytest.param("key abc here", "abc", "key *** here", id="short_secret_masked_whole"),
        pytest.param("key abc here", "", "key abc here", id="no_secret_masks_nothing"),
        pytest.param("", "abc", "", id="no_text"),
    ],
)  # fmt: skip
def test_scrubbed_replaces_the_token_in_every_form_and_any_8_characters_of_it(
    text: str, secret: str, expected: str
) -> None:
    """Base64 at any alignment; a short secret masked whole, and no secret never."""
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
