"""cdr.normalize: typing JSON and CSV records into the file schema, unknown/missing fields, rejects."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json

import pyarrow as pa
import pytest

from airflow_provider_vobiz.cdr.normalize import (
    Normalizer,
    RecordTypeError,
    iter_csv_batches,
    type_record,
)
from airflow_provider_vobiz.cdr.schema import API_FIELD_NAMES, FILE_SCHEMA, PHONE_FIELDS
from airflow_provider_vobiz.privacy import mask_value
from tests.fixtures.lake_records import ACCOUNT, make_record

START = dt.datetime(2026, 5, 11, 6, 59, 26, tzinfo=dt.timezone.utc)


#: start_times a record of the tests' query may have (a 1970 or 2099 one is quarantined).
PLAUSIBLE = (START - dt.timedelta(days=3), START + dt.timedelta(days=3))


def _normalizer():
    rejects: list[tuple[object, str]] = []
    norm = Normalizer(
        ACCOUNT, on_reject=lambda rec, why: rejects.append((rec, why)), plausible_starts=PLAUSIBLE
    )
    return norm, rejects


def test_json_records_get_the_file_schema_and_real_types():
    norm, rejects = _normalizer()
    batch = norm.from_records([make_record(i, START) for i in range(3)])
    assert batch.schema.equals(FILE_SCHEMA, check_metadata=False)
    assert "account_id" not in batch.schema.names
    row = batch.to_pylist()[1]
    assert row["start_time"] == START
    assert row["cost"] == decimal.Decimal("0.300000")  # 0.3 stays 0.3, not 0.29999...
    assert row["answer_time"] is None  # odd i: not answered
    assert row["duration"] == 5 and isinstance(row["duration"], int)
    assert row["extra"] is None
    assert rejects == [] and norm.records_read == 3 and norm.rows_out == 3


def test_unknown_field_goes_to_extra_and_is_counted():
    norm, _ = _normalizer()
    recs = [make_record(0, START, sentiment="positive", risk={"score": 0.2}), make_record(1, START)]
    rows = norm.from_records(recs).to_pylist()
    assert json.loads(rows[0]["extra"]) == {"risk": {"score": 0.2}, "sentiment": "positive"}
    assert rows[1]["extra"] is None
    assert norm.stats()["unknown_fields"] == {"risk": 1, "sentiment": 1}


def test_missing_documented_field_is_null_and_counted():
    norm, rejects = _normalizer()
    rec = make_record(0, START)
    del rec["codec"], rec["mos"]
    row = norm.from_records([rec]).to_pylist()[0]
    assert row["codec"] is None and row["mos"] is None
    assert norm.stats()["missing_fields"] == {"codec": 1, "mos": 1}
    assert rejects == []


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("duration", "abc", "duration: expected an integer"),
        ("start_time", "yesterday", "start_time: expected an ISO 8601 timestamp"),
        ("cost", "free", "cost: expected an amount"),
        ("mos", [4], "mos: expected a number"),
        ("uuid", None, "uuid is missing"),
        ("start_time", None, "start_time is missing"),
        ("account_id", "MA_OTHER", "account_id 'MA_OTHER' is not the partition's account"),
        ("mos", float("nan"), "mos: expected a finite number, got nan"),
        ("jitter", float("inf"), "jitter: expected a finite number, got inf"),
        ("failure_reason", "R" * 20000, "failure_reason: 20000 bytes, over the 16384-byte limit"),
        ("caller_id_number", "+91" + "9" * 40, "caller_id_number: 43 bytes, over the 32-byte limit"),
        ("caller_id_name", "Unknown\udcff", "caller_id_name: invalid UTF-8"),
        ("start_time", "1970-01-01T00:00:00Z", "start_time 1970-01-01T00:00:00+00:00 is far outside"),
        ("start_time", "2099-01-01T00:00:00Z", "start_time 2099-01-01T00:00:00+00:00 is far outside"),
    ],
)
def test_a_record_that_cannot_be_stored_is_quarantined_masked_and_the_rest_kept(field, value, reason):
    norm, rejects = _normalizer()
    recs = [make_record(i, START) for i in range(5)]
    recs[2][field] = value
    batch = norm.from_records(recs)
    assert batch.num_rows == 4
    assert [r["uuid"] for r in batch.to_pylist()] == [recs[i]["uuid"] for i in (0, 1, 3, 4)]
    assert len(rejects) == 1
    raw, why = rejects[0]
    assert why.startswith(reason)
    # The record as received, its phone numbers masked to their last four digits, a huge value cut.
    masked = mask_value(recs[2])
    assert not any(recs[2].get(k) and recs[2][k] in json.dumps(raw) for k in PHONE_FIELDS)
    if isinstance(value, str) and len(value) > 1000:
        assert raw.pop(field) == value[:200] + f"... [{len(value)} characters]"
        masked.pop(field)
    assert raw == masked
    assert (
        raw["caller_id_number"].startswith("••••")
        and "+9198" not in json.dumps(raw, ensure_ascii=False) + why
    )
    assert norm.rejected == 1 and norm.records_read == 5
    assert norm.stats()["reject_reasons"] == {field: 1}


def test_slow_path_types_like_the_fast_path():
    good = [make_record(i, START) for i in range(4)]
    fast = _normalizer()[0].from_records(good)
    bad = [*good, make_record(9, START, duration="x")]
    slow = _normalizer()[0].from_records(bad)
    assert slow.equals(fast)


def test_type_record_rules():
    rec = make_record(0, START)
    rec.update(start_time="2026-05-11T12:29:26+05:30", duration="35", mos="4.5", cost="1.2345675")
    typed = type_record(rec)
    assert typed["start_time"] == START
    assert typed["duration"] == 35 and typed["mos"] == 4.5
    assert typed["cost"] == decimal.Decimal("1.234568")  # rounded half-even to 6 places
    with pytest.raises(RecordTypeError, match="does not fit"):
        type_record({**rec, "cost": "1e20"})
    with pytest.raises(RecordTypeError, match="boolean"):
        type_record({**rec, "billsec": True})


def _write_csv(path, rows, header):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for r in rows:
            w.writerow(["" if r.get(h) is None else r.get(h) for h in header])


def test_export_csv_with_empty_cells_extra_column_and_a_bad_row(tmp_path):
    recs = [make_record(i, START) for i in range(6)]
    recs[0]["caller_id_name"] = "NULL"  # only an empty cell is null
    recs[4]["billsec"] = "ten"
    header = [*API_FIELD_NAMES, "new_field"]
    recs[1]["new_field"] = "v2"
    path = tmp_path / "export.csv"
    _write_csv(path, recs, header)
    norm, rejects = _normalizer()
    batches = list(iter_csv_batches(str(path)))
    assert all(b.schema.field(n).type == pa.string() for b in batches for n in header)
    out = pa.Table.from_batches([norm.from_csv_batch(b) for b in batches])
    assert out.num_rows == 5
    rows = out.to_pylist()
    assert rows[0]["caller_id_name"] == "NULL"
    assert rows[1]["answer_time"] is None or rows[1]["answer_time"].tzinfo is not None
    assert json.loads(rows[1]["extra"]) == {"new_field": "v2"}
    assert norm.stats()["unknown_fields"] == {"new_field": 1}
    assert [why for _, why in rejects] == ['billsec: expected an integer, got "ten"']
    assert rejects[0][0]["uuid"] == recs[4]["uuid"]
    # The same records as JSON give the same rows (one contract, two wire formats).
    json_norm, _ = _normalizer()
    good = [r for i, r in enumerate(recs) if i != 4]
    expected = pa.Table.from_batches([json_norm.from_records(good)])
    assert out.drop_columns(["extra"]).equals(expected.drop_columns(["extra"]))


def test_csv_missing_a_documented_column_counts_every_row(tmp_path):
    recs = [make_record(i, START) for i in range(3)]
    header = [h for h in API_FIELD_NAMES if h != "trunk_id"]
    path = tmp_path / "export.csv"
    _write_csv(path, recs, header)
    norm, _ = _normalizer()
    out = [norm.from_csv_batch(b) for b in iter_csv_batches(str(path))]
    assert sum(b.num_rows for b in out) == 3
    assert norm.stats()["missing_fields"] == {"trunk_id": 3}


def test_empty_csv_gives_no_batches(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text(",".join(API_FIELD_NAMES) + "\n")
    assert list(iter_csv_batches(str(path))) == []


# -- quarantine: the shapes of bad record, JSON and CSV alike ---------------------------------------------
def test_a_list_element_that_is_not_an_object_is_quarantined():
    norm, rejects = _normalizer()
    good = [make_record(i, START) for i in range(3)]
    batch = norm.from_records([good[0], list(good[1].values()), "9198000000001,+919800000001", None, good[2]])
    assert batch.num_rows == 2 and norm.records_read == 5 and norm.rejected == 3
    reasons = [why for _, why in rejects]
    assert reasons == [
        "record: expected a JSON object, got an array",
        "record: expected a JSON object, got a string",
        "record: expected a JSON object, got null",
    ]
    assert rejects[0][0][5] == "••••0001"  # the array's caller_id_number, masked
    assert rejects[1][0] == "••••0001,••••0001"


def test_csv_rows_of_the_wrong_width_are_quarantined_by_the_reader(tmp_path):
    recs = [make_record(i, START) for i in range(4)]
    path = tmp_path / "export.csv"
    _write_csv(path, recs, list(API_FIELD_NAMES))
    lines = path.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].rstrip(b"\r\n") + b",surplus\n"  # record 1: one cell too many
    lines[3] = b",".join(lines[3].split(b",")[:10]) + b"\n"  # record 2: too few
    path.write_bytes(b"".join(lines))
    norm, rejects = _normalizer()
    names = list(API_FIELD_NAMES)
    out = [
        norm.from_csv_batch(b)
        for b in iter_csv_batches(str(path), invalid_row_handler=norm.invalid_row_handler(names))
    ]
    assert [u for b in out for u in b.column("uuid").to_pylist()] == [recs[0]["uuid"], recs[3]["uuid"]]
    assert norm.records_read == 4 and norm.rejected == 2
    by_uuid = {raw["uuid"]: (raw, why) for raw, why in rejects}
    raw, why = by_uuid[recs[1]["uuid"]]
    assert why == f"row: {len(names) + 1} cells, the header has {len(names)}"
    assert raw["_surplus_cells"] == ["surplus"] and raw["caller_id_number"] == "••••0001"
    assert by_uuid[recs[2]["uuid"]][1] == f"row: 10 cells, the header has {len(names)}"


def test_lines_the_fast_reader_cannot_take_are_quarantined_first(tmp_path):
    from airflow_provider_vobiz.cdr.normalize import quarantine_unreadable_rows

    recs = [make_record(i, START) for i in range(4)]
    path = tmp_path / "export.csv"
    _write_csv(path, recs, list(API_FIELD_NAMES))
    lines = path.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b"919800000000,", b"919800000000\xff,", 1)  # caller_id_name not UTF-8
    name_at = list(API_FIELD_NAMES).index("failure_reason")
    cells = lines[3].rstrip(b"\r\n").split(b",")
    cells[name_at] = b"R" * (10 << 20)  # over two of the reader's 4 MiB blocks
    lines[3] = b",".join(cells) + b"\n"
    path.write_bytes(b"".join(lines))
    norm, rejects = _normalizer()
    with pytest.raises(pa.ArrowInvalid):  # what the fast path meets
        list(iter_csv_batches(str(path), invalid_row_handler=norm.invalid_row_handler(list(API_FIELD_NAMES))))
    norm, rejects = _normalizer()
    clean = tmp_path / "clean.csv"
    names = quarantine_unreadable_rows(str(path), str(clean), norm)
    kept = [
        u
        for b in iter_csv_batches(str(clean), names=names)
        for u in norm.from_csv_batch(b)["uuid"].to_pylist()
    ]
    assert kept == [recs[1]["uuid"], recs[3]["uuid"]]
    assert norm.records_read == 4
    assert [why for _, why in rejects] == [
        "caller_id_name: invalid UTF-8",
        f"failure_reason: {10 << 20} bytes, over the 16384-byte limit",
    ]
    name = rejects[0][0]["caller_id_name"]  # the undecodable byte stays visible, the number does not
    assert name.startswith("••••0000") and sum(c.isdigit() for c in name) == 4
    assert len(json.dumps(rejects[1][0])) < 5000


#: Legal quoted values (RFC 4180) that hold CR, LF or CRLF, with quotes and commas.
MULTILINE = {"caller_id_name": "line1\r\nline2", "hangup_cause_name": "\r", "failure_reason": 'a,\n"b"\r'}


def _multiline_csv(path, n=40):
    recs = [make_record(i, START) for i in range(n)]
    for rec in recs[1::3]:
        rec.update(MULTILINE)
    _write_csv(path, recs, list(API_FIELD_NAMES))
    return recs


@pytest.mark.parametrize("source", ["path", "file"])
def test_quoted_newlines_survive_every_block_boundary(tmp_path, source):
    """Whichever CR a block of the reader ends on (a CRLF's, a lone one, inside quotes or not), records stay
    whole: pyarrow alone drops the LF after a CR that ends a block, inside a quoted value too."""
    from airflow_provider_vobiz.cdr.export_csv import _csv_records

    path = tmp_path / "export.csv"
    recs = _multiline_csv(path)
    data = path.read_bytes()
    with open(path, "rb") as fh:
        longest = max(len(record) for record in _csv_records(fh))
    names = list(API_FIELD_NAMES)
    crs = [i for i, byte in enumerate(data) if byte == 13 and i >= longest]
    for block_size in [cr + 1 for cr in crs[:12]]:  # the first block ends just after that CR
        norm, rejects = _normalizer()
        src = str(path) if source == "path" else open(path, "rb")  # noqa: SIM115 - the reader closes it
        out = [
            norm.from_csv_batch(b)
            for b in iter_csv_batches(
                src,
                block_size=block_size,
                names=names,
                invalid_row_handler=norm.invalid_row_handler(names),
            )
        ]
        rows = [r for b in out for r in b.to_pylist()]
        assert not rejects and len(rows) == len(recs), block_size
        for rec, row in zip(recs, rows, strict=True):
            assert {k: row[k] for k in MULTILINE} == {k: rec[k] for k in MULTILINE}, block_size


def test_only_a_csv_with_a_quote_is_read_the_slower_newline_aware_way(tmp_path, monkeypatch):
    from airflow_provider_vobiz.cdr import export_csv

    quoted, plain, empty = tmp_path / "quoted.csv", tmp_path / "plain.csv", tmp_path / "empty.csv"
    _multiline_csv(quoted, n=4)
    _write_csv(plain, [make_record(i, START) for i in range(3)], list(API_FIELD_NAMES))
    empty.write_bytes(b"")
    assert [export_csv.has_quote(str(p)) for p in (quoted, plain, empty)] == [True, False, False]
    seen = []
    open_csv = export_csv.pacsv.open_csv

    def spy(source, **kw):
        seen.append((isinstance(source, str), kw["parse_options"].newlines_in_values))
        return open_csv(source, **kw)

    monkeypatch.setattr(export_csv.pacsv, "open_csv", spy)
    assert sum(b.num_rows for b in iter_csv_batches(str(plain))) == 3
    assert sum(b.num_rows for b in iter_csv_batches(str(quoted))) == 4
    # The plain file: pyarrow reads the path natively, newlines not looked for; the quoted one: both.
    assert seen == [(True, False), (False, True)]


def test_a_multiline_record_is_quarantined_or_kept_whole(tmp_path):
    from airflow_provider_vobiz.cdr.normalize import quarantine_unreadable_rows

    path = tmp_path / "export.csv"
    recs = _multiline_csv(path, n=6)
    raw = path.read_bytes().replace(b"line1\r\nline2", b"line1\r\nline2\xff", 1)  # record 1: not UTF-8
    path.write_bytes(raw)
    norm, rejects = _normalizer()
    clean = tmp_path / "clean.csv"
    names = quarantine_unreadable_rows(str(path), str(clean), norm)
    kept = [r for b in iter_csv_batches(str(clean), names=names) for r in norm.from_csv_batch(b).to_pylist()]
    assert [r["uuid"] for r in kept] == [r["uuid"] for i, r in enumerate(recs) if i != 1]
    assert [why for _, why in rejects] == ["caller_id_name: invalid UTF-8"]
    assert rejects[0][0]["uuid"] == recs[1]["uuid"]
    assert kept[3]["caller_id_name"] == MULTILINE["caller_id_name"]  # record 4, whole
