"""The diagnose box: one call fetched from the Vobiz API simulator over HTTP, explained, numbers masked."""

from __future__ import annotations

import json
import threading
import time

import pytest

from airflow_provider_vobiz.plugins.diagnosis import (
    DiagnosisError,
    DiagnosisGate,
    DiagnosisTimeout,
    TooManyDiagnoses,
)
from tests.integration.test_plugin_api import PREFIX, airflow_app, client, lake, viewer  # noqa: F401

pytestmark = pytest.mark.integration


def _call(sim, cause: str | None = None) -> dict:
    records = sim.records()
    if cause:
        records = [r for r in records if r.get("hangup_cause") == cause] or records
    return records[0]


def test_diagnose_one_call_on_the_page(viewer, lake, vobiz_conn):  # noqa: F811
    call = _call(vobiz_conn, "USER_BUSY")
    r = viewer.get(PREFIX + "/", params={"call_id": call["uuid"]})
    assert r.status_code == 200
    page = r.text
    assert f"Call {call['uuid']}" in page
    assert f"<code>{call['hangup_cause']}</code>" in page
    assert "What it means" in page and "What to check next" in page
    # Numbers reach the page as their last four digits only; the token never.
    for field in ("caller_id_number", "destination_number"):
        raw = call[field]
        if raw and sum(ch.isdigit() for ch in raw) > 4:
            assert raw not in page
            assert "••••" + "".join(ch for ch in raw if ch.isdigit())[-4:] in page
    assert vobiz_conn.config.auth_token not in page
    # The reports stay on the page beside the diagnosis.
    assert "Retention status" in page and "30,480" in page
    # Fetched from the API (the single-CDR endpoint), not from the lake.
    assert [e for e, _, status in vobiz_conn.requests if status == 200] == ["single"]


def test_diagnose_json(viewer, vobiz_conn):  # noqa: F811
    call = _call(vobiz_conn)
    body = viewer.get(f"{PREFIX}/api/diagnose/{call['uuid']}").json()
    assert body["call_id"] == call["uuid"]
    assert body["diagnosis"]["hangup_cause"] == call["hangup_cause"]
    assert body["call"]["caller_id_number"].startswith("••••")


def test_unknown_call_and_bad_input_are_explained(viewer, lake, vobiz_conn):  # noqa: F811
    missing = "00000000-0000-4000-8000-000000000000"
    page = viewer.get(PREFIX + "/", params={"call_id": missing}).text
    assert f"The Vobiz API has no call with id {missing}." in page
    assert viewer.get(f"{PREFIX}/api/diagnose/{missing}").status_code == 404
    assert viewer.get(f"{PREFIX}/api/diagnose/x%20y").status_code == 400


def test_wrong_credentials_are_named_without_the_token(viewer, lake, vobiz_conn, monkeypatch):  # noqa: F811
    conn = json.loads(vobiz_conn.conn_json())
    conn["password"] = "wrong-token-value-123"
    monkeypatch.setenv("AIRFLOW_CONN_VOBIZ_DEFAULT", json.dumps(conn))
    page = viewer.get(PREFIX + "/", params={"call_id": _call(vobiz_conn)["uuid"]}).text
    assert "refused the credentials of connection &#39;vobiz_default&#39; (HTTP 401)" in page
    assert "wrong-token-value-123" not in page


def test_missing_connection(viewer, lake, monkeypatch):  # noqa: F811
    monkeypatch.delenv("AIRFLOW_CONN_VOBIZ_DEFAULT", raising=False)
    page = viewer.get(PREFIX + "/", params={"call_id": "bcd1c45d-3f27-41ea-bea1-aa5d4e06dca4"}).text
    assert "The Airflow connection &#39;vobiz_default&#39; is not configured." in page


class _SilentServer:
    """Accepts connections and never answers: the worst upstream the diagnose box can meet."""

    def __init__(self) -> None:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted: list = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def silent_api(monkeypatch):
    srv = _SilentServer()
    conn = {"conn_type": "vobiz", "host": f"http://127.0.0.1:{srv.port}", "login": "MA_SILENT1"}
    conn["password"] = "silent-token-0123456789"
    monkeypatch.setenv("AIRFLOW_CONN_VOBIZ_DEFAULT", json.dumps(conn))
    yield srv
    srv.close()


def test_a_silent_api_answers_within_the_budget_and_the_cap_holds(silent_api):
    gate = DiagnosisGate(budget=1.0, per_user=2, workers=4)
    call_id = "bcd1c45d-3f27-41ea-bea1-aa5d4e06dca4"
    results: list = []

    def one(user: str = "officer") -> None:
        started = time.monotonic()
        try:
            gate.run(user, call_id, "vobiz_default")
        except DiagnosisError as err:
            results.append((type(err).__name__, time.monotonic() - started))

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    while gate.in_flight("officer") < 2:
        time.sleep(0.01)
    # A third diagnosis of the same user is refused at once; another user still gets a slot.
    with pytest.raises(TooManyDiagnoses) as refused:
        gate.run("officer", call_id, "vobiz_default")
    assert refused.value.retry_after == 1
    other = threading.Thread(target=one, args=("auditor",))
    other.start()
    for t in (*threads, other):
        t.join()
    assert [name for name, _ in results] == ["DiagnosisTimeout"] * 3
    # The deadline is the budget: a hung upstream never holds the caller longer (plus thread scheduling).
    assert max(elapsed for _, elapsed in results) < 1.0 + 0.5
    assert "did not answer within 1 s" in str(DiagnosisTimeout(gate._timeout_message()))


def test_the_api_answers_429_with_retry_after_beyond_the_cap(viewer, silent_api, monkeypatch):  # noqa: F811
    from airflow_provider_vobiz.plugins import app as page

    gate = DiagnosisGate(budget=1.0, per_user=1, workers=2)
    monkeypatch.setattr(page, "DIAGNOSES", gate)
    call_id = "bcd1c45d-3f27-41ea-bea1-aa5d4e06dca4"
    first: list = []
    t = threading.Thread(target=lambda: first.append(viewer.get(f"{PREFIX}/api/diagnose/{call_id}")))
    t.start()
    while not any(gate.in_flight(u) for u in list(gate._in_flight)):
        time.sleep(0.01)
    second = viewer.get(f"{PREFIX}/api/diagnose/{call_id}")
    t.join()
    assert second.status_code == 429 and second.headers["Retry-After"] == "1"
    assert first[0].status_code == 504 and "did not answer within 1 s" in first[0].json()["detail"]


@pytest.mark.parametrize("bad", [".", "..", "a.b", "a/b", "%2e%2e", "a b", "a\tb", ""])
def test_call_ids_that_would_change_the_url_never_reach_the_api(bad, vobiz_conn):
    from airflow_provider_vobiz.hooks.vobiz import VobizHook

    with pytest.raises(ValueError, match="a call id is 1-64 letters"):
        VobizHook().get_cdr(bad)
    assert vobiz_conn.requests == []
