"""Runs the three DAGs through ``dag.test()`` with OpenLineage's file transport, in a process of its own.

``test_lineage.py`` starts it: the OpenLineage listener is configured when Airflow starts, so it needs a
fresh process with ``[openlineage] transport`` set before Airflow is imported (as in a deployment). The
simulator and the S3 server are the test's; their connections come in the environment.

    python -m tests.integration.lineage_runs EVENTS_FILE ACCOUNT_ID CALL_DATE
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))


def main(events_file: str, account_id: str, call_date: str) -> int:
    os.environ.update(
        AIRFLOW_HOME=tempfile.mkdtemp(prefix="vobiz-lineage-airflow-"),
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__OPENLINEAGE__NAMESPACE="vobiz-test",
        AIRFLOW__OPENLINEAGE__TRANSPORT=json.dumps(
            {"type": "file", "log_file_path": events_file, "append": True}
        ),
    )
    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils import db

    db.initdb()
    bag = DagBag(str(REPO / "dags"))
    assert not bag.import_errors, bag.import_errors
    day = dt.date.fromisoformat(call_date)
    next_day = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), IST)
    runs = {
        "vobiz_cdr_ingest": dict(logical_date=next_day),
        "vobiz_trai_summary": dict(
            logical_date=next_day + dt.timedelta(hours=1),
            run_conf={"account_id": account_id, "call_date": call_date},
        ),
        "vobiz_trai_retention": dict(
            logical_date=next_day + dt.timedelta(hours=6), run_conf={"account_id": account_id}
        ),
    }
    states = {}
    for dag_id, kwargs in runs.items():
        dag = bag.dags[dag_id]
        for task in dag.tasks:
            task.retries = 0
        states[dag_id] = str(dag.test(**kwargs).state)
    print("LINEAGE_RUNS " + json.dumps(states), flush=True)
    return 0 if set(states.values()) == {"success"} else 1


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
