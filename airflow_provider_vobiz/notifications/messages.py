"""Every message the notifications send, importable from one place: the message model
(:mod:`.notice`), report deliveries (:mod:`.report_messages`) and alerts (:mod:`.alerts`)."""

from __future__ import annotations

from airflow_provider_vobiz.notifications.alerts import (  # noqa: F401
    failed_checks,
    quality_failure_alert,
    restatement_alert,
    retention_alert,
    task_failure_alert,
    warnings_digest,
)
from airflow_provider_vobiz.notifications.notice import (  # noqa: F401
    Attachment,
    Notice,
    digest,
    fmt_inr,
    fmt_int,
    fmt_num,
    fmt_pct,
    scrub,
)
from airflow_provider_vobiz.notifications.report_messages import (  # noqa: F401
    REPORT_TITLES,
    SUPERSESSION_KEYS,
    VOLATILE_KEYS,
    report_fingerprint,
    report_notice,
    report_status,
    retention_facts,
    summary_facts,
    supersession,
    why_replaced,
)
