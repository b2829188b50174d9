"""A test that needs a browser, a JVM or database servers: skipped with its reason here, a failure in CI."""

from __future__ import annotations

import pytest

from tests.fixtures.system import require


def test_present_dependency_lets_the_test_run():
    require(True, "unused")


def test_missing_dependency_skips_outside_ci(monkeypatch):
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="Java is not installed"):
        require(False, "Java is not installed")


@pytest.mark.parametrize("value", ["true", "TRUE"])
def test_missing_dependency_fails_in_ci(monkeypatch, value):
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception, match="CI=true requires this test to run: Redis"):
        require(False, "Redis on 127.0.0.1:6379 does not answer")
