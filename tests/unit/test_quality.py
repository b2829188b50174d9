"""The suite file, its columns and severities, masking, messages and the HTML page (no servers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_provider_vobiz.cdr.schema import E164_PATTERN, FILE_SCHEMA, HANGUP_CAUSES
from airflow_provider_vobiz.quality import SuiteError, load_suite
from airflow_provider_vobiz.quality.render import mask_phone, mask_values, render_html
from airflow_provider_vobiz.quality.validate import (
    CheckResult,
    QualityResult,
    checks_from_gx,
    reconciliation_checks,
    status_of,
    suite_parameters,
)

REPO = Path(__file__).resolve().parents[2]

#: The checks docs/quality.md lists and the severity each has in the shipped suite.
REQUIRED = {
    "uuid_not_null": "critical",
    "uuid_unique": "critical",
    "call_direction_known": "critical",
    "caller_id_number_e164": "critical",
    "destination_number_e164": "warning",
    "duration_non_negative": "critical",
    "billsec_non_negative": "critical",
    "ring_time_non_negative": "critical",
    "billsec_within_duration": "critical",
    "unanswered_has_no_answer_time": "critical",
    "answered_has_answer_time": "critical",
    "end_after_start": "critical",
    "mos_in_range": "critical",
    "jitter_non_negative": "critical",
    "packet_loss_percentage": "critical",
    "currency_iso4217": "critical",
    "hangup_cause_documented": "warning",
    "rows_match_manifest": "critical",
    "rows_match_api_in_window": "critical",
}


def test_shipped_suite_is_package_data_and_the_repo_file_is_the_same():
    suite = load_suite()
    assert suite.source == "airflow_provider_vobiz.quality:expectations/vobiz_cdr.json"
    assert (REPO / "expectations" / "vobiz_cdr.json").read_bytes() == (
        REPO / "airflow_provider_vobiz" / "quality" / "expectations" / "vobiz_cdr.json"
    ).read_bytes()
    assert load_suite(REPO / "expectations" / "vobiz_cdr.json").sha256 == suite.sha256


def test_suite_covers_design_section_5_with_native_severities():
    suite = load_suite()
    severities = {
        name: exp["severity"] for name, exp in zip(suite.check_names, suite.expectations, strict=True)
    }
    assert {k: severities.get(k) for k in REQUIRED} == REQUIRED
    assert set(severities.values()) <= {"critical", "warning"}
    by_name = dict(zip(suite.check_names, suite.expectations, strict=True))
    assert by_name["caller_id_number_e164"]["kwargs"]["regex"] == E164_PATTERN
    assert by_name["hangup_cause_documented"]["kwargs"]["value_set"] == list(HANGUP_CAUSES)
    assert {"INR", "USD", "EUR"} <= set(by_name["currency_iso4217"]["kwargs"]["value_set"])
    assert by_name["mos_in_range"]["kwargs"] == {"column": "mos", "min_value": 1, "max_value": 5}
    # Every expectation says what it checks, in words, for the HTML page and the failure message.
    assert all(exp.get("description") for exp in suite.expectations)
    # Severity decisions are justified in the suite itself.
    assert "destination identifier" in by_name["destination_number_e164"]["notes"]


def test_suite_reads_only_the_columns_it_needs():
    columns = load_suite().columns
    assert set(columns) <= set(FILE_SCHEMA.names)
    assert "billsec" in columns and "answer_time" in columns  # row-condition columns count
    assert "caller_id_name" not in columns and "extra" not in columns
    assert len(columns) == 15


def test_suite_builds_a_gx_suite_with_the_same_severities():
    gx_suite = load_suite().to_gx()
    assert [e.severity.value for e in gx_suite.expectations] == [
        e["severity"] for e in load_suite().expectations
    ]


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("{not json", "is not JSON"),
        (json.dumps({"name": "x"}), "no 'expectations' list"),
        (json.dumps({"expectations": [{"kwargs": {}}]}), "has no 'type'"),
        (
            json.dumps({"expectations": [{"type": "expect_table_row_count_to_equal", "severity": "fatal"}]}),
            "severity 'fatal'",
        ),
        (
            json.dumps(
                {
                    "expectations": [
                        {"type": "expect_column_values_to_not_be_null", "meta": {"check": "a"}},
                        {"type": "expect_column_values_to_be_unique", "meta": {"check": "a"}},
                    ]
                }
            ),
            "two expectations are named 'a'",
        ),
    ],
)
def test_bad_suites_are_refused_with_a_clear_error(tmp_path, content, error):
    path = tmp_path / "suite.json"
    path.write_text(content)
    with pytest.raises(SuiteError, match=error):
        load_suite(path)


def test_missing_suite_file(tmp_path):
    with pytest.raises(SuiteError, match="does not exist"):
        load_suite(tmp_path / "nope.json")


def test_mask_keeps_only_the_last_four_digits():
    assert mask_phone("+919876543210") == "••••3210"
    assert mask_phone("sip:ivr@voice.example") == "••••"
    assert mask_phone("123") == "••••"
    assert mask_phone(None) is None and mask_phone(42) == 42
    assert mask_values([["+919876543210", 5], {"v": "+14155550123"}]) == [
        ["••••3210", 5],
        {"v": "••••0123"},
    ]


def _gx_result(check: str, column: str, values: list) -> dict:
    return {
        "results": [
            {
                "success": False,
                "expectation_config": {"type": "x", "kwargs": {"column": column}, "meta": {"check": check}},
                "result": {
                    "element_count": 100,
                    "unexpected_count": len(values),
                    "unexpected_percent": len(values),
                    "partial_unexpected_list": values,
                },
                "exception_info": {"raised_exception": False},
            }
        ]
    }


def test_phone_examples_are_masked_in_the_stored_gx_result_too(tmp_path):
    path = tmp_path / "suite.json"
    exp = {
        "type": "expect_column_values_to_match_regex",
        "kwargs": {"column": "caller_id_number", "regex": "x"},
    }
    path.write_text(json.dumps({"name": "s", "expectations": [exp | {"meta": {"check": "e164"}}]}))
    gx = _gx_result("e164", "caller_id_number", ["919876543210", "+9198765"])
    (check,) = checks_from_gx(load_suite(path), gx)
    assert check.examples == ["••••3210", "••••8765"]
    assert gx["results"][0]["result"]["partial_unexpected_list"] == ["••••3210", "••••8765"]
    assert "9876543210" not in json.dumps(gx)


def _result(checks: list[CheckResult]) -> QualityResult:
    return QualityResult(
        account_id="MA_1",
        call_date="2026-03-01",
        status=status_of(checks),
        rows=100,
        suite_name="vobiz_cdr",
        suite_source="test",
        suite_sha256="0" * 64,
        checks=checks,
        content_sha256="abc",
        validated_at="2026-03-02T00:00:00Z",
    )


def test_status_and_message():
    ok = CheckResult(name="ok", type="t", severity="critical", success=True)
    warn = CheckResult(
        name="hangup_cause_documented",
        type="expect_column_values_to_be_in_set",
        severity="warning",
        success=False,
        columns=("hangup_cause",),
        element_count=100,
        unexpected_count=2,
        unexpected_percent=2.0,
        examples=["NEW_CAUSE", "NEW_CAUSE", "OTHER", "FOURTH"],
    )
    crit = CheckResult(
        name="rows_match_manifest",
        type="expect_table_row_count_to_equal",
        severity="critical",
        success=False,
        observed=99,
        expected=100,
    )
    assert status_of([ok]) == "passed"
    assert status_of([ok, warn]) == "warning"
    assert status_of([ok, warn, crit]) == "failed"
    message = _result([ok, warn, crit]).message()
    lines = message.splitlines()
    assert "FAILED" in lines[0] and "1 critical and 1 non-critical of 3" in lines[0]
    assert (
        lines[1].strip().startswith("CRITICAL rows_match_manifest")
        and "observed 99, expected 100" in lines[1]
    )
    assert "2 unexpected of 100 (2.00%); e.g. 'NEW_CAUSE', 'NEW_CAUSE', 'OTHER'" in lines[2]
    assert "FOURTH" not in message  # at most three examples


def test_html_is_a_plain_escaped_table():
    evil = CheckResult(
        name="x<script>",
        type="t",
        severity="warning",
        success=False,
        unexpected_count=1,
        element_count=1,
        examples=["<b>"],
    )
    page = render_html(_result([evil]), {"api_total": 5, "records_read": 5})
    assert "<script>" not in page and "x&lt;script&gt;" in page
    assert "<th>Severity</th>" in page and "WARNING" in page and "api_total" in page


def test_reconciliation_from_the_manifest():
    ok, clean = reconciliation_checks({"reconciliation": {"api_total": 10, "records_read": 10}})
    assert ok.success and ok.severity == "critical" and clean.success
    short, _ = reconciliation_checks({"reconciliation": {"api_total": 10, "records_read": 9}})
    assert not short.success and short.error is None
    absent, _ = reconciliation_checks({})
    assert not absent.success and "no reconciliation figures" in absent.error
    _, quarantined = reconciliation_checks(
        {"reconciliation": {"api_total": 10, "records_read": 10}, "rejects": {"count": 3}}
    )
    assert (
        not quarantined.success
        and quarantined.severity == "warning"
        and quarantined.observed == {"rejected": 3}
    )
    params = suite_parameters({"row_count": 7, "reconciliation": {"in_window": 7}})
    assert params["manifest_row_count"] == 7 and params["reconciliation_in_window"] == 7
    assert suite_parameters({})["manifest_row_count"] == -1


def test_row_conditions_are_described_in_words():
    from airflow_provider_vobiz.quality.validate import describe_condition

    billsec = {"name": "billsec"}
    assert describe_condition({"type": "comparison", "column": billsec, "operator": ">", "parameter": 0}) == (
        "billsec > 0"
    )
    assert (
        describe_condition({"type": "nullity", "column": billsec, "is_null": False}) == "billsec is not null"
    )
    both = {
        "type": "and",
        "conditions": [
            {"type": "comparison", "column": billsec, "operator": ">", "parameter": 0},
            {
                "type": "comparison",
                "column": {"name": "call_direction"},
                "operator": "==",
                "parameter": "inbound",
            },
        ],
    }
    assert describe_condition(both) == "(billsec > 0) and (call_direction == 'inbound')"
    assert describe_condition("billsec > 0 and mos < 3.5") == "billsec > 0 and mos < 3.5"
    assert describe_condition(None) is None
