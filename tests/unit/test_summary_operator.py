"""The summary operator's pieces that need no servers: asset events to report days, argument checks."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from airflow_provider_vobiz.config import CDR_PARTITION_ASSET
from airflow_provider_vobiz.operators.summary_report import TraiSummaryReportOperator, days_from_asset_events


def _event(**extra):
    return SimpleNamespace(extra=extra)


def test_days_from_asset_events_dedupes_and_sorts() -> None:
    events = {
        CDR_PARTITION_ASSET: [
            _event(account_id="MA_B", call_date="2026-10-02", lake_uri="s3://x/lake"),
            _event(account_id="MA_A", call_date="2026-10-03"),
            _event(account_id="MA_B", call_date="2026-10-02", lake_uri="s3://x/lake", changed=True),
        ]
    }
    assert days_from_asset_events(events, "s3://default/lake") == [
        {"account_id": "MA_A", "period": "2026-10-03", "lake_uri": "s3://default/lake"},
        {"account_id": "MA_B", "period": "2026-10-02", "lake_uri": "s3://x/lake"},
    ]
    assert days_from_asset_events(None, "s3://d") == [] and days_from_asset_events({}, "s3://d") == []


def test_days_from_asset_events_rejects_bad_extra() -> None:
    with pytest.raises(ValueError, match="without account_id/call_date"):
        days_from_asset_events({CDR_PARTITION_ASSET: [_event(call_date="2026-10-01")]}, "s3://d")
    with pytest.raises(ValueError):
        days_from_asset_events(
            {CDR_PARTITION_ASSET: [_event(account_id="A", call_date="yesterday")]}, "s3://d"
        )


def test_operator_arguments() -> None:
    op = TraiSummaryReportOperator(
        task_id="t", account_id="MA_A", period="2026-10", lake_uri="s3://b/lake", formats=["pdf"]
    )
    assert op.formats == ("pdf", "json")  # JSON is always written: the UI and the XCom read it
    assert {"account_id", "period", "lake_uri", "settings"} <= set(op.template_fields)
    assert op.layout.bucket == "b"
