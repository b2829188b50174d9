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


def test_the_ingest_dag_passes_max_reject_ratio_from_param_variable_or_default():
    """0 is a ratio (no rejects allowed), not "unset": only a null param falls back to the Variable."""
    import jinja2
    from airflow.dag_processing.dagbag import DagBag

    from airflow_provider_vobiz import config

    bag = DagBag(dag_folder=str(DAGS / "vobiz_cdr_ingest.py"))
    dag = bag.dags[config.INGEST_DAG_ID]
    assert dag.params["max_reject_ratio"] is None
    extract = dag.get_task("ingest_day.extract")
    assert "max_reject_ratio" in extract.template_fields

    class Var:
        def __init__(self, values):
            self.value = type("V", (), {"get": lambda _, k, d=None: values.get(k, d)})()

    template = jinja2.Environment().from_string(extract.max_reject_ratio)

    def render(param, variables):
        return template.render(params={"max_reject_ratio": param}, var=Var(variables))

    assert render(0, {config.VAR_MAX_REJECT_RATIO: "0.5"}) == "0"
    assert render(0.2, {}) == "0.2"
    assert render(None, {config.VAR_MAX_REJECT_RATIO: "0.05"}) == "0.05"
    assert render(None, {}) == str(config.DEFAULT_MAX_REJECT_RATIO)
