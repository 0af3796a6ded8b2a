"""Injected faults: rules that make the next matching API requests misbehave.

A rule is `{"method": "POST" | ... | null, "path": <regex> | null, "times": n, "action": {...}}`.
`method` null matches any method; `path` is searched (``re.search``) in the request path, null
matches any path. Each API request consumes at most one rule: the first registered rule that
matches; a rule is gone once it matched `times` requests.

Actions (keys may be combined as listed; `delay` combines with all of them):

- `{"status": 503}`: answer that status (400..599) with the usual error body, without acting.
  `{"status": 429, "retry_after": 1}` also sends `Retry-After: 1`.
  `{"status": 400, "body": "<text>"}` answers that text as the body instead (JSON's content
  type when the text is JSON, else plain text), e.g. a proxy's page or an echo of the request.
- `{"delay": 0.5}`: wait that many seconds, then act and answer normally.
- `{"drop": true}`: close the connection without any HTTP answer, without acting.
- `{"lose_answer": true}`: act for real (e.g. create the server), then close the connection
  without an answer. With `"status": 500` act, then answer 500 instead of the real answer.
- `{"status": 504, "act_after": 2}` or `{"drop": true, "act_after": 2}`: answer (or drop) at
  once, then act for real that many seconds later, as Truto does when a gateway gave up on a
  request it carries on with.
"""

from __future__ import annotations

import math
import re
import threading
import uuid
from dataclasses import dataclass, fields

from ._base import BadRequestError, JSONObject

_ACTION_KEYS = ("status", "retry_after", "body", "delay", "drop", "lose_answer", "act_after")


@dataclass(frozen=True)
class FaultAction:
    status: int | None = None
    retry_after: float | None = None
    body: str | None = None
    delay: float = 0.0
    drop: bool = False
    lose_answer: bool = False
    act_after: float | None = None

    def to_json(self) -> JSONObject:
        """The action's keys that differ from their defaults, as a rule was given them."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) != f.default
        }

    def retry_after_header(self) -> dict[str, str]:
        if self.retry_after is None:
            return {}
        seconds = self.retry_after
        text = str(int(seconds)) if float(seconds).is_integer() else str(math.ceil(seconds))
        return {"Retry-After": text}


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise BadRequestError(f"{what} must be a number >= 0")
    return float(value)


def _flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise BadRequestError(f"{what} must be a boolean")
    return value


def parse_action(value: object) -> FaultAction:
    if not isinstance(value, dict):
        raise BadRequestError("action must be a JSON object")
    unknown = sorted(set(value) - set(_ACTION_KEYS))
    if unknown:
        raise BadRequestError(f"unknown action key(s): {', '.join(unknown)}")
    status = value.get("status")
    if status is not None and (
        isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599
    ):
        raise BadRequestError("action.status must be an integer between 400 and 599")
    retry_after = value.get("retry_after")
    body = value.get("body")
    if body is not None and not isinstance(body, str):
        raise BadRequestError("action.body must be a string (the raw answer body)")
    act_after = value.get("act_after")
    action = FaultAction(
        status=status,
        retry_after=None if retry_after is None else _number(retry_after, "action.retry_after"),
        body=body,
        delay=_number(value.get("delay", 0), "action.delay"),
        drop=_flag(value.get("drop", False), "action.drop"),
        lose_answer=_flag(value.get("lose_answer", False), "action.lose_answer"),
        act_after=None if act_after is None else _number(act_after, "action.act_after"),
    )
    if action.drop and (action.lose_answer or action.status is not None):
        raise BadRequestError("action.drop cannot be combined with status or lose_answer")
    if action.act_after is not None and (
        action.lose_answer or not (action.drop or action.status is not None)
    ):
        raise BadRequestError("action.act_after needs status or drop, and no lose_answer")
    if action.retry_after is not None and action.status is None:
        raise BadRequestError("action.retry_after needs action.status")
    if action.body is not None and action.status is None:
        raise BadRequestError("action.body needs action.status")
    if not (action.delay or action.drop or action.lose_answer or action.status is not None):
        raise BadRequestError("action needs at least one of status, delay, drop, lose_answer")
    return action


@dataclass
class FaultRule:
    id: str
    method: str | None
    path: re.Pattern[str] | None
    remaining: int
    action: FaultAction

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method.upper():
            return False
        return self.path is None or self.path.search(path) is not None

    def to_json(self) -> JSONObject:
        return {
            "id": self.id,
            "method": self.method,
            "path": None if self.path is None else self.path.pattern,
            "times": self.remaining,
            "action": self.action.to_json(),
        }


def parse_rule(body: object) -> FaultRule:
    if not isinstance(body, dict):
        raise BadRequestError("a fault must be a JSON object")
    unknown = sorted(set(body) - {"method", "path", "times", "action"})
    if unknown:
        raise BadRequestError(f"unknown fault key(s): {', '.join(unknown)}")
    method = body.get("method")
    if method is not None and (not isinstance(method, str) or not method):
        raise BadRequestError("method must be an HTTP method name or null")
    path = body.get("path")
    if path is not None and not isinstance(path, str):
        raise BadRequestError("path must be a regular expression string or null")
    try:
        pattern = None if path is None else re.compile(path)
    except re.error as exc:
        raise BadRequestError(f"path is not a valid regular expression: {exc}") from None
    times = body.get("times", 1)
    if isinstance(times, bool) or not isinstance(times, int) or times < 1:
        raise BadRequestError("times must be an integer >= 1")
    return FaultRule(
        id=str(uuid.uuid4()),
        method=None if method is None else method.upper(),
        path=pattern,
        remaining=times,
        action=parse_action(body.get("action")),
    )


class FaultPlan:
    """The pending fault rules, consumed in registration order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def add(self, body: object) -> FaultRule:
        rule = parse_rule(body)
        with self._lock:
            self._rules.append(rule)
        return rule

    def take(self, method: str, path: str) -> FaultAction | None:
        """The action for this request, if a rule matches it (consuming one of its `times`)."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self._rules.remove(rule)
                    return rule.action
        return None

    def pending(self) -> list[JSONObject]:
        with self._lock:
            return [rule.to_json() for rule in self._rules]

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
