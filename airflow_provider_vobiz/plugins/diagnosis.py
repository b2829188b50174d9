"""Diagnose one call for an officer answering a single complaint.

The call's CDR is fetched from the Vobiz API through the ``vobiz`` connection (``VobizHook.get_cdr``) and
explained by the summary report's deterministic hangup diagnosis (``reports.diagnose``). What reaches the
page is masked: phone numbers show their last four digits only, and no connection field is ever included.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from airflow_provider_vobiz.privacy import mask_text, mask_value

#: The CDR fields shown next to the diagnosis, in this order.
CALL_FIELDS = (
    "uuid",
    "call_direction",
    "caller_id_number",
    "destination_number",
    "start_time",
    "answer_time",
    "end_time",
    "duration",
    "billsec",
    "ring_time",
    "hangup_cause",
    "hangup_cause_code",
    "hangup_cause_name",
    "hangup_source",
    "hangup_disposition",
    "failure_code",
    "failure_reason",
    "codec",
    "mos",
    "jitter",
    "packet_loss",
    "region",
)


class DiagnosisError(RuntimeError):
    """The call could not be diagnosed; the message is safe to show."""


class TooManyDiagnoses(DiagnosisError):
    """The user already has :data:`MAX_IN_FLIGHT_PER_USER` diagnoses in flight (HTTP 429)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"You already have {MAX_IN_FLIGHT_PER_USER} diagnoses in progress; try again in {retry_after} s."
        )
        self.retry_after = retry_after


class DiagnosisTimeout(DiagnosisError):
    """The Vobiz API did not answer within the page's budget (HTTP 504)."""


def check_call_id(call_id: str) -> str:
    """The hook's own call-id check (:func:`hooks.filters.check_call_id`), as a message for the page."""
    from airflow_provider_vobiz.hooks.filters import check_call_id as hook_check

    try:
        return hook_check((call_id or "").strip())
    except ValueError:
        raise DiagnosisError(
            "A call id is 1-64 letters, digits, '-' or '_' (a UUID, as in the call logs)."
        ) from None


def _diagnose_fn():
    try:
        from airflow_provider_vobiz.reports import diagnose as module
    except ImportError:
        return None
    return getattr(module, "diagnose", None) or getattr(module, "diagnose_call", None)


#: What the page promises: a diagnosis answers within this many seconds, or says the API did not answer.
DIAGNOSE_BUDGET_SECONDS = 15.0
#: Diagnoses one signed-in user may have in flight; beyond it the page answers 429 with Retry-After.
MAX_IN_FLIGHT_PER_USER = 2
#: Upstream requests of all diagnoses at once: their own small pool, so the page's threads stay free.
MAX_IN_FLIGHT = 8
#: One attempt's timeout, and retries that start only while the budget still allows a whole attempt, so the
#: upstream request also ends within the budget.
PAGE_TIMEOUT_SECONDS = 5.0
PAGE_MAX_RETRIES = 2
PAGE_RETRY_BUDGET_SECONDS = DIAGNOSE_BUDGET_SECONDS - PAGE_TIMEOUT_SECONDS


def fetch_cdr(call_id: str, vobiz_conn_id: str) -> dict[str, Any]:
    """The call's CDR from the Vobiz API, or :class:`DiagnosisError` with a message fit for the page."""
    from airflow_provider_vobiz.hooks.exceptions import (
        VobizApiError,
        VobizAuthError,
        VobizNotFoundError,
    )
    from airflow_provider_vobiz.hooks.vobiz import VobizHook

    hook = VobizHook(
        vobiz_conn_id=vobiz_conn_id,
        timeout=PAGE_TIMEOUT_SECONDS,
        max_retries=PAGE_MAX_RETRIES,
        retry_budget_seconds=PAGE_RETRY_BUDGET_SECONDS,
    )
    try:
        cdr = hook.get_cdr(call_id)
    except VobizNotFoundError:
        raise DiagnosisError(f"The Vobiz API has no call with id {call_id}.") from None
    except VobizAuthError as err:
        raise DiagnosisError(
            f"The Vobiz API refused the credentials of connection {vobiz_conn_id!r} (HTTP {err.status})."
        ) from None
    except VobizApiError as err:
        # The hook's messages name the endpoint, status and request id and never the token.
        raise DiagnosisError(mask_text(str(err))) from None
    except Exception as err:
        if "isn't defined" in str(err) or type(err).__name__ == "AirflowNotFoundException":
            raise DiagnosisError(f"The Airflow connection {vobiz_conn_id!r} is not configured.") from None
        if isinstance(err, ValueError):  # the hook's checks of the connection (base URL, login, ...)
            raise DiagnosisError(
                f"Connection {vobiz_conn_id!r} is not usable: {mask_text(str(err))}"
            ) from None
        raise DiagnosisError(
            f"The Vobiz API could not be asked about call {call_id} ({type(err).__name__})."
        ) from None
    if not isinstance(cdr, dict) or not cdr:
        raise DiagnosisError(f"The Vobiz API returned no record for call {call_id}.")
    return cdr


def diagnose_call(call_id: str, vobiz_conn_id: str) -> dict[str, Any]:
    """``{"call_id", "call": {field: value}, "diagnosis": ...}``, masked for people.

    :raises DiagnosisError: with a message fit for the page (never the token or the raw numbers).
    """
    call_id = check_call_id(call_id)
    fn = _diagnose_fn()
    if fn is None:
        raise DiagnosisError("The hangup diagnosis is not installed in this deployment.")
    cdr = fetch_cdr(call_id, vobiz_conn_id)
    diagnosis = fn(cdr)
    call = {k: cdr.get(k) for k in CALL_FIELDS if k in cdr}
    return {"call_id": call_id, "call": mask_value(call), "diagnosis": mask_value(_plain(diagnosis))}


class DiagnosisGate:
    """Runs diagnoses within their budget: a hard deadline per request, a cap per user, a small pool.

    :param budget: seconds a request may take; after it the caller gets :class:`DiagnosisTimeout` while the
        upstream request (itself bounded by the hook's timeout and retry budget) finishes in the pool.
    :param per_user: diagnoses in flight per user; a slot is freed when the upstream work ends, not when the
        caller gives up, so one user can never hold more than this many upstream connections.
    :param workers: threads (and so upstream connections) for all users together.
    """

    def __init__(
        self,
        budget: float = DIAGNOSE_BUDGET_SECONDS,
        per_user: int = MAX_IN_FLIGHT_PER_USER,
        workers: int = MAX_IN_FLIGHT,
        diagnose: Any = None,
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


def _plain(value: Any) -> Any:
    """A dataclass or object diagnosis as plain data."""
    if hasattr(value, "__dataclass_fields__"):
        import dataclasses

        return dataclasses.asdict(value)
    if hasattr(value, "model_dump"):
        return value.model_dump()
    return value
