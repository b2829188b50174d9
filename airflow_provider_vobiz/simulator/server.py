"""Run the simulator in a background thread (tests, the demo, benchmarks)."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import datetime
from typing import Any

import uvicorn

from .app import Fault, SimState, create_app
from .config import SimulatorConfig


class SimulatorServer:
    """uvicorn serving the simulator on a loopback port, with the controls tests need.

    >>> srv = SimulatorServer(SimulatorConfig(days=2, calls_per_day=100)).start()
    >>> srv.base_url  # doctest: +SKIP
    'http://127.0.0.1:54321'
    >>> srv.stop()
    """

    def __init__(self, config: SimulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config or SimulatorConfig()
        self.state = SimState(self.config)
        self.app = create_app(state=self.state)
        self.host, self.port = host, port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------------------
    def start(self, timeout: float = 30.0) -> SimulatorServer:
        if self._thread is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        cfg = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off",
                             timeout_keep_alive=30, timeout_graceful_shutdown=2)  # fmt: skip
        self._server = uvicorn.Server(cfg)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name=f"vobiz-sim-{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the Vobiz simulator did not start on {self.host}:{self.port}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what clients need --------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """The list endpoint: ``{base_url}/api/v1/Account/{auth_id}/cdr``."""
        return f"{self.base_url}/api/v1/Account/{self.config.auth_id}/cdr"

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Auth-ID": self.config.auth_id, "X-Auth-Token": self.config.auth_token}

    def conn_json(self) -> str:
        """An Airflow connection (JSON form) of type ``vobiz`` pointing at this server."""
        return json.dumps(
            {
                "conn_type": "vobiz",
                "host": self.base_url,
                "login": self.config.auth_id,
                "password": self.config.auth_token,
            }  # fmt: skip
        )

    # -- controls -----------------------------------------------------------------------------------------
    def add_fault(self, kind: str = "status", **kw: Any) -> Fault:
        """Inject a fault; see :class:`~airflow_provider_vobiz.simulator.app.Fault` for the arguments."""
        return self.state.add_fault(kind=kind, **kw)

    def clear_faults(self) -> None:
        self.state.clear_faults()

    def set_now(self, now: datetime | None) -> None:
        """Move the simulated clock (a UTC-aware datetime); ``None`` resets it to the config's."""
        self.state.set_now(now)

    @property
    def now(self) -> datetime:
        return self.state.now

    @property
    def requests(self) -> list[tuple[str, dict[str, str], int]]:
        """The request log: ``(endpoint, query, status)`` per API request, oldest first."""
        return list(self.state.log)

    def clear_requests(self) -> None:
        self.state.log.clear()

    def records(self, start: datetime | None = None, end: datetime | None = None) -> list[dict]:
        """Ground truth: the visible records with ``start_time`` in ``[start, end)``, as served, oldest first."""
        return self.state.records(start, end)
