"""``[core] hostname_callable`` for several Celery workers on one machine.

Airflow records the worker of each task in ``task_instance.hostname``; two workers on one host would both
report its FQDN. Give each worker ``VOBIZ_WORKER_NAME`` and set
``AIRFLOW__CORE__HOSTNAME_CALLABLE=airflow_provider_vobiz.hostname.worker_hostname``. Without the variable
(one worker per container or machine) the FQDN is used, as Airflow does by default.
"""

from __future__ import annotations

import os
import socket

WORKER_NAME_ENV = "VOBIZ_WORKER_NAME"


def worker_hostname() -> str:
    """``$VOBIZ_WORKER_NAME`` if set, else the machine's fully qualified domain name."""
    return os.environ.get(WORKER_NAME_ENV) or socket.getfqdn()
