"""Errors are types: each carries its HTTP status and a message that is safe to show a client."""

from __future__ import annotations


class ApiError(Exception):
    """An error a client caused or must know about; rendered as ``{"code", "type", "message"}``."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, object]:
        return {"code": self.status, "type": "error", "message": self.message}

    def headers(self) -> dict[str, str]:
        """Headers the answer carries with the body: how to authenticate after a 401."""
        return {"WWW-Authenticate": "Bearer"} if self.status == 401 else {}


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class MethodNotAllowed(ApiError):
    status = 405


class Conflict(ApiError):
    status = 409


class PayloadTooLarge(ApiError):
    status = 413


class UnsupportedMediaType(ApiError):
    status = 415


class FailedDependency(ApiError):
    """A request of a batch that was not run, or was rolled back, because another failed."""

    status = 424


class NotImplementedYet(ApiError):
    """A valid request for something this server does not support (501)."""

    status = 501


class ServiceUnavailable(ApiError):
    status = 503

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        #: Seconds after which a client may try again, sent as ``Retry-After``.
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        if self.retry_after is None:
            return super().headers()
        return {**super().headers(), "Retry-After": str(self.retry_after)}


class QuerySyntaxError(BadRequest):
    """A malformed query expression; the message points at the position in the text."""

    def __init__(self, message: str, text: str, position: int) -> None:
        pointer = f"{text}\n{' ' * position}^"
        super().__init__(f"{message} at position {position}:\n{pointer}")
        self.position = position
        self.text = text
