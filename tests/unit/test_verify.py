"""The auditor's command on a copy of the lake on disk: match, restated since, missing, changed, exit codes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from airflow_provider_vobiz.lake.manifest import content_sha256
from airflow_provider_vobiz.verify import main

ACCOUNT = "MA_AUDIT1"


def _partition(root: Path, day: str, payload: bytes) -> dict:
    """A published day as the lake stores it (parts named by their full key under the origin prefix)."""
    folder = root / "cdr" / f"account_id={ACCOUNT}" / f"call_date={day}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "part-00000.parquet").write_bytes(payload)
    sha = hashlib.sha256(payload).hexdigest()
    manifest = {
        "account_id": ACCOUNT,
        "call_date": day,
        "row_count": len(payload),
        "parts": [
            {"key": f"lake/cdr/account_id={ACCOUNT}/call_date={day}/part-00000.parquet", "sha256": sha}
        ],
        "content_sha256": content_sha256([sha]),
        "history": [],
    }
    raw = json.dumps(manifest, indent=2, sort_keys=True).encode()
    (folder / "_manifest.json").write_bytes(raw)
    return {
        "call_date": day,
        "manifest_sha256": hashlib.sha256(raw).hexdigest(),
        "content_sha256": manifest["content_sha256"],
        "row_count": manifest["row_count"],
        "parts": 1,
    }


def _report(root: Path, inputs: list[dict]) -> Path:
    path = root / "reports" / "trai_summary" / f"account_id={ACCOUNT}" / "period=2026-10" / "summary.json"
    path.parent.mkdir(parents=True)
    doc = {"account_id": ACCOUNT, "period": "2026-10", "lake_uri": "s3://b/lake", "inputs": inputs}
    path.write_text(json.dumps(doc))
    return path


def test_a_copy_of_the_lake_is_verified_offline(tmp_path, capsys) -> None:
    root = tmp_path / "lake"
    cited = [
        _partition(root, d, d.encode() * 10) for d in ("2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04")
    ]
    report = _report(root, cited)
    assert main([str(report), "--full"]) == 0
    assert "4 of 4 input(s) match" in capsys.readouterr().out

    # 10-02 restated by the publisher: a new manifest whose history names the version the report cites.
    restated = _partition(root, "2026-10-02", b"new content")
    folder = root / "cdr" / f"account_id={ACCOUNT}" / "call_date=2026-10-02"
    manifest = json.loads((folder / "_manifest.json").read_text())
    entry = {
        "old_manifest_sha256": cited[1]["manifest_sha256"],
        "old_content_sha256": cited[1]["content_sha256"],
    }
    manifest["history"] = [{**entry, "new_content_sha256": restated["content_sha256"]}]
    (folder / "_manifest.json").write_text(json.dumps(manifest))
    # 10-03 purged; 10-04's part corrupted in place (only --full sees it); 10-01 untouched.
    for f in (root / "cdr" / f"account_id={ACCOUNT}" / "call_date=2026-10-03").iterdir():
        f.unlink()
    (root / "cdr" / f"account_id={ACCOUNT}" / "call_date=2026-10-04" / "part-00000.parquet").write_bytes(b"x")

    assert main([str(report)]) == 1
    out = capsys.readouterr().out
    assert "2026-10-01  match" in out and "2026-10-04  match" in out
    assert "2026-10-02  restated since" in out and cited[1]["manifest_sha256"] in out
    assert "2026-10-03  missing" in out
    assert main([str(report), "--full", "--json"]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [x["status"] for x in lines] == ["match", "restated since", "missing", "changed"]
    assert "part lake/cdr/" in lines[3]["detail"] and lines[1]["history"][0]["old_manifest_sha256"]

    # A manifest rewritten outside the publisher is "changed", not "restated".
    (root / "cdr" / f"account_id={ACCOUNT}" / "call_date=2026-10-01" / "_manifest.json").write_text("{}")
    assert main([str(report), "--json"]) == 1
    assert json.loads(capsys.readouterr().out.splitlines()[0])["status"] == "changed"


def test_what_is_not_a_report_is_refused(tmp_path, capsys) -> None:
    assert main([str(tmp_path / "absent.json")]) == 2
    stray = tmp_path / "summary.json"
    stray.write_text("{}")
    assert main([str(stray)]) == 2
    assert "not under a lake's reports/ folder" in capsys.readouterr().err
    assert main(["s3://bucket-only"]) == 2


def test_a_manifest_that_is_not_json_is_changed_and_a_citation_without_a_day_is_refused(
    tmp_path, capsys
) -> None:
    root = tmp_path / "lake"
    cited = [_partition(root, d, d.encode()) for d in ("2026-10-01", "2026-10-02")]
    report = _report(root, cited)
    manifest = root / "cdr" / f"account_id={ACCOUNT}" / "call_date=2026-10-02" / "_manifest.json"
    manifest.write_bytes(b"\x00 not json")
    assert main([str(report)]) == 1
    out = capsys.readouterr().out
    assert "2026-10-01  match" in out and "2026-10-02  changed" in out and "not a manifest" in out

    report.write_text(json.dumps({"account_id": ACCOUNT, "inputs": [{"content_sha256": "ab" * 32}]}))
    assert main([str(report)]) == 2
    assert "names no call_date" in capsys.readouterr().err
