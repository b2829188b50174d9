"""Retry policy: exponential backoff with jitter, Retry-After, attempts and a total time budget.

Kept apart from the hook so the arithmetic and the loop are testable without a server or Airflow:
:class:`RetryPolicy` says how long to wait, :func:`with_retries` runs one request's attempts under it and
turns the last failure into the typed error of :mod:`~airflow_provider_vobiz.hooks.exceptions`.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TypeVar

import httpx

from airflow_provider_vobiz.hooks.exceptions import (
    VobizApiError,
    VobizRateLimitError,
    VobizRetryBudgetExceeded,
    VobizServerError,
    VobizTransportError,
)

T = TypeVar("T")

# Transport failures worth retrying: the request may not have reached the server, or its answer was lost.
RETRYABLE_TRANSPORT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


@dataclass(frozen=True)
class RetryPolicy:
    """How one request is retried.

    :param max_retries: retries after the first attempt (so ``max_retries + 1`` attempts at most).
    :param budget_seconds: total wall time one request may spend, from its first attempt to the start of its
        last one; a wait that would cross it is not started.
    :param backoff_base: the first backoff in seconds; retry *n* waits ``base * 2**(n-1)`` capped at
        ``backoff_max``, then "equal jitter": a uniform draw between half and all of that.
    :param backoff_max: the cap of one backoff in seconds.
    """

    max_retries: int = 8
    budget_seconds: float = 300.0
    backoff_base: float = 1.0
    backoff_max: float = 30.0

    def at_most(
        self, max_retries: int, budget_seconds: float, backoff_base: float, backoff_max: float
    ) -> RetryPolicy:
        """This policy with each figure capped (e.g. the quick retries of the connection test)."""
        return RetryPolicy(
            max_retries=min(max_retries, self.max_retries),
            budget_seconds=min(budget_seconds, self.budget_seconds),
            backoff_base=min(backoff_base, self.backoff_base),
            backoff_max=min(backoff_max, self.backoff_max),
        )

    def backoff(self, retry_number: int, rng: random.Random | None = None) -> float:
        """The wait before retry ``retry_number`` (1 for the first retry) when the server gave no Retry-After."""
        rng = rng or random
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** max(0, retry_number - 1)))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)

    def wait(self, retry_number: int, retry_after: float | None, rng: random.Random | None = None) -> float:
        """The wait before a retry: Retry-After when the server sent one (never less; a little jitter on
        top so many workers do not return in the same instant), else the backoff."""
        rng = rng or random
        if retry_after is not None:
            return retry_after + rng.uniform(0, min(1.0, self.backoff_base) / 2)
        return self.backoff(retry_number, rng)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date); None if absent/invalid."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


class Retryable(Exception):
    """One attempt failed in a way worth retrying; carries what the final error needs."""

    def __init__(
        self,
        kind: str,
        detail: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        api_message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(detail)
        self.kind = kind  # "rate_limit" | "server" | "transport"
        self.detail = detail
        self.status = status
        self.request_id = request_id
        self.api_message = api_message
        self.retry_after = retry_after


#: Builds a scrubbed error message from ``(endpoint, what, detail, request_id=..., api_message=...)``.
MessageFn = Callable[..., str]


def _typed_error(
    cls: type[VobizApiError], endpoint: str, what: str, detail: str, failure: Retryable, message: MessageFn
) -> VobizApiError:
    return cls(
        message(endpoint, what, detail, request_id=failure.request_id, api_message=failure.api_message),
        endpoint=endpoint,
        status=failure.status,
        request_id=failure.request_id,
        api_message=failure.api_message,
    )


def _exhausted(
    endpoint: str, what: str, failure: Retryable, attempts: int, policy: RetryPolicy, message: MessageFn
) -> VobizApiError:
    """The error once every attempt failed: its class says what kept failing."""
    cls = {"rate_limit": VobizRateLimitError, "server": VobizServerError}.get(
        failure.kind, VobizTransportError
    )
    detail = f"{failure.detail}, still failing after {attempts} attempt(s) (max_retries={policy.max_retries})"
    return _typed_error(cls, endpoint, what, detail, failure, message)


def _over_budget(
    endpoint: str,
    what: str,
    failure: Retryable,
    attempts: int,
    elapsed: float,
    delay: float,
    policy: RetryPolicy,
    message: MessageFn,
) -> VobizApiError:
    detail = (
        f"retry budget of {policy.budget_seconds:g}s exhausted after {attempts} attempt(s) in "
        f"{elapsed:.1f}s (the next wait would be {delay:.1f}s); last failure: {failure.detail}"
    )
    return _typed_error(VobizRetryBudgetExceeded, endpoint, what, detail, failure, message)


def with_retries(
    endpoint: str,
    what: str,
    attempt_fn: Callable[[], T],
    policy: RetryPolicy,
    *,
    rng: random.Random,
    log: logging.Logger,
    message: MessageFn,
    scrub: Callable[[str], str],
    abort: threading.Event | None = None,
) -> T:
    """Run ``attempt_fn`` until it succeeds, a non-retryable error occurs, or attempts/budget run out.

    ``attempt_fn`` raises :class:`Retryable` (or a retryable httpx transport error) for a failure worth
    another attempt. ``abort``, once set, ends the waiting between attempts (a paging iteration stopped).
    """
    started = time.monotonic()
    retry = 0
    while True:
        try:
            return attempt_fn()
        except RETRYABLE_TRANSPORT as exc:
            failure = Retryable("transport", f"{type(exc).__name__}: {scrub(str(exc)) or 'no detail'}")
        except Retryable as exc:
            failure = exc
        except httpx.HTTPError as exc:  # not worth retrying (e.g. an unsupported protocol): fail clearly
            detail = f"{type(exc).__name__}: {scrub(str(exc)) or 'no detail'}"
            raise VobizTransportError(message(endpoint, what, detail), endpoint=endpoint) from None
        retry += 1
        if retry > policy.max_retries:
            raise _exhausted(endpoint, what, failure, retry, policy, message) from None
        delay = policy.wait(retry, failure.retry_after, rng)
        elapsed = time.monotonic() - started
        if elapsed + delay > policy.budget_seconds:
            raise _over_budget(endpoint, what, failure, retry, elapsed, delay, policy, message) from None
        log.warning(
            "Vobiz API %s (%s): %s (attempt %d of %d); retrying in %.2fs%s",
            endpoint,
            what,
            failure.detail,
            retry,
            policy.max_retries + 1,
            delay,
            " as Retry-After asked" if failure.retry_after is not None else "",
        )
        if abort is None:
            time.sleep(delay)
        elif abort.wait(delay):  # the iteration already failed or stopped: do not keep retrying
            raise VobizApiError(
                message(endpoint, what, "abandoned: the iteration stopped"), endpoint=endpoint
            )
