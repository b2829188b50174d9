"""VobizCdrQualityOperator: check one published CDR partition with the Great Expectations suite."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_vobiz import settings
from airflow_provider_vobiz.lake.access import LakeAccessMixin
from airflow_provider_vobiz.links.lake import VALIDATION_URL_XCOM_KEY, VobizValidationLink, push_object_link
from airflow_provider_vobiz.settings import DEFAULT_AWS_CONN_ID, DEFAULT_VOBIZ_CONN_ID

if TYPE_CHECKING:
    from airflow.sdk import Context


class VobizCdrQualityOperator(LakeAccessMixin, BaseOperator):
    """Validate one day's CDR partition in the lake and keep the result beside it.

    Reads only the columns the suite needs, validates them with Great Expectations (an ephemeral context,
    nothing read when the DAG file is parsed), writes ``validation.json``, ``.html`` and ``.pdf`` under
    ``{lake}/quality/account_id=…/call_date=…/`` and records the verdict (passed / warning / failed) in
    ``verdict.json`` beside them. A failed critical expectation fails the task (without retries: the same
    data fails the same way) with a message listing each failed expectation, its unexpected count and a few
    example values, phone numbers masked to their last four digits. Warnings are logged and recorded.

    :param lake_uri: the lake, ``s3://bucket/prefix``; empty: Variable ``vobiz_lake_uri``, else the default.
        (templated)
    :param call_date: the partition's day, ``YYYY-MM-DD``. (templated)
    :param account_id: the Vobiz account (Auth ID); empty: Variable ``vobiz_account_id``, then the login of
        ``vobiz_conn_id``. (templated)
    :param suite_path: a Great Expectations 1.x suite file; None uses the suite shipped with the provider.
        (templated)
    :param aws_conn_id: the Airflow ``aws`` connection for the lake's bucket. (templated)
    :param revalidate: validate again even when a verdict of this suite on this
        content (by default such a day is left as it is, so a re-pull of an unchanged day rewrites nothing).
    :param vobiz_conn_id: the ``vobiz`` connection whose login is the account when nothing else names one.
    :param fail_on_warning: also fail the task when only warning-level expectations fail.
    :param verify: how the parts are checked against the manifest before anything else, a recorded verdict
        included: ``"manifest"`` (size and ETag, from one listing) or ``"full"`` (also each part's sha256).
        A mismatch fails the task naming the partition and the part; a re-run of the ingest repairs the day.
        (templated)
    """

    template_fields: Sequence[str] = (
        "aws_conn_id",
        "lake_uri",
        "call_date",
        "account_id",
        "suite_path",
        "verify",
    )
    operator_extra_links = (VobizValidationLink(),)
    ui_color = "#e8f4ea"

    def __init__(
        self,
        *,
        lake_uri: str | None = None,
        call_date: str,
        account_id: str | None = None,
        suite_path: str | None = None,
        aws_conn_id: str | None = DEFAULT_AWS_CONN_ID,
        vobiz_conn_id: str = DEFAULT_VOBIZ_CONN_ID,
        fail_on_warning: bool = False,
        revalidate: bool = False,
        verify: str = "manifest",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.lake_uri = lake_uri
        self.call_date = call_date
        self.account_id = account_id
        self.suite_path = suite_path
        self.aws_conn_id = aws_conn_id
        self.vobiz_conn_id = vobiz_conn_id
        self.fail_on_warning = fail_on_warning
        self.revalidate = revalidate
        self.verify = verify

    def _recorded_verdict(self, account: str, call_date: str) -> dict[str, Any] | None:
        """The recorded verdict if it judged this partition's current content with this suite, once the
        parts are verified to still be that content (a verdict on bytes that changed since says nothing)."""
        from airflow_provider_vobiz.lake.integrity import check_partition
        from airflow_provider_vobiz.lake.manifest import QUALITY_PENDING
        from airflow_provider_vobiz.lake.read import partition_manifest
        from airflow_provider_vobiz.lake.records import read_quality
        from airflow_provider_vobiz.quality.suite import load_suite

        manifest = partition_manifest(self.storage, self.layout, account, call_date)
        if manifest is None:
            return None  # validate_partition says so clearly
        check_partition(self.storage, self.layout, account, call_date, manifest, self.verify)
        quality = read_quality(self.storage, self.layout, account, call_date, manifest)
        if quality.get("status", QUALITY_PENDING) == QUALITY_PENDING:
            return None
        if quality.get("suite_sha256") != load_suite(self.suite_path).sha256:
            return None
        return quality

    def _validate(self, account: str, call_date: str) -> Any:
        from airflow_provider_vobiz.quality import validate_partition

        return validate_partition(
            self.storage, self.layout, account, call_date, self.suite_path, verify=self.verify
        )

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowFailException

        from airflow_provider_vobiz.lake.integrity import PartitionIntegrityError

        account = settings.account_id(self.account_id, vobiz_conn_id=self.vobiz_conn_id)
        call_date = str(self.call_date).strip()
        self.log.info(
            "Validating %s/cdr/account_id=%s/call_date=%s with suite %s",
            self.layout.uri,
            account,
            call_date,
            self.suite_path or "(shipped vobiz_cdr)",
        )
        try:
            recorded = None if self.revalidate else self._recorded_verdict(account, call_date)
            result = None if recorded is not None else self._validate(account, call_date)
        except PartitionIntegrityError as err:
            raise AirflowFailException(str(err)) from err
        if recorded is not None:
            self.log.info(
                "Already validated with suite %s: %s on this exact content (%s); left as it is",
                recorded.get("suite"),
                recorded["status"],
                recorded.get("content_sha256"),
            )
            if recorded["status"] == "failed" or (self.fail_on_warning and recorded["status"] == "warning"):
                failed = recorded.get("failed_critical", []) + recorded.get("failed_warning", [])
                counts = recorded.get("unexpected", {})
                raise AirflowFailException(
                    f"the recorded quality verdict of {call_date} is {recorded['status']}; failed: "
                    + ", ".join(f"{name} ({counts.get(name, '?')} unexpected)" for name in failed)
                    + f"; details in {recorded.get('validation_key') or 'validation.json'}"
                )
            if recorded.get("validation_html_key"):
                push_object_link(
                    context, self.storage, VALIDATION_URL_XCOM_KEY, recorded["validation_html_key"]
                )
            self._checked = (account, call_date, recorded, None)
            return recorded
        self._checked = (account, call_date, result.manifest_quality(), [asdict(c) for c in result.checks])
        push_object_link(context, self.storage, VALIDATION_URL_XCOM_KEY, result.html_key)
        self.log.info(
            "Quality %s: %d rows, %d expectations, %d critical and %d warning failed, in %.1fs. Result: %s",
            result.status.upper(),
            result.rows,
            len(result.checks),
            len(result.failed("critical")),
            len(result.failed("warning")),
            result.seconds,
            result.html_uri,
        )
        if result.status == "failed" or (self.fail_on_warning and result.status == "warning"):
            raise AirflowFailException(result.message())
        if result.status == "warning":
            self.log.warning("%s", result.message())
        return result.summary()

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """OpenLineage: the partition in, with the suite's assertions and metrics; the validation result out."""
        from airflow_provider_vobiz import lineage

        checked = getattr(self, "_checked", None)
        if checked is None:
            return lineage.operator_lineage()
        account, call_date, quality, checks = checked
        if checks is None and quality.get("validation_key"):  # a recorded verdict: its checks are stored
            stored = self.storage.get_json(quality["validation_key"]) or {}
            checks = ((stored.get("meta") or {}).get("vobiz") or {}).get("checks") or []
        facets = lineage.quality_facets(checks or [], int(quality.get("rows") or 0))
        partition = lineage.partition_input(
            self.layout, account, call_date, version=quality.get("content_sha256"), input_facets=facets
        )
        outputs = (
            [lineage.file_output(self.layout, quality["validation_key"])]
            if quality.get("validation_key")
            else []
        )
        return lineage.operator_lineage([partition], outputs)
