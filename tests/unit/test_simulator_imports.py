"""The simulator stands apart from the client: no hooks, cdr, lake or Airflow imports (docs/architecture.md)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FORBIDDEN = (
    "airflow",
    "airflow_provider_vobiz.hooks",
    "airflow_provider_vobiz.cdr",
    "airflow_provider_vobiz.lake",
)


def test_importing_the_simulator_loads_nothing_of_the_client_or_airflow():
    code = (
        "import sys, airflow_provider_vobiz.simulator, airflow_provider_vobiz.simulator.__main__\n"
        f"bad = [m for m in sys.modules if m in {FORBIDDEN!r} or m.startswith(tuple(p + '.' for p in {FORBIDDEN!r}))]\n"
        "print(bad)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[]"


def test_no_source_file_imports_the_client():
    for path in (REPO / "airflow_provider_vobiz" / "simulator").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [("." * node.level) + (node.module or "")]
            for name in names:
                assert not name.startswith(("..", *FORBIDDEN)), f"{path.name} imports {name}"
