"""docker-compose.yml's structure (tests/e2e/test_docker_compose_stack.py runs its services without Docker)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
AIRFLOW_COMPONENTS = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
}


def _compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_the_full_stack_is_there():
    services = _compose()["services"]
    assert {
        "postgres",
        "redis",
        "minio",
        "minio-init",
        "simulator",
        "airflow-init",
        *AIRFLOW_COMPONENTS,
    } <= set(services)
    for name, command in AIRFLOW_COMPONENTS.items():
        assert services[name]["command"] == command
        assert services[name]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert services[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"


def test_connections_and_variables_are_valid():
    env = _compose()["services"]["airflow-scheduler"]["environment"]
    vobiz = json.loads(env["AIRFLOW_CONN_VOBIZ_DEFAULT"])
    aws = json.loads(env["AIRFLOW_CONN_AWS_DEFAULT"])
    assert vobiz["conn_type"] == "vobiz" and vobiz["host"].startswith("http://simulator:")
    assert aws["conn_type"] == "aws" and aws["extra"]["endpoint_url"] == "http://minio:9000"
    assert env["AIRFLOW_VAR_VOBIZ_LAKE_URI"].startswith("s3://vobiz-lake/")
    assert "postgresql" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")


def test_celery_settings_a_user_would_trip_on():
    env = _compose()["services"]["airflow-worker"]["environment"]
    # psycopg2 is the driver in the image: a bare db+postgresql:// would pick whatever SQLAlchemy defaults to.
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql+psycopg2://")
    assert int(env["AIRFLOW__CELERY__WORKER_CONCURRENCY"]) >= 1
    assert int(env["AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT"]) >= 3600
    assert env["AIRFLOW__CORE__HOSTNAME_CALLABLE"] == "airflow_provider_vobiz.hostname.worker_hostname"
    # Task logs of any worker reach the UI through the lake's bucket.
    assert env["AIRFLOW__LOGGING__REMOTE_LOGGING"] == "True"
    assert env["AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER"].startswith("s3://vobiz-lake/")
    passwords = env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"].removeprefix(
        "/opt/airflow/provider/"
    )
    assert (REPO / passwords).is_file()


def test_the_simulator_service_uses_the_documented_cli():
    sim = _compose()["services"]["simulator"]
    assert sim["entrypoint"] == ["python", "-m", "airflow_provider_vobiz.simulator"]
    args = sim["command"]
    for flag in ("--host", "--port", "--auth-id", "--auth-token", "--seed", "--start-date", "--days"):
        assert flag in args


def test_the_image_installs_the_provider_with_the_pins():
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "FROM apache/airflow:3.3.2" in dockerfile
    assert "requirements/constraints.txt" in dockerfile
    assert _compose()["x-airflow-common"]["build"] == "."
