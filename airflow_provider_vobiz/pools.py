"""The ``vobiz_api`` pool: at most that many Vobiz exports run at once, however many workers a backfill has.

Every ``extract`` task takes one slot. The pool's size is the setting ``[vobiz] api_pool_slots``
(``AIRFLOW__VOBIZ__API_POOL_SLOTS``, default 4): when the pool does not exist, the scheduler (or any other
Airflow job that starts) creates it with that many slots and says so in its log, because Airflow never
schedules a task whose pool does not exist. An existing pool is left as the operator sized it
(``airflow pools set vobiz_api N "Vobiz CDR API"``).
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

API_POOL = "vobiz_api"
DEFAULT_API_POOL_SLOTS = 4
POOL_DESCRIPTION = "Vobiz CDR API: concurrent exports (vobiz_cdr_ingest extract tasks)"


def api_pool_slots() -> int:
    """``[vobiz] api_pool_slots`` from Airflow's configuration (environment or airflow.cfg)."""
    from airflow.configuration import conf

    slots = conf.getint("vobiz", "api_pool_slots", fallback=DEFAULT_API_POOL_SLOTS)
    if slots < 1:
        raise ValueError(f"[vobiz] api_pool_slots must be at least 1, got {slots}")
    return slots


def ensure_api_pool() -> bool:
    """Create the pool with :func:`api_pool_slots` slots unless it exists; True when it was created.

    Needs the metadata database, so only server-side components (scheduler, triggerer, dag-processor) call it.
    """
    from airflow.models.pool import Pool
    from airflow.utils.session import create_session
    from sqlalchemy.exc import IntegrityError

    if Pool.get_pool(API_POOL) is not None:
        return False
    slots = api_pool_slots()
    try:
        with create_session() as session:
            session.add(
                Pool(pool=API_POOL, slots=slots, description=POOL_DESCRIPTION, include_deferred=False)
            )
    except IntegrityError:  # another component created it first
        return False
    log.warning(
        "Pool %s did not exist: created it with %d slots ([vobiz] api_pool_slots), so at most %d Vobiz "
        "exports run at once; resize it with `airflow pools set %s N %r`",
        API_POOL, slots, slots, API_POOL, POOL_DESCRIPTION,
    )  # fmt: skip
    return True
