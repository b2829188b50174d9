"""The tokenised zone: cdr_tokenised/ beside cdr/, phone numbers as keyed HMAC tokens, republished with its
source, purged with it."""

from __future__ import annotations

import datetime as dt
import json
import re

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from airflow.sdk.exceptions import AirflowSkipException

from airflow_provider_vobiz.cdr.schema import E164_PATTERN, FILE_SCHEMA, PHONE_FIELDS
from airflow_provider_vobiz.config import HMAC_CONN_ID
from airflow_provider_vobiz.lake.access import publish_owner
from airflow_provider_vobiz.lake.dataset import cdr_dataset
from airflow_provider_vobiz.lake.manifest import read_manifest
from airflow_provider_vobiz.lake.publish import acquire_lease
from airflow_provider_vobiz.lake.retention import purge_expired
from airflow_provider_vobiz.operators.tokenised import VobizCdrTokenisedZoneOperator
from airflow_provider_vobiz.reports.privacy import hmac_token
from airflow_provider_vobiz.reports.tokenised import key_id
from airflow_provider_vobiz.transfers.vobiz_to_s3 import VobizCdrToS3Operator
from tests.fixtures.s3 import set_conn

pytestmark = pytest.mark.integration

DAY = "2026-03-02"
KEY = "an-hmac-key-for-the-tokens-0001"
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
_E164_ANYWHERE = re.compile(E164_PATTERN.strip("^$"))


class _TI:
    dag_id, task_id, run_id, map_index = "vobiz_cdr_ingest", "tokenised", "scheduled__2026-03-02", 0

    def xcom_push(self, key: str, value: object) -> None:
        pass


def _set_key(monkeypatch, key: str) -> None:
    set_conn(monkeypatch, HMAC_CONN_ID, json.dumps({"conn_type": "generic", "password": key}))


def _day_table(op, layout) -> pa.Table:
    table = cdr_dataset(op.storage, layout).to_table(
        filter=pc.field("call_date") == dt.date.fromisoformat(DAY)
    )
    return table.sort_by([("start_time", "ascending"), ("uuid", "ascending")])


@pytest.fixture
def late_simulator(simulator_factory, monkeypatch):
    """Some CDRs of each day reach the API 20 hours late; the clock starts before they do."""
    sim = simulator_factory(days=3, late_fraction=0.05, late_delay=dt.timedelta(hours=20))
    sim.set_now(dt.datetime(2026, 3, 3, 2, tzinfo=IST).astimezone(dt.timezone.utc))
    set_conn(monkeypatch, "vobiz_default", sim.conn_json())
    return sim


def test_the_twin_tokenises_numbers_follows_restatements_and_key_rotation(
    late_simulator, s3_lake, monkeypatch
):
    extract = VobizCdrToS3Operator(task_id="extract", lake_uri=s3_lake.uri, call_date=DAY)
    extract.execute({"ti": _TI(), "params": {}})
    _set_key(monkeypatch, KEY)
    op = VobizCdrTokenisedZoneOperator(task_id="tokenised", lake_uri=s3_lake.uri, call_date=DAY)
    first = op.execute({})
    assert first["changed"] and not first["restated"] and first["key_id"] == key_id(KEY.encode())
    assert first["partition_uri"] == f"{s3_lake.uri}/cdr_tokenised/account_id=MA_DEMO0001/call_date={DAY}/"

    raw, zone = _day_table(op, op.layout), _day_table(op, op.layout.tokenised())
    assert zone.num_rows == raw.num_rows == first["row_count"] > 0
    assert zone.schema.remove_metadata() == raw.schema.remove_metadata()
    for name in FILE_SCHEMA.names:
        if name in PHONE_FIELDS:
            assert zone.column(name).to_pylist() == [
                None if v is None else hmac_token(v, KEY) for v in raw.column(name).to_pylist()
            ]
        elif FILE_SCHEMA.field(name).type != pa.string():
            assert zone.column(name).equals(raw.column(name)), name
        values = [v for v in zone.column(name).to_pylist() if isinstance(v, str)]
        assert not any(_E164_ANYWHERE.search(v) for v in values), f"a phone number left in {name}"
    # Stable tokens: analysts count and join by number without seeing one.
    assert pc.count_distinct(zone["caller_id_number"]) == pc.count_distinct(raw["caller_id_number"])

    manifest = read_manifest(op.storage, op.layout.tokenised(), "MA_DEMO0001", DAY)
    source = read_manifest(op.storage, op.layout, "MA_DEMO0001", DAY)
    assert manifest["source"]["content_sha256"] == source["content_sha256"]
    assert manifest["tokenisation"]["key_id"] == first["key_id"] and KEY not in json.dumps(manifest)
    assert op.execute({})["changed"] is False  # up to date: not read, not rewritten

    # Late CDRs restate the day; the twin follows with its own history.
    late_simulator.set_now(dt.datetime(2026, 3, 4, 2, tzinfo=IST).astimezone(dt.timezone.utc))
    assert extract.execute({"ti": _TI(), "params": {}})["restated"] is True
    second = op.execute({})
    assert second["restated"] is True and second["row_count"] > first["row_count"]
    history = read_manifest(op.storage, op.layout.tokenised(), "MA_DEMO0001", DAY)["history"]
    assert [(h["old_row_count"], h["new_row_count"]) for h in history] == [
        (first["row_count"], second["row_count"])
    ]

    # A rotated key republishes the twin with new tokens.
    _set_key(monkeypatch, KEY + "-rotated")
    rotated = VobizCdrTokenisedZoneOperator(task_id="tokenised", lake_uri=s3_lake.uri, call_date=DAY).execute(
        {}
    )
    assert rotated["restated"] is True and rotated["key_id"] != second["key_id"]
    tokens = set(_day_table(op, op.layout.tokenised())["caller_id_number"].to_pylist())
    assert not tokens & set(zone["caller_id_number"].to_pylist())

    # Retention deletes both zones of an expired day.
    purged = purge_expired(op.storage, op.layout, "MA_DEMO0001", dt.date(2029, 6, 1))
    assert [d["call_date"] for d in purged["deleted"]] == [DAY]
    assert not list(op.storage.list_objects(op.layout.tokenised().partition_prefix("MA_DEMO0001", DAY)))


def test_without_the_key_the_task_is_skipped_with_the_reason_and_a_short_key_fails(
    vobiz_conn, s3_lake, monkeypatch
):
    op = VobizCdrTokenisedZoneOperator(task_id="tokenised", lake_uri=s3_lake.uri, call_date=DAY)
    monkeypatch.delenv(f"AIRFLOW_CONN_{HMAC_CONN_ID.upper()}", raising=False)
    with pytest.raises(AirflowSkipException, match="needs its password as the HMAC key"):
        op.execute({})
    _set_key(monkeypatch, "short")
    with pytest.raises(ValueError, match="at least 16 bytes"):
        op.execute({})
    _set_key(monkeypatch, KEY)
    with pytest.raises(Exception, match="no published partition .* extract the day first"):
        op.execute({})


def test_a_retry_takes_over_the_lease_its_killed_try_left(late_simulator, s3_lake, monkeypatch):
    VobizCdrToS3Operator(task_id="extract", lake_uri=s3_lake.uri, call_date=DAY).execute(
        {"ti": _TI(), "params": {}}
    )
    _set_key(monkeypatch, KEY)
    op = VobizCdrTokenisedZoneOperator(task_id="tokenised", lake_uri=s3_lake.uri, call_date=DAY)
    zone = op.layout.tokenised()
    # The killed try held the day's lease; its retry (same task instance) goes on at once.
    acquire_lease(op.storage, zone.lease_key("MA_DEMO0001", DAY), publish_owner({"ti": _TI()}), "killed-try")
    assert op.execute({"ti": _TI()})["changed"] is True
