"""Shared test configuration: Hypothesis profile for CI-sized runs."""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "deltabot", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("deltabot")
