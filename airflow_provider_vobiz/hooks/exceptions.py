"""Typed errors of the Vobiz API client.

Every message names the endpoint, the HTTP status (when there is one), the API's own error text and the
request id where the API sent one. None of them ever carries the Auth Token: the hook scrubs every message
before it builds an exception.
"""

from __future__ import annotations


class VobizApiError(Exception):
    """Base class: a request to the Vobiz CDR API failed.

    :param message: the full, human-readable message.
    :param endpoint: which endpoint (``list``, ``search``, ``single``, ``recent``, ``export``).
    :param status: the HTTP status, or ``None`` for a transport failure (timeout, dropped connection).
    :param request_id: the ``X-Request-ID`` the API sent, if any.
    :param api_message: the API's own error text, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        endpoint: str | None = None,
        status: int | None = None,
        request_id: str | None = None,
        api_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.status = status
        self.request_id = request_id
        self.api_message = api_message

    def __reduce__(self):  # keyword-only init: keep the exception picklable (executors, subprocesses)
        return (
            _rebuild,
            (
                type(self),
                str(self),
                {
                    "endpoint": self.endpoint,
                    "status": self.status,
                    "request_id": self.request_id,
                    "api_message": self.api_message,
                },
            ),
        )


def _rebuild(cls: type[VobizApiError], message: str, kwargs: dict) -> VobizApiError:
    return cls(message, **kwargs)


class VobizAuthError(VobizApiError):
    """401 or 403: the Auth ID or the Auth Token is wrong, or the account may not read CDRs."""


class VobizNotFoundError(VobizApiError):
    """404: no such CDR (or no such account path)."""


class VobizBadRequestError(VobizApiError):
    """400 (or another 4xx that is not retried): the API refused the parameters."""


class VobizRateLimitError(VobizApiError):
    """429 still returned after every retry attempt."""


class VobizServerError(VobizApiError):
    """5xx still returned after every retry attempt."""


class VobizTransportError(VobizApiError):
    """Timeouts or dropped connections on every retry attempt (no HTTP status)."""


class VobizRetryBudgetExceeded(VobizApiError):
    """The total time allowed for retrying one request ran out before it succeeded."""


class VobizPaginationError(VobizApiError):
    """Paging a query did not yield exactly the ``pagination.total`` records the API reported."""
