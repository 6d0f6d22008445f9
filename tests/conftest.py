"""Shared test configuration: Hypothesis profiles for local and CI-sized runs, and the soak
switch.

CI (``CI`` set) derandomizes Hypothesis so a submission's result is
reproducible; local runs keep exploring new examples. Tests marked ``soak`` run
only with ``--soak`` (``make soak``).
"""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "deltabot", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("deltabot-ci", parent=settings.get_profile("deltabot"), derandomize=True)
settings.load_profile("deltabot-ci" if os.environ.get("CI") else "deltabot")


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--soak`` runs the @pytest.mark.soak tests (``make soak``); the suite leaves them out."""
    group = parser.getgroup("soak", "long randomized reliability runs")
    group.addoption("--soak", action="store_true", help="run the soak tests (make soak)")
    group.addoption(
        "--soak-iterations", type=int, default=200, help="iterations of a soak test (200)"
    )
    group.addoption(
        "--soak-seed", type=int, default=None, help="first seed of a soak test (default: random)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without ``--soak``, deselect the soak tests: ``make test`` never runs them."""
    if config.getoption("--soak"):
        return
    soak = [item for item in items if item.get_closest_marker("soak") is not None]
    if soak:
        config.hook.pytest_deselected(items=soak)
        items[:] = [item for item in items if item.get_closest_marker("soak") is None]
