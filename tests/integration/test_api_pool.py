"""The vobiz_api pool: created with [vobiz] api_pool_slots when absent, never resized once it exists."""

from __future__ import annotations

import pytest

from airflow_provider_vobiz.plugins.pool import ApiPoolListener
from airflow_provider_vobiz.pools import API_POOL, api_pool_slots, ensure_api_pool


@pytest.fixture
def no_pool(airflow_db):
    from airflow.models.pool import Pool
    from airflow.utils.session import create_session

    def delete():
        with create_session() as session:
            session.query(Pool).filter(Pool.pool == API_POOL).delete()

    delete()
    yield Pool
    delete()


def test_created_with_the_configured_slots_then_left_alone(no_pool, monkeypatch, caplog):
    monkeypatch.setenv("AIRFLOW__VOBIZ__API_POOL_SLOTS", "3")
    with caplog.at_level("WARNING", logger="airflow_provider_vobiz.pools"):
        assert ensure_api_pool() is True
    assert no_pool.get_pool(API_POOL).slots == 3
    assert f"Pool {API_POOL} did not exist: created it with 3 slots" in caplog.text

    # An operator resized it: a restart (or another component) must not undo that.
    monkeypatch.setenv("AIRFLOW__VOBIZ__API_POOL_SLOTS", "8")
    no_pool.create_or_update_pool(API_POOL, slots=5, description="resized", include_deferred=False)
    assert ensure_api_pool() is False
    assert no_pool.get_pool(API_POOL).slots == 5


def test_the_listener_acts_for_airflow_jobs_only(no_pool):
    from airflow.jobs.job import Job

    ApiPoolListener().on_starting(component=object())  # a task runner: no database access there
    assert no_pool.get_pool(API_POOL) is None
    ApiPoolListener().on_starting(component=Job.__new__(Job))  # not Job(): it would call the listeners itself
    assert no_pool.get_pool(API_POOL).slots == api_pool_slots()


def test_a_pool_size_below_one_is_refused(monkeypatch):
    monkeypatch.setenv("AIRFLOW__VOBIZ__API_POOL_SLOTS", "0")
    with pytest.raises(ValueError, match=r"\[vobiz\] api_pool_slots must be at least 1, got 0"):
        api_pool_slots()
