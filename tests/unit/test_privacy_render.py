"""One masking rule for every output, and renderers that no value can break."""

from __future__ import annotations

import csv
import io
import re

import pypdf
import pytest

from airflow_provider_vobiz.privacy import MASK, NumberPolicy, hmac_token, mask_number, mask_text, mask_value
from airflow_provider_vobiz.reports.render import (
    CELL_LIMIT,
    Chart,
    Report,
    Section,
    Table,
    neutralise_csv_cell,
    printable,
    render_csv,
    render_html,
    render_pdf,
)

KEY = b"0123456789abcdef-test-key"
NUMBER = "+919876543210"


def test_number_like_runs_in_any_text_are_masked_with_one_glyph() -> None:
    assert mask_number(NUMBER) == "••••3210" and MASK == "••••"
    assert mask_text("TRK919876543210") == "TRK••••3210"
    assert mask_text("reason: call 080-6548-0214 back") == "reason: call ••••0214 back"
    assert mask_text("=HYPERLINK(919876543210)") == "=HYPERLINK(••••3210)"
    # Not subscriber numbers: kept readable.
    for keep in (
        "2026-05-11T06:59:26Z",
        "bcd1c45d-3f27-41ea-bea1-446655440000",
        "192.168.100.200",
        "code 4000",
    ):
        assert mask_text(keep) == keep
    assert mask_value({"caller_id_number": "1909", "trunk_id": "T-919876543210"}) == {
        "caller_id_number": "••••",
        "trunk_id": "T-••••3210",
    }


def test_numbers_written_with_any_separator_are_masked_but_figures_and_ids_are_kept() -> None:
    for written in (
        "98765.43210",
        "98765_43210",
        "98765/43210",
        "+91 (98765) 43210",
        "+91\u00a098765\u00a043210",
        "919.876.543.210",
        "deadbeef919876543210deadbeefdeadbeef",
    ):
        masked = mask_text(f"note {written} end")
        assert "3210" in masked and "98765" not in masked and "919876" not in masked, written
    for keep in (
        "10.0.0.1 and 192.168.1.254",
        "total 1234567.89 INR",
        "mos 4.123456789",
        "1,234,567 calls",
        "sha256 " + "a1" * 32,
        "md5: " + "0123456789abcdef" * 2,
    ):
        assert mask_text(keep) == keep


def test_machines_get_tokens_for_runs_in_text() -> None:
    policy = NumberPolicy(key=KEY)
    token = hmac_token("919876543210", KEY)
    assert policy.text_for_machines("TRK919876543210") == f"TRK{token}"
    # Separators are not part of the number: the same number gives the same token however it is spaced.
    assert policy.text_for_machines("TRK 91 98765 43210") == f"TRK {token}"
    assert policy.text_for_machines("USER_BUSY") == "USER_BUSY"
    assert policy.text_for_machines(None) is None
    assert NumberPolicy(include_raw_numbers=True).text_for_machines("TRK919876543210") == "TRK919876543210"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-0.5", "-0.5"),
        ("+12", "+12"),
        ("1e-3", "1e-3"),
        ("NORMAL_CLEARING", "NORMAL_CLEARING"),
    ],
)
def test_csv_cells_are_neutralised_unless_numbers(cell: str, expected: str) -> None:
    assert neutralise_csv_cell(cell) == expected
    rows = list(csv.reader(io.StringIO(render_csv(["k", "v"], [[cell, -1]]).decode())))
    assert rows[1] == [expected, "-1"]


def test_printable_keeps_control_characters_out_of_markup() -> None:
    assert printable("a\x00b\x1bc\nd\ud800") == "a\ufffdb\ufffdc d\ufffd"
    assert printable("plain ≥ text") == "plain ≥ text"


def _hostile_report(long: str) -> Report:
    hostile = ["<b>bold</b>&amp;", "=cmd()", "ctrl\x00\x07\x1b[31m", long, long.replace("X", "Y")]
    return Report(
        title="Hostile",
        account_id="MA_T",
        period_label="2026-10",
        generated_at="now",
        provider_version="1",
        notices=[long],
        sections=[
            Section(
                "Values",
                paragraphs=[long, "para <i>x</i> \x00"],
                tables=[Table(["Cause", "Calls"], [[v, 1] for v in hostile], caption=long[:50])],
                charts=[Chart("bar", "$x^", hostile, {long: [1.0] * len(hostile)})],
            )
        ],
    )


def test_long_markup_and_control_values_render_in_html_and_pdf() -> None:
    long = "X" * 3000 + " " + "word " * 400  # one unbreakable run, then words: taller than a page uncut
    report = _hostile_report(long)
    html = render_html(report).decode()
    assert "&lt;b&gt;bold&lt;/b&gt;&amp;amp;" in html and "<b>bold" not in html
    assert "\x00" not in html and "\x1b" not in html
    assert f"[cut: {len(long):,} characters, whole value in CSV/JSON]" in html
    cells = re.findall(r"<td[^>]*>(.*?)</td>", html)
    assert len(cells) == 18 and max(map(len, cells)) < CELL_LIMIT + 60
    pdf = render_pdf(report)
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "[cut:" in text and "=cmd()" in text and "bold" in text
