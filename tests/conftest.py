"""Test environment: an isolated AIRFLOW_HOME, the repo's dags folder, and the shared fixtures.

Every module in ``tests/fixtures/`` is loaded as a pytest plugin, so a new fixture module needs no edit here.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Airflow reads its configuration when first imported: set it before any test module imports airflow.
_home = Path(tempfile.mkdtemp(prefix="vobiz-airflow-home-"))
os.environ.setdefault("AIRFLOW_HOME", str(_home))
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(REPO / "dags"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
os.environ.setdefault("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "False")
# Never reach for real AWS credentials or the instance metadata service.
for _k, _v in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}.items():
    os.environ.setdefault(_k, _v)

pytest_plugins = sorted(
    f"tests.fixtures.{p.stem}" for p in (REPO / "tests" / "fixtures").glob("*.py") if p.stem != "__init__"
)
