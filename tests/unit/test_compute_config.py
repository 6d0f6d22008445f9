"""[compute] config and the heavy commands' --scheduler/--workers over it."""

from __future__ import annotations

import argparse

import pytest
from pydantic import ValidationError

from bot.commands.common import compute_of
from bot.config.compute import ComputeConfig


def cli(scheduler: str | None = None, workers: int | None = None) -> argparse.Namespace:
    return argparse.Namespace(scheduler=scheduler, workers=workers)


class TestComputeConfig:
    def test_defaults_to_a_local_cluster_of_one_worker_per_core(self) -> None:
        """Default scheduler local, workers 0 (one per core)."""
        assert (ComputeConfig().scheduler, ComputeConfig().workers) == ("local", 0)

    def test_a_remote_address_loads(self) -> None:
        """A tcp://host:port scheduler is kept as written."""
        assert ComputeConfig(scheduler="tcp://10.0.0.5:8786").scheduler == "tcp://10.0.0.5:8786"

    @pytest.mark.parametrize("scheduler", ["dask", "tcp://nohost", "processes"])
    def test_a_mistyped_scheduler_is_refused_naming_the_forms(self, scheduler: str) -> None:
        """Anything but serial, local or tcp://HOST:PORT fails at load, quoting the forms."""
        with pytest.raises(ValidationError, match="tcp://HOST:PORT"):
            ComputeConfig(scheduler=scheduler)

    def test_negative_workers_are_refused(self) -> None:
        """workers below 0 is reported at its key."""
        with pytest.raises(ValidationError, match="workers"):
            ComputeConfig(workers=-1)


class TestComputeOf:
    def test_the_command_line_overrides_the_config(self) -> None:
        """--scheduler and --workers win over [compute]."""
        config = ComputeConfig(scheduler="serial", workers=3)
        assert compute_of(cli("local", 2), config) == ("local", 2)

    def test_the_config_applies_when_the_command_line_is_silent(self) -> None:
        """Without the options, [compute] decides; workers 0 means one per core (None)."""
        assert compute_of(cli(), ComputeConfig(scheduler="serial", workers=3)) == ("serial", 3)
        assert compute_of(cli(), ComputeConfig()) == ("local", None)

    @pytest.mark.parametrize(("scheduler", "workers"), [("cluster", None), ("local", 0)])
    def test_bad_options_are_one_value_error(self, scheduler: str, workers: int | None) -> None:
        """A mistyped --scheduler or --workers below 1 is a ValueError naming the problem."""
        with pytest.raises(ValueError, match=r"scheduler|workers"):
            compute_of(cli(scheduler, workers), ComputeConfig())
