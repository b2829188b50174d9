"""VobizCdrTokenisedZoneOperator: publish the tokenised twin of one day's CDR partition."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook, BaseOperator

from airflow_provider_vobiz import settings
from airflow_provider_vobiz.lake.access import LakeAccessMixin, publish_owner
from airflow_provider_vobiz.settings import DEFAULT_AWS_CONN_ID, DEFAULT_VOBIZ_CONN_ID, HMAC_CONN_ID

if TYPE_CHECKING:
    from airflow.sdk import Context


class VobizCdrTokenisedZoneOperator(LakeAccessMixin, BaseOperator):
    """Publish ``{lake}/cdr_tokenised/account_id=…/call_date=…/``: the day's partition with every phone number
    (and number-like text) replaced by its keyed HMAC-SHA256 token, for analysts who need no numbers.

    Same partitions, schema, row order and row count as ``cdr/``; the lake's atomic publish and manifest. A
    day whose twin already matches its source (same ``content_sha256``, same key) is left alone; a restated
    day, or a rotated key, republishes it (the twin's manifest keeps the history). The key is the password of
    ``hmac_conn_id``, the reports' key, so tokens join with the reports' CSV/JSON. Without that connection
    the task is skipped with the reason (the raw zone is unaffected). Returns (XCom) a small summary.

    :param lake_uri: the lake, ``s3://bucket/prefix``; empty: Variable ``vobiz_lake_uri``, else the default.
        (templated)
    :param call_date: the partition's day, ``YYYY-MM-DD``. (templated)
    :param account_id: the Vobiz account; empty: Variable ``vobiz_account_id``, then the login of
        ``vobiz_conn_id``. (templated)
    :param aws_conn_id: the ``aws`` connection of the lake. (templated)
    :param hmac_conn_id: the connection whose password is the HMAC key. (templated)
    :param vobiz_conn_id: the ``vobiz`` connection whose login is the account when nothing else names one.
    """

    template_fields: Sequence[str] = ("lake_uri", "call_date", "account_id", "aws_conn_id", "hmac_conn_id")
    ui_color = "#f1f1e0"

    def __init__(
        self,
        *,
        lake_uri: str | None = None,
        call_date: str,
        account_id: str | None = None,
        aws_conn_id: str | None = DEFAULT_AWS_CONN_ID,
        hmac_conn_id: str = HMAC_CONN_ID,
        vobiz_conn_id: str = DEFAULT_VOBIZ_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.lake_uri = lake_uri
        self.call_date = call_date
        self.account_id = account_id
        self.aws_conn_id = aws_conn_id
        self.hmac_conn_id = hmac_conn_id
        self.vobiz_conn_id = vobiz_conn_id

    def _key(self) -> bytes:
        from airflow.sdk.exceptions import AirflowSkipException
        from airflow.sdk.log import mask_secret

        try:
            password = BaseHook.get_connection(self.hmac_conn_id).password
        except Exception:
            raise AirflowSkipException(
                f"no Airflow connection {self.hmac_conn_id!r}: the tokenised zone needs its password as the HMAC "
                "key (the reports' key); create it to publish cdr_tokenised/"
            ) from None
        if not password:
            raise ValueError(f"the connection {self.hmac_conn_id!r} has no password to key the tokens")
        mask_secret(password)
        return password.encode("utf-8")

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_vobiz.privacy import MIN_KEY_BYTES
        from airflow_provider_vobiz.reports.tokenised import publish_tokenised

        key = self._key()
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(
                f"the HMAC key of {self.hmac_conn_id!r} must be at least {MIN_KEY_BYTES} bytes: a short key "
                "makes the tokens guessable"
            )
        account = settings.account_id(self.account_id, vobiz_conn_id=self.vobiz_conn_id)
        summary = publish_tokenised(
            self.storage, self.layout, account, str(self.call_date).strip(), key, owner=publish_owner(context)
        )
        self.log.info(
            "Tokenised zone %s: %d rows, key %s, %s",
            summary["partition_uri"],
            summary["row_count"],
            summary["key_id"],
            "restated" if summary["restated"] else ("published" if summary["changed"] else "unchanged"),
        )
        self._published = summary
        return summary

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """OpenLineage: the ``cdr/`` partition (by version) in, the tokenised partition (schema, rows) out."""
        from airflow_provider_vobiz import lineage

        summary = getattr(self, "_published", None)
        source = []
        if summary:
            account, day = summary["account_id"], summary["call_date"]
            source = [
                lineage.partition_input(self.layout, account, day, version=summary["source_content_sha256"])
            ]
        return lineage.published_lineage(summary, self.layout.tokenised(), source)
