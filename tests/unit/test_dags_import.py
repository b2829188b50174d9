"""Every DAG file in dags/ imports into a DagBag with no import errors."""

from __future__ import annotations

from pathlib import Path

DAGS = Path(__file__).resolve().parents[2] / "dags"


def test_dag_files_import_cleanly():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    assert bag.import_errors == {}
    files = sorted(p.name for p in DAGS.glob("*.py") if not p.name.startswith("_"))
    # Each file must define at least one DAG, so a file that silently defines nothing is caught too.
    for name in files:
        assert any(Path(d.fileloc).name == name for d in bag.dags.values()), f"{name} defines no DAG"
