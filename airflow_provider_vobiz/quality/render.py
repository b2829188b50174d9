"""What people read: the failure message, the HTML page, and masking of phone numbers in both.

Phone numbers are personal data (DPDP Act 2023): anything a person reads shows only the last four digits
(:mod:`airflow_provider_vobiz.privacy`), and the stored validation result is masked the same way.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from airflow_provider_vobiz.privacy import mask_number, mask_text

if TYPE_CHECKING:
    from airflow_provider_vobiz.quality.validate import CheckResult, QualityResult

#: How GX's JSON result spells the missing values it lists as unexpected.
_NULL_TEXT = ("NaT", "NaN", "nan", "None")


def mask_phone(value: Any) -> Any:
    """``+919876543210`` -> ``••••3210`` (:func:`privacy.mask_number`). Non-strings are returned unchanged."""
    return mask_number(value) if isinstance(value, str) else value


def mask_values(obj: Any) -> Any:
    """Mask every string inside ``obj`` (lists, dicts, pairs of a column-pair result)."""
    if isinstance(obj, str):
        return mask_phone(obj)
    if isinstance(obj, list | tuple):
        return [mask_values(v) for v in obj]
    if isinstance(obj, dict):
        return {k: mask_values(v) for k, v in obj.items()}
    return obj


def _example(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "(" + ", ".join(_example(v) for v in value) + ")"
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(mask_text(value)[:80])
    return str(value)


def _examples(check: CheckResult) -> str:
    """Up to three examples; nulls say nothing (a not-null check's unexpected values are all null)."""
    values = [v for v in check.examples if v is not None and v not in _NULL_TEXT][:3]
    return ", ".join(_example(v) for v in values)


def describe_check(check: CheckResult) -> str:
    """One line: severity, name, what it checks, how it failed, up to three (masked) examples."""
    where = f" on {', '.join(check.columns)}" if check.columns else ""
    if check.condition:
        where += f" where {check.condition}"
    line = f"{check.severity.upper():8} {check.name} ({check.type}{where})"
    if check.error:
        return f"{line}: could not be evaluated: {check.error}"
    if check.unexpected_count is not None:
        pct = f" ({check.unexpected_percent:.2f}%)" if check.unexpected_percent is not None else ""
        of = f" of {check.element_count}" if check.element_count is not None else ""
        line += f": {check.unexpected_count} unexpected{of}{pct}"
        examples = _examples(check)
        if examples:
            line += "; e.g. " + examples
        return line
    return f"{line}: observed {_example(check.observed)}, expected {check.expected}"


def failure_message(result: QualityResult) -> str:
    """The task's error text: every failed expectation, its unexpected count and a few masked examples."""
    failed = [c for c in result.checks if not c.success]
    crit = sum(1 for c in failed if c.severity == "critical")
    head = (
        f"Data quality {result.status.upper()} for account {result.account_id}, call_date {result.call_date} "
        f"({result.rows} rows, suite {result.suite_name}): {crit} critical and {len(failed) - crit} "
        f"non-critical of {len(result.checks)} expectations failed."
    )
    lines = [head] + ["  " + describe_check(c) for c in sorted(failed, key=_severity_order)]
    if result.validation_uri:
        lines.append(f"Full result: {result.validation_uri} (readable: {result.html_uri})")
    return "\n".join(lines)


def _severity_order(check: CheckResult) -> int:
    return {"critical": 0, "warning": 1}.get(check.severity, 2)


_STATUS_COLOUR = {"passed": "#1b7f3b", "warning": "#9a6700", "failed": "#b42318"}


def render_html(result: QualityResult, reconciliation: dict[str, Any] | None) -> str:
    """A self-contained, plain HTML page: one row per expectation with severity, success and counts."""
    e = html.escape
    rows = []
    for c in result.checks:
        outcome = "pass" if c.success else ("error" if c.error else "FAIL")
        if c.unexpected_count is not None:
            detail = f"{c.unexpected_count} of {c.element_count}"
            if c.unexpected_percent:
                detail += f" ({c.unexpected_percent:.2f}%)"
        elif c.error:
            detail = c.error
        else:
            detail = f"observed {_example(c.observed)}; expected {c.expected}"
        examples = _examples(c) if not c.success else ""
        rows.append(
            f'<tr class="{"ok" if c.success else "bad " + e(c.severity)}">'
            f"<td>{e(c.name)}</td><td>{e(c.description or c.type)}</td>"
            f"<td>{e(', '.join(c.columns))}{e(' where ' + c.condition if c.condition else '')}</td>"
            f"<td>{e(c.severity)}</td><td>{outcome}</td><td>{e(detail)}</td><td>{e(examples)}</td></tr>"
        )
    recon = ""
    if reconciliation:
        cells = "".join(
            f"<tr><th>{e(str(k))}</th><td>{e(str(v))}</td></tr>" for k, v in reconciliation.items()
        )
        recon = f"<h2>API reconciliation (from the manifest)</h2><table class='kv'>{cells}</table>"
    colour = _STATUS_COLOUR.get(result.status, "#333")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>CDR quality {e(result.account_id)} {e(result.call_date)}: {e(result.status)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; font-size: 14px; }}
th {{ background: #f3f3f3; }}
tr.bad.critical td {{ background: #fde8e8; }}
tr.bad.warning td {{ background: #fff6dd; }}
.status {{ font-weight: bold; color: {colour}; }}
</style></head><body>
<h1>CDR data quality: <span class="status">{e(result.status.upper())}</span></h1>
<table class="kv">
<tr><th>Account</th><td>{e(result.account_id)}</td></tr>
<tr><th>Call date</th><td>{e(result.call_date)}</td></tr>
<tr><th>Rows</th><td>{result.rows}</td></tr>
<tr><th>Partition content sha256</th><td>{e(str(result.content_sha256))}</td></tr>
<tr><th>Suite</th><td>{e(result.suite_name)} ({e(result.suite_source)}, sha256 {e(result.suite_sha256[:12])})</td></tr>
<tr><th>Validated at</th><td>{e(result.validated_at)}</td></tr>
<tr><th>Expectations</th><td>{len(result.checks)} evaluated, {len(result.failed("critical"))} critical and
{len(result.failed("warning"))} warning failed</td></tr>
</table>
<p>Critical expectations fail the quality task; warnings are recorded. Phone numbers show only their last four
digits.</p>
<table>
<tr><th>Check</th><th>What it checks</th><th>Columns</th><th>Severity</th><th>Result</th><th>Unexpected</th>
<th>Examples</th></tr>
{"".join(rows)}
</table>
{recon}
</body></html>
"""
