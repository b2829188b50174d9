"""How a call is fetched for a diagnosis: one policy, through :class:`VobizHook`, for the page and the CLI.

A person is waiting, so the hook's limits are the page's: one attempt's timeout and retries that fit the
diagnosis budget. Failures become :class:`DiagnosisError` with a message fit to show, chosen by the
exception's type (the hook's typed errors, Airflow's missing connection), never by matching its text; no
message carries the token or a raw phone number.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_vobiz.hooks.exceptions import VobizApiError, VobizAuthError, VobizNotFoundError
from airflow_provider_vobiz.hooks.filters import check_call_id as hook_check_call_id
from airflow_provider_vobiz.privacy import mask_text

#: What the page promises: a diagnosis answers within this many seconds, or says the API did not answer.
DIAGNOSE_BUDGET_SECONDS = 15.0
#: One attempt's timeout, and retries that start only while the budget still allows a whole attempt, so the
#: upstream request also ends within the budget.
PAGE_TIMEOUT_SECONDS = 5.0
PAGE_MAX_RETRIES = 2
PAGE_RETRY_BUDGET_SECONDS = DIAGNOSE_BUDGET_SECONDS - PAGE_TIMEOUT_SECONDS


class DiagnosisError(RuntimeError):
    """The call could not be diagnosed; the message is safe to show."""


class CallNotFound(DiagnosisError):
    """The Vobiz API has no call with that id (HTTP 404 on the page)."""


def check_call_id(call_id: str) -> str:
    """The hook's own call-id check (:func:`hooks.filters.check_call_id`), as a message for people."""
    try:
        return hook_check_call_id((call_id or "").strip())
    except ValueError:
        raise DiagnosisError(
            "A call id is 1-64 letters, digits, '-' or '_' (a UUID, as in the call logs)."
        ) from None


def fetch_cdr(call_id: str, vobiz_conn_id: str) -> dict[str, Any]:
    """The call's CDR from the Vobiz API (``VobizHook.get_cdr`` within the page's limits).

    :raises DiagnosisError: with a message fit for people (:class:`CallNotFound` when there is no such call).
    """
    from airflow.sdk.exceptions import AirflowNotFoundException

    from airflow_provider_vobiz.hooks.vobiz import VobizHook

    hook = VobizHook(
        vobiz_conn_id=vobiz_conn_id,
        timeout=PAGE_TIMEOUT_SECONDS,
        max_retries=PAGE_MAX_RETRIES,
        retry_budget_seconds=PAGE_RETRY_BUDGET_SECONDS,
    )
    try:
        with hook:
            cdr = hook.get_cdr(call_id)
    except VobizNotFoundError:
        raise CallNotFound(f"The Vobiz API has no call with id {call_id}.") from None
    except VobizAuthError as err:
        raise DiagnosisError(
            f"The Vobiz API refused the credentials of connection {vobiz_conn_id!r} (HTTP {err.status})."
        ) from None
    except VobizApiError as err:
        # The hook's messages name the endpoint, status and request id and never the token.
        raise DiagnosisError(mask_text(str(err))) from None
    except AirflowNotFoundException:
        raise DiagnosisError(f"The Airflow connection {vobiz_conn_id!r} is not configured.") from None
    except ValueError as err:  # the hook's checks of the connection (base URL, login, ...)
        raise DiagnosisError(f"Connection {vobiz_conn_id!r} is not usable: {mask_text(str(err))}") from None
    except Exception as err:
        raise DiagnosisError(
            f"The Vobiz API could not be asked about call {call_id} ({type(err).__name__})."
        ) from None
    if not isinstance(cdr, dict) or not cdr:
        raise DiagnosisError(f"The Vobiz API returned no record for call {call_id}.")
    return cdr
