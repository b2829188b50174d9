"""The diagnose box: one call fetched from the Vobiz API simulator over HTTP, explained, numbers masked."""

from __future__ import annotations

import pytest

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
    import json

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
