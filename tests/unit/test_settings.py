"""The one order in which a setting is found: argument or param, Variable, connection, default."""

from __future__ import annotations

import jinja2
import pytest

from airflow_provider_vobiz import settings


@pytest.fixture
def variables(monkeypatch):
    """Airflow Variables as the environment gives them (no metadata database)."""

    def set_var(name: str, value: str) -> None:
        monkeypatch.setenv(f"AIRFLOW_VAR_{name.upper()}", value)

    for s in settings.SETTINGS.values():
        monkeypatch.delenv(f"AIRFLOW_VAR_{s.variable.upper()}", raising=False)
    return set_var


@pytest.mark.parametrize("text", ["1", "true", "TRUE", " yes ", "on", "True", True, 1])
def test_true(text):
    assert settings.as_bool(text) is True


@pytest.mark.parametrize("text", ["", "0", "false", "No", "off", "none", "False", None, False, 0])
def test_false(text):
    assert settings.as_bool(text) is False


def test_a_flag_that_is_neither_is_an_error_naming_it():
    with pytest.raises(ValueError, match="daily_reports: 'maybe'"):
        settings.as_bool("maybe", "daily_reports")


def test_argument_then_param_then_variable_then_default(variables):
    assert settings.resolve("lake_uri") == settings.DEFAULT_LAKE_URI
    variables(settings.VAR_LAKE_URI, "s3://v/lake")
    assert settings.resolve("lake_uri", params={"lake_uri": "  "}) == "s3://v/lake"
    assert settings.resolve("lake_uri", params={"lake_uri": "s3://p/lake"}) == "s3://p/lake"
    assert settings.resolve("lake_uri", " s3://a/lake ", params={"lake_uri": "s3://p/lake"}) == "s3://a/lake"


def test_numbers_are_typed_and_zero_is_a_value(variables):
    variables(settings.VAR_REPULL_DAYS, "5")
    assert settings.resolve("repull_days") == 5
    assert settings.resolve("repull_days", params={"repull_days": 0}) == 0
    assert (
        settings.resolve("max_reject_ratio", params={"max_reject_ratio": None})
        == settings.DEFAULT_MAX_REJECT_RATIO
    )
    variables(settings.VAR_REPULL_DAYS, "three")
    with pytest.raises(ValueError, match="repull_days .*vobiz_repull_days"):
        settings.resolve("repull_days")


def test_a_default_may_be_overridden(variables):
    assert settings.resolve("account_id", default="") == ""
    assert settings.resolve("timezone", default="UTC") == "UTC"


def test_the_account_falls_back_to_the_connection_login(variables, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_VOBIZ_X", '{"conn_type": "vobiz", "login": "MA_LOGIN"}')
    assert settings.account_id(vobiz_conn_id="vobiz_x") == "MA_LOGIN"
    assert settings.account_id(params={"account_id": "", "vobiz_conn_id": "vobiz_x"}) == "MA_LOGIN"
    variables(settings.VAR_ACCOUNT_ID, "MA_VAR")
    assert settings.account_id(vobiz_conn_id="vobiz_x") == "MA_VAR"
    assert settings.account_id("MA_ARG", vobiz_conn_id="vobiz_x") == "MA_ARG"


def test_no_account_anywhere_says_where_to_set_one(variables, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_VOBIZ_X", '{"conn_type": "vobiz"}')
    with pytest.raises(ValueError, match="vobiz_account_id.*'vobiz_x'"):
        settings.account_id(vobiz_conn_id="vobiz_x")


class _Var:
    def __init__(self, values):
        self.value = type("V", (), {"get": lambda _, k, d=None: values.get(k, d)})()


def _render(expression: str, params: dict, variables: dict) -> str:
    return jinja2.Environment().from_string(expression).render(params=params, var=_Var(variables))


@pytest.mark.parametrize(
    ("param", "variables", "expected"),
    [
        ("s3://p/l", {settings.VAR_LAKE_URI: "s3://v/l"}, "s3://p/l"),
        ("", {settings.VAR_LAKE_URI: "s3://v/l"}, "s3://v/l"),
        (" ", {settings.VAR_LAKE_URI: ""}, settings.DEFAULT_LAKE_URI),
        (None, {}, settings.DEFAULT_LAKE_URI),
    ],
)
def test_the_template_follows_the_same_order(param, variables, expected):
    assert _render(settings.template("lake_uri"), {"lake_uri": param}, variables) == expected


def test_the_template_keeps_zero_and_may_skip_params():
    expression = settings.template("repull_days")
    assert _render(expression, {"repull_days": 0}, {settings.VAR_REPULL_DAYS: "5"}) == "0"
    assert _render(expression, {"repull_days": None}, {settings.VAR_REPULL_DAYS: "5"}) == "5"
    own_default = settings.template("repull_days", from_params=False)
    assert _render(own_default, {}, {}) == str(settings.DEFAULT_REPULL_DAYS)


def test_config_re_exports_the_names():
    from airflow_provider_vobiz import config

    assert config.VAR_LAKE_URI == settings.VAR_LAKE_URI and config.INGEST_DAG_ID == settings.INGEST_DAG_ID
    assert _render(config.REPULL_DAYS_TEMPLATE, {}, {settings.VAR_REPULL_DAYS: "2"}) == "2"
