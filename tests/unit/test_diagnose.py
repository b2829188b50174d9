"""Hangup diagnosis: rules per documented cause, the quality flag, and the command line."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from airflow_provider_vobiz import diagnose as cli
from airflow_provider_vobiz.cdr.schema import HANGUP_CAUSES
from airflow_provider_vobiz.reports.diagnose import RULES, diagnose, quality_flag

SAMPLE = {
    "uuid": "bcd1c45d-3f27-41ea-bea1-aa5d4e06dca4",
    "hangup_cause": "MEDIA_TIMEOUT",
    "hangup_cause_code": 4018,
    "hangup_source": "Carrier",
    "failure_code": None,
    "failure_reason": None,
    "codec": "PCMU",
    "mos": 3.1,
    "jitter": 42.5,
    "packet_loss": 2.5,
    "billsec": 31,
    "duration": 36,
    "ring_time": 5,
    "caller_id_number": "+918065480214",
}


def test_every_documented_cause_has_a_rule() -> None:
    assert set(HANGUP_CAUSES) <= set(RULES)
    for cause in HANGUP_CAUSES:
        d = diagnose(hangup_cause=cause)
        assert d.known_cause and d.meaning and d.likely_root_cause and d.next_checks and d.related_fields


def test_cdr_diagnosis_with_quality_flag() -> None:
    d = diagnose(SAMPLE)
    assert d.hangup_cause == "MEDIA_TIMEOUT" and "firewall" in d.meaning
    assert d.who_hung_up.startswith("Carrier") and "carrier" in d.who_hung_up
    assert any("4018" in c for c in d.likely_root_cause)
    assert any("whitelisted" in c for c in d.next_checks)
    assert {"mos", "jitter", "packet_loss", "codec"} <= set(d.related_fields)
    reasons = " ".join(d.quality_flag["reasons"])
    assert (
        "MOS 3.1 < 3.5" in reasons
        and "jitter 42.5 ms > 30 ms" in reasons
        and "packet loss 2.5% > 1%" in reasons
    )
    assert diagnose(SAMPLE).as_dict() == d.as_dict()  # deterministic


def test_quality_flag_thresholds_are_strict() -> None:
    assert quality_flag(3.5, 30, 1.0) is None
    assert quality_flag(None, None, None) is None
    assert quality_flag(3.49, 0, 0)["reasons"][0].startswith("MOS 3.49")
    assert len(quality_flag(1.0, 30.01, 1.01)["reasons"]) == 3


def test_failure_fields_steer_the_checks() -> None:
    d = diagnose(hangup_cause="call_rejected", failure_reason="Template not registered on DLT")
    assert d.hangup_cause == "CALL_REJECTED"
    assert d.next_checks[0].startswith("On outbound campaigns, confirm the sender")
    assert d.likely_root_cause[0].startswith("Failure reported by the platform")
    dnd = diagnose(hangup_cause="REJECTED", failure_reason="number on DND / NCPR")
    assert "DND" in dnd.next_checks[0]
    ip = diagnose(
        {"hangup_cause": "REJECTED", "failure_code": "403", "failure_reason": "Forbidden: source IP"}
    )
    assert "whitelisted" in ip.next_checks[0]


def test_unknown_and_missing() -> None:
    d = diagnose(hangup_cause="BRAND_NEW_CAUSE")
    assert not d.known_cause and "not in the documented" in d.meaning
    assert d.who_hung_up.startswith("not recorded")
    with pytest.raises(ValueError, match="hangup_cause"):
        diagnose({})
    fa = diagnose({"hangup_cause": "NORMAL_CLEARING", "billsec": 20, "duration": 20, "ring_time": 0})
    assert any("false answer" in c for c in fa.likely_root_cause)


def test_cli_stdin_and_cause(monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps({"data": [SAMPLE]})))
    assert cli.main(["-", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["call_id"] == SAMPLE["uuid"] and out["quality_flag"] and out["hangup_cause"] == "MEDIA_TIMEOUT"
    assert cli.main(["--cause", "USER_BUSY"]) == 0
    text = capsys.readouterr().out
    assert "What it means: The called party was busy" in text and "What to check next:" in text


def test_cli_runs_as_a_module() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "airflow_provider_vobiz.diagnose", "-"],
        input=json.dumps(SAMPLE),
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Quality issue (separate from the hangup cause)" in proc.stdout
    assert SAMPLE["caller_id_number"] not in proc.stdout
