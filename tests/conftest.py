"""Shared test configuration: Hypothesis profiles for local and CI-sized runs.

CI (``CI`` set) derandomizes Hypothesis so a submission's result is
reproducible; local runs keep exploring new examples.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "deltabot", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("deltabot-ci", parent=settings.get_profile("deltabot"), derandomize=True)
settings.load_profile("deltabot-ci" if os.environ.get("CI") else "deltabot")
