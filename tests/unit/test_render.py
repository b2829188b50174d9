"""The shared renderers: HTML is self-contained with its charts, the PDF's text holds the figures."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pypdf
import pytest

from airflow_provider_vobiz.reports.privacy import NumberPolicy, hmac_token, mask_number
from airflow_provider_vobiz.reports.render import (
    REFERENCE_LABEL,
    Chart,
    Report,
    Section,
    Table,
    render_csv,
    render_html,
    render_json,
    render_pdf,
)

KEY = b"0123456789abcdef-test-key"


def _report() -> Report:
    return Report(
        title="TRAI summary",
        account_id="MA_TEST01",
        period_label="2026-10-01",
        generated_at="2026-10-02T00:00:00Z",
        provider_version="9.9.9",
        notices=["1 day missing: 2026-10-03"],
        meta=[("Inputs", "call_date=2026-10-01 sha256 abc123")],
        sections=[
            Section(
                "Traffic",
                paragraphs=["Answered share of calls ≥ 3.6 MOS", f"Top CLI {mask_number('+919876543210')}"],
                tables=[
                    Table(["Day", "Calls", "ASR"], [["2026-10-01", 12345, 0.4812], ["2026-10-02", None, 1.0]])
                ],
                charts=[
                    Chart(
                        "line",
                        "ASR per day",
                        ["10-01", "10-02"],
                        {"ASR": [0.48, 0.5]},
                        "ratio",
                        (0.98, REFERENCE_LABEL),
                    ),
                    Chart("stacked_bar", "Hangup classes", ["10-01", "10-02"], {"U": [1, 2], "X": [3, 4]}),
                    Chart("bar", "Empty", [], {}),
                ],
            )
        ],
    )


def test_html_is_self_contained_with_charts() -> None:
    page = render_html(_report()).decode()
    assert page.count("<svg") == 3
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org", "")
    assert "src=" not in page and "<link" not in page
    assert "1 day missing: 2026-10-03" in page
    assert "12,345" in page and "0.48" in page
    assert REFERENCE_LABEL in page  # the chart legend keeps its text as text
    assert "9876543210" not in page and "••••3210" in page


def test_pdf_text_holds_figures_and_unicode() -> None:
    data = render_pdf(_report())
    assert data.startswith(b"%PDF")
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)
    for expected in (
        "TRAI summary",
        "MA_TEST01",
        "12,345",
        "0.48",
        "1 day missing: 2026-10-03",
        "••••3210",
        "≥ 3.6",
    ):
        assert expected in text
    assert "9876543210" not in text
    assert len(pypdf.PdfReader(io.BytesIO(data)).pages[0].images) >= 1


def test_csv_and_json_are_exact_and_stable() -> None:
    data = render_csv(["a", "b", "c"], [[1, Decimal("1.500000"), None], ["x,y", 0.1, True]])
    rows = list(csv.reader(io.StringIO(data.decode())))
    assert rows == [["a", "b", "c"], ["1", "1.500000", ""], ["x,y", "0.1", "true"]]
    one = render_json({"b": Decimal("2.000001"), "a": float("nan"), "c": [1.5]})
    assert one == render_json({"c": [1.5], "a": float("nan"), "b": Decimal("2.000001")})
    assert json.loads(one) == {"a": None, "b": "2.000001", "c": [1.5]}


def test_bad_shapes_are_rejected() -> None:
    with pytest.raises(ValueError, match="series 'ASR' has 1 values for 2 x labels"):
        Chart("line", "ASR", ["a", "b"], {"ASR": [1.0]})
    with pytest.raises(ValueError, match="kind"):
        Chart("pie", "x", [], {})
    with pytest.raises(ValueError, match="row 0 has 1 cells"):
        Table(["a", "b"], [[1]])
    with pytest.raises(ValueError, match="CSV row 0"):
        render_csv(["a"], [[1, 2]])


def test_masking_and_tokens() -> None:
    assert mask_number("+919876543210") == "••••3210"
    assert mask_number("14012") == "••••4012"
    assert mask_number("1909") == "••••"
    assert mask_number(None) == ""
    t1, t2 = hmac_token("+919876543210", KEY), hmac_token("+919876543210", KEY + b"x")
    assert len(t1) == 64 and t1 != t2 and "9876543210" not in t1
    with pytest.raises(ValueError, match="at least 16 bytes"):
        hmac_token("+91", b"short")
    with pytest.raises(ValueError, match="include_raw_numbers"):
        NumberPolicy()
    assert NumberPolicy(include_raw_numbers=True).for_machines("+919876543210") == "+919876543210"
    assert NumberPolicy(key=KEY).for_machines("+919876543210") == t1
    assert "key" not in repr(NumberPolicy(key=KEY)).replace("key=", "")
