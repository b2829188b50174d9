"""The "Compliance reports" entry of the Airflow UI.

Registered through the ``airflow.plugins`` entry point only (listing it in provider info as well makes
Airflow load it twice). The api-server mounts :data:`app` under :data:`URL_PREFIX`; the UI shows it in the
navigation as an embedded view.

Every Airflow process loads plugins (each task does, for macros), so this module stays light: the routes,
and with them Airflow's API-server security machinery, are built on the app's first request.
"""

from __future__ import annotations

import threading
from typing import Any

from airflow.plugins_manager import AirflowPlugin
from fastapi import FastAPI

URL_PREFIX = "/compliance-reports"
NAV_NAME = "Compliance reports"
#: The UI route of the embedded view: ``{ui}/plugin/compliance-reports``.
URL_ROUTE = "compliance-reports"


def page_url(base_url: str, embedded: bool = True) -> str:
    """Where officers find the page: inside the Airflow UI (``embedded``) or on its own."""
    base = base_url.rstrip("/")
    return f"{base}/plugin/{URL_ROUTE}" if embedded else f"{base}{URL_PREFIX}/"


class ComplianceReportsApp(FastAPI):
    """A FastAPI app whose routes are installed on first use (see the module docstring)."""

    def __init__(self) -> None:
        # No /docs or /openapi.json: they would be served without the authentication every route has.
        super().__init__(
            title="Vobiz compliance reports",
            docs_url=None,
            redoc_url=None,
            openapi_url=None,
        )
        self._routes_ready = False
        self._routes_lock = threading.Lock()

    def ensure_routes(self) -> None:
        if self._routes_ready:
            return
        with self._routes_lock:
            if not self._routes_ready:
                from airflow_provider_vobiz.plugins.app import install_routes

                install_routes(self)
                self._routes_ready = True

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.ensure_routes()
        await super().__call__(scope, receive, send)


app = ComplianceReportsApp()


class VobizCompliancePlugin(AirflowPlugin):
    """Compliance reports (TRAI summary and retention) from the lake, for compliance officers."""

    name = "vobiz_compliance_reports"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": NAV_NAME}]
    external_views = [
        {
            "name": NAV_NAME,
            "href": URL_PREFIX + "/",
            "destination": "nav",
            "url_route": URL_ROUTE,
            "nav_top_level": True,
            "icon": URL_PREFIX + "/static/icon.svg",
            "icon_dark_mode": URL_PREFIX + "/static/icon-dark.svg",
        }
    ]
