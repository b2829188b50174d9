"""VobizGlueCatalogTableOperator: register a dataset of the lake as a table in the AWS Glue Data Catalog."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_vobiz import settings
from airflow_provider_vobiz.lake.ddl import DEFAULT_DATABASE, DEFAULT_FIRST_DAY, glue_table_input
from airflow_provider_vobiz.settings import DEFAULT_AWS_CONN_ID

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.hooks.glue_catalog import GlueCatalogHook
    from airflow.sdk import Context

#: The parts of a Glue table that the generated definition decides (Glue adds its own bookkeeping fields).
_COMPARED = ("Description", "TableType", "Parameters", "PartitionKeys")
_COMPARED_STORAGE = ("Columns", "Location", "InputFormat", "OutputFormat", "SerdeInfo")


def _differs(existing: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    """Names of the fields of ``wanted`` that the catalog's table does not have as generated."""
    changed = [k for k in _COMPARED if existing.get(k) != wanted[k]]
    storage = existing.get("StorageDescriptor") or {}
    changed += [
        f"StorageDescriptor.{k}"
        for k in _COMPARED_STORAGE
        if storage.get(k) != wanted["StorageDescriptor"][k]
    ]
    return changed


class VobizGlueCatalogTableOperator(BaseOperator):
    """Create or update the Glue Data Catalog table of one dataset of the lake (``cdr``, ``cdr_tokenised``
    or ``quarantine``).

    The table is the one ``python -m airflow_provider_vobiz.lake.ddl --engine athena`` prints: columns and
    types from the CDR schema, ``account_id`` and ``call_date`` as partition keys, Athena partition
    projection in its parameters (so no partition is ever added by hand or by a crawler). The database is
    created when missing. A table already as generated is left alone; one that differs (a new field, a moved
    lake) is updated in place. Returns (XCom) the database, table, location and what was done.

    :param lake_uri: the lake, ``s3://bucket/prefix``; empty: Variable ``vobiz_lake_uri``, else the default.
        (templated)
    :param database: the Glue database. (templated)
    :param table: the table name; default: the dataset's (``cdr``, ``cdr_tokenised``, ``cdr_quarantine``).
        (templated)
    :param dataset: ``cdr``, ``cdr_tokenised`` or ``quarantine``. (templated)
    :param first_day: the first day partition projection lists, ``YYYY-MM-DD``. (templated)
    :param aws_conn_id: the Amazon provider's ``aws`` connection. (templated)
    """

    template_fields: Sequence[str] = ("lake_uri", "database", "table", "dataset", "first_day", "aws_conn_id")
    ui_color = "#f3e8fb"

    def __init__(
        self,
        *,
        lake_uri: str | None = None,
        database: str = DEFAULT_DATABASE,
        table: str | None = None,
        dataset: str = "cdr",
        first_day: str = DEFAULT_FIRST_DAY,
        aws_conn_id: str | None = DEFAULT_AWS_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.lake_uri = lake_uri
        self.database = database
        self.table = table
        self.dataset = dataset
        self.first_day = first_day
        self.aws_conn_id = aws_conn_id

    def hook(self) -> GlueCatalogHook:
        from airflow.providers.amazon.aws.hooks.glue_catalog import GlueCatalogHook

        return GlueCatalogHook(aws_conn_id=self.aws_conn_id or None)

    def execute(self, context: Context) -> dict[str, Any]:
        hook = self.hook()
        client = hook.conn
        database = str(self.database)
        wanted = glue_table_input(
            settings.resolve("lake_uri", self.lake_uri),
            str(self.dataset),
            table=self.table or None,
            first_day=str(self.first_day),
        )
        name = wanted["Name"]
        try:
            client.get_database(Name=database)
        except client.exceptions.EntityNotFoundException:
            client.create_database(
                DatabaseInput={"Name": database, "Description": "Vobiz CDR lake (airflow-provider-vobiz)"}
            )
            self.log.info("Created Glue database %s", database)
        try:
            existing = hook.get_table(database, name)
        except client.exceptions.EntityNotFoundException:
            client.create_table(DatabaseName=database, TableInput=wanted)
            action = "created"
        else:
            changed = _differs(existing, wanted)
            if changed:
                client.update_table(DatabaseName=database, TableInput=wanted)
                action = "updated"
                self.log.info("Glue table %s.%s differed in %s", database, name, ", ".join(changed))
            else:
                action = "unchanged"
        location = wanted["StorageDescriptor"]["Location"]
        self.log.info("Glue table %s.%s (%s) at %s: %s", database, name, self.dataset, location, action)
        return {
            "database": database,
            "table": name,
            "dataset": self.dataset,
            "location": location,
            "columns": len(wanted["StorageDescriptor"]["Columns"]),
            "action": action,
        }
