"""Exceptions raised by truto-pulumi. The whole tree::

    TrutoError                   anything this package raises on purpose
    ├── TrutoConfigError         no API token, or a base URL that is not http(s)
    ├── TrutoTransportError      Truto could not be reached or did not answer in time
    ├── TrutoDeadlineError       retries or pacing ran past the call's or operation's deadline
    ├── TrutoCreateError         a create that could not be completed, or whose outcome is open
    ├── TrutoLookupError         a lookup (`get_integrated_accounts`, ...) failed in the program
    └── TrutoApiError            Truto answered with an error status
        ├── TrutoAuthError         401, 403
        ├── TrutoNotFoundError     404, 410
        ├── TrutoValidationError   400, 409, 422 (and any other 4xx)
        ├── TrutoRateLimitedError  429
        └── TrutoServerError       5xx

API errors are chosen by status code only (`api_error_for_status`), never by message text.
No message ever contains the API token or an MCP token: paths hold ids only.
"""

from __future__ import annotations

from pulumi.errors import RunError


class TrutoError(Exception):
    """Base class of every error truto-pulumi raises on purpose."""


class TrutoConfigError(TrutoError):
    """Raised before any request; `setting` names the config key at fault, when one is."""

    def __init__(self, message: str, *, setting: str | None = None) -> None:
        super().__init__(message)
        self.setting = setting


class TrutoTransportError(TrutoError):
    """`request_sent`: whether the request may have reached Truto (so a POST may have acted)."""

    def __init__(self, message: str, *, method: str, path: str, request_sent: bool) -> None:
        super().__init__(message)
        self.method, self.path, self.request_sent = method, path, request_sent


class TrutoDeadlineError(TrutoError):
    """The message says what it was waiting on; `last_error`: what was being retried, if any."""

    def __init__(
        self, message: str, *, method: str, path: str, last_error: TrutoError | None = None
    ) -> None:
        super().__init__(message)
        self.method, self.path, self.last_error = method, path, last_error


class TrutoCreateError(TrutoError):
    """The message says what became of the server; `mark` is the mark a server it made would
    carry, `server_id` that server, when known."""

    def __init__(self, message: str, *, mark: str, server_id: str | None = None) -> None:
        super().__init__(message)
        self.mark, self.server_id = mark, server_id


class TrutoLookupError(TrutoError, RunError):
    """The message names the lookup and the `setting` to check; a `pulumi.RunError`, so that the
    CLI shows it without a traceback."""

    def __init__(self, message: str, *, setting: str | None = None) -> None:
        super().__init__(message)
        self.setting = setting


class TrutoApiError(TrutoError):
    """`message` is Truto's own explanation; `retry_after` its `Retry-After` in seconds (429)."""

    def __init__(
        self,
        *,
        status_code: int,
        method: str,
        path: str,
        message: str,
        retry_after: float | None = None,
    ) -> None:
        self.status_code, self.method, self.path = status_code, method, path
        self.message, self.retry_after = message, retry_after
        detail = f": {message}" if message else ""
        super().__init__(f"Truto answered {status_code} to {method} {path}{detail}")

    def explained(self, message: str) -> TrutoApiError:
        """The same error, of the same type, with `message` in place of Truto's words."""
        kept = {key: getattr(self, key) for key in ("status_code", "method", "path", "retry_after")}
        return type(self)(**kept, message=message)


class TrutoAuthError(TrutoApiError):
    """401 or 403: the API token is missing, wrong, or not allowed to do this."""


class TrutoNotFoundError(TrutoApiError):
    """404 or 410: no such object visible to this token."""


class TrutoValidationError(TrutoApiError):
    """400, 409, 422 and other 4xx: Truto refused the request as sent; retrying will not help."""


class TrutoRateLimitedError(TrutoApiError):
    """429: too many requests."""


class TrutoServerError(TrutoApiError):
    """5xx: Truto failed; the request may be retried."""


_BY_STATUS: dict[int, type[TrutoApiError]] = {
    401: TrutoAuthError, 403: TrutoAuthError, 404: TrutoNotFoundError, 410: TrutoNotFoundError,
    429: TrutoRateLimitedError,
}  # fmt: skip


def api_error_for_status(status_code: int) -> type[TrutoApiError]:
    """The exception type for an HTTP error status (400 and above)."""
    fallback = TrutoServerError if status_code >= 500 else TrutoValidationError
    return _BY_STATUS.get(status_code, fallback)
