"""The CDR dataset as readers see it: a pyarrow dataset of the lake, partition keys typed from the path.

DuckDB reads it in-process (``duckdb.sql("... FROM cdr")`` with ``cdr`` a Python variable, or
``con.register``), with projection and partition pruning pushed down. This is how local tests and the demo
query S3: DuckDB's own ``s3://`` reader needs the httpfs extension, which cannot be installed offline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.dataset as pads

from airflow_provider_vobiz.cdr.schema import FILE_SCHEMA

if TYPE_CHECKING:
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage

#: ``account_id=…/call_date=…/`` typed: call_date is a date, not the string a guess would give.
PARTITIONING = pads.partitioning(
    pa.schema([pa.field("account_id", pa.string()), pa.field("call_date", pa.date32())]), flavor="hive"
)


def cdr_dataset(storage: LakeStorage, layout: LakeLayout) -> pads.Dataset:
    """Every published CDR part of the lake (manifests and staging are not part files, so not read)."""
    return pads.dataset(
        storage.path(layout.cdr_root),
        filesystem=storage.filesystem,
        format="parquet",
        partitioning=PARTITIONING,
        schema=FILE_SCHEMA.append(PARTITIONING.schema.field("account_id")).append(
            PARTITIONING.schema.field("call_date")
        ),
        exclude_invalid_files=False,
        ignore_prefixes=["_", "."],
    )
