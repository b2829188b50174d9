"""Retry policy: exponential backoff with jitter, Retry-After, attempts and a total time budget.

Kept apart from the hook so the arithmetic is testable without a server or Airflow.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime


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
