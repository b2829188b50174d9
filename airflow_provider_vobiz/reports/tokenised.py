"""The tokenised zone: ``cdr_tokenised/``, the CDR lake for analysts who need no phone numbers (DPDP Act).

Each partition of ``cdr/`` has a twin with the same partitions, schema, row order and row count, in which
every phone number is its keyed HMAC-SHA256 token (:func:`~airflow_provider_vobiz.privacy.hmac_token`,
the reports' tokens, with the reports' key): the schema's phone fields (:data:`PHONE_FIELDS`) become the token
of their value, and every number-like run in any other text (inside the ``extra`` JSON too, JSON numbers
included) becomes the token of that run without its spaces and dashes. The same number always gives the same
token under one key, so analysts count and join by number (across days, and with the reports' CSV/JSON)
without seeing one; without the key a token cannot be reversed (a bare hash of the 10^10 Indian mobile
numbers could).

A twin is published with the lake's own atomic publish and manifest (its ``source`` names the ``cdr/``
version it was made from; ``tokenisation`` the key's fingerprint). It is made again whenever its source
changes (a restatement) or the key does (rotation), and left alone otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import tempfile
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from airflow_provider_vobiz.cdr.schema import EXTRA_COLUMN, FILE_SCHEMA, PHONE_FIELDS
from airflow_provider_vobiz.cdr.window import utc_now_iso
from airflow_provider_vobiz.lake.manifest import Manifest
from airflow_provider_vobiz.lake.publish import publish_partition
from airflow_provider_vobiz.lake.read import iter_row_groups, partition_manifest
from airflow_provider_vobiz.lake.writer import PartWriter, file_metadata
from airflow_provider_vobiz.privacy import NumberPolicy, hmac_token

if TYPE_CHECKING:
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage
    from airflow_provider_vobiz.lake.writer import LocalPart

log = logging.getLogger(__name__)

TOKEN_ALGORITHM = "HMAC-SHA256"
#: Every string column but the phone fields: number-like runs inside them are tokenised.
_TEXT_COLUMNS = tuple(f.name for f in FILE_SCHEMA if f.type == pa.string() and f.name not in PHONE_FIELDS)


class TokenisedZoneError(RuntimeError):
    """The tokenised twin cannot be made (no source partition); nothing was published."""


def key_id(key: bytes) -> str:
    """A fingerprint of the key (an HMAC of a fixed label): says which key made a twin, reveals nothing."""
    return hmac.new(key, b"vobiz-tokenised-zone-key-id", hashlib.sha256).hexdigest()[:16]


def _tokenise_text(text: str, key: bytes) -> str:
    # The reports' rule for number-like runs in free text, so a token here equals the token in a report.
    return NumberPolicy(key=key).text_for_machines(text)


def _tokenise_json(value: Any, key: bytes) -> Any:
    if isinstance(value, dict):
        return {k: _tokenise_json(v, key) for k, v in value.items()}
    if isinstance(value, list):
        return [_tokenise_json(v, key) for v in value]
    if isinstance(value, str):
        return _tokenise_text(value, key)
    if isinstance(value, int) and not isinstance(value, bool):
        tokenised = _tokenise_text(str(value), key)  # a number sent as a JSON number: a token string now
        return value if tokenised == str(value) else tokenised
    return value


def _extra(text: str, key: bytes) -> str:
    try:
        value = json.loads(text)
    except ValueError:
        return _tokenise_text(text, key)
    # The normaliser's own encoding of ``extra``: compact, sorted keys.
    return json.dumps(_tokenise_json(value, key), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _map_distinct(column: pa.ChunkedArray, fn: Any) -> pa.Array:
    """Apply ``fn`` to each distinct value once (numbers repeat: a day has far fewer than its rows)."""
    encoded = pc.dictionary_encode(column.combine_chunks())
    mapped = pa.array([None if v is None else fn(v) for v in encoded.dictionary.to_pylist()], pa.string())
    return pc.take(mapped, encoded.indices)


def tokenise_table(table: pa.Table, key: bytes) -> pa.Table:
    """``table`` (the Parquet file schema) with its phone numbers replaced by keyed HMAC tokens."""
    columns = []
    for name in table.column_names:
        column = table.column(name)
        if name in PHONE_FIELDS:
            column = _map_distinct(column, lambda v: hmac_token(v, key))
        elif name == EXTRA_COLUMN:
            column = _map_distinct(column, lambda v: _extra(v, key))
        elif name in _TEXT_COLUMNS:
            column = _map_distinct(column, lambda v: _tokenise_text(v, key))
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=table.schema)


def publish_tokenised(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    call_date: str,
    key: bytes,
    owner: str | None = None,
) -> dict[str, Any]:
    """Make (or leave as it is) the tokenised twin of one published ``cdr/`` partition.

    :param key: the HMAC key (the reports' key; at least 16 bytes).
    :param owner: who publishes (the task instance: its retry takes over the lease a killed try left).
    :returns: a small summary: ``row_count``, ``content_sha256``, ``changed``, ``restated``,
        ``source_content_sha256``, ``key_id``, ``partition_uri``.
    """
    zone = layout.tokenised()
    source = partition_manifest(storage, layout, account_id, call_date)
    if source is None:
        raise TokenisedZoneError(
            f"no published partition at {layout.s3_uri(layout.partition_prefix(account_id, call_date))}: "
            "the tokenised zone is made from cdr/, so extract the day first"
        )
    fingerprint = key_id(key)
    summary = {
        "account_id": account_id,
        "call_date": str(call_date),
        "source_content_sha256": source.content_sha256,
        "key_id": fingerprint,
        "partition_uri": zone.s3_uri(zone.partition_prefix(account_id, call_date)),
    }
    current = partition_manifest(storage, zone, account_id, call_date)
    if (
        current
        and current.source.get("content_sha256") == source.content_sha256
        and current.tokenisation.get("key_id") == fingerprint
    ):
        log.info("Tokenised %s/%s is up to date with its source: left as it is", account_id, call_date)
        return {
            **summary,
            "row_count": current.row_count,
            "content_sha256": current.content_sha256,
            "changed": False,
            "restated": False,
        }

    with tempfile.TemporaryDirectory(prefix="vobiz-tokenised-") as tmp:
        parts, rows = _tokenise_parts(storage, layout, account_id, call_date, source, key, tmp)
        manifest = _tokenised_manifest(layout, account_id, call_date, source, rows, fingerprint)
        result = publish_partition(storage, zone, manifest, parts, owner=owner)
    published = Manifest(result.manifest)
    return {
        **summary,
        "row_count": published.row_count,
        "content_sha256": published.content_sha256,
        "changed": result.changed,
        "restated": result.restated,
    }


def _tokenise_parts(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    call_date: str,
    source: Manifest,
    key: bytes,
    directory: str,
) -> tuple[list[LocalPart], int]:
    """Tokenise the source's parts, a row group at a time, into local parts in ``directory``; returns them
    and their rows (which must be the source manifest's row count)."""
    writer = PartWriter(directory, file_metadata(account_id, str(call_date), source.timezone or ""))
    for table in iter_row_groups(storage, source.part_keys(layout.partition_prefix(account_id, call_date))):
        writer.write(tokenise_table(table, key))
    parts = writer.close()
    if writer.rows != source.row_count:
        raise TokenisedZoneError(
            f"read {writer.rows} rows from {account_id}/{call_date} but its manifest says "
            f"{source.row_count}: the partition changed while it was read; run again"
        )
    return parts, writer.rows


def _tokenised_manifest(
    layout: LakeLayout, account_id: str, call_date: str, source: Manifest, rows: int, fingerprint: str
) -> dict[str, Any]:
    """The tokenised twin's manifest (before publish fills in parts and hashes): the source's day, the
    source it was made from, and how it was tokenised."""
    return {
        "schema_version": source.schema_version,
        "account_id": account_id,
        "call_date": str(call_date),
        "timezone": source.timezone,
        "window": source.window or None,
        "row_count": rows,
        "source": {
            "dataset": "cdr",
            "manifest_key": layout.manifest_key(account_id, call_date),
            "content_sha256": source.content_sha256,
        },
        "tokenisation": {
            "algorithm": TOKEN_ALGORITHM,
            "key_id": fingerprint,
            "whole_value_fields": list(PHONE_FIELDS),
            "number_like_text_in": [*_TEXT_COLUMNS],
        },
        "extracted_at": utc_now_iso(),
        "provider_version": source.provider_version,
    }
