"""A quoted export CSV value may hold CR, LF or CRLF (RFC 4180): such a record is ingested whole.

The simulator's multiline records carry CR, LF, CRLF, quotes and commas in their free-text fields, which its
export quotes. The day goes in through the export over a real socket into moto's S3; every stored value must
equal the API's, and the list method, reading the same records as JSON, must find the partition unchanged
(the same content_sha256). Both ways the export is read are covered: a quote in the first block (the reader
keeps newlines in values from the start) and a quote first met later (the streamed parse is redone).
"""

from __future__ import annotations

import logging

import pyarrow.parquet as pq
import pytest

from airflow_provider_vobiz.cdr.window import DayWindow
from airflow_provider_vobiz.hooks.vobiz import VobizHook
from airflow_provider_vobiz.lake import ingest
from airflow_provider_vobiz.lake.ingest import ingest_day
from airflow_provider_vobiz.lake.manifest import read_manifest
from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.lake.storage import LakeStorage
from airflow_provider_vobiz.simulator.data import MULTILINE_VALUES
from tests.fixtures.s3 import set_conn

pytestmark = pytest.mark.integration

ACCOUNT = "MA_DEMO0001"
DAY = "2026-03-02"
LATE_QUOTE = "quotes values past its first block"


@pytest.mark.parametrize("block_size", [4 << 20, 4 << 10], ids=["quote-in-first-block", "quote-later"])
def test_values_with_newlines_are_ingested_whole_through_export_and_list(
    simulator_factory, s3_lake, monkeypatch, caplog, block_size
):
    kinds = {nl for v in MULTILINE_VALUES.values() for nl in ("\r\n", "\r", "\n", '"', ",") if nl in v}
    assert kinds == {"\r\n", "\r", "\n", '"', ","}
    monkeypatch.setattr(ingest.export, "CSV_BLOCK_SIZE", block_size)
    storage, layout = LakeStorage(s3_lake.aws_conn_id, s3_lake.bucket), LakeLayout.from_uri(s3_lake.uri)
    sim = simulator_factory(multiline_records=12)
    set_conn(monkeypatch, "vobiz_default", sim.conn_json())
    hook = VobizHook("vobiz_default", backoff_base_seconds=0.01, backoff_max_seconds=0.05)

    with caplog.at_level(logging.INFO, logger=ingest.log.name):
        first = ingest_day(hook, storage, layout, ACCOUNT, DAY, method="export")
    assert (LATE_QUOTE in caplog.text) == (block_size < 1 << 20)

    m = read_manifest(storage, layout, ACCOUNT, DAY)
    rec = m["reconciliation"]
    assert first["rejects"] == 0 and m["rejects"]["count"] == 0
    assert rec["matched"] and rec["records_read"] == rec["api_total"] == rec["export_rows"] == 900

    w = DayWindow.for_day(DAY, "Asia/Kolkata")
    truth = {r["uuid"]: r for r in sim.records(w.start, w.end)}
    stored = {
        row["uuid"]: row
        for p in m["parts"]
        for row in pq.read_table(
            storage.path(p["key"]), columns=["uuid", *MULTILINE_VALUES], filesystem=storage.filesystem
        ).to_pylist()
    }
    assert sorted(stored) == sorted(truth)
    multiline = [u for u, r in truth.items() if r["caller_id_name"] == MULTILINE_VALUES["caller_id_name"]]
    assert len(multiline) >= 2, "the day holds multiline records"
    for u, row in stored.items():
        assert row == {"uuid": u, **{k: truth[u][k] for k in MULTILINE_VALUES}}

    # The same records through the paged JSON: the partition is found unchanged, byte for byte.
    again = ingest_day(hook, storage, layout, ACCOUNT, DAY, method="list")
    assert again["content_sha256"] == first["content_sha256"] and not again["changed"]
    assert read_manifest(storage, layout, ACCOUNT, DAY) == m
