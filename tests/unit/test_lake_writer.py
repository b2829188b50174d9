"""lake.writer: deterministic zstd Parquet parts with exact row groups and self-describing metadata."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq

from airflow_provider_vobiz.cdr.normalize import Normalizer
from airflow_provider_vobiz.cdr.schema import FILE_SCHEMA
from airflow_provider_vobiz.lake.writer import PartWriter, file_metadata
from tests.fixtures.lake_records import ACCOUNT, make_record

START = dt.datetime(2026, 5, 11, tzinfo=dt.timezone.utc)


def _table(n: int) -> pa.Table:
    recs = [make_record(i, START + dt.timedelta(seconds=i)) for i in range(n)]
    return pa.Table.from_batches([Normalizer(ACCOUNT).from_records(recs)])


def _write(directory, table, chunk=7, **kw):
    w = PartWriter(str(directory), file_metadata(ACCOUNT, "2026-05-11", "Asia/Kolkata"), **kw)
    for i in range(0, table.num_rows, chunk):
        w.write(table.slice(i, chunk))
    return w.close()


def test_same_rows_same_bytes_whatever_the_chunking(tmp_path):
    table = _table(50)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = _write(tmp_path / "a", table, chunk=7, row_group_rows=16)
    b = _write(tmp_path / "b", table, chunk=50, row_group_rows=16)
    assert [p.sha256 for p in a] == [p.sha256 for p in b]
    assert (tmp_path / "a" / "part-00000.parquet").read_bytes() == (
        tmp_path / "b" / "part-00000.parquet"
    ).read_bytes()


def test_row_groups_parts_compression_and_metadata(tmp_path):
    table = _table(50)
    parts = _write(tmp_path, table, row_group_rows=16, rows_per_part=32)
    assert [(p.name, p.rows) for p in parts] == [("part-00000.parquet", 32), ("part-00001.parquet", 18)]
    meta = pq.ParquetFile(parts[0].path).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [16, 16]
    assert meta.row_group(0).column(0).compression == "ZSTD"
    encodings = {
        meta.row_group(0).column(i).path_in_schema: meta.row_group(0).column(i).encodings
        for i in range(meta.num_columns)
    }
    assert "RLE_DICTIONARY" in encodings["hangup_cause"]  # low cardinality: dictionary
    assert "RLE_DICTIONARY" not in encodings["uuid"]  # unique: plain
    kv = meta.metadata
    assert kv[b"vobiz.account_id"] == ACCOUNT.encode()
    assert kv[b"vobiz.call_date"] == b"2026-05-11"
    assert kv[b"vobiz.schema_version"] == b"1"
    back = pa.concat_tables([pq.read_table(p.path) for p in parts])
    assert back.schema.equals(FILE_SCHEMA, check_metadata=False)
    assert back.equals(table)
    assert "account_id" not in back.schema.names and "call_date" not in back.schema.names


def test_empty_day_gives_one_empty_part(tmp_path):
    parts = _write(tmp_path, _table(0))
    assert len(parts) == 1 and parts[0].rows == 0
    assert pq.read_table(parts[0].path).schema.equals(FILE_SCHEMA, check_metadata=False)
