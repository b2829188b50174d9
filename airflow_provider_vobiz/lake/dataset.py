"""The CDR dataset as readers see it: kept for its import path; the reader is :mod:`.read`."""

from __future__ import annotations

from airflow_provider_vobiz.lake.read import (
    DATASET_SCHEMA,
    PARTITIONING,
    cdr_dataset,
    published_part_keys,
)

__all__ = ["DATASET_SCHEMA", "PARTITIONING", "cdr_dataset", "published_part_keys"]
