"""The diagnose command fetching a CDR through the hook's single-CDR endpoint from the simulator."""

from __future__ import annotations

import json

import pytest

from airflow_provider_vobiz import diagnose as cli

pytestmark = pytest.mark.integration


def test_diagnose_a_call_from_the_api(vobiz_conn, capsys) -> None:
    record = next(r for r in vobiz_conn.records() if r["hangup_cause"] != "NORMAL_CLEARING")
    assert cli.main([record["uuid"], "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["call_id"] == record["uuid"] and out["hangup_cause"] == record["hangup_cause"]
    assert out["meaning"] and out["next_checks"]
    assert "demo-token-0001" not in json.dumps(out)


def test_unknown_call_is_a_clear_error(vobiz_conn, capsys) -> None:
    assert cli.main(["no-such-call"]) == 2
    err = capsys.readouterr().err
    assert "could not fetch call no-such-call" in err and "demo-token-0001" not in err
