"""Retention inventory and enforcement against moto's S3 server (a real socket, real boto3 and pyarrow)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import uuid
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError

from airflow_provider_vobiz.cdr.schema import FILE_SCHEMA
from airflow_provider_vobiz.lake import retention as enforce
from airflow_provider_vobiz.lake.manifest import content_sha256
from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.lake.records import read_legal_hold, read_object_lock
from airflow_provider_vobiz.lake.storage import LakeStorage
from airflow_provider_vobiz.reports import retention as rr

pytestmark = pytest.mark.integration

ACCOUNT = "MA_RETAIN01"
UTC = dt.timezone.utc


# -- seeding (also used by benchmarks/retention.py) -------------------------------------------------------
def day_rows(day: dt.date, n: int, bad: int = 0) -> list[dict[str, Any]]:
    """``n`` plausible CDR rows of ``day``; the first ``bad`` have a broken caller number and no sip_call_id."""
    base = dt.datetime.combine(day, dt.time(4, 0), tzinfo=UTC)
    rows = []
    for i in range(n):
        start = base + dt.timedelta(minutes=7 * i)
        rows.append(
            {
                "id": i,
                "uuid": f"{day.isoformat()}-{i:05d}",
                "call_direction": "outbound" if i % 2 else "inbound",
                "caller_id_number": "12345" if i < bad else f"+9198{i:08d}",
                "destination_number": f"+9180{i:08d}",
                "duration": 30 + i,
                "billsec": 20 + i,
                "start_time": start,
                "end_time": start + dt.timedelta(seconds=30 + i),
                "sip_call_id": None if i < bad else f"sip-{i}@vobiz",
            }
        )
    return rows


def parquet_bytes(rows: list[dict[str, Any]]) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=FILE_SCHEMA), buf, compression="zstd")
    return buf.getvalue()


def seed_partition(
    client: Any,
    layout: LakeLayout,
    account_id: str,
    day: dt.date,
    *,
    rows: int = 5,
    bad: int = 0,
    quality: str = "passed",
    legal_hold: bool = False,
    restatements: int = 0,
    data: bytes | None = None,
    version: str | None = None,
) -> dict[str, Any]:
    """Publish one partition (one part and its manifest, the retention records beside it)."""
    data = data if data is not None else parquet_bytes(day_rows(day, rows, bad))
    key = layout.part_key(account_id, day, 0, version)
    client.put_object(Bucket=layout.bucket, Key=key, Body=data)
    sha = hashlib.sha256(data).hexdigest()
    manifest = {
        "schema_version": 1,
        "account_id": account_id,
        "call_date": day.isoformat(),
        "timezone": "Asia/Kolkata",
        "row_count": rows,
        "parts": [{"key": key, "bytes": len(data), "sha256": sha, "rows": rows}],
        "content_sha256": content_sha256([sha]),
        "reconciliation": {"api_total": rows, "in_window": rows, "matched": True},
        "extracted_at": "2026-01-01T00:00:00Z",
        "history": [{"replaced_at": "2026-01-01T00:00:00Z"}] * restatements,
    }
    client.put_object(
        Bucket=layout.bucket,
        Key=layout.manifest_key(account_id, day),
        Body=_json(manifest),
    )
    verdict = {"status": quality, "content_sha256": manifest["content_sha256"]}
    client.put_object(Bucket=layout.bucket, Key=layout.verdict_key(account_id, day), Body=_json(verdict))
    if legal_hold:
        hold = {"hold": True, "reason": "seeded", "set_at": "2026-01-01T00:00:00Z"}
        client.put_object(Bucket=layout.bucket, Key=layout.legal_hold_key(account_id, day), Body=_json(hold))
    return manifest


def _json(obj: Any) -> bytes:
    import json

    return json.dumps(obj).encode()


# -- fixtures ---------------------------------------------------------------------------------------------
@pytest.fixture
def lake(s3_lake):
    layout = LakeLayout.from_uri(s3_lake.uri)
    return s3_lake, layout, LakeStorage(s3_lake.aws_conn_id, s3_lake.bucket)


@pytest.fixture
def locked_lake(s3_server, monkeypatch):
    """A bucket created with S3 Object Lock enabled (versioning on), and aws_default pointing at it."""
    bucket = f"locked-{uuid.uuid4().hex[:12]}"
    s3_server.client().create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", s3_server.conn_json())
    layout = LakeLayout.from_uri(f"s3://{bucket}/lake")
    return s3_server.client(), layout, LakeStorage("aws_default", bucket)


# -- inventory --------------------------------------------------------------------------------------------
def test_leap_window_gaps_mismatch_and_failed_quality(lake):
    s3, layout, storage = lake
    client = s3.client()
    as_of = dt.date(2025, 3, 1)  # window 2023-03-01 .. 2025-02-28 holds 2024-02-29
    seeded = [dt.date(2025, 2, 28) - dt.timedelta(days=i) for i in range(12)] + [dt.date(2023, 3, 1)]
    for day in seeded:
        seed_partition(
            client, layout, ACCOUNT, day, quality="failed" if day == dt.date(2025, 2, 20) else "passed"
        )
    # A corrupted part: same size, different bytes (only a re-hash can tell).
    flipped_day = dt.date(2025, 2, 25)
    key = layout.part_key(ACCOUNT, flipped_day, 0)
    body = bytearray(client.get_object(Bucket=layout.bucket, Key=key)["Body"].read())
    body[len(body) // 2] ^= 0xFF
    client.put_object(Bucket=layout.bucket, Key=key, Body=bytes(body))
    # A truncated part: the size alone gives it away.
    cut_day = dt.date(2025, 2, 24)
    key = layout.part_key(ACCOUNT, cut_day, 0)
    body = client.get_object(Bucket=layout.bucket, Key=key)["Body"].read()
    client.put_object(Bucket=layout.bucket, Key=key, Body=body[:-10])

    inv = rr.inventory(storage, layout, ACCOUNT, as_of, verify="manifest")
    assert len(inv.days) == 731
    by_day = {r.call_date: r for r in inv.days}
    assert by_day[cut_day].status == rr.STATUS_CHECKSUM_MISMATCH
    assert by_day[flipped_day].status == rr.STATUS_PRESENT  # manifest mode cannot see same-size corruption
    assert by_day[dt.date(2025, 2, 20)].status == rr.STATUS_FAILED_QUALITY
    assert by_day[dt.date(2024, 2, 29)].status == rr.STATUS_MISSING

    full = rr.inventory(storage, layout, ACCOUNT, as_of, verify="full")
    full_by_day = {r.call_date: r for r in full.days}
    assert full_by_day[flipped_day].status == rr.STATUS_CHECKSUM_MISMATCH
    assert "sha256 differs" in full_by_day[flipped_day].problems[0]
    assert full_by_day[dt.date(2025, 2, 27)].hash_check == "ok"

    comp = rr.completeness(storage, full, mode="full")
    report = rr.build_report(full, completeness_result=comp, lake_uri=layout.uri)
    totals = report["totals"]
    assert report["window"] == {"start": "2023-03-01", "end": "2025-02-28", "days": 731}
    assert totals["expected_days"] == 731
    assert totals["verified_days"] == 13 - 3
    assert totals["coverage"] == round(10 / 731, 6)
    assert totals["gaps"] == [{"start": "2023-03-02", "end": "2025-02-16", "days": 718}]
    assert totals["checksum_mismatch_days"] == ["2025-02-24", "2025-02-25"]
    assert totals["failed_quality_days"] == ["2025-02-20"]
    assert totals["oldest_day"] == "2023-03-01" and totals["newest_day"] == "2025-02-28"
    assert [e["call_date"] for e in totals["expiring_within_30_days"]] == ["2023-03-01"]
    # Completeness reads the days that are present (not the mismatched ones): 11 days x 5 rows.
    assert comp["rows_checked"] == 55
    assert comp["per_field"]["caller_id_number"] == {"null": 0, "invalid": 0, "share_null_or_invalid": 0.0}


def test_completeness_counts_null_and_invalid(lake):
    s3, layout, storage = lake
    for i in range(3):
        seed_partition(s3.client(), layout, ACCOUNT, dt.date(2026, 11, 20 + i), rows=10, bad=2)
    inv = rr.inventory(storage, layout, ACCOUNT, dt.date(2026, 11, 27))
    comp = rr.completeness(storage, inv, mode="sample", sample_size=2)
    assert comp["days_checked"] == 2 and comp["rows_checked"] == 20
    assert comp["checked_days"][-1] == "2026-11-22"  # the newest day is always sampled
    assert comp["per_field"]["caller_id_number"]["invalid"] == 4
    assert comp["per_field"]["sip_call_id"] == {"null": 4, "invalid": 0, "share_null_or_invalid": 0.2}
    assert comp["per_field"]["start_time"]["share_null_or_invalid"] == 0.0


def test_report_written_in_four_formats(lake):
    s3, layout, storage = lake
    for i in range(5):
        seed_partition(
            s3.client(), layout, ACCOUNT, dt.date(2026, 11, 22 + i), legal_hold=i == 0, restatements=i
        )
    report, uris = rr.run_retention_report(
        storage, layout, ACCOUNT, "2026-11-27", dag_run={"dag_id": "d", "run_id": "r"}
    )
    assert sorted(uris) == ["csv", "html", "json", "pdf"]
    key = layout.retention_report_key(ACCOUNT, "2026-11-27", "json")
    assert uris["json"] == f"s3://{layout.bucket}/{key}"
    stored = storage.get_json(key)
    assert stored["report"] == "trai_retention"
    assert stored["policy"]["obligation"] == "rests on the licensee"
    assert stored["window"]["days"] == 730
    assert stored["totals"]["verified_days"] == 5
    assert stored["totals"]["restatements"] == 10
    assert stored["totals"]["legal_hold_days"] == ["2026-11-22"]
    assert stored["dag_run"] == {"dag_id": "d", "run_id": "r"}
    csv_text = storage.get_bytes(layout.retention_report_key(ACCOUNT, "2026-11-27", "csv")).decode()
    assert csv_text.splitlines()[0].startswith("call_date,status,rows,bytes")
    assert len(csv_text.splitlines()) == 731
    html = storage.get_bytes(layout.retention_report_key(ACCOUNT, "2026-11-27", "html")).decode()
    assert "rests on the licensee" in html and "Coverage" in html
    pdf = storage.get_bytes(layout.retention_report_key(ACCOUNT, "2026-11-27", "pdf"))
    assert pdf.startswith(b"%PDF")


# -- enforcement ------------------------------------------------------------------------------------------
def test_object_lock_applied_on_the_s3_server(locked_lake):
    client, layout, storage = locked_lake
    as_of = dt.date(2026, 11, 27)
    days = [dt.date(2026, 11, 24), dt.date(2026, 11, 25), dt.date(2026, 11, 26)]
    for day in days:
        seed_partition(client, layout, ACCOUNT, day, legal_hold=day == days[0])

    result = enforce.apply_object_lock(storage, layout, ACCOUNT, as_of, mode="governance")
    assert [a["call_date"] for a in result["applied"]] == [d.isoformat() for d in days]
    assert result["errors"] == []
    head = client.head_object(Bucket=layout.bucket, Key=layout.part_key(ACCOUNT, days[1], 0))
    assert head["ObjectLockMode"] == "GOVERNANCE"
    # Kept until midnight IST of the day after call_date + 2 years.
    assert head["ObjectLockRetainUntilDate"] == dt.datetime(2028, 11, 25, 18, 30, tzinfo=UTC)
    held = client.head_object(Bucket=layout.bucket, Key=layout.part_key(ACCOUNT, days[0], 0))
    assert held["ObjectLockLegalHoldStatus"] == "ON"
    lock = read_object_lock(storage, layout, ACCOUNT, days[1])
    assert lock["mode"] == "GOVERNANCE" and lock["current"]
    assert lock["retain_until"] == "2028-11-25T18:30:00Z"
    # The lock holds: S3 refuses to delete the locked version.
    version = client.list_object_versions(Bucket=layout.bucket, Prefix=layout.part_key(ACCOUNT, days[1], 0))
    with pytest.raises(ClientError, match="AccessDenied"):
        client.delete_object(
            Bucket=layout.bucket,
            Key=layout.part_key(ACCOUNT, days[1], 0),
            VersionId=version["Versions"][0]["VersionId"],
        )
    # The next daily run locks only what is new.
    seed_partition(client, layout, ACCOUNT, as_of)
    again = enforce.apply_object_lock(storage, layout, ACCOUNT, as_of + dt.timedelta(days=1))
    assert [a["call_date"] for a in again["applied"]] == [as_of.isoformat()]
    assert again["already_locked"] == 3
    # A restatement publishes new, unlocked parts under new names; the lock record names the old ones, so
    # the next run relocks, and the manifest's bytes are never touched.
    restated = days[2]
    fresh = seed_partition(client, layout, ACCOUNT, restated, rows=7, version="v2")
    manifest_before = storage.get_bytes(layout.manifest_key(ACCOUNT, restated))
    assert not read_object_lock(storage, layout, ACCOUNT, restated)["current"]
    third = enforce.apply_object_lock(storage, layout, ACCOUNT, as_of + dt.timedelta(days=1))
    assert [(a["call_date"], a["relocked_after_restatement"]) for a in third["applied"]] == [
        (restated.isoformat(), True)
    ]
    assert storage.get_bytes(layout.manifest_key(ACCOUNT, restated)) == manifest_before
    for key in (layout.part_key(ACCOUNT, restated, 0), fresh["parts"][0]["key"]):
        head = client.head_object(Bucket=layout.bucket, Key=key)
        assert head["ObjectLockMode"] == "GOVERNANCE"  # the old parts stay locked, the new ones are now
    # The report shows the retain-until of each day.
    inv = rr.inventory(storage, layout, ACCOUNT, as_of)
    assert {r.call_date: r.retain_until for r in inv.days}[days[2]] == "2028-11-26T18:30:00Z"


def test_object_lock_needs_a_lock_enabled_bucket(lake):
    _, layout, storage = lake
    with pytest.raises(ValueError, match="does not have S3 Object Lock enabled"):
        enforce.apply_object_lock(storage, layout, ACCOUNT, dt.date(2026, 11, 27))


def test_lifecycle_rule_keeps_other_rules(lake):
    s3, layout, storage = lake
    client = s3.client()
    client.put_bucket_lifecycle_configuration(
        Bucket=layout.bucket,
        LifecycleConfiguration={
            "Rules": [
                {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}}
            ]
        },
    )
    result = enforce.apply_lifecycle(storage, layout, years=2, grace_days=30)
    assert result["expiration_days"] == 762
    rules = {r["ID"]: r for r in client.get_bucket_lifecycle_configuration(Bucket=layout.bucket)["Rules"]}
    assert set(rules) == {"tmp", enforce.LIFECYCLE_RULE_ID}
    assert rules[enforce.LIFECYCLE_RULE_ID]["Filter"]["Prefix"] == "lake/cdr/"
    assert rules[enforce.LIFECYCLE_RULE_ID]["Expiration"]["Days"] == 762
    enforce.apply_lifecycle(storage, layout, years=2, grace_days=0)  # idempotent: replaces its own rule
    assert len(client.get_bucket_lifecycle_configuration(Bucket=layout.bucket)["Rules"]) == 2


@pytest.mark.parametrize("locked", [False, True], ids=["plain", "object-lock"])
def test_purge_deletes_only_expired_days_not_on_hold_and_logs_each(lake, locked_lake, locked):
    client, layout, storage = locked_lake if locked else (lake[0].client(), lake[1], lake[2])
    as_of = dt.date(2026, 11, 27)
    # 2024-10-27 expires on 2026-10-28: past retention + 30 days grace on 2026-11-27.
    expired = [dt.date(2024, 10, 25), dt.date(2024, 10, 26), dt.date(2024, 10, 27)]
    on_hold = dt.date(2024, 10, 24)
    in_grace = dt.date(2024, 10, 28)  # expired on 2026-10-29, still within the grace period
    in_window = dt.date(2024, 11, 27)
    for day in [*expired, on_hold, in_grace, in_window]:
        seed_partition(client, layout, ACCOUNT, day, legal_hold=day == on_hold)
    client.put_object(Bucket=layout.bucket, Key=layout.validation_key(ACCOUNT, expired[0]), Body=b"{}")
    client.put_object(Bucket=layout.bucket, Key=layout.rejects_key(ACCOUNT, expired[0]), Body=b"{}\n")

    result = enforce.purge_expired(
        storage, layout, ACCOUNT, as_of, grace_days=30, dag_run={"dag_id": "d", "run_id": "r"}
    )
    assert [d["call_date"] for d in result["deleted"]] == [d.isoformat() for d in expired]
    assert result["skipped_legal_hold"] == [{"call_date": on_hold.isoformat(), "reason": "legal hold"}]
    assert result["errors"] == []
    left = {layout.parse_partition(o["Key"])[1] for o in storage.list_objects(layout.account_prefix(ACCOUNT))}
    assert left == {on_hold.isoformat(), in_grace.isoformat(), in_window.isoformat()}
    assert not list(storage.list_objects(layout.quality_prefix(ACCOUNT, expired[0])))
    assert not storage.exists(layout.rejects_key(ACCOUNT, expired[0]))
    if locked:  # every version is gone, not hidden behind a delete marker
        versions = client.list_object_versions(
            Bucket=layout.bucket, Prefix=layout.partition_prefix(ACCOUNT, expired[0])
        )
        assert not versions.get("Versions") and not versions.get("DeleteMarkers")

    log_keys = sorted(o["Key"] for o in storage.list_objects(layout.deletion_log_prefix(ACCOUNT)))
    assert len(log_keys) == 3
    entries = rr.read_deletion_log(storage, layout, ACCOUNT)
    assert [e["call_date"] for e in entries] == [d.isoformat() for d in expired]
    assert all(e["status"] == "deleted" and "retention expired" in e["reason"] for e in entries)
    assert entries[0]["row_count"] == 5 and entries[0]["dag_run"] == {"dag_id": "d", "run_id": "r"}
    assert layout.validation_key(ACCOUNT, expired[0]) in entries[0]["keys"]

    # A second run deletes nothing and leaves the log as it was (append-only, never rewritten).
    before = {k: client.head_object(Bucket=layout.bucket, Key=k)["ETag"] for k in log_keys}
    again = enforce.purge_expired(storage, layout, ACCOUNT, as_of, grace_days=30)
    assert again["deleted"] == []
    after = {o["Key"]: o["ETag"] for o in storage.list_objects(layout.deletion_log_prefix(ACCOUNT))}
    assert after == before
    report = rr.build_report(
        rr.inventory(storage, layout, ACCOUNT, as_of), deletions=entries, enforcement={"purge": result}
    )
    assert [d["call_date"] for d in report["totals"]["deletions"]] == [d.isoformat() for d in expired]


def test_purge_refused_by_a_live_lock_is_reported(locked_lake):
    client, layout, storage = locked_lake
    day = dt.date(2024, 1, 10)
    seed_partition(client, layout, ACCOUNT, day)
    # A lock longer than the policy (e.g. set by hand): S3 must refuse, and the purge must say so.
    client.put_object_retention(
        Bucket=layout.bucket,
        Key=layout.part_key(ACCOUNT, day, 0),
        Retention={"Mode": "GOVERNANCE", "RetainUntilDate": dt.datetime(2030, 1, 1, tzinfo=UTC)},
    )
    result = enforce.purge_expired(storage, layout, ACCOUNT, dt.date(2026, 11, 27))
    assert result["deleted"] == []
    assert result["skipped_locked"] == [
        {"call_date": "2024-01-10", "reason": "object lock until 2030-01-01T00:00:00Z"}
    ]
    # Nothing of the day was touched and nothing was logged: it is still a whole, readable partition.
    assert rr.read_deletion_log(storage, layout, ACCOUNT) == []
    assert storage.exists(layout.part_key(ACCOUNT, day, 0))
    assert storage.exists(layout.manifest_key(ACCOUNT, day))


def test_legal_hold_protects_a_day_from_the_purge_and_from_s3(locked_lake):
    client, layout, storage = locked_lake
    day = dt.date(2024, 1, 10)
    seed_partition(client, layout, ACCOUNT, day)
    manifest_before = storage.get_bytes(layout.manifest_key(ACCOUNT, day))
    hold = enforce.set_legal_hold(storage, layout, ACCOUNT, day, True, reason="court order 12/2026")
    assert hold["hold"] is True and hold["reason"] == "court order 12/2026"
    assert read_legal_hold(storage, layout, ACCOUNT, day) == hold
    assert storage.get_bytes(layout.manifest_key(ACCOUNT, day)) == manifest_before
    head = client.head_object(Bucket=layout.bucket, Key=layout.part_key(ACCOUNT, day, 0))
    assert head["ObjectLockLegalHoldStatus"] == "ON"
    result = enforce.purge_expired(storage, layout, ACCOUNT, dt.date(2026, 11, 27))
    assert result["deleted"] == [] and result["skipped_legal_hold"][0]["call_date"] == "2024-01-10"

    enforce.set_legal_hold(storage, layout, ACCOUNT, day, False, reason="released")
    head = client.head_object(Bucket=layout.bucket, Key=layout.part_key(ACCOUNT, day, 0))
    assert head["ObjectLockLegalHoldStatus"] == "OFF"
    result = enforce.purge_expired(storage, layout, ACCOUNT, dt.date(2026, 11, 27))
    assert [d["call_date"] for d in result["deleted"]] == ["2024-01-10"]
    with pytest.raises(FileNotFoundError, match="never published"):
        enforce.set_legal_hold(storage, layout, ACCOUNT, day, True)
