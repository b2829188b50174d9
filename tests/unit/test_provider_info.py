"""get_provider_info() must describe the classes that really exist, so the two never drift."""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

import jsonschema
import pytest

from airflow_provider_vobiz import get_provider_info


def _import(path: str):
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_matches_airflow_schema():
    import airflow

    schema_path = importlib.resources.files(airflow) / "provider_info.schema.json"
    import json

    jsonschema.validate(get_provider_info(), json.loads(schema_path.read_text()))


def test_package_name_is_the_distribution_name():
    # A mismatch makes every `airflow providers ...` command crash.
    assert get_provider_info()["package-name"] == "airflow-provider-vobiz"


def test_entry_point_points_here():
    eps = [
        ep
        for ep in entry_points(group="apache_airflow_provider")
        if ep.value.startswith("airflow_provider_vobiz")
    ]
    assert len(eps) == 1
    assert eps[0].load() is get_provider_info


def test_connection_types_name_real_hooks():
    info = get_provider_info()
    for ct in info["connection-types"]:
        hook = _import(ct["hook-class-name"])
        assert hook.conn_type == ct["connection-type"]
        assert hook.hook_name == ct["hook-name"]
        assert hook.default_conn_name == f"{ct['connection-type']}_default"


def test_vobiz_connection_form():
    (ct,) = [c for c in get_provider_info()["connection-types"] if c["connection-type"] == "vobiz"]
    ui = ct["ui-field-behaviour"]
    assert set(ui["hidden-fields"]) == {"schema", "port"}
    assert ui["relabeling"] == {"host": "Base URL", "login": "Auth ID", "password": "Auth Token"}
    assert ui["placeholders"]["host"] == "https://api.vobiz.ai"
    for field in ct["conn-fields"].values():
        assert field["label"] and field["schema"]["type"]


@pytest.mark.parametrize("key", ["hooks", "operators", "transfers"])
def test_listed_modules_import(key):
    for entry in get_provider_info().get(key, []):
        modules = entry.get("python-modules") or [entry["python-module"]]
        for module in modules:
            importlib.import_module(module)


def test_extra_links_are_operator_links():
    from airflow.sdk import BaseOperatorLink

    for path in get_provider_info().get("extra-links", []):
        assert issubclass(_import(path), BaseOperatorLink)


def test_plugin_is_not_in_provider_info():
    # Listed in both places the plugin would register twice.
    assert "plugins" not in get_provider_info()


def test_airflow_providers_manager_sees_the_vobiz_connection():
    from airflow.providers_manager import ProvidersManager
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    assert "airflow-provider-vobiz" in ProvidersManager().providers
    hook_info = ProvidersManagerTaskRuntime().hooks["vobiz"]
    assert hook_info.hook_class_name == "airflow_provider_vobiz.hooks.vobiz.VobizHook"
    assert hook_info.connection_id_attribute_name == "vobiz_conn_id"
