"""Bad records are quarantined, not fatal; the list method loses nothing silently.

Every kind of bad record the simulator can serve goes through both methods (the export CSV and the paged
JSON) over real sockets into moto's S3: the day is published without it, ``rejects.jsonl`` holds it with
its reason and masked numbers, and only past ``max_reject_ratio`` does the task fail. Ground truth is the
session's clean simulator, which serves the same seeded calls without the faults.
"""

from __future__ import annotations

import json
import re

import pytest

from airflow_provider_vobiz.cdr.schema import API_FIELD_NAMES
from airflow_provider_vobiz.cdr.window import DayWindow
from airflow_provider_vobiz.hooks.exceptions import VobizPaginationError
from airflow_provider_vobiz.hooks.vobiz import VobizHook
from airflow_provider_vobiz.lake.ingest import ReconciliationError, RejectThresholdError, ingest_day
from airflow_provider_vobiz.lake.manifest import read_manifest
from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.lake.storage import LakeStorage
from tests.fixtures.s3 import set_conn

pytestmark = pytest.mark.integration

ACCOUNT = "MA_DEMO0001"
DAY = "2026-03-02"
#: A phone number in full: what must never reach rejects.jsonl or an error message.
FULL_NUMBER = re.compile(r"\+?\d{10,}")

#: kind -> (the reason's pattern (JSON, CSV), extra simulator config)
KINDS = {
    "wrong_type": ((r'duration: expected an integer, got "abc"',) * 2, {}),
    "bad_shape": (
        (
            r"record: expected a JSON object, got an array",
            rf"row: {len(API_FIELD_NAMES) + 1} cells, the header has",
        ),
        {},
    ),
    "short_row": (
        (
            r"record: expected a JSON object, got a string",
            rf"row: \d+ cells, the header has {len(API_FIELD_NAMES)}",
        ),
        {},
    ),
    "invalid_utf8": ((r"caller_id_name: invalid UTF-8",) * 2, {}),
    "oversized": ((rf"failure_reason: {10 << 20} bytes, over the 16384-byte limit",) * 2, {}),
    "oversized_small": (
        (r"failure_reason: 20000 bytes, over the 16384-byte limit",) * 2,
        {"malformed_field_bytes": 20000},
    ),
    "non_finite": ((r"mos: expected a finite number, got nan",) * 2, {}),
    "start_1970": ((r"start_time 1970-01-01T00:00:00\+00:00 is far outside the query's dates",) * 2, {}),
    "start_2099": ((r"start_time 2099-01-01T00:00:00\+00:00 is far outside the query's dates",) * 2, {}),
}


@pytest.fixture
def lake(s3_lake):
    return LakeStorage(s3_lake.aws_conn_id, s3_lake.bucket), LakeLayout.from_uri(s3_lake.uri)


def _hook(monkeypatch, sim):
    set_conn(monkeypatch, "vobiz_default", sim.conn_json())
    return VobizHook("vobiz_default", backoff_base_seconds=0.01, backoff_max_seconds=0.05)


def _published_uuids(storage, layout) -> list[str]:
    import pyarrow.parquet as pq

    m = read_manifest(storage, layout, ACCOUNT, DAY)
    return [
        u
        for p in m["parts"]
        for u in pq.read_table(storage.path(p["key"]), columns=["uuid"], filesystem=storage.filesystem)[
            "uuid"
        ].to_pylist()
    ]


def _rejects(storage, layout) -> list[dict]:
    # The manifest names the rejects object of the version it points to.
    key = read_manifest(storage, layout, ACCOUNT, DAY)["rejects"]["key"]
    body = storage.get_bytes(key).decode("utf-8")
    assert not FULL_NUMBER.search(body), "a full phone number reached rejects.jsonl"
    return [json.loads(line) for line in body.splitlines()]


def _uuid_of(record) -> str:
    """The uuid inside a quarantined record, whatever its shape (object, array, bare text)."""
    if isinstance(record, dict):
        return record["uuid"]
    if isinstance(record, list):
        return record[1]
    return record.split(",")[1]


@pytest.mark.parametrize("method", ["export", "list"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_each_bad_record_kind_is_quarantined_and_the_day_published(
    simulator_factory, vobiz_simulator, lake, monkeypatch, kind, method
):
    storage, layout = lake
    reasons, extra = KINDS[kind]
    sim = simulator_factory(malformed_records=2, malformed_kinds=(kind.split("_small")[0],), **extra)
    summary = ingest_day(_hook(monkeypatch, sim), storage, layout, ACCOUNT, DAY, method=method)

    rejects = _rejects(storage, layout)
    assert len(rejects) == 3 * 2 == summary["rejects"]  # two per day of the padded three-day query
    for line in rejects:
        assert re.fullmatch(reasons[method == "export"] + ".*", line["reason"]), line["reason"]
        if isinstance(line["record"], dict) and line["record"].get("caller_id_number"):
            assert line["record"]["caller_id_number"].startswith("••••")
    rejected = {_uuid_of(line["record"]) for line in rejects}
    w = DayWindow.for_day(DAY, "Asia/Kolkata")
    truth = {r["uuid"] for r in vobiz_simulator.records(w.start, w.end)}
    assert rejected & truth, "some of the day's own calls were bad"
    assert sorted(_published_uuids(storage, layout)) == sorted(truth - rejected)

    m = read_manifest(storage, layout, ACCOUNT, DAY)
    rec = m["reconciliation"]
    assert rec["matched"] and rec["records_read"] == rec["api_total"] == rec["summary_total"] == 900
    assert (
        rec["records_read"] == rec["rejected"] + rec["duplicates"] + rec["outside_window"] + rec["in_window"]
    )
    assert m["rejects"]["count"] == 6 and sum(m["rejects"]["by_field"].values()) == 6
    assert rec["export_rows"] == (900 if method == "export" else None)


@pytest.mark.parametrize("method", ["export", "list"])
def test_rejects_over_the_threshold_fail_the_task_clearly(simulator_factory, lake, monkeypatch, method):
    storage, layout = lake
    sim = simulator_factory(
        malformed_records=30, malformed_kinds=("wrong_type", "non_finite", "invalid_utf8")
    )
    hook = _hook(monkeypatch, sim)
    with pytest.raises(RejectThresholdError) as err:
        ingest_day(hook, storage, layout, ACCOUNT, DAY, method=method)
    text = str(err.value)
    assert "90 of 900 records (10.00%) for 2026-03-02" in text
    assert "over max_reject_ratio 0.01 (9 allowed)" in text
    assert "by field: caller_id_name: 30, duration: 30, mos: 30" in text and "raise max_reject_ratio" in text
    assert not FULL_NUMBER.search(text)
    assert read_manifest(storage, layout, ACCOUNT, DAY) is None  # nothing published
    # A threshold that allows them publishes the rest.
    summary = ingest_day(hook, storage, layout, ACCOUNT, DAY, method=method, max_reject_ratio=0.1)
    assert summary["rejects"] == 90 and summary["row_count"] > 0
    assert read_manifest(storage, layout, ACCOUNT, DAY)["rejects"]["max_reject_ratio"] == 0.1


def test_a_repeat_plus_a_short_page_fails_naming_the_missing_call(simulator_factory, lake, monkeypatch):
    """records == pagination.total, but one call is missing: the distinct count catches it."""
    storage, layout = lake
    sim = simulator_factory(duplicate_across_pages=True)
    sim.add_fault(kind="truncate", records=1, times=1, endpoint="list", page=5)
    with pytest.raises(VobizPaginationError, match=r"899 distinct records \(900 rows, 1 repeated: .*\) but "
                       r"pagination.total was 900: 1 missing \(difference -1\)"):  # fmt: skip
        ingest_day(_hook(monkeypatch, sim), storage, layout, ACCOUNT, DAY, method="list")
    assert read_manifest(storage, layout, ACCOUNT, DAY) is None


@pytest.mark.parametrize("method", ["export", "list"])
def test_an_under_reported_total_fails_naming_the_missing_calls(simulator_factory, lake, monkeypatch, method):
    """pagination.total 500 low with pages and has_next agreeing: the summary of a second query counts them."""
    storage, layout = lake
    sim = simulator_factory()
    sim.add_fault(kind="undercount", records=500, times=None, endpoint="list")
    with pytest.raises(ReconciliationError) as err:
        ingest_day(_hook(monkeypatch, sim), storage, layout, ACCOUNT, DAY, method=method)
    text = str(err.value)
    if method == "list":
        assert "read 400 records (400 distinct)" in text
        assert "the summary's totalCalls (a second query) is 900 (500 call(s) missing)" in text
    else:  # the export holds every call: the low total is what disagrees
        assert "read 900 records (900 distinct)" in text
        assert "pagination.total is 400 (500 call(s) more than expected)" in text
    assert read_manifest(storage, layout, ACCOUNT, DAY) is None
