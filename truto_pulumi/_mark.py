"""The mark a create puts in its server's name until the rename, `reader [pulumi creating
3f2a9c01b7de-5e0c41aa9d27b310]`: the *stack tag* (a hash of the URN's project and stack) and a
*nonce* per POST, so a lost POST's server is known exactly (`_create`). Releases up to 0.2.0 drew
8-hex nonces (`CreateMark.legacy`)."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

_MARK = re.compile(
    r"(?P<name>.*) \[pulumi creating (?P<stack>[0-9a-f]{12})-(?P<nonce>[0-9a-f]{16}|[0-9a-f]{8})\]",
    re.DOTALL,
)
"""A marked name: the stack tag is 12 hex digits, the nonce 16 (8 up to release 0.2.0)."""


def stack_tag(urn: str | None) -> str | None:
    """The tag of the stack of a URN (`urn:pulumi:STACK::PROJECT::...`); None without one."""
    if urn is None or not urn.startswith("urn:pulumi:"):
        return None
    stack, _, rest = urn[len("urn:pulumi:") :].partition("::")
    return hashlib.sha256(f"{rest.partition('::')[0]}::{stack}".encode()).hexdigest()[:12]


@dataclass(frozen=True)
class CreateMark:
    """The mark of one POST: the stack's tag and the POST's own nonce."""

    stack: str
    nonce: str

    @classmethod
    def drawn(cls, urn: str | None) -> CreateMark:
        """A fresh mark for a POST of `urn` (without one, a random stack tag: no leftover's)."""
        return cls(stack_tag(urn) or secrets.token_hex(6), secrets.token_hex(8))

    @property
    def legacy(self) -> bool:
        """A mark of a release up to 0.2.0, whose POST set no provisional expiry."""
        return len(self.nonce) == 8

    def renewed(self) -> CreateMark:
        return CreateMark(self.stack, secrets.token_hex(8))

    def on(self, name: str) -> str:
        return f"{name} {self}"

    def __str__(self) -> str:
        """The mark as it ends a name: what messages show, never the name (maybe a secret)."""
        return f"[pulumi creating {self.stack}-{self.nonce}]"


def read_mark(name: object) -> tuple[str, CreateMark] | None:
    """A marked server name's unmarked name and mark; None for a name without a mark."""
    found = _MARK.fullmatch(name) if isinstance(name, str) else None
    return None if found is None else (found["name"], CreateMark(found["stack"], found["nonce"]))
