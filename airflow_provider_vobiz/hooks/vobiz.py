"""VobizHook: the client of the Vobiz CDR API."""

from __future__ import annotations

from airflow.sdk import BaseHook


class VobizHook(BaseHook):
    """Interact with the Vobiz CDR API.

    :param vobiz_conn_id: the Airflow connection of type ``vobiz`` (host = base URL, login = Auth ID,
        password = Auth Token).
    """

    conn_name_attr = "vobiz_conn_id"
    default_conn_name = "vobiz_default"
    conn_type = "vobiz"
    hook_name = "Vobiz"

    def __init__(self, vobiz_conn_id: str = default_conn_name, **kwargs) -> None:
        super().__init__(**kwargs)
        self.vobiz_conn_id = vobiz_conn_id
