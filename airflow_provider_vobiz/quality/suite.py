"""The Great Expectations suite: where it lives, how it is read, which columns it needs.

The shipped suite is package data (``airflow_provider_vobiz/quality/expectations/vobiz_cdr.json``, the
repository's ``expectations/vobiz_cdr.json`` is a link to it), so an installed wheel finds it through
:mod:`importlib.resources`. A deployment may point to its own suite file in the same GX 1.x JSON format.

Every expectation carries GX's native ``severity`` (``critical`` fails the quality task, ``warning`` and
``info`` are recorded) and a ``meta.check`` name used in messages, the HTML page and the manifest.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

SUITE_PACKAGE = "airflow_provider_vobiz.quality"
SUITE_RESOURCE = "expectations/vobiz_cdr.json"

SEVERITIES = ("critical", "warning", "info")
#: Keyword arguments of GX expectations that name a column of the batch.
_COLUMN_KWARGS = ("column", "column_A", "column_B")
_COLUMN_LIST_KWARGS = ("column_list",)


class SuiteError(ValueError):
    """The suite file cannot be used (missing, not JSON, not a GX suite, an unknown severity)."""


@dataclass(frozen=True)
class Suite:
    """A parsed suite: the raw GX JSON plus what the quality step needs from it."""

    name: str
    expectations: tuple[dict[str, Any], ...]
    source: str
    sha256: str
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def check_names(self) -> tuple[str, ...]:
        """The name of each expectation, in suite order (see :func:`check_name`)."""
        return tuple(check_name(exp, i) for i, exp in enumerate(self.expectations))

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column any expectation reads (its column kwargs and row-condition columns), in order."""
        seen: dict[str, None] = {}
        for exp in self.expectations:
            kwargs = exp.get("kwargs", {})
            for key in _COLUMN_KWARGS:
                if isinstance(kwargs.get(key), str):
                    seen[kwargs[key]] = None
            for key in _COLUMN_LIST_KWARGS:
                for col in kwargs.get(key) or ():
                    seen[col] = None
            for col in _condition_columns(kwargs.get("row_condition")):
                seen[col] = None
        return tuple(seen)

    def to_gx(self) -> Any:
        """The suite as a ``great_expectations.ExpectationSuite`` (imports GX: about 2 s)."""
        import great_expectations as gx
        from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

        try:
            expectations = []
            for name, exp in zip(self.check_names, self.expectations, strict=True):
                # Every result carries its check name back, whatever order GX returns results in.
                exp = {**exp, "meta": {**(exp.get("meta") or {}), "check": name}}
                expectations.append(ExpectationConfiguration(**exp).to_domain_obj())
        except Exception as err:  # GX raises several types for a bad configuration
            raise SuiteError(f"suite {self.source}: invalid expectation: {err}") from err
        return gx.ExpectationSuite(name=self.name, expectations=expectations, meta=dict(self.meta))


def check_name(exp: dict[str, Any], index: int | None = None) -> str:
    """The human name of an expectation: ``meta.check``, else its type and column."""
    name = (exp.get("meta") or {}).get("check")
    if name:
        return str(name)
    kwargs = exp.get("kwargs", {})
    cols = [str(kwargs[k]) for k in _COLUMN_KWARGS if isinstance(kwargs.get(k), str)]
    base = exp.get("type", "expectation") + (f"({', '.join(cols)})" if cols else "")
    return base if index is None else f"{base}#{index}"


def _condition_columns(cond: Any) -> list[str]:
    """Columns named in a GX 1.x structured row condition (comparison / nullity / and / or)."""
    if not isinstance(cond, dict):
        return []
    out: list[str] = []
    col = cond.get("column")
    if isinstance(col, dict) and isinstance(col.get("name"), str):
        out.append(col["name"])
    for key in ("conditions",):
        for sub in cond.get(key) or ():
            out.extend(_condition_columns(sub))
    return out


def default_suite_path() -> str:
    """Where the shipped suite is, as a readable description (the wheel's package data)."""
    return f"{SUITE_PACKAGE}:{SUITE_RESOURCE}"


def load_suite(suite_path: str | Path | None = None) -> Suite:
    """Read a GX 1.x suite: ``suite_path`` (a local file) or, when None, the suite shipped in the package."""
    if suite_path is None:
        source = default_suite_path()
        data = resources.files(SUITE_PACKAGE).joinpath(SUITE_RESOURCE).read_bytes()
    else:
        path = Path(suite_path).expanduser()
        source = str(path)
        if not path.is_file():
            raise SuiteError(f"suite file {source} does not exist")
        data = path.read_bytes()
    try:
        raw = json.loads(data)
    except json.JSONDecodeError as err:
        raise SuiteError(f"suite {source} is not JSON: {err}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("expectations"), list):
        raise SuiteError(f"suite {source} is not a Great Expectations suite (no 'expectations' list)")
    names: set[str] = set()
    for index, exp in enumerate(raw["expectations"]):
        if not isinstance(exp, dict) or not isinstance(exp.get("type"), str):
            raise SuiteError(f"suite {source}: expectation #{index} has no 'type'")
        severity = exp.setdefault("severity", "critical")
        if severity not in SEVERITIES:
            raise SuiteError(
                f"suite {source}: expectation #{index} ({exp['type']}) has severity {severity!r}; "
                f"use one of {SEVERITIES}"
            )
        name = check_name(exp, index)
        if name in names:
            raise SuiteError(
                f"suite {source}: two expectations are named {name!r} (meta.check must be unique)"
            )
        names.add(name)
    return Suite(
        name=str(raw.get("name") or "vobiz_cdr"),
        expectations=tuple(raw["expectations"]),
        source=source,
        sha256=hashlib.sha256(data).hexdigest(),
        meta=dict(raw.get("meta") or {}),
    )
