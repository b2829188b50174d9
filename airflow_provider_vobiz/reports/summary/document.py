"""Copies of the summary document for its readers: tokenised for machines (CSV, JSON), masked for people
(HTML, PDF). Every CDR text value the document carries goes through :func:`map_cdr_text`."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from airflow_provider_vobiz.privacy import NumberPolicy


def _merge_keys(counts: Mapping[str, Any], text: Callable[[Any], Any]) -> dict[str, Any]:
    """``counts`` with each key through ``text``; keys that become equal (two numbers masked alike) add up."""
    out: dict[str, Any] = {}
    for k, v in counts.items():
        k2 = text(k)
        out[k2] = out[k2] + v if k2 in out else v
    return dict(sorted(out.items()))


def map_cdr_text(doc: dict[str, Any], text: Callable[[Any], Any]) -> dict[str, Any]:
    """Apply ``text`` to every CDR text value the document carries (in place; returns ``doc``).

    These are the values that come from the API's free-form fields (``hangup_cause``, ``hangup_source``,
    ``codec``, ``campaign_id``, ``trunk_id``, ``region``), as values or as keys. The phone field ``ucc[].cli``
    is not among them: callers treat it as a number.
    """
    h = doc["hangups"]
    for group in ("by_cause", "by_source", "answered_by_cause"):
        h[group] = {day: _merge_keys(counts, text) for day, counts in h[group].items()}
    for t in h["top_causes"]:
        t["cause"] = text(t["cause"])
        t["meaning"] = text(t["meaning"])
        t["likely_root_cause"] = [text(x) for x in t["likely_root_cause"]]
    doc["codec_mix"] = {day: _merge_keys(counts, text) for day, counts in doc["codec_mix"].items()}
    for r in (*doc["calling_hours"], *doc["number_series"]):
        r["campaign_id"] = text(r["campaign_id"])
    for r in doc["cost"]["by_trunk_region"]:
        r["trunk"], r["region"] = text(r["trunk"]), text(r["region"])
    return doc


def for_machines(summary: Mapping[str, Any], policy: NumberPolicy) -> dict[str, Any]:
    """A copy of the summary for CSV/JSON: every phone number, and every number-like run in the CDR's other
    text fields, as a keyed token (or raw, if the policy allows)."""
    doc = json.loads(json.dumps(summary, default=str))  # deep copy; Decimals become exact strings
    map_cdr_text(doc, policy.text_for_machines)
    for row in doc["ucc"]:
        row["cli"] = policy.for_machines(row["cli"])
    doc["phone_numbers"] = policy.describe()
    return doc


def for_people(summary: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the summary for HTML/PDF: number-like runs in the CDR's text fields masked (the CLIs are
    masked where they are shown)."""
    return map_cdr_text(json.loads(json.dumps(summary, default=str)), NumberPolicy.text_for_people)
