"""What every part of the emulator shares: JSON objects, the errors the API answers with, and
UUIDs in canonical form."""

from __future__ import annotations

import re
import uuid
from typing import Any

JSONObject = dict[str, Any]

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class EmulatorError(Exception):
    """A request the emulator refuses; `status` is the HTTP status it answers with."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequestError(EmulatorError):
    status = 400


class NotFoundError(EmulatorError):
    status = 404


class ConflictError(EmulatorError):
    status = 409


def normalize_uuid(value: str) -> str | None:
    """The lower-case canonical form of a hyphenated UUID, or None if `value` is not one."""
    if _UUID.fullmatch(value) is None:
        return None
    return str(uuid.UUID(value))


def string_list(value: object, what: str) -> list[str]:
    """`value` as a list of non-empty strings; BadRequestError naming `what` otherwise."""
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise BadRequestError(f"{what} must be an array of non-empty strings")
    return list(value)
