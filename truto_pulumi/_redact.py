"""Keep a secret (the API token) out of text a user will see: every form it can take when a
server or a library echoes it (verbatim, JSON-, percent- or HTML-encoded, base64), and every run of
`_MIN_FRAGMENT` or more of its characters, so that no cut can leave a recognisable piece."""

from __future__ import annotations

import base64
import re

MASK = "***"
_MIN_FRAGMENT = 8

# One character as it may appear in echoed text: JSON-escaped (`\u002f`, `\/`, also escaped
# twice), percent-encoded (also twice: `%252F`), an HTML character reference, or itself.
_ENCODED_CHAR = re.compile(
    r"\\+u(?P<json>[0-9a-fA-F]{4})"
    r'|\\+(?P<escaped>[/\\"])'
    r"|%(?:25)*(?P<percent>[0-9a-fA-F]{2})"
    r"|&#(?P<decimal>[0-9]{1,7});"
    r"|&#[xX](?P<hex>[0-9a-fA-F]{1,6});"
    r"|(?P<plain>.)",
    re.DOTALL,
)
_Unit = tuple[int, int, str]
"""Where a character of the text starts and ends, and the characters it may stand for."""


def _units(text: str, *, decoded: bool) -> list[_Unit]:
    """`text` a character (`decoded`: an encoded one) at a time; `+` is itself or a space."""
    if not decoded:
        return [(i, i + 1, "+ " if char == "+" else char) for i, char in enumerate(text)]
    units = []
    for match in _ENCODED_CHAR.finditer(text):
        number = match["json"] or match["percent"] or match["hex"]
        if number is None and match["decimal"] is None:
            chars = match["plain"] or match["escaped"]
            chars = "+ " if chars == "+" else chars
        else:
            code = int(number, 16) if number is not None else int(match["decimal"])
            chars = chr(code) if code <= 0x10FFFF else ""
        units.append((match.start(), match.end(), chars))
    return units


def _base64_cores(secret: str) -> list[str]:
    """The base64 characters (standard and URL-safe) that encode `secret` alone, at each of the
    three byte alignments: `secret` inside any base64 text shows one of them."""
    raw = secret.encode()
    cores = []
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode()
        # Character i carries bits 6i..6i+5: keep those inside the secret's bytes.
        core = encoded[-(-8 * shift // 6) : (8 * (shift + len(raw)) - 6) // 6 + 1]
        cores += [core, core.translate(str.maketrans("+/", "-_"))]
    return cores


def _fragment_spans(units: list[_Unit], form: str, shortest: int) -> list[tuple[int, int]]:
    """Character spans of `units` spelling `shortest` or more consecutive characters of `form`."""
    offsets: dict[str, list[int]] = {}
    for offset, char in enumerate(form):
        offsets.setdefault(char, []).append(offset)
    spans: list[tuple[int, int]] = []
    runs: dict[int, int] = {}
    for last, (_, end, chars) in enumerate(units):
        # runs[j]: how many units, up to this one, spell `form` up to its character j
        runs = {j: runs.get(j - 1, 0) + 1 for char in chars for j in offsets.get(char, ())}
        longest = max(runs.values(), default=0)
        if longest >= shortest:
            spans.append((units[last - longest + 1][0], end))
    return spans


def scrubbed(text: str, secret: str) -> str:
    """`text` with `secret`, and every run of `_MIN_FRAGMENT` of its characters, in any form as
    `***`."""
    if not secret or not text:
        return text
    decoded, shortest = _units(text, decoded=True), min(_MIN_FRAGMENT, len(secret))
    spans = _fragment_spans(_units(text, decoded=False), secret, shortest)
    spans += _fragment_spans(decoded, secret, shortest)
    shortest_base64 = -(-_MIN_FRAGMENT * 4 // 3)
    for core in _base64_cores(secret):
        if len(core) >= shortest_base64:
            spans += _fragment_spans(decoded, core, shortest_base64)
    pieces, done = [], 0
    for start, end in sorted(spans):
        if end > done:
            pieces += [text[done:start], MASK] if start >= done else []
            done = end
    return "".join([*pieces, text[done:]])


def scrub_exception_chain(exc: BaseException, secret: str) -> None:
    """Scrub `secret` from the arguments of `exc` and of its causes: a traceback prints them."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.args = tuple(scrubbed(a, secret) if isinstance(a, str) else a for a in current.args)
        if isinstance(current, OSError) and isinstance(current.strerror, str):
            current.strerror = scrubbed(current.strerror, secret)  # what str() shows
        current = current.__cause__ or current.__context__
