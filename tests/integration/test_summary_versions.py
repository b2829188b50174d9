"""A summary's status and versions without the DAGs: provisional turns final on the day the rule says, a
re-run that states the same thing replaces the report in place, and every superseded version is kept."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest

from airflow_provider_vobiz.privacy import NumberPolicy
from airflow_provider_vobiz.reports import summary as S

from .test_summary_report import ACCOUNT, KEY, ORDINARY, _day_records, _write_day

pytestmark = pytest.mark.integration

MONTH = ORDINARY.strftime("%Y-%m")
LAST = dt.date(2026, 10, 31)


@pytest.fixture
def month_lake(s3_lake):
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage

    layout = LakeLayout.from_uri(s3_lake.uri)
    storage = LakeStorage(s3_lake.aws_conn_id, s3_lake.bucket)
    _write_day(storage, layout, ORDINARY, _day_records(ORDINARY, 40, 0.5, 3), "passed")
    _write_day(storage, layout, LAST, _day_records(LAST, 30, 0.4, 4), "passed")
    return storage, layout


def test_the_rule_of_provisional_and_final() -> None:
    # The last day's final re-pull runs at the start of LAST + repull_days + 1; a day of margin after it.
    assert S.final_from(MONTH, 3) == dt.date(2026, 11, 5)
    assert S.report_status(MONTH, dt.date(2026, 11, 1), 3) == S.PROVISIONAL
    assert S.report_status(MONTH, dt.date(2026, 11, 4), 3) == S.PROVISIONAL
    assert S.report_status(MONTH, dt.date(2026, 11, 5), 3) == S.FINAL
    assert S.report_status("2026-10-15", dt.date(2026, 10, 17), 0) == S.FINAL
    with pytest.raises(ValueError, match="repull_days"):
        S.final_from(MONTH, -1)


def test_provisional_turns_final_and_each_version_is_kept(month_lake) -> None:
    storage, layout = month_lake
    policy = NumberPolicy(key=KEY)
    day1, day5 = dt.date(2026, 11, 1), dt.date(2026, 11, 5)

    v1, _ = S.run_summary(storage, layout, ACCOUNT, MONTH, policy, repull_days=3, today=day1)
    assert (v1["status"], v1["version"], v1["supersedes"]) == ("provisional", 1, [])
    assert v1["status_rule"] == {"repull_days": 3, "as_of": "2026-11-01", "final_from": "2026-11-05"}
    key = layout.summary_report_key(ACCOUNT, MONTH, "json")
    v1_bytes = storage.get_bytes(key)

    # Nothing changed: no refresh is due, and a re-run replaces the report in place, lineage and all.
    assert S.stale_reports(storage, layout, ACCOUNT, [], repull_days=3, today=day1 + dt.timedelta(1)) == []
    again, _ = S.run_summary(storage, layout, ACCOUNT, MONTH, policy, repull_days=3, today=day1)
    assert (again["version"], again["supersedes"]) == (1, [])

    # On the day the rule names, the month report is stale: it turns final and the old version is kept.
    assert S.stale_reports(storage, layout, ACCOUNT, [], repull_days=3, today=day5) == [
        (MONTH, "status provisional -> final")
    ]
    v1_bytes = storage.get_bytes(key)
    v2, _ = S.run_summary(storage, layout, ACCOUNT, MONTH, policy, repull_days=3, today=day5)
    assert (v2["status"], v2["version"]) == ("final", 2)
    (old,) = v2["supersedes"]
    digest = hashlib.sha256(v1_bytes).hexdigest()
    assert old["sha256"] == digest and old["reason"] == "status provisional -> final"
    for ext in ("json", "csv", "html", "pdf"):
        assert storage.exists(layout.summary_report_archive_key(ACCOUNT, MONTH, digest, ext))
    assert storage.get_bytes(layout.summary_report_archive_key(ACCOUNT, MONTH, digest, "json")) == v1_bytes
    # Figures are the same: only the status and the lineage changed.
    assert v2["totals"] == v1["totals"]

    # A day published late makes a third version; the lineage lists both older ones, newest first.
    _write_day(
        storage, layout, dt.date(2026, 10, 2), _day_records(dt.date(2026, 10, 2), 10, 0.5, 5), "passed"
    )
    (stale,) = S.stale_reports(storage, layout, ACCOUNT, ["2026-10-02"], repull_days=3, today=day5)
    assert stale == (MONTH, "2026-10-02 published since")
    v3, _ = S.run_summary(storage, layout, ACCOUNT, MONTH, policy, repull_days=3, today=day5)
    assert [v["version"] for v in v3["supersedes"]] == [2, 1]
    assert json.loads(storage.get_bytes(key))["version"] == 3


def test_a_daily_report_turns_final_by_itself(month_lake) -> None:
    storage, layout = month_lake
    policy = NumberPolicy(key=KEY)
    day = LAST.isoformat()
    made = dt.date(2026, 11, 1)  # the morning after: provisional until LAST + 3 + 2
    v1, _ = S.run_summary(storage, layout, ACCOUNT, day, policy, repull_days=3, today=made)
    assert v1["status"] == S.PROVISIONAL and v1["status_rule"]["final_from"] == "2026-11-05"
    # Not yet: nothing to refresh on the 4th. On the 5th (or up to two days late) the day report is stale.
    assert S.stale_reports(storage, layout, ACCOUNT, [], repull_days=3, today=dt.date(2026, 11, 4)) == []
    for late in (0, 2):
        today = dt.date(2026, 11, 5) + dt.timedelta(days=late)
        assert (day, "status provisional -> final") in S.stale_reports(
            storage, layout, ACCOUNT, [], repull_days=3, today=today
        )
    v2, _ = S.run_summary(storage, layout, ACCOUNT, day, policy, repull_days=3, today=dt.date(2026, 11, 5))
    assert (v2["status"], v2["version"]) == (S.FINAL, 2)
