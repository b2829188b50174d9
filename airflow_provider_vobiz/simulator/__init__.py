"""The Vobiz API simulator: a faithful local implementation of the CDR API.

Start it with ``python -m airflow_provider_vobiz.simulator --help``, or in-process::

    from airflow_provider_vobiz.simulator import SimulatorConfig, SimulatorServer
    srv = SimulatorServer(SimulatorConfig(days=5, calls_per_day=300)).start()
    ...
    srv.stop()

It imports nothing from the client side (``hooks``, ``cdr``, ``lake``) and nothing from Airflow.
"""

from __future__ import annotations

from .app import Fault, SimState, create_app
from .config import SimulatorConfig
from .server import SimulatorServer

__all__ = ["Fault", "SimState", "SimulatorConfig", "SimulatorServer", "create_app"]
