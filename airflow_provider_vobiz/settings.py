"""Every setting of the provider: its names, its default, and the one order in which a value is found.

A setting is looked up, at run time, in this order: the DAG param or operator argument, then its Airflow
Variable, then (for the account only) the login of the ``vobiz`` connection, then its default. "Unset" means
None or blank text; 0 and False are values. :func:`resolve` does this in Python (tasks and operators'
``execute``); :func:`template` writes the same order as a Jinja expression for a DAG to pass to an operator's
templated field, so it too is evaluated when the task runs, never when the DAG file is parsed (a Variable read
at parse time would hit the metadata database on every parse of every file).

=============================  ======================  =============================================
Variable                       DAG param               default
=============================  ======================  =============================================
``vobiz_lake_uri``             ``lake_uri``            ``s3://vobiz-lake/lake``
``vobiz_timezone``             ``timezone``            ``Asia/Kolkata``
``vobiz_repull_days``          ``repull_days``         3
``vobiz_method``               ``method``              ``export``
``vobiz_account_id``           ``account_id``          the login (Auth ID) of ``vobiz_default``
``vobiz_max_reject_ratio``     ``max_reject_ratio``    0.01
``vobiz_retention_years``      ``retention_years``     2
=============================  ======================  =============================================
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from airflow.sdk import Asset, Param

from airflow_provider_vobiz.cdr.schema import DEFAULT_MAX_REJECT_RATIO

# Defined beside the day windows and the ingest (no Airflow there, so reports and tests use them too).
from airflow_provider_vobiz.cdr.window import DEFAULT_REPULL_DAYS

# Re-exported: the one reading of text as a flag or an integer, dependency-free so the hooks use it too.
from airflow_provider_vobiz.text_values import FALSE_TEXTS, TRUE_TEXTS, as_bool, as_int  # noqa: F401

VAR_LAKE_URI = "vobiz_lake_uri"
DEFAULT_LAKE_URI = "s3://vobiz-lake/lake"
VAR_TIMEZONE = "vobiz_timezone"
#: Partitions are calendar days of a call's start_time in this timezone (TRAI reports live in IST).
DEFAULT_TIMEZONE = "Asia/Kolkata"
VAR_REPULL_DAYS = "vobiz_repull_days"
VAR_METHOD = "vobiz_method"
DEFAULT_METHOD = "export"
VAR_ACCOUNT_ID = "vobiz_account_id"
#: Share of a pull's records that may be quarantined before the ingest task fails instead of publishing.
VAR_MAX_REJECT_RATIO = "vobiz_max_reject_ratio"
VAR_RETENTION_YEARS = "vobiz_retention_years"
DEFAULT_RETENTION_YEARS = 2
#: Key for keyed HMAC tokens of phone numbers in machine-readable reports: the password of this connection.
HMAC_CONN_ID = "vobiz_report_hmac"

DEFAULT_VOBIZ_CONN_ID = "vobiz_default"
DEFAULT_AWS_CONN_ID = "aws_default"

INGEST_DAG_ID = "vobiz_cdr_ingest"
SUMMARY_DAG_ID = "vobiz_trai_summary"
RETENTION_DAG_ID = "vobiz_trai_retention"

#: One event per published (or restated) partition; its ``extra`` carries ``account_id``, ``call_date``,
#: ``lake_uri``, ``row_count``, ``content_sha256`` and ``changed``.
CDR_PARTITION_ASSET = Asset(name="vobiz_cdr_partition")


@dataclass(frozen=True)
class Setting:
    """One setting: the DAG param and Variable that may hold it, its default and its type.

    :param param: the DAG param (and operator argument) name.
    :param variable: the Airflow Variable consulted when the param is unset.
    :param default: the value when neither is set.
    :param cast: turns the text of a Variable (or a rendered template) into the setting's type.
    :param connection_field: the attribute of the ``vobiz`` connection consulted after the Variable, if any.
    """

    param: str
    variable: str
    default: Any
    cast: Callable[[Any], Any] = str
    connection_field: str | None = None


SETTINGS: dict[str, Setting] = {
    s.param: s
    for s in (
        Setting("lake_uri", VAR_LAKE_URI, DEFAULT_LAKE_URI),
        Setting("timezone", VAR_TIMEZONE, DEFAULT_TIMEZONE),
        Setting("repull_days", VAR_REPULL_DAYS, DEFAULT_REPULL_DAYS, int),
        Setting("method", VAR_METHOD, DEFAULT_METHOD),
        Setting("account_id", VAR_ACCOUNT_ID, "", connection_field="login"),
        Setting("max_reject_ratio", VAR_MAX_REJECT_RATIO, DEFAULT_MAX_REJECT_RATIO, float),
        Setting("retention_years", VAR_RETENTION_YEARS, DEFAULT_RETENTION_YEARS, int),
    )
}

_NO_DEFAULT: Any = object()


def is_set(value: Any) -> bool:
    """False for None and blank text, True for anything else (0 and False are values)."""
    return value is not None and not (isinstance(value, str) and not value.strip())


def variable(name: str, default: Any = None) -> Any:
    """Airflow Variable ``name`` (``default`` when it does not exist). Call it only while a task runs."""
    from airflow.sdk import Variable

    return Variable.get(name, default=default)


def resolve(
    name: str,
    value: Any = None,
    *,
    params: Mapping[str, Any] | None = None,
    conn_id: str | None = None,
    default: Any = _NO_DEFAULT,
) -> Any:
    """Setting ``name``: ``value``, else ``params[name]``, else its Variable, else the connection, else the
    default, converted to the setting's type. Call it only while a task runs (it may read a Variable).

    :param name: a key of :data:`SETTINGS` (the DAG param's name).
    :param value: an operator argument, which wins when set.
    :param params: the DAG run's params.
    :param conn_id: the ``vobiz`` connection to consult for settings it holds (the account: its login).
    :param default: overrides the setting's default (e.g. ``""`` for "no account: every account").
    :raises KeyError: an unknown setting.
    :raises ValueError: a value that does not convert to the setting's type.
    """
    setting = SETTINGS[name]
    found = value
    if not is_set(found) and params is not None:
        found = params.get(name)
    if not is_set(found):
        found = variable(setting.variable)
    if not is_set(found) and conn_id and setting.connection_field:
        from airflow.sdk import BaseHook

        found = getattr(BaseHook.get_connection(conn_id), setting.connection_field, None)
    if not is_set(found):
        found = setting.default if default is _NO_DEFAULT else default
        if not is_set(found):
            return found
    try:
        return setting.cast(found.strip() if isinstance(found, str) else found)
    except ValueError:
        raise ValueError(
            f"{name} (Variable {setting.variable}) is not a {setting.cast.__name__}: {found!r}"
        ) from None


def account_id(
    value: Any = None,
    *,
    params: Mapping[str, Any] | None = None,
    vobiz_conn_id: str | None = None,
) -> str:
    """The Vobiz account (Auth ID): ``value``, the ``account_id`` param, Variable ``vobiz_account_id``, or
    the login of the ``vobiz`` connection (``vobiz_conn_id``, else the ``vobiz_conn_id`` param, else
    ``vobiz_default``).

    :raises ValueError: none of them names an account.
    """
    conn_id = vobiz_conn_id or (params or {}).get("vobiz_conn_id") or DEFAULT_VOBIZ_CONN_ID
    account = resolve("account_id", value, params=params, conn_id=conn_id)
    if not account:
        raise ValueError(
            f"No Vobiz account: set the param account_id, the Variable {VAR_ACCOUNT_ID}, "
            f"or the login (Auth ID) of connection {conn_id!r}"
        )
    return account


def template(name: str, *, from_params: bool = True) -> str:
    """:func:`resolve`'s order (param, Variable, default) as a Jinja expression for a templated field.

    Rendered when the task runs, with the run's params and Variables. The connection step is left to the
    operator, which knows its connection.

    :param name: a key of :data:`SETTINGS`.
    :param from_params: False for an operator's own default, where only the Variable and default apply.
    """
    setting = SETTINGS[name]
    fallback = "(var.value.get(%r, '') | trim or %r)" % (setting.variable, str(setting.default))  # noqa: UP031
    if not from_params:
        return "{{ %s }}" % fallback  # noqa: UP031
    param = f"params.{setting.param}"
    return "{{ %s if %s is not none and %s | string | trim else %s }}" % (param, param, param, fallback)  # noqa: UP031


def lake_uri_param() -> Param:
    """The ``lake_uri`` DAG param every Vobiz DAG takes: empty means Variable ``vobiz_lake_uri``."""
    return Param("", type="string", description=f"s3://bucket/prefix; empty: Variable {VAR_LAKE_URI}")


def max_reject_ratio_param() -> Param:
    """The ``max_reject_ratio`` DAG param: null means Variable ``vobiz_max_reject_ratio``, else the default."""
    return Param(
        None,
        type=["null", "number"],
        minimum=0,
        maximum=1,
        description=(
            "Share of the records read that may be quarantined before the day fails "
            f"(default {DEFAULT_MAX_REJECT_RATIO}); null: Variable {VAR_MAX_REJECT_RATIO}"
        ),
    )
