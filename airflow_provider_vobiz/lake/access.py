"""The lake as an operator sees it: layout and S3 storage built lazily from its templated arguments."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage


class LakeAccessMixin:
    """``layout`` and ``storage`` for an operator with ``lake_uri`` and ``aws_conn_id`` attributes.

    Both are built on first use in ``execute``, after templates are rendered, never when a DAG is parsed; an
    empty ``lake_uri`` is the setting's (Variable ``vobiz_lake_uri``, else the default).
    """

    lake_uri: str | None
    aws_conn_id: str | None

    @cached_property
    def layout(self) -> LakeLayout:
        from airflow_provider_vobiz import settings
        from airflow_provider_vobiz.lake.paths import LakeLayout

        return LakeLayout.from_uri(settings.resolve("lake_uri", self.lake_uri))

    @cached_property
    def storage(self) -> LakeStorage:
        from airflow_provider_vobiz.lake.storage import LakeStorage

        return LakeStorage(self.aws_conn_id or None, self.layout.bucket)


def publish_owner(context: Any) -> str | None:
    """The task instance, the same for every try of it: the owner of the day's publish lease, so a retry
    takes over at once the lease a killed try left (other runs of the day wait for it).

    None (a one-off owner) when the context does not identify a task instance.
    """
    ti = context.get("ti")
    ids = [getattr(ti, name, None) for name in ("dag_id", "task_id", "run_id")]
    if not all(isinstance(i, str) and i for i in ids):
        return None
    return "/".join([*ids, str(getattr(ti, "map_index", -1))])
