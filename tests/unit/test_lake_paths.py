from __future__ import annotations

import datetime as dt

import pytest

from airflow_provider_vobiz.cdr.schema import FILE_SCHEMA, PARTITION_KEYS
from airflow_provider_vobiz.lake.paths import LakeLayout


def test_layout_matches_the_data_contract():
    lake = LakeLayout.from_uri("s3://bucket/some/prefix/")
    assert lake.bucket == "bucket" and lake.prefix == "some/prefix"
    assert lake.part_key("MA_1", dt.date(2026, 3, 1), 0) == (
        "some/prefix/cdr/account_id=MA_1/call_date=2026-03-01/part-00000.parquet"
    )
    assert lake.manifest_key("MA_1", "2026-03-01").endswith("call_date=2026-03-01/_manifest.json")
    assert lake.validation_key("MA_1", "2026-03-01") == (
        "some/prefix/quality/account_id=MA_1/call_date=2026-03-01/validation.json"
    )
    assert lake.rejects_key("MA_1", "2026-03-01") == (
        "some/prefix/quarantine/account_id=MA_1/call_date=2026-03-01/rejects.jsonl"
    )
    assert lake.summary_report_key("MA_1", "2026-03", "pdf") == (
        "some/prefix/reports/trai_summary/account_id=MA_1/period=2026-03/summary.pdf"
    )
    assert lake.retention_report_key("MA_1", "2026-03-31", "csv") == (
        "some/prefix/reports/trai_retention/account_id=MA_1/as_of=2026-03-31/retention.csv"
    )
    assert LakeLayout.parse_partition(lake.part_key("MA_1", "2026-03-01", 3)) == ("MA_1", "2026-03-01")


def test_bucket_root_lake():
    lake = LakeLayout.from_uri("s3://bucket")
    assert lake.part_key("A", "2026-01-01", 1) == "cdr/account_id=A/call_date=2026-01-01/part-00001.parquet"


@pytest.mark.parametrize("bad", ["bucket/prefix", "s3://", "http://x/y", ""])
def test_bad_uri(bad):
    with pytest.raises(ValueError):
        LakeLayout.from_uri(bad)


@pytest.mark.parametrize("account", ["../etc", "a/b", "", "x" * 65])
def test_account_ids_cannot_escape_the_layout(account):
    with pytest.raises(ValueError):
        LakeLayout.from_uri("s3://b/p").partition_prefix(account, "2026-01-01")


def test_partition_keys_are_not_in_the_files():
    for key in PARTITION_KEYS:
        assert key not in FILE_SCHEMA.names
    assert FILE_SCHEMA.names[-1] == "extra"
    assert len(FILE_SCHEMA) == 43  # 43 documented fields - account_id + extra


def test_report_roots_contain_every_report_key():
    lake = LakeLayout.from_uri("s3://bucket/p")
    assert lake.summary_reports_root == "p/reports/trai_summary/"
    assert lake.retention_reports_root == "p/reports/trai_retention/"
    assert lake.summary_report_key("A", "2026-03", "pdf").startswith(lake.summary_reports_root)
    assert lake.retention_report_key("A", "2026-03-31", "pdf").startswith(lake.retention_reports_root)
    assert lake.summary_reports_root.startswith(lake.reports_root)
