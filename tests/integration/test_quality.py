"""The quality step against real Parquet partitions on the moto S3 server.

A clean partition passes; for every family of expectations, a partition with one crafted defect fails
exactly that expectation at its severity; the operator fails its task with a readable, masked message.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pypdf
import pytest

from airflow_provider_vobiz.cdr.schema import PHONE_FIELDS
from airflow_provider_vobiz.lake.manifest import read_manifest, write_manifest
from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.lake.records import read_quality
from airflow_provider_vobiz.lake.storage import LakeStorage
from airflow_provider_vobiz.quality import QualityError, validate_partition
from tests.support.lake_data import clean_day, write_partition

pytestmark = pytest.mark.integration

ACCOUNT = "MA_QUALITY1"
DAY = dt.date(2026, 3, 14)
ROWS = 300


@dataclass
class Partition:
    storage: LakeStorage
    layout: LakeLayout
    table: pa.Table

    def manifest(self) -> dict[str, Any]:
        return read_manifest(self.storage, self.layout, ACCOUNT, DAY)

    def quality(self) -> dict[str, Any]:
        return read_quality(self.storage, self.layout, ACCOUNT, DAY)

    def validate(self, **kwargs: Any):
        return validate_partition(self.storage, self.layout, ACCOUNT, DAY, **kwargs)


def set_values(table: pa.Table, column: str, values: dict[int, Any]) -> pa.Table:
    """``table`` with ``column[i] = v`` for each ``i: v`` (small tables: tests only)."""
    index = table.schema.get_field_index(column)
    data = table[column].to_pylist()
    for i, v in values.items():
        data[i] = v
    return table.set_column(index, table.schema.field(index), pa.array(data, table.schema.field(index).type))


def answered_rows(table: pa.Table) -> list[int]:
    return pc.indices_nonzero(pc.greater(table["billsec"], 0)).to_pylist()


def unanswered_rows(table: pa.Table) -> list[int]:
    return pc.indices_nonzero(pc.equal(table["billsec"], 0)).to_pylist()


def publish(lake, table: pa.Table, **kwargs: Any) -> Partition:
    storage = LakeStorage(lake.aws_conn_id, lake.bucket)
    layout = LakeLayout.from_uri(lake.uri)
    write_partition(storage, layout, ACCOUNT, DAY, table, **kwargs)
    return Partition(storage, layout, table)


@pytest.fixture(scope="module")
def clean() -> pa.Table:
    return clean_day(ROWS, DAY, seed=11)


def test_clean_partition_passes_and_result_is_kept_beside_it(s3_lake, clean):
    part = publish(s3_lake, clean, rows_per_part=120)  # three parts: all are read
    result = part.validate()
    assert result.status == "passed", result.message()
    assert result.rows == ROWS
    assert len(result.checks) >= 20 and all(c.success for c in result.checks)

    quality = part.quality()
    assert quality["status"] == "passed"
    assert (
        quality["rows"] == ROWS
        and quality["failed_critical"] == []
        and quality["evaluated"] == len(result.checks)
    )
    assert quality["validation_key"] == part.layout.validation_key(ACCOUNT, DAY, "json")
    assert quality["content_sha256"] == part.manifest()["content_sha256"]

    stored = part.storage.get_json(quality["validation_key"])
    assert stored["success"] is False or stored["success"] is True  # a GX result document
    assert {r["expectation_config"]["meta"]["check"] for r in stored["results"]} >= {
        "uuid_unique",
        "mos_in_range",
    }
    assert stored["meta"]["vobiz"]["status"] == "passed"
    assert stored["meta"]["vobiz"]["reconciliation"]["api_total"] == ROWS + 7
    page = part.storage.get_bytes(quality["validation_html_key"]).decode()
    assert "<table" in page and "PASSED" in page and "uuid_unique" in page
    # The same page as PDF beside it, for people who file documents.
    assert result.pdf_key == part.layout.validation_key(ACCOUNT, DAY, "pdf")
    pdf = part.storage.get_bytes(result.pdf_key)
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "PASSED" in text and "uuid_unique" in text and ACCOUNT in text


# Each case: the defect, the one expectation it must fail, and the resulting partition status.
def _first(rows_of: Callable[[pa.Table], list[int]]):
    return lambda t: rows_of(t)[0]


CASES: list[tuple[str, Callable[[pa.Table], pa.Table], str, str]] = [
    ("uuid missing", lambda t: set_values(t, "uuid", {5: None}), "uuid_not_null", "failed"),
    ("uuid repeated", lambda t: set_values(t, "uuid", {6: t["uuid"][5].as_py()}), "uuid_unique", "failed"),
    ("start_time missing", lambda t: set_values(t, "start_time", {7: None}), "start_time_not_null", "failed"),
    (
        "unknown direction",
        lambda t: set_values(t, "call_direction", {8: "sideways"}),
        "call_direction_known",
        "failed",
    ),
    (
        "caller number lost its plus",
        lambda t: set_values(t, "caller_id_number", {9: t["caller_id_number"][9].as_py()[1:]}),
        "caller_id_number_e164",
        "failed",
    ),
    (
        "destination is an identifier",
        lambda t: set_values(t, "destination_number", {9: "sip:ivr-main@voice.example"}),
        "destination_number_e164",
        "warning",
    ),
    (
        "negative ring_time",
        lambda t: set_values(t, "ring_time", {10: -1}),
        "ring_time_non_negative",
        "failed",
    ),
    (
        "billsec over duration",
        lambda t: set_values(
            t, "billsec", {answered_rows(t)[0]: t["duration"][answered_rows(t)[0]].as_py() + 5}
        ),
        "billsec_within_duration",
        "failed",
    ),
    (
        "answered without answer_time",
        lambda t: set_values(t, "answer_time", {answered_rows(t)[1]: None}),
        "answered_has_answer_time",
        "failed",
    ),
    (
        "unanswered with answer_time",
        lambda t: set_values(
            t, "answer_time", {unanswered_rows(t)[0]: t["start_time"][unanswered_rows(t)[0]].as_py()}
        ),
        "unanswered_has_no_answer_time",
        "failed",
    ),
    (
        "ends before it starts",
        lambda t: set_values(t, "end_time", {12: t["start_time"][12].as_py() - dt.timedelta(seconds=1)}),
        "end_after_start",
        "failed",
    ),
    ("MOS off the scale", lambda t: set_values(t, "mos", {13: 0.0}), "mos_in_range", "failed"),
    ("negative jitter", lambda t: set_values(t, "jitter", {14: -0.5}), "jitter_non_negative", "failed"),
    (
        "packet loss over 100%",
        lambda t: set_values(t, "packet_loss", {15: 101.0}),
        "packet_loss_percentage",
        "failed",
    ),
    ("unknown currency", lambda t: set_values(t, "currency", {16: "RUPEES"}), "currency_iso4217", "failed"),
    (
        "undocumented hangup cause",
        lambda t: set_values(t, "hangup_cause", {17: "COSMIC_RAY_RESET"}),
        "hangup_cause_documented",
        "warning",
    ),
]


@pytest.mark.parametrize(("defect", "corrupt", "check", "status"), CASES, ids=[c[0] for c in CASES])
def test_each_family_fails_exactly_its_expectation(s3_lake, clean, defect, corrupt, check, status):
    part = publish(s3_lake, corrupt(clean))
    result = part.validate()
    failed = [c for c in result.checks if not c.success]
    assert [c.name for c in failed] == [check], result.message()
    repeated = 2 if check == "uuid_unique" else 1  # both rows of a repeated uuid are unexpected
    assert failed[0].unexpected_count == repeated and failed[0].error is None
    assert result.status == status
    quality = part.quality()
    assert quality["status"] == status
    assert quality["failed_critical" if status == "failed" else "failed_warning"] == [check]
    assert quality["unexpected"] == {check: repeated}


RECONCILIATION = [
    ("api total not all read", {"records_read": ROWS + 6}, None, "api_records_read"),
    ("rows missing from the files", None, {"row_count": ROWS + 1}, "rows_match_manifest"),
    ("in-window count disagrees", {"in_window": ROWS - 2}, None, "rows_match_api_in_window"),
    (
        "records quarantined",
        None,
        {"rejects": {"count": 2, "key": "quarantine/rejects.jsonl"}},
        "no_records_quarantined",
    ),
]


@pytest.mark.parametrize(
    ("defect", "recon", "manifest", "check"), RECONCILIATION, ids=[c[0] for c in RECONCILIATION]
)
def test_reconciliation_with_the_api_is_part_of_the_result(s3_lake, clean, defect, recon, manifest, check):
    part = publish(s3_lake, clean, reconciliation=recon)
    if manifest:
        write_manifest(part.storage, part.layout, {**part.manifest(), **manifest})
    result = part.validate()
    assert [c.name for c in result.checks if not c.success] == [check], result.message()
    assert result.status == ("warning" if check == "no_records_quarantined" else "failed")
    assert check in result.message()


def test_failure_message_is_readable_and_masks_phone_numbers(s3_lake, clean):
    bad = {i: clean["caller_id_number"][i].as_py()[1:] for i in (20, 21, 22, 23)}  # lost their "+"
    table = set_values(clean, "caller_id_number", bad)
    table = set_values(table, "mos", {30: 7.5, 31: -1.0})
    part = publish(s3_lake, table)
    result = part.validate()
    message = result.message()
    lines = message.splitlines()
    assert lines[0].startswith(f"Data quality FAILED for account {ACCOUNT}, call_date {DAY}")
    assert "2 critical" in lines[0]
    caller = next(line for line in lines if "caller_id_number_e164" in line)
    assert "4 unexpected of 300" in caller and "CRITICAL" in caller
    assert caller.count("'••••") == 3  # three examples, each masked to its last four digits
    for number in bad.values():
        assert f"'••••{number[-4:]}'" in caller or number[-4:] not in caller
    mos = next(line for line in lines if "mos_in_range" in line)
    assert "2 unexpected" in mos and "7.5" in mos and "-1.0" in mos
    assert "validation.html" in lines[-1]

    # No full number anywhere people or machines read: message, validation.json, validation.html.
    numbers = set()
    for field in PHONE_FIELDS:
        if field in table.column_names:
            numbers.update(v for v in table[field].to_pylist() if v)
    stored = part.storage.get_bytes(part.layout.validation_key(ACCOUNT, DAY, "json")).decode()
    page = part.storage.get_bytes(part.layout.validation_key(ACCOUNT, DAY, "html")).decode()
    for text in (message, stored, page):
        digits = set(re.findall(r"\d{7,}", text))
        assert not digits & {re.sub(r"\D", "", n) for n in numbers}
    json.loads(stored)


def test_user_suite_replaces_the_shipped_one(s3_lake, clean, tmp_path):
    suite = {
        "name": "strict_mos",
        "expectations": [
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "mos", "min_value": 4.9, "max_value": 5},
                "meta": {"check": "excellent_audio_only"},
                "severity": "warning",
            }
        ],
    }
    path = tmp_path / "suite.json"
    path.write_text(json.dumps(suite))
    part = publish(s3_lake, clean)
    result = part.validate(suite_path=str(path))
    assert [c.name for c in result.checks] == [
        "excellent_audio_only",
        "api_records_read",
        "no_records_quarantined",
    ]
    assert result.status == "warning"
    assert result.suite_name == "strict_mos" and part.quality()["suite"] == "strict_mos"


def test_a_suite_column_absent_from_the_partition_is_a_failure_not_a_crash(s3_lake, clean, tmp_path):
    suite = {
        "name": "typo",
        "expectations": [
            {
                "type": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "caller_number"},
                "severity": "critical",
            }
        ],
    }
    path = tmp_path / "suite.json"
    path.write_text(json.dumps(suite))
    result = publish(s3_lake, clean).validate(suite_path=str(path))
    assert result.status == "failed"
    (check,) = result.failed("critical")
    assert check.error and "caller_number" in check.error
    assert "could not be evaluated" in result.message()


def test_missing_partition_is_a_clear_error(s3_lake):
    storage = LakeStorage(s3_lake.aws_conn_id, s3_lake.bucket)
    with pytest.raises(QualityError, match=r"no published partition for account MA_QUALITY1 on 2026-03-14"):
        validate_partition(storage, LakeLayout.from_uri(s3_lake.uri), ACCOUNT, DAY)


def test_empty_day_passes_when_the_api_had_no_calls(s3_lake, clean):
    part = publish(
        s3_lake,
        clean.slice(0, 0),
        reconciliation={"api_total": 0, "records_read": 0, "duplicates": 0, "outside_window": 0},
    )
    result = part.validate()
    assert result.status == "passed", result.message()
    assert result.rows == 0


def test_a_partition_restated_during_validation_is_not_stamped(s3_lake, clean, monkeypatch):
    from airflow_provider_vobiz.quality import validate as module

    part = publish(s3_lake, clean)
    real_run_gx = module.run_gx

    def restate_meanwhile(*args, **kwargs):
        out = real_run_gx(*args, **kwargs)
        write_manifest(part.storage, part.layout, {**part.manifest(), "content_sha256": "f" * 64})
        return out

    monkeypatch.setattr(module, "run_gx", restate_meanwhile)
    with pytest.raises(QualityError, match="was replaced while it was being validated"):
        part.validate()
    assert part.quality()["status"] == "pending"
    assert not part.storage.exists(part.layout.validation_key(ACCOUNT, DAY, "json"))
