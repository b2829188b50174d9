"""A listener that gives a new deployment the ``vobiz_api`` pool (see :mod:`airflow_provider_vobiz.pools`)."""

from __future__ import annotations

import logging

from airflow.listeners import hookimpl
from airflow.plugins_manager import AirflowPlugin

log = logging.getLogger(__name__)


class ApiPoolListener:
    """Creates the pool when a server-side Airflow job (scheduler, triggerer, dag-processor) starts."""

    @hookimpl
    def on_starting(self, component: object) -> None:
        # Task runners start too, but they have no database access (and need none); checking the class by
        # name keeps the server-side job module out of every task process.
        if type(component).__name__ != "Job" or type(component).__module__ != "airflow.jobs.job":
            return
        from airflow_provider_vobiz.pools import ensure_api_pool

        try:
            ensure_api_pool()
        except Exception:
            log.exception("Could not create the vobiz_api pool; create it with `airflow pools set`")


class VobizApiPoolPlugin(AirflowPlugin):
    """Registers :class:`ApiPoolListener`."""

    name = "vobiz_api_pool"
    listeners = [ApiPoolListener()]
