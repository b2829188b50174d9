"""The lake as an operator sees it: layout and S3 storage built lazily from its templated arguments."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage


class LakeAccessMixin:
    """``layout`` and ``storage`` for an operator with ``lake_uri`` and ``aws_conn_id`` attributes.

    Both are built on first use in ``execute``, after templates are rendered, never when a DAG is parsed.
    """

    lake_uri: str
    aws_conn_id: str | None

    @cached_property
    def layout(self) -> LakeLayout:
        from airflow_provider_vobiz.lake.paths import LakeLayout

        return LakeLayout.from_uri(str(self.lake_uri).strip())

    @cached_property
    def storage(self) -> LakeStorage:
        from airflow_provider_vobiz.lake.storage import LakeStorage

        return LakeStorage(self.aws_conn_id or None, self.layout.bucket)
