"""Routes of the compliance reports page (imported by the api-server on the page's first request).

Every route depends on Airflow's auth manager: the caller must be authenticated (JWT cookie of the UI or a
Bearer token) and allowed to read both report DAGs. Reports are read-only: nothing here writes to S3.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

from airflow.api_fastapi.core_api.security import GetUserDep, requires_access_dag
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from airflow_provider_vobiz import settings
from airflow_provider_vobiz.lake.paths import REPORT_FORMATS, LakeLayout
from airflow_provider_vobiz.plugins.catalog import (
    MEDIA_TYPES,
    AccountView,
    InvalidReportRequest,
    ReportCatalog,
    ReportNotFound,
    RetentionStatus,
    check_account,
    download_name,
)
from airflow_provider_vobiz.plugins.diagnosis import (
    DiagnosisError,
    DiagnosisGate,
    TooManyDiagnoses,
    diagnosis_status,
)

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
STATIC_FILES = {
    "icon.svg": "image/svg+xml",
    "icon-dark.svg": "image/svg+xml",
    "page.css": "text/css; charset=utf-8",
    "theme.js": "text/javascript; charset=utf-8",
}

#: The page: own scripts and styles only, embeddable by the Airflow UI (same origin) and nowhere else.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'self'"
)
#: A report shown inline: its inline CSS and SVG charts, no script, an opaque origin (sandbox).
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"
COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

_env = Environment(
    loader=FileSystemLoader(str(HERE / "templates")),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _percent(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value * 100:.{digits}f}%" if value <= 1 else f"{value:.{digits}f}%"


_env.filters["percent"] = _percent
_env.filters["count"] = lambda v: "–" if v is None else f"{v:,}"


# -- configuration ---------------------------------------------------------------------------------------
def lake_uri() -> str:
    """The lake URI: Variable ``vobiz_lake_uri`` (the metastore in the api-server, or AIRFLOW_VAR_*)."""
    return str(settings.resolve("lake_uri"))


def catalog() -> ReportCatalog:
    from airflow_provider_vobiz.lake.storage import LakeStorage

    try:
        layout = LakeLayout.from_uri(lake_uri())
    except ValueError as err:
        raise HTTPException(500, f"Variable {settings.VAR_LAKE_URI} is not a lake URI: {err}") from None
    return ReportCatalog(LakeStorage(settings.DEFAULT_AWS_CONN_ID, layout.bucket), layout)


# -- helpers ---------------------------------------------------------------------------------------------
def _page(html: str, status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    return HTMLResponse(
        html,
        status_code=status,
        headers={**COMMON_HEADERS, "Content-Security-Policy": PAGE_CSP, **(headers or {})},
    )


#: Every diagnosis of this api-server process goes through one gate (deadline, per-user cap, own pool).
DIAGNOSES = DiagnosisGate()


def _user_key(user: Any) -> str:
    for attr in ("get_id", "get_name"):
        fn = getattr(user, attr, None)
        value = fn() if callable(fn) else None
        if value:
            return str(value)
    return "anonymous"


def _bases(request: Request) -> tuple[str, str]:
    """``(page base, Airflow UI base)`` as paths, from where the api-server mounted this app."""
    page = request.scope.get("root_path", "").rstrip("/")
    ui = request.scope.get("app_root_path", "").rstrip("/")
    return page, ui


def dag_run_url(ui_base: str, dag_id: str, run_id: str) -> str:
    """The Airflow UI page of a DAG run."""
    return f"{ui_base}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"


def _storage_error(err: Exception) -> str:
    """Which S3 call failed, without endpoint credentials."""
    code = getattr(err, "response", {}).get("Error", {}).get("Code") if hasattr(err, "response") else None
    return f"{type(err).__name__}" + (f" ({code})" if code else "")


def _retention_flags(r: RetentionStatus | None) -> list[str]:
    if r is None or not r.readable:
        return []
    flags = []
    if r.gaps:
        flags.append(f"{len(r.gaps)} gap(s)")
    if r.expiring:
        flags.append(f"{len(r.expiring)} day(s) expiring within 30 days")
    return flags


def _format_gap(gap: Any) -> str:
    """A gap ``{"start", "end", "days"}`` (retention report) as text; plain days pass through."""
    if isinstance(gap, dict):
        start = gap.get("start") or gap.get("call_date") or gap.get("day")
        end = gap.get("end")
        text = f"{start} – {end}" if end and end != start else str(start)
        days = gap.get("days")
        extra = [f"{days} days"] if isinstance(days, int) and days > 1 else []
        if gap.get("status"):
            extra.append(str(gap["status"]))
        return f"{text} ({', '.join(extra)})" if extra else text
    return str(gap)


def _format_expiring(item: Any) -> str:
    """A day leaving the window ``{"call_date", "expires_on", "legal_hold"}`` as text."""
    if isinstance(item, dict):
        text = str(item.get("call_date") or item.get("day"))
        if item.get("expires_on"):
            text += f" (expires {item['expires_on']}{', legal hold' if item.get('legal_hold') else ''})"
        return text
    return str(item)


_env.filters["expiring"] = _format_expiring
_env.filters["gap"] = _format_gap


def _view_json(view: AccountView) -> dict[str, Any]:
    return dataclasses.asdict(view)


# -- routes ----------------------------------------------------------------------------------------------
def install_routes(app: FastAPI) -> None:
    """Add the page's routes to ``app``; each requires read access to both report DAGs."""
    auth = [
        Depends(requires_access_dag("GET", param_dag_id=settings.SUMMARY_DAG_ID)),
        Depends(requires_access_dag("GET", param_dag_id=settings.RETENTION_DAG_ID)),
    ]
    _install_page(app, auth)
    _install_downloads(app, auth)
    _install_api(app, auth)
    _install_static(app, auth)


def _page_context(request: Request, call_id: str | None) -> dict[str, Any]:
    page_base, ui_base = _bases(request)
    return {
        "base": page_base,
        "ui_base": ui_base,
        "formats": REPORT_FORMATS,
        "dag_run_url": lambda ref: dag_run_url(ui_base, ref.dag_id, ref.run_id) if ref else None,
        "retention_flags": _retention_flags,
        "download_name": download_name,
        "call_id": call_id or "",
        "error": None,
    }


def _add_diagnosis(ctx: dict[str, Any], user: Any, call_id: str) -> tuple[int, dict[str, str]]:
    """The diagnose box's answer (or its error) in ``ctx``; the page's status and headers for it."""
    try:
        ctx["diagnosis"] = DIAGNOSES.run(_user_key(user), call_id, settings.DEFAULT_VOBIZ_CONN_ID)
    except DiagnosisError as err:
        ctx["diagnosis_error"] = str(err)
        if isinstance(err, TooManyDiagnoses):
            return diagnosis_status(err)
    return 200, {}


def _add_reports(ctx: dict[str, Any], account: str | None, month: str | None) -> int | None:
    """The accounts and the selected account's reports in ``ctx``; a status when something is wrong."""
    status = None
    try:
        cat = catalog()
        ctx["lake_uri"] = cat.layout.uri
        accounts = cat.accounts()
        ctx["accounts"] = accounts
        ctx["overview"] = [(a, _latest_retention(cat, a)) for a in accounts]
        selected = account if account in accounts else (accounts[0] if accounts else None)
        if account and account not in accounts:
            status = 404
            ctx["error"] = f"No reports for account {account!r}."
        ctx["selected"] = selected
        ctx["view"] = cat.account_view(selected, month) if selected else None
    except InvalidReportRequest as err:
        status, ctx["error"] = 400, str(err)
    except HTTPException:
        raise
    except Exception as err:  # S3 unreachable, bucket missing, denied: say so on the page
        log.exception("compliance page could not read the lake")
        status = 502
        ctx["error"] = f"The report lake could not be read: {_storage_error(err)}."
    return status


def _install_page(app: FastAPI, auth: list[Any]) -> None:
    """The page itself: the accounts' reports, and the diagnose box."""

    @app.get("/", response_class=HTMLResponse, dependencies=auth)
    def index(
        request: Request,
        user: GetUserDep,
        account: str | None = Query(None, max_length=64),
        month: str | None = Query(None, max_length=7),
        call_id: str | None = Query(None, max_length=64),
    ) -> HTMLResponse:
        ctx = _page_context(request, call_id)
        status, headers = _add_diagnosis(ctx, user, call_id) if call_id else (200, {})
        status = _add_reports(ctx, account, month) or status
        return _page(_env.get_template("index.html").render(**ctx), status, headers)


def _install_downloads(app: FastAPI, auth: list[Any]) -> None:
    """Report files, streamed from S3."""

    @app.get("/reports/{kind}/{account_id}/{period}/{fmt}", dependencies=auth)
    def download(kind: str, account_id: str, period: str, fmt: str, inline: bool = False) -> Response:
        """A report file, streamed from S3; ``inline=true`` shows HTML and PDF in the browser."""
        cat = catalog()
        try:
            size, chunks = cat.open_report(kind, account_id, period, fmt)
        except InvalidReportRequest as err:
            raise HTTPException(400, str(err)) from None
        except ReportNotFound as err:
            raise HTTPException(404, str(err)) from None
        except Exception as err:
            log.exception("report download could not read the lake")
            raise HTTPException(502, f"The report lake could not be read: {_storage_error(err)}.") from None
        name = download_name(kind, account_id, period, fmt)
        disposition = "inline" if inline and fmt in ("html", "pdf") else "attachment"
        headers = {
            **COMMON_HEADERS,
            "Content-Disposition": f'{disposition}; filename="{name}"',
            "Content-Length": str(size),
        }
        if fmt == "html":
            headers["Content-Security-Policy"] = REPORT_CSP
        return StreamingResponse(chunks, media_type=MEDIA_TYPES[fmt], headers=headers)


def _install_api(app: FastAPI, auth: list[Any]) -> None:
    """JSON for scripts: the accounts, one account's reports, one call's diagnosis."""

    @app.get("/api/accounts", dependencies=auth)
    def api_accounts() -> JSONResponse:
        """Every account with reports and its latest retention status (for scripts)."""
        cat = catalog()
        out = []
        for a in cat.accounts():
            r = _latest_retention(cat, a)
            out.append({"account_id": a, "retention": dataclasses.asdict(r) if r else None})
        return JSONResponse({"lake_uri": cat.layout.uri, "accounts": out}, headers=COMMON_HEADERS)

    @app.get("/api/accounts/{account_id}", dependencies=auth)
    def api_account(account_id: str, month: str | None = Query(None, max_length=7)) -> JSONResponse:
        cat = catalog()
        try:
            check_account(account_id)
            if account_id not in cat.accounts():
                raise HTTPException(404, f"no reports for account {account_id}")
            view = cat.account_view(account_id, month)
        except InvalidReportRequest as err:
            raise HTTPException(400, str(err)) from None
        return JSONResponse(_view_json(view), headers=COMMON_HEADERS)

    @app.get("/api/diagnose/{call_id}", dependencies=auth)
    def api_diagnose(call_id: str, user: GetUserDep) -> JSONResponse:
        try:
            result = DIAGNOSES.run(_user_key(user), call_id, settings.DEFAULT_VOBIZ_CONN_ID)
        except DiagnosisError as err:
            status, headers = diagnosis_status(err)
            raise HTTPException(status, str(err), headers=headers or None) from None
        return JSONResponse(result, headers=COMMON_HEADERS)


def _install_static(app: FastAPI, auth: list[Any]) -> None:
    """The page's own icons, styles and script."""

    @app.get("/static/{name}", dependencies=auth)
    def static(name: str) -> Response:
        if name not in STATIC_FILES:
            raise HTTPException(404, "not found")
        return Response(
            (HERE / "static" / name).read_bytes(),
            media_type=STATIC_FILES[name],
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"},
        )


def _latest_retention(cat: ReportCatalog, account_id: str) -> RetentionStatus | None:
    dates = cat.retention_dates(account_id)
    return cat.retention_status(account_id, dates[0]) if dates else None
