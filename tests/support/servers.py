"""Local servers on loopback: free ports, and moto's S3 server (in this process or in its own)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0, what: str = "the server") -> None:
    """Return once something listens on 127.0.0.1:``port``; raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout}s")


def wait_for_http(url: str, proc: subprocess.Popen | None = None, timeout: float = 120.0) -> None:
    """Return once ``url`` answers 200, polling every half second.

    :param proc: the server's process: :class:`ChildProcessError` as soon as it exits.
    :raises TimeoutError: no 200 within ``timeout`` seconds.
    """
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise ChildProcessError(f"{proc.args} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer 200 within {timeout:.0f} s")
        time.sleep(0.5)


@dataclass
class S3Server:
    """A running S3 endpoint and the credentials it is given (moto accepts any)."""

    endpoint_url: str
    access_key: str = "testing"

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.access_key,
            region_name="us-east-1",
        )

    def conn_json(self) -> str:
        """An Airflow ``aws`` connection (JSON form) pointing at this server."""
        return json.dumps(
            {
                "conn_type": "aws",
                "login": self.access_key,
                "password": self.access_key,
                "extra": {"endpoint_url": self.endpoint_url, "region_name": "us-east-1"},
            }
        )


@contextmanager
def moto_s3_server(own_process: bool = False, access_key: str = "testing") -> Iterator[S3Server]:
    """moto's S3 server on a free 127.0.0.1 port, stopped on exit.

    :param own_process: run ``moto_server`` as a child process (a benchmark: in-process it would share the
        GIL with what is measured) instead of moto's threaded server in this process.
    :param access_key: the key id and secret :meth:`S3Server.client` and :meth:`S3Server.conn_json` use.
    """
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    if own_process:
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port(port, what="moto_server")
            yield S3Server(endpoint, access_key)
        finally:
            server.terminate()
            server.wait(timeout=30)
        return
    from moto.server import ThreadedMotoServer

    threaded = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    threaded.start()
    try:
        yield S3Server(endpoint, access_key)
    finally:
        threaded.stop()
