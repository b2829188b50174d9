"""The page's limits on diagnoses: a hard deadline per request, a cap per user, and their own small pool."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from airflow_provider_vobiz.diagnosis.call import diagnose_call
from airflow_provider_vobiz.diagnosis.fetch import DIAGNOSE_BUDGET_SECONDS, DiagnosisError, check_call_id

#: Diagnoses one signed-in user may have in flight; beyond it the page answers 429 with Retry-After.
MAX_IN_FLIGHT_PER_USER = 2
#: Upstream requests of all diagnoses at once: their own small pool, so the page's threads stay free.
MAX_IN_FLIGHT = 8


class TooManyDiagnoses(DiagnosisError):
    """The user already has :data:`MAX_IN_FLIGHT_PER_USER` diagnoses in flight (HTTP 429)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"You already have {MAX_IN_FLIGHT_PER_USER} diagnoses in progress; try again in {retry_after} s."
        )
        self.retry_after = retry_after


class DiagnosisTimeout(DiagnosisError):
    """The Vobiz API did not answer within the page's budget (HTTP 504)."""


class DiagnosisGate:
    """Runs diagnoses within their budget: a hard deadline per request, a cap per user, a small pool.

    :param budget: seconds a request may take; after it the caller gets :class:`DiagnosisTimeout` while the
        upstream request (itself bounded by the hook's timeout and retry budget) finishes in the pool.
    :param per_user: diagnoses in flight per user; a slot is freed when the upstream work ends, not when the
        caller gives up, so one user can never hold more than this many upstream connections.
    :param workers: threads (and so upstream connections) for all users together.
    :param diagnose: ``(call_id, vobiz_conn_id) -> result``; :func:`diagnose_call` by default.
    """

    def __init__(
        self,
        budget: float = DIAGNOSE_BUDGET_SECONDS,
        per_user: int = MAX_IN_FLIGHT_PER_USER,
        workers: int = MAX_IN_FLIGHT,
        diagnose: Callable[[str, str], dict[str, Any]] | None = None,
    ) -> None:
        self.budget = budget
        self.per_user = per_user
        self._diagnose = diagnose or diagnose_call
        self._lock = threading.Lock()
        self._in_flight: Counter[str] = Counter()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vobiz-diagnose")

    def in_flight(self, user: str) -> int:
        with self._lock:
            return self._in_flight[user]

    def run(self, user: str, call_id: str, vobiz_conn_id: str) -> dict[str, Any]:
        """Diagnose ``call_id`` for ``user`` within the budget.

        :raises TooManyDiagnoses: the user's cap is reached (nothing is asked upstream).
        :raises DiagnosisTimeout: no answer within the budget.
        :raises DiagnosisError: a bad call id or an API error, with a message fit for the page.
        """
        call_id = check_call_id(call_id)  # before taking a slot: a bad id never reaches the pool
        deadline = time.monotonic() + self.budget
        with self._lock:
            if self._in_flight[user] >= self.per_user:
                raise TooManyDiagnoses(max(1, round(self.budget)))
            self._in_flight[user] += 1

        def work() -> dict[str, Any]:
            try:
                if time.monotonic() >= deadline:  # waited in the queue past the deadline: ask nothing
                    raise DiagnosisTimeout(self._timeout_message())
                return self._diagnose(call_id, vobiz_conn_id)
            finally:
                with self._lock:
                    self._in_flight[user] -= 1
                    if not self._in_flight[user]:
                        del self._in_flight[user]

        future = self._pool.submit(work)
        try:
            return future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            raise DiagnosisTimeout(self._timeout_message()) from None

    def _timeout_message(self) -> str:
        return f"The Vobiz API did not answer within {self.budget:g} s; try again later."
