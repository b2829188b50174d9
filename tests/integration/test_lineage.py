"""OpenLineage from the operators while the DAGs run (dag.test, file transport), checked against the spec's
model (openlineage-python's generated classes validate every required field, UUID and URL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_vobiz import config
from airflow_provider_vobiz.cdr.schema import FILE_SCHEMA, PARTITION_KEYS

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
DAY = "2026-03-02"


def _dataset(cls: type, d: dict, io_facets: str, facets) -> object:
    """An input or output dataset of the spec's model, its facets rebuilt by ``facets``."""
    return cls(
        namespace=d["namespace"],
        name=d["name"],
        facets=facets(d.get("facets")),
        **{io_facets: facets(d.get(io_facets))},
    )


def _spec_event(event: dict) -> None:
    """Rebuild the event with OpenLineage's generated model: a missing or malformed field raises."""
    from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
    from openlineage.client.facet_v2 import (
        data_quality_assertions_dataset as dqa,
    )
    from openlineage.client.facet_v2 import (
        data_quality_metrics_input_dataset as dqm,
    )
    from openlineage.client.facet_v2 import (
        dataset_version_dataset,
        output_statistics_output_dataset,
        schema_dataset,
    )

    def fields(facet: dict) -> dict:
        return {k: v for k, v in facet.items() if not k.startswith("_")}

    builders = {
        "schema": lambda f: schema_dataset.SchemaDatasetFacet(
            fields=[schema_dataset.SchemaDatasetFacetFields(**x) for x in f["fields"]]
        ),
        "version": lambda f: dataset_version_dataset.DatasetVersionDatasetFacet(**fields(f)),
        "outputStatistics": lambda f: output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
            **fields(f)
        ),
        "dataQualityAssertions": lambda f: dqa.DataQualityAssertionsDatasetFacet(
            assertions=[dqa.Assertion(**a) for a in f["assertions"]]
        ),
        "dataQualityMetrics": lambda f: dqm.DataQualityMetricsInputDatasetFacet(
            rowCount=f.get("rowCount"),
            columnMetrics={k: dqm.ColumnMetrics(**v) for k, v in f["columnMetrics"].items()},
        ),
    }

    def facets(group: dict) -> dict:
        built = {}
        for name, facet in (group or {}).items():
            assert facet["_producer"] and facet["_schemaURL"].startswith("https://openlineage.io/spec/")
            if name in builders:
                built[name] = builders[name](facet)
        return built

    assert event["schemaURL"].startswith("https://openlineage.io/spec/2-0-")
    RunEvent(
        eventType=RunState(event["eventType"]),
        eventTime=event["eventTime"],
        run=Run(runId=event["run"]["runId"]),
        job=Job(namespace=event["job"]["namespace"], name=event["job"]["name"]),
        producer=event["producer"],
        inputs=[_dataset(InputDataset, d, "inputFacets", facets) for d in event.get("inputs") or []],
        outputs=[_dataset(OutputDataset, d, "outputFacets", facets) for d in event.get("outputs") or []],
    )


def test_every_task_reports_its_datasets_and_facets(vobiz_conn, s3_lake, monkeypatch, tmp_path):
    sim, lake = vobiz_conn, s3_lake
    account = sim.config.auth_id
    monkeypatch.setenv(f"AIRFLOW_VAR_{config.VAR_LAKE_URI.upper()}", lake.uri)
    monkeypatch.setenv(f"AIRFLOW_VAR_{config.VAR_REPULL_DAYS.upper()}", "0")
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{config.HMAC_CONN_ID.upper()}",
        json.dumps({"conn_type": "generic", "password": "k" * 32}),
    )
    events_file = tmp_path / "openlineage.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "tests.integration.lineage_runs", str(events_file), account, DAY],
        cwd=REPO,
        env={**os.environ, "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    events = [json.loads(line) for line in events_file.read_text().splitlines() if line.strip()]
    for event in events:
        _spec_event(event)
    complete = {}
    for e in events:
        if e["eventType"] == "COMPLETE" and "." in e["job"]["name"]:  # tasks (DAG jobs have no dot)
            complete.setdefault(e["job"]["name"].split(".", 1)[1], []).append(e)
    started = {
        e["job"]["name"].split(".", 1)[1]
        for e in events
        if e["eventType"] == "START" and "." in e["job"]["name"]
    }
    assert started and started <= set(complete), f"tasks without a COMPLETE event: {started - set(complete)}"

    bucket_ns = f"s3://{lake.bucket}"
    partition = f"lake/cdr/account_id={account}/call_date={DAY}"

    (extract,) = complete["ingest_day.extract"]
    (api,) = extract["inputs"]
    assert (
        api["namespace"] == sim.base_url.rstrip("/") and api["name"] == f"api/v1/Account/{account}/cdr/{DAY}"
    )
    (out,) = extract["outputs"]
    assert (out["namespace"], out["name"]) == (bucket_ns, partition)
    schema = [f["name"] for f in out["facets"]["schema"]["fields"]]
    assert schema == [*FILE_SCHEMA.names, *PARTITION_KEYS]
    manifest = json.loads(
        lake.client().get_object(Bucket=lake.bucket, Key=f"{partition}/_manifest.json")["Body"].read()
    )
    assert out["outputFacets"]["outputStatistics"]["rowCount"] == manifest["row_count"] > 0

    (quality,) = complete["ingest_day.quality"]
    (checked,) = quality["inputs"]
    assert (checked["namespace"], checked["name"]) == (bucket_ns, partition)
    assertions = checked["inputFacets"]["dataQualityAssertions"]["assertions"]
    assert len(assertions) > 10 and all(isinstance(a["success"], bool) for a in assertions)
    assert {"expect_column_values_to_be_unique", "expect_column_values_to_not_be_null"} <= {
        a["assertion"] for a in assertions
    }
    metrics = checked["inputFacets"]["dataQualityMetrics"]
    assert metrics["rowCount"] == manifest["row_count"] and metrics["columnMetrics"]["uuid"]["nullCount"] == 0
    assert checked["facets"]["version"]["datasetVersion"] == manifest["content_sha256"]
    assert [o["name"] for o in quality["outputs"]] == [
        f"lake/quality/account_id={account}/call_date={DAY}/validation.json"
    ]

    (tokenised,) = complete["ingest_day.tokenised"]
    assert [(i["name"], i["facets"]["version"]["datasetVersion"]) for i in tokenised["inputs"]] == [
        (partition, manifest["content_sha256"])
    ]
    (twin,) = tokenised["outputs"]
    assert twin["name"] == partition.replace("/cdr/", "/cdr_tokenised/")
    assert [f["name"] for f in twin["facets"]["schema"]["fields"]] == schema
    assert twin["outputFacets"]["outputStatistics"]["rowCount"] == manifest["row_count"]

    (summary,) = complete["trai_summary_report"]
    assert [(i["name"], i["facets"]["version"]["datasetVersion"]) for i in summary["inputs"]] == [
        (partition, manifest["content_sha256"])
    ]
    assert {o["name"].rsplit("/", 1)[-1] for o in summary["outputs"]} == {
        f"summary.{x}" for x in ("csv", "json", "html", "pdf")
    }

    (retention,) = [v for k, v in complete.items() if k.endswith("retention_report")][0]
    assert partition in {i["name"] for i in retention["inputs"]}
    assert any(o["name"].endswith("retention.json") for o in retention["outputs"])
