"""Domain errors and the one error envelope.

Every failure a user can cause is raised as a :class:`SsaplanError`. The edges turn
it into their own form without changing its content: the API and the web pages
answer with :func:`envelope` (HTTP status from ``status``), the CLI prints
:meth:`SsaplanError.one_line` on stderr and exits 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Detail:
    """One specific problem: where (``loc``, e.g. ``("body", "budget", 0, "planned")``
    or ``("file.csv", "row 7", "country")``) and what is wrong with it."""

    loc: tuple[str | int, ...]
    msg: str

    def as_dict(self) -> dict[str, Any]:
        return {"loc": list(self.loc), "msg": self.msg}

    def __str__(self) -> str:
        where = ".".join(str(part) for part in self.loc)
        return f"{where}: {self.msg}" if where else self.msg


class SsaplanError(Exception):
    """Base of every error a user can cause; carries everything the edges need."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: Iterable[Detail] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details: tuple[Detail, ...] = tuple(details)

    def __str__(self) -> str:
        return self.one_line()

    def one_line(self, max_details: int = 5) -> str:
        """The message and its first details on one line, for the CLI and logs."""
        if not self.details:
            return self.message
        shown = "; ".join(str(d) for d in self.details[:max_details])
        more = len(self.details) - max_details
        suffix = f"; and {more} more" if more > 0 else ""
        return f"{self.message}: {shown}{suffix}".replace("\n", " ")

    def as_envelope(self) -> dict[str, Any]:
        return envelope(self.status, self.code, self.message, self.details)


class BadRequest(SsaplanError):
    """A request or file that cannot be processed as given."""


class Unauthenticated(SsaplanError):
    """No valid login came with the request."""

    status, code = 401, "unauthenticated"


class Forbidden(SsaplanError):
    """The user is known but lacks the permission for this action."""

    status, code = 403, "forbidden"


class NotFound(SsaplanError):
    """The thing named does not exist."""

    status, code = 404, "not_found"


class Conflict(SsaplanError):
    """The write collides with the current state (duplicate id, illegal transition)."""

    status, code = 409, "conflict"


class StaleVersion(Conflict):
    """An update carried a version older than the stored one: someone else changed it."""

    code = "stale_version"


class TooLarge(SsaplanError):
    """A request or file passes a configured bound; the message names the setting."""

    status, code = 413, "too_large"


class TooManyRequests(SsaplanError):
    """Too many attempts (failed logins); ``retry_after`` says when to try again (seconds)."""

    status, code = 429, "too_many_requests"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class Invalid(SsaplanError):
    """Input failed validation; ``details`` names every field and reason."""

    status, code = 422, "invalid"


def envelope(
    status: int, code: str, message: str, details: Sequence[Detail] = ()
) -> dict[str, Any]:
    """The one error shape, for JSON and HTML alike."""
    return {
        "error": {
            "status": status,
            "code": code,
            "message": message,
            "details": [d.as_dict() for d in details],
        }
    }
