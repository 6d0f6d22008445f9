"""The compute runners: serial, a local Dask cluster, a scheduler's address."""

from __future__ import annotations

import re

import pytest

from bot.compute import (
    Done,
    Failed,
    SchedulerError,
    SerialRunner,
    open_runner,
    parse_scheduler,
    run_all,
)


def scaled(factor: int, item: int) -> int:
    """The work of one item: ``factor * item``, and item 3 raises."""
    if item == 3:
        raise ValueError(f"item {item} is bad")
    return factor * item


def worker_settings(shared: None, item: int) -> tuple[object, ...]:
    """What a worker runs with: its OMP_NUM_THREADS, whether Dask's profiler is on, how often
    its event loop ticks, and whether a client of its cluster gathers from workers directly."""
    import os

    import dask

    return (
        os.environ.get("OMP_NUM_THREADS"),
        dask.config.get("distributed.worker.profile.enabled"),
        dask.config.get("distributed.admin.tick.interval"),
        dask.config.get("distributed.client.direct-to-workers"),
    )


def outcomes(scheduler: str) -> list[Done[int] | Failed]:
    with open_runner(scheduler, workers=2) as runner:
        return sorted(runner.run(scaled, range(6), shared=10), key=lambda o: o.index)


class TestParseScheduler:
    @pytest.mark.parametrize("text", ["serial", "local", "tcp://127.0.0.1:8786", "tcp://h:1"])
    def test_accepts_the_three_forms(self, text: str) -> None:
        """serial, local and tcp://host:port are schedulers, returned as given."""
        assert parse_scheduler(text) == text

    @pytest.mark.parametrize("text", ["", "dask", "tcp://host", "tcp://:8786", "tcp://h:0", "h:1"])
    def test_refuses_anything_else_naming_the_forms(self, text: str) -> None:
        """Anything else is a SchedulerError that quotes the text and the forms accepted."""
        with pytest.raises(
            SchedulerError, match=re.escape("expected serial | local | tcp://HOST:PORT")
        ):
            parse_scheduler(text)


class TestRunAll:
    def test_values_come_back_in_the_items_order(self) -> None:
        """Every item's value, in order, with progress told after each item."""
        told: list[tuple[int, int]] = []
        got = run_all(SerialRunner(), scaled, [2, 1, 0], shared=10, describe=str,
                      progress=lambda done, total: told.append((done, total)))  # fmt: skip
        assert got == [20, 10, 0] and told == [(1, 3), (2, 3), (3, 3)]

    def test_every_failure_is_named_in_one_error(self) -> None:
        """Items that raise are all named (by ``describe``) in one ValueError."""
        with pytest.raises(ValueError, match=r"2 of 4 cells failed: item 1: ValueError: item 3 is "
                           r"bad; item 3: ValueError: item 3 is bad"):  # fmt: skip
            run_all(SerialRunner(), scaled, [0, 3, 1, 3], shared=1,
                    describe=lambda i: f"item {i}", noun="cells")  # fmt: skip


class TestRunners:
    @pytest.mark.parametrize("scheduler", ["serial", "local"])
    def test_a_failed_item_is_reported_and_the_rest_complete(self, scheduler: str) -> None:
        """Item 3 comes back Failed with its error's type and text; every other item Done."""
        got = outcomes(scheduler)
        assert got[3] == Failed(3, "ValueError", "item 3 is bad")
        assert [o for o in got if isinstance(o, Done)] == [Done(i, 10 * i) for i in (0, 1, 2, 4, 5)]

    def test_the_local_runner_reports_its_workers(self) -> None:
        """A local runner spreads over the workers asked for; a serial one has one."""
        with open_runner("local", workers=2) as local, open_runner("serial") as serial:
            assert (local.workers, serial.workers) == (2, 1)

    def test_local_workers_run_one_blas_thread_no_profiler_and_slow_ticks(self) -> None:
        """Each local worker has OMP_NUM_THREADS=1, Dask's statistical profiler off, its event
        loop's tick at a second, and the cluster's clients fetch results from the workers."""
        with open_runner("local", workers=2) as runner:
            got = {o.value for o in runner.run(worker_settings, range(4), shared=None)}
        assert got == {("1", False, "1s", True)}

    def test_an_address_nobody_answers_is_one_clear_error(self) -> None:
        """A tcp:// address with no scheduler behind it is a SchedulerError naming it."""
        from tests.dask_cluster import free_port

        address = f"tcp://127.0.0.1:{free_port()}"
        refused = pytest.raises(
            SchedulerError, match=f"cannot reach the Dask scheduler at {address}"
        )
        with refused, open_runner(address):
            pass

    def test_a_loopback_cluster_runs_the_items(self) -> None:
        """A scheduler and two workers in processes of their own give the serial outcomes."""
        from tests.dask_cluster import loopback_cluster

        with loopback_cluster() as cluster:
            assert outcomes(cluster.address) == outcomes("serial")
